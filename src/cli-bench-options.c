/* cli-bench-options.c - hello-cli bench's command line (pure): the options
 * parsed into struct bench_options, the checks that span them, and --help.
 * The target's options (-H, -p, -U, -4, -6, -t) are cli-target.c's. */
#include "config.h"

#include "cli-bench.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <sys/socket.h>

#include "cli-options.h"
#include "cli-target.h"
#include "parse.h"

#define MESSAGES_MAX 1000000000000ULL

/* ':' first: report a missing argument as such. */
static const char short_options[] = ":c:P:d:n:" CLI_TARGET_SHORT_OPTIONS "h";

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
    CLI_TARGET_LONG_OPTIONS,
    {"connect", no_argument, NULL, OPT_CONNECT},
    {"hold", required_argument, NULL, OPT_HOLD},
    {"message", required_argument, NULL, OPT_MESSAGE},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* What the user typed that mattered, for the checks that span options. */
struct seen {
    bool pipeline, messages, duration, connect, hold;
};

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

static int parse_option(int c, char **argv, struct bench_options *o, struct seen *seen,
                        struct cli_target_options *t, char *msg, size_t size)
{
    if (cli_target_is_option(c))
        return cli_target_option(t, c, optarg, msg, size);
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
        return cli_option_error(c, argv, short_options, msg, size);
    }
}

/* The checks between the modes and the limits of a run. */
static int check_options(const struct seen *s, struct bench_options *o, char *msg, size_t size)
{
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
    return 0;
}

int cli_bench_parse(int argc, char **argv, struct bench_options *opts, char *msg, size_t size)
{
    struct seen seen = {false};
    struct cli_target_options t;
    int c, r;

    *opts = (struct bench_options){
        .action = BENCH_RUN,
        .mode = BENCH_PERSISTENT,
        .connections = BENCH_DEFAULT_CONNECTIONS,
        .pipeline = BENCH_DEFAULT_PIPELINE,
        .duration_us = BENCH_DEFAULT_DURATION_US,
        .message = CLI_DEFAULT_MESSAGE,
    };
    cli_target_options_init(&t, true);
    msg[0] = '\0';
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
        r = parse_option(c, argv, opts, &seen, &t, msg, size);
        if (r < 0)
            return r;
        if (opts->action == BENCH_HELP)
            return 0;
    }
    if (optind < argc)
        return cli_fail(msg, size, "unexpected argument '%s' (the message goes in --message)",
                        argv[optind]);
    r = cli_target_finish(&t, msg, size);
    if (r < 0)
        return r;
    opts->target = t.target;
    opts->timeout_ms = t.timeout_ms;
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
