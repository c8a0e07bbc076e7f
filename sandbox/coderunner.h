/*
 * The CodeRunner core: runs one program in the worker's (forked) interpreter
 * the way `python3 FILE` would, reports the outcome of its main module on the
 * status pipe before anything else shuts down, then does python3's exit steps
 * without the interpreter's own teardown.
 */
#ifndef RB_CODERUNNER_H
#define RB_CODERUNNER_H

#include <stdbool.h>
#include <stddef.h>

#include "protocol.h"

/* A piece of code run after the program, in its namespace (see rb_check). */
struct rb_program_check {
    const char *source;
    const char *filename;
};

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
    const struct rb_program_check *checks;
    size_t nchecks;
};

/* Outcomes written in the status record ("outcome" field). */
#define RB_OUTCOME_COMPLETED "completed"  /* the main module ran to its end */
#define RB_OUTCOME_EXCEPTION "exception"  /* an uncaught exception, SystemExit aside */
#define RB_OUTCOME_EXIT "exit"            /* SystemExit, or the program could not start */
#define RB_OUTCOME_SETUP_FAILED "setup_failed" /* runbox could not set the worker up */

/* In the zygote, once the interpreter is up: looks up what every job's run
 * needs (builtins, sys.modules, gc's functions). -1 if any is missing. */
int rb_coderunner_prepare(void);

/* Runs `p` and its checks, writing a line per check and then the final
 * record to `status_fd` (each prefixed with `nonce`, which is wiped once the
 * record is out) and closing it; then joins threads, runs atexit handlers,
 * releases the main module's globals and flushes stdio. Returns the exit
 * code; `*sigint` is set when python3 would end by re-raising SIGINT (an
 * uncaught KeyboardInterrupt). */
int rb_coderunner_run(const struct rb_program *p, int status_fd,
                      unsigned char nonce[RBZ_NONCE_BYTES], bool *sigint);

/* Writes the final record of a job that ends before its program runs, and
 * closes the pipe. `nonce` may be NULL for a set-up failure that came before
 * the spec was read (a record that can only claim failure needs none). */
void rb_status_record_write_plain(int status_fd, const unsigned char *nonce, const char *outcome,
                                  int exit_code, const char *error);

#endif
