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

struct rb_program {
    const char *source;      /* NUL-terminated */
    size_t source_len;       /* bytes; a NUL before this is a syntax error */
    const char *filename;    /* compile() filename and __file__ */
    const char *argv0;       /* sys.argv[0] */
    const char *const *argv; /* sys.argv[1:] */
    size_t argc;
    const char *sys_path0;   /* prepended to sys.path */
};

/* Outcomes written in the status record ("outcome" field). */
#define RB_OUTCOME_COMPLETED "completed"  /* the main module ran to its end */
#define RB_OUTCOME_EXCEPTION "exception"  /* an uncaught exception, SystemExit aside */
#define RB_OUTCOME_EXIT "exit"            /* SystemExit, or the program could not start */
#define RB_OUTCOME_SETUP_FAILED "setup_failed" /* runbox could not set the worker up */

/* Runs `p`, writes the status record to `status_fd` and closes it, joins
 * threads, runs atexit handlers, releases the main module's globals and
 * flushes stdio. Returns the exit code; `*sigint` is set when python3 would
 * end by re-raising SIGINT (an uncaught KeyboardInterrupt). */
int rb_coderunner_run(const struct rb_program *p, int status_fd, bool *sigint);

/* Writes a status record for a job that ends before its program runs.
 * `exit_code` and `error` are what the record says. */
void rb_status_record_write_plain(int status_fd, const char *outcome, int exit_code,
                                  const char *error);

#endif
