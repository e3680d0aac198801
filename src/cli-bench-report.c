/* cli-bench-report.c - what hello-cli bench prints when the run is over:
 * the report for people, or one JSON line, and the exit status. */
#include "config.h"

#include "cli-bench.h"

#include <stdio.h>

/* 1482113 as "1,482,113". */
static const char *grouped(uint64_t v, char *buf, size_t size)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    size_t j = 0;

    for (int i = 0; i < n && j + 2 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[j++] = ',';
        buf[j++] = digits[i];
    }
    buf[j] = '\0';
    return buf;
}

static double per_second(uint64_t count, uint64_t usec)
{
    return usec ? (double)count * 1e6 / (double)usec : 0.0;
}

static const char *const mode_names[] = {
    [BENCH_PERSISTENT] = "persistent",
    [BENCH_CONNECT] = "connect",
    [BENCH_HOLD] = "hold",
};

static const char *status_name(enum cli_status s)
{
    switch (s) {
    case CLI_DONE:
        return "ok";
    case CLI_CONNECT_FAILED:
        return "connect-failed";
    case CLI_TIMED_OUT:
        return "timeout";
    default:
        return "failed";
    }
}

/* A JSON string's contents: quotes, backslashes and control bytes escaped. */
static void json_string(FILE *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
}

static void report_json(const struct bench_options *o, const struct bench_result *r,
                        const char *where, FILE *out)
{
    const struct hist *h = &r->latency;

    fputs("{\"target\":\"", out);
    json_string(out, where);
    fprintf(out, "\",\"mode\":\"%s\",\"connections\":%u,\"pipeline\":%u,", mode_names[o->mode],
            bench_connections(o), bench_pipeline(o));
    fprintf(out,
            "\"seconds\":%.6f,\"sent\":%llu,\"replies\":%llu,\"replies_per_sec\":%.1f,"
            "\"p50_us\":%llu,\"p99_us\":%llu,\"p999_us\":%llu,\"max_us\":%llu,\"mean_us\":%llu,"
            "\"errors\":%llu,\"connects\":%llu,\"connect_failures\":%llu,\"closed\":%llu,"
            "\"held\":%llu,\"status\":\"%s\"}\n",
            (double)r->elapsed_us / 1e6, (unsigned long long)r->sent,
            (unsigned long long)r->replies, per_second(r->replies, r->elapsed_us),
            (unsigned long long)hist_percentile(h, HIST_PCT(50)),
            (unsigned long long)hist_percentile(h, HIST_PCT(99)),
            (unsigned long long)hist_percentile(h, HIST_PCT(99.9)), (unsigned long long)h->max,
            (unsigned long long)hist_mean(h), (unsigned long long)r->errors,
            (unsigned long long)r->connects, (unsigned long long)r->connect_failures,
            (unsigned long long)r->closed, (unsigned long long)r->held, status_name(r->status));
}

static void report_text(const struct bench_options *o, const struct bench_result *r,
                        const char *where, FILE *out)
{
    const struct hist *h = &r->latency;
    char a[32], b[32], c[32], d[32], e[32];

    if (o->mode == BENCH_HOLD)
        fprintf(out, "hello-cli bench: %s, held %s connections, then one message on each\n", where,
                grouped(r->held, a, sizeof a));
    else if (o->mode == BENCH_CONNECT)
        fprintf(out, "hello-cli bench: %s, %u one-shot connections at once\n", where,
                o->connections);
    else
        fprintf(out, "hello-cli bench: %s, %u connections, pipeline %u\n", where, o->connections,
                o->pipeline);
    fprintf(out, "  replies   %s in %.2f s: %s/s\n", grouped(r->replies, a, sizeof a),
            (double)r->elapsed_us / 1e6,
            grouped((uint64_t)(per_second(r->replies, r->elapsed_us) + 0.5), b, sizeof b));
    fprintf(out, "  latency   p50 %s us, p99 %s us, p99.9 %s us, max %s us, mean %s us\n",
            grouped(hist_percentile(h, HIST_PCT(50)), a, sizeof a),
            grouped(hist_percentile(h, HIST_PCT(99)), b, sizeof b),
            grouped(hist_percentile(h, HIST_PCT(99.9)), c, sizeof c), grouped(h->max, d, sizeof d),
            grouped(hist_mean(h), e, sizeof e));
    fprintf(out, "  errors    %s ERROR replies, %s connections closed by the server\n",
            grouped(r->errors, a, sizeof a), grouped(r->closed, b, sizeof b));
    fprintf(out, "  connects  %s, %s failed\n", grouped(r->connects, a, sizeof a),
            grouped(r->connect_failures, b, sizeof b));
}

enum cli_exit cli_bench_report(const struct bench_options *opts, const struct bench_result *res,
                               FILE *out)
{
    char where[CLI_TARGET_STRLEN];
    struct cli_result cr = {.status = res->status,
                            .error = res->error,
                            .gai_error = res->gai_error,
                            .replies = res->replies};

    cli_target_format(&opts->target, where, sizeof where);
    if (res->fd_limit) {
        fprintf(stderr, "hello-cli: bench needs %u descriptors and more; the limit here is %llu\n",
                bench_connections(opts), (unsigned long long)res->fd_limit);
        return CLI_EXIT_CONNECT;
    }
    if (res->status == CLI_CONNECT_FAILED && res->connects == 0) {
        if (opts->json)
            report_json(opts, res, where, out);
        return cli_report(&cr, &opts->target);
    }
    if (opts->json)
        report_json(opts, res, where, out);
    else
        report_text(opts, res, where, out);
    fflush(out);
    if (res->status != CLI_DONE)
        return cli_report(&cr, &opts->target);
    if (res->errors > 0 || res->closed > 0 || res->connect_failures > 0)
        return CLI_EXIT_PROTOCOL;
    if (opts->mode == BENCH_HOLD && res->replies < res->held)
        return CLI_EXIT_PROTOCOL;
    return CLI_EXIT_OK;
}
