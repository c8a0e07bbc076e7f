/*
 * What a program's exception means, and how it is told (outcome.h).
 *
 * Split in two on purpose. rb_verdict_of decides a verdict from C state
 * alone (the exception's type object, SystemExit's code slot), so it can
 * run the moment the program's code returns to C, before any Python code
 * runs again. rb_describe and rb_print_raised format the error, the
 * traceback and its source lines, which calls the program's own code (its
 * exception's __str__, sys.excepthook): they run only after the verdict is
 * out (coderunner.c).
 *
 * Reference counts: every new reference is released on every path; borrowed
 * ones are marked at their line.
 */
#include "outcome.h"

#include <stdlib.h>
#include <string.h>

/* traceback's formatters and linecache, looked up once in the zygote and
 * held here, so that a program replacing sys.modules["traceback"] or the
 * module's attributes changes nothing in what runbox reports. */
static struct {
    PyObject *format_exception;
    PyObject *format_exception_only;
    PyObject *print_exception;
    PyObject *linecache;  /* the module: its `cache` is looked up when needed */
} cached;

int rb_outcome_prepare(void)
{
    PyObject *traceback = PyImport_ImportModule("traceback");
    cached.format_exception = traceback ? PyObject_GetAttrString(traceback, "format_exception") : NULL;
    cached.format_exception_only =
        traceback ? PyObject_GetAttrString(traceback, "format_exception_only") : NULL;
    cached.print_exception = traceback ? PyObject_GetAttrString(traceback, "print_exception") : NULL;
    cached.linecache = PyImport_ImportModule("linecache");
    Py_XDECREF(traceback);
    if (!cached.format_exception || !cached.format_exception_only || !cached.print_exception ||
        !cached.linecache) {
        PyErr_Clear();
        return -1;
    }
    return 0;
}

/* The program being run, for the source lines of its tracebacks. */
static const struct rb_program *running;
static bool sources_registered;

void rb_outcome_set_program(const struct rb_program *p)
{
    running = p;
    sources_registered = false;
}

/* Puts the program's and its checks' source into linecache, so tracebacks
 * show their lines as python3 shows a file's: a `source` job, an eval
 * program or a check is no file linecache could read, and a file job's may
 * not be readable by name from inside the sandbox. Done once, and only when
 * a traceback is about to be formatted: a job that does not fail pays
 * nothing. An entry with no mtime is one linecache.checkcache leaves alone. */
static void register_sources(void)
{
    if (sources_registered || !running || !cached.linecache)
        return;
    sources_registered = true;
    PyObject *cache = PyObject_GetAttrString(cached.linecache, "cache");
    for (size_t i = 0; cache && PyDict_Check(cache) && i <= running->nchecks; i++) {
        const char *src = i == 0 ? running->source : running->checks[i - 1].source;
        const char *name = i == 0 ? running->filename : running->checks[i - 1].path;
        if (!src || !name || (i == 0 && running->mode != RB_RUN_SOURCE))
            continue;
        PyObject *text = PyUnicode_DecodeUTF8(src, (Py_ssize_t)strlen(src), "replace");
        PyObject *lines = text ? PyUnicode_Splitlines(text, 1) : NULL;
        PyObject *key = PyUnicode_DecodeFSDefault(name);
        PyObject *entry = lines && key ? Py_BuildValue("(nOOO)", PyUnicode_GET_LENGTH(text), Py_None, lines, key)
                                       : NULL;
        if (entry)
            PyDict_SetItem(cache, key, entry);
        Py_XDECREF(entry);
        Py_XDECREF(key);
        Py_XDECREF(lines);
        Py_XDECREF(text);
    }
    Py_XDECREF(cache);
    PyErr_Clear();
}

void rb_outcome_free(struct outcome *o)
{
    free(o->exception);
    free(o->error);
    free(o->error_detail);
    memset(o, 0, sizeof *o);
}

void rb_raised_clear(struct raised *r)
{
    Py_CLEAR(r->type);
    Py_CLEAR(r->value);
    Py_CLEAR(r->tb);
}

/* Takes the pending exception; false when there is none. */
bool rb_raised_take(struct raised *r, bool compiling)
{
    PyErr_Fetch(&r->type, &r->value, &r->tb);
    r->compiling = compiling;
    return r->type != NULL;
}

/* A malloc'd UTF-8 copy of a str (lone surrogates backslash-escaped), or NULL. */
char *rb_utf8_of(PyObject *str)
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
char *rb_clip(char *s, size_t max, bool keep_tail, bool *cut)
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
        char *s = rb_utf8_of(q);
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
void rb_verdict_of(struct outcome *o, const struct raised *r)
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

/* "".join(fn(exc)) with one of traceback's formatters, malloc'd, or NULL. */
static char *format_with(PyObject *fn, PyObject *exc)
{
    char *out = NULL;
    PyObject *lines = fn ? PyObject_CallOneArg(fn, exc) : NULL;
    PyObject *empty = lines ? PyUnicode_FromString("") : NULL;
    PyObject *joined = empty ? PyUnicode_Join(empty, lines) : NULL;
    if (joined)
        out = rb_utf8_of(joined);
    else
        PyErr_Clear();
    Py_XDECREF(joined);
    Py_XDECREF(empty);
    Py_XDECREF(lines);
    return out;
}

void rb_strip_trailing_newlines(char *s)
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
        char *fname = rb_utf8_of(filename);
        char *line = rb_utf8_of(text);
        rb_strip_trailing_newlines(line);
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
    char *text = rb_utf8_of(s);
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
void rb_describe(struct outcome *o, struct raised *r, const char *filename)
{
    if (!r->type)
        return;
    if (PyErr_GivenExceptionMatches(r->type, PyExc_SystemExit)) {
        if (o->exit_code != 0)
            o->error = system_exit_error(r);
        o->error = rb_clip(o->error, RBZ_ERROR_MAX, false, NULL);
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
        rb_strip_trailing_newlines(o->error);
        if (o->error && PyErr_GivenExceptionMatches(r->type, PyExc_SyntaxError))
            drop_location_lines(o->error);
    }
    register_sources();
    o->error_detail = format_with(cached.format_exception, r->value);
    if (!o->error && o->exception)
        o->error = strdup(o->exception);
    o->error = rb_clip(o->error, RBZ_ERROR_MAX, false, NULL);
    o->error_detail = rb_clip(o->error_detail, RBZ_ERROR_DETAIL_MAX, true, NULL);
}

/* Prints the exception the way python3 would, through sys.excepthook (the
 * program's to replace); SystemExit's non-integer code goes to stderr. The
 * verdict is out already, and `r` is given back to the interpreter. */
void rb_print_raised(struct raised *r)
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
        rb_raised_clear(r);
        PyErr_Clear();
        return;
    }
    register_sources();
    /* The interpreter's own printer reads source lines from files only;
     * traceback's finds them in linecache, where the program's source is:
     * with the default hook, print as it would, lines included. */
    PyObject *hook = PySys_GetObject("excepthook");          /* borrowed */
    PyObject *default_hook = PySys_GetObject("__excepthook__"); /* borrowed */
    if (hook && hook == default_hook && r->value && PyExceptionInstance_Check(r->value)) {
        PyObject *done = PyObject_CallOneArg(cached.print_exception, r->value);
        if (done) {
            Py_DECREF(done);
            rb_raised_clear(r);
            return;
        }
        PyErr_Clear();
    }
    PyErr_Restore(r->type, r->value, r->tb); /* steals them */
    r->type = r->value = r->tb = NULL;
    PyErr_PrintEx(0);
    PyErr_Clear();
}


char *rb_format_exception_only(PyObject *exc)
{
    char *s = format_with(cached.format_exception_only, exc);
    rb_strip_trailing_newlines(s);
    return s;
}
