#define _GNU_SOURCE
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
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
    p->table_fd = -1;
    p->noun = "job";
}

const char *rb_plural(long n, const char *noun, char *buf, size_t len)
{
    snprintf(buf, len, "%ld %s%s", n, noun, n == 1 ? "" : "s");
    return buf;
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
        rb_buf_printf(&line, "  %.1f %ss/s  ETA %s  ", rate, p->noun, eta);
        format_counts(p, &line);
        p->drawn = true;
    } else {
        if (total > 0)
            rb_buf_printf(&line, "runbox: %ld/%ld done, %.1f %ss/s, ETA %s; ", p->done, total,
                          rate, p->noun, eta);
        else
            rb_buf_printf(&line, "runbox: %ld done, %.1f %ss/s; ", p->done, rate, p->noun);
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
    char count[64];
    rb_buf_printf(&line, "runbox: %s%s in %.1f s (%.1f %ss/s)", interrupted ? "interrupted after " : "",
                  rb_plural(p->done, p->noun, count, sizeof count), secs,
                  secs > 0 ? (double)p->done / secs : 0.0, p->noun);
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

/* ---- the table ---------------------------------------------------------------- */

#define ID_WIDTH 24
#define STATUS_WIDTH 12
#define TIME_WIDTH 8
#define DEFAULT_WIDTH 100

void rb_progress_table(struct rb_progress *p, int fd, const char *noun)
{
    p->table_fd = fd;
    p->noun = noun;
    struct winsize ws;
    p->table_width = ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40 ? ws.ws_col : DEFAULT_WIDTH;
}

/* Appends at most `width` columns of the first line of `s`, with "..." when
 * it was cut (UTF-8 sequences kept whole, control characters as spaces). */
static void append_clipped(struct rb_buf *b, const char *s, int width)
{
    const char *end = s;
    while (*end && *end != '\n' && *end != '\r')
        end++;
    int cols = 0;
    const char *q = s;
    while (q < end && cols < width) {
        size_t n = 1;
        while (q + n < end && ((unsigned char)q[n] & 0xc0) == 0x80)
            n++;
        if ((unsigned char)*q < 0x20 || *q == 0x7f)
            rb_buf_append(b, " ", 1);
        else
            rb_buf_append(b, q, n);
        q += n;
        cols++;
    }
    bool more_lines = *end && end[strspn(end, "\r\n")] != '\0';
    if (q < end || more_lines) {
        /* Cut, or more lines follow: make room for the ellipsis. */
        if (cols >= width && width > 3) {
            while (cols > width - 3 && b->len > 0) {
                do
                    b->len--;
                while (b->len > 0 && ((unsigned char)b->data[b->len] & 0xc0) == 0x80);
                cols--;
            }
            b->data[b->len] = '\0';
        }
        rb_buf_append_str(b, "...");
        cols += 3;
    }
}

/* `s` in exactly `width` columns: cut in the middle when longer. */
static void append_cell(struct rb_buf *b, const char *s, int width)
{
    int len = (int)strlen(s);
    if (len > width) {
        int head = (width - 3) / 2, tail = width - 3 - head;
        rb_buf_printf(b, "%.*s...%s", head, s, s + len - tail);
    } else {
        rb_buf_printf(b, "%-*s", width, s);
    }
}

void rb_progress_row(struct rb_progress *p, const char *id, const char *status, double seconds,
                     const char *detail)
{
    if (p->quiet || p->table_fd < 0)
        return;
    rb_progress_clear(p);
    struct rb_buf row = { 0 };
    if (!p->table_started) {
        rb_buf_printf(&row, "%-*s  %-*s %*s  %s\n", ID_WIDTH, p->noun[0] == 's' ? "task" : "id", STATUS_WIDTH,
                      "status", TIME_WIDTH, "time", "output or error");
        p->table_started = true;
    }
    append_cell(&row, id ? id : "(no id)", ID_WIDTH);
    rb_buf_append_str(&row, "  ");
    append_cell(&row, status, STATUS_WIDTH);
    char t[32];
    snprintf(t, sizeof t, seconds < 10 ? "%.3fs" : "%.1fs", seconds);
    rb_buf_printf(&row, " %*s  ", TIME_WIDTH, t);
    int room = p->table_width - (ID_WIDTH + 2 + STATUS_WIDTH + 1 + TIME_WIDTH + 2) - 1;
    append_clipped(&row, detail ? detail : "", room > 10 ? room : 10);
    rb_buf_append_str(&row, "\n");
    if (row.data)
        rb_write_all(p->table_fd, row.data, row.len);
    rb_buf_free(&row);
}
