#include "compare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

static bool tokens_match(const struct rb_compare *how, const char *a, size_t alen, const char *b,
                         size_t blen)
{
    if (alen == blen && memcmp(a, b, alen) == 0)
        return true;
    double x, y;
    if (how->float_tolerance >= 0 && as_number(a, alen, &x) && as_number(b, blen, &y))
        return fabs(x - y) <= how->float_tolerance * fmax(1.0, fabs(y));
    return false;
}

bool rb_output_matches(const struct rb_compare *how, const char *got, size_t got_len,
                       const char *want, size_t want_len)
{
    if (how->mode == RB_COMPARE_EXACT)
        return got_len == want_len && memcmp(got, want, got_len) == 0;
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
