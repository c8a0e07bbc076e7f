#define _GNU_SOURCE
#include "stats.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "results.h"
#include "util.h"

void rb_stats_init(struct rb_stats *st)
{
    memset(st, 0, sizeof *st);
    st->start_ns = rb_now_ns();
}

void rb_stats_add(struct rb_stats *st, const rb_result *r)
{
    st->runs++;
    st->job_cpu += r->cpu_time;
    st->job_wall += r->runtime;
    st->job_minor_faults += r->minor_faults;
}

static double seconds(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* The supervisor's own peak resident size. Not ru_maxrss: Linux carries
 * that across execve, so runbox started by a large process would report the
 * starter's peak. VmHWM is this image's. */
static long peak_rss_kb(const struct rusage *self)
{
    FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    long kb = -1;
    while (f && kb < 0 && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb >= 0 ? kb : self->ru_maxrss;
}

static double r6(double v)
{
    return round(v * 1e6) / 1e6;
}

int rb_stats_write(const struct rb_stats *st, const char *path)
{
    struct rusage self, children;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children); /* the zygote, and through it every worker */
    double wall = (double)(rb_now_ns() - st->start_ns) / 1e9;
    double sup = seconds(self.ru_utime) + seconds(self.ru_stime);
    double all_children = seconds(children.ru_utime) + seconds(children.ru_stime);
    long runs = st->runs ? st->runs : 1;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "jobs", (double)st->jobs);
    cJSON_AddNumberToObject(o, "runs", (double)st->runs);
    cJSON_AddNumberToObject(o, "wall_s", r6(wall));
    cJSON_AddNumberToObject(o, "jobs_per_s", wall > 0 ? r6((double)st->jobs / wall) : 0);
    cJSON_AddNumberToObject(o, "supervisor_cpu_s", r6(sup));
    cJSON_AddNumberToObject(o, "supervisor_max_rss_kb", (double)peak_rss_kb(&self));
    cJSON_AddNumberToObject(o, "zygote_cpu_s", r6(all_children - st->job_cpu > 0 ? all_children - st->job_cpu : 0));
    cJSON_AddNumberToObject(o, "job_cpu_s", r6(st->job_cpu));
    cJSON_AddNumberToObject(o, "job_cpu_per_run_ms", r6(st->job_cpu / (double)runs * 1e3));
    cJSON_AddNumberToObject(o, "job_wall_per_run_ms", r6(st->job_wall / (double)runs * 1e3));
    cJSON_AddNumberToObject(o, "job_minor_faults_per_run", r6((double)st->job_minor_faults / (double)runs));
    cJSON_AddNumberToObject(o, "supervisor_cpu_per_run_ms", r6(sup / (double)runs * 1e3));
    int fd = strcmp(path, "-") == 0 ? STDERR_FILENO : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = fd < 0 ? -errno : rb_record_write(fd, o);
    if (fd > STDERR_FILENO)
        close(fd);
    cJSON_Delete(o);
    return rc;
}
