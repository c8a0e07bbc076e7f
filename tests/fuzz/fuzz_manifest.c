/*
 * libFuzzer target: the manifest's line reader and line parser.
 *
 * The input is a manifest. It is fed to rb_line_reader_* in reads of sizes
 * chosen from a hash of the input (some of them failing with EINTR or EAGAIN,
 * as a pipe or a non-blocking fd would), and every line the reader returns
 * goes through rb_manifest_parse_line. Besides ASan and UBSan, it checks:
 *
 *   - the reader returns exactly the input split at '\n' (a last line
 *     without its newline included), with line numbers counting from 1;
 *   - parse_line returns 1, 0 (blank lines only) or -EINVAL;
 *   - an error has a message "line N: ..." and, when it names an id, a
 *     non-empty one of at most 1024 bytes;
 *   - a job has a non-empty id, a program, and every string, array and length
 *     it points to is readable and consistent (ASan checks the reads).
 *
 * Build and run: tests/fuzz/run.sh (see docs/testing.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "fuzz_check.h"

struct feed {
    const uint8_t *data;
    size_t size, pos;
    uint64_t rng;
    int again;     /* EAGAINs returned in a row */
};

static uint64_t next_rand(struct feed *f)
{
    /* xorshift64*: deterministic for a given input, so crashes reproduce. */
    f->rng ^= f->rng >> 12;
    f->rng ^= f->rng << 25;
    f->rng ^= f->rng >> 27;
    return f->rng * 2685821657736338717ULL;
}

static ssize_t feed_read(void *ctx, char *buf, size_t len)
{
    struct feed *f = ctx;
    uint64_t r = next_rand(f);
    if (r % 16 == 0) {
        errno = EINTR;
        return -1;
    }
    if (r % 16 == 1 && f->again < 3) {
        f->again++;
        errno = EAGAIN;
        return -1;
    }
    f->again = 0;
    size_t left = f->size - f->pos;
    size_t n = (size_t)(r >> 8) % 4 == 0 ? len : 1 + (size_t)(r >> 16) % 97;
    if (n > len)
        n = len;
    if (n > left)
        n = left;
    memcpy(buf, f->data + f->pos, n);
    f->pos += n;
    return (ssize_t)n;
}

static void touch(const char *s)
{
    /* strlen reads every byte up to the NUL: ASan reports a bad pointer. */
    CHECK(s != NULL);
    volatile size_t n = strlen(s);
    (void)n;
}

static void check_string_array(const char *const *a, size_t n)
{
    if (n)
        CHECK(a != NULL);
    for (size_t i = 0; i < n; i++)
        touch(a[i]);
}

static void check_job(const struct rb_manifest_job *m)
{
    const rb_job *j = &m->job;
    touch(j->id);
    CHECK(*j->id != '\0');
    CHECK(strlen(j->id) <= 1024);
    touch(j->program);
    CHECK(j->kind == RB_PROGRAM_SOURCE || j->kind == RB_PROGRAM_FILE || j->kind == RB_PROGRAM_MODULE);
    if (j->kind == RB_PROGRAM_FILE)
        CHECK(*j->program != '\0');
    if (j->path)
        touch(j->path);
    if (j->stdin_data) {
        touch(j->stdin_data);
        CHECK(strlen(j->stdin_data) == j->stdin_len);
    } else {
        CHECK(j->stdin_len == 0);
    }
    check_string_array(j->argv, j->argc);
    if (j->package)
        touch(j->package);
    if (j->globals_json)
        touch(j->globals_json);
    check_string_array(j->capture, j->ncapture);
    check_string_array(j->python_path, j->npython_path);
    check_string_array(j->tracked_files, j->ntracked);
    for (size_t i = 0; i < j->nfiles; i++) {
        touch(j->files[i].path);
        touch(j->files[i].data);
        CHECK(strlen(j->files[i].data) == j->files[i].len);
    }
    CHECK(j->limits.timeout >= 0 && j->limits.timeout <= 7 * 24 * 3600.0);
    CHECK(j->limits.cpu_time >= 0 && j->limits.cpu_time <= 7 * 24 * 3600.0);
    CHECK(j->limits.memory_mb >= 0 && j->limits.memory_mb <= 1024L * 1024);
    CHECK(j->limits.output_limit_kb >= 0 && j->limits.output_limit_kb <= 1024L * 1024);
    CHECK(m->ncases == 0 || m->cases != NULL);
    for (size_t i = 0; i < m->ncases; i++) {
        if (m->cases[i].stdin_data)
            CHECK(strlen(m->cases[i].stdin_data) == m->cases[i].stdin_len);
        touch(m->cases[i].expected);
        CHECK(strlen(m->cases[i].expected) == m->cases[i].expected_len);
    }
    CHECK(m->ncommands == 0 || m->commands != NULL);
    for (size_t i = 0; i < m->ncommands; i++) {
        const struct rb_manifest_command *c = &m->commands[i];
        if (c->stdin_data)
            CHECK(strlen(c->stdin_data) == c->stdin_len);
        if (c->argv)
            check_string_array(c->argv, c->argc);
        CHECK(c->timeout >= 0);
    }
    CHECK(!(m->ncommands && m->ncases));
    CHECK(!(m->num_times && m->ncases));
    CHECK(m->num_times >= 0 && m->num_times <= 1000);
}

static void parse_one(const char *line, size_t len, long line_no)
{
    struct rb_manifest_job job;
    struct rb_manifest_error err;
    /* Relative paths resolve against a base dir on odd lines, not on even ones. */
    const char *base_dir = line_no % 2 ? "/srv/manifests" : NULL;
    int rc = rb_manifest_parse_line(line, len, line_no, base_dir, &job, &err);
    CHECK(rc == 1 || rc == 0 || rc == -EINVAL);
    if (rc == 1) {
        check_job(&job);
    } else if (rc == -EINVAL) {
        char prefix[32];
        int n = snprintf(prefix, sizeof prefix, "line %ld: ", line_no);
        CHECK(memchr(err.message, '\0', sizeof err.message) != NULL);
        CHECK(strncmp(err.message, prefix, (size_t)n) == 0);
        CHECK(strlen(err.message) > (size_t)n);
        if (err.id) {
            CHECK(*err.id != '\0');
            CHECK(strlen(err.id) <= 1024);
        }
    } else {
        for (size_t i = 0; i < len; i++)
            CHECK(line[i] == ' ' || line[i] == '\t' || line[i] == '\r');
    }
    rb_manifest_job_free(&job);
    rb_manifest_error_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct feed f = { data, size, 0, 0x9e3779b97f4a7c15ULL, 0 };
    for (size_t i = 0; i < size; i++)
        f.rng = (f.rng ^ data[i]) * 0x100000001b3ULL; /* FNV-style seed */
    if (f.rng == 0)
        f.rng = 1;

    struct rb_line_reader r;
    rb_line_reader_init_fn(&r, feed_read, &f);
    size_t expect_at = 0; /* where the next line must start in the input */
    long lines = 0;
    for (;;) {
        const char *line;
        size_t len;
        int rc = rb_line_reader_next(&r, &line, &len);
        if (rc == -EAGAIN)
            continue; /* a non-blocking source with nothing yet: ask again */
        CHECK(rc == 1 || rc == 0);
        if (rc == 0)
            break;
        lines++;
        CHECK(r.line_no == lines);
        /* The line is the next stretch of the input, up to a newline or the end. */
        CHECK(expect_at + len <= size);
        CHECK(len == 0 || memcmp(line, data + expect_at, len) == 0);
        CHECK(memchr(line, '\n', len) == NULL);
        CHECK(expect_at + len == size || data[expect_at + len] == '\n');
        expect_at += len + (expect_at + len < size ? 1 : 0);
        /* In runbox the line stays in the reader's buffer, where a read past
         * its end goes unnoticed; parse a copy of exactly `len` bytes (not
         * NUL-terminated), where ASan sees any overread. */
        char *copy = malloc(len);
        CHECK(copy != NULL);
        if (len)
            memcpy(copy, line, len);
        parse_one(copy, len, lines);
        free(copy);
    }
    CHECK(expect_at == size);
    rb_line_reader_free(&r);
    return 0;
}
