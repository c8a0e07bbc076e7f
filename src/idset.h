/*
 * A set of job ids, kept as 64-bit hashes so that memory grows by about 32
 * bytes a job (hash, a stored number, and the table's slack) whatever the
 * ids look like. Two different ids collide with probability
 * about n^2 / 2^65: for a million ids, about 3 in 100 million.
 */
#ifndef RB_IDSET_H
#define RB_IDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rb_idset {
    uint64_t *slots;  /* 0 = empty */
    uint64_t *values; /* a number stored with each id (a line number) */
    size_t count;
    size_t cap;       /* a power of two */
};

uint64_t rb_id_hash(const char *id, size_t len);

/* Adds `id` with `value`; returns 1 if added, 0 if it was there (and then
 * *existing holds the value stored first), or a negative errno. */
int rb_idset_add(struct rb_idset *s, const char *id, size_t len, uint64_t value, uint64_t *existing);
bool rb_idset_contains(const struct rb_idset *s, const char *id, size_t len);
/* Whether `id` is there; if so, *value is the number stored with it. */
bool rb_idset_get(const struct rb_idset *s, const char *id, size_t len, uint64_t *value);
void rb_idset_free(struct rb_idset *s);

#endif
