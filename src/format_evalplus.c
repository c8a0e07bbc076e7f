/*
 * HumanEval+ and MBPP+ (EvalPlus): base_input and plus_input, read from the
 * record's own text so each number keeps its type and every digit, turned
 * into tagged argument lists (values.h). MBPP+'s inputs are rebuilt per task
 * as evalplus's loader does (evalplus/data/mbpp.py, mbpp_deserialize_inputs):
 * JSON has no tuples, sets or complex numbers, so some tasks' arguments are
 * converted after loading. Expected outputs are not in the data: the
 * reference solution gives them (reference.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "jsontext.h"
#include "problems.h"
#include "pytext.h"
#include "values.h"

/* ---- MBPP+'s conversions, on the tagged form ------------------------------------ */

enum mbpp_rule {
    KEEP, EACH_TUPLE, EACH_ITEMS_TUPLE, FIRST_ITEMS_TUPLE_KEEP_SECOND, SECOND_TUPLE, SETS_115,
    FLOAT_COMPLEX_124, FIRST_TUPLE_KEEP_SECOND, EACH_TUPLE_OF_TUPLES, NESTED_278, FIRST_TUPLE_307,
    DICT_VALUES_TUPLE_722, COMPLEX_252, ALL_TUPLES,
};

/* mbpp_deserialize_inputs' branches, by task number. */
static const struct { enum mbpp_rule rule; int tasks[24]; } MBPP_RULES[] = {
    { EACH_TUPLE, { 2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596, 616, 630, 726,
                    740, 744, 809 } },
    { EACH_ITEMS_TUPLE, { 63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780 } },
    { FIRST_ITEMS_TUPLE_KEEP_SECOND, { 75, 413, 444, 753 } },
    { SECOND_TUPLE, { 106, 750 } },
    { SETS_115, { 115 } },
    { FLOAT_COMPLEX_124, { 124 } },
    { FIRST_TUPLE_KEEP_SECOND, { 250, 405, 446, 617, 720, 763, 808 } },
    { EACH_TUPLE_OF_TUPLES, { 259, 401, 445 } },
    { NESTED_278, { 278 } },
    { FIRST_TUPLE_307, { 307 } },
    { DICT_VALUES_TUPLE_722, { 722 } },
    { COMPLEX_252, { 252 } },
    { ALL_TUPLES, { 580, 615, 791 } },
};

static enum mbpp_rule rule_of(const char *task_id)
{
    const char *slash = strrchr(task_id, '/');
    int n = atoi(slash ? slash + 1 : task_id);
    for (size_t r = 0; r < sizeof MBPP_RULES / sizeof MBPP_RULES[0]; r++)
        for (size_t i = 0; i < 24 && MBPP_RULES[r].tasks[i]; i++)
            if (MBPP_RULES[r].tasks[i] == n)
                return MBPP_RULES[r].rule;
    return KEEP;
}

static const char *tag_of(const cJSON *v)
{
    return cJSON_IsArray(v) ? cJSON_GetStringValue(v->child) : NULL;
}

static void set_tag(cJSON *v, const char *tag)
{
    cJSON_SetValuestring(v->child, tag);
}

/* tuple(v), for the item `v` of `parent`: a list's or set's items, a str's
 * characters, a dict's keys. The item it leaves in v's place, or NULL where
 * Python's tuple() raises. */
static cJSON *to_tuple(cJSON *parent, cJSON *v)
{
    const char *t = tag_of(v);
    if (t && (!strcmp(t, "l") || !strcmp(t, "t") || !strcmp(t, "set") || !strcmp(t, "fs"))) {
        set_tag(v, "t");
        return v;
    }
    if (t && !strcmp(t, "d")) {
        /* keys only: drop every second item after the tag */
        cJSON *item = v->child->next;
        for (bool key = true; item; key = !key) {
            cJSON *next = item->next;
            if (!key)
                cJSON_Delete(cJSON_DetachItemViaPointer(v, item));
            item = next;
        }
        set_tag(v, "t");
        return v;
    }
    if (!cJSON_IsString(v))
        return NULL;
    const char *s = v->valuestring;
    size_t n = strlen(s);
    cJSON *tuple = cJSON_CreateArray();
    bool ok = tuple && cJSON_AddItemToArray(tuple, cJSON_CreateString("t"));
    for (size_t i = 0; ok && i < n;) {
        size_t k = 1;
        while (i + k < n && ((unsigned char)s[i + k] & 0xc0) == 0x80)
            k++;
        char *c = strndup(s + i, k);
        ok = c && cJSON_AddItemToArray(tuple, cJSON_CreateString(c));
        free(c);
        i += k;
    }
    if (!ok || !cJSON_ReplaceItemViaPointer(parent, v, tuple)) {
        cJSON_Delete(tuple);
        return NULL;
    }
    return tuple;
}

/* Every item of the container `v` through tuple(). */
static bool items_to_tuples(cJSON *v)
{
    if (!tag_of(v))
        return false;
    for (cJSON *item = v->child->next; item; item = item->next)
        if (!(item = to_tuple(v, item)))
            return false;
    return true;
}

/* turn_all_list_into_tuple: every list, and every list nested in a list,
 * becomes a tuple; other containers are left as they are. */
static void all_lists_to_tuples(cJSON *v)
{
    const char *t = tag_of(v);
    if (!t || strcmp(t, "l") != 0)
        return;
    set_tag(v, "t");
    for (cJSON *item = v->child->next; item; item = item->next)
        all_lists_to_tuples(item);
}

/* The `i`-th argument (0-based), or NULL. */
static cJSON *arg(cJSON *args, int i)
{
    cJSON *a = args->child ? args->child->next : NULL;
    while (a && i-- > 0)
        a = a->next;
    return a;
}

/* Keeps the first `n` arguments, as the branches that rebuild the list
 * from inp[0] and inp[1] do. */
static void keep_args(cJSON *args, int n)
{
    cJSON *a = arg(args, n - 1);
    while (a && a->next)
        cJSON_Delete(cJSON_DetachItemViaPointer(args, a->next));
}

/* float(x) of a tagged value, as a tagged float. */
static cJSON *as_float(const cJSON *v)
{
    const char *t = tag_of(v);
    double d;
    char text[64];
    if (t && (!strcmp(t, "f") || !strcmp(t, "i"))) {
        const char *digits = cJSON_GetStringValue(v->child->next);
        if (!digits)
            return NULL;
        if (!strcmp(t, "f"))
            snprintf(text, sizeof text, "%s", digits);
        else
            snprintf(text, sizeof text, "%.17g", strtod(digits, NULL));
    } else if (cJSON_IsString(v) && rb_py_float((struct rb_span){ v->valuestring, strlen(v->valuestring) }, &d)) {
        if (isnan(d))
            snprintf(text, sizeof text, "nan");
        else if (isinf(d))
            snprintf(text, sizeof text, "%s", d < 0 ? "-inf" : "inf");
        else
            snprintf(text, sizeof text, "%.17g", d);
    } else if (cJSON_IsBool(v)) {
        snprintf(text, sizeof text, "%s", cJSON_IsTrue(v) ? "1.0" : "0.0");
    } else {
        return NULL;
    }
    cJSON *f = cJSON_CreateArray();
    cJSON_AddItemToArray(f, cJSON_CreateString("f"));
    cJSON_AddItemToArray(f, cJSON_CreateString(text));
    return f;
}

/* complex(x): a string as the worker's complex(s); a real number as (x+0j). */
static cJSON *as_complex(const cJSON *v)
{
    cJSON *c = cJSON_CreateArray();
    if (cJSON_IsString(v)) {
        cJSON_AddItemToArray(c, cJSON_CreateString("cs"));
        cJSON_AddItemToArray(c, cJSON_CreateString(v->valuestring));
        return c;
    }
    cJSON *re = as_float(v);
    if (!re) {
        cJSON_Delete(c);
        return NULL;
    }
    cJSON_AddItemToArray(c, cJSON_CreateString("c"));
    cJSON_AddItemToArray(c, cJSON_CreateString(cJSON_GetStringValue(re->child->next)));
    cJSON_AddItemToArray(c, cJSON_CreateString("0.0"));
    cJSON_Delete(re);
    return c;
}

static bool replace_arg(cJSON *args, int i, cJSON *with)
{
    cJSON *a = arg(args, i);
    if (!a || !with) {
        cJSON_Delete(with);
        return false;
    }
    return cJSON_ReplaceItemViaPointer(args, a, with);
}

/* task 115: [set(item) if isinstance(item, list) and len(item) else {} for item in inp[0]] */
static bool sets_115(cJSON *args)
{
    cJSON *a0 = arg(args, 0);
    if (!tag_of(a0))
        return false;
    for (cJSON *item = a0->child->next; item; item = item->next) {
        const char *t = tag_of(item);
        if (t && !strcmp(t, "l") && item->child->next) {
            set_tag(item, "set");
        } else {
            cJSON *empty = cJSON_CreateArray();
            if (!empty || !cJSON_AddItemToArray(empty, cJSON_CreateString("d")) ||
                !cJSON_ReplaceItemViaPointer(a0, item, empty)) {
                cJSON_Delete(empty);
                return false;
            }
            item = empty;
        }
    }
    keep_args(args, 1);
    return true;
}

static bool apply_rule(enum mbpp_rule rule, cJSON *args)
{
    cJSON *a0 = arg(args, 0);
    switch (rule) {
    case EACH_TUPLE:
        return items_to_tuples(args);
    case EACH_ITEMS_TUPLE:
        for (cJSON *a = a0; a; a = a->next)
            if (!items_to_tuples(a))
                return false;
        return true;
    case FIRST_ITEMS_TUPLE_KEEP_SECOND:
        keep_args(args, 2);
        return a0 && items_to_tuples(a0);
    case SECOND_TUPLE:
        keep_args(args, 2);
        return arg(args, 1) && to_tuple(args, arg(args, 1));
    case SETS_115:
        return sets_115(args);
    case FLOAT_COMPLEX_124: {
        cJSON *f = a0 ? as_float(a0) : NULL, *c = arg(args, 1) ? as_complex(arg(args, 1)) : NULL;
        bool ok = f && c;
        if (ok) {
            keep_args(args, 2);
            ok = replace_arg(args, 0, f) && replace_arg(args, 1, c);
            set_tag(args, "t");
        } else {
            cJSON_Delete(f);
            cJSON_Delete(c);
        }
        return ok;
    }
    case FIRST_TUPLE_KEEP_SECOND:
        keep_args(args, 2);
        return a0 && to_tuple(args, a0);
    case EACH_TUPLE_OF_TUPLES:
        for (cJSON *a = a0; a; a = a->next)
            if (!items_to_tuples(a) || !(a = to_tuple(args, a)))
                return false;
        return true;
    case NESTED_278: {
        keep_args(args, 1);
        if (!tag_of(a0))
            return false;
        for (cJSON *item = a0->child->next; item; item = item->next) {
            const char *t = tag_of(item);
            if (t && !strcmp(t, "l"))
                set_tag(item, "t");
        }
        return to_tuple(args, a0) != NULL;
    }
    case FIRST_TUPLE_307:
        keep_args(args, 3);
        return a0 && to_tuple(args, a0);
    case DICT_VALUES_TUPLE_722: {
        const char *t = tag_of(a0);
        if (!t || strcmp(t, "d") != 0)
            return false;
        bool value = false;
        for (cJSON *item = a0->child->next; item; item = item->next, value = !value)
            if (value && !(item = to_tuple(a0, item)))
                return false;
        return true;
    }
    case COMPLEX_252:
        keep_args(args, 1);
        return a0 && replace_arg(args, 0, as_complex(a0));
    case ALL_TUPLES:
        all_lists_to_tuples(args);
        return true;
    default:
        return true;
    }
}

/* ---- the records ---------------------------------------------------------------- */

/* One input's tagged argument list, converted for MBPP+ when its task asks. */
static char *tagged_input(const char *text, size_t len, enum mbpp_rule rule, char *why, size_t whylen)
{
    char *tagged = rb_value_tagged_from_json(text, len, why, whylen);
    if (!tagged || rule == KEEP)
        return tagged;
    cJSON *args = cJSON_Parse(tagged);
    free(tagged);
    const char *t = tag_of(args);
    bool ok = t && (!strcmp(t, "l") || !strcmp(t, "t")) && apply_rule(rule, args);
    char *out = ok ? cJSON_PrintUnformatted(args) : NULL;
    cJSON_Delete(args);
    if (!out)
        snprintf(why, whylen, "its arguments cannot be rebuilt as evalplus's loader rebuilds them");
    return out;
}

static int read_inputs(struct rb_problems *ps, const char *text, size_t len, const char *key,
                       enum mbpp_rule rule, struct rb_test_group *g, const char *where, char *err, size_t errlen)
{
    const char *list, *item;
    size_t list_len, item_len, n = 0;
    struct rb_json_iter it;
    if (rb_json_find(text, len, key, &list, &list_len) < 0)
        return rb_problems_fail(err, errlen, "%s: field '%s' is missing", where, key);
    if (list_len == 2 && memcmp(list, "{}", 2) == 0) {
        /* MBPP+ v0.2.0's Mbpp/793 has "plus_input": {}: evalplus iterates
         * it as no inputs at all, and the kind passes. */
        g->tests = NULL;
        g->count = 0;
        return 0;
    }
    if (rb_json_array(&it, list, list_len) < 0)
        return rb_problems_fail(err, errlen, "%s: field '%s' must be an array of argument lists", where, key);
    while (rb_json_next(&it, NULL, NULL, &item, &item_len) == 1)
        n++;
    g->tests = calloc(n + 1, sizeof *g->tests);
    if (!g->tests || rb_problems_keep(ps, g->tests) < 0)
        return rb_problems_fail(err, errlen, "%s: out of memory", where);
    rb_json_array(&it, list, list_len);
    for (g->count = 0; rb_json_next(&it, NULL, NULL, &item, &item_len) == 1; g->count++) {
        char why[160];
        struct rb_test *t = &g->tests[g->count];
        char *args = tagged_input(item, item_len, rule, why, sizeof why);
        if (!args)
            return rb_problems_fail(err, errlen, "%s: %s %zu: %s", where, key, g->count, why);
        if (strncmp(args, "[\"l\"", 4) != 0 && strncmp(args, "[\"t\"", 4) != 0) {
            free(args);
            return rb_problems_fail(err, errlen, "%s: %s %zu is not a list of arguments", where, key, g->count);
        }
        if (rb_problems_keep(ps, args) < 0)
            return rb_problems_fail(err, errlen, "%s: out of memory", where);
        t->input = args;
        t->input_len = strlen(args);
        t->raw = item;
        t->raw_len = item_len;
    }
    return 0;
}

int rb_read_evalplus(struct rb_problems *ps, const cJSON *o, const char *text, size_t len,
                     struct rb_problem *pr, const char *where, char *err, size_t errlen)
{
    static const char *const fields[] = { "prompt", "entry_point", "canonical_solution" };
    for (size_t i = 0; i < 3; i++)
        if (!rb_problem_string(o, fields[i]))
            return rb_problems_fail(err, errlen, "%s: field '%s' must be a string", where, fields[i]);
    pr->prompt = rb_problem_string(o, "prompt");
    pr->entry_point = rb_problem_string(o, "entry_point");
    pr->canonical = rb_problem_string(o, "canonical_solution");
    const cJSON *atol = cJSON_GetObjectItemCaseSensitive(o, "atol");
    if (atol && (!cJSON_IsNumber(atol) || !(atol->valuedouble >= 0)))
        return rb_problems_fail(err, errlen, "%s: field 'atol' must be a number, at least 0", where);
    pr->atol = atol ? atol->valuedouble : 0;
    pr->calls = true;
    enum mbpp_rule rule = pr->format == RB_FMT_MBPP_PLUS ? rule_of(pr->task_id) : KEEP;
    pr->ngroups = 2;
    if (read_inputs(ps, text, len, "base_input", rule, &pr->groups[0], where, err, errlen) < 0 ||
        read_inputs(ps, text, len, "plus_input", rule, &pr->groups[1], where, err, errlen) < 0)
        return -1;
    return 0;
}
