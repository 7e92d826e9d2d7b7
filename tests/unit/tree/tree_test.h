/*
 * Helpers shared by the tree tests: a tree whose watch events are recorded,
 * and one-call wrappers that prep and apply a write with increasing zxids.
 */
#ifndef PD_TEST_TREE_TEST_H
#define PD_TEST_TREE_TEST_H

#include "t.h"

#include "common/alloc.h"
#include "common/arena.h"
#include "common/err.h"
#include "tree/tree.h"

#include <stdlib.h>
#include <string.h>

#define TT_MAX_EVENTS 256

struct tt_event {
    void *watcher;
    int32_t type;
    int32_t state;
    char path[128];
    bool has_acl;
    int32_t acl_count;
};

struct tt {
    struct tree *t;
    struct arena a;
    int64_t zxid;    /* last zxid handed out */
    int64_t now;     /* the time txns get */
    int64_t session; /* session of the writes */
    struct tree_auth auth;
    struct jute_id ids[4];
    bool ttl;
    bool closing;
    bool no_digest_check; /* prep and apply disagree on purpose (ZooKeeper's digests would too) */
    struct tt_event ev[TT_MAX_EVENTS];
    int n_ev;
};

static void tt_deliver(void *watcher, const struct jute_watcher_event *e,
                       const struct jute_acl_vec *acl, void *ctx)
{
    struct tt *x = ctx;
    if (x->n_ev >= TT_MAX_EVENTS)
        return;
    struct tt_event *d = &x->ev[x->n_ev++];
    d->watcher = watcher;
    d->type = e->type;
    d->state = e->state;
    snprintf(d->path, sizeof(d->path), "%s", e->path);
    d->has_acl = acl != NULL;
    d->acl_count = acl ? acl->count : -1;
}

static inline void tt_check(struct tt *x)
{
    const char *why = NULL;
    int rc = tree_check(x->t, &why);
    if (rc != 0)
        fprintf(stderr, "tree_check: %s\n", why ? why : "?");
    CHECK_EQ_INT(rc, 0);
}

static inline void tt_init(struct tt *x)
{
    memset(x, 0, sizeof(*x));
    x->t = tree_new(tt_deliver, x);
    CHECK(x->t != NULL);
    arena_init(&x->a, 4096);
    x->zxid = 0x100000000LL;
    x->now = 1000000;
    x->session = 0x1234;
    x->auth.ids = x->ids;
}

static inline void tt_close(struct tt *x)
{
    if (x->t)
        tt_check(x);
    tree_free(x->t);
    arena_close(&x->a);
    x->t = NULL;
}

static inline struct tree_prep_ctx tt_ctx(struct tt *x)
{
    struct tree_prep_ctx c = {
        .session_id = x->session,
        .cxid = 1,
        .zxid = ++x->zxid,
        .now_ms = ++x->now,
        .auth = &x->auth,
        .ttl_enabled = x->ttl,
        .session_is_closing = x->closing,
    };
    return c;
}

/* Preps (not applies) one write; returns the txn's error. */
static inline int32_t tt_prep(struct tt *x, int32_t op, const void *req, int32_t n,
                              struct tree_txn *txn)
{
    struct tree_prep_ctx c = tt_ctx(x);
    int rc = tree_prep(x->t, &c, op, req, n, &x->a, txn);
    CHECK_EQ_INT(rc, 0);
    tt_check(x);
    return tree_txn_err(txn);
}

static inline int32_t tt_apply(struct tt *x, const struct tree_txn *txn, struct tree_result *res)
{
    int rc = tree_apply(x->t, txn, &x->a, res);
    CHECK_EQ_INT(rc, 0);
    tt_check(x);
    return res->err;
}

/* Preps and applies one write; returns the client's error; the result in *res if given. */
static inline int32_t tt_write(struct tt *x, int32_t op, const void *req, int32_t n,
                               struct tree_result *res)
{
    struct tree_txn txn;
    struct tree_result r;
    bool alone = tree_overlay_count(x->t) == 0;
    int32_t perr = tt_prep(x, op, req, n, &txn);
    int32_t aerr = tt_apply(x, &txn, res ? res : &r);
    CHECK_EQ_INT(perr, aerr);
    /* the digest prep predicted for the txn log is the one applying it gives */
    if (alone && txn.has_digest && !x->no_digest_check)
        CHECK_EQ_INT(txn.digest, tree_digest(x->t));
    CHECK(txn.has_digest || txn.hdr.type == ZOO_OP_ERROR);
    CHECK_EQ_INT(tree_overlay_count(x->t), 0);
    return aerr;
}

static struct jute_acl tt_open_acl_item = {
    .perms = ZOO_PERM_ALL, .id = {.scheme = (char *)"world", .id = (char *)"anyone"}};
static const struct jute_acl_vec tt_open_acl = {.count = 1, .items = &tt_open_acl_item};

static inline struct jute_create_request tt_creq(const char *path, const char *data, int32_t flags)
{
    struct jute_create_request r = {
        .path = (char *)path,
        .data = {.data = (const uint8_t *)data, .len = data ? (int32_t)strlen(data) : -1},
        .acl = tt_open_acl,
        .flags = flags,
        .ttl = -1,
    };
    return r;
}

/* create2 with open ACL; the created path copied into out (if given). */
static inline int32_t tt_create(struct tt *x, const char *path, const char *data, int32_t flags,
                                char *out, size_t out_len)
{
    struct jute_create_request r = tt_creq(path, data, flags);
    struct tree_result res;
    int32_t err = tt_write(x, ZOO_OP_CREATE2, &r, 1, &res);
    if (out && err == ZOK)
        snprintf(out, out_len, "%s", res.path);
    return err;
}

static inline int32_t tt_delete(struct tt *x, const char *path, int32_t version)
{
    struct jute_path_version_request r = {.path = (char *)path, .version = version};
    return tt_write(x, ZOO_OP_DELETE, &r, 1, NULL);
}

static inline int32_t tt_set(struct tt *x, const char *path, const char *data, int32_t version,
                             struct jute_stat *st)
{
    struct jute_set_data_request r = {
        .path = (char *)path,
        .data = {.data = (const uint8_t *)data, .len = data ? (int32_t)strlen(data) : -1},
        .version = version};
    struct tree_result res;
    int32_t err = tt_write(x, ZOO_OP_SETDATA, &r, 1, &res);
    if (st)
        *st = res.stat;
    return err;
}

static inline bool tt_stat(struct tt *x, const char *path, struct jute_stat *st)
{
    struct tree_node *n = tree_find(x->t, path);
    if (n)
        tree_node_stat(n, st);
    return n != NULL;
}

static inline bool tt_stat_eq(const struct jute_stat *a, const struct jute_stat *b)
{
    return a->czxid == b->czxid && a->mzxid == b->mzxid && a->ctime == b->ctime &&
           a->mtime == b->mtime && a->version == b->version && a->cversion == b->cversion &&
           a->aversion == b->aversion && a->ephemeral_owner == b->ephemeral_owner &&
           a->data_length == b->data_length && a->num_children == b->num_children &&
           a->pzxid == b->pzxid;
}

static inline bool tt_exists(struct tt *x, const char *path)
{
    return tree_find(x->t, path) != NULL;
}

static inline void tt_add_id(struct tt *x, const char *scheme, const char *id)
{
    x->ids[x->auth.n_ids].scheme = (char *)scheme;
    x->ids[x->auth.n_ids].id = (char *)id;
    x->auth.n_ids++;
}

#endif
