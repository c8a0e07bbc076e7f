/*
 * `runbox run`: the main job. Reads the manifest as a stream, keeps the pool
 * full, writes one result line per job as it ends (the batch driver,
 * driver.h, does the feeding, polling and resuming).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch.h"
#include "cli.h"
#include "driver.h"
#include "idset.h"
#include "lines.h"
#include "manifest.h"
#include "progress.h"
#include "results.h"
#include "shard.h"
#include "stats.h"
#include "runbox.h"
#include "util.h"

static const char RUN_USAGE_HEAD[] =
    "Usage: runbox run MANIFEST [options]\n"
    "\n"
    "Runs every job of MANIFEST (JSON lines; - for stdin), each in its own\n"
    "sandboxed process, and writes one JSON result line per job as it ends.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE      results file (- for stdout: the default, unless stdout is a\n"
    "                         terminal: then MANIFEST's name with .results.jsonl, and a table)\n"
    "      --timeout S        wall-clock limit per job in seconds (default 10)\n";

static const char RUN_USAGE_TAIL[] =
    "  -h, --help             this text\n"
    "\n"
    "Job fields override the limits given here. Exit status: 0 when the batch ran\n"
    "(whatever the jobs did), 1 when runbox could not run it, 2 for bad usage,\n"
    "130 when interrupted. See docs/manifest.md and docs/results.md.\n";

struct run_options {
    const char *manifest;
    struct rb_driver_options common;
    char *default_output; /* the results file a terminal user gets, malloc'd */
};

struct run_state {
    struct run_options opt;
    struct rb_batch *batch;
    struct rb_stats stats;
    struct rb_results_file results;
    struct rb_progress progress;
    struct rb_idset seen; /* ids of the manifest so far, with their line numbers */
    struct rb_idset done; /* ids already in the results file (--resume) */
    int write_error;      /* first failure writing results, or 0 */
    long unreadable;      /* lines of a resumed results file that are not records */
    struct rb_line_reader reader;
    const char *base_dir;
};

/* ---- options ------------------------------------------------------------- */

/* What a person at a terminal gets when they give no -o: the manifest's name
 * with .results.jsonl, in the current directory, and a table on stdout. */
static char *terminal_output(const char *manifest)
{
    if (strcmp(manifest, "-") == 0)
        return strdup("runbox-results.jsonl");
    const char *base = strrchr(manifest, '/');
    base = base ? base + 1 : manifest;
    size_t n = strlen(base);
    static const char *const SUFFIXES[] = { ".jsonl.gz", ".jsonl", ".json", ".gz" };
    for (size_t i = 0; i < sizeof SUFFIXES / sizeof SUFFIXES[0]; i++) {
        size_t k = strlen(SUFFIXES[i]);
        if (n > k && strcmp(base + n - k, SUFFIXES[i]) == 0) {
            n -= k;
            break;
        }
    }
    char *out;
    return asprintf(&out, "%.*s.results.jsonl", (int)n, base) < 0 ? NULL : out;
}

static int parse_options(int argc, char **argv, struct run_options *o)
{
    static const struct option own[] = {
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct option *longopts = rb_driver_longopts(own);
    if (!longopts)
        return RB_EXIT_FAILURE;
    o->common.table = -1;
    int c, status = -1;
    optind = 1;
    opterr = 0;
    while (status < 0 && (c = getopt_long(argc, argv, ":" RB_DRIVER_SHORTOPTS "h", longopts, NULL)) != -1) {
        int taken = rb_driver_take_option(c, optarg, &o->common);
        if (taken == RB_EXIT_USAGE) {
            status = RB_EXIT_USAGE;
        } else if (taken == 0 && c == 'h') {
            fputs(RUN_USAGE_HEAD, stdout);
            fputs(RB_DRIVER_USAGE, stdout);
            fputs(RUN_USAGE_TAIL, stdout);
            status = RB_EXIT_OK;
        } else if (taken == 0) {
            if (c == ':')
                rb_cli_error("option '%s' needs a value", argv[optind - 1]);
            else
                rb_cli_error("unknown option '%s'", argv[optind - 1]);
            if (c != ':')
                fputs("Try 'runbox run --help'.\n", stderr);
            status = RB_EXIT_USAGE;
        }
    }
    free(longopts);
    if (status >= 0)
        return status;
    if (optind != argc - 1) {
        rb_cli_error(optind == argc ? "no manifest given" : "one manifest at a time, got %d",
                     argc - optind);
        fputs("Try 'runbox run --help'.\n", stderr);
        return RB_EXIT_USAGE;
    }
    o->manifest = argv[optind];
    struct rb_driver_options *d = &o->common;
    bool terminal = isatty(STDOUT_FILENO);
    if (d->table < 0)
        d->table = terminal && (!d->output || strcmp(d->output, "-") != 0);
    if (!d->output && terminal) {
        o->default_output = terminal_output(o->manifest);
        d->output = o->default_output;
    }
    if (!d->output)
        d->output = "-";
    if (d->table && strcmp(d->output, "-") == 0)
        d->table = 0; /* the records themselves go to stdout */
    if (d->resume && strcmp(d->output, "-") == 0) {
        rb_cli_error("--resume needs a results file (-o FILE)");
        return RB_EXIT_USAGE;
    }
    if (d->resume && d->overwrite) {
        rb_cli_error("--resume and --overwrite exclude each other");
        return RB_EXIT_USAGE;
    }
    return -1;
}

/* ---- the results file ---------------------------------------------------- */

/* One line of a results file being resumed: its job is done. */
static int take_done_line(void *ctx, const char *line, size_t len)
{
    struct run_state *st = ctx;
    cJSON *rec = rb_record_parse(line, len);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(rec, "id");
    const cJSON *ln = cJSON_GetObjectItemCaseSensitive(rec, "line");
    if (cJSON_IsString(id)) {
        rb_idset_add(&st->done, id->valuestring, strlen(id->valuestring), 0, NULL);
    } else if (cJSON_IsNull(id) && cJSON_IsNumber(ln)) {
        char key[64];
        rb_idset_add(&st->done, key, rb_record_line_key(key, sizeof key, (long)ln->valuedouble), 0, NULL);
    } else if (len > 0) {
        st->unreadable++;
    }
    cJSON_Delete(rec);
    return 0;
}

static void write_record(struct run_state *st, const cJSON *rec)
{
    if (st->write_error)
        return;
    int rc = rec ? rb_record_write(st->results.fd, rec) : -ENOMEM;
    if (rc < 0)
        st->write_error = rc;
}

/* A row of the table: what a person wants to know about a job at a glance. */
static void table_row(struct run_state *st, const cJSON *rec, rb_status status)
{
    if (st->progress.table_fd < 0)
        return;
    char *id = rb_record_string(rec, "id");
    char *error = rb_record_string(rec, "error");
    char *out = rb_record_string(rec, "stdout");
    const cJSON *passed = cJSON_GetObjectItemCaseSensitive(rec, "passed");
    const cJSON *runtime = cJSON_GetObjectItemCaseSensitive(rec, "runtime");
    const char *word = rb_status_name(status);
    if (cJSON_IsBool(passed) && status == RB_STATUS_OK)
        word = cJSON_IsTrue(passed) ? "passed" : "failed";
    rb_progress_row(&st->progress, id, word, cJSON_IsNumber(runtime) ? runtime->valuedouble : 0,
                    error ? error : out);
    free(id);
    free(error);
    free(out);
}

static void on_record(const cJSON *rec, rb_status status, void *job_ctx, void *ctx)
{
    struct run_state *st = ctx;
    (void)job_ctx;
    write_record(st, rec);
    rb_progress_count(&st->progress, status);
    table_row(st, rec, status);
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
static void take_line(struct run_state *st, const char *line, size_t len,
                      long line_no)
{
    struct rb_manifest_job job;
    struct rb_manifest_error err;
    char key[64];
    int rc = rb_manifest_parse_line(line, len, line_no, st->base_dir, &job, &err);
    if (rc == 0)
        return;
    /* Sharded: a job belongs to the shard of its id; a line without a
     * usable id, to the shard of its text. Other shards' lines are not ours
     * to run, count or report. */
    const char *shard_key = rc > 0 ? job.job.id : err.id ? err.id : line;
    size_t shard_keylen = rc > 0 || err.id ? strlen(shard_key) : len;
    if (!rb_shard_mine(&st->opt.common.shard, shard_key, shard_keylen)) {
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
                          : rb_idset_contains(&st->done, key, rb_record_line_key(key, sizeof key, line_no));
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
        if (rb_idset_contains(&st->done, key, rb_record_line_key(key, sizeof key, line_no)))
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


/* The driver's feed: one manifest line. */
static int feed_line(void *ctx)
{
    struct run_state *st = ctx;
    const char *line;
    size_t len;
    int rc = rb_line_reader_next(&st->reader, &line, &len);
    if (rc == -EAGAIN || rc == 0)
        return rc;
    if (rc < 0) {
        rb_progress_clear(&st->progress);
        if (st->reader.line_no > 0)
            rb_cli_error("reading the manifest after line %ld: %s", st->reader.line_no,
                         rb_line_reader_strerror(rc));
        else
            rb_cli_error("reading the manifest: %s", rb_line_reader_strerror(rc));
        return RB_FEED_FAILED;
    }
    if (st->reader.line_no == 1 && len >= 2 && (unsigned char)line[0] == 0x1f && (unsigned char)line[1] == 0x8b) {
        rb_progress_clear(&st->progress);
        rb_cli_error("the manifest on standard input is gzip-compressed: give runbox the file's "
                     "path, or pipe it through zcat");
        return RB_FEED_FAILED;
    }
    take_line(st, line, len, st->reader.line_no);
    return 1;
}

static int open_manifest(const char *path)
{
    if (strcmp(path, "-") == 0)
        return STDIN_FILENO;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rb_cli_error("cannot open manifest '%s': %s", path, strerror(errno));
        return -1;
    }
    struct stat sb;
    if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        rb_cli_error("manifest '%s' is a directory", path);
        close(fd);
        return -1;
    }
    return fd;
}

int rb_cli_run(int argc, char **argv)
{
    struct run_state st;
    memset(&st, 0, sizeof st);
    st.results.fd = -1;
    int status = parse_options(argc, argv, &st.opt);
    if (status >= 0) {
        free(st.opt.default_output);
        return status;
    }
    const struct rb_driver_options *o = &st.opt.common;
    rb_stats_init(&st.stats);

    int manifest_fd = open_manifest(st.opt.manifest);
    if (manifest_fd < 0) {
        free(st.opt.default_output);
        return RB_EXIT_FAILURE;
    }
    struct stat msb;
    if (fstat(manifest_fd, &msb) == 0 && !S_ISREG(msb.st_mode))
        rb_set_nonblocking(manifest_fd); /* a pipe: never let a slow writer stall the loop */
    char *base_dir = manifest_base_dir(st.opt.manifest);
    st.base_dir = base_dir;

    status = RB_EXIT_FAILURE;
    gzFile gz = NULL;
    int sigfd = rb_driver_prepare_process();
    if (sigfd < 0) {
        rb_cli_error("signalfd: %s", strerror(-sigfd));
        goto out;
    }
    if (rb_results_open(&st.results, o->output, o->resume, o->overwrite, o->quiet, take_done_line, &st) < 0)
        goto out;
    if (st.unreadable && !o->quiet)
        rb_cli_error("%ld line(s) of %s are not result records; kept as they are", st.unreadable,
                     st.results.name);
    long total = -1;
    gz = open_gzip_manifest(manifest_fd);
    if (gz && !o->shard.count) {
        gzclose(gz); /* counted first, then read again from the start */
        total = count_gzip_jobs(manifest_fd);
        gz = open_gzip_manifest(manifest_fd);
    } else if (!gz && !o->shard.count) {
        total = count_jobs(manifest_fd);
    }
    rb_progress_init(&st.progress, STDERR_FILENO, o->quiet, total);
    if (o->table)
        rb_progress_table(&st.progress, STDOUT_FILENO, "job");
    char err[512];
    if (rb_batch_new(&o->pool, on_record, &st, &st.batch, err, sizeof err) < 0) {
        rb_cli_error("%s", err);
        goto out;
    }
    rb_batch_on_run(st.batch, on_run);
    rb_cli_warn_if_exposed(rb_batch_pool(st.batch));
    if (gz)
        rb_line_reader_init_gz(&st.reader, gz);
    else
        rb_line_reader_init(&st.reader, manifest_fd);
    struct rb_driver d = {
        .batch = st.batch, .progress = &st.progress, .sigfd = sigfd, .input_fd = manifest_fd,
        .feed = feed_line, .ctx = &st, .write_error = &st.write_error,
    };
    status = rb_driver_run(&d);
    rb_line_reader_free(&st.reader);
    if (st.write_error) {
        rb_progress_clear(&st.progress);
        rb_cli_error("writing results to %s: %s", st.results.name ? st.results.name : "stdout",
                     strerror(-st.write_error));
    }
    /* Kills what is still in flight after an interruption: unfinished jobs
     * get no record. */
    rb_batch_free(st.batch);
    st.batch = NULL;
    rb_progress_finish(&st.progress, st.results.name, status == RB_EXIT_INTERRUPTED);
    st.stats.jobs = st.progress.done;
    if (o->stats && rb_stats_write(&st.stats, o->stats) < 0)
        rb_cli_error("writing --stats to %s: %s", o->stats, strerror(errno));

out:
    rb_batch_free(st.batch);
    if (gz)
        gzclose(gz);
    if (sigfd >= 0)
        close(sigfd);
    if (st.results.fd > STDERR_FILENO && close(st.results.fd) < 0 && status == RB_EXIT_OK) {
        rb_cli_error("closing %s: %s", st.results.name, strerror(errno));
        status = RB_EXIT_FAILURE;
    }
    if (manifest_fd != STDIN_FILENO)
        close(manifest_fd);
    free(base_dir);
    free(st.opt.default_output);
    rb_idset_free(&st.seen);
    rb_idset_free(&st.done);
    return status;
}
