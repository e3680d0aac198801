/* svr-status.c - STATUS= and WATCHDOG=, from the main thread. */
#include "config.h"

#include "svr-status.h"

#include <stdbool.h>

#define STATUS_INTERVAL (1 * 1000000ULL)

void status_figures(struct metrics_figures *f, void *userdata)
{
    const struct status *st = userdata;

    *f = (struct metrics_figures){.workers = st->shared->n_workers};
    for (unsigned i = 0; i < st->shared->n_workers; i++) {
        const struct stats *s = worker_stats(st->workers[i]);
#define ADD_FIGURE(field, ...) f->field += stats_get(s, field);
        STATS_FIELDS(ADD_FIGURE)
#undef ADD_FIGURE
    }
}

struct status_totals status_totals(const struct status *st)
{
    struct metrics_figures f;

    status_figures(&f, (void *)st);
    return (struct status_totals){(unsigned)f.connections_open, f.connections_total,
                                  f.messages_total};
}

void status_send(struct status *st, const char *state)
{
    struct status_totals t = status_totals(st);

    notifier_sendf(st->notifier, "%sSTATUS=%u connections open, %llu messages answered", state,
                   t.open, (unsigned long long)t.messages);
    st->sent = t;
}

static int on_status(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct status *st = userdata;
    struct status_totals t = status_totals(st);

    if (t.open != st->sent.open || t.messages != st->sent.messages)
        status_send(st, "");
    return sd_event_source_set_time(s, usec + STATUS_INTERVAL);
}

/* WATCHDOG=1 only while every worker's loop still ticks: a stalled worker
 * is what the service manager must see, not just a live main thread. */
static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct status *st = userdata;
    bool all_alive = true;

    for (unsigned i = 0; i < st->shared->n_workers; i++) {
        uint64_t beat = worker_heartbeat(st->workers[i]);
        if (beat == st->heartbeats[i])
            all_alive = false;
        st->heartbeats[i] = beat;
    }
    if (all_alive)
        notifier_send(st->notifier, "WATCHDOG=1");
    return sd_event_source_set_time(s, usec + st->watchdog_usec / 2);
}

static int add_timer(struct status *st, sd_event *event, sd_event_source **s, uint64_t after,
                     sd_event_time_handler_t fn)
{
    int r = sd_event_add_time_relative(event, s, CLOCK_MONOTONIC, after, 1000, fn, st);

    return r < 0 ? r : sd_event_source_set_enabled(*s, SD_EVENT_ON);
}

int status_start(struct status *st, sd_event *event, bool notify)
{
    int r = 0;

    if (notify)
        r = add_timer(st, event, &st->timer, STATUS_INTERVAL, on_status);
    if (r >= 0 && st->watchdog_usec > 0)
        r = add_timer(st, event, &st->watchdog, st->watchdog_usec / 2, on_watchdog);
    return r;
}

void status_stop(struct status *st)
{
    st->timer = sd_event_source_disable_unref(st->timer);
    st->watchdog = sd_event_source_disable_unref(st->watchdog);
}
