/*
 * paddock bench: a load generator for ZooKeeper-compatible servers, built on
 * libpaddock (include/paddock/client.h); it speaks no protocol of its own.
 *
 *   paddock bench --hosts h1:p1[,h2:p2...][/chroot] [--clients N] [--depth D]
 *                 [--op get|set|create|delete|exists|children|multi|mixed]
 *                 [--read-pct P] [--size BYTES] [--keys K] [--duration S]
 *                 [--warmup S] [--server-pid PID[,PID...]]
 *                 [--session-timeout MS] [--connect-timeout MS] [--no-setup]
 *
 * N sessions (spread round-robin over the hosts: session i tries host
 * i mod #hosts first, then the others in order), each keeping D requests
 * outstanding, all driven from one thread with one epoll set.
 *
 * Phases: connect (every session within --connect-timeout, or exit 1),
 * setup (the chroot's nodes if any, /bench, /bench/seq and the K keys
 * /bench/k%08d with BYTES of data; NODEEXISTS is fine, so a second run
 * reuses them and recreates what a delete run took), warm-up, timed run,
 * drain (wait for what is outstanding), closeSession. Only completions
 * during the timed run are counted and timed; errors count in every phase.
 * --no-setup skips setup (the keys must exist).
 *
 * Workloads (key = a uniformly random one of the K keys):
 *   get       getData(key)
 *   exists    exists(key)
 *   children  getChildren(key), no stat; the keys are leaves, so this times
 *             the request path, not the listing of a big directory
 *   set       setData(key, BYTES, version -1)
 *   create    create /bench/seq/n- PERSISTENT_SEQUENTIAL with BYTES (never
 *             deleted; the nodes accumulate under /bench/seq)
 *   delete    delete(key, version -1) of the keys setup made, each once, in
 *             key order from k00000000; when all K are gone no more are
 *             issued and the timed run ends early (so K bounds the ops; the
 *             warm-up consumes keys too)
 *   multi     one multi (one op counted) of three ops on two random keys A, B:
 *             check(A, version -1), setData(A), setData(B)
 *   mixed     P% get, the rest set
 *
 * Latency is issue -> completion per request: both ends are the clock read
 * once per epoll wake-up (a request issued from a completion carries the
 * wake-up's time), recorded in a log-linear histogram (64 sub-buckets per
 * power of two, within ~1.6%). Batching: all D requests of a session are
 * queued before the loop returns to epoll, and each completion queues the
 * session's next request at once, so every pdk_process() turn reads many
 * replies and ends with one send() of the refills.
 *
 * Output: throughput, p50/p90/p99/p99.9/max, errors by code, the tool's own
 * CPU per op (getrusage RUSAGE_SELF over the timed run / ops) and, with
 * --server-pid, the servers' CPU per op (utime+stime from /proc/PID/stat,
 * all threads, summed over the PIDs) and RSS (VmRSS and VmHWM, summed). The
 * last line is loadgen's RESULT line, same keys in the same order, with
 * extra keys at the end:
 *   RESULT op= clients= depth= ops= ops_per_s= p50_us= p90_us= p99_us=
 *          p999_us= max_us= errors= client_cpu_us_per_op=
 *          [server_cpu_us_per_op= server_rss_kb= server_hwm_kb=]
 *          created= deleted= disconnects= tool=paddock-bench
 *
 * Exit status: 0; 1 when any request failed (NODEEXISTS during setup
 * excepted), a session could not connect, lost its connection or expired,
 * or no operation completed in the timed run; 2 for bad arguments.
 */
#ifndef PD_BENCH_BENCH_H
#define PD_BENCH_BENCH_H

/* Runs `paddock bench`; argv[0] is "bench". Returns the exit status above. */
int bench_main(int argc, char **argv);

#endif
