/* Layer 2: the worker's seccomp allowlist, compiled once in the zygote. */
#ifndef RB_SECCOMP_POLICY_H
#define RB_SECCOMP_POLICY_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Stand-ins for the worker's own pid in argument comparisons ("kill only
 * yourself"). They are above any pid the kernel hands out (pid_max is at most
 * 2^22), so the compiled filter can be patched per job instead of rebuilt. */
#define RB_SECCOMP_SELF 0x7b5e1f00u
#define RB_SECCOMP_NEG_SELF 0x7b5e1f01u

struct rb_seccomp_program {
    struct sock_filter *insns;
    unsigned short len;
    size_t self_sites;     /* instructions that compare with RB_SECCOMP_SELF */
    size_t neg_self_sites; /* ... with RB_SECCOMP_NEG_SELF */
};

/* What one row of the policy says, for tests and `runbox doctor`. */
struct rb_seccomp_row {
    const char *syscall;
    const char *action; /* "allow", "allow if ...", "EPERM", "ENOSYS", "kill" */
    const char *why;
};

/* The policy in two filters whose stack answers as the policy does
 * (seccomp_policy.c says how): the zygote's, loaded once into the zygote,
 * and the job's, loaded by each worker last of its set-up. */
struct rb_seccomp_filters {
    struct rb_seccomp_program zygote;
    struct rb_seccomp_program job;
};

/* Compiles both. Returns 0 or a negative errno; on failure `err` says which
 * row failed. */
int rb_seccomp_build(struct rb_seccomp_filters *out, char *err, size_t errlen);

/* The policy compiled as one filter: what the stack of the two must equal
 * (the tests compare them). */
int rb_seccomp_build_whole(struct rb_seccomp_program *out, char *err, size_t errlen);

/* Sets no_new_privs and loads the zygote's filter into the calling thread. */
int rb_seccomp_install_zygote(const struct rb_seccomp_filters *f);

/* Patches the stand-ins with `self` (once: the stand-ins are gone after). */
void rb_seccomp_patch(struct rb_seccomp_program *prog, pid_t self);

/* Patches the stand-ins with `self` and loads the program into the calling
 * thread. The caller must already have set no_new_privs. */
int rb_seccomp_install(struct rb_seccomp_program *prog, pid_t self);

void rb_seccomp_program_free(struct rb_seccomp_program *prog);
void rb_seccomp_filters_free(struct rb_seccomp_filters *f);

/* The policy rows, in table order; `*n` receives the count. */
const struct rb_seccomp_row *rb_seccomp_rows(size_t *n);

/* The calls the job's filter answers for (the zygote's allows them), and
 * why each is there. */
const struct rb_seccomp_row *rb_seccomp_job_rows(size_t *n);

/* Whether every syscall named in the table is known on this architecture;
 * fills `missing` with the first unknown name. */
int rb_seccomp_check_names(const char **missing);

#endif
