/* svr-listen.h - where hellod's sockets come from: the ones the service
 * manager passes (socket activation: checked, made non-blocking, named), or,
 * when none are passed, our own bind on every configured address. */
#ifndef HELLO_SVR_LISTEN_H
#define HELLO_SVR_LISTEN_H

#include <stdbool.h>

#include "net.h"
#include "svr-config.h"

#define LISTENERS_MAX   64
#define LISTEN_SPEC_MAX (ADDR_STRLEN + ADDR_HOST_MAX)

/* The names (FDNAME=) of what a stopping hellod left in the service
 * manager's file descriptor store for the next one (svr-handover.h): passed
 * back with the listeners, and put aside for the adoption (svr-adopt.h). */
#define HANDOVER_NAME_CONN  "hellod-conn"
#define HANDOVER_NAME_STATE "hellod-state"
#define HANDOVER_NAME_META  "hellod-handover"
/* The carrier (svr-carrier.h), a seqpacket socket whose queue holds states
 * and sockets, goes by the connections' name: see svr-carrier.c. */
#define HANDOVER_NAME_CARRIER HANDOVER_NAME_CONN

/* STORED_BLOB: a memfd of states one after the other, out of a carrier. */
enum stored_kind { STORED_CONN, STORED_STATE, STORED_META, STORED_CARRIER, STORED_BLOB };

struct stored_fd {
    int fd;
    enum stored_kind kind;
};

struct listeners {
    struct net_listener l[LISTENERS_MAX];
    char spec[LISTENERS_MAX][LISTEN_SPEC_MAX]; /* the listen entry each was bound for */
    unsigned n;
    struct net_listener metrics[CONFIG_LISTEN_MAX]; /* GET /metrics, if any */
    unsigned n_metrics;
    bool activated;           /* passed by the service manager, not bound by us */
    bool config_ignored;      /* the configured addresses differ from the passed ones */
    int conn_fd;              /* >= 0: one passed connected socket (Accept=yes, inetd style) */
    struct stored_fd *stored; /* passed back from the store (malloc'd), until adopted */
    unsigned n_stored;
};

/* Why listeners_open() failed, for the caller to say. */
struct listen_error {
    char addr[ADDR_STRLEN + ADDR_HOST_MAX]; /* the address, or "fd N" */
    const char *what;                       /* NULL, or a reason other than the errno */
};

/* Takes the passed sockets (sd_listen_fds_with_names(), which also unsets
 * LISTEN_* and sets close-on-exec; the one named "metrics" is the metrics
 * endpoint's), or binds cfg's addresses; then [metrics] listen, unless a
 * metrics socket was passed. 0, or a negative errno with err filled in;
 * nothing stays open on failure. */
int listeners_open(struct listeners *ls, const struct config *cfg, struct listen_error *err);

/* A reload without socket activation: binds the entries next adds and
 * keeps the rest open, with next's backlog in force on all; the ones it
 * drops move to *dropped, for the caller to close once no worker watches
 * them. All or nothing: on failure ls is as it
 * was and *dropped empty. */
int listeners_update(struct listeners *ls, const struct config *next, struct listeners *dropped,
                     struct listen_error *err);

/* Do two lists ask for the same addresses? */
bool addr_list_equal(const struct addr_list *a, const struct addr_list *b);

/* Closes everything, the stored descriptors not adopted included. */
void listeners_close(struct listeners *ls);
/* Closes and forgets the stored descriptors still held. */
void listeners_drop_stored(struct listeners *ls);
/* Closes the hello protocol's listeners only (at a stop). */
void listeners_close_hello(struct listeners *ls);

#endif
