/*
 * Python values to and from their type-tagged JSON (pyvalues.h).
 *
 * Reference counts: every new reference is released on every path;
 * borrowed ones are marked at their line.
 */
#include "pyvalues.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rb_text_append(struct rb_text *t, const char *s, size_t n)
{
    if (t->failed)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *d = realloc(t->data, cap);
        if (!d) {
            t->failed = true;
            return;
        }
        t->data = d;
        t->cap = cap;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}

static void append_str(struct rb_text *t, const char *s)
{
    rb_text_append(t, s, strlen(s));
}

void rb_text_free(struct rb_text *t)
{
    free(t->data);
    memset(t, 0, sizeof *t);
}

/* ---- tagged to Python ---------------------------------------------------------- */

static PyObject *bytes_from_base64(const char *s)
{
    PyObject *binascii = PyImport_ImportModule("binascii");
    PyObject *r = binascii ? PyObject_CallMethod(binascii, "a2b_base64", "s", s) : NULL;
    Py_XDECREF(binascii);
    return r;
}

static PyObject *float_of(const char *s)
{
    double d;
    if (strcmp(s, "nan") == 0)
        d = NAN;
    else if (strcmp(s, "inf") == 0)
        d = INFINITY;
    else if (strcmp(s, "-inf") == 0)
        d = -INFINITY;
    else {
        d = PyOS_string_to_double(s, NULL, NULL);
        if (d == -1.0 && PyErr_Occurred())
            return NULL;
    }
    return PyFloat_FromDouble(d);
}

static PyObject *from_tagged(const cJSON *j, int depth);

/* The items after the tag, as a new list. */
static PyObject *items_list(const cJSON *first, int depth)
{
    PyObject *list = PyList_New(0);
    for (const cJSON *c = first; list && c; c = c->next) {
        PyObject *item = from_tagged(c, depth + 1);
        if (!item || PyList_Append(list, item) < 0)
            Py_CLEAR(list);
        Py_XDECREF(item);
    }
    return list;
}

static PyObject *from_tagged(const cJSON *j, int depth)
{
    if (depth > 200) {
        PyErr_SetString(PyExc_ValueError, "runbox: an argument nested deeper than 200 levels");
        return NULL;
    }
    if (cJSON_IsNull(j))
        Py_RETURN_NONE;
    if (cJSON_IsBool(j))
        return PyBool_FromLong(cJSON_IsTrue(j));
    if (cJSON_IsString(j))
        return PyUnicode_DecodeUTF8(j->valuestring, (Py_ssize_t)strlen(j->valuestring), "surrogatepass");
    const cJSON *tag = cJSON_IsArray(j) ? j->child : NULL;
    const char *t = cJSON_GetStringValue(tag);
    const cJSON *first = tag ? tag->next : NULL;
    const char *s1 = cJSON_GetStringValue(first);
    if (!t) {
        PyErr_SetString(PyExc_ValueError, "runbox: an argument that is not a tagged value");
        return NULL;
    }
    if (strcmp(t, "i") == 0 && s1)
        return PyLong_FromString(s1, NULL, 0);
    if (strcmp(t, "f") == 0 && s1)
        return float_of(s1);
    if (strcmp(t, "c") == 0 && s1 && cJSON_GetStringValue(first->next)) {
        PyObject *re = float_of(s1), *im = re ? float_of(first->next->valuestring) : NULL;
        PyObject *r = im ? PyComplex_FromDoubles(PyFloat_AS_DOUBLE(re), PyFloat_AS_DOUBLE(im)) : NULL;
        Py_XDECREF(re);
        Py_XDECREF(im);
        return r;
    }
    if (strcmp(t, "cs") == 0 && s1)
        return PyObject_CallFunction((PyObject *)&PyComplex_Type, "s", s1);
    if (strcmp(t, "b") == 0 && s1)
        return bytes_from_base64(s1);
    PyObject *list = NULL;
    if (strcmp(t, "l") == 0)
        return items_list(first, depth);
    if (strcmp(t, "t") == 0 && (list = items_list(first, depth))) {
        PyObject *r = PyList_AsTuple(list);
        Py_DECREF(list);
        return r;
    }
    if (strcmp(t, "set") == 0 && (list = items_list(first, depth))) {
        PyObject *r = PySet_New(list);
        Py_DECREF(list);
        return r;
    }
    if (strcmp(t, "fs") == 0 && (list = items_list(first, depth))) {
        PyObject *r = PyFrozenSet_New(list);
        Py_DECREF(list);
        return r;
    }
    if (strcmp(t, "d") == 0) {
        PyObject *dict = PyDict_New();
        for (const cJSON *k = first; dict && k; k = k->next ? k->next->next : NULL) {
            PyObject *key = from_tagged(k, depth + 1);
            PyObject *value = key && k->next ? from_tagged(k->next, depth + 1) : NULL;
            if (!value || PyDict_SetItem(dict, key, value) < 0)
                Py_CLEAR(dict);
            Py_XDECREF(key);
            Py_XDECREF(value);
        }
        return dict;
    }
    if (!PyErr_Occurred())
        PyErr_Format(PyExc_ValueError, "runbox: an argument with an unknown tag '%.20s'", t);
    return NULL;
}

PyObject *rb_pyvalue_from_tagged(const cJSON *tagged)
{
    return from_tagged(tagged, 0);
}

/* ---- Python to tagged ------------------------------------------------------------ */

struct writer {
    struct rb_text *out;
    size_t start, max;
    bool whole;
};

static bool over(struct writer *w)
{
    return w->out->len - w->start > w->max;
}

/* A JSON string of UTF-8 text, escaped. */
static void json_string(struct rb_text *t, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    rb_text_append(t, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        rb_text_append(t, s + run, i - run);
        run = i + 1;
        char esc[2] = { '\\', (char)c };
        if (c == '"' || c == '\\') {
            rb_text_append(t, esc, 2);
        } else if (c == '\n') {
            rb_text_append(t, "\\n", 2);
        } else {
            char u[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0 };
            rb_text_append(t, u, 6);
        }
    }
    rb_text_append(t, s + run, n - run);
    rb_text_append(t, "\"", 1);
}

static void float_repr(struct rb_text *t, double d)
{
    char *r = PyOS_double_to_string(d, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (!r) {
        PyErr_Clear();
        append_str(t, "\"nan\"");
        return;
    }
    rb_text_append(t, "\"", 1);
    append_str(t, r);
    rb_text_append(t, "\"", 1);
    PyMem_Free(r);
}

/* An int's digits: decimal, or hexadecimal past the interpreter's limit on
 * decimal conversions (sys.get_int_max_str_digits), which the supervisor
 * reads as well. */
static void int_digits(struct rb_text *t, PyObject *v)
{
    PyObject *s = PyObject_Str(v); /* an exact int: the interpreter's own code */
    if (!s) {
        PyErr_Clear();
        s = PyNumber_ToBase(v, 16);
    }
    Py_ssize_t n;
    const char *u = s ? PyUnicode_AsUTF8AndSize(s, &n) : NULL;
    if (u) {
        rb_text_append(t, "[\"i\",", 5);
        json_string(t, u, (size_t)n);
        rb_text_append(t, "]", 1);
    } else {
        PyErr_Clear();
        append_str(t, "[\"x\",\"int\",\"?\"]");
    }
    Py_XDECREF(s);
}

static void other(struct writer *w, PyObject *v, const char *why)
{
    const char *name = Py_TYPE(v)->tp_name;
    rb_text_append(w->out, "[\"x\",", 5);
    json_string(w->out, name, strlen(name));
    rb_text_append(w->out, ",", 1);
    PyObject *repr = why ? NULL : PyObject_Repr(v);
    Py_ssize_t n = 0;
    const char *r = repr ? PyUnicode_AsUTF8AndSize(repr, &n) : NULL;
    if (!r) {
        PyErr_Clear();
        r = why ? why : "<repr failed>";
        n = (Py_ssize_t)strlen(r);
    }
    json_string(w->out, r, (size_t)(n > 200 ? 200 : n));
    rb_text_append(w->out, "]", 1);
    Py_XDECREF(repr);
}

static void write_value(struct writer *w, PyObject *v, int depth);

static void write_items(struct writer *w, const char *tag, PyObject *seq, int depth)
{
    append_str(w->out, tag);
    PyObject *fast = PySequence_Fast(seq, "");
    Py_ssize_t n = fast ? PySequence_Fast_GET_SIZE(fast) : 0;
    for (Py_ssize_t i = 0; i < n && !over(w); i++) {
        rb_text_append(w->out, ",", 1);
        write_value(w, PySequence_Fast_GET_ITEM(fast, i), depth + 1); /* borrowed */
    }
    Py_XDECREF(fast);
    PyErr_Clear();
    rb_text_append(w->out, "]", 1);
}

static void write_set(struct writer *w, const char *tag, PyObject *set, int depth)
{
    append_str(w->out, tag);
    Py_ssize_t pos = 0;
    PyObject *key; /* borrowed */
    Py_hash_t hash;
    while (_PySet_NextEntry(set, &pos, &key, &hash) && !over(w)) {
        rb_text_append(w->out, ",", 1);
        write_value(w, key, depth + 1);
    }
    rb_text_append(w->out, "]", 1);
}

static void write_dict(struct writer *w, PyObject *dict, int depth)
{
    append_str(w->out, "[\"d\"");
    Py_ssize_t pos = 0;
    PyObject *key, *value; /* borrowed */
    while (PyDict_Next(dict, &pos, &key, &value) && !over(w)) {
        rb_text_append(w->out, ",", 1);
        write_value(w, key, depth + 1);
        rb_text_append(w->out, ",", 1);
        write_value(w, value, depth + 1);
    }
    rb_text_append(w->out, "]", 1);
}

static void base64(struct rb_text *t, const unsigned char *s, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    rb_text_append(t, "[\"b\",\"", 6);
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) | (i + 2 < n ? s[i + 2] : 0);
        char q[4] = { tbl[v >> 18 & 63], tbl[v >> 12 & 63], i + 1 < n ? tbl[v >> 6 & 63] : '=', i + 2 < n ? tbl[v & 63] : '=' };
        rb_text_append(t, q, 4);
    }
    rb_text_append(t, "\"]", 2);
}

static void write_value(struct writer *w, PyObject *v, int depth)
{
    if (depth > 100) {
        other(w, v, "nested deeper than 100 levels (or containing itself)");
        w->whole = false;
        return;
    }
    if (v == Py_None) {
        append_str(w->out, "null");
    } else if (PyBool_Check(v)) {
        append_str(w->out, v == Py_True ? "true" : "false");
    } else if (PyLong_CheckExact(v)) {
        int_digits(w->out, v);
    } else if (PyLong_Check(v)) {
        PyObject *exact = PyNumber_Index(v); /* an int subclass (IntEnum...): its value */
        if (exact && PyLong_CheckExact(exact))
            int_digits(w->out, exact);
        else
            other(w, v, NULL);
        Py_XDECREF(exact);
        PyErr_Clear();
    } else if (PyFloat_Check(v)) {
        rb_text_append(w->out, "[\"f\",", 5);
        float_repr(w->out, PyFloat_AS_DOUBLE(v));
        rb_text_append(w->out, "]", 1);
    } else if (PyComplex_Check(v)) {
        rb_text_append(w->out, "[\"c\",", 5);
        float_repr(w->out, PyComplex_RealAsDouble(v));
        rb_text_append(w->out, ",", 1);
        float_repr(w->out, PyComplex_ImagAsDouble(v));
        rb_text_append(w->out, "]", 1);
    } else if (PyUnicode_Check(v)) {
        Py_ssize_t n;
        const char *u = PyUnicode_AsUTF8AndSize(v, &n);
        if (u) {
            json_string(w->out, u, (size_t)n);
        } else {
            /* Lone surrogates: no JSON text can carry them. */
            PyErr_Clear();
            other(w, v, NULL);
        }
    } else if (PyBytes_Check(v)) {
        base64(w->out, (const unsigned char *)PyBytes_AS_STRING(v), (size_t)PyBytes_GET_SIZE(v));
    } else if (PyByteArray_Check(v)) {
        base64(w->out, (const unsigned char *)PyByteArray_AS_STRING(v), (size_t)PyByteArray_GET_SIZE(v));
    } else if (PyList_Check(v)) {
        write_items(w, "[\"l\"", v, depth);
    } else if (PyTuple_Check(v)) {
        write_items(w, "[\"t\"", v, depth);
    } else if (PyFrozenSet_Check(v)) {
        write_set(w, "[\"fs\"", v, depth);
    } else if (PyAnySet_Check(v)) {
        write_set(w, "[\"set\"", v, depth);
    } else if (PyDict_Check(v)) {
        write_dict(w, v, depth);
    } else if (Py_TYPE(v)->tp_as_number && Py_TYPE(v)->tp_as_number->nb_index) {
        /* Another integer type (numpy.int64): Python compares it by value. */
        PyObject *exact = PyNumber_Index(v);
        if (exact && PyLong_CheckExact(exact))
            int_digits(w->out, exact);
        else
            other(w, v, NULL);
        Py_XDECREF(exact);
        PyErr_Clear();
    } else {
        other(w, v, NULL);
    }
}

bool rb_pyvalue_to_tagged(PyObject *v, struct rb_text *out, size_t max)
{
    struct writer w = { out, out->len, max, true };
    write_value(&w, v, 0);
    if (over(&w)) {
        out->len = w.start;
        if (out->data)
            out->data[out->len] = '\0';
        char why[96];
        snprintf(why, sizeof why, "larger than %zu bytes as JSON", max);
        other(&w, v, why);
        w.whole = false;
    }
    PyErr_Clear();
    return w.whole && !out->failed;
}
