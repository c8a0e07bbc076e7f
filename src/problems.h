/* Benchmark problems (HumanEval, MBPP) and how a sample becomes a program. */
#ifndef RB_PROBLEMS_H
#define RB_PROBLEMS_H

#include <cjson/cJSON.h>
#include <stddef.h>

enum rb_problem_kind { RB_HUMANEVAL, RB_MBPP };

struct rb_problem {
    char *task_id;          /* the task_id as text ("HumanEval/0", "2") */
    enum rb_problem_kind kind;
    const char *prompt;     /* HumanEval */
    const char *test;       /* HumanEval */
    const char *entry_point;/* HumanEval */
    const char *canonical;  /* HumanEval canonical_solution, MBPP code */
    const char **test_list; /* MBPP: one assert each */
    size_t ntests;
    char *test_imports;     /* MBPP: the imports, one per line */
};

struct rb_problems {
    enum rb_problem_kind kind;
    struct rb_problem *items;
    size_t count;
    cJSON **trees;          /* owns the strings above */
    size_t ntrees;
    size_t *index;          /* open-addressing table of item numbers + 1 */
    size_t index_cap;
};

/* Loads a problems file: HumanEval (.jsonl, or .jsonl.gz) or MBPP (a JSON
 * array, or JSON lines), told apart by their fields. 0, or -1 with `err`
 * naming the file, the record and the field. */
int rb_problems_load(const char *path, struct rb_problems *out, char *err, size_t errlen);
const struct rb_problem *rb_problems_find(const struct rb_problems *p, const char *task_id);
void rb_problems_free(struct rb_problems *p);

/* A task_id as text: strings as they are, numbers as integers ("11"). NULL
 * when it is neither. Malloc'd. */
char *rb_task_id_text(const cJSON *v);

/* The program for one sample, built as the reference harnesses build it:
 * HumanEval: prompt + completion + "\n" + test + "\n" + "check(entry_point)"
 *   (a `solution`, as EvalPlus writes, already holds the prompt);
 * MBPP: the imports, the completion, then the asserts, which the caller runs
 *   as checks. Malloc'd. `*test_line` receives the line where the test code
 *   starts (HumanEval), so failures can be reported relative to it. */
char *rb_build_program(const struct rb_problem *p, const char *completion, int is_solution,
                       long *test_line);

#endif
