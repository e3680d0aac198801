/* ratelimit.h - a bound on how often something may happen: at most burst
 * events in each interval, counting the ones left out so that the caller can
 * say how many. Pure: the clock is passed in, nothing is locked or logged. */
#ifndef HELLO_RATELIMIT_H
#define HELLO_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit {
    uint64_t interval;   /* µs; an interval begins with the first event after the last one ended */
    unsigned burst;      /* events passed per interval */
    uint64_t begin;      /* when the current interval began */
    unsigned passed;     /* events passed in it */
    uint64_t missed;     /* events left out in it */
    uint64_t unreported; /* events left out in intervals that are over, not yet taken */
};

void ratelimit_init(struct ratelimit *rl, uint64_t interval, unsigned burst);

/* An event at now: true if it may pass, false if it is left out (and counted). */
bool ratelimit_pass(struct ratelimit *rl, uint64_t now);

/* The events left out in intervals that are over by now; each is returned
 * once, so that the caller reports it once. */
uint64_t ratelimit_left_out(struct ratelimit *rl, uint64_t now);

#endif
