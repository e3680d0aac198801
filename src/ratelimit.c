/* ratelimit.c - at most burst events per interval, and the count of the rest. */
#include "config.h"

#include "ratelimit.h"

void ratelimit_init(struct ratelimit *rl, uint64_t interval, unsigned burst)
{
    *rl = (struct ratelimit){.interval = interval, .burst = burst};
}

/* An interval that is over by now ends: what it left out becomes reportable.
 * A time before begin (callers on several threads, each with a clock read a
 * moment ago) belongs to the current interval. */
static void roll(struct ratelimit *rl, uint64_t now)
{
    if (now < rl->begin || now - rl->begin < rl->interval)
        return;
    rl->begin = now;
    rl->passed = 0;
    rl->unreported += rl->missed;
    rl->missed = 0;
}

bool ratelimit_pass(struct ratelimit *rl, uint64_t now)
{
    roll(rl, now);
    if (rl->passed < rl->burst) {
        rl->passed++;
        return true;
    }
    rl->missed++;
    return false;
}

uint64_t ratelimit_left_out(struct ratelimit *rl, uint64_t now)
{
    uint64_t n;

    roll(rl, now);
    n = rl->unreported;
    rl->unreported = 0;
    return n;
}
