/* svr-reload-cmd.c - hellod --reload=PID. */
#include "config.h"

#include "svr-reload-cmd.h"

#include <errno.h>
#include <string.h>

#include "reload-request.h"

int reload_command(const struct svr_options *o, const struct logger *journal_log)
{
    struct logger l = *journal_log, *log = &l;
    struct config cfg;
    struct config_error err;
    char msg[1024];
    int answer = 0;
    int r;

    /* Lines go to standard error even when it is the journal: journald
     * files a native message by the sender's cgroup, read from /proc when
     * it gets to the message, and this process may be gone by then (the
     * line would lose its _SYSTEMD_UNIT=, and `systemctl status` would not
     * show it); a stream from ExecReload= carries its unit with it. */
    if (l.sink == LOG_SINK_JOURNAL)
        l.sink = LOG_SINK_PREFIXED;
    /* A broken file is refused here, before the daemon is disturbed: the
     * error (FILE:LINE) goes to the journal from ExecReload=, so `systemctl
     * status` shows it, and `systemctl reload` fails. */
    if (svr_options_load_config(o, &cfg, &err) < 0) {
        config_error_format(&err, msg, sizeof msg);
        log_err(log, "reload refused, hellod (PID %d) keeps the running configuration: %s",
                (int)o->reload_pid, msg);
        return EXIT_CONFIG;
    }
    r = reload_request(o->reload_pid, RELOAD_WAIT_USEC, &answer);
    switch (r) {
    case 0:
        break;
    case -ESRCH:
    case -EPERM:
        log_err(log, "cannot signal PID %d: %s", (int)o->reload_pid, strerror(-r));
        return EXIT_USAGE;
    case -ECHILD:
        log_err(log, "hellod (PID %d) ended before it had reloaded", (int)o->reload_pid);
        return EXIT_RUNTIME;
    case -ETIMEDOUT:
        log_err(log, "hellod (PID %d) did not answer the reload within %llu s", (int)o->reload_pid,
                (unsigned long long)(RELOAD_WAIT_USEC / 1000000));
        return EXIT_RUNTIME;
    default:
        log_err(log, "cannot ask PID %d to reload: %s", (int)o->reload_pid, strerror(-r));
        return EXIT_RUNTIME;
    }
    if (answer < 0) {
        log_err(log, "hellod (PID %d) did not reload: %s; its log says more", (int)o->reload_pid,
                strerror(-answer));
        return EXIT_RUNTIME;
    }
    log_info(log, "hellod (PID %d) reloaded %s", (int)o->reload_pid, o->config_path);
    return EXIT_OK;
}
