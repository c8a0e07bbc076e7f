/*
 * Text lines from a stream: manifests, samples files, results files,
 * journals. A file descriptor (blocking or not) or any other source through
 * a read function (gzip files, say); lines of any length.
 */
#ifndef RB_LINES_H
#define RB_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <zlib.h>

#include "util.h"

struct rb_line_reader {
    int fd;
    ssize_t (*read_fn)(void *ctx, char *buf, size_t len); /* NULL: read(fd) */
    void *read_ctx;
    struct rb_buf buf;
    size_t start;   /* first byte of the next line in buf */
    size_t scanned; /* bytes after start already known to hold no newline */
    bool eof;
    long line_no;   /* number of the line last returned */
};

void rb_line_reader_init(struct rb_line_reader *r, int fd);
void rb_line_reader_init_fn(struct rb_line_reader *r,
                            ssize_t (*read_fn)(void *ctx, char *buf, size_t len), void *ctx);
/* Lines of a gzip file, or of a plain one (gzread passes those through);
 * the caller keeps `f` open while reading and closes it after. */
void rb_line_reader_init_gz(struct rb_line_reader *r, gzFile f);
/* 1 with a line in *line and *len (valid until the next call), 0 at the end, or
 * -EAGAIN when a non-blocking fd has no full line yet, or another -errno. */
int rb_line_reader_next(struct rb_line_reader *r, const char **line, size_t *len);
/* Whether the line last returned ended with its newline: a last line
 * without one is what a crash mid-write leaves (a torn line). */
bool rb_line_reader_complete(const struct rb_line_reader *r, const char *line, size_t len);
void rb_line_reader_free(struct rb_line_reader *r);
/* The lines of `f` (gzip or plain) that are not blank, or -1 when it
 * cannot be read to its end. */
long rb_gz_count_lines(gzFile f);
/* What a negative rb_line_reader_next result means, for a message. */
const char *rb_line_reader_strerror(int rc);

/* Whether a line holds nothing but spaces, tabs and a carriage return: the
 * lines every reader of JSON lines skips. */
bool rb_line_is_blank(const char *s, size_t len);

#endif
