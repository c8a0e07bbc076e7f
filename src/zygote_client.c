#define _GNU_SOURCE
#include "zygote_client.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "util.h"

/* How long the interpreter may take to start and import the preloads (numpy
 * on a cold disk takes seconds). */
#define READY_TIMEOUT_MS 120000

/* The zygote's whole environment: nothing of the supervisor's (which may hold
 * secrets) reaches a job. The thread counts keep numerical libraries from
 * starting a thread per core in every job, which would also eat the memory
 * limit in thread stacks. */
static char *const ZYGOTE_ENV[] = {
    "PATH=/usr/local/bin:/usr/bin:/bin",
    "LANG=C.UTF-8",
    "LC_ALL=C.UTF-8",
    "HOME=/nonexistent",
    "OPENBLAS_NUM_THREADS=1",
    "OMP_NUM_THREADS=1",
    "MKL_NUM_THREADS=1",
    "NUMEXPR_NUM_THREADS=1",
    "VECLIB_MAXIMUM_THREADS=1",
    "LD_BIND_NOW=1", /* removed by the zygote once the loader has read it */
    NULL,
};

static bool executable(const char *path)
{
    return access(path, X_OK) == 0;
}

char *rb_zygote_locate(const char *configured)
{
    if (configured && *configured)
        return strdup(configured);
    const char *env = getenv("RUNBOX_ZYGOTE");
    if (env && *env)
        return strdup(env);
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            char *candidate;
            if (asprintf(&candidate, "%s/runbox-zygote", self) >= 0) {
                if (executable(candidate))
                    return candidate;
                free(candidate);
            }
        }
    }
    return strdup(RB_LIBEXECDIR "/runbox-zygote");
}

_Noreturn static void exec_zygote(int sock, const char *path, const char *preload, unsigned without,
                                  pid_t parent)
{
    /* Only fds 0-2 and the control socket survive into the zygote. */
    if (sock == RBZ_CONTROL_FD) {
        if (fcntl(sock, F_SETFD, 0) < 0) /* dup2 onto itself would keep CLOEXEC */
            _exit(127);
    } else if (dup2(sock, RBZ_CONTROL_FD) < 0) {
        _exit(127);
    }
    syscall(SYS_close_range, RBZ_CONTROL_FD + 1u, ~0u, 0u);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        if (null > RBZ_CONTROL_FD)
            close(null);
    }
    /* Signals the supervisor blocks or ignores must not stay that way. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);

    char preload_arg[4096], parent_arg[64];
    snprintf(parent_arg, sizeof parent_arg, "--parent=%d", (int)parent);
    char *argv[6] = { "runbox-zygote", parent_arg, NULL, NULL, NULL, NULL };
    int argc = 2;
    if (preload) {
        snprintf(preload_arg, sizeof preload_arg, "--preload=%s", preload);
        argv[argc++] = preload_arg;
    }
    if (without & RB_ZYGOTE_NO_LANDLOCK)
        argv[argc++] = "--no-landlock";
    if (without & RB_ZYGOTE_NO_NAMESPACES)
        argv[argc++] = "--no-namespaces";
    execve(path, argv, ZYGOTE_ENV);
    _exit(127);
}

static int wait_ready(struct rb_zygote *z, char *err, size_t errlen)
{
    struct pollfd pfd = { .fd = z->sock, .events = POLLIN };
    int64_t deadline = rb_now_ns() + (int64_t)READY_TIMEOUT_MS * 1000000;
    for (;;) {
        int left = (int)((deadline - rb_now_ns()) / 1000000);
        if (left <= 0) {
            snprintf(err, errlen, "the zygote did not start within %d s", READY_TIMEOUT_MS / 1000);
            return -ETIMEDOUT;
        }
        int n = poll(&pfd, 1, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            continue;
        struct rbz_msg msg;
        ssize_t got = recv(z->sock, &msg, sizeof msg, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            int status = 0;
            waitpid(z->pid, &status, 0);
            z->pid = -1;
            if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                snprintf(err, errlen, "could not run the zygote (is runbox-zygote installed?)");
            else
                snprintf(err, errlen, "the zygote exited during start-up (wait status %d)", status);
            return -ECHILD;
        }
        if (got != (ssize_t)sizeof msg)
            continue;
        if (msg.type == RBZ_INIT_FAILED) {
            msg.text[sizeof msg.text - 1] = '\0';
            snprintf(err, errlen, "%s", msg.text);
            return msg.flags & RBZ_FAILED_IN_NAMESPACES ? -ENOTRECOVERABLE : -EPROTO;
        }
        if (msg.type == RBZ_READY) {
            z->flags = msg.flags;
            z->landlock_abi = msg.err;
            msg.text[sizeof msg.text - 1] = '\0';
            cJSON *info = cJSON_Parse(msg.text);
            const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(info, "python"));
            const char *ll = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(info, "landlock"));
            const char *ns = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(info, "namespaces"));
            snprintf(z->version, sizeof z->version, "%.127s", v ? v : "");
            snprintf(z->landlock_why, sizeof z->landlock_why, "%.255s", ll ? ll : "");
            snprintf(z->namespaces_why, sizeof z->namespaces_why, "%.255s", ns ? ns : "");
            cJSON_Delete(info);
            char *nl = strchr(z->version, '\n');
            if (nl)
                *nl = '\0';
            return 0;
        }
    }
}

int rb_zygote_start(struct rb_zygote *z, const char *path, const char *preload, unsigned without,
                    char *err, size_t errlen)
{
    int sv[2];
    memset(z, 0, sizeof *z);
    z->pid = -1;
    z->sock = -1;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        snprintf(err, errlen, "socketpair: %s", strerror(errno));
        return -errno;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int rc = -errno;
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        return rc;
    }
    if (pid == 0)
        exec_zygote(sv[1], path, preload, without, parent);
    close(sv[1]);
    z->pid = pid;
    z->sock = sv[0];
    int rc = wait_ready(z, err, errlen);
    if (rc == -ENOTRECOVERABLE && !(without & RB_ZYGOTE_NO_NAMESPACES)) {
        /* The kernel let it into the namespaces but not set them up: do
         * without them, and say why in the report. */
        char why[256];
        snprintf(why, sizeof why, "%.255s", err);
        rb_zygote_stop(z);
        rc = rb_zygote_start(z, path, preload, without | RB_ZYGOTE_NO_NAMESPACES, err, errlen);
        if (rc == 0)
            snprintf(z->namespaces_why, sizeof z->namespaces_why, "%s", why);
        return rc;
    }
    if (rc < 0) {
        rb_zygote_stop(z);
        return rc;
    }
    rc = rb_set_nonblocking(z->sock);
    if (rc < 0) {
        snprintf(err, errlen, "fcntl: %s", strerror(-rc));
        rb_zygote_stop(z);
    }
    return rc;
}

static int send_msg(struct rb_zygote *z, const struct rbz_msg *msg, const int *fds, int nfds)
{
    char cbuf[CMSG_SPACE(sizeof(int) * RBZ_NFDS)];
    struct iovec iov = { (void *)msg, sizeof *msg };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (nfds > 0) {
        memset(cbuf, 0, sizeof cbuf);
        mh.msg_control = cbuf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
    }
    for (;;) {
        ssize_t n = sendmsg(z->sock, &mh, MSG_NOSIGNAL);
        if (n >= 0)
            return 0;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN) {
            /* Messages are tiny and the zygote drains them at once; a full
             * socket means it is busy forking, so wait for room. */
            struct pollfd pfd = { .fd = z->sock, .events = POLLOUT };
            if (poll(&pfd, 1, 10000) > 0)
                continue;
            return -ETIMEDOUT;
        }
        return -errno;
    }
}

int rb_zygote_send_fork(struct rb_zygote *z, uint64_t seq, const int fds[RBZ_NFDS])
{
    struct rbz_msg msg = { .type = RBZ_FORK, .seq = seq };
    return send_msg(z, &msg, fds, RBZ_NFDS);
}

int rb_zygote_send_kill(struct rb_zygote *z, uint64_t seq)
{
    struct rbz_msg msg = { .type = RBZ_KILL, .seq = seq };
    return send_msg(z, &msg, NULL, 0);
}

int rb_zygote_recv(struct rb_zygote *z, struct rbz_msg *msg)
{
    for (;;) {
        ssize_t n = recv(z->sock, msg, sizeof *msg, 0);
        if (n == (ssize_t)sizeof *msg)
            return 1;
        if (n == 0)
            return 0;
        if (n > 0)
            continue; /* a short message cannot come from our zygote; skip it */
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return -EAGAIN;
        return errno == ECONNRESET ? 0 : -errno;
    }
}

void rb_zygote_stop(struct rb_zygote *z)
{
    if (z->sock >= 0) {
        close(z->sock);
        z->sock = -1;
    }
    if (z->pid > 0) {
        /* EOF on its socket makes the zygote kill its workers and exit; give
         * it a moment, then make sure. */
        int status;
        for (int i = 0; i < 200; i++) {
            pid_t r = waitpid(z->pid, &status, WNOHANG);
            if (r == z->pid || (r < 0 && errno != EINTR)) {
                z->pid = -1;
                return;
            }
            usleep(5000);
        }
        kill(z->pid, SIGKILL);
        while (waitpid(z->pid, &status, 0) < 0 && errno == EINTR)
            ;
        z->pid = -1;
    }
}
