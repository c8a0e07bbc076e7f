/* The worker: the child the zygote forks for one job. */
#ifndef RB_WORKER_H
#define RB_WORKER_H

#include <stdbool.h>
#include <sys/types.h>

#include "landlock.h"
#include "protocol.h"
#include "seccomp_policy.h"

struct rb_worker_context {
    pid_t parent;                       /* getppid() as the worker sees the zygote (0 inside
                                           a PID namespace, where the zygote has no pid) */
    struct rb_seccomp_program *seccomp; /* NULL when the kernel has no seccomp */
    int landlock_abi;                   /* 0: no Landlock */
    const char *const *read_paths;      /* what every job may read (Landlock)... */
    size_t nread_paths;
    const struct rb_landlock_held *held; /* ...or those paths held open, when nheld > 0 */
    size_t nheld;
    bool mount_namespace;               /* the zygote has a mount namespace of its own */
    unsigned long shared_threads;       /* RLIMIT_NPROC for a job whose uid is shared
                                           with the batch (runbox not root) */
};

/* In the zygote, once: before the interpreter starts (the C environment's
 * HOME and TMPDIR become buffers the worker fills in), and after it has
 * (os.environ's dict, looked up once). -1 when os.environ is not a dict. */
void rb_worker_prepare_environment(void);
int rb_worker_prepare_python(void);

/* One step of the worker's set-up, for the docs and the tests. */
struct job;
struct rb_worker_step {
    const char *name;
    void (*run)(struct job *j);
    const char *why;
};
const struct rb_worker_step *rb_worker_steps(size_t *n);

/* Sets the worker up in a fixed order, runs the job and exits. Never returns:
 * whatever happens is reported on the status pipe and ends in _exit. */
_Noreturn void rb_worker_main(const int fds[RBZ_NFDS], const struct rb_worker_context *ctx);

#endif
