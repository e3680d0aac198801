/* svr-accept.c - admission: accept (svr-accept-util's batch), the checks,
 * then conn_open(). */
#include "config.h"

#include "svr-accept.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "svr-accept-util.h"

/* Each wakeup accepts at most this many clients, so that a flood of new
 * connections cannot starve the open ones. */
#define ACCEPT_BATCH ACCEPT_BATCH_MIN

static const char error_busy[] = "ERROR server busy\n";

/* A client turned away, in a log line of the connections' shape. */
static void log_refused(const struct conn_ctx *ctx, const union peer *peer, const char *what)
{
    /* A client can cause one with each connection it opens: bounded. */
    if (LOG_NOTICE <= ctx->log->max_level &&
        log_limit_pass(ctx->log, LOG_BOUND_CLIENT_ERRORS, ctx->loop->now))
        accept_log_client(ctx->log, LOG_NOTICE, "", &peer->sa, peer_len(peer), what);
}

/* Past max_connections: say so and close, reading first what the client
 * already sent, so that the close is not a reset that loses the error line. */
static void refuse_busy(struct conn_ctx *ctx, int fd, const union peer *peer)
{
    stats_add(ctx->stats, busy, 1);
    if (send(fd, error_busy, sizeof error_busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT) > 0) {
        shutdown(fd, SHUT_WR);
        (void)!recv(fd, ctx->rbuf, ctx->rbuf_size, MSG_DONTWAIT); /* none sent yet is fine */
    }
    close(fd);
    log_refused(ctx, peer, "server busy, refused");
}

/* With the PROXY protocol on, only the load balancers may connect: anyone
 * else could claim to be anyone. UNIX peers are local processes that the
 * socket file's permissions already chose. */
static bool proxy_trusted(const struct config *cfg, const union peer *peer)
{
    if (peer->sa.sa_family == AF_UNIX)
        return true;
    for (unsigned i = 0; i < cfg->n_proxy_from; i++)
        if (addr_cidr_match(&cfg->proxy_from[i], &peer->sa))
            return true;
    return false;
}

static void refuse_untrusted(struct conn_ctx *ctx, int fd, const union peer *peer)
{
    stats_add(ctx->stats, proxy_errors, 1);
    close(fd);
    log_refused(ctx, peer, "not in proxy_from, closed");
}

/* One client off the queue: refused, or a connection; never an error of
 * the listener's. */
static void admit(struct conn_ctx *ctx, struct slots *slots, int fd, const union peer *peer)
{
    int r;

    if (ctx->cfg->proxy_protocol && !proxy_trusted(ctx->cfg, peer)) {
        refuse_untrusted(ctx, fd, peer);
        return;
    }
    if (!slots_take(slots, ctx->cfg->max_connections)) {
        refuse_busy(ctx, fd, peer);
        return;
    }
    r = conn_open(ctx, fd, peer);
    if (r < 0) {
        slots_give(slots);
        close(fd);
        log_warn(ctx->log, "cannot serve a new client: %s", strerror(-r));
    }
}

/* Where accept_batch() hands each client: admit()'s arguments. */
struct admission {
    struct conn_ctx *ctx;
    struct slots *slots;
};

static void on_client(int fd, const struct sockaddr *sa, socklen_t len, void *userdata)
{
    const struct admission *a = userdata;
    union peer peer = {0};

    /* What accept4() writes into a union peer: all of an IP address (copied
     * whole, which costs less than a copy of len bytes on this path), the
     * start of a UNIX one. */
    if (sa->sa_family == AF_INET6)
        peer.in6 = *(const struct sockaddr_in6 *)sa;
    else if (sa->sa_family == AF_INET)
        peer.in = *(const struct sockaddr_in *)sa;
    else
        memcpy(&peer, sa, len < sizeof peer ? len : sizeof peer);
    admit(a->ctx, a->slots, fd, &peer);
}

int accept_clients(struct conn_ctx *ctx, struct slots *slots, int listen_fd)
{
    struct admission a = {ctx, slots};

    return accept_batch(listen_fd, ACCEPT_BATCH, on_client, &a);
}

int accept_passed(struct conn_ctx *ctx, struct slots *slots, int fd)
{
    union peer peer = {0};
    socklen_t len = sizeof peer;
    char name[ADDR_STRLEN];
    int r;

    if (getpeername(fd, &peer.sa, &len) < 0)
        return -errno;
    slots_take(slots, UINT32_MAX); /* the one connection is never refused */
    r = conn_open(ctx, fd, &peer);
    if (r < 0) {
        slots_give(slots);
        return r;
    }
    peer_name(&peer, name, sizeof name);
    log_peer(ctx->log, LOG_INFO, name, "serving one connection from %s (inetd mode)", name);
    return 0;
}
