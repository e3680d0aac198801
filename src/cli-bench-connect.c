/* cli-bench-connect.c - hello-cli bench --connect: a new connection per
 * message (connect, write one line, read one reply line, close, start over),
 * -c of them at once. Its slots are edge-triggered, so that a connection
 * needs no epoll_ctl but the one that adds it: EPOLLOUT says connected,
 * EPOLLIN says the reply came. */
#include "config.h"

#include "cli-bench-slot.h"

#include <sys/epoll.h>

#define READS_PER_EVENT 16 /* a slot reads at most 1 MiB per wakeup */

/* The message a connection carries is taken as it opens. */
static void start(struct bench *b, struct slot *s)
{
    if (b->budget == 0 || b->phase != PHASE_RUN) {
        s->state = SLOT_IDLE;
        return;
    }
    if (b->budget != UINT64_MAX)
        b->budget--;
    s->inflight = 1;
    b->outstanding++;
    s->out_off = 0;
    s->out_end = b->line_len;
    slot_connect(b, s);
}

/* Connected: the message goes out now. */
static void on_connected(struct bench *b, struct slot *s)
{
    int r = slot_write(b, s);

    if (r < 0) {
        slot_connect_failed(b, s, -r);
        return;
    }
    slot_mark_open(b, s);
    b->res->sent++;
}

/* Reads until the reply line is whole, then starts over. */
static void on_readable(struct bench *b, struct slot *s)
{
    for (int i = 0; i < READS_PER_EVENT; i++) {
        ssize_t n = slot_read(b, s);

        if (s->state != SLOT_OPEN)
            return; /* closed by the server: slot_lost queued it */
        if (s->inflight == 0) {
            slot_close(b, s);
            start(b, s);
            return;
        }
        if (n < RBUF_SIZE)
            return; /* drained: the next edge brings the rest */
    }
    b->res->closed++; /* a reply line of over a mebibyte: not one we can count */
    slot_forget_inflight(b, s);
    slot_close(b, s);
    start(b, s);
}

static void on_event(struct bench *b, struct slot *s, uint32_t ev)
{
    if (s->state == SLOT_CONNECTING) {
        if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        on_connected(b, s);
        if (s->state != SLOT_OPEN || !(ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
            return;
    }
    if (s->state != SLOT_OPEN)
        return;
    if (ev & EPOLLOUT && s->out_off < s->out_end && slot_write(b, s) < 0) {
        slot_lost(b, s);
        return;
    }
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        on_readable(b, s);
}

/* A connection closed with its reply in is one done: the next begins. */
static void on_lost(struct bench *b, struct slot *s, bool answered)
{
    if (answered)
        start(b, s);
    else
        slot_retry_later(b, s);
}

const struct bench_mode_ops bench_connect = {
    .connect_events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
    .begin = bench_begin_all,
    .start = start,
    .on_event = on_event,
    .on_open = NULL, /* edge-triggered slots never take the level-triggered path */
    .on_lost = on_lost,
    .advance = bench_end_on_budget,
};
