/* The service's counters in Prometheus text format (serve_metrics.h). */
#define _GNU_SOURCE
#include "serve_metrics.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const double LATENCY_BOUNDS[RB_LATENCY_BUCKETS] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
};

/* The codes the service answers with, as table indexes. */
static const unsigned HTTP_CODES[RB_HTTP_CODES] = {
    200, 400, 401, 404, 405, 411, 413, 415, 500, 503, 504, 0 /* any other */
};

static const char *const ENDPOINTS[RB_EP_COUNT] = {
    [RB_EP_RUN_CODE] = "/run_code",
    [RB_EP_JOBS] = "/v1/jobs",
    [RB_EP_HEALTHZ] = "/healthz",
    [RB_EP_METRICS] = "/metrics",
    [RB_EP_OTHER] = "other",
};

const char *rb_endpoint_name(enum rb_endpoint ep)
{
    return ep < RB_EP_COUNT ? ENDPOINTS[ep] : "other";
}

static size_t code_index(unsigned code)
{
    for (size_t i = 0; i + 1 < RB_HTTP_CODES; i++)
        if (HTTP_CODES[i] == code)
            return i;
    return RB_HTTP_CODES - 1;
}

void rb_metrics_count_request(struct rb_serve_metrics *m, enum rb_endpoint ep, unsigned http_status,
                              double seconds)
{
    if (ep >= RB_EP_COUNT)
        ep = RB_EP_OTHER;
    m->requests[ep][code_index(http_status)]++;
    struct rb_latency *l = &m->latency[ep];
    for (size_t i = 0; i < RB_LATENCY_BUCKETS; i++) {
        if (seconds <= LATENCY_BOUNDS[i]) {
            l->buckets[i]++;
            break;
        }
    }
    l->count++;
    l->sum += seconds;
}

static int write_latency(struct rb_buf *out, const struct rb_serve_metrics *m)
{
    int rc = rb_buf_append_str(out,
        "# HELP runbox_request_duration_seconds Time from a request's arrival to the end of its answer.\n"
        "# TYPE runbox_request_duration_seconds histogram\n");
    for (int ep = 0; rc == 0 && ep < RB_EP_COUNT; ep++) {
        const struct rb_latency *l = &m->latency[ep];
        uint64_t cumulative = 0;
        for (size_t i = 0; rc == 0 && i < RB_LATENCY_BUCKETS; i++) {
            cumulative += l->buckets[i];
            rc = rb_buf_printf(out, "runbox_request_duration_seconds_bucket{endpoint=\"%s\",le=\"%g\"} %llu\n",
                               ENDPOINTS[ep], LATENCY_BOUNDS[i], (unsigned long long)cumulative);
        }
        if (rc == 0)
            rc = rb_buf_printf(out,
                               "runbox_request_duration_seconds_bucket{endpoint=\"%s\",le=\"+Inf\"} %llu\n"
                               "runbox_request_duration_seconds_sum{endpoint=\"%s\"} %.6f\n"
                               "runbox_request_duration_seconds_count{endpoint=\"%s\"} %llu\n",
                               ENDPOINTS[ep], (unsigned long long)l->count, ENDPOINTS[ep], l->sum,
                               ENDPOINTS[ep], (unsigned long long)l->count);
    }
    return rc;
}

int rb_metrics_write(const struct rb_serve_metrics *m, const struct rb_serve_gauges *g, struct rb_buf *out)
{
    int rc = rb_buf_append_str(out,
        "# HELP runbox_jobs_total Jobs that ended, by the status of their record.\n"
        "# TYPE runbox_jobs_total counter\n");
    for (int s = 0; rc == 0 && s <= RB_STATUS_INTERNAL; s++)
        rc = rb_buf_printf(out, "runbox_jobs_total{status=\"%s\"} %llu\n", rb_status_name((rb_status)s),
                           (unsigned long long)m->jobs[s]);
    if (rc == 0)
        rc = rb_buf_printf(out,
            "# HELP runbox_jobs_cancelled_total Jobs dropped before their end: client gone, deadline or shutdown.\n"
            "# TYPE runbox_jobs_cancelled_total counter\n"
            "runbox_jobs_cancelled_total %llu\n"
            "# HELP runbox_queue_depth Jobs admitted and waiting for a slot.\n"
            "# TYPE runbox_queue_depth gauge\n"
            "runbox_queue_depth %zu\n"
            "# HELP runbox_queue_limit Jobs that may wait (--queue); past it requests get 503.\n"
            "# TYPE runbox_queue_limit gauge\n"
            "runbox_queue_limit %zu\n"
            "# HELP runbox_jobs_in_flight Jobs running now.\n"
            "# TYPE runbox_jobs_in_flight gauge\n"
            "runbox_jobs_in_flight %zu\n"
            "# HELP runbox_slots Jobs that may run at once (-j).\n"
            "# TYPE runbox_slots gauge\n"
            "runbox_slots %zu\n"
            "# HELP runbox_connections Open HTTP connections.\n"
            "# TYPE runbox_connections gauge\n"
            "runbox_connections %zu\n"
            "# HELP runbox_zygote_restarts_total Times the zygote died and was started again.\n"
            "# TYPE runbox_zygote_restarts_total counter\n"
            "runbox_zygote_restarts_total %d\n"
            "# HELP runbox_draining 1 after SIGTERM: no new requests are taken.\n"
            "# TYPE runbox_draining gauge\n"
            "runbox_draining %d\n"
            "# HELP runbox_uptime_seconds Seconds since the service started.\n"
            "# TYPE runbox_uptime_seconds gauge\n"
            "runbox_uptime_seconds %.3f\n"
            "# HELP runbox_http_request_bytes_total Request body bytes received.\n"
            "# TYPE runbox_http_request_bytes_total counter\n"
            "runbox_http_request_bytes_total %llu\n"
            "# HELP runbox_http_response_bytes_total Response body bytes sent.\n"
            "# TYPE runbox_http_response_bytes_total counter\n"
            "runbox_http_response_bytes_total %llu\n"
            "# HELP runbox_http_requests_total Requests answered, by endpoint and HTTP status (code 0: other).\n"
            "# TYPE runbox_http_requests_total counter\n",
            (unsigned long long)m->jobs_cancelled, g->queue_depth, g->queue_limit, g->in_flight, g->slots,
            g->connections, g->zygote_restarts, g->draining, g->uptime, (unsigned long long)m->bytes_in,
            (unsigned long long)m->bytes_out);
    for (int ep = 0; rc == 0 && ep < RB_EP_COUNT; ep++)
        for (size_t c = 0; rc == 0 && c < RB_HTTP_CODES; c++)
            if (m->requests[ep][c])
                rc = rb_buf_printf(out, "runbox_http_requests_total{endpoint=\"%s\",code=\"%u\"} %llu\n",
                                   ENDPOINTS[ep], HTTP_CODES[c], (unsigned long long)m->requests[ep][c]);
    if (rc == 0)
        rc = write_latency(out, m);
    return rc;
}
