/* multi (14): successful multis, failed ones (sub results and rollback), decoding rules. */
#include "tree_test.h"

static struct tree_multi_op op_create(int32_t type, const char *path, int32_t flags)
{
    struct tree_multi_op o = {.type = type};
    o.req.create = tt_creq(path, "d", flags);
    return o;
}

static struct tree_multi_op op_pv(int32_t type, const char *path, int32_t version)
{
    struct tree_multi_op o = {.type = type};
    o.req.path_version =
        (struct jute_path_version_request){.path = (char *)path, .version = version};
    return o;
}

static struct tree_multi_op op_set(const char *path, const char *data, int32_t version)
{
    struct tree_multi_op o = {.type = ZOO_OP_SETDATA};
    o.req.set_data = (struct jute_set_data_request){
        .path = (char *)path,
        .data = {.data = (const uint8_t *)data, .len = (int32_t)strlen(data)},
        .version = version};
    return o;
}

static void test_success(void)
{
    struct tt x;
    tt_init(&x);
    struct tree_multi_op ops[] = {
        op_create(ZOO_OP_CREATE, "/m", ZOO_PERSISTENT),
        op_create(ZOO_OP_CREATE2, "/m/s-", ZOO_PERSISTENT_SEQUENTIAL),
        op_create(ZOO_OP_CREATE2, "/m/s-", ZOO_PERSISTENT_SEQUENTIAL),
        op_set("/m", "new", 0),
        op_pv(ZOO_OP_CHECK, "/m", 1),
        op_create(ZOO_OP_CREATE, "/m/tmp", ZOO_PERSISTENT),
        op_pv(ZOO_OP_DELETE, "/m/tmp", 0),
    };
    struct tree_txn txn;
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_MULTI, ops, 7, &txn), ZOK);
    CHECK_EQ_INT(txn.hdr.type, ZOO_OP_MULTI);
    CHECK_EQ_INT(txn.n_sub, 7);
    CHECK_EQ_INT(txn.sub[1].hdr.type, ZOO_OP_CREATE2);
    CHECK_EQ_INT(txn.sub[1].hdr.zxid, x.zxid);
    CHECK_EQ_STR(txn.sub[1].u.create.path, "/m/s-0000000000");
    CHECK_EQ_STR(txn.sub[2].u.create.path, "/m/s-0000000001");
    CHECK_EQ_INT(txn.sub[3].u.set_data.version, 1);
    CHECK_EQ_INT(txn.sub[4].u.check.version, 2);
    CHECK(tree_overlay_count(x.t) > 0);
    struct tree_result res;
    CHECK_EQ_INT(tt_apply(&x, &txn, &res), ZOK);
    CHECK_EQ_INT(tree_overlay_count(x.t), 0);
    CHECK_EQ_INT(res.type, ZOO_OP_MULTI);
    CHECK_EQ_INT(res.n_sub, 7);
    CHECK_EQ_INT(res.sub[0].type, ZOO_OP_CREATE);
    CHECK_EQ_STR(res.sub[0].path, "/m");
    CHECK_EQ_INT(res.sub[1].type, ZOO_OP_CREATE2);
    CHECK_EQ_STR(res.sub[1].path, "/m/s-0000000000");
    CHECK_EQ_INT(res.sub[1].stat.czxid, x.zxid);
    CHECK_EQ_INT(res.sub[3].type, ZOO_OP_SETDATA);
    CHECK_EQ_INT(res.sub[3].stat.version, 1);
    CHECK_EQ_INT(res.sub[3].stat.num_children, 2);
    CHECK_EQ_INT(res.sub[4].type, ZOO_OP_CHECK);
    CHECK_EQ_INT(res.sub[6].type, ZOO_OP_DELETE);
    for (int i = 0; i < 7; i++)
        CHECK_EQ_INT(res.sub[i].err, ZOK);
    struct jute_stat st;
    CHECK(tt_stat(&x, "/m", &st));
    CHECK_EQ_INT(st.num_children, 2);
    CHECK_EQ_INT(st.cversion, 3 * 2 - 2);
    CHECK_EQ_INT(st.mzxid, x.zxid);
    CHECK_EQ_INT(st.czxid, x.zxid);
    CHECK(!tt_exists(&x, "/m/tmp"));
    tt_close(&x);
}

static void test_failure(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tt_create(&x, "/p", "d", ZOO_PERSISTENT, NULL, 0), ZOK);
    struct tree_multi_op ops[] = {
        op_create(ZOO_OP_CREATE, "/p/a", ZOO_PERSISTENT_SEQUENTIAL),
        op_set("/p", "x", 0),
        op_set("/nope", "x", -1),
        op_create(ZOO_OP_CREATE, "/p/b", ZOO_PERSISTENT),
    };
    struct tree_txn txn;
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_MULTI, ops, 4, &txn), ZNONODE);
    CHECK_EQ_INT(tree_overlay_count(x.t), 0); /* rolled back */
    CHECK_EQ_INT(txn.hdr.type, ZOO_OP_MULTI);
    CHECK_EQ_INT(txn.n_sub, 4);
    CHECK_EQ_INT(txn.sub[0].hdr.type, ZOO_OP_CREATE); /* ops before the failure keep their txn */
    CHECK_EQ_STR(txn.sub[0].u.create.path, "/p/a0000000000");
    CHECK_EQ_INT(txn.sub[1].hdr.type, ZOO_OP_SETDATA);
    CHECK_EQ_INT(txn.sub[2].hdr.type, ZOO_OP_ERROR);
    CHECK_EQ_INT(txn.sub[2].u.error.err, ZNONODE);
    CHECK_EQ_INT(txn.sub[3].hdr.type, ZOO_OP_ERROR);
    CHECK_EQ_INT(txn.sub[3].u.error.err, ZRUNTIMEINCONSISTENCY);
    x.n_ev = 0;
    struct tree_result res;
    CHECK_EQ_INT(tt_apply(&x, &txn, &res), ZNONODE);
    CHECK_EQ_INT(res.n_sub, 4);
    CHECK_EQ_INT(res.sub[0].type, ZOO_OP_ERROR);
    CHECK_EQ_INT(res.sub[0].err, ZOK);
    CHECK_EQ_INT(res.sub[1].type, ZOO_OP_ERROR);
    CHECK_EQ_INT(res.sub[1].err, ZOK);
    CHECK_EQ_INT(res.sub[2].err, ZNONODE);
    CHECK_EQ_INT(res.sub[3].err, ZRUNTIMEINCONSISTENCY);
    CHECK(!tt_exists(&x, "/p/a0000000000"));
    struct jute_stat st;
    CHECK(tt_stat(&x, "/p", &st));
    CHECK_EQ_INT(st.version, 0);
    /* ZOOKEEPER-1624: the rolled-back sequential create gives its number back */
    char path[64];
    CHECK_EQ_INT(tt_create(&x, "/p/a", NULL, ZOO_PERSISTENT_SEQUENTIAL, path, sizeof(path)), ZOK);
    CHECK_EQ_STR(path, "/p/a0000000000");

    /* the first op failing: everything after is RUNTIMEINCONSISTENCY */
    struct tree_multi_op ops2[] = {
        op_pv(ZOO_OP_CHECK, "/p", 7),
        op_pv(ZOO_OP_DELETE, "/p/a0000000000", -1),
    };
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_MULTI, ops2, 2, &res), ZBADVERSION);
    CHECK_EQ_INT(res.sub[0].err, ZBADVERSION);
    CHECK_EQ_INT(res.sub[1].err, ZRUNTIMEINCONSISTENCY);
    CHECK(tt_exists(&x, "/p/a0000000000"));
    /* NOAUTH, NOTEMPTY, NODEEXISTS inside a multi */
    struct tree_multi_op ops3[] = {op_pv(ZOO_OP_DELETE, "/p", -1)};
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_MULTI, ops3, 1, &res), ZNOTEMPTY);
    struct tree_multi_op ops4[] = {op_create(ZOO_OP_CREATE, "/q", 0),
                                   op_create(ZOO_OP_CREATE, "/q", 0)};
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_MULTI, ops4, 2, &res), ZNODEEXISTS);
    CHECK_EQ_INT(res.sub[0].err, ZOK);
    CHECK(!tt_exists(&x, "/q"));
    tt_close(&x);
}

static void test_rollback_keeps_earlier_pending(void)
{
    struct tt x;
    tt_init(&x);
    /* a pending create of /p (not yet applied) ... */
    struct jute_create_request r = tt_creq("/p", NULL, ZOO_PERSISTENT);
    struct tree_txn t1, t2, t3;
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CREATE, &r, 1, &t1), ZOK);
    /* ... then a failed multi that touched /p and its children */
    struct tree_multi_op ops[] = {
        op_create(ZOO_OP_CREATE, "/p/c-", ZOO_PERSISTENT_SEQUENTIAL),
        op_set("/p", "x", -1),
        op_pv(ZOO_OP_CHECK, "/p", 5),
    };
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_MULTI, ops, 3, &t2), ZBADVERSION);
    /* /p still exists in the overlay with its original state */
    struct jute_create_request rc = tt_creq("/p/c-", NULL, ZOO_PERSISTENT_SEQUENTIAL);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CREATE, &rc, 1, &t3), ZOK);
    CHECK_EQ_STR(t3.u.create.path, "/p/c-0000000000");
    struct tree_result res;
    CHECK_EQ_INT(tt_apply(&x, &t1, &res), ZOK);
    CHECK_EQ_INT(tt_apply(&x, &t2, &res), ZBADVERSION);
    CHECK_EQ_INT(tt_apply(&x, &t3, &res), ZOK);
    CHECK(tt_exists(&x, "/p/c-0000000000"));
    CHECK_EQ_INT(tree_overlay_count(x.t), 0);
    tt_close(&x);
}

static void test_decoding_rules(void)
{
    struct tt x;
    tt_init(&x);
    struct tree_result res;
    /* empty multi */
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_MULTI, NULL, 0, &res), ZOK);
    CHECK_EQ_INT(res.type, ZOO_OP_MULTI);
    CHECK_EQ_INT(res.n_sub, 0);
    /* a bad create flag: the request does not decode -> one ErrorTxn(MARSHALLINGERROR) */
    struct tree_multi_op bad[] = {op_create(ZOO_OP_CREATE, "/a", 0),
                                  op_create(ZOO_OP_CREATE, "/b", 9)};
    struct tree_txn txn;
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_MULTI, bad, 2, &txn), ZMARSHALLINGERROR);
    CHECK_EQ_INT(txn.hdr.type, ZOO_OP_ERROR);
    CHECK_EQ_INT(tree_overlay_count(x.t), 0);
    tt_apply(&x, &txn, &res);
    struct tree_multi_op rd[] = {{.type = ZOO_OP_GETDATA}};
    rd[0].req.path_watch.path = "/";
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_MULTI, rd, 1, &res), ZMARSHALLINGERROR);
    /* a runtime failure in a later op (NPE on a null world id) fails the whole request */
    struct jute_acl nul = {.perms = 31, .id = {.scheme = "world", .id = NULL}};
    struct tree_multi_op npe[] = {op_create(ZOO_OP_CREATE, "/a", 0),
                                  op_create(ZOO_OP_CREATE, "/b", 0)};
    npe[1].req.create.acl = (struct jute_acl_vec){.count = 1, .items = &nul};
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_MULTI, npe, 2, &txn), ZMARSHALLINGERROR);
    CHECK_EQ_INT(txn.hdr.type, ZOO_OP_ERROR);
    CHECK_EQ_INT(tree_overlay_count(x.t), 0);
    tt_apply(&x, &txn, &res);
    /* a container flag picks createContainer; a TTL flag picks createTTL (ttl -1 here) */
    struct tree_multi_op c[] = {op_create(ZOO_OP_CREATE, "/c", ZOO_CONTAINER)};
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_MULTI, c, 1, &txn), ZOK);
    CHECK_EQ_INT(txn.sub[0].hdr.type, ZOO_OP_CREATECONTAINER);
    CHECK_EQ_INT(tt_apply(&x, &txn, &res), ZOK);
    CHECK_EQ_INT(res.sub[0].type, ZOO_OP_CREATECONTAINER);
    struct tree_multi_op tl[] = {op_create(ZOO_OP_CREATE, "/t", ZOO_PERSISTENT_WITH_TTL)};
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_MULTI, tl, 1, &res), ZUNIMPLEMENTED);
    x.ttl = true;
    tree_set_extended_types(x.t, true);
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_MULTI, tl, 1, &res), ZBADARGUMENTS);
    tl[0].type = ZOO_OP_CREATETTL;
    tl[0].req.create.ttl = 5000;
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_MULTI, tl, 1, &res), ZOK);
    CHECK_EQ_INT(res.sub[0].type, ZOO_OP_CREATETTL);
    /* createTTL without a TTL flag is a plain create */
    struct tree_multi_op pl[] = {op_create(ZOO_OP_CREATETTL, "/plain", ZOO_PERSISTENT)};
    pl[0].req.create.ttl = 5000;
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_MULTI, pl, 1, &res), ZOK);
    CHECK_EQ_INT(res.sub[0].type, ZOO_OP_CREATE);
    tt_close(&x);
}

static void test_multi_watches(void)
{
    struct tt x;
    tt_init(&x);
    int w;
    CHECK_EQ_INT(tree_watch_add(x.t, "/w", TREE_WATCH_EXIST, &w), 0);
    CHECK_EQ_INT(tree_watch_add(x.t, "/", TREE_WATCH_CHILD, &w), 0);
    struct tree_multi_op bad[] = {op_create(ZOO_OP_CREATE, "/w", 0), op_set("/x", "d", -1)};
    struct tree_result res;
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_MULTI, bad, 2, &res), ZNONODE);
    CHECK_EQ_INT(x.n_ev, 0);
    struct tree_multi_op ok[] = {op_create(ZOO_OP_CREATE, "/w", 0), op_set("/w", "d", -1)};
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_MULTI, ok, 2, &res), ZOK);
    CHECK_EQ_INT(x.n_ev, 2);
    CHECK_EQ_INT(x.ev[0].type, ZOO_EVENT_CREATED);
    CHECK_EQ_STR(x.ev[0].path, "/w");
    CHECK_EQ_INT(x.ev[1].type, ZOO_EVENT_CHILDREN_CHANGED);
    CHECK_EQ_STR(x.ev[1].path, "/");
    tt_close(&x);
}

int main(void)
{
    RUN(test_success);
    RUN(test_failure);
    RUN(test_rollback_keeps_earlier_pending);
    RUN(test_decoding_rules);
    RUN(test_multi_watches);
    return t_done();
}
