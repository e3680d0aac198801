/* svr-accept.h - admission, on the worker's side: taking clients off a
 * listener and deciding, before a connection opens, whether it may
 * (proxy_from, max_connections); and the one passed connection of inetd
 * mode. What passes becomes a connection of ctx (svr-conn.h). */
#ifndef HELLO_SVR_ACCEPT_H
#define HELLO_SVR_ACCEPT_H

#include "svr-conn.h"
#include "svr-slots.h"

/* accept_clients() takes at least this many clients a call, unless the queue
 * runs dry first. */
#define ACCEPT_BATCH_MIN 64

/* Accepts the pending clients of a listener, a batch at most: 0, -EAGAIN
 * when the queue is empty, or -EMFILE, -ENFILE, -ENOBUFS, -ENOMEM when out
 * of descriptors or memory (the caller pauses accepting). */
int accept_clients(struct conn_ctx *ctx, struct slots *slots, int listen_fd);

/* Serves an already connected socket (inetd mode): never refused. */
int accept_passed(struct conn_ctx *ctx, struct slots *slots, int fd);

#endif
