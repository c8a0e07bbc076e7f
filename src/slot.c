/*
 * A job in a slot of the pool (pool.h): started (its working dir, its spec,
 * a FORK message to the zygote), fed and drained as the loop wakes it,
 * killed at a deadline or an output cap, and finished once the zygote
 * reported its exit and its output was read to the end: then its record is
 * decided (verdict.c) and delivered, and the slot freed.
 *
 * A slot keeps its channels from job to job: a stdout pipe, a stderr pipe
 * and a status socket pair, made at its first job, watched by the loop from
 * then on. Each worker gets their write ends; the supervisor holds them too,
 * so a channel never reaches end-of-file: a job's output has all been read
 * when the zygote has reaped the worker (nothing else can hold the write
 * ends: a worker cannot fork or send a descriptor away, and the zygote
 * closes its copies at fork) and a read then finds the channel empty. That
 * saves a job 20-odd system calls (three pipes made, made non-blocking,
 * watched, unwatched, closed) and the wake-ups for end-of-file. Whenever a
 * job ends any other way (the zygote died, a start failed, runbox stops),
 * the channels are closed and the slot's next job makes new ones, so no
 * late write of a dying worker can reach another job. A job given no stdin
 * gets a pipe whose write end is closed, one for the whole pool.
 */
#define _GNU_SOURCE
#include "pool.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
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
#include <sys/wait.h>
#include <unistd.h>

#include "jobfiles.h"
#include "jobspec.h"
#include "status.h"
#include "verdict.h"
#include "util.h"
#include "jobuids.h"
#include "workdir.h"
#include "zygote_client.h"

static void deliver(rb_pool *p, const struct rb_pool_job *job, rb_result *r)
{
    /* The output pointers are never NULL, so a callback may memcpy them. */
    if (!r->stdout_data)
        r->stdout_data = "";
    if (!r->stderr_data)
        r->stderr_data = "";
    if (!job->cancelled)
        p->on_result(r, p->ctx);
}

void rb_slot_deliver_internal(rb_pool *p, struct rb_pool_job *job, const char *error)
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

static void close_pair(rb_pool *p, int pair[2])
{
    rb_pool_close_watched(p, &pair[0]);
    if (pair[1] >= 0)
        close(pair[1]);
    pair[1] = -1;
}

void rb_slot_close_channels(rb_pool *p, struct slot *s)
{
    close_pair(p, s->chan_out);
    close_pair(p, s->chan_err);
    close_pair(p, s->chan_status);
}

/* Our end of a pipe just made: its only status flag is O_NONBLOCK, so one
 * F_SETFL does (no F_GETFL first). The job's end stays blocking. */
static int pipe_nonblocking(int fd)
{
    return fcntl(fd, F_SETFL, O_NONBLOCK) < 0 ? -errno : 0;
}

/* The slot's channels, made at its first job or after they were closed. */
static int open_channels(rb_pool *p, size_t index)
{
    struct slot *s = &p->slots[index];
    if (s->chan_out[0] >= 0)
        return 0;
    int rc = 0;
    if (pipe2(s->chan_out, O_CLOEXEC) < 0 || pipe2(s->chan_err, O_CLOEXEC) < 0 ||
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s->chan_status) < 0)
        rc = -errno;
    if (rc == 0 && (rc = pipe_nonblocking(s->chan_out[0])) == 0 && (rc = pipe_nonblocking(s->chan_err[0])) == 0 &&
        (rc = pipe_nonblocking(s->chan_status[0])) == 0 &&
        (rc = rb_pool_watch(p, s->chan_out[0], EPOLLIN, rb_pool_ev_data(EV_STDOUT, index, 0))) == 0 &&
        (rc = rb_pool_watch(p, s->chan_err[0], EPOLLIN, rb_pool_ev_data(EV_STDERR, index, 0))) == 0)
        rc = rb_pool_watch(p, s->chan_status[0], EPOLLIN, rb_pool_ev_data(EV_STATUS, index, 0));
    if (rc < 0) /* unwatched fds close as watched ones do: EPOLL_CTL_DEL just fails */
        rb_slot_close_channels(p, s);
    return rc;
}

void rb_slot_clear(rb_pool *p, struct slot *s)
{
    rb_pool_close_watched(p, &s->fd_stdin);
    /* Kept only when the job ended as it should: reaped, its output all read. */
    bool clean = s->state == SLOT_EXITED && s->fd_stdout < 0 && s->fd_stderr < 0 && s->fd_status < 0;
    if (!clean)
        rb_slot_close_channels(p, s);
    s->fd_stdout = s->fd_stderr = s->fd_status = -1;
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

int rb_slot_start(rb_pool *p, size_t index, struct rb_pool_job *job)
{
    struct slot *s = &p->slots[index];
    int pin[2] = { -1, -1 };
    int spec = -1, rc;
    /* What was being done when a step failed, for the record: a step and
     * the path it was at, never a bare errno. */
    const char *step = "creating its working dir in", *at = p->root.path, *file = NULL;

    /* The capture buffers and the spare dir are kept from job to job;
     * everything else starts over... */
    struct capture out = s->out, err = s->err;
    struct rb_status_reader status = s->status;
    char *spare = s->spare_workdir;
    /* ...and so are the channels. */
    int chan[6] = { s->chan_out[0], s->chan_out[1], s->chan_err[0], s->chan_err[1], s->chan_status[0],
                    s->chan_status[1] };
    memset(s, 0, sizeof *s);
    s->spare_workdir = spare;
    s->out = out;
    s->err = err;
    s->status = status;
    memcpy(s->chan_out, chan, sizeof s->chan_out);
    memcpy(s->chan_err, chan + 2, sizeof s->chan_err);
    memcpy(s->chan_status, chan + 4, sizeof s->chan_status);
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
    if ((rc = open_channels(p, index)) < 0)
        goto fail;
    if (job->stdin_len > 0) {
        if (pipe2(pin, O_CLOEXEC) < 0) {
            rc = -errno;
            goto fail;
        }
        s->fd_stdin = pin[1];
        pin[1] = -1;
        if ((rc = pipe_nonblocking(s->fd_stdin)) < 0 ||
            (rc = rb_pool_watch(p, s->fd_stdin, EPOLLOUT, rb_pool_ev_data(EV_STDIN, index, s->seq))) < 0)
            goto fail;
    }
    s->fd_stdout = s->chan_out[0];
    s->fd_stderr = s->chan_err[0];
    s->fd_status = s->chan_status[0];

    int fds[RBZ_NFDS];
    fds[RBZ_FD_SPEC] = spec;
    fds[RBZ_FD_STDIN] = pin[0] >= 0 ? pin[0] : p->empty_stdin;
    fds[RBZ_FD_STDOUT] = s->chan_out[1];
    fds[RBZ_FD_STDERR] = s->chan_err[1];
    fds[RBZ_FD_STATUS] = s->chan_status[1];
    rc = rb_zygote_send_fork(&p->zygote, s->seq, fds);
    /* The zygote holds its own copies now (or never will). */
    close(spec);
    if (pin[0] >= 0)
        close(pin[0]);
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
    }
    if (spec >= 0)
        close(spec);
    rb_slot_clear(p, s);
    rb_slot_deliver_internal(p, job, msg);
    rb_pool_job_free(job);
    return rc;
}

void rb_slot_kill(rb_pool *p, size_t index, enum rb_kill_reason why, const char *stream)
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
        rb_slot_drain_status(p, index, false);
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
    /* The result points into the job's messages, which must outlive the
     * callback; the slot's reader starts afresh (keeping its pieces buffer)
     * before it, because the callback may submit a job that starts in this
     * very slot (eval's timing rule does). */
    struct rb_status_reader held = s->status;
    memset(&s->status, 0, sizeof s->status);
    s->status.pieces = held.pieces;
    memset(&held.pieces, 0, sizeof held.pieces);
    rb_slot_clear(p, s);
    deliver(p, job, &r);
    rb_tracked_files_free((rb_tracked_file *)r.tracked, r.ntracked);
    cJSON_free(namespace_json);
    free(checks);
    for (size_t i = 0; call_texts && i < ncalls; i++)
        cJSON_free(call_texts[i]);
    free(call_texts);
    free(calls);
    rb_status_reader_free(&held);
    rb_pool_job_free(job);
    rb_pool_start_queued(p);
}

void rb_slot_finish_if_done(rb_pool *p, size_t index)
{
    struct slot *s = &p->slots[index];
    if (s->state == SLOT_EXITED && s->fd_stdout < 0 && s->fd_stderr < 0 && s->fd_status < 0)
        finish(p, index);
}

/* ---- I/O ----------------------------------------------------------------- */

void rb_slot_feed_stdin(rb_pool *p, struct slot *s)
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
    rb_pool_close_watched(p, &s->fd_stdin);
}

/* A stream of the job is all read: no more to wait for. */
static void stream_done(rb_pool *p, size_t index, int *fd)
{
    *fd = -1;
    rb_slot_finish_if_done(p, index);
}

/* Reads what is there, up to the cap; past the cap the job is killed and the
 * rest is read and dropped. `all`: the worker is gone, so read to the end
 * (the pipe holds at most its capacity) and the stream is done. */
void rb_slot_drain(rb_pool *p, size_t index, int *fd, struct capture *c, const char *stream, bool all)
{
    char scratch[READ_CHUNK];
    for (int i = 0; all || i < READS_PER_EVENT; i++) {
        char *dst = scratch;
        size_t room = sizeof scratch;
        if (!c->truncated) {
            size_t want = c->limit + 1 - c->buf.len; /* one byte past the cap tells */
            if (want > READ_CHUNK)
                want = READ_CHUNK;
            if (rb_buf_reserve(&c->buf, want) == 0) {
                dst = c->buf.data + c->buf.len;
                room = want;
            } else {
                c->truncated = true; /* out of memory: the rest is dropped */
            }
        }
        ssize_t n = read(*fd, dst, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            /* Empty (EAGAIN) or, were the channel's write end ever gone,
             * at its end: done once the worker is. */
            if (all || n == 0 || errno != EAGAIN)
                stream_done(p, index, fd);
            return;
        }
        if (c->truncated)
            continue;
        c->buf.len += (size_t)n;
        if (c->buf.len > c->limit) {
            c->buf.len = c->limit;
            c->truncated = true;
            rb_slot_kill(p, index, RB_KILL_OUTPUT, stream);
        }
        c->buf.data[c->buf.len] = '\0';
    }
}

/* The status channel's messages, each taken or dropped as it comes
 * (status.h). A message of no bytes reads as 0 and is dropped: the channel
 * has no end-of-file (the slot holds its write end). */
void rb_slot_drain_status(rb_pool *p, size_t index, bool all)
{
    struct slot *s = &p->slots[index];
    const size_t cap = RBZ_NONCE_HEX + 1 + RBZ_STATUS_PAYLOAD_MAX;
    for (int i = 0; s->fd_status >= 0 && (all || i < READS_PER_EVENT * 4); i++) {
        ssize_t n = recv(s->fd_status, p->status_msg, cap + 1, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            if (all || errno != EAGAIN)
                stream_done(p, index, &s->fd_status);
            return;
        }
        if (n == 0)
            s->status.dropped++;
        else if ((size_t)n <= cap)
            rb_status_reader_take(&s->status, p->status_msg, (size_t)n);
        else
            s->status.dropped++; /* longer than any message of the worker */
    }
}

/* The zygote reaped the worker: nothing can write to the channels any
 * more, so what they hold is the rest of the job's output. */
void rb_slot_on_exit(rb_pool *p, size_t index)
{
    struct slot *s = &p->slots[index];
    rb_pool_close_watched(p, &s->fd_stdin);
    /* Status first: a verdict sent before an output flood came first. */
    if (s->fd_status >= 0)
        rb_slot_drain_status(p, index, true);
    if (s->state == SLOT_EXITED && s->fd_stdout >= 0)
        rb_slot_drain(p, index, &s->fd_stdout, &s->out, "stdout", true);
    if (s->state == SLOT_EXITED && s->fd_stderr >= 0)
        rb_slot_drain(p, index, &s->fd_stderr, &s->err, "stderr", true);
    if (s->state == SLOT_EXITED)
        rb_slot_finish_if_done(p, index);
}

/* Data on a slot's channel with no job reading it: impossible while only
 * reaped workers had the write ends, but never left to spin the loop. */
void rb_slot_discard(rb_pool *p, size_t index, enum event_kind kind)
{
    struct slot *s = &p->slots[index];
    int fd = kind == EV_STDOUT ? s->chan_out[0] : kind == EV_STDERR ? s->chan_err[0] : s->chan_status[0];
    char scratch[READ_CHUNK];
    for (int i = 0; fd >= 0 && i < READS_PER_EVENT; i++) {
        ssize_t n = kind == EV_STATUS ? recv(fd, scratch, sizeof scratch, MSG_DONTWAIT | MSG_TRUNC)
                                      : read(fd, scratch, sizeof scratch);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n < 0 || (n == 0 && kind != EV_STATUS)) {
            rb_slot_close_channels(p, s); /* broken: the next job makes new ones */
            return;
        }
    }
}
