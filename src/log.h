/* log.h - where messages go: to the journal with structured fields when stderr
 * is connected to it, else to stderr as lines (with sd-daemon's "<N>" priority
 * prefixes when stderr is not a terminal). Owns the logger and its level. */
#ifndef HELLO_LOG_H
#define HELLO_LOG_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

#include "ratelimit.h"

enum log_sink {
    LOG_SINK_TERMINAL, /* "hellod: warning: text", for people */
    LOG_SINK_PREFIXED, /* "<4>text", for any service manager's log */
    LOG_SINK_JOURNAL,  /* sd_journal_sendv() with fields of our own */
};

/* A bound on lines a client can cause at will (one per message it sends, one
 * per connection it opens), shared by every copy of a logger, so by every
 * thread: past it, lines are left out and one line says how many. The
 * journal's own rate limit is per service: without this, one client's flood
 * would use it up and hide the service's own lines. */
struct log_limit {
    pthread_mutex_t lock;
    struct ratelimit rl;
    const char *what; /* what is counted, e.g. "message lines" */
};

/* The kinds of lines a client can cause, each under a bound of its own, so
 * that a flood of one kind does not hide the lines of the other. */
enum log_bound {
    LOG_BOUND_MESSAGES,      /* "message from" lines, with [log] messages = yes */
    LOG_BOUND_CLIENT_ERRORS, /* a client refused, or closed for what it sent */
    LOG_BOUNDS,
};

struct logger {
    const char *ident; /* SYSLOG_IDENTIFIER= and the terminal prefix */
    enum log_sink sink;
    int max_level; /* LOG_ERR .. LOG_DEBUG: anything less urgent is dropped */
    struct log_limit *limits[LOG_BOUNDS]; /* for log_peer_limited(); NULL: no bound */
};

/* Extra journal fields of one message; either may be NULL. */
struct log_fields {
    const char *peer;       /* HELLOD_PEER=: the client's address */
    const char *message_id; /* MESSAGE_ID=: 32 hex digits, see hellod.catalog */
};

/* Picks the sink from stderr: the journal when $JOURNAL_STREAM names stderr's
 * device and inode (as systemd's own tools check), else terminal or prefixed. */
void log_open(struct logger *log, const char *ident, int max_level);

void log_fields(const struct logger *log, int prio, const struct log_fields *f, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));

/* The level is tested before anything is formatted, so a debug line costs
 * nothing when debug is off. */
#define log_at(log, prio, f, ...)                                                                  \
    do {                                                                                           \
        if ((prio) <= (log)->max_level)                                                            \
            log_fields((log), (prio), (f), __VA_ARGS__);                                           \
    } while (0)

#define log_err(log, ...)    log_at(log, LOG_ERR, NULL, __VA_ARGS__)
#define log_warn(log, ...)   log_at(log, LOG_WARNING, NULL, __VA_ARGS__)
#define log_notice(log, ...) log_at(log, LOG_NOTICE, NULL, __VA_ARGS__)
#define log_info(log, ...)   log_at(log, LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(log, ...)  log_at(log, LOG_DEBUG, NULL, __VA_ARGS__)

/* An event about one client: the peer goes in a field of its own too. */
#define log_peer(log, prio, peer_str, ...)                                                         \
    log_at(log, prio, (&(const struct log_fields){.peer = (peer_str)}), __VA_ARGS__)

void log_limit_init(struct log_limit *l, const char *what, uint64_t interval, unsigned burst);

/* May a line of that kind go out at now (CLOCK_MONOTONIC µs)? When an
 * interval that left lines out is over, says first how many. */
bool log_limit_pass(const struct logger *log, enum log_bound bound, uint64_t now);

/* Says how many bounded lines of each kind were left out in the intervals
 * over by now: for a timer, so that the count comes also when the flood ends. */
void log_limit_flush(const struct logger *log, uint64_t now);

/* log_peer() under log->limits[bound]: for lines a client can make hellod
 * write. Nothing is formatted, nor counted, at a level that is off. */
#define log_peer_limited(log, bound, now, prio, peer_str, ...)                                     \
    do {                                                                                           \
        if ((prio) <= (log)->max_level && log_limit_pass((log), (bound), (now)))                   \
            log_fields((log), (prio), (&(const struct log_fields){.peer = (peer_str)}),            \
                       __VA_ARGS__);                                                               \
    } while (0)

#endif
