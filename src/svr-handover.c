/* svr-handover.c - handing connections to systemd's file descriptor store at
 * a stop.
 *
 * Each connection is first settled (what can be read is framed, what the
 * socket takes is written: a client that does not read holds up nothing),
 * then written down into a memfd of its own, and both go to the store in
 * batches: one message of memfds named HANDOVER_NAME_STATE, then one of the
 * sockets named HANDOVER_NAME_CONN (FDNAME= names every descriptor of a
 * message alike; the state says the inode of its socket, which pairs them).
 * The sockets are then closed, never shut down. */
#include "config.h"

#include "svr-handover.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "handover-state.h"
#include "svr-carrier.h"
#include "svr-conn-handover.h"

#define BATCH CARRIER_BATCH
/* How long the barrier waits for the service manager. */
#define BARRIER_USEC (5 * 1000000ULL)
/* The largest state with the message's first bytes as a connection keeps
 * them (256): the encoding buffer, one per worker at its stop. */
#define STATE_BUF (HANDOVER_STATE_MAX - HANDOVER_MESSAGE_MAX + 4096)

void handover_init(struct handover *h)
{
    const char *store = getenv("FDSTORE");
    char *end;
    long n;

    *h = (struct handover){.carrier = {-1, -1}};
    if (!getenv("NOTIFY_SOCKET") || !store)
        return;
    errno = 0;
    n = strtol(store, &end, 10);
    if (errno || *end || end == store || n <= 1)
        return;
    h->enabled = true;
    h->slots = n - 1; /* one for the stop's time (HANDOVER_NAME_META) */
    /* Every connection in one stored descriptor: systemd 252 compares each
     * descriptor it stores with every one it holds (kcmp), which made a
     * handover of 2,000 connections (4,000 descriptors) take 3 s. */
    if (n >= 2 && carrier_open(h->carrier) == 0)
        h->slots = n - 2;
}

/* Takes two store slots for each of n connections, or says there are not
 * that many left. */
static bool take_slots(struct handover *h, unsigned n)
{
    long k = 2 * (long)n;

    if (atomic_fetch_sub(&h->slots, k) >= k)
        return true;
    atomic_fetch_add(&h->slots, k);
    return false;
}

struct batch {
    struct conn *conns[BATCH];
    int socks[BATCH], states[BATCH];
    unsigned n;
};

/* One memfd holding the state's bytes, or -errno. */
static int state_memfd(const void *buf, size_t len)
{
    int fd = memfd_create("hellod-conn-state", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    ssize_t n;

    if (fd < 0)
        return -errno;
    n = write(fd, buf, len);
    if (n != (ssize_t)len) {
        int r = n < 0 ? -errno : -EIO;
        close(fd);
        return r;
    }
    /* Read by another process: nobody may change it on the way. */
    (void)fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
    return fd;
}

/* Into the carrier's queue: no store slot taken. 0 or -errno. */
static int carry_batch(struct handover *h, struct batch *b)
{
    int r;

    if (h->carrier[1] < 0)
        return -ENOTCONN;
    r = carrier_send(h->carrier[1], b->states, b->n);
    if (r == 0)
        r = carrier_send(h->carrier[1], b->socks, b->n);
    /* Should the sockets fail after their states went, those states are
     * orphans, which the next start ignores: no socket pairs with them. */
    if (r < 0)
        return r;
    for (unsigned i = 0; i < b->n; i++) {
        close(b->states[i]);
        conn_release(b->conns[i]);
    }
    atomic_fetch_add(&h->given, b->n);
    atomic_fetch_add(&h->carried, b->n);
    b->n = 0;
    return 0;
}

static void send_batch(struct handover *h, struct batch *b, const struct logger *log)
{
    unsigned fit = 0;
    int r;

    if (carry_batch(h, b) == 0)
        return;
    /* No carrier, or its queue is full: the layout of a descriptor each,
     * for as many as the store has room for; the rest stay, for the usual stop. */
    while (fit < b->n && take_slots(h, 1))
        fit++;
    if (fit < b->n) {
        log_warn(log,
                 "the service manager's descriptor store is full (FileDescriptorStoreMax=): "
                 "stopping %u connections instead of handing them over",
                 b->n - fit);
        for (unsigned i = fit; i < b->n; i++)
            close(b->states[i]);
        b->n = fit;
        if (fit == 0)
            return;
    }
    r = sd_pid_notify_with_fds(0, 0, "FDSTORE=1\nFDNAME=" HANDOVER_NAME_STATE, b->states, b->n);

    /* Should the sockets fail after their states went, those states are
     * orphans, which the next start removes from the store. */
    if (r > 0)
        r = sd_pid_notify_with_fds(0, 0, "FDSTORE=1\nFDNAME=" HANDOVER_NAME_CONN, b->socks, b->n);
    for (unsigned i = 0; i < b->n; i++)
        close(b->states[i]);
    if (r <= 0) {
        log_warn(log, "cannot hand %u connections to the service manager: %s; stopping them", b->n,
                 r < 0 ? strerror(-r) : "no notify socket");
        atomic_fetch_add(&h->slots, 2 * (long)b->n);
        b->n = 0;
        return; /* they stay open, for the usual stop */
    }
    for (unsigned i = 0; i < b->n; i++)
        conn_release(b->conns[i]);
    atomic_fetch_add(&h->given, b->n);
    b->n = 0;
}

/* Adds c to the batch: its state written into a memfd. */
static int add_conn(struct batch *b, struct conn *c, uint8_t *buf, uint64_t now)
{
    struct handover_state s;
    ssize_t len;
    int r = conn_save(c, &s, now);

    if (r < 0)
        return r;
    len = handover_encode(&s, buf, STATE_BUF);
    if (len < 0)
        return (int)len;
    r = state_memfd(buf, (size_t)len);
    if (r < 0)
        return r;
    b->conns[b->n] = c;
    b->socks[b->n] = conn_socket(c);
    b->states[b->n++] = r;
    return 0;
}

unsigned handover_give(struct handover *h, struct conn_ctx *ctx, const struct logger *log,
                       uint64_t now)
{
    size_t n = ctx->n_conns, live = 0;
    unsigned before = atomic_load(&h->given);
    struct conn **conns;
    struct batch *b;
    uint8_t *buf;

    if (!h || !h->enabled || n == 0)
        return 0;
    conns = malloc(n * sizeof *conns);
    b = malloc(sizeof *b);
    buf = malloc(STATE_BUF);
    if (!conns || !b || !buf) {
        log_warn(log, "out of memory for the handover: stopping %zu connections", n);
        goto out;
    }
    b->n = 0;
    n = conn_list(ctx, conns, n);
    /* Settling closes only the connection settled: the list stays good. */
    for (size_t i = 0; i < n; i++)
        if (conn_handover_settle(conns[i]))
            conns[live++] = conns[i];
    for (size_t i = 0; i < live; i++) {
        int r = add_conn(b, conns[i], buf, now);

        if (r < 0) {
            log_warn(log, "cannot write a connection's state down: %s; stopping it", strerror(-r));
            continue;
        }
        if (b->n == BATCH)
            send_batch(h, b, log);
    }
    if (b->n > 0)
        send_batch(h, b, log);
out:
    free(buf);
    free(b);
    free(conns);
    return atomic_load(&h->given) - before;
}

int handover_finish(struct handover *h, const struct logger *log)
{
    char meta[64];
    int fd, r = 0;

    if (!h->enabled)
        return 0;
    if (h->carried > 0) {
        /* The stored end only: the queue lives on in the store without us. */
        r = sd_pid_notify_with_fds(0, 0, "FDSTORE=1\nFDPOLL=0\nFDNAME=" HANDOVER_NAME_CARRIER,
                                   &h->carrier[0], 1);
        if (r <= 0)
            log_warn(log, "cannot hand the carrier of %u connections to the service manager: %s",
                     (unsigned)h->carried, r < 0 ? strerror(-r) : "no notify socket");
    }
    for (int k = 0; k < 2; k++)
        if (h->carrier[k] >= 0) {
            close(h->carrier[k]);
            h->carrier[k] = -1;
        }
    if (h->given > 0) {
        /* The stop's time, for the next hellod to say how long the handover took. */
        int len = snprintf(meta, sizeof meta, "hellod-handover 1 %llu %u\n",
                           (unsigned long long)h->stop_usec, (unsigned)h->given);
        fd = state_memfd(meta, (size_t)len);
        if (fd >= 0) {
            (void)sd_pid_notify_with_fds(0, 0, "FDSTORE=1\nFDNAME=" HANDOVER_NAME_META, &fd, 1);
            close(fd);
        }
        log_info(log, "handed %u connections over to the service manager", (unsigned)h->given);
    }
    if (h->given == 0)
        return 0;
    r = sd_notify_barrier(0, BARRIER_USEC);
    if (r < 0)
        log_warn(log, "the service manager did not confirm the handover: %s", strerror(-r));
    return r < 0 ? r : 0;
}
