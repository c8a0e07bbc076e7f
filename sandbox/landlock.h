/* Layer 3: Landlock, where the kernel has it. */
#ifndef RB_LANDLOCK_H
#define RB_LANDLOCK_H

#include <stdbool.h>
#include <stddef.h>

/* The kernel's Landlock ABI version, or a negative errno: -ENOSYS when the
 * kernel lacks it, -EOPNOTSUPP when it is built in but disabled at boot. */
int rb_landlock_abi(void);

/* A path the zygote holds open (O_PATH) for every worker's rules: opening,
 * checking and closing two dozen paths in each worker costs more system
 * calls than the rest of its set-up together. The workers inherit them at
 * fixed numbers and close them once their ruleset is in force. */
#define RB_LANDLOCK_HELD_FD 900
#define RB_LANDLOCK_MAX_HELD 64
struct rb_landlock_held {
    int fd;
    bool is_dir;
    bool devnull; /* /dev/null, which is also written to */
};

/* Opens each path onto fds from RB_LANDLOCK_HELD_FD up (at most
 * RB_LANDLOCK_MAX_HELD); paths that do not exist are left out. Returns how
 * many are held. */
size_t rb_landlock_hold(const char *const *paths, size_t n, struct rb_landlock_held *out);

struct rb_landlock_paths {
    const char *const *read;  /* read (and map) only */
    size_t nread;
    const char *const *write; /* read and write, create and remove inside */
    size_t nwrite;
    const struct rb_landlock_held *held; /* read only, already open */
    size_t nheld;
    const char *const *list;  /* directories whose names may be listed, nothing more */
    size_t nlist;
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
