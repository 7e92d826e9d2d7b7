/*
 * The write path's first half: request -> txn, as PrepRequestProcessor
 * (pRequest2Txn, pRequest2TxnCreate, the multi loop, fixupACL's callers).
 *
 * Each op reads the newest state of the paths it touches: the overlay record
 * (a txn prepped but not yet applied) if there is one, else the committed
 * node (getRecordForPath). Checks run in ZooKeeper's order, so a request
 * with several faults gets ZooKeeper's error. All checks come before any
 * overlay record is added; a failed multi rolls back its records
 * (rollbackPendingChanges); PD_ENOMEM rolls back whatever the call added.
 *
 * Everything the txn points at is copied into the caller's arena.
 */
#include "tree/tree_int.h"

#include <stdio.h>

struct prep {
    struct tree *t;
    const struct tree_prep_ctx *ctx;
    struct arena *a;
    int pd_err; /* PD_ENOMEM once an allocation failed */
};

/* A path's newest state: an overlay record or the committed node. */
struct rec_view {
    struct ov_rec *rec; /* the overlay record, or NULL for a committed node */
    struct node_stat st;
    int32_t child_count;
    const struct jute_acl_vec *acl; /* borrowed */
};

static int32_t wrap_inc(int32_t v)
{
    return (int32_t)((uint32_t)v + 1u);
}

static void canon(const char **path, size_t *len)
{
    if (*len == 0) {
        *path = "/";
        *len = 1;
    }
}

/* getRecordForPath: ZOK, or ZNONODE if absent or deleted by an outstanding change. */
static int32_t get_record(struct prep *p, const char *path, size_t len, struct rec_view *v)
{
    canon(&path, &len);
    struct ov_rec *r = ov_find(&p->t->ov, path, len);
    if (r) {
        if (!r->exists)
            return ZNONODE;
        v->rec = r;
        v->st = r->st;
        v->child_count = r->child_count;
        v->acl = &r->acl->vec;
        return ZOK;
    }
    uint32_t id = node_lookup(p->t, path, len);
    if (id == NODE_NIL)
        return ZNONODE;
    const struct tree_node *n = node_get(p->t, id);
    v->rec = NULL;
    node_get_stat(n, &v->st);
    v->child_count = (int32_t)node_num_children(n);
    v->acl = acl_get(&p->t->acls, n->acl);
    return ZOK;
}

/* Adds r (may be NULL after a failed allocation) as the newest record of its path. */
static bool add_rec(struct prep *p, struct ov_rec *r)
{
    if (!r || ov_reserve(&p->t->ov, 1) != 0) {
        if (r)
            ov_rec_discard(r);
        p->pd_err = PD_ENOMEM;
        return false;
    }
    digest_predict(p->t, r);
    ov_add(&p->t->ov, r);
    return true;
}

/* ChangeRecord.duplicate(zxid) of a view. NULL on OOM. */
static struct ov_rec *rec_dup(struct prep *p, const char *path, size_t len,
                              const struct rec_view *v)
{
    canon(&path, &len);
    struct ov_rec *r = ov_rec_new(path, len);
    if (!r)
        return NULL;
    r->zxid = p->ctx->zxid;
    r->exists = true;
    r->st = v->st;
    r->child_count = v->child_count;
    if (v->rec) {
        r->acl = v->rec->acl;
        r->acl->refs++;
    } else if (!(r->acl = ov_acl_new(v->acl))) {
        ov_rec_discard(r);
        return NULL;
    }
    return r;
}

static struct ov_rec *rec_deleted(struct prep *p, const char *path, size_t len)
{
    struct ov_rec *r = ov_rec_new(path, len);
    if (r) {
        r->zxid = p->ctx->zxid;
        r->exists = false;
        r->child_count = -1;
    }
    return r;
}

static char *adup(struct prep *p, const char *s, size_t len)
{
    char *d = arena_alloc(p->a, len + 1);
    if (!d) {
        p->pd_err = PD_ENOMEM;
        return NULL;
    }
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

static bool adata(struct prep *p, struct jute_buf in, struct jute_buf *out)
{
    out->len = in.len;
    out->data = NULL;
    if (in.len <= 0)
        return true;
    uint8_t *d = arena_alloc(p->a, (size_t)in.len);
    if (!d) {
        p->pd_err = PD_ENOMEM;
        return false;
    }
    memcpy(d, in.data, (size_t)in.len);
    out->data = d;
    return true;
}

static bool auth_allows(struct prep *p, const struct jute_acl_vec *acl, int perm)
{
    return tree_acl_check(acl, perm, p->ctx->auth);
}

static int32_t check_version(int32_t current, int32_t expected)
{
    return expected != -1 && expected != current ? ZBADVERSION : ZOK;
}

/* ---- create ------------------------------------------------------------------------------ */

static int32_t prep_create(struct prep *p, int32_t type, const struct jute_create_request *r,
                           int64_t ttl, struct tree_txn *tx)
{
    const struct tree_prep_ctx *ctx = p->ctx;
    int32_t flags = r->flags;
    if (flags < ZOO_PERSISTENT || flags > ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL)
        return ZBADARGUMENTS; /* CreateMode.fromFlag */
    bool is_ttl = flags == ZOO_PERSISTENT_WITH_TTL || flags == ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL;
    bool is_seq = flags == ZOO_PERSISTENT_SEQUENTIAL || flags == ZOO_EPHEMERAL_SEQUENTIAL ||
                  flags == ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL;
    bool is_eph = flags == ZOO_EPHEMERAL || flags == ZOO_EPHEMERAL_SEQUENTIAL;

    /* validateCreateRequest */
    if (is_ttl && !ctx->ttl_enabled)
        return ZUNIMPLEMENTED;
    if (is_ttl ? (ttl > ZOO_TTL_MAX || ttl <= 0) : ttl >= 0)
        return ZBADARGUMENTS; /* EphemeralType.validateTTL */
    if (type == ZOO_OP_CREATETTL && !is_ttl)
        return ZBADARGUMENTS; /* ZooKeeper would log a CreateTTLTxn it cannot apply */
    if (ctx->session_is_closing)
        return ZSESSIONEXPIRED;

    /* validatePathForCreate */
    if (!r->path)
        return ZMARSHALLINGERROR;
    size_t len = strlen(r->path);
    ptrdiff_t slash = path_last_slash(r->path, len);
    if (slash < 0)
        return ZBADARGUMENTS;
    const char *parent = r->path;
    size_t parent_len = (size_t)slash;

    struct jute_acl_vec acl;
    int32_t err = acl_fixup(&r->acl, ctx->auth, p->a, &acl, &p->pd_err);
    if (p->pd_err)
        return ZOK;
    if (err != ZOK)
        return err;

    struct rec_view pv;
    if ((err = get_record(p, parent, parent_len, &pv)) != ZOK)
        return err;
    if (!auth_allows(p, pv.acl, ZOO_PERM_CREATE))
        return ZNOAUTH;

    int32_t parent_cversion = pv.st.cversion;
    char *path;
    if (is_seq) {
        char suffix[16];
        int k = snprintf(suffix, sizeof(suffix), "%010d", parent_cversion);
        path = arena_alloc(p->a, len + (size_t)k + 1);
        if (!path) {
            p->pd_err = PD_ENOMEM;
            return ZOK;
        }
        memcpy(path, r->path, len);
        memcpy(path + len, suffix, (size_t)k + 1);
        len += (size_t)k;
    } else if (!(path = adup(p, r->path, len))) {
        return ZOK;
    }
    if (!tree_path_valid(path, false))
        return ZBADARGUMENTS;
    struct rec_view existing;
    if (get_record(p, path, len, &existing) == ZOK)
        return ZNODEEXISTS;
    if (owner_kind(pv.st.owner, p->t->ext_types) == KIND_EPHEMERAL)
        return ZNOCHILDRENFOREPHEMERALS;
    int32_t new_cversion = wrap_inc(pv.st.cversion);

    struct jute_buf data;
    if (!adata(p, r->data, &data))
        return ZOK;
    int64_t owner;
    switch (type) {
    case ZOO_OP_CREATECONTAINER:
        tx->u.create_container = (struct jute_create_container_txn){
            .path = path, .data = data, .acl = acl, .parent_cversion = new_cversion};
        owner = ZOO_CONTAINER_OWNER;
        break;
    case ZOO_OP_CREATETTL:
        tx->u.create_ttl = (struct jute_create_ttl_txn){
            .path = path, .data = data, .acl = acl, .parent_cversion = new_cversion, .ttl = ttl};
        owner = ZOO_TTL_MASK | ttl;
        break;
    default:
        /* create/create2 with a container flag is a plain persistent node, as in ZooKeeper
         * (only the createContainer opcode makes containers). */
        tx->u.create = (struct jute_create_txn){.path = path,
                                                .data = data,
                                                .acl = acl,
                                                .ephemeral = is_eph,
                                                .parent_cversion = new_cversion};
        owner = is_eph ? ctx->session_id : 0;
        break;
    }

    /* Outstanding changes: the parent gains a child, then the node exists. */
    struct ov_rec *pr = rec_dup(p, parent, parent_len, &pv);
    if (pr) {
        pr->child_count++;
        pr->st.cversion = new_cversion;
        pr->st.pzxid = ctx->zxid;
    }
    if (!add_rec(p, pr))
        return ZOK;
    struct ov_rec *nr = ov_rec_new(path, len);
    if (nr) {
        nr->zxid = ctx->zxid;
        nr->exists = true;
        nr->child_count = 0;
        nr->st = (struct node_stat){.czxid = ctx->zxid,
                                    .mzxid = ctx->zxid,
                                    .pzxid = ctx->zxid,
                                    .ctime = ctx->now_ms,
                                    .mtime = ctx->now_ms,
                                    .owner = owner};
        nr->pd = digest_pd(path, len, data.data, data.len);
        nr->has_pd = true;
        if (!(nr->acl = ov_acl_new(&acl))) {
            ov_rec_discard(nr);
            nr = NULL;
        }
    }
    add_rec(p, nr);
    return ZOK;
}

/* ---- delete -------------------------------------------------------------------------------- */

/* getParentPathAndValidate */
static int32_t parent_of(const char *path, size_t len, size_t *parent_len)
{
    ptrdiff_t slash = path_last_slash(path, len);
    if (slash < 0 || path_is_special(path))
        return ZBADARGUMENTS;
    *parent_len = (size_t)slash;
    return ZOK;
}

/* The records and txn of a delete that passed its checks. */
static int32_t delete_records(struct prep *p, const char *path, size_t len, size_t parent_len,
                              const struct rec_view *pv, struct tree_txn *tx)
{
    char *txpath = adup(p, path, len);
    if (!txpath)
        return ZOK;
    tx->u.del.path = txpath;
    struct ov_rec *pr = rec_dup(p, path, parent_len, pv);
    if (pr) {
        pr->child_count--;
        pr->st.pzxid = p->ctx->zxid;
    }
    if (add_rec(p, pr))
        add_rec(p, rec_deleted(p, path, len));
    return ZOK;
}

static int32_t prep_delete(struct prep *p, const struct jute_path_version_request *r,
                           struct tree_txn *tx)
{
    if (p->ctx->session_is_closing)
        return ZSESSIONEXPIRED;
    if (!r->path)
        return ZMARSHALLINGERROR;
    size_t len = strlen(r->path), parent_len;
    int32_t err = parent_of(r->path, len, &parent_len);
    if (err != ZOK)
        return err;
    struct rec_view pv, nv;
    if ((err = get_record(p, r->path, parent_len, &pv)) != ZOK)
        return err;
    if (!auth_allows(p, pv.acl, ZOO_PERM_DELETE))
        return ZNOAUTH;
    if ((err = get_record(p, r->path, len, &nv)) != ZOK)
        return err;
    if ((err = check_version(nv.st.version, r->version)) != ZOK)
        return err;
    if (nv.child_count > 0)
        return ZNOTEMPTY;
    return delete_records(p, r->path, len, parent_len, &pv, tx);
}

static int32_t prep_delete_container(struct prep *p, const struct jute_path_request *r,
                                     struct tree_txn *tx)
{
    if (!r->path)
        return ZMARSHALLINGERROR;
    size_t len = strlen(r->path), parent_len;
    int32_t err = parent_of(r->path, len, &parent_len);
    if (err != ZOK)
        return err;
    struct rec_view pv, nv;
    if ((err = get_record(p, r->path, len, &nv)) != ZOK)
        return err;
    if (nv.child_count > 0)
        return ZNOTEMPTY;
    /* Only session ephemerals are refused: ZooKeeper deletes persistent nodes too. */
    if (owner_kind(nv.st.owner, p->t->ext_types) == KIND_EPHEMERAL)
        return ZBADVERSION;
    if ((err = get_record(p, r->path, parent_len, &pv)) != ZOK)
        return err;
    return delete_records(p, r->path, len, parent_len, &pv, tx);
}

/* ---- setData, setACL, check ------------------------------------------------------------------ */

static int32_t prep_set_data(struct prep *p, const struct jute_set_data_request *r,
                             struct tree_txn *tx)
{
    if (p->ctx->session_is_closing)
        return ZSESSIONEXPIRED;
    if (!r->path)
        return ZMARSHALLINGERROR;
    if (!tree_path_valid(r->path, false))
        return ZBADARGUMENTS;
    size_t len = strlen(r->path);
    struct rec_view nv;
    int32_t err = get_record(p, r->path, len, &nv);
    if (err != ZOK)
        return err;
    if (!auth_allows(p, nv.acl, ZOO_PERM_WRITE))
        return ZNOAUTH;
    if ((err = check_version(nv.st.version, r->version)) != ZOK)
        return err;
    int32_t new_version = wrap_inc(nv.st.version);
    char *path = adup(p, r->path, len);
    if (!path || !adata(p, r->data, &tx->u.set_data.data))
        return ZOK;
    tx->u.set_data.path = path;
    tx->u.set_data.version = new_version;
    struct ov_rec *nr = rec_dup(p, path, len, &nv);
    if (nr) {
        nr->st.version = new_version;
        nr->st.mtime = p->ctx->now_ms;
        nr->st.mzxid = p->ctx->zxid;
        nr->pd = digest_pd(path, len, tx->u.set_data.data.data, tx->u.set_data.data.len);
        nr->has_pd = true;
    }
    add_rec(p, nr);
    return ZOK;
}

static int32_t prep_set_acl(struct prep *p, const struct jute_set_acl_request *r,
                            struct tree_txn *tx)
{
    if (p->ctx->session_is_closing)
        return ZSESSIONEXPIRED;
    if (!r->path)
        return ZMARSHALLINGERROR;
    if (!tree_path_valid(r->path, false))
        return ZBADARGUMENTS;
    struct jute_acl_vec acl;
    int32_t err = acl_fixup(&r->acl, p->ctx->auth, p->a, &acl, &p->pd_err);
    if (p->pd_err)
        return ZOK;
    if (err != ZOK)
        return err;
    size_t len = strlen(r->path);
    struct rec_view nv;
    if ((err = get_record(p, r->path, len, &nv)) != ZOK)
        return err;
    if (!auth_allows(p, nv.acl, ZOO_PERM_ADMIN))
        return ZNOAUTH;
    if ((err = check_version(nv.st.aversion, r->version)) != ZOK)
        return err;
    int32_t new_version = wrap_inc(nv.st.aversion);
    char *path = adup(p, r->path, len);
    if (!path)
        return ZOK;
    tx->u.set_acl = (struct jute_set_acl_txn){.path = path, .acl = acl, .version = new_version};
    struct ov_rec *nr = rec_dup(p, path, len, &nv);
    if (nr) {
        nr->st.aversion = new_version;
        /* ZooKeeper 3.8 keeps the old ACL in this record; later preps should see the new one. */
        struct ov_acl *na = ov_acl_new(&acl);
        if (!na) {
            ov_rec_discard(nr);
            nr = NULL;
        } else {
            ov_acl_put(nr->acl);
            nr->acl = na;
        }
    }
    add_rec(p, nr);
    return ZOK;
}

static int32_t prep_check(struct prep *p, const struct jute_path_version_request *r,
                          struct tree_txn *tx)
{
    if (p->ctx->session_is_closing)
        return ZSESSIONEXPIRED;
    if (!r->path)
        return ZMARSHALLINGERROR;
    if (!tree_path_valid(r->path, false))
        return ZBADARGUMENTS;
    size_t len = strlen(r->path);
    struct rec_view nv;
    int32_t err = get_record(p, r->path, len, &nv);
    if (err != ZOK)
        return err;
    if (!auth_allows(p, nv.acl, ZOO_PERM_READ))
        return ZNOAUTH;
    if ((err = check_version(nv.st.version, r->version)) != ZOK)
        return err;
    char *path = adup(p, r->path, len);
    if (!path)
        return ZOK;
    tx->u.check =
        (struct jute_path_version_request){.path = path, .version = wrap_inc(nv.st.version)};
    return ZOK;
}

/* ---- sessions ----------------------------------------------------------------------------------
 */

struct es_item {
    const char *path;
    size_t len;
    bool removed;
};

struct es_set {
    struct es_item *items;
    uint32_t n;
    uint32_t *table; /* item index + 1, 0 empty */
    uint32_t mask;
};

static uint32_t *es_slot(struct es_set *s, const char *path, size_t len)
{
    uint32_t i = (uint32_t)hash_bytes(path, len, 0x6573) & s->mask;
    for (;;) {
        uint32_t k = s->table[i];
        if (k == 0)
            return &s->table[i];
        const struct es_item *it = &s->items[k - 1];
        if (it->len == len && memcmp(it->path, path, len) == 0)
            return &s->table[i];
        i = (i + 1) & s->mask;
    }
}

static void es_add(struct es_set *s, const char *path, size_t len)
{
    uint32_t *slot = es_slot(s, path, len);
    if (*slot) {
        s->items[*slot - 1].removed = false;
        return;
    }
    s->items[s->n] = (struct es_item){.path = path, .len = len, .removed = false};
    *slot = ++s->n;
}

/*
 * closeSession: the session's ephemerals in the committed tree, adjusted by the
 * outstanding changes in order (a pending delete removes a path, a pending
 * create by this session adds one), each then deleted.
 */
static int32_t prep_close_session(struct prep *p, struct tree_txn *tx)
{
    struct tree *t = p->t;
    int64_t sid = p->ctx->session_id;
    const struct sess_ent *e = sess_lookup(t, sid);
    uint64_t cap = (e ? e->count : 0) + (uint64_t)t->ov.count;
    struct es_set s = {0};
    uint32_t tsize = 16;
    while (tsize < 2 * cap + 1)
        tsize *= 2;
    s.items = arena_alloc(p->a, (size_t)(cap ? cap : 1) * sizeof(*s.items));
    s.table = arena_alloc(p->a, (size_t)tsize * sizeof(*s.table));
    if (!s.items || !s.table) {
        p->pd_err = PD_ENOMEM;
        return ZOK;
    }
    memset(s.table, 0, (size_t)tsize * sizeof(*s.table));
    s.mask = tsize - 1;
    if (e) {
        uint32_t id = e->head;
        do {
            size_t len;
            char *path = node_path(t, id, p->a, &len);
            if (!path) {
                p->pd_err = PD_ENOMEM;
                return ZOK;
            }
            es_add(&s, path, len);
            uint32_t next, prev;
            node_get_links(node_get(t, id), &next, &prev);
            id = next;
        } while (id != e->head);
    }
    for (const struct ov_rec *r = t->ov.head; r; r = r->next) {
        if (!r->exists) {
            uint32_t *slot = es_slot(&s, r->path, r->path_len);
            if (*slot)
                s.items[*slot - 1].removed = true;
        } else if (r->st.owner == sid) {
            es_add(&s, r->path, r->path_len);
        }
    }
    char **paths = arena_alloc(p->a, (size_t)(s.n ? s.n : 1) * sizeof(*paths));
    if (!paths) {
        p->pd_err = PD_ENOMEM;
        return ZOK;
    }
    int32_t n = 0;
    for (uint32_t i = 0; i < s.n; i++) {
        const struct es_item *it = &s.items[i];
        if (it->removed)
            continue;
        char *path = adup(p, it->path, it->len); /* overlay paths die with their records */
        if (!path)
            return ZOK;
        paths[n++] = path;
        /* As ZooKeeper with digests on: the parent's pzxid changes; unlike ZooKeeper the
         * pending parent also loses the child, so a pipelined delete of it is not NOTEMPTY. */
        ptrdiff_t slash = path_last_slash(path, it->len);
        struct rec_view pv;
        if (slash >= 0 && get_record(p, path, (size_t)slash, &pv) == ZOK) {
            struct ov_rec *pr = rec_dup(p, path, (size_t)slash, &pv);
            if (pr) {
                pr->child_count--;
                pr->st.pzxid = p->ctx->zxid;
            }
            if (!add_rec(p, pr))
                return ZOK;
        }
        struct ov_rec *dr = rec_deleted(p, path, it->len);
        if (dr)
            dr->child_count = 0;
        if (!add_rec(p, dr))
            return ZOK;
    }
    tx->u.close_session.paths_to_delete =
        (struct jute_str_vec){.count = n, .is_null = false, .items = paths};
    return ZOK;
}

/* ---- dispatch
 * ------------------------------------------------------------------------------------ */

static int32_t prep_one(struct prep *p, int32_t type, const void *req, int64_t ttl,
                        struct tree_txn *tx)
{
    tx->hdr.type = type;
    switch (type) {
    case ZOO_OP_CREATE:
    case ZOO_OP_CREATE2:
    case ZOO_OP_CREATECONTAINER:
    case ZOO_OP_CREATETTL:
        return prep_create(p, type, req, ttl, tx);
    case ZOO_OP_DELETE:
        return prep_delete(p, req, tx);
    case ZOO_OP_DELETECONTAINER:
        return prep_delete_container(p, req, tx);
    case ZOO_OP_SETDATA:
        return prep_set_data(p, req, tx);
    case ZOO_OP_SETACL:
        return prep_set_acl(p, req, tx);
    case ZOO_OP_CHECK:
        return prep_check(p, req, tx);
    default:
        return ZMARSHALLINGERROR;
    }
}

/*
 * How MultiOperationRecord decodes an op: a container or TTL flag picks the
 * createContainer/createTTL opcode; a bad flag on create/create2/createContainer
 * fails the whole request; createTTL without a TTL flag becomes a plain create.
 * False: not a write op (the whole multi fails with MARSHALLINGERROR).
 */
static bool multi_op_type(const struct tree_multi_op *op, int32_t *type, int64_t *ttl)
{
    *ttl = -1;
    int32_t f = op->req.create.flags;
    switch (op->type) {
    case ZOO_OP_CREATE:
    case ZOO_OP_CREATE2:
    case ZOO_OP_CREATECONTAINER:
        if (f < ZOO_PERSISTENT || f > ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL)
            return false;
        if (f == ZOO_PERSISTENT_WITH_TTL || f == ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL)
            *type = ZOO_OP_CREATETTL; /* with ttl -1: BADARGUMENTS when prepped */
        else if (f == ZOO_CONTAINER)
            *type = ZOO_OP_CREATECONTAINER;
        else
            *type = op->type;
        return true;
    case ZOO_OP_CREATETTL:
        if (f == ZOO_PERSISTENT_WITH_TTL || f == ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL) {
            *type = ZOO_OP_CREATETTL;
            *ttl = op->req.create.ttl;
        } else {
            *type = f == ZOO_CONTAINER ? ZOO_OP_CREATECONTAINER : ZOO_OP_CREATE;
        }
        return true;
    case ZOO_OP_DELETE:
    case ZOO_OP_SETDATA:
    case ZOO_OP_CHECK:
        *type = op->type;
        return true;
    default:
        return false;
    }
}

static const void *multi_op_req(const struct tree_multi_op *op)
{
    switch (op->type) {
    case ZOO_OP_DELETE:
    case ZOO_OP_CHECK:
        return &op->req.path_version;
    case ZOO_OP_SETDATA:
        return &op->req.set_data;
    default:
        return &op->req.create;
    }
}

static void set_error(struct tree_txn *tx, int32_t err)
{
    tx->hdr.type = ZOO_OP_ERROR;
    memset(&tx->u, 0, sizeof(tx->u));
    tx->u.error.err = err;
    tx->n_sub = 0;
    tx->sub = NULL;
}

static int32_t prep_multi(struct prep *p, const struct tree_multi_op *ops, int32_t n,
                          struct tree_txn *tx)
{
    tx->hdr.type = ZOO_OP_MULTI;
    struct tree_txn *subs = arena_alloc(p->a, (size_t)(n > 0 ? n : 1) * sizeof(*subs));
    if (!subs) {
        p->pd_err = PD_ENOMEM;
        return ZOK;
    }
    for (int32_t i = 0; i < n; i++) {
        int32_t type = ops[i].type;
        int64_t ttl = -1;
        if (!multi_op_type(&ops[i], &type, &ttl))
            return ZMARSHALLINGERROR; /* the request does not decode in ZooKeeper */
    }
    struct ov_rec *mark = p->t->ov.tail;
    bool failed = false;
    for (int32_t i = 0; i < n; i++) {
        struct tree_txn *sub = &subs[i];
        memset(sub, 0, sizeof(*sub));
        sub->hdr = tx->hdr;
        if (failed) {
            set_error(sub, ZRUNTIMEINCONSISTENCY);
            continue;
        }
        int32_t type = ops[i].type;
        int64_t ttl = -1;
        multi_op_type(&ops[i], &type, &ttl);
        int32_t err = prep_one(p, type, multi_op_req(&ops[i]), ttl, sub);
        if (p->pd_err)
            return ZOK;
        if (err == ZMARSHALLINGERROR) {
            /* A runtime exception escapes ZooKeeper's multi loop: the whole request fails. */
            ov_rollback(&p->t->ov, mark);
            return err;
        }
        if (err != ZOK) {
            failed = true;
            set_error(sub, err);
            ov_rollback(&p->t->ov, mark);
        }
    }
    tx->n_sub = n;
    tx->sub = subs;
    return ZOK;
}

int tree_prep(struct tree *t, const struct tree_prep_ctx *ctx, int32_t op, const void *request,
              int32_t n_ops, struct arena *a, struct tree_txn *out)
{
    memset(out, 0, sizeof(*out));
    out->hdr = (struct jute_txn_header){.client_id = ctx->session_id,
                                        .cxid = ctx->cxid,
                                        .zxid = ctx->zxid,
                                        .time = ctx->now_ms,
                                        .type = op};
    if (ctx->fail_with) {
        set_error(out, ctx->fail_with);
        return 0;
    }
    if (!request && op != ZOO_OP_CLOSESESSION && op != ZOO_OP_RECONFIG &&
        !(op == ZOO_OP_MULTI && n_ops == 0))
        return PD_EINVAL;
    struct prep p = {.t = t, .ctx = ctx, .a = a, .pd_err = 0};
    struct ov_rec *mark = t->ov.tail;
    int32_t err;
    switch (op) {
    case ZOO_OP_CREATE:
    case ZOO_OP_CREATE2:
    case ZOO_OP_CREATECONTAINER:
    case ZOO_OP_CREATETTL: {
        const struct jute_create_request *r = request;
        err = prep_one(&p, op, request, op == ZOO_OP_CREATETTL ? r->ttl : -1, out);
        break;
    }
    case ZOO_OP_DELETE:
    case ZOO_OP_DELETECONTAINER:
    case ZOO_OP_SETDATA:
    case ZOO_OP_SETACL:
    case ZOO_OP_CHECK:
        err = prep_one(&p, op, request, -1, out);
        break;
    case ZOO_OP_MULTI:
        err = prep_multi(&p, request, n_ops, out);
        break;
    case ZOO_OP_CREATESESSION:
        out->u.create_session.timeout_ms = *(const int32_t *)request;
        err = ZOK;
        break;
    case ZOO_OP_CLOSESESSION:
        err = prep_close_session(&p, out);
        break;
    case ZOO_OP_RECONFIG:
        err = ZRECONFIGDISABLED; /* reconfigEnabled=false, ZooKeeper's default */
        break;
    default:
        return PD_EINVAL;
    }
    if (p.pd_err) {
        ov_rollback(&t->ov, mark);
        return p.pd_err;
    }
    if (err != ZOK)
        set_error(out, err);
    /* PrepRequestProcessor logs every txn with the tree digest it will lead to, except a
     * failed single op: it threw before computing one. */
    out->has_digest = err == ZOK;
    out->digest = out->has_digest ? tree_predicted_digest(t) : 0;
    return 0;
}

int32_t tree_txn_err(const struct tree_txn *txn)
{
    if (txn->hdr.type == ZOO_OP_ERROR)
        return txn->u.error.err;
    if (txn->hdr.type == ZOO_OP_MULTI) {
        for (int32_t i = 0; i < txn->n_sub; i++)
            if (txn->sub[i].hdr.type == ZOO_OP_ERROR && txn->sub[i].u.error.err != ZOK)
                return txn->sub[i].u.error.err;
    }
    return ZOK;
}

void tree_overlay_clear(struct tree *t)
{
    ov_clear(&t->ov);
}

int64_t tree_overlay_count(const struct tree *t)
{
    return t->ov.count;
}
