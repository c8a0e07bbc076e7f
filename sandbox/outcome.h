/*
 * What a program's exception means (a verdict, decided from C state alone)
 * and how it is told (the error, the traceback, printing it), in that order:
 * outcome.c says why the two are apart.
 */
#ifndef RB_OUTCOME_H
#define RB_OUTCOME_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdbool.h>
#include <stddef.h>

#include "coderunner.h"

/* An exception taken from the interpreter, as it was raised: not yet
 * normalised, since normalising may call the program's own code. */
struct raised {
    PyObject *type, *value, *tb; /* new references, or NULL */
    bool compiling;              /* raised by the compiler, not by running code */
};

/* What a verdict says, and the details sent after it. */
struct outcome {
    const char *kind;
    int exit_code;
    char *exception;  /* the type's qualified name, malloc'd */
    bool memory_error;
    bool keyboard_interrupt;
    bool assertion;   /* an AssertionError: a check that failed, not one that broke */
    char *error;      /* details from here on */
    char *error_detail;
    long line;        /* where it surfaced in the file being run, or 0 */
};

/* In the zygote, once: traceback's formatters and linecache. -1 if missing. */
int rb_outcome_prepare(void);

/* The program whose sources tracebacks show (linecache), for this job. */
void rb_outcome_set_program(const struct rb_program *p);

void rb_outcome_free(struct outcome *o);
void rb_raised_clear(struct raised *r);

/* Takes the pending exception as it was raised (not normalised: that may
 * run the program's code); false when there is none. */
bool rb_raised_take(struct raised *r, bool compiling);

/* The verdict of an exception, from C state alone: no Python code runs. */
void rb_verdict_of(struct outcome *o, const struct raised *r);

/* The details of an exception whose verdict is out: the error line, the
 * traceback with source lines, the line in the program's file. May run the
 * program's code. Normalises `r`. */
void rb_describe(struct outcome *o, struct raised *r, const char *filename);

/* Prints `r` as python3 would (sys.excepthook), and gives it back. */
void rb_print_raised(struct raised *r);

/* A malloc'd UTF-8 copy of a str (lone surrogates escaped), or NULL. */
char *rb_utf8_of(PyObject *str);

/* Shortens a malloc'd string to at most `max` bytes on a UTF-8 boundary
 * (a traceback keeps its tail, behind a marker); *cut says whether it did. */
char *rb_clip(char *s, size_t max, bool keep_tail, bool *cut);

void rb_strip_trailing_newlines(char *s);

/* "Type: message" of an exception instance, malloc'd, or NULL. */
char *rb_format_exception_only(PyObject *exc);

#endif
