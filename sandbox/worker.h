/* The worker: the child the zygote forks for one job. */
#ifndef RB_WORKER_H
#define RB_WORKER_H

#include <stdbool.h>
#include <sys/types.h>

#include "protocol.h"
#include "seccomp_policy.h"

struct rb_worker_context {
    pid_t zygote;                       /* the parent, for the parent-death check */
    struct rb_seccomp_program *seccomp; /* NULL when the kernel has no seccomp */
};

/* Sets the worker up in a fixed order, runs the job and exits. Never returns:
 * whatever happens is reported on the status pipe and ends in _exit. */
_Noreturn void rb_worker_main(const int fds[RBZ_NFDS], const struct rb_worker_context *ctx);

#endif
