/* The batch driver run and eval share (driver.h). */
#define _GNU_SOURCE
#include "driver.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "lines.h"

enum {
    OPT_TIMEOUT = RB_DRIVER_OPT_BASE, OPT_CPU, OPT_MEMORY, OPT_OUTPUT_LIMIT, OPT_RESUME, OPT_OVERWRITE,
    OPT_WORKDIR, OPT_PRELOAD, OPT_PYTHON_PATH, OPT_NO_LANDLOCK, OPT_NO_NAMESPACES, OPT_STATS, OPT_SHARD,
    OPT_TABLE, OPT_NO_TABLE,
};

static const struct option DRIVER_LONGOPTS[] = {
    { "output", required_argument, NULL, 'o' },
    { "jobs", required_argument, NULL, 'j' },
    { "timeout", required_argument, NULL, OPT_TIMEOUT },
    { "cpu-time", required_argument, NULL, OPT_CPU },
    { "memory", required_argument, NULL, OPT_MEMORY },
    { "output-limit", required_argument, NULL, OPT_OUTPUT_LIMIT },
    { "resume", no_argument, NULL, OPT_RESUME },
    { "overwrite", no_argument, NULL, OPT_OVERWRITE },
    { "workdir", required_argument, NULL, OPT_WORKDIR },
    { "preload", required_argument, NULL, OPT_PRELOAD },
    { "python-path", required_argument, NULL, OPT_PYTHON_PATH },
    { "no-landlock", no_argument, NULL, OPT_NO_LANDLOCK },
    { "no-namespaces", no_argument, NULL, OPT_NO_NAMESPACES },
    { "stats", required_argument, NULL, OPT_STATS },
    { "shard", required_argument, NULL, OPT_SHARD },
    { "table", no_argument, NULL, OPT_TABLE },
    { "no-table", no_argument, NULL, OPT_NO_TABLE },
    { "quiet", no_argument, NULL, 'q' },
    { "verbose", no_argument, NULL, 'v' },
};

#define NDRIVER (sizeof DRIVER_LONGOPTS / sizeof DRIVER_LONGOPTS[0])

const char RB_DRIVER_USAGE[] =
    "  -j, --jobs N           in flight at once (default: the number of CPUs)\n"
    "      --memory MB        memory limit per job (default 1024)\n"
    "      --cpu-time S       CPU limit per job in seconds (default: the timeout)\n"
    "      --output-limit KB  cap on each of stdout and stderr (default 1024)\n"
    "      --resume           carry on with an interrupted batch's results file\n"
    "      --overwrite        replace an existing results file\n"
    "      --workdir DIR      where the per-job working dirs go (default $TMPDIR or /tmp)\n"
    "      --preload MODS     comma-separated modules to import once, before any job\n"
    "      --python-path DIR  an import root for every job (repeatable)\n"
    "      --no-landlock      leave out the Landlock layer (see runbox doctor)\n"
    "      --no-namespaces    leave out the namespaces layer\n"
    "      --stats FILE       at the end, write what the batch cost as JSON (- for stderr)\n"
    "      --shard SPEC       only this shard's share: I/N (0 <= I < N), slurm[:N] or k8s[:N]\n"
    "      --table, --no-table  a line per job for a person on stdout (default: when\n"
    "                         stdout is a terminal; records then go to the results file)\n"
    "  -q, --quiet            no progress, table or summary\n"
    "  -v, --verbose          diagnostics of runbox itself on stderr\n";

struct option *rb_driver_longopts(const struct option *own)
{
    size_t n = 0;
    while (own[n].name)
        n++;
    struct option *all = calloc(NDRIVER + n + 1, sizeof *all);
    if (!all)
        return NULL;
    memcpy(all, DRIVER_LONGOPTS, sizeof DRIVER_LONGOPTS);
    memcpy(all + NDRIVER, own, n * sizeof *own);
    return all;
}

bool rb_cli_parse_seconds(const char *flag, const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v > 0) || v > 7 * 24 * 3600.0) {
        rb_cli_error("%s: expected seconds (a number above 0), got '%s'", flag, text);
        return false;
    }
    *out = v;
    return true;
}

bool rb_cli_parse_long(const char *flag, const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        rb_cli_error("%s: expected a whole number from %ld to %ld, got '%s'", flag, min, max, text);
        return false;
    }
    *out = v;
    return true;
}

#define MAX_PYTHON_PATH 64

static int add_python_path(struct rb_driver_options *o, const char *dir)
{
    static const char *paths[MAX_PYTHON_PATH];
    char *abs = realpath(dir, NULL);
    if (!abs) {
        rb_cli_error("--python-path: '%s': %s", dir, strerror(errno));
        return RB_EXIT_USAGE;
    }
    if (o->pool.npython_path == MAX_PYTHON_PATH) {
        rb_cli_error("--python-path: at most %d directories", MAX_PYTHON_PATH);
        free(abs);
        return RB_EXIT_USAGE;
    }
    paths[o->pool.npython_path++] = abs; /* lives as long as the process */
    o->pool.python_path = paths;
    return 1;
}

int rb_driver_take_option(int c, const char *arg, struct rb_driver_options *o)
{
    long n;
    rb_limits *l = &o->pool.defaults;
    switch (c) {
    case 'o': o->output = arg; return 1;
    case 'j':
        if (!rb_cli_parse_long("--jobs", arg, 1, 4096, &n))
            return RB_EXIT_USAGE;
        o->pool.jobs = (int)n;
        return 1;
    case OPT_TIMEOUT: return rb_cli_parse_seconds("--timeout", arg, &l->timeout) ? 1 : RB_EXIT_USAGE;
    case OPT_CPU: return rb_cli_parse_seconds("--cpu-time", arg, &l->cpu_time) ? 1 : RB_EXIT_USAGE;
    case OPT_MEMORY:
        return rb_cli_parse_long("--memory", arg, 1, 1024L * 1024, &l->memory_mb) ? 1 : RB_EXIT_USAGE;
    case OPT_OUTPUT_LIMIT:
        return rb_cli_parse_long("--output-limit", arg, 1, 1024L * 1024, &l->output_limit_kb) ? 1 : RB_EXIT_USAGE;
    case OPT_RESUME: o->resume = true; return 1;
    case OPT_OVERWRITE: o->overwrite = true; return 1;
    case OPT_WORKDIR: o->pool.workdir_root = arg; return 1;
    case OPT_PRELOAD: o->pool.preload = arg; return 1;
    case OPT_PYTHON_PATH: return add_python_path(o, arg);
    case OPT_NO_LANDLOCK: o->pool.no_landlock = true; return 1;
    case OPT_NO_NAMESPACES: o->pool.no_namespaces = true; return 1;
    case OPT_STATS: o->stats = arg; return 1;
    case OPT_SHARD: {
        char why[256];
        if (rb_shard_parse(arg, &o->shard, why, sizeof why) < 0) {
            rb_cli_error("%s", why);
            return RB_EXIT_USAGE;
        }
        return 1;
    }
    case OPT_TABLE: o->table = 1; return 1;
    case OPT_NO_TABLE: o->table = 0; return 1;
    case 'q': o->quiet = true; return 1;
    case 'v': o->pool.verbose = true; return 1;
    default: return 0;
    }
}

/* ---- the results file ------------------------------------------------------ */

/* Hands every complete line to `each`; drops a torn last line, or the rest
 * of the file from the first line `each` refuses. */
static int resume_lines(struct rb_results_file *f, bool quiet, rb_results_line_fn each, void *ctx)
{
    struct rb_line_reader r;
    rb_line_reader_init(&r, f->fd);
    off_t good_end = 0;
    const char *line;
    size_t len;
    int rc;
    while ((rc = rb_line_reader_next(&r, &line, &len)) == 1) {
        if (!rb_line_reader_complete(&r, line, len))
            break;
        rc = each ? each(ctx, line, len) : 0;
        if (rc != 0)
            break;
        good_end += (off_t)len + 1;
    }
    rb_line_reader_free(&r);
    if (rc < 0)
        return rc;
    off_t size = lseek(f->fd, 0, SEEK_END);
    if (size > good_end) {
        if (!quiet)
            rb_cli_error("dropping the last %lld bytes of %s (a line cut by a crash, or not a record); "
                         "what they held runs again", (long long)(size - good_end), f->name);
        if (ftruncate(f->fd, good_end) < 0)
            return -errno;
    }
    return 0;
}

int rb_results_open(struct rb_results_file *f, const char *path, bool resume, bool overwrite, bool quiet,
                    rb_results_line_fn each, void *ctx)
{
    if (strcmp(path, "-") == 0) {
        f->fd = STDOUT_FILENO;
        f->name = NULL;
        return 0;
    }
    f->name = path;
    int flags = O_RDWR | O_CREAT | O_CLOEXEC | (!resume && !overwrite ? O_EXCL : 0);
    /* 0600: the results hold every job's output. Without Landlock, as root,
     * jobs run under uids of their own and would otherwise read them (the
     * path is in runbox's command line, which /proc shows to anyone). */
    int fd = open(path, flags, 0600);
    if (fd < 0 && errno == EEXIST) {
        struct stat sb;
        if (stat(path, &sb) == 0 && sb.st_size == 0) {
            fd = open(path, O_RDWR | O_CLOEXEC);
        } else {
            rb_cli_error("results file '%s' already exists; use --resume to continue it or "
                         "--overwrite to replace it", path);
            return -EEXIST;
        }
    }
    if (fd < 0) {
        int e = errno;
        rb_cli_error("cannot open results file '%s': %s", path, strerror(e));
        return -e;
    }
    f->fd = fd;
    int rc = 0;
    if (overwrite && ftruncate(fd, 0) < 0)
        rc = -errno;
    else if (resume)
        rc = resume_lines(f, quiet, each, ctx);
    /* Append from here on: every record lands after the last complete one. */
    int fl = rc == 0 ? fcntl(fd, F_GETFL) : -1;
    if (rc == 0 && (fl < 0 || fcntl(fd, F_SETFL, fl | O_APPEND) < 0))
        rc = -errno;
    if (rc < 0) {
        rb_cli_error("cannot %s results file '%s': %s", resume ? "read" : "prepare", path, strerror(-rc));
        close(fd);
        f->fd = -1;
    }
    return rc;
}

void rb_results_close(struct rb_results_file *f)
{
    if (f->fd > STDERR_FILENO)
        close(f->fd);
    f->fd = -1;
}

/* ---- the loop ------------------------------------------------------------- */

int rb_driver_prepare_process(void)
{
    /* The supervisor's memory must stay its own: not dumpable, so no job can
     * read it through /proc; a subreaper, so nothing a job starts can slip
     * away from the batch. */
    prctl(PR_SET_DUMPABLE, 0);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    signal(SIGPIPE, SIG_IGN);
    /* Signals are read in the loop, never handled in a handler. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -errno;
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

/* Submits work while there are free slots: false when the loop must stop. */
static bool feed_batch(struct rb_driver *d, bool *input_done, bool *waiting)
{
    *waiting = false;
    while (!*input_done && rb_batch_free_slots(d->batch) > 0 && !*d->write_error) {
        int rc = d->feed ? d->feed(d->ctx) : 0;
        if (rc == -EAGAIN) {
            *waiting = true;
            return true;
        }
        if (rc == RB_FEED_FAILED)
            return false;
        if (rc <= 0)
            *input_done = true;
    }
    return true;
}

int rb_driver_run(struct rb_driver *d)
{
    static const int no_error = 0;
    if (!d->write_error)
        d->write_error = &no_error;
    bool input_done = false, waiting = false;
    int status = RB_EXIT_OK;
    while (!*d->write_error) {
        if (d->deferred && d->deferred(d->ctx) == RB_FEED_FAILED)
            status = RB_EXIT_FAILURE;
        if (!feed_batch(d, &input_done, &waiting)) {
            status = RB_EXIT_FAILURE;
            input_done = true;
            if (rb_batch_pending(d->batch) == 0)
                break;
        }
        if (input_done && rb_batch_pending(d->batch) == 0)
            break;
        struct pollfd pfd[3] = {
            { .fd = rb_batch_fd(d->batch), .events = POLLIN },
            { .fd = d->sigfd, .events = POLLIN },
            { .fd = d->input_fd, .events = POLLIN },
        };
        int n = poll(pfd, waiting && d->input_fd >= 0 ? 3 : 2, rb_progress_wait_ms(d->progress));
        if (n < 0 && errno != EINTR) {
            rb_progress_clear(d->progress);
            rb_cli_error("poll: %s", strerror(errno));
            return RB_EXIT_FAILURE;
        }
        if (n > 0 && (pfd[1].revents & POLLIN))
            return RB_EXIT_INTERRUPTED;
        int rc = rb_batch_run(d->batch, 0);
        if (rc < 0) {
            rb_progress_clear(d->progress);
            rb_cli_error("event loop: %s", strerror(-rc));
            return RB_EXIT_FAILURE;
        }
        rb_progress_tick(d->progress, false);
    }
    return *d->write_error ? RB_EXIT_FAILURE : status;
}
