/*
 * The seccomp policy, loaded for real. Check forks every test, so each test
 * loads the filter into a child of its own and probes it from inside.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "seccomp_policy.h"
#include "testutil.h"

static void load_policy(void)
{
    struct rb_seccomp_program prog;
    char err[256] = "";
    ck_assert_msg(rb_seccomp_build(&prog, err, sizeof err) == 0, "build: %s", err);
    ck_assert_int_eq(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
    ck_assert_int_eq(rb_seccomp_install(&prog, getpid()), 0);
    rb_seccomp_program_free(&prog);
}

/* errno of a raw syscall, or 0 when it succeeded. */
#define ERRNO_OF(call) ((call) < 0 ? errno : 0)

START_TEST(table_is_complete_and_explained)
{
    const char *missing = NULL;
    ck_assert_msg(rb_seccomp_check_names(&missing) == 0, "unknown syscall name: %s", missing);
    size_t n;
    const struct rb_seccomp_row *rows = rb_seccomp_rows(&n);
    ck_assert_uint_gt(n, 100);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(rows[i].why && strlen(rows[i].why) > 2, "row %s has no reason", rows[i].syscall);
        ck_assert_ptr_nonnull(rows[i].action);
    }
}
END_TEST

/* docs/sandbox.md carries the table row by row; it must say what the code does. */
START_TEST(docs_show_every_row)
{
    const char *root = getenv("RUNBOX_SOURCE_ROOT");
    ck_assert_msg(root != NULL, "RUNBOX_SOURCE_ROOT is not set");
    char path[4096];
    snprintf(path, sizeof path, "%s/docs/sandbox.md", root);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    static char doc[1 << 20];
    size_t len = fread(doc, 1, sizeof doc - 1, f);
    doc[len] = '\0';
    fclose(f);
    size_t n;
    const struct rb_seccomp_row *rows = rb_seccomp_rows(&n);
    for (size_t i = 0; i < n; i++) {
        char line[600];
        snprintf(line, sizeof line, "| `%s` | %s | %s |\n", rows[i].syscall, rows[i].action, rows[i].why);
        ck_assert_msg(strstr(doc, line) != NULL, "docs/sandbox.md lacks the row: %s", line);
    }
}
END_TEST

START_TEST(filter_compiles_with_patchable_self_comparisons)
{
    struct rb_seccomp_program prog;
    char err[256] = "";
    ck_assert_msg(rb_seccomp_build(&prog, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_gt(prog.len, 50);
    ck_assert_uint_ge(prog.self_sites, 1);
    ck_assert_uint_ge(prog.neg_self_sites, 1);
    rb_seccomp_program_free(&prog);
}
END_TEST

START_TEST(ordinary_work_still_runs)
{
    load_policy();
    char buf[16];
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(write(p[1], "ok", 2), 2);
    ck_assert_int_eq(read(p[0], buf, sizeof buf), 2);
    ck_assert_int_ge(open("/proc/self/status", O_RDONLY), 0);
    ck_assert_int_gt(getpid(), 0);
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    ck_assert_int_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
    ck_assert_int_eq(ERRNO_OF(ioctl(p[0], FIOCLEX)), 0);
    struct rlimit rl = { 100, 100 };
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0); /* lowering is fine */
    ck_assert_int_eq(personality(0xffffffff) >= 0, 1);
}
END_TEST

static void *thread_body(void *arg)
{
    return arg;
}

START_TEST(threads_are_allowed)
{
    load_policy();
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, thread_body, (void *)42), 0);
    void *ret;
    ck_assert_int_eq(pthread_join(t, &ret), 0);
    ck_assert_ptr_eq(ret, (void *)42);
}
END_TEST

START_TEST(processes_cannot_be_created)
{
    load_policy();
    ck_assert_int_eq(ERRNO_OF(fork()), EPERM);
    ck_assert_int_eq(ERRNO_OF(syscall(SYS_vfork)), EPERM);
    ck_assert_int_eq(ERRNO_OF(syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0)), EPERM);
    ck_assert_int_eq(ERRNO_OF(syscall(SYS_clone3, NULL, 0)), ENOSYS);
    char *argv[] = { "/bin/true", NULL };
    ck_assert_int_eq(ERRNO_OF(execve("/bin/true", argv, argv + 1)), EPERM);
}
END_TEST

START_TEST(signals_reach_only_the_job_itself)
{
    load_policy();
    pid_t self = getpid();
    ck_assert_int_eq(kill(self, 0), 0);
    ck_assert_int_eq(kill(0, 0), 0);
    ck_assert_int_eq(kill(-self, 0), 0); /* Check makes each test a group leader */
    ck_assert_int_eq(ERRNO_OF(kill(getppid(), 0)), EPERM);
    ck_assert_int_eq(ERRNO_OF(kill(-1, 0)), EPERM);
    ck_assert_int_eq(ERRNO_OF(kill(1, 0)), EPERM);
    ck_assert_int_eq(ERRNO_OF(syscall(SYS_tgkill, self, self, 0)), 0);
    ck_assert_int_eq(ERRNO_OF(syscall(SYS_tgkill, getppid(), getppid(), 0)), EPERM);
    ck_assert_int_eq(ERRNO_OF(syscall(SYS_tkill, self, 0)), EPERM);
    /* A pid with junk in the upper half is still the same pid to the kernel. */
    ck_assert_int_eq(ERRNO_OF(syscall(SYS_kill, (long)getppid() | (1L << 40), 0)), EPERM);
    ck_assert_int_eq(raise(0), 0);
}
END_TEST

START_TEST(no_network)
{
    load_policy();
    ck_assert_int_eq(ERRNO_OF(socket(AF_INET, SOCK_STREAM, 0)), EACCES);
    ck_assert_int_eq(ERRNO_OF(socket(AF_UNIX, SOCK_STREAM, 0)), EACCES);
    ck_assert_int_eq(ERRNO_OF(socket(AF_NETLINK, SOCK_RAW, 0)), EACCES);
    int sv[2];
    ck_assert_int_eq(ERRNO_OF(socketpair(AF_INET, SOCK_STREAM, 0, sv)), EPERM);
    /* A datagram pair would accept a destination address: a way to the
     * host's Unix sockets (/dev/log, a daemon's socket). */
    ck_assert_int_eq(ERRNO_OF(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv)), EPERM);
    ck_assert_int_eq(ERRNO_OF(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv)), EPERM);
    ck_assert_int_eq(ERRNO_OF(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv)), EPERM);
}
END_TEST

START_TEST(memfd_is_refused)
{
    load_policy();
    /* Its pages count against no rlimit. */
    ck_assert_int_eq(ERRNO_OF((int)syscall(SYS_memfd_create, "x", 0)), EPERM);
}
END_TEST

START_TEST(dangerous_arguments_are_refused)
{
    load_policy();
    char c = 'x';
    ck_assert_int_eq(ERRNO_OF(ioctl(0, TIOCSTI, &c)), EPERM);
    ck_assert_int_eq(ERRNO_OF(fcntl(0, F_SETOWN, 1)), EPERM);
    ck_assert_int_eq(ERRNO_OF(fcntl(0, F_SETSIG, SIGKILL)), EPERM);
    ck_assert_int_eq(ERRNO_OF(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)), EPERM);
    ck_assert_int_eq(ERRNO_OF(personality(ADDR_NO_RANDOMIZE)), EPERM);
    struct rlimit rl = { 1, 1 };
    ck_assert_int_eq(ERRNO_OF(syscall(SYS_prlimit64, getppid(), RLIMIT_CPU, &rl, NULL)), EPERM);
    ck_assert_int_eq(ERRNO_OF(setpriority(PRIO_USER, 0, 19)), EPERM);
    ck_assert_int_eq(ERRNO_OF(syscall(1000, 0, 0, 0)), EPERM); /* no such syscall */
}
END_TEST

START_TEST(ptrace_kills)
{
    load_policy();
    syscall(SYS_ptrace, 0, 0, 0, 0);
}
END_TEST

START_TEST(io_uring_kills)
{
    load_policy();
    syscall(SYS_io_uring_setup, 1, NULL);
}
END_TEST

START_TEST(x32_abi_kills)
{
    load_policy();
    syscall(0x40000000 | SYS_getpid);
}
END_TEST

static void i386_getpid(void)
{
    /* int 0x80 enters the kernel as i386: a foreign architecture for the
     * filter, whatever the number (20 is getpid there). */
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20) : "memory");
    (void)ret;
}

START_TEST(foreign_architecture_kills)
{
    /* Without the kernel's IA-32 emulation, int 0x80 is a plain fault and
     * there is no foreign architecture to filter: say so, check nothing. */
    pid_t probe = fork();
    if (probe == 0) {
        i386_getpid();
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(probe, &status, 0), probe);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) {
        fprintf(stderr, "seccomp: this kernel has no IA-32 emulation; the foreign-architecture "
                        "rule cannot be exercised here\n");
        return;
    }
    ck_assert_msg(WIFEXITED(status), "i386 getpid without a filter: status %d", status);
    pid_t filtered = fork();
    if (filtered == 0) {
        load_policy();
        i386_getpid();
        _exit(0);
    }
    ck_assert_int_eq(waitpid(filtered, &status, 0), filtered);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS, "status %d", status);
}
END_TEST

START_TEST(unshare_kills)
{
    load_policy();
    unshare(CLONE_NEWUSER);
}
END_TEST

static Suite *seccomp_suite(void)
{
    Suite *s = suite_create("seccomp");
    TCase *tc = tcase_create("policy");
    tcase_add_test(tc, table_is_complete_and_explained);
    tcase_add_test(tc, docs_show_every_row);
    tcase_add_test(tc, filter_compiles_with_patchable_self_comparisons);
    tcase_add_test(tc, ordinary_work_still_runs);
    tcase_add_test(tc, threads_are_allowed);
    tcase_add_test(tc, processes_cannot_be_created);
    tcase_add_test(tc, signals_reach_only_the_job_itself);
    tcase_add_test(tc, no_network);
    tcase_add_test(tc, memfd_is_refused);
    tcase_add_test(tc, dangerous_arguments_are_refused);
    tcase_add_test_raise_signal(tc, ptrace_kills, SIGSYS);
    tcase_add_test_raise_signal(tc, io_uring_kills, SIGSYS);
    tcase_add_test_raise_signal(tc, x32_abi_kills, SIGSYS);
    tcase_add_test(tc, foreign_architecture_kills);
    tcase_add_test_raise_signal(tc, unshare_kills, SIGSYS);
    suite_add_tcase(s, tc);
    return s;
}

RB_CHECK_MAIN(seccomp_suite)
