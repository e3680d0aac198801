/* addr.h - addresses as people write them and as logs show them (pure):
 * parsing a `listen` entry (PORT, HOST:PORT, [IPV6]:PORT, /path) and
 * formatting a socket address back to that form. */
#ifndef HELLO_ADDR_H
#define HELLO_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

/* A host name of up to 180 bytes: "listen = HOST:PORT" must fit in a line of
 * the config file (198 characters), so that hellod -t prints what it reads. */
#define ADDR_HOST_MAX 181
#define ADDR_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path))
#define ADDR_STRLEN   (ADDR_PATH_MAX + 8) /* room for any formatted address */

enum addr_kind {
    ADDR_PORT,      /* "8080": every address, IPv6 dual-stack or IPv4 */
    ADDR_HOST_PORT, /* "127.0.0.1:8080", "[::1]:8080", "localhost:8080" */
    ADDR_UNIX,      /* "/run/hellod.sock" */
};

struct listen_addr {
    enum addr_kind kind;
    uint16_t port;
    char host[ADDR_HOST_MAX]; /* ADDR_HOST_PORT: without brackets */
    char path[ADDR_PATH_MAX]; /* ADDR_UNIX */
};

/* 0; -EINVAL when spec is none of the forms; -ERANGE for a port over 65535;
 * -ENAMETOOLONG for a host or a path that does not fit. */
int addr_parse(const char *spec, struct listen_addr *out);

/* Writes a listen_addr back as it would be written in the config. */
void addr_spec_format(const struct listen_addr *a, char *buf, size_t size);

/* An address range: "10.0.0.0/8", "2001:db8::/32", or one address. */
struct cidr {
    sa_family_t family; /* AF_INET or AF_INET6 */
    unsigned prefix;    /* bits that must match: 0..32 or 0..128 */
    unsigned char addr[16];
};

/* "ADDR" or "ADDR/BITS", IPv4 or IPv6 (no brackets); bits past the prefix
 * are cleared. 0, -EINVAL, or -ERANGE for a prefix too long. */
int addr_cidr_parse(const char *s, struct cidr *out);
void addr_cidr_format(const struct cidr *c, char *buf, size_t size);

/* Is sa (AF_INET, or AF_INET6 with IPv4-mapped addresses taken as IPv4) in c? */
bool addr_cidr_match(const struct cidr *c, const struct sockaddr *sa);

/* "127.0.0.1:8080", "[::1]:8080", "/run/hellod.sock", "unix" for an unnamed
 * UNIX peer; buf should hold ADDR_STRLEN bytes. */
void addr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t size);

#endif
