/* test-ratelimit.c - the bound on events per interval (src/ratelimit.c): the
 * first burst of each interval pass, the rest are counted, and each count is
 * handed out once, after its interval is over. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ratelimit.h"

#define SEC 1000000ULL
/* A clock far from 0, as CLOCK_MONOTONIC is after boot. */
#define T0 (1000 * SEC)

static unsigned pass_n(struct ratelimit *rl, uint64_t now, unsigned n)
{
    unsigned passed = 0;

    for (unsigned i = 0; i < n; i++)
        passed += ratelimit_pass(rl, now);
    return passed;
}

static void test_burst_passes_then_the_rest_is_counted(void **state)
{
    struct ratelimit rl;

    (void)state;
    ratelimit_init(&rl, SEC, 100);
    assert_int_equal(pass_n(&rl, T0, 100), 100);
    assert_false(ratelimit_pass(&rl, T0 + 1));
    assert_int_equal(pass_n(&rl, T0 + SEC - 1, 49), 0);
    /* still within the interval: nothing to report yet */
    assert_int_equal(ratelimit_left_out(&rl, T0 + SEC - 1), 0);
    /* over: the 50 left out are reported once */
    assert_int_equal(ratelimit_left_out(&rl, T0 + SEC), 50);
    assert_int_equal(ratelimit_left_out(&rl, T0 + SEC), 0);
    assert_int_equal(ratelimit_left_out(&rl, T0 + 5 * SEC), 0);
}

static void test_a_new_interval_passes_a_new_burst(void **state)
{
    struct ratelimit rl;

    (void)state;
    ratelimit_init(&rl, SEC, 3);
    assert_int_equal(pass_n(&rl, T0, 10), 3);
    assert_int_equal(pass_n(&rl, T0 + SEC, 10), 3);
    /* the first pass of the new interval made the old count reportable,
     * and the new interval's own 7 wait for its end */
    assert_int_equal(ratelimit_left_out(&rl, T0 + SEC), 7);
    assert_int_equal(ratelimit_left_out(&rl, T0 + 2 * SEC), 7);
}

static void test_counts_add_up_under_a_steady_flood(void **state)
{
    struct ratelimit rl;
    uint64_t passed = 0, left_out = 0, sent = 0;

    (void)state;
    ratelimit_init(&rl, SEC, 100);
    /* 10,000 events a second for 10 s, reported whenever asked */
    for (uint64_t t = T0; t < T0 + 10 * SEC; t += 100) {
        passed += ratelimit_pass(&rl, t);
        sent++;
        if (t % (SEC / 4) == 0)
            left_out += ratelimit_left_out(&rl, t);
    }
    left_out += ratelimit_left_out(&rl, UINT64_MAX);
    assert_int_equal(passed, 10 * 100);
    assert_int_equal(passed + left_out, sent);
}

static void test_nothing_left_out_below_the_bound(void **state)
{
    struct ratelimit rl;

    (void)state;
    ratelimit_init(&rl, SEC, 100);
    for (int s = 0; s < 5; s++)
        assert_int_equal(pass_n(&rl, T0 + (uint64_t)s * SEC, 100), 100);
    assert_int_equal(ratelimit_left_out(&rl, UINT64_MAX), 0);
}

static void test_a_clock_read_a_moment_earlier_is_the_same_interval(void **state)
{
    struct ratelimit rl;

    (void)state;
    /* threads pass the time each read at its wakeup: one may be behind */
    ratelimit_init(&rl, SEC, 2);
    assert_int_equal(pass_n(&rl, T0 + 10, 2), 2);
    assert_false(ratelimit_pass(&rl, T0 + 5));
    assert_int_equal(ratelimit_left_out(&rl, T0 + 9), 0);
    assert_int_equal(ratelimit_left_out(&rl, T0 + 10 + SEC), 1);
}

static void test_burst_zero_leaves_everything_out(void **state)
{
    struct ratelimit rl;

    (void)state;
    ratelimit_init(&rl, SEC, 0);
    assert_int_equal(pass_n(&rl, T0, 5), 0);
    assert_int_equal(ratelimit_left_out(&rl, T0 + SEC), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_passes_then_the_rest_is_counted),
        cmocka_unit_test(test_a_new_interval_passes_a_new_burst),
        cmocka_unit_test(test_counts_add_up_under_a_steady_flood),
        cmocka_unit_test(test_nothing_left_out_below_the_bound),
        cmocka_unit_test(test_a_clock_read_a_moment_earlier_is_the_same_interval),
        cmocka_unit_test(test_burst_zero_leaves_everything_out),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
