/* cli-options.c - hello-cli's command line (pure). */
#include "config.h"

#include "cli-options.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "parse.h"

static const char short_options[] = ":H:p:U:46t:hV"; /* ':': report a missing argument as such */

static const struct option long_options[] = {
    {"host", required_argument, NULL, 'H'},
    {"port", required_argument, NULL, 'p'},
    {"unix", required_argument, NULL, 'U'},
    {"timeout", required_argument, NULL, 't'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* Options that make no sense together, whatever their order. */
static const char conflicts[][2] = {{'p', 'U'}, {'H', 'U'}, {'4', '6'}, {'4', 'U'}, {'6', 'U'}};

static const char *const default_message[] = {CLI_DEFAULT_MESSAGE};

int cli_fail(char *msg, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, size, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* getopt's own messages, which it is told not to print. */
static int option_error(int c, char **argv, char *msg, size_t size)
{
    const char *arg = argv[optind - 1]; /* the argument at fault, for a long option */
    bool is_long = strncmp(arg, "--", 2) == 0;

    if (c == ':' && is_long)
        return cli_fail(msg, size, "option '%s' requires an argument", arg);
    if (c == ':')
        return cli_fail(msg, size, "option requires an argument -- '%c'", optopt);
    /* A known option char in optopt means a long option given "=VALUE". */
    if (optopt != 0 && strchr(short_options + 1, optopt) && is_long)
        return cli_fail(msg, size, "option '%.*s' doesn't allow an argument",
                        (int)strcspn(arg, "="), arg);
    if (optopt != 0)
        return cli_fail(msg, size, "invalid option -- '%c'", optopt);
    return cli_fail(msg, size, "unrecognized option '%s'", arg);
}

static int parse_port(const char *s, char *msg, size_t size)
{
    uint64_t port;

    if (parse_uint(s, 1, 65535, &port) < 0)
        return cli_fail(msg, size, "invalid port '%s' (1..65535)", s);
    return 0;
}

/* A duration in milliseconds, rounded up; 0 is no limit (-1). */
static int parse_timeout(const char *s, int *timeout_ms, char *msg, size_t size)
{
    uint64_t usec;
    int r = parse_duration(s, DURATION_MAX, &usec);

    if (r == -ERANGE)
        return cli_fail(msg, size, "invalid timeout '%s' (at most 24h)", s);
    if (r < 0)
        return cli_fail(msg, size,
                        "invalid timeout '%s' (a duration: 10s, 500ms, 1min; 0 for none)", s);
    *timeout_ms = usec == 0 ? -1 : (int)((usec + USEC_PER_MSEC - 1) / USEC_PER_MSEC);
    return 0;
}

/* Reads one option into opts; seen[] records it for the conflict checks. */
static int parse_option(int c, char **argv, struct cli_options *opts, bool *seen, char *msg,
                        size_t size)
{
    seen[(unsigned char)c] = true;
    switch (c) {
    case 'H':
        opts->target.host = optarg;
        break;
    case 'p':
        opts->target.port = optarg;
        return parse_port(optarg, msg, size);
    case 'U':
        opts->target.unix_path = optarg;
        break;
    case '4':
        opts->target.family = AF_INET;
        break;
    case '6':
        opts->target.family = AF_INET6;
        break;
    case 't':
        return parse_timeout(optarg, &opts->timeout_ms, msg, size);
    case 'h':
        opts->action = CLI_ACTION_HELP;
        break;
    case 'V':
        opts->action = CLI_ACTION_VERSION;
        break;
    default:
        return option_error(c, argv, msg, size);
    }
    return 0;
}

static int check_conflicts(const bool *seen, char *msg, size_t size)
{
    for (size_t i = 0; i < sizeof conflicts / sizeof conflicts[0]; i++) {
        char a = conflicts[i][0], b = conflicts[i][1];
        if (seen[(unsigned char)a] && seen[(unsigned char)b])
            return cli_fail(msg, size, "-%c and -%c cannot be used together", a, b);
    }
    return 0;
}

/* The MESSAGE operands: "-" alone is standard input, none is the default. */
static int parse_messages(int argc, char **argv, struct cli_input *in, char *msg, size_t size)
{
    int n = argc - optind;

    if (n == 0) {
        *in = (struct cli_input){.lines = default_message, .n_lines = 1, .fd = -1};
        return 0;
    }
    for (int i = optind; i < argc; i++) {
        if (strcmp(argv[i], "-") == 0 && n > 1)
            return cli_fail(msg, size, "'-' (standard input) must be the only MESSAGE");
        if (strchr(argv[i], '\n'))
            return cli_fail(msg, size, "a MESSAGE cannot contain a newline (use one per line)");
    }
    if (strcmp(argv[optind], "-") == 0)
        *in = (struct cli_input){.lines = NULL, .n_lines = 0, .fd = STDIN_FILENO};
    else
        *in = (struct cli_input){
            .lines = (const char *const *)argv + optind, .n_lines = (size_t)n, .fd = -1};
    return 0;
}

/* With -U, the TCP defaults stay unset, so that nobody mistakes them for a choice. */
static void apply_defaults(struct cli_options *opts)
{
    if (opts->target.unix_path)
        return;
    if (!opts->target.host)
        opts->target.host = CLI_DEFAULT_HOST;
    if (!opts->target.port)
        opts->target.port = CLI_DEFAULT_PORT;
}

int cli_options_parse(int argc, char **argv, struct cli_options *opts, char *msg, size_t size)
{
    bool seen[256] = {false};
    int c, r;

    *opts = (struct cli_options){
        .action = CLI_ACTION_RUN, .target.family = AF_UNSPEC, .timeout_ms = CLI_DEFAULT_TIMEOUT_MS};
    msg[0] = '\0';
    /* "hello-cli bench ...": the load generator (cli-bench.c) parses the rest.
     * Only as the very first argument, so "hello-cli -- bench" sends "bench". */
    if (argc > 1 && strcmp(argv[1], "bench") == 0) {
        opts->action = CLI_ACTION_BENCH;
        return 0;
    }
    optind = 0; /* glibc: a full reset, so that argv can be parsed more than once */
    opterr = 0;
    while ((c = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
        r = parse_option(c, argv, opts, seen, msg, size);
        if (r < 0)
            return r;
        if (opts->action != CLI_ACTION_RUN)
            return 0;
    }
    r = check_conflicts(seen, msg, size);
    if (r < 0)
        return r;
    apply_defaults(opts);
    return parse_messages(argc, argv, &opts->input, msg, size);
}

void cli_options_help(FILE *out)
{
    fputs("Usage: hello-cli [OPTION]... [MESSAGE]...\n"
          "  or:  hello-cli bench [OPTION]...   (a load generator: hello-cli bench --help)\n"
          "Send each MESSAGE as a line to a hellod server and print its replies.\n"
          "With no MESSAGE, send \"" CLI_DEFAULT_MESSAGE "\"; with MESSAGE -, send the\n"
          "lines of standard input as they come.\n"
          "\n"
          "  -H, --host=HOST        connect to HOST (default " CLI_DEFAULT_HOST ")\n"
          "  -p, --port=PORT        connect to TCP port PORT (default " CLI_DEFAULT_PORT ")\n"
          "  -U, --unix=PATH        connect to the UNIX socket PATH instead\n"
          "  -4                     use IPv4 only\n"
          "  -6                     use IPv6 only\n"
          "  -t, --timeout=TIMEOUT  give up connecting, or waiting on the server, after\n"
          "                         TIMEOUT (default 10s; 0 = never; us, ms, s, min, h)\n"
          "  -h, --help             print this help and exit\n"
          "  -V, --version          print the version and exit\n"
          "\n"
          "Exit status: 0 every message had its reply; 1 the server answered ERROR or\n"
          "broke the protocol; 2 bad usage; 3 could not connect; 4 timed out.\n",
          out);
}

void cli_options_version(FILE *out)
{
    fputs("hello-cli " PACKAGE_VERSION "\n", out);
}
