/* cli-histogram.h - latencies counted in log-linear buckets, as HdrHistogram
 * does (pure): every microsecond has a bucket of its own up to about 1 ms;
 * above that each power of two is split into HIST_SUB_BUCKETS buckets, so a
 * value is known to within 1/HIST_SUB_BUCKETS (0.2%) of itself. Recording is a
 * few instructions and never allocates; a percentile walks the buckets once. */
#ifndef HELLO_CLI_HISTOGRAM_H
#define HELLO_CLI_HISTOGRAM_H

#include <stdint.h>

#define HIST_EXACT_BITS  10 /* values below 2^10 us: one bucket each */
#define HIST_EXACT       (1u << HIST_EXACT_BITS)
#define HIST_SUB_BUCKETS (HIST_EXACT / 2)
#define HIST_MAX_BITS    32 /* the largest value tracked is 2^32 - 1 us: 71 minutes */
#define HIST_MAX         ((UINT64_C(1) << HIST_MAX_BITS) - 1)
#define HIST_BUCKETS     (HIST_EXACT + (HIST_MAX_BITS - HIST_EXACT_BITS) * HIST_SUB_BUCKETS)

/* A percentile in millionths: HIST_PCT(99.9) is 999000. */
#define HIST_PCT(p) ((uint32_t)((p)*10000.0 + 0.5))

struct hist {
    uint64_t count;    /* every value recorded, the overflowed ones too */
    uint64_t overflow; /* values above HIST_MAX: they have no bucket */
    uint64_t min, max; /* exact; min is UINT64_MAX while empty */
    uint64_t sum;      /* for the mean */
    uint64_t buckets[HIST_BUCKETS];
};

void hist_init(struct hist *h);

/* Counts one value (microseconds). */
void hist_record(struct hist *h, uint64_t value);

/* The value at a percentile given in millionths (HIST_PCT(50) for the
 * median): the smallest recorded value that this share of the values does
 * not exceed, reported as the highest value of its bucket (never above the
 * exact max). 0 for an empty histogram; a rank among the overflowed values
 * gives max. */
uint64_t hist_percentile(const struct hist *h, uint32_t millionths);

/* The mean, rounded down; 0 for an empty histogram. */
uint64_t hist_mean(const struct hist *h);

/* The bucket a value falls in, and the lowest and highest values of a bucket
 * (exposed for the tests). */
unsigned hist_bucket(uint64_t value);
uint64_t hist_bucket_low(unsigned bucket);
uint64_t hist_bucket_high(unsigned bucket);

#endif
