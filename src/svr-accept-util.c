/* svr-accept-util.c - the accept batch, the pause after EMFILE, and a
 * client's name in a log line, shared by every listener of hellod. */
#include "config.h"

#include "svr-accept-util.h"

#include <errno.h>

#include "addr.h"

int accept_batch(int listen_fd, unsigned max, accept_client_fn take, void *userdata)
{
    for (unsigned i = 0; i < max; i++) {
        struct sockaddr_storage peer = {0};
        socklen_t len = sizeof peer;
        int fd = accept4(listen_fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd >= 0) {
            take(fd, (const struct sockaddr *)&peer, len, userdata);
            continue;
        }
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM ||
            errno == EAGAIN)
            return -errno;
        /* ECONNABORTED and the like: that client gave up; EINTR: again */
    }
    return 0;
}

bool accept_pause_begin(struct accept_pause *p, uint64_t now)
{
    bool say = p->logged == 0 || now >= p->logged + ACCEPT_PAUSE_LOG_EVERY;

    if (say)
        p->logged = now;
    p->paused = true;
    p->until = now + ACCEPT_PAUSE_USEC;
    return say;
}

void accept_pause_end(struct accept_pause *p)
{
    p->paused = false;
    p->until = UINT64_MAX;
}

void accept_log_client(const struct logger *log, int prio, const char *prefix,
                       const struct sockaddr *peer, socklen_t peer_len, const char *what)
{
    char name[ADDR_STRLEN];

    if (prio > log->max_level)
        return;
    addr_format(peer, peer_len, name, sizeof name);
    log_peer(log, prio, name, "%s%s: %s", prefix, name, what);
}
