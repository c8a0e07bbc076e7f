/* Blocks of job uids (src/jobuids.c): each claim a block no one else holds,
 * in this process or another, given back on release or exit. */
#include <check.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jobuids.h"
#include "protocol.h"

START_TEST(claims_are_distinct_and_released)
{
    struct rb_job_uids a, b, c;
    ck_assert_int_eq(rb_job_uids_claim(&a), 0);
    ck_assert_int_eq(rb_job_uids_claim(&b), 0);
    ck_assert_uint_ne(a.base, b.base);
    uid_t hi = a.base > b.base ? a.base : b.base, lo = a.base < b.base ? a.base : b.base;
    ck_assert_uint_ge(hi - lo, RB_JOB_UID_COUNT); /* blocks do not overlap */
    ck_assert_uint_ge(a.base, RB_JOB_UID_BASE);
    ck_assert_uint_eq((a.base - RB_JOB_UID_BASE) % RB_JOB_UID_COUNT, 0);
    uid_t freed = a.base;
    rb_job_uids_release(&a);
    ck_assert_int_eq(rb_job_uids_claim(&c), 0);
    if (freed < b.base)
        ck_assert_uint_eq(c.base, freed); /* the lowest free block again */
    rb_job_uids_release(&b);
    rb_job_uids_release(&c);
}
END_TEST

START_TEST(another_process_gets_another_block)
{
    struct rb_job_uids mine;
    ck_assert_int_eq(rb_job_uids_claim(&mine), 0);
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(mine.lock); /* the child's copy of our claim must not count */
        struct rb_job_uids theirs;
        uid_t base = rb_job_uids_claim(&theirs) == 0 ? theirs.base : 0;
        ssize_t n = write(p[1], &base, sizeof base);
        _exit(n == (ssize_t)sizeof base ? 0 : 1);
    }
    uid_t theirs = 0;
    ck_assert_int_eq(read(p[0], &theirs, sizeof theirs), (ssize_t)sizeof theirs);
    int status;
    waitpid(pid, &status, 0);
    ck_assert_uint_ne(theirs, 0);
    ck_assert_uint_ne(theirs, mine.base);
    rb_job_uids_release(&mine);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jobuids");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, claims_are_distinct_and_released);
    tcase_add_test(tc, another_process_gets_another_block);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
