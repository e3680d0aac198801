/* svr-accept.c - admission: accept, the checks, then conn_open(). */
#include "config.h"

#include "svr-accept.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"

/* Each wakeup accepts at most this many clients, so that a flood of new
 * connections cannot starve the open ones. */
#define ACCEPT_BATCH ACCEPT_BATCH_MIN

static const char error_busy[] = "ERROR server busy\n";

/* Past max_connections: say so and close, reading first what the client
 * already sent, so that the close is not a reset that loses the error line. */
static void refuse_busy(struct conn_ctx *ctx, int fd, const union peer *peer)
{
    char name[ADDR_STRLEN];

    stats_add(ctx->stats, busy, 1);
    if (send(fd, error_busy, sizeof error_busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT) > 0) {
        shutdown(fd, SHUT_WR);
        (void)!recv(fd, ctx->rbuf, ctx->rbuf_size, MSG_DONTWAIT); /* none sent yet is fine */
    }
    close(fd);
    if (LOG_NOTICE <= ctx->log->max_level &&
        log_limit_pass(ctx->log, LOG_BOUND_CLIENT_ERRORS, ctx->loop->now)) {
        peer_name(peer, name, sizeof name);
        log_peer(ctx->log, LOG_NOTICE, name, "%s: server busy, refused", name);
    }
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
    char name[ADDR_STRLEN];

    stats_add(ctx->stats, proxy_errors, 1);
    close(fd);
    if (LOG_NOTICE <= ctx->log->max_level &&
        log_limit_pass(ctx->log, LOG_BOUND_CLIENT_ERRORS, ctx->loop->now)) {
        peer_name(peer, name, sizeof name);
        log_peer(ctx->log, LOG_NOTICE, name, "%s: not in proxy_from, closed", name);
    }
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

int accept_clients(struct conn_ctx *ctx, struct slots *slots, int listen_fd)
{
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        union peer peer = {0};
        socklen_t len = sizeof peer;
        int fd = accept4(listen_fd, &peer.sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                return -errno;
            if (errno == EAGAIN)
                return -EAGAIN;
            continue; /* ECONNABORTED and the like: that client gave up */
        }
        admit(ctx, slots, fd, &peer);
    }
    return 0;
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
