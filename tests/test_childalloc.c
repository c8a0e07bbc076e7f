/* The worker's allocator (sandbox/childalloc.c): size classes, reuse,
 * calloc's zeros, every kind of realloc, large blocks, blocks it does not
 * own, running out of memory, and CPython running on it. */
#include <Python.h>

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "childalloc.h"

/* A stand-in for the allocator the blocks made before the fork belong to. */
static int old_reallocs;
static void *old_malloc(void *ctx, size_t n)
{
    (void)ctx;
    return malloc(n);
}
static void *old_calloc(void *ctx, size_t a, size_t b)
{
    (void)ctx;
    return calloc(a, b);
}
static void *old_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    old_reallocs++;
    return realloc(p, n);
}
static void old_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}
static PyMemAllocatorEx OLD = { NULL, old_malloc, old_calloc, old_realloc, old_free };

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed + i * 7);
}

static int same(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(seed + i * 7))
            return 0;
    return 1;
}

START_TEST(every_size_is_owned_aligned_and_usable)
{
    static const size_t sizes[] = { 0, 1, 15, 16, 17, 500, 512, 513, 640, 641, 1024, 1025, 4096,
                                    8191, 16384, 32767, 32768, 32769, 100000, 1 << 20 };
    void *p[sizeof sizes / sizeof sizes[0]];
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        p[i] = rb_childalloc_malloc(&OLD, sizes[i]);
        ck_assert_ptr_nonnull(p[i]);
        ck_assert(rb_childalloc_owns(p[i]));
        ck_assert_uint_eq((uintptr_t)p[i] % 16, 0);
        fill(p[i], sizes[i], (unsigned)i);
    }
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        ck_assert_msg(same(p[i], sizes[i], (unsigned)i), "block of %zu bytes overwritten", sizes[i]);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        rb_childalloc_free(&OLD, p[i]);
}
END_TEST

START_TEST(freed_blocks_are_reused_and_calloc_zeroes_them)
{
    unsigned char *a = rb_childalloc_malloc(&OLD, 200);
    memset(a, 0xab, 200);
    rb_childalloc_free(&OLD, a);
    unsigned char *b = rb_childalloc_calloc(&OLD, 50, 4); /* the same class: a's block */
    ck_assert_ptr_eq(a, b);
    for (size_t i = 0; i < 200; i++)
        ck_assert_uint_eq(b[i], 0);
    rb_childalloc_free(&OLD, b);
    /* Fresh memory from a new run is zero without a memset. */
    unsigned char *c = rb_childalloc_calloc(&OLD, 1, 30000);
    for (size_t i = 0; i < 30000; i++)
        ck_assert_uint_eq(c[i], 0);
    rb_childalloc_free(&OLD, c);
    ck_assert_ptr_null(rb_childalloc_calloc(&OLD, SIZE_MAX / 2, 3));
}
END_TEST

START_TEST(realloc_keeps_contents_across_every_boundary)
{
    size_t steps[] = { 1, 16, 100, 512, 600, 5000, 32768, 40000, 300000, 3000000, 200000, 20000, 300, 8 };
    unsigned char *p = rb_childalloc_realloc(&OLD, NULL, steps[0]);
    fill(p, steps[0], 3);
    size_t have = steps[0];
    for (size_t i = 1; i < sizeof steps / sizeof steps[0]; i++) {
        p = rb_childalloc_realloc(&OLD, p, steps[i]);
        ck_assert_ptr_nonnull(p);
        ck_assert(rb_childalloc_owns(p));
        size_t kept = have < steps[i] ? have : steps[i];
        ck_assert_msg(same(p, kept, 3), "contents lost growing/shrinking to %zu", steps[i]);
        fill(p, steps[i], 3);
        have = steps[i];
    }
    /* Within a class, the block stays where it is. */
    void *q = rb_childalloc_malloc(&OLD, 40);
    ck_assert_ptr_eq(rb_childalloc_realloc(&OLD, q, 48), q);
    rb_childalloc_free(&OLD, q);
    rb_childalloc_free(&OLD, p);
}
END_TEST

START_TEST(large_blocks_are_mapped_and_unmapped)
{
    struct rb_childalloc_stats before, during, after;
    rb_childalloc_stats(&before);
    enum { N = 3000 }; /* enough to grow the table of large blocks several times */
    void **blocks = calloc(N, sizeof *blocks);
    for (size_t i = 0; i < N; i++) {
        blocks[i] = rb_childalloc_malloc(&OLD, 40000 + i);
        ck_assert_ptr_nonnull(blocks[i]);
        *(size_t *)blocks[i] = i;
    }
    rb_childalloc_stats(&during);
    ck_assert_uint_eq(during.large_blocks, before.large_blocks + N);
    /* Free every third, in an order unlike the insertion one, then check
     * that the table still finds the others (deletion from open addressing). */
    for (size_t i = N; i-- > 0;)
        if (i % 3 == 0)
            rb_childalloc_free(&OLD, blocks[i]);
    for (size_t i = 0; i < N; i++) {
        if (i % 3 == 0)
            continue;
        ck_assert(rb_childalloc_owns(blocks[i]));
        ck_assert_uint_eq(*(size_t *)blocks[i], i);
        rb_childalloc_free(&OLD, blocks[i]);
    }
    rb_childalloc_stats(&after);
    ck_assert_uint_eq(after.large_blocks, before.large_blocks);
    ck_assert_uint_eq(after.large_bytes, before.large_bytes);
    free(blocks);
}
END_TEST

START_TEST(blocks_made_before_are_left_to_their_allocator)
{
    struct rb_childalloc_stats before, after;
    rb_childalloc_stats(&before);
    char *old = malloc(100);
    strcpy(old, "made before the fork");
    ck_assert(!rb_childalloc_owns(old));
    old_reallocs = 0;
    char *grown = rb_childalloc_realloc(&OLD, old, 5000);
    ck_assert_int_eq(old_reallocs, 1);
    ck_assert_str_eq(grown, "made before the fork");
    rb_childalloc_free(&OLD, grown); /* a no-op: its page is left alone */
    rb_childalloc_stats(&after);
    ck_assert_uint_eq(after.foreign_frees, before.foreign_frees + 1);
    ck_assert_uint_eq(after.foreign_reallocs, before.foreign_reallocs + 1);
    free(grown);
    rb_childalloc_free(&OLD, NULL);
    ck_assert_ptr_null(rb_childalloc_realloc(NULL, (void *)&OLD, 10)); /* no allocator to ask */
}
END_TEST

START_TEST(running_out_of_memory_gives_null)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct rlimit rl;
        getrlimit(RLIMIT_AS, &rl);
        /* 64 MiB on top of what the process maps now. */
        FILE *f = fopen("/proc/self/statm", "r");
        unsigned long pages = 0;
        if (!f || fscanf(f, "%lu", &pages) != 1)
            _exit(10);
        fclose(f);
        rl.rlim_cur = pages * 4096 + (64ul << 20);
        if (setrlimit(RLIMIT_AS, &rl) < 0)
            _exit(11);
        size_t got = 0;
        for (int i = 0; i < 100000; i++) {
            void *p = rb_childalloc_malloc(&OLD, i % 2 ? 1000 : 100000);
            if (!p)
                _exit(got > (32ul << 20) ? 0 : 12);
            got += i % 2 ? 1000 : 100000;
        }
        _exit(13);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
}
END_TEST

START_TEST(cpython_runs_on_it)
{
    /* As in a worker: an interpreter started, then a fork, then the
     * allocator installed, then real work. */
    Py_InitializeEx(0);
    PyRun_SimpleString("warm = [str(i) * 3 for i in range(20000)]\n");
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        PyOS_AfterFork_Child();
        rb_childalloc_install();
        ck_assert(rb_childalloc_installed());
        int rc = PyRun_SimpleString(
            "import json, re, collections\n"
            "del warm[::2]\n"
            "warm.extend([x * 2 for x in warm])\n"
            "d = {i: [i] * (i % 50) for i in range(30000)}\n"
            "s = json.dumps(d)\n"
            "assert json.loads(s)['29999'] == [29999] * 49\n"
            "big = bytearray(10 << 20); big[-1] = 1; big.extend(b'x' * (5 << 20))\n"
            "assert len(big) == 15 << 20\n"
            "c = collections.Counter(re.findall(r'\\d', s))\n"
            "assert sum(c.values()) > 100000\n"
            "del d, s, big\n"
            "import gc; gc.collect()\n");
        struct rb_childalloc_stats st;
        rb_childalloc_stats(&st);
        _exit(rc == 0 && st.chunks > 0 && st.foreign_frees > 0 ? 0 : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("childalloc");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, every_size_is_owned_aligned_and_usable);
    tcase_add_test(tc, freed_blocks_are_reused_and_calloc_zeroes_them);
    tcase_add_test(tc, realloc_keeps_contents_across_every_boundary);
    tcase_add_test(tc, large_blocks_are_mapped_and_unmapped);
    tcase_add_test(tc, blocks_made_before_are_left_to_their_allocator);
    tcase_add_test(tc, running_out_of_memory_gives_null);
    tcase_add_test(tc, cpython_runs_on_it);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
