/*
 * Plain JSON to the tagged form, numbers kept exactly as written, and where
 * a member or an item of a JSON document is, as text (values.h).
 *
 * A scanner of its own rather than cJSON's numbers: cJSON reads every
 * number into a double, which cannot tell 1 from 1.0 nor keep the digits of
 * an int past 2^53, and a test's expected value must be exactly what was
 * written.
 */
#define _GNU_SOURCE
#include "values.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

/* ---- plain JSON to the tagged form --------------------------------------------------- */

struct scan {
    const char *s, *end;
    struct rb_buf out;
    char *err;
    size_t errlen;
    int depth;
    bool raw; /* only finding where values are: $-escapes are ordinary objects */
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
/* {"$int": "0x1f"}: the string just written at `at` (["i","0x1f") in the
 * one form a job's ints come in, converted here, from the test's own text:
 * the supervisor does not convert what a job sends (values.h). */
static bool normalise_escaped_int(struct scan *sc, size_t at)
{
    size_t head = strlen("[\"i\",\"");
    size_t n = sc->out.len - at - head - 1; /* between the quotes */
    char *text = strndup(sc->out.data + at + head, n), *norm = malloc(2 * n + 8);
    bool ok = text && norm && rb_value_normalise_int(text, norm, 2 * n + 8, true);
    if (ok) {
        sc->out.len = at;
        ok = rb_buf_printf(&sc->out, "[\"i\",\"%s\"", norm) == 0;
    }
    free(text);
    free(norm);
    return ok || fail(sc, "a $int whose value is not an int");
}

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

static void append_utf8(struct rb_buf *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3f)), u[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
    } else {
        u[0] = (char)(0xf0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3f)), u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
    }
    rb_buf_append(b, u, n);
}

/* The text of the JSON string s[0..n) (quotes excluded), escapes decoded,
 * as UTF-8 (a lone surrogate as Python's surrogatepass writes it). */
static bool json_string_text(const char *s, size_t n, struct rb_buf *out)
{
    static const char ESC[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
            rb_buf_append(out, &s[i], 1);
            continue;
        }
        if (++i >= n)
            return false;
        if (s[i] != 'u') {
            const char *e = strchr(ESC, s[i]);
            if (!e || (e - ESC) % 2)
                return false;
            rb_buf_append(out, e + 1, 1);
            continue;
        }
        unsigned cp;
        if (i + 4 >= n || sscanf(s + i + 1, "%4x", &cp) != 1)
            return false;
        i += 4;
        unsigned low;
        if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < n && s[i + 1] == '\\' && s[i + 2] == 'u' &&
            sscanf(s + i + 3, "%4x", &low) == 1 && low >= 0xdc00 && low < 0xe000) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
            i += 6;
        }
        append_utf8(out, cp);
    }
    return true;
}

/* Whether the JSON string's text holds an escaped NUL (\u0000 after an even
 * run of backslashes). */
static bool has_escaped_nul(const char *s, size_t n)
{
    for (const char *p = s; (p = memmem(p, n - (size_t)(p - s), "\\u0000", 6)); p++) {
        size_t backslashes = 0;
        while (p - (ptrdiff_t)backslashes > s && p[-1 - (ptrdiff_t)backslashes] == '\\')
            backslashes++;
        if (backslashes % 2 == 0)
            return true;
    }
    return false;
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
    size_t inner = (size_t)(sc->s - start) - 2;
    if (!has_escaped_nul(start + 1, inner))
        return rb_buf_append(&sc->out, start, (size_t)(sc->s - start)) == 0;
    /* A str with NUL characters: ["z", base64 of its UTF-8] (values.h). */
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    struct rb_buf text = { 0 };
    if (!json_string_text(start + 1, inner, &text)) {
        rb_buf_free(&text);
        return fail(sc, "a string with a malformed escape");
    }
    const unsigned char *u = (const unsigned char *)(text.data ? text.data : "");
    rb_buf_append_str(&sc->out, "[\"z\",\"");
    for (size_t i = 0; i < text.len; i += 3) {
        unsigned v = (unsigned)u[i] << 16 | (i + 1 < text.len ? (unsigned)u[i + 1] << 8 : 0) |
                     (i + 2 < text.len ? u[i + 2] : 0);
        char q[4] = { tbl[v >> 18 & 63], tbl[v >> 12 & 63], i + 1 < text.len ? tbl[v >> 6 & 63] : '=',
                      i + 2 < text.len ? tbl[v & 63] : '=' };
        rb_buf_append(&sc->out, q, 4);
    }
    rb_buf_free(&text);
    return rb_buf_append_str(&sc->out, "\"]") == 0;
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
        if (!rb_value_parse_float(text, &d))
            return fail(sc, "a malformed number");
        return rb_buf_printf(&sc->out, "[\"f\",\"%s\"]", text) == 0;
    }
    char norm[400];
    if (!rb_value_normalise_int(text, norm, sizeof norm, true))
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
        size_t at = sc->out.len;
        rb_buf_printf(&sc->out, "[\"%s\",", SCALARS[i].tag);
        if (!scan_string(sc))
            return false;
        if (strcmp(SCALARS[i].tag, "i") == 0 && !normalise_escaped_int(sc, at))
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
    if (sc->s < sc->end && *sc->s == '{' && !sc->raw) {
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
    sc->raw = true;
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

