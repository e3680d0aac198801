/* frame.c - message framing (pure). */
#include "config.h"

#include "frame.h"

#include <string.h>

enum frame_status frame_next(struct framer *f, const char **p, const char *end, uint32_t max,
                             struct frame_msg *msg)
{
    const char *start = *p;
    const char *lf = memchr(start, '\n', (size_t)(end - start));

    if (lf) {
        size_t tail = (size_t)(lf - start);
        /* The CR to drop is the byte before the LF: in this input, or the last of an earlier one.
         */
        bool cr = tail > 0 ? lf[-1] == '\r' : f->cr;
        size_t len = (size_t)f->len + tail - cr;

        *p = lf + 1;
        f->len = 0;
        f->cr = false;
        if (len > max)
            return FRAME_TOO_LONG;
        *msg = (struct frame_msg){.len = len, .tail = start, .tail_len = tail - (tail > 0 && cr)};
        return FRAME_MESSAGE;
    }

    size_t n = (size_t)(end - start);
    *p = end;
    if (n == 0)
        return FRAME_PARTIAL;
    /* A message one byte over the limit may still be fine if that byte is a CR. */
    if ((size_t)f->len + n > (size_t)max + 1 ||
        ((size_t)f->len + n == (size_t)max + 1 && end[-1] != '\r')) {
        f->len = 0;
        f->cr = false;
        return FRAME_TOO_LONG;
    }
    f->len += (uint32_t)n;
    f->cr = end[-1] == '\r';
    return FRAME_PARTIAL;
}

enum frame_status frame_flush(struct framer *f, uint32_t max, struct frame_msg *msg)
{
    size_t len = f->len;

    f->len = 0;
    f->cr = false;
    if (len == 0)
        return FRAME_PARTIAL;
    if (len > max)
        return FRAME_TOO_LONG;
    *msg = (struct frame_msg){.len = len, .tail = NULL, .tail_len = 0};
    return FRAME_MESSAGE;
}
