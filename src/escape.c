/* escape.c - byte escaping for logs (pure). */
#include "config.h"

#include "escape.h"

#include <string.h>

/* Writes the escape for one byte into e (at least 5 bytes); returns its length. */
static size_t escape_one(char *e, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";

    switch (c) {
    case '\\':
    case '"':
        e[0] = '\\';
        e[1] = (char)c;
        return 2;
    case '\t':
        memcpy(e, "\\t", 2);
        return 2;
    case '\r':
        memcpy(e, "\\r", 2);
        return 2;
    case '\n':
        memcpy(e, "\\n", 2);
        return 2;
    }
    if (c >= 0x20 && c < 0x7f) {
        e[0] = (char)c;
        return 1;
    }
    e[0] = '\\';
    e[1] = 'x';
    e[2] = hex[c >> 4];
    e[3] = hex[c & 0xf];
    return 4;
}

static size_t escaped_length(const unsigned char *p, size_t n)
{
    char e[4];
    size_t len = 0;

    for (size_t i = 0; i < n; i++)
        len += escape_one(e, p[i]);
    return len;
}

size_t escape_bytes(char *out, size_t outsz, const void *in, size_t n)
{
    const unsigned char *p = in;
    size_t len = 0, limit;

    if (outsz < 4) {
        if (outsz > 0)
            out[0] = '\0';
        return 0;
    }
    /* All of it when it fits; else whole escapes, and room for "...". */
    limit = escaped_length(p, n) < outsz ? outsz - 1 : outsz - 4;
    for (size_t i = 0; i < n; i++) {
        char e[4];
        size_t elen = escape_one(e, p[i]);

        if (len + elen > limit) {
            memcpy(out + len, "...", 3);
            len += 3;
            break;
        }
        memcpy(out + len, e, elen);
        len += elen;
    }
    out[len] = '\0';
    return len;
}
