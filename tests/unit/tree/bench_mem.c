/*
 * Memory per znode (not a ctest: build it without sanitizers and run by hand):
 *
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Isrc -Itests/lib tests/unit/tree/bench_mem.c \
 *      src/tree/*.c src/jute/*.c src/common/*.c -lcrypto -o /tmp/bench_mem
 *   /tmp/bench_mem 1000000 100
 *
 * Creates N persistent znodes "/bench/n0000000" .. with D bytes of data each
 * through tree_prep + tree_apply, and prints heap bytes (mallinfo2) and RSS
 * per node.
 */
#include "tree/tree.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void deliver(void *w, const struct jute_watcher_event *ev, const struct jute_acl_vec *acl,
                    void *ctx)
{
    (void)w;
    (void)ev;
    (void)acl;
    (void)ctx;
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

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    int dlen = argc > 2 ? atoi(argv[2]) : 100;
    long rss0 = rss_bytes();
    size_t heap0 = mallinfo2().uordblks;
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
        if (tree_prep(t, &ctx, ZOO_OP_CREATE, &r, 1, &a, &txn) != 0 ||
            tree_apply(t, &txn, &a, &res) != 0 || res.err != 0) {
            fprintf(stderr, "create %s failed\n", path);
            return 1;
        }
        arena_reset(&a);
    }
    arena_close(&a);
    size_t heap1 = mallinfo2().uordblks;
    long rss1 = rss_bytes();
    printf("nodes %ld, data %d bytes, name 8 bytes\n", n, dlen);
    printf("heap in use: %zu bytes = %.1f bytes/node (%.1f over the data)\n", heap1 - heap0,
           (double)(heap1 - heap0) / (double)n, (double)(heap1 - heap0) / (double)n - dlen);
    printf("RSS growth:  %ld bytes = %.1f bytes/node; RSS total %.1f MiB\n", rss1 - rss0,
           (double)(rss1 - rss0) / (double)n, (double)rss1 / (1024.0 * 1024.0));
    struct mallinfo2 mi = mallinfo2();
    printf("malloc: arena %.1f MiB, mmapped %.1f MiB, free in arena %.1f MiB\n",
           (double)mi.arena / 1048576.0, (double)mi.hblkhd / 1048576.0,
           (double)mi.fordblks / 1048576.0);
    const char *why;
    if (tree_check(t, &why) != 0)
        printf("check failed: %s\n", why);
    tree_free(t);
    free(data);
    return 0;
}
