/*
 * What the files of src/bench share: the options (opts.c), the latency
 * histogram (hist.c), process CPU and memory figures (procstat.c). The
 * sessions and the event loop are in run.c, the report in report.c.
 */
#ifndef PD_BENCH_BENCH_INT_H
#define PD_BENCH_BENCH_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* ---- options (opts.c) ------------------------------------------------------ */

enum bench_op {
    BENCH_GET,
    BENCH_SET,
    BENCH_CREATE,
    BENCH_DELETE,
    BENCH_EXISTS,
    BENCH_CHILDREN,
    BENCH_MULTI,
    BENCH_MIXED,
    BENCH_OP_COUNT,
};

#define BENCH_MAX_PIDS 16

struct bench_opts {
    const char *hosts;               /* borrowed from argv: "h:p[,h:p...][/chroot]" */
    int clients;                     /* sessions */
    int depth;                       /* outstanding requests per session */
    enum bench_op op;                /* workload */
    int read_pct;                    /* mixed: percent of gets */
    int size_bytes;                  /* value size */
    int keys;                        /* key space */
    double duration_s;               /* timed run */
    double warmup_s;                 /* before the timed run */
    int server_pids[BENCH_MAX_PIDS]; /* --server-pid */
    int n_server_pids;
    int session_timeout_ms; /* requested */
    int connect_timeout_ms; /* every session must connect within it */
    bool is_setup_skipped;  /* --no-setup */
};

/* The workload's name as given to --op ("get"); static storage. */
const char *bench_op_name(enum bench_op op);

/*
 * Parses argv (argv[0] is the subcommand's name) into *o. Returns 0, 1 for
 * --help (usage printed to stdout), or -1 after printing what is wrong and
 * the usage to stderr.
 */
int bench_opts_parse(int argc, char **argv, struct bench_opts *o);

/* Prints the usage text to f. */
void bench_usage(FILE *f);

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

/* ---- a run and its report (run.c, report.c) ---------------------------------- */

#define BENCH_MAX_ERR_CODES 16

/* What a run measured; filled by bench_run(), printed by bench_report(). */
struct bench_result {
    uint64_t ops;                        /* requests completed during the timed run (errors too) */
    double secs;                         /* length of the timed run */
    struct hist h_read;                  /* latencies of reads (get, exists, children) in the run */
    struct hist h_write;                 /* latencies of writes (set, create, delete, multi) */
    uint64_t errors;                     /* failed requests in every phase */
    int err_rc[BENCH_MAX_ERR_CODES];     /* distinct codes of the failures... */
    uint64_t err_n[BENCH_MAX_ERR_CODES]; /* ...and how many of each */
    int n_err_codes;
    uint64_t created;       /* nodes made by the create workload, every phase */
    uint64_t deleted;       /* keys removed by the delete workload, every phase */
    int keys_setup;         /* keys created or found by setup; -1 when skipped */
    double setup_secs;      /* time setup took */
    uint64_t disconnects;   /* connections lost (sessions resumed or not) */
    int64_t cpu_us;         /* this process's CPU during the timed run */
    int64_t srv_cpu_us;     /* --server-pid processes' CPU during it; -1 unknown */
    long srv_rss_kb;        /* their VmRSS at its end, summed; -1 unknown */
    long srv_hwm_kb;        /* their VmHWM, summed; -1 unknown */
    bool is_connect_failed; /* a session did not connect in time: nothing ran */
    bool is_broken;         /* a session failed, or requests went unanswered */
};

/*
 * Runs the benchmark o describes (connect, setup, warm-up, timed run, drain,
 * close), filling *r (zeroed by the caller). Returns 0 when the run went
 * through its phases (r says how it went), -1 when it could not start (out
 * of memory, bad host string: said on stderr).
 */
int bench_run(const struct bench_opts *o, struct bench_result *r);

/* Prints the human-readable report and the RESULT line to stdout. */
void bench_report(const struct bench_opts *o, const struct bench_result *r);

/* ---- process figures (procstat.c) ------------------------------------------- */

/* This process's user + system CPU in µs (getrusage RUSAGE_SELF). */
int64_t procstat_self_cpu_us(void);

/* utime + stime of process pid (all its threads, live and dead) in µs; -1 if unreadable. */
int64_t procstat_cpu_us(int pid);

/* A "Vm...:" line of /proc/PID/status ("VmRSS", "VmHWM") in kB; -1 if unreadable. */
long procstat_status_kb(int pid, const char *key);

#endif
