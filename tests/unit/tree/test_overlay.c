/*
 * The outstanding-changes overlay: several txns prepped before any is
 * applied, as when the storage layer keeps writes in flight.
 */
#include "tree_test.h"

static void test_same_path_twice(void)
{
    struct tt x;
    tt_init(&x);
    struct jute_create_request r = tt_creq("/a", "1", ZOO_PERSISTENT);
    struct tree_txn t1, t2;
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CREATE, &r, 1, &t1), ZOK);
    CHECK(!tt_exists(&x, "/a")); /* prep does not touch the committed tree */
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CREATE, &r, 1, &t2), ZNODEEXISTS);
    struct tree_result res;
    CHECK_EQ_INT(tt_apply(&x, &t1, &res), ZOK);
    CHECK(tree_overlay_count(x.t) == 0);
    CHECK_EQ_INT(tt_apply(&x, &t2, &res), ZNODEEXISTS);
    tt_close(&x);
}

static void test_pipelined_sequentials(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tt_create(&x, "/q", NULL, 0, NULL, 0), ZOK);
    struct jute_create_request r = tt_creq("/q/n-", "x", ZOO_EPHEMERAL_SEQUENTIAL);
    struct tree_txn t[5];
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CREATE2, &r, 1, &t[i]), ZOK);
    char want[32];
    for (int i = 0; i < 5; i++) {
        snprintf(want, sizeof(want), "/q/n-%010d", i);
        CHECK_EQ_STR(t[i].u.create.path, want);
        CHECK_EQ_INT(t[i].u.create.parent_cversion, i + 1);
    }
    /* apply the first two, prep one more: it continues from the overlay */
    struct tree_result res;
    tt_apply(&x, &t[0], &res);
    tt_apply(&x, &t[1], &res);
    struct tree_txn t5;
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CREATE2, &r, 1, &t5), ZOK);
    CHECK_EQ_STR(t5.u.create.path, "/q/n-0000000005");
    for (int i = 2; i < 5; i++)
        CHECK_EQ_INT(tt_apply(&x, &t[i], &res), ZOK);
    CHECK_EQ_INT(tt_apply(&x, &t5, &res), ZOK);
    struct jute_stat st;
    CHECK(tt_stat(&x, "/q", &st));
    CHECK_EQ_INT(st.num_children, 6);
    CHECK_EQ_INT(tree_overlay_count(x.t), 0);
    tt_close(&x);
}

static void test_dependent_ops(void)
{
    struct tt x;
    tt_init(&x);
    struct tree_txn t[8];
    struct jute_create_request ca = tt_creq("/a", "v", ZOO_PERSISTENT);
    struct jute_create_request cb = tt_creq("/a/b", "v", ZOO_PERSISTENT);
    struct jute_path_version_request da = {.path = "/a", .version = -1};
    struct jute_path_version_request db = {.path = "/a/b", .version = 0};
    struct jute_set_data_request s0 = {
        .path = "/a", .data = {(const uint8_t *)"x", 1}, .version = 0};
    int n = 0;
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CREATE, &ca, 1, &t[n++]), ZOK);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CREATE, &cb, 1, &t[n++]), ZOK);       /* parent pending */
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_DELETE, &da, 1, &t[n++]), ZNOTEMPTY); /* child pending */
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_SETDATA, &s0, 1, &t[n++]), ZOK);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_SETDATA, &s0, 1, &t[n++]), ZBADVERSION); /* now 1 */
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_DELETE, &db, 1, &t[n++]), ZOK);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_DELETE, &da, 1, &t[n++]), ZOK);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_DELETE, &da, 1, &t[n++]), ZNONODE);
    struct tree_result res;
    for (int i = 0; i < n; i++)
        tt_apply(&x, &t[i], &res);
    CHECK(!tt_exists(&x, "/a"));
    /* delete then create again */
    CHECK_EQ_INT(tt_create(&x, "/a", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_DELETE, &da, 1, &t[0]), ZOK);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CREATE, &ca, 1, &t[1]), ZOK);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_SETDATA, &s0, 1, &t[2]), ZOK); /* the new node's version */
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(tt_apply(&x, &t[i], &res), ZOK);
    tt_close(&x);
}

static void test_ephemeral_parent_pending(void)
{
    struct tt x;
    tt_init(&x);
    struct jute_create_request e = tt_creq("/e", NULL, ZOO_EPHEMERAL);
    struct jute_create_request c = tt_creq("/e/c", NULL, ZOO_PERSISTENT);
    struct tree_txn t1, t2;
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CREATE, &e, 1, &t1), ZOK);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CREATE, &c, 1, &t2), ZNOCHILDRENFOREPHEMERALS);
    struct tree_result res;
    tt_apply(&x, &t1, &res);
    tt_apply(&x, &t2, &res);
    tt_close(&x);
}

static void test_pending_set_acl(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tt_create(&x, "/a", NULL, 0, NULL, 0), ZOK);
    struct jute_acl ro = {.perms = ZOO_PERM_READ, .id = {.scheme = "world", .id = "anyone"}};
    struct jute_set_acl_request sa = {
        .path = "/a", .acl = {.count = 1, .items = &ro}, .version = -1};
    struct jute_set_data_request sd = {.path = "/a", .data = {NULL, -1}, .version = -1};
    struct tree_txn t1, t2;
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_SETACL, &sa, 1, &t1), ZOK);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_SETDATA, &sd, 1, &t2), ZNOAUTH);
    struct tree_result res;
    tt_apply(&x, &t1, &res);
    tt_apply(&x, &t2, &res);
    CHECK_EQ_INT(tt_set(&x, "/a", NULL, -1, NULL), ZNOAUTH);
    tt_close(&x);
}

static void test_close_session_pending(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tt_create(&x, "/e1", NULL, ZOO_EPHEMERAL, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/e2", NULL, ZOO_EPHEMERAL, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/d", NULL, 0, NULL, 0), ZOK);
    struct jute_create_request c3 = tt_creq("/d/e3", NULL, ZOO_EPHEMERAL);
    struct jute_path_version_request d1 = {.path = "/e1", .version = -1};
    struct jute_path_version_request dd = {.path = "/d", .version = -1};
    struct tree_txn t[5];
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CREATE, &c3, 1, &t[0]), ZOK);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_DELETE, &d1, 1, &t[1]), ZOK);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CLOSESESSION, NULL, 0, &t[2]), ZOK);
    const struct jute_str_vec *p = &t[2].u.close_session.paths_to_delete;
    CHECK_EQ_INT(p->count, 2);
    CHECK_EQ_STR(p->items[0], "/e2");
    CHECK_EQ_STR(p->items[1], "/d/e3");
    /* the pending closeSession empties /d for later preps */
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_DELETE, &dd, 1, &t[3]), ZOK);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_DELETE, &d1, 1, &t[4]), ZNONODE);
    struct tree_result res;
    for (int i = 0; i < 5; i++)
        tt_apply(&x, &t[i], &res);
    CHECK(!tt_exists(&x, "/d"));
    CHECK(!tt_exists(&x, "/e2"));
    CHECK_EQ_INT(tree_ephemeral_count(x.t), 0);
    tt_close(&x);
}

static void test_clear(void)
{
    struct tt x;
    tt_init(&x);
    struct jute_create_request r = tt_creq("/a", NULL, 0);
    struct tree_txn t1;
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CREATE, &r, 1, &t1), ZOK);
    CHECK(tree_overlay_count(x.t) == 2);
    tree_overlay_clear(x.t);
    CHECK(tree_overlay_count(x.t) == 0);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CREATE, &r, 1, &t1), ZOK);
    /* applying a later zxid drops earlier records too */
    struct tree_txn t2;
    struct jute_create_request r2 = tt_creq("/b", NULL, 0);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CREATE, &r2, 1, &t2), ZOK);
    struct tree_result res;
    CHECK_EQ_INT(tt_apply(&x, &t2, &res), ZOK);
    CHECK(tree_overlay_count(x.t) == 0);
    tt_close(&x);
}

int main(void)
{
    RUN(test_same_path_twice);
    RUN(test_pipelined_sequentials);
    RUN(test_dependent_ops);
    RUN(test_ephemeral_parent_pending);
    RUN(test_pending_set_acl);
    RUN(test_close_session_pending);
    RUN(test_clear);
    return t_done();
}
