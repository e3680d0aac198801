/* test-metrics.c - the metrics endpoint (src/svr-metrics.c): the exposition
 * in Prometheus's text format, the responses, and the real thing: a loop, a
 * listener on loopback and a client that scrapes it. (The request reader,
 * src/svr-http.c, has tests/unit/test-http.c.) */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "net.h"
#include "svr-metrics.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct metrics_figures figures = {
    .connections_open = 3,
    .connections_total = 1200,
    .messages_total = 4242,
    .bytes_in = 78901,
    .bytes_out = 123456,
    .too_long = 5,
    .proxy_errors = 6,
    .busy = 7,
    .idle_timeouts = 8,
    .handover_adopted = 9,
    .handover_closed = 10,
    .workers = 4,
};

static const struct metrics_figures max_figures = {
    .connections_open = UINT32_MAX,
    .connections_total = UINT64_MAX,
    .messages_total = UINT64_MAX,
    .bytes_in = UINT64_MAX,
    .bytes_out = UINT64_MAX,
    .too_long = UINT64_MAX,
    .proxy_errors = UINT64_MAX,
    .busy = UINT64_MAX,
    .idle_timeouts = UINT64_MAX,
    .handover_adopted = UINT64_MAX,
    .handover_closed = UINT64_MAX,
    .workers = UINT32_MAX,
};

static const char expected[] =
    "# HELP hellod_connections_open Client connections open now.\n"
    "# TYPE hellod_connections_open gauge\n"
    "hellod_connections_open 3\n"
    "# HELP hellod_connections_total Client connections accepted.\n"
    "# TYPE hellod_connections_total counter\n"
    "hellod_connections_total 1200\n"
    "# HELP hellod_messages_total Messages answered (the reply fully sent).\n"
    "# TYPE hellod_messages_total counter\n"
    "hellod_messages_total 4242\n"
    "# HELP hellod_bytes_received_total Bytes received from clients.\n"
    "# TYPE hellod_bytes_received_total counter\n"
    "hellod_bytes_received_total 78901\n"
    "# HELP hellod_bytes_sent_total Bytes sent to clients.\n"
    "# TYPE hellod_bytes_sent_total counter\n"
    "hellod_bytes_sent_total 123456\n"
    "# HELP hellod_errors_total Client connections closed for an error of the client, by kind.\n"
    "# TYPE hellod_errors_total counter\n"
    "hellod_errors_total{kind=\"message_too_long\"} 5\n"
    "hellod_errors_total{kind=\"proxy_header\"} 6\n"
    "# HELP hellod_rejected_total Clients refused, by reason.\n"
    "# TYPE hellod_rejected_total counter\n"
    "hellod_rejected_total{reason=\"server_busy\"} 7\n"
    "# HELP hellod_timeouts_total Client connections closed for a timeout, by kind.\n"
    "# TYPE hellod_timeouts_total counter\n"
    "hellod_timeouts_total{kind=\"idle\"} 8\n"
    "# HELP hellod_handover_adopted_total Client connections taken over at start from the hellod "
    "before the restart.\n"
    "# TYPE hellod_handover_adopted_total counter\n"
    "hellod_handover_adopted_total 9\n"
    "# HELP hellod_handover_closed_total Client connections the hellod before the restart handed "
    "over that could not be taken over (no readable state), closed at start.\n"
    "# TYPE hellod_handover_closed_total counter\n"
    "hellod_handover_closed_total 10\n"
    "# HELP hellod_workers Worker threads serving clients.\n"
    "# TYPE hellod_workers gauge\n"
    "hellod_workers 4\n";

/* --- a checker of the text format (0.0.4) --------------------------------- */

static bool name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static bool name_char(char c)
{
    return name_start(c) || (c >= '0' && c <= '9');
}

/* A metric or label name at *p; returns its length (0: none). */
static size_t name_at(const char *p)
{
    size_t n = 0;

    if (!name_start(p[0]))
        return 0;
    while (name_char(p[n]))
        n++;
    return n;
}

/* Checks one sample line: name{label="value",...} value, of the family the
 * last # TYPE gave. */
static void check_sample(const char *line, const char *family)
{
    const char *p = line;
    size_t n = name_at(p);

    assert_true(n > 0);
    assert_int_equal(n, strlen(family)); /* samples follow their family's TYPE */
    assert_memory_equal(p, family, n);
    p += n;
    if (*p == '{') {
        p++;
        for (;;) {
            size_t l = name_at(p);

            assert_true(l > 0);
            assert_false(l >= 2 && p[0] == '_' && p[1] == '_'); /* reserved */
            p += l;
            assert_int_equal(*p++, '=');
            assert_int_equal(*p++, '"');
            while (*p != '"') {
                assert_true(*p != '\0' && *p != '\n');
                if (*p == '\\') {
                    p++;
                    assert_true(*p == '\\' || *p == '"' || *p == 'n');
                }
                p++;
            }
            p++;
            if (*p == '}')
                break;
            assert_int_equal(*p++, ',');
        }
        p++;
    }
    assert_int_equal(*p++, ' ');
    assert_true(*p >= '0' && *p <= '9'); /* our values are whole numbers */
    while (*p >= '0' && *p <= '9')
        p++;
    assert_int_equal(*p, '\0');
}

/* Checks a whole exposition: every line is "# HELP name text", "# TYPE name
 * counter|gauge" or a sample of the family last typed; each family once, its
 * HELP then TYPE before its samples, with at least one sample; a final LF. */
static void check_exposition(const char *text)
{
    char *copy = strdup(text), *save = NULL, *line;
    char family[128] = "", seen[32][128];
    unsigned n_seen = 0, samples = 1;

    assert_non_null(copy);
    assert_true(strlen(text) > 0);
    assert_int_equal(text[strlen(text) - 1], '\n');
    assert_null(strstr(text, "\n\n"));
    for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "# HELP ", 7) == 0) {
            size_t n = name_at(line + 7);

            assert_true(n > 0 && n < sizeof family);
            assert_int_equal(line[7 + n], ' ');
            assert_true(strlen(line + 7 + n + 1) > 0);
            assert_true(samples > 0); /* the family before had samples */
            memcpy(family, line + 7, n);
            family[n] = '\0';
            for (unsigned i = 0; i < n_seen; i++)
                assert_string_not_equal(seen[i], family);
            assert_true(n_seen < ARRAY_SIZE(seen));
            strcpy(seen[n_seen++], family);
            samples = 0;
        } else if (strncmp(line, "# TYPE ", 7) == 0) {
            size_t n = name_at(line + 7);

            assert_int_equal(n, strlen(family));
            assert_memory_equal(line + 7, family, n);
            assert_true(strcmp(line + 7 + n, " counter") == 0 ||
                        strcmp(line + 7 + n, " gauge") == 0);
            if (strcmp(line + 7 + n, " counter") == 0) /* a convention we keep */
                assert_string_equal(family + strlen(family) - 6, "_total");
        } else {
            assert_int_not_equal(line[0], '#');
            check_sample(line, family);
            samples++;
        }
    }
    assert_true(samples > 0);
    free(copy);
}

/* --- the exposition ------------------------------------------------------- */

static void test_format_exact(void **state)
{
    char buf[4096];

    (void)state;
    assert_int_equal(metrics_format(buf, sizeof buf, &figures), strlen(expected));
    assert_string_equal(buf, expected);
}

static void test_format_is_text_format(void **state)
{
    char buf[4096];

    (void)state;
    metrics_format(buf, sizeof buf, &figures);
    check_exposition(buf);
    assert_true(metrics_format(buf, sizeof buf, &max_figures) < sizeof buf);
    check_exposition(buf);
    assert_non_null(strstr(buf, "\nhellod_bytes_sent_total 18446744073709551615\n"));
    assert_non_null(strstr(buf, "\nhellod_workers 4294967295\n"));
}

static void test_format_zero(void **state)
{
    const struct metrics_figures zero = {0};
    char buf[4096];

    (void)state;
    metrics_format(buf, sizeof buf, &zero);
    check_exposition(buf);
    assert_non_null(strstr(buf, "\nhellod_errors_total{kind=\"proxy_header\"} 0\n"));
}

/* Like snprintf(): the length it needs, and a cut, terminated prefix. */
static void test_format_small_buffer(void **state)
{
    char buf[sizeof expected];
    size_t full = strlen(expected);

    (void)state;
    assert_int_equal(metrics_format(NULL, 0, &figures), full);
    for (size_t size = 1; size <= sizeof buf; size++) {
        memset(buf, 'X', sizeof buf);
        assert_int_equal(metrics_format(buf, size, &figures), full);
        assert_int_equal(strlen(buf), size - 1 < full ? size - 1 : full);
        assert_memory_equal(buf, expected, strlen(buf));
        if (size < sizeof buf)
            assert_int_equal(buf[size], 'X');
    }
}

/* --- responses ------------------------------------------------------------ */

static void test_response_metrics(void **state)
{
    char buf[METRICS_RESPONSE_MAX], want[METRICS_RESPONSE_MAX];
    size_t n = http_response(buf, sizeof buf, HTTP_METRICS, false, &figures);

    (void)state;
    snprintf(want, sizeof want,
             "HTTP/1.0 200 OK\r\n"
             "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
             "Content-Length: %zu\r\n"
             "Connection: close\r\n"
             "\r\n%s",
             strlen(expected), expected);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
}

/* A HEAD is answered with the very head of the GET's response, and no body:
 * the Content-Length is the body's all the same. */
static void test_response_head(void **state)
{
    static const enum http_result results[] = {HTTP_METRICS, HTTP_NOT_FOUND, HTTP_BAD_METHOD,
                                               HTTP_BAD_REQUEST, HTTP_TOO_LARGE};
    char get[METRICS_RESPONSE_MAX], head[METRICS_RESPONSE_MAX];

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(results); i++) {
        size_t n = http_response(head, sizeof head, results[i], true, &figures);
        const char *end;

        http_response(get, sizeof get, results[i], false, &figures);
        end = strstr(get, "\r\n\r\n");
        assert_non_null(end);
        assert_int_equal(n, (size_t)(end + 4 - get));
        assert_int_equal(strlen(head), n);
        assert_memory_equal(head, get, n);
    }
}

static void test_response_errors(void **state)
{
    char buf[METRICS_RESPONSE_MAX];

    (void)state;
    http_response(buf, sizeof buf, HTTP_NOT_FOUND, false, NULL);
    assert_string_equal(buf, "HTTP/1.0 404 Not Found\r\n"
                             "Content-Type: text/plain; charset=utf-8\r\n"
                             "Content-Length: 44\r\n"
                             "Connection: close\r\n"
                             "\r\n"
                             "Not Found: hellod's metrics are at /metrics\n");
    http_response(buf, sizeof buf, HTTP_BAD_METHOD, false, NULL);
    assert_string_equal(buf, "HTTP/1.0 405 Method Not Allowed\r\n"
                             "Content-Type: text/plain; charset=utf-8\r\n"
                             "Allow: GET, HEAD\r\n"
                             "Content-Length: 36\r\n"
                             "Connection: close\r\n"
                             "\r\n"
                             "Method Not Allowed: use GET or HEAD\n");
    http_response(buf, sizeof buf, HTTP_BAD_REQUEST, false, NULL);
    assert_string_equal(buf, "HTTP/1.0 400 Bad Request\r\n"
                             "Content-Type: text/plain; charset=utf-8\r\n"
                             "Content-Length: 12\r\n"
                             "Connection: close\r\n"
                             "\r\n"
                             "Bad Request\n");
    http_response(buf, sizeof buf, HTTP_TOO_LARGE, false, NULL);
    assert_string_equal(buf, "HTTP/1.0 431 Request Header Fields Too Large\r\n"
                             "Content-Type: text/plain; charset=utf-8\r\n"
                             "Content-Length: 32\r\n"
                             "Connection: close\r\n"
                             "\r\n"
                             "Request Header Fields Too Large\n");
}

/* The largest figures still fit a connection's buffer; a small buffer gets a
 * cut, terminated response and the length it needed. */
static void test_response_sizes(void **state)
{
    char buf[METRICS_RESPONSE_MAX], small[100];
    size_t n = http_response(buf, sizeof buf, HTTP_METRICS, false, &max_figures);

    (void)state;
    assert_true(n < sizeof buf);
    assert_int_equal(strlen(buf), n);
    assert_int_equal(http_response(small, sizeof small, HTTP_METRICS, false, &max_figures), n);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_memory_equal(small, buf, sizeof small - 1);
    assert_int_equal(http_response(NULL, 0, HTTP_METRICS, false, &max_figures), n);
}

/* --- the real thing ------------------------------------------------------- */

struct fixture {
    sd_event *event;
    int listen_fd;
    struct metrics *m;
    struct logger log;
    unsigned collected;
};

static void collect(struct metrics_figures *out, void *userdata)
{
    struct fixture *fx = userdata;

    fx->collected++;
    *out = figures;
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

    if (!fx)
        return -1;
    fx->log = (struct logger){
        .ident = "test-metrics", .sink = LOG_SINK_PREFIXED, .max_level = LOG_WARNING};
    if (sd_event_new(&fx->event) < 0)
        return -1;
    fx->listen_fd = net_listen_sockaddr((struct sockaddr *)&in, sizeof in, 64);
    if (fx->listen_fd < 0)
        return -1;
    if (metrics_new(&fx->m, fx->event, &fx->listen_fd, 1, collect, fx, &fx->log) < 0)
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    metrics_free(fx->m);
    close(fx->listen_fd); /* still ours: metrics_free() leaves it open */
    sd_event_unref(fx->event);
    free(fx);
    return 0;
}

static int client(const struct fixture *fx)
{
    struct sockaddr_in in;
    socklen_t len = sizeof in;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    assert_int_equal(getsockname(fx->listen_fd, (struct sockaddr *)&in, &len), 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&in, len), 0);
    return fd;
}

/* sd_event_run() dispatches one source at a time. */
static void run(const struct fixture *fx, int times)
{
    for (int i = 0; i < times; i++)
        assert_true(sd_event_run(fx->event, 1000) >= 0);
}

/* Runs the loop until the server has closed every connection. */
static void run_until_closed(const struct fixture *fx)
{
    for (int i = 0; i < 1000 && metrics_conns(fx->m) > 0; i++)
        run(fx, 1);
    assert_int_equal(metrics_conns(fx->m), 0);
}

/* Runs the loop until the server closes fd's connection; returns what it
 * sent, NUL-terminated. */
static size_t response_of(const struct fixture *fx, int fd, char *buf, size_t size)
{
    size_t len = 0;

    for (int i = 0; i < 1000; i++) {
        ssize_t n;

        run(fx, 1);
        n = recv(fd, buf + len, size - 1 - len, MSG_DONTWAIT);
        if (n == 0)
            break;
        if (n < 0) {
            assert_true(errno == EAGAIN);
            continue;
        }
        len += (size_t)n;
        assert_true(len < size - 1);
    }
    buf[len] = '\0';
    return len;
}

static void send_all(int fd, const char *s, size_t n)
{
    assert_int_equal(send(fd, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* The body's length as Content-Length says, checked against what came. */
static const char *checked_body(const char *resp, size_t len)
{
    const char *cl = strstr(resp, "\r\nContent-Length: ");
    const char *body = strstr(resp, "\r\n\r\n");

    assert_non_null(cl);
    assert_non_null(body);
    body += 4;
    assert_true(cl < body);
    assert_int_equal(strtoul(cl + 18, NULL, 10), len - (size_t)(body - resp));
    return body;
}

static void test_serves_a_scrape(void **state)
{
    struct fixture *fx = *state;
    const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
    char resp[METRICS_RESPONSE_MAX + 1];
    int fd = client(fx);
    size_t len;
    const char *body;

    send_all(fd, req, sizeof req - 1);
    len = response_of(fx, fd, resp, sizeof resp);
    assert_true(strncmp(resp, "HTTP/1.0 200 OK\r\n", 17) == 0);
    assert_non_null(strstr(resp, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
    body = checked_body(resp, len);
    assert_string_equal(body, expected);
    assert_non_null(strstr(body, "\nhellod_messages_total 4242\n"));
    assert_int_equal(fx->collected, 1);
    close(fd);
    run_until_closed(fx);
}

/* A request in pieces, as a slow client sends it; HTTP/1.1 and bare LFs. */
static void test_serves_a_request_in_pieces(void **state)
{
    struct fixture *fx = *state;
    static const char *const pieces[] = {"GE", "T /metrics?x=1 HT", "TP/1.1\nHost: lo", "calhost\n",
                                         "\n"};
    char resp[METRICS_RESPONSE_MAX + 1];
    int fd = client(fx);
    size_t len;

    for (size_t i = 0; i < ARRAY_SIZE(pieces); i++) {
        send_all(fd, pieces[i], strlen(pieces[i]));
        if (i + 1 == ARRAY_SIZE(pieces))
            break;
        run(fx, 2);
        assert_int_equal(fx->collected, 0);
        assert_int_equal(metrics_conns(fx->m), 1);
    }
    len = response_of(fx, fd, resp, sizeof resp);
    assert_true(strncmp(resp, "HTTP/1.0 200 OK\r\n", 17) == 0);
    assert_string_equal(checked_body(resp, len), expected);
    close(fd);
}

static void test_serves_errors(void **state)
{
    struct fixture *fx = *state;
    static const struct {
        const char *req, *status;
    } cases[] = {
        {"GET /other HTTP/1.0\r\n\r\n", "HTTP/1.0 404 Not Found\r\n"},
        {"POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", "HTTP/1.0 405 "},
        {"\x16\x03\x01\x02\x00", "HTTP/1.0 400 Bad Request\r\n"},
        {"HEAD /metrics HTTP/1.0\r\n\r\n", "HTTP/1.0 200 OK\r\n"},
    };
    char resp[METRICS_RESPONSE_MAX + 1];

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        int fd = client(fx);
        size_t len;

        send_all(fd, cases[i].req, strlen(cases[i].req));
        len = response_of(fx, fd, resp, sizeof resp);
        assert_true(strncmp(resp, cases[i].status, strlen(cases[i].status)) == 0);
        if (strstr(cases[i].req, "HEAD") == cases[i].req) {
            assert_string_equal(strstr(resp, "\r\n\r\n"), "\r\n\r\n"); /* no body */
            assert_non_null(strstr(resp, "Content-Length: "));
        } else {
            checked_body(resp, len);
        }
        close(fd);
    }
    assert_int_equal(fx->collected, 1); /* for HEAD only */
    (void)state;
}

static void test_refuses_an_over_long_request(void **state)
{
    struct fixture *fx = *state;
    static const char line[] = "GET /metrics HTTP/1.1\r\nX-Pad: ";
    char req[HTTP_REQUEST_MAX + 100], resp[METRICS_RESPONSE_MAX + 1];
    int fd = client(fx);
    size_t len;

    memcpy(req, line, sizeof line - 1); /* a header that never ends */
    memset(req + sizeof line - 1, 'p', sizeof req - (sizeof line - 1));
    send_all(fd, req, sizeof req);
    len = response_of(fx, fd, resp, sizeof resp);
    assert_true(strncmp(resp, "HTTP/1.0 431 ", 13) == 0);
    checked_body(resp, len);
    assert_int_equal(fx->collected, 0);
    close(fd);
}

/* Past METRICS_CONNS_MAX, a client is closed at once; the others are served. */
static void test_connection_limit(void **state)
{
    struct fixture *fx = *state;
    int fds[METRICS_CONNS_MAX + 1];
    char resp[METRICS_RESPONSE_MAX + 1];

    for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
        fds[i] = client(fx);
        run(fx, 2);
    }
    assert_int_equal(metrics_conns(fx->m), METRICS_CONNS_MAX);
    /* The last one was closed without a word. */
    assert_int_equal(response_of(fx, fds[METRICS_CONNS_MAX], resp, sizeof resp), 0);
    send_all(fds[0], "GET /metrics HTTP/1.0\r\n\r\n", 25);
    response_of(fx, fds[0], resp, sizeof resp);
    assert_true(strncmp(resp, "HTTP/1.0 200 OK\r\n", 17) == 0);
    for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
        close(fds[i]);
    run_until_closed(fx);
}

static uint64_t monotonic_usec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Answered, a client that does not close is read on for NET_LINGER_USEC, as
 * a hello connection is, and then closed (within METRICS_TIMEOUT). */
static void test_lingers_as_a_hello_connection(void **state)
{
    struct fixture *fx = *state;
    const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
    char resp[METRICS_RESPONSE_MAX + 1];
    int fd = client(fx);
    uint64_t shut, closed;

    send_all(fd, req, sizeof req - 1);
    response_of(fx, fd, resp, sizeof resp); /* up to the server's EOF: it lingers now */
    shut = monotonic_usec();
    assert_true(strncmp(resp, "HTTP/1.0 200 OK\r\n", 17) == 0);
    assert_int_equal(metrics_conns(fx->m), 1);
    while (metrics_conns(fx->m) > 0 && monotonic_usec() - shut < 2 * METRICS_TIMEOUT)
        run(fx, 1);
    closed = monotonic_usec();
    assert_int_equal(metrics_conns(fx->m), 0);
    /* The loop's clock may be a little older than ours at the shutdown. */
    assert_true(closed - shut >= NET_LINGER_USEC - 250 * 1000);
    assert_true(closed - shut < METRICS_TIMEOUT);
    close(fd);
}

/* metrics_free() closes the connections and leaves the listener to its owner. */
static void test_free_closes_connections(void **state)
{
    struct fixture *fx = *state;
    char byte;
    int fd = client(fx);

    run(fx, 2);
    assert_int_equal(metrics_conns(fx->m), 1);
    fx->m = metrics_free(fx->m);
    assert_int_equal(recv(fd, &byte, 1, 0), 0); /* closed */
    close(fd);
    fd = client(fx); /* the listener is still open */
    close(fd);
}

/* A client's bytes reach the log only escaped. */
static void test_log_escapes_client_bytes(void **state)
{
    struct fixture *fx = *state;
    const char req[] = "GET /\x1b[31mred\x7f HTTP/1.0\r\n\r\n";
    char resp[METRICS_RESPONSE_MAX + 1], logged[4096];
    FILE *tmp = tmpfile();
    int saved = dup(STDERR_FILENO), fd;
    size_t n;

    assert_non_null(tmp);
    assert_true(saved >= 0);
    fx->log.max_level = LOG_DEBUG;
    assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    fd = client(fx);
    send_all(fd, req, sizeof req - 1);
    response_of(fx, fd, resp, sizeof resp);
    close(fd);
    run_until_closed(fx);
    dup2(saved, STDERR_FILENO);
    close(saved);
    fx->log.max_level = LOG_WARNING;

    assert_true(strncmp(resp, "HTTP/1.0 400 ", 13) == 0);
    rewind(tmp);
    n = fread(logged, 1, sizeof logged - 1, tmp);
    logged[n] = '\0';
    fclose(tmp);
    assert_non_null(strstr(logged, "metrics: 127.0.0.1:"));
    assert_non_null(strstr(logged, "\"GET /\\x1b[31mred\\x7f HTTP/1.0\" 400"));
    assert_null(strchr(logged, '\x1b'));
    assert_null(strchr(logged, '\x7f'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_exact),
        cmocka_unit_test(test_format_is_text_format),
        cmocka_unit_test(test_format_zero),
        cmocka_unit_test(test_format_small_buffer),
        cmocka_unit_test(test_response_metrics),
        cmocka_unit_test(test_response_head),
        cmocka_unit_test(test_response_errors),
        cmocka_unit_test(test_response_sizes),
        cmocka_unit_test_setup_teardown(test_serves_a_scrape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_serves_a_request_in_pieces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_serves_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_an_over_long_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lingers_as_a_hello_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_closes_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_escapes_client_bytes, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
