/* Comparing a program's output with the expected one (stdin/stdout cases). */
#ifndef RB_COMPARE_H
#define RB_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

enum rb_compare_mode {
    RB_COMPARE_WHITESPACE = 0, /* the same tokens, however spaced (the default) */
    RB_COMPARE_EXACT,          /* the same bytes */
};

struct rb_compare {
    enum rb_compare_mode mode;
    double float_tolerance;    /* < 0: numbers compared as text */
};

/* Whether `got` matches `want`. With a float tolerance, two tokens that both
 * read as finite numbers match when |got - want| <= tolerance * max(1, |want|):
 * absolute near zero, relative for large values. */
bool rb_output_matches(const struct rb_compare *how, const char *got, size_t got_len,
                       const char *want, size_t want_len);

#endif
