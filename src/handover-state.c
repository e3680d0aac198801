/* handover-state.c - one connection's state in bytes and back
 * (docs/handover-format.md has the layout).
 *
 * A header (magic, version, length) and then records of type, length and
 * value, all big-endian: a later hellod adds a record rather than changing
 * one, and an older hellod skips a record it does not know unless the type
 * says it must be understood. One validator serves both directions, so the
 * encoder never writes what the decoder would refuse. */
#include "config.h"

#include "handover-state.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#define MAGIC       "HLDC"
#define HEADER_LEN  10     /* magic, u16 version, u32 length of the records */
#define RECORD_HEAD 6      /* u16 type, u32 length */
#define ADDR_LEN    24     /* u8 family, u8 0, u16 port, u32 scope id, 16 address bytes */
#define CRITICAL    0x8000 /* in a type: a reader that does not know it must refuse */

enum record_type {
    REC_SOCKET = CRITICAL | 1,
    REC_PEER = CRITICAL | 2,
    REC_CONN = CRITICAL | 3,
    REC_PROXY = CRITICAL | 4,
    REC_MESSAGE = CRITICAL | 5,
    REC_REPLIES = CRITICAL | 6,
    REC_DEADLINES = 7, /* without it, the timeouts start afresh: no harm */
};

/* The address families on the wire: numbers of the format's own. */
enum wire_family { WIRE_NONE = 0, WIRE_INET = 1, WIRE_INET6 = 2, WIRE_UNIX = 3 };

#define ERROR_LINE_LEN (sizeof HANDOVER_ERROR_LINE - 1)

/* --- validation ----------------------------------------------------------- */

static bool family_ok(const struct sockaddr_storage *a, bool none_ok)
{
    sa_family_t f = a->ss_family;

    return f == AF_INET || f == AF_INET6 || f == AF_UNIX || (none_ok && f == AF_UNSPEC);
}

static bool greeting_ok(const struct handover_run *run)
{
    if (run->count == 0 || run->greeting_len == 0 || run->greeting_len > HANDOVER_GREETING_MAX ||
        !run->greeting)
        return false;
    for (unsigned i = 0; i < run->greeting_len; i++) {
        unsigned char c = (unsigned char)run->greeting[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

static bool deadline_ok(uint64_t left)
{
    return left == HANDOVER_NO_DEADLINE || left <= HANDOVER_DEADLINE_MAX;
}

static bool proxy_ok(const struct handover_state *s)
{
    bool want_client = s->proxy_state == HANDOVER_PROXY_DONE && !s->proxy_local;

    if ((s->proxy_versions == 0) != (s->proxy_state == HANDOVER_PROXY_NONE))
        return false;
    if (s->proxy_versions & ~3u || s->proxy_state > HANDOVER_PROXY_DONE)
        return false;
    if (s->proxy_local && s->proxy_state != HANDOVER_PROXY_DONE)
        return false;
    if (want_client ? !family_ok(&s->client, false) : s->client.ss_family != AF_UNSPEC)
        return false;
    if (s->proxy_state != HANDOVER_PROXY_WAITING)
        return s->proxy_len == 0;
    /* Nothing of the client's own comes before its header. */
    return s->proxy_len < HANDOVER_PROXY_MAX && (s->proxy_len == 0 || s->proxy_bytes) &&
           s->state == HANDOVER_OPEN && s->msg_len == 0 && s->n_runs == 0;
}

static bool message_ok(const struct handover_state *s)
{
    if (s->msg_len == 0)
        return !s->msg_cr && s->msg_kept == 0;
    return s->msg_len <= HANDOVER_MESSAGE_MAX && s->msg_kept <= s->msg_len &&
           (s->msg_kept == 0 || s->msg_bytes) && s->state == HANDOVER_OPEN;
}

static bool replies_ok(const struct handover_state *s)
{
    if (s->n_runs > HANDOVER_RUNS_MAX)
        return false;
    if (s->n_runs == 0)
        return s->sent == 0;
    for (unsigned i = 0; i < s->n_runs; i++)
        if (!greeting_ok(&s->runs[i]))
            return false;
    return s->sent < (uint32_t)s->runs[0].greeting_len + 1 && s->state != HANDOVER_LINGER;
}

static bool state_ok(const struct handover_state *s)
{
    if (s->state > HANDOVER_LINGER || !family_ok(&s->peer, false))
        return false;
    if (s->state == HANDOVER_FAILED ? s->error_sent >= ERROR_LINE_LEN : s->error_sent != 0)
        return false;
    return proxy_ok(s) && message_ok(s) && replies_ok(s) && deadline_ok(s->idle_left) &&
           deadline_ok(s->message_left) && deadline_ok(s->linger_left);
}

/* --- writing -------------------------------------------------------------- */

struct writer {
    uint8_t *p;
};

static void put_bytes(struct writer *w, const void *src, size_t n)
{
    if (n > 0)
        memcpy(w->p, src, n);
    w->p += n;
}

static void put_u8(struct writer *w, uint8_t v)
{
    *w->p++ = v;
}

static void put_u16(struct writer *w, uint16_t v)
{
    put_u8(w, (uint8_t)(v >> 8));
    put_u8(w, (uint8_t)v);
}

static void put_u32(struct writer *w, uint32_t v)
{
    put_u16(w, (uint16_t)(v >> 16));
    put_u16(w, (uint16_t)v);
}

static void put_u64(struct writer *w, uint64_t v)
{
    put_u32(w, (uint32_t)(v >> 32));
    put_u32(w, (uint32_t)v);
}

static void put_record(struct writer *w, uint16_t type, size_t len)
{
    put_u16(w, type);
    put_u32(w, (uint32_t)len);
}

static void put_addr(struct writer *w, const struct sockaddr_storage *a)
{
    static const uint8_t zero[ADDR_LEN];

    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)a;
        put_u8(w, WIRE_INET);
        put_u8(w, 0);
        put_u16(w, ntohs(in->sin_port));
        put_u32(w, 0);
        put_bytes(w, &in->sin_addr, 4); /* already in network order */
        put_bytes(w, zero, 12);
    } else if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)a;
        put_u8(w, WIRE_INET6);
        put_u8(w, 0);
        put_u16(w, ntohs(in6->sin6_port));
        put_u32(w, in6->sin6_scope_id);
        put_bytes(w, &in6->sin6_addr, 16);
    } else { /* AF_UNIX (hellod shows no name for it) or none */
        put_u8(w, a->ss_family == AF_UNIX ? WIRE_UNIX : WIRE_NONE);
        put_bytes(w, zero, ADDR_LEN - 1);
    }
}

static size_t replies_len(const struct handover_state *s)
{
    size_t n = 5;

    for (unsigned i = 0; i < s->n_runs; i++)
        n += 5 + s->runs[i].greeting_len;
    return n;
}

ssize_t handover_encoded_size(const struct handover_state *s)
{
    size_t n =
        HEADER_LEN + RECORD_HEAD + 8 + RECORD_HEAD + ADDR_LEN + RECORD_HEAD + 2 + RECORD_HEAD + 24;

    if (!state_ok(s))
        return -EINVAL;
    if (s->proxy_versions)
        n += RECORD_HEAD + 3 + ADDR_LEN + s->proxy_len;
    if (s->msg_len)
        n += RECORD_HEAD + 5 + s->msg_kept;
    if (s->n_runs)
        n += RECORD_HEAD + replies_len(s);
    return (ssize_t)n;
}

ssize_t handover_encode(const struct handover_state *s, void *buf, size_t size)
{
    ssize_t total = handover_encoded_size(s);
    struct writer w = {buf};

    if (total < 0)
        return total;
    if ((size_t)total > size)
        return -ENOBUFS;
    put_bytes(&w, MAGIC, 4);
    put_u16(&w, HANDOVER_VERSION);
    put_u32(&w, (uint32_t)(total - HEADER_LEN));
    put_record(&w, REC_SOCKET, 8);
    put_u64(&w, s->socket_inode);
    put_record(&w, REC_PEER, ADDR_LEN);
    put_addr(&w, &s->peer);
    put_record(&w, REC_CONN, 2);
    put_u8(&w, (uint8_t)s->state);
    put_u8(&w, s->error_sent);
    if (s->proxy_versions) {
        put_record(&w, REC_PROXY, 3 + ADDR_LEN + (size_t)s->proxy_len);
        put_u8(&w, s->proxy_versions);
        put_u8(&w, (uint8_t)s->proxy_state);
        put_u8(&w, s->proxy_local);
        put_addr(&w, &s->client);
        put_bytes(&w, s->proxy_bytes, s->proxy_len);
    }
    if (s->msg_len) {
        put_record(&w, REC_MESSAGE, 5 + (size_t)s->msg_kept);
        put_u32(&w, s->msg_len);
        put_u8(&w, s->msg_cr);
        put_bytes(&w, s->msg_bytes, s->msg_kept);
    }
    if (s->n_runs) {
        put_record(&w, REC_REPLIES, replies_len(s));
        put_u32(&w, s->sent);
        put_u8(&w, (uint8_t)s->n_runs);
        for (unsigned i = 0; i < s->n_runs; i++) {
            put_u32(&w, s->runs[i].count);
            put_u8(&w, s->runs[i].greeting_len);
            put_bytes(&w, s->runs[i].greeting, s->runs[i].greeting_len);
        }
    }
    put_record(&w, REC_DEADLINES, 24);
    put_u64(&w, s->idle_left);
    put_u64(&w, s->message_left);
    put_u64(&w, s->linger_left);
    return w.p == (uint8_t *)buf + total ? total : -EINVAL; /* cannot differ: sized above */
}

/* --- reading -------------------------------------------------------------- */

/* Reads within one record; any read past its end marks it bad. */
struct reader {
    const uint8_t *p, *end;
    bool bad;
};

static const uint8_t *get_bytes(struct reader *r, size_t n)
{
    const uint8_t *at = r->p;

    if ((size_t)(r->end - r->p) < n) {
        r->bad = true;
        return NULL;
    }
    r->p += n;
    return at;
}

static uint8_t get_u8(struct reader *r)
{
    const uint8_t *b = get_bytes(r, 1);

    return b ? b[0] : 0;
}

static uint16_t get_u16(struct reader *r)
{
    const uint8_t *b = get_bytes(r, 2);

    return b ? (uint16_t)(b[0] << 8 | b[1]) : 0;
}

static uint32_t get_u32(struct reader *r)
{
    uint32_t hi = get_u16(r);

    return hi << 16 | get_u16(r);
}

static uint64_t get_u64(struct reader *r)
{
    uint64_t hi = get_u32(r);

    return hi << 32 | get_u32(r);
}

static void get_addr(struct reader *r, struct sockaddr_storage *a)
{
    static const uint8_t zero[16];
    uint8_t family = get_u8(r), pad = get_u8(r);
    uint16_t port = get_u16(r);
    uint32_t scope = get_u32(r);
    const uint8_t *bytes = get_bytes(r, 16);

    memset(a, 0, sizeof *a);
    if (r->bad)
        return;
    if (family == WIRE_INET && pad == 0 && scope == 0 && !memcmp(bytes + 4, zero, 12)) {
        struct sockaddr_in *in = (struct sockaddr_in *)a;
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        memcpy(&in->sin_addr, bytes, 4);
    } else if (family == WIRE_INET6 && pad == 0) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)a;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        in6->sin6_scope_id = scope;
        memcpy(&in6->sin6_addr, bytes, 16);
    } else if ((family == WIRE_UNIX || family == WIRE_NONE) && pad == 0 && port == 0 &&
               scope == 0 && !memcmp(bytes, zero, 16)) {
        a->ss_family = family == WIRE_UNIX ? AF_UNIX : AF_UNSPEC;
    } else {
        r->bad = true;
    }
}

static void get_proxy(struct reader *r, struct handover_state *s)
{
    uint8_t state, local;

    s->proxy_versions = get_u8(r);
    state = get_u8(r);
    local = get_u8(r);
    get_addr(r, &s->client);
    if (state > HANDOVER_PROXY_DONE || local > 1 || s->proxy_versions == 0)
        r->bad = true; /* absent when 0: the record is not written then */
    s->proxy_state = (enum handover_proxy_state)state;
    s->proxy_local = local;
    if ((size_t)(r->end - r->p) >= HANDOVER_PROXY_MAX) {
        r->bad = true;
        return;
    }
    s->proxy_len = (uint16_t)(r->end - r->p);
    s->proxy_bytes = get_bytes(r, s->proxy_len);
}

static void get_message(struct reader *r, struct handover_state *s)
{
    uint8_t flags;

    s->msg_len = get_u32(r);
    flags = get_u8(r);
    if (flags > 1 || s->msg_len == 0)
        r->bad = true;
    s->msg_cr = flags & 1;
    s->msg_kept = (uint32_t)(r->end - r->p);
    s->msg_bytes = get_bytes(r, s->msg_kept);
}

static void get_replies(struct reader *r, struct handover_state *s)
{
    s->sent = get_u32(r);
    s->n_runs = get_u8(r);
    if (s->n_runs == 0 || s->n_runs > HANDOVER_RUNS_MAX) {
        r->bad = true;
        return;
    }
    for (unsigned i = 0; i < s->n_runs && !r->bad; i++) {
        s->runs[i].count = get_u32(r);
        s->runs[i].greeting_len = get_u8(r);
        s->runs[i].greeting = (const char *)get_bytes(r, s->runs[i].greeting_len);
    }
}

/* Reads one record's value into s. -EBADMSG, -EPROTONOSUPPORT (a type that
 * must be understood and is not), or 0 (also for a type skipped). */
static int get_record(uint16_t type, struct reader *r, struct handover_state *s)
{
    switch (type) {
    case REC_SOCKET:
        s->socket_inode = get_u64(r);
        break;
    case REC_PEER:
        get_addr(r, &s->peer);
        break;
    case REC_CONN:
        s->state = (enum handover_conn_state)get_u8(r);
        s->error_sent = get_u8(r);
        break;
    case REC_PROXY:
        get_proxy(r, s);
        break;
    case REC_MESSAGE:
        get_message(r, s);
        break;
    case REC_REPLIES:
        get_replies(r, s);
        break;
    case REC_DEADLINES:
        s->idle_left = get_u64(r);
        s->message_left = get_u64(r);
        s->linger_left = get_u64(r);
        break;
    default:
        if (type & CRITICAL)
            return -EPROTONOSUPPORT;
        r->p = r->end; /* a later hellod's addition we may do without */
        return 0;
    }
    return r->bad || r->p != r->end ? -EBADMSG : 0;
}

/* The bit of a known record in a set of seen ones, or 0 for others. */
static unsigned record_bit(uint16_t type)
{
    unsigned n = type & ~CRITICAL;

    return n >= 1 && n <= 7 && (type & CRITICAL) == (n == 7 ? 0 : CRITICAL) ? 1u << n : 0;
}

#define REQUIRED (1u << 1 | 1u << 2 | 1u << 3) /* SOCKET, PEER, CONN */

ssize_t handover_state_size(const void *buf, size_t size)
{
    const uint8_t *p = buf;
    uint64_t len;

    if (size < HEADER_LEN || memcmp(p, MAGIC, 4) != 0)
        return -EBADMSG;
    len = HEADER_LEN + ((uint64_t)p[6] << 24 | (uint64_t)p[7] << 16 | (uint64_t)p[8] << 8 | p[9]);
    return len <= size ? (ssize_t)len : -EBADMSG;
}

int handover_decode(const void *buf, size_t size, uint32_t max_message, struct handover_state *out)
{
    struct reader all = {buf, (const uint8_t *)buf + size, false};
    struct handover_state s = {.idle_left = HANDOVER_NO_DEADLINE,
                               .message_left = HANDOVER_NO_DEADLINE,
                               .linger_left = HANDOVER_NO_DEADLINE};
    const uint8_t *magic = get_bytes(&all, 4);
    uint16_t version = get_u16(&all);
    uint32_t len = get_u32(&all);
    unsigned seen = 0;

    if (all.bad || memcmp(magic, MAGIC, 4) != 0 || version == 0)
        return -EBADMSG;
    if (version > HANDOVER_VERSION)
        return -EPROTONOSUPPORT;
    if (len > (size_t)(all.end - all.p))
        return -EBADMSG;
    all.end = all.p + len;
    while (all.p < all.end) {
        uint16_t type = get_u16(&all);
        uint32_t rlen = get_u32(&all);
        struct reader rec = {all.p, all.p, false};
        unsigned bit = record_bit(type);
        int r;

        if (all.bad || rlen > (size_t)(all.end - all.p) || (bit & seen))
            return -EBADMSG;
        if (!bit && (type & ~CRITICAL) >= 1 && (type & ~CRITICAL) <= 7)
            return -EBADMSG; /* a known type with the wrong critical bit */
        rec.end = all.p + rlen;
        r = get_record(type, &rec, &s);
        if (r < 0)
            return r;
        seen |= bit;
        all.p = rec.end;
    }
    if ((seen & REQUIRED) != REQUIRED || !state_ok(&s))
        return -EBADMSG;
    *out = s;
    return s.msg_len > max_message ? -EMSGSIZE : 0;
}

const char *handover_strerror(int r)
{
    switch (r) {
    case 0:
        return "no error";
    case -EBADMSG:
        return "corrupt or truncated connection state";
    case -EPROTONOSUPPORT:
        return "connection state of a newer format";
    case -EMSGSIZE:
        return "the unfinished message is over max_message";
    default:
        return "unreadable connection state";
    }
}
