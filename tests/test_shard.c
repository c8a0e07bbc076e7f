#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shard.h"
#include "testutil.h"

START_TEST(every_id_lands_in_exactly_one_shard)
{
    char id[32];
    for (long n = 1; n <= 64; n++) {
        long *per = calloc((size_t)n, sizeof *per);
        for (int i = 0; i < 5000; i++) {
            int len = snprintf(id, sizeof id, "job-%d", i);
            int owners = 0;
            for (long k = 0; k < n; k++) {
                struct rb_shard s = { k, n };
                if (rb_shard_mine(&s, id, (size_t)len)) {
                    owners++;
                    per[k]++;
                }
            }
            ck_assert_msg(owners == 1, "%s has %d owners among %ld shards", id, owners, n);
        }
        /* Spread: no shard gets less than half or more than twice its share. */
        for (long k = 0; k < n; k++)
            ck_assert_msg(per[k] * n * 2 >= 5000 && per[k] * n <= 5000 * 2, "shard %ld of %ld got %ld",
                          k, n, per[k]);
        free(per);
    }
}
END_TEST

START_TEST(assignment_is_a_pure_function_of_the_id)
{
    /* Stable under reordering, and across processes and machines: the same
     * id gives the same shard, and these values are part of the format. */
    ck_assert_int_eq(rb_shard_of("HumanEval/0", 11, 4), rb_shard_of("HumanEval/0", 11, 4));
    long a = rb_shard_of("a", 1, 1000), b = rb_shard_of("b", 1, 1000);
    ck_assert_int_eq(rb_shard_of("a", 1, 1000), a);
    ck_assert_int_eq(rb_shard_of("b", 1, 1000), b);
    ck_assert_int_eq(rb_shard_of("anything", 8, 1), 0);
    struct rb_shard none = { 0, 0 };
    ck_assert(rb_shard_mine(&none, "x", 1)); /* not sharded: everything is ours */
}
END_TEST

START_TEST(specs_parse_and_fail_clearly)
{
    struct rb_shard s;
    char err[256];
    ck_assert_int_eq(rb_shard_parse("2/8", &s, err, sizeof err), 0);
    ck_assert(s.index == 2 && s.count == 8);
    ck_assert_int_eq(rb_shard_parse("0/1", &s, err, sizeof err), 0);
    ck_assert_int_lt(rb_shard_parse("8/8", &s, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "does not exist"));
    ck_assert_int_lt(rb_shard_parse("-1/4", &s, err, sizeof err), 0);
    ck_assert_int_lt(rb_shard_parse("1/0", &s, err, sizeof err), 0);
    ck_assert_int_lt(rb_shard_parse("a/b", &s, err, sizeof err), 0);
    ck_assert_int_lt(rb_shard_parse("3", &s, err, sizeof err), 0);

    unsetenv("SLURM_ARRAY_TASK_ID");
    ck_assert_int_lt(rb_shard_parse("slurm", &s, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "SLURM_ARRAY_TASK_ID"));
    setenv("SLURM_ARRAY_TASK_ID", "3", 1);
    setenv("SLURM_ARRAY_TASK_COUNT", "4", 1);
    unsetenv("SLURM_ARRAY_TASK_MIN");
    ck_assert_int_eq(rb_shard_parse("slurm", &s, err, sizeof err), 0);
    ck_assert(s.index == 3 && s.count == 4);
    setenv("SLURM_ARRAY_TASK_ID", "4", 1); /* --array=1-4 */
    setenv("SLURM_ARRAY_TASK_MIN", "1", 1);
    ck_assert_int_eq(rb_shard_parse("slurm", &s, err, sizeof err), 0);
    ck_assert(s.index == 3 && s.count == 4);
    setenv("SLURM_ARRAY_TASK_ID", "10", 1); /* --array=0-15:5: ids 0 5 10 15 */
    setenv("SLURM_ARRAY_TASK_MIN", "0", 1);
    setenv("SLURM_ARRAY_TASK_STEP", "5", 1);
    ck_assert_int_eq(rb_shard_parse("slurm", &s, err, sizeof err), 0);
    ck_assert(s.index == 2 && s.count == 4);

    unsetenv("JOB_COMPLETION_INDEX");
    ck_assert_int_lt(rb_shard_parse("k8s:3", &s, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "JOB_COMPLETION_INDEX"));
    setenv("JOB_COMPLETION_INDEX", "1", 1);
    unsetenv("RUNBOX_SHARD_COUNT");
    ck_assert_int_lt(rb_shard_parse("k8s", &s, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "RUNBOX_SHARD_COUNT"));
    ck_assert_int_eq(rb_shard_parse("k8s:3", &s, err, sizeof err), 0);
    ck_assert(s.index == 1 && s.count == 3);
    setenv("RUNBOX_SHARD_COUNT", "5", 1);
    ck_assert_int_eq(rb_shard_parse("k8s", &s, err, sizeof err), 0);
    ck_assert(s.index == 1 && s.count == 5);
}
END_TEST

static Suite *shard_suite(void)
{
    Suite *s = suite_create("shard");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, every_id_lands_in_exactly_one_shard);
    tcase_add_test(tc, assignment_is_a_pure_function_of_the_id);
    tcase_add_test(tc, specs_parse_and_fail_clearly);
    suite_add_tcase(s, tc);
    return s;
}

RB_CHECK_MAIN(shard_suite)
