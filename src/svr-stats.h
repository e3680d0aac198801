/* svr-stats.h - hellod's counters, said once. The list below makes a worker's
 * counters (struct stats), the figures the metrics endpoint shows summed
 * (struct metrics_figures) and their exposition: a counter added here is
 * counted, summed and shown. A leaf: it includes nothing of hellod's. */
#ifndef HELLO_SVR_STATS_H
#define HELLO_SVR_STATS_H

#include <stdatomic.h>
#include <stdint.h>

/* X(field, metric, type, labels, help): a type and help of NULL mean "a
 * further sample of the family on the line before". */
#define STATS_FIELDS(X)                                                                            \
    X(connections_open, "hellod_connections_open", "gauge", "", "Client connections open now.")    \
    X(connections_total, "hellod_connections_total", "counter", "",                                \
      "Client connections accepted.")                                                              \
    X(messages_total, "hellod_messages_total", "counter", "",                                      \
      "Messages answered (the reply fully sent).")                                                 \
    X(bytes_in, "hellod_bytes_received_total", "counter", "", "Bytes received from clients.")      \
    X(bytes_out, "hellod_bytes_sent_total", "counter", "", "Bytes sent to clients.")               \
    X(too_long, "hellod_errors_total", "counter", "{kind=\"message_too_long\"}",                   \
      "Client connections closed for an error of the client, by kind.")                            \
    X(proxy_errors, "hellod_errors_total", NULL, "{kind=\"proxy_header\"}", NULL)                  \
    X(busy, "hellod_rejected_total", "counter", "{reason=\"server_busy\"}",                        \
      "Clients refused, by reason.")                                                               \
    X(idle_timeouts, "hellod_timeouts_total", "counter", "{kind=\"idle\"}",                        \
      "Client connections closed for a timeout, by kind.")                                         \
    X(handover_adopted, "hellod_handover_adopted_total", "counter", "",                            \
      "Client connections taken over at start from the hellod before the restart.")                \
    X(handover_closed, "hellod_handover_closed_total", "counter", "",                              \
      "Client connections the hellod before the restart handed over that could not be taken "      \
      "over (no readable state), closed at start.")

#define STATS_DECLARE_ATOMIC(field, ...) _Atomic uint64_t field;
#define STATS_DECLARE_U64(field, ...)    uint64_t field;

/* One worker's counters: written by that worker alone, read by the main
 * thread (STATUS=, metrics): relaxed atomics, which cost plain moves. */
struct stats {
    STATS_FIELDS(STATS_DECLARE_ATOMIC)
};

#define stats_get(s, field)    atomic_load_explicit(&(s)->field, memory_order_relaxed)
#define stats_set(s, field, v) atomic_store_explicit(&(s)->field, (v), memory_order_relaxed)
/* Only the owning thread adds: a load and a store, no locked instruction. */
#define stats_add(s, field, n) stats_set(s, field, stats_get(s, field) + (n))

#endif
