/* net.c - socket plumbing: listeners, connections, flags. */
#include "config.h"

#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int net_set_nonblock(int fd, bool on)
{
    int flags = fcntl(fd, F_GETFL);

    if (flags < 0)
        return -errno;
    flags = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
    return fcntl(fd, F_SETFL, flags) < 0 ? -errno : 0;
}

static int set_int(int fd, int level, int opt, int value)
{
    return setsockopt(fd, level, opt, &value, sizeof value) < 0 ? -errno : 0;
}

int net_listen_sockaddr(const struct sockaddr *sa, socklen_t len, int backlog)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int r = 0;

    if (fd < 0)
        return -errno;
    if (sa->sa_family != AF_UNIX) {
        /* Restart while old connections sit in TIME_WAIT; and accepted sockets
         * inherit TCP_NODELAY, so a reply never waits on Nagle's algorithm. */
        r = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
        if (r == 0)
            r = set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
    }
    if (r == 0 && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const void *)sa;
        /* Only the any-address serves IPv4 too; [::1] and the like stay IPv6. */
        r = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, !IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr));
    }
    if (r == 0 && bind(fd, sa, len) < 0)
        r = -errno;
    if (r == 0 && listen(fd, backlog) < 0)
        r = -errno;
    if (r < 0) {
        close(fd);
        return r;
    }
    return fd;
}

static void listener_name(int fd, char *buf, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        snprintf(buf, size, "?");
    else
        addr_format((struct sockaddr *)&ss, len, buf, size);
}

/* A UNIX socket file that nobody accepts on is left over from a crash. */
static bool unix_socket_is_stale(const struct sockaddr_un *un)
{
    struct stat st;
    int fd, r;

    if (lstat(un->sun_path, &st) < 0 || !S_ISSOCK(st.st_mode))
        return false;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    r = connect(fd, (const struct sockaddr *)un, sizeof *un);
    r = r < 0 && errno == ECONNREFUSED;
    close(fd);
    return r;
}

static int listen_unix(const char *path, int backlog)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    int fd;

    snprintf(un.sun_path, sizeof un.sun_path, "%s", path);
    fd = net_listen_sockaddr((struct sockaddr *)&un, sizeof un, backlog);
    if (fd == -EADDRINUSE && unix_socket_is_stale(&un)) {
        unlink(un.sun_path);
        fd = net_listen_sockaddr((struct sockaddr *)&un, sizeof un, backlog);
    }
    return fd;
}

static int listen_any(uint16_t port, int backlog)
{
    struct sockaddr_in6 in6 = {
        .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_ANY_INIT};
    struct sockaddr_in in = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
    int fd = net_listen_sockaddr((struct sockaddr *)&in6, sizeof in6, backlog);

    if (fd == -EAFNOSUPPORT || fd == -EADDRNOTAVAIL) /* a kernel without IPv6 */
        fd = net_listen_sockaddr((struct sockaddr *)&in, sizeof in, backlog);
    return fd;
}

static void close_all(struct net_listener *l, int n)
{
    while (n-- > 0)
        close(l[n].fd);
}

static int listen_host(const struct listen_addr *a, int backlog, struct net_listener *out,
                       size_t max, char *failed, size_t failed_size)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    char port[8];
    int n = 0, r;

    snprintf(port, sizeof port, "%u", a->port);
    r = getaddrinfo(a->host, port, &hints, &res);
    if (r != 0)
        return r == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if ((size_t)n == max) {
            r = -E2BIG;
            break;
        }
        r = net_listen_sockaddr(ai->ai_addr, ai->ai_addrlen, backlog);
        if (r < 0) {
            addr_format(ai->ai_addr, ai->ai_addrlen, failed, failed_size);
            break;
        }
        out[n].fd = r;
        listener_name(r, out[n].name, sizeof out[n].name);
        n++;
        r = 0;
    }
    freeaddrinfo(res);
    if (r < 0) {
        close_all(out, n);
        return r;
    }
    return n;
}

int net_listen_addr(const struct listen_addr *a, int backlog, struct net_listener *out, size_t max,
                    char *failed, size_t failed_size)
{
    int fd;

    addr_spec_format(a, failed, failed_size);
    if (max == 0)
        return -E2BIG;
    if (a->kind == ADDR_HOST_PORT)
        return listen_host(a, backlog, out, max, failed, failed_size);
    fd = a->kind == ADDR_UNIX ? listen_unix(a->path, backlog) : listen_any(a->port, backlog);
    if (fd < 0)
        return fd;
    out[0].fd = fd;
    listener_name(fd, out[0].name, sizeof out[0].name);
    return 1;
}

/* connect() with a time limit: non-blocking connect, then poll for writability. */
static int connect_timed(int fd, const struct sockaddr *sa, socklen_t len, int timeout_ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLOUT};
    int r, err = 0;
    socklen_t elen = sizeof err;

    r = net_set_nonblock(fd, true);
    if (r < 0)
        return r;
    if (connect(fd, sa, len) < 0) {
        if (errno != EINPROGRESS)
            return -errno;
        do
            r = poll(&pfd, 1, timeout_ms);
        while (r < 0 && errno == EINTR);
        if (r < 0)
            return -errno;
        if (r == 0)
            return -ETIMEDOUT;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
            return -errno;
        if (err)
            return -err;
    }
    return net_set_nonblock(fd, false);
}

int net_connect_tcp(const char *host, const char *port, int family, int timeout_ms, int *gai_error)
{
    struct addrinfo hints = {
        .ai_family = family, .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
    struct addrinfo *res;
    int r = -EADDRNOTAVAIL;

    *gai_error = getaddrinfo(host, port, &hints, &res);
    if (*gai_error == EAI_SYSTEM)
        return -errno;
    if (*gai_error != 0)
        return -ENOENT;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            r = -errno;
            continue;
        }
        r = connect_timed(fd, ai->ai_addr, ai->ai_addrlen, timeout_ms);
        if (r == 0) {
            set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
            r = fd;
            break;
        }
        close(fd);
    }
    freeaddrinfo(res);
    return r;
}

int net_connect_unix(const char *path, int timeout_ms)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    int fd, r;

    if (strlen(path) >= sizeof un.sun_path)
        return -ENAMETOOLONG;
    strcpy(un.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    r = connect_timed(fd, (struct sockaddr *)&un, sizeof un, timeout_ms);
    if (r < 0) {
        close(fd);
        return r;
    }
    return fd;
}
