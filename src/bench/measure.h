/*
 * The measuring parts of the benchmark tools, shared by paddock bench (src/bench) and
 * bench/loadgen.c and bench/fill.c: the latency histogram (hist.c) and process CPU and
 * memory figures (procstat.c).
 */
#ifndef PD_BENCH_MEASURE_H
#define PD_BENCH_MEASURE_H

#include <stdint.h>

/* ---- latency histogram (hist.c) -------------------------------------------- */

/*
 * Values in ns. Index v for v < 128; above, 64 linear sub-buckets per power
 * of two, so every value is within ~1.6% of its bucket's edges; 2^42 ns
 * (73 min) fits under HIST_BUCKETS.
 */
#define HIST_SUB     64
#define HIST_BUCKETS (HIST_SUB * 38)

struct hist {
    uint64_t counts[HIST_BUCKETS];
    uint64_t n;      /* values recorded */
    uint64_t max_ns; /* largest value recorded */
};

static inline unsigned hist_index(uint64_t v)
{
    if (v < 2 * HIST_SUB)
        return (unsigned)v;
    unsigned e = (unsigned)(63 - __builtin_clzll(v)) - 6;
    unsigned i = HIST_SUB * e + (unsigned)(v >> e);
    return i < HIST_BUCKETS ? i : HIST_BUCKETS - 1;
}

/* Records one value (ns). Inline: it runs once per completed request. */
static inline void hist_add(struct hist *h, uint64_t v)
{
    h->counts[hist_index(v)]++;
    h->n++;
    if (v > h->max_ns)
        h->max_ns = v;
}

/* Adds h's counts to *into. */
void hist_merge(struct hist *into, const struct hist *h);

/* The q-quantile in µs (upper edge of its bucket, capped at the max seen); 0 when empty. */
double hist_quantile_us(const struct hist *h, double q);

/* ---- process figures (procstat.c) ------------------------------------------- */

/* This process's user + system CPU in µs (getrusage RUSAGE_SELF). */
int64_t procstat_self_cpu_us(void);

/* utime + stime of process pid (all its threads, live and dead) in µs; -1 if unreadable. */
int64_t procstat_cpu_us(int pid);

/* A "Vm...:" line of /proc/PID/status ("VmRSS", "VmHWM") in kB; -1 if unreadable. */
long procstat_status_kb(int pid, const char *key);

#endif
