/* The latency histogram of paddock bench (src/bench/hist.c, measure.h): exact small values,
 * log-linear buckets within 1/64 of their values, quantiles, merging, the top bucket. */
#include "bench/measure.h"
#include "t.h"

#include <stdlib.h>

/* 64 sub-buckets per power of two: a bucket's upper edge is within 1/64 of any value in it. */
#define PRECISION (1.0 / HIST_SUB)

static struct hist *hist_new(void)
{
    struct hist *h = calloc(1, sizeof(*h));
    if (!h)
        abort();
    return h;
}

static uint64_t sum_counts(const struct hist *h)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        n += h->counts[i];
    return n;
}

/* The upper edge (ns) of v's bucket, as hist_quantile_us() reports it: v alone in its bucket,
 * and a larger max so that the edge is not capped. */
static uint64_t upper_edge(uint64_t v)
{
    struct hist *h = hist_new();
    hist_add(h, v);
    h->max_ns = UINT64_MAX;
    double us = hist_quantile_us(h, 0);
    free(h);
    return (uint64_t)(us * 1e3 + 0.5);
}

static void test_empty(void)
{
    struct hist *h = hist_new();
    CHECK(hist_quantile_us(h, 0) == 0);
    CHECK(hist_quantile_us(h, 0.5) == 0);
    CHECK(hist_quantile_us(h, 0.99) == 0);
    CHECK(hist_quantile_us(h, 1) == 0);
    free(h);
}

static void test_small_values_exact(void)
{
    for (uint64_t v = 0; v < 2 * HIST_SUB; v++) {
        CHECK_EQ_INT(hist_index(v), v);
        CHECK_EQ_INT(upper_edge(v), v);
    }
    /* every quantile of 0..127 ns is the value of that rank */
    struct hist *h = hist_new();
    for (uint64_t v = 0; v < 128; v++)
        hist_add(h, v);
    CHECK_EQ_INT(h->n, 128);
    CHECK_EQ_INT(h->max_ns, 127);
    for (unsigned i = 0; i < 128; i++)
        CHECK_EQ_INT(h->counts[i], 1);
    CHECK(hist_quantile_us(h, 0) == 0);
    CHECK(hist_quantile_us(h, 0.5) == 0.064);
    CHECK(hist_quantile_us(h, 0.25) == 0.032);
    CHECK(hist_quantile_us(h, 1) == 0.127);
    free(h);
}

/* Bucket edges: consecutive, every value under its bucket's upper edge by at most 1/64. */
static void check_bucket_of(uint64_t v)
{
    unsigned i = hist_index(v);
    CHECK(i < HIST_BUCKETS);
    uint64_t hi = upper_edge(v);
    if (hi < v || (double)(hi - v) > (double)v * PRECISION || hist_index(hi) != i ||
        (i + 1 < HIST_BUCKETS && hist_index(hi + 1) != i + 1)) {
        fprintf(stderr, "  value %" PRIu64 ": bucket %u, upper edge %" PRIu64 "\n", v, i, hi);
        CHECK(0);
    }
}

static void test_buckets(void)
{
    /* every value across the first few powers of two, then each bucket's edges */
    for (uint64_t v = 0; v < 1 << 14; v++)
        check_bucket_of(v);
    unsigned last = 0;
    for (uint64_t v = 1 << 14; v < (uint64_t)1 << 43; v = v + v / 97 + 1) {
        check_bucket_of(v);
        unsigned i = hist_index(v);
        CHECK(i >= last); /* monotonic */
        last = i;
    }
    /* 2^42 ns (73 min) is below the top bucket, as measure.h promises */
    CHECK(hist_index((uint64_t)1 << 42) < HIST_BUCKETS - 1);
    check_bucket_of((uint64_t)1 << 42);
    CHECK_EQ_INT(hist_index(((uint64_t)1 << 43) - 1), HIST_BUCKETS - 1);
}

/* The q-quantile of 1..10000 µs recorded once each: at least the value of that rank (the
 * upper edge of its bucket), at most 1/64 above it. */
static void test_uniform(void)
{
    struct hist *h = hist_new();
    for (uint64_t us = 10000; us >= 1; us--) /* order does not matter */
        hist_add(h, us * 1000);
    CHECK_EQ_INT(h->n, 10000);
    CHECK_EQ_INT(h->max_ns, 10000000);
    CHECK_EQ_INT(sum_counts(h), 10000);
    static const double qs[] = {0, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999};
    for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
        double want = (double)(uint64_t)(qs[k] * 10000) + 1; /* rank floor(q n), from 0 */
        double got = hist_quantile_us(h, qs[k]);
        if (!(got >= want && got <= want * (1 + PRECISION))) {
            fprintf(stderr, "  q %g: %f us, want %f us\n", qs[k], got, want);
            CHECK(0);
        }
    }
    /* the top is the max itself, not its bucket's edge */
    CHECK(hist_quantile_us(h, 1) == 10000);
    CHECK(hist_quantile_us(h, 0.99999) == 10000);
    /* quantiles never go down as q goes up */
    double prev = 0;
    for (int k = 0; k <= 1000; k++) {
        double got = hist_quantile_us(h, k / 1000.0);
        CHECK(got >= prev);
        prev = got;
    }
    free(h);
}

/* 99 fast values and one slow: p50 is fast, p99 is the 100th value's bucket. */
static void test_skewed(void)
{
    struct hist *h = hist_new();
    for (int i = 0; i < 99; i++)
        hist_add(h, 50000); /* 50 µs */
    hist_add(h, 7000000);   /* 7 ms */
    double p50 = hist_quantile_us(h, 0.5), p98 = hist_quantile_us(h, 0.98);
    double p99 = hist_quantile_us(h, 0.99);
    CHECK(p50 >= 50 && p50 <= 50 * (1 + PRECISION));
    CHECK(p98 >= 50 && p98 <= 50 * (1 + PRECISION));
    CHECK(p99 == 7000); /* capped at the max */
    free(h);
}

static void test_max_capping(void)
{
    struct hist *h = hist_new();
    hist_add(h, 1000001); /* its bucket's upper edge is above it */
    CHECK(upper_edge(1000001) > 1000001);
    CHECK(hist_quantile_us(h, 0) == 1000.001);
    CHECK(hist_quantile_us(h, 0.5) == 1000.001);
    CHECK(hist_quantile_us(h, 1) == 1000.001);
    /* a value in the same bucket but below the max is reported as the max */
    hist_add(h, 1000000);
    CHECK_EQ_INT(hist_index(1000000), hist_index(1000001));
    CHECK(hist_quantile_us(h, 0) == 1000.001);
    CHECK_EQ_INT(h->max_ns, 1000001);
    free(h);
}

static void test_merge(void)
{
    struct hist *a = hist_new(), *b = hist_new(), *all = hist_new();
    for (uint64_t v = 1; v <= 5000; v += 3) {
        hist_add(a, v * 997);
        hist_add(all, v * 997);
    }
    for (uint64_t v = 1; v <= 3000; v += 7) {
        hist_add(b, v * 12345);
        hist_add(all, v * 12345);
    }
    uint64_t na = a->n, nb = b->n, max_b = b->max_ns;
    CHECK(max_b > a->max_ns);
    hist_merge(a, b);
    CHECK_EQ_INT(a->n, na + nb);
    CHECK_EQ_INT(a->max_ns, max_b);
    CHECK(memcmp(a->counts, all->counts, sizeof(a->counts)) == 0);
    CHECK_EQ_INT(a->n, all->n);
    CHECK_EQ_INT(a->max_ns, all->max_ns);
    CHECK(hist_quantile_us(a, 0.5) == hist_quantile_us(all, 0.5));
    CHECK(hist_quantile_us(a, 0.99) == hist_quantile_us(all, 0.99));
    CHECK_EQ_INT(sum_counts(b), nb); /* the source is left alone */

    /* merging a smaller max keeps the larger; merging an empty histogram changes nothing */
    struct hist *small = hist_new(), *empty = hist_new();
    hist_add(small, 5);
    hist_merge(a, small);
    CHECK_EQ_INT(a->max_ns, max_b);
    CHECK_EQ_INT(a->n, na + nb + 1);
    CHECK_EQ_INT(a->counts[5], all->counts[5] + 1);
    hist_merge(a, empty);
    CHECK_EQ_INT(a->n, na + nb + 1);
    /* into an empty one: a copy */
    hist_merge(empty, b);
    CHECK(memcmp(empty->counts, b->counts, sizeof(b->counts)) == 0);
    CHECK_EQ_INT(empty->n, b->n);
    CHECK_EQ_INT(empty->max_ns, b->max_ns);
    free(a), free(b), free(all), free(small), free(empty);
}

/* Values past 2^43 ns share the top bucket; nothing is written past the array. */
static void test_huge_values(void)
{
    static const uint64_t huge[] = {
        ((uint64_t)1 << 43) - 1, (uint64_t)1 << 43, (uint64_t)1 << 50,
        (uint64_t)1 << 63,       UINT64_MAX - 1,    UINT64_MAX,
    };
    const size_t n_huge = sizeof(huge) / sizeof(huge[0]);
    struct hist *h = hist_new();
    for (size_t k = 0; k < n_huge; k++) {
        CHECK_EQ_INT(hist_index(huge[k]), HIST_BUCKETS - 1);
        hist_add(h, huge[k]);
    }
    /* an index past the array would have landed on n or max_ns, right after counts[] */
    CHECK_EQ_INT(h->n, n_huge);
    CHECK(h->max_ns == UINT64_MAX);
    CHECK_EQ_INT(h->counts[HIST_BUCKETS - 1], n_huge);
    CHECK_EQ_INT(sum_counts(h), n_huge);
    /* the quantile is the top bucket's edge, a finite 2^43 ns, below the max */
    double top = hist_quantile_us(h, 0.5);
    CHECK(top == (double)(((uint64_t)1 << 43) - 1) / 1e3);
    CHECK(hist_quantile_us(h, 1) == top);

    struct hist *m = hist_new();
    hist_add(m, 1);
    hist_merge(m, h);
    CHECK_EQ_INT(m->n, n_huge + 1);
    CHECK(m->max_ns == UINT64_MAX);
    CHECK(hist_quantile_us(m, 0) == 0.001);
    free(h), free(m);
}

int main(void)
{
    RUN(test_empty);
    RUN(test_small_values_exact);
    RUN(test_buckets);
    RUN(test_uniform);
    RUN(test_skewed);
    RUN(test_max_capping);
    RUN(test_merge);
    RUN(test_huge_values);
    return t_done();
}
