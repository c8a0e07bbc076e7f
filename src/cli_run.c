/*
 * `runbox run`: the main job. Reads the manifest as a stream, keeps the pool
 * full, writes one result line per job as it ends.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
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

#include "batch.h"
#include "cli.h"
#include "idset.h"
#include "manifest.h"
#include "progress.h"
#include "results.h"
#include "shard.h"
#include "stats.h"
#include "runbox.h"
#include "util.h"

static const char RUN_USAGE[] =
    "Usage: runbox run MANIFEST [options]\n"
    "\n"
    "Runs every job of MANIFEST (JSON lines; - for stdin), each in its own\n"
    "sandboxed process, and writes one JSON result line per job as it ends.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE      results file (- for stdout, the default)\n"
    "  -j, --jobs N           jobs in flight (default: the number of CPUs)\n"
    "      --timeout S        wall-clock limit per job in seconds (default 10)\n"
    "      --cpu-time S       CPU limit per job in seconds (default: the timeout)\n"
    "      --memory MB        memory limit per job (default 1024)\n"
    "      --output-limit KB  cap on each of stdout and stderr (default 1024)\n"
    "      --resume           skip jobs whose ids are already in the results file\n"
    "      --overwrite        replace an existing results file\n"
    "      --workdir DIR      where the per-job working dirs go (default $TMPDIR or /tmp)\n"
    "      --preload MODS     comma-separated modules to import once, before any job\n"
    "      --python-path DIR  an import root for every job (repeatable)\n"
    "      --no-landlock      leave out the Landlock layer (see runbox doctor)\n"
    "      --no-namespaces    leave out the namespaces layer\n"
    "      --stats FILE       at the end, write what the batch cost as JSON (- for stderr)\n"
    "      --shard SPEC       run only this shard's jobs: I/N (0 <= I < N), slurm[:N] or k8s[:N]\n"
    "  -q, --quiet            no progress and no summary on stderr\n"
    "  -v, --verbose          diagnostics of runbox itself on stderr\n"
    "  -h, --help             this text\n"
    "\n"
    "Job fields override the limits given here. Exit status: 0 when the batch ran\n"
    "(whatever the jobs did), 1 when runbox could not run it, 2 for bad usage,\n"
    "130 when interrupted. See docs/manifest.md and docs/results.md.\n";

struct run_options {
    const char *manifest;
    const char *output;
    rb_pool_config pool;
    bool resume;
    bool overwrite;
    bool quiet;
    const char *stats;
    struct rb_shard shard;
};

struct run_state {
    struct run_options opt;
    struct rb_batch *batch;
    struct rb_stats stats;
    int results_fd;
    const char *results_name;
    struct rb_progress progress;
    struct rb_idset seen; /* ids of the manifest so far, with their line numbers */
    struct rb_idset done; /* ids already in the results file (--resume) */
    int write_error;      /* first failure writing results, or 0 */
};

/* ---- options ------------------------------------------------------------- */

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

enum { OPT_TIMEOUT = 256, OPT_CPU, OPT_MEMORY, OPT_OUTPUT_LIMIT, OPT_RESUME, OPT_OVERWRITE,
       OPT_WORKDIR, OPT_PRELOAD, OPT_PYTHON_PATH, OPT_NO_LANDLOCK, OPT_NO_NAMESPACES, OPT_STATS, OPT_SHARD };

#define MAX_PYTHON_PATH 64

static int parse_options(int argc, char **argv, struct run_options *o)
{
    static const struct option longopts[] = {
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
        { "quiet", no_argument, NULL, 'q' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    long n;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:j:qvh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': o->output = optarg; break;
        case 'j':
            if (!rb_cli_parse_long("--jobs", optarg, 1, 4096, &n))
                return RB_EXIT_USAGE;
            o->pool.jobs = (int)n;
            break;
        case OPT_TIMEOUT:
            if (!rb_cli_parse_seconds("--timeout", optarg, &o->pool.defaults.timeout))
                return RB_EXIT_USAGE;
            break;
        case OPT_CPU:
            if (!rb_cli_parse_seconds("--cpu-time", optarg, &o->pool.defaults.cpu_time))
                return RB_EXIT_USAGE;
            break;
        case OPT_MEMORY:
            if (!rb_cli_parse_long("--memory", optarg, 1, 1024L * 1024, &o->pool.defaults.memory_mb))
                return RB_EXIT_USAGE;
            break;
        case OPT_OUTPUT_LIMIT:
            if (!rb_cli_parse_long("--output-limit", optarg, 1, 1024L * 1024,
                                   &o->pool.defaults.output_limit_kb))
                return RB_EXIT_USAGE;
            break;
        case OPT_RESUME: o->resume = true; break;
        case OPT_OVERWRITE: o->overwrite = true; break;
        case OPT_WORKDIR: o->pool.workdir_root = optarg; break;
        case OPT_PRELOAD: o->pool.preload = optarg; break;
        case OPT_NO_LANDLOCK: o->pool.no_landlock = true; break;
        case OPT_NO_NAMESPACES: o->pool.no_namespaces = true; break;
        case OPT_STATS: o->stats = optarg; break;
        case OPT_SHARD: {
            char why[256];
            if (rb_shard_parse(optarg, &o->shard, why, sizeof why) < 0) {
                rb_cli_error("%s", why);
                return RB_EXIT_USAGE;
            }
            break;
        }
        case OPT_PYTHON_PATH: {
            static const char *paths[MAX_PYTHON_PATH];
            char *abs = realpath(optarg, NULL);
            if (!abs) {
                rb_cli_error("--python-path: '%s': %s", optarg, strerror(errno));
                return RB_EXIT_USAGE;
            }
            if (o->pool.npython_path == MAX_PYTHON_PATH) {
                rb_cli_error("--python-path: at most %d directories", MAX_PYTHON_PATH);
                free(abs);
                return RB_EXIT_USAGE;
            }
            paths[o->pool.npython_path++] = abs; /* lives as long as the process */
            o->pool.python_path = paths;
            break;
        }
        case 'q': o->quiet = true; break;
        case 'v': o->pool.verbose = true; break;
        case 'h': fputs(RUN_USAGE, stdout); return RB_EXIT_OK;
        case ':':
            rb_cli_error("option '%s' needs a value", argv[optind - 1]);
            return RB_EXIT_USAGE;
        default:
            rb_cli_error("unknown option '%s'", argv[optind - 1]);
            fputs("Try 'runbox run --help'.\n", stderr);
            return RB_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        rb_cli_error(optind == argc ? "no manifest given" : "one manifest at a time, got %d",
                     argc - optind);
        fputs("Try 'runbox run --help'.\n", stderr);
        return RB_EXIT_USAGE;
    }
    o->manifest = argv[optind];
    if (!o->output)
        o->output = "-";
    if (o->resume && strcmp(o->output, "-") == 0) {
        rb_cli_error("--resume needs a results file (-o FILE)");
        return RB_EXIT_USAGE;
    }
    if (o->resume && o->overwrite) {
        rb_cli_error("--resume and --overwrite exclude each other");
        return RB_EXIT_USAGE;
    }
    return -1;
}

/* ---- the results file ---------------------------------------------------- */

/* A key for an invalid line that had no usable id, so --resume does not
 * report it twice. Ids cannot start with a NUL byte. */
static size_t line_key(char *buf, size_t len, long line_no)
{
    int n = snprintf(buf, len, "%cline:%ld", '\0', line_no);
    return (size_t)n;
}

/* Reads the ids already in the results file, dropping a torn last line (a
 * crash mid-write): its job runs again. */
static int load_done_ids(struct run_state *st, int fd)
{
    struct rb_line_reader r;
    rb_line_reader_init(&r, fd);
    off_t good_end = 0;
    long kept = 0, unreadable = 0;
    const char *line;
    size_t len;
    int rc;
    while ((rc = rb_line_reader_next(&r, &line, &len)) == 1) {
        /* A line is complete when its newline is there; the reader returns a
         * newline-less last line at EOF, which is the torn one. */
        bool complete = line + len < r.buf.data + r.buf.len;
        if (!complete)
            break;
        good_end += (off_t)len + 1;
        cJSON *rec = rb_record_parse(line, len);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(rec, "id");
        const cJSON *ln = cJSON_GetObjectItemCaseSensitive(rec, "line");
        if (cJSON_IsString(id)) {
            rb_idset_add(&st->done, id->valuestring, strlen(id->valuestring), 0, NULL);
            kept++;
        } else if (cJSON_IsNull(id) && cJSON_IsNumber(ln)) {
            char key[64];
            rb_idset_add(&st->done, key, line_key(key, sizeof key, (long)ln->valuedouble), 0, NULL);
            kept++;
        } else if (len > 0) {
            unreadable++;
        }
        cJSON_Delete(rec);
    }
    rb_line_reader_free(&r);
    if (rc < 0)
        return rc;
    off_t size = lseek(fd, 0, SEEK_END);
    if (size > good_end) {
        if (!st->opt.quiet)
            rb_cli_error("dropping a torn last line of %s (%lld bytes); its job runs again",
                         st->results_name, (long long)(size - good_end));
        if (ftruncate(fd, good_end) < 0)
            return -errno;
    }
    if (unreadable && !st->opt.quiet)
        rb_cli_error("%ld line(s) of %s are not result records; kept as they are", unreadable,
                     st->results_name);
    (void)kept;
    return 0;
}

static int open_results(struct run_state *st)
{
    const struct run_options *o = &st->opt;
    if (strcmp(o->output, "-") == 0) {
        st->results_fd = STDOUT_FILENO;
        st->results_name = NULL;
        return 0;
    }
    st->results_name = o->output;
    int flags = O_RDWR | O_CREAT | O_CLOEXEC;
    if (!o->resume && !o->overwrite)
        flags |= O_EXCL;
    /* 0600: the results hold every job's output. Without Landlock, as root,
     * jobs run under uids of their own and would otherwise read them (the
     * path is in runbox's command line, which /proc shows to anyone). */
    int fd = open(o->output, flags, 0600);
    if (fd < 0 && errno == EEXIST) {
        struct stat sb;
        if (stat(o->output, &sb) == 0 && sb.st_size == 0) {
            fd = open(o->output, O_RDWR | O_CLOEXEC);
        } else {
            rb_cli_error("results file '%s' already exists; use --resume to continue it or "
                         "--overwrite to replace it", o->output);
            return -EEXIST;
        }
    }
    if (fd < 0) {
        rb_cli_error("cannot open results file '%s': %s", o->output, strerror(errno));
        return -errno;
    }
    if (o->overwrite && ftruncate(fd, 0) < 0) {
        rb_cli_error("cannot truncate '%s': %s", o->output, strerror(errno));
        close(fd);
        return -errno;
    }
    if (o->resume) {
        int rc = load_done_ids(st, fd);
        if (rc < 0) {
            rb_cli_error("cannot read results file '%s': %s", o->output, strerror(-rc));
            close(fd);
            return rc;
        }
    }
    /* Append from here on: every record lands after the last complete one. */
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_APPEND) < 0) {
        close(fd);
        return -errno;
    }
    st->results_fd = fd;
    return 0;
}

static void write_record(struct run_state *st, const cJSON *rec)
{
    if (st->write_error)
        return;
    int rc = rec ? rb_record_write(st->results_fd, rec) : -ENOMEM;
    if (rc < 0)
        st->write_error = rc;
}

static void on_record(const cJSON *rec, rb_status status, void *job_ctx, void *ctx)
{
    struct run_state *st = ctx;
    (void)job_ctx;
    write_record(st, rec);
    rb_progress_count(&st->progress, status);
    rb_progress_tick(&st->progress, false);
}

static void on_run(const rb_result *r, void *ctx)
{
    struct run_state *st = ctx;
    rb_stats_add(&st->stats, r);
}

static void write_invalid(struct run_state *st, const char *id, long line_no, const char *message)
{
    rb_batch_reject(st->batch, id, line_no, message, NULL);
}

/* ---- the manifest -------------------------------------------------------- */

/* A regular file that starts as gzip does is read through zlib, from its
 * start (the copy of the descriptor shares its offset). Pipes are not:
 * their bytes cannot be looked at first (zcat them instead). */
static gzFile open_gzip_manifest(int fd)
{
    struct stat sb;
    unsigned char magic[2];
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || pread(fd, magic, 2, 0) != 2 || magic[0] != 0x1f ||
        magic[1] != 0x8b || lseek(fd, 0, SEEK_SET) < 0)
        return NULL;
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    gzFile gz = copy >= 0 ? gzdopen(copy, "rb") : NULL;
    if (!gz && copy >= 0)
        close(copy);
    return gz;
}

/* Jobs in a gzip manifest, for the progress line: one pass through it,
 * after which the manifest is read again from its start. */
static long count_gzip_jobs(int fd)
{
    gzFile gz = open_gzip_manifest(fd);
    if (!gz)
        return -1;
    long n = rb_gz_count_lines(gz);
    gzclose(gz);
    return n;
}

static long count_jobs(int fd)
{
    struct stat sb;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))
        return -1;
    char buf[1 << 16];
    long lines = 0;
    bool content = false;
    off_t off = 0;
    for (;;) {
        ssize_t n = pread(fd, buf, sizeof buf, off);
        if (n <= 0)
            break;
        off += n;
        for (ssize_t i = 0; i < n; i++) {
            char c = buf[i];
            if (c == '\n') {
                lines += content;
                content = false;
            } else if (c != ' ' && c != '\t' && c != '\r') {
                content = true;
            }
        }
    }
    return lines + content;
}

static char *manifest_base_dir(const char *manifest)
{
    if (strcmp(manifest, "-") == 0)
        return getcwd(NULL, 0);
    char *copy = strdup(manifest);
    if (!copy)
        return NULL;
    char *dir = realpath(dirname(copy), NULL);
    free(copy);
    return dir;
}

/* Handles one manifest line: an invalid record, a skip, or a submitted job. */
static void take_line(struct run_state *st, const char *base_dir, const char *line, size_t len,
                      long line_no)
{
    struct rb_manifest_job job;
    struct rb_manifest_error err;
    char key[64];
    int rc = rb_manifest_parse_line(line, len, line_no, base_dir, &job, &err);
    if (rc == 0)
        return;
    /* Sharded: a job belongs to the shard of its id; a line without a
     * usable id, to the shard of its text. Other shards' lines are not ours
     * to run, count or report. */
    const char *shard_key = rc > 0 ? job.job.id : err.id ? err.id : line;
    size_t shard_keylen = rc > 0 || err.id ? strlen(shard_key) : len;
    if (!rb_shard_mine(&st->opt.shard, shard_key, shard_keylen)) {
        rb_manifest_error_free(&err);
        rb_manifest_job_free(&job);
        return;
    }
    if (rc < 0) {
        const char *id = err.id;
        /* An invalid line keeps its id unless the id is itself the problem:
         * a later valid line with that id is then the duplicate. */
        if (id && rb_idset_add(&st->seen, id, strlen(id), (uint64_t)line_no, NULL) == 0)
            id = NULL;
        bool already = id ? rb_idset_contains(&st->done, id, strlen(id))
                          : rb_idset_contains(&st->done, key, line_key(key, sizeof key, line_no));
        if (already)
            st->progress.skipped++;
        else
            write_invalid(st, id, line_no, err.message);
        rb_manifest_error_free(&err);
        rb_manifest_job_free(&job);
        return;
    }
    uint64_t first = 0;
    size_t idlen = strlen(job.job.id);
    if (rb_idset_add(&st->seen, job.job.id, idlen, (uint64_t)line_no, &first) == 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "line %ld: duplicate id '%.100s' (first on line %llu)", line_no,
                 job.job.id, (unsigned long long)first);
        if (rb_idset_contains(&st->done, key, line_key(key, sizeof key, line_no)))
            st->progress.skipped++;
        else
            write_invalid(st, NULL, line_no, msg);
    } else if (rb_idset_contains(&st->done, job.job.id, idlen)) {
        st->progress.skipped++;
    } else {
        char *id = strdup(job.job.id);
        if ((rc = rb_batch_submit(st->batch, &job, NULL)) < 0) {
            char msg[128];
            snprintf(msg, sizeof msg, "line %ld: could not start the job: %s", line_no, strerror(-rc));
            write_invalid(st, id, line_no, msg);
        }
        free(id);
    }
    rb_manifest_job_free(&job);
}

/* ---- the loop ------------------------------------------------------------ */

static int block_termination_signals(void)
{
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

static int run_batch(struct run_state *st, int manifest_fd, gzFile gz, const char *base_dir, int sigfd)
{
    struct rb_line_reader reader;
    if (gz)
        rb_line_reader_init_gz(&reader, gz);
    else
        rb_line_reader_init(&reader, manifest_fd);
    bool manifest_done = false, waiting_for_input = false, interrupted = false;
    int status = RB_EXIT_OK;

    while (!interrupted && !st->write_error) {
        waiting_for_input = false;
        while (!manifest_done && rb_batch_free_slots(st->batch) > 0 && !st->write_error) {
            const char *line;
            size_t len;
            int rc = rb_line_reader_next(&reader, &line, &len);
            if (rc == -EAGAIN) {
                waiting_for_input = true;
                break;
            }
            if (rc < 0) {
                rb_progress_clear(&st->progress);
                if (reader.line_no > 0)
                    rb_cli_error("reading the manifest after line %ld: %s", reader.line_no,
                                 rb_line_reader_strerror(rc));
                else
                    rb_cli_error("reading the manifest: %s", rb_line_reader_strerror(rc));
                status = RB_EXIT_FAILURE;
                manifest_done = true;
                break;
            }
            if (rc == 0) {
                manifest_done = true;
                break;
            }
            if (reader.line_no == 1 && len >= 2 && (unsigned char)line[0] == 0x1f && (unsigned char)line[1] == 0x8b) {
                rb_progress_clear(&st->progress);
                rb_cli_error("the manifest on standard input is gzip-compressed: give runbox the file's "
                             "path, or pipe it through zcat");
                status = RB_EXIT_FAILURE;
                manifest_done = true;
                break;
            }
            take_line(st, base_dir, line, len, reader.line_no);
        }
        if (manifest_done && rb_batch_pending(st->batch) == 0)
            break;

        struct pollfd pfd[3] = {
            { .fd = rb_batch_fd(st->batch), .events = POLLIN },
            { .fd = sigfd, .events = POLLIN },
            { .fd = manifest_fd, .events = POLLIN },
        };
        int n = poll(pfd, waiting_for_input ? 3 : 2, rb_progress_wait_ms(&st->progress));
        if (n < 0 && errno != EINTR) {
            rb_cli_error("poll: %s", strerror(errno));
            status = RB_EXIT_FAILURE;
            break;
        }
        if (n > 0 && (pfd[1].revents & POLLIN))
            interrupted = true;
        int rc = rb_batch_run(st->batch, 0);
        if (rc < 0) {
            rb_cli_error("event loop: %s", strerror(-rc));
            status = RB_EXIT_FAILURE;
            break;
        }
        rb_progress_tick(&st->progress, false);
    }
    rb_line_reader_free(&reader);
    if (st->write_error) {
        rb_progress_clear(&st->progress);
        rb_cli_error("writing results to %s: %s", st->results_name ? st->results_name : "stdout",
                     strerror(-st->write_error));
        status = RB_EXIT_FAILURE;
    }
    if (interrupted)
        status = RB_EXIT_INTERRUPTED;
    return status;
}

int rb_cli_run(int argc, char **argv)
{
    struct run_state st;
    memset(&st, 0, sizeof st);
    st.results_fd = -1;
    int status = parse_options(argc, argv, &st.opt);
    if (status >= 0)
        return status;
    rb_stats_init(&st.stats);

    int manifest_fd = STDIN_FILENO;
    if (strcmp(st.opt.manifest, "-") != 0) {
        manifest_fd = open(st.opt.manifest, O_RDONLY | O_CLOEXEC);
        if (manifest_fd < 0) {
            rb_cli_error("cannot open manifest '%s': %s", st.opt.manifest, strerror(errno));
            return RB_EXIT_FAILURE;
        }
        struct stat sb;
        if (fstat(manifest_fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            rb_cli_error("manifest '%s' is a directory", st.opt.manifest);
            close(manifest_fd);
            return RB_EXIT_FAILURE;
        }
    }
    struct stat msb;
    if (fstat(manifest_fd, &msb) == 0 && !S_ISREG(msb.st_mode))
        rb_set_nonblocking(manifest_fd); /* a pipe: never let a slow writer stall the loop */
    char *base_dir = manifest_base_dir(st.opt.manifest);

    /* The supervisor's memory must stay its own: not dumpable, so no job can
     * read it through /proc; a subreaper, so nothing a job starts can slip
     * away from the batch. */
    prctl(PR_SET_DUMPABLE, 0);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    signal(SIGPIPE, SIG_IGN);

    status = RB_EXIT_FAILURE;
    gzFile gz = NULL;
    int sigfd = -1;
    if (open_results(&st) < 0)
        goto out;
    long total = -1;
    gz = open_gzip_manifest(manifest_fd);
    if (gz && !st.opt.shard.count) {
        gzclose(gz); /* counted first, then read again from the start */
        total = count_gzip_jobs(manifest_fd);
        gz = open_gzip_manifest(manifest_fd);
    } else if (!gz && !st.opt.shard.count) {
        total = count_jobs(manifest_fd);
    }
    rb_progress_init(&st.progress, STDERR_FILENO, st.opt.quiet, total);
    sigfd = block_termination_signals();
    if (sigfd < 0) {
        rb_cli_error("signalfd: %s", strerror(-sigfd));
        goto out;
    }
    char err[512];
    int rc = rb_batch_new(&st.opt.pool, on_record, &st, &st.batch, err, sizeof err);
    if (rc < 0) {
        rb_cli_error("%s", err);
        goto out;
    }
    rb_batch_on_run(st.batch, on_run);
    rb_cli_warn_if_exposed(rb_batch_pool(st.batch));
    status = run_batch(&st, manifest_fd, gz, base_dir, sigfd);
    /* Kills what is still in flight after an interruption: unfinished jobs
     * get no record. */
    rb_batch_free(st.batch);
    st.batch = NULL;
    rb_progress_finish(&st.progress, st.results_name, status == RB_EXIT_INTERRUPTED);
    st.stats.jobs = st.progress.done;
    if (st.opt.stats && rb_stats_write(&st.stats, st.opt.stats) < 0)
        rb_cli_error("writing --stats to %s: %s", st.opt.stats, strerror(errno));

out:
    rb_batch_free(st.batch);
    if (gz)
        gzclose(gz);
    if (sigfd >= 0)
        close(sigfd);
    if (st.results_fd > STDERR_FILENO) {
        if (close(st.results_fd) < 0 && status == RB_EXIT_OK) {
            rb_cli_error("closing %s: %s", st.results_name, strerror(errno));
            status = RB_EXIT_FAILURE;
        }
    }
    if (manifest_fd != STDIN_FILENO)
        close(manifest_fd);
    free(base_dir);
    rb_idset_free(&st.seen);
    rb_idset_free(&st.done);
    return status;
}
