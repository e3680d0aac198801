/* svr-reply.h - the replies a connection owes (pure: memory, no socket). A
 * greeting makes one reply block, shared by every connection; a connection
 * owes a count of replies in each greeting, oldest first, and sends them
 * straight from the blocks. A reload switches the greeting at the message
 * boundary: replies owed before it keep the old block, later ones the new. */
#ifndef HELLO_SVR_REPLY_H
#define HELLO_SVR_REPLY_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

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
void reply_unref(struct reply *r);

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

/* One more reply, answered in the greeting of r (the one in force now).
 * Returns 0, or -ENOMEM when a reload's switch found no memory: then the
 * reply is owed in the greeting before it, which is never lost. */
int owed_add_slow(struct owed *o, struct reply *r);

static inline int owed_add(struct owed *o, struct reply *r)
{
    if (o->n > 0 && !o->later && o->reply == r) {
        o->n++; /* the usual case: one more in the same greeting */
        return 0;
    }
    return owed_add_slow(o, r);
}

size_t owed_later_bytes(const struct owed *o);

/* Bytes owed and not yet sent. */
static inline size_t owed_bytes(const struct owed *o)
{
    if (o->n == 0)
        return 0;
    return (size_t)o->n * o->reply->line_len - o->sent + (o->later ? owed_later_bytes(o) : 0);
}

/* The next run to send, in one block: *len bytes from the return value. */
static inline const char *owed_run(const struct owed *o, size_t *len)
{
    size_t left = (size_t)o->n * o->reply->line_len - o->sent, run = o->reply->size - o->sent;

    assert(o->n > 0 && o->sent < o->reply->line_len);
    *len = left < run ? left : run;
    return o->reply->data + o->sent;
}

/* Accounts for up to n bytes sent: returns how many of them were replies,
 * and adds the replies completed to *done. */
size_t owed_consume(struct owed *o, size_t n, uint64_t *done);

/* Drops everything owed (a connection that closes). */
void owed_clear(struct owed *o);

#endif
