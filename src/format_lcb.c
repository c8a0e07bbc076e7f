/*
 * LiveCodeBench code_generation records (lcb_runner/benchmarks/
 * code_generation.py): public_test_cases and private_test_cases are JSON
 * strings of [{input, output, testtype}]; metadata a JSON string whose
 * func_name, when present, makes every test a call (testing_util.py decides
 * by fn_name, not by testtype). A call's input is one JSON value per line,
 * one per argument; its output one JSON value.
 *
 * private_test_cases may instead be base64 of zlib of a pickle of that JSON
 * text. A pickle is code, so it is never decoded here: the record keeps it
 * as `pending`, and eval decodes it in a sandboxed job (eval_prepare.c)
 * before handing the result to rb_lcb_add_tests.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "problems.h"
#include "util.h"
#include "values.h"

/* Appends one more test to group 0 (tests are few here; grown one at a time
 * in blocks). */
static struct rb_test *new_test(struct rb_problems *ps, struct rb_problem *pr)
{
    struct rb_test_group *g = &pr->groups[0];
    pr->ngroups = 1;
    if (g->count % 64 == 0) {
        struct rb_test *t = malloc((g->count + 64) * sizeof *t);
        if (!t)
            return NULL;
        if (g->count)
            memcpy(t, g->tests, g->count * sizeof *t);
        /* The old block stays with the problems (freed at the end). */
        if (rb_problems_keep(ps, t) < 0)
            return NULL;
        g->tests = t;
    }
    struct rb_test *t = &g->tests[g->count++];
    memset(t, 0, sizeof *t);
    return t;
}

static const char *keep_copy(struct rb_problems *ps, const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (!c)
        return NULL;
    memcpy(c, s, n);
    c[n] = '\0';
    return rb_problems_keep(ps, c) == 0 ? c : NULL;
}

/* A call's arguments: each line of `input` one JSON value (json.loads). */
static char *call_args(const char *input, char *why, size_t whylen)
{
    struct rb_buf b = { 0 };
    rb_buf_append_str(&b, "[\"l\"");
    for (const char *line = input;;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        char *v = rb_value_tagged_from_json(line, n, why, whylen);
        if (!v) {
            rb_buf_free(&b);
            return NULL;
        }
        rb_buf_append_str(&b, ",");
        rb_buf_append_str(&b, v);
        free(v);
        if (!nl)
            break;
        line = nl + 1;
    }
    rb_buf_append_str(&b, "]");
    return b.data;
}

int rb_lcb_add_tests(struct rb_problems *ps, struct rb_problem *pr, const char *json, size_t len, char *err,
                     size_t errlen)
{
    cJSON *list = cJSON_ParseWithLength(json, len);
    int rc = cJSON_IsArray(list) ? 0
                                 : rb_problems_fail(err, errlen, "problem %s: its test cases are not a JSON list",
                                                    pr->task_id);
    size_t i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, list) {
        if (rc < 0)
            break;
        const char *in = rb_problem_string(c, "input"), *out = rb_problem_string(c, "output");
        if (!in || !out) {
            rc = rb_problems_fail(err, errlen, "problem %s: test %zu has no 'input' and 'output' strings",
                                  pr->task_id, i);
            break;
        }
        struct rb_test *t = new_test(ps, pr);
        char why[160];
        if (!t) {
            rc = rb_problems_fail(err, errlen, "out of memory");
        } else if (pr->calls) {
            char *args = call_args(in, why, sizeof why);
            char *want = args ? rb_value_tagged_from_json(out, strlen(out), why, sizeof why) : NULL;
            if (!args || !want) {
                free(args);
                rc = rb_problems_fail(err, errlen, "problem %s: test %zu: %s (json.loads would raise)",
                                      pr->task_id, i, why);
            } else if (rb_problems_keep(ps, args) < 0 || rb_problems_keep(ps, want) < 0) {
                rc = rb_problems_fail(err, errlen, "out of memory");
            } else {
                t->input = args;
                t->input_len = strlen(args);
                t->expected = want;
                t->expected_len = strlen(want);
            }
        } else {
            t->input = keep_copy(ps, in, strlen(in));
            t->input_len = strlen(in);
            t->expected = keep_copy(ps, out, strlen(out));
            t->expected_len = strlen(out);
            if (!t->input || !t->expected)
                rc = rb_problems_fail(err, errlen, "out of memory");
        }
        i++;
    }
    cJSON_Delete(list);
    return rc;
}

/* A field that is JSON text inside a string (or, leniently, the JSON itself). */
static char *json_field(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsString(v))
        return strdup(v->valuestring);
    return v ? cJSON_PrintUnformatted(v) : NULL;
}

int rb_read_livecodebench(struct rb_problems *ps, const cJSON *o, const char *text, size_t len,
                          struct rb_problem *pr, const char *where, char *err, size_t errlen)
{
    (void)text, (void)len;
    char *meta = json_field(o, "metadata");
    cJSON *m = meta ? cJSON_Parse(meta) : NULL;
    free(meta);
    const char *fn = rb_problem_string(m, "func_name");
    if (fn && !(pr->entry_point = keep_copy(ps, fn, strlen(fn)))) {
        cJSON_Delete(m);
        return rb_problems_fail(err, errlen, "%s: out of memory", where);
    }
    cJSON_Delete(m);
    pr->calls = pr->entry_point != NULL;
    pr->ngroups = 1;
    char *pub = json_field(o, "public_test_cases");
    if (!pub)
        return rb_problems_fail(err, errlen, "%s: field 'public_test_cases' is missing", where);
    int rc = rb_lcb_add_tests(ps, pr, pub, strlen(pub), err, errlen);
    free(pub);
    const cJSON *priv = cJSON_GetObjectItemCaseSensitive(o, "private_test_cases");
    if (rc == 0 && cJSON_IsString(priv)) {
        /* JSON first, as the loader tries; otherwise compressed. */
        cJSON *probe = cJSON_Parse(priv->valuestring);
        if (cJSON_IsArray(probe))
            rc = rb_lcb_add_tests(ps, pr, priv->valuestring, strlen(priv->valuestring), err, errlen);
        else if (*priv->valuestring)
            pr->pending = priv->valuestring;
        cJSON_Delete(probe);
    } else if (rc == 0 && cJSON_IsArray(priv)) {
        char *t = cJSON_PrintUnformatted(priv);
        rc = t ? rb_lcb_add_tests(ps, pr, t, strlen(t), err, errlen) : rb_problems_fail(err, errlen, "out of memory");
        free(t);
    }
    if (rc < 0) {
        /* Say where: the record, then what was wrong with it. */
        char why[512];
        snprintf(why, sizeof why, "%s", err);
        rb_problems_fail(err, errlen, "%s: %s", where, why);
    }
    return rc;
}
