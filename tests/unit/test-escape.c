/* test-escape.c - escaping a client's bytes for a log line (src/escape.c):
 * printable ASCII stays, \\ \" \t \r \n are spelled, every other byte is \xHH,
 * and a rendering that does not fit stops at a whole escape and ends in "...". */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "escape.h"

#define CANARY 0xa5

/* Escapes n bytes into a roomy buffer, checks the return value is the
 * rendering's length, and returns the rendering (static storage). */
static const char *esc(const void *in, size_t n)
{
    static char out[1024];
    size_t len = escape_bytes(out, sizeof out, in, n);

    assert_int_equal(len, strlen(out));
    return out;
}

/* The expected escape for one byte, per escape.h. */
static size_t expected_escape(char *e, unsigned char c)
{
    switch (c) {
    case '\\':
        return (size_t)sprintf(e, "\\\\");
    case '"':
        return (size_t)sprintf(e, "\\\"");
    case '\t':
        return (size_t)sprintf(e, "\\t");
    case '\r':
        return (size_t)sprintf(e, "\\r");
    case '\n':
        return (size_t)sprintf(e, "\\n");
    }
    if (c >= 0x20 && c < 0x7f)
        return (size_t)sprintf(e, "%c", c);
    return (size_t)sprintf(e, "\\x%02x", c);
}

/* A string literal as the bytes and length of a sample. */
#define BYTES(s) (s), sizeof(s) - 1

/* Inputs for the size sweeps: plain text, escapes of every width, mixes. */
static const struct sample {
    const char *bytes;
    size_t n;
} samples[] = {
    {BYTES("")},
    {BYTES("a")},
    {BYTES("abcd")},
    {BYTES("abcdefghijklmnopqrstuvwxyz")},
    {BYTES("\x01")},
    {BYTES("\xff\xfe\xfd\xfc")},
    {BYTES("a\xff")},
    {BYTES("\xff"
           "a")},
    {BYTES("\\\"\\\"")},
    {BYTES("a\nb\rc\td")},
    {BYTES("\x1b[31mred\x1b[0m\n")},
    {BYTES("\0\0\0\0\0\0")},
    {BYTES("Hello from client")},
    {BYTES("x\\y\x7f\x80z\"\n")},
#undef BYTES
};

static void test_printable_ascii_unchanged(void **state)
{
    char in[128];
    size_t n = 0;

    (void)state;
    for (int c = 0x20; c < 0x7f; c++)
        if (c != '\\' && c != '"')
            in[n++] = (char)c;
    in[n] = '\0';
    assert_string_equal(esc(in, n), in);
}

static void test_empty_input(void **state)
{
    char out[8];

    (void)state;
    memset(out, 'x', sizeof out);
    assert_int_equal(escape_bytes(out, sizeof out, "", 0), 0);
    assert_string_equal(out, "");
}

static void test_backslash_escaped(void **state)
{
    (void)state;
    assert_string_equal(esc("a\\b", 3), "a\\\\b");
}

static void test_double_quote_escaped(void **state)
{
    (void)state;
    assert_string_equal(esc("say \"hi\"", 8), "say \\\"hi\\\"");
}

static void test_newline_cr_tab_spelled(void **state)
{
    (void)state;
    assert_string_equal(esc("\n", 1), "\\n");
    assert_string_equal(esc("\r", 1), "\\r");
    assert_string_equal(esc("\t", 1), "\\t");
    assert_string_equal(esc("a\r\nb\tc", 6), "a\\r\\nb\\tc");
}

static void test_nul_as_hex(void **state)
{
    (void)state;
    assert_string_equal(esc("a\0b", 3), "a\\x00b");
}

static void test_esc_as_hex(void **state)
{
    (void)state;
    assert_string_equal(esc("\x1b[2J", 4), "\\x1b[2J");
}

static void test_del_as_hex(void **state)
{
    (void)state;
    assert_string_equal(esc("\x7f", 1), "\\x7f");
}

static void test_high_bytes_as_lowercase_hex(void **state)
{
    (void)state;
    assert_string_equal(esc("\x80", 1), "\\x80");
    assert_string_equal(esc("\xff", 1), "\\xff");
    assert_string_equal(esc("\xab\xcd", 2), "\\xab\\xcd");
}

static void test_other_controls_as_hex(void **state)
{
    (void)state;
    assert_string_equal(esc("\x01\x07\x08\x0b\x0c\x1f", 6), "\\x01\\x07\\x08\\x0b\\x0c\\x1f");
}

static void test_invalid_utf8_as_hex(void **state)
{
    (void)state;
    /* A lead byte with a bad continuation, a lone continuation, an overlong
     * encoding of '/', a surrogate: each byte on its own. */
    assert_string_equal(esc("\xc3\x28", 2), "\\xc3(");
    assert_string_equal(esc("\xa9", 1), "\\xa9");
    assert_string_equal(esc("\xc0\xaf", 2), "\\xc0\\xaf");
    assert_string_equal(esc("\xed\xa0\x80", 3), "\\xed\\xa0\\x80");
}

static void test_valid_utf8_as_hex_too(void **state)
{
    (void)state;
    assert_string_equal(esc("caf\xc3\xa9", 5), "caf\\xc3\\xa9");
}

static void test_every_byte_value(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++) {
        unsigned char in = (unsigned char)c;
        char want[8];

        expected_escape(want, in);
        assert_string_equal(esc(&in, 1), want);
    }
}

static void test_output_has_no_raw_control_bytes(void **state)
{
    unsigned char in[256];
    const char *out;

    (void)state;
    for (int c = 0; c < 256; c++)
        in[c] = (unsigned char)c;
    out = esc(in, sizeof in);
    for (const char *o = out; *o; o++) {
        unsigned char c = (unsigned char)*o;
        assert_true(c >= 0x20 && c < 0x7f);
    }
}

static void test_tiny_buffer_gives_ellipsis(void **state)
{
    char out[4];

    (void)state;
    assert_int_equal(escape_bytes(out, sizeof out, "abcdef", 6), 3);
    assert_string_equal(out, "...");
    assert_int_equal(escape_bytes(out, sizeof out, "\xff", 1), 3);
    assert_string_equal(out, "...");
}

static void test_truncation_keeps_whole_escape(void **state)
{
    char out[8];

    (void)state;
    /* "\x01" fits with "..." after it; "\x02" would not. */
    assert_int_equal(escape_bytes(out, sizeof out, "\x01\x02\x03", 3), 7);
    assert_string_equal(out, "\\x01...");
    assert_int_equal(escape_bytes(out, sizeof out, "ab\\\\\\", 5), 7);
    assert_string_equal(out, "ab\\\\...");
}

static void test_truncation_of_long_message(void **state)
{
    char in[4096], out[64];
    size_t len;

    (void)state;
    memset(in, 'q', sizeof in);
    len = escape_bytes(out, sizeof out, in, sizeof in);
    assert_int_equal(len, sizeof out - 1);
    assert_int_equal(strlen(out), len);
    assert_memory_equal(out + len - 3, "...", 3);
}

static void test_exact_fit_of_last_escape_without_ellipsis(void **state)
{
    char out[6];

    (void)state;
    /* "a\xff" is 5 bytes: with the NUL it fills out exactly. */
    assert_int_equal(escape_bytes(out, sizeof out, "a\xff", 2), 5);
    assert_string_equal(out, "a\\xff");
    assert_int_equal(escape_bytes(out, 5, "\xff", 1), 4);
    assert_string_equal(out, "\\xff");
}

static void test_exact_fit_without_ellipsis(void **state)
{
    char out[16];

    (void)state;
    /* The whole rendering and its NUL fit, so nothing is cut. */
    assert_int_equal(escape_bytes(out, 5, "abcd", 4), 4);
    assert_string_equal(out, "abcd");
    assert_int_equal(escape_bytes(out, 6, "abcde", 5), 5);
    assert_string_equal(out, "abcde");
    assert_int_equal(escape_bytes(out, 9, "\x01\x02", 2), 8);
    assert_string_equal(out, "\\x01\\x02");
}

/* Builds the full rendering of s with the offsets where escapes start. */
static size_t full_rendering(const struct sample *s, char *full, bool *boundary)
{
    size_t len = 0;

    boundary[0] = true;
    for (size_t i = 0; i < s->n; i++) {
        size_t e = expected_escape(full + len, (unsigned char)s->bytes[i]);
        for (size_t k = 1; k < e; k++)
            boundary[len + k] = false;
        len += e;
        boundary[len] = true;
    }
    full[len] = '\0';
    return len;
}

static void test_small_buffers_never_overflow(void **state)
{
    (void)state;
    for (size_t si = 0; si < sizeof samples / sizeof samples[0]; si++) {
        for (size_t outsz = 4; outsz <= 12; outsz++) {
            unsigned char buf[32];
            size_t len;

            memset(buf, CANARY, sizeof buf);
            len = escape_bytes((char *)buf, outsz, samples[si].bytes, samples[si].n);
            assert_true(len < outsz);
            assert_int_equal(buf[len], '\0');
            assert_int_equal(strlen((char *)buf), len);
            for (size_t k = outsz; k < sizeof buf; k++)
                assert_int_equal(buf[k], CANARY);
            for (size_t k = 0; k < len; k++)
                assert_true(buf[k] >= 0x20 && buf[k] < 0x7f);
        }
    }
}

static void test_small_buffers_cut_at_whole_escape(void **state)
{
    (void)state;
    for (size_t si = 0; si < sizeof samples / sizeof samples[0]; si++) {
        char full[256];
        bool boundary[256];
        size_t flen = full_rendering(&samples[si], full, boundary);

        for (size_t outsz = 4; outsz <= 12; outsz++) {
            char out[32];
            size_t len = escape_bytes(out, outsz, samples[si].bytes, samples[si].n);

            if (len == flen && strcmp(out, full) == 0)
                continue; /* not cut */
            /* Cut: a prefix of the rendering ending at an escape, then "...". */
            assert_true(len >= 3);
            assert_memory_equal(out + len - 3, "...", 3);
            assert_true(len - 3 < flen);
            assert_true(boundary[len - 3]);
            assert_memory_equal(out, full, len - 3);
        }
    }
}

static void test_small_buffers_complete_when_rendering_fits(void **state)
{
    (void)state;
    for (size_t si = 0; si < sizeof samples / sizeof samples[0]; si++) {
        char full[256];
        bool boundary[256];
        size_t flen = full_rendering(&samples[si], full, boundary);

        for (size_t outsz = 4; outsz <= 12; outsz++) {
            char out[32];
            size_t len = escape_bytes(out, outsz, samples[si].bytes, samples[si].n);

            if (flen < outsz) {
                assert_int_equal(len, flen);
                assert_string_equal(out, full);
            } else {
                /* Cut as far as it can be: no further whole escape and "..." fit. */
                size_t next = len - 3 + 1;
                while (!boundary[next])
                    next++;
                assert_true(next + 3 >= outsz);
            }
        }
    }
}

static void test_return_value_is_length_written(void **state)
{
    (void)state;
    for (size_t si = 0; si < sizeof samples / sizeof samples[0]; si++) {
        for (size_t outsz = 4; outsz <= 64; outsz++) {
            char out[64];
            size_t len = escape_bytes(out, outsz, samples[si].bytes, samples[si].n);
            assert_int_equal(len, strlen(out));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_printable_ascii_unchanged),
        cmocka_unit_test(test_empty_input),
        cmocka_unit_test(test_backslash_escaped),
        cmocka_unit_test(test_double_quote_escaped),
        cmocka_unit_test(test_newline_cr_tab_spelled),
        cmocka_unit_test(test_nul_as_hex),
        cmocka_unit_test(test_esc_as_hex),
        cmocka_unit_test(test_del_as_hex),
        cmocka_unit_test(test_high_bytes_as_lowercase_hex),
        cmocka_unit_test(test_other_controls_as_hex),
        cmocka_unit_test(test_invalid_utf8_as_hex),
        cmocka_unit_test(test_valid_utf8_as_hex_too),
        cmocka_unit_test(test_every_byte_value),
        cmocka_unit_test(test_output_has_no_raw_control_bytes),
        cmocka_unit_test(test_tiny_buffer_gives_ellipsis),
        cmocka_unit_test(test_truncation_keeps_whole_escape),
        cmocka_unit_test(test_truncation_of_long_message),
        cmocka_unit_test(test_exact_fit_of_last_escape_without_ellipsis),
        cmocka_unit_test(test_exact_fit_without_ellipsis),
        cmocka_unit_test(test_small_buffers_never_overflow),
        cmocka_unit_test(test_small_buffers_cut_at_whole_escape),
        cmocka_unit_test(test_small_buffers_complete_when_rendering_fits),
        cmocka_unit_test(test_return_value_is_length_written),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
