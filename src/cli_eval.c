/*
 * `runbox eval`: grade HumanEval- or MBPP-format samples and compute pass@k,
 * on the same pool and records as `runbox run`.
 *
 * Crash safety: each sample's line goes to a journal (<results>.partial) the
 * moment it is graded, in completion order, tagged with its sample index.
 * When every sample has its line, the journal is rewritten in the samples'
 * order into the results file and removed. `--resume` reads the journal,
 * drops a torn last line, and grades only what is missing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "cli.h"
#include "eval.h"
#include "idset.h"
#include "manifest.h"
#include "passk.h"
#include "problems.h"
#include "progress.h"
#include "results.h"
#include "shard.h"
#include "stats.h"
#include "runbox.h"
#include "util.h"

#define DEFAULT_EVAL_TIMEOUT 3.0 /* the reference harness's */
#define MAX_KS 32

static const char EVAL_USAGE[] =
    "Usage: runbox eval --problems FILE --samples FILE [options]\n"
    "\n"
    "Grades each sample (JSON lines with task_id and completion, or solution)\n"
    "against its problem (HumanEval .jsonl/.jsonl.gz, or MBPP .json/.jsonl),\n"
    "writes one results line per sample in the samples' order, and prints pass@k.\n"
    "\n"
    "Options:\n"
    "      --problems FILE    the benchmark's problems\n"
    "      --samples FILE     the samples to grade (.jsonl or .jsonl.gz)\n"
    "  -k LIST                comma-separated k for pass@k (default 1,10,100; only\n"
    "                         those not above the smallest sample count per task)\n"
    "  -o, --output FILE      results file (default: <samples>_results.jsonl)\n"
    "      --timeout S        wall-clock limit per sample (default 3, as the reference)\n"
    "      --memory MB        memory limit per sample (default 1024)\n"
    "      --no-rerun         do not rerun samples that timed out on a busy machine\n"
    "  -j, --jobs N           samples in flight (default: the number of CPUs)\n"
    "      --resume           continue an interrupted evaluation\n"
    "      --overwrite        replace existing results\n"
    "      --preload MODS     modules to import once, before any sample\n"
    "      --no-landlock      leave out the Landlock layer (see runbox doctor)\n"
    "      --no-namespaces    leave out the namespaces layer\n"
    "      --stats FILE       at the end, write what the evaluation cost as JSON (- for stderr)\n"
    "      --shard SPEC       grade only this shard's samples: I/N, slurm[:N] or k8s[:N];\n"
    "                         combine the shards with runbox merge\n"
    "  -q, --quiet            no progress and no summary on stderr\n"
    "  -h, --help             this text\n"
    "\n"
    "The last line on stdout is a JSON object {\"pass@1\": ...}. See docs/eval.md.\n";

struct eval_options {
    const char *problems;
    const char *samples;
    const char *output;
    long ks[MAX_KS];
    int nks;
    bool rerun;
    bool resume;
    bool overwrite;
    bool quiet;
    const char *stats;
    struct rb_shard shard;
    rb_pool_config pool;
};

/* One sample in flight. */
struct item {
    long index;
    cJSON *sample;
    const struct rb_problem *problem;
    char *program;
    char *path;
    rb_check *checks;
    long test_line;
    cJSON *rerun; /* set once the timing rule reran it */
};

struct eval_state {
    struct eval_options opt;
    struct rb_problems problems;
    char *results_path;
    char *journal_path;
    int journal_fd;
    uint64_t *done;      /* per sample index: hash of what was graded, 0 = not yet */
    size_t done_cap;
    struct rb_progress progress;
    rb_pool *pool;
    long reruns;
    long invalid;
    int write_error;
    struct rb_stats stats;
    long *mine;          /* sharded: the sample indexes of this shard, ascending */
    size_t nmine, capmine;
};

/* ---- options -------------------------------------------------------------- */

enum { OPT_PROBLEMS = 256, OPT_SAMPLES, OPT_TIMEOUT, OPT_MEMORY, OPT_NO_RERUN, OPT_RESUME,
       OPT_OVERWRITE, OPT_PRELOAD, OPT_NO_LANDLOCK, OPT_NO_NAMESPACES, OPT_STATS, OPT_SHARD };

static int parse_options(int argc, char **argv, struct eval_options *o)
{
    static const struct option longopts[] = {
        { "problems", required_argument, NULL, OPT_PROBLEMS },
        { "samples", required_argument, NULL, OPT_SAMPLES },
        { "output", required_argument, NULL, 'o' },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "memory", required_argument, NULL, OPT_MEMORY },
        { "no-rerun", no_argument, NULL, OPT_NO_RERUN },
        { "jobs", required_argument, NULL, 'j' },
        { "resume", no_argument, NULL, OPT_RESUME },
        { "overwrite", no_argument, NULL, OPT_OVERWRITE },
        { "preload", required_argument, NULL, OPT_PRELOAD },
        { "no-landlock", no_argument, NULL, OPT_NO_LANDLOCK },
        { "no-namespaces", no_argument, NULL, OPT_NO_NAMESPACES },
        { "stats", required_argument, NULL, OPT_STATS },
        { "shard", required_argument, NULL, OPT_SHARD },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    o->rerun = true;
    o->pool.defaults.timeout = DEFAULT_EVAL_TIMEOUT;
    o->nks = rb_passk_parse_ks("1,10,100", o->ks, MAX_KS);
    long n;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:j:k:qh", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_PROBLEMS: o->problems = optarg; break;
        case OPT_SAMPLES: o->samples = optarg; break;
        case 'o': o->output = optarg; break;
        case 'k':
            o->nks = rb_passk_parse_ks(optarg, o->ks, MAX_KS);
            if (o->nks < 0) {
                rb_cli_error("-k: expected distinct whole numbers above 0 separated by commas, got '%s'",
                             optarg);
                return RB_EXIT_USAGE;
            }
            break;
        case OPT_TIMEOUT:
            if (!rb_cli_parse_seconds("--timeout", optarg, &o->pool.defaults.timeout))
                return RB_EXIT_USAGE;
            break;
        case OPT_MEMORY:
            if (!rb_cli_parse_long("--memory", optarg, 1, 1024L * 1024, &o->pool.defaults.memory_mb))
                return RB_EXIT_USAGE;
            break;
        case OPT_NO_RERUN: o->rerun = false; break;
        case 'j':
            if (!rb_cli_parse_long("--jobs", optarg, 1, 4096, &n))
                return RB_EXIT_USAGE;
            o->pool.jobs = (int)n;
            break;
        case OPT_RESUME: o->resume = true; break;
        case OPT_OVERWRITE: o->overwrite = true; break;
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
        case 'q': o->quiet = true; break;
        case 'h': fputs(EVAL_USAGE, stdout); return RB_EXIT_OK;
        case ':':
            rb_cli_error("option '%s' needs a value", argv[optind - 1]);
            return RB_EXIT_USAGE;
        default:
            rb_cli_error("unknown option '%s'", argv[optind - 1]);
            fputs("Try 'runbox eval --help'.\n", stderr);
            return RB_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        rb_cli_error("unexpected argument '%s'", argv[optind]);
        fputs("Try 'runbox eval --help'.\n", stderr);
        return RB_EXIT_USAGE;
    }
    if (!o->problems || !o->samples) {
        rb_cli_error("%s is required", !o->problems ? "--problems" : "--samples");
        fputs("Try 'runbox eval --help'.\n", stderr);
        return RB_EXIT_USAGE;
    }
    if (o->resume && o->overwrite) {
        rb_cli_error("--resume and --overwrite exclude each other");
        return RB_EXIT_USAGE;
    }
    return -1;
}

/* ---- samples -------------------------------------------------------------- */

static bool blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

static long count_samples(const char *path)
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        return -1;
    long n = rb_gz_count_lines(f);
    gzclose(f);
    return n;
}

/* What identifies a graded sample across a resume: its task and its code. */
static uint64_t sample_hash(const char *task_id, const char *code)
{
    size_t a = strlen(task_id), b = strlen(code);
    char *buf = malloc(a + b + 1);
    if (!buf)
        return 1;
    memcpy(buf, task_id, a);
    buf[a] = '\0';
    memcpy(buf + a + 1, code, b);
    uint64_t h = rb_id_hash(buf, a + b + 1) | 1;
    free(buf);
    return h;
}

static int mark_done(struct eval_state *st, long index, uint64_t hash)
{
    if ((size_t)index >= st->done_cap) {
        size_t cap = st->done_cap ? st->done_cap : 1024;
        while (cap <= (size_t)index)
            cap *= 2;
        uint64_t *d = realloc(st->done, cap * sizeof *d);
        if (!d)
            return -ENOMEM;
        memset(d + st->done_cap, 0, (cap - st->done_cap) * sizeof *d);
        st->done = d;
        st->done_cap = cap;
    }
    st->done[index] = hash;
    return 0;
}

static uint64_t done_hash(const struct eval_state *st, long index)
{
    return (size_t)index < st->done_cap ? st->done[index] : 0;
}

static const char *sample_code(const cJSON *sample, int *is_solution)
{
    const char *completion = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sample, "completion"));
    const char *solution = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sample, "solution"));
    *is_solution = !completion && solution;
    return completion ? completion : solution;
}

/* ---- the journal ------------------------------------------------------- */

static void journal_write(struct eval_state *st, long index, cJSON *line)
{
    if (st->write_error)
        return;
    /* The index goes first so the final ordering can read it cheaply. */
    cJSON *tagged = cJSON_CreateObject();
    cJSON_AddNumberToObject(tagged, "sample_index", (double)index);
    for (cJSON *item = line->child; item;) {
        cJSON *next = item->next;
        cJSON_DetachItemViaPointer(line, item);
        cJSON_AddItemToObject(tagged, item->string, item);
        item = next;
    }
    int rc = rb_record_write(st->journal_fd, tagged);
    if (rc < 0)
        st->write_error = rc;
    cJSON_Delete(tagged);
}

static long journal_index(const char *line, size_t len)
{
    static const char prefix[] = "{\"sample_index\":";
    if (len < sizeof prefix || memcmp(line, prefix, sizeof prefix - 1) != 0)
        return -1;
    char *end;
    long v = strtol(line + sizeof prefix - 1, &end, 10);
    return end > line + sizeof prefix - 1 && v >= 0 ? v : -1;
}

/* Reads what an earlier run graded; drops a torn last line. */
static int journal_load(struct eval_state *st)
{
    struct rb_line_reader r;
    rb_line_reader_init(&r, st->journal_fd);
    const char *line;
    size_t len;
    off_t good_end = 0;
    int rc;
    long loaded = 0;
    while ((rc = rb_line_reader_next(&r, &line, &len)) == 1) {
        if (line + len >= r.buf.data + r.buf.len)
            break; /* no newline: torn */
        cJSON *rec = rb_record_parse(line, len);
        long index = journal_index(line, len);
        int is_solution;
        char *task = rb_task_id_text(cJSON_GetObjectItemCaseSensitive(rec, "task_id"));
        const char *code = rec ? sample_code(rec, &is_solution) : NULL;
        if (!rec || index < 0) {
            cJSON_Delete(rec);
            free(task);
            break; /* not ours: stop trusting the file here */
        }
        good_end += (off_t)len + 1;
        rc = mark_done(st, index, sample_hash(task ? task : "", code ? code : ""));
        cJSON_Delete(rec);
        free(task);
        if (rc < 0)
            break;
        loaded++;
    }
    rb_line_reader_free(&r);
    if (rc < 0)
        return rc;
    off_t size = lseek(st->journal_fd, 0, SEEK_END);
    if (size > good_end) {
        if (!st->opt.quiet)
            rb_cli_error("dropping the last %lld bytes of %s (a line cut by a crash); their sample "
                         "is graded again", (long long)(size - good_end), st->journal_path);
        if (ftruncate(st->journal_fd, good_end) < 0)
            return -errno;
    }
    st->progress.skipped = loaded;
    return 0;
}

struct journal_entry {
    long index;
    off_t offset;
    size_t len;
};

static int by_index(const void *a, const void *b)
{
    const struct journal_entry *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Rewrites the journal in sample order into the results file, and counts
 * pass@k over it. */
/* The n-th sample index the results file must hold. */
static long expected_index(const struct eval_state *st, long n)
{
    return st->opt.shard.count ? st->mine[n] : n;
}

static int finalize(struct eval_state *st, long total, struct rb_passk_table *table,
                    long counts[3])
{
    long want = st->opt.shard.count ? (long)st->nmine : total;
    struct journal_entry *entries = calloc((size_t)total + 1, sizeof *entries);
    size_t n = 0;
    if (!entries)
        return -ENOMEM;
    if (lseek(st->journal_fd, 0, SEEK_SET) < 0) {
        free(entries);
        return -errno;
    }
    struct rb_line_reader r;
    rb_line_reader_init(&r, st->journal_fd);
    const char *line;
    size_t len;
    off_t offset = 0;
    while (rb_line_reader_next(&r, &line, &len) == 1) {
        long index = journal_index(line, len);
        if (index >= 0 && index < total && n < (size_t)total)
            entries[n++] = (struct journal_entry){ index, offset, len };
        offset += (off_t)len + 1;
    }
    rb_line_reader_free(&r);
    qsort(entries, n, sizeof *entries, by_index);

    char *tmp;
    if (asprintf(&tmp, "%s.tmp", st->results_path) < 0) {
        free(entries);
        return -ENOMEM;
    }
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600); /* see open_results */
    int rc = out < 0 ? -errno : 0;
    long expect = 0; /* how many expected indexes are written */
    char *buf = NULL;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (expect > 0 && entries[i].index <= expected_index(st, expect - 1))
            continue; /* graded twice (cannot happen after a clean resume); the first stands */
        if (expect == want || entries[i].index != expected_index(st, expect)) {
            rc = -ENODATA;
            break;
        }
        expect++;
        char *grown = realloc(buf, entries[i].len + 1);
        if (!grown) {
            rc = -ENOMEM;
            break;
        }
        buf = grown;
        if (pread(st->journal_fd, buf, entries[i].len, entries[i].offset) != (ssize_t)entries[i].len) {
            rc = -EIO;
            break;
        }
        cJSON *rec = rb_record_parse(buf, entries[i].len);
        if (!rec) {
            rc = -EINVAL;
            break;
        }
        /* A shard's file keeps the index, which runbox merge puts in order by. */
        if (!st->opt.shard.count)
            cJSON_DeleteItemFromObjectCaseSensitive(rec, "sample_index");
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(rec, "status");
        bool invalid = cJSON_IsString(status) && strcmp(status->valuestring, "invalid") == 0;
        if (!invalid) {
            char *task = rb_task_id_text(cJSON_GetObjectItemCaseSensitive(rec, "task_id"));
            bool passed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "passed"));
            const char *result = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "result"));
            if (task)
                rb_passk_add(table, task, passed);
            counts[passed ? 0 : (result && strcmp(result, "timed out") == 0 ? 2 : 1)]++;
            free(task);
        }
        rc = rb_record_write(out, rec);
        cJSON_Delete(rec);
    }
    if (rc == 0 && expect != want)
        rc = -ENODATA;
    free(buf);
    free(entries);
    if (out >= 0 && close(out) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, st->results_path) < 0)
        rc = -errno;
    if (rc == 0)
        unlink(st->journal_path);
    else
        unlink(tmp);
    free(tmp);
    return rc;
}

/* ---- grading ------------------------------------------------------------ */

static void item_free(struct item *it)
{
    if (!it)
        return;
    cJSON_Delete(it->sample);
    cJSON_Delete(it->rerun);
    free(it->program);
    free(it->path);
    free(it->checks);
    free(it);
}

static int submit_item(struct eval_state *st, struct item *it)
{
    rb_job job = {
        .id = it->path,
        .kind = RB_PROGRAM_SOURCE,
        .program = it->program,
        .path = it->path,
        .checks = it->checks,
        .nchecks = it->checks ? it->problem->ntests : 0,
        .user = it,
    };
    return rb_pool_submit(st->pool, &job);
}

static void write_invalid_sample(struct eval_state *st, long index, cJSON *sample, const char *why)
{
    cJSON *line = sample ? sample : cJSON_CreateObject();
    char result[600];
    snprintf(result, sizeof result, "invalid: %s", why);
    cJSON_DeleteItemFromObjectCaseSensitive(line, "result");
    cJSON_DeleteItemFromObjectCaseSensitive(line, "passed");
    cJSON_DeleteItemFromObjectCaseSensitive(line, "status");
    cJSON_AddStringToObject(line, "result", result);
    cJSON_AddBoolToObject(line, "passed", false);
    cJSON_AddStringToObject(line, "status", "invalid");
    journal_write(st, index, line);
    cJSON_Delete(line);
    st->invalid++;
    rb_progress_count(&st->progress, RB_STATUS_INVALID);
}

static void on_result(const rb_result *r, void *ctx)
{
    struct eval_state *st = ctx;
    struct item *it = r->user;
    rb_stats_add(&st->stats, r);
    if (st->opt.rerun && !it->rerun && rb_eval_should_rerun(r, st->opt.pool.defaults.timeout)) {
        /* Timed out while mostly waiting: the machine was busy. Once more. */
        it->rerun = cJSON_CreateObject();
        cJSON_AddStringToObject(it->rerun, "reason", "wall-clock timeout with CPU time under half the limit");
        cJSON_AddNumberToObject(it->rerun, "first_runtime", round(r->runtime * 1e6) / 1e6);
        cJSON_AddNumberToObject(it->rerun, "first_cpu_time", round(r->cpu_time * 1e6) / 1e6);
        st->reruns++;
        if (submit_item(st, it) == 0)
            return;
    }
    struct rb_verdict v;
    rb_eval_verdict(it->problem->kind, r, it->test_line, &v);
    cJSON *line = rb_eval_record(it->sample, r, &v, it->rerun);
    if (line)
        journal_write(st, it->index, line);
    else
        st->write_error = -ENOMEM;
    cJSON_Delete(line);
    rb_progress_count(&st->progress, v.passed ? RB_STATUS_OK : v.timed_out ? RB_STATUS_TIMEOUT
                                                                             : RB_STATUS_ERROR);
    rb_progress_tick(&st->progress, false);
    item_free(it);
}

/* Turns one samples line into a submitted job (or an invalid line). Returns
 * a negative errno only when the whole evaluation must stop. */
static int take_sample(struct eval_state *st, const char *text, size_t len, long index, long line_no)
{
    char why[512];
    cJSON *sample = cJSON_ParseWithLength(text, len);
    if (st->opt.shard.count) {
        /* A sample belongs to the shard of its task and code; a line that is
         * not a sample, to the shard of its text. */
        int sol;
        const char *c = cJSON_IsObject(sample) ? sample_code(sample, &sol) : NULL;
        char *t = c ? rb_task_id_text(cJSON_GetObjectItemCaseSensitive(sample, "task_id")) : NULL;
        size_t tl = t ? strlen(t) : 0, cl = c ? strlen(c) : 0;
        char *key = t ? malloc(tl + cl + 1) : NULL;
        if (key) {
            memcpy(key, t, tl + 1);
            memcpy(key + tl + 1, c, cl);
        }
        bool mine = key ? rb_shard_mine(&st->opt.shard, key, tl + cl + 1)
                        : rb_shard_mine(&st->opt.shard, text, len);
        free(key);
        free(t);
        if (!mine) {
            cJSON_Delete(sample);
            return 0;
        }
        if (st->nmine == st->capmine) {
            size_t cap = st->capmine ? st->capmine * 2 : 1024;
            long *m = realloc(st->mine, cap * sizeof *m);
            if (!m) {
                cJSON_Delete(sample);
                return -ENOMEM;
            }
            st->mine = m;
            st->capmine = cap;
        }
        st->mine[st->nmine++] = index;
    }
    if (!cJSON_IsObject(sample)) {
        snprintf(why, sizeof why, "samples line %ld: not a JSON object", line_no);
        cJSON_Delete(sample);
        write_invalid_sample(st, index, NULL, why);
        return 0;
    }
    int is_solution;
    const char *code = sample_code(sample, &is_solution);
    char *task = rb_task_id_text(cJSON_GetObjectItemCaseSensitive(sample, "task_id"));
    uint64_t hash = sample_hash(task ? task : "", code ? code : "");
    uint64_t seen = done_hash(st, index);
    if (seen) {
        free(task);
        cJSON_Delete(sample);
        if (seen != hash) {
            rb_cli_error("samples line %ld differs from the sample graded there before; the "
                         "samples file changed since %s was written (use --overwrite to start over)",
                         line_no, st->journal_path);
            return -ESTALE;
        }
        return 0;
    }
    const struct rb_problem *problem = task ? rb_problems_find(&st->problems, task) : NULL;
    if (!task || !code || !problem) {
        if (!task)
            snprintf(why, sizeof why, "samples line %ld: field 'task_id' is missing or not a string or integer", line_no);
        else if (!code)
            snprintf(why, sizeof why, "samples line %ld: no 'completion' (or 'solution') string", line_no);
        else
            snprintf(why, sizeof why, "samples line %ld: task_id '%.200s' is not in %s", line_no, task,
                     st->opt.problems);
        free(task);
        write_invalid_sample(st, index, sample, why);
        return 0;
    }
    struct item *it = calloc(1, sizeof *it);
    if (!it) {
        free(task);
        cJSON_Delete(sample);
        return -ENOMEM;
    }
    it->index = index;
    it->sample = sample;
    it->problem = problem;
    it->program = rb_build_program(problem, code, is_solution, &it->test_line);
    for (char *p = task; *p; p++)
        if (*p == '/' || *p == ' ')
            *p = '_';
    if (asprintf(&it->path, "%s.py", task) < 0)
        it->path = NULL;
    free(task);
    if (problem->kind == RB_MBPP) {
        it->checks = calloc(problem->ntests, sizeof *it->checks);
        for (size_t i = 0; it->checks && i < problem->ntests; i++)
            it->checks[i].source = problem->test_list[i];
    }
    if (!it->program || !it->path || (problem->kind == RB_MBPP && !it->checks)) {
        item_free(it);
        return -ENOMEM;
    }
    int rc = submit_item(st, it);
    if (rc < 0)
        item_free(it);
    return rc;
}

/* ---- the loop ------------------------------------------------------------- */

static int open_outputs(struct eval_state *st)
{
    const struct eval_options *o = &st->opt;
    if (o->output)
        st->results_path = strdup(o->output);
    else if (o->shard.count
                 ? asprintf(&st->results_path, "%s_results.shard-%ld-of-%ld.jsonl", o->samples,
                            o->shard.index, o->shard.count) < 0
                 : asprintf(&st->results_path, "%s_results.jsonl", o->samples) < 0)
        st->results_path = NULL;
    if (!st->results_path || asprintf(&st->journal_path, "%s.partial", st->results_path) < 0)
        return -ENOMEM;
    struct stat sb;
    bool have_results = stat(st->results_path, &sb) == 0;
    bool have_journal = stat(st->journal_path, &sb) == 0;
    if (o->overwrite) {
        unlink(st->results_path);
        unlink(st->journal_path);
        have_results = have_journal = false;
    } else if (!o->resume && (have_results || have_journal)) {
        rb_cli_error("%s already exists; use --resume to continue or --overwrite to start over",
                     have_journal ? st->journal_path : st->results_path);
        return -EEXIST;
    } else if (o->resume && have_results && !have_journal) {
        return 1; /* finished before: only pass@k to report */
    }
    return 0;
}

/* Opens (creating) the journal, once everything else is ready: a run that
 * fails to start must not leave a journal that blocks the next one. */
static int open_journal(struct eval_state *st)
{
    const struct eval_options *o = &st->opt;
    /* 0600: the journal holds every graded sample, read by no job (see cli_run.c open_results). */
    st->journal_fd = open(st->journal_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (st->journal_fd < 0) {
        rb_cli_error("cannot open %s: %s", st->journal_path, strerror(errno));
        return -errno;
    }
    if (o->resume) {
        int rc = journal_load(st);
        if (rc < 0) {
            rb_cli_error("cannot read %s: %s", st->journal_path, strerror(-rc));
            return rc;
        }
    }
    int fl = fcntl(st->journal_fd, F_GETFL);
    if (fl < 0 || fcntl(st->journal_fd, F_SETFL, fl | O_APPEND) < 0)
        return -errno;
    return 0;
}

static int sigfd_for_termination(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static int grade_all(struct eval_state *st, gzFile samples, int sigfd, long *total)
{
    struct rb_line_reader reader;
    rb_line_reader_init_gz(&reader, samples);
    bool done = false, interrupted = false;
    int status = RB_EXIT_OK;
    long index = 0;
    while (!interrupted && !st->write_error) {
        while (!done && rb_pool_free_slots(st->pool) > 0 && !st->write_error) {
            const char *line;
            size_t len;
            int rc = rb_line_reader_next(&reader, &line, &len);
            if (rc <= 0) {
                if (rc < 0) {
                    if (reader.line_no > 0)
                        rb_cli_error("reading %s after line %ld: %s", st->opt.samples, reader.line_no,
                                     rb_line_reader_strerror(rc));
                    else
                        rb_cli_error("reading %s: %s", st->opt.samples, rb_line_reader_strerror(rc));
                    status = RB_EXIT_FAILURE;
                }
                done = true;
                break;
            }
            if (blank(line, len))
                continue;
            rc = take_sample(st, line, len, index++, reader.line_no);
            if (rc < 0) {
                status = RB_EXIT_FAILURE;
                done = interrupted = true;
                break;
            }
        }
        if (done && rb_pool_pending(st->pool) == 0)
            break;
        struct pollfd pfd[2] = { { .fd = rb_pool_fd(st->pool), .events = POLLIN },
                                 { .fd = sigfd, .events = POLLIN } };
        int n = poll(pfd, 2, rb_progress_wait_ms(&st->progress));
        if (n > 0 && (pfd[1].revents & POLLIN))
            interrupted = true;
        if (rb_pool_run(st->pool, 0) < 0) {
            status = RB_EXIT_FAILURE;
            break;
        }
        rb_progress_tick(&st->progress, false);
    }
    rb_line_reader_free(&reader);
    *total = index;
    if (st->write_error) {
        rb_cli_error("writing %s: %s", st->journal_path, strerror(-st->write_error));
        return RB_EXIT_FAILURE;
    }
    if (interrupted && status == RB_EXIT_OK)
        status = RB_EXIT_INTERRUPTED;
    return status;
}

/* A shard's pass@k would mean nothing alone: it reports what it graded and
 * leaves the score to runbox merge. */
static void print_shard(const struct eval_state *st, const long counts[3], double secs)
{
    if (!st->opt.quiet) {
        fprintf(stderr, "runbox eval: shard %ld of %ld: %zu samples graded in %.1f s: passed %ld, "
                        "failed %ld, timed out %ld\n  results in %s; runbox merge combines the shards\n",
                st->opt.shard.index, st->opt.shard.count, st->nmine, secs, counts[0], counts[1],
                counts[2], st->results_path);
    }
    printf("{\"shard\": \"%ld/%ld\", \"samples\": %zu, \"passed\": %ld}\n", st->opt.shard.index,
           st->opt.shard.count, st->nmine, counts[0]);
    fflush(stdout);
}

static void print_passk(const struct eval_state *st, const struct rb_passk_table *table,
                        const long counts[3], long total, double secs)
{
    long min_n = rb_passk_min_samples(table);
    struct rb_buf json = { 0 };
    rb_buf_append_str(&json, "{");
    int printed = 0;
    for (int i = 0; i < st->opt.nks; i++) {
        long k = st->opt.ks[i];
        if (k > min_n)
            continue;
        char num[40];
        rb_format_double(rb_passk_score(table, k), num, sizeof num);
        rb_buf_printf(&json, "%s\"pass@%ld\": %s", printed++ ? ", " : "", k, num);
    }
    rb_buf_append_str(&json, "}");
    if (!st->opt.quiet) {
        const char *kind = st->problems.kind == RB_HUMANEVAL ? "HumanEval" : "MBPP";
        fprintf(stderr, "runbox eval: %ld samples of %zu %s problems graded in %.1f s\n", total,
                table->count, kind, secs);
        fprintf(stderr, "  passed %ld, failed %ld, timed out %ld", counts[0], counts[1], counts[2]);
        if (st->invalid)
            fprintf(stderr, ", invalid %ld (not counted)", st->invalid);
        if (st->reruns)
            fprintf(stderr, "; %ld rerun after a wall-clock timeout on a busy machine", st->reruns);
        fputc('\n', stderr);
        for (int i = 0; i < st->opt.nks; i++) {
            long k = st->opt.ks[i];
            if (k > min_n)
                fprintf(stderr, "  pass@%ld: not reported (a problem has only %ld samples)\n", k, min_n);
            else
                fprintf(stderr, "  pass@%ld: %.2f%%\n", k, 100 * rb_passk_score(table, k));
        }
        fprintf(stderr, "  results in %s\n", st->results_path);
    }
    printf("%s\n", json.data);
    fflush(stdout);
    rb_buf_free(&json);
}

/* pass@k of a finished results file (also `runbox passk`). */
int rb_passk_of_file(const char *path, struct rb_passk_table *table, long counts[3], long *total,
                     char *err, size_t errlen);

int rb_cli_eval(int argc, char **argv)
{
    struct eval_state st;
    memset(&st, 0, sizeof st);
    st.journal_fd = -1;
    int status = parse_options(argc, argv, &st.opt);
    if (status >= 0)
        return status;

    char err[1024];
    if (rb_problems_load(st.opt.problems, &st.problems, err, sizeof err) < 0) {
        rb_cli_error("%s", err);
        return RB_EXIT_FAILURE;
    }
    status = RB_EXIT_FAILURE;
    gzFile samples = NULL;
    int sigfd = -1;
    struct rb_passk_table table = { 0 };
    long counts[3] = { 0 }, total = 0;
    int64_t start = rb_now_ns();
    rb_stats_init(&st.stats);

    int rc = open_outputs(&st);
    if (rc == 1) {
        /* Already finished: report it again. */
        if (rb_passk_of_file(st.results_path, &table, counts, &total, err, sizeof err) < 0) {
            rb_cli_error("%s", err);
            goto out;
        }
        if (st.opt.shard.count) {
            /* A finished shard reports as a shard does: its pass@k alone means
             * nothing, and scripts read the {"shard": ...} line. */
            long lines = count_samples(st.results_path);
            st.nmine = lines > 0 ? (size_t)lines : 0;
            print_shard(&st, counts, 0);
        } else {
            print_passk(&st, &table, counts, total, 0);
        }
        status = RB_EXIT_OK;
        goto out;
    }
    if (rc < 0)
        goto out;
    samples = gzopen(st.opt.samples, "rb");
    if (!samples) {
        rb_cli_error("cannot open samples file '%s': %s", st.opt.samples,
                     errno ? strerror(errno) : "out of memory");
        goto out;
    }
    prctl(PR_SET_DUMPABLE, 0);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    signal(SIGPIPE, SIG_IGN);
    sigfd = sigfd_for_termination();
    if (rb_pool_new(&st.opt.pool, on_result, &st, &st.pool, err, sizeof err) < 0) {
        rb_cli_error("%s", err);
        goto out;
    }
    rb_cli_warn_if_exposed(st.pool);
    if (open_journal(&st) < 0) /* with --resume, counts what is already graded */
        goto out;
    long skipped = st.progress.skipped;
    rb_progress_init(&st.progress, STDERR_FILENO, st.opt.quiet,
                     st.opt.shard.count ? -1 : count_samples(st.opt.samples));
    st.progress.skipped = skipped;
    status = grade_all(&st, samples, sigfd, &total);
    rb_pool_free(st.pool);
    st.pool = NULL;
    rb_progress_clear(&st.progress);
    if (status != RB_EXIT_OK) {
        if (status == RB_EXIT_INTERRUPTED && !st.opt.quiet)
            rb_cli_error("interrupted; what was graded is in %s, --resume carries on",
                         st.journal_path);
        goto out;
    }
    rc = finalize(&st, total, &table, counts);
    if (rc < 0) {
        rb_cli_error("writing %s: %s", st.results_path,
                     rc == -ENODATA ? "some samples have no graded line (run again with --resume)"
                                    : strerror(-rc));
        status = RB_EXIT_FAILURE;
        goto out;
    }
    if (st.opt.shard.count)
        print_shard(&st, counts, (double)(rb_now_ns() - start) / 1e9);
    else
        print_passk(&st, &table, counts, total, (double)(rb_now_ns() - start) / 1e9);
    st.stats.jobs = st.opt.shard.count ? (long)st.nmine : total;
    if (st.opt.stats && rb_stats_write(&st.stats, st.opt.stats) < 0)
        rb_cli_error("writing --stats to %s: %s", st.opt.stats, strerror(errno));

out:
    rb_pool_free(st.pool);
    if (samples)
        gzclose(samples);
    if (sigfd >= 0)
        close(sigfd);
    if (st.journal_fd >= 0)
        close(st.journal_fd);
    rb_passk_free(&table);
    rb_problems_free(&st.problems);
    free(st.results_path);
    free(st.journal_path);
    free(st.done);
    free(st.mine);
    return status;
}
