/* svr-conn.c - one client connection, from accept to close.
 *
 * A connection costs about 170 bytes while idle: no buffer of its own. Reads
 * land in the server's shared buffer and are framed at once; each complete
 * message adds one to the replies owed, and the owed replies go out in one
 * write straight from the greeting's reply block. So nothing is allocated per
 * message, and a client that never reads costs a counter, not memory.
 *
 * Connections are watched edge-triggered: epoll reports a ready socket once,
 * instead of polling it again at every wakeup until it is drained, and a
 * reply goes out with send(), which has no msghdr to copy in. Together they
 * take about 3% off the server's CPU per reply (bench/README.md). The price
 * is two rules: a read that fills the buffer, or a write stopped by
 * WRITE_BATCH, leaves a level behind that no new edge will report, so
 * conn->more has the kernel look again; and a short read after EPOLLRDHUP
 * has taken everything the client will ever send. */
#include "config.h"

#include "svr-conn.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "addr.h"
#include "escape.h"
#include "frame.h"
#include "proxy.h"
#include "svr-server.h"
#include "svr-worker.h"

#define REPLY_BLOCK (64 * 1024)
/* Past this many bytes of replies owed and not taken by the kernel, stop
 * reading the client until it reads: pipelining is bounded by the client's
 * own appetite. */
#define CONN_OUTPUT_MAX (64 * 1024)
/* A closing connection reads and drops what the client still sends for this
 * long, so that our close does not become a reset that destroys the error
 * line in flight (the "lingering close" of httpd and nginx). */
#define LINGER_USEC (2 * 1000000ULL)
/* Each wakeup accepts at most this many clients, so that a flood of new
 * connections cannot starve the open ones. */
#define ACCEPT_BATCH 64
/* The most of a message a log line shows. */
#define LOG_MESSAGE_MAX 256
/* The most one wakeup writes to one client, for fairness. */
#define WRITE_BATCH (256 * 1024)
/* At a stop, a client is read on until it has been quiet this long: what it
 * sent before the stop may still be on its way, in the kernel's buffers. */
#define STOP_QUIET_USEC (100 * 1000ULL)
/* Asked for on every connection, whatever else is. */
#define CONN_EVENTS (EPOLLET | EPOLLRDHUP)

struct reply {
    unsigned refs;
    uint32_t line_len; /* the greeting and its LF */
    uint32_t size;     /* bytes in data: a whole number of lines */
    char data[];
};

enum conn_state {
    CONN_OPEN,   /* reading and answering */
    CONN_EOF,    /* the client is done sending: answer, then close */
    CONN_FAILED, /* an error line is owed after the replies: then linger */
    CONN_LINGER, /* all sent and shut down: drop input until EOF or LINGER_USEC */
};

static const char error_too_long[] = "ERROR message too long\n";
static const char error_busy[] = "ERROR server busy\n";

union peer {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
};

struct conn {
    struct worker *w;
    struct watch watch;   /* the descriptor, in the worker's loop */
    struct tnode idle;    /* in w->idle; in w->quiet or w->linger at the end */
    struct tnode partial; /* in w->partial while a message is unfinished */
    struct reply *reply;  /* held while replies are owed */
    struct framer framer;
    uint32_t owed; /* replies owed; the first is sent up to .sent bytes */
    uint32_t sent;
    uint8_t state;
    uint8_t err_sent; /* bytes of the error line sent */
    uint16_t logged;  /* bytes of an unfinished message kept in .head */
    char *head;       /* its first bytes, only when messages are logged */
    bool proxy_wait;  /* the PROXY header has yet to come */
    bool stopped;     /* our stop ends it, not the client: linger at close */
    bool more;        /* a level is left behind: have the kernel look again */
    uint16_t hdr_len; /* bytes of it kept in .hdr */
    char *hdr;        /* only while a header spans reads */
    union peer peer;  /* the client: from accept(), or from the PROXY header */
};

/* --- the reply block ------------------------------------------------------ */

int reply_new(struct reply **out, const char *greeting)
{
    size_t glen = strlen(greeting), line = glen + 1;
    size_t lines = REPLY_BLOCK / line ? REPLY_BLOCK / line : 1;
    struct reply *r = malloc(sizeof *r + lines * line);

    if (!r)
        return -ENOMEM;
    r->refs = 1;
    r->line_len = (uint32_t)line;
    r->size = (uint32_t)(lines * line);
    for (size_t i = 0; i < lines; i++) {
        memcpy(r->data + i * line, greeting, glen);
        r->data[i * line + glen] = '\n';
    }
    *out = r;
    return 0;
}

void reply_unref(struct reply *r)
{
    if (r && --r->refs == 0)
        free(r);
}

/* --- small helpers -------------------------------------------------------- */

static int conn_fd(const struct conn *c)
{
    return c->watch.fd;
}

static uint64_t now_usec(const struct worker *w)
{
    return w->loop.now; /* read once per wakeup */
}

static void peer_name(const union peer *peer, char *buf, size_t size)
{
    socklen_t len = peer->sa.sa_family == AF_INET6 ? sizeof peer->in6 : sizeof peer->in;

    if (peer->sa.sa_family == AF_UNIX)
        len = sizeof peer->sa.sa_family; /* UNIX clients have no name to show */
    addr_format(&peer->sa, len, buf, size);
}

static void log_conn(const struct conn *c, int prio, const char *what)
{
    char peer[ADDR_STRLEN];

    if (prio > c->w->log.max_level)
        return;
    peer_name(&c->peer, peer, sizeof peer);
    log_peer(&c->w->log, prio, peer, "%s: %s", peer, what);
}

/* Moves a node to the tail of a list whose members time out after timeout
 * (0: never). Only when the list was empty can the first deadline of all have
 * come sooner, so only then is the server's timer told. */
static void touch(struct worker *w, struct tlist *list, struct tnode *node, uint64_t timeout)
{
    bool was_empty = tlist_empty(list);
    uint64_t now = now_usec(w);

    tlist_touch(list, node, now);
    if (was_empty && timeout)
        worker_deadline(w, now + timeout);
}

static void touch_idle(struct conn *c)
{
    if (c->stopped && c->state == CONN_OPEN)
        return; /* in w->quiet until the client stops sending */
    touch(c->w, &c->w->idle, &c->idle, c->w->cfg.idle_timeout);
}

/* Bytes of replies owed and not yet sent. */
static size_t owed_bytes(const struct conn *c)
{
    return c->owed ? (size_t)c->owed * c->reply->line_len - c->sent : 0;
}

static size_t error_left(const struct conn *c)
{
    return c->state == CONN_FAILED ? sizeof error_too_long - 1 - c->err_sent : 0;
}

static bool output_pending(const struct conn *c)
{
    return c->owed > 0 || error_left(c) > 0;
}

/* --- lifecycle ------------------------------------------------------------ */

static void conn_free(struct conn *c)
{
    struct worker *w = c->w;

    tnode_unlink(&c->idle);
    tnode_unlink(&c->partial);
    if (c->owed)
        reply_unref(c->reply);
    close(c->watch.fd); /* which also takes it out of the epoll set */
    free(c->hdr);
    free(c->head);
    free(c);
    server_give_slot(w->srv);
    w->n_conns--;
    worker_conn_closed(w);
}

static void set_events(struct conn *c)
{
    uint32_t want = CONN_EVENTS;

    if ((c->state == CONN_OPEN && owed_bytes(c) <= CONN_OUTPUT_MAX) || c->state == CONN_LINGER)
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
            touch(c->w, &c->w->partial, &c->partial, c->w->cfg.message_timeout);
    }
    if (c->more)
        loop_rearm(&c->w->loop, &c->watch, want);
    else
        loop_set_events(&c->w->loop, &c->watch, want);
    c->more = false;
}

/* Everything owed is sent: close, or linger when the client may still be
 * sending (after an error line, or when our stop ended the connection).
 * Returns false when the connection is gone. */
static bool conn_finish(struct conn *c)
{
    if (c->state != CONN_FAILED && !c->stopped) {
        conn_free(c);
        return false;
    }
    c->state = CONN_LINGER;
    shutdown(conn_fd(c), SHUT_WR);
    tnode_unlink(&c->partial);
    touch(c->w, &c->w->linger, &c->idle, LINGER_USEC);
    set_events(c);
    return true;
}

/* --- writing -------------------------------------------------------------- */

/* What goes out next: replies straight from the reply block, then the error
 * line once no reply is left behind it. */
static int pending_iov(const struct conn *c, struct iovec iov[2], size_t *total)
{
    size_t replies = owed_bytes(c);
    int n = 0;

    *total = 0;
    if (replies > 0) {
        size_t run = c->reply->size - c->sent;
        iov[n++] = (struct iovec){c->reply->data + c->sent, replies < run ? replies : run};
        *total += iov[0].iov_len;
        if (replies > run)
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
    if (c->owed) {
        size_t took = n < owed_bytes(c) ? n : owed_bytes(c);
        size_t sent = c->sent + took;
        uint32_t done = (uint32_t)(sent / c->reply->line_len);

        c->sent = (uint32_t)(sent % c->reply->line_len);
        c->owed -= done;
        stat_add(c->w, messages, done);
        if (c->owed == 0)
            reply_unref(c->reply);
        n -= took;
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
            log_conn(c, LOG_DEBUG, "write failed, closing");
            conn_free(c);
            return false;
        }
        stat_add(c->w, bytes_out, (uint64_t)n);
        consume_sent(c, (size_t)n);
        written += (size_t)n;
        touch_idle(c);
        if ((size_t)n < want)
            break; /* the socket is full: EPOLLOUT will say when it drains */
    }
    if (written >= WRITE_BATCH)
        c->more = true; /* the socket may have room still, and no edge will say so */
    if (!output_pending(c) && (c->state == CONN_EOF || c->state == CONN_FAILED))
        return conn_finish(c);
    set_events(c);
    return true;
}

/* --- messages ------------------------------------------------------------- */

static void log_message(struct conn *c, const struct frame_msg *m)
{
    char text[LOG_MESSAGE_MAX], escaped[4 * LOG_MESSAGE_MAX + 4], peer[ADDR_STRLEN];
    size_t n = c->logged, tail = m->tail_len;

    if (n > 0)
        memcpy(text, c->head, n);
    if (tail > sizeof text - n)
        tail = sizeof text - n;
    if (tail > 0) /* a message flushed whole at EOF has no tail in this read */
        memcpy(text + n, m->tail, tail);
    n += tail;
    escape_bytes(escaped, sizeof escaped, text, n);
    peer_name(&c->peer, peer, sizeof peer);
    log_peer_limited(&c->w->log, now_usec(c->w), LOG_INFO, peer, "message from %s: \"%s%s\"", peer,
                     escaped, m->len > n ? "..." : "");
}

/* Keeps the first bytes of an unfinished message, for its log line. */
static void keep_head(struct conn *c, const char *p, size_t n)
{
    if (c->logged == LOG_MESSAGE_MAX)
        return;
    if (!c->head && !(c->head = malloc(LOG_MESSAGE_MAX)))
        return; /* the log line will show less of it; no reply is at stake */
    if (n > (size_t)(LOG_MESSAGE_MAX - c->logged))
        n = (size_t)(LOG_MESSAGE_MAX - c->logged);
    memcpy(c->head + c->logged, p, n);
    c->logged = (uint16_t)(c->logged + n);
}

static void owe_reply(struct conn *c, const struct frame_msg *m)
{
    if (c->owed++ == 0) {
        c->reply = c->w->reply; /* begin in the greeting in force now */
        c->reply->refs++;
    }
    if (c->w->cfg.log_messages) {
        log_message(c, m);
        free(c->head);
        c->head = NULL;
        c->logged = 0;
    }
}

static void fail_too_long(struct conn *c)
{
    c->state = CONN_FAILED;
    stat_add(c->w, too_long, 1);
    tnode_unlink(&c->partial);
    log_conn(c, LOG_NOTICE, "message too long, closing");
}

/* Frames what was read: each whole message owes a reply. Only a whole
 * message counts as traffic for idle_timeout: a client that trickles bytes
 * and never ends a message cannot hold its connection longer. */
static void take_input(struct conn *c, const char *buf, size_t n)
{
    const char *p = buf, *end = buf + n, *start;
    uint32_t max = c->w->cfg.max_message;
    struct frame_msg m;
    bool any = false;

    for (;;) {
        start = p;
        switch (frame_next(&c->framer, &p, end, max, &m)) {
        case FRAME_MESSAGE:
            owe_reply(c, &m);
            any = true;
            continue;
        case FRAME_TOO_LONG:
            fail_too_long(c);
            return;
        case FRAME_PARTIAL:
            break;
        }
        break;
    }
    if (any)
        touch_idle(c);
    if (!frame_pending(&c->framer)) {
        tnode_unlink(&c->partial);
        return;
    }
    if (c->w->cfg.log_messages)
        keep_head(c, start, (size_t)(end - start));
    touch(c->w, &c->w->partial, &c->partial, c->w->cfg.message_timeout);
}

/* The unfinished message is whole now: the client went quiet, or done. */
static void flush_partial(struct conn *c)
{
    struct frame_msg m;

    tnode_unlink(&c->partial);
    switch (frame_flush(&c->framer, c->w->cfg.max_message, &m)) {
    case FRAME_MESSAGE:
        owe_reply(c, &m);
        break;
    case FRAME_TOO_LONG:
        fail_too_long(c);
        break;
    case FRAME_PARTIAL:
        break;
    }
}

/* --- the PROXY header ----------------------------------------------------- */

static void fail_proxy(struct conn *c, int r)
{
    char peer[ADDR_STRLEN];

    stat_add(c->w, proxy_errors, 1);
    if (LOG_NOTICE <= c->w->log.max_level) {
        peer_name(&c->peer, peer, sizeof peer);
        log_peer(&c->w->log, LOG_NOTICE, peer, "%s: %s, closing", peer, proxy_strerror(r));
    }
    conn_free(c);
}

/* The client's address, as the load balancer saw it. */
static void take_peer(struct conn *c, const struct proxy_header *h)
{
    if (h->local)
        return; /* a health check: the balancer itself is the peer */
    memset(&c->peer, 0, sizeof c->peer);
    if (h->src.ss_family == AF_INET || h->src.ss_family == AF_INET6)
        memcpy(&c->peer, &h->src, h->src_len < sizeof c->peer ? h->src_len : sizeof c->peer);
    else
        c->peer.sa.sa_family = h->src.ss_family; /* AF_UNIX: no name to show */
}

/* Keeps the start of a header that did not come whole in its first read. */
static bool keep_header(struct conn *c, const char *buf, size_t n)
{
    if (!(c->hdr = malloc(PROXY_HEADER_MAX))) {
        log_conn(c, LOG_WARNING, "out of memory for a PROXY header, closing");
        conn_free(c);
        return false;
    }
    memcpy(c->hdr, buf, n); /* n < PROXY_HEADER_MAX: that many bytes always answer */
    c->hdr_len = (uint16_t)n;
    return true;
}

/* Reads the PROXY header that must come before the client's bytes, which
 * then go on as input. Returns false when the connection is gone. */
static bool take_proxy_header(struct conn *c, const char *buf, size_t n)
{
    size_t before = c->hdr_len; /* bytes of it from earlier reads */
    size_t take = n < PROXY_HEADER_MAX - before ? n : PROXY_HEADER_MAX - before;
    const char *data = buf;
    struct proxy_header h;
    int r;

    if (before > 0) {
        memcpy(c->hdr + before, buf, take);
        data = c->hdr;
    }
    r = proxy_parse(data, before > 0 ? before + take : n, c->w->cfg.proxy_protocol, &h);
    if (r == 0 && before > 0) {
        c->hdr_len = (uint16_t)(before + take);
        return true;
    }
    if (r == 0)
        return keep_header(c, buf, n);
    if (r < 0) {
        fail_proxy(c, r);
        return false;
    }
    take_peer(c, &h);
    c->proxy_wait = false;
    free(c->hdr);
    c->hdr = NULL;
    c->hdr_len = 0;
    /* What follows the header is input: all of it lies in this read's buf. */
    if (n > (size_t)r - before)
        take_input(c, buf + ((size_t)r - before), n - ((size_t)r - before));
    return true;
}

/* --- reading -------------------------------------------------------------- */

/* The client shut down its writing side: answer everything, then close. */
static bool conn_eof(struct conn *c)
{
    if (c->state == CONN_LINGER) {
        conn_free(c);
        return false;
    }
    if (c->proxy_wait) {
        fail_proxy(c, 0); /* it ended before its header was whole */
        return false;
    }
    flush_partial(c);
    if (c->state == CONN_OPEN)
        c->state = CONN_EOF;
    return conn_write(c);
}

/* What one read brought. Returns false when the connection is gone. */
static bool take_read(struct conn *c, const char *buf, size_t n)
{
    if (c->state == CONN_LINGER)
        return true; /* dropped: we are only waiting for the client's FIN */
    if (c->proxy_wait)
        return take_proxy_header(c, buf, n);
    if (c->stopped && c->state == CONN_OPEN)
        touch(c->w, &c->w->quiet, &c->idle, STOP_QUIET_USEC);
    take_input(c, buf, n);
    return true;
}

/* One read into the shared buffer. A short read means the socket is drained,
 * so there is no second read to see EAGAIN; and when the client had shut
 * down its side (peer_done: EPOLLRDHUP), the end came with it. Returns false
 * when the connection is gone. */
static bool conn_read(struct conn *c, bool peer_done)
{
    struct worker *w = c->w;
    ssize_t n = read(conn_fd(c), w->rbuf, sizeof w->rbuf);

    if (n > 0) {
        stat_add(w, bytes_in, (uint64_t)n);
        c->more = (size_t)n == sizeof w->rbuf;
        if (!take_read(c, w->rbuf, (size_t)n))
            return false;
        return peer_done && !c->more ? conn_eof(c) : true;
    }
    if (n == 0)
        return conn_eof(c);
    if (errno == EAGAIN || errno == EINTR)
        return true;
    log_conn(c, LOG_DEBUG, "read failed, closing");
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

/* --- accepting ------------------------------------------------------------ */

static int conn_open(struct worker *w, int fd, const union peer *peer)
{
    struct conn *c = calloc(1, sizeof *c);
    int r;

    if (!c)
        return -ENOMEM;
    r = loop_add(&w->loop, &c->watch, fd, EPOLLIN | CONN_EVENTS, on_io);
    if (r < 0) {
        free(c);
        return r;
    }
    c->w = w;
    c->peer = *peer;
    c->proxy_wait = w->cfg.proxy_protocol != 0;
    w->n_conns++;
    stat_set(w, open, w->n_conns);
    stat_add(w, connections, 1);
    touch_idle(c);
    log_conn(c, LOG_DEBUG, "connected");
    return 0;
}

/* Past max_connections: say so and close, reading first what the client
 * already sent, so that the close is not a reset that loses the error line. */
static void refuse_busy(struct worker *w, int fd, const union peer *peer)
{
    char name[ADDR_STRLEN];

    stat_add(w, busy, 1);
    if (send(fd, error_busy, sizeof error_busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT) > 0) {
        shutdown(fd, SHUT_WR);
        (void)!recv(fd, w->rbuf, sizeof w->rbuf, MSG_DONTWAIT); /* none sent yet is fine */
    }
    close(fd);
    if (LOG_NOTICE <= w->log.max_level) {
        peer_name(peer, name, sizeof name);
        log_peer(&w->log, LOG_NOTICE, name, "%s: server busy, refused", name);
    }
}

/* With the PROXY protocol on, only the load balancers may connect: anyone
 * else could claim to be anyone. UNIX peers are local processes that the
 * socket file's permissions already chose. */
static bool proxy_trusted(const struct worker *w, const union peer *peer)
{
    if (peer->sa.sa_family == AF_UNIX)
        return true;
    for (unsigned i = 0; i < w->cfg.n_proxy_from; i++)
        if (addr_cidr_match(&w->cfg.proxy_from[i], &peer->sa))
            return true;
    return false;
}

static void refuse_untrusted(struct worker *w, int fd, const union peer *peer)
{
    char name[ADDR_STRLEN];

    stat_add(w, proxy_errors, 1);
    close(fd);
    if (LOG_NOTICE <= w->log.max_level) {
        peer_name(peer, name, sizeof name);
        log_peer(&w->log, LOG_NOTICE, name, "%s: not in proxy_from, closed", name);
    }
}

int conn_accept(struct worker *w, int listen_fd)
{
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        union peer peer = {0};
        socklen_t len = sizeof peer;
        int fd = accept4(listen_fd, &peer.sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        int r;

        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                return -errno;
            if (errno == EAGAIN)
                return 0;
            continue; /* ECONNABORTED and the like: that client gave up */
        }
        if (w->cfg.proxy_protocol && !proxy_trusted(w, &peer)) {
            refuse_untrusted(w, fd, &peer);
            continue;
        }
        if (!server_take_slot(w->srv, w->cfg.max_connections)) {
            refuse_busy(w, fd, &peer);
            continue;
        }
        r = conn_open(w, fd, &peer);
        if (r < 0) {
            server_give_slot(w->srv);
            close(fd);
            log_warn(&w->log, "cannot serve a new client: %s", strerror(-r));
        }
    }
    return 0;
}

int conn_adopt(struct worker *w, int fd)
{
    union peer peer = {0};
    socklen_t len = sizeof peer;
    char name[ADDR_STRLEN];
    int r;

    if (getpeername(fd, &peer.sa, &len) < 0)
        return -errno;
    server_take_slot(w->srv, UINT32_MAX); /* the one connection is never refused */
    r = conn_open(w, fd, &peer);
    if (r < 0) {
        server_give_slot(w->srv);
        return r;
    }
    peer_name(&peer, name, sizeof name);
    log_peer(&w->log, LOG_INFO, name, "serving one connection from %s (inetd mode)", name);
    return 0;
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

uint64_t conn_expire(struct worker *w, uint64_t now)
{
    uint64_t next;

    while (deadline(&w->idle, w->cfg.idle_timeout) <= now) {
        struct conn *c = conn_of(tlist_first(&w->idle), idle);
        if (c->proxy_wait) { /* the header never came whole: that is the error */
            fail_proxy(c, 0);
            continue;
        }
        stat_add(w, idle_timeouts, 1);
        log_conn(c, LOG_DEBUG, "idle for too long, closing");
        conn_free(c);
    }
    while (deadline(&w->partial, w->cfg.message_timeout) <= now) {
        struct conn *c = conn_of(tlist_first(&w->partial), partial);
        flush_partial(c);
        conn_write(c);
    }
    while (deadline(&w->quiet, STOP_QUIET_USEC) <= now) {
        struct conn *c = conn_of(tlist_first(&w->quiet), idle);
        if (owed_bytes(c) > CONN_OUTPUT_MAX || bytes_waiting(c)) {
            /* Quiet only on our side: we stopped reading until it takes its
             * replies, or we were busy and its bytes wait unread. */
            touch(w, &w->quiet, &c->idle, STOP_QUIET_USEC);
            continue;
        }
        touch(w, &w->idle, &c->idle, w->cfg.idle_timeout); /* out of w->quiet */
        conn_eof(c); /* the client is done: answer everything, then close */
    }
    while (deadline(&w->linger, LINGER_USEC) <= now)
        conn_free(conn_of(tlist_first(&w->linger), idle));

    next = deadline(&w->idle, w->cfg.idle_timeout);
    if (deadline(&w->partial, w->cfg.message_timeout) < next)
        next = deadline(&w->partial, w->cfg.message_timeout);
    if (deadline(&w->linger, LINGER_USEC) < next)
        next = deadline(&w->linger, LINGER_USEC);
    if (deadline(&w->quiet, STOP_QUIET_USEC) < next)
        next = deadline(&w->quiet, STOP_QUIET_USEC);
    return next;
}

/* Stopping: each open connection is read on until its client has been
 * quiet for STOP_QUIET_USEC (what it sent before the stop may still be on its
 * way), then answered and closed, lingering; DRAIN_LIMIT bounds it all. */
void conn_drain_all(struct worker *w)
{
    struct tnode *n, *next;

    for (n = w->idle.head.next; n != &w->idle.head; n = next) {
        struct conn *c = conn_of(n, idle);

        next = n->next;
        if (c->state != CONN_OPEN)
            continue; /* already answering its last messages */
        c->stopped = true;
        touch(w, &w->quiet, &c->idle, STOP_QUIET_USEC);
    }
}

void conn_close_all(struct worker *w)
{
    while (!tlist_empty(&w->linger))
        conn_free(conn_of(tlist_first(&w->linger), idle));
    while (!tlist_empty(&w->quiet))
        conn_free(conn_of(tlist_first(&w->quiet), idle));
    while (!tlist_empty(&w->idle))
        conn_free(conn_of(tlist_first(&w->idle), idle));
}
