/* cli-bench-persistent.c - hello-cli bench's default mode: -c connections
 * kept open, each writing PIPELINE copies of the message in one write and the
 * next batch once every reply of the last came, as redis-benchmark -P does. */
#include "config.h"

#include "cli-bench-slot.h"

#include <sys/epoll.h>

/* A slot writes its next batch once every reply of the last came. */
static void send_batch(struct bench *b, struct slot *s)
{
    uint64_t n = b->o->pipeline;

    if (b->phase != PHASE_RUN || s->inflight > 0 || s->out_off < s->out_end)
        return;
    if (n > b->budget)
        n = b->budget;
    if (n == 0)
        return;
    if (b->budget != UINT64_MAX)
        b->budget -= n;
    s->inflight = (uint32_t)n;
    b->outstanding += n;
    b->res->sent += n;
    s->out_off = 0;
    s->out_end = (uint32_t)n * b->line_len;
    s->t_start = now_ns();
    if (slot_write(b, s) < 0)
        slot_lost(b, s);
}

static void on_event(struct bench *b, struct slot *s, uint32_t events)
{
    if (slot_level_event(b, s, events))
        send_batch(b, s);
}

/* Not at once: a server that closes on us must not make a spin. */
static void on_lost(struct bench *b, struct slot *s, bool answered)
{
    (void)answered;
    slot_retry_later(b, s);
}

const struct bench_mode_ops bench_persistent = {
    .connect_events = EPOLLOUT,
    .begin = bench_begin_all,
    .start = slot_connect,
    .on_event = on_event,
    .on_open = send_batch,
    .on_lost = on_lost,
    .advance = bench_end_on_budget,
};
