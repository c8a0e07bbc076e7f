/*
 * A sample's runs (evalrun.h): what jobs a sample becomes, by its format,
 * how each job's result is judged while it is at hand, and the sample's
 * results line once its runs are back:
 *   HumanEval, MBPP   one program with its checks;
 *   HumanEval+, MBPP+ a job of calls per kind of input (base, plus), as
 *                     evalplus runs a process per kind;
 *   LiveCodeBench, APPS, TACO: a job of calls (fn_name), or a job of
 *                     stdin/stdout cases, each case its own process;
 *   CodeContests, stdio: a job of cases.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "evalrun.h"
#include "results.h"
#include "shard.h"

/* ---- samples and their runs ---------------------------------------------------- */

static void sample_free(struct eval_sample *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nruns; i++) {
        cJSON_Delete(s->runs[i].record);
        cJSON_Delete(s->runs[i].rerun);
        cJSON_Delete(s->runs[i].tests);
        free(s->runs[i].calls);
    }
    cJSON_Delete(s->sample);
    free(s->program);
    free(s->path);
    free(s->checks);
    free(s);
}

/* The name a sample's task goes by: task_id, else the format's own field. */
static char *sample_task(const struct eval_state *st, const cJSON *sample)
{
    char *t = rb_task_id_text(cJSON_GetObjectItemCaseSensitive(sample, "task_id"));
    if (!t && st->fmt->sample_key)
        t = rb_task_id_text(cJSON_GetObjectItemCaseSensitive(sample, st->fmt->sample_key));
    return t;
}

/* evalplus's per-call limits, max(min, factor * reference time), and its
 * whole-run limit, min(60, sum) + 1 (+1 for --test_details), joined for one
 * more second (eval/__init__.py, untrusted_check); 60 is its
 * EVALPLUS_TIMEOUT_PER_TASK, here --task-time-limit. */
static double evalplus_limits(const struct eval_state *st, const struct rb_test_group *g, rb_call *calls)
{
    double sum = 0;
    for (size_t i = 0; i < g->count; i++) {
        double limit = fmax(st->opt.min_time_limit, st->opt.time_limit_factor * g->tests[i].ref_time);
        calls[i].timeout = limit;
        sum += limit;
    }
    return fmin(st->opt.task_time_limit, sum) + 2 + (st->opt.all_tests ? 1 : 0);
}

/* A job of calls: every test of group `g`, judged by the format's rules. */
static void calls_job(struct eval_state *st, struct eval_sample *s, struct eval_run *run, rb_job *job)
{
    const struct rb_problem *p = s->problem;
    const struct rb_test_group *g = &p->groups[run->group];
    const struct rb_format *f = st->fmt;
    double per_test = st->opt.timeout_given && !f->needs_reference ? st->opt.common.pool.defaults.timeout
                                                                    : f->test_timeout;
    for (size_t i = 0; i < g->count; i++)
        run->calls[i] = (rb_call){ .args = g->tests[i].input, .expected = g->tests[i].expected, .timeout = per_test };
    if (f->needs_reference)
        run->timeout = evalplus_limits(st, g, run->calls);
    else if (f->sample_limit > 0)
        run->timeout = f->sample_limit; /* APPS: the sample's whole process */
    else
        run->timeout = (per_test + 1) * (double)g->count + 5; /* LiveCodeBench's outer join */
    if (st->opt.timeout_given && f->needs_reference)
        run->timeout = st->opt.common.pool.defaults.timeout;
    job->limits.timeout = run->timeout;
    /* evalplus: min(4 GiB, the machine's memory) for the whole process. */
    if (f->needs_reference && !st->opt.memory_given)
        job->limits.memory_mb = 4096;
    job->calls = run->calls;
    job->ncalls = g->count;
    job->entry_point = p->entry_point;
    job->entry_class = s->solution_class ? "Solution" : NULL;
    /* APPS and TACO run every test; the others stop a kind at its first failure. */
    job->all_tests = st->opt.all_tests || !f->stop_at_first;
    job->call_rules = (rb_call_rules){ .compare = f->call_compare, .atol = p->atol };
    /* Called as a module's functions, not run as a script: the graders exec
     * the code with a __name__ that is not "__main__". */
    job->globals_json = "{\"__name__\": \"solution\"}";
    /* The graders swallow or ignore what a program prints; 64 MiB of it is
     * kept here before the job is stopped. */
    job->limits.output_limit_kb = 64 * 1024;
}

/* A job of stdin/stdout cases, each its own process. */
static int cases_job(struct eval_state *st, struct eval_sample *s, struct eval_run *run, struct rb_manifest_job *m)
{
    const struct rb_problem *p = s->problem;
    const struct rb_test_group *g = &p->groups[0];
    const struct rb_format *f = st->fmt;
    double limit = st->opt.timeout_given ? st->opt.common.pool.defaults.timeout
                   : p->time_limit > 0   ? p->time_limit
                                         : f->test_timeout;
    m->cases = calloc(g->count + 1, sizeof *m->cases);
    if (!m->cases)
        return -ENOMEM;
    m->ncases = g->count;
    for (size_t i = 0; i < g->count; i++)
        m->cases[i] = (struct rb_manifest_case){ .stdin_data = g->tests[i].input, .stdin_len = g->tests[i].input_len,
                                                 .expected = g->tests[i].expected,
                                                 .expected_len = g->tests[i].expected_len };
    m->compare.mode = p->compare ? rb_compare_named(p->compare)->mode : f->case_compare;
    m->compare.float_tolerance = -1;
    m->early_stop = f->stop_at_first && !st->opt.all_tests;
    if (f->id == RB_FMT_CODECONTESTS) {
        /* Its tester's limit is CPU time (an rlimit); wall time 3x that. */
        m->job.limits.cpu_time = limit;
        limit *= 3;
    }
    m->job.limits.timeout = limit;
    run->timeout = limit;
    return 0;
}

static int submit_run(struct eval_state *st, struct eval_run *run)
{
    struct eval_sample *s = run->sample;
    const struct rb_problem *p = s->problem;
    struct rb_manifest_job m = { 0 };
    m.job = (rb_job){ .id = s->path, .kind = RB_PROGRAM_SOURCE, .program = s->program, .path = s->path };
    int rc = 0;
    if (p->format == RB_FMT_HUMANEVAL || p->format == RB_FMT_MBPP) {
        m.job.checks = s->checks;
        m.job.nchecks = s->checks ? p->ntests : 0;
        run->timeout = st->opt.common.pool.defaults.timeout;
        run->single = true;
    } else if (p->calls) {
        calls_job(st, s, run, &m.job);
        run->single = true;
    } else {
        rc = cases_job(st, s, run, &m);
    }
    if (rc == 0)
        rc = rb_batch_submit(st->batch, &m, run);
    rb_manifest_job_free(&m);
    return rc;
}

/* ---- verdicts and lines ------------------------------------------------------------- */

static void add_indexes(cJSON *line, const char *key, const struct rb_evalplus_status *ep)
{
    cJSON *list = cJSON_AddArrayToObject(line, key);
    for (size_t i = 0; i < ep->nfail; i++)
        cJSON_AddItemToArray(list, cJSON_CreateNumber((double)ep->fail[i]));
}

/* HumanEval+ and MBPP+: passed when base and plus both pass (evaluate.py's
 * pass@k for base + extra tests); the first kind that did not speaks. */
static cJSON *evalplus_line(struct eval_state *st, struct eval_sample *s)
{
    struct rb_verdict v = { 0 };
    struct eval_run *base = &s->runs[0], *plus = s->nruns > 1 ? &s->runs[1] : NULL;
    const struct eval_run *deciding = strcmp(base->ep.status, "pass") != 0 ? base
                                      : plus && strcmp(plus->ep.status, "pass") != 0 ? plus
                                                                                       : NULL;
    v.passed = !deciding;
    if (deciding) {
        v = deciding->verdict;
        v.passed = false;
        v.timed_out = strcmp(deciding->ep.status, "timeout") == 0;
    } else {
        snprintf(v.result, sizeof v.result, "passed");
    }
    cJSON *line = rb_eval_line(s->sample, &v);
    if (!line)
        return NULL;
    cJSON_AddStringToObject(line, "base_status", base->ep.status);
    cJSON_AddItemToObject(line, "plus_status", plus ? cJSON_CreateString(plus->ep.status) : cJSON_CreateNull());
    add_indexes(line, "base_fail_indices", &base->ep);
    if (plus)
        add_indexes(line, "plus_fail_indices", &plus->ep);
    else
        cJSON_AddArrayToObject(line, "plus_fail_indices");
    (void)st;
    return line;
}

static cJSON *sample_line(struct eval_state *st, struct eval_sample *s, struct rb_verdict *v)
{
    struct eval_run *run = &s->runs[0];
    cJSON *line;
    if (st->fmt->needs_reference) {
        line = evalplus_line(st, s);
        static const char *const KEYS[] = { "base", "plus" };
        for (size_t i = 0; line && i < s->nruns; i++) {
            rb_eval_add_record(line, s->runs[i].record, KEYS[i]);
            s->runs[i].record = NULL;
        }
        v->passed = line && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(line, "passed"));
        v->timed_out = !v->passed && (strcmp(s->runs[0].ep.status, "timeout") == 0 ||
                                      (s->nruns > 1 && strcmp(s->runs[1].ep.status, "timeout") == 0));
        const char *r = line ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(line, "result")) : NULL;
        snprintf(v->result, sizeof v->result, "%s", r ? r : "");
    } else {
        if (run->single)
            *v = run->verdict;
        else
            rb_cases_verdict(run->record, st->fmt->sample_limit, v);
        line = rb_eval_line(s->sample, v);
        if (line) {
            rb_eval_add_record(line, run->record, NULL);
            run->record = NULL;
            if (run->tests) {
                cJSON_AddItemToObject(line, "tests", run->tests);
                run->tests = NULL;
            }
        }
    }
    for (size_t i = 0; line && i < s->nruns; i++)
        if (s->runs[i].rerun) {
            cJSON_AddItemToObject(line, "rerun", cJSON_Duplicate(s->runs[i].rerun, true));
            break;
        }
    /* Every line names its task as task_id, whatever field the sample used. */
    if (line && !cJSON_GetObjectItemCaseSensitive(line, "task_id")) {
        cJSON *id = cJSON_CreateString(s->problem->task_id);
        if (id) {
            id->next = line->child;
            if (line->child)
                line->child->prev = id;
            id->string = strdup("task_id");
            line->child = id;
        }
    }
    return line;
}

static double sample_runtime(const struct eval_sample *s, const cJSON *line)
{
    const cJSON *rt = cJSON_GetObjectItemCaseSensitive(line, "runtime");
    if (cJSON_IsNumber(rt))
        return rt->valuedouble;
    double total = 0;
    static const char *const KEYS[] = { "base", "plus" };
    for (size_t i = 0; i < s->nruns && i < 2; i++) {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(line, KEYS[i]), "runtime");
        total += cJSON_IsNumber(r) ? r->valuedouble : 0;
    }
    return total;
}

static void finish_sample(struct eval_state *st, struct eval_sample *s)
{
    struct rb_verdict v;
    cJSON *line = sample_line(st, s, &v);
    if (line) {
        rb_progress_row(&st->progress, s->problem->task_id,
                        v.passed ? "passed" : v.timed_out ? "timed out" : "failed", sample_runtime(s, line),
                        v.passed ? "" : v.result);
        eval_journal_write(st, s->index, line);
    } else {
        st->write_error = -ENOMEM;
    }
    cJSON_Delete(line);
    rb_progress_count(&st->progress, v.passed ? RB_STATUS_OK : v.timed_out ? RB_STATUS_TIMEOUT : RB_STATUS_ERROR);
    rb_progress_tick(&st->progress, false);
    sample_free(s);
}

/* A single job's result: its verdict while the result is at hand. */
static void judge_single(struct eval_state *st, struct eval_run *run, const rb_result *r)
{
    struct eval_sample *s = run->sample;
    if (st->opt.rerun && !run->rerun && rb_eval_should_rerun(r, run->timeout)) {
        run->wants_rerun = true;
        return;
    }
    run->wants_rerun = false;
    if (!s->problem->calls) {
        rb_eval_verdict(s->problem->format, r, s->test_line, &run->verdict);
        if (r->nchecks)
            run->tests = rb_eval_tests_array(r);
    } else if (st->fmt->needs_reference) {
        rb_evalplus_status(r, st->opt.all_tests, &run->ep);
        rb_calls_verdict(r, run->group ? "plus input" : "base input", &run->verdict);
    } else {
        rb_calls_verdict(r, "test", &run->verdict);
    }
}

/* Cases: the timing rule for the case that timed out while mostly waiting. */
static bool cases_want_rerun(const cJSON *record)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(record, "cases")) {
        const char *verdict = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "verdict"));
        const cJSON *rt = cJSON_GetObjectItemCaseSensitive(c, "runtime"), *cpu = cJSON_GetObjectItemCaseSensitive(c, "cpu_time");
        if (verdict && strcmp(verdict, "timeout") == 0 && cJSON_IsNumber(rt) && cJSON_IsNumber(cpu) &&
            cpu->valuedouble < RB_RERUN_CPU_SHARE * rt->valuedouble)
            return true;
    }
    return false;
}

/* Queues the run for a second go; the loop submits it (eval_submit_reruns):
 * not from here, inside the batch's delivery of the first run's record. */
static void rerun(struct eval_state *st, struct eval_run *run, const cJSON *record)
{
    const cJSON *rt = cJSON_GetObjectItemCaseSensitive(record, "runtime");
    const cJSON *cpu = cJSON_GetObjectItemCaseSensitive(record, "cpu_time");
    run->rerun = cJSON_CreateObject();
    cJSON_AddStringToObject(run->rerun, "reason", run->single && run->calls
                                                      ? "a time limit passed while the CPU time was under half the wall time"
                                                      : "wall-clock timeout with CPU time under half the limit");
    cJSON_AddNumberToObject(run->rerun, "first_runtime", cJSON_IsNumber(rt) ? rt->valuedouble : 0);
    cJSON_AddNumberToObject(run->rerun, "first_cpu_time", cJSON_IsNumber(cpu) ? cpu->valuedouble : 0);
    st->reruns++;
    run->next_rerun = st->reruns_due;
    st->reruns_due = run;
}

int eval_submit_reruns(void *ctx)
{
    struct eval_state *st = ctx;
    while (st->reruns_due) {
        struct eval_run *run = st->reruns_due;
        st->reruns_due = run->next_rerun;
        run->next_rerun = NULL;
        int rc = submit_run(st, run);
        if (rc < 0) {
            rb_cli_error("could not run %s again: %s", run->sample->problem->task_id, strerror(-rc));
            return RB_FEED_FAILED;
        }
    }
    return 0;
}

void eval_on_run(const rb_result *r, void *ctx)
{
    struct eval_state *st = ctx;
    rb_stats_add(&st->stats, r);
    const enum eval_owner *owner = rb_batch_run_ctx(r);
    if (!owner)
        return; /* a case of a job of cases: its record comes whole */
    if (*owner == EVAL_PREP)
        eval_prep_on_run(st, r, (void *)owner);
    else
        judge_single(st, (struct eval_run *)owner, r);
}

void eval_on_record(const cJSON *record, rb_status status, void *job_ctx, void *ctx)
{
    struct eval_state *st = ctx;
    (void)status;
    if (*(enum eval_owner *)job_ctx == EVAL_PREP) {
        eval_prep_on_record(st, record, job_ctx);
        return;
    }
    struct eval_run *run = job_ctx;
    if (!run->single && st->opt.rerun && !run->rerun && cases_want_rerun(record))
        run->wants_rerun = true;
    if (run->wants_rerun) {
        run->wants_rerun = false; /* once: the second run's verdict is final */
        rerun(st, run, record);
        return;
    }
    run->record = cJSON_Duplicate(record, true);
    struct eval_sample *s = run->sample;
    if (++s->ndone == s->nruns)
        finish_sample(st, s);
}

/* ---- taking samples ------------------------------------------------------------------ */

static void write_invalid_sample(struct eval_state *st, long index, cJSON *sample, const char *why)
{
    cJSON *line = sample ? sample : cJSON_CreateObject();
    char result[600];
    snprintf(result, sizeof result, "invalid: %s", why);
    cJSON_DeleteItemFromObjectCaseSensitive(line, "result");
    cJSON_DeleteItemFromObjectCaseSensitive(line, "passed");
    cJSON_DeleteItemFromObjectCaseSensitive(line, "status");
    cJSON_AddStringToObject(line, "result", result);
    cJSON_AddBoolToObject(line, "passed", false);
    cJSON_AddStringToObject(line, "status", "invalid");
    eval_journal_write(st, index, line);
    cJSON_Delete(line);
    st->invalid++;
    rb_progress_count(&st->progress, RB_STATUS_INVALID);
}

/* Sharded: whether the sample is this shard's (its task and code; a line
 * that is not a sample, its text), noting its index when it is. */
static int shard_takes(struct eval_state *st, const cJSON *sample, const char *text, size_t len, long index)
{
    int sol;
    const char *c = cJSON_IsObject(sample) ? eval_sample_code(sample, &sol) : NULL;
    char *t = c ? sample_task(st, sample) : NULL;
    size_t tl = t ? strlen(t) : 0, cl = c ? strlen(c) : 0;
    char *key = t ? malloc(tl + cl + 1) : NULL;
    if (key) {
        memcpy(key, t, tl + 1);
        memcpy(key + tl + 1, c, cl);
    }
    bool mine = key ? rb_shard_mine(&st->opt.common.shard, key, tl + cl + 1)
                    : rb_shard_mine(&st->opt.common.shard, text, len);
    free(key);
    free(t);
    if (!mine)
        return 0;
    if (st->nmine == st->capmine) {
        size_t cap = st->capmine ? st->capmine * 2 : 1024;
        long *m = realloc(st->mine, cap * sizeof *m);
        if (!m)
            return -ENOMEM;
        st->mine = m;
        st->capmine = cap;
    }
    st->mine[st->nmine++] = index;
    return 1;
}

static struct eval_sample *new_sample(struct eval_state *st, cJSON *sample, const struct rb_problem *p,
                                      const char *task, const char *code, int is_solution, long index)
{
    struct eval_sample *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->index = index;
    s->sample = sample;
    s->problem = p;
    s->program = rb_build_program(p, code, is_solution, &s->test_line);
    /* LiveCodeBench's and APPS's own test: the text anywhere in the code;
     * evalplus always calls the entry point as a function. */
    s->solution_class = !st->fmt->needs_reference && strstr(code, "class Solution") != NULL;
    bool ok = s->program && asprintf(&s->path, "%s.py", task) >= 0;
    for (char *c = ok ? s->path : NULL; c && *c; c++)
        if (*c == '/' || *c == ' ')
            *c = '_';
    if (ok && p->format == RB_FMT_MBPP) {
        ok = (s->checks = calloc(p->ntests, sizeof *s->checks)) != NULL;
        for (size_t i = 0; ok && i < p->ntests; i++)
            s->checks[i].source = p->test_list[i];
    }
    s->nruns = p->calls && st->fmt->needs_reference ? (st->opt.base_only ? 1 : p->ngroups) : 1;
    for (size_t i = 0; ok && i < s->nruns; i++) {
        struct eval_run *run = &s->runs[i];
        *run = (struct eval_run){ .owner = EVAL_RUN, .sample = s, .group = p->calls || p->ngroups ? (int)i : -1 };
        if (p->calls)
            ok = (run->calls = calloc(p->groups[i].count + 1, sizeof *run->calls)) != NULL;
    }
    if (!ok) {
        s->sample = NULL;
        sample_free(s);
        return NULL;
    }
    return s;
}

/* One sample: an invalid line, a skip (graded before), or its runs
 * submitted. A negative errno only when the whole evaluation must stop. */
int eval_take_sample(struct eval_state *st, cJSON *sample, const char *text, size_t len, long index, long line_no)
{
    char why[512];
    if (st->opt.common.shard.count) {
        int rc = shard_takes(st, sample, text, len, index);
        if (rc <= 0) {
            cJSON_Delete(sample);
            return rc;
        }
    }
    if (!cJSON_IsObject(sample)) {
        snprintf(why, sizeof why, "samples line %ld: not a JSON object", line_no);
        cJSON_Delete(sample);
        write_invalid_sample(st, index, NULL, why);
        return 0;
    }
    int is_solution;
    const char *code = eval_sample_code(sample, &is_solution);
    char *task = sample_task(st, sample);
    uint64_t seen = eval_done_hash(st, index);
    if (seen) {
        bool same = seen == eval_sample_hash(task ? task : "", code ? code : "");
        free(task);
        cJSON_Delete(sample);
        if (same)
            return 0;
        rb_cli_error("samples line %ld differs from the sample graded there before; the samples file changed "
                     "since %s was written (use --overwrite to start over)", line_no, st->journal_path);
        return -ESTALE;
    }
    const struct rb_problem *p = task ? rb_problems_find(&st->problems, task) : NULL;
    if (!task || !code || !p) {
        if (!task)
            snprintf(why, sizeof why, "samples line %ld: field 'task_id' is missing or not a string or integer", line_no);
        else if (!code)
            snprintf(why, sizeof why, "samples line %ld: no 'completion' (or 'solution') string", line_no);
        else
            snprintf(why, sizeof why, "samples line %ld: task_id '%.200s' is not in %s", line_no, task, st->opt.problems);
        free(task);
        write_invalid_sample(st, index, sample, why);
        return 0;
    }
    struct eval_sample *s = new_sample(st, sample, p, task, code, is_solution, index);
    free(task);
    if (!s) {
        cJSON_Delete(sample);
        return -ENOMEM;
    }
    for (size_t i = 0; i < s->nruns; i++) {
        int rc = submit_run(st, &s->runs[i]);
        if (rc < 0)
            return rc; /* runs submitted before finish through the batch, which owns them now */
    }
    return 0;
}
