/* cli-session.c - hello-cli's conversation: one poll() loop over the socket
 * and standard input, with bounded buffers both ways. */
#include "config.h"

#include "cli-session.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "escape.h"
#include "net.h"

#define OUTBOX_SIZE (64 * 1024)

/* Bytes queued for the socket: data[start, end) is still to be sent. */
struct outbox {
    char data[OUTBOX_SIZE];
    size_t start, end;
};

/* The reply line being received, and any lines after it in the same read. */
struct inbox {
    char data[CLI_REPLY_MAX + 1]; /* the longest reply and its LF */
    size_t len;
};

struct conversation {
    int sock;
    const struct cli_input *in;
    int timeout_ms;
    struct cli_result *res;
    size_t next_line, next_off; /* in->lines: what to queue next */
    bool input_done;            /* every message is queued, with its LF */
    bool mid_line;              /* the last byte read from in->fd was not a LF */
    bool sending_done;          /* shut down for writing, or the server stopped reading */
    uint64_t queued;            /* messages queued so far */
    uint64_t last_progress;     /* ms: when the server last took or sent bytes, or got work */
    struct outbox out;
    struct inbox reply;
};

void cli_target_format(const struct cli_target *t, char *buf, size_t size)
{
    if (t->unix_path)
        snprintf(buf, size, "%s", t->unix_path);
    else if (strchr(t->host, ':'))
        snprintf(buf, size, "[%s]:%s", t->host, t->port);
    else
        snprintf(buf, size, "%s:%s", t->host, t->port);
}

int cli_connect(const struct cli_target *t, int timeout_ms, struct cli_result *res)
{
    int gai_error = 0;
    int fd;

    *res = (struct cli_result){.status = CLI_DONE};
    if (t->unix_path)
        fd = net_connect_unix(t->unix_path, timeout_ms);
    else
        fd = net_connect_tcp(t->host, t->port, t->family, timeout_ms, &gai_error);
    if (fd < 0) {
        res->status = CLI_CONNECT_FAILED;
        res->error = -fd;
        /* With EAI_SYSTEM, errno (now in fd) holds the reason. */
        res->gai_error = gai_error == EAI_SYSTEM ? 0 : gai_error;
    }
    return fd;
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int fail(struct conversation *c, enum cli_status status, int error)
{
    c->res->status = status;
    c->res->error = error;
    return -error;
}

/* --- the outbox ------------------------------------------------------------ */

static bool outbox_empty(const struct outbox *o)
{
    return o->start == o->end;
}

static bool outbox_full(const struct outbox *o)
{
    return o->end - o->start == sizeof o->data;
}

/* Moves the unsent bytes to the front; returns the room left after them. */
static size_t outbox_room(struct outbox *o)
{
    if (o->start > 0) {
        memmove(o->data, o->data + o->start, o->end - o->start);
        o->end -= o->start;
        o->start = 0;
    }
    return sizeof o->data - o->end;
}

static void outbox_put(struct outbox *o, const char *p, size_t n)
{
    memcpy(o->data + o->end, p, n);
    o->end += n;
}

/* --- what we send ---------------------------------------------------------- */

static uint64_t replies_owed(const struct conversation *c)
{
    return c->queued > c->res->replies ? c->queued - c->res->replies : 0;
}

/* Whether we wait on the server: for replies, or for it to take our bytes. */
static bool server_busy(const struct conversation *c)
{
    return replies_owed(c) > 0 || (!c->sending_done && !outbox_empty(&c->out));
}

/* The timeout counts from when the server is given work, not from its last
 * reply: time spent waiting for our own input never counts. */
static void give_work(struct conversation *c)
{
    if (!server_busy(c))
        c->last_progress = now_ms();
}

/* Copies as much of the remaining lines as fits, each with its LF; a line
 * longer than the room left goes in pieces. */
static void queue_lines(struct conversation *c)
{
    const struct cli_input *in = c->in;

    give_work(c);
    while (c->next_line < in->n_lines) {
        const char *rest = in->lines[c->next_line] + c->next_off;
        size_t room = outbox_room(&c->out);
        size_t n = strnlen(rest, room);

        outbox_put(&c->out, rest, n);
        c->next_off += n;
        if (n == room)
            return;
        outbox_put(&c->out, "\n", 1);
        c->queued++;
        c->next_line++;
        c->next_off = 0;
    }
    c->input_done = true;
}

/* Reads what the input has into the outbox; each LF ends a message. */
static int read_input(struct conversation *c)
{
    size_t room = outbox_room(&c->out);
    char *p = c->out.data + c->out.end;
    ssize_t n = read(c->in->fd, p, room);

    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? 0 : fail(c, CLI_INPUT_FAILED, errno);
    give_work(c);
    if (n == 0) {
        /* A last line without its LF is a line all the same. There is room
         * for the LF: the input is only read when the outbox has some. */
        if (c->mid_line) {
            outbox_put(&c->out, "\n", 1);
            c->queued++;
        }
        c->input_done = true;
        return 0;
    }
    c->out.end += (size_t)n;
    c->mid_line = p[n - 1] != '\n';
    for (char *end = p + n; (p = memchr(p, '\n', (size_t)(end - p))); p++)
        c->queued++;
    return 0;
}

static int send_output(struct conversation *c)
{
    struct outbox *o = &c->out;
    ssize_t n = send(c->sock, o->data + o->start, o->end - o->start, MSG_NOSIGNAL | MSG_DONTWAIT);

    if (n >= 0) {
        o->start += (size_t)n;
        c->last_progress = now_ms();
        return 0;
    }
    if (errno == EINTR || errno == EAGAIN)
        return 0;
    /* The server stopped reading; the replies it sent before may still be
     * there to read, and its close will say how many. */
    if (errno == EPIPE || errno == ECONNRESET) {
        c->sending_done = true;
        return 0;
    }
    return fail(c, CLI_SOCKET_FAILED, errno);
}

/* Once the last message is sent, the server is told no more will come: it
 * then answers what it still owes and closes. */
static void shut_down_when_sent(struct conversation *c)
{
    if (c->sending_done || !c->input_done || !outbox_empty(&c->out))
        return;
    /* A failure means the connection is gone, which reading will tell. */
    (void)shutdown(c->sock, SHUT_WR);
    c->sending_done = true;
}

/* --- what we receive ------------------------------------------------------- */

static bool all_answered(const struct conversation *c)
{
    return c->input_done && outbox_empty(&c->out) && replies_owed(c) == 0;
}

static void print_server_error(const char *line, size_t len);

static int print_reply(struct conversation *c, const char *line, size_t len)
{
    static const char error_prefix[] = "ERROR ";
    const size_t prefix_len = sizeof error_prefix - 1;

    if (len > 0 && line[len - 1] == '\r')
        len--;
    c->res->replies++;
    if (len >= prefix_len && memcmp(line, error_prefix, prefix_len) == 0) {
        c->res->errors++;
        /* stdout first, so that a terminal shows both in the order they came. */
        fflush(stdout);
        print_server_error(line, len);
        return 0;
    }
    if (fwrite(line, 1, len, stdout) != len || putchar('\n') == EOF)
        return fail(c, CLI_OUTPUT_FAILED, errno);
    return 0;
}

/* Prints every whole line in the inbox and keeps the unfinished rest. */
static int print_replies(struct conversation *c)
{
    struct inbox *in = &c->reply;
    char *line = in->data, *end = in->data + in->len, *lf;
    int r = 0;

    while (r == 0 && (lf = memchr(line, '\n', (size_t)(end - line)))) {
        r = print_reply(c, line, (size_t)(lf - line));
        line = lf + 1;
    }
    in->len = (size_t)(end - line);
    memmove(in->data, line, in->len);
    if (r == 0 && in->len == sizeof in->data)
        r = fail(c, CLI_REPLY_TOO_LONG, EMSGSIZE);
    return r;
}

/* The seeds' server answers without a LF, then closes: unfinished bytes at
 * the close are a reply line of their own. */
static int server_closed(struct conversation *c)
{
    struct inbox *in = &c->reply;
    int r = 0;

    if (in->len > 0)
        r = print_reply(c, in->data, in->len);
    in->len = 0;
    if (r == 0 && !all_answered(c))
        r = fail(c, CLI_CLOSED_EARLY, EPROTO);
    return r;
}

static int receive_replies(struct conversation *c)
{
    struct inbox *in = &c->reply;
    ssize_t n = recv(c->sock, in->data + in->len, sizeof in->data - in->len, MSG_DONTWAIT);
    int r;

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n < 0 && errno != ECONNRESET)
        return fail(c, CLI_SOCKET_FAILED, errno);
    if (n > 0) {
        c->last_progress = now_ms();
        in->len += (size_t)n;
        r = print_replies(c);
    } else {
        r = server_closed(c);
    }
    if (fflush(stdout) == EOF && r == 0)
        r = fail(c, CLI_OUTPUT_FAILED, errno);
    return r;
}

/* --- the loop -------------------------------------------------------------- */

/* How long poll() may wait: forever while the server owes us nothing, else
 * what is left of the timeout. */
static int poll_timeout(const struct conversation *c)
{
    uint64_t waited;

    if (c->timeout_ms < 0 || !server_busy(c))
        return -1;
    waited = now_ms() - c->last_progress;
    return waited >= (uint64_t)c->timeout_ms ? 0 : c->timeout_ms - (int)waited;
}

/* Waits for whatever can happen next (a reply, room to send, more input) and
 * handles it. */
static int step(struct conversation *c)
{
    bool want_send = !c->sending_done && !outbox_empty(&c->out);
    bool want_input = c->in->fd >= 0 && !c->input_done && !c->sending_done && !outbox_full(&c->out);
    struct pollfd fds[] = {
        {.fd = c->sock, .events = want_send ? POLLIN | POLLOUT : POLLIN},
        {.fd = want_input ? c->in->fd : -1, .events = POLLIN},
    };
    int n = poll(fds, 2, poll_timeout(c));
    int r = 0;

    if (n < 0)
        return errno == EINTR ? 0 : fail(c, CLI_SOCKET_FAILED, errno);
    if (n == 0)
        return fail(c, CLI_TIMED_OUT, ETIMEDOUT);
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR))
        r = receive_replies(c);
    if (r == 0 && fds[0].revents & POLLOUT)
        r = send_output(c);
    if (r == 0 && fds[1].revents)
        r = read_input(c);
    return r;
}

int cli_session_run(int sock, const struct cli_input *in, int timeout_ms, struct cli_result *res)
{
    /* 128 KiB of buffers: on the stack, allocated once for the whole run. */
    struct conversation c = {.sock = sock, .in = in, .timeout_ms = timeout_ms, .res = res};
    int r = 0;

    *res = (struct cli_result){.status = CLI_DONE};
    while (r == 0 && !all_answered(&c)) {
        if (in->fd < 0)
            queue_lines(&c);
        shut_down_when_sent(&c);
        r = step(&c);
    }
    res->messages = in->fd >= 0 ? c.queued : in->n_lines;
    return r;
}

/* --- what the user reads --------------------------------------------------- */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
    va_list ap;

    fputs("hello-cli: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* The server's words reach a terminal: any control byte in them is escaped. */
static void print_server_error(const char *line, size_t len)
{
    char text[1024];

    escape_bytes(text, sizeof text, line, len);
    say("server: %s", text);
}

static enum cli_exit report_connect_failure(const struct cli_result *res, const char *where)
{
    if (res->error == ETIMEDOUT) {
        say("timed out connecting to %s", where);
        return CLI_EXIT_TIMEOUT;
    }
    say("cannot connect to %s: %s", where,
        res->gai_error ? gai_strerror(res->gai_error) : strerror(res->error));
    return CLI_EXIT_CONNECT;
}

static void report_close(const struct cli_result *res)
{
    unsigned long long n = res->replies, m = res->messages;

    if (n < m)
        say("server closed the connection after %llu of %llu replies", n, m);
    else
        say("server closed the connection after %llu replies, before the end of the input", n);
}

enum cli_exit cli_report(const struct cli_result *res, const struct cli_target *t)
{
    char where[CLI_TARGET_STRLEN];

    cli_target_format(t, where, sizeof where);
    switch (res->status) {
    case CLI_DONE:
        return res->errors > 0 ? CLI_EXIT_PROTOCOL : CLI_EXIT_OK;
    case CLI_CONNECT_FAILED:
        return report_connect_failure(res, where);
    case CLI_TIMED_OUT:
        say("timed out waiting for a reply from %s", where);
        return CLI_EXIT_TIMEOUT;
    case CLI_CLOSED_EARLY:
        report_close(res);
        break;
    case CLI_REPLY_TOO_LONG:
        say("%s sent a reply longer than %d bytes", where, CLI_REPLY_MAX);
        break;
    case CLI_SOCKET_FAILED:
        say("connection to %s failed: %s", where, strerror(res->error));
        break;
    case CLI_INPUT_FAILED:
        say("cannot read standard input: %s", strerror(res->error));
        break;
    case CLI_OUTPUT_FAILED:
        say("cannot write to standard output: %s", strerror(res->error));
        break;
    }
    return CLI_EXIT_PROTOCOL;
}
