/* cli-target.c - the options that name hello-cli's server, for hello-cli
 * and hello-cli bench alike (pure). */
#include "config.h"

#include "cli-target.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "parse.h"


/* Options that make no sense together, whatever their order. */
static const char conflicts[][2] = {{'p', 'U'}, {'H', 'U'}, {'4', '6'}, {'4', 'U'}, {'6', 'U'}};

int cli_fail(char *msg, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, size, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

int cli_option_error(int c, char **argv, const char *short_options, char *msg, size_t size)
{
    const char *arg = argv[optind - 1]; /* the argument at fault, for a long option */
    bool is_long = strncmp(arg, "--", 2) == 0;
    /* A known option in optopt means a long option given "=VALUE"; an unknown
     * short one in a cluster leaves optind on the argument before. */
    bool known = optopt >= 256 || (optopt > 0 && strchr(short_options, optopt) && optopt != ':');

    if (c == ':' && is_long)
        return cli_fail(msg, size, "option '%s' requires an argument", arg);
    if (c == ':')
        return cli_fail(msg, size, "option requires an argument -- '%c'", optopt);
    if (known && is_long)
        return cli_fail(msg, size, "option '%.*s' doesn't allow an argument",
                        (int)strcspn(arg, "="), arg);
    if (optopt != 0)
        return cli_fail(msg, size, "invalid option -- '%c'", optopt);
    return cli_fail(msg, size, "unrecognized option '%s'", arg);
}

void cli_target_options_init(struct cli_target_options *t, bool timeout_required)
{
    *t = (struct cli_target_options){.target.family = AF_UNSPEC,
                                     .timeout_ms = CLI_DEFAULT_TIMEOUT_MS,
                                     .timeout_required = timeout_required};
}

bool cli_target_is_option(int c)
{
    return c > 0 && c < 128 && c != ':' && strchr(CLI_TARGET_SHORT_OPTIONS, c) != NULL;
}

static int parse_port(const char *s, char *msg, size_t size)
{
    uint64_t port;

    if (parse_uint(s, 1, 65535, &port) < 0)
        return cli_fail(msg, size, "invalid port '%s' (1..65535)", s);
    return 0;
}

/* A duration in milliseconds, rounded up; 0 is no limit (-1), where allowed. */
static int parse_timeout(struct cli_target_options *t, const char *s, char *msg, size_t size)
{
    uint64_t usec;
    int r = parse_duration(s, DURATION_MAX, &usec);

    if (r == -ERANGE)
        return cli_fail(msg, size, "invalid timeout '%s' (at most 24h)", s);
    if (r < 0)
        return cli_fail(msg, size, "invalid timeout '%s' (a duration: 10s, 500ms, 1min%s)", s,
                        t->timeout_required ? "" : "; 0 for none");
    if (usec == 0 && t->timeout_required)
        return cli_fail(msg, size, "invalid timeout '%s' (bench needs one above 0)", s);
    t->timeout_ms = usec == 0 ? -1 : (int)((usec + USEC_PER_MSEC - 1) / USEC_PER_MSEC);
    return 0;
}

int cli_target_option(struct cli_target_options *t, int c, const char *arg, char *msg, size_t size)
{
    t->seen[c & 0x7f] = true;
    switch (c) {
    case 'H':
        t->target.host = arg;
        return 0;
    case 'p':
        t->target.port = arg;
        return parse_port(arg, msg, size);
    case 'U':
        t->target.unix_path = arg;
        return 0;
    case '4':
        t->target.family = AF_INET;
        return 0;
    case '6':
        t->target.family = AF_INET6;
        return 0;
    case 't':
        return parse_timeout(t, arg, msg, size);
    default:
        return cli_fail(msg, size, "not a target option -- '%c'", c);
    }
}

int cli_target_finish(struct cli_target_options *t, char *msg, size_t size)
{
    for (size_t i = 0; i < sizeof conflicts / sizeof conflicts[0]; i++) {
        char a = conflicts[i][0], b = conflicts[i][1];
        if (t->seen[(unsigned char)a] && t->seen[(unsigned char)b])
            return cli_fail(msg, size, "-%c and -%c cannot be used together", a, b);
    }
    if (t->target.unix_path)
        return 0;
    if (!t->target.host)
        t->target.host = CLI_DEFAULT_HOST;
    if (!t->target.port)
        t->target.port = CLI_DEFAULT_PORT;
    return 0;
}
