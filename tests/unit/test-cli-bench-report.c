/* test-cli-bench-report.c - what hello-cli bench prints from a known set of
 * figures, for people and as JSON, and the exit status each outcome gives. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli-bench.h"

/* The report's output, and what it said on stderr. */
struct printed {
    enum cli_exit status;
    char out[2048];
    char err[2048];
};

static void slurp(FILE *f, char *buf, size_t size)
{
    size_t n;

    rewind(f);
    n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static struct printed report(const struct bench_options *o, const struct bench_result *r)
{
    struct printed p;
    FILE *out = tmpfile(), *err = tmpfile();
    int saved = dup(STDERR_FILENO);

    assert_non_null(out);
    assert_non_null(err);
    assert_true(saved >= 0);
    fflush(stderr);
    dup2(fileno(err), STDERR_FILENO);
    p.status = cli_bench_report(o, r, out);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    slurp(out, p.out, sizeof p.out);
    slurp(err, p.err, sizeof p.err);
    return p;
}

static void assert_starts_with(const char *text, const char *prefix)
{
    if (strncmp(text, prefix, strlen(prefix)) != 0)
        fail_msg("%s\ndoes not begin with\n%s", text, prefix);
}

static struct bench_options options(enum bench_mode mode)
{
    return (struct bench_options){
        .mode = mode,
        .target = {.host = "127.0.0.1", .port = "8080"},
        .connections = 50,
        .pipeline = 16,
        .hold = 20000,
        .message = "Hello from client",
        .timeout_ms = 10000,
    };
}

/* 100 latencies: 98 of 100 us, one of 1 ms, one of 5 ms. Their median is
 * 100 us, the 99th is 1,000 us, the 99.9th and the max 5,000 us, the mean
 * (9,800 + 1,000 + 5,000) / 100 = 158 us. */
static struct bench_result *figures(void)
{
    static struct bench_result r;

    memset(&r, 0, sizeof r);
    r.status = CLI_DONE;
    hist_init(&r.latency);
    for (int i = 0; i < 98; i++)
        hist_record(&r.latency, 100);
    hist_record(&r.latency, 1000);
    hist_record(&r.latency, 5000);
    r.sent = 1482200;
    r.replies = 1482113; /* in 2.5 s: 592,845.2 a second */
    r.elapsed_us = 2500000;
    r.errors = 3;
    r.connects = 50;
    r.connect_failures = 2;
    return &r;
}

/* The same figures for a run where nothing went wrong: no ERROR replies, no
 * failed connects. */
static struct bench_result *clean_figures(void)
{
    struct bench_result *r = figures();

    r->errors = r->connect_failures = 0;
    return r;
}

static void test_text(void **state)
{
    struct bench_options o = options(BENCH_PERSISTENT);
    struct printed p = report(&o, figures());

    (void)state;
    assert_string_equal(
        p.out, "hello-cli bench: 127.0.0.1:8080, 50 connections, pipeline 16\n"
               "  replies   1,482,113 in 2.50 s: 592,845/s\n"
               "  latency   p50 100 us, p99 1,000 us, p99.9 5,000 us, max 5,000 us, mean 158 us\n"
               "  errors    3 ERROR replies, 0 connections closed by the server\n"
               "  connects  50, 2 failed\n");
    assert_string_equal(p.err, "");
    assert_int_equal(p.status, CLI_EXIT_PROTOCOL); /* ERROR replies */
}

static void test_json(void **state)
{
    struct bench_options o = options(BENCH_PERSISTENT);
    struct printed p;

    (void)state;
    o.json = true;
    p = report(&o, figures());
    assert_string_equal(
        p.out, "{\"target\":\"127.0.0.1:8080\",\"mode\":\"persistent\",\"connections\":50,"
               "\"pipeline\":16,\"seconds\":2.500000,\"sent\":1482200,\"replies\":1482113,"
               "\"replies_per_sec\":592845.2,\"p50_us\":100,\"p99_us\":1000,\"p999_us\":5000,"
               "\"max_us\":5000,\"mean_us\":158,\"errors\":3,\"connects\":50,"
               "\"connect_failures\":2,\"closed\":0,\"held\":0,\"status\":\"ok\"}\n");
    assert_int_equal(p.status, CLI_EXIT_PROTOCOL);
}

/* A clean --connect run, on a UNIX socket whose name JSON must escape. */
static void test_connect_clean(void **state)
{
    struct bench_options o = options(BENCH_CONNECT);
    struct bench_result *r = clean_figures();
    struct printed p;

    (void)state;
    o.target = (struct cli_target){.unix_path = "/run/a\"b\\c\x01"};
    r->connects = r->replies = r->sent = 1000;
    r->elapsed_us = 1000000;
    p = report(&o, r);
    assert_starts_with(p.out, "hello-cli bench: /run/a\"b\\c\x01, 50 one-shot connections at once\n"
                              "  replies   1,000 in 1.00 s: 1,000/s\n");
    assert_int_equal(p.status, CLI_EXIT_OK);
    o.json = true;
    p = report(&o, r);
    assert_starts_with(p.out,
                       "{\"target\":\"/run/a\\\"b\\\\c\\u0001\",\"mode\":\"connect\","
                       "\"connections\":50,\"pipeline\":1,\"seconds\":1.000000,\"sent\":1000,"
                       "\"replies\":1000,\"replies_per_sec\":1000.0,");
    assert_non_null(strstr(p.out, "\"errors\":0,\"connects\":1000,\"connect_failures\":0,"));
    assert_int_equal(p.status, CLI_EXIT_OK);
}

static void test_hold(void **state)
{
    struct bench_options o = options(BENCH_HOLD);
    struct bench_result *r = clean_figures();
    struct printed p;

    (void)state;
    r->held = r->connects = r->sent = 20000;
    r->replies = 20000;
    r->elapsed_us = 400000;
    p = report(&o, r);
    assert_starts_with(p.out, "hello-cli bench: 127.0.0.1:8080, held 20,000 connections, then one "
                              "message on each\n  replies   20,000 in 0.40 s: 50,000/s\n");
    assert_int_equal(p.status, CLI_EXIT_OK);
    r->replies = 19999; /* one never answered */
    assert_int_equal(report(&o, r).status, CLI_EXIT_PROTOCOL);
    o.json = true;
    r->replies = 20000;
    p = report(&o, r);
    assert_non_null(strstr(p.out, "\"mode\":\"hold\",\"connections\":20000,\"pipeline\":1,"));
    assert_non_null(strstr(p.out, "\"held\":20000,\"status\":\"ok\"}\n"));
}

/* What else makes a run fail: closes, failed connects, a stall. */
static void test_exit_statuses(void **state)
{
    struct bench_options o = options(BENCH_PERSISTENT);
    struct bench_result *r = clean_figures();
    struct printed p;

    (void)state;
    assert_int_equal(report(&o, r).status, CLI_EXIT_OK);
    r->closed = 1;
    assert_int_equal(report(&o, r).status, CLI_EXIT_PROTOCOL);
    r->closed = 0;
    r->connect_failures = 1;
    assert_int_equal(report(&o, r).status, CLI_EXIT_PROTOCOL);
    r->connect_failures = 0;
    r->status = CLI_TIMED_OUT;
    r->error = ETIMEDOUT;
    p = report(&o, r);
    assert_int_equal(p.status, CLI_EXIT_TIMEOUT);
    assert_non_null(strstr(p.out, "  replies   1,482,113 in 2.50 s"));
    assert_string_not_equal(p.err, "");
}

/* Nothing connected: no report but hello-cli's message (and the JSON line). */
static void test_connect_failed(void **state)
{
    struct bench_options o = options(BENCH_PERSISTENT);
    struct bench_result r = {.status = CLI_CONNECT_FAILED, .error = ECONNREFUSED};
    struct printed p;

    (void)state;
    hist_init(&r.latency);
    p = report(&o, &r);
    assert_int_equal(p.status, CLI_EXIT_CONNECT);
    assert_string_equal(p.out, "");
    assert_non_null(strstr(p.err, "127.0.0.1:8080"));
    o.json = true;
    p = report(&o, &r);
    assert_int_equal(p.status, CLI_EXIT_CONNECT);
    assert_non_null(strstr(p.out, "\"replies_per_sec\":0.0,\"p50_us\":0,"));
    assert_non_null(strstr(p.out, "\"status\":\"connect-failed\"}\n"));
}

static void test_fd_limit(void **state)
{
    struct bench_options o = options(BENCH_HOLD);
    struct bench_result r = {.status = CLI_SOCKET_FAILED, .error = EMFILE, .fd_limit = 1024};
    struct printed p;

    (void)state;
    hist_init(&r.latency);
    p = report(&o, &r);
    assert_int_equal(p.status, CLI_EXIT_CONNECT);
    assert_string_equal(p.out, "");
    assert_string_equal(
        p.err, "hello-cli: bench needs 20000 descriptors and more; the limit here is 1024\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),          cmocka_unit_test(test_json),
        cmocka_unit_test(test_connect_clean), cmocka_unit_test(test_hold),
        cmocka_unit_test(test_exit_statuses), cmocka_unit_test(test_connect_failed),
        cmocka_unit_test(test_fd_limit),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
