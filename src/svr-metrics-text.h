/* svr-metrics-text.h - what a scrape of GET /metrics reads, made from the
 * figures alone (pure, and tested so): the exposition of every counter of
 * svr-stats.h in Prometheus's text format (0.0.4), and the HTTP/1.0 response
 * around it (or around an error) for a request svr-http.h parsed. */
#ifndef HELLO_SVR_METRICS_TEXT_H
#define HELLO_SVR_METRICS_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "svr-http.h"
#include "svr-stats.h"

/* All workers' figures summed, by the caller's collect function: one of
 * each counter of svr-stats.h, and the workers. */
struct metrics_figures {
    STATS_FIELDS(STATS_DECLARE_U64)
    unsigned workers;
};

/* Writes the exposition of f into buf (NUL-terminated when size > 0; buf may
 * be NULL when size is 0) and returns its length, as snprintf() does: a
 * return of size or more means it did not fit. */
size_t metrics_format(char *buf, size_t size, const struct metrics_figures *f);

/* Writes the whole response to a request parsed as r (not HTTP_INCOMPLETE):
 * status line, headers and (unless head) body; f is read only for
 * HTTP_METRICS. Returns its length as snprintf() does. */
size_t http_response(char *buf, size_t size, enum http_result r, bool head,
                     const struct metrics_figures *f);
/* The status code of that response (400 for HTTP_INCOMPLETE). */
int http_status(enum http_result r);

#endif
