/*
 * The CodeRunner core: runs one program in the worker's (forked) interpreter
 * the way `python3 FILE` would, reports the outcome of its main module on the
 * status channel before anything else shuts down, then does python3's exit steps
 * without the interpreter's own teardown.
 */
#ifndef RB_CODERUNNER_H
#define RB_CODERUNNER_H

#include <stdbool.h>
#include <stddef.h>

#include "protocol.h"
#include "spec.h"


enum rb_run_mode {
    RB_RUN_SOURCE = 0, /* compile `source` as the main module (a source or .py file job) */
    RB_RUN_PATH,       /* `target` is a directory or zip with __main__.py (python3 PATH) */
    RB_RUN_MODULE,     /* `target` is a module name (python3 -m) */
};

struct rb_program {
    enum rb_run_mode mode;
    const char *target;      /* RB_RUN_PATH: the path; RB_RUN_MODULE: the module name */
    const char *package;     /* run as part of this (importable) package, or NULL */
    const char *globals_json;/* a JSON object whose members become globals, or NULL */
    const char *const *capture; /* names returned after the run as "namespace" */
    size_t ncapture;
    size_t capture_limit;    /* bytes of JSON the namespace may take */
    const char *const *python_path; /* inserted after sys.path[0] */
    size_t npython_path;
    const char *source;      /* NUL-terminated */
    size_t source_len;       /* bytes; a NUL before this is a syntax error */
    const char *filename;    /* compile() filename and __file__ */
    const char *argv0;       /* sys.argv[0] */
    const char *const *argv; /* sys.argv[1:] */
    size_t argc;
    const char *sys_path0;   /* prepended to sys.path */
    const struct rbz_spec_check *checks; /* run after the program, in its namespace */
    size_t nchecks;
    const struct rbz_spec_call *calls;   /* function-call tests, run after the program */
    size_t ncalls;
    const char *entry_point;
    const char *entry_class;
    bool all_tests;
    size_t value_max;
};

/* In the zygote, once the interpreter is up: looks up what every job's run
 * needs (builtins, sys.modules, gc's functions). -1 if any is missing. */
int rb_coderunner_prepare(void);

/* Runs `p` and its checks, reporting on the status channel (report.h):
 * "running", then each check's verdict and the program's verdict as soon as
 * each is decided, then the details; then joins threads, runs atexit
 * handlers, releases the main module's globals and flushes stdio. Returns
 * the exit code; `*sigint` is set when python3 would end by re-raising
 * SIGINT (an uncaught KeyboardInterrupt). */
int rb_coderunner_run(const struct rb_program *p, bool *sigint);

#endif
