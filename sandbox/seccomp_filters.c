/*
 * Layer 2's filters: the policy (seccomp_policy.c) compiled with libseccomp,
 * installed in two parts whose stack is the policy exactly. Loading a filter
 * costs in proportion to its size (the kernel checks it, compiles it and, for
 * each system call, works out whether the answer is always "allow"): the
 * whole policy took 0.4 ms per job, a third of a trivial job's CPU. So the
 * zygote builds both parts once with libseccomp and loads the first into
 * itself when it is ready; its workers inherit it for free:
 *
 *   the zygote's filter: the policy, except that the system calls in
 *     SET_UP_CALLS (what the zygote's loop and a worker's set-up make) and
 *     every call with a row about the job's own pid are allowed;
 *   the job's filter: those calls only, with the policy's rows for them, and
 *     "allow" for every other call. Each worker patches its pid into it and
 *     loads it, last of its set-up.
 *
 * The kernel runs every filter of the stack and takes the strictest answer
 * (kill, then errno, then allow), so a call in SET_UP_CALLS gets the job's
 * filter's answer, which is the policy's; any other call the zygote's, which
 * is the policy's as well. tests/test_seccomp.c checks that the stack answers
 * as the whole policy compiled in one piece, call by call and argument by
 * argument.
 */
#define _GNU_SOURCE
#include "seccomp_policy.h"
#include "seccomp_int.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdbool.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define POLICY RB_SECCOMP_POLICY
#define POLICY_ROWS RB_SECCOMP_POLICY_ROWS
#define SET_UP_CALLS RB_SECCOMP_SET_UP
#define SET_UP_ROWS RB_SECCOMP_SET_UP_ROWS
#define names_pid rb_seccomp_names_pid

/* At most this many calls in the job's filter (there are two dozen). */
#define MAX_JOB_CALLS 128

static int export_bpf(scmp_filter_ctx ctx, struct rb_seccomp_program *out)
{
    int fd = memfd_create("runbox-seccomp", MFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = seccomp_export_bpf(ctx, fd);
    if (rc < 0)
        goto done;
    off_t size = lseek(fd, 0, SEEK_END);
    if (size <= 0 || size % (off_t)sizeof(struct sock_filter) != 0 ||
        size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS) {
        rc = -EINVAL;
        goto done;
    }
    out->insns = malloc((size_t)size);
    if (!out->insns) {
        rc = -ENOMEM;
        goto done;
    }
    if (pread(fd, out->insns, (size_t)size, 0) != size) {
        rc = errno ? -errno : -EIO;
        free(out->insns);
        out->insns = NULL;
        goto done;
    }
    out->len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
    rc = 0;
done:
    close(fd);
    return rc;
}

static bool is_self_compare(const struct sock_filter *insn, uint32_t k)
{
    return BPF_CLASS(insn->code) == BPF_JMP && BPF_OP(insn->code) == BPF_JEQ &&
           BPF_SRC(insn->code) == BPF_K && insn->k == k;
}

static size_t count_sites(const struct rb_seccomp_program *p, uint32_t k)
{
    size_t n = 0;
    for (unsigned short i = 0; i < p->len; i++)
        n += is_self_compare(&p->insns[i], k);
    return n;
}

/* Instructions that mention `k` in some other way than a jeq with it. */
static size_t count_other_uses(const struct rb_seccomp_program *p, uint32_t k)
{
    size_t n = 0;
    for (unsigned short i = 0; i < p->len; i++)
        n += p->insns[i].k == k && !is_self_compare(&p->insns[i], k);
    return n;
}


/* Whether the job's filter, rather than the zygote's, answers for a call. */
static bool job_decides(const char *name)
{
    for (size_t i = 0; i < SET_UP_ROWS; i++)
        if (strcmp(SET_UP_CALLS[i].name, name) == 0)
            return true;
    for (size_t i = 0; i < POLICY_ROWS; i++)
        if (strcmp(POLICY[i].name, name) == 0 && names_pid(&POLICY[i]))
            return true;
    return false;
}

/* The numbers of the calls the job's filter answers for, each once; -1
 * when there are more than `cap` (MAX_JOB_CALLS is too small). */
static ssize_t job_calls(int *nrs, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < SET_UP_ROWS + POLICY_ROWS; i++) {
        const char *name = i < SET_UP_ROWS ? SET_UP_CALLS[i].name : POLICY[i - SET_UP_ROWS].name;
        if (i >= SET_UP_ROWS && !names_pid(&POLICY[i - SET_UP_ROWS]))
            continue;
        int nr = seccomp_syscall_resolve_name(name);
        bool seen = nr == __NR_SCMP_ERROR;
        for (size_t k = 0; k < n && !seen; k++)
            seen = nrs[k] == nr;
        if (!seen && n == cap)
            return -1;
        if (!seen)
            nrs[n++] = nr;
    }
    return (ssize_t)n;
}

enum part {
    WHOLE,      /* the policy in one filter (the tests' reference) */
    ZYGOTE,     /* the policy, with the job's calls allowed */
    JOB_CALLS,  /* the policy's rows for the job's calls only */
};

static int compile(enum part part, struct rb_seccomp_program *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    scmp_filter_ctx ctx = seccomp_init(DEFAULT_ACTION);
    if (!ctx) {
        snprintf(err, errlen, "seccomp_init failed");
        return -ENOMEM;
    }
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    if (rc == 0)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0); /* the zygote sets it itself */
    /* A binary tree of the call numbers instead of a list: a quarter of
     * the cost to load (the kernel's per-call "always allowed?" pass walks
     * the filter once per call number) and fewer instructions per call. */
    if (rc == 0)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (rc < 0) {
        snprintf(err, errlen, "seccomp_attr_set: %s", strerror(-rc));
        goto out;
    }
    for (size_t i = 0; i < POLICY_ROWS; i++) {
        const struct syscall_rule *r = &POLICY[i];
        int nr = seccomp_syscall_resolve_name(r->name);
        if (nr == __NR_SCMP_ERROR)
            continue; /* not a syscall of this architecture */
        if (r->action == DEFAULT_ACTION && r->ncmp == 0)
            continue; /* documents what the default does; libseccomp refuses the duplicate */
        if ((part == ZYGOTE && job_decides(r->name)) || (part == JOB_CALLS && !job_decides(r->name)))
            continue;
        rc = seccomp_rule_add_array(ctx, r->action, nr, r->ncmp, r->ncmp ? r->cmp : NULL);
        if (rc < 0) {
            snprintf(err, errlen, "seccomp rule for %s: %s", r->name, strerror(-rc));
            goto out;
        }
    }
    if (part == ZYGOTE) {
        int nrs[MAX_JOB_CALLS];
        ssize_t n = job_calls(nrs, MAX_JOB_CALLS);
        if (n < 0)
            rc = -E2BIG;
        for (ssize_t i = 0; i < n && rc == 0; i++)
            rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nrs[i], 0);
        if (rc < 0) {
            snprintf(err, errlen, "seccomp rule for the zygote's calls: %s", strerror(-rc));
            goto out;
        }
    }
    rc = export_bpf(ctx, out);
    if (rc < 0)
        snprintf(err, errlen, "exporting the seccomp filter: %s", strerror(-rc));
out:
    seccomp_release(ctx);
    return rc;
}

/* Patching is sound when every comparison with a stand-in is a jeq against
 * it (libseccomp shares identical blocks between syscalls, so there may be
 * fewer sites than rules). Were it encoded another way, the unpatched rule
 * would deny what it should allow: a failure that is closed, but still a
 * failure, so refuse to start. */
static int check_sites(struct rb_seccomp_program *p, bool expected, char *err, size_t errlen)
{
    p->self_sites = count_sites(p, RB_SECCOMP_SELF);
    p->neg_self_sites = count_sites(p, RB_SECCOMP_NEG_SELF);
    bool any = p->self_sites || p->neg_self_sites || count_other_uses(p, RB_SECCOMP_SELF) ||
               count_other_uses(p, RB_SECCOMP_NEG_SELF);
    bool good = expected ? p->self_sites && p->neg_self_sites && !count_other_uses(p, RB_SECCOMP_SELF) &&
                               !count_other_uses(p, RB_SECCOMP_NEG_SELF)
                         : !any;
    if (good)
        return 0;
    snprintf(err, errlen, expected ? "the compiled seccomp filter compares the job's pid in an unexpected way"
                                   : "the zygote's seccomp filter compares the job's pid");
    rb_seccomp_program_free(p);
    return -EPROTO;
}

int rb_seccomp_build_whole(struct rb_seccomp_program *out, char *err, size_t errlen)
{
    int rc = compile(WHOLE, out, err, errlen);
    return rc < 0 ? rc : check_sites(out, true, err, errlen);
}

/* The job's filter starts with a search over the numbers of the calls it
 * answers for (sorted): a binary tree of jge, with runs of at most LEAF jeq
 * at its leaves. Each leads into libseccomp's compilation of those calls'
 * rows (`body`, after the search: jumps in classic BPF are relative, so it
 * runs unchanged), and every other call is allowed here and answered by the
 * zygote's filter. A tree instead of a list: the kernel, loading a filter,
 * runs it once for every call number to learn which are always allowed, and
 * a call pays the search each time the filter runs. */
#define LEAF 3

static size_t search_size(size_t n)
{
    return n <= LEAF ? n + 1 : 1 + search_size(n / 2) + search_size(n - n / 2);
}

/* Emits the search over nrs[0..n) at insns[at]; `body` is where the body
 * starts. Returns the index after what it emitted. */
static size_t emit_search(struct sock_filter *insns, size_t at, const int *nrs, size_t n, size_t body)
{
    if (n <= LEAF) {
        for (size_t i = 0; i < n; i++, at++)
            insns[at] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nrs[i],
                                                     (unsigned char)(body - (at + 1)), 0);
        insns[at++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        return at;
    }
    size_t half = n / 2, left = search_size(half);
    insns[at] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (uint32_t)nrs[half], (unsigned char)left, 0);
    at = emit_search(insns, at + 1, nrs, half, body);
    return emit_search(insns, at, nrs + half, n - half, body);
}

static int compare_ints(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int build_job(struct rb_seccomp_program *out, char *err, size_t errlen)
{
    struct rb_seccomp_program body;
    int rc = compile(JOB_CALLS, &body, err, errlen);
    if (rc < 0)
        return rc;
    int nrs[MAX_JOB_CALLS];
    ssize_t got = job_calls(nrs, MAX_JOB_CALLS);
    size_t n = got < 0 ? MAX_JOB_CALLS : (size_t)got;
    qsort(nrs, n, sizeof *nrs, compare_ints);
    size_t head = 1 + search_size(n), len = head + body.len;
    /* Every jump must reach the body in 255 instructions. */
    if (got < 0 || head > 255 || len > BPF_MAXINSNS) {
        snprintf(err, errlen, "the job's seccomp filter is too large (%zu calls)", n);
        rb_seccomp_program_free(&body);
        return -E2BIG;
    }
    memset(out, 0, sizeof *out);
    out->insns = calloc(len, sizeof *out->insns);
    if (!out->insns) {
        rb_seccomp_program_free(&body);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    out->insns[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    size_t end = emit_search(out->insns, 1, nrs, n, head);
    memcpy(out->insns + head, body.insns, body.len * sizeof *body.insns);
    out->len = (unsigned short)len;
    rb_seccomp_program_free(&body);
    if (end != head) {
        snprintf(err, errlen, "the job's seccomp filter's search is %zu instructions, not %zu", end - 1, head - 1);
        rb_seccomp_program_free(out);
        return -EPROTO;
    }
    return check_sites(out, true, err, errlen);
}

int rb_seccomp_build(struct rb_seccomp_filters *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int rc = compile(ZYGOTE, &out->zygote, err, errlen);
    if (rc == 0)
        rc = check_sites(&out->zygote, false, err, errlen);
    if (rc == 0)
        rc = build_job(&out->job, err, errlen);
    if (rc < 0)
        rb_seccomp_filters_free(out);
    return rc;
}

static int load(const struct rb_seccomp_program *prog)
{
    struct sock_fprog fprog = { .len = prog->len, .filter = prog->insns };
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0)
        return -errno;
    return 0;
}

int rb_seccomp_install_zygote(const struct rb_seccomp_filters *f)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -errno;
    return load(&f->zygote);
}

void rb_seccomp_patch(struct rb_seccomp_program *prog, pid_t self)
{
    for (unsigned short i = 0; i < prog->len; i++) {
        struct sock_filter *insn = &prog->insns[i];
        if (is_self_compare(insn, RB_SECCOMP_SELF))
            insn->k = (uint32_t)self;
        else if (is_self_compare(insn, RB_SECCOMP_NEG_SELF))
            insn->k = (uint32_t)-self;
    }
}

int rb_seccomp_install(struct rb_seccomp_program *prog, pid_t self)
{
    rb_seccomp_patch(prog, self);
    return load(prog);
}

void rb_seccomp_filters_free(struct rb_seccomp_filters *f)
{
    rb_seccomp_program_free(&f->zygote);
    rb_seccomp_program_free(&f->job);
}

void rb_seccomp_program_free(struct rb_seccomp_program *prog)
{
    free(prog->insns);
    memset(prog, 0, sizeof *prog);
}
