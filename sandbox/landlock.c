/*
 * Layer 3: Landlock. Each worker builds a ruleset of its own (a ruleset is
 * mutable until enforced, so one shared from the zygote would let a job's
 * rules leak into the next job's) and enforces it before seccomp, which does
 * not allow the Landlock calls afterwards.
 *
 * Debian 12's headers know ABI 2; later rights are defined here from the
 * kernel's UAPI, and only those the running kernel's ABI has are handled.
 */
#define _GNU_SOURCE
#include "landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

/* The attribute as ABI 6 defines it; older kernels accept the larger struct
 * as long as the fields they do not know are zero. */
struct ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

#define FS_FILE_RIGHTS                                                                  \
    (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | \
     LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)
#define FS_READ_RIGHTS                                                                  \
    (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)

const char *const RB_LANDLOCK_SYSTEM_READ[] = {
    "/usr",             /* the interpreter, its library, site-packages, zoneinfo */
    "/lib",             /* merged-/usr symlinks resolve to /usr; separate on other systems */
    "/lib64",
    "/etc/localtime",   /* time.localtime */
    "/etc/passwd",      /* pwd, getpass, expanduser("~user") */
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/mime.types",  /* mimetypes */
    "/proc",            /* the job's own /proc (private to the jobs when namespaces are on) */
    "/sys/devices/system/cpu", /* os.cpu_count, numerical libraries' thread sizing */
    "/dev/null",
    "/dev/zero",
    "/dev/random",
    "/dev/urandom",
};
const size_t RB_LANDLOCK_SYSTEM_NREAD = sizeof RB_LANDLOCK_SYSTEM_READ / sizeof RB_LANDLOCK_SYSTEM_READ[0];

int rb_landlock_abi(void)
{
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return abi < 0 ? -errno : (int)abi;
}

static uint64_t fs_rights(int abi)
{
    uint64_t r = (1ULL << 13) - 1; /* ABI 1: EXECUTE .. MAKE_SYM */
    if (abi >= 2)
        r |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        r |= LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi >= 5)
        r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
    return r;
}

static int add_fd(int ruleset, int fd, bool is_dir, uint64_t want, uint64_t handled)
{
    /* Rights that only make sense on directories are refused on files. */
    uint64_t allowed = want & handled & (is_dir ? ~0ULL : FS_FILE_RIGHTS);
    struct landlock_path_beneath_attr beneath = { .allowed_access = allowed, .parent_fd = fd };
    if (allowed && syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0) < 0)
        return -errno;
    return 0;
}

/* An O_PATH fd for `path` and whether it is a directory; -1 with errno. */
static int open_path(const char *path, bool *is_dir)
{
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    *is_dir = S_ISDIR(st.st_mode);
    return fd;
}

static bool missing(int err)
{
    return err == ENOENT || err == ENOTDIR || err == EACCES;
}

static int add_path(int ruleset, const char *path, uint64_t want, uint64_t handled)
{
    bool is_dir;
    int fd = open_path(path, &is_dir);
    if (fd < 0)
        return missing(errno) ? 0 : -errno;
    int rc = add_fd(ruleset, fd, is_dir, want, handled);
    close(fd);
    return rc;
}

size_t rb_landlock_hold(const char *const *paths, size_t n, struct rb_landlock_held *out)
{
    size_t held = 0;
    for (size_t i = 0; i < n && held < RB_LANDLOCK_MAX_HELD; i++) {
        bool is_dir;
        int fd = open_path(paths[i], &is_dir);
        if (fd < 0)
            continue;
        int target = RB_LANDLOCK_HELD_FD + (int)held;
        if (fd != target && dup3(fd, target, O_CLOEXEC) < 0) {
            close(fd);
            continue;
        }
        if (fd != target)
            close(fd);
        out[held].fd = target;
        out[held].is_dir = is_dir;
        out[held].devnull = strcmp(paths[i], "/dev/null") == 0;
        held++;
    }
    return held;
}

int rb_landlock_restrict(int abi, const struct rb_landlock_paths *paths, char *err, size_t errlen)
{
    struct ruleset_attr attr = { .handled_access_fs = fs_rights(abi) };
    /* No rule grants a port: every TCP bind and connect is denied. */
    if (abi >= 4)
        attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
    /* Signals and abstract Unix sockets only within the job's own domain. */
    if (abi >= 6)
        attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
    int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
    if (ruleset < 0) {
        snprintf(err, errlen, "landlock_create_ruleset: %s", strerror(errno));
        return -errno;
    }
    int rc = 0;
    const char *failed = NULL;
    bool devnull_held = false;
    for (size_t i = 0; rc == 0 && i < paths->nheld; i++) {
        const struct rb_landlock_held *h = &paths->held[i];
        uint64_t want = FS_READ_RIGHTS;
        /* /dev/null is written to by programs that silence output. */
        if (h->devnull) {
            want |= LANDLOCK_ACCESS_FS_WRITE_FILE;
            devnull_held = true;
        }
        if ((rc = add_fd(ruleset, h->fd, h->is_dir, want, attr.handled_access_fs)) < 0)
            failed = "a path every job reads";
    }
    for (size_t i = 0; rc == 0 && i < paths->nread; i++)
        if ((rc = add_path(ruleset, paths->read[i], FS_READ_RIGHTS, attr.handled_access_fs)) < 0)
            failed = paths->read[i];
    for (size_t i = 0; rc == 0 && i < paths->nlist; i++)
        if ((rc = add_path(ruleset, paths->list[i], LANDLOCK_ACCESS_FS_READ_DIR, attr.handled_access_fs)) < 0)
            failed = paths->list[i];
    for (size_t i = 0; rc == 0 && i < paths->nwrite; i++)
        if ((rc = add_path(ruleset, paths->write[i], ~0ULL, attr.handled_access_fs)) < 0)
            failed = paths->write[i];
    if (rc == 0 && !devnull_held)
        rc = add_path(ruleset, "/dev/null", LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE,
                      attr.handled_access_fs);
    if (rc == 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) < 0) {
        rc = -errno;
        failed = "landlock_restrict_self";
    }
    if (rc < 0)
        snprintf(err, errlen, "Landlock rule for %s: %s", failed ? failed : "/dev/null", strerror(-rc));
    close(ruleset);
    return rc;
}
