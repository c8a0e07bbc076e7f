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

#include "report.h"

/* Address space set aside at start and given back before the verdict is
 * sent, so a program that ran the memory limit dry still gets its
 * MemoryError reported. Only reserved, never touched: RLIMIT_AS counts
 * mappings, not pages. */
#define RESERVE_BYTES (8u << 20)

/* Looked up once, in the zygote (rb_coderunner_prepare): in a worker each
 * lookup through the import system or a type's attributes writes to cold
 * pages of the zygote, and every page written is a page copied. */
static struct {
    PyObject *builtins;  /* the builtins module */
    PyObject *modules;   /* sys.modules */
    PyObject *gc_count;  /* gc.get_count */
    PyObject *gc_collect; /* gc.collect */
    /* traceback's formatters and json.dumps, held here so that a program
     * replacing sys.modules["traceback"] or the module's attributes changes
     * nothing in what runbox reports. */
    PyObject *format_exception;
    PyObject *format_exception_only;
    PyObject *json_dumps;
    PyObject *json_loads;
} cached;

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

static void outcome_free(struct outcome *o)
{
    free(o->exception);
    free(o->error);
    free(o->error_detail);
    memset(o, 0, sizeof *o);
}

static void raised_clear(struct raised *r)
{
    Py_CLEAR(r->type);
    Py_CLEAR(r->value);
    Py_CLEAR(r->tb);
}

/* Takes the pending exception; false when there is none. */
static bool raised_take(struct raised *r, bool compiling)
{
    PyErr_Fetch(&r->type, &r->value, &r->tb);
    r->compiling = compiling;
    return r->type != NULL;
}

/* A malloc'd UTF-8 copy of a str (lone surrogates backslash-escaped), or NULL. */
static char *utf8_of(PyObject *str)
{
    if (!str || !PyUnicode_Check(str))
        return NULL;
    PyObject *bytes = PyUnicode_AsEncodedString(str, "utf-8", "backslashreplace");
    if (!bytes) {
        PyErr_Clear();
        return NULL;
    }
    char *copy = strdup(PyBytes_AS_STRING(bytes));
    Py_DECREF(bytes);
    return copy;
}

/* Where a cut of `s` at `at` bytes (or fewer) keeps whole UTF-8 characters:
 * never inside a multi-byte sequence. */
static size_t utf8_boundary(const char *s, size_t at)
{
    while (at > 0 && ((unsigned char)s[at] & 0xc0) == 0x80)
        at--;
    return at;
}

/* Shortens a malloc'd string in place to at most `max` bytes, on a UTF-8
 * boundary; `*cut` (when not NULL) tells whether it did. A traceback keeps
 * its tail, which matters most, behind a marker. */
static char *clip(char *s, size_t max, bool keep_tail, bool *cut)
{
    if (cut)
        *cut = false;
    if (!s)
        return NULL;
    size_t n = strlen(s);
    if (n <= max)
        return s;
    if (cut)
        *cut = true;
    static const char marker[] = "[... earlier lines omitted by runbox ...]\n";
    if (keep_tail) {
        size_t keep = max - (sizeof marker - 1);
        size_t from = n - keep;
        while (from < n && ((unsigned char)s[from] & 0xc0) == 0x80)
            from++; /* start on a character, not inside one */
        memmove(s + sizeof marker - 1, s + from, n - from + 1);
        memcpy(s, marker, sizeof marker - 1);
    } else {
        s[utf8_boundary(s, max)] = '\0';
    }
    return s;
}

/* The qualified name of an exception's type, read from the type object
 * itself (what type.__qualname__ returns), so no code of the program runs. */
static char *type_qualname(PyObject *type)
{
    if (!type || !PyType_Check(type))
        return strdup("?");
    PyTypeObject *t = (PyTypeObject *)type;
    if (t->tp_flags & Py_TPFLAGS_HEAPTYPE) {
        PyObject *q = ((PyHeapTypeObject *)t)->ht_qualname; /* borrowed */
        char *s = utf8_of(q);
        if (s)
            return s;
    }
    const char *dot = strrchr(t->tp_name, '.');
    return strdup(dot ? dot + 1 : t->tp_name);
}

/* SystemExit's exit code as CPython computes it (None is 0, an int is
 * itself, the OS keeping the low byte, anything else 1), read from the
 * exception's own slot: a subclass's `code` property is the program's code
 * and does not run before the verdict. */
static PyObject *system_exit_code_object(const struct raised *r) /* borrowed */
{
    if (r->value && PyObject_TypeCheck(r->value, (PyTypeObject *)PyExc_SystemExit))
        return ((PySystemExitObject *)r->value)->code;
    /* Not normalised: the value is the argument it was raised with. */
    if (r->value && PyTuple_Check(r->value))
        return PyTuple_GET_SIZE(r->value) == 1 ? PyTuple_GET_ITEM(r->value, 0)
               : PyTuple_GET_SIZE(r->value) == 0 ? Py_None
                                                 : r->value;
    return r->value ? r->value : Py_None;
}

static int system_exit_code(const struct raised *r)
{
    PyObject *code = system_exit_code_object(r);
    if (!code || code == Py_None)
        return 0;
    if (PyLong_Check(code)) {
        long v = PyLong_AsLong(code);
        PyErr_Clear();
        return (int)(v & 0xff);
    }
    return 1;
}

/* The verdict of an exception, from C state alone. */
static void verdict_of(struct outcome *o, const struct raised *r)
{
    if (PyErr_GivenExceptionMatches(r->type, PyExc_SystemExit)) {
        o->kind = RB_OUTCOME_EXIT;
        o->exit_code = system_exit_code(r);
        return;
    }
    o->kind = RB_OUTCOME_EXCEPTION;
    o->exit_code = 1;
    o->exception = type_qualname(r->type);
    o->memory_error = PyErr_GivenExceptionMatches(r->type, PyExc_MemoryError);
    o->keyboard_interrupt = PyErr_GivenExceptionMatches(r->type, PyExc_KeyboardInterrupt);
    o->assertion = PyErr_GivenExceptionMatches(r->type, PyExc_AssertionError);
}

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

/* "".join(fn(exc)) with one of traceback's formatters, malloc'd, or NULL. */
static char *format_with(PyObject *fn, PyObject *exc)
{
    char *out = NULL;
    PyObject *lines = fn ? PyObject_CallOneArg(fn, exc) : NULL;
    PyObject *empty = lines ? PyUnicode_FromString("") : NULL;
    PyObject *joined = empty ? PyUnicode_Join(empty, lines) : NULL;
    if (joined)
        out = utf8_of(joined);
    else
        PyErr_Clear();
    Py_XDECREF(joined);
    Py_XDECREF(empty);
    Py_XDECREF(lines);
    return out;
}

static void strip_trailing_newlines(char *s)
{
    if (!s)
        return;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

/* CodeRunner's message for a SyntaxError: "Invalid syntax in 'f.py' on line 3:\n<text>". */
static char *syntax_error_message(PyObject *exc)
{
    PyObject *filename = PyObject_GetAttrString(exc, "filename");
    PyObject *lineno = filename ? PyObject_GetAttrString(exc, "lineno") : NULL;
    PyObject *text = lineno ? PyObject_GetAttrString(exc, "text") : NULL;
    char *msg = NULL;
    /* Without a line (null bytes, say) there is nothing to point at: the
     * plain exception line says it better. */
    if (text && PyLong_Check(lineno)) {
        char *fname = utf8_of(filename);
        char *line = utf8_of(text);
        strip_trailing_newlines(line);
        const char *base = fname ? strrchr(fname, '/') : NULL;
        base = base ? base + 1 : (fname ? fname : "???");
        char num[32];
        snprintf(num, sizeof num, "%ld", PyLong_AsLong(lineno));
        size_t len = strlen(base) + strlen(num) + (line ? strlen(line) : 3) + 64;
        msg = malloc(len);
        if (msg)
            snprintf(msg, len, "Invalid syntax in '%s' on line %s:\n%s", base, num,
                     line ? line : "???");
        free(fname);
        free(line);
    }
    PyErr_Clear();
    Py_XDECREF(text);
    Py_XDECREF(lineno);
    Py_XDECREF(filename);
    return msg;
}

/* A SyntaxError raised while the program ran (eval, compile, an import)
 * formats as the place it points at, then "SyntaxError: message": keep the
 * message, which the place (a line of any length) could push out of the
 * field. */
static void drop_location_lines(char *s)
{
    for (char *line = s; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (*line != ' ' && *line != '\n') {
            if (line != s)
                memmove(s, line, strlen(line) + 1);
            return;
        }
    }
}

/* The line of `filename` where the exception surfaced: the innermost frame
 * of the traceback that belongs to that file. Traceback and frame objects
 * are the interpreter's own types: reading them runs no program code. */
static long line_in_file(PyObject *tb, const char *filename)
{
    long line = 0;
    PyObject *t = tb; /* a new reference from here on */
    Py_XINCREF(t);
    while (t && t != Py_None && PyTraceBack_Check(t)) {
        PyFrameObject *frame = ((PyTracebackObject *)t)->tb_frame; /* borrowed */
        PyCodeObject *code = frame ? PyFrame_GetCode(frame) : NULL;
        const char *s = code && PyUnicode_Check(code->co_filename) ? PyUnicode_AsUTF8(code->co_filename)
                                                                   : NULL;
        if (s && strcmp(s, filename) == 0) {
            PyObject *ln = PyObject_GetAttrString(t, "tb_lineno");
            if (ln && PyLong_Check(ln))
                line = PyLong_AsLong(ln);
            Py_XDECREF(ln);
        }
        Py_XDECREF(code);
        PyObject *next = (PyObject *)((PyTracebackObject *)t)->tb_next;
        Py_XINCREF(next);
        Py_DECREF(t);
        t = next;
    }
    Py_XDECREF(t);
    PyErr_Clear();
    return line;
}

/* The error text of a SystemExit that is not 0: "SystemExit: <code>". */
static char *system_exit_error(const struct raised *r)
{
    PyObject *s = PyObject_Str(system_exit_code_object(r));
    char *text = utf8_of(s);
    Py_XDECREF(s);
    PyErr_Clear();
    const char *shown = text ? text : "<the exit code could not be printed>";
    size_t len = strlen(shown) + 16;
    char *error = malloc(len);
    if (error)
        snprintf(error, len, "SystemExit: %s", shown);
    free(text);
    return error;
}

/* The details of an exception whose verdict is out: the error line, the
 * traceback, the line in the program's file. May run the program's code
 * (its exception's __str__), so only after the verdict. Normalises `r`. */
static void describe(struct outcome *o, struct raised *r, const char *filename)
{
    if (!r->type)
        return;
    if (PyErr_GivenExceptionMatches(r->type, PyExc_SystemExit)) {
        if (o->exit_code != 0)
            o->error = system_exit_error(r);
        o->error = clip(o->error, RBZ_ERROR_MAX, false, NULL);
        return;
    }
    PyErr_NormalizeException(&r->type, &r->value, &r->tb);
    PyErr_Clear();
    if (r->tb && r->value)
        PyException_SetTraceback(r->value, r->tb);
    if (!r->value)
        return;
    if (PyErr_GivenExceptionMatches(r->type, PyExc_SyntaxError)) {
        PyObject *ln = PyObject_GetAttrString(r->value, "lineno");
        o->line = ln && PyLong_Check(ln) ? PyLong_AsLong(ln) : 0;
        Py_XDECREF(ln);
        PyErr_Clear();
        if (r->compiling)
            o->error = syntax_error_message(r->value);
    } else {
        o->line = line_in_file(r->tb, filename);
    }
    if (!o->error) {
        /* "Type: message", as the last lines of a traceback give it (a message
         * with newlines in it keeps them). */
        o->error = format_with(cached.format_exception_only, r->value);
        strip_trailing_newlines(o->error);
        if (o->error && PyErr_GivenExceptionMatches(r->type, PyExc_SyntaxError))
            drop_location_lines(o->error);
    }
    o->error_detail = format_with(cached.format_exception, r->value);
    if (!o->error && o->exception)
        o->error = strdup(o->exception);
    o->error = clip(o->error, RBZ_ERROR_MAX, false, NULL);
    o->error_detail = clip(o->error_detail, RBZ_ERROR_DETAIL_MAX, true, NULL);
}

/* Prints the exception the way python3 would, through sys.excepthook (the
 * program's to replace); SystemExit's non-integer code goes to stderr. The
 * verdict is out already, and `r` is given back to the interpreter. */
static void print_raised(struct raised *r)
{
    if (!r->type)
        return;
    if (PyErr_GivenExceptionMatches(r->type, PyExc_SystemExit)) {
        PyObject *code = system_exit_code_object(r);
        if (code && code != Py_None && !PyLong_Check(code)) {
            PyObject *err = PySys_GetObject("stderr"); /* borrowed */
            if (err && err != Py_None && PyFile_WriteObject(code, err, Py_PRINT_RAW) == 0)
                PyFile_WriteString("\n", err);
        }
        raised_clear(r);
        PyErr_Clear();
        return;
    }
    PyErr_Restore(r->type, r->value, r->tb); /* steals them */
    r->type = r->value = r->tb = NULL;
    PyErr_PrintEx(0);
    PyErr_Clear();
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
    PyObject *gc = PyImport_ImportModule("gc");
    PyObject *traceback = PyImport_ImportModule("traceback");
    PyObject *json = PyImport_ImportModule("json");
    cached.builtins = PyImport_ImportModule("builtins");
    cached.modules = PyImport_GetModuleDict(); /* borrowed, lives as long as the interpreter */
    cached.gc_count = gc ? PyObject_GetAttrString(gc, "get_count") : NULL;
    cached.gc_collect = gc ? PyObject_GetAttrString(gc, "collect") : NULL;
    cached.format_exception = traceback ? PyObject_GetAttrString(traceback, "format_exception") : NULL;
    cached.format_exception_only =
        traceback ? PyObject_GetAttrString(traceback, "format_exception_only") : NULL;
    cached.json_dumps = json ? PyObject_GetAttrString(json, "dumps") : NULL;
    cached.json_loads = json ? PyObject_GetAttrString(json, "loads") : NULL;
    Py_XDECREF(json);
    Py_XDECREF(traceback);
    Py_XDECREF(gc);
    if (!cached.builtins || !cached.modules || !cached.gc_count || !cached.gc_collect ||
        !cached.format_exception || !cached.format_exception_only || !cached.json_dumps ||
        !cached.json_loads) {
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
static void shut_down_like_python3(PyObject *main)
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
    raised_take(r, code == NULL);
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
    raised_take(r, false);
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
    char *rs = utf8_of(repr);
    Py_XDECREF(repr);
    item = cJSON_CreateObject();
    if (rs) {
        cJSON_AddStringToObject(item, "$repr", rs);
    } else {
        /* The exception is the record's, not the program's: not printed. */
        struct raised why = { 0 };
        raised_take(&why, false);
        PyErr_NormalizeException(&why.type, &why.value, &why.tb);
        PyErr_Clear();
        char *w = why.value ? format_with(cached.format_exception_only, why.value) : NULL;
        strip_trailing_newlines(w);
        cJSON_AddStringToObject(item, "$error", w ? w : "repr() failed");
        free(w);
        raised_clear(&why);
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
    char *doc_text = clip(utf8_of(doc), RBZ_DOC_MAX, false, &doc_cut);
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
        const struct rb_program_check *ch = &p->checks[i];
        if (run_code(ch->source, strlen(ch->source), ch->filename, dict, &cr, &reserve) == 0) {
            send_check(i, RBZ_CHECK_PASSED, NULL);
            continue;
        }
        verdict_of(&c, &cr);
        bool ends = strcmp(c.kind, RB_OUTCOME_EXIT) == 0 || c.keyboard_interrupt;
        send_check(i, !ends && c.assertion ? RBZ_CHECK_FAILED : RBZ_CHECK_ERROR, &c);
        if (ends) {
            outcome_free(o);
            *o = c;
            *r = cr;
            send_verdict(o);
            describe(o, r, ch->filename);
            send_check_detail(i, o);
            return true;
        }
        describe(&c, &cr, ch->filename);
        send_check_detail(i, &c);
        raised_clear(&cr);
        if (failed++ == 0) {
            outcome_free(o);
            *o = c;
            o->kind = RB_OUTCOME_COMPLETED;
        } else {
            outcome_free(&c);
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

    /* From here on the program's code may run (a package's __init__, the
     * parent of a -m module): the supervisor trusts only signed messages. */
    rb_report_send_type(RBZ_ST_RUNNING);
    if (set_sys_argv(p) < 0 || set_sys_path(p) < 0 || !(main = fresh_main_module(p->filename)) ||
        inject_globals(PyModule_GetDict(main), p->globals_json) < 0 ||
        (p->mode == RB_RUN_SOURCE && set_package(PyModule_GetDict(main), p) < 0)) {
        raised_take(&r, false);
    } else {
        dict = PyModule_GetDict(main);
        missing = p->mode == RB_RUN_MODULE && module_is_missing(p->target, &o);
        if (!missing && run_main(p, dict, &r, &reserve) == 0 && p->nchecks) {
            sent = true;
            described = run_checks(p, dict, &o, &r);
        }
    }
    free(reserve);
    reserve = NULL;
    /* The verdict, before any Python code runs again. */
    if (!sent) {
        if (r.type)
            verdict_of(&o, &r);
        send_verdict(&o);
    }

    /* The details, which may run the program's code. */
    if (missing)
        report_missing_module(p->target, &o);
    else if (r.type && !described)
        describe(&o, &r, p->filename);
    send_detail(&o, dict, p);
    /* Nothing after this point may speak for the program. */
    rb_report_wipe();
    print_raised(&r);
    *sigint = o.keyboard_interrupt;
    int exit_code = o.exit_code;
    outcome_free(&o);
    shut_down_like_python3(main);
    Py_XDECREF(main);
    return exit_code;
}
