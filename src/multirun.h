/*
 * Jobs made of several runs of one program, each a process of its own:
 *   cases     stdin/stdout test cases, outputs compared here, in the
 *             supervisor (expected outputs never reach a job);
 *   num_times the same run repeated, one after another, for timing;
 *   commands  runs in order in one shared working dir, each with its own
 *             stdin, argv and timeout (the seed library's Command list).
 * Each writes one record when its last run is done.
 */
#ifndef RB_MULTIRUN_H
#define RB_MULTIRUN_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "manifest.h"
#include "runbox.h"
#include "workdir.h"

/* Called with each finished job's record (owned by the caller of the hook
 * only for the duration of the call), the status it counts under and the
 * context given to rb_multirun_start. */
typedef void (*rb_multirun_record_fn)(const cJSON *record, rb_status status, void *job_ctx, void *ctx);

/* What the `user` of a pool job points at when a batch submitted it, first
 * in both kinds of owner, so the batch can route a result to its owner. */
enum rb_run_owner { RB_RUN_SINGLE = 1, RB_RUN_MULTI };

struct rb_multirun_set {
    struct multi_job *active;    /* in manifest order */
    rb_multirun_record_fn write;
    void *ctx;
    const char *workdir_parent;  /* where shared working dirs go (commands) */
    struct rb_workdir_root root; /* made when the first commands job needs it */
    uid_t uid_base;              /* the pool's block of job uids (rb_pool_job_uid_base),
                                    -1 when not root; set before the first job */
};

void rb_multirun_init(struct rb_multirun_set *set, const char *workdir_parent,
                      rb_multirun_record_fn write, void *ctx);

/* Whether `m` is a job of several runs. */
bool rb_multirun_wants(const struct rb_manifest_job *m);

/* Takes `m` over (it is left empty); `job_ctx` comes back with its record. */
int rb_multirun_start(struct rb_multirun_set *set, struct rb_manifest_job *m, void *job_ctx);

/* Drops, without a record, every job started with `job_ctx`, killing its
 * runs in the pool. Returns how many jobs were dropped. */
int rb_multirun_cancel(struct rb_multirun_set *set, rb_pool *pool, const void *job_ctx);

/* Jobs started and not yet written. */
size_t rb_multirun_count(const struct rb_multirun_set *set);

/* Starts the runs the pool has room for and writes the records of jobs
 * whose runs are all done. */
void rb_multirun_schedule(struct rb_multirun_set *set, rb_pool *pool);

/* Takes a result whose `user` is one of this set's runs. */
void rb_multirun_on_result(struct rb_multirun_set *set, const rb_result *r);

bool rb_multirun_idle(const struct rb_multirun_set *set);

/* Drops every unfinished job without a record (an interrupted batch). */
void rb_multirun_free(struct rb_multirun_set *set);

#endif
