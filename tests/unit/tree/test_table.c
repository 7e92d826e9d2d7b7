/*
 * The lookup table (table.c): incremental growth moves a bounded number of
 * slots per operation (counted, not timed), and lookups, inserts and deletes
 * stay right while an old table still holds entries, OOM included; the bulk
 * load path (hint, sibling parent cache, duplicate check).
 */
#include "tree_test.h"

#include "tree/tree_int.h"

static void name_of(char *buf, size_t len, int i)
{
    snprintf(buf, len, "/d/n%05d", i);
}

/* Is the node at `path` still in the old (draining) table? */
static bool in_old(const struct tree *t, const char *path)
{
    const struct tree_node *n = tree_find(t, path);
    if (!n || !t->tab.old)
        return false;
    for (uint64_t i = 0; i <= t->tab.old_mask; i++)
        if (t->tab.old[i].id != NODE_NIL && node_get(t, t->tab.old[i].id) == n)
            return true;
    return false;
}

/* Creates /d/n<from> .. /d/n<to - 1>, checking the work each create does on the table. */
static void create_range(struct tt *x, int from, int to, int *ops_during_growth)
{
    char p[32];
    for (int i = from; i < to; i++) {
        name_of(p, sizeof(p), i);
        uint64_t moved = x->t->tab.moved;
        CHECK_EQ_INT(tt_create(x, p, "v", 0, NULL, 0), ZOK);
        CHECK(x->t->tab.moved - moved <= TABLE_GROW_STEP);
        if (x->t->tab.old && ops_during_growth)
            (*ops_during_growth)++;
    }
}

static void test_growth_is_bounded(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tt_create(&x, "/d", NULL, 0, NULL, 0), ZOK);
    int during = 0, resizes = 0;
    uint32_t mask = x.t->tab.mask;
    char p[32];
    for (int i = 0; i < 3000; i++) {
        create_range(&x, i, i + 1, &during);
        if (x.t->tab.mask != mask) {
            resizes++;
            mask = x.t->tab.mask;
            /* every node is still found the moment a growth starts */
            for (int j = 0; j <= i; j++) {
                name_of(p, sizeof(p), j);
                CHECK(tt_exists(&x, p));
            }
        }
    }
    CHECK(resizes >= 7);   /* 16 -> 4096 slots */
    CHECK(during > 7 * 2); /* each growth spanned several operations */
    CHECK(x.t->tab.moved > 3000 / 2);
    /* no growth moved everything at once: the old table of the last one drained over many ops */
    for (int i = 0; i < 3000; i++) {
        name_of(p, sizeof(p), i);
        CHECK(tt_exists(&x, p));
    }
    tt_close(&x);
}

/* Grows until a growth is in progress with at least `min_old` entries left in the old table. */
static int grow_until_old(struct tt *x, int next, uint32_t min_old)
{
    while (!(x->t->tab.old && x->t->tab.old_count >= min_old)) {
        create_range(x, next, next + 1, NULL);
        next++;
        CHECK(next < 100000);
    }
    return next;
}

static void test_ops_during_growth(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tt_create(&x, "/d", NULL, 0, NULL, 0), ZOK);
    int n = grow_until_old(&x, 0, 100);
    char p[32];
    /* lookups: hits in both tables, misses */
    int old_hits = 0;
    for (int i = 0; i < n; i++) {
        name_of(p, sizeof(p), i);
        CHECK(tt_exists(&x, p));
        old_hits += in_old(x.t, p);
    }
    CHECK(old_hits >= 100);
    CHECK(!tt_exists(&x, "/d/absent"));
    CHECK_EQ_INT(tt_create(&x, "/d/n00000", "v", 0, NULL, 0), ZNODEEXISTS);

    /* deletes of entries the old table still holds, then of new ones */
    int deleted = 0;
    for (int i = 0; i < n && x.t->tab.old; i++) {
        name_of(p, sizeof(p), i);
        if (!in_old(x.t, p))
            continue;
        uint32_t old_left = x.t->tab.old_count;
        uint64_t moved = x.t->tab.moved;
        CHECK_EQ_INT(tt_delete(&x, p, -1), ZOK);
        CHECK(x.t->tab.moved - moved <= TABLE_GROW_STEP);
        CHECK(x.t->tab.old == NULL || x.t->tab.old_count < old_left);
        CHECK(!tt_exists(&x, p));
        deleted++;
        if (deleted % 16 == 0) { /* and an insert in between, into the new table */
            char q[32];
            snprintf(q, sizeof(q), "/d/m%05d", deleted);
            CHECK_EQ_INT(tt_create(&x, q, "w", 0, NULL, 0), ZOK);
            CHECK(!in_old(x.t, q));
            CHECK(tt_exists(&x, q));
        }
    }
    CHECK(deleted > 0);
    CHECK(x.t->tab.old == NULL); /* drained by the deletes' steps, or emptied by deleting */
    /* the survivors are all there */
    for (int i = 0; i < n; i++) {
        name_of(p, sizeof(p), i);
        const struct tree_node *nd = tree_find(x.t, p);
        if (nd)
            CHECK_EQ_INT(tree_node_data(nd).len, 1);
    }
    tt_close(&x);
}

/* Delete everything while a growth is in progress: the old table empties by deletion. */
static void test_delete_all_during_growth(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tt_create(&x, "/d", NULL, 0, NULL, 0), ZOK);
    int n = grow_until_old(&x, 0, 150);
    char p[32];
    for (int i = n - 1; i >= 0; i--) {
        name_of(p, sizeof(p), i);
        CHECK_EQ_INT(tt_delete(&x, p, -1), ZOK);
    }
    CHECK(x.t->tab.old == NULL);
    CHECK_EQ_INT(tree_node_count(x.t), 6); /* "", "/" , zookeeper, quota, config, /d */
    create_range(&x, 0, 200, NULL);
    tt_close(&x);
}

/* Every allocation of a create fails once, growth in progress or starting. */
static void test_oom_during_growth(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tt_create(&x, "/d", NULL, 0, NULL, 0), ZOK);
    int n = grow_until_old(&x, 0, 50);
    char p[32];
    int enomem = 0;
    for (int i = n; i < n + 400; i++) {
        name_of(p, sizeof(p), i);
        for (long k = 0;; k++) {
            struct jute_create_request r = tt_creq(p, "v", 0);
            struct tree_txn txn;
            struct tree_result res;
            struct tree_prep_ctx c = tt_ctx(&x);
            pd_alloc_fail_after(k, 1);
            int rc = tree_prep(x.t, &c, ZOO_OP_CREATE, &r, 1, &x.a, &txn);
            if (rc == 0)
                rc = tree_apply(x.t, &txn, &x.a, &res);
            pd_alloc_fail_after(-1, 0);
            tree_overlay_clear(x.t);
            tt_check(&x);
            if (rc == 0) {
                CHECK_EQ_INT(res.err, ZOK);
                break;
            }
            CHECK_EQ_INT(rc, PD_ENOMEM);
            enomem++;
            CHECK(!tt_exists(&x, p));
        }
        CHECK(tt_exists(&x, p));
    }
    CHECK(enomem > 400);
    for (int i = 0; i < n + 400; i++) {
        name_of(p, sizeof(p), i);
        CHECK(tt_exists(&x, p));
    }
    tt_close(&x);
}

/* A hint while a growth is unfinished finishes it; a refused hint changes nothing. */
static void test_hint(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tt_create(&x, "/d", NULL, 0, NULL, 0), ZOK);
    int n = grow_until_old(&x, 0, 50);
    pd_alloc_fail_after(0, 1);
    CHECK_EQ_INT(tree_load_hint(x.t, 10000), PD_ENOMEM);
    pd_alloc_fail_after(-1, 0);
    tt_check(&x);
    CHECK(x.t->tab.old != NULL);
    CHECK_EQ_INT(tree_load_hint(x.t, (uint64_t)1 << 40), PD_ENOMEM);
    CHECK_EQ_INT(tree_load_hint(x.t, 10000), 0);
    tt_check(&x);
    CHECK(x.t->tab.mask + 1 >= 10000 * 4 / 3);
    /* the previous old table was drained at once; the current one is draining */
    uint32_t mask = x.t->tab.mask;
    create_range(&x, n, n + 2000, NULL);
    CHECK_EQ_INT(x.t->tab.mask, mask); /* no growth: presized */
    CHECK(x.t->tab.old == NULL);
    tt_close(&x);
}

static void test_load(void)
{
    struct tt x;
    tt_init(&x);
    struct jute_stat_persisted st = {.czxid = 1, .mzxid = 1, .pzxid = 1};
    struct jute_buf none = {.data = NULL, .len = -1};
    struct jute_buf v = {.data = (const uint8_t *)"v", .len = 1};
    struct tree *t = x.t;
    /* without a hint: the table grows during the load */
    CHECK_EQ_INT(tree_load_begin(t), 0);
    CHECK_EQ_INT(tree_load_node(t, "", &st, none, -1), 0);
    const char *order[] = {"/a", "/b", "/a/x", "/b/x", "/a/y", "/ab", "/ab/x", "/a/x/z", "/b/x/z"};
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        CHECK_EQ_INT(tree_load_node(t, order[i], &st, v, -1), 0);
    char p[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(p, sizeof(p), "/a/x/k%d", i);
        CHECK_EQ_INT(tree_load_node(t, p, &st, v, -1), 0);
    }
    CHECK_EQ_INT(tree_load_node(t, "/a/x/k7", &st, v, -1), PD_ECORRUPT); /* duplicate */
    CHECK_EQ_INT(tree_load_node(t, "/a/x/z", &st, v, -1), PD_ECORRUPT);  /* duplicate */
    CHECK_EQ_INT(tree_load_node(t, "/a/q/z", &st, v, -1), PD_ECORRUPT);  /* no parent */
    CHECK_EQ_INT(tree_load_node(t, "/ab/x/w", &st, v, -1), 0);
    CHECK_EQ_INT(tree_load_node(t, "/b/x/w", &st, v, -1), 0);
    CHECK_EQ_INT(tree_load_end(t), 0);
    tt_check(&x);
    CHECK_EQ_INT(tree_node_count(t), 1 + 1 + 9 + 2000 + 2);
    struct jute_stat s;
    CHECK(tt_stat(&x, "/a", &s) && s.num_children == 2);
    CHECK(tt_stat(&x, "/ab", &s) && s.num_children == 1);
    CHECK(tt_stat(&x, "/ab/x", &s) && s.num_children == 1);
    CHECK(tt_stat(&x, "/b/x", &s) && s.num_children == 2);
    CHECK(tt_stat(&x, "/a/x", &s) && s.num_children == 2001);
    for (int i = 0; i < 2000; i++) {
        snprintf(p, sizeof(p), "/a/x/k%d", i);
        CHECK(tt_exists(&x, p));
    }

    /* with a hint: no growth during the load, and the loaded tree accepts writes */
    CHECK_EQ_INT(tree_load_begin(t), 0);
    CHECK_EQ_INT(tree_load_hint(t, 3000), 0);
    uint32_t mask = t->tab.mask;
    CHECK_EQ_INT(tree_load_node(t, "", &st, none, -1), 0);
    for (int i = 0; i < 2000; i++) {
        snprintf(p, sizeof(p), "/k%d", i);
        CHECK_EQ_INT(tree_load_node(t, p, &st, v, -1), 0);
    }
    CHECK_EQ_INT(tree_load_end(t), 0);
    CHECK_EQ_INT(t->tab.mask, mask);
    CHECK(t->tab.old == NULL);
    tt_check(&x);
    CHECK_EQ_INT(tt_create(&x, "/k5/c", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_delete(&x, "/k7", -1), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/k7", NULL, 0, NULL, 0), ZOK);
    tt_close(&x);
}

int main(void)
{
    RUN(test_growth_is_bounded);
    RUN(test_ops_during_growth);
    RUN(test_delete_all_during_growth);
    RUN(test_oom_during_growth);
    RUN(test_hint);
    RUN(test_load);
    return t_done();
}
