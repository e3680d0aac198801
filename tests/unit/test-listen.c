/* test-listen.c - the choice between passed sockets and our own bind.
 * sd_listen_fds_with_names(), sd_is_socket() and net_listen_addr() are
 * replaced through the linker (-Wl,--wrap=), so each case says exactly what
 * the service manager passed; the descriptors themselves are real sockets
 * placed at fd 3 and up, as systemd places them. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <systemd/sd-daemon.h>

#include "svr-listen.h"

/* --- the seams ------------------------------------------------------------ */

/* The names the next call passes (FileDescriptorName=, FDNAME=), or none. */
static const char *const *passed_names;

int __wrap_sd_listen_fds_with_names(int unset_environment, char ***names);
int __wrap_sd_listen_fds_with_names(int unset_environment, char ***names)
{
    int n;

    check_expected(unset_environment);
    n = mock_type(int);
    if (passed_names && names) { /* a copy the caller frees, as libsystemd's */
        *names = calloc((size_t)n + 1, sizeof **names);
        for (int i = 0; i < n; i++)
            (*names)[i] = strdup(passed_names[i]);
    }
    passed_names = NULL;
    return n;
}

/* Answers from the real socket's type: listening or connected. */
int __wrap_sd_is_socket(int fd, int family, int type, int listening);
int __wrap_sd_is_socket(int fd, int family, int type, int listening)
{
    int acc = 0, t = 0;
    socklen_t len = sizeof acc;

    (void)family;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) < 0)
        return 0; /* not a socket */
    len = sizeof t;
    getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &len);
    if (type && t != type)
        return 0;
    return listening < 0 || acc == listening;
}

int __wrap_net_listen_addr(const struct listen_addr *a, int backlog, struct net_listener *out,
                           size_t max, char *failed, size_t failed_size);
int __wrap_net_listen_addr(const struct listen_addr *a, int backlog, struct net_listener *out,
                           size_t max, char *failed, size_t failed_size)
{
    int r = mock_type(int);

    (void)max;
    check_expected(backlog);
    function_called();
    addr_spec_format(a, failed, failed_size);
    if (r > 0) {
        out[0].fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        snprintf(out[0].name, sizeof out[0].name, "%s", failed);
    }
    return r;
}

/* --- helpers -------------------------------------------------------------- */

static int tcp_listener(uint16_t *port)
{
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof in;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&in, sizeof in), 0);
    assert_int_equal(listen(fd, 1), 0);
    getsockname(fd, (struct sockaddr *)&in, &len);
    *port = ntohs(in.sin_port);
    return fd;
}

/* Puts fd at position SD_LISTEN_FDS_START + i, as the service manager does. */
static void pass(int fd, int i)
{
    int want = SD_LISTEN_FDS_START + i;

    assert_true(fd >= 0);
    if (fd == want)
        return;
    assert_int_equal(dup2(fd, want), want);
    close(fd);
}

static bool fd_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}

static void config_with_listen(struct config *cfg, const char *listen)
{
    struct config_error err;

    config_defaults(cfg);
    if (listen)
        assert_int_equal(config_set(cfg, "server", "listen", listen, &err), 0);
}

static void expect_passed(int n)
{
    expect_value(__wrap_sd_listen_fds_with_names, unset_environment, 1);
    will_return(__wrap_sd_listen_fds_with_names, n);
}

/* --- cases ---------------------------------------------------------------- */

static void no_passed_sockets_binds_every_configured_address(void **state)
{
    struct listeners ls;
    struct listen_error err;
    struct config cfg;

    (void)state;
    config_with_listen(&cfg, "127.0.0.1:1 [::1]:2 /run/x.sock");
    expect_passed(0);
    for (int i = 0; i < 3; i++) {
        will_return(__wrap_net_listen_addr, 1);
        expect_value(__wrap_net_listen_addr, backlog, 128);
        expect_function_call(__wrap_net_listen_addr);
    }
    assert_int_equal(listeners_open(&ls, &cfg, &err), 0);
    assert_false(ls.activated);
    assert_int_equal(ls.n, 3);
    assert_int_equal(ls.conn_fd, -1);
    assert_string_equal(ls.l[0].name, "127.0.0.1:1");
    assert_string_equal(ls.l[1].name, "[::1]:2");
    assert_string_equal(ls.l[2].name, "/run/x.sock");
    listeners_close(&ls);
}

static void failed_bind_names_the_address_and_closes_the_others(void **state)
{
    struct listeners ls;
    struct listen_error err;
    struct config cfg;

    (void)state;
    config_with_listen(&cfg, "127.0.0.1:1 127.0.0.1:2");
    expect_passed(0);
    will_return(__wrap_net_listen_addr, 1);
    will_return(__wrap_net_listen_addr, -EADDRINUSE);
    expect_value_count(__wrap_net_listen_addr, backlog, 128, 2);
    expect_function_calls(__wrap_net_listen_addr, 2);
    assert_int_equal(listeners_open(&ls, &cfg, &err), -EADDRINUSE);
    assert_string_equal(err.addr, "127.0.0.1:2");
    assert_int_equal(ls.n, 0);
}

static void passed_listeners_win_and_bind_nothing(void **state)
{
    struct listeners ls;
    struct listen_error err;
    struct config cfg;
    uint16_t p1, p2;
    char name[64];

    (void)state;
    pass(tcp_listener(&p1), 0);
    pass(tcp_listener(&p2), 1);
    config_with_listen(&cfg, NULL);
    expect_passed(2); /* and no call of net_listen_addr is expected */
    assert_int_equal(listeners_open(&ls, &cfg, &err), 0);
    assert_true(ls.activated);
    assert_false(ls.config_ignored); /* the default listen was not asked for */
    assert_int_equal(ls.n, 2);
    snprintf(name, sizeof name, "127.0.0.1:%u", p2);
    assert_string_equal(ls.l[1].name, name);
    assert_true(fcntl(ls.l[0].fd, F_GETFL) & O_NONBLOCK);
    assert_true(fcntl(ls.l[1].fd, F_GETFL) & O_NONBLOCK);
    listeners_close(&ls);
}

static void configured_listen_that_matches_is_not_ignored(void **state)
{
    struct listeners ls;
    struct listen_error err;
    struct config cfg;
    char spec[64];
    uint16_t port;

    (void)state;
    pass(tcp_listener(&port), 0);
    snprintf(spec, sizeof spec, "127.0.0.1:%u", port);
    config_with_listen(&cfg, spec);
    expect_passed(1);
    assert_int_equal(listeners_open(&ls, &cfg, &err), 0);
    assert_false(ls.config_ignored);
    listeners_close(&ls);
}

static void configured_listen_that_differs_is_ignored(void **state)
{
    struct listeners ls;
    struct listen_error err;
    struct config cfg;
    uint16_t port;

    (void)state;
    pass(tcp_listener(&port), 0);
    config_with_listen(&cfg, "127.0.0.1:1");
    expect_passed(1);
    assert_int_equal(listeners_open(&ls, &cfg, &err), 0);
    assert_true(ls.config_ignored);
    assert_int_equal(ls.n, 1);
    listeners_close(&ls);
}

static void one_connected_socket_is_inetd_mode(void **state)
{
    struct listeners ls;
    struct listen_error err;
    struct config cfg;
    int sv[2];

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pass(sv[0], 0);
    config_with_listen(&cfg, NULL);
    expect_passed(1);
    assert_int_equal(listeners_open(&ls, &cfg, &err), 0);
    assert_int_equal(ls.conn_fd, SD_LISTEN_FDS_START);
    assert_int_equal(ls.n, 0);
    close(ls.conn_fd);
    close(sv[1]);
}

/* After a restart with a descriptor store: the listener, and the stored
 * connections and states (svr-handover.h) put aside by name for the
 * adoption, not taken for listeners nor refused as connected sockets. */
static void stored_connections_are_put_aside_by_name(void **state)
{
    static const char *const names[] = {"hellod.socket", HANDOVER_NAME_CONN, HANDOVER_NAME_STATE,
                                        HANDOVER_NAME_META, HANDOVER_NAME_CONN};
    struct listeners ls;
    struct listen_error err;
    struct config cfg;
    uint16_t port;
    int sv[2], lone;

    (void)state;
    pass(tcp_listener(&port), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pass(sv[0], 1);
    pass(open("/dev/null", O_RDONLY), 2); /* a state, a memfd in real life */
    pass(open("/dev/null", O_RDONLY), 3);
    pass(tcp_listener(&port), 4); /* named a connection, but listening: not one */
    config_with_listen(&cfg, NULL);
    passed_names = names;
    expect_passed(5);
    assert_int_equal(listeners_open(&ls, &cfg, &err), 0);
    assert_true(ls.activated);
    assert_int_equal(ls.n, 1);
    assert_int_equal(ls.conn_fd, -1);
    assert_int_equal(ls.n_stored, 3);
    assert_int_equal(ls.stored[0].fd, SD_LISTEN_FDS_START + 1);
    assert_int_equal(ls.stored[0].kind, STORED_CONN);
    assert_int_equal(ls.stored[1].kind, STORED_STATE);
    assert_int_equal(ls.stored[2].kind, STORED_META);
    assert_false(fd_open(SD_LISTEN_FDS_START + 4)); /* closed: no connection of ours */
    lone = SD_LISTEN_FDS_START + 1;
    listeners_close(&ls);
    assert_false(fd_open(lone)); /* what was not adopted is closed with the rest */
    assert_int_equal(ls.n_stored, 0);
    close(sv[1]);
}

static void connected_socket_among_listeners_is_refused(void **state)
{
    struct listeners ls;
    struct listen_error err;
    struct config cfg;
    uint16_t port;
    int sv[2];

    (void)state;
    pass(tcp_listener(&port), 0); /* first, so that fd 3 is taken when the pair is made */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pass(sv[0], 1);
    config_with_listen(&cfg, NULL);
    expect_passed(2);
    assert_int_equal(listeners_open(&ls, &cfg, &err), -ENOTSOCK);
    assert_string_equal(err.addr, "fd 4");
    assert_non_null(err.what);
    assert_false(fd_open(SD_LISTEN_FDS_START)); /* nothing passed stays open */
    assert_false(fd_open(SD_LISTEN_FDS_START + 1));
    close(sv[1]);
}

static void passed_descriptor_that_is_no_socket_is_refused(void **state)
{
    struct listeners ls;
    struct listen_error err;
    struct config cfg;

    (void)state;
    pass(open("/dev/null", O_RDONLY), 0);
    config_with_listen(&cfg, NULL);
    expect_passed(1);
    assert_int_equal(listeners_open(&ls, &cfg, &err), -ENOTSOCK);
    assert_string_equal(err.addr, "fd 3");
    assert_string_equal(err.what, "the passed descriptor is not a stream socket");
}

static void datagram_socket_is_refused(void **state)
{
    struct listeners ls;
    struct listen_error err;
    struct config cfg;

    (void)state;
    pass(socket(AF_INET, SOCK_DGRAM, 0), 0);
    config_with_listen(&cfg, NULL);
    expect_passed(1);
    assert_int_equal(listeners_open(&ls, &cfg, &err), -ENOTSOCK);
}

static void broken_activation_variables_are_an_error(void **state)
{
    struct listeners ls;
    struct listen_error err;
    struct config cfg;

    (void)state;
    config_with_listen(&cfg, NULL);
    expect_passed(-EINVAL);
    assert_int_equal(listeners_open(&ls, &cfg, &err), -EINVAL);
    assert_string_equal(err.addr, "$LISTEN_FDS");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_passed_sockets_binds_every_configured_address),
        cmocka_unit_test(failed_bind_names_the_address_and_closes_the_others),
        cmocka_unit_test(passed_listeners_win_and_bind_nothing),
        cmocka_unit_test(configured_listen_that_matches_is_not_ignored),
        cmocka_unit_test(configured_listen_that_differs_is_ignored),
        cmocka_unit_test(one_connected_socket_is_inetd_mode),
        cmocka_unit_test(connected_socket_among_listeners_is_refused),
        cmocka_unit_test(stored_connections_are_put_aside_by_name),
        cmocka_unit_test(passed_descriptor_that_is_no_socket_is_refused),
        cmocka_unit_test(datagram_socket_is_refused),
        cmocka_unit_test(broken_activation_variables_are_an_error),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
