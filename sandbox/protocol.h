/*
 * The wire protocol between the supervisor and the zygote.
 *
 * One SOCK_SEQPACKET socketpair carries fixed-size messages both ways; the
 * supervisor and the zygote are built from the same tree, so the struct is
 * the format. A FORK message carries, as SCM_RIGHTS, the job's spec (a sealed
 * memfd the worker reads after the fork, so the zygote itself never reads
 * job data) and the worker's ends of its four pipes, in the order of
 * `enum rbz_fd`.
 *
 *   zygote     -> supervisor  READY or INIT_FAILED once, at start
 *   supervisor -> zygote      FORK(seq) + fds      one per job
 *   zygote     -> supervisor  FORKED(seq, pid, start_ns) or FORK_FAILED(seq, err)
 *   supervisor -> zygote      KILL(seq)            wall timeout, output cap
 *   zygote     -> supervisor  EXITED(seq, wait status, rusage, end_ns)
 *
 * The zygote is the workers' parent: it reaps them (killing the process
 * group before reaping the leader, so the group id cannot be reused while a
 * member lives) and reports their status. Times are CLOCK_MONOTONIC, which is
 * one clock for both processes.
 */
#ifndef RB_PROTOCOL_H
#define RB_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum rbz_type {
    RBZ_READY = 1,
    RBZ_INIT_FAILED,
    RBZ_FORK,
    RBZ_FORKED,
    RBZ_FORK_FAILED,
    RBZ_KILL,
    RBZ_EXITED,
};

enum rbz_fd {
    RBZ_FD_SPEC = 0,
    RBZ_FD_STDIN,
    RBZ_FD_STDOUT,
    RBZ_FD_STDERR,
    RBZ_FD_STATUS,
    RBZ_NFDS,
};

/* Where the worker keeps its status pipe: high, so the program's own files
 * get the numbers they would get under python3 (3, 4, ...). */
#define RBZ_WORKER_STATUS_FD 1020

/* The ids jobs run under when runbox runs as root: uids of their own, in no
 * passwd file, so that nothing on the host belongs to them and no two jobs
 * running at once share one. Every pool claims a block of RB_JOB_UID_COUNT
 * uids (src/jobuids.c: two runbox processes, or two pools of one program,
 * never get the same block); slot i runs its jobs as block + i (a slot runs
 * one job at a time), and jobs that share a dir (a command list) take
 * block + RB_JOB_UID_SHARED + n. The gid is the uid. 0x70000000 lies between
 * the ranges systemd hands to containers (0x80000-0x6fffffff) and the one it
 * keeps (0x7ffe0000-); 1024 blocks of 8192 end at 0x70800000. The
 * supervisor gives each job's working dir to its uid and tells the worker
 * which one it is in the spec (spec.h: uid). */
#define RB_JOB_UID_BASE 0x70000000u
#define RB_JOB_UID_SHARED 4096u /* above every slot: -j is at most 4096 */
#define RB_JOB_UID_COUNT 8192u
#define RB_JOB_UID_BLOCKS 1024u

/* The uid of slot `slot` in the block starting at `block`. */
static inline uid_t rb_job_uid_of_slot(uid_t block, size_t slot)
{
    return block + (uid_t)slot;
}

/* The uid of the n-th shared dir (a command list's) in a block. */
static inline uid_t rb_job_uid_shared(uid_t block, uint64_t n)
{
    return block + RB_JOB_UID_SHARED + (uid_t)(n % (RB_JOB_UID_COUNT - RB_JOB_UID_SHARED));
}

/* Whether `uid` is one runbox hands out: never 0, never an account's. */
static inline bool rb_job_uid_valid(double uid)
{
    return uid >= RB_JOB_UID_BASE && uid < (double)RB_JOB_UID_BASE + (double)RB_JOB_UID_COUNT * RB_JOB_UID_BLOCKS;
}

/* The CPU limit a job gets, in whole seconds (RLIMIT_CPU counts seconds):
 * its cpu_time rounded up, at least 1. The worker sets it and the supervisor
 * judges a kill by it, so both read it here. */
static inline long rb_cpu_limit_seconds(double cpu_time)
{
    long s = (long)cpu_time;
    if ((double)s < cpu_time)
        s++;
    return s < 1 ? 1 : s;
}

/* The zygote's end of the control socket when it is exec'd. */
#define RBZ_CONTROL_FD 3

/* Bits of `flags` in READY: what the zygote could set up. READY's `err`
 * holds the Landlock ABI in use (0: none), and its `text` a JSON object with
 * the interpreter's version and why any layer is missing. */
#define RBZ_HAVE_SECCOMP (1u << 0)
#define RBZ_HAVE_LANDLOCK (1u << 1)
#define RBZ_HAVE_USERNS (1u << 2)
#define RBZ_HAVE_NETNS (1u << 3)
#define RBZ_HAVE_PIDNS (1u << 4)
#define RBZ_HAVE_IPCNS (1u << 5)
#define RBZ_HAVE_UTSNS (1u << 6)
#define RBZ_HAVE_PRIVATE_PROC (1u << 7)

/* Bit of `flags` in INIT_FAILED: the zygote broke while entering its
 * namespaces; another started without them may work. */
#define RBZ_FAILED_IN_NAMESPACES (1u << 0)

struct rbz_msg {
    uint32_t type;
    uint32_t flags;
    uint64_t seq;
    int32_t pid;
    int32_t err;         /* errno for FORK_FAILED */
    int32_t wait_status; /* EXITED: as from wait4 */
    int32_t pad;
    int64_t start_ns;    /* FORKED: just before the fork */
    int64_t end_ns;      /* EXITED: when reaped */
    int64_t utime_us;
    int64_t stime_us;
    int64_t maxrss_kb;
    int64_t minflt;
    char text[1024];     /* READY: a JSON object (version, why a layer is off); INIT_FAILED: why */
};

/* The job spec the FORK message's memfd holds is declared in spec.h. */

/*
 * The status channel: how the worker tells the supervisor what the program
 * did. One AF_UNIX SOCK_SEQPACKET socketpair per job, the worker's end on
 * RBZ_WORKER_STATUS_FD. A socket rather than a pipe: a pipe can be opened a
 * second time through /proc/self/fd and read from, a socket cannot (ENXIO),
 * and what the worker writes can only be read at the supervisor's end. A
 * SEQPACKET socket keeps each message whole, so nothing a program writes to
 * the descriptor can land inside one of the worker's messages.
 *
 * A message is RBZ_NONCE_HEX characters of prefix, one framing character,
 * then payload: a JSON object (RBZ_FRAME_WHOLE), or a piece of one too long
 * for a message (RBZ_FRAME_MORE pieces, then RBZ_FRAME_LAST). The prefix is
 * the job's secret (spec.h: nonce) on every message after the worker has
 * read it. Before the program's first line, the worker says RBZ_ST_RUNNING;
 * from then on the supervisor takes only messages with the secret and drops
 * everything else as it arrives (never stored, so a flood cannot push the
 * real record out). A message before RBZ_ST_RUNNING can only come from the
 * worker's set-up, when no code of the program has run.
 *
 * The worker writes the verdict of the main module (and of each check) in
 * C, before any Python code runs again, then the details, which may run the
 * program's code (str() of its exception, repr() of captured values): so no
 * code of the program can change a verdict, only fail to describe it.
 */
#define RBZ_NONCE_BYTES 16
#define RBZ_NONCE_HEX (RBZ_NONCE_BYTES * 2)
#define RBZ_FRAME_WHOLE 'M'
#define RBZ_FRAME_MORE 'C'
#define RBZ_FRAME_LAST 'E'
/* Payload bytes in one message: well below the socket's default send buffer. */
#define RBZ_STATUS_PAYLOAD_MAX (32 * 1024)
/* Exit code of a worker that found its status channel closed, replaced or
 * shut down by the program: it stops at once, running nothing more. */
#define RBZ_EXIT_CHANNEL_LOST 124
/* Exit code of a worker whose set-up failed; its setup_failed message says why. */
#define RBZ_EXIT_SETUP_FAILED 125

/* Message types ("t"). */
#define RBZ_ST_TYPE "t"
#define RBZ_ST_SETUP_FAILED "setup_failed" /* error: why; exit_code */
#define RBZ_ST_RUNNING "running"           /* the program's code may run from now on */
#define RBZ_ST_VERDICT "verdict"           /* outcome, exit_code, exception, memory_error,
                                              keyboard_interrupt */
#define RBZ_ST_DETAIL "detail"             /* error, error_detail, line, doc, doc_truncated,
                                              namespace, namespace_truncated */
#define RBZ_ST_CHECK "check"               /* index, status, exception */
#define RBZ_ST_CHECK_DETAIL "check_detail" /* index, error, line */
#define RBZ_ST_CALLS "calls"               /* results: the function-call tests since the last */

/* Fields. */
#define RBZ_ST_OUTCOME "outcome"
#define RBZ_ST_EXIT_CODE "exit_code"
#define RBZ_ST_EXCEPTION "exception"       /* the exception type's qualified name */
#define RBZ_ST_MEMORY_ERROR "memory_error"
#define RBZ_ST_KEYBOARD_INTERRUPT "keyboard_interrupt"
#define RBZ_ST_INDEX "index"
#define RBZ_ST_STATUS "status"
#define RBZ_ST_ERROR "error"
#define RBZ_ST_ERROR_DETAIL "error_detail"
#define RBZ_ST_LINE "line"
#define RBZ_ST_DOC "doc"
#define RBZ_ST_DOC_TRUNCATED "doc_truncated"
#define RBZ_ST_NAMESPACE "namespace"
#define RBZ_ST_NAMESPACE_TRUNCATED "namespace_truncated"

#define RBZ_ST_RESULTS "results"         /* calls: [{index, outcome, value | exception,
                                              error, time}] */
#define RBZ_ST_VALUE "value"               /* a call's return value, type-tagged (src/values.h) */
#define RBZ_ST_TIME "time"                 /* a call's wall seconds */

/* Outcomes of a function-call test. */
#define RBZ_CALL_RETURNED "returned"
#define RBZ_CALL_RAISED "raised"
#define RBZ_CALL_TIMEOUT "timeout"         /* its own time limit passed (the call was interrupted) */

/* Outcomes of a verdict. */
#define RB_OUTCOME_COMPLETED "completed"  /* the main module (and every check) ran to its end */
#define RB_OUTCOME_EXCEPTION "exception"  /* an uncaught exception, SystemExit aside */
#define RB_OUTCOME_EXIT "exit"            /* SystemExit, or the program could not start */

/* Check statuses. */
#define RBZ_CHECK_PASSED "passed"
#define RBZ_CHECK_FAILED "failed"         /* AssertionError */
#define RBZ_CHECK_ERROR "error"           /* any other exception, or an exit */

/* Bounds the worker keeps to; the supervisor accepts a little more. */
#define RBZ_ERROR_MAX (8 * 1024)
#define RBZ_ERROR_DETAIL_MAX (64 * 1024)
#define RBZ_DOC_MAX (64 * 1024)

#endif /* RB_PROTOCOL_H */
