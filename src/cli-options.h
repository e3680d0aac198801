/* cli-options.h - hello-cli's command line (pure): the options and messages
 * parsed into a struct, their defaults, and the --help and --version texts. */
#ifndef HELLO_CLI_OPTIONS_H
#define HELLO_CLI_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "cli-session.h"
#include "cli-target.h"

#define CLI_DEFAULT_MESSAGE "Hello from client"

enum cli_action {
    CLI_ACTION_RUN,     /* talk to the server */
    CLI_ACTION_HELP,    /* --help */
    CLI_ACTION_VERSION, /* --version */
    CLI_ACTION_BENCH,   /* "bench" as the first argument: the rest is cli_bench_main()'s */
};

struct cli_options {
    enum cli_action action;
    struct cli_target target; /* host and port are NULL with -U */
    struct cli_input input;   /* the MESSAGE operands, or standard input for "-" */
    int timeout_ms;           /* for connecting and each wait on the server; -1: none */
};

/* Parses the command line; getopt may reorder argv, and opts points into it.
 * Returns 0, or a negative errno with msg holding one line for the user (the
 * caller adds the program's name). */
int cli_options_parse(int argc, char **argv, struct cli_options *opts, char *msg, size_t size);

void cli_options_help(FILE *out);

void cli_options_version(FILE *out);

#endif
