/*
 * Node-table timing (not a ctest: build it in a release build and run by hand):
 *
 *   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build-rel
 *   cc -O2 -g -std=c11 -D_GNU_SOURCE -Isrc -Itests/lib tests/unit/tree/bench_table.c \
 *      build-rel/libpd_storage.a build-rel/libpd_tree.a build-rel/libpd_jute.a \
 *      build-rel/libpd_common.a -lcrypto -lz -o /tmp/bench_table
 *   /tmp/bench_table 1000000 100
 *
 * Creates N persistent znodes "/bench/n0000000" .. with D bytes of data each
 * through tree_prep + tree_apply (the time of every op is taken: max and the
 * slowest ops are printed), then encodes the tree as a snapshot in memory
 * (snap_encode_buf) and loads it into a new tree (snap_decode_buf), printing
 * the load time and the RSS.
 */
#include "storage/snapshot.h"
#include "tree/tree.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void deliver(void *w, const struct jute_watcher_event *ev, const struct jute_acl_vec *acl,
                    void *ctx)
{
    (void)w;
    (void)ev;
    (void)acl;
    (void)ctx;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long rss_bytes(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * sysconf(_SC_PAGESIZE);
}

#define TOP 5

struct mem_src {
    const uint8_t *p;
    size_t left;
};

static int mem_read(void *ctx, void *buf, size_t len, size_t *n_read)
{
    struct mem_src *m = ctx;
    size_t n = len < m->left ? len : m->left;
    memcpy(buf, m->p, n);
    m->p += n;
    m->left -= n;
    *n_read = n;
    return 0;
}

static int v_acl(void *arg, int64_t index, const struct jute_acl_vec *acl)
{
    return tree_load_acl(arg, index, acl);
}

static int v_node(void *arg, const char *path, size_t len, struct jute_buf data, int64_t acl_index,
                  const struct jute_stat_persisted *st)
{
    (void)len;
    return tree_load_node(arg, path, st, data, acl_index);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    int dlen = argc > 2 ? atoi(argv[2]) : 100;
    long rss0 = rss_bytes();
    struct tree *t = tree_new(deliver, NULL);
    struct arena a;
    arena_init(&a, 4096);
    struct jute_acl open = {.perms = ZOO_PERM_ALL, .id = {.scheme = "world", .id = "anyone"}};
    char *data = malloc((size_t)dlen);
    memset(data, 'x', (size_t)dlen);
    struct tree_auth auth = {0};
    struct tree_prep_ctx ctx = {.session_id = 1, .now_ms = 1700000000000LL, .auth = &auth};
    int64_t zxid = 0x100000000LL;
    char path[64];
    double top[TOP] = {0};
    long top_at[TOP] = {0};
    double t0 = now_s();
    for (long i = -1; i < n; i++) {
        if (i < 0)
            snprintf(path, sizeof(path), "/bench");
        else
            snprintf(path, sizeof(path), "/bench/n%07ld", i);
        struct jute_create_request r = {.path = path,
                                        .data = {(const uint8_t *)data, dlen},
                                        .acl = {.count = 1, .items = &open},
                                        .flags = 0,
                                        .ttl = -1};
        struct tree_txn txn;
        struct tree_result res;
        ctx.zxid = ++zxid;
        ctx.now_ms++;
        double s = now_s();
        if (tree_prep(t, &ctx, ZOO_OP_CREATE, &r, 1, &a, &txn) != 0 ||
            tree_apply(t, &txn, &a, &res) != 0 || res.err != 0) {
            fprintf(stderr, "create %s failed\n", path);
            return 1;
        }
        double d = now_s() - s;
        for (int k = 0; k < TOP; k++) {
            if (d > top[k]) {
                memmove(top + k + 1, top + k, (TOP - 1 - k) * sizeof(*top));
                memmove(top_at + k + 1, top_at + k, (TOP - 1 - k) * sizeof(*top_at));
                top[k] = d;
                top_at[k] = i + 2; /* nodes in the tree before this op, root counted */
                break;
            }
        }
        arena_reset(&a);
    }
    double total = now_s() - t0;
    arena_close(&a);
    long rss1 = rss_bytes();
    printf("create %ld nodes (%d-byte data): total %.3f s, %.2f us/op\n", n + 1, dlen, total,
           total * 1e6 / (double)(n + 1));
    printf("  slowest ops:");
    for (int k = 0; k < TOP; k++)
        printf(" %.3f ms (#%ld)", top[k] * 1e3, top_at[k]);
    printf("\n  RSS growth %.1f MiB = %.1f B/node\n", (double)(rss1 - rss0) / 1048576.0,
           (double)(rss1 - rss0) / (double)n);

    /* lookups: every node once, by path */
    double l0 = now_s();
    long found = 0;
    for (long i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "/bench/n%07ld", (i * 7919) % n);
        found += tree_find(t, path) != NULL;
    }
    double lt = now_s() - l0;
    printf("lookup %ld paths (random order): %.3f s, %.3f us/op (%ld found)\n", n, lt,
           lt * 1e6 / (double)n, found);

    struct jute_out out;
    jute_out_init(&out);
    struct snap_params p = {.zxid = zxid};
    if (snap_encode_buf(t, &p, &out) != 0) {
        fprintf(stderr, "encode failed\n");
        return 1;
    }
    uint64_t dig = tree_digest(t);
    tree_free(t);

    struct tree *t2 = tree_new(deliver, NULL);
    char err[256] = "";
    struct snap_info info;
    struct snap_read_opts o = {.zxid = zxid};
    long rss2 = rss_bytes();
    double w0 = now_s(), c0 = cpu_s();
    int rc = snap_decode_buf(out.data, out.len, &o, t2, NULL, NULL, &info, err, sizeof(err));
    double wl = now_s() - w0, cl = cpu_s() - c0;
    long rss3 = rss_bytes();
    if (rc != 0 || tree_digest(t2) != dig) {
        fprintf(stderr, "decode failed: %d %s\n", rc, err);
        return 1;
    }
    printf("snapshot %.1f MiB, %" PRId64 " nodes: load %.3f s wall, %.3f s CPU; "
           "RSS of the loaded tree %.1f MiB\n",
           (double)out.len / 1048576.0, info.n_nodes, wl, cl, (double)(rss3 - rss2) / 1048576.0);
    const char *why;
    if (tree_check(t2, &why) != 0)
        printf("check failed: %s\n", why);
    tree_free(t2);

    /* The same load with tree_load_hint(size / 128) after tree_load_begin (what snap_decode
     * does, plus the hint). */
    struct tree *t3 = tree_new(deliver, NULL);
    static const struct snap_visitor v = {.acl = v_acl, .node = v_node};
    struct mem_src m = {.p = out.data, .left = out.len};
    w0 = now_s();
    c0 = cpu_s();
    rc = tree_load_begin(t3);
    if (rc == 0)
        tree_load_hint(t3, out.len / 128);
    if (rc == 0)
        rc = snap_parse(mem_read, &m, &o, &v, t3, &info, err, sizeof(err));
    if (rc == 0)
        rc = tree_load_end(t3);
    wl = now_s() - w0;
    cl = cpu_s() - c0;
    if (rc != 0 || tree_digest(t3) != dig) {
        fprintf(stderr, "hinted load failed: %d %s\n", rc, err);
        return 1;
    }
    printf("with tree_load_hint(%zu): load %.3f s wall, %.3f s CPU\n", out.len / 128, wl, cl);
    if (tree_check(t3, &why) != 0)
        printf("check failed: %s\n", why);
    tree_free(t3);
    jute_out_close(&out);
    free(data);
    return 0;
}
