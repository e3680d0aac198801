/* cli-bench.h - `hello-cli bench`: a load generator for line servers (hellod,
 * and redis-server or memcached given a one-line command such as PING or
 * version). Many non-blocking connections in one epoll loop, each with up to
 * PIPELINE messages in flight; or one-shot connections (connect, send one
 * line, read one reply line, close); or many idle connections held, then
 * answered once each. It counts replies by their LF, their latency in a
 * histogram, errors and failed connects, and stops by itself. */
#ifndef HELLO_CLI_BENCH_H
#define HELLO_CLI_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli-histogram.h"
#include "cli-session.h"

#define BENCH_DEFAULT_CONNECTIONS 50
#define BENCH_DEFAULT_PIPELINE    1
#define BENCH_DEFAULT_DURATION_US (10 * 1000000ULL)
#define BENCH_MAX_CONNECTIONS     1000000
#define BENCH_MAX_PIPELINE        4096
#define BENCH_MAX_MESSAGE         65536 /* bytes of --message */

enum bench_action {
    BENCH_RUN,
    BENCH_HELP,
};

enum bench_mode {
    BENCH_PERSISTENT, /* -c connections kept open, -P messages in flight on each */
    BENCH_CONNECT,    /* --connect: a new connection per message, -c at once */
    BENCH_HOLD,       /* --hold N: N idle connections, then one message on each */
};

struct bench_options {
    enum bench_action action;
    enum bench_mode mode;
    struct cli_target target;
    uint32_t connections; /* -c; with --hold, how many connects may be under way at once */
    uint32_t pipeline;    /* -P */
    uint32_t hold;        /* --hold N */
    uint64_t duration_us; /* -d: the run's length; with --hold, how long they idle; 0: none */
    uint64_t messages;    /* -n: stop after this many replies; 0: none */
    const char *message;  /* sent with a LF after it */
    int timeout_ms;       /* -t: the longest wait for any progress; -1: none */
    bool json;
};

/* What a run counted. */
struct bench_result {
    enum cli_status status; /* CLI_DONE, or how the run could not go on */
    int error;              /* errno, for a status that says so */
    int gai_error;
    uint64_t sent;             /* messages written */
    uint64_t replies;          /* reply lines received, ERROR ones too */
    uint64_t errors;           /* replies that began with ERROR or -ERR */
    uint64_t connects;         /* connections established */
    uint64_t connect_failures; /* connects refused, reset or timed out */
    uint64_t closed;           /* connections the server closed or reset with messages owed */
    uint64_t held;             /* --hold: connections open at once */
    uint64_t fd_limit;         /* set when the run needs more descriptors than this */
    uint64_t elapsed_us;       /* the measured time: the run, or the answers of --hold */
    struct hist latency;       /* microseconds from send (from connect with --connect) to reply */
};

/* The connections a run opens: --hold's N, or -c. */
static inline uint32_t bench_connections(const struct bench_options *o)
{
    return o->mode == BENCH_HOLD ? o->hold : o->connections;
}

/* The messages in flight on a connection: -P in the persistent mode, else 1. */
static inline uint32_t bench_pipeline(const struct bench_options *o)
{
    return o->mode == BENCH_PERSISTENT ? o->pipeline : 1;
}

/* Parses the arguments after "bench" (argv[0] is "bench"); getopt may
 * reorder argv, and opts points into it. Returns 0, or a negative errno with
 * msg holding one line for the user. */
int cli_bench_parse(int argc, char **argv, struct bench_options *opts, char *msg, size_t size);

/* The --help text. */
void cli_bench_help(FILE *out);

/* Runs the load; res says what it counted. Returns 0, or a negative errno
 * when the run could not start or stopped on an error (res->status says
 * which). res is large (the histogram): the caller provides it. */
int cli_bench_run(const struct bench_options *opts, struct bench_result *res);

/* Prints the result for people (or one JSON line) and returns the exit
 * status: 0 when every reply came and none was an error. */
enum cli_exit cli_bench_report(const struct bench_options *opts, const struct bench_result *res,
                               FILE *out);

#endif
