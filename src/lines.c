/* Text lines from a stream (lines.h). */
#define _GNU_SOURCE
#include "lines.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

bool rb_line_is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

bool rb_line_reader_complete(const struct rb_line_reader *r, const char *line, size_t len)
{
    /* The reader hands out a newline-less last line at EOF only. */
    return line + len < r->buf.data + r->buf.len;
}

void rb_line_reader_init(struct rb_line_reader *r, int fd)
{
    memset(r, 0, sizeof *r);
    r->fd = fd;
}

void rb_line_reader_init_fn(struct rb_line_reader *r,
                            ssize_t (*read_fn)(void *ctx, char *buf, size_t len), void *ctx)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    r->read_fn = read_fn;
    r->read_ctx = ctx;
}

static ssize_t gz_read(void *ctx, char *buf, size_t len)
{
    int n = gzread((gzFile)ctx, buf, (unsigned)(len > (1u << 30) ? (1u << 30) : len));
    int errnum = Z_OK;
    if (n == 0)
        gzerror((gzFile)ctx, &errnum); /* Z_BUF_ERROR: the stream ended before its end */
    if (n < 0 || errnum == Z_BUF_ERROR) {
        errno = n < 0 && errnum == Z_ERRNO ? errno : EBADMSG;
        return -1;
    }
    return n;
}

long rb_gz_count_lines(gzFile f)
{
    struct rb_line_reader r;
    rb_line_reader_init_gz(&r, f);
    const char *line;
    size_t len;
    long n = 0;
    int rc;
    while ((rc = rb_line_reader_next(&r, &line, &len)) == 1)
        n += !rb_line_is_blank(line, len);
    rb_line_reader_free(&r);
    return rc < 0 ? -1 : n;
}

const char *rb_line_reader_strerror(int rc)
{
    return rc == -EBADMSG ? "the gzip data is corrupt or cut short" : strerror(-rc);
}

void rb_line_reader_init_gz(struct rb_line_reader *r, gzFile f)
{
    rb_line_reader_init_fn(r, gz_read, f);
}

int rb_line_reader_next(struct rb_line_reader *r, const char **line, size_t *len)
{
    for (;;) {
        /* Before the first read there is no buffer: no arithmetic on NULL. */
        char *base = r->buf.data ? r->buf.data + r->start : NULL;
        size_t avail = r->buf.len - r->start;
        char *nl = avail > r->scanned ? memchr(base + r->scanned, '\n', avail - r->scanned) : NULL;
        if (nl) {
            *line = base;
            *len = (size_t)(nl - base);
            r->start += *len + 1;
            r->scanned = 0;
            r->line_no++;
            return 1;
        }
        r->scanned = avail;
        if (r->eof) {
            if (avail == 0)
                return 0;
            *line = base; /* a last line without its newline */
            *len = avail;
            r->start = r->buf.len;
            r->scanned = 0;
            r->line_no++;
            return 1;
        }
        /* Move the partial line to the front before reading more. */
        if (r->start > 0) {
            memmove(r->buf.data, base, avail);
            r->buf.len = avail;
            r->start = 0;
        }
        int rc = rb_buf_reserve(&r->buf, 64 * 1024);
        if (rc < 0)
            return rc;
        size_t room = r->buf.cap - r->buf.len - 1;
        ssize_t n = r->read_fn ? r->read_fn(r->read_ctx, r->buf.data + r->buf.len, room)
                               : read(r->fd, r->buf.data + r->buf.len, room);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
        }
        if (n == 0)
            r->eof = true;
        r->buf.len += (size_t)n;
        r->buf.data[r->buf.len] = '\0';
    }
}

void rb_line_reader_free(struct rb_line_reader *r)
{
    rb_buf_free(&r->buf);
}
