/*
 * runbox: run untrusted Python programs in bulk, each in its own sandboxed
 * process forked from a warm interpreter.
 *
 * This is the public C API. The `runbox` command line tool is built on it, so
 * it is the one execution path: a pool owns a zygote (a process holding an
 * initialised CPython) and keeps up to `jobs` workers in flight; every job
 * submitted comes back exactly once through the result callback.
 *
 * Conventions: every function that can fail returns 0 or a negative errno;
 * objects with state are opaque (`rb_pool`) and every `_new` has its `_free`;
 * plain values (`rb_limits`, `rb_job`, `rb_result`) are structs the caller
 * owns. Strings handed to runbox are copied before the call returns.
 *
 * The pool is single-threaded: call it from one thread. It reaps only its own
 * processes; do not call wait(-1) elsewhere in a process that uses a pool.
 */
#ifndef RUNBOX_H
#define RUNBOX_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RB_VERSION "0.1.0"

/* Resource limits of one job. A field left at 0 takes the pool's default. */
typedef struct rb_limits {
    double timeout;       /* wall-clock seconds */
    double cpu_time;      /* CPU seconds (RLIMIT_CPU); 0 = same as timeout */
    long memory_mb;       /* address space the job may add to the warm interpreter */
    long output_limit_kb; /* cap per stream (stdout, stderr); past it the job is killed */
} rb_limits;

/* The built-in defaults, as documented in docs/manifest.md. */
#define RB_DEFAULT_TIMEOUT 10.0
#define RB_DEFAULT_MEMORY_MB 1024L
#define RB_DEFAULT_OUTPUT_LIMIT_KB 1024L

typedef enum rb_program_kind {
    RB_PROGRAM_SOURCE = 0, /* `program` is Python source text */
    RB_PROGRAM_FILE,       /* `program` is a path: a .py file, or a directory or zip
                              holding __main__.py (runpy.run_path) */
    RB_PROGRAM_MODULE,     /* `program` is a module name (python3 -m) */
} rb_program_kind;

/* A file written into the job's working dir before it starts. */
typedef struct rb_file {
    const char *path;    /* relative, without ".." (checked: -EINVAL otherwise) */
    const char *data;
    size_t len;
} rb_file;

/* A file read back from the working dir after the job ends. */
typedef struct rb_tracked_file {
    const char *path;
    const char *data;    /* NULL when the file was not there (or not a regular file) */
    size_t len;
    bool truncated;      /* longer than the output limit */
} rb_tracked_file;

/* Code run after the program, in its namespace, each with an outcome of its
 * own: how `runbox eval` runs MBPP's asserts one by one. A failing check does
 * not stop the next; an exit (SystemExit) does. */
typedef struct rb_check {
    const char *source;
    const char *path;         /* filename in tracebacks; NULL = "<check N>" */
} rb_check;

/* A function-call test: the program's entry point called with `args`, its
 * return value compared with `expected` in the supervisor (the expected
 * value never reaches the job). Values are type-tagged JSON text
 * (docs/manifest.md#function-call-tests): `args` a tagged list or tuple of
 * the positional arguments. */
typedef struct rb_call {
    const char *args;
    const char *expected;   /* NULL: the value is recorded, not judged */
    double timeout;         /* seconds for this call; 0 = 10 */
    unsigned group;         /* a group stops at its first failure (unless all_tests) */
} rb_call;

/* How a call's return value is compared with the expected one. */
typedef enum rb_call_compare {
    RB_CALLS_PYTHON = 0,         /* Python's ==, exactly */
    RB_CALLS_EVALPLUS_HUMANEVAL, /* evalplus on HumanEval+: ==, then floats within atol + rtol after an
                                    exact type check; find_zero checked by its polynomial */
    RB_CALLS_EVALPLUS_MBPP,      /* evalplus on MBPP+: the same, with MBPP+'s special oracles */
    RB_CALLS_LIVECODEBENCH,      /* a tuple becomes a list at the top level, then == */
    RB_CALLS_APPS,               /* == or == expected[0] (a tuple becomes a list): APPS's call-based rules */
} rb_call_compare;

typedef struct rb_call_rules {
    rb_call_compare compare;
    double atol;            /* evalplus: the task's atol (0: 1e-6 once a float is expected) */
    double rtol;            /* evalplus: 0 = 1e-7 */
} rb_call_rules;

/* One job. Everything is copied by rb_pool_submit. */
typedef struct rb_job {
    const char *id;           /* required, unique within a pool's lifetime is up to the caller */
    rb_program_kind kind;
    const char *program;      /* source text or path, NUL-terminated */
    const char *path;         /* filename shown in tracebacks; NULL = "<id>.py" (source jobs) */
    const char *const *argv;  /* sys.argv[1:], `argc` entries */
    size_t argc;
    const char *stdin_data;   /* fed on stdin, then closed; NULL = closed at once */
    size_t stdin_len;
    rb_limits limits;
    const rb_check *checks;   /* optional, `nchecks` entries */
    size_t nchecks;
    const char *package;      /* run the source as part of this package (CodeRunner's package) */
    const char *globals_json; /* a JSON object: its members become globals (runpy's init_globals) */
    const char *const *capture; /* names whose values come back in the result's namespace */
    size_t ncapture;
    const char *const *python_path; /* import roots added after sys.path[0] */
    size_t npython_path;
    const rb_file *files;     /* written into the working dir before the job starts */
    size_t nfiles;
    const char *const *tracked_files; /* read back after it ends */
    size_t ntracked;
    const char *workdir;      /* an existing dir to run in, which the caller owns;
                                 NULL = a fresh private one, removed afterwards */
    const rb_call *calls;     /* function-call tests, run after the program */
    size_t ncalls;
    const char *entry_point;  /* the function they call... */
    const char *entry_class;  /* ...or the method of one instance of this class (NULL: a function) */
    bool all_tests;           /* run every call, even after a group's first failure */
    rb_call_rules call_rules;
    void *user;               /* handed back in the result */
} rb_job;

typedef enum rb_status {
    RB_STATUS_OK = 0,       /* exit code 0 */
    RB_STATUS_ERROR,        /* non-zero exit or uncaught exception */
    RB_STATUS_TIMEOUT,      /* wall or CPU time limit */
    RB_STATUS_MEMORY,       /* memory limit */
    RB_STATUS_OUTPUT_LIMIT, /* stdout or stderr past output_limit_kb */
    RB_STATUS_SIGNAL,       /* killed by a signal */
    RB_STATUS_VIOLATION,    /* killed by the sandbox for a forbidden system call */
    RB_STATUS_INVALID,      /* the job itself was malformed */
    RB_STATUS_INTERNAL,     /* runbox failed to run the job */
} rb_status;

typedef enum rb_check_status {
    RB_CHECK_NOT_RUN = 0, /* an earlier step ended the program */
    RB_CHECK_PASSED,
    RB_CHECK_FAILED,      /* AssertionError */
    RB_CHECK_ERROR,       /* any other exception */
} rb_check_status;

typedef enum rb_call_status {
    RB_CALL_NOT_RUN = 0,  /* its group stopped earlier, or the program ended first */
    RB_CALL_PASSED,       /* returned the expected value */
    RB_CALL_WRONG,        /* returned something else */
    RB_CALL_EXCEPTION,    /* raised */
    RB_CALL_TIMEOUT,      /* ran out of its time limit */
    RB_CALL_RETURNED,     /* returned, and nothing was expected */
} rb_call_status;

typedef struct rb_call_result {
    rb_call_status status;
    const char *value;     /* the return value, tagged JSON text, or NULL */
    const char *expected;  /* the job's expected value (tagged), or NULL */
    const char *args;      /* the job's arguments (tagged) */
    const char *exception; /* the exception's type, or NULL */
    const char *error;     /* "Type: message", or NULL */
    double time;           /* wall seconds of the call */
} rb_call_result;

typedef struct rb_check_result {
    rb_check_status status;
    const char *error;    /* the exception, or NULL */
    int line;             /* line of the check where it failed, or 0 */
} rb_check_result;

/* What happened to one job. Valid only during the callback. stdout_data and
 * stderr_data are never NULL ("" when there was no output). */
typedef struct rb_result {
    const char *id;
    rb_status status;
    int return_code;    /* exit code, or -signal */
    bool timed_out;
    double runtime;     /* wall seconds from fork to exit */
    double cpu_time;    /* user + system seconds */
    long max_rss_kb;
    long minor_faults;  /* page faults without I/O: mostly copy-on-write of the warm interpreter */
    const char *stdout_data;
    size_t stdout_len;
    bool stdout_truncated;
    const char *stderr_data;
    size_t stderr_len;
    bool stderr_truncated;
    const char *error;        /* NULL when there is none */
    const char *error_detail; /* traceback, or NULL */
    const char *doc;          /* module docstring, or NULL */
    bool doc_truncated;       /* the docstring was cut at 64 KiB */
    int signal;               /* 0 when the job was not killed by a signal */
    bool had_unexpected_error; /* true only for RB_STATUS_INTERNAL */
    /* What the program's main module reported, authenticated: true only when
     * it (and every check) ran to its end, whatever happened afterwards. */
    bool completed;
    const char *exception;    /* the uncaught exception's type name, or NULL */
    const char *outcome;      /* the worker's word on the main module: "completed", "exception",
                                 "exit" (SystemExit), or NULL when it said nothing (os._exit, killed) */
    int error_line;           /* where it surfaced in the program's own file, or 0 */
    const rb_check_result *checks; /* one per rb_job check */
    size_t nchecks;
    const char *namespace_json; /* the captured names as a JSON object, or NULL */
    bool namespace_truncated;
    const rb_tracked_file *tracked; /* one per rb_job tracked file */
    size_t ntracked;
    const rb_call_result *calls;    /* one per rb_job call */
    size_t ncalls;
    void *user;
} rb_result;

typedef void (*rb_result_fn)(const rb_result *result, void *ctx);

/* Pool-wide settings. Zero-initialise, then set what you need. */
typedef struct rb_pool_config {
    int jobs;                  /* jobs in flight; 0 = number of online CPUs */
    rb_limits defaults;        /* limits for jobs that leave a field at 0 */
    const char *workdir_root;  /* parent of the per-job working dirs; NULL = $TMPDIR or /tmp */
    const char *preload;       /* comma-separated modules imported in the zygote; NULL = built-in set, "" = none */
    const char *zygote_path;   /* NULL = $RUNBOX_ZYGOTE, else found next to the executable,
                                  else in libexecdir */
    const char *const *python_path; /* import roots for every job, after the job's own */
    size_t npython_path;
    bool no_landlock;          /* leave Landlock out even where the kernel has it */
    bool no_namespaces;        /* leave the namespaces out even where the kernel allows them */
    bool verbose;              /* diagnostics of the pool itself on stderr */
} rb_pool_config;

typedef struct rb_pool rb_pool;

/* The sandbox layers a pool's jobs run under (see docs/sandbox.md). */
typedef struct rb_layers {
    bool seccomp;
    int landlock_abi;      /* 0: Landlock is off */
    bool user_namespace;
    bool network_namespace;
    bool pid_namespace;
    bool private_proc;     /* /proc shows the jobs only */
    bool ipc_namespace;
    bool uts_namespace;
    bool privilege_drop;   /* runbox runs as root, each job under a uid of its own */
    char python[128];      /* the interpreter's version */
    char landlock_why[256];   /* why Landlock is off, or "" */
    char namespaces_why[256]; /* why a namespace is missing, or "" */
} rb_layers;

/* Starts the zygote and waits until its interpreter is ready. On failure,
 * `*out` is NULL and `errbuf` (if not NULL) holds a message for a person. */
int rb_pool_new(const rb_pool_config *config, rb_result_fn on_result, void *ctx,
                rb_pool **out, char *errbuf, size_t errlen);

/* Starts the job at once if a slot is free, else queues it (copied). */
int rb_pool_submit(rb_pool *pool, const rb_job *job);

/* What the pool's sandbox is made of on this machine. */
int rb_pool_layers(const rb_pool *pool, rb_layers *out);

/* Number of jobs that could start now without queueing. */
size_t rb_pool_free_slots(const rb_pool *pool);

/* Jobs started or queued whose results have not been delivered yet. */
size_t rb_pool_pending(const rb_pool *pool);

/* Cancels every job submitted with `user` (rb_job.user): queued ones are
 * dropped, running ones killed; none of them is delivered to on_result.
 * Returns how many were cancelled. */
int rb_pool_cancel(rb_pool *pool, const void *user);

/* Waits up to `timeout_ms` (-1 = until something happens) for events and
 * handles them, calling on_result for every job that ended. */
int rb_pool_run(rb_pool *pool, int timeout_ms);

/* Runs until every submitted job has its result. */
int rb_pool_drain(rb_pool *pool);

/* A file descriptor that becomes readable when rb_pool_run has work to do,
 * to embed the pool in another event loop. */
int rb_pool_fd(const rb_pool *pool);

/* Kills every job in flight and drops queued ones without delivering their
 * results, stops the zygote, removes the working dirs and frees the pool. */
void rb_pool_free(rb_pool *pool);

/* "ok", "error", "timeout", ... as written in result records. */
const char *rb_status_name(rb_status status);

#ifdef __cplusplus
}
#endif

#endif /* RUNBOX_H */
