/*
 * Grading: from a sample's runs to the verdict each benchmark's own grader
 * gives, and the results line that says so. Pure functions of results and
 * records, so every rule is tested on its own (tests/test_eval.c).
 */
#ifndef RB_EVAL_H
#define RB_EVAL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "formats.h"
#include "problems.h"
#include "runbox.h"

/* The share of the wall limit under which a timed-out sample counts as a
 * victim of a busy machine and runs once more: CPU time below half the
 * timeout means the program spent most of its time waiting, not computing. */
#define RB_RERUN_CPU_SHARE 0.5

struct rb_verdict {
    bool passed;
    bool timed_out;
    char result[1024]; /* "passed", "timed out", "failed: <Type: message>" */
};

/* HumanEval and MBPP: a sample passes only when the program's main module
 * and every check ran to their end, as the worker's authenticated record
 * says: an early exit (sys.exit, os._exit, SystemExit raised inside check),
 * an exit handler rewriting the exit code, closed stdout or a printed
 * success marker all fail. `test_line` is the program line where the test
 * code starts (HumanEval), so a failing assert is located within the test. */
void rb_eval_verdict(enum rb_format_id format, const rb_result *r, long test_line, struct rb_verdict *v);

/* The timing rule: rerun once a sample that hit the wall limit while using
 * less than RB_RERUN_CPU_SHARE of it in CPU, or one whose call ran out of
 * its own time limit while the job as a whole spent less than that share of
 * its wall time computing. */
bool rb_eval_should_rerun(const rb_result *r, double timeout);

/* ---- function calls ------------------------------------------------------------- */

/* evalplus's status for one kind of inputs (base or plus), from the run
 * that called them (evalplus/eval/__init__.py, untrusted_check):
 *   "fail"     the module raised (SystemExit too), or a call returned a wrong
 *              value, raised, or ran past its time limit;
 *   "timeout"  the process ended, or was killed, before its verdict: a
 *              module-level endless loop, os._exit anywhere, a call that
 *              swallowed its alarm until the whole run's limit;
 *   "pass"     every input's call passed.
 * `fail` gets the failing inputs as evalplus reports them: the last input
 * it tried (fast check), or every failing one (`all_tests`, its
 * --test_details), none on a pass or when no call finished. `deciding`: the
 * call that decided, or -1. */
struct rb_evalplus_status {
    const char *status;
    long fail[64];
    size_t nfail;        /* at most 64 are kept; `fail_count` says how many there were */
    size_t fail_count;
    long deciding;
};
void rb_evalplus_status(const rb_result *r, bool all_tests, struct rb_evalplus_status *st);

/* A run of function calls judged as LiveCodeBench and APPS do: passed when
 * the module ran and every call passed; the result names the first call
 * that did not. `what` names the tests in the result ("test", "base input"). */
void rb_calls_verdict(const rb_result *r, const char *what, struct rb_verdict *v);

/* The words for one call's failure: "wrong answer", "ZeroDivisionError: ...",
 * "ran past its time limit of 4 s". */
void rb_call_failure_text(const rb_result *r, size_t i, char *out, size_t len);

/* ---- stdin/stdout cases ------------------------------------------------------------ */

/* From a record with cases (multirun.c): passed when every case passed and,
 * when `sample_limit` > 0, their runtimes together stayed within it (APPS
 * kills a sample's process after 11 s). */
void rb_cases_verdict(const cJSON *record, double sample_limit, struct rb_verdict *v);

/* ---- results lines ---------------------------------------------------------------- */

/* The results line of a sample: the sample's own fields in their order, then
 * `result` and `passed` (replacing any the sample had, as the reference
 * harness does). New tree, owned by the caller. */
cJSON *rb_eval_line(const cJSON *sample, const struct rb_verdict *v);

/* Adds a run's record to a line: every field but the id at the top level
 * (`key` NULL), or the record without its id under `key`. Takes `record`. */
void rb_eval_add_record(cJSON *line, cJSON *record, const char *key);

/* MBPP: one {"passed", "result"} per assert, in test_list order. */
cJSON *rb_eval_tests_array(const rb_result *r);

/* The whole line of a HumanEval or MBPP sample, as eval has always written
 * it: rb_eval_line, the record, `tests` for MBPP, `rerun` when the timing
 * rule applied. */
cJSON *rb_eval_record(const cJSON *sample, const rb_result *r, const struct rb_verdict *v,
                      const cJSON *rerun);

#endif
