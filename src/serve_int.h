/*
 * What serve.c (the loop, libmicrohttpd, requests and their answers) and
 * serve_jobs.c (the job endpoints) share. Nothing else includes it.
 */
#ifndef RB_SERVE_INT_H
#define RB_SERVE_INT_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "batch.h"
#include "idset.h"
#include "serve.h"
#include "serve_metrics.h"
#include "util.h"

/* Tags of the fixed members of the epoll set; a suspended connection's
 * socket is tagged with its request's address, which is never this small. */
enum { EV_BATCH = 1, EV_HTTP, EV_SIGNAL };

/* After the grace period, how long answers may take to go out. */
#define FLUSH_NS (2 * 1000000000LL)
/* A body this many times over the limit is not read to its end. */
#define DRAIN_FACTOR 16

struct request;
struct serve;

/* An endpoint: a handler answers (or suspends) a request whose body is in. */
typedef enum MHD_Result (*handler_fn)(struct serve *sv, struct request *rq);

struct route {
    const char *path;
    const char *method;
    enum rb_endpoint endpoint;
    bool takes_body;
    bool needs_token;
    handler_fn handle;
};

enum waiting { WAIT_NONE = 0, WAIT_ANSWER, WAIT_STREAM };

struct request {
    struct serve *sv;
    struct request *prev, *next; /* live requests */
    const struct route *route;   /* NULL: no such path */
    struct MHD_Connection *conn;
    char method[16];
    char path[128];
    char peer[64];
    int64_t start_ns, deadline_ns;

    struct rb_buf body;
    size_t body_seen;       /* bytes received, kept or not */
    unsigned refuse;        /* an HTTP status decided before the body was in */
    char refuse_code[32];
    char refuse_msg[256];

    unsigned status;        /* the HTTP status answered, 0 until then */
    uint64_t bytes_out;

    enum waiting waiting;
    bool suspended, watching, client_gone;
    int sock;

    size_t jobs;            /* admitted into the batch */
    size_t jobs_open;       /* admitted, no record yet */
    char *answer;           /* /run_code: the body to send when resumed */
    unsigned answer_status;

    struct rb_buf out;      /* /v1/jobs: records not yet sent */
    size_t out_off;
    char **ids;             /* /v1/jobs: ids submitted, to report those cut off */
    size_t nids;
    struct rb_idset done;   /* /v1/jobs: ids whose record came, as JSON text */
};

struct serve {
    const struct rb_serve_config *cfg;
    struct rb_batch *batch;
    struct MHD_Daemon *mhd;
    int epfd, sigfd;
    struct request *live;
    size_t nlive;
    size_t admitted;        /* jobs admitted, no record yet, all requests */
    size_t capacity;        /* slots + queue */
    uint64_t next_job;
    int64_t started_ns;
    bool draining;
    int64_t drain_deadline_ns;
    bool cut_off;           /* the grace period is over */
    int64_t next_deadline_ns; /* the earliest deadline of a waiting request, or INT64_MAX */
    bool at_limit;          /* --max-connections reached at the last MHD_run */
    struct rb_serve_metrics metrics;
    const char *token;
    size_t token_len;
};

double rb_serve_seconds_since(int64_t ns);
enum MHD_Result rb_serve_queue(struct request *rq, unsigned status, const char *type, char *body, size_t len,
                               const char *extra_header, const char *extra_value);
enum MHD_Result rb_serve_queue_json(struct request *rq, unsigned status, char *json);
char *rb_serve_error_json(const struct request *rq, const char *code, const char *message);
enum MHD_Result rb_serve_refuse(struct request *rq, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
bool rb_serve_admit(struct serve *sv, size_t n);
void rb_serve_start_waiting(struct serve *sv, struct request *rq, enum waiting how);
void rb_serve_suspend(struct request *rq);
void rb_serve_resume(struct request *rq);
void rb_serve_cut_request(struct serve *sv, struct request *rq, unsigned status, const char *code, const char *why);
enum MHD_Result rb_serve_handle_run_code(struct serve *sv, struct request *rq);
enum MHD_Result rb_serve_handle_jobs(struct serve *sv, struct request *rq);

#endif
