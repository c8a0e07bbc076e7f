/*
 * One `runbox eval`, shared by its files:
 *   cli_eval.c      options, the samples, the flow
 *   eval_runs.c     each sample's runs, their verdicts, its results line
 *   eval_prep.c     jobs before grading: the reference solutions' outputs and
 *                   times (cached), LiveCodeBench's compressed tests decoded
 *   eval_journal.c  the journal (<results>.partial), resume, the ordered file
 *   eval_report.c   pass@k printed and written, evalplus's eval_results.json
 * All of it runs on one batch (batch.h) driven by the batch driver
 * (driver.h), like `runbox run`.
 */
#ifndef RB_EVALRUN_H
#define RB_EVALRUN_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <zlib.h>

#include "batch.h"
#include "driver.h"
#include "eval.h"
#include "lines.h"
#include "passk.h"
#include "problems.h"
#include "progress.h"
#include "stats.h"

#define EVAL_MAX_KS 32

struct eval_options {
    const char *problems;
    const char *samples;
    const char *format;          /* --format, or NULL: recognised */
    struct rb_driver_options common;
    long ks[EVAL_MAX_KS];
    int nks;
    bool rerun;                  /* the timing rule (--no-rerun turns it off) */
    bool timeout_given;          /* --timeout overrides the format's limits */
    bool memory_given;           /* --memory overrides evalplus's 4 GiB */
    bool all_tests;              /* every test of a sample runs (evalplus's --test_details) */
    bool base_only;              /* evalplus: base inputs only */
    double min_time_limit;       /* evalplus: --min-time-limit (4) */
    double time_limit_factor;    /* evalplus: --time-limit-factor (4) */
    double task_time_limit;      /* evalplus: --task-time-limit (60), the cap on a run's calls together */
    const char *cache_dir;       /* --cache-dir, or the default */
    char *default_cache_dir;
    const char *evalplus_json;   /* --evalplus-json FILE */
};

/* What a job of the batch belongs to: the first member of each owner. */
enum eval_owner { EVAL_RUN = 1, EVAL_PREP };

struct eval_sample;

/* One job of a sample: its program run against one group of tests. */
struct eval_run {
    enum eval_owner owner;       /* EVAL_RUN, first */
    struct eval_sample *sample;
    int group;                   /* the problem's test group it runs, or -1 */
    double timeout;              /* its wall limit, for the timing rule */
    bool wants_rerun;            /* the timing rule asked for a second run */
    bool single;                 /* a job of one process (not cases) */
    struct eval_run *next_rerun; /* in the queue of runs to submit again */
    cJSON *record;               /* its record, once back */
    cJSON *rerun;                /* set once the timing rule ran it again */
    struct rb_verdict verdict;   /* single jobs: decided from the result */
    struct rb_evalplus_status ep;/* evalplus runs */
    cJSON *tests;                /* MBPP: each assert's outcome */
    rb_call *calls;              /* the job's calls (texts in the problems) */
    size_t ncalls;
};

struct eval_sample {
    long index;                  /* its place among the samples */
    cJSON *sample;               /* the sample's own fields */
    const struct rb_problem *problem;
    char *program;
    char *path;                  /* the filename it runs under */
    long test_line;
    rb_check *checks;
    bool solution_class;         /* LiveCodeBench, APPS: "class Solution" in the code */
    size_t nruns, ndone;
    struct eval_run runs[RB_MAX_GROUPS];
};

struct eval_state {
    struct eval_options opt;
    struct rb_problems problems;
    const struct rb_format *fmt;
    struct rb_batch *batch;
    struct rb_progress progress;
    struct rb_stats stats;
    int write_error;
    /* the samples */
    gzFile samples_gz;
    struct rb_line_reader reader;
    cJSON *samples_array;        /* LiveCodeBench's own output file, read whole */
    cJSON *array_item;           /* the next problem of it */
    int array_code;              /* the next code of that problem */
    long next_index;
    long reruns, invalid;
    struct eval_run *reruns_due; /* runs the timing rule sends again, submitted from the loop */
    /* the results */
    char *results_path, *journal_path;
    struct rb_results_file journal;
    uint64_t *done;              /* per sample index: hash of what was graded, 0 = not yet */
    size_t done_cap;
    long *mine;                  /* sharded: the sample indexes of this shard, ascending */
    size_t nmine, capmine;
    /* jobs before grading (eval_prep.c) */
    size_t prep_pending;
    int prep_error;
};

/* eval_runs.c: one sample (taken over) into runs submitted to the batch,
 * or an invalid line; a negative errno only when the evaluation must stop.
 * The batch's callbacks for the sample jobs and prep jobs alike. */
int eval_take_sample(struct eval_state *st, cJSON *sample, const char *text, size_t len, long index, long line_no);
void eval_on_run(const rb_result *r, void *ctx);
void eval_on_record(const cJSON *record, rb_status status, void *job_ctx, void *ctx);
/* The driver's hook for them: submits the runs the timing rule queued. */
int eval_submit_reruns(void *ctx);

/* eval_prep.c: fills the expected values and time limits the problems need
 * from jobs (the reference solutions, LiveCodeBench's decoding), through
 * the batch; a reference already computed for this dataset comes from the
 * cache. RB_EXIT_OK, or another exit status after saying why. */
int eval_prepare(struct eval_state *st, int sigfd);
/* The batch's results for prep jobs land here. */
void eval_prep_on_run(struct eval_state *st, const rb_result *r, void *ctx);
void eval_prep_on_record(struct eval_state *st, const cJSON *record, void *ctx);

/* eval_journal.c */
uint64_t eval_sample_hash(const char *task_id, const char *code);
int eval_mark_done(struct eval_state *st, long index, uint64_t hash);
uint64_t eval_done_hash(const struct eval_state *st, long index);
/* Opens (creating) the journal; with --resume, reads what was graded. */
int eval_open_journal(struct eval_state *st);
void eval_journal_write(struct eval_state *st, long index, cJSON *line);
/* Counts of a finished file, for the summary and pass@k. */
/* Writes the journal in sample order into the results file, tallying. */
int eval_finalize(struct eval_state *st, long total, struct rb_tally *tally);
/* Tallies a finished results file (a resumed, finished run). */
int eval_tally_file(const char *path, struct rb_tally *tally, char *err, size_t errlen);

/* eval_report.c */
void eval_print_passk(const struct eval_state *st, const struct rb_tally *t, double secs);
void eval_print_shard(const struct eval_state *st, const struct rb_tally *t, double secs);
int eval_write_evalplus_json(const struct eval_state *st, char *err, size_t errlen);

/* The code a sample carries: its completion, else its solution. */
const char *eval_sample_code(const cJSON *sample, int *is_solution);

#endif
