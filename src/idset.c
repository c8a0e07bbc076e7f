#include "idset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

uint64_t rb_id_hash(const char *id, size_t len)
{
    /* FNV-1a over the bytes, then the splitmix64 finaliser to spread the
     * bits FNV leaves weak; 0 is reserved for empty slots. */
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)id[i];
        h *= 0x100000001b3ull;
    }
    h ^= len;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h ? h : 1;
}

static size_t find_slot(const uint64_t *slots, size_t cap, uint64_t h)
{
    size_t i = (size_t)h & (cap - 1);
    while (slots[i] != 0 && slots[i] != h)
        i = (i + 1) & (cap - 1);
    return i;
}

/* The tables come straight from mmap, not malloc: a million ids is a table
 * of 32 MB after doubling through 16, 8, 4... and runbox raises glibc's
 * trim threshold (main.c), so tables freed to malloc would stay resident
 * for the batch's life, doubling the set's memory. munmap gives them back. */
static uint64_t *table_new(size_t cap)
{
    void *p = mmap(NULL, cap * sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p; /* zero-filled */
}

static void table_free(uint64_t *t, size_t cap)
{
    if (t)
        munmap(t, cap * sizeof(uint64_t));
}

static int grow(struct rb_idset *s)
{
    size_t cap = s->cap ? s->cap * 2 : 1024;
    uint64_t *slots = table_new(cap);
    uint64_t *values = table_new(cap);
    if (!slots || !values) {
        table_free(slots, cap);
        table_free(values, cap);
        return -ENOMEM;
    }
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->slots[i])
            continue;
        size_t j = find_slot(slots, cap, s->slots[i]);
        slots[j] = s->slots[i];
        values[j] = s->values[i];
    }
    table_free(s->slots, s->cap);
    table_free(s->values, s->cap);
    s->slots = slots;
    s->values = values;
    s->cap = cap;
    return 0;
}

int rb_idset_add(struct rb_idset *s, const char *id, size_t len, uint64_t value, uint64_t *existing)
{
    if ((s->count + 1) * 4 > s->cap * 3) { /* keep the load under 3/4 */
        int rc = grow(s);
        if (rc < 0)
            return rc;
    }
    uint64_t h = rb_id_hash(id, len);
    size_t i = find_slot(s->slots, s->cap, h);
    if (s->slots[i] == h) {
        if (existing)
            *existing = s->values[i];
        return 0;
    }
    s->slots[i] = h;
    s->values[i] = value;
    s->count++;
    return 1;
}

bool rb_idset_contains(const struct rb_idset *s, const char *id, size_t len)
{
    if (!s->cap)
        return false;
    uint64_t h = rb_id_hash(id, len);
    return s->slots[find_slot(s->slots, s->cap, h)] == h;
}

bool rb_idset_get(const struct rb_idset *s, const char *id, size_t len, uint64_t *value)
{
    if (!s->cap)
        return false;
    uint64_t h = rb_id_hash(id, len);
    size_t i = find_slot(s->slots, s->cap, h);
    if (s->slots[i] != h)
        return false;
    *value = s->values[i];
    return true;
}

void rb_idset_free(struct rb_idset *s)
{
    table_free(s->slots, s->cap);
    table_free(s->values, s->cap);
    memset(s, 0, sizeof *s);
}
