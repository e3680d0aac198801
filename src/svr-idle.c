/* svr-idle.c - exit_on_idle: the timer; at the deadline, the workers let go
 * of the listeners while hellod makes sure that nobody came in meanwhile;
 * then the exit, or accepting again. */
#include "config.h"

#include "svr-idle.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parse.h"
#include "svr-msgid.h"
#include "svr-workers.h"

/* How long the check waits for each worker to let go of the listeners; one
 * that has not by then is busy, and hellod is not idle. */
#define HOLD_WAIT_SEC 2

struct idle {
    struct idle_ctx ctx;
    sd_event_source *timer;
    uint64_t after; /* exit_on_idle in force; 0: off */
};

/* The earliest exit: exit_on_idle after the last of the workers' connections
 * closed; a whole period from now while any is open. */
static uint64_t deadline(const struct idle *idle, uint64_t now)
{
    uint64_t since = 0;

    for (unsigned i = 0; i < idle->ctx.shared->n_workers; i++) {
        const struct worker *w = idle->ctx.workers[i];
        uint64_t t = worker_idle_since(w);

        if (stats_get(worker_stats(w), connections_open) > 0)
            t = now;
        since = t > since ? t : since;
    }
    return since + idle->after;
}

/* No client the kernel has queued on a listener and no worker taken yet
 * (a listening socket polls readable while its queue holds one). */
static bool queues_empty(const struct listeners *ls)
{
    struct pollfd p[LISTENERS_MAX];

    for (unsigned i = 0; i < ls->n; i++)
        p[i] = (struct pollfd){.fd = ls->l[i].fd, .events = POLLIN};
    return poll(p, ls->n, 0) == 0; /* an error is no proof of idleness either */
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct idle *idle = userdata;
    uint64_t at;
    char text[64];
    bool held;

    if (*idle->ctx.stopping || idle->after == 0)
        return sd_event_source_set_enabled(s, SD_EVENT_OFF);
    at = deadline(idle, usec);
    if (usec < at)
        return sd_event_source_set_time(s, at);
    /* It looks idle, but a worker may be taking a client off the queue at this
     * very moment, and the stop would close that client unanswered. So every
     * worker first lets go of the listeners and says so, after its accepts:
     * then the counters are final. A client queued after that waits for the
     * next hellod, which the service manager starts for it. */
    held = workers_post_all(idle->ctx.shared, idle->ctx.workers, idle->ctx.shared->n_workers,
                            MAIL_HOLD, HOLD_WAIT_SEC);
    if (held && usec >= deadline(idle, usec) && queues_empty(idle->ctx.listeners)) {
        format_duration(text, sizeof text, idle->after);
        log_msgid(idle->ctx.log, LOG_INFO, MSGID_IDLE_EXIT,
                  "no connection for %s, exiting; the service manager keeps the sockets", text);
        idle->ctx.exit(idle->ctx.userdata);
        return sd_event_source_set_enabled(s, SD_EVENT_OFF);
    }
    log_debug(idle->ctx.log, "a client came at the idle deadline: serving it, not exiting");
    workers_post_all(idle->ctx.shared, idle->ctx.workers, idle->ctx.shared->n_workers,
                     MAIL_LISTENERS, HOLD_WAIT_SEC);
    return sd_event_source_set_time(s, usec + idle->after);
}

void idle_arm(struct idle *idle, uint64_t after)
{
    const struct listeners *ls = idle->ctx.listeners;
    uint64_t now;
    int r;

    /* Only a server the service manager started for its sockets (Accept=no)
     * exits: the sockets stay with it, and it starts hellod again on the next
     * connection, so exiting loses nobody. */
    idle->after = ls->activated && ls->n > 0 ? after : 0;
    if (idle->after == 0)
        r = sd_event_source_set_enabled(idle->timer, SD_EVENT_OFF);
    else if ((r = sd_event_now(idle->ctx.event, CLOCK_MONOTONIC, &now)) >= 0 &&
             (r = sd_event_source_set_time(idle->timer, now + idle->after)) >= 0)
        r = sd_event_source_set_enabled(idle->timer, SD_EVENT_ON);
    if (r < 0) /* sd-event's out of memory: hellod stays running */
        log_warn(idle->ctx.log, "cannot set the exit_on_idle check: %s", strerror(-r));
}

int idle_new(struct idle **out, const struct idle_ctx *ctx)
{
    struct idle *idle = calloc(1, sizeof *idle);
    int r;

    if (!idle)
        return -ENOMEM;
    idle->ctx = *ctx;
    r = sd_event_add_time_relative(ctx->event, &idle->timer, CLOCK_MONOTONIC, 0, 1000, on_deadline,
                                   idle);
    if (r >= 0)
        r = sd_event_source_set_enabled(idle->timer, SD_EVENT_OFF);
    if (r < 0) {
        idle_free(idle);
        return r;
    }
    *out = idle;
    return 0;
}

struct idle *idle_free(struct idle *idle)
{
    if (!idle)
        return NULL;
    sd_event_source_disable_unref(idle->timer);
    free(idle);
    return NULL;
}
