/* test-storesize.c - the descriptor store's size that hellod.service's
 * ExecStop= leaves for the stop (src/svr-storesize.c): its parsing, the file
 * read once, and how it sizes the handover over $FDSTORE. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "svr-handover.h"
#include "svr-storesize.h"

static int parse(const char *text, long *n)
{
    return store_size_parse(text, strlen(text), n);
}

static void test_parse_takes_systemctl_show(void **state)
{
    long n = -1;

    (void)state;
    assert_int_equal(parse("FileDescriptorStoreMax=20002\n", &n), 0);
    assert_int_equal(n, 20002);
    assert_int_equal(parse("FileDescriptorStoreMax=0\n", &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(parse("FileDescriptorStoreMax=7", &n), 0); /* no newline */
    assert_int_equal(n, 7);
    assert_int_equal(parse("FileDescriptorStoreMax=1073741824\n", &n), 0);
    assert_int_equal(n, STORE_SIZE_MAX);
}

/* Anything else leaves *n alone: the caller counts with $FDSTORE. */
static void test_parse_refuses_the_rest(void **state)
{
    static const char *const bad[] = {
        "",
        "\n",
        "FileDescriptorStoreMax=\n",
        "FileDescriptorStoreMax=-1\n",
        "FileDescriptorStoreMax=+5\n",
        "FileDescriptorStoreMax= 5\n",
        "FileDescriptorStoreMax=5 \n",
        "FileDescriptorStoreMax=5\n\n",
        "FileDescriptorStoreMax=5\nFileDescriptorStoreMax=6\n",
        "FileDescriptorStoreMax=0x10\n",
        "filedescriptorstoremax=5\n",
        "20002\n",
        "FDSTORE=5\n",
        "Failed to get properties: Access denied\n",
    };
    long n = 42;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (parse(bad[i], &n) != -EINVAL)
            fail_msg("took \"%s\"", bad[i]);
        assert_int_equal(n, 42);
    }
    assert_int_equal(parse("FileDescriptorStoreMax=1073741825\n", &n), -ERANGE);
    assert_int_equal(parse("FileDescriptorStoreMax=99999999999999999999999999\n", &n), -ERANGE);
    assert_int_equal(n, 42);
    /* a NUL inside: not a digit */
    assert_int_equal(store_size_parse("FileDescriptorStoreMax=1\0"
                                      "2",
                                      26, &n),
                     -EINVAL);
    assert_int_equal(n, 42);
}

/* --- the file, and the handover it sizes ----------------------------------- */

struct fixture {
    char dir[64];
    char path[128];
    struct logger log;
};

static int setup(void **state)
{
    static struct fixture f;

    memset(&f, 0, sizeof f);
    snprintf(f.dir, sizeof f.dir, "/tmp/test-storesize-XXXXXX");
    assert_non_null(mkdtemp(f.dir));
    snprintf(f.path, sizeof f.path, "%s/" STORE_SIZE_FILE, f.dir);
    setenv("RUNTIME_DIRECTORY", f.dir, 1);
    setenv("NOTIFY_SOCKET", "@hellod-test-storesize", 1); /* never written to here */
    log_open(&f.log, "test-storesize", LOG_WARNING);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    unlink(f->path);
    rmdir(f->dir);
    unsetenv("RUNTIME_DIRECTORY");
    unsetenv("NOTIFY_SOCKET");
    unsetenv("FDSTORE");
    return 0;
}

static void put(const struct fixture *f, const char *text)
{
    FILE *out = fopen(f->path, "w");

    assert_non_null(out);
    fputs(text, out);
    fclose(out);
}

static void done(struct handover *h)
{
    for (int k = 0; k < 2; k++)
        if (h->carrier[k] >= 0)
            close(h->carrier[k]);
}

static void test_read_once(void **state)
{
    struct fixture *f = *state;
    long n = -1;

    assert_int_equal(store_size_read(&n), -ENOENT);
    put(f, "FileDescriptorStoreMax=12\n");
    assert_int_equal(store_size_read(&n), 0);
    assert_int_equal(n, 12);
    assert_int_equal(access(f->path, F_OK), -1); /* gone: a later SIGTERM by hand finds none */
    assert_int_equal(store_size_read(&n), -ENOENT);
    put(f, "garbage\n");
    assert_int_equal(store_size_read(&n), -EINVAL);
    assert_int_equal(n, 12);
    assert_int_equal(access(f->path, F_OK), -1);
    setenv("RUNTIME_DIRECTORY", "/run/a:/run/b", 1);
    assert_int_equal(store_size_read(&n), -ENOENT);
    unsetenv("RUNTIME_DIRECTORY");
    assert_int_equal(store_size_read(&n), -ENOENT);
}

/* The drop-in of FileDescriptorStoreMax=0 alone: $FDSTORE still says 20002
 * (the unit's Environment=), and the store refuses all; no handover. */
static void test_a_store_of_0_turns_the_handover_off(void **state)
{
    struct fixture *f = *state;
    struct handover h;

    setenv("FDSTORE", "20002", 1);
    handover_init(&h);
    assert_true(h.enabled);
    assert_int_equal(h.fdstore, 20002);
    put(f, "FileDescriptorStoreMax=0\n");
    store_size_at_stop(&h, &f->log);
    assert_false(h.enabled);
    done(&h);
}

/* The carrier and the stop's time take a slot each: 1 is too few, 2 holds
 * every connection the carrier takes, and the fallback counts from there. */
static void test_a_small_store_counts_from_its_size(void **state)
{
    struct fixture *f = *state;
    struct handover h;

    setenv("FDSTORE", "20002", 1);
    handover_init(&h);
    put(f, "FileDescriptorStoreMax=1\n");
    store_size_at_stop(&h, &f->log);
    assert_false(h.enabled);
    put(f, "FileDescriptorStoreMax=2\n");
    store_size_at_stop(&h, &f->log);
    assert_true(h.enabled);
    assert_true(h.carrier[0] >= 0);
    assert_int_equal(h.slots, 0);
    put(f, "FileDescriptorStoreMax=9\n");
    store_size_at_stop(&h, &f->log);
    assert_true(h.enabled);
    assert_int_equal(h.slots, 7);
    done(&h);
}

/* No file (a SIGTERM by hand), or an unreadable one: $FDSTORE stays. */
static void test_without_a_good_file_fdstore_stays(void **state)
{
    struct fixture *f = *state;
    struct handover h;

    setenv("FDSTORE", "20002", 1);
    handover_init(&h);
    store_size_at_stop(&h, &f->log);
    assert_true(h.enabled);
    assert_int_equal(h.slots, 20000);
    put(f, "FileDescriptorStoreMax=oops\n");
    store_size_at_stop(&h, &f->log);
    assert_true(h.enabled);
    assert_int_equal(h.slots, 20000);
    put(f, "FileDescriptorStoreMax=20002\n"); /* the same: nothing changes */
    store_size_at_stop(&h, &f->log);
    assert_true(h.enabled);
    assert_int_equal(h.slots, 20000);
    done(&h);
}

/* $FDSTORE unset (a unit without the Environment= line on systemd 252): the
 * store systemd has turns the handover on, carrier and all. */
static void test_the_store_without_fdstore(void **state)
{
    struct fixture *f = *state;
    struct handover h;

    handover_init(&h);
    assert_false(h.enabled);
    assert_int_equal(h.fdstore, -1);
    assert_int_equal(h.carrier[0], -1);
    put(f, "FileDescriptorStoreMax=100\n");
    store_size_at_stop(&h, &f->log);
    assert_true(h.enabled);
    assert_true(h.carrier[0] >= 0);
    assert_int_equal(h.slots, 98);
    done(&h);
}

/* Without a service manager, nothing can be stored whatever the file says. */
static void test_no_notify_socket_no_handover(void **state)
{
    struct fixture *f = *state;
    struct handover h;

    unsetenv("NOTIFY_SOCKET");
    setenv("FDSTORE", "20002", 1);
    handover_init(&h);
    assert_false(h.enabled);
    put(f, "FileDescriptorStoreMax=100\n");
    store_size_at_stop(&h, &f->log);
    assert_false(h.enabled);
    assert_int_equal(access(f->path, F_OK), 0); /* not ours to read */
    done(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_takes_systemctl_show),
        cmocka_unit_test(test_parse_refuses_the_rest),
        cmocka_unit_test_setup_teardown(test_read_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_store_of_0_turns_the_handover_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_small_store_counts_from_its_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_without_a_good_file_fdstore_stays, setup, teardown),
        cmocka_unit_test_setup_teardown(test_the_store_without_fdstore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_notify_socket_no_handover, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
