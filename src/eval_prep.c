/*
 * Jobs before grading (evalrun.h).
 *
 * The reference: evalplus ships inputs, not outputs. Its evaluate.py
 * (get_groundtruth) runs prompt + canonical_solution on every input,
 * in-process, timing each call, and caches the outputs and times under the
 * md5 of the dataset file. runbox does the same through its own sandbox:
 * one job per task and kind of input (base, plus), each a fresh program, as
 * evalplus's trusted_exec runs each kind in a fresh namespace; calls with no
 * expected value return theirs (RB_CALL_RETURNED) with their wall time.
 * The cache is a JSON lines file under the cache dir, one line per task:
 *   {"task_id": "HumanEval/0", "base": [[<tagged value>, <seconds>], ...], "plus": [...]}
 * after a first line naming the dataset; a file that does not fit the
 * problems (another version, cut short) is computed again.
 *
 * LiveCodeBench's compressed private tests are a pickle, which is code:
 * each is decoded by a job, and only the JSON text it prints comes back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "evalrun.h"
#include "jsontext.h"
#include "results.h"

#define CACHE_VERSION 3
#define REFERENCE_CALL_LIMIT 60.0   /* seconds per reference call: evalplus has none */
#define REFERENCE_JOB_LIMIT 1800.0
#define DECODE_LIMIT 120.0
/* evalplus/eval/__init__.py: RLIMIT_AS of min(4 GiB, the machine's memory)
 * (EVALPLUS_MAX_MEMORY_BYTES); its ground truth runs without a limit. */
#define EVALPLUS_MEMORY_MB 4096

/* evalplus/eval/_special_oracle.py, MBPP_OUTPUT_NOT_NONE_TASKS: their
 * expected value is whether the reference returned something. */
static const char *const NOT_NONE_TASKS[] = { "check_str", "text_match_three", "text_starta_endb" };

/* The program evalplus's reference runs, and the name it runs under: not
 * __main__, as exec(code, {}) leaves __name__ to builtins. */
#define REFERENCE_GLOBALS "{\"__name__\": \"solution\"}"

/* LiveCodeBench's loader, code_generation.py: the field is base64 of zlib of
 * a pickle of the JSON text. Read from stdin; the JSON printed back. */
static const char DECODE_PROGRAM[] =
    "import base64, json, pickle, sys, zlib\n"
    "s = sys.stdin.read()\n"
    "tests = json.loads(pickle.loads(zlib.decompress(base64.b64decode(s.encode('utf-8')))))\n"
    "sys.stdout.write(json.dumps(tests))\n";

enum prep_kind { PREP_REFERENCE, PREP_DECODE };

struct prep_job {
    enum eval_owner owner;        /* EVAL_PREP, first */
    enum prep_kind kind;
    struct rb_problem *problem;
    int group;
    rb_call *calls;
    char *program;
    char *path;
};

/* ---- the cache ---------------------------------------------------------------- */

static char *cache_path(const struct eval_state *st)
{
    char *path;
    if (asprintf(&path, "%s/%s-reference-%s.jsonl", st->opt.cache_dir, st->fmt->name, st->problems.md5) < 0)
        return NULL;
    return path;
}

/* mkdir -p, 0700: the cache holds nothing secret, but nothing of others'. */
static int make_dirs(const char *dir)
{
    char *copy = strdup(dir);
    if (!copy)
        return -ENOMEM;
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(copy, 0700);
        *p = '/';
    }
    int rc = mkdir(copy, 0700) < 0 && errno != EEXIST ? -errno : 0;
    free(copy);
    return rc;
}

static bool not_none_task(const struct rb_problem *p)
{
    if (p->format != RB_FMT_MBPP_PLUS)
        return false;
    for (size_t i = 0; i < sizeof NOT_NONE_TASKS / sizeof NOT_NONE_TASKS[0]; i++)
        if (strcmp(p->entry_point, NOT_NONE_TASKS[i]) == 0)
            return true;
    return false;
}

/* A reference value becomes a test's expected value (a copy kept with the
 * problems); MBPP's not-None tasks expect only whether it was None. */
static int set_expected(struct eval_state *st, struct rb_problem *p, struct rb_test *t, const char *value,
                        size_t len, double seconds)
{
    char *copy;
    if (not_none_task(p))
        copy = strdup(len == 4 && memcmp(value, "null", 4) == 0 ? "false" : "true");
    else
        copy = strndup(value, len);
    if (rb_problems_keep(&st->problems, copy) < 0)
        return -ENOMEM;
    t->expected = copy;
    t->expected_len = strlen(copy);
    t->ref_time = seconds;
    return 0;
}

/* One group of a cache line: [[value, seconds], ...] for every test. */
static bool load_group(struct eval_state *st, struct rb_problem *p, int g, const char *line, size_t len,
                       const char *key)
{
    const char *list, *pair, *v, *secs;
    size_t list_len, pair_len, v_len, secs_len, i = 0;
    struct rb_json_iter it, pit;
    if (rb_json_find(line, len, key, &list, &list_len) < 0 || rb_json_array(&it, list, list_len) < 0)
        return false;
    struct rb_test_group *grp = &p->groups[g];
    while (rb_json_next(&it, NULL, NULL, &pair, &pair_len) == 1) {
        if (i >= grp->count || rb_json_array(&pit, pair, pair_len) < 0 ||
            rb_json_next(&pit, NULL, NULL, &v, &v_len) != 1 || rb_json_next(&pit, NULL, NULL, &secs, &secs_len) != 1)
            return false;
        if (set_expected(st, p, &grp->tests[i], v, v_len, strtod(secs, NULL)) < 0)
            return false;
        i++;
    }
    return i == grp->count;
}

/* Fills every problem from the cache file: true when it fits them all. */
static bool load_cache(struct eval_state *st, const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    /* Only a cache of runbox's own user, which no one else can write, is
     * believed (anyone who could write it could choose the verdicts); one an
     * earlier runbox left readable by all is closed now. */
    struct stat sb;
    if (fstat(fileno(f), &sb) < 0 || sb.st_uid != geteuid() || (sb.st_mode & 022)) {
        fclose(f);
        return false;
    }
    if (sb.st_mode & 077)
        fchmod(fileno(f), sb.st_mode & 0700);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    size_t filled = 0;
    bool ok = (n = getline(&line, &cap, f)) > 0;
    if (ok) {
        char head[256];
        snprintf(head, sizeof head, "{\"runbox_reference\":%d,\"format\":\"%s\",\"md5\":\"%s\",\"tasks\":%zu}\n",
                 CACHE_VERSION, st->fmt->name, st->problems.md5, st->problems.count);
        ok = strcmp(line, head) == 0;
    }
    while (ok && (n = getline(&line, &cap, f)) > 0) {
        cJSON *id = NULL;
        const char *v;
        size_t vl;
        if (rb_json_find(line, (size_t)n, "task_id", &v, &vl) == 0)
            id = cJSON_ParseWithLength(v, vl);
        struct rb_problem *p = cJSON_IsString(id) ? (struct rb_problem *)rb_problems_find(&st->problems, id->valuestring)
                                                  : NULL;
        cJSON_Delete(id);
        ok = p && load_group(st, p, 0, line, (size_t)n, "base") && load_group(st, p, 1, line, (size_t)n, "plus");
        filled += ok;
    }
    free(line);
    fclose(f);
    return ok && filled == st->problems.count;
}

static int write_cache(struct eval_state *st, const char *path)
{
    char *tmp;
    if (make_dirs(st->opt.cache_dir) < 0 || asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
        return -errno ? -errno : -ENOMEM;
    /* Readable by its owner only: it holds every expected output, which a
     * job that could read it would simply return. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "we") : NULL;
    if (!f) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        free(tmp);
        return -e;
    }
    fprintf(f, "{\"runbox_reference\":%d,\"format\":\"%s\",\"md5\":\"%s\",\"tasks\":%zu}\n", CACHE_VERSION,
            st->fmt->name, st->problems.md5, st->problems.count);
    for (size_t i = 0; i < st->problems.count; i++) {
        const struct rb_problem *p = &st->problems.items[i];
        cJSON *id = cJSON_CreateString(p->task_id);
        char *idtext = cJSON_PrintUnformatted(id);
        cJSON_Delete(id);
        fprintf(f, "{\"task_id\":%s", idtext ? idtext : "null");
        cJSON_free(idtext);
        static const char *const KEYS[] = { "base", "plus" };
        for (size_t g = 0; g < 2; g++) {
            fprintf(f, ",\"%s\":[", KEYS[g]);
            for (size_t k = 0; k < p->groups[g].count; k++) {
                const struct rb_test *t = &p->groups[g].tests[k];
                fprintf(f, "%s[%s,%.9f]", k ? "," : "", t->raw_value ? t->raw_value : "null", t->ref_time);
            }
            fputc(']', f);
        }
        fputs("}\n", f);
    }
    int rc = fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -errno;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* ---- the jobs ------------------------------------------------------------------- */

static void prep_free(struct prep_job *j)
{
    free(j->calls);
    free(j->program);
    free(j->path);
    free(j);
}

static int submit_reference(struct eval_state *st, struct rb_problem *p, int g)
{
    struct prep_job *j = calloc(1, sizeof *j);
    struct rb_test_group *grp = &p->groups[g];
    if (!j)
        return -ENOMEM;
    *j = (struct prep_job){ .owner = EVAL_PREP, .kind = PREP_REFERENCE, .problem = p, .group = g };
    j->calls = calloc(grp->count + 1, sizeof *j->calls);
    if (!j->calls || asprintf(&j->program, "%s%s", p->prompt, p->canonical) < 0 ||
        asprintf(&j->path, "reference-%s-%s.py", p->task_id, g ? "plus" : "base") < 0) {
        prep_free(j);
        return -ENOMEM;
    }
    for (char *c = j->path; *c; c++)
        if (*c == '/')
            *c = '_';
    for (size_t i = 0; i < grp->count; i++)
        j->calls[i] = (rb_call){ .args = grp->tests[i].input, .timeout = REFERENCE_CALL_LIMIT };
    struct rb_manifest_job m = { 0 };
    m.job = (rb_job){
        .id = j->path, .kind = RB_PROGRAM_SOURCE, .program = j->program, .path = j->path,
        .globals_json = REFERENCE_GLOBALS, .calls = j->calls, .ncalls = grp->count,
        .entry_point = p->entry_point, .all_tests = true,
        .limits = { .timeout = REFERENCE_JOB_LIMIT, .output_limit_kb = 64 * 1024, .memory_mb = EVALPLUS_MEMORY_MB },
    };
    if (grp->count == 0) {
        prep_free(j);
        return 0;
    }
    int rc = rb_batch_submit(st->batch, &m, j);
    rb_manifest_job_free(&m);
    if (rc < 0)
        prep_free(j);
    else
        st->prep_pending++;
    return rc;
}

static int submit_decode(struct eval_state *st, struct rb_problem *p)
{
    struct prep_job *j = calloc(1, sizeof *j);
    if (!j)
        return -ENOMEM;
    *j = (struct prep_job){ .owner = EVAL_PREP, .kind = PREP_DECODE, .problem = p };
    if (asprintf(&j->path, "decode-%s.py", p->task_id) < 0) {
        j->path = NULL;
        prep_free(j);
        return -ENOMEM;
    }
    struct rb_manifest_job m = { 0 };
    m.job = (rb_job){
        .id = j->path, .kind = RB_PROGRAM_SOURCE, .program = DECODE_PROGRAM, .path = j->path,
        .stdin_data = p->pending, .stdin_len = strlen(p->pending),
        .limits = { .timeout = DECODE_LIMIT, .output_limit_kb = 1024L * 1024 },
    };
    int rc = rb_batch_submit(st->batch, &m, j);
    rb_manifest_job_free(&m);
    if (rc < 0)
        prep_free(j);
    else
        st->prep_pending++;
    return rc;
}

/* A reference run's values become the group's expected values. */
static void take_reference(struct eval_state *st, struct prep_job *j, const rb_result *r)
{
    struct rb_problem *p = j->problem;
    struct rb_test_group *g = &p->groups[j->group];
    for (size_t i = 0; i < g->count && !st->prep_error; i++) {
        const rb_call_result *c = i < r->ncalls ? &r->calls[i] : NULL;
        if (!c || c->status != RB_CALL_RETURNED || !c->value) {
            char why[600];
            if (c && c->status != RB_CALL_NOT_RUN)
                rb_call_failure_text(r, i, why, sizeof why);
            else
                snprintf(why, sizeof why, "%s", r->error ? r->error : "it did not run");
            rb_progress_clear(&st->progress);
            rb_cli_error("the reference solution of %s failed on its %s input %zu: %s; its expected output "
                         "is unknown", p->task_id, j->group ? "plus" : "base", i, why);
            st->prep_error = -EINVAL;
            return;
        }
        char *raw = strdup(c->value);
        if (rb_problems_keep(&st->problems, raw) < 0 ||
            set_expected(st, p, &g->tests[i], c->value, strlen(c->value), c->time) < 0) {
            st->prep_error = -ENOMEM;
            return;
        }
        g->tests[i].raw_value = raw;
    }
}

static void take_decoded(struct eval_state *st, struct prep_job *j, const rb_result *r)
{
    char err[512];
    if (r->status != RB_STATUS_OK) {
        rb_progress_clear(&st->progress);
        rb_cli_error("could not decode the private tests of %s: %s", j->problem->task_id,
                     r->error ? r->error : rb_status_name(r->status));
        st->prep_error = -EINVAL;
    } else if (rb_lcb_add_tests(&st->problems, j->problem, r->stdout_data, r->stdout_len, err, sizeof err) < 0) {
        rb_progress_clear(&st->progress);
        rb_cli_error("the private tests of %s: %s", j->problem->task_id, err);
        st->prep_error = -EINVAL;
    }
    j->problem->pending = NULL;
}

void eval_prep_on_run(struct eval_state *st, const rb_result *r, void *ctx)
{
    struct prep_job *j = ctx;
    if (j->kind == PREP_REFERENCE)
        take_reference(st, j, r);
    else
        take_decoded(st, j, r);
}

void eval_prep_on_record(struct eval_state *st, const cJSON *record, void *ctx)
{
    (void)record;
    st->prep_pending--;
    prep_free(ctx);
}

/* ---- the phase ---------------------------------------------------------------- */

struct prep_feed {
    struct eval_state *st;
    size_t problem;
    int group;
};

/* The driver's feed: the next job of the phase. */
static int feed_prep(void *ctx)
{
    struct prep_feed *f = ctx;
    struct eval_state *st = f->st;
    while (f->problem < st->problems.count) {
        struct rb_problem *p = &st->problems.items[f->problem];
        int rc = 0;
        if (st->fmt->needs_reference && f->group < (int)p->ngroups) {
            rc = submit_reference(st, p, f->group++);
        } else if (p->pending && f->group == 0) {
            f->group = 1;
            rc = submit_decode(st, p);
        } else {
            f->problem++;
            f->group = 0;
            continue;
        }
        if (rc < 0) {
            rb_cli_error("could not start a job before grading: %s", strerror(-rc));
            return RB_FEED_FAILED;
        }
        return st->prep_error ? RB_FEED_FAILED : 1;
    }
    return 0;
}

static bool needs_jobs(const struct eval_state *st)
{
    if (st->fmt->needs_reference)
        return true;
    for (size_t i = 0; i < st->problems.count; i++)
        if (st->problems.items[i].pending)
            return true;
    return false;
}

int eval_prepare(struct eval_state *st, int sigfd)
{
    if (!needs_jobs(st))
        return RB_EXIT_OK;
    char *path = st->fmt->needs_reference ? cache_path(st) : NULL;
    if (path && load_cache(st, path)) {
        free(path);
        return RB_EXIT_OK;
    }
    if (!st->opt.common.quiet && st->fmt->needs_reference)
    {
        char count[64];
        fprintf(stderr, "runbox eval: computing the expected outputs of %s's %s (cached in %s)\n",
                st->fmt->title, rb_plural((long)st->problems.count, "reference solution", count, sizeof count),
                path ? path : "nowhere");
    }
    struct prep_feed f = { .st = st };
    struct rb_driver d = {
        .batch = st->batch, .progress = &st->progress, .sigfd = sigfd, .input_fd = -1,
        .feed = feed_prep, .ctx = &f, .write_error = &st->prep_error,
    };
    int status = rb_driver_run(&d);
    if (status == RB_EXIT_OK && st->prep_error)
        status = RB_EXIT_FAILURE;
    if (status == RB_EXIT_OK && path) {
        int rc = write_cache(st, path);
        if (rc < 0 && !st->opt.common.quiet)
            rb_cli_error("could not write the reference cache %s: %s", path, strerror(-rc));
    }
    free(path);
    return status;
}
