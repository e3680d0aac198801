/* svr-adopt.c - adopting the connections a previous hellod stored.
 *
 * The store passes its descriptors back mixed and newest first. The states
 * (memfds) are read one by one; each names the inode of its socket, which
 * pairs it with one of the stored sockets (as systemd-journald pairs its
 * stream clients): a socket is never served with another's state, and a
 * socket no readable state names is closed, since serving it from an unknown
 * point could give a wrong reply. */
#include "config.h"

#include "svr-adopt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "handover-state.h"
#include "net.h"
#include "svr-carrier.h"
#include "svr-conn-handover.h"

struct sock {
    uint64_t inode;
    int fd; /* -1 once adopted */
};

static int by_inode(const void *a, const void *b)
{
    const struct sock *x = a, *y = b;

    return x->inode < y->inode ? -1 : x->inode > y->inode;
}

static void log_closed(const struct logger *log, int fd, const char *why)
{
    union peer peer = {0};
    socklen_t len = sizeof peer;
    char name[ADDR_STRLEN] = "?";

    if (getpeername(fd, &peer.sa, &len) == 0)
        peer_name(&peer, name, sizeof name);
    log_notice(log, "%s: a connection of the previous hellod, %s: closing", name, why);
}

/* Reads a memfd whole into buf (HANDOVER_STATE_MAX bytes); its length or -errno. */
static ssize_t read_memfd(int fd, uint8_t *buf, size_t size)
{
    size_t got = 0;

    while (got < size) {
        ssize_t n = pread(fd, buf + got, size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

static void read_meta(int fd, struct adopt_result *res)
{
    char text[64];
    unsigned long long at;
    unsigned n;
    ssize_t len = read_memfd(fd, (uint8_t *)text, sizeof text - 1);

    if (len <= 0)
        return;
    text[len] = '\0';
    if (sscanf(text, "hellod-handover 1 %llu %u", &at, &n) == 2)
        res->stop_usec = at;
}

struct adopt_ctx {
    struct sock *socks;
    size_t n_socks;
    struct worker **workers;
    unsigned n_workers;
    uint32_t max_message;
    struct reply_set *rs;
    const struct logger *log;
    struct adopt_result *res;
};

/* One state's bytes: decoded and, with its socket, given to a worker. */
static void adopt_state(struct adopt_ctx *a, const uint8_t *buf, ssize_t len)
{
    struct handover_state s;
    struct sock key, *sock;
    int r = len < 0 ? (int)len : handover_decode(buf, (size_t)len, a->max_message, &s);

    if (r < 0 && r != -EMSGSIZE) {
        /* Its socket is not known: it stays unpaired and is closed below. */
        log_warn(a->log, "cannot read a stored connection's state: %s", handover_strerror(r));
        return;
    }
    key.inode = s.socket_inode;
    sock = bsearch(&key, a->socks, a->n_socks, sizeof *a->socks, by_inode);
    if (!sock || sock->fd < 0) {
        log_notice(a->log, "a stored connection's state without its socket: ignored");
        return;
    }
    if (net_set_nonblock(sock->fd, true) < 0) {
        log_closed(a->log, sock->fd, "cannot be made non-blocking");
        close(sock->fd);
        sock->fd = -1;
        a->res->closed++;
        return;
    }
    r = worker_adopt_state(a->workers[a->res->adopted % a->n_workers], sock->fd, &s, r == -EMSGSIZE,
                           a->rs);
    if (r < 0) {
        log_closed(a->log, sock->fd, strerror(-r));
        close(sock->fd);
        a->res->closed++;
    } else {
        a->res->adopted++;
    }
    sock->fd = -1;
}

/* The layout of a descriptor each: one state in its memfd. */
static void adopt_one(struct adopt_ctx *a, int fd, uint8_t *buf)
{
    adopt_state(a, buf, read_memfd(fd, buf, HANDOVER_STATE_MAX));
}

/* A blob out of the carrier: states one after the other, each as long as
 * its header says (docs/handover-format.md). A state that cannot be read
 * ends the blob: where the next begins is then unknown. */
static void adopt_blob(struct adopt_ctx *a, int fd)
{
    struct stat st;
    const uint8_t *map, *p;
    size_t left;

    if (fstat(fd, &st) < 0 || st.st_size <= 0)
        return;
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        log_warn(a->log, "cannot read %lld bytes of stored states: %s", (long long)st.st_size,
                 strerror(errno));
        return;
    }
    for (p = map, left = (size_t)st.st_size; left > 0;) {
        ssize_t len = handover_state_size(p, left);

        /* a broken one is decoded whole, for its error line */
        adopt_state(a, p, len < 0 ? (ssize_t)left : len);
        if (len < 0)
            break;
        p += len;
        left -= (size_t)len;
    }
    munmap((void *)map, (size_t)st.st_size);
}

/* The store forgets every descriptor of these names: the adopted ones, and
 * orphans (a state whose socket the store dropped when its peer hung up, a
 * socket whose state could not be read). */
static void remove_stored(bool seen[5], const struct logger *log)
{
    static const char *const names[3] = {HANDOVER_NAME_CONN, HANDOVER_NAME_STATE,
                                         HANDOVER_NAME_META};

    seen[STORED_CONN] |= seen[STORED_CARRIER]; /* the same name */
    for (int k = 0; k < 3; k++) {
        char msg[64];
        int r;

        if (!seen[k])
            continue;
        snprintf(msg, sizeof msg, "FDSTOREREMOVE=1\nFDNAME=%s", names[k]);
        r = sd_notify(0, msg);
        if (r < 0)
            log_warn(log, "cannot empty the descriptor store: %s", strerror(-r));
    }
}

/* The layout of this hellod and later: a carrier's queue holds the states
 * and the sockets. Replaces ls->stored with what was stored by name (the
 * layout of a descriptor each, from an earlier hellod) followed by what the
 * carriers held, each carrier closed. 0 or -ENOMEM. */
static int unpack_carriers(struct listeners *ls, bool seen[5], const struct logger *log)
{
    struct stored_fd *all = NULL;
    size_t n = 0, cap = 0;
    int r;

    for (unsigned i = 0; i < ls->n_stored; i++) {
        struct stored_fd *l;

        seen[ls->stored[i].kind] = true;
        if (ls->stored[i].kind == STORED_CARRIER)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : ls->n_stored;
            if (!(l = realloc(all, cap * sizeof *l)))
                goto nomem;
            all = l;
        }
        all[n++] = ls->stored[i];
    }
    for (unsigned i = 0; i < ls->n_stored; i++) {
        if (ls->stored[i].kind != STORED_CARRIER)
            continue;
        r = carrier_drain(ls->stored[i].fd, &all, &n, &cap);
        if (r < 0)
            log_warn(log, "cannot take every connection out of the carrier: %s", strerror(-r));
        close(ls->stored[i].fd);
        ls->stored[i].fd = -1;
    }
    free(ls->stored);
    ls->stored = all;
    ls->n_stored = (unsigned)n;
    return 0;
nomem:
    free(all);
    return -ENOMEM;
}

int adopt_stored(struct listeners *ls, struct worker **workers, unsigned n_workers,
                 uint32_t max_message, const struct logger *log, struct adopt_result *res)
{
    struct reply_set rs = {.n = 0};
    struct sock *socks;
    struct adopt_ctx a;
    size_t n_socks = 0;
    bool seen[5] = {false, false, false, false, false};
    uint8_t *buf;

    *res = (struct adopt_result){0};
    if (ls->n_stored == 0)
        return 0;
    if (unpack_carriers(ls, seen, log) < 0) {
        listeners_drop_stored(ls);
        return -ENOMEM;
    }
    socks = calloc(ls->n_stored, sizeof *socks);
    buf = malloc(HANDOVER_STATE_MAX);
    if (!socks || !buf) {
        free(socks);
        free(buf);
        listeners_drop_stored(ls);
        return -ENOMEM;
    }
    for (unsigned i = 0; i < ls->n_stored; i++) {
        struct stat st;

        if (ls->stored[i].kind != STORED_CONN)
            continue;
        if (fstat(ls->stored[i].fd, &st) < 0) {
            close(ls->stored[i].fd);
            continue;
        }
        socks[n_socks++] = (struct sock){(uint64_t)st.st_ino, ls->stored[i].fd};
    }
    qsort(socks, n_socks, sizeof *socks, by_inode);
    a = (struct adopt_ctx){socks, n_socks, workers, n_workers, max_message, &rs, log, res};
    for (unsigned i = 0; i < ls->n_stored; i++) {
        int fd = ls->stored[i].fd;

        if (ls->stored[i].kind == STORED_STATE)
            adopt_one(&a, fd, buf);
        else if (ls->stored[i].kind == STORED_BLOB)
            adopt_blob(&a, fd);
        else if (ls->stored[i].kind == STORED_META)
            read_meta(fd, res);
        if (ls->stored[i].kind != STORED_CONN)
            close(fd);
    }
    for (size_t i = 0; i < n_socks; i++)
        if (socks[i].fd >= 0) {
            log_closed(log, socks[i].fd, "no readable state");
            close(socks[i].fd);
            res->closed++;
        }
    if (res->closed > 0) /* for the metrics, which sum the workers' counters */
        worker_adopt_closed(workers[0], res->closed);
    reply_set_done(&rs);
    free(ls->stored);
    ls->stored = NULL;
    ls->n_stored = 0;
    free(socks);
    free(buf);
    remove_stored(seen, log);
    return 0;
}
