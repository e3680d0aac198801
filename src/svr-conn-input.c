/* svr-conn-input.c - what one read brings a connection: the PROXY header
 * first when one is awaited, then messages, framed as they come, each owing
 * a reply (and logged, when asked). */
#include "config.h"

#include "svr-conn-int.h"

#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "escape.h"
#include "proxy.h"

/* The most of a message a log line shows. */
#define LOG_MESSAGE_MAX 256

/* --- messages ------------------------------------------------------------- */

/* The message as the protocol framed it: its kept head, then this read's
 * tail, never more than m->len bytes (a CR that the LF dropped may end the
 * head when the two came in different reads). */
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
    if (n > m->len)
        n = m->len;
    escape_bytes(escaped, sizeof escaped, text, n);
    peer_name(&c->peer, peer, sizeof peer);
    log_peer_limited(c->ctx->log, LOG_BOUND_MESSAGES, c->ctx->loop->now, LOG_INFO, peer,
                     "message from %s: \"%s%s\"", peer, escaped, m->len > n ? "..." : "");
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

/* n messages were framed, each owing a reply in the greeting in force now:
 * a reload switches it at this boundary, whatever the connection still owes
 * from before. A reload is put in force between wakeups, never inside one
 * read, so the messages of one read are owed at once. */
static void owe_replies(struct conn *c, uint32_t n)
{
    if (owed_add(&c->owed, c->ctx->reply, n) < 0)
        conn_log(c, LOG_WARNING, "out of memory: a reply keeps the greeting before the reload");
}

/* [log] messages = yes: the message's line, and its kept head let go. */
static void log_framed(struct conn *c, const struct frame_msg *m)
{
    log_message(c, m);
    free(c->head);
    c->head = NULL;
    c->logged = 0;
}

static void fail_too_long(struct conn *c)
{
    c->state = CONN_FAILED;
    stats_add(c->ctx->stats, too_long, 1);
    tnode_unlink(&c->partial);
    if (LOG_NOTICE <= c->ctx->log->max_level &&
        log_limit_pass(c->ctx->log, LOG_BOUND_CLIENT_ERRORS, c->ctx->loop->now))
        conn_log(c, LOG_NOTICE, "message too long, closing");
}

/* Frames what was read: each whole message owes a reply. Only a whole
 * message counts as traffic for idle_timeout: a client that trickles bytes
 * and never ends a message cannot hold its connection longer. */
void conn_take_input(struct conn *c, const char *buf, size_t n)
{
    const struct config *cfg = c->ctx->cfg;
    const char *p = buf, *end = buf + n, *start;
    bool log = cfg->log_messages;
    uint32_t messages = 0;
    enum frame_status st;
    struct frame_msg m;

    do {
        start = p;
        st = frame_next(&c->framer, &p, end, cfg->max_message, &m);
        if (st == FRAME_MESSAGE) {
            messages++;
            if (log)
                log_framed(c, &m);
        }
    } while (st == FRAME_MESSAGE);
    if (messages > 0)
        owe_replies(c, messages);
    if (st == FRAME_TOO_LONG) {
        fail_too_long(c);
        return;
    }
    if (messages > 0)
        conn_touch_idle(c);
    if (!frame_pending(&c->framer)) {
        tnode_unlink(&c->partial);
        return;
    }
    if (log)
        keep_head(c, start, (size_t)(end - start));
    conn_touch(c->ctx, &c->ctx->partial, &c->partial, cfg->message_timeout);
}

void conn_flush_partial(struct conn *c)
{
    struct frame_msg m;

    tnode_unlink(&c->partial);
    switch (frame_flush(&c->framer, c->ctx->cfg->max_message, &m)) {
    case FRAME_MESSAGE:
        owe_replies(c, 1);
        if (c->ctx->cfg->log_messages)
            log_framed(c, &m);
        break;
    case FRAME_TOO_LONG:
        fail_too_long(c);
        break;
    case FRAME_PARTIAL:
        break;
    }
}

/* --- the PROXY header ----------------------------------------------------- */

void conn_fail_proxy(struct conn *c, int r)
{
    char peer[ADDR_STRLEN];

    stats_add(c->ctx->stats, proxy_errors, 1);
    if (LOG_NOTICE <= c->ctx->log->max_level &&
        log_limit_pass(c->ctx->log, LOG_BOUND_CLIENT_ERRORS, c->ctx->loop->now)) {
        peer_name(&c->peer, peer, sizeof peer);
        log_peer(c->ctx->log, LOG_NOTICE, peer, "%s: %s, closing", peer, proxy_strerror(r));
    }
    conn_free(c);
}

void conn_proxy_expired(struct conn *c)
{
    char peer[ADDR_STRLEN];

    stats_add(c->ctx->stats, proxy_errors, 1);
    if (LOG_NOTICE <= c->ctx->log->max_level &&
        log_limit_pass(c->ctx->log, LOG_BOUND_CLIENT_ERRORS, c->ctx->loop->now)) {
        peer_name(&c->peer, peer, sizeof peer);
        log_peer(c->ctx->log, LOG_NOTICE, peer,
                 "%s: no whole PROXY header within proxy_timeout, closing", peer);
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
        conn_log(c, LOG_WARNING, "out of memory for a PROXY header, closing");
        conn_free(c);
        return false;
    }
    memcpy(c->hdr, buf, n); /* n < PROXY_HEADER_MAX: that many bytes always answer */
    c->hdr_len = (uint16_t)n;
    return true;
}

/* Reads the PROXY header that must come before the client's bytes, which
 * then go on as input; under the setting the connection was accepted with,
 * whatever a reload has put in force since. Returns false when the
 * connection is gone. */
bool conn_take_proxy_header(struct conn *c, const char *buf, size_t n)
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
    r = proxy_parse(data, before > 0 ? before + take : n, c->proxy, &h);
    if (r == 0 && before > 0) {
        c->hdr_len = (uint16_t)(before + take);
        return true;
    }
    if (r == 0)
        return keep_header(c, buf, n);
    if (r < 0) {
        conn_fail_proxy(c, r);
        return false;
    }
    take_peer(c, &h);
    c->proxy = 0;
    tnode_unlink(&c->partial); /* out of ctx->proxy: the handshake is done */
    free(c->hdr);
    c->hdr = NULL;
    c->hdr_len = 0;
    /* What follows the header is input: all of it lies in this read's buf. */
    if (n > (size_t)r - before)
        conn_take_input(c, buf + ((size_t)r - before), n - ((size_t)r - before));
    return true;
}
