#define _GNU_SOURCE
#include "workdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

int rb_workdir_root_create(const char *parent, struct rb_workdir_root *root)
{
    char *tmpl;
    if (asprintf(&tmpl, "%s/runbox-XXXXXX", parent) < 0)
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
    return 0;
}

void rb_workdir_root_remove(struct rb_workdir_root *root)
{
    if (!root->path)
        return;
    DIR *d = fdopendir(dup(root->fd));
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, ".."))
                rb_remove_tree_at(root->fd, e->d_name);
        closedir(d);
    }
    close(root->fd);
    rmdir(root->path);
    free(root->path);
    root->path = NULL;
    root->fd = -1;
}

int rb_workdir_create(const struct rb_workdir_root *root, uint64_t seq, uid_t owner, gid_t group,
                      char **path)
{
    uint64_t nonce = 0;
    if (getrandom(&nonce, sizeof nonce, 0) != (ssize_t)sizeof nonce)
        return -EIO;
    char name[64];
    snprintf(name, sizeof name, "j%" PRIu64 "-%016" PRIx64, seq, nonce);
    if (mkdirat(root->fd, name, 0700) < 0)
        return -errno;
    if (owner != (uid_t)-1 && fchownat(root->fd, name, owner, group, AT_SYMLINK_NOFOLLOW) < 0) {
        int rc = -errno;
        unlinkat(root->fd, name, AT_REMOVEDIR);
        return rc;
    }
    if (asprintf(path, "%s/%s", root->path, name) < 0) {
        unlinkat(root->fd, name, AT_REMOVEDIR);
        return -ENOMEM;
    }
    return 0;
}

/* Empties the directory open as `fd` (which it closes). */
static int empty_dir(int fd)
{
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -errno;
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

int rb_remove_tree_at(int dirfd, const char *name)
{
    if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
        return 0;
    if (errno != EISDIR && errno != EPERM)
        return -errno;
    /* O_NOFOLLOW: a symlink the job planted is removed above, never entered. */
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == EACCES) {
        /* The job took its own permissions away; we own the tree, so give them back. */
        fchmodat(dirfd, name, 0700, 0);
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0)
        return -errno;
    fchmod(fd, 0700);
    int rc = empty_dir(fd);
    if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return rc < 0 ? rc : -errno;
    return rc;
}

int rb_workdir_remove(const struct rb_workdir_root *root, const char *path)
{
    size_t n = strlen(root->path);
    if (strncmp(path, root->path, n) != 0 || path[n] != '/' || strchr(path + n + 1, '/'))
        return -EINVAL;
    return rb_remove_tree_at(root->fd, path + n + 1);
}
