/*
 * The worker's end of the status channel (protocol.h): how the worker tells
 * the supervisor what the program did.
 *
 * Everything here lives in C memory the program cannot reach through Python.
 * Before each message the channel is checked to be the socket the worker was
 * given; a channel that was closed, replaced, shut down or made unwritable
 * ends the worker at once (RBZ_EXIT_CHANNEL_LOST), before any more of the
 * program's code runs: a program that breaks the channel gets no verdict at
 * all, which the supervisor never reads as success.
 */
#ifndef RB_REPORT_H
#define RB_REPORT_H

#include <cjson/cJSON.h>

#include "protocol.h"

/* Remembers which socket `fd` is. Called once the channel is in place. */
void rb_report_open(int fd);

/* Signs every later message with the job's secret (kept in C memory only). */
void rb_report_sign(const unsigned char nonce[RBZ_NONCE_BYTES]);

/* Forgets the secret: nothing after this can speak for the job. */
void rb_report_wipe(void);

/* Sends `msg` (whole, or in pieces when it is long). Never returns when the
 * channel is gone: the worker exits with RBZ_EXIT_CHANNEL_LOST. */
void rb_report_send(const cJSON *msg);

/* A message already written as JSON text (sent as rb_report_send sends). */
void rb_report_send_text(const char *json, size_t len);

/* A message of type `type` and nothing else ("running"). */
void rb_report_send_type(const char *type);

/* The worker could not be set up: says why and exits RBZ_EXIT_SETUP_FAILED. */
_Noreturn void rb_report_setup_failed(const char *step, int err);

#endif
