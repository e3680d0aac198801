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

/* GET of /metrics, HTTP/1.0 and 1.1, with any query or fragment; in the
 * absolute form proxies send; lines ended by a bare LF or a mix; any
 * headers; anything after the blank line is not read. */
static const char *const get_metrics[] = {
    "GET /metrics HTTP/1.0\r\n\r\n",
    "GET /metrics HTTP/1.1\r\n\r\n",
    "GET /metrics HTTP/1.9\r\n\r\n",
    "GET /metrics?x HTTP/1.0\r\n\r\n",
    "GET /metrics? HTTP/1.0\r\n\r\n",
    "GET /metrics?name[]=a&b=%20/c HTTP/1.0\r\n\r\n",
    "GET /metrics#top HTTP/1.1\r\n\r\n",
    "GET /metrics?a#b HTTP/1.1\r\n\r\n",
    /* the absolute form proxies send */
    "GET http://127.0.0.1:9100/metrics HTTP/1.1\r\n\r\n",
    "GET https://[::1]:9100/metrics?q HTTP/1.1\r\n\r\n",
    "GET http:///metrics HTTP/1.1\r\n\r\n",
    "GET a+b.c-d://u@h:1/metrics HTTP/1.1\r\n\r\n",
    /* lines ended by a bare LF, or a mix */
    "GET /metrics HTTP/1.0\n\n",
    "GET /metrics HTTP/1.1\nHost: x\nAccept: */*\n\n",
    "GET /metrics HTTP/1.1\r\nHost: x\n\r\n",
    "GET /metrics HTTP/1.1\nHost: x\r\n\n",
    /* what Prometheus itself sends */
    "GET /metrics HTTP/1.1\r\n"
    "Host: 127.0.0.1:9100\r\n"
    "User-Agent: Prometheus/2.42.0\r\n"
    "Accept: application/openmetrics-text;version=1.0.0,application/"
    "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n"
    "Accept-Encoding: gzip\r\n"
    "X-Prometheus-Scrape-Timeout-Seconds: 10\r\n"
    "\r\n",
    /* header names are tokens; values visible bytes, space, tab or >= 0x80 */
    "GET /metrics HTTP/1.1\r\nX-A!#$%&'*+.^_`|~: v\r\n\r\n",
    "GET /metrics HTTP/1.1\r\nEmpty:\r\n\r\n",
    "GET /metrics HTTP/1.1\r\nA::::\r\n\r\n",
    "GET /metrics HTTP/1.1\r\nLatin: caf\xc3\xa9\r\n\r\n",
    "GET /metrics HTTP/1.1\r\nA: \xff\xfe\x80\r\n\r\n",
    "GET /metrics HTTP/1.1\r\nTabbed:\tvalue \t\r\n\r\n",
    "GET /metrics HTTP/1.1\r\nA: \t \t\r\n\r\n",
    "GET /metrics HTTP/1.1\r\nA: a\r\nA: again\r\nB: b\r\n\r\n",
    /* anything after the blank line is not read */
    "GET /metrics HTTP/1.0\r\n\r\n\x16\x03garbage\r\n\r\n",
    "GET /metrics HTTP/1.0\r\n\r\nGET /metrics HTTP/1.0\r\n\r\n",
};

/* HEAD of /metrics: the response has no body. */
static const char *const head_metrics[] = {
    "HEAD /metrics HTTP/1.0\r\n\r\n",
    "HEAD /metrics?x HTTP/1.1\r\n\r\n",
    "HEAD /metrics?x HTTP/1.0\n\n",
};

/* No such resource, whatever the method. */
static const char *const not_found[] = {
    "GET / HTTP/1.0\r\n\r\n",
    "GET /metrics/ HTTP/1.0\r\n\r\n",
    "GET /metricsx HTTP/1.0\r\n\r\n",
    "GET /Metrics HTTP/1.0\r\n\r\n",
    "GET /metric HTTP/1.0\r\n\r\n",
    "GET //metrics HTTP/1.0\r\n\r\n",
    "GET /x/metrics HTTP/1.0\r\n\r\n",
    "GET /%6detrics HTTP/1.1\r\n\r\n",
    "GET /metricsx?y HTTP/1.0\r\n\r\n",
    "GET /?/metrics HTTP/1.0\r\n\r\n",
    "GET /favicon.ico HTTP/1.1\r\nHost: x\r\n\r\n",
    "POST /other HTTP/1.0\r\n\r\n",
    "GET /nope HTTP/1.0\n\n",
    "GET http://localhost:9100 HTTP/1.1\r\n\r\n",
    "GET http://localhost:9100/ HTTP/1.1\r\n\r\n",
    "GET http://localhost:9100?/metrics HTTP/1.1\r\n\r\n",
    "GET http:// HTTP/1.1\r\n\r\n",
    "GET http://h#/metrics HTTP/1.1\r\n\r\n",
};

static const char *const head_not_found[] = {
    "HEAD /nothing HTTP/1.0\r\n\r\n",
};

/* /metrics with another method than GET or HEAD. */
static const char *const bad_method[] = {
    /* the methods with a meaning elsewhere */
    "POST /metrics HTTP/1.0\r\n\r\n",
    "PUT /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
    "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
    "DELETE /metrics?x HTTP/1.1\r\n\r\n",
    "OPTIONS /metrics HTTP/1.1\r\n\r\n",
    /* near misses: methods are case-sensitive and whole */
    "get /metrics HTTP/1.0\r\n\r\n",
    "GETS /metrics HTTP/1.0\r\n\r\n",
    "HEADX /metrics HTTP/1.0\r\n\r\n",
    "HEA /metrics HTTP/1.1\r\n\r\n",
    /* any token is a method */
    "M-SEARCH /metrics HTTP/1.1\r\n\r\n",
    "X!#$%&'*+-.^_`|~9 /metrics HTTP/1.1\r\n\r\n",
};

/* Not HTTP/1.x (a NUL, which a C string cannot hold, is in test_nul). */
static const char *const bad[] = {
    /* the request line */
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
    "GET /metrics HTTP/0.9\r\n\r\n",
    "GET /metrics HTTP/1.10\r\n\r\n",
    "GET /metrics HTTP/1.\r\n\r\n",
    "GET /metrics HTTP/1\r\n\r\n",
    "GET /metrics HTTP/1.x\r\n\r\n",
    "GET /metrics HTTP/1.1x\r\n\r\n",
    "GET /metrics http/1.0\r\n\r\n",
    "GET /met\rrics HTTP/1.0\r\n\r\n",
    "GET /metrics HTTP/1.0\r\r\n\r\n",
    "G(T /metrics HTTP/1.0\r\n\r\n",
    "GE\"T /metrics HTTP/1.1\r\n\r\n",
    "G\x80T /metrics HTTP/1.1\r\n\r\n",
    "GET /metrics\x80 HTTP/1.1\r\n\r\n",
    "GET /metrics\x7f HTTP/1.1\r\n\r\n",
    "GET /\x01 HTTP/1.1\r\n\r\n",
    "GET metrics HTTP/1.1\r\n\r\n",
    "GET ://x/metrics HTTP/1.1\r\n\r\n",
    "GET http:/metrics HTTP/1.1\r\n\r\n",
    "GET http: HTTP/1.1\r\n\r\n",
    "GET h_p://x/metrics HTTP/1.1\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\n\r\n",
    /* a header */
    "GET /metrics HTTP/1.0\r\nno colon\r\n\r\n",
    "GET /metrics HTTP/1.0\r\nHost : x\r\n\r\n",
    "GET /metrics HTTP/1.0\r\n: x\r\n\r\n",
    "GET /metrics HTTP/1.0\r\nHost: x\r\n folded\r\n\r\n",
    "GET /metrics HTTP/1.1\r\n\tA: v\r\n\r\n",
    "GET /metrics HTTP/1.1\r\n \r\n\r\n",
    "GET /metrics HTTP/1.0\r\nHost: x\ry\r\n\r\n",
    "GET /metrics HTTP/1.1\r\nA: \r\r\n\r\n",
    "GET /metrics HTTP/1.1\r\n\r\r\n",
    "GET /metrics HTTP/1.0\r\nHost: \x1b[31m\r\n\r\n",
    "GET /metrics HTTP/1.1\r\nA: \x7f\r\n\r\n",
    "GET /metrics HTTP/1.1\r\nA: \x01\r\n\r\n",
    "GET /metrics HTTP/1.1\r\nA\x80: v\r\n\r\n",
    "GET /metrics HTTP/1.1\r\nA\t: v\r\n\r\n",
    /* other protocols */
    "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", /* a TLS ClientHello */
    "SSH-2.0-OpenSSH_9.2\r\n",
    "Hello from client\n",
};

/* Each table and its answer; head: whether its requests are HEADs. */
static const struct shapes {
    const char *const *reqs;
    size_t n;
    enum http_result want;
    bool head;
} shapes[] = {
    {get_metrics, ARRAY_SIZE(get_metrics), HTTP_METRICS, false},
    {head_metrics, ARRAY_SIZE(head_metrics), HTTP_METRICS, true},
    {not_found, ARRAY_SIZE(not_found), HTTP_NOT_FOUND, false},
    {head_not_found, ARRAY_SIZE(head_not_found), HTTP_NOT_FOUND, true},
    {bad_method, ARRAY_SIZE(bad_method), HTTP_BAD_METHOD, false},
    {bad, ARRAY_SIZE(bad), HTTP_BAD_REQUEST, false},
};

/* Beginnings of good requests: nothing wrong so far, so wait. */
static const char *const incomplete[] = {
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
    "GET /metrics HTTP/1.1\nHost: x\n",
    "POST /other HTTP/1.0\r\n",
};

/* Beginnings that are wrong already: said at once, with no waiting for a
 * blank line that may never come. */
static const char *const early_bad[] = {
    "\x16\x03",
    "Hello from c",
    "GET /metrics HTTP/2",
    "GET /metrics HTTP/1.1\rx",
    "GET /metrics HTTP/1.1\r\r",
    "GET /metrics HTTP/1.0\r\nbad header",
    "GET /metrics HTTP/1.0\r\n\tfolded",
};

/* Where the first blank line ends, or 0. */
static size_t blank_line_end(const char *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (p[i] == '\n' && p[i + 1] == '\n')
            return i + 2;
        if (p[i] == '\n' && i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* Each prefix of buf[0..len), from a heap block of exactly its size (so that
 * a read past it shows under ASan): HTTP_INCOMPLETE, then from some length on
 * one answer that more bytes never change. Returns that length. */
static size_t assert_final(const char *buf, size_t len)
{
    enum http_result first = HTTP_INCOMPLETE;
    size_t at = 0;

    for (size_t n = 0; n <= len; n++) {
        char *copy = malloc(n ? n : 1);
        enum http_result r;

        assert_non_null(copy);
        memcpy(copy, buf, n);
        r = http_parse_request(copy, n, NULL);
        free(copy);
        if (first != HTTP_INCOMPLETE)
            assert_int_equal(r, first);
        else
            at = n;
        first = r;
    }
    return at;
}

/* One request: its answer and HEAD flag; a good request is answered right at
 * its blank line, a bad one by then at the latest, and the answer stays. */
static void check_shape(const char *req, size_t len, enum http_result want, bool want_head)
{
    size_t end = blank_line_end(req, len);
    bool head = !want_head;
    enum http_result r = http_parse_request(req, len, &head);

    if (r != want)
        fail_msg("\"%.*s\": %d, not %d", (int)strcspn(req, "\r\n"), req, r, want);
    assert_int_equal(http_parse_request(req, len, NULL), want);
    if (want != HTTP_BAD_REQUEST) {
        assert_int_equal(head, want_head);
        assert_int_equal(assert_final(req, len), end);
    } else {
        assert_true(assert_final(req, len) <= (end ? end : len));
    }
}

static void test_shapes(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(shapes); i++)
        for (size_t j = 0; j < shapes[i].n; j++)
            check_shape(shapes[i].reqs[j], strlen(shapes[i].reqs[j]), shapes[i].want,
                        shapes[i].head);
}

/* A NUL anywhere is a bad byte. */
static void test_nul(void **state)
{
    static const char method[] = "GE\0T /metrics HTTP/1.1\r\n\r\n";
    static const char target[] = "GET /\0metrics HTTP/1.0\r\n\r\n";
    static const char name[] = "GET /metrics HTTP/1.1\r\nA\0: v\r\n\r\n";
    static const char value[] = "GET /metrics HTTP/1.0\r\nA: \0\r\n\r\n";

    (void)state;
    check_shape(method, sizeof method - 1, HTTP_BAD_REQUEST, false);
    check_shape(target, sizeof target - 1, HTTP_BAD_REQUEST, false);
    check_shape(name, sizeof name - 1, HTTP_BAD_REQUEST, false);
    check_shape(value, sizeof value - 1, HTTP_BAD_REQUEST, false);
}

static void test_incomplete(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(incomplete); i++)
        assert_int_equal(http_parse_request(incomplete[i], strlen(incomplete[i]), NULL),
                         HTTP_INCOMPLETE);
}

static void test_early_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(early_bad); i++)
        assert_int_equal(http_parse_request(early_bad[i], strlen(early_bad[i]), NULL),
                         HTTP_BAD_REQUEST);
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

static void test_over_long(void **state)
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

/* A full buffer is never incomplete: the endpoint reads no more than
 * HTTP_REQUEST_MAX bytes and counts on an answer by then, whatever came. */
static void test_full_buffer_is_answered(void **state)
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
static void test_limit_is_a_wall(void **state)
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
static void test_many_headers(void **state)
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
        cmocka_unit_test(test_shapes),          cmocka_unit_test(test_nul),
        cmocka_unit_test(test_incomplete),      cmocka_unit_test(test_early_bad),
        cmocka_unit_test(test_over_long),       cmocka_unit_test(test_full_buffer_is_answered),
        cmocka_unit_test(test_limit_is_a_wall), cmocka_unit_test(test_many_headers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
