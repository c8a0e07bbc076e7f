/*
 * libFuzzer target: the result writer (rb_result_to_json, rb_json_quote_bytes
 * through it, rb_record_write).
 *
 * The input's bytes make an rb_result: the status, numbers and flags from a
 * fixed header, then length-prefixed byte strings for stdout and stderr, the
 * C strings (id, error, error_detail, doc) and up to three tracked files.
 * The record is written with rb_record_write into a memfd and read back, and
 * the line must be
 *
 *   - one line: the bytes cJSON_PrintUnformatted gives, then '\n', no other
 *     newline;
 *   - valid UTF-8 (JSON text is UTF-8, RFC 8259 section 8.1);
 *   - JSON that cJSON parses, with the documented keys in the documented
 *     order and types, the numbers as given (times rounded to the
 *     microsecond), and no key twice in an object;
 *   - a round trip of every byte string: decoded with Python's
 *     surrogateescape rule, each string gives back exactly the bytes put in,
 *     which means valid UTF-8 comes back as itself and each byte that is not
 *     part of valid UTF-8 comes back from \udcXX.
 *
 * cJSON refuses lone surrogates such as \udc80 (utf16_literal_to_utf8 fails
 * on a low surrogate without a high one), so the structure is checked with
 * cJSON on a copy where every \udcXX escape reads \u00XX, and each string is
 * decoded twice by the strict decoder below: with surrogateescape (must give
 * the input bytes) and with the same \u00XX reading (must give cJSON's value).
 *
 * Build and run: tests/fuzz/run.sh (see docs/testing.md).
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "results.h"
#include "runbox.h"
#include "fuzz_check.h"

/* ---- reading the input ----------------------------------------------------- */

struct input {
    const uint8_t *p;
    size_t left;
};

static uint64_t take_u64(struct input *in, size_t nbytes)
{
    uint64_t v = 0;
    for (size_t i = 0; i < nbytes; i++) {
        v <<= 8;
        if (in->left) {
            v |= *in->p++;
            in->left--;
        }
    }
    return v;
}

/* A byte string: a two-byte length, then that many bytes (fewer at the end). */
static const uint8_t *take_bytes(struct input *in, size_t *len)
{
    size_t want = (size_t)take_u64(in, 2);
    *len = want < in->left ? want : in->left;
    const uint8_t *p = in->p;
    in->p += *len;
    in->left -= *len;
    return p;
}

/* A heap copy of exactly `len` bytes (ASan sees a read past the end). */
static char *copy_bytes(const uint8_t *p, size_t len)
{
    char *c = malloc(len ? len : 1);
    CHECK(c != NULL);
    if (len)
        memcpy(c, p, len);
    return c;
}

/* A C string: a byte string cut at its first NUL; NULL when the flag says so. */
static char *take_cstr(struct input *in, bool nullable)
{
    bool null = nullable && (take_u64(in, 1) & 1);
    size_t len;
    const uint8_t *p = take_bytes(in, &len);
    if (null)
        return NULL;
    const uint8_t *nul = memchr(p, 0, len);
    if (nul)
        len = (size_t)(nul - p);
    char *s = malloc(len + 1);
    CHECK(s != NULL);
    memcpy(s, p, len);
    s[len] = '\0';
    return s;
}

/* A time as the pool measures it: finite, not negative, and at most 10^6 s
 * (timeouts stop at 7 days). cJSON prints a number with 15 significant
 * digits whenever that reads back within DBL_EPSILON, so larger values could
 * lose their last digit: not something runbox measures. */
static double take_seconds(struct input *in)
{
    uint64_t bits = take_u64(in, 8);
    double d;
    memcpy(&d, &bits, sizeof d);
    if (!isfinite(d))
        return 0;
    d = fabs(d);
    return d > 1e6 ? fmod(d, 1e6) : d;
}

/* ---- a strict decoder for one JSON string ----------------------------------- */

/* Length of the valid UTF-8 sequence at s (n bytes available), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static bool all_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = utf8_len(s + i, n - i);
        if (!k)
            return false;
        i += k;
    }
    return true;
}

static int hex4(const char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        v = v << 4 | d;
    }
    return v;
}

static size_t put_utf8(char *w, uint32_t cp)
{
    if (cp < 0x80) {
        w[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        w[0] = (char)(0xc0 | cp >> 6);
        w[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        w[0] = (char)(0xe0 | cp >> 12);
        w[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        w[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    w[0] = (char)(0xf0 | cp >> 18);
    w[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    w[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    w[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

enum lone_low { SURROGATEESCAPE, AS_LATIN1 };

/* Decodes the JSON string literal at *pos (its opening quote) of text[0..n):
 * RFC 8259 strictly (no raw control characters, only the defined escapes,
 * surrogate pairs paired), except that a lone \udc80..\udcff decodes to the
 * byte 0x80..0xff (SURROGATEESCAPE) or to U+0080..U+00FF (AS_LATIN1). Any
 * other lone surrogate is an error. Returns the bytes (malloc'd, *len set,
 * *pos after the closing quote), or NULL. */
static char *decode_string(const char *text, size_t n, size_t *pos, enum lone_low mode, size_t *len)
{
    size_t i = *pos;
    if (i >= n || text[i] != '"')
        return NULL;
    i++;
    char *out = malloc(n - i + 1), *w = out; /* decoding never grows */
    CHECK(out != NULL);
    while (i < n && text[i] != '"') {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20)
            goto bad;
        if (c != '\\') {
            *w++ = (char)c;
            i++;
            continue;
        }
        if (i + 1 >= n)
            goto bad;
        char e = text[i + 1];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            static const char plain[] = "\"\\/\b\f\n\r\t";
            *w++ = plain[simple - "\"\\/bfnrt"];
            i += 2;
            continue;
        }
        if (e != 'u' || i + 6 > n)
            goto bad;
        int u = hex4(text + i + 2);
        if (u < 0)
            goto bad;
        i += 6;
        if (u >= 0xd800 && u <= 0xdbff) {
            int lo = i + 6 <= n && text[i] == '\\' && text[i + 1] == 'u' ? hex4(text + i + 2) : -1;
            if (lo < 0xdc00 || lo > 0xdfff)
                goto bad;
            i += 6;
            w += put_utf8(w, 0x10000 + (((uint32_t)u - 0xd800) << 10) + ((uint32_t)lo - 0xdc00));
        } else if (u >= 0xdc00 && u <= 0xdfff) {
            if (u < 0xdc80 || u > 0xdcff)
                goto bad;
            if (mode == SURROGATEESCAPE)
                *w++ = (char)(u & 0xff);
            else
                w += put_utf8(w, (uint32_t)(u & 0xff));
        } else {
            w += put_utf8(w, (uint32_t)u);
        }
    }
    if (i >= n)
        goto bad;
    *pos = i + 1;
    *len = (size_t)(w - out);
    *w = '\0';
    return out;
bad:
    free(out);
    return NULL;
}

/* The text with every lone \udcXX escape spelt \u00XX, for cJSON. */
static char *for_cjson(const char *text, size_t n)
{
    char *t = malloc(n + 1);
    CHECK(t != NULL);
    memcpy(t, text, n);
    t[n] = '\0';
    bool in_string = false;
    for (size_t i = 0; i < n; i++) {
        if (!in_string) {
            in_string = t[i] == '"';
            continue;
        }
        if (t[i] == '"') {
            in_string = false;
        } else if (t[i] == '\\' && i + 1 < n) {
            if (t[i + 1] == 'u' && i + 6 <= n) {
                int u = hex4(t + i + 2);
                bool after_high = i >= 6 && t[i - 6] == '\\' && t[i - 5] == 'u' &&
                                  hex4(t + i - 4) >= 0xd800 && hex4(t + i - 4) <= 0xdbff;
                if (u >= 0xdc80 && u <= 0xdcff && !after_high) {
                    t[i + 2] = '0';
                    t[i + 3] = '0';
                }
                i += 5;
            } else {
                i++;
            }
        }
    }
    return t;
}

/* ---- walking the record ----------------------------------------------------- */

/* The text of one record, and where each key's value starts in it. */
struct walk {
    const char *text;
    size_t n;
};

static void skip_ws(const struct walk *wk, size_t *i)
{
    while (*i < wk->n && strchr(" \t\r\n", wk->text[*i]) && wk->text[*i])
        (*i)++;
}

static bool skip_value(const struct walk *wk, size_t *i);

static bool skip_container(const struct walk *wk, size_t *i, char close, bool keyed)
{
    (*i)++;
    skip_ws(wk, i);
    if (*i < wk->n && wk->text[*i] == close) {
        (*i)++;
        return true;
    }
    for (;;) {
        if (keyed) {
            size_t klen;
            char *k = decode_string(wk->text, wk->n, i, SURROGATEESCAPE, &klen);
            if (!k)
                return false;
            free(k);
            skip_ws(wk, i);
            if (*i >= wk->n || wk->text[*i] != ':')
                return false;
            (*i)++;
            skip_ws(wk, i);
        }
        if (!skip_value(wk, i))
            return false;
        skip_ws(wk, i);
        if (*i < wk->n && wk->text[*i] == ',') {
            (*i)++;
            skip_ws(wk, i);
            continue;
        }
        if (*i < wk->n && wk->text[*i] == close) {
            (*i)++;
            return true;
        }
        return false;
    }
}

static bool skip_value(const struct walk *wk, size_t *i)
{
    if (*i >= wk->n)
        return false;
    char c = wk->text[*i];
    if (c == '"') {
        size_t len;
        char *s = decode_string(wk->text, wk->n, i, SURROGATEESCAPE, &len);
        free(s);
        return s != NULL;
    }
    if (c == '{')
        return skip_container(wk, i, '}', true);
    if (c == '[')
        return skip_container(wk, i, ']', false);
    size_t start = *i;
    while (*i < wk->n && strchr("0123456789+-.eEtrufalsn", wk->text[*i]) && wk->text[*i])
        (*i)++;
    return *i > start;
}

/* Checks that the string value under `key` of the object at text[*i] (the
 * member at *i) decodes to exactly bytes[0..len), and that cJSON, reading the
 * \u00XX spelling, got the same text up to the first NUL. */
static void check_string_member(const char *raw, size_t raw_len, const cJSON *item,
                                const char *bytes, size_t len)
{
    size_t pos = 0, got_len;
    char *got = decode_string(raw, raw_len, &pos, SURROGATEESCAPE, &got_len);
    CHECK(got != NULL);
    CHECK(pos == raw_len);
    CHECK(got_len == len);
    CHECK(len == 0 || memcmp(got, bytes, len) == 0);
    free(got);
    pos = 0;
    char *latin = decode_string(raw, raw_len, &pos, AS_LATIN1, &got_len);
    CHECK(latin != NULL);
    CHECK(cJSON_IsString(item));
    /* cJSON stops at an escaped NUL: compare up to it. */
    size_t cut = strnlen(latin, got_len);
    CHECK(strlen(item->valuestring) == cut);
    CHECK(memcmp(item->valuestring, latin, cut) == 0);
    free(latin);
}

/* The raw text of each top-level member's value, in order. */
struct member {
    char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
};

static size_t split_object(const struct walk *wk, size_t at, struct member *m, size_t cap)
{
    size_t i = at, n = 0;
    CHECK(wk->text[i] == '{');
    i++;
    skip_ws(wk, &i);
    if (wk->text[i] == '}')
        return 0;
    for (;;) {
        CHECK(n < cap);
        m[n].key = decode_string(wk->text, wk->n, &i, SURROGATEESCAPE, &m[n].key_len);
        CHECK(m[n].key != NULL);
        skip_ws(wk, &i);
        CHECK(wk->text[i] == ':');
        i++;
        skip_ws(wk, &i);
        size_t start = i;
        CHECK(skip_value(wk, &i));
        m[n].value = wk->text + start;
        m[n].value_len = i - start;
        n++;
        skip_ws(wk, &i);
        if (wk->text[i] == ',') {
            i++;
            skip_ws(wk, &i);
            continue;
        }
        CHECK(wk->text[i] == '}');
        return n;
    }
}

static const char *const KEYS[] = {
    "id", "status", "return_code", "timed_out", "runtime", "cpu_time", "max_rss_kb",
    "stdout", "stdout_truncated", "stderr", "stderr_truncated", "error", "error_detail",
    "doc", "signal", "had_unexpected_error",
};
#define NKEYS (sizeof KEYS / sizeof KEYS[0])

static void check_nullable_string(const struct member *m, const cJSON *item, const char *s)
{
    if (!s) {
        CHECK(cJSON_IsNull(item));
        return;
    }
    check_string_member(m->value, m->value_len, item, s, strlen(s));
}

static void check_bool(const cJSON *item, bool want)
{
    CHECK(cJSON_IsBool(item));
    CHECK(cJSON_IsTrue(item) == want);
}

static void check_number(const cJSON *item, double want)
{
    CHECK(cJSON_IsNumber(item));
    CHECK(item->valuedouble == want);
}

static double micro(double seconds)
{
    return round(seconds * 1e6) / 1e6;
}

static void check_no_duplicate_keys(const cJSON *o)
{
    for (const cJSON *a = o ? o->child : NULL; a; a = a->next) {
        if (a->string)
            for (const cJSON *b = a->next; b; b = b->next)
                CHECK(strcmp(a->string, b->string) != 0);
        check_no_duplicate_keys(a);
    }
}

#define MAX_TRACKED 3

static void check_record(const rb_result *r, const char *line, size_t n)
{
    /* One line, newline-terminated, valid UTF-8. */
    CHECK(n >= 1 && line[n - 1] == '\n');
    CHECK(memchr(line, '\n', n - 1) == NULL);
    CHECK(all_utf8((const unsigned char *)line, n - 1));
    struct walk wk = { line, n - 1 };
    size_t end = 0;
    CHECK(skip_value(&wk, &end));
    CHECK(end == n - 1);

    char *spelt = for_cjson(line, n - 1);
    cJSON *o = cJSON_ParseWithLength(spelt, n - 1);
    CHECK(o != NULL);
    CHECK(cJSON_IsObject(o));
    check_no_duplicate_keys(o);

    struct member m[NKEYS + 4];
    size_t nm = split_object(&wk, 0, m, sizeof m / sizeof m[0]);
    CHECK(nm >= NKEYS);
    size_t k = 0;
    for (const cJSON *item = o->child; item; item = item->next, k++) {
        CHECK(k < nm);
        CHECK(strcmp(item->string, m[k].key) == 0);
        if (k < NKEYS)
            CHECK(strcmp(m[k].key, KEYS[k]) == 0);
    }
    CHECK(k == nm);

    check_nullable_string(&m[0], cJSON_GetObjectItemCaseSensitive(o, "id"), r->id);
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(o, "status");
    CHECK(cJSON_IsString(status) && strcmp(status->valuestring, rb_status_name(r->status)) == 0);
    const cJSON *rc = cJSON_GetObjectItemCaseSensitive(o, "return_code");
    if (r->status == RB_STATUS_INVALID)
        CHECK(cJSON_IsNull(rc));
    else
        check_number(rc, r->return_code);
    check_bool(cJSON_GetObjectItemCaseSensitive(o, "timed_out"), r->timed_out);
    check_number(cJSON_GetObjectItemCaseSensitive(o, "runtime"), micro(r->runtime));
    check_number(cJSON_GetObjectItemCaseSensitive(o, "cpu_time"), micro(r->cpu_time));
    check_number(cJSON_GetObjectItemCaseSensitive(o, "max_rss_kb"), (double)r->max_rss_kb);
    check_string_member(m[7].value, m[7].value_len, cJSON_GetObjectItemCaseSensitive(o, "stdout"),
                        r->stdout_data ? r->stdout_data : "", r->stdout_len);
    check_bool(cJSON_GetObjectItemCaseSensitive(o, "stdout_truncated"), r->stdout_truncated);
    check_string_member(m[9].value, m[9].value_len, cJSON_GetObjectItemCaseSensitive(o, "stderr"),
                        r->stderr_data ? r->stderr_data : "", r->stderr_len);
    check_bool(cJSON_GetObjectItemCaseSensitive(o, "stderr_truncated"), r->stderr_truncated);
    check_nullable_string(&m[11], cJSON_GetObjectItemCaseSensitive(o, "error"), r->error);
    check_nullable_string(&m[12], cJSON_GetObjectItemCaseSensitive(o, "error_detail"), r->error_detail);
    check_nullable_string(&m[13], cJSON_GetObjectItemCaseSensitive(o, "doc"), r->doc);
    const cJSON *sig = cJSON_GetObjectItemCaseSensitive(o, "signal");
    if (r->signal)
        check_number(sig, r->signal);
    else
        CHECK(cJSON_IsNull(sig));
    check_bool(cJSON_GetObjectItemCaseSensitive(o, "had_unexpected_error"), r->had_unexpected_error);

    /* The optional members, in order. */
    size_t at = NKEYS;
    if (r->namespace_json) {
        CHECK(at < nm && strcmp(m[at].key, "namespace") == 0);
        CHECK(m[at].value_len == strlen(r->namespace_json));
        CHECK(memcmp(m[at].value, r->namespace_json, m[at].value_len) == 0);
        at++;
        if (r->namespace_truncated) {
            CHECK(at < nm && strcmp(m[at].key, "namespace_truncated") == 0);
            check_bool(cJSON_GetObjectItemCaseSensitive(o, "namespace_truncated"), true);
            at++;
        }
    }
    if (r->ntracked) {
        CHECK(at < nm && strcmp(m[at].key, "tracked_files") == 0);
        struct member f[MAX_TRACKED + 1];
        size_t nf = split_object(&wk, (size_t)(m[at].value - line), f, MAX_TRACKED + 1);
        const cJSON *files = cJSON_GetObjectItemCaseSensitive(o, "tracked_files");
        CHECK(cJSON_IsObject(files));
        const cJSON *item = files->child;
        size_t j = 0, cut = 0;
        for (size_t i = 0; i < r->ntracked; i++) {
            const rb_tracked_file *t = &r->tracked[i];
            if (!t->data)
                continue; /* absent: left out */
            CHECK(j < nf && item != NULL);
            CHECK(f[j].key_len == strlen(t->path) && memcmp(f[j].key, t->path, f[j].key_len) == 0);
            check_string_member(f[j].value, f[j].value_len, item, t->data, t->len);
            cut += t->truncated;
            free(f[j].key);
            item = item->next;
            j++;
        }
        CHECK(j == nf && item == NULL);
        at++;
        const cJSON *trunc = cJSON_GetObjectItemCaseSensitive(o, "tracked_files_truncated");
        if (cut) {
            CHECK(at < nm && strcmp(m[at].key, "tracked_files_truncated") == 0);
            CHECK(cJSON_IsArray(trunc) && (size_t)cJSON_GetArraySize(trunc) == cut);
            /* Each entry decodes (surrogateescape) to a truncated file's path. */
            size_t pos = 1, e = 0;
            for (size_t i = 0; i < r->ntracked; i++) {
                const rb_tracked_file *t = &r->tracked[i];
                if (!t->data || !t->truncated)
                    continue;
                while (m[at].value[pos] == ',' || m[at].value[pos] == ' ')
                    pos++;
                size_t plen;
                char *p = decode_string(m[at].value, m[at].value_len, &pos, SURROGATEESCAPE, &plen);
                CHECK(p != NULL);
                CHECK(plen == strlen(t->path) && memcmp(p, t->path, plen) == 0);
                free(p);
                e++;
            }
            CHECK(e == cut);
            at++;
        } else {
            CHECK(trunc == NULL);
        }
    }
    CHECK(at == nm);
    for (size_t i = 0; i < nm; i++)
        free(m[i].key);
    cJSON_Delete(o);
    free(spelt);
}

static int out_fd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (out_fd < 0) {
        out_fd = memfd_create("fuzz_results", MFD_CLOEXEC);
        CHECK(out_fd >= 0);
    }
    struct input in = { data, size };
    rb_result r;
    memset(&r, 0, sizeof r);

    /* The header: status, flags, numbers. */
    r.status = (rb_status)(take_u64(&in, 1) % (RB_STATUS_INTERNAL + 1));
    unsigned flags = (unsigned)take_u64(&in, 1);
    r.timed_out = flags & 1;
    r.stdout_truncated = flags & 2;
    r.stderr_truncated = flags & 4;
    r.had_unexpected_error = flags & 8;
    r.namespace_truncated = flags & 16;
    bool with_namespace = flags & 32;
    r.return_code = (int)(int32_t)take_u64(&in, 4);
    r.signal = (int)(take_u64(&in, 1) % 65);
    r.runtime = take_seconds(&in);
    r.cpu_time = take_seconds(&in);
    r.max_rss_kb = (long)(take_u64(&in, 8) >> 24); /* up to 2^40 KiB (1 PiB), as above */
    unsigned ntracked = (unsigned)take_u64(&in, 1) % (MAX_TRACKED + 1);

    /* The byte strings. */
    size_t len;
    const uint8_t *p = take_bytes(&in, &len);
    char *out = copy_bytes(p, len);
    r.stdout_data = out;
    r.stdout_len = len;
    p = take_bytes(&in, &len);
    char *err = copy_bytes(p, len);
    r.stderr_data = err;
    r.stderr_len = len;
    char *id = take_cstr(&in, false);
    char *error = take_cstr(&in, true);
    char *detail = take_cstr(&in, true);
    char *doc = take_cstr(&in, true);
    r.id = id;
    r.error = error;
    r.error_detail = detail;
    r.doc = doc;

    /* The namespace is JSON the worker wrote; here a small object holding a
     * string from the input, written by rb_json_quote_bytes. */
    struct rb_buf ns = { 0 };
    if (with_namespace) {
        p = take_bytes(&in, &len);
        CHECK(rb_buf_append_str(&ns, "{\"x\": ") == 0);
        CHECK(rb_json_quote_bytes(&ns, (const char *)p, len) == 0);
        CHECK(rb_buf_append_str(&ns, "}") == 0);
        r.namespace_json = ns.data;
    }

    /* Tracked files: distinct paths (the manifest's tracked_files, checked by
     * rb_job_path_problem, which says nothing about their bytes), each with
     * data or absent. */
    rb_tracked_file tracked[MAX_TRACKED];
    char *paths[MAX_TRACKED] = { NULL };
    char *datas[MAX_TRACKED] = { NULL };
    for (unsigned i = 0; i < ntracked; i++) {
        unsigned tf = (unsigned)take_u64(&in, 1);
        char *path = take_cstr(&in, false);
        if (!*path || strlen(path) > 250) {
            free(path);
            path = strdup("f");
        }
        /* Distinct: a suffix ".N" makes a repeated path unique. */
        char *unique;
        CHECK(asprintf(&unique, "%s.%u", path, i) >= 0);
        free(path);
        paths[i] = unique;
        p = take_bytes(&in, &len);
        datas[i] = (tf & 1) ? NULL : copy_bytes(p, len);
        tracked[i] = (rb_tracked_file){ unique, datas[i], datas[i] ? len : 0, (tf & 2) != 0 };
    }
    r.tracked = ntracked ? tracked : NULL;
    r.ntracked = ntracked;

    cJSON *rec = rb_result_to_json(&r);
    CHECK(rec != NULL);
    char *printed = cJSON_PrintUnformatted(rec);
    CHECK(printed != NULL);

    CHECK(ftruncate(out_fd, 0) == 0);
    CHECK(lseek(out_fd, 0, SEEK_SET) == 0);
    CHECK(rb_record_write(out_fd, rec) == 0);
    off_t n = lseek(out_fd, 0, SEEK_CUR);
    CHECK(n > 0);
    char *line = malloc((size_t)n);
    CHECK(line != NULL);
    CHECK(pread(out_fd, line, (size_t)n, 0) == n);
    size_t plen = strlen(printed);
    CHECK((size_t)n == plen + 1 && memcmp(line, printed, plen) == 0);

    check_record(&r, line, (size_t)n);

    free(line);
    cJSON_free(printed);
    cJSON_Delete(rec);
    rb_buf_free(&ns);
    for (unsigned i = 0; i < ntracked; i++) {
        free(paths[i]);
        free(datas[i]);
    }
    free(out);
    free(err);
    free(id);
    free(error);
    free(detail);
    free(doc);
    return 0;
}
