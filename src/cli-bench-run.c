/* cli-bench-run.c - hello-cli bench's run: one epoll loop over many
 * non-blocking connections, with every buffer allocated before the first
 * connect. It owns the loop, its clock and signals, the address and the
 * descriptor limit; what a slot does on an event is its mode's
 * (cli-bench-persistent.c, cli-bench-connect.c, cli-bench-hold.c). */
#include "config.h"

#include "cli-bench-slot.h"

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <unistd.h>

#define EVENTS_MAX 512
#define BATCH_MAX  (16u * 1024 * 1024) /* bytes of one pipelined batch */
#define FD_RESERVE 16

static const struct bench_mode_ops *const modes[] = {
    [BENCH_PERSISTENT] = &bench_persistent,
    [BENCH_CONNECT] = &bench_connect,
    [BENCH_HOLD] = &bench_hold,
};

static volatile sig_atomic_t interrupted; /* SIGINT, SIGTERM: report what was counted */
static volatile sig_atomic_t proceed;     /* SIGUSR1: --hold answers now */

static void on_signal(int signo)
{
    if (signo == SIGUSR1)
        proceed = 1;
    else
        interrupted = 1;
}

static void run_retries(struct bench *b, uint64_t now)
{
    struct retry_queue *q = &b->retry;

    while (q->len > 0 && q->at[q->head] <= now && b->phase != PHASE_DONE) {
        struct slot *s = &b->slots[q->slot[q->head]];

        q->head = (q->head + 1) % q->cap;
        q->len--;
        if (s->state != SLOT_RETRY)
            continue;
        s->state = SLOT_IDLE;
        if (b->phase != PHASE_RUN)
            continue; /* --hold: too late to connect */
        b->mode->start(b, s);
    }
    if (b->mode->after_retries)
        b->mode->after_retries(b);
}

/* Whether the run is over, and the longest wait until something is due. */
static int next_wait(struct bench *b, uint64_t now)
{
    uint64_t due = UINT64_MAX, stall = (uint64_t)(unsigned)b->o->timeout_ms * NSEC_PER_MSEC;

    if (interrupted)
        b->phase = PHASE_DONE;
    if (b->phase == PHASE_RUN && b->deadline && now >= b->deadline)
        b->phase = PHASE_DONE;
    b->proceed = proceed;
    b->mode->advance(b, now);
    if (b->phase == PHASE_DONE)
        return -1;
    if (b->phase != PHASE_IDLE && now > b->last_progress && now - b->last_progress >= stall) {
        bench_stop_failed(b, b->ever_connected ? CLI_TIMED_OUT : CLI_CONNECT_FAILED, ETIMEDOUT);
        return -1;
    }
    if (b->phase != PHASE_IDLE)
        due = b->last_progress + stall;
    if (b->phase == PHASE_RUN && b->deadline && b->deadline < due)
        due = b->deadline;
    if (b->phase == PHASE_IDLE && b->phase_end < due)
        due = b->phase_end;
    if (b->retry.len > 0 && b->retry.at[b->retry.head] < due)
        due = b->retry.at[b->retry.head];
    if (due <= now)
        return 0;
    return (int)((due - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
}

/* Signals are taken only while waiting, so that none slips in between the
 * look at the flags and the wait. */
static void loop(struct bench *b, const sigset_t *wait_mask)
{
    static struct epoll_event events[EVENTS_MAX];

    for (;;) {
        uint64_t now = now_ns();
        int wait, n;

        run_retries(b, now);
        wait = next_wait(b, now);
        if (wait < 0)
            return;
        n = epoll_pwait(b->ep, events, EVENTS_MAX, wait, wait_mask);
        if (n < 0 && errno != EINTR) {
            bench_stop_failed(b, CLI_SOCKET_FAILED, errno);
            return;
        }
        for (int i = 0; i < n && b->phase != PHASE_DONE; i++)
            b->mode->on_event(b, &b->slots[events[i].data.u32], events[i].events);
    }
}

/* Says in res why the run could not start; returns -error. */
static int setup_failed(struct bench_result *res, enum cli_status status, int error)
{
    res->status = status;
    res->error = error;
    return -error;
}

/* The address every connection goes to: the one given, resolved once. When
 * a name stands for several addresses, the first that accepts a connection
 * (tried as hello-cli does) is the one. */
static int resolve(struct bench *b, struct bench_result *res)
{
    const struct cli_target *t = &b->o->target;
    struct addrinfo hints = {
        .ai_family = t->family, .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
    struct addrinfo *ai;
    struct cli_result cr;
    int fd;

    if (t->unix_path) {
        struct sockaddr_un *un = (struct sockaddr_un *)&b->addr;
        if (strlen(t->unix_path) >= sizeof un->sun_path)
            return setup_failed(res, CLI_CONNECT_FAILED, ENAMETOOLONG);
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, t->unix_path);
        b->addr_len = sizeof *un;
        return 0;
    }
    res->gai_error = getaddrinfo(t->host, t->port, &hints, &ai);
    if (res->gai_error != 0) {
        int error = res->gai_error == EAI_SYSTEM ? errno : ENOENT;
        if (res->gai_error == EAI_SYSTEM)
            res->gai_error = 0;
        return setup_failed(res, CLI_CONNECT_FAILED, error);
    }
    if (!ai->ai_next && ai->ai_addrlen <= sizeof b->addr) {
        memcpy(&b->addr, ai->ai_addr, ai->ai_addrlen);
        b->addr_len = ai->ai_addrlen;
        freeaddrinfo(ai);
        return 0;
    }
    freeaddrinfo(ai);
    fd = cli_connect(t, b->o->timeout_ms, &cr);
    if (fd < 0) {
        res->gai_error = cr.gai_error;
        setup_failed(res, cr.status, cr.error);
        return fd;
    }
    b->addr_len = sizeof b->addr;
    if (getpeername(fd, (struct sockaddr *)&b->addr, &b->addr_len) < 0)
        setup_failed(res, CLI_CONNECT_FAILED, errno);
    close(fd);
    return res->status == CLI_DONE ? 0 : -res->error;
}

/* Every connection is a descriptor: take all this process may have. */
static int ensure_fd_limit(uint32_t need, struct bench_result *res)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && (uint64_t)need + FD_RESERVE > rl.rlim_cur) {
        res->fd_limit = (uint64_t)rl.rlim_cur;
        return setup_failed(res, CLI_SOCKET_FAILED, EMFILE);
    }
    return 0;
}

static int setup(struct bench *b)
{
    const struct bench_options *o = b->o;
    uint32_t copies = bench_pipeline(o);
    size_t len = strlen(o->message) + 1;
    int r;

    if (len * copies > BATCH_MAX)
        return setup_failed(b->res, CLI_SOCKET_FAILED, E2BIG);
    b->n_slots = bench_connections(o);
    r = ensure_fd_limit(b->n_slots, b->res);
    if (r < 0)
        return r;
    r = resolve(b, b->res);
    if (r < 0)
        return r;
    b->line_len = (uint32_t)len;
    b->batch = malloc(len * copies);
    b->slots = calloc(b->n_slots, sizeof *b->slots);
    b->retry.slot = calloc(b->n_slots, sizeof *b->retry.slot);
    b->retry.at = calloc(b->n_slots, sizeof *b->retry.at);
    b->retry.cap = b->n_slots;
    b->ep = epoll_create1(EPOLL_CLOEXEC);
    if (!b->batch || !b->slots || !b->retry.slot || !b->retry.at || b->ep < 0)
        return setup_failed(b->res, CLI_SOCKET_FAILED, b->ep < 0 ? errno : ENOMEM);
    for (uint32_t i = 0; i < copies; i++) {
        memcpy(b->batch + i * len, o->message, len - 1);
        b->batch[i * len + len - 1] = '\n';
    }
    for (uint32_t i = 0; i < b->n_slots; i++)
        b->slots[i].fd = -1;
    return 0;
}

static void teardown(struct bench *b)
{
    for (uint32_t i = 0; b->slots && i < b->n_slots; i++)
        if (b->slots[i].fd >= 0)
            close(b->slots[i].fd);
    if (b->ep >= 0)
        close(b->ep);
    free(b->slots);
    free(b->retry.slot);
    free(b->retry.at);
    free(b->batch);
}

int cli_bench_run(const struct bench_options *opts, struct bench_result *res)
{
    struct bench b = {.o = opts, .mode = modes[opts->mode], .res = res, .ep = -1};
    struct sigaction sa = {.sa_handler = on_signal};
    sigset_t mask, old_mask;
    uint64_t end;
    int r;

    memset(res, 0, sizeof *res);
    res->status = CLI_DONE;
    hist_init(&res->latency);
    r = setup(&b);
    if (r < 0) {
        teardown(&b);
        return r;
    }
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGUSR1);
    sigprocmask(SIG_BLOCK, &mask, &old_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    b.budget = opts->messages ? opts->messages : UINT64_MAX; /* --hold has no -n */
    b.start = now_ns();
    b.last_progress = b.start;
    b.mode->begin(&b);
    loop(&b, &old_mask);
    end = now_ns();
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    res->elapsed_us = (end - b.start) / NSEC_PER_USEC;
    if (b.mode->finish)
        b.mode->finish(&b);
    teardown(&b);
    return res->status == CLI_DONE ? 0 : -res->error;
}
