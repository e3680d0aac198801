/* svr-conn.h - one client connection, from open to close: reading into the
 * owner's buffer, framing messages, owing and writing replies in order, the
 * PROXY header, half-close, errors, and the idle, message and linger
 * timeouts. It knows nothing of workers or servers: what it needs from its
 * owner arrives in a struct conn_ctx, declared here. docs/connection.md
 * says what a connection's state is, field by field. */
#ifndef HELLO_SVR_CONN_H
#define HELLO_SVR_CONN_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "log.h"
#include "loop.h"
#include "svr-config.h"
#include "svr-reply.h"
#include "svr-stats.h"
#include "tlist.h"

/* A client's address: from accept(), or from its PROXY header. */
union peer {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
};

/* The address as log lines show it (ADDR_STRLEN bytes are enough), and the
 * length of it that they show (addr_format()'s len). */
void peer_name(const union peer *peer, char *buf, size_t size);
socklen_t peer_len(const union peer *peer);

/* What the connections of one owner share, given by that owner (a worker)
 * and kept by it; a connection holds a pointer to it. */
struct conn_ctx {
    /* Set by the owner, read by the connections: */
    const struct config *cfg; /* in force: timeouts, max_message, log_messages */
    struct reply *reply;      /* the greeting in force (the owner's reference) */
    struct logger *log;
    struct stats *stats; /* the counters to bump */
    struct loop *loop;   /* the owner's loop: its watch, and loop->now */
    char *rbuf;          /* every read lands here first */
    size_t rbuf_size;
    /* "I closed": n_conns has just gone down by one. */
    void (*closed)(struct conn_ctx *ctx);

    /* Kept by the connections (conn_ctx_init() sets them up): */
    struct tlist idle;    /* open connections, by last progress */
    struct tlist partial; /* connections with an unfinished message */
    struct tlist linger;  /* closing connections, reading what is left */
    struct tlist quiet;   /* at a stop: open ones, until their client is quiet */
    struct tlist proxy;   /* awaiting their PROXY header, by deadline (tlist_insert_by) */
    unsigned n_conns;     /* open (and lingering) connections */
    /* "My deadline moved": the first deadline of the lists, or sooner
     * (CLOCK_MONOTONIC µs). Connections only ever bring it forward; the
     * owner runs conn_expire() when it comes and stores what that returns. */
    uint64_t deadline;
};

void conn_ctx_init(struct conn_ctx *ctx);

/* Serves fd, a connected non-blocking socket, until it closes; the PROXY
 * setting in force now is the one its header is read under. On error fd
 * is still the caller's. */
int conn_open(struct conn_ctx *ctx, int fd, const union peer *peer);

/* Runs the timeouts due at now; returns the next deadline, or UINT64_MAX. */
uint64_t conn_expire(struct conn_ctx *ctx, uint64_t now);

/* Stopping: read what each client already sent, answer it, then close. */
void conn_drain_all(struct conn_ctx *ctx);

/* Closes every connection at once. */
void conn_close_all(struct conn_ctx *ctx);

#endif
