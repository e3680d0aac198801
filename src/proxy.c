/* proxy.c - the PROXY protocol header, versions 1 and 2 (pure). Both parsers
 * read left to right and decide at the first byte that makes a decision
 * possible, from the bytes before it only: that is what makes an answer final
 * as more bytes arrive. */
#include "config.h"

#include "proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/un.h>

/* --- version 1 ------------------------------------------------------------ */

#define V1_MAGIC     "PROXY "
#define V1_MAGIC_LEN (sizeof V1_MAGIC - 1)
#define V1_V4_MAX    15 /* 255.255.255.255 */
#define V1_V6_MAX    45 /* ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255 */
#define V1_PORT_MAX  5  /* 65535 */

enum v1_proto { V1_TOKEN, V1_TCP4, V1_TCP6, V1_UNKNOWN };

static const char *const v1_tokens[] = {
    [V1_TCP4] = "TCP4",
    [V1_TCP6] = "TCP6",
    [V1_UNKNOWN] = "UNKNOWN",
};

/* Whether tok[0..n) begins one of the protocol names (want_whole: is one). */
static enum v1_proto v1_token(const uint8_t *tok, size_t n, bool want_whole)
{
    for (int k = V1_TCP4; k <= V1_UNKNOWN; k++) {
        size_t tlen = strlen(v1_tokens[k]);

        if (n <= tlen && memcmp(tok, v1_tokens[k], n) == 0 && (!want_whole || n == tlen))
            return (enum v1_proto)k;
    }
    return V1_TOKEN;
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static bool is_xdigit(uint8_t c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Whether c may be byte n of field `field` (0 source address, 1 destination
 * address, 2 source port, 3 destination port) whose bytes so far are f[0..n). */
static bool v1_field_byte(enum v1_proto proto, int field, const uint8_t *f, size_t n, uint8_t c)
{
    if (field >= 2) /* a port: 1 to 5 digits, no leading zero */
        return is_digit(c) && n < V1_PORT_MAX && !(n == 1 && f[0] == '0');
    if (proto == V1_TCP4) /* no leading zero in a number either: it could be read as octal */
        return (is_digit(c) || c == '.') && n < V1_V4_MAX &&
               !(is_digit(c) && n > 0 && f[n - 1] == '0' && (n == 1 || f[n - 2] == '.'));
    return (is_xdigit(c) || c == ':' || c == '.') && n < V1_V6_MAX;
}

static int v1_addr(enum v1_proto proto, const uint8_t *f, size_t n, uint16_t port,
                   struct sockaddr_storage *ss, socklen_t *sslen)
{
    char s[V1_V6_MAX + 1];

    memcpy(s, f, n); /* n is at most V1_V6_MAX: the scan saw to that */
    s[n] = '\0';
    memset(ss, 0, sizeof *ss);
    if (proto == V1_TCP4) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;

        if (inet_pton(AF_INET, s, &in->sin_addr) != 1)
            return -EPROTO;
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        *sslen = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

        if (inet_pton(AF_INET6, s, &in6->sin6_addr) != 1)
            return -EPROTO;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        *sslen = sizeof *in6;
    }
    return 0;
}

/* The line p[0..end) (without its CR LF) passed the scan: what remains to
 * check are the addresses' syntax and the ports' range. */
static int v1_finish(const uint8_t *p, size_t end, enum v1_proto proto, const size_t start[4],
                     struct proxy_header *h)
{
    size_t stop[4] = {start[1] - 1, start[2] - 1, start[3] - 1, end};
    uint32_t port[2] = {0, 0};

    h->version = PROXY_V1;
    if (proto != V1_TCP4 && proto != V1_TCP6) { /* UNKNOWN, still a token at the CR */
        h->local = true;
        return 0;
    }
    for (int k = 0; k < 2; k++) {
        for (size_t i = start[2 + k]; i < stop[2 + k]; i++)
            port[k] = port[k] * 10 + (uint32_t)(p[i] - '0');
        if (port[k] > 65535)
            return -EPROTO;
    }
    if (v1_addr(proto, p + start[0], stop[0] - start[0], (uint16_t)port[0], &h->src, &h->src_len))
        return -EPROTO;
    return v1_addr(proto, p + start[1], stop[1] - start[1], (uint16_t)port[1], &h->dst,
                   &h->dst_len);
}

static int parse_v1(const uint8_t *p, size_t len, struct proxy_header *h)
{
    enum v1_proto proto = V1_TOKEN;
    size_t start[4] = {0, 0, 0, 0}; /* where each field of a TCP line starts */
    int field = 0;

    for (size_t i = 0; i < len; i++) {
        uint8_t c = p[i];
        bool can_end; /* whether byte i may be the CR that ends the line */

        if (i == PROXY_V1_MAX - 1)
            return -EMSGSIZE; /* no room left for a CR LF */
        if (i < V1_MAGIC_LEN) {
            if (c != (uint8_t)V1_MAGIC[i])
                return -EPROTO;
            continue;
        }
        switch (proto) {
        case V1_TOKEN:
            can_end = v1_token(p + V1_MAGIC_LEN, i - V1_MAGIC_LEN, true) == V1_UNKNOWN;
            break;
        case V1_UNKNOWN:
            can_end = true;
            break;
        default:
            can_end = field == 3 && i > start[3];
            break;
        }
        if (c == '\r' && can_end) {
            if (i + 1 == len)
                return 0;
            if (p[i + 1] != '\n')
                return -EPROTO; /* only CR LF ends the line */
            return v1_finish(p, i, proto, start, h) < 0 ? -EPROTO : (int)i + 2;
        }
        switch (proto) {
        case V1_TOKEN:
            if (c == ' ') {
                proto = v1_token(p + V1_MAGIC_LEN, i - V1_MAGIC_LEN, true);
                if (proto == V1_TOKEN)
                    return -EPROTO;
                start[0] = i + 1;
            } else if (v1_token(p + V1_MAGIC_LEN, i + 1 - V1_MAGIC_LEN, false) == V1_TOKEN) {
                return -EPROTO;
            }
            break;
        case V1_UNKNOWN: /* anything up to the CR LF, which the sender may leave out */
            if (c == '\r' || c == '\n')
                return -EPROTO;
            break;
        default:
            if (c == ' ') {
                if (i == start[field] || field == 3)
                    return -EPROTO; /* two spaces, or a fifth field */
                start[++field] = i + 1;
            } else if (!v1_field_byte(proto, field, p + start[field], i - start[field], c)) {
                return -EPROTO;
            }
            break;
        }
    }
    return 0;
}

/* --- version 2 ------------------------------------------------------------ */

static const uint8_t v2_sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                   0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

#define V2_HEAD       16
#define V2_CMD_LOCAL  0x0
#define V2_CMD_PROXY  0x1
#define V2_AF_UNSPEC  0x0
#define V2_AF_INET    0x1
#define V2_AF_INET6   0x2
#define V2_AF_UNIX    0x3
#define V2_TR_UNSPEC  0x0
#define V2_TR_STREAM  0x1
#define V2_TR_DGRAM   0x2
#define V2_UNIX_PATH  108
#define V2_TLV_CRC32C 0x03

static const size_t v2_addr_len[] = {
    [V2_AF_UNSPEC] = 0,
    [V2_AF_INET] = 2 * 4 + 2 * 2,
    [V2_AF_INET6] = 2 * 16 + 2 * 2,
    [V2_AF_UNIX] = 2 * V2_UNIX_PATH,
};

static unsigned be16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

/* CRC32C (Castagnoli, reflected: 0x82F63B78) of p[0..n) with the 4 bytes at
 * skip read as zeros, as the PP2_TYPE_CRC32C TLV is computed; four bits a step. */
static uint32_t crc32c_skip(const uint8_t *p, size_t n, size_t skip)
{
    static const uint32_t nibble[16] = {
        0x00000000, 0x105EC76F, 0x20BD8EDE, 0x30E349B1, 0x417B1DBC, 0x5125DAD3,
        0x61C69362, 0x7198540D, 0x82F63B78, 0x92A8FC17, 0xA24BB5A6, 0xB21572C9,
        0xC38D26C4, 0xD3D3E1AB, 0xE330A81A, 0xF36E6F75,
    };
    uint32_t crc = 0xFFFFFFFF;

    for (size_t i = 0; i < n; i++) {
        crc ^= i >= skip && i < skip + 4 ? 0 : p[i];
        crc = (crc >> 4) ^ nibble[crc & 0xF];
        crc = (crc >> 4) ^ nibble[crc & 0xF];
    }
    return ~crc;
}

/* The TLVs in p[off..end) must fill it exactly; a CRC32C must be right. */
static int v2_tlvs(const uint8_t *p, size_t off, size_t end)
{
    while (off < end) {
        size_t vlen;

        if (end - off < 3)
            return -EPROTO;
        vlen = be16(p + off + 1);
        if (vlen > end - off - 3)
            return -EPROTO;
        if (p[off] == V2_TLV_CRC32C) {
            const uint8_t *v = p + off + 3;

            if (vlen != 4)
                return -EPROTO;
            if (crc32c_skip(p, end, off + 3) !=
                ((uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3]))
                return -EPROTO;
        }
        off += 3 + vlen;
    }
    return 0;
}

static void v2_inet(struct sockaddr_storage *ss, socklen_t *sslen, const uint8_t *a,
                    const uint8_t *port)
{
    struct sockaddr_in *in = (struct sockaddr_in *)ss;

    memset(ss, 0, sizeof *ss);
    in->sin_family = AF_INET;
    memcpy(&in->sin_addr, a, 4);
    memcpy(&in->sin_port, port, 2);
    *sslen = sizeof *in;
}

static void v2_inet6(struct sockaddr_storage *ss, socklen_t *sslen, const uint8_t *a,
                     const uint8_t *port)
{
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof *ss);
    in6->sin6_family = AF_INET6;
    memcpy(&in6->sin6_addr, a, 16);
    memcpy(&in6->sin6_port, port, 2);
    *sslen = sizeof *in6;
}

/* A UNIX address of 108 bytes, NUL-padded: a path, an abstract name (a NUL,
 * then the name; its length is up to the last non-NUL byte), or nothing. */
static void v2_unix(struct sockaddr_storage *ss, socklen_t *sslen, const uint8_t *a)
{
    struct sockaddr_un *un = (struct sockaddr_un *)ss;
    size_t n = strnlen((const char *)a, V2_UNIX_PATH);

    _Static_assert(sizeof un->sun_path >= V2_UNIX_PATH, "sun_path holds a PROXY v2 address");
    memset(ss, 0, sizeof *ss);
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, a, V2_UNIX_PATH);
    if (n > 0) {
        n += n < V2_UNIX_PATH; /* its NUL, as getpeername() counts it */
    } else {
        n = V2_UNIX_PATH;
        while (n > 0 && a[n - 1] == '\0')
            n--;
    }
    *sslen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
}

static int parse_v2(const uint8_t *p, size_t len, struct proxy_header *h)
{
    unsigned cmd, fam, tr;
    size_t total;
    bool addressed;

    if (memcmp(p, v2_sig, len < sizeof v2_sig ? len : sizeof v2_sig) != 0)
        return -EPROTO;
    if (len <= 12)
        return 0;
    cmd = p[12] & 0x0F;
    if (p[12] >> 4 != 2 || cmd > V2_CMD_PROXY)
        return -EPROTO; /* version 2 only; LOCAL or PROXY */
    if (len <= 13)
        return 0;
    fam = p[13] >> 4;
    tr = p[13] & 0x0F;
    /* LOCAL ignores the family byte and the whole address block. */
    if (cmd == V2_CMD_PROXY && (fam > V2_AF_UNIX || tr >= V2_TR_DGRAM))
        return -EPROTO; /* an unassigned value, or a datagram: hellod serves streams */
    addressed = cmd == V2_CMD_PROXY && fam != V2_AF_UNSPEC && tr != V2_TR_UNSPEC;
    if (len < V2_HEAD)
        return 0;
    total = V2_HEAD + be16(p + 14);
    if (total > PROXY_HEADER_MAX)
        return -EMSGSIZE;
    if (addressed && total < V2_HEAD + v2_addr_len[fam])
        return -EPROTO; /* too short for its addresses */
    if (len < total)
        return 0;

    h->version = PROXY_V2;
    if (!addressed) {
        h->local = true;
        return (int)total;
    }
    if (v2_tlvs(p, V2_HEAD + v2_addr_len[fam], total) < 0)
        return -EPROTO;
    p += V2_HEAD;
    switch (fam) {
    case V2_AF_INET:
        v2_inet(&h->src, &h->src_len, p, p + 8);
        v2_inet(&h->dst, &h->dst_len, p + 4, p + 10);
        break;
    case V2_AF_INET6:
        v2_inet6(&h->src, &h->src_len, p, p + 32);
        v2_inet6(&h->dst, &h->dst_len, p + 16, p + 34);
        break;
    default:
        v2_unix(&h->src, &h->src_len, p);
        v2_unix(&h->dst, &h->dst_len, p + V2_UNIX_PATH);
        break;
    }
    return (int)total;
}

/* --- both ----------------------------------------------------------------- */

int proxy_parse(const void *buf, size_t len, unsigned versions, struct proxy_header *out)
{
    const uint8_t *p = buf;
    struct proxy_header h = {.local = false};
    int r;

    if (len == 0)
        return 0;
    if (p[0] == (uint8_t)V1_MAGIC[0])
        r = versions & PROXY_V1 ? parse_v1(p, len, &h) : -EPROTONOSUPPORT;
    else if (p[0] == v2_sig[0])
        r = versions & PROXY_V2 ? parse_v2(p, len, &h) : -EPROTONOSUPPORT;
    else
        r = -EPROTO;
    if (r > 0 && out)
        *out = h;
    return r;
}

const char *proxy_strerror(int r)
{
    if (r > 0)
        return "complete PROXY header";
    switch (r) {
    case 0:
        return "truncated PROXY header";
    case -EPROTO:
        return "malformed PROXY header";
    case -EMSGSIZE:
        return "PROXY header too long";
    case -EPROTONOSUPPORT:
        return "PROXY header of a version not enabled";
    default:
        return "invalid PROXY header";
    }
}
