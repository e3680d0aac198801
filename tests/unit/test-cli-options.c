/* test-cli-options.c - hello-cli's command line: every option, its defaults,
 * the conflicts between options, and the MESSAGE operands. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli-options.h"
#include "cli-parse.h"

/* What follows a timeout that is not a duration at all. */
#define NOT_A_DURATION "' (a duration: 10s, 500ms, 1min; 0 for none)"

/* The arguments after the program's name, in a writable array as getopt wants. */
#define ARGV(...) ((char *[]){"hello-cli", __VA_ARGS__, NULL})

CLI_PARSE_HELPERS(struct cli_options, cli_options_parse)

static void test_defaults(void **state)
{
    struct cli_options o = parse_ok((char *[]){"hello-cli", NULL});

    (void)state;
    assert_int_equal(o.action, CLI_ACTION_RUN);
    assert_string_equal(o.target.host, "localhost");
    assert_string_equal(o.target.port, "8080");
    assert_int_equal(o.target.family, AF_UNSPEC);
    assert_null(o.target.unix_path);
    assert_int_equal(o.timeout_ms, 10000);
    assert_int_equal(o.input.n_lines, 1);
    assert_string_equal(o.input.lines[0], "Hello from client");
    assert_int_equal(o.input.fd, -1);
}

static void test_host(void **state)
{
    (void)state;
    assert_string_equal(parse_ok(ARGV("-H", "example.org")).target.host, "example.org");
    assert_string_equal(parse_ok(ARGV("-H::1")).target.host, "::1");
    assert_string_equal(parse_ok(ARGV("--host", "a.example")).target.host, "a.example");
    assert_string_equal(parse_ok(ARGV("--host=b.example")).target.host, "b.example");
    assert_string_equal(parse_ok(ARGV("-H", "x")).target.port, "8080");
}

static void test_port(void **state)
{
    (void)state;
    assert_string_equal(parse_ok(ARGV("-p", "9000")).target.port, "9000");
    assert_string_equal(parse_ok(ARGV("--port=1")).target.port, "1");
    assert_string_equal(parse_ok(ARGV("--port", "65535")).target.port, "65535");
    assert_string_equal(parse_ok(ARGV("-p", "9000")).target.host, "localhost");
    assert_string_equal(parse_ok(ARGV("-p", "1", "-p", "2")).target.port, "2");
}

static void test_bad_port(void **state)
{
    (void)state;
    assert_usage_error(ARGV("-p", "0"), "invalid port '0' (1..65535)");
    assert_usage_error(ARGV("-p", "65536"), "invalid port '65536' (1..65535)");
    assert_usage_error(ARGV("--port=http"), "invalid port 'http' (1..65535)");
    assert_usage_error(ARGV("-p", ""), "invalid port '' (1..65535)");
    assert_usage_error(ARGV("-p", "-1"), "invalid port '-1' (1..65535)");
}

static void test_unix(void **state)
{
    struct cli_options o = parse_ok(ARGV("-U", "/run/hellod.sock"));

    (void)state;
    assert_string_equal(o.target.unix_path, "/run/hellod.sock");
    assert_null(o.target.host);
    assert_null(o.target.port);
    assert_string_equal(parse_ok(ARGV("--unix=/tmp/s")).target.unix_path, "/tmp/s");
}

static void test_family(void **state)
{
    (void)state;
    assert_int_equal(parse_ok(ARGV("-4")).target.family, AF_INET);
    assert_int_equal(parse_ok(ARGV("-6")).target.family, AF_INET6);
    assert_int_equal(parse_ok(ARGV("-4", "-4")).target.family, AF_INET);
    assert_int_equal(parse_ok(ARGV("-6", "-H", "::1")).target.family, AF_INET6);
}

static void test_timeout(void **state)
{
    (void)state;
    assert_int_equal(parse_ok(ARGV("-t", "5")).timeout_ms, 5000);
    assert_int_equal(parse_ok(ARGV("-t", "500ms")).timeout_ms, 500);
    assert_int_equal(parse_ok(ARGV("--timeout=1min 30s")).timeout_ms, 90000);
    assert_int_equal(parse_ok(ARGV("--timeout", "2h")).timeout_ms, 7200000);
    assert_int_equal(parse_ok(ARGV("-t", "24h")).timeout_ms, 86400000);
    /* Less than a millisecond is still a limit, not none. */
    assert_int_equal(parse_ok(ARGV("-t", "1us")).timeout_ms, 1);
    assert_int_equal(parse_ok(ARGV("-t", "1500us")).timeout_ms, 2);
    assert_int_equal(parse_ok(ARGV("-t", "0")).timeout_ms, -1);
    assert_int_equal(parse_ok(ARGV("-t", "0s")).timeout_ms, -1);
}

static void test_bad_timeout(void **state)
{
    (void)state;
    assert_usage_error(ARGV("-t", "abc"), "invalid timeout 'abc" NOT_A_DURATION);
    assert_usage_error(ARGV("-t", "5x"), "invalid timeout '5x" NOT_A_DURATION);
    assert_usage_error(ARGV("-t", "-1"), "invalid timeout '-1" NOT_A_DURATION);
    assert_usage_error(ARGV("-t", ""), "invalid timeout '" NOT_A_DURATION);
    assert_usage_error(ARGV("-t", "25h"), "invalid timeout '25h' (at most 24h)");
    assert_usage_error(ARGV("-t", "99999999999999999999"),
                       "invalid timeout '99999999999999999999' (at most 24h)");
}

static void test_help_and_version(void **state)
{
    (void)state;
    assert_int_equal(parse_ok(ARGV("-h")).action, CLI_ACTION_HELP);
    assert_int_equal(parse_ok(ARGV("--help")).action, CLI_ACTION_HELP);
    assert_int_equal(parse_ok(ARGV("-V")).action, CLI_ACTION_VERSION);
    assert_int_equal(parse_ok(ARGV("--version")).action, CLI_ACTION_VERSION);
    /* Help wins over what would be a usage error after it. */
    assert_int_equal(parse_ok(ARGV("--help", "-p", "1", "-U", "/x")).action, CLI_ACTION_HELP);
}

static void test_conflicts(void **state)
{
    (void)state;
    assert_usage_error(ARGV("-p", "1", "-U", "/x"), "-p and -U cannot be used together");
    assert_usage_error(ARGV("-U", "/x", "-p", "1"), "-p and -U cannot be used together");
    assert_usage_error(ARGV("--unix=/x", "--port=1"), "-p and -U cannot be used together");
    assert_usage_error(ARGV("-H", "h", "-U", "/x"), "-H and -U cannot be used together");
    assert_usage_error(ARGV("-4", "-6"), "-4 and -6 cannot be used together");
    assert_usage_error(ARGV("-64"), "-4 and -6 cannot be used together");
    assert_usage_error(ARGV("-4", "-U", "/x"), "-4 and -U cannot be used together");
    assert_usage_error(ARGV("-U", "/x", "-6"), "-6 and -U cannot be used together");
}

static void test_bad_options(void **state)
{
    (void)state;
    assert_usage_error(ARGV("-x"), "invalid option -- 'x'");
    assert_usage_error(ARGV("-4x"), "invalid option -- 'x'");
    assert_usage_error(ARGV("--bogus"), "unrecognized option '--bogus'");
    assert_usage_error(ARGV("-p"), "option requires an argument -- 'p'");
    assert_usage_error(ARGV("-4t"), "option requires an argument -- 't'");
    assert_usage_error(ARGV("--port"), "option '--port' requires an argument");
    assert_usage_error(ARGV("--help=yes"), "option '--help' doesn't allow an argument");
}

static void test_messages(void **state)
{
    struct cli_options o = parse_ok(ARGV("one", "", "three"));

    (void)state;
    assert_int_equal(o.input.fd, -1);
    assert_int_equal(o.input.n_lines, 3);
    assert_string_equal(o.input.lines[0], "one");
    assert_string_equal(o.input.lines[1], "");
    assert_string_equal(o.input.lines[2], "three");
}

static void test_messages_among_options(void **state)
{
    struct cli_options o = parse_ok(ARGV("one", "-p", "9000", "two", "--", "-4"));

    (void)state;
    assert_string_equal(o.target.port, "9000");
    assert_int_equal(o.target.family, AF_UNSPEC);
    assert_int_equal(o.input.n_lines, 3);
    assert_string_equal(o.input.lines[0], "one");
    assert_string_equal(o.input.lines[1], "two");
    assert_string_equal(o.input.lines[2], "-4");
}

static void test_stdin(void **state)
{
    struct cli_options o = parse_ok(ARGV("-t", "1", "-"));

    (void)state;
    assert_int_equal(o.input.fd, STDIN_FILENO);
    assert_int_equal(o.input.n_lines, 0);
    assert_int_equal(parse_ok(ARGV("--", "-")).input.fd, STDIN_FILENO);
}

static void test_bad_messages(void **state)
{
    (void)state;
    assert_usage_error(ARGV("a", "-"), "'-' (standard input) must be the only MESSAGE");
    assert_usage_error(ARGV("-", "-"), "'-' (standard input) must be the only MESSAGE");
    assert_usage_error(ARGV("a\nb"), "a MESSAGE cannot contain a newline (use one per line)");
}

/* getopt keeps state between calls, even a place inside "-4xz" after an
 * error at the x: the parser resets it each time. */
static void test_parse_twice(void **state)
{
    (void)state;
    assert_usage_error(ARGV("-4xz"), "invalid option -- 'x'");
    assert_string_equal(parse_ok(ARGV("-p", "7")).target.port, "7");
    assert_int_equal(parse_ok(ARGV("-p", "7")).target.family, AF_UNSPEC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_host),
        cmocka_unit_test(test_port),
        cmocka_unit_test(test_bad_port),
        cmocka_unit_test(test_unix),
        cmocka_unit_test(test_family),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_bad_timeout),
        cmocka_unit_test(test_help_and_version),
        cmocka_unit_test(test_conflicts),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_messages_among_options),
        cmocka_unit_test(test_stdin),
        cmocka_unit_test(test_bad_messages),
        cmocka_unit_test(test_parse_twice),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
