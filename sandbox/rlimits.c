/*
 * Layer 1: resource limits. Policy is data: one row per limit, with the
 * reason beside it; the code that applies them is a loop.
 *
 * RLIMIT_NPROC counts the tasks (threads too) of the job's user, in its user
 * namespace, so it bounds one job only where the job's tasks are counted
 * alone: as root, where each job has a uid of its own. Without root it is
 * shared with the batch (and, without a user namespace, the user's other
 * processes): the zygote sets a bound above what they hold
 * (rb_tasks_of_uid). New processes are stopped by the seccomp filter in any
 * case.
 */
#define _GNU_SOURCE
#include "rlimits.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protocol.h"

enum rlimit_kind {
    FROM_CPU,    /* soft = job's CPU seconds, hard = soft + 1 */
    FROM_MEMORY, /* soft = hard = base address space + memory_mb */
    FROM_THREADS, /* soft = hard = the job's thread bound */
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
    { RLIMIT_NPROC, "RLIMIT_NPROC", FROM_THREADS, 0,
      "threads: a thread bomb (threading, _thread, or pthread_create and clone "
      "through ctypes) stops at the bound instead of taking every pid of the "
      "machine; creating one more fails with EAGAIN" },
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
        case FROM_THREADS:
            v->soft = v->hard = in->threads ? (rlim_t)in->threads : RB_THREADS_LIMIT;
            break;
        case FIXED:
            v->soft = rule->value;
            v->hard = rule->value;
            break;
        }
    }
    return n;
}

#define RLIMIT_ROWS (sizeof RLIMIT_TABLE / sizeof RLIMIT_TABLE[0])

/* The limits the zygote was given, read once there: every worker inherits
 * them unchanged, so a worker need not ask again (13 system calls a job). */
static struct rlimit inherited[RLIMIT_ROWS];
static bool have_inherited;

int rb_rlimits_remember(void)
{
    for (size_t i = 0; i < RLIMIT_ROWS; i++)
        if (getrlimit(RLIMIT_TABLE[i].resource, &inherited[i]) < 0)
            return -errno;
    have_inherited = true;
    return 0;
}

int rb_rlimits_apply(const struct rb_rlimit_input *in, const char **failed)
{
    struct rb_rlimit_value values[RLIMIT_ROWS];
    size_t n = rb_rlimits_compute(in, values, RLIMIT_ROWS);

    for (size_t i = 0; i < n; i++) {
        struct rlimit cur = inherited[i];
        if (!have_inherited && getrlimit(values[i].resource, &cur) < 0)
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

long rb_tasks_of_uid(uid_t uid)
{
    DIR *proc = opendir("/proc");
    if (!proc)
        return -1;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(proc))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char path[300];
        struct stat st;
        snprintf(path, sizeof path, "/proc/%.255s/task", e->d_name);
        /* A process's /proc dir belongs to its effective uid; for a bound
         * above what the user already holds, that is near enough. */
        if (stat(path, &st) < 0 || st.st_uid != uid)
            continue;
        n += st.st_nlink > 2 ? (long)st.st_nlink - 2 : 1; /* one subdirectory per thread */
    }
    closedir(proc);
    return n;
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
