/* svr-server.h - the server: one context that owns the event loop, the
 * listeners, the configuration in force, the connections' timeout lists and
 * the figures; its lifecycle from start to a drained stop. */
#ifndef HELLO_SVR_SERVER_H
#define HELLO_SVR_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "log.h"
#include "svr-config.h"
#include "svr-listen.h"
#include "svr-options.h"
#include "tlist.h"

/* Every read lands here first; a connection keeps nothing of it but the
 * framer's count (and, when messages are logged, the first bytes of an
 * unfinished one). 64 KiB: a whole pipelined burst in one read. */
#define SERVER_READ_BUF (64 * 1024)

struct reply;

struct server_stats {
    uint64_t connections;   /* accepted, in all */
    uint64_t messages;      /* answered: the reply fully written */
    uint64_t too_long;      /* connections closed for a message too long */
    uint64_t busy;          /* clients refused at max_connections */
    uint64_t idle_timeouts; /* connections closed for idle_timeout */
    uint64_t bytes_in, bytes_out;
};

struct server {
    struct logger log;
    struct config cfg;
    const struct svr_options *opts; /* where a reload reads the config again */
    sd_event *event;
    struct listeners listeners;
    sd_event_source *accept_src[LISTENERS_MAX];
    sd_event_source *accept_pause; /* re-enables accepting after EMFILE */
    sd_event_source *timeouts;     /* fires at the first deadline of the lists */
    sd_event_source *status;       /* the STATUS= line, once a second */
    sd_event_source *drain_limit;  /* ends a stop that takes too long */
    sd_event_source *idle_exit;    /* exit_on_idle: ends an idle activated server */
    uint64_t idle_since;           /* when the last connection closed */
    struct reply *reply;           /* the greeting, as a block of reply lines */
    struct tlist idle;             /* open connections, by last traffic */
    struct tlist partial;          /* connections with an unfinished message */
    struct tlist linger;           /* closing connections, reading what is left */
    unsigned n_conns;              /* open (and lingering) connections */
    bool notify;                   /* $NOTIFY_SOCKET is set */
    bool stopping;
    bool accept_paused;            /* out of descriptors: see pause_accepting() */
    uint64_t pause_logged;         /* when that was last said */
    bool inetd;                    /* serving one passed connection */
    bool listen_change_logged;     /* "listen ... ignored" is said once */
    unsigned status_conns;         /* the figures last sent in STATUS=, */
    uint64_t status_messages;      /* to send only what changed */
    struct server_stats stats;
    char rbuf[SERVER_READ_BUF];
};

/* Sets up the loop, signals, watchdog and timers around a loaded config;
 * opts must outlive the server (a reload reads the config through them). */
int server_new(struct server **out, const struct config *cfg, const struct svr_options *opts,
               const struct logger *log);

/* Serves the sockets in ls (taking them over), until a signal stops it.
 * Returns 0 after a clean stop, or a negative errno. */
int server_run(struct server *srv, struct listeners *ls);

struct server *server_free(struct server *srv);

/* For the connections: a timeout list gained a first member due at `at`
 * (CLOCK_MONOTONIC µs); the timer fires no later than that. */
void server_deadline(struct server *srv, uint64_t at);

/* A connection ended; when stopping, the last one ends the loop. */
void server_conn_closed(struct server *srv);

#endif
