/* svr-conn-int.h - inside a connection: struct conn and what the files of
 * the connection module share. They are layered too: svr-conn-io.c (its life:
 * reading, writing, timeouts) calls svr-conn-input.c (what a read brings:
 * messages and the PROXY header), and both call svr-conn-base.c (log
 * lines, the end). Nothing outside them includes it. */
#ifndef HELLO_SVR_CONN_INT_H
#define HELLO_SVR_CONN_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "frame.h"
#include "tlist.h"
#include "svr-conn.h"

/* At a stop, a client is read on until it has been quiet this long: what it
 * sent before the stop may still be on its way, in the kernel's buffers. */
#define STOP_QUIET_USEC (100 * 1000ULL)

enum conn_state {
    CONN_OPEN,   /* reading and answering */
    CONN_EOF,    /* the client is done sending: answer, then close */
    CONN_FAILED, /* an error line is owed after the replies: then linger */
    CONN_LINGER, /* all sent and shut down: drop input until EOF or NET_LINGER_USEC */
};

/* Everything one connection is; docs/connection.md goes field by field. */
struct conn {
    struct conn_ctx *ctx;
    struct watch watch;   /* the descriptor, in the owner's loop */
    struct tnode idle;    /* in ctx->idle; in ctx->quiet or ctx->linger at the end */
    struct tnode partial; /* in ctx->partial while a message is unfinished; in
                           * ctx->proxy, by deadline, while the header is awaited */
    struct owed owed;     /* replies owed, in the greetings they were answered in */
    struct framer framer;
    uint8_t state;
    uint8_t err_sent; /* bytes of the error line sent */
    uint16_t logged;  /* bytes of an unfinished message kept in .head */
    uint8_t proxy;    /* PROXY versions its header may be, as accepted; 0: none awaited */
    bool stopped;     /* our stop ends it, not the client: linger at close */
    bool more;        /* a level is left behind: have the kernel look again */
    bool stored;      /* the service manager's store holds the socket too (a
                       * handover): close(2) alone leaves it in the epoll set */
    uint16_t hdr_len; /* bytes of the header kept in .hdr */
    char *head;       /* its first bytes, only when messages are logged */
    char *hdr;        /* only while a header spans reads */
    union peer peer;  /* the client: from accept(), or from the PROXY header */
};

/* svr-conn-base.c: the lowest layer, used by the two others. */
/* Closes and frees c, and tells the owner (ctx->closed). */
void conn_free(struct conn *c);
void conn_log(const struct conn *c, int prio, const char *what);

/* Moves a node to the tail of a list whose members time out after timeout
 * (0: never). Only when the list was empty can the first deadline of all have
 * come sooner, so only then is the owner's deadline brought forward. Inline:
 * it runs at every read and write. */
static inline void conn_touch(struct conn_ctx *ctx, struct tlist *list, struct tnode *node,
                              uint64_t timeout)
{
    bool was_empty = tlist_empty(list);
    uint64_t now = ctx->loop->now; /* read once per wakeup */

    tlist_touch(list, node, now);
    if (was_empty && timeout && now + timeout < ctx->deadline)
        ctx->deadline = now + timeout;
}

/* Progress: the idle timeout starts again (not while a stop waits for quiet). */
static inline void conn_touch_idle(struct conn *c)
{
    if (c->stopped && c->state == CONN_OPEN)
        return; /* in ctx->quiet until the client stops sending */
    conn_touch(c->ctx, &c->ctx->idle, &c->idle, c->ctx->cfg->idle_timeout);
}

/* svr-conn-io.c, for svr-conn-handover.c */
bool conn_watch(struct conn *c, int fd);
bool conn_settle(struct conn *c);

/* svr-conn-input.c */
/* Frames what was read: each whole message owes a reply. */
void conn_take_input(struct conn *c, const char *buf, size_t n);
/* Reads the PROXY header that must come first; what follows it is input.
 * Returns false when the connection is gone. */
bool conn_take_proxy_header(struct conn *c, const char *buf, size_t n);
/* The unfinished message is whole now: the client went quiet, or done. */
void conn_flush_partial(struct conn *c);
/* A bad or missing PROXY header (r: proxy_parse()'s error, 0: it never came
 * whole): counted, logged, closed. */
void conn_fail_proxy(struct conn *c, int r);
/* proxy_timeout came before the whole header: counted, logged, closed. */
void conn_proxy_expired(struct conn *c);

#endif
