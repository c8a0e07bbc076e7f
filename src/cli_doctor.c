/*
 * `runbox doctor`: which sandbox layers this machine gives, and why any is
 * missing. It does not trust the set-up alone: it runs a probe job per layer
 * and reports what the probe saw.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "runbox.h"
#include "util.h"

static const char DOCTOR_USAGE[] =
    "Usage: runbox doctor [--json] [--no-landlock] [--no-namespaces]\n"
    "\n"
    "Reports which sandbox layers jobs get on this machine, why any is missing,\n"
    "and checks each with a probe job.\n"
    "\n"
    "Options:\n"
    "      --json           one JSON object on stdout instead of the table\n"
    "      --no-landlock    as runbox run --no-landlock would run\n"
    "      --no-namespaces  as runbox run --no-namespaces would run\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit status: 0 when jobs can run (seccomp works), 1 when they cannot.\n";

/* A probe prints one line; what it means is decided here. */
struct probe {
    const char *id;
    const char *source;
    char out[256];
    rb_status status;
    bool done;
};

static struct probe PROBES[] = {
    { .id = "seccomp", .source = "import os\ntry:\n    os.fork()\n    print('fork worked')\n"
                                 "except PermissionError:\n    print('refused')" },
    /* A name of its own, removed again: without Landlock the write works. */
    { .id = "landlock", .source = "import os\npath = '/tmp/.runbox-doctor-probe-' + os.urandom(8).hex()\n"
                                  "try:\n    open(path, 'x').close()\n    os.unlink(path)\n    print('wrote')\n"
                                  "except PermissionError:\n    print('refused')" },
    { .id = "network", .source = "lines = open('/proc/net/dev').read().splitlines()[2:]\n"
                                 "print(' '.join(sorted(l.split(':')[0].strip() for l in lines)))" },
    { .id = "pid", .source = "import os\nprint(len([p for p in os.listdir('/proc') if p.isdigit()]), os.getppid())" },
    { .id = "user", .source = "import os\nprint(os.getuid(), os.getgid())" },
    /* The status channel: not reopened through /proc, not closed. */
    { .id = "channel", .source = "import os\nr = []\ntry:\n    open('/proc/self/fd/1020')\n    r.append('reopened')\n"
                                 "except OSError:\n    pass\ntry:\n    os.close(1020)\n    r.append('closed')\n"
                                 "except OSError:\n    pass\nprint(' '.join(r) or 'refused')" },
    /* Threads until the next one fails (small stacks, so memory is not what stops it). */
    { .id = "threads", .source = "import threading\nthreading.stack_size(65536)\nev = threading.Event()\nn = 0\n"
                                 "try:\n    while n < 100000:\n        threading.Thread(target=ev.wait, daemon=True).start()\n"
                                 "        n += 1\nexcept RuntimeError:\n    pass\nev.set()\nprint(n + 1)" },
    /* Metadata by path, and inotify: refused before the path is even looked up. */
    { .id = "metadata", .source = "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                                  "r = libc.chmod(b'/.runbox-doctor-no-such-file', 0o777)\ne1 = ctypes.get_errno()\n"
                                  "r2 = libc.inotify_init()\ne2 = ctypes.get_errno()\n"
                                  "print('refused' if r < 0 and e1 == 1 and r2 < 0 and e2 == 1 else 'allowed %d %d' % (e1, e2))" },
};
#define NPROBES (sizeof PROBES / sizeof PROBES[0])

static void on_probe(const rb_result *r, void *ctx)
{
    (void)ctx;
    struct probe *p = r->user;
    size_t n = r->stdout_len < sizeof p->out - 1 ? r->stdout_len : sizeof p->out - 1;
    memcpy(p->out, r->stdout_data, n);
    while (n > 0 && p->out[n - 1] == '\n')
        n--;
    p->out[n] = '\0';
    p->status = r->status;
    p->done = true;
}

static struct probe *probe(const char *id)
{
    for (size_t i = 0; i < NPROBES; i++)
        if (strcmp(PROBES[i].id, id) == 0)
            return &PROBES[i];
    return NULL;
}

static const char *read_first_line(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *ok = fgets(buf, (int)len, f);
    fclose(f);
    if (!ok)
        return NULL;
    buf[strcspn(buf, "\n")] = '\0';
    return buf;
}

struct row {
    const char *layer;
    bool active;
    char detail[400];
};

static void add_row(cJSON *json, struct row *rows, size_t *n, const char *layer, bool active,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void add_row(cJSON *json, struct row *rows, size_t *n, const char *layer, bool active,
                    const char *fmt, ...)
{
    struct row *r = &rows[(*n)++];
    r->layer = layer;
    r->active = active;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "active", active);
    cJSON_AddStringToObject(o, "detail", r->detail);
    cJSON_AddItemToObject(json, layer, o);
}

int rb_cli_doctor(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "json", no_argument, NULL, 'J' },
        { "no-landlock", no_argument, NULL, 'L' },
        { "no-namespaces", no_argument, NULL, 'N' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool json_out = false;
    rb_pool_config cfg = { .jobs = 2, .preload = "" };
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'J': json_out = true; break;
        case 'L': cfg.no_landlock = true; break;
        case 'N': cfg.no_namespaces = true; break;
        case 'h': fputs(DOCTOR_USAGE, stdout); return RB_EXIT_OK;
        default:
            rb_cli_error("unknown option '%s'", argv[optind - 1]);
            fputs("Try 'runbox doctor --help'.\n", stderr);
            return RB_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        rb_cli_error("unexpected argument '%s'", argv[optind]);
        return RB_EXIT_USAGE;
    }

    struct utsname un;
    uname(&un);
    char buf[256];
    const char *userns_max = read_first_line("/proc/sys/user/max_user_namespaces", buf, sizeof buf);
    long max_userns = userns_max ? strtol(userns_max, NULL, 10) : -1;
    char clone_buf[32];
    const char *userns_clone = read_first_line("/proc/sys/kernel/unprivileged_userns_clone", clone_buf,
                                               sizeof clone_buf);
    bool kernel_seccomp = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;

    cJSON *json = cJSON_CreateObject();
    cJSON_AddStringToObject(json, "runbox", RB_VERSION);
    cJSON_AddStringToObject(json, "kernel", un.release);
    cJSON_AddBoolToObject(json, "root", geteuid() == 0);
    cJSON *layers = cJSON_AddObjectToObject(json, "layers");
    struct row rows[24];
    size_t nrows = 0;

    char err[512];
    rb_pool *pool = NULL;
    int rc = rb_pool_new(&cfg, on_probe, NULL, &pool, err, sizeof err);
    rb_layers l = { 0 };
    if (rc == 0) {
        rb_pool_layers(pool, &l);
        for (size_t i = 0; i < NPROBES; i++) {
            rb_job job = { .id = PROBES[i].id, .program = PROBES[i].source,
                           .limits = { .timeout = 20, .memory_mb = 2048 }, .user = &PROBES[i] };
            rb_pool_submit(pool, &job);
        }
        rb_pool_drain(pool);
        rb_pool_free(pool);
    }
    cJSON_AddStringToObject(json, "python", l.python);
    cJSON_AddBoolToObject(json, "can_run", rc == 0);
    if (rc < 0)
        cJSON_AddStringToObject(json, "error", err);

    add_row(layers, rows, &nrows, "rlimits", rc == 0,
            "CPU time, memory, file size 64 MiB, 256 open files, threads, no core dumps, 8 MiB stack");
    struct probe *p = probe("seccomp");
    if (rc < 0)
        add_row(layers, rows, &nrows, "seccomp", false, "%s", kernel_seccomp ? err : "the kernel has no seccomp filtering: runbox will not run jobs");
    else
        add_row(layers, rows, &nrows, "seccomp", l.seccomp && strcmp(p->out, "refused") == 0,
                "allowlist; probe: os.fork() %s", strcmp(p->out, "refused") == 0 ? "is refused" : p->out);
    p = probe("landlock");
    if (l.landlock_abi > 0)
        add_row(layers, rows, &nrows, "landlock", strcmp(p->out, "refused") == 0,
                "ABI %d: reads of the interpreter's files and the job's inputs, writes in its working dir only; probe: writing /tmp %s",
                l.landlock_abi, strcmp(p->out, "refused") == 0 ? "is refused" : p->out);
    else
        add_row(layers, rows, &nrows, "landlock", false, "%s", rc < 0 ? "not checked" : l.landlock_why);
    const char *ns_why = l.namespaces_why[0] ? l.namespaces_why : "not checked";
    add_row(layers, rows, &nrows, "user_namespace", l.user_namespace, "%s",
            l.user_namespace ? "jobs run in a user namespace of their own"
                             : ns_why);
    p = probe("network");
    if (l.network_namespace)
        add_row(layers, rows, &nrows, "network_namespace", strcmp(p->out, "lo") == 0,
                "no network; probe: the interfaces a job sees are: %s", p->out);
    else
        add_row(layers, rows, &nrows, "network_namespace", false, "%s", ns_why);
    p = probe("pid");
    int nproc = 0, ppid = -1;
    sscanf(p->out, "%d %d", &nproc, &ppid);
    if (l.pid_namespace)
        add_row(layers, rows, &nrows, "pid_namespace", ppid == 0,
                "jobs see and signal only jobs; probe: %d processes in /proc%s", nproc,
                l.private_proc ? " (a private /proc)" : " (the host's /proc: see the namespaces reason)");
    else
        add_row(layers, rows, &nrows, "pid_namespace", false, "%s", ns_why);
    add_row(layers, rows, &nrows, "ipc_uts_namespaces", l.ipc_namespace && l.uts_namespace, "%s",
            l.ipc_namespace ? "no System V IPC or message queues shared with the host; host name 'runbox'" : ns_why);
    p = probe("user");
    add_row(layers, rows, &nrows, "privilege_drop", l.privilege_drop || geteuid() != 0, "%s",
            l.privilege_drop ? "runbox runs as root; each job under a uid of its own (from 1879048192)"
                             : "runbox is not root: jobs run as its user, without capabilities");
    add_row(layers, rows, &nrows, "not_dumpable", rc == 0, "%s",
            "no job can read runbox's or another job's memory through /proc");
    p = probe("channel");
    add_row(layers, rows, &nrows, "status_channel", rc == 0 && strcmp(p->out, "refused") == 0,
            "verdicts travel on a socket the job cannot read, reopen, close or shut down, and are "
            "sent before any of its code runs again; probe: %s",
            strcmp(p->out, "refused") == 0 ? "reopening and closing it are refused" : p->out);
    p = probe("threads");
    long threads = strtol(p->out, NULL, 10);
    if (geteuid() == 0)
        add_row(layers, rows, &nrows, "thread_bound", rc == 0 && threads > 0 && threads <= 256,
                "at most 256 threads per job (RLIMIT_NPROC in its own uid); probe: %ld", threads);
    else
        add_row(layers, rows, &nrows, "thread_bound", rc == 0 && threads > 0 && threads < 32768,
                "a bound the batch shares (runbox is not root: jobs share its uid); probe: %ld threads", threads);
    p = probe("metadata");
    add_row(layers, rows, &nrows, "metadata_and_kernel", rc == 0 && strcmp(p->out, "refused") == 0,
            "chmod, chown, utime and xattrs by path, inotify, pipe and socket buffer sizes, socket BPF: "
            "refused; working dirs fresh or reset for each job; probe: %s",
            strcmp(p->out, "refused") == 0 ? "chmod by path and inotify are refused" : p->out);

    int status = rc == 0 ? RB_EXIT_OK : RB_EXIT_FAILURE;
    if (json_out) {
        cJSON *hints = cJSON_AddObjectToObject(json, "kernel_settings");
        cJSON_AddNumberToObject(hints, "max_user_namespaces", (double)max_userns);
        if (userns_clone)
            cJSON_AddStringToObject(hints, "unprivileged_userns_clone", userns_clone);
        char *text = cJSON_Print(json);
        puts(text);
        cJSON_free(text);
    } else {
        printf("runbox %s on Linux %s, Python %s, running as %s\n\n", RB_VERSION, un.release,
               l.python[0] ? strtok(l.python, " ") : "?", geteuid() == 0 ? "root" : "an ordinary user");
        printf("%-20s %-8s %s\n", "layer", "status", "detail");
        for (size_t i = 0; i < nrows; i++)
            printf("%-20s %-8s %s\n", rows[i].layer, rows[i].active ? "active" : "MISSING", rows[i].detail);
        if (rc < 0)
            printf("\nJobs cannot run here: %s\n", err);
        else if (max_userns == 0)
            printf("\nUser namespaces are turned off (user.max_user_namespaces = 0).\n");
    }
    cJSON_Delete(json);
    return status;
}
