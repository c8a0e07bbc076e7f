#define _GNU_SOURCE
#include "workdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <sys/stat.h>
#include <unistd.h>

static int empty_dir(int fd);

/* The root's mode as runbox made it. Without root and without Landlock a
 * job runs as runbox's user and can open the root and change its mode (the
 * seccomp filter refuses chmod by path, not fchmod on a descriptor): a root
 * left 0000 would stop every later job and every removal. Whoever owns it
 * (runbox) can set it back, and does before giving up on an operation. */
static void restore_root_mode(int rootfd)
{
    fchmod(rootfd, 0711);
}

/* The janitor: removes each name it reads (relative to the root) until the
 * pipe closes, then the root itself with whatever is in it. The pipe closes
 * when the supervisor is done with the root, or when it dies however it
 * dies (SIGKILL, the OOM killer): a killed runbox leaves no working dirs
 * behind. The signals the supervisor blocks (SIGINT, SIGTERM, SIGHUP) stay
 * blocked here, so a Ctrl-C to the process group lets it finish. */
_Noreturn static void janitor_main(int rootfd, int in, const char *path)
{
    prctl(PR_SET_NAME, "runbox-janitor");
    /* Nothing of the supervisor's but the root and the pipe. */
    if (dup2(rootfd, 3) < 0 || dup2(in, 4) < 0)
        _exit(1);
    syscall(SYS_close_range, 5u, ~0u, 0u);
    FILE *f = fdopen(4, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while (f && (n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] == '\n')
            line[n - 1] = '\0';
        if (!line[0] || strchr(line, '/'))
            continue;
        int rc = rb_remove_tree_at(3, line);
        if (rc == -EACCES) {
            restore_root_mode(3);
            rc = rb_remove_tree_at(3, line);
        }
        if (rc < 0)
            fprintf(stderr, "runbox: could not remove %s/%s: %s\n", path, line, strerror(-rc));
    }
    /* After a supervisor's death its jobs may still be writing for a moment
     * (the zygote's PID namespace ends them as it goes): try for a while. */
    int rc = 0;
    for (int tries = 0; tries < 50; tries++) {
        restore_root_mode(3);
        if ((rc = empty_dir(dup(3))) == 0 && (rmdir(path) == 0 || errno == ENOENT))
            _exit(0);
        if (rc == 0)
            rc = -errno;
        usleep(100 * 1000);
    }
    fprintf(stderr, "runbox: could not remove the working dirs' root %s: %s\n", path, strerror(-rc));
    _exit(1);
}

static void start_janitor(struct rb_workdir_root *root)
{
    int p[2];
    root->janitor = 0;
    root->janitor_fd = -1;
    if (pipe2(p, O_CLOEXEC) < 0)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        close(p[1]);
        janitor_main(root->fd, p[0], root->path);
    }
    close(p[0]);
    if (pid < 0) {
        close(p[1]);
        return;
    }
    /* Never block the supervisor on a busy janitor: a full pipe means the
     * dir is removed the slow way instead. */
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    root->janitor = pid;
    root->janitor_fd = p[1];
}

static void stop_janitor(struct rb_workdir_root *root)
{
    if (root->janitor_fd >= 0)
        close(root->janitor_fd);
    root->janitor_fd = -1;
    if (root->janitor > 0) {
        while (waitpid(root->janitor, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    root->janitor = 0;
}

/* What a new dir in the root looks like (rb_workdir_scrub compares). */
static void measure_fresh_dir(struct rb_workdir_root *root)
{
    struct stat st;
    root->fresh_size = -1;
    root->fresh_xattrs_len = -1;
    if (mkdirat(root->fd, ".probe", 0700) < 0)
        return;
    int fd = openat(root->fd, ".probe", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0 && fstat(fd, &st) == 0) {
        root->fresh_size = st.st_size;
        root->fresh_blocks = st.st_blocks;
        root->fresh_xattrs_len = flistxattr(fd, root->fresh_xattrs, sizeof root->fresh_xattrs);
    }
    if (fd >= 0)
        close(fd);
    unlinkat(root->fd, ".probe", AT_REMOVEDIR);
}

int rb_workdir_root_create(const char *parent, struct rb_workdir_root *root)
{
    char *tmpl;
    char cwd[PATH_MAX];
    /* Absolute, whatever the caller gave: jobs chdir into their dirs, and
     * Landlock rules are made from these paths. */
    if (parent[0] != '/' && !getcwd(cwd, sizeof cwd))
        return -errno;
    if (asprintf(&tmpl, "%s%s%s/runbox-XXXXXX", parent[0] == '/' ? "" : cwd, parent[0] == '/' ? "" : "/",
                 parent) < 0)
        return -ENOMEM;
    if (!mkdtemp(tmpl)) {
        int rc = -errno;
        free(tmpl);
        return rc;
    }
    if (chmod(tmpl, 0711) < 0) {
        int rc = -errno;
        rmdir(tmpl);
        free(tmpl);
        return rc;
    }
    root->fd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root->fd < 0) {
        int rc = -errno;
        rmdir(tmpl);
        free(tmpl);
        return rc;
    }
    root->path = tmpl;
    root->discarded = 0;
    measure_fresh_dir(root);
    start_janitor(root);
    return 0;
}

void rb_workdir_root_remove(struct rb_workdir_root *root)
{
    if (!root->path)
        return;
    /* The janitor removes the root as it ends; this is for when there was
     * none, or it could not. */
    stop_janitor(root);
    empty_dir(dup(root->fd));
    close(root->fd);
    rmdir(root->path);
    free(root->path);
    root->path = NULL;
    root->fd = -1;
}

static int fresh_name(uint64_t seq, char name[64])
{
    uint64_t nonce = 0;
    if (getrandom(&nonce, sizeof nonce, 0) != (ssize_t)sizeof nonce)
        return -EIO;
    snprintf(name, 64, "j%" PRIu64 "-%016" PRIx64, seq, nonce);
    return 0;
}

/* The name of `path` in the root, or NULL when it is not directly inside. */
static const char *name_in_root(const struct rb_workdir_root *root, const char *path)
{
    size_t n = strlen(root->path);
    if (strncmp(path, root->path, n) != 0 || path[n] != '/' || strchr(path + n + 1, '/'))
        return NULL;
    return path + n + 1;
}

int rb_workdir_create(const struct rb_workdir_root *root, uint64_t seq, uid_t owner, gid_t group,
                      char **path)
{
    char name[64];
    int rc = fresh_name(seq, name);
    if (rc < 0)
        return rc;
    if (mkdirat(root->fd, name, 0700) < 0) {
        if (errno != EACCES)
            return -errno;
        restore_root_mode(root->fd);
        if (mkdirat(root->fd, name, 0700) < 0)
            return -errno;
    }
    if (owner != (uid_t)-1 && fchownat(root->fd, name, owner, group, AT_SYMLINK_NOFOLLOW) < 0) {
        rc = -errno;
        unlinkat(root->fd, name, AT_REMOVEDIR);
        return rc;
    }
    if (asprintf(path, "%s/%s", root->path, name) < 0) {
        unlinkat(root->fd, name, AT_REMOVEDIR);
        return -ENOMEM;
    }
    return 0;
}

/* Empties the directory open as `fd` (which it closes; -1 fails). */
static int empty_dir(int fd)
{
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        int rc = -errno;
        if (fd >= 0)
            close(fd);
        return rc;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        int r = rb_remove_tree_at(dirfd(d), e->d_name);
        if (r < 0 && rc == 0)
            rc = r;
    }
    closedir(d);
    return rc;
}

/* Opens the directory `name` in `dirfd` to empty it, giving it back the
 * permissions its job took away (runbox owns the tree, or is root). Never
 * follows a symlink the job planted. */
static int open_subdir(int dirfd, const char *name, struct stat *st)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == EACCES) {
        fchmodat(dirfd, name, 0700, 0);
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0)
        return -errno;
    if (fstat(fd, st) < 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    fchmod(fd, 0700);
    return fd;
}

/* Removes every entry of `fd` that is not a directory; the name of the
 * first directory left (malloc'd) goes to *sub, NULL when there is none. */
static int remove_files_in(int fd, char **sub)
{
    *sub = NULL;
    int copy = dup(fd);
    DIR *d = copy >= 0 ? fdopendir(copy) : NULL;
    if (!d) {
        int rc = -errno;
        if (copy >= 0)
            close(copy);
        return rc;
    }
    int rc = 0;
    struct dirent *e;
    while (!*sub && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (unlinkat(fd, e->d_name, 0) == 0 || errno == ENOENT)
            continue;
        if (errno == EISDIR || errno == EPERM) {
            if (!(*sub = strdup(e->d_name)))
                rc = -ENOMEM;
        } else if (rc == 0) {
            rc = -errno;
        }
    }
    closedir(d);
    return rc;
}

struct level {
    char *name;   /* in its parent */
    dev_t dev;    /* of its parent */
    ino_t parent;
};

/* Depth first, holding two descriptors whatever the depth: a tree a job
 * made thousands of levels deep would run a removal that keeps one open per
 * level out of descriptors (and leave the tree behind). Going back up is
 * openat(".."), checked against the parent's device and inode kept for each
 * level, so a tree moved meanwhile is never followed out of its root. */
int rb_remove_tree_at(int dirfd, const char *name)
{
    if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
        return 0;
    if (errno != EISDIR && errno != EPERM)
        return -errno;
    struct stat st;
    int cur = open_subdir(dirfd, name, &st);
    if (cur < 0)
        return cur;
    struct level *stack = NULL;
    size_t depth = 0, cap = 0;
    int rc = 0;
    for (;;) {
        char *sub;
        int r = remove_files_in(cur, &sub);
        if (r < 0 && rc == 0)
            rc = r;
        if (sub && depth == cap) {
            struct level *more = reallocarray(stack, cap ? cap * 2 : 64, sizeof *stack);
            if (more) {
                stack = more;
                cap = cap ? cap * 2 : 64;
            }
        }
        if (sub) {
            struct stat cst;
            int child = depth < cap ? open_subdir(cur, sub, &cst) : -ENOMEM;
            if (child >= 0) {
                stack[depth++] = (struct level){ sub, st.st_dev, st.st_ino };
                close(cur);
                cur = child;
                st = cst;
                continue;
            }
            /* Cannot go in: it stays, and so do the dirs above it. */
            if (rc == 0)
                rc = child;
            free(sub);
        }
        if (depth == 0)
            break;
        /* `cur` is as empty as it will get: up one level, and remove it. */
        struct level *top = &stack[depth - 1];
        struct stat pst;
        int parent = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (parent < 0 || fstat(parent, &pst) < 0 || pst.st_dev != top->dev || pst.st_ino != top->parent) {
            if (parent >= 0)
                close(parent);
            rc = -ESTALE; /* the tree moved under us: stop rather than follow it */
            break;
        }
        if (unlinkat(parent, top->name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
            int err = errno;
            if (rc == 0)
                rc = -err;
            if (err == ENOTEMPTY) {
                /* Something in it could not go: do not come back to it for ever. */
                close(parent);
                break;
            }
        }
        free(top->name);
        depth--;
        close(cur);
        cur = parent;
        st = pst;
    }
    close(cur);
    for (size_t i = 0; i < depth; i++)
        free(stack[i].name);
    free(stack);
    if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        rc = -errno;
    return rc;
}

int rb_workdir_remove(const struct rb_workdir_root *root, const char *path)
{
    const char *name = name_in_root(root, path);
    return name ? rb_remove_tree_at(root->fd, name) : -EINVAL;
}

#define SCRUB_MAX_FILES 64

/* A job dir's own attributes back to a fresh dir's; -EAGAIN when one cannot
 * be (the dir is then not reused). A job could set any of them on `.` and
 * the slot's next job (or the next run of a num_times job) read it. */
static int reset_attributes(const struct rb_workdir_root *root, int fd)
{
    /* Mode 0700 again, whatever the job made of it (setgid, sticky). */
    if (fchmod(fd, 0700) < 0)
        return -errno;
    /* Extended attributes: user.* values and POSIX ACLs are the job's to set. */
    char names[4096];
    ssize_t n = flistxattr(fd, names, sizeof names);
    for (ssize_t i = 0; n > 0 && i < n; i += (ssize_t)strlen(names + i) + 1)
        fremovexattr(fd, names + i);
    n = flistxattr(fd, names, sizeof names);
    if (n < 0 && errno != ENOTSUP)
        return -errno;
    if (n > 0 && (n != root->fresh_xattrs_len || memcmp(names, root->fresh_xattrs, (size_t)n) != 0))
        return -EAGAIN; /* one that would not go (a security label, say) */
    /* Times: now, as a new dir's (which also sets its ctime to now). */
    if (futimens(fd, NULL) < 0)
        return -errno;
    /* What cannot be set back: a directory that held many entries keeps its
     * larger size on most file systems. */
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (root->fresh_size < 0 || st.st_size != root->fresh_size || st.st_blocks != root->fresh_blocks)
        return -EAGAIN;
    return 0;
}

int rb_workdir_scrub(const struct rb_workdir_root *root, const char *path, uid_t owner)
{
    const char *name = name_in_root(root, path);
    if (!name)
        return -EINVAL;
    /* O_NOFOLLOW, and the owner checked: whatever the job left under this
     * name must be the dir it was given, or it is not kept. */
    int fd = openat(root->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    uid_t want = owner != (uid_t)-1 ? owner : geteuid();
    if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != want ||
        (st.st_mode & 0700) != 0700) {
        close(fd);
        return -EPERM;
    }
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -errno;
    }
    /* Only a few plain files are removed here; anything more is the
     * janitor's, so that the supervisor's loop never waits on a job's mess. */
    char *names[SCRUB_MAX_FILES];
    size_t n = 0;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN || n == SCRUB_MAX_FILES)
            rc = -ENOTEMPTY;
        else if (!(names[n++] = strdup(e->d_name)))
            rc = -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (rc == 0 && unlinkat(dirfd(d), names[i], 0) < 0)
            rc = -errno;
        free(names[i]);
    }
    if (rc == 0)
        rc = reset_attributes(root, dirfd(d));
    closedir(d);
    return rc;
}

int rb_workdir_discard(struct rb_workdir_root *root, const char *path)
{
    const char *name = name_in_root(root, path);
    if (!name)
        return -EINVAL;
    if (root->janitor_fd >= 0) {
        char trash[64], line[80];
        restore_root_mode(root->fd);
        snprintf(trash, sizeof trash, ".done-%" PRIu64, ++root->discarded);
        if (renameat2(root->fd, name, root->fd, trash, RENAME_NOREPLACE) == 0) {
            /* The trash name is predictable and the dir still belongs to the
             * job's uid, which is also the uid of the slot's next job (and of
             * the same slot in any other runbox): make it runbox's, mode 0700,
             * before the next job starts, so that none of them can enter it
             * while the janitor works. Through a descriptor opened O_NOFOLLOW:
             * a symlink left in the dir's place is not followed. */
            int fd = openat(root->fd, trash, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd >= 0) {
                if (fchown(fd, geteuid(), getegid()) == 0)
                    fchmod(fd, 0700);
                close(fd);
            }
            int len = snprintf(line, sizeof line, "%s\n", trash);
            if (write(root->janitor_fd, line, (size_t)len) == len)
                return 0;
            name = trash; /* the janitor is busy or gone: remove it here */
        } else if (errno == ENOENT) {
            return 0;
        }
    }
    return rb_remove_tree_at(root->fd, name);
}

int rb_workdir_reuse(const struct rb_workdir_root *root, const char *spare, uint64_t seq, char **path)
{
    const char *old = name_in_root(root, spare);
    char name[64];
    int rc = old ? fresh_name(seq, name) : -EINVAL;
    if (rc < 0)
        return rc;
    if (renameat2(root->fd, old, root->fd, name, RENAME_NOREPLACE) < 0) {
        if (errno != EACCES)
            return -errno;
        restore_root_mode(root->fd);
        if (renameat2(root->fd, old, root->fd, name, RENAME_NOREPLACE) < 0)
            return -errno;
    }
    if (asprintf(path, "%s/%s", root->path, name) < 0) {
        renameat(root->fd, name, root->fd, old);
        return -ENOMEM;
    }
    return 0;
}
