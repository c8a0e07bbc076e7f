/* Files a job gets before it starts and gives back after it ends. Both walk
 * the job's directory one component at a time without following symlinks:
 * the directory is the job's, and whatever it planted there (a symlink to
 * /etc/shadow named like a tracked file) must not make the supervisor read
 * or write elsewhere. */
#ifndef RB_JOBFILES_H
#define RB_JOBFILES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "runbox.h"

/* Whether `path` may name a file inside a job's dir: relative, no "..", "."
 * or empty components, at most 4096 bytes. NULL when fine, else why not. */
const char *rb_job_path_problem(const char *path);

/* Writes `len` bytes as `path` under the dir open as `dirfd`, creating the
 * directories on the way (mode 0755), all owned by owner:group unless -1. */
int rb_job_file_write(int dirfd, const char *path, const char *data, size_t len, uid_t owner,
                      gid_t group);

/* Reads `path` under `dirfd`, up to `limit` bytes. Returns 1 with *data
 * (malloc'd) and *len, 0 when it is absent or not a regular file (or reached
 * through a symlink), or a negative errno. */
int rb_job_file_read(int dirfd, const char *path, size_t limit, char **data, size_t *len,
                     bool *truncated);

/* Reads each of paths[0..n) under `dir` (up to `limit` bytes each) into
 * an array of n tracked files; one absent, not regular, or not readable is
 * there with data NULL. NULL when out of memory. Free with
 * rb_tracked_files_free. */
rb_tracked_file *rb_tracked_files_read(const char *dir, const char *const *paths, size_t n, size_t limit);
void rb_tracked_files_free(rb_tracked_file *t, size_t n);

#endif
