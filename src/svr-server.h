/* svr-server.h - the server: the main thread's side. It owns the listeners,
 * the configuration in force and the workers; it handles the signals (stop,
 * reload), tells the service manager how things stand (READY=, STATUS=,
 * STOPPING=, WATCHDOG=), and ends an idle socket-activated server. */
#ifndef HELLO_SVR_SERVER_H
#define HELLO_SVR_SERVER_H

#include "log.h"
#include "notify.h"
#include "svr-config.h"
#include "svr-listen.h"
#include "svr-options.h"

struct server;

/* Sets up the main loop (signals, notify, watchdog) around a loaded config;
 * opts must outlive the server (a reload reads the config through them). */
int server_new(struct server **out, const struct config *cfg, const struct svr_options *opts,
               const struct logger *log);

/* Serves the sockets in ls (taking them over) with cfg.workers threads,
 * until a signal stops it. Returns 0 after a clean stop, or a negative errno. */
int server_run(struct server *srv, struct listeners *ls);

struct server *server_free(struct server *srv);

#endif
