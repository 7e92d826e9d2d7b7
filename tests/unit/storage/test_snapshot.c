/*
 * Snapshots: round trip of a tree with every node kind into an identical
 * tree; every truncation and every corrupt byte refused; the newest valid
 * snapshot chosen with fallback past corrupt and truncated ones; write,
 * fsync and rename failures leave no snapshot behind; crashes after a
 * completed write keep it; bounded memory while streaming; a forked child
 * writing the parent's copy-on-write tree; OOM sweeps over encoding,
 * decoding and the directory scan.
 */
#include "../tree/tree_test.h"
#include "snap_test.h"
#include "storage_test.h"

#include "file_fault.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

static const struct snap_session three_sessions[] = {
    {0x1234, 30000},
    {0x4321, 4000},
    {0x7fffffffffffffffLL, 40000},
};

/* A tree with every node kind, ACL lists (one freed), sessions' ephemerals, data sizes. */
static void build(struct tt *x)
{
    tt_init(x);
    x->ttl = true;
    tree_set_extended_types(x->t, true);
    struct jute_acl ro = {.perms = ZOO_PERM_READ, .id = {.scheme = "ip", .id = "10.0.0.0/8"}};
    struct jute_acl two[2] = {
        {.perms = ZOO_PERM_READ, .id = {.scheme = "world", .id = "anyone"}},
        {.perms = ZOO_PERM_ALL, .id = {.scheme = "digest", .id = "u:Zm9vYmFyYmF6cXV4"}}};
    struct jute_acl gone = {.perms = 3, .id = {.scheme = "digest", .id = "g:h"}};
    struct jute_create_request r = tt_creq("/a", "alpha", 0);
    CHECK_EQ_INT(tt_write(x, ZOO_OP_CREATE, &r, 1, NULL), ZOK);
    r = tt_creq("/tmp", NULL, 0);
    r.acl = (struct jute_acl_vec){.count = 1, .items = &gone};
    CHECK_EQ_INT(tt_write(x, ZOO_OP_CREATE, &r, 1, NULL), ZOK);
    CHECK_EQ_INT(tt_delete(x, "/tmp", -1), ZOK); /* its ACL index disappears */
    r = tt_creq("/a/ro", "", 0);
    r.acl = (struct jute_acl_vec){.count = 1, .items = &ro};
    CHECK_EQ_INT(tt_write(x, ZOO_OP_CREATE, &r, 1, NULL), ZOK);
    CHECK_EQ_INT(tt_create(x, "/a/two", "2", 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(x, "/a/null", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(x, "/a/s-", "seq", ZOO_PERSISTENT_SEQUENTIAL, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(x, "/a/s-", "seq", ZOO_PERSISTENT_SEQUENTIAL, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(x, "/a/e", "e", ZOO_EPHEMERAL, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(x, "/a/es-", "e", ZOO_EPHEMERAL_SEQUENTIAL, NULL, 0), ZOK);
    x->session = 0x4321;
    CHECK_EQ_INT(tt_create(x, "/e2", "e", ZOO_EPHEMERAL, NULL, 0), ZOK);
    x->session = 0x1234;
    r = tt_creq("/c", NULL, ZOO_CONTAINER);
    CHECK_EQ_INT(tt_write(x, ZOO_OP_CREATECONTAINER, &r, 1, NULL), ZOK);
    CHECK_EQ_INT(tt_create(x, "/c/k", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_delete(x, "/c/k", -1), ZOK);
    r = tt_creq("/t", "ttl", ZOO_PERSISTENT_WITH_TTL);
    r.ttl = 10;
    CHECK_EQ_INT(tt_write(x, ZOO_OP_CREATETTL, &r, 1, NULL), ZOK);
    CHECK_EQ_INT(tt_set(x, "/a", "beta!", -1, NULL), ZOK);
    CHECK_EQ_INT(tt_set(x, "/", "rootdata", -1, NULL), ZOK);
    struct jute_set_acl_request sa = {
        .path = "/a/two", .acl = {.count = 2, .items = two}, .version = -1};
    CHECK_EQ_INT(tt_write(x, ZOO_OP_SETACL, &sa, 1, NULL), ZOK);
    CHECK_EQ_INT(tt_create(x, "/\xc3\xbcml\xc3\xa4ut", "non-ascii", 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(x, "/zookeeper/mine", "under /zookeeper", 0, NULL, 0), ZOK);
    /* a deep path and a data buffer big enough to bypass the encoder's buffer */
    char deep[300] = "";
    for (int i = 0; i < 20; i++) {
        strcat(deep, "/level");
        CHECK_EQ_INT(tt_create(x, deep, "d", 0, NULL, 0), ZOK);
    }
    size_t big_len = 100000;
    char *big = malloc(big_len + 1);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (char)('a' + i % 26);
    big[big_len] = '\0';
    CHECK_EQ_INT(tt_create(x, "/big", big, 0, NULL, 0), ZOK);
    free(big);
}

static struct snap_params params(const struct tt *x)
{
    return (struct snap_params){.zxid = x->zxid, .sessions = three_sessions, .n_sessions = 3};
}

static struct tree *empty_tree(void)
{
    struct tree *t = tree_new(NULL, NULL);
    CHECK(t != NULL);
    tree_set_extended_types(t, true);
    return t;
}

static void check_tree(const struct tree *t)
{
    const char *why = NULL;
    int rc = tree_check(t, &why);
    if (rc != 0)
        fprintf(stderr, "tree_check: %s\n", why ? why : "?");
    CHECK_EQ_INT(rc, 0);
}

static void test_round_trip(void)
{
    struct tt x;
    build(&x);
    struct snap_params p = params(&x);
    struct jute_out out;
    jute_out_init(&out);
    CHECK_EQ_INT(snap_encode_buf(x.t, &p, &out), 0);

    struct tree *t = empty_tree();
    struct sd_sessions ss = {0};
    struct snap_info info;
    char err[256];
    struct snap_read_opts o = {.zxid = x.zxid};
    int rc = snap_decode_buf(out.data, out.len, &o, t, sd_on_session, &ss, &info, err, sizeof(err));
    if (rc)
        fprintf(stderr, "decode: %s\n", err);
    CHECK_EQ_INT(rc, 0);
    check_tree(t);
    CHECK(sd_trees_equal(x.t, t, true));
    CHECK_EQ_INT(tree_digest(t), tree_digest(x.t));
    CHECK(tree_digest(t) != 0);
    CHECK_EQ_INT(info.tree_digest, tree_digest(t));
    CHECK_EQ_INT(info.digest_state, SNAP_DIGEST_MATCH);
    CHECK(info.has_digest);
    CHECK_EQ_INT(info.digest_zxid, x.zxid);
    CHECK_EQ_INT(info.digest_version, 2);
    CHECK_EQ_INT(info.magic, SNAP_MAGIC);
    CHECK_EQ_INT(info.version, 2);
    CHECK_EQ_INT(info.dbid, -1);
    CHECK_EQ_INT(info.n_sessions, 3);
    CHECK_EQ_INT(info.n_nodes, tree_node_count(x.t) - 1); /* the tree counts the root twice */
    CHECK_EQ_INT(info.size_bytes, out.len);
    CHECK_EQ_INT(ss.n, 3);
    for (int i = 0; i < 3 && i < ss.n; i++) {
        CHECK_EQ_INT(ss.v[i].id, three_sessions[i].id);
        CHECK_EQ_INT(ss.v[i].timeout_ms, three_sessions[i].timeout_ms);
    }
    /* client-visible state: stats, ephemerals, containers and TTL candidates */
    const char *paths[] = {"/", "/a", "/a/e", "/e2", "/c", "/t", "/a/two", "/big", "/zookeeper"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct jute_stat s1, s2;
        struct tree_node *n1 = tree_find(x.t, paths[i]), *n2 = tree_find(t, paths[i]);
        CHECK(n1 && n2);
        if (n1 && n2) {
            tree_node_stat(n1, &s1);
            tree_node_stat(n2, &s2);
            CHECK(tt_stat_eq(&s1, &s2));
        }
    }
    CHECK_EQ_INT(tree_ephemeral_count(t), 3);
    struct jute_str_vec v;
    CHECK_EQ_INT(tree_ephemerals(t, 0x4321, NULL, &x.a, &v), 0);
    CHECK_EQ_INT(v.count, 1);
    CHECK_EQ_INT(tree_reap_candidates(t, x.now + 1000, 0, 10, &x.a, &v), 0);
    CHECK_EQ_INT(v.count, 2); /* /c (used) and /t (expired) */

    /* Encoding the loaded tree gives the same bytes. */
    struct jute_out again;
    jute_out_init(&again);
    CHECK_EQ_INT(snap_encode_buf(t, &p, &again), 0);
    CHECK_EQ_INT(again.len, out.len);
    CHECK(again.len == out.len && memcmp(again.data, out.data, out.len) == 0);

    /* The loaded tree keeps its digest up to date like any other. */
    struct tt y = x;
    y.t = t;
    CHECK_EQ_INT(tt_set(&y, "/a", "changed", -1, NULL), ZOK);
    CHECK_EQ_INT(tt_set(&x, "/a", "changed", -1, NULL), ZOK);
    CHECK_EQ_INT(tree_digest(t), tree_digest(x.t));

    jute_out_close(&again);
    jute_out_close(&out);
    tree_free(t);
    tt_close(&x);
}

/* The layout, byte by byte, of the smallest snapshot: a fresh tree at zxid 0. */
static void test_layout(void)
{
    struct tree *t = tree_new(NULL, NULL);
    struct snap_params p = {.zxid = 0};
    struct jute_out out;
    jute_out_init(&out);
    CHECK_EQ_INT(snap_encode_buf(t, &p, &out), 0);
    const uint8_t *b = out.data;
    static const uint8_t head[] = {
        'Z',  'K',  'S',  'N',  0,    0,    0,    2,   0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0,    0,    0,    0, /* no sessions */
        0,    0,    0,    1,                         /* one ACL list */
        0,    0,    0,    0,    0,    0,    0,    1, /* index 1 */
        0,    0,    0,    1,    0,    0,    0,    1, /* one ACL, READ */
        0,    0,    0,    5,    'w',  'o',  'r',  'l', 'd',  0,    0,    0,
        6,    'a',  'n',  'y',  'o',  'n',  'e',  0,   0,    0,    0, /* path "" */
        0,    0,    0,    0,                                          /* empty data */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff /* acl -1 */};
    CHECK(out.len > sizeof(head) && memcmp(b, head, sizeof(head)) == 0);
    /* the end: "/", seal, empty ZxidDigest (0, 2, 0), seal */
    size_t n = out.len;
    CHECK(n > 60);
    static const uint8_t end_nodes[] = {0, 0, 0, 1, '/'};
    CHECK(memcmp(b + n - 13 - 20 - 13 - 5, end_nodes, 5) == 0);
    uLong a1 = adler32(adler32(0, Z_NULL, 0), b, (uInt)(n - 13 - 20 - 13));
    uLong a2 = adler32(adler32(0, Z_NULL, 0), b, (uInt)(n - 13));
    uint8_t seal1[13] = {
        0, 0, 0, 0,  (uint8_t)(a1 >> 24), (uint8_t)(a1 >> 16), (uint8_t)(a1 >> 8), (uint8_t)a1, 0,
        0, 0, 1, '/'};
    uint8_t seal2[13] = {
        0, 0, 0, 0,  (uint8_t)(a2 >> 24), (uint8_t)(a2 >> 16), (uint8_t)(a2 >> 8), (uint8_t)a2, 0,
        0, 0, 1, '/'};
    static const uint8_t zdig[20] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0};
    CHECK(memcmp(b + n - 46, seal1, 13) == 0);
    CHECK(memcmp(b + n - 33, zdig, 20) == 0);
    CHECK(memcmp(b + n - 13, seal2, 13) == 0);
    /* without the digest, the file ends at the first seal */
    struct jute_out nd;
    jute_out_init(&nd);
    p.no_digest = true;
    CHECK_EQ_INT(snap_encode_buf(t, &p, &nd), 0);
    CHECK_EQ_INT(nd.len, n - 33);
    CHECK(memcmp(nd.data, b, nd.len) == 0);
    jute_out_close(&nd);
    jute_out_close(&out);
    tree_free(t);
}

/* Rewrites the stored digest and re-seals, as a writer with another tree would have. */
static void patch_digest(struct jute_out *out, int64_t zxid, int64_t digest)
{
    size_t at = out->len - 33;
    uint8_t *p = out->data + at;
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)((uint64_t)zxid >> (56 - 8 * i));
    for (int i = 0; i < 8; i++)
        p[12 + i] = (uint8_t)((uint64_t)digest >> (56 - 8 * i));
    uLong a = adler32_z(adler32(0, Z_NULL, 0), out->data, out->len - 13);
    uint8_t *s = out->data + out->len - 13;
    for (int i = 0; i < 8; i++)
        s[i] = (uint8_t)((uint64_t)a >> (56 - 8 * i));
}

static void test_digest_states(void)
{
    struct tt x;
    build(&x);
    struct snap_params p = params(&x);
    struct jute_out out;
    jute_out_init(&out);
    CHECK_EQ_INT(snap_encode_buf(x.t, &p, &out), 0);
    struct tree *t = empty_tree();
    struct snap_info info;
    struct snap_read_opts o = {.zxid = x.zxid};
    /* unknown file zxid: deferred */
    CHECK_EQ_INT(snap_decode_buf(out.data, out.len, NULL, t, NULL, NULL, &info, NULL, 0), 0);
    CHECK_EQ_INT(info.digest_state, SNAP_DIGEST_DEFERRED);
    CHECK_EQ_INT(info.zxid, -1);
    /* a digest for a later zxid (fuzzy): deferred; for an earlier one: ignored */
    o.zxid = x.zxid - 1;
    CHECK_EQ_INT(snap_decode_buf(out.data, out.len, &o, t, NULL, NULL, &info, NULL, 0), 0);
    CHECK_EQ_INT(info.digest_state, SNAP_DIGEST_DEFERRED);
    o.zxid = x.zxid + 1;
    CHECK_EQ_INT(snap_decode_buf(out.data, out.len, &o, t, NULL, NULL, &info, NULL, 0), 0);
    CHECK_EQ_INT(info.digest_state, SNAP_DIGEST_IGNORED);
    /* a wrong digest for the file's zxid: reported, the snapshot still loads */
    o.zxid = x.zxid;
    patch_digest(&out, x.zxid, tree_digest(x.t) + 1);
    CHECK_EQ_INT(snap_decode_buf(out.data, out.len, &o, t, NULL, NULL, &info, NULL, 0), 0);
    CHECK_EQ_INT(info.digest_state, SNAP_DIGEST_MISMATCH);
    CHECK_EQ_INT(info.digest, tree_digest(x.t) + 1);
    CHECK_EQ_INT(info.tree_digest, tree_digest(x.t));
    patch_digest(&out, 0, 0);
    CHECK_EQ_INT(snap_decode_buf(out.data, out.len, &o, t, NULL, NULL, &info, NULL, 0), 0);
    CHECK_EQ_INT(info.digest_state, SNAP_DIGEST_EMPTY);
    /* no digest section */
    jute_out_reset(&out);
    p.no_digest = true;
    CHECK_EQ_INT(snap_encode_buf(x.t, &p, &out), 0);
    CHECK_EQ_INT(snap_decode_buf(out.data, out.len, &o, t, NULL, NULL, &info, NULL, 0), 0);
    CHECK_EQ_INT(info.digest_state, SNAP_DIGEST_NONE);
    CHECK(!info.has_digest);
    CHECK(sd_trees_equal(x.t, t, true));
    jute_out_close(&out);
    tree_free(t);
    tt_close(&x);
}

/* A small snapshot: a few nodes, two sessions. */
static void small_snapshot(struct tt *x, struct jute_out *out)
{
    tt_init(x);
    CHECK_EQ_INT(tt_create(x, "/a", "1", 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(x, "/a/b", NULL, ZOO_EPHEMERAL, NULL, 0), ZOK);
    struct snap_params p = {.zxid = x->zxid, .sessions = three_sessions, .n_sessions = 2};
    jute_out_init(out);
    CHECK_EQ_INT(snap_encode_buf(x->t, &p, out), 0);
}

/* A memory source that hands out at most `chunk` bytes per read. */
struct msrc {
    const uint8_t *p;
    size_t left;
    size_t chunk;
};

static int msrc_read(void *ctx, void *buf, size_t len, size_t *n_read)
{
    struct msrc *m = ctx;
    size_t n = len < m->left ? len : m->left;
    if (m->chunk && n > m->chunk)
        n = m->chunk;
    memcpy(buf, m->p, n);
    m->p += n;
    m->left -= n;
    *n_read = n;
    return 0;
}

static void test_truncation(void)
{
    struct tt x;
    struct jute_out out;
    small_snapshot(&x, &out);
    size_t first_seal_end = out.len - 33;
    struct tree *t = empty_tree();
    for (size_t cut = 0; cut < out.len; cut++) {
        struct sd_sessions ss = {0};
        struct snap_info info;
        char err[256] = "";
        int rc =
            snap_decode_buf(out.data, cut, NULL, t, sd_on_session, &ss, &info, err, sizeof(err));
        /* the parser alone, without the file-level tail check, and in small reads */
        struct msrc m = {.p = out.data, .left = cut, .chunk = 7};
        struct sd_sessions ss2 = {0};
        int rc2 = snap_decode(msrc_read, &m, NULL, t, sd_on_session, &ss2, &info, NULL, 0);
        if (cut == first_seal_end) {
            /* a complete snapshot without a digest, as ZooKeeper before 3.6 writes */
            CHECK_EQ_INT(rc, 0);
            CHECK_EQ_INT(rc2, 0);
            CHECK_EQ_INT(info.digest_state, SNAP_DIGEST_NONE);
            CHECK(sd_trees_equal(x.t, t, true));
            continue;
        }
        CHECK_EQ_INT(rc, PD_ECORRUPT);
        CHECK_EQ_INT(rc2, PD_ECORRUPT);
        CHECK_EQ_INT(ss.n + ss2.n, 0); /* nothing reported from a refused file */
        CHECK(err[0] != '\0');
    }
    tree_free(t);
    jute_out_close(&out);
    tt_close(&x);
}

/* Every byte changed, one at a time: refused (Adler-32 catches every single-byte change). */
static void test_corrupt_byte(void)
{
    struct tt x;
    struct jute_out out;
    small_snapshot(&x, &out);
    uint8_t *copy = malloc(out.len);
    struct tree *t = empty_tree();
    for (size_t i = 0; i < out.len; i++) {
        for (int k = 0; k < 2; k++) {
            memcpy(copy, out.data, out.len);
            copy[i] ^= k ? 0xff : 0x01;
            struct sd_sessions ss = {0};
            char err[256] = "";
            int rc =
                snap_decode_buf(copy, out.len, NULL, t, sd_on_session, &ss, NULL, err, sizeof(err));
            if (rc != PD_ECORRUPT && rc != PD_ETOOBIG)
                fprintf(stderr, "byte %zu ^%d: rc %d\n", i, k, rc);
            CHECK(rc == PD_ECORRUPT || rc == PD_ETOOBIG);
            CHECK_EQ_INT(ss.n, 0);
        }
    }
    /* the message names the problem and the offset */
    memcpy(copy, out.data, out.len);
    copy[30] ^= 1;
    char err[256];
    CHECK_EQ_INT(snap_decode_buf(copy, out.len, NULL, t, NULL, NULL, NULL, err, sizeof(err)),
                 PD_ECORRUPT);
    CHECK(strstr(err, "checksum mismatch") != NULL);
    CHECK(strstr(err, "at byte") != NULL);
    free(copy);
    tree_free(t);
    jute_out_close(&out);
    tt_close(&x);
}

/* ---- files ------------------------------------------------------------------------------ */

#define DIR "/data/version-2"

static struct file_fault *new_fs(void)
{
    struct file_fault *ff = file_fault_new(42);
    struct file_fs *fs = file_fault_fs(ff);
    CHECK_EQ_INT(fs->mkdir(fs, "/data"), 0);
    CHECK_EQ_INT(fs->mkdir(fs, DIR), 0);
    CHECK_EQ_INT(fs->sync_dir(fs, "/"), 0);
    CHECK_EQ_INT(fs->sync_dir(fs, "/data"), 0);
    file_fault_reset_counts(ff);
    return ff;
}

static bool exists(struct file_fs *fs, const char *path)
{
    struct file *f;
    if (fs->open(fs, path, FILE_RDONLY, &f) != 0)
        return false;
    fs->close(fs, f);
    return true;
}

static int count_entries(const char *name, void *arg)
{
    (void)name;
    (*(int *)arg)++;
    return 0;
}

static int dir_entries(struct file_fs *fs, const char *dir)
{
    int n = 0;
    CHECK_EQ_INT(fs->list_dir(fs, dir, count_entries, &n), 0);
    return n;
}

static void write_file(struct file_fs *fs, const char *path, const void *data, size_t len)
{
    struct file *f;
    CHECK_EQ_INT(fs->open(fs, path, FILE_CREATE | FILE_TRUNC | FILE_RDWR, &f), 0);
    CHECK_EQ_INT(fs->pwrite(fs, f, data, len, 0), 0);
    CHECK_EQ_INT(fs->sync(fs, f), 0);
    fs->close(fs, f);
}

static void poke(struct file_fs *fs, const char *path, uint64_t off, uint8_t xor_with)
{
    struct file *f;
    uint8_t b;
    size_t got;
    CHECK_EQ_INT(fs->open(fs, path, FILE_RDWR, &f), 0);
    CHECK_EQ_INT(fs->pread(fs, f, &b, 1, off, &got), 0);
    b ^= xor_with;
    CHECK_EQ_INT(fs->pwrite(fs, f, &b, 1, off), 0);
    fs->close(fs, f);
}

static uint64_t file_size(struct file_fs *fs, const char *path)
{
    struct file *f;
    uint64_t size = 0;
    CHECK_EQ_INT(fs->open(fs, path, FILE_RDONLY, &f), 0);
    fs->size(fs, f, &size);
    fs->close(fs, f);
    return size;
}

static void test_write_and_find(void)
{
    struct file_fault *ff = new_fs();
    struct file_fs *fs = file_fault_fs(ff);
    struct tt x;
    tt_init(&x);
    char err[256];
    struct tree *t = empty_tree();
    struct snap_info info;
    struct sd_sessions ss = {0};
    CHECK_EQ_INT(snap_find_newest(fs, DIR, t, sd_on_session, &ss, &info, err, sizeof(err)),
                 PD_ENOENT);

    /* three snapshots, each with one more node; the newest has more sessions */
    struct tree *img[3];
    const char *names[3] = {DIR "/snapshot.1ff", DIR "/snapshot.2000", DIR "/snapshot.abcdef"};
    int64_t zxids[3] = {0x1ff, 0x2000, 0xabcdef};
    for (int i = 0; i < 3; i++) {
        char path[32];
        snprintf(path, sizeof(path), "/n%d", i);
        CHECK_EQ_INT(tt_create(&x, path, "v", 0, NULL, 0), ZOK);
        struct snap_params p = {
            .zxid = zxids[i], .sessions = three_sessions, .n_sessions = (size_t)i + 1};
        int rc = snap_write(fs, DIR, x.t, &p, err, sizeof(err));
        if (rc)
            fprintf(stderr, "snap_write: %s\n", err);
        CHECK_EQ_INT(rc, 0);
        CHECK(exists(fs, names[i]));
        img[i] = empty_tree();
        CHECK_EQ_INT(snap_load_file(fs, names[i], img[i], NULL, NULL, &info, err, sizeof(err)), 0);
        CHECK_EQ_INT(info.zxid, zxids[i]);
        CHECK_EQ_INT(info.digest_state, SNAP_DIGEST_MATCH);
    }
    CHECK_EQ_INT(dir_entries(fs, DIR), 3); /* no temporary file left */
    CHECK_EQ_INT(file_fault_unsynced_bytes(ff), 0);

    /* names ZooKeeper's scan ignores or cannot read; the temporary one holds a valid image */
    struct jute_out out;
    jute_out_init(&out);
    struct snap_params p = {.zxid = 0xfffffff};
    CHECK_EQ_INT(snap_encode_buf(x.t, &p, &out), 0);
    write_file(fs, DIR "/" SNAP_TMP_PREFIX "fffffff", out.data, out.len);
    write_file(fs, DIR "/snapshot.fffffff0.gz", out.data, out.len);
    write_file(fs, DIR "/snapshot.xyz", out.data, out.len);
    write_file(fs, DIR "/log.1", out.data, out.len);
    write_file(fs, DIR "/snapshot.", out.data, out.len);
    jute_out_close(&out);

    ss.n = 0;
    CHECK_EQ_INT(snap_find_newest(fs, DIR, t, sd_on_session, &ss, &info, err, sizeof(err)), 0);
    CHECK_EQ_INT(info.zxid, 0xabcdef);
    CHECK_EQ_STR(info.name, "snapshot.abcdef");
    CHECK_EQ_INT(ss.n, 3);
    CHECK(sd_trees_equal(t, img[2], true));
    CHECK(sd_trees_equal(t, x.t, true));

    /* a corrupt byte in the middle of the newest: the one before it */
    poke(fs, names[2], file_size(fs, names[2]) / 2, 0x20);
    ss.n = 0;
    CHECK_EQ_INT(snap_find_newest(fs, DIR, t, sd_on_session, &ss, &info, err, sizeof(err)), 0);
    CHECK_EQ_INT(info.zxid, 0x2000);
    CHECK_EQ_INT(ss.n, 2); /* only the chosen file's sessions */
    CHECK(sd_trees_equal(t, img[1], true));
    check_tree(t);

    /* that one truncated too (no final "/"): the oldest */
    struct file *f;
    CHECK_EQ_INT(fs->open(fs, names[1], FILE_RDWR, &f), 0);
    CHECK_EQ_INT(fs->truncate(fs, f, file_size(fs, names[1]) - 3), 0);
    fs->close(fs, f);
    CHECK_EQ_INT(snap_load_file(fs, names[1], t, NULL, NULL, NULL, err, sizeof(err)), PD_ECORRUPT);
    ss.n = 0;
    CHECK_EQ_INT(snap_find_newest(fs, DIR, t, sd_on_session, &ss, &info, err, sizeof(err)), 0);
    CHECK_EQ_INT(info.zxid, 0x1ff);
    CHECK_EQ_INT(ss.n, 1);
    CHECK(sd_trees_equal(t, img[0], true));

    /* all bad: some passed the validity check, none decoded -> refuse */
    poke(fs, names[0], 20, 0x01);
    CHECK_EQ_INT(snap_find_newest(fs, DIR, t, NULL, NULL, &info, err, sizeof(err)), PD_ECORRUPT);
    CHECK(strstr(err, DIR) != NULL);

    /* only invalid (truncated) files: as if there were none, tree untouched */
    fs->unlink(fs, names[0]);
    fs->unlink(fs, names[2]);
    struct tree *fresh = empty_tree();
    CHECK_EQ_INT(snap_find_newest(fs, DIR, fresh, NULL, NULL, &info, err, sizeof(err)), PD_ENOENT);
    CHECK_EQ_INT(tree_node_count(fresh), 5);
    tree_free(fresh);

    for (int i = 0; i < 3; i++)
        tree_free(img[i]);
    tree_free(t);
    tt_close(&x);
    file_fault_free(ff);
}

static int count_prefixed(const char *name, void *arg)
{
    if (strncmp(name, "snapshot.", 9) == 0 || strncmp(name, SNAP_TMP_PREFIX, 13) == 0)
        (*(int *)arg)++;
    return 0;
}

/* Failing open, write, fsync, close or rename at the Nth call: no snapshot, no leftover. */
static void test_write_faults(void)
{
    struct tt x;
    build(&x);
    struct snap_params p = params(&x);
    static const enum file_fault_kind kinds[] = {FF_OPEN, FF_WRITE, FF_SYNC, FF_CLOSE, FF_RENAME};
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        for (long nth = 1; nth <= 4; nth++) {
            struct file_fault *ff = new_fs();
            struct file_fs *fs = file_fault_fs(ff);
            file_fault_reset_counts(ff);
            file_fault_fail(ff, kinds[k], nth, PD_EIO, 1);
            char err[256] = "";
            int rc = snap_write(fs, DIR, x.t, &p, err, sizeof(err));
            bool failed = file_fault_calls(ff, kinds[k]) >= nth;
            file_fault_clear(ff);
            int n = 0;
            fs->list_dir(fs, DIR, count_prefixed, &n);
            if (failed) {
                CHECK_EQ_INT(rc, PD_EIO);
                CHECK(err[0] != '\0');
                CHECK_EQ_INT(n, 0);
            } else {
                CHECK_EQ_INT(rc, 0);
                CHECK_EQ_INT(n, 1);
            }
            /* and then it works */
            CHECK_EQ_INT(snap_write(fs, DIR, x.t, &p, err, sizeof(err)), 0);
            struct tree *t = empty_tree();
            struct snap_info info;
            CHECK_EQ_INT(snap_find_newest(fs, DIR, t, NULL, NULL, &info, err, sizeof(err)), 0);
            CHECK(sd_trees_equal(t, x.t, true));
            tree_free(t);
            file_fault_free(ff);
        }
    }
    /* the directory fsync fails: complete file, error reported */
    struct file_fault *ff = new_fs();
    struct file_fs *fs = file_fault_fs(ff);
    file_fault_fail(ff, FF_SYNC_DIR, 1, PD_EIO, 1);
    char err[256];
    CHECK_EQ_INT(snap_write(fs, DIR, x.t, &p, err, sizeof(err)), PD_EIO);
    CHECK(strstr(err, "fsync") != NULL);
    file_fault_free(ff);

    /* a full disk: PD_ENOSPC, the temporary file removed */
    ff = new_fs();
    fs = file_fault_fs(ff);
    file_fault_set_capacity(ff, 50000);
    CHECK_EQ_INT(snap_write(fs, DIR, x.t, &p, err, sizeof(err)), PD_ENOSPC);
    int n = 0;
    fs->list_dir(fs, DIR, count_prefixed, &n);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(file_fault_used(ff), 0);
    file_fault_free(ff);
    tt_close(&x);
}

/* snap_write_buf (the server's in-process snapshots): the same file as snap_write, and the
 * same atomicity under every fault. */
static void test_write_buf(void)
{
    struct tt x;
    build(&x);
    struct snap_params p = params(&x);
    struct jute_out enc;
    jute_out_init(&enc);
    CHECK_EQ_INT(snap_encode_buf(x.t, &p, &enc), 0);
    static const enum file_fault_kind kinds[] = {FF_OPEN, FF_WRITE, FF_SYNC, FF_CLOSE, FF_RENAME};
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        struct file_fault *ff = new_fs();
        struct file_fs *fs = file_fault_fs(ff);
        file_fault_fail(ff, kinds[k], 1, PD_EIO, 1);
        char err[256] = "";
        CHECK_EQ_INT(snap_write_buf(fs, DIR, p.zxid, enc.data, enc.len, err, sizeof(err)), PD_EIO);
        CHECK(err[0] != '\0');
        file_fault_clear(ff);
        int n = 0;
        fs->list_dir(fs, DIR, count_prefixed, &n);
        CHECK_EQ_INT(n, 0);
        /* and then it works, and reads back as the tree */
        CHECK_EQ_INT(snap_write_buf(fs, DIR, p.zxid, enc.data, enc.len, err, sizeof(err)), 0);
        struct tree *t = empty_tree();
        struct snap_info info;
        CHECK_EQ_INT(snap_find_newest(fs, DIR, t, NULL, NULL, &info, err, sizeof(err)), 0);
        CHECK(sd_trees_equal(t, x.t, true));
        CHECK(info.zxid == p.zxid);
        tree_free(t);
        file_fault_free(ff);
    }
    /* byte for byte what snap_write writes */
    struct file_fault *ff = new_fs();
    struct file_fs *fs = file_fault_fs(ff);
    char err[256];
    CHECK_EQ_INT(snap_write(fs, DIR, x.t, &p, err, sizeof(err)), 0);
    char path[256];
    snprintf(path, sizeof(path), "%s/snapshot.%" PRIx64, DIR, (uint64_t)p.zxid);
    struct file *f;
    CHECK_EQ_INT(fs->open(fs, path, FILE_RDONLY, &f), 0);
    uint64_t size = 0;
    CHECK_EQ_INT(fs->size(fs, f, &size), 0);
    CHECK(size == enc.len);
    uint8_t *back = malloc(enc.len ? enc.len : 1);
    size_t got = 0;
    CHECK_EQ_INT(fs->pread(fs, f, back, enc.len, 0, &got), 0);
    CHECK(got == enc.len && memcmp(back, enc.data, enc.len) == 0);
    free(back);
    fs->close(fs, f);
    /* a full disk: PD_ENOSPC, nothing left behind */
    file_fault_free(ff);
    ff = new_fs();
    fs = file_fault_fs(ff);
    file_fault_set_capacity(ff, 50000);
    CHECK_EQ_INT(snap_write_buf(fs, DIR, p.zxid, enc.data, enc.len, err, sizeof(err)), PD_ENOSPC);
    CHECK_EQ_INT(file_fault_used(ff), 0);
    file_fault_free(ff);
    jute_out_close(&enc);
    tt_close(&x);
}

/* A snapshot file larger than a few write-back steps (1 MiB) asks for write-back as it grows,
 * and a failure of any of those calls fails the snapshot: nothing is left behind. */
static void test_write_trickle(void)
{
    enum { PIECE = 64 * 1024, PIECES = 48 }; /* 3 MiB */
    uint8_t *piece = malloc(PIECE);
    for (size_t i = 0; i < PIECE; i++)
        piece[i] = (uint8_t)(i * 7);
    long calls = 0;
    for (long nth = 0; nth <= 8; nth++) {
        struct file_fault *ff = new_fs();
        struct file_fs *fs = file_fault_fs(ff);
        if (nth)
            file_fault_fail(ff, FF_WRITEBACK, nth, PD_EIO, 1);
        char err[256] = "";
        struct snap_file *sf;
        CHECK_EQ_INT(snap_file_open(fs, DIR, 0x42, &sf, err, sizeof(err)), 0);
        int first_rc = 0;
        for (int i = 0; i < PIECES; i++) {
            int rc = snap_file_append(sf, piece, PIECE);
            if (rc && !first_rc)
                first_rc = rc;
            if (first_rc)
                CHECK_EQ_INT(rc, first_rc); /* sticky */
        }
        int rc = snap_file_commit(sf, err, sizeof(err));
        int n = 0;
        fs->list_dir(fs, DIR, count_prefixed, &n);
        if (nth == 0) {
            calls = file_fault_calls(ff, FF_WRITEBACK);
            CHECK(calls >= 3);
            CHECK_EQ_INT(first_rc, 0);
            CHECK_EQ_INT(rc, 0);
            CHECK_EQ_INT(n, 1);
        } else if (nth <= calls) {
            CHECK_EQ_INT(first_rc, PD_EIO);
            CHECK_EQ_INT(rc, PD_EIO);
            CHECK(strstr(err, "write") != NULL);
            CHECK_EQ_INT(n, 0);
        } else {
            CHECK_EQ_INT(rc, 0);
            CHECK_EQ_INT(n, 1);
        }
        file_fault_free(ff);
    }
    free(piece);
}

/* A power failure right after snap_write returned keeps the snapshot whole. */
static void test_crash_after_write(void)
{
    struct tt x;
    build(&x);
    struct snap_params p = params(&x);
    for (uint64_t seed = 1; seed <= 20; seed++) {
        struct file_fault *ff = new_fs();
        struct file_fs *fs = file_fault_fs(ff);
        file_fault_seed(ff, seed);
        char err[256];
        CHECK_EQ_INT(snap_write(fs, DIR, x.t, &p, err, sizeof(err)), 0);
        /* a second snapshot is cut short by the crash (never synced, never renamed) */
        struct file *f;
        CHECK_EQ_INT(fs->open(fs, DIR "/" SNAP_TMP_PREFIX "ffff", FILE_CREATE | FILE_RDWR, &f), 0);
        CHECK_EQ_INT(fs->pwrite(fs, f, "ZKSN", 4, 0), 0);
        fs->close(fs, f);
        CHECK_EQ_INT(file_fault_crash(ff, FILE_FAULT_CRASH_SECTORS), 0);
        struct tree *t = empty_tree();
        struct snap_info info;
        CHECK_EQ_INT(snap_find_newest(fs, DIR, t, NULL, NULL, &info, err, sizeof(err)), 0);
        CHECK_EQ_INT(info.zxid, x.zxid);
        CHECK(sd_trees_equal(t, x.t, true));
        tree_free(t);
        file_fault_free(ff);
    }
    tt_close(&x);
}

/* ---- bounded memory ---------------------------------------------------------------------- */

struct chunk_sink {
    size_t max_chunk;
    size_t n_chunks;
    size_t total;
    size_t big;
};

static int chunk_sink(void *ctx, const void *data, size_t len)
{
    struct chunk_sink *s = ctx;
    (void)data;
    if (len != s->big && len > s->max_chunk)
        s->max_chunk = len;
    s->n_chunks++;
    s->total += len;
    return 0;
}

static void test_streaming(void)
{
    struct tt x;
    build(&x);
    /* many nodes: the encoder's buffer and allocations must not grow with them */
    for (int i = 0; i < 3000; i++) {
        char path[32];
        snprintf(path, sizeof(path), "/many%d", i);
        CHECK_EQ_INT(tt_create(&x, path, "0123456789012345678901234567890123456789", 0, NULL, 0),
                     ZOK);
    }
    struct snap_params p = params(&x);
    struct chunk_sink s = {.big = 100000};
    pd_alloc_fail_after(-1, 0);
    CHECK_EQ_INT(snap_encode(x.t, &p, chunk_sink, &s), 0);
    long allocs = pd_alloc_fail_after(-1, 0);
    CHECK(allocs < 32);
    CHECK(s.max_chunk <= (64u << 10) + 512);
    CHECK(s.n_chunks > 3);

    /* reading in small pieces, and in one piece, give the same tree */
    struct jute_out out;
    jute_out_init(&out);
    CHECK_EQ_INT(snap_encode_buf(x.t, &p, &out), 0);
    CHECK_EQ_INT(out.len, s.total);
    for (size_t chunk = 1; chunk <= 1u << 20; chunk *= 64) {
        struct tree *t = empty_tree();
        struct msrc m = {.p = out.data, .left = out.len, .chunk = chunk};
        struct snap_info info;
        struct snap_read_opts o = {.zxid = x.zxid};
        CHECK_EQ_INT(snap_decode(msrc_read, &m, &o, t, NULL, NULL, &info, NULL, 0), 0);
        CHECK_EQ_INT(info.digest_state, SNAP_DIGEST_MATCH);
        CHECK(sd_trees_equal(t, x.t, true));
        tree_free(t);
    }
    /* a field longer than the reader's limit is refused before it is read */
    struct tree *t = empty_tree();
    struct snap_read_opts o = {.max_field = 50000};
    char err[256];
    CHECK_EQ_INT(snap_decode_buf(out.data, out.len, &o, t, NULL, NULL, NULL, err, sizeof(err)),
                 PD_ETOOBIG);
    CHECK(strstr(err, "data") != NULL);
    tree_free(t);
    jute_out_close(&out);
    tt_close(&x);
}

/* snap_parse visits every record and judges the digest without a tree. */
struct counts {
    int sessions, acls, nodes;
    bool saw_big;
};

static int c_session(void *arg, int64_t id, int32_t to)
{
    (void)id;
    (void)to;
    ((struct counts *)arg)->sessions++;
    return 0;
}

static int c_acl(void *arg, int64_t index, const struct jute_acl_vec *acl)
{
    (void)index;
    (void)acl;
    ((struct counts *)arg)->acls++;
    return 0;
}

static int c_node(void *arg, const char *path, size_t len, struct jute_buf data, int64_t acl,
                  const struct jute_stat_persisted *st)
{
    (void)acl;
    (void)st;
    struct counts *c = arg;
    c->nodes++;
    if (strcmp(path, "/big") == 0 && len == 4 && data.len == 100000 && data.data[25] == 'z')
        c->saw_big = true;
    return c->nodes == 1000 ? 77 : 0;
}

static void test_parse(void)
{
    struct tt x;
    build(&x);
    struct snap_params p = params(&x);
    struct jute_out out;
    jute_out_init(&out);
    CHECK_EQ_INT(snap_encode_buf(x.t, &p, &out), 0);
    struct msrc m = {.p = out.data, .left = out.len};
    struct counts c = {0};
    struct snap_visitor v = {.session = c_session, .acl = c_acl, .node = c_node};
    struct snap_info info;
    struct snap_read_opts o = {.zxid = x.zxid};
    CHECK_EQ_INT(snap_parse(msrc_read, &m, &o, &v, &c, &info, NULL, 0), 0);
    CHECK_EQ_INT(c.sessions, 3);
    CHECK_EQ_INT(c.acls, info.n_acls);
    CHECK_EQ_INT(c.nodes, info.n_nodes);
    CHECK(c.saw_big);
    CHECK_EQ_INT(info.tree_digest, tree_digest(x.t));
    CHECK_EQ_INT(info.digest_state, SNAP_DIGEST_MATCH);
    /* a visitor's error stops the parse */
    for (int i = 0; i < 1000; i++)
        CHECK_EQ_INT(tt_create(&x, "/s-", NULL, ZOO_PERSISTENT_SEQUENTIAL, NULL, 0), ZOK);
    jute_out_reset(&out);
    CHECK_EQ_INT(snap_encode_buf(x.t, &p, &out), 0);
    m = (struct msrc){.p = out.data, .left = out.len};
    c = (struct counts){0};
    CHECK_EQ_INT(snap_parse(msrc_read, &m, NULL, &v, &c, &info, NULL, 0), 77);
    CHECK_EQ_INT(c.nodes, 1000);
    jute_out_close(&out);
    tt_close(&x);
}

static void test_names(void)
{
    CHECK_EQ_INT(snap_name_zxid("snapshot.0"), 0);
    CHECK_EQ_INT(snap_name_zxid("snapshot.1a2B"), 0x1a2b);
    CHECK_EQ_INT(snap_name_zxid("snapshot.7fffffffffffffff"), INT64_MAX);
    CHECK_EQ_INT(snap_name_zxid("snapshot.8000000000000000"), -1); /* parseLong overflows */
    CHECK_EQ_INT(snap_name_zxid("snapshot.100.tmp"), 0x100);       /* as ZooKeeper reads it */
    CHECK_EQ_INT(snap_name_zxid("snapshot.100.gz"), 0x100);
    CHECK_EQ_INT(snap_name_zxid("snapshot."), -1);
    CHECK_EQ_INT(snap_name_zxid("snapshot"), -1);
    CHECK_EQ_INT(snap_name_zxid("snapshot.xyz"), -1);
    CHECK_EQ_INT(snap_name_zxid("snapshot..1"), -1);
    CHECK_EQ_INT(snap_name_zxid(SNAP_TMP_PREFIX "100"), -1);
    CHECK_EQ_INT(snap_name_zxid("log.100"), -1);
    CHECK_EQ_INT(snap_name_zxid("Snapshot.1"), -1);
}

/* ---- snapshots past a cut ------------------------------------------------------------- */

static void test_drop_newer(void)
{
    struct file_fault *ff = file_fault_new(11);
    struct file_fs *fs = file_fault_fs(ff);
    CHECK_EQ_INT(fs->mkdir(fs, "/d"), 0);
    CHECK_EQ_INT(fs->sync_dir(fs, "/"), 0);
    static const char *const names[] = {"snapshot.5",         "snapshot.a", "snapshot.1f.gz",
                                        SNAP_TMP_PREFIX "30", "log.40",     "snapshot.junk"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[64];
        snprintf(path, sizeof(path), "/d/%s", names[i]);
        CHECK_EQ_INT(st_write_file(fs, path, (const uint8_t *)"x", 1), 0);
    }
    char err[256] = "";
    /* nothing past 0x1f: nothing removed, nothing synced */
    file_fault_reset_counts(ff);
    CHECK_EQ_INT(snap_drop_newer(fs, "/d", 0x1f, err, sizeof(err)), 0);
    CHECK_EQ_INT(file_fault_calls(ff, FF_SYNC_DIR), 0);
    /* past 0x9: snapshot.a and snapshot.1f.gz go, durably; the rest stays */
    CHECK_EQ_INT(snap_drop_newer(fs, "/d", 0x9, err, sizeof(err)), 2);
    CHECK_EQ_INT(file_fault_calls(ff, FF_SYNC_DIR), 1);
    CHECK(exists(fs, "/d/snapshot.5"));
    CHECK(!exists(fs, "/d/snapshot.a"));
    CHECK(!exists(fs, "/d/snapshot.1f.gz"));
    CHECK(exists(fs, "/d/" SNAP_TMP_PREFIX "30"));
    CHECK(exists(fs, "/d/log.40"));
    CHECK(exists(fs, "/d/snapshot.junk"));
    CHECK_EQ_INT(file_fault_crash(ff, 0), 0); /* a power failure: the removals were synced */
    CHECK(!exists(fs, "/d/snapshot.a"));
    CHECK(!exists(fs, "/d/snapshot.1f.gz"));
    CHECK(exists(fs, "/d/snapshot.5"));
    /* a missing directory has nothing to drop */
    CHECK_EQ_INT(snap_drop_newer(fs, "/nodir", 0, err, sizeof(err)), 0);
    /* failures say where */
    CHECK_EQ_INT(st_write_file(fs, "/d/snapshot.b", (const uint8_t *)"x", 1), 0);
    file_fault_fail(ff, FF_UNLINK, 1, PD_EIO, 1);
    CHECK_EQ_INT(snap_drop_newer(fs, "/d", 0x5, err, sizeof(err)), PD_EIO);
    CHECK(strstr(err, "removing /d/snapshot.b") != NULL);
    file_fault_fail(ff, FF_SYNC_DIR, 1, PD_EIO, 1);
    CHECK_EQ_INT(snap_drop_newer(fs, "/d", 0x5, err, sizeof(err)), PD_EIO);
    CHECK(strstr(err, "syncing /d") != NULL);
    file_fault_fail(ff, FF_LIST, 1, PD_EIO, 1);
    CHECK_EQ_INT(snap_drop_newer(fs, "/d", 0x5, err, sizeof(err)), PD_EIO);
    CHECK(strstr(err, "listing /d") != NULL);
    file_fault_free(ff);
}

/* ---- a forked child writes the parent's copy-on-write tree ------------------------------ */

static void test_fork_child(void)
{
    struct tt x;
    build(&x);
    char tmpl[] = "/tmp/pd-snap-XXXXXX";
    char *dir = mkdtemp(tmpl);
    CHECK(dir != NULL);
    if (!dir)
        return;
    struct file_fs fs;
    file_posix_init(&fs);
    struct snap_params p = params(&x);
    struct tree *before = empty_tree();
    struct jute_out out;
    jute_out_init(&out);
    CHECK_EQ_INT(snap_encode_buf(x.t, &p, &out), 0);
    CHECK_EQ_INT(snap_decode_buf(out.data, out.len, NULL, before, NULL, NULL, NULL, NULL, 0), 0);
    jute_out_close(&out);

    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        char err[256];
        int rc = snap_write(&fs, dir, x.t, &p, err, sizeof(err));
        if (rc)
            fprintf(stderr, "child: %s\n", err);
        _exit(rc == 0 ? 0 : 1);
    }
    /* the parent keeps writing; the child's snapshot is the image at fork time */
    CHECK_EQ_INT(tt_set(&x, "/a", "after fork", -1, NULL), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/after", "x", 0, NULL, 0), ZOK);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    struct tree *t = empty_tree();
    struct snap_info info;
    char err[256];
    int rc = snap_find_newest(&fs, dir, t, NULL, NULL, &info, err, sizeof(err));
    if (rc)
        fprintf(stderr, "find: %s\n", err);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(info.zxid, p.zxid);
    CHECK_EQ_INT(info.digest_state, SNAP_DIGEST_MATCH);
    CHECK(sd_trees_equal(t, before, true));
    CHECK(tree_find(t, "/after") == NULL);
    tree_free(t);
    tree_free(before);

    char path[512];
    snprintf(path, sizeof(path), "%s/snapshot.%llx", dir, (unsigned long long)p.zxid);
    unlink(path);
    rmdir(dir);
    tt_close(&x);
}

/* ---- OOM sweeps --------------------------------------------------------------------------- */

static void test_oom_encode(void)
{
    struct tt x;
    build(&x);
    struct snap_params p = params(&x);
    struct jute_out ref;
    jute_out_init(&ref);
    CHECK_EQ_INT(snap_encode_buf(x.t, &p, &ref), 0);
    for (long n = 0;; n++) {
        struct jute_out out;
        jute_out_init(&out);
        pd_alloc_fail_after(n, 1);
        int rc = snap_encode_buf(x.t, &p, &out);
        long made = pd_alloc_fail_after(-1, 0);
        if (rc == 0) {
            CHECK(out.len == ref.len && memcmp(out.data, ref.data, ref.len) == 0);
            jute_out_close(&out);
            if (made <= n)
                break; /* nothing failed: every allocation has been tried */
            continue;
        }
        CHECK_EQ_INT(rc, PD_ENOMEM);
        jute_out_close(&out);
    }
    jute_out_close(&ref);
    tt_close(&x);
}

static void test_oom_decode(void)
{
    struct tt x;
    build(&x);
    struct snap_params p = params(&x);
    struct jute_out out;
    jute_out_init(&out);
    CHECK_EQ_INT(snap_encode_buf(x.t, &p, &out), 0);
    struct tree *t = empty_tree();
    int sweeps = 0;
    for (long n = 0;; n++) {
        struct sd_sessions ss = {0};
        pd_alloc_fail_after(n, 1);
        int rc = snap_decode_buf(out.data, out.len, NULL, t, sd_on_session, &ss, NULL, NULL, 0);
        long made = pd_alloc_fail_after(-1, 0);
        sweeps++;
        if (rc == 0) {
            check_tree(t);
            CHECK(sd_trees_equal(t, x.t, true));
            CHECK_EQ_INT(ss.n, 3);
            if (made <= n)
                break;
            continue;
        }
        CHECK_EQ_INT(rc, PD_ENOMEM);
        CHECK_EQ_INT(ss.n, 0);
    }
    CHECK(sweeps > 20);
    tree_free(t);
    jute_out_close(&out);
    tt_close(&x);
}

static void test_oom_files(void)
{
    struct tt x;
    build(&x);
    struct snap_params p = params(&x);
    struct file_fault *ff = new_fs();
    struct file_fs *fs = file_fault_fs(ff);
    char err[256];
    for (long n = 0;; n++) {
        pd_alloc_fail_after(n, 1);
        int rc = snap_write(fs, DIR, x.t, &p, err, sizeof(err));
        long made = pd_alloc_fail_after(-1, 0);
        CHECK(rc == 0 || rc == PD_ENOMEM);
        if (rc == 0 && made <= n)
            break;
    }
    p.zxid = 1; /* an older one too, so the scan lists several */
    CHECK_EQ_INT(snap_write(fs, DIR, x.t, &p, err, sizeof(err)), 0);
    struct tree *t = empty_tree();
    for (long n = 0;; n++) {
        struct snap_info info;
        pd_alloc_fail_after(n, 1);
        int rc = snap_find_newest(fs, DIR, t, NULL, NULL, &info, err, sizeof(err));
        long made = pd_alloc_fail_after(-1, 0);
        if (rc == 0) {
            /* never the older file because of an allocation failure */
            CHECK_EQ_INT(info.zxid, x.zxid);
            CHECK(sd_trees_equal(t, x.t, true));
            if (made <= n)
                break;
            continue;
        }
        CHECK_EQ_INT(rc, PD_ENOMEM);
    }
    tree_free(t);
    file_fault_free(ff);
    tt_close(&x);
}

int main(void)
{
    RUN(test_round_trip);
    RUN(test_layout);
    RUN(test_digest_states);
    RUN(test_truncation);
    RUN(test_corrupt_byte);
    RUN(test_write_and_find);
    RUN(test_write_faults);
    RUN(test_write_buf);
    RUN(test_write_trickle);
    RUN(test_crash_after_write);
    RUN(test_streaming);
    RUN(test_parse);
    RUN(test_names);
    RUN(test_drop_newer);
    RUN(test_fork_child);
    RUN(test_oom_encode);
    RUN(test_oom_decode);
    RUN(test_oom_files);
    return t_done();
}
