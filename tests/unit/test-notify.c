/* test-notify.c - the notify socket kept from the start (src/notify.c): the
 * datagrams reach a path or an abstract name, as sd_notify(3) sends them,
 * and still go out when no descriptor is left. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "notify.h"

/* A datagram socket bound to name ('@' first: abstract), as the service
 * manager's; NOTIFY_SOCKET names it. */
static int listen_notify(const char *name)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = strlen(name);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    assert_true(fd >= 0);
    memcpy(sa.sun_path, name, len);
    if (name[0] == '@')
        sa.sun_path[0] = '\0';
    else
        unlink(name);
    assert_int_equal(
        bind(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)),
        0);
    setenv("NOTIFY_SOCKET", name, 1);
    return fd;
}

static void expect_datagram(int fd, const char *want)
{
    char buf[256];
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);

    assert_true(n >= 0);
    buf[n] = '\0';
    assert_string_equal(buf, want);
}

static void test_path(void **state)
{
    char path[64];
    struct notifier n;
    int fd;

    (void)state;
    snprintf(path, sizeof path, "/tmp/hellod-test-notify-%d", (int)getpid());
    fd = listen_notify(path);
    assert_int_equal(notifier_open(&n), 0);
    assert_true(notifier_enabled(&n));
    assert_int_equal(notifier_send(&n, "READY=1\nSTATUS=x"), 0);
    expect_datagram(fd, "READY=1\nSTATUS=x");
    assert_int_equal(notifier_sendf(&n, "STATUS=%d open", 3), 0);
    expect_datagram(fd, "STATUS=3 open");
    notifier_close(&n);
    close(fd);
    unlink(path);
}

static void test_abstract(void **state)
{
    char name[64];
    struct notifier n;
    int fd;

    (void)state;
    snprintf(name, sizeof name, "@hellod-test-notify-%d", (int)getpid());
    fd = listen_notify(name);
    assert_int_equal(notifier_open(&n), 0);
    assert_int_equal(notifier_send(&n, "WATCHDOG=1"), 0);
    expect_datagram(fd, "WATCHDOG=1");
    notifier_close(&n);
    close(fd);
}

static void test_unset_sends_nothing(void **state)
{
    struct notifier n;

    (void)state;
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(notifier_open(&n), 0);
    assert_false(notifier_enabled(&n));
    assert_int_equal(n.fd, -1);
    assert_int_equal(notifier_send(&n, "READY=1"), 0);
    notifier_close(&n);
}

static void test_other_forms_go_to_sd_notify(void **state)
{
    struct notifier n;

    (void)state;
    setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
    assert_int_equal(notifier_open(&n), 0);
    assert_true(notifier_enabled(&n));
    assert_int_equal(n.fd, -1); /* libsystemd's sd_notify() does the sending */
    notifier_close(&n);
    unsetenv("NOTIFY_SOCKET");
}

/* The point of it all: with every descriptor taken, WATCHDOG=1 still goes. */
static void test_sends_with_no_descriptor_left(void **state)
{
    char name[64];
    struct notifier n;
    struct rlimit old, low;
    int fd, filler[64], n_fill = 0;

    (void)state;
    snprintf(name, sizeof name, "@hellod-test-notify-emfile-%d", (int)getpid());
    fd = listen_notify(name);
    assert_int_equal(notifier_open(&n), 0);
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = (rlim_t)(n.fd > fd ? n.fd : fd) + 8;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    while (n_fill < 64 && (filler[n_fill] = dup(fd)) >= 0)
        n_fill++;
    assert_int_equal(errno, EMFILE);
    assert_true(socket(AF_UNIX, SOCK_DGRAM, 0) < 0); /* what sd_notify() would need */
    assert_int_equal(notifier_send(&n, "WATCHDOG=1"), 0);
    while (n_fill > 0)
        close(filler[--n_fill]);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    expect_datagram(fd, "WATCHDOG=1");
    notifier_close(&n);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path),
        cmocka_unit_test(test_abstract),
        cmocka_unit_test(test_unset_sends_nothing),
        cmocka_unit_test(test_other_forms_go_to_sd_notify),
        cmocka_unit_test(test_sends_with_no_descriptor_left),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
