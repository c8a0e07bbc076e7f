/*
 * Python's rules for text, in C, for comparing outputs the way the
 * benchmarks' Python graders do (compare.c): spans of a buffer, str.strip(),
 * str.split(), str.splitlines(), float() and Decimal() of a token.
 * graders.c builds the graders' own output comparisons from them.
 *
 * Text is UTF-8. Python's whitespace (str.isspace), line breaks and decimal
 * digits (category Nd, which float() and Decimal() read) are recognised in
 * their UTF-8 spellings.
 */
#ifndef RB_PYTEXT_H
#define RB_PYTEXT_H

#include <stdbool.h>
#include <stddef.h>

struct rb_span {
    const char *s;
    size_t n;
};

/* A growable list of spans; `failed` once an allocation failed. */
struct rb_spans {
    struct rb_span *v;
    size_t n, cap;
    bool failed;
};

void rb_spans_push(struct rb_spans *l, struct rb_span s);
void rb_spans_free(struct rb_spans *l);
void rb_spans_drop_empty(struct rb_spans *l);
bool rb_span_eq(struct rb_span a, struct rb_span b);

/* s.split(sep) for a one-character sep: always one more part than seps. */
void rb_split_char(const char *s, size_t len, char sep, struct rb_spans *out);
/* Split at any character of `seps`, empty parts kept (re.split('[..]')). */
void rb_split_any(const char *s, size_t len, const char *seps, struct rb_spans *out);
/* bytes.split(): runs of ASCII whitespace, no empty parts. */
void rb_split_ascii_ws(struct rb_span s, struct rb_spans *out);
/* str.split(): runs of Unicode whitespace, no empty parts. */
void rb_py_split(struct rb_span s, struct rb_spans *out);
/* str.splitlines() (line breaks dropped). */
void rb_py_splitlines(struct rb_span s, struct rb_spans *out);
/* str.strip() */
struct rb_span rb_py_strip(struct rb_span s);

/* float(s) of a str: true with the value when Python would read it. */
bool rb_py_float(struct rb_span s, double *out);
/* float(b) of bytes: ASCII whitespace and digits only. */
bool rb_py_float_bytes(struct rb_span s, double *out);
/* absl::SimpleAtod: surrounding ASCII whitespace, an optional '+', then
 * std::from_chars's general format (inf, infinity, nan, nan(...) too). */
bool rb_absl_atod(struct rb_span s, double *out);

/* Decimal(a) == Decimal(b): false when either does not read as a Decimal,
 * and for a NaN. */
bool rb_py_decimal_equal(struct rb_span a, struct rb_span b);
/* Whether Decimal(tok) reads tok. */
bool rb_py_is_decimal(struct rb_span tok);

/* The length of the UTF-8 character at s (1 for a stray byte). */
size_t rb_utf8_char_len(const unsigned char *s, size_t n);

#endif
