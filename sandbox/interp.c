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

/* random registers its instance's Python-level seed() to run in every
 * child of a fork. In a worker that call is the costliest thing after the
 * job itself: a few isinstance() checks on tuples of types, each touching
 * (and so copying) cold pages of the zygote, about a sixth of a trivial
 * job's CPU. The C seed() under it does the same reseeding from the kernel's
 * randomness; the Python one adds only argument checks that None passes and
 * `gauss_next = None`, which holds in the zygote already. So the entry in
 * the interpreter's after-fork list is swapped for the C method bound to the
 * same instance. The list is not reachable from Python but it is an object
 * the collector tracks: found through gc.get_referrers, before gc.freeze()
 * (the permanent generation is not searched). If anything is not as
 * expected, nothing is changed. */
static const char CHEAP_RESEED[] =
    "def _runbox_cheap_reseed():\n"
    "    import gc, sys, types\n"
    "    random = sys.modules.get('random')\n"
    "    inst = getattr(random, '_inst', None)\n"
    "    if inst is None or type(inst) is not random.Random:\n"
    "        return 0\n"
    "    import _random\n"
    "    seed = random.Random.seed\n"
    "    fast = _random.Random.seed.__get__(inst)\n"
    "    inst.gauss_next = None\n"
    "    swapped = 0\n"
    "    for m in gc.get_referrers(inst):\n"
    "        if type(m) is types.MethodType and m.__self__ is inst and m.__func__ is seed:\n"
    "            for holder in gc.get_referrers(m):\n"
    "                if type(holder) is list:\n"
    "                    for i, x in enumerate(holder):\n"
    "                        if x is m:\n"
    "                            holder[i] = fast\n"
    "                            swapped += 1\n"
    "    return swapped\n"
    "_runbox_swapped = _runbox_cheap_reseed()\n";

int rb_interp_cheap_reseed(void)
{
    PyObject *globals = PyDict_New();
    PyObject *builtins = PyEval_GetBuiltins(); /* borrowed */
    int swapped = -1;
    if (globals && builtins && PyDict_SetItemString(globals, "__builtins__", builtins) == 0) {
        PyObject *r = PyRun_String(CHEAP_RESEED, Py_file_input, globals, globals);
        PyObject *n = r ? PyDict_GetItemString(globals, "_runbox_swapped") : NULL; /* borrowed */
        if (n && PyLong_Check(n))
            swapped = (int)PyLong_AsLong(n);
        Py_XDECREF(r);
    }
    Py_XDECREF(globals);
    PyErr_Clear();
    return swapped;
}

/* The seccomp filter refuses metadata calls by path (chmod, chown, utime,
 * setxattr, removexattr: see seccomp_policy.c) and allows them on a
 * descriptor. So that programs that change a file's mode or times in their
 * working dir still work (shutil.copy, copy2, copymode, copystat,
 * pathlib.Path.chmod, os.utime), os's functions are routed through a
 * descriptor opened on the path, which Landlock and DAC then judge as any
 * open. Plain Python, installed in the zygote once: it adds no permission
 * (the filter is what decides), only keeps such programs working. */
static const char METADATA_BY_FD[] =
    "def _runbox_metadata_by_fd():\n"
    "    import os, posix\n"
    "    real = {n: getattr(posix, n) for n in ('chmod', 'chown', 'utime', 'setxattr', 'removexattr')}\n"
    "    def opened(path, dir_fd, follow_symlinks):\n"
    "        base = os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY | (0 if follow_symlinks else os.O_NOFOLLOW)\n"
    "        try:\n"
    "            return os.open(path, base | os.O_RDONLY, dir_fd=dir_fd)\n"
    "        except PermissionError as denied:\n"
    "            try:\n"
    "                return os.open(path, base | os.O_WRONLY, dir_fd=dir_fd)\n"
    "            except OSError:\n"
    "                raise denied from None\n"
    "    def by_fd(name):\n"
    "        fn = real[name]\n"
    "        def call(path, *args, dir_fd=None, follow_symlinks=True, **kw):\n"
    "            if isinstance(path, int):\n"
    "                return fn(path, *args, **kw)\n"
    "            fd = opened(path, dir_fd, follow_symlinks)\n"
    "            try:\n"
    "                return fn(fd, *args, **kw)\n"
    "            finally:\n"
    "                os.close(fd)\n"
    "        call.__name__ = call.__qualname__ = name\n"
    "        call.__doc__ = fn.__doc__\n"
    "        return call\n"
    "    def lchown(path, uid, gid):\n"
    "        return os.chown(path, uid, gid, follow_symlinks=False)\n"
    "    for name in real:\n"
    "        wrapped = by_fd(name)\n"
    "        setattr(os, name, wrapped)\n"
    "        setattr(posix, name, wrapped)\n"
    "    os.lchown = posix.lchown = lchown\n"
    "_runbox_metadata_by_fd()\n";

int rb_interp_route_metadata(void)
{
    PyObject *globals = PyDict_New();
    PyObject *builtins = PyEval_GetBuiltins(); /* borrowed */
    int rc = -1;
    if (globals && builtins && PyDict_SetItemString(globals, "__builtins__", builtins) == 0) {
        PyObject *r = PyRun_String(METADATA_BY_FD, Py_file_input, globals, globals);
        rc = r ? 0 : -1;
        Py_XDECREF(r);
    }
    Py_XDECREF(globals);
    PyErr_Clear();
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

