/* svr-workers.h - the main thread's side of the pool of workers: post the
 * same mail to each and wait for every ack (worker_shared's counters and
 * condvar), within a bound. Used by a reload and by the idle exit. */
#ifndef HELLO_SVR_WORKERS_H
#define HELLO_SVR_WORKERS_H

#include <stdbool.h>

#include "svr-config.h"
#include "svr-worker.h"

/* Posts mail (MAIL_LISTENERS or MAIL_HOLD: the ones acked in sh->acks) to
 * each of the n workers, and waits wait_sec at most for every one to ack
 * it: true if all did. */
bool workers_post_all(struct worker_shared *sh, struct worker *const *workers, unsigned n,
                      unsigned mail, unsigned wait_sec);

/* Posts cfg (MAIL_CONFIG) to each of the n workers, and waits wait_sec at
 * most for every one to put it in force: 0, the first worker's -errno, or
 * -ETIMEDOUT; *acked says how many did. */
int workers_post_config(struct worker_shared *sh, struct worker *const *workers, unsigned n,
                        const struct config *cfg, unsigned wait_sec, unsigned *acked);

#endif
