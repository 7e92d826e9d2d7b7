/* Containers and TTL nodes: ContainerManager.getCandidates, then deleteContainer. */
#include "tree_test.h"

static int32_t mk(struct tt *x, int32_t op, const char *path, int32_t flags, int64_t ttl)
{
    struct jute_create_request r = tt_creq(path, NULL, flags);
    r.ttl = ttl;
    return tt_write(x, op, &r, 1, NULL);
}

static bool has(const struct jute_str_vec *v, const char *path)
{
    for (int32_t i = 0; i < v->count; i++)
        if (strcmp(v->items[i], path) == 0)
            return true;
    return false;
}

static void test_containers(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(mk(&x, ZOO_OP_CREATECONTAINER, "/fresh", ZOO_CONTAINER, -1), ZOK);
    int64_t created = x.now;
    CHECK_EQ_INT(mk(&x, ZOO_OP_CREATECONTAINER, "/used", ZOO_CONTAINER, -1), ZOK);
    CHECK_EQ_INT(mk(&x, ZOO_OP_CREATECONTAINER, "/busy", ZOO_CONTAINER, -1), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/used/c", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_delete(&x, "/used/c", -1), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/busy/c", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/plain", NULL, 0, NULL, 0), ZOK);
    struct jute_stat st;
    CHECK(tt_stat(&x, "/used", &st));
    CHECK_EQ_INT(st.ephemeral_owner, 0); /* clients do not see Long.MIN_VALUE */

    struct jute_str_vec v;
    CHECK_EQ_INT(tree_reap_candidates(x.t, x.now, 0, 100, &x.a, &v), 0);
    CHECK_EQ_INT(v.count, 1);
    CHECK(has(&v, "/used"));
    /* maxNeverUsedIntervalMs: a never-used container goes once old enough (by mtime) */
    CHECK_EQ_INT(tree_reap_candidates(x.t, created + 500, 500, 100, &x.a, &v), 0);
    CHECK_EQ_INT(v.count, 1);
    CHECK_EQ_INT(tree_reap_candidates(x.t, created + 501, 500, 100, &x.a, &v), 0);
    CHECK_EQ_INT(v.count, 2);
    CHECK(has(&v, "/fresh") && has(&v, "/used"));
    CHECK_EQ_INT(tree_reap_candidates(x.t, created + 501, 500, 1, &x.a, &v), 0);
    CHECK_EQ_INT(v.count, 1);

    /* the server deletes them with deleteContainer */
    CHECK_EQ_INT(tree_watch_add(x.t, "/used", TREE_WATCH_DATA, &x), 0);
    CHECK_EQ_INT(tree_reap_candidates(x.t, x.now, 0, 100, &x.a, &v), 0);
    struct jute_path_request d = {.path = v.items[0]};
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_DELETECONTAINER, &d, 1, NULL), ZOK);
    CHECK(!tt_exists(&x, "/used"));
    CHECK_EQ_INT(x.n_ev, 1);
    CHECK_EQ_INT(x.ev[0].type, ZOO_EVENT_DELETED);
    /* once /busy's child goes, it is a candidate */
    CHECK_EQ_INT(tt_delete(&x, "/busy/c", -1), ZOK);
    CHECK_EQ_INT(tree_reap_candidates(x.t, x.now, 0, 100, &x.a, &v), 0);
    CHECK_EQ_INT(v.count, 1);
    CHECK(has(&v, "/busy"));
    tt_close(&x);
}

static void test_ttl(void)
{
    struct tt x;
    tt_init(&x);
    x.ttl = true;
    tree_set_extended_types(x.t, true);
    CHECK_EQ_INT(mk(&x, ZOO_OP_CREATETTL, "/t", ZOO_PERSISTENT_WITH_TTL, 1000), ZOK);
    int64_t created = x.now;
    char p[64];
    struct jute_create_request r = tt_creq("/t/s-", NULL, ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL);
    r.ttl = 50;
    struct tree_result res;
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_CREATETTL, &r, 1, &res), ZOK);
    snprintf(p, sizeof(p), "%s", res.path);
    CHECK_EQ_STR(p, "/t/s-0000000000");
    int64_t seq_created = x.now;
    CHECK_EQ_INT(res.stat.ephemeral_owner, 0);

    struct jute_str_vec v;
    CHECK_EQ_INT(tree_reap_candidates(x.t, seq_created + 50, 0, 100, &x.a, &v), 0);
    CHECK_EQ_INT(v.count, 0);
    CHECK_EQ_INT(tree_reap_candidates(x.t, seq_created + 51, 0, 100, &x.a, &v), 0);
    CHECK_EQ_INT(v.count, 1);
    CHECK(has(&v, "/t/s-0000000000"));
    /* a TTL node with children is kept; setData moves mtime forward */
    CHECK_EQ_INT(tree_reap_candidates(x.t, created + 100000, 0, 100, &x.a, &v), 0);
    CHECK_EQ_INT(v.count, 1);
    x.now = seq_created + 40;
    CHECK_EQ_INT(tt_set(&x, "/t/s-0000000000", "x", -1, NULL), ZOK);
    CHECK_EQ_INT(tree_reap_candidates(x.t, seq_created + 60, 0, 100, &x.a, &v), 0);
    CHECK_EQ_INT(v.count, 0);
    struct jute_path_request d = {.path = "/t/s-0000000000"};
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_DELETECONTAINER, &d, 1, NULL), ZOK);
    CHECK_EQ_INT(tree_reap_candidates(x.t, created + 1001, 0, 100, &x.a, &v), 0);
    CHECK_EQ_INT(v.count, 1);
    CHECK(has(&v, "/t"));
    CHECK_EQ_INT(tree_ephemeral_count(x.t), 0);
    tt_close(&x);
}

static void test_ttl_owner_without_extended_types(void)
{
    /* A TTL txn replayed with extended types off: ZooKeeper's EphemeralType.get calls the
     * owner a session, and so do we. */
    struct tt x;
    tt_init(&x);
    struct tree_txn txn;
    memset(&txn, 0, sizeof(txn));
    txn.hdr = (struct jute_txn_header){.zxid = ++x.zxid, .time = ++x.now, .type = ZOO_OP_CREATETTL};
    txn.u.create_ttl = (struct jute_create_ttl_txn){
        .path = "/t", .data = {NULL, -1}, .acl = tt_open_acl, .parent_cversion = 1, .ttl = 7};
    struct tree_result res;
    CHECK_EQ_INT(tt_apply(&x, &txn, &res), ZOK);
    int64_t owner = ZOO_TTL_MASK | 7;
    CHECK_EQ_INT(res.stat.ephemeral_owner, owner);
    struct jute_str_vec v;
    CHECK_EQ_INT(tree_ephemerals(x.t, owner, NULL, &x.a, &v), 0);
    CHECK_EQ_INT(v.count, 1);
    CHECK_EQ_INT(tree_reap_candidates(x.t, x.now + 100, 0, 100, &x.a, &v), 0);
    CHECK_EQ_INT(v.count, 0);
    tt_close(&x);
}

int main(void)
{
    RUN(test_containers);
    RUN(test_ttl);
    RUN(test_ttl_owner_without_extended_types);
    return t_done();
}
