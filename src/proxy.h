/* proxy.h - the PROXY protocol (HAProxy), versions 1 and 2: recognising and
 * parsing the header a load balancer puts before a client's bytes (pure).
 *
 * The parser is called on the bytes received so far, from the first byte of
 * the connection, as often as more arrive: it says "complete, N bytes", "need
 * more", or an error as soon as the bytes so far cannot start a valid header.
 * Its answer for a given input is final: once it is not 0, more bytes never
 * change it. */
#ifndef HELLO_PROXY_H
#define HELLO_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

enum proxy_version {
    PROXY_V1 = 1, /* the text line: "PROXY TCP4 192.0.2.1 198.51.100.1 56324 8080\r\n" */
    PROXY_V2 = 2, /* the binary header */
    PROXY_ANY = PROXY_V1 | PROXY_V2,
};

/* A v1 line is at most 107 bytes, its CR LF included. A v2 header is 16 bytes
 * and the length its field gives, which we allow up to 520: the address block
 * (216 bytes at most, for AF_UNIX) and TLVs. 16 + 520 = 536 is the smallest
 * TCP segment every host must take, in which the specification means both
 * formats to fit. A caller that holds PROXY_HEADER_MAX bytes always has an
 * answer other than 0. */
#define PROXY_V1_MAX     107
#define PROXY_V2_LEN_MAX 520
#define PROXY_HEADER_MAX (16 + PROXY_V2_LEN_MAX)

struct proxy_header {
    enum proxy_version version;
    bool local; /* no client address: v2 LOCAL (health checks), v1 UNKNOWN, or a v2
                 * PROXY of an unspecified family or transport; use the real peer */
    struct sockaddr_storage src, dst; /* the client's address and the one it reached
                                       * on the proxy: AF_INET, AF_INET6 or AF_UNIX
                                       * (v2 only); AF_UNSPEC with lengths 0 if local */
    socklen_t src_len, dst_len;
};

/* Parses a header at the start of buf[0..len). Returns:
 *   > 0            the header is complete and this long; the client's bytes follow it;
 *   0              buf is a prefix of what may be a valid header: more bytes are needed;
 *   -EPROTO        malformed: the bytes so far can be no valid header (including bytes
 *                  that are no PROXY header at all);
 *   -EMSGSIZE      a header longer than allowed: a v1 line with no CR LF within 107
 *                  bytes, or a v2 length field over PROXY_V2_LEN_MAX;
 *   -EPROTONOSUPPORT  the first byte starts a header of a version `versions` (a mask of
 *                  enum proxy_version) does not enable ('P' for v1, CR for v2).
 * v1 is read strictly: single spaces, addresses as inet_pton() takes them (no leading
 * zeros in IPv4), ports 0..65535 without leading zeros, CR LF and nothing else to end the
 * line. v2: version 2, command LOCAL or PROXY, TCP over IPv4 or IPv6 or a UNIX stream
 * (datagram transports are refused: hellod serves streams), TLVs must fill the rest of
 * the header exactly and a CRC32C TLV must match; other TLVs are skipped.
 * out (may be NULL) is written only when the result is > 0. */
int proxy_parse(const void *buf, size_t len, unsigned versions, struct proxy_header *out);

/* A short reason for logs: "malformed PROXY header", "PROXY header too long", ...; for 0,
 * "truncated PROXY header" (the connection ended or timed out before it was whole). */
const char *proxy_strerror(int r);

#endif
