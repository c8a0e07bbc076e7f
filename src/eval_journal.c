/*
 * The journal of an evaluation (evalrun.h).
 *
 * Crash safety: each sample's line goes to a journal (<results>.partial) the
 * moment it is graded, in completion order, tagged with its sample index.
 * When every sample has its line, the journal is rewritten in the samples'
 * order into the results file and removed. `--resume` reads the journal,
 * drops a torn last line, and grades only what is missing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "evalrun.h"
#include "idset.h"
#include "results.h"

const char *eval_sample_code(const cJSON *sample, int *is_solution)
{
    const char *completion = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sample, "completion"));
    const char *solution = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sample, "solution"));
    *is_solution = !completion && solution;
    return completion ? completion : solution;
}

/* What identifies a graded sample across a resume: its task and its code. */
uint64_t eval_sample_hash(const char *task_id, const char *code)
{
    size_t a = strlen(task_id), b = strlen(code);
    char *buf = malloc(a + b + 1);
    if (!buf)
        return 1;
    memcpy(buf, task_id, a);
    buf[a] = '\0';
    memcpy(buf + a + 1, code, b);
    uint64_t h = rb_id_hash(buf, a + b + 1) | 1;
    free(buf);
    return h;
}

int eval_mark_done(struct eval_state *st, long index, uint64_t hash)
{
    if ((size_t)index >= st->done_cap) {
        size_t cap = st->done_cap ? st->done_cap : 1024;
        while (cap <= (size_t)index)
            cap *= 2;
        uint64_t *d = realloc(st->done, cap * sizeof *d);
        if (!d)
            return -ENOMEM;
        memset(d + st->done_cap, 0, (cap - st->done_cap) * sizeof *d);
        st->done = d;
        st->done_cap = cap;
    }
    st->done[index] = hash;
    return 0;
}

uint64_t eval_done_hash(const struct eval_state *st, long index)
{
    return (size_t)index < st->done_cap ? st->done[index] : 0;
}

void eval_journal_write(struct eval_state *st, long index, cJSON *line)
{
    if (st->write_error)
        return;
    /* The index goes first so the final ordering can read it cheaply. */
    cJSON *tagged = cJSON_CreateObject();
    cJSON_AddNumberToObject(tagged, "sample_index", (double)index);
    for (cJSON *item = line->child; item;) {
        cJSON *next = item->next;
        cJSON_DetachItemViaPointer(line, item);
        cJSON_AddItemToObject(tagged, item->string, item);
        item = next;
    }
    int rc = rb_record_write(st->journal.fd, tagged);
    if (rc < 0)
        st->write_error = rc;
    cJSON_Delete(tagged);
}

static long journal_index(const char *line, size_t len)
{
    static const char prefix[] = "{\"sample_index\":";
    if (len < sizeof prefix || memcmp(line, prefix, sizeof prefix - 1) != 0)
        return -1;
    char *end;
    long v = strtol(line + sizeof prefix - 1, &end, 10);
    return end > line + sizeof prefix - 1 && v >= 0 ? v : -1;
}

/* A line of the journal being resumed: its sample is graded. A line that is
 * not ours stops the trust in the file there. */
static int journal_line(void *ctx, const char *line, size_t len)
{
    struct eval_state *st = ctx;
    cJSON *rec = rb_record_parse(line, len);
    long index = journal_index(line, len);
    if (!rec || index < 0) {
        cJSON_Delete(rec);
        return 1;
    }
    int is_solution;
    char *task = rb_task_id_text(cJSON_GetObjectItemCaseSensitive(rec, "task_id"));
    const char *code = eval_sample_code(rec, &is_solution);
    int rc = eval_mark_done(st, index, eval_sample_hash(task ? task : "", code ? code : ""));
    cJSON_Delete(rec);
    free(task);
    if (rc == 0)
        st->progress.skipped++;
    return rc;
}

int eval_open_journal(struct eval_state *st)
{
    /* 0600: the journal holds every graded sample, read by no job. */
    return rb_results_open(&st->journal, st->journal_path, true, false, st->opt.common.quiet,
                           st->opt.common.resume ? journal_line : NULL, st);
}

int eval_tally_file(const char *path, struct rb_tally *tally, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open results file '%s': %s", path, strerror(errno));
        return -1;
    }
    struct rb_line_reader r;
    rb_line_reader_init(&r, fd);
    const char *line;
    size_t len;
    int rc;
    while ((rc = rb_line_reader_next(&r, &line, &len)) == 1) {
        if (rb_line_is_blank(line, len))
            continue;
        cJSON *rec = rb_record_parse(line, len);
        if (rec)
            rb_tally_line(tally, rec);
        cJSON_Delete(rec);
    }
    rb_line_reader_free(&r);
    close(fd);
    if (rc < 0) {
        snprintf(err, errlen, "reading '%s': %s", path, strerror(-rc));
        return -1;
    }
    if (tally->table.count == 0) {
        snprintf(err, errlen, "results file '%s' holds no graded samples", path);
        return -1;
    }
    return 0;
}

/* ---- the ordered results file ----------------------------------------------------- */

struct journal_entry {
    long index;
    off_t offset;
    size_t len;
};

static int by_index(const void *a, const void *b)
{
    const struct journal_entry *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* The n-th sample index the results file must hold. */
static long expected_index(const struct eval_state *st, long n)
{
    return st->opt.common.shard.count ? st->mine[n] : n;
}

/* Where each graded line is in the journal, in sample order. */
static struct journal_entry *journal_entries(struct eval_state *st, long total, size_t *n)
{
    struct journal_entry *entries = calloc((size_t)total + 1, sizeof *entries);
    *n = 0;
    if (!entries || lseek(st->journal.fd, 0, SEEK_SET) < 0) {
        free(entries);
        return NULL;
    }
    struct rb_line_reader r;
    rb_line_reader_init(&r, st->journal.fd);
    const char *line;
    size_t len;
    off_t offset = 0;
    while (rb_line_reader_next(&r, &line, &len) == 1) {
        long index = journal_index(line, len);
        if (index >= 0 && index < total && *n < (size_t)total)
            entries[(*n)++] = (struct journal_entry){ index, offset, len };
        offset += (off_t)len + 1;
    }
    rb_line_reader_free(&r);
    qsort(entries, *n, sizeof *entries, by_index);
    return entries;
}

/* Copies the entries in order to `out`, tallying: 0, -ENODATA when a
 * sample has no line, or another -errno. */
static int write_ordered(struct eval_state *st, const struct journal_entry *entries, size_t n, long total,
                         int out, struct rb_tally *tally)
{
    long want = st->opt.common.shard.count ? (long)st->nmine : total;
    long expect = 0; /* how many expected indexes are written */
    char *buf = NULL;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (expect > 0 && entries[i].index <= expected_index(st, expect - 1))
            continue; /* graded twice (cannot happen after a clean resume); the first stands */
        if (expect == want || entries[i].index != expected_index(st, expect)) {
            rc = -ENODATA;
            break;
        }
        expect++;
        char *grown = realloc(buf, entries[i].len + 1);
        if (!grown) {
            rc = -ENOMEM;
            break;
        }
        buf = grown;
        if (pread(st->journal.fd, buf, entries[i].len, entries[i].offset) != (ssize_t)entries[i].len) {
            rc = -EIO;
            break;
        }
        cJSON *rec = rb_record_parse(buf, entries[i].len);
        if (!rec) {
            rc = -EINVAL;
            break;
        }
        /* A shard's file keeps the index, which runbox merge puts in order by. */
        if (!st->opt.common.shard.count)
            cJSON_DeleteItemFromObjectCaseSensitive(rec, "sample_index");
        rb_tally_line(tally, rec);
        rc = rb_record_write(out, rec);
        cJSON_Delete(rec);
    }
    free(buf);
    if (rc == 0 && expect != want)
        rc = -ENODATA;
    return rc;
}

int eval_finalize(struct eval_state *st, long total, struct rb_tally *tally)
{
    size_t n;
    struct journal_entry *entries = journal_entries(st, total, &n);
    if (!entries)
        return -ENOMEM;
    char *tmp;
    if (asprintf(&tmp, "%s.tmp", st->results_path) < 0) {
        free(entries);
        return -ENOMEM;
    }
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600); /* see rb_results_open */
    int rc = out < 0 ? -errno : write_ordered(st, entries, n, total, out, tally);
    free(entries);
    if (out >= 0 && close(out) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, st->results_path) < 0)
        rc = -errno;
    if (rc == 0)
        unlink(st->journal_path);
    else
        unlink(tmp);
    free(tmp);
    return rc;
}
