/* svr-conn.h - client connections: accepting them, reading into the shared
 * buffer, framing messages, owing and writing replies in order, half-close,
 * errors, and the idle, message and linger timeouts. */
#ifndef HELLO_SVR_CONN_H
#define HELLO_SVR_CONN_H

#include <stdint.h>

struct worker;

/* The replies a greeting makes: one block of as many reply lines as fit in
 * 64 KiB, so that any number of owed replies goes out in one write, from
 * memory shared by every connection. Reference-counted, because connections
 * finish the replies they owe in the greeting they began with. */
struct reply;
int reply_new(struct reply **out, const char *greeting);
void reply_unref(struct reply *r);

/* Accepts every pending client of a listener. -EMFILE or -ENFILE when out of
 * descriptors (the caller pauses accepting), else 0. */
int conn_accept(struct worker *w, int listen_fd);

/* Serves an already connected socket (inetd mode). */
int conn_adopt(struct worker *w, int fd);

/* Runs the timeouts due at now; returns the next deadline, or UINT64_MAX. */
uint64_t conn_expire(struct worker *w, uint64_t now);

/* Stopping: read what each client already sent, answer it, then close. */
void conn_drain_all(struct worker *w);

/* Closes every connection at once. */
void conn_close_all(struct worker *w);

#endif
