/* test-frame.c - the hello protocol's message framing (src/frame.c): LF ends a
 * message, a CR right before it is dropped wherever the two bytes arrive, and a
 * message over the maximum (not counting the CR LF) is refused. */
#include "config.h"

#include <stdarg.h>
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

/* A buffer of n bytes 'a' followed by suffix (heap, caller frees). */
static char *filled(size_t n, const char *suffix, size_t *total)
{
    size_t slen = strlen(suffix);
    char *b = malloc(n + slen + 1);

    assert_non_null(b);
    memset(b, 'a', n);
    memcpy(b + n, suffix, slen + 1);
    *total = n + slen;
    return b;
}

static void test_lf_ends_message(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    const char in[] = "hello\n";
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, in, sizeof in - 1, &p, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 5);
    assert_ptr_equal(m.tail, in);
    assert_int_equal(m.tail_len, 5);
    assert_memory_equal(m.tail, "hello", 5);
    assert_ptr_equal(p, in + 6);
    assert_false(frame_pending(&f));
}

static void test_crlf_drops_cr(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    const char in[] = "hello\r\n";
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, in, sizeof in - 1, &p, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 5);
    assert_int_equal(m.tail_len, 5);
    assert_memory_equal(m.tail, "hello", 5);
    assert_ptr_equal(p, in + 7);
}

static void test_bare_cr_inside_message_kept(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    const char in[] = "a\rb\n";
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, in, sizeof in - 1, &p, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 3);
    assert_int_equal(m.tail_len, 3);
    assert_memory_equal(m.tail, "a\rb", 3);
}

static void test_only_one_cr_before_lf_dropped(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    const char in[] = "a\r\r\n";
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, in, sizeof in - 1, &p, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 2);
    assert_int_equal(m.tail_len, 2);
    assert_memory_equal(m.tail, "a\r", 2);
}

static void test_leading_cr_kept(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    const char in[] = "\rab\n";
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, in, sizeof in - 1, &p, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 3);
    assert_memory_equal(m.tail, "\rab", 3);
}

static void test_empty_line_is_message(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, "\n", 1, &p, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 0);
    assert_int_equal(m.tail_len, 0);
    assert_false(frame_pending(&f));
}

static void test_empty_crlf_line_is_message(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, "\r\n", 2, &p, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 0);
    assert_int_equal(m.tail_len, 0);
}

static void test_empty_input_is_partial(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    const char in[] = "x";
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, in, 0, &p, &m), FRAME_PARTIAL);
    assert_ptr_equal(p, in);
    assert_false(frame_pending(&f));
}

static void test_empty_input_keeps_partial_length(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, "abc", 3, &p, &m), FRAME_PARTIAL);
    assert_int_equal(feed(&f, "", 0, &p, &m), FRAME_PARTIAL);
    assert_true(frame_pending(&f));
    assert_int_equal(feed(&f, "\n", 1, &p, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 3);
}

static void test_line_split_across_two_inputs(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    const char a[] = "hel", b[] = "lo\n";
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, a, 3, &p, &m), FRAME_PARTIAL);
    assert_ptr_equal(p, a + 3);
    assert_true(frame_pending(&f));
    assert_int_equal(f.len, 3);
    assert_int_equal(feed(&f, b, 3, &p, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 5);
    assert_ptr_equal(m.tail, b);
    assert_int_equal(m.tail_len, 2);
    assert_memory_equal(m.tail, "lo", 2);
    assert_ptr_equal(p, b + 3);
    assert_false(frame_pending(&f));
}

static void test_line_split_across_three_inputs(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    const char c[] = "o\r\n";
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, "he", 2, &p, &m), FRAME_PARTIAL);
    assert_int_equal(feed(&f, "ll", 2, &p, &m), FRAME_PARTIAL);
    assert_int_equal(f.len, 4);
    assert_int_equal(feed(&f, c, 3, &p, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 5);
    assert_ptr_equal(m.tail, c);
    assert_int_equal(m.tail_len, 1);
    assert_memory_equal(m.tail, "o", 1);
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

static void test_cr_alone_in_middle_input_then_lf(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, "ab", 2, &p, &m), FRAME_PARTIAL);
    assert_int_equal(feed(&f, "\r", 1, &p, &m), FRAME_PARTIAL);
    assert_int_equal(feed(&f, "\n", 1, &p, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 2);
    assert_int_equal(m.tail_len, 0);
}

static void test_cr_only_then_lf_is_empty_message(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, "\r", 1, &p, &m), FRAME_PARTIAL);
    assert_int_equal(feed(&f, "\n", 1, &p, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 0);
    assert_int_equal(m.tail_len, 0);
}

static void test_cr_at_end_of_input_then_other_byte_kept(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    const char b[] = "c\n";
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, "ab\r", 3, &p, &m), FRAME_PARTIAL);
    assert_int_equal(feed(&f, b, 2, &p, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 4); /* "ab\rc" */
    assert_int_equal(m.tail_len, 1);
    assert_memory_equal(m.tail, "c", 1);
}

static void test_cr_of_earlier_input_not_dropped_after_more_bytes(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, "a\r", 2, &p, &m), FRAME_PARTIAL);
    assert_int_equal(feed(&f, "b", 1, &p, &m), FRAME_PARTIAL);
    assert_int_equal(feed(&f, "\n", 1, &p, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 3); /* "a\rb": the last byte before the LF is 'b' */
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

static void test_exactly_max_bytes_ok(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    size_t n;
    char *in = filled(MAX, "\n", &n);
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, in, n, &p, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, MAX);
    assert_int_equal(m.tail_len, MAX);
    free(in);
}

static void test_exactly_max_bytes_over_inputs_ok(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    size_t n;
    char *in = filled(MAX, "", &n);
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, in, MAX / 2, &p, &m), FRAME_PARTIAL);
    assert_int_equal(feed(&f, in + MAX / 2, MAX - MAX / 2, &p, &m), FRAME_PARTIAL);
    assert_int_equal(f.len, MAX);
    assert_int_equal(feed(&f, "\n", 1, &p, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, MAX);
    assert_int_equal(m.tail_len, 0);
    free(in);
}

static void test_max_plus_one_too_long_lf_in_same_input(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    size_t n;
    char *in = filled(MAX + 1, "\nok\n", &n);
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, in, n, &p, &m), FRAME_TOO_LONG);
    assert_ptr_equal(p, in + MAX + 2); /* past the LF */
    assert_false(frame_pending(&f));
    free(in);
}

static void test_max_plus_one_too_long_when_partial_grows(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    size_t n;
    char *in = filled(MAX + 1, "", &n);
    const char *p;
    size_t off = 0;

    (void)state;
    /* 5 + 5 + 5 bytes are fine; the 4th input takes it to MAX + 1 with no LF. */
    for (int i = 0; i < 3; i++, off += 5) {
        assert_int_equal(feed(&f, in + off, 5, &p, &m), FRAME_PARTIAL);
        assert_int_equal(f.len, off + 5);
    }
    assert_int_equal(feed(&f, in + off, MAX + 1 - off, &p, &m), FRAME_TOO_LONG);
    assert_ptr_equal(p, in + MAX + 1);
    assert_false(frame_pending(&f));
    free(in);
}

static void test_partial_far_over_max_too_long(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    size_t n;
    char *in = filled(10 * MAX, "", &n);
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, in, n, &p, &m), FRAME_TOO_LONG);
    assert_ptr_equal(p, in + n);
    free(in);
}

static void test_max_partial_then_lf_with_more_bytes_too_long(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    size_t n;
    char *in = filled(MAX, "", &n);
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, in, n, &p, &m), FRAME_PARTIAL);
    assert_int_equal(feed(&f, "x\n", 2, &p, &m), FRAME_TOO_LONG);
    free(in);
}

static void test_max_bytes_crlf_ok(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    size_t n;
    char *in = filled(MAX, "\r\n", &n);
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, in, n, &p, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, MAX);
    assert_int_equal(m.tail_len, MAX);
    free(in);
}

static void test_max_bytes_cr_then_lf_in_next_input_ok(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    size_t n;
    char *in = filled(MAX, "\r", &n);
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, in, n, &p, &m), FRAME_PARTIAL); /* MAX + 1 bytes, last a CR */
    assert_int_equal(f.len, MAX + 1);
    assert_int_equal(feed(&f, "\n", 1, &p, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, MAX);
    assert_int_equal(m.tail_len, 0);
    free(in);
}

static void test_partial_max_plus_one_ending_cr_then_non_lf_too_long(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    size_t n;
    char *in = filled(MAX, "\r", &n);
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, in, n, &p, &m), FRAME_PARTIAL);
    assert_int_equal(feed(&f, "x", 1, &p, &m), FRAME_TOO_LONG);
    assert_false(frame_pending(&f));
    free(in);
}

static void test_partial_max_plus_one_ending_cr_then_non_lf_line_too_long(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    size_t n;
    char *in = filled(MAX, "\r", &n);
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, in, n, &p, &m), FRAME_PARTIAL);
    assert_int_equal(feed(&f, "x\n", 2, &p, &m), FRAME_TOO_LONG);
    free(in);
}

static void test_partial_max_plus_one_ending_cr_then_crlf_too_long(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    size_t n;
    char *in = filled(MAX, "\r", &n);
    const char *p;

    (void)state;
    /* The first CR is not right before the LF, so it counts: MAX + 1 bytes. */
    assert_int_equal(feed(&f, in, n, &p, &m), FRAME_PARTIAL);
    assert_int_equal(feed(&f, "\r\n", 2, &p, &m), FRAME_TOO_LONG);
    free(in);
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

static void test_flush_keeps_trailing_cr(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, "abc\r", 4, &p, &m), FRAME_PARTIAL);
    assert_int_equal(frame_flush(&f, MAX, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 4);
    assert_false(f.cr);
}

static void test_flush_of_nothing(void **state)
{
    struct framer f = {0};
    struct frame_msg m = {.len = 99};

    (void)state;
    assert_int_equal(frame_flush(&f, MAX, &m), FRAME_PARTIAL);
    assert_false(frame_pending(&f));
}

static void test_flush_after_complete_message_is_nothing(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, "abc\n", 4, &p, &m), FRAME_MESSAGE);
    assert_int_equal(frame_flush(&f, MAX, &m), FRAME_PARTIAL);
}

static void test_flush_exactly_max(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    size_t n;
    char *in = filled(MAX, "", &n);
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, in, n, &p, &m), FRAME_PARTIAL);
    assert_int_equal(frame_flush(&f, MAX, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, MAX);
    free(in);
}

static void test_flush_too_long(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    size_t n;
    char *in = filled(MAX, "\r", &n);
    const char *p;

    (void)state;
    /* MAX bytes and a CR wait for a LF; at end of input the CR counts. */
    assert_int_equal(feed(&f, in, n, &p, &m), FRAME_PARTIAL);
    assert_int_equal(frame_flush(&f, MAX, &m), FRAME_TOO_LONG);
    assert_false(frame_pending(&f));
    assert_false(f.cr);
    assert_int_equal(frame_flush(&f, MAX, &m), FRAME_PARTIAL);
    free(in);
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

static void test_framer_resets_after_message(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, "abc", 3, &p, &m), FRAME_PARTIAL);
    assert_int_equal(feed(&f, "d\n", 2, &p, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 4);
    assert_int_equal(f.len, 0);
    assert_false(f.cr);
    assert_int_equal(feed(&f, "xy\n", 3, &p, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 2);
}

static void test_framer_forgets_cr_after_message(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    const char in[] = "a\r\n";
    const char *p;

    (void)state;
    /* A CR at the end of one input followed by "\n": the framer's memory of
     * that CR must not leak into the next message. */
    assert_int_equal(feed(&f, "x\r", 2, &p, &m), FRAME_PARTIAL);
    assert_int_equal(feed(&f, "\n", 1, &p, &m), FRAME_MESSAGE);
    assert_false(f.cr);
    assert_int_equal(feed(&f, "\n", 1, &p, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 0);
    assert_int_equal(feed(&f, in, 3, &p, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 1);
}

static void test_framer_resets_after_too_long(void **state)
{
    struct framer f = {0};
    struct frame_msg m;
    size_t n;
    char *in = filled(MAX + 5, "", &n);
    const char *p;

    (void)state;
    assert_int_equal(feed(&f, in, n, &p, &m), FRAME_TOO_LONG);
    assert_int_equal(f.len, 0);
    assert_false(f.cr);
    assert_int_equal(feed(&f, "ok\n", 3, &p, &m), FRAME_MESSAGE);
    assert_int_equal(m.len, 2);
    free(in);
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
        cmocka_unit_test(test_lf_ends_message),
        cmocka_unit_test(test_crlf_drops_cr),
        cmocka_unit_test(test_bare_cr_inside_message_kept),
        cmocka_unit_test(test_only_one_cr_before_lf_dropped),
        cmocka_unit_test(test_leading_cr_kept),
        cmocka_unit_test(test_empty_line_is_message),
        cmocka_unit_test(test_empty_crlf_line_is_message),
        cmocka_unit_test(test_empty_input_is_partial),
        cmocka_unit_test(test_empty_input_keeps_partial_length),
        cmocka_unit_test(test_line_split_across_two_inputs),
        cmocka_unit_test(test_line_split_across_three_inputs),
        cmocka_unit_test(test_cr_at_end_of_input_lf_at_start_of_next),
        cmocka_unit_test(test_cr_alone_in_middle_input_then_lf),
        cmocka_unit_test(test_cr_only_then_lf_is_empty_message),
        cmocka_unit_test(test_cr_at_end_of_input_then_other_byte_kept),
        cmocka_unit_test(test_cr_of_earlier_input_not_dropped_after_more_bytes),
        cmocka_unit_test(test_pipelined_lines_in_one_input),
        cmocka_unit_test(test_many_pipelined_lines_in_one_input),
        cmocka_unit_test(test_exactly_max_bytes_ok),
        cmocka_unit_test(test_exactly_max_bytes_over_inputs_ok),
        cmocka_unit_test(test_max_plus_one_too_long_lf_in_same_input),
        cmocka_unit_test(test_max_plus_one_too_long_when_partial_grows),
        cmocka_unit_test(test_partial_far_over_max_too_long),
        cmocka_unit_test(test_max_partial_then_lf_with_more_bytes_too_long),
        cmocka_unit_test(test_max_bytes_crlf_ok),
        cmocka_unit_test(test_max_bytes_cr_then_lf_in_next_input_ok),
        cmocka_unit_test(test_partial_max_plus_one_ending_cr_then_non_lf_too_long),
        cmocka_unit_test(test_partial_max_plus_one_ending_cr_then_non_lf_line_too_long),
        cmocka_unit_test(test_partial_max_plus_one_ending_cr_then_crlf_too_long),
        cmocka_unit_test(test_max_one),
        cmocka_unit_test(test_flush_unterminated_message),
        cmocka_unit_test(test_flush_keeps_trailing_cr),
        cmocka_unit_test(test_flush_of_nothing),
        cmocka_unit_test(test_flush_after_complete_message_is_nothing),
        cmocka_unit_test(test_flush_exactly_max),
        cmocka_unit_test(test_flush_too_long),
        cmocka_unit_test(test_tail_points_at_right_bytes),
        cmocka_unit_test(test_framer_resets_after_message),
        cmocka_unit_test(test_framer_forgets_cr_after_message),
        cmocka_unit_test(test_framer_resets_after_too_long),
        cmocka_unit_test(test_large_max),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
