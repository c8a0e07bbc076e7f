#define _GNU_SOURCE
#include "jobuids.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "protocol.h"

int rb_job_uids_claim(struct rb_job_uids *u)
{
    u->lock = -1;
    u->base = (uid_t)-1;
    for (unsigned block = 0; block < RB_JOB_UID_BLOCKS; block++) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -errno;
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        /* Abstract (a leading NUL): no file to leave behind or to clean up. */
        int n = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "runbox-job-uids-%u", block);
        if (bind(fd, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) == 0) {
            u->lock = fd;
            u->base = RB_JOB_UID_BASE + block * RB_JOB_UID_COUNT;
            return 0;
        }
        int e = errno;
        close(fd);
        if (e != EADDRINUSE)
            return -e;
    }
    return -EBUSY;
}

void rb_job_uids_release(struct rb_job_uids *u)
{
    if (u->lock >= 0)
        close(u->lock);
    u->lock = -1;
}
