/* svr-conn-handover.c - a connection written down for the next hellod, and
 * made again from what the previous one wrote (docs/handover-format.md;
 * docs/connection.md says which field goes over and how). */
#include "config.h"

#include "svr-conn-handover.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "net.h"
#include "parse.h"
#include "proxy.h"
#include "svr-config.h"
#include "svr-conn-int.h"

/* handover-state.h is a leaf and spells its bounds as numbers: they must be
 * the bounds of what a running hellod holds, or a state one hellod writes
 * would be refused by the next (or a reader would accept what none holds). */
_Static_assert(HANDOVER_DEADLINE_MAX == DURATION_MAX, "HANDOVER_DEADLINE_MAX is DURATION_MAX");
_Static_assert(HANDOVER_GREETING_MAX == CONFIG_GREETING_MAX,
               "HANDOVER_GREETING_MAX is CONFIG_GREETING_MAX");
_Static_assert(HANDOVER_MESSAGE_MAX == CONFIG_MESSAGE_MAX,
               "HANDOVER_MESSAGE_MAX is CONFIG_MESSAGE_MAX, the largest max_message");
_Static_assert(HANDOVER_PROXY_MAX == PROXY_HEADER_MAX, "HANDOVER_PROXY_MAX is PROXY_HEADER_MAX");

/* As svr-conn-input.c keeps of an unfinished message for its log line. */
#define LOG_MESSAGE_MAX 256

void reply_set_done(struct reply_set *rs)
{
    for (unsigned i = 0; i < rs->n; i++)
        reply_unref(rs->r[i]);
    rs->n = 0;
}

static size_t list_add(const struct tlist *l, struct conn **out, size_t n, size_t max,
                       size_t offset)
{
    for (const struct tnode *t = l->head.next; t != &l->head && n < max; t = t->next)
        out[n++] = (struct conn *)((char *)t - offset);
    return n;
}

size_t conn_list(struct conn_ctx *ctx, struct conn **out, size_t max)
{
    size_t n = 0, at = offsetof(struct conn, idle);

    n = list_add(&ctx->idle, out, n, max, at);
    n = list_add(&ctx->quiet, out, n, max, at);
    return list_add(&ctx->linger, out, n, max, at);
}

bool conn_handover_settle(struct conn *c)
{
    return conn_settle(c);
}

int conn_socket(const struct conn *c)
{
    return c->watch.fd;
}

void conn_release(struct conn *c)
{
    c->stored = true;
    conn_free(c); /* close(2) only: the store's copy keeps the connection */
}

/* µs left until at. */
static uint64_t until(uint64_t at, uint64_t now)
{
    if (at <= now)
        return 0;
    return at - now < HANDOVER_DEADLINE_MAX ? at - now : HANDOVER_DEADLINE_MAX;
}

/* µs left until since + timeout, or none. */
static uint64_t time_left(uint64_t since, uint64_t timeout, uint64_t now)
{
    return timeout == 0 ? HANDOVER_NO_DEADLINE : until(since + timeout, now);
}

static int save_replies(const struct conn *c, struct handover_state *s)
{
    const struct reply *blocks[HANDOVER_RUNS_MAX];
    uint32_t counts[HANDOVER_RUNS_MAX];
    unsigned n = owed_runs(&c->owed, blocks, counts, HANDOVER_RUNS_MAX);

    if (n > HANDOVER_RUNS_MAX)
        return -E2BIG;
    for (unsigned i = 0; i < n; i++)
        s->runs[i] = (struct handover_run){.count = counts[i],
                                           .greeting = blocks[i]->data,
                                           .greeting_len = (uint8_t)(blocks[i]->line_len - 1)};
    s->n_runs = n;
    s->sent = n > 0 ? c->owed.sent : 0;
    return 0;
}

int conn_save(const struct conn *c, struct handover_state *s, uint64_t now)
{
    const struct config *cfg = c->ctx->cfg;
    struct stat st;

    if (fstat(c->watch.fd, &st) < 0)
        return -errno;
    *s = (struct handover_state){.socket_inode = (uint64_t)st.st_ino,
                                 .state = (enum handover_conn_state)c->state,
                                 .idle_left = HANDOVER_NO_DEADLINE,
                                 .message_left = HANDOVER_NO_DEADLINE,
                                 .linger_left = HANDOVER_NO_DEADLINE};
    if (c->state == CONN_FAILED)
        s->error_sent = c->err_sent;
    /* The peer as hellod knows it: after a PROXY header that is the
     * client's address, which the connection keeps in place of accept()'s;
     * a header read and consumed leaves nothing else to carry (c->proxy 0),
     * so such a connection goes over as one that awaits no header. */
    memcpy(&s->peer, &c->peer, sizeof c->peer);
    if (c->proxy) {
        s->proxy_versions = c->proxy;
        s->proxy_state = HANDOVER_PROXY_WAITING;
        s->proxy_bytes = (const uint8_t *)c->hdr;
        s->proxy_len = c->hdr ? c->hdr_len : 0;
        /* No message comes before the header: its slot says the header's
         * bound, whose deadline is the node's since in ctx->proxy. */
        if (tnode_linked(&c->partial))
            s->message_left = until(c->partial.since, now);
    }
    if (c->state == CONN_OPEN && frame_pending(&c->framer)) {
        s->msg_len = c->framer.len;
        s->msg_cr = c->framer.cr;
        s->msg_bytes = (const uint8_t *)c->head;
        s->msg_kept = c->head ? (c->logged < c->framer.len ? c->logged : c->framer.len) : 0;
        if (tnode_linked(&c->partial))
            s->message_left = time_left(c->partial.since, cfg->message_timeout, now);
    }
    if (c->state == CONN_LINGER)
        s->linger_left = time_left(c->idle.since, NET_LINGER_USEC, now);
    else if (!c->stopped)
        s->idle_left = time_left(c->idle.since, cfg->idle_timeout, now);
    return c->state == CONN_LINGER ? 0 : save_replies(c, s);
}

/* The reply block of a greeting: the one in force, one made already for
 * another connection, or a new one. A new reference for the caller. */
static int block_for(struct conn_ctx *ctx, const struct handover_run *run, struct reply_set *rs,
                     struct reply **out)
{
    char greeting[HANDOVER_GREETING_MAX + 1];
    struct reply *cand[REPLY_SET_MAX + 1];
    unsigned n = 0;
    int r;

    cand[n++] = ctx->reply;
    for (unsigned i = 0; i < rs->n; i++)
        cand[n++] = rs->r[i];
    for (unsigned i = 0; i < n; i++)
        if (cand[i]->line_len == (uint32_t)run->greeting_len + 1 &&
            memcmp(cand[i]->data, run->greeting, run->greeting_len) == 0) {
            cand[i]->refs++;
            *out = cand[i];
            return 0;
        }
    memcpy(greeting, run->greeting, run->greeting_len);
    greeting[run->greeting_len] = '\0';
    r = reply_new(out, greeting);
    if (r < 0)
        return r;
    if (rs->n < REPLY_SET_MAX) {
        rs->r[rs->n++] = *out;
        (*out)->refs++;
    }
    return 0;
}

static int restore_replies(struct conn *c, const struct handover_state *s, struct reply_set *rs)
{
    for (unsigned i = 0; i < s->n_runs; i++) {
        struct reply *block;
        int r = block_for(c->ctx, &s->runs[i], rs, &block);

        if (r < 0)
            return r;
        /* -ENOMEM here keeps them owed, in the greeting before: never lost. */
        (void)owed_add(&c->owed, block, s->runs[i].count);
        reply_unref(block);
    }
    c->owed.sent = s->n_runs > 0 ? s->sent : 0;
    return 0;
}

static int restore_input(struct conn *c, const struct handover_state *s)
{
    if (s->proxy_state == HANDOVER_PROXY_WAITING) {
        c->proxy = s->proxy_versions;
        if (s->proxy_len > 0) {
            if (!(c->hdr = malloc(PROXY_HEADER_MAX)))
                return -ENOMEM;
            memcpy(c->hdr, s->proxy_bytes, s->proxy_len);
            c->hdr_len = s->proxy_len;
        }
    }
    c->framer.len = s->msg_len;
    c->framer.cr = s->msg_cr;
    if (s->msg_kept > 0 && c->ctx->cfg->log_messages) {
        if (!(c->head = malloc(LOG_MESSAGE_MAX)))
            return 0; /* the log line shows less; no reply is at stake */
        c->logged = (uint16_t)(s->msg_kept < LOG_MESSAGE_MAX ? s->msg_kept : LOG_MESSAGE_MAX);
        memcpy(c->head, s->msg_bytes, c->logged);
    }
    return 0;
}

static void bring_forward(struct conn_ctx *ctx, uint64_t at)
{
    ctx->deadline = at < ctx->deadline ? at : ctx->deadline;
}

/* Each timeout goes on with the time it had left at the stop, counted from
 * now: the restart's own time is not held against the client. The
 * configuration in force caps it, as a reload applies it at once (an
 * upgrade may have shortened it); none left in the state (an older
 * writer's) starts it afresh. The PROXY header's bound is the one in force
 * at accept, through reloads (docs/connection.md): it goes on uncapped. The
 * clock is read here, not the loop's, which is as old as the worker. */
static void resume_timeouts(struct conn *c, const struct handover_state *s)
{
    struct conn_ctx *ctx = c->ctx;
    const struct config *cfg = ctx->cfg;
    uint64_t now = loop_clock();

    if (c->state == CONN_LINGER)
        bring_forward(ctx,
                      tlist_resume(&ctx->linger, &c->idle, now, NET_LINGER_USEC, s->linger_left));
    else
        bring_forward(ctx,
                      tlist_resume(&ctx->idle, &c->idle, now, cfg->idle_timeout, s->idle_left));
    if (c->state == CONN_OPEN && frame_pending(&c->framer))
        bring_forward(ctx, tlist_resume(&ctx->partial, &c->partial, now, cfg->message_timeout,
                                        s->message_left));
    if (c->proxy && (s->message_left != HANDOVER_NO_DEADLINE || cfg->proxy_timeout > 0)) {
        /* the header's own bound, in message_left (no message before it) */
        uint64_t left = s->message_left;
        uint64_t at = now + (left != HANDOVER_NO_DEADLINE ? left : cfg->proxy_timeout);

        tlist_insert_by(&ctx->proxy, &c->partial, at);
        bring_forward(ctx, at);
    }
}

static void free_unopened(struct conn *c)
{
    owed_clear(&c->owed);
    free(c->hdr);
    free(c->head);
    free(c);
}

int conn_restore(struct conn_ctx *ctx, int fd, const struct handover_state *s, bool too_long,
                 struct reply_set *rs)
{
    struct conn *c = calloc(1, sizeof *c);
    const union peer *peer;
    int r;

    if (!c)
        return -ENOMEM;
    c->ctx = ctx;
    c->watch.fd = fd;
    c->stored = true; /* until the store lets go of its copy, which we cannot see */
    peer =
        (const union peer *)(s->proxy_state == HANDOVER_PROXY_DONE && !s->proxy_local ? &s->client
                                                                                      : &s->peer);
    c->peer = *peer;
    c->state = (uint8_t)s->state;
    c->err_sent = s->error_sent;
    r = restore_input(c, s);
    if (r >= 0 && s->state != HANDOVER_LINGER)
        r = restore_replies(c, s, rs);
    if (r < 0) {
        free_unopened(c);
        return r;
    }
    if (too_long) { /* as if this hellod had framed it: replies, the error, linger */
        c->framer = (struct framer){0};
        c->state = CONN_FAILED;
        c->err_sent = 0;
        stats_add(ctx->stats, too_long, 1);
        conn_log(c, LOG_NOTICE, "message too long for max_message now, closing");
    }
    ctx->n_conns++;
    stats_set(ctx->stats, connections_open, ctx->n_conns);
    resume_timeouts(c, s);
    conn_watch(c, fd);
    return 0;
}
