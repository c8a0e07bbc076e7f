/*
 * The manifest: one JSON object per line, read as a stream. Every rule a line
 * can break is checked here, and the message names the line and the field.
 */
#ifndef RB_MANIFEST_H
#define RB_MANIFEST_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "compare.h"
#include "lines.h"
#include "runbox.h"
#include "util.h"

/* A job parsed from a line. `job` points into `tree` and the arrays below;
 * free with rb_manifest_job_free. */
/* One of a job's commands: the job's program run again with its own input,
 * arguments and time limit, in the same working dir. */
struct rb_manifest_command {
    const char *stdin_data;
    size_t stdin_len;
    const char **argv;   /* NULL: the job's */
    size_t argc;
    double timeout;      /* 0: the job's */
};

/* One stdin/stdout test case; the expected output never leaves the supervisor. */
struct rb_manifest_case {
    const char *stdin_data;
    size_t stdin_len;
    const char *expected;
    size_t expected_len;
    double timeout;      /* seconds for this case; 0: the job's */
};

struct rb_manifest_job {
    cJSON *tree;
    rb_job job;
    const char **argv;
    char *resolved;  /* file jobs: the path resolved against the base dir */
    struct rb_manifest_case *cases; /* NULL for a job without cases */
    size_t ncases;
    struct rb_compare compare;
    bool early_stop;
    char *globals_json;   /* the globals object, printed back */
    const char **capture;
    const char **python_path;
    const char **tracked;
    rb_file *files;
    long num_times;       /* 0: run once */
    struct rb_manifest_command *commands; /* NULL for a job without commands */
    size_t ncommands;
    rb_call *calls;       /* function-call tests, their values tagged (malloc'd) */
    size_t ncalls;
};

/* Why a line is invalid. `id` is the line's id when it had a usable one. */
struct rb_manifest_error {
    char message[512];
    char *id;
};

/* Every field name a line may have (any other is refused as unknown), so
 * that other front ends (the Python package) know the same list. */
const char *const *rb_manifest_field_names(size_t *n);

/* Parses one line (without its newline). `base_dir` resolves relative `file`
 * paths (NULL: the current directory). Returns 1 with `out` filled, 0 for a
 * blank line, or -EINVAL with `err` filled. */
int rb_manifest_parse_line(const char *line, size_t len, long line_no, const char *base_dir,
                           struct rb_manifest_job *out, struct rb_manifest_error *err);
void rb_manifest_job_free(struct rb_manifest_job *job);
void rb_manifest_error_free(struct rb_manifest_error *err);

#endif
