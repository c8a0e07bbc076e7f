#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jobfiles.h"
#include "testutil.h"

static char dir[] = "/tmp/rb-jobfiles-XXXXXX";
static int dirfd_;

static void setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
    dirfd_ = open(dir, O_RDONLY | O_DIRECTORY);
}

static void teardown(void)
{
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    close(dirfd_);
}

START_TEST(path_rules)
{
    ck_assert_ptr_null(rb_job_path_problem("a.txt"));
    ck_assert_ptr_null(rb_job_path_problem("d/e/f.py"));
    ck_assert_ptr_null(rb_job_path_problem(".hidden"));
    ck_assert_ptr_null(rb_job_path_problem("a..b"));
    ck_assert_str_eq(rb_job_path_problem(""), "is empty");
    ck_assert_str_eq(rb_job_path_problem("/etc/passwd"), "is absolute");
    ck_assert_str_eq(rb_job_path_problem("../x"), "has a '.' or '..' component");
    ck_assert_str_eq(rb_job_path_problem("a/./b"), "has a '.' or '..' component");
    ck_assert_str_eq(rb_job_path_problem("a//b"), "has an empty component");
    ck_assert_str_eq(rb_job_path_problem("a/"), "ends with '/'");
}
END_TEST

START_TEST(writes_nested_files_and_reads_them_back)
{
    ck_assert_int_eq(rb_job_file_write(dirfd_, "a/b/c.txt", "hello", 5, (uid_t)-1, (gid_t)-1), 0);
    ck_assert_int_eq(rb_job_file_write(dirfd_, "a/other", "x\0y", 3, (uid_t)-1, (gid_t)-1), 0);
    char *data;
    size_t len;
    bool cut;
    ck_assert_int_eq(rb_job_file_read(dirfd_, "a/b/c.txt", 100, &data, &len, &cut), 1);
    ck_assert(len == 5 && memcmp(data, "hello", 5) == 0 && !cut);
    free(data);
    ck_assert_int_eq(rb_job_file_read(dirfd_, "a/other", 100, &data, &len, &cut), 1);
    ck_assert(len == 3 && memcmp(data, "x\0y", 3) == 0);
    free(data);
    ck_assert_int_eq(rb_job_file_read(dirfd_, "a/b/c.txt", 3, &data, &len, &cut), 1);
    ck_assert(len == 3 && cut);
    free(data);
    ck_assert_int_eq(rb_job_file_write(dirfd_, "../escape", "x", 1, (uid_t)-1, (gid_t)-1), -EINVAL);
}
END_TEST

START_TEST(reading_never_follows_what_a_job_planted)
{
    char path[128];
    snprintf(path, sizeof path, "%s/secret-outside", dir);
    FILE *f = fopen(path, "w");
    fputs("secret", f);
    fclose(f);
    ck_assert_int_eq(mkdirat(dirfd_, "job", 0755), 0);
    ck_assert_int_eq(symlinkat(path, dirfd_, "job/link"), 0);
    ck_assert_int_eq(symlinkat(dir, dirfd_, "job/dirlink"), 0);
    ck_assert_int_eq(mkfifoat(dirfd_, "job/fifo", 0644), 0);
    ck_assert_int_eq(mkdirat(dirfd_, "job/sub", 0755), 0);
    int job = openat(dirfd_, "job", O_RDONLY | O_DIRECTORY);
    char *data;
    size_t len;
    bool cut;
    ck_assert_int_eq(rb_job_file_read(job, "link", 100, &data, &len, &cut), 0);
    ck_assert_int_eq(rb_job_file_read(job, "dirlink/secret-outside", 100, &data, &len, &cut), 0);
    ck_assert_int_eq(rb_job_file_read(job, "fifo", 100, &data, &len, &cut), 0); /* and no hang */
    ck_assert_int_eq(rb_job_file_read(job, "sub", 100, &data, &len, &cut), 0);
    ck_assert_int_eq(rb_job_file_read(job, "absent", 100, &data, &len, &cut), 0);
    ck_assert_int_eq(rb_job_file_read(job, "sub/absent", 100, &data, &len, &cut), 0);
    ck_assert_ptr_null(data);
    /* Writing through a planted symlink is refused too. */
    ck_assert_int_lt(rb_job_file_write(job, "dirlink/new", "x", 1, (uid_t)-1, (gid_t)-1), 0);
    ck_assert_int_lt(rb_job_file_write(job, "link", "x", 1, (uid_t)-1, (gid_t)-1), 0);
    f = fopen(path, "r");
    char buf[16] = "";
    ck_assert_ptr_nonnull(fgets(buf, sizeof buf, f));
    fclose(f);
    ck_assert_str_eq(buf, "secret");
    close(job);
}
END_TEST

static Suite *jobfiles_suite(void)
{
    Suite *s = suite_create("jobfiles");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, path_rules);
    tcase_add_test(tc, writes_nested_files_and_reads_them_back);
    tcase_add_test(tc, reading_never_follows_what_a_job_planted);
    suite_add_tcase(s, tc);
    return s;
}

RB_CHECK_MAIN(jobfiles_suite)
