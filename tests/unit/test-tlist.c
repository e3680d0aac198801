/* test-tlist.c - the timeout lists (src/tlist.h): touching moves a member to
 * the tail; tlist_insert_by keeps a list of per-member deadlines in order,
 * also when a deadline comes that is earlier than the last (a reload that
 * shortened proxy_timeout); tlist_resume puts a member back with the time
 * it had left. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tlist.h"

/* The members' since, head to tail, into out; returns how many. */
static size_t order(const struct tlist *l, uint64_t *out, size_t max)
{
    size_t n = 0;

    for (const struct tnode *t = l->head.next; t != &l->head && n < max; t = t->next) {
        assert_ptr_equal(t->next->prev, t); /* the links agree both ways */
        out[n++] = t->since;
    }
    return n;
}

static void test_touch_moves_to_the_tail(void **state)
{
    struct tlist l;
    struct tnode a = {0}, b = {0};
    uint64_t got[4];

    (void)state;
    tlist_init(&l);
    tlist_touch(&l, &a, 1);
    tlist_touch(&l, &b, 2);
    tlist_touch(&l, &a, 3);
    assert_int_equal(order(&l, got, 4), 2);
    assert_ptr_equal(tlist_first(&l), &b);
    assert_int_equal(got[1], 3);
}

static void test_insert_by_keeps_deadlines_in_order(void **state)
{
    /* 10s deadlines, then a reload to 1s: later accepts, earlier deadlines */
    static const uint64_t at[] = {10, 11, 12, 3, 4, 11, 12, 1, 100};
    static const uint64_t want[] = {1, 3, 4, 10, 11, 11, 12, 12, 100};
    struct tnode n[sizeof at / sizeof at[0]] = {{0}};
    struct tlist l;
    uint64_t got[16];

    (void)state;
    tlist_init(&l);
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
        tlist_insert_by(&l, &n[i], at[i]);
    assert_int_equal(order(&l, got, 16), sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_int_equal(got[i], want[i]);
    assert_ptr_equal(tlist_first(&l), &n[7]);
    /* equal deadlines keep their order of insertion */
    assert_ptr_equal(n[1].next, &n[5]);
    tnode_unlink(&n[7]);
    tnode_unlink(&n[8]);
    assert_false(tnode_linked(&n[7]));
    assert_ptr_equal(tlist_first(&l), &n[3]);
    assert_int_equal(order(&l, got, 16), 7);
    assert_int_equal(got[6], 12);
}

/* A member that comes back with time left (a connection taken over at a
 * restart) joins a list of one timeout where that time left puts it. */
static void test_resume_keeps_the_time_left(void **state)
{
    const uint64_t timeout = 100, now = 1000;
    struct tnode touched = {0}, a = {0}, b = {0}, whole = {0}, none = {0}, over = {0};
    struct tlist l;
    uint64_t got[8];

    (void)state;
    tlist_init(&l);
    tlist_touch(&l, &touched, 990); /* due at 1090 */
    /* 30 left: as if touched 70 ago, due at 1030, before the one touched */
    assert_int_equal(tlist_resume(&l, &a, now, timeout, 30), 1030);
    assert_int_equal(a.since, 930);
    assert_ptr_equal(tlist_first(&l), &a);
    /* none left: due now */
    assert_int_equal(tlist_resume(&l, &b, now, timeout, 0), 1000);
    assert_ptr_equal(tlist_first(&l), &b);
    /* more left than the timeout (it was shortened) or none given: all of it */
    assert_int_equal(tlist_resume(&l, &whole, now, timeout, 250), 1100);
    assert_int_equal(tlist_resume(&l, &none, now, timeout, UINT64_MAX), 1100);
    assert_int_equal(order(&l, got, 8), 5);
    assert_int_equal(got[0], 900);
    assert_int_equal(got[1], 930);
    assert_int_equal(got[2], 990);
    assert_int_equal(got[3], 1000);
    assert_int_equal(got[4], 1000);
    /* never before the clock's 0: more time then, never less */
    assert_int_equal(tlist_resume(&l, &over, 20, timeout, 10), 100);
    assert_int_equal(over.since, 0);
    assert_ptr_equal(tlist_first(&l), &over);
}

/* A timeout of 0 is none: the member is kept, and has no deadline. */
static void test_resume_without_a_timeout(void **state)
{
    struct tnode a = {0};
    struct tlist l;

    (void)state;
    tlist_init(&l);
    assert_int_equal(tlist_resume(&l, &a, 1000, 0, 30), UINT64_MAX);
    assert_int_equal(a.since, 1000);
    assert_ptr_equal(tlist_first(&l), &a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_touch_moves_to_the_tail),
        cmocka_unit_test(test_insert_by_keeps_deadlines_in_order),
        cmocka_unit_test(test_resume_keeps_the_time_left),
        cmocka_unit_test(test_resume_without_a_timeout),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
