/*
 * Formats of stdin/stdout problems, and APPS's call-based ones:
 *   APPS and TACO  input_output = {"inputs", "outputs", "fn_name"?} (a JSON
 *                  string in the releases); fn_name makes each input the list
 *                  of a call's arguments, read from the text so numbers keep
 *                  their type; else each input is stdin (a list of lines is
 *                  joined with "\n", as both graders do);
 *   CodeContests   public_tests, private_tests, generated_tests, each
 *                  {"input": [...], "output": [...]}, run in that order;
 *   stdio          tests [{"input", "output"}] (or stdin / expected_stdout),
 *                  with an optional "compare" and "time_limit" of its own.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "formats.h"
#include "jsontext.h"
#include "problems.h"
#include "pytext.h"
#include "util.h"
#include "values.h"

static const char *keep_copy(struct rb_problems *ps, const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (!c)
        return NULL;
    memcpy(c, s, n);
    c[n] = '\0';
    return rb_problems_keep(ps, c) == 0 ? c : NULL;
}

static struct rb_test *group_of(struct rb_problems *ps, struct rb_problem *pr, size_t n)
{
    struct rb_test_group *g = &pr->groups[0];
    pr->ngroups = 1;
    g->tests = calloc(n + 1, sizeof *g->tests);
    g->count = n;
    return g->tests && rb_problems_keep(ps, g->tests) == 0 ? g->tests : NULL;
}

/* A stdin or stdout of APPS: a string, or a list of lines joined with "\n". */
static const char *joined_text(struct rb_problems *ps, const cJSON *v)
{
    if (cJSON_IsString(v))
        return keep_copy(ps, v->valuestring, strlen(v->valuestring));
    if (!cJSON_IsArray(v))
        return NULL;
    struct rb_buf b = { 0 };
    const cJSON *line;
    bool first = true;
    cJSON_ArrayForEach(line, v) {
        if (!cJSON_IsString(line)) {
            rb_buf_free(&b);
            return NULL;
        }
        if (!first)
            rb_buf_append_str(&b, "\n");
        rb_buf_append_str(&b, line->valuestring);
        first = false;
    }
    const char *s = keep_copy(ps, b.data ? b.data : "", b.len);
    rb_buf_free(&b);
    return s;
}

/* ---- APPS's dict keys ------------------------------------------------------------- */

/* int(key) of a str key, as tagged int digits; false where int() raises:
 * surrounding whitespace, a sign, digits with single underscores between
 * them. */
static bool int_of_key(const char *key, char *out, size_t outlen)
{
    struct rb_span s = rb_py_strip((struct rb_span){ key, strlen(key) });
    bool neg = false;
    if (s.n && (s.s[0] == '+' || s.s[0] == '-')) {
        neg = s.s[0] == '-';
        s.s++, s.n--;
    }
    if (s.n == 0 || outlen < 3)
        return false;
    size_t k = neg ? 1 : 0, digits = 0;
    out[0] = '-';
    for (size_t i = 0; i < s.n; i++) {
        char c = s.s[i];
        if (c == '_') {
            if (i == 0 || i + 1 == s.n || s.s[i - 1] < '0' || s.s[i - 1] > '9' || s.s[i + 1] < '0' || s.s[i + 1] > '9')
                return false;
            continue;
        }
        if (c < '0' || c > '9' || k + 2 >= outlen)
            return false;
        if (digits == 0 && c == '0')
            continue; /* leading zeros */
        out[k++] = c;
        digits++;
    }
    if (digits == 0)
        k = 0, out[k++] = '0'; /* zero, without its sign */
    out[k] = '\0';
    return true;
}

/* {int(k): v for k, v in d.items()} of a tagged dict, in place; false (and
 * nothing changed) where an int() raises. */
static bool int_keys(cJSON *d)
{
    const char *tag = cJSON_IsArray(d) ? cJSON_GetStringValue(d->child) : NULL;
    if (!tag || strcmp(tag, "d") != 0)
        return false;
    char digits[128];
    for (const cJSON *k = d->child->next; k; k = k->next ? k->next->next : NULL)
        if (!cJSON_IsString(k) || !int_of_key(k->valuestring, digits, sizeof digits))
            return false;
    for (cJSON *k = d->child->next; k; k = k->next ? k->next->next : NULL) {
        int_of_key(k->valuestring, digits, sizeof digits);
        cJSON *i = cJSON_CreateArray();
        cJSON_AddItemToArray(i, cJSON_CreateString("i"));
        cJSON_AddItemToArray(i, cJSON_CreateString(digits));
        cJSON_ReplaceItemViaPointer(d, k, i);
        k = i;
    }
    return true;
}

static bool is_dict(const cJSON *v)
{
    const char *tag = cJSON_IsArray(v) ? cJSON_GetStringValue(v->child) : NULL;
    return tag && strcmp(tag, "d") == 0;
}

/* [value] as a tagged one-item list, taking `value` over. */
static cJSON *wrapped(cJSON *value)
{
    cJSON *l = cJSON_CreateArray();
    cJSON_AddItemToArray(l, cJSON_CreateString("l"));
    cJSON_AddItemToArray(l, value);
    return l;
}

/* testing_util.run_test: "JSON forces dictionaries to have string keys;
 * this undoes this (assuming a singleton list)": a dict first argument
 * becomes the only one, with int keys; a dict output (or a list whose first
 * item is a dict) becomes [that dict with int keys]. Each step is skipped
 * when one of its int() calls raises. */
static char *apps_dict_keys(char *tagged, bool is_output)
{
    cJSON *v = cJSON_Parse(tagged);
    if (!v)
        return tagged;
    bool changed = false;
    cJSON *first = cJSON_IsArray(v) && v->child ? v->child->next : NULL;
    if (!is_output && first && is_dict(first)) {
        cJSON *d = cJSON_Duplicate(first, 1);
        if (int_keys(d)) {
            cJSON_Delete(v);
            v = wrapped(d);
            changed = true;
        } else {
            cJSON_Delete(d);
        }
    }
    if (is_output) {
        if (is_dict(v)) {
            cJSON *d = cJSON_Duplicate(v, 1);
            if (int_keys(d)) {
                cJSON_Delete(v);
                v = wrapped(d);
                changed = true;
            } else {
                cJSON_Delete(d);
            }
        }
        const char *tag = cJSON_IsArray(v) ? cJSON_GetStringValue(v->child) : NULL;
        first = tag && (!strcmp(tag, "l") || !strcmp(tag, "t")) && v->child->next ? v->child->next : NULL;
        if (first && is_dict(first)) {
            cJSON *d = cJSON_Duplicate(first, 1);
            if (int_keys(d)) {
                cJSON_Delete(v);
                v = wrapped(d);
                changed = true;
            } else {
                cJSON_Delete(d);
            }
        }
    }
    char *out = changed ? cJSON_PrintUnformatted(v) : NULL;
    cJSON_Delete(v);
    if (!out)
        return tagged;
    free(tagged);
    return out;
}

/* ---- APPS and TACO ---------------------------------------------------------------- */

static int apps_calls(struct rb_problems *ps, struct rb_problem *pr, const char *io, size_t io_len,
                      const char *where, char *err, size_t errlen)
{
    const char *ins, *outs, *item;
    size_t ins_len, outs_len, item_len, n = 0;
    struct rb_json_iter in_it, out_it;
    if (rb_json_find(io, io_len, "inputs", &ins, &ins_len) < 0 || rb_json_find(io, io_len, "outputs", &outs, &outs_len) < 0 ||
        rb_json_array(&in_it, ins, ins_len) < 0 || rb_json_array(&out_it, outs, outs_len) < 0)
        return rb_problems_fail(err, errlen, "%s: input_output needs arrays 'inputs' and 'outputs'", where);
    while (rb_json_next(&in_it, NULL, NULL, &item, &item_len) == 1)
        n++;
    struct rb_test *tests = group_of(ps, pr, n);
    if (!tests)
        return rb_problems_fail(err, errlen, "%s: out of memory", where);
    rb_json_array(&in_it, ins, ins_len);
    for (size_t i = 0; i < n; i++) {
        const char *out;
        size_t out_len;
        char why[160];
        rb_json_next(&in_it, NULL, NULL, &item, &item_len);
        if (rb_json_next(&out_it, NULL, NULL, &out, &out_len) != 1)
            return rb_problems_fail(err, errlen, "%s: fewer outputs than inputs", where);
        char *args = rb_value_tagged_from_json(item, item_len, why, sizeof why);
        char *want = args ? rb_value_tagged_from_json(out, out_len, why, sizeof why) : NULL;
        if (!args || !want || strncmp(args, "[\"l\"", 4) != 0) {
            free(args);
            free(want);
            return rb_problems_fail(err, errlen, "%s: test %zu: %s", where, i,
                                    args && want ? "an input must be the list of the call's arguments" : why);
        }
        args = apps_dict_keys(args, false);
        want = apps_dict_keys(want, true);
        if (rb_problems_keep(ps, args) < 0 || rb_problems_keep(ps, want) < 0)
            return rb_problems_fail(err, errlen, "%s: out of memory", where);
        tests[i] = (struct rb_test){ .input = args, .input_len = strlen(args), .expected = want,
                                     .expected_len = strlen(want), .raw = item, .raw_len = item_len };
    }
    return 0;
}

static int apps_cases(struct rb_problems *ps, struct rb_problem *pr, const cJSON *io, const char *where, char *err,
                      size_t errlen)
{
    const cJSON *ins = cJSON_GetObjectItemCaseSensitive(io, "inputs");
    const cJSON *outs = cJSON_GetObjectItemCaseSensitive(io, "outputs");
    if (!cJSON_IsArray(ins) || !cJSON_IsArray(outs) || cJSON_GetArraySize(outs) < cJSON_GetArraySize(ins))
        return rb_problems_fail(err, errlen, "%s: input_output needs arrays 'inputs' and 'outputs' of one length",
                                where);
    size_t n = (size_t)cJSON_GetArraySize(ins);
    struct rb_test *tests = group_of(ps, pr, n);
    if (!tests)
        return rb_problems_fail(err, errlen, "%s: out of memory", where);
    for (size_t i = 0; i < n; i++) {
        const char *in = joined_text(ps, cJSON_GetArrayItem(ins, (int)i));
        const char *out = joined_text(ps, cJSON_GetArrayItem(outs, (int)i));
        if (!in || !out)
            return rb_problems_fail(err, errlen, "%s: test %zu: an input and an output must be strings "
                                                 "(or lists of lines)", where, i);
        tests[i] = (struct rb_test){ .input = in, .input_len = strlen(in), .expected = out, .expected_len = strlen(out) };
    }
    return 0;
}

int rb_read_apps(struct rb_problems *ps, const cJSON *o, const char *text, size_t len, struct rb_problem *pr,
                 const char *where, char *err, size_t errlen)
{
    (void)text, (void)len;
    const cJSON *field = cJSON_GetObjectItemCaseSensitive(o, "input_output");
    char *io_text = cJSON_IsString(field) ? strdup(field->valuestring) : field ? cJSON_PrintUnformatted(field) : NULL;
    cJSON *io = io_text ? cJSON_Parse(io_text) : NULL;
    int rc;
    if (!cJSON_IsObject(io)) {
        rc = rb_problems_fail(err, errlen, "%s: field 'input_output' must be a JSON object (or its text)", where);
    } else {
        const char *fn = rb_problem_string(io, "fn_name");
        pr->calls = fn != NULL;
        pr->entry_point = fn ? keep_copy(ps, fn, strlen(fn)) : NULL;
        if (pr->calls)
            rc = pr->entry_point && rb_problems_keep(ps, io_text) == 0
                     ? apps_calls(ps, pr, io_text, strlen(io_text), where, err, errlen)
                     : rb_problems_fail(err, errlen, "%s: out of memory", where);
        else
            rc = apps_cases(ps, pr, io, where, err, errlen);
        if (pr->calls)
            io_text = NULL; /* kept: the tests' raw inputs point into it */
    }
    cJSON_Delete(io);
    free(io_text);
    return rc;
}

/* ---- CodeContests and plain lists ----------------------------------------------------- */

static size_t count_io(const cJSON *o, const char *key)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, key);
    return (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(t, "input"));
}

int rb_read_codecontests(struct rb_problems *ps, const cJSON *o, const char *text, size_t len,
                         struct rb_problem *pr, const char *where, char *err, size_t errlen)
{
    (void)text, (void)len;
    static const char *const KINDS[] = { "public_tests", "private_tests", "generated_tests" };
    size_t n = 0;
    for (size_t k = 0; k < 3; k++)
        n += count_io(o, KINDS[k]);
    struct rb_test *tests = group_of(ps, pr, n);
    if (!tests)
        return rb_problems_fail(err, errlen, "%s: out of memory", where);
    size_t i = 0;
    for (size_t k = 0; k < 3; k++) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, KINDS[k]);
        const cJSON *ins = cJSON_GetObjectItemCaseSensitive(t, "input");
        const cJSON *outs = cJSON_GetObjectItemCaseSensitive(t, "output");
        if (t && (!cJSON_IsArray(ins) || !cJSON_IsArray(outs) || cJSON_GetArraySize(ins) != cJSON_GetArraySize(outs)))
            return rb_problems_fail(err, errlen, "%s: '%s' needs arrays 'input' and 'output' of one length", where,
                                    KINDS[k]);
        for (int j = 0; t && j < cJSON_GetArraySize(ins); j++, i++) {
            const char *in = cJSON_GetStringValue(cJSON_GetArrayItem(ins, j));
            const char *out = cJSON_GetStringValue(cJSON_GetArrayItem(outs, j));
            if (!in || !out)
                return rb_problems_fail(err, errlen, "%s: '%s' %d: input and output must be strings", where,
                                        KINDS[k], j);
            tests[i] = (struct rb_test){ .input = in, .input_len = strlen(in), .expected = out,
                                         .expected_len = strlen(out) };
        }
    }
    return 0;
}

int rb_read_stdio(struct rb_problems *ps, const cJSON *o, const char *text, size_t len, struct rb_problem *pr,
                  const char *where, char *err, size_t errlen)
{
    (void)text, (void)len;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "tests");
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0)
        return rb_problems_fail(err, errlen, "%s: field 'tests' must be a non-empty array", where);
    pr->prompt = rb_problem_string(o, "prompt");
    pr->compare = rb_problem_string(o, "compare");
    if (pr->compare && !rb_compare_named(pr->compare))
        return rb_problems_fail(err, errlen, "%s: field 'compare' must be one of %s", where, rb_compare_names());
    const cJSON *limit = cJSON_GetObjectItemCaseSensitive(o, "time_limit");
    if (limit && (!cJSON_IsNumber(limit) || !(limit->valuedouble > 0) || limit->valuedouble > 3600))
        return rb_problems_fail(err, errlen, "%s: field 'time_limit' must be seconds above 0", where);
    pr->time_limit = limit ? limit->valuedouble : 0;
    struct rb_test *tests = group_of(ps, pr, (size_t)cJSON_GetArraySize(list));
    if (!tests)
        return rb_problems_fail(err, errlen, "%s: out of memory", where);
    size_t i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, list) {
        const char *in = rb_problem_string(t, "input"), *out = rb_problem_string(t, "output");
        if (!in && !out) {
            in = rb_problem_string(t, "stdin");
            out = rb_problem_string(t, "expected_stdout");
        }
        if (!out)
            return rb_problems_fail(err, errlen, "%s: test %zu needs an 'output' string", where, i);
        tests[i++] = (struct rb_test){ .input = in ? in : "", .input_len = in ? strlen(in) : 0, .expected = out,
                                       .expected_len = strlen(out) };
    }
    return 0;
}
