/*
 * The tree digest (DigestCalculator / DataTree's nodes digest): the golden
 * txns Apache ZooKeeper 3.8 logged (tests/unit/jute/golden_frames.h) replayed
 * from a fresh tree give, after each one, the TxnDigest Apache wrote with it;
 * which nodes count; and tree_prep's prediction of the digest (what the txn
 * log carries) against what applying gives, with txns pipelined, failed
 * multis rolled back and closeSession. Elsewhere: tree_check() recomputes the
 * digest after every step of every tree test, tt_write() compares prediction
 * and result, and tests/unit/storage/test_snapshot_apache.c replays a whole
 * Apache data directory.
 */
#include "../jute/golden_frames.h"
#include "tree_test.h"

#define EMPTY_TREE_DIGEST 1371985504LL /* Apache 3.8's digest of a fresh tree */

/* Just enough of the txn codec for the golden txns (storage/txn.c is the real one). */
static void golden_body(struct jute_in *in, int32_t type, struct tree_txn *t, struct arena *a)
{
    switch (type) {
    case ZOO_OP_CREATESESSION:
        jute_get_create_session_txn(in, &t->u.create_session);
        break;
    case ZOO_OP_CLOSESESSION:
        jute_get_close_session_txn(in, &t->u.close_session);
        break;
    case ZOO_OP_CREATE:
    case ZOO_OP_CREATE2:
        jute_get_create_txn(in, &t->u.create);
        break;
    case ZOO_OP_DELETE:
        jute_get_path_request(in, &t->u.del);
        break;
    case ZOO_OP_SETDATA:
        jute_get_set_data_txn(in, &t->u.set_data);
        break;
    case ZOO_OP_CHECK:
        jute_get_path_version_request(in, &t->u.check);
        break;
    case ZOO_OP_ERROR:
        jute_get_error_txn(in, &t->u.error);
        break;
    case ZOO_OP_MULTI: {
        struct jute_multi_txn m;
        jute_get_multi_txn(in, &m);
        t->n_sub = m.count;
        t->sub = arena_alloc(a, sizeof(*t->sub) * (size_t)(m.count ? m.count : 1));
        for (int32_t i = 0; i < m.count; i++) {
            struct jute_in s;
            jute_in_init(&s, m.txns[i].data.data, (size_t)m.txns[i].data.len, a);
            memset(&t->sub[i], 0, sizeof(t->sub[i]));
            t->sub[i].hdr = t->hdr;
            t->sub[i].hdr.type = m.txns[i].type;
            golden_body(&s, m.txns[i].type, &t->sub[i], a);
            CHECK_EQ_INT(s.err, 0);
        }
        break;
    }
    default:
        CHECK(!"unexpected golden txn type");
    }
}

static void test_golden_txns(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tree_digest(x.t), EMPTY_TREE_DIGEST);
    int n = 0;
    for (size_t i = 0; i < sizeof(golden_frames) / sizeof(golden_frames[0]); i++) {
        const struct golden_frame *g = &golden_frames[i];
        if (g->dir != GOLDEN_TXN)
            continue;
        /* TxnHeader + body, then TxnDigest{int version, long digest} */
        struct jute_in in;
        jute_in_init(&in, g->bytes, g->len - 12, &x.a);
        struct tree_txn txn;
        memset(&txn, 0, sizeof(txn));
        jute_get_txn_header(&in, &txn.hdr);
        golden_body(&in, txn.hdr.type, &txn, &x.a);
        CHECK_EQ_INT(in.err, 0);
        CHECK_EQ_INT(jute_in_left(&in), 0);
        struct jute_in d;
        jute_in_init(&d, g->bytes + g->len - 12, 12, &x.a);
        struct jute_txn_digest dg;
        jute_get_txn_digest(&d, &dg);
        CHECK_EQ_INT(dg.version, TREE_DIGEST_VERSION);
        struct tree_result res;
        tt_apply(&x, &txn, &res);
        if (tree_digest(x.t) != dg.tree_digest)
            fprintf(stderr, "%s: digest %lld, Apache %lld\n", g->name, (long long)tree_digest(x.t),
                    (long long)dg.tree_digest);
        CHECK_EQ_INT(tree_digest(x.t), dg.tree_digest);
        n++;
    }
    CHECK_EQ_INT(n, 9);
    tt_close(&x);
}

static void test_what_counts(void)
{
    struct tt x;
    tt_init(&x);
    int64_t d0 = tree_digest(x.t);
    /* below /zookeeper/: neither the node nor its parent counts */
    CHECK_EQ_INT(tt_create(&x, "/zookeeper/quota/q", "x", 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tree_digest(x.t), d0);
    CHECK_EQ_INT(tt_set(&x, "/zookeeper/config", "cfg", -1, NULL), ZNOAUTH);
    /* directly below /zookeeper: /zookeeper itself counts (its cversion and pzxid) */
    CHECK_EQ_INT(tt_create(&x, "/zookeeper/x", "x", 0, NULL, 0), ZOK);
    int64_t d1 = tree_digest(x.t);
    CHECK(d1 != d0);
    CHECK_EQ_INT(tt_set(&x, "/zookeeper/x", "changed", -1, NULL), ZOK);
    CHECK_EQ_INT(tree_digest(x.t), d1);
    /* a node's digest: CRC-32 of path, data and stat, summed */
    struct jute_stat_persisted st = {.czxid = 5, .mzxid = 5, .pzxid = 5, .ctime = 7, .mtime = 7};
    uint32_t a = tree_digest_node("/a", 2, (struct jute_buf){(const uint8_t *)"xy", 2}, &st);
    uint32_t b = tree_digest_node("/a", 2, (struct jute_buf){(const uint8_t *)"xz", 2}, &st);
    CHECK(a != b && a != 0);
    CHECK_EQ_INT(tree_digest_node("/zookeeper/a", 12, (struct jute_buf){NULL, -1}, &st), 0);
    /* null and empty data hash alike; "/" is the root's "" */
    CHECK_EQ_INT(tree_digest_node("/a", 2, (struct jute_buf){NULL, -1}, &st),
                 tree_digest_node("/a", 2, (struct jute_buf){(const uint8_t *)"", 0}, &st));
    CHECK_EQ_INT(tree_digest_node("/", 1, (struct jute_buf){NULL, -1}, &st),
                 tree_digest_node("", 0, (struct jute_buf){NULL, -1}, &st));
    tt_close(&x);
}

/* Preps every txn first (all outstanding), then applies them in order. */
static void test_prediction_pipelined(void)
{
    struct tt x;
    tt_init(&x);
    x.ttl = true;
    tree_set_extended_types(x.t, true);
    CHECK_EQ_INT(tt_create(&x, "/base", "b", 0, NULL, 0), ZOK);
    x.session = 0x77;
    CHECK_EQ_INT(tt_create(&x, "/base/eph", "e", ZOO_EPHEMERAL, NULL, 0), ZOK);
    x.session = 0x1234;

    struct tree_txn txns[16];
    int n = 0;
    struct jute_create_request c1 = tt_creq("/p", "one", 0);
    struct jute_create_request c2 = tt_creq("/p/q", NULL, ZOO_PERSISTENT_SEQUENTIAL);
    struct jute_set_data_request s1 = {
        .path = "/p", .data = {(const uint8_t *)"two", 3}, .version = -1};
    struct jute_set_data_request s2 = {
        .path = "/", .data = {(const uint8_t *)"root", 4}, .version = -1};
    struct jute_acl two[2] = {{.perms = ZOO_PERM_ALL, .id = {.scheme = "world", .id = "anyone"}},
                              {.perms = ZOO_PERM_READ, .id = {.scheme = "ip", .id = "1.2.3.4"}}};
    struct jute_set_acl_request sa = {
        .path = "/p", .acl = {.count = 2, .items = two}, .version = -1};
    struct jute_path_version_request d1 = {.path = "/p/q0000000000", .version = -1};
    struct tree_multi_op ok[2] = {
        {.type = ZOO_OP_CREATE, .req.create = tt_creq("/m", "m", 0)},
        {.type = ZOO_OP_SETDATA,
         .req.set_data = {.path = "/m", .data = {(const uint8_t *)"mm", 2}, .version = -1}}};
    struct tree_multi_op bad[2] = {
        {.type = ZOO_OP_CREATE, .req.create = tt_creq("/never", "x", 0)},
        {.type = ZOO_OP_CHECK, .req.path_version = {.path = "/p", .version = 99}}};
    struct jute_create_request dup = tt_creq("/p", "x", 0);
    struct jute_create_request ct = tt_creq("/c", NULL, ZOO_CONTAINER);
    struct jute_create_request ttl = tt_creq("/t", "t", ZOO_PERSISTENT_WITH_TTL);
    ttl.ttl = 1000;
    int32_t timeout = 5000;

    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CREATE, &c1, 1, &txns[n++]), ZOK);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CREATE, &c2, 1, &txns[n++]), ZOK);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_SETDATA, &s1, 1, &txns[n++]), ZOK);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_SETDATA, &s1, 1, &txns[n++]), ZOK);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_SETDATA, &s2, 1, &txns[n++]), ZOK);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_SETACL, &sa, 1, &txns[n++]), ZOK);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_DELETE, &d1, 1, &txns[n++]), ZOK);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_MULTI, ok, 2, &txns[n++]), ZOK);
    int64_t before_bad = tree_predicted_digest(x.t);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_MULTI, bad, 2, &txns[n++]), ZBADVERSION);
    CHECK(txns[n - 1].has_digest); /* a failed multi still carries the (unchanged) digest */
    CHECK_EQ_INT(txns[n - 1].digest, before_bad);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CREATE, &dup, 1, &txns[n++]), ZNODEEXISTS);
    CHECK(!txns[n - 1].has_digest); /* a failed single op carries none */
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CREATECONTAINER, &ct, 1, &txns[n++]), ZOK);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CREATETTL, &ttl, 1, &txns[n++]), ZOK);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CREATESESSION, &timeout, 1, &txns[n++]), ZOK);
    x.session = 0x77;
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CLOSESESSION, NULL, 0, &txns[n++]), ZOK);
    CHECK_EQ_INT(tree_predicted_digest(x.t), txns[n - 1].digest);

    for (int i = 0; i < n; i++) {
        struct tree_result res;
        tt_apply(&x, &txns[i], &res);
        if (txns[i].has_digest) {
            if (txns[i].digest != tree_digest(x.t))
                fprintf(stderr, "txn %d (type %d): predicted %lld, applied %lld\n", i,
                        txns[i].hdr.type, (long long)txns[i].digest, (long long)tree_digest(x.t));
            CHECK_EQ_INT(txns[i].digest, tree_digest(x.t));
        }
    }
    CHECK_EQ_INT(tree_overlay_count(x.t), 0);
    CHECK_EQ_INT(tree_predicted_digest(x.t), tree_digest(x.t));
    CHECK(tree_find(x.t, "/base/eph") == NULL);
    tt_close(&x);
}

/* A failed prep (out of memory) leaves the prediction as it was. */
static void test_prediction_oom(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tt_create(&x, "/a", "a", 0, NULL, 0), ZOK);
    struct tree_txn t1;
    struct jute_create_request c = tt_creq("/a/b", "b", 0);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CREATE, &c, 1, &t1), ZOK);
    int64_t pred = tree_predicted_digest(x.t);
    struct jute_create_request c2 = tt_creq("/a/b/c", "c", 0);
    for (long i = 0;; i++) {
        struct tree_txn t2;
        struct tree_prep_ctx ctx = tt_ctx(&x);
        pd_alloc_fail_after(i, 1);
        int rc = tree_prep(x.t, &ctx, ZOO_OP_CREATE, &c2, 1, &x.a, &t2);
        long made = pd_alloc_fail_after(-1, 0);
        if (rc == 0) {
            CHECK(t2.has_digest);
            CHECK(tree_predicted_digest(x.t) != pred);
            struct tree_result res;
            tt_apply(&x, &t1, &res);
            tt_apply(&x, &t2, &res);
            CHECK_EQ_INT(tree_digest(x.t), t2.digest);
            CHECK(made > 0 && made <= i);
            break;
        }
        CHECK_EQ_INT(rc, PD_ENOMEM);
        CHECK_EQ_INT(tree_predicted_digest(x.t), pred);
    }
    tt_close(&x);
}

int main(void)
{
    RUN(test_golden_txns);
    RUN(test_what_counts);
    RUN(test_prediction_pipelined);
    RUN(test_prediction_oom);
    return t_done();
}
