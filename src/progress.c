#define _GNU_SOURCE
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define TTY_INTERVAL_NS (100 * 1000000LL)
#define PLAIN_INTERVAL_NS (10 * 1000000000LL)
#define BAR_WIDTH 24

void rb_progress_init(struct rb_progress *p, int fd, bool quiet, long total)
{
    memset(p, 0, sizeof *p);
    p->fd = fd;
    p->quiet = quiet;
    p->tty = isatty(fd);
    p->total = total;
    p->start_ns = rb_now_ns();
    p->last_draw_ns = p->start_ns;
}

void rb_progress_count(struct rb_progress *p, rb_status status)
{
    p->done++;
    if ((unsigned)status < RB_STATUS_COUNT)
        p->counts[status]++;
}

static void format_counts(const struct rb_progress *p, struct rb_buf *b)
{
    bool first = true;
    for (int s = 0; s < RB_STATUS_COUNT; s++) {
        if (!p->counts[s])
            continue;
        rb_buf_printf(b, "%s%s %ld", first ? "" : ", ", rb_status_name((rb_status)s), p->counts[s]);
        first = false;
    }
}

static void format_duration(char *buf, size_t len, double s)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

static double elapsed(const struct rb_progress *p)
{
    return (double)(rb_now_ns() - p->start_ns) / 1e9;
}

void rb_progress_clear(struct rb_progress *p)
{
    if (p->drawn) {
        dprintf(p->fd, "\r\033[K");
        p->drawn = false;
    }
}

void rb_progress_tick(struct rb_progress *p, bool force)
{
    if (p->quiet)
        return;
    int64_t now = rb_now_ns();
    int64_t interval = p->tty ? TTY_INTERVAL_NS : PLAIN_INTERVAL_NS;
    if (!force && now - p->last_draw_ns < interval)
        return;
    p->last_draw_ns = now;
    double secs = elapsed(p);
    double rate = secs > 0 ? (double)p->done / secs : 0;
    long total = p->total >= 0 ? p->total - p->skipped : -1;
    char eta[32] = "?";
    if (total > 0 && rate > 0 && p->done <= total)
        format_duration(eta, sizeof eta, (double)(total - p->done) / rate);

    struct rb_buf line = { 0 };
    if (p->tty) {
        rb_buf_append_str(&line, "\r\033[K");
        if (total > 0) {
            int filled = (int)((double)BAR_WIDTH * (double)p->done / (double)total);
            if (filled > BAR_WIDTH)
                filled = BAR_WIDTH;
            rb_buf_append_str(&line, "[");
            for (int i = 0; i < BAR_WIDTH; i++)
                rb_buf_append_str(&line, i < filled ? "#" : "-");
            rb_buf_printf(&line, "] %ld/%ld", p->done, total);
        } else {
            rb_buf_printf(&line, "%ld done", p->done);
        }
        rb_buf_printf(&line, "  %.1f jobs/s  ETA %s  ", rate, eta);
        format_counts(p, &line);
        p->drawn = true;
    } else {
        if (total > 0)
            rb_buf_printf(&line, "runbox: %ld/%ld done, %.1f jobs/s, ETA %s; ", p->done, total,
                          rate, eta);
        else
            rb_buf_printf(&line, "runbox: %ld done, %.1f jobs/s; ", p->done, rate);
        format_counts(p, &line);
        rb_buf_append_str(&line, "\n");
    }
    if (line.data)
        rb_write_all(p->fd, line.data, line.len);
    rb_buf_free(&line);
}

int rb_progress_wait_ms(const struct rb_progress *p)
{
    if (p->quiet)
        return -1;
    int64_t interval = p->tty ? TTY_INTERVAL_NS : PLAIN_INTERVAL_NS;
    int64_t left = p->last_draw_ns + interval - rb_now_ns();
    return left <= 0 ? 0 : (int)(left / 1000000) + 1;
}

void rb_progress_finish(struct rb_progress *p, const char *results_name, bool interrupted)
{
    if (p->quiet)
        return;
    rb_progress_clear(p);
    double secs = elapsed(p);
    struct rb_buf line = { 0 };
    rb_buf_printf(&line, "runbox: %s%ld job%s in %.1f s (%.1f jobs/s)",
                  interrupted ? "interrupted after " : "", p->done, p->done == 1 ? "" : "s", secs,
                  secs > 0 ? (double)p->done / secs : 0.0);
    if (p->done) {
        rb_buf_append_str(&line, ": ");
        format_counts(p, &line);
    }
    if (p->skipped)
        rb_buf_printf(&line, "; %ld already done", p->skipped);
    if (results_name)
        rb_buf_printf(&line, "; results in %s", results_name);
    rb_buf_append_str(&line, "\n");
    rb_write_all(p->fd, line.data, line.len);
    rb_buf_free(&line);
}
