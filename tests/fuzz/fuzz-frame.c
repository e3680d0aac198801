/* fuzz-frame.c - libFuzzer target for the message framer (src/frame.c).
 *
 * The input is a stream as a client might send it, cut into reads at points
 * the fuzzer chooses, with the message timeout (frame_flush) firing after
 * some of them. Every result is checked against a plain model of the
 * protocol that keeps each message's bytes whole:
 *   - every byte of every read is consumed (*p reaches the end);
 *   - each message has the model's length, at most max, and its tail lies
 *     inside the read and holds the message's last bytes;
 *   - a message over max is reported (FRAME_TOO_LONG) no later than the
 *     model sees it end, and never for one that fits;
 *   - frame_pending() says whether unfinished bytes are held.
 *
 * Input layout: byte 0-1 the maximum (1..65536, or 1048576 when both are
 * 0xff), byte 2 the number of cuts (0..15), byte 3-4 a mask of the reads
 * after which the message timeout fires, then one byte per cut (the length of
 * that read), then the stream. */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER 5
#define MAX_CUTS 15

/* The model: the bytes of the message being received, all of them. */
struct model {
    char *buf;
    size_t len, cap;
    uint32_t max;
};

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz-frame: invariant broken: %s\n", what);
        abort();
    }
}

static void model_add(struct model *m, const char *p, size_t n)
{
    if (n == 0)
        return;
    if (m->len + n > m->cap) {
        m->cap = (m->len + n) * 2;
        m->buf = realloc(m->buf, m->cap);
        check(m->buf != NULL, "out of memory in the model");
    }
    memcpy(m->buf + m->len, p, n);
    m->len += n;
}

/* A message ended in the framer: the model must agree on every byte. */
static void expect_message(struct model *m, const struct frame_msg *msg, const char *chunk,
                           const char *chunk_end, const char *start, bool flushed)
{
    size_t len = m->len;

    if (!flushed && len > 0 && m->buf[len - 1] == '\r')
        len--; /* the CR before the LF is dropped */
    check(msg->len == len, "message length differs from the model");
    check(msg->len <= m->max, "a message longer than max was delivered");
    check(len <= m->max, "the model says this message is too long");
    check(msg->tail_len <= msg->len, "tail_len > len");
    if (flushed) {
        check(msg->tail == NULL && msg->tail_len == 0, "a flushed message has a tail");
    } else {
        check(msg->tail == start, "tail does not start where the read was resumed");
        check(msg->tail >= chunk && msg->tail + msg->tail_len <= chunk_end,
              "tail outside the input");
        check(msg->tail_len == 0 || memcmp(msg->tail, m->buf + len - msg->tail_len, msg->tail_len) == 0,
              "tail bytes are not the message's last bytes");
    }
    m->len = 0;
}

/* Feeds one read; false once the stream is unusable (too long). */
static bool feed(struct framer *f, struct model *m, const char *chunk, size_t n)
{
    const char *p = chunk, *end = chunk + n;

    while (true) {
        const char *start = p;
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        struct frame_msg msg;
        enum frame_status st = frame_next(f, &p, end, m->max, &msg);

        check(p >= start && p <= end, "*p left the input");
        switch (st) {
        case FRAME_MESSAGE:
            check(lf != NULL && p == lf + 1, "a message did not end just after its LF");
            model_add(m, start, (size_t)(lf - start));
            expect_message(m, &msg, chunk, end, start, false);
            check(!frame_pending(f), "bytes still pending after a whole message");
            continue;
        case FRAME_TOO_LONG: {
            /* Fine as soon as the message can no longer fit: its bytes so
             * far, less a CR a LF might still drop, pass max. */
            size_t seen = m->len + (size_t)((lf ? lf + 1 : end) - start);
            if (lf)
                seen -= 1 + (lf > start ? lf[-1] == '\r' : (m->len && m->buf[m->len - 1] == '\r'));
            else if (seen > 0 && end[-1] == '\r')
                seen--;
            check(seen > m->max, "FRAME_TOO_LONG for a message that may still fit");
            return false;
        }
        case FRAME_PARTIAL:
            check(p == end, "FRAME_PARTIAL before the end of the input");
            check(lf == NULL, "FRAME_PARTIAL with a LF in the input");
            model_add(m, start, (size_t)(end - start));
            check(frame_pending(f) == (m->len > 0), "frame_pending() disagrees with the model");
            /* The framer may wait for the LF with a message one byte over
             * max only when that byte is a CR the LF would drop. */
            check(m->len <= m->max || (m->len == (size_t)m->max + 1 && m->buf[m->len - 1] == '\r'),
                  "an overlong partial message was not refused");
            return true;
        }
        check(false, "unknown frame_status");
    }
}

/* The message timeout: unfinished bytes are one whole message. */
static bool flush(struct framer *f, struct model *m)
{
    struct frame_msg msg;
    enum frame_status st = frame_flush(f, m->max, &msg);

    check(!frame_pending(f), "bytes pending after a flush");
    switch (st) {
    case FRAME_PARTIAL:
        check(m->len == 0, "a flush lost unfinished bytes");
        return true;
    case FRAME_TOO_LONG:
        check(m->len > m->max, "a flush refused a message that fits");
        return false;
    case FRAME_MESSAGE:
        check(m->len > 0, "a flush made a message of nothing");
        expect_message(m, &msg, NULL, NULL, NULL, true);
        return true;
    }
    check(false, "unknown frame_status");
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct framer f = {0};
    struct model m = {0};
    size_t cuts[MAX_CUTS + 1], n_cuts, off;
    unsigned mask;
    bool usable = true;

    if (size < HEADER)
        return 0;
    m.max = data[0] == 0xff && data[1] == 0xff ? 1048576u
                                               : 1u + (((uint32_t)data[0] << 8) | data[1]);
    n_cuts = data[2] % (MAX_CUTS + 1);
    mask = (unsigned)data[3] | (unsigned)data[4] << 8;
    if (size < HEADER + n_cuts)
        return 0;
    for (size_t i = 0; i < n_cuts; i++)
        cuts[i] = data[HEADER + i];
    off = HEADER + n_cuts;

    /* Each read gets its own heap copy, so that ASan sees any access past it. */
    for (size_t i = 0; i <= n_cuts && usable; i++) {
        size_t left = size - off;
        size_t n = i < n_cuts ? (cuts[i] < left ? cuts[i] : left) : left;
        char *chunk = malloc(n ? n : 1);

        check(chunk != NULL, "out of memory");
        memcpy(chunk, data + off, n);
        usable = feed(&f, &m, chunk, n);
        free(chunk);
        off += n;
        if (usable && (mask >> i & 1))
            usable = flush(&f, &m);
    }
    /* The client shuts down its writing side. */
    if (usable)
        flush(&f, &m);
    free(m.buf);
    return 0;
}
