/*
 * The supervisor's end of the status channel (status.h).
 */
#include "status.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *rb_status_string(const cJSON *msg, const char *key)
{
    return msg ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, key)) : NULL;
}

double rb_status_number(const cJSON *msg, const char *key, double otherwise)
{
    const cJSON *v = msg ? cJSON_GetObjectItemCaseSensitive(msg, key) : NULL;
    return cJSON_IsNumber(v) ? v->valuedouble : otherwise;
}

bool rb_status_bool(const cJSON *msg, const char *key)
{
    return msg && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, key));
}

void rb_status_reader_clear(struct rb_status_reader *r)
{
    cJSON_Delete(r->setup_failed);
    cJSON_Delete(r->verdict);
    cJSON_Delete(r->detail);
    for (size_t i = 0; i < r->nchecks; i++) {
        cJSON_Delete(r->checks ? r->checks[i] : NULL);
        cJSON_Delete(r->check_details ? r->check_details[i] : NULL);
    }
    free(r->checks);
    free(r->check_details);
    for (size_t i = 0; i < r->ncalls; i++)
        cJSON_Delete(r->calls ? r->calls[i] : NULL);
    free(r->calls);
    struct rb_buf pieces = r->pieces;
    memset(r, 0, sizeof *r);
    r->pieces = pieces;
    rb_buf_reset(&r->pieces);
}

void rb_status_reader_free(struct rb_status_reader *r)
{
    rb_status_reader_clear(r);
    rb_buf_free(&r->pieces);
}

int rb_status_reader_start(struct rb_status_reader *r, const char nonce[RBZ_NONCE_HEX],
                           size_t nchecks, size_t ncalls, size_t long_cap)
{
    rb_status_reader_clear(r);
    memcpy(r->nonce, nonce, RBZ_NONCE_HEX);
    r->long_cap = long_cap;
    if (nchecks) {
        r->checks = calloc(nchecks, sizeof *r->checks);
        r->check_details = calloc(nchecks, sizeof *r->check_details);
        if (!r->checks || !r->check_details) {
            free(r->checks);
            free(r->check_details);
            r->checks = r->check_details = NULL;
            return -ENOMEM;
        }
        r->nchecks = nchecks;
    }
    if (ncalls) {
        if (!(r->calls = calloc(ncalls, sizeof *r->calls)))
            return -ENOMEM;
        r->ncalls = ncalls;
    }
    return 0;
}

/* A batch of call results: each kept at its index, the first for each. */
static bool take_calls(struct rb_status_reader *r, cJSON *msg)
{
    cJSON *results = cJSON_GetObjectItemCaseSensitive(msg, RBZ_ST_RESULTS);
    if (!cJSON_IsArray(results) || !r->calls)
        return false;
    for (cJSON *c = results->child, *next; c; c = next) {
        next = c->next;
        double i = rb_status_number(c, RBZ_ST_INDEX, -1);
        if (!(i >= 0 && i < (double)r->ncalls) || r->calls[(size_t)i] || !rb_status_string(c, RBZ_ST_OUTCOME)) {
            r->dropped++;
            continue;
        }
        r->calls[(size_t)i] = cJSON_DetachItemViaPointer(results, c);
    }
    cJSON_Delete(msg);
    return true;
}

/* Keeps `msg` in `*slot` if nothing is there yet; the first word is the worker's. */
static bool keep_first(cJSON **slot, cJSON *msg)
{
    if (*slot)
        return false;
    *slot = msg;
    return true;
}

static cJSON **check_slot(struct rb_status_reader *r, cJSON **table, const cJSON *msg)
{
    double i = rb_status_number(msg, RBZ_ST_INDEX, -1);
    if (!table || !(i >= 0 && i < (double)r->nchecks))
        return NULL;
    return &table[(size_t)i];
}

/* A whole message, parsed. Before "running" only the worker's set-up has
 * run, so whatever comes is its word; after it, only signed messages reach
 * here. */
static void dispatch(struct rb_status_reader *r, cJSON *msg)
{
    const char *type = rb_status_string(msg, RBZ_ST_TYPE);
    bool kept = false;
    if (!cJSON_IsObject(msg) || !type) {
        /* nothing */
    } else if (strcmp(type, RBZ_ST_RUNNING) == 0) {
        r->running = true;
    } else if (strcmp(type, RBZ_ST_SETUP_FAILED) == 0) {
        kept = !r->running && keep_first(&r->setup_failed, msg);
    } else if (strcmp(type, RBZ_ST_VERDICT) == 0) {
        kept = rb_status_string(msg, RBZ_ST_OUTCOME) &&
               cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(msg, RBZ_ST_EXIT_CODE)) &&
               keep_first(&r->verdict, msg);
    } else if (strcmp(type, RBZ_ST_DETAIL) == 0) {
        kept = keep_first(&r->detail, msg);
    } else if (strcmp(type, RBZ_ST_CHECK) == 0) {
        cJSON **slot = check_slot(r, r->checks, msg);
        kept = slot && rb_status_string(msg, RBZ_ST_STATUS) && keep_first(slot, msg);
    } else if (strcmp(type, RBZ_ST_CALLS) == 0) {
        if (take_calls(r, msg))
            return;
    } else if (strcmp(type, RBZ_ST_CHECK_DETAIL) == 0) {
        cJSON **slot = check_slot(r, r->check_details, msg);
        kept = slot && keep_first(slot, msg);
    }
    if (!kept) {
        if (!(type && strcmp(type, RBZ_ST_RUNNING) == 0))
            r->dropped++;
        cJSON_Delete(msg);
    }
}

void rb_status_reader_take(struct rb_status_reader *r, const char *msg, size_t len)
{
    if (len < RBZ_NONCE_HEX + 1) {
        r->dropped++;
        return;
    }
    bool is_signed = memcmp(msg, r->nonce, RBZ_NONCE_HEX) == 0;
    char frame = msg[RBZ_NONCE_HEX];
    const char *payload = msg + RBZ_NONCE_HEX + 1;
    size_t plen = len - RBZ_NONCE_HEX - 1;
    if (r->running && !is_signed) {
        r->dropped++;
        return;
    }
    if (frame == RBZ_FRAME_WHOLE) {
        dispatch(r, cJSON_ParseWithLength(payload, plen));
        return;
    }
    if (!is_signed || (frame != RBZ_FRAME_MORE && frame != RBZ_FRAME_LAST)) {
        r->dropped++;
        return;
    }
    if (!r->pieces_over && (r->pieces.len + plen > r->long_cap ||
                            rb_buf_append(&r->pieces, payload, plen) < 0))
        r->pieces_over = true;
    if (frame == RBZ_FRAME_MORE)
        return;
    if (r->pieces_over)
        r->dropped++;
    else
        dispatch(r, cJSON_ParseWithLength(r->pieces.data, r->pieces.len));
    rb_buf_reset(&r->pieces);
    r->pieces_over = false;
}
