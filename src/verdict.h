/*
 * The verdict: a job's status from what is known of its run, in a fixed
 * order of precedence (verdict.c says which).
 */
#ifndef RB_VERDICT_H
#define RB_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jobspec.h"
#include "runbox.h"
#include "status.h"

enum rb_kill_reason { RB_KILL_NONE = 0, RB_KILL_TIMEOUT, RB_KILL_OUTPUT };

/* What the supervisor saw of one run, beside what the worker said. */
struct rb_run_facts {
    const rb_limits *limits;
    int wait_status;             /* as from wait4 */
    enum rb_kill_reason killed;  /* runbox's own kill, if any */
    const char *killed_stream;   /* "stdout" or "stderr" for an output kill */
    bool killed_after_verdict;   /* the output kill came after the worker's verdict */
    int64_t end_ns, deadline_ns;
    double cpu_time;
    long max_rss_kb;
    const char *stderr_data;
    size_t stderr_len;
};

/* Fills the status and every field the verdict decides: return_code,
 * signal, timed_out, error (pointing into `msg` or the status messages),
 * error_detail, doc, exception, error_line, completed, namespace,
 * had_unexpected_error. `checks` (st->nchecks entries) receives the checks'
 * results, pointing into the status messages. */
void rb_verdict_decide(const struct rb_run_facts *f, const struct rb_status_reader *st,
                       rb_result *r, rb_check_result *checks, char *msg, size_t msglen);

/* The function-call tests' results: each as the worker reported it, judged
 * against its expected value (callcheck.c). out[i].value points into
 * texts[i] (malloc'd, NULL where there is none), which the caller frees
 * once the result is delivered. */
void rb_verdict_calls(const struct rb_pool_job *job, const struct rb_status_reader *st, rb_call_result *out,
                      char **texts);

#endif
