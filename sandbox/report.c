/*
 * The worker's end of the status channel (report.h, protocol.h).
 */
#define _GNU_SOURCE
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static struct {
    int fd;
    dev_t dev;
    ino_t ino;
    bool open;
    char prefix[RBZ_NONCE_HEX]; /* the secret in hex, or zeros before it is known */
} channel = { .fd = -1 };

void rb_report_open(int fd)
{
    struct stat st;
    channel.fd = fd;
    channel.open = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
    channel.dev = st.st_dev;
    channel.ino = st.st_ino;
    memset(channel.prefix, '0', sizeof channel.prefix);
}

void rb_report_sign(const unsigned char nonce[RBZ_NONCE_BYTES])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < RBZ_NONCE_BYTES; i++) {
        channel.prefix[2 * i] = digits[nonce[i] >> 4];
        channel.prefix[2 * i + 1] = digits[nonce[i] & 15];
    }
}

void rb_report_wipe(void)
{
    explicit_bzero(channel.prefix, sizeof channel.prefix);
    memset(channel.prefix, '0', sizeof channel.prefix);
}

_Noreturn static void channel_lost(void)
{
    _exit(RBZ_EXIT_CHANNEL_LOST);
}

/* The channel must still be the socket we were given, and writable the way
 * we left it. The seccomp filter already refuses to close, replace, shut
 * down or unblock it; this is the second line, for a kernel path the filter
 * does not see. */
static void check_channel(void)
{
    struct stat st;
    if (!channel.open || fstat(channel.fd, &st) < 0 || !S_ISSOCK(st.st_mode) ||
        st.st_ino != channel.ino || st.st_dev != channel.dev)
        channel_lost();
    int fl = fcntl(channel.fd, F_GETFL);
    if (fl < 0 || (fl & O_NONBLOCK))
        channel_lost();
}

static void send_frame(char frame, const char *payload, size_t len)
{
    char head[RBZ_NONCE_HEX + 1];
    memcpy(head, channel.prefix, RBZ_NONCE_HEX);
    head[RBZ_NONCE_HEX] = frame;
    struct iovec iov[2] = { { head, sizeof head }, { (void *)payload, len } };
    check_channel();
    for (int tries = 0;; tries++) {
        /* On a SEQPACKET socket one writev is one message, never split.
         * (Not sendmsg: the filter refuses it to jobs, which could pass
         * descriptors with it. SIGPIPE is ignored, as python3 ignores it.) */
        ssize_t n = writev(channel.fd, iov, 2);
        if (n == (ssize_t)(sizeof head + len))
            break;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN && tries < 1000) {
            struct pollfd p = { .fd = channel.fd, .events = POLLOUT };
            poll(&p, 1, 100);
            continue;
        }
        explicit_bzero(head, sizeof head);
        channel_lost();
    }
    explicit_bzero(head, sizeof head);
    check_channel();
}

void rb_report_send_text(const char *text, size_t len)
{
    if (len <= RBZ_STATUS_PAYLOAD_MAX) {
        send_frame(RBZ_FRAME_WHOLE, text, len);
        return;
    }
    for (size_t off = 0; off < len; off += RBZ_STATUS_PAYLOAD_MAX) {
        size_t n = len - off > RBZ_STATUS_PAYLOAD_MAX ? RBZ_STATUS_PAYLOAD_MAX : len - off;
        send_frame(off + n < len ? RBZ_FRAME_MORE : RBZ_FRAME_LAST, text + off, n);
    }
}

void rb_report_send(const cJSON *msg)
{
    char *text = cJSON_PrintUnformatted(msg);
    if (!text) {
        /* Out of memory even after the reserve was given back: the
         * essentials go as a fixed text. */
        static const char fallback[] = "{\"" RBZ_ST_TYPE "\":\"" RBZ_ST_VERDICT "\",\"" RBZ_ST_OUTCOME
                                       "\":\"" RB_OUTCOME_EXCEPTION "\",\"" RBZ_ST_EXIT_CODE
                                       "\":1,\"" RBZ_ST_MEMORY_ERROR "\":true}";
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(msg, RBZ_ST_TYPE);
        if (cJSON_IsString(type) && strcmp(type->valuestring, RBZ_ST_VERDICT) == 0)
            send_frame(RBZ_FRAME_WHOLE, fallback, sizeof fallback - 1);
        return;
    }
    rb_report_send_text(text, strlen(text));
    cJSON_free(text);
}

void rb_report_send_type(const char *type)
{
    char buf[64];
    int n = snprintf(buf, sizeof buf, "{\"" RBZ_ST_TYPE "\":\"%s\"}", type);
    send_frame(RBZ_FRAME_WHOLE, buf, (size_t)n);
}

_Noreturn void rb_report_setup_failed(const char *step, int err)
{
    char msg[256];
    snprintf(msg, sizeof msg, "worker set-up failed at %s: %s", step, strerror(err));
    cJSON *m = cJSON_CreateObject();
    if (m && cJSON_AddStringToObject(m, RBZ_ST_TYPE, RBZ_ST_SETUP_FAILED) &&
        cJSON_AddNumberToObject(m, RBZ_ST_EXIT_CODE, RBZ_EXIT_SETUP_FAILED) &&
        cJSON_AddStringToObject(m, RBZ_ST_ERROR, msg))
        rb_report_send(m);
    cJSON_Delete(m);
    _exit(RBZ_EXIT_SETUP_FAILED);
}
