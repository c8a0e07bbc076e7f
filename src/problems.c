/*
 * Problems files (problems.h): read whole (they are small next to what
 * grading them costs), split into records, each record read by its
 * format's reader (formats.h). HumanEval's and MBPP's readers are here;
 * the others are in format_*.c.
 */
#define _GNU_SOURCE
#include "problems.h"

#include <errno.h>
#include <math.h>
#include <nettle/md5.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "idset.h"
#include "jsontext.h"
#include "lines.h"
#include "util.h"

int rb_problems_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

#define fail rb_problems_fail

/* gzread reads plain files as they are, so one reader serves .gz and not. */
/* The hex MD5 of the text, evalplus's name for a dataset (its caches and
 * eval_results.json's "hash"). */
static void md5_hex(const char *text, size_t len, char hex[33])
{
    struct md5_ctx ctx;
    uint8_t digest[MD5_DIGEST_SIZE];
    md5_init(&ctx);
    md5_update(&ctx, len, (const uint8_t *)text);
    md5_digest(&ctx, sizeof digest, digest);
    for (size_t i = 0; i < sizeof digest; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

static int read_whole(const char *path, struct rb_buf *out, char *err, size_t errlen)
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        return fail(err, errlen, "cannot open problems file '%s': %s", path,
                    errno ? strerror(errno) : "out of memory");
    char chunk[1 << 16];
    int n;
    while ((n = gzread(f, chunk, sizeof chunk)) > 0) {
        if (rb_buf_append(out, chunk, (size_t)n) < 0) {
            gzclose(f);
            return fail(err, errlen, "out of memory reading '%s'", path);
        }
    }
    /* A stream cut short reads as its end, with Z_BUF_ERROR left behind. */
    int errnum = Z_OK;
    const char *msg = gzerror(f, &errnum);
    if (n < 0 || errnum == Z_BUF_ERROR) {
        if (errnum == Z_BUF_ERROR)
            msg = "the gzip data is cut short";
        fail(err, errlen, "cannot read problems file '%s': %s", path, msg);
        gzclose(f);
        return -1;
    }
    gzclose(f);
    return 0;
}

char *rb_task_id_text(const cJSON *v)
{
    if (cJSON_IsString(v))
        return strdup(v->valuestring);
    if (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 1e15) {
        char buf[32];
        snprintf(buf, sizeof buf, "%.0f", v->valuedouble);
        return strdup(buf);
    }
    return NULL;
}

const char *rb_problem_string(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

int rb_problems_keep(struct rb_problems *p, void *mem)
{
    if (!mem)
        return -ENOMEM;
    if (p->nowned == p->capowned) {
        size_t cap = p->capowned ? p->capowned * 2 : 64;
        void **o = realloc(p->owned, cap * sizeof *o);
        if (!o) {
            free(mem);
            return -ENOMEM;
        }
        p->owned = o;
        p->capowned = cap;
    }
    p->owned[p->nowned++] = mem;
    return 0;
}

/* ---- HumanEval and MBPP ------------------------------------------------------------ */

int rb_read_humaneval(struct rb_problems *ps, const cJSON *o, const char *text, size_t len,
                      struct rb_problem *pr, const char *where, char *err, size_t errlen)
{
    (void)ps, (void)text, (void)len;
    static const char *const fields[] = { "prompt", "test", "entry_point" };
    for (size_t i = 0; i < 3; i++)
        if (!rb_problem_string(o, fields[i]))
            return fail(err, errlen, "%s: field '%s' must be a string", where, fields[i]);
    pr->prompt = rb_problem_string(o, "prompt");
    pr->test = rb_problem_string(o, "test");
    pr->entry_point = rb_problem_string(o, "entry_point");
    pr->canonical = rb_problem_string(o, "canonical_solution");
    return 0;
}

int rb_read_mbpp(struct rb_problems *ps, const cJSON *o, const char *text, size_t len, struct rb_problem *pr,
                 const char *where, char *err, size_t errlen)
{
    (void)ps, (void)text, (void)len;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "test_list");
    const cJSON *imports = cJSON_GetObjectItemCaseSensitive(o, "test_imports");
    bool ok = cJSON_IsArray(list) && cJSON_GetArraySize(list) > 0 && (!imports || cJSON_IsArray(imports));
    const cJSON *it;
    cJSON_ArrayForEach(it, list) ok = ok && cJSON_IsString(it);
    if (imports)
        cJSON_ArrayForEach(it, imports) ok = ok && cJSON_IsString(it);
    if (!ok)
        return fail(err, errlen,
                    "%s: field 'test_list' must be a non-empty array of strings, and "
                    "'test_imports' an array of strings", where);
    pr->ntests = (size_t)cJSON_GetArraySize(list);
    pr->test_list = calloc(pr->ntests, sizeof *pr->test_list);
    if (!pr->test_list)
        return fail(err, errlen, "%s: out of memory", where);
    struct rb_buf imp = { 0 };
    size_t i = 0;
    cJSON_ArrayForEach(it, list) pr->test_list[i++] = it->valuestring;
    if (imports)
        cJSON_ArrayForEach(it, imports) {
            rb_buf_append_str(&imp, it->valuestring);
            rb_buf_append_str(&imp, "\n");
        }
    pr->test_imports = imp.data ? imp.data : strdup("");
    pr->canonical = rb_problem_string(o, "code");
    return 0;
}

/* ---- records ---------------------------------------------------------------------- */

/* Python's json writes NaN, Infinity and -Infinity, which cJSON refuses: a
 * copy of the record with each of them outside strings as null, for the
 * fields read through cJSON (numbers that matter are read from the text
 * itself, jsontext.h). NULL when the record has none (or on no memory). */
static char *without_nonfinite(const char *s, size_t len)
{
    if (!memmem(s, len, "NaN", 3) && !memmem(s, len, "Infinity", 8))
        return NULL;
    /* "NaN" becomes "null": at most 4 bytes for every 3. */
    char *out = malloc(len + len / 3 + 2);
    size_t k = 0;
    bool in_string = false;
    for (size_t i = 0; out && i < len; i++) {
        char c = s[i];
        if (in_string) {
            out[k++] = c;
            if (c == '\\' && i + 1 < len)
                out[k++] = s[++i];
            else if (c == '"')
                in_string = false;
            continue;
        }
        static const char *const WORDS[] = { "-Infinity", "Infinity", "NaN" };
        bool replaced = false;
        for (size_t w = 0; w < 3 && !replaced; w++) {
            size_t n = strlen(WORDS[w]);
            if (len - i >= n && memcmp(s + i, WORDS[w], n) == 0) {
                memcpy(out + k, "null", 4);
                k += 4;
                i += n - 1;
                replaced = true;
            }
        }
        if (!replaced) {
            in_string = c == '"';
            out[k++] = c;
        }
    }
    if (out)
        out[k] = '\0';
    return out;
}

static int take_record(struct rb_problems *p, const char *text, size_t len, const char *where, char *err,
                       size_t errlen)
{
    char *clean = without_nonfinite(text, len);
    cJSON *o = cJSON_ParseWithLength(clean ? clean : text, clean ? strlen(clean) : len);
    free(clean);
    if (!o)
        return fail(err, errlen, "%s: not valid JSON", where);
    p->trees[p->ntrees++] = o;
    if (!cJSON_IsObject(o))
        return fail(err, errlen, "%s: a problem must be a JSON object", where);
    const struct rb_format *seen = p->named ? NULL : rb_format_recognise(o);
    if (!p->fmt && !(p->fmt = seen))
        return fail(err, errlen,
                    "%s: not a problem of a format runbox knows by its fields (%s); name it with --format",
                    where, rb_format_names());
    if (seen && seen != p->fmt)
        return fail(err, errlen, "%s: %s and %s problems mixed in one file", where, p->fmt->title, seen->title);
    p->format = p->fmt->id;
    struct rb_problem *pr = &p->items[p->count];
    memset(pr, 0, sizeof *pr);
    pr->format = p->format;
    pr->task_id = rb_task_id_text(cJSON_GetObjectItemCaseSensitive(o, p->fmt->task_key));
    if (!pr->task_id && p->format == RB_FMT_TACO) {
        /* TACO's records have no id: a problem is its place in the file. */
        char n[32];
        snprintf(n, sizeof n, "%zu", p->count);
        pr->task_id = strdup(n);
    }
    if (!pr->task_id)
        return fail(err, errlen, "%s: field '%s' is missing or not a string or integer", where, p->fmt->task_key);
    if (p->fmt->read(p, o, text, len, pr, where, err, errlen) < 0) {
        free(pr->task_id);
        free(pr->test_list);
        free(pr->test_imports);
        return -1;
    }
    p->count++;
    return 0;
}

/* One JSON array of records (sanitized MBPP ships this way), each record
 * read from its own text. */
static int take_array(struct rb_problems *p, const char *s, size_t len, const char *path, char *err,
                      size_t errlen)
{
    struct rb_json_iter it;
    const char *item;
    size_t item_len, n = 0;
    int rc;
    if (rb_json_array(&it, s, len) < 0)
        return fail(err, errlen, "problems file '%s' is not a valid JSON array", path);
    while ((rc = rb_json_next(&it, NULL, NULL, &item, &item_len)) == 1)
        n++;
    if (rc < 0)
        return fail(err, errlen, "problems file '%s' is not a valid JSON array", path);
    p->trees = calloc(n + 1, sizeof *p->trees);
    p->items = calloc(n + 1, sizeof *p->items);
    if (!p->trees || !p->items)
        return fail(err, errlen, "problems file '%s': out of memory", path);
    rb_json_array(&it, s, len);
    char where[600];
    for (size_t i = 0; rb_json_next(&it, NULL, NULL, &item, &item_len) == 1; i++) {
        snprintf(where, sizeof where, "%s, problem %zu", path, i);
        if (take_record(p, item, item_len, where, err, errlen) < 0)
            return -1;
    }
    return 0;
}

static int take_lines(struct rb_problems *p, const char *s, const char *path, char *err, size_t errlen)
{
    size_t lines = 1;
    for (const char *q = s; *q; q++)
        lines += *q == '\n';
    p->trees = calloc(lines, sizeof *p->trees);
    p->items = calloc(lines, sizeof *p->items);
    if (!p->trees || !p->items)
        return fail(err, errlen, "problems file '%s': out of memory", path);
    long line_no = 0;
    char where[600];
    for (const char *line = s; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        line_no++;
        if (!rb_line_is_blank(line, len)) {
            snprintf(where, sizeof where, "%s, line %ld", path, line_no);
            if (take_record(p, line, len, where, err, errlen) < 0)
                return -1;
        }
        line = nl ? nl + 1 : NULL;
    }
    return 0;
}

static int index_add(struct rb_problems *p, size_t item, char *err, size_t errlen)
{
    size_t mask = p->index_cap - 1;
    uint64_t h = rb_id_hash(p->items[item].task_id, strlen(p->items[item].task_id));
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        if (p->index[i] == 0) {
            p->index[i] = item + 1;
            return 0;
        }
        if (strcmp(p->items[p->index[i] - 1].task_id, p->items[item].task_id) == 0)
            return fail(err, errlen, "task_id '%s' appears twice in the problems file",
                        p->items[item].task_id);
    }
}

static int build_index(struct rb_problems *p, const char *path, char *err, size_t errlen)
{
    p->index_cap = 16;
    while (p->index_cap < p->count * 2)
        p->index_cap *= 2;
    p->index = calloc(p->index_cap, sizeof *p->index);
    if (!p->index)
        return fail(err, errlen, "problems file '%s': out of memory", path);
    for (size_t i = 0; i < p->count; i++)
        if (index_add(p, i, err, errlen) < 0)
            return -1;
    return 0;
}

int rb_problems_load(const char *path, const char *format, struct rb_problems *out, char *err,
                     size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (format && !(out->fmt = rb_format_named(format)))
        return fail(err, errlen, "--format: '%s' is not one of %s", format, rb_format_names());
    out->named = out->fmt != NULL;
    struct rb_buf *text = calloc(1, sizeof *text);
    if (!text || read_whole(path, text, err, errlen) < 0) {
        if (text)
            rb_buf_free(text); /* what was read before the error */
        free(text);
        return text ? -1 : fail(err, errlen, "out of memory");
    }
    const char *s = text->data ? text->data : "";
    md5_hex(s, text->len, out->md5);
    /* The text stays: problems point into it (evalplus's inputs). */
    int rc = rb_problems_keep(out, text->data ? text->data : strdup(""));
    free(text);
    if (rc < 0)
        return fail(err, errlen, "out of memory");
    while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
        s++;
    rc = *s == '[' ? take_array(out, s, strlen(s), path, err, errlen) : take_lines(out, s, path, err, errlen);
    if (rc == 0 && out->count == 0)
        rc = fail(err, errlen, "problems file '%s' holds no problems", path);
    if (rc == 0)
        rc = build_index(out, path, err, errlen);
    if (rc < 0)
        rb_problems_free(out);
    return rc;
}

const struct rb_problem *rb_problems_find(const struct rb_problems *p, const char *task_id)
{
    if (!p->index_cap)
        return NULL;
    size_t mask = p->index_cap - 1;
    uint64_t h = rb_id_hash(task_id, strlen(task_id));
    for (size_t i = (size_t)h & mask; p->index[i]; i = (i + 1) & mask)
        if (strcmp(p->items[p->index[i] - 1].task_id, task_id) == 0)
            return &p->items[p->index[i] - 1];
    return NULL;
}

void rb_problems_free(struct rb_problems *p)
{
    for (size_t i = 0; i < p->count; i++) {
        free(p->items[i].task_id);
        free(p->items[i].test_list);
        free(p->items[i].test_imports);
    }
    for (size_t i = 0; i < p->ntrees; i++)
        cJSON_Delete(p->trees[i]);
    for (size_t i = 0; i < p->nowned; i++)
        free(p->owned[i]);
    free(p->owned);
    free(p->items);
    free(p->trees);
    free(p->index);
    memset(p, 0, sizeof *p);
}

/* ---- programs ------------------------------------------------------------------- */

static long count_lines(const char *s)
{
    long n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

char *rb_build_program(const struct rb_problem *p, const char *completion, int is_solution,
                       long *test_line)
{
    struct rb_buf b = { 0 };
    const struct rb_format *fmt = rb_format_of(p->format);
    switch (p->format) {
    case RB_FMT_HUMANEVAL:
        if (!is_solution)
            rb_buf_append_str(&b, p->prompt);
        rb_buf_append_str(&b, completion);
        rb_buf_append_str(&b, "\n");
        if (test_line)
            *test_line = count_lines(b.data ? b.data : "") + 1;
        rb_buf_append_str(&b, p->test);
        rb_buf_append_str(&b, "\n");
        rb_buf_printf(&b, "check(%s)", p->entry_point);
        break;
    case RB_FMT_MBPP:
        rb_buf_append_str(&b, p->test_imports);
        rb_buf_append_str(&b, completion);
        rb_buf_append_str(&b, "\n");
        if (test_line)
            *test_line = count_lines(b.data) + 1;
        break;
    default:
        /* The grader's prelude (its imports, and for APPS's and TACO's
         * standard-input programs the names stdin and stdout), then the
         * program: prompt + completion, or the whole solution. */
        if (fmt->prelude)
            rb_buf_append_str(&b, fmt->prelude);
        if (!p->calls && (p->format == RB_FMT_APPS || p->format == RB_FMT_TACO))
            rb_buf_append_str(&b, "stdin = sys.stdin\nstdout = sys.stdout\n");
        if (test_line)
            *test_line = 0;
        if (!is_solution && p->prompt)
            rb_buf_append_str(&b, p->prompt);
        rb_buf_append_str(&b, completion);
        break;
    }
    return b.data ? b.data : strdup("");
}
