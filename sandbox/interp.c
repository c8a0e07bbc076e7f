#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "interp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rb_interp_init(char *err, size_t errlen)
{
    PyStatus status;
    PyPreConfig preconfig;
    PyPreConfig_InitIsolatedConfig(&preconfig);
    /* UTF-8 whatever the locale: a job's text round-trips the same on every machine. */
    preconfig.utf8_mode = 1;
    status = Py_PreInitialize(&preconfig);
    if (PyStatus_Exception(status)) {
        snprintf(err, errlen, "Python pre-initialisation failed: %s", status.err_msg);
        return -1;
    }

    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 1;             /* system site-packages (numpy...) importable */
    config.user_site_directory = 0;
    config.install_signal_handlers = 1; /* SIGINT -> KeyboardInterrupt, SIGPIPE ignored, as python3 */
    config.write_bytecode = 0;          /* workers must not write next to the library */
    config.buffered_stdio = 1;
    config.parse_argv = 0;
    status = PyConfig_SetBytesString(&config, &config.program_name, "python3");
    if (!PyStatus_Exception(status))
        status = PyConfig_SetBytesString(&config, &config.executable, RB_PYTHON_EXECUTABLE);
    if (!PyStatus_Exception(status))
        status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) {
        snprintf(err, errlen, "Python initialisation failed: %s", status.err_msg);
        return -1;
    }
    return 0;
}

int rb_interp_preload(const char *list, char *err, size_t errlen)
{
    char *copy = strdup(list);
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char *save = NULL;
    int rc = 0;
    for (char *name = strtok_r(copy, ",", &save); name && rc == 0;
         name = strtok_r(NULL, ",", &save)) {
        while (*name == ' ')
            name++;
        if (!*name)
            continue;
        PyObject *mod = PyImport_ImportModule(name);
        if (mod) {
            Py_DECREF(mod);
            continue;
        }
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyObject *s = value ? PyObject_Str(value) : NULL;
        const char *text = s ? PyUnicode_AsUTF8(s) : NULL;
        snprintf(err, errlen, "--preload: cannot import '%s': %s", name,
                 text ? text : "unknown error");
        Py_XDECREF(s);
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        PyErr_Clear();
        rc = -1;
    }
    free(copy);
    return rc;
}

/* A worker's collections then walk only what the job itself allocated,
 * instead of writing to the header of every inherited object and so copying
 * the whole heap page by page (copy-on-write). */
int rb_interp_freeze(char *err, size_t errlen)
{
    PyObject *gc = PyImport_ImportModule("gc");
    PyObject *r = gc ? PyObject_CallMethod(gc, "freeze", NULL) : NULL;
    Py_XDECREF(r);
    Py_XDECREF(gc);
    if (!r) {
        PyErr_Clear();
        snprintf(err, errlen, "gc.freeze() failed");
        return -1;
    }
    return 0;
}

