#define _GNU_SOURCE
#include "problems.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "idset.h"
#include "util.h"

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* gzread reads plain files as they are, so one reader serves .gz and not. */
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

static const char *string_field(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static int take_record(struct rb_problems *p, const cJSON *o, const char *where, char *err,
                       size_t errlen)
{
    if (!cJSON_IsObject(o))
        return fail(err, errlen, "%s: a problem must be a JSON object", where);
    struct rb_problem *pr = &p->items[p->count];
    memset(pr, 0, sizeof *pr);
    pr->task_id = rb_task_id_text(cJSON_GetObjectItemCaseSensitive(o, "task_id"));
    if (!pr->task_id)
        return fail(err, errlen, "%s: field 'task_id' is missing or not a string or integer", where);
    bool humaneval = cJSON_GetObjectItemCaseSensitive(o, "entry_point") != NULL;
    bool mbpp = cJSON_GetObjectItemCaseSensitive(o, "test_list") != NULL;
    if (humaneval == mbpp) {
        free(pr->task_id);
        return fail(err, errlen,
                    "%s: not a HumanEval problem (prompt, test, entry_point) nor an MBPP one "
                    "(test_list)", where);
    }
    pr->kind = humaneval ? RB_HUMANEVAL : RB_MBPP;
    if (p->count > 0 && pr->kind != p->kind) {
        free(pr->task_id);
        return fail(err, errlen, "%s: HumanEval and MBPP problems mixed in one file", where);
    }
    p->kind = pr->kind;
    if (pr->kind == RB_HUMANEVAL) {
        static const char *const fields[] = { "prompt", "test", "entry_point" };
        for (size_t i = 0; i < 3; i++) {
            if (!string_field(o, fields[i])) {
                free(pr->task_id);
                return fail(err, errlen, "%s: field '%s' must be a string", where, fields[i]);
            }
        }
        pr->prompt = string_field(o, "prompt");
        pr->test = string_field(o, "test");
        pr->entry_point = string_field(o, "entry_point");
        pr->canonical = string_field(o, "canonical_solution");
    } else {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "test_list");
        const cJSON *imports = cJSON_GetObjectItemCaseSensitive(o, "test_imports");
        bool ok = cJSON_IsArray(list) && cJSON_GetArraySize(list) > 0 &&
                  (!imports || cJSON_IsArray(imports));
        const cJSON *it;
        cJSON_ArrayForEach(it, list) ok = ok && cJSON_IsString(it);
        if (imports)
            cJSON_ArrayForEach(it, imports) ok = ok && cJSON_IsString(it);
        if (!ok) {
            free(pr->task_id);
            return fail(err, errlen,
                        "%s: field 'test_list' must be a non-empty array of strings, and "
                        "'test_imports' an array of strings", where);
        }
        pr->ntests = (size_t)cJSON_GetArraySize(list);
        pr->test_list = calloc(pr->ntests, sizeof *pr->test_list);
        if (!pr->test_list) {
            free(pr->task_id);
            return fail(err, errlen, "%s: out of memory", where);
        }
        struct rb_buf imp = { 0 };
        size_t i = 0;
        cJSON_ArrayForEach(it, list) pr->test_list[i++] = it->valuestring;
        if (imports)
            cJSON_ArrayForEach(it, imports) {
                rb_buf_append_str(&imp, it->valuestring);
                rb_buf_append_str(&imp, "\n");
            }
        pr->test_imports = imp.data ? imp.data : strdup("");
        pr->canonical = string_field(o, "code");
    }
    p->count++;
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

int rb_problems_load(const char *path, struct rb_problems *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct rb_buf text = { 0 };
    if (read_whole(path, &text, err, errlen) < 0) {
        rb_buf_free(&text); /* what was read before the error */
        return -1;
    }
    int rc = 0;
    const char *s = text.data ? text.data : "";
    while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
        s++;
    char where[600];
    if (*s == '[') {
        /* One JSON array (sanitized MBPP ships this way). */
        cJSON *arr = cJSON_Parse(s);
        if (!cJSON_IsArray(arr)) {
            cJSON_Delete(arr);
            rb_buf_free(&text);
            return fail(err, errlen, "problems file '%s' is not a valid JSON array", path);
        }
        out->trees = calloc(1, sizeof *out->trees);
        out->items = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof *out->items);
        if (!out->trees || !out->items) {
            cJSON_Delete(arr);
            rb_buf_free(&text);
            rb_problems_free(out);
            return fail(err, errlen, "problems file '%s': out of memory", path);
        }
        out->trees[0] = arr;
        out->ntrees = 1;
        int i = 0;
        const cJSON *o;
        cJSON_ArrayForEach(o, arr) {
            snprintf(where, sizeof where, "%s, problem %d", path, i++);
            if ((rc = take_record(out, o, where, err, errlen)) < 0)
                break;
        }
    } else {
        size_t lines = 1;
        for (const char *q = s; *q; q++)
            lines += *q == '\n';
        out->trees = calloc(lines, sizeof *out->trees);
        out->items = calloc(lines, sizeof *out->items);
        if (!out->trees || !out->items)
            rc = fail(err, errlen, "problems file '%s': out of memory", path);
        long line_no = 0;
        for (const char *line = rc == 0 ? text.data : NULL; line && *line && rc == 0;) {
            const char *nl = strchr(line, '\n');
            size_t len = nl ? (size_t)(nl - line) : strlen(line);
            line_no++;
            bool blank = true;
            for (size_t k = 0; k < len; k++)
                blank = blank && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r');
            if (!blank) {
                snprintf(where, sizeof where, "%s, line %ld", path, line_no);
                cJSON *o = cJSON_ParseWithLength(line, len);
                if (!o)
                    rc = fail(err, errlen, "%s: not valid JSON", where);
                else {
                    out->trees[out->ntrees++] = o;
                    rc = take_record(out, o, where, err, errlen);
                }
            }
            line = nl ? nl + 1 : NULL;
        }
    }
    rb_buf_free(&text);
    if (rc == 0 && out->count == 0)
        rc = fail(err, errlen, "problems file '%s' holds no problems", path);
    if (rc == 0) {
        out->index_cap = 16;
        while (out->index_cap < out->count * 2)
            out->index_cap *= 2;
        out->index = calloc(out->index_cap, sizeof *out->index);
        if (!out->index)
            rc = fail(err, errlen, "problems file '%s': out of memory", path);
        for (size_t i = 0; i < out->count && rc == 0; i++)
            rc = index_add(out, i, err, errlen);
    }
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
    free(p->items);
    free(p->trees);
    free(p->index);
    memset(p, 0, sizeof *p);
}

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
    if (p->kind == RB_HUMANEVAL) {
        if (!is_solution)
            rb_buf_append_str(&b, p->prompt);
        rb_buf_append_str(&b, completion);
        rb_buf_append_str(&b, "\n");
        if (test_line)
            *test_line = count_lines(b.data ? b.data : "") + 1;
        rb_buf_append_str(&b, p->test);
        rb_buf_append_str(&b, "\n");
        rb_buf_printf(&b, "check(%s)", p->entry_point);
    } else {
        rb_buf_append_str(&b, p->test_imports);
        rb_buf_append_str(&b, completion);
        rb_buf_append_str(&b, "\n");
        if (test_line)
            *test_line = count_lines(b.data) + 1;
    }
    return b.data ? b.data : strdup("");
}
