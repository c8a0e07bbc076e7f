/*
 * Layer 1: resource limits. Policy is data: one row per limit, with the
 * reason beside it; the code that applies them is a loop.
 *
 * RLIMIT_NPROC is deliberately absent: it counts every process of the user
 * (and is not enforced for root), so it cannot bound one job. Processes are
 * stopped by the seccomp filter instead.
 */
#define _GNU_SOURCE
#include "rlimits.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "protocol.h"

enum rlimit_kind {
    FROM_CPU,    /* soft = job's CPU seconds, hard = soft + 1 */
    FROM_MEMORY, /* soft = hard = base address space + memory_mb */
    FIXED,       /* soft = hard = value */
};

struct rlimit_rule {
    int resource;
    const char *name;
    enum rlimit_kind kind;
    rlim_t value;
    /* why: kept in the table so the reason travels with the row */
    const char *why;
};

#define MB ((rlim_t)1024 * 1024)

static const struct rlimit_rule RLIMIT_TABLE[] = {
    { RLIMIT_CPU, "RLIMIT_CPU", FROM_CPU, 0,
      "CPU seconds; SIGXCPU at the soft limit, SIGKILL one second later for a "
      "program that ignores SIGXCPU" },
    { RLIMIT_AS, "RLIMIT_AS", FROM_MEMORY, 0,
      "address space beyond what the warm interpreter already maps; Python "
      "turns a failed allocation into MemoryError" },
    { RLIMIT_DATA, "RLIMIT_DATA", FROM_MEMORY, 0,
      "private writable memory (brk and anonymous mmap since Linux 4.7), the "
      "same bound seen from the heap's side" },
    { RLIMIT_FSIZE, "RLIMIT_FSIZE", FIXED, RB_FILE_SIZE_LIMIT_MB * MB,
      "largest file a job may write; CPython ignores SIGXFSZ, so the write "
      "fails with EFBIG and Python raises OSError" },
    { RLIMIT_NOFILE, "RLIMIT_NOFILE", FIXED, RB_OPEN_FILES_LIMIT,
      "open files, which also bounds the pipe buffers a job can pin in the "
      "kernel" },
    { RLIMIT_CORE, "RLIMIT_CORE", FIXED, 0,
      "no core dumps: they would land in the working dir and cost seconds" },
    { RLIMIT_STACK, "RLIMIT_STACK", FIXED, RB_STACK_LIMIT_MB * MB,
      "the main thread's stack, as under a default shell; runaway C "
      "recursion ends in SIGSEGV instead of eating the memory limit" },
    { RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK", FIXED, 0,
      "locked memory cannot be reclaimed by the kernel; jobs need none" },
    { RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE", FIXED, 0,
      "POSIX message queues outlive the process" },
    { RLIMIT_RTPRIO, "RLIMIT_RTPRIO", FIXED, 0,
      "no real-time scheduling, which could starve the supervisor" },
    { RLIMIT_NICE, "RLIMIT_NICE", FIXED, 0,
      "a job may lower its own priority, never raise it" },
};


size_t rb_rlimits_compute(const struct rb_rlimit_input *in,
                          struct rb_rlimit_value *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < sizeof RLIMIT_TABLE / sizeof RLIMIT_TABLE[0] && n < cap; i++) {
        const struct rlimit_rule *rule = &RLIMIT_TABLE[i];
        struct rb_rlimit_value *v = &out[n++];
        v->resource = rule->resource;
        v->name = rule->name;
        switch (rule->kind) {
        case FROM_CPU:
            v->soft = (rlim_t)rb_cpu_limit_seconds(in->cpu_time);
            v->hard = v->soft + 1;
            break;
        case FROM_MEMORY:
            v->soft = (rlim_t)in->base_address_space + (rlim_t)in->memory_mb * MB;
            v->hard = v->soft;
            break;
        case FIXED:
            v->soft = rule->value;
            v->hard = rule->value;
            break;
        }
    }
    return n;
}

int rb_rlimits_apply(const struct rb_rlimit_input *in, const char **failed)
{
    struct rb_rlimit_value values[sizeof RLIMIT_TABLE / sizeof RLIMIT_TABLE[0]];
    size_t n = rb_rlimits_compute(in, values, sizeof values / sizeof values[0]);

    for (size_t i = 0; i < n; i++) {
        struct rlimit cur;
        if (getrlimit(values[i].resource, &cur) < 0)
            goto fail;
        /* Never raise what the environment already capped: an administrator's
         * hard limit is a promise we keep. */
        struct rlimit want = { values[i].soft, values[i].hard };
        if (cur.rlim_max != RLIM_INFINITY && want.rlim_max > cur.rlim_max)
            want.rlim_max = cur.rlim_max;
        if (want.rlim_cur > want.rlim_max)
            want.rlim_cur = want.rlim_max;
        if (setrlimit(values[i].resource, &want) < 0)
            goto fail;
        continue;
    fail:
        if (failed)
            *failed = values[i].name;
        return -errno;
    }
    return 0;
}

unsigned long rb_address_space_now(void)
{
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n;
    do
        n = read(fd, buf, sizeof buf - 1);
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    unsigned long pages = strtoul(buf, NULL, 10);
    return pages * (unsigned long)sysconf(_SC_PAGESIZE);
}
