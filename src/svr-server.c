/* svr-server.c - the server's lifecycle: setting up sd-event (signals,
 * watchdog, timers), accepting on every listener, telling the service manager
 * how things stand, and stopping with every owed reply sent. */
#include "config.h"

#include "svr-server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "svr-conn.h"
#include "parse.h"
#include "svr-msgid.h"

#define STATUS_INTERVAL (1 * 1000000ULL)
/* After EMFILE, accepting waits this long for descriptors to come free,
 * instead of spinning on a listener that stays readable. */
#define ACCEPT_PAUSE (100 * 1000ULL)
#define LOG_PAUSE_EVERY (10 * 1000000ULL)
/* A stop waits this long for slow clients to take their replies. */
#define DRAIN_LIMIT (5 * 1000000ULL)
/* Timers need not be exact to the microsecond, but a message_timeout of
 * 100ms must not fire at 350ms, sd-event's default slack. */
#define TIMER_ACCURACY (1000ULL)

static void send_status(struct server *srv, const char *state)
{
    sd_notifyf(0, "%sSTATUS=%u connections open, %llu messages answered", state, srv->n_conns,
               (unsigned long long)srv->stats.messages);
    srv->status_conns = srv->n_conns;
    srv->status_messages = srv->stats.messages;
}

static int on_status(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct server *srv = userdata;

    if (srv->n_conns != srv->status_conns || srv->stats.messages != srv->status_messages)
        send_status(srv, "");
    sd_event_source_set_time(s, usec + STATUS_INTERVAL);
    return 0;
}

static int set_accepting(struct server *srv, int enabled)
{
    for (unsigned i = 0; i < srv->listeners.n; i++) {
        int r = sd_event_source_set_enabled(srv->accept_src[i], enabled);
        if (r < 0)
            return r;
    }
    return 0;
}

static void resume_accepting(struct server *srv)
{
    srv->accept_paused = false;
    sd_event_source_set_enabled(srv->accept_pause, SD_EVENT_OFF);
    if (!srv->stopping)
        set_accepting(srv, SD_EVENT_ON);
}

static int on_accept_pause_end(sd_event_source *s, uint64_t usec, void *userdata)
{
    resume_accepting(userdata);
    return 0;
}

/* Out of descriptors: the listener stays readable, so accepting again at once
 * would spin. Wait until a connection closes, or ACCEPT_PAUSE at most (the
 * shortage may be system-wide). Said once per LOG_PAUSE_EVERY, not per pause. */
static void pause_accepting(struct server *srv, int error)
{
    uint64_t now;

    sd_event_now(srv->event, CLOCK_MONOTONIC, &now);
    if (now >= srv->pause_logged + LOG_PAUSE_EVERY || srv->pause_logged == 0) {
        log_warn(&srv->log, "cannot accept: %s; new clients wait in the backlog until "
                            "descriptors free up", strerror(error));
        srv->pause_logged = now;
    }
    srv->accept_paused = true;
    set_accepting(srv, SD_EVENT_OFF);
    sd_event_source_set_time(srv->accept_pause, now + ACCEPT_PAUSE);
    sd_event_source_set_enabled(srv->accept_pause, SD_EVENT_ONESHOT);
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
    struct server *srv = userdata;
    int r = conn_accept(srv, fd);

    if (r < 0)
        pause_accepting(srv, -r);
    return 0;
}

static int watch_listeners(struct server *srv)
{
    for (unsigned i = 0; i < srv->listeners.n; i++) {
        int r = sd_event_add_io(srv->event, &srv->accept_src[i], srv->listeners.l[i].fd, EPOLLIN,
                                on_accept, srv);
        if (r < 0)
            return r;
    }
    return 0;
}

static void unwatch_listeners(struct server *srv)
{
    for (unsigned i = 0; i < srv->listeners.n; i++)
        srv->accept_src[i] = sd_event_source_disable_unref(srv->accept_src[i]);
}

static int on_timeouts(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct server *srv = userdata;
    uint64_t now, next;

    sd_event_now(srv->event, CLOCK_MONOTONIC, &now);
    next = conn_expire(srv, now);
    if (next != UINT64_MAX) {
        sd_event_source_set_time(s, next);
        sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
    }
    return 0;
}

void server_deadline(struct server *srv, uint64_t at)
{
    int enabled = SD_EVENT_OFF;
    uint64_t armed;

    /* The timer may fire early (the member at a head was touched since):
     * on_timeouts then just re-arms. It must never fire late. */
    sd_event_source_get_enabled(srv->timeouts, &enabled);
    if (enabled != SD_EVENT_OFF && sd_event_source_get_time(srv->timeouts, &armed) >= 0 &&
        armed <= at)
        return;
    sd_event_source_set_time(srv->timeouts, at);
    sd_event_source_set_enabled(srv->timeouts, SD_EVENT_ONESHOT);
}

/* exit_on_idle applies to a server the service manager started for its
 * sockets (Accept=no): the sockets stay with it, and it starts hellod again
 * on the next connection, so exiting loses nobody. */
static bool exits_on_idle(const struct server *srv)
{
    return srv->cfg.exit_on_idle > 0 && srv->listeners.activated && !srv->inetd;
}

static void arm_idle_exit(struct server *srv)
{
    if (!exits_on_idle(srv)) {
        sd_event_source_set_enabled(srv->idle_exit, SD_EVENT_OFF);
        return;
    }
    sd_event_source_set_time(srv->idle_exit, srv->idle_since + srv->cfg.exit_on_idle);
    sd_event_source_set_enabled(srv->idle_exit, SD_EVENT_ONESHOT);
}

static int on_idle_exit(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct server *srv = userdata;
    char idle[64];

    if (srv->n_conns > 0 || !exits_on_idle(srv))
        return 0; /* the last close arms it again */
    if (usec < srv->idle_since + srv->cfg.exit_on_idle) {
        arm_idle_exit(srv); /* a connection came and went meanwhile */
        return 0;
    }
    format_duration(idle, sizeof idle, srv->cfg.exit_on_idle);
    log_msgid(&srv->log, LOG_INFO, MSGID_IDLE_EXIT,
              "no connection for %s, exiting; the service manager keeps the sockets", idle);
    srv->stopping = true;
    send_status(srv, "STOPPING=1\n");
    sd_event_exit(srv->event, 0);
    return 0;
}

void server_conn_closed(struct server *srv)
{
    if (srv->accept_paused)
        resume_accepting(srv); /* a descriptor just came free */
    if (srv->n_conns > 0)
        return;
    if (srv->stopping || srv->inetd) {
        sd_event_exit(srv->event, 0);
        return;
    }
    sd_event_now(srv->event, CLOCK_MONOTONIC, &srv->idle_since);
    arm_idle_exit(srv);
}

static int on_drain_limit(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct server *srv = userdata;

    log_warn(&srv->log, "%u clients did not take their replies in time, closing them",
             srv->n_conns);
    conn_close_all(srv);
    return 0;
}

/* SIGTERM or SIGINT: stop accepting, answer what clients already sent, close. */
static int on_stop_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
    struct server *srv = userdata;
    uint64_t now;

    if (srv->stopping)
        return 0;
    srv->stopping = true;
    log_info(&srv->log, "received SIG%s, stopping", sigabbrev_np((int)si->ssi_signo));
    send_status(srv, "STOPPING=1\n");
    unwatch_listeners(srv);
    listeners_close(&srv->listeners);
    sd_event_now(srv->event, CLOCK_MONOTONIC, &now);
    sd_event_add_time(srv->event, &srv->drain_limit, CLOCK_MONOTONIC, now + DRAIN_LIMIT,
                      TIMER_ACCURACY, on_drain_limit, srv);
    conn_drain_all(srv);
    if (srv->n_conns == 0)
        sd_event_exit(srv->event, 0);
    return 0;
}

/* Binds what a new `listen` adds and closes what it drops; passed sockets
 * cannot change, which is said once. */
static int apply_listen(struct server *srv, const struct config *next)
{
    struct listen_error err;
    int r;

    if (listen_equal(&srv->cfg, next) || srv->inetd)
        return 0;
    if (srv->listeners.activated) {
        if (!srv->listen_change_logged)
            log_notice(&srv->log, "listen = ... changed: ignored, the sockets come from the "
                                  "service manager");
        srv->listen_change_logged = true;
        return 0;
    }
    unwatch_listeners(srv);
    r = listeners_update(&srv->listeners, next, &err);
    if (r < 0)
        log_err(&srv->log, "cannot listen on %s: %s", err.addr,
                err.what ? err.what : strerror(-r));
    if (watch_listeners(srv) < 0)
        log_err(&srv->log, "cannot watch the listening sockets");
    for (unsigned i = 0; r == 0 && i < srv->listeners.n; i++)
        log_info(&srv->log, "listening on %s", srv->listeners.l[i].name);
    return r;
}

/* Puts a new configuration in force, for new and open connections alike;
 * the old one stays whole when any part cannot be applied. */
static int apply_config(struct server *srv, const struct config *next)
{
    struct reply *reply;
    uint64_t now;
    int r;

    r = reply_new(&reply, next->greeting);
    if (r < 0)
        return r;
    r = apply_listen(srv, next);
    if (r < 0) {
        reply_unref(reply);
        return r;
    }
    reply_unref(srv->reply); /* connections finish their owed replies in it */
    srv->reply = reply;
    srv->cfg = *next;
    srv->log.max_level = next->log_level;
    sd_event_now(srv->event, CLOCK_MONOTONIC, &now);
    server_deadline(srv, now); /* the timeouts may have changed: look again now */
    if (srv->n_conns == 0)
        arm_idle_exit(srv);
    return 0;
}

/* SIGHUP: read the configuration again and apply it, or keep the running one. */
static int on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
    struct server *srv = userdata;
    struct config next;
    struct config_error err;
    char msg[1024];
    uint64_t now;
    int r;

    if (srv->stopping)
        return 0;
    sd_event_now(srv->event, CLOCK_MONOTONIC, &now);
    /* MONOTONIC_USEC= lets systemd 253+ (Type=notify-reload) match this reload. */
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)now);
    r = svr_options_load_config(srv->opts, &next, &err);
    if (r < 0) {
        config_error_format(&err, msg, sizeof msg);
        log_msgid(&srv->log, LOG_ERR, MSGID_RELOAD_FAILED,
                  "reload failed, keeping the running configuration: %s", msg);
    } else if ((r = apply_config(srv, &next)) < 0) {
        log_msgid(&srv->log, LOG_ERR, MSGID_RELOAD_FAILED,
                  "reload failed, keeping the running configuration: %s", strerror(-r));
    } else {
        log_msgid(&srv->log, LOG_INFO, MSGID_RELOADED, "reloaded %s", srv->opts->config_path);
    }
    send_status(srv, "READY=1\n");
    return 0;
}

static int add_signals(struct server *srv)
{
    static const struct {
        int signo;
        sd_event_signal_handler_t handler;
    } handlers[] = {{SIGTERM, on_stop_signal}, {SIGINT, on_stop_signal}, {SIGHUP, on_reload}};
    sigset_t mask;
    int r;

    /* sd-event reads signals from a signalfd: they must be blocked first. A
     * client that resets mid-reply must cost an EPIPE, never a SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&mask);
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++)
        sigaddset(&mask, handlers[i].signo);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
        return -errno;
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++) {
        r = sd_event_add_signal(srv->event, NULL, handlers[i].signo, handlers[i].handler, srv);
        if (r < 0)
            return r;
    }
    return 0;
}

static int add_timers(struct server *srv)
{
    int r;

    r = sd_event_add_time(srv->event, &srv->timeouts, CLOCK_MONOTONIC, UINT64_MAX,
                          TIMER_ACCURACY, on_timeouts, srv);
    if (r >= 0)
        r = sd_event_source_set_enabled(srv->timeouts, SD_EVENT_OFF);
    if (r >= 0)
        r = sd_event_add_time(srv->event, &srv->accept_pause, CLOCK_MONOTONIC, UINT64_MAX,
                              TIMER_ACCURACY, on_accept_pause_end, srv);
    if (r >= 0)
        r = sd_event_source_set_enabled(srv->accept_pause, SD_EVENT_OFF);
    if (r >= 0)
        r = sd_event_add_time(srv->event, &srv->idle_exit, CLOCK_MONOTONIC, UINT64_MAX,
                              TIMER_ACCURACY, on_idle_exit, srv);
    if (r >= 0)
        r = sd_event_source_set_enabled(srv->idle_exit, SD_EVENT_OFF);
    if (r >= 0 && srv->notify) {
        uint64_t now;
        sd_event_now(srv->event, CLOCK_MONOTONIC, &now);
        r = sd_event_add_time(srv->event, &srv->status, CLOCK_MONOTONIC, now + STATUS_INTERVAL,
                              STATUS_INTERVAL / 10, on_status, srv);
        if (r >= 0)
            r = sd_event_source_set_enabled(srv->status, SD_EVENT_ON);
    }
    return r < 0 ? r : 0;
}

/* Every client is a descriptor: take all the kernel allows this process
 * (the soft limit, often 1024, up to the hard one). */
static void raise_fd_limit(const struct logger *log)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == rl.rlim_max)
        return;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
        log_debug(log, "descriptor limit raised to %llu", (unsigned long long)rl.rlim_cur);
}

int server_new(struct server **out, const struct config *cfg, const struct svr_options *opts,
               const struct logger *log)
{
    struct server *srv = calloc(1, sizeof *srv);
    int r;

    if (!srv)
        return -ENOMEM;
    raise_fd_limit(log);
    srv->log = *log;
    srv->cfg = *cfg;
    srv->opts = opts;
    srv->notify = getenv("NOTIFY_SOCKET") != NULL;
    tlist_init(&srv->idle);
    tlist_init(&srv->partial);
    tlist_init(&srv->linger);
    r = reply_new(&srv->reply, cfg->greeting);
    if (r >= 0)
        r = sd_event_new(&srv->event);
    if (r >= 0)
        r = add_signals(srv);
    if (r >= 0)
        r = add_timers(srv);
    /* With WatchdogSec= set, sd-event sends WATCHDOG=1 from the loop itself,
     * so a stalled loop is what the service manager sees. */
    if (r >= 0)
        r = sd_event_set_watchdog(srv->event, true);
    if (r < 0) {
        server_free(srv);
        return r;
    }
    *out = srv;
    return 0;
}

static int serve_listeners(struct server *srv)
{
    int r = watch_listeners(srv);

    if (r < 0)
        return r;
    for (unsigned i = 0; i < srv->listeners.n; i++)
        log_info(&srv->log, "listening on %s%s", srv->listeners.l[i].name,
                 srv->listeners.activated ? " (from the service manager)" : "");
    sd_event_now(srv->event, CLOCK_MONOTONIC, &srv->idle_since);
    arm_idle_exit(srv);
    return 0;
}

static int serve_inetd(struct server *srv)
{
    int r;

    srv->inetd = true;
    r = net_set_nonblock(srv->listeners.conn_fd, true);
    if (r >= 0)
        r = conn_adopt(srv, srv->listeners.conn_fd);
    if (r < 0)
        return r;
    srv->listeners.conn_fd = -1; /* the connection owns it now */
    return 0;
}

int server_run(struct server *srv, struct listeners *ls)
{
    int r;

    srv->listeners = *ls;
    *ls = (struct listeners){.conn_fd = -1};
    r = srv->listeners.conn_fd >= 0 ? serve_inetd(srv) : serve_listeners(srv);
    if (r < 0)
        return r;
    send_status(srv, "READY=1\n");
    r = sd_event_loop(srv->event);
    log_msgid(&srv->log, LOG_INFO, MSGID_STOPPED, "stopped after %llu connections and %llu messages",
             (unsigned long long)srv->stats.connections,
             (unsigned long long)srv->stats.messages);
    return r;
}

struct server *server_free(struct server *srv)
{
    if (!srv)
        return NULL;
    conn_close_all(srv);
    unwatch_listeners(srv);
    listeners_close(&srv->listeners);
    if (srv->listeners.conn_fd >= 0)
        close(srv->listeners.conn_fd);
    sd_event_source_disable_unref(srv->timeouts);
    sd_event_source_disable_unref(srv->accept_pause);
    sd_event_source_disable_unref(srv->status);
    sd_event_source_disable_unref(srv->drain_limit);
    sd_event_source_disable_unref(srv->idle_exit);
    sd_event_unref(srv->event);
    reply_unref(srv->reply);
    free(srv);
    return NULL;
}
