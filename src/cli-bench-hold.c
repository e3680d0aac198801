/* cli-bench-hold.c - hello-cli bench --hold N: N connections opened, -c
 * connects under way at a time; kept idle for the duration (or until
 * SIGUSR1); then one message on each, and the run ends with their replies. */
#include "config.h"

#include "cli-bench-slot.h"

#include <stdio.h>
#include <sys/epoll.h>

/* Every connection is open (or has failed for good): idle now. */
static void hold_all_open(struct bench *b)
{
    b->res->held = b->n_open;
    fprintf(stderr, "hello-cli bench: holding %u connections\n", b->n_open);
    fflush(stderr);
    b->phase = PHASE_IDLE;
    b->phase_end = now_ns() + b->o->duration_us * NSEC_PER_USEC;
}

/* -c connects at once; the others follow as these open. */
static void begin(struct bench *b)
{
    uint32_t first = b->o->connections < b->n_slots ? b->o->connections : b->n_slots;

    for (uint32_t i = 0; i < first && b->phase == PHASE_RUN; i++)
        slot_connect(b, &b->slots[b->next_hold++]);
}

static void on_event(struct bench *b, struct slot *s, uint32_t events)
{
    slot_level_event(b, s, events);
}

/* One more is open: the next connects. */
static void on_open(struct bench *b, struct slot *s)
{
    (void)s;
    if (b->next_hold < b->n_slots) {
        slot_connect(b, &b->slots[b->next_hold++]);
        return;
    }
    if (b->n_connecting == 0 && b->retry.len == 0 && b->phase == PHASE_RUN)
        hold_all_open(b);
}

/* One connection fewer to answer. */
static void on_lost(struct bench *b, struct slot *s, bool answered)
{
    (void)b, (void)s, (void)answered;
}

/* The last retries may have been the last connects. */
static void after_retries(struct bench *b)
{
    if (b->phase == PHASE_RUN && b->next_hold == b->n_slots && b->n_connecting == 0 &&
        b->retry.len == 0)
        hold_all_open(b);
}

/* The idle time is over: one message on every connection still open. */
static void answer(struct bench *b)
{
    b->phase = PHASE_ANSWER;
    b->start = now_ns();
    b->last_progress = b->start;
    b->res->held = b->n_open;
    for (uint32_t i = 0; i < b->n_slots; i++) {
        struct slot *s = &b->slots[i];
        if (s->state != SLOT_OPEN)
            continue;
        s->inflight = 1;
        b->outstanding++;
        b->res->sent++;
        s->out_off = 0;
        s->out_end = b->line_len;
        s->t_start = now_ns();
        if (slot_write(b, s) < 0)
            slot_lost(b, s);
    }
}

static void advance(struct bench *b, uint64_t now)
{
    if (b->phase == PHASE_IDLE && (now >= b->phase_end || b->proceed))
        answer(b);
    if (b->phase == PHASE_ANSWER && b->outstanding == 0)
        b->phase = PHASE_DONE;
}

/* Interrupted before every reply came. */
static void finish(struct bench *b)
{
    if (b->phase == PHASE_DONE && b->res->status == CLI_DONE && b->outstanding > 0)
        b->res->status = CLI_TIMED_OUT;
}

const struct bench_mode_ops bench_hold = {
    .connect_events = EPOLLOUT,
    .begin = begin,
    .start = slot_connect,
    .on_event = on_event,
    .on_open = on_open,
    .on_lost = on_lost,
    .after_retries = after_retries,
    .advance = advance,
    .finish = finish,
};
