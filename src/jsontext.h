/*
 * JSON text read in place: where each value of an array or object is, as a
 * span of the text, without building a tree or converting anything. For
 * datasets whose numbers must keep their exact spelling (1.0 stays a float,
 * long ints every digit: values.h takes it from there) and whose arrays run
 * to thousands of items, each visited once.
 *
 * Python's json module writes NaN, Infinity and -Infinity, which strict
 * JSON has no word for; they are read as numbers here.
 */
#ifndef RB_JSONTEXT_H
#define RB_JSONTEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Past the value that starts at `s` (after any whitespace), or NULL when it
 * is malformed or nested deeper than 512 levels. */
const char *rb_json_skip(const char *s, const char *end);

/* A walk over the items of an array or the members of an object. */
struct rb_json_iter {
    const char *s, *end;
    char close;   /* ']' or '}' */
    bool started;
};

/* Starts a walk over the array (or object) `json`: 0, or -EINVAL when it is
 * not one. */
int rb_json_array(struct rb_json_iter *it, const char *json, size_t len);
int rb_json_object(struct rb_json_iter *it, const char *json, size_t len);

/* The next item (its text, whitespace trimmed): 1, 0 at the end, -EINVAL
 * when the text is malformed. For an object, `key` is the member's name
 * with its quotes (NULL for an array's walk). */
int rb_json_next(struct rb_json_iter *it, const char **key, size_t *key_len, const char **value,
                 size_t *value_len);

/* The member `key` of the object `json`: 0, -ENOENT or -EINVAL. */
int rb_json_find(const char *json, size_t len, const char *key, const char **value, size_t *value_len);

#endif
