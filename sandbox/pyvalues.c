/*
 * Python values to and from their type-tagged JSON (pyvalues.h).
 *
 * Reference counts: every new reference is released on every path;
 * borrowed ones are marked at their line.
 */
#include "pyvalues.h"

#include <math.h>
#include <stdint.h>
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
    if (strcmp(t, "z") == 0 && s1) {
        PyObject *b = bytes_from_base64(s1);
        PyObject *str = b ? PyUnicode_DecodeUTF8(PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b), "surrogatepass") : NULL;
        Py_XDECREF(b);
        return str;
    }
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
    /* Past `max`, the text goes into a digest as it is written, chunk by
     * chunk, and the value travels as ["h", digest, bytes]: two values with
     * the same text have the same digest, and the supervisor compares those
     * (MBPP+'s Mbpp/255 returns a gigabyte of tuples). */
    bool digesting;
    uint64_t h1, h2;     /* FNV-1a, two offsets: 128 bits */
    size_t digested;     /* bytes in the digest so far */
    /* An object of no tagged type was written (["x", ...], which equals
     * nothing): its repr is the program's, so a digest holding it would let
     * a wrong object pass as the right one; such a value travels as ["x"]. */
    bool untagged;
};

static void digest_flush(struct writer *w)
{
    const unsigned char *p = (const unsigned char *)w->out->data + w->start;
    size_t n = w->out->len - w->start;
    for (size_t i = 0; i < n; i++) {
        w->h1 = (w->h1 ^ p[i]) * 0x100000001b3ull;
        w->h2 = (w->h2 ^ p[i]) * 0x100000001b3ull;
    }
    w->digested += n;
    w->out->len = w->start;
    if (w->out->data)
        w->out->data[w->out->len] = '\0';
}

/* Called between items: past the limit, what was written goes into the
 * digest, so the text never holds more than the limit and one item. */
static bool over(struct writer *w)
{
    if (w->out->len - w->start > w->max) {
        if (!w->digesting) {
            w->digesting = true;
            w->h1 = 0xcbf29ce484222325ull;
            w->h2 = 0x84222325cbf29ce4ull;
        }
        digest_flush(w);
    }
    return false;
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

/* An int in the one form the supervisor compares without converting
 * anything (src/values.c): decimal below 10^4300, lowercase "0x" hex from
 * there on. The conversion happens here, on the job's own time: a program
 * may have lowered sys.set_int_max_str_digits, so the decimal digits are
 * made here rather than by str(), and hex, which has no limit, is linear.
 * 2^14284 < 10^4300 < 2^14285, so an int of up to 14,285 bits is tried in
 * decimal (at most 447 32-bit limbs: quadratic in that, a few µs). */
#define DECIMAL_BITS_MAX 14285
#define DECIMAL_DIGITS_MAX 4300

static bool int_decimal(struct rb_text *t, PyObject *v, size_t bits)
{
    size_t nbytes = bits / 8 + 1, nlimbs = (nbytes + 3) / 4;
    unsigned char bytes[DECIMAL_BITS_MAX / 8 + 8] = { 0 };
    uint32_t limb[(DECIMAL_BITS_MAX / 8 + 8) / 4 + 1];
    char digits[DECIMAL_DIGITS_MAX + 16];
    int sign = _PyLong_Sign(v);
    PyObject *mag = sign < 0 ? PyNumber_Negative(v) : (Py_INCREF(v), v); /* an exact int: no program code */
    if (!mag || _PyLong_AsByteArray((PyLongObject *)mag, bytes, nbytes, 1, 0) < 0) {
        Py_XDECREF(mag);
        PyErr_Clear();
        return false;
    }
    Py_DECREF(mag);
    for (size_t i = 0; i < nlimbs; i++)
        limb[i] = (uint32_t)bytes[4 * i] | (uint32_t)bytes[4 * i + 1] << 8 | (uint32_t)bytes[4 * i + 2] << 16 |
                  (uint32_t)bytes[4 * i + 3] << 24;
    /* Nine decimal digits at a time, least significant first. */
    size_t n = 0, used = nlimbs;
    while (used > 0 && limb[used - 1] == 0)
        used--;
    do {
        uint64_t rem = 0;
        for (size_t i = used; i-- > 0;) {
            uint64_t cur = rem << 32 | limb[i];
            limb[i] = (uint32_t)(cur / 1000000000u);
            rem = cur % 1000000000u;
        }
        while (used > 0 && limb[used - 1] == 0)
            used--;
        for (int k = 0; k < 9 && n < sizeof digits; k++, rem /= 10)
            digits[n++] = (char)('0' + rem % 10);
    } while (used > 0 && n < sizeof digits);
    while (n > 1 && digits[n - 1] == '0')
        n--;
    if (n > DECIMAL_DIGITS_MAX)
        return false;
    rb_text_append(t, "[\"i\",\"", 6);
    if (sign < 0)
        rb_text_append(t, "-", 1);
    for (size_t i = n; i-- > 0;)
        rb_text_append(t, &digits[i], 1);
    rb_text_append(t, "\"]", 2);
    return true;
}

static void int_digits(struct rb_text *t, PyObject *v)
{
    size_t bits = _PyLong_NumBits(v);
    if (bits == (size_t)-1)
        PyErr_Clear();
    else if (bits <= DECIMAL_BITS_MAX && int_decimal(t, v, bits))
        return;
    PyObject *s = PyNumber_ToBase(v, 16); /* "0x1f", "-0x1f": lowercase */
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
    w->untagged = true;
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

/* A container's items are read from its storage, never through its
 * methods: a subclass's __iter__, __getitem__, keys() or items() is the
 * program's code and could show anything (a list holding wrong items whose
 * __iter__ yields the right ones). They are copied first, with references
 * held, because code that does run while an item is written (an object's
 * repr, an int subclass's __index__) could empty the container under the
 * loop. */
static void write_list(struct writer *w, const char *tag, PyObject *items, int depth)
{
    append_str(w->out, tag);
    Py_ssize_t n = items ? PyList_GET_SIZE(items) : 0;
    for (Py_ssize_t i = 0; i < n && !over(w); i++) {
        rb_text_append(w->out, ",", 1);
        write_value(w, PyList_GET_ITEM(items, i), depth + 1); /* held by `items` */
    }
    PyErr_Clear();
    rb_text_append(w->out, "]", 1);
}

static void write_items(struct writer *w, const char *tag, PyObject *seq, int depth)
{
    PyObject *items = PyList_Check(seq) ? PyList_GetSlice(seq, 0, PY_SSIZE_T_MAX) /* list_slice: the storage */
                                        : PyTuple_GetSlice(seq, 0, PY_SSIZE_T_MAX);
    PyObject *list = items && PyTuple_Check(items) ? PySequence_List(items) : items; /* an exact tuple: no code */
    if (list != items)
        Py_XDECREF(items);
    write_list(w, tag, list, depth);
    Py_XDECREF(list);
}

static void write_set(struct writer *w, const char *tag, PyObject *set, int depth)
{
    PyObject *items = PyList_New(0);
    Py_ssize_t pos = 0;
    PyObject *key; /* borrowed, then held by `items` */
    Py_hash_t hash;
    while (items && _PySet_NextEntry(set, &pos, &key, &hash))
        if (PyList_Append(items, key) < 0)
            Py_CLEAR(items);
    write_list(w, tag, items, depth);
    Py_XDECREF(items);
}

static void write_dict(struct writer *w, PyObject *dict, int depth)
{
    append_str(w->out, "[\"d\"");
    PyObject *pairs = PyDict_Items(dict); /* dict_items on the storage: a list of new tuples */
    Py_ssize_t n = pairs ? PyList_GET_SIZE(pairs) : 0;
    for (Py_ssize_t i = 0; i < n && !over(w); i++) {
        PyObject *kv = PyList_GET_ITEM(pairs, i);
        rb_text_append(w->out, ",", 1);
        write_value(w, PyTuple_GET_ITEM(kv, 0), depth + 1);
        rb_text_append(w->out, ",", 1);
        write_value(w, PyTuple_GET_ITEM(kv, 1), depth + 1);
    }
    Py_XDECREF(pairs);
    PyErr_Clear();
    rb_text_append(w->out, "]", 1);
}

/* ["b","<base64>"] (bytes), or ["z","<base64>"] (a str holding NUL
 * characters, as UTF-8: a JSON string with \u0000 reaches no one whole, as
 * cJSON's strings end at NUL). */
static void base64_tagged(struct rb_text *t, const char *tag, const unsigned char *s, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    rb_text_append(t, "[\"", 2);
    rb_text_append(t, tag, strlen(tag));
    rb_text_append(t, "\",\"", 3);
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) | (i + 2 < n ? s[i + 2] : 0);
        char q[4] = { tbl[v >> 18 & 63], tbl[v >> 12 & 63], i + 1 < n ? tbl[v >> 6 & 63] : '=', i + 2 < n ? tbl[v & 63] : '=' };
        rb_text_append(t, q, 4);
    }
    rb_text_append(t, "\"]", 2);
}

static void base64(struct rb_text *t, const unsigned char *s, size_t n)
{
    base64_tagged(t, "b", s, n);
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
        if (u && memchr(u, '\0', (size_t)n)) {
            base64_tagged(w->out, "z", (const unsigned char *)u, (size_t)n);
        } else if (u) {
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
    struct writer w = { out, out->len, max, true, false, 0, 0, 0, false };
    write_value(&w, v, 0);
    over(&w);
    if (w.digesting && w.untagged) {
        digest_flush(&w);
        append_str(out, "[\"x\",\"value\",\"past the size limit, holding an object of no tagged type\"]");
    } else if (w.digesting) {
        digest_flush(&w);
        char digest[96];
        snprintf(digest, sizeof digest, "[\"h\",\"%016llx%016llx\",\"%zu\"]", (unsigned long long)w.h1,
                 (unsigned long long)w.h2, w.digested);
        rb_text_append(out, digest, strlen(digest));
    }
    PyErr_Clear();
    return w.whole && !out->failed;
}
