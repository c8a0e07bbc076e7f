/* Splitting a batch over N independent runs (Slurm arrays, Kubernetes
 * Indexed Jobs): every job lands in exactly one shard, decided by a stable
 * hash of its identity, whatever the manifest's order or the machine. */
#ifndef RB_SHARD_H
#define RB_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rb_shard {
    long index; /* 0-based */
    long count; /* 0: not sharded */
};

/* Parses "I/N" (0 <= I < N), "slurm" (SLURM_ARRAY_TASK_ID and friends),
 * "slurm:N" (shard SLURM_ARRAY_TASK_ID of N, for re-submitted tasks) or
 * "k8s" / "k8s:N" (JOB_COMPLETION_INDEX, and N or RUNBOX_SHARD_COUNT). On
 * failure `err` says what is missing or wrong. */
int rb_shard_parse(const char *text, struct rb_shard *out, char *err, size_t errlen);

/* The shard of a job with this identity (its id, or for an eval sample its
 * task and code). */
long rb_shard_of(const char *key, size_t len, long count);

/* Whether this run takes the job. */
bool rb_shard_mine(const struct rb_shard *s, const char *key, size_t len);

#endif
