/* svr-reload.h - a reload in the daemon: the configuration read again and
 * put in force in the listeners and in every worker, or the running one
 * kept whole. Owns what a reload changes and the wait for the workers' acks;
 * the signal, RELOADING=1/READY=1 and the answer stay with the server. */
#ifndef HELLO_SVR_RELOAD_H
#define HELLO_SVR_RELOAD_H

#include <stdbool.h>

#include "log.h"
#include "svr-config.h"
#include "svr-listen.h"
#include "svr-options.h"
#include "svr-worker.h"

/* What a reload reads and changes: the server's own, pointed to. */
struct reload_ctx {
    struct config *cfg;             /* the configuration in force */
    struct logger *log;             /* the main thread's: its level follows cfg */
    const struct svr_options *opts; /* where the configuration is read from */
    struct listeners *listeners;    /* changed under shared->lock */
    struct worker_shared *shared;   /* the lock, and the workers' acks */
    bool listen_change_logged;      /* "listen ... ignored" is said once */
};

/* Reads the configuration again and puts it in force. 0 once each of the
 * n workers has said it is in force there (then "reloaded" is logged);
 * else -errno, with what failed logged (a broken file by FILE:LINE), and
 * the running configuration kept (all of it when the file or the
 * listeners failed; a worker that failed or did not answer in time keeps
 * its own). */
int reload_run(struct reload_ctx *c, struct worker *const *workers, unsigned n);

#endif
