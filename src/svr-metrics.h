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
#include "svr-metrics-text.h"

/* The most metrics connections open at once; more are closed at once. */
#define METRICS_CONNS_MAX 16
/* From accept to close: reading the request, writing the answer. */
#define METRICS_TIMEOUT (5 * 1000000ULL)
/* Room for a whole response, the largest figures included. */
#define METRICS_RESPONSE_MAX 4096

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

#endif
