/*
 * runbox-zygote: a fork server holding a CPython initialised once.
 *
 * Theory of operation. The supervisor execs this program with a clean
 * environment and one end of a SOCK_SEQPACKET socketpair on fd 3. It
 * initialises the interpreter (isolated configuration, system site-packages
 * importable), imports the preload modules, compiles the seccomp filters,
 * loads its own part of the policy, and says READY. From then on it never
 * runs Python code of its own: for each FORK message it forks a worker,
 * which sets itself up and runs the job (worker.c), and reports the pid; when a worker exits, it kills the worker's
 * process group, reaps it and reports the wait status and rusage. It holds no
 * job data: the spec travels in a memfd that only the worker reads.
 *
 * It dies with the supervisor (parent-death signal, and EOF on the socket),
 * leads a session of its own without a terminal, and is not dumpable, which its workers inherit: no job can read
 * another's memory through /proc.
 */
#define _GNU_SOURCE
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "calls.h"
#include "childalloc.h"
#include "coderunner.h"
#include "interp.h"
#include "landlock.h"
#include "namespaces.h"
#include "protocol.h"
#include "rlimits.h"
#include "seccomp_policy.h"
#include "worker.h"

struct live_worker {
    uint64_t seq;
    pid_t pid;
};

static struct {
    int control;
    int sigchld;
    struct live_worker *live;
    size_t nlive, caplive;
    struct rb_seccomp_filters seccomp;
    bool have_seccomp;
    pid_t self;
    struct rb_namespaces ns;
    int landlock_abi;          /* in use; 0 when off */
    char landlock_why[256];
    const char **read_paths;   /* Landlock: what every job may read */
    size_t nread_paths;
    struct rb_landlock_held held[RB_LANDLOCK_MAX_HELD]; /* those paths, open */
    bool python_fork_hooks; /* call PyOS_BeforeFork / PyOS_AfterFork_Parent */
    size_t nheld;
    unsigned long shared_threads; /* see rb_worker_context */
} Z;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void send_msg(const struct rbz_msg *msg)
{
    ssize_t n;
    do
        n = send(Z.control, msg, sizeof *msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        _exit(0); /* the supervisor is gone; so are we */
}

static void send_init_failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void send_init_failed(const char *fmt, ...)
{
    struct rbz_msg msg = { .type = RBZ_INIT_FAILED };
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg.text, sizeof msg.text, fmt, ap);
    va_end(ap);
    send_msg(&msg);
    _exit(1);
}

/* CPython creates sys.stdin/stdout when it starts, choosing buffering from
 * what fds 0 and 1 are then. Pipes now make the objects every worker inherits
 * the ones python3 would create under a harness (block-buffered stdout, not
 * seekable); each worker then puts its own pipes on the same fds. */
static int stdio_as_pipes(void)
{
    int p[2];
    if (pipe(p) < 0)
        return -errno;
    if (dup2(p[0], STDIN_FILENO) < 0 || dup2(p[1], STDOUT_FILENO) < 0)
        return -errno;
    close(p[0]);
    close(p[1]);
    return 0;
}

/* After start-up nothing should ever be written to the zygote's own stdout;
 * if a preloaded module printed, it is flushed away here rather than into
 * the first job's output. */
static void quiet_stdio(void)
{
    PyObject *out = PySys_GetObject("stdout"); /* borrowed */
    if (out) {
        PyObject *r = PyObject_CallMethod(out, "flush", NULL);
        Py_XDECREF(r);
    }
    PyErr_Clear();
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        close(null);
    }
}

static void live_add(uint64_t seq, pid_t pid)
{
    if (Z.nlive == Z.caplive) {
        size_t cap = Z.caplive ? Z.caplive * 2 : 16;
        struct live_worker *p = realloc(Z.live, cap * sizeof *p);
        if (!p)
            _exit(1);
        Z.live = p;
        Z.caplive = cap;
    }
    Z.live[Z.nlive++] = (struct live_worker){ seq, pid };
}

static struct live_worker *live_find_seq(uint64_t seq)
{
    for (size_t i = 0; i < Z.nlive; i++)
        if (Z.live[i].seq == seq)
            return &Z.live[i];
    return NULL;
}

static struct live_worker *live_find_pid(pid_t pid)
{
    for (size_t i = 0; i < Z.nlive; i++)
        if (Z.live[i].pid == pid)
            return &Z.live[i];
    return NULL;
}

static void kill_worker(pid_t pid)
{
    /* The group first; the pid as well in case the worker died or was killed
     * before its setpgid(). Neither can hit a stranger: the worker is not
     * reaped yet, so its pid (and a group of that id) is still ours. */
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
}

/* glibc keeps freed chunks in fast bins and an unsorted list, and sorts
 * them on a later large request: if that request came in a worker, it would
 * walk (and so copy) chunk headers all over the shared heap. One large
 * request here, just below the mmap threshold, does the sorting in the
 * zygote instead; the chunk goes straight back to the top of the heap. */
static void settle_heap(void)
{
    void *p = malloc(64 * 1024);
    __asm__ volatile("" : : "r"(p) : "memory"); /* keep the pair from being optimised away */
    free(p);
}

/* PyOS_BeforeFork takes the import lock and runs the before-fork hooks
 * modules registered; PyOS_AfterFork_Parent undoes both. The zygote has one
 * thread and holds no lock when it forks, so with no such hooks the pair
 * only writes to pages every live worker shares (each a page copied, and a
 * TLB flush, in the zygote). The default preloads register none (random's is
 * an after-in-child hook, which PyOS_AfterFork_Child runs regardless);
 * modules that do (threading, logging, concurrent.futures, multiprocessing)
 * or any preload list of the user's keep them. */
static bool might_have_fork_hooks(const char *preload_list)
{
    if (strcmp(preload_list, RB_DEFAULT_PRELOAD) != 0)
        return true;
    static const char *const hooked[] = { "threading", "logging", "concurrent.futures", "multiprocessing" };
    PyObject *modules = PyImport_GetModuleDict(); /* borrowed */
    for (size_t i = 0; i < sizeof hooked / sizeof hooked[0]; i++)
        if (PyDict_GetItemString(modules, hooked[i]))
            return true;
    return false;
}

static void refreeze(void)
{
    static PyObject *freeze; /* gc.freeze, looked up once */
    if (!freeze) {
        PyObject *gc = PyImport_ImportModule("gc");
        freeze = gc ? PyObject_GetAttrString(gc, "freeze") : NULL;
        Py_XDECREF(gc);
    }
    PyObject *r = freeze ? PyObject_CallNoArgs(freeze) : NULL;
    Py_XDECREF(r);
    PyErr_Clear();
}

static void handle_fork(const struct rbz_msg *req, int fds[RBZ_NFDS])
{
    struct rbz_msg reply = { .seq = req->seq };
    struct rb_worker_context ctx = {
        .parent = Z.ns.pid ? 0 : Z.self,
        .seccomp = Z.have_seccomp ? &Z.seccomp.job : NULL,
        .landlock_abi = Z.landlock_abi,
        .read_paths = Z.read_paths,
        .nread_paths = Z.nread_paths,
        .held = Z.held,
        .nheld = Z.nheld,
        .shared_threads = Z.shared_threads,
        .mount_namespace = Z.ns.user,
    };
    reply.start_ns = now_ns();
    /* Nothing in the zygote's loop creates Python objects; were anything
     * to (an after-fork hook of a preloaded module), they join the
     * permanent generation every so often. Each call into Python here is a
     * few pages of the zygote written, and so copied while workers share
     * them. */
    static unsigned forks;
    if (forks++ % 64 == 0)
        refreeze();
    settle_heap();
    if (Z.python_fork_hooks)
        PyOS_BeforeFork();
    pid_t pid = fork();
    if (pid == 0) {
        rb_childalloc_install();
        PyOS_AfterFork_Child();
        rb_worker_main(fds, &ctx);
    }
    int saved = errno;
    if (Z.python_fork_hooks)
        PyOS_AfterFork_Parent();
    for (int i = 0; i < RBZ_NFDS; i++)
        close(fds[i]);
    if (pid < 0) {
        reply.type = RBZ_FORK_FAILED;
        reply.err = saved;
    } else {
        reply.type = RBZ_FORKED;
        reply.pid = pid;
        live_add(req->seq, pid);
    }
    send_msg(&reply);
}

static void handle_kill(const struct rbz_msg *req)
{
    struct live_worker *w = live_find_seq(req->seq);
    if (w)
        kill_worker(w->pid);
}

/* SIGCHLDs coalesce, so every readable signalfd means "reap until none is
 * left". WNOWAIT first, to kill the process group while its leader's pid is
 * still held by the zombie. */
static void reap_workers(void)
{
    struct signalfd_siginfo info;
    while (read(Z.sigchld, &info, sizeof info) == (ssize_t)sizeof info)
        ;
    for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0)
            return;
        pid_t pid = si.si_pid;
        kill(-pid, SIGKILL);
        int status = 0;
        struct rusage ru;
        memset(&ru, 0, sizeof ru);
        if (wait4(pid, &status, 0, &ru) < 0)
            continue;
        if (Z.ns.pid && pid == Z.ns.init)
            _exit(3); /* the jobs' PID namespace is gone with its init: start over */
        struct live_worker *w = live_find_pid(pid);
        if (!w)
            continue; /* an orphan adopted as subreaper: nothing to report */
        struct rbz_msg msg = {
            .type = RBZ_EXITED,
            .seq = w->seq,
            .pid = pid,
            .wait_status = status,
            .end_ns = now_ns(),
            .utime_us = (int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
            .stime_us = (int64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec,
            .maxrss_kb = ru.ru_maxrss,
            .minflt = ru.ru_minflt,
        };
        *w = Z.live[--Z.nlive];
        send_msg(&msg);
    }
}

/* One message, with any file descriptors it carries; returns 0 on EOF. */
static ssize_t recv_msg(struct rbz_msg *msg, int fds[RBZ_NFDS], int *nfds)
{
    char cbuf[CMSG_SPACE(sizeof(int) * RBZ_NFDS)];
    struct iovec iov = { msg, sizeof *msg };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = sizeof cbuf };
    ssize_t n;
    do
        n = recvmsg(Z.control, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    *nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        for (int i = 0; i < count; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (*nfds < RBZ_NFDS)
                fds[(*nfds)++] = fd;
            else
                close(fd);
        }
    }
    return n;
}

_Noreturn static void shut_down(void)
{
    for (size_t i = 0; i < Z.nlive; i++)
        kill_worker(Z.live[i].pid);
    /* The PID namespace's init waits for our death; waiting for it here
     * would wait for ever. Killing it also ends anything left in there. */
    if (Z.ns.pid && Z.ns.init > 0)
        kill(Z.ns.init, SIGKILL);
    while (wait(NULL) > 0 || errno == EINTR)
        ;
    _exit(0);
}

static void serve(void)
{
    struct pollfd pfd[2] = {
        { .fd = Z.control, .events = POLLIN },
        { .fd = Z.sigchld, .events = POLLIN },
    };
    for (;;) {
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            shut_down();
        }
        if (pfd[1].revents & POLLIN)
            reap_workers();
        if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        struct rbz_msg msg;
        int fds[RBZ_NFDS], nfds;
        ssize_t n = recv_msg(&msg, fds, &nfds);
        if (n <= 0)
            shut_down();
        if (n != (ssize_t)sizeof msg) {
            for (int i = 0; i < nfds; i++)
                close(fds[i]);
            continue;
        }
        if (msg.type == RBZ_FORK && nfds == RBZ_NFDS) {
            handle_fork(&msg, fds);
        } else {
            for (int i = 0; i < nfds; i++)
                close(fds[i]);
            if (msg.type == RBZ_KILL)
                handle_kill(&msg);
        }
    }
}

/* Whether `path` is `dir` or lies beneath it (both resolved). */
static bool is_within(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/' || (n == 1 && dir[0] == '/'));
}

/* A rule on a path beneath a directory that already has one adds nothing
 * (the directory's rights are the wider: files get a subset), but each costs
 * the worker a system call: sys.path and the prefixes are all under /usr.
 * Paths are compared resolved (/lib is /usr/lib on a merged-/usr system);
 * one that does not resolve stays, to fail or not as it would have. */
static size_t drop_covered_paths(const char **paths, size_t n)
{
    char **real = calloc(n ? n : 1, sizeof *real);
    if (!real)
        return n;
    for (size_t i = 0; i < n; i++)
        real[i] = realpath(paths[i], NULL);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        bool covered = false;
        for (size_t j = 0; j < n && real[i] && !covered; j++) {
            struct stat st;
            if (j == i || !real[j] || !is_within(real[i], real[j]) || stat(real[j], &st) < 0 || !S_ISDIR(st.st_mode))
                continue;
            /* Of two equal paths, the first stays. */
            covered = strcmp(real[i], real[j]) != 0 || j < i;
        }
        if (!covered)
            paths[kept++] = paths[i];
    }
    for (size_t i = 0; i < n; i++)
        free(real[i]);
    free(real);
    return kept;
}

/* What every job may read under Landlock: the system's list, and every
 * directory the interpreter imports from (sys.path, sys.prefix...). */
static void collect_read_paths(void)
{
    size_t cap = RB_LANDLOCK_SYSTEM_NREAD + 32, n = 0;
    Z.read_paths = calloc(cap, sizeof *Z.read_paths);
    if (!Z.read_paths)
        return;
    for (size_t i = 0; i < RB_LANDLOCK_SYSTEM_NREAD; i++)
        Z.read_paths[n++] = RB_LANDLOCK_SYSTEM_READ[i];
    static const char *const attrs[] = { "prefix", "base_prefix", "exec_prefix" };
    for (size_t i = 0; i < 3 && n < cap; i++) {
        PyObject *v = PySys_GetObject(attrs[i]); /* borrowed */
        const char *t = v && PyUnicode_Check(v) ? PyUnicode_AsUTF8(v) : NULL;
        if (t && *t)
            Z.read_paths[n++] = strdup(t);
    }
    PyObject *path = PySys_GetObject("path"); /* borrowed */
    for (Py_ssize_t i = 0; path && PyList_Check(path) && i < PyList_GET_SIZE(path) && n < cap; i++) {
        PyObject *v = PyList_GET_ITEM(path, i); /* borrowed */
        const char *t = PyUnicode_Check(v) ? PyUnicode_AsUTF8(v) : NULL;
        if (t && *t)
            Z.read_paths[n++] = strdup(t);
    }
    PyErr_Clear();
    Z.nread_paths = drop_covered_paths(Z.read_paths, n);
}

static void send_ready(void)
{
    struct rbz_msg ready = { .type = RBZ_READY, .pid = Z.self, .err = Z.landlock_abi };
    ready.flags = (Z.have_seccomp ? RBZ_HAVE_SECCOMP : 0) | (Z.landlock_abi > 0 ? RBZ_HAVE_LANDLOCK : 0) |
                  (Z.ns.user ? RBZ_HAVE_USERNS : 0) | (Z.ns.net ? RBZ_HAVE_NETNS : 0) |
                  (Z.ns.pid ? RBZ_HAVE_PIDNS : 0) | (Z.ns.ipc ? RBZ_HAVE_IPCNS : 0) |
                  (Z.ns.uts ? RBZ_HAVE_UTSNS : 0) | (Z.ns.private_proc ? RBZ_HAVE_PRIVATE_PROC : 0);
    cJSON *info = cJSON_CreateObject();
    cJSON_AddStringToObject(info, "python", Py_GetVersion());
    if (Z.landlock_why[0])
        cJSON_AddStringToObject(info, "landlock", Z.landlock_why);
    if (Z.ns.why[0])
        cJSON_AddStringToObject(info, "namespaces", Z.ns.why);
    char *text = cJSON_PrintUnformatted(info);
    snprintf(ready.text, sizeof ready.text, "%s", text ? text : "{}");
    cJSON_free(text);
    cJSON_Delete(info);
    send_msg(&ready);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--print-seccomp-policy") == 0) {
        /* docs/sandbox.md's tables, and `runbox doctor --policy`: the
         * policy, then the calls the job's filter answers for. */
        size_t n;
        const struct rb_seccomp_row *rows = rb_seccomp_rows(&n);
        printf("| system call | action | why |\n| --- | --- | --- |\n");
        for (size_t i = 0; i < n; i++)
            printf("| `%s` | %s | %s |\n", rows[i].syscall, rows[i].action, rows[i].why);
        rows = rb_seccomp_job_rows(&n);
        printf("\n| system call | why the job's filter answers for it |\n| --- | --- |\n");
        for (size_t i = 0; i < n; i++)
            printf("| `%s` | %s |\n", rows[i].syscall, rows[i].why);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--print-worker-steps") == 0) {
        /* docs/design.md's list of the worker's set-up. */
        size_t n;
        const struct rb_worker_step *steps = rb_worker_steps(&n);
        for (size_t i = 0; i < n; i++)
            printf("%zu. **%s**: %s;\n", i + 1, steps[i].name, steps[i].why);
        return 0;
    }
    const char *preload_list = RB_DEFAULT_PRELOAD;
    pid_t parent = 0;
    bool want_landlock = true, want_namespaces = true;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--preload=", 10) == 0)
            preload_list = argv[i] + 10;
        else if (strncmp(argv[i], "--parent=", 9) == 0)
            parent = (pid_t)atoi(argv[i] + 9);
        else if (strcmp(argv[i], "--no-landlock") == 0)
            want_landlock = false;
        else if (strcmp(argv[i], "--no-namespaces") == 0)
            want_namespaces = false;
    }
    /* runbox starts us with LD_BIND_NOW=1: every library's symbols are bound
     * here, once, instead of in each worker at its first call (a page of
     * relocations copied, a symbol lookup). The job's environment does not
     * need to see it. */
    unsetenv("LD_BIND_NOW");
    Z.control = RBZ_CONTROL_FD;
    Z.self = getpid();
    if (fcntl(Z.control, F_SETFD, FD_CLOEXEC) < 0) {
        fprintf(stderr, "runbox-zygote: must be started by runbox (no control socket on fd %d)\n",
                RBZ_CONTROL_FD);
        return 2;
    }

    /* Die with the supervisor; it may already be gone. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (parent && getppid() != parent)
        return 1;
    /* A session of its own, without a controlling terminal: no worker can
     * open /dev/tty to type into its user's shell or scribble on the screen,
     * and a terminal's ^C reaches the supervisor alone. Done once here rather
     * than per worker, where each setsid() would cost a new scheduler
     * autogroup. */
    if (setsid() < 0)
        send_init_failed("setsid: %s", strerror(errno));
    prctl(PR_SET_CHILD_SUBREAPER, 1);

    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    Z.sigchld = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
    if (Z.sigchld < 0)
        send_init_failed("signalfd: %s", strerror(errno));

    /* Namespaces first: unshare(CLONE_NEWUSER) wants a single-threaded
     * process, and nothing has started a thread yet. */
    if (want_namespaces) {
        if (rb_namespaces_enter(&Z.ns) == RB_NAMESPACES_BROKEN) {
            struct rbz_msg msg = { .type = RBZ_INIT_FAILED, .flags = RBZ_FAILED_IN_NAMESPACES };
            snprintf(msg.text, sizeof msg.text, "entering namespaces: %s", Z.ns.why);
            send_msg(&msg);
            _exit(1);
        }
    } else
        snprintf(Z.ns.why, sizeof Z.ns.why, "turned off (--no-namespaces)");
    /* Not dumpable from here on (the workers inherit it), but only after the
     * id maps are written: /proc/self of a process that is not dumpable
     * belongs to root, and an unprivileged zygote could not write them. */
    prctl(PR_SET_DUMPABLE, 0);
    if (!want_landlock) {
        snprintf(Z.landlock_why, sizeof Z.landlock_why, "turned off (--no-landlock)");
    } else if ((Z.landlock_abi = rb_landlock_abi()) < 0) {
        snprintf(Z.landlock_why, sizeof Z.landlock_why, "%s",
                 Z.landlock_abi == -ENOSYS ? "the kernel has no Landlock (Linux 5.13 or later, CONFIG_SECURITY_LANDLOCK)"
                 : Z.landlock_abi == -EOPNOTSUPP ? "Landlock is built in but not enabled (add landlock to the lsm= boot parameter)"
                                                  : strerror(-Z.landlock_abi));
        Z.landlock_abi = 0;
    }

    int rc = stdio_as_pipes();
    if (rc < 0)
        send_init_failed("stdio pipes: %s", strerror(-rc));
    char err[512];
    rb_worker_prepare_environment();
    if (rb_interp_init(err, sizeof err) < 0 || rb_interp_preload(preload_list, err, sizeof err) < 0)
        send_init_failed("%s", err);
    if (rb_worker_prepare_python() < 0)
        send_init_failed("os.environ is not what the worker expects");
    Z.python_fork_hooks = might_have_fork_hooks(preload_list);
    if (rb_coderunner_prepare() < 0)
        send_init_failed("the interpreter lacks builtins, sys.modules or gc");
    if (rb_calls_prepare() < 0)
        send_init_failed("the interpreter lacks signal.signal or traceback");
    rb_interp_cheap_reseed();
    if (rb_interp_route_metadata() < 0)
        send_init_failed("os's metadata functions could not be routed through descriptors");
    if (rb_interp_freeze(err, sizeof err) < 0)
        send_init_failed("%s", err);
    quiet_stdio();

    /* A kernel without seccomp answers PR_GET_SECCOMP with EINVAL; the
     * supervisor decides whether to run without the layer. Failing to build
     * the filter, though, is a bug and stops everything. */
    Z.have_seccomp = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
    if (Z.have_seccomp) {
        rc = rb_seccomp_build(&Z.seccomp, err, sizeof err);
        if (rc < 0)
            send_init_failed("%s", err);
    }

    /* Without root every job has runbox's uid, and RLIMIT_NPROC counts the
     * tasks of that uid together (in the zygote's user namespace, or on the
     * whole machine without one): the jobs get a bound above what the uid
     * holds now, which the batch shares, far below the machine's pid limit.
     * A user namespace per job would count each alone, but setting its id
     * maps needs the worker dumpable for a moment, while it holds the job's
     * descriptors: another job of the same uid could open them. */
    if ((rc = rb_rlimits_remember()) < 0)
        send_init_failed("getrlimit: %s", strerror(-rc));
    if (geteuid() != 0) {
        long tasks = rb_tasks_of_uid(getuid());
        Z.shared_threads = (unsigned long)(tasks > 0 ? tasks : 0) + 8 * RB_THREADS_LIMIT;
    }
    collect_read_paths();
    if (Z.landlock_abi > 0 && Z.nread_paths <= RB_LANDLOCK_MAX_HELD)
        Z.nheld = rb_landlock_hold(Z.read_paths, Z.nread_paths, Z.held);
    /* The zygote's part of the policy, once: from here on the zygote itself
     * runs under it, and every worker inherits it at fork. */
    if (Z.have_seccomp && (rc = rb_seccomp_install_zygote(&Z.seccomp)) < 0)
        send_init_failed("loading the zygote's seccomp filter: %s", strerror(-rc));
    send_ready();
    serve();
    return 0;
}
