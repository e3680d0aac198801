/* notify.c - sd_notify(3)'s protocol over a socket kept open from the start. */
#include "config.h"

#include "notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

/* Every assignment hellod sends fits with room to spare. */
#define NOTIFY_MAX 512

int notifier_open(struct notifier *n)
{
    const char *e = getenv("NOTIFY_SOCKET");
    size_t len;

    *n = (struct notifier){.fd = -1, .sa = {.sun_family = AF_UNIX}};
    if (!e || !*e)
        return 0;
    len = strlen(e);
    if ((e[0] != '/' && e[0] != '@') || len < 2 || len > sizeof n->sa.sun_path) {
        n->fallback = true; /* vsock:, or something libsystemd will judge */
        return 0;
    }
    if (len == sizeof n->sa.sun_path && e[0] == '/')
        return -ENAMETOOLONG; /* a path needs its NUL */
    memcpy(n->sa.sun_path, e, len);
    if (e[0] == '@')
        n->sa.sun_path[0] = '\0'; /* abstract: the name is the bytes after it, no NUL */
    n->sa_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (e[0] == '/'));
    /* Blocking, as sd_notify()'s own: a full queue at the receiver waits
     * for room rather than drop a READY=1. */
    n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    return n->fd < 0 ? -errno : 0;
}

bool notifier_enabled(const struct notifier *n)
{
    return n->fd >= 0 || n->fallback;
}

int notifier_send(const struct notifier *n, const char *text)
{
    /* The sender's credentials go with every datagram on their own: the
     * service manager asks for them with SO_PASSCRED on its socket. */
    if (n->fallback)
        return sd_notify(0, text);
    if (n->fd < 0)
        return 0;
    if (sendto(n->fd, text, strlen(text), MSG_NOSIGNAL, (const struct sockaddr *)&n->sa,
               n->sa_len) < 0)
        return -errno;
    return 0;
}

int notifier_sendf(const struct notifier *n, const char *fmt, ...)
{
    char text[NOTIFY_MAX];
    va_list ap;
    int len;

    va_start(ap, fmt);
    len = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= sizeof text)
        return -EMSGSIZE;
    return notifier_send(n, text);
}

void notifier_close(struct notifier *n)
{
    if (n->fd >= 0)
        close(n->fd);
    n->fd = -1;
}
