/*
 * Cross-check with Apache ZooKeeper 3.8: the data directory in
 * data/apache/version-2 was written by a real server (record_apache_data.py
 * says how): snapshot.0 (the empty tree, at start), log.1 (every txn of the
 * scenario, each with the TxnDigest Apache computed after applying it) and
 * snapshot.21 (written by the restarted server after replaying the log, with
 * its ZxidDigest). Checks:
 *   - both snapshots decode, checksums verified, and the digest Paddock
 *     computes over snapshot.21's nodes equals the one Apache stored;
 *   - replaying log.1 over snapshot.0 through Paddock's tree gives, after
 *     every txn, the TxnDigest Apache logged for it;
 *   - the replayed tree equals snapshot.21 node for node (stat, data, ACL
 *     index) and ACL list for ACL list;
 *   - snap_find_newest picks snapshot.21, with Apache's session and its
 *     ephemerals.
 */
#include "snap_test.h"

#include "common/alloc.h"
#include "common/arena.h"
#include "storage/txn.h"

#include <stdlib.h>
#include <zlib.h>

/* Facts of the recorded scenario (see record_apache_data.py). */
#define LAST_ZXID        0x21
#define APACHE_DIGEST_21 39308579844LL /* "Snapshot loaded ..., digest is 39308579844" */
#define EMPTY_DIGEST     1371985504LL  /* the empty tree's digest, in Apache's log too */
#define SESSION_A        0x100003711db0000LL

static char data_dir[1024];

static void set_data_dir(void)
{
    snprintf(data_dir, sizeof(data_dir), "%s", __FILE__);
    char *slash = strrchr(data_dir, '/');
    snprintf(slash ? slash + 1 : data_dir,
             sizeof(data_dir) - (size_t)(slash ? slash + 1 - data_dir : 0),
             "data/apache/version-2");
}

static struct tree *new_tree(void)
{
    struct tree *t = tree_new(NULL, NULL);
    CHECK(t != NULL);
    tree_set_extended_types(t, true); /* the server ran with extendedTypesEnabled */
    return t;
}

static struct tree *load(const char *name, struct snap_info *info, struct sd_sessions *ss)
{
    char path[1200], err[256];
    snprintf(path, sizeof(path), "%s/%s", data_dir, name);
    struct file_fs fs;
    file_posix_init(&fs);
    struct tree *t = new_tree();
    struct sd_sessions ignored = {0};
    int rc =
        snap_load_file(&fs, path, t, sd_on_session, ss ? ss : &ignored, info, err, sizeof(err));
    if (rc)
        fprintf(stderr, "%s: %s\n", path, err);
    CHECK_EQ_INT(rc, 0);
    return t;
}

static void test_snapshots_decode(void)
{
    struct snap_info info;
    struct sd_sessions ss = {0};
    struct tree *t0 = load("snapshot.0", &info, &ss);
    CHECK_EQ_INT(info.zxid, 0);
    CHECK_EQ_INT(info.dbid, -1);
    CHECK_EQ_INT(info.digest_state, SNAP_DIGEST_EMPTY);
    CHECK_EQ_INT(tree_digest(t0), EMPTY_DIGEST);
    CHECK_EQ_INT(ss.n, 0);
    struct tree *fresh = new_tree();
    CHECK(sd_trees_equal(t0, fresh, false));
    CHECK_EQ_INT(tree_digest(fresh), EMPTY_DIGEST);

    ss.n = 0;
    struct tree *t = load("snapshot.21", &info, &ss);
    CHECK_EQ_INT(info.zxid, LAST_ZXID);
    CHECK(info.has_digest);
    CHECK_EQ_INT(info.digest_zxid, LAST_ZXID);
    CHECK_EQ_INT(info.digest_version, 2);
    CHECK_EQ_INT(info.digest, APACHE_DIGEST_21);
    CHECK_EQ_INT(tree_digest(t), APACHE_DIGEST_21); /* Paddock's digest of Apache's nodes */
    CHECK_EQ_INT(info.digest_state, SNAP_DIGEST_MATCH);
    CHECK_EQ_INT(ss.n, 1);
    CHECK_EQ_INT(ss.v[0].id, SESSION_A);
    CHECK_EQ_INT(ss.v[0].timeout_ms, 30000);
    const char *why = NULL;
    CHECK_EQ_INT(tree_check(t, &why), 0);

    /* the node kinds came through */
    struct jute_stat st;
    struct tree_node *n = tree_find(t, "/app/eph");
    CHECK(n != NULL);
    if (n) {
        tree_node_stat(n, &st);
        CHECK_EQ_INT(st.ephemeral_owner, SESSION_A);
    }
    struct jute_stat_persisted sp;
    CHECK((n = tree_find(t, "/ttl")) != NULL);
    if (n) {
        tree_node_stat_persisted(n, &sp);
        CHECK_EQ_INT(sp.ephemeral_owner, ZOO_TTL_MASK | 3600000);
    }
    CHECK((n = tree_find(t, "/box")) != NULL);
    if (n) {
        tree_node_stat_persisted(n, &sp);
        CHECK_EQ_INT(sp.ephemeral_owner, ZOO_CONTAINER_OWNER);
        CHECK_EQ_INT(sp.cversion, 1);
    }
    CHECK((n = tree_find(t, "/nulldata")) != NULL);
    if (n)
        CHECK_EQ_INT(tree_node_data(n).len, -1);
    CHECK(tree_find(t, "/\xc3\xbcml\xc3\xa4ut") != NULL);
    CHECK(tree_find(t, "/r-eph") == NULL); /* deleted by its session's closeSession */
    CHECK(tree_find(t, "/gone") == NULL);
    CHECK_EQ_INT(tree_ephemeral_count(t), 2);

    tree_free(fresh);
    tree_free(t0);
    tree_free(t);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint8_t *read_all(const char *name, size_t *len)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/%s", data_dir, name);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n);
    CHECK(fread(b, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void test_replay_digests(void)
{
    struct snap_info info;
    struct tree *t = load("snapshot.0", &info, NULL);
    struct tree *want = load("snapshot.21", &info, NULL);
    size_t len = 0;
    uint8_t *log = read_all("log.1", &len);
    if (!log || !t || !want)
        return;
    /* FileHeader{"ZKLG", 2, dbid}, then {long adler32, int len, txn, 'B'} records */
    CHECK(len >= 16 && memcmp(log, "ZKLG", 4) == 0 && be32(log + 4) == 2);
    struct arena a;
    arena_init(&a, 4096);
    size_t off = 16;
    int n_txns = 0, n_digests = 0, n_errors = 0;
    int64_t last_zxid = 0;
    while (off + 12 <= len) {
        uint64_t crc = (uint64_t)be32(log + off) << 32 | be32(log + off + 4);
        uint32_t n = be32(log + off + 8);
        if (n == 0)
            break;
        CHECK(off + 12 + n + 1 <= len);
        if (off + 12 + n + 1 > len)
            break;
        const uint8_t *payload = log + off + 12;
        CHECK_EQ_INT(crc, adler32(adler32(0, Z_NULL, 0), payload, n));
        CHECK_EQ_INT(payload[n], 'B');
        struct tree_txn txn;
        struct jute_txn_digest dg;
        bool has_dg = false;
        int rc = txn_decode(payload, n, &a, &txn, &dg, &has_dg);
        CHECK_EQ_INT(rc, 0);
        if (rc == 0) {
            struct tree_result res;
            CHECK_EQ_INT(tree_apply(t, &txn, &a, &res), 0);
            /* ZooKeeper logs a failed single op (ErrorTxn) without a digest: the
             * PrepRequestProcessor threw before computing one */
            CHECK_EQ_INT(has_dg, txn.hdr.type != ZOO_OP_ERROR);
            if (txn.hdr.type == ZOO_OP_ERROR)
                n_errors++;
            if (has_dg) {
                CHECK_EQ_INT(dg.version, 2);
                if (tree_digest(t) != dg.tree_digest)
                    fprintf(stderr, "zxid %llx (%s): digest %lld, Apache %lld\n",
                            (long long)txn.hdr.zxid, txn_type_name(txn.hdr.type),
                            (long long)tree_digest(t), (long long)dg.tree_digest);
                CHECK_EQ_INT(tree_digest(t), dg.tree_digest);
                n_digests++;
            }
            last_zxid = txn.hdr.zxid;
        }
        const char *why = NULL;
        CHECK_EQ_INT(tree_check(t, &why), 0);
        arena_reset(&a);
        n_txns++;
        off += 12 + n + 1;
    }
    CHECK_EQ_INT(last_zxid, LAST_ZXID);
    CHECK_EQ_INT(n_txns, LAST_ZXID);
    CHECK_EQ_INT(n_errors, 1); /* kazoo's makepath tried the quota node before its parent */
    CHECK_EQ_INT(n_digests + n_errors, n_txns);
    /* the replayed tree is the one Apache snapshotted (its child order is a HashSet's) */
    CHECK_EQ_INT(tree_digest(t), APACHE_DIGEST_21);
    CHECK(sd_trees_equal(t, want, false));
    CHECK_EQ_INT(tree_node_count(t), tree_node_count(want));
    arena_close(&a);
    free(log);
    tree_free(t);
    tree_free(want);
}

static void test_find_newest(void)
{
    struct file_fs fs;
    file_posix_init(&fs);
    struct tree *t = new_tree();
    struct snap_info info;
    struct sd_sessions ss = {0};
    char err[256];
    int rc = snap_find_newest(&fs, data_dir, t, sd_on_session, &ss, &info, err, sizeof(err));
    if (rc)
        fprintf(stderr, "%s\n", err);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(info.zxid, LAST_ZXID);
    CHECK_EQ_STR(info.name, "snapshot.21");
    CHECK_EQ_INT(ss.n, 1);
    struct arena a;
    arena_init(&a, 1024);
    struct jute_str_vec v;
    CHECK_EQ_INT(tree_ephemerals(t, SESSION_A, NULL, &a, &v), 0);
    CHECK_EQ_INT(v.count, 2); /* /app/eph and /app/eph-seq-... */
    arena_close(&a);
    tree_free(t);
}

/* Paddock's encoding of Apache's tree reads back as the same tree with the same digest. */
static void test_reencode(void)
{
    struct snap_info info;
    struct sd_sessions ss = {0};
    struct tree *t = load("snapshot.21", &info, &ss);
    struct snap_params p = {.zxid = LAST_ZXID, .sessions = ss.v, .n_sessions = (size_t)ss.n};
    struct jute_out out;
    jute_out_init(&out);
    CHECK_EQ_INT(snap_encode_buf(t, &p, &out), 0);
    struct tree *u = new_tree();
    struct snap_read_opts o = {.zxid = LAST_ZXID};
    CHECK_EQ_INT(snap_decode_buf(out.data, out.len, &o, u, NULL, NULL, &info, NULL, 0), 0);
    CHECK_EQ_INT(info.digest_state, SNAP_DIGEST_MATCH);
    CHECK_EQ_INT(info.digest, APACHE_DIGEST_21);
    CHECK(sd_trees_equal(t, u, true));
    /* the same size as Apache's file: same records, only their order differs */
    size_t len = 0;
    uint8_t *apache = read_all("snapshot.21", &len);
    CHECK_EQ_INT(out.len, len);
    free(apache);
    jute_out_close(&out);
    tree_free(t);
    tree_free(u);
}

int main(void)
{
    set_data_dir();
    RUN(test_snapshots_decode);
    RUN(test_replay_digests);
    RUN(test_find_newest);
    RUN(test_reencode);
    return t_done();
}
