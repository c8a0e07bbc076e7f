/*
 * A job as the pool holds it, and the spec its worker reads: the one place
 * a job's fields are encoded for the worker (sandbox/worker.c decodes them,
 * by the names protocol.h declares).
 */
#ifndef RB_JOBSPEC_H
#define RB_JOBSPEC_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../sandbox/protocol.h"
#include "runbox.h"

/* A job the pool owns until its result is delivered. */
struct rb_pool_job {
    struct rb_pool_job *next;
    char *id;
    void *user;
    rb_limits limits; /* with the pool's defaults filled in */
    cJSON *spec;      /* all the worker needs except its working dir */
    char *stdin_data;
    size_t stdin_len;
    size_t nchecks;
    rb_file *files;      /* copies; written into the working dir at start */
    size_t nfiles;
    char **tracked;      /* read back at the end */
    size_t ntracked;
    char *workdir;       /* the caller's dir to run in, or NULL for a fresh one */
    char nonce[RBZ_NONCE_HEX + 1]; /* what the worker's status lines must start with */
    int attempts;
    bool cancelled; /* rb_pool_cancel: killed, and its result never delivered */
    /* Function-call tests: what the supervisor judges them by (the
     * arguments went into the spec; the expected values never do). */
    size_t ncalls;
    struct rb_pool_call *calls;
    rb_call_rules call_rules;
    char *entry_point;
};

struct rb_pool_call {
    char *args;     /* tagged text, for the oracles that need them */
    char *expected; /* tagged text, or NULL */
    unsigned group;
};

/* A copy of `j` with the defaults filled in and its spec encoded; NULL when
 * out of memory or when `j` is malformed (a files path that escapes its dir). */
struct rb_pool_job *rb_pool_job_new(const rb_job *j, const rb_limits *defaults, const char *const *python_path,
                                    size_t npython_path);
void rb_pool_job_free(struct rb_pool_job *job);

/* The spec with this start's working dir, uid ((uid_t)-1: runbox is not
 * root) and a new secret (also kept in job->nonce), in a sealed memfd: the
 * fd, or a negative errno. */
int rb_pool_job_spec_fd(struct rb_pool_job *job, const char *workdir, uid_t uid);

#endif
