/*
 * libFuzzer target: comparing a program's output with the expected one
 * (src/compare.c, rb_output_matches).
 *
 * Input: one byte choosing the tolerance, then `got`, a 0xff byte, `want`
 * (no 0xff: all of it is `got`; either side may hold NULs). Besides ASan and
 * UBSan, it checks what the mode promises against a reference written here
 * the plain way:
 *
 *   - every output matches itself, in every mode;
 *   - "exact" matches exactly when the bytes are the same;
 *   - "whitespace" without a tolerance matches exactly when the
 *     whitespace-separated tokens are the same;
 *   - a tolerance only ever adds matches.
 *
 * Build and run: docs/testing.md (meson -Dfuzz=true, suite "fuzz").
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "fuzz_check.h"

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* The same tokens in the same order, found the obvious way. */
static bool same_tokens(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < alen && is_space(a[i]))
            i++;
        while (j < blen && is_space(b[j]))
            j++;
        if (i == alen || j == blen)
            return i == alen && j == blen;
        size_t si = i, sj = j;
        while (i < alen && !is_space(a[i]))
            i++;
        while (j < blen && !is_space(b[j]))
            j++;
        if (i - si != j - sj || memcmp(a + si, b + sj, i - si) != 0)
            return false;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const double tolerances[] = { 0, 1e-9, 1e-6, 1e-3, 0.5, 1, 1e300 };
    if (size == 0)
        return 0;
    double tol = tolerances[data[0] % (sizeof tolerances / sizeof tolerances[0])];
    data++;
    size--;
    /* Copies of exactly the right length, so ASan sees any read past an end. */
    const uint8_t *sep = memchr(data, 0xff, size);
    size_t glen = sep ? (size_t)(sep - data) : size;
    size_t wlen = sep ? size - glen - 1 : 0;
    char *got = malloc(glen ? glen : 1), *want = malloc(wlen ? wlen : 1);
    CHECK(got && want);
    memcpy(got, data, glen);
    if (wlen)
        memcpy(want, sep + 1, wlen);

    const struct rb_compare exact = { RB_COMPARE_EXACT, -1 };
    const struct rb_compare tokens = { RB_COMPARE_WHITESPACE, -1 };
    const struct rb_compare loose = { RB_COMPARE_WHITESPACE, tol };
    const struct rb_compare *all[] = { &exact, &tokens, &loose };
    for (size_t i = 0; i < 3; i++) {
        CHECK(rb_output_matches(all[i], got, glen, got, glen));
        CHECK(rb_output_matches(all[i], want, wlen, want, wlen));
    }

    bool same_bytes = glen == wlen && memcmp(got, want, glen) == 0;
    CHECK(rb_output_matches(&exact, got, glen, want, wlen) == same_bytes);
    bool by_tokens = rb_output_matches(&tokens, got, glen, want, wlen);
    CHECK(by_tokens == same_tokens((const uint8_t *)got, glen, (const uint8_t *)want, wlen));
    if (by_tokens)
        CHECK(rb_output_matches(&loose, got, glen, want, wlen));
    free(got);
    free(want);
    return 0;
}
