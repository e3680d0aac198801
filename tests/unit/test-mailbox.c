/* test-mailbox.c - a worker's mailbox (src/svr-mailbox.h): mail posted
 * before it is read adds up, the configuration read is the last one posted
 * with its generation, reading empties it, and a post wakes the worker's
 * loop exactly once however many knocks came. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "loop.h"
#include "svr-mailbox.h"

static void test_mail_adds_up_until_taken(void **state)
{
    struct mailbox mb;
    struct config a = {.max_connections = 1}, b = {.max_connections = 2}, got = {0};
    uint64_t gen = 0;

    (void)state;
    assert_int_equal(mailbox_open(&mb), 0);
    mailbox_post(&mb, MAIL_CONFIG, &a, 7);
    mailbox_post(&mb, MAIL_HOLD, NULL, 99); /* no config: gen and cfg untouched */
    mailbox_post(&mb, MAIL_CONFIG, &b, 8);
    assert_int_equal(mailbox_take(&mb, &got, &gen), MAIL_CONFIG | MAIL_HOLD);
    assert_int_equal(got.max_connections, 2);
    assert_int_equal(gen, 8);
    got.max_connections = 0;
    assert_int_equal(mailbox_take(&mb, &got, &gen), 0); /* emptied */
    assert_int_equal(got.max_connections, 0);
    mailbox_post(&mb, MAIL_STOP, NULL, 0);
    assert_int_equal(mailbox_take(&mb, &got, &gen), MAIL_STOP);
    mailbox_close(&mb);
    assert_int_equal(mb.fd, -1);
}

static void test_knock_wakes_the_loop(void **state)
{
    struct mailbox mb;
    struct loop loop = {.epfd = -1};

    (void)state;
    assert_int_equal(mailbox_open(&mb), 0);
    assert_int_equal(loop_init(&loop), 0);
    assert_int_equal(mailbox_watch(&mb, &loop), 0);
    assert_int_equal(loop_run_once(&loop, 0), 0); /* nothing posted: no wakeup */
    mailbox_post(&mb, MAIL_LISTENERS, NULL, 0);
    mailbox_post(&mb, MAIL_STOP, NULL, 0);
    assert_int_equal(loop_run_once(&loop, 1000), 1);
    assert_int_equal(loop_run_once(&loop, 0), 0); /* the knocks were read at once */
    assert_int_equal(mailbox_take(&mb, NULL, NULL), MAIL_LISTENERS | MAIL_STOP);
    loop_done(&loop);
    mailbox_close(&mb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mail_adds_up_until_taken),
        cmocka_unit_test(test_knock_wakes_the_loop),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
