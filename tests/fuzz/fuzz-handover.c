/* fuzz-handover.c - libFuzzer target for the handover state's decoder
 * (src/handover-state.c), which reads what the previous hellod left in a
 * memfd: possibly a crashed one's half-written state, or another version's.
 *
 * The input is the state's bytes, decoded from the end of a heap block (so
 * that a read past them shows under ASan) with a max_message taken from the
 * input's length, and these hold:
 *   - the only answers are 0, -EBADMSG, -EPROTONOSUPPORT and -EMSGSIZE, and
 *     the state is written only with 0 and -EMSGSIZE;
 *   - -EMSGSIZE exactly when the unfinished message is over max_message;
 *   - what is accepted is within every bound of handover-state.h, its
 *     pointers lie inside the input, and it encodes (in at most
 *     HANDOVER_STATE_MAX bytes) to bytes that decode to the same state,
 *     which encode to the same bytes again;
 *   - every prefix of an accepted input shorter than the length its header
 *     gives is refused;
 *   - handover_state_size() gives that length for an accepted input, and for
 *     any input either -EBADMSG or a length of at least the header's, within
 *     the input; read as a batch of states one after another (the carrier's
 *     memfd, as svr-adopt.c walks it), the walk moves on at every step and
 *     ends, whatever the bytes, and decodes each within its own bytes.
 *
 * Build by hand: clang -g -fsanitize=fuzzer,address,undefined -Isrc -I. \
 *     tests/fuzz/fuzz-handover.c src/handover-state.c -o fuzz-handover
 *     ./fuzz-handover -max_total_time=60 tests/fuzz/corpus/handover
 * The seeds in tests/fuzz/corpus/handover are states of each kind, as
 * hellod writes them. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handover-state.h"

#include "fuzz-check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(const void *p, size_t n, const uint8_t *buf, size_t size)
{
    const uint8_t *b = p;

    return n == 0 || (b >= buf && n <= size && b <= buf + size - n);
}

static void check_bounds(const struct handover_state *s, const uint8_t *buf, size_t size)
{
    CHECK(s->state <= HANDOVER_LINGER && s->proxy_state <= HANDOVER_PROXY_DONE);
    CHECK(s->proxy_len < HANDOVER_PROXY_MAX && inside(s->proxy_bytes, s->proxy_len, buf, size));
    CHECK(s->msg_len <= HANDOVER_MESSAGE_MAX && s->msg_kept <= s->msg_len);
    CHECK(inside(s->msg_bytes, s->msg_kept, buf, size));
    CHECK(s->n_runs <= HANDOVER_RUNS_MAX);
    for (unsigned i = 0; i < s->n_runs; i++) {
        CHECK(s->runs[i].count > 0);
        CHECK(s->runs[i].greeting_len > 0 && s->runs[i].greeting_len <= HANDOVER_GREETING_MAX);
        CHECK(inside(s->runs[i].greeting, s->runs[i].greeting_len, buf, size));
    }
    CHECK(s->n_runs ? s->sent <= s->runs[0].greeting_len : s->sent == 0);
}

static void check_round_trip(const struct handover_state *s, uint32_t max)
{
    static uint8_t once[HANDOVER_STATE_MAX], twice[HANDOVER_STATE_MAX];
    struct handover_state back;
    ssize_t n = handover_encode(s, once, sizeof once), m;
    int r;

    CHECK(n > 0 && n == handover_encoded_size(s));
    r = handover_decode(once, (size_t)n, max, &back);
    CHECK(r == 0 || r == -EMSGSIZE);
    m = handover_encode(&back, twice, sizeof twice);
    CHECK(m == n && memcmp(once, twice, (size_t)n) == 0);
}

/* The input as a batch: the walk svr-adopt.c makes over a carrier's memfd. */
static void check_batch(const uint8_t *buf, size_t size, uint32_t max)
{
    const uint8_t *p = buf;
    size_t left = size;

    while (left > 0) {
        ssize_t len = handover_state_size(p, left);
        struct handover_state s;
        int r;

        CHECK(len == -EBADMSG || (len >= 10 && (size_t)len <= left));
        if (len < 0)
            break;
        r = handover_decode(p, (size_t)len, max, &s);
        CHECK(r == 0 || r == -EBADMSG || r == -EPROTONOSUPPORT || r == -EMSGSIZE);
        if (r == 0 || r == -EMSGSIZE)
            check_bounds(&s, p, (size_t)len);
        p += len;
        left -= (size_t)len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    uint32_t max = (uint32_t)(size * 2654435761u % (HANDOVER_MESSAGE_MAX + 1));
    struct handover_state s;
    size_t declared;
    int r;

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    check_batch(buf, size, max);
    memset(&s, 0x5a, sizeof s);
    r = handover_decode(buf, size, max, &s);
    CHECK(r == 0 || r == -EBADMSG || r == -EPROTONOSUPPORT || r == -EMSGSIZE);
    if (r == -EBADMSG || r == -EPROTONOSUPPORT) {
        uint8_t untouched[sizeof s];
        memset(untouched, 0x5a, sizeof untouched);
        CHECK(memcmp(&s, untouched, sizeof s) == 0);
        free(buf);
        return 0;
    }
    CHECK((r == -EMSGSIZE) == (s.msg_len > max));
    check_bounds(&s, buf, size);
    check_round_trip(&s, max);
    /* Accepted: every cut short of the length its header gives is refused. */
    declared = 10 + ((size_t)buf[6] << 24 | (size_t)buf[7] << 16 | (size_t)buf[8] << 8 | buf[9]);
    CHECK(declared <= size);
    CHECK(handover_state_size(buf, size) == (ssize_t)declared);
    for (size_t cut = 0; cut < declared; cut++)
        CHECK(handover_decode(buf, cut, max, &(struct handover_state){0}) == -EBADMSG);
    free(buf);
    return 0;
}
