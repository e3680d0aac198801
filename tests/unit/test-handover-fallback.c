/* test-handover-fallback.c - the stopping side of the handover when the
 * carrier cannot be used (src/svr-handover.c, docs/handover-format.md "In
 * the store"): without a socket pair, or with its queue full, every
 * connection still goes to the store, in the layout of a descriptor each (a
 * state memfd named hellod-state, its socket named hellod-conn), as far as
 * $FDSTORE allows; the rest stay for the usual stop. socketpair() and
 * sendmsg() (the carrier's) are replaced through the linker (-Wl,--wrap=);
 * the connections are real (socket pairs), served by the real connection
 * code, and the service manager is a datagram socket this test reads. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "handover-state.h"
#include "loop.h"
#include "svr-carrier.h"
#include "svr-config.h"
#include "svr-conn.h"
#include "svr-handover.h"
#include "svr-reply.h"

/* --- the seams ------------------------------------------------------------ */

static bool fail_socketpair;
static int sendmsg_budget = -1; /* carrier messages that go through; -1: all */

int __real_socketpair(int domain, int type, int protocol, int sv[2]);
int __wrap_socketpair(int domain, int type, int protocol, int sv[2]);
int __wrap_socketpair(int domain, int type, int protocol, int sv[2])
{
    if (fail_socketpair) {
        errno = EMFILE;
        return -1;
    }
    return __real_socketpair(domain, type, protocol, sv);
}

/* Only hellod's own calls come here (the carrier's): libsystemd's notify
 * messages are sent from within the shared library, not wrapped. */
ssize_t __real_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t __wrap_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t __wrap_sendmsg(int fd, const struct msghdr *msg, int flags)
{
    if (sendmsg_budget == 0) {
        errno = EAGAIN; /* the queue is full */
        return -1;
    }
    if (sendmsg_budget > 0)
        sendmsg_budget--;
    return __real_sendmsg(fd, msg, flags);
}

/* --- a worker's connections, and a service manager ------------------------ */

#define MAX_CONNS 300

struct fixture {
    struct config cfg;
    struct logger log;
    struct stats stats;
    struct loop loop;
    struct reply *reply;
    char rbuf[65536];
    struct conn_ctx ctx;
    int clients[MAX_CONNS];
    uint64_t inodes[MAX_CONNS]; /* of hellod's end of each */
    unsigned seen[MAX_CONNS];   /* how often each went out: state, socket */
    unsigned n;
    int notify;
};

static void closed(struct conn_ctx *ctx)
{
    (void)ctx;
}

static int setup(void **state)
{
    static struct fixture f;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct rlimit rl;
    int big = 8 << 20;

    memset(&f, 0, sizeof f);
    /* sockets, states in flight and received ones: more than 1024 at once */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    config_defaults(&f.cfg);
    log_open(&f.log, "test-handover-fallback", LOG_WARNING);
    assert_int_equal(loop_init(&f.loop), 0);
    assert_int_equal(reply_new(&f.reply, f.cfg.greeting), 0);
    conn_ctx_init(&f.ctx);
    f.ctx.cfg = &f.cfg;
    f.ctx.reply = f.reply;
    f.ctx.log = &f.log;
    f.ctx.stats = &f.stats;
    f.ctx.loop = &f.loop;
    f.ctx.rbuf = f.rbuf;
    f.ctx.rbuf_size = sizeof f.rbuf;
    f.ctx.closed = closed;
    /* the service manager's notify socket, abstract */
    snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1, "hellod-test-fallback-%d", (int)getpid());
    f.notify = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    assert_true(f.notify >= 0);
    (void)setsockopt(f.notify, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    assert_int_equal(
        bind(f.notify, (struct sockaddr *)&sa,
             (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(sa.sun_path + 1))),
        0);
    sa.sun_path[0] = '@';
    setenv("NOTIFY_SOCKET", sa.sun_path, 1);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    conn_close_all(&f->ctx);
    for (unsigned i = 0; i < f->n; i++)
        close(f->clients[i]);
    close(f->notify);
    reply_unref(f->reply);
    loop_done(&f->loop);
    unsetenv("NOTIFY_SOCKET");
    unsetenv("FDSTORE");
    fail_socketpair = false;
    sendmsg_budget = -1;
    return 0;
}

/* n connections, served; every other one with half a message read. */
static void open_conns(struct fixture *f, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        union peer peer = {.in = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(40000 + i))}};
        struct stat st;
        int sv[2];

        peer.in.sin_addr.s_addr = htonl(0x7f000001);
        assert_int_equal(
            __real_socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(fstat(sv[0], &st), 0);
        f->inodes[i] = (uint64_t)st.st_ino;
        f->clients[i] = sv[1];
        assert_int_equal(conn_open(&f->ctx, sv[0], &peer), 0);
        if (i % 2)
            assert_int_equal(write(sv[1], "half", 4), 4);
    }
    f->n = n;
}

static int conn_index(const struct fixture *f, uint64_t inode)
{
    for (unsigned i = 0; i < f->n; i++)
        if (f->inodes[i] == inode)
            return (int)i;
    return -1;
}

/* One state read: it must be one of ours, with what it had read. */
static void check_state(struct fixture *f, const uint8_t *buf, size_t len)
{
    struct handover_state s;
    int i;

    assert_int_equal(handover_decode(buf, len, 1000, &s), 0);
    i = conn_index(f, s.socket_inode);
    assert_true(i >= 0);
    assert_int_equal(s.msg_len, i % 2 ? 4 : 0);
    f->seen[i] += 1;
}

/* A descriptor each: one memfd, sealed, holding one state. */
static void check_state_memfd(struct fixture *f, int fd)
{
    uint8_t buf[4096];
    ssize_t len = pread(fd, buf, sizeof buf, 0);
    int seals = fcntl(fd, F_GET_SEALS);

    assert_true(len > 0);
    if (seals >= 0 || errno != EINVAL) /* qemu-user may not know F_GET_SEALS */
        assert_true(seals >= 0 && (seals & F_SEAL_WRITE));
    check_state(f, buf, (size_t)len);
}

static void check_socket(struct fixture *f, int fd)
{
    struct stat st;
    int i;

    assert_int_equal(fstat(fd, &st), 0);
    i = conn_index(f, (uint64_t)st.st_ino);
    assert_true(i >= 0);
    f->seen[i] += 100;
}

/* The store's messages, in order: FDNAME= and the descriptors of each,
 * checked as they come. Returns how many messages; sizes[k]: descriptors. */
static unsigned read_store(struct fixture *f, unsigned *sizes, unsigned max)
{
    unsigned k = 0;

    for (;;) {
        union {
            char buf[CMSG_SPACE(CARRIER_BATCH * sizeof(int))];
            struct cmsghdr align;
        } ctl;
        char text[256];
        struct iovec iov = {.iov_base = text, .iov_len = sizeof text - 1};
        struct msghdr msg = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl};
        ssize_t got = recvmsg(f->notify, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        struct cmsghdr *cm;
        unsigned nfd = 0;
        bool state;

        if (got < 0 && errno == EAGAIN)
            return k;
        assert_true(got > 0);
        assert_true(k < max);
        text[got] = '\0';
        assert_string_equal(text, k % 2 ? "FDSTORE=1\nFDNAME=" HANDOVER_NAME_CONN
                                        : "FDSTORE=1\nFDNAME=" HANDOVER_NAME_STATE);
        state = k % 2 == 0; /* states first, then their sockets */
        assert_false(msg.msg_flags & MSG_CTRUNC);
        for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
            size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

            for (size_t i = 0; i < n; i++, nfd++) {
                int fd;

                memcpy(&fd, CMSG_DATA(cm) + i * sizeof fd, sizeof fd);
                if (state)
                    check_state_memfd(f, fd);
                else
                    check_socket(f, fd);
                close(fd);
            }
        }
        sizes[k++] = nfd;
    }
}

/* What came out of the carrier's queue: blobs of states, and sockets. */
static unsigned read_carrier(struct fixture *f, int fd)
{
    struct stored_fd *list = NULL;
    size_t n = 0, cap = 0;
    unsigned sockets = 0;

    assert_int_equal(carrier_drain(fd, &list, &n, &cap), 0);
    for (size_t i = 0; i < n; i++) {
        if (list[i].kind == STORED_BLOB) {
            struct stat st;
            const uint8_t *p;
            size_t left;

            assert_int_equal(fstat(list[i].fd, &st), 0);
            p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, list[i].fd, 0);
            assert_true(p != MAP_FAILED);
            for (left = (size_t)st.st_size; left > 0;) {
                ssize_t len = handover_state_size(p + st.st_size - left, left);

                assert_true(len > 0);
                check_state(f, p + st.st_size - left, (size_t)len);
                left -= (size_t)len;
            }
            munmap((void *)p, (size_t)st.st_size);
        } else {
            check_socket(f, list[i].fd);
            sockets++;
        }
        close(list[i].fd);
    }
    free(list);
    return sockets;
}

/* Each connection went out once, its state and its socket. */
static void each_once(const struct fixture *f, unsigned from, unsigned to)
{
    for (unsigned i = from; i < to; i++)
        if (f->seen[i] != 101)
            fail_msg("connection %u went out %u times as a state, %u as a socket", i,
                     f->seen[i] % 100, f->seen[i] / 100);
}

/* A handover whose socket pair cannot be made, under this $FDSTORE. */
static void init_without_carrier(struct handover *h, const char *fdstore)
{
    fail_socketpair = true;
    setenv("FDSTORE", fdstore, 1);
    handover_init(h);
}

/* The handover gives `given` of the open connections, in one batch of the
 * old layout (their states, then their sockets), and `stay` stay open. */
static void gives_one_old_batch(struct fixture *f, struct handover *h, unsigned given,
                                unsigned stay)
{
    unsigned sizes[8];

    assert_int_equal(handover_give(h, &f->ctx, &f->log, loop_clock()), given);
    assert_int_equal(f->ctx.n_conns, stay);
    assert_int_equal(read_store(f, sizes, 8), 2);
    assert_int_equal(sizes[0], given);
    assert_int_equal(sizes[1], given);
    each_once(f, 0, given); /* the first ones listed, in order of their last progress */
}

/* --- the tests ------------------------------------------------------------ */

/* No socket pair: every connection in the layout of a descriptor each, in
 * batches of at most 252 (SCM_RIGHTS' limit, one name per message). */
static void test_without_a_carrier_each_goes_in_the_old_layout(void **state)
{
    struct fixture *f = *state;
    struct handover h;
    unsigned sizes[8];

    init_without_carrier(&h, "1000");
    assert_true(h.enabled);
    assert_int_equal(h.carrier[0], -1);
    open_conns(f, 260);
    assert_int_equal(handover_give(&h, &f->ctx, &f->log, loop_clock()), 260);
    assert_int_equal(f->ctx.n_conns, 0);
    assert_int_equal(h.carried, 0);
    assert_int_equal(read_store(f, sizes, 8), 4);
    assert_int_equal(sizes[0], 252);
    assert_int_equal(sizes[1], 252);
    assert_int_equal(sizes[2], 8);
    assert_int_equal(sizes[3], 8);
    each_once(f, 0, 260);
    assert_int_equal(h.slots, 1000 - 1 - 2 * 260);
}

/* No socket pair, and $FDSTORE = 13 has room for 6: two slots each, one
 * for the stop's time (none for a carrier). The other 2 stay, open, for the
 * usual stop. */
static void test_the_store_limit_holds_in_the_old_layout(void **state)
{
    struct fixture *f = *state;
    struct handover h;
    unsigned left = 0;
    char byte;

    init_without_carrier(&h, "13");
    open_conns(f, 8);
    gives_one_old_batch(f, &h, 6, 2);
    for (unsigned i = 6; i < 8; i++) {
        assert_int_equal(f->seen[i], 0);
        /* still served here: nothing said, not closed */
        if (recv(f->clients[i], &byte, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN)
            left++;
    }
    assert_int_equal(left, 2);
}

/* $FDSTORE says 1000, but the store systemd has at the stop (what
 * ExecStop= found: svr-storesize.h) is 7: room for 3, counted from 7. */
static void test_the_store_at_the_stop_wins_over_fdstore(void **state)
{
    struct fixture *f = *state;
    struct handover h;

    init_without_carrier(&h, "1000");
    handover_set_store(&h, 7);
    open_conns(f, 5);
    gives_one_old_batch(f, &h, 3, 2);
    handover_set_store(&h, 0); /* none: nothing goes */
    assert_int_equal(handover_give(&h, &f->ctx, &f->log, loop_clock()), 0);
    assert_int_equal(f->ctx.n_conns, 2);
}

/* The carrier's queue fills after one batch: that batch stays in it, and
 * the rest go to the store in the old layout; none is lost or doubled. */
static void test_a_full_carrier_sends_the_rest_to_the_store(void **state)
{
    struct fixture *f = *state;
    struct handover h;
    unsigned sizes[8];

    setenv("FDSTORE", "1000", 1);
    handover_init(&h);
    assert_true(h.carrier[0] >= 0);
    assert_int_equal(h.slots, 1000 - 2);
    open_conns(f, 300);
    sendmsg_budget = 1;
    assert_int_equal(handover_give(&h, &f->ctx, &f->log, loop_clock()), 300);
    assert_int_equal(f->ctx.n_conns, 0);
    assert_int_equal(h.carried, 252);
    assert_int_equal(read_store(f, sizes, 8), 2);
    assert_int_equal(sizes[0], 48);
    assert_int_equal(sizes[1], 48);
    close(h.carrier[1]); /* as handover_finish() does: the reader then sees the end */
    assert_int_equal(read_carrier(f, h.carrier[0]), 252);
    close(h.carrier[0]);
    each_once(f, 0, 300);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_without_a_carrier_each_goes_in_the_old_layout, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_the_store_limit_holds_in_the_old_layout, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_the_store_at_the_stop_wins_over_fdstore, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_full_carrier_sends_the_rest_to_the_store, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
