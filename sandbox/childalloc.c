/*
 * The worker's allocator for Python's object and memory domains (see
 * childalloc.h for why).
 *
 * Layout. Chunks of 1 MiB, aligned to 1 MiB, are mapped as needed and cut
 * into runs of 64 KiB; a run serves one size class, its first 16 bytes say
 * which. Blocks are handed out from a class's free list first, then by
 * bumping a pointer through the class's current run, so a job's objects sit
 * densely in pages nobody else has. Requests above 32 KiB get a mapping of
 * their own (16-byte header, then the block), grown with mremap.
 *
 * Ownership. A block is ours when its 1 MiB chunk is in the chunk table or
 * it is in the table of large blocks; everything else was made before the
 * fork by the allocator we replaced.
 */
#include <Python.h> /* first: it sets the feature macros (_GNU_SOURCE among them) */

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "childalloc.h"

#define CHUNK_SHIFT 20
#define CHUNK_SIZE ((size_t)1 << CHUNK_SHIFT)
#define RUN_SIZE ((size_t)64 << 10)
#define RUNS_PER_CHUNK (CHUNK_SIZE / RUN_SIZE)
#define ALIGNMENT 16
#define RUN_HEADER 16
#define SMALL_MAX 512
#define MEDIUM_MAX ((size_t)32 << 10)
#define NSMALL (SMALL_MAX / ALIGNMENT)
#define NCLASSES (NSMALL + 24) /* 4 classes per doubling from 512 to 32 KiB */
#define LARGE_HEADER 16
#define RUN_MAGIC 0x52424e52u /* "RBNR" */

struct run_header {
    uint32_t magic;
    uint32_t cls;
    uint64_t pad;
};

struct free_block {
    struct free_block *next;
};

struct size_class {
    struct free_block *free;
    char *bump, *end; /* the rest of the current run */
};

/* An open-addressing set of addresses (linear probing, 0 = empty), stored
 * in memory of its own so that it never touches the shared heap. */
struct addr_set {
    uintptr_t *slots;
    size_t cap, n;
};

static struct {
    bool installed;
    struct size_class classes[NCLASSES];
    char *chunk, *chunk_end; /* runs not yet handed to a class */
    struct addr_set chunks;  /* chunk numbers (address >> 20) */
    struct addr_set large;   /* addresses of large blocks' mappings */
    PyMemAllocatorEx old_obj, old_mem;
    struct rb_childalloc_stats stats;
} A;

/* ---- the sets ---------------------------------------------------------------- */

static size_t hash_addr(uintptr_t v, size_t cap)
{
    v ^= v >> 33;
    v *= 0xff51afd7ed558ccdULL;
    v ^= v >> 33;
    return (size_t)v & (cap - 1);
}

static bool set_has(const struct addr_set *s, uintptr_t v)
{
    if (!s->cap)
        return false;
    for (size_t i = hash_addr(v, s->cap);; i = (i + 1) & (s->cap - 1)) {
        if (s->slots[i] == v)
            return true;
        if (s->slots[i] == 0)
            return false;
    }
}

static void set_put(struct addr_set *s, uintptr_t v)
{
    size_t i = hash_addr(v, s->cap);
    while (s->slots[i] != 0 && s->slots[i] != v)
        i = (i + 1) & (s->cap - 1);
    if (s->slots[i] == 0) {
        s->slots[i] = v;
        s->n++;
    }
}

/* Room for one more; false when no memory is left for the table. */
static bool set_reserve(struct addr_set *s)
{
    if ((s->n + 1) * 2 <= s->cap)
        return true;
    size_t cap = s->cap ? s->cap * 2 : 512;
    uintptr_t *slots = mmap(NULL, cap * sizeof *slots, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (slots == MAP_FAILED)
        return false;
    struct addr_set grown = { slots, cap, 0 };
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i])
            set_put(&grown, s->slots[i]);
    if (s->slots)
        munmap(s->slots, s->cap * sizeof *s->slots);
    *s = grown;
    return true;
}

static void set_remove(struct addr_set *s, uintptr_t v)
{
    if (!s->cap)
        return;
    size_t mask = s->cap - 1, i = hash_addr(v, s->cap);
    while (s->slots[i] != v) {
        if (s->slots[i] == 0)
            return;
        i = (i + 1) & mask;
    }
    /* Backward-shift deletion: move later members of the probe sequence up
     * so that no lookup stops early at the hole. */
    size_t hole = i;
    for (size_t j = (i + 1) & mask; s->slots[j] != 0; j = (j + 1) & mask) {
        size_t home = hash_addr(s->slots[j], s->cap);
        bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            s->slots[hole] = s->slots[j];
            hole = j;
        }
    }
    s->slots[hole] = 0;
    s->n--;
}

/* ---- size classes ------------------------------------------------------------- */

static unsigned class_of(size_t n)
{
    if (n <= SMALL_MAX)
        return n == 0 ? 0 : (unsigned)((n - 1) / ALIGNMENT);
    unsigned b = 63u - (unsigned)__builtin_clzll((unsigned long long)(n - 1)); /* 2^b < n <= 2^(b+1) */
    size_t step = (size_t)1 << (b - 2);
    unsigned idx = (unsigned)((n - 1 - ((size_t)1 << b)) / step);
    return NSMALL + (b - 9) * 4 + idx;
}

static size_t class_size(unsigned cls)
{
    if (cls < NSMALL)
        return (size_t)(cls + 1) * ALIGNMENT;
    unsigned b = 9 + (cls - NSMALL) / 4, idx = (cls - NSMALL) % 4;
    return ((size_t)1 << b) + (size_t)(idx + 1) * ((size_t)1 << (b - 2));
}

/* ---- chunks and runs ---------------------------------------------------------- */

static bool new_chunk(void)
{
    if (!set_reserve(&A.chunks))
        return false;
    /* Twice the size, then the aligned middle is kept. */
    char *p = mmap(NULL, 2 * CHUNK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return false;
    uintptr_t start = ((uintptr_t)p + CHUNK_SIZE - 1) & ~(uintptr_t)(CHUNK_SIZE - 1);
    if (start > (uintptr_t)p)
        munmap(p, start - (uintptr_t)p);
    uintptr_t tail = start + CHUNK_SIZE, end = (uintptr_t)p + 2 * CHUNK_SIZE;
    if (end > tail)
        munmap((void *)tail, end - tail);
    set_put(&A.chunks, start >> CHUNK_SHIFT);
    A.chunk = (char *)start;
    A.chunk_end = (char *)start + CHUNK_SIZE;
    A.stats.chunks++;
    return true;
}

static bool new_run(unsigned cls)
{
    if (A.chunk == A.chunk_end && !new_chunk())
        return false;
    struct run_header *h = (struct run_header *)A.chunk;
    A.chunk += RUN_SIZE;
    h->magic = RUN_MAGIC;
    h->cls = cls;
    A.classes[cls].bump = (char *)h + RUN_HEADER;
    A.classes[cls].end = (char *)h + RUN_SIZE;
    return true;
}

/* A block of class `cls`; *fresh says whether it is still all zeros. */
static void *class_alloc(unsigned cls, bool *fresh)
{
    struct size_class *c = &A.classes[cls];
    if (c->free) {
        struct free_block *b = c->free;
        c->free = b->next;
        *fresh = false;
        return b;
    }
    size_t size = class_size(cls);
    if ((size_t)(c->end - c->bump) < size && !new_run(cls))
        return NULL;
    void *p = c->bump;
    c->bump += size;
    *fresh = true;
    return p;
}

static bool in_chunk(const void *p)
{
    return set_has(&A.chunks, (uintptr_t)p >> CHUNK_SHIFT);
}

static unsigned run_class(const void *p)
{
    const struct run_header *h = (const struct run_header *)((uintptr_t)p & ~(uintptr_t)(RUN_SIZE - 1));
    return h->cls;
}

/* ---- large blocks -------------------------------------------------------------- */

static size_t page_round(size_t n)
{
    size_t page = 4096;
    return (n + page - 1) & ~(page - 1);
}

static void *large_alloc(size_t n)
{
    if (n > SIZE_MAX - LARGE_HEADER - 4096 || !set_reserve(&A.large))
        return NULL;
    size_t len = page_round(n + LARGE_HEADER);
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    *(size_t *)m = len;
    set_put(&A.large, (uintptr_t)m);
    A.stats.large_blocks++;
    A.stats.large_bytes += len;
    return m + LARGE_HEADER;
}

static char *large_base(const void *p)
{
    return (char *)p - LARGE_HEADER;
}

static bool is_large(const void *p)
{
    return ((uintptr_t)p & 4095) == LARGE_HEADER && set_has(&A.large, (uintptr_t)large_base(p));
}

static void large_free(void *p)
{
    char *m = large_base(p);
    size_t len = *(size_t *)m;
    set_remove(&A.large, (uintptr_t)m);
    A.stats.large_blocks--;
    A.stats.large_bytes -= len;
    munmap(m, len);
}

static void *large_resize(void *p, size_t n)
{
    char *m = large_base(p);
    size_t len = *(size_t *)m;
    if (n > SIZE_MAX - LARGE_HEADER - 4096)
        return NULL;
    size_t want = page_round(n + LARGE_HEADER);
    if (want == len)
        return p;
    char *q = mremap(m, len, want, MREMAP_MAYMOVE);
    if (q == MAP_FAILED)
        return NULL;
    *(size_t *)q = want;
    if (q != m) {
        set_remove(&A.large, (uintptr_t)m);
        set_put(&A.large, (uintptr_t)q); /* the slot m freed is room enough */
    }
    A.stats.large_bytes += want;
    A.stats.large_bytes -= len;
    return q + LARGE_HEADER;
}

/* ---- the allocator's interface ------------------------------------------------- */

static void *alloc(size_t n, bool *fresh)
{
    if (n <= MEDIUM_MAX)
        return class_alloc(class_of(n), fresh);
    *fresh = true;
    return large_alloc(n);
}

void *rb_childalloc_malloc(void *ctx, size_t n)
{
    (void)ctx;
    bool fresh;
    return alloc(n, &fresh);
}

void *rb_childalloc_calloc(void *ctx, size_t nelem, size_t elsize)
{
    (void)ctx;
    if (elsize && nelem > SIZE_MAX / elsize)
        return NULL;
    size_t n = nelem * elsize;
    bool fresh;
    void *p = alloc(n, &fresh);
    if (p && !fresh)
        memset(p, 0, n);
    return p;
}

void rb_childalloc_free(void *ctx, void *p)
{
    (void)ctx;
    if (!p)
        return;
    if (in_chunk(p)) {
        struct free_block *b = p;
        struct size_class *c = &A.classes[run_class(p)];
        b->next = c->free;
        c->free = b;
    } else if (is_large(p)) {
        large_free(p);
    } else {
        A.stats.foreign_frees++; /* the zygote's: leave its page shared */
    }
}

void *rb_childalloc_realloc(void *ctx, void *p, size_t n)
{
    if (!p)
        return rb_childalloc_malloc(ctx, n);
    size_t old;
    if (in_chunk(p)) {
        unsigned cls = run_class(p);
        if (n <= MEDIUM_MAX && class_of(n) == cls)
            return p;
        old = class_size(cls);
    } else if (is_large(p)) {
        if (n > MEDIUM_MAX)
            return large_resize(p, n);
        old = *(size_t *)large_base(p) - LARGE_HEADER;
    } else {
        /* A block of the zygote's: only its own allocator knows its size. */
        A.stats.foreign_reallocs++;
        const PyMemAllocatorEx *was = ctx;
        return was ? was->realloc(was->ctx, p, n) : NULL;
    }
    void *q = rb_childalloc_malloc(ctx, n);
    if (!q)
        return NULL;
    memcpy(q, p, old < n ? old : n);
    rb_childalloc_free(ctx, p);
    return q;
}

bool rb_childalloc_installed(void)
{
    return A.installed;
}

void *rb_childalloc_c_malloc(size_t n)
{
    return rb_childalloc_malloc(NULL, n);
}

void rb_childalloc_c_free(void *p)
{
    rb_childalloc_free(NULL, p);
}

bool rb_childalloc_owns(const void *p)
{
    return p && (in_chunk(p) || is_large(p));
}

void rb_childalloc_stats(struct rb_childalloc_stats *out)
{
    *out = A.stats;
}

void rb_childalloc_install(void)
{
    if (A.installed)
        return;
    A.installed = true;
    PyMem_GetAllocator(PYMEM_DOMAIN_OBJ, &A.old_obj);
    PyMem_GetAllocator(PYMEM_DOMAIN_MEM, &A.old_mem);
    PyMemAllocatorEx obj = { &A.old_obj, rb_childalloc_malloc, rb_childalloc_calloc, rb_childalloc_realloc,
                             rb_childalloc_free };
    PyMemAllocatorEx mem = { &A.old_mem, rb_childalloc_malloc, rb_childalloc_calloc, rb_childalloc_realloc,
                             rb_childalloc_free };
    PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, &obj);
    PyMem_SetAllocator(PYMEM_DOMAIN_MEM, &mem);
}
