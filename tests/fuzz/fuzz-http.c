/* fuzz-http.c - libFuzzer target for the metrics endpoint's request reader
 * (src/svr-http.c), which reads whatever a client on the network sends.
 *
 * Every prefix of the input (up to one byte past HTTP_REQUEST_MAX, and the
 * whole input; of a long input, those about its line ends) is parsed from a
 * heap block of exactly its size, so that a read past the bytes given shows
 * under ASan, and these hold:
 *   - an answer is final: HTTP_INCOMPLETE for every prefix up to some length,
 *     then one and the same answer (and the same HEAD flag) however many
 *     bytes follow, as the endpoint reads a request in pieces;
 *   - HTTP_REQUEST_MAX bytes always get an answer (the endpoint's buffer is
 *     full then), and HTTP_TOO_LARGE never comes before;
 *   - a request served (200, 404, 405) says what its bytes say: it begins with
 *     a method and a space, HEAD exactly when it begins "HEAD ", GET or HEAD
 *     for 200 and neither for 405, and its blank line lies within the limit.
 *
 * Build: ./configure --enable-fuzzing CC=clang && make fuzz; run:
 *     tests/fuzz/fuzz-http -max_total_time=60 -dict=tests/fuzz/fuzz-http.dict \
 *         tests/fuzz/corpus/http
 * The seeds in tests/fuzz/corpus/http are requests of each answer. */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svr-http.h"

#include "fuzz-check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum http_result parse_exact(const uint8_t *data, size_t n, bool *head)
{
    char *buf = malloc(n ? n : 1); /* exact size: ASan sees a read past it */
    enum http_result r;

    CHECK(buf != NULL);
    memcpy(buf, data, n);
    r = http_parse_request(buf, n, head);
    free(buf);
    return r;
}

static bool begins(const uint8_t *data, size_t size, const char *s)
{
    return size >= strlen(s) && memcmp(data, s, strlen(s)) == 0;
}

/* A blank line (LF LF, or LF CR LF) ends within the first n bytes. */
static bool has_blank_line(const uint8_t *data, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (data[i] == '\n' &&
            (data[i + 1] == '\n' || (i + 2 < n && data[i + 1] == '\r' && data[i + 2] == '\n')))
            return true;
    return false;
}

static void check_served(const uint8_t *data, size_t size, enum http_result r, bool head)
{
    size_t n = size < HTTP_REQUEST_MAX ? size : HTTP_REQUEST_MAX;
    const uint8_t *sp = memchr(data, ' ', n);

    CHECK(sp != NULL && sp > data);
    CHECK(has_blank_line(data, n));
    CHECK(head == begins(data, size, "HEAD "));
    if (r == HTTP_METRICS)
        CHECK(begins(data, size, "GET ") || head);
    if (r == HTTP_BAD_METHOD)
        CHECK(!begins(data, size, "GET ") && !head);
}

/* Which prefixes to parse: all of a short input; of a long one (the checks
 * cost the square of its length) the first 256, those that end at or just
 * past a CR or LF, every 61st, and those about the limit. */
static bool worth_parsing(const uint8_t *data, size_t size, size_t k)
{
    if (size <= 512 || k <= 256 || k == size || k % 61 == 0)
        return true;
    if (k + 1 >= HTTP_REQUEST_MAX && k <= HTTP_REQUEST_MAX + 1)
        return true;
    return data[k - 1] == '\n' || data[k - 1] == '\r' || data[k - 2] == '\n' || data[k - 2] == '\r';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t last = size < HTTP_REQUEST_MAX + 1 ? size : HTTP_REQUEST_MAX + 1;
    enum http_result answer = HTTP_INCOMPLETE;
    bool answer_head = false;

    for (size_t k = 0; k <= size; k = k < last ? k + 1 : k < size ? size : size + 1) {
        bool head = false;
        enum http_result r;

        if (!worth_parsing(data, size, k))
            continue;
        r = parse_exact(data, k, &head);
        CHECK(r >= HTTP_INCOMPLETE && r <= HTTP_TOO_LARGE);
        if (answer != HTTP_INCOMPLETE) {
            CHECK(r == answer);
            CHECK(head == answer_head);
            continue;
        }
        CHECK(r != HTTP_INCOMPLETE || k < HTTP_REQUEST_MAX);
        CHECK(r != HTTP_TOO_LARGE || k >= HTTP_REQUEST_MAX);
        if (r == HTTP_METRICS || r == HTTP_NOT_FOUND || r == HTTP_BAD_METHOD)
            check_served(data, k, r, head);
        answer = r;
        answer_head = head;
    }
    return 0;
}
