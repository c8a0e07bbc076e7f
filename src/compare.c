/*
 * Comparing outputs (compare.h).
 *
 * The benchmarks' comparators are written in Python; what they do to text
 * is reproduced here with Python's own rules where they matter: str.strip()
 * and str.split() take Unicode whitespace, str.splitlines() breaks at
 * \r, \v, \f, \x1c-\x1e and U+0085/2028/2029 as well as \n, float() and
 * Decimal() read their own spellings (underscores, "inf", "nan"). Each
 * comparator cites the grader it follows; pytext.c holds the Python rules.
 */
#define _GNU_SOURCE
#include "compare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graders.h"
#include "pytext.h"

static const struct rb_compare_info COMPARATORS[] = {
    /* name               mode                        ends on              tolerance */
    { "whitespace",       RB_COMPARE_WHITESPACE,      RB_END_EXIT_ZERO,    true },
    { "exact",            RB_COMPARE_EXACT,           RB_END_EXIT_ZERO,    false },
    { "lines",            RB_COMPARE_LINES,           RB_END_EXIT_ZERO,    false },
    { "case_insensitive", RB_COMPARE_NOCASE,          RB_END_EXIT_ZERO,    false },
    { "floats",           RB_COMPARE_FLOATS,          RB_END_EXIT_ZERO,    true },
    { "unordered_lines",  RB_COMPARE_UNORDERED_LINES, RB_END_EXIT_ZERO,    false },
    /* The graders catch SystemExit around the program and judge what it printed. */
    { "livecodebench",    RB_COMPARE_LIVECODEBENCH,   RB_END_SYSTEM_EXIT,  false },
    { "apps",             RB_COMPARE_APPS,            RB_END_SYSTEM_EXIT,  false },
    /* TACO runs `python prog.py` and wants exit status 0. */
    { "taco",             RB_COMPARE_TACO,            RB_END_EXIT_ZERO,    false },
    /* CodeContests' tester sets passed = OutputsMatch(stdout, expected),
     * whatever the program's status (tester_sandboxer.cc). */
    { "codecontests",     RB_COMPARE_CODECONTESTS,    RB_END_ANY,          false },
};

#define NCOMPARATORS (sizeof COMPARATORS / sizeof COMPARATORS[0])

const struct rb_compare_info *rb_compare_named(const char *name)
{
    if (strcmp(name, "tokens") == 0)
        name = "whitespace";
    for (size_t i = 0; i < NCOMPARATORS; i++)
        if (strcmp(COMPARATORS[i].name, name) == 0)
            return &COMPARATORS[i];
    return NULL;
}

const struct rb_compare_info *rb_compare_info_of(enum rb_compare_mode mode)
{
    for (size_t i = 0; i < NCOMPARATORS; i++)
        if (COMPARATORS[i].mode == mode)
            return &COMPARATORS[i];
    return &COMPARATORS[0];
}

const char *rb_compare_names(void)
{
    return "\"tokens\" (or \"whitespace\"), \"exact\", \"lines\", \"case_insensitive\", \"floats\", "
           "\"unordered_lines\", \"livecodebench\", \"apps\", \"taco\", \"codecontests\"";
}

bool rb_case_end_judged(enum rb_compare_mode mode, rb_status status, const char *outcome)
{
    switch (rb_compare_info_of(mode)->ends) {
    case RB_END_ANY:
        return true;
    case RB_END_SYSTEM_EXIT:
        return status == RB_STATUS_OK || (status == RB_STATUS_ERROR && outcome && strcmp(outcome, "exit") == 0);
    default:
        return status == RB_STATUS_OK;
    }
}

/* ---- tokens (whitespace, case_insensitive) ------------------------------------------ */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Next whitespace-separated token at or after *pos; false at the end. */
static bool next_token(const char *s, size_t len, size_t *pos, const char **tok, size_t *tok_len)
{
    size_t i = *pos;
    while (i < len && is_space(s[i]))
        i++;
    if (i == len) {
        *pos = i;
        return false;
    }
    size_t start = i;
    while (i < len && !is_space(s[i]))
        i++;
    *tok = s + start;
    *tok_len = i - start;
    *pos = i;
    return true;
}

static bool as_number(const char *tok, size_t len, double *out)
{
    char buf[128];
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, tok, len);
    buf[len] = '\0';
    char *end;
    double v = strtod(buf, &end);
    if (*end || !isfinite(v))
        return false;
    /* strtod also reads "inf", "nan" and hex floats; a grader's numbers are decimal. */
    for (size_t i = 0; i < len; i++)
        if (buf[i] == 'x' || buf[i] == 'X' || buf[i] == 'n' || buf[i] == 'N' || buf[i] == 'i' || buf[i] == 'I')
            return false;
    *out = v;
    return true;
}

static bool same_nocase(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (char)(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

static bool tokens_match(const struct rb_compare *how, const char *a, size_t alen, const char *b,
                         size_t blen)
{
    if (alen == blen && (how->mode == RB_COMPARE_NOCASE ? same_nocase(a, b, alen) : memcmp(a, b, alen) == 0))
        return true;
    double x, y;
    if (how->mode == RB_COMPARE_WHITESPACE && how->float_tolerance >= 0 && as_number(a, alen, &x) &&
        as_number(b, blen, &y))
        return fabs(x - y) <= how->float_tolerance * fmax(1.0, fabs(y));
    return false;
}

static bool tokens_equal(const struct rb_compare *how, const char *got, size_t got_len, const char *want,
                         size_t want_len)
{
    size_t gp = 0, wp = 0;
    for (;;) {
        const char *gt, *wt;
        size_t gl, wl;
        bool g = next_token(got, got_len, &gp, &gt, &gl);
        bool w = next_token(want, want_len, &wp, &wt, &wl);
        if (!g || !w)
            return g == w;
        if (!tokens_match(how, gt, gl, wt, wl))
            return false;
    }
}

/* ---- lines, unordered_lines ------------------------------------------------------------ */

/* Lines split at \n, each without its trailing spaces, tabs and \r;
 * `drop_blank`: without blank lines; else without the blank lines at the end. */
static struct rb_spans trimmed_lines(const char *s, size_t len, bool drop_blank)
{
    struct rb_spans lines = { 0 };
    rb_split_char(s, len, '\n', &lines);
    size_t kept = 0;
    for (size_t i = 0; i < lines.n; i++) {
        struct rb_span l = lines.v[i];
        while (l.n > 0 && (l.s[l.n - 1] == ' ' || l.s[l.n - 1] == '\t' || l.s[l.n - 1] == '\r'))
            l.n--;
        if (!drop_blank || l.n > 0)
            lines.v[kept++] = l;
    }
    lines.n = kept;
    while (lines.n > 0 && lines.v[lines.n - 1].n == 0)
        lines.n--;
    return lines;
}

static int span_order(const void *a, const void *b)
{
    const struct rb_span *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->s, y->s, n);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

static bool lines_equal(const char *got, size_t got_len, const char *want, size_t want_len, bool unordered)
{
    struct rb_spans g = trimmed_lines(got, got_len, unordered);
    struct rb_spans w = trimmed_lines(want, want_len, unordered);
    bool ok = !g.failed && !w.failed && g.n == w.n;
    if (ok && unordered) {
        qsort(g.v, g.n, sizeof *g.v, span_order);
        qsort(w.v, w.n, sizeof *w.v, span_order);
    }
    for (size_t i = 0; ok && i < g.n; i++)
        ok = rb_span_eq(g.v[i], w.v[i]);
    rb_spans_free(&g);
    rb_spans_free(&w);
    return ok;
}

/* ---- DMOJ's floats ---------------------------------------------------------------- */

/* dmoj/checkers/floats.py, error_mode "default": lines split at \r and \n
 * with empty ones dropped, the same number of lines and of tokens on each;
 * a token of the expected output that float() reads must be matched by a
 * number within epsilon, absolutely or relatively; any other token exactly. */
static bool floats_equal(const char *got, size_t got_len, const char *want, size_t want_len, double epsilon)
{
    struct rb_spans gl = { 0 }, wl = { 0 }, gt = { 0 }, wt = { 0 };
    rb_split_any(got, got_len, "\r\n", &gl);
    rb_split_any(want, want_len, "\r\n", &wl);
    rb_spans_drop_empty(&gl);
    rb_spans_drop_empty(&wl);
    bool ok = !gl.failed && !wl.failed && gl.n == wl.n;
    for (size_t i = 0; ok && i < gl.n; i++) {
        gt.n = wt.n = 0;
        rb_split_ascii_ws(gl.v[i], &gt);
        rb_split_ascii_ws(wl.v[i], &wt);
        ok = !gt.failed && !wt.failed && gt.n == wt.n;
        for (size_t k = 0; ok && k < gt.n; k++) {
            double j, p;
            if (!rb_py_float_bytes(wt.v[k], &j)) {
                ok = rb_span_eq(gt.v[k], wt.v[k]);
            } else {
                /* float(process_token) raising ends the check: not a match. */
                ok = rb_py_float_bytes(gt.v[k], &p) &&
                     (fabs(p - j) <= epsilon || (fabs(j) >= epsilon && fabs(1.0 - p / j) <= epsilon));
            }
        }
    }
    rb_spans_free(&gl);
    rb_spans_free(&wl);
    rb_spans_free(&gt);
    rb_spans_free(&wt);
    return ok;
}

/* ---- CodeContests ---------------------------------------------------------------- */

/* execution/tester_sandboxer.cc: SplitAndLowercase splits at any of
 * " \n\t\r\v" (not \f), drops empty parts and lower-cases ASCII; equal
 * lists match; else the same count, and token by token ValuesMatch: a
 * token absl::SimpleAtod cannot read is a string, strings must be equal;
 * two numbers must be within 1e-5 (as doubles: SimpleAtoi succeeding
 * implies SimpleAtod does, so the integer branch is never reached). */
static bool codecontests_equal(const char *got, size_t got_len, const char *want, size_t want_len)
{
    struct rb_spans g = { 0 }, w = { 0 };
    rb_split_any(got, got_len, " \n\t\r\v", &g);
    rb_split_any(want, want_len, " \n\t\r\v", &w);
    rb_spans_drop_empty(&g);
    rb_spans_drop_empty(&w);
    bool ok = !g.failed && !w.failed && g.n == w.n;
    bool all_equal = ok;
    for (size_t i = 0; all_equal && i < g.n; i++)
        all_equal = g.v[i].n == w.v[i].n && same_nocase(g.v[i].s, w.v[i].s, g.v[i].n);
    /* Token by token only when the lists differ: then two numbers compare
     * by value even when spelt alike ("nan" never matches "nan"). */
    for (size_t i = 0; ok && !all_equal && i < g.n; i++) {
        double a, b;
        bool an = rb_absl_atod(g.v[i], &a), bn = rb_absl_atod(w.v[i], &b);
        if (an && bn)
            ok = fabs(a - b) < 1e-5;
        else
            ok = g.v[i].n == w.v[i].n && same_nocase(g.v[i].s, w.v[i].s, g.v[i].n);
    }
    rb_spans_free(&g);
    rb_spans_free(&w);
    return ok;
}

bool rb_output_matches(const struct rb_compare *how, const char *got, size_t got_len,
                       const char *want, size_t want_len)
{
    struct rb_span g = { got, got_len }, w = { want, want_len };
    switch (how->mode) {
    case RB_COMPARE_EXACT:
        return rb_span_eq(g, w);
    case RB_COMPARE_LINES:
        return lines_equal(got, got_len, want, want_len, false);
    case RB_COMPARE_UNORDERED_LINES:
        return lines_equal(got, got_len, want, want_len, true);
    case RB_COMPARE_FLOATS:
        return floats_equal(got, got_len, want, want_len, how->float_tolerance >= 0 ? how->float_tolerance : 1e-6);
    case RB_COMPARE_LIVECODEBENCH:
        return rb_lcb_output_matches(g, w);
    case RB_COMPARE_APPS:
        return rb_apps_output_matches(g, w);
    case RB_COMPARE_TACO:
        return rb_taco_output_matches(g, w);
    case RB_COMPARE_CODECONTESTS:
        return codecontests_equal(got, got_len, want, want_len);
    default:
        return tokens_equal(how, got, got_len, want, want_len);
    }
}
