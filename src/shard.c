#define _GNU_SOURCE
#include "shard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idset.h"

#define SHARDS_MAX 100000

static bool parse_long(const char *text, long *out)
{
    if (!text || !*text)
        return false;
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static int from_slurm(const char *count_text, struct rb_shard *out, char *err, size_t errlen)
{
    const char *id = getenv("SLURM_ARRAY_TASK_ID");
    const char *count = getenv("SLURM_ARRAY_TASK_COUNT");
    long i, n, min = 0, step = 1;
    if (count_text) {
        /* The batch's shard count given: the task id is the shard. A
         * re-submission of some of the tasks (sbatch --array=2,5) is an array
         * of its own, whose TASK_COUNT and TASK_MIN say nothing of the batch. */
        if (!parse_long(id, &i)) {
            snprintf(err, errlen, "--shard slurm:N: SLURM_ARRAY_TASK_ID must be set "
                                  "(run inside a Slurm job array: sbatch --array=0-N-1)");
            return -EINVAL;
        }
        if (!parse_long(count_text, &n)) {
            snprintf(err, errlen, "--shard slurm:N: expected a whole number of shards, got '%s'", count_text);
            return -EINVAL;
        }
        out->index = i;
        out->count = n;
        return 0;
    }
    if (!parse_long(id, &i) || !parse_long(count, &n)) {
        snprintf(err, errlen, "--shard slurm: SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT must be set "
                              "(run inside a Slurm job array: sbatch --array=0-N)");
        return -EINVAL;
    }
    /* Arrays need not start at 0 or step by 1 (--array=1-8, --array=0-20:5). */
    if (getenv("SLURM_ARRAY_TASK_MIN") && !parse_long(getenv("SLURM_ARRAY_TASK_MIN"), &min))
        min = 0;
    if (getenv("SLURM_ARRAY_TASK_STEP") && (!parse_long(getenv("SLURM_ARRAY_TASK_STEP"), &step) || step < 1))
        step = 1;
    out->index = (i - min) / step;
    out->count = n;
    return 0;
}

static int from_k8s(const char *count_text, struct rb_shard *out, char *err, size_t errlen)
{
    long i, n;
    if (!parse_long(getenv("JOB_COMPLETION_INDEX"), &i)) {
        snprintf(err, errlen, "--shard k8s: JOB_COMPLETION_INDEX is not set (run as a Kubernetes "
                              "Indexed Job: completionMode: Indexed)");
        return -EINVAL;
    }
    if (!count_text)
        count_text = getenv("RUNBOX_SHARD_COUNT");
    if (!parse_long(count_text, &n)) {
        snprintf(err, errlen, "--shard k8s: give the number of shards as --shard k8s:N or in "
                              "RUNBOX_SHARD_COUNT (the Job's completions)");
        return -EINVAL;
    }
    out->index = i;
    out->count = n;
    return 0;
}

int rb_shard_parse(const char *text, struct rb_shard *out, char *err, size_t errlen)
{
    int rc;
    memset(out, 0, sizeof *out);
    if (strcmp(text, "slurm") == 0 || strncmp(text, "slurm:", 6) == 0) {
        rc = from_slurm(text[5] == ':' ? text + 6 : NULL, out, err, errlen);
    } else if (strcmp(text, "k8s") == 0 || strncmp(text, "k8s:", 4) == 0) {
        rc = from_k8s(text[3] == ':' ? text + 4 : NULL, out, err, errlen);
    } else {
        const char *slash = strchr(text, '/');
        char left[32];
        if (!slash || (size_t)(slash - text) >= sizeof left) {
            snprintf(err, errlen, "--shard: expected I/N, slurm[:N] or k8s[:N], got '%s'", text);
            return -EINVAL;
        }
        memcpy(left, text, (size_t)(slash - text));
        left[slash - text] = '\0';
        if (!parse_long(left, &out->index) || !parse_long(slash + 1, &out->count)) {
            snprintf(err, errlen, "--shard: expected I/N with whole numbers, got '%s'", text);
            return -EINVAL;
        }
        rc = 0;
    }
    if (rc == 0 && (out->count < 1 || out->count > SHARDS_MAX || out->index < 0 || out->index >= out->count)) {
        snprintf(err, errlen, "--shard: shard %ld of %ld does not exist (shards are numbered 0 to N-1, N at most %d)",
                 out->index, out->count, SHARDS_MAX);
        rc = -EINVAL;
    }
    return rc;
}

long rb_shard_of(const char *key, size_t len, long count)
{
    /* The same 64-bit hash the id set uses: FNV-1a and a splitmix64 finish,
     * fixed across machines, byte orders and versions of runbox. */
    return (long)(rb_id_hash(key, len) % (uint64_t)count);
}

bool rb_shard_mine(const struct rb_shard *s, const char *key, size_t len)
{
    return s->count == 0 || rb_shard_of(key, len, s->count) == s->index;
}
