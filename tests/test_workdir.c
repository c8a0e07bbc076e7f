#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "workdir.h"

static char parent[] = "/tmp/rb-workdir-test-XXXXXX";

static void setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(parent));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", parent);
    ck_assert_int_eq(system(cmd), 0);
}

static void touch(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(root_and_job_dirs_have_private_modes)
{
    struct rb_workdir_root root;
    ck_assert_int_eq(rb_workdir_root_create(parent, &root), 0);
    struct stat sb;
    ck_assert_int_eq(stat(root.path, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 07777, 0711);
    char *a = NULL, *b = NULL;
    ck_assert_int_eq(rb_workdir_create(&root, 1, (uid_t)-1, (gid_t)-1, &a), 0);
    ck_assert_int_eq(rb_workdir_create(&root, 1, (uid_t)-1, (gid_t)-1, &b), 0);
    ck_assert_str_ne(a, b); /* the same seq twice still gets two names */
    ck_assert_int_eq(stat(a, &sb), 0);
    ck_assert(S_ISDIR(sb.st_mode));
    ck_assert_int_eq(sb.st_mode & 07777, 0700);
    ck_assert_int_eq(strncmp(a, root.path, strlen(root.path)), 0);
    ck_assert_int_eq(rb_workdir_remove(&root, a), 0);
    ck_assert_int_eq(stat(a, &sb), -1);
    free(a);
    free(b);
    rb_workdir_root_remove(&root); /* removes b as well */
    ck_assert_int_eq(stat(root.path ? root.path : parent, &sb), 0);
}
END_TEST

START_TEST(removal_takes_everything_a_job_left)
{
    struct rb_workdir_root root;
    ck_assert_int_eq(rb_workdir_root_create(parent, &root), 0);
    char *dir = NULL;
    ck_assert_int_eq(rb_workdir_create(&root, 2, (uid_t)-1, (gid_t)-1, &dir), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/a/b/c", dir);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", path);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(path, sizeof path, "%s/a/b/c/file", dir);
    touch(path, "x");
    /* A directory the job locked itself out of. */
    snprintf(path, sizeof path, "%s/locked", dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    snprintf(cmd, sizeof cmd, "%s/locked/inner", dir);
    touch(cmd, "y");
    ck_assert_int_eq(chmod(path, 0), 0);
    ck_assert_int_eq(rb_workdir_remove(&root, dir), 0);
    struct stat sb;
    ck_assert_int_eq(stat(dir, &sb), -1);
    free(dir);
    rb_workdir_root_remove(&root);
}
END_TEST

START_TEST(symlinks_are_removed_not_followed)
{
    struct rb_workdir_root root;
    ck_assert_int_eq(rb_workdir_root_create(parent, &root), 0);
    char outside[512], keep[600], link[600];
    snprintf(outside, sizeof outside, "%s/outside", parent);
    ck_assert_int_eq(mkdir(outside, 0755), 0);
    snprintf(keep, sizeof keep, "%s/precious", outside);
    touch(keep, "must survive");
    char *dir = NULL;
    ck_assert_int_eq(rb_workdir_create(&root, 3, (uid_t)-1, (gid_t)-1, &dir), 0);
    snprintf(link, sizeof link, "%s/escape", dir);
    ck_assert_int_eq(symlink(outside, link), 0);
    snprintf(link, sizeof link, "%s/file-link", dir);
    ck_assert_int_eq(symlink(keep, link), 0);
    ck_assert_int_eq(rb_workdir_remove(&root, dir), 0);
    struct stat sb;
    ck_assert_int_eq(stat(keep, &sb), 0);
    ck_assert_int_eq(stat(dir, &sb), -1);
    free(dir);
    rb_workdir_root_remove(&root);
}
END_TEST

START_TEST(paths_outside_the_root_are_refused)
{
    struct rb_workdir_root root;
    ck_assert_int_eq(rb_workdir_root_create(parent, &root), 0);
    ck_assert_int_eq(rb_workdir_remove(&root, parent), -EINVAL);
    ck_assert_int_eq(rb_workdir_remove(&root, "/etc"), -EINVAL);
    char bad[600];
    snprintf(bad, sizeof bad, "%s/x/../..", root.path);
    ck_assert_int_eq(rb_workdir_remove(&root, bad), -EINVAL);
    rb_workdir_root_remove(&root);
}
END_TEST

START_TEST(scrubbed_dirs_are_reused_under_new_names)
{
    struct rb_workdir_root root;
    ck_assert_int_eq(rb_workdir_root_create(parent, &root), 0);
    ck_assert_int_gt(root.janitor, 0);
    char *dir = NULL, *next = NULL, path[512];
    ck_assert_int_eq(rb_workdir_create(&root, 1, (uid_t)-1, (gid_t)-1, &dir), 0);
    snprintf(path, sizeof path, "%s/out.txt", dir);
    touch(path, "a job's output");
    ck_assert_int_eq(chmod(dir, 02777), 0); /* whatever the job made of its mode */
    ck_assert_int_eq(rb_workdir_scrub(&root, dir, (uid_t)-1), 0);
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), -1);
    ck_assert_int_eq(stat(dir, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 07777, 0700);
    ck_assert_int_eq(rb_workdir_reuse(&root, dir, 2, &next), 0);
    ck_assert_str_ne(next, dir);
    ck_assert_int_eq(stat(dir, &sb), -1);
    ck_assert_int_eq(stat(next, &sb), 0);
    free(dir);
    free(next);
    rb_workdir_root_remove(&root);
}
END_TEST

START_TEST(dirs_with_trees_or_replaced_go_to_the_janitor)
{
    struct rb_workdir_root root;
    ck_assert_int_eq(rb_workdir_root_create(parent, &root), 0);
    char *dir = NULL, path[512], cmd[600];
    ck_assert_int_eq(rb_workdir_create(&root, 1, (uid_t)-1, (gid_t)-1, &dir), 0);
    /* A deep tree: the supervisor must not walk it. */
    snprintf(cmd, sizeof cmd, "cd %s && for i in $(seq 200); do mkdir d && cd d && touch f; done", dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(rb_workdir_scrub(&root, dir, (uid_t)-1), -ENOTEMPTY);
    ck_assert_int_eq(rb_workdir_discard(&root, dir), 0);
    struct stat sb;
    ck_assert_int_eq(stat(dir, &sb), -1); /* renamed away at once */
    /* A dir the job swapped for a symlink is never entered, only removed. */
    char *other = NULL;
    ck_assert_int_eq(rb_workdir_create(&root, 2, (uid_t)-1, (gid_t)-1, &other), 0);
    snprintf(path, sizeof path, "%s/victim", parent);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    touch(strcat(strcpy(cmd, path), "/keep"), "k");
    ck_assert_int_eq(rmdir(other), 0);
    ck_assert_int_eq(symlink(path, other), 0);
    ck_assert_int_lt(rb_workdir_scrub(&root, other, (uid_t)-1), 0);
    ck_assert_int_eq(rb_workdir_discard(&root, other), 0);
    rb_workdir_root_remove(&root); /* waits for the janitor */
    ck_assert_int_eq(stat(cmd, &sb), 0); /* victim/keep untouched */
    ck_assert_int_eq(stat(root.path ? root.path : dir, &sb), -1);
    free(dir);
    free(other);
}
END_TEST

START_TEST(a_relative_parent_gives_an_absolute_root)
{
    char cwd[4096];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir(parent), 0);
    ck_assert_int_eq(mkdir("rel", 0755), 0);
    struct rb_workdir_root root;
    ck_assert_int_eq(rb_workdir_root_create("rel", &root), 0);
    ck_assert_int_eq(root.path[0], '/');
    ck_assert_int_eq(strncmp(root.path, parent, strlen(parent)), 0);
    rb_workdir_root_remove(&root);
    ck_assert_int_eq(chdir(cwd), 0);
}
END_TEST

START_TEST(ownership_goes_to_the_given_ids)
{
    if (geteuid() != 0)
        return; /* only root can give a dir away; the e2e tests cover the rest */
    struct rb_workdir_root root;
    ck_assert_int_eq(rb_workdir_root_create(parent, &root), 0);
    char *dir = NULL;
    ck_assert_int_eq(rb_workdir_create(&root, 4, 65534, 65534, &dir), 0);
    struct stat sb;
    ck_assert_int_eq(stat(dir, &sb), 0);
    ck_assert_uint_eq(sb.st_uid, 65534);
    ck_assert_uint_eq(sb.st_gid, 65534);
    free(dir);
    rb_workdir_root_remove(&root);
}
END_TEST

static Suite *workdir_suite(void)
{
    Suite *s = suite_create("workdir");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, root_and_job_dirs_have_private_modes);
    tcase_add_test(tc, removal_takes_everything_a_job_left);
    tcase_add_test(tc, symlinks_are_removed_not_followed);
    tcase_add_test(tc, paths_outside_the_root_are_refused);
    tcase_add_test(tc, ownership_goes_to_the_given_ids);
    tcase_add_test(tc, scrubbed_dirs_are_reused_under_new_names);
    tcase_add_test(tc, dirs_with_trees_or_replaced_go_to_the_janitor);
    tcase_add_test(tc, a_relative_parent_gives_an_absolute_root);
    suite_add_tcase(s, tc);
    return s;
}

RB_CHECK_MAIN(workdir_suite)
