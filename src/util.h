/* Small helpers shared by the supervisor's modules. */
#ifndef RB_UTIL_H
#define RB_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

/* A growable byte buffer; always NUL-terminated when data is not NULL. */
struct rb_buf {
    char *data;
    size_t len;
    size_t cap;
};

int rb_buf_reserve(struct rb_buf *b, size_t extra);
int rb_buf_append(struct rb_buf *b, const void *data, size_t len);
int rb_buf_append_str(struct rb_buf *b, const char *s);
int rb_buf_printf(struct rb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rb_buf_reset(struct rb_buf *b);
void rb_buf_free(struct rb_buf *b);

int64_t rb_now_ns(void);

/* write(2) until done, retrying on EINTR; 0 or a negative errno. */
int rb_write_all(int fd, const void *data, size_t len);

int rb_set_nonblocking(int fd);

/* Frees *p and sets it to NULL; for scope-bound cleanup of malloc'd memory. */
static inline void rb_freep(void *p)
{
    free(*(void **)p);
}
static inline void rb_closep(int *fd)
{
    if (*fd >= 0)
        close(*fd);
}
#define RB_AUTOFREE __attribute__((cleanup(rb_freep)))
#define RB_AUTOCLOSE __attribute__((cleanup(rb_closep)))

#endif
