/*
 * python3's exit sequence, minus finalising the interpreter (pyexit.h).
 *
 * Reference counts: every new reference is released on every path; borrowed
 * ones are marked at their line.
 */
#include "pyexit.h"

#include <stdbool.h>
#include <string.h>

/* Looked up once, in the zygote: in a worker each lookup through the import
 * system or a type's attributes writes to cold pages of the zygote, and
 * every page written is a page copied. */
static struct {
    PyObject *modules;    /* sys.modules */
    PyObject *gc_count;   /* gc.get_count */
    PyObject *gc_collect; /* gc.collect */
} cached;

int rb_pyexit_prepare(void)
{
    PyObject *gc = PyImport_ImportModule("gc");
    cached.modules = PyImport_GetModuleDict(); /* borrowed, lives as long as the interpreter */
    cached.gc_count = gc ? PyObject_GetAttrString(gc, "get_count") : NULL;
    cached.gc_collect = gc ? PyObject_GetAttrString(gc, "collect") : NULL;
    Py_XDECREF(gc);
    if (!cached.modules || !cached.gc_count || !cached.gc_collect) {
        PyErr_Clear();
        return -1;
    }
    return 0;
}

/* sys.modules[name] when the job has imported it, else NULL (a new reference). */
static PyObject *imported_module(const char *name)
{
    PyObject *mod = cached.modules ? PyDict_GetItemString(cached.modules, name) : NULL; /* borrowed */
    if (!mod || mod == Py_None)
        return NULL;
    Py_INCREF(mod);
    return mod;
}

/* module.fn() when the job imported the module; whether it did. */
static bool call_if_imported(const char *module, const char *fn)
{
    PyObject *mod = imported_module(module);
    if (!mod)
        return false;
    PyObject *r = PyObject_CallMethod(mod, fn, NULL);
    if (!r)
        PyErr_WriteUnraisable(mod);
    Py_XDECREF(r);
    Py_DECREF(mod);
    return true;
}

static void flush_stream(PyObject *f)
{
    if (!f || f == Py_None)
        return;
    PyObject *closed = PyObject_GetAttrString(f, "closed");
    int is_closed = closed ? PyObject_IsTrue(closed) : 1;
    Py_XDECREF(closed);
    PyErr_Clear();
    if (is_closed)
        return;
    PyObject *r = PyObject_CallMethod(f, "flush", NULL);
    if (!r)
        PyErr_WriteUnraisable(f);
    Py_XDECREF(r);
}

/* sys.stdout, sys.stderr and the originals they replaced, each once. */
static void flush_stdio(void)
{
    static const char *const names[] = { "stdout", "stderr", "__stdout__", "__stderr__" };
    PyObject *seen[4];
    for (size_t i = 0; i < 4; i++) {
        seen[i] = PySys_GetObject(names[i]); /* borrowed */
        Py_XINCREF(seen[i]); /* a flush may run code that replaces it */
    }
    for (size_t i = 0; i < 4; i++) {
        bool again = false;
        for (size_t j = 0; j < i; j++)
            again = again || seen[j] == seen[i];
        if (!again)
            flush_stream(seen[i]);
    }
    for (size_t i = 0; i < 4; i++)
        Py_XDECREF(seen[i]);
}

/* Drops the main module's globals the way CPython's module teardown does:
 * names with a leading underscore first, then the rest, __builtins__ last,
 * so that unclosed files are flushed and __del__ methods run. */
static void release_main_globals(PyObject *dict)
{
    for (int pass = 0; pass < 2; pass++) {
        Py_ssize_t pos = 0;
        PyObject *key, *value; /* borrowed */
        while (PyDict_Next(dict, &pos, &key, &value)) {
            if (value == Py_None || !PyUnicode_Check(key))
                continue;
            const char *k = PyUnicode_AsUTF8(key);
            if (!k) {
                PyErr_Clear();
                continue;
            }
            bool underscore = k[0] == '_' && k[1] != '_';
            if (strcmp(k, "__builtins__") == 0 || (pass == 0 && !underscore))
                continue;
            if (PyDict_SetItem(dict, key, Py_None) < 0)
                PyErr_WriteUnraisable(NULL);
        }
    }
}

/* Collects the cycles the job left, as python3's finalisation would. Only
 * the young generations, unless the job ran long enough to promote objects
 * into the oldest one: a full collection also empties the interpreter's free
 * lists, which the worker shares with the zygote, and copying those pages
 * costs more than every trivial job's own run. */
static void collect_garbage(void)
{
    if (!cached.gc_count || !cached.gc_collect)
        return;
    PyObject *counts = PyObject_CallNoArgs(cached.gc_count);
    long promoted = counts && PyTuple_Check(counts) && PyTuple_GET_SIZE(counts) == 3
                        ? PyLong_AsLong(PyTuple_GET_ITEM(counts, 2))
                        : 1;
    PyObject *generation = PyLong_FromLong(promoted > 0 ? 2 : 1);
    PyObject *r = generation ? PyObject_CallOneArg(cached.gc_collect, generation) : NULL;
    Py_XDECREF(r);
    Py_XDECREF(generation);
    Py_XDECREF(counts);
    PyErr_Clear();
}

/* python3's exit sequence, minus finalising the interpreter. */
void rb_shut_down_like_python3(PyObject *main)
{
    /* Flushed first, unlike python3: a thread or exit handler that never
     * ends is killed at the timeout, and what was printed before it must
     * not die in a buffer with it. The bytes and their order are the same. */
    flush_stdio();
    if (call_if_imported("threading", "_shutdown"))
        flush_stdio();
    /* A program that registered an exit handler has imported atexit; one
     * that did not has nothing to run, and importing it would cost a trip
     * through the import machinery in every job. */
    if (call_if_imported("atexit", "_run_exitfuncs"))
        flush_stdio();
    if (main)
        release_main_globals(PyModule_GetDict(main));
    collect_garbage();
    flush_stdio();
}

