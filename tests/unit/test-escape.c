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

/* One escaping: n bytes into a buffer of outsz bytes (0: a roomy one), and the
 * rendering expected; escape_bytes() must return its length. */
static const struct esc_case {
    const char *name;
    const char *in;
    size_t n;
    size_t outsz;
    const char *want;
} esc_cases[] = {
#define IN(s) (s), sizeof(s) - 1
    {"empty input", IN(""), 8, ""},
    {"backslash escaped", IN("a\\b"), 0, "a\\\\b"},
    {"double quote escaped", IN("say \"hi\""), 0, "say \\\"hi\\\""},
    {"newline spelled", IN("\n"), 0, "\\n"},
    {"cr spelled", IN("\r"), 0, "\\r"},
    {"tab spelled", IN("\t"), 0, "\\t"},
    {"newline cr tab spelled in text", IN("a\r\nb\tc"), 0, "a\\r\\nb\\tc"},
    {"nul as hex", IN("a\0b"), 0, "a\\x00b"},
    {"esc as hex", IN("\x1b[2J"), 0, "\\x1b[2J"},
    {"del as hex", IN("\x7f"), 0, "\\x7f"},
    {"high byte 0x80 as lowercase hex", IN("\x80"), 0, "\\x80"},
    {"high byte 0xff as lowercase hex", IN("\xff"), 0, "\\xff"},
    {"high bytes as lowercase hex", IN("\xab\xcd"), 0, "\\xab\\xcd"},
    {"other controls as hex", IN("\x01\x07\x08\x0b\x0c\x1f"), 0, "\\x01\\x07\\x08\\x0b\\x0c\\x1f"},
    /* Invalid UTF-8 (a lead byte with a bad continuation, a lone continuation,
     * an overlong encoding of '/', a surrogate) and valid UTF-8 alike: each
     * byte on its own. */
    {"lead byte with bad continuation", IN("\xc3\x28"), 0, "\\xc3("},
    {"lone continuation", IN("\xa9"), 0, "\\xa9"},
    {"overlong slash", IN("\xc0\xaf"), 0, "\\xc0\\xaf"},
    {"surrogate", IN("\xed\xa0\x80"), 0, "\\xed\\xa0\\x80"},
    {"valid utf8 as hex too", IN("caf\xc3\xa9"), 0, "caf\\xc3\\xa9"},
    /* A rendering that does not fit stops at a whole escape and ends in "...". */
    {"tiny buffer, text", IN("abcdef"), 4, "..."},
    {"tiny buffer, escape", IN("\xff"), 4, "..."},
    /* "\x01" fits with "..." after it; "\x02" would not. */
    {"truncation keeps whole hex escape", IN("\x01\x02\x03"), 8, "\\x01..."},
    {"truncation keeps whole backslash escape", IN("ab\\\\\\"), 8, "ab\\\\..."},
    /* The whole rendering and its NUL fit exactly, so nothing is cut. */
    {"exact fit of last escape after text", IN("a\xff"), 6, "a\\xff"},
    {"exact fit of last escape", IN("\xff"), 5, "\\xff"},
    {"exact fit of text", IN("abcd"), 5, "abcd"},
    {"exact fit of longer text", IN("abcde"), 6, "abcde"},
    {"exact fit of two escapes", IN("\x01\x02"), 9, "\\x01\\x02"},
#undef IN
};

static void test_esc_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof esc_cases / sizeof esc_cases[0]; i++) {
        const struct esc_case *c = &esc_cases[i];
        unsigned char out[1024];
        size_t outsz = c->outsz ? c->outsz : sizeof out;
        size_t len;

        memset(out, CANARY, sizeof out);
        len = escape_bytes((char *)out, outsz, c->in, c->n);
        if (len != strlen(c->want) || strcmp((char *)out, c->want) != 0)
            fail_msg("%s: rendered \"%s\" (returned %zu), want \"%s\" (%zu)", c->name, (char *)out,
                     len, c->want, strlen(c->want));
        for (size_t k = outsz; k < sizeof out; k++)
            if (out[k] != CANARY)
                fail_msg("%s: byte %zu written, past the %zu-byte buffer", c->name, k, outsz);
    }
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

/* Every sample in buffers of 4 to 12 bytes: a rendering that fits comes out
 * whole; one that does not is cut at a whole escape, as far as it can be. */
static void test_small_buffers_cut_at_whole_escape_or_complete(void **state)
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
                continue;
            }
            /* Cut: a prefix of the rendering ending at an escape, then "...". */
            assert_true(len >= 3);
            assert_memory_equal(out + len - 3, "...", 3);
            assert_true(len - 3 < flen);
            assert_true(boundary[len - 3]);
            assert_memory_equal(out, full, len - 3);
            /* Cut as far as it can be: no further whole escape and "..." fit. */
            size_t next = len - 3 + 1;
            while (!boundary[next])
                next++;
            assert_true(next + 3 >= outsz);
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
        cmocka_unit_test(test_esc_cases),
        cmocka_unit_test(test_every_byte_value),
        cmocka_unit_test(test_output_has_no_raw_control_bytes),
        cmocka_unit_test(test_truncation_of_long_message),
        cmocka_unit_test(test_small_buffers_never_overflow),
        cmocka_unit_test(test_small_buffers_cut_at_whole_escape_or_complete),
        cmocka_unit_test(test_return_value_is_length_written),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
