/*
 * Snapshot support: dump a tree (ACL map + nodes in serializeNode order),
 * load it into another, compare; index continuity, unused-ACL purge, corrupt
 * input, and an OOM sweep over the load.
 */
#include "tree_test.h"

#define MAX_NODES 64
#define MAX_ACLS  16

struct dnode {
    char path[64];
    struct jute_stat_persisted st;
    int32_t dlen;
    char data[32];
    int64_t acl;
};

struct dacl {
    int64_t index;
    int32_t count;
    struct jute_acl items[4];
    char strs[4][2][32];
};

struct dump {
    struct dnode nodes[MAX_NODES];
    int n_nodes;
    struct dacl acls[MAX_ACLS];
    int n_acls;
    const struct tree *t;
};

static int dump_acl(int64_t index, const struct jute_acl_vec *acl, void *arg)
{
    struct dump *d = arg;
    struct dacl *a = &d->acls[d->n_acls++];
    a->index = index;
    a->count = acl->count;
    for (int32_t i = 0; i < acl->count && i < 4; i++) {
        snprintf(a->strs[i][0], 32, "%s", acl->items[i].id.scheme);
        snprintf(a->strs[i][1], 32, "%s", acl->items[i].id.id);
        a->items[i] = (struct jute_acl){.perms = acl->items[i].perms,
                                        .id = {.scheme = a->strs[i][0], .id = a->strs[i][1]}};
    }
    return 0;
}

static int dump_node(const char *path, size_t len, const struct tree_node *n, void *arg)
{
    struct dump *d = arg;
    CHECK_EQ_INT(strlen(path), len);
    struct dnode *x = &d->nodes[d->n_nodes++];
    snprintf(x->path, sizeof(x->path), "%s", path);
    tree_node_stat_persisted(n, &x->st);
    struct jute_buf b = tree_node_data(n);
    x->dlen = b.len;
    if (b.len > 0)
        memcpy(x->data, b.data, (size_t)b.len);
    x->acl = tree_node_acl_index(d->t, n);
    return 0;
}

static void dump(const struct tree *t, struct dump *d)
{
    memset(d, 0, sizeof(*d));
    d->t = t;
    CHECK_EQ_INT(tree_foreach_acl(t, dump_acl, d), 0);
    CHECK_EQ_INT(tree_foreach_node(t, dump_node, d), 0);
}

/* Loads `d` into t; returns the first error. */
static int load(struct tree *t, const struct dump *d)
{
    int rc = tree_load_begin(t);
    for (int i = 0; rc == 0 && i < d->n_acls; i++) {
        struct jute_acl_vec v = {.count = d->acls[i].count,
                                 .items = (struct jute_acl *)d->acls[i].items};
        rc = tree_load_acl(t, d->acls[i].index, &v);
    }
    for (int i = 0; rc == 0 && i < d->n_nodes; i++) {
        const struct dnode *x = &d->nodes[i];
        struct jute_buf b = {.data = (const uint8_t *)x->data, .len = x->dlen};
        rc = tree_load_node(t, x->path, &x->st, b, x->acl);
    }
    if (rc == 0)
        rc = tree_load_end(t);
    return rc;
}

static bool same_dump(const struct dump *a, const struct dump *b)
{
    if (a->n_nodes != b->n_nodes || a->n_acls != b->n_acls)
        return false;
    for (int i = 0; i < a->n_nodes; i++) {
        const struct dnode *x = &a->nodes[i], *y = &b->nodes[i];
        if (strcmp(x->path, y->path) || memcmp(&x->st, &y->st, sizeof(x->st)) ||
            x->dlen != y->dlen || (x->dlen > 0 && memcmp(x->data, y->data, (size_t)x->dlen)) ||
            x->acl != y->acl) {
            fprintf(stderr, "node %d differs: %s / %s\n", i, x->path, y->path);
            return false;
        }
    }
    for (int i = 0; i < a->n_acls; i++) {
        const struct dacl *x = &a->acls[i], *y = &b->acls[i];
        if (x->index != y->index || x->count != y->count)
            return false;
        for (int32_t k = 0; k < x->count; k++)
            if (x->items[k].perms != y->items[k].perms || strcmp(x->strs[k][0], y->strs[k][0]) ||
                strcmp(x->strs[k][1], y->strs[k][1]))
                return false;
    }
    return true;
}

static void build(struct tt *x)
{
    tt_init(x);
    x->ttl = true;
    tree_set_extended_types(x->t, true);
    struct jute_acl ro = {.perms = ZOO_PERM_READ, .id = {.scheme = "ip", .id = "1.2.3.4"}};
    struct jute_acl gone = {.perms = 3, .id = {.scheme = "digest", .id = "g:h"}};
    struct jute_create_request r = tt_creq("/a", "alpha", 0);
    CHECK_EQ_INT(tt_write(x, ZOO_OP_CREATE, &r, 1, NULL), ZOK);
    r = tt_creq("/tmp", NULL, 0);
    r.acl = (struct jute_acl_vec){.count = 1, .items = &gone};
    CHECK_EQ_INT(tt_write(x, ZOO_OP_CREATE, &r, 1, NULL), ZOK);
    CHECK_EQ_INT(tt_delete(x, "/tmp", -1), ZOK); /* index 3 disappears */
    r = tt_creq("/a/ro", "", 0);
    r.acl = (struct jute_acl_vec){.count = 1, .items = &ro};
    CHECK_EQ_INT(tt_write(x, ZOO_OP_CREATE, &r, 1, NULL), ZOK);
    CHECK_EQ_INT(tt_create(x, "/a/null", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(x, "/a/s-", "seq", ZOO_PERSISTENT_SEQUENTIAL, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(x, "/a/e", "e", ZOO_EPHEMERAL, NULL, 0), ZOK);
    x->session = 0x4321;
    CHECK_EQ_INT(tt_create(x, "/e2", "e", ZOO_EPHEMERAL, NULL, 0), ZOK);
    r = tt_creq("/c", NULL, ZOO_CONTAINER);
    CHECK_EQ_INT(tt_write(x, ZOO_OP_CREATECONTAINER, &r, 1, NULL), ZOK);
    CHECK_EQ_INT(tt_create(x, "/c/k", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_delete(x, "/c/k", -1), ZOK);
    r = tt_creq("/t", NULL, ZOO_PERSISTENT_WITH_TTL);
    r.ttl = 10;
    CHECK_EQ_INT(tt_write(x, ZOO_OP_CREATETTL, &r, 1, NULL), ZOK);
    CHECK_EQ_INT(tt_set(x, "/a", "beta!", -1, NULL), ZOK);
    CHECK_EQ_INT(tt_set(x, "/", "rootdata", -1, NULL), ZOK);
}

static void test_round_trip(void)
{
    struct tt x;
    build(&x);
    struct dump d1, d2;
    dump(x.t, &d1);
    CHECK_EQ_STR(d1.nodes[0].path, "");
    CHECK_EQ_STR(d1.nodes[1].path, "/zookeeper");
    CHECK_EQ_STR(d1.nodes[2].path, "/zookeeper/quota");
    CHECK_EQ_STR(d1.nodes[3].path, "/zookeeper/config");
    CHECK_EQ_STR(d1.nodes[4].path, "/a");
    CHECK_EQ_STR(d1.nodes[5].path, "/a/ro");
    CHECK_EQ_INT(d1.nodes[0].acl, -1);
    CHECK_EQ_INT(d1.nodes[3].acl, 1);
    CHECK_EQ_INT(d1.nodes[3].st.aversion, -1);
    CHECK_EQ_INT(d1.n_nodes, 12);
    CHECK_EQ_INT(d1.n_acls, 3); /* 1: config's, 2: open, 4: ro (3 was freed) */
    CHECK_EQ_INT(d1.acls[0].index, 1);
    CHECK_EQ_INT(d1.acls[1].index, 2);
    CHECK_EQ_INT(d1.acls[2].index, 4);
    for (int i = 0; i < d1.n_nodes; i++) {
        if (strcmp(d1.nodes[i].path, "/c") == 0)
            CHECK_EQ_INT(d1.nodes[i].st.ephemeral_owner, ZOO_CONTAINER_OWNER);
        if (strcmp(d1.nodes[i].path, "/t") == 0)
            CHECK_EQ_INT(d1.nodes[i].st.ephemeral_owner, ZOO_TTL_MASK | 10);
        if (strcmp(d1.nodes[i].path, "/a") == 0)
            CHECK_EQ_INT(d1.nodes[i].st.cversion, 4); /* raw, not the client's view */
    }

    struct tt y;
    tt_init(&y);
    tree_set_extended_types(y.t, true);
    int w;
    CHECK_EQ_INT(tree_watch_add(y.t, "/a", TREE_WATCH_DATA, &w), 0); /* watches survive */
    CHECK_EQ_INT(load(y.t, &d1), 0);
    tt_check(&y);
    dump(y.t, &d2);
    CHECK(same_dump(&d1, &d2));
    CHECK_EQ_INT(tree_node_count(y.t), tree_node_count(x.t));
    /* ZooKeeper's approximateDataSize() after a load counts the root's data twice */
    CHECK_EQ_INT(tree_approx_data_size(y.t), tree_approx_data_size(x.t) + 8);
    CHECK_EQ_INT(tree_ephemeral_count(y.t), 2);
    struct jute_str_vec v;
    CHECK_EQ_INT(tree_ephemerals(y.t, 0x1234, NULL, &y.a, &v), 0);
    CHECK_EQ_INT(v.count, 1);
    CHECK_EQ_STR(v.items[0], "/a/e");
    CHECK_EQ_INT(tree_reap_candidates(y.t, x.now + 1000, 0, 10, &y.a, &v), 0);
    CHECK_EQ_INT(v.count, 2); /* /c (used) and /t (expired) */
    struct jute_stat s1, s2;
    CHECK(tt_stat(&x, "/a", &s1) && tt_stat(&y, "/a", &s2));
    CHECK(tt_stat_eq(&s1, &s2));
    CHECK(tt_stat(&x, "/a/e", &s1) && tt_stat(&y, "/a/e", &s2));
    CHECK(tt_stat_eq(&s1, &s2));
    CHECK(tt_stat(&y, "/c", &s2));
    CHECK_EQ_INT(s2.ephemeral_owner, 0);

    /* the loaded tree keeps working: new lists continue after the highest index */
    y.zxid = x.zxid;
    y.now = x.now;
    char p[64];
    CHECK_EQ_INT(tt_create(&y, "/a/s-", NULL, ZOO_PERSISTENT_SEQUENTIAL, p, sizeof(p)), ZOK);
    CHECK_EQ_STR(p, "/a/s-0000000004");
    CHECK_EQ_INT(tree_node_acl_index(y.t, tree_find(y.t, p)), 2);
    struct jute_acl n1 = {.perms = 1, .id = {.scheme = "world", .id = "anyone"}};
    struct jute_create_request r = tt_creq("/new", NULL, 0);
    r.acl = (struct jute_acl_vec){.count = 1, .items = &n1};
    CHECK_EQ_INT(tt_write(&y, ZOO_OP_CREATE, &r, 1, NULL), ZOK);
    CHECK_EQ_INT(tree_node_acl_index(y.t, tree_find(y.t, "/new")), 1);
    struct jute_acl n2 = {.perms = 2, .id = {.scheme = "world", .id = "anyone"}};
    r = tt_creq("/new2", NULL, 0);
    r.acl = (struct jute_acl_vec){.count = 1, .items = &n2};
    CHECK_EQ_INT(tt_write(&y, ZOO_OP_CREATE, &r, 1, NULL), ZOK);
    CHECK_EQ_INT(tree_node_acl_index(y.t, tree_find(y.t, "/new2")), 5);
    CHECK_EQ_INT(x.n_ev, 0);
    CHECK_EQ_INT(tt_set(&y, "/a", "x", -1, NULL), ZOK);
    CHECK_EQ_INT(y.n_ev, 1);
    CHECK_EQ_INT(tt_write(&y, ZOO_OP_CLOSESESSION, NULL, 0, NULL), ZOK);
    CHECK(!tt_exists(&y, "/a/e"));
    tt_close(&y);
    tt_close(&x);
}

static void test_purge_and_corrupt(void)
{
    struct tt x;
    tt_init(&x);
    struct dump d;
    dump(x.t, &d);
    /* an ACL no node uses is dropped at the end of the load */
    d.acls[d.n_acls] = d.acls[0];
    d.acls[d.n_acls].index = 9;
    d.n_acls++;
    struct tt y;
    tt_init(&y);
    CHECK_EQ_INT(load(y.t, &d), 0);
    struct dump d2;
    dump(y.t, &d2);
    CHECK_EQ_INT(d2.n_acls, 1);
    tt_check(&y);
    /* the next new list still gets an index past the loaded ones */
    struct jute_acl n2 = {.perms = 2, .id = {.scheme = "world", .id = "anyone"}};
    struct jute_create_request r = tt_creq("/new", NULL, 0);
    r.acl = (struct jute_acl_vec){.count = 1, .items = &n2};
    CHECK_EQ_INT(tt_write(&y, ZOO_OP_CREATE, &r, 1, NULL), ZOK);
    CHECK_EQ_INT(tree_node_acl_index(y.t, tree_find(y.t, "/new")), 10);

    dump(x.t, &d);
    struct dump bad = d;
    bad.acls[1] = bad.acls[0];
    bad.n_acls = 2;
    CHECK_EQ_INT(load(y.t, &bad), PD_ECORRUPT); /* duplicate index */
    bad = d;
    bad.nodes[3].acl = 42;
    /* an ACL index the map lacks (a fuzzy snapshot): loaded, as ZooKeeper does, with an
     * empty list meanwhile (nobody but super gets in), until a setACL says otherwise */
    CHECK_EQ_INT(load(y.t, &bad), 0);
    CHECK_EQ_INT((int)tree_load_unknown_acls(y.t), 1);
    tt_check(&y);
    {
        const struct tree_node *n = tree_find(y.t, bad.nodes[3].path);
        CHECK(n != NULL);
        struct jute_acl_vec got;
        tree_node_acl(y.t, n, &got);
        CHECK_EQ_INT(got.count, 0);
        struct jute_acl all = {.perms = ZOO_PERM_ALL, .id = {.scheme = "world", .id = "anyone"}};
        struct jute_set_acl_request sa = {.path = bad.nodes[3].path,
                                          .acl = {.count = 1, .items = &all},
                                          .version = -1};
        y.auth.is_super = true;
        CHECK_EQ_INT(tt_write(&y, ZOO_OP_SETACL, &sa, 1, NULL), ZOK);
        y.auth.is_super = false;
        tree_node_acl(y.t, tree_find(y.t, bad.nodes[3].path), &got);
        CHECK_EQ_INT(got.count, 1);
        tt_check(&y);
    }
    CHECK_EQ_INT(load(y.t, &d), 0);
    CHECK_EQ_INT((int)tree_load_unknown_acls(y.t), 0);
    bad = d;
    snprintf(bad.nodes[2].path, 64, "/nowhere/quota");
    CHECK_EQ_INT(load(y.t, &bad), PD_ECORRUPT); /* missing parent */
    bad = d;
    snprintf(bad.nodes[2].path, 64, "/zookeeper");
    CHECK_EQ_INT(load(y.t, &bad), PD_ECORRUPT); /* duplicate path */
    bad = d;
    bad.nodes[0] = bad.nodes[1];
    CHECK_EQ_INT(load(y.t, &bad), PD_ECORRUPT); /* no root first */
    bad = d;
    bad.n_nodes = 0;
    CHECK_EQ_INT(load(y.t, &bad), PD_ECORRUPT); /* no root at all */
    bad = d;
    bad.acls[0].index = -1;
    CHECK_EQ_INT(load(y.t, &bad), PD_ECORRUPT);
    /* after a failed load, a good one */
    CHECK_EQ_INT(load(y.t, &d), 0);
    tt_check(&y);
    tt_close(&y);
    tt_close(&x);
}

static void test_load_oom(void)
{
    struct tt x;
    build(&x);
    struct dump d, d2;
    dump(x.t, &d);
    struct tt y;
    tt_init(&y);
    tree_set_extended_types(y.t, true);
    for (long k = 0;; k++) {
        pd_alloc_fail_after(k, 1);
        int rc = load(y.t, &d);
        long made = pd_alloc_fail_after(-1, 0);
        CHECK(rc == 0 || rc == PD_ENOMEM);
        if (rc == PD_ENOMEM) {
            /* start again from scratch: the failure was one-shot */
            CHECK_EQ_INT(load(y.t, &d), 0);
        }
        tt_check(&y);
        dump(y.t, &d2);
        CHECK(same_dump(&d, &d2));
        if (made <= k)
            break;
    }
    /* freeing in the middle of a load */
    CHECK_EQ_INT(tree_load_begin(y.t), 0);
    struct jute_acl_vec v = {.count = d.acls[0].count, .items = d.acls[0].items};
    CHECK_EQ_INT(tree_load_acl(y.t, d.acls[0].index, &v), 0);
    tree_free(y.t);
    y.t = NULL;
    tt_close(&y);
    tt_close(&x);
}

int main(void)
{
    RUN(test_round_trip);
    RUN(test_purge_and_corrupt);
    RUN(test_load_oom);
    return t_done();
}
