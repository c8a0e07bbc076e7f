/*
 * The verdict (verdict.h).
 *
 * Precedence, first match wins:
 *   1. runbox's own kills: the wall-clock limit, then the output cap (a
 *      program whose verdict was out before the cap was hit, an exception
 *      whose traceback flooded stderr say, keeps its failure);
 *   2. the kernel's: SIGSYS from the seccomp filter, the CPU limit;
 *   3. what the worker said: a set-up failure (only believed from before the
 *      program's code ran), a MemoryError, a verdict;
 *   4. other signals;
 *   5. the bare exit code, for a program that ended before its main module
 *      did (os._exit, say): python3 would report the same code.
 * The worker's verdict outranks the exit code that follows it, so nothing
 * that runs after the main module (exit handlers, __del__, a signal handler)
 * can turn a failure into a success.
 */
#define _GNU_SOURCE
#include "verdict.h"

#include "callcheck.h"
#include "values.h"

#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

/* One call, judged. */
static void judge_call(struct rb_call_judge *j, const struct rb_pool_call *c, const cJSON *res, rb_call_result *out,
                       char **text)
{
    const char *outcome = rb_status_string(res, RBZ_ST_OUTCOME);
    out->expected = c->expected;
    out->args = c->args;
    out->time = rb_status_number(res, RBZ_ST_TIME, 0);
    out->exception = rb_status_string(res, RBZ_ST_EXCEPTION);
    out->error = rb_status_string(res, RBZ_ST_ERROR);
    if (strcmp(outcome, RBZ_CALL_TIMEOUT) == 0) {
        out->status = RB_CALL_TIMEOUT;
        return;
    }
    if (strcmp(outcome, RBZ_CALL_RETURNED) != 0) {
        out->status = RB_CALL_EXCEPTION;
        return;
    }
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(res, RBZ_ST_VALUE);
    out->value = *text = value ? cJSON_PrintUnformatted(value) : NULL;
    if (!c->expected) {
        out->status = RB_CALL_RETURNED;
        return;
    }
    struct rb_value_arena arena = { 0 };
    struct rb_value got, want, args;
    char err[128], why[256];
    cJSON *exp_tree = cJSON_Parse(c->expected), *args_tree = cJSON_Parse(c->args);
    bool ok = value && exp_tree && args_tree && rb_value_parse(value, &got, &arena, err, sizeof err) == 0 &&
              rb_value_parse(exp_tree, &want, &arena, err, sizeof err) == 0 &&
              rb_value_parse(args_tree, &args, &arena, err, sizeof err) == 0 &&
              rb_call_judge_value(j, c->group, &args, &got, &want, why, sizeof why);
    out->status = ok ? RB_CALL_PASSED : RB_CALL_WRONG;
    cJSON_Delete(exp_tree);
    cJSON_Delete(args_tree);
    rb_value_arena_free(&arena);
}

void rb_verdict_calls(const struct rb_pool_job *job, const struct rb_status_reader *st, rb_call_result *out,
                      char **texts)
{
    struct rb_call_judge j;
    rb_call_judge_init(&j, &job->call_rules, job->entry_point);
    for (size_t i = 0; i < job->ncalls; i++) {
        out[i] = (rb_call_result){ .status = RB_CALL_NOT_RUN, .expected = job->calls[i].expected,
                                   .args = job->calls[i].args };
        texts[i] = NULL;
        const cJSON *res = i < st->ncalls ? st->calls[i] : NULL;
        if (res)
            judge_call(&j, &job->calls[i], res, &out[i], &texts[i]);
    }
}

const char *rb_status_name(rb_status status)
{
    static const char *const names[] = {
        [RB_STATUS_OK] = "ok",
        [RB_STATUS_ERROR] = "error",
        [RB_STATUS_TIMEOUT] = "timeout",
        [RB_STATUS_MEMORY] = "memory",
        [RB_STATUS_OUTPUT_LIMIT] = "output_limit",
        [RB_STATUS_SIGNAL] = "signal",
        [RB_STATUS_VIOLATION] = "violation",
        [RB_STATUS_INVALID] = "invalid",
        [RB_STATUS_INTERNAL] = "internal",
    };
    if ((unsigned)status < sizeof names / sizeof names[0] && names[status])
        return names[status];
    return "internal";
}

static const char *signal_name(int sig, char *buf, size_t len)
{
    const char *abbrev = sigabbrev_np(sig);
    if (abbrev)
        snprintf(buf, len, "SIG%s", abbrev);
    else
        snprintf(buf, len, "signal %d", sig);
    return buf;
}

static bool looks_like_memory_exhaustion(const struct rb_run_facts *f)
{
    if (f->stderr_len && (memmem(f->stderr_data, f->stderr_len, "MemoryError", 11) ||
                          memmem(f->stderr_data, f->stderr_len, "Cannot allocate memory", 22) ||
                          memmem(f->stderr_data, f->stderr_len, "out of memory", 13)))
        return true;
    return f->max_rss_kb >= f->limits->memory_mb * 1024 * 9 / 10;
}

/* The first check whose verdict was a failure, or -1. */
static int first_failed_check(const struct rb_status_reader *st)
{
    for (size_t i = 0; i < st->nchecks; i++) {
        const char *status = rb_status_string(st->checks[i], RBZ_ST_STATUS);
        if (status && strcmp(status, RBZ_CHECK_PASSED) != 0)
            return (int)i;
    }
    return -1;
}

static rb_check_status check_status(const char *s)
{
    return strcmp(s, RBZ_CHECK_PASSED) == 0   ? RB_CHECK_PASSED
           : strcmp(s, RBZ_CHECK_FAILED) == 0 ? RB_CHECK_FAILED
                                              : RB_CHECK_ERROR;
}

static void fill_checks(const struct rb_status_reader *st, rb_check_result *checks)
{
    for (size_t i = 0; i < st->nchecks; i++) {
        const cJSON *c = st->checks[i], *d = st->check_details[i];
        checks[i] = (rb_check_result){ 0 };
        if (!c)
            continue;
        checks[i].status = check_status(rb_status_string(c, RBZ_ST_STATUS));
        checks[i].error = rb_status_string(d, RBZ_ST_ERROR);
        if (!checks[i].error && checks[i].status != RB_CHECK_PASSED)
            checks[i].error = rb_status_string(c, RBZ_ST_EXCEPTION);
        checks[i].line = (int)rb_status_number(d, RBZ_ST_LINE, 0);
    }
}

/* What the worker said, into the result's fields. */
static void take_report(const struct rb_status_reader *st, rb_result *r)
{
    const cJSON *v = st->verdict, *d = st->detail;
    r->exception = rb_status_string(v, RBZ_ST_EXCEPTION);
    r->completed = strcmp(rb_status_string(v, RBZ_ST_OUTCOME), RB_OUTCOME_COMPLETED) == 0;
    r->error = rb_status_string(d, RBZ_ST_ERROR);
    if (!r->error)
        r->error = r->exception; /* the details never came: the type at least */
    if (!r->error && strcmp(rb_status_string(v, RBZ_ST_OUTCOME), RB_OUTCOME_EXIT) == 0 &&
        rb_status_number(v, RBZ_ST_EXIT_CODE, 0) != 0)
        r->error = "SystemExit (the program ended while its exit value was being printed)";
    r->error_detail = rb_status_string(d, RBZ_ST_ERROR_DETAIL);
    r->doc = rb_status_string(d, RBZ_ST_DOC);
    r->doc_truncated = rb_status_bool(d, RBZ_ST_DOC_TRUNCATED);
    r->error_line = (int)rb_status_number(d, RBZ_ST_LINE, 0);
    r->namespace_truncated = rb_status_bool(d, RBZ_ST_NAMESPACE_TRUNCATED);
}

void rb_verdict_decide(const struct rb_run_facts *f, const struct rb_status_reader *st,
                       rb_result *r, rb_check_result *checks, char *msg, size_t msglen)
{
    const rb_limits *l = f->limits;
    const cJSON *v = st->verdict;
    int ws = f->wait_status;
    bool signaled = WIFSIGNALED(ws);
    int sig = signaled ? WTERMSIG(ws) : 0;
    long cpu_limit = rb_cpu_limit_seconds(l->cpu_time);
    char name[32];
    /* A kill that raced with the job's own exit did not time it out: the
     * job is judged on what it did if it ended before its deadline. */
    bool timed_out = f->killed == RB_KILL_TIMEOUT && (signaled || f->end_ns >= f->deadline_ns);
    /* An output kill after a failing verdict: the failure stands. */
    bool output_kill = f->killed == RB_KILL_OUTPUT &&
                       !(f->killed_after_verdict && v &&
                         (strcmp(rb_status_string(v, RBZ_ST_OUTCOME), RB_OUTCOME_COMPLETED) != 0 ||
                          rb_status_number(v, RBZ_ST_EXIT_CODE, 0) != 0));

    if (checks)
        fill_checks(st, checks);
    r->signal = sig;
    r->return_code = signaled ? -sig : v ? (int)rb_status_number(v, RBZ_ST_EXIT_CODE, 1) : WEXITSTATUS(ws);
    if (v)
        take_report(st, r);

    if (timed_out || f->killed == RB_KILL_OUTPUT) {
        /* runbox's own kills read the same whether the signal landed or the
         * job happened to exit just before it: the verdict must not depend
         * on a race. */
        r->signal = SIGKILL;
        r->return_code = -SIGKILL;
    }
    if (timed_out) {
        r->status = RB_STATUS_TIMEOUT;
        r->timed_out = true;
        snprintf(msg, msglen, "wall time limit of %g s exceeded", l->timeout);
        r->error = msg;
    } else if (output_kill) {
        r->status = RB_STATUS_OUTPUT_LIMIT;
        snprintf(msg, msglen, "%s exceeded the output limit of %ld KB", f->killed_stream,
                 l->output_limit_kb);
        r->error = msg;
    } else if (f->killed == RB_KILL_OUTPUT) {
        /* The verdict (a failure) was out before the flood: it stands, with
         * the code it gave; the truncated streams say the rest. */
        r->status = rb_status_bool(v, RBZ_ST_MEMORY_ERROR) ? RB_STATUS_MEMORY : RB_STATUS_ERROR;
        r->signal = 0;
        r->return_code = (int)rb_status_number(v, RBZ_ST_EXIT_CODE, 1);
    } else if (signaled && sig == SIGSYS) {
        r->status = RB_STATUS_VIOLATION;
        snprintf(msg, msglen, "killed by the sandbox: a forbidden system call (see docs/sandbox.md)");
        r->error = msg;
    } else if (signaled && (sig == SIGXCPU || (sig == SIGKILL && f->cpu_time >= (double)cpu_limit))) {
        r->status = RB_STATUS_TIMEOUT;
        r->timed_out = true;
        snprintf(msg, msglen, "CPU time limit of %ld s exceeded", cpu_limit);
        r->error = msg;
    } else if (st->setup_failed) {
        r->status = RB_STATUS_INTERNAL;
        r->had_unexpected_error = true;
        r->error = rb_status_string(st->setup_failed, RBZ_ST_ERROR);
        if (!r->error) {
            snprintf(msg, msglen, "the worker could not be set up");
            r->error = msg;
        }
    } else if (v && rb_status_bool(v, RBZ_ST_MEMORY_ERROR)) {
        r->status = RB_STATUS_MEMORY;
    } else if (signaled && v && rb_status_bool(v, RBZ_ST_KEYBOARD_INTERRUPT) && sig == SIGINT) {
        r->status = RB_STATUS_ERROR;
    } else if (signaled) {
        if (sig != SIGINT && looks_like_memory_exhaustion(f)) {
            r->status = RB_STATUS_MEMORY;
            snprintf(msg, msglen, "killed by %s after running out of memory (limit %ld MB)",
                     signal_name(sig, name, sizeof name), l->memory_mb);
        } else {
            r->status = RB_STATUS_SIGNAL;
            snprintf(msg, msglen, "killed by %s", signal_name(sig, name, sizeof name));
        }
        r->error = msg;
    } else if (v) {
        r->status = r->return_code == 0 ? RB_STATUS_OK : RB_STATUS_ERROR;
    } else if (first_failed_check(st) >= 0) {
        /* A check's verdict said it failed, and the program ended before its
         * own verdict: that failure stands, whatever the exit code. */
        const cJSON *c = st->checks[first_failed_check(st)];
        r->status = RB_STATUS_ERROR;
        r->return_code = 1;
        r->exception = rb_status_string(c, RBZ_ST_EXCEPTION);
        snprintf(msg, msglen, "check %d failed (%s), then the program ended before its checks finished",
                 first_failed_check(st) + 1, r->exception ? r->exception : "an exception");
        r->error = msg;
    } else {
        int code = WEXITSTATUS(ws);
        r->status = code == 0 ? RB_STATUS_OK : RB_STATUS_ERROR;
        if (code == RBZ_EXIT_CHANNEL_LOST && st->running) {
            snprintf(msg, msglen, "exited with code %d: the program closed, replaced or shut down "
                                  "runbox's status channel, so no outcome was recorded", code);
            r->error = msg;
        } else if (code != 0) {
            snprintf(msg, msglen, "exited with code %d before its main module finished", code);
            r->error = msg;
        }
    }
}
