/* svr-storesize.h - the size of the service manager's descriptor store at a
 * stop, as hellod.service's ExecStop= asked systemd for it: it wins over
 * $FDSTORE, which the unit's Environment= may hold at a stale value. */
#ifndef HELLO_SVR_STORESIZE_H
#define HELLO_SVR_STORESIZE_H

#include <stddef.h>

#include "log.h"
#include "svr-handover.h"

/* In $RUNTIME_DIRECTORY: what `systemctl show -p FileDescriptorStoreMax`
 * printed in ExecStop=. */
#define STORE_SIZE_FILE "fdstore-max"

/* The largest size taken: far above what systemd allows (a store is bounded
 * by the service's descriptor limit). */
#define STORE_SIZE_MAX (1L << 30)

/* Parses len bytes of text: "FileDescriptorStoreMax=N", one line (its
 * newline optional), N a decimal <= STORE_SIZE_MAX. 0 with *n set, else
 * -EINVAL (not that line) or -ERANGE (too large); *n is then untouched. */
int store_size_parse(const char *text, size_t len, long *n);

/* Reads and removes $RUNTIME_DIRECTORY/STORE_SIZE_FILE (read once: a later
 * SIGTERM by hand finds none). 0 with *n set, -ENOENT when there is none
 * (no ExecStop= ran), or another -errno (then *n is untouched). */
int store_size_read(long *n);

/* At SIGTERM, in the main thread, before the workers are told to stop: the
 * store's size from ExecStop=, when there is one, sizes the handover instead
 * of $FDSTORE (0 or 1: no handover, the stop of a store-less hellod); logs
 * one line when that differs from $FDSTORE, or when the file is unreadable
 * (then $FDSTORE stays in force). */
void store_size_at_stop(struct handover *h, const struct logger *log);

#endif
