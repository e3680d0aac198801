/* test-cli-histogram.c - the load generator's latency histogram
 * (src/cli-histogram.c): buckets exact to the microsecond up to about 1 ms
 * and within 0.2% above, percentiles on known distributions, the empty
 * histogram, values past the last bucket, and merging. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cli-histogram.h"

/* The histogram is 90 KiB: one on the heap per test. */
static int setup(void **state)
{
    struct hist *h = malloc(sizeof *h);

    if (!h)
        return -1;
    hist_init(h);
    *state = h;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

/* |got - want| <= want / 512 (one sub-bucket), and never below want. */
static void assert_within_bucket(uint64_t got, uint64_t want)
{
    if (got < want || got - want > want / HIST_SUB_BUCKETS)
        fail_msg("got %llu, want %llu within %llu", (unsigned long long)got,
                 (unsigned long long)want, (unsigned long long)(want / HIST_SUB_BUCKETS));
}

static void test_empty(void **state)
{
    struct hist *h = *state;

    assert_int_equal(h->count, 0);
    assert_int_equal(hist_percentile(h, HIST_PCT(50)), 0);
    assert_int_equal(hist_percentile(h, HIST_PCT(99.9)), 0);
    assert_int_equal(hist_percentile(h, HIST_PCT(100)), 0);
    assert_int_equal(hist_mean(h), 0);
    assert_int_equal(h->max, 0);
}

static void test_counts(void **state)
{
    struct hist *h = *state;

    hist_record(h, 0);
    hist_record(h, 7);
    hist_record(h, 7);
    hist_record(h, 5000);
    assert_int_equal(h->count, 4);
    assert_int_equal(h->buckets[0], 1);
    assert_int_equal(h->buckets[7], 2);
    assert_int_equal(h->buckets[hist_bucket(5000)], 1);
    assert_int_equal(h->min, 0);
    assert_int_equal(h->max, 5000);
    assert_int_equal(h->sum, 5014);
    assert_int_equal(hist_mean(h), 1253);
    assert_int_equal(h->overflow, 0);
}

static void test_single_value(void **state)
{
    struct hist *h = *state;

    hist_record(h, 123456);
    /* One value: every percentile is that value, exactly (clamped to max). */
    assert_int_equal(hist_percentile(h, HIST_PCT(0)), 123456);
    assert_int_equal(hist_percentile(h, HIST_PCT(50)), 123456);
    assert_int_equal(hist_percentile(h, HIST_PCT(100)), 123456);
}

/* Below HIST_EXACT every microsecond has its own bucket. */
static void test_exact_below_one_ms(void **state)
{
    (void)state;
    for (uint64_t v = 0; v < HIST_EXACT; v++) {
        unsigned b = hist_bucket(v);
        assert_int_equal(b, v);
        assert_int_equal(hist_bucket_low(b), v);
        assert_int_equal(hist_bucket_high(b), v);
    }
}

/* Buckets tile the range with no gap and no overlap, each within 1/512 of its values. */
static void test_buckets_contiguous_and_bounded(void **state)
{
    (void)state;
    assert_int_equal(hist_bucket_low(0), 0);
    for (unsigned b = 1; b < HIST_BUCKETS; b++) {
        uint64_t low = hist_bucket_low(b), high = hist_bucket_high(b);
        assert_int_equal(low, hist_bucket_high(b - 1) + 1);
        assert_true(high >= low);
        assert_true(high - low <= low / HIST_SUB_BUCKETS);
        assert_int_equal(hist_bucket(low), b);
        assert_int_equal(hist_bucket(high), b);
    }
    assert_int_equal(hist_bucket_high(HIST_BUCKETS - 1), HIST_MAX);
}

static void test_uniform_1_to_1000(void **state)
{
    struct hist *h = *state;

    for (uint64_t v = 1; v <= 1000; v++)
        hist_record(h, v);
    assert_int_equal(h->count, 1000);
    /* All exact buckets: the ranks are the values themselves. */
    assert_int_equal(hist_percentile(h, HIST_PCT(50)), 500);
    assert_int_equal(hist_percentile(h, HIST_PCT(99)), 990);
    assert_int_equal(hist_percentile(h, HIST_PCT(99.9)), 999);
    assert_int_equal(hist_percentile(h, HIST_PCT(100)), 1000);
    assert_int_equal(hist_percentile(h, HIST_PCT(0)), 1);
    assert_int_equal(hist_mean(h), 500);
}

/* Above 1 ms the answer is within one bucket: 0.2%. */
static void test_uniform_1_to_100000(void **state)
{
    struct hist *h = *state;

    for (uint64_t v = 1; v <= 100000; v++)
        hist_record(h, v);
    assert_within_bucket(hist_percentile(h, HIST_PCT(50)), 50000);
    assert_within_bucket(hist_percentile(h, HIST_PCT(99)), 99000);
    assert_within_bucket(hist_percentile(h, HIST_PCT(99.9)), 99900);
    assert_int_equal(hist_percentile(h, HIST_PCT(100)), 100000);
    assert_int_equal(hist_percentile(h, HIST_PCT(0.5)), 500);
}

/* 99% fast and 1% slow: p99 is still fast, p99.9 is slow. */
static void test_bimodal_tail(void **state)
{
    struct hist *h = *state;

    for (int i = 0; i < 9900; i++)
        hist_record(h, 100);
    for (int i = 0; i < 100; i++)
        hist_record(h, 20000);
    assert_int_equal(hist_percentile(h, HIST_PCT(50)), 100);
    assert_int_equal(hist_percentile(h, HIST_PCT(99)), 100);
    assert_within_bucket(hist_percentile(h, HIST_PCT(99.01)), 20000);
    assert_within_bucket(hist_percentile(h, HIST_PCT(99.9)), 20000);
}

/* Percentiles above 100 are 100; one in a million still finds the top. */
static void test_percentile_bounds(void **state)
{
    struct hist *h = *state;

    for (uint64_t v = 1; v <= 10; v++)
        hist_record(h, v);
    assert_int_equal(hist_percentile(h, 2000000), 10);
    assert_int_equal(hist_percentile(h, 1), 1);
    assert_int_equal(hist_percentile(h, HIST_PCT(10)), 1);
    assert_int_equal(hist_percentile(h, HIST_PCT(10.0001)), 2);
}

static void test_overflow(void **state)
{
    struct hist *h = *state;

    hist_record(h, 10);
    hist_record(h, HIST_MAX);
    hist_record(h, HIST_MAX + 1);
    hist_record(h, UINT64_C(1) << 40);
    assert_int_equal(h->count, 4);
    assert_int_equal(h->overflow, 2);
    assert_int_equal(h->buckets[HIST_BUCKETS - 1], 1);
    assert_int_equal(h->max, UINT64_C(1) << 40);
    assert_int_equal(hist_percentile(h, HIST_PCT(25)), 10);
    assert_int_equal(hist_percentile(h, HIST_PCT(50)), HIST_MAX);
    /* A rank among the overflowed values: the largest value seen. */
    assert_int_equal(hist_percentile(h, HIST_PCT(75)), UINT64_C(1) << 40);
    assert_int_equal(hist_percentile(h, HIST_PCT(100)), UINT64_C(1) << 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_value, setup, teardown),
        cmocka_unit_test(test_exact_below_one_ms),
        cmocka_unit_test(test_buckets_contiguous_and_bounded),
        cmocka_unit_test_setup_teardown(test_uniform_1_to_1000, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uniform_1_to_100000, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bimodal_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_percentile_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overflow, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
