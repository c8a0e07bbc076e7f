/*
 * The job spec's encoding and decoding (spec.h), driven by its one
 * declaration: a table made from RBZ_SPEC_FIELDS, read by two loops.
 */
#include "spec.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum field_type { STR, NUM, STRS, OBJ, CHECKS, CALLS };

struct field {
    const char *key;
    enum field_type type;
    bool required;
    size_t offset;       /* of the member */
    size_t count_offset; /* of its count (STRS, CHECKS) */
};

#define COUNT_OFFSET_STR(m) 0
#define COUNT_OFFSET_NUM(m) 0
#define COUNT_OFFSET_OBJ(m) 0
#define COUNT_OFFSET_STRS(m) offsetof(struct rbz_spec, n##m)
#define COUNT_OFFSET_CHECKS(m) offsetof(struct rbz_spec, n##m)
#define COUNT_OFFSET_CALLS(m) offsetof(struct rbz_spec, n##m)
#define FIELD_ROW(m, k, t, r) { k, t, r, offsetof(struct rbz_spec, m), COUNT_OFFSET_##t(m) },

static const struct field FIELDS[] = { RBZ_SPEC_FIELDS(FIELD_ROW) };
#define NFIELDS (sizeof FIELDS / sizeof FIELDS[0])

#define AT(s, off, type) ((type *)((char *)(s) + (off)))

void rbz_spec_init(struct rbz_spec *s)
{
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < NFIELDS; i++)
        if (FIELDS[i].type == NUM)
            *AT(s, FIELDS[i].offset, double) = -1;
}

static bool add_field(cJSON *o, const struct rbz_spec *s, const struct field *f)
{
    const char *str = *AT(s, f->offset, const char *);
    size_t n = f->count_offset ? *AT(s, f->count_offset, size_t) : 0;
    switch (f->type) {
    case STR:
        return !str || cJSON_AddStringToObject(o, f->key, str);
    case NUM: {
        double v = *AT(s, f->offset, double);
        return v < 0 || cJSON_AddNumberToObject(o, f->key, v);
    }
    case OBJ: {
        if (!str)
            return true;
        cJSON *obj = cJSON_Parse(str);
        if (!cJSON_IsObject(obj)) {
            cJSON_Delete(obj);
            return false;
        }
        return cJSON_AddItemToObject(o, f->key, obj);
    }
    case STRS: {
        const char *const *items = *AT(s, f->offset, const char *const *);
        if (!n)
            return true;
        cJSON *arr = cJSON_AddArrayToObject(o, f->key);
        for (size_t i = 0; arr && i < n; i++) {
            cJSON *item = cJSON_CreateString(items[i]);
            if (!item || !cJSON_AddItemToArray(arr, item))
                return false;
        }
        return arr != NULL;
    }
    case CHECKS: {
        const struct rbz_spec_check *c = *AT(s, f->offset, const struct rbz_spec_check *);
        if (!n)
            return true;
        cJSON *arr = cJSON_AddArrayToObject(o, f->key);
        for (size_t i = 0; arr && i < n; i++) {
            cJSON *item = cJSON_CreateObject();
            if (!item || !cJSON_AddItemToArray(arr, item) ||
                !cJSON_AddStringToObject(item, "source", c[i].source ? c[i].source : "") ||
                !cJSON_AddStringToObject(item, "path", c[i].path ? c[i].path : ""))
                return false;
        }
        return arr != NULL;
    }
    case CALLS: {
        const struct rbz_spec_call *c = *AT(s, f->offset, const struct rbz_spec_call *);
        if (!n)
            return true;
        cJSON *arr = cJSON_AddArrayToObject(o, f->key);
        for (size_t i = 0; arr && i < n; i++) {
            cJSON *item = cJSON_CreateObject();
            cJSON *args = c[i].args ? cJSON_Duplicate(c[i].args, 1) : NULL;
            if (!item || !cJSON_AddItemToArray(arr, item) || !args || !cJSON_AddItemToObject(item, "args", args) ||
                !cJSON_AddNumberToObject(item, "timeout", c[i].timeout) ||
                !cJSON_AddNumberToObject(item, "group", c[i].group)) {
                if (args && !cJSON_GetObjectItemCaseSensitive(item, "args"))
                    cJSON_Delete(args);
                return false;
            }
        }
        return arr != NULL;
    }
    }
    return false;
}

cJSON *rbz_spec_encode(const struct rbz_spec *s)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o && i < NFIELDS; i++) {
        if (!add_field(o, s, &FIELDS[i])) {
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

int rbz_spec_set_start(cJSON *tree, const char *workdir, double uid, const char *nonce)
{
    /* The keys come from the table: a spec of just these three, encoded,
     * moves into `tree` in place of the last start's. */
    struct rbz_spec s;
    rbz_spec_init(&s);
    s.workdir = workdir;
    s.uid = uid;
    s.nonce = nonce;
    cJSON *start = rbz_spec_encode(&s);
    if (!start)
        return -ENOMEM;
    static const size_t per_start[] = { offsetof(struct rbz_spec, workdir), offsetof(struct rbz_spec, uid),
                                        offsetof(struct rbz_spec, nonce) };
    for (size_t i = 0; i < NFIELDS; i++)
        for (size_t k = 0; k < sizeof per_start / sizeof per_start[0]; k++)
            if (FIELDS[i].offset == per_start[k])
                cJSON_DeleteItemFromObjectCaseSensitive(tree, FIELDS[i].key);
    int rc = 0;
    for (cJSON *c = start->child, *next; rc == 0 && c; c = next) {
        next = c->next;
        cJSON_DetachItemViaPointer(start, c);
        if (!cJSON_AddItemToObject(tree, c->string, c)) {
            cJSON_Delete(c);
            rc = -ENOMEM;
        }
    }
    cJSON_Delete(start);
    return rc;
}

static void *take(void *(*alloc)(size_t), size_t n)
{
    void *p = alloc ? alloc(n) : malloc(n);
    if (p)
        memset(p, 0, n);
    return p;
}

static int read_field(const cJSON *tree, struct rbz_spec *s, const struct field *f, void *(*alloc)(size_t))
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(tree, f->key);
    if (!v)
        return f->required ? -EINVAL : 0;
    switch (f->type) {
    case STR:
        if (!cJSON_IsString(v))
            return -EINVAL;
        *AT(s, f->offset, const char *) = v->valuestring;
        return 0;
    case NUM:
        if (!cJSON_IsNumber(v))
            return -EINVAL;
        *AT(s, f->offset, double) = v->valuedouble;
        return 0;
    case OBJ: {
        if (!cJSON_IsObject(v))
            return -EINVAL;
        char *text = cJSON_PrintUnformatted(v);
        if (!text)
            return -ENOMEM;
        *AT(s, f->offset, const char *) = text;
        return 0;
    }
    case STRS: {
        if (!cJSON_IsArray(v))
            return -EINVAL;
        size_t n = (size_t)cJSON_GetArraySize(v), i = 0;
        const char **items = take(alloc, (n + 1) * sizeof *items);
        if (!items)
            return -ENOMEM;
        const cJSON *item;
        cJSON_ArrayForEach(item, v) {
            if (!cJSON_IsString(item))
                return -EINVAL;
            items[i++] = item->valuestring;
        }
        *AT(s, f->offset, const char **) = items;
        *AT(s, f->count_offset, size_t) = n;
        return 0;
    }
    case CHECKS: {
        if (!cJSON_IsArray(v))
            return -EINVAL;
        size_t n = (size_t)cJSON_GetArraySize(v), i = 0;
        struct rbz_spec_check *c = take(alloc, (n + 1) * sizeof *c);
        if (!c)
            return -ENOMEM;
        const cJSON *item;
        cJSON_ArrayForEach(item, v) {
            c[i].source = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "source"));
            c[i].path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "path"));
            if (!c[i].source || !c[i].path)
                return -EINVAL;
            i++;
        }
        *AT(s, f->offset, struct rbz_spec_check *) = c;
        *AT(s, f->count_offset, size_t) = n;
        return 0;
    }
    case CALLS: {
        if (!cJSON_IsArray(v))
            return -EINVAL;
        size_t n = (size_t)cJSON_GetArraySize(v), i = 0;
        struct rbz_spec_call *c = take(alloc, (n + 1) * sizeof *c);
        if (!c)
            return -ENOMEM;
        const cJSON *item;
        cJSON_ArrayForEach(item, v) {
            const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(item, "timeout");
            const cJSON *group = cJSON_GetObjectItemCaseSensitive(item, "group");
            c[i].args = cJSON_GetObjectItemCaseSensitive(item, "args");
            if (!cJSON_IsArray(c[i].args) || !cJSON_IsNumber(timeout))
                return -EINVAL;
            c[i].timeout = timeout->valuedouble;
            c[i].group = cJSON_IsNumber(group) ? group->valuedouble : 0;
            i++;
        }
        *AT(s, f->offset, struct rbz_spec_call *) = c;
        *AT(s, f->count_offset, size_t) = n;
        return 0;
    }
    }
    return -EINVAL;
}

int rbz_spec_decode(const cJSON *tree, struct rbz_spec *s, void *(*alloc)(size_t), const char **bad)
{
    rbz_spec_init(s);
    if (!cJSON_IsObject(tree)) {
        *bad = "(not an object)";
        return -EINVAL;
    }
    for (size_t i = 0; i < NFIELDS; i++) {
        int rc = read_field(tree, s, &FIELDS[i], alloc);
        if (rc < 0) {
            *bad = FIELDS[i].key;
            return rc;
        }
    }
    return 0;
}
