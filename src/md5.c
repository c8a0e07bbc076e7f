/* MD5 as RFC 1321 specifies it (md5.h). */
#include "md5.h"

#include <stdio.h>
#include <string.h>

/* Per round: the shift of each of the 16 steps, cycled in fours. */
static const unsigned SHIFTS[4][4] = { { 7, 12, 17, 22 }, { 5, 9, 14, 20 }, { 4, 11, 16, 23 }, { 6, 10, 15, 21 } };

/* floor(abs(sin(i + 1)) * 2^32), the RFC's table T. */
static const uint32_t T[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

static uint32_t rotl(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

static void transform(uint32_t s[4], const unsigned char block[64])
{
    uint32_t x[16];
    for (int i = 0; i < 16; i++)
        x[i] = (uint32_t)block[4 * i] | (uint32_t)block[4 * i + 1] << 8 | (uint32_t)block[4 * i + 2] << 16 |
               (uint32_t)block[4 * i + 3] << 24;
    uint32_t a = s[0], b = s[1], c = s[2], d = s[3];
    for (int i = 0; i < 64; i++) {
        int round = i / 16;
        uint32_t f;
        int k;
        switch (round) {
        case 0: f = (b & c) | (~b & d); k = i; break;
        case 1: f = (d & b) | (~d & c); k = (5 * i + 1) % 16; break;
        case 2: f = b ^ c ^ d; k = (3 * i + 5) % 16; break;
        default: f = c ^ (b | ~d); k = (7 * i) % 16; break;
        }
        uint32_t next = b + rotl(a + f + T[i] + x[k], SHIFTS[round][i % 4]);
        a = d;
        d = c;
        c = b;
        b = next;
    }
    s[0] += a;
    s[1] += b;
    s[2] += c;
    s[3] += d;
}

void rb_md5_init(struct rb_md5 *m)
{
    static const uint32_t INIT[4] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476 };
    memcpy(m->state, INIT, sizeof INIT);
    m->length = 0;
    m->used = 0;
}

void rb_md5_update(struct rb_md5 *m, const void *data, size_t len)
{
    const unsigned char *p = data;
    m->length += len;
    while (len > 0) {
        size_t take = 64 - m->used < len ? 64 - m->used : len;
        memcpy(m->block + m->used, p, take);
        m->used += take;
        p += take;
        len -= take;
        if (m->used == 64) {
            transform(m->state, m->block);
            m->used = 0;
        }
    }
}

void rb_md5_hex(struct rb_md5 *m, char out[33])
{
    /* Padding: a 1 bit, zeros to 56 bytes mod 64, then the bit length. */
    uint64_t bits = m->length * 8;
    static const unsigned char ONE = 0x80, ZERO = 0;
    rb_md5_update(m, &ONE, 1);
    while (m->used != 56)
        rb_md5_update(m, &ZERO, 1);
    unsigned char tail[8];
    for (int i = 0; i < 8; i++)
        tail[i] = (unsigned char)(bits >> (8 * i));
    rb_md5_update(m, tail, 8);
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", (unsigned)(m->state[i / 4] >> (8 * (i % 4))) & 0xff);
}
