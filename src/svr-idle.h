/* svr-idle.h - exit_on_idle, on the main thread: the timer, and the check
 * that no client is taken at the moment hellod exits for idleness. */
#ifndef HELLO_SVR_IDLE_H
#define HELLO_SVR_IDLE_H

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "log.h"
#include "svr-listen.h"
#include "svr-worker.h"

/* What the owner (the server) lends; all of it outlives the struct idle. */
struct idle_ctx {
    sd_event *event;
    const struct logger *log;
    struct worker_shared *shared;      /* the acks, and n_workers */
    struct worker *const *workers;     /* shared->n_workers of them */
    const struct listeners *listeners; /* exit_on_idle applies to passed ones only */
    const bool *stopping;              /* a stop under way: no idle exit */
    /* Idle for sure: every worker has let go of the listeners and none holds a
     * connection. The owner stops the workers (MAIL_STOP). */
    void (*exit)(void *userdata);
    void *userdata;
};

struct idle;

int idle_new(struct idle **out, const struct idle_ctx *ctx);
/* Sets the check a whole `after` from now (exit_on_idle), or turns it off
 * (after = 0, or the sockets are not the service manager's). */
void idle_arm(struct idle *idle, uint64_t after);
struct idle *idle_free(struct idle *idle);

#endif
