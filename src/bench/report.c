/*
 * What paddock bench prints at the end of a run: a few human-readable lines
 * and the RESULT line, whose keys and their order are bench/loadgen.c's (so
 * bench/compare.sh parses either), with paddock bench's own keys after them.
 */
#include "bench/bench_int.h"

#include "paddock/client.h"

#include <inttypes.h>

static void print_hist_line(const char *label, const struct hist *h)
{
    printf("  %-8s n=%" PRIu64 "  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f (us)\n", label,
           h->n, hist_quantile_us(h, 0.50), hist_quantile_us(h, 0.90), hist_quantile_us(h, 0.99),
           hist_quantile_us(h, 0.999), (double)h->max_ns / 1e3);
}

void bench_report(const struct bench_opts *o, const struct bench_result *r)
{
    struct hist all = {0};
    hist_merge(&all, &r->h_read);
    hist_merge(&all, &r->h_write);
    double ops_per_s = r->secs > 0 ? (double)r->ops / r->secs : 0;
    double cpu_per_op = r->ops ? (double)r->cpu_us / (double)r->ops : 0;

    printf("paddock bench: %s op=%s", o->hosts, bench_op_name(o->op));
    if (o->op == BENCH_MIXED)
        printf(" (%d%% get)", o->read_pct);
    printf(" clients=%d depth=%d size=%d keys=%d warmup=%.1fs duration=%.1fs\n", o->clients,
           o->depth, o->size_bytes, o->keys, o->warmup_s, o->duration_s);
    if (r->keys_setup >= 0)
        printf("  setup    %d keys in %.2f s\n", r->keys_setup, r->setup_secs);
    printf("  ops      %" PRIu64 " in %.2f s = %.0f ops/s\n", r->ops, r->secs, ops_per_s);
    print_hist_line("all", &all);
    if (r->h_read.n && r->h_write.n) {
        print_hist_line("reads", &r->h_read);
        print_hist_line("writes", &r->h_write);
    }
    if (o->op == BENCH_CREATE)
        printf("  created  %" PRIu64 " nodes under /bench/seq (warm-up included)\n", r->created);
    if (o->op == BENCH_DELETE)
        printf("  deleted  %" PRIu64 " keys, /bench/k00000000 on (warm-up included)\n", r->deleted);
    printf("  errors   %" PRIu64, r->errors);
    for (int i = 0; i < r->n_err_codes; i++)
        printf(" %s=%" PRIu64, pdk_error_name(r->err_rc[i]), r->err_n[i]);
    if (r->disconnects)
        printf("  (connections lost: %" PRIu64 ")", r->disconnects);
    printf("\n  client   CPU %.2f us/op (%.2f s over the run), sockets served by %s\n", cpu_per_op,
           (double)r->cpu_us / 1e6, r->io ? r->io : "-");
    double srv_cpu_per_op = 0;
    if (o->n_server_pids > 0) {
        if (r->srv_cpu_us >= 0 && r->ops)
            srv_cpu_per_op = (double)r->srv_cpu_us / (double)r->ops;
        printf("  server   pid");
        for (int i = 0; i < o->n_server_pids; i++)
            printf("%s%d", i ? "," : " ", o->server_pids[i]);
        printf(": CPU %.2f us/op (%.2f s over the run), RSS %ld kB, peak %ld kB\n", srv_cpu_per_op,
               (double)r->srv_cpu_us / 1e6, r->srv_rss_kb, r->srv_hwm_kb);
    }
    printf("RESULT op=%s clients=%d depth=%d ops=%" PRIu64 " ops_per_s=%.0f p50_us=%.1f "
           "p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f errors=%" PRIu64
           " client_cpu_us_per_op=%.2f",
           bench_op_name(o->op), o->clients, o->depth, r->ops, ops_per_s,
           hist_quantile_us(&all, 0.5), hist_quantile_us(&all, 0.9), hist_quantile_us(&all, 0.99),
           hist_quantile_us(&all, 0.999), (double)all.max_ns / 1e3, r->errors, cpu_per_op);
    if (o->n_server_pids > 0)
        printf(" server_cpu_us_per_op=%.2f server_rss_kb=%ld server_hwm_kb=%ld", srv_cpu_per_op,
               r->srv_rss_kb, r->srv_hwm_kb);
    printf(" created=%" PRIu64 " deleted=%" PRIu64 " disconnects=%" PRIu64
           " io=%s tool=paddock-bench\n",
           r->created, r->deleted, r->disconnects, r->io ? r->io : "-");
    fflush(stdout);
}
