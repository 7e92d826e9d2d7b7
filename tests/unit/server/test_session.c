/*
 * Session table: ZooKeeper-compatible passwords (values produced by
 * java.util.Random as ZooKeeperServer.generatePasswd seeds it), id layout,
 * tickTime-bucketed expiry.
 */
#include "common/alloc.h"
#include "common/err.h"
#include "server/session.h"
#include "t.h"

static void check_pw(uint64_t id, const uint8_t want[16])
{
    uint8_t got[16];
    sess_password((int64_t)id, got);
    CHECK(memcmp(got, want, 16) == 0);
    struct jute_buf b = {.data = want, .len = 16};
    CHECK(sess_password_ok((int64_t)id, &b));
    b.len = 15;
    CHECK(!sess_password_ok((int64_t)id, &b));
}

static void test_password_matches_java(void)
{
    /* Recorded with: new java.util.Random(id ^ 0xB3415C00L).nextBytes(new byte[16]) */
    static const uint8_t a[16] = {0xf2, 0x2a, 0xcd, 0x4a, 0x97, 0xe6, 0x9d, 0x6d,
                                  0x20, 0xa4, 0x9b, 0xb6, 0x38, 0xea, 0xdb, 0x38};
    static const uint8_t b[16] = {0x20, 0xf6, 0x2c, 0xb5, 0x64, 0x8d, 0xc2, 0xd7,
                                  0x71, 0x47, 0x1c, 0x8a, 0x24, 0x86, 0xa9, 0xee};
    static const uint8_t c[16] = {0xf7, 0xcd, 0x1b, 0x8b, 0x3f, 0x94, 0x6c, 0x47,
                                  0x74, 0x25, 0xd4, 0x1b, 0xe3, 0xf6, 0x67, 0xc6};
    check_pw(0x0001000000000000ULL, a);
    check_pw(0x7fffffffffffffffULL, b);
    check_pw(0xffffffffffffffffULL, b); /* Random keeps only 48 bits of the seed */
    check_pw(0x0123456789abcdefULL, c);
    check_pw(0x0100000000000000ULL, a);
}

static void test_ids(void)
{
    struct sess_table t;
    CHECK_EQ_INT(sess_table_init(&t, 2000, 5, 1700000000000LL), 0);
    int64_t a = sess_new_id(&t), b = sess_new_id(&t);
    CHECK_EQ_INT((uint64_t)a >> 56, 5);
    CHECK_EQ_INT(b, a + 1);
    sess_table_close(&t);
}

static void test_expiry_buckets(void)
{
    struct sess_table t;
    CHECK_EQ_INT(sess_table_init(&t, 1000, 0, 0), 0);
    struct session *s1, *s2;
    CHECK_EQ_INT(sess_add(&t, 1, 3000, 100, &s1), 0);
    CHECK_EQ_INT(sess_add(&t, 2, 5000, 100, &s2), 0);
    CHECK_EQ_INT(sess_add(&t, 2, 5000, 100, NULL), PD_EEXIST);
    /* roundup(100 + 3000) to the next tick boundary */
    CHECK_EQ_INT(s1->expire_at, 4000);
    CHECK_EQ_INT(s2->expire_at, 6000);
    CHECK(sess_next_expired(&t, 3999) == NULL);
    CHECK(sess_next_expired(&t, 4000) == s1);
    CHECK(sess_next_expired(&t, 4000) == NULL);
    /* a touch moves the deadline */
    sess_touch(&t, s2, 2500);
    CHECK_EQ_INT(s2->expire_at, 8000);
    CHECK(sess_next_expired(&t, 7000) == NULL);
    CHECK(sess_next_expired(&t, 9000) == s2);
    CHECK(sess_find(&t, 1) == s1);
    sess_remove(&t, s1);
    CHECK(sess_find(&t, 1) == NULL);
    CHECK_EQ_INT(t.count, 1);
    sess_table_close(&t);
}

static void test_many_sessions(void)
{
    struct sess_table t;
    CHECK_EQ_INT(sess_table_init(&t, 100, 0, 0), 0);
    for (int64_t i = 1; i <= 5000; i++)
        CHECK_EQ_INT(sess_add(&t, i * 7919, (int32_t)(1000 + i % 7 * 100), 0, NULL), 0);
    CHECK_EQ_INT(t.count, 5000);
    int n = 0;
    while (sess_next_expired(&t, 100000))
        n++;
    CHECK_EQ_INT(n, 5000);
    for (int64_t i = 1; i <= 5000; i++)
        CHECK(sess_find(&t, i * 7919) != NULL);
    sess_table_close(&t);
}

static void test_oom(void)
{
    for (long k = 0; k < 6; k++) {
        struct sess_table t;
        pd_alloc_fail_after(k, 1);
        int rc = sess_table_init(&t, 1000, 0, 0);
        if (rc == 0) {
            rc = sess_add(&t, 42, 4000, 0, NULL);
            CHECK(rc == 0 || rc == PD_ENOMEM);
            sess_table_close(&t);
        } else {
            CHECK_EQ_INT(rc, PD_ENOMEM);
        }
        pd_alloc_fail_after(-1, 0);
    }
}

int main(void)
{
    RUN(test_password_matches_java);
    RUN(test_ids);
    RUN(test_expiry_buckets);
    RUN(test_many_sessions);
    RUN(test_oom);
    return t_done();
}
