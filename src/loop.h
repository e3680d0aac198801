/* loop.h - the workers' event loop: one epoll set, and one wakeup that
 * handles every ready descriptor. sd-event serves the main thread; a worker
 * uses this instead, because sd-event dispatches one source per iteration and
 * polls again in between, which costs an extra epoll_wait per reply and grows
 * with the square of the ready connections (measured: docs/event-loop.md). */
#ifndef HELLO_LOOP_H
#define HELLO_LOOP_H

#include <stdint.h>
#include <sys/epoll.h>

struct watch;
typedef void (*watch_fn)(struct watch *w, uint32_t events);

/* What the loop watches; embedded in the owner (a connection, a listener),
 * which the callback finds again with container_of-style arithmetic. */
struct watch {
    watch_fn fn;
    int fd;
    uint32_t events; /* the epoll events asked for */
};

#define LOOP_BATCH 256 /* ready descriptors handled per wakeup */

struct loop {
    int epfd;
    uint64_t now; /* CLOCK_MONOTONIC µs, read once per wakeup */
};

int loop_init(struct loop *l);
void loop_done(struct loop *l);

/* Watches fd for events (flags such as EPOLLEXCLUSIVE may be added). */
int loop_add(struct loop *l, struct watch *w, int fd, uint32_t events, watch_fn fn);
/* Changes the events; no system call when they are the same. */
int loop_set_events(struct loop *l, struct watch *w, uint32_t events);
/* Sets the events even when they are the same: the kernel looks at the
 * descriptor again, so that an edge-triggered watch (EPOLLET) whose level is
 * still there (bytes left unread, room left unused) is reported anew. */
int loop_rearm(struct loop *l, struct watch *w, uint32_t events);
/* Stops watching; closing the descriptor does the same for free. */
void loop_remove(struct loop *l, struct watch *w);

/* Waits up to timeout_ms (-1: no limit) and calls back every ready watch.
 * Returns how many there were, or a negative errno (never -EINTR). */
int loop_run_once(struct loop *l, int timeout_ms);

uint64_t loop_clock(void);

#endif
