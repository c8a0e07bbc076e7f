/*
 * The pool's insides, shared by its loop (pool.c) and what runs a job in a
 * slot (slot.c). Nothing outside these two files includes it.
 */
#ifndef RB_POOL_H
#define RB_POOL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/types.h>

#include "jobspec.h"
#include "jobuids.h"
#include "runbox.h"
#include "status.h"
#include "util.h"
#include "verdict.h"
#include "workdir.h"
#include "zygote_client.h"

/* What a job's status messages sent in pieces may add up to, beyond what
 * it may capture: the worker's own bounds (protocol.h) with room to spare. */
#define STATUS_LONG_BASE (512u * 1024)
/* Reads per readiness event, so that one flooding job cannot starve the rest. */
#define READS_PER_EVENT 16
#define READ_CHUNK (64 * 1024)
/* Zygote deaths tolerated within ZYGOTE_RESTART_WINDOW_NS before the pool
 * gives up: a zygote that dies at once each time it starts is broken, one
 * that the OOM killer takes once a day, in a service that runs for weeks,
 * is not. */
#define MAX_ZYGOTE_RESTARTS 5
#define ZYGOTE_RESTART_WINDOW_NS (60 * 1000000000LL)
/* Times a job is started before a dying zygote makes it `internal`. */
#define MAX_ATTEMPTS 2

enum event_kind { EV_ZYGOTE = 1, EV_TIMER, EV_STDIN, EV_STDOUT, EV_STDERR, EV_STATUS };

enum slot_state { SLOT_FREE = 0, SLOT_STARTING, SLOT_RUNNING, SLOT_EXITED };

struct capture {
    struct rb_buf buf;
    size_t limit;
    bool truncated;
};

struct slot {
    enum slot_state state;
    uint64_t seq;
    struct rb_pool_job *job;
    char *workdir;
    char *spare_workdir; /* the last job's dir, emptied, for the next one */
    int fd_stdin;                        /* this job's stdin pipe, while there is more to feed */
    int fd_stdout, fd_stderr, fd_status; /* the channel's read end while this job's output
                                            is still to be read; -1 once all of it was */
    /* The slot's channels, kept from job to job (slot.c): stdout and stderr
     * pipes and the status socket pair, [0] the end the loop reads, [1] the
     * end each job's worker gets. */
    int chan_out[2], chan_err[2], chan_status[2];
    size_t stdin_off;
    struct capture out, err;
    struct rb_status_reader status;
    int64_t start_ns, end_ns, deadline_ns;
    enum rb_kill_reason killed;
    const char *killed_stream;
    bool killed_after_verdict;
    int wait_status;
    double cpu_time;
    long max_rss_kb;
    long minor_faults;
};

struct rb_pool {
    rb_result_fn on_result;
    void *ctx;
    rb_limits defaults;
    char **python_path;
    size_t npython_path;
    char *zygote_path;
    char *preload;
    unsigned zygote_without; /* RB_ZYGOTE_NO_* */
    bool verbose;

    struct rb_zygote zygote;
    int zygote_restarts;
    int64_t recent_restarts[MAX_ZYGOTE_RESTARTS]; /* when the last few happened, a ring */
    bool broken;
    char broken_reason[256];

    int epfd, timerfd;
    int64_t timer_armed_ns;
    struct rb_workdir_root root;
    bool as_root; /* jobs run as uids of their own, from job_uids */
    struct rb_job_uids job_uids;
    char *status_msg; /* one status message at a time, read into here */
    int empty_stdin;  /* a pipe's read end whose write end is closed: the stdin of
                         every job given none (EOF at once) */

    struct slot *slots;
    size_t nslots;
    size_t busy;
    struct rb_pool_job *queue_head, *queue_tail;
    size_t queued;
    uint64_t next_seq;
};

/* pool.c */
uint64_t rb_pool_ev_data(enum event_kind kind, size_t slot, uint64_t seq);
int rb_pool_watch(rb_pool *p, int fd, uint32_t events, uint64_t data);
void rb_pool_close_watched(rb_pool *p, int *fd);
void rb_pool_start_queued(rb_pool *p);
void rb_pool_arm_timer(rb_pool *p);

/* slot.c */
int rb_slot_start(rb_pool *p, size_t index, struct rb_pool_job *job);
void rb_slot_clear(rb_pool *p, struct slot *s);
void rb_slot_close_channels(rb_pool *p, struct slot *s);
void rb_slot_on_exit(rb_pool *p, size_t index);
void rb_slot_kill(rb_pool *p, size_t index, enum rb_kill_reason why, const char *stream);
void rb_slot_finish_if_done(rb_pool *p, size_t index);
void rb_slot_deliver_internal(rb_pool *p, struct rb_pool_job *job, const char *error);
void rb_slot_feed_stdin(rb_pool *p, struct slot *s);
void rb_slot_drain(rb_pool *p, size_t index, int *fd, struct capture *c, const char *stream, bool all);
void rb_slot_drain_status(rb_pool *p, size_t index, bool all);
void rb_slot_discard(rb_pool *p, size_t index, enum event_kind kind);

#endif
