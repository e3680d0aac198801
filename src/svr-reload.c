/* svr-reload.c - a reload in the daemon: read, listeners, every worker. */
#include "config.h"

#include "svr-reload.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "svr-msgid.h"
#include "svr-workers.h"

/* A reload that changes the listeners waits this long for every worker to
 * let go of the old ones before they are closed. */
#define ACK_WAIT_SEC 2
/* And this long for every worker to put the new configuration in force: a
 * worker takes its mail at its next wakeup, so far less unless it is stuck
 * (then the watchdog says so too). The main thread waits meanwhile. */
#define CONFIG_ACK_SEC 5

/* Binds what a new `listen` adds and closes what it drops, and puts a new
 * backlog in force on the ones it keeps; passed sockets cannot change, which
 * is said once. */
static int apply_listen(struct reload_ctx *c, struct worker *const *workers, unsigned n,
                        const struct config *next)
{
    struct listeners *dropped;
    struct listen_error err;
    int r;

    if ((addr_list_equal(&c->cfg->listen, &next->listen) && next->backlog == c->cfg->backlog) ||
        c->listeners->conn_fd >= 0)
        return 0;
    if (c->listeners->activated) { /* and their backlog is the socket unit's Backlog= */
        if (!c->listen_change_logged && !addr_list_equal(&c->cfg->listen, &next->listen)) {
            log_notice(c->log, "listen = ... changed: ignored, the sockets come from the "
                               "service manager");
            c->listen_change_logged = true;
        }
        return 0;
    }
    dropped = malloc(sizeof *dropped);
    if (!dropped)
        return -ENOMEM;
    pthread_mutex_lock(&c->shared->lock);
    r = listeners_update(c->listeners, next, dropped, &err);
    pthread_mutex_unlock(&c->shared->lock);
    if (r < 0) {
        log_err(c->log, "cannot listen on %s: %s", err.addr, err.what ? err.what : strerror(-r));
    } else {
        (void)workers_post_all(c->shared, workers, n, MAIL_LISTENERS, ACK_WAIT_SEC);
        listeners_close(dropped);
        for (unsigned i = 0; i < c->listeners->n; i++)
            log_info(c->log, "listening on %s", c->listeners->l[i].name);
    }
    free(dropped);
    return r;
}

int reload_run(struct reload_ctx *c, struct worker *const *workers, unsigned n)
{
    struct config next;
    struct config_error err;
    char msg[1024];
    unsigned acked = n;
    int r;

    r = svr_options_load_config(c->opts, &next, &err);
    if (r < 0) {
        config_error_format(&err, msg, sizeof msg);
        log_msgid(c->log, LOG_ERR, MSGID_RELOAD_FAILED,
                  "reload failed, keeping the running configuration: %s", msg);
        return r;
    }
    r = apply_listen(c, workers, n, &next);
    if (r < 0) {
        log_msgid(c->log, LOG_ERR, MSGID_RELOAD_FAILED,
                  "reload failed, keeping the running configuration: %s", strerror(-r));
        return r;
    }
    if (next.workers != c->cfg->workers)
        log_notice(c->log, "workers = ... changed: takes effect at the next start");
    if (!addr_list_equal(&next.metrics_listen, &c->cfg->metrics_listen))
        log_notice(c->log, "[metrics] listen = ... changed: takes effect at the next start");
    /* Not in force until then: the running values stay what the next
     * reload compares with. */
    next.workers = c->cfg->workers;
    next.metrics_listen = c->cfg->metrics_listen;
    *c->cfg = next;
    c->log->max_level = next.log_level;
    r = workers_post_config(c->shared, workers, n, &next, CONFIG_ACK_SEC, &acked);
    if (r == -ETIMEDOUT)
        log_msgid(c->log, LOG_ERR, MSGID_RELOAD_FAILED,
                  "reload incomplete: %u of %u workers put the new configuration in force "
                  "within %d s",
                  acked, n, CONFIG_ACK_SEC);
    else if (r < 0)
        log_msgid(c->log, LOG_ERR, MSGID_RELOAD_FAILED,
                  "reload incomplete: a worker could not put the new configuration in force: %s",
                  strerror(-r));
    else
        log_msgid(c->log, LOG_INFO, MSGID_RELOADED, "reloaded %s", c->opts->config_path);
    return r;
}
