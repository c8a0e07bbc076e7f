/*
 * The CodeRunner core, in C against the CPython API.
 *
 * Written in C rather than as a Python helper so that nothing the program
 * under test can reach (frames, module globals, sys.modules) steers what is
 * reported: the program's module frame is called from C and returns to C.
 *
 * The order is the contract (protocol.h): when the main module, or a check,
 * returns to C, its verdict is decided from C state alone (the exception's
 * type, SystemExit's code slot) and sent before any Python code runs again.
 * Only then are the details formatted (str() of an exception, a traceback,
 * repr() of captured values), which may run the program's own code: that
 * code can fail to describe a verdict, never change it.
 *
 * Reference counts: every new reference is released on every path; borrowed
 * ones are marked at their line.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "coderunner.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calls.h"
#include "outcome.h"
#include "pyexit.h"
#include "report.h"

/* Address space set aside at start and given back before the verdict is
 * sent, so a program that ran the memory limit dry still gets its
 * MemoryError reported. Only reserved, never touched: RLIMIT_AS counts
 * mappings, not pages. */
#define RESERVE_BYTES (8u << 20)

/* Looked up once, in the zygote (rb_coderunner_prepare): see pyexit.c. */
static struct {
    PyObject *builtins;   /* the builtins module */
    PyObject *json_dumps; /* for captured values */
    PyObject *json_loads; /* for globals */
} cached;

static cJSON *message(const char *type)
{
    cJSON *m = cJSON_CreateObject();
    if (m && !cJSON_AddStringToObject(m, RBZ_ST_TYPE, type)) {
        cJSON_Delete(m);
        return NULL;
    }
    return m;
}

static void send_verdict(const struct outcome *o)
{
    cJSON *m = message(RBZ_ST_VERDICT);
    if (m) {
        cJSON_AddStringToObject(m, RBZ_ST_OUTCOME, o->kind);
        cJSON_AddNumberToObject(m, RBZ_ST_EXIT_CODE, o->exit_code);
        if (o->exception)
            cJSON_AddStringToObject(m, RBZ_ST_EXCEPTION, o->exception);
        cJSON_AddBoolToObject(m, RBZ_ST_MEMORY_ERROR, o->memory_error);
        cJSON_AddBoolToObject(m, RBZ_ST_KEYBOARD_INTERRUPT, o->keyboard_interrupt);
    }
    rb_report_send(m); /* even NULL: it sends the essentials */
    cJSON_Delete(m);
}

static void send_check(size_t index, const char *status, const struct outcome *c)
{
    cJSON *m = message(RBZ_ST_CHECK);
    if (m) {
        cJSON_AddNumberToObject(m, RBZ_ST_INDEX, (double)index);
        cJSON_AddStringToObject(m, RBZ_ST_STATUS, status);
        if (c && c->exception)
            cJSON_AddStringToObject(m, RBZ_ST_EXCEPTION, c->exception);
        rb_report_send(m);
    }
    cJSON_Delete(m);
}

static void send_check_detail(size_t index, const struct outcome *c)
{
    cJSON *m = message(RBZ_ST_CHECK_DETAIL);
    if (m) {
        cJSON_AddNumberToObject(m, RBZ_ST_INDEX, (double)index);
        if (c->error)
            cJSON_AddStringToObject(m, RBZ_ST_ERROR, c->error);
        if (c->line > 0)
            cJSON_AddNumberToObject(m, RBZ_ST_LINE, (double)c->line);
        rb_report_send(m);
    }
    cJSON_Delete(m);
}

static int set_sys_argv(const struct rb_program *p)
{
    PyObject *list = PyList_New(0);
    if (!list)
        return -1;
    int rc = 0;
    /* python3 -m starts with "-m" in argv[0]; runpy puts the module's file there. */
    const char *argv0 = p->mode == RB_RUN_MODULE ? "-m" : p->argv0;
    for (size_t i = 0; i <= p->argc && rc == 0; i++) {
        const char *arg = i == 0 ? argv0 : p->argv[i - 1];
        PyObject *s = PyUnicode_DecodeFSDefault(arg);
        rc = s ? PyList_Append(list, s) : -1;
        Py_XDECREF(s);
    }
    if (rc == 0)
        rc = PySys_SetObject("argv", list);
    Py_DECREF(list);
    return rc;
}

/* sys.path[0] as python3 sets it, then the job's import roots, as
 * PYTHONPATH would put them. */
static int set_sys_path(const struct rb_program *p)
{
    PyObject *path = PySys_GetObject("path"); /* borrowed */
    if (!path || !PyList_Check(path))
        return 0;
    const char *first = p->mode == RB_RUN_PATH ? p->target : p->sys_path0;
    int rc = 0;
    for (size_t i = 0; i <= p->npython_path && rc == 0; i++) {
        PyObject *s = PyUnicode_DecodeFSDefault(i == 0 ? first : p->python_path[i - 1]);
        rc = s ? PyList_Insert(path, (Py_ssize_t)i, s) : -1;
        Py_XDECREF(s);
    }
    return rc;
}

/* init_globals: the members of a JSON object become the program's globals. */
static int inject_globals(PyObject *dict, const char *json_text)
{
    if (!json_text)
        return 0;
    PyObject *values = PyObject_CallFunction(cached.json_loads, "s", json_text);
    int rc = values && PyDict_Check(values) ? PyDict_Update(dict, values) : -1;
    if (values && !PyDict_Check(values))
        PyErr_SetString(PyExc_TypeError, "globals must be a JSON object");
    Py_XDECREF(values);
    return rc;
}

/* CodeRunner's package handling: with a package, the program runs as a part
 * of it (relative imports resolve against it); an __init__.py without one
 * runs as a package of its own. */
static int set_package(PyObject *dict, const struct rb_program *p)
{
    const char *base_of = strrchr(p->filename, '/');
    if (!p->package && strcmp(base_of ? base_of + 1 : p->filename, "__init__.py") != 0)
        return 0;
    char *abs = realpath(p->filename, NULL);
    const char *file = abs ? abs : p->filename;
    const char *slash = strrchr(file, '/');
    const char *base = slash ? slash + 1 : file;
    bool init = strcmp(base, "__init__.py") == 0;
    int rc = 0;
    if (p->package || init) {
        PyObject *dir = slash ? PyUnicode_DecodeFSDefaultAndSize(file, slash - file)
                              : PyUnicode_FromString(".");
        PyObject *list = dir ? PyList_New(1) : NULL;
        if (list) {
            Py_INCREF(dir);
            PyList_SET_ITEM(list, 0, dir);
        }
        PyObject *pkg = p->package ? PyUnicode_FromString(p->package) : PyUnicode_FromString("__main__");
        rc = list && pkg ? 0 : -1;
        if (rc == 0)
            rc = PyDict_SetItemString(dict, "__package__", pkg);
        if (rc == 0)
            rc = PyDict_SetItemString(dict, "__path__", list);
        if (rc == 0 && p->package) {
            PyObject *mod = PyImport_ImportModule(p->package); /* relative imports need it loaded */
            rc = mod ? 0 : -1;
            Py_XDECREF(mod);
        }
        Py_XDECREF(pkg);
        Py_XDECREF(list);
        Py_XDECREF(dir);
    }
    free(abs);
    return rc;
}

int rb_coderunner_prepare(void)
{
    PyObject *json = PyImport_ImportModule("json");
    cached.builtins = PyImport_ImportModule("builtins");
    cached.json_dumps = json ? PyObject_GetAttrString(json, "dumps") : NULL;
    cached.json_loads = json ? PyObject_GetAttrString(json, "loads") : NULL;
    Py_XDECREF(json);
    if (!cached.builtins || !cached.json_dumps || !cached.json_loads || rb_outcome_prepare() < 0 ||
        rb_pyexit_prepare() < 0) {
        PyErr_Clear();
        return -1;
    }
    return 0;
}

static PyObject *fresh_main_module(const char *filename)
{
    PyObject *main = PyModule_New("__main__");
    if (!main)
        return NULL;
    PyObject *dict = PyModule_GetDict(main); /* borrowed */
    PyObject *builtins = cached.builtins;
    Py_XINCREF(builtins);
    PyObject *file = PyUnicode_DecodeFSDefault(filename);
    int rc = builtins && file ? 0 : -1;
    if (rc == 0)
        rc = PyDict_SetItemString(dict, "__builtins__", builtins);
    if (rc == 0)
        rc = PyDict_SetItemString(dict, "__file__", file);
    if (rc == 0)
        rc = PyDict_SetItemString(dict, "__cached__", Py_None);
    if (rc == 0) {
        /* python3 gives a script's __main__ an empty __annotations__. */
        PyObject *annotations = PyDict_New();
        rc = annotations ? PyDict_SetItemString(dict, "__annotations__", annotations) : -1;
        Py_XDECREF(annotations);
    }
    if (rc == 0)
        rc = PyDict_SetItemString(PyImport_GetModuleDict(), "__main__", main);
    Py_XDECREF(file);
    Py_XDECREF(builtins);
    if (rc < 0)
        Py_CLEAR(main);
    return main;
}

/* Compiles and runs one piece of code in `dict`; 0 when it ran to its end,
 * else -1 with the exception taken into `r`. The reserve goes back before
 * anything else, so a program that used up its memory still gets its
 * MemoryError reported. */
static int run_code(const char *source, size_t len, const char *filename, PyObject *dict,
                    struct raised *r, void **reserve)
{
    PyObject *code = NULL;
    if (strlen(source) != len) {
        PyErr_SetString(PyExc_SyntaxError, "source code cannot contain null bytes");
    } else {
        PyCompilerFlags flags = _PyCompilerFlags_INIT;
        code = Py_CompileStringExFlags(source, filename, Py_file_input, &flags, -1);
    }
    PyObject *result = code ? PyEval_EvalCode(code, dict, dict) : NULL;
    free(*reserve);
    *reserve = NULL;
    if (result) {
        Py_DECREF(result);
        Py_DECREF(code);
        return 0;
    }
    rb_raised_take(r, code == NULL);
    Py_XDECREF(code);
    return -1;
}

/* python3 -m NAME's message for a module that does not exist, without the
 * traceback of runpy's machinery. Looking the name up may import its parent
 * package, the program's code: the verdict comes after, from what it found. */
static bool module_is_missing(const char *name, struct outcome *o)
{
    PyObject *util = PyImport_ImportModule("importlib.util");
    PyObject *spec = util ? PyObject_CallMethod(util, "find_spec", "s", name) : NULL;
    bool missing = !spec || spec == Py_None;
    bool raised_other = !spec && PyErr_Occurred() &&
                        !PyErr_ExceptionMatches(PyExc_ImportError);
    Py_XDECREF(spec);
    Py_XDECREF(util);
    if (!missing || raised_other) {
        /* Found, or finding it broke for another reason: runpy will say. */
        PyErr_Clear();
        return false;
    }
    PyErr_Clear();
    o->kind = RB_OUTCOME_EXCEPTION;
    o->exit_code = 1;
    o->exception = strdup("ModuleNotFoundError");
    return true;
}

static void report_missing_module(const char *name, struct outcome *o)
{
    PyObject *exe = PySys_GetObject("executable"); /* borrowed */
    const char *e = exe && PyUnicode_Check(exe) ? PyUnicode_AsUTF8(exe) : "python3";
    PySys_FormatStderr("%s: No module named %s\n", e, name);
    PyErr_Clear();
    size_t len = strlen(name) + 64;
    o->error = malloc(len);
    if (o->error)
        snprintf(o->error, len, "ModuleNotFoundError: No module named '%s'", name);
}

/* The program's main module, run the way its mode says; 0 when it ran to
 * its end, else -1 with the exception in `r`. Directories, zip apps and -m
 * modules go through runpy exactly as python3 does it, so their tracebacks
 * show the same frames. */
static int run_main(const struct rb_program *p, PyObject *dict, struct raised *r, void **reserve)
{
    if (p->mode == RB_RUN_SOURCE)
        return run_code(p->source, p->source_len, p->filename, dict, r, reserve);
    PyObject *runpy = PyImport_ImportModule("runpy");
    PyObject *res = runpy ? PyObject_CallMethod(runpy, "_run_module_as_main", "si",
                                                p->mode == RB_RUN_MODULE ? p->target : "__main__",
                                                p->mode == RB_RUN_MODULE)
                          : NULL;
    Py_XDECREF(runpy);
    free(*reserve);
    *reserve = NULL;
    if (res) {
        Py_DECREF(res);
        return 0;
    }
    rb_raised_take(r, false);
    return -1;
}

/* One captured value as JSON: JSON values as they are, anything else as
 * {"$repr": repr(value)}, a value whose repr raises as {"$error": ...}. */
static cJSON *capture_value(PyObject *value)
{
    cJSON *item = NULL;
    PyObject *text = PyObject_CallOneArg(cached.json_dumps, value);
    const char *t = text ? PyUnicode_AsUTF8(text) : NULL;
    if (t)
        item = cJSON_Parse(t);
    Py_XDECREF(text);
    PyErr_Clear();
    if (item)
        return item;
    PyObject *repr = PyObject_Repr(value);
    char *rs = rb_utf8_of(repr);
    Py_XDECREF(repr);
    item = cJSON_CreateObject();
    if (rs) {
        cJSON_AddStringToObject(item, "$repr", rs);
    } else {
        /* The exception is the record's, not the program's: not printed. */
        struct raised why = { 0 };
        rb_raised_take(&why, false);
        PyErr_NormalizeException(&why.type, &why.value, &why.tb);
        PyErr_Clear();
        char *w = why.value ? rb_format_exception_only(why.value) : NULL;
        cJSON_AddStringToObject(item, "$error", w ? w : "repr() failed");
        free(w);
        rb_raised_clear(&why);
    }
    free(rs);
    PyErr_Clear();
    return item;
}

/* The named globals, for the record; absent names are left out. At most
 * `limit` bytes of JSON: a value that does not fit is replaced by
 * {"$truncated": <its size in bytes>}, so the record says what was cut. */
static cJSON *capture_namespace(PyObject *dict, const struct rb_program *p, bool *truncated)
{
    *truncated = false;
    if (!p->ncapture)
        return NULL;
    cJSON *ns = cJSON_CreateObject();
    size_t used = 2;
    for (size_t i = 0; ns && i < p->ncapture; i++) {
        PyObject *value = dict ? PyDict_GetItemString(dict, p->capture[i]) : NULL; /* borrowed */
        if (!value)
            continue;
        Py_INCREF(value);
        cJSON *item = capture_value(value);
        Py_DECREF(value);
        char *printed = item ? cJSON_PrintUnformatted(item) : NULL;
        size_t size = printed ? strlen(printed) : 0;
        cJSON_free(printed);
        size_t need = size + strlen(p->capture[i]) + 4;
        if (!item || used + need > p->capture_limit) {
            cJSON_Delete(item);
            *truncated = true;
            item = cJSON_CreateObject();
            cJSON_AddNumberToObject(item, "$truncated", (double)size);
            need = strlen(p->capture[i]) + 40;
        }
        used += need;
        cJSON_AddItemToObject(ns, p->capture[i], item);
    }
    return ns;
}

/* The details message: what the verdict does not say. */
static void send_detail(const struct outcome *o, PyObject *dict, const struct rb_program *p)
{
    cJSON *m = message(RBZ_ST_DETAIL);
    if (!m)
        return;
    if (o->error)
        cJSON_AddStringToObject(m, RBZ_ST_ERROR, o->error);
    if (o->error_detail)
        cJSON_AddStringToObject(m, RBZ_ST_ERROR_DETAIL, o->error_detail);
    if (o->line > 0)
        cJSON_AddNumberToObject(m, RBZ_ST_LINE, (double)o->line);
    PyObject *doc = dict ? PyDict_GetItemString(dict, "__doc__") : NULL; /* borrowed */
    bool doc_cut = false;
    char *doc_text = rb_clip(rb_utf8_of(doc), RBZ_DOC_MAX, false, &doc_cut);
    if (doc_text)
        cJSON_AddStringToObject(m, RBZ_ST_DOC, doc_text);
    if (doc_cut)
        cJSON_AddTrueToObject(m, RBZ_ST_DOC_TRUNCATED);
    free(doc_text);
    bool ns_cut = false;
    cJSON *ns = capture_namespace(dict, p, &ns_cut);
    if (ns) {
        cJSON_AddItemToObject(m, RBZ_ST_NAMESPACE, ns);
        cJSON_AddBoolToObject(m, RBZ_ST_NAMESPACE_TRUNCATED, ns_cut);
    }
    PyErr_Clear();
    rb_report_send(m);
    cJSON_Delete(m);
}

/* Runs the checks after a program that completed, each with its verdict
 * sent as soon as it returns to C. A failing check is recorded and the next
 * one runs; an exit or a KeyboardInterrupt ends the program there, as it
 * would have in one file: then `o` and `r` hold it, described, and the
 * result is true. Otherwise the first failure speaks for the program in
 * `o`. Either way the program's verdict is sent here. */
static bool run_checks(const struct rb_program *p, PyObject *dict, struct outcome *o,
                       struct raised *r)
{
    long failed = 0;
    for (size_t i = 0; i < p->nchecks; i++) {
        struct outcome c = { .kind = RB_OUTCOME_COMPLETED };
        struct raised cr = { 0 };
        void *reserve = malloc(RESERVE_BYTES);
        const struct rbz_spec_check *ch = &p->checks[i];
        if (run_code(ch->source, strlen(ch->source), ch->path, dict, &cr, &reserve) == 0) {
            send_check(i, RBZ_CHECK_PASSED, NULL);
            continue;
        }
        rb_verdict_of(&c, &cr);
        bool ends = strcmp(c.kind, RB_OUTCOME_EXIT) == 0 || c.keyboard_interrupt;
        send_check(i, !ends && c.assertion ? RBZ_CHECK_FAILED : RBZ_CHECK_ERROR, &c);
        if (ends) {
            rb_outcome_free(o);
            *o = c;
            *r = cr;
            send_verdict(o);
            rb_describe(o, r, ch->path);
            send_check_detail(i, o);
            return true;
        }
        rb_describe(&c, &cr, ch->path);
        send_check_detail(i, &c);
        rb_raised_clear(&cr);
        if (failed++ == 0) {
            rb_outcome_free(o);
            *o = c;
            o->kind = RB_OUTCOME_COMPLETED;
        } else {
            rb_outcome_free(&c);
        }
    }
    o->exit_code = failed > 0 ? 1 : 0;
    send_verdict(o);
    return false;
}

int rb_coderunner_run(const struct rb_program *p, bool *sigint)
{
    struct outcome o = { .kind = RB_OUTCOME_COMPLETED };
    struct raised r = { 0 };
    void *reserve = malloc(RESERVE_BYTES);
    PyObject *main = NULL;
    PyObject *dict = NULL; /* borrowed from main */
    bool sent = false, described = false, missing = false;
    *sigint = false;
    if (!cached.builtins)
        rb_coderunner_prepare(); /* not forked from a zygote that did it (tests) */

    rb_outcome_set_program(p);
    /* From here on the program's code may run (a package's __init__, the
     * parent of a -m module): the supervisor trusts only signed messages. */
    rb_report_send_type(RBZ_ST_RUNNING);
    if (set_sys_argv(p) < 0 || set_sys_path(p) < 0 || !(main = fresh_main_module(p->filename)) ||
        inject_globals(PyModule_GetDict(main), p->globals_json) < 0 ||
        (p->mode == RB_RUN_SOURCE && set_package(PyModule_GetDict(main), p) < 0)) {
        rb_raised_take(&r, false);
    } else {
        dict = PyModule_GetDict(main);
        missing = p->mode == RB_RUN_MODULE && module_is_missing(p->target, &o);
        if (!missing && run_main(p, dict, &r, &reserve) == 0) {
            if (p->ncalls)
                rb_calls_run(p, dict); /* their results go out as they come */
            if (p->nchecks) {
                sent = true;
                described = run_checks(p, dict, &o, &r);
            }
        }
    }
    free(reserve);
    reserve = NULL;
    /* The verdict, before any Python code runs again. */
    if (!sent) {
        if (r.type)
            rb_verdict_of(&o, &r);
        send_verdict(&o);
    }

    /* The details, which may run the program's code. */
    if (missing)
        report_missing_module(p->target, &o);
    else if (r.type && !described)
        rb_describe(&o, &r, p->filename);
    send_detail(&o, dict, p);
    /* Nothing after this point may speak for the program. */
    rb_report_wipe();
    rb_print_raised(&r);
    *sigint = o.keyboard_interrupt;
    int exit_code = o.exit_code;
    rb_outcome_free(&o);
    rb_shut_down_like_python3(main);
    Py_XDECREF(main);
    return exit_code;
}
