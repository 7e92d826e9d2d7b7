/*
 * OOM sweep: one scenario touching every allocating path (tree_new, every
 * write kind, pipelined preps, multi success and failure, closeSession,
 * watches, setWatches, reads) is run once per allocation, failing exactly that
 * allocation. Every call must succeed or fail with PD_ENOMEM and leave a tree
 * that passes tree_check(); the step is then retried. Single-op applies are
 * all-or-nothing, so unless a multi or closeSession failed halfway the final
 * tree must be identical to the failure-free run. Leaks are LeakSanitizer's job.
 */
#include "tree_test.h"

struct run {
    struct tree *t;
    struct arena a;
    int64_t zxid;
    int64_t now;
    int64_t session;
    int n_events;
    bool diverged; /* a multi/closeSession apply failed halfway */
    int enomem;    /* PD_ENOMEM results seen */
    long made;     /* allocations made by the scenario before fingerprinting */
};

static void deliver(void *w, const struct jute_watcher_event *ev, const struct jute_acl_vec *acl,
                    void *ctx)
{
    (void)w;
    (void)ev;
    (void)acl;
    ((struct run *)ctx)->n_events++;
}

static void check_tree(struct run *r)
{
    const char *why = NULL;
    int rc = tree_check(r->t, &why);
    if (rc == PD_ENOMEM)
        rc = tree_check(r->t, &why); /* the checker's own allocation failed */
    if (rc != 0)
        fprintf(stderr, "tree_check: %s\n", why ? why : "?");
    CHECK_EQ_INT(rc, 0);
}

static void write_op(struct run *r, int32_t op, const void *req, int32_t n, struct tree_txn *out)
{
    struct tree_auth auth = {0};
    struct tree_prep_ctx ctx = {.session_id = r->session,
                                .cxid = 1,
                                .zxid = ++r->zxid,
                                .now_ms = ++r->now,
                                .auth = &auth,
                                .ttl_enabled = true};
    int rc;
    while ((rc = tree_prep(r->t, &ctx, op, req, n, &r->a, out)) == PD_ENOMEM) {
        r->enomem++;
        check_tree(r);
    }
    CHECK_EQ_INT(rc, 0);
    check_tree(r);
}

static void apply_op(struct run *r, const struct tree_txn *txn)
{
    struct tree_result res;
    int rc;
    while ((rc = tree_apply(r->t, txn, &r->a, &res)) == PD_ENOMEM) {
        r->enomem++;
        if (txn->hdr.type == ZOO_OP_MULTI || txn->hdr.type == ZOO_OP_CLOSESESSION)
            r->diverged = true;
        check_tree(r);
    }
    CHECK_EQ_INT(rc, 0);
    check_tree(r);
}

static void write_apply(struct run *r, int32_t op, const void *req, int32_t n)
{
    struct tree_txn txn;
    write_op(r, op, req, n, &txn);
    apply_op(r, &txn);
    arena_reset(&r->a);
}

static void watch(struct run *r, const char *path, int kind, void *w)
{
    int rc;
    while ((rc = tree_watch_add(r->t, path, kind, w)) == PD_ENOMEM)
        r->enomem++;
    CHECK_EQ_INT(rc, 0);
}

/* An order-independent digest of the committed tree: paths, stats, data, ACLs. */
static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t fingerprint(struct tree *t, const char *path, struct arena *a)
{
    struct tree_node *n = tree_find(t, path);
    uint64_t h = mix(0xcbf29ce484222325ULL, path, strlen(path));
    struct jute_stat st;
    tree_node_stat(n, &st);
    int64_t f[] = {st.czxid,       st.mzxid,        st.ctime,    st.mtime,
                   st.version,     st.cversion,     st.aversion, st.ephemeral_owner,
                   st.data_length, st.num_children, st.pzxid,    tree_node_acl_index(t, n)};
    h = mix(h, f, sizeof(f));
    struct jute_buf d = tree_node_data(n);
    h = mix(h, &d.len, sizeof(d.len));
    if (d.len > 0)
        h = mix(h, d.data, (size_t)d.len);
    struct jute_acl_vec acl;
    tree_node_acl(t, n, &acl);
    for (int32_t i = 0; i < acl.count; i++) {
        h = mix(h, &acl.items[i].perms, 4);
        h = mix(h, acl.items[i].id.scheme, strlen(acl.items[i].id.scheme));
        h = mix(h, acl.items[i].id.id, strlen(acl.items[i].id.id));
    }
    struct jute_str_vec kids;
    while (tree_node_children(t, n, a, &kids) == PD_ENOMEM)
        ;
    uint64_t sum = 0;
    for (int32_t i = 0; i < kids.count; i++) {
        char child[512];
        snprintf(child, sizeof(child), "%s/%s", strcmp(path, "/") ? path : "", kids.items[i]);
        sum += fingerprint(t, child, a);
    }
    return h ^ (sum * 31);
}

static struct jute_create_request creq(const char *path, const char *data, int32_t flags)
{
    return tt_creq(path, data, flags);
}

static int W1, W2;

/* The scenario; returns the tree's fingerprint. */
static uint64_t scenario(struct run *r)
{
    memset(r, 0, sizeof(*r));
    arena_init(&r->a, 1024);
    while (!(r->t = tree_new(deliver, r)))
        r->enomem++;
    tree_set_extended_types(r->t, true);
    r->zxid = 0x500000000LL;
    r->now = 1000;
    r->session = 0x77;

    watch(r, "/a", TREE_WATCH_EXIST, &W1);
    watch(r, "/", TREE_WATCH_PERSISTENT_RECURSIVE, &W2);
    watch(r, "/a", TREE_WATCH_CHILD, &W2);
    watch(r, "/a", TREE_WATCH_PERSISTENT, &W1);

    struct jute_create_request c;
    c = creq("/a", "data-a", ZOO_PERSISTENT);
    write_apply(r, ZOO_OP_CREATE2, &c, 1);
    /* a quota on /a: later writes below it rewrite its stats node */
    c = creq("/zookeeper/quota/a", NULL, ZOO_PERSISTENT);
    write_apply(r, ZOO_OP_CREATE, &c, 1);
    c = creq("/zookeeper/quota/a/zookeeper_limits", "count=5,bytes=-1", ZOO_PERSISTENT);
    write_apply(r, ZOO_OP_CREATE, &c, 1);
    c = creq("/zookeeper/quota/a/zookeeper_stats", "count=0,bytes=0", ZOO_PERSISTENT);
    write_apply(r, ZOO_OP_CREATE, &c, 1);
    c = creq("/a/seq-", "s", ZOO_PERSISTENT_SEQUENTIAL);
    for (int i = 0; i < 3; i++)
        write_apply(r, ZOO_OP_CREATE, &c, 1);
    c = creq("/a/eph", NULL, ZOO_EPHEMERAL);
    write_apply(r, ZOO_OP_CREATE, &c, 1);
    c = creq("/cont", NULL, ZOO_CONTAINER);
    write_apply(r, ZOO_OP_CREATECONTAINER, &c, 1);
    c = creq("/ttl", "t", ZOO_PERSISTENT_WITH_TTL);
    c.ttl = 100;
    write_apply(r, ZOO_OP_CREATETTL, &c, 1);

    struct jute_set_data_request sd = {
        .path = "/a", .data = {(const uint8_t *)"a much longer value", 19}, .version = -1};
    write_apply(r, ZOO_OP_SETDATA, &sd, 1);
    sd.data = (struct jute_buf){(const uint8_t *)"x", 1};
    write_apply(r, ZOO_OP_SETDATA, &sd, 1);
    struct jute_acl items[] = {
        {.perms = ZOO_PERM_ALL, .id = {.scheme = "world", .id = "anyone"}},
        {.perms = ZOO_PERM_READ, .id = {.scheme = "ip", .id = "10.0.0.0/8"}},
    };
    struct jute_set_acl_request sa = {
        .path = "/a/seq-0000000001", .acl = {.count = 2, .items = items}, .version = -1};
    write_apply(r, ZOO_OP_SETACL, &sa, 1);
    struct jute_path_version_request del = {.path = "/a/seq-0000000000", .version = -1};
    write_apply(r, ZOO_OP_DELETE, &del, 1);

    /* pipelined: three preps, then the applies */
    struct tree_txn p1, p2, p3;
    struct jute_create_request c1 = creq("/b", "b", ZOO_PERSISTENT);
    struct jute_create_request c2 = creq("/b/k-", "k", ZOO_EPHEMERAL_SEQUENTIAL);
    struct jute_path_version_request d2 = {.path = "/a/seq-0000000002", .version = 0};
    write_op(r, ZOO_OP_CREATE, &c1, 1, &p1);
    write_op(r, ZOO_OP_CREATE, &c2, 1, &p2);
    write_op(r, ZOO_OP_DELETE, &d2, 1, &p3);
    apply_op(r, &p1);
    apply_op(r, &p2);
    apply_op(r, &p3);
    arena_reset(&r->a);

    /* multis: one that works, one that fails */
    struct tree_multi_op ok[3] = {
        {.type = ZOO_OP_CREATE}, {.type = ZOO_OP_SETDATA}, {.type = ZOO_OP_CHECK}};
    ok[0].req.create = creq("/m", "m", ZOO_PERSISTENT);
    ok[1].req.set_data =
        (struct jute_set_data_request){.path = "/m", .data = {NULL, -1}, .version = 0};
    ok[2].req.path_version = (struct jute_path_version_request){.path = "/m", .version = 1};
    write_apply(r, ZOO_OP_MULTI, ok, 3);
    struct tree_multi_op bad[2] = {{.type = ZOO_OP_CREATE}, {.type = ZOO_OP_DELETE}};
    bad[0].req.create = creq("/n", "n", ZOO_PERSISTENT_SEQUENTIAL);
    bad[1].req.path_version = (struct jute_path_version_request){.path = "/zz", .version = -1};
    write_apply(r, ZOO_OP_MULTI, bad, 2);

    /* setWatches and reads */
    char *dw[] = {"/a", "/gone"};
    char *ew[] = {"/b", "/later"};
    char *cw[] = {"/a"};
    char *pw[] = {"/m"};
    struct jute_set_watches sw = {.relative_zxid = 0x500000003LL,
                                  .data_watches = {.count = 2, .items = dw},
                                  .exist_watches = {.count = 2, .items = ew},
                                  .child_watches = {.count = 1, .items = cw},
                                  .persistent_watches = {.count = 1, .items = pw},
                                  .persistent_recursive_watches = {.count = 1, .items = pw}};
    while (tree_set_watches(r->t, &sw, &W1) == PD_ENOMEM)
        r->enomem++;
    struct jute_str_vec v;
    while (tree_ephemerals(r->t, r->session, "/", &r->a, &v) == PD_ENOMEM)
        r->enomem++;
    CHECK_EQ_INT(v.count, 2);
    while (tree_reap_candidates(r->t, r->now + 1000, 0, 10, &r->a, &v) == PD_ENOMEM)
        r->enomem++;
    CHECK_EQ_INT(v.count, 1);
    arena_reset(&r->a);
    CHECK_EQ_INT(tree_watch_remove(r->t, "/a", ZOO_WATCHER_PERSISTENT, &W1, false), ZOK);

    /* the session closes: its ephemerals go, with their events */
    write_apply(r, ZOO_OP_CLOSESESSION, NULL, 0);
    struct jute_path_request dc = {.path = "/ttl"};
    write_apply(r, ZOO_OP_DELETECONTAINER, &dc, 1);
    tree_watch_drop_all(r->t, &W2);

    uint64_t fp;
    {
        r->made = pd_alloc_fail_after(-1, 0); /* no failures while fingerprinting */
        fp = fingerprint(r->t, "/", &r->a);
        fp ^= (uint64_t)tree_node_count(r->t) * 7 + (uint64_t)tree_approx_data_size(r->t) * 13 +
              (uint64_t)tree_watch_count(r->t) * 17 + (uint64_t)tree_ephemeral_count(r->t);
    }
    check_tree(r);
    tree_free(r->t);
    arena_close(&r->a);
    return fp;
}

static void test_sweep(void)
{
    struct run r;
    pd_alloc_fail_after(-1, 0);
    uint64_t want = scenario(&r);
    CHECK_EQ_INT(r.enomem, 0);
    long total = r.made;
    CHECK(total > 100);
    int runs = 0, diverged = 0;
    for (long k = 0;; k++) {
        pd_alloc_fail_after(k, 1);
        uint64_t got = scenario(&r);
        long made = r.made;
        runs++;
        if (r.diverged) {
            diverged++;
        } else if (got != want) {
            fprintf(stderr, "failing allocation %ld: different tree\n", k);
            CHECK(got == want);
        }
        if (made <= k)
            break; /* the failure point was past the end: every allocation has been tried */
        if (k > 100000) {
            CHECK(!"sweep does not end");
            break;
        }
    }
    fprintf(stderr, "oom sweep: %d runs, %ld allocations per clean run, %d diverged\n", runs, total,
            diverged);
}

int main(void)
{
    RUN(test_sweep);
    return t_done();
}
