/* Layer 4: namespaces, entered once by the zygote, where the kernel allows. */
#ifndef RB_NAMESPACES_H
#define RB_NAMESPACES_H

#include <stdbool.h>
#include <sys/types.h>

struct rb_namespaces {
    bool user;          /* a user namespace of its own */
    bool net;           /* no network: an unconfigured loopback only */
    bool pid;           /* jobs see and signal only jobs */
    bool ipc;           /* no System V IPC or POSIX queues shared with the host */
    bool uts;           /* a host name of its own */
    bool private_proc;  /* /proc shows the jobs' PID namespace only */
    pid_t init;         /* the PID namespace's init, a child of the zygote */
    char why[256];      /* what failed, when something did */
};

/* Returned when setting up failed after the process entered the new
 * namespaces, which cannot be undone: the process must not go on. */
#define RB_NAMESPACES_BROKEN (-10000)

/* Enters new user, mount, network, PID, IPC and UTS namespaces (in one
 * unshare, so either all or none), maps the caller's ids, and starts the PID
 * namespace's init, which mounts a private /proc. Must run while the process
 * is single-threaded. Returns 0; or a negative errno when the kernel refused
 * (nothing changed; `ns->why` says why, and the caller goes on without the
 * layer); or RB_NAMESPACES_BROKEN (the caller must exit). */
int rb_namespaces_enter(struct rb_namespaces *ns);

#endif
