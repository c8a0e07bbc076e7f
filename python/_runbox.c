/*
 * runbox._runbox: the engine under the Python package.
 *
 * Theory of operation. An Engine owns one rb_batch (src/batch.h), the same
 * driver `runbox run` uses, and one thread of its own, the loop thread, which
 * is the only thread that ever calls the batch (it is single-threaded, as the
 * pool is). The loop thread never touches Python: it runs without the GIL
 * for its whole life, so jobs keep starting, their pipes keep draining and
 * their deadlines keep firing however busy the calling interpreter is.
 *
 *   Python threads                      loop thread (no GIL)
 *   submit(line): parse the manifest    poll(batch fd, wake fd)
 *     line here, so a bad field is      take submissions and cancellations,
 *     raised at once; queue the job,    hand them to the batch
 *     write the eventfd          -----> rb_batch_run: records come back
 *   take(): wait on the condition <---- through on_record, printed to JSON
 *     variable, get (seq, record)       text, queued as completions
 *
 * A job's context in the batch is its sequence number (never reused), so a
 * cancellation that crosses the job's record on its way finds nothing to
 * cancel instead of another job.
 *
 * The loop thread creates the batch itself: the zygote's parent-death signal
 * is tied to the thread that forked it, so the zygote, and with it every job,
 * dies when this thread does, also when the whole process is killed. The
 * thread blocks every signal, so Ctrl-C reaches Python's main thread, and the
 * janitor it forks (workdir.c) outlives a Ctrl-C to the process group long
 * enough to remove the working dirs.
 *
 * Reference counts: every new reference is released on every path; borrowed
 * ones are marked where they are taken.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "manifest.h"
#include "results.h"
#include "runbox.h"

/* ---- queues between the Python threads and the loop thread ---------------- */

enum request_kind { REQ_SUBMIT, REQ_CANCEL };

struct request {
    struct request *next;
    enum request_kind kind;
    uint64_t seq;
    struct rb_manifest_job *job; /* REQ_SUBMIT: parsed, owned by the request */
};

struct completion {
    struct completion *next;
    uint64_t seq;
    char *text; /* the record as one line of JSON */
    size_t len;
};

/* Where the records of a set of jobs go: channel 0 is the dispatcher's (it
 * hands records to futures); Pool.run opens one of its own and takes its
 * records itself, without a thread in between. A job's channel is in the
 * top bits of its sequence number. */
#define CHANNEL_SHIFT 40
#define SEQ_MASK ((UINT64_C(1) << CHANNEL_SHIFT) - 1)

struct channel {
    struct channel *next;
    unsigned id;
    struct completion *head, *tail;
    pthread_cond_t ready;     /* records arrived, or the engine stopped */
    bool arrived;             /* publish: records came in this hand-over */
};

static void channel_init(struct channel *ch)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&ch->ready, &attr);
    pthread_condattr_destroy(&attr);
}

enum engine_state { ENGINE_STARTING, ENGINE_RUNNING, ENGINE_STOPPED };

typedef struct {
    PyObject_HEAD
    pid_t owner;         /* the process that started the thread */
    unsigned generation; /* fork_generation when it started */
    pthread_t thread;
    bool thread_started;
    bool joined;
    int wake_fd;         /* eventfd: requests queued, or stop */

    /* What the loop thread starts the batch with; owned here. */
    rb_pool_config config;
    char *workdir_root, *preload, *zygote_path;
    char **python_path;
    size_t npython_path;

    pthread_mutex_t lock;
    pthread_cond_t changed;   /* the state changed */
    /* Under `lock`: */
    enum engine_state state;
    bool stop;                /* close() asked the loop to end */
    bool loop_waits;          /* the loop sleeps in poll() with a free slot: a
                                 new job must wake it (when every slot is busy,
                                 the next job event wakes it anyway) */
    char error[1024];         /* why the engine stopped on its own, or "" */
    struct request *req_head, *req_tail;
    struct channel channels;  /* channel 0, then the ones opened */
    unsigned next_channel;
    rb_layers layers;

    /* Loop thread only: records not yet handed over (see publish). */
    struct completion *turn_head, *turn_tail;
    size_t nheld;
    int64_t held_since_ns;

    /* Under the GIL: */
    uint64_t next_seq;
} Engine;

static PyObject *EngineError; /* runbox.EngineError */

/* Bumped in every child fork() makes: an engine started before is not the
 * child's (checked without a getpid() system call per job). */
static volatile unsigned fork_generation;

static void after_fork_in_child(void)
{
    fork_generation++;
}

/* Whether `e` was started in this process, not inherited through fork(). */
#define OURS(e) ((e)->generation == fork_generation)

/* While every slot is busy, records are handed to Python in batches: at
 * most this many, or as old as this. Each hand-over wakes a Python thread,
 * which on a machine whose cores the jobs fill takes a core from a job or
 * from this loop; the jobs still queued in the pool keep its slots busy
 * meanwhile, so only the records' delivery waits, never a job. When a slot
 * is free nothing is held: someone may be waiting for that very record. */
#define HOLD_MAX 32
#define HOLD_NS (4 * 1000000LL)

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void request_free(struct request *r)
{
    if (r->job) {
        rb_manifest_job_free(r->job);
        free(r->job);
    }
    free(r);
}

static void completions_free(struct completion *c)
{
    while (c) {
        struct completion *next = c->next;
        free(c->text);
        free(c);
        c = next;
    }
}

static void wake(Engine *e)
{
    uint64_t one = 1;
    /* A full counter (it cannot fill in practice) still leaves it readable. */
    while (write(e->wake_fd, &one, sizeof one) < 0 && errno == EINTR)
        ;
}

/* ---- the loop thread ----------------------------------------------------- */

static void on_record(const cJSON *record, rb_status status, void *job_ctx, void *ctx)
{
    Engine *e = ctx;
    (void)status;
    struct completion *c = calloc(1, sizeof *c);
    if (!c)
        return; /* the job's future then fails when the engine closes */
    c->seq = (uint64_t)(uintptr_t)job_ctx;
    c->text = rb_record_print(record, &c->len);
    if (!c->text) {
        free(c);
        return;
    }
    if (e->turn_tail) {
        e->turn_tail->next = c;
    } else {
        e->turn_head = c;
        e->held_since_ns = now_ns();
    }
    e->turn_tail = c;
    e->nheld++;
}

static struct channel *find_channel(Engine *e, unsigned id)
{
    for (struct channel *ch = &e->channels; ch; ch = ch->next)
        if (ch->id == id)
            return ch;
    return NULL;
}

/* Hands the records held to the Python side, in one go, each to its
 * channel (a record whose channel was closed meanwhile is dropped). */
static void publish(Engine *e)
{
    if (!e->turn_head)
        return;
    struct completion *dropped = NULL;
    pthread_mutex_lock(&e->lock);
    struct channel *ch = &e->channels;
    for (struct completion *c = e->turn_head, *next; c; c = next) {
        next = c->next;
        c->next = NULL;
        unsigned id = (unsigned)(c->seq >> CHANNEL_SHIFT);
        if (ch->id != id)
            ch = find_channel(e, id);
        if (!ch) {
            c->next = dropped;
            dropped = c;
            ch = &e->channels;
            continue;
        }
        if (ch->tail)
            ch->tail->next = c;
        else
            ch->head = c;
        ch->tail = c;
        ch->arrived = true;
    }
    /* Only the channels that got records: the dispatcher sleeps on while
     * records go to a run() of its own channel. */
    for (ch = &e->channels; ch; ch = ch->next) {
        if (ch->arrived)
            pthread_cond_broadcast(&ch->ready);
        ch->arrived = false;
    }
    pthread_mutex_unlock(&e->lock);
    completions_free(dropped);
    e->turn_head = e->turn_tail = NULL;
    e->nheld = 0;
}

/* How long poll() may sleep: -1, or until the records held are due. */
static int publish_or_hold(Engine *e, bool busy)
{
    if (!e->turn_head)
        return -1;
    int64_t due = e->held_since_ns + HOLD_NS - now_ns();
    if (!busy || e->nheld >= HOLD_MAX || due <= 0) {
        publish(e);
        return -1;
    }
    return (int)(due / 1000000) + 1;
}

static void submit_to_batch(struct rb_batch *b, struct request *r)
{
    void *ctx = (void *)(uintptr_t)r->seq;
    char *id = strdup(r->job->job.id);
    int rc = rb_batch_submit(b, r->job, ctx);
    if (rc < 0) {
        /* The job could not be taken (no memory, a files path the pool
         * refuses): it still gets its one record, as in runbox run. */
        char msg[256];
        snprintf(msg, sizeof msg, "could not start the job: %s", strerror(-rc));
        rb_batch_reject(b, id, 0, msg, ctx);
    }
    free(id);
}

/* Takes every queued request; true when close() asked the loop to stop. */
static bool take_requests(Engine *e, struct rb_batch *b)
{
    pthread_mutex_lock(&e->lock);
    struct request *r = e->req_head;
    e->req_head = e->req_tail = NULL;
    bool stop = e->stop;
    pthread_mutex_unlock(&e->lock);
    while (r) {
        struct request *next = r->next;
        if (!stop && r->kind == REQ_SUBMIT)
            submit_to_batch(b, r);
        else if (!stop && r->kind == REQ_CANCEL)
            rb_batch_cancel(b, (const void *)(uintptr_t)r->seq);
        request_free(r);
        r = next;
    }
    return stop;
}

static void set_stopped(Engine *e, const char *why)
{
    pthread_mutex_lock(&e->lock);
    if (why && !e->error[0])
        snprintf(e->error, sizeof e->error, "%s", why);
    e->state = ENGINE_STOPPED;
    pthread_cond_broadcast(&e->changed);
    for (struct channel *ch = &e->channels; ch; ch = ch->next)
        pthread_cond_broadcast(&ch->ready);
    pthread_mutex_unlock(&e->lock);
}

static void *loop_main(void *arg)
{
    Engine *e = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);

    struct rb_batch *b = NULL;
    char err[512];
    if (rb_batch_new(&e->config, on_record, e, &b, err, sizeof err) < 0) {
        set_stopped(e, err);
        return NULL;
    }
    pthread_mutex_lock(&e->lock);
    rb_pool_layers(rb_batch_pool(b), &e->layers);
    e->state = ENGINE_RUNNING;
    pthread_cond_broadcast(&e->changed);
    pthread_mutex_unlock(&e->lock);

    const char *why = NULL;
    char why_buf[128];
    for (;;) {
        if (take_requests(e, b))
            break;
        int rc = rb_batch_run(b, 0);
        if (rc < 0) {
            publish(e);
            snprintf(why_buf, sizeof why_buf, "the event loop failed: %s", strerror(-rc));
            why = why_buf;
            break;
        }
        /* Submitting threads write the eventfd only when a new job could
         * start at once; a job queued behind busy slots waits for the event
         * that frees one, which wakes this loop anyway. Saves a wake-up per
         * job when the pool is full, which it is in a long run. */
        bool free_slot = rb_batch_free_slots(b) > 0;
        int wait_ms = publish_or_hold(e, !free_slot);
        pthread_mutex_lock(&e->lock);
        bool more = e->req_head != NULL || e->stop;
        e->loop_waits = !more && free_slot;
        pthread_mutex_unlock(&e->lock);
        if (more)
            continue;
        struct pollfd pfd[2] = {
            { .fd = rb_batch_fd(b), .events = POLLIN },
            { .fd = e->wake_fd, .events = POLLIN },
        };
        if (poll(pfd, 2, wait_ms) < 0 && errno != EINTR) {
            snprintf(why_buf, sizeof why_buf, "poll: %s", strerror(errno));
            why = why_buf;
            break;
        }
        if (pfd[1].revents & POLLIN) {
            uint64_t n;
            if (read(e->wake_fd, &n, sizeof n) < 0 && errno != EAGAIN)
                break;
        }
    }
    /* Kills whatever is still in flight: those jobs get no record. Records
     * already out are handed over (a close() does not wait for them). */
    rb_batch_free(b);
    publish(e);
    set_stopped(e, why);
    return NULL;
}

/* ---- Engine: construction ------------------------------------------------- */

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int Engine_init(Engine *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = { "workers", "zygote", "workdir", "preload", "python_path",
                              "landlock", "namespaces", "verbose", NULL };
    int workers = 0, landlock = 1, namespaces = 1, verbose = 0;
    const char *zygote = NULL, *workdir = NULL, *preload = NULL;
    PyObject *python_path = NULL;
    if (self->thread_started) {
        PyErr_SetString(PyExc_RuntimeError, "an Engine is initialised once");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|$iszzOppp", kwlist, &workers, &zygote, &workdir,
                                     &preload, &python_path, &landlock, &namespaces, &verbose))
        return -1;
    if (workers < 0 || workers > 4096) {
        PyErr_Format(PyExc_ValueError, "workers must be from 1 to 4096 (0: one per CPU), not %d", workers);
        return -1;
    }
    self->zygote_path = dup_or_null(zygote);
    self->workdir_root = dup_or_null(workdir);
    self->preload = dup_or_null(preload);
    if (python_path && python_path != Py_None) {
        PyObject *seq = PySequence_Fast(python_path, "python_path must be a sequence of strings");
        if (!seq)
            return -1;
        Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
        self->python_path = calloc((size_t)n + 1, sizeof *self->python_path);
        for (Py_ssize_t i = 0; self->python_path && i < n; i++) {
            PyObject *item = PySequence_Fast_GET_ITEM(seq, i); /* borrowed */
            const char *s = PyUnicode_Check(item) ? PyUnicode_AsUTF8(item) : NULL;
            if (!s) {
                Py_DECREF(seq);
                if (!PyErr_Occurred())
                    PyErr_SetString(PyExc_TypeError, "python_path must be a sequence of strings");
                return -1;
            }
            self->python_path[self->npython_path++] = strdup(s);
        }
        Py_DECREF(seq);
    }
    self->config.jobs = workers;
    self->config.zygote_path = self->zygote_path;
    self->config.workdir_root = self->workdir_root;
    self->config.preload = self->preload;
    self->config.python_path = (const char *const *)self->python_path;
    self->config.npython_path = self->npython_path;
    self->config.no_landlock = !landlock;
    self->config.no_namespaces = !namespaces;
    self->config.verbose = verbose;

    self->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (self->wake_fd < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    /* As `runbox run` does: no job may read this process's memory (other
     * jobs' inputs and outputs) through /proc, and no core dump writes it. */
    prctl(PR_SET_DUMPABLE, 0);

    self->owner = getpid();
    self->generation = fork_generation;
    int rc;
    bool started = false;
    Py_BEGIN_ALLOW_THREADS
    rc = pthread_create(&self->thread, NULL, loop_main, self);
    if (rc == 0) {
        pthread_mutex_lock(&self->lock);
        while (self->state == ENGINE_STARTING)
            pthread_cond_wait(&self->changed, &self->lock);
        started = self->state == ENGINE_RUNNING;
        pthread_mutex_unlock(&self->lock);
    }
    Py_END_ALLOW_THREADS
    if (rc != 0) {
        errno = rc;
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    self->thread_started = true;
    if (!started) {
        Py_BEGIN_ALLOW_THREADS
        pthread_join(self->thread, NULL);
        Py_END_ALLOW_THREADS
        self->joined = true;
        PyErr_SetString(EngineError, self->error);
        return -1;
    }
    return 0;
}

static PyObject *Engine_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    Engine *self = (Engine *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    self->wake_fd = -1;
    pthread_mutex_init(&self->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&self->changed, &attr);
    channel_init(&self->channels);
    pthread_condattr_destroy(&attr);
    self->next_seq = 1;
    return (PyObject *)self;
}

/* An engine is only usable in the process that started its thread: after
 * fork() the child has a copy of its memory but no loop thread, and the
 * zygote it talks to is the parent's. */
static int check_usable(Engine *self)
{
    if (!self->thread_started) {
        PyErr_SetString(EngineError, "the engine was not started");
        return -1;
    }
    if (!OURS(self)) {
        PyErr_Format(EngineError,
                     "this pool belongs to process %d; a forked child must create a pool of its own",
                     (int)self->owner);
        return -1;
    }
    return 0;
}

/* Stops the loop (which kills what is in flight) and waits for it. */
static void engine_stop(Engine *self)
{
    if (!self->thread_started || self->joined || !OURS(self))
        return;
    pthread_mutex_lock(&self->lock);
    self->stop = true;
    pthread_mutex_unlock(&self->lock);
    wake(self);
    Py_BEGIN_ALLOW_THREADS
    pthread_join(self->thread, NULL);
    Py_END_ALLOW_THREADS
    self->joined = true;
}

static void Engine_dealloc(Engine *self)
{
    if (OURS(self) || !self->thread_started) {
        engine_stop(self);
        struct request *r = self->req_head;
        while (r) {
            struct request *next = r->next;
            request_free(r);
            r = next;
        }
        completions_free(self->channels.head);
        for (struct channel *ch = self->channels.next, *next; ch; ch = next) {
            next = ch->next;
            completions_free(ch->head);
            pthread_cond_destroy(&ch->ready);
            free(ch);
        }
        if (self->wake_fd >= 0)
            close(self->wake_fd);
        for (size_t i = 0; i < self->npython_path; i++)
            free(self->python_path[i]);
        free(self->python_path);
        free(self->zygote_path);
        free(self->workdir_root);
        free(self->preload);
        pthread_cond_destroy(&self->changed);
        pthread_cond_destroy(&self->channels.ready);
        pthread_mutex_destroy(&self->lock);
    }
    /* In a forked child everything above belongs to the parent's thread,
     * which does not exist here: left as it is. */
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* ---- Engine: methods ------------------------------------------------------ */

/* The manifest's message without its "line N: " prefix: a Python job has no line. */
static const char *without_line_prefix(const char *msg)
{
    if (strncmp(msg, "line ", 5) == 0) {
        const char *colon = strstr(msg, ": ");
        if (colon)
            return colon + 2;
    }
    return msg;
}

static int enqueue(Engine *self, struct request *r)
{
    pthread_mutex_lock(&self->lock);
    bool open = self->state == ENGINE_RUNNING && !self->stop;
    bool wake_loop = open && self->loop_waits;
    if (open) {
        if (self->req_tail)
            self->req_tail->next = r;
        else
            self->req_head = r;
        self->req_tail = r;
        self->loop_waits = false; /* one wake-up is enough */
    }
    pthread_mutex_unlock(&self->lock);
    if (!open)
        return -1;
    if (wake_loop)
        wake(self);
    return 0;
}

static PyObject *engine_closed_error(Engine *self)
{
    pthread_mutex_lock(&self->lock);
    if (self->error[0])
        PyErr_Format(EngineError, "the pool stopped: %s", self->error);
    else
        PyErr_SetString(EngineError, "the pool is closed");
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

PyDoc_STRVAR(submit_doc,
"submit(line, base_dir, channel=0, /) -> int\n\n"
"Parses one manifest line (bytes, UTF-8 JSON) and queues the job; returns\n"
"its sequence number. A line that is not a valid job raises ValueError with\n"
"the manifest's message. Relative paths are taken from base_dir. The\n"
"job's record goes to the channel (see open_channel).");

static PyObject *Engine_submit(Engine *self, PyObject *args)
{
    const char *line, *base_dir;
    Py_ssize_t len;
    unsigned channel = 0;
    if (!PyArg_ParseTuple(args, "y#s|I:submit", &line, &len, &base_dir, &channel))
        return NULL;
    if (check_usable(self) < 0)
        return NULL;
    if (channel > 0xffffff) {
        PyErr_Format(PyExc_ValueError, "no channel %u", channel);
        return NULL;
    }
    struct request *r = calloc(1, sizeof *r);
    struct rb_manifest_job *job = calloc(1, sizeof *job);
    if (!r || !job) {
        free(r);
        free(job);
        return PyErr_NoMemory();
    }
    /* Under the GIL, so Python threads never parse at once (cJSON keeps the
     * position of its last error in a global; only its column could be
     * wrong, and json.dumps never writes a line it would refuse). */
    struct rb_manifest_error err;
    int rc = rb_manifest_parse_line(line, (size_t)len, 1, base_dir, job, &err);
    if (rc <= 0) {
        if (rc == 0)
            PyErr_SetString(PyExc_ValueError, "a job cannot be blank");
        else
            PyErr_SetString(PyExc_ValueError, without_line_prefix(err.message));
        rb_manifest_error_free(&err);
        rb_manifest_job_free(job);
        free(job);
        free(r);
        return NULL;
    }
    r->kind = REQ_SUBMIT;
    r->job = job;
    r->seq = ((uint64_t)channel << CHANNEL_SHIFT) | (self->next_seq++ & SEQ_MASK);
    uint64_t seq = r->seq;
    if (enqueue(self, r) < 0) {
        request_free(r);
        return engine_closed_error(self);
    }
    return PyLong_FromUnsignedLongLong(seq);
}

PyDoc_STRVAR(cancel_doc,
"cancel(seqs, /) -> None\n\n"
"Drops the jobs with these sequence numbers: queued ones never start,\n"
"running ones are killed, and none of them has a record. A number whose\n"
"record is already out is ignored.");

static PyObject *Engine_cancel(Engine *self, PyObject *seqs)
{
    if (check_usable(self) < 0)
        return NULL;
    PyObject *seq = PySequence_Fast(seqs, "cancel() takes a sequence of job numbers");
    if (!seq)
        return NULL;
    struct request *head = NULL, *tail = NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned long long v = PyLong_AsUnsignedLongLong(PySequence_Fast_GET_ITEM(seq, i)); /* borrowed item */
        if (v == (unsigned long long)-1 && PyErr_Occurred())
            goto fail;
        struct request *r = calloc(1, sizeof *r);
        if (!r) {
            PyErr_NoMemory();
            goto fail;
        }
        r->kind = REQ_CANCEL;
        r->seq = v;
        if (tail)
            tail->next = r;
        else
            head = r;
        tail = r;
    }
    Py_DECREF(seq);
    if (!head)
        Py_RETURN_NONE;
    pthread_mutex_lock(&self->lock);
    bool open = self->state == ENGINE_RUNNING && !self->stop;
    if (open) {
        if (self->req_tail)
            self->req_tail->next = head;
        else
            self->req_head = head;
        self->req_tail = tail;
    }
    pthread_mutex_unlock(&self->lock);
    if (open)
        wake(self);
    else
        while (head) {
            struct request *next = head->next;
            request_free(head);
            head = next;
        }
    Py_RETURN_NONE; /* a closed engine has nothing left to cancel */

fail:
    Py_DECREF(seq);
    while (head) {
        struct request *next = head->next;
        request_free(head);
        head = next;
    }
    return NULL;
}

PyDoc_STRVAR(take_doc,
"take(timeout=None, channel=0, interruptible=True, /) -> list[tuple[int, bytes]] | None\n\n"
"Waits until records of the channel's jobs are out (or timeout seconds\n"
"pass) and returns them as (sequence number, record as JSON) pairs, [] on a\n"
"timeout, or None once the engine has stopped and every record was taken.\n"
"When interruptible, Python's signal handlers run during the wait (in the\n"
"main thread, a Ctrl-C raises KeyboardInterrupt from here).");

/* How long take() sleeps before it looks at Python's signals again. */
#define TAKE_SLICE_NS (100 * 1000000LL)

static struct timespec monotonic_in(int64_t ns)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    int64_t at = (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec + ns;
    t.tv_sec = (time_t)(at / 1000000000LL);
    t.tv_nsec = (long)(at % 1000000000LL);
    return t;
}

static PyObject *Engine_take(Engine *self, PyObject *args)
{
    PyObject *timeout_obj = Py_None;
    unsigned channel = 0;
    int interruptible = 1;
    if (!PyArg_ParseTuple(args, "|OIp:take", &timeout_obj, &channel, &interruptible))
        return NULL;
    if (check_usable(self) < 0)
        return NULL;
    int64_t left_ns = -1;
    if (timeout_obj != Py_None) {
        double timeout = PyFloat_AsDouble(timeout_obj);
        if (timeout == -1 && PyErr_Occurred())
            return NULL;
        left_ns = timeout > 0 ? (int64_t)(timeout * 1e9) : 0;
    }
    struct completion *got = NULL;
    bool stopped = false, known = true;
    for (;;) {
        /* A slice at a time: between slices, Python's signal handlers run
         * (a Ctrl-C raises KeyboardInterrupt here, in the main thread). */
        int64_t slice = left_ns >= 0 && (left_ns < TAKE_SLICE_NS || !interruptible) ? left_ns
                        : interruptible ? TAKE_SLICE_NS : -1;
        Py_BEGIN_ALLOW_THREADS
        struct timespec until = monotonic_in(slice > 0 ? slice : 0);
        pthread_mutex_lock(&self->lock);
        struct channel *ch = find_channel(self, channel);
        while (ch && !ch->head && self->state != ENGINE_STOPPED) {
            if (slice < 0)
                pthread_cond_wait(&ch->ready, &self->lock);
            else if (pthread_cond_timedwait(&ch->ready, &self->lock, &until) == ETIMEDOUT)
                break;
            ch = find_channel(self, channel);
        }
        if (ch) {
            got = ch->head;
            ch->head = ch->tail = NULL;
        }
        known = ch != NULL;
        stopped = self->state == ENGINE_STOPPED;
        pthread_mutex_unlock(&self->lock);
        Py_END_ALLOW_THREADS
        if (got || stopped || !known)
            break;
        if (slice < 0 || (left_ns >= 0 && (left_ns -= slice) <= 0))
            break;
        if (interruptible && PyErr_CheckSignals() < 0)
            return NULL;
    }
    if (!known) {
        PyErr_Format(PyExc_ValueError, "no channel %u", channel);
        return NULL;
    }
    if (!got && stopped)
        Py_RETURN_NONE;
    PyObject *list = PyList_New(0);
    for (struct completion *c = got; list && c; c = c->next) {
        PyObject *pair = Py_BuildValue("(Ky#)", (unsigned long long)c->seq, c->text, (Py_ssize_t)c->len);
        if (!pair || PyList_Append(list, pair) < 0)
            Py_CLEAR(list);
        Py_XDECREF(pair);
    }
    completions_free(got);
    return list;
}

PyDoc_STRVAR(open_channel_doc,
"open_channel() -> int\n\n"
"A new channel: the records of jobs submitted with it are taken with\n"
"take(timeout, channel), not with the default channel's.");

static PyObject *Engine_open_channel(Engine *self, PyObject *unused)
{
    (void)unused;
    if (check_usable(self) < 0)
        return NULL;
    struct channel *ch = calloc(1, sizeof *ch);
    if (!ch)
        return PyErr_NoMemory();
    channel_init(ch);
    pthread_mutex_lock(&self->lock);
    do
        ch->id = ++self->next_channel & 0xffffff;
    while (ch->id == 0 || find_channel(self, ch->id));
    ch->next = self->channels.next;
    self->channels.next = ch;
    pthread_mutex_unlock(&self->lock);
    return PyLong_FromUnsignedLong(ch->id);
}

PyDoc_STRVAR(close_channel_doc,
"close_channel(channel, /) -> None\n\n"
"Forgets a channel and the records in it; records of its jobs that come\n"
"later are dropped. Called by the thread that takes from the channel (no\n"
"take() may wait on it meanwhile).");

static PyObject *Engine_close_channel(Engine *self, PyObject *arg)
{
    unsigned long id = PyLong_AsUnsignedLong(arg);
    if (id == (unsigned long)-1 && PyErr_Occurred())
        return NULL;
    if (id == 0) {
        PyErr_SetString(PyExc_ValueError, "channel 0 stays open");
        return NULL;
    }
    struct channel *gone = NULL;
    pthread_mutex_lock(&self->lock);
    for (struct channel **p = &self->channels.next; *p; p = &(*p)->next) {
        if ((*p)->id == id) {
            gone = *p;
            *p = gone->next;
            break;
        }
    }
    pthread_mutex_unlock(&self->lock);
    if (gone) {
        completions_free(gone->head);
        pthread_cond_destroy(&gone->ready);
        free(gone);
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(close_doc,
"close() -> None\n\n"
"Stops the engine: every job still queued or running is dropped (running\n"
"ones killed), the zygote stops and the working dirs are removed. Waits\n"
"until all of that is done. Calling it again does nothing.");

static PyObject *Engine_close(Engine *self, PyObject *unused)
{
    (void)unused;
    if (self->thread_started && !OURS(self))
        Py_RETURN_NONE; /* the parent's engine: not ours to stop */
    engine_stop(self);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(layers_doc,
"layers() -> dict\n\n"
"The sandbox layers this engine's jobs run under, and the interpreter's\n"
"version, as the zygote reported them.");

static PyObject *Engine_layers(Engine *self, PyObject *unused)
{
    (void)unused;
    if (check_usable(self) < 0)
        return NULL;
    pthread_mutex_lock(&self->lock);
    rb_layers l = self->layers;
    pthread_mutex_unlock(&self->lock);
    return Py_BuildValue(
        "{s:O,s:i,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:s,s:s,s:s}",
        "seccomp", l.seccomp ? Py_True : Py_False,
        "landlock_abi", l.landlock_abi,
        "user_namespace", l.user_namespace ? Py_True : Py_False,
        "network_namespace", l.network_namespace ? Py_True : Py_False,
        "pid_namespace", l.pid_namespace ? Py_True : Py_False,
        "private_proc", l.private_proc ? Py_True : Py_False,
        "ipc_namespace", l.ipc_namespace ? Py_True : Py_False,
        "uts_namespace", l.uts_namespace ? Py_True : Py_False,
        "privilege_drop", l.privilege_drop ? Py_True : Py_False,
        "python", l.python,
        "landlock_why", l.landlock_why,
        "namespaces_why", l.namespaces_why);
}

static PyObject *Engine_get_closed(Engine *self, void *unused)
{
    (void)unused;
    pthread_mutex_lock(&self->lock);
    bool closed = self->state == ENGINE_STOPPED || self->stop;
    pthread_mutex_unlock(&self->lock);
    return PyBool_FromLong(closed || !OURS(self));
}

static PyObject *Engine_get_error(Engine *self, void *unused)
{
    (void)unused;
    pthread_mutex_lock(&self->lock);
    PyObject *why = self->error[0] ? PyUnicode_FromString(self->error) : Py_NewRef(Py_None);
    pthread_mutex_unlock(&self->lock);
    return why;
}

static PyMethodDef Engine_methods[] = {
    { "submit", (PyCFunction)Engine_submit, METH_VARARGS, submit_doc },
    { "cancel", (PyCFunction)Engine_cancel, METH_O, cancel_doc },
    { "take", (PyCFunction)Engine_take, METH_VARARGS, take_doc },
    { "open_channel", (PyCFunction)Engine_open_channel, METH_NOARGS, open_channel_doc },
    { "close_channel", (PyCFunction)Engine_close_channel, METH_O, close_channel_doc },
    { "close", (PyCFunction)Engine_close, METH_NOARGS, close_doc },
    { "layers", (PyCFunction)Engine_layers, METH_NOARGS, layers_doc },
    { NULL, NULL, 0, NULL },
};

static PyGetSetDef Engine_getset[] = {
    { "closed", (getter)Engine_get_closed, NULL, "True once the engine stopped or is stopping.", NULL },
    { "error", (getter)Engine_get_error, NULL, "Why the engine stopped on its own, or None.", NULL },
    { NULL, NULL, NULL, NULL, NULL },
};

PyDoc_STRVAR(Engine_doc,
"Engine(*, workers=0, zygote=None, workdir=None, preload=None, python_path=None,\n"
"       landlock=True, namespaces=True, verbose=False)\n\n"
"One batch of runbox's C engine, driven by a thread of its own without the\n"
"GIL. The low layer under runbox.Pool; use that instead.");

static PyTypeObject EngineType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "runbox._runbox.Engine",
    .tp_basicsize = sizeof(Engine),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = Engine_doc,
    .tp_new = Engine_new,
    .tp_init = (initproc)Engine_init,
    .tp_dealloc = (destructor)Engine_dealloc,
    .tp_methods = Engine_methods,
    .tp_getset = Engine_getset,
};

/* ---- the module ------------------------------------------------------------ */

PyDoc_STRVAR(check_doc,
"check(line, base_dir, /) -> None\n\n"
"Parses one manifest line as Engine.submit does, without running it: raises\n"
"ValueError with the manifest's message when it is not a valid job.");

static PyObject *module_check(PyObject *mod, PyObject *args)
{
    (void)mod;
    const char *line, *base_dir;
    Py_ssize_t len;
    if (!PyArg_ParseTuple(args, "y#s:check", &line, &len, &base_dir))
        return NULL;
    struct rb_manifest_job job;
    struct rb_manifest_error err;
    int rc = rb_manifest_parse_line(line, (size_t)len, 1, base_dir, &job, &err);
    rb_manifest_job_free(&job);
    if (rc <= 0) {
        PyErr_SetString(PyExc_ValueError, rc == 0 ? "a job cannot be blank" : without_line_prefix(err.message));
        rb_manifest_error_free(&err);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    { "check", module_check, METH_VARARGS, check_doc },
    { NULL, NULL, 0, NULL },
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "runbox._runbox",
    .m_doc = "The C engine under the runbox package: one batch of sandboxed jobs per Engine.",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__runbox(void);

PyMODINIT_FUNC PyInit__runbox(void)
{
    if (PyType_Ready(&EngineType) < 0)
        return NULL;
    static bool atfork_registered;
    if (!atfork_registered && pthread_atfork(NULL, NULL, after_fork_in_child) == 0)
        atfork_registered = true;
    PyObject *m = PyModule_Create(&module);
    if (!m)
        return NULL;
    size_t nfields;
    const char *const *names = rb_manifest_field_names(&nfields);
    PyObject *fields = PyTuple_New((Py_ssize_t)nfields);
    for (size_t i = 0; fields && i < nfields; i++) {
        PyObject *name = PyUnicode_FromString(names[i]);
        if (!name) {
            Py_CLEAR(fields);
            break;
        }
        PyTuple_SET_ITEM(fields, (Py_ssize_t)i, name); /* steals `name` */
    }
    if (!fields || PyModule_AddObject(m, "MANIFEST_FIELDS", fields) < 0) {
        Py_XDECREF(fields);
        Py_DECREF(m);
        return NULL;
    }
    EngineError = PyErr_NewExceptionWithDoc(
        "runbox.EngineError", "The pool could not start, or stopped: the message says why.",
        PyExc_RuntimeError, NULL);
    if (!EngineError || PyModule_AddObjectRef(m, "EngineError", EngineError) < 0 ||
        PyModule_AddObjectRef(m, "Engine", (PyObject *)&EngineType) < 0 ||
        PyModule_AddStringConstant(m, "VERSION", RB_VERSION) < 0 ||
        PyModule_AddStringConstant(m, "PYTHON_EXECUTABLE", RB_PYTHON_EXECUTABLE) < 0 ||
        PyModule_AddStringConstant(m, "PYTHON_VERSION", RB_PYTHON_VERSION) < 0) {
        Py_XDECREF(EngineError);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
