/*
 * The batch driver `runbox run` and `runbox eval` share: the flags both take,
 * the results file (opened for append, resumed, a torn last line dropped),
 * the termination signals read from a signalfd, and the loop that feeds
 * work to a batch while it has free slots, polls, and runs it.
 *
 * A command fills its own options around rb_driver_take_option, opens its
 * results with rb_results_open, and hands the loop a `feed` function that
 * submits one piece of work per call.
 */
#ifndef RB_DRIVER_H
#define RB_DRIVER_H

#include <getopt.h>
#include <stdbool.h>

#include "batch.h"
#include "progress.h"
#include "runbox.h"
#include "shard.h"

/* The flags of run and eval, and what they set. */
struct rb_driver_options {
    const char *output;       /* -o */
    rb_pool_config pool;      /* -j, --timeout, --cpu-time, --memory, ... */
    bool resume;
    bool overwrite;
    bool quiet;
    const char *stats;        /* --stats FILE */
    struct rb_shard shard;    /* --shard */
    int table;                /* --table / --no-table: 1, 0, or -1 (on when stdout is a terminal) */
};

#define RB_DRIVER_SHORTOPTS "o:j:qv"

/* getopt_long's table: the driver's long options followed by `own` (which
 * ends with a zeroed entry). Malloc'd; the values of the driver's own
 * entries are at or above RB_DRIVER_OPT_BASE, so a command's must be below. */
#define RB_DRIVER_OPT_BASE 1000
struct option *rb_driver_longopts(const struct option *own);

/* Takes `c` (what getopt_long returned) when it is a driver option: 1 when
 * taken, 0 when it is not one, RB_EXIT_USAGE (2) after printing why its
 * value is wrong. */
int rb_driver_take_option(int c, const char *arg, struct rb_driver_options *o);

/* The help text of the driver's options, one per line. */
extern const char RB_DRIVER_USAGE[];

/* ---- the results file ------------------------------------------------------ */

/* Called with each complete line of a results file being resumed: 0 keeps
 * it and reads on, 1 keeps everything before it and drops it and the rest
 * (a line that is not ours), a negative errno stops with that error. */
typedef int (*rb_results_line_fn)(void *ctx, const char *line, size_t len);

struct rb_results_file {
    int fd;
    const char *name;   /* NULL for standard output */
};

/* Opens `path` ("-": standard output) for records: created 0600 (records
 * hold every job's output, which other jobs must not read); refused when it
 * exists and is not empty unless `resume` (each complete line is handed to
 * `each`, a torn last line dropped) or `overwrite` (emptied). Appends from
 * then on. 0, or a negative errno after printing why. */
int rb_results_open(struct rb_results_file *f, const char *path, bool resume, bool overwrite, bool quiet,
                    rb_results_line_fn each, void *ctx);
void rb_results_close(struct rb_results_file *f);

/* ---- the loop ------------------------------------------------------------- */

/* Marks the supervisor non-dumpable (no job reads its memory through /proc)
 * and a child subreaper (nothing a job starts slips away), ignores SIGPIPE,
 * and returns a signalfd for SIGINT, SIGTERM and SIGHUP, which are blocked:
 * or a negative errno. */
int rb_driver_prepare_process(void);

/* One piece of work per call, submitted to the batch: 1 when more may
 * follow, 0 when the input is exhausted, -EAGAIN when the input has no
 * complete line yet (the loop polls `input_fd`), or RB_FEED_FAILED when the
 * command must stop (it has said why). */
#define RB_FEED_FAILED (-100000)
typedef int (*rb_feed_fn)(void *ctx);

struct rb_driver {
    struct rb_batch *batch;
    struct rb_progress *progress;
    int sigfd;
    int input_fd;             /* polled after -EAGAIN; -1 for none */
    rb_feed_fn feed;          /* NULL: nothing to feed, run what was submitted */
    /* Submits work deferred by the batch's callbacks, which must not submit
     * from inside themselves (a pool or a job of several runs is in the
     * middle of delivering then): called every turn, before the loop decides
     * it is done. 0, or RB_FEED_FAILED. NULL: none. */
    rb_feed_fn deferred;
    void *ctx;
    const int *write_error;   /* the loop stops when it becomes non-zero */
};

/* Feeds, polls and runs until the input is exhausted and every record is
 * out, or a signal or a failure stops it. RB_EXIT_OK, RB_EXIT_FAILURE or
 * RB_EXIT_INTERRUPTED (jobs still in flight are the caller's to free). */
int rb_driver_run(struct rb_driver *d);

#endif
