/* What a pool holds right now, for the service's metrics (pool.c). Internal:
 * not part of the public API. */
#ifndef RB_POOLCOUNTS_H
#define RB_POOLCOUNTS_H

#include <stdbool.h>
#include <stddef.h>

#include "runbox.h"

struct rb_pool_counts {
    size_t slots;        /* jobs that may run at once */
    size_t running;      /* slots busy (starting, running, or being read after exit) */
    size_t queued;       /* submitted, waiting for a slot */
    int zygote_restarts; /* times the zygote died and was started again */
    bool broken;         /* the zygote died too often: every job now ends `internal` */
};

void rb_pool_counts(const rb_pool *p, struct rb_pool_counts *out);

#endif
