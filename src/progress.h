/* Progress for a person at a terminal: a bar on a TTY, plain lines otherwise. */
#ifndef RB_PROGRESS_H
#define RB_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "runbox.h"

#define RB_STATUS_COUNT (RB_STATUS_INTERNAL + 1)

struct rb_progress {
    int fd;
    bool tty;
    bool quiet;
    long total;    /* jobs expected, or -1 when unknown */
    long done;     /* results written in this run */
    long skipped;  /* already in the results file (--resume) */
    long counts[RB_STATUS_COUNT];
    int64_t start_ns;
    int64_t last_draw_ns;
    bool drawn;    /* a bar is on screen and must be cleared before other text */
    int table_fd;  /* where rows for a person go, or -1 */
    int table_width; /* the terminal's columns */
    bool table_started; /* the header is out */
    const char *noun; /* "job" or "sample", for the summaries */
};

void rb_progress_init(struct rb_progress *p, int fd, bool quiet, long total);
void rb_progress_count(struct rb_progress *p, rb_status status);
/* Redraws if enough time has passed (or `force`). */
void rb_progress_tick(struct rb_progress *p, bool force);
/* Milliseconds until the next redraw is due, for the caller's poll timeout. */
int rb_progress_wait_ms(const struct rb_progress *p);
/* Clears the bar and prints the one-line summary. */
void rb_progress_finish(struct rb_progress *p, const char *results_name, bool interrupted);
/* Clears the bar so a message can be printed. */
void rb_progress_clear(struct rb_progress *p);

/* Table mode: one row per finished job on `fd` (a terminal, say): its id,
 * status, time and the first line of its output or error, each shortened
 * to fit the terminal's width. `noun` names what is counted ("job"). */
void rb_progress_table(struct rb_progress *p, int fd, const char *noun);
void rb_progress_row(struct rb_progress *p, const char *id, const char *status, double seconds,
                     const char *detail);

/* "1 job", "2 jobs": counts said as a person would. */
const char *rb_plural(long n, const char *noun, char *buf, size_t len);

#endif
