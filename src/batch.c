/*
 * A batch: parsed manifest jobs in, one record per job out (batch.h).
 *
 * Single jobs carry a small ticket as their pool `user`, listed here so that
 * rb_batch_cancel can find them; runs of multirun jobs carry multirun's own
 * reference. Both start with an rb_run_owner tag, which is how a result is
 * routed back to its owner.
 */
#define _GNU_SOURCE
#include "batch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobuids.h"
#include "multirun.h"
#include "results.h"

struct single {
    enum rb_run_owner owner; /* RB_RUN_SINGLE, first: see multirun.h */
    struct single *prev, *next;
    void *job_ctx;
};

struct rb_batch {
    rb_pool *pool;
    rb_batch_record_fn on_record;
    rb_batch_run_fn on_run;
    void *ctx;
    struct rb_multirun_set multi;
    struct single *singles; /* submitted, not yet delivered */
    size_t nsingles;
};

static void single_unlink(struct rb_batch *b, struct single *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        b->singles = t->next;
    if (t->next)
        t->next->prev = t->prev;
    b->nsingles--;
    free(t);
}

static void on_multirun_record(const cJSON *record, rb_status status, void *job_ctx, void *ctx)
{
    struct rb_batch *b = ctx;
    b->on_record(record, status, job_ctx, b->ctx);
}

static void on_pool_result(const rb_result *r, void *ctx)
{
    struct rb_batch *b = ctx;
    if (b->on_run)
        b->on_run(r, b->ctx);
    const enum rb_run_owner *owner = r->user;
    if (*owner == RB_RUN_MULTI) {
        rb_multirun_on_result(&b->multi, r);
        return;
    }
    struct single *t = r->user;
    void *job_ctx = t->job_ctx;
    single_unlink(b, t);
    cJSON *rec = rb_result_to_json(r);
    if (rec)
        b->on_record(rec, r->status, job_ctx, b->ctx);
    cJSON_Delete(rec);
}

int rb_batch_new(const rb_pool_config *config, rb_batch_record_fn on_record, void *ctx,
                 struct rb_batch **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    struct rb_batch *b = calloc(1, sizeof *b);
    if (!b) {
        if (errbuf)
            snprintf(errbuf, errlen, "out of memory");
        return -ENOMEM;
    }
    b->on_record = on_record;
    b->ctx = ctx;
    rb_multirun_init(&b->multi, config ? config->workdir_root : NULL, on_multirun_record, b);
    int rc = rb_pool_new(config, on_pool_result, b, &b->pool, errbuf, errlen);
    if (rc < 0) {
        free(b);
        return rc;
    }
    b->multi.uid_base = rb_pool_job_uid_base(b->pool);
    *out = b;
    return 0;
}

void rb_batch_on_run(struct rb_batch *b, rb_batch_run_fn fn)
{
    b->on_run = fn;
}

int rb_batch_submit(struct rb_batch *b, struct rb_manifest_job *job, void *job_ctx)
{
    if (rb_multirun_wants(job)) {
        int rc = rb_multirun_start(&b->multi, job, job_ctx);
        if (rc == 0)
            rb_multirun_schedule(&b->multi, b->pool);
        return rc;
    }
    struct single *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->owner = RB_RUN_SINGLE;
    t->job_ctx = job_ctx;
    t->next = b->singles;
    if (b->singles)
        b->singles->prev = t;
    b->singles = t;
    b->nsingles++;
    job->job.user = t;
    int rc = rb_pool_submit(b->pool, &job->job);
    if (rc < 0)
        single_unlink(b, t);
    return rc;
}

void rb_batch_reject(struct rb_batch *b, const char *id, long line_no, const char *message,
                     void *job_ctx)
{
    rb_result r = {
        .id = id,
        .status = RB_STATUS_INVALID,
        .error = message,
    };
    cJSON *rec = rb_result_to_json(&r);
    if (rec && line_no > 0)
        cJSON_AddNumberToObject(rec, "line", (double)line_no);
    if (rec)
        b->on_record(rec, RB_STATUS_INVALID, job_ctx, b->ctx);
    cJSON_Delete(rec);
}

int rb_batch_cancel(struct rb_batch *b, const void *job_ctx)
{
    int n = rb_multirun_cancel(&b->multi, b->pool, job_ctx);
    for (struct single *t = b->singles, *next; t; t = next) {
        next = t->next;
        if (t->job_ctx != job_ctx)
            continue;
        rb_pool_cancel(b->pool, t);
        single_unlink(b, t);
        n++;
    }
    return n;
}

size_t rb_batch_free_slots(struct rb_batch *b)
{
    rb_multirun_schedule(&b->multi, b->pool);
    return rb_pool_free_slots(b->pool);
}

size_t rb_batch_pending(const struct rb_batch *b)
{
    return b->nsingles + rb_multirun_count(&b->multi);
}

int rb_batch_run(struct rb_batch *b, int timeout_ms)
{
    rb_multirun_schedule(&b->multi, b->pool);
    int rc = rb_pool_run(b->pool, timeout_ms);
    /* Runs that just ended may complete a job, or free a slot for its next run. */
    rb_multirun_schedule(&b->multi, b->pool);
    return rc;
}

int rb_batch_fd(const struct rb_batch *b)
{
    return rb_pool_fd(b->pool);
}

rb_pool *rb_batch_pool(struct rb_batch *b)
{
    return b->pool;
}

void *rb_batch_run_ctx(const rb_result *result)
{
    const enum rb_run_owner *owner = result->user;
    if (!owner || *owner != RB_RUN_SINGLE)
        return NULL;
    const struct single *t = result->user;
    return t->job_ctx;
}

void rb_batch_free(struct rb_batch *b)
{
    if (!b)
        return;
    rb_pool_free(b->pool); /* kills what is in flight; no result is delivered */
    rb_multirun_free(&b->multi);
    while (b->singles)
        single_unlink(b, b->singles);
    free(b);
}
