/* svr-carrier.c - descriptors carried in the queue of one datagram socket.
 *
 * A SOCK_SEQPACKET pair: each message's descriptors stay one message, and
 * a hellod from before the carrier, handed it under the name of a connection
 * (a downgrade), drops it as "not a stream socket" and starts, closing those
 * connections, rather than refusing to start. Its stored end reports a
 * hang-up once the stopping hellod closes the other: it is stored with
 * FDPOLL=0, or systemd would drop it. The descriptors in the queue count
 * against the sender's RLIMIT_NOFILE (SCM_RIGHTS in flight). */
#include "config.h"

#include "svr-carrier.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int carrier_open(int pair[2])
{
    int big = 1 << 30;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
        return -errno;
    /* Each message in the queue counts against the writer's send buffer:
     * ask for the most the kernel allows (net.core.wmem_max); once it is
     * full, the store takes the rest (svr-handover.c). */
    (void)setsockopt(pair[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    return 0;
}

int carrier_send(int fd, const int *fds, unsigned n)
{
    union {
        char buf[CMSG_SPACE(CARRIER_BATCH * sizeof(int))];
        struct cmsghdr align;
    } ctl;
    char byte = 'C';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    struct cmsghdr *cm;

    if (n == 0 || n > CARRIER_BATCH)
        return -EINVAL;
    memset(&ctl, 0, sizeof ctl);
    msg.msg_control = ctl.buf;
    msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
    cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(n * sizeof(int));
    memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
    for (;;) {
        if (sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) == 1)
            return 0;
        if (errno != EINTR)
            return -errno;
    }
}

static int append(struct stored_fd **list, size_t *n, size_t *cap, int fd)
{
    struct stat st;

    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 512;
        struct stored_fd *l = realloc(*list, c * sizeof *l);
        if (!l)
            return -ENOMEM;
        *list = l;
        *cap = c;
    }
    if (fstat(fd, &st) < 0)
        return -errno;
    (*list)[(*n)++] = (struct stored_fd){fd, S_ISSOCK(st.st_mode) ? STORED_CONN : STORED_BLOB};
    return 0;
}

int carrier_drain(int fd, struct stored_fd **list, size_t *n, size_t *cap)
{
    union {
        char buf[CMSG_SPACE(CARRIER_BATCH * sizeof(int))];
        struct cmsghdr align;
    } ctl;
    int r = 0;

    for (;;) {
        char byte;
        struct iovec iov = {.iov_base = &byte, .iov_len = 1};
        struct msghdr msg = {.msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = ctl.buf,
                             .msg_controllen = sizeof ctl.buf};
        ssize_t got = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return errno == EAGAIN ? r : -errno;
        if (got == 0)
            return r; /* every message read, and the writer gone: the end */
        if (msg.msg_flags & MSG_CTRUNC)
            r = -EMSGSIZE; /* over our descriptor limit: those are lost */
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
            const unsigned char *p = CMSG_DATA(cm);
            size_t k;

            if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                continue;
            k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < k; i++) {
                int one;

                memcpy(&one, p + i * sizeof(int), sizeof one);
                if (append(list, n, cap, one) < 0) {
                    close(one);
                    r = -ENOMEM;
                }
            }
        }
    }
}
