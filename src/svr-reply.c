/* svr-reply.c - reply blocks and the replies a connection owes (pure). */
#include "config.h"

#include "svr-reply.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define REPLY_BLOCK (64 * 1024)

struct owed_later {
    struct reply *reply; /* held */
    uint32_t n;
    struct owed_later *next;
};

int reply_new(struct reply **out, const char *greeting)
{
    size_t glen = strlen(greeting), line = glen + 1;
    size_t lines = REPLY_BLOCK / line ? REPLY_BLOCK / line : 1;
    struct reply *r = malloc(sizeof *r + lines * line);

    if (!r)
        return -ENOMEM;
    r->refs = 1;
    r->line_len = (uint32_t)line;
    r->size = (uint32_t)(lines * line);
    for (size_t i = 0; i < lines; i++) {
        memcpy(r->data + i * line, greeting, glen);
        r->data[i * line + glen] = '\n';
    }
    *out = r;
    return 0;
}

static struct owed_later *last_later(const struct owed *o)
{
    struct owed_later *l = o->later;

    while (l && l->next)
        l = l->next;
    return l;
}

/* A reload came since the first reply owed. Nothing is allocated per
 * message: only at the first read after a reload on a connection that still
 * owes replies in the greeting before it. */
int owed_add_slow(struct owed *o, struct reply *r, uint32_t n)
{
    struct owed_later *last, *l;

    assert(o->n > 0 && o->sent < o->reply->line_len);
    last = last_later(o);
    if ((last ? last->reply : o->reply) != r && (l = malloc(sizeof *l))) {
        *l = (struct owed_later){.reply = r, .n = n};
        r->refs++;
        if (last)
            last->next = l;
        else
            o->later = l;
        return 0;
    }
    if (last)
        last->n += n;
    else
        o->n += n;
    return (last ? last->reply : o->reply) == r ? 0 : -ENOMEM;
}

unsigned owed_runs(const struct owed *o, const struct reply **blocks, uint32_t *counts,
                   unsigned max)
{
    unsigned n = 0;

    if (o->n == 0)
        return 0;
    if (max > 0) {
        blocks[0] = o->reply;
        counts[0] = o->n;
    }
    n++;
    for (const struct owed_later *l = o->later; l; l = l->next, n++)
        if (n < max) {
            blocks[n] = l->reply;
            counts[n] = l->n;
        }
    return n;
}

size_t owed_later_bytes(const struct owed *o)
{
    size_t bytes = 0;

    for (const struct owed_later *l = o->later; l; l = l->next)
        bytes += (size_t)l->n * l->reply->line_len;
    return bytes;
}

/* The first greeting's replies are all sent: the next greeting's come first. */
static void next_greeting(struct owed *o)
{
    struct owed_later *l = o->later;

    reply_unref(o->reply);
    if (!l) {
        o->reply = NULL;
        return;
    }
    o->reply = l->reply; /* its reference passes over */
    o->n = l->n;
    o->later = l->next;
    free(l);
}

size_t owed_consume_slow(struct owed *o, size_t n, uint64_t *done)
{
    size_t used = 0;

    assert(o->n > 0 || !o->later);
    while (n > used && o->n > 0) {
        size_t left = (size_t)o->n * o->reply->line_len - o->sent;
        size_t took = n - used < left ? n - used : left;
        size_t sent = o->sent + took;
        uint32_t lines = (uint32_t)(sent / o->reply->line_len);

        o->sent = (uint32_t)(sent % o->reply->line_len);
        o->n -= lines;
        *done += lines;
        used += took;
        if (o->n == 0) {
            assert(o->sent == 0);
            next_greeting(o);
        }
    }
    return used;
}

void owed_clear(struct owed *o)
{
    while (o->n > 0) {
        o->n = 0;
        next_greeting(o);
    }
    o->sent = 0;
}
