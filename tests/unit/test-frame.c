/* test-frame.c - the hello protocol's message framing (src/frame.c): LF ends a
 * message, a CR right before it is dropped wherever the two bytes arrive, and a
 * message over the maximum (not counting the CR LF) is refused. */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "frame.h"

#define MAX 16 /* the maximum message length most tests use */

/* Feeds the string s (without its NUL) as one input; returns the status and
 * leaves *pos at where the framer stopped. */
static enum frame_status feed(struct framer *f, const char *s, size_t n, const char **pos,
                              struct frame_msg *msg)
{
    *pos = s;
    return frame_next(f, pos, s + n, MAX, msg);
}

/* One step of a row: feed fill bytes 'a' then text as one input (or, with
 * flush, end the input), and what the framer must say. */
struct step {
    bool flush;
    size_t fill;
    const char *text;
    enum frame_status want;
    size_t len;       /* MESSAGE: the message's length; PARTIAL: what the framer holds after */
    const char *tail; /* MESSAGE from an input: this input's bytes of the message */
    size_t stop;      /* where reading stops in this input; 0: at its end */
};

/* A row: a fresh framer (maximum MAX) given its steps in order. */
struct frame_case {
    const char *name;
    struct step steps[5]; /* up to the first with neither flush nor text */
};

#define A16 "aaaaaaaaaaaaaaaa" /* MAX bytes 'a', as a fill of MAX writes them */
#define PART(s, held)                                                                              \
    {                                                                                              \
        .text = (s), .want = FRAME_PARTIAL, .len = (held)                                          \
    }
#define MSG(s, n, t)                                                                               \
    {                                                                                              \
        .text = (s), .want = FRAME_MESSAGE, .len = (n), .tail = (t)                                \
    }
#define LONG(s)                                                                                    \
    {                                                                                              \
        .text = (s), .want = FRAME_TOO_LONG                                                        \
    }
#define FPART(k, s, held)                                                                          \
    {                                                                                              \
        .fill = (k), .text = (s), .want = FRAME_PARTIAL, .len = (held)                             \
    }
#define FMSG(k, s, n, t)                                                                           \
    {                                                                                              \
        .fill = (k), .text = (s), .want = FRAME_MESSAGE, .len = (n), .tail = (t)                   \
    }
#define FLONG(k, s, at)                                                                            \
    {                                                                                              \
        .fill = (k), .text = (s), .want = FRAME_TOO_LONG, .stop = (at)                             \
    }
#define FLUSH(st, n)                                                                               \
    {                                                                                              \
        .flush = true, .want = (st), .len = (n)                                                    \
    }

static const struct frame_case frame_cases[] = {
    /* One input, one message: LF ends it, only a CR right before the LF goes. */
    {"lf ends message", {MSG("hello\n", 5, "hello")}},
    {"crlf drops cr", {MSG("hello\r\n", 5, "hello")}},
    {"bare cr inside message kept", {MSG("a\rb\n", 3, "a\rb")}},
    {"only one cr before lf dropped", {MSG("a\r\r\n", 2, "a\r")}},
    {"leading cr kept", {MSG("\rab\n", 3, "\rab")}},
    {"empty line is message", {MSG("\n", 0, "")}},
    {"empty crlf line is message", {MSG("\r\n", 0, "")}},
    {"empty input is partial", {PART("", 0)}},
    {"empty input keeps partial length", {PART("abc", 3), PART("", 3), MSG("\n", 3, "")}},
    /* A message over several inputs, the CR at an input's edge. */
    {"line split across two inputs", {PART("hel", 3), MSG("lo\n", 5, "lo")}},
    {"line split across three inputs", {PART("he", 2), PART("ll", 4), MSG("o\r\n", 5, "o")}},
    {"cr alone in middle input then lf", {PART("ab", 2), PART("\r", 3), MSG("\n", 2, "")}},
    {"cr only then lf is empty message", {PART("\r", 1), MSG("\n", 0, "")}},
    {"cr at end of input then other byte kept", {PART("ab\r", 3), MSG("c\n", 4, "c")}},
    {"cr of earlier input not dropped after more bytes",
     {PART("a\r", 2), PART("b", 3), MSG("\n", 3, "")}},
    /* The maximum: MAX bytes are fine, MAX + 1 are refused, the dropped CR not counted. */
    {"exactly max bytes ok", {FMSG(MAX, "\n", MAX, A16)}},
    {"exactly max bytes over inputs ok",
     {FPART(MAX / 2, "", MAX / 2), FPART(MAX - MAX / 2, "", MAX), MSG("\n", MAX, "")}},
    {"max plus one too long, lf in same input", {FLONG(MAX + 1, "\nok\n", MAX + 2)}},
    {"max plus one too long when partial grows",
     {FPART(5, "", 5), FPART(5, "", 10), FPART(5, "", 15), FLONG(MAX + 1 - 15, "", 0)}},
    {"partial far over max too long", {FLONG(10 * MAX, "", 0)}},
    {"max partial then lf with more bytes too long", {FPART(MAX, "", MAX), LONG("x\n")}},
    {"max bytes crlf ok", {FMSG(MAX, "\r\n", MAX, A16)}},
    {"max bytes cr then lf in next input ok", {FPART(MAX, "\r", MAX + 1), MSG("\n", MAX, "")}},
    {"partial max plus one ending cr then non-lf too long", {FPART(MAX, "\r", MAX + 1), LONG("x")}},
    {"partial max plus one ending cr then non-lf line too long",
     {FPART(MAX, "\r", MAX + 1), LONG("x\n")}},
    /* The first CR is not right before the LF, so it counts: MAX + 1 bytes. */
    {"partial max plus one ending cr then crlf too long",
     {FPART(MAX, "\r", MAX + 1), LONG("\r\n")}},
    /* End of input: what is unfinished is one message; a CR there counts. */
    {"flush keeps trailing cr", {PART("abc\r", 4), FLUSH(FRAME_MESSAGE, 4)}},
    {"flush of nothing", {FLUSH(FRAME_PARTIAL, 0)}},
    {"flush after complete message is nothing", {MSG("abc\n", 3, "abc"), FLUSH(FRAME_PARTIAL, 0)}},
    {"flush exactly max", {FPART(MAX, "", MAX), FLUSH(FRAME_MESSAGE, MAX)}},
    {"flush too long",
     {FPART(MAX, "\r", MAX + 1), FLUSH(FRAME_TOO_LONG, 0), FLUSH(FRAME_PARTIAL, 0)}},
    /* The framer starts afresh after each message or refusal. */
    {"framer resets after message", {PART("abc", 3), MSG("d\n", 4, "d"), MSG("xy\n", 2, "xy")}},
    /* A CR at the end of one input followed by "\n": the framer's memory of
     * that CR must not leak into the next message. */
    {"framer forgets cr after message",
     {PART("x\r", 2), MSG("\n", 1, ""), MSG("\n", 0, ""), MSG("a\r\n", 1, "a")}},
    {"framer resets after too long", {FLONG(MAX + 5, "", 0), MSG("ok\n", 2, "ok")}},
};

static void expect(const struct frame_case *c, size_t i, const char *what, uintmax_t got,
                   uintmax_t want)
{
    if (got != want)
        fail_msg("%s, step %zu: %s is %ju, want %ju", c->name, i + 1, what, got, want);
}

/* Runs one row. After every step: PARTIAL leaves the framer holding exactly
 * .len bytes; MESSAGE and TOO_LONG leave it empty with no CR remembered. */
static void run_case(const struct frame_case *c)
{
    struct framer f = {0};
    char buf[10 * MAX + 8];

    for (size_t i = 0; i < sizeof c->steps / sizeof c->steps[0]; i++) {
        const struct step *s = &c->steps[i];
        struct frame_msg m = {.len = 99};
        enum frame_status got;
        size_t n = 0;
        const char *p = buf;

        if (!s->flush && !s->text)
            break;
        if (s->flush) {
            got = frame_flush(&f, MAX, &m);
        } else {
            n = s->fill + strlen(s->text);
            assert_true(n < sizeof buf);
            memset(buf, 'a', s->fill);
            memcpy(buf + s->fill, s->text, n - s->fill);
            got = frame_next(&f, &p, buf + n, MAX, &m);
            expect(c, i, "bytes read", (uintmax_t)(p - buf), s->stop ? s->stop : n);
        }
        expect(c, i, "status", got, s->want);
        if (s->want == FRAME_MESSAGE) {
            size_t tlen = s->flush ? 0 : strlen(s->tail);

            expect(c, i, "message length", m.len, s->len);
            expect(c, i, "tail length", m.tail_len, tlen);
            if (s->flush && m.tail)
                fail_msg("%s, step %zu: a flushed message has no tail", c->name, i + 1);
            if (!s->flush && m.tail != buf)
                fail_msg("%s, step %zu: the tail does not start the input", c->name, i + 1);
            if (!s->flush && memcmp(m.tail, s->tail, tlen) != 0)
                fail_msg("%s, step %zu: tail is \"%.*s\", want \"%s\"", c->name, i + 1,
                         (int)m.tail_len, m.tail, s->tail);
        }
        expect(c, i, "bytes held", f.len, s->want == FRAME_PARTIAL ? s->len : 0);
        expect(c, i, "pending", frame_pending(&f), s->want == FRAME_PARTIAL && s->len > 0);
        if (s->want != FRAME_PARTIAL)
            expect(c, i, "cr remembered", f.cr, false);
    }
}

static void test_frame_cases(void **state)
{
    (void)state;
    _Static_assert(sizeof A16 - 1 == MAX, "A16 is MAX bytes");
    for (size_t i = 0; i < sizeof frame_cases / sizeof frame_cases[0]; i++)
        run_case(&frame_cases[i]);
}

static void test_cr_at_end_of_input_lf_at_start_of_next(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    const char b[] = "\nnext\n";
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, "hello\r", 6, &p, &m), FRAME_PARTIAL);
    assert_int_equal(feed(&f, b, 6, &p, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 5); /* the CR of the first input is dropped */
    assert_ptr_equal(m.tail, b);
    assert_int_equal(m.tail_len, 0);
    assert_ptr_equal(p, b + 1);
    assert_int_equal(frame_next(&f, &p, b + 6, MAX, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 4);
    assert_memory_equal(m.tail, "next", 4);
}

static void test_pipelined_lines_in_one_input(void **state)
{
    static const char in[] = "one\ntwo\r\n\nthree\r\nfour";
    static const char *const want[] = {"one", "two", "", "three"};
    struct framer f = {0};
    struct frame_msg m;
    const char *p = in, *end = in + sizeof in - 1;

    (void)state;
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(frame_next(&f, &p, end, MAX, &m), FRAME_MESSAGE);
        assert_int_equal(m.len, strlen(want[i]));
        assert_int_equal(m.tail_len, strlen(want[i]));
        assert_memory_equal(m.tail, want[i], m.len);
    }
    assert_int_equal(frame_next(&f, &p, end, MAX, &m), FRAME_PARTIAL);
    assert_ptr_equal(p, end);
    assert_int_equal(f.len, 4);
    assert_int_equal(frame_flush(&f, MAX, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 4);
}

static void test_many_pipelined_lines_in_one_input(void **state)
{
    enum { N = 5000 };
    char *buf = malloc(N * 16);
    size_t n = 0;
    struct framer f = {0};
    struct frame_msg m;
    const char *p, *end;
    char want[16];

    (void)state;
    assert_non_null(buf);
    for (int i = 0; i < N; i++)
        n += (size_t)sprintf(buf + n, i % 2 ? "msg %d\r\n" : "msg %d\n", i);
    p = buf;
    end = buf + n;
    for (int i = 0; i < N; i++) {
        int wlen = sprintf(want, "msg %d", i);
        assert_int_equal(frame_next(&f, &p, end, MAX, &m), FRAME_MESSAGE);
        assert_int_equal(m.len, wlen);
        assert_int_equal(m.tail_len, wlen);
        assert_memory_equal(m.tail, want, (size_t)wlen);
    }
    assert_ptr_equal(p, end);
    assert_int_equal(frame_next(&f, &p, end, MAX, &m), FRAME_PARTIAL);
    assert_false(frame_pending(&f));
    free(buf);
}

static void test_max_one(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    const char *p;

    (void)state;
    p = "a\n";
    assert_int_equal(frame_next(&f, &p, p + 2, 1, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 1);
    p = "a\r\n";
    assert_int_equal(frame_next(&f, &p, p + 3, 1, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 1);
    p = "ab\n";
    assert_int_equal(frame_next(&f, &p, p + 3, 1, &m), FRAME_TOO_LONG);
    p = "a\r";
    assert_int_equal(frame_next(&f, &p, p + 2, 1, &m), FRAME_PARTIAL);
    p = "\n";
    assert_int_equal(frame_next(&f, &p, p + 1, 1, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 1);
}

static void test_flush_unterminated_message(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    const char in[] = "Hello from client";
    const char *p = in;

    (void)state;
    assert_int_equal(frame_next(&f, &p, in + 17, 1024, &m), FRAME_PARTIAL);
    assert_true(frame_pending(&f));
    assert_int_equal(frame_flush(&f, 1024, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 17);
    assert_null(m.tail);
    assert_int_equal(m.tail_len, 0);
    assert_false(frame_pending(&f));
    assert_int_equal(frame_flush(&f, MAX, &m), FRAME_PARTIAL);
}

static void test_tail_points_at_right_bytes(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    const char a[] = "ab", b[] = "cd\r\nefg\nh";
    const char *p, *end = b + sizeof b - 1;

    (void)state;
    assert_int_equal(feed(&f, a, 2, &p, &m), FRAME_PARTIAL);
    p = b;
    assert_int_equal(frame_next(&f, &p, end, MAX, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 4);
    assert_ptr_equal(m.tail, b);
    assert_int_equal(m.tail_len, 2);
    assert_ptr_equal(p, b + 4);
    assert_int_equal(frame_next(&f, &p, end, MAX, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 3);
    assert_ptr_equal(m.tail, b + 4);
    assert_int_equal(m.tail_len, 3);
    assert_ptr_equal(p, b + 8);
    assert_int_equal(frame_next(&f, &p, end, MAX, &m), FRAME_PARTIAL);
    assert_int_equal(f.len, 1);
}

static void test_large_max(void **state)
{
    const uint32_t max = 1048576;
    struct framer f = {0};
    struct frame_msg m;
    char *in = malloc(max + 2);
    const char *p;

    (void)state;
    assert_non_null(in);
    memset(in, 'z', max);
    in[max] = '\r';
    in[max + 1] = '\n';
    for (uint32_t off = 0; off < max; off += 4096) {
        p = in + off;
        assert_int_equal(frame_next(&f, &p, in + off + 4096, max, &m), FRAME_PARTIAL);
    }
    p = in + max;
    assert_int_equal(frame_next(&f, &p, in + max + 2, max, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, max);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_cases),
        cmocka_unit_test(test_cr_at_end_of_input_lf_at_start_of_next),
        cmocka_unit_test(test_pipelined_lines_in_one_input),
        cmocka_unit_test(test_many_pipelined_lines_in_one_input),
        cmocka_unit_test(test_max_one),
        cmocka_unit_test(test_flush_unterminated_message),
        cmocka_unit_test(test_tail_points_at_right_bytes),
        cmocka_unit_test(test_large_max),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
