/* cli-options.c - hello-cli's command line (pure). */
#include "config.h"

#include "cli-options.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

/* ':' first: report a missing argument as such. */
static const char short_options[] = ":" CLI_TARGET_SHORT_OPTIONS "hV";

static const struct option long_options[] = {
    CLI_TARGET_LONG_OPTIONS,
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static const char *const default_message[] = {CLI_DEFAULT_MESSAGE};

/* Reads one option into opts and the target's options into t. */
static int parse_option(int c, char **argv, struct cli_options *opts, struct cli_target_options *t,
                        char *msg, size_t size)
{
    if (cli_target_is_option(c))
        return cli_target_option(t, c, optarg, msg, size);
    if (c == 'h')
        opts->action = CLI_ACTION_HELP;
    else if (c == 'V')
        opts->action = CLI_ACTION_VERSION;
    else
        return cli_option_error(c, argv, short_options, msg, size);
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

int cli_options_parse(int argc, char **argv, struct cli_options *opts, char *msg, size_t size)
{
    struct cli_target_options t;
    int c, r;

    *opts = (struct cli_options){.action = CLI_ACTION_RUN};
    cli_target_options_init(&t, false);
    msg[0] = '\0';
    /* "hello-cli bench ...": the load generator (cli-bench-main.c) parses the rest.
     * Only as the very first argument, so "hello-cli -- bench" sends "bench". */
    if (argc > 1 && strcmp(argv[1], "bench") == 0) {
        opts->action = CLI_ACTION_BENCH;
        return 0;
    }
    optind = 0; /* glibc: a full reset, so that argv can be parsed more than once */
    opterr = 0;
    while ((c = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
        r = parse_option(c, argv, opts, &t, msg, size);
        if (r < 0)
            return r;
        if (opts->action != CLI_ACTION_RUN)
            return 0;
    }
    r = cli_target_finish(&t, msg, size);
    if (r < 0)
        return r;
    opts->target = t.target;
    opts->timeout_ms = t.timeout_ms;
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
