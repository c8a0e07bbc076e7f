/*
 * After the program's verdict: what python3 does at exit (joins threads,
 * runs atexit handlers, releases the main module's globals so files are
 * flushed and __del__ runs, collects, flushes stdio), without tearing the
 * interpreter down, which would cost every job its price for nothing a
 * program sees.
 */
#ifndef RB_PYEXIT_H
#define RB_PYEXIT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* In the zygote, once: sys.modules and gc's functions. -1 if missing. */
int rb_pyexit_prepare(void);

/* python3's exit steps for a program whose main module is `main` (may be NULL). */
void rb_shut_down_like_python3(PyObject *main);

#endif
