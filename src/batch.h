/*
 * A batch: parsed manifest jobs in, one record per job out, through one pool.
 *
 * What `runbox run`, `runbox serve` and the Python package share, so none of
 * them re-implements how a job becomes a record: a single job goes to the
 * pool as it is; a job of several runs (cases, num_times, commands) goes
 * through multirun, which compares outputs here, in the supervisor. Every
 * job's record comes back exactly once through one callback, with the
 * context its submitter gave it, unless the job was cancelled.
 *
 * Not thread-safe: one thread drives a batch (rb_batch_run), as with a pool.
 */
#ifndef RB_BATCH_H
#define RB_BATCH_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "manifest.h"
#include "runbox.h"

struct rb_batch;

/* A job's record (valid for the call only), the status it counts under,
 * and the context given when it was submitted. */
typedef void (*rb_batch_record_fn)(const cJSON *record, rb_status status, void *job_ctx, void *ctx);

/* Every run the pool finishes, before it is turned into a record (a job of
 * several runs reports each): for statistics. */
typedef void (*rb_batch_run_fn)(const rb_result *result, void *ctx);

/* Starts the pool (its zygote). On failure `*out` is NULL and `errbuf` says
 * why, for a person. */
int rb_batch_new(const rb_pool_config *config, rb_batch_record_fn on_record, void *ctx,
                 struct rb_batch **out, char *errbuf, size_t errlen);
void rb_batch_on_run(struct rb_batch *b, rb_batch_run_fn fn);

/* Takes `job` over (it is left empty, to be freed by the caller as usual)
 * and starts it, or queues it in the pool. 0, or a negative errno when it
 * could not be taken: then nothing was delivered and the caller reports it
 * (rb_batch_reject). */
int rb_batch_submit(struct rb_batch *b, struct rb_manifest_job *job, void *job_ctx);

/* Delivers an `invalid` record for a job that never ran: `id` may be NULL;
 * `line_no` > 0 adds the record's "line". */
void rb_batch_reject(struct rb_batch *b, const char *id, long line_no, const char *message,
                     void *job_ctx);

/* Drops every job submitted with `job_ctx`: queued ones never start, running
 * ones are killed; none gets a record. Returns how many were dropped. */
int rb_batch_cancel(struct rb_batch *b, const void *job_ctx);

/* How many more jobs could start now without queueing. */
size_t rb_batch_free_slots(struct rb_batch *b);

/* Jobs submitted whose records have not been delivered yet. */
size_t rb_batch_pending(const struct rb_batch *b);

/* Waits up to `timeout_ms` (-1: until something happens) and handles what
 * happened; records are delivered from here. 0 or more events, or -errno. */
int rb_batch_run(struct rb_batch *b, int timeout_ms);

/* Readable when rb_batch_run has work to do. */
int rb_batch_fd(const struct rb_batch *b);

rb_pool *rb_batch_pool(struct rb_batch *b);

/* Inside the rb_batch_run_fn hook: the context a single job was submitted
 * with, for a caller that wants the run itself (its raw bytes) rather than
 * the record; NULL for a run of a job of several runs. */
void *rb_batch_run_ctx(const rb_result *result);

/* Kills what is in flight, without records, and frees everything. */
void rb_batch_free(struct rb_batch *b);

#endif
