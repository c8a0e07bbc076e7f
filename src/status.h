/*
 * The supervisor's end of the status channel (sandbox/protocol.h): the
 * messages a worker sends, taken one at a time as they arrive, authenticated,
 * and kept only when they are the worker's. Everything else is dropped as it
 * comes, so nothing a program writes to the channel can take the place of,
 * or push out, what the worker said.
 */
#ifndef RB_STATUS_H
#define RB_STATUS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "../sandbox/protocol.h"
#include "util.h"

struct rb_status_reader {
    char nonce[RBZ_NONCE_HEX];
    size_t nchecks;
    size_t long_cap;     /* bytes a message sent in pieces may take */
    bool running;        /* the worker said the program's code may run */
    cJSON *setup_failed; /* each: the first the worker sent, or NULL */
    cJSON *verdict;
    cJSON *detail;
    cJSON **checks;      /* nchecks each, by index */
    cJSON **check_details;
    size_t ncalls;
    cJSON **calls;       /* ncalls, by index: each call's result */
    struct rb_buf pieces; /* a long message being put together; kept from job to job */
    bool pieces_over;     /* it grew past long_cap: dropped at its last piece */
    size_t dropped;       /* messages not taken */
};

/* Starts reading a new job's channel; `pieces` keeps its memory. 0 or -ENOMEM. */
int rb_status_reader_start(struct rb_status_reader *r, const char nonce[RBZ_NONCE_HEX],
                           size_t nchecks, size_t ncalls, size_t long_cap);

/* One message as received. */
void rb_status_reader_take(struct rb_status_reader *r, const char *msg, size_t len);

/* Drops what the job's messages hold (not the pieces buffer). */
void rb_status_reader_clear(struct rb_status_reader *r);

/* rb_status_reader_clear and the pieces buffer. */
void rb_status_reader_free(struct rb_status_reader *r);

/* Readers of the messages' fields: NULL / 0 / false when absent. */
const char *rb_status_string(const cJSON *msg, const char *key);
double rb_status_number(const cJSON *msg, const char *key, double otherwise);
bool rb_status_bool(const cJSON *msg, const char *key);

#endif
