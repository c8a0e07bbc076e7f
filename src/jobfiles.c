#define _GNU_SOURCE
#include "jobfiles.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

const char *rb_job_path_problem(const char *path)
{
    size_t len = strlen(path);
    if (len == 0)
        return "is empty";
    if (len > 4096)
        return "is longer than 4096 bytes";
    if (path[0] == '/')
        return "is absolute";
    const char *p = path;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0)
            return "has an empty component";
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return "has a '.' or '..' component";
        if (!slash)
            break;
        p = slash + 1;
        if (!*p)
            return "ends with '/'";
    }
    return NULL;
}

/* Opens the directory that holds `path`'s last component, creating the ones
 * missing when `create`; *leaf points at that component. */
static int open_parent(int dirfd, const char *path, bool create, uid_t owner, gid_t group,
                       const char **leaf)
{
    int fd = dup(dirfd);
    if (fd < 0)
        return -errno;
    const char *p = path;
    for (;;) {
        const char *slash = strchr(p, '/');
        if (!slash) {
            *leaf = p;
            return fd;
        }
        char name[4097];
        size_t n = (size_t)(slash - p);
        memcpy(name, p, n);
        name[n] = '\0';
        if (create && mkdirat(fd, name, 0755) == 0 && owner != (uid_t)-1)
            fchownat(fd, name, owner, group, AT_SYMLINK_NOFOLLOW);
        int next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int err = errno;
        close(fd);
        if (next < 0)
            return -err;
        fd = next;
        p = slash + 1;
    }
}

int rb_job_file_write(int dirfd, const char *path, const char *data, size_t len, uid_t owner,
                      gid_t group)
{
    if (rb_job_path_problem(path))
        return -EINVAL;
    const char *leaf;
    int dir = open_parent(dirfd, path, true, owner, group, &leaf);
    if (dir < 0)
        return dir;
    int fd = openat(dir, leaf, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    int rc = fd < 0 ? -errno : rb_write_all(fd, data, len);
    if (fd >= 0 && rc == 0 && owner != (uid_t)-1 && fchown(fd, owner, group) < 0)
        rc = -errno;
    if (fd >= 0)
        close(fd);
    close(dir);
    return rc;
}

int rb_job_file_read(int dirfd, const char *path, size_t limit, char **data, size_t *len,
                     bool *truncated)
{
    *data = NULL;
    *len = 0;
    *truncated = false;
    if (rb_job_path_problem(path))
        return 0;
    const char *leaf;
    int dir = open_parent(dirfd, path, false, (uid_t)-1, (gid_t)-1, &leaf);
    if (dir < 0)
        return dir == -ENOENT || dir == -ELOOP || dir == -ENOTDIR ? 0 : dir;
    /* O_NONBLOCK: a FIFO the job left must not hang the supervisor. */
    int fd = openat(dir, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    int err = errno;
    close(dir);
    if (fd < 0)
        return err == ENOENT || err == ELOOP || err == ENOTDIR || err == ENXIO ? 0 : -err;
    struct stat sb, db;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return 0;
    }
    /* Only a file of the dir's owner (the job's uid): a hard link the job made
     * to someone else's file (allowed where fs.protected_hardlinks is 0) must
     * not be read back with runbox's rights, which as root are root's. */
    if (fstat(dirfd, &db) < 0 || sb.st_uid != db.st_uid) {
        close(fd);
        return 0;
    }
    size_t want = (size_t)sb.st_size < limit ? (size_t)sb.st_size : limit;
    char *buf = malloc(want + 1);
    if (!buf) {
        close(fd);
        return -ENOMEM;
    }
    size_t got = 0;
    while (got < want) {
        ssize_t n = read(fd, buf + got, want - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    *data = buf;
    *len = got;
    *truncated = (size_t)sb.st_size > limit;
    return 1;
}

rb_tracked_file *rb_tracked_files_read(const char *dir, const char *const *paths, size_t n, size_t limit)
{
    rb_tracked_file *t = calloc(n ? n : 1, sizeof *t);
    if (!t)
        return NULL;
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    for (size_t i = 0; i < n; i++) {
        char *data;
        t[i].path = paths[i];
        if (dirfd >= 0 && rb_job_file_read(dirfd, paths[i], limit, &data, &t[i].len, &t[i].truncated) == 1)
            t[i].data = data;
    }
    if (dirfd >= 0)
        close(dirfd);
    return t;
}

void rb_tracked_files_free(rb_tracked_file *t, size_t n)
{
    for (size_t i = 0; t && i < n; i++)
        free((char *)t[i].data);
    free(t);
}
