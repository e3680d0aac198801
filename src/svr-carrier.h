/* svr-carrier.h - the carrier of a restart handover: one AF_UNIX datagram
 * socket whose receive queue holds every handed-over descriptor (SCM_RIGHTS),
 * so that the service manager's store holds it alone, not two descriptors
 * per connection (docs/handover-format.md says why: systemd's cost). */
#ifndef HELLO_SVR_CARRIER_H
#define HELLO_SVR_CARRIER_H

#include <stddef.h>

#include "svr-listen.h"

/* SCM_RIGHTS carries at most 253 descriptors in one message (SCM_MAX_FD). */
#define CARRIER_BATCH 253

/* A connected pair: [0] is stored, [1] is written to. 0 or -errno. */
int carrier_open(int pair[2]);

/* Queues n (<= CARRIER_BATCH) descriptors in one message on the writing end,
 * without blocking; the queue holds them (the caller may close its own).
 * 0 or -errno (-EAGAIN: the queue is full). */
int carrier_send(int fd, const int *fds, unsigned n);

/* Receives every descriptor queued on the stored end and appends it to
 * *list (grown with realloc; *n entries, *cap room): sockets as
 * STORED_CONN, anything else as STORED_BLOB. 0, or -errno with what was
 * received so far appended (-EMSGSIZE: descriptors were cut off). */
int carrier_drain(int fd, struct stored_fd **list, size_t *n, size_t *cap);

#endif
