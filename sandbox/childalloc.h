/*
 * The worker's allocator for Python's object and memory domains.
 *
 * A worker is forked from the zygote and shares its heap copy-on-write.
 * CPython's own allocator would place the job's new objects in the holes
 * the zygote's start-up left across hundreds of its pools and heap bins:
 * each hole written is a page copied, and on a virtual machine each copy
 * costs a TLB flush through the hypervisor. This allocator gives the job
 * fresh memory instead: small and medium blocks from runs of one size class
 * carved out of aligned chunks it maps itself, large blocks mapped one by
 * one. Blocks the zygote allocated are never written by it: freeing one is
 * a no-op (its page stays shared; the memory was the zygote's anyway), and
 * resizing one is left to the allocator that made it.
 *
 * Only for the worker, and only for the PYMEM_DOMAIN_OBJ and
 * PYMEM_DOMAIN_MEM domains, which CPython calls with the GIL held: the
 * allocator takes no locks. The raw domain stays with malloc.
 */
#ifndef RB_CHILDALLOC_H
#define RB_CHILDALLOC_H

#include <stdbool.h>
#include <stddef.h>

/* Installs the allocator for the object and memory domains, keeping the
 * current ones for the blocks made before. Call once, in the worker, first
 * thing after fork. */
void rb_childalloc_install(void);

/* Whether rb_childalloc_install() ran in this process. */
bool rb_childalloc_installed(void);

/* malloc and free for C libraries (cJSON's hooks) while the worker is
 * single-threaded: the same fresh memory, without a Python domain. */
void *rb_childalloc_c_malloc(size_t n);
void rb_childalloc_c_free(void *p);

/* What the allocator holds, for tests and diagnostics. */
struct rb_childalloc_stats {
    size_t chunks;       /* 1 MiB chunks mapped for small and medium blocks */
    size_t large_blocks; /* blocks mapped one by one, live */
    size_t large_bytes;
    size_t foreign_frees;    /* frees of blocks made before install: left alone */
    size_t foreign_reallocs; /* resizes of such blocks, left to their allocator */
};
void rb_childalloc_stats(struct rb_childalloc_stats *out);

/* Whether `p` came from this allocator (tests). */
bool rb_childalloc_owns(const void *p);

/* The allocator's functions, for tests that drive it without Python. `ctx`
 * is the PyMemAllocatorEx the blocks made before belong to (or NULL: then
 * foreign blocks cannot be resized). */
void *rb_childalloc_malloc(void *ctx, size_t n);
void *rb_childalloc_calloc(void *ctx, size_t nelem, size_t elsize);
void *rb_childalloc_realloc(void *ctx, void *p, size_t n);
void rb_childalloc_free(void *ctx, void *p);

#endif
