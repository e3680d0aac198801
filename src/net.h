/* net.h - socket plumbing shared by hellod and hello-cli, apart from any
 * policy: opening listeners and outgoing connections, descriptor flags. Each
 * returns a descriptor or 0 on success, or a negative errno. */
#ifndef HELLO_NET_H
#define HELLO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "addr.h"

/* A connection closed by our side reads and drops what its client still
 * sends for this long, so that our close does not become a reset that
 * destroys the last line in flight (the "lingering close" of httpd and
 * nginx): a hello connection's, and a metrics connection's after its
 * response (within its METRICS_TIMEOUT). Neither hellod(8) nor SPEC.md
 * promises a figure; 2 s is what the hello connections have always used,
 * well inside a stop's 5 s. */
#define NET_LINGER_USEC (2 * 1000000ULL)

/* One bound and listening socket, non-blocking and close-on-exec. */
struct net_listener {
    int fd;
    char name[ADDR_STRLEN]; /* its address as bound (the real port when 0 was asked) */
};

/* Binds and listens on every address a listen entry stands for: "PORT" is
 * [::]:PORT dual-stack, or 0.0.0.0:PORT where the kernel has no IPv6; a host
 * name may give several. A stale UNIX socket file (nobody accepting on it) is
 * replaced. Returns how many were opened (at most max), or a negative errno;
 * on failure, *failed names the address that failed. */
int net_listen_addr(const struct listen_addr *a, int backlog, struct net_listener *out, size_t max,
                    char *failed, size_t failed_size);

/* Opens a listener on one socket address. */
int net_listen_sockaddr(const struct sockaddr *sa, socklen_t len, int backlog);

int net_set_nonblock(int fd, bool on);

/* Connects to HOST:PORT (family AF_UNSPEC, AF_INET or AF_INET6) or to a UNIX
 * socket, trying each address in turn, waiting at most timeout_ms (negative:
 * no limit). Returns a blocking, close-on-exec descriptor or a negative
 * errno: -ETIMEDOUT, -ECONNREFUSED, -EHOSTUNREACH..., or -ENOENT when the name
 * does not resolve (*gai_error holds getaddrinfo()'s code then). */
int net_connect_tcp(const char *host, const char *port, int family, int timeout_ms, int *gai_error);
int net_connect_unix(const char *path, int timeout_ms);

#endif
