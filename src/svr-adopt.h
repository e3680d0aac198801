/* svr-adopt.h - the starting side of the restart handover: the connections
 * a stopping hellod left in the service manager's file descriptor store
 * (svr-handover.h) are paired with their states, read, and given to the
 * workers in turn; what cannot be read is closed, and the store emptied. */
#ifndef HELLO_SVR_ADOPT_H
#define HELLO_SVR_ADOPT_H

#include <stdint.h>

#include "log.h"
#include "svr-listen.h"
#include "svr-worker.h"

struct adopt_result {
    unsigned adopted;   /* connections served on */
    unsigned closed;    /* stored connections closed: no readable state */
    uint64_t stop_usec; /* CLOCK_MONOTONIC µs of the previous hellod's stop, 0: unknown */
};

/* Adopts the stored descriptors of ls (and takes them: ls->n_stored is 0
 * after) into workers[0..n) in turn, before the workers run; then tells the
 * service manager to forget them (FDSTOREREMOVE=1). max_message: in force
 * now. 0, or a negative errno with everything closed. */
int adopt_stored(struct listeners *ls, struct worker **workers, unsigned n, uint32_t max_message,
                 const struct logger *log, struct adopt_result *res);

#endif
