#define _GNU_SOURCE
#include "results.h"

#include "values.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* Length of the valid UTF-8 sequence starting at s (at most n bytes), or 0. */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t min, cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        min = 0x80;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        min = 0x800;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        min = 0x10000;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* Writes the JSON string for p[0..len) at w (quotes included), or with w
 * NULL only counts it; returns its length. */
static size_t quote(char *w, const unsigned char *p, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t out = 2, i = 0;
    if (w)
        *w++ = '"';
    while (i < len) {
        unsigned char c = p[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            /* The common case, a run of plain ASCII, copied whole. */
            size_t j = i + 1;
            while (j < len && p[j] >= 0x20 && p[j] < 0x80 && p[j] != '"' && p[j] != '\\')
                j++;
            if (w) {
                memcpy(w, p + i, j - i);
                w += j - i;
            }
            out += j - i;
            i = j;
            continue;
        }
        char esc = 0;
        switch (c) {
        case '"': esc = '"'; break;
        case '\\': esc = '\\'; break;
        case '\n': esc = 'n'; break;
        case '\r': esc = 'r'; break;
        case '\t': esc = 't'; break;
        case '\b': esc = 'b'; break;
        case '\f': esc = 'f'; break;
        default: break;
        }
        if (esc) {
            if (w) {
                *w++ = '\\';
                *w++ = esc;
            }
            out += 2;
            i++;
            continue;
        }
        size_t n = c < 0x20 ? 0 : utf8_sequence(p + i, len - i);
        if (n == 0) {
            /* A control character, \u00XX; a byte that is not UTF-8,
             * \udcXX (Python's surrogateescape). */
            if (w) {
                memcpy(w, c < 0x20 ? "\\u00" : "\\udc", 4);
                w[4] = hex[c >> 4];
                w[5] = hex[c & 15];
                w += 6;
            }
            out += 6;
            i++;
            continue;
        }
        if (w) {
            memcpy(w, p + i, n);
            w += n;
        }
        out += n;
        i += n;
    }
    if (w)
        *w = '"';
    return out;
}

int rb_json_quote_bytes(struct rb_buf *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = quote(NULL, p, len);
    int rc = rb_buf_reserve(out, n);
    if (rc < 0)
        return rc;
    quote(out->data + out->len, p, len);
    out->len += n;
    out->data[out->len] = '\0';
    return 0;
}

/* Adds the JSON text in `buf` under `key`, the item taking the buffer as it
 * is (megabytes of output are not copied once more); freed on failure. */
static int add_raw_taking(cJSON *obj, const char *key, struct rb_buf *buf)
{
    cJSON *item = buf->data ? cJSON_CreateRaw("") : NULL;
    if (!item || !cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        rb_buf_free(buf);
        return -ENOMEM;
    }
    cJSON_free(item->valuestring);
    item->valuestring = buf->data;
    *buf = (struct rb_buf){ 0 };
    return 0;
}

int rb_json_add_bytes(cJSON *obj, const char *key, const char *s, size_t len)
{
    if (!s)
        return cJSON_AddNullToObject(obj, key) ? 0 : -ENOMEM;
    struct rb_buf buf = { 0 };
    int rc = rb_json_quote_bytes(&buf, s, len);
    if (rc < 0) {
        rb_buf_free(&buf);
        return rc;
    }
    return add_raw_taking(obj, key, &buf);
}

int rb_json_add_tracked(cJSON *obj, const rb_tracked_file *tracked, size_t n)
{
    /* Written as text: a path is bytes too, escaped like the data, where
     * cJSON would copy a key's bytes out as they are, invalid UTF-8 and all. */
    struct rb_buf files = { 0 }, cut = { 0 };
    int rc = rb_buf_append_str(&files, "{");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const rb_tracked_file *t = &tracked[i];
        if (!t->data)
            continue; /* absent: left out */
        if (files.len > 1)
            rc = rb_buf_append_str(&files, ",");
        if (rc == 0)
            rc = rb_json_quote_bytes(&files, t->path, strlen(t->path));
        if (rc == 0)
            rc = rb_buf_append_str(&files, ":");
        if (rc == 0)
            rc = rb_json_quote_bytes(&files, t->data, t->len);
        if (rc == 0 && t->truncated) {
            rc = rb_buf_append_str(&cut, cut.len ? "," : "[");
            if (rc == 0)
                rc = rb_json_quote_bytes(&cut, t->path, strlen(t->path));
        }
    }
    if (rc == 0)
        rc = rb_buf_append_str(&files, "}");
    if (rc == 0)
        rc = add_raw_taking(obj, "tracked_files", &files);
    if (rc == 0 && cut.len) {
        rc = rb_buf_append_str(&cut, "]");
        if (rc == 0)
            rc = add_raw_taking(obj, "tracked_files_truncated", &cut);
    }
    rb_buf_free(&files);
    rb_buf_free(&cut);
    return rc;
}

static int add_cstr(cJSON *obj, const char *key, const char *s)
{
    return rb_json_add_bytes(obj, key, s, s ? strlen(s) : 0);
}

/* Seconds rounded to the microsecond, so records do not carry float noise. */
static double micro(double seconds)
{
    return round(seconds * 1e6) / 1e6;
}

const char *rb_call_status_name(rb_call_status s)
{
    static const char *const names[] = {
        [RB_CALL_NOT_RUN] = "not_run",   [RB_CALL_PASSED] = "passed",   [RB_CALL_WRONG] = "wrong",
        [RB_CALL_EXCEPTION] = "exception", [RB_CALL_TIMEOUT] = "timeout", [RB_CALL_RETURNED] = "returned",
    };
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "not_run";
}

/* A tagged value as Python would print it, shortened. */
static void add_repr(cJSON *o, const char *key, const char *tagged)
{
    if (!tagged)
        return;
    cJSON *tree = cJSON_Parse(tagged);
    struct rb_value_arena arena = { 0 };
    struct rb_value v;
    char err[64];
    struct rb_buf text = { 0 };
    if (tree && rb_value_parse(tree, &v, &arena, err, sizeof err) == 0) {
        rb_value_repr(&v, &text, 300);
        if (text.data)
            rb_json_add_bytes(o, key, text.data, text.len);
    }
    rb_buf_free(&text);
    rb_value_arena_free(&arena);
    cJSON_Delete(tree);
}

int rb_json_add_calls(cJSON *o, const rb_call_result *calls, size_t n)
{
    size_t passed = 0, failures = 0;
    cJSON *statuses = cJSON_CreateArray(), *failed = cJSON_CreateArray();
    if (!statuses || !failed) {
        cJSON_Delete(statuses);
        cJSON_Delete(failed);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const rb_call_result *c = &calls[i];
        bool ok = c->status == RB_CALL_PASSED || c->status == RB_CALL_RETURNED;
        passed += ok;
        cJSON_AddItemToArray(statuses, cJSON_CreateString(rb_call_status_name(c->status)));
        if (ok || c->status == RB_CALL_NOT_RUN || failures++ >= RB_CALL_FAILURES_SHOWN)
            continue;
        cJSON *f = cJSON_CreateObject();
        cJSON_AddItemToArray(failed, f);
        cJSON_AddNumberToObject(f, "index", (double)i);
        cJSON_AddStringToObject(f, "status", rb_call_status_name(c->status));
        add_repr(f, "args", c->args);
        add_repr(f, "returned", c->value);
        add_repr(f, "expected", c->expected);
        if (c->exception)
            cJSON_AddStringToObject(f, "exception", c->exception);
        if (c->error)
            rb_json_add_bytes(f, "error", c->error, strlen(c->error));
        cJSON_AddNumberToObject(f, "time", round(c->time * 1e6) / 1e6);
    }
    bool ok = cJSON_AddBoolToObject(o, "passed", passed == n) &&
              cJSON_AddNumberToObject(o, "calls_passed", (double)passed) &&
              cJSON_AddItemToObject(o, "calls", statuses);
    if (!ok)
        cJSON_Delete(statuses);
    if (ok && !cJSON_AddItemToObject(o, "call_failures", failed)) {
        cJSON_Delete(failed);
        return -ENOMEM;
    }
    if (!ok)
        cJSON_Delete(failed);
    return ok ? 0 : -ENOMEM;
}

cJSON *rb_result_to_json(const rb_result *r)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    int rc = add_cstr(o, "id", r->id);
    if (rc == 0 && !cJSON_AddStringToObject(o, "status", rb_status_name(r->status)))
        rc = -ENOMEM;
    if (rc == 0 && r->status == RB_STATUS_INVALID) {
        if (!cJSON_AddNullToObject(o, "return_code"))
            rc = -ENOMEM;
    } else if (rc == 0 && !cJSON_AddNumberToObject(o, "return_code", r->return_code)) {
        rc = -ENOMEM;
    }
    if (rc == 0 && !cJSON_AddBoolToObject(o, "timed_out", r->timed_out))
        rc = -ENOMEM;
    if (rc == 0 && !cJSON_AddNumberToObject(o, "runtime", micro(r->runtime)))
        rc = -ENOMEM;
    if (rc == 0 && !cJSON_AddNumberToObject(o, "cpu_time", micro(r->cpu_time)))
        rc = -ENOMEM;
    if (rc == 0 && !cJSON_AddNumberToObject(o, "max_rss_kb", (double)r->max_rss_kb))
        rc = -ENOMEM;
    if (rc == 0)
        rc = rb_json_add_bytes(o, "stdout", r->stdout_data ? r->stdout_data : "", r->stdout_len);
    if (rc == 0 && !cJSON_AddBoolToObject(o, "stdout_truncated", r->stdout_truncated))
        rc = -ENOMEM;
    if (rc == 0)
        rc = rb_json_add_bytes(o, "stderr", r->stderr_data ? r->stderr_data : "", r->stderr_len);
    if (rc == 0 && !cJSON_AddBoolToObject(o, "stderr_truncated", r->stderr_truncated))
        rc = -ENOMEM;
    if (rc == 0)
        rc = add_cstr(o, "error", r->error);
    if (rc == 0)
        rc = add_cstr(o, "error_detail", r->error_detail);
    if (rc == 0)
        rc = add_cstr(o, "doc", r->doc);
    if (rc == 0) {
        cJSON *sig = r->signal ? cJSON_AddNumberToObject(o, "signal", r->signal)
                               : cJSON_AddNullToObject(o, "signal");
        if (!sig)
            rc = -ENOMEM;
    }
    if (rc == 0 && !cJSON_AddBoolToObject(o, "had_unexpected_error", r->had_unexpected_error))
        rc = -ENOMEM;
    if (rc == 0 && r->doc_truncated && !cJSON_AddTrueToObject(o, "doc_truncated"))
        rc = -ENOMEM;
    /* Present only for jobs that asked for them. */
    if (rc == 0 && r->namespace_json) {
        if (!cJSON_AddRawToObject(o, "namespace", r->namespace_json) ||
            (r->namespace_truncated && !cJSON_AddTrueToObject(o, "namespace_truncated")))
            rc = -ENOMEM;
    }
    if (rc == 0 && r->ntracked)
        rc = rb_json_add_tracked(o, r->tracked, r->ntracked);
    if (rc == 0 && r->ncalls)
        rc = rb_json_add_calls(o, r->calls, r->ncalls);
    if (rc < 0) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* About how long the printed record will be: its strings and raw values
 * (output, tracebacks), and room for the rest. */
static size_t printed_estimate(const cJSON *record)
{
    size_t n = 256;
    for (const cJSON *c = record->child; c; c = c->next) {
        n += (c->string ? strlen(c->string) : 0) + 32;
        if ((cJSON_IsRaw(c) || cJSON_IsString(c)) && c->valuestring)
            n += strlen(c->valuestring) + (cJSON_IsString(c) ? 16 : 0);
        else if (c->child)
            n += printed_estimate(c);
    }
    return n;
}

char *rb_record_print(const cJSON *record, size_t *len)
{
    /* Printed into one buffer big enough from the start (cJSON would grow
     * its own by doubling, copying megabytes of output each time), with
     * room for a newline after it. */
    size_t cap = printed_estimate(record);
    char *text = malloc(cap + 1);
    if (!text)
        return NULL;
    if (!cJSON_PrintPreallocated((cJSON *)record, text, (int)(cap < INT_MAX ? cap : INT_MAX), false)) {
        free(text);
        text = cJSON_PrintUnformatted(record); /* the estimate fell short */
        if (!text)
            return NULL;
        char *grown = realloc(text, strlen(text) + 2);
        if (!grown) {
            cJSON_free(text);
            return NULL;
        }
        text = grown;
    }
    *len = strlen(text);
    return text;
}

int rb_record_write(int fd, const cJSON *record)
{
    /* One write, so the line lands whole or not at all unless the disk
     * fills up mid-write. */
    size_t len;
    char *text = rb_record_print(record, &len);
    if (!text)
        return -ENOMEM;
    text[len] = '\n';
    int rc = rb_write_all(fd, text, len + 1);
    free(text);
    return rc;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        if (d > 15)
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

cJSON *rb_record_parse(const char *line, size_t len)
{
    if (!memmem(line, len, "\\udc", 4) && !memmem(line, len, "\\uDC", 4))
        return cJSON_ParseWithLength(line, len);
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return NULL;
    size_t n = 0;
    bool in_string = false, after_high = false;
    for (size_t i = 0; i < len; i++) {
        char c = line[i];
        if (!in_string) {
            in_string = c == '"';
            copy[n++] = c;
            continue;
        }
        if (c == '"') {
            in_string = false;
            after_high = false;
            copy[n++] = c;
            continue;
        }
        if (c != '\\' || i + 1 >= len) {
            after_high = false;
            copy[n++] = c;
            continue;
        }
        unsigned u;
        if (line[i + 1] == 'u' && i + 5 < len && hex4(line + i + 2, &u) == 0) {
            if (u >= 0xdc80 && u <= 0xdcff && !after_high) {
                copy[n++] = (char)(u & 0xff); /* the byte it stands for */
            } else {
                memcpy(copy + n, line + i, 6);
                n += 6;
            }
            after_high = u >= 0xd800 && u <= 0xdbff;
            i += 5;
            continue;
        }
        /* Any other escape, copied whole (so that "\\\\udc80" stays text). */
        copy[n++] = c;
        copy[n++] = line[++i];
        after_high = false;
    }
    cJSON *tree = cJSON_ParseWithLength(copy, n);
    free(copy);
    return tree;
}

size_t rb_record_line_key(char *buf, size_t len, long line_no)
{
    return (size_t)snprintf(buf, len, "%cline:%ld", '\0', line_no);
}

char *rb_record_string(const cJSON *rec, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, key);
    if (cJSON_IsString(v))
        return strdup(v->valuestring);
    if (!cJSON_IsRaw(v) || !v->valuestring || v->valuestring[0] != '"')
        return NULL;
    cJSON *s = rb_record_parse(v->valuestring, strlen(v->valuestring));
    char *text = cJSON_IsString(s) ? strdup(s->valuestring) : NULL;
    cJSON_Delete(s);
    return text;
}
