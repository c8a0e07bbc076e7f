/*
 * A job's way to its program's tree when runbox is root and a directory
 * above the program is closed to the job's uid (programtree.c says how).
 */
#ifndef RB_PROGRAMTREE_H
#define RB_PROGRAMTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define RB_PROGRAM_TREE_MAX_KEEP 72

struct rb_program_tree {
    const char *dir;            /* the program's directory (a directory app: itself) */
    uid_t uid;                  /* the job's ids, after the drop */
    gid_t gid;
    const char *const *keep;    /* paths that must stay where they are: the first
                                   `nkeep_rw` writable (the working dir), the rest
                                   read-only (import roots) */
    size_t nkeep;
    size_t nkeep_rw;
};

/* As root, before privileges drop, in the zygote's mount namespace: when a
 * directory above `t->dir` is closed to the job, enters a mount namespace
 * of its own where it holds only the way to `t->dir` (and to the kept
 * paths under it). 0 when done or not needed; a negative errno with `err`
 * filled when it could not be done. */
int rb_program_tree_expose(const struct rb_program_tree *t, char *err, size_t errlen);

/* With the job's ids: the first directory on the way to `path` that the job
 * cannot pass through, into `out`; false when there is none. */
bool rb_program_tree_blocker(const char *path, char *out, size_t len);

#endif
