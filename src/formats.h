/*
 * The benchmark formats `runbox eval` reads, as a table: how each is
 * recognised, how its records become problems, how a sample becomes runs,
 * and whose rules judge them. One row per format (formats.c); the readers
 * are in format_*.c, the judging in eval.c and callcheck.c/compare.c.
 */
#ifndef RB_FORMATS_H
#define RB_FORMATS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "compare.h"
#include "runbox.h"

enum rb_format_id {
    RB_FMT_HUMANEVAL,       /* openai/human-eval: program + check() */
    RB_FMT_MBPP,            /* sanitized MBPP: program + asserts */
    RB_FMT_HUMANEVAL_PLUS,  /* EvalPlus HumanEval+ (and Mini): base and plus inputs */
    RB_FMT_MBPP_PLUS,       /* EvalPlus MBPP+ */
    RB_FMT_LIVECODEBENCH,   /* LiveCodeBench code_generation: stdin or functional tests */
    RB_FMT_APPS,            /* APPS input_output: call-based (fn_name) or stdin */
    RB_FMT_TACO,            /* TACO: APPS's records, TACO's grader */
    RB_FMT_CODECONTESTS,    /* DeepMind CodeContests: public, private, generated tests */
    RB_FMT_STDIO,           /* plain problem lists: tests [{input, output}] */
    RB_FMT_COUNT
};

struct rb_problems;
struct rb_problem;

struct rb_format {
    enum rb_format_id id;
    const char *name;         /* --format value, and the name in summaries */
    const char *title;        /* for a person */
    const char *task_key;     /* the field naming a problem in the problems file */
    const char *sample_key;   /* a second field samples may name their task by, or NULL */
    /* Reads one record into `out`; 0 or -1 with `err` filled ("%s:" is `where`). */
    int (*read)(struct rb_problems *ps, const cJSON *rec, const char *text, size_t len,
                struct rb_problem *out, const char *where, char *err, size_t errlen);
    const char *prelude;      /* code before every sample's program: the grader's imports */
    rb_call_compare call_compare; /* how call results are judged */
    enum rb_compare_mode case_compare; /* how stdin/stdout cases are judged */
    double test_timeout;      /* seconds per call or case, the grader's */
    double sample_limit;      /* the grader's limit on a sample's tests together, or 0 */
    bool stop_at_first;       /* the grader stops at a sample's first failing test */
    bool needs_reference;     /* expected values come from the canonical solution */
};

/* The format named `name` (aliases accepted), or NULL. */
const struct rb_format *rb_format_named(const char *name);
const struct rb_format *rb_format_of(enum rb_format_id id);

/* Which format a record is in, by its fields; NULL when none fits. */
const struct rb_format *rb_format_recognise(const cJSON *rec);

/* The names --format takes, for messages. */
const char *rb_format_names(void);

/* Readers, one per family (format_*.c). */
int rb_read_humaneval(struct rb_problems *, const cJSON *, const char *, size_t, struct rb_problem *,
                      const char *, char *, size_t);
int rb_read_mbpp(struct rb_problems *, const cJSON *, const char *, size_t, struct rb_problem *,
                 const char *, char *, size_t);
int rb_read_evalplus(struct rb_problems *, const cJSON *, const char *, size_t, struct rb_problem *,
                     const char *, char *, size_t);
int rb_read_livecodebench(struct rb_problems *, const cJSON *, const char *, size_t, struct rb_problem *,
                          const char *, char *, size_t);
int rb_read_apps(struct rb_problems *, const cJSON *, const char *, size_t, struct rb_problem *,
                 const char *, char *, size_t);
int rb_read_codecontests(struct rb_problems *, const cJSON *, const char *, size_t, struct rb_problem *,
                         const char *, char *, size_t);
int rb_read_stdio(struct rb_problems *, const cJSON *, const char *, size_t, struct rb_problem *,
                  const char *, char *, size_t);

/* LiveCodeBench: adds the tests of the JSON list `json` to the problem
 * (its private tests, once a job has decoded them). */
int rb_lcb_add_tests(struct rb_problems *ps, struct rb_problem *pr, const char *json, size_t len, char *err,
                     size_t errlen);

/* The preludes of the graders, verbatim (formats.c). */
extern const char RB_LCB_IMPORTS[];
extern const char RB_APPS_IMPORTS[];

#endif
