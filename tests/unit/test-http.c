/* test-http.c - the metrics endpoint's request reader (src/svr-http.c):
 * every shape of request it takes and refuses, byte by byte as a client may
 * send it, at and past its size limit, and what a hostile client would try. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "svr-http.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* --- reading requests ----------------------------------------------------- */

static enum http_result parse(const char *s, bool *head)
{
    return http_parse_request(s, strlen(s), head);
}

/* Once an answer is not HTTP_INCOMPLETE, more bytes never change it. */
static void assert_final(const char *s, size_t len)
{
    enum http_result first = HTTP_INCOMPLETE;

    for (size_t n = 0; n <= len; n++) {
        enum http_result r = http_parse_request(s, n, NULL);

        if (first != HTTP_INCOMPLETE)
            assert_int_equal(r, first);
        first = r;
    }
}

static void test_parse_incomplete(void **state)
{
    static const char *const partial[] = {
        "",
        "G",
        "GET",
        "GET ",
        "GET /metr",
        "GET /metrics",
        "GET /metrics ",
        "GET /metrics HTTP/1.",
        "GET /metrics HTTP/1.1",
        "GET /metrics HTTP/1.1\r",
        "GET /metrics HTTP/1.1\r\n",
        "GET /metrics HTTP/1.1\r\nHost",
        "GET /metrics HTTP/1.1\r\nHost: localhost",
        "GET /metrics HTTP/1.1\r\nHost: localhost\r\n",
        "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r",
        "POST /other HTTP/1.0\r\n",
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(partial); i++)
        assert_int_equal(parse(partial[i], NULL), HTTP_INCOMPLETE);
}

static void test_parse_every_prefix_incomplete(void **state)
{
    const char req[] = "GET /metrics HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n";

    (void)state;
    for (size_t n = 0; n < sizeof req - 1; n++)
        assert_int_equal(http_parse_request(req, n, NULL), HTTP_INCOMPLETE);
    assert_int_equal(http_parse_request(req, sizeof req - 1, NULL), HTTP_METRICS);
}

static void test_parse_get(void **state)
{
    bool head = true;

    (void)state;
    assert_int_equal(parse("GET /metrics HTTP/1.0\r\n\r\n", &head), HTTP_METRICS);
    assert_false(head);
    assert_int_equal(parse("GET /metrics HTTP/1.0\r\n\r\n", NULL), HTTP_METRICS);
}

static void test_parse_head(void **state)
{
    bool head = false;

    (void)state;
    assert_int_equal(parse("HEAD /metrics HTTP/1.0\r\n\r\n", &head), HTTP_METRICS);
    assert_true(head);
    assert_int_equal(parse("HEAD /nothing HTTP/1.0\r\n\r\n", &head), HTTP_NOT_FOUND);
    assert_true(head);
}

static void test_parse_other_method(void **state)
{
    bool head = true;

    (void)state;
    assert_int_equal(parse("POST /metrics HTTP/1.0\r\n\r\n", &head), HTTP_BAD_METHOD);
    assert_false(head);
    assert_int_equal(parse("PUT /metrics HTTP/1.1\r\nHost: x\r\n\r\n", NULL), HTTP_BAD_METHOD);
    assert_int_equal(parse("DELETE /metrics?x HTTP/1.1\r\n\r\n", NULL), HTTP_BAD_METHOD);
    assert_int_equal(parse("OPTIONS /metrics HTTP/1.1\r\n\r\n", NULL), HTTP_BAD_METHOD);
    /* Methods are case-sensitive. */
    assert_int_equal(parse("get /metrics HTTP/1.0\r\n\r\n", NULL), HTTP_BAD_METHOD);
    assert_int_equal(parse("GETS /metrics HTTP/1.0\r\n\r\n", NULL), HTTP_BAD_METHOD);
    assert_int_equal(parse("HEADX /metrics HTTP/1.0\r\n\r\n", NULL), HTTP_BAD_METHOD);
}

static void test_parse_other_path(void **state)
{
    static const char *const requests[] = {
        "GET / HTTP/1.0\r\n\r\n",
        "GET /metrics/ HTTP/1.0\r\n\r\n",
        "GET /metricsx HTTP/1.0\r\n\r\n",
        "GET /Metrics HTTP/1.0\r\n\r\n",
        "GET /metric HTTP/1.0\r\n\r\n",
        "GET //metrics HTTP/1.0\r\n\r\n",
        "GET /x/metrics HTTP/1.0\r\n\r\n",
        "GET /favicon.ico HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /other HTTP/1.0\r\n\r\n", /* no such resource, whatever the method */
        "GET http://localhost:9100 HTTP/1.1\r\n\r\n",
        "GET http://localhost:9100/ HTTP/1.1\r\n\r\n",
        "GET http://localhost:9100?/metrics HTTP/1.1\r\n\r\n",
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(requests); i++)
        assert_int_equal(parse(requests[i], NULL), HTTP_NOT_FOUND);
}

static void test_parse_query_string(void **state)
{
    (void)state;
    assert_int_equal(parse("GET /metrics?x HTTP/1.0\r\n\r\n", NULL), HTTP_METRICS);
    assert_int_equal(parse("GET /metrics? HTTP/1.0\r\n\r\n", NULL), HTTP_METRICS);
    assert_int_equal(parse("GET /metrics?name[]=a&b=%20/c HTTP/1.0\r\n\r\n", NULL), HTTP_METRICS);
    assert_int_equal(parse("GET /metricsx?y HTTP/1.0\r\n\r\n", NULL), HTTP_NOT_FOUND);
    assert_int_equal(parse("GET /?/metrics HTTP/1.0\r\n\r\n", NULL), HTTP_NOT_FOUND);
}

/* What proxies send: the absolute form. */
static void test_parse_absolute_form(void **state)
{
    (void)state;
    assert_int_equal(parse("GET http://127.0.0.1:9100/metrics HTTP/1.1\r\n\r\n", NULL),
                     HTTP_METRICS);
    assert_int_equal(parse("GET https://[::1]:9100/metrics?q HTTP/1.1\r\n\r\n", NULL),
                     HTTP_METRICS);
    assert_int_equal(parse("GET ://x/metrics HTTP/1.1\r\n\r\n", NULL), HTTP_BAD_REQUEST);
    assert_int_equal(parse("GET metrics HTTP/1.1\r\n\r\n", NULL), HTTP_BAD_REQUEST);
    assert_int_equal(parse("OPTIONS * HTTP/1.1\r\n\r\n", NULL), HTTP_BAD_REQUEST);
}

/* What Prometheus itself sends. */
static void test_parse_http11_with_headers(void **state)
{
    const char req[] = "GET /metrics HTTP/1.1\r\n"
                       "Host: 127.0.0.1:9100\r\n"
                       "User-Agent: Prometheus/2.42.0\r\n"
                       "Accept: application/openmetrics-text;version=1.0.0,application/"
                       "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/"
                       "*;q=0.1\r\n"
                       "Accept-Encoding: gzip\r\n"
                       "X-Prometheus-Scrape-Timeout-Seconds: 10\r\n"
                       "Empty:\r\n"
                       "Tabbed:\tvalue \t\r\n"
                       "Latin: caf\xc3\xa9\r\n"
                       "\r\n";

    (void)state;
    assert_int_equal(parse(req, NULL), HTTP_METRICS);
    assert_final(req, sizeof req - 1);
}

static void test_parse_bare_lf(void **state)
{
    (void)state;
    assert_int_equal(parse("GET /metrics HTTP/1.0\n\n", NULL), HTTP_METRICS);
    assert_int_equal(parse("GET /metrics HTTP/1.1\nHost: x\nAccept: */*\n\n", NULL), HTTP_METRICS);
    assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: x\n\r\n", NULL), HTTP_METRICS);
    assert_int_equal(parse("GET /metrics HTTP/1.1\nHost: x\r\n\n", NULL), HTTP_METRICS);
    assert_int_equal(parse("GET /metrics HTTP/1.1\nHost: x\n", NULL), HTTP_INCOMPLETE);
    assert_int_equal(parse("GET /nope HTTP/1.0\n\n", NULL), HTTP_NOT_FOUND);
}

static void test_parse_garbage(void **state)
{
    static const char *const requests[] = {
        "\r\n\r\n",
        "\n\n",
        " GET /metrics HTTP/1.0\r\n\r\n",
        "GET  /metrics HTTP/1.0\r\n\r\n",
        "GET /metrics  HTTP/1.0\r\n\r\n",
        "GET /metrics HTTP/1.0 \r\n\r\n",
        "GET\t/metrics HTTP/1.0\r\n\r\n",
        "GET /metrics\r\n\r\n", /* HTTP/0.9 */
        "GET\r\n\r\n",
        "GET /metrics HTTP/2.0\r\n\r\n",
        "GET /metrics HTTP/1.10\r\n\r\n",
        "GET /metrics HTTP/1\r\n\r\n",
        "GET /metrics HTTP/1.x\r\n\r\n",
        "GET /metrics http/1.0\r\n\r\n",
        "GET /metrics HTTP/1.0\r\nno colon\r\n\r\n",
        "GET /metrics HTTP/1.0\r\nHost : x\r\n\r\n",
        "GET /metrics HTTP/1.0\r\n: x\r\n\r\n",
        "GET /metrics HTTP/1.0\r\nHost: x\r\n folded\r\n\r\n",
        "GET /metrics HTTP/1.0\r\nHost: x\ry\r\n\r\n",
        "GET /metrics HTTP/1.0\r\nHost: \x1b[31m\r\n\r\n",
        "GET /met\rrics HTTP/1.0\r\n\r\n",
        "GET /metrics HTTP/1.0\r\r\n\r\n",
        "G(T /metrics HTTP/1.0\r\n\r\n",
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", /* a TLS ClientHello */
        "SSH-2.0-OpenSSH_9.2\r\n",
        "Hello from client\n",
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(requests); i++) {
        assert_int_equal(parse(requests[i], NULL), HTTP_BAD_REQUEST);
        assert_final(requests[i], strlen(requests[i]));
    }
    /* A NUL, which a C string cannot hold. */
    assert_int_equal(http_parse_request("GET /\0metrics HTTP/1.0\r\n\r\n", 26, NULL),
                     HTTP_BAD_REQUEST);
    assert_int_equal(http_parse_request("GET /metrics HTTP/1.0\r\nA: \0\r\n\r\n", 31, NULL),
                     HTTP_BAD_REQUEST);
}

/* Garbage is said at once: no waiting for a blank line that never comes. */
static void test_parse_garbage_early(void **state)
{
    (void)state;
    assert_int_equal(http_parse_request("\x16\x03", 2, NULL), HTTP_BAD_REQUEST);
    assert_int_equal(parse("Hello from c", NULL), HTTP_BAD_REQUEST);
    assert_int_equal(parse("GET /metrics HTTP/2", NULL), HTTP_BAD_REQUEST);
    assert_int_equal(parse("GET /metrics HTTP/1.0\r\nbad header", NULL), HTTP_BAD_REQUEST);
    assert_int_equal(parse("GET /metrics HTTP/1.0\r\n\tfolded", NULL), HTTP_BAD_REQUEST);
}

static void test_parse_ignores_what_follows(void **state)
{
    const char req[] = "GET /metrics HTTP/1.0\r\n\r\n\x16\x03garbage\r\n\r\n";

    (void)state;
    assert_int_equal(parse(req, NULL), HTTP_METRICS);
    assert_final(req, sizeof req - 1);
}

/* A request of n bytes: a request line, a header padded to fill, the blank
 * line. */
static char *request_of(size_t n)
{
    static const char line[] = "GET /metrics HTTP/1.1\r\nX-Pad: ";
    char *b = malloc(n + 1);

    assert_non_null(b);
    assert_true(n >= sizeof line - 1 + 4);
    memcpy(b, line, sizeof line - 1);
    memset(b + sizeof line - 1, 'p', n - (sizeof line - 1) - 4);
    memcpy(b + n - 4, "\r\n\r\n", 5);
    return b;
}

static void test_parse_over_long(void **state)
{
    char *fits = request_of(HTTP_REQUEST_MAX), *over = request_of(HTTP_REQUEST_MAX + 1);
    char line[HTTP_REQUEST_MAX + 8];

    (void)state;
    assert_int_equal(http_parse_request(fits, HTTP_REQUEST_MAX, NULL), HTTP_METRICS);
    assert_int_equal(http_parse_request(over, HTTP_REQUEST_MAX - 1, NULL), HTTP_INCOMPLETE);
    assert_int_equal(http_parse_request(over, HTTP_REQUEST_MAX, NULL), HTTP_TOO_LARGE);
    assert_int_equal(http_parse_request(over, HTTP_REQUEST_MAX + 1, NULL), HTTP_TOO_LARGE);
    assert_final(over, HTTP_REQUEST_MAX + 1);
    /* A request line that never ends. */
    memcpy(line, "GET /", 5);
    memset(line + 5, 'a', sizeof line - 5);
    assert_int_equal(http_parse_request(line, HTTP_REQUEST_MAX - 1, NULL), HTTP_INCOMPLETE);
    assert_int_equal(http_parse_request(line, HTTP_REQUEST_MAX, NULL), HTTP_TOO_LARGE);
    free(fits);
    free(over);
}

/* The version's minor digit is any digit; the major must be 1. */
static void test_parse_versions(void **state)
{
    bool head = true;

    (void)state;
    assert_int_equal(parse("GET /metrics HTTP/1.0\r\n\r\n", &head), HTTP_METRICS);
    assert_int_equal(parse("GET /metrics HTTP/1.1\r\n\r\n", &head), HTTP_METRICS);
    assert_int_equal(parse("GET /metrics HTTP/1.9\r\n\r\n", &head), HTTP_METRICS);
    assert_false(head);
    assert_int_equal(parse("GET /metrics HTTP/0.9\r\n\r\n", NULL), HTTP_BAD_REQUEST);
    assert_int_equal(parse("GET /metrics HTTP/1.\r\n\r\n", NULL), HTTP_BAD_REQUEST);
    assert_int_equal(parse("GET /metrics HTTP/1.1x\r\n\r\n", NULL), HTTP_BAD_REQUEST);
    assert_int_equal(parse("GET /metrics HTTP/1.1\r", NULL), HTTP_INCOMPLETE);
    assert_int_equal(parse("GET /metrics HTTP/1.1\rx", NULL), HTTP_BAD_REQUEST);
    assert_int_equal(parse("GET /metrics HTTP/1.1\r\r", NULL), HTTP_BAD_REQUEST);
}

/* Any token is a method; only GET and HEAD of /metrics are served. */
static void test_parse_method_tokens(void **state)
{
    bool head = true;

    (void)state;
    assert_int_equal(parse("M-SEARCH /metrics HTTP/1.1\r\n\r\n", &head), HTTP_BAD_METHOD);
    assert_false(head);
    assert_int_equal(parse("X!#$%&'*+-.^_`|~9 /metrics HTTP/1.1\r\n\r\n", NULL), HTTP_BAD_METHOD);
    assert_int_equal(parse("HEA /metrics HTTP/1.1\r\n\r\n", NULL), HTTP_BAD_METHOD);
    assert_int_equal(parse("G\x80T /metrics HTTP/1.1\r\n\r\n", NULL), HTTP_BAD_REQUEST);
    assert_int_equal(parse("GE\"T /metrics HTTP/1.1\r\n\r\n", NULL), HTTP_BAD_REQUEST);
    assert_int_equal(http_parse_request("GE\0T /metrics HTTP/1.1\r\n\r\n", 26, NULL),
                     HTTP_BAD_REQUEST);
}

/* The target: visible ASCII only; the fragment and query are not the path. */
static void test_parse_target_bytes(void **state)
{
    (void)state;
    assert_int_equal(parse("GET /metrics#top HTTP/1.1\r\n\r\n", NULL), HTTP_METRICS);
    assert_int_equal(parse("GET /metrics?a#b HTTP/1.1\r\n\r\n", NULL), HTTP_METRICS);
    assert_int_equal(parse("GET /%6detrics HTTP/1.1\r\n\r\n", NULL), HTTP_NOT_FOUND);
    assert_int_equal(parse("GET /metrics\x80 HTTP/1.1\r\n\r\n", NULL), HTTP_BAD_REQUEST);
    assert_int_equal(parse("GET /metrics\x7f HTTP/1.1\r\n\r\n", NULL), HTTP_BAD_REQUEST);
    assert_int_equal(parse("GET /\x01 HTTP/1.1\r\n\r\n", NULL), HTTP_BAD_REQUEST);
    assert_int_equal(parse("GET http:/metrics HTTP/1.1\r\n\r\n", NULL), HTTP_BAD_REQUEST);
    assert_int_equal(parse("GET http: HTTP/1.1\r\n\r\n", NULL), HTTP_BAD_REQUEST);
    assert_int_equal(parse("GET h_p://x/metrics HTTP/1.1\r\n\r\n", NULL), HTTP_BAD_REQUEST);
    assert_int_equal(parse("GET http:// HTTP/1.1\r\n\r\n", NULL), HTTP_NOT_FOUND);
    assert_int_equal(parse("GET http:///metrics HTTP/1.1\r\n\r\n", NULL), HTTP_METRICS);
    assert_int_equal(parse("GET a+b.c-d://u@h:1/metrics HTTP/1.1\r\n\r\n", NULL), HTTP_METRICS);
    assert_int_equal(parse("GET http://h#/metrics HTTP/1.1\r\n\r\n", NULL), HTTP_NOT_FOUND);
}

/* Header names are tokens; values are visible bytes, space, tab, or >= 0x80. */
static void test_parse_header_bytes(void **state)
{
    static const char *const good[] = {
        "GET /metrics HTTP/1.1\r\nX-A!#$%&'*+.^_`|~: v\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nA:\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nA::::\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nA: \xff\xfe\x80\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nA: \t \t\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nA: a\r\nA: again\r\nB: b\r\n\r\n",
    };
    static const char *const bad[] = {
        "GET /metrics HTTP/1.1\r\nA\x80: v\r\n\r\n", "GET /metrics HTTP/1.1\r\nA\t: v\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nA: \x7f\r\n\r\n",  "GET /metrics HTTP/1.1\r\nA: \x01\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nA: \r\r\n\r\n",    "GET /metrics HTTP/1.1\r\n\r\r\n",
        "GET /metrics HTTP/1.1\r\n \r\n\r\n",        "GET /metrics HTTP/1.1\r\n\tA: v\r\n\r\n",
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        assert_int_equal(parse(good[i], NULL), HTTP_METRICS);
        assert_final(good[i], strlen(good[i]));
    }
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_int_equal(parse(bad[i], NULL), HTTP_BAD_REQUEST);
        assert_final(bad[i], strlen(bad[i]));
    }
    assert_int_equal(http_parse_request("GET /metrics HTTP/1.1\r\nA\0: v\r\n\r\n", 31, NULL),
                     HTTP_BAD_REQUEST);
}

/* The answer never depends on where the bytes were split: each prefix of a
 * request is incomplete until its answer, which then stays. */
static void test_parse_any_split(void **state)
{
    static const char *const requests[] = {
        "GET /metrics HTTP/1.1\r\nHost: h\r\n\r\n",
        "HEAD /metrics?x HTTP/1.0\n\n",
        "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
        "GET /nothing HTTP/1.1\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nbad\r\n\r\n",
        "GET http://h:1/metrics HTTP/1.1\r\n\r\n",
    };
    static const enum http_result want[] = {HTTP_METRICS,   HTTP_METRICS,     HTTP_BAD_METHOD,
                                            HTTP_NOT_FOUND, HTTP_BAD_REQUEST, HTTP_METRICS};

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(requests); i++) {
        size_t len = strlen(requests[i]);

        assert_final(requests[i], len);
        assert_int_equal(parse(requests[i], NULL), want[i]);
        if (want[i] != HTTP_BAD_REQUEST)
            assert_int_equal(http_parse_request(requests[i], len - 1, NULL), HTTP_INCOMPLETE);
    }
}

/* A full buffer is never incomplete: the endpoint reads no more than
 * HTTP_REQUEST_MAX bytes and counts on an answer by then, whatever came. */
static void test_parse_full_buffer_is_answered(void **state)
{
    static const char *const fills[] = {"a", "A: b\r\n", "\r", "GET /metrics HTTP/1.1\r\n", " "};
    char buf[HTTP_REQUEST_MAX + 1];

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(fills); i++) {
        size_t fl = strlen(fills[i]);

        memcpy(buf, "GET /metrics HTTP/1.1\r\n", 23);
        for (size_t n = 23; n < sizeof buf; n++)
            buf[n] = fills[i][(n - 23) % fl];
        assert_int_not_equal(http_parse_request(buf, HTTP_REQUEST_MAX, NULL), HTTP_INCOMPLETE);
        assert_final(buf, sizeof buf);
    }
}

/* Past the limit nothing is read: a bad byte there does not make the answer
 * 400, and a blank line there comes too late. */
static void test_parse_limit_is_a_wall(void **state)
{
    char *req = request_of(HTTP_REQUEST_MAX + 4);

    (void)state;
    req[HTTP_REQUEST_MAX] = '\x01';
    assert_int_equal(http_parse_request(req, HTTP_REQUEST_MAX + 4, NULL), HTTP_TOO_LARGE);
    req[40] = '\x01'; /* but a bad byte within it is found */
    assert_int_equal(http_parse_request(req, HTTP_REQUEST_MAX + 4, NULL), HTTP_BAD_REQUEST);
    free(req);
    /* A request line as long as the limit allows. */
    req = request_of(HTTP_REQUEST_MAX);
    memcpy(req, "GET /", 5);
    memset(req + 5, 'x', HTTP_REQUEST_MAX - 5 - 11);
    memcpy(req + HTTP_REQUEST_MAX - 11, " HTTP/1.1\n\n", 11);
    assert_int_equal(http_parse_request(req, HTTP_REQUEST_MAX - 1, NULL), HTTP_INCOMPLETE);
    assert_int_equal(http_parse_request(req, HTTP_REQUEST_MAX, NULL), HTTP_NOT_FOUND);
    free(req);
}

/* Many small headers cost no more than one long one. */
static void test_parse_many_headers(void **state)
{
    char req[HTTP_REQUEST_MAX];
    size_t n = 0;

    (void)state;
    n += (size_t)snprintf(req, sizeof req, "GET /metrics HTTP/1.1\r\n");
    while (n + 4 + 2 <= sizeof req) {
        memcpy(req + n, "A:\r\n", 4);
        n += 4;
    }
    memcpy(req + n, "\r\n", 2);
    assert_int_equal(http_parse_request(req, n + 2, NULL), HTTP_METRICS);
    assert_int_equal(http_parse_request(req, n, NULL), HTTP_INCOMPLETE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_incomplete),
        cmocka_unit_test(test_parse_every_prefix_incomplete),
        cmocka_unit_test(test_parse_get),
        cmocka_unit_test(test_parse_head),
        cmocka_unit_test(test_parse_other_method),
        cmocka_unit_test(test_parse_other_path),
        cmocka_unit_test(test_parse_query_string),
        cmocka_unit_test(test_parse_absolute_form),
        cmocka_unit_test(test_parse_http11_with_headers),
        cmocka_unit_test(test_parse_bare_lf),
        cmocka_unit_test(test_parse_garbage),
        cmocka_unit_test(test_parse_garbage_early),
        cmocka_unit_test(test_parse_ignores_what_follows),
        cmocka_unit_test(test_parse_over_long),
        cmocka_unit_test(test_parse_versions),
        cmocka_unit_test(test_parse_method_tokens),
        cmocka_unit_test(test_parse_target_bytes),
        cmocka_unit_test(test_parse_header_bytes),
        cmocka_unit_test(test_parse_any_split),
        cmocka_unit_test(test_parse_full_buffer_is_answered),
        cmocka_unit_test(test_parse_limit_is_a_wall),
        cmocka_unit_test(test_parse_many_headers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
