/*
 * The tree digest (ZooKeeper 3.6+, digest.enabled, on by default): a running
 * sum of one CRC-32 per znode, which ZooKeeper writes after every txn in the
 * log (TxnDigest) and at the end of every snapshot (ZxidDigest), and checks
 * on replay. Facts from DigestCalculator.java (version 2), NodeHashMapImpl
 * and AdHash.java (3.8):
 *
 *   node digest = CRC32(path bytes, data bytes (none if null), then 60 bytes
 *                 big-endian: czxid mzxid pzxid ctime mtime (8 each),
 *                 version cversion aversion (4 each), ephemeralOwner (8))
 *   the root hashes under "" (both "" and "/" name it in ZooKeeper);
 *   nodes whose path starts with "/zookeeper/" count 0 ("/zookeeper" itself
 *   counts);
 *   tree digest = sum of the node digests mod 2^64 (a Java long).
 *
 * ZooKeeper updates the sum around every change of a node's stat or data
 * (preChange/postChange: create and delete of the node, its parent's
 * cversion/pzxid on a child create, its pzxid on a child delete, setData,
 * setACL's aversion, setCversionPzxid); apply.c does the same with
 * digest_begin()/digest_end() around each node change, serialize.c adds each
 * loaded node. The sum of current node digests is then an invariant, which
 * tree_check() verifies by recomputing it.
 *
 * The txn log carries, with each txn, the digest the tree will have once it
 * is applied, computed before it is (PrepRequestProcessor.precalculateDigest
 * on its ChangeRecords): digest_predict() does that for each overlay record
 * tree_prep() adds, from the path's newest state, and tree_prep() hands the
 * result out in tree_txn.digest. A failed single op (ErrorTxn) gets none, as
 * in ZooKeeper; a failed multi gets the unchanged digest.
 *
 * Path bytes: Java's String.getBytes() uses the platform charset; this uses
 * the UTF-8 bytes of the path, as ZooKeeper does under a UTF-8 locale (and
 * always from Java 18).
 */
#include "tree/tree_int.h"

#include "common/crc32.h"

#define ZK_SUBTREE     "/zookeeper/"
#define ZK_SUBTREE_LEN 11

static void put64(unsigned char *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)u;
        u >>= 8;
    }
}

static void put32(unsigned char *p, int32_t v)
{
    uint32_t u = (uint32_t)v;
    for (int i = 3; i >= 0; i--) {
        p[i] = (unsigned char)u;
        u >>= 8;
    }
}

static bool excluded(const char *path, size_t len)
{
    return len >= ZK_SUBTREE_LEN && memcmp(path, ZK_SUBTREE, ZK_SUBTREE_LEN) == 0;
}

uint32_t digest_pd(const char *path, size_t len, const uint8_t *data, int32_t data_len)
{
    if (len == 1 && path[0] == '/')
        len = 0; /* "/" is hashed as "" */
    uint32_t crc = pd_crc32(0, path, len);
    if (data_len > 0)
        crc = pd_crc32(crc, data, (size_t)data_len);
    return crc;
}

/* The 60 stat bytes DigestCalculator appends, into b. */
static void put_stat(unsigned char *b, const struct node_stat *st)
{
    put64(b, st->czxid);
    put64(b + 8, st->mzxid);
    put64(b + 16, st->pzxid);
    put64(b + 24, st->ctime);
    put64(b + 32, st->mtime);
    put32(b + 40, st->version);
    put32(b + 44, st->cversion);
    put32(b + 48, st->aversion);
    put64(b + 52, st->owner);
}

uint32_t digest_finish(uint32_t pd, const char *path, size_t len, const struct node_stat *st)
{
    if (excluded(path, len))
        return 0;
    unsigned char b[60];
    put_stat(b, st);
    return pd_crc32(pd, b, sizeof(b));
}

uint32_t digest_of(const char *path, size_t len, const uint8_t *data, int32_t data_len,
                   const struct node_stat *st)
{
    if (excluded(path, len))
        return 0;
    /* One pass over path, data and stat copied together runs at the CRC's full speed; three
     * short pieces pay three starts and tails. Loading a snapshot hashes every node this way. */
    size_t dl = data_len > 0 ? (size_t)data_len : 0;
    if (len == 1 && path[0] == '/')
        len = 0;
    unsigned char b[512];
    if (len + dl + 60 > sizeof(b))
        return digest_finish(digest_pd(path, len, data, data_len), path, len, st);
    memcpy(b, path, len);
    if (dl)
        memcpy(b + len, data, dl);
    put_stat(b + len + dl, st);
    return pd_crc32(0, b, len + dl + 60);
}

uint32_t digest_node_pd(const char *path, size_t len, const struct tree_node *n)
{
    return digest_pd(path, len, n->data_len >= 0 ? node_data(n) : NULL, n->data_len);
}

uint32_t digest_node(const char *path, size_t len, const struct tree_node *n)
{
    if (excluded(path, len))
        return 0; /* skip the stat decoding and the CRC */
    struct node_stat st;
    node_get_stat(n, &st);
    return digest_of(path, len, n->data_len >= 0 ? node_data(n) : NULL, n->data_len, &st);
}

void digest_begin(const struct tree *t, const char *path, size_t len, uint32_t id,
                  struct digest_mark *m)
{
    m->pd = 0;
    m->before = 0;
    if (excluded(path, len))
        return;
    const struct tree_node *n = node_get(t, id);
    struct node_stat st;
    node_get_stat(n, &st);
    m->pd = digest_node_pd(path, len, n);
    m->before = digest_finish(m->pd, path, len, &st);
}

void digest_end(struct tree *t, const char *path, size_t len, uint32_t id,
                const struct digest_mark *m, bool data_changed)
{
    if (excluded(path, len))
        return;
    const struct tree_node *n = node_get(t, id);
    struct node_stat st;
    node_get_stat(n, &st);
    uint32_t pd = data_changed ? digest_node_pd(path, len, n) : m->pd;
    t->digest -= m->before;
    t->digest += digest_finish(pd, path, len, &st);
}

void digest_predict(const struct tree *t, struct ov_rec *r)
{
    const char *path = r->path;
    size_t len = r->path_len;
    /* the state this record replaces: the newest record of the path, else the committed node */
    const struct ov_rec *prev = ov_find(&t->ov, path, len);
    uint32_t before = 0;
    if (prev) {
        before = prev->exists ? prev->digest : 0;
        if (r->exists && !r->has_pd && prev->exists)
            r->pd = prev->pd;
    } else {
        uint32_t id = node_lookup(t, path, len);
        if (id != NODE_NIL) {
            const struct tree_node *n = node_get(t, id);
            struct node_stat st;
            node_get_stat(n, &st);
            uint32_t pd = excluded(path, len) ? 0 : digest_node_pd(path, len, n);
            before = digest_finish(pd, path, len, &st);
            if (r->exists && !r->has_pd)
                r->pd = pd;
        }
    }
    r->has_pd = true;
    r->digest = r->exists ? digest_finish(r->pd, path, len, &r->st) : 0;
    uint64_t base = t->ov.tail ? t->ov.tail->tree_digest : t->digest;
    r->tree_digest = base - before + r->digest;
}

uint32_t tree_digest_node(const char *path, size_t len, struct jute_buf data,
                          const struct jute_stat_persisted *sp)
{
    struct node_stat st = {.czxid = sp->czxid,
                           .mzxid = sp->mzxid,
                           .ctime = sp->ctime,
                           .mtime = sp->mtime,
                           .pzxid = sp->pzxid,
                           .owner = sp->ephemeral_owner,
                           .version = sp->version,
                           .cversion = sp->cversion,
                           .aversion = sp->aversion};
    return digest_of(path, len, data.data, data.len, &st);
}

int64_t tree_digest(const struct tree *t)
{
    /* a Java long: the unsigned sum reinterpreted as two's complement */
    uint64_t u = t->digest;
    int64_t v;
    memcpy(&v, &u, sizeof(v));
    return v;
}

int64_t tree_predicted_digest(const struct tree *t)
{
    uint64_t u = t->ov.tail ? t->ov.tail->tree_digest : t->digest;
    int64_t v;
    memcpy(&v, &u, sizeof(v));
    return v;
}

static int sum_node(const char *path, size_t len, const struct tree_node *n, void *arg)
{
    *(uint64_t *)arg += digest_node(path, len, n);
    return 0;
}

int digest_compute(const struct tree *t, uint64_t *out)
{
    *out = 0;
    return tree_foreach_node(t, sum_node, out);
}
