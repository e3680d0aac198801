/* loop.c - the workers' epoll loop. */
#include "config.h"

#include "loop.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

uint64_t loop_clock(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts); /* the vDSO: no system call */
    return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

int loop_init(struct loop *l)
{
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->now = loop_clock();
    return l->epfd < 0 ? -errno : 0;
}

void loop_done(struct loop *l)
{
    if (l->epfd >= 0)
        close(l->epfd);
    l->epfd = -1;
}

int loop_add(struct loop *l, struct watch *w, int fd, uint32_t events, watch_fn fn)
{
    struct epoll_event ev = {.events = events, .data.ptr = w};

    w->fn = fn;
    w->fd = fd;
    w->events = events & ~(uint32_t)EPOLLEXCLUSIVE;
    return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int loop_rearm(struct loop *l, struct watch *w, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = w};

    w->events = events;
    return epoll_ctl(l->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0 ? -errno : 0;
}

int loop_set_events(struct loop *l, struct watch *w, uint32_t events)
{
    return events == w->events ? 0 : loop_rearm(l, w, events);
}

void loop_remove(struct loop *l, struct watch *w)
{
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

int loop_run_once(struct loop *l, int timeout_ms)
{
    struct epoll_event ev[LOOP_BATCH];
    int n = epoll_wait(l->epfd, ev, LOOP_BATCH, timeout_ms);

    l->now = loop_clock();
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < n; i++) {
        struct watch *w = ev[i].data.ptr;
        w->fn(w, ev[i].events);
    }
    return n;
}
