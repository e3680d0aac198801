/* hold-kinds-conn.c - one connection of hold-kinds, by kind, from connect
 * to close: what it sends when, and the check of each reply it reads (see
 * hold-kinds.c for the kinds and what the run proves). */
#define _GNU_SOURCE
#include "hold-kinds.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A PROXY header naming 10.x.y.z:port as the client: v1 text or v2 binary. */
static size_t proxy_header(char *buf, bool v2, unsigned i, int port)
{
    uint8_t src[4] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
    uint16_t sport = (uint16_t)(1024 + i % 60000);
    if (!v2)
        return (size_t)sprintf(buf, "PROXY TCP4 10.%u.%u.%u 127.0.0.1 %u %d\r\n", src[1], src[2],
                               src[3], sport, port);
    static const uint8_t sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                    0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
    uint8_t *p = (uint8_t *)buf;
    memcpy(p, sig, 12);
    p[12] = 0x21; /* version 2, PROXY */
    p[13] = 0x11; /* TCP over IPv4 */
    p[14] = 0, p[15] = 12;
    memcpy(p + 16, src, 4);
    memcpy(p + 20, (uint8_t[]){127, 0, 0, 1}, 4);
    p[24] = (uint8_t)(sport >> 8), p[25] = (uint8_t)sport;
    p[26] = (uint8_t)(port >> 8), p[27] = (uint8_t)port;
    return 28;
}

static void watch(struct run *r, struct conn *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(r->ep, EPOLL_CTL_MOD, c->fd, &ev) < 0 && errno == ENOENT)
        epoll_ctl(r->ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void closed_early(struct run *r, struct conn *c)
{
    if (!c->churn && c->phase == CONNECTING)
        r->connecting--;
    if (c->churn)
        r->churn_failed++;
    else
        r->closed[c->kind]++;
    if (!c->churn && c->phase < HELD)
        r->first_done++;
    if (!c->churn && c->phase < DONE)
        r->left--;
    c->phase = CLOSED;
    close(c->fd);
    c->fd = -1;
}

/* Writes what c->out holds; 0 when all is written or must wait, -1 when closed. */
static int flush(struct run *r, struct conn *c)
{
    while (c->out_len > 0) {
        ssize_t k = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
        if (k < 0 && errno == EAGAIN)
            break;
        if (k < 0) {
            closed_early(r, c);
            return -1;
        }
        c->out += k;
        c->out_len -= (size_t)k;
    }
    uint32_t in = c->kind == STALLED && c->phase == HELD ? 0 : EPOLLIN;
    watch(r, c, in | (c->out_len > 0 ? EPOLLOUT : 0));
    return 0;
}

static int say(struct run *r, struct conn *c, const char *s, size_t len, uint32_t lines)
{
    c->out = s, c->out_len = len;
    c->owed += lines;
    r->sent += c->churn ? 0 : lines;
    return flush(r, c);
}

/* Lines for as long as the socket takes them: the stream is "s\ns\n..." from
 * its first byte, wherever a write ended. When the kernel takes no more, it
 * waits to be writable again; on_tick() tells when hellod has stopped
 * reading (check_blocked()). It goes on writing whenever hellod reads
 * again, until the end: hellod's side of it stays full. */
static int stall(struct run *r, struct conn *c)
{
    for (;;) {
        size_t at = c->stall_bytes % 2;
        ssize_t k = send(c->fd, r->stall + at, sizeof r->stall - at, MSG_NOSIGNAL);
        if (k < 0 && errno == EAGAIN)
            break;
        if (k < 0) {
            closed_early(r, c);
            return -1;
        }
        uint64_t lines = (c->stall_bytes + (uint64_t)k) / 2 - c->stall_bytes / 2;
        c->stall_bytes += (uint64_t)k;
        c->owed += (uint32_t)lines;
        r->sent += lines, r->stall_lines += lines;
    }
    watch(r, c, EPOLLOUT); /* reads nothing until the end */
    return 0;
}

/* Nothing written for 4 ticks and bytes still queued: hellod's receive
 * window is shut, so it has stopped reading this connection, which it does
 * only while it owes more than CONN_OUTPUT_MAX bytes of replies. */
static void check_blocked(struct run *r, struct conn *c)
{
    int queued = 0;
    c->quiet = c->stall_bytes == c->stall_seen ? c->quiet + 1 : 0;
    c->stall_seen = c->stall_bytes;
    if (c->quiet < 4 || ioctl(c->fd, SIOCOUTQ, &queued) < 0 || queued == 0)
        return;
    c->blocked = true;
    r->first_done++;
    open_next(r);
}

/* After the last reply owed: "last", then a line over max_message. */
static void finish(struct run *r, struct conn *c)
{
    c->phase = FINAL;
    say(r, c, r->final, sizeof r->final, 1);
}

/* A held connection's end: what it began is finished first. */
static void end_conn(struct run *r, struct conn *c)
{
    c->phase = ENDING;
    int rc = 0;
    switch (c->kind) {
    case IDLE:
        rc = say(r, c, "again\n", 6, 1);
        break;
    case PARTIAL:
        rc = say(r, c, "age\n", 4, 1); /* "half a message" */
        break;
    case HEADER:
        rc = say(r, c, c->first + c->first_at, c->first_len - c->first_at, 1);
        break;
    case STALLED:
        watch(r, c, EPOLLIN);
        break;
    }
    if (rc == 0 && c->owed == 0 && c->phase == ENDING)
        finish(r, c);
}

static void first_reply(struct run *r, struct conn *c, int g)
{
    if (g != 0)
        r->stale[c->kind]++; /* the first greeting was in force */
    c->phase = HELD;
    if (c->kind == STALLED) { /* done once hellod stops reading it */
        stall(r, c);
        return;
    }
    r->first_done++;
    if (c->kind == PARTIAL)
        say(r, c, "half a mess", 11, 0);
    open_next(r);
}

static int greeting_index(const struct run *r, const char *l, size_t n)
{
    for (int g = 0; g < r->n_greet; g++)
        if (n == r->greet_len[g] && memcmp(l, r->greet[g], n) == 0)
            return g;
    return -1;
}

static void on_line(struct run *r, struct conn *c, const char *l, size_t n)
{
    int g = greeting_index(r, l, n);
    if (c->churn) {
        g >= 0 ? r->churn_ok++ : r->churn_failed++;
        close(c->fd);
        c->fd = -1;
        return;
    }
    if (g < 0) {
        bool error_due = c->phase == FINAL && c->owed == 0 && !c->got_error;
        if (error_due && n == strlen(ERROR_LINE) && memcmp(l, ERROR_LINE, n) == 0)
            c->got_error = true;
        else
            r->unknown[c->kind]++;
        return;
    }
    if (g < c->gen)
        r->disorder[c->kind]++;
    c->gen = (uint8_t)(g > c->gen ? g : c->gen);
    if (c->owed == 0 || c->got_error) {
        r->extra[c->kind]++;
        return;
    }
    c->owed--;
    r->replies++;
    r->by_greet[g]++;
    uint64_t t = now_ns();
    if (c->kind == PIPELINE && !r->ending && c->last_reply && t - c->last_reply > r->max_gap)
        r->max_gap = t - c->last_reply;
    c->last_reply = t;
    if (c->phase == FIRST)
        first_reply(r, c, g);
    else if (c->phase == FINAL && g != r->n_greet - 1)
        r->stale[c->kind]++; /* the last greeting is in force at the end */
    else if (c->phase == ENDING && c->owed == 0)
        finish(r, c);
}

static void on_readable(struct run *r, struct conn *c)
{
    for (;;) {
        ssize_t k = read(c->fd, c->in + c->in_len, sizeof c->in - c->in_len);
        if (k < 0 && errno == EAGAIN)
            return;
        if (k <= 0) {
            if (!c->churn && c->phase == FINAL && c->got_error) {
                c->phase = DONE;
                r->left--;
                close(c->fd);
                c->fd = -1;
            } else {
                closed_early(r, c);
            }
            return;
        }
        c->in_len += (uint32_t)k;
        char *p = c->in, *end = c->in + c->in_len, *lf;
        while (c->fd >= 0 && (lf = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            on_line(r, c, p, (size_t)(lf - p));
            p = lf + 1;
        }
        if (c->fd < 0)
            return;
        c->in_len = (uint32_t)(end - p);
        memmove(c->in, p, c->in_len);
        if (c->in_len == sizeof c->in) { /* no reply is this long */
            r->unknown[c->kind]++;
            c->in_len = 0;
        }
    }
}

/* Connected: the PROXY header and the first line (half the header only, for HEADER). */
static void on_connected(struct run *r, struct conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
        closed_early(r, c);
        if (!c->churn)
            open_next(r);
        return;
    }
    if (!c->churn)
        r->connecting--;
    c->phase = FIRST;
    if (c->kind == HEADER) {
        c->phase = HELD;
        r->first_done++;
        say(r, c, c->first, c->first_at, 0);
        open_next(r);
        return;
    }
    say(r, c, c->first, c->first_len, 1);
}

static int start_connect(struct run *r, struct conn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -errno;
    if (c->kind == STALLED) { /* small buffers: the replies wait on hellod's side */
        int size = 8192;
        setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    }
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)r->port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->phase = CONNECTING;
    if (connect(c->fd, (struct sockaddr *)&sin, sizeof sin) < 0 && errno != EINPROGRESS) {
        closed_early(r, c);
        return 0;
    }
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    epoll_ctl(r->ep, EPOLL_CTL_ADD, c->fd, &ev);
    return 0;
}

void prepare(struct run *r, struct conn *c, unsigned i, bool v2)
{
    size_t h = r->proxy ? proxy_header(c->first, v2, i, r->port) : 0;
    const char *line = c->kind == HEADER ? "h\n" : c->churn ? "c\n" : "hello\n";
    memcpy(c->first + h, line, strlen(line));
    c->first_len = (uint8_t)(h + strlen(line));
    c->first_at = (uint8_t)(h / 2);
    c->v2 = r->proxy && v2;
}

void open_next(struct run *r)
{
    while (r->next_open < r->n && r->connecting < OPEN_AT_ONCE) {
        struct conn *c = &r->c[r->next_open++];
        r->connecting++;
        if (start_connect(r, c) < 0) {
            fprintf(stderr, "hold-kinds: socket: %s\n", strerror(errno));
            exit(1);
        }
    }
    if (r->first_done == r->n)
        r->holding = true; /* hold-kinds.c says so */
}

static void churn(struct run *r, uint64_t t)
{
    struct conn *c = &r->churn;
    if (c->fd >= 0 && t - r->churn_since > 10 * 1000000000ull) {
        r->churn_failed++; /* not answered within 10 s */
        close(c->fd);
        c->fd = -1;
    }
    if (c->fd >= 0)
        return;
    c->in_len = 0;
    c->owed = 0;
    r->churn_since = t;
    if (start_connect(r, c) < 0)
        r->churn_failed++;
}

static void progress(struct run *r)
{
    printf("replies %llu:", (unsigned long long)r->replies);
    for (int g = 0; g < r->n_greet; g++)
        printf(" %llu", (unsigned long long)r->by_greet[g]);
    printf("; churn %llu ok, %llu failed\n", (unsigned long long)r->churn_ok,
           (unsigned long long)r->churn_failed);
    fflush(stdout);
}

void begin_end(struct run *r)
{
    r->ending = true;
    r->end_deadline = now_ns() + END_LIMIT_S * 1000000000ull;
    for (int i = 0; i < r->n; i++)
        if (r->c[i].phase == HELD)
            end_conn(r, &r->c[i]);
}

void on_tick(struct run *r, uint64_t ticks)
{
    static const char lines[] = "p\np\np\np\np\np\np\np\np\np\np\np\np\np\np\np\n";
    uint64_t t = now_ns();
    if (r->ending)
        return;
    for (int i = 0; i < r->n; i++) {
        struct conn *c = &r->c[i];
        if (c->kind == PIPELINE && c->phase == HELD && c->owed == 0)
            say(r, c, lines, 2 * (size_t)r->depth, (uint32_t)r->depth);
        else if (c->kind == STALLED && c->phase == HELD && !c->blocked)
            check_blocked(r, c);
    }
    if (r->holding)
        churn(r, t);
    if (ticks % 20 == 0)
        progress(r);
}

void on_event(struct run *r, struct conn *c, uint32_t events)
{
    if (c->fd < 0)
        return;
    if (c->phase == CONNECTING) {
        on_connected(r, c);
        return;
    }
    if (c->kind == STALLED && c->phase == HELD) {
        stall(r, c);
        return;
    }
    if ((events & EPOLLOUT) && flush(r, c) < 0)
        return;
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        on_readable(r, c);
}
