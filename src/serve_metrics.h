/*
 * What `runbox serve` counts, and the Prometheus text format (version 0.0.4)
 * it is exposed in at GET /metrics. Plain counters: the service is one
 * thread, so nothing here is atomic.
 */
#ifndef RB_SERVE_METRICS_H
#define RB_SERVE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "runbox.h"
#include "util.h"

/* Upper bounds of the request latency histogram, in seconds. */
#define RB_LATENCY_BUCKETS 14

/* The endpoints requests are counted under; RB_EP_OTHER for the rest. */
enum rb_endpoint { RB_EP_RUN_CODE = 0, RB_EP_JOBS, RB_EP_HEALTHZ, RB_EP_METRICS, RB_EP_OTHER, RB_EP_COUNT };

/* HTTP statuses the service answers with, for counting. */
#define RB_HTTP_CODES 12

struct rb_latency {
    uint64_t buckets[RB_LATENCY_BUCKETS]; /* not cumulative here; summed when written */
    uint64_t count;
    double sum;
};

struct rb_serve_metrics {
    uint64_t jobs[RB_STATUS_INTERNAL + 1];                 /* records delivered, by status */
    uint64_t jobs_cancelled;                              /* dropped: client gone, deadline, shutdown */
    uint64_t requests[RB_EP_COUNT][RB_HTTP_CODES];        /* answered, by endpoint and code */
    struct rb_latency latency[RB_EP_COUNT];               /* from the request's first byte to its answer's last */
    uint64_t bytes_in, bytes_out;
};

/* A snapshot of what is not counted but read when /metrics is asked for. */
struct rb_serve_gauges {
    size_t queue_depth;  /* jobs admitted and not started */
    size_t in_flight;    /* jobs running */
    size_t slots;        /* -j */
    size_t queue_limit;  /* --queue */
    size_t connections;  /* open HTTP connections */
    int zygote_restarts;
    double uptime;
    int draining;        /* SIGTERM received */
};

void rb_metrics_count_request(struct rb_serve_metrics *m, enum rb_endpoint ep, unsigned http_status,
                              double seconds);

/* Appends the metrics in Prometheus text format to `out`. 0 or -ENOMEM. */
int rb_metrics_write(const struct rb_serve_metrics *m, const struct rb_serve_gauges *g,
                     struct rb_buf *out);

const char *rb_endpoint_name(enum rb_endpoint ep);

#endif
