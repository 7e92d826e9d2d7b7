/*
 * Fuzzy snapshots (snap_enc_*): a snapshot encoded a few nodes at a time
 * while random txns of every kind are applied between the slices (creates,
 * sequential, ephemeral, container and TTL creates, deletes, setData of
 * every size, setACL to lists interned after the start, multi, createSession
 * and closeSession with ephemerals, and failed requests' ErrorTxns) is
 * loaded and the log after its zxid replayed over it, as recovery does: the
 * result must equal the live tree (stat, data, ACL contents, digest,
 * ephemerals and sessions), the stored digest must be the live tree's at the
 * zxid it names, and that zxid the last one applied before the last slice.
 */
#include "../tree/tree_test.h"

#include "storage/snapshot.h"
#include "storage/txn.h"

#define MAXT 4096

struct fz {
    struct tt x;
    uint8_t *rec[MAXT]; /* encoded txns (plain malloc) */
    size_t rec_len[MAXT];
    int n_rec;
    int64_t sessions[8];
    int n_sessions;
    uint64_t rng;
};

static uint32_t fz_rnd(struct fz *f, uint32_t n)
{
    f->rng = f->rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(f->rng >> 33) % n;
}

/* Preps, logs and applies one write as the given session; its client error. */
static int32_t fz_write(struct fz *f, int64_t session, int32_t op, const void *req, int32_t n)
{
    f->x.session = session;
    struct tree_txn txn;
    struct tree_result res;
    int32_t err = tt_prep(&f->x, op, req, n, &txn);
    struct jute_out o;
    jute_out_init(&o);
    CHECK_EQ_INT(txn_encode(&o, &txn, NULL), 0);
    CHECK(f->n_rec < MAXT);
    if (f->n_rec < MAXT) {
        f->rec[f->n_rec] = malloc(o.len);
        memcpy(f->rec[f->n_rec], o.data, o.len);
        f->rec_len[f->n_rec] = o.len;
        f->n_rec++;
    }
    jute_out_close(&o);
    tt_apply(&f->x, &txn, &res);
    arena_reset(&f->x.a);
    return err;
}

static struct jute_acl acl_items[] = {
    {.perms = ZOO_PERM_ALL, .id = {.scheme = "world", .id = "anyone"}},
    {.perms = ZOO_PERM_READ, .id = {.scheme = "ip", .id = "10.0.0.0/8"}},
    {.perms = ZOO_PERM_ALL, .id = {.scheme = "digest", .id = "u:Zm9vYmFyYmF6cXV4"}},
};

/* A list: one of a few known ones, or (k >= 3) a new one every time. */
static struct jute_acl_vec pick_acl(struct fz *f, struct jute_acl *buf, char *idbuf, size_t idlen)
{
    uint32_t k = fz_rnd(f, 5);
    if (k < 3)
        return (struct jute_acl_vec){.count = 1, .items = &acl_items[k]};
    snprintf(idbuf, idlen, "n%u:Zm9v", fz_rnd(f, 1000000));
    buf[0] = (struct jute_acl){.perms = ZOO_PERM_ALL, .id = {.scheme = "digest", .id = idbuf}};
    buf[1] = acl_items[1];
    return (struct jute_acl_vec){.count = 2, .items = buf};
}

static void random_path(struct fz *f, char *out, size_t len)
{
    int depth = 1 + (int)fz_rnd(f, 3);
    size_t at = 0;
    for (int i = 0; i < depth; i++)
        at += (size_t)snprintf(out + at, len - at, "/%c", 'a' + fz_rnd(f, 3));
}

static void random_txn(struct fz *f)
{
    char path[64], path2[64], idbuf[32], data[2100];
    struct jute_acl aclbuf[2];
    random_path(f, path, sizeof(path));
    size_t dlen = fz_rnd(f, 8) == 0 ? fz_rnd(f, 2000) : fz_rnd(f, 20);
    memset(data, 'a' + (int)fz_rnd(f, 26), dlen);
    data[dlen] = '\0';
    int64_t sid = f->sessions[fz_rnd(f, (uint32_t)f->n_sessions)];
    switch (fz_rnd(f, 12)) {
    case 0:
    case 1: {
        static const int32_t flags[] = {0, ZOO_EPHEMERAL, ZOO_PERSISTENT_SEQUENTIAL,
                                        ZOO_EPHEMERAL_SEQUENTIAL};
        struct jute_create_request r = tt_creq(path, data, flags[fz_rnd(f, 4)]);
        r.acl = pick_acl(f, aclbuf, idbuf, sizeof(idbuf));
        fz_write(f, sid, fz_rnd(f, 2) ? ZOO_OP_CREATE : ZOO_OP_CREATE2, &r, 1);
        break;
    }
    case 2: {
        struct jute_create_request r = tt_creq(path, data, ZOO_CONTAINER);
        fz_write(f, sid, ZOO_OP_CREATECONTAINER, &r, 1);
        break;
    }
    case 3: {
        struct jute_create_request r = tt_creq(path, data, ZOO_PERSISTENT_WITH_TTL);
        r.ttl = 1000;
        fz_write(f, sid, ZOO_OP_CREATETTL, &r, 1);
        break;
    }
    case 4:
    case 5:
    case 6: {
        struct jute_path_version_request r = {.path = path, .version = -1};
        fz_write(f, sid, ZOO_OP_DELETE, &r, 1);
        break;
    }
    case 7:
    case 8: {
        struct jute_set_data_request r = {
            .path = path,
            .data = {.data = (const uint8_t *)data, .len = (int32_t)dlen},
            .version = -1};
        fz_write(f, sid, ZOO_OP_SETDATA, &r, 1);
        break;
    }
    case 9: {
        struct jute_set_acl_request r = {
            .path = path, .acl = pick_acl(f, aclbuf, idbuf, sizeof(idbuf)), .version = -1};
        fz_write(f, sid, ZOO_OP_SETACL, &r, 1);
        break;
    }
    case 10: {
        random_path(f, path2, sizeof(path2));
        struct tree_multi_op ops[3];
        memset(ops, 0, sizeof(ops));
        ops[0].type = ZOO_OP_CREATE;
        ops[0].req.create = tt_creq(path, data, fz_rnd(f, 2) ? ZOO_PERSISTENT_SEQUENTIAL : 0);
        ops[1].type = ZOO_OP_SETDATA;
        ops[1].req.set_data = (struct jute_set_data_request){
            .path = path2, .data = {.data = (const uint8_t *)"m", .len = 1}, .version = -1};
        ops[2].type = ZOO_OP_DELETE;
        random_path(f, path2, sizeof(path2));
        ops[2].req.path_version = (struct jute_path_version_request){.path = path2, .version = -1};
        fz_write(f, sid, ZOO_OP_MULTI, ops, 1 + (int32_t)fz_rnd(f, 3));
        break;
    }
    default: {
        /* a session comes or goes (with its ephemerals) */
        if (f->n_sessions < 8 && fz_rnd(f, 2)) {
            int64_t nsid = 0x5000 + f->n_sessions + (int64_t)fz_rnd(f, 1000) * 16;
            for (int i = 0; i < f->n_sessions; i++)
                if (f->sessions[i] == nsid)
                    return;
            int32_t timeout = 30000;
            fz_write(f, nsid, ZOO_OP_CREATESESSION, &timeout, 1);
            f->sessions[f->n_sessions++] = nsid;
        } else if (f->n_sessions > 1) {
            int i = (int)fz_rnd(f, (uint32_t)f->n_sessions);
            fz_write(f, f->sessions[i], ZOO_OP_CLOSESESSION, NULL, 0);
            f->sessions[i] = f->sessions[--f->n_sessions];
        }
        break;
    }
    }
}

/* ---- comparing by content (ACL indexes differ between two trees' histories) ------------- */

struct flat {
    char *path;
    struct jute_stat_persisted st;
    int32_t dlen;
    uint8_t *data;
    char acl[256];
};

struct flats {
    struct flat v[MAXT];
    int n;
    const struct tree *t;
};

static int flat_cb(const char *path, size_t len, const struct tree_node *n, void *arg)
{
    (void)len;
    struct flats *fs = arg;
    CHECK(fs->n < MAXT);
    if (fs->n >= MAXT)
        return 0;
    struct flat *x = &fs->v[fs->n++];
    x->path = strdup(path);
    tree_node_stat_persisted(n, &x->st);
    struct jute_buf b = tree_node_data(n);
    x->dlen = b.len;
    x->data = malloc(b.len > 0 ? (size_t)b.len : 1);
    if (b.len > 0)
        memcpy(x->data, b.data, (size_t)b.len);
    struct jute_acl_vec acl;
    tree_node_acl(fs->t, n, &acl);
    size_t at = 0;
    for (int32_t i = 0; i < acl.count; i++)
        at += (size_t)snprintf(x->acl + at, sizeof(x->acl) - at, "%d:%s:%s;", acl.items[i].perms,
                               acl.items[i].id.scheme, acl.items[i].id.id);
    return 0;
}

static int flat_cmp(const void *a, const void *b)
{
    return strcmp(((const struct flat *)a)->path, ((const struct flat *)b)->path);
}

static void flats_of(const struct tree *t, struct flats *fs)
{
    fs->n = 0;
    fs->t = t;
    CHECK_EQ_INT(tree_foreach_node(t, flat_cb, fs), 0);
    qsort(fs->v, (size_t)fs->n, sizeof(fs->v[0]), flat_cmp);
}

static void flats_free(struct flats *fs)
{
    for (int i = 0; i < fs->n; i++) {
        free(fs->v[i].path);
        free(fs->v[i].data);
    }
    fs->n = 0;
}

static bool stat_eq(const struct jute_stat_persisted *a, const struct jute_stat_persisted *b)
{
    return a->czxid == b->czxid && a->mzxid == b->mzxid && a->ctime == b->ctime &&
           a->mtime == b->mtime && a->version == b->version && a->cversion == b->cversion &&
           a->aversion == b->aversion && a->ephemeral_owner == b->ephemeral_owner &&
           a->pzxid == b->pzxid;
}

static bool same_content(const struct tree *a, const struct tree *b, uint64_t seed)
{
    static struct flats x, y;
    flats_of(a, &x);
    flats_of(b, &y);
    bool same = x.n == y.n;
    if (!same)
        fprintf(stderr, "seed %llu: %d / %d nodes\n", (unsigned long long)seed, x.n, y.n);
    for (int i = 0; i < x.n && i < y.n; i++) {
        const struct flat *p = &x.v[i], *q = &y.v[i];
        if (strcmp(p->path, q->path) || !stat_eq(&p->st, &q->st) || p->dlen != q->dlen ||
            (p->dlen > 0 && memcmp(p->data, q->data, (size_t)p->dlen)) || strcmp(p->acl, q->acl)) {
            fprintf(stderr,
                    "seed %llu: %s / %s differ: cversion %d/%d pzxid %llx/%llx mzxid %llx/%llx "
                    "version %d/%d aversion %d/%d acl %s / %s\n",
                    (unsigned long long)seed, p->path, q->path, p->st.cversion, q->st.cversion,
                    (long long)p->st.pzxid, (long long)q->st.pzxid, (long long)p->st.mzxid,
                    (long long)q->st.mzxid, p->st.version, q->st.version, p->st.aversion,
                    q->st.aversion, p->acl, q->acl);
            same = false;
            break;
        }
    }
    flats_free(&x);
    flats_free(&y);
    return same;
}

/* ---- the test ------------------------------------------------------------------------- */

static int out_sink(void *ctx, const void *data, size_t len)
{
    jute_put_raw(ctx, data, len);
    return ((struct jute_out *)ctx)->err;
}

struct replay_sessions {
    int64_t ids[64];
    int n;
};

static void rs_add(struct replay_sessions *rs, int64_t id)
{
    for (int i = 0; i < rs->n; i++)
        if (rs->ids[i] == id)
            return;
    rs->ids[rs->n++] = id;
}

static void rs_del(struct replay_sessions *rs, int64_t id)
{
    for (int i = 0; i < rs->n; i++)
        if (rs->ids[i] == id) {
            rs->ids[i] = rs->ids[--rs->n];
            return;
        }
}

static int rs_on_session(void *arg, int64_t id, int32_t timeout_ms)
{
    (void)timeout_ms;
    rs_add(arg, id);
    return 0;
}

static void one_run(uint64_t seed, bool changes)
{
    static struct fz f;
    memset(&f, 0, sizeof(f));
    f.rng = seed * 0x9e3779b97f4a7c15ULL + 1;
    tt_init(&f.x);
    f.x.ttl = true;
    tree_set_extended_types(f.x.t, true);
    f.sessions[f.n_sessions++] = 0x1234;
    f.sessions[f.n_sessions++] = 0x4321;
    f.sessions[f.n_sessions++] = 0x7777;
    for (int i = 0; i < 120; i++)
        random_txn(&f);
    /* the snapshot starts here: what the log holds before is not replayed */
    int base = f.n_rec;
    int64_t start_zxid = f.x.zxid;
    struct snap_session ss[8];
    for (int i = 0; i < f.n_sessions; i++)
        ss[i] = (struct snap_session){.id = f.sessions[i], .timeout_ms = 30000};
    struct snap_params p = {.zxid = start_zxid, .sessions = ss, .n_sessions = (size_t)f.n_sessions};
    struct jute_out out;
    jute_out_init(&out);
    struct snap_enc *se;
    CHECK_EQ_INT(snap_enc_new(f.x.t, &p, out_sink, &out, &se), 0);
    int rc = 0;
    int64_t digest_zxid = 0, digest = 0;
    while (rc == 0) {
        digest_zxid = f.x.zxid;
        digest = tree_digest(f.x.t);
        rc = snap_enc_step(se, 1 + fz_rnd(&f, 3), f.x.zxid);
        if (rc == 0 && changes) {
            int k = (int)fz_rnd(&f, 5);
            for (int i = 0; i < k; i++)
                random_txn(&f);
        }
    }
    CHECK_EQ_INT(rc, 1);
    CHECK_EQ_INT(snap_enc_step(se, 1, f.x.zxid), 1); /* done stays done */
    snap_enc_free(se);
    for (int i = 0; changes && i < 20; i++)
        random_txn(&f); /* after the end: replayed too */

    /* recovery: load the file, replay the log after its zxid */
    struct tree *t = tree_new(NULL, NULL);
    tree_set_extended_types(t, true);
    struct snap_info info;
    struct replay_sessions rs = {0};
    char err[256] = "";
    struct snap_read_opts o = {.zxid = start_zxid};
    rc = snap_decode_buf(out.data, out.len, &o, t, rs_on_session, &rs, &info, err, sizeof(err));
    if (rc)
        fprintf(stderr, "seed %llu: decode: %s\n", (unsigned long long)seed, err);
    CHECK_EQ_INT(rc, 0);
    CHECK(info.has_digest);
    CHECK_EQ_INT(info.digest_zxid, digest_zxid);
    CHECK_EQ_INT(info.digest, digest);
    CHECK(info.digest_state ==
          (digest_zxid == start_zxid ? SNAP_DIGEST_MATCH : SNAP_DIGEST_DEFERRED));
    struct arena a;
    arena_init(&a, 4096);
    bool is_digest_checked = digest_zxid == start_zxid;
    for (int i = base; i < f.n_rec; i++) {
        arena_reset(&a);
        struct tree_txn txn;
        struct tree_result res;
        CHECK_EQ_INT(txn_decode(f.rec[i], f.rec_len[i], &a, &txn, NULL, NULL), 0);
        CHECK_EQ_INT(tree_apply(t, &txn, &a, &res), 0);
        if (txn.hdr.type == ZOO_OP_CREATESESSION)
            rs_add(&rs, txn.hdr.client_id);
        if (txn.hdr.type == ZOO_OP_CLOSESESSION)
            rs_del(&rs, txn.hdr.client_id);
        if (txn.hdr.zxid == digest_zxid) {
            CHECK_EQ_INT(tree_digest(t), digest);
            is_digest_checked = true;
        }
    }
    CHECK(is_digest_checked);
    arena_close(&a);
    const char *why = NULL;
    CHECK_EQ_INT(tree_check(t, &why), 0);
    CHECK(same_content(f.x.t, t, seed));
    CHECK_EQ_INT(tree_digest(t), tree_digest(f.x.t));
    CHECK_EQ_INT(tree_node_count(t), tree_node_count(f.x.t));
    CHECK_EQ_INT(tree_ephemeral_count(t), tree_ephemeral_count(f.x.t));
    CHECK_EQ_INT(rs.n, f.n_sessions);
    for (int i = 0; i < f.n_sessions; i++) {
        bool found = false;
        for (int k = 0; k < rs.n; k++)
            found = found || rs.ids[k] == f.sessions[i];
        CHECK(found);
    }
    tree_free(t);
    jute_out_close(&out);
    for (int i = 0; i < f.n_rec; i++)
        free(f.rec[i]);
    tt_close(&f.x);
}

/* Nothing changes while it is encoded: the same bytes as snap_encode, digest matching. */
static void test_unchanged_same_as_whole(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tt_create(&x, "/a", "1", 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/a/b", "2", 0, NULL, 0), ZOK);
    struct snap_session s = {0x99, 5000};
    struct snap_params p = {.zxid = x.zxid, .sessions = &s, .n_sessions = 1};
    struct jute_out whole, sliced;
    jute_out_init(&whole);
    jute_out_init(&sliced);
    CHECK_EQ_INT(snap_encode_buf(x.t, &p, &whole), 0);
    struct snap_enc *se;
    CHECK_EQ_INT(snap_enc_new(x.t, &p, out_sink, &sliced, &se), 0);
    int rc;
    while ((rc = snap_enc_step(se, 1, x.zxid)) == 0)
        ;
    CHECK_EQ_INT(rc, 1);
    CHECK_EQ_INT(snap_enc_nodes(se), 6);
    snap_enc_free(se);
    CHECK_EQ_INT(sliced.len, whole.len);
    CHECK(sliced.len == whole.len && memcmp(sliced.data, whole.data, whole.len) == 0);
    /* two encoders may follow the tree at once; the tree can be freed before either */
    CHECK_EQ_INT(snap_enc_new(x.t, &p, out_sink, &sliced, &se), 0);
    struct snap_enc *se2;
    CHECK_EQ_INT(snap_enc_new(x.t, &p, out_sink, &sliced, &se2), 0);
    CHECK_EQ_INT(snap_enc_step(se2, 2, x.zxid), 0);
    tree_free(x.t);
    x.t = NULL;
    CHECK_EQ_INT(snap_enc_step(se, 100, 0), PD_ECLOSED);
    CHECK_EQ_INT(snap_enc_step(se2, 100, 0), PD_ECLOSED);
    snap_enc_free(se2);
    snap_enc_free(se);
    jute_out_close(&whole);
    jute_out_close(&sliced);
    tt_close(&x);
}

static void test_fuzzy_replay(void)
{
    for (uint64_t seed = 1; seed <= 300; seed++)
        one_run(seed, true);
    one_run(1000, false);
}

static void test_oom_sweep(void)
{
    /* every allocation of the encoder failing in turn: an error, never a crash or a leak */
    struct tt x;
    tt_init(&x);
    for (int i = 0; i < 30; i++) {
        char p[16];
        snprintf(p, sizeof(p), "/n%d", i);
        CHECK_EQ_INT(tt_create(&x, p, "x", 0, NULL, 0), ZOK);
    }
    struct snap_params p = {.zxid = x.zxid};
    for (long k = 0;; k++) {
        struct jute_out out;
        jute_out_init(&out);
        struct snap_enc *se = NULL;
        pd_alloc_fail_after(k, 1);
        int rc = snap_enc_new(x.t, &p, out_sink, &out, &se);
        while (rc == 0)
            rc = snap_enc_step(se, 2, x.zxid);
        long made = pd_alloc_fail_after(-1, 0);
        CHECK(rc == 1 || rc == PD_ENOMEM);
        snap_enc_free(se);
        jute_out_close(&out);
        if (rc == 1 && made <= k)
            break; /* nothing failed: every allocation has been tried */
    }
    tt_close(&x);
}

int main(void)
{
    RUN(test_unchanged_same_as_whole);
    RUN(test_fuzzy_replay);
    RUN(test_oom_sweep);
    return t_done();
}
