/* fuzz-addr.c - libFuzzer target for the address parser and formatters
 * (src/addr.c, with src/parse.c).
 *
 * The input, up to its first NUL, is a `listen` entry. What addr_parse()
 * accepts must format back (addr_spec_format, as `hellod -t` writes it) to a
 * text that parses to the very same address. The same for it as an address
 * range (`proxy_from`: addr_cidr_parse, addr_cidr_format), whose host bits
 * past the prefix must be clear, and which must match its own address. The input's bytes are also
 * taken as a socket address of each family, at each length a kernel could
 * return, for addr_format() (the peer names of the logs): the result must be
 * a terminated string that fits its buffer. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what, const char *spec)
{
    if (!ok) {
        fprintf(stderr, "fuzz-addr: invariant broken: %s (spec '%s')\n", what, spec ? spec : "");
        abort();
    }
}

static void round_trip(const char *spec)
{
    struct listen_addr a, b;
    char text[ADDR_STRLEN + ADDR_HOST_MAX]; /* as config_print's buffer */
    int r = addr_parse(spec, &a);

    if (r < 0) {
        check(r == -EINVAL || r == -ERANGE || r == -ENAMETOOLONG, "an unexpected error", spec);
        return;
    }
    check(a.kind == ADDR_PORT || a.kind == ADDR_HOST_PORT || a.kind == ADDR_UNIX, "bad kind",
          spec);
    check(memchr(a.host, '\0', sizeof a.host) && memchr(a.path, '\0', sizeof a.path),
          "an unterminated host or path", spec);
    if (a.kind == ADDR_HOST_PORT)
        check(a.host[0] != '\0', "an empty host", spec);
    if (a.kind == ADDR_UNIX)
        check(a.path[0] == '/', "a UNIX path that is not absolute", spec);
    addr_spec_format(&a, text, sizeof text);
    check(strlen(text) < sizeof text - 1, "the formatted address may have been cut", spec);
    r = addr_parse(text, &b);
    if (r < 0)
        fprintf(stderr, "fuzz-addr: '%s' formats as '%s', which fails: %s\n", spec, text,
                strerror(-r));
    check(r == 0, "the formatted address does not parse", spec);
    check(memcmp(&a, &b, sizeof a) == 0, "the formatted address parses differently", spec);
}

static void cidr_round_trip(const char *spec)
{
    struct cidr a, b;
    char text[128];
    int r = addr_cidr_parse(spec, &a);

    if (r < 0) {
        check(r == -EINVAL || r == -ERANGE, "an unexpected range error", spec);
        return;
    }
    check(a.family == AF_INET || a.family == AF_INET6, "a range of no known family", spec);
    check(a.prefix <= (a.family == AF_INET ? 32u : 128u), "a prefix too long", spec);
    for (unsigned i = a.prefix; i < (a.family == AF_INET ? 32u : 128u); i++)
        check(!(a.addr[i / 8] & (0x80u >> (i % 8))), "host bits left past the prefix", spec);
    addr_cidr_format(&a, text, sizeof text);
    check(strlen(text) < sizeof text - 1, "the formatted range may have been cut", spec);
    r = addr_cidr_parse(text, &b);
    if (r < 0)
        fprintf(stderr, "fuzz-addr: range '%s' formats as '%s', which fails: %s\n", spec, text,
                strerror(-r));
    check(r == 0, "the formatted range does not parse", spec);
    check(memcmp(&a, &b, sizeof a) == 0, "the formatted range parses differently", spec);

    /* A range holds its own (network) address. */
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (a.family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        memcpy(&in->sin_addr, a.addr, 4);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        memcpy(&in6->sin6_addr, a.addr, 16);
    }
    if (!(a.family == AF_INET6 && IN6_IS_ADDR_V4MAPPED((struct in6_addr *)a.addr)))
        check(addr_cidr_match(&a, (struct sockaddr *)&ss), "a range does not hold its address",
              spec);
}

static void format_as(int family, const uint8_t *data, size_t size, socklen_t len)
{
    struct sockaddr_storage ss;
    char out[ADDR_STRLEN];

    memset(&ss, 0, sizeof ss);
    memcpy(&ss, data, size < sizeof ss ? size : sizeof ss);
    ss.ss_family = (sa_family_t)family;
    memset(out, 'X', sizeof out);
    addr_format((const struct sockaddr *)&ss, len, out, sizeof out);
    check(memchr(out, '\0', sizeof out) != NULL, "addr_format left no terminator", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *spec = malloc(size + 1); /* exact size: ASan sees any read past the NUL */

    if (!spec)
        return 0;
    memcpy(spec, data, size);
    spec[size] = '\0';
    round_trip(spec);
    cidr_round_trip(spec);
    free(spec);

    /* The peer names of the log lines, from whatever a kernel may return. */
    format_as(AF_INET, data, size, sizeof(struct sockaddr_in));
    format_as(AF_INET6, data, size, sizeof(struct sockaddr_in6));
    format_as(AF_UNIX, data, size, size < 2 ? 0 : (socklen_t)(data[1] % (sizeof(struct sockaddr_un) + 1)));
    format_as(size > 0 ? data[0] : AF_UNSPEC, data, size, sizeof(struct sockaddr_storage));
    return 0;
}
