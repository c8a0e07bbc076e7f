/* --stats: what a batch cost, for benchmarks and capacity planning. */
#ifndef RB_STATS_H
#define RB_STATS_H

#include <stdint.h>

#include "runbox.h"

struct rb_stats {
    int64_t start_ns;
    long jobs;
    double job_cpu;        /* summed over every run of every job */
    double job_wall;
    long job_minor_faults;
    long runs;
};

void rb_stats_init(struct rb_stats *st);
void rb_stats_add(struct rb_stats *st, const rb_result *r);

/* Writes one JSON object to `path` ("-": stderr): jobs, wall time, rate, and
 * the CPU time and peak memory of the supervisor itself, of the zygote and
 * of the jobs. Call after the pool is freed, so the zygote has been reaped. */
int rb_stats_write(const struct rb_stats *st, const char *path);

#endif
