/*
 * Python's rules for text, and the Python graders' output comparisons
 * (pytext.h). Each comparison cites the grader's source it follows.
 */
#define _GNU_SOURCE
#include "pytext.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- spans ------------------------------------------------------------------- */

void rb_spans_push(struct rb_spans *l, struct rb_span s)
{
    if (l->failed)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct rb_span *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->failed = true;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
}

void rb_spans_free(struct rb_spans *l)
{
    free(l->v);
    memset(l, 0, sizeof *l);
}

void rb_spans_drop_empty(struct rb_spans *l)
{
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].n)
            l->v[k++] = l->v[i];
    l->n = k;
}

bool rb_span_eq(struct rb_span a, struct rb_span b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.s, b.s, a.n) == 0);
}

void rb_split_char(const char *s, size_t len, char sep, struct rb_spans *out)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == sep) {
            rb_spans_push(out, (struct rb_span){ s + start, i - start });
            start = i + 1;
        }
    }
    rb_spans_push(out, (struct rb_span){ s + start, len - start });
}

void rb_split_any(const char *s, size_t len, const char *seps, struct rb_spans *out)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] && strchr(seps, s[i])) {
            rb_spans_push(out, (struct rb_span){ s + start, i - start });
            start = i + 1;
        }
    }
    rb_spans_push(out, (struct rb_span){ s + start, len - start });
}

/* ---- Python's whitespace and line breaks ---------------------------------------- */

/* The length of the character at s when str.isspace() holds for it, else 0:
 * \t-\r, \x1c-\x1f, space, U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028,
 * U+2029, U+202F, U+205F, U+3000. */
static size_t py_space(const unsigned char *s, size_t n)
{
    if (n == 0)
        return 0;
    unsigned char c = s[0];
    if ((c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20))
        return 1;
    if (c == 0xc2 && n >= 2 && (s[1] == 0x85 || s[1] == 0xa0))
        return 2;
    if (n < 3)
        return 0;
    if (c == 0xe1 && s[1] == 0x9a && s[2] == 0x80)
        return 3;
    if (c == 0xe2 && s[1] == 0x80 && ((s[2] >= 0x80 && s[2] <= 0x8a) || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf))
        return 3;
    if (c == 0xe2 && s[1] == 0x81 && s[2] == 0x9f)
        return 3;
    if (c == 0xe3 && s[1] == 0x80 && s[2] == 0x80)
        return 3;
    return 0;
}

/* The length of the line break at s for str.splitlines(), else 0. */
static size_t py_linebreak(const unsigned char *s, size_t n)
{
    if (n == 0)
        return 0;
    switch (s[0]) {
    case '\r': return n >= 2 && s[1] == '\n' ? 2 : 1;
    case '\n': case '\v': case '\f': case 0x1c: case 0x1d: case 0x1e: return 1;
    case 0xc2: return n >= 2 && s[1] == 0x85 ? 2 : 0;
    case 0xe2: return n >= 3 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9) ? 3 : 0;
    default: return 0;
    }
}

/* The length of the (UTF-8) character at s. */
static size_t char_len(const unsigned char *s, size_t n)
{
    size_t k = 1;
    while (k < n && (s[k] & 0xc0) == 0x80)
        k++;
    return k;
}

static void split_ws(struct rb_span s, struct rb_spans *out, bool unicode)
{
    const unsigned char *p = (const unsigned char *)s.s;
    size_t i = 0, start = 0;
    bool in_token = false;
    while (i < s.n) {
        size_t w = unicode ? py_space(p + i, s.n - i)
                           : (p[i] == ' ' || (p[i] >= '\t' && p[i] <= '\r')) ? 1 : 0;
        if (w) {
            if (in_token)
                rb_spans_push(out, (struct rb_span){ s.s + start, i - start });
            in_token = false;
            i += w;
        } else {
            if (!in_token)
                start = i;
            in_token = true;
            i += unicode ? char_len(p + i, s.n - i) : 1;
        }
    }
    if (in_token)
        rb_spans_push(out, (struct rb_span){ s.s + start, s.n - start });
}

void rb_split_ascii_ws(struct rb_span s, struct rb_spans *out)
{
    split_ws(s, out, false);
}

void rb_py_split(struct rb_span s, struct rb_spans *out)
{
    split_ws(s, out, true);
}

void rb_py_splitlines(struct rb_span s, struct rb_spans *out)
{
    const unsigned char *p = (const unsigned char *)s.s;
    size_t i = 0, start = 0;
    while (i < s.n) {
        size_t b = py_linebreak(p + i, s.n - i);
        if (b) {
            rb_spans_push(out, (struct rb_span){ s.s + start, i - start });
            i += b;
            start = i;
        } else {
            i += char_len(p + i, s.n - i);
        }
    }
    if (start < s.n)
        rb_spans_push(out, (struct rb_span){ s.s + start, s.n - start });
}

struct rb_span rb_py_strip(struct rb_span s)
{
    const unsigned char *p = (const unsigned char *)s.s;
    size_t w;
    while (s.n && (w = py_space(p, s.n))) {
        p += w;
        s.s += w;
        s.n -= w;
    }
    /* From the end: step back over whole characters. */
    while (s.n) {
        size_t k = s.n - 1;
        while (k > 0 && (p[k] & 0xc0) == 0x80)
            k--;
        if (py_space(p + k, s.n - k) != s.n - k)
            break;
        s.n = k;
    }
    return s;
}

/* ---- numbers ---------------------------------------------------------------- */

/* The zeros of Unicode's decimal digit runs (category Nd, each ten code
 * points in a row): float() and Decimal() read these digits too
 * (unicodedata of Python 3.11). */
static const unsigned DIGIT_ZEROS[] = {
    0x30, 0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66, 0xde6, 0xe50,
    0xed0, 0xf20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50, 0x1bb0, 0x1c40,
    0x1c50, 0xa620, 0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10, 0x104a0, 0x10d30, 0x11066,
    0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0, 0x11950,
    0x11c50, 0x11d50, 0x11da0, 0x16a60, 0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6,
    0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
};

/* The code point of the UTF-8 character at s (its length in *len), or -1. */
static long code_point(const unsigned char *s, size_t n, size_t *len)
{
    *len = char_len(s, n);
    if (*len == 1)
        return s[0] < 0x80 ? s[0] : -1;
    long cp = s[0] & (0x3f >> (*len - 1));
    for (size_t i = 1; i < *len; i++)
        cp = cp << 6 | (s[i] & 0x3f);
    return cp;
}

/* A number's text with Unicode digits as ASCII ones, as Python reads it
 * (_PyUnicode_TransformDecimalAndSpaceToASCII); false for any other
 * character outside ASCII, or when it does not fit `cap`. */
static bool ascii_digits(struct rb_span s, char *buf, size_t cap, size_t *out_len)
{
    size_t k = 0;
    for (size_t i = 0; i < s.n;) {
        size_t len;
        long cp = code_point((const unsigned char *)s.s + i, s.n - i, &len);
        if (cp < 0x80 && cp >= 0) {
            if (k + 1 >= cap)
                return false;
            buf[k++] = (char)cp;
        } else {
            bool digit = false;
            for (size_t z = 1; z < sizeof DIGIT_ZEROS / sizeof DIGIT_ZEROS[0] && !digit; z++)
                if (cp >= (long)DIGIT_ZEROS[z] && cp < (long)DIGIT_ZEROS[z] + 10) {
                    if (k + 1 >= cap)
                        return false;
                    buf[k++] = (char)('0' + (cp - (long)DIGIT_ZEROS[z]));
                    digit = true;
                }
            if (!digit)
                return false;
        }
        i += len;
    }
    buf[k] = '\0';
    *out_len = k;
    return true;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool word_nocase(const char *s, size_t n, const char *word)
{
    return n == strlen(word) && strncasecmp(s, word, n) == 0;
}

/* A decimal number's spelling at buf: digits [. digits] or . digits, then an
 * optional exponent with at least one digit. */
static bool decimal_syntax(const char *s, size_t n)
{
    size_t i = 0, mant = 0;
    while (i < n && is_digit(s[i]))
        i++, mant++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && is_digit(s[i]))
            i++, mant++;
    }
    if (mant == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t ed = 0;
        while (i < n && is_digit(s[i]))
            i++, ed++;
        if (ed == 0)
            return false;
    }
    return i == n;
}

/* float(s) of a str (`unicode`: its whitespace and digits as Python's), or
 * of bytes (ASCII only, as DMOJ's checker reads its lines). */
static bool python_float(struct rb_span s, bool unicode, double *out)
{
    char text[4096], buf[4096];
    size_t n = 0, k = 0;
    if (unicode) {
        s = rb_py_strip(s);
        if (!ascii_digits(s, text, sizeof text, &n))
            return false;
    } else {
        while (s.n && (s.s[0] == ' ' || (s.s[0] >= '\t' && s.s[0] <= '\r')))
            s.s++, s.n--;
        while (s.n && (s.s[s.n - 1] == ' ' || (s.s[s.n - 1] >= '\t' && s.s[s.n - 1] <= '\r')))
            s.n--;
        if (s.n >= sizeof text)
            return false;
        memcpy(text, s.s, s.n);
        n = s.n;
    }
    if (n == 0)
        return false;
    /* Underscores only between two digits, as in a literal. */
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '_') {
            if (i == 0 || i + 1 == n || !is_digit(text[i - 1]) || !is_digit(text[i + 1]))
                return false;
            continue;
        }
        buf[k++] = text[i];
    }
    buf[k] = '\0';
    const char *p = buf;
    bool neg = false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    size_t rest = k - (size_t)(p - buf);
    if (word_nocase(p, rest, "inf") || word_nocase(p, rest, "infinity")) {
        *out = neg ? -INFINITY : INFINITY;
        return true;
    }
    if (word_nocase(p, rest, "nan")) {
        *out = NAN;
        return true;
    }
    if (!decimal_syntax(p, rest))
        return false;
    *out = strtod(buf, NULL);
    return true;
}

bool rb_py_float(struct rb_span s, double *out)
{
    return python_float(s, true, out);
}

bool rb_py_float_bytes(struct rb_span s, double *out)
{
    return python_float(s, false, out);
}

bool rb_absl_atod(struct rb_span s, double *out)
{
    while (s.n && (s.s[0] == ' ' || (s.s[0] >= '\t' && s.s[0] <= '\r')))
        s.s++, s.n--;
    while (s.n && (s.s[s.n - 1] == ' ' || (s.s[s.n - 1] >= '\t' && s.s[s.n - 1] <= '\r')))
        s.n--;
    if (s.n && s.s[0] == '+') {
        s.s++, s.n--;
        if (s.n && s.s[0] == '-')
            return false;
    }
    if (s.n == 0 || s.n > 4000)
        return false;
    char buf[4096];
    memcpy(buf, s.s, s.n);
    buf[s.n] = '\0';
    const char *p = buf;
    bool neg = *p == '-';
    p += neg;
    size_t rest = s.n - (size_t)neg;
    if (word_nocase(p, rest, "inf") || word_nocase(p, rest, "infinity")) {
        *out = neg ? -INFINITY : INFINITY;
        return true;
    }
    if (rest >= 3 && strncasecmp(p, "nan", 3) == 0) {
        /* nan, or nan(chars) with letters, digits and underscores inside. */
        if (rest == 3) {
            *out = NAN;
            return true;
        }
        if (p[3] != '(' || p[rest - 1] != ')')
            return false;
        for (size_t i = 4; i + 1 < rest; i++)
            if (!(is_digit(p[i]) || (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') || p[i] == '_'))
                return false;
        *out = NAN;
        return true;
    }
    if (rest > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        /* Debian's absl (20220623) reads hexadecimal, floats too (0x1p4),
         * as strtod does. */
        char *end;
        *out = strtod(buf, &end);
        return *end == '\0';
    }
    if (!decimal_syntax(p, rest))
        return false;
    *out = strtod(buf, NULL); /* out of range: +-inf, as SimpleAtod answers */
    return true;
}

/* Python's Decimal(token), for equality only: finite numbers as a sign, a
 * coefficient without leading or trailing zeros, and an exponent. */
struct decimal {
    enum { DEC_FINITE, DEC_INF, DEC_NAN, DEC_SNAN } kind;
    bool neg;
    char digits[512];
    size_t ndigits;     /* 0: zero */
    long long exponent;
};

static bool parse_decimal(struct rb_span tok, struct decimal *d)
{
    char text[600], buf[600];
    size_t n, k = 0;
    memset(d, 0, sizeof *d);
    if (!ascii_digits(tok, text, sizeof text, &n))
        return false;
    for (size_t i = 0; i < n; i++)
        if (text[i] != '_')
            buf[k++] = text[i]; /* Decimal() drops every underscore */
    buf[k] = '\0';
    const char *p = buf;
    if (*p == '+' || *p == '-')
        d->neg = *p++ == '-';
    size_t rest = k - (size_t)(p - buf);
    if (word_nocase(p, rest, "inf") || word_nocase(p, rest, "infinity")) {
        d->kind = DEC_INF;
        return true;
    }
    bool signalling = rest >= 4 && strncasecmp(p, "snan", 4) == 0;
    if (signalling || (rest >= 3 && strncasecmp(p, "nan", 3) == 0)) {
        for (size_t i = signalling ? 4 : 3; i < rest; i++)
            if (!is_digit(p[i]))
                return false;
        d->kind = signalling ? DEC_SNAN : DEC_NAN;
        return true;
    }
    const char *e = strpbrk(p, "eE");
    size_t mant_len = e ? (size_t)(e - p) : rest;
    if (!decimal_syntax(p, rest))
        return false;
    long long exponent = 0;
    if (e) {
        errno = 0;
        char *end;
        exponent = strtoll(e + 1, &end, 10);
        if (errno || exponent > 999999999999999999LL || exponent < -999999999999999999LL)
            return false; /* beyond what Decimal's context allows: InvalidOperation */
    }
    bool after_point = false, leading = true;
    for (size_t i = 0; i < mant_len; i++) {
        if (p[i] == '.') {
            after_point = true;
            continue;
        }
        if (after_point)
            exponent--;
        if (leading && p[i] == '0')
            continue;
        leading = false;
        if (d->ndigits + 1 >= sizeof d->digits)
            return false;
        d->digits[d->ndigits++] = p[i];
    }
    while (d->ndigits > 0 && d->digits[d->ndigits - 1] == '0') {
        d->ndigits--;
        exponent++;
    }
    d->exponent = exponent;
    return true;
}

/* Decimal's ==: numeric; a NaN equals nothing; an sNaN raises, which the
 * grader counts as a failure like any inequality. */
static bool decimal_equal(const struct decimal *a, const struct decimal *b)
{
    if (a->kind == DEC_NAN || a->kind == DEC_SNAN || b->kind == DEC_NAN || b->kind == DEC_SNAN)
        return false;
    if (a->kind != b->kind)
        return false;
    if (a->kind == DEC_INF)
        return a->neg == b->neg;
    if (a->ndigits == 0 || b->ndigits == 0)
        return a->ndigits == b->ndigits; /* -0 == 0 */
    return a->neg == b->neg && a->exponent == b->exponent && a->ndigits == b->ndigits &&
           memcmp(a->digits, b->digits, a->ndigits) == 0;
}

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
    struct decimal *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    ok = ok && a && b;
    for (size_t i = 0; ok && i < g.n; i++) {
        if (rb_span_eq(g.v[i], w.v[i]))
            continue;
        gt.n = wt.n = 0;
        rb_py_split(g.v[i], &gt);
        rb_py_split(w.v[i], &wt);
        ok = !gt.failed && !wt.failed;
        /* Every token of both lines must read as a Decimal, then the lists compare. */
        for (size_t k = 0; ok && k < gt.n; k++)
            ok = parse_decimal(gt.v[k], a);
        for (size_t k = 0; ok && k < wt.n; k++)
            ok = parse_decimal(wt.v[k], b);
        ok = ok && gt.n == wt.n;
        for (size_t k = 0; ok && k < gt.n; k++)
            ok = parse_decimal(gt.v[k], a) && parse_decimal(wt.v[k], b) && decimal_equal(a, b);
    }
    free(a);
    free(b);
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
        size_t k = char_len(p + i, tok.n - i);
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
