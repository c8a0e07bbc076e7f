/*
 * Python values outside Python (values.h).
 */
#define _GNU_SOURCE
#include "values.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
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

/* Hexadecimal digits (an int too long for the interpreter's decimal
 * conversion: the worker sends those as hex) to decimal, in `out`. */
static bool hex_to_decimal(const char *hex, size_t n, char *out, size_t outlen)
{
    /* Little-endian limbs of 10^9. */
    size_t cap = n / 7 + 2, used = 1;
    uint32_t *limb = calloc(cap, sizeof *limb);
    if (!limb)
        return false;
    for (size_t i = 0; i < n; i++) {
        int d = isdigit((unsigned char)hex[i]) ? hex[i] - '0' : (tolower((unsigned char)hex[i]) - 'a' + 10);
        if (d < 0 || d > 15) {
            free(limb);
            return false;
        }
        uint64_t carry = (uint64_t)d;
        for (size_t k = 0; k < used; k++) {
            uint64_t v = (uint64_t)limb[k] * 16 + carry;
            limb[k] = (uint32_t)(v % 1000000000u);
            carry = v / 1000000000u;
        }
        if (carry)
            limb[used++] = (uint32_t)carry;
    }
    size_t pos = (size_t)snprintf(out, outlen, "%u", limb[used - 1]);
    for (size_t k = used - 1; k-- > 0 && pos < outlen;)
        pos += (size_t)snprintf(out + pos, outlen - pos, "%09u", limb[k]);
    free(limb);
    return pos < outlen;
}

/* Decimal digits to lowercase hexadecimal, in `out`. */
static bool decimal_to_hex(const char *dec, size_t n, char *out, size_t outlen)
{
    /* Little-endian limbs of 2^32, times 10^9 per chunk of nine digits. */
    size_t cap = n / 9 + 2, used = 1;
    uint32_t *limb = calloc(cap, sizeof *limb);
    if (!limb)
        return false;
    for (size_t i = 0; i < n; i += 9) {
        size_t k = n - i < 9 ? n - i : 9;
        uint64_t mul = 1, chunk = 0;
        for (size_t j = 0; j < k; j++) {
            mul *= 10;
            chunk = chunk * 10 + (uint64_t)(dec[i + j] - '0');
        }
        uint64_t carry = chunk;
        for (size_t l = 0; l < used; l++) {
            uint64_t v = (uint64_t)limb[l] * mul + carry;
            limb[l] = (uint32_t)v;
            carry = v >> 32;
        }
        if (carry)
            limb[used++] = (uint32_t)carry;
    }
    size_t pos = (size_t)snprintf(out, outlen, "%x", limb[used - 1]);
    for (size_t l = used - 1; l-- > 0 && pos < outlen;)
        pos += (size_t)snprintf(out + pos, outlen - pos, "%08x", limb[l]);
    free(limb);
    return pos < outlen;
}

/* Ints past Python's default limit on decimal conversion (4300 digits,
 * sys.get_int_max_str_digits) are kept in one canonical form, "0x" and
 * lowercase hex, whichever way they came: the worker sends those as hex,
 * and converting them to decimal takes time quadratic in their length
 * (HumanEval+'s task 83 returns ints of 1.6 million digits). Below it, ints
 * are decimal. Equal ints thus have equal text. */
#define DECIMAL_DIGITS_MAX 4300
#define HEX_DIGITS_SURELY_BELOW 3571 /* 16^3571 < 10^4300 < 16^3572 */

/* 10^4300 in hex (3,572 digits): a hex int of that many digits is below it
 * (and canonical in decimal) when it sorts before it. Made once. */
static char hex_limit[HEX_DIGITS_SURELY_BELOW + 8];
static pthread_once_t hex_limit_once = PTHREAD_ONCE_INIT;

static void make_hex_limit(void)
{
    char dec[DECIMAL_DIGITS_MAX + 2];
    dec[0] = '1';
    memset(dec + 1, '0', DECIMAL_DIGITS_MAX);
    dec[DECIMAL_DIGITS_MAX + 1] = '\0';
    if (!decimal_to_hex(dec, DECIMAL_DIGITS_MAX + 1, hex_limit, sizeof hex_limit))
        hex_limit[0] = '\0';
}

/* Whether digits (no sign, no leading zeros) are already in the canonical
 * form: decimal below 10^4300, hex from there on. */
static bool canonical(const char *digits, size_t n, bool hex)
{
    if (!hex)
        return n <= DECIMAL_DIGITS_MAX;
    if (n != HEX_DIGITS_SURELY_BELOW + 1)
        return n > HEX_DIGITS_SURELY_BELOW;
    pthread_once(&hex_limit_once, make_hex_limit);
    if (strlen(hex_limit) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        int c = tolower((unsigned char)digits[i]);
        if (c != hex_limit[i])
            return c > hex_limit[i];
    }
    return true; /* 10^4300 itself */
}

/* "-0012" -> "-12", "-0" -> "0", "0x1f" -> "31"; false when it is not an integer. */
bool rb_value_normalise_int(const char *s, char *out, size_t outlen, bool convert)
{
    bool neg = false;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    const char *digits = hex ? s + 2 : s;
    size_t n = strspn(digits, hex ? "0123456789abcdefABCDEF" : "0123456789");
    if (n == 0 || digits[n] != '\0' || outlen < 4)
        return false;
    while (n > 1 && digits[0] == '0')
        digits++, n--;
    bool zero = n == 1 && digits[0] == '0';
    /* From a job, only the canonical form is read: converting costs time
     * quadratic in the length, in the one thread that serves every job, and
     * the worker sends every int already converted (sandbox/pyvalues.c). */
    if (!convert && !canonical(digits, n, hex))
        return false;
    char *body = out + (neg && !zero);
    size_t room = outlen - (size_t)(neg && !zero);
    bool ok;
    if (hex && n <= HEX_DIGITS_SURELY_BELOW + 1) {
        ok = hex_to_decimal(digits, n, body, room);
        if (ok && strlen(body) > DECIMAL_DIGITS_MAX) /* 3572 hex digits: either side of the limit */
            ok = n + 3 <= room && snprintf(body, room, "0x%.*s", (int)n, digits) > 0;
    } else if (hex) {
        ok = n + 3 <= room && snprintf(body, room, "0x%.*s", (int)n, digits) > 0;
    } else if (n > DECIMAL_DIGITS_MAX) {
        ok = room > 3 && decimal_to_hex(digits, n, body + 2, room - 2);
        if (ok)
            memcpy(body, "0x", 2);
    } else {
        ok = n + 1 <= room && snprintf(body, room, "%.*s", (int)n, digits) > 0;
    }
    if (!ok)
        return false;
    for (char *c = body; *c; c++)
        if (*c >= 'A' && *c <= 'F')
            *c = (char)(*c - 'A' + 'a');
    if (neg && !zero)
        out[0] = '-';
    return true;
}

bool rb_value_parse_float(const char *s, double *out)
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
        return rb_value_parse_float(buf, re);
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
        if (!rb_value_parse_float(real, re))
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
    return rb_value_parse_float(imag, im);
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
        size_t room = cJSON_IsString(first) ? strlen(first->valuestring) * 2 + 8 : 0;
        char *digits = room ? arena_alloc(a, room) : NULL;
        if (!digits || !rb_value_normalise_int(first->valuestring, digits, room, false)) {
            snprintf(err, errlen, "an int that is not one");
            return -EINVAL;
        }
        v->kind = RB_V_INT;
        v->text = digits;
        return 0;
    }
    if (strcmp(t, "f") == 0) {
        v->kind = RB_V_FLOAT;
        if (!cJSON_IsString(first) || !rb_value_parse_float(first->valuestring, &v->f)) {
            snprintf(err, errlen, "a float that is not one");
            return -EINVAL;
        }
        return 0;
    }
    if (strcmp(t, "c") == 0) {
        v->kind = RB_V_COMPLEX;
        if (!cJSON_IsString(first) || !cJSON_IsString(first->next) || !rb_value_parse_float(first->valuestring, &v->f) ||
            !rb_value_parse_float(first->next->valuestring, &v->im)) {
            snprintf(err, errlen, "a complex that is not one");
            return -EINVAL;
        }
        return 0;
    }
    if (strcmp(t, "h") == 0) {
        /* A value too large to send, as its text's digest (pyvalues.c):
         * equal only to the same digest, which verdict.c sees by text. */
        v->kind = RB_V_OTHER;
        v->type_name = "digest";
        v->text = cJSON_IsString(first) ? first->valuestring : "?";
        return 0;
    }
    if (strcmp(t, "z") == 0) {
        v->kind = RB_V_STR; /* a str with NUL characters, its UTF-8 as base64 */
        if (!cJSON_IsString(first) || !(v->text = b64_decode(a, first->valuestring, &v->len))) {
            snprintf(err, errlen, "a str that is not base64");
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
        if (strchr(v->text, 'x'))
            return false; /* past 10^4300: numpy could not take it as a number either */
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
