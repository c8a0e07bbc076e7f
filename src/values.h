/*
 * Python values outside Python: what a function-call test returns, carried
 * from the job as type-tagged JSON and compared here, in the supervisor, so
 * that expected values never enter the job's process.
 *
 * The tagged form (sandbox/pyvalues.c writes and reads it in the worker):
 *   a JSON string        str
 *   true, false          bool
 *   null                 None
 *   ["i", "123"]         int (decimal digits: any size)
 *   ["f", "1.5"]         float (repr: "nan", "inf", "-inf", "1e+300" ...)
 *   ["c", "re", "im"]    complex (each part as a float's repr)
 *   ["cs", "(1-2j)"]     complex(string), decoded in the worker (MBPP+ task 124's inputs)
 *   ["b", "base64"]      bytes
 *   ["z", "base64"]      str holding NUL characters (its UTF-8): a JSON string
 *                        with \u0000 does not survive cJSON, whose strings end at NUL
 *   ["l", v...]          list
 *   ["t", v...]          tuple
 *   ["set", v...]        set
 *   ["fs", v...]         frozenset
 *   ["d", k, v, k, v...] dict, in insertion order
 *   ["x", "type", "repr"] anything else (compares equal to nothing)
 *   ["h", "hex", "bytes"] a value whose text passed the job's size limit: the
 *                        128-bit digest of that text, equal to the same digest
 * Numbers are never bare JSON numbers, which would lose int/float and
 * precision past 2^53.
 */
#ifndef RB_VALUES_H
#define RB_VALUES_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

enum rb_value_kind {
    RB_V_NONE, RB_V_BOOL, RB_V_INT, RB_V_FLOAT, RB_V_COMPLEX, RB_V_STR, RB_V_BYTES,
    RB_V_LIST, RB_V_TUPLE, RB_V_SET, RB_V_FROZENSET, RB_V_DICT, RB_V_OTHER,
};

struct rb_value {
    enum rb_value_kind kind;
    bool b;
    const char *text; /* int: its digits, with a '-' when negative (normalised: no
                         leading zeros, "0"); str, bytes (decoded), other: its repr */
    size_t len;       /* str and bytes */
    double f, im;     /* float; complex (f = real part) */
    const char *type_name; /* other */
    struct rb_value *items; /* containers; a dict's as key, value, key, value... */
    size_t n;
};

/* What parsed values hold (besides the cJSON tree's strings, which must
 * outlive them): freed at once by rb_value_arena_free. */
struct rb_value_arena {
    void **blocks;
    size_t nblocks;
};

/* Parses the tagged form. 0, or -EINVAL with a reason in `err` (a value the
 * worker or a dataset could not have sent). */
int rb_value_parse(const cJSON *tagged, struct rb_value *out, struct rb_value_arena *arena, char *err,
                   size_t errlen);
void rb_value_arena_free(struct rb_value_arena *arena);

/* Python's `a == b` for these types: numbers by value across bool, int,
 * float and complex (exactly, for ints of any size); list == tuple is
 * false; dicts and sets unordered; NaN equal to nothing. */
bool rb_value_equal(const struct rb_value *a, const struct rb_value *b);

/* Python's truth of `isinstance(v, float)`, or a non-empty list or tuple of
 * floats: evalplus's is_floats. */
bool rb_value_is_floats(const struct rb_value *v);

/* Same type, same shape, and every number close: |a - b| <= atol + rtol * |b|
 * (numpy.allclose after evalplus's exact type check). */
bool rb_value_allclose(const struct rb_value *out, const struct rb_value *exp, double rtol, double atol);

/* The tagged form (compact JSON text) of a plain JSON document, numbers
 * kept exact: integers become ints, other numbers floats; NaN, Infinity and
 * -Infinity (as Python's json writes them) are floats too; arrays are lists,
 * objects dicts. The dataset formats' inputs and outputs come this way.
 * An object with one member named $tuple, $set, $frozenset or $dict (an
 * array of [key, value] pairs), or $int, $float, $bytes (base64) or
 * $complex (Python's spelling, "(1-2j)") is that type instead.
 * Malloc'd, or NULL with `err` filled. */
char *rb_value_tagged_from_json(const char *json, size_t len, char *err, size_t errlen);

/* Where the member `key` of the JSON object in `json` is, as text (its
 * numbers exactly as written): 0, -ENOENT, or -EINVAL. */
int rb_json_member(const char *json, size_t len, const char *key, const char **value, size_t *value_len);

/* Where item `index` of the JSON array in `json` is, likewise. */
int rb_json_item(const char *json, size_t len, size_t index, const char **value, size_t *value_len);

/* Shared by values.c and tagjson.c: an int's digits normalised ("-0012" is
 * "-12", "0x1f" is "31"), false when it is not an int; and a float's repr
 * read back ("nan", "inf", "-inf" too). Without `convert`, an int not
 * already in its canonical form (decimal below 10^4300, hex from there on,
 * as the worker sends them) is refused rather than converted: what a job
 * sends must not cost the supervisor time quadratic in its length. */
bool rb_value_normalise_int(const char *s, char *out, size_t outlen, bool convert);
bool rb_value_parse_float(const char *s, double *out);

/* Python's repr of a value, for messages and records (at most `max` bytes,
 * then "..."). */
void rb_value_repr(const struct rb_value *v, struct rb_buf *out, size_t max);

#endif
