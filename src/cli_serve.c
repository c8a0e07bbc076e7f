/*
 * `runbox serve`: options, the listening address, the token, signals; the
 * service itself is serve.c.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli.h"
#include "driver.h"
#include "serve.h"

static const char SERVE_USAGE[] =
    "Usage: runbox serve [--listen ADDR:PORT] [options]\n"
    "\n"
    "Serves the sandbox over HTTP: SandboxFusion's POST /run_code, POST /v1/jobs\n"
    "(a manifest in, one record per job streamed out), GET /healthz, GET /metrics.\n"
    "One pool, one zygote, for the service's life. See docs/service.md.\n"
    "\n"
    "Options:\n"
    "      --listen ADDR:PORT  where to listen (default 127.0.0.1:8080; PORT alone\n"
    "                          means 127.0.0.1; [::1]:PORT for IPv6; port 0 picks one)\n"
    "      --token-file FILE   require 'Authorization: Bearer <token>', the token\n"
    "                          being FILE's first line (all but /healthz, /v1/ping)\n"
    "  -j, --jobs N            jobs in flight (default: the number of CPUs)\n"
    "      --queue N           jobs that may wait for a slot; past it 503 (default 1024)\n"
    "      --max-jobs N        jobs in one /v1/jobs request; past it 413 (default 1000)\n"
    "      --max-body SIZE     bytes in a request body, K or M suffix; past it 413 (default 16M)\n"
    "      --max-connections N open connections; more wait to be accepted (default 1024)\n"
    "      --request-timeout S seconds a request may wait for its jobs; then 504 (default 300)\n"
    "      --grace S           seconds admitted jobs get to finish after SIGTERM (default 30)\n"
    "      --idle-timeout S    seconds an idle keep-alive connection stays open (default 60)\n"
    "      --files-root DIR    let /v1/jobs jobs use 'file' and 'python_path' under DIR\n"
    "      --access-log FILE   one line per request (default: standard error; - for stdout)\n"
    "      --no-access-log     no access log\n"
    "      --timeout S         wall-clock limit per job, for jobs without one (default 10)\n"
    "      --cpu-time S        CPU limit per job (default: the timeout)\n"
    "      --memory MB         memory limit per job (default 1024)\n"
    "      --output-limit KB   cap on each of stdout and stderr (default 1024)\n"
    "      --workdir DIR       where the per-job working dirs go (default $TMPDIR or /tmp)\n"
    "      --preload MODS      comma-separated modules to import once, before any job\n"
    "      --python-path DIR   an import root for every job (repeatable)\n"
    "      --no-landlock       leave out the Landlock layer (see runbox doctor)\n"
    "      --no-namespaces     leave out the namespaces layer\n"
    "  -v, --verbose           diagnostics of runbox itself on stderr\n"
    "  -h, --help              this text\n"
    "\n"
    "SIGTERM or SIGINT: stop accepting, let admitted jobs finish within --grace,\n"
    "exit 0. A second signal ends the wait. Exit status 1 when the service could\n"
    "not start, 2 for bad usage.\n";

struct serve_options {
    struct rb_serve_config cfg;
    const char *listen;
    const char *token_file;
    const char *access_log;
    bool no_access_log;
};

enum { OPT_LISTEN = 256, OPT_TOKEN_FILE, OPT_QUEUE, OPT_MAX_JOBS, OPT_MAX_BODY, OPT_MAX_CONNECTIONS,
       OPT_REQUEST_TIMEOUT, OPT_GRACE, OPT_IDLE_TIMEOUT, OPT_FILES_ROOT, OPT_ACCESS_LOG, OPT_NO_ACCESS_LOG,
       OPT_TIMEOUT, OPT_CPU, OPT_MEMORY, OPT_OUTPUT_LIMIT, OPT_WORKDIR, OPT_PRELOAD, OPT_PYTHON_PATH,
       OPT_NO_LANDLOCK, OPT_NO_NAMESPACES };

#define MAX_PYTHON_PATH 64

/* "16M", "512K", "1000": bytes. */
static bool parse_size(const char *flag, const char *text, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    unsigned long long mult = 1;
    if (*end == 'K' || *end == 'k')
        mult = 1024, end++;
    else if (*end == 'M' || *end == 'm')
        mult = 1024 * 1024, end++;
    if (errno || end == text || *end || v == 0 || v > (1ULL << 40) / mult) {
        rb_cli_error("%s: expected a size in bytes above 0 (K or M suffix allowed), got '%s'", flag, text);
        return false;
    }
    *out = (size_t)(v * mult);
    return true;
}

/* ADDR:PORT, [ADDR6]:PORT, :PORT or PORT (the last two on 127.0.0.1). */
static bool parse_listen(const char *text, struct rb_serve_config *cfg)
{
    char host[256] = "127.0.0.1";
    const char *port = text;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof host)
            goto bad;
        memcpy(host, text + 1, (size_t)(close - text - 1));
        host[close - text - 1] = '\0';
        port = close + 2;
    } else if (strchr(text, ':')) {
        const char *colon = strrchr(text, ':');
        if ((size_t)(colon - text) >= sizeof host)
            goto bad;
        if (colon > text) {
            memcpy(host, text, (size_t)(colon - text));
            host[colon - text] = '\0';
        }
        port = colon + 1;
    }
    char *end;
    errno = 0;
    long p = strtol(port, &end, 10);
    if (errno || end == port || *end || p < 0 || p > 65535)
        goto bad;
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *res = NULL;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0 || !res) {
        rb_cli_error("--listen: cannot resolve '%s': %s", host, gai_strerror(rc));
        return false;
    }
    memcpy(&cfg->addr, res->ai_addr, res->ai_addrlen);
    cfg->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    if (cfg->addr.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)(void *)&cfg->addr)->sin6_port = htons((uint16_t)p);
    else
        ((struct sockaddr_in *)(void *)&cfg->addr)->sin_port = htons((uint16_t)p);
    return true;
bad:
    rb_cli_error("--listen: expected ADDR:PORT, [ADDR6]:PORT or PORT, got '%s'", text);
    return false;
}

static bool is_loopback(const struct sockaddr_storage *a)
{
    if (a->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr) >> 24) == 127;
    if (a->ss_family == AF_INET6) {
        const struct in6_addr *in6 = &((const struct sockaddr_in6 *)(const void *)a)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(in6) ||
               (IN6_IS_ADDR_V4MAPPED(in6) && in6->s6_addr[12] == 127);
    }
    return false;
}

/* The token is the file's first line without its surrounding blanks. */
static char *read_token(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        rb_cli_error("--token-file: cannot read '%s': %s", path, strerror(errno));
        return NULL;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    fclose(f);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
        line[--n] = '\0';
    size_t lead = n > 0 ? strspn(line, " \t") : 0;
    if (n <= 0 || line[lead] == '\0') {
        rb_cli_error("--token-file: '%s' holds no token on its first line", path);
        free(line);
        return NULL;
    }
    memmove(line, line + lead, (size_t)n - lead + 1);
    return line;
}

static int parse_options(int argc, char **argv, struct serve_options *o)
{
    static const struct option longopts[] = {
        { "listen", required_argument, NULL, OPT_LISTEN },
        { "token-file", required_argument, NULL, OPT_TOKEN_FILE },
        { "jobs", required_argument, NULL, 'j' },
        { "queue", required_argument, NULL, OPT_QUEUE },
        { "max-jobs", required_argument, NULL, OPT_MAX_JOBS },
        { "max-body", required_argument, NULL, OPT_MAX_BODY },
        { "max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS },
        { "request-timeout", required_argument, NULL, OPT_REQUEST_TIMEOUT },
        { "grace", required_argument, NULL, OPT_GRACE },
        { "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
        { "files-root", required_argument, NULL, OPT_FILES_ROOT },
        { "access-log", required_argument, NULL, OPT_ACCESS_LOG },
        { "no-access-log", no_argument, NULL, OPT_NO_ACCESS_LOG },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "cpu-time", required_argument, NULL, OPT_CPU },
        { "memory", required_argument, NULL, OPT_MEMORY },
        { "output-limit", required_argument, NULL, OPT_OUTPUT_LIMIT },
        { "workdir", required_argument, NULL, OPT_WORKDIR },
        { "preload", required_argument, NULL, OPT_PRELOAD },
        { "python-path", required_argument, NULL, OPT_PYTHON_PATH },
        { "no-landlock", no_argument, NULL, OPT_NO_LANDLOCK },
        { "no-namespaces", no_argument, NULL, OPT_NO_NAMESPACES },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct rb_serve_config *c = &o->cfg;
    rb_pool_config *pool = &c->pool;
    long n;
    double secs;
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":j:vh", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_LISTEN: o->listen = optarg; break;
        case OPT_TOKEN_FILE: o->token_file = optarg; break;
        case 'j':
            if (!rb_cli_parse_long("--jobs", optarg, 1, 4096, &n))
                return RB_EXIT_USAGE;
            pool->jobs = (int)n;
            break;
        case OPT_QUEUE:
            if (!rb_cli_parse_long("--queue", optarg, 0, 10000000, &n))
                return RB_EXIT_USAGE;
            c->queue = (size_t)n;
            break;
        case OPT_MAX_JOBS:
            if (!rb_cli_parse_long("--max-jobs", optarg, 1, 10000000, &n))
                return RB_EXIT_USAGE;
            c->max_jobs = (size_t)n;
            break;
        case OPT_MAX_BODY:
            if (!parse_size("--max-body", optarg, &c->max_body))
                return RB_EXIT_USAGE;
            break;
        case OPT_MAX_CONNECTIONS:
            if (!rb_cli_parse_long("--max-connections", optarg, 1, 1000000, &n))
                return RB_EXIT_USAGE;
            c->max_connections = (unsigned)n;
            break;
        case OPT_REQUEST_TIMEOUT:
            if (!rb_cli_parse_seconds("--request-timeout", optarg, &c->request_timeout))
                return RB_EXIT_USAGE;
            break;
        case OPT_GRACE:
            if (!rb_cli_parse_seconds("--grace", optarg, &c->grace))
                return RB_EXIT_USAGE;
            break;
        case OPT_IDLE_TIMEOUT:
            if (!rb_cli_parse_seconds("--idle-timeout", optarg, &secs))
                return RB_EXIT_USAGE;
            c->idle_timeout = (unsigned)ceil(secs);
            break;
        case OPT_FILES_ROOT: {
            char *abs = realpath(optarg, NULL); /* lives as long as the process */
            if (!abs) {
                rb_cli_error("--files-root: '%s': %s", optarg, strerror(errno));
                return RB_EXIT_USAGE;
            }
            c->files_root = abs;
            break;
        }
        case OPT_ACCESS_LOG: o->access_log = optarg; break;
        case OPT_NO_ACCESS_LOG: o->no_access_log = true; break;
        case OPT_TIMEOUT:
            if (!rb_cli_parse_seconds("--timeout", optarg, &pool->defaults.timeout))
                return RB_EXIT_USAGE;
            break;
        case OPT_CPU:
            if (!rb_cli_parse_seconds("--cpu-time", optarg, &pool->defaults.cpu_time))
                return RB_EXIT_USAGE;
            break;
        case OPT_MEMORY:
            if (!rb_cli_parse_long("--memory", optarg, 1, 1024L * 1024, &pool->defaults.memory_mb))
                return RB_EXIT_USAGE;
            break;
        case OPT_OUTPUT_LIMIT:
            if (!rb_cli_parse_long("--output-limit", optarg, 1, 1024L * 1024, &pool->defaults.output_limit_kb))
                return RB_EXIT_USAGE;
            break;
        case OPT_WORKDIR: pool->workdir_root = optarg; break;
        case OPT_PRELOAD: pool->preload = optarg; break;
        case OPT_PYTHON_PATH: {
            static const char *paths[MAX_PYTHON_PATH];
            char *abs = realpath(optarg, NULL);
            if (!abs) {
                rb_cli_error("--python-path: '%s': %s", optarg, strerror(errno));
                return RB_EXIT_USAGE;
            }
            if (pool->npython_path == MAX_PYTHON_PATH) {
                rb_cli_error("--python-path: at most %d directories", MAX_PYTHON_PATH);
                free(abs);
                return RB_EXIT_USAGE;
            }
            paths[pool->npython_path++] = abs; /* lives as long as the process */
            pool->python_path = paths;
            break;
        }
        case OPT_NO_LANDLOCK: pool->no_landlock = true; break;
        case OPT_NO_NAMESPACES: pool->no_namespaces = true; break;
        case 'v': pool->verbose = true; break;
        case 'h': fputs(SERVE_USAGE, stdout); return RB_EXIT_OK;
        case ':':
            rb_cli_error("option '%s' needs a value", argv[optind - 1]);
            return RB_EXIT_USAGE;
        default:
            rb_cli_error("unknown option '%s'", argv[optind - 1]);
            fputs("Try 'runbox serve --help'.\n", stderr);
            return RB_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        rb_cli_error("unexpected argument '%s'", argv[optind]);
        fputs("Try 'runbox serve --help'.\n", stderr);
        return RB_EXIT_USAGE;
    }
    if (!parse_listen(o->listen ? o->listen : "127.0.0.1:8080", c))
        return RB_EXIT_USAGE;
    return -1;
}

/* Every connection is a descriptor: take what the hard limit allows. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int rb_cli_serve(int argc, char **argv)
{
    struct serve_options o;
    memset(&o, 0, sizeof o);
    o.cfg.queue = 1024;
    o.cfg.max_jobs = 1000;
    o.cfg.max_body = 16 * 1024 * 1024;
    o.cfg.max_connections = 1024;
    o.cfg.request_timeout = 300;
    o.cfg.grace = 30;
    o.cfg.idle_timeout = 60;
    o.cfg.access_log = stderr;
    int status = parse_options(argc, argv, &o);
    if (status >= 0)
        return status;

    char *token = NULL;
    if (o.token_file && !(token = read_token(o.token_file)))
        return RB_EXIT_USAGE;
    o.cfg.token = token;
    if (!is_loopback(&o.cfg.addr) && !token)
        fprintf(stderr,
                "runbox: warning: listening on %s, beyond this machine, without --token-file: anyone\n"
                "  who can reach the port can run programs here. Give a token, or keep the service\n"
                "  behind something that authenticates.\n", o.listen);
    FILE *log_file = NULL;
    if (o.no_access_log) {
        o.cfg.access_log = NULL;
    } else if (o.access_log && strcmp(o.access_log, "-") == 0) {
        o.cfg.access_log = stdout;
    } else if (o.access_log) {
        log_file = fopen(o.access_log, "ae");
        if (!log_file) {
            rb_cli_error("--access-log: cannot open '%s': %s", o.access_log, strerror(errno));
            free(token);
            return RB_EXIT_FAILURE;
        }
        o.cfg.access_log = log_file;
    }
    /* SandboxFusion answers with the pod it ran on, read from this variable
     * (the Kubernetes downward API sets it; docs/service.md). */
    o.cfg.pod_name = getenv("MY_POD_NAME");

    /* As for runbox run (driver.c): no job may read the supervisor's memory,
     * nothing a job starts may slip away, a client gone mid-write is not a
     * signal, and the termination signals come through a signalfd. */
    raise_fd_limit();
    int sigfd = rb_driver_prepare_process();
    if (sigfd < 0) {
        rb_cli_error("signalfd: %s", strerror(-sigfd));
        status = RB_EXIT_FAILURE;
    } else {
        char err[600];
        int rc = rb_serve_run(&o.cfg, sigfd, err, sizeof err);
        if (rc < 0)
            rb_cli_error("%s", err);
        else
            fprintf(stderr, "runbox serve: stopped\n");
        status = rc < 0 ? RB_EXIT_FAILURE : RB_EXIT_OK;
        close(sigfd);
    }
    if (log_file)
        fclose(log_file);
    free(token);
    return status;
}
