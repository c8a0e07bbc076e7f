#include <errno.h>
#include <sys/resource.h>

#include "rlimits.h"
#include "testutil.h"

#define MB (1024ul * 1024)

static const struct rb_rlimit_value *row(const struct rb_rlimit_value *v, size_t n, int resource)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].resource == resource)
            return &v[i];
    ck_abort_msg("no row for resource %d", resource);
    return NULL;
}

START_TEST(table_follows_the_job)
{
    struct rb_rlimit_input in = { .cpu_time = 2.5, .memory_mb = 256, .base_address_space = 100 * MB };
    struct rb_rlimit_value v[32];
    size_t n = rb_rlimits_compute(&in, v, 32);
    ck_assert_uint_ge(n, 8);
    const struct rb_rlimit_value *cpu = row(v, n, RLIMIT_CPU);
    ck_assert_uint_eq(cpu->soft, 3); /* rounded up */
    ck_assert_uint_eq(cpu->hard, 4); /* one second for a program ignoring SIGXCPU */
    ck_assert_uint_eq(row(v, n, RLIMIT_AS)->soft, 356 * MB);
    ck_assert_uint_eq(row(v, n, RLIMIT_AS)->hard, 356 * MB);
    ck_assert_uint_eq(row(v, n, RLIMIT_DATA)->soft, 356 * MB);
    ck_assert_uint_eq(row(v, n, RLIMIT_FSIZE)->soft, RB_FILE_SIZE_LIMIT_MB * MB);
    ck_assert_uint_eq(row(v, n, RLIMIT_NOFILE)->soft, RB_OPEN_FILES_LIMIT);
    ck_assert_uint_eq(row(v, n, RLIMIT_CORE)->hard, 0);
    ck_assert_uint_eq(row(v, n, RLIMIT_STACK)->soft, RB_STACK_LIMIT_MB * MB);
    for (size_t i = 0; i < n; i++) {
        ck_assert_ptr_nonnull(v[i].name);
        ck_assert_uint_le(v[i].soft, v[i].hard);
    }
}
END_TEST

START_TEST(tiny_cpu_time_still_gets_a_second)
{
    struct rb_rlimit_input in = { .cpu_time = 0.01, .memory_mb = 1 };
    struct rb_rlimit_value v[32];
    size_t n = rb_rlimits_compute(&in, v, 32);
    ck_assert_uint_eq(row(v, n, RLIMIT_CPU)->soft, 1);
    ck_assert_uint_eq(row(v, n, RLIMIT_CPU)->hard, 2);
}
END_TEST

START_TEST(applied_limits_are_in_force)
{
    /* Check runs each test in a child of its own, so this changes nothing else. */
    struct rb_rlimit_input in = { .cpu_time = 5, .memory_mb = 64,
                                  .base_address_space = rb_address_space_now() };
    ck_assert_uint_gt(in.base_address_space, 0);
    const char *failed = NULL;
    ck_assert_int_eq(rb_rlimits_apply(&in, &failed), 0);
    struct rlimit rl;
    ck_assert_int_eq(getrlimit(RLIMIT_CPU, &rl), 0);
    ck_assert_uint_eq(rl.rlim_cur, 5);
    ck_assert_uint_eq(rl.rlim_max, 6);
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    ck_assert_uint_eq(rl.rlim_cur, RB_OPEN_FILES_LIMIT);
    ck_assert_int_eq(getrlimit(RLIMIT_CORE, &rl), 0);
    ck_assert_uint_eq(rl.rlim_max, 0);
    /* The memory limit bites: 128 MB more than allowed cannot be mapped. */
    void *p = malloc(128 * MB);
    ck_assert_ptr_null(p);
    p = malloc(16 * MB);
    ck_assert_ptr_nonnull(p);
    free(p);
}
END_TEST

START_TEST(a_lower_hard_limit_is_kept)
{
    struct rlimit low = { 64, 64 };
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    struct rb_rlimit_input in = { .cpu_time = 1, .memory_mb = 1024,
                                  .base_address_space = rb_address_space_now() };
    ck_assert_int_eq(rb_rlimits_apply(&in, NULL), 0);
    struct rlimit rl;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    ck_assert_uint_eq(rl.rlim_max, 64);
    ck_assert_uint_eq(rl.rlim_cur, 64);
}
END_TEST

static Suite *rlimits_suite(void)
{
    Suite *s = suite_create("rlimits");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, table_follows_the_job);
    tcase_add_test(tc, tiny_cpu_time_still_gets_a_second);
    tcase_add_test(tc, applied_limits_are_in_force);
    tcase_add_test(tc, a_lower_hard_limit_is_kept);
    suite_add_tcase(s, tc);
    return s;
}

RB_CHECK_MAIN(rlimits_suite)
