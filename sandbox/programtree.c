/*
 * A job's way to its program's tree (programtree.h).
 *
 * As root each job runs under a uid of its own, which may not pass through
 * a directory above its program: root's home is 0700 in most containers, so
 * `{"file": "/root/proj/main.py"}` could not import helper.py beside it, and
 * a directory or zip app there could not be run at all. Reading them with
 * root's rights on the job's behalf is out of the question (a manifest could
 * then name any file of root's). Instead the job gets a mount namespace of
 * its own in which the closed directory is replaced by a small tmpfs that
 * holds only the way down to the program's directory, and that directory,
 * the real one, bind-mounted read-only. Every file in it is still opened
 * with the job's own rights; only the closed directories above it are
 * stepped over, and nothing else in them is visible.
 */
#define _GNU_SOURCE
#include "programtree.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* Whether `uid`/`gid` (no supplementary groups) may search `dir`. Asked
 * through the filesystem ids, which drop root's file capabilities while
 * they are not 0, and are given back after. */
static bool searchable_by(const char *dir, uid_t uid, gid_t gid)
{
    setfsgid(gid);
    setfsuid(uid);
    bool ok = faccessat(AT_FDCWD, dir, X_OK, AT_EACCESS) == 0;
    setfsuid(0);
    setfsgid(0);
    return ok;
}

/* The first directory strictly above `dir` that the job cannot search, into
 * `out`; false when there is none. */
static bool closed_ancestor(const char *dir, uid_t uid, gid_t gid, char *out, size_t len)
{
    char prefix[PATH_MAX];
    snprintf(prefix, sizeof prefix, "%s", dir);
    for (char *slash = strchr(prefix + 1, '/'); ; slash = strchr(slash + 1, '/')) {
        char save = slash ? *slash : '\0';
        if (!slash)
            return false; /* `dir` itself is the job's to search, or not */
        *slash = '\0';
        bool ok = searchable_by(prefix[0] ? prefix : "/", uid, gid);
        if (!ok) {
            snprintf(out, len, "%s", prefix);
            return true;
        }
        *slash = save;
    }
}

/* mkdir -p of `path`'s components below `top` (both absolute, `top` a
 * prefix of `path`), in the tmpfs. */
static int make_way(const char *top, const char *path)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", path);
    for (char *slash = p + strlen(top) + 1; (slash = strchr(slash, '/')); slash++) {
        *slash = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            return -errno;
        *slash = '/';
    }
    if (mkdir(p, 0755) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static bool is_under(const char *path, const char *top)
{
    size_t n = strlen(top);
    return strncmp(path, top, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* Bind-mounts what `fd` is (opened before the tmpfs hid it) at `path`. */
static int bind_at(int fd, const char *top, const char *path, bool read_only)
{
    char src[64];
    snprintf(src, sizeof src, "/proc/self/fd/%d", fd);
    int rc = make_way(top, path);
    if (rc < 0)
        return rc;
    if (mount(src, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
        return -errno;
    }
    if (read_only && mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0) {
        return -errno;
    }
    return 0;
}

int rb_program_tree_expose(const struct rb_program_tree *t, char *err, size_t errlen)
{
    char top[PATH_MAX];
    if (!closed_ancestor(t->dir, t->uid, t->gid, top, sizeof top))
        return 0;
    int dirfd = -1, keepfd[RB_PROGRAM_TREE_MAX_KEEP];
    size_t nkeep = 0;
    int rc = 0;
    const char *step = "unshare(CLONE_NEWNS)";
    if (unshare(CLONE_NEWNS) < 0) {
        rc = -errno;
        goto out;
    }
    /* Opened now, in the new namespace (a bind mount's source must be in
     * the caller's), with root's rights: once the tmpfs is over `top` they
     * can no longer be reached by name. */
    step = "opening the program's directory";
    if ((dirfd = open(t->dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
        rc = -errno;
        goto out;
    }
    for (size_t i = 0; i < t->nkeep && nkeep < RB_PROGRAM_TREE_MAX_KEEP; i++)
        if (is_under(t->keep[i], top) && !is_under(t->keep[i], t->dir))
            keepfd[nkeep++] = open(t->keep[i], O_PATH | O_CLOEXEC);
    step = "mounting a tmpfs";
    if (mount("runbox", top, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k") < 0) {
        rc = -errno;
        goto out;
    }
    step = "binding the program's directory";
    rc = bind_at(dirfd, top, t->dir, true);
    size_t k = 0;
    for (size_t i = 0; rc == 0 && i < t->nkeep && k < nkeep; i++) {
        if (!is_under(t->keep[i], top) || is_under(t->keep[i], t->dir))
            continue;
        step = "binding a path the job needs";
        rc = keepfd[k] < 0 ? -ENOENT : bind_at(keepfd[k], top, t->keep[i], i >= t->nkeep_rw);
        k++;
    }
out:
    if (rc < 0)
        snprintf(err, errlen, "giving the job its program's tree under %s: %s: %s", top, step, strerror(-rc));
    if (dirfd >= 0)
        close(dirfd);
    for (size_t i = 0; i < nkeep; i++)
        if (keepfd[i] >= 0)
            close(keepfd[i]);
    return rc;
}

bool rb_program_tree_blocker(const char *path, char *out, size_t len)
{
    char prefix[PATH_MAX];
    snprintf(prefix, sizeof prefix, "%s", path);
    for (char *slash = strchr(prefix + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        if (access(prefix[0] ? prefix : "/", X_OK) < 0 && errno == EACCES) {
            snprintf(out, len, "%s", prefix[0] ? prefix : "/");
            return true;
        }
        *slash = '/';
    }
    return false;
}
