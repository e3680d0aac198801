/* test-proxy.c - the PROXY protocol header, versions 1 and 2 (src/proxy.c):
 * every field and every error, every prefix of every header, and the rule
 * that an answer once given never changes as more bytes arrive. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <cmocka.h>

#include "addr.h"
#include "proxy.h"

#define MESSAGE "Hello from client\n" /* the client's bytes after a header */

static const uint8_t SIG[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

/* --- helpers --------------------------------------------------------------- */

/* Parses every prefix of buf[0..len), each from a heap block of exactly its
 * size (so that a read past the end shows under ASan), and checks that the
 * answers are 0 up to some length and the same answer from there on, and that
 * the header is written only with a positive answer. Returns that length (len
 * + 1 when every answer is 0) and the answer in *r; h gets the header. */
static size_t decide(const void *buf, size_t len, unsigned versions, int *r, struct proxy_header *h)
{
    struct proxy_header poison, out;
    size_t at = len + 1;

    memset(&poison, 0xA5, sizeof poison);
    *r = 0;
    for (size_t n = 0; n <= len; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        int got;

        assert_non_null(copy);
        memcpy(copy, buf, n);
        out = poison;
        got = proxy_parse(copy, n, versions, &out);
        free(copy);
        if (got > 0) {
            assert_true((size_t)got <= n);
            assert_true(got <= PROXY_HEADER_MAX);
        } else {
            assert_memory_equal(&out, &poison, sizeof out);
        }
        if (at > len) {
            if (got != 0) {
                at = n;
                *r = got;
                if (got > 0 && h)
                    *h = out;
            }
        } else {
            assert_int_equal(got, *r);
        }
    }
    return at;
}

/* buf[0..len) is a whole header: alone and with a message after it. */
static void expect_ok(const void *buf, size_t len, unsigned versions, struct proxy_header *h)
{
    uint8_t more[PROXY_HEADER_MAX + sizeof MESSAGE + 8];
    int r;

    assert_true(len + sizeof MESSAGE <= sizeof more);
    assert_int_equal(decide(buf, len, versions, &r, h), len);
    assert_int_equal(r, (int)len);
    memcpy(more, buf, len);
    memcpy(more + len, MESSAGE, sizeof MESSAGE - 1);
    assert_int_equal(decide(more, len + sizeof MESSAGE - 1, versions, &r, NULL), len);
    assert_int_equal(r, (int)len);
    /* and whatever else is enabled */
    assert_int_equal(proxy_parse(buf, len, PROXY_ANY, NULL), (int)len);
}

/* buf[0..len) gets the error err; returns the length at which it came. */
static size_t expect_err(const void *buf, size_t len, unsigned versions, int err)
{
    int r;
    size_t at = decide(buf, len, versions, &r, NULL);

    assert_int_equal(r, err);
    return at;
}

static void v1_ok(const char *line, struct proxy_header *h)
{
    expect_ok(line, strlen(line), PROXY_V1, h);
    assert_int_equal(h->version, PROXY_V1);
}

static size_t v1_err(const char *line, int err)
{
    return expect_err(line, strlen(line), PROXY_V1, err);
}

static void v1_more(const char *line)
{
    int r;

    assert_int_equal(decide(line, strlen(line), PROXY_V1, &r, NULL), strlen(line) + 1);
}

static void assert_addr(const struct sockaddr_storage *ss, socklen_t len, const char *want)
{
    char buf[ADDR_STRLEN];

    addr_format((const struct sockaddr *)ss, len, buf, sizeof buf);
    assert_string_equal(buf, want);
}

static void assert_tcp(const struct proxy_header *h, int family, const char *src, const char *dst)
{
    socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);

    assert_false(h->local);
    assert_int_equal(h->src.ss_family, family);
    assert_int_equal(h->dst.ss_family, family);
    assert_int_equal(h->src_len, len);
    assert_int_equal(h->dst_len, len);
    assert_addr(&h->src, h->src_len, src);
    assert_addr(&h->dst, h->dst_len, dst);
}

static void assert_local(const struct proxy_header *h)
{
    assert_true(h->local);
    assert_int_equal(h->src.ss_family, AF_UNSPEC);
    assert_int_equal(h->dst.ss_family, AF_UNSPEC);
    assert_int_equal(h->src_len, 0);
    assert_int_equal(h->dst_len, 0);
}

/* A v2 header into b: the signature, ver_cmd, fam, the length and body. */
static size_t v2(uint8_t *b, uint8_t ver_cmd, uint8_t fam, const void *body, size_t body_len)
{
    memcpy(b, SIG, sizeof SIG);
    b[12] = ver_cmd;
    b[13] = fam;
    b[14] = (uint8_t)(body_len >> 8);
    b[15] = (uint8_t)body_len;
    if (body_len)
        memcpy(b + 16, body, body_len);
    return 16 + body_len;
}

/* The address block of TCP over IPv4 into body; returns its length, 12. */
static size_t inet_body(uint8_t *body, const char *src, const char *dst, uint16_t sport,
                        uint16_t dport)
{
    assert_int_equal(inet_pton(AF_INET, src, body), 1);
    assert_int_equal(inet_pton(AF_INET, dst, body + 4), 1);
    body[8] = (uint8_t)(sport >> 8);
    body[9] = (uint8_t)sport;
    body[10] = (uint8_t)(dport >> 8);
    body[11] = (uint8_t)dport;
    return 12;
}

static size_t inet6_body(uint8_t *body, const char *src, const char *dst, uint16_t sport,
                         uint16_t dport)
{
    assert_int_equal(inet_pton(AF_INET6, src, body), 1);
    assert_int_equal(inet_pton(AF_INET6, dst, body + 16), 1);
    body[32] = (uint8_t)(sport >> 8);
    body[33] = (uint8_t)sport;
    body[34] = (uint8_t)(dport >> 8);
    body[35] = (uint8_t)dport;
    return 36;
}

/* Two 108-byte UNIX addresses, NUL-padded; src_len/dst_len bytes of each. */
static size_t unix_body(uint8_t *body, const void *src, size_t src_len, const void *dst,
                        size_t dst_len)
{
    memset(body, 0, 216);
    memcpy(body, src, src_len);
    memcpy(body + 108, dst, dst_len);
    return 216;
}

/* A TLV at b: returns its length. */
static size_t tlv(uint8_t *b, uint8_t type, const void *value, size_t len)
{
    b[0] = type;
    b[1] = (uint8_t)(len >> 8);
    b[2] = (uint8_t)len;
    if (len)
        memcpy(b + 3, value, len);
    return 3 + len;
}

/* The usual header: PROXY, TCP over IPv4, 192.0.2.1:56324 -> 198.51.100.1:8080. */
static size_t v2_usual(uint8_t *b)
{
    uint8_t body[12];

    return v2(b, 0x21, 0x11, body, inet_body(body, "192.0.2.1", "198.51.100.1", 56324, 8080));
}

/* --- version 1 ---------------------------------------------------------------- */

static void test_v1_tcp4(void **state)
{
    struct proxy_header h;

    (void)state;
    v1_ok("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n", &h);
    assert_tcp(&h, AF_INET, "192.168.0.1:56324", "192.168.0.11:443");
}

static void test_v1_tcp4_longest(void **state)
{
    struct proxy_header h;
    const char *line = "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n";

    (void)state;
    assert_int_equal(strlen(line), 56);
    v1_ok(line, &h);
    assert_tcp(&h, AF_INET, "255.255.255.255:65535", "255.255.255.255:65535");
}

static void test_v1_tcp4_zeros(void **state)
{
    struct proxy_header h;

    (void)state;
    v1_ok("PROXY TCP4 0.0.0.0 10.0.0.1 0 0\r\n", &h);
    assert_tcp(&h, AF_INET, "0.0.0.0:0", "10.0.0.1:0");
    v1_ok("PROXY TCP4 100.200.0.10 0.100.20.0 10 60000\r\n", &h);
    assert_tcp(&h, AF_INET, "100.200.0.10:10", "0.100.20.0:60000");
}

static void test_v1_tcp6(void **state)
{
    struct proxy_header h;

    (void)state;
    v1_ok("PROXY TCP6 2001:db8::1 2001:db8::2 40000 8080\r\n", &h);
    assert_tcp(&h, AF_INET6, "[2001:db8::1]:40000", "[2001:db8::2]:8080");
}

static void test_v1_tcp6_longest(void **state)
{
    struct proxy_header h;
    const char *line = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
                       "FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF 65535 65535\r\n";

    (void)state;
    assert_int_equal(strlen(line), 104);
    v1_ok(line, &h);
    assert_tcp(&h, AF_INET6, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
               "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
}

static void test_v1_tcp6_v4_mapped(void **state)
{
    struct proxy_header h;

    (void)state;
    v1_ok("PROXY TCP6 ::ffff:192.0.2.7 :: 1234 80\r\n", &h);
    assert_tcp(&h, AF_INET6, "192.0.2.7:1234", "[::]:80");
}

static void test_v1_unknown_short(void **state)
{
    struct proxy_header h;

    (void)state;
    v1_ok("PROXY UNKNOWN\r\n", &h);
    assert_local(&h);
}

static void test_v1_unknown_longest(void **state)
{
    struct proxy_header h;
    const char *line = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
                       "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";

    (void)state;
    assert_int_equal(strlen(line), PROXY_V1_MAX);
    v1_ok(line, &h);
    assert_local(&h);
}

static void test_v1_unknown_anything_before_crlf(void **state)
{
    struct proxy_header h;
    const char line[] = "PROXY UNKNOWN  whatever\t\x01\x7f\xff \0 PROXY TCP4\r\n";

    (void)state;
    expect_ok(line, sizeof line - 1, PROXY_V1, &h);
    assert_local(&h);
}

static void test_v1_unknown_bad(void **state)
{
    (void)state;
    assert_int_equal(v1_err("PROXY UNKNOWNX\r\n", -EPROTO), 14);
    assert_int_equal(v1_err("PROXY UNKNOW\r\n", -EPROTO), 13);
    assert_int_equal(v1_err("PROXY UNKNOWN\n", -EPROTO), 14);
    assert_int_equal(v1_err("PROXY UNKNOWN \n", -EPROTO), 15);
    assert_int_equal(v1_err("PROXY UNKNOWN a\rb\r\n", -EPROTO), 17);
    assert_int_equal(v1_err("PROXY unknown\r\n", -EPROTO), 7);
}

static void test_v1_bad_magic_at_once(void **state)
{
    (void)state;
    assert_int_equal(v1_err("GET / HTTP/1.1\r\n", -EPROTO), 1);
    assert_int_equal(v1_err("Hello from client\n", -EPROTO), 1);
    assert_int_equal(v1_err("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", -EPROTO), 1);
    assert_int_equal(v1_err("PROXX TCP4 1.2.3.4 5.6.7.8 1 2\r\n", -EPROTO), 5);
    assert_int_equal(v1_err("PROXY\r\n", -EPROTO), 6);
    assert_int_equal(v1_err("PROXY\tTCP4 1.2.3.4 5.6.7.8 1 2\r\n", -EPROTO), 6);
    assert_int_equal(v1_err("PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n", -EPROTO), 6);
}

static void test_v1_bad_protocol(void **state)
{
    (void)state;
    assert_int_equal(v1_err("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", -EPROTO), 10);
    assert_int_equal(v1_err("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", -EPROTO), 8);
    assert_int_equal(v1_err("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", -EPROTO), 7);
    assert_int_equal(v1_err("PROXY TCP 1.2.3.4 5.6.7.8 1 2\r\n", -EPROTO), 10);
    assert_int_equal(v1_err("PROXY TCP44 1.2.3.4 5.6.7.8 1 2\r\n", -EPROTO), 11);
    assert_int_equal(v1_err("PROXY TCP4\r\n", -EPROTO), 11);
    assert_int_equal(v1_err("PROXY TCP4 \r\n", -EPROTO), 12);
    assert_int_equal(v1_err("PROXY \r\n", -EPROTO), 7);
}

static void test_v1_bad_ipv4(void **state)
{
    static const char *const bad[] = {
        "PROXY TCP4 256.1.1.1 5.6.7.8 1 2\r\n", "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n",
        "PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n", "PROXY TCP4 1..2.3 5.6.7.8 1 2\r\n",
        "PROXY TCP4 .1.2.3 5.6.7.8 1 2\r\n",    "PROXY TCP4 1.2.3.4. 5.6.7.8 1 2\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.256 1 2\r\n", "PROXY TCP4 1.2.3.4 5.6.7 1 2\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8. 1 2\r\n",
    };

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(v1_err(bad[i], -EPROTO), strlen(bad[i]));
}

static void test_v1_bad_ipv4_chars_at_once(void **state)
{
    (void)state;
    /* bytes no IPv4 address has, and too many of them, are refused without the CR LF */
    assert_int_equal(v1_err("PROXY TCP4 ::1 ::1 1 2\r\n", -EPROTO), 12);
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.a 5.6.7.8 1 2\r\n", -EPROTO), 18);
    assert_int_equal(v1_err("PROXY TCP4 localhost 5.6.7.8 1 2\r\n", -EPROTO), 12);
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.4 5.6.7.8x 1 2\r\n", -EPROTO), 27);
    assert_int_equal(v1_err("PROXY TCP4 1111.2222.3333.4444 5.6.7.8 1 2\r\n", -EPROTO), 27);
    assert_int_equal(v1_err("PROXY TCP4 -1.2.3.4 5.6.7.8 1 2\r\n", -EPROTO), 12);
    /* leading zeros, which could be read as octal */
    assert_int_equal(v1_err("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n", -EPROTO), 13);
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n", -EPROTO), 19);
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.4 5.6.7.0004 1 2\r\n", -EPROTO), 27);
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.4 00.6.7.8 1 2\r\n", -EPROTO), 21);
}

static void test_v1_bad_ipv6(void **state)
{
    static const char *const bad[] = {
        "PROXY TCP6 2001:db8:::1 ::1 1 2\r\n",
        "PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n",
        "PROXY TCP6 1:2:3:4:5:6:7 ::1 1 2\r\n",
        "PROXY TCP6 1::2::3 ::1 1 2\r\n",
        "PROXY TCP6 12345::1 ::1 1 2\r\n",
        "PROXY TCP6 1.2.3.4 ::1 1 2\r\n",
        "PROXY TCP6 ::1 5.6.7.8 1 2\r\n",
        "PROXY TCP6 ::ffff:1.2.3.256 ::1 1 2\r\n",
        "PROXY TCP6 ::1 : 1 2\r\n",
    };

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(v1_err(bad[i], -EPROTO), strlen(bad[i]));
    assert_int_equal(v1_err("PROXY TCP6 g::1 ::1 1 2\r\n", -EPROTO), 12);
    assert_int_equal(v1_err("PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", -EPROTO), 19);
    assert_int_equal(v1_err("PROXY TCP6 [::1] ::1 1 2\r\n", -EPROTO), 12);
}

static void test_v1_bad_ports(void **state)
{
    static const char *const bad_at_crlf[] = {
        "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 99999 2\r\n",
    };

    (void)state;
    for (size_t i = 0; i < sizeof bad_at_crlf / sizeof *bad_at_crlf; i++)
        assert_int_equal(v1_err(bad_at_crlf[i], -EPROTO), strlen(bad_at_crlf[i]));
    /* leading zeros, signs, junk, too many digits: at the offending byte */
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.4 5.6.7.8 00 2\r\n", -EPROTO), 29);
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n", -EPROTO), 29);
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.4 5.6.7.8 1 01\r\n", -EPROTO), 31);
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", -EPROTO), 28);
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n", -EPROTO), 28);
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.4 5.6.7.8 1a 2\r\n", -EPROTO), 29);
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.4 5.6.7.8 0x50 2\r\n", -EPROTO), 29);
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.4 5.6.7.8 123456 2\r\n", -EPROTO), 33);
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.4 5.6.7.8 1 2.\r\n", -EPROTO), 31);
}

static void test_v1_spaces(void **state)
{
    (void)state;
    assert_int_equal(v1_err("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", -EPROTO), 7);
    assert_int_equal(v1_err("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", -EPROTO), 12);
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", -EPROTO), 20);
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.4 5.6.7.8  1 2\r\n", -EPROTO), 28);
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.4 5.6.7.8 1  2\r\n", -EPROTO), 30);
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", -EPROTO), 31);
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", -EPROTO), 31);
    assert_int_equal(v1_err(" PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", -EPROTO), 1);
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n", -EPROTO), 19);
}

static void test_v1_missing_fields(void **state)
{
    (void)state;
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", -EPROTO), 29);
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.4 5.6.7.8\r\n", -EPROTO), 27);
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.4\r\n", -EPROTO), 19);
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.4 5.6.7.8 1 \r\n", -EPROTO), 30);
}

static void test_v1_line_end(void **state)
{
    (void)state;
    /* only CR LF ends the line */
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", -EPROTO), 31);
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", -EPROTO), 32);
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n", -EPROTO), 32);
    assert_int_equal(v1_err("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n\r", -EPROTO), 31);
    assert_int_equal(expect_err("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\0\r\n", 33, PROXY_V1, -EPROTO), 31);
    /* missing: wait for it */
    v1_more("PROXY TCP4 1.2.3.4 5.6.7.8 1 2");
    v1_more("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r");
    v1_more("PROXY UNKNOWN");
    v1_more("PROXY UNKNOWN\r");
    v1_more("PROXY UNKNOWN 1.2.3.4");
}

/* "PROXY UNKNOWN " and n bytes 'x' and suffix */
static char *unknown_line(size_t n, const char *suffix)
{
    static char line[256];

    assert_true(14 + n + strlen(suffix) < sizeof line);
    memcpy(line, "PROXY UNKNOWN ", 14);
    memset(line + 14, 'x', n);
    strcpy(line + 14 + n, suffix);
    return line;
}

static void test_v1_too_long(void **state)
{
    struct proxy_header h;
    char *line;

    (void)state;
    line = unknown_line(PROXY_V1_MAX - 16, "\r\n"); /* 107 bytes */
    v1_ok(line, &h);
    line = unknown_line(PROXY_V1_MAX - 15, "\r\n"); /* 108: the CR is byte 107 */
    assert_int_equal(v1_err(line, -EMSGSIZE), PROXY_V1_MAX);
    line = unknown_line(200, "\r\n");
    assert_int_equal(v1_err(line, -EMSGSIZE), PROXY_V1_MAX);
    line = unknown_line(200, "");
    assert_int_equal(v1_err(line, -EMSGSIZE), PROXY_V1_MAX);
    /* a CR as byte 106 waits for its LF; with a LF it is the longest line */
    line = unknown_line(PROXY_V1_MAX - 16, "\r");
    v1_more(line);
    /* IPv6 addresses as long as inet_pton takes them do not fit */
    assert_int_equal(v1_err("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255 "
                            "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255 65535 65535\r\n",
                            -EMSGSIZE),
                     PROXY_V1_MAX);
}

static void test_v1_longest_ipv6_field(void **state)
{
    struct proxy_header h;

    (void)state;
    v1_ok("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255 ::1 1 2\r\n", &h);
    assert_tcp(&h, AF_INET6, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:1", "[::1]:2");
    assert_int_equal(
        v1_err("PROXY TCP6 0ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255 ::1 1 2\r\n", -EPROTO),
        57);
}

static void test_v1_every_prefix_needs_more(void **state)
{
    static const char *const lines[] = {
        "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n",
        "PROXY TCP6 2001:db8::1 2001:db8::2 40000 8080\r\n",
        "PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n",
        "PROXY UNKNOWN\r\n",
        "PROXY UNKNOWN ::1 ::1 1 2\r\n",
    };
    struct proxy_header h;

    (void)state;
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        size_t len = strlen(lines[i]);

        for (size_t n = 0; n < len; n++)
            assert_int_equal(proxy_parse(lines[i], n, PROXY_ANY, &h), 0);
        expect_ok(lines[i], len, PROXY_V1, &h); /* every prefix once more, each its own size */
        expect_ok(lines[i], len, PROXY_ANY, &h);
    }
}

static void test_v1_followed_by_message(void **state)
{
    const char in[] = "PROXY TCP4 192.0.2.1 198.51.100.1 56324 8080\r\nHello\r\nPROXY UNKNOWN\r\n";
    struct proxy_header h;

    (void)state;
    assert_int_equal(proxy_parse(in, sizeof in - 1, PROXY_V1, &h), 46);
    assert_tcp(&h, AF_INET, "192.0.2.1:56324", "198.51.100.1:8080");
    /* bytes after the header that look like a line end change nothing */
    assert_int_equal(proxy_parse("PROXY UNKNOWN\r\n\r\n", 17, PROXY_V1, &h), 15);
}

static void test_v1_when_only_v2(void **state)
{
    (void)state;
    assert_int_equal(expect_err("PROXY UNKNOWN\r\n", 15, PROXY_V2, -EPROTONOSUPPORT), 1);
    assert_int_equal(
        expect_err("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 32, PROXY_V2, -EPROTONOSUPPORT), 1);
    assert_int_equal(expect_err("PROXY UNKNOWN\r\n", 15, 0, -EPROTONOSUPPORT), 1);
}

/* --- version 2 ---------------------------------------------------------------- */

static void test_v2_local(void **state)
{
    uint8_t b[64];
    struct proxy_header h;
    size_t n = v2(b, 0x20, 0x00, NULL, 0);

    (void)state;
    expect_ok(b, n, PROXY_V2, &h);
    assert_int_equal(n, 16);
    assert_int_equal(h.version, PROXY_V2);
    assert_local(&h);
}

static void test_v2_local_ignores_addresses_and_family(void **state)
{
    uint8_t b[PROXY_HEADER_MAX], body[PROXY_V2_LEN_MAX];
    struct proxy_header h;
    size_t n;

    (void)state;
    n = v2(b, 0x20, 0x11, body, inet_body(body, "192.0.2.1", "198.51.100.1", 1, 2));
    expect_ok(b, n, PROXY_V2, &h);
    assert_local(&h);
    /* a family byte of no meaning, a block of any length and bytes: all ignored */
    memset(body, 0xEE, sizeof body);
    n = v2(b, 0x20, 0xFF, body, 5);
    expect_ok(b, n, PROXY_V2, &h);
    assert_local(&h);
    n = v2(b, 0x20, 0x21, body, 3); /* shorter than an IPv6 block: LOCAL does not care */
    expect_ok(b, n, PROXY_V2, &h);
    assert_local(&h);
    n = v2(b, 0x20, 0x00, body, PROXY_V2_LEN_MAX);
    expect_ok(b, n, PROXY_V2, &h);
    assert_local(&h);
}

static void test_v2_inet(void **state)
{
    uint8_t b[64];
    struct proxy_header h;
    size_t n = v2_usual(b);

    (void)state;
    assert_int_equal(n, 28);
    expect_ok(b, n, PROXY_V2, &h);
    assert_int_equal(h.version, PROXY_V2);
    assert_tcp(&h, AF_INET, "192.0.2.1:56324", "198.51.100.1:8080");
}

static void test_v2_inet_ports_extremes(void **state)
{
    uint8_t b[64], body[12];
    struct proxy_header h;
    size_t n;

    (void)state;
    n = v2(b, 0x21, 0x11, body, inet_body(body, "0.0.0.0", "255.255.255.255", 0, 65535));
    expect_ok(b, n, PROXY_ANY, &h);
    assert_tcp(&h, AF_INET, "0.0.0.0:0", "255.255.255.255:65535");
}

static void test_v2_inet6(void **state)
{
    uint8_t b[64], body[36];
    struct proxy_header h;
    size_t n;

    (void)state;
    n = v2(b, 0x21, 0x21, body, inet6_body(body, "2001:db8::1", "2001:db8::2", 40000, 8080));
    assert_int_equal(n, 52);
    expect_ok(b, n, PROXY_V2, &h);
    assert_tcp(&h, AF_INET6, "[2001:db8::1]:40000", "[2001:db8::2]:8080");
}

static void test_v2_unix_paths(void **state)
{
    uint8_t b[PROXY_HEADER_MAX], body[216];
    struct proxy_header h;
    size_t n;

    (void)state;
    n = v2(b, 0x21, 0x31, body, unix_body(body, "/run/client.sock", 16, "/run/hellod.sock", 16));
    assert_int_equal(n, 232);
    expect_ok(b, n, PROXY_V2, &h);
    assert_false(h.local);
    assert_int_equal(h.src.ss_family, AF_UNIX);
    assert_int_equal(h.dst.ss_family, AF_UNIX);
    assert_int_equal(h.src_len, offsetof(struct sockaddr_un, sun_path) + 17);
    assert_addr(&h.src, h.src_len, "/run/client.sock");
    assert_addr(&h.dst, h.dst_len, "/run/hellod.sock");
}

static void test_v2_unix_abstract_unnamed_full(void **state)
{
    uint8_t b[PROXY_HEADER_MAX], body[216], full[108];
    struct proxy_header h;
    size_t n;

    (void)state;
    n = v2(b, 0x21, 0x31, body, unix_body(body, "\0hellod", 7, "", 0));
    expect_ok(b, n, PROXY_V2, &h);
    assert_false(h.local);
    assert_int_equal(h.src_len, offsetof(struct sockaddr_un, sun_path) + 7);
    assert_addr(&h.src, h.src_len, "@hellod");
    assert_int_equal(h.dst_len, offsetof(struct sockaddr_un, sun_path));
    assert_addr(&h.dst, h.dst_len, "unix");
    /* a path of all 108 bytes, with no NUL */
    memset(full, 'p', sizeof full);
    full[0] = '/';
    n = v2(b, 0x21, 0x31, body, unix_body(body, full, sizeof full, full, sizeof full));
    expect_ok(b, n, PROXY_V2, &h);
    assert_int_equal(h.src_len, offsetof(struct sockaddr_un, sun_path) + 108);
    assert_memory_equal(((struct sockaddr_un *)&h.src)->sun_path, full, 108);
}

static void test_v2_unspecified_is_local(void **state)
{
    static const uint8_t fams[] = {0x00, 0x01, 0x10, 0x20, 0x30};
    uint8_t b[64], body[36];
    struct proxy_header h;

    (void)state;
    inet6_body(body, "2001:db8::1", "2001:db8::2", 1, 2);
    for (size_t i = 0; i < sizeof fams; i++) {
        size_t n = v2(b, 0x21, fams[i], body, 36);

        expect_ok(b, n, PROXY_V2, &h);
        assert_local(&h);
        n = v2(b, 0x21, fams[i], NULL, 0); /* an unspecified block may be empty */
        expect_ok(b, n, PROXY_V2, &h);
        assert_local(&h);
    }
}

static void test_v2_tlvs_skipped(void **state)
{
    uint8_t b[PROXY_HEADER_MAX], body[PROXY_V2_LEN_MAX];
    struct proxy_header h;
    size_t n = inet_body(body, "192.0.2.1", "198.51.100.1", 56324, 8080);

    (void)state;
    n += tlv(body + n, 0x01, "h2", 2);                 /* ALPN */
    n += tlv(body + n, 0x02, "hello.example.org", 17); /* AUTHORITY */
    n += tlv(body + n, 0x04, NULL, 0);                 /* NOOP, empty */
    n += tlv(body + n, 0x05, "\x01\x02\x03\x04", 4);   /* UNIQUE_ID */
    n += tlv(body + n, 0x20, "\x01\0\0\0\0", 5);       /* SSL */
    n += tlv(body + n, 0xE0, "custom", 6);
    n = v2(b, 0x21, 0x11, body, n);
    expect_ok(b, n, PROXY_V2, &h);
    assert_tcp(&h, AF_INET, "192.0.2.1:56324", "198.51.100.1:8080");
}

static void test_v2_longest(void **state)
{
    uint8_t b[PROXY_HEADER_MAX], body[PROXY_V2_LEN_MAX], pad[PROXY_V2_LEN_MAX];
    struct proxy_header h;
    size_t n = unix_body(body, "/a", 2, "/b", 2);

    (void)state;
    memset(pad, 'n', sizeof pad);
    n += tlv(body + n, 0x04, pad, PROXY_V2_LEN_MAX - n - 3);
    n = v2(b, 0x21, 0x31, body, n);
    assert_int_equal(n, PROXY_HEADER_MAX);
    expect_ok(b, n, PROXY_V2, &h);
    assert_addr(&h.src, h.src_len, "/a");
}

static void test_v2_bad_tlvs(void **state)
{
    uint8_t b[PROXY_HEADER_MAX], body[PROXY_V2_LEN_MAX];
    size_t base = inet_body(body, "192.0.2.1", "198.51.100.1", 1, 2), n;

    (void)state;
    /* a TLV whose value runs past the header */
    n = base + tlv(body + base, 0x01, "h2", 2);
    body[base + 2] = 3;
    assert_int_equal(expect_err(b, v2(b, 0x21, 0x11, body, n), PROXY_V2, -EPROTO), 16 + n);
    /* one or two stray bytes, not a whole TLV header */
    n = base + tlv(body + base, 0x04, NULL, 0);
    body[n] = 0x04;
    assert_int_equal(expect_err(b, v2(b, 0x21, 0x11, body, n + 1), PROXY_V2, -EPROTO), 17 + n);
    body[n + 1] = 0x00;
    assert_int_equal(expect_err(b, v2(b, 0x21, 0x11, body, n + 2), PROXY_V2, -EPROTO), 18 + n);
    /* the bytes after an IPv6 block are TLVs too */
    n = inet6_body(body, "::1", "::2", 1, 2);
    body[n] = 0x01;
    assert_int_equal(expect_err(b, v2(b, 0x21, 0x21, body, n + 1), PROXY_V2, -EPROTO), 17 + n);
}

/* PROXY, TCP over IPv4, 192.0.2.1:56324 -> 198.51.100.1:8080 and TLVs: a CRC32C
 * alone, then NOOP "ab", CRC32C, ALPN "h2" (checksums made with another
 * implementation). */
static const uint8_t crc_alone[] = {
    0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
    0x21, 0x11, 0x00, 19,   192,  0,    2,    1,    198,  51,   100,  1,
    0xDC, 0x04, 0x1F, 0x90, 0x03, 0x00, 0x04, 0x19, 0x27, 0x76, 0x29,
};
static const uint8_t crc_among[] = {
    0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11, 0x00,
    29,   192,  0,    2,    1,    198,  51,   100,  1,    0xDC, 0x04, 0x1F, 0x90, 0x04, 0x00,
    0x02, 'a',  'b',  0x03, 0x00, 0x04, 0x43, 0xBD, 0x11, 0x75, 0x01, 0x00, 0x02, 'h',  '2',
};

static void test_v2_crc32c(void **state)
{
    uint8_t b[64];
    struct proxy_header h;

    (void)state;
    expect_ok(crc_alone, sizeof crc_alone, PROXY_V2, &h);
    assert_tcp(&h, AF_INET, "192.0.2.1:56324", "198.51.100.1:8080");
    expect_ok(crc_among, sizeof crc_among, PROXY_V2, &h);
    assert_tcp(&h, AF_INET, "192.0.2.1:56324", "198.51.100.1:8080");
    /* any bit changed anywhere, the checksum's own included, is refused */
    for (size_t i = 16; i < sizeof crc_among; i++) {
        if (i == 29 || i == 30 || i == 33 || i == 34 || i == 35 || i == 41 || i == 42)
            continue; /* TLV lengths, and the type that makes a TLV the checksum */
        for (int bit = 0; bit < 8; bit++) {
            memcpy(b, crc_among, sizeof crc_among);
            b[i] ^= (uint8_t)(1 << bit);
            assert_int_equal(proxy_parse(b, sizeof crc_among, PROXY_V2, &h), -EPROTO);
        }
    }
    /* a CRC32C TLV must be 4 bytes */
    memcpy(b, crc_alone, sizeof crc_alone);
    b[15] = 18;
    b[30] = 3;
    assert_int_equal(expect_err(b, 34, PROXY_V2, -EPROTO), 34);
}

static void test_v2_bad_version(void **state)
{
    static const uint8_t ver_cmd[] = {0x01, 0x11, 0x31, 0xF1, 0x00, 0x10};
    uint8_t b[64];

    (void)state;
    for (size_t i = 0; i < sizeof ver_cmd; i++) {
        size_t n = v2_usual(b);

        b[12] = ver_cmd[i];
        assert_int_equal(expect_err(b, n, PROXY_V2, -EPROTO), 13);
    }
}

static void test_v2_bad_command(void **state)
{
    uint8_t b[64];

    (void)state;
    for (unsigned cmd = 2; cmd <= 0xF; cmd++) {
        size_t n = v2_usual(b);

        b[12] = (uint8_t)(0x20 | cmd);
        assert_int_equal(expect_err(b, n, PROXY_V2, -EPROTO), 13);
    }
}

static void test_v2_bad_family_or_transport(void **state)
{
    static const uint8_t fams[] = {0x12, 0x22, 0x32, 0x02, /* datagrams: refused */
                                   0x41, 0x40, 0xF1, 0x13, 0x1F, 0x03};
    uint8_t b[PROXY_HEADER_MAX], body[216];

    (void)state;
    memset(body, 0, sizeof body);
    for (size_t i = 0; i < sizeof fams; i++) {
        size_t n = v2(b, 0x21, fams[i], body, sizeof body);

        assert_int_equal(expect_err(b, n, PROXY_V2, -EPROTO), 14);
    }
}

static void test_v2_block_too_short_for_family(void **state)
{
    static const struct {
        uint8_t fam;
        size_t need;
    } cases[] = {{0x11, 12}, {0x21, 36}, {0x31, 216}};
    uint8_t b[PROXY_HEADER_MAX], body[216];
    struct proxy_header h;

    (void)state;
    memset(body, 0, sizeof body);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t need = cases[i].need;

        /* refused from the length field on, without waiting for the block */
        assert_int_equal(
            expect_err(b, v2(b, 0x21, cases[i].fam, body, need - 1), PROXY_V2, -EPROTO), 16);
        assert_int_equal(expect_err(b, v2(b, 0x21, cases[i].fam, body, 0), PROXY_V2, -EPROTO), 16);
        expect_ok(b, v2(b, 0x21, cases[i].fam, body, need), PROXY_V2, &h);
        assert_false(h.local);
    }
}

static void test_v2_too_long(void **state)
{
    uint8_t b[PROXY_HEADER_MAX + 16];

    (void)state;
    v2_usual(b);
    b[14] = (uint8_t)((PROXY_V2_LEN_MAX + 1) >> 8);
    b[15] = (uint8_t)(PROXY_V2_LEN_MAX + 1);
    assert_int_equal(expect_err(b, 16, PROXY_V2, -EMSGSIZE), 16);
    b[14] = b[15] = 0xFF;
    assert_int_equal(expect_err(b, 16, PROXY_V2, -EMSGSIZE), 16);
    b[13] = 0x00;
    b[12] = 0x20; /* LOCAL too */
    assert_int_equal(expect_err(b, 16, PROXY_V2, -EMSGSIZE), 16);
}

static void test_v2_signature_mismatch_at_each_byte(void **state)
{
    uint8_t b[64];

    (void)state;
    for (size_t i = 0; i < sizeof SIG; i++) {
        for (unsigned x = 1; x < 256; x <<= 1) {
            size_t n = v2_usual(b);

            b[i] ^= (uint8_t)x;
            if (i == 0 && b[0] == 'P')
                continue;
            assert_int_equal(expect_err(b, n, PROXY_V2, -EPROTO), i + 1);
            assert_int_equal(expect_err(b, n, PROXY_ANY, -EPROTO), i + 1);
        }
    }
}

static void test_v2_every_prefix_needs_more(void **state)
{
    static uint8_t hdrs[4][PROXY_HEADER_MAX];
    uint8_t body[216];
    struct proxy_header h;
    size_t lens[4];

    (void)state;
    lens[0] = v2(hdrs[0], 0x20, 0x00, NULL, 0);
    lens[1] = v2_usual(hdrs[1]);
    lens[2] = v2(hdrs[2], 0x21, 0x21, body, inet6_body(body, "::1", "::2", 3, 4));
    lens[3] = v2(hdrs[3], 0x21, 0x31, body, unix_body(body, "/x", 2, "/y", 2));
    for (size_t i = 0; i < 4; i++) {
        for (size_t n = 0; n < lens[i]; n++)
            assert_int_equal(proxy_parse(hdrs[i], n, PROXY_ANY, &h), 0);
        expect_ok(hdrs[i], lens[i], PROXY_V2, &h); /* every prefix once more, each its own size */
    }
}

static void test_v2_followed_by_message(void **state)
{
    uint8_t b[128];
    struct proxy_header h;
    size_t n = v2_usual(b);

    (void)state;
    memcpy(b + n, MESSAGE, sizeof MESSAGE - 1);
    assert_int_equal(proxy_parse(b, n + sizeof MESSAGE - 1, PROXY_V2, &h), 28);
    /* the next bytes may even be another header: they are the client's */
    memcpy(b + n, b, n);
    assert_int_equal(proxy_parse(b, 2 * n, PROXY_ANY, &h), 28);
}

static void test_v2_when_only_v1(void **state)
{
    uint8_t b[64];
    size_t n = v2_usual(b);

    (void)state;
    assert_int_equal(expect_err(b, n, PROXY_V1, -EPROTONOSUPPORT), 1);
    assert_int_equal(expect_err(b, n, 0, -EPROTONOSUPPORT), 1);
}

/* --- both --------------------------------------------------------------------- */

static void test_empty_needs_more(void **state)
{
    (void)state;
    assert_int_equal(proxy_parse(NULL, 0, PROXY_ANY, NULL), 0);
    assert_int_equal(proxy_parse("", 0, PROXY_V1, NULL), 0);
}

static void test_neither_version_at_once(void **state)
{
    static const char *const starts[] = {"\x16\x03\x01", "H", "\n", "\0", "p", " "};

    (void)state;
    for (size_t i = 0; i < sizeof starts / sizeof *starts; i++) {
        assert_int_equal(proxy_parse(starts[i], 1, PROXY_ANY, NULL), -EPROTO);
        assert_int_equal(proxy_parse(starts[i], 1, PROXY_V1, NULL), -EPROTO);
        assert_int_equal(proxy_parse(starts[i], 1, PROXY_V2, NULL), -EPROTO);
    }
}

static void test_out_may_be_null(void **state)
{
    uint8_t b[64];

    (void)state;
    assert_int_equal(proxy_parse("PROXY UNKNOWN\r\n", 15, PROXY_ANY, NULL), 15);
    assert_int_equal(proxy_parse(b, v2_usual(b), PROXY_ANY, NULL), 28);
}

static void test_header_max_always_decides(void **state)
{
    uint8_t b[PROXY_HEADER_MAX];
    struct proxy_header h;

    (void)state;
    /* whatever follows the start of a header, PROXY_HEADER_MAX bytes are an answer */
    for (int fill = 0; fill < 256; fill++) {
        memset(b, fill, sizeof b);
        memcpy(b, "PROXY ", 6);
        assert_int_not_equal(proxy_parse(b, PROXY_V1_MAX, PROXY_ANY, &h), 0);
        memcpy(b, "PROXY UNKNOWN ", 14);
        assert_int_not_equal(proxy_parse(b, PROXY_V1_MAX, PROXY_ANY, &h), 0);
        memset(b, fill, sizeof b);
        v2(b, 0x21, 0x11, NULL, 0);
        b[13] = (uint8_t)fill;
        b[14] = (uint8_t)(fill & 1);
        b[15] = (uint8_t)fill;
        assert_int_not_equal(proxy_parse(b, sizeof b, PROXY_ANY, &h), 0);
    }
}

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(proxy_strerror(0), "truncated PROXY header");
    assert_string_equal(proxy_strerror(-EPROTO), "malformed PROXY header");
    assert_string_equal(proxy_strerror(-EMSGSIZE), "PROXY header too long");
    assert_string_equal(proxy_strerror(-EPROTONOSUPPORT), "PROXY header of a version not enabled");
    assert_non_null(proxy_strerror(-EINVAL));
    assert_non_null(proxy_strerror(28));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_tcp4),
        cmocka_unit_test(test_v1_tcp4_longest),
        cmocka_unit_test(test_v1_tcp4_zeros),
        cmocka_unit_test(test_v1_tcp6),
        cmocka_unit_test(test_v1_tcp6_longest),
        cmocka_unit_test(test_v1_tcp6_v4_mapped),
        cmocka_unit_test(test_v1_unknown_short),
        cmocka_unit_test(test_v1_unknown_longest),
        cmocka_unit_test(test_v1_unknown_anything_before_crlf),
        cmocka_unit_test(test_v1_unknown_bad),
        cmocka_unit_test(test_v1_bad_magic_at_once),
        cmocka_unit_test(test_v1_bad_protocol),
        cmocka_unit_test(test_v1_bad_ipv4),
        cmocka_unit_test(test_v1_bad_ipv4_chars_at_once),
        cmocka_unit_test(test_v1_bad_ipv6),
        cmocka_unit_test(test_v1_bad_ports),
        cmocka_unit_test(test_v1_spaces),
        cmocka_unit_test(test_v1_missing_fields),
        cmocka_unit_test(test_v1_line_end),
        cmocka_unit_test(test_v1_too_long),
        cmocka_unit_test(test_v1_longest_ipv6_field),
        cmocka_unit_test(test_v1_every_prefix_needs_more),
        cmocka_unit_test(test_v1_followed_by_message),
        cmocka_unit_test(test_v1_when_only_v2),
        cmocka_unit_test(test_v2_local),
        cmocka_unit_test(test_v2_local_ignores_addresses_and_family),
        cmocka_unit_test(test_v2_inet),
        cmocka_unit_test(test_v2_inet_ports_extremes),
        cmocka_unit_test(test_v2_inet6),
        cmocka_unit_test(test_v2_unix_paths),
        cmocka_unit_test(test_v2_unix_abstract_unnamed_full),
        cmocka_unit_test(test_v2_unspecified_is_local),
        cmocka_unit_test(test_v2_tlvs_skipped),
        cmocka_unit_test(test_v2_longest),
        cmocka_unit_test(test_v2_bad_tlvs),
        cmocka_unit_test(test_v2_crc32c),
        cmocka_unit_test(test_v2_bad_version),
        cmocka_unit_test(test_v2_bad_command),
        cmocka_unit_test(test_v2_bad_family_or_transport),
        cmocka_unit_test(test_v2_block_too_short_for_family),
        cmocka_unit_test(test_v2_too_long),
        cmocka_unit_test(test_v2_signature_mismatch_at_each_byte),
        cmocka_unit_test(test_v2_every_prefix_needs_more),
        cmocka_unit_test(test_v2_followed_by_message),
        cmocka_unit_test(test_v2_when_only_v1),
        cmocka_unit_test(test_empty_needs_more),
        cmocka_unit_test(test_neither_version_at_once),
        cmocka_unit_test(test_out_may_be_null),
        cmocka_unit_test(test_header_max_always_decides),
        cmocka_unit_test(test_strerror),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
