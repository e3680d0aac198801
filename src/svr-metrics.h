/* svr-metrics.h - the metrics endpoint: GET /metrics on listeners of its own
 * answers with hellod's counters in Prometheus's text format (0.0.4). A tiny
 * HTTP/1.0 responder on the main thread's loop, apart from the hello protocol
 * and off by default: one request per connection, answered and closed; a
 * bounded number of connections, each with a small fixed buffer and a
 * deadline, so that a scraper gone wrong costs little and nothing lasts. */
#ifndef HELLO_SVR_METRICS_H
#define HELLO_SVR_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "log.h"
#include "svr-stats.h"

/* A request (its line, its headers and the blank line) must fit in this. */
#define HTTP_REQUEST_MAX 2048
/* The most metrics connections open at once; more are closed at once. */
#define METRICS_CONNS_MAX 16
/* From accept to close: reading the request, writing the answer. */
#define METRICS_TIMEOUT (5 * 1000000ULL)
/* Room for a whole response, the largest figures included. */
#define METRICS_RESPONSE_MAX 4096

/* All workers' figures summed, by the caller's collect function: one of
 * each counter of svr-stats.h, and the workers. */
struct metrics_figures {
    STATS_FIELDS(STATS_DECLARE_U64)
    unsigned workers;
};

/* Called once per GET or HEAD /metrics, on the loop's thread; fills every
 * field of out. */
typedef void (*metrics_collect_fn)(struct metrics_figures *out, void *userdata);

struct metrics;

/* Serves fds (listening stream sockets, non-blocking: TCP or UNIX, any
 * number) on event. The descriptors stay the caller's: metrics_free() does
 * not close them. log must outlive m (a reload may change its level). */
int metrics_new(struct metrics **out, sd_event *event, const int *fds, unsigned n_fds,
                metrics_collect_fn collect, void *userdata, const struct logger *log);

/* Stops watching the listeners and closes every metrics connection. */
struct metrics *metrics_free(struct metrics *m);

/* Metrics connections open now. */
unsigned metrics_conns(const struct metrics *m);

/* --- pure, for the tests -------------------------------------------------- */

/* Writes the exposition of f into buf (NUL-terminated when size > 0; buf may
 * be NULL when size is 0) and returns its length, as snprintf() does: a
 * return of size or more means it did not fit. */
size_t metrics_format(char *buf, size_t size, const struct metrics_figures *f);

enum http_result {
    HTTP_INCOMPLETE,  /* no blank line yet, and nothing wrong so far */
    HTTP_METRICS,     /* GET or HEAD of /metrics (a query string is allowed): 200 */
    HTTP_NOT_FOUND,   /* any other path: 404 */
    HTTP_BAD_METHOD,  /* /metrics with a method other than GET and HEAD: 405 */
    HTTP_BAD_REQUEST, /* not an HTTP/1.x request: 400 */
    HTTP_TOO_LARGE,   /* no blank line within HTTP_REQUEST_MAX bytes: 431 */
};

/* Reads the request in buf[0..len): the request line and the header lines,
 * each ended by CR LF or a bare LF, up to the blank line; anything after it is
 * ignored. A malformed request line or header is HTTP_BAD_REQUEST as soon as
 * its bad byte arrives; otherwise the answer waits for the blank line. Any
 * answer but HTTP_INCOMPLETE is final: more bytes never change it. *head is
 * set when the method is HEAD (then a response has no body). */
enum http_result http_parse_request(const char *buf, size_t len, bool *head);

/* Writes the whole response to a request parsed as r (not HTTP_INCOMPLETE):
 * status line, headers and (unless head) body; f is read only for
 * HTTP_METRICS. Returns its length as snprintf() does. */
size_t http_response(char *buf, size_t size, enum http_result r, bool head,
                     const struct metrics_figures *f);

#endif
