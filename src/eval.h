/* Grading: from a sample's run to the verdict the reference harnesses give. */
#ifndef RB_EVAL_H
#define RB_EVAL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

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

/* A sample passes only when the program's main module and every check ran to
 * their end, as the worker's authenticated record says: an early exit
 * (sys.exit, os._exit, SystemExit raised inside check), an exit handler
 * rewriting the exit code, closed stdout or a printed success marker all
 * fail. `test_line` is the program line where the test code starts
 * (HumanEval), so a failing assert is located within the test. */
void rb_eval_verdict(enum rb_problem_kind kind, const rb_result *r, long test_line,
                     struct rb_verdict *v);

/* The timing rule: rerun once a sample that hit the wall limit while using
 * less than RB_RERUN_CPU_SHARE of it in CPU. */
bool rb_eval_should_rerun(const rb_result *r, double timeout);

/* The results line of a sample: the sample's own fields in their order, then
 * `result` and `passed` (replacing any the sample had, as the reference
 * harness does), then runbox's record fields, `tests` for MBPP, and `rerun`
 * when the timing rule applied. New tree, owned by the caller. */
cJSON *rb_eval_record(const cJSON *sample, const rb_result *r, const struct rb_verdict *v,
                      const cJSON *rerun);

#endif
