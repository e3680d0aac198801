/* notify.h - the service manager's notify socket ($NOTIFY_SOCKET, see
 * sd_notify(3)): one datagram socket, opened at start and kept, so that a
 * shortage of descriptors later cannot silence READY=, STATUS= or WATCHDOG=.
 * libsystemd's sd_notify() opens a new socket for every message (socket(2)
 * then sendmsg(2), in sd_pid_notify_with_fds()); at EMFILE that socket(2)
 * fails, WATCHDOG=1 stops, and the watchdog kills a process that was doing
 * its job. libsystemd offers no call that sends through a socket kept open,
 * hence this module; an address it does not know (vsock: of systemd 253 and
 * later) falls back to sd_notify() itself. */
#ifndef HELLO_NOTIFY_H
#define HELLO_NOTIFY_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>

struct notifier {
    int fd;                /* -1: no notify socket, or sd_notify() does the sending */
    bool fallback;         /* $NOTIFY_SOCKET is set, in a form left to sd_notify() */
    struct sockaddr_un sa; /* where datagrams go */
    socklen_t sa_len;
};

/* Reads $NOTIFY_SOCKET (a path, or @ for an abstract name) and opens the
 * socket. 0 (also when the variable is unset: then sending does nothing),
 * or a negative errno. */
int notifier_open(struct notifier *n);

/* Is a service manager listening? */
bool notifier_enabled(const struct notifier *n);

/* Sends one datagram of newline-separated assignments, as sd_notify() does
 * (waiting, as it does, while the receiver's queue is full); 0 or a
 * negative errno. */
int notifier_send(const struct notifier *n, const char *text);
int notifier_sendf(const struct notifier *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void notifier_close(struct notifier *n);

#endif
