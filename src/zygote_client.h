/* The supervisor's side of the zygote: start it, talk to it, stop it. */
#ifndef RB_ZYGOTE_CLIENT_H
#define RB_ZYGOTE_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../sandbox/protocol.h"

struct rb_zygote {
    pid_t pid;
    int sock;
    unsigned flags;      /* RBZ_HAVE_* from READY */
    int landlock_abi;    /* in use, 0 when off */
    char version[128];   /* the interpreter's version line */
    char landlock_why[256];   /* why Landlock is off, or "" */
    char namespaces_why[256]; /* why namespaces are off (or partly), or "" */
};

/* Layers the zygote is asked to leave out. */
#define RB_ZYGOTE_NO_LANDLOCK (1u << 0)
#define RB_ZYGOTE_NO_NAMESPACES (1u << 1)

/* The zygote executable to use: `configured` if given, else the one next to
 * this program (a build tree), else the installed one. Malloc'd. */
char *rb_zygote_locate(const char *configured);

/* Starts the zygote and waits for READY. On failure `err` says why. */
int rb_zygote_start(struct rb_zygote *z, const char *path, const char *preload, unsigned without,
                    char *err, size_t errlen);

int rb_zygote_send_fork(struct rb_zygote *z, uint64_t seq, const int fds[RBZ_NFDS]);
int rb_zygote_send_kill(struct rb_zygote *z, uint64_t seq);

/* One message without blocking: 1, 0 when the zygote is gone, or -EAGAIN. */
int rb_zygote_recv(struct rb_zygote *z, struct rbz_msg *msg);

/* Closes the socket (the zygote kills its workers and exits) and reaps it. */
void rb_zygote_stop(struct rb_zygote *z);

#endif
