/* hold-kinds.c - a test client for tests/systemd: N connections to hellod of
 * every kind at once, held across restarts and upgrades of hellod.service,
 * and the check that none was closed and that each got the reply to every
 * message it sent exactly once, in order, in the greeting in force when it was
 * answered (issue 14's target; e2e.sh section 17, package.sh).
 *
 *   hold-kinds [-p PORT] [-n N] [-s STALLED] [-d DEPTH] [-P] GREETING...
 *
 * GREETING... are the greetings in the order they come into force, the first
 * the one in force now. The kinds, round robin (STALLED of them not reading):
 *   idle      one exchange, then nothing until the end;
 *   partial   one exchange, then "half a mess", finished at the end (hellod's
 *             message_timeout must outlast the run);
 *   pipeline  every tick (50 ms) DEPTH lines at once, then their replies;
 *   header    (with -P) half its PROXY header, the rest at the end (needs
 *             proxy_timeout = 0: only idle_timeout, which must outlast the run);
 *   stalled   one exchange, then lines until hellod stops reading them (it
 *             owes more replies than it holds for a connection: the client's
 *             bytes wait in the kernel), and more whenever hellod reads
 *             again; reads nothing until the end. "holding" waits until
 *             hellod's side of each has bytes unread (in /proc/net/tcp).
 * With -P every connection begins with a PROXY header, v1 and v2 in turn (as
 * hellod's proxy_protocol = any, with proxy_from the loopback, needs). Each
 * tick one more client connects, is answered and closes: the connection
 * attempts that must not fail while hellod restarts.
 *
 * Prints "holding N connections" once every one is open and answered, then a
 * progress line each second (replies per greeting). SIGUSR1 starts the end:
 * each connection finishes what it began, then sends "last" and a line over
 * max_message, and must get the last greeting, "ERROR message too long" and
 * a close. Prints one summary line per check and exits 0 when nothing was
 * wrong, 1 when something was, 2 on bad usage. Plain epoll and libc only: it
 * runs in a minimal Debian container. */
#define _GNU_SOURCE
#include "hold-kinds.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

static const char *const kind_name[KINDS] = {"idle", "mid-message", "pipelining",
                                             "mid-PROXY-header", "not reading"};

/* One line per check, as the tests print them; returns how many failed. */
static int report(const struct run *r)
{
    int bad = 0;
    uint64_t per[KINDS] = {0}, not_done[KINDS] = {0}, v2 = 0;
    for (int i = 0; i < r->n; i++) {
        per[r->c[i].kind]++;
        v2 += r->c[i].v2;
        not_done[r->c[i].kind] += r->c[i].phase != DONE && r->c[i].phase != CLOSED;
    }
    struct {
        const char *what;
        const uint64_t *by_kind;
    } checks[] = {
        {"closed before the end", r->closed},
        {"not finished within the end's limit", not_done},
        {"replies that are no greeting", r->unknown},
        {"replies in an older greeting after a newer one", r->disorder},
        {"replies more than the lines sent", r->extra},
        {"replies in a greeting not in force then", r->stale},
    };
    printf("connections: %d:", r->n);
    for (int k = 0; k < KINDS; k++)
        if (per[k])
            printf(" %llu %s", (unsigned long long)per[k], kind_name[k]);
    if (r->proxy)
        printf("; each after a PROXY header: %llu v1, %llu v2", (unsigned long long)(r->n - v2),
               (unsigned long long)v2);
    printf("\n");
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        uint64_t sum = 0;
        for (int k = 0; k < KINDS; k++)
            sum += checks[i].by_kind[k];
        printf("%s %s: %llu", sum ? "FAIL" : "ok", checks[i].what, (unsigned long long)sum);
        for (int k = 0; k < KINDS && sum; k++)
            if (checks[i].by_kind[k])
                printf(" (%llu %s)", (unsigned long long)checks[i].by_kind[k], kind_name[k]);
        printf("\n");
        bad += sum != 0;
    }
    bool every = true;
    for (int g = 0; g < r->n_greet; g++)
        every = every && r->by_greet[g] > 0;
    every = every && r->replies == r->sent;
    printf("%s replies: %llu of %llu lines sent, by greeting:", every ? "ok" : "FAIL",
           (unsigned long long)r->replies, (unsigned long long)r->sent);
    for (int g = 0; g < r->n_greet; g++)
        printf(" %llu", (unsigned long long)r->by_greet[g]);
    printf(" (each greeting answered some)\n");
    bad += !every;
    printf("%s connection attempts while held: %llu answered, %llu failed\n",
           r->churn_failed ? "FAIL" : "ok", (unsigned long long)r->churn_ok,
           (unsigned long long)r->churn_failed);
    bad += r->churn_failed != 0;
    printf("%s not reading: %d of %llu with bytes hellod had not read once all were held, "
           "before any restart (it owed them more replies than it holds); %llu lines sent\n",
           r->stalled_unread == (int)per[STALLED] ? "ok" : "FAIL", r->stalled_unread,
           (unsigned long long)per[STALLED], (unsigned long long)r->stall_lines);
    bad += r->stalled_unread != (int)per[STALLED];
    printf("info: pipelining: the longest gap between two replies %llu ms\n",
           (unsigned long long)(r->max_gap / 1000000));
    fflush(stdout);
    return bad;
}

/* How many STALLED connections' bytes hellod has not all read: their
 * server ends (local port PORT, remote the client's port) in /proc/net/tcp
 * and tcp6 (hellod on [::] takes IPv4 as mapped) with a receive queue. */
static int unread_by_hellod(const struct run *r)
{
    static uint8_t mine[65536 / 8];
    int n = 0;
    memset(mine, 0, sizeof mine);
    for (int i = 0; i < r->n; i++) {
        struct sockaddr_in a;
        socklen_t len = sizeof a;
        if (r->c[i].kind == STALLED && r->c[i].fd >= 0 &&
            getsockname(r->c[i].fd, (struct sockaddr *)&a, &len) == 0)
            mine[ntohs(a.sin_port) / 8] |= (uint8_t)(1u << (ntohs(a.sin_port) % 8));
    }
    const char *files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
    for (size_t f = 0; f < 2; f++) {
        FILE *fp = fopen(files[f], "r");
        char line[512], local[64], remote[64];
        unsigned tx, rx;
        while (fp && fgets(line, sizeof line, fp)) {
            if (sscanf(line, "%*s %63s %63s %*x %x:%x", local, remote, &tx, &rx) != 4)
                continue;
            unsigned lport = (unsigned)strtoul(strrchr(local, ':') + 1, NULL, 16);
            unsigned rport = (unsigned)strtoul(strrchr(remote, ':') + 1, NULL, 16);
            if (lport == (unsigned)r->port && (mine[rport / 8] >> (rport % 8) & 1) && rx > 0)
                n++;
        }
        if (fp)
            fclose(fp);
    }
    return n;
}

/* Once all are held, and before the test may restart hellod: hellod's side
 * of every STALLED one has bytes it has not read, checked again each 100 ms
 * for up to 10 s (a read of hellod's may just have emptied one). */
static void say_holding(struct run *r)
{
    uint64_t t = now_ns();
    if (r->scan_from == 0)
        r->scan_from = t;
    r->stalled_unread = unread_by_hellod(r);
    if (r->stalled_unread < r->n_stalled && t - r->scan_from < 10 * 1000000000ull) {
        r->scan_at = t + TICK_NS * 2;
        return;
    }
    r->said_holding = true;
    printf("holding %d connections\n", r->n);
    fflush(stdout);
}

static int setup(struct run *r)
{
    /* A descriptor each, and a few more; above the hard limit only as root. */
    struct rlimit rl;
    rlim_t need = (rlim_t)r->n + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
        rl.rlim_cur = need;
        rl.rlim_max = rl.rlim_max > need ? rl.rlim_max : need;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
            fprintf(stderr, "hold-kinds: %llu descriptors: %s\n", (unsigned long long)need,
                    strerror(errno));
            return -1;
        }
    }
    r->c = calloc((size_t)r->n, sizeof *r->c);
    r->ep = epoll_create1(EPOLL_CLOEXEC);
    if (!r->c || r->ep < 0) {
        perror("hold-kinds");
        return -1;
    }
    int kinds = r->proxy ? HEADER + 1 : HEADER;
    for (int i = 0; i < r->n; i++) {
        struct conn *c = &r->c[i];
        c->fd = -1;
        c->kind = (uint8_t)(i < r->n_stalled ? STALLED : (i - r->n_stalled) % kinds);
        prepare(r, c, (unsigned)i, (i / kinds) % 2);
    }
    r->churn.fd = -1;
    r->churn.churn = true;
    prepare(r, &r->churn, (unsigned)r->n, false);
    memcpy(r->final, "last\n", 5);
    memset(r->final + 5, '0', sizeof r->final - 6);
    r->final[sizeof r->final - 1] = '\n';
    for (size_t i = 0; i < sizeof r->stall; i += 2)
        memcpy(r->stall + i, "s\n", 2);
    r->left = r->n;
    return 0;
}

static int add_fd(struct run *r, int fd, void *tag)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = tag};
    return fd < 0 ? -1 : epoll_ctl(r->ep, EPOLL_CTL_ADD, fd, &ev);
}

static int loop(struct run *r)
{
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    int sig = signalfd(-1, &usr1, SFD_NONBLOCK | SFD_CLOEXEC);
    int tick = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct itimerspec its = {.it_interval.tv_nsec = TICK_NS, .it_value.tv_nsec = TICK_NS};
    static char sig_tag, tick_tag;
    if (add_fd(r, sig, &sig_tag) < 0 || add_fd(r, tick, &tick_tag) < 0 ||
        timerfd_settime(tick, 0, &its, NULL) < 0)
        return -1;
    open_next(r);
    uint64_t ticks = 0;
    while (!(r->ending && r->left == 0)) {
        struct epoll_event ev[256];
        int k = epoll_wait(r->ep, ev, 256, -1);
        for (int i = 0; i < k; i++) {
            if (ev[i].data.ptr == &sig_tag) {
                struct signalfd_siginfo si;
                while (read(sig, &si, sizeof si) == sizeof si)
                    r->end_asked = true;
            } else if (ev[i].data.ptr == &tick_tag) {
                uint64_t n;
                if (read(tick, &n, sizeof n) == sizeof n)
                    on_tick(r, ticks += n);
            } else {
                on_event(r, ev[i].data.ptr, ev[i].events);
            }
        }
        if (r->holding && !r->said_holding && now_ns() >= r->scan_at)
            say_holding(r);
        if (r->end_asked && r->holding && !r->ending)
            begin_end(r);
        if (r->ending && now_ns() > r->end_deadline)
            break;
    }
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: hold-kinds [-p PORT] [-n N] [-s STALLED] [-d DEPTH] [-P] "
                    "GREETING...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static struct run r = {.port = 8080, .n = 10000, .n_stalled = 100, .depth = 8};
    int opt;
    while ((opt = getopt(argc, argv, "p:n:s:d:P")) != -1) {
        switch (opt) {
        case 'p':
            r.port = atoi(optarg);
            break;
        case 'n':
            r.n = atoi(optarg);
            break;
        case 's':
            r.n_stalled = atoi(optarg);
            break;
        case 'd':
            r.depth = atoi(optarg);
            break;
        case 'P':
            r.proxy = true;
            break;
        default:
            usage();
        }
    }
    r.n_greet = argc - optind;
    if (r.n < 1 || r.n_stalled < 0 || r.n_stalled > r.n || r.depth < 1 || r.depth > 16 ||
        r.n_greet < 1 || r.n_greet > GREETINGS_MAX || r.port < 1 || r.port > 65535)
        usage();
    for (int g = 0; g < r.n_greet; g++) {
        r.greet[g] = argv[optind + g];
        r.greet_len[g] = strlen(r.greet[g]);
    }
    if (setup(&r) < 0)
        return 1;
    if (loop(&r) < 0) {
        perror("hold-kinds");
        return 1;
    }
    return report(&r) ? 1 : 0;
}
