/*
 * Benchmark problems, in each benchmark's own format (formats.h lists
 * them), and how a sample becomes a program.
 *
 * Every format ends up as one shape: a problem has a prompt (what a
 * `completion` continues), test code (HumanEval's check, MBPP's asserts), or
 * tests of its own: function calls (type-tagged arguments, values.h) or
 * stdin/stdout cases, with their expected values where the dataset gives
 * them. Expected values a format derives from a reference solution
 * (evalplus) are filled in later, by reference.h.
 */
#ifndef RB_PROBLEMS_H
#define RB_PROBLEMS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "formats.h"

/* One function call or one stdin/stdout case. */
struct rb_test {
    const char *input;      /* calls: the tagged argument list; cases: stdin */
    size_t input_len;
    const char *expected;   /* calls: a tagged value; cases: stdout; NULL: not known yet */
    size_t expected_len;
    const char *raw;        /* calls: the arguments as the dataset wrote them (evalplus's
                               eval_results.json repeats them) */
    size_t raw_len;
    double ref_time;        /* seconds the reference took on it (evalplus), or 0 */
    const char *raw_value;  /* the reference's own return value (before MBPP+'s not-None
                               rule), when this run computed it */
};

/* The tests of one kind, run as one job (evalplus: base, then plus). */
struct rb_test_group {
    struct rb_test *tests;
    size_t count;
};

#define RB_MAX_GROUPS 2

struct rb_problem {
    char *task_id;          /* as text ("HumanEval/0", "2", "90001") */
    enum rb_format_id format;
    const char *prompt;     /* what a completion continues, or NULL */
    const char *test;       /* HumanEval */
    const char *entry_point;/* the function the tests call (HumanEval, evalplus, LCB, APPS) */
    const char *canonical;  /* the reference solution, whole program or its body */
    const char **test_list; /* MBPP: one assert each */
    size_t ntests;
    char *test_imports;     /* MBPP: the imports, one per line */
    /* Formats with tests of their own. */
    bool calls;             /* the tests are function calls (else stdin/stdout cases) */
    struct rb_test_group groups[RB_MAX_GROUPS];
    size_t ngroups;
    double atol;            /* evalplus: the task's atol */
    double time_limit;      /* seconds per test the problem asks for, or 0 (CodeContests) */
    const char *compare;    /* a stdin/stdout comparison of its own (plain lists), or NULL */
    const char *pending;    /* LiveCodeBench: private tests still compressed (decoded in a job) */
};

struct rb_problems {
    enum rb_format_id format;
    const struct rb_format *fmt;
    bool named;             /* the format was given (--format), not recognised */
    struct rb_problem *items;
    size_t count;
    cJSON **trees;          /* owns the strings above */
    size_t ntrees;
    void **owned;           /* other memory the problems point into */
    size_t nowned, capowned;
    char md5[33];           /* of the file's (uncompressed) text, as evalplus keys it */
    size_t *index;          /* open-addressing table of item numbers + 1 */
    size_t index_cap;
};

/* Loads a problems file: JSON lines or one JSON array, gzipped or not, in
 * any format of formats.h, recognised by its first record's fields unless
 * `format` names one (NULL: recognise). 0, or -1 with `err` naming the
 * file, the record and the field. */
int rb_problems_load(const char *path, const char *format, struct rb_problems *out, char *err,
                     size_t errlen);
const struct rb_problem *rb_problems_find(const struct rb_problems *p, const char *task_id);
void rb_problems_free(struct rb_problems *p);

/* Keeps `mem` until rb_problems_free: 0, or -ENOMEM (then `mem` is freed). */
int rb_problems_keep(struct rb_problems *p, void *mem);

/* A task_id as text: strings as they are, numbers as integers ("11"). NULL
 * when it is neither. Malloc'd. */
char *rb_task_id_text(const cJSON *v);

/* The program for one sample, built as the reference harnesses build it:
 * HumanEval: prompt + completion + "\n" + test + "\n" + "check(entry_point)"
 *   (a `solution`, as EvalPlus writes, already holds the prompt);
 * MBPP: the imports, the completion, then the asserts, which the caller runs
 *   as checks;
 * the formats with tests of their own: the grader's prelude (its imports),
 *   then the prompt and completion, or the solution (formats.c).
 * Malloc'd. `*test_line` receives the line where the test code starts
 * (HumanEval), so failures can be reported relative to it. */
char *rb_build_program(const struct rb_problem *p, const char *completion, int is_solution,
                       long *test_line);

/* Shared by the format readers (formats.c, format_*.c). */
const char *rb_problem_string(const cJSON *o, const char *key);
int rb_problems_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
