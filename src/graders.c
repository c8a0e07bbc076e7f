/*
 * The Python graders' own stdin/stdout comparisons, LiveCodeBench's, APPS's
 * and TACO's (graders.h), built from pytext.c's Python rules. Each cites the
 * grader's source it follows.
 */
#define _GNU_SOURCE
#include "graders.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pytext.h"

/* ---- LiveCodeBench ------------------------------------------------------------------ */

/* get_stripped_lines: [line.strip() for line in s.strip().split("\n")] */
static void stripped_lines(struct rb_span s, struct rb_spans *out)
{
    s = rb_py_strip(s);
    rb_split_char(s.s, s.n, '\n', out);
    for (size_t i = 0; i < out->n; i++)
        out->v[i] = rb_py_strip(out->v[i]);
}

/* lcb_runner/evaluation/testing_util.py, grade_stdio: the same number of
 * stripped lines; each pair equal, or both all Decimal tokens with equal
 * lists of values. */
bool rb_lcb_output_matches(struct rb_span got, struct rb_span want)
{
    struct rb_spans g = { 0 }, w = { 0 }, gt = { 0 }, wt = { 0 };
    stripped_lines(got, &g);
    stripped_lines(want, &w);
    bool ok = !g.failed && !w.failed && g.n == w.n;
    for (size_t i = 0; ok && i < g.n; i++) {
        if (rb_span_eq(g.v[i], w.v[i]))
            continue;
        gt.n = wt.n = 0;
        rb_py_split(g.v[i], &gt);
        rb_py_split(w.v[i], &wt);
        ok = !gt.failed && !wt.failed;
        /* Every token of both lines must read as a Decimal, then the lists compare. */
        for (size_t k = 0; ok && k < gt.n; k++)
            ok = rb_py_is_decimal(gt.v[k]);
        for (size_t k = 0; ok && k < wt.n; k++)
            ok = rb_py_is_decimal(wt.v[k]);
        ok = ok && gt.n == wt.n;
        for (size_t k = 0; ok && k < gt.n; k++)
            ok = rb_py_decimal_equal(gt.v[k], wt.v[k]);
    }
    rb_spans_free(&g);
    rb_spans_free(&w);
    rb_spans_free(&gt);
    rb_spans_free(&wt);
    return ok;
}

/* ---- sets of sets, for APPS's and TACO's last steps ---------------------------------- */

/* One inner set: its members sorted and unique. Strings are spans; numbers
 * doubles (-0.0 as 0.0, equal in a Python set). */
struct inner {
    struct rb_span *strs;
    double *nums;
    size_t n;
};

static int span_cmp(const void *a, const void *b)
{
    const struct rb_span *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int c = n ? memcmp(x->s, y->s, n) : 0;
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

static int num_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int inner_cmp(const void *a, const void *b)
{
    const struct inner *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    for (size_t i = 0; i < n; i++) {
        int c = x->strs ? span_cmp(&x->strs[i], &y->strs[i]) : num_cmp(&x->nums[i], &y->nums[i]);
        if (c)
            return c;
    }
    return (x->n > y->n) - (x->n < y->n);
}

static void inner_sort_unique(struct inner *in)
{
    if (in->strs) {
        qsort(in->strs, in->n, sizeof *in->strs, span_cmp);
        size_t k = 0;
        for (size_t i = 0; i < in->n; i++)
            if (k == 0 || span_cmp(&in->strs[k - 1], &in->strs[i]) != 0)
                in->strs[k++] = in->strs[i];
        in->n = k;
    } else {
        qsort(in->nums, in->n, sizeof *in->nums, num_cmp);
        size_t k = 0;
        for (size_t i = 0; i < in->n; i++)
            if (k == 0 || in->nums[k - 1] != in->nums[i])
                in->nums[k++] = in->nums[i];
        in->n = k;
    }
}

/* A set of frozensets: inner sets sorted and unique. */
struct outer {
    struct inner *sets;
    size_t n;
    bool failed;   /* out of memory, or a member Python would fail on */
    bool has_nan;  /* a NaN never equals another NaN object: no two such sets are equal */
};

static void outer_free(struct outer *o)
{
    for (size_t i = 0; i < o->n; i++) {
        free(o->sets[i].strs);
        free(o->sets[i].nums);
    }
    free(o->sets);
    memset(o, 0, sizeof *o);
}

/* Adds the set of `members` (strings, or their round(float(m), 3) when
 * `rounded`). */
static void outer_add(struct outer *o, const struct rb_spans *members, bool rounded)
{
    if (o->failed)
        return;
    struct inner in = { 0 };
    size_t cnt = members->n ? members->n : 1;
    if (rounded)
        in.nums = malloc(cnt * sizeof *in.nums);
    else
        in.strs = malloc(cnt * sizeof *in.strs);
    struct inner *grown = realloc(o->sets, (o->n + 1) * sizeof *grown);
    if ((!in.nums && !in.strs) || !grown) {
        free(in.nums);
        free(in.strs);
        if (grown)
            o->sets = grown;
        o->failed = true;
        return;
    }
    o->sets = grown;
    for (size_t i = 0; i < members->n; i++) {
        if (!rounded) {
            in.strs[in.n++] = members->v[i];
            continue;
        }
        double v;
        char text[512];
        if (!rb_py_float(members->v[i], &v)) {
            o->failed = true; /* float() raised: the step is skipped */
            break;
        }
        if (isnan(v)) {
            o->has_nan = true;
        } else if (isfinite(v) && fabs(v) < 1e300) {
            /* round(v, 3): correctly rounded to 3 decimals, as printf does. */
            snprintf(text, sizeof text, "%.3f", v);
            v = strtod(text, NULL);
        }
        in.nums[in.n++] = v == 0 ? 0.0 : v;
    }
    inner_sort_unique(&in);
    o->sets[o->n++] = in;
}

static bool outer_equal(struct outer *a, struct outer *b)
{
    if (a->failed || b->failed || a->has_nan || b->has_nan)
        return false;
    struct outer *both[2] = { a, b };
    for (int k = 0; k < 2; k++) {
        struct outer *o = both[k];
        qsort(o->sets, o->n, sizeof *o->sets, inner_cmp);
        size_t m = 0;
        for (size_t i = 0; i < o->n; i++) {
            if (m > 0 && inner_cmp(&o->sets[m - 1], &o->sets[i]) == 0) {
                free(o->sets[i].strs);
                free(o->sets[i].nums);
                continue;
            }
            o->sets[m++] = o->sets[i];
        }
        o->n = m;
    }
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (inner_cmp(&a->sets[i], &b->sets[i]) != 0)
            return false;
    return true;
}

/* The characters of a token, each a span: TACO's set(token). */
static void chars_of(struct rb_span tok, struct rb_spans *out)
{
    const unsigned char *p = (const unsigned char *)tok.s;
    for (size_t i = 0; i < tok.n;) {
        size_t k = rb_utf8_char_len(p + i, tok.n - i);
        rb_spans_push(out, (struct rb_span){ tok.s + i, k });
        i += k;
    }
}

/* numpy.allclose(a, b) with rtol 1e-5, atol 1e-8 over equal-length lists
 * of float() values of `as` and `bs`; false when float() raises. */
static bool all_close(const struct rb_spans *as, const struct rb_spans *bs)
{
    if (as->n != bs->n)
        return false;
    for (size_t i = 0; i < as->n; i++) {
        double a, b;
        if (!rb_py_float(as->v[i], &a) || !rb_py_float(bs->v[i], &b))
            return false;
    }
    for (size_t i = 0; i < as->n; i++) {
        double a, b;
        rb_py_float(as->v[i], &a);
        rb_py_float(bs->v[i], &b);
        bool close = isinf(a) || isinf(b) ? a == b : fabs(a - b) <= 1e-8 + 1e-5 * fabs(b);
        if (!close)
            return false;
    }
    return true;
}

/* The expected output's lines as APPS and TACO make them:
 * [x.strip() for x in gt.split("\n") if x] (empty before stripping). */
static void expected_lines(struct rb_span want, struct rb_spans *out)
{
    rb_split_char(want.s, want.n, '\n', out);
    rb_spans_drop_empty(out);
    for (size_t i = 0; i < out->n; i++)
        out->v[i] = rb_py_strip(out->v[i]);
}

static bool spans_equal(const struct rb_spans *a, const struct rb_spans *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (!rb_span_eq(a->v[i], b->v[i]))
            return false;
    return true;
}

/* "\n".join(lines), stripped, equal to want.strip() (APPS custom_compare_) */
static bool joined_strip_equal(const struct rb_spans *lines, bool strip_each, struct rb_span want)
{
    size_t total = 0;
    for (size_t i = 0; i < lines->n; i++)
        total += lines->v[i].n + 1;
    char *buf = malloc(total + 1);
    if (!buf)
        return false;
    size_t k = 0;
    for (size_t i = 0; i < lines->n; i++) {
        struct rb_span l = strip_each ? rb_py_strip(lines->v[i]) : lines->v[i];
        if (i)
            buf[k++] = '\n';
        memcpy(buf + k, l.s, l.n);
        k += l.n;
    }
    bool eq = rb_span_eq(rb_py_strip((struct rb_span){ buf, k }), rb_py_strip(want));
    free(buf);
    return eq;
}

/* The last two steps of both graders: sets of frozensets of each output
 * unit's members against those of the expected lines' tokens, as text,
 * then rounded to 3 decimals. `units` are the output's units (APPS: its
 * lines' token lists; TACO: its tokens' characters). */
static bool set_steps(const struct rb_spans *units, size_t nunits, const struct rb_spans *want_lines)
{
    bool result = false;
    for (int rounded = 0; rounded < 2 && !result; rounded++) {
        struct outer o = { 0 }, w = { 0 };
        struct rb_spans toks = { 0 };
        for (size_t i = 0; i < nunits; i++)
            outer_add(&o, &units[i], rounded);
        for (size_t i = 0; i < want_lines->n; i++) {
            toks.n = 0;
            rb_py_split(want_lines->v[i], &toks);
            outer_add(&w, &toks, rounded);
        }
        result = !toks.failed && outer_equal(&o, &w);
        rb_spans_free(&toks);
        outer_free(&o);
        outer_free(&w);
    }
    return result;
}

/* ---- APPS ------------------------------------------------------------------------- */

/* hendrycks/apps eval/testing_util.py, run_test for standard input: the
 * output as getvalue().splitlines(); then, the first that holds:
 * custom_compare_ (joined lines stripped, then each line stripped), the
 * lines == [gt], the lines == the expected lines, the non-empty lines ==
 * them, both all floats within numpy.allclose, then the sets of token sets
 * of non-empty lines, as text and rounded to 3 decimals. */
bool rb_apps_output_matches(struct rb_span got, struct rb_span want)
{
    struct rb_spans lines = { 0 }, wl = { 0 };
    rb_py_splitlines(got, &lines);
    bool ok = !lines.failed && (joined_strip_equal(&lines, false, want) || joined_strip_equal(&lines, true, want) ||
                                (lines.n == 1 && rb_span_eq(lines.v[0], want)));
    if (!ok && !lines.failed) {
        expected_lines(want, &wl);
        ok = spans_equal(&lines, &wl);
        rb_spans_drop_empty(&lines);
        ok = ok || spans_equal(&lines, &wl) || all_close(&lines, &wl);
    }
    if (!ok && !lines.failed && !wl.failed) {
        struct rb_spans *units = calloc(lines.n + 1, sizeof *units);
        size_t n = 0;
        for (size_t i = 0; units && i < lines.n; i++) {
            rb_py_split(lines.v[i], &units[n]);
            if (units[n].n)
                n++;
        }
        ok = units && set_steps(units, n, &wl);
        for (size_t i = 0; units && i <= n && i < lines.n; i++)
            rb_spans_free(&units[i]);
        free(units);
    }
    rb_spans_free(&lines);
    rb_spans_free(&wl);
    return ok;
}

/* ---- TACO --------------------------------------------------------------------------- */

/* FlagOpen/TACO metrics/testing_util.py, compare_std_results, handed the
 * raw stdout string: stripped equality; then the float step iterates the
 * string's characters; then the sets of each token's characters against
 * the expected lines' token sets (and rounded). */
bool rb_taco_output_matches(struct rb_span got, struct rb_span want)
{
    if (rb_span_eq(rb_py_strip(got), rb_py_strip(want)))
        return true;
    struct rb_spans wl = { 0 }, chars = { 0 }, toks = { 0 };
    expected_lines(want, &wl);
    chars_of(got, &chars);
    bool ok = !wl.failed && !chars.failed && all_close(&chars, &wl);
    if (!ok) {
        rb_py_split(got, &toks);
        struct rb_spans *units = calloc(toks.n + 1, sizeof *units);
        for (size_t i = 0; units && i < toks.n; i++)
            chars_of(toks.v[i], &units[i]);
        ok = units && !toks.failed && set_steps(units, toks.n, &wl);
        for (size_t i = 0; units && i < toks.n; i++)
            rb_spans_free(&units[i]);
        free(units);
    }
    rb_spans_free(&wl);
    rb_spans_free(&chars);
    rb_spans_free(&toks);
    return ok;
}
