/* svr-reply.h - the replies a connection owes (pure: memory, no socket). A
 * greeting makes one reply block, shared by every connection; a connection
 * owes a count of replies in each greeting, oldest first, and sends them
 * straight from the blocks. A reload switches the greeting at the message
 * boundary: replies owed before it keep the old block, later ones the new. */
#ifndef HELLO_SVR_REPLY_H
#define HELLO_SVR_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* As many reply lines as fit in 64 KiB, so that any number of owed replies
 * goes out in one write. Reference-counted: connections finish the replies
 * they owe in it after a reload has put a new one in force. */
struct reply {
    unsigned refs;
    uint32_t line_len; /* the greeting and its LF */
    uint32_t size;     /* bytes in data: a whole number of lines */
    char data[];
};

int reply_new(struct reply **out, const char *greeting);

static inline void reply_unref(struct reply *r)
{
    if (r && --r->refs == 0)
        free(r);
}

struct owed_later; /* replies owed in a later greeting: only after a reload */

/* What one connection owes: n replies in .reply, the first of them sent up
 * to .sent bytes, then those in .later, in order. n == 0 means nothing is
 * owed (and then .later is NULL and .reply not held). */
struct owed {
    struct reply *reply;
    uint32_t n;
    uint32_t sent;
    struct owed_later *later;
};

/* n more replies (n > 0), answered in the greeting of r (the one in force
 * now). Returns 0, or -ENOMEM when a reload's switch found no memory: then
 * they are owed in the greeting before it, and never lost. */
int owed_add_slow(struct owed *o, struct reply *r, uint32_t n);

/* Inline: it runs at every read that ends a message. */
static inline int owed_add(struct owed *o, struct reply *r, uint32_t n)
{
    if (o->n == 0) { /* nothing owed (so no .later, no .sent): begin in r */
        o->reply = r;
        r->refs++;
        o->n = n;
        return 0;
    }
    if (!o->later && o->reply == r) {
        o->n += n; /* more in the same greeting */
        return 0;
    }
    return owed_add_slow(o, r, n);
}

size_t owed_later_bytes(const struct owed *o);

/* Bytes owed and not yet sent. */
static inline size_t owed_bytes(const struct owed *o)
{
    if (o->n == 0)
        return 0;
    return (size_t)o->n * o->reply->line_len - o->sent + (o->later ? owed_later_bytes(o) : 0);
}

/* The next run to send, in one block: *len bytes from the return value;
 * *all is set when they are the last bytes owed. */
static inline const char *owed_run(const struct owed *o, size_t *len, bool *all)
{
    size_t left = (size_t)o->n * o->reply->line_len - o->sent, run = o->reply->size - o->sent;

    *len = left < run ? left : run;
    *all = left <= run && !o->later;
    return o->reply->data + o->sent;
}

size_t owed_consume_slow(struct owed *o, size_t n, uint64_t *done);

/* Accounts for up to n bytes sent: returns how many of them were replies,
 * and adds the replies completed to *done. Inline for one greeting, the
 * usual case: it runs at every write. */
static inline size_t owed_consume(struct owed *o, size_t n, uint64_t *done)
{
    size_t left, sent;
    uint32_t lines;

    if (o->n == 0 || o->later)
        return owed_consume_slow(o, n, done);
    left = (size_t)o->n * o->reply->line_len - o->sent;
    if (n > left)
        n = left;
    sent = o->sent + n;
    lines = (uint32_t)(sent / o->reply->line_len);
    o->sent = (uint32_t)(sent % o->reply->line_len);
    o->n -= lines;
    *done += lines;
    if (o->n == 0) /* and so .sent is 0: the last line went whole */
        reply_unref(o->reply);
    return n;
}

/* The runs of what is owed, oldest first (the restart handover writes them
 * down): up to max of them into blocks[] and counts[]; returns how many
 * there are, which may be more than max. */
unsigned owed_runs(const struct owed *o, const struct reply **blocks, uint32_t *counts,
                   unsigned max);

/* Drops everything owed (a connection that closes). */
void owed_clear(struct owed *o);

#endif
