/* The worker's resource limits, as a table (layer 1 of the sandbox). */
#ifndef RB_RLIMITS_H
#define RB_RLIMITS_H

#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

/* Fixed limits a user meets; docs/manifest.md lists them. */
#define RB_FILE_SIZE_LIMIT_MB 64
#define RB_OPEN_FILES_LIMIT 256
#define RB_STACK_LIMIT_MB 8
/* Threads (and processes, which seccomp refuses anyway) a job may have. */
#define RB_THREADS_LIMIT 256

struct rb_rlimit_input {
    double cpu_time;            /* seconds; rounded up to whole seconds */
    long memory_mb;             /* address space on top of `base_address_space` */
    unsigned long base_address_space; /* bytes mapped when the job starts */
    unsigned long threads;      /* RLIMIT_NPROC: RB_THREADS_LIMIT where the job's tasks
                                   are counted alone (its own uid, or its own user
                                   namespace), else a bound shared with its user's
                                   other processes; 0 = RB_THREADS_LIMIT */
};

struct rb_rlimit_value {
    int resource;
    const char *name;
    rlim_t soft;
    rlim_t hard;
};

/* Fills `out` (room for `cap` rows) with the limits for `in`; returns the
 * number of rows. Pure: no system calls, so tests can check the table. */
size_t rb_rlimits_compute(const struct rb_rlimit_input *in,
                          struct rb_rlimit_value *out, size_t cap);

/* Reads the limits the process has now, once (in the zygote): what
 * rb_rlimits_apply then takes as the ones it must not raise, instead of
 * asking again in every worker. 0 or a negative errno. */
int rb_rlimits_remember(void);

/* Applies the computed limits, never raising a hard limit the process already
 * has (as remembered, or read now). Returns 0 or a negative errno, with the
 * failing row's name in *failed. */
int rb_rlimits_apply(const struct rb_rlimit_input *in, const char **failed);

/* Tasks (threads included) of the real uid on the machine now, from /proc;
 * -1 when /proc cannot be read. What RLIMIT_NPROC counts, for a job that
 * shares its uid with other processes. */
long rb_tasks_of_uid(uid_t uid);

/* Bytes of address space the calling process has mapped (from /proc/self/statm). */
unsigned long rb_address_space_now(void);

#endif
