/*
 * `runbox serve`'s job endpoints (serve_int.h): SandboxFusion's /run_code,
 * one job answered at once when it ends, and /v1/jobs, a manifest whose
 * records stream back as NDJSON as each job ends.
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

/* ---- handlers ------------------------------------------------------------- */

enum MHD_Result rb_serve_handle_run_code(struct serve *sv, struct request *rq)
{
    struct rb_sf_request req;
    char why[512];
    const char *field;
    int rc = rb_sf_request_parse(rq->body.data ? rq->body.data : "", rq->body.len, &req, why, sizeof why, &field);
    if (rc == -ENOMEM) {
        rb_sf_request_free(&req);
        return rb_serve_refuse(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
    }
    if (rc < 0) {
        rb_sf_request_free(&req);
        return rb_serve_refuse(rq, MHD_HTTP_BAD_REQUEST, strcmp(field, "language") == 0 ? "unsupported_language"
                                                : *field ? "invalid_field" : "invalid_json", "%s", why);
    }
    if (!rb_serve_admit(sv, 1)) {
        rb_sf_request_free(&req);
        return rb_serve_refuse(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "queue_full",
                      "the queue is full (%zu jobs admitted, limit %zu): retry after a second", sv->admitted,
                      sv->capacity);
    }
    char id[32];
    snprintf(id, sizeof id, "run_code-%llu", (unsigned long long)++sv->next_job);
    struct rb_manifest_job m;
    memset(&m, 0, sizeof m);
    rb_sf_request_to_job(&req, id, &m.job);
    rb_serve_start_waiting(sv, rq, WAIT_ANSWER);
    rq->jobs = rq->jobs_open = 1;
    sv->admitted++;
    rc = rb_batch_submit(sv->batch, &m, rq); /* the pool copies the job */
    rb_sf_request_free(&req);
    if (rc < 0) {
        rq->jobs_open = 0;
        sv->admitted--;
        rq->waiting = WAIT_NONE;
        return rb_serve_refuse(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "could not start the job: %s",
                      strerror(-rc));
    }
    if (rq->jobs_open == 0) { /* the pool answered at once (a broken pool does) */
        char *answer = rq->answer;
        rq->answer = NULL;
        return rb_serve_queue_json(rq, rq->answer_status, answer);
    }
    rb_serve_suspend(rq);
    return MHD_YES;
}

/* Lines of the body, blank ones included, one at a time. */
static bool next_line(const char *body, size_t len, size_t *pos, const char **line, size_t *n)
{
    if (*pos >= len)
        return false;
    const char *start = body + *pos;
    const char *nl = memchr(start, '\n', len - *pos);
    *n = nl ? (size_t)(nl - start) : len - *pos;
    *line = start;
    *pos += *n + (nl ? 1 : 0);
    if (*n && start[*n - 1] == '\r')
        (*n)--;
    return true;
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return false;
    return true;
}

/* A `file` or `python_path` names a file on this machine: only under
 * --files-root, so a client cannot have the service read what it likes. */
static bool under_root(const char *root, const char *path)
{
    char *real = realpath(path, NULL);
    if (!real)
        return false;
    size_t n = strlen(root);
    bool ok = strncmp(real, root, n) == 0 && (real[n] == '/' || real[n] == '\0');
    free(real);
    return ok;
}

static const char *paths_refused(const struct serve *sv, const struct rb_manifest_job *job, char *why, size_t len)
{
    const char *root = sv->cfg->files_root;
    bool has_file = job->job.kind == RB_PROGRAM_FILE;
    if (!has_file && job->job.npython_path == 0)
        return NULL;
    const char *field = has_file ? "file" : "python_path";
    if (!root) {
        snprintf(why, len, "field '%s' names a path on the server, which this service does not run "
                 "(start runbox serve with --files-root DIR to allow paths under DIR); send the program "
                 "as 'source'", field);
        return why;
    }
    if (has_file && !under_root(root, job->job.program)) {
        snprintf(why, len, "field 'file': '%.200s' is not a file under --files-root %s", job->job.program, root);
        return why;
    }
    for (size_t i = 0; i < job->job.npython_path; i++) {
        if (!under_root(root, job->job.python_path[i])) {
            snprintf(why, len, "field 'python_path': '%.200s' is not under --files-root %s",
                     job->job.python_path[i], root);
            return why;
        }
    }
    return NULL;
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct request *rq = cls;
    (void)pos;
    if (rq->client_gone)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (rq->out_off < rq->out.len) {
        size_t n = rq->out.len - rq->out_off;
        if (n > max)
            n = max;
        memcpy(buf, rq->out.data + rq->out_off, n);
        rq->out_off += n;
        if (rq->out_off == rq->out.len) {
            rq->out.len = 0;
            rq->out_off = 0;
        }
        rq->bytes_out += n;
        return (ssize_t)n;
    }
    if (rq->jobs_open == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    rb_serve_suspend(rq); /* until the next record, or the client leaves */
    return 0;
}

/* Submits one manifest line of a /v1/jobs body, or has its `invalid`
 * record written. */
static void take_job_line(struct serve *sv, struct request *rq, struct rb_idset *seen, const char *line,
                          size_t n, long line_no)
{
    struct rb_manifest_job job;
    struct rb_manifest_error err;
    char why[512];
    rq->jobs_open++;
    sv->admitted++;
    int rc = rb_manifest_parse_line(line, n, line_no, sv->cfg->files_root, &job, &err);
    if (rc < 0) {
        /* An invalid line keeps its id unless an earlier line has it: each
         * id has one record (as in runbox run). */
        const char *id = err.id;
        if (id && rb_idset_add(seen, id, strlen(id), (uint64_t)line_no, NULL) == 0)
            id = NULL;
        rb_batch_reject(sv->batch, id, line_no, err.message, rq);
    } else if (paths_refused(sv, &job, why, sizeof why)) {
        char msg[600];
        snprintf(msg, sizeof msg, "line %ld: %s", line_no, why);
        rb_batch_reject(sv->batch, job.job.id, line_no, msg, rq);
    } else if (rb_idset_add(seen, job.job.id, strlen(job.job.id), (uint64_t)line_no, NULL) == 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "line %ld: duplicate id '%.100s' in this request", line_no, job.job.id);
        rb_batch_reject(sv->batch, NULL, line_no, msg, rq);
    } else {
        char *id = strdup(job.job.id);
        if (id)
            rq->ids[rq->nids++] = id;
        if ((rc = rb_batch_submit(sv->batch, &job, rq)) < 0) {
            char msg[256];
            snprintf(msg, sizeof msg, "line %ld: could not start the job: %s", line_no, strerror(-rc));
            rb_batch_reject(sv->batch, id, line_no, msg, rq);
        }
    }
    rb_manifest_error_free(&err);
    rb_manifest_job_free(&job);
}

/* Counts the jobs of a manifest body, or returns -1 with the first line
 * that is not JSON (and the column where it breaks). */
static long count_manifest_jobs(const char *body, size_t len, long *bad_line, size_t *bad_col)
{
    size_t pos = 0, n;
    const char *line;
    long line_no = 0, jobs = 0;
    while (next_line(body, len, &pos, &line, &n)) {
        line_no++;
        if (blank(line, n))
            continue;
        const char *end = NULL;
        cJSON *t = cJSON_ParseWithLengthOpts(line, n, &end, false);
        if (!t) {
            *bad_line = line_no;
            *bad_col = end && end >= line ? (size_t)(end - line) + 1 : 1;
            return -1;
        }
        cJSON_Delete(t);
        jobs++;
    }
    return jobs;
}

/* The records go out as they come: a chunked response whose reader
 * suspends the connection while it has nothing to send. */
static enum MHD_Result queue_stream(struct request *rq)
{
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, stream_reader, rq, NULL);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-ndjson");
    enum MHD_Result ret = MHD_queue_response(rq->conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    rq->status = MHD_HTTP_OK;
    return ret;
}

/* The whole body is checked before anything runs: a line that is not JSON
 * is the client's bug, answered 400; a job that breaks the manifest's rules
 * gets its `invalid` record in the stream, as in runbox run. */
enum MHD_Result rb_serve_handle_jobs(struct serve *sv, struct request *rq)
{
    const char *body = rq->body.data ? rq->body.data : "";
    long bad_line = 0;
    size_t bad_col = 0;
    long counted = count_manifest_jobs(body, rq->body.len, &bad_line, &bad_col);
    if (counted < 0)
        return rb_serve_refuse(rq, MHD_HTTP_BAD_REQUEST, "invalid_json", "line %ld: not valid JSON (column %zu): the body "
                      "is a manifest, one JSON object per line", bad_line, bad_col);
    size_t jobs = (size_t)counted;
    if (jobs == 0)
        return rb_serve_refuse(rq, MHD_HTTP_BAD_REQUEST, "no_jobs",
                      "the body holds no job: send a manifest, one JSON object per line (docs/manifest.md)");
    if (jobs > sv->cfg->max_jobs)
        return rb_serve_refuse(rq, MHD_HTTP_CONTENT_TOO_LARGE, "too_many_jobs",
                      "%zu jobs in one request; the limit is %zu (--max-jobs): split the manifest", jobs,
                      sv->cfg->max_jobs);
    if (jobs > sv->capacity)
        return rb_serve_refuse(rq, MHD_HTTP_CONTENT_TOO_LARGE, "too_many_jobs", "%zu jobs in one request; this service "
                      "holds at most %zu at once (-j plus --queue): split the manifest", jobs, sv->capacity);
    if (!rb_serve_admit(sv, jobs))
        return rb_serve_refuse(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "queue_full",
                      "the queue cannot take %zu more jobs (%zu admitted, limit %zu): retry after a second",
                      jobs, sv->admitted, sv->capacity);
    rq->ids = calloc(jobs, sizeof *rq->ids);
    if (!rq->ids)
        return rb_serve_refuse(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
    rb_serve_start_waiting(sv, rq, WAIT_STREAM);
    rq->jobs = jobs;
    struct rb_idset seen = { 0 };
    size_t pos = 0, n;
    const char *line;
    for (long line_no = 1; next_line(body, rq->body.len, &pos, &line, &n); line_no++)
        if (!blank(line, n))
            take_job_line(sv, rq, &seen, line, n, line_no);
    rb_idset_free(&seen);
    rb_buf_free(&rq->body);
    return queue_stream(rq);
}

