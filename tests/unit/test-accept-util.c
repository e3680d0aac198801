/* test-accept-util.c - accepting clients (src/svr-accept-util.c): the batch
 * on a real listener on loopback, how it ends (an empty backlog, the batch's
 * size, running out of descriptors), and when a pause is said. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "net.h"
#include "svr-accept-util.h"

#define CLIENTS 3

struct taken {
    unsigned n;
    int fds[CLIENTS + 1];
    in_port_t ports[CLIENTS + 1];
};

static void take(int fd, const struct sockaddr *peer, socklen_t peer_len, void *userdata)
{
    struct taken *t = userdata;

    assert_true(t->n < CLIENTS + 1);
    assert_int_equal(peer->sa_family, AF_INET);
    assert_int_equal(peer_len, sizeof(struct sockaddr_in));
    t->ports[t->n] = ((const struct sockaddr_in *)peer)->sin_port;
    t->fds[t->n++] = fd;
}

/* A listener on loopback with n clients waiting in its backlog. */
static int listener_with_clients(int *clients, unsigned n)
{
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof in;
    int fd = net_listen_sockaddr((struct sockaddr *)&in, sizeof in, 16);

    assert_true(fd >= 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&in, &len), 0);
    for (unsigned i = 0; i < n; i++) {
        clients[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(clients[i] >= 0);
        assert_int_equal(connect(clients[i], (struct sockaddr *)&in, sizeof in), 0);
    }
    return fd;
}

static void close_all(const int *fds, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        close(fds[i]);
}

/* A batch takes at most max and says that more may wait (0); the next takes
 * the rest and says the backlog ran dry (-EAGAIN), which a stop's drain of
 * the backlog goes by. Each client comes with its own address, non-blocking. */
static void test_batch(void **state)
{
    int clients[CLIENTS], fd = listener_with_clients(clients, CLIENTS);
    struct taken t = {0};

    (void)state;
    assert_int_equal(accept_batch(fd, CLIENTS - 1, take, &t), 0);
    assert_int_equal(t.n, CLIENTS - 1);
    assert_int_equal(accept_batch(fd, CLIENTS, take, &t), -EAGAIN);
    assert_int_equal(t.n, CLIENTS);
    assert_int_equal(accept_batch(fd, CLIENTS, take, &t), -EAGAIN);
    assert_int_equal(t.n, CLIENTS);
    for (unsigned i = 0; i < t.n; i++) {
        struct sockaddr_in in;
        socklen_t len = sizeof in;
        char byte;

        assert_int_equal(getsockname(clients[i], (struct sockaddr *)&in, &len), 0);
        assert_int_equal(t.ports[i], in.sin_port);
        assert_int_equal(read(t.fds[i], &byte, 1), -1); /* non-blocking: nothing yet */
        assert_int_equal(errno, EAGAIN);
    }
    close_all(t.fds, t.n);
    close_all(clients, CLIENTS);
    close(fd);
}

/* Out of descriptors: the batch stops and says so; the client stays queued. */
static void test_out_of_descriptors(void **state)
{
    int clients[1], fd = listener_with_clients(clients, 1);
    struct taken t = {0};
    struct rlimit saved, low;
    int lowest = dup(0);

    (void)state;
    assert_true(lowest >= 0);
    close(lowest); /* the next descriptor would be this one */
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
    low = (struct rlimit){.rlim_cur = (rlim_t)lowest, .rlim_max = saved.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    assert_int_equal(accept_batch(fd, 4, take, &t), -EMFILE);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
    assert_int_equal(t.n, 0);
    assert_int_equal(accept_batch(fd, 4, take, &t), -EAGAIN);
    assert_int_equal(t.n, 1);
    close_all(t.fds, t.n);
    close_all(clients, 1);
    close(fd);
}

/* A socket that is not listening: each try fails, none is taken, the batch
 * ends after max tries rather than spinning (0: not a dry backlog). */
static void test_not_listening(void **state)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct taken t = {0};

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(accept_batch(fd, 8, take, &t), 0);
    assert_int_equal(t.n, 0);
    close(fd);
}

/* A pause lasts ACCEPT_PAUSE_USEC, and is said once per ACCEPT_PAUSE_LOG_EVERY. */
static void test_pause(void **state)
{
    struct accept_pause p = ACCEPT_PAUSE_INIT;
    const uint64_t t0 = 5000000;

    (void)state;
    assert_false(p.paused);
    assert_int_equal(p.until, UINT64_MAX);
    assert_true(accept_pause_begin(&p, t0));
    assert_true(p.paused);
    assert_int_equal(p.until, t0 + ACCEPT_PAUSE_USEC);
    accept_pause_end(&p);
    assert_false(p.paused);
    assert_int_equal(p.until, UINT64_MAX);
    assert_false(accept_pause_begin(&p, t0 + ACCEPT_PAUSE_LOG_EVERY - 1));
    assert_true(p.paused);
    assert_int_equal(p.until, t0 + ACCEPT_PAUSE_LOG_EVERY - 1 + ACCEPT_PAUSE_USEC);
    assert_true(accept_pause_begin(&p, t0 + ACCEPT_PAUSE_LOG_EVERY));
    assert_false(accept_pause_begin(&p, t0 + ACCEPT_PAUSE_LOG_EVERY + 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_out_of_descriptors),
        cmocka_unit_test(test_not_listening),
        cmocka_unit_test(test_pause),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
