/*
 * `paddock bench`: options, the run, the report, the exit status (bench.h).
 */
#include "bench/bench.h"
#include "bench/bench_int.h"

#include "common/alloc.h"

int bench_main(int argc, char **argv)
{
    struct bench_opts o;
    int rc = bench_opts_parse(argc, argv, &o);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    /* Two histograms make the result ~40 KB: not for the stack. */
    struct bench_result *r = pd_calloc(1, sizeof(*r));
    if (!r) {
        fprintf(stderr, "paddock bench: out of memory\n");
        return 1;
    }
    int status = 1;
    if (bench_run(&o, r) != 0 || r->is_connect_failed)
        goto out;
    bench_report(&o, r);
    status = 0;
    if (r->ops == 0) {
        fprintf(stderr, "paddock bench: no operation completed in the timed run%s\n",
                o.op == BENCH_DELETE ? " (every key was deleted before it: raise --keys)" : "");
        status = 1;
    }
    if (r->errors) {
        fprintf(stderr, "paddock bench: %llu requests failed\n", (unsigned long long)r->errors);
        status = 1;
    }
    if (r->is_broken) {
        fprintf(stderr, "paddock bench: the run did not complete cleanly\n");
        status = 1;
    }
out:
    pd_free(r);
    return status;
}
