/* svr-slots.h - the connection slots every worker draws from: max_connections
 * counted across threads. The server owns one; each worker is given it and
 * takes a slot before a connection opens, and gives it back when it closes. */
#ifndef HELLO_SVR_SLOTS_H
#define HELLO_SVR_SLOTS_H

#include <stdatomic.h>
#include <stdbool.h>

struct slots {
    _Atomic unsigned used;
};

/* True if one more connection may open under max. */
static inline bool slots_take(struct slots *s, unsigned max)
{
    if (atomic_fetch_add_explicit(&s->used, 1, memory_order_relaxed) < max)
        return true;
    atomic_fetch_sub_explicit(&s->used, 1, memory_order_relaxed);
    return false;
}

static inline void slots_give(struct slots *s)
{
    atomic_fetch_sub_explicit(&s->used, 1, memory_order_relaxed);
}

static inline unsigned slots_used(const struct slots *s)
{
    return atomic_load_explicit(&s->used, memory_order_relaxed);
}

#endif
