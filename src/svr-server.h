/* svr-server.h - the server: the main thread's side. It owns the listeners,
 * the configuration in force and the workers; it handles the signals (stop,
 * reload), tells the service manager how things stand (READY=, STATUS=,
 * STOPPING=, WATCHDOG=), and ends an idle socket-activated server. */
#ifndef HELLO_SVR_SERVER_H
#define HELLO_SVR_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "log.h"
#include "notify.h"
#include "svr-config.h"
#include "svr-listen.h"
#include "svr-options.h"

struct metrics;
struct worker;

struct server {
    struct logger log;
    struct config cfg;
    const struct svr_options *opts; /* where a reload reads the config again */
    sd_event *event;
    struct listeners listeners; /* workers read it under lock, when told to */
    pthread_mutex_t lock;
    pthread_cond_t acked; /* a worker took new listeners */
    unsigned acks;
    unsigned stopped_workers; /* under lock: the last to stop closes the listeners */
    struct worker *workers[CONFIG_WORKERS_MAX];
    unsigned n_workers;
    _Atomic unsigned conns;  /* open connections of all workers, for max_connections */
    struct metrics *metrics; /* GET /metrics, when asked for */
    int done_fd;             /* an eventfd: a worker's loop has ended */
    unsigned n_done;
    sd_event_source *done_src;
    sd_event_source *status_timer; /* the STATUS= line, once a second */
    sd_event_source *idle_exit;    /* exit_on_idle's check */
    sd_event_source *watchdog;     /* WATCHDOG=1 while every worker ticks */
    uint64_t watchdog_usec;
    uint64_t heartbeats[CONFIG_WORKERS_MAX];
    struct notifier notifier; /* READY=, STATUS=, WATCHDOG=: open from the start */
    bool notify;              /* $NOTIFY_SOCKET is set */
    bool stopping;
    bool listen_change_logged; /* "listen ... ignored" is said once */
    struct totals {
        unsigned open;
        uint64_t connections, messages;
    } status; /* the figures last sent in STATUS=, to send only what changed */
};

/* Sets up the main loop (signals, notify, watchdog) around a loaded config;
 * opts must outlive the server (a reload reads the config through them). */
int server_new(struct server **out, const struct config *cfg, const struct svr_options *opts,
               const struct logger *log);

/* Serves the sockets in ls (taking them over) with cfg.workers threads,
 * until a signal stops it. Returns 0 after a clean stop, or a negative errno. */
int server_run(struct server *srv, struct listeners *ls);

struct server *server_free(struct server *srv);

/* For the workers. */
void server_worker_done(struct server *srv);  /* its loop has ended */
void server_worker_acked(struct server *srv); /* it watches the new listeners */

/* max_connections across all workers: true if a connection may open. */
static inline bool server_take_slot(struct server *srv, unsigned max)
{
    if (atomic_fetch_add_explicit(&srv->conns, 1, memory_order_relaxed) < max)
        return true;
    atomic_fetch_sub_explicit(&srv->conns, 1, memory_order_relaxed);
    return false;
}

static inline void server_give_slot(struct server *srv)
{
    atomic_fetch_sub_explicit(&srv->conns, 1, memory_order_relaxed);
}

#endif
