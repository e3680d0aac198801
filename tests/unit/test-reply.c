/* test-reply.c - the replies a connection owes, in the greetings they were
 * answered in (svr-reply.h): pure, no socket. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "svr-reply.h"

/* Sends everything owed in pieces of at most chunk bytes, as a socket that
 * takes little at a time would; returns the bytes in out. */
static size_t drain(struct owed *o, size_t chunk, char *out, size_t size, uint64_t *done)
{
    size_t len = 0;

    while (owed_bytes(o) > 0) {
        size_t run, left = owed_bytes(o);
        bool all;
        const char *p = owed_run(o, &run, &all);

        assert_int_equal(all, run == left);
        if (run > chunk)
            run = chunk;
        assert_true(len + run <= size);
        memcpy(out + len, p, run);
        len += run;
        assert_int_equal(owed_consume(o, run, done), run);
    }
    return len;
}

static void one_greeting_any_number_of_replies(void **state)
{
    struct reply *r;
    struct owed o = {0};
    static char out[1 << 20];
    uint64_t done = 0;

    (void)state;
    assert_int_equal(reply_new(&r, "hi"), 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(owed_add(&o, r, i < 500 ? 1 : 199), 0);
    assert_int_equal(owed_bytes(&o), 300000);
    assert_int_equal(drain(&o, 7, out, sizeof out, &done), 300000);
    assert_int_equal(done, 100000);
    for (size_t i = 0; i < 300000; i += 3)
        assert_memory_equal(out + i, "hi\n", 3);
    assert_int_equal(o.n, 0);
    assert_null(o.later);
    assert_int_equal(r->refs, 1); /* o let go of it */
    reply_unref(r);
}

/* Two reloads while replies are owed: each reply keeps the greeting in
 * force when its message was framed, in order. */
static void greeting_switches_at_the_message_boundary(void **state)
{
    struct reply *a, *b, *c;
    struct owed o = {0};
    char out[256];
    uint64_t done = 0;

    (void)state;
    assert_int_equal(reply_new(&a, "A"), 0);
    assert_int_equal(reply_new(&b, "BB"), 0);
    assert_int_equal(reply_new(&c, "CCC"), 0);
    owed_add(&o, a, 1);
    owed_add(&o, a, 1);
    owed_add(&o, b, 1);
    owed_add(&o, c, 2);
    owed_add(&o, b, 1);
    assert_int_equal(owed_bytes(&o), 2 * 2 + 3 + 2 * 4 + 3);
    assert_int_equal(drain(&o, 3, out, sizeof out, &done), 18);
    assert_memory_equal(out, "A\nA\nBB\nCCC\nCCC\nBB\n", 18);
    assert_int_equal(done, 6);
    assert_int_equal(a->refs + b->refs + c->refs, 3);
    reply_unref(a);
    reply_unref(b);
    reply_unref(c);
}

static void clear_lets_go_of_every_greeting(void **state)
{
    struct reply *a, *b;
    struct owed o = {0};
    uint64_t done = 0;

    (void)state;
    assert_int_equal(reply_new(&a, "A"), 0);
    assert_int_equal(reply_new(&b, "B"), 0);
    owed_add(&o, a, 1);
    owed_add(&o, b, 1);
    owed_add(&o, a, 1);
    assert_int_equal(owed_consume(&o, 1, &done), 1); /* half a reply sent */
    owed_clear(&o);
    assert_int_equal(owed_bytes(&o), 0);
    assert_int_equal(a->refs, 1);
    assert_int_equal(b->refs, 1);
    reply_unref(a);
    reply_unref(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_greeting_any_number_of_replies),
        cmocka_unit_test(greeting_switches_at_the_message_boundary),
        cmocka_unit_test(clear_lets_go_of_every_greeting),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
