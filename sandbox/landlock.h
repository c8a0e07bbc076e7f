/* Layer 3: Landlock, where the kernel has it. */
#ifndef RB_LANDLOCK_H
#define RB_LANDLOCK_H

#include <stddef.h>

/* The kernel's Landlock ABI version, or a negative errno: -ENOSYS when the
 * kernel lacks it, -EOPNOTSUPP when it is built in but disabled at boot. */
int rb_landlock_abi(void);

struct rb_landlock_paths {
    const char *const *read;  /* read (and map) only */
    size_t nread;
    const char *const *write; /* read and write, create and remove inside */
    size_t nwrite;
};

/* Restricts the calling process (and threads it starts later) to the given
 * paths; everything else on the file system is denied. Where the ABI has
 * them, TCP bind/connect are denied too (ABI 4), and signals and abstract
 * Unix sockets are scoped to the process itself (ABI 6). Paths that do not
 * exist are skipped. The caller must have set no_new_privs. */
int rb_landlock_restrict(int abi, const struct rb_landlock_paths *paths, char *err, size_t errlen);

/* The paths every job may read, whatever it runs: the interpreter's tree,
 * a few files of /etc, /proc, CPU topology and the harmless devices. */
extern const char *const RB_LANDLOCK_SYSTEM_READ[];
extern const size_t RB_LANDLOCK_SYSTEM_NREAD;

#endif
