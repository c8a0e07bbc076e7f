/* The uids jobs run under when runbox runs as root (sandbox/protocol.h):
 * a block of RB_JOB_UID_COUNT per pool, so that no two pools (in one
 * process or in two runbox processes on the machine) hand out the same uid. */
#ifndef RB_JOBUIDS_H
#define RB_JOBUIDS_H

#include <sys/types.h>

#include "runbox.h"

struct rb_job_uids {
    uid_t base; /* the block's first uid */
    int lock;   /* held for the block's life */
};

/* Claims a free block: an abstract Unix socket named after it is bound for
 * as long as the block is in use, and the kernel releases it when the
 * process ends, however it ends. 0, or a negative errno (-EBUSY when every
 * block is taken). */
int rb_job_uids_claim(struct rb_job_uids *u);

/* Gives the block back. */
void rb_job_uids_release(struct rb_job_uids *u);

/* The first uid of a pool's block, or -1 when runbox is not root (pool.c). */
uid_t rb_pool_job_uid_base(const rb_pool *p);

#endif
