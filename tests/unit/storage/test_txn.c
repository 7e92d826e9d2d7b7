/*
 * The txn codec: every txn type round-trips (with and without a digest),
 * the txns Apache ZooKeeper 3.8 wrote to a real log decode to the right
 * fields and re-encode to the same bytes, the legacy forms (CreateTxnV0, a
 * closeSession without a body) decode as SerializeUtils does, truncations
 * and garbage never read out of bounds, and OOM unwinds cleanly.
 */
#include "t.h"

#include "../jute/golden_frames.h"
#include "common/alloc.h"
#include "common/err.h"
#include "storage/txn.h"

#include <stdlib.h>

static struct jute_acl world_all = {ZOO_PERM_ALL, {"world", "anyone"}};
static struct jute_acl digest_read = {ZOO_PERM_READ,
                                      {"digest", "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="}};

static struct jute_txn_header hdr(int32_t type)
{
    return (struct jute_txn_header){.client_id = 0x0100000821ad0000LL,
                                    .cxid = 42,
                                    .zxid = 0x500000007LL,
                                    .time = 1718500000123LL,
                                    .type = type};
}

static struct jute_buf buf(const char *s)
{
    return (struct jute_buf){(const uint8_t *)s, s ? (int32_t)strlen(s) : -1};
}

static bool buf_eq(struct jute_buf a, struct jute_buf b)
{
    return a.len == b.len && (a.len <= 0 || memcmp(a.data, b.data, (size_t)a.len) == 0);
}

static bool str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool acl_eq(const struct jute_acl_vec *a, const struct jute_acl_vec *b)
{
    if (a->count != b->count || a->is_null != b->is_null)
        return false;
    for (int32_t i = 0; i < a->count; i++)
        if (a->items[i].perms != b->items[i].perms ||
            !str_eq(a->items[i].id.scheme, b->items[i].id.scheme) ||
            !str_eq(a->items[i].id.id, b->items[i].id.id))
            return false;
    return true;
}

/* Field-by-field equality of two txns of the same type (sub-txns: type and body). */
/* Field by field: the struct has padding, which memcmp would compare too. */
static bool hdr_eq(const struct jute_txn_header *a, const struct jute_txn_header *b)
{
    return a->client_id == b->client_id && a->cxid == b->cxid && a->zxid == b->zxid &&
           a->time == b->time && a->type == b->type;
}

static bool txn_eq(const struct tree_txn *a, const struct tree_txn *b, bool check_hdr)
{
    if (a->hdr.type != b->hdr.type)
        return false;
    if (check_hdr && !hdr_eq(&a->hdr, &b->hdr))
        return false;
    switch (a->hdr.type) {
    case ZOO_OP_CREATESESSION:
        return a->u.create_session.timeout_ms == b->u.create_session.timeout_ms;
    case ZOO_OP_CLOSESESSION: {
        const struct jute_str_vec *x = &a->u.close_session.paths_to_delete,
                                  *y = &b->u.close_session.paths_to_delete;
        if (x->count != y->count)
            return false;
        for (int32_t i = 0; i < x->count; i++)
            if (!str_eq(x->items[i], y->items[i]))
                return false;
        return true;
    }
    case ZOO_OP_CREATE:
    case ZOO_OP_CREATE2:
        return str_eq(a->u.create.path, b->u.create.path) &&
               buf_eq(a->u.create.data, b->u.create.data) &&
               acl_eq(&a->u.create.acl, &b->u.create.acl) &&
               a->u.create.ephemeral == b->u.create.ephemeral &&
               a->u.create.parent_cversion == b->u.create.parent_cversion;
    case ZOO_OP_CREATETTL:
        return str_eq(a->u.create_ttl.path, b->u.create_ttl.path) &&
               buf_eq(a->u.create_ttl.data, b->u.create_ttl.data) &&
               acl_eq(&a->u.create_ttl.acl, &b->u.create_ttl.acl) &&
               a->u.create_ttl.parent_cversion == b->u.create_ttl.parent_cversion &&
               a->u.create_ttl.ttl == b->u.create_ttl.ttl;
    case ZOO_OP_CREATECONTAINER:
        return str_eq(a->u.create_container.path, b->u.create_container.path) &&
               buf_eq(a->u.create_container.data, b->u.create_container.data) &&
               acl_eq(&a->u.create_container.acl, &b->u.create_container.acl) &&
               a->u.create_container.parent_cversion == b->u.create_container.parent_cversion;
    case ZOO_OP_DELETE:
    case ZOO_OP_DELETECONTAINER:
        return str_eq(a->u.del.path, b->u.del.path);
    case ZOO_OP_SETDATA:
    case ZOO_OP_RECONFIG:
        return str_eq(a->u.set_data.path, b->u.set_data.path) &&
               buf_eq(a->u.set_data.data, b->u.set_data.data) &&
               a->u.set_data.version == b->u.set_data.version;
    case ZOO_OP_SETACL:
        return str_eq(a->u.set_acl.path, b->u.set_acl.path) &&
               acl_eq(&a->u.set_acl.acl, &b->u.set_acl.acl) &&
               a->u.set_acl.version == b->u.set_acl.version;
    case ZOO_OP_CHECK:
        return str_eq(a->u.check.path, b->u.check.path) && a->u.check.version == b->u.check.version;
    case ZOO_OP_ERROR:
        return a->u.error.err == b->u.error.err;
    case ZOO_OP_MULTI:
        if (a->n_sub != b->n_sub)
            return false;
        for (int32_t i = 0; i < a->n_sub; i++) {
            if (!txn_eq(&a->sub[i], &b->sub[i], false))
                return false;
            /* Decoded subs carry the multi's header with their own type. */
            struct jute_txn_header h = b->hdr;
            h.type = b->sub[i].hdr.type;
            if (!hdr_eq(&b->sub[i].hdr, &h))
                return false;
        }
        return true;
    }
    return false;
}

/* Encodes t, decodes it back, checks equality and byte-identical re-encoding. */
static void roundtrip(const struct tree_txn *t, const struct jute_txn_digest *dg)
{
    struct jute_out o1, o2;
    jute_out_init(&o1);
    jute_out_init(&o2);
    CHECK_EQ_INT(txn_encode(&o1, t, dg), 0);
    /* Decode from an exact-size heap copy so ASan sees any over-read. */
    uint8_t *copy = malloc(o1.len);
    memcpy(copy, o1.data, o1.len);
    struct arena a;
    arena_init(&a, 256);
    struct tree_txn back;
    struct jute_txn_digest d2 = {0};
    bool has = true;
    CHECK_EQ_INT(txn_decode(copy, o1.len, &a, &back, &d2, &has), 0);
    CHECK(txn_eq(t, &back, true));
    CHECK(has == (dg != NULL));
    if (dg) {
        CHECK_EQ_INT(d2.version, dg->version);
        CHECK_EQ_INT(d2.tree_digest, dg->tree_digest);
    }
    int64_t z = 0;
    CHECK_EQ_INT(txn_peek_zxid(copy, o1.len, &z), 0);
    CHECK_EQ_INT(z, t->hdr.zxid);
    CHECK_EQ_INT(txn_encode(&o2, &back, has ? &d2 : NULL), 0);
    CHECK(o1.len == o2.len && memcmp(o1.data, o2.data, o1.len) == 0);
    /* Every strict prefix fails or is one of the legal shorter forms, never over-reads. */
    for (size_t n = 0; n < o1.len; n++) {
        uint8_t *p = malloc(n ? n : 1);
        memcpy(p, copy, n);
        arena_reset(&a);
        struct tree_txn tt;
        int rc = txn_decode(p, n, &a, &tt, NULL, NULL);
        if (n < TXN_HEADER_BYTES)
            CHECK_EQ_INT(rc, PD_EMALFORMED);
        if (dg && n == o1.len - 12)
            CHECK_EQ_INT(rc, 0); /* the same txn without its digest */
        free(p);
    }
    arena_close(&a);
    free(copy);
    jute_out_close(&o1);
    jute_out_close(&o2);
}

static void roundtrip_both(const struct tree_txn *t)
{
    struct jute_txn_digest dg = {TXN_DIGEST_VERSION, (int64_t)0x8123456789abcdefULL};
    roundtrip(t, NULL);
    roundtrip(t, &dg);
}

static void test_roundtrip_each_type(void)
{
    struct jute_acl two[2] = {world_all, digest_read};
    struct jute_acl_vec acl2 = {2, false, two};
    struct jute_acl_vec acl1 = {1, false, &world_all};
    struct tree_txn t;

    memset(&t, 0, sizeof(t));
    t.hdr = hdr(ZOO_OP_CREATESESSION);
    t.hdr.cxid = 0;
    t.u.create_session.timeout_ms = 30000;
    roundtrip_both(&t);

    char *eph[] = {"/a/e1", "/b/e-0000000002"};
    memset(&t, 0, sizeof(t));
    t.hdr = hdr(ZOO_OP_CLOSESESSION);
    t.u.close_session.paths_to_delete = (struct jute_str_vec){2, false, eph};
    roundtrip_both(&t);
    t.u.close_session.paths_to_delete = (struct jute_str_vec){0};
    roundtrip_both(&t);

    int32_t creates[] = {ZOO_OP_CREATE, ZOO_OP_CREATE2};
    for (int i = 0; i < 2; i++) {
        memset(&t, 0, sizeof(t));
        t.hdr = hdr(creates[i]);
        t.u.create = (struct jute_create_txn){"/a/b", buf("hello"), acl2, true, 7};
        roundtrip_both(&t);
        t.u.create.data = buf(NULL); /* null data */
        t.u.create.ephemeral = false;
        roundtrip_both(&t);
        t.u.create.data = buf(""); /* empty, not null */
        roundtrip_both(&t);
    }

    memset(&t, 0, sizeof(t));
    t.hdr = hdr(ZOO_OP_CREATETTL);
    t.u.create_ttl = (struct jute_create_ttl_txn){"/ttl", buf("x"), acl1, 3, 60000};
    roundtrip_both(&t);

    memset(&t, 0, sizeof(t));
    t.hdr = hdr(ZOO_OP_CREATECONTAINER);
    t.u.create_container = (struct jute_create_container_txn){"/c", buf("data"), acl1, 1};
    roundtrip_both(&t);

    int32_t dels[] = {ZOO_OP_DELETE, ZOO_OP_DELETECONTAINER};
    for (int i = 0; i < 2; i++) {
        memset(&t, 0, sizeof(t));
        t.hdr = hdr(dels[i]);
        t.u.del.path = "/gone";
        roundtrip_both(&t);
    }

    memset(&t, 0, sizeof(t));
    t.hdr = hdr(ZOO_OP_SETDATA);
    t.u.set_data = (struct jute_set_data_txn){"/a", buf("new data"), 5};
    roundtrip_both(&t);

    memset(&t, 0, sizeof(t));
    t.hdr = hdr(ZOO_OP_RECONFIG);
    t.u.set_data = (struct jute_set_data_txn){"/zookeeper/config", buf("server.1=..."), 1};
    roundtrip_both(&t);

    memset(&t, 0, sizeof(t));
    t.hdr = hdr(ZOO_OP_SETACL);
    t.u.set_acl = (struct jute_set_acl_txn){"/a", acl2, 2};
    roundtrip_both(&t);

    memset(&t, 0, sizeof(t));
    t.hdr = hdr(ZOO_OP_ERROR);
    t.u.error.err = ZNONODE;
    roundtrip_both(&t);
}

static void test_roundtrip_multi(void)
{
    struct jute_acl_vec acl1 = {1, false, &world_all};
    struct tree_txn sub[8];
    memset(sub, 0, sizeof(sub));
    sub[0].hdr.type = ZOO_OP_CREATE;
    sub[0].u.create = (struct jute_create_txn){"/m/a", buf("1"), acl1, false, 1};
    sub[1].hdr.type = ZOO_OP_CREATE2;
    sub[1].u.create = (struct jute_create_txn){"/m/b", buf(NULL), acl1, true, 2};
    sub[2].hdr.type = ZOO_OP_CREATETTL;
    sub[2].u.create_ttl = (struct jute_create_ttl_txn){"/m/t", buf("t"), acl1, 3, 1000};
    sub[3].hdr.type = ZOO_OP_CREATECONTAINER;
    sub[3].u.create_container = (struct jute_create_container_txn){"/m/c", buf(""), acl1, 4};
    sub[4].hdr.type = ZOO_OP_DELETE;
    sub[4].u.del.path = "/m/a";
    sub[5].hdr.type = ZOO_OP_SETDATA;
    sub[5].u.set_data = (struct jute_set_data_txn){"/m", buf("mm"), 3};
    sub[6].hdr.type = ZOO_OP_CHECK;
    sub[6].u.check = (struct jute_path_version_request){"/m", 4};
    sub[7].hdr.type = ZOO_OP_ERROR;
    sub[7].u.error.err = ZRUNTIMEINCONSISTENCY;
    struct tree_txn t;
    memset(&t, 0, sizeof(t));
    t.hdr = hdr(ZOO_OP_MULTI);
    t.n_sub = 8;
    t.sub = sub;
    for (int i = 0; i < 8; i++) {
        sub[i].hdr.zxid = t.hdr.zxid;
        sub[i].hdr.client_id = t.hdr.client_id;
        sub[i].hdr.cxid = t.hdr.cxid;
        sub[i].hdr.time = t.hdr.time;
    }
    roundtrip_both(&t);
    t.n_sub = 0;
    roundtrip_both(&t);
}

static void test_encode_rejects_non_txns(void)
{
    struct jute_out o;
    jute_out_init(&o);
    struct tree_txn t;
    memset(&t, 0, sizeof(t));
    t.hdr = hdr(ZOO_OP_GETDATA);
    CHECK_EQ_INT(txn_encode(&o, &t, NULL), PD_EINVAL);
    jute_out_reset(&o);
    t.hdr = hdr(ZOO_OP_CHECK); /* only inside a multi */
    CHECK_EQ_INT(txn_encode(&o, &t, NULL), PD_EINVAL);
    jute_out_reset(&o);
    struct tree_txn sub = {0};
    sub.hdr.type = ZOO_OP_MULTI; /* no nesting */
    t.hdr = hdr(ZOO_OP_MULTI);
    t.n_sub = 1;
    t.sub = &sub;
    CHECK_EQ_INT(txn_encode(&o, &t, NULL), PD_EINVAL);
    jute_out_close(&o);
}

/* ---- golden txns from Apache ZooKeeper 3.8.0's version-2/log.1 -------------------- */

static const struct golden_frame *golden(const char *name)
{
    for (size_t i = 0; i < sizeof(golden_frames) / sizeof(golden_frames[0]); i++)
        if (strcmp(golden_frames[i].name, name) == 0)
            return &golden_frames[i];
    return NULL;
}

struct decoded {
    struct arena a;
    struct tree_txn t;
    struct jute_txn_digest d;
    bool has_digest;
    int rc;
};

static void decode_golden(const char *name, struct decoded *out)
{
    const struct golden_frame *g = golden(name);
    CHECK(g != NULL);
    arena_init(&out->a, 512);
    out->rc = txn_decode(g->bytes, g->len, &out->a, &out->t, &out->d, &out->has_digest);
    CHECK_EQ_INT(out->rc, 0);
    CHECK(out->has_digest);
    CHECK_EQ_INT(out->d.version, 2);
    /* Re-encoding gives the exact bytes ZooKeeper wrote. */
    struct jute_out o;
    jute_out_init(&o);
    CHECK_EQ_INT(txn_encode(&o, &out->t, &out->d), 0);
    CHECK(o.len == g->len && memcmp(o.data, g->bytes, g->len) == 0);
    jute_out_close(&o);
}

static void check_hdr(const struct tree_txn *t, int32_t cxid, int64_t zxid, int32_t type)
{
    CHECK_EQ_INT(t->hdr.client_id, 0x0100000821ad0000LL);
    CHECK_EQ_INT(t->hdr.cxid, cxid);
    CHECK_EQ_INT(t->hdr.zxid, zxid);
    CHECK_EQ_INT(t->hdr.type, type);
}

static bool is(struct jute_buf b, const char *s)
{
    return buf_eq(b, buf(s));
}

static void test_golden(void)
{
    struct decoded d;
    decode_golden("txn_00_create_session", &d);
    check_hdr(&d.t, 0, 1, ZOO_OP_CREATESESSION);
    CHECK_EQ_INT(d.t.u.create_session.timeout_ms, 3000);
    int64_t t0 = d.t.hdr.time;
    arena_close(&d.a);

    decode_golden("txn_01_create2", &d);
    check_hdr(&d.t, 1, 2, ZOO_OP_CREATE2);
    CHECK_EQ_STR(d.t.u.create.path, "/golden");
    CHECK(is(d.t.u.create.data, "hello"));
    CHECK_EQ_INT(d.t.u.create.acl.count, 1);
    CHECK_EQ_STR(d.t.u.create.acl.items[0].id.scheme, "world");
    CHECK(!d.t.u.create.ephemeral);
    CHECK_EQ_INT(d.t.u.create.parent_cversion, 1);
    CHECK(d.t.hdr.time >= t0);
    arena_close(&d.a);

    decode_golden("txn_02_create", &d);
    check_hdr(&d.t, 2, 3, ZOO_OP_CREATE);
    CHECK_EQ_STR(d.t.u.create.path, "/golden/acl");
    CHECK_EQ_INT(d.t.u.create.acl.count, 2);
    CHECK_EQ_STR(d.t.u.create.acl.items[1].id.id, "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=");
    arena_close(&d.a);

    decode_golden("txn_03_create2", &d);
    check_hdr(&d.t, 3, 4, ZOO_OP_CREATE2);
    CHECK_EQ_STR(d.t.u.create.path, "/golden/eph-0000000001");
    CHECK(d.t.u.create.ephemeral);
    CHECK_EQ_INT(d.t.u.create.parent_cversion, 2);
    arena_close(&d.a);

    decode_golden("txn_04_set_data", &d);
    check_hdr(&d.t, 5, 5, ZOO_OP_SETDATA);
    CHECK_EQ_STR(d.t.u.set_data.path, "/golden");
    CHECK(is(d.t.u.set_data.data, "world"));
    CHECK_EQ_INT(d.t.u.set_data.version, 1);
    arena_close(&d.a);

    /* The successful multi: create, check (version + 1), setData, delete. */
    decode_golden("txn_05_multi", &d);
    check_hdr(&d.t, 12, 6, ZOO_OP_MULTI);
    CHECK_EQ_INT(d.t.n_sub, 4);
    if (d.t.n_sub == 4) {
        CHECK_EQ_INT(d.t.sub[0].hdr.type, ZOO_OP_CREATE);
        CHECK_EQ_STR(d.t.sub[0].u.create.path, "/golden/m1");
        CHECK_EQ_INT(d.t.sub[0].u.create.parent_cversion, 3);
        CHECK_EQ_INT(d.t.sub[1].hdr.type, ZOO_OP_CHECK);
        CHECK_EQ_STR(d.t.sub[1].u.check.path, "/golden");
        CHECK_EQ_INT(d.t.sub[1].u.check.version, 2);
        CHECK_EQ_INT(d.t.sub[2].hdr.type, ZOO_OP_SETDATA);
        CHECK(is(d.t.sub[2].u.set_data.data, "mm"));
        CHECK_EQ_INT(d.t.sub[3].hdr.type, ZOO_OP_DELETE);
        CHECK_EQ_STR(d.t.sub[3].u.del.path, "/golden/m1");
        for (int i = 0; i < 4; i++) {
            CHECK_EQ_INT(d.t.sub[i].hdr.zxid, 6);
            CHECK_EQ_INT(d.t.sub[i].hdr.cxid, 12);
        }
    }
    int64_t multi_digest = d.d.tree_digest;
    arena_close(&d.a);

    /* The failed multi: type 14, the op before the failure as a full CreateTxn. */
    decode_golden("txn_06_multi", &d);
    check_hdr(&d.t, 13, 7, ZOO_OP_MULTI);
    CHECK_EQ_INT(d.t.n_sub, 3);
    if (d.t.n_sub == 3) {
        CHECK_EQ_INT(d.t.sub[0].hdr.type, ZOO_OP_CREATE);
        CHECK_EQ_STR(d.t.sub[0].u.create.path, "/golden/m2");
        CHECK_EQ_INT(d.t.sub[1].hdr.type, ZOO_OP_ERROR);
        CHECK_EQ_INT(d.t.sub[1].u.error.err, ZBADVERSION);
        CHECK_EQ_INT(d.t.sub[2].hdr.type, ZOO_OP_ERROR);
        CHECK_EQ_INT(d.t.sub[2].u.error.err, ZRUNTIMEINCONSISTENCY);
    }
    CHECK_EQ_INT(d.d.tree_digest, multi_digest); /* nothing changed */
    arena_close(&d.a);

    decode_golden("txn_07_delete", &d);
    check_hdr(&d.t, 14, 8, ZOO_OP_DELETE);
    CHECK_EQ_STR(d.t.u.del.path, "/golden/acl");
    arena_close(&d.a);

    decode_golden("txn_08_close_session", &d);
    check_hdr(&d.t, 16, 9, ZOO_OP_CLOSESESSION);
    CHECK_EQ_INT(d.t.u.close_session.paths_to_delete.count, 1);
    if (d.t.u.close_session.paths_to_delete.count == 1)
        CHECK_EQ_STR(d.t.u.close_session.paths_to_delete.items[0], "/golden/eph-0000000001");
    arena_close(&d.a);

    CHECK_EQ_STR(txn_type_name(ZOO_OP_CREATETTL), "createTtl");
    CHECK_EQ_STR(txn_type_name(ZOO_OP_CLOSESESSION), "closeSession");
    CHECK(txn_type_name(12345) == NULL);
}

/* Every golden txn, cut at every length: never an over-read (ASan), < header fails. */
static void test_golden_truncations(void)
{
    struct arena a;
    arena_init(&a, 512);
    for (size_t i = 0; i < sizeof(golden_frames) / sizeof(golden_frames[0]); i++) {
        const struct golden_frame *g = &golden_frames[i];
        if (g->dir != GOLDEN_TXN)
            continue;
        for (size_t n = 0; n < g->len; n++) {
            uint8_t *p = malloc(n ? n : 1);
            memcpy(p, g->bytes, n);
            arena_reset(&a);
            struct tree_txn t;
            int rc = txn_decode(p, n, &a, &t, NULL, NULL);
            if (n < TXN_HEADER_BYTES)
                CHECK_EQ_INT(rc, PD_EMALFORMED);
            if (n == g->len - 12)
                CHECK_EQ_INT(rc, 0);
            free(p);
        }
    }
    arena_close(&a);
}

/* SerializeUtils' legacy forms. */
static void test_legacy_forms(void)
{
    struct arena a;
    arena_init(&a, 512);
    struct jute_out o;
    jute_out_init(&o);

    /* CreateTxnV0: no parentCVersion -> -1 (DataTree then fixes it up). */
    struct jute_txn_header h = hdr(ZOO_OP_CREATE);
    jute_put_txn_header(&o, &h);
    jute_put_string(&o, "/v0");
    jute_put_buffer(&o, "d", 1);
    jute_put_int(&o, 1);
    jute_put_acl(&o, &world_all);
    jute_put_bool(&o, true);
    struct tree_txn t;
    CHECK_EQ_INT(txn_decode(o.data, o.len, &a, &t, NULL, NULL), 0);
    CHECK_EQ_STR(t.u.create.path, "/v0");
    CHECK(t.u.create.ephemeral);
    CHECK_EQ_INT(t.u.create.parent_cversion, -1);

    /* closeSession before 3.6: a header and nothing else; with a digest after it too. */
    jute_out_reset(&o);
    h = hdr(ZOO_OP_CLOSESESSION);
    jute_put_txn_header(&o, &h);
    CHECK_EQ_INT(txn_decode(o.data, o.len, &a, &t, NULL, NULL), 0);
    CHECK_EQ_INT(t.u.close_session.paths_to_delete.count, 0);
    struct jute_txn_digest dg = {2, 77};
    jute_put_txn_digest(&o, &dg);
    struct jute_txn_digest got = {0};
    bool has = false;
    CHECK_EQ_INT(txn_decode(o.data, o.len, &a, &t, &got, &has), 0);
    CHECK(has);
    CHECK_EQ_INT(got.tree_digest, 77);

    /* Trailing bytes that are not exactly one digest: malformed. */
    jute_out_reset(&o);
    h = hdr(ZOO_OP_DELETE);
    jute_put_txn_header(&o, &h);
    jute_put_string(&o, "/x");
    jute_put_txn_digest(&o, &dg);
    jute_put_int(&o, 0);
    CHECK_EQ_INT(txn_decode(o.data, o.len, &a, &t, NULL, NULL), PD_EMALFORMED);

    /* Unknown type, check at top level, nested multi, sub-txn with trailing bytes. */
    jute_out_reset(&o);
    h = hdr(ZOO_OP_GETDATA);
    jute_put_txn_header(&o, &h);
    CHECK_EQ_INT(txn_decode(o.data, o.len, &a, &t, NULL, NULL), PD_EMALFORMED);
    jute_out_reset(&o);
    h = hdr(ZOO_OP_CHECK);
    jute_put_txn_header(&o, &h);
    jute_put_string(&o, "/x");
    jute_put_int(&o, 1);
    CHECK_EQ_INT(txn_decode(o.data, o.len, &a, &t, NULL, NULL), PD_EMALFORMED);
    jute_out_reset(&o);
    h = hdr(ZOO_OP_MULTI);
    jute_put_txn_header(&o, &h);
    jute_put_int(&o, 1);
    jute_put_int(&o, ZOO_OP_MULTI);
    jute_put_buffer(&o, "\0\0\0\0", 4);
    CHECK_EQ_INT(txn_decode(o.data, o.len, &a, &t, NULL, NULL), PD_EMALFORMED);
    jute_out_reset(&o);
    jute_put_txn_header(&o, &h);
    jute_put_int(&o, 1);
    jute_put_int(&o, ZOO_OP_ERROR);
    jute_put_buffer(&o, "\0\0\0\0\0", 5); /* ErrorTxn is 4 bytes */
    CHECK_EQ_INT(txn_decode(o.data, o.len, &a, &t, NULL, NULL), PD_EMALFORMED);

    jute_out_close(&o);
    arena_close(&a);
}

/* Random bytes behind a valid header of each type: clean errors, no over-reads. */
static void test_garbage(void)
{
    struct arena a;
    arena_init(&a, 512);
    uint64_t x = 88172645463325252ULL;
    int32_t types[] = {ZOO_OP_CREATE,          ZOO_OP_CREATE2, ZOO_OP_CREATETTL,
                       ZOO_OP_CREATECONTAINER, ZOO_OP_DELETE,  ZOO_OP_SETDATA,
                       ZOO_OP_SETACL,          ZOO_OP_MULTI,   ZOO_OP_CLOSESESSION,
                       ZOO_OP_CREATESESSION,   ZOO_OP_ERROR};
    for (int round = 0; round < 4000; round++) {
        struct jute_out o;
        jute_out_init(&o);
        struct jute_txn_header h = hdr(types[round % 11]);
        jute_put_txn_header(&o, &h);
        size_t n = (size_t)(round % 97);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            uint8_t b = (uint8_t)x;
            /* Small lengths now and then, so that some garbage parses deeper. */
            if (i % 4 == 0 && (x >> 8) % 3 == 0)
                b = 0;
            jute_put_raw(&o, &b, 1);
        }
        uint8_t *p = malloc(o.len);
        memcpy(p, o.data, o.len);
        arena_reset(&a);
        struct tree_txn t;
        int rc = txn_decode(p, o.len, &a, &t, NULL, NULL);
        CHECK(rc == 0 || rc == PD_EMALFORMED);
        free(p);
        jute_out_close(&o);
    }
    arena_close(&a);
}

/* OOM: decoding the biggest golden txn with the nth allocation failing. */
static void test_decode_oom(void)
{
    const struct golden_frame *g = golden("txn_05_multi");
    bool done = false;
    for (long n = 0; n < 200 && !done; n++) {
        struct arena a;
        arena_init(&a, 64);
        pd_alloc_fail_after(n, 1);
        struct tree_txn t;
        int rc = txn_decode(g->bytes, g->len, &a, &t, NULL, NULL);
        pd_alloc_fail_after(-1, 0);
        CHECK(rc == 0 || rc == PD_ENOMEM);
        done = rc == 0;
        arena_close(&a);
    }
    CHECK(done);
}

int main(void)
{
    RUN(test_roundtrip_each_type);
    RUN(test_roundtrip_multi);
    RUN(test_encode_rejects_non_txns);
    RUN(test_golden);
    RUN(test_golden_truncations);
    RUN(test_legacy_forms);
    RUN(test_garbage);
    RUN(test_decode_oom);
    return t_done();
}
