/* svr-accept-util.h - taking clients off a listening socket, for each kind of
 * listener hellod has (the hello workers' and the metrics endpoint's): the
 * accept batch and which errors end it, the pause after running out of
 * descriptors, and a client's name in a log line. Plumbing below both: it
 * knows no worker, server or endpoint, and no event loop; what becomes of a
 * client is the caller's callback, and the clock is the caller's. */
#ifndef HELLO_SVR_ACCEPT_UTIL_H
#define HELLO_SVR_ACCEPT_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "log.h"

/* Out of descriptors, accepting waits this long for some to come free (or
 * for a close): the listener stays readable, so accepting again at once
 * would spin. */
#define ACCEPT_PAUSE_USEC (100 * 1000ULL)
/* A pause is said at most this often, not once per pause. */
#define ACCEPT_PAUSE_LOG_EVERY (10 * 1000000ULL)

/* Takes one accepted client: fd (non-blocking, close-on-exec) is the
 * callee's from then on; the first peer_len bytes at peer are its address. */
typedef void (*accept_client_fn)(int fd, const struct sockaddr *peer, socklen_t peer_len,
                                 void *userdata);

/* Accepts up to max clients of listen_fd, handing each to take. A client
 * that failed before it was taken (ECONNABORTED, EPROTO, the network errors
 * accept(2) passes on) is skipped, and counts in the batch. Returns 0 when
 * max were tried (more may wait), -EAGAIN when none is left waiting, or
 * -EMFILE, -ENFILE, -ENOBUFS or -ENOMEM when out of descriptors or memory:
 * the caller pauses accepting. Inline, so that each caller's take is inlined
 * into its loop: accepting costs what a loop of the caller's own did
 * (bench/compare's instructions per connection in C). */
static inline int accept_batch(int listen_fd, unsigned max, accept_client_fn take, void *userdata)
{
    for (unsigned i = 0; i < max; i++) {
        struct sockaddr_storage peer; /* accept4() fills len bytes, all take reads */
        socklen_t len = sizeof peer;
        int fd = accept4(listen_fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd >= 0) {
            take(fd, (const struct sockaddr *)&peer, len, userdata);
            continue;
        }
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM ||
            errno == EAGAIN)
            return -errno;
        /* ECONNABORTED and the like: that client gave up; EINTR: again */
    }
    return 0;
}

/* Whether accepting is paused, until when, and when that was last said. */
struct accept_pause {
    bool paused;
    uint64_t until;  /* UINT64_MAX while not paused */
    uint64_t logged; /* 0: never said */
};

#define ACCEPT_PAUSE_INIT ((struct accept_pause){.until = UINT64_MAX})

/* Begins a pause at now (µs, the caller's monotonic clock) lasting
 * ACCEPT_PAUSE_USEC. Returns true when it is to be said: the first time, or
 * ACCEPT_PAUSE_LOG_EVERY after it last was. */
bool accept_pause_begin(struct accept_pause *p, uint64_t now);

/* Ends it: accepting again. */
void accept_pause_end(struct accept_pause *p);

/* Logs "PREFIXPEER: what" about one client at prio, with the peer in a
 * field of its own; nothing is formatted when prio is off. */
void accept_log_client(const struct logger *log, int prio, const char *prefix,
                       const struct sockaddr *peer, socklen_t peer_len, const char *what);

#endif
