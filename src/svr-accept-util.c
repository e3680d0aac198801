/* svr-accept-util.c - the pause after EMFILE and a client's name in a log
 * line, shared by every listener of hellod (the accept batch is inline, in
 * the header). */
#include "config.h"

#include "svr-accept-util.h"

#include <errno.h>

#include "addr.h"

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
