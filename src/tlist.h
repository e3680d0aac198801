/* tlist.h - timeout lists: members ordered by the time they were last
 * touched. Every member of a list shares one timeout (idle, message, linger),
 * so touching a member moves it to the tail in O(1) and the head is always the
 * next to expire: one timer per list serves any number of connections. */
#ifndef HELLO_TLIST_H
#define HELLO_TLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tnode {
    struct tnode *prev, *next; /* NULL while not in a list */
    uint64_t since;            /* when it was last touched, in µs */
};

struct tlist {
    struct tnode head; /* sentinel: head.next is the oldest member */
};

static inline void tlist_init(struct tlist *l)
{
    l->head.prev = l->head.next = &l->head;
}

static inline bool tlist_empty(const struct tlist *l)
{
    return l->head.next == &l->head;
}

static inline bool tnode_linked(const struct tnode *n)
{
    return n->next != NULL;
}

static inline void tnode_unlink(struct tnode *n)
{
    if (!tnode_linked(n))
        return;
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = NULL;
}

/* (Re)inserts n at the tail, as touched at now. */
static inline void tlist_touch(struct tlist *l, struct tnode *n, uint64_t now)
{
    tnode_unlink(n);
    n->since = now;
    n->prev = l->head.prev;
    n->next = &l->head;
    l->head.prev->next = n;
    l->head.prev = n;
}

/* Inserts n, which is in no list, in the order of since, searching from the
 * tail: for a list whose members each have their own deadline, kept in since
 * (its head is then the first to come). O(1) while deadlines come in order;
 * only after a reload that shortened the timeout do they not, for as long as
 * members of the longer one are left. */
static inline void tlist_insert_by(struct tlist *l, struct tnode *n, uint64_t since)
{
    struct tnode *after = l->head.prev;

    while (after != &l->head && after->since > since)
        after = after->prev;
    n->since = since;
    n->prev = after;
    n->next = after->next;
    after->next->prev = n;
    after->next = n;
}

/* Inserts n, which is in no list, into a list whose members time out after
 * timeout (0: never), as a member with left µs of it still to go: as if
 * touched timeout - left before now. left >= timeout (UINT64_MAX for
 * "unknown" included) is the whole timeout, as tlist_touch at now. Never
 * before the clock's 0: there it gets more time, never less. Returns its
 * deadline, or UINT64_MAX for none. */
static inline uint64_t tlist_resume(struct tlist *l, struct tnode *n, uint64_t now,
                                    uint64_t timeout, uint64_t left)
{
    uint64_t used = left < timeout ? timeout - left : 0;

    tlist_insert_by(l, n, used < now ? now - used : 0);
    return timeout ? n->since + timeout : UINT64_MAX;
}

/* The oldest member, or NULL. */
static inline struct tnode *tlist_first(const struct tlist *l)
{
    return tlist_empty(l) ? NULL : l->head.next;
}

#define tnode_entry(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#endif
