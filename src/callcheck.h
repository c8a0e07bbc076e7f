/*
 * Judging a function-call test's return value against the expected one, in
 * the supervisor, by the rules of the benchmark it comes from
 * (rb_call_compare in runbox.h; docs/eval.md lists them).
 */
#ifndef RB_CALLCHECK_H
#define RB_CALLCHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "runbox.h"
#include "values.h"

/* What one job's calls share while they are judged in order. */
struct rb_call_judge {
    rb_call_rules rules;
    const char *entry_point; /* the oracles go by it */
    unsigned group;          /* the group of the last call judged */
    double atol;             /* evalplus's atol, which once raised stays raised for its group */
};

void rb_call_judge_init(struct rb_call_judge *j, const rb_call_rules *rules, const char *entry_point);

/* Whether `out` passes for a call with `args` expecting `exp`; when not,
 * `why` says how it differs, for the record. */
bool rb_call_judge_value(struct rb_call_judge *j, unsigned group, const struct rb_value *args,
                         const struct rb_value *out, const struct rb_value *exp, char *why, size_t whylen);

/* The name of a compare mode, as the manifest spells it, and back (-1: unknown). */
const char *rb_call_compare_name(rb_call_compare c);
int rb_call_compare_parse(const char *name);

#endif
