/* svr-storesize.c - the descriptor store's size at a stop, as systemd has it.
 *
 * $FDSTORE comes from the unit's Environment= (systemd 252 sets none), which
 * also wins over the value systemd 254 sets itself: a drop-in that changes
 * only FileDescriptorStoreMax= leaves it stale, and a handover into a store
 * smaller than hellod counts with loses, silently, what does not fit. The
 * unit's ExecStop= (as root, before the SIGTERM) asks systemd for the real
 * size and leaves it here. */
#include "config.h"

#include "svr-storesize.h"

#include "parse.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEY "FileDescriptorStoreMax="

int store_size_parse(const char *text, size_t len, long *n)
{
    size_t k = sizeof KEY - 1;
    char value[64];
    uint64_t v;
    int r;

    if (len > 0 && text[len - 1] == '\n')
        len--;
    if (len <= k || len - k >= sizeof value || memcmp(text, KEY, k) != 0 || memchr(text, '\0', len))
        return -EINVAL;
    memcpy(value, text + k, len - k);
    value[len - k] = '\0';
    r = parse_uint(value, 0, STORE_SIZE_MAX, &v);
    if (r == 0)
        *n = (long)v;
    return r;
}

int store_size_read(long *n)
{
    const char *dir = getenv("RUNTIME_DIRECTORY");
    char path[PATH_MAX], buf[64];
    ssize_t got;
    int fd, r;

    if (!dir || strchr(dir, ':') || /* several directories: not ours */
        snprintf(path, sizeof path, "%s/" STORE_SIZE_FILE, dir) >= (int)sizeof path)
        return -ENOENT;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    got = read(fd, buf, sizeof buf); /* a longer file is no value of ours */
    r = got < 0 ? -errno : store_size_parse(buf, (size_t)got, n);
    close(fd);
    unlink(path);
    return r;
}

void store_size_at_stop(struct handover *h, const struct logger *log)
{
    char env[32];
    long n;
    int r;

    if (!h->managed)
        return; /* no service manager to store anything in */
    if (h->fdstore < 0)
        snprintf(env, sizeof env, "unset");
    else
        snprintf(env, sizeof env, "%ld", h->fdstore);
    r = store_size_read(&n);
    if (r == -ENOENT)
        return; /* a SIGTERM by hand: no ExecStop= ran, $FDSTORE it is */
    if (r < 0) {
        log_warn(log,
                 "cannot read the descriptor store's size that ExecStop= left in "
                 "$RUNTIME_DIRECTORY/" STORE_SIZE_FILE ": %s; counting with $FDSTORE=%s",
                 strerror(-r), env);
        return;
    }
    if (n == h->fdstore)
        return;
    handover_set_store(h, n);
    log_info(log,
             "the service manager's descriptor store has FileDescriptorStoreMax=%ld, not "
             "$FDSTORE=%s: %s",
             n, env,
             n == 0   ? "no descriptor store: answering the clients, then closing"
             : n == 1 ? "too small for a handover (it takes 2): answering the clients, then closing"
                      : "handing over what fits");
}
