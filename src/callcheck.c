/*
 * Judging a function-call test's return value (callcheck.h).
 *
 * Each benchmark's rules, as its own grader applies them (the notes beside
 * each mode cite what they follow):
 *   python          out == exp
 *   evalplus        evalplus/eval/__init__.py, unsafe_execute: out == exp; the
 *                   special oracles; then, when not equal and atol is not 0
 *                   (it becomes 1e-6, for the rest of the group, the first time
 *                   a float or a non-empty list or tuple of floats is expected):
 *                   type(out) == type(exp), equal lengths, numpy.allclose with
 *                   rtol 1e-7
 *   livecodebench   lcb_runner testing_util.grade_call_based: a returned tuple
 *                   becomes a list, then out == exp
 *   apps            apps eval/testing_util.run_test: a returned tuple becomes a
 *                   list; out == exp, or out == exp[0] (exp a non-empty list), or
 *                   the rows of a list of tuples as lists == exp[0]
 */
#define _GNU_SOURCE
#include "callcheck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const NAMES[] = {
    [RB_CALLS_PYTHON] = "python",
    [RB_CALLS_EVALPLUS_HUMANEVAL] = "evalplus-humaneval",
    [RB_CALLS_EVALPLUS_MBPP] = "evalplus-mbpp",
    [RB_CALLS_LIVECODEBENCH] = "livecodebench",
    [RB_CALLS_APPS] = "apps",
};

const char *rb_call_compare_name(rb_call_compare c)
{
    return (unsigned)c < sizeof NAMES / sizeof NAMES[0] ? NAMES[c] : "python";
}

int rb_call_compare_parse(const char *name)
{
    for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++)
        if (strcmp(NAMES[i], name) == 0)
            return (int)i;
    return -1;
}

void rb_call_judge_init(struct rb_call_judge *j, const rb_call_rules *rules, const char *entry_point)
{
    memset(j, 0, sizeof *j);
    j->rules = *rules;
    j->entry_point = entry_point ? entry_point : "";
    j->group = (unsigned)-1;
}

static bool is_real(const struct rb_value *v)
{
    return v->kind == RB_V_BOOL || v->kind == RB_V_INT || v->kind == RB_V_FLOAT;
}

static double real_of(const struct rb_value *v)
{
    return v->kind == RB_V_BOOL ? v->b : v->kind == RB_V_FLOAT ? v->f : strtod(v->text, NULL);
}

/* ---- evalplus's special oracles ---------------------------------------------------- */

/* _poly(xs, x) = sum(coeff * math.pow(x, i)): false where Python would raise
 * (math.pow overflowing, a non-number). */
static bool poly_at(const struct rb_value *xs, const struct rb_value *x, double *out)
{
    if (!is_real(x) || (xs->kind != RB_V_LIST && xs->kind != RB_V_TUPLE))
        return false;
    double at = real_of(x), sum = 0;
    for (size_t i = 0; i < xs->n; i++) {
        if (!is_real(&xs->items[i]))
            return false;
        double p = pow(at, (double)i);
        if (isinf(p) && isfinite(at))
            return false; /* math.pow raises OverflowError */
        sum += real_of(&xs->items[i]) * p;
    }
    *out = sum;
    return true;
}

/* round(base_edge**2 + 2 * base_edge * sqrt((base_edge / 2)**2 + height**2)) */
static bool surface_area(const struct rb_value *args, double *out)
{
    if (args->n != 2 || !is_real(&args->items[0]) || !is_real(&args->items[1]))
        return false;
    double b = real_of(&args->items[0]), h = real_of(&args->items[1]);
    double slant = sqrt((b / 2) * (b / 2) + h * h);
    double total = b * b + 4 * (b * slant) / 2;
    *out = nearbyint(total); /* round half to even, as Python's round */
    return true;
}

/* The digit distance of two ints, zero-padded to the same length. */
static bool digit_distance(const struct rb_value *args, char *out, size_t len)
{
    if (args->n != 2 || args->items[0].kind != RB_V_INT || args->items[1].kind != RB_V_INT)
        return false;
    const char *a = args->items[0].text, *b = args->items[1].text;
    size_t la = strlen(a), lb = strlen(b), n = la > lb ? la : lb;
    long total = 0;
    for (size_t i = 0; i < n; i++) {
        char ca = i + la >= n ? a[i + la - n] : '0';
        char cb = i + lb >= n ? b[i + lb - n] : '0';
        if (ca == '-' || cb == '-')
            return false; /* int('-') raises */
        total += labs((long)(ca - '0') - (long)(cb - '0'));
    }
    snprintf(out, len, "%ld", total);
    return true;
}

/* The members of set(v): false where set() would raise (not iterable,
 * unhashable members). Strings give their characters, dicts their keys. */
static bool set_members(const struct rb_value *v, struct rb_value **items, size_t *n, struct rb_value_arena *a)
{
    switch (v->kind) {
    case RB_V_LIST:
    case RB_V_TUPLE:
    case RB_V_SET:
    case RB_V_FROZENSET:
        for (size_t i = 0; i < v->n; i++) {
            enum rb_value_kind k = v->items[i].kind;
            if (k == RB_V_LIST || k == RB_V_SET || k == RB_V_DICT || k == RB_V_OTHER)
                return false;
        }
        *items = v->items;
        *n = v->n;
        return true;
    case RB_V_DICT: {
        *n = v->n / 2;
        *items = calloc(*n ? *n : 1, sizeof **items);
        if (!*items)
            return false;
        for (size_t i = 0; i < *n; i++)
            (*items)[i] = v->items[2 * i];
        (void)a;
        return true;
    }
    case RB_V_STR: {
        *items = calloc(v->len ? v->len : 1, sizeof **items);
        if (!*items)
            return false;
        size_t k = 0;
        for (size_t i = 0; i < v->len;) {
            size_t w = 1;
            while (i + w < v->len && ((unsigned char)v->text[i + w] & 0xc0) == 0x80)
                w++;
            (*items)[k++] = (struct rb_value){ .kind = RB_V_STR, .text = v->text + i, .len = w };
            i += w;
        }
        *n = k;
        return true;
    }
    default:
        return false;
    }
}

static bool contains(const struct rb_value *items, size_t n, const struct rb_value *x)
{
    for (size_t i = 0; i < n; i++)
        if (rb_value_equal(&items[i], x))
            return true;
    return false;
}

/* set(out) == set(exp) */
static bool set_equal(const struct rb_value *out, const struct rb_value *exp)
{
    struct rb_value *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    bool ok = set_members(out, &a, &na, NULL) && set_members(exp, &b, &nb, NULL);
    for (size_t i = 0; ok && i < na; i++)
        ok = contains(b, nb, &a[i]);
    for (size_t i = 0; ok && i < nb; i++)
        ok = contains(a, na, &b[i]);
    if (a && a != out->items)
        free(a);
    if (b && b != exp->items)
        free(b);
    return ok;
}

static bool named(const char *entry, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(entry, names[i]) == 0)
            return true;
    return false;
}

static const char *const SET_EQ_TASKS[] = { "similar_elements", "find_char_long", "common_in_nested_lists",
                                            "extract_singly", "larg_nnum", "intersection_array",
                                            "find_dissimilar", "Diff" };
static const char *const NOT_NONE_TASKS[] = { "check_str", "text_match_three", "text_starta_endb" };

static bool evalplus(struct rb_call_judge *j, const struct rb_value *args, const struct rb_value *out,
                     const struct rb_value *exp, char *why, size_t whylen)
{
    bool exact = rb_value_equal(out, exp);
    const char *e = j->entry_point;
    if (j->rules.compare == RB_CALLS_EVALPLUS_MBPP) {
        if (strcmp(e, "are_equivalent") == 0) {
            exact = true;
        } else if (strcmp(e, "sum_div") == 0) {
            struct rb_value zero = { .kind = RB_V_INT, .text = "0" };
            exact = exact || rb_value_equal(out, &zero);
        } else if (strcmp(e, "surface_Area") == 0) {
            double want;
            exact = exact || (is_real(out) && surface_area(args, &want) && fabs(real_of(out) - want) <= j->atol);
        } else if (strcmp(e, "digit_distance_nums") == 0) {
            char digits[64];
            struct rb_value d = { .kind = RB_V_INT, .text = digits };
            exact = exact || (digit_distance(args, digits, sizeof digits) && rb_value_equal(out, &d));
        } else if (named(e, SET_EQ_TASKS, sizeof SET_EQ_TASKS / sizeof SET_EQ_TASKS[0])) {
            exact = set_equal(out, exp);
        } else if (named(e, NOT_NONE_TASKS, sizeof NOT_NONE_TASKS / sizeof NOT_NONE_TASKS[0])) {
            /* The expected value is whether the reference returned something. */
            if (out->kind == RB_V_BOOL) {
                exact = rb_value_equal(out, exp);
            } else {
                struct rb_value not_none = { .kind = RB_V_BOOL, .b = out->kind != RB_V_NONE };
                exact = rb_value_equal(exp, &not_none);
            }
        }
    }
    if (j->rules.compare == RB_CALLS_EVALPLUS_HUMANEVAL && strcmp(e, "find_zero") == 0) {
        double at;
        bool ok = args->n >= 1 && poly_at(&args->items[0], out, &at) && fabs(at) <= j->atol;
        if (!ok)
            snprintf(why, whylen, "the polynomial at the returned point is not within %g of 0", j->atol);
        return ok;
    }
    if (j->atol == 0 && rb_value_is_floats(exp))
        j->atol = 1e-6; /* and so it stays, for the rest of the group */
    if (!exact && j->atol != 0) {
        bool ok = rb_value_allclose(out, exp, j->rules.rtol > 0 ? j->rules.rtol : 1e-7, j->atol);
        if (!ok)
            snprintf(why, whylen, "not equal, and not the same type and shape within atol %g, rtol %g", j->atol,
                     j->rules.rtol > 0 ? j->rules.rtol : 1e-7);
        return ok;
    }
    if (!exact)
        snprintf(why, whylen, "not equal");
    return exact;
}

/* A returned tuple as the list the harness would turn it into. */
static struct rb_value top_level_list(const struct rb_value *out)
{
    struct rb_value v = *out;
    if (v.kind == RB_V_TUPLE)
        v.kind = RB_V_LIST;
    return v;
}

static bool apps(const struct rb_value *out, const struct rb_value *exp)
{
    struct rb_value o = top_level_list(out);
    if (rb_value_equal(&o, exp))
        return true;
    if (exp->kind == RB_V_LIST && exp->n > 0) {
        if (rb_value_equal(&o, &exp->items[0]))
            return true;
        /* A list of tuples whose rows, as lists, are exp[0]. */
        if (o.kind == RB_V_LIST && o.n > 0 && o.items[0].kind == RB_V_TUPLE) {
            struct rb_value *rows = calloc(o.n, sizeof *rows);
            if (!rows)
                return false;
            for (size_t i = 0; i < o.n; i++)
                rows[i] = top_level_list(&o.items[i]);
            struct rb_value as_lists = { .kind = RB_V_LIST, .items = rows, .n = o.n };
            bool ok = rb_value_equal(&as_lists, &exp->items[0]);
            free(rows);
            return ok;
        }
    }
    return false;
}

bool rb_call_judge_value(struct rb_call_judge *j, unsigned group, const struct rb_value *args,
                         const struct rb_value *out, const struct rb_value *exp, char *why, size_t whylen)
{
    if (group != j->group) {
        j->group = group;
        j->atol = j->rules.atol;
    }
    why[0] = '\0';
    bool ok;
    switch (j->rules.compare) {
    case RB_CALLS_EVALPLUS_HUMANEVAL:
    case RB_CALLS_EVALPLUS_MBPP:
        return evalplus(j, args, out, exp, why, whylen);
    case RB_CALLS_LIVECODEBENCH: {
        struct rb_value o = top_level_list(out);
        ok = rb_value_equal(&o, exp);
        break;
    }
    case RB_CALLS_APPS:
        ok = apps(out, exp);
        break;
    default:
        ok = rb_value_equal(out, exp);
    }
    if (!ok)
        snprintf(why, whylen, "not equal");
    return ok;
}
