/* test-handover-state.c - one connection's state for the restart handover
 * (src/handover-state.c, docs/handover-format.md): every field round-trips,
 * the bytes are those the document gives (big-endian on every host), and the
 * decoder refuses truncated, corrupt and newer input with the right error,
 * never reading past what it was given. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "handover-state.h"

#define BIG_MAX 1048576 /* max_message at its largest */

static char long_greeting[HANDOVER_GREETING_MAX];
static uint8_t proxy_part[HANDOVER_PROXY_MAX - 1];
static uint8_t big_message[HANDOVER_MESSAGE_MAX];

/* --- states to round-trip ------------------------------------------------- */

static void set_in4(struct sockaddr_storage *a, const char *ip, uint16_t port)
{
    struct sockaddr_in *in = (struct sockaddr_in *)a;

    memset(a, 0, sizeof *a);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    assert_int_equal(inet_pton(AF_INET, ip, &in->sin_addr), 1);
}

static void set_in6(struct sockaddr_storage *a, const char *ip, uint16_t port, uint32_t scope)
{
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)a;

    memset(a, 0, sizeof *a);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    in6->sin6_scope_id = scope;
    assert_int_equal(inet_pton(AF_INET6, ip, &in6->sin6_addr), 1);
}

static void set_unix(struct sockaddr_storage *a)
{
    memset(a, 0, sizeof *a);
    a->ss_family = AF_UNIX;
}

static struct handover_state base(void)
{
    struct handover_state s;

    memset(&s, 0, sizeof s); /* the addresses' padding too, for memcmp */
    s.socket_inode = 0x0102030405060708ULL;
    set_in4(&s.peer, "192.0.2.1", 40000);
    s.idle_left = s.message_left = s.linger_left = HANDOVER_NO_DEADLINE;
    return s;
}

/* Everything at once: PROXY header consumed, an unfinished message, replies
 * owed in three greetings with the first partly written, deadlines. */
static struct handover_state full(void)
{
    struct handover_state s = base();

    set_in6(&s.peer, "2001:db8::1", 50000, 0);
    s.proxy_versions = 3;
    s.proxy_state = HANDOVER_PROXY_DONE;
    set_in4(&s.client, "198.51.100.7", 41234);
    s.msg_len = 40;
    s.msg_cr = true;
    s.msg_bytes = (const uint8_t *)"0123456789";
    s.msg_kept = 10;
    s.runs[0] = (struct handover_run){5, "Hello", 5};
    s.runs[1] = (struct handover_run){1, "Hi there", 8};
    s.runs[2] = (struct handover_run){70000, long_greeting, HANDOVER_GREETING_MAX};
    s.n_runs = 3;
    s.sent = 3;
    s.idle_left = 59000000;
    s.message_left = 80000;
    return s;
}

static struct handover_state waiting(void)
{
    struct handover_state s = base();

    s.proxy_versions = 1;
    s.proxy_state = HANDOVER_PROXY_WAITING;
    s.proxy_bytes = (const uint8_t *)"PROXY TCP4";
    s.proxy_len = 10;
    s.idle_left = 1000;
    return s;
}

static struct handover_state failed(void)
{
    struct handover_state s = base();

    set_unix(&s.peer);
    s.state = HANDOVER_FAILED;
    s.error_sent = (uint8_t)(sizeof HANDOVER_ERROR_LINE - 2); /* all but its LF */
    s.runs[0] = (struct handover_run){2, "Hello from server", 17};
    s.n_runs = 1;
    s.sent = 17; /* all but the LF of the first */
    return s;
}

static struct handover_state lingering(void)
{
    struct handover_state s = base();

    set_in6(&s.peer, "fe80::1", 1, 3); /* a link-local peer keeps its scope */
    s.proxy_versions = 2;
    s.proxy_state = HANDOVER_PROXY_DONE;
    s.proxy_local = true; /* a LOCAL header: no client address */
    s.state = HANDOVER_LINGER;
    s.linger_left = 1500000;
    s.idle_left = 0;
    return s;
}

static struct handover_state at_eof(void)
{
    struct handover_state s = base();

    s.state = HANDOVER_EOF;
    s.proxy_versions = 1;
    s.proxy_state = HANDOVER_PROXY_DONE;
    set_unix(&s.client); /* a v2 header may name a UNIX client */
    s.runs[0] = (struct handover_run){UINT32_MAX, "x", 1};
    s.n_runs = 1;
    return s;
}

/* The largest state there is: every bound at its limit. */
static struct handover_state largest(void)
{
    struct handover_state s = base();

    s.proxy_versions = 3;
    s.proxy_state = HANDOVER_PROXY_WAITING;
    s.proxy_bytes = proxy_part;
    s.proxy_len = sizeof proxy_part;
    s.idle_left = HANDOVER_DEADLINE_MAX;
    s.message_left = HANDOVER_DEADLINE_MAX;
    s.linger_left = HANDOVER_DEADLINE_MAX;
    return s;
}

static struct handover_state longest_message(void)
{
    struct handover_state s = base();

    s.msg_len = HANDOVER_MESSAGE_MAX;
    s.msg_bytes = big_message;
    s.msg_kept = HANDOVER_MESSAGE_MAX;
    for (unsigned i = 0; i < HANDOVER_RUNS_MAX; i++)
        s.runs[i] = (struct handover_run){i + 1, long_greeting, HANDOVER_GREETING_MAX};
    s.n_runs = HANDOVER_RUNS_MAX;
    s.sent = HANDOVER_GREETING_MAX; /* all but the first reply's LF */
    return s;
}

static void assert_same(const struct handover_state *a, const struct handover_state *b)
{
    assert_int_equal(a->socket_inode, b->socket_inode);
    assert_int_equal(a->state, b->state);
    assert_int_equal(a->error_sent, b->error_sent);
    assert_memory_equal(&a->peer, &b->peer, sizeof a->peer);
    assert_int_equal(a->proxy_versions, b->proxy_versions);
    assert_int_equal(a->proxy_state, b->proxy_state);
    assert_int_equal(a->proxy_local, b->proxy_local);
    assert_memory_equal(&a->client, &b->client, sizeof a->client);
    assert_int_equal(a->proxy_len, b->proxy_len);
    if (a->proxy_len)
        assert_memory_equal(a->proxy_bytes, b->proxy_bytes, a->proxy_len);
    assert_int_equal(a->msg_len, b->msg_len);
    assert_int_equal(a->msg_cr, b->msg_cr);
    assert_int_equal(a->msg_kept, b->msg_kept);
    if (a->msg_kept)
        assert_memory_equal(a->msg_bytes, b->msg_bytes, a->msg_kept);
    assert_int_equal(a->n_runs, b->n_runs);
    for (unsigned i = 0; i < a->n_runs; i++) {
        assert_int_equal(a->runs[i].count, b->runs[i].count);
        assert_int_equal(a->runs[i].greeting_len, b->runs[i].greeting_len);
        assert_memory_equal(a->runs[i].greeting, b->runs[i].greeting, a->runs[i].greeting_len);
    }
    assert_int_equal(a->sent, b->sent);
    assert_int_equal(a->idle_left, b->idle_left);
    assert_int_equal(a->message_left, b->message_left);
    assert_int_equal(a->linger_left, b->linger_left);
}

/* Encodes s into a heap block of exactly its size (so that ASan sees any
 * read past it); the caller frees. */
static uint8_t *encode(const struct handover_state *s, size_t *len)
{
    ssize_t n = handover_encoded_size(s);
    uint8_t *buf;

    assert_true(n > 0 && n <= HANDOVER_STATE_MAX);
    buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(handover_encode(s, buf, (size_t)n), n);
    *len = (size_t)n;
    return buf;
}

static void round_trip(const struct handover_state *s)
{
    struct handover_state back;
    size_t len;
    uint8_t *buf = encode(s, &len);

    memset(&back, 0xa5, sizeof back);
    assert_int_equal(handover_decode(buf, len, BIG_MAX, &back), 0);
    assert_same(s, &back);
    free(buf);
}

static void every_field_round_trips(void **state)
{
    struct handover_state s[] = {base(),   full(),      waiting(), failed(),
                                 at_eof(), lingering(), largest(), longest_message()};

    (void)state;
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        round_trip(&s[i]);
}

static void the_largest_states_fit_the_bound(void **state)
{
    struct handover_state a = largest(), b = longest_message();

    (void)state;
    /* A memfd of HANDOVER_STATE_MAX bytes holds any state. */
    assert_true(handover_encoded_size(&a) <= HANDOVER_STATE_MAX);
    assert_true(handover_encoded_size(&b) <= HANDOVER_STATE_MAX);
    assert_true(handover_encoded_size(&b) > HANDOVER_MESSAGE_MAX);
}

/* --- the bytes themselves ------------------------------------------------- */

/* base(), byte for byte as docs/handover-format.md lays it out. A hellod of
 * any later version must read these bytes: they are what version 1 writes. */
static const uint8_t base_bytes[] = {
    'H',  'L',  'D',  'C',  0x00, 0x01,             /* magic, version 1 */
    0x00, 0x00, 0x00, 0x52,                         /* 82 bytes of records */
    0x80, 0x01, 0x00, 0x00, 0x00, 0x08,             /* SOCKET, 8 */
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* inode */
    0x80, 0x02, 0x00, 0x00, 0x00, 0x18,             /* PEER, 24 */
    0x01, 0x00, 0x9c, 0x40, 0x00, 0x00, 0x00, 0x00, /* IPv4, port 40000, scope 0 */
    192,  0,    2,    1,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0x80, 0x03, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, /* CONN, 2: OPEN, 0 */
    0x00, 0x07, 0x00, 0x00, 0x00, 0x18, /* DEADLINES, 24: none */
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

static void the_bytes_are_big_endian_as_documented(void **state)
{
    struct handover_state s = base(), back;
    uint8_t buf[sizeof base_bytes];

    (void)state;
    assert_int_equal(handover_encode(&s, buf, sizeof buf), sizeof base_bytes);
    assert_memory_equal(buf, base_bytes, sizeof base_bytes);
    assert_int_equal(handover_decode(base_bytes, sizeof base_bytes, 1024, &back), 0);
    assert_same(&s, &back);
}

/* A replies record by hand: sent 1, one run of 258 replies in "Hi". */
static void a_replies_record_reads_as_documented(void **state)
{
    uint8_t buf[sizeof base_bytes + 6 + 5 + 5 + 2];
    static const uint8_t rec[] = {0x80, 0x06, 0, 0, 0, 12, 0, 0, 0, 1, 1, 0, 0, 1, 2, 2, 'H', 'i'};
    struct handover_state s;

    (void)state;
    memcpy(buf, base_bytes, sizeof base_bytes);
    memcpy(buf + sizeof base_bytes, rec, sizeof rec);
    buf[9] = (uint8_t)(buf[9] + sizeof rec);
    assert_int_equal(handover_decode(buf, sizeof buf, 1024, &s), 0);
    assert_int_equal(s.n_runs, 1);
    assert_int_equal(s.runs[0].count, 258);
    assert_int_equal(s.runs[0].greeting_len, 2);
    assert_memory_equal(s.runs[0].greeting, "Hi", 2);
    assert_int_equal(s.sent, 1);
}

/* --- truncated and trailing input ----------------------------------------- */

static void truncated_at_every_length_is_refused(void **state)
{
    struct handover_state samples[] = {base(), full(), waiting(), failed(), lingering()};

    (void)state;
    for (size_t k = 0; k < sizeof samples / sizeof samples[0]; k++) {
        size_t len;
        uint8_t *full_buf = encode(&samples[k], &len);

        for (size_t n = 0; n < len; n++) {
            uint8_t *cut = malloc(n ? n : 1); /* exactly n bytes: ASan sees overreads */
            struct handover_state s;

            assert_non_null(cut);
            memcpy(cut, full_buf, n);
            s.socket_inode = 42;
            assert_int_equal(handover_decode(cut, n, BIG_MAX, &s), -EBADMSG);
            assert_int_equal(s.socket_inode, 42); /* not written */
            free(cut);
        }
        free(full_buf);
    }
}

static void bytes_after_the_state_are_ignored(void **state)
{
    struct handover_state s = full(), back;
    size_t len;
    uint8_t *buf = encode(&s, &len), *bigger = malloc(len + 4096);

    (void)state;
    assert_non_null(bigger);
    memcpy(bigger, buf, len);
    memset(bigger + len, 0x80, 4096); /* a memfd sized larger, or garbage */
    assert_int_equal(handover_decode(bigger, len + 4096, BIG_MAX, &back), 0);
    assert_same(&s, &back);
    free(buf);
    free(bigger);
}

/* --- input built by hand -------------------------------------------------- */

struct built {
    uint8_t b[1024];
    size_t n;
};

static void put(struct built *b, const void *p, size_t n)
{
    assert_true(b->n + n <= sizeof b->b);
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

static void put_be(struct built *b, uint64_t v, unsigned bytes)
{
    for (unsigned i = bytes; i-- > 0;) {
        uint8_t byte = (uint8_t)(v >> (8 * i));
        put(b, &byte, 1);
    }
}

static void begin(struct built *b, uint16_t version)
{
    b->n = 0;
    put(b, "HLDC", 4);
    put_be(b, version, 2);
    put_be(b, 0, 4); /* patched by end() */
}

static void record(struct built *b, uint16_t type, const void *v, size_t len)
{
    put_be(b, type, 2);
    put_be(b, len, 4);
    put(b, v, len);
}

static size_t end(struct built *b)
{
    size_t len = b->n - 10;

    for (unsigned i = 0; i < 4; i++)
        b->b[6 + i] = (uint8_t)(len >> (8 * (3 - i)));
    return b->n;
}

static const uint8_t v_socket[8] = {0, 0, 0, 0, 0, 0, 0, 9};
static const uint8_t v_peer[24] = {1, 0, 0, 80, 0, 0, 0, 0, 127, 0, 0, 1};
static const uint8_t v_conn[2] = {0, 0};

/* The three records every state has, but the one of type skip. */
static void required(struct built *b, uint16_t skip)
{
    if (skip != 0x8001)
        record(b, 0x8001, v_socket, sizeof v_socket);
    if (skip != 0x8002)
        record(b, 0x8002, v_peer, sizeof v_peer);
    if (skip != 0x8003)
        record(b, 0x8003, v_conn, sizeof v_conn);
}

static int decode_built(struct built *b)
{
    struct handover_state s;
    size_t n = end(b);
    uint8_t *exact = malloc(n);
    int r;

    assert_non_null(exact);
    memcpy(exact, b->b, n);
    r = handover_decode(exact, n, 1024, &s);
    free(exact);
    return r;
}

static void the_minimum_is_three_records(void **state)
{
    struct built b;

    (void)state;
    begin(&b, 1);
    required(&b, 0);
    assert_int_equal(decode_built(&b), 0);
    for (uint16_t skip = 0x8001; skip <= 0x8003; skip++) {
        begin(&b, 1);
        required(&b, skip);
        assert_int_equal(decode_built(&b), -EBADMSG);
    }
}

static void records_in_any_order_once_each(void **state)
{
    struct built b;

    (void)state;
    begin(&b, 1);
    record(&b, 0x8003, v_conn, sizeof v_conn);
    record(&b, 0x8002, v_peer, sizeof v_peer);
    record(&b, 0x8001, v_socket, sizeof v_socket);
    assert_int_equal(decode_built(&b), 0);
    begin(&b, 1);
    required(&b, 0);
    record(&b, 0x8002, v_peer, sizeof v_peer);
    assert_int_equal(decode_built(&b), -EBADMSG);
}

static void versions_newer_are_refused_older_read(void **state)
{
    struct built b;

    (void)state;
    begin(&b, 0);
    required(&b, 0);
    assert_int_equal(decode_built(&b), -EBADMSG); /* there is no version 0 */
    begin(&b, HANDOVER_VERSION + 1);
    required(&b, 0);
    assert_int_equal(decode_built(&b), -EPROTONOSUPPORT);
    begin(&b, 0xffff);
    assert_int_equal(decode_built(&b), -EPROTONOSUPPORT);
}

static void unknown_records_skipped_unless_critical(void **state)
{
    static const uint8_t blob[] = {1, 2, 3};
    struct built b;

    (void)state;
    begin(&b, 1);
    required(&b, 0);
    record(&b, 0x0042, blob, sizeof blob); /* a later addition we may do without */
    record(&b, 0x0000, blob, 0);
    assert_int_equal(decode_built(&b), 0);
    begin(&b, 1);
    required(&b, 0);
    record(&b, 0x8042, blob, sizeof blob); /* one we must understand */
    assert_int_equal(decode_built(&b), -EPROTONOSUPPORT);
    /* A known type with the wrong critical bit is corrupt, not new. */
    begin(&b, 1);
    record(&b, 0x0001, v_socket, sizeof v_socket);
    record(&b, 0x8002, v_peer, sizeof v_peer);
    record(&b, 0x8003, v_conn, sizeof v_conn);
    assert_int_equal(decode_built(&b), -EBADMSG);
    begin(&b, 1);
    required(&b, 0);
    record(&b, 0x8007, blob, 0);
    assert_int_equal(decode_built(&b), -EBADMSG);
}

static void fixed_records_of_another_length_are_corrupt(void **state)
{
    static const uint8_t big[32];
    struct built b;

    (void)state;
    for (size_t len = 0; len < sizeof big; len++) {
        if (len != 8) {
            begin(&b, 1);
            record(&b, 0x8001, big, len);
            required(&b, 0x8001);
            assert_int_equal(decode_built(&b), -EBADMSG);
        }
        if (len != 2) {
            begin(&b, 1);
            record(&b, 0x8003, big, len);
            required(&b, 0x8003);
            assert_int_equal(decode_built(&b), -EBADMSG);
        }
        if (len != 24) {
            begin(&b, 1);
            required(&b, 0);
            record(&b, 0x0007, big, len);
            assert_int_equal(decode_built(&b), -EBADMSG);
        }
    }
}

static void lengths_past_the_end_are_corrupt(void **state)
{
    struct built b;
    size_t n;

    (void)state;
    begin(&b, 1);
    required(&b, 0);
    n = end(&b);
    b.b[9]++; /* the records claim a byte more than there is */
    assert_int_equal(handover_decode(b.b, n, 1024, &(struct handover_state){0}), -EBADMSG);
    begin(&b, 1);
    required(&b, 0);
    put_be(&b, 0x0042, 2);
    put_be(&b, 0xffffffff, 4); /* a record longer than everything */
    assert_int_equal(decode_built(&b), -EBADMSG);
}

/* --- corrupt fields, in an encoding of full() ----------------------------- */

/* The offset of the value of the record of type in buf. */
static size_t value_of(const uint8_t *buf, size_t len, uint16_t type)
{
    for (size_t at = 10; at + 6 <= len;) {
        uint16_t t = (uint16_t)(buf[at] << 8 | buf[at + 1]);
        size_t rlen = (size_t)buf[at + 2] << 24 | (size_t)buf[at + 3] << 16 |
                      (size_t)buf[at + 4] << 8 | buf[at + 5];
        if (t == type)
            return at + 6;
        at += 6 + rlen;
    }
    fail_msg("no record of type %#x", type);
    return 0;
}

struct poke {
    const char *what;
    uint16_t type; /* 0: the header */
    size_t offset; /* in the record's value (or the whole buffer) */
    uint8_t value;
    int want;
};

static void corrupt_fields_are_refused(void **state)
{
    static const struct poke pokes[] = {
        {"magic", 0, 0, 'h', -EBADMSG},
        {"version 0", 0, 5, 0, -EBADMSG},
        {"version 2", 0, 5, 2, -EPROTONOSUPPORT},
        {"version 257", 0, 4, 1, -EPROTONOSUPPORT},
        {"conn state 4", 0x8003, 0, 4, -EBADMSG},
        {"conn state 255", 0x8003, 0, 255, -EBADMSG},
        {"an error line sent while open", 0x8003, 1, 1, -EBADMSG},
        {"peer family 0", 0x8002, 0, 0, -EBADMSG},
        {"peer family 9", 0x8002, 0, 9, -EBADMSG},
        {"peer pad", 0x8002, 1, 1, -EBADMSG},
        {"client: IPv4 with a scope", 0x8004, 3 + 4, 1, -EBADMSG},
        {"client: IPv4 with bytes after its 4", 0x8004, 3 + 8 + 4, 1, -EBADMSG},
        {"client family 0 after a header", 0x8004, 3, 0, -EBADMSG},
        {"proxy versions 4", 0x8004, 0, 4, -EBADMSG},
        {"proxy versions 0 in a record", 0x8004, 0, 0, -EBADMSG},
        {"proxy state 3", 0x8004, 1, 3, -EBADMSG},
        {"proxy state none with versions", 0x8004, 1, 0, -EBADMSG},
        {"proxy waiting with a message", 0x8004, 1, 1, -EBADMSG},
        {"proxy local 2", 0x8004, 2, 2, -EBADMSG},
        {"proxy local with a client address", 0x8004, 2, 1, -EBADMSG},
        {"message length over 1 MiB", 0x8005, 0, 0x01, -EBADMSG},
        {"message length under its kept bytes", 0x8005, 3, 9, -EBADMSG},
        {"message flags 2", 0x8005, 4, 2, -EBADMSG},
        {"sent past the first reply", 0x8006, 3, 6, -EBADMSG},
        {"runs 0", 0x8006, 4, 0, -EBADMSG},
        {"runs 17", 0x8006, 4, 17, -EBADMSG},
        {"runs 2 of 3", 0x8006, 4, 2, -EBADMSG},
        {"a run of 0 replies", 0x8006, 5 + 3, 0, -EBADMSG},
        {"a greeting of 0 bytes", 0x8006, 5 + 4, 0, -EBADMSG},
        {"a greeting with a LF", 0x8006, 5 + 5, '\n', -EBADMSG},
        {"a greeting with a DEL", 0x8006, 5 + 5 + 4, 0x7f, -EBADMSG},
        {"idle time over 24 h", 0x0007, 0, 0x01, -EBADMSG},
        {"message time over 24 h", 0x0007, 8 + 3, 0x80, -EBADMSG},
    };
    struct handover_state s = full();
    size_t len;
    uint8_t *good = encode(&s, &len), *buf = malloc(len);

    (void)state;
    assert_non_null(buf);
    for (size_t i = 0; i < sizeof pokes / sizeof pokes[0]; i++) {
        const struct poke *p = &pokes[i];
        size_t at = p->type ? value_of(good, len, p->type) + p->offset : p->offset;
        struct handover_state out;
        int r;

        memcpy(buf, good, len);
        assert_true(at < len);
        assert_int_not_equal(buf[at], p->value); /* the poke changes something */
        buf[at] = p->value;
        r = handover_decode(buf, len, BIG_MAX, &out);
        if (r != p->want)
            fail_msg("%s: %d, not %d", p->what, r, p->want);
    }
    free(buf);
    free(good);
}

/* A state must be consistent as a whole, whoever writes it. */
static void inconsistent_states_are_not_encoded(void **state)
{
    struct handover_state s[16];
    unsigned n = 0;
    uint8_t buf[1024];

    (void)state;
    s[n] = full(), s[n].state = HANDOVER_EOF, n++; /* unfinished message after EOF */
    s[n] = failed(), s[n].error_sent = 23, n++;    /* the whole error line is no longer owed */
    s[n] = lingering(), s[n].n_runs = 1, n++;      /* owing replies while lingering */
    s[n] = lingering(), s[n].n_runs = 1, s[n].runs[0] = (struct handover_run){1, "a", 1}, n++;
    s[n] = waiting(), s[n].n_runs = 1, s[n].runs[0] = (struct handover_run){1, "a", 1}, n++;
    s[n] = waiting(), s[n].proxy_len = HANDOVER_PROXY_MAX, n++;
    s[n] = base(), s[n].proxy_len = 3, s[n].proxy_bytes = (const uint8_t *)"abc", n++;
    s[n] = base(), s[n].msg_cr = true, n++;
    s[n] = base(), s[n].sent = 1, n++;
    s[n] = full(), s[n].n_runs = HANDOVER_RUNS_MAX + 1, n++;
    s[n] = full(), s[n].msg_len = HANDOVER_MESSAGE_MAX + 1, n++;
    s[n] = full(), s[n].runs[1].greeting_len = HANDOVER_GREETING_MAX + 1, n++;
    s[n] = full(), s[n].runs[1].greeting = "Hi\tthere", n++;
    s[n] = full(), s[n].idle_left = HANDOVER_DEADLINE_MAX + 1, n++;
    s[n] = base(), s[n].peer.ss_family = AF_UNSPEC, n++;
    s[n] = full(), s[n].client.ss_family = AF_UNSPEC, n++;
    for (unsigned i = 0; i < n; i++) {
        if (handover_encoded_size(&s[i]) != -EINVAL)
            fail_msg("inconsistent state %u was taken", i);
        assert_int_equal(handover_encode(&s[i], buf, sizeof buf), -EINVAL);
    }
}

static void a_small_buffer_is_never_overrun(void **state)
{
    struct handover_state s = full();
    ssize_t need = handover_encoded_size(&s);
    uint8_t *buf = malloc((size_t)need + 16);

    (void)state;
    assert_non_null(buf);
    for (size_t size = 0; size < (size_t)need; size++) {
        memset(buf, 0xee, (size_t)need + 16);
        assert_int_equal(handover_encode(&s, buf, size), -ENOBUFS);
        for (size_t i = 0; i < (size_t)need + 16; i++)
            assert_int_equal(buf[i], 0xee); /* nothing written */
    }
    free(buf);
}

/* --- max_message ---------------------------------------------------------- */

static void a_message_over_max_message_is_emsgsize(void **state)
{
    struct handover_state s = full(), back;
    size_t len;
    uint8_t *buf = encode(&s, &len);

    (void)state;
    /* The limit of the new hellod is lower than the message saved: the
     * state is still read whole (the replies are owed), and the caller
     * sends the protocol's error line after them. */
    memset(&back, 0, sizeof back);
    assert_int_equal(handover_decode(buf, len, 39, &back), -EMSGSIZE);
    assert_same(&s, &back);
    assert_int_equal(handover_decode(buf, len, 40, &back), 0);
    assert_int_equal(handover_decode(buf, len, 0, &back), -EMSGSIZE);
    free(buf);
}

/* --- every byte flipped --------------------------------------------------- */

/* Whatever one changed byte does, decode answers, reads only what it was
 * given, and what it accepts encodes and decodes back the same. */
static void flipped_bytes_decode_or_fail_cleanly(void **state)
{
    struct handover_state samples[] = {full(), waiting(), failed()};
    static const uint8_t xors[] = {0x01, 0x80, 0xff};

    (void)state;
    for (size_t k = 0; k < sizeof samples / sizeof samples[0]; k++) {
        size_t len;
        uint8_t *good = encode(&samples[k], &len), *buf = malloc(len);

        assert_non_null(buf);
        for (size_t at = 0; at < len; at++) {
            for (size_t x = 0; x < sizeof xors; x++) {
                struct handover_state a, b;
                uint8_t again[4096];
                ssize_t n;
                int r;

                memcpy(buf, good, len);
                buf[at] ^= xors[x];
                r = handover_decode(buf, len, BIG_MAX, &a);
                assert_true(r == 0 || r == -EBADMSG || r == -EPROTONOSUPPORT);
                if (r != 0)
                    continue;
                n = handover_encode(&a, again, sizeof again);
                assert_true(n > 0);
                assert_int_equal(handover_decode(again, (size_t)n, BIG_MAX, &b), 0);
                assert_same(&a, &b);
            }
        }
        free(buf);
        free(good);
    }
}

/* The carrier's blob: states one after the other, each found by its size. */
static void states_follow_one_another(void **state)
{
    static uint8_t blob[8192];
    struct handover_state a = base(), b = full(), got;
    ssize_t la, lb;

    (void)state;
    la = handover_encode(&a, blob, sizeof blob);
    assert_true(la > 0);
    lb = handover_encode(&b, blob + la, sizeof blob - (size_t)la);
    assert_true(lb > 0);
    assert_int_equal(handover_state_size(blob, (size_t)(la + lb)), la);
    assert_int_equal(handover_state_size(blob + la, (size_t)lb), lb);
    assert_int_equal(handover_decode(blob + la, (size_t)lb, 1048576, &got), 0);
    assert_int_equal(got.socket_inode, b.socket_inode);
    /* cut short, not a state, no whole header */
    assert_int_equal(handover_state_size(blob + la, (size_t)lb - 1), -EBADMSG);
    assert_int_equal(handover_state_size("not a state", 11), -EBADMSG);
    assert_int_equal(handover_state_size(blob, 9), -EBADMSG);
}

static void errors_have_reasons(void **state)
{
    (void)state;
    assert_string_equal(handover_strerror(-EBADMSG), "corrupt or truncated connection state");
    assert_string_equal(handover_strerror(-EPROTONOSUPPORT), "connection state of a newer format");
    assert_string_equal(handover_strerror(-EMSGSIZE), "the unfinished message is over max_message");
}

static int setup(void **state)
{
    (void)state;
    memset(long_greeting, 'G', sizeof long_greeting);
    for (size_t i = 0; i < sizeof proxy_part; i++)
        proxy_part[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof big_message; i++)
        big_message[i] = (uint8_t)(i * 7);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_field_round_trips),
        cmocka_unit_test(the_largest_states_fit_the_bound),
        cmocka_unit_test(the_bytes_are_big_endian_as_documented),
        cmocka_unit_test(a_replies_record_reads_as_documented),
        cmocka_unit_test(truncated_at_every_length_is_refused),
        cmocka_unit_test(bytes_after_the_state_are_ignored),
        cmocka_unit_test(the_minimum_is_three_records),
        cmocka_unit_test(records_in_any_order_once_each),
        cmocka_unit_test(versions_newer_are_refused_older_read),
        cmocka_unit_test(unknown_records_skipped_unless_critical),
        cmocka_unit_test(fixed_records_of_another_length_are_corrupt),
        cmocka_unit_test(lengths_past_the_end_are_corrupt),
        cmocka_unit_test(corrupt_fields_are_refused),
        cmocka_unit_test(inconsistent_states_are_not_encoded),
        cmocka_unit_test(a_small_buffer_is_never_overrun),
        cmocka_unit_test(a_message_over_max_message_is_emsgsize),
        cmocka_unit_test(flipped_bytes_decode_or_fail_cleanly),
        cmocka_unit_test(states_follow_one_another),
        cmocka_unit_test(errors_have_reasons),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
