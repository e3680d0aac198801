/* hellod.c - the daemon's main(): the table of contents of the program. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "log.h"
#include "svr-config.h"
#include "svr-listen.h"
#include "svr-msgid.h"
#include "svr-options.h"
#include "svr-reload-cmd.h"
#include "svr-server.h"

/* [log] messages = yes: at most this many message lines a second, from all
 * workers together. journald's default rate limit for a service is 10,000
 * lines in 30 s (more with free disk space): a flood at this bound takes
 * 3,000 of them, and hellod's own lines always find room. */
#define MESSAGE_LINES_PER_SEC 100
/* The same for the lines about clients refused or closed for what they sent
 * (busy, proxy_from, a bad PROXY header, a message too long), which a client
 * can cause once per connection: with the message lines, at most 6,000 lines
 * in 30 s. */
#define CLIENT_ERROR_LINES_PER_SEC 100

static int config_failed(const struct logger *log, const struct config_error *err)
{
    char msg[1024];

    config_error_format(err, msg, sizeof msg);
    log_msgid(log, LOG_ERR, MSGID_CONFIG_ERROR, "%s", msg);
    return EXIT_CONFIG;
}

static int listen_failed(const struct logger *log, const struct listen_error *err, int r)
{
    log_msgid(log, LOG_ERR, MSGID_LISTEN_FAILED, "cannot listen on %s: %s", err->addr,
              err->what ? err->what : strerror(-r));
    return EXIT_RUNTIME;
}

int main(int argc, char **argv)
{
    struct logger log;
    struct log_limit message_lines, client_errors;
    struct svr_options opts;
    struct config cfg;
    struct config_error cerr;
    struct listeners ls;
    struct listen_error lerr;
    struct server *srv;
    char usage_error[256];
    int r;

    log_open(&log, "hellod", LOG_INFO);
    log_limit_init(&message_lines, "message lines", 1000000, MESSAGE_LINES_PER_SEC);
    log_limit_init(&client_errors, "client error lines", 1000000, CLIENT_ERROR_LINES_PER_SEC);
    log.limits[LOG_BOUND_MESSAGES] = &message_lines;
    log.limits[LOG_BOUND_CLIENT_ERRORS] = &client_errors;

    if (svr_options_parse(&opts, argc, argv, usage_error, sizeof usage_error) < 0) {
        log_err(&log, "%s (try 'hellod --help')", usage_error);
        return EXIT_USAGE;
    }
    if (opts.action == SVR_HELP) {
        svr_usage(stdout);
        return EXIT_OK;
    }
    if (opts.action == SVR_VERSION) {
        svr_version(stdout);
        return EXIT_OK;
    }
    if (opts.action == SVR_RELOAD)
        return reload_command(&opts, &log);

    if (svr_options_load_config(&opts, &cfg, &cerr) < 0)
        return config_failed(&log, &cerr);
    if (opts.action == SVR_CHECK_CONFIG) {
        config_print(&cfg, stdout);
        return EXIT_OK;
    }
    log.max_level = cfg.log_level;
    log_msgid(&log, LOG_INFO, MSGID_STARTED, "hellod %s starting", PACKAGE_VERSION);

    r = listeners_open(&ls, &cfg, &lerr);
    if (r < 0)
        return listen_failed(&log, &lerr, r);
    if (ls.config_ignored)
        log_notice(&log,
                   "listen = ... ignored: serving the %u sockets passed by the service manager",
                   ls.n);

    r = server_new(&srv, &cfg, &opts, &log);
    if (r < 0) {
        log_err(&log, "cannot set up the event loop: %s", strerror(-r));
        listeners_close(&ls);
        return EXIT_RUNTIME;
    }
    r = server_run(srv, &ls);
    server_free(srv);
    if (r < 0) {
        log_err(&log, "stopped on an error: %s", strerror(-r));
        return EXIT_RUNTIME;
    }
    return EXIT_OK;
}
