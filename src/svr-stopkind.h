/* svr-stopkind.h - at SIGTERM, what the service manager is doing: stopping
 * hellod (it will empty the descriptor store) or restarting it (it keeps the
 * store for the next hellod). A signal cannot say; the unit's job can, over
 * the system bus. */
#ifndef HELLO_SVR_STOPKIND_H
#define HELLO_SVR_STOPKIND_H

#include <stddef.h>

enum stop_kind {
    STOP_UNKNOWN = 0, /* no bus, no unit, no answer */
    STOP_STOP,        /* a stop job, or none: the store is emptied */
    STOP_RESTART,     /* a restart job: the store is kept */
};

/* Asks systemd for the job of the unit this process runs in (1 s at most).
 * what[0..size) gets the job type, or why it is unknown, for the log. */
enum stop_kind stop_kind_query(char *what, size_t size);

#endif
