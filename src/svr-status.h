/* svr-status.h - what the main thread tells the service manager while
 * hellod runs: the STATUS= line with the figures of all workers together
 * (once a second, when they changed) and WATCHDOG=1 while every worker's
 * loop still ticks. It reads the workers (svr-worker.h) and sends through
 * the server's notifier (notify.h). */
#ifndef HELLO_SVR_STATUS_H
#define HELLO_SVR_STATUS_H

#include <stdint.h>

#include <systemd/sd-event.h>

#include "notify.h"
#include "svr-config.h"
#include "svr-metrics-text.h" /* struct metrics_figures */
#include "svr-worker.h"

/* The figures of all workers together, as STATUS= shows them. */
struct status_totals {
    unsigned open;
    uint64_t connections, messages;
};

struct status {
    /* Lent by the owner (the server), set before status_start(); all of it
     * outlives the struct status. */
    const struct notifier *notifier;
    struct worker *const *workers;
    const struct worker_shared *shared; /* n_workers: how many of them run */
    uint64_t watchdog_usec;             /* 0: no watchdog */
    /* Its own. */
    sd_event_source *timer;    /* the STATUS= line, once a second */
    sd_event_source *watchdog; /* WATCHDOG=1 while every worker ticks */
    uint64_t heartbeats[CONFIG_WORKERS_MAX];
    struct status_totals sent; /* the figures last sent, to send only what changed */
};

/* Adds the timers: STATUS= when a service manager listens (notify), the
 * watchdog when it asks for one. 0 or a negative errno. */
int status_start(struct status *st, sd_event *event, bool notify);
/* Sends STATUS= now, after state ("READY=1\n", "STOPPING=1\n" or ""). */
void status_send(struct status *st, const char *state);
struct status_totals status_totals(const struct status *st);
/* Every worker's counters, summed: a metrics_collect_fn, userdata the
 * struct status. */
void status_figures(struct metrics_figures *f, void *userdata);
void status_stop(struct status *st);

#endif
