/* cli-bench-slot.c - what hello-cli bench does with a slot whatever the mode:
 * connect, write, count the reply lines by their LF, close, retry. */
#include "config.h"

#include "cli-bench-slot.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define RETRY_NSEC      1000000ULL /* a failed connect is tried again after 1 ms */
#define WRITES_PER_CALL 4

static char rbuf[RBUF_SIZE];

static uint32_t slot_index(const struct bench *b, const struct slot *s)
{
    return (uint32_t)(s - b->slots);
}

void bench_stop_failed(struct bench *b, enum cli_status status, int error)
{
    if (b->res->status == CLI_DONE) {
        b->res->status = status;
        b->res->error = error;
    }
    b->phase = PHASE_DONE;
}

void bench_begin_all(struct bench *b)
{
    if (b->o->duration_us)
        b->deadline = b->start + b->o->duration_us * NSEC_PER_USEC;
    for (uint32_t i = 0; i < b->n_slots && b->phase == PHASE_RUN; i++)
        b->mode->start(b, &b->slots[i]);
}

void bench_end_on_budget(struct bench *b, uint64_t now)
{
    (void)now;
    if (b->phase == PHASE_RUN && b->budget == 0 && b->outstanding == 0)
        b->phase = PHASE_DONE;
}

void slot_retry_later(struct bench *b, struct slot *s)
{
    struct retry_queue *q = &b->retry;

    s->state = SLOT_RETRY;
    q->slot[(q->head + q->len) % q->cap] = slot_index(b, s);
    q->at[(q->head + q->len) % q->cap] = now_ns() + RETRY_NSEC;
    q->len++;
}

void slot_forget_inflight(struct bench *b, struct slot *s)
{
    b->outstanding -= s->inflight;
    if (b->budget != UINT64_MAX)
        b->budget += s->inflight;
    s->inflight = 0;
}

void slot_close(struct bench *b, struct slot *s)
{
    if (s->state == SLOT_OPEN)
        b->n_open--;
    else if (s->state == SLOT_CONNECTING)
        b->n_connecting--;
    if (s->fd >= 0)
        close(s->fd); /* and out of the epoll set */
    s->fd = -1;
    s->state = SLOT_IDLE;
    s->head_len = 0;
    s->want_out = false;
    s->out_off = s->out_end = 0;
}

void slot_connect_failed(struct bench *b, struct slot *s, int error)
{
    b->res->connect_failures++;
    slot_forget_inflight(b, s);
    slot_close(b, s);
    if (!b->ever_connected) {
        bench_stop_failed(b, CLI_CONNECT_FAILED, error);
        return;
    }
    slot_retry_later(b, s);
}

static int set_events(struct bench *b, struct slot *s, int op, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.u32 = slot_index(b, s)};

    return epoll_ctl(b->ep, op, s->fd, &ev) < 0 ? -errno : 0;
}

void slot_connect(struct bench *b, struct slot *s)
{
    int fd, r;

    fd = socket(b->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        slot_connect_failed(b, s, errno);
        return;
    }
    s->fd = fd;
    s->state = SLOT_CONNECTING;
    b->n_connecting++;
    s->t_start = now_ns();
    if (connect(fd, (struct sockaddr *)&b->addr, b->addr_len) < 0 && errno != EINPROGRESS) {
        slot_connect_failed(b, s, errno);
        return;
    }
    r = set_events(b, s, EPOLL_CTL_ADD, b->mode->connect_events);
    if (r < 0)
        slot_connect_failed(b, s, -r);
}

int slot_write(struct bench *b, struct slot *s)
{
    for (int i = 0; i < WRITES_PER_CALL && s->out_off < s->out_end; i++) {
        ssize_t n = send(s->fd, b->batch + s->out_off, s->out_end - s->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0)
            s->out_off += (uint32_t)n;
        else if (n < 0 && errno == EAGAIN)
            break;
        else if (n < 0 && errno != EINTR)
            return -errno;
    }
    if (b->mode->connect_events & EPOLLET)
        return 0; /* EPOLLOUT is always asked for */
    if ((s->out_off < s->out_end) != s->want_out) {
        s->want_out = !s->want_out;
        return set_events(b, s, EPOLL_CTL_MOD, s->want_out ? EPOLLIN | EPOLLOUT : EPOLLIN);
    }
    return 0;
}

void slot_mark_open(struct bench *b, struct slot *s)
{
    s->state = SLOT_OPEN;
    b->n_connecting--;
    b->n_open++;
    b->res->connects++;
    b->ever_connected = true;
    b->last_progress = now_ns();
}

/* A level-triggered slot's connect completed, or failed. */
static void on_connected(struct bench *b, struct slot *s)
{
    int err = 0, one = 1, r;
    socklen_t len = sizeof err;

    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err) {
        slot_connect_failed(b, s, err);
        return;
    }
    /* Batches go out whole: never held back by Nagle's algorithm. */
    if (b->addr.ss_family != AF_UNIX)
        setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    r = set_events(b, s, EPOLL_CTL_MOD, EPOLLIN);
    if (r < 0) {
        slot_connect_failed(b, s, -r);
        return;
    }
    slot_mark_open(b, s);
    b->mode->on_open(b, s);
}

static bool is_error_reply(const struct slot *s)
{
    return (s->head_len >= 5 && memcmp(s->head, "ERROR", 5) == 0) ||
           (s->head_len >= 4 && memcmp(s->head, "-ERR", 4) == 0);
}

static void reply_done(struct bench *b, struct slot *s, uint64_t now)
{
    struct bench_result *res = b->res;
    bool error = is_error_reply(s);

    s->head_len = 0;
    if (s->inflight == 0) {
        res->errors++; /* a line nobody asked for, such as ERROR server busy */
        return;
    }
    res->replies++;
    if (error)
        res->errors++;
    s->inflight--;
    b->outstanding--;
    hist_record(&res->latency, now > s->t_start ? (now - s->t_start) / NSEC_PER_USEC : 0);
    b->last_progress = now;
}

/* Counts every reply line in what was read; keeps the head of an unfinished one. */
static void take_replies(struct bench *b, struct slot *s, const char *p, size_t n)
{
    const char *end = p + n;
    uint64_t now = now_ns();

    while (p < end) {
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((lf ? lf : end) - p);

        if (s->head_len < HEAD_MAX) {
            size_t room = (size_t)(HEAD_MAX - s->head_len), k = len < room ? len : room;
            memcpy(s->head + s->head_len, p, k);
            s->head_len = (uint8_t)(s->head_len + k);
        }
        if (!lf)
            break;
        reply_done(b, s, now);
        p = lf + 1;
    }
}

void slot_lost(struct bench *b, struct slot *s)
{
    bool answered;

    if (s->head_len > 0 && s->inflight > 0)
        reply_done(b, s, now_ns());
    answered = s->inflight == 0;
    if (!answered)
        b->res->closed++;
    slot_forget_inflight(b, s);
    slot_close(b, s);
    if (b->phase == PHASE_RUN)
        b->mode->on_lost(b, s, answered);
}

ssize_t slot_read(struct bench *b, struct slot *s)
{
    ssize_t n = read(s->fd, rbuf, sizeof rbuf);

    if (n > 0) {
        take_replies(b, s, rbuf, (size_t)n);
        return n;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    slot_lost(b, s);
    return 0;
}

bool slot_level_event(struct bench *b, struct slot *s, uint32_t ev)
{
    if (s->state == SLOT_CONNECTING) {
        if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            on_connected(b, s);
        return false;
    }
    if (s->state != SLOT_OPEN)
        return false;
    if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        slot_read(b, s);
        if (s->state != SLOT_OPEN)
            return false;
    }
    if (ev & EPOLLOUT) {
        int r = slot_write(b, s);
        if (r < 0) {
            slot_lost(b, s);
            return false;
        }
    }
    return true;
}
