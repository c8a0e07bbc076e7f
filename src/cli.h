/* The command line: one function per subcommand, and what they share. */
#ifndef RB_CLI_H
#define RB_CLI_H

#include <stdbool.h>

#include "runbox.h"

/* Exit statuses of the runbox command. */
#define RB_EXIT_OK 0          /* the batch ran, whatever the jobs did */
#define RB_EXIT_FAILURE 1     /* runbox itself could not do its work */
#define RB_EXIT_USAGE 2       /* a bad flag or argument */
#define RB_EXIT_INTERRUPTED 130

int rb_cli_run(int argc, char **argv);
int rb_cli_eval(int argc, char **argv);
int rb_cli_passk(int argc, char **argv);
int rb_cli_doctor(int argc, char **argv);
int rb_cli_merge(int argc, char **argv);
int rb_cli_serve(int argc, char **argv);

/* Prints "runbox: <message>" on stderr. */
void rb_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A warning on stderr, even with --quiet, when jobs run with the invoking
 * user's rights and nothing but seccomp and rlimits between them and that
 * user's files: runbox not root and Landlock off or missing. */
void rb_cli_warn_if_exposed(const rb_pool *pool);

/* Strict number parsing for flags; false (with a message printed) on bad input. */
bool rb_cli_parse_seconds(const char *flag, const char *text, double *out);
bool rb_cli_parse_long(const char *flag, const char *text, long min, long max, long *out);

#endif
