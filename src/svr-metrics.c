/* svr-metrics.c - the metrics endpoint: the connections on the main thread's
 * loop (svr-http.c reads the request, svr-metrics-text.c writes the answer).
 *
 * A metrics connection lives at most METRICS_TIMEOUT: it reads one request
 * into a fixed buffer, answers it in one response, shuts down its writing
 * side and reads what the client may still send until the client closes (so
 * that our close is not a reset that destroys the answer in flight), then
 * closes. Nothing is kept between requests: each scrape asks the collect
 * function for the figures of that moment. */
#include "config.h"

#include "svr-metrics.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "escape.h"
#include "net.h"
#include "svr-accept-util.h"

/* Deadlines need no precision: sd-event may group them. */
#define TIMER_ACCURACY (100 * 1000ULL)
/* Each wakeup accepts at most this many clients. */
#define ACCEPT_BATCH 16
/* The most of a request line a log line shows. */
#define LOG_REQUEST_MAX 128

/* --- connections ---------------------------------------------------------- */

enum mconn_state {
    MCONN_READING, /* the request, up to its blank line */
    MCONN_WRITING, /* the response; EPOLLOUT says when the socket takes more */
    MCONN_LINGER,  /* all sent and shut down: drop input until EOF or the deadline */
};

struct mconn {
    struct metrics *m;
    struct mconn *prev, *next;
    sd_event_source *io;    /* owns the descriptor */
    sd_event_source *timer; /* the deadline */
    uint64_t deadline;
    enum mconn_state state;
    size_t len;  /* READING: request bytes in buf; then the response's length */
    size_t sent; /* WRITING: response bytes sent */
    struct sockaddr_storage peer;
    socklen_t peer_len;
    char buf[METRICS_RESPONSE_MAX]; /* the request, then the response */
};

struct metrics {
    sd_event *event;
    const struct logger *log;
    metrics_collect_fn collect;
    void *userdata;
    struct mconn *conns;
    unsigned n_conns;
    sd_event_source *accept_pause; /* re-enables accepting after EMFILE */
    struct accept_pause pause;
    unsigned n_listen;
    sd_event_source *listen[];
};

static uint64_t now_usec(const struct metrics *m)
{
    uint64_t now = 0;

    sd_event_now(m->event, CLOCK_MONOTONIC, &now);
    return now;
}

/* 0, or the first -errno of a listener that could not be set (the others
 * are set all the same). Turning a source off does not fail: sd-event drops
 * it from its epoll set and ignores an error there. Turning it on adds it
 * again (epoll_ctl), which can fail for want of memory. */
static int set_accepting(struct metrics *m, int enabled)
{
    int r = 0;

    for (unsigned i = 0; i < m->n_listen; i++) {
        int q = sd_event_source_set_enabled(m->listen[i], enabled);
        if (q < 0 && r == 0)
            r = q;
    }
    return r;
}

static void pause_accepting(struct metrics *m, int error);

static void resume_accepting(struct metrics *m)
{
    int r;

    accept_pause_end(&m->pause);
    (void)sd_event_source_set_enabled(m->accept_pause, SD_EVENT_OFF); /* off: cannot fail */
    r = set_accepting(m, SD_EVENT_ON);
    if (r < 0) /* epoll out of memory: as when out of descriptors, try again later */
        pause_accepting(m, -r);
}

static void log_conn(const struct mconn *c, int prio, const char *what)
{
    accept_log_client(c->m->log, prio, "metrics: ", (const struct sockaddr *)&c->peer, c->peer_len,
                      what);
}

static void mconn_free(struct mconn *c)
{
    struct metrics *m = c->m;

    if (c->prev)
        c->prev->next = c->next;
    else
        m->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    sd_event_source_disable_unref(c->timer);
    sd_event_source_disable_unref(c->io); /* and closes the descriptor */
    free(c);
    m->n_conns--;
    if (m->pause.paused)
        resume_accepting(m); /* a descriptor just came free */
}

static int mconn_fd(const struct mconn *c)
{
    return sd_event_source_get_io_fd(c->io);
}

/* The answer is out: the client has until NET_LINGER_USEC, as a hello
 * connection has (or the deadline, if sooner), to close its side, while what
 * it still sends is dropped. */
static void mconn_linger(struct mconn *c)
{
    uint64_t until = now_usec(c->m) + NET_LINGER_USEC;

    c->state = MCONN_LINGER;
    shutdown(mconn_fd(c), SHUT_WR);
    if (sd_event_source_set_io_events(c->io, EPOLLIN) < 0) {
        /* still watched for EPOLLOUT, which a socket shut down for writing
         * keeps reporting: the answer is out, close now instead */
        mconn_free(c);
        return;
    }
    /* Fails only on a source of another kind or a loop already over: the
     * deadline set at the open then still ends the linger, a little later. */
    if (until < c->deadline)
        (void)sd_event_source_set_time(c->timer, until);
}

static void mconn_write(struct mconn *c)
{
    while (c->sent < c->len) {
        ssize_t n =
            send(mconn_fd(c), c->buf + c->sent, c->len - c->sent, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN && sd_event_source_set_io_events(c->io, EPOLLOUT) >= 0)
                return;
            log_conn(c, LOG_DEBUG, "write failed, closing");
            mconn_free(c);
            return;
        }
        c->sent += (size_t)n;
    }
    mconn_linger(c);
}

static void log_request(const struct mconn *c, enum http_result r)
{
    char line[4 * LOG_REQUEST_MAX + 4], peer[ADDR_STRLEN];
    size_t n = strcspn(c->buf, "\r\n"); /* buf holds a NUL after the request */

    if (LOG_DEBUG > c->m->log->max_level)
        return;
    escape_bytes(line, sizeof line, c->buf, n < LOG_REQUEST_MAX ? n : LOG_REQUEST_MAX);
    addr_format((const struct sockaddr *)&c->peer, c->peer_len, peer, sizeof peer);
    log_peer(c->m->log, LOG_DEBUG, peer, "metrics: %s: \"%s%s\" %d", peer, line,
             n > LOG_REQUEST_MAX ? "..." : "", http_status(r));
}

static void mconn_respond(struct mconn *c, enum http_result r, bool head)
{
    struct metrics_figures f = {0};
    size_t n;

    if (r == HTTP_METRICS)
        c->m->collect(&f, c->m->userdata);
    log_request(c, r);
    n = http_response(c->buf, sizeof c->buf, r, head, &f);
    if (n >= sizeof c->buf) {
        log_err(c->m->log, "metrics: a response of %zu bytes does not fit in %zu", n,
                sizeof c->buf);
        mconn_free(c);
        return;
    }
    c->state = MCONN_WRITING;
    c->len = n;
    c->sent = 0;
    mconn_write(c);
}

/* One read: a short read means the socket is drained for now. */
static void mconn_read(struct mconn *c)
{
    ssize_t n = read(mconn_fd(c), c->buf + c->len, HTTP_REQUEST_MAX - c->len);
    enum http_result r;
    bool head = false;

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        log_conn(c, LOG_DEBUG, n == 0 ? "closed before a whole request" : "read failed");
        mconn_free(c);
        return;
    }
    c->len += (size_t)n;
    r = http_parse_request(c->buf, c->len, &head);
    if (r == HTTP_INCOMPLETE)
        return; /* and the buffer has room: a full one is never incomplete */
    c->buf[c->len] = '\0';
    mconn_respond(c, r, head);
}

/* Drops what the client still sends, until it closes. */
static void mconn_drain(struct mconn *c)
{
    ssize_t n = read(mconn_fd(c), c->buf, sizeof c->buf);

    if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
        return;
    mconn_free(c);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
    struct mconn *c = userdata;

    (void)s;
    (void)fd;
    (void)revents;
    switch (c->state) {
    case MCONN_READING:
        mconn_read(c);
        break;
    case MCONN_WRITING:
        mconn_write(c);
        break;
    case MCONN_LINGER:
        mconn_drain(c);
        break;
    }
    return 0;
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct mconn *c = userdata;

    (void)s;
    (void)usec;
    if (c->state != MCONN_LINGER)
        log_conn(c, LOG_DEBUG, "timed out, closing");
    mconn_free(c);
    return 0;
}

static int mconn_open(struct metrics *m, int fd, const struct sockaddr *peer, socklen_t peer_len)
{
    struct mconn *c = malloc(sizeof *c);
    int r;

    if (!c)
        return -ENOMEM;
    *c = (struct mconn){.m = m, .peer_len = peer_len};
    memcpy(&c->peer, peer, peer_len < sizeof c->peer ? peer_len : sizeof c->peer);
    c->deadline = now_usec(m) + METRICS_TIMEOUT;
    r = sd_event_add_time(m->event, &c->timer, CLOCK_MONOTONIC, c->deadline, TIMER_ACCURACY,
                          on_deadline, c);
    if (r >= 0)
        r = sd_event_add_io(m->event, &c->io, fd, EPOLLIN, on_io, c);
    if (r < 0) {
        sd_event_source_disable_unref(c->timer);
        free(c);
        return r;
    }
    sd_event_source_set_io_fd_own(c->io, true);
    c->next = m->conns;
    if (m->conns)
        m->conns->prev = c;
    m->conns = c;
    m->n_conns++;
    log_conn(c, LOG_DEBUG, "connected");
    return 0;
}

/* --- accepting ------------------------------------------------------------ */

static int on_accept_pause_end(sd_event_source *s, uint64_t usec, void *userdata)
{
    (void)s;
    (void)usec;
    resume_accepting(userdata);
    return 0;
}

/* Out of descriptors: wait for a close, or ACCEPT_PAUSE_USEC. */
static void pause_accepting(struct metrics *m, int error)
{
    int r;

    if (accept_pause_begin(&m->pause, now_usec(m)))
        log_warn(m->log, "metrics: cannot accept: %s", strerror(error));
    (void)set_accepting(m, SD_EVENT_OFF); /* off: cannot fail */
    r = sd_event_source_set_time(m->accept_pause, m->pause.until);
    if (r >= 0)
        r = sd_event_source_set_enabled(m->accept_pause, SD_EVENT_ONESHOT);
    if (r < 0) /* then only the next close of a metrics client resumes accepting */
        log_warn(m->log, "metrics: cannot set the end of the pause: %s", strerror(-r));
}

static void on_client(int fd, const struct sockaddr *peer, socklen_t peer_len, void *userdata)
{
    struct metrics *m = userdata;
    int r;

    if (m->n_conns >= METRICS_CONNS_MAX) {
        close(fd);
        log_debug(m->log, "metrics: %u connections open, one more refused", m->n_conns);
        return;
    }
    r = mconn_open(m, fd, peer, peer_len);
    if (r < 0) {
        close(fd);
        log_warn(m->log, "metrics: cannot serve a new client: %s", strerror(-r));
    }
}

static int on_accept(sd_event_source *s, int listen_fd, uint32_t revents, void *userdata)
{
    struct metrics *m = userdata;
    int r = accept_batch(listen_fd, ACCEPT_BATCH, on_client, m);

    (void)s;
    (void)revents;
    if (r < 0 && r != -EAGAIN)
        pause_accepting(m, -r);
    return 0;
}

/* --- the endpoint --------------------------------------------------------- */

int metrics_new(struct metrics **out, sd_event *event, const int *fds, unsigned n_fds,
                metrics_collect_fn collect, void *userdata, const struct logger *log)
{
    struct metrics *m = calloc(1, sizeof *m + n_fds * sizeof m->listen[0]);
    int r;

    if (!m)
        return -ENOMEM;
    m->event = sd_event_ref(event);
    m->collect = collect;
    m->userdata = userdata;
    m->log = log;
    m->pause = ACCEPT_PAUSE_INIT;
    r = sd_event_add_time(event, &m->accept_pause, CLOCK_MONOTONIC, UINT64_MAX, TIMER_ACCURACY,
                          on_accept_pause_end, m);
    if (r >= 0)
        r = sd_event_source_set_enabled(m->accept_pause, SD_EVENT_OFF);
    for (unsigned i = 0; r >= 0 && i < n_fds; i++) {
        r = sd_event_add_io(event, &m->listen[i], fds[i], EPOLLIN, on_accept, m);
        if (r >= 0)
            m->n_listen++;
    }
    if (r < 0) {
        metrics_free(m);
        return r;
    }
    *out = m;
    return 0;
}

struct metrics *metrics_free(struct metrics *m)
{
    if (!m)
        return NULL;
    while (m->conns)
        mconn_free(m->conns);
    for (unsigned i = 0; i < m->n_listen; i++)
        sd_event_source_disable_unref(m->listen[i]); /* the descriptors stay open */
    sd_event_source_disable_unref(m->accept_pause);
    sd_event_unref(m->event);
    free(m);
    return NULL;
}

unsigned metrics_conns(const struct metrics *m)
{
    return m->n_conns;
}
