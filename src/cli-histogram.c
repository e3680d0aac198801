/* cli-histogram.c - log-linear latency buckets (pure). */
#include "config.h"

#include "cli-histogram.h"

#include <string.h>

/* Above the exact range, the power of two [2^k, 2^(k+1)) has its buckets
 * 2^(k - SHIFT_BASE) wide: HIST_SUB_BUCKETS of them. */
#define SHIFT_BASE (HIST_EXACT_BITS - 1)

void hist_init(struct hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

unsigned hist_bucket(uint64_t value)
{
    unsigned k, shift;

    if (value < HIST_EXACT)
        return (unsigned)value;
    k = 63u - (unsigned)__builtin_clzll(value); /* HIST_EXACT_BITS <= k < HIST_MAX_BITS */
    shift = k - SHIFT_BASE;
    return HIST_EXACT + (k - HIST_EXACT_BITS) * HIST_SUB_BUCKETS + (unsigned)(value >> shift) -
           HIST_SUB_BUCKETS;
}

uint64_t hist_bucket_low(unsigned bucket)
{
    unsigned j, k;

    if (bucket < HIST_EXACT)
        return bucket;
    j = bucket - HIST_EXACT;
    k = HIST_EXACT_BITS + j / HIST_SUB_BUCKETS;
    return (uint64_t)(HIST_SUB_BUCKETS + j % HIST_SUB_BUCKETS) << (k - SHIFT_BASE);
}

uint64_t hist_bucket_high(unsigned bucket)
{
    unsigned k;

    if (bucket < HIST_EXACT)
        return bucket;
    k = HIST_EXACT_BITS + (bucket - HIST_EXACT) / HIST_SUB_BUCKETS;
    return hist_bucket_low(bucket) + (UINT64_C(1) << (k - SHIFT_BASE)) - 1;
}

void hist_record(struct hist *h, uint64_t value)
{
    h->count++;
    h->sum += value;
    if (value < h->min)
        h->min = value;
    if (value > h->max)
        h->max = value;
    if (value > HIST_MAX)
        h->overflow++;
    else
        h->buckets[hist_bucket(value)]++;
}

uint64_t hist_percentile(const struct hist *h, uint32_t millionths)
{
    uint64_t rank, seen = 0;

    if (h->count == 0)
        return 0;
    if (millionths > 1000000)
        millionths = 1000000;
    /* The rank of the value, from 1: ceil(count * share), at least the first. */
    rank = (h->count * millionths + 999999) / 1000000;
    if (rank == 0)
        rank = 1;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t v = hist_bucket_high(i);
            if (v > h->max)
                v = h->max;
            return v < h->min ? h->min : v;
        }
    }
    return h->max; /* the rank is among the values above HIST_MAX */
}

uint64_t hist_mean(const struct hist *h)
{
    return h->count ? h->sum / h->count : 0;
}
