/* Quota bookkeeping in /zookeeper/quota, as zkCli's setquota drives it. */
#include "tree_test.h"

static void setquota(struct tt *x, const char *path, const char *limits)
{
    char p[128];
    snprintf(p, sizeof(p), "/zookeeper/quota%s", path);
    /* the quota node and its parents, as SetQuotaCommand creates them */
    for (char *s = p + 17; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        if (!tt_exists(x, p))
            CHECK_EQ_INT(tt_create(x, p, NULL, 0, NULL, 0), ZOK);
        *s = '/';
    }
    CHECK_EQ_INT(tt_create(x, p, NULL, 0, NULL, 0), ZOK);
    char q[160];
    snprintf(q, sizeof(q), "%s/zookeeper_limits", p);
    CHECK_EQ_INT(tt_create(x, q, limits, 0, NULL, 0), ZOK);
    snprintf(q, sizeof(q), "%s/zookeeper_stats", p);
    CHECK_EQ_INT(tt_create(x, q, "count=0,bytes=0", 0, NULL, 0), ZOK);
}

static void expect_stats(struct tt *x, const char *path, const char *want)
{
    char p[160];
    snprintf(p, sizeof(p), "/zookeeper/quota%s/zookeeper_stats", path);
    struct tree_node *n = tree_find(x->t, p);
    CHECK(n != NULL);
    if (!n)
        return;
    struct jute_buf b = tree_node_data(n);
    char got[128];
    snprintf(got, sizeof(got), "%.*s", b.len > 0 ? b.len : 0, b.data ? (const char *)b.data : "");
    CHECK_EQ_STR(got, want);
}

static void test_quota(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tt_create(&x, "/app", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/app/a", "12345", 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/app/b", "xy", 0, NULL, 0), ZOK);
    setquota(&x, "/app", "count=10,bytes=-1");
    expect_stats(&x, "/app", "count=3,bytes=7");
    struct jute_stat st0, st1;
    CHECK(tt_stat(&x, "/zookeeper/quota/app/zookeeper_stats", &st0));

    CHECK_EQ_INT(tt_create(&x, "/app/c", "abc", 0, NULL, 0), ZOK);
    expect_stats(&x, "/app", "count=4,bytes=10");
    CHECK_EQ_INT(tt_set(&x, "/app/a", "1", -1, NULL), ZOK);
    expect_stats(&x, "/app", "count=4,bytes=6");
    CHECK_EQ_INT(tt_delete(&x, "/app/b", -1), ZOK);
    expect_stats(&x, "/app", "count=3,bytes=4");
    /* the stats node is rewritten in place: its stat does not move */
    CHECK(tt_stat(&x, "/zookeeper/quota/app/zookeeper_stats", &st1));
    CHECK_EQ_INT(st1.mzxid, st0.mzxid);
    CHECK_EQ_INT(st1.version, 0);
    CHECK_EQ_INT(st1.data_length, 15);
    /* outside the quota: nothing */
    CHECK_EQ_INT(tt_create(&x, "/other", "zzz", 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/apple", "zzz", 0, NULL, 0), ZOK);
    expect_stats(&x, "/app", "count=3,bytes=4");

    /* a nested quota takes over below it */
    CHECK_EQ_INT(tt_create(&x, "/app/x", NULL, 0, NULL, 0), ZOK);
    expect_stats(&x, "/app", "count=4,bytes=4");
    setquota(&x, "/app/x", "count=-1,bytes=100");
    expect_stats(&x, "/app/x", "count=1,bytes=0");
    CHECK_EQ_INT(tt_create(&x, "/app/x/y", "zz", 0, NULL, 0), ZOK);
    expect_stats(&x, "/app/x", "count=2,bytes=2");
    expect_stats(&x, "/app", "count=4,bytes=4");
    /* delquota on /app/x: its updates go to /app again */
    CHECK_EQ_INT(tt_delete(&x, "/zookeeper/quota/app/x/zookeeper_limits", -1), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/app/x/z", "q", 0, NULL, 0), ZOK);
    expect_stats(&x, "/app", "count=5,bytes=5");
    expect_stats(&x, "/app/x", "count=2,bytes=2");

    /* other keys survive, after the "=" trick */
    CHECK_EQ_INT(tt_set(&x, "/zookeeper/quota/app/zookeeper_stats",
                        "count=1,bytes=2;zeta=9;alpha=3", -1, NULL),
                 ZOK);
    CHECK_EQ_INT(tt_create(&x, "/app/k", "ab", 0, NULL, 0), ZOK);
    expect_stats(&x, "/app", "count=2,bytes=4=;alpha=3;zeta=9");
    CHECK_EQ_INT(tt_create(&x, "/app/k2", NULL, 0, NULL, 0), ZOK);
    expect_stats(&x, "/app", "count=3,bytes=4=;alpha=3;zeta=9");
    /* unparsable stats are left alone */
    CHECK_EQ_INT(tt_set(&x, "/zookeeper/quota/app/zookeeper_stats", "garbage", -1, NULL), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/app/k3", NULL, 0, NULL, 0), ZOK);
    expect_stats(&x, "/app", "garbage");
    CHECK_EQ_INT(tt_set(&x, "/zookeeper/quota/app/zookeeper_stats", "count=,bytes=1", -1, NULL),
                 ZOK);
    CHECK_EQ_INT(tt_create(&x, "/app/k4", NULL, 0, NULL, 0), ZOK);
    expect_stats(&x, "/app", "count=,bytes=1");
    CHECK_EQ_INT(tt_set(&x, "/zookeeper/quota/app/zookeeper_stats", "count==5,bytes=1", -1, NULL),
                 ZOK);
    CHECK_EQ_INT(tt_create(&x, "/app/k5", NULL, 0, NULL, 0), ZOK);
    expect_stats(&x, "/app", "count=0,bytes=1"); /* "count==5" reads -1 */
    tt_close(&x);
}

static int dump_node(const char *path, size_t len, const struct tree_node *n, void *arg)
{
    (void)len;
    struct tt *y = arg;
    struct jute_stat_persisted st;
    tree_node_stat_persisted(n, &st);
    struct jute_buf b = tree_node_data(n);
    /* copy the data: the source tree is not changed while we load the other */
    return tree_load_node(y->t, path, &st, b, -1);
}

static void test_quota_after_load(void)
{
    struct tt x, y;
    tt_init(&x);
    tt_init(&y);
    CHECK_EQ_INT(tt_create(&x, "/app", NULL, 0, NULL, 0), ZOK);
    setquota(&x, "/app", "count=10,bytes=-1");
    CHECK_EQ_INT(tt_create(&x, "/app/a", "12345", 0, NULL, 0), ZOK);
    /* corrupt the stats: a load recomputes them (setupQuota) */
    CHECK_EQ_INT(tt_set(&x, "/zookeeper/quota/app/zookeeper_stats", "count=99,bytes=99", -1, NULL),
                 ZOK);
    CHECK_EQ_INT(tree_load_begin(y.t), 0);
    CHECK_EQ_INT(tree_foreach_node(x.t, dump_node, &y), 0);
    CHECK_EQ_INT(tree_load_end(y.t), 0);
    tt_check(&y);
    expect_stats(&y, "/app", "count=2,bytes=5");
    y.zxid = x.zxid;
    CHECK_EQ_INT(tt_create(&y, "/app/b", "1", 0, NULL, 0), ZOK);
    expect_stats(&y, "/app", "count=3,bytes=6");
    tt_close(&y);
    tt_close(&x);
}

int main(void)
{
    RUN(test_quota);
    RUN(test_quota_after_load);
    return t_done();
}
