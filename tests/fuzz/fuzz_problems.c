/*
 * libFuzzer target: loading a problems file (src/problems.c) and building
 * each problem's program from it.
 *
 * The input is the file's content. It is written to a memfd that
 * rb_problems_load reads by path (/proc/self/fd/N), so the real reader runs:
 * gzread, which takes plain text as it is and inflates input that starts with
 * the gzip magic; then the JSON array or JSON lines branch; then the task_id
 * index. Besides ASan and UBSan, it checks:
 *
 *   - the load returns 0 or -1; -1 with a message and nothing left allocated
 *     (LeakSanitizer sees the rest), 0 with at least one problem;
 *   - every problem has a task_id, the file's format and that format's
 *     fields (HumanEval's prompt, test and entry point; MBPP's asserts;
 *     every other format's tests, each with its input);
 *   - rb_problems_find finds every problem by its task_id, as itself;
 *   - rb_build_program gives a program that starts as the harness says
 *     (the prompt, or the imports) and, for HumanEval, ends with
 *     check(entry_point), with the test's first line inside it; for the
 *     other formats, a program.
 *
 * Build and run: docs/testing.md (meson -Dfuzz=true, suite "fuzz").
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "problems.h"
#include "fuzz_check.h"

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static long count_newlines(const char *s, size_t n)
{
    long lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += s[i] == '\n';
    return lines;
}

static void check_program(const struct rb_problem *p)
{
    static const char completion[] = "    return 1\n";
    long test_line = -1;
    char *prog = rb_build_program(p, completion, 0, &test_line);
    CHECK(prog != NULL);
    if (p->format == RB_FMT_HUMANEVAL) {
        CHECK(starts_with(prog, p->prompt));
        char tail[1100];
        snprintf(tail, sizeof tail, "check(%s)", p->entry_point);
        if (strlen(p->entry_point) < 1000)
            CHECK(ends_with(prog, tail));
        /* The test starts on the line after prompt + completion + "\n". */
        size_t head = strlen(p->prompt) + strlen(completion) + 1;
        CHECK(test_line == count_newlines(prog, head) + 1);
    } else if (p->format == RB_FMT_MBPP) {
        CHECK(starts_with(prog, p->test_imports));
        CHECK(test_line >= 1);
    }
    free(prog);

    /* A sample that is a whole solution (EvalPlus) leaves the prompt out. */
    prog = rb_build_program(p, completion, 1, NULL);
    CHECK(prog != NULL);
    if (p->format == RB_FMT_HUMANEVAL)
        CHECK(starts_with(prog, completion));
    free(prog);
}

static void check_problems(const struct rb_problems *ps)
{
    CHECK(ps->count > 0);
    CHECK(ps->items != NULL);
    for (size_t i = 0; i < ps->count; i++) {
        const struct rb_problem *p = &ps->items[i];
        CHECK(p->task_id != NULL);
        CHECK(p->format == ps->format);
        if (p->format == RB_FMT_HUMANEVAL) {
            CHECK(p->prompt && p->test && p->entry_point);
        } else if (p->format == RB_FMT_MBPP) {
            CHECK(p->ntests > 0 && p->test_list != NULL);
            for (size_t k = 0; k < p->ntests; k++)
                CHECK(p->test_list[k] != NULL);
            CHECK(p->test_imports != NULL);
        } else {
            CHECK(p->ngroups <= RB_MAX_GROUPS);
            for (size_t g = 0; g < p->ngroups; g++)
                for (size_t k = 0; k < p->groups[g].count; k++)
                    CHECK(p->groups[g].tests[k].input != NULL);
            CHECK(!p->calls || p->entry_point != NULL);
        }
        CHECK(rb_problems_find(ps, p->task_id) == p);
        check_program(p);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("problems", MFD_CLOEXEC);
        CHECK(fd >= 0);
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    CHECK(ftruncate(fd, 0) == 0);
    CHECK(pwrite(fd, data, size, 0) == (ssize_t)size);

    struct rb_problems ps;
    char err[512];
    err[0] = '\0';
    int rc = rb_problems_load(path, NULL, &ps, err, sizeof err);
    CHECK(rc == 0 || rc == -1);
    if (rc == 0) {
        check_problems(&ps);
        rb_problems_free(&ps);
    } else {
        CHECK(err[0] != '\0');
        CHECK(memchr(err, '\0', sizeof err) != NULL);
        CHECK(ps.count == 0 && ps.items == NULL && ps.trees == NULL && ps.index == NULL);
    }
    return 0;
}
