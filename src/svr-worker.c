/* svr-worker.c - a worker thread: its loop, accepting, deadlines, its mail
 * (the mailbox itself: svr-mailbox.c). */
#include "config.h"

#include "svr-worker.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include "loop.h"
#include "svr-accept-util.h"
#include "svr-accept.h"
#include "svr-conn.h"

/* Every read lands here first; a connection keeps nothing of it but the
 * framer's count (and, when messages are logged, the first bytes of an
 * unfinished one). 64 KiB: a whole pipelined burst in one read. */
#define WORKER_READ_BUF (64 * 1024)
/* A stop waits this long for clients to finish sending and take their replies. */
#define DRAIN_LIMIT (5 * 1000000ULL)
#define NEVER       UINT64_MAX

/* A listener as one worker watches it. */
struct acceptor {
    struct watch watch;
    struct worker *w;
};

struct worker {
    struct worker_shared *shared;
    struct logger log; /* this thread's copy: a reload changes the level */
    struct config cfg; /* this thread's copy of the configuration in force */
    struct loop loop;
    struct conn_ctx conns; /* what its connections share, and their lists */
    struct acceptor acceptors[LISTENERS_MAX];
    unsigned n_accept; /* listeners watched now */
    /* Deadlines (CLOCK_MONOTONIC µs, NEVER: none); the loop sleeps until the
     * first of them and conns.deadline. */
    struct accept_pause pause; /* out of descriptors: until when accepting waits */
    uint64_t drain_until;      /* a stop closes whoever is left */
    uint64_t heartbeat_at;     /* the watchdog's next proof of life */
    uint64_t heartbeat_every;
    struct reply *reply; /* the greeting, as a block of reply lines */
    bool stopping;
    bool quit;  /* the loop ends after this wakeup */
    bool inetd; /* serving one passed connection, then done */
    bool held;  /* MAIL_HOLD: not accepting until MAIL_LISTENERS */
    struct stats stats;
    _Atomic uint64_t idle_since; /* when open last fell to 0 (CLOCK_MONOTONIC µs) */
    _Atomic uint64_t heartbeat;  /* ticks while the loop runs, for the watchdog */

    pthread_t thread;
    struct mailbox mailbox; /* the main thread's mail: svr-mailbox.h */

    char rbuf[WORKER_READ_BUF];
};

#define relaxed_set(a, v) atomic_store_explicit(&(a), (v), memory_order_relaxed)
#define relaxed_get(a)    atomic_load_explicit(&(a), memory_order_relaxed)

/* --- accepting ------------------------------------------------------------ */

static void pause_accepting(struct worker *w, int error);

static void on_accept(struct watch *watch, uint32_t events)
{
    struct acceptor *a = (struct acceptor *)watch;
    int r = accept_clients(&a->w->conns, &a->w->shared->slots, watch->fd);

    (void)events;
    if (r < 0 && r != -EAGAIN)
        pause_accepting(a->w, -r);
}

/* Several workers share each listener with EPOLLEXCLUSIVE, so that a new
 * client wakes one of them, not all. That flag cannot be modified, only
 * added: pausing removes the listeners and resuming adds them again. Called
 * with shared->lock held. */
static void watch_listeners(struct worker *w)
{
    const struct listeners *ls = w->shared->listeners;
    uint32_t events = EPOLLIN | (w->shared->n_workers > 1 ? EPOLLEXCLUSIVE : 0);

    for (unsigned i = 0; i < ls->n; i++) {
        int r;

        w->acceptors[i].w = w;
        r = loop_add(&w->loop, &w->acceptors[i].watch, ls->l[i].fd, events, on_accept);
        if (r < 0)
            log_err(&w->log, "cannot watch %s: %s", ls->l[i].name, strerror(-r));
    }
    w->n_accept = ls->n;
}

static void unwatch_listeners(struct worker *w)
{
    for (unsigned i = 0; i < w->n_accept; i++)
        loop_remove(&w->loop, &w->acceptors[i].watch);
    w->n_accept = 0;
}

static void resume_accepting(struct worker *w)
{
    accept_pause_end(&w->pause);
    if (w->stopping || w->held)
        return;
    pthread_mutex_lock(&w->shared->lock);
    watch_listeners(w);
    pthread_mutex_unlock(&w->shared->lock);
}

/* Out of descriptors: wait until a connection closes, or ACCEPT_PAUSE_USEC
 * at most (the shortage may be system-wide). */
static void pause_accepting(struct worker *w, int error)
{
    if (accept_pause_begin(&w->pause, w->loop.now))
        log_warn(&w->log,
                 "cannot accept: %s; new clients wait in the backlog until "
                 "descriptors free up",
                 strerror(error));
    unwatch_listeners(w);
}

/* --- deadlines ------------------------------------------------------------ */

static uint64_t first_deadline(const struct worker *w)
{
    uint64_t at = w->conns.deadline;

    at = w->pause.until < at ? w->pause.until : at;
    at = w->drain_until < at ? w->drain_until : at;
    return w->heartbeat_at < at ? w->heartbeat_at : at;
}

/* The loop's wait: until the first deadline, rounded up to a millisecond. */
static int wait_ms(const struct worker *w)
{
    uint64_t at = first_deadline(w), now = loop_clock();

    if (at == NEVER)
        return -1;
    if (at <= now)
        return 0;
    return (int)((at - now + 999) / 1000 < 60000 ? (at - now + 999) / 1000 : 60000);
}

static void run_deadlines(struct worker *w)
{
    uint64_t now = w->loop.now;

    /* Early is harmless (conn_expire() just finds the real next deadline);
     * late is not: the connections only ever bring conns.deadline forward. */
    if (w->conns.deadline <= now)
        w->conns.deadline = conn_expire(&w->conns, now);
    if (w->pause.until <= now)
        resume_accepting(w);
    if (w->drain_until <= now) {
        w->drain_until = NEVER;
        log_warn(&w->log,
                 "%u clients still connected at the stop's limit of %llu seconds, "
                 "closing them",
                 w->conns.n_conns, (unsigned long long)(DRAIN_LIMIT / 1000000));
        conn_close_all(&w->conns);
    }
    if (w->heartbeat_at <= now) {
        relaxed_set(w->heartbeat, relaxed_get(w->heartbeat) + 1);
        w->heartbeat_at = now + w->heartbeat_every;
    }
}

/* --- stopping ------------------------------------------------------------- */

/* A connection of ours closed: its slot and descriptor are free again. */
static void on_conn_closed(struct conn_ctx *ctx)
{
    struct worker *w = (struct worker *)((char *)ctx - offsetof(struct worker, conns));

    slots_give(&w->shared->slots);
    if (w->pause.paused)
        resume_accepting(w); /* a descriptor just came free */
    if (ctx->n_conns > 0)
        return;
    relaxed_set(w->idle_since, w->loop.now);
    if (w->stopping || w->inetd)
        w->quit = true;
}

/* Stop accepting, answer what clients already sent, close, end the loop. */
/* A stop's last accepts on a socket we bound: until accept(2) says the queue
 * is empty (or descriptors run out), since one batch would leave the rest of
 * a long backlog to be reset at the close. Bounded by the backlog's size, so
 * that clients still arriving cannot keep the stop here. */
static void drain_backlog(struct worker *w, int fd)
{
    unsigned batches = w->conns.cfg->backlog / ACCEPT_BATCH_MIN + 2;

    while (batches-- > 0 && accept_clients(&w->conns, &w->shared->slots, fd) == 0)
        ;
}

static void worker_stop(struct worker *w)
{
    struct worker_shared *sh = w->shared;

    if (w->stopping)
        return;
    /* Clients already in the backlog of a socket we bound connected before
     * the stop: serve them too, or closing the listener would reset them. The
     * last worker to stop closes the listeners right after its pass, so that
     * a later client is refused at once rather than queued and reset. A
     * passed socket keeps its backlog for the next start: leave it be. */
    pthread_mutex_lock(&sh->lock);
    if (!sh->listeners->activated) {
        for (unsigned i = 0; i < sh->listeners->n && !w->pause.paused; i++)
            drain_backlog(w, sh->listeners->l[i].fd);
        if (++sh->stopped == sh->n_workers)
            listeners_close_hello(sh->listeners);
    }
    pthread_mutex_unlock(&sh->lock);
    w->stopping = true;
    unwatch_listeners(w);
    /* Under a store: the connections go on in the next hellod; what does not
     * fit stops as below. */
    handover_give(sh->handover, &w->conns, &w->log, loop_clock());
    w->drain_until = w->loop.now + DRAIN_LIMIT;
    conn_drain_all(&w->conns);
    if (w->conns.n_conns == 0)
        w->quit = true;
}

/* --- the mailbox ---------------------------------------------------------- */

/* Connections answer each message from now on in the new greeting; the
 * replies they owe keep the one they were answered in (svr-reply.h). */
static int apply_config(struct worker *w, const struct config *cfg)
{
    struct reply *reply;
    int r = reply_new(&reply, cfg->greeting);

    if (r < 0)
        return r;
    reply_unref(w->reply);
    w->reply = w->conns.reply = reply;
    w->cfg = *cfg;
    w->log.max_level = cfg->log_level;
    w->conns.deadline = w->loop.now; /* the timeouts may have changed: look again now */
    return 0;
}

/* Says the configuration of generation gen is in force here (or, r < 0,
 * is not): a reload is over when every worker has said so. A late ack of an
 * earlier generation counts for nothing. */
static void ack_config(struct worker *w, uint64_t gen, int r)
{
    struct worker_shared *sh = w->shared;

    pthread_mutex_lock(&sh->lock);
    if (gen == sh->config_gen) {
        sh->config_acks++;
        if (r < 0 && sh->config_error == 0)
            sh->config_error = r;
        pthread_cond_signal(&sh->acked);
    }
    pthread_mutex_unlock(&sh->lock);
}

/* MAIL_LISTENERS watches them again (after a reload, or a hold); MAIL_HOLD
 * lets go of them. The ack comes after this wakeup's accepts, so that the
 * main thread then sees every connection taken among the counters. */
static void rewatch_listeners(struct worker *w, bool hold)
{
    struct worker_shared *sh = w->shared;

    unwatch_listeners(w);
    w->held = hold;
    pthread_mutex_lock(&sh->lock);
    if (!w->pause.paused && !hold)
        watch_listeners(w);
    sh->acks++;
    pthread_cond_signal(&sh->acked);
    pthread_mutex_unlock(&sh->lock);
}

static void read_mail(struct worker *w)
{
    struct config cfg;
    uint64_t gen = 0;
    unsigned mail;
    int r;

    mail = mailbox_take(&w->mailbox, &cfg, &gen);
    if (mail & MAIL_CONFIG) {
        r = apply_config(w, &cfg);
        if (r < 0)
            log_err(&w->log, "out of memory: the new greeting is not in force");
        ack_config(w, gen, r);
    }
    if (mail & MAIL_HOLD) /* acked even when stopping: it accepts no more either way */
        rewatch_listeners(w, true);
    if ((mail & MAIL_LISTENERS) && !w->stopping)
        rewatch_listeners(w, false);
    if (mail & MAIL_STOP)
        worker_stop(w);
}

void worker_post(struct worker *w, unsigned mail, const struct config *cfg)
{
    /* config_gen is written by this (the main) thread only */
    mailbox_post(&w->mailbox, mail, cfg, w->shared->config_gen);
}

/* --- what the main thread reads ------------------------------------------- */

const struct stats *worker_stats(const struct worker *w)
{
    return &w->stats;
}

uint64_t worker_idle_since(const struct worker *w)
{
    return relaxed_get(((struct worker *)w)->idle_since);
}

uint64_t worker_heartbeat(const struct worker *w)
{
    return relaxed_get(((struct worker *)w)->heartbeat);
}

/* --- lifecycle ------------------------------------------------------------ */

int worker_run_once(struct worker *w, int max_wait_ms)
{
    int wait = wait_ms(w);
    int r;

    if (max_wait_ms >= 0 && (wait < 0 || wait > max_wait_ms))
        wait = max_wait_ms;
    r = loop_run_once(&w->loop, wait);
    if (r < 0)
        return r;
    read_mail(w);
    run_deadlines(w);
    return 0;
}

static void init_conns(struct worker *w)
{
    conn_ctx_init(&w->conns);
    w->conns.cfg = &w->cfg;
    w->conns.reply = w->reply;
    w->conns.log = &w->log;
    w->conns.stats = &w->stats;
    w->conns.loop = &w->loop;
    w->conns.rbuf = w->rbuf;
    w->conns.rbuf_size = sizeof w->rbuf;
    w->conns.closed = on_conn_closed;
}

int worker_new(struct worker **out, struct worker_shared *shared, const struct config *cfg,
               const struct logger *log, uint64_t watchdog_usec)
{
    struct worker *w = calloc(1, sizeof *w);
    int r;

    if (!w)
        return -ENOMEM;
    w->shared = shared;
    w->log = *log;
    w->cfg = *cfg;
    w->loop.epfd = -1;
    w->pause = ACCEPT_PAUSE_INIT;
    w->drain_until = w->heartbeat_at = NEVER;
    conn_ctx_init(&w->conns);
    r = mailbox_open(&w->mailbox);
    if (r >= 0)
        r = reply_new(&w->reply, cfg->greeting);
    if (r >= 0)
        r = loop_init(&w->loop);
    if (r >= 0)
        r = mailbox_watch(&w->mailbox, &w->loop);
    if (r < 0) {
        worker_free(w);
        return r;
    }
    init_conns(w);
    if (watchdog_usec > 0) {
        w->heartbeat_every = watchdog_usec / 4;
        w->heartbeat_at = w->loop.now + w->heartbeat_every;
    }
    pthread_mutex_lock(&shared->lock);
    watch_listeners(w);
    pthread_mutex_unlock(&shared->lock);
    relaxed_set(w->idle_since, w->loop.now);
    *out = w;
    return 0;
}

int worker_adopt(struct worker *w, int fd)
{
    w->inetd = true;
    return accept_passed(&w->conns, &w->shared->slots, fd);
}

int worker_adopt_state(struct worker *w, int fd, const struct handover_state *s, bool too_long,
                       struct reply_set *rs)
{
    int r;

    slots_take(&w->shared->slots, UINT32_MAX); /* served already: never refused */
    r = conn_restore(&w->conns, fd, s, too_long, rs);
    if (r < 0)
        slots_give(&w->shared->slots);
    else
        stats_add(&w->stats, handover_adopted, 1);
    return r;
}

void worker_adopt_closed(struct worker *w, unsigned n)
{
    stats_add(&w->stats, handover_closed, n);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;

    while (!w->quit) {
        int r = worker_run_once(w, -1);
        if (r < 0) {
            log_err(&w->log, "a worker's event loop failed: %s", strerror(-r));
            break;
        }
    }
    (void)!eventfd_write(w->shared->done_fd, 1); /* the server counts the ends */
    return NULL;
}

int worker_start(struct worker *w)
{
    sigset_t all, old;
    int r;

    /* Signals are the main thread's: the worker starts with all blocked. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    r = -pthread_create(&w->thread, NULL, worker_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return r;
}

void worker_join(struct worker *w)
{
    pthread_join(w->thread, NULL);
}

struct worker *worker_free(struct worker *w)
{
    if (!w)
        return NULL;
    if (w->conns.closed) /* set up: it may have connections */
        conn_close_all(&w->conns);
    unwatch_listeners(w);
    loop_done(&w->loop);
    reply_unref(w->reply);
    mailbox_close(&w->mailbox);
    free(w);
    return NULL;
}
