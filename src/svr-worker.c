/* svr-worker.c - a worker thread: its loop, accepting, timeouts, mailbox. */
#include "config.h"

#include "svr-worker.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "svr-conn.h"
#include "svr-server.h"

/* After EMFILE, accepting waits this long for descriptors to come free,
 * instead of spinning on a listener that stays readable. */
#define ACCEPT_PAUSE    (100 * 1000ULL)
#define LOG_PAUSE_EVERY (10 * 1000000ULL)
/* A stop waits this long for slow clients to take their replies. */
#define DRAIN_LIMIT (5 * 1000000ULL)
/* Timers need not be exact to the microsecond, but a message_timeout of
 * 100ms must not fire at 350ms, sd-event's default slack. */
#define TIMER_ACCURACY (1000ULL)

static uint64_t now_usec(const struct worker *w)
{
    uint64_t now = 0;

    sd_event_now(w->event, CLOCK_MONOTONIC, &now);
    return now;
}

/* --- accepting ------------------------------------------------------------ */

static void set_accepting(struct worker *w, int enabled)
{
    for (unsigned i = 0; i < w->n_accept_src; i++)
        sd_event_source_set_enabled(w->accept_src[i], enabled);
}

static void resume_accepting(struct worker *w)
{
    w->accept_paused = false;
    sd_event_source_set_enabled(w->accept_pause, SD_EVENT_OFF);
    if (!w->stopping)
        set_accepting(w, SD_EVENT_ON);
}

static int on_accept_pause_end(sd_event_source *s, uint64_t usec, void *userdata)
{
    resume_accepting(userdata);
    return 0;
}

/* Out of descriptors: the listener stays readable, so accepting again at once
 * would spin. Wait until a connection closes, or ACCEPT_PAUSE at most (the
 * shortage may be system-wide). Said once per LOG_PAUSE_EVERY, not per pause. */
static void pause_accepting(struct worker *w, int error)
{
    uint64_t now = now_usec(w);

    if (w->pause_logged == 0 || now >= w->pause_logged + LOG_PAUSE_EVERY) {
        log_warn(&w->log,
                 "cannot accept: %s; new clients wait in the backlog until "
                 "descriptors free up",
                 strerror(error));
        w->pause_logged = now;
    }
    w->accept_paused = true;
    set_accepting(w, SD_EVENT_OFF);
    sd_event_source_set_time(w->accept_pause, now + ACCEPT_PAUSE);
    sd_event_source_set_enabled(w->accept_pause, SD_EVENT_ONESHOT);
}

static void accept_on(struct worker *w, int listen_fd)
{
    int r = conn_accept(w, listen_fd);

    if (r < 0)
        pause_accepting(w, -r);
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
    accept_on(userdata, fd);
    return 0;
}

/* Several workers: which listeners woke this one? */
static int on_accept_shared(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
    struct worker *w = userdata;
    struct epoll_event ev[LISTENERS_MAX];
    int n = epoll_wait(w->accept_epfd, ev, LISTENERS_MAX, 0);

    for (int i = 0; i < n && !w->accept_paused; i++)
        accept_on(w, ev[i].data.fd);
    return 0;
}

static void unwatch_listeners(struct worker *w)
{
    for (unsigned i = 0; i < w->n_accept_src; i++)
        w->accept_src[i] = sd_event_source_disable_unref(w->accept_src[i]);
    w->n_accept_src = 0;
    if (w->accept_epfd >= 0)
        close(w->accept_epfd);
    w->accept_epfd = -1;
}

/* One worker watches each listener itself. Several share them through an
 * epoll set of their own with EPOLLEXCLUSIVE, so that a new client wakes one
 * worker, not all (sd-event does not take EPOLLEXCLUSIVE itself). */
static int watch_shared(struct worker *w, const struct listeners *ls)
{
    int r;

    w->accept_epfd = epoll_create1(EPOLL_CLOEXEC);
    if (w->accept_epfd < 0)
        return -errno;
    for (unsigned i = 0; i < ls->n; i++) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = ls->l[i].fd};
        if (epoll_ctl(w->accept_epfd, EPOLL_CTL_ADD, ls->l[i].fd, &ev) < 0)
            return -errno;
    }
    r = sd_event_add_io(w->event, &w->accept_src[0], w->accept_epfd, EPOLLIN, on_accept_shared, w);
    if (r < 0)
        return r;
    w->n_accept_src = 1;
    return 0;
}

static int watch_listeners(struct worker *w, const struct listeners *ls)
{
    if (w->shared_accept)
        return watch_shared(w, ls);
    for (unsigned i = 0; i < ls->n; i++) {
        int r = sd_event_add_io(w->event, &w->accept_src[i], ls->l[i].fd, EPOLLIN, on_accept, w);
        if (r < 0)
            return r;
        w->n_accept_src = i + 1;
    }
    return 0;
}

/* --- timeouts ------------------------------------------------------------- */

static int on_timeouts(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct worker *w = userdata;
    uint64_t next = conn_expire(w, now_usec(w));

    if (next != UINT64_MAX) {
        sd_event_source_set_time(s, next);
        sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
    }
    return 0;
}

void worker_deadline(struct worker *w, uint64_t at)
{
    int enabled = SD_EVENT_OFF;
    uint64_t armed;

    /* The timer may fire early (the member at a head was touched since):
     * on_timeouts then just re-arms. It must never fire late. */
    sd_event_source_get_enabled(w->timeouts, &enabled);
    if (enabled != SD_EVENT_OFF && sd_event_source_get_time(w->timeouts, &armed) >= 0 &&
        armed <= at)
        return;
    sd_event_source_set_time(w->timeouts, at);
    sd_event_source_set_enabled(w->timeouts, SD_EVENT_ONESHOT);
}

static int on_heartbeat(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct worker *w = userdata;

    stat_add(w, heartbeat, 1);
    return sd_event_source_set_time(s, usec + w->heartbeat_every);
}

/* --- stopping ------------------------------------------------------------- */

void worker_conn_closed(struct worker *w)
{
    if (w->accept_paused)
        resume_accepting(w); /* a descriptor just came free */
    stat_set(w, open, w->n_conns);
    if (w->n_conns > 0)
        return;
    stat_set(w, idle_since, now_usec(w));
    if (w->stopping || w->inetd)
        sd_event_exit(w->event, 0);
}

static int on_drain_limit(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct worker *w = userdata;

    log_warn(&w->log, "%u clients did not take their replies in time, closing them", w->n_conns);
    conn_close_all(w);
    return 0;
}

/* Stop accepting, answer what clients already sent, close, end the loop. */
static void worker_stop(struct worker *w)
{
    if (w->stopping)
        return;
    w->stopping = true;
    /* Clients already in the backlog connected before the stop: serve them
     * too, or closing the listener would reset them (in fallback mode; a
     * passed socket keeps its backlog for the next start anyway). */
    pthread_mutex_lock(&w->srv->lock);
    for (unsigned i = 0; i < w->srv->listeners.n && !w->accept_paused; i++)
        conn_accept(w, w->srv->listeners.l[i].fd);
    pthread_mutex_unlock(&w->srv->lock);
    unwatch_listeners(w);
    sd_event_add_time(w->event, &w->drain_limit, CLOCK_MONOTONIC, now_usec(w) + DRAIN_LIMIT,
                      TIMER_ACCURACY, on_drain_limit, w);
    conn_drain_all(w);
    if (w->n_conns == 0)
        sd_event_exit(w->event, 0);
}

/* --- the mailbox ---------------------------------------------------------- */

static int apply_config(struct worker *w, const struct config *cfg)
{
    struct reply *reply;
    int r = reply_new(&reply, cfg->greeting);

    if (r < 0)
        return r;
    reply_unref(w->reply); /* connections finish their owed replies in it */
    w->reply = reply;
    w->cfg = *cfg;
    w->log.max_level = cfg->log_level;
    worker_deadline(w, now_usec(w)); /* the timeouts may have changed: look again now */
    return 0;
}

static void rewatch_listeners(struct worker *w)
{
    int r;

    unwatch_listeners(w);
    pthread_mutex_lock(&w->srv->lock);
    r = watch_listeners(w, &w->srv->listeners);
    pthread_mutex_unlock(&w->srv->lock);
    if (r < 0)
        log_err(&w->log, "cannot watch the listening sockets: %s", strerror(-r));
    if (w->accept_paused)
        set_accepting(w, SD_EVENT_OFF);
    server_worker_acked(w->srv);
}

static int on_mail(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
    struct worker *w = userdata;
    struct config cfg;
    eventfd_t knocks;
    unsigned mail;

    (void)!eventfd_read(fd, &knocks);
    pthread_mutex_lock(&w->mail_lock);
    mail = w->mail;
    w->mail = 0;
    if (mail & MAIL_CONFIG)
        cfg = w->mail_cfg;
    pthread_mutex_unlock(&w->mail_lock);

    if ((mail & MAIL_CONFIG) && apply_config(w, &cfg) < 0)
        log_err(&w->log, "out of memory: the new greeting is not in force");
    if ((mail & MAIL_LISTENERS) && !w->stopping)
        rewatch_listeners(w);
    if (mail & MAIL_STOP)
        worker_stop(w);
    return 0;
}

void worker_post(struct worker *w, unsigned mail, const struct config *cfg)
{
    pthread_mutex_lock(&w->mail_lock);
    w->mail |= mail;
    if (mail & MAIL_CONFIG)
        w->mail_cfg = *cfg;
    pthread_mutex_unlock(&w->mail_lock);
    (void)!eventfd_write(w->mail_fd, 1);
}

/* --- lifecycle ------------------------------------------------------------ */

static int add_timer(struct worker *w, sd_event_source **s, sd_event_time_handler_t fn)
{
    int r = sd_event_add_time(w->event, s, CLOCK_MONOTONIC, UINT64_MAX, TIMER_ACCURACY, fn, w);

    if (r < 0)
        return r;
    return sd_event_source_set_enabled(*s, SD_EVENT_OFF);
}

int worker_new(struct worker **out, struct server *srv, const struct config *cfg,
               const struct logger *log, uint64_t watchdog_usec)
{
    struct worker *w = calloc(1, sizeof *w);
    int r;

    if (!w)
        return -ENOMEM;
    w->srv = srv;
    w->log = *log;
    w->cfg = *cfg;
    w->accept_epfd = -1;
    w->shared_accept = srv->n_workers > 1;
    tlist_init(&w->idle);
    tlist_init(&w->partial);
    tlist_init(&w->linger);
    pthread_mutex_init(&w->mail_lock, NULL);
    w->mail_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    r = w->mail_fd < 0 ? -errno : reply_new(&w->reply, cfg->greeting);
    if (r >= 0)
        r = sd_event_new(&w->event);
    if (r >= 0)
        r = sd_event_add_io(w->event, &w->mail_src, w->mail_fd, EPOLLIN, on_mail, w);
    if (r >= 0)
        r = add_timer(w, &w->timeouts, on_timeouts);
    if (r >= 0)
        r = add_timer(w, &w->accept_pause, on_accept_pause_end);
    if (r >= 0 && watchdog_usec > 0) {
        w->heartbeat_every = watchdog_usec / 4;
        r = sd_event_add_time_relative(w->event, &w->heartbeat, CLOCK_MONOTONIC, w->heartbeat_every,
                                       TIMER_ACCURACY, on_heartbeat, w);
        if (r >= 0)
            r = sd_event_source_set_enabled(w->heartbeat, SD_EVENT_ON);
    }
    if (r >= 0)
        r = watch_listeners(w, &srv->listeners);
    if (r < 0) {
        worker_free(w);
        return r;
    }
    stat_set(w, idle_since, now_usec(w));
    *out = w;
    return 0;
}

int worker_adopt(struct worker *w, int fd)
{
    w->inetd = true;
    return conn_adopt(w, fd);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    int r = sd_event_loop(w->event);

    if (r < 0)
        log_err(&w->log, "a worker's event loop failed: %s", strerror(-r));
    server_worker_done(w->srv);
    return NULL;
}

int worker_start(struct worker *w)
{
    sigset_t all, old;
    int r;

    /* Signals are the main thread's: the worker starts with all blocked. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    r = -pthread_create(&w->thread, NULL, worker_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return r;
}

void worker_join(struct worker *w)
{
    pthread_join(w->thread, NULL);
}

struct worker *worker_free(struct worker *w)
{
    if (!w)
        return NULL;
    conn_close_all(w);
    unwatch_listeners(w);
    sd_event_source_disable_unref(w->timeouts);
    sd_event_source_disable_unref(w->accept_pause);
    sd_event_source_disable_unref(w->drain_limit);
    sd_event_source_disable_unref(w->heartbeat);
    sd_event_source_disable_unref(w->mail_src);
    sd_event_unref(w->event);
    reply_unref(w->reply);
    if (w->mail_fd >= 0)
        close(w->mail_fd);
    pthread_mutex_destroy(&w->mail_lock);
    free(w);
    return NULL;
}
