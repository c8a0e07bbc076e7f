/*
 * Comparing a program's output with the expected one (stdin/stdout cases),
 * in the supervisor. Each way of comparing is a row of a table (compare.c):
 * its name in manifests, what it does, and which ways a program may end
 * and still be judged by its output (the benchmarks' graders differ there
 * too: LiveCodeBench and APPS catch SystemExit, CodeContests looks at the
 * output whatever the exit).
 */
#ifndef RB_COMPARE_H
#define RB_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

#include "runbox.h"

enum rb_compare_mode {
    RB_COMPARE_WHITESPACE = 0, /* tokens: the same whitespace-separated tokens (the default) */
    RB_COMPARE_EXACT,          /* the same bytes */
    RB_COMPARE_LINES,          /* line by line, trailing whitespace and trailing blank lines ignored */
    RB_COMPARE_NOCASE,         /* tokens, ASCII letters compared without case */
    RB_COMPARE_FLOATS,         /* DMOJ's floats: line by line, numbers within a tolerance */
    RB_COMPARE_UNORDERED_LINES,/* the same lines in any order (trailing whitespace, blank lines ignored) */
    RB_COMPARE_LIVECODEBENCH,  /* LiveCodeBench: stripped lines, then Decimal tokens */
    RB_COMPARE_APPS,           /* APPS's cascade (testing_util.run_test) */
    RB_COMPARE_TACO,           /* TACO's compare_std_results on the raw output */
    RB_COMPARE_CODECONTESTS,   /* CodeContests' OutputsMatch: tokens, no case, numbers within 1e-5 */
    RB_COMPARE_MODES
};

/* Which ends of a program still have their output judged. */
enum rb_case_end {
    RB_END_EXIT_ZERO,   /* exit status 0 (ok) only */
    RB_END_SYSTEM_EXIT, /* also SystemExit with any code, which the grader catches */
    RB_END_ANY,         /* any end at all: the output alone decides */
};

struct rb_compare {
    enum rb_compare_mode mode;
    double float_tolerance;    /* < 0: none given (whitespace: numbers as text; floats: 1e-6) */
};

struct rb_compare_info {
    const char *name;          /* in manifests ("compare": ...) */
    enum rb_compare_mode mode;
    enum rb_case_end ends;
    bool tolerance;            /* takes float_tolerance */
};

/* The row named `name` (aliases: "tokens" for "whitespace"), or NULL. */
const struct rb_compare_info *rb_compare_named(const char *name);
const struct rb_compare_info *rb_compare_info_of(enum rb_compare_mode mode);
/* "exact", "whitespace", ...: the names, for messages. */
const char *rb_compare_names(void);

/* Whether `got` matches `want` under `how`. With whitespace and a float
 * tolerance, two tokens that both read as finite numbers match when
 * |got - want| <= tolerance * max(1, |want|). */
bool rb_output_matches(const struct rb_compare *how, const char *got, size_t got_len,
                       const char *want, size_t want_len);

/* Whether a case that ended with `status` (and the worker's `outcome`,
 * rb_result's: "exit" for a SystemExit) has its output judged under `mode`. */
bool rb_case_end_judged(enum rb_compare_mode mode, rb_status status, const char *outcome);

#endif
