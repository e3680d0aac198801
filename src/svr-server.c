/* svr-server.c - the main thread: starting the workers, signals, reload,
 * exit on idle, the stop; what the service manager is told while it runs
 * (STATUS=, WATCHDOG=) is svr-status.c's. */
#include "config.h"

#include "svr-server.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "loop.h"
#include "notify.h"
#include "parse.h"
#include "reload-request.h"
#include "svr-adopt.h"
#include "svr-handover.h"
#include "svr-idle.h"
#include "svr-metrics.h"
#include "svr-stopkind.h"
#include "svr-storesize.h"
#include "svr-msgid.h"
#include "svr-reload.h"
#include "svr-status.h"
#include "svr-worker.h"

#define LOG_LIMIT_FLUSH (1 * 1000000ULL)

struct server {
    struct logger log;
    struct config cfg;
    const struct svr_options *opts; /* where a reload reads the config again */
    sd_event *event;
    struct listeners listeners;  /* workers read it under shared.lock, when told to */
    struct worker_shared shared; /* the lock, acks, slots and done_fd the workers share */
    struct worker *workers[CONFIG_WORKERS_MAX];
    unsigned n_workers;
    struct metrics *metrics; /* GET /metrics, when asked for */
    unsigned n_done;         /* workers whose loop has ended */
    sd_event_source *done_src;
    struct idle *idle;        /* exit_on_idle (svr-idle.h) */
    struct status status;     /* STATUS= and WATCHDOG= (svr-status.h) */
    struct notifier notifier; /* READY=, STATUS=, WATCHDOG=: open from the start */
    bool notify;              /* $NOTIFY_SOCKET is set */
    bool stopping;
    struct reload_ctx reload;    /* what a reload reads and changes: svr-reload.h */
    struct handover handover;    /* a stop hands the connections to the fd store */
    struct adopt_result adopted; /* what the start took over from the hellod before */
};

/* --- metrics ------------------------------------------------------------- */

static int start_metrics(struct server *srv)
{
    int fds[CONFIG_LISTEN_MAX];
    int r;

    if (srv->listeners.n_metrics == 0)
        return 0;
    for (unsigned i = 0; i < srv->listeners.n_metrics; i++)
        fds[i] = srv->listeners.metrics[i].fd;
    r = metrics_new(&srv->metrics, srv->event, fds, srv->listeners.n_metrics, status_figures,
                    &srv->status, &srv->log);
    for (unsigned i = 0; r >= 0 && i < srv->listeners.n_metrics; i++)
        log_info(&srv->log, "metrics on %s/metrics", srv->listeners.metrics[i].name);
    return r;
}

/* --- exit on idle --------------------------------------------------------- */

/* Idle for sure (svr-idle.h): the same stop as SIGTERM's. */
static void on_idle(void *userdata)
{
    struct server *srv = userdata;

    srv->stopping = true;
    /* Exiting by ourselves ends the unit, and the store with it: a client
     * that came just now is answered, not handed over. */
    srv->handover.enabled = false;
    status_send(&srv->status, "STOPPING=1\n");
    for (unsigned i = 0; i < srv->n_workers; i++)
        worker_post(srv->workers[i], MAIL_STOP, NULL);
}

static void arm_idle_exit(struct server *srv)
{
    idle_arm(srv->idle, srv->cfg.exit_on_idle);
}

/* --- stop ----------------------------------------------------------------- */

/* A restart keeps the descriptor store for the next hellod: hand the
 * connections over. A stop empties it: answer them and close, as ever. A
 * signal does not say which, the unit's job does; when nobody can tell
 * (no bus), the store being there says the restart is what it is for. */
static void decide_handover(struct server *srv)
{
    char what[256];
    enum stop_kind kind;

    store_size_at_stop(&srv->handover, &srv->log); /* the size systemd has, not $FDSTORE's */
    if (!srv->handover.enabled)
        return;
    kind = stop_kind_query(what, sizeof what);
    if (kind == STOP_STOP)
        srv->handover.enabled = false; /* read by the workers after MAIL_STOP */
    log_info(&srv->log, "%s (%s): %s", kind == STOP_STOP ? "a stop" : "a restart", what,
             kind == STOP_STOP ? "answering the clients, then closing"
                               : "handing the connections over to the next hellod");
}

/* SIGTERM or SIGINT: every worker takes the clients already queued, stops
 * accepting, answers what its clients sent, and ends; the last one to end
 * ends the main loop. */
static int on_stop_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
    struct server *srv = userdata;

    (void)s;
    if (srv->stopping)
        return 0;
    srv->stopping = true;
    srv->handover.stop_usec = loop_clock();
    log_info(&srv->log, "received SIG%s, stopping", sigabbrev_np((int)si->ssi_signo));
    decide_handover(srv);
    status_send(&srv->status, "STOPPING=1\n");
    srv->metrics = metrics_free(srv->metrics);
    for (unsigned i = 0; i < srv->n_workers; i++)
        worker_post(srv->workers[i], MAIL_STOP, NULL);
    return 0;
}

static int on_worker_done(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
    struct server *srv = userdata;
    eventfd_t n = 0;

    (void)s;
    (void)revents;
    (void)!eventfd_read(fd, &n);
    srv->n_done += (unsigned)n;
    if (srv->n_done >= srv->n_workers)
        sd_event_exit(srv->event, 0);
    return 0;
}

/* --- reload --------------------------------------------------------------- */

/* SIGHUP, from kill(1), systemd 253's Type=notify-reload, or hellod
 * --reload (ExecReload=), which waits for the answer: svr-reload.c puts the
 * configuration in force in every worker before READY=1 and the answer. */
static int on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
    struct server *srv = userdata;
    uint64_t now;
    int r = -ESHUTDOWN;

    (void)s;
    if (!srv->stopping) {
        sd_event_now(srv->event, CLOCK_MONOTONIC, &now);
        /* MONOTONIC_USEC= lets systemd 253+ (Type=notify-reload) match this reload. */
        notifier_sendf(&srv->notifier, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)now);
        r = reload_run(&srv->reload, srv->workers, srv->n_workers);
        if (r >= 0)
            arm_idle_exit(srv);
        status_send(&srv->status, "READY=1\n");
    }
    r = reload_answer(si, r);
    if (r < 0)
        log_warn(&srv->log, "cannot answer the reload's sender (PID %u): %s", si->ssi_pid,
                 strerror(-r));
    return 0;
}

/* --- setting up ----------------------------------------------------------- */

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

/* The count of message lines left out ([log] messages) comes within a second
 * of the flood's end, not only with the next line. */
static int on_log_limit(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct server *srv = userdata;
    int r;

    log_limit_flush(&srv->log, usec);
    r = sd_event_source_set_time(s, usec + LOG_LIMIT_FLUSH);
    if (r >= 0)
        r = sd_event_source_set_enabled(s, SD_EVENT_ON); /* it was a one-shot */
    if (r < 0) /* the count then comes with the next line logged, as before */
        log_warn(&srv->log, "cannot set the next flush of the [log] limit: %s", strerror(-r));
    return r;
}

static int add_timers(struct server *srv)
{
    struct idle_ctx idle = {.event = srv->event,
                            .log = &srv->log,
                            .shared = &srv->shared,
                            .workers = srv->workers,
                            .listeners = &srv->listeners,
                            .stopping = &srv->stopping,
                            .exit = on_idle,
                            .userdata = srv};
    int r = idle_new(&srv->idle, &idle);

    if (r >= 0)
        r = sd_event_add_time_relative(srv->event, NULL, CLOCK_MONOTONIC, LOG_LIMIT_FLUSH, 1000,
                                       on_log_limit, srv);
    if (r >= 0)
        r = status_start(&srv->status, srv->event, srv->notify);
    return r;
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

/* Descriptors open now, or 0 if /proc cannot say. */
static unsigned fds_in_use(void)
{
    DIR *d = opendir("/proc/self/fd");
    unsigned n = 0;

    if (!d)
        return 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n > 3 ? n - 3 : 0; /* ".", ".." and the directory's own */
}

/* Each connection is a descriptor: say at start when max_connections cannot
 * be reached, rather than let the first shortage come as a surprise. */
static void check_fd_limit(const struct server *srv)
{
    struct rlimit rl;
    unsigned used = fds_in_use();
    unsigned long long room;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
        return;
    room = rl.rlim_cur > used ? rl.rlim_cur - used : 0;
    if (srv->cfg.max_connections > room && srv->listeners.conn_fd < 0)
        log_warn(&srv->log,
                 "max_connections = %u is above what the descriptor limit of %llu allows "
                 "(about %llu connections): past that, new clients wait in the backlog; raise "
                 "the limit (LimitNOFILE=) or lower max_connections",
                 srv->cfg.max_connections, (unsigned long long)rl.rlim_cur, room);
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
    srv->listeners.conn_fd = -1;
    srv->reload = (struct reload_ctx){.cfg = &srv->cfg,
                                      .log = &srv->log,
                                      .opts = opts,
                                      .listeners = &srv->listeners,
                                      .shared = &srv->shared};
    r = notifier_open(&srv->notifier);
    if (r < 0)
        log_warn(log, "cannot open the notify socket $NOTIFY_SOCKET: %s", strerror(-r));
    srv->notify = notifier_enabled(&srv->notifier);
    pthread_mutex_init(&srv->shared.lock, NULL);
    pthread_cond_init(&srv->shared.acked, NULL);
    srv->shared.listeners = &srv->listeners;
    handover_init(&srv->handover);
    srv->shared.handover = &srv->handover;
    srv->status = (struct status){
        .notifier = &srv->notifier, .workers = srv->workers, .shared = &srv->shared};
    if (sd_watchdog_enabled(0, &srv->status.watchdog_usec) <= 0)
        srv->status.watchdog_usec = 0;
    srv->shared.done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    r = srv->shared.done_fd < 0 ? -errno : sd_event_new(&srv->event);
    if (r >= 0)
        r = sd_event_add_io(srv->event, &srv->done_src, srv->shared.done_fd, EPOLLIN,
                            on_worker_done, srv);
    if (r >= 0)
        r = add_signals(srv);
    if (r >= 0)
        r = add_timers(srv);
    if (r < 0) {
        server_free(srv);
        return r;
    }
    *out = srv;
    return 0;
}

/* workers = 0: one per CPU this process may run on (taskset, CPUAffinity=). */
static unsigned worker_count(const struct config *cfg)
{
    cpu_set_t set;
    int n;

    if (cfg->workers > 0)
        return cfg->workers;
    if (sched_getaffinity(0, sizeof set, &set) < 0)
        return 1;
    n = CPU_COUNT(&set);
    return n < 1 ? 1 : n > CONFIG_WORKERS_MAX ? CONFIG_WORKERS_MAX : (unsigned)n;
}

static int start_workers(struct server *srv)
{
    int r;

    /* inetd mode: one connection, one worker. */
    srv->n_workers = srv->listeners.conn_fd >= 0 ? 1 : worker_count(&srv->cfg);
    srv->shared.n_workers = srv->n_workers;
    for (unsigned i = 0; i < srv->n_workers; i++) {
        r = worker_new(&srv->workers[i], &srv->shared, &srv->cfg, &srv->log,
                       srv->status.watchdog_usec);
        if (r < 0) {
            srv->n_workers = srv->shared.n_workers = i;
            return r;
        }
    }
    if (srv->listeners.conn_fd >= 0) {
        r = net_set_nonblock(srv->listeners.conn_fd, true);
        if (r >= 0)
            r = worker_adopt(srv->workers[0], srv->listeners.conn_fd);
        if (r < 0)
            return r;
        srv->listeners.conn_fd = -1; /* the connection owns it now */
    }
    r = adopt_stored(&srv->listeners, srv->workers, srv->n_workers, srv->cfg.max_message, &srv->log,
                     &srv->adopted);
    if (r < 0)
        log_warn(&srv->log, "cannot adopt the stored connections: %s", strerror(-r));
    for (unsigned i = 0; i < srv->n_workers; i++) {
        r = worker_start(srv->workers[i]);
        if (r < 0) {
            /* only the running ones are stopped and joined */
            srv->n_workers = srv->shared.n_workers = i;
            return r;
        }
    }
    return 0;
}

/* After READY=1: how many connections the hellod before this one handed
 * over, and how long it took from its stop signal until now. */
static void report_adopted(struct server *srv)
{
    const struct adopt_result *a = &srv->adopted;
    uint64_t now = loop_clock();
    unsigned long long ms = a->stop_usec && now > a->stop_usec ? (now - a->stop_usec) / 1000 : 0;

    if (a->adopted == 0 && a->closed == 0)
        return;
    log_msgid(&srv->log, LOG_INFO, MSGID_HANDOVER,
              "took over %u connections from the hellod before the restart in %llu ms "
              "(%u closed: no readable state)",
              a->adopted, ms, a->closed);
    notifier_sendf(&srv->notifier, "STATUS=took over %u connections in %llu ms (%u closed)",
                   a->adopted, ms, a->closed);
}

int server_run(struct server *srv, struct listeners *ls)
{
    int r;

    srv->listeners = *ls;
    *ls = (struct listeners){.conn_fd = -1};
    r = start_workers(srv);
    if (r < 0) {
        for (unsigned i = 0; i < srv->n_workers; i++)
            worker_post(srv->workers[i], MAIL_STOP, NULL);
        for (unsigned i = 0; i < srv->n_workers; i++)
            worker_join(srv->workers[i]);
        return r;
    }
    for (unsigned i = 0; i < srv->listeners.n; i++)
        log_info(&srv->log, "listening on %s%s", srv->listeners.l[i].name,
                 srv->listeners.activated ? " (from the service manager)" : "");
    r = start_metrics(srv);
    if (r < 0)
        log_err(&srv->log, "cannot serve the metrics: %s", strerror(-r));
    check_fd_limit(srv);
    log_debug(&srv->log, "%u worker thread%s", srv->n_workers, srv->n_workers == 1 ? "" : "s");
    arm_idle_exit(srv);
    status_send(&srv->status, "READY=1\n");
    report_adopted(srv);
    r = sd_event_loop(srv->event);
    for (unsigned i = 0; i < srv->n_workers; i++)
        worker_join(srv->workers[i]);
    handover_finish(&srv->handover, &srv->log);
    log_limit_flush(&srv->log, UINT64_MAX); /* every interval is over */
    log_msgid(&srv->log, LOG_INFO, MSGID_STOPPED,
              "stopped after %llu connections and %llu messages",
              (unsigned long long)status_totals(&srv->status).connections,
              (unsigned long long)status_totals(&srv->status).messages);
    return r;
}

struct server *server_free(struct server *srv)
{
    if (!srv)
        return NULL;
    metrics_free(srv->metrics);
    for (unsigned i = 0; i < srv->n_workers; i++)
        worker_free(srv->workers[i]);
    listeners_close(&srv->listeners);
    if (srv->listeners.conn_fd >= 0)
        close(srv->listeners.conn_fd);
    sd_event_source_disable_unref(srv->done_src);
    status_stop(&srv->status);
    idle_free(srv->idle);
    sd_event_unref(srv->event);
    notifier_close(&srv->notifier);
    if (srv->shared.done_fd >= 0)
        close(srv->shared.done_fd);
    pthread_cond_destroy(&srv->shared.acked);
    pthread_mutex_destroy(&srv->shared.lock);
    free(srv);
    return NULL;
}
