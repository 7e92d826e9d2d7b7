/*
 * What the files of src/bench share: the options (opts.c); the latency
 * histogram and process figures are in measure.h. The sessions and the event
 * loop are in run.c, the report in report.c.
 */
#ifndef PD_BENCH_BENCH_INT_H
#define PD_BENCH_BENCH_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bench/measure.h"

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
    const char *io;         /* how the sockets were served: "io_uring" or "epoll"; static */
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

#endif
