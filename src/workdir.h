/* Private working directories: one per job, under one root per pool. */
#ifndef RB_WORKDIR_H
#define RB_WORKDIR_H

#include <stdint.h>
#include <sys/types.h>

struct rb_workdir_root {
    char *path;
    int fd;
};

/* Creates "<parent>/runbox-XXXXXX" (mode 0711: jobs of another uid may pass
 * through it to their own dir, never list it). */
int rb_workdir_root_create(const char *parent, struct rb_workdir_root *root);

/* Removes the root and anything left in it. */
void rb_workdir_root_remove(struct rb_workdir_root *root);

/* Creates a job dir with an unguessable name, mode 0700, owned by `owner`
 * when that is not -1; *path is malloc'd. */
int rb_workdir_create(const struct rb_workdir_root *root, uint64_t seq, uid_t owner, gid_t group,
                      char **path);

/* Removes a job dir and everything the job left in it, without following
 * any symlink the job planted. `path` must be inside the root. */
int rb_workdir_remove(const struct rb_workdir_root *root, const char *path);

/* Removes `name` in `dirfd` recursively; exported for tests. */
int rb_remove_tree_at(int dirfd, const char *name);

#endif
