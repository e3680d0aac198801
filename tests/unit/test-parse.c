/* test-parse.c - the value syntaxes (src/parse.c): integers, durations,
 * booleans, log levels. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <syslog.h>
#include <cmocka.h>

#include "parse.h"

#define SEC  USEC_PER_SEC
#define MSEC USEC_PER_MSEC
#define MIN  (60 * SEC)
#define HOUR (3600 * SEC)
#define DAY  (24 * HOUR)

#define UNTOUCHED 0xdeadbeefULL

/* parse_uint, expecting success with the value. */
static void uint_ok(const char *s, uint64_t min, uint64_t max, uint64_t want)
{
    uint64_t v = UNTOUCHED;

    assert_int_equal(parse_uint(s, min, max, &v), 0);
    assert_int_equal(v, want);
}

/* parse_uint, expecting the error r and *out untouched. */
static void uint_err(const char *s, uint64_t min, uint64_t max, int r)
{
    uint64_t v = UNTOUCHED;

    assert_int_equal(parse_uint(s, min, max, &v), r);
    assert_int_equal(v, UNTOUCHED);
}

static void duration_ok(const char *s, uint64_t want)
{
    uint64_t v = UNTOUCHED;

    assert_int_equal(parse_duration(s, DAY, &v), 0);
    assert_int_equal(v, want);
}

static void duration_err(const char *s, uint64_t max, int r)
{
    uint64_t v = UNTOUCHED;

    assert_int_equal(parse_duration(s, max, &v), r);
    assert_int_equal(v, UNTOUCHED);
}

static void test_uint_plain(void **state)
{
    (void)state;
    uint_ok("0", 0, 10, 0);
    uint_ok("7", 0, 10, 7);
    uint_ok("1024", 1, 1048576, 1024);
    uint_ok("007", 0, 10, 7);
}

static void test_uint_range_bounds(void **state)
{
    (void)state;
    uint_ok("1", 1, 65535, 1);
    uint_ok("65535", 1, 65535, 65535);
    uint_err("0", 1, 65535, -ERANGE);
    uint_err("65536", 1, 65535, -ERANGE);
    uint_ok("5", 5, 5, 5);
    uint_err("4", 5, 5, -ERANGE);
    uint_err("6", 5, 5, -ERANGE);
}

static void test_uint_full_64_bits(void **state)
{
    (void)state;
    uint_ok("18446744073709551615", 0, UINT64_MAX, UINT64_MAX);
    uint_err("18446744073709551616", 0, UINT64_MAX, -ERANGE);
}

static void test_uint_overflow(void **state)
{
    (void)state;
    uint_err("99999999999999999999", 0, UINT64_MAX, -ERANGE);
    uint_err("99999999999999999999", 0, 100, -ERANGE);
    uint_err("184467440737095516150", 0, UINT64_MAX, -ERANGE);
}

static void test_uint_empty(void **state)
{
    (void)state;
    uint_err("", 0, 100, -EINVAL);
}

static void test_uint_sign(void **state)
{
    (void)state;
    uint_err("-1", 0, 100, -EINVAL);
    uint_err("+1", 0, 100, -EINVAL);
    uint_err("-0", 0, 100, -EINVAL);
}

static void test_uint_trailing_junk(void **state)
{
    (void)state;
    uint_err("1x", 0, 100, -EINVAL);
    uint_err("1 ", 0, 100, -EINVAL);
    uint_err("10k", 0, 100000, -EINVAL);
    uint_err("1.0", 0, 100, -EINVAL);
    uint_err("0x10", 0, 100, -EINVAL);
}

static void test_uint_leading_space(void **state)
{
    (void)state;
    uint_err(" 1", 0, 100, -EINVAL);
    uint_err("\t1", 0, 100, -EINVAL);
}

static void test_duration_milliseconds(void **state)
{
    (void)state;
    duration_ok("100ms", 100 * MSEC);
}

static void test_duration_seconds(void **state)
{
    (void)state;
    duration_ok("60s", 60 * SEC);
}

static void test_duration_bare_number_is_seconds(void **state)
{
    (void)state;
    duration_ok("60", 60 * SEC);
    duration_ok("1", SEC);
}

static void test_duration_minutes_and_seconds_with_space(void **state)
{
    (void)state;
    duration_ok("1min 30s", 90 * SEC);
}

static void test_duration_minutes_and_seconds_without_space(void **state)
{
    (void)state;
    duration_ok("1min30s", 90 * SEC);
}

static void test_duration_hours(void **state)
{
    (void)state;
    duration_ok("2h", 2 * HOUR);
}

static void test_duration_microseconds(void **state)
{
    (void)state;
    duration_ok("250us", 250);
}

static void test_duration_zero(void **state)
{
    (void)state;
    duration_ok("0", 0);
    duration_ok("0ms", 0);
}

static void test_duration_space_before_unit(void **state)
{
    (void)state;
    duration_ok("5 ms", 5 * MSEC);
    duration_ok("1 min 30 s", 90 * SEC);
}

static void test_duration_surrounding_spaces(void **state)
{
    (void)state;
    duration_ok("  5s  ", 5 * SEC);
}

static void test_duration_every_unit_summed(void **state)
{
    (void)state;
    duration_ok("1h 1min 1s 1ms 1us", HOUR + MIN + SEC + MSEC + 1);
    duration_ok("1h1min1s1ms1us", HOUR + MIN + SEC + MSEC + 1);
}

static void test_duration_at_max(void **state)
{
    (void)state;
    duration_ok("24h", DAY);
    duration_ok("86400", DAY);
    duration_ok("23h 59min 59s 999ms 1000us", DAY);
}

static void test_duration_over_max(void **state)
{
    (void)state;
    duration_err("25h", DAY, -ERANGE);
    duration_err("86401", DAY, -ERANGE);
    duration_err("24h 1us", DAY, -ERANGE);
    duration_err("1441min", DAY, -ERANGE);
    duration_err("101ms", 100 * MSEC, -ERANGE);
}

static void test_duration_number_overflow(void **state)
{
    (void)state;
    duration_err("99999999999999999999", UINT64_MAX, -ERANGE);
    duration_err("99999999999999999999ms", UINT64_MAX, -ERANGE);
}

static void test_duration_unit_overflow(void **state)
{
    (void)state;
    /* The number fits 64 bits, but not once multiplied by its unit. */
    duration_err("18446744073709551615h", UINT64_MAX, -ERANGE);
    duration_err("18446744073709552s", UINT64_MAX, -ERANGE);
}

static void test_duration_sum_overflow(void **state)
{
    uint64_t v = UNTOUCHED;

    (void)state;
    assert_int_equal(parse_duration("18446744073709551615us", UINT64_MAX, &v), 0);
    assert_int_equal(v, UINT64_MAX);
    /* Each term is fine; their sum wraps past 2^64. */
    duration_err("18446744073709551615us 1us", UINT64_MAX, -ERANGE);
    duration_err("18446744073709551615us 18446744073709551615us", UINT64_MAX, -ERANGE);
}

static void test_duration_empty(void **state)
{
    (void)state;
    duration_err("", DAY, -EINVAL);
    duration_err("   ", DAY, -EINVAL);
}

static void test_duration_unit_without_number(void **state)
{
    (void)state;
    duration_err("ms", DAY, -EINVAL);
    duration_err("5s ms", DAY, -EINVAL);
}

static void test_duration_unknown_unit(void **state)
{
    (void)state;
    duration_err("5x", DAY, -EINVAL);
    duration_err("5m", DAY, -EINVAL);
    duration_err("5sec", DAY, -EINVAL);
    duration_err("5d", DAY, -EINVAL);
}

static void test_duration_fraction_invalid(void **state)
{
    (void)state;
    duration_err("1.5s", DAY, -EINVAL);
}

static void test_duration_sign_invalid(void **state)
{
    (void)state;
    duration_err("-5s", DAY, -EINVAL);
    duration_err("+5s", DAY, -EINVAL);
}

static void test_duration_other_junk_invalid(void **state)
{
    (void)state;
    duration_err("5s,", DAY, -EINVAL);
    duration_err("5s;", DAY, -EINVAL);
    duration_err("\t5s", DAY, -EINVAL);
}

static void format_is(uint64_t usec, const char *want)
{
    char buf[64];

    format_duration(buf, sizeof buf, usec);
    assert_string_equal(buf, want);
}

static void test_format_zero(void **state)
{
    (void)state;
    format_is(0, "0");
}

static void test_format_single_units(void **state)
{
    (void)state;
    format_is(1, "1us");
    format_is(100 * MSEC, "100ms");
    format_is(5 * SEC, "5s");
    format_is(MIN, "1min");
    format_is(2 * HOUR, "2h");
    format_is(DAY, "24h");
}

static void test_format_mixed_units(void **state)
{
    (void)state;
    format_is(90 * SEC, "1min 30s");
    format_is(1500 * MSEC, "1s 500ms");
    format_is(HOUR + MIN + SEC + MSEC + 1, "1h 1min 1s 1ms 1us");
    format_is(HOUR + 1, "1h 1us");
}

static void test_format_round_trips(void **state)
{
    static const uint64_t values[] = {
        0,          1,
        999,        MSEC,
        100 * MSEC, 1001 * MSEC,
        SEC,        59 * SEC,
        90 * SEC,   MIN,
        3599 * SEC, HOUR,
        HOUR + 1,   2 * HOUR + 3 * MIN + 4 * SEC + 5 * MSEC + 6,
        DAY - 1,    DAY,
    };

    (void)state;
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char buf[64];
        uint64_t v = UNTOUCHED;

        format_duration(buf, sizeof buf, values[i]);
        assert_int_equal(parse_duration(buf, DAY, &v), 0);
        assert_int_equal(v, values[i]);
    }
}

static void test_format_small_buffer_terminated(void **state)
{
    char buf[16];

    (void)state;
    memset(buf, 'x', sizeof buf);
    format_duration(buf, 8, HOUR + MIN + SEC + MSEC + 1);
    assert_true(strlen(buf) < 8);
    assert_memory_equal(buf, "1h 1min", 7);
    for (size_t k = 8; k < sizeof buf; k++)
        assert_int_equal(buf[k], 'x');
}

static void bool_is(const char *s, bool want)
{
    bool v = !want;

    assert_int_equal(parse_bool(s, &v), 0);
    assert_int_equal(v, want);
}

static void bool_err(const char *s)
{
    bool t = true, f = false;

    assert_int_equal(parse_bool(s, &t), -EINVAL);
    assert_int_equal(parse_bool(s, &f), -EINVAL);
    assert_true(t);
    assert_false(f);
}

static void test_bool_true_forms(void **state)
{
    (void)state;
    bool_is("yes", true);
    bool_is("true", true);
    bool_is("on", true);
    bool_is("1", true);
}

static void test_bool_false_forms(void **state)
{
    (void)state;
    bool_is("no", false);
    bool_is("false", false);
    bool_is("off", false);
    bool_is("0", false);
}

static void test_bool_any_case(void **state)
{
    (void)state;
    bool_is("YES", true);
    bool_is("Yes", true);
    bool_is("TRUE", true);
    bool_is("tRuE", true);
    bool_is("On", true);
    bool_is("NO", false);
    bool_is("False", false);
    bool_is("OFF", false);
    bool_is("oFf", false);
}

static void test_bool_invalid(void **state)
{
    (void)state;
    bool_err("");
    bool_err("y");
    bool_err("n");
    bool_err("2");
    bool_err("yess");
    bool_err("nope");
    bool_err("o");
    bool_err(" yes");
    bool_err("yes ");
    bool_err("enabled");
}

static void level_is(const char *s, int want)
{
    int v = -1;

    assert_int_equal(parse_log_level(s, &v), 0);
    assert_int_equal(v, want);
}

static void test_log_level_names(void **state)
{
    (void)state;
    level_is("err", LOG_ERR);
    level_is("warning", LOG_WARNING);
    level_is("notice", LOG_NOTICE);
    level_is("info", LOG_INFO);
    level_is("debug", LOG_DEBUG);
}

static void test_log_level_invalid(void **state)
{
    static const char *const bad[] = {
        "",          "error", "warn", "crit",   "alert", "emerg",
        "emergency", "trace", "inf",  "debug ", " info", "3",
    };

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int v = -1;
        assert_int_equal(parse_log_level(bad[i], &v), -EINVAL);
        assert_int_equal(v, -1);
    }
}

static void test_log_level_name_of_each(void **state)
{
    (void)state;
    assert_string_equal(log_level_name(LOG_ERR), "err");
    assert_string_equal(log_level_name(LOG_WARNING), "warning");
    assert_string_equal(log_level_name(LOG_NOTICE), "notice");
    assert_string_equal(log_level_name(LOG_INFO), "info");
    assert_string_equal(log_level_name(LOG_DEBUG), "debug");
}

static void test_log_level_name_round_trips(void **state)
{
    (void)state;
    for (int l = LOG_ERR; l <= LOG_DEBUG; l++) {
        int v = -1;
        assert_int_equal(parse_log_level(log_level_name(l), &v), 0);
        assert_int_equal(v, l);
    }
}

static void test_log_level_name_out_of_range(void **state)
{
    (void)state;
    assert_string_equal(log_level_name(-1), "?");
    assert_string_equal(log_level_name(LOG_EMERG), "?");
    assert_string_equal(log_level_name(LOG_CRIT), "?");
    assert_string_equal(log_level_name(LOG_DEBUG + 1), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uint_plain),
        cmocka_unit_test(test_uint_range_bounds),
        cmocka_unit_test(test_uint_full_64_bits),
        cmocka_unit_test(test_uint_overflow),
        cmocka_unit_test(test_uint_empty),
        cmocka_unit_test(test_uint_sign),
        cmocka_unit_test(test_uint_trailing_junk),
        cmocka_unit_test(test_uint_leading_space),
        cmocka_unit_test(test_duration_milliseconds),
        cmocka_unit_test(test_duration_seconds),
        cmocka_unit_test(test_duration_bare_number_is_seconds),
        cmocka_unit_test(test_duration_minutes_and_seconds_with_space),
        cmocka_unit_test(test_duration_minutes_and_seconds_without_space),
        cmocka_unit_test(test_duration_hours),
        cmocka_unit_test(test_duration_microseconds),
        cmocka_unit_test(test_duration_zero),
        cmocka_unit_test(test_duration_space_before_unit),
        cmocka_unit_test(test_duration_surrounding_spaces),
        cmocka_unit_test(test_duration_every_unit_summed),
        cmocka_unit_test(test_duration_at_max),
        cmocka_unit_test(test_duration_over_max),
        cmocka_unit_test(test_duration_number_overflow),
        cmocka_unit_test(test_duration_unit_overflow),
        cmocka_unit_test(test_duration_sum_overflow),
        cmocka_unit_test(test_duration_empty),
        cmocka_unit_test(test_duration_unit_without_number),
        cmocka_unit_test(test_duration_unknown_unit),
        cmocka_unit_test(test_duration_fraction_invalid),
        cmocka_unit_test(test_duration_sign_invalid),
        cmocka_unit_test(test_duration_other_junk_invalid),
        cmocka_unit_test(test_format_zero),
        cmocka_unit_test(test_format_single_units),
        cmocka_unit_test(test_format_mixed_units),
        cmocka_unit_test(test_format_round_trips),
        cmocka_unit_test(test_format_small_buffer_terminated),
        cmocka_unit_test(test_bool_true_forms),
        cmocka_unit_test(test_bool_false_forms),
        cmocka_unit_test(test_bool_any_case),
        cmocka_unit_test(test_bool_invalid),
        cmocka_unit_test(test_log_level_names),
        cmocka_unit_test(test_log_level_invalid),
        cmocka_unit_test(test_log_level_name_of_each),
        cmocka_unit_test(test_log_level_name_round_trips),
        cmocka_unit_test(test_log_level_name_out_of_range),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
