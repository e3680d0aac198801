/* svr-worker.h - a worker: one thread with an epoll loop of its own (loop.h)
 * that accepts on the shared listeners (svr-accept.h) and serves its
 * connections (svr-conn.h), with its copy of the configuration and its
 * counters. The main thread reaches it only through its mailbox; what the
 * worker shares with the main thread and the other workers is the data of a
 * struct worker_shared, declared here, which the owner (the server) keeps. */
#ifndef HELLO_SVR_WORKER_H
#define HELLO_SVR_WORKER_H

#include <pthread.h>
#include <stdint.h>

#include "log.h"
#include "svr-conn-handover.h"
#include "svr-config.h"
#include "svr-handover.h"
#include "svr-listen.h"
#include "svr-mailbox.h" /* enum worker_mail */
#include "svr-slots.h"
#include "svr-stats.h"

/* Owned by the server, handed to every worker; outlives them. */
struct worker_shared {
    pthread_mutex_t lock;        /* guards the fields up to slots */
    pthread_cond_t acked;        /* signalled when acks goes up */
    unsigned acks;               /* workers that took the mail MAIL_LISTENERS or MAIL_HOLD */
    uint64_t config_gen;         /* the last MAIL_CONFIG posted; the main thread counts */
    unsigned config_acks;        /* workers that put config_gen in force */
    int config_error;            /* the first -errno of one that could not, or 0 */
    unsigned stopped;            /* workers past their stop's last accepting */
    struct listeners *listeners; /* read when told to (MAIL_LISTENERS) */
    unsigned n_workers;
    struct slots slots;        /* max_connections across all workers */
    int done_fd;               /* an eventfd: each worker whose loop has ended adds 1 */
    struct handover *handover; /* a stop hands connections over when enabled */
};

struct worker;

/* Sets up a worker's loop around cfg; watchdog_usec > 0 makes it tick. */
int worker_new(struct worker **out, struct worker_shared *shared, const struct config *cfg,
               const struct logger *log, uint64_t watchdog_usec);
/* Serves fd, an already connected socket, as the one connection (inetd mode). */
int worker_adopt(struct worker *w, int fd);
/* Serves fd, a connection a previous hellod served, from its state s
 * (svr-conn-handover.h); before the worker starts. */
int worker_adopt_state(struct worker *w, int fd, const struct handover_state *s, bool too_long,
                       struct reply_set *rs);
/* Counts n connections a previous hellod handed over that could not be
 * adopted and were closed; before the worker starts. */
void worker_adopt_closed(struct worker *w, unsigned n);
int worker_start(struct worker *w);
/* One wakeup of the loop and what falls due; the thread's body, and the
 * tests' way to drive a worker by hand. */
int worker_run_once(struct worker *w, int max_wait_ms);
void worker_join(struct worker *w);
struct worker *worker_free(struct worker *w);

/* From the main thread: cfg is read for MAIL_CONFIG only. */
void worker_post(struct worker *w, unsigned mail, const struct config *cfg);

/* What the main thread reads of a running worker (relaxed atomics). */
const struct stats *worker_stats(const struct worker *w);
uint64_t worker_idle_since(const struct worker *w); /* when it last had none open */
uint64_t worker_heartbeat(const struct worker *w);  /* ticks while its loop runs */

#endif
