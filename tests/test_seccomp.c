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
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>

#include "seccomp_policy.h"
#include "testutil.h"

/* As a worker has it: the zygote's filter, then the job's. */
static void load_policy(void)
{
    struct rb_seccomp_filters f;
    char err[256] = "";
    ck_assert_msg(rb_seccomp_build(&f, err, sizeof err) == 0, "build: %s", err);
    ck_assert_int_eq(rb_seccomp_install_zygote(&f), 0);
    ck_assert_int_eq(rb_seccomp_install(&f.job, getpid()), 0);
    rb_seccomp_filters_free(&f);
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
    rows = rb_seccomp_job_rows(&n);
    ck_assert_uint_gt(n, 10);
    for (size_t i = 0; i < n; i++) {
        char line[600];
        snprintf(line, sizeof line, "| `%s` | %s |\n", rows[i].syscall, rows[i].why);
        ck_assert_msg(strstr(doc, line) != NULL, "docs/sandbox.md lacks the job filter's row: %s", line);
    }
}
END_TEST

START_TEST(filter_compiles_with_patchable_self_comparisons)
{
    struct rb_seccomp_filters f;
    char err[256] = "";
    ck_assert_msg(rb_seccomp_build(&f, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_gt(f.zygote.len, 50);
    ck_assert_uint_eq(f.zygote.self_sites + f.zygote.neg_self_sites, 0);
    ck_assert_uint_ge(f.job.self_sites, 1);
    ck_assert_uint_ge(f.job.neg_self_sites, 1);
    /* The point of the split: what each job loads is a fraction of the policy. */
    ck_assert_uint_lt(f.job.len, f.zygote.len / 2);
    rb_seccomp_filters_free(&f);
}
END_TEST

/* ---- the stack of the two filters answers as the whole policy ----
 * A classic BPF interpreter for what libseccomp emits, and the kernel's rule
 * for a stack of filters (every filter runs; the lowest action wins, the
 * newest filter's among equals). */

struct probe {
    struct seccomp_data d;
};

static uint32_t load_word(const struct seccomp_data *d, uint32_t off)
{
    uint32_t w;
    ck_assert_msg(off % 4 == 0 && off + 4 <= sizeof *d, "load at offset %u", off);
    memcpy(&w, (const char *)d + off, 4);
    return w;
}

static uint32_t run_bpf(const struct rb_seccomp_program *p, const struct seccomp_data *d)
{
    uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
    for (unsigned pc = 0; pc < p->len; pc++) {
        const struct sock_filter *i = &p->insns[pc];
        switch (i->code) {
        case BPF_LD | BPF_W | BPF_ABS: a = load_word(d, i->k); break;
        case BPF_LD | BPF_IMM: a = i->k; break;
        case BPF_LDX | BPF_IMM: x = i->k; break;
        case BPF_LD | BPF_MEM: a = mem[i->k]; break;
        case BPF_LDX | BPF_MEM: x = mem[i->k]; break;
        case BPF_ST: mem[i->k] = a; break;
        case BPF_STX: mem[i->k] = x; break;
        case BPF_ALU | BPF_AND | BPF_K: a &= i->k; break;
        case BPF_ALU | BPF_OR | BPF_K: a |= i->k; break;
        case BPF_MISC | BPF_TAX: x = a; break;
        case BPF_MISC | BPF_TXA: a = x; break;
        case BPF_JMP | BPF_JA: pc += i->k; break;
        case BPF_JMP | BPF_JEQ | BPF_K: pc += a == i->k ? i->jt : i->jf; break;
        case BPF_JMP | BPF_JGT | BPF_K: pc += a > i->k ? i->jt : i->jf; break;
        case BPF_JMP | BPF_JGE | BPF_K: pc += a >= i->k ? i->jt : i->jf; break;
        case BPF_JMP | BPF_JSET | BPF_K: pc += (a & i->k) ? i->jt : i->jf; break;
        case BPF_JMP | BPF_JEQ | BPF_X: pc += a == x ? i->jt : i->jf; break;
        case BPF_JMP | BPF_JGT | BPF_X: pc += a > x ? i->jt : i->jf; break;
        case BPF_JMP | BPF_JGE | BPF_X: pc += a >= x ? i->jt : i->jf; break;
        case BPF_RET | BPF_K: return i->k;
        case BPF_RET | BPF_A: return a;
        default: ck_abort_msg("instruction %u: opcode 0x%x not interpreted", pc, i->code);
        }
    }
    ck_abort_msg("the program ran off its end");
    return 0;
}

static uint32_t run_stack(const struct rb_seccomp_program *older, const struct rb_seccomp_program *newer,
                          const struct seccomp_data *d)
{
    uint32_t ret = SECCOMP_RET_ALLOW;
    const struct rb_seccomp_program *stack[2] = { newer, older };
    for (int i = 0; i < 2; i++) {
        uint32_t cur = run_bpf(stack[i], d);
        if ((int32_t)(cur & SECCOMP_RET_ACTION_FULL) < (int32_t)(ret & SECCOMP_RET_ACTION_FULL))
            ret = cur;
    }
    return ret;
}

/* Every constant a program compares an argument's half with, by argument
 * and half: the values at which an answer can change, and their neighbours. */
#define MAXV 512
struct values {
    uint32_t v[6][2][MAXV];
    size_t n[6][2];
};

static void add_value(struct values *vs, int arg, int half, uint32_t v)
{
    for (size_t i = 0; i < vs->n[arg][half]; i++)
        if (vs->v[arg][half][i] == v)
            return;
    if (vs->n[arg][half] < MAXV)
        vs->v[arg][half][vs->n[arg][half]++] = v;
}

static void collect_values(const struct rb_seccomp_program *p, struct values *vs)
{
    int arg = -1, half = 0;
    for (unsigned pc = 0; pc < p->len; pc++) {
        const struct sock_filter *i = &p->insns[pc];
        if (i->code == (BPF_LD | BPF_W | BPF_ABS)) {
            uint32_t off = i->k;
            size_t base = offsetof(struct seccomp_data, args);
            arg = off >= base ? (int)((off - base) / 8) : -1;
            half = off >= base ? (int)((off - base) % 8) / 4 : 0;
        } else if (BPF_CLASS(i->code) == BPF_JMP && BPF_OP(i->code) != BPF_JA && arg >= 0) {
            for (int64_t d = -1; d <= 1; d++)
                add_value(vs, arg, half, i->k + (uint32_t)d);
        }
    }
    for (int a = 0; a < 6; a++)
        for (int h = 0; h < 2; h++) {
            add_value(vs, a, h, 0);
            add_value(vs, a, h, 0xffffffffu);
        }
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

static void expect_same(const struct rb_seccomp_program *whole, const struct rb_seccomp_filters *f,
                        const struct seccomp_data *d)
{
    uint32_t want = run_bpf(whole, d), got = run_stack(&f->zygote, &f->job, d);
    ck_assert_msg(want == got,
                  "syscall %d (arch 0x%x) args %#llx %#llx %#llx %#llx %#llx %#llx: the policy answers %#x, "
                  "the zygote's and the job's filters %#x",
                  d->nr, d->arch, (unsigned long long)d->args[0], (unsigned long long)d->args[1],
                  (unsigned long long)d->args[2], (unsigned long long)d->args[3],
                  (unsigned long long)d->args[4], (unsigned long long)d->args[5], want, got);
}

START_TEST(split_filters_answer_as_the_whole_policy)
{
    struct rb_seccomp_filters f;
    struct rb_seccomp_program whole;
    char err[256] = "";
    ck_assert_msg(rb_seccomp_build(&f, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(rb_seccomp_build_whole(&whole, err, sizeof err) == 0, "%s", err);
    const pid_t self = 4242;
    rb_seccomp_patch(&f.job, self);
    rb_seccomp_patch(&whole, self);
    static struct values vs;
    memset(&vs, 0, sizeof vs);
    collect_values(&whole, &vs);
    collect_values(&f.job, &vs);
    collect_values(&f.zygote, &vs);
    size_t checked = 0;
    for (int nr = 0; nr < 512; nr++) {
        struct seccomp_data d = { .nr = nr, .arch = AUDIT_ARCH_X86_64 };
        expect_same(&whole, &f, &d);
        /* Each argument over every value compared anywhere, the rest 0. */
        for (int a = 0; a < 6; a++)
            for (int h = 0; h < 2; h++)
                for (size_t i = 0; i < vs.n[a][h]; i++) {
                    memset(d.args, 0, sizeof d.args);
                    d.args[a] = h ? (uint64_t)vs.v[a][h][i] << 32 : vs.v[a][h][i];
                    expect_same(&whole, &f, &d);
                    checked++;
                }
        /* Then all arguments at once, drawn from the same values. */
        for (int k = 0; k < 400; k++) {
            for (int a = 0; a < 6; a++) {
                uint64_t lo = vs.v[a][0][rnd((uint32_t)vs.n[a][0])];
                uint64_t hi = rnd(4) ? 0 : vs.v[a][1][rnd((uint32_t)vs.n[a][1])];
                d.args[a] = hi << 32 | lo;
            }
            expect_same(&whole, &f, &d);
            checked++;
        }
        /* The x32 ABI and another architecture. */
        d.nr = nr | 0x40000000;
        expect_same(&whole, &f, &d);
        d.nr = nr;
        d.arch = AUDIT_ARCH_I386;
        expect_same(&whole, &f, &d);
    }
    ck_assert_uint_gt(checked, 200000);
    rb_seccomp_program_free(&whole);
    rb_seccomp_filters_free(&f);
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
    tcase_set_timeout(tc, 60); /* the stack-against-policy check runs a million filter evaluations */
    tcase_add_test(tc, table_is_complete_and_explained);
    tcase_add_test(tc, docs_show_every_row);
    tcase_add_test(tc, filter_compiles_with_patchable_self_comparisons);
    tcase_add_test(tc, split_filters_answer_as_the_whole_policy);
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
