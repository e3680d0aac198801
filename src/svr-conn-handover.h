/* svr-conn-handover.h - the connection module's side of the restart
 * handover: a connection written down as a struct handover_state for the
 * next hellod, and a connection made again from one. */
#ifndef HELLO_SVR_CONN_HANDOVER_H
#define HELLO_SVR_CONN_HANDOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handover-state.h"
#include "svr-conn.h"

struct conn;

/* Reply blocks made while adopting, for greetings other than the one in
 * force, shared by the connections that owe replies in them (a block is 64
 * KiB: one per connection would not do). The caller drops them with
 * reply_set_done() once every connection is made: the connections hold their
 * own references. */
#define REPLY_SET_MAX 16
struct reply_set {
    struct reply *r[REPLY_SET_MAX];
    unsigned n;
};
void reply_set_done(struct reply_set *rs);

/* Up to max of ctx's connections (open, stopping or lingering), for a
 * handover that may close some of them as it goes. Returns how many. */
size_t conn_list(struct conn_ctx *ctx, struct conn **out, size_t max);

/* Reads what the client sent that is there now and writes what is owed
 * that the socket takes now; never waits. false: the connection ended. */
bool conn_handover_settle(struct conn *c);

/* The connection's socket. */
int conn_socket(const struct conn *c);

/* Writes c down in s (which points into c's memory: encode it before c
 * changes). now: CLOCK_MONOTONIC µs, for the deadlines. 0, or -E2BIG when
 * it owes replies in more greetings than the format holds, or -errno. */
int conn_save(const struct conn *c, struct handover_state *s, uint64_t now);

/* The connection is handed over: freed, and its socket closed, never shut
 * down (the service manager holds it now). */
void conn_release(struct conn *c);

/* Serves fd, a connected non-blocking socket another hellod served, from
 * the state s it left. too_long: s's unfinished message is over
 * max_message now (handover_decode()'s -EMSGSIZE): it owes its replies and
 * the error line. On error (-ENOMEM) fd is still the caller's; 0 also when
 * the connection ended at once (it was dead). */
int conn_restore(struct conn_ctx *ctx, int fd, const struct handover_state *s, bool too_long,
                 struct reply_set *rs);

#endif
