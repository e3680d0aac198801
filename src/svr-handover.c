/* svr-handover.c - handing connections to systemd's file descriptor store at
 * a stop.
 *
 * Each connection is first settled (what can be read is framed, what the
 * socket takes is written: a client that does not read holds up nothing),
 * then written down at the end of its batch's memfd (the blob), and each
 * batch of 252 goes, blob and sockets in one message, into the carrier's
 * queue (svr-carrier.h), which alone is stored at the end, with the stop's
 * time. Without a carrier, or with its queue full, a batch goes to the store
 * as an earlier hellod stored it: one message of a memfd per state named
 * HANDOVER_NAME_STATE, then one of the sockets named HANDOVER_NAME_CONN (the
 * state says the inode of its socket, which pairs them). The sockets are
 * then closed, never shut down. docs/handover-format.md has both layouts. */
#include "config.h"

#include "svr-handover.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "handover-state.h"
#include "parse.h"
#include "svr-carrier.h"
#include "svr-conn-handover.h"

/* One descriptor of a carrier message is the blob of the states. */
#define BATCH (CARRIER_BATCH - 1)
/* How long the barrier waits for the service manager. */
#define BARRIER_USEC (5 * 1000000ULL)
/* The largest state with the message's first bytes as a connection keeps
 * them (256): the encoding buffer, one per worker at its stop. */
#define STATE_BUF (HANDOVER_STATE_MAX - HANDOVER_MESSAGE_MAX + 4096)

void handover_init(struct handover *h)
{
    const char *store = getenv("FDSTORE");
    uint64_t n;

    *h = (struct handover){.carrier = {-1, -1}, .fdstore = -1};
    h->managed = getenv("NOTIFY_SOCKET") != NULL;
    if (!store || parse_uint(store, 0, INT_MAX, &n) < 0)
        return;
    h->fdstore = (long)n;
    handover_set_store(h, (long)n);
}

void handover_set_store(struct handover *h, long n)
{
    h->enabled = false;
    if (!h->managed || n <= 1)
        return;
    h->enabled = true;
    h->slots = n - 1; /* one for the stop's time (HANDOVER_NAME_META) */
    /* Every connection in one stored descriptor: systemd 252 compares each
     * descriptor it stores with every one it holds (kcmp), which made a
     * handover of 2,000 connections (4,000 descriptors) take 3 s. */
    if (h->carrier[0] >= 0 || carrier_open(h->carrier) == 0)
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

/* A batch: its connections' states one after the other in one memfd (the
 * blob), and their sockets; in the carrier, one message holds both. */
struct batch {
    struct conn *conns[BATCH];
    int socks[BATCH];
    uint32_t off[BATCH], len[BATCH]; /* each state's place in the blob */
    int blob;                        /* -1 until the first state */
    uint64_t size;
    unsigned n;
};

static int new_memfd(void)
{
    int fd = memfd_create("hellod-conn-state", MFD_CLOEXEC | MFD_ALLOW_SEALING);

    return fd < 0 ? -errno : fd;
}

/* Read by another process: nobody may change it on the way. */
static void seal(int fd)
{
    (void)fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
}

static int write_all(int fd, const void *buf, size_t len)
{
    ssize_t n = write(fd, buf, len);

    if (n == (ssize_t)len)
        return 0;
    return n < 0 ? -errno : -EIO;
}

/* One memfd holding the state's bytes, or -errno. */
static int state_memfd(const void *buf, size_t len)
{
    int fd = new_memfd(), r;

    if (fd < 0)
        return fd;
    r = write_all(fd, buf, len);
    if (r < 0) {
        close(fd);
        return r;
    }
    seal(fd);
    return fd;
}

static void batch_reset(struct batch *b)
{
    if (b->blob >= 0)
        close(b->blob);
    b->blob = -1;
    b->size = 0;
    b->n = 0;
}

static void batch_given(struct handover *h, struct batch *b, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        conn_release(b->conns[i]);
    atomic_fetch_add(&h->given, n);
}

/* Into the carrier's queue, the blob and the sockets in one message: no
 * store slot taken. 0 or -errno. */
static int carry_batch(struct handover *h, struct batch *b)
{
    int fds[CARRIER_BATCH], r;

    if (h->carrier[1] < 0)
        return -ENOTCONN;
    seal(b->blob);
    fds[0] = b->blob;
    memcpy(fds + 1, b->socks, b->n * sizeof *fds);
    r = carrier_send(h->carrier[1], fds, b->n + 1);
    if (r < 0)
        return r;
    batch_given(h, b, b->n);
    atomic_fetch_add(&h->carried, b->n);
    batch_reset(b);
    return 0;
}

/* The layout of a descriptor each (an earlier hellod's), for as many as the
 * store has room for: the states copied out of the blob into a memfd each.
 * The rest stay, for the usual stop. */
static void store_batch(struct handover *h, struct batch *b, uint8_t *buf, const struct logger *log)
{
    int states[BATCH];
    unsigned fit = 0, made = 0;
    int r = 0;

    while (fit < b->n && take_slots(h, 1))
        fit++;
    if (fit < b->n)
        log_warn(log,
                 "the service manager's descriptor store is full (FileDescriptorStoreMax=): "
                 "stopping %u connections instead of handing them over",
                 b->n - fit);
    for (; made < fit && r >= 0; made++) {
        ssize_t got = pread(b->blob, buf, b->len[made], (off_t)b->off[made]);

        r = got == (ssize_t)b->len[made] ? state_memfd(buf, b->len[made]) : -EIO;
        states[made] = r;
    }
    if (r < 0)
        made--;
    else if (made > 0)
        r = sd_pid_notify_with_fds(0, 0, "FDSTORE=1\nFDNAME=" HANDOVER_NAME_STATE, states, made);
    /* Should the sockets fail after their states went, those states are
     * orphans, which the next start removes from the store. */
    if (r > 0)
        r = sd_pid_notify_with_fds(0, 0, "FDSTORE=1\nFDNAME=" HANDOVER_NAME_CONN, b->socks, made);
    for (unsigned i = 0; i < made; i++)
        close(states[i]);
    if (fit > 0 && r <= 0) { /* also when the first state's memfd failed */
        log_warn(log, "cannot hand %u connections to the service manager: %s; stopping them", fit,
                 r < 0 ? strerror(-r) : "no notify socket");
        made = 0;
    } else {
        batch_given(h, b, made);
    }
    atomic_fetch_add(&h->slots, 2 * (long)(fit - made));
    batch_reset(b);
}

static void send_batch(struct handover *h, struct batch *b, uint8_t *buf, const struct logger *log)
{
    if (carry_batch(h, b) == 0)
        return;
    /* No carrier, or its queue is full. */
    store_batch(h, b, buf, log);
}

/* Adds c to the batch: its state written at the end of the blob. */
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
    if (b->blob < 0 && (b->blob = new_memfd()) < 0) {
        r = b->blob;
        b->blob = -1;
        return r;
    }
    r = write_all(b->blob, buf, (size_t)len);
    if (r < 0) {
        /* what was written of it is never named by an offset: harmless */
        (void)lseek(b->blob, (off_t)b->size, SEEK_SET);
        return r;
    }
    b->conns[b->n] = c;
    b->socks[b->n] = conn_socket(c);
    b->off[b->n] = (uint32_t)b->size;
    b->len[b->n++] = (uint32_t)len;
    b->size += (uint64_t)len;
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
    b->blob = -1;
    b->size = 0;
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
            send_batch(h, b, buf, log);
    }
    if (b->n > 0)
        send_batch(h, b, buf, log);
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
