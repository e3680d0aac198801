/* svr-worker.h - a worker: one thread with an epoll loop of its own (loop.h)
 * that accepts on the shared listeners and serves its connections, with
 * their timeout lists, its copy of the configuration and its figures. The
 * main thread reaches it only through its mailbox. */
#ifndef HELLO_SVR_WORKER_H
#define HELLO_SVR_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "log.h"
#include "loop.h"
#include "svr-config.h"
#include "svr-listen.h"
#include "tlist.h"

/* Every read lands here first; a connection keeps nothing of it but the
 * framer's count (and, when messages are logged, the first bytes of an
 * unfinished one). 64 KiB: a whole pipelined burst in one read. */
#define WORKER_READ_BUF (64 * 1024)

struct server;
struct reply;

/* Written by the worker alone and read by the main thread (STATUS=, metrics,
 * exit_on_idle, watchdog): relaxed atomics, which cost plain moves. */
struct worker_stats {
    _Atomic uint64_t connections;   /* accepted, in all */
    _Atomic uint64_t messages;      /* answered: the reply fully written */
    _Atomic uint64_t too_long;      /* connections closed for a message too long */
    _Atomic uint64_t proxy_errors;  /* connections closed for a bad or missing PROXY header */
    _Atomic uint64_t busy;          /* clients refused at max_connections */
    _Atomic uint64_t idle_timeouts; /* connections closed for idle_timeout */
    _Atomic uint64_t bytes_in, bytes_out;
    _Atomic unsigned open;       /* connections open now */
    _Atomic uint64_t idle_since; /* when open last fell to 0 (CLOCK_MONOTONIC µs) */
    _Atomic uint64_t heartbeat;  /* ticks while the loop runs, for the watchdog */
};

#define stat_get(w, field)    atomic_load_explicit(&(w)->stats.field, memory_order_relaxed)
#define stat_set(w, field, v) atomic_store_explicit(&(w)->stats.field, (v), memory_order_relaxed)
#define stat_add(w, field, n) stat_set(w, field, stat_get(w, field) + (n))

enum worker_mail {
    MAIL_CONFIG = 1 << 0,    /* put mail_cfg in force */
    MAIL_LISTENERS = 1 << 1, /* watch the server's listeners again, then acknowledge */
    MAIL_STOP = 1 << 2,      /* stop accepting, answer what is owed, end the thread */
};

/* A listener as one worker watches it. */
struct acceptor {
    struct watch watch;
    struct worker *w;
};

struct worker {
    struct server *srv;
    struct logger log; /* this thread's copy: a reload changes the level */
    struct config cfg; /* this thread's copy of the configuration in force */
    struct loop loop;
    struct acceptor acceptors[LISTENERS_MAX];
    unsigned n_accept; /* listeners watched now */
    struct watch mail_watch;
    /* Deadlines (CLOCK_MONOTONIC µs, UINT64_MAX: none); the loop sleeps
     * until the first of them. */
    uint64_t timeouts_at;  /* the first deadline of the lists below */
    uint64_t pause_until;  /* accepting resumes after EMFILE */
    uint64_t drain_until;  /* a stop closes whoever is left */
    uint64_t heartbeat_at; /* the watchdog's next proof of life */
    uint64_t heartbeat_every;
    struct reply *reply;  /* the greeting, as a block of reply lines */
    struct tlist idle;    /* open connections, by last progress */
    struct tlist partial; /* connections with an unfinished message */
    struct tlist linger;  /* closing connections, reading what is left */
    struct tlist quiet;   /* at a stop: open ones, until their client is quiet */
    unsigned n_conns;     /* open (and lingering) connections */
    bool stopping;
    bool quit;             /* the loop ends after this wakeup */
    bool inetd;            /* serving one passed connection, then done */
    bool accept_paused;    /* out of descriptors: see pause_accepting() */
    uint64_t pause_logged; /* when that was last said */
    struct worker_stats stats;

    pthread_t thread;
    pthread_mutex_t mail_lock;
    int mail_fd;            /* an eventfd: the main thread's knock */
    unsigned mail;          /* enum worker_mail bits, under mail_lock */
    struct config mail_cfg; /* under mail_lock */

    char rbuf[WORKER_READ_BUF];
};

/* Sets up a worker's loop around cfg; watchdog_usec > 0 makes it tick. */
int worker_new(struct worker **out, struct server *srv, const struct config *cfg,
               const struct logger *log, uint64_t watchdog_usec);
/* Serves fd, an already connected socket, as the one connection (inetd mode). */
int worker_adopt(struct worker *w, int fd);
int worker_start(struct worker *w);
/* One wakeup of the loop and what falls due; the thread's body, and the
 * tests' way to drive a worker by hand. */
int worker_run_once(struct worker *w, int max_wait_ms);
void worker_join(struct worker *w);
struct worker *worker_free(struct worker *w);

/* From the main thread. */
void worker_post(struct worker *w, unsigned mail, const struct config *cfg);

/* From the worker's connections. */
void worker_deadline(struct worker *w, uint64_t at);
void worker_conn_closed(struct worker *w);

#endif
