#define _GNU_SOURCE
#include "multirun.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sandbox/protocol.h"
#include "compare.h"
#include "jobfiles.h"
#include "results.h"

enum multi_kind { MULTI_CASES, MULTI_REPEAT, MULTI_COMMANDS };

/* What is kept of one run until its job's record is written. */
struct run_result {
    bool ran;
    bool passed; /* cases: the output matched */
    rb_status status;
    int return_code;
    bool timed_out;
    double runtime, cpu_time;
    long max_rss_kb;
    char *out, *err;
    size_t out_len, err_len;
    bool out_truncated, err_truncated;
    char *error, *error_detail, *doc;
    int signal;
    bool had_unexpected_error;
    rb_tracked_file *tracked; /* repeats and cases: this run's tracked files */
    size_t ntracked;
};

struct run_ref {
    enum rb_run_owner owner; /* RB_RUN_MULTI */
    struct multi_job *job;
    size_t index;
};

struct multi_job {
    struct multi_job *next;
    enum multi_kind kind;
    struct rb_manifest_job m; /* owns the program and its runs' inputs */
    size_t nruns;
    size_t next_run;
    size_t in_flight;
    bool sequential;
    bool stopped;             /* early_stop saw a failure */
    char *workdir;            /* commands: the dir all of them share */
    struct run_result *results;
    struct run_ref *refs;
    void *job_ctx;
};

void rb_multirun_init(struct rb_multirun_set *set, const char *workdir_parent,
                      rb_multirun_record_fn write, void *ctx)
{
    memset(set, 0, sizeof *set);
    set->write = write;
    set->ctx = ctx;
    set->workdir_parent = workdir_parent;
    set->root.fd = -1;
    set->uid_base = (uid_t)-1;
    set->root.janitor_fd = -1;
}

bool rb_multirun_wants(const struct rb_manifest_job *m)
{
    return m->ncases > 0 || m->num_times > 0 || m->ncommands > 0;
}

static char *copy_bytes(const char *s, size_t len)
{
    char *p = malloc(len + 1);
    if (p) {
        memcpy(p, s ? s : "", len);
        p[len] = '\0';
    }
    return p;
}

static void job_free(struct rb_multirun_set *set, struct multi_job *mj)
{
    for (size_t i = 0; i < mj->nruns; i++) {
        struct run_result *c = &mj->results[i];
        free(c->out);
        free(c->err);
        free(c->error);
        free(c->error_detail);
        free(c->doc);
        rb_tracked_files_free(c->tracked, c->ntracked);
    }
    if (mj->workdir) {
        rb_workdir_discard(&set->root, mj->workdir);
        free(mj->workdir);
    }
    free(mj->results);
    free(mj->refs);
    rb_manifest_job_free(&mj->m);
    free(mj);
}

/* ---- records --------------------------------------------------------------- */

static rb_result as_result(const struct multi_job *mj, const struct run_result *c)
{
    rb_result r = {
        .id = mj->m.job.id,
        .status = c->status,
        .return_code = c->return_code,
        .timed_out = c->timed_out,
        .runtime = c->runtime,
        .cpu_time = c->cpu_time,
        .max_rss_kb = c->max_rss_kb,
        .stdout_data = c->out, .stdout_len = c->out_len, .stdout_truncated = c->out_truncated,
        .stderr_data = c->err, .stderr_len = c->err_len, .stderr_truncated = c->err_truncated,
        .error = c->error,
        .error_detail = c->error_detail,
        .doc = c->doc,
        .signal = c->signal,
        .had_unexpected_error = c->had_unexpected_error,
    };
    return r;
}

static bool run_failed(const struct multi_job *mj, const struct run_result *c)
{
    return mj->kind == MULTI_CASES ? !c->passed : c->status != RB_STATUS_OK;
}

static const char *case_verdict(const struct run_result *c)
{
    if (!c->ran)
        return "not_run";
    if (c->passed)
        return "passed";
    return c->status == RB_STATUS_OK ? "wrong_output" : rb_status_name(c->status);
}

/* One run's fields for the record's list, without what the top level holds. */
static cJSON *run_entry(const struct multi_job *mj, const struct run_result *c)
{
    cJSON *one = cJSON_CreateObject();
    if (!one)
        return NULL;
    if (mj->kind == MULTI_CASES) {
        cJSON_AddBoolToObject(one, "passed", c->passed);
        cJSON_AddStringToObject(one, "verdict", case_verdict(c));
    }
    if (!c->ran) {
        if (mj->kind != MULTI_CASES)
            cJSON_AddStringToObject(one, "status", "not_run");
        return one;
    }
    rb_result r = as_result(mj, c);
    cJSON *fields = rb_result_to_json(&r);
    for (cJSON *f = fields ? fields->child : NULL; f;) {
        cJSON *next = f->next;
        bool skip = strcmp(f->string, "id") == 0 || strcmp(f->string, "doc") == 0 ||
                    (mj->kind == MULTI_CASES && strcmp(f->string, "error_detail") == 0);
        if (!skip) {
            cJSON_DetachItemViaPointer(fields, f);
            cJSON_AddItemToObject(one, f->string, f);
        }
        f = next;
    }
    cJSON_Delete(fields);
    return one;
}

/* Tracked files of a commands job, read from its shared dir. */
static void add_tracked(const struct multi_job *mj, cJSON *rec)
{
    size_t n = mj->m.job.ntracked;
    if (!n || !mj->workdir)
        return;
    size_t limit = (size_t)(mj->m.job.limits.output_limit_kb ? mj->m.job.limits.output_limit_kb
                                                               : RB_DEFAULT_OUTPUT_LIMIT_KB) * 1024;
    rb_tracked_file *t = rb_tracked_files_read(mj->workdir, mj->m.job.tracked_files, n, limit);
    if (t)
        rb_json_add_tracked(rec, t, n);
    rb_tracked_files_free(t, n);
}

/* The record: the top-level fields are those of the run that decided the
 * job (the first that failed, else the last that ran), with runtime and CPU
 * time summed and memory the largest over the runs; then the list of runs. */
static void write_record(struct rb_multirun_set *set, struct multi_job *mj)
{
    size_t deciding = 0, passed = 0, ran = 0;
    bool found = false;
    double runtime = 0, cpu = 0;
    long rss = 0;
    cJSON *runtimes = cJSON_CreateArray();
    for (size_t i = 0; i < mj->nruns; i++) {
        const struct run_result *c = &mj->results[i];
        if (!c->ran)
            continue;
        ran++;
        passed += c->passed;
        runtime += c->runtime;
        cpu += c->cpu_time;
        rss = c->max_rss_kb > rss ? c->max_rss_kb : rss;
        cJSON_AddItemToArray(runtimes, cJSON_CreateNumber(round(c->runtime * 1e6) / 1e6));
        if (!found)
            deciding = i;
        if (run_failed(mj, c))
            found = true;
    }
    rb_result top = as_result(mj, &mj->results[deciding]);
    top.runtime = runtime;
    top.cpu_time = cpu;
    top.max_rss_kb = rss;
    cJSON *rec = rb_result_to_json(&top);
    if (!rec) {
        cJSON_Delete(runtimes);
        return;
    }
    const char *list_name = mj->kind == MULTI_CASES ? "cases" : mj->kind == MULTI_REPEAT ? "runs" : "commands";
    if (mj->kind == MULTI_CASES) {
        cJSON_AddBoolToObject(rec, "passed", passed == mj->nruns);
        cJSON_AddNumberToObject(rec, "cases_passed", (double)passed);
    }
    if (mj->kind == MULTI_REPEAT) {
        cJSON_AddItemToObject(rec, "runtimes", runtimes);
        runtimes = NULL;
        cJSON_AddNumberToObject(rec, "mean_runtime", ran ? round(runtime / (double)ran * 1e6) / 1e6 : 0);
    }
    cJSON *list = cJSON_AddArrayToObject(rec, list_name);
    for (size_t i = 0; list && i < mj->nruns; i++)
        cJSON_AddItemToArray(list, run_entry(mj, &mj->results[i]));
    /* Tracked files: a command list's from the dir they share, after the
     * last; a repeated job's or a case list's from the deciding run's dir. */
    if (mj->kind == MULTI_COMMANDS)
        add_tracked(mj, rec);
    else if (mj->results[deciding].ntracked)
        rb_json_add_tracked(rec, mj->results[deciding].tracked, mj->results[deciding].ntracked);
    cJSON_Delete(runtimes);
    set->write(rec, top.status, mj->job_ctx, set->ctx);
    cJSON_Delete(rec);
}

/* ---- runs ------------------------------------------------------------------ */

void rb_multirun_on_result(struct rb_multirun_set *set, const rb_result *r)
{
    (void)set;
    struct run_ref *ref = r->user;
    struct multi_job *mj = ref->job;
    struct run_result *c = &mj->results[ref->index];
    c->ran = true;
    c->status = r->status;
    c->return_code = r->return_code;
    c->timed_out = r->timed_out;
    c->runtime = r->runtime;
    c->cpu_time = r->cpu_time;
    c->max_rss_kb = r->max_rss_kb;
    c->out = copy_bytes(r->stdout_data, r->stdout_len);
    c->out_len = c->out ? r->stdout_len : 0;
    c->out_truncated = r->stdout_truncated;
    c->err = copy_bytes(r->stderr_data, r->stderr_len);
    c->err_len = c->err ? r->stderr_len : 0;
    c->err_truncated = r->stderr_truncated;
    c->error = r->error ? strdup(r->error) : NULL;
    c->error_detail = r->error_detail ? strdup(r->error_detail) : NULL;
    c->doc = r->doc ? strdup(r->doc) : NULL;
    c->signal = r->signal;
    c->had_unexpected_error = r->had_unexpected_error;
    if (r->ntracked && (c->tracked = calloc(r->ntracked, sizeof *c->tracked))) {
        c->ntracked = r->ntracked;
        for (size_t k = 0; k < r->ntracked; k++) {
            const rb_tracked_file *t = &r->tracked[k];
            /* The path points into the job, which outlives the record. */
            c->tracked[k] = (rb_tracked_file){ .path = mj->m.job.tracked_files[k], .len = t->len,
                                               .truncated = t->truncated };
            if (t->data && !(c->tracked[k].data = copy_bytes(t->data, t->len)))
                c->tracked[k].len = 0;
        }
    }
    if (mj->kind == MULTI_CASES) {
        const struct rb_manifest_case *want = &mj->m.cases[ref->index];
        c->passed = r->status == RB_STATUS_OK && !r->stdout_truncated &&
                    rb_output_matches(&mj->m.compare, r->stdout_data, r->stdout_len, want->expected,
                                      want->expected_len);
    }
    mj->in_flight--;
    if (mj->m.early_stop && run_failed(mj, c))
        mj->stopped = true;
}

/* The job as run `i` submits it. */
static rb_job run_job(struct multi_job *mj, size_t i)
{
    rb_job job = mj->m.job;
    job.user = &mj->refs[i];
    switch (mj->kind) {
    case MULTI_CASES:
        job.stdin_data = mj->m.cases[i].stdin_data;
        job.stdin_len = mj->m.cases[i].stdin_len;
        break;
    case MULTI_REPEAT:
        break;
    case MULTI_COMMANDS: {
        const struct rb_manifest_command *cmd = &mj->m.commands[i];
        job.stdin_data = cmd->stdin_data;
        job.stdin_len = cmd->stdin_len;
        if (cmd->argv) {
            job.argv = cmd->argv;
            job.argc = cmd->argc;
        }
        if (cmd->timeout > 0)
            job.limits.timeout = cmd->timeout;
        /* The shared dir holds the files, written once; tracked files are
         * read from it after the last command, here. */
        job.workdir = mj->workdir;
        job.files = NULL;
        job.nfiles = 0;
        job.tracked_files = NULL;
        job.ntracked = 0;
        break;
    }
    }
    return job;
}

static void fail_run(struct multi_job *mj, size_t i, const char *why)
{
    struct run_result *c = &mj->results[i];
    c->ran = true;
    c->status = RB_STATUS_INTERNAL;
    c->return_code = -1;
    c->error = strdup(why);
    c->had_unexpected_error = true;
    mj->stopped = mj->stopped || mj->m.early_stop;
}

void rb_multirun_schedule(struct rb_multirun_set *set, rb_pool *pool)
{
    struct multi_job **link = &set->active;
    while (*link) {
        struct multi_job *mj = *link;
        while (!mj->stopped && mj->next_run < mj->nruns && rb_pool_free_slots(pool) > 0 &&
               (!mj->sequential || mj->in_flight == 0)) {
            size_t i = mj->next_run++;
            rb_job job = run_job(mj, i);
            mj->in_flight++;
            int rc = rb_pool_submit(pool, &job);
            if (rc < 0) {
                mj->in_flight--;
                fail_run(mj, i, strerror(-rc));
            }
        }
        if (mj->in_flight == 0 && (mj->stopped || mj->next_run == mj->nruns)) {
            write_record(set, mj);
            *link = mj->next;
            job_free(set, mj);
        } else {
            link = &mj->next;
        }
    }
}

/* The commands' shared dir, with the job's files in it. */
static int make_shared_dir(struct rb_multirun_set *set, struct multi_job *mj)
{
    int rc = 0;
    if (!set->root.path) {
        const char *parent = set->workdir_parent;
        if (!parent || !*parent)
            parent = getenv("TMPDIR");
        if (!parent || !*parent)
            parent = "/tmp";
        if ((rc = rb_workdir_root_create(parent, &set->root)) < 0)
            return rc;
    }
    /* The commands run one after another in whatever slots are free; they
     * all take the uid that owns their shared dir, one of the pool's slots
     * never use. */
    static uint64_t seq;
    uid_t owner = set->uid_base != (uid_t)-1
                      ? rb_job_uid_shared(set->uid_base, seq)
                      : (uid_t)-1;
    gid_t group = (gid_t)owner;
    if ((rc = rb_workdir_create(&set->root, ++seq, owner, group, &mj->workdir)) < 0)
        return rc;
    int dirfd = open(mj->workdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dirfd < 0)
        return -errno;
    for (size_t i = 0; rc == 0 && i < mj->m.job.nfiles; i++)
        rc = rb_job_file_write(dirfd, mj->m.job.files[i].path, mj->m.job.files[i].data,
                               mj->m.job.files[i].len, owner, group);
    close(dirfd);
    return rc;
}

int rb_multirun_start(struct rb_multirun_set *set, struct rb_manifest_job *m, void *job_ctx)
{
    struct multi_job *mj = calloc(1, sizeof *mj);
    if (!mj)
        return -ENOMEM;
    mj->job_ctx = job_ctx;
    mj->kind = m->ncases ? MULTI_CASES : m->num_times ? MULTI_REPEAT : MULTI_COMMANDS;
    mj->nruns = m->ncases ? m->ncases : m->num_times ? (size_t)m->num_times : m->ncommands;
    /* Repeats time the program: one at a time, so they do not compete. */
    mj->sequential = mj->kind != MULTI_CASES || m->early_stop;
    mj->results = calloc(mj->nruns, sizeof *mj->results);
    mj->refs = calloc(mj->nruns, sizeof *mj->refs);
    mj->m = *m;
    memset(m, 0, sizeof *m);
    int rc = mj->results && mj->refs ? 0 : -ENOMEM;
    if (rc == 0 && mj->kind == MULTI_COMMANDS)
        rc = make_shared_dir(set, mj);
    if (rc < 0) {
        job_free(set, mj);
        return rc;
    }
    for (size_t i = 0; i < mj->nruns; i++)
        mj->refs[i] = (struct run_ref){ RB_RUN_MULTI, mj, i };
    struct multi_job **link = &set->active;
    while (*link)
        link = &(*link)->next;
    *link = mj;
    return 0;
}

bool rb_multirun_idle(const struct rb_multirun_set *set)
{
    return set->active == NULL;
}

size_t rb_multirun_count(const struct rb_multirun_set *set)
{
    size_t n = 0;
    for (const struct multi_job *mj = set->active; mj; mj = mj->next)
        n++;
    return n;
}

int rb_multirun_cancel(struct rb_multirun_set *set, rb_pool *pool, const void *job_ctx)
{
    int n = 0;
    for (struct multi_job **link = &set->active; *link;) {
        struct multi_job *mj = *link;
        if (mj->job_ctx != job_ctx) {
            link = &mj->next;
            continue;
        }
        for (size_t i = 0; i < mj->nruns; i++)
            rb_pool_cancel(pool, &mj->refs[i]);
        *link = mj->next;
        job_free(set, mj);
        n++;
    }
    return n;
}

void rb_multirun_free(struct rb_multirun_set *set)
{
    while (set->active) {
        struct multi_job *mj = set->active;
        set->active = mj->next;
        job_free(set, mj);
    }
    rb_workdir_root_remove(&set->root);
}
