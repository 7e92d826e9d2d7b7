/*
 * storage_snapshot_sample: writes a Paddock snapshot of a fixed scenario
 * tree, for test_snapshot_compat.py, which has Apache ZooKeeper read it. A
 * test-only tool (built by tests/CMakeLists.txt, not part of `paddock`, like
 * txnlog_sample.c): it gives the test one file of known content without a
 * server, and without a hidden mode in the shipped binary.
 *
 *   storage_snapshot_sample <dataDir>
 *
 * builds the tree through tree_prep/tree_apply (the server's write path):
 * every node kind (persistent, sequential, ephemeral of two sessions,
 * container, TTL), ACL lists (one freed, so the indexes have a hole), null,
 * empty, binary and 100 KB data, setData on the root, setACL, a multi, a
 * quota, a non-ASCII path, a deletion under the root; then writes
 * <dataDir>/version-2/snapshot.<zxid> with snap_write() and prints one JSON
 * line: {"file", "zxid", "digest", "sessions": [[id, timeout_ms], ...]}.
 * Exit status 0, or 1 with a message on stderr.
 */
#include "common/arena.h"
#include "common/err.h"
#include "storage/snapshot.h"
#include "tree/tree.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct gen {
    struct tree *t;
    struct arena a;
    int64_t zxid;
    int64_t now_ms;
    int64_t session;
    struct tree_auth auth;
};

static void die(const char *what, int rc)
{
    fprintf(stderr, "snapshot_sample: %s: %d\n", what, rc);
    exit(1);
}

static void op(struct gen *g, int32_t type, const void *req, int32_t n)
{
    struct tree_prep_ctx ctx = {.session_id = g->session,
                                .cxid = (int32_t)g->zxid,
                                .zxid = ++g->zxid,
                                .now_ms = g->now_ms++,
                                .auth = &g->auth,
                                .ttl_enabled = true};
    struct tree_txn txn;
    int rc = tree_prep(g->t, &ctx, type, req, n, &g->a, &txn);
    if (rc != 0)
        die("tree_prep", rc);
    int32_t err = tree_txn_err(&txn);
    struct tree_result res;
    if ((rc = tree_apply(g->t, &txn, &g->a, &res)) != 0)
        die("tree_apply", rc);
    if (err != ZOK) {
        fprintf(stderr, "snapshot_sample: op %d at zxid %" PRId64 " failed with %d\n", type,
                g->zxid, err);
        exit(1);
    }
    arena_reset(&g->a);
}

static struct jute_acl open_item = {.perms = ZOO_PERM_ALL,
                                    .id = {.scheme = "world", .id = "anyone"}};

static void create(struct gen *g, const char *path, const void *data, int32_t len, int32_t flags,
                   const struct jute_acl_vec *acl)
{
    struct jute_create_request r = {.path = (char *)path,
                                    .data = {.data = data, .len = len},
                                    .acl = acl ? *acl : (struct jute_acl_vec){1, false, &open_item},
                                    .flags = flags,
                                    .ttl = -1};
    int32_t type = ZOO_OP_CREATE;
    if (flags == ZOO_CONTAINER)
        type = ZOO_OP_CREATECONTAINER;
    if (flags == ZOO_PERSISTENT_WITH_TTL) {
        type = ZOO_OP_CREATETTL;
        r.ttl = 3600000;
    }
    op(g, type, &r, 1);
}

static void set_data(struct gen *g, const char *path, const char *data)
{
    struct jute_set_data_request r = {.path = (char *)path,
                                      .data = {(const uint8_t *)data, (int32_t)strlen(data)},
                                      .version = -1};
    op(g, ZOO_OP_SETDATA, &r, 1);
}

static void delete (struct gen *g, const char *path)
{
    struct jute_path_version_request r = {.path = (char *)path, .version = -1};
    op(g, ZOO_OP_DELETE, &r, 1);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: storage_snapshot_sample <dataDir>\n");
        return 2;
    }
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/version-2", argv[1]);
    if (mkdir(argv[1], 0755) != 0 && errno != EEXIST)
        die("mkdir dataDir", -errno);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        die("mkdir version-2", -errno);

    struct gen g = {.now_ms = (int64_t)time(NULL) * 1000, .session = 0};
    g.t = tree_new(NULL, NULL);
    if (!g.t)
        die("tree_new", PD_ENOMEM);
    tree_set_extended_types(g.t, true);
    arena_init(&g.a, 1 << 16);
    struct jute_id me = {.scheme = "ip", .id = "127.0.0.1"}; /* a client on loopback */
    g.auth = (struct tree_auth){.ids = &me, .n_ids = 1};
    struct snap_session sessions[2] = {{.id = 0x1234567800000001LL, .timeout_ms = 30000},
                                       {.id = 0x1234567800000002LL, .timeout_ms = 40000}};
    for (int i = 0; i < 2; i++) {
        g.session = sessions[i].id;
        op(&g, ZOO_OP_CREATESESSION, &sessions[i].timeout_ms, 1);
    }
    g.session = sessions[0].id;

    struct jute_acl two[2] = {
        {.perms = ZOO_PERM_READ, .id = {.scheme = "world", .id = "anyone"}},
        {.perms = ZOO_PERM_ALL,
         .id = {.scheme = "digest", .id = "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="}}};
    struct jute_acl_vec two_v = {2, false, two};
    struct jute_acl ip = {.perms = ZOO_PERM_ALL, .id = {.scheme = "ip", .id = "127.0.0.1"}};
    struct jute_acl_vec ip_v = {1, false, &ip};
    struct jute_acl gone = {.perms = ZOO_PERM_READ | ZOO_PERM_WRITE,
                            .id = {.scheme = "digest", .id = "bob:xyz"}};
    struct jute_acl_vec gone_v = {1, false, &gone};

    create(&g, "/app", "hello", 5, ZOO_PERSISTENT, NULL);
    create(&g, "/app/cfg", "v1", 2, ZOO_PERSISTENT, &two_v);
    create(&g, "/app/ip", "ip only", 7, ZOO_PERSISTENT, &ip_v);
    for (int i = 0; i < 3; i++)
        create(&g, "/app/seq-", "s", 1, ZOO_PERSISTENT_SEQUENTIAL, NULL);
    create(&g, "/app/eph", "mine", 4, ZOO_EPHEMERAL, NULL);
    create(&g, "/app/eph-seq-", "", 0, ZOO_EPHEMERAL_SEQUENTIAL, NULL);
    g.session = sessions[1].id;
    create(&g, "/other-eph", "theirs", 6, ZOO_EPHEMERAL, NULL);
    g.session = sessions[0].id;
    create(&g, "/gone", "tmp", 3, ZOO_PERSISTENT, &gone_v);
    delete (&g, "/gone");
    set_data(&g, "/app", "world");
    set_data(&g, "/app", "world!");
    set_data(&g, "/", "rootdata");
    struct jute_acl ro = {.perms = ZOO_PERM_READ | ZOO_PERM_ADMIN,
                          .id = {.scheme = "world", .id = "anyone"}};
    struct jute_set_acl_request sa = {.path = "/app/ip", .acl = {1, false, &ro}, .version = -1};
    op(&g, ZOO_OP_SETACL, &sa, 1);
    struct tree_multi_op multi[3] = {
        {.type = ZOO_OP_CREATE,
         .req.create = {.path = "/app/m1",
                        .data = {(const uint8_t *)"m", 1},
                        .acl = {1, false, &open_item},
                        .ttl = -1}},
        {.type = ZOO_OP_SETDATA,
         .req.set_data = {.path = "/app/m1", .data = {(const uint8_t *)"mm", 2}, .version = -1}},
        {.type = ZOO_OP_CHECK, .req.path_version = {.path = "/app", .version = 2}}};
    op(&g, ZOO_OP_MULTI, multi, 3);
    create(&g, "/zookeeper/quota/app", NULL, -1, ZOO_PERSISTENT, NULL);
    create(&g, "/zookeeper/quota/app/zookeeper_limits", "count=100,bytes=-1", 18, ZOO_PERSISTENT,
           NULL);
    create(&g, "/zookeeper/quota/app/zookeeper_stats", "count=1,bytes=5", 15, ZOO_PERSISTENT, NULL);
    create(&g, "/\xc3\xbcml\xc3\xa4ut", "gr\xc3\xbc\xc3\x9f", 6, ZOO_PERSISTENT, NULL);
    create(&g, "/box", "c", 1, ZOO_CONTAINER, NULL);
    create(&g, "/box/item", "i", 1, ZOO_PERSISTENT, NULL);
    create(&g, "/ttl", "t", 1, ZOO_PERSISTENT_WITH_TTL, NULL);
    create(&g, "/nulldata", NULL, -1, ZOO_PERSISTENT, NULL);
    static const uint8_t bin[] = {0, 1, 2, 0xff, 0xfe, '\n', '"', '\\'};
    create(&g, "/binary", bin, (int32_t)sizeof(bin), ZOO_PERSISTENT, NULL);
    size_t big_len = 100000;
    char *big = malloc(big_len);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (char)('a' + i % 26);
    create(&g, "/big", big, (int32_t)big_len, ZOO_PERSISTENT, NULL);
    free(big);
    char deep[256] = "";
    for (int i = 0; i < 10; i++) {
        strcat(deep, "/d");
        create(&g, deep, "x", 1, ZOO_PERSISTENT, NULL);
    }
    create(&g, "/app/last", "end", 3, ZOO_PERSISTENT, NULL);

    struct snap_params p = {.zxid = g.zxid, .sessions = sessions, .n_sessions = 2};
    struct file_fs fs;
    file_posix_init(&fs);
    char err[512];
    int rc = snap_write(&fs, dir, g.t, &p, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "snapshot_sample: %s\n", err);
        return 1;
    }
    printf("{\"file\":\"%s/snapshot.%" PRIx64 "\",\"zxid\":%" PRId64 ",\"digest\":%" PRId64
           ",\"sessions\":[[%" PRId64 ",%d],[%" PRId64 ",%d]]}\n",
           dir, (uint64_t)g.zxid, g.zxid, tree_digest(g.t), sessions[0].id, sessions[0].timeout_ms,
           sessions[1].id, sessions[1].timeout_ms);
    arena_close(&g.a);
    tree_free(g.t);
    return 0;
}
