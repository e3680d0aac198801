/* svr-metrics-text.c - what a scrape reads: the exposition of the figures
 * and the HTTP response around it. */
#include "config.h"

#include "svr-metrics-text.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* --- the exposition ------------------------------------------------------- */

/* An snprintf() that appends, and goes on counting once buf is full. */
struct out {
    char *buf;
    size_t size, len;
};

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...)
{
    bool room = o->len < o->size;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(room ? o->buf + o->len : NULL, room ? o->size - o->len : 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n;
}

static void family(struct out *o, const char *name, const char *type, const char *help)
{
    putf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* labels: "" or "{name=\"value\"}" */
static void sample(struct out *o, const char *name, const char *labels, uint64_t value)
{
    putf(o, "%s%s %" PRIu64 "\n", name, labels, value);
}

/* The exposition of each counter, in the order of svr-stats.h. */
static const struct metric {
    const char *name, *type, *labels, *help; /* type NULL: the family goes on */
    size_t offset;                           /* of its figure in metrics_figures */
} counters[] = {
#define METRIC(field, name, type, labels, help)                                                    \
    {name, type, labels, help, offsetof(struct metrics_figures, field)},
    STATS_FIELDS(METRIC)
#undef METRIC
};

size_t metrics_format(char *buf, size_t size, const struct metrics_figures *f)
{
    struct out o = {buf, size, 0};

    if (size > 0)
        buf[0] = '\0';
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
        const struct metric *m = &counters[i];
        if (m->type)
            family(&o, m->name, m->type, m->help);
        sample(&o, m->name, m->labels, *(const uint64_t *)((const char *)f + m->offset));
    }
    family(&o, "hellod_workers", "gauge", "Worker threads serving clients.");
    sample(&o, "hellod_workers", "", f->workers);
    return o.len;
}

/* --- the response --------------------------------------------------------- */

static const struct status {
    int code;
    const char *reason;
    const char *body;
} statuses[] = {
    [HTTP_METRICS] = {200, "OK", NULL},
    [HTTP_NOT_FOUND] = {404, "Not Found", "Not Found: hellod's metrics are at /metrics\n"},
    [HTTP_BAD_METHOD] = {405, "Method Not Allowed", "Method Not Allowed: use GET or HEAD\n"},
    [HTTP_BAD_REQUEST] = {400, "Bad Request", "Bad Request\n"},
    [HTTP_TOO_LARGE] = {431, "Request Header Fields Too Large",
                        "Request Header Fields Too Large\n"},
};

static const struct status *status_of(enum http_result r)
{
    if (r != HTTP_INCOMPLETE && (size_t)r < sizeof statuses / sizeof statuses[0])
        return &statuses[r];
    return &statuses[HTTP_BAD_REQUEST];
}

int http_status(enum http_result r)
{
    return status_of(r)->code;
}

size_t http_response(char *buf, size_t size, enum http_result r, bool head,
                     const struct metrics_figures *f)
{
    const struct status *st = status_of(r);
    struct out o = {buf, size, 0};
    size_t body_len;

    if (size > 0)
        buf[0] = '\0';
    body_len = st->body ? strlen(st->body) : metrics_format(NULL, 0, f);
    putf(&o, "HTTP/1.0 %d %s\r\n", st->code, st->reason);
    if (st->code == 200)
        putf(&o, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n");
    else
        putf(&o, "Content-Type: text/plain; charset=utf-8\r\n");
    if (st->code == 405)
        putf(&o, "Allow: GET, HEAD\r\n");
    putf(&o, "Content-Length: %zu\r\nConnection: close\r\n\r\n", body_len);
    if (head)
        return o.len;
    if (st->body) {
        putf(&o, "%s", st->body);
        return o.len;
    }
    return o.len +
           metrics_format(o.len < size ? buf + o.len : NULL, o.len < size ? size - o.len : 0, f);
}
