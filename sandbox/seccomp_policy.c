/*
 * Layer 2: the seccomp policy, as a data table.
 *
 * An allowlist: every syscall a Python program legitimately needs is allowed,
 * a few only with argument conditions; everything else fails with EPERM, so
 * Python raises PermissionError and the program can report it. A short list of
 * syscalls that only an escape attempt would make kills the process at once
 * (status `violation`), as does any syscall of a foreign architecture or the
 * x32 ABI (the filter's bad-architecture action).
 *
 * The table is compiled into two filters by seccomp_filters.c, which says
 * how; this file holds the table, the calls the zygote and a worker's set-up
 * need (SET_UP_CALLS), and the rows as docs/sandbox.md and `runbox doctor`
 * show them.
 */
#define _GNU_SOURCE
#include "seccomp_policy.h"
#include "seccomp_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdbool.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "protocol.h"

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#endif

/* Compare the low 32 bits of argument `a`: the kernel reads pid_t, int and
 * unsigned int arguments from the low half of the register, whatever a caller
 * going through ctypes put in the high half. */
#define LO32(a, v) { .arg = (a), .op = SCMP_CMP_MASKED_EQ, .datum_a = 0xffffffffu, .datum_b = (v) }
/* A socket type, whatever SOCK_NONBLOCK and SOCK_CLOEXEC say. */
#define TYPE_IS(a, t) { .arg = (a), .op = SCMP_CMP_MASKED_EQ, .datum_a = 0xffffffffu & ~(unsigned)(SOCK_NONBLOCK | SOCK_CLOEXEC), .datum_b = (t) }
#define HAS_BITS(a, bits) { .arg = (a), .op = SCMP_CMP_MASKED_EQ, .datum_a = (bits), .datum_b = (bits) }
/* A descriptor below the status channel's (RBZ_WORKER_STATUS_FD), compared
 * on the whole register: a value with high bits set, which the kernel would
 * truncate to the channel's number, is not below it, so the rule fails
 * closed. The job's own descriptors are all far below (RLIMIT_NOFILE). */
#define NOT_CHANNEL(a) { .arg = (a), .op = SCMP_CMP_LT, .datum_a = RBZ_WORKER_STATUS_FD }
/* An argument that is NULL: for utimensat, no path (the fd itself). */
#define IS_NULL(a) { .arg = (a), .op = SCMP_CMP_EQ, .datum_a = 0 }

#define ALLOW(n, w) { n, SCMP_ACT_ALLOW, 0, { { 0 } }, NULL, w }
#define ALLOW_IF(n, c, cw, w) { n, SCMP_ACT_ALLOW, 1, { c }, cw, w }
#define ALLOW_IF2(n, c1, c2, cw, w) { n, SCMP_ACT_ALLOW, 2, { c1, c2 }, cw, w }
#define ALLOW_IF3(n, c1, c2, c3, cw, w) { n, SCMP_ACT_ALLOW, 3, { c1, c2, c3 }, cw, w }
#define DENY(n, e, w) { n, SCMP_ACT_ERRNO(e), 0, { { 0 } }, NULL, w }
#define KILL(n, w) { n, SCMP_ACT_KILL_PROCESS, 0, { { 0 } }, NULL, w }
#define SETSOCKOPT(opt, name)                                                                     \
    ALLOW_IF3("setsockopt", NOT_CHANNEL(0), LO32(1, SOL_SOCKET), LO32(2, opt),                     \
              "level SOL_SOCKET, option " name ", fd not the status channel's",                   \
              "a socket option that holds no kernel memory and loads no code")

const struct syscall_rule RB_SECCOMP_POLICY[] = {
    /* --- memory --- */
    ALLOW("brk", "the heap"),
    ALLOW("mmap", "the heap, thread stacks, shared libraries loaded by import"),
    ALLOW("munmap", "freeing memory"),
    ALLOW("mprotect", "guard pages, ctypes and cffi callbacks"),
    ALLOW("mremap", "realloc of large blocks"),
    ALLOW("madvise", "allocators returning memory"),
    ALLOW("mincore", "used by some allocators"),
    ALLOW("msync", "mmap module"),
    ALLOW("mlock", "bounded to nothing by RLIMIT_MEMLOCK"),
    ALLOW("munlock", "the pair of mlock"),
    ALLOW("mlock2", "bounded to nothing by RLIMIT_MEMLOCK"),
    ALLOW("mlockall", "bounded to nothing by RLIMIT_MEMLOCK"),
    ALLOW("munlockall", "the pair of mlockall"),
    ALLOW("get_mempolicy", "numpy and OpenBLAS ask for the NUMA policy"),
    ALLOW("set_mempolicy", "affects only the calling thread"),
    ALLOW("mbind", "affects only the caller's own memory"),
    ALLOW("pkey_alloc", "memory protection keys of the caller's own memory"),
    ALLOW("pkey_free", "memory protection keys of the caller's own memory"),
    ALLOW("pkey_mprotect", "memory protection keys of the caller's own memory"),
    ALLOW("membarrier", "used by some runtimes for their own threads"),

    /* --- threads and signals --- */
    ALLOW_IF("clone", HAS_BITS(0, CLONE_THREAD), "flags include CLONE_THREAD",
             "threads only; without CLONE_THREAD it is fork, which fails with EPERM"),
    DENY("clone3", ENOSYS,
         "its flags live in memory a filter cannot read; ENOSYS makes glibc "
         "fall back to clone, which the filter can check"),
    DENY("fork", EPERM, "one process per job: os.fork raises PermissionError"),
    DENY("vfork", EPERM, "Python 3.11's subprocess calls vfork directly; it raises PermissionError"),
    DENY("execve", EPERM, "no other program may run, including a memfd written by the job"),
    DENY("execveat", EPERM, "no other program may run, including a memfd written by the job"),
    ALLOW("futex", "locks and condition variables"),
    ALLOW("futex_waitv", "locks"),
    ALLOW("set_robust_list", "glibc at thread start"),
    ALLOW("set_tid_address", "glibc at thread start"),
    ALLOW("rseq", "glibc at thread start"),
    ALLOW("arch_prctl", "thread-local storage set-up"),
    ALLOW("gettid", "thread ids"),
    ALLOW("exit", "a thread ends"),
    ALLOW("exit_group", "the process ends"),
    ALLOW("rt_sigaction", "the signal module"),
    ALLOW("rt_sigprocmask", "the signal module, threads"),
    ALLOW("rt_sigreturn", "returning from a signal handler"),
    ALLOW("rt_sigpending", "signal.sigpending"),
    ALLOW("rt_sigsuspend", "signal.pause"),
    ALLOW("rt_sigtimedwait", "signal.sigwait"),
    ALLOW("sigaltstack", "faulthandler"),
    ALLOW("pause", "signal.pause"),
    ALLOW("alarm", "signal.alarm, a common time-limit idiom in graded code"),
    ALLOW("setitimer", "signal.setitimer"),
    ALLOW("getitimer", "signal.getitimer"),
    ALLOW("timer_create", "POSIX timers of the process itself"),
    ALLOW("timer_settime", "POSIX timers of the process itself"),
    ALLOW("timer_gettime", "POSIX timers of the process itself"),
    ALLOW("timer_getoverrun", "POSIX timers of the process itself"),
    ALLOW("timer_delete", "POSIX timers of the process itself"),
    ALLOW_IF("kill", LO32(0, RB_SECCOMP_SELF), "pid is the job itself",
             "a program may signal itself (os.kill(os.getpid(), ...))"),
    ALLOW_IF("kill", LO32(0, 0), "pid is 0 (its own process group)",
             "its process group holds only itself"),
    ALLOW_IF("kill", LO32(0, RB_SECCOMP_NEG_SELF), "pid is -(the job's pid)",
             "its process group holds only itself"),
    ALLOW_IF("tgkill", LO32(0, RB_SECCOMP_SELF), "tgid is the job itself",
             "raise(), abort() and signal.pthread_kill within the process; "
             "any other target (another job, the supervisor) gets EPERM"),
    ALLOW_IF("rt_sigqueueinfo", LO32(0, RB_SECCOMP_SELF), "pid is the job itself",
             "queued signals to itself only"),
    ALLOW_IF("rt_tgsigqueueinfo", LO32(0, RB_SECCOMP_SELF), "tgid is the job itself",
             "queued signals to its own threads only"),
    DENY("tkill", EPERM, "obsolete; cannot be restricted to the caller's own threads"),

    /* --- files (Landlock, where active, narrows which ones) --- */
    ALLOW("read", "I/O"),
    ALLOW("write", "I/O"),
    ALLOW("readv", "I/O"),
    ALLOW("writev", "I/O"),
    ALLOW("pread64", "I/O"),
    ALLOW("pwrite64", "I/O"),
    ALLOW("preadv", "I/O"),
    ALLOW("pwritev", "I/O"),
    ALLOW("preadv2", "I/O"),
    ALLOW("pwritev2", "I/O"),
    ALLOW("lseek", "I/O"),
    ALLOW("open", "opening files"),
    ALLOW("openat", "opening files"),
    ALLOW("openat2", "opening files"),
    ALLOW("creat", "opening files"),
    ALLOW_IF("close", NOT_CHANNEL(0), "fd is not the status channel's",
             "closing files; the status channel cannot be closed (protocol.h): its verdict must get out"),
    ALLOW_IF("close_range", NOT_CHANNEL(1), "the range ends below the status channel",
             "closing files; os.closerange over the status channel falls back to closing one by one"),
    ALLOW_IF("dup", NOT_CHANNEL(0), "fd is not the status channel's",
             "file descriptors; a copy of the status channel could shut it down or unblock it"),
    ALLOW_IF("dup2", NOT_CHANNEL(0), "oldfd is not the status channel's",
             "file descriptors (newfd cannot reach the channel's number: RLIMIT_NOFILE)"),
    ALLOW_IF("dup3", NOT_CHANNEL(0), "oldfd is not the status channel's",
             "file descriptors (newfd cannot reach the channel's number: RLIMIT_NOFILE)"),
    ALLOW("pipe", "os.pipe"),
    ALLOW("pipe2", "os.pipe"),
    ALLOW_IF2("fcntl", NOT_CHANNEL(0), LO32(1, F_DUPFD), "cmd is F_DUPFD, fd not the status channel's",
              "file descriptors"),
    ALLOW_IF2("fcntl", NOT_CHANNEL(0), LO32(1, F_DUPFD_CLOEXEC),
              "cmd is F_DUPFD_CLOEXEC, fd not the status channel's", "file descriptors"),
    ALLOW_IF("fcntl", LO32(1, F_GETFD), "cmd is F_GETFD", "close-on-exec flag"),
    ALLOW_IF("fcntl", LO32(1, F_SETFD), "cmd is F_SETFD", "close-on-exec flag"),
    ALLOW_IF("fcntl", LO32(1, F_GETFL), "cmd is F_GETFL", "status flags"),
    ALLOW_IF2("fcntl", NOT_CHANNEL(0), LO32(1, F_SETFL), "cmd is F_SETFL, fd not the status channel's",
              "non-blocking I/O; the status channel stays blocking"),
    ALLOW_IF("fcntl", LO32(1, F_GETLK), "cmd is F_GETLK", "fcntl.lockf"),
    ALLOW_IF("fcntl", LO32(1, F_SETLK), "cmd is F_SETLK", "fcntl.lockf"),
    ALLOW_IF("fcntl", LO32(1, F_SETLKW), "cmd is F_SETLKW", "fcntl.lockf"),
    ALLOW_IF("fcntl", LO32(1, F_OFD_GETLK), "cmd is F_OFD_GETLK", "file locks"),
    ALLOW_IF("fcntl", LO32(1, F_OFD_SETLK), "cmd is F_OFD_SETLK", "file locks"),
    ALLOW_IF("fcntl", LO32(1, F_OFD_SETLKW), "cmd is F_OFD_SETLKW", "file locks"),
    ALLOW_IF("fcntl", LO32(1, F_GETPIPE_SZ), "cmd is F_GETPIPE_SZ", "pipe size"),
    /* F_SETPIPE_SZ is missing on purpose: a pipe grown to 1 MiB is kernel
     * memory no rlimit counts, and 250 of them are a quarter of a GiB. */
    ALLOW_IF("fcntl", LO32(1, F_ADD_SEALS), "cmd is F_ADD_SEALS", "memfd seals"),
    ALLOW_IF("fcntl", LO32(1, F_GET_SEALS), "cmd is F_GET_SEALS", "memfd seals"),
    ALLOW_IF("fcntl", LO32(1, F_GETOWN), "cmd is F_GETOWN", "harmless query"),
    ALLOW_IF("fcntl", LO32(1, F_GETSIG), "cmd is F_GETSIG", "harmless query"),
    /* F_SETOWN, F_SETOWN_EX and F_SETSIG are missing on purpose: with them a
     * job could have the kernel send any signal to another process of the
     * same user whenever a file becomes readable. */
    ALLOW_IF("ioctl", LO32(1, TCGETS), "request is TCGETS", "isatty"),
    ALLOW_IF("ioctl", LO32(1, TIOCGWINSZ), "request is TIOCGWINSZ", "os.get_terminal_size"),
    ALLOW_IF("ioctl", LO32(1, FIOCLEX), "request is FIOCLEX", "os.set_inheritable"),
    ALLOW_IF("ioctl", LO32(1, FIONCLEX), "request is FIONCLEX", "os.set_inheritable"),
    ALLOW_IF2("ioctl", NOT_CHANNEL(0), LO32(1, FIONBIO), "request is FIONBIO, fd not the status channel's",
              "non-blocking I/O; the status channel stays blocking"),
    ALLOW_IF("ioctl", LO32(1, FIONREAD), "request is FIONREAD", "bytes waiting on a pipe"),
    /* Not TIOCSTI: pushing characters into a terminal's input is how a
     * sandboxed program types commands into its user's shell. */
    ALLOW("fstat", "stat"),
    ALLOW("stat", "stat"),
    ALLOW("lstat", "stat"),
    ALLOW("newfstatat", "stat"),
    ALLOW("statx", "stat"),
    ALLOW("statfs", "shutil.disk_usage"),
    ALLOW("fstatfs", "os.fstatvfs"),
    ALLOW("access", "os.access"),
    ALLOW("faccessat", "os.access"),
    ALLOW("faccessat2", "os.access"),
    ALLOW("readlink", "os.readlink, os.path.realpath"),
    ALLOW("readlinkat", "os.readlink"),
    ALLOW("getdents", "os.listdir"),
    ALLOW("getdents64", "os.listdir, os.scandir"),
    ALLOW("getcwd", "os.getcwd"),
    ALLOW("chdir", "os.chdir"),
    ALLOW("fchdir", "os.chdir"),
    ALLOW("mkdir", "os.mkdir"),
    ALLOW("mkdirat", "os.mkdir"),
    ALLOW("rmdir", "os.rmdir"),
    ALLOW("unlink", "os.remove"),
    ALLOW("unlinkat", "os.remove"),
    ALLOW("rename", "os.rename"),
    ALLOW("renameat", "os.rename"),
    ALLOW("renameat2", "os.rename"),
    ALLOW("link", "os.link"),
    ALLOW("linkat", "os.link"),
    ALLOW("symlink", "os.symlink"),
    ALLOW("symlinkat", "os.symlink"),
    /* Metadata by path: Landlock does not cover it, so a job could change
     * the mode, owner, times or extended attributes of any file of its user
     * it can name (a private key made readable to all, the working dirs'
     * parent made unusable). Only the descriptor forms are allowed, on files
     * the job could open, which Landlock and DAC decide; the zygote routes
     * os.chmod and friends on a path through a descriptor. */
    DENY("chmod", EPERM, "metadata by path reaches files Landlock guards only against reading and writing"),
    DENY("fchmodat", EPERM, "metadata by path reaches files Landlock guards only against reading and writing"),
    ALLOW("fchmod", "os.chmod, through a descriptor of a file the job could open"),
    DENY("chown", EPERM, "metadata by path reaches files Landlock guards only against reading and writing"),
    DENY("lchown", EPERM, "metadata by path reaches files Landlock guards only against reading and writing"),
    DENY("fchownat", EPERM,
         "metadata by path; with AT_EMPTY_PATH it takes an O_PATH descriptor, which Landlock does not check"),
    ALLOW("fchown", "os.chown, through a descriptor; without privileges only to the job's own ids"),
    ALLOW("umask", "os.umask"),
    DENY("utime", EPERM, "metadata by path reaches files Landlock guards only against reading and writing"),
    DENY("utimes", EPERM, "metadata by path reaches files Landlock guards only against reading and writing"),
    DENY("futimesat", EPERM, "metadata by path reaches files Landlock guards only against reading and writing"),
    ALLOW_IF("utimensat", IS_NULL(1), "pathname is NULL (the descriptor itself)",
             "os.utime through a descriptor of a file the job could open; by path it is refused"),
    ALLOW("truncate", "os.truncate"),
    ALLOW("ftruncate", "os.truncate"),
    ALLOW("fallocate", "os.posix_fallocate, bounded by RLIMIT_FSIZE"),
    ALLOW("fsync", "os.fsync"),
    ALLOW("fdatasync", "os.fdatasync"),
    ALLOW("fadvise64", "os.posix_fadvise"),
    ALLOW("readahead", "I/O hints"),
    ALLOW("flock", "fcntl.flock"),
    ALLOW("sendfile", "shutil.copyfile"),
    ALLOW("copy_file_range", "shutil.copyfile"),
    ALLOW("splice", "pipes"),
    ALLOW("tee", "pipes"),
    ALLOW("vmsplice", "pipes"),
    DENY("memfd_create", EPERM,
         "its pages are memory no rlimit counts (RLIMIT_AS sees only what is mapped): a job could hold "
         "gigabytes in unmapped memfds"),
    ALLOW_IF("mknod", HAS_BITS(1, S_IFIFO), "mode is a FIFO", "os.mkfifo"),
    ALLOW_IF("mknodat", HAS_BITS(2, S_IFIFO), "mode is a FIFO", "os.mkfifo"),
    ALLOW("getxattr", "extended attributes of files the job can reach"),
    ALLOW("lgetxattr", "extended attributes of files the job can reach"),
    ALLOW("fgetxattr", "extended attributes of files the job can reach"),
    ALLOW("listxattr", "extended attributes of files the job can reach"),
    ALLOW("llistxattr", "extended attributes of files the job can reach"),
    ALLOW("flistxattr", "extended attributes of files the job can reach"),
    DENY("setxattr", EPERM, "metadata by path reaches files Landlock guards only against reading and writing"),
    DENY("lsetxattr", EPERM, "metadata by path reaches files Landlock guards only against reading and writing"),
    ALLOW("fsetxattr", "extended attributes through a descriptor of a file the job could open"),
    DENY("removexattr", EPERM, "metadata by path reaches files Landlock guards only against reading and writing"),
    DENY("lremovexattr", EPERM, "metadata by path reaches files Landlock guards only against reading and writing"),
    ALLOW("fremovexattr", "extended attributes through a descriptor of a file the job could open"),
    DENY("inotify_init", EPERM,
         "inotify instances count against the user owning the job's namespace on the host (root, when "
         "runbox is root): one job could take them all from every process of that user"),
    DENY("inotify_init1", EPERM,
         "inotify instances count against the user owning the job's namespace on the host (root, when "
         "runbox is root): one job could take them all from every process of that user"),
    DENY("fanotify_init", EPERM, "watching files beyond the job's own"),

    /* --- waiting and time --- */
    ALLOW("poll", "select module"),
    ALLOW("ppoll", "select module"),
    ALLOW("select", "select module"),
    ALLOW("pselect6", "select module"),
    ALLOW("epoll_create", "asyncio"),
    ALLOW("epoll_create1", "asyncio"),
    ALLOW("epoll_ctl", "asyncio"),
    ALLOW("epoll_wait", "asyncio"),
    ALLOW("epoll_pwait", "asyncio"),
    ALLOW("epoll_pwait2", "asyncio"),
    ALLOW("eventfd", "event notification within the process"),
    ALLOW("eventfd2", "event notification within the process"),
    ALLOW("timerfd_create", "timers within the process"),
    ALLOW("timerfd_settime", "timers within the process"),
    ALLOW("timerfd_gettime", "timers within the process"),
    ALLOW("signalfd", "signals within the process"),
    ALLOW("signalfd4", "signals within the process"),
    ALLOW("clock_gettime", "time"),
    ALLOW("clock_getres", "time"),
    ALLOW("gettimeofday", "time"),
    ALLOW("time", "time"),
    ALLOW("nanosleep", "time.sleep"),
    ALLOW("clock_nanosleep", "time.sleep"),
    ALLOW("sched_yield", "threads"),
    ALLOW("restart_syscall", "the kernel restarting an interrupted sleep"),
    ALLOW("wait4", "nothing to wait for (no children), fails with ECHILD"),
    ALLOW("waitid", "nothing to wait for (no children), fails with ECHILD"),

    /* --- the process itself --- */
    ALLOW("getpid", "os.getpid"),
    ALLOW("getppid", "os.getppid"),
    ALLOW("getuid", "ids"),
    ALLOW("geteuid", "ids"),
    ALLOW("getgid", "ids"),
    ALLOW("getegid", "ids"),
    ALLOW("getresuid", "ids"),
    ALLOW("getresgid", "ids"),
    ALLOW("getgroups", "ids"),
    ALLOW("getpgrp", "ids"),
    ALLOW("getpgid", "ids"),
    ALLOW("getsid", "ids"),
    ALLOW("capget", "reading capabilities"),
    ALLOW("getrusage", "resource.getrusage"),
    ALLOW("times", "os.times"),
    ALLOW("getrlimit", "resource.getrlimit"),
    ALLOW("setrlimit", "limits can only be lowered without privileges"),
    ALLOW_IF("prlimit64", LO32(0, 0), "pid is 0 (itself)",
             "resource.setrlimit; never on another process, which could lower another job's limits"),
    ALLOW_IF("prlimit64", LO32(0, RB_SECCOMP_SELF), "pid is the job itself",
             "resource.prlimit on itself"),
    ALLOW("getpriority", "os.getpriority"),
    ALLOW_IF2("setpriority", LO32(0, PRIO_PROCESS), LO32(1, 0), "which is PRIO_PROCESS and who is 0",
              "os.nice on itself; never on other processes of the same user"),
    ALLOW_IF2("setpriority", LO32(0, PRIO_PROCESS), LO32(1, RB_SECCOMP_SELF),
              "which is PRIO_PROCESS and who is the job itself", "os.setpriority on itself"),
    ALLOW("sched_getaffinity", "os.sched_getaffinity, os.cpu_count"),
    ALLOW_IF("sched_setaffinity", LO32(0, 0), "pid is 0 (itself)", "its own CPUs only"),
    ALLOW_IF("sched_setaffinity", LO32(0, RB_SECCOMP_SELF), "pid is the job itself", "its own CPUs only"),
    ALLOW("sched_getparam", "scheduling queries"),
    ALLOW("sched_getscheduler", "scheduling queries"),
    ALLOW("sched_get_priority_max", "scheduling queries"),
    ALLOW("sched_get_priority_min", "scheduling queries"),
    ALLOW("sched_rr_get_interval", "scheduling queries"),
    ALLOW("getcpu", "which CPU"),
    ALLOW("uname", "platform, os.uname"),
    ALLOW("sysinfo", "memory and load queries"),
    ALLOW("getrandom", "os.urandom, random, hashlib"),
    ALLOW_IF("prctl", LO32(0, PR_SET_NAME), "option is PR_SET_NAME", "thread names"),
    ALLOW_IF("prctl", LO32(0, PR_GET_NAME), "option is PR_GET_NAME", "thread names"),
    ALLOW_IF("prctl", LO32(0, PR_GET_DUMPABLE), "option is PR_GET_DUMPABLE", "query"),
    ALLOW_IF("prctl", LO32(0, PR_GET_PDEATHSIG), "option is PR_GET_PDEATHSIG", "query"),
    ALLOW_IF("prctl", LO32(0, PR_CAPBSET_READ), "option is PR_CAPBSET_READ", "query"),
    ALLOW_IF("prctl", LO32(0, PR_GET_SECCOMP), "option is PR_GET_SECCOMP", "query"),
    ALLOW_IF("prctl", LO32(0, PR_GET_NO_NEW_PRIVS), "option is PR_GET_NO_NEW_PRIVS", "query"),
    ALLOW_IF("prctl", LO32(0, PR_SET_VMA), "option is PR_SET_VMA", "glibc names its anonymous mappings"),
    /* Not PR_SET_DUMPABLE: a dumpable job's memory could be read through
     * /proc by the next job running under the same user. */
    ALLOW_IF("personality", LO32(0, 0xffffffffu), "persona is 0xffffffff (a query)",
             "reading the execution domain; changing it (say, to turn off ASLR) gets EPERM"),

    /* --- sockets: only a connected pair inside the process --- */
    ALLOW_IF2("socketpair", LO32(0, AF_UNIX), TYPE_IS(1, SOCK_STREAM), "domain is AF_UNIX, type SOCK_STREAM",
              "asyncio's self-pipe and multiprocessing-style pairs never leave the process; a datagram "
              "pair would take a destination address and reach the host's Unix sockets"),
    DENY("socket", EACCES,
         "no network and no Unix sockets on the host (a socket file of a "
         "daemon would be a way out); Python raises PermissionError"),
    DENY("connect", EACCES, "no sockets to connect"),
    DENY("bind", EACCES, "no sockets to bind"),
    DENY("listen", EACCES, "no sockets to listen on"),
    DENY("accept", EACCES, "no sockets to accept on"),
    DENY("accept4", EACCES, "no sockets to accept on"),
    ALLOW("sendto", "on a socketpair"),
    ALLOW("recvfrom", "on a socketpair"),
    DENY("sendmsg", EPERM,
         "it can pass descriptors (SCM_RIGHTS): a socket pair sent away and closed keeps its buffers, "
         "kernel memory beyond what the job's descriptors can hold; send() and sendto() still work"),
    ALLOW("recvmsg", "on a socketpair"),
    DENY("sendmmsg", EPERM, "as sendmsg"),
    ALLOW("recvmmsg", "on a socketpair"),
    ALLOW_IF("shutdown", NOT_CHANNEL(0), "fd is not the status channel's",
             "on a socketpair; the status channel cannot be shut down"),
    ALLOW("getsockopt", "on a socketpair"),
    /* setsockopt only for options that change no kernel memory and load no
     * code: not SO_SNDBUF/SO_RCVBUF (a socket pair's buffers are kernel
     * memory outside the memory limit), not SO_ATTACH_FILTER / SO_ATTACH_BPF
     * (classic and extended BPF reach the kernel's BPF JIT). */
    SETSOCKOPT(SO_REUSEADDR, "SO_REUSEADDR"),
    SETSOCKOPT(SO_KEEPALIVE, "SO_KEEPALIVE"),
    SETSOCKOPT(SO_OOBINLINE, "SO_OOBINLINE"),
    SETSOCKOPT(SO_LINGER, "SO_LINGER"),
    SETSOCKOPT(SO_PASSCRED, "SO_PASSCRED"),
    SETSOCKOPT(SO_RCVLOWAT, "SO_RCVLOWAT"),
    SETSOCKOPT(20 /* SO_RCVTIMEO_OLD */, "SO_RCVTIMEO"),
    SETSOCKOPT(21 /* SO_SNDTIMEO_OLD */, "SO_SNDTIMEO"),
    SETSOCKOPT(66 /* SO_RCVTIMEO_NEW */, "SO_RCVTIMEO_NEW"),
    SETSOCKOPT(67 /* SO_SNDTIMEO_NEW */, "SO_SNDTIMEO_NEW"),
    ALLOW("getsockname", "on a socketpair"),
    ALLOW("getpeername", "on a socketpair"),

    /* --- only an escape attempt makes these: kill, status `violation` --- */
    KILL("ptrace", "reading or steering another process"),
    KILL("process_vm_readv", "reading another process's memory"),
    KILL("process_vm_writev", "writing another process's memory"),
    KILL("process_madvise", "acting on another process's memory"),
    KILL("kcmp", "probing another process's resources"),
    KILL("pidfd_open", "handles on other processes"),
    KILL("pidfd_getfd", "stealing another process's file descriptors"),
    KILL("pidfd_send_signal", "signalling another process"),
    KILL("bpf", "kernel attack surface"),
    KILL("perf_event_open", "kernel attack surface and side channels"),
    KILL("userfaultfd", "a classic tool for winning kernel races"),
    KILL("io_uring_setup", "a second syscall interface the filter cannot see"),
    KILL("io_uring_enter", "a second syscall interface the filter cannot see"),
    KILL("io_uring_register", "a second syscall interface the filter cannot see"),
    KILL("keyctl", "the kernel keyring is shared beyond the job"),
    KILL("add_key", "the kernel keyring is shared beyond the job"),
    KILL("request_key", "the kernel keyring is shared beyond the job"),
    KILL("unshare", "new namespaces are kernel attack surface"),
    KILL("setns", "entering other namespaces"),
    KILL("mount", "changing the file system view"),
    KILL("umount2", "changing the file system view"),
    KILL("pivot_root", "changing the file system view"),
    KILL("chroot", "changing the file system view"),
    KILL("fsopen", "the new mount API"),
    KILL("fsconfig", "the new mount API"),
    KILL("fsmount", "the new mount API"),
    KILL("fspick", "the new mount API"),
    KILL("open_tree", "the new mount API"),
    KILL("move_mount", "the new mount API"),
    KILL("mount_setattr", "the new mount API"),
    KILL("open_by_handle_at", "opens files by handle, around every path check (the Shocker escape)"),
    KILL("name_to_handle_at", "the first half of open_by_handle_at"),
    KILL("init_module", "loading kernel code"),
    KILL("finit_module", "loading kernel code"),
    KILL("delete_module", "unloading kernel code"),
    KILL("kexec_load", "replacing the kernel"),
    KILL("kexec_file_load", "replacing the kernel"),
    KILL("reboot", "the machine is not the job's"),
    KILL("swapon", "the machine is not the job's"),
    KILL("swapoff", "the machine is not the job's"),
    KILL("iopl", "raw I/O ports"),
    KILL("ioperm", "raw I/O ports"),
    KILL("settimeofday", "the clock is the machine's"),
    KILL("clock_settime", "the clock is the machine's"),
    KILL("clock_adjtime", "the clock is the machine's"),
    KILL("adjtimex", "the clock is the machine's"),
    KILL("acct", "process accounting is the machine's"),
    KILL("quotactl", "quotas are the machine's"),
    KILL("syslog", "the kernel log"),
    KILL("modify_ldt", "segment tricks, kernel attack surface"),
    KILL("uselib", "obsolete loader interface"),
};

const size_t RB_SECCOMP_POLICY_ROWS = sizeof RB_SECCOMP_POLICY / sizeof RB_SECCOMP_POLICY[0];
#define POLICY RB_SECCOMP_POLICY
#define POLICY_ROWS (sizeof RB_SECCOMP_POLICY / sizeof RB_SECCOMP_POLICY[0])

/* What the zygote's loop and a worker's set-up call that the policy refuses
 * or allows only in part: the zygote's filter allows them, and the job's
 * filter, loaded once the set-up is done, applies the policy's rows. */
const struct set_up_call RB_SECCOMP_SET_UP[] = {
    { "clone", "the zygote forks the worker" },
    { "kill", "the zygote kills a worker's process group" },
    { "setpgid", "the worker leads a process group of its own" },
    { "prctl", "the worker sets its parent-death signal and no_new_privs" },
    { "close_range", "the worker closes every descriptor above the status channel" },
    { "unshare", "as root, the program's tree: a mount namespace of the worker's own" },
    { "mount", "as root, the program's tree: a tmpfs and a bind mount" },
    { "setgroups", "dropping privileges" },
    { "setresgid", "dropping privileges" },
    { "setresuid", "dropping privileges" },
    { "setfsuid", "as root, the program's tree is opened with the job's rights" },
    { "setfsgid", "as root, the program's tree is opened with the job's rights" },
    { "capset", "in a user namespace, dropping every capability" },
    { "landlock_create_ruleset", "Landlock" },
    { "landlock_add_rule", "Landlock" },
    { "landlock_restrict_self", "Landlock" },
    { "seccomp", "loading the job's filter" },
};
const size_t RB_SECCOMP_SET_UP_ROWS = sizeof RB_SECCOMP_SET_UP / sizeof RB_SECCOMP_SET_UP[0];
#define SET_UP_CALLS RB_SECCOMP_SET_UP
#define SET_UP_ROWS (sizeof RB_SECCOMP_SET_UP / sizeof RB_SECCOMP_SET_UP[0])

bool rb_seccomp_names_pid(const struct syscall_rule *r)
{
    for (unsigned i = 0; i < r->ncmp; i++) {
        const struct scmp_arg_cmp *c = &r->cmp[i];
        scmp_datum_t v = c->op == SCMP_CMP_MASKED_EQ ? c->datum_b : c->datum_a;
        if (v == RB_SECCOMP_SELF || v == RB_SECCOMP_NEG_SELF)
            return true;
    }
    return false;
}

static const char *action_name(const struct syscall_rule *r)
{
    if (r->action == SCMP_ACT_ALLOW)
        return r->ncmp ? "allow if" : "allow";
    if (r->action == SCMP_ACT_KILL_PROCESS)
        return "kill";
    switch (r->action & 0xffffu) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOSYS: return "ENOSYS";
    default: return "errno";
    }
}

const struct rb_seccomp_row *rb_seccomp_rows(size_t *n)
{
    static struct rb_seccomp_row rows[POLICY_ROWS];
    static char conds[POLICY_ROWS][160];
    for (size_t i = 0; i < POLICY_ROWS; i++) {
        rows[i].syscall = POLICY[i].name;
        if (POLICY[i].cond) {
            snprintf(conds[i], sizeof conds[i], "allow if %s", POLICY[i].cond);
            rows[i].action = conds[i];
        } else {
            rows[i].action = action_name(&POLICY[i]);
        }
        rows[i].why = POLICY[i].why;
    }
    *n = POLICY_ROWS;
    return rows;
}

const struct rb_seccomp_row *rb_seccomp_job_rows(size_t *n)
{
    static struct rb_seccomp_row rows[SET_UP_ROWS + POLICY_ROWS];
    size_t k = 0;
    for (size_t i = 0; i < SET_UP_ROWS; i++)
        rows[k++] = (struct rb_seccomp_row){ SET_UP_CALLS[i].name, "allow", SET_UP_CALLS[i].why };
    for (size_t i = 0; i < POLICY_ROWS; i++) {
        bool seen = false;
        for (size_t j = 0; j < k && !seen; j++)
            seen = strcmp(rows[j].syscall, POLICY[i].name) == 0;
        if (!seen && rb_seccomp_names_pid(&POLICY[i]))
            rows[k++] = (struct rb_seccomp_row){ POLICY[i].name, "allow",
                                                 "a row compares with the job's own pid" };
    }
    *n = k;
    return rows;
}

int rb_seccomp_check_names(const char **missing)
{
    for (size_t i = 0; i < SET_UP_ROWS; i++) {
        if (seccomp_syscall_resolve_name(SET_UP_CALLS[i].name) == __NR_SCMP_ERROR) {
            *missing = SET_UP_CALLS[i].name;
            return -ENOENT;
        }
    }
    for (size_t i = 0; i < POLICY_ROWS; i++) {
        if (seccomp_syscall_resolve_name(POLICY[i].name) == __NR_SCMP_ERROR) {
            *missing = POLICY[i].name;
            return -ENOENT;
        }
    }
    return 0;
}
