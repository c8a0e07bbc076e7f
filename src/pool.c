/*
 * The pool: the supervisor's event loop (slot.c runs each job in it).
 *
 * Theory of operation. A pool owns one zygote and `jobs` slots, each with
 * its channels (a stdout and a stderr pipe and a status socket, kept from
 * job to job: slot.c). Starting a job means: create its working dir, write
 * its spec into a sealed memfd, make a stdin pipe if it has input, and send
 * the zygote a FORK message carrying the spec and the worker's ends. One
 * epoll set watches everything: the zygote's socket (FORKED, EXITED), the
 * channels of every slot, and a timerfd armed for the nearest deadline.
 * Nothing here blocks on a job: stdin is written as the pipe takes it (a job
 * may print megabytes before reading), and stdout/stderr are drained as they
 * fill, each up to its cap, past which the job is killed.
 *
 * A job ends when the zygote has reported its exit: what its channels still
 * hold is then the rest of its output, read at once; only then is the result
 * assembled (the status record, read from its own socket, is what the main
 * module said before any shutdown code ran) and delivered, and the working
 * dir emptied.
 *
 * No signal handlers: process exits arrive as messages from the zygote, which
 * is the workers' parent. Killing goes through the zygote too, which kills
 * the process group before reaping its leader, so a pid is never reused
 * under our feet.
 */
#define _GNU_SOURCE
#include "pool.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "jobspec.h"
#include "status.h"
#include "verdict.h"
#include "util.h"
#include "jobuids.h"
#include "poolcounts.h"
#include "workdir.h"
#include "zygote_client.h"

/* ---- epoll bookkeeping ------------------------------------------------- */

/* Event data: kind in bits 0-3, slot index in 4-23, the job's seq in 24-63,
 * so an event queued for a slot's previous job is recognised as stale. */
uint64_t rb_pool_ev_data(enum event_kind kind, size_t slot, uint64_t seq)
{
    return (uint64_t)kind | ((uint64_t)slot << 4) | (seq << 24);
}

int rb_pool_watch(rb_pool *p, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev = { .events = events, .data.u64 = data };
    return epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

void rb_pool_close_watched(rb_pool *p, int *fd)
{
    if (*fd < 0)
        return;
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, *fd, NULL);
    close(*fd);
    *fd = -1;
}

static size_t free_slot_index(const rb_pool *p)
{
    for (size_t i = 0; i < p->nslots; i++)
        if (p->slots[i].state == SLOT_FREE)
            return i;
    return p->nslots;
}

void rb_pool_start_queued(rb_pool *p)
{
    while (p->queue_head && p->busy < p->nslots && !p->broken) {
        struct rb_pool_job *job = p->queue_head;
        p->queue_head = job->next;
        if (!p->queue_head)
            p->queue_tail = NULL;
        p->queued--;
        job->next = NULL;
        rb_slot_start(p, free_slot_index(p), job);
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
    return INT64_MAX;
}

void rb_pool_arm_timer(rb_pool *p)
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
    rb_slot_clear(p, s);
    rb_slot_deliver_internal(p, job, msg);
    rb_pool_job_free(job);
    rb_pool_start_queued(p);
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
    rb_slot_on_exit(p, i);
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
        rb_slot_clear(p, s);
        rb_slot_deliver_internal(p, job, why);
        rb_pool_job_free(job);
    }
    while (p->queue_head) {
        struct rb_pool_job *job = p->queue_head;
        p->queue_head = job->next;
        p->queued--;
        rb_slot_deliver_internal(p, job, why);
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
        rb_slot_clear(p, s);
        if (job->cancelled) {
            rb_pool_job_free(job);
        } else if (job->attempts < MAX_ATTEMPTS) {
            enqueue(p, job, true);
        } else {
            rb_slot_deliver_internal(p, job, "the zygote died twice while this job ran");
            rb_pool_job_free(job);
        }
    }
    char err[512];
    /* The death MAX_ZYGOTE_RESTARTS before this one, if there was one, was
     * within the window: too often. */
    int64_t now = rb_now_ns();
    int64_t *oldest = &p->recent_restarts[p->zygote_restarts % MAX_ZYGOTE_RESTARTS];
    if (p->zygote_restarts >= MAX_ZYGOTE_RESTARTS && now - *oldest < ZYGOTE_RESTART_WINDOW_NS) {
        fail_everything(p, "the zygote died more than 5 times in a minute; giving up");
        return;
    }
    *oldest = now;
    p->zygote_restarts++;
    if (rb_zygote_start(&p->zygote, p->zygote_path, p->preload, p->zygote_without, err, sizeof err) < 0 ||
        rb_pool_watch(p, p->zygote.sock, EPOLLIN, rb_pool_ev_data(EV_ZYGOTE, 0, 0)) < 0) {
        char why[600];
        snprintf(why, sizeof why, "could not restart the zygote: %s", err);
        fail_everything(p, why);
        return;
    }
    if (p->verbose)
        fprintf(stderr, "runbox: the zygote died and was restarted\n");
    rb_pool_start_queued(p);
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
        if (s->state == SLOT_RUNNING && s->killed == RB_KILL_NONE && now >= s->deadline_ns)
            rb_slot_kill(p, i, RB_KILL_TIMEOUT, NULL);
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
    if (kind == EV_STDIN) {
        /* A job's own pipe: its events carry the job's seq. */
        if (s->state != SLOT_FREE && (s->seq & ((1ull << 40) - 1)) == seq && s->fd_stdin >= 0)
            rb_slot_feed_stdin(p, s);
        return;
    }
    /* The slot's channels belong to whichever job holds the slot; with none
     * (nothing can write then), whatever is there is read and dropped. */
    bool reading = s->state != SLOT_FREE && (kind == EV_STDOUT   ? s->fd_stdout >= 0
                                             : kind == EV_STDERR ? s->fd_stderr >= 0
                                                                 : s->fd_status >= 0);
    if (!reading) {
        rb_slot_discard(p, index, kind);
        return;
    }
    if (kind == EV_STDOUT)
        rb_slot_drain(p, index, &s->fd_stdout, &s->out, "stdout", false);
    else if (kind == EV_STDERR)
        rb_slot_drain(p, index, &s->fd_stderr, &s->err, "stderr", false);
    else if (kind == EV_STATUS)
        rb_slot_drain_status(p, index, false);
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
    p->empty_stdin = -1;
    for (size_t i = 0; i < p->nslots; i++) {
        struct slot *s = &p->slots[i];
        s->fd_stdin = s->fd_stdout = s->fd_stderr = s->fd_status = -1;
        s->chan_out[0] = s->chan_out[1] = s->chan_err[0] = s->chan_err[1] = -1;
        s->chan_status[0] = s->chan_status[1] = -1;
    }
    int empty[2];
    if (pipe2(empty, O_CLOEXEC) < 0) {
        rc = -errno;
        snprintf(errbuf, errlen, "pipe: %s", strerror(errno));
        goto fail;
    }
    close(empty[1]);
    p->empty_stdin = empty[0];

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
    if ((rc = rb_pool_watch(p, p->timerfd, EPOLLIN, rb_pool_ev_data(EV_TIMER, 0, 0))) < 0) {
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
    if ((rc = rb_pool_watch(p, p->zygote.sock, EPOLLIN, rb_pool_ev_data(EV_ZYGOTE, 0, 0))) < 0) {
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
        rb_slot_deliver_internal(p, copy, p->broken_reason);
        rb_pool_job_free(copy);
        return 0;
    }
    if (p->busy < p->nslots) {
        rb_slot_start(p, free_slot_index(p), copy);
        rb_pool_arm_timer(p);
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
    rb_pool_arm_timer(p);
    int n = epoll_wait(p->epfd, events, 64, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < n; i++)
        dispatch(p, &events[i]);
    rb_pool_arm_timer(p);
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
            rb_slot_clear(p, s);
            rb_pool_job_free(job);
        }
        rb_slot_close_channels(p, s);
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
    if (p->empty_stdin >= 0)
        close(p->empty_stdin);
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
