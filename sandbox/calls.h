/*
 * Function-call tests, in the worker: the program's entry point called once
 * per test, each result sent to the supervisor to be compared there
 * (calls.c says how).
 */
#ifndef RB_CALLS_H
#define RB_CALLS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "coderunner.h"

/* In the zygote, once: looks up what the calls need. -1 if anything is missing. */
int rb_calls_prepare(void);

/* Runs p->calls against the program's namespace `dict`, sending results in
 * "calls" messages as they come. In a group, the first call that raises or
 * runs out of time ends the group (its later calls are not run) unless
 * p->all_tests. */
void rb_calls_run(const struct rb_program *p, PyObject *dict);

#endif
