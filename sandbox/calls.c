/*
 * Function-call tests, in the worker (calls.h).
 *
 * After the program's main module completed, its entry point (a function,
 * or a method of one instance of a class, as LeetCode-style problems define
 * it) is called once per test, with arguments rebuilt from their tagged
 * JSON for every call, under the test's time limit. What each call did (its
 * return value, type-tagged, or the exception it raised, or that its time
 * ran out) goes to the supervisor, which compares it with the expected
 * value: the expected values are never in this process.
 *
 * The time limit works as evalplus's does: an alarm whose handler raises
 * TimeoutError in the call. A call that swallows it, or that is stuck in
 * code that never checks for signals, runs on until the job's own deadline,
 * which the supervisor enforces by killing the process.
 */
#define _GNU_SOURCE
#include "calls.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "protocol.h"
#include "pyvalues.h"
#include "report.h"

/* Results are sent in batches of about this size, or this often. */
#define BATCH_BYTES (16 * 1024)
#define BATCH_NS (50 * 1000000LL)
#define DEFAULT_VALUE_MAX (1u << 20)

static struct {
    PyObject *signal_signal; /* signal.signal, looked up in the zygote */
    PyObject *alarm_handler; /* ours, a C function */
    PyObject *format_exception_only;
} cached;

static volatile bool call_timed_out;
static double call_limit;

static PyObject *on_alarm(PyObject *self, PyObject *args)
{
    (void)self;
    (void)args;
    call_timed_out = true;
    char msg[96];
    snprintf(msg, sizeof msg, "the call took longer than its time limit of %g s", call_limit);
    PyErr_SetString(PyExc_TimeoutError, msg);
    return NULL;
}

static PyMethodDef ALARM_DEF = { "runbox_call_alarm", on_alarm, METH_VARARGS, NULL };

int rb_calls_prepare(void)
{
    PyObject *sig = PyImport_ImportModule("signal");
    PyObject *tb = PyImport_ImportModule("traceback");
    cached.signal_signal = sig ? PyObject_GetAttrString(sig, "signal") : NULL;
    cached.format_exception_only = tb ? PyObject_GetAttrString(tb, "format_exception_only") : NULL;
    cached.alarm_handler = PyCFunction_New(&ALARM_DEF, NULL);
    Py_XDECREF(sig);
    Py_XDECREF(tb);
    if (!cached.signal_signal || !cached.alarm_handler || !cached.format_exception_only) {
        PyErr_Clear();
        return -1;
    }
    return 0;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void set_alarm(double seconds)
{
    struct itimerval it = { 0 };
    if (seconds > 0) {
        it.it_value.tv_sec = (time_t)seconds;
        it.it_value.tv_usec = (suseconds_t)((seconds - (double)it.it_value.tv_sec) * 1e6);
        if (it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0)
            it.it_value.tv_usec = 1;
    }
    setitimer(ITIMER_REAL, &it, NULL);
}

struct batch {
    struct rb_text text;
    size_t count;
    int64_t since;
};

static void batch_flush(struct batch *b)
{
    if (!b->count)
        return;
    rb_text_append(&b->text, "]}", 2);
    if (!b->text.failed)
        rb_report_send_text(b->text.data, b->text.len);
    b->text.len = 0;
    b->count = 0;
    b->since = now_ns();
}

static void batch_open(struct batch *b)
{
    if (b->count == 0) {
        static const char head[] = "{\"" RBZ_ST_TYPE "\":\"" RBZ_ST_CALLS "\",\"" RBZ_ST_RESULTS "\":[";
        rb_text_append(&b->text, head, sizeof head - 1);
    } else {
        rb_text_append(&b->text, ",", 1);
    }
    b->count++;
}

static void json_str(struct rb_text *t, const char *s)
{
    cJSON *str = cJSON_CreateString(s ? s : "");
    char *p = str ? cJSON_PrintUnformatted(str) : NULL;
    if (p)
        rb_text_append(t, p, strlen(p));
    else
        rb_text_append(t, "\"\"", 2);
    cJSON_free(p);
    cJSON_Delete(str);
}

/* The exception's type name, read from the type object, and its line. */
static void describe_exception(struct rb_text *t, PyObject *type, PyObject *value)
{
    const char *name = ((PyTypeObject *)type)->tp_name;
    const char *dot = strrchr(name, '.');
    rb_text_append(t, ",\"" RBZ_ST_EXCEPTION "\":", sizeof ",\"" RBZ_ST_EXCEPTION "\":" - 1);
    json_str(t, dot ? dot + 1 : name);
    PyObject *lines = value ? PyObject_CallOneArg(cached.format_exception_only, value) : NULL;
    PyObject *empty = lines ? PyUnicode_FromString("") : NULL;
    PyObject *joined = empty ? PyUnicode_Join(empty, lines) : NULL;
    const char *text = joined ? PyUnicode_AsUTF8(joined) : NULL;
    if (text) {
        char clipped[1024];
        snprintf(clipped, sizeof clipped, "%s", text);
        size_t n = strlen(clipped);
        while (n > 0 && (clipped[n - 1] == '\n' || (clipped[n - 1] & 0xc0) == 0x80))
            clipped[--n] = '\0'; /* no trailing newline, no cut character */
        rb_text_append(t, ",\"" RBZ_ST_ERROR "\":", sizeof ",\"" RBZ_ST_ERROR "\":" - 1);
        json_str(t, clipped);
    }
    Py_XDECREF(joined);
    Py_XDECREF(empty);
    Py_XDECREF(lines);
    PyErr_Clear();
}

/* What is called: the entry point, or a method of one instance of the
 * class. A new reference, or NULL with an exception set. */
static PyObject *target_of(const struct rb_program *p, PyObject *dict)
{
    if (!p->entry_point) {
        PyErr_SetString(PyExc_NameError, "runbox: no entry point given for the function-call tests");
        return NULL;
    }
    if (p->entry_class) {
        PyObject *cls = PyDict_GetItemString(dict, p->entry_class); /* borrowed */
        if (!cls) {
            PyErr_Format(PyExc_NameError, "name '%s' is not defined", p->entry_class);
            return NULL;
        }
        PyObject *obj = PyObject_CallNoArgs(cls);
        PyObject *method = obj ? PyObject_GetAttrString(obj, p->entry_point) : NULL;
        Py_XDECREF(obj);
        return method;
    }
    PyObject *fn = PyDict_GetItemString(dict, p->entry_point); /* borrowed */
    if (!fn) {
        PyErr_Format(PyExc_NameError, "name '%s' is not defined", p->entry_point);
        return NULL;
    }
    Py_INCREF(fn);
    return fn;
}

/* One call's result into the batch. */
static bool call_one(const struct rb_program *p, size_t i, PyObject *target, struct batch *b)
{
    const struct rbz_spec_call *c = &p->calls[i];
    PyObject *type = NULL, *value = NULL, *tb = NULL, *result = NULL;
    PyObject *args = rb_pyvalue_from_tagged(c->args);
    PyObject *tuple = args ? PySequence_Tuple(args) : NULL;
    int64_t t0 = now_ns(), t1 = t0;
    call_timed_out = false;
    if (tuple && target) {
        call_limit = c->timeout;
        PyObject *r = PyObject_CallFunction(cached.signal_signal, "iO", SIGALRM, cached.alarm_handler);
        Py_XDECREF(r);
        PyErr_Clear();
        t0 = now_ns();
        set_alarm(c->timeout);
        result = PyObject_Call(target, tuple, NULL);
        set_alarm(0);
        t1 = now_ns();
    }
    if (!result)
        PyErr_Fetch(&type, &value, &tb);
    const char *outcome = result ? RBZ_CALL_RETURNED : call_timed_out ? RBZ_CALL_TIMEOUT : RBZ_CALL_RAISED;
    batch_open(b);
    char head[160];
    snprintf(head, sizeof head, "{\"" RBZ_ST_INDEX "\":%zu,\"" RBZ_ST_OUTCOME "\":\"%s\",\"" RBZ_ST_TIME "\":%.9f",
             i, outcome, (double)(t1 - t0) / 1e9);
    rb_text_append(&b->text, head, strlen(head));
    if (result) {
        rb_text_append(&b->text, ",\"" RBZ_ST_VALUE "\":", sizeof ",\"" RBZ_ST_VALUE "\":" - 1);
        size_t max = p->value_max ? p->value_max : DEFAULT_VALUE_MAX;
        rb_pyvalue_to_tagged(result, &b->text, max);
    } else if (type) {
        PyErr_NormalizeException(&type, &value, &tb);
        PyErr_Clear();
        describe_exception(&b->text, type, value);
    }
    rb_text_append(&b->text, "}", 1);
    Py_XDECREF(result);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    Py_XDECREF(tuple);
    Py_XDECREF(args);
    PyErr_Clear();
    if (b->text.len >= BATCH_BYTES || now_ns() - b->since >= BATCH_NS)
        batch_flush(b);
    return result != NULL;
}

void rb_calls_run(const struct rb_program *p, PyObject *dict)
{
    struct batch b = { .since = now_ns() };
    PyObject *target = target_of(p, dict);
    PyObject *etype = NULL, *evalue = NULL, *etb = NULL;
    if (!target) {
        /* Every call would fail the same way: the first says how. */
        PyErr_Fetch(&etype, &evalue, &etb);
        PyErr_NormalizeException(&etype, &evalue, &etb);
        PyErr_Clear();
        batch_open(&b);
        char head[96];
        snprintf(head, sizeof head, "{\"" RBZ_ST_INDEX "\":0,\"" RBZ_ST_OUTCOME "\":\"" RBZ_CALL_RAISED "\"");
        rb_text_append(&b.text, head, strlen(head));
        if (etype)
            describe_exception(&b.text, etype, evalue);
        rb_text_append(&b.text, "}", 1);
        Py_XDECREF(etype);
        Py_XDECREF(evalue);
        Py_XDECREF(etb);
        batch_flush(&b);
        rb_text_free(&b.text);
        return;
    }
    double stopped_group = -1;
    for (size_t i = 0; i < p->ncalls; i++) {
        if (p->calls[i].group == stopped_group)
            continue; /* not run: the group stopped at its first failure */
        bool returned = call_one(p, i, target, &b);
        if (!returned && !p->all_tests)
            stopped_group = p->calls[i].group;
    }
    batch_flush(&b);
    rb_text_free(&b.text);
    Py_DECREF(target);
}
