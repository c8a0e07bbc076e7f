/* What seccomp_policy.c's table and seccomp_filters.c's compiler share. */
#ifndef RB_SECCOMP_INT_H
#define RB_SECCOMP_INT_H

#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>

struct syscall_rule {
    const char *name;
    uint32_t action;
    unsigned ncmp;
    struct scmp_arg_cmp cmp[3];
    const char *cond; /* the condition in words, for conditional rows */
    const char *why;
};

/* A call the zygote's loop or a worker's set-up makes that the policy
 * refuses or allows only in part. */
struct set_up_call {
    const char *name;
    const char *why;
};

extern const struct syscall_rule RB_SECCOMP_POLICY[];
extern const size_t RB_SECCOMP_POLICY_ROWS;
extern const struct set_up_call RB_SECCOMP_SET_UP[];
extern const size_t RB_SECCOMP_SET_UP_ROWS;

/* The answer to everything not in the table: the program sees EPERM and
 * Python raises PermissionError. */
#define DEFAULT_ACTION SCMP_ACT_ERRNO(EPERM)

/* Whether a row compares an argument with the job's own pid. */
bool rb_seccomp_names_pid(const struct syscall_rule *r);

#endif
