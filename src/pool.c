/*
 * The pool: the supervisor's event loop.
 *
 * Theory of operation. A pool owns one zygote and `jobs` slots. Starting a
 * job means: create its working dir, write its spec into a sealed memfd,
 * create its four pipes (stdin, stdout, stderr, status), and send the zygote
 * a FORK message carrying the spec and the worker's pipe ends. From then on
 * one epoll set watches everything: the zygote's socket (FORKED, EXITED), the
 * pipes of every slot, and a timerfd armed for the nearest deadline. Nothing
 * here blocks on a job: stdin is written as the pipe takes it (a job may print
 * megabytes before reading), and stdout/stderr are drained as they fill, each
 * up to its cap, past which the job is killed.
 *
 * A job ends when the zygote has reported its exit and all three of its
 * output pipes have reached EOF; only then is the result assembled (the
 * status record, read from its own pipe, is what the main module said before
 * any shutdown code ran) and delivered, and the working dir removed.
 *
 * No signal handlers: process exits arrive as messages from the zygote, which
 * is the workers' parent. Killing goes through the zygote too, which kills
 * the process group before reaping its leader, so a pid is never reused
 * under our feet.
 */
#define _GNU_SOURCE
#include "runbox.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jobfiles.h"
#include "jobspec.h"
#include "status.h"
#include "verdict.h"
#include "util.h"
#include "jobuids.h"
#include "poolcounts.h"
#include "workdir.h"
#include "zygote_client.h"

/* What a job's status messages sent in pieces may add up to, beyond what
 * it may capture: the worker's own bounds (protocol.h) with room to spare. */
#define STATUS_LONG_BASE (512u * 1024)
/* How long a job's pipes may stay open after its process is gone (only a
 * leaked fd could keep them open: the worker cannot fork). */
#define DRAIN_GRACE_NS (2 * 1000000000LL)
/* Reads per readiness event, so that one flooding job cannot starve the rest. */
#define READS_PER_EVENT 16
#define READ_CHUNK (64 * 1024)
/* Zygote deaths tolerated before the pool gives up. */
#define MAX_ZYGOTE_RESTARTS 5
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
    int fd_stdin, fd_stdout, fd_stderr, fd_status;
    size_t stdin_off;
    struct capture out, err;
    struct rb_status_reader status;
    int64_t start_ns, end_ns, deadline_ns, drain_deadline_ns;
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
    bool broken;
    char broken_reason[256];

    int epfd, timerfd;
    int64_t timer_armed_ns;
    struct rb_workdir_root root;
    bool as_root; /* jobs run as uids of their own, from job_uids */
    struct rb_job_uids job_uids;
    char *status_msg; /* one status message at a time, read into here */

    struct slot *slots;
    size_t nslots;
    size_t busy;
    struct rb_pool_job *queue_head, *queue_tail;
    size_t queued;
    uint64_t next_seq;
};

/* ---- epoll bookkeeping ------------------------------------------------- */

/* Event data: kind in bits 0-3, slot index in 4-23, the job's seq in 24-63,
 * so an event queued for a slot's previous job is recognised as stale. */
static uint64_t ev_data(enum event_kind kind, size_t slot, uint64_t seq)
{
    return (uint64_t)kind | ((uint64_t)slot << 4) | (seq << 24);
}

static int watch(rb_pool *p, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev = { .events = events, .data.u64 = data };
    return epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void close_watched(rb_pool *p, int *fd)
{
    if (*fd < 0)
        return;
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, *fd, NULL);
    close(*fd);
    *fd = -1;
}

static void deliver(rb_pool *p, const struct rb_pool_job *job, rb_result *r)
{
    if (!job->cancelled)
        p->on_result(r, p->ctx);
}

static void deliver_internal(rb_pool *p, struct rb_pool_job *job, const char *error)
{
    rb_result r = {
        .id = job->id,
        .status = RB_STATUS_INTERNAL,
        .return_code = -1,
        .error = error,
        .had_unexpected_error = true,
        .user = job->user,
    };
    deliver(p, job, &r);
}

/* ---- starting a job ---------------------------------------------------- */

/* The uid a job runs as in a slot (-1: runbox is not root, jobs keep its
 * uid): the slot's own, or for a job given a dir (a command list sharing
 * one) the owner of that dir. */
static uid_t slot_uid(const rb_pool *p, const struct slot *s)
{
    if (!p->as_root)
        return (uid_t)-1;
    if (s->job && s->job->workdir) {
        struct stat st;
        return stat(s->job->workdir, &st) == 0 ? st.st_uid : (uid_t)-1;
    }
    return rb_job_uid_of_slot(p->job_uids.base, (size_t)(s - p->slots));
}

static void capture_init(struct capture *c, size_t limit)
{
    rb_buf_reset(&c->buf);
    c->limit = limit;
    c->truncated = false;
}

static void slot_release_fds(rb_pool *p, struct slot *s)
{
    close_watched(p, &s->fd_stdin);
    close_watched(p, &s->fd_stdout);
    close_watched(p, &s->fd_stderr);
    close_watched(p, &s->fd_status);
}

static void slot_clear(rb_pool *p, struct slot *s)
{
    slot_release_fds(p, s);
    if (s->workdir) {
        int rc = 0;
        if (!(s->job && s->job->workdir)) {
            /* Emptied now, so nothing of the job outlives its record;
             * renamed when the slot's next job starts. */
            if (!s->spare_workdir && rb_workdir_scrub(&p->root, s->workdir, slot_uid(p, s)) == 0) {
                s->spare_workdir = s->workdir;
                s->workdir = NULL;
            } else {
                rc = rb_workdir_discard(&p->root, s->workdir);
            }
        }
        if (rc < 0 && p->verbose)
            fprintf(stderr, "runbox: removing %s: %s\n", s->workdir, strerror(-rc));
        free(s->workdir);
        s->workdir = NULL;
    }
    s->job = NULL;
    s->state = SLOT_FREE;
    p->busy--;
}

/* The job's files in its dir; *failed names the file that could not be written. */
static int write_job_files(const struct rb_pool_job *job, const char *dir, uid_t uid, const char **failed)
{
    if (!job->nfiles)
        return 0;
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dirfd < 0)
        return -errno;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < job->nfiles; i++) {
        rc = rb_job_file_write(dirfd, job->files[i].path, job->files[i].data, job->files[i].len,
                               uid, (gid_t)uid);
        if (rc < 0)
            *failed = job->files[i].path;
    }
    close(dirfd);
    return rc;
}

/* The tracked files, read before the working dir goes. */
static rb_tracked_file *read_tracked(const struct slot *s)
{
    const struct rb_pool_job *job = s->job;
    if (!job->ntracked)
        return NULL;
    return rb_tracked_files_read(s->workdir, (const char *const *)job->tracked, job->ntracked,
                                 (size_t)job->limits.output_limit_kb * 1024);
}

/* Our end of a pipe just made: its only status flag is O_NONBLOCK, so one
 * F_SETFL does (no F_GETFL first). The job's end stays blocking. */
static int pipe_nonblocking(int fd)
{
    return fcntl(fd, F_SETFL, O_NONBLOCK) < 0 ? -errno : 0;
}

static int start_in_slot(rb_pool *p, size_t index, struct rb_pool_job *job)
{
    struct slot *s = &p->slots[index];
    int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 }, pst[2] = { -1, -1 };
    int spec = -1, rc;
    /* What was being done when a step failed, for the record: a step and
     * the path it was at, never a bare errno. */
    const char *step = "creating its working dir in", *at = p->root.path, *file = NULL;

    /* The capture buffers and the spare dir are kept from job to job;
     * everything else starts over. */
    struct capture out = s->out, err = s->err;
    struct rb_status_reader status = s->status;
    char *spare = s->spare_workdir;
    memset(s, 0, sizeof *s);
    s->spare_workdir = spare;
    s->out = out;
    s->err = err;
    s->status = status;
    s->fd_stdin = s->fd_stdout = s->fd_stderr = s->fd_status = -1;
    s->seq = ++p->next_seq;
    s->job = job;
    s->state = SLOT_STARTING;
    p->busy++;
    job->attempts++;
    capture_init(&s->out, (size_t)job->limits.output_limit_kb * 1024);
    capture_init(&s->err, (size_t)job->limits.output_limit_kb * 1024);
    uid_t uid = slot_uid(p, s); /* looked up once: a shared dir's is a stat */

    if (job->workdir) {
        at = job->workdir;
        s->workdir = strdup(job->workdir);
        rc = s->workdir ? 0 : -ENOMEM;
    } else {
        rc = -ENOENT;
        if (s->spare_workdir) {
            rc = rb_workdir_reuse(&p->root, s->spare_workdir, s->seq, &s->workdir);
            if (rc < 0)
                rb_workdir_discard(&p->root, s->spare_workdir);
            free(s->spare_workdir);
            s->spare_workdir = NULL;
        }
        if (rc < 0)
            rc = rb_workdir_create(&p->root, s->seq, uid, (gid_t)uid, &s->workdir);
    }
    if (rc < 0)
        goto fail;
    step = "writing its files in";
    at = s->workdir;
    if ((rc = write_job_files(job, s->workdir, uid, &file)) < 0)
        goto fail;
    step = "writing its spec for";
    if ((rc = rb_pool_job_spec_fd(job, s->workdir, uid)) < 0)
        goto fail;
    spec = rc;
    if ((rc = rb_status_reader_start(&s->status, job->nonce, job->nchecks, job->ncalls,
                                     STATUS_LONG_BASE + (size_t)job->limits.output_limit_kb * 1024)) < 0)
        goto fail;
    /* The status channel is a socket, not a pipe: see protocol.h. */
    step = "making its pipes, in";
    if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0 ||
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pst) < 0) {
        rc = -errno;
        goto fail;
    }
    s->fd_stdin = pin[1];
    s->fd_stdout = pout[0];
    s->fd_stderr = perr[0];
    s->fd_status = pst[0];
    pin[1] = pout[0] = perr[0] = pst[0] = -1;
    if ((rc = pipe_nonblocking(s->fd_stdin)) < 0 || (rc = pipe_nonblocking(s->fd_stdout)) < 0 ||
        (rc = pipe_nonblocking(s->fd_stderr)) < 0 || (rc = pipe_nonblocking(s->fd_status)) < 0)
        goto fail;
    if ((rc = watch(p, s->fd_stdout, EPOLLIN, ev_data(EV_STDOUT, index, s->seq))) < 0 ||
        (rc = watch(p, s->fd_stderr, EPOLLIN, ev_data(EV_STDERR, index, s->seq))) < 0 ||
        (rc = watch(p, s->fd_status, EPOLLIN, ev_data(EV_STATUS, index, s->seq))) < 0)
        goto fail;
    if (job->stdin_len > 0) {
        if ((rc = watch(p, s->fd_stdin, EPOLLOUT, ev_data(EV_STDIN, index, s->seq))) < 0)
            goto fail;
    } else {
        close(s->fd_stdin); /* nothing to feed: the program sees EOF at once */
        s->fd_stdin = -1;
    }

    int fds[RBZ_NFDS];
    fds[RBZ_FD_SPEC] = spec;
    fds[RBZ_FD_STDIN] = pin[0];
    fds[RBZ_FD_STDOUT] = pout[1];
    fds[RBZ_FD_STDERR] = perr[1];
    fds[RBZ_FD_STATUS] = pst[1];
    rc = rb_zygote_send_fork(&p->zygote, s->seq, fds);
    /* The zygote holds its own copies now (or never will); ours go, so EOF
     * on the pipes means the worker is done with them. */
    close(spec);
    close(pin[0]);
    close(pout[1]);
    close(perr[1]);
    close(pst[1]);
    if (rc < 0) {
        /* The zygote is unreachable; its death is noticed on its socket and
         * this job is retried with the others in flight. */
        return 0;
    }
    return 0;

fail:;
    char msg[PATH_MAX + 512];
    snprintf(msg, sizeof msg, "could not start the job: %s %s%s%s: %s", step, at ? at : "?",
             file ? ", the file " : "", file ? file : "", strerror(-rc));
    for (int i = 0; i < 2; i++) {
        if (pin[i] >= 0) close(pin[i]);
        if (pout[i] >= 0) close(pout[i]);
        if (perr[i] >= 0) close(perr[i]);
        if (pst[i] >= 0) close(pst[i]);
    }
    if (spec >= 0)
        close(spec);
    slot_clear(p, s);
    deliver_internal(p, job, msg);
    rb_pool_job_free(job);
    return rc;
}

static size_t free_slot_index(const rb_pool *p)
{
    for (size_t i = 0; i < p->nslots; i++)
        if (p->slots[i].state == SLOT_FREE)
            return i;
    return p->nslots;
}

static void start_queued(rb_pool *p)
{
    while (p->queue_head && p->busy < p->nslots && !p->broken) {
        struct rb_pool_job *job = p->queue_head;
        p->queue_head = job->next;
        if (!p->queue_head)
            p->queue_tail = NULL;
        p->queued--;
        job->next = NULL;
        start_in_slot(p, free_slot_index(p), job);
    }
}

static void enqueue(rb_pool *p, struct rb_pool_job *job, bool front)
{
    job->next = NULL;
    if (front) {
        job->next = p->queue_head;
        p->queue_head = job;
        if (!p->queue_tail)
            p->queue_tail = job;
    } else {
        if (p->queue_tail)
            p->queue_tail->next = job;
        else
            p->queue_head = job;
        p->queue_tail = job;
    }
    p->queued++;
}

/* ---- deadlines ----------------------------------------------------------- */

static int64_t slot_deadline(const struct slot *s)
{
    if (s->state == SLOT_RUNNING && s->killed == RB_KILL_NONE)
        return s->deadline_ns;
    if (s->state == SLOT_EXITED)
        return s->drain_deadline_ns;
    return INT64_MAX;
}

static void arm_timer(rb_pool *p)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < p->nslots; i++) {
        int64_t d = slot_deadline(&p->slots[i]);
        if (d < next)
            next = d;
    }
    if (next == p->timer_armed_ns)
        return;
    struct itimerspec its = { 0 };
    if (next != INT64_MAX) {
        if (next <= 0)
            next = 1;
        its.it_value.tv_sec = next / 1000000000;
        its.it_value.tv_nsec = next % 1000000000;
    }
    timerfd_settime(p->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
    p->timer_armed_ns = next;
}

static void drain_status(rb_pool *p, size_t index);

static void kill_job(rb_pool *p, size_t index, enum rb_kill_reason why, const char *stream)
{
    struct slot *s = &p->slots[index];
    if (s->killed != RB_KILL_NONE)
        return;
    s->killed = why;
    s->killed_stream = stream;
    rb_zygote_send_kill(&p->zygote, s->seq);
    /* Whatever the worker said before the kill is in the channel already:
     * read it now, so that a verdict sent before an output flood (a huge
     * traceback, say) is known to have come first. */
    if (s->fd_status >= 0)
        drain_status(p, index);
    s->killed_after_verdict = s->status.verdict != NULL;
}

/* ---- finishing a job ----------------------------------------------------- */

static void finish(rb_pool *p, size_t index)
{
    struct slot *s = &p->slots[index];
    const struct rb_status_reader *st = &s->status;
    char msg[512] = "";
    rb_check_result *checks = st->nchecks ? calloc(st->nchecks, sizeof *checks) : NULL;
    size_t ncalls = s->job->ncalls;
    rb_call_result *calls = ncalls ? calloc(ncalls, sizeof *calls) : NULL;
    char **call_texts = ncalls ? calloc(ncalls, sizeof *call_texts) : NULL;
    if (calls && call_texts)
        rb_verdict_calls(s->job, st, calls, call_texts);
    else
        ncalls = 0;
    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(st->detail, RBZ_ST_NAMESPACE);
    char *namespace_json = cJSON_IsObject(ns) ? cJSON_PrintUnformatted(ns) : NULL;
    rb_result r = {
        .id = s->job->id,
        .user = s->job->user,
        .runtime = s->start_ns ? (double)(s->end_ns - s->start_ns) / 1e9 : 0,
        .cpu_time = s->cpu_time,
        .max_rss_kb = s->max_rss_kb,
        .minor_faults = s->minor_faults,
        .stdout_data = s->out.buf.data ? s->out.buf.data : "",
        .stdout_len = s->out.buf.len,
        .stdout_truncated = s->out.truncated,
        .stderr_data = s->err.buf.data ? s->err.buf.data : "",
        .stderr_len = s->err.buf.len,
        .stderr_truncated = s->err.truncated,
        .checks = checks,
        .nchecks = checks ? st->nchecks : 0,
        .tracked = read_tracked(s),
        .ntracked = s->job->ntracked,
        .calls = calls,
        .ncalls = ncalls,
    };
    struct rb_run_facts facts = {
        .limits = &s->job->limits,
        .wait_status = s->wait_status,
        .killed = s->killed,
        .killed_stream = s->killed_stream,
        .killed_after_verdict = s->killed_after_verdict,
        .end_ns = s->end_ns,
        .deadline_ns = s->deadline_ns,
        .cpu_time = s->cpu_time,
        .max_rss_kb = s->max_rss_kb,
        .stderr_data = s->err.buf.data,
        .stderr_len = s->err.buf.len,
    };
    rb_verdict_decide(&facts, st, &r, checks, msg, sizeof msg);
    if (st->verdict)
        r.namespace_json = namespace_json;
    struct rb_pool_job *job = s->job;
    slot_clear(p, s);
    deliver(p, job, &r);
    rb_tracked_files_free((rb_tracked_file *)r.tracked, r.ntracked);
    cJSON_free(namespace_json);
    free(checks);
    for (size_t i = 0; call_texts && i < ncalls; i++)
        cJSON_free(call_texts[i]);
    free(call_texts);
    free(calls);
    rb_status_reader_clear(&s->status);
    rb_pool_job_free(job);
    start_queued(p);
}

static void maybe_finish(rb_pool *p, size_t index)
{
    struct slot *s = &p->slots[index];
    if (s->state == SLOT_EXITED && s->fd_stdout < 0 && s->fd_stderr < 0 && s->fd_status < 0)
        finish(p, index);
}

/* ---- I/O ----------------------------------------------------------------- */

static void feed_stdin(rb_pool *p, struct slot *s)
{
    struct rb_pool_job *job = s->job;
    while (s->stdin_off < job->stdin_len) {
        size_t n = job->stdin_len - s->stdin_off;
        ssize_t w = write(s->fd_stdin, job->stdin_data + s->stdin_off, n > READ_CHUNK ? READ_CHUNK : n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return;
            break; /* EPIPE: the program closed stdin or ended; that is its right */
        }
        s->stdin_off += (size_t)w;
    }
    close_watched(p, &s->fd_stdin);
}

/* Reads what is there, up to the cap; past the cap the job is killed and the
 * rest is read and dropped so the pipe can reach EOF. */
static void drain(rb_pool *p, size_t index, int *fd, struct capture *c, const char *stream)
{
    char scratch[READ_CHUNK];
    for (int i = 0; i < READS_PER_EVENT; i++) {
        char *dst = scratch;
        size_t room = sizeof scratch;
        if (!c->truncated) {
            size_t want = c->limit + 1 - c->buf.len; /* one byte past the cap tells */
            if (want > READ_CHUNK)
                want = READ_CHUNK;
            if (rb_buf_reserve(&c->buf, want) < 0)
                return;
            dst = c->buf.data + c->buf.len;
            room = want;
        }
        ssize_t n = read(*fd, dst, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            close_watched(p, fd);
            maybe_finish(p, index);
            return;
        }
        if (c->truncated)
            continue;
        c->buf.len += (size_t)n;
        if (c->buf.len > c->limit) {
            c->buf.len = c->limit;
            c->truncated = true;
            kill_job(p, index, RB_KILL_OUTPUT, stream);
        }
        c->buf.data[c->buf.len] = '\0';
    }
}

/* The status channel's messages, each taken or dropped as it comes (status.h).
 * A message of no bytes reads as 0, as end-of-file does: the socket's peer
 * being gone tells them apart. */
static void drain_status(rb_pool *p, size_t index)
{
    struct slot *s = &p->slots[index];
    const size_t cap = RBZ_NONCE_HEX + 1 + RBZ_STATUS_PAYLOAD_MAX;
    for (int i = 0; i < READS_PER_EVENT * 4 && s->fd_status >= 0; i++) {
        ssize_t n = recv(s->fd_status, p->status_msg, cap + 1, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n > 0) {
            if ((size_t)n <= cap)
                rb_status_reader_take(&s->status, p->status_msg, (size_t)n);
            else
                s->status.dropped++; /* longer than any message of the worker */
            continue;
        }
        struct pollfd pfd = { .fd = s->fd_status, .events = POLLIN };
        int queued = 0;
        if (n == 0 && (ioctl(s->fd_status, SIOCINQ, &queued) < 0 || queued == 0) &&
            poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP)) {
            close_watched(p, &s->fd_status);
            maybe_finish(p, index);
            return;
        }
        if (n < 0) {
            close_watched(p, &s->fd_status);
            maybe_finish(p, index);
            return;
        }
    }
}

/* ---- zygote messages ----------------------------------------------------- */

static struct slot *slot_by_seq(rb_pool *p, uint64_t seq, size_t *index)
{
    for (size_t i = 0; i < p->nslots; i++) {
        if (p->slots[i].state != SLOT_FREE && p->slots[i].seq == seq) {
            *index = i;
            return &p->slots[i];
        }
    }
    return NULL;
}

static void on_forked(rb_pool *p, const struct rbz_msg *m)
{
    size_t i;
    struct slot *s = slot_by_seq(p, m->seq, &i);
    if (!s || s->state != SLOT_STARTING)
        return;
    s->state = SLOT_RUNNING;
    s->start_ns = m->start_ns;
    s->deadline_ns = m->start_ns + (int64_t)(s->job->limits.timeout * 1e9);
}

static void on_fork_failed(rb_pool *p, const struct rbz_msg *m)
{
    size_t i;
    struct slot *s = slot_by_seq(p, m->seq, &i);
    if (!s)
        return;
    char msg[128];
    snprintf(msg, sizeof msg, "the zygote could not fork a worker: %s", strerror(m->err));
    struct rb_pool_job *job = s->job;
    slot_clear(p, s);
    deliver_internal(p, job, msg);
    rb_pool_job_free(job);
    start_queued(p);
}

static void on_exited(rb_pool *p, const struct rbz_msg *m)
{
    size_t i;
    struct slot *s = slot_by_seq(p, m->seq, &i);
    if (!s)
        return;
    if (s->state == SLOT_STARTING)
        s->start_ns = m->end_ns; /* FORKED is always sent first; defensive only */
    s->state = SLOT_EXITED;
    s->end_ns = m->end_ns;
    s->wait_status = m->wait_status;
    s->cpu_time = (double)(m->utime_us + m->stime_us) / 1e6;
    s->max_rss_kb = (long)m->maxrss_kb;
    s->minor_faults = (long)m->minflt;
    s->drain_deadline_ns = rb_now_ns() + DRAIN_GRACE_NS;
    close_watched(p, &s->fd_stdin);
    maybe_finish(p, i);
}

static void fail_everything(rb_pool *p, const char *why)
{
    p->broken = true;
    snprintf(p->broken_reason, sizeof p->broken_reason, "%s", why);
    for (size_t i = 0; i < p->nslots; i++) {
        struct slot *s = &p->slots[i];
        if (s->state == SLOT_FREE)
            continue;
        struct rb_pool_job *job = s->job;
        slot_clear(p, s);
        deliver_internal(p, job, why);
        rb_pool_job_free(job);
    }
    while (p->queue_head) {
        struct rb_pool_job *job = p->queue_head;
        p->queue_head = job->next;
        p->queued--;
        deliver_internal(p, job, why);
        rb_pool_job_free(job);
    }
    p->queue_tail = NULL;
}

/* The zygote died (a bug, or the kernel's OOM killer). Its workers die with
 * it (parent-death signal); the jobs they ran never had a fair run, so each
 * is started once more on a new zygote. */
static void on_zygote_death(rb_pool *p)
{
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, p->zygote.sock, NULL);
    rb_zygote_stop(&p->zygote);
    for (size_t i = 0; i < p->nslots; i++) {
        struct slot *s = &p->slots[i];
        if (s->state == SLOT_FREE)
            continue;
        struct rb_pool_job *job = s->job;
        slot_clear(p, s);
        if (job->cancelled) {
            rb_pool_job_free(job);
        } else if (job->attempts < MAX_ATTEMPTS) {
            enqueue(p, job, true);
        } else {
            deliver_internal(p, job, "the zygote died twice while this job ran");
            rb_pool_job_free(job);
        }
    }
    char err[512];
    if (++p->zygote_restarts > MAX_ZYGOTE_RESTARTS) {
        fail_everything(p, "the zygote died too often; giving up");
        return;
    }
    if (rb_zygote_start(&p->zygote, p->zygote_path, p->preload, p->zygote_without, err, sizeof err) < 0 ||
        watch(p, p->zygote.sock, EPOLLIN, ev_data(EV_ZYGOTE, 0, 0)) < 0) {
        char why[600];
        snprintf(why, sizeof why, "could not restart the zygote: %s", err);
        fail_everything(p, why);
        return;
    }
    if (p->verbose)
        fprintf(stderr, "runbox: the zygote died and was restarted\n");
    start_queued(p);
}

static void on_zygote_readable(rb_pool *p)
{
    struct rbz_msg m;
    for (;;) {
        int rc = rb_zygote_recv(&p->zygote, &m);
        if (rc == -EAGAIN)
            return;
        if (rc <= 0) {
            on_zygote_death(p);
            return;
        }
        switch (m.type) {
        case RBZ_FORKED: on_forked(p, &m); break;
        case RBZ_FORK_FAILED: on_fork_failed(p, &m); break;
        case RBZ_EXITED: on_exited(p, &m); break;
        default: break;
        }
    }
}

static void on_timer(rb_pool *p)
{
    uint64_t expirations;
    if (read(p->timerfd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
        return;
    p->timer_armed_ns = INT64_MAX;
    int64_t now = rb_now_ns();
    for (size_t i = 0; i < p->nslots; i++) {
        struct slot *s = &p->slots[i];
        if (s->state == SLOT_RUNNING && s->killed == RB_KILL_NONE && now >= s->deadline_ns) {
            kill_job(p, i, RB_KILL_TIMEOUT, NULL);
        } else if (s->state == SLOT_EXITED && now >= s->drain_deadline_ns) {
            /* Only a leaked descriptor could hold the pipes open this long. */
            slot_release_fds(p, s);
            maybe_finish(p, i);
        }
    }
}

static void dispatch(rb_pool *p, const struct epoll_event *ev)
{
    uint64_t d = ev->data.u64;
    enum event_kind kind = (enum event_kind)(d & 0xf);
    size_t index = (size_t)((d >> 4) & 0xfffff);
    uint64_t seq = d >> 24;
    if (kind == EV_ZYGOTE) {
        on_zygote_readable(p);
        return;
    }
    if (kind == EV_TIMER) {
        on_timer(p);
        return;
    }
    if (index >= p->nslots)
        return;
    struct slot *s = &p->slots[index];
    if (s->state == SLOT_FREE || (s->seq & ((1ull << 40) - 1)) != seq)
        return; /* stale: the slot moved on to another job */
    switch (kind) {
    case EV_STDIN:
        if (s->fd_stdin >= 0)
            feed_stdin(p, s);
        break;
    case EV_STDOUT:
        if (s->fd_stdout >= 0)
            drain(p, index, &s->fd_stdout, &s->out, "stdout");
        break;
    case EV_STDERR:
        if (s->fd_stderr >= 0)
            drain(p, index, &s->fd_stderr, &s->err, "stderr");
        break;
    case EV_STATUS:
        if (s->fd_status >= 0)
            drain_status(p, index);
        break;
    default:
        break;
    }
}

/* ---- the public API ------------------------------------------------------ */

static int online_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int rb_pool_new(const rb_pool_config *config, rb_result_fn on_result, void *ctx, rb_pool **out,
                char *errbuf, size_t errlen)
{
    char scratch[8];
    if (!errbuf) {
        errbuf = scratch;
        errlen = sizeof scratch;
    }
    errbuf[0] = '\0';
    *out = NULL;
    if (!on_result) {
        snprintf(errbuf, errlen, "no result callback");
        return -EINVAL;
    }
    rb_pool_config defaults = { 0 };
    if (!config)
        config = &defaults;
    int jobs = config->jobs > 0 ? config->jobs : online_cpus();
    if (jobs > 4096) {
        snprintf(errbuf, errlen, "at most 4096 jobs in flight, not %d", jobs);
        return -EINVAL;
    }

    rb_pool *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(errbuf, errlen, "out of memory");
        return -ENOMEM;
    }
    p->on_result = on_result;
    p->ctx = ctx;
    p->defaults = config->defaults;
    p->verbose = config->verbose;
    p->epfd = p->timerfd = -1;
    p->root.fd = -1;
    p->root.janitor_fd = -1;
    p->job_uids.lock = -1;
    p->zygote.sock = -1;
    p->zygote.pid = -1;
    p->timer_armed_ns = INT64_MAX;
    p->nslots = (size_t)jobs;
    p->slots = calloc(p->nslots, sizeof *p->slots);
    p->status_msg = malloc(RBZ_NONCE_HEX + 2 + RBZ_STATUS_PAYLOAD_MAX);
    p->zygote_without = (config->no_landlock ? RB_ZYGOTE_NO_LANDLOCK : 0) |
                        (config->no_namespaces ? RB_ZYGOTE_NO_NAMESPACES : 0);
    p->zygote_path = rb_zygote_locate(config->zygote_path);
    if (config->npython_path) {
        p->python_path = calloc(config->npython_path, sizeof *p->python_path);
        for (size_t i = 0; p->python_path && i < config->npython_path; i++, p->npython_path++)
            p->python_path[i] = strdup(config->python_path[i]);
    }
    p->preload = config->preload ? strdup(config->preload) : NULL;
    int rc = -ENOMEM;
    if (!p->slots || !p->status_msg || !p->zygote_path || (config->preload && !p->preload)) {
        snprintf(errbuf, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < p->nslots; i++)
        p->slots[i].fd_stdin = p->slots[i].fd_stdout = p->slots[i].fd_stderr =
            p->slots[i].fd_status = -1;

    bool root = geteuid() == 0;
    p->as_root = root;
    if (root && (rc = rb_job_uids_claim(&p->job_uids)) < 0) {
        snprintf(errbuf, errlen, "cannot claim a block of uids for the jobs: %s", strerror(-rc));
        goto fail;
    }
    const char *parent = config->workdir_root;
    if (!parent || !*parent)
        parent = getenv("TMPDIR");
    if (!parent || !*parent)
        parent = "/tmp";
    if ((rc = rb_workdir_root_create(parent, &p->root)) < 0) {
        snprintf(errbuf, errlen, "cannot create a working dir under %s: %s", parent, strerror(-rc));
        goto fail;
    }

    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    p->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (p->epfd < 0 || p->timerfd < 0) {
        rc = -errno;
        snprintf(errbuf, errlen, "epoll/timerfd: %s", strerror(errno));
        goto fail;
    }
    if ((rc = watch(p, p->timerfd, EPOLLIN, ev_data(EV_TIMER, 0, 0))) < 0) {
        snprintf(errbuf, errlen, "epoll_ctl: %s", strerror(-rc));
        goto fail;
    }
    if ((rc = rb_zygote_start(&p->zygote, p->zygote_path, p->preload, p->zygote_without, errbuf, errlen)) < 0)
        goto fail;
    if (!(p->zygote.flags & RBZ_HAVE_SECCOMP)) {
        snprintf(errbuf, errlen,
                 "this kernel has no seccomp filtering; runbox will not run untrusted code "
                 "without it");
        rc = -ENOSYS;
        goto fail;
    }
    if ((rc = watch(p, p->zygote.sock, EPOLLIN, ev_data(EV_ZYGOTE, 0, 0))) < 0) {
        snprintf(errbuf, errlen, "epoll_ctl: %s", strerror(-rc));
        goto fail;
    }
    *out = p;
    return 0;

fail:
    rb_pool_free(p);
    return rc;
}

int rb_pool_submit(rb_pool *p, const rb_job *job)
{
    if (!job || !job->id || !job->program)
        return -EINVAL;
    struct rb_pool_job *copy =
        rb_pool_job_new(job, &p->defaults, (const char *const *)p->python_path, p->npython_path);
    if (!copy)
        return -ENOMEM;
    if (p->broken) {
        deliver_internal(p, copy, p->broken_reason);
        rb_pool_job_free(copy);
        return 0;
    }
    if (p->busy < p->nslots) {
        start_in_slot(p, free_slot_index(p), copy);
        arm_timer(p);
    } else {
        enqueue(p, copy, false);
    }
    return 0;
}

int rb_pool_cancel(rb_pool *p, const void *user)
{
    int n = 0;
    for (struct rb_pool_job **link = &p->queue_head; *link;) {
        struct rb_pool_job *job = *link;
        if (job->user != user) {
            link = &job->next;
            continue;
        }
        *link = job->next;
        if (p->queue_tail == job)
            p->queue_tail = NULL;
        p->queued--;
        rb_pool_job_free(job);
        n++;
    }
    if (!p->queue_head)
        p->queue_tail = NULL;
    else
        for (p->queue_tail = p->queue_head; p->queue_tail->next;)
            p->queue_tail = p->queue_tail->next;
    for (size_t i = 0; i < p->nslots; i++) {
        struct slot *s = &p->slots[i];
        if (s->state == SLOT_FREE || s->job->user != user || s->job->cancelled)
            continue;
        /* Killed now; the slot frees itself as usual when the zygote reports
         * the exit, but nobody hears of the result. */
        s->job->cancelled = true;
        if (s->state != SLOT_EXITED)
            rb_zygote_send_kill(&p->zygote, s->seq);
        n++;
    }
    return n;
}

void rb_pool_counts(const rb_pool *p, struct rb_pool_counts *out)
{
    out->slots = p->nslots;
    out->running = p->busy;
    out->queued = p->queued;
    out->zygote_restarts = p->zygote_restarts;
    out->broken = p->broken;
}

uid_t rb_pool_job_uid_base(const rb_pool *p)
{
    return p->as_root ? p->job_uids.base : (uid_t)-1;
}

int rb_pool_layers(const rb_pool *p, rb_layers *out)
{
    memset(out, 0, sizeof *out);
    unsigned f = p->zygote.flags;
    out->seccomp = f & RBZ_HAVE_SECCOMP;
    out->landlock_abi = f & RBZ_HAVE_LANDLOCK ? p->zygote.landlock_abi : 0;
    out->user_namespace = f & RBZ_HAVE_USERNS;
    out->network_namespace = f & RBZ_HAVE_NETNS;
    out->pid_namespace = f & RBZ_HAVE_PIDNS;
    out->private_proc = f & RBZ_HAVE_PRIVATE_PROC;
    out->ipc_namespace = f & RBZ_HAVE_IPCNS;
    out->uts_namespace = f & RBZ_HAVE_UTSNS;
    out->privilege_drop = p->as_root;
    snprintf(out->python, sizeof out->python, "%s", p->zygote.version);
    snprintf(out->landlock_why, sizeof out->landlock_why, "%s", p->zygote.landlock_why);
    snprintf(out->namespaces_why, sizeof out->namespaces_why, "%s", p->zygote.namespaces_why);
    return 0;
}

size_t rb_pool_free_slots(const rb_pool *p)
{
    size_t used = p->busy + p->queued;
    return used >= p->nslots ? 0 : p->nslots - used;
}

size_t rb_pool_pending(const rb_pool *p)
{
    return p->busy + p->queued;
}

int rb_pool_run(rb_pool *p, int timeout_ms)
{
    struct epoll_event events[64];
    arm_timer(p);
    int n = epoll_wait(p->epfd, events, 64, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < n; i++)
        dispatch(p, &events[i]);
    arm_timer(p);
    return n;
}

int rb_pool_drain(rb_pool *p)
{
    while (rb_pool_pending(p) > 0) {
        int rc = rb_pool_run(p, -1);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int rb_pool_fd(const rb_pool *p)
{
    return p->epfd;
}

void rb_pool_free(rb_pool *p)
{
    if (!p)
        return;
    rb_zygote_stop(&p->zygote); /* its workers die with it */
    for (size_t i = 0; p->slots && i < p->nslots; i++) {
        struct slot *s = &p->slots[i];
        if (s->state != SLOT_FREE) {
            struct rb_pool_job *job = s->job;
            slot_clear(p, s);
            rb_pool_job_free(job);
        }
        rb_buf_free(&s->out.buf);
        rb_buf_free(&s->err.buf);
        rb_status_reader_free(&s->status);
        free(s->spare_workdir); /* the dir itself goes with the root */
        s->spare_workdir = NULL;
    }
    while (p->queue_head) {
        struct rb_pool_job *job = p->queue_head;
        p->queue_head = job->next;
        rb_pool_job_free(job);
    }
    rb_workdir_root_remove(&p->root);
    rb_job_uids_release(&p->job_uids);
    if (p->timerfd >= 0)
        close(p->timerfd);
    if (p->epfd >= 0)
        close(p->epfd);
    for (size_t i = 0; i < p->npython_path; i++)
        free(p->python_path[i]);
    free(p->python_path);
    free(p->slots);
    free(p->status_msg);
    free(p->zygote_path);
    free(p->preload);
    free(p);
}
