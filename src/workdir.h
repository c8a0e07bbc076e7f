/* Private working directories: one per job, under one root per pool. */
#ifndef RB_WORKDIR_H
#define RB_WORKDIR_H

#include <stdint.h>
#include <sys/types.h>

struct rb_workdir_root {
    char *path;
    int fd;
    pid_t janitor;     /* the process that removes what jobs left, or 0 */
    int janitor_fd;    /* names to remove go here, one a line; -1 without one */
    uint64_t discarded;
    /* What a fresh job dir here looks like, measured when the root is made:
     * a dir that differs after scrubbing is not reused. */
    off_t fresh_size;
    blkcnt_t fresh_blocks;
    char fresh_xattrs[256]; /* its extended attribute names (flistxattr), NUL-separated */
    ssize_t fresh_xattrs_len;
};

/* Creates "<parent>/runbox-XXXXXX" (mode 0711: jobs of another uid may pass
 * through it to their own dir, never list it; `parent` may be relative, the
 * root's path is absolute), and starts its janitor: a process of its own
 * that removes the dirs jobs are done with, so that a job leaving a deep
 * tree of thousands of files never holds up the supervisor's loop (and with
 * it every other job's clock and output). When the supervisor dies, the
 * janitor removes the whole root. */
int rb_workdir_root_create(const char *parent, struct rb_workdir_root *root);

/* Closes the janitor's pipe and waits for it: it removes the root and
 * anything left in it (as it does when the supervisor dies without calling
 * this); then removes whatever it could not. */
void rb_workdir_root_remove(struct rb_workdir_root *root);

/* Hands a job dir to the janitor: renamed out of the way at once, removed
 * in the background (or here and now when there is no janitor). */
int rb_workdir_discard(struct rb_workdir_root *root, const char *path);

/* Creates a job dir with an unguessable name, mode 0700, owned by `owner`
 * when that is not -1; *path is malloc'd. */
int rb_workdir_create(const struct rb_workdir_root *root, uint64_t seq, uid_t owner, gid_t group,
                      char **path);

/* Removes a job dir and everything the job left in it, without following
 * any symlink the job planted. `path` must be inside the root. */
int rb_workdir_remove(const struct rb_workdir_root *root, const char *path);

/* Makes a finished job's dir ready for another job: a few plain files in
 * it are removed, and every attribute a job can set on `.` goes back to a
 * fresh dir's (mode 0700, times now, no extended attributes: no user.*
 * value, no ACL), so that nothing passes from one job to the next through
 * it. Refuses (negative errno; discard it instead) when the dir holds more
 * than that, or subdirectories, or when the name no longer holds a
 * directory owned by `owner` (or by runbox when `owner` is -1): a job that
 * replaced its dir is not trusted with it; and when what cannot be reset
 * differs from a fresh dir's (a size grown by many entries, an attribute
 * that would not go).
 * Reusing dirs spares the file system an inode allocation and a removal
 * per job, the supervisor's largest cost on ext4. */
int rb_workdir_scrub(const struct rb_workdir_root *root, const char *path, uid_t owner);

/* Gives a scrubbed dir a new unguessable name for the next job; *path is
 * malloc'd. The spare path is left as it was on failure. */
int rb_workdir_reuse(const struct rb_workdir_root *root, const char *spare, uint64_t seq, char **path);

/* Removes `name` in `dirfd` recursively; exported for tests. */
int rb_remove_tree_at(int dirfd, const char *name);

#endif
