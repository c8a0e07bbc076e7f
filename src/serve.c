/*
 * `runbox serve`: the pool behind HTTP (serve.h, docs/service.md).
 *
 * Theory of operation. One thread runs one epoll set holding four kinds of
 * things: the batch's fd (the pool's own epoll set: pipes, zygote, timer),
 * libmicrohttpd's epoll fd (the listening socket and every connection it
 * is working on), the signalfd, and the sockets of suspended connections.
 * libmicrohttpd is started without threads of its own; MHD_run is called on
 * every turn of the loop, and the loop never sleeps past MHD_get_timeout.
 *
 * A request is read whole first (its body is kept up to --max-body), then
 * handled by its route's handler, from a table. Handlers that need jobs
 * submit them to the batch with the request as their context and suspend the
 * connection; the batch hands back one record per job, which resumes it:
 * /run_code then queues its one answer, /v1/jobs (whose chunked response was
 * queued at once) streams the record out. libmicrohttpd does not watch a
 * suspended connection, so its socket is in our epoll set for EPOLLRDHUP:
 * a client that goes away has its unfinished jobs killed at once
 * (rb_batch_cancel), not when its job would have ended.
 *
 * Every way out of a request (answered, client gone, deadline, shutdown)
 * ends in on_completed, which cancels whatever jobs the request still has,
 * writes the access log line and frees it: no record can reach a freed
 * request.
 */
#define _GNU_SOURCE
#include "serve_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "cli.h"
#include "idset.h"
#include "manifest.h"
#include "poolcounts.h"
#include "results.h"
#include "serve_api.h"
#include "serve_metrics.h"
#include "util.h"

/* ---- small things --------------------------------------------------------- */

double rb_serve_seconds_since(int64_t ns)
{
    return (double)(rb_now_ns() - ns) / 1e9;
}

static unsigned connections(struct serve *sv)
{
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(sv->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return di ? di->num_connections : 0;
}

static bool in_epoll(struct serve *sv, int fd, uint32_t events, uint64_t tag)
{
    struct epoll_event ev = { .events = events, .data.u64 = tag };
    return epoll_ctl(sv->epfd, EPOLL_CTL_ADD, fd, &ev) == 0;
}

/* The token comparison takes as long whatever the guess, so the time of a
 * 401 tells nothing about how much of the token was right. */
static bool token_matches(const struct serve *sv, const char *header)
{
    static const char prefix[] = "Bearer ";
    if (!header || strncmp(header, prefix, sizeof prefix - 1) != 0)
        return false;
    const char *given = header + sizeof prefix - 1;
    size_t n = strlen(given);
    unsigned char diff = n != sv->token_len;
    for (size_t i = 0; i < sv->token_len; i++)
        diff |= (unsigned char)(sv->token[i] ^ (i < n ? given[i] : 0));
    return diff == 0;
}

static void peer_name(struct MHD_Connection *c, char *buf, size_t len)
{
    snprintf(buf, len, "-");
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf, (socklen_t)len);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf, (socklen_t)len);
}

/* ---- answering ------------------------------------------------------------ */

enum MHD_Result rb_serve_queue(struct request *rq, unsigned status, const char *type, char *body, size_t len,
                             const char *extra_header, const char *extra_value)
{
    struct MHD_Response *r = len ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE)
                                 : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!len)
        free(body);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (extra_header)
        MHD_add_response_header(r, extra_header, extra_value);
    if (rq->sv->draining)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(rq->conn, status, r);
    MHD_destroy_response(r);
    rq->status = status;
    rq->bytes_out += len;
    return ret;
}

enum MHD_Result rb_serve_queue_json(struct request *rq, unsigned status, char *json)
{
    if (!json)
        return MHD_NO;
    size_t n = strlen(json);
    char *body = realloc(json, n + 2);
    if (!body) {
        free(json);
        return MHD_NO;
    }
    body[n] = '\n';
    body[n + 1] = '\0';
    return rb_serve_queue(rq, status, "application/json", body, n + 1, NULL, NULL);
}

char *rb_serve_error_json(const struct request *rq, const char *code, const char *message)
{
    bool sf = rq->route && rq->route->endpoint == RB_EP_RUN_CODE;
    return rb_serve_error_body(code, message, sf);
}

enum MHD_Result rb_serve_refuse(struct request *rq, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
enum MHD_Result rb_serve_refuse(struct request *rq, unsigned status, const char *code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char *json = rb_serve_error_json(rq, code, msg);
    if (!json)
        return MHD_NO;
    size_t n = strlen(json);
    char *body = realloc(json, n + 2);
    if (!body) {
        free(json);
        return MHD_NO;
    }
    memcpy(body + n, "\n", 2);
    const char *h = NULL, *v = NULL;
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE && !rq->sv->draining) {
        h = MHD_HTTP_HEADER_RETRY_AFTER;
        v = "1";
    } else if (status == MHD_HTTP_UNAUTHORIZED) {
        h = MHD_HTTP_HEADER_WWW_AUTHENTICATE;
        v = "Bearer realm=\"runbox\"";
    } else if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
        h = MHD_HTTP_HEADER_ALLOW;
        v = rq->route->method;
    }
    return rb_serve_queue(rq, status, "application/json", body, n + 1, h, v);
}

/* ---- waiting for jobs ----------------------------------------------------- */

static void watch_socket(struct request *rq)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return;
    rq->sock = ci->connect_fd;
    /* EPOLLRDHUP: the client closed its end. HUP and ERR come anyway. */
    rq->watching = in_epoll(rq->sv, rq->sock, EPOLLRDHUP, (uint64_t)(uintptr_t)rq);
}

static void unwatch_socket(struct request *rq)
{
    if (rq->watching)
        epoll_ctl(rq->sv->epfd, EPOLL_CTL_DEL, rq->sock, NULL);
    rq->watching = false;
}

void rb_serve_suspend(struct request *rq)
{
    if (rq->suspended)
        return;
    MHD_suspend_connection(rq->conn);
    rq->suspended = true;
    watch_socket(rq);
}

void rb_serve_resume(struct request *rq)
{
    if (!rq->suspended)
        return;
    unwatch_socket(rq);
    rq->suspended = false;
    MHD_resume_connection(rq->conn);
}

/* Drops the request's unfinished jobs: killed if running, never started if
 * queued; none gets a record. */
static void cancel_jobs(struct serve *sv, struct request *rq)
{
    if (!rq->jobs_open)
        return;
    rb_batch_cancel(sv->batch, rq);
    sv->metrics.jobs_cancelled += rq->jobs_open;
    sv->admitted -= rq->jobs_open;
    rq->jobs_open = 0;
}

static void on_client_gone(struct serve *sv, struct request *rq)
{
    rq->client_gone = true;
    cancel_jobs(sv, rq);
    rb_serve_resume(rq); /* libmicrohttpd then finds the socket closed and ends the request */
}

/* A /v1/jobs request cut off (deadline, shutdown): each job still open
 * gets an `internal` record saying why, so every job has its one record. */
static void cut_stream(struct serve *sv, struct request *rq, const char *why)
{
    struct rb_buf key = { 0 };
    for (size_t i = 0; i < rq->nids; i++) {
        rb_buf_reset(&key);
        if (rb_json_quote_bytes(&key, rq->ids[i], strlen(rq->ids[i])) == 0 &&
            rb_idset_contains(&rq->done, key.data, key.len))
            continue;
        rb_result r = {
            .id = rq->ids[i],
            .status = RB_STATUS_INTERNAL,
            .return_code = -1,
            .error = why,
            .had_unexpected_error = true,
        };
        cJSON *rec = rb_result_to_json(&r);
        char *line = rec ? cJSON_PrintUnformatted(rec) : NULL;
        if (line) {
            rb_buf_append_str(&rq->out, line);
            rb_buf_append(&rq->out, "\n", 1);
        }
        free(line);
        cJSON_Delete(rec);
    }
    rb_buf_free(&key);
    cancel_jobs(sv, rq);
    rb_serve_resume(rq);
}

/* Ends a request whose jobs cannot finish: `status` for /run_code. */
void rb_serve_cut_request(struct serve *sv, struct request *rq, unsigned status, const char *code, const char *why)
{
    if (rq->waiting == WAIT_STREAM) {
        cut_stream(sv, rq, why);
        return;
    }
    cancel_jobs(sv, rq);
    free(rq->answer);
    rq->answer = rb_serve_error_json(rq, code, why);
    rq->answer_status = status;
    rb_serve_resume(rq);
}

/* ---- records from the batch ----------------------------------------------- */

/* Every run of a single job, before its record: /run_code builds its answer
 * from the run itself, whose fetched files are bytes, not record text. */
static void on_run(const rb_result *r, void *ctx)
{
    struct serve *sv = ctx;
    struct request *rq = rb_batch_run_ctx(r);
    if (!rq || rq->waiting != WAIT_ANSWER)
        return;
    cJSON *resp = rb_sf_response(r, sv->cfg->pod_name);
    free(rq->answer);
    rq->answer = resp ? cJSON_PrintUnformatted(resp) : NULL;
    rq->answer_status = MHD_HTTP_OK;
    cJSON_Delete(resp);
}

static void on_record(const cJSON *record, rb_status status, void *job_ctx, void *ctx)
{
    struct serve *sv = ctx;
    struct request *rq = job_ctx;
    if (status <= RB_STATUS_INTERNAL)
        sv->metrics.jobs[status]++;
    if (!rq)
        return;
    if (rq->jobs_open) {
        rq->jobs_open--;
        sv->admitted--;
    }
    if (rq->waiting == WAIT_STREAM) {
        /* Ids are kept as the record has them, JSON text (a raw item). */
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(record, "id");
        if (cJSON_IsRaw(id) && strcmp(id->valuestring, "null") != 0)
            rb_idset_add(&rq->done, id->valuestring, strlen(id->valuestring), 0, NULL);
        char *line = cJSON_PrintUnformatted(record);
        if (line) {
            rb_buf_append_str(&rq->out, line);
            rb_buf_append(&rq->out, "\n", 1);
        }
        free(line);
        rb_serve_resume(rq);
    } else if (rq->waiting == WAIT_ANSWER && rq->jobs_open == 0) {
        if (!rq->answer) {
            rq->answer = rb_serve_error_json(rq, "internal", "runbox could not build the answer (out of memory)");
            rq->answer_status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        }
        rb_serve_resume(rq);
    }
}

/* ---- admission ------------------------------------------------------------ */

/* 503 when `n` more jobs would not fit; the client retries after a second. */
bool rb_serve_admit(struct serve *sv, size_t n)
{
    return sv->admitted + n <= sv->capacity;
}

void rb_serve_start_waiting(struct serve *sv, struct request *rq, enum waiting how)
{
    rq->waiting = how;
    rq->deadline_ns = rq->start_ns + (int64_t)(sv->cfg->request_timeout * 1e9);
    if (rq->deadline_ns < sv->next_deadline_ns)
        sv->next_deadline_ns = rq->deadline_ns;
}

static enum MHD_Result handle_healthz(struct serve *sv, struct request *rq)
{
    struct rb_pool_counts pc;
    rb_pool_counts(rb_batch_pool(sv->batch), &pc);
    char *body = NULL;
    const char *state = pc.broken ? "broken" : sv->draining ? "draining" : "ok";
    int n = asprintf(&body, "{\"status\":\"%s\",\"slots\":%zu,\"in_flight\":%zu,\"admitted\":%zu,"
                            "\"queue_limit\":%zu,\"zygote_restarts\":%d}\n",
                     state, pc.slots, pc.running, sv->admitted, sv->cfg->queue, pc.zygote_restarts);
    if (n < 0)
        return MHD_NO;
    /* 503 while draining, so a load balancer stops sending work here, and
     * when the pool gave up, so a liveness probe restarts the service. */
    unsigned status = sv->draining || pc.broken ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK;
    return rb_serve_queue(rq, status, "application/json", body, (size_t)n, NULL, NULL);
}

static enum MHD_Result handle_ping(struct serve *sv, struct request *rq)
{
    (void)sv;
    return rb_serve_queue_json(rq, MHD_HTTP_OK, strdup("\"pong\""));
}

static enum MHD_Result handle_metrics(struct serve *sv, struct request *rq)
{
    struct rb_pool_counts pc;
    rb_pool_counts(rb_batch_pool(sv->batch), &pc);
    struct rb_serve_gauges g = {
        .queue_depth = sv->admitted > pc.running ? sv->admitted - pc.running : 0,
        .in_flight = pc.running,
        .slots = pc.slots,
        .queue_limit = sv->cfg->queue,
        .connections = connections(sv),
        .zygote_restarts = pc.zygote_restarts,
        .uptime = rb_serve_seconds_since(sv->started_ns),
        .draining = sv->draining,
    };
    struct rb_buf out = { 0 };
    if (rb_metrics_write(&sv->metrics, &g, &out) < 0) {
        rb_buf_free(&out);
        return MHD_NO;
    }
    return rb_serve_queue(rq, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len, NULL, NULL);
}

static const struct route ROUTES[] = {
    { "/run_code", "POST", RB_EP_RUN_CODE, true, true, rb_serve_handle_run_code },
    { "/v1/jobs", "POST", RB_EP_JOBS, true, true, rb_serve_handle_jobs },
    { "/healthz", "GET", RB_EP_HEALTHZ, false, false, handle_healthz },
    { "/v1/ping", "GET", RB_EP_HEALTHZ, false, false, handle_ping },
    { "/metrics", "GET", RB_EP_METRICS, false, true, handle_metrics },
};

static const struct route *find_route(const char *path)
{
    for (size_t i = 0; i < sizeof ROUTES / sizeof ROUTES[0]; i++)
        if (strcmp(ROUTES[i].path, path) == 0)
            return &ROUTES[i];
    return NULL;
}

/* ---- libmicrohttpd's callbacks -------------------------------------------- */

/* For the access log: a client chooses its URL (%0A decodes to a newline),
 * so what is not printable ASCII, and quotes, become '?'. */
static void copy_printable(char *dst, size_t len, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < len; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = c < 0x20 || c >= 0x7f || c == '"' ? '?' : (char)c;
    }
    dst[i] = '\0';
}

static struct request *request_new(struct serve *sv, struct MHD_Connection *c, const char *url,
                                   const char *method)
{
    struct request *rq = calloc(1, sizeof *rq);
    if (!rq)
        return NULL;
    rq->sv = sv;
    rq->conn = c;
    rq->sock = -1;
    rq->start_ns = rb_now_ns();
    copy_printable(rq->method, sizeof rq->method, method);
    copy_printable(rq->path, sizeof rq->path, url);
    peer_name(c, rq->peer, sizeof rq->peer);
    rq->route = find_route(url);
    rq->next = sv->live;
    if (sv->live)
        sv->live->prev = rq;
    sv->live = rq;
    sv->nlive++;
    return rq;
}

static void set_refusal(struct request *rq, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void set_refusal(struct request *rq, unsigned status, const char *code, const char *fmt, ...)
{
    if (rq->refuse)
        return;
    rq->refuse = status;
    snprintf(rq->refuse_code, sizeof rq->refuse_code, "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rq->refuse_msg, sizeof rq->refuse_msg, fmt, ap);
    va_end(ap);
}

/* What can be decided from the headers alone. The answer waits until the
 * body is in, though: a server that answers and closes while a client is
 * still sending makes the client see a reset instead of the answer. */
static void check_headers(struct serve *sv, struct request *rq)
{
    const struct route *rt = rq->route;
    bool head = strcmp(rq->method, "HEAD") == 0;
    if (sv->draining && (!rt || rt->takes_body)) /* /healthz and /metrics still say how it goes */
        set_refusal(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting_down",
                    "the service is shutting down; send the request to another replica");
    else if (!rt)
        set_refusal(rq, MHD_HTTP_NOT_FOUND, "not_found",
                    "no endpoint '%.80s': POST /run_code, POST /v1/jobs, GET /healthz, GET /metrics", rq->path);
    else if (strcmp(rq->method, rt->method) != 0 && !(head && strcmp(rt->method, "GET") == 0))
        set_refusal(rq, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "%s takes %s, not %s", rt->path,
                    rt->method, rq->method);
    else if (rt->needs_token && sv->token &&
             !token_matches(sv, MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION)))
        set_refusal(rq, MHD_HTTP_UNAUTHORIZED, "unauthorized",
                    "this service needs 'Authorization: Bearer <token>' with the token of its --token-file");
    const char *cl = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (rt && rt->takes_body && cl && strtoull(cl, NULL, 10) > sv->cfg->max_body)
        set_refusal(rq, MHD_HTTP_CONTENT_TOO_LARGE, "body_too_large",
                    "the body is %s bytes; the limit is %zu (--max-body)", cl, sv->cfg->max_body);
}

/* A piece of the body: kept up to --max-body, past it read and dropped (up
 * to a point: past DRAIN_FACTOR times the limit the connection goes). */
static enum MHD_Result take_upload(struct serve *sv, struct request *rq, const char *data, size_t n)
{
    rq->body_seen += n;
    sv->metrics.bytes_in += n;
    if (rq->refuse || !rq->route || !rq->route->takes_body)
        return rq->body_seen > DRAIN_FACTOR * (sv->cfg->max_body + 1) ? MHD_NO : MHD_YES;
    if (rq->body.len + n > sv->cfg->max_body) {
        set_refusal(rq, MHD_HTTP_CONTENT_TOO_LARGE, "body_too_large",
                    "the body is over the limit of %zu bytes (--max-body)", sv->cfg->max_body);
        rb_buf_free(&rq->body);
        return MHD_YES;
    }
    return rb_buf_append(&rq->body, data, n) < 0 ? MHD_NO : MHD_YES;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                 const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    struct serve *sv = cls;
    struct request *rq = *con_cls;
    (void)version;
    if (!rq) {
        rq = request_new(sv, c, url, method);
        if (!rq)
            return MHD_NO;
        *con_cls = rq;
        check_headers(sv, rq);
        /* A client that asked to be told before it sends (Expect:
         * 100-continue, as curl does for large bodies) is told now. */
        const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
        if (rq->refuse && expect && strcasecmp(expect, "100-continue") == 0)
            return rb_serve_refuse(rq, rq->refuse, rq->refuse_code, "%s", rq->refuse_msg);
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        return take_upload(sv, rq, upload, n);
    }
    if (rq->waiting == WAIT_ANSWER) { /* resumed: its job ended, or its client left */
        if (rq->client_gone)
            return MHD_NO;
        if (rq->jobs_open) {
            rb_serve_suspend(rq);
            return MHD_YES;
        }
        char *answer = rq->answer;
        rq->answer = NULL;
        rq->waiting = WAIT_NONE;
        return rb_serve_queue_json(rq, rq->answer_status, answer);
    }
    if (rq->waiting != WAIT_NONE || rq->status)
        return MHD_YES;
    if (rq->refuse)
        return rb_serve_refuse(rq, rq->refuse, rq->refuse_code, "%s", rq->refuse_msg);
    return rq->route->handle(sv, rq);
}

static void access_log(struct serve *sv, const struct request *rq, double secs, enum MHD_RequestTerminationCode toe)
{
    FILE *f = sv->cfg->access_log;
    if (!f)
        return;
    char when[32];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    static const char *const ends[] = {
        [MHD_REQUEST_TERMINATED_COMPLETED_OK] = "",
        [MHD_REQUEST_TERMINATED_WITH_ERROR] = " error",
        [MHD_REQUEST_TERMINATED_TIMEOUT_REACHED] = " idle_timeout",
        [MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN] = " shutdown",
        [MHD_REQUEST_TERMINATED_READ_ERROR] = " read_error",
        [MHD_REQUEST_TERMINATED_CLIENT_ABORT] = " client_gone",
    };
    const char *end = (unsigned)toe < sizeof ends / sizeof ends[0] ? ends[toe] : " ?";
    if (rq->client_gone)
        end = " client_gone";
    fprintf(f, "%s.%03ldZ %s \"%s %s\" %u %llu %.3f jobs=%zu%s\n", when, ts.tv_nsec / 1000000, rq->peer,
            rq->method, rq->path, rq->status, (unsigned long long)rq->bytes_out, secs, rq->jobs, end);
    fflush(f);
}

static void request_free(struct serve *sv, struct request *rq)
{
    unwatch_socket(rq);
    cancel_jobs(sv, rq);
    if (rq->prev)
        rq->prev->next = rq->next;
    else
        sv->live = rq->next;
    if (rq->next)
        rq->next->prev = rq->prev;
    sv->nlive--;
    rb_buf_free(&rq->body);
    rb_buf_free(&rq->out);
    free(rq->answer);
    for (size_t i = 0; i < rq->nids; i++)
        free(rq->ids[i]);
    free(rq->ids);
    rb_idset_free(&rq->done);
    free(rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    struct serve *sv = cls;
    struct request *rq = *con_cls;
    (void)c;
    if (!rq)
        return;
    *con_cls = NULL;
    double secs = rb_serve_seconds_since(rq->start_ns);
    rb_metrics_count_request(&sv->metrics, rq->route ? rq->route->endpoint : RB_EP_OTHER, rq->status, secs);
    sv->metrics.bytes_out += rq->bytes_out;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && rq->jobs_open)
        rq->client_gone = true;
    access_log(sv, rq, secs, toe);
    request_free(sv, rq);
}

/* libmicrohttpd's own messages (a socket error, a client's malformed
 * request), prefixed so they read as runbox's. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    fputs("runbox serve: http: ", stderr);
    vfprintf(stderr, fmt, ap);
}

/* ---- the loop ------------------------------------------------------------- */

/* Ends the requests whose deadline passed, or all waiting ones once the
 * grace period is over. The list is walked only when the earliest deadline
 * has come (a walk per turn of the loop would cost more than the HTTP). */
static void check_deadlines(struct serve *sv)
{
    int64_t now = rb_now_ns();
    if (now < sv->next_deadline_ns && !sv->cut_off)
        return;
    sv->next_deadline_ns = INT64_MAX;
    for (struct request *rq = sv->live; rq; rq = rq->next) {
        if (!rq->jobs_open || rq->waiting == WAIT_NONE)
            continue;
        if (sv->cut_off) {
            char why[160];
            snprintf(why, sizeof why, "the service shut down before the job finished (grace period %g s)",
                     sv->cfg->grace);
            rb_serve_cut_request(sv, rq, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting_down", why);
        } else if (now >= rq->deadline_ns) {
            char why[160];
            snprintf(why, sizeof why, "the request's deadline of %g s passed before the job finished "
                     "(--request-timeout)", sv->cfg->request_timeout);
            rb_serve_cut_request(sv, rq, MHD_HTTP_GATEWAY_TIMEOUT, "deadline", why);
        } else if (rq->deadline_ns < sv->next_deadline_ns) {
            sv->next_deadline_ns = rq->deadline_ns;
        }
    }
}

static int loop_timeout(struct serve *sv)
{
    int64_t now = rb_now_ns(), next = INT64_MAX;
    MHD_UNSIGNED_LONG_LONG mt;
    if (MHD_get_timeout(sv->mhd, &mt) == MHD_YES)
        next = now + (int64_t)(mt > 3600000 ? 3600000 : mt) * 1000000;
    if (sv->next_deadline_ns < next)
        next = sv->next_deadline_ns;
    if (sv->draining && sv->drain_deadline_ns < next)
        next = sv->drain_deadline_ns;
    if (next == INT64_MAX)
        return -1;
    if (next <= now)
        return 0;
    return (int)((next - now + 999999) / 1000000);
}

static void start_draining(struct serve *sv)
{
    if (sv->draining) { /* a second signal: no more waiting */
        sv->drain_deadline_ns = rb_now_ns();
        return;
    }
    sv->draining = true;
    sv->drain_deadline_ns = rb_now_ns() + (int64_t)(sv->cfg->grace * 1e9);
    /* Stop accepting: the listening socket is closed, connections stay. */
    MHD_socket ls = MHD_quiesce_daemon(sv->mhd);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    fprintf(stderr, "runbox serve: shutting down: %zu jobs admitted get up to %g s to finish\n", sv->admitted,
            sv->cfg->grace);
}

static void on_signal(struct serve *sv)
{
    struct signalfd_siginfo si;
    while (read(sv->sigfd, &si, sizeof si) == (ssize_t)sizeof si)
        start_draining(sv);
}

static bool has_waiting(const struct serve *sv)
{
    for (const struct request *rq = sv->live; rq; rq = rq->next)
        if (rq->waiting != WAIT_NONE || rq->status == 0)
            return true;
    return false;
}

/* At the connection limit libmicrohttpd takes the listening socket out of
 * its epoll set, and puts it back only at the start of a later MHD_run: when
 * connections closed in this one, it runs again at once, or a client waiting
 * to connect would wait for the next unrelated event. */
static void run_http(struct serve *sv)
{
    MHD_run(sv->mhd);
    unsigned n = connections(sv);
    if (sv->at_limit && n < sv->cfg->max_connections) {
        MHD_run(sv->mhd);
        n = connections(sv);
    }
    sv->at_limit = n >= sv->cfg->max_connections;
}

static int run_loop(struct serve *sv)
{
    int64_t stop_ns = 0;
    for (;;) {
        struct epoll_event evs[64];
        int n = epoll_wait(sv->epfd, evs, 64, loop_timeout(sv));
        if (n < 0 && errno != EINTR)
            return -errno;
        for (int i = 0; i < n; i++) {
            uint64_t tag = evs[i].data.u64;
            if (tag == EV_SIGNAL)
                on_signal(sv);
            else if (tag > EV_SIGNAL)
                on_client_gone(sv, (struct request *)(uintptr_t)tag);
        }
        int rc = rb_batch_run(sv->batch, 0);
        if (rc < 0)
            return rc;
        if (sv->draining && !sv->cut_off && rb_now_ns() >= sv->drain_deadline_ns)
            sv->cut_off = true;
        check_deadlines(sv);
        run_http(sv);
        if (sv->draining) {
            /* Done when every request has had its answer, or when the answers
             * cut off at the end of the grace period had time to go out. */
            if (!has_waiting(sv) && sv->admitted == 0)
                return 0;
            if (sv->cut_off && !stop_ns)
                stop_ns = rb_now_ns() + FLUSH_NS;
            if (stop_ns && rb_now_ns() >= stop_ns)
                return 0;
        }
    }
}

static void stop(struct serve *sv)
{
    /* libmicrohttpd must not be stopped with connections suspended. */
    for (struct request *rq = sv->live; rq; rq = rq->next) {
        rq->client_gone = true;
        cancel_jobs(sv, rq);
        rb_serve_resume(rq);
    }
    if (sv->mhd)
        MHD_stop_daemon(sv->mhd); /* ends the requests left (on_completed) */
    rb_batch_free(sv->batch);
    if (sv->epfd >= 0)
        close(sv->epfd);
}

int rb_serve_run(const struct rb_serve_config *cfg, int sigfd, char *errbuf, size_t errlen)
{
    struct serve sv = {
        .cfg = cfg,
        .epfd = -1,
        .sigfd = sigfd,
        .token = cfg->token,
        .token_len = cfg->token ? strlen(cfg->token) : 0,
        .started_ns = rb_now_ns(),
        .next_deadline_ns = INT64_MAX,
    };
    int rc = rb_batch_new(&cfg->pool, on_record, &sv, &sv.batch, errbuf, errlen);
    if (rc < 0)
        return rc;
    rb_batch_on_run(sv.batch, on_run);
    rb_cli_warn_if_exposed(rb_batch_pool(sv.batch));
    struct rb_pool_counts pc;
    rb_pool_counts(rb_batch_pool(sv.batch), &pc);
    sv.capacity = pc.slots + cfg->queue;

    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (cfg->addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    sv.mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_access, &sv,
                              MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
                              MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&cfg->addr,
                              MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
                              MHD_OPTION_CONNECTION_TIMEOUT, cfg->idle_timeout,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, &sv,
                              MHD_OPTION_END);
    if (!sv.mhd) {
        rc = errno ? -errno : -EADDRINUSE;
        snprintf(errbuf, errlen, "cannot listen on the address given: %s", strerror(-rc));
        rb_batch_free(sv.batch);
        return rc;
    }
    const union MHD_DaemonInfo *ep = MHD_get_daemon_info(sv.mhd, MHD_DAEMON_INFO_EPOLL_FD);
    sv.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!ep || sv.epfd < 0 || !in_epoll(&sv, rb_batch_fd(sv.batch), EPOLLIN, EV_BATCH) ||
        !in_epoll(&sv, ep->epoll_fd, EPOLLIN, EV_HTTP) || !in_epoll(&sv, sigfd, EPOLLIN, EV_SIGNAL)) {
        rc = -errno;
        snprintf(errbuf, errlen, "cannot set up the event loop: %s", strerror(errno));
        stop(&sv);
        return rc;
    }
    const union MHD_DaemonInfo *port = MHD_get_daemon_info(sv.mhd, MHD_DAEMON_INFO_BIND_PORT);
    char host[INET6_ADDRSTRLEN] = "?";
    if (cfg->addr.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)&cfg->addr)->sin6_addr, host, sizeof host);
    else
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)&cfg->addr)->sin_addr, host, sizeof host);
    fprintf(stderr, "runbox serve: listening on http://%s%s%s:%u (%zu slots, queue %zu, pid %d)\n",
            cfg->addr.ss_family == AF_INET6 ? "[" : "", host, cfg->addr.ss_family == AF_INET6 ? "]" : "",
            port ? port->port : 0, pc.slots, cfg->queue, (int)getpid());
    fflush(stderr);

    rc = run_loop(&sv);
    if (rc < 0)
        snprintf(errbuf, errlen, "event loop: %s", strerror(-rc));
    stop(&sv);
    return rc;
}
