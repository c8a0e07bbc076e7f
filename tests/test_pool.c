/*
 * The pool and its event loop, against the real zygote (RUNBOX_ZYGOTE).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runbox.h"
#include "testutil.h"

#define MAX_RESULTS 64

struct collected {
    int n;
    struct {
        char id[64];
        rb_status status;
        int return_code;
        char out[256];
        size_t out_len;
        bool out_truncated;
        char error[256];
        void *user;
        double runtime;
    } r[MAX_RESULTS];
    rb_pool *pool;          /* for submitting from inside the callback */
    bool submit_in_callback;
};

static void collect(const rb_result *res, void *ctx)
{
    struct collected *c = ctx;
    ck_assert_int_lt(c->n, MAX_RESULTS);
    int i = c->n++;
    snprintf(c->r[i].id, sizeof c->r[i].id, "%s", res->id);
    c->r[i].status = res->status;
    c->r[i].return_code = res->return_code;
    size_t n = res->stdout_len < sizeof c->r[i].out - 1 ? res->stdout_len : sizeof c->r[i].out - 1;
    memcpy(c->r[i].out, res->stdout_data, n);
    c->r[i].out[n] = '\0';
    c->r[i].out_len = res->stdout_len;
    c->r[i].out_truncated = res->stdout_truncated;
    snprintf(c->r[i].error, sizeof c->r[i].error, "%s", res->error ? res->error : "");
    c->r[i].user = res->user;
    c->r[i].runtime = res->runtime;
    if (c->submit_in_callback && strcmp(res->id, "first") == 0) {
        rb_job next = { .id = "second", .program = "print('chained')" };
        ck_assert_int_eq(rb_pool_submit(c->pool, &next), 0);
    }
}

static rb_pool *new_pool(int jobs, struct collected *c)
{
    rb_pool_config cfg = { .jobs = jobs, .zygote_path = getenv("RUNBOX_ZYGOTE"),
                           .preload = "sys,os" };
    rb_pool *p = NULL;
    char err[512] = "";
    int rc = rb_pool_new(&cfg, collect, c, &p, err, sizeof err);
    ck_assert_msg(rc == 0, "rb_pool_new: %s", err);
    c->pool = p;
    return p;
}

static int find(const struct collected *c, const char *id)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->r[i].id, id) == 0)
            return i;
    ck_abort_msg("no result for %s", id);
    return -1;
}

/* Children of this process whose command is runbox-zygote. */
static pid_t find_zygote(void)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    pid_t found = 0;
    while ((e = readdir(d))) {
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(buf, sizeof buf, f)) {
            int pid, ppid;
            char comm[64], state;
            if (sscanf(buf, "%d (%63[^)]) %c %d", &pid, comm, &state, &ppid) == 4 &&
                ppid == getpid() && strcmp(comm, "runbox-zygote") == 0)
                found = pid;
        }
        fclose(f);
    }
    closedir(d);
    return found;
}

START_TEST(every_job_comes_back_once)
{
    struct collected c = { 0 };
    rb_pool *p = new_pool(2, &c);
    char ids[10][16];
    for (int i = 0; i < 10; i++) {
        snprintf(ids[i], sizeof ids[i], "job%d", i);
        rb_job j = { .id = ids[i], .program = "import sys; print(sys.argv[1])",
                     .argv = (const char *const[]){ ids[i] }, .argc = 1, .user = (void *)(long)(i + 1) };
        ck_assert_int_eq(rb_pool_submit(p, &j), 0);
    }
    ck_assert_uint_eq(rb_pool_pending(p), 10);
    ck_assert_uint_eq(rb_pool_free_slots(p), 0);
    ck_assert_int_eq(rb_pool_drain(p), 0);
    ck_assert_int_eq(c.n, 10);
    for (int i = 0; i < 10; i++) {
        int k = find(&c, ids[i]);
        ck_assert_int_eq(c.r[k].status, RB_STATUS_OK);
        char want[200];
        snprintf(want, sizeof want, "%s\n", ids[i]);
        ck_assert_str_eq(c.r[k].out, want);
        ck_assert_ptr_eq(c.r[k].user, (void *)(long)(i + 1));
    }
    ck_assert_uint_eq(rb_pool_pending(p), 0);
    ck_assert_uint_eq(rb_pool_free_slots(p), 2);
    rb_pool_free(p);
}
END_TEST

START_TEST(deadlines_kill_and_others_go_on)
{
    struct collected c = { 0 };
    rb_pool *p = new_pool(2, &c);
    rb_job slow = { .id = "slow", .program = "import time; time.sleep(30)", .limits = { .timeout = 0.3 } };
    rb_job fast = { .id = "fast", .program = "print('quick')" };
    ck_assert_int_eq(rb_pool_submit(p, &slow), 0);
    ck_assert_int_eq(rb_pool_submit(p, &fast), 0);
    ck_assert_int_eq(rb_pool_drain(p), 0);
    int k = find(&c, "slow");
    ck_assert_int_eq(c.r[k].status, RB_STATUS_TIMEOUT);
    ck_assert_int_eq(c.r[k].return_code, -9);
    ck_assert(c.r[k].runtime >= 0.3 && c.r[k].runtime < 2.0);
    ck_assert_int_eq(c.r[find(&c, "fast")].status, RB_STATUS_OK);
    rb_pool_free(p);
}
END_TEST

START_TEST(stdin_larger_than_a_pipe_while_the_job_prints_first)
{
    struct collected c = { 0 };
    rb_pool *p = new_pool(1, &c);
    size_t n = 4 * 1024 * 1024;
    char *input = malloc(n);
    memset(input, 'i', n);
    rb_job j = {
        .id = "echo",
        .program = "import sys\nsys.stdout.write('o' * 300000)\nsys.stdout.flush()\n"
                   "data = sys.stdin.read()\nprint(len(data))",
        .stdin_data = input, .stdin_len = n,
        .limits = { .timeout = 20 },
    };
    ck_assert_int_eq(rb_pool_submit(p, &j), 0);
    free(input); /* the pool has its own copy */
    ck_assert_int_eq(rb_pool_drain(p), 0);
    ck_assert_int_eq(c.r[0].status, RB_STATUS_OK);
    ck_assert_uint_eq(c.r[0].out_len, 300000 + strlen("4194304\n"));
    rb_pool_free(p);
}
END_TEST

START_TEST(output_cap_kills_and_keeps_the_first_bytes)
{
    struct collected c = { 0 };
    rb_pool *p = new_pool(1, &c);
    rb_job j = { .id = "flood", .program = "while True: print('x' * 99)",
                 .limits = { .output_limit_kb = 8 } };
    ck_assert_int_eq(rb_pool_submit(p, &j), 0);
    ck_assert_int_eq(rb_pool_drain(p), 0);
    ck_assert_int_eq(c.r[0].status, RB_STATUS_OUTPUT_LIMIT);
    ck_assert(c.r[0].out_truncated);
    ck_assert_uint_eq(c.r[0].out_len, 8 * 1024);
    ck_assert_str_eq(c.r[0].error, "stdout exceeded the output limit of 8 KB");
    rb_pool_free(p);
}
END_TEST

START_TEST(submitting_from_the_callback_works)
{
    struct collected c = { .submit_in_callback = true };
    rb_pool *p = new_pool(1, &c);
    rb_job j = { .id = "first", .program = "print('one')" };
    ck_assert_int_eq(rb_pool_submit(p, &j), 0);
    ck_assert_int_eq(rb_pool_drain(p), 0);
    ck_assert_int_eq(c.n, 2);
    ck_assert_str_eq(c.r[find(&c, "second")].out, "chained\n");
    rb_pool_free(p);
}
END_TEST

START_TEST(the_pool_fd_wakes_a_foreign_loop)
{
    struct collected c = { 0 };
    rb_pool *p = new_pool(1, &c);
    rb_job j = { .id = "x", .program = "print(1)" };
    ck_assert_int_eq(rb_pool_submit(p, &j), 0);
    while (c.n == 0) {
        struct pollfd pfd = { .fd = rb_pool_fd(p), .events = POLLIN };
        ck_assert_int_eq(poll(&pfd, 1, 10000), 1);
        ck_assert_int_ge(rb_pool_run(p, 0), 0);
    }
    ck_assert_int_eq(c.r[0].status, RB_STATUS_OK);
    rb_pool_free(p);
}
END_TEST

/* One slot runs every job, so each gets the channels the one before had: a
 * job killed mid-flood, one that fills its pipes and the status socket with
 * junk and exits, one killed at its deadline while writing, then a quiet one,
 * which must see only its own output. */
START_TEST(a_slot_carries_nothing_from_one_job_to_the_next)
{
    struct collected c = { 0 };
    rb_pool *p = new_pool(1, &c);
    rb_job flood = { .id = "flood", .program = "import sys\nwhile True: sys.stdout.write('F' * 4096)",
                     .limits = { .output_limit_kb = 8 } };
    rb_job junk = { .id = "junk",
                    .program = "import os, sys\n"
                               "for i in range(50): os.write(1020, b'not signed ' * 50)\n"
                               "sys.stdout.write('J' * 60000); sys.stderr.write('E' * 60000)\n"
                               "os.write(1020, b'')\n" };
    rb_job late = { .id = "late", .program = "import sys, time\nwhile True:\n sys.stdout.write('L' * 100); sys.stdout.flush(); time.sleep(0.001)",
                    .limits = { .timeout = 0.3 } };
    rb_job quiet = { .id = "quiet", .program = "print('only this')" };
    ck_assert_int_eq(rb_pool_submit(p, &flood), 0);
    ck_assert_int_eq(rb_pool_submit(p, &junk), 0);
    ck_assert_int_eq(rb_pool_submit(p, &late), 0);
    ck_assert_int_eq(rb_pool_submit(p, &quiet), 0);
    ck_assert_int_eq(rb_pool_drain(p), 0);
    ck_assert_int_eq(c.n, 4);
    int f = find(&c, "flood"), j = find(&c, "junk"), l = find(&c, "late"), q = find(&c, "quiet");
    ck_assert_msg(c.r[f].out_truncated, "flood: %s", c.r[f].error);
    ck_assert_int_eq(c.r[j].status, RB_STATUS_OK);
    ck_assert_uint_eq(c.r[j].out_len, 60000);
    ck_assert_int_eq(c.r[l].status, RB_STATUS_TIMEOUT);
    ck_assert_int_eq(c.r[q].status, RB_STATUS_OK);
    ck_assert_str_eq(c.r[q].out, "only this\n");
    rb_pool_free(p);
}
END_TEST

START_TEST(a_dead_zygote_is_replaced_and_its_jobs_rerun)
{
    struct collected c = { 0 };
    rb_pool *p = new_pool(1, &c);
    rb_job j = { .id = "survivor", .program = "import time; time.sleep(0.5); print('made it')" };
    ck_assert_int_eq(rb_pool_submit(p, &j), 0);
    ck_assert_int_ge(rb_pool_run(p, 100), 0); /* let it start */
    pid_t z = find_zygote();
    ck_assert_int_gt(z, 0);
    ck_assert_int_eq(kill(z, SIGKILL), 0);
    ck_assert_int_eq(rb_pool_drain(p), 0);
    ck_assert_int_eq(c.n, 1);
    ck_assert_int_eq(c.r[0].status, RB_STATUS_OK);
    ck_assert_str_eq(c.r[0].out, "made it\n");
    ck_assert_int_ne(find_zygote(), z);
    rb_pool_free(p);
}
END_TEST

/* Six deaths in a row: the pool gives up, and says why in every record. */
START_TEST(a_zygote_that_keeps_dying_stops_the_pool)
{
    struct collected c = { 0 };
    rb_pool *p = new_pool(1, &c);
    for (int death = 0; death < 6; death++) {
        pid_t z = find_zygote();
        ck_assert_int_gt(z, 0);
        ck_assert_int_eq(kill(z, SIGKILL), 0);
        /* Until the pool has noticed: a new zygote, or none for good. */
        for (int i = 0; i < 200 && find_zygote() == z; i++)
            ck_assert_int_ge(rb_pool_run(p, 20), 0);
    }
    rb_job j = { .id = "after", .program = "print(1)" };
    ck_assert_int_eq(rb_pool_submit(p, &j), 0);
    ck_assert_int_eq(rb_pool_drain(p), 0);
    ck_assert_int_eq(c.n, 1);
    ck_assert_int_eq(c.r[0].status, RB_STATUS_INTERNAL);
    ck_assert_msg(strstr(c.r[0].error, "more than 5 times in a minute"), "%s", c.r[0].error);
    rb_pool_free(p);
}
END_TEST

START_TEST(freeing_with_jobs_in_flight_leaves_nothing_behind)
{
    struct collected c = { 0 };
    rb_pool *p = new_pool(2, &c);
    rb_job j = { .id = "forever", .program = "while True: pass" };
    ck_assert_int_eq(rb_pool_submit(p, &j), 0);
    rb_job q = { .id = "queued", .program = "print(1)" };
    ck_assert_int_eq(rb_pool_submit(p, &q), 0);
    ck_assert_int_eq(rb_pool_submit(p, &q), 0);
    ck_assert_int_ge(rb_pool_run(p, 200), 0);
    rb_pool_free(p);
    ck_assert_int_eq(find_zygote(), 0);
    /* No child of ours is left, not even a zombie. */
    ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
    ck_assert_int_eq(errno, ECHILD);
}
END_TEST

START_TEST(bad_arguments_are_refused)
{
    struct collected c = { 0 };
    rb_pool *p = NULL;
    char err[256];
    ck_assert_int_eq(rb_pool_new(NULL, NULL, NULL, &p, err, sizeof err), -EINVAL);
    ck_assert_ptr_null(p);
    rb_pool_config bad = { .zygote_path = "/nonexistent/runbox-zygote" };
    ck_assert_int_lt(rb_pool_new(&bad, collect, &c, &p, err, sizeof err), 0);
    ck_assert_ptr_null(p);
    ck_assert_ptr_nonnull(strstr(err, "zygote"));
    rb_pool_config preload = { .zygote_path = getenv("RUNBOX_ZYGOTE"), .preload = "no_such_module_x" };
    ck_assert_int_lt(rb_pool_new(&preload, collect, &c, &p, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "no_such_module_x"));
    p = new_pool(1, &c);
    rb_job nothing = { .id = "x" };
    ck_assert_int_eq(rb_pool_submit(p, &nothing), -EINVAL);
    rb_pool_free(p);
}
END_TEST

START_TEST(cancelled_jobs_are_killed_and_never_delivered)
{
    struct collected c = { 0 };
    rb_pool *p = new_pool(1, &c);
    int doomed, kept;
    rb_job sleeper = { .id = "sleeper", .program = "import time; time.sleep(30)", .user = &doomed };
    rb_job queued = { .id = "queued", .program = "print('never')", .user = &doomed };
    rb_job other = { .id = "other", .program = "print('kept')", .user = &kept };
    ck_assert_int_eq(rb_pool_submit(p, &sleeper), 0);
    ck_assert_int_eq(rb_pool_submit(p, &queued), 0);
    ck_assert_int_eq(rb_pool_submit(p, &other), 0);
    ck_assert_int_eq(rb_pool_run(p, 200) >= 0, 1);
    ck_assert_int_eq(rb_pool_cancel(p, &doomed), 2);
    ck_assert_int_eq(rb_pool_cancel(p, &doomed), 0); /* once is enough */
    int64_t t0 = rb_test_now_ms();
    ck_assert_int_eq(rb_pool_drain(p), 0);
    ck_assert_int_lt(rb_test_now_ms() - t0, 10000); /* the sleeper did not run its 30 s */
    ck_assert_int_eq(c.n, 1);
    ck_assert_str_eq(c.r[0].id, "other");
    ck_assert_str_eq(c.r[0].out, "kept\n");
    rb_pool_free(p);
}
END_TEST

static Suite *pool_suite(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("loop");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, every_job_comes_back_once);
    tcase_add_test(tc, deadlines_kill_and_others_go_on);
    tcase_add_test(tc, stdin_larger_than_a_pipe_while_the_job_prints_first);
    tcase_add_test(tc, output_cap_kills_and_keeps_the_first_bytes);
    tcase_add_test(tc, submitting_from_the_callback_works);
    tcase_add_test(tc, the_pool_fd_wakes_a_foreign_loop);
    tcase_add_test(tc, a_slot_carries_nothing_from_one_job_to_the_next);
    tcase_add_test(tc, a_dead_zygote_is_replaced_and_its_jobs_rerun);
    tcase_add_test(tc, a_zygote_that_keeps_dying_stops_the_pool);
    tcase_add_test(tc, freeing_with_jobs_in_flight_leaves_nothing_behind);
    tcase_add_test(tc, bad_arguments_are_refused);
    tcase_add_test(tc, cancelled_jobs_are_killed_and_never_delivered);
    suite_add_tcase(s, tc);
    return s;
}

RB_CHECK_MAIN(pool_suite)
