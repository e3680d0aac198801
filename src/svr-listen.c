/* svr-listen.c - socket activation with a fallback to our own bind. */
#include "config.h"

#include "svr-listen.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

static void name_socket(int fd, char *buf, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        snprintf(buf, size, "fd %d", fd);
    else
        addr_format((struct sockaddr *)&ss, len, buf, size);
}

static bool listener_named(const struct listeners *ls, const char *name)
{
    for (unsigned i = 0; i < ls->n; i++)
        if (strcmp(ls->l[i].name, name) == 0)
            return true;
    return false;
}

/* Would binding this listen entry give one of the passed sockets? Compared
 * by formatted address, as lighttpd matches inherited sockets. */
static bool passed_matches(const struct listeners *ls, const struct listen_addr *a)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    char name[ADDR_STRLEN + ADDR_HOST_MAX], port[8];
    bool found = true;

    switch (a->kind) {
    case ADDR_UNIX:
        return listener_named(ls, a->path);
    case ADDR_PORT: /* dual-stack, or IPv4 on a kernel without IPv6 */
        snprintf(name, sizeof name, "[::]:%u", a->port);
        if (listener_named(ls, name))
            return true;
        snprintf(name, sizeof name, "0.0.0.0:%u", a->port);
        return listener_named(ls, name);
    case ADDR_HOST_PORT:
        break;
    }
    snprintf(port, sizeof port, "%u", a->port);
    if (getaddrinfo(a->host, port, &hints, &res) != 0)
        return false;
    for (struct addrinfo *ai = res; ai && found; ai = ai->ai_next) {
        addr_format(ai->ai_addr, ai->ai_addrlen, name, sizeof name);
        found = listener_named(ls, name);
    }
    freeaddrinfo(res);
    return found;
}

static bool config_matches_passed(const struct listeners *ls, const struct config *cfg)
{
    for (unsigned i = 0; i < cfg->listen.n; i++)
        if (!passed_matches(ls, &cfg->listen.a[i]))
            return false;
    return cfg->listen.n == ls->n;
}

static void close_passed(int n)
{
    for (int i = 0; i < n; i++)
        close(SD_LISTEN_FDS_START + i);
}

/* Adds a passed listening socket to the hello listeners, or to the metrics
 * ones when its FileDescriptorName= is "metrics". */
static int take_listener(struct listeners *ls, int fd, const char *name, struct listen_error *err)
{
    bool metrics = name && strcmp(name, "metrics") == 0;
    struct net_listener *l = metrics ? &ls->metrics[ls->n_metrics] : &ls->l[ls->n];
    int r;

    if (metrics ? ls->n_metrics == CONFIG_LISTEN_MAX : ls->n == LISTENERS_MAX) {
        snprintf(err->addr, sizeof err->addr, "fd %d", fd);
        err->what = "more passed sockets than hellod serves";
        return -E2BIG;
    }
    r = net_set_nonblock(fd, true);
    if (r < 0)
        return r;
    l->fd = fd;
    name_socket(fd, l->name, sizeof l->name);
    *(metrics ? &ls->n_metrics : &ls->n) += 1;
    return 0;
}

/* A descriptor a stopping hellod stored for us (svr-handover.h), by its
 * name: put aside for the adoption. 1 if it is one, 0 if not. */
static int take_stored(struct listeners *ls, int fd, const char *name, int n)
{
    static const struct {
        const char *name;
        enum stored_kind kind;
    } kinds[] = {{HANDOVER_NAME_CONN, STORED_CONN},
                 {HANDOVER_NAME_STATE, STORED_STATE},
                 {HANDOVER_NAME_META, STORED_META}};

    for (size_t k = 0; name && k < sizeof kinds / sizeof kinds[0]; k++) {
        if (strcmp(name, kinds[k].name) != 0)
            continue;
        if (!ls->stored && !(ls->stored = calloc((size_t)n, sizeof *ls->stored)))
            return -ENOMEM;
        ls->stored[ls->n_stored++] = (struct stored_fd){fd, kinds[k].kind};
        return 1;
    }
    return 0;
}

static int take_passed(struct listeners *ls, int n, char **names, struct listen_error *err)
{
    for (int i = 0; i < n; i++) {
        int fd = SD_LISTEN_FDS_START + i, r;

        r = take_stored(ls, fd, names ? names[i] : NULL, n);
        if (r < 0)
            return r;
        if (r > 0) {
            /* a connection's socket, and a listener by no means (SO_ACCEPTCONN);
             * or the carrier of many (svr-carrier.h) */
            if (ls->stored[ls->n_stored - 1].kind == STORED_CONN &&
                sd_is_socket(fd, AF_UNIX, SOCK_SEQPACKET, 0) > 0)
                ls->stored[ls->n_stored - 1].kind = STORED_CARRIER;
            else if (ls->stored[ls->n_stored - 1].kind == STORED_CONN &&
                     sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 0) <= 0) {
                ls->n_stored--;
                close(fd);
            }
            continue;
        }
        if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) > 0) {
            r = take_listener(ls, fd, names ? names[i] : NULL, err);
            if (r < 0)
                return r;
        } else if (n == 1 && sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 0) > 0) {
            ls->conn_fd = fd; /* Accept=yes: systemd accepted it for us */
        } else {
            snprintf(err->addr, sizeof err->addr, "fd %d", fd);
            err->what = n == 1 ? "the passed descriptor is not a stream socket"
                               : "a passed descriptor is not a listening stream socket";
            return -ENOTSOCK;
        }
    }
    return 0;
}

/* Binds one listen entry, appending what it gives to ls. */
static int bind_one(struct listeners *ls, const struct listen_addr *a, int backlog,
                    struct listen_error *err)
{
    char spec[LISTEN_SPEC_MAX];
    int r = net_listen_addr(a, backlog, &ls->l[ls->n], LISTENERS_MAX - ls->n, err->addr,
                            sizeof err->addr);

    if (r < 0)
        return r;
    addr_spec_format(a, spec, sizeof spec);
    for (int i = 0; i < r; i++)
        snprintf(ls->spec[ls->n++], LISTEN_SPEC_MAX, "%s", spec);
    return 0;
}

static int bind_configured(struct listeners *ls, const struct config *cfg, struct listen_error *err)
{
    for (unsigned i = 0; i < cfg->listen.n; i++) {
        int r = bind_one(ls, &cfg->listen.a[i], (int)cfg->backlog, err);
        if (r < 0)
            return r;
    }
    return 0;
}

/* The metrics endpoint's own sockets, unless the service manager passed them. */
static int bind_metrics(struct listeners *ls, const struct config *cfg, struct listen_error *err)
{
    if (ls->n_metrics > 0)
        return 0; /* passed by the service manager: those win */
    for (unsigned i = 0; i < cfg->metrics_listen.n; i++) {
        int r = net_listen_addr(&cfg->metrics_listen.a[i], (int)cfg->backlog,
                                &ls->metrics[ls->n_metrics], CONFIG_LISTEN_MAX - ls->n_metrics,
                                err->addr, sizeof err->addr);
        if (r < 0)
            return r;
        ls->n_metrics += (unsigned)r;
    }
    return 0;
}

static void free_names(char **names)
{
    for (char **p = names; p && *p; p++)
        free(*p);
    free(names);
}

int listeners_open(struct listeners *ls, const struct config *cfg, struct listen_error *err)
{
    char **names = NULL;
    int n, r;

    *ls = (struct listeners){.conn_fd = -1};
    *err = (struct listen_error){0};
    n = sd_listen_fds_with_names(1, &names);
    if (n < 0) {
        snprintf(err->addr, sizeof err->addr, "$LISTEN_FDS");
        err->what = "invalid socket activation variables";
        return n;
    }
    if (n > 0) {
        ls->activated = true;
        r = take_passed(ls, n, names, err);
        free_names(names);
        if (r < 0) {
            close_passed(n);
            free(ls->stored);
            *ls = (struct listeners){.conn_fd = -1};
            return r;
        }
        /* Only what a stopping hellod stored, and no listener: bind our own. */
        if (ls->n == 0 && ls->n_metrics == 0 && ls->conn_fd < 0 && ls->n_stored > 0) {
            ls->activated = false;
            r = bind_configured(ls, cfg, err);
        }
        ls->config_ignored =
            ls->activated && ls->conn_fd < 0 && cfg->listen.set && !config_matches_passed(ls, cfg);
    } else {
        r = bind_configured(ls, cfg, err);
    }
    if (r == 0 && ls->conn_fd < 0)
        r = bind_metrics(ls, cfg, err);
    if (r < 0)
        listeners_close(ls);
    return r;
}

static void close_one(const struct listeners *ls, unsigned i)
{
    /* A UNIX socket file we bound ourselves goes with us; systemd's stays. */
    if (!ls->activated && ls->l[i].name[0] == '/')
        unlink(ls->l[i].name);
    close(ls->l[i].fd);
}

void listeners_close_hello(struct listeners *ls)
{
    for (unsigned i = 0; i < ls->n; i++)
        close_one(ls, i);
    ls->n = 0;
}

void listeners_drop_stored(struct listeners *ls)
{
    for (unsigned i = 0; i < ls->n_stored; i++)
        close(ls->stored[i].fd);
    free(ls->stored);
    ls->stored = NULL;
    ls->n_stored = 0;
}

void listeners_close(struct listeners *ls)
{
    listeners_drop_stored(ls);
    listeners_close_hello(ls);
    for (unsigned i = 0; i < ls->n_metrics; i++)
        close(ls->metrics[i].fd);
    ls->n_metrics = 0;
}

/* Moves the listeners bound for spec from old into next, with the new
 * backlog in force: listen(2) again on a listening socket changes it (and
 * takes no queued client away). 1 if any was kept, 0 if none, or a negative
 * errno. */
static int keep_bound(struct listeners *next, struct listeners *old, bool *kept, const char *spec,
                      int backlog, struct listen_error *err)
{
    int found = 0;

    for (unsigned i = 0; i < old->n; i++) {
        if (kept[i] || strcmp(old->spec[i], spec) != 0 || next->n == LISTENERS_MAX)
            continue;
        if (listen(old->l[i].fd, backlog) < 0) {
            snprintf(err->addr, sizeof err->addr, "%s", old->l[i].name);
            return -errno;
        }
        next->l[next->n] = old->l[i];
        snprintf(next->spec[next->n++], LISTEN_SPEC_MAX, "%s", spec);
        kept[i] = true;
        found = 1;
    }
    return found;
}

int listeners_update(struct listeners *ls, const struct config *cfg, struct listeners *dropped,
                     struct listen_error *err)
{
    struct listeners *next = malloc(sizeof *next); /* 25 KiB: not for the stack */
    bool kept[LISTENERS_MAX] = {false};            /* by index in ls: moved over to next */
    bool fresh[LISTENERS_MAX] = {false};           /* by index in next: bound by this call */
    int r = 0;

    if (!next)
        return -ENOMEM;
    *next = (struct listeners){.conn_fd = -1};
    *err = (struct listen_error){0};
    for (unsigned i = 0; i < cfg->listen.n && r == 0; i++) {
        char spec[LISTEN_SPEC_MAX];
        unsigned before = next->n;

        addr_spec_format(&cfg->listen.a[i], spec, sizeof spec);
        r = keep_bound(next, ls, kept, spec, (int)cfg->backlog, err);
        if (r != 0) {
            r = r < 0 ? r : 0;
            continue;
        }
        r = bind_one(next, &cfg->listen.a[i], (int)cfg->backlog, err);
        for (unsigned j = before; j < next->n; j++)
            fresh[j] = true;
    }
    /* On failure the new sockets go; on success the dropped ones are handed over. */
    *dropped = (struct listeners){.conn_fd = -1};
    for (unsigned i = 0; r < 0 && i < next->n; i++)
        if (fresh[i])
            close_one(next, i);
    for (unsigned i = 0; r == 0 && i < ls->n; i++)
        if (!kept[i]) {
            dropped->l[dropped->n] = ls->l[i];
            snprintf(dropped->spec[dropped->n++], LISTEN_SPEC_MAX, "%s", ls->spec[i]);
        }
    if (r == 0) { /* the hello listeners change; the metrics ones stay */
        memcpy(ls->l, next->l, next->n * sizeof ls->l[0]);
        memcpy(ls->spec, next->spec, next->n * sizeof ls->spec[0]);
        ls->n = next->n;
    }
    free(next);
    return r;
}

bool addr_list_equal(const struct addr_list *a, const struct addr_list *b)
{
    if (a->n != b->n)
        return false;
    for (unsigned i = 0; i < a->n; i++) {
        char sa[LISTEN_SPEC_MAX], sb[LISTEN_SPEC_MAX];
        addr_spec_format(&a->a[i], sa, sizeof sa);
        addr_spec_format(&b->a[i], sb, sizeof sb);
        if (strcmp(sa, sb) != 0)
            return false;
    }
    return true;
}
