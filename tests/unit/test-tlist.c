/* test-tlist.c - the timeout lists (src/tlist.h): touching moves a member to
 * the tail; tlist_insert_by keeps a list of per-member deadlines in order,
 * also when a deadline comes that is earlier than the last (a reload that
 * shortened proxy_timeout). */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_touch_moves_to_the_tail),
        cmocka_unit_test(test_insert_by_keeps_deadlines_in_order),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
