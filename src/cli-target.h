/* cli-target.h - the options that name hello-cli's server and how long to
 * wait on it (-H, -p, -U, -4, -6, -t), said once for hello-cli and hello-cli
 * bench (pure): their parsing, their conflicts, their defaults, and getopt's
 * messages in the words both commands use. */
#ifndef HELLO_CLI_TARGET_H
#define HELLO_CLI_TARGET_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "cli-session.h"

#define CLI_DEFAULT_HOST       "localhost"
#define CLI_DEFAULT_PORT       "8080"
#define CLI_DEFAULT_TIMEOUT_MS 10000

/* For a command's getopt string and long option table. */
#define CLI_TARGET_SHORT_OPTIONS "H:p:U:46t:"
#define CLI_TARGET_LONG_OPTIONS                                                                    \
    {"host", required_argument, NULL, 'H'}, {"port", required_argument, NULL, 'p'},                \
        {"unix", required_argument, NULL, 'U'},                                                    \
    {                                                                                              \
        "timeout", required_argument, NULL, 't'                                                    \
    }

/* The target as the options say it, while they are being read. */
struct cli_target_options {
    struct cli_target target; /* host and port stay NULL with -U */
    int timeout_ms;           /* -1: none */
    bool timeout_required;    /* -t 0 (no limit) is refused: hello-cli bench */
    bool seen[128];           /* which of the options were given, for the conflicts */
};

void cli_target_options_init(struct cli_target_options *t, bool timeout_required);

/* Whether getopt's c is one of the target's options. */
bool cli_target_is_option(int c);

/* Reads one target option (cli_target_is_option(c)) and its argument.
 * Returns 0, or -EINVAL with msg holding one line for the user. */
int cli_target_option(struct cli_target_options *t, int c, const char *arg, char *msg, size_t size);

/* After the last option: the conflicts between them (-p or -H with -U, -4
 * with -6...), then the TCP defaults, which stay unset with -U so that nobody
 * mistakes them for a choice. Returns 0 or -EINVAL with msg set. */
int cli_target_finish(struct cli_target_options *t, char *msg, size_t size);

/* getopt_long's own message for its answer c ('?' or ':'), which it is told
 * not to print: short_options is the command's getopt string, and a long
 * option's value at or above 256 is one with no short form. Returns -EINVAL. */
int cli_option_error(int c, char **argv, const char *short_options, char *msg, size_t size);

/* Writes a usage error into msg (the one message main prints) and returns
 * -EINVAL; for the option parsers of hello-cli and hello-cli bench. */
int cli_fail(char *msg, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
