/* cli-session.h - hello-cli's conversation with a server: connecting to the
 * target, sending the messages as lines, printing one reply per message, and
 * saying in one place how it ended and with which exit status. */
#ifndef HELLO_CLI_SESSION_H
#define HELLO_CLI_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* The exit statuses of hello-cli, whatever it was asked to do. */
enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_PROTOCOL = 1, /* the server answered ERROR or broke the protocol */
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_CONNECT = 3, /* refused, no such host... */
    CLI_EXIT_TIMEOUT = 4,
};

#define CLI_REPLY_MAX     (64 * 1024) /* bytes in a reply line, without its LF */
#define CLI_TARGET_STRLEN (ADDR_HOST_MAX + 8)

/* Where the server is: a UNIX socket when unix_path is set, else TCP. */
struct cli_target {
    const char *host; /* a name or a numeric address */
    const char *port;
    int family; /* AF_UNSPEC, AF_INET or AF_INET6 */
    const char *unix_path;
};

/* What to send: each of lines[] as a line, or the lines read from fd. */
struct cli_input {
    const char *const *lines; /* none may contain a LF */
    size_t n_lines;
    int fd; /* >= 0: send the lines of this descriptor (standard input) instead */
};

enum cli_status {
    CLI_DONE,           /* every message had its reply (some may be ERROR) */
    CLI_CONNECT_FAILED, /* error, or gai_error when the name did not resolve */
    CLI_TIMED_OUT,      /* no reply byte came within the timeout */
    CLI_CLOSED_EARLY,   /* the server closed before every message had a reply */
    CLI_REPLY_TOO_LONG, /* a reply line went past CLI_REPLY_MAX */
    CLI_SOCKET_FAILED,  /* error: sending or receiving failed */
    CLI_INPUT_FAILED,   /* error: reading standard input failed */
    CLI_OUTPUT_FAILED,  /* error: writing standard output failed */
};

/* How a connection and its conversation went. */
struct cli_result {
    enum cli_status status;
    int error;         /* an errno, for the statuses that say so */
    int gai_error;     /* getaddrinfo()'s code, or 0 */
    uint64_t messages; /* sent, or to be sent */
    uint64_t replies;
    uint64_t errors; /* replies that were ERROR */
};

/* "localhost:8080", "[::1]:8080" or "/run/hellod.sock": the target as messages name it. */
void cli_target_format(const struct cli_target *t, char *buf, size_t size);

/* Connects to the target within timeout_ms (negative: no limit). Returns a
 * blocking descriptor, or a negative errno with res saying why. */
int cli_connect(const struct cli_target *t, int timeout_ms, struct cli_result *res);

/* Sends the input over the connected socket sock while printing the replies
 * as they come: to stdout, or to stderr for an ERROR reply. Whatever the input's
 * size, buffers stay bounded and neither side can block the other. Waits at
 * most timeout_ms (negative: no limit) for each reply byte. Returns 0 when
 * every message had its reply, else a negative errno; res says how it went. */
int cli_session_run(int sock, const struct cli_input *in, int timeout_ms, struct cli_result *res);

/* Says on stderr what went wrong, if anything did, and returns the exit status. */
enum cli_exit cli_report(const struct cli_result *res, const struct cli_target *t);

#endif
