/* test-addr.c - listen addresses as written in the config (src/addr.c) and
 * socket addresses as the logs show them. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <cmocka.h>

#include "addr.h"

static void parse_port_only(const char *spec, uint16_t port)
{
    struct listen_addr a;

    assert_int_equal(addr_parse(spec, &a), 0);
    assert_int_equal(a.kind, ADDR_PORT);
    assert_int_equal(a.port, port);
}

static void parse_host_port(const char *spec, const char *host, uint16_t port)
{
    struct listen_addr a;

    assert_int_equal(addr_parse(spec, &a), 0);
    assert_int_equal(a.kind, ADDR_HOST_PORT);
    assert_string_equal(a.host, host);
    assert_int_equal(a.port, port);
}

static void parse_err(const char *spec, int r)
{
    struct listen_addr a;

    assert_int_equal(addr_parse(spec, &a), r);
}

/* A string of n copies of c after prefix (static storage). */
static const char *long_string(const char *prefix, char c, size_t n)
{
    static char buf[1024];
    size_t p = strlen(prefix);

    assert_true(p + n < sizeof buf);
    memcpy(buf, prefix, p);
    memset(buf + p, c, n);
    buf[p + n] = '\0';
    return buf;
}

static void test_port(void **state)
{
    (void)state;
    parse_port_only("8080", 8080);
}

static void test_port_zero(void **state)
{
    (void)state;
    parse_port_only("0", 0);
}

static void test_port_max(void **state)
{
    (void)state;
    parse_port_only("65535", 65535);
}

static void test_port_over_max_erange(void **state)
{
    (void)state;
    parse_err("65536", -ERANGE);
    parse_err("99999999999999999999", -ERANGE);
}

static void test_port_junk_einval(void **state)
{
    (void)state;
    parse_err("", -EINVAL);
    parse_err("-1", -EINVAL);
    parse_err("+80", -EINVAL);
    parse_err("80 ", -EINVAL);
    parse_err(" 80", -EINVAL);
    parse_err("http", -EINVAL);
}

static void test_ipv4_host_port(void **state)
{
    (void)state;
    parse_host_port("127.0.0.1:80", "127.0.0.1", 80);
    parse_host_port("0.0.0.0:0", "0.0.0.0", 0);
}

static void test_name_host_port(void **state)
{
    (void)state;
    parse_host_port("localhost:80", "localhost", 80);
    parse_host_port("hello.example.org:65535", "hello.example.org", 65535);
}

static void test_bracketed_ipv6(void **state)
{
    (void)state;
    parse_host_port("[::1]:8080", "::1", 8080);
    parse_host_port("[2001:db8::1]:443", "2001:db8::1", 443);
    parse_host_port("[::ffff:192.0.2.1]:80", "::ffff:192.0.2.1", 80);
}

static void test_bracketed_ipv6_any_port_zero(void **state)
{
    (void)state;
    parse_host_port("[::]:0", "::", 0);
}

static void test_bare_ipv6_needs_brackets(void **state)
{
    (void)state;
    parse_err("::1:80", -EINVAL);
    parse_err("2001:db8::1:443", -EINVAL);
    parse_err("::", -EINVAL);
}

static void test_bracketed_without_port(void **state)
{
    (void)state;
    parse_err("[::1]", -EINVAL);
    parse_err("[::1]:", -EINVAL);
    parse_err("[::1]8080", -EINVAL);
    parse_err("[::1", -EINVAL);
    parse_err("[::1:80", -EINVAL);
}

static void test_bracketed_not_ipv6(void **state)
{
    (void)state;
    parse_err("[zz]:1", -EINVAL);
    parse_err("[]:80", -EINVAL);
    parse_err("[127.0.0.1]:80", -EINVAL);
    parse_err("[localhost]:80", -EINVAL);
}

static void test_bracketed_port_over_max(void **state)
{
    (void)state;
    parse_err("[::1]:65536", -ERANGE);
}

static void test_unix_path(void **state)
{
    struct listen_addr a;

    (void)state;
    assert_int_equal(addr_parse("/run/x.sock", &a), 0);
    assert_int_equal(a.kind, ADDR_UNIX);
    assert_string_equal(a.path, "/run/x.sock");
}

static void test_unix_path_longest(void **state)
{
    struct listen_addr a;
    const char *p = long_string("/", 'p', ADDR_PATH_MAX - 2); /* 107 bytes + NUL */

    (void)state;
    assert_int_equal(strlen(p), ADDR_PATH_MAX - 1);
    assert_int_equal(addr_parse(p, &a), 0);
    assert_int_equal(a.kind, ADDR_UNIX);
    assert_string_equal(a.path, p);
}

static void test_unix_path_too_long(void **state)
{
    (void)state;
    parse_err(long_string("/", 'p', ADDR_PATH_MAX - 1), -ENAMETOOLONG); /* 108 bytes */
    parse_err(long_string("/run/", 'p', 300), -ENAMETOOLONG);
}

static void test_relative_path_einval(void **state)
{
    (void)state;
    parse_err("run/x.sock", -EINVAL);
    parse_err("x.sock", -EINVAL);
}

static void test_host_longest(void **state)
{
    char spec[ADDR_HOST_MAX + 16];

    (void)state;
    snprintf(spec, sizeof spec, "%s:80", long_string("", 'h', ADDR_HOST_MAX - 1));
    parse_host_port(spec, long_string("", 'h', ADDR_HOST_MAX - 1), 80);
}

static void test_host_too_long(void **state)
{
    char spec[ADDR_HOST_MAX + 16];

    (void)state;
    snprintf(spec, sizeof spec, "%s:80", long_string("", 'h', ADDR_HOST_MAX));
    parse_err(spec, -ENAMETOOLONG);
}

static void test_empty_host(void **state)
{
    (void)state;
    parse_err(":80", -EINVAL);
}

static void test_empty_port(void **state)
{
    (void)state;
    parse_err("host:", -EINVAL);
    parse_err("127.0.0.1:", -EINVAL);
}

static void test_named_port(void **state)
{
    (void)state;
    parse_err("host:port", -EINVAL);
    parse_err("host:http", -EINVAL);
}

static void test_host_port_over_max(void **state)
{
    (void)state;
    parse_err("host:65536", -ERANGE);
}

static void spec_round_trip(const char *spec)
{
    struct listen_addr a, b;
    char buf[ADDR_STRLEN + ADDR_HOST_MAX];

    assert_int_equal(addr_parse(spec, &a), 0);
    addr_spec_format(&a, buf, sizeof buf);
    assert_string_equal(buf, spec);
    assert_int_equal(addr_parse(buf, &b), 0);
    assert_int_equal(b.kind, a.kind);
    assert_int_equal(b.port, a.port);
    assert_string_equal(b.host, a.host);
    assert_string_equal(b.path, a.path);
}

static void test_spec_format_round_trips(void **state)
{
    (void)state;
    spec_round_trip("8080");
    spec_round_trip("0");
    spec_round_trip("65535");
    spec_round_trip("127.0.0.1:80");
    spec_round_trip("localhost:8080");
    spec_round_trip("[::1]:8080");
    spec_round_trip("[::]:0");
    spec_round_trip("[2001:db8::1]:443");
    spec_round_trip("/run/hellod.sock");
    spec_round_trip(long_string("/", 'p', ADDR_PATH_MAX - 2));
}

static void test_spec_format_leading_zeros_canonical(void **state)
{
    struct listen_addr a;
    char buf[64];

    (void)state;
    assert_int_equal(addr_parse("080", &a), 0);
    addr_spec_format(&a, buf, sizeof buf);
    assert_string_equal(buf, "80");
}

static void format_is(const void *sa, socklen_t len, const char *want)
{
    char buf[ADDR_STRLEN];

    addr_format(sa, len, buf, sizeof buf);
    assert_string_equal(buf, want);
}

static void test_format_inet(void **state)
{
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(8080)};

    (void)state;
    assert_int_equal(inet_pton(AF_INET, "127.0.0.1", &in.sin_addr), 1);
    format_is(&in, sizeof in, "127.0.0.1:8080");
    in.sin_addr.s_addr = htonl(INADDR_ANY);
    in.sin_port = 0;
    format_is(&in, sizeof in, "0.0.0.0:0");
}

static void test_format_inet6(void **state)
{
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(8080)};

    (void)state;
    in6.sin6_addr = in6addr_loopback;
    format_is(&in6, sizeof in6, "[::1]:8080");
    in6.sin6_addr = in6addr_any;
    in6.sin6_port = htons(65535);
    format_is(&in6, sizeof in6, "[::]:65535");
    assert_int_equal(inet_pton(AF_INET6, "2001:db8::42", &in6.sin6_addr), 1);
    format_is(&in6, sizeof in6, "[2001:db8::42]:65535");
}

static void test_format_inet6_longest(void **state)
{
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(65535)};

    (void)state;
    assert_int_equal(inet_pton(AF_INET6, "1111:2222:3333:4444:5555:6666:7777:8888", &in6.sin6_addr),
                     1);
    format_is(&in6, sizeof in6, "[1111:2222:3333:4444:5555:6666:7777:8888]:65535");
}

static void test_format_v4_mapped_as_ipv4(void **state)
{
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(1234)};

    (void)state;
    assert_int_equal(inet_pton(AF_INET6, "::ffff:192.0.2.1", &in6.sin6_addr), 1);
    format_is(&in6, sizeof in6, "192.0.2.1:1234");
}

static void test_format_unix_path(void **state)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    socklen_t len;

    (void)state;
    strcpy(un.sun_path, "/run/x.sock");
    len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(un.sun_path) + 1);
    format_is(&un, len, "/run/x.sock");
    format_is(&un, sizeof un, "/run/x.sock");
    /* The kernel may leave out the NUL. */
    format_is(&un, len - 1, "/run/x.sock");
}

static void test_format_unix_path_filling_sun_path(void **state)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    char want[ADDR_PATH_MAX + 1];

    (void)state;
    memset(un.sun_path, 'p', sizeof un.sun_path); /* no NUL at all */
    un.sun_path[0] = '/';
    memcpy(want, un.sun_path, sizeof un.sun_path);
    want[sizeof un.sun_path] = '\0';
    format_is(&un, sizeof un, want);
}

static void test_format_unix_unnamed(void **state)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};

    (void)state;
    format_is(&un, sizeof(sa_family_t), "unix");
}

static void test_format_unix_abstract(void **state)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    socklen_t len;

    (void)state;
    memcpy(un.sun_path, "\0hellod", 7);
    len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 7);
    format_is(&un, len, "@hellod");
}

static void test_format_unix_abstract_autobind(void **state)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    socklen_t len;

    (void)state;
    memcpy(un.sun_path,
           "\0"
           "0001f",
           6); /* as the kernel autobinds */
    len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 6);
    format_is(&un, len, "@0001f");
}

static void test_format_unknown_family(void **state)
{
    struct sockaddr sa = {.sa_family = AF_APPLETALK};
    char want[32];

    (void)state;
    snprintf(want, sizeof want, "(family %d)", AF_APPLETALK);
    format_is(&sa, sizeof sa, want);
}

static void test_format_small_buffer_terminated(void **state)
{
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(8080)};
    char buf[16];

    (void)state;
    in6.sin6_addr = in6addr_loopback;
    memset(buf, 'x', sizeof buf);
    addr_format((const struct sockaddr *)&in6, sizeof in6, buf, 6);
    assert_string_equal(buf, "[::1]");
    for (size_t k = 6; k < sizeof buf; k++)
        assert_int_equal(buf[k], 'x');
}

/* --- address ranges (proxy_from) ------------------------------------------ */

static struct sockaddr_in v4(const char *a)
{
    struct sockaddr_in in = {.sin_family = AF_INET};

    assert_int_equal(inet_pton(AF_INET, a, &in.sin_addr), 1);
    return in;
}

static struct sockaddr_in6 v6(const char *a)
{
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};

    assert_int_equal(inet_pton(AF_INET6, a, &in6.sin6_addr), 1);
    return in6;
}

static void test_cidr_v4_range(void **state)
{
    struct cidr c;
    struct sockaddr_in in = v4("10.200.3.4"), out = v4("11.0.0.1");

    (void)state;
    assert_int_equal(addr_cidr_parse("10.0.0.0/8", &c), 0);
    assert_int_equal(c.family, AF_INET);
    assert_int_equal(c.prefix, 8);
    assert_true(addr_cidr_match(&c, (struct sockaddr *)&in));
    assert_false(addr_cidr_match(&c, (struct sockaddr *)&out));
}

static void test_cidr_single_address_is_full_prefix(void **state)
{
    struct cidr c;
    struct sockaddr_in same = v4("127.0.0.1"), next = v4("127.0.0.2");

    (void)state;
    assert_int_equal(addr_cidr_parse("127.0.0.1", &c), 0);
    assert_int_equal(c.prefix, 32);
    assert_true(addr_cidr_match(&c, (struct sockaddr *)&same));
    assert_false(addr_cidr_match(&c, (struct sockaddr *)&next));
}

static void test_cidr_host_bits_are_cleared(void **state)
{
    struct cidr c;
    char buf[64];

    (void)state;
    assert_int_equal(addr_cidr_parse("10.1.2.3/8", &c), 0);
    addr_cidr_format(&c, buf, sizeof buf);
    assert_string_equal(buf, "10.0.0.0/8");
    assert_int_equal(addr_cidr_parse("2001:db8::1/32", &c), 0);
    addr_cidr_format(&c, buf, sizeof buf);
    assert_string_equal(buf, "2001:db8::/32");
}

static void test_cidr_v6_and_mapped_v4(void **state)
{
    struct cidr c6, c4;
    struct sockaddr_in6 in = v6("2001:db8:ff::1"), mapped = v6("::ffff:192.0.2.9");

    (void)state;
    assert_int_equal(addr_cidr_parse("2001:db8::/32", &c6), 0);
    assert_true(addr_cidr_match(&c6, (struct sockaddr *)&in));
    assert_false(addr_cidr_match(&c6, (struct sockaddr *)&mapped));
    assert_int_equal(addr_cidr_parse("192.0.2.0/24", &c4), 0);
    assert_true(addr_cidr_match(&c4, (struct sockaddr *)&mapped)); /* a dual-stack IPv4 client */
}

static void test_cidr_prefix_zero_matches_the_family(void **state)
{
    struct cidr c;
    struct sockaddr_in any = v4("203.0.113.1");
    struct sockaddr_in6 other = v6("::1");

    (void)state;
    assert_int_equal(addr_cidr_parse("0.0.0.0/0", &c), 0);
    assert_true(addr_cidr_match(&c, (struct sockaddr *)&any));
    assert_false(addr_cidr_match(&c, (struct sockaddr *)&other));
}

static void test_cidr_errors(void **state)
{
    struct cidr c;
    struct sockaddr_un un = {.sun_family = AF_UNIX};

    (void)state;
    assert_int_equal(addr_cidr_parse("10.0.0.0/33", &c), -ERANGE);
    assert_int_equal(addr_cidr_parse("::/129", &c), -ERANGE);
    assert_int_equal(addr_cidr_parse("10.0.0.0/", &c), -EINVAL);
    assert_int_equal(addr_cidr_parse("10.0.0.0/x", &c), -EINVAL);
    assert_int_equal(addr_cidr_parse("/8", &c), -EINVAL);
    assert_int_equal(addr_cidr_parse("localhost", &c), -EINVAL);
    assert_int_equal(addr_cidr_parse("[::1]", &c), -EINVAL);
    assert_int_equal(addr_cidr_parse("", &c), -EINVAL);
    assert_int_equal(addr_cidr_parse("127.0.0.1", &c), 0);
    assert_false(addr_cidr_match(&c, (struct sockaddr *)&un));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cidr_v4_range),
        cmocka_unit_test(test_cidr_single_address_is_full_prefix),
        cmocka_unit_test(test_cidr_host_bits_are_cleared),
        cmocka_unit_test(test_cidr_v6_and_mapped_v4),
        cmocka_unit_test(test_cidr_prefix_zero_matches_the_family),
        cmocka_unit_test(test_cidr_errors),
        cmocka_unit_test(test_port),
        cmocka_unit_test(test_port_zero),
        cmocka_unit_test(test_port_max),
        cmocka_unit_test(test_port_over_max_erange),
        cmocka_unit_test(test_port_junk_einval),
        cmocka_unit_test(test_ipv4_host_port),
        cmocka_unit_test(test_name_host_port),
        cmocka_unit_test(test_bracketed_ipv6),
        cmocka_unit_test(test_bracketed_ipv6_any_port_zero),
        cmocka_unit_test(test_bare_ipv6_needs_brackets),
        cmocka_unit_test(test_bracketed_without_port),
        cmocka_unit_test(test_bracketed_not_ipv6),
        cmocka_unit_test(test_bracketed_port_over_max),
        cmocka_unit_test(test_unix_path),
        cmocka_unit_test(test_unix_path_longest),
        cmocka_unit_test(test_unix_path_too_long),
        cmocka_unit_test(test_relative_path_einval),
        cmocka_unit_test(test_host_longest),
        cmocka_unit_test(test_host_too_long),
        cmocka_unit_test(test_empty_host),
        cmocka_unit_test(test_empty_port),
        cmocka_unit_test(test_named_port),
        cmocka_unit_test(test_host_port_over_max),
        cmocka_unit_test(test_spec_format_round_trips),
        cmocka_unit_test(test_spec_format_leading_zeros_canonical),
        cmocka_unit_test(test_format_inet),
        cmocka_unit_test(test_format_inet6),
        cmocka_unit_test(test_format_inet6_longest),
        cmocka_unit_test(test_format_v4_mapped_as_ipv4),
        cmocka_unit_test(test_format_unix_path),
        cmocka_unit_test(test_format_unix_path_filling_sun_path),
        cmocka_unit_test(test_format_unix_unnamed),
        cmocka_unit_test(test_format_unix_abstract),
        cmocka_unit_test(test_format_unix_abstract_autobind),
        cmocka_unit_test(test_format_unknown_family),
        cmocka_unit_test(test_format_small_buffer_terminated),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
