/*
 * Layer 4: namespaces, set up once for the zygote, never per job.
 *
 * unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | ...)
 * puts the zygote in new user, mount, network, IPC and UTS namespaces at
 * once; CLONE_NEWPID applies to its children only, so the first child it
 * forks becomes the PID namespace's init, and every worker after it a member.
 * The init mounts a /proc of the new namespace (jobs then see only jobs),
 * stays alive for the zygote's life, and takes every job down with it if it
 * dies, which is what a PID namespace's init does.
 *
 * Ids: as root, the whole range maps to itself, so a worker can still drop
 * to nobody; otherwise only the caller's own uid and gid map (the kernel
 * allows no more without privileges), and setgroups is denied as it must be.
 */
#define _GNU_SOURCE
#include "namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, text, strlen(text));
    int rc = n == (ssize_t)strlen(text) ? 0 : -(n < 0 ? errno : EIO);
    close(fd);
    return rc;
}

/* Writes the id maps of `target`'s new user namespace. Runs in a helper
 * that stayed in the parent namespace: only from there may root map the
 * whole range (CAP_SETUID in the parent namespace, which the zygote gave up
 * with unshare). */
static int write_maps(pid_t target, uid_t uid, gid_t gid)
{
    char path[64], map[64];
    int rc;
    if (uid != 0) {
        snprintf(path, sizeof path, "/proc/%d/setgroups", (int)target);
        if ((rc = write_file(path, "deny\n")) < 0)
            return rc;
    }
    snprintf(path, sizeof path, "/proc/%d/uid_map", (int)target);
    if (uid == 0)
        snprintf(map, sizeof map, "0 0 4294967295\n");
    else
        snprintf(map, sizeof map, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
    if ((rc = write_file(path, map)) < 0)
        return rc;
    snprintf(path, sizeof path, "/proc/%d/gid_map", (int)target);
    if (gid == 0 && uid == 0)
        snprintf(map, sizeof map, "0 0 4294967295\n");
    else
        snprintf(map, sizeof map, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
    return write_file(path, map);
}

/* A helper, forked before unshare, that waits for the go and writes the
 * maps. Returns its pid; `*go` is the end to write the go on. */
static pid_t start_map_helper(uid_t uid, gid_t gid, int *go)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    pid_t target = getpid();
    pid_t helper = fork();
    if (helper < 0) {
        int err = errno;
        close(p[0]);
        close(p[1]);
        return -err;
    }
    if (helper == 0) {
        close(p[1]);
        char c;
        ssize_t n;
        do
            n = read(p[0], &c, 1);
        while (n < 0 && errno == EINTR);
        _exit(n == 1 ? -write_maps(target, uid, gid) : 0);
    }
    close(p[0]);
    *go = p[1];
    return helper;
}

/* The PID namespace's init: mounts its /proc, reports on `report`, then
 * waits for the zygote's end (its parent-death signal). Never returns. */
_Noreturn static void run_init(int report, pid_t zygote)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != 0 && getppid() != zygote)
        _exit(1);
    prctl(PR_SET_NAME, "runbox-init");
    int err = 0;
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        err = errno;
    if (write(report, &err, sizeof err) != (ssize_t)sizeof err)
        _exit(1);
    close(report);
    /* Workers cannot fork, so no orphan ever lands here; pause until killed. */
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
    for (;;)
        pause();
}

int rb_namespaces_enter(struct rb_namespaces *ns)
{
    memset(ns, 0, sizeof *ns);
    uid_t uid = geteuid();
    gid_t gid = getegid();
    int go = -1;
    pid_t helper = start_map_helper(uid, gid, &go);
    if (helper < 0) {
        snprintf(ns->why, sizeof ns->why, "starting the id-map helper: %s", strerror(-helper));
        return helper;
    }
    int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
    if (unshare(flags) < 0) {
        int err = errno;
        close(go); /* the helper reads EOF and leaves */
        waitpid(helper, NULL, 0);
        snprintf(ns->why, sizeof ns->why, "unshare: %s%s", strerror(err),
                 err == EPERM || err == ENOSPC
                     ? " (unprivileged user namespaces are disabled: see "
                       "/proc/sys/user/max_user_namespaces, kernel.unprivileged_userns_clone, "
                       "or an AppArmor or seccomp policy of the host)"
                     : "");
        return -err;
    }
    /* From here on nothing can be undone: a failure is fatal for this zygote,
     * and the supervisor starts another without namespaces. */
    int status = 0;
    if (write(go, "g", 1) != 1 || waitpid(helper, &status, 0) != helper || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        int err = WIFEXITED(status) && WEXITSTATUS(status) ? WEXITSTATUS(status) : EIO;
        close(go);
        snprintf(ns->why, sizeof ns->why, "writing the id maps: %s", strerror(err));
        return RB_NAMESPACES_BROKEN;
    }
    close(go);
    ns->user = ns->net = ns->ipc = ns->uts = true;
    /* Nothing mounted here may reach the host's mount table. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        snprintf(ns->why, sizeof ns->why, "making mounts private: %s", strerror(errno));
    sethostname("runbox", 6);

    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        snprintf(ns->why, sizeof ns->why, "pipe: %s", strerror(errno));
        return RB_NAMESPACES_BROKEN;
    }
    pid_t zygote = getpid();
    pid_t init = fork();
    if (init < 0) {
        snprintf(ns->why, sizeof ns->why, "starting the PID namespace's init: %s", strerror(errno));
        close(pipefd[0]);
        close(pipefd[1]);
        return RB_NAMESPACES_BROKEN;
    }
    if (init == 0) {
        close(pipefd[0]);
        run_init(pipefd[1], zygote);
    }
    close(pipefd[1]);
    int err = -1;
    ssize_t n;
    do
        n = read(pipefd[0], &err, sizeof err);
    while (n < 0 && errno == EINTR);
    close(pipefd[0]);
    if (n != (ssize_t)sizeof err) {
        snprintf(ns->why, sizeof ns->why, "the PID namespace's init died at start");
        return RB_NAMESPACES_BROKEN;
    }
    ns->pid = true;
    ns->init = init;
    if (err == 0)
        ns->private_proc = true;
    else
        snprintf(ns->why, sizeof ns->why, "mounting a private /proc: %s (jobs see the host's)",
                 strerror(err));
    return 0;
}
