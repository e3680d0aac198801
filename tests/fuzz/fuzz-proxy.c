/* fuzz-proxy.c - libFuzzer target for the PROXY protocol parser (src/proxy.c).
 *
 * Every prefix of the input is parsed, each from the end of a heap block (so
 * that a read past the bytes given shows under ASan), with v1 only,
 * v2 only and both enabled, and these hold:
 *   - an answer is final: 0 for every prefix up to some length, and from there
 *     on one and the same answer (so the prefixes of a complete header of N
 *     bytes are all 0, and N comes back however many bytes follow it);
 *   - a length is at most the bytes given and at most PROXY_HEADER_MAX, and
 *     PROXY_HEADER_MAX bytes (107 for a v1 line) always get an answer;
 *   - the only errors are -EPROTO, -EMSGSIZE and -EPROTONOSUPPORT; the header is
 *     written only with a length;
 *   - "both" answers as the version the first byte names, and a version not
 *     enabled is -EPROTONOSUPPORT at once;
 *   - a header says what its bytes say: a v1 line ends with its only LF, after a
 *     CR; a TCP4 line is exactly what its addresses print back as; a v2 header is
 *     16 bytes and its length field, and its addresses are the bytes of its block.
 *
 * Build by hand: clang -g -fsanitize=fuzzer,address,undefined -Isrc -I. \
 *     tests/fuzz/fuzz-proxy.c src/proxy.c -o fuzz-proxy
 *     ./fuzz-proxy -max_total_time=60 tests/fuzz/corpus/proxy
 * The seeds in tests/fuzz/corpus/proxy are headers of each kind, some with a
 * message after them, and a message with no header. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "proxy.h"

#include "fuzz-check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_v1(const uint8_t *data, int r, const struct proxy_header *h)
{
    char line[PROXY_V1_MAX + 1], src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];

    CHECK(r <= PROXY_V1_MAX && r >= 15); /* "PROXY UNKNOWN\r\n" is the shortest */
    CHECK(memcmp(data, "PROXY ", 6) == 0);
    CHECK(data[r - 2] == '\r' && data[r - 1] == '\n');
    CHECK(memchr(data, '\n', (size_t)r - 1) == NULL);
    CHECK(memchr(data, '\r', (size_t)r - 2) == NULL);
    if (h->local) {
        CHECK(memcmp(data + 6, "UNKNOWN", 7) == 0);
        return;
    }
    CHECK(memcmp(data + 6, h->src.ss_family == AF_INET ? "TCP4 " : "TCP6 ", 5) == 0);
    if (h->src.ss_family == AF_INET) {
        const struct sockaddr_in *s = (const void *)&h->src, *d = (const void *)&h->dst;

        /* canonical: no leading zeros anywhere, so printing it back gives the same bytes */
        CHECK(inet_ntop(AF_INET, &s->sin_addr, src, sizeof src));
        CHECK(inet_ntop(AF_INET, &d->sin_addr, dst, sizeof dst));
        snprintf(line, sizeof line, "PROXY TCP4 %s %s %u %u\r\n", src, dst, ntohs(s->sin_port),
                 ntohs(d->sin_port));
        CHECK(strlen(line) == (size_t)r && memcmp(line, data, (size_t)r) == 0);
    }
}

static void check_v2(const uint8_t *data, int r, const struct proxy_header *h)
{
    const uint8_t *a = data + 16;

    CHECK(r >= 16 && r == 16 + (data[14] << 8 | data[15]));
    CHECK(data[12] >> 4 == 2 && (data[12] & 0xF) <= 1);
    if (h->local) {
        CHECK((data[12] & 0xF) == 0 || (data[13] >> 4) == 0 || (data[13] & 0xF) == 0);
        return;
    }
    CHECK((data[12] & 0xF) == 1 && (data[13] & 0xF) == 1);
    switch (h->src.ss_family) {
    case AF_INET: {
        const struct sockaddr_in *s = (const void *)&h->src, *d = (const void *)&h->dst;

        CHECK(data[13] == 0x11 && r >= 16 + 12);
        CHECK(memcmp(&s->sin_addr, a, 4) == 0 && memcmp(&d->sin_addr, a + 4, 4) == 0);
        CHECK(memcmp(&s->sin_port, a + 8, 2) == 0 && memcmp(&d->sin_port, a + 10, 2) == 0);
        break;
    }
    case AF_INET6: {
        const struct sockaddr_in6 *s = (const void *)&h->src, *d = (const void *)&h->dst;

        CHECK(data[13] == 0x21 && r >= 16 + 36);
        CHECK(memcmp(&s->sin6_addr, a, 16) == 0 && memcmp(&d->sin6_addr, a + 16, 16) == 0);
        CHECK(memcmp(&s->sin6_port, a + 32, 2) == 0 && memcmp(&d->sin6_port, a + 34, 2) == 0);
        break;
    }
    case AF_UNIX: {
        const struct sockaddr_un *s = (const void *)&h->src, *d = (const void *)&h->dst;

        CHECK(data[13] == 0x31 && r >= 16 + 216);
        CHECK(memcmp(s->sun_path, a, 108) == 0 && memcmp(d->sun_path, a + 108, 108) == 0);
        break;
    }
    default:
        CHECK(!"a family other than AF_INET, AF_INET6, AF_UNIX");
    }
}

static void check_header(const uint8_t *data, int r, const struct proxy_header *h)
{
    socklen_t want;

    CHECK(h->version == (data[0] == 'P' ? PROXY_V1 : PROXY_V2));
    if (h->local) {
        CHECK(h->src.ss_family == AF_UNSPEC && h->dst.ss_family == AF_UNSPEC);
        CHECK(h->src_len == 0 && h->dst_len == 0);
    } else {
        CHECK(h->src.ss_family == h->dst.ss_family);
        switch (h->src.ss_family) {
        case AF_INET:
            want = sizeof(struct sockaddr_in);
            CHECK(h->src_len == want && h->dst_len == want);
            break;
        case AF_INET6:
            want = sizeof(struct sockaddr_in6);
            CHECK(h->src_len == want && h->dst_len == want);
            break;
        case AF_UNIX:
            CHECK(h->version == PROXY_V2);
            CHECK(h->src_len >= offsetof(struct sockaddr_un, sun_path) &&
                  h->src_len <= sizeof(struct sockaddr_un));
            CHECK(h->dst_len >= offsetof(struct sockaddr_un, sun_path) &&
                  h->dst_len <= sizeof(struct sockaddr_un));
            break;
        default:
            CHECK(!"a family other than AF_INET, AF_INET6, AF_UNIX");
        }
    }
    if (h->version == PROXY_V1)
        check_v1(data, r, h);
    else
        check_v2(data, r, h);
}

/* Parses every prefix with `versions`, each copied to the end of a heap
 * block so that reading past it is caught; returns the final answer. */
static int run(const uint8_t *data, size_t size, unsigned versions)
{
    struct proxy_header poison, h;
    size_t last = size < PROXY_HEADER_MAX + 1 ? size : PROXY_HEADER_MAX + 1;
    uint8_t *block = malloc(size ? size : 1);
    int answer = 0;

    CHECK(block);
    memset(&poison, 0x5A, sizeof poison);
    for (size_t n = 0; n <= size; n++) {
        uint8_t *copy = block + size - n;
        int r;

        if (n > last && n < size)
            continue; /* past PROXY_HEADER_MAX nothing changes: only the whole input */
        memcpy(copy, data, n);
        h = poison;
        r = proxy_parse(copy, n, versions, &h);

        CHECK(r == 0 || r > 0 || r == -EPROTO || r == -EMSGSIZE || r == -EPROTONOSUPPORT);
        CHECK(answer == 0 || r == answer);
        answer = r;
        if (r <= 0)
            CHECK(memcmp(&h, &poison, sizeof h) == 0);
        else
            CHECK((size_t)r <= n && r <= PROXY_HEADER_MAX);
        if (n >= PROXY_HEADER_MAX)
            CHECK(r != 0);
        if (n >= PROXY_V1_MAX && data[0] == 'P' && (versions & PROXY_V1))
            CHECK(r != 0);
        if (n >= 1 && data[0] != 'P' && data[0] != '\r')
            CHECK(r == -EPROTO);
        if (n >= 1 && data[0] == 'P' && !(versions & PROXY_V1))
            CHECK(r == -EPROTONOSUPPORT);
        if (n >= 1 && data[0] == '\r' && !(versions & PROXY_V2))
            CHECK(r == -EPROTONOSUPPORT);
        if (r > 0)
            check_header(data, r, &h);
    }
    free(block);
    return answer;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int v1 = run(data, size, PROXY_V1);
    int v2 = run(data, size, PROXY_V2);
    int any = run(data, size, PROXY_ANY);

    if (size > 0 && data[0] == 'P')
        CHECK(any == v1);
    else if (size > 0 && data[0] == '\r')
        CHECK(any == v2);
    return 0;
}
