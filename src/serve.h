/*
 * `runbox serve`: the pool behind HTTP (docs/service.md).
 *
 * One thread, one event loop: libmicrohttpd runs without threads of its own
 * (its epoll fd sits in the service's epoll set and MHD_run is called when
 * it is ready, or when its timeout says so); requests that wait for jobs are
 * suspended connections, resumed when their records arrive.
 */
#ifndef RB_SERVE_H
#define RB_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

#include "runbox.h"

struct rb_serve_config {
    rb_pool_config pool;
    struct sockaddr_storage addr; /* where to listen */
    socklen_t addrlen;
    const char *token;            /* bearer token, or NULL: no authentication */
    size_t max_body;              /* bytes of a request body (413 past it) */
    size_t max_jobs;              /* jobs in one /v1/jobs request (413 past it) */
    size_t queue;                 /* jobs that may wait for a slot (503 past it) */
    unsigned max_connections;     /* open connections; more wait in the listen queue */
    double request_timeout;       /* seconds a request may wait for its jobs (504 after) */
    double grace;                 /* seconds admitted jobs get after SIGTERM */
    unsigned idle_timeout;        /* seconds an idle connection stays open */
    const char *files_root;       /* /v1/jobs `file` and `python_path` must lie under it; NULL: refused */
    const char *pod_name;         /* executor_pod_name in /run_code answers, or NULL */
    FILE *access_log;             /* one line per request, or NULL */
};

/* Runs the service until a termination signal arrives on `sigfd` (a
 * signalfd for SIGTERM, SIGINT and SIGHUP) and its admitted jobs are done or
 * the grace period is over. 0, or a negative errno with `errbuf` filled for
 * a person when it could not start. */
int rb_serve_run(const struct rb_serve_config *cfg, int sigfd, char *errbuf, size_t errlen);

#endif
