/*
 * Single ops end to end (prep + apply): the initial tree, stats after every
 * op, sequence numbers, errors per op in ZooKeeper's check order, ephemerals
 * and closeSession, replay corner cases.
 */
#include "tree_test.h"

#include <limits.h>

static void test_initial_tree(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tree_node_count(x.t), 5); /* "", "/", /zookeeper, quota, config */
    CHECK_EQ_INT(tree_approx_data_size(x.t), 44);
    CHECK(tt_exists(&x, "/"));
    CHECK(tt_exists(&x, ""));
    CHECK(tt_exists(&x, "/zookeeper"));
    CHECK(tt_exists(&x, "/zookeeper/quota"));
    CHECK(tt_exists(&x, "/zookeeper/config"));
    CHECK(!tt_exists(&x, "/zookeeper/"));
    CHECK(!tt_exists(&x, "//zookeeper"));
    CHECK(!tt_exists(&x, "zookeeper"));
    CHECK(!tt_exists(&x, "/nope"));
    struct jute_stat st;
    CHECK(tt_stat(&x, "/", &st));
    CHECK_EQ_INT(st.czxid, 0);
    CHECK_EQ_INT(st.num_children, 1);
    CHECK_EQ_INT(st.cversion, -1); /* 0 * 2 - 1: as a fresh ZooKeeper shows it */
    CHECK_EQ_INT(st.data_length, 0);
    CHECK(tt_stat(&x, "/zookeeper", &st));
    CHECK_EQ_INT(st.num_children, 2);
    CHECK_EQ_INT(st.cversion, -2);
    CHECK(tt_stat(&x, "/zookeeper/config", &st));
    CHECK_EQ_INT(st.aversion, -1);
    struct jute_acl_vec acl;
    tree_node_acl(x.t, tree_find(x.t, "/zookeeper/config"), &acl);
    CHECK_EQ_INT(acl.count, 1);
    CHECK_EQ_INT(acl.items[0].perms, ZOO_PERM_READ);
    CHECK_EQ_STR(acl.items[0].id.scheme, "world");
    CHECK_EQ_STR(acl.items[0].id.id, "anyone");
    tree_node_acl(x.t, tree_find(x.t, "/"), &acl);
    CHECK_EQ_INT(acl.count, 1);
    CHECK_EQ_INT(acl.items[0].perms, ZOO_PERM_ALL);
    struct jute_buf d = tree_node_data(tree_find(x.t, "/zookeeper"));
    CHECK_EQ_INT(d.len, 0);
    struct jute_str_vec kids;
    CHECK_EQ_INT(tree_node_children(x.t, tree_find(x.t, "/zookeeper"), &x.a, &kids), 0);
    CHECK_EQ_INT(kids.count, 2);
    CHECK_EQ_STR(kids.items[0], "quota");
    CHECK_EQ_STR(kids.items[1], "config");
    CHECK_EQ_INT(tree_count_descendants(x.t, tree_find(x.t, "/")), 3);
    CHECK_EQ_INT(tree_count_descendants(x.t, tree_find(x.t, "/zookeeper")), 2);
    tt_close(&x);
}

static void test_create_delete_stats(void)
{
    struct tt x;
    tt_init(&x);
    struct tree_result res;
    struct jute_create_request r = tt_creq("/a", "hello", ZOO_PERSISTENT);
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_CREATE2, &r, 1, &res), ZOK);
    int64_t z1 = x.zxid, t1 = x.now;
    CHECK_EQ_STR(res.path, "/a");
    CHECK_EQ_INT(res.type, ZOO_OP_CREATE2);
    struct jute_stat st;
    CHECK(tt_stat(&x, "/a", &st));
    CHECK(tt_stat_eq(&st, &res.stat));
    CHECK_EQ_INT(st.czxid, z1);
    CHECK_EQ_INT(st.mzxid, z1);
    CHECK_EQ_INT(st.pzxid, z1);
    CHECK_EQ_INT(st.ctime, t1);
    CHECK_EQ_INT(st.mtime, t1);
    CHECK_EQ_INT(st.version, 0);
    CHECK_EQ_INT(st.cversion, 0);
    CHECK_EQ_INT(st.aversion, 0);
    CHECK_EQ_INT(st.ephemeral_owner, 0);
    CHECK_EQ_INT(st.data_length, 5);
    CHECK_EQ_INT(st.num_children, 0);
    struct jute_buf d = tree_node_data(tree_find(x.t, "/a"));
    CHECK(d.len == 5 && memcmp(d.data, "hello", 5) == 0);
    /* root: one create (stored cversion 1), two children */
    CHECK(tt_stat(&x, "/", &st));
    CHECK_EQ_INT(st.pzxid, z1);
    CHECK_EQ_INT(st.cversion, 0);
    CHECK_EQ_INT(st.num_children, 2);
    CHECK_EQ_INT(tree_node_count(x.t), 6);
    CHECK_EQ_INT(tree_approx_data_size(x.t), 44 + 2 + 5);

    /* create (op 1) returns the path but no stat */
    r = tt_creq("/a/b", NULL, ZOO_PERSISTENT);
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_CREATE, &r, 1, &res), ZOK);
    int64_t z2 = x.zxid;
    CHECK_EQ_STR(res.path, "/a/b");
    CHECK_EQ_INT(res.stat.czxid, 0);
    CHECK(tt_stat(&x, "/a/b", &st));
    CHECK_EQ_INT(st.data_length, 0);
    CHECK_EQ_INT(tree_node_data(tree_find(x.t, "/a/b")).len, -1); /* null data stays null */
    CHECK(tt_stat(&x, "/a", &st));
    CHECK_EQ_INT(st.cversion, 1);
    CHECK_EQ_INT(st.pzxid, z2);
    CHECK_EQ_INT(st.mzxid, z1);
    CHECK_EQ_INT(st.num_children, 1);

    CHECK_EQ_INT(tt_delete(&x, "/a/b", -1), ZOK);
    int64_t z3 = x.zxid;
    CHECK(!tt_exists(&x, "/a/b"));
    CHECK(tt_stat(&x, "/a", &st));
    CHECK_EQ_INT(st.cversion, 2); /* stored 1, no children: creates + deletes */
    CHECK_EQ_INT(st.pzxid, z3);
    CHECK_EQ_INT(st.num_children, 0);
    CHECK_EQ_INT(st.mzxid, z1);
    CHECK_EQ_INT(tree_node_count(x.t), 6);
    CHECK_EQ_INT(tree_approx_data_size(x.t), 44 + 2 + 5);

    CHECK_EQ_INT(tt_delete(&x, "/a", 0), ZOK);
    CHECK_EQ_INT(tree_node_count(x.t), 5);
    CHECK_EQ_INT(tree_approx_data_size(x.t), 44);
    tt_close(&x);
}

static void test_set_data_and_acl(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tt_create(&x, "/a", "v0", ZOO_PERSISTENT, NULL, 0), ZOK);
    int64_t z1 = x.zxid;
    struct jute_stat st;
    CHECK_EQ_INT(tt_set(&x, "/a", "longer value", -1, &st), ZOK);
    CHECK_EQ_INT(st.version, 1);
    CHECK_EQ_INT(st.mzxid, x.zxid);
    CHECK_EQ_INT(st.mtime, x.now);
    CHECK_EQ_INT(st.czxid, z1);
    CHECK_EQ_INT(st.data_length, 12);
    CHECK_EQ_INT(tree_approx_data_size(x.t), 44 + 2 + 12);
    CHECK_EQ_INT(tt_set(&x, "/a", "x", 1, &st), ZOK);
    CHECK_EQ_INT(st.version, 2);
    CHECK_EQ_INT(tt_set(&x, "/a", "y", 1, NULL), ZBADVERSION);
    CHECK_EQ_INT(tt_set(&x, "/a", NULL, 2, &st), ZOK);
    CHECK_EQ_INT(st.data_length, 0);
    CHECK_EQ_INT(tree_node_data(tree_find(x.t, "/a")).len, -1);
    CHECK_EQ_INT(tt_set(&x, "/a", "", -1, &st), ZOK);
    CHECK_EQ_INT(tree_node_data(tree_find(x.t, "/a")).len, 0);
    CHECK_EQ_INT(st.version, 4);
    CHECK_EQ_INT(tt_set(&x, "/nope", "x", -1, NULL), ZNONODE);
    CHECK_EQ_INT(tt_set(&x, "/a/", "x", -1, NULL), ZBADARGUMENTS);
    CHECK_EQ_INT(tt_set(&x, "a", "x", -1, NULL), ZBADARGUMENTS);
    /* setData on the root works */
    CHECK_EQ_INT(tt_set(&x, "/", "root", -1, &st), ZOK);
    CHECK_EQ_INT(st.version, 1);

    struct jute_acl items[2] = {
        {.perms = ZOO_PERM_READ, .id = {.scheme = "world", .id = "anyone"}},
        {.perms = ZOO_PERM_ALL, .id = {.scheme = "digest", .id = "u:hash"}},
    };
    struct jute_set_acl_request sa = {
        .path = "/a", .acl = {.count = 2, .items = items}, .version = -1};
    struct tree_result res;
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_SETACL, &sa, 1, &res), ZOK);
    CHECK_EQ_INT(res.stat.aversion, 1);
    CHECK_EQ_INT(res.stat.version, 4);
    struct jute_acl_vec acl;
    tree_node_acl(x.t, tree_find(x.t, "/a"), &acl);
    CHECK_EQ_INT(acl.count, 2);
    CHECK_EQ_STR(acl.items[1].id.id, "u:hash");
    /* now only READ for world: setACL needs ADMIN, checked before the version */
    sa.version = 0;
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_SETACL, &sa, 1, NULL), ZNOAUTH);
    tt_add_id(&x, "digest", "u:hash");
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_SETACL, &sa, 1, NULL), ZBADVERSION);
    sa.version = 1;
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_SETACL, &sa, 1, &res), ZOK);
    CHECK_EQ_INT(res.stat.aversion, 2);
    sa.path = "/nope";
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_SETACL, &sa, 1, NULL), ZNONODE);
    sa.path = "/a";
    sa.acl.count = 0;
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_SETACL, &sa, 1, NULL), ZINVALIDACL);
    sa.path = "bad";
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_SETACL, &sa, 1, NULL), ZBADARGUMENTS);
    tt_close(&x);
}

static void test_sequential(void)
{
    struct tt x;
    tt_init(&x);
    char p[64];
    CHECK_EQ_INT(tt_create(&x, "/s", NULL, ZOO_PERSISTENT, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/s/n-", "a", ZOO_PERSISTENT_SEQUENTIAL, p, sizeof(p)), ZOK);
    CHECK_EQ_STR(p, "/s/n-0000000000");
    CHECK_EQ_INT(tt_create(&x, "/s/n-", "a", ZOO_EPHEMERAL_SEQUENTIAL, p, sizeof(p)), ZOK);
    CHECK_EQ_STR(p, "/s/n-0000000001");
    CHECK_EQ_INT(tt_delete(&x, "/s/n-0000000001", -1), ZOK);
    CHECK_EQ_INT(tt_delete(&x, "/s/n-0000000000", -1), ZOK);
    /* deletes do not lower the counter */
    CHECK_EQ_INT(tt_create(&x, "/s/n-", "a", ZOO_PERSISTENT_SEQUENTIAL, p, sizeof(p)), ZOK);
    CHECK_EQ_STR(p, "/s/n-0000000002");
    /* a trailing slash: the number is the name */
    CHECK_EQ_INT(tt_create(&x, "/s/", "a", ZOO_PERSISTENT_SEQUENTIAL, p, sizeof(p)), ZOK);
    CHECK_EQ_STR(p, "/s/0000000003");
    /* under the root, "/" itself is a valid prefix */
    CHECK_EQ_INT(tt_create(&x, "/", "a", ZOO_PERSISTENT_SEQUENTIAL, p, sizeof(p)), ZOK);
    CHECK_EQ_STR(p, "/0000000001");
    /* a non-sequential create with a trailing slash is a bad path, once the parent passed */
    CHECK_EQ_INT(tt_create(&x, "/s/", "a", ZOO_PERSISTENT, NULL, 0), ZBADARGUMENTS);
    CHECK_EQ_INT(tt_create(&x, "/nope/", "a", ZOO_PERSISTENT, NULL, 0), ZNONODE);
    /* a sequential name that already exists */
    CHECK_EQ_INT(tt_create(&x, "/s/x0000000005", NULL, ZOO_PERSISTENT, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/s/x", "a", ZOO_PERSISTENT_SEQUENTIAL, p, sizeof(p)), ZNODEEXISTS);
    /* failed creates do not count: the same name again */
    CHECK_EQ_INT(tt_create(&x, "/s/x", "a", ZOO_PERSISTENT_SEQUENTIAL, p, sizeof(p)), ZNODEEXISTS);
    CHECK_EQ_INT(tt_create(&x, "/s/y", NULL, ZOO_PERSISTENT, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/s/x", "a", ZOO_PERSISTENT_SEQUENTIAL, p, sizeof(p)), ZOK);
    CHECK_EQ_STR(p, "/s/x0000000006");
    tt_close(&x);
}

/* Applies a CreateTxn directly, as from a log, with an explicit parentCVersion. */
static void apply_create_txn(struct tt *x, const char *path, int32_t parent_cversion,
                             struct tree_result *res)
{
    struct tree_txn txn;
    memset(&txn, 0, sizeof(txn));
    txn.hdr = (struct jute_txn_header){.client_id = x->session,
                                       .cxid = 1,
                                       .zxid = ++x->zxid,
                                       .time = ++x->now,
                                       .type = ZOO_OP_CREATE};
    txn.u.create = (struct jute_create_txn){.path = (char *)path,
                                            .data = {NULL, -1},
                                            .acl = tt_open_acl,
                                            .parent_cversion = parent_cversion};
    tt_apply(x, &txn, res);
}

static void test_cversion_overflow(void)
{
    struct tt x;
    tt_init(&x);
    struct tree_result res;
    CHECK_EQ_INT(tt_create(&x, "/s", NULL, ZOO_PERSISTENT, NULL, 0), ZOK);
    apply_create_txn(&x, "/s/big", INT32_MAX, &res);
    CHECK_EQ_INT(res.err, ZOK);
    char p[64];
    struct jute_create_request r = tt_creq("/s/n", NULL, ZOO_PERSISTENT_SEQUENTIAL);
    /* two pipelined sequential creates: the overlay counts past INT_MAX */
    struct tree_txn t1, t2;
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CREATE, &r, 1, &t1), ZOK);
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CREATE, &r, 1, &t2), ZOK);
    CHECK_EQ_STR(t1.u.create.path, "/s/n2147483647");
    CHECK_EQ_INT(t1.u.create.parent_cversion, INT32_MIN);
    CHECK_EQ_STR(t2.u.create.path, "/s/n-2147483648");
    CHECK_EQ_INT(t2.u.create.parent_cversion, INT32_MIN + 1);
    CHECK_EQ_INT(tt_apply(&x, &t1, &res), ZOK);
    CHECK_EQ_INT(tt_apply(&x, &t2, &res), ZOK);
    /* the committed cversion cannot go backwards: it stays at INT_MAX */
    struct jute_stat st;
    CHECK(tt_stat(&x, "/s", &st));
    CHECK_EQ_INT(st.num_children, 3);
    CHECK_EQ_INT(st.cversion, (int32_t)((uint32_t)INT32_MAX * 2u - 3u));
    /* prep's wrapped parent cversion is not applied, so its digest is not the tree's: as in
     * ZooKeeper, whose digest check would report the mismatch */
    x.no_digest_check = true;
    /* so the next sequential create collides with the first one */
    CHECK_EQ_INT(tt_create(&x, "/s/n", NULL, ZOO_PERSISTENT_SEQUENTIAL, p, sizeof(p)), ZNODEEXISTS);
    CHECK_EQ_INT(tt_delete(&x, "/s/n2147483647", -1), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/s/n", NULL, ZOO_PERSISTENT_SEQUENTIAL, p, sizeof(p)), ZOK);
    CHECK_EQ_STR(p, "/s/n2147483647");
    tt_close(&x);
}

static void test_create_errors(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tt_create(&x, "/a", NULL, ZOO_PERSISTENT, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/a", NULL, ZOO_PERSISTENT, NULL, 0), ZNODEEXISTS);
    CHECK_EQ_INT(tt_create(&x, "/", NULL, ZOO_PERSISTENT, NULL, 0), ZNODEEXISTS);
    CHECK_EQ_INT(tt_create(&x, "/zookeeper", NULL, ZOO_PERSISTENT, NULL, 0), ZNODEEXISTS);
    CHECK_EQ_INT(tt_create(&x, "a", NULL, ZOO_PERSISTENT, NULL, 0), ZBADARGUMENTS);
    CHECK_EQ_INT(tt_create(&x, "", NULL, ZOO_PERSISTENT, NULL, 0), ZBADARGUMENTS);
    CHECK_EQ_INT(tt_create(&x, "/x/y", NULL, ZOO_PERSISTENT, NULL, 0), ZNONODE);
    CHECK_EQ_INT(tt_create(&x, "/a/.", NULL, ZOO_PERSISTENT, NULL, 0), ZBADARGUMENTS);
    CHECK_EQ_INT(tt_create(&x, "/a//b", NULL, ZOO_PERSISTENT, NULL, 0), ZNONODE);
    CHECK_EQ_INT(tt_create(&x, "/a", NULL, 7, NULL, 0), ZBADARGUMENTS);
    CHECK_EQ_INT(tt_create(&x, "/a", NULL, -1, NULL, 0), ZBADARGUMENTS);

    /* TTL: off -> UNIMPLEMENTED; on -> ttl range and opcode checks */
    struct jute_create_request r = tt_creq("/t", NULL, ZOO_PERSISTENT_WITH_TTL);
    r.ttl = 1000;
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_CREATETTL, &r, 1, NULL), ZUNIMPLEMENTED);
    x.ttl = true;
    tree_set_extended_types(x.t, true);
    r.ttl = 0;
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_CREATETTL, &r, 1, NULL), ZBADARGUMENTS);
    r.ttl = ZOO_TTL_MAX + 1;
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_CREATETTL, &r, 1, NULL), ZBADARGUMENTS);
    r.ttl = 1000;
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_CREATE2, &r, 1, NULL), ZBADARGUMENTS); /* ttl -1 */
    r.flags = ZOO_PERSISTENT;
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_CREATETTL, &r, 1, NULL), ZBADARGUMENTS);
    r.flags = ZOO_PERSISTENT_WITH_TTL;
    struct tree_result res;
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_CREATETTL, &r, 1, &res), ZOK);
    CHECK_EQ_INT(res.stat.ephemeral_owner, 0); /* TTL owners are not shown to clients */
    x.ttl = false;

    /* ACL list checks come before the parent lookup */
    r = tt_creq("/x/y", NULL, ZOO_PERSISTENT);
    r.acl.count = 0;
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_CREATE, &r, 1, NULL), ZINVALIDACL);
    struct jute_acl bad = {.perms = ZOO_PERM_ALL, .id = {.scheme = "nope", .id = "x"}};
    r.acl = (struct jute_acl_vec){.count = 1, .items = &bad};
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_CREATE, &r, 1, NULL), ZINVALIDACL);
    /* but after path syntax: "a" fails first */
    r.path = "a";
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_CREATE, &r, 1, NULL), ZBADARGUMENTS);

    /* NOAUTH before NODEEXISTS */
    struct jute_acl ro = {.perms = ZOO_PERM_READ, .id = {.scheme = "world", .id = "anyone"}};
    r = tt_creq("/ro", NULL, ZOO_PERSISTENT);
    r.acl = (struct jute_acl_vec){.count = 1, .items = &ro};
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_CREATE, &r, 1, NULL), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/ro/c", NULL, ZOO_PERSISTENT, NULL, 0), ZNOAUTH);
    CHECK_EQ_INT(tt_create(&x, "/zookeeper/config/c", NULL, ZOO_PERSISTENT, NULL, 0), ZNOAUTH);

    /* ephemeral parent: NODEEXISTS first, then NOCHILDRENFOREPHEMERALS */
    CHECK_EQ_INT(tt_create(&x, "/e", NULL, ZOO_EPHEMERAL, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/e", NULL, ZOO_PERSISTENT, NULL, 0), ZNODEEXISTS);
    CHECK_EQ_INT(tt_create(&x, "/e/c", NULL, ZOO_PERSISTENT, NULL, 0), ZNOCHILDRENFOREPHEMERALS);
    /* containers and TTL nodes may have children */
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_CREATECONTAINER,
                          &(struct jute_create_request){.path = "/c",
                                                        .acl = tt_open_acl,
                                                        .flags = ZOO_CONTAINER,
                                                        .ttl = -1,
                                                        .data = {NULL, -1}},
                          1, NULL),
                 ZOK);
    CHECK_EQ_INT(tt_create(&x, "/c/k", NULL, ZOO_PERSISTENT, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/t/k", NULL, ZOO_PERSISTENT, NULL, 0), ZOK);

    /* a closing session fails every op */
    x.closing = true;
    CHECK_EQ_INT(tt_create(&x, "/z", NULL, ZOO_EPHEMERAL, NULL, 0), ZSESSIONEXPIRED);
    CHECK_EQ_INT(tt_create(&x, "/z", NULL, ZOO_PERSISTENT, NULL, 0), ZSESSIONEXPIRED);
    CHECK_EQ_INT(tt_set(&x, "/a", NULL, -1, NULL), ZSESSIONEXPIRED);
    CHECK_EQ_INT(tt_delete(&x, "/a", -1), ZSESSIONEXPIRED);
    x.closing = false;
    /* create with a container flag but the create opcode: a plain node (as ZooKeeper) */
    CHECK_EQ_INT(tt_create(&x, "/pc", NULL, ZOO_CONTAINER, NULL, 0), ZOK);
    struct jute_str_vec v;
    CHECK_EQ_INT(tree_reap_candidates(x.t, x.now + 1000000, 1, 10, &x.a, &v), 0);
    for (int i = 0; i < v.count; i++)
        CHECK(strcmp(v.items[i], "/pc") != 0);
    tt_close(&x);
}

static void test_delete_errors(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tt_create(&x, "/a", NULL, ZOO_PERSISTENT, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/a/b", NULL, ZOO_PERSISTENT, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_delete(&x, "/", -1), ZBADARGUMENTS);
    CHECK_EQ_INT(tt_delete(&x, "/zookeeper", -1), ZBADARGUMENTS);
    CHECK_EQ_INT(tt_delete(&x, "/zookeeper/quota", -1), ZBADARGUMENTS);
    CHECK_EQ_INT(tt_delete(&x, "/zookeeper/config", -1), ZBADARGUMENTS);
    CHECK_EQ_INT(tt_delete(&x, "a", -1), ZBADARGUMENTS);
    CHECK_EQ_INT(tt_delete(&x, "/nope", -1), ZNONODE);
    CHECK_EQ_INT(tt_delete(&x, "/nope/x", -1), ZNONODE);
    CHECK_EQ_INT(tt_delete(&x, "/a/", -1), ZNONODE);
    CHECK_EQ_INT(tt_delete(&x, "/a", -1), ZNOTEMPTY);
    CHECK_EQ_INT(tt_delete(&x, "/a", 5), ZBADVERSION); /* version before emptiness */
    CHECK_EQ_INT(tt_delete(&x, "/a/b", 1), ZBADVERSION);
    /* DELETE is checked on the parent */
    struct jute_acl nodel = {.perms = ZOO_PERM_ALL & ~ZOO_PERM_DELETE,
                             .id = {.scheme = "world", .id = "anyone"}};
    struct jute_set_acl_request sa = {
        .path = "/a", .acl = {.count = 1, .items = &nodel}, .version = -1};
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_SETACL, &sa, 1, NULL), ZOK);
    CHECK_EQ_INT(tt_delete(&x, "/a/b", -1), ZNOAUTH);
    CHECK_EQ_INT(tt_delete(&x, "/a/zz", -1), ZNOAUTH); /* NOAUTH before NONODE of the node */
    CHECK_EQ_INT(tt_create(&x, "/a/b/c", NULL, ZOO_PERSISTENT, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_delete(&x, "/a/b/c", 0), ZOK);
    tt_close(&x);
}

static void test_check_and_misc_ops(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tt_create(&x, "/a", "d", ZOO_PERSISTENT, NULL, 0), ZOK);
    struct jute_path_version_request c = {.path = "/a", .version = 0};
    struct tree_txn txn;
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CHECK, &c, 1, &txn), ZOK);
    CHECK_EQ_INT(txn.hdr.type, ZOO_OP_CHECK);
    CHECK_EQ_INT(txn.u.check.version, 1);
    struct tree_result res;
    CHECK_EQ_INT(tt_apply(&x, &txn, &res), ZOK);
    CHECK_EQ_STR(res.path, "/a");
    c.version = 3;
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_CHECK, &c, 1, NULL), ZBADVERSION);
    c.path = "/b";
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_CHECK, &c, 1, NULL), ZNONODE);
    c.path = "/a/";
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_CHECK, &c, 1, NULL), ZBADARGUMENTS);

    /* every failed write is an ErrorTxn with the zxid */
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CHECK, &c, 1, &txn), ZBADARGUMENTS);
    CHECK_EQ_INT(txn.hdr.type, ZOO_OP_ERROR);
    CHECK_EQ_INT(txn.hdr.zxid, x.zxid);
    CHECK_EQ_INT(txn.hdr.client_id, x.session);
    CHECK_EQ_INT(txn.u.error.err, ZBADARGUMENTS);
    CHECK_EQ_INT(tt_apply(&x, &txn, &res), ZBADARGUMENTS);
    CHECK_EQ_INT(res.type, ZOO_OP_ERROR);

    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_RECONFIG, NULL, 0, &txn), ZRECONFIGDISABLED);
    tt_apply(&x, &txn, &res);
    int32_t timeout = 30000;
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CREATESESSION, &timeout, 0, &txn), ZOK);
    CHECK_EQ_INT(txn.hdr.type, ZOO_OP_CREATESESSION);
    CHECK_EQ_INT(txn.u.create_session.timeout_ms, 30000);
    CHECK_EQ_INT(tt_apply(&x, &txn, &res), ZOK);
    struct tree_prep_ctx ctx = tt_ctx(&x);
    CHECK_EQ_INT(tree_prep(x.t, &ctx, ZOO_OP_GETDATA, &c, 1, &x.a, &txn), PD_EINVAL);
    tt_close(&x);
}

static void test_delete_container(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tt_create(&x, "/p", NULL, ZOO_PERSISTENT, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/p/k", NULL, ZOO_PERSISTENT, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/e", NULL, ZOO_EPHEMERAL, NULL, 0), ZOK);
    struct jute_path_request r = {.path = "/p"};
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_DELETECONTAINER, &r, 1, NULL), ZNOTEMPTY);
    r.path = "/e";
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_DELETECONTAINER, &r, 1, NULL), ZBADVERSION);
    r.path = "/zookeeper";
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_DELETECONTAINER, &r, 1, NULL), ZBADARGUMENTS);
    r.path = "/gone";
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_DELETECONTAINER, &r, 1, NULL), ZNONODE);
    /* ZooKeeper deletes a persistent node too, with no ACL or session check */
    x.closing = true;
    r.path = "/p/k";
    struct tree_result res;
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_DELETECONTAINER, &r, 1, &res), ZOK);
    CHECK_EQ_INT(res.type, ZOO_OP_DELETECONTAINER);
    CHECK(!tt_exists(&x, "/p/k"));
    tt_close(&x);
}

static void count_session(int64_t sid, int64_t n, void *arg)
{
    int64_t *seen = arg;
    (void)sid;
    seen[0]++;
    seen[1] += n;
}

static void test_ephemerals_and_close_session(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tt_create(&x, "/app", NULL, ZOO_PERSISTENT, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/app/e1", NULL, ZOO_EPHEMERAL, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/app/e2", NULL, ZOO_EPHEMERAL, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/top", NULL, ZOO_EPHEMERAL, NULL, 0), ZOK);
    int64_t mine = x.session;
    x.session = 0x999;
    CHECK_EQ_INT(tt_create(&x, "/app/other", NULL, ZOO_EPHEMERAL, NULL, 0), ZOK);
    x.session = mine;
    struct jute_stat st;
    CHECK(tt_stat(&x, "/app/e1", &st));
    CHECK_EQ_INT(st.ephemeral_owner, mine);
    CHECK_EQ_INT(tree_ephemeral_count(x.t), 4);

    struct jute_str_vec v;
    CHECK_EQ_INT(tree_ephemerals(x.t, mine, NULL, &x.a, &v), 0);
    CHECK_EQ_INT(v.count, 3);
    CHECK_EQ_STR(v.items[0], "/app/e1");
    CHECK_EQ_STR(v.items[1], "/app/e2");
    CHECK_EQ_STR(v.items[2], "/top");
    CHECK_EQ_INT(tree_ephemerals(x.t, mine, " / ", &x.a, &v), 0);
    CHECK_EQ_INT(v.count, 3);
    CHECK_EQ_INT(tree_ephemerals(x.t, mine, "", &x.a, &v), 0);
    CHECK_EQ_INT(v.count, 3);
    CHECK_EQ_INT(tree_ephemerals(x.t, mine, "/app", &x.a, &v), 0);
    CHECK_EQ_INT(v.count, 2);
    CHECK_EQ_INT(tree_ephemerals(x.t, mine, "/ap", &x.a, &v), 0); /* a string prefix */
    CHECK_EQ_INT(v.count, 2);
    CHECK_EQ_INT(tree_ephemerals(x.t, mine, "/t", &x.a, &v), 0);
    CHECK_EQ_INT(v.count, 1);
    CHECK_EQ_INT(tree_ephemerals(x.t, 0x777, NULL, &x.a, &v), 0);
    CHECK_EQ_INT(v.count, 0);
    int64_t seen[2] = {0, 0};
    tree_foreach_session(x.t, count_session, seen);
    CHECK_EQ_INT(seen[0], 2);
    CHECK_EQ_INT(seen[1], 4);

    CHECK_EQ_INT(tt_delete(&x, "/app/e2", -1), ZOK);
    struct tree_txn txn;
    CHECK_EQ_INT(tt_prep(&x, ZOO_OP_CLOSESESSION, NULL, 0, &txn), ZOK);
    CHECK_EQ_INT(txn.hdr.type, ZOO_OP_CLOSESESSION);
    CHECK_EQ_INT(txn.u.close_session.paths_to_delete.count, 2);
    CHECK_EQ_STR(txn.u.close_session.paths_to_delete.items[0], "/app/e1");
    CHECK_EQ_STR(txn.u.close_session.paths_to_delete.items[1], "/top");
    struct tree_result res;
    CHECK_EQ_INT(tt_apply(&x, &txn, &res), ZOK);
    CHECK(!tt_exists(&x, "/app/e1"));
    CHECK(!tt_exists(&x, "/top"));
    CHECK(tt_exists(&x, "/app/other"));
    CHECK_EQ_INT(tree_ephemeral_count(x.t), 1);
    CHECK(tt_stat(&x, "/app", &st));
    CHECK_EQ_INT(st.pzxid, x.zxid);
    /* a closeSession without a path list (an old log) still deletes the ephemerals */
    memset(&txn, 0, sizeof(txn));
    txn.hdr = (struct jute_txn_header){
        .client_id = 0x999, .zxid = ++x.zxid, .time = ++x.now, .type = ZOO_OP_CLOSESESSION};
    CHECK_EQ_INT(tt_apply(&x, &txn, &res), ZOK);
    CHECK(!tt_exists(&x, "/app/other"));
    CHECK_EQ_INT(tree_ephemeral_count(x.t), 0);
    tt_close(&x);
}

static void test_replay_corners(void)
{
    struct tt x;
    tt_init(&x);
    struct tree_result res;
    CHECK_EQ_INT(tt_create(&x, "/a", NULL, ZOO_PERSISTENT, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/a/b", NULL, ZOO_PERSISTENT, NULL, 0), ZOK);
    /* create over an existing node: NODEEXISTS, but the parent's cversion/pzxid move on */
    apply_create_txn(&x, "/a/b", 10, &res);
    CHECK_EQ_INT(res.err, ZNODEEXISTS);
    struct jute_stat st;
    CHECK(tt_stat(&x, "/a", &st));
    CHECK_EQ_INT(st.cversion, 10 * 2 - 1);
    CHECK_EQ_INT(st.pzxid, x.zxid);
    apply_create_txn(&x, "/q/b", 10, &res);
    CHECK_EQ_INT(res.err, ZNONODE);
    /* a create with parentCVersion -1 takes the parent's + 1 */
    apply_create_txn(&x, "/a/c", -1, &res);
    CHECK_EQ_INT(res.err, ZOK);
    CHECK(tt_stat(&x, "/a", &st));
    CHECK_EQ_INT(st.cversion, 11 * 2 - 2);
    /* a create with a lower parentCVersion leaves cversion and pzxid alone */
    int64_t pz = st.pzxid;
    apply_create_txn(&x, "/a/d", 3, &res);
    CHECK_EQ_INT(res.err, ZOK);
    CHECK(tt_stat(&x, "/a", &st));
    CHECK_EQ_INT(st.pzxid, pz);
    /* deleting a missing child still moves the parent's pzxid */
    struct tree_txn txn;
    memset(&txn, 0, sizeof(txn));
    txn.hdr = (struct jute_txn_header){.zxid = ++x.zxid, .type = ZOO_OP_DELETE};
    txn.u.del.path = "/a/zz";
    CHECK_EQ_INT(tt_apply(&x, &txn, &res), ZNONODE);
    CHECK(tt_stat(&x, "/a", &st));
    CHECK_EQ_INT(st.pzxid, x.zxid);
    /* setData / setACL on a missing node */
    memset(&txn, 0, sizeof(txn));
    txn.hdr = (struct jute_txn_header){.zxid = ++x.zxid, .type = ZOO_OP_SETDATA};
    txn.u.set_data.path = "/zz";
    CHECK_EQ_INT(tt_apply(&x, &txn, &res), ZNONODE);
    tt_close(&x);
}

static void test_children_and_counts(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tt_create(&x, "/p", NULL, ZOO_PERSISTENT, NULL, 0), ZOK);
    char path[32];
    for (int i = 0; i < 50; i++) {
        snprintf(path, sizeof(path), "/p/c%02d", i);
        CHECK_EQ_INT(tt_create(&x, path, "x", ZOO_PERSISTENT, NULL, 0), ZOK);
    }
    CHECK_EQ_INT(tt_create(&x, "/p/c07/g", NULL, ZOO_PERSISTENT, NULL, 0), ZOK);
    for (int i = 0; i < 50; i += 3) {
        if (i == 7)
            continue;
        snprintf(path, sizeof(path), "/p/c%02d", i);
        CHECK_EQ_INT(tt_delete(&x, path, -1), ZOK);
    }
    struct jute_str_vec v;
    CHECK_EQ_INT(tree_node_children(x.t, tree_find(x.t, "/p"), &x.a, &v), 0);
    CHECK_EQ_INT(v.count, 33);
    CHECK_EQ_STR(v.items[0], "c01");
    CHECK_EQ_STR(v.items[1], "c02");
    CHECK_EQ_STR(v.items[2], "c04");
    CHECK_EQ_INT(tree_count_descendants(x.t, tree_find(x.t, "/p")), 34);
    CHECK_EQ_INT(tree_count_descendants(x.t, tree_find(x.t, "/p/c07")), 1);
    CHECK_EQ_INT(tree_count_descendants(x.t, tree_find(x.t, "/")), 3 + 35);
    CHECK_EQ_INT(tree_node_count(x.t), 5 + 35);
    CHECK_EQ_INT(tree_node_children(x.t, tree_find(x.t, "/p/c07/g"), &x.a, &v), 0);
    CHECK_EQ_INT(v.count, 0);
    tt_close(&x);
}

static void test_big_and_long(void)
{
    struct tt x;
    tt_init(&x);
    /* a name longer than 64 KiB and data of 1 MiB */
    size_t nlen = 70000;
    char *path = malloc(nlen + 2);
    path[0] = '/';
    memset(path + 1, 'n', nlen);
    path[nlen + 1] = '\0';
    char *data = malloc(1 << 20);
    memset(data, 'd', 1 << 20);
    struct jute_create_request r = tt_creq(path, NULL, ZOO_PERSISTENT);
    r.data = (struct jute_buf){.data = (const uint8_t *)data, .len = 1 << 20};
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_CREATE, &r, 1, NULL), ZOK);
    struct tree_node *n = tree_find(x.t, path);
    CHECK(n != NULL);
    CHECK_EQ_INT(tree_node_data(n).len, 1 << 20);
    struct jute_str_vec v;
    CHECK_EQ_INT(tree_node_children(x.t, tree_find(x.t, "/"), &x.a, &v), 0);
    CHECK_EQ_INT(v.count, 2);
    CHECK_EQ_INT(strlen(v.items[1]), nlen);
    CHECK_EQ_INT(tt_set(&x, path, "small", -1, NULL), ZOK);
    CHECK_EQ_INT(tree_node_data(tree_find(x.t, path)).len, 5);
    CHECK_EQ_INT(tt_delete(&x, path, -1), ZOK);
    free(path);
    free(data);
    tt_close(&x);
}

static void test_deep(void)
{
    struct tt x;
    tt_init(&x);
    enum { DEPTH = 1000 };
    char *path = malloc(DEPTH * 3 + 1);
    size_t len = 0;
    for (int i = 0; i < DEPTH; i++) {
        memcpy(path + len, "/d", 2);
        len += 2;
        path[len] = '\0';
        CHECK_EQ_INT(tt_create(&x, path, "x", 0, NULL, 0), ZOK);
    }
    CHECK_EQ_INT(tree_count_descendants(x.t, tree_find(x.t, "/d")), DEPTH - 1);
    struct jute_stat st;
    CHECK(tt_stat(&x, path, &st));
    CHECK_EQ_INT(st.data_length, 1);
    for (int i = DEPTH; i > 0; i--) {
        path[2 * i] = '\0';
        CHECK_EQ_INT(tt_delete(&x, path, -1), ZOK);
    }
    CHECK_EQ_INT(tree_node_count(x.t), 5);
    free(path);
    tt_close(&x);
}

int main(void)
{
    RUN(test_initial_tree);
    RUN(test_create_delete_stats);
    RUN(test_set_data_and_acl);
    RUN(test_sequential);
    RUN(test_cversion_overflow);
    RUN(test_create_errors);
    RUN(test_delete_errors);
    RUN(test_check_and_misc_ops);
    RUN(test_delete_container);
    RUN(test_ephemerals_and_close_session);
    RUN(test_replay_corners);
    RUN(test_children_and_counts);
    RUN(test_big_and_long);
    RUN(test_deep);
    return t_done();
}
