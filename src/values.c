/*
 * Python values outside Python (values.h).
 */
#define _GNU_SOURCE
#include "values.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the arena ------------------------------------------------------------ */

static void *arena_alloc(struct rb_value_arena *a, size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p)
        return NULL;
    if ((a->nblocks & (a->nblocks - 1)) == 0) { /* grow at powers of two */
        void **more = realloc(a->blocks, (a->nblocks ? a->nblocks * 2 : 8) * sizeof *more);
        if (!more) {
            free(p);
            return NULL;
        }
        a->blocks = more;
    }
    a->blocks[a->nblocks++] = p;
    return p;
}

void rb_value_arena_free(struct rb_value_arena *a)
{
    for (size_t i = 0; i < a->nblocks; i++)
        free(a->blocks[i]);
    free(a->blocks);
    memset(a, 0, sizeof *a);
}

/* ---- parsing ---------------------------------------------------------------- */

/* "-0012" -> "-12", "-0" -> "0"; false when it is not an integer. */
static bool normalise_int(const char *s, char *out, size_t outlen)
{
    bool neg = false;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    if (!isdigit((unsigned char)*s))
        return false;
    while (*s == '0' && isdigit((unsigned char)s[1]))
        s++;
    size_t n = strspn(s, "0123456789");
    if (s[n] != '\0' || n + 2 > outlen)
        return false;
    neg = neg && !(n == 1 && s[0] == '0');
    snprintf(out, outlen, "%s%.*s", neg ? "-" : "", (int)n, s);
    return true;
}

static bool parse_float(const char *s, double *out)
{
    if (strcmp(s, "nan") == 0 || strcmp(s, "-nan") == 0) {
        *out = NAN;
        return true;
    }
    if (strcmp(s, "inf") == 0 || strcmp(s, "Infinity") == 0) {
        *out = INFINITY;
        return true;
    }
    if (strcmp(s, "-inf") == 0 || strcmp(s, "-Infinity") == 0) {
        *out = -INFINITY;
        return true;
    }
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return end != s && *end == '\0';
}

/* Python's complex("(1-2j)"): a real part, an imaginary part ending in j,
 * or both, in optional parentheses. */
static bool parse_complex(const char *s, double *re, double *im)
{
    char buf[128];
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    while (n && isspace((unsigned char)*s))
        s++, n--;
    if (n >= 2 && s[0] == '(' && s[n - 1] == ')')
        s++, n -= 2;
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    *re = *im = 0;
    if (buf[n - 1] != 'j' && buf[n - 1] != 'J')
        return parse_float(buf, re);
    buf[--n] = '\0';
    /* The split between the parts: the last sign that is not an exponent's. */
    size_t split = 0;
    for (size_t i = n; i-- > 1;)
        if ((buf[i] == '+' || buf[i] == '-') && buf[i - 1] != 'e' && buf[i - 1] != 'E') {
            split = i;
            break;
        }
    const char *imag = buf + split;
    if (split) {
        char real[128];
        memcpy(real, buf, split);
        real[split] = '\0';
        if (!parse_float(real, re))
            return false;
    }
    if (strcmp(imag, "") == 0 || strcmp(imag, "+") == 0) {
        *im = 1;
        return true;
    }
    if (strcmp(imag, "-") == 0) {
        *im = -1;
        return true;
    }
    return parse_float(imag, im);
}

static int b64_value(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

static char *b64_decode(struct rb_value_arena *a, const char *s, size_t *len)
{
    size_t n = strlen(s);
    char *out = arena_alloc(a, n / 4 * 3 + 3);
    if (!out)
        return NULL;
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n && s[i] != '='; i++) {
        int v = b64_value((unsigned char)s[i]);
        if (v < 0)
            return NULL;
        acc = acc << 6 | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)(acc >> bits & 0xff);
        }
    }
    *len = o;
    return out;
}

static const struct { const char *tag; enum rb_value_kind kind; } CONTAINERS[] = {
    { "l", RB_V_LIST }, { "t", RB_V_TUPLE }, { "set", RB_V_SET }, { "fs", RB_V_FROZENSET }, { "d", RB_V_DICT },
};

static int parse(const cJSON *j, struct rb_value *v, struct rb_value_arena *a, char *err, size_t errlen,
                 int depth)
{
    memset(v, 0, sizeof *v);
    if (depth > 200) {
        snprintf(err, errlen, "nested deeper than 200 levels");
        return -EINVAL;
    }
    if (cJSON_IsNull(j)) {
        v->kind = RB_V_NONE;
        return 0;
    }
    if (cJSON_IsBool(j)) {
        v->kind = RB_V_BOOL;
        v->b = cJSON_IsTrue(j);
        return 0;
    }
    if (cJSON_IsString(j)) {
        v->kind = RB_V_STR;
        v->text = j->valuestring;
        v->len = strlen(j->valuestring);
        return 0;
    }
    const cJSON *tag = cJSON_IsArray(j) ? j->child : NULL;
    if (!cJSON_IsString(tag)) {
        snprintf(err, errlen, "a value that is neither a string, a bool, null nor a tagged array");
        return -EINVAL;
    }
    const char *t = tag->valuestring;
    const cJSON *first = tag->next;
    if (strcmp(t, "i") == 0) {
        char *digits = cJSON_IsString(first) ? arena_alloc(a, strlen(first->valuestring) + 2) : NULL;
        if (!digits || !normalise_int(first->valuestring, digits, strlen(first->valuestring) + 2)) {
            snprintf(err, errlen, "an int that is not one");
            return -EINVAL;
        }
        v->kind = RB_V_INT;
        v->text = digits;
        return 0;
    }
    if (strcmp(t, "f") == 0) {
        v->kind = RB_V_FLOAT;
        if (!cJSON_IsString(first) || !parse_float(first->valuestring, &v->f)) {
            snprintf(err, errlen, "a float that is not one");
            return -EINVAL;
        }
        return 0;
    }
    if (strcmp(t, "c") == 0) {
        v->kind = RB_V_COMPLEX;
        if (!cJSON_IsString(first) || !cJSON_IsString(first->next) || !parse_float(first->valuestring, &v->f) ||
            !parse_float(first->next->valuestring, &v->im)) {
            snprintf(err, errlen, "a complex that is not one");
            return -EINVAL;
        }
        return 0;
    }
    if (strcmp(t, "b") == 0) {
        v->kind = RB_V_BYTES;
        if (!cJSON_IsString(first) || !(v->text = b64_decode(a, first->valuestring, &v->len))) {
            snprintf(err, errlen, "bytes that are not base64");
            return -EINVAL;
        }
        return 0;
    }
    if (strcmp(t, "cs") == 0) {
        v->kind = RB_V_COMPLEX;
        if (!cJSON_IsString(first) || !parse_complex(first->valuestring, &v->f, &v->im)) {
            snprintf(err, errlen, "a complex that is not one");
            return -EINVAL;
        }
        return 0;
    }
    if (strcmp(t, "x") == 0) {
        v->kind = RB_V_OTHER;
        v->type_name = cJSON_GetStringValue(first);
        v->text = first ? cJSON_GetStringValue(first->next) : NULL;
        v->len = v->text ? strlen(v->text) : 0;
        return 0;
    }
    for (size_t k = 0; k < sizeof CONTAINERS / sizeof CONTAINERS[0]; k++) {
        if (strcmp(t, CONTAINERS[k].tag) != 0)
            continue;
        v->kind = CONTAINERS[k].kind;
        size_t n = 0;
        for (const cJSON *c = first; c; c = c->next)
            n++;
        if (v->kind == RB_V_DICT && n % 2) {
            snprintf(err, errlen, "a dict with a key and no value");
            return -EINVAL;
        }
        v->items = arena_alloc(a, n * sizeof *v->items);
        if (!v->items) {
            snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
        v->n = n;
        size_t i = 0;
        for (const cJSON *c = first; c; c = c->next, i++) {
            int rc = parse(c, &v->items[i], a, err, errlen, depth + 1);
            if (rc < 0)
                return rc;
        }
        return 0;
    }
    snprintf(err, errlen, "an unknown tag '%.20s'", t);
    return -EINVAL;
}

int rb_value_parse(const cJSON *tagged, struct rb_value *out, struct rb_value_arena *arena, char *err,
                   size_t errlen)
{
    return parse(tagged, out, arena, err, errlen, 0);
}

/* ---- equality ----------------------------------------------------------------- */

static bool is_number(const struct rb_value *v)
{
    return v->kind == RB_V_BOOL || v->kind == RB_V_INT || v->kind == RB_V_FLOAT || v->kind == RB_V_COMPLEX;
}

/* An integral double's exact decimal digits; false when it is not integral. */
static bool integral_digits(double f, char *buf, size_t len)
{
    if (!isfinite(f) || f != floor(f))
        return false;
    snprintf(buf, len, "%.0f", f);
    if (strcmp(buf, "-0") == 0)
        snprintf(buf, len, "0");
    return true;
}

static const char *int_digits(const struct rb_value *v)
{
    return v->kind == RB_V_BOOL ? (v->b ? "1" : "0") : v->text;
}

/* Two real numbers (bool, int, float) by value, exactly. */
static bool real_equal(const struct rb_value *a, const struct rb_value *b)
{
    if (a->kind == RB_V_FLOAT && b->kind == RB_V_FLOAT)
        return a->f == b->f;
    if (a->kind != RB_V_FLOAT && b->kind != RB_V_FLOAT)
        return strcmp(int_digits(a), int_digits(b)) == 0;
    const struct rb_value *fl = a->kind == RB_V_FLOAT ? a : b, *in = a->kind == RB_V_FLOAT ? b : a;
    char buf[400];
    return integral_digits(fl->f, buf, sizeof buf) && strcmp(buf, int_digits(in)) == 0;
}

static bool numbers_equal(const struct rb_value *a, const struct rb_value *b)
{
    if (a->kind == RB_V_COMPLEX || b->kind == RB_V_COMPLEX) {
        if (a->kind == RB_V_COMPLEX && b->kind == RB_V_COMPLEX)
            return a->f == b->f && a->im == b->im;
        const struct rb_value *c = a->kind == RB_V_COMPLEX ? a : b, *r = a->kind == RB_V_COMPLEX ? b : a;
        if (c->im != 0)
            return false;
        struct rb_value real = { .kind = RB_V_FLOAT, .f = c->f };
        return real_equal(&real, r);
    }
    return real_equal(a, b);
}

/* A hash consistent with equality: numbers that are equal hash alike. */
static uint64_t mix(uint64_t h, uint64_t x)
{
    h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h;
}

static uint64_t bytes_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static uint64_t value_hash(const struct rb_value *v)
{
    char buf[400];
    switch (v->kind) {
    case RB_V_NONE: return 1;
    case RB_V_BOOL:
    case RB_V_INT: return bytes_hash(int_digits(v), strlen(int_digits(v)));
    case RB_V_FLOAT:
        if (integral_digits(v->f, buf, sizeof buf))
            return bytes_hash(buf, strlen(buf));
        return bytes_hash((const char *)&v->f, sizeof v->f);
    case RB_V_COMPLEX:
        if (v->im == 0) {
            struct rb_value r = { .kind = RB_V_FLOAT, .f = v->f };
            return value_hash(&r);
        }
        return mix(bytes_hash((const char *)&v->f, sizeof v->f), bytes_hash((const char *)&v->im, sizeof v->im));
    case RB_V_STR: return mix(2, bytes_hash(v->text, v->len));
    case RB_V_BYTES: return mix(3, bytes_hash(v->text, v->len));
    case RB_V_TUPLE: {
        uint64_t h = 4;
        for (size_t i = 0; i < v->n; i++)
            h = mix(h, value_hash(&v->items[i]));
        return h;
    }
    case RB_V_FROZENSET: {
        uint64_t h = 5;
        for (size_t i = 0; i < v->n; i++)
            h += value_hash(&v->items[i]) * 0x2545f4914f6cdd1dull; /* order-free */
        return h;
    }
    default: return 6; /* unhashable in Python: never a set member or dict key */
    }
}

struct hashed {
    uint64_t h;
    const struct rb_value *v;
    const struct rb_value *value; /* a dict's value for this key */
    bool used;
};

static int by_hash(const void *x, const void *y)
{
    uint64_t a = ((const struct hashed *)x)->h, b = ((const struct hashed *)y)->h;
    return a < b ? -1 : a > b;
}

/* Sets and dicts: every member of `a` matches one of `b`, by hash then ==
 * (Python's own lookup), values too for dicts. */
static bool unordered_equal(const struct rb_value *a, const struct rb_value *b, bool dict)
{
    size_t step = dict ? 2 : 1, n = a->n / step;
    if (a->n != b->n)
        return false;
    if (n == 0)
        return true;
    struct hashed *hb = malloc(n * sizeof *hb);
    if (!hb)
        return false;
    for (size_t i = 0; i < n; i++)
        hb[i] = (struct hashed){ value_hash(&b->items[i * step]), &b->items[i * step],
                                 dict ? &b->items[i * step + 1] : NULL, false };
    qsort(hb, n, sizeof *hb, by_hash);
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        const struct rb_value *k = &a->items[i * step];
        uint64_t h = value_hash(k);
        size_t lo = 0, hi = n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (hb[mid].h < h)
                lo = mid + 1;
            else
                hi = mid;
        }
        bool found = false;
        for (size_t j = lo; j < n && hb[j].h == h && !found; j++) {
            if (hb[j].used || !rb_value_equal(k, hb[j].v))
                continue;
            found = !dict || rb_value_equal(&a->items[i * step + 1], hb[j].value);
            hb[j].used = found;
        }
        ok = found;
    }
    free(hb);
    return ok;
}

bool rb_value_equal(const struct rb_value *a, const struct rb_value *b)
{
    if (is_number(a) && is_number(b))
        return numbers_equal(a, b);
    bool aset = a->kind == RB_V_SET || a->kind == RB_V_FROZENSET;
    bool bset = b->kind == RB_V_SET || b->kind == RB_V_FROZENSET;
    if (aset && bset)
        return unordered_equal(a, b, false);
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case RB_V_NONE: return true;
    case RB_V_STR:
    case RB_V_BYTES: return a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
    case RB_V_LIST:
    case RB_V_TUPLE:
        if (a->n != b->n)
            return false;
        for (size_t i = 0; i < a->n; i++)
            if (!rb_value_equal(&a->items[i], &b->items[i]))
                return false;
        return true;
    case RB_V_DICT: return unordered_equal(a, b, true);
    default: return false; /* other: Python would compare by its own __eq__; not ours to run */
    }
}

/* ---- evalplus's float rules -------------------------------------------------------- */

bool rb_value_is_floats(const struct rb_value *v)
{
    if (v->kind == RB_V_FLOAT)
        return true;
    if ((v->kind != RB_V_LIST && v->kind != RB_V_TUPLE) || v->n == 0)
        return false;
    for (size_t i = 0; i < v->n; i++)
        if (v->items[i].kind != RB_V_FLOAT)
            return false;
    return true;
}

/* A leaf as numpy would hold it: false for what numpy.isclose refuses
 * (strings, None, ints beyond 64 bits, which make object arrays). */
static bool as_double(const struct rb_value *v, double *out)
{
    switch (v->kind) {
    case RB_V_BOOL: *out = v->b; return true;
    case RB_V_FLOAT: *out = v->f; return true;
    case RB_V_INT: {
        errno = 0;
        long long x = strtoll(v->text, NULL, 10);
        if (errno == ERANGE)
            return false;
        *out = (double)x;
        return true;
    }
    default: return false;
    }
}

static bool close_leaf(double a, double b, double rtol, double atol)
{
    if (isnan(a) || isnan(b))
        return false;
    if (isinf(a) || isinf(b))
        return a == b;
    return fabs(a - b) <= atol + rtol * fabs(b);
}

static bool allclose(const struct rb_value *a, const struct rb_value *b, double rtol, double atol)
{
    bool aseq = a->kind == RB_V_LIST || a->kind == RB_V_TUPLE;
    bool bseq = b->kind == RB_V_LIST || b->kind == RB_V_TUPLE;
    if (aseq != bseq)
        return false; /* ragged, or a sequence against a number: numpy refuses or broadcasts oddly */
    if (aseq) {
        if (a->n != b->n)
            return false;
        for (size_t i = 0; i < a->n; i++)
            if (!allclose(&a->items[i], &b->items[i], rtol, atol))
                return false;
        return true;
    }
    double x, y;
    return as_double(a, &x) && as_double(b, &y) && close_leaf(x, y, rtol, atol);
}

bool rb_value_allclose(const struct rb_value *out, const struct rb_value *exp, double rtol, double atol)
{
    if (out->kind != exp->kind)
        return false; /* evalplus: type(out) == type(exp) */
    if ((out->kind == RB_V_LIST || out->kind == RB_V_TUPLE) && out->n != exp->n)
        return false;
    return allclose(out, exp, rtol, atol);
}

/* ---- plain JSON to the tagged form --------------------------------------------------- */

struct scan {
    const char *s, *end;
    struct rb_buf out;
    char *err;
    size_t errlen;
    int depth;
};

static void skip_ws(struct scan *sc)
{
    while (sc->s < sc->end && (*sc->s == ' ' || *sc->s == '\t' || *sc->s == '\n' || *sc->s == '\r'))
        sc->s++;
}

static bool fail(struct scan *sc, const char *what)
{
    if (sc->err[0] == '\0')
        snprintf(sc->err, sc->errlen, "%s", what);
    return false;
}

static bool starts(struct scan *sc, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(sc->end - sc->s) >= n && memcmp(sc->s, word, n) == 0) {
        sc->s += n;
        return true;
    }
    return false;
}

static bool scan_value(struct scan *sc);
static bool scan_container(struct scan *sc, char close, const char *tag);

/* A $dict's value, written as ["d",["l",k,v],["l",k,v]...] from position
 * `at`, rewritten as ["d",k,v,k,v...]: each pair's own list dropped. */
static bool flatten_pairs(struct scan *sc, size_t at)
{
    cJSON *tree = cJSON_ParseWithLength(sc->out.data + at, sc->out.len - at);
    cJSON *flat = cJSON_CreateArray();
    bool ok = tree && flat && cJSON_AddItemToArray(flat, cJSON_CreateString("d"));
    for (cJSON *pair = tree && tree->child ? tree->child->next : NULL; ok && pair; pair = pair->next) {
        cJSON *tag = cJSON_IsArray(pair) ? pair->child : NULL;
        if (!cJSON_IsString(tag) || strcmp(tag->valuestring, "l") != 0 || !tag->next || !tag->next->next ||
            tag->next->next->next) {
            ok = fail(sc, "a $dict item that is not a [key, value] pair");
            break;
        }
        ok = cJSON_AddItemToArray(flat, cJSON_Duplicate(tag->next, 1)) &&
             cJSON_AddItemToArray(flat, cJSON_Duplicate(tag->next->next, 1));
    }
    char *text = ok ? cJSON_PrintUnformatted(flat) : NULL;
    if (text) {
        sc->out.len = at;
        rb_buf_append_str(&sc->out, text);
    }
    cJSON_free(text);
    cJSON_Delete(flat);
    cJSON_Delete(tree);
    return ok && text;
}

static bool scan_string(struct scan *sc)
{
    const char *start = sc->s++;
    while (sc->s < sc->end && *sc->s != '"') {
        if (*sc->s == '\\')
            sc->s++;
        sc->s++;
    }
    if (sc->s >= sc->end)
        return fail(sc, "a string without its closing quote");
    sc->s++;
    return rb_buf_append(&sc->out, start, (size_t)(sc->s - start)) == 0;
}

static bool scan_number(struct scan *sc)
{
    const char *start = sc->s;
    bool is_float = false;
    if (*sc->s == '-')
        sc->s++;
    if (starts(sc, "Infinity"))
        return rb_buf_printf(&sc->out, "[\"f\",\"%s\"]", *start == '-' ? "-inf" : "inf") == 0;
    while (sc->s < sc->end && (isdigit((unsigned char)*sc->s) || strchr(".eE+-", *sc->s))) {
        is_float = is_float || !isdigit((unsigned char)*sc->s);
        sc->s++;
    }
    if (sc->s == start || (sc->s - start == 1 && *start == '-'))
        return fail(sc, "a malformed number");
    char text[400];
    size_t n = (size_t)(sc->s - start);
    if (n >= sizeof text)
        return fail(sc, "a number longer than 400 digits");
    memcpy(text, start, n);
    text[n] = '\0';
    if (is_float) {
        double d;
        if (!parse_float(text, &d))
            return fail(sc, "a malformed number");
        return rb_buf_printf(&sc->out, "[\"f\",\"%s\"]", text) == 0;
    }
    char norm[400];
    if (!normalise_int(text, norm, sizeof norm))
        return fail(sc, "a malformed number");
    return rb_buf_printf(&sc->out, "[\"i\",\"%s\"]", norm) == 0;
}

static bool scan_container(struct scan *sc, char close, const char *tag)
{
    if (++sc->depth > 200)
        return fail(sc, "nested deeper than 200 levels");
    sc->s++;
    rb_buf_printf(&sc->out, "[\"%s\"", tag);
    skip_ws(sc);
    bool first = true;
    while (sc->s < sc->end && *sc->s != close) {
        if (!first) {
            if (*sc->s != ',')
                return fail(sc, "a missing comma");
            sc->s++;
            skip_ws(sc);
        }
        first = false;
        rb_buf_append(&sc->out, ",", 1);
        if (close == '}') {
            if (*sc->s != '"' || !scan_string(sc))
                return fail(sc, "an object key that is not a string");
            skip_ws(sc);
            if (*sc->s != ':')
                return fail(sc, "a missing colon");
            sc->s++;
            rb_buf_append(&sc->out, ",", 1);
        }
        if (!scan_value(sc))
            return false;
        skip_ws(sc);
    }
    if (sc->s >= sc->end)
        return fail(sc, "an array or object that does not end");
    sc->s++;
    sc->depth--;
    return rb_buf_append(&sc->out, "]", 1) == 0;
}

/* {"$tuple": [...]} and friends: the types plain JSON has no word for.
 * True when the object at sc->s is one (and it was written out); false,
 * with nothing consumed or written, when it is an ordinary object. */
static bool scan_escape(struct scan *sc, bool *done)
{
    static const struct { const char *key, *tag; } ESCAPES[] = {
        { "\"$tuple\"", "t" }, { "\"$set\"", "set" }, { "\"$frozenset\"", "fs" }, { "\"$dict\"", "d" },
    };
    const char *save = sc->s;
    size_t save_len = sc->out.len;
    *done = false;
    sc->s++;
    skip_ws(sc);
    for (size_t i = 0; i < sizeof ESCAPES / sizeof ESCAPES[0]; i++) {
        if (!starts(sc, ESCAPES[i].key))
            continue;
        skip_ws(sc);
        if (sc->s >= sc->end || *sc->s != ':')
            break;
        sc->s++;
        skip_ws(sc);
        if (sc->s >= sc->end || *sc->s != '[')
            return fail(sc, "a $-escape whose value is not an array");
        /* The array's items as this type's items ($dict: [[k, v], ...] pairs). */
        size_t at = sc->out.len;
        if (!scan_container(sc, ']', "l"))
            return false;
        skip_ws(sc);
        if (sc->s >= sc->end || *sc->s != '}')
            return fail(sc, "a $-escape with more than one member");
        sc->s++;
        char *p = sc->out.data + at; /* ["l",... -> ["t",... */
        char head[16];
        snprintf(head, sizeof head, "[\"%s\"", ESCAPES[i].tag);
        size_t tail = sc->out.len - at - 4;
        rb_buf_reserve(&sc->out, strlen(head));
        p = sc->out.data + at;
        memmove(p + strlen(head), p + 4, tail + 1);
        memcpy(p, head, strlen(head));
        sc->out.len = at + strlen(head) + tail;
        if (strcmp(ESCAPES[i].tag, "d") == 0 && !flatten_pairs(sc, at))
            return false;
        *done = true;
        return true;
    }
    static const struct { const char *key, *tag; } SCALARS[] = {
        { "\"$int\"", "i" }, { "\"$float\"", "f" }, { "\"$bytes\"", "b" }, { "\"$complex\"", "cs" },
    };
    for (size_t i = 0; i < sizeof SCALARS / sizeof SCALARS[0]; i++) {
        if (!starts(sc, SCALARS[i].key))
            continue;
        skip_ws(sc);
        if (sc->s >= sc->end || *sc->s != ':')
            break;
        sc->s++;
        skip_ws(sc);
        if (sc->s >= sc->end || *sc->s != '"')
            return fail(sc, "a $-escape of a scalar whose value is not a string");
        rb_buf_printf(&sc->out, "[\"%s\",", SCALARS[i].tag);
        if (!scan_string(sc))
            return false;
        rb_buf_append(&sc->out, "]", 1);
        skip_ws(sc);
        if (sc->s >= sc->end || *sc->s != '}')
            return fail(sc, "a $-escape with more than one member");
        sc->s++;
        *done = true;
        return true;
    }
    sc->s = save;
    sc->out.len = save_len;
    return true;
}

static bool scan_value(struct scan *sc)
{
    skip_ws(sc);
    if (sc->s < sc->end && *sc->s == '{') {
        bool done;
        if (!scan_escape(sc, &done))
            return false;
        if (done)
            return true;
    }
    if (sc->s >= sc->end)
        return fail(sc, "nothing where a value should be");
    switch (*sc->s) {
    case '"': return scan_string(sc);
    case '[': return scan_container(sc, ']', "l");
    case '{': return scan_container(sc, '}', "d");
    case 't': return starts(sc, "true") ? rb_buf_append(&sc->out, "true", 4) == 0 : fail(sc, "an unknown word");
    case 'f': return starts(sc, "false") ? rb_buf_append(&sc->out, "false", 5) == 0 : fail(sc, "an unknown word");
    case 'n': return starts(sc, "null") ? rb_buf_append(&sc->out, "null", 4) == 0 : fail(sc, "an unknown word");
    case 'N': return starts(sc, "NaN") ? rb_buf_append(&sc->out, "[\"f\",\"nan\"]", 11) == 0 : fail(sc, "an unknown word");
    case 'I': return starts(sc, "Infinity") ? rb_buf_append(&sc->out, "[\"f\",\"inf\"]", 11) == 0
                                            : fail(sc, "an unknown word");
    default: return scan_number(sc);
    }
}

char *rb_value_tagged_from_json(const char *json, size_t len, char *err, size_t errlen)
{
    struct scan sc = { .s = json, .end = json + len, .err = err, .errlen = errlen };
    err[0] = '\0';
    bool ok = scan_value(&sc);
    skip_ws(&sc);
    if (ok && sc.s != sc.end)
        ok = fail(&sc, "text after the value");
    if (!ok || !sc.out.data) {
        if (!err[0])
            snprintf(err, errlen, "out of memory");
        rb_buf_free(&sc.out);
        return NULL;
    }
    return sc.out.data;
}

/* ---- raw JSON ranges ------------------------------------------------------------ */

/* Skips one value at sc->s; false when it is malformed. */
static bool skip_value(struct scan *sc)
{
    size_t len = sc->out.len;
    bool ok = scan_value(sc);
    sc->out.len = len; /* what it wrote is not wanted */
    if (sc->out.data)
        sc->out.data[len] = '\0';
    return ok;
}

int rb_json_member(const char *json, size_t len, const char *key, const char **value, size_t *value_len)
{
    struct scan sc = { .s = json, .end = json + len };
    char err[8];
    sc.err = err;
    sc.errlen = sizeof err;
    err[0] = '\0';
    int rc = -ENOENT;
    skip_ws(&sc);
    if (sc.s >= sc.end || *sc.s != '{')
        return -EINVAL;
    sc.s++;
    for (;;) {
        skip_ws(&sc);
        if (sc.s >= sc.end || *sc.s == '}')
            break;
        if (*sc.s == ',') {
            sc.s++;
            continue;
        }
        const char *k = sc.s;
        if (*sc.s != '"' || !skip_value(&sc))
            break;
        size_t klen = (size_t)(sc.s - k);
        skip_ws(&sc);
        if (sc.s >= sc.end || *sc.s != ':')
            break;
        sc.s++;
        skip_ws(&sc);
        const char *v = sc.s;
        if (!skip_value(&sc))
            break;
        if (klen == strlen(key) + 2 && memcmp(k + 1, key, strlen(key)) == 0) {
            *value = v;
            *value_len = (size_t)(sc.s - v);
            rc = 0;
            break;
        }
    }
    rb_buf_free(&sc.out);
    return rc;
}

int rb_json_item(const char *json, size_t len, size_t index, const char **value, size_t *value_len)
{
    struct scan sc = { .s = json, .end = json + len };
    char err[8];
    sc.err = err;
    sc.errlen = sizeof err;
    err[0] = '\0';
    int rc = -ENOENT;
    skip_ws(&sc);
    if (sc.s >= sc.end || *sc.s != '[')
        return -EINVAL;
    sc.s++;
    for (size_t i = 0;; i++) {
        skip_ws(&sc);
        if (sc.s < sc.end && *sc.s == ',' && i > 0) {
            sc.s++;
            skip_ws(&sc);
        }
        if (sc.s >= sc.end || *sc.s == ']')
            break;
        const char *v = sc.s;
        if (!skip_value(&sc))
            break;
        if (i == index) {
            *value = v;
            *value_len = (size_t)(sc.s - v);
            rc = 0;
            break;
        }
    }
    rb_buf_free(&sc.out);
    return rc;
}

/* ---- repr ------------------------------------------------------------------------- */

static void repr_str(const char *s, size_t n, struct rb_buf *out, bool bytes)
{
    rb_buf_append_str(out, bytes ? "b'" : "'");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\'' || c == '\\')
            rb_buf_printf(out, "\\%c", c);
        else if (c == '\n')
            rb_buf_append_str(out, "\\n");
        else if (c < 0x20 || (bytes && c >= 0x7f))
            rb_buf_printf(out, "\\x%02x", c);
        else
            rb_buf_append(out, &s[i], 1);
    }
    rb_buf_append_str(out, "'");
}

static void repr_float(double f, struct rb_buf *out)
{
    if (isnan(f)) {
        rb_buf_append_str(out, "nan");
        return;
    }
    if (isinf(f)) {
        rb_buf_append_str(out, f < 0 ? "-inf" : "inf");
        return;
    }
    char buf[64];
    for (int prec = 1; prec <= 17; prec++) { /* the shortest that reads back the same */
        snprintf(buf, sizeof buf, "%.*g", prec, f);
        if (strtod(buf, NULL) == f)
            break;
    }
    rb_buf_append_str(out, buf);
    if (!strpbrk(buf, ".e"))
        rb_buf_append_str(out, ".0");
}

void rb_value_repr(const struct rb_value *v, struct rb_buf *out, size_t max)
{
    size_t start = out->len;
    if (max && out->len - start > max)
        return;
    switch (v->kind) {
    case RB_V_NONE: rb_buf_append_str(out, "None"); break;
    case RB_V_BOOL: rb_buf_append_str(out, v->b ? "True" : "False"); break;
    case RB_V_INT: rb_buf_append_str(out, v->text); break;
    case RB_V_FLOAT: repr_float(v->f, out); break;
    case RB_V_COMPLEX:
        rb_buf_append_str(out, "(");
        repr_float(v->f, out);
        rb_buf_append_str(out, v->im < 0 ? "" : "+");
        repr_float(v->im, out);
        rb_buf_append_str(out, "j)");
        break;
    case RB_V_STR: repr_str(v->text, v->len, out, false); break;
    case RB_V_BYTES: repr_str(v->text, v->len, out, true); break;
    case RB_V_OTHER: rb_buf_append_str(out, v->text ? v->text : "<?>"); break;
    default: {
        const char *open = v->kind == RB_V_LIST ? "[" : v->kind == RB_V_TUPLE ? "(" : v->kind == RB_V_FROZENSET ? "frozenset({" : "{";
        const char *close = v->kind == RB_V_LIST ? "]" : v->kind == RB_V_TUPLE ? (v->n == 1 ? ",)" : ")")
                            : v->kind == RB_V_FROZENSET ? "})" : "}";
        if (v->kind == RB_V_SET && v->n == 0) {
            rb_buf_append_str(out, "set()");
            break;
        }
        rb_buf_append_str(out, open);
        for (size_t i = 0; i < v->n; i++) {
            if (max && out->len - start > max) {
                rb_buf_append_str(out, "...");
                break;
            }
            if (i)
                rb_buf_append_str(out, v->kind == RB_V_DICT && i % 2 ? ": " : ", ");
            rb_value_repr(&v->items[i], out, max ? max - (out->len - start) : 0);
        }
        rb_buf_append_str(out, close);
    }
    }
    if (max && out->len - start > max + 3) {
        out->len = start + max;
        out->data[out->len] = '\0';
        rb_buf_append_str(out, "...");
    }
}
