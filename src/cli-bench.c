/* cli-bench.c - `hello-cli bench`: one epoll loop over many non-blocking
 * connections, with every buffer allocated before the first connect.
 *
 * Each connection is a slot. Persistent slots (the default) write PIPELINE
 * copies of the message in one write, wait for every reply, and write the
 * next batch, as redis-benchmark -P does. One-shot slots (--connect) connect,
 * write one message, read one reply line and close, then start over. Held
 * slots (--hold) connect, stay idle, and are then sent one message each.
 * Replies are counted by their LF; a reply that begins with ERROR (hellod,
 * memcached) or -ERR (redis) counts as an error as well. */
#include "config.h"

#include "cli-bench.h"

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli-options.h"
#include "parse.h"

#define MESSAGES_MAX    1000000000000ULL
#define EVENTS_MAX      512
#define RBUF_SIZE       (64 * 1024)
#define BATCH_MAX       (16u * 1024 * 1024) /* bytes of one pipelined batch */
#define RETRY_NSEC      1000000ULL          /* a failed connect is tried again after 1 ms */
#define READS_PER_EVENT 16                  /* one-shot slots read at most 1 MiB per wakeup */
#define WRITES_PER_CALL 4
#define HEAD_MAX        5 /* bytes of a reply kept to spot ERROR or -ERR */
#define FD_RESERVE      16
#define NSEC_PER_USEC   1000ULL
#define NSEC_PER_MSEC   1000000ULL

/* --- the command line ------------------------------------------------------ */

static const char short_options[] = ":c:P:d:n:H:p:U:46t:h";

enum {
    OPT_CONNECT = 256,
    OPT_HOLD,
    OPT_MESSAGE,
    OPT_JSON,
};

static const struct option long_options[] = {
    {"connections", required_argument, NULL, 'c'},
    {"pipeline", required_argument, NULL, 'P'},
    {"duration", required_argument, NULL, 'd'},
    {"messages", required_argument, NULL, 'n'},
    {"host", required_argument, NULL, 'H'},
    {"port", required_argument, NULL, 'p'},
    {"unix", required_argument, NULL, 'U'},
    {"timeout", required_argument, NULL, 't'},
    {"connect", no_argument, NULL, OPT_CONNECT},
    {"hold", required_argument, NULL, OPT_HOLD},
    {"message", required_argument, NULL, OPT_MESSAGE},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* What the user typed that mattered, for the checks that span options. */
struct seen {
    bool port, unix_path, host, v4, v6, pipeline, messages, duration, connect, hold;
};

static int option_error(int c, char **argv, char *msg, size_t size)
{
    const char *arg = argv[optind - 1];
    bool is_long = strncmp(arg, "--", 2) == 0;

    if (c == ':' && is_long)
        return cli_fail(msg, size, "option '%s' requires an argument", arg);
    if (c == ':')
        return cli_fail(msg, size, "option requires an argument -- '%c'", optopt);
    if (optopt >= OPT_CONNECT || (optopt != 0 && is_long))
        return cli_fail(msg, size, "option '%.*s' doesn't allow an argument",
                        (int)strcspn(arg, "="), arg);
    if (optopt != 0)
        return cli_fail(msg, size, "invalid option -- '%c'", optopt);
    return cli_fail(msg, size, "unrecognized option '%s'", arg);
}

static int parse_count(const char *s, const char *what, uint64_t max, uint64_t *out, char *msg,
                       size_t size)
{
    if (parse_uint(s, 1, max, out) < 0)
        return cli_fail(msg, size, "invalid %s '%s' (1..%llu)", what, s, (unsigned long long)max);
    return 0;
}

static int parse_u32(const char *s, const char *what, uint32_t max, uint32_t *out, char *msg,
                     size_t size)
{
    uint64_t v;
    int r = parse_count(s, what, max, &v, msg, size);

    *out = (uint32_t)v;
    return r;
}

static int parse_time(const char *s, const char *what, uint64_t *usec, char *msg, size_t size)
{
    int r = parse_duration(s, DURATION_MAX, usec);

    if (r == -ERANGE)
        return cli_fail(msg, size, "invalid %s '%s' (at most 24h)", what, s);
    if (r < 0)
        return cli_fail(msg, size, "invalid %s '%s' (a duration: 10s, 500ms, 1min)", what, s);
    return 0;
}

static int parse_message(const char *s, struct bench_options *o, char *msg, size_t size)
{
    if (strchr(s, '\n'))
        return cli_fail(msg, size, "the message cannot contain a newline");
    if (strlen(s) > BENCH_MAX_MESSAGE)
        return cli_fail(msg, size, "the message is longer than %d bytes", BENCH_MAX_MESSAGE);
    o->message = s;
    return 0;
}

static int parse_option(int c, char **argv, struct bench_options *o, struct seen *seen, char *msg,
                        size_t size)
{
    uint64_t v;
    int r;

    switch (c) {
    case 'c':
        return parse_u32(optarg, "number of connections", BENCH_MAX_CONNECTIONS, &o->connections,
                         msg, size);
    case 'P':
        seen->pipeline = true;
        return parse_u32(optarg, "pipeline", BENCH_MAX_PIPELINE, &o->pipeline, msg, size);
    case 'd':
        seen->duration = true;
        return parse_time(optarg, "duration", &o->duration_us, msg, size);
    case 'n':
        seen->messages = true;
        return parse_count(optarg, "number of messages", MESSAGES_MAX, &o->messages, msg, size);
    case 'H':
        seen->host = true;
        o->target.host = optarg;
        return 0;
    case 'p':
        seen->port = true;
        o->target.port = optarg;
        return parse_count(optarg, "port", 65535, &v, msg, size);
    case 'U':
        seen->unix_path = true;
        o->target.unix_path = optarg;
        return 0;
    case '4':
        seen->v4 = true;
        o->target.family = AF_INET;
        return 0;
    case '6':
        seen->v6 = true;
        o->target.family = AF_INET6;
        return 0;
    case 't':
        r = parse_time(optarg, "timeout", &v, msg, size);
        if (r == 0 && v == 0)
            return cli_fail(msg, size, "invalid timeout '%s' (bench needs one above 0)", optarg);
        o->timeout_ms = (int)((v + USEC_PER_MSEC - 1) / USEC_PER_MSEC);
        return r;
    case OPT_CONNECT:
        seen->connect = true;
        o->mode = BENCH_CONNECT;
        return 0;
    case OPT_HOLD:
        seen->hold = true;
        o->mode = BENCH_HOLD;
        return parse_u32(optarg, "number of connections to hold", BENCH_MAX_CONNECTIONS, &o->hold,
                         msg, size);
    case OPT_MESSAGE:
        return parse_message(optarg, o, msg, size);
    case OPT_JSON:
        o->json = true;
        return 0;
    case 'h':
        o->action = BENCH_HELP;
        return 0;
    default:
        return option_error(c, argv, msg, size);
    }
}

static int check_options(const struct seen *s, struct bench_options *o, char *msg, size_t size)
{
    static const char *const target_conflict = "-%s and -%s cannot be used together";

    if (s->port && s->unix_path)
        return cli_fail(msg, size, target_conflict, "p", "U");
    if (s->host && s->unix_path)
        return cli_fail(msg, size, target_conflict, "H", "U");
    if (s->v4 && s->v6)
        return cli_fail(msg, size, target_conflict, "4", "6");
    if ((s->v4 || s->v6) && s->unix_path)
        return cli_fail(msg, size, target_conflict, s->v4 ? "4" : "6", "U");
    if (s->connect && s->hold)
        return cli_fail(msg, size, "--connect and --hold cannot be used together");
    if (s->connect && o->pipeline > 1)
        return cli_fail(msg, size, "--connect sends one message per connection: no -P");
    if (s->hold && (s->pipeline || s->messages))
        return cli_fail(msg, size, "--hold sends one message per connection: no -P or -n");
    /* -n alone runs until that many replies; -d 0 is only allowed beside it. */
    if (s->messages && !s->duration)
        o->duration_us = 0;
    if (o->duration_us == 0 && !s->messages && !s->hold)
        return cli_fail(msg, size, "a duration of 0 needs -n MESSAGES");
    if (!o->target.unix_path) {
        if (!o->target.host)
            o->target.host = CLI_DEFAULT_HOST;
        if (!o->target.port)
            o->target.port = CLI_DEFAULT_PORT;
    }
    return 0;
}

int cli_bench_parse(int argc, char **argv, struct bench_options *opts, char *msg, size_t size)
{
    struct seen seen = {false};
    int c, r;

    *opts = (struct bench_options){
        .action = BENCH_RUN,
        .mode = BENCH_PERSISTENT,
        .target.family = AF_UNSPEC,
        .connections = BENCH_DEFAULT_CONNECTIONS,
        .pipeline = BENCH_DEFAULT_PIPELINE,
        .duration_us = BENCH_DEFAULT_DURATION_US,
        .message = CLI_DEFAULT_MESSAGE,
        .timeout_ms = CLI_DEFAULT_TIMEOUT_MS,
    };
    msg[0] = '\0';
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
        r = parse_option(c, argv, opts, &seen, msg, size);
        if (r < 0)
            return r;
        if (opts->action == BENCH_HELP)
            return 0;
    }
    if (optind < argc)
        return cli_fail(msg, size, "unexpected argument '%s' (the message goes in --message)",
                        argv[optind]);
    return check_options(&seen, opts, msg, size);
}

void cli_bench_help(FILE *out)
{
    fputs("Usage: hello-cli bench [OPTION]...\n"
          "Load a line server (hellod; redis-server with --message PING; memcached with\n"
          "--message version) from many connections in one event loop, and report\n"
          "replies per second, latency percentiles, errors and failed connects.\n"
          "\n"
          "  -c, --connections=N    N connections at once (default 50)\n"
          "  -P, --pipeline=N       messages in flight per connection: each batch of N is\n"
          "                         written at once, and the next once all are answered\n"
          "                         (default 1)\n"
          "  -d, --duration=TIME    stop after TIME (default 10s; us, ms, s, min, h)\n"
          "  -n, --messages=N       stop after N replies (then no time limit unless -d)\n"
          "      --connect          a new connection per message: connect, send one line,\n"
          "                         read one reply line, close; -c of them at once\n"
          "      --hold=N           open N connections (-c connects at a time), keep them\n"
          "                         idle for the duration, then send one message on each\n"
          "                         and count the replies; SIGUSR1 ends the idle time\n"
          "      --message=TEXT     send TEXT and a LF (default \"" CLI_DEFAULT_MESSAGE "\")\n"
          "      --json             print one JSON line instead of the report\n"
          "  -H, --host=HOST        connect to HOST (default " CLI_DEFAULT_HOST ")\n"
          "  -p, --port=PORT        connect to TCP port PORT (default " CLI_DEFAULT_PORT ")\n"
          "  -U, --unix=PATH        connect to the UNIX socket PATH instead\n"
          "  -4, -6                 use IPv4 or IPv6 only\n"
          "  -t, --timeout=TIME     give up when nothing happens for TIME (default 10s)\n"
          "  -h, --help             print this help and exit\n"
          "\n"
          "Every reply line counts; one that begins with ERROR or -ERR is an error too.\n"
          "Latency runs from the write of a batch (from the connect with --connect) to\n"
          "each reply. Only the address given is ever connected to.\n"
          "Exit status: 0 every reply came and none was an error; 1 error replies,\n"
          "replies missing, connections closed by the server while it owed replies,\n"
          "connects that failed after one had worked, or a socket that failed; 2 bad\n"
          "usage; 3 could not connect at all, or too few descriptors for the\n"
          "connections asked for; 4 nothing happened for the timeout.\n",
          out);
}

/* --- the run --------------------------------------------------------------- */

enum slot_state {
    SLOT_IDLE,       /* no connection, none wanted now */
    SLOT_RETRY,      /* waiting in the retry queue */
    SLOT_CONNECTING, /* connect() under way */
    SLOT_OPEN,
};

/* One connection; 40 bytes, allocated with the others before the run. */
struct slot {
    int fd;
    uint8_t state;
    uint8_t head_len; /* bytes of the current reply line seen, up to HEAD_MAX */
    bool want_out;    /* EPOLLOUT is asked for (level-triggered slots) */
    char head[HEAD_MAX];
    uint32_t inflight;         /* messages written, or being written, and not answered */
    uint32_t out_off, out_end; /* what of the batch buffer is still to write */
    uint64_t t_start;          /* ns: when the batch was written, or the connect began */
};

/* Slots whose connect failed, in the order they may try again. */
struct retry_queue {
    uint32_t *slot;
    uint64_t *at;
    uint32_t head, len, cap;
};

enum phase {
    PHASE_RUN,    /* the load, or --hold's connecting */
    PHASE_IDLE,   /* --hold: every connection open, waiting */
    PHASE_ANSWER, /* --hold: one message sent on each, waiting for the replies */
    PHASE_DONE,
};

struct bench {
    const struct bench_options *o;
    struct bench_result *res;
    int ep;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    struct slot *slots;
    uint32_t n_slots;
    char *batch; /* pipeline copies of the message and its LF */
    uint32_t line_len;
    enum phase phase;
    uint64_t start, deadline, phase_end, last_progress; /* ns, monotonic; 0: none */
    uint64_t budget;      /* messages left to send (-n), or UINT64_MAX */
    uint64_t outstanding; /* the sum of every slot's inflight */
    uint32_t n_open, n_connecting, next_hold;
    bool ever_connected;
    struct retry_queue retry;
};

static char rbuf[RBUF_SIZE];
static volatile sig_atomic_t interrupted; /* SIGINT, SIGTERM: report what was counted */
static volatile sig_atomic_t proceed;     /* SIGUSR1: --hold answers now */

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void on_signal(int signo)
{
    if (signo == SIGUSR1)
        proceed = 1;
    else
        interrupted = 1;
}

static uint32_t slot_index(const struct bench *b, const struct slot *s)
{
    return (uint32_t)(s - b->slots);
}

/* Ends the run on an error that leaves nothing to measure. */
static void stop_failed(struct bench *b, enum cli_status status, int error)
{
    if (b->res->status == CLI_DONE) {
        b->res->status = status;
        b->res->error = error;
    }
    b->phase = PHASE_DONE;
}

static void retry_push(struct bench *b, struct slot *s)
{
    struct retry_queue *q = &b->retry;

    s->state = SLOT_RETRY;
    q->slot[(q->head + q->len) % q->cap] = slot_index(b, s);
    q->at[(q->head + q->len) % q->cap] = now_ns() + RETRY_NSEC;
    q->len++;
}

/* Messages that will not be answered go back to the budget: -n counts replies. */
static void forget_inflight(struct bench *b, struct slot *s)
{
    b->outstanding -= s->inflight;
    if (b->budget != UINT64_MAX)
        b->budget += s->inflight;
    s->inflight = 0;
}

static void slot_close(struct bench *b, struct slot *s)
{
    if (s->state == SLOT_OPEN)
        b->n_open--;
    else if (s->state == SLOT_CONNECTING)
        b->n_connecting--;
    if (s->fd >= 0)
        close(s->fd); /* and out of the epoll set */
    s->fd = -1;
    s->state = SLOT_IDLE;
    s->head_len = 0;
    s->want_out = false;
    s->out_off = s->out_end = 0;
}

static void slot_start(struct bench *b, struct slot *s);

/* A connect that failed: before any connect ever worked, the target is
 * wrong and the run ends; later, it is counted and tried again soon. */
static void connect_failed(struct bench *b, struct slot *s, int error)
{
    b->res->connect_failures++;
    forget_inflight(b, s);
    slot_close(b, s);
    if (!b->ever_connected) {
        stop_failed(b, CLI_CONNECT_FAILED, error);
        return;
    }
    retry_push(b, s);
}

/* The server closed or reset a connection: whatever it owed is lost. A
 * reply without its LF at the close is a reply, as the seeds' server sends. */
static void slot_lost(struct bench *b, struct slot *s);

static int set_events(struct bench *b, struct slot *s, int op, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.u32 = slot_index(b, s)};

    return epoll_ctl(b->ep, op, s->fd, &ev) < 0 ? -errno : 0;
}

/* Opens the slot's connection; the message it carries is taken now. */
static void slot_start(struct bench *b, struct slot *s)
{
    bool oneshot = b->o->mode == BENCH_CONNECT;
    int fd, r;

    if (oneshot) {
        if (b->budget == 0 || b->phase != PHASE_RUN) {
            s->state = SLOT_IDLE;
            return;
        }
        if (b->budget != UINT64_MAX)
            b->budget--;
        s->inflight = 1;
        b->outstanding++;
        s->out_off = 0;
        s->out_end = b->line_len;
    }
    fd = socket(b->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        connect_failed(b, s, errno);
        return;
    }
    s->fd = fd;
    s->state = SLOT_CONNECTING;
    b->n_connecting++;
    s->t_start = now_ns();
    if (connect(fd, (struct sockaddr *)&b->addr, b->addr_len) < 0 && errno != EINPROGRESS) {
        connect_failed(b, s, errno);
        return;
    }
    /* One-shot slots are edge-triggered, so that they need no epoll_ctl but
     * this one: EPOLLOUT says connected, EPOLLIN says the reply came. */
    r = set_events(b, s, EPOLL_CTL_ADD,
                   oneshot ? EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET : EPOLLOUT);
    if (r < 0)
        connect_failed(b, s, -r);
}

/* Writes what is left of the slot's batch; asks for EPOLLOUT when the socket
 * is full. Returns 0, or a negative errno when the connection is gone. */
static int write_some(struct bench *b, struct slot *s)
{
    bool edge = b->o->mode == BENCH_CONNECT;

    for (int i = 0; i < WRITES_PER_CALL && s->out_off < s->out_end; i++) {
        ssize_t n = send(s->fd, b->batch + s->out_off, s->out_end - s->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0)
            s->out_off += (uint32_t)n;
        else if (n < 0 && errno == EAGAIN)
            break;
        else if (n < 0 && errno != EINTR)
            return -errno;
    }
    if (edge)
        return 0; /* EPOLLOUT is always asked for */
    if ((s->out_off < s->out_end) != s->want_out) {
        s->want_out = !s->want_out;
        return set_events(b, s, EPOLL_CTL_MOD, s->want_out ? EPOLLIN | EPOLLOUT : EPOLLIN);
    }
    return 0;
}

/* A persistent slot writes its next batch once every reply of the last came. */
static void send_batch(struct bench *b, struct slot *s)
{
    uint64_t n = b->o->pipeline;
    int r;

    if (b->phase != PHASE_RUN || s->inflight > 0 || s->out_off < s->out_end)
        return;
    if (n > b->budget)
        n = b->budget;
    if (n == 0)
        return;
    if (b->budget != UINT64_MAX)
        b->budget -= n;
    s->inflight = (uint32_t)n;
    b->outstanding += n;
    b->res->sent += n;
    s->out_off = 0;
    s->out_end = (uint32_t)n * b->line_len;
    s->t_start = now_ns();
    r = write_some(b, s);
    if (r < 0)
        slot_lost(b, s);
}

/* --hold: every connection is open (or has failed for good): idle now. */
static void hold_all_open(struct bench *b)
{
    b->res->held = b->n_open;
    fprintf(stderr, "hello-cli bench: holding %u connections\n", b->n_open);
    fflush(stderr);
    b->phase = PHASE_IDLE;
    b->phase_end = now_ns() + b->o->duration_us * NSEC_PER_USEC;
}

static void hold_next(struct bench *b)
{
    if (b->next_hold < b->n_slots) {
        slot_start(b, &b->slots[b->next_hold++]);
        return;
    }
    if (b->n_connecting == 0 && b->retry.len == 0 && b->phase == PHASE_RUN)
        hold_all_open(b);
}

/* A slot's connect succeeded: count it as open. */
static void mark_open(struct bench *b, struct slot *s)
{
    s->state = SLOT_OPEN;
    b->n_connecting--;
    b->n_open++;
    b->res->connects++;
    b->ever_connected = true;
    b->last_progress = now_ns();
}

/* A level-triggered slot's connect completed, or failed. */
static void on_connected(struct bench *b, struct slot *s)
{
    int err = 0, one = 1, r;
    socklen_t len = sizeof err;

    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err) {
        connect_failed(b, s, err);
        return;
    }
    /* Batches go out whole: never held back by Nagle's algorithm. */
    if (b->addr.ss_family != AF_UNIX)
        setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    r = set_events(b, s, EPOLL_CTL_MOD, EPOLLIN);
    if (r < 0) {
        connect_failed(b, s, -r);
        return;
    }
    mark_open(b, s);
    if (b->o->mode == BENCH_HOLD)
        hold_next(b);
    else
        send_batch(b, s);
}

/* A one-shot slot is connected: its message goes out now. */
static void on_oneshot_connected(struct bench *b, struct slot *s)
{
    int r = write_some(b, s);

    if (r < 0) {
        connect_failed(b, s, -r);
        return;
    }
    mark_open(b, s);
    b->res->sent++;
}

static bool is_error_reply(const struct slot *s)
{
    return (s->head_len >= 5 && memcmp(s->head, "ERROR", 5) == 0) ||
           (s->head_len >= 4 && memcmp(s->head, "-ERR", 4) == 0);
}

static void reply_done(struct bench *b, struct slot *s, uint64_t now)
{
    struct bench_result *res = b->res;

    bool error = is_error_reply(s);

    s->head_len = 0;
    if (s->inflight == 0) {
        res->errors++; /* a line nobody asked for, such as ERROR server busy */
        return;
    }
    res->replies++;
    if (error)
        res->errors++;
    s->inflight--;
    b->outstanding--;
    hist_record(&res->latency, now > s->t_start ? (now - s->t_start) / NSEC_PER_USEC : 0);
    b->last_progress = now;
}

/* Counts every reply line in what was read; keeps the head of an unfinished one. */
static void take_replies(struct bench *b, struct slot *s, const char *p, size_t n)
{
    const char *end = p + n;
    uint64_t now = now_ns();

    while (p < end) {
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((lf ? lf : end) - p);

        if (s->head_len < HEAD_MAX) {
            size_t room = (size_t)(HEAD_MAX - s->head_len), k = len < room ? len : room;
            memcpy(s->head + s->head_len, p, k);
            s->head_len = (uint8_t)(s->head_len + k);
        }
        if (!lf)
            break;
        reply_done(b, s, now);
        p = lf + 1;
    }
}

static void slot_lost(struct bench *b, struct slot *s)
{
    bool answered;

    if (s->head_len > 0 && s->inflight > 0)
        reply_done(b, s, now_ns());
    answered = s->inflight == 0;
    if (!answered)
        b->res->closed++;
    forget_inflight(b, s);
    slot_close(b, s);
    if (b->o->mode == BENCH_HOLD || b->phase != PHASE_RUN)
        return; /* with --hold: one connection fewer to answer */
    if (answered && b->o->mode == BENCH_CONNECT)
        slot_start(b, s);
    else
        retry_push(b, s); /* not at once: a server that closes on us must not make a spin */
}

/* One read; returns its size, 0 when the connection is gone or drained. */
static ssize_t slot_read(struct bench *b, struct slot *s)
{
    ssize_t n = read(s->fd, rbuf, sizeof rbuf);

    if (n > 0) {
        take_replies(b, s, rbuf, (size_t)n);
        return n;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    slot_lost(b, s);
    return 0;
}

/* A one-shot slot reads until its reply line is whole, then starts over. */
static void on_oneshot_readable(struct bench *b, struct slot *s)
{
    for (int i = 0; i < READS_PER_EVENT; i++) {
        ssize_t n = slot_read(b, s);

        if (s->state != SLOT_OPEN)
            return; /* closed by the server: slot_lost queued it */
        if (s->inflight == 0) {
            slot_close(b, s);
            slot_start(b, s);
            return;
        }
        if (n < (ssize_t)sizeof rbuf)
            return; /* drained: the next edge brings the rest */
    }
    b->res->closed++; /* a reply line of over a mebibyte: not one we can count */
    forget_inflight(b, s);
    slot_close(b, s);
    slot_start(b, s);
}

static void on_event(struct bench *b, struct slot *s, uint32_t ev)
{
    bool oneshot = b->o->mode == BENCH_CONNECT;

    if (s->state == SLOT_CONNECTING) {
        if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        if (!oneshot) {
            on_connected(b, s);
            return;
        }
        on_oneshot_connected(b, s);
        if (s->state != SLOT_OPEN || !(ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
            return;
    }
    if (s->state != SLOT_OPEN)
        return;
    if (oneshot) {
        if (ev & EPOLLOUT && s->out_off < s->out_end) {
            int r = write_some(b, s);
            if (r < 0) {
                slot_lost(b, s);
                return;
            }
        }
        if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            on_oneshot_readable(b, s);
        return;
    }
    if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        slot_read(b, s);
        if (s->state != SLOT_OPEN)
            return;
    }
    if (ev & EPOLLOUT) {
        int r = write_some(b, s);
        if (r < 0) {
            slot_lost(b, s);
            return;
        }
    }
    if (b->o->mode == BENCH_PERSISTENT)
        send_batch(b, s);
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
        if (b->o->mode == BENCH_HOLD && b->phase != PHASE_RUN)
            continue;
        slot_start(b, s);
    }
    if (b->o->mode == BENCH_HOLD && b->phase == PHASE_RUN && b->next_hold == b->n_slots &&
        b->n_connecting == 0 && q->len == 0)
        hold_all_open(b);
}

/* --hold: the idle time is over; one message on every connection still open. */
static void hold_answer(struct bench *b)
{
    int r;

    b->phase = PHASE_ANSWER;
    b->start = now_ns();
    b->last_progress = b->start;
    b->res->held = b->n_open;
    for (uint32_t i = 0; i < b->n_slots; i++) {
        struct slot *s = &b->slots[i];
        if (s->state != SLOT_OPEN)
            continue;
        s->inflight = 1;
        b->outstanding++;
        b->res->sent++;
        s->out_off = 0;
        s->out_end = b->line_len;
        s->t_start = now_ns();
        r = write_some(b, s);
        if (r < 0)
            slot_lost(b, s);
    }
}

/* Whether the run is over, and the longest wait until something is due. */
static int next_wait(struct bench *b, uint64_t now)
{
    uint64_t due = UINT64_MAX, stall = (uint64_t)(unsigned)b->o->timeout_ms * NSEC_PER_MSEC;

    if (interrupted)
        b->phase = PHASE_DONE;
    if (b->phase == PHASE_RUN && b->deadline && now >= b->deadline)
        b->phase = PHASE_DONE;
    if (b->phase == PHASE_RUN && b->o->mode != BENCH_HOLD && b->budget == 0 && b->outstanding == 0)
        b->phase = PHASE_DONE;
    if (b->phase == PHASE_IDLE && (now >= b->phase_end || proceed))
        hold_answer(b);
    if (b->phase == PHASE_ANSWER && b->outstanding == 0)
        b->phase = PHASE_DONE;
    if (b->phase == PHASE_DONE)
        return -1;
    if (b->phase != PHASE_IDLE && now > b->last_progress && now - b->last_progress >= stall) {
        stop_failed(b, b->ever_connected ? CLI_TIMED_OUT : CLI_CONNECT_FAILED, ETIMEDOUT);
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
            stop_failed(b, CLI_SOCKET_FAILED, errno);
            return;
        }
        for (int i = 0; i < n && b->phase != PHASE_DONE; i++)
            on_event(b, &b->slots[events[i].data.u32], events[i].events);
    }
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
        if (strlen(t->unix_path) >= sizeof un->sun_path) {
            res->status = CLI_CONNECT_FAILED;
            res->error = ENAMETOOLONG;
            return -ENAMETOOLONG;
        }
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, t->unix_path);
        b->addr_len = sizeof *un;
        return 0;
    }
    res->gai_error = getaddrinfo(t->host, t->port, &hints, &ai);
    if (res->gai_error != 0) {
        res->status = CLI_CONNECT_FAILED;
        res->error = res->gai_error == EAI_SYSTEM ? errno : ENOENT;
        if (res->gai_error == EAI_SYSTEM)
            res->gai_error = 0;
        return -res->error;
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
        res->status = cr.status;
        res->error = cr.error;
        res->gai_error = cr.gai_error;
        return fd;
    }
    b->addr_len = sizeof b->addr;
    if (getpeername(fd, (struct sockaddr *)&b->addr, &b->addr_len) < 0) {
        res->status = CLI_CONNECT_FAILED;
        res->error = errno;
    }
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
        res->status = CLI_SOCKET_FAILED;
        res->error = EMFILE;
        res->fd_limit = (uint64_t)rl.rlim_cur;
        return -EMFILE;
    }
    return 0;
}

static int setup(struct bench *b)
{
    const struct bench_options *o = b->o;
    uint32_t copies = o->mode == BENCH_PERSISTENT ? o->pipeline : 1;
    size_t len = strlen(o->message) + 1;
    int r;

    if (len * copies > BATCH_MAX) {
        b->res->status = CLI_SOCKET_FAILED;
        b->res->error = E2BIG;
        return -E2BIG;
    }
    b->n_slots = o->mode == BENCH_HOLD ? o->hold : o->connections;
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
    if (!b->batch || !b->slots || !b->retry.slot || !b->retry.at || b->ep < 0) {
        b->res->status = CLI_SOCKET_FAILED;
        b->res->error = b->ep < 0 ? errno : ENOMEM;
        return -b->res->error;
    }
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
    struct bench b = {.o = opts, .res = res, .ep = -1};
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
    b.budget = opts->mode != BENCH_HOLD && opts->messages ? opts->messages : UINT64_MAX;
    b.start = now_ns();
    b.last_progress = b.start;
    if (opts->duration_us && opts->mode != BENCH_HOLD)
        b.deadline = b.start + opts->duration_us * NSEC_PER_USEC;
    if (opts->mode == BENCH_HOLD) {
        uint32_t first = opts->connections < b.n_slots ? opts->connections : b.n_slots;
        for (uint32_t i = 0; i < first && b.phase == PHASE_RUN; i++)
            slot_start(&b, &b.slots[b.next_hold++]);
    } else {
        for (uint32_t i = 0; i < b.n_slots && b.phase == PHASE_RUN; i++)
            slot_start(&b, &b.slots[i]);
    }
    loop(&b, &old_mask);
    end = now_ns();
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    res->elapsed_us = (end - b.start) / NSEC_PER_USEC;
    if (opts->mode == BENCH_HOLD && b.phase == PHASE_DONE && res->status == CLI_DONE &&
        b.outstanding > 0)
        res->status = CLI_TIMED_OUT; /* interrupted before every reply came */
    teardown(&b);
    return res->status == CLI_DONE ? 0 : -res->error;
}

/* --- the report ------------------------------------------------------------ */

/* 1482113 as "1,482,113". */
static const char *grouped(uint64_t v, char *buf, size_t size)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    size_t j = 0;

    for (int i = 0; i < n && j + 2 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[j++] = ',';
        buf[j++] = digits[i];
    }
    buf[j] = '\0';
    return buf;
}

static double per_second(uint64_t count, uint64_t usec)
{
    return usec ? (double)count * 1e6 / (double)usec : 0.0;
}

static const char *mode_name(enum bench_mode m)
{
    return m == BENCH_CONNECT ? "connect" : m == BENCH_HOLD ? "hold" : "persistent";
}

static const char *status_name(enum cli_status s)
{
    switch (s) {
    case CLI_DONE:
        return "ok";
    case CLI_CONNECT_FAILED:
        return "connect-failed";
    case CLI_TIMED_OUT:
        return "timeout";
    default:
        return "failed";
    }
}

/* A JSON string's contents: quotes, backslashes and control bytes escaped. */
static void json_string(FILE *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
}

static void report_json(const struct bench_options *o, const struct bench_result *r,
                        const char *where, FILE *out)
{
    const struct hist *h = &r->latency;

    fputs("{\"target\":\"", out);
    json_string(out, where);
    fprintf(out, "\",\"mode\":\"%s\",\"connections\":%u,\"pipeline\":%u,", mode_name(o->mode),
            o->mode == BENCH_HOLD ? o->hold : o->connections,
            o->mode == BENCH_PERSISTENT ? o->pipeline : 1);
    fprintf(out,
            "\"seconds\":%.6f,\"sent\":%llu,\"replies\":%llu,\"replies_per_sec\":%.1f,"
            "\"p50_us\":%llu,\"p99_us\":%llu,\"p999_us\":%llu,\"max_us\":%llu,\"mean_us\":%llu,"
            "\"errors\":%llu,\"connects\":%llu,\"connect_failures\":%llu,\"closed\":%llu,"
            "\"held\":%llu,\"status\":\"%s\"}\n",
            (double)r->elapsed_us / 1e6, (unsigned long long)r->sent,
            (unsigned long long)r->replies, per_second(r->replies, r->elapsed_us),
            (unsigned long long)hist_percentile(h, HIST_PCT(50)),
            (unsigned long long)hist_percentile(h, HIST_PCT(99)),
            (unsigned long long)hist_percentile(h, HIST_PCT(99.9)), (unsigned long long)h->max,
            (unsigned long long)hist_mean(h), (unsigned long long)r->errors,
            (unsigned long long)r->connects, (unsigned long long)r->connect_failures,
            (unsigned long long)r->closed, (unsigned long long)r->held, status_name(r->status));
}

static void report_text(const struct bench_options *o, const struct bench_result *r,
                        const char *where, FILE *out)
{
    const struct hist *h = &r->latency;
    char a[32], b[32], c[32], d[32], e[32];

    if (o->mode == BENCH_HOLD)
        fprintf(out, "hello-cli bench: %s, held %s connections, then one message on each\n", where,
                grouped(r->held, a, sizeof a));
    else if (o->mode == BENCH_CONNECT)
        fprintf(out, "hello-cli bench: %s, %u one-shot connections at once\n", where,
                o->connections);
    else
        fprintf(out, "hello-cli bench: %s, %u connections, pipeline %u\n", where, o->connections,
                o->pipeline);
    fprintf(out, "  replies   %s in %.2f s: %s/s\n", grouped(r->replies, a, sizeof a),
            (double)r->elapsed_us / 1e6,
            grouped((uint64_t)(per_second(r->replies, r->elapsed_us) + 0.5), b, sizeof b));
    fprintf(out, "  latency   p50 %s us, p99 %s us, p99.9 %s us, max %s us, mean %s us\n",
            grouped(hist_percentile(h, HIST_PCT(50)), a, sizeof a),
            grouped(hist_percentile(h, HIST_PCT(99)), b, sizeof b),
            grouped(hist_percentile(h, HIST_PCT(99.9)), c, sizeof c), grouped(h->max, d, sizeof d),
            grouped(hist_mean(h), e, sizeof e));
    fprintf(out, "  errors    %s ERROR replies, %s connections closed by the server\n",
            grouped(r->errors, a, sizeof a), grouped(r->closed, b, sizeof b));
    fprintf(out, "  connects  %s, %s failed\n", grouped(r->connects, a, sizeof a),
            grouped(r->connect_failures, b, sizeof b));
}

enum cli_exit cli_bench_report(const struct bench_options *opts, const struct bench_result *res,
                               FILE *out)
{
    char where[CLI_TARGET_STRLEN];
    struct cli_result cr = {.status = res->status,
                            .error = res->error,
                            .gai_error = res->gai_error,
                            .replies = res->replies};

    cli_target_format(&opts->target, where, sizeof where);
    if (res->fd_limit) {
        fprintf(stderr, "hello-cli: bench needs %u descriptors and more; the limit here is %llu\n",
                opts->mode == BENCH_HOLD ? opts->hold : opts->connections,
                (unsigned long long)res->fd_limit);
        return CLI_EXIT_CONNECT;
    }
    if (res->status == CLI_CONNECT_FAILED && res->connects == 0) {
        if (opts->json)
            report_json(opts, res, where, out);
        return cli_report(&cr, &opts->target);
    }
    if (opts->json)
        report_json(opts, res, where, out);
    else
        report_text(opts, res, where, out);
    fflush(out);
    if (res->status != CLI_DONE)
        return cli_report(&cr, &opts->target);
    if (res->errors > 0 || res->closed > 0 || res->connect_failures > 0)
        return CLI_EXIT_PROTOCOL;
    if (opts->mode == BENCH_HOLD && res->replies < res->held)
        return CLI_EXIT_PROTOCOL;
    return CLI_EXIT_OK;
}

int cli_bench_main(int argc, char **argv)
{
    static struct bench_result res; /* the histogram is 90 KiB */
    struct bench_options opts;
    char msg[256];

    if (cli_bench_parse(argc, argv, &opts, msg, sizeof msg) < 0) {
        fprintf(stderr, "hello-cli bench: %s\nTry 'hello-cli bench --help' for more information.\n",
                msg);
        return CLI_EXIT_USAGE;
    }
    if (opts.action == BENCH_HELP) {
        cli_bench_help(stdout);
        return CLI_EXIT_OK;
    }
    cli_bench_run(&opts, &res);
    return (int)cli_bench_report(&opts, &res, stdout);
}
