/* svr-conn-base.c - what every part of a connection uses: its log lines and
 * its end (its place in the timeout lists is in svr-conn-int.h, inline). The
 * lowest layer of the connection module: it calls nothing else of it. */
#include "config.h"

#include "svr-conn-int.h"

#include <assert.h>
#include <stdlib.h>
#include <unistd.h>

#include "addr.h"

void conn_ctx_init(struct conn_ctx *ctx)
{
    tlist_init(&ctx->idle);
    tlist_init(&ctx->partial);
    tlist_init(&ctx->linger);
    tlist_init(&ctx->quiet);
    tlist_init(&ctx->proxy);
    ctx->n_conns = 0;
    ctx->deadline = UINT64_MAX;
}

socklen_t peer_len(const union peer *peer)
{
    if (peer->sa.sa_family == AF_UNIX)
        return sizeof peer->sa.sa_family; /* UNIX clients have no name to show */
    return peer->sa.sa_family == AF_INET6 ? sizeof peer->in6 : sizeof peer->in;
}

void peer_name(const union peer *peer, char *buf, size_t size)
{
    addr_format(&peer->sa, peer_len(peer), buf, size);
}

void conn_log(const struct conn *c, int prio, const char *what)
{
    char peer[ADDR_STRLEN];

    if (prio > c->ctx->log->max_level)
        return;
    peer_name(&c->peer, peer, sizeof peer);
    log_peer(c->ctx->log, prio, peer, "%s: %s", peer, what);
}

void conn_free(struct conn *c)
{
    struct conn_ctx *ctx = c->ctx;

    assert(ctx->n_conns > 0);
    assert(tnode_linked(&c->idle)); /* in idle, quiet or linger from open to close */
    tnode_unlink(&c->idle);
    tnode_unlink(&c->partial);
    owed_clear(&c->owed);
    /* close(2) takes it out of the epoll set only once no other descriptor
     * refers to the socket, and the store's may. */
    if (c->stored)
        loop_remove(ctx->loop, &c->watch);
    close(c->watch.fd); /* which also takes it out of the epoll set */
    free(c->hdr);
    free(c->head);
    free(c);
    ctx->n_conns--;
    stats_set(ctx->stats, connections_open, ctx->n_conns);
    ctx->closed(ctx);
}
