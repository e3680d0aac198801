/* addr.c - listen addresses: parsing and formatting (pure). */
#include "config.h"

#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"

static int parse_port(const char *s, uint16_t *port)
{
    uint64_t v;
    int r = parse_uint(s, 0, 65535, &v);

    if (r < 0)
        return r;
    *port = (uint16_t)v;
    return 0;
}

/* A host name is letters, digits, '-', '.' and '_' (DNS names and IPv4
 * literals); IPv6 literals come in brackets and are checked by inet_pton. */
static bool host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == ':';
}

static int copy_host(char *dst, const char *src, size_t n)
{
    if (n == 0)
        return -EINVAL;
    if (n >= ADDR_HOST_MAX)
        return -ENAMETOOLONG;
    for (size_t i = 0; i < n; i++)
        if (!host_char(src[i]))
            return -EINVAL;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

int addr_parse(const char *spec, struct listen_addr *out)
{
    const char *colon;
    int r;

    memset(out, 0, sizeof *out);
    if (spec[0] == '/') {
        if (strlen(spec) >= ADDR_PATH_MAX)
            return -ENAMETOOLONG;
        for (const char *p = spec; *p; p++) /* no spaces or controls: one word in a config line */
            if ((unsigned char)*p <= ' ' || *p == 0x7f)
                return -EINVAL;
        out->kind = ADDR_UNIX;
        strcpy(out->path, spec);
        return 0;
    }
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        struct in6_addr a6;

        if (!close || close[1] != ':')
            return -EINVAL;
        r = copy_host(out->host, spec + 1, (size_t)(close - spec - 1));
        if (r < 0)
            return r;
        if (inet_pton(AF_INET6, out->host, &a6) != 1)
            return -EINVAL;
        out->kind = ADDR_HOST_PORT;
        return parse_port(close + 2, &out->port);
    }
    colon = strrchr(spec, ':');
    if (!colon) {
        out->kind = ADDR_PORT;
        return parse_port(spec, &out->port);
    }
    if (memchr(spec, ':', (size_t)(colon - spec)))
        return -EINVAL; /* a bare IPv6 address: it needs brackets */
    r = copy_host(out->host, spec, (size_t)(colon - spec));
    if (r < 0)
        return r;
    out->kind = ADDR_HOST_PORT;
    return parse_port(colon + 1, &out->port);
}

void addr_spec_format(const struct listen_addr *a, char *buf, size_t size)
{
    switch (a->kind) {
    case ADDR_PORT:
        snprintf(buf, size, "%u", a->port);
        break;
    case ADDR_HOST_PORT:
        snprintf(buf, size, strchr(a->host, ':') ? "[%s]:%u" : "%s:%u", a->host, a->port);
        break;
    case ADDR_UNIX:
        snprintf(buf, size, "%s", a->path);
        break;
    }
}

void addr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
    char host[INET6_ADDRSTRLEN];

    switch (sa->sa_family) {
    case AF_INET: {
        const struct sockaddr_in *in = (const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(buf, size, "%s:%u", host, ntohs(in->sin_port));
        return;
    }
    case AF_INET6: {
        const struct sockaddr_in6 *in6 = (const void *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) { /* an IPv4 client of a dual-stack socket */
            inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], host, sizeof host);
            snprintf(buf, size, "%s:%u", host, ntohs(in6->sin6_port));
            return;
        }
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(buf, size, "[%s]:%u", host, ntohs(in6->sin6_port));
        return;
    }
    case AF_UNIX: {
        const struct sockaddr_un *un = (const void *)sa;
        size_t n = len > offsetof(struct sockaddr_un, sun_path)
                       ? len - offsetof(struct sockaddr_un, sun_path)
                       : 0;
        if (n == 0)
            snprintf(buf, size, "unix"); /* an unnamed client socket */
        else if (un->sun_path[0] == '\0')
            snprintf(buf, size, "@%.*s", (int)strnlen(un->sun_path + 1, n - 1), un->sun_path + 1);
        else
            snprintf(buf, size, "%.*s", (int)strnlen(un->sun_path, n), un->sun_path);
        return;
    }
    default:
        snprintf(buf, size, "(family %d)", sa->sa_family);
    }
}

int addr_cidr_parse(const char *s, struct cidr *out)
{
    char host[INET6_ADDRSTRLEN];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    uint64_t bits;
    unsigned max;

    memset(out, 0, sizeof *out);
    if (n == 0 || n >= sizeof host)
        return -EINVAL;
    memcpy(host, s, n);
    host[n] = '\0';
    if (inet_pton(AF_INET, host, out->addr) == 1)
        out->family = AF_INET, max = 32;
    else if (inet_pton(AF_INET6, host, out->addr) == 1)
        out->family = AF_INET6, max = 128;
    else
        return -EINVAL;
    out->prefix = max;
    if (slash) {
        int r = parse_uint(slash + 1, 0, max, &bits);
        if (r < 0)
            return r;
        out->prefix = (unsigned)bits;
    }
    for (unsigned i = out->prefix; i < max; i++) /* clear the host bits */
        out->addr[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
    return 0;
}

void addr_cidr_format(const struct cidr *c, char *buf, size_t size)
{
    char host[INET6_ADDRSTRLEN];

    inet_ntop(c->family, c->addr, host, sizeof host);
    snprintf(buf, size, "%s/%u", host, c->prefix);
}

bool addr_cidr_match(const struct cidr *c, const struct sockaddr *sa)
{
    const unsigned char *a;
    sa_family_t family = sa->sa_family;

    if (family == AF_INET) {
        a = (const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    } else if (family == AF_INET6) {
        const struct in6_addr *in6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        a = in6->s6_addr;
        if (IN6_IS_ADDR_V4MAPPED(in6)) {
            family = AF_INET;
            a += 12;
        }
    } else {
        return false;
    }
    if (family != c->family)
        return false;
    for (unsigned i = 0; i < c->prefix; i++)
        if ((a[i / 8] ^ c->addr[i / 8]) & (0x80u >> (i % 8)))
            return false;
    return true;
}
