/* svr-handover.h - the stopping side of the restart handover: at a stop
 * under a service manager with a file descriptor store, each worker hands
 * its open connections, with their states (docs/handover-format.md), to the
 * store in the queue of one socket (svr-carrier.h) instead of closing them;
 * the next hellod adopts them (svr-adopt.h). The store's size is counted here, since
 * the service manager drops what passes it without a word. */
#ifndef HELLO_SVR_HANDOVER_H
#define HELLO_SVR_HANDOVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "log.h"
#include "svr-conn.h"
#include "svr-listen.h" /* the names stored descriptors carry */

/* Shared by the workers of one server: set up by it, read by all. */
struct handover {
    bool enabled;             /* $NOTIFY_SOCKET and a store of 2 or more */
    bool managed;             /* $NOTIFY_SOCKET: a service manager to store in */
    long fdstore;             /* $FDSTORE; -1: unset or not a number */
    _Atomic long slots;       /* store slots left: a connection takes two */
    _Atomic unsigned given;   /* connections handed over */
    _Atomic unsigned carried; /* of them, in the carrier's queue (svr-carrier.h) */
    int carrier[2];           /* the carrier: [0] stored at the end, [1] written; -1: none */
    uint64_t stop_usec;       /* CLOCK_MONOTONIC µs of the stop signal (main thread) */
};

/* Reads $NOTIFY_SOCKET and $FDSTORE (the store's size, FileDescriptorStoreMax=;
 * systemd 254 and later set it, hellod.service sets it for older ones). */
void handover_init(struct handover *h);

/* Sizes the handover for a store of n descriptors (at a stop, the one
 * systemd has: svr-storesize.h): the carrier and the stop's time take two,
 * so under 2 nothing is handed over. Opens the carrier if need be. */
void handover_set_store(struct handover *h, long n);

/* At a stop, in a worker: hands over ctx's connections while the store has
 * room; those left stay in ctx, for the usual stop. Returns how many went. */
unsigned handover_give(struct handover *h, struct conn_ctx *ctx, const struct logger *log,
                       uint64_t now);

/* In the main thread once every worker has ended: the stop's time for the
 * next hellod, then a barrier, so that the service manager has taken every
 * descriptor before this process exits. 0 or a negative errno. */
int handover_finish(struct handover *h, const struct logger *log);

#endif
