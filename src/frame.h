/* frame.h - the hello protocol's message framing (pure): a message is the
 * bytes up to a LF, a CR right before the LF is dropped, and no message may be
 * longer than the configured maximum. The framer keeps only the length of the
 * unfinished message, never its bytes, so it costs no buffer. */
#ifndef HELLO_FRAME_H
#define HELLO_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct framer {
    uint32_t len; /* bytes of the unfinished message seen so far */
    bool cr;      /* its last byte was a CR (which a LF would drop) */
};

enum frame_status {
    FRAME_MESSAGE,  /* a message ended: see struct frame_msg */
    FRAME_PARTIAL,  /* the input ran out inside a message (or was empty) */
    FRAME_TOO_LONG, /* the message passed the maximum: the stream is unusable */
};

struct frame_msg {
    size_t len;       /* the whole message's length, without CR LF */
    const char *tail; /* its bytes in this input: the last tail_len of it */
    size_t tail_len;  /* (len - tail_len bytes came in earlier inputs) */
};

/* Reads one message from *p (advancing it past the LF) up to end. On
 * FRAME_PARTIAL *p == end and the framer remembers the unfinished length. */
enum frame_status frame_next(struct framer *f, const char **p, const char *end, uint32_t max,
                             struct frame_msg *msg);

/* At end of input (the client shut down writing, or went quiet for the
 * message timeout), unfinished bytes are one whole message. Returns
 * FRAME_MESSAGE (msg->len set, tail NULL), FRAME_PARTIAL when there were none,
 * or FRAME_TOO_LONG. The framer is reset either way. */
enum frame_status frame_flush(struct framer *f, uint32_t max, struct frame_msg *msg);

static inline bool frame_pending(const struct framer *f)
{
    return f->len > 0;
}

#endif
