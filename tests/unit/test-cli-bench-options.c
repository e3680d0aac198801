/* test-cli-bench-options.c - hello-cli bench's command line: every option,
 * its defaults, every usage error and its message, the conflicts between
 * options, and the --help text against the options there are. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "cli-bench.h"
#include "cli-parse.h"

/* The arguments, "bench" first as cli_bench_main() gets them. */
#define ARGV(...) ((char *[]){"bench", __VA_ARGS__, NULL})

CLI_PARSE_HELPERS(struct bench_options, cli_bench_parse)

static void test_defaults(void **state)
{
    struct bench_options o = parse_ok((char *[]){"bench", NULL});

    (void)state;
    assert_int_equal(o.action, BENCH_RUN);
    assert_int_equal(o.mode, BENCH_PERSISTENT);
    assert_string_equal(o.target.host, "localhost");
    assert_string_equal(o.target.port, "8080");
    assert_null(o.target.unix_path);
    assert_int_equal(o.target.family, AF_UNSPEC);
    assert_int_equal(o.connections, 50);
    assert_int_equal(o.pipeline, 1);
    assert_int_equal(o.hold, 0);
    assert_int_equal(o.duration_us, 10000000);
    assert_int_equal(o.messages, 0);
    assert_string_equal(o.message, "Hello from client");
    assert_int_equal(o.timeout_ms, 10000);
    assert_false(o.json);
    assert_int_equal(bench_connections(&o), 50);
    assert_int_equal(bench_pipeline(&o), 1);
}

static void test_counts(void **state)
{
    (void)state;
    assert_int_equal(parse_ok(ARGV("-c", "1")).connections, 1);
    assert_int_equal(parse_ok(ARGV("--connections=1000000")).connections, 1000000);
    assert_int_equal(parse_ok(ARGV("-P", "16")).pipeline, 16);
    assert_int_equal(parse_ok(ARGV("--pipeline", "4096")).pipeline, 4096);
    assert_int_equal(bench_pipeline((struct bench_options[]){parse_ok(ARGV("-P16"))}), 16);
    assert_int_equal(parse_ok(ARGV("-n", "1")).messages, 1);
    assert_int_equal(parse_ok(ARGV("--messages=1000000000000")).messages, 1000000000000ULL);
}

static void test_bad_counts(void **state)
{
    (void)state;
    assert_usage_error(ARGV("-c", "0"), "invalid number of connections '0' (1..1000000)");
    assert_usage_error(ARGV("-c", "1000001"),
                       "invalid number of connections '1000001' (1..1000000)");
    assert_usage_error(ARGV("-c", "x"), "invalid number of connections 'x' (1..1000000)");
    assert_usage_error(ARGV("-P", "0"), "invalid pipeline '0' (1..4096)");
    assert_usage_error(ARGV("--pipeline=4097"), "invalid pipeline '4097' (1..4096)");
    assert_usage_error(ARGV("-n", "0"), "invalid number of messages '0' (1..1000000000000)");
    assert_usage_error(ARGV("-n", "1000000000001"),
                       "invalid number of messages '1000000000001' (1..1000000000000)");
    assert_usage_error(ARGV("--hold", "0"),
                       "invalid number of connections to hold '0' (1..1000000)");
    assert_usage_error(ARGV("--hold=-1"),
                       "invalid number of connections to hold '-1' (1..1000000)");
}

static void test_duration(void **state)
{
    (void)state;
    assert_int_equal(parse_ok(ARGV("-d", "5s")).duration_us, 5000000);
    assert_int_equal(parse_ok(ARGV("--duration=500ms")).duration_us, 500000);
    assert_int_equal(parse_ok(ARGV("-d", "24h")).duration_us, 86400000000ULL);
    /* -n alone runs until that many replies; with -d, whichever comes first. */
    assert_int_equal(parse_ok(ARGV("-n", "10")).duration_us, 0);
    assert_int_equal(parse_ok(ARGV("-n", "10", "-d", "2s")).duration_us, 2000000);
    assert_int_equal(parse_ok(ARGV("-n", "10", "-d", "0")).duration_us, 0);
    /* With --hold, the time the connections stay idle: 0 is none. */
    assert_int_equal(parse_ok(ARGV("--hold", "3", "-d", "0")).duration_us, 0);
}

static void test_bad_duration(void **state)
{
    (void)state;
    assert_usage_error(ARGV("-d", "x"), "invalid duration 'x' (a duration: 10s, 500ms, 1min)");
    assert_usage_error(ARGV("-d", "25h"), "invalid duration '25h' (at most 24h)");
    assert_usage_error(ARGV("-d", "0"), "a duration of 0 needs -n MESSAGES");
    assert_usage_error(ARGV("--duration=0s"), "a duration of 0 needs -n MESSAGES");
}

static void test_target(void **state)
{
    struct bench_options o = parse_ok(ARGV("-H", "::1", "-p", "9000", "-6"));

    (void)state;
    assert_string_equal(o.target.host, "::1");
    assert_string_equal(o.target.port, "9000");
    assert_int_equal(o.target.family, AF_INET6);
    o = parse_ok(ARGV("--host=h", "--port=1", "-4"));
    assert_string_equal(o.target.host, "h");
    assert_string_equal(o.target.port, "1");
    assert_int_equal(o.target.family, AF_INET);
    o = parse_ok(ARGV("--unix", "/run/hellod.sock"));
    assert_string_equal(o.target.unix_path, "/run/hellod.sock");
    assert_null(o.target.host);
    assert_null(o.target.port);
    assert_usage_error(ARGV("-p", "0"), "invalid port '0' (1..65535)");
    assert_usage_error(ARGV("--port=65536"), "invalid port '65536' (1..65535)");
}

static void test_timeout(void **state)
{
    (void)state;
    assert_int_equal(parse_ok(ARGV("-t", "2s")).timeout_ms, 2000);
    assert_int_equal(parse_ok(ARGV("--timeout=1500us")).timeout_ms, 2);
    assert_int_equal(parse_ok(ARGV("-t", "24h")).timeout_ms, 86400000);
    /* Unlike hello-cli's, a bench's timeout cannot be none. */
    assert_usage_error(ARGV("-t", "0"), "invalid timeout '0' (bench needs one above 0)");
    assert_usage_error(ARGV("-t", "x"), "invalid timeout 'x' (a duration: 10s, 500ms, 1min)");
    assert_usage_error(ARGV("-t", "25h"), "invalid timeout '25h' (at most 24h)");
}

static void test_modes(void **state)
{
    struct bench_options o = parse_ok(ARGV("--connect", "-c", "8", "-n", "100"));

    (void)state;
    assert_int_equal(o.mode, BENCH_CONNECT);
    assert_int_equal(bench_connections(&o), 8);
    assert_int_equal(bench_pipeline(&o), 1);
    o = parse_ok(ARGV("--hold", "1000", "-c", "10", "-d", "1s"));
    assert_int_equal(o.mode, BENCH_HOLD);
    assert_int_equal(o.hold, 1000);
    assert_int_equal(o.connections, 10);
    assert_int_equal(bench_connections(&o), 1000);
    assert_int_equal(o.duration_us, 1000000);
    /* -P 1 is the default, and so no pipeline. */
    assert_int_equal(parse_ok(ARGV("--connect", "-P", "1")).mode, BENCH_CONNECT);
}

static void test_message_and_json(void **state)
{
    char *big = malloc(BENCH_MAX_MESSAGE + 2);
    struct bench_options o = parse_ok(ARGV("--message", "PING", "--json"));

    (void)state;
    assert_string_equal(o.message, "PING");
    assert_true(o.json);
    assert_string_equal(parse_ok(ARGV("--message=")).message, "");
    assert_usage_error(ARGV("--message", "a\nb"), "the message cannot contain a newline");
    assert_non_null(big);
    memset(big, 'a', BENCH_MAX_MESSAGE);
    big[BENCH_MAX_MESSAGE] = '\0';
    assert_int_equal(strlen(parse_ok(ARGV("--message", big)).message), BENCH_MAX_MESSAGE);
    big[BENCH_MAX_MESSAGE] = 'a';
    big[BENCH_MAX_MESSAGE + 1] = '\0';
    assert_usage_error(ARGV("--message", big), "the message is longer than 65536 bytes");
    free(big);
}

static void test_conflicts(void **state)
{
    (void)state;
    assert_usage_error(ARGV("-p", "1", "-U", "/x"), "-p and -U cannot be used together");
    assert_usage_error(ARGV("-U", "/x", "-H", "h"), "-H and -U cannot be used together");
    assert_usage_error(ARGV("-6", "-4"), "-4 and -6 cannot be used together");
    assert_usage_error(ARGV("-4", "-U", "/x"), "-4 and -U cannot be used together");
    assert_usage_error(ARGV("-U", "/x", "-6"), "-6 and -U cannot be used together");
    assert_usage_error(ARGV("--connect", "--hold", "3"),
                       "--connect and --hold cannot be used together");
    assert_usage_error(ARGV("--connect", "-P", "2"),
                       "--connect sends one message per connection: no -P");
    assert_usage_error(ARGV("--hold", "3", "-P", "1"),
                       "--hold sends one message per connection: no -P or -n");
    assert_usage_error(ARGV("-n", "5", "--hold", "3"),
                       "--hold sends one message per connection: no -P or -n");
    /* The target's conflicts are said first. */
    assert_usage_error(ARGV("--connect", "--hold", "3", "-4", "-6"),
                       "-4 and -6 cannot be used together");
}

static void test_bad_options(void **state)
{
    (void)state;
    assert_usage_error(ARGV("-x"), "invalid option -- 'x'");
    assert_usage_error(ARGV("-V"), "invalid option -- 'V'"); /* hello-cli's, not bench's */
    assert_usage_error(ARGV("--bogus"), "unrecognized option '--bogus'");
    assert_usage_error(ARGV("--con"), "unrecognized option '--con'"); /* ambiguous */
    assert_usage_error(ARGV("-c"), "option requires an argument -- 'c'");
    assert_usage_error(ARGV("-t"), "option requires an argument -- 't'");
    assert_usage_error(ARGV("--hold"), "option '--hold' requires an argument");
    assert_usage_error(ARGV("--host"), "option '--host' requires an argument");
    assert_usage_error(ARGV("--json=1"), "option '--json' doesn't allow an argument");
    assert_usage_error(ARGV("--connect=x"), "option '--connect' doesn't allow an argument");
    assert_usage_error(ARGV("--help=1"), "option '--help' doesn't allow an argument");
    /* An unknown option inside a cluster is named, not the argument before it. */
    assert_usage_error(ARGV("--json", "-xy"), "invalid option -- 'x'");
    assert_usage_error(ARGV("PING"), "unexpected argument 'PING' (the message goes in --message)");
}

static void test_help(void **state)
{
    (void)state;
    assert_int_equal(parse_ok(ARGV("-h")).action, BENCH_HELP);
    assert_int_equal(parse_ok(ARGV("--help")).action, BENCH_HELP);
    /* Help wins over what would be a usage error after it. */
    assert_int_equal(parse_ok(ARGV("--help", "-c", "0")).action, BENCH_HELP);
}

/* --help names every option there is. */
static void test_help_text(void **state)
{
    static const char *const options[] = {
        "-c, --connections=N", "-P, --pipeline=N", "-d, --duration=TIME", "-n, --messages=N",
        "--connect",           "--hold=N",         "--message=TEXT",      "--json",
        "-H, --host=HOST",     "-p, --port=PORT",  "-U, --unix=PATH",     "-4, -6",
        "-t, --timeout=TIME",  "-h, --help",
    };
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    (void)state;
    assert_non_null(f);
    cli_bench_help(f);
    fclose(f);
    assert_true(strncmp(text, "Usage: hello-cli bench [OPTION]...\n", 35) == 0);
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
        if (!strstr(text, options[i]))
            fail_msg("--help lacks %s", options[i]);
    free(text);
}

/* getopt's state is reset between calls. */
static void test_parse_twice(void **state)
{
    (void)state;
    assert_usage_error(ARGV("-4xz"), "invalid option -- 'x'");
    assert_int_equal(parse_ok(ARGV("-c", "7")).connections, 7);
    assert_int_equal(parse_ok(ARGV("-c", "7")).target.family, AF_UNSPEC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),         cmocka_unit_test(test_counts),
        cmocka_unit_test(test_bad_counts),       cmocka_unit_test(test_duration),
        cmocka_unit_test(test_bad_duration),     cmocka_unit_test(test_target),
        cmocka_unit_test(test_timeout),          cmocka_unit_test(test_modes),
        cmocka_unit_test(test_message_and_json), cmocka_unit_test(test_conflicts),
        cmocka_unit_test(test_bad_options),      cmocka_unit_test(test_help),
        cmocka_unit_test(test_help_text),        cmocka_unit_test(test_parse_twice),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
