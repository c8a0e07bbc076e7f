/*
 * MD5 (RFC 1321), for one purpose: naming a dataset the way evalplus names
 * it (the hex digest of the file's text), so runbox's reference cache and
 * --evalplus-json carry the same hash as evalplus's own. Not for security.
 */
#ifndef RB_MD5_H
#define RB_MD5_H

#include <stddef.h>
#include <stdint.h>

struct rb_md5 {
    uint32_t state[4];
    uint64_t length;      /* bytes hashed so far */
    unsigned char block[64];
    size_t used;
};

void rb_md5_init(struct rb_md5 *m);
void rb_md5_update(struct rb_md5 *m, const void *data, size_t len);
/* The digest as 32 lowercase hex digits and a NUL. */
void rb_md5_hex(struct rb_md5 *m, char out[33]);

#endif
