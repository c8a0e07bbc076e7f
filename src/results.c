#include "results.h"

#include <errno.h>
#include <math.h>
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

int rb_json_quote_bytes(struct rb_buf *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    /* Worst case: every byte becomes a six-character escape. */
    int rc = rb_buf_reserve(out, len * 6 + 2);
    if (rc < 0)
        return rc;
    char *w = out->data + out->len;
    *w++ = '"';
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            *w++ = (char)c;
            i++;
            continue;
        }
        switch (c) {
        case '"': *w++ = '\\'; *w++ = '"'; i++; continue;
        case '\\': *w++ = '\\'; *w++ = '\\'; i++; continue;
        case '\n': *w++ = '\\'; *w++ = 'n'; i++; continue;
        case '\r': *w++ = '\\'; *w++ = 'r'; i++; continue;
        case '\t': *w++ = '\\'; *w++ = 't'; i++; continue;
        case '\b': *w++ = '\\'; *w++ = 'b'; i++; continue;
        case '\f': *w++ = '\\'; *w++ = 'f'; i++; continue;
        default: break;
        }
        if (c < 0x20) {
            w += sprintf(w, "\\u%04x", c);
            i++;
            continue;
        }
        size_t n = utf8_sequence(p + i, len - i);
        if (n == 0) {
            w += sprintf(w, "\\udc%02x", c);
            i++;
            continue;
        }
        memcpy(w, p + i, n);
        w += n;
        i += n;
    }
    *w++ = '"';
    *w = '\0';
    out->len = (size_t)(w - out->data);
    return 0;
}

int rb_json_add_bytes(cJSON *obj, const char *key, const char *s, size_t len)
{
    if (!s)
        return cJSON_AddNullToObject(obj, key) ? 0 : -ENOMEM;
    struct rb_buf buf = { 0 };
    int rc = rb_json_quote_bytes(&buf, s, len);
    if (rc == 0 && !cJSON_AddRawToObject(obj, key, buf.data))
        rc = -ENOMEM;
    rb_buf_free(&buf);
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
    /* Present only for jobs that asked for them. */
    if (rc == 0 && r->namespace_json) {
        if (!cJSON_AddRawToObject(o, "namespace", r->namespace_json) ||
            (r->namespace_truncated && !cJSON_AddTrueToObject(o, "namespace_truncated")))
            rc = -ENOMEM;
    }
    if (rc == 0 && r->ntracked) {
        cJSON *files = cJSON_AddObjectToObject(o, "tracked_files");
        cJSON *cut = NULL;
        for (size_t i = 0; rc == 0 && files && i < r->ntracked; i++) {
            const rb_tracked_file *t = &r->tracked[i];
            if (!t->data)
                continue; /* absent: left out */
            rc = rb_json_add_bytes(files, t->path, t->data, t->len);
            if (rc == 0 && t->truncated) {
                if (!cut)
                    cut = cJSON_CreateArray();
                cJSON_AddItemToArray(cut, cJSON_CreateString(t->path));
            }
        }
        if (!files)
            rc = -ENOMEM;
        if (cut)
            cJSON_AddItemToObject(o, "tracked_files_truncated", cut);
    }
    if (rc < 0) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

int rb_record_write(int fd, const cJSON *record)
{
    char *text = cJSON_PrintUnformatted(record);
    if (!text)
        return -ENOMEM;
    size_t len = strlen(text);
    /* One buffer with the newline, one write: the line lands whole or not at all
     * unless the disk fills up mid-write. */
    struct rb_buf line = { 0 };
    int rc = rb_buf_reserve(&line, len + 1);
    if (rc == 0) {
        rb_buf_append(&line, text, len);
        rb_buf_append(&line, "\n", 1);
        rc = rb_write_all(fd, line.data, line.len);
    }
    rb_buf_free(&line);
    cJSON_free(text);
    return rc;
}
