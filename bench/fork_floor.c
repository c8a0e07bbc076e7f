/* fork_floor: the cost of a bare process per job, as a floor for runbox.
 *
 *   fork_floor RSS_KB JOBS INFLIGHT
 *
 * First allocates RSS_KB KiB and writes to every page, so this process is as
 * large (resident, private, dirty) as runbox's zygote: fork() copies page
 * tables, so the size of the parent is part of a fork's cost. Then, for each
 * of JOBS jobs, forks a child that writes one line to a pipe of its own and
 * _exits, keeping INFLIGHT children alive at once; the parent reads each
 * child's line to end-of-file and reaps it before starting the next.
 *
 * Prints one JSON object on stdout: jobs, wall seconds (from the first fork
 * to the last reap, allocation excluded), jobs per second, the resident size
 * reached, and each job's latency (fork to reap) in microseconds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct slot {
    pid_t pid;
    int fd;
    long job;
    long long start_ns;
    size_t got;
    char line[64];
};

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "fork_floor: %s: %s\n", what, strerror(errno));
    exit(1);
}

static long parse(const char *s, const char *name, long min)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min) {
        fprintf(stderr, "fork_floor: %s: expected a whole number >= %ld, got '%s'\n", name, min, s);
        exit(2);
    }
    return v;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char buf[256];
    long kb = -1;
    if (!f)
        return -1;
    while (fgets(buf, sizeof buf, f))
        if (sscanf(buf, "VmRSS: %ld", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static void start(struct slot *s, long job)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        die("pipe");
    s->start_ns = now_ns();
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        char line[64];
        int n = snprintf(line, sizeof line, "job %ld done\n", job);
        ssize_t w = write(p[1], line, (size_t)n);
        _exit(w == n ? 0 : 1);
    }
    close(p[1]);
    s->pid = pid;
    s->fd = p[0];
    s->job = job;
    s->got = 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: fork_floor RSS_KB JOBS INFLIGHT\n");
        return 2;
    }
    long kb = parse(argv[1], "RSS_KB", 0);
    long jobs = parse(argv[2], "JOBS", 1);
    long inflight = parse(argv[3], "INFLIGHT", 1);
    if (inflight > jobs)
        inflight = jobs;

    /* Resident like the zygote: private pages, written (not the zero page). */
    size_t bytes = (size_t)kb * 1024;
    char *mem = bytes ? malloc(bytes) : NULL;
    if (bytes && !mem)
        die("malloc");
    long page = sysconf(_SC_PAGESIZE);
    for (size_t i = 0; i < bytes; i += (size_t)page)
        mem[i] = (char)(i / (size_t)page + 1);
    long resident = rss_kb();

    struct slot *slots = calloc((size_t)inflight, sizeof *slots);
    struct pollfd *pfd = calloc((size_t)inflight, sizeof *pfd);
    long *lat_us = calloc((size_t)jobs, sizeof *lat_us);
    if (!slots || !pfd || !lat_us)
        die("calloc");

    long long t0 = now_ns();
    long next = 0, done = 0, bad = 0;
    for (long i = 0; i < inflight; i++)
        start(&slots[i], next++);
    long live = inflight;
    while (live > 0) {
        for (long i = 0; i < inflight; i++) {
            pfd[i].fd = slots[i].pid ? slots[i].fd : -1;
            pfd[i].events = POLLIN;
            pfd[i].revents = 0;
        }
        if (poll(pfd, (nfds_t)inflight, -1) < 0) {
            if (errno == EINTR)
                continue;
            die("poll");
        }
        for (long i = 0; i < inflight; i++) {
            struct slot *s = &slots[i];
            if (!s->pid || !pfd[i].revents)
                continue;
            ssize_t n = read(s->fd, s->line + s->got, sizeof s->line - 1 - s->got);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                die("read");
            }
            if (n > 0) {
                s->got += (size_t)n;
                if (s->got < sizeof s->line - 1)
                    continue;
            }
            /* End of file (or a full buffer): the child has written and exited. */
            close(s->fd);
            int status;
            while (waitpid(s->pid, &status, 0) < 0)
                if (errno != EINTR)
                    die("waitpid");
            s->line[s->got] = 0;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || s->got == 0 || s->line[s->got - 1] != '\n')
                bad++;
            lat_us[s->job] = (long)((now_ns() - s->start_ns) / 1000);
            done++;
            s->pid = 0;
            if (next < jobs)
                start(s, next++);
            else
                live--;
        }
    }
    double wall = (double)(now_ns() - t0) / 1e9;
    if (mem)
        mem[0] ^= 1; /* keep the allocation live to the end */

    printf("{\"jobs\": %ld, \"failed\": %ld, \"wall_s\": %.6f, \"jobs_per_s\": %.3f, \"rss_kb\": %ld, \"lat_us\": [",
           done, bad, wall, wall > 0 ? (double)done / wall : 0.0, resident);
    for (long i = 0; i < jobs; i++)
        printf("%s%ld", i ? "," : "", lat_us[i]);
    printf("]}\n");
    return bad ? 1 : 0;
}
