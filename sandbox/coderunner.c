/*
 * The CodeRunner core, in C against the CPython API.
 *
 * Written in C rather than as a Python helper so that nothing the program
 * under test can reach (frames, module globals, sys.modules) steers what is
 * reported: the program's module frame is called from C and returns to C.
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
#include <sys/uio.h>
#include <unistd.h>

/* Bounds on what one status record carries; the supervisor caps the pipe at
 * 1 MiB and the record must fit. The end of a traceback matters most, so a
 * long one keeps its tail. */
#define ERROR_MAX (8 * 1024)
#define DETAIL_MAX (64 * 1024)
#define DOC_MAX (64 * 1024)

/* Address space set aside at start and given back before the record is
 * written, so a program that ran the memory limit dry still gets its
 * MemoryError reported. Only reserved, never touched: RLIMIT_AS counts
 * mappings, not pages. */
#define RESERVE_BYTES (8u << 20)

struct outcome {
    const char *kind;
    int exit_code;
    char *exception;  /* type name, malloc'd */
    bool memory_error;
    bool keyboard_interrupt;
    bool assertion;   /* an AssertionError: a check that failed, not one that broke */
    long line;        /* where it surfaced in the file being run, or 0 */
    char *error;
    char *error_detail;
    char *doc;
    cJSON *namespace; /* the captured names, or NULL */
    bool namespace_truncated;
};

static void outcome_free(struct outcome *o)
{
    cJSON_Delete(o->namespace);
    free(o->exception);
    free(o->error);
    free(o->error_detail);
    free(o->doc);
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

/* Shortens a malloc'd string in place to at most `max` bytes. */
static char *clip(char *s, size_t max, bool keep_tail)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    if (n <= max)
        return s;
    static const char marker[] = "[... earlier lines omitted by runbox ...]\n";
    if (keep_tail) {
        size_t keep = max - (sizeof marker - 1);
        memmove(s + sizeof marker - 1, s + n - keep, keep + 1);
        memcpy(s, marker, sizeof marker - 1);
    } else {
        s[max] = '\0';
    }
    return s;
}

/* One line on the status pipe: "<nonce> <json>\n". The nonce is spelt out
 * in a stack buffer that is wiped at once, so no copy of it lingers in the
 * heap for the program to find. */
static void status_line_write(int fd, const unsigned char *nonce, const char *json)
{
    static const char digits[] = "0123456789abcdef";
    char hex[RBZ_NONCE_HEX + 1];
    size_t hexlen = 0;
    if (nonce) {
        for (size_t i = 0; i < RBZ_NONCE_BYTES; i++) {
            hex[2 * i] = digits[nonce[i] >> 4];
            hex[2 * i + 1] = digits[nonce[i] & 15];
        }
        hex[RBZ_NONCE_HEX] = ' ';
        hexlen = sizeof hex;
    }
    /* A newline first: whatever a program left unterminated on the pipe
     * ends there instead of swallowing this line. */
    struct iovec iov[4] = {
        { "\n", 1 }, { hex, hexlen }, { (void *)json, strlen(json) }, { "\n", 1 },
    };
    struct iovec *v = iov;
    int n = 4;
    while (n > 0) {
        ssize_t w = writev(fd, v, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        while (n > 0 && (size_t)w >= v->iov_len) {
            w -= (ssize_t)v->iov_len;
            v++;
            n--;
        }
        if (n > 0) {
            v->iov_base = (char *)v->iov_base + w;
            v->iov_len -= (size_t)w;
        }
    }
    explicit_bzero(hex, sizeof hex);
}

static void status_record_write(int fd, const unsigned char *nonce, const struct outcome *o,
                                long checks_failed)
{
    cJSON *rec = cJSON_CreateObject();
    if (rec) {
        cJSON_AddStringToObject(rec, "outcome", o->kind);
        cJSON_AddNumberToObject(rec, "exit_code", o->exit_code);
        if (o->exception)
            cJSON_AddStringToObject(rec, "exception", o->exception);
        cJSON_AddBoolToObject(rec, "memory_error", o->memory_error);
        cJSON_AddBoolToObject(rec, "keyboard_interrupt", o->keyboard_interrupt);
        if (o->line > 0)
            cJSON_AddNumberToObject(rec, "line", (double)o->line);
        if (checks_failed > 0)
            cJSON_AddNumberToObject(rec, "checks_failed", (double)checks_failed);
        if (o->error)
            cJSON_AddStringToObject(rec, "error", o->error);
        if (o->error_detail)
            cJSON_AddStringToObject(rec, "error_detail", o->error_detail);
        if (o->doc)
            cJSON_AddStringToObject(rec, "doc", o->doc);
        if (o->namespace) {
            cJSON_AddItemReferenceToObject(rec, "namespace", o->namespace);
            cJSON_AddBoolToObject(rec, "namespace_truncated", o->namespace_truncated);
        }
    }
    char *text = rec ? cJSON_PrintUnformatted(rec) : NULL;
    if (text) {
        status_line_write(fd, nonce, text);
    } else {
        /* Out of memory even after the reserve: the essentials still go. */
        char buf[160];
        snprintf(buf, sizeof buf, "{\"outcome\":\"%s\",\"exit_code\":%d,\"memory_error\":%s}",
                 o->kind, o->exit_code, o->memory_error ? "true" : "false");
        status_line_write(fd, nonce, buf);
    }
    cJSON_free(text);
    cJSON_Delete(rec);
}

static void check_line_write(int fd, const unsigned char *nonce, size_t index, const char *status,
                             const struct outcome *o)
{
    cJSON *rec = cJSON_CreateObject();
    if (!rec)
        return;
    cJSON_AddNumberToObject(rec, "check", (double)index);
    cJSON_AddStringToObject(rec, "status", status);
    if (o && o->error)
        cJSON_AddStringToObject(rec, "error", o->error);
    if (o && o->line > 0)
        cJSON_AddNumberToObject(rec, "line", (double)o->line);
    char *text = cJSON_PrintUnformatted(rec);
    if (text)
        status_line_write(fd, nonce, text);
    cJSON_free(text);
    cJSON_Delete(rec);
}

void rb_status_record_write_plain(int status_fd, const unsigned char *nonce, const char *outcome,
                                  int exit_code, const char *error)
{
    struct outcome o = { .kind = outcome, .exit_code = exit_code,
                         .error = error ? strdup(error) : NULL };
    status_record_write(status_fd, nonce, &o, 0);
    close(status_fd);
    outcome_free(&o);
}

/* "".join(traceback.<fn>(exc)), malloc'd, or NULL. */
static char *format_with_traceback(const char *fn, PyObject *exc)
{
    char *out = NULL;
    PyObject *traceback = PyImport_ImportModule("traceback");
    PyObject *lines = traceback ? PyObject_CallMethod(traceback, fn, "O", exc) : NULL;
    PyObject *empty = lines ? PyUnicode_FromString("") : NULL;
    PyObject *joined = empty ? PyUnicode_Join(empty, lines) : NULL;
    if (joined)
        out = utf8_of(joined);
    else
        PyErr_Clear();
    Py_XDECREF(joined);
    Py_XDECREF(empty);
    Py_XDECREF(lines);
    Py_XDECREF(traceback);
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

static char *type_name(PyObject *exc)
{
    PyObject *name = PyObject_GetAttrString((PyObject *)Py_TYPE(exc), "__qualname__");
    char *s = utf8_of(name);
    Py_XDECREF(name);
    PyErr_Clear();
    return s;
}

/* Exit code for SystemExit, as CPython's handle_system_exit computes it:
 * None is 0, an int is itself (the OS keeps the low byte), anything else is
 * printed to stderr and gives 1. */
static int system_exit_code(PyObject *exc, char **error)
{
    PyObject *code = PyObject_GetAttrString(exc, "code");
    int exit_code = 0;
    *error = NULL;
    if (!code) {
        PyErr_Clear();
        return 1;
    }
    if (code == Py_None) {
        exit_code = 0;
    } else if (PyLong_Check(code)) {
        exit_code = (int)PyLong_AsLong(code);
        PyErr_Clear();
    } else {
        PyObject *err = PySys_GetObject("stderr"); /* borrowed */
        if (err && err != Py_None) {
            if (PyFile_WriteObject(code, err, Py_PRINT_RAW) == 0)
                PyFile_WriteString("\n", err);
        }
        PyErr_Clear();
        exit_code = 1;
    }
    exit_code &= 0xff;
    if (exit_code != 0) {
        PyObject *s = PyObject_Str(code);
        char *text = utf8_of(s);
        Py_XDECREF(s);
        PyErr_Clear();
        size_t len = (text ? strlen(text) : 0) + 16;
        *error = malloc(len);
        if (*error)
            snprintf(*error, len, "SystemExit: %s", text ? text : "");
        free(text);
    }
    Py_DECREF(code);
    return exit_code;
}

/* The line of `filename` where the exception surfaced: the innermost frame
 * of the traceback that belongs to that file. */
static long line_in_file(PyObject *tb, const char *filename)
{
    long line = 0;
    PyObject *t = tb; /* a new reference from here on */
    Py_XINCREF(t);
    while (t && t != Py_None) {
        PyObject *frame = PyObject_GetAttrString(t, "tb_frame");
        PyObject *code = frame ? PyObject_GetAttrString(frame, "f_code") : NULL;
        PyObject *name = code ? PyObject_GetAttrString(code, "co_filename") : NULL;
        const char *s = name && PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
        if (s && strcmp(s, filename) == 0) {
            PyObject *ln = PyObject_GetAttrString(t, "tb_lineno");
            if (ln && PyLong_Check(ln))
                line = PyLong_AsLong(ln);
            Py_XDECREF(ln);
        }
        Py_XDECREF(name);
        Py_XDECREF(code);
        Py_XDECREF(frame);
        PyObject *next = PyObject_GetAttrString(t, "tb_next");
        Py_DECREF(t);
        t = next;
    }
    Py_XDECREF(t);
    PyErr_Clear();
    return line;
}

/* Takes the pending exception and turns it into the outcome; prints it the
 * way python3 would (through sys.excepthook) unless it is SystemExit. */
static void outcome_from_exception(struct outcome *o, bool compiling, const char *filename)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb && value)
        PyException_SetTraceback(value, tb);
    if (!value) {
        o->kind = RB_OUTCOME_EXCEPTION;
        o->exit_code = 1;
        goto out;
    }
    if (PyErr_GivenExceptionMatches(type, PyExc_SystemExit)) {
        o->kind = RB_OUTCOME_EXIT;
        o->exit_code = system_exit_code(value, &o->error);
        goto out;
    }
    o->kind = RB_OUTCOME_EXCEPTION;
    o->exit_code = 1;
    o->exception = type_name(value);
    o->memory_error = PyErr_GivenExceptionMatches(type, PyExc_MemoryError);
    o->keyboard_interrupt = PyErr_GivenExceptionMatches(type, PyExc_KeyboardInterrupt);
    o->assertion = PyErr_GivenExceptionMatches(type, PyExc_AssertionError);
    if (PyErr_GivenExceptionMatches(type, PyExc_SyntaxError)) {
        PyObject *ln = PyObject_GetAttrString(value, "lineno");
        o->line = ln && PyLong_Check(ln) ? PyLong_AsLong(ln) : 0;
        Py_XDECREF(ln);
        PyErr_Clear();
    } else {
        o->line = line_in_file(tb, filename);
    }
    if (compiling && PyErr_GivenExceptionMatches(type, PyExc_SyntaxError))
        o->error = syntax_error_message(value);
    if (!o->error) {
        /* "Type: message", as the last lines of a traceback give it (a message
         * with newlines in it keeps them). */
        o->error = format_with_traceback("format_exception_only", value);
        strip_trailing_newlines(o->error);
        if (o->error && PyErr_GivenExceptionMatches(type, PyExc_SyntaxError))
            drop_location_lines(o->error);
    }
    o->error_detail = format_with_traceback("format_exception", value);
    if (!o->error)
        o->error = o->exception ? strdup(o->exception) : NULL;
    o->error = clip(o->error, ERROR_MAX, false);
    o->error_detail = clip(o->error_detail, DETAIL_MAX, true);
    /* Printing goes last: sys.excepthook is the program's to replace. */
    Py_XINCREF(type);
    Py_XINCREF(value);
    Py_XINCREF(tb);
    PyErr_Restore(type, value, tb);
    PyErr_PrintEx(0);
out:
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
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
    PyObject *json = PyImport_ImportModule("json");
    PyObject *values = json ? PyObject_CallMethod(json, "loads", "s", json_text) : NULL;
    int rc = values && PyDict_Check(values) ? PyDict_Update(dict, values) : -1;
    if (values && !PyDict_Check(values))
        PyErr_SetString(PyExc_TypeError, "globals must be a JSON object");
    Py_XDECREF(values);
    Py_XDECREF(json);
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

/* A fresh module named __main__, registered in sys.modules. New reference. */
/* Looked up once, in the zygote (rb_coderunner_prepare): in a worker each
 * lookup through the import system or a type's attributes writes to cold
 * pages of the zygote, and every page written is a page copied. */
static struct {
    PyObject *builtins;  /* the builtins module */
    PyObject *modules;   /* sys.modules */
    PyObject *gc_count;  /* gc.get_count */
    PyObject *gc_collect; /* gc.collect */
} cached;

int rb_coderunner_prepare(void)
{
    PyObject *gc = PyImport_ImportModule("gc");
    cached.builtins = PyImport_ImportModule("builtins");
    cached.modules = PyImport_GetModuleDict(); /* borrowed, lives as long as the interpreter */
    cached.gc_count = gc ? PyObject_GetAttrString(gc, "get_count") : NULL;
    cached.gc_collect = gc ? PyObject_GetAttrString(gc, "collect") : NULL;
    Py_XDECREF(gc);
    if (!cached.builtins || !cached.modules || !cached.gc_count || !cached.gc_collect) {
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
 * else -1 with the exception turned into `o` (and printed). */
static int run_code(const char *source, size_t len, const char *filename, PyObject *dict,
                    struct outcome *o, void **reserve)
{
    PyObject *code = NULL;
    if (strlen(source) != len) {
        PyErr_SetString(PyExc_SyntaxError, "source code cannot contain null bytes");
    } else {
        PyCompilerFlags flags = _PyCompilerFlags_INIT;
        code = Py_CompileStringExFlags(source, filename, Py_file_input, &flags, -1);
    }
    PyObject *result = code ? PyEval_EvalCode(code, dict, dict) : NULL;
    /* The reserve goes back before anything is reported, so a program that
     * used up its memory still gets its MemoryError into the record. */
    free(*reserve);
    *reserve = NULL;
    Py_XDECREF(code);
    if (result) {
        Py_DECREF(result);
        return 0;
    }
    outcome_from_exception(o, code == NULL, filename);
    return -1;
}

/* python3 -m NAME's message for a module that does not exist, without the
 * traceback of runpy's machinery; the record gets the ModuleNotFoundError. */
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
    PyObject *exe = PySys_GetObject("executable"); /* borrowed */
    const char *e = exe && PyUnicode_Check(exe) ? PyUnicode_AsUTF8(exe) : "python3";
    PySys_FormatStderr("%s: No module named %s\n", e, name);
    o->kind = RB_OUTCOME_EXCEPTION;
    o->exit_code = 1;
    o->exception = strdup("ModuleNotFoundError");
    size_t len = strlen(name) + 64;
    o->error = malloc(len);
    if (o->error)
        snprintf(o->error, len, "ModuleNotFoundError: No module named '%s'", name);
    PyErr_Clear();
    return true;
}

/* The program's main module, run the way its mode says; 0 when it ran to
 * its end. Directories, zip apps and -m modules go through runpy exactly as
 * python3 does it, so their tracebacks show the same frames. */
static int run_main(const struct rb_program *p, PyObject *dict, struct outcome *o, void **reserve)
{
    if (p->mode == RB_RUN_SOURCE)
        return run_code(p->source, p->source_len, p->filename, dict, o, reserve);
    if (p->mode == RB_RUN_MODULE && module_is_missing(p->target, o)) {
        free(*reserve);
        *reserve = NULL;
        return -1;
    }
    PyObject *runpy = PyImport_ImportModule("runpy");
    PyObject *r = runpy ? PyObject_CallMethod(runpy, "_run_module_as_main", "si",
                                              p->mode == RB_RUN_MODULE ? p->target : "__main__",
                                              p->mode == RB_RUN_MODULE)
                        : NULL;
    Py_XDECREF(runpy);
    free(*reserve);
    *reserve = NULL;
    if (r) {
        Py_DECREF(r);
        return 0;
    }
    PyObject *file = PyDict_GetItemString(dict, "__file__"); /* borrowed */
    char *name = utf8_of(file);
    outcome_from_exception(o, false, name ? name : p->filename);
    free(name);
    return -1;
}

/* The named globals, for the record: JSON values as they are, anything else
 * as {"$repr": repr(value)}, a value whose repr raises as {"$error": ...};
 * absent names are left out. At most `limit` bytes of JSON. */
static void capture_namespace(PyObject *dict, const struct rb_program *p, struct outcome *o)
{
    if (!p->ncapture)
        return;
    o->namespace = cJSON_CreateObject();
    PyObject *json = PyImport_ImportModule("json");
    size_t used = 2;
    for (size_t i = 0; o->namespace && json && i < p->ncapture; i++) {
        PyObject *value = PyDict_GetItemString(dict, p->capture[i]); /* borrowed */
        if (!value)
            continue;
        Py_INCREF(value);
        cJSON *item = NULL;
        PyObject *text = PyObject_CallMethod(json, "dumps", "O", value);
        const char *t = text ? PyUnicode_AsUTF8(text) : NULL;
        if (t)
            item = cJSON_Parse(t);
        PyErr_Clear();
        if (!item) {
            PyObject *repr = PyObject_Repr(value);
            char *r = utf8_of(repr);
            item = cJSON_CreateObject();
            if (r) {
                cJSON_AddStringToObject(item, "$repr", r);
            } else {
                /* The exception is the record's, not the program's: not printed. */
                PyObject *type, *exc, *tb;
                PyErr_Fetch(&type, &exc, &tb);
                PyErr_NormalizeException(&type, &exc, &tb);
                char *why = exc ? format_with_traceback("format_exception_only", exc) : NULL;
                strip_trailing_newlines(why);
                cJSON_AddStringToObject(item, "$error", why ? why : "repr() failed");
                free(why);
                Py_XDECREF(type);
                Py_XDECREF(exc);
                Py_XDECREF(tb);
            }
            free(r);
            Py_XDECREF(repr);
            PyErr_Clear();
        }
        Py_XDECREF(text);
        Py_DECREF(value);
        char *printed = item ? cJSON_PrintUnformatted(item) : NULL;
        size_t need = (printed ? strlen(printed) : 0) + strlen(p->capture[i]) + 4;
        cJSON_free(printed);
        if (!item || used + need > p->capture_limit) {
            cJSON_Delete(item);
            o->namespace_truncated = true;
            continue;
        }
        used += need;
        cJSON_AddItemToObject(o->namespace, p->capture[i], item);
    }
    Py_XDECREF(json);
    PyErr_Clear();
}

/* Runs the checks after a program that completed. A failing check is
 * recorded and the next one runs; an exit or a KeyboardInterrupt ends the
 * program there, as it would have in one file. */
static void run_checks(const struct rb_program *p, PyObject *dict, int status_fd,
                       const unsigned char *nonce, struct outcome *o, long *failed)
{
    size_t i = 0;
    for (; i < p->nchecks; i++) {
        struct outcome c = { .kind = RB_OUTCOME_COMPLETED };
        void *reserve = malloc(RESERVE_BYTES);
        const struct rb_program_check *ch = &p->checks[i];
        int rc = run_code(ch->source, strlen(ch->source), ch->filename, dict, &c, &reserve);
        if (rc == 0) {
            check_line_write(status_fd, nonce, i, "passed", NULL);
            outcome_free(&c);
            continue;
        }
        if (strcmp(c.kind, RB_OUTCOME_EXIT) == 0 || c.keyboard_interrupt) {
            check_line_write(status_fd, nonce, i, "error", &c);
            outcome_free(o);
            *o = c;
            return;
        }
        check_line_write(status_fd, nonce, i, c.assertion ? "failed" : "error", &c);
        if ((*failed)++ == 0) {
            /* The first failure speaks for the program, as it would have
             * ended the program in one file. */
            char *doc = o->doc;
            o->doc = NULL;
            outcome_free(o);
            *o = c;
            o->kind = RB_OUTCOME_COMPLETED;
            o->doc = doc;
        } else {
            outcome_free(&c);
        }
    }
}

int rb_coderunner_run(const struct rb_program *p, int status_fd,
                      unsigned char nonce[RBZ_NONCE_BYTES], bool *sigint)
{
    struct outcome o = { .kind = RB_OUTCOME_COMPLETED };
    void *reserve = malloc(RESERVE_BYTES);
    PyObject *main = NULL;
    long failed = 0;
    *sigint = false;
    if (!cached.builtins)
        rb_coderunner_prepare(); /* not forked from a zygote that did it (tests) */

    if (set_sys_argv(p) < 0 || set_sys_path(p) < 0 || !(main = fresh_main_module(p->filename)) ||
        inject_globals(PyModule_GetDict(main), p->globals_json) < 0 ||
        (p->mode == RB_RUN_SOURCE && set_package(PyModule_GetDict(main), p) < 0)) {
        free(reserve);
        reserve = NULL;
        outcome_from_exception(&o, false, p->filename);
        goto report;
    }
    PyObject *dict = PyModule_GetDict(main); /* borrowed */
    int rc = run_main(p, dict, &o, &reserve);
    PyObject *doc = PyDict_GetItemString(dict, "__doc__"); /* borrowed */
    o.doc = clip(utf8_of(doc), DOC_MAX, false);
    if (rc == 0)
        run_checks(p, dict, status_fd, nonce, &o, &failed);
    if (failed > 0 && strcmp(o.kind, RB_OUTCOME_COMPLETED) == 0)
        o.exit_code = 1;
    capture_namespace(dict, p, &o);

report:
    free(reserve);
    status_record_write(status_fd, nonce, &o, failed);
    close(status_fd);
    /* Nothing after this point may speak for the program. */
    explicit_bzero(nonce, RBZ_NONCE_BYTES);
    *sigint = o.keyboard_interrupt;
    int exit_code = o.exit_code;
    outcome_free(&o);
    shut_down_like_python3(main);
    Py_XDECREF(main);
    return exit_code;
}
