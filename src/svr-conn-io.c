/* svr-conn-io.c - one client connection, from open to close: its watch in
 * the loop, reading, writing, the timeouts and the stop.
 *
 * A connection costs under 200 bytes while idle: no buffer of its own. Reads
 * land in the owner's shared buffer and are framed at once; each complete
 * message adds one to the replies owed, and the owed replies go out in one
 * write straight from the greeting's reply block (svr-reply.h). So nothing is
 * allocated per message, and a client that never reads costs a counter, not
 * memory.
 *
 * Connections are watched edge-triggered: epoll reports a ready socket once,
 * instead of polling it again at every wakeup until it is drained, and a
 * reply goes out with send(), which has no msghdr to copy in. Together they
 * take about 3% off the server's CPU per reply (bench/README.md). The price
 * is two rules: a read that fills the buffer, or a write stopped by
 * WRITE_BATCH, leaves a level behind that no new edge will report, so
 * conn->more has the kernel look again; and a short read after EPOLLRDHUP
 * has taken everything the client will ever send.
 *
 * assert() stays in every build (NDEBUG is never defined): each one checks
 * an invariant a reader relies on (docs/connection.md lists them), on the
 * paths of a close, a timeout, a stop or a reload, never on the path of a
 * message (read, frame, owe, send), which costs nothing more for them. */
#include "config.h"

#include "svr-conn-int.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "addr.h"
#include "frame.h"
#include "net.h"

/* Past this many bytes of replies owed and not taken by the kernel, stop
 * reading the client until it reads: pipelining is bounded by the client's
 * own appetite. */
#define CONN_OUTPUT_MAX (64 * 1024)
/* The most one wakeup writes to one client, for fairness. */
#define WRITE_BATCH (256 * 1024)
/* Asked for on every connection, whatever else is. */
#define CONN_EVENTS (EPOLLET | EPOLLRDHUP)

static const char error_too_long[] = "ERROR message too long\n";

/* --- small helpers -------------------------------------------------------- */

static int conn_fd(const struct conn *c)
{
    return c->watch.fd;
}

static size_t error_left(const struct conn *c)
{
    return c->state == CONN_FAILED ? sizeof error_too_long - 1 - c->err_sent : 0;
}

static bool output_pending(const struct conn *c)
{
    return c->owed.n > 0 || error_left(c) > 0;
}

/* --- lifecycle ------------------------------------------------------------ */

/* Asks for what the state needs. Returns false when the connection is gone:
 * a watch the kernel refuses to change would leave it deaf, so it closes. */
static bool set_events(struct conn *c)
{
    uint32_t want = CONN_EVENTS;
    int r;

    if ((c->state == CONN_OPEN && owed_bytes(&c->owed) <= CONN_OUTPUT_MAX) ||
        c->state == CONN_LINGER)
        want |= EPOLLIN;
    if (output_pending(c))
        want |= EPOLLOUT;
    /* message_timeout waits for the client's next byte; while we are the
     * ones not reading (the client is not taking its replies), it stops, and
     * starts again from now once we read again. */
    if (c->state == CONN_OPEN && frame_pending(&c->framer)) {
        if (!(want & EPOLLIN))
            tnode_unlink(&c->partial);
        else if (!tnode_linked(&c->partial))
            conn_touch(c->ctx, &c->ctx->partial, &c->partial, c->ctx->cfg->message_timeout);
    }
    if (c->more)
        r = loop_rearm(c->ctx->loop, &c->watch, want);
    else
        r = loop_set_events(c->ctx->loop, &c->watch, want);
    c->more = false;
    if (r < 0) {
        conn_log(c, LOG_WARNING, "cannot watch the connection, closing");
        conn_free(c);
        return false;
    }
    return true;
}

/* Everything owed is sent: close, or linger when the client may still be
 * sending (after an error line, or when our stop ended the connection).
 * Returns false when the connection is gone. */
static bool conn_finish(struct conn *c)
{
    assert(!output_pending(c));
    if (c->state != CONN_FAILED && !c->stopped) {
        conn_free(c);
        return false;
    }
    c->state = CONN_LINGER;
    shutdown(conn_fd(c), SHUT_WR); /* fails only on a dead socket: its read says so */
    tnode_unlink(&c->partial);
    conn_touch(c->ctx, &c->ctx->linger, &c->idle, NET_LINGER_USEC);
    return set_events(c);
}

/* --- writing -------------------------------------------------------------- */

/* What goes out next: replies straight from a reply block, then the error
 * line once no reply is left before it. */
static int pending_iov(const struct conn *c, struct iovec iov[2], size_t *total)
{
    int n = 0;

    *total = 0;
    if (c->owed.n > 0) {
        size_t run;
        bool all;
        iov[n].iov_base = (char *)owed_run(&c->owed, &run, &all);
        iov[n++].iov_len = run;
        *total = run;
        if (!all)
            return n;
    }
    if (error_left(c) > 0) {
        iov[n++] = (struct iovec){(char *)error_too_long + c->err_sent, error_left(c)};
        *total += error_left(c);
    }
    return n;
}

/* Accounts for n bytes the kernel took. */
static void consume_sent(struct conn *c, size_t n)
{
    uint64_t done = 0;

    if (c->owed.n > 0) {
        n -= owed_consume(&c->owed, n, &done);
        stats_add(c->ctx->stats, messages_total, done);
    }
    c->err_sent = (uint8_t)(c->err_sent + n);
}

/* Sends what is owed, in one write unless the socket takes less. Returns
 * false when the connection is gone. */
static bool conn_write(struct conn *c)
{
    size_t written = 0;

    while (written < WRITE_BATCH) {
        struct iovec iov[2];
        struct msghdr msg = {.msg_iov = iov};
        size_t want;
        ssize_t n;

        msg.msg_iovlen = (size_t)pending_iov(c, iov, &want);
        if (msg.msg_iovlen == 0)
            break;
        if (msg.msg_iovlen == 1)
            n = send(conn_fd(c), iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        else
            n = sendmsg(conn_fd(c), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            conn_log(c, LOG_DEBUG, "write failed, closing");
            conn_free(c);
            return false;
        }
        stats_add(c->ctx->stats, bytes_out, (uint64_t)n);
        consume_sent(c, (size_t)n);
        written += (size_t)n;
        conn_touch_idle(c);
        if ((size_t)n < want)
            break; /* the socket is full: EPOLLOUT will say when it drains */
    }
    if (written >= WRITE_BATCH)
        c->more = true; /* the socket may have room still, and no edge will say so */
    if (!output_pending(c) && (c->state == CONN_EOF || c->state == CONN_FAILED))
        return conn_finish(c);
    return set_events(c);
}

/* --- reading -------------------------------------------------------------- */

/* What one read brought. Returns false when the connection is gone. */
static bool take_read(struct conn *c, const char *buf, size_t n)
{
    if (c->state == CONN_LINGER)
        return true; /* dropped: we are only waiting for the client's FIN */
    if (c->proxy)
        return conn_take_proxy_header(c, buf, n);
    if (c->stopped && c->state == CONN_OPEN)
        conn_touch(c->ctx, &c->ctx->quiet, &c->idle, STOP_QUIET_USEC);
    conn_take_input(c, buf, n);
    return true;
}

/* The client shut down its writing side: answer everything, then close. */
static bool conn_eof(struct conn *c)
{
    if (c->state == CONN_LINGER) {
        conn_free(c);
        return false;
    }
    if (c->proxy) {
        conn_fail_proxy(c, 0); /* it ended before its header was whole */
        return false;
    }
    conn_flush_partial(c);
    if (c->state == CONN_OPEN)
        c->state = CONN_EOF;
    return conn_write(c);
}

/* One read into the shared buffer. A short read means the socket is drained,
 * so there is no second read to see EAGAIN; and when the client had shut
 * down its side (peer_done: EPOLLRDHUP), the end came with it. Returns false
 * when the connection is gone. */
static bool conn_read(struct conn *c, bool peer_done)
{
    struct conn_ctx *ctx = c->ctx;
    ssize_t n = read(conn_fd(c), ctx->rbuf, ctx->rbuf_size);

    if (n > 0) {
        stats_add(ctx->stats, bytes_in, (uint64_t)n);
        c->more = (size_t)n == ctx->rbuf_size;
        if (!take_read(c, ctx->rbuf, (size_t)n))
            return false;
        return peer_done && !c->more ? conn_eof(c) : true;
    }
    if (n == 0)
        return conn_eof(c);
    if (errno == EAGAIN || errno == EINTR)
        return true;
    conn_log(c, LOG_DEBUG, "read failed, closing");
    conn_free(c);
    return false;
}

static void on_io(struct watch *watch, uint32_t revents)
{
    struct conn *c = (struct conn *)((char *)watch - offsetof(struct conn, watch));
    bool hangup = revents & (EPOLLHUP | EPOLLERR);

    if ((revents & EPOLLIN) || (hangup && (c->watch.events & EPOLLIN)))
        if (!conn_read(c, revents & (EPOLLRDHUP | EPOLLHUP)))
            return;
    if (output_pending(c))
        conn_write(c);
    else if (hangup && !(c->watch.events & EPOLLIN))
        conn_free(c); /* gone, and nothing to say to it */
    else
        set_events(c);
}

/* --- opening -------------------------------------------------------------- */

int conn_open(struct conn_ctx *ctx, int fd, const union peer *peer)
{
    struct conn *c = calloc(1, sizeof *c);
    int r;

    if (!c)
        return -ENOMEM;
    r = loop_add(ctx->loop, &c->watch, fd, EPOLLIN | CONN_EVENTS, on_io);
    if (r < 0) {
        free(c);
        return r;
    }
    c->ctx = ctx;
    c->peer = *peer;
    c->proxy = (uint8_t)ctx->cfg->proxy_protocol;
    if (c->proxy && ctx->cfg->proxy_timeout > 0) {
        /* The header's own bound, as in force now (a handshake, so whatever
         * idle_timeout is): its deadline goes with the connection. */
        uint64_t at = ctx->loop->now + ctx->cfg->proxy_timeout;
        tlist_insert_by(&ctx->proxy, &c->partial, at);
        ctx->deadline = at < ctx->deadline ? at : ctx->deadline;
    }
    ctx->n_conns++;
    stats_set(ctx->stats, connections_open, ctx->n_conns);
    stats_add(ctx->stats, connections_total, 1);
    conn_touch_idle(c);
    conn_log(c, LOG_DEBUG, "connected");
    return 0;
}

/* A connection made again from a previous hellod's state
 * (svr-conn-handover.c), already counted and in its lists: watched as its
 * state asks, and looked at at once, since bytes and room may wait already.
 * Returns false when the connection is gone. */
bool conn_watch(struct conn *c, int fd)
{
    if (loop_add(c->ctx->loop, &c->watch, fd, CONN_EVENTS, on_io) < 0) {
        c->watch.fd = fd;
        conn_log(c, LOG_WARNING, "cannot watch the connection, closing");
        conn_free(c);
        return false;
    }
    c->more = true;
    return set_events(c);
}

/* Before a handover: what the client sent and we can read now is framed,
 * and what is owed and the socket takes now is written; never waits.
 * Returns false when the connection is gone (it ended meanwhile). */
bool conn_settle(struct conn *c)
{
    if ((c->watch.events & EPOLLIN) && !conn_read(c, false))
        return false;
    return output_pending(c) ? conn_write(c) : true;
}

/* --- timeouts and stopping ------------------------------------------------ */

#define conn_of(node, member) tnode_entry(node, struct conn, member)

static uint64_t deadline(const struct tlist *l, uint64_t timeout)
{
    const struct tnode *n = tlist_first(l);

    return n && timeout ? n->since + timeout : UINT64_MAX;
}

static bool bytes_waiting(const struct conn *c)
{
    int n = 0;

    return ioctl(conn_fd(c), FIONREAD, &n) == 0 && n > 0;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

uint64_t conn_expire(struct conn_ctx *ctx, uint64_t now)
{
    const struct config *cfg = ctx->cfg;

    while (deadline(&ctx->idle, cfg->idle_timeout) <= now) {
        struct conn *c = conn_of(tlist_first(&ctx->idle), idle);
        if (c->proxy) { /* the header never came whole: that is the error */
            conn_fail_proxy(c, 0);
            continue;
        }
        stats_add(ctx->stats, idle_timeouts, 1);
        conn_log(c, LOG_DEBUG, "idle for too long, closing");
        conn_free(c);
    }
    while (deadline(&ctx->partial, cfg->message_timeout) <= now) {
        struct conn *c = conn_of(tlist_first(&ctx->partial), partial);
        assert(c->state == CONN_OPEN && frame_pending(&c->framer));
        conn_flush_partial(c);
        conn_write(c);
    }
    while (deadline(&ctx->quiet, STOP_QUIET_USEC) <= now) {
        struct conn *c = conn_of(tlist_first(&ctx->quiet), idle);
        assert(c->stopped);
        if (owed_bytes(&c->owed) > CONN_OUTPUT_MAX || bytes_waiting(c)) {
            /* Quiet only on our side: we stopped reading until it takes its
             * replies, or we were busy and its bytes wait unread. */
            conn_touch(ctx, &ctx->quiet, &c->idle, STOP_QUIET_USEC);
            continue;
        }
        conn_touch(ctx, &ctx->idle, &c->idle, cfg->idle_timeout); /* out of ctx->quiet */
        conn_eof(c); /* the client is done: answer everything, then close */
    }
    while (deadline(&ctx->linger, NET_LINGER_USEC) <= now)
        conn_free(conn_of(tlist_first(&ctx->linger), idle));
    while (!tlist_empty(&ctx->proxy) && tlist_first(&ctx->proxy)->since <= now)
        conn_proxy_expired(conn_of(tlist_first(&ctx->proxy), partial));

    return min_u64(min_u64(min_u64(deadline(&ctx->idle, cfg->idle_timeout),
                                   deadline(&ctx->partial, cfg->message_timeout)),
                           min_u64(deadline(&ctx->linger, NET_LINGER_USEC),
                                   deadline(&ctx->quiet, STOP_QUIET_USEC))),
                   tlist_empty(&ctx->proxy) ? UINT64_MAX : tlist_first(&ctx->proxy)->since);
}

/* Stopping: each open connection is read on until its client has been
 * quiet for STOP_QUIET_USEC (what it sent before the stop may still be on its
 * way), then answered and closed, lingering; the owner bounds it all. */
void conn_drain_all(struct conn_ctx *ctx)
{
    struct tnode *n, *next;

    for (n = ctx->idle.head.next; n != &ctx->idle.head; n = next) {
        struct conn *c = conn_of(n, idle);

        next = n->next;
        if (c->state != CONN_OPEN)
            continue; /* already answering its last messages */
        c->stopped = true;
        conn_touch(ctx, &ctx->quiet, &c->idle, STOP_QUIET_USEC);
    }
}

void conn_close_all(struct conn_ctx *ctx)
{
    while (!tlist_empty(&ctx->linger))
        conn_free(conn_of(tlist_first(&ctx->linger), idle));
    while (!tlist_empty(&ctx->quiet))
        conn_free(conn_of(tlist_first(&ctx->quiet), idle));
    while (!tlist_empty(&ctx->idle))
        conn_free(conn_of(tlist_first(&ctx->idle), idle));
    assert(ctx->n_conns == 0);
}
