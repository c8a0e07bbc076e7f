/*
 * Python values to and from their type-tagged JSON (src/values.h says the
 * form), in the worker: the arguments of function-call tests come in this
 * way, their return values go out this way, to be compared in the
 * supervisor.
 */
#ifndef RB_PYVALUES_H
#define RB_PYVALUES_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* A growable text buffer (the worker has no src/util.c). */
struct rb_text {
    char *data;
    size_t len, cap;
    bool failed; /* out of memory: the text is incomplete */
};

void rb_text_append(struct rb_text *t, const char *s, size_t n);
void rb_text_free(struct rb_text *t);

/* A new reference to the Python value of a tagged JSON tree, or NULL with
 * an exception set. Every call gets objects of its own. */
PyObject *rb_pyvalue_from_tagged(const cJSON *tagged);

/* Appends the tagged form of `v`. Builtin types are read without running
 * any of the program's code; other numbers go through __index__, and
 * anything else becomes ["x", type, repr], which equals nothing. A value
 * over `max` bytes, or nested deeper than 100, becomes ["x", ...] too.
 * Returns false when it had to say so (the value could not be sent whole). */
bool rb_pyvalue_to_tagged(PyObject *v, struct rb_text *out, size_t max);

#endif
