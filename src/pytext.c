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

size_t rb_utf8_char_len(const unsigned char *s, size_t n)
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
            i += unicode ? rb_utf8_char_len(p + i, s.n - i) : 1;
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
            i += rb_utf8_char_len(p + i, s.n - i);
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
    *len = rb_utf8_char_len(s, n);
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

bool rb_py_decimal_equal(struct rb_span a, struct rb_span b)
{
    struct decimal da, db;
    return parse_decimal(a, &da) && parse_decimal(b, &db) && decimal_equal(&da, &db);
}

bool rb_py_is_decimal(struct rb_span tok)
{
    struct decimal d;
    return parse_decimal(tok, &d);
}
