/*
 * The latency histogram of paddock bench: log-linear buckets (the layout of
 * bench/loadgen.c's, so both tools report the same quantiles for the same
 * values). hist_add() is inline in bench_int.h.
 */
#include "bench/measure.h"

/* Highest value of bucket i. */
static uint64_t hist_high(unsigned i)
{
    if (i < 2 * HIST_SUB)
        return i;
    unsigned e = i / HIST_SUB - 1;
    uint64_t m = i - (uint64_t)HIST_SUB * e;
    return ((m + 1) << e) - 1;
}

void hist_merge(struct hist *into, const struct hist *h)
{
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        into->counts[i] += h->counts[i];
    into->n += h->n;
    if (h->max_ns > into->max_ns)
        into->max_ns = h->max_ns;
}

double hist_quantile_us(const struct hist *h, double q)
{
    if (h->n == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)h->n);
    if (rank >= h->n)
        rank = h->n - 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen > rank) {
            uint64_t v = hist_high(i);
            return (double)(v < h->max_ns ? v : h->max_ns) / 1e3;
        }
    }
    return (double)h->max_ns / 1e3;
}
