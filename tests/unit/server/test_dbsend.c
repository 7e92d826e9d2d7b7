/*
 * The database a leader streams after SNAP (src/server/dbsend.c): for a tree
 * that does not change, the slices put together are exactly what a one-shot
 * encoding gives (snap_encode_buf without FileHeader and seal, then the
 * signature), whatever the slice size and however often the bytes are taken;
 * the seal never leaves before the end; a tree freed under the stream fails
 * the next step, and the stream is freed after it.
 */
#include "../tree/tree_test.h"

#include "jute/jute.h"
#include "jute/quorum.h"
#include "server/dbsend.h"
#include "storage/snapshot.h"

#include <stdio.h>

static const struct snap_session SESSIONS[] = {{0x1001, 30000}, {0x1002, 4000}};

static void fill(struct tt *x, int n)
{
    CHECK_EQ_INT(tt_create(x, "/a", "dir", 0, NULL, 0), ZOK);
    for (int i = 0; i < n; i++) {
        char p[32], d[48];
        snprintf(p, sizeof(p), "/a/n%04d", i);
        snprintf(d, sizeof(d), "data of node %d", i);
        CHECK_EQ_INT(tt_create(x, p, d, 0, NULL, 0), ZOK);
    }
    CHECK_EQ_INT(tt_create(x, "/b", NULL, 0, NULL, 0), ZOK);
}

/* What send_database wrote before the stream: the one-shot form. */
static void expected(struct tt *x, struct jute_out *want)
{
    struct jute_out all;
    jute_out_init(&all);
    struct snap_params p = {.zxid = x->zxid, .sessions = SESSIONS, .n_sessions = 2,
                            .no_digest = true};
    CHECK_EQ_INT(snap_encode_buf(x->t, &p, &all), 0);
    CHECK(all.len > 16 + 13);
    jute_out_init(want);
    jute_put_raw(want, all.data + 16, all.len - 16 - 13);
    jute_put_string(want, JUTE_QUORUM_SNAP_SIGNATURE);
    jute_out_close(&all);
}

static void stream(struct tt *x, int64_t max_nodes, bool take_every_step, struct jute_out *got)
{
    jute_out_init(got);
    struct dbsend *d;
    CHECK_EQ_INT(dbsend_new(x->t, x->zxid, SESSIONS, 2, &d), 0);
    int rc;
    int steps = 0;
    while ((rc = dbsend_step(d, max_nodes)) == 0) {
        steps++;
        if (!take_every_step)
            continue;
        size_t n;
        uint8_t *b = dbsend_take(d, &n);
        CHECK(b != NULL || n == 0);
        jute_put_raw(got, b, n);
        pd_free(b);
    }
    CHECK_EQ_INT(rc, 1);
    CHECK_EQ_INT(dbsend_step(d, max_nodes), 1); /* stays done */
    size_t n;
    uint8_t *b = dbsend_take(d, &n);
    CHECK(b != NULL);
    jute_put_raw(got, b, n);
    pd_free(b);
    CHECK(dbsend_take(d, &n) == NULL && n == 0); /* nothing left */
    CHECK_EQ_INT((int)dbsend_bytes(d), (int)got->len);
    /* every node once; tree_node_count counts the root twice, as ZooKeeper's nodes map */
    CHECK_EQ_INT((int)dbsend_nodes(d), (int)tree_node_count(x->t) - 1);
    if (max_nodes == 1)
        CHECK(steps >= tree_node_count(x->t) - 1);
    dbsend_free(d);
}

static void test_same_as_one_shot(void)
{
    struct tt x;
    tt_init(&x);
    fill(&x, 300);
    struct jute_out want;
    expected(&x, &want);
    int64_t sizes[] = {1, 7, 64, 100000};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        for (int every = 0; every <= 1; every++) {
            struct jute_out got;
            stream(&x, sizes[i], every, &got);
            CHECK_EQ_INT((int)got.len, (int)want.len);
            CHECK(got.len == want.len && memcmp(got.data, want.data, want.len) == 0);
            jute_out_close(&got);
        }
    }
    jute_out_close(&want);
    tt_close(&x);
}

/* Until the end, the last 13 bytes handed out are never the seal: what was taken is always a
 * prefix of the stream without the seal. */
static void test_seal_held_back(void)
{
    struct tt x;
    tt_init(&x);
    fill(&x, 5);
    struct jute_out want;
    expected(&x, &want);
    struct dbsend *d;
    CHECK_EQ_INT(dbsend_new(x.t, x.zxid, SESSIONS, 2, &d), 0);
    size_t taken = 0;
    int rc;
    do {
        rc = dbsend_step(d, 1);
        size_t n;
        uint8_t *b = dbsend_take(d, &n);
        if (rc == 0) /* the signature (14 bytes) is not there yet, the node terminator may be */
            CHECK(taken + n <= want.len - 14);
        CHECK(n == 0 || memcmp(b, want.data + taken, n) == 0);
        taken += n;
        pd_free(b);
    } while (rc == 0);
    CHECK_EQ_INT(rc, 1);
    CHECK_EQ_INT((int)taken, (int)want.len);
    dbsend_free(d);
    jute_out_close(&want);
    tt_close(&x);
}

static void test_tree_goes(void)
{
    struct tt x;
    tt_init(&x);
    fill(&x, 50);
    struct dbsend *d;
    CHECK_EQ_INT(dbsend_new(x.t, x.zxid, NULL, 0, &d), 0);
    CHECK_EQ_INT(dbsend_step(d, 5), 0);
    tree_free(x.t);
    x.t = NULL;
    CHECK_EQ_INT(dbsend_step(d, 5), PD_ECLOSED);
    CHECK_EQ_INT(dbsend_step(d, 5), PD_ECLOSED); /* sticky */
    size_t n;
    CHECK(dbsend_take(d, &n) == NULL && n == 0);
    dbsend_free(d); /* after its tree: ASan checks nothing is touched */
    tt_close(&x);
}

/* Two streams and the tree changing between their steps: both end, each with every node
 * that stood throughout, and neither with the node created after it began. */
static void test_two_streams_and_changes(void)
{
    struct tt x;
    tt_init(&x);
    fill(&x, 40);
    struct dbsend *d1, *d2;
    CHECK_EQ_INT(dbsend_new(x.t, x.zxid, NULL, 0, &d1), 0);
    CHECK_EQ_INT(dbsend_step(d1, 10), 0);
    CHECK_EQ_INT(dbsend_new(x.t, x.zxid, NULL, 0, &d2), 0);
    CHECK_EQ_INT(tt_delete(&x, "/a/n0030", -1), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/a/late", "x", 0, NULL, 0), ZOK);
    int rc1, rc2;
    do {
        rc1 = dbsend_step(d1, 3);
        rc2 = dbsend_step(d2, 5);
    } while (rc1 == 0 || rc2 == 0);
    CHECK_EQ_INT(rc1, 1);
    CHECK_EQ_INT(rc2, 1);
    /* d1 began before the delete and had not reached /a/n0030; d2 began after the delete:
     * both miss it. Neither has /a/late. Nodes: "", /zookeeper(+2), /a, 40 - 1, /b. */
    CHECK_EQ_INT((int)dbsend_nodes(d1), 4 + 1 + 39 + 1);
    CHECK_EQ_INT((int)dbsend_nodes(d2), 4 + 1 + 39 + 1);
    dbsend_free(d1);
    dbsend_free(d2);
    tt_close(&x);
}

int main(void)
{
    RUN(test_same_as_one_shot);
    RUN(test_seal_held_back);
    RUN(test_tree_goes);
    RUN(test_two_streams_and_changes);
    return t_done();
}
