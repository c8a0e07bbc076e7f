/* JSON text read in place (jsontext.h). */
#include "jsontext.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#define MAX_DEPTH 512

static const char *skip_ws(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
        s++;
    return s;
}

/* Past the string at s: its closing quote is the first one not escaped,
 * that is with an even run of backslashes before it. memchr finds quotes
 * far faster than a loop over every byte, and values run to megabytes. */
static const char *skip_string(const char *s, const char *end)
{
    const char *start = ++s;
    while (s < end) {
        const char *q = memchr(s, '"', (size_t)(end - s));
        if (!q)
            return NULL;
        size_t backslashes = 0;
        while (q - backslashes > start && q[-1 - (ptrdiff_t)backslashes] == '\\')
            backslashes++;
        if (backslashes % 2 == 0)
            return q + 1;
        s = q + 1;
    }
    return NULL;
}

static const char *skip_word(const char *s, const char *end, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(end - s) >= n && memcmp(s, word, n) == 0 ? s + n : NULL;
}

static const char *skip_number(const char *s, const char *end)
{
    const char *start = s;
    if (s < end && *s == '-') {
        s++;
        if (s < end && *s == 'I')
            return skip_word(s, end, "Infinity");
    }
    while (s < end && ((*s >= '0' && *s <= '9') || *s == '.' || *s == 'e' || *s == 'E' || *s == '+' ||
                       *s == '-'))
        s++;
    return s > start && !(s == start + 1 && *start == '-') ? s : NULL;
}

/* The value at s (no leading whitespace), containers walked with an
 * explicit stack of closers so depth costs no C stack. */
const char *rb_json_skip(const char *s, const char *end)
{
    char stack[MAX_DEPTH];
    int depth = 0;
    s = skip_ws(s, end);
    for (;;) {
        if (s >= end)
            return NULL;
        switch (*s) {
        case '"': s = skip_string(s, end); break;
        case '{':
        case '[':
            if (depth == MAX_DEPTH)
                return NULL;
            stack[depth++] = *s == '{' ? '}' : ']';
            s = skip_ws(s + 1, end);
            if (s < end && *s == stack[depth - 1]) {
                depth--;
                s++;
                break;
            }
            if (stack[depth - 1] == '}') {
                if (s >= end || *s != '"' || !(s = skip_string(s, end)))
                    return NULL;
                s = skip_ws(s, end);
                if (s >= end || *s != ':')
                    return NULL;
                s = skip_ws(s + 1, end);
            }
            continue; /* the first item */
        case 't': s = skip_word(s, end, "true"); break;
        case 'f': s = skip_word(s, end, "false"); break;
        case 'n': s = skip_word(s, end, "null"); break;
        case 'N': s = skip_word(s, end, "NaN"); break;
        case 'I': s = skip_word(s, end, "Infinity"); break;
        default: s = skip_number(s, end); break;
        }
        if (!s)
            return NULL;
        /* After a value: the next item of the container, or its end. */
        for (;;) {
            if (depth == 0)
                return s;
            s = skip_ws(s, end);
            if (s < end && *s == stack[depth - 1]) {
                depth--;
                s++;
                continue;
            }
            if (s >= end || *s != ',')
                return NULL;
            s = skip_ws(s + 1, end);
            if (stack[depth - 1] == '}') {
                if (s >= end || *s != '"' || !(s = skip_string(s, end)))
                    return NULL;
                s = skip_ws(s, end);
                if (s >= end || *s != ':')
                    return NULL;
                s = skip_ws(s + 1, end);
            }
            break;
        }
    }
}

static int walk(struct rb_json_iter *it, const char *json, size_t len, char open, char close)
{
    it->end = json + len;
    it->s = skip_ws(json, it->end);
    it->close = close;
    it->started = false;
    if (it->s >= it->end || *it->s != open)
        return -EINVAL;
    it->s++;
    return 0;
}

int rb_json_array(struct rb_json_iter *it, const char *json, size_t len)
{
    return walk(it, json, len, '[', ']');
}

int rb_json_object(struct rb_json_iter *it, const char *json, size_t len)
{
    return walk(it, json, len, '{', '}');
}

int rb_json_next(struct rb_json_iter *it, const char **key, size_t *key_len, const char **value,
                 size_t *value_len)
{
    const char *s = skip_ws(it->s, it->end);
    if (s < it->end && *s == it->close)
        return 0;
    if (it->started) {
        if (s >= it->end || *s != ',')
            return -EINVAL;
        s = skip_ws(s + 1, it->end);
    }
    it->started = true;
    if (it->close == '}') {
        const char *k = s;
        if (s >= it->end || *s != '"' || !(s = skip_string(s, it->end)))
            return -EINVAL;
        if (key) {
            *key = k;
            *key_len = (size_t)(s - k);
        }
        s = skip_ws(s, it->end);
        if (s >= it->end || *s != ':')
            return -EINVAL;
        s = skip_ws(s + 1, it->end);
    } else if (key) {
        *key = NULL;
        *key_len = 0;
    }
    const char *v = s;
    if (!(s = rb_json_skip(s, it->end)))
        return -EINVAL;
    *value = v;
    *value_len = (size_t)(s - v);
    it->s = s;
    return 1;
}

int rb_json_find(const char *json, size_t len, const char *key, const char **value, size_t *value_len)
{
    struct rb_json_iter it;
    if (rb_json_object(&it, json, len) < 0)
        return -EINVAL;
    size_t klen = strlen(key);
    const char *k;
    size_t kl;
    int rc;
    while ((rc = rb_json_next(&it, &k, &kl, value, value_len)) == 1)
        if (kl == klen + 2 && memcmp(k + 1, key, klen) == 0)
            return 0;
    return rc < 0 ? rc : -ENOENT;
}
