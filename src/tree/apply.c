/*
 * The write path's second half: apply a txn to the committed tree, as
 * DataTree.processTxn / createNode / deleteNode / setData / setACL /
 * killSession, firing watches in DataTree's order:
 *
 *   create  NodeCreated on the path (data table), then NodeChildrenChanged
 *           on the parent (child table)
 *   delete  NodeDeleted on the path (data table, then child table without
 *           a second event per watcher), then NodeChildrenChanged on the parent
 *   setData NodeDataChanged on the path (data table)
 *
 * Creates, deletes and setData below a quota'd path also rewrite its
 * zookeeper_stats node (quota.c).
 *
 * Each single op prepares every allocation first (node_*_prepare,
 * acl_intern, quota_prepare) and then commits, so PD_ENOMEM leaves the tree
 * untouched.
 * Errors a valid log never produces (NONODE, NODEEXISTS on replay over a
 * fuzzy snapshot) are reported in the result as ZooKeeper does, including
 * its parent cversion repair for a create that finds the node already there.
 */
#include "tree/tree_int.h"

#include "common/alloc.h"

struct path_parts {
    const char *parent; /* [path, path + parent_len) ; "" is the root */
    size_t parent_len;
    const char *name;
    size_t name_len;
};

static bool split_path(const char *path, size_t len, struct path_parts *pp)
{
    ptrdiff_t slash = path_last_slash(path, len);
    if (slash < 0)
        return false;
    pp->parent = path;
    pp->parent_len = (size_t)slash;
    pp->name = path + slash + 1;
    pp->name_len = len - (size_t)slash - 1;
    return true;
}

static char *arena_copy(struct arena *a, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = arena_alloc(a, n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/*
 * The path the parent's NodeChildrenChanged names ("" becomes "/"),
 * NUL-terminated in the arena; NULL on OOM.
 */
static char *parent_event_path(const struct path_parts *pp, struct arena *a, size_t *len)
{
    *len = pp->parent_len ? pp->parent_len : 1;
    char *p = arena_alloc(a, *len + 1);
    if (p) {
        memcpy(p, pp->parent_len ? pp->parent : "/", *len);
        p[*len] = '\0';
    }
    return p;
}

static void client_stat(const struct tree *t, uint32_t id, struct jute_stat *out)
{
    tree_node_stat(node_get(t, id), out);
}

/* ---- create ----------------------------------------------------------------------------- */

/* DataTree.setCversionPzxid */
static int32_t set_cversion_pzxid(struct tree *t, const char *path, size_t len, int32_t cversion,
                                  int64_t zxid, int *pd_err)
{
    if (len > 0 && path[len - 1] == '/')
        len--;
    uint32_t id = node_lookup(t, path, len);
    if (id == NODE_NIL)
        return ZNONODE;
    struct node_change c = {.id = id};
    node_get_stat(node_get(t, id), &c.st);
    if (cversion == -1)
        cversion = (int32_t)((uint32_t)c.st.cversion + 1u);
    if (cversion <= c.st.cversion)
        return ZOK;
    c.st.cversion = cversion;
    c.st.pzxid = zxid;
    if (node_change_prepare(t, &c) != 0) {
        *pd_err = PD_ENOMEM;
        return ZOK;
    }
    struct digest_mark dig;
    digest_begin(t, path, len, id, &dig);
    node_change_commit(t, &c);
    digest_end(t, path, len, id, &dig, false);
    return ZOK;
}

static int apply_create(struct tree *t, const struct jute_txn_header *hdr, const char *path,
                        struct jute_buf data, const struct jute_acl_vec *acl, int64_t owner,
                        int32_t parent_cversion, bool want_stat, struct arena *a,
                        struct tree_result *res)
{
    size_t len = strlen(path);
    struct path_parts pp;
    if (!split_path(path, len, &pp)) {
        res->err = ZNONODE;
        return 0;
    }
    uint32_t parent = node_lookup(t, pp.parent, pp.parent_len);
    if (parent == NODE_NIL) {
        res->err = ZNONODE;
        return 0;
    }
    uint32_t existing =
        pp.name_len ? node_child(t, parent, pp.name, pp.name_len) : node_lookup(t, path, len);
    if (existing != NODE_NIL || pp.name_len == 0) {
        /* ZooKeeper gives the existing node the txn's ACL before failing (fuzzy snapshot
         * replay); it leaks the old list's reference, here it is released. */
        if (existing != NODE_NIL) {
            uint32_t slot;
            if (acl_intern(&t->acls, acl, &slot) != 0)
                return PD_ENOMEM;
            struct tree_node *n = node_get(t, existing);
            acl_release(&t->acls, n->acl);
            n->acl = slot;
        }
        res->err = existing != NODE_NIL ? ZNODEEXISTS : ZNONODE;
        return 0;
    }

    size_t elen;
    char *ep = parent_event_path(&pp, a, &elen);
    if (!ep)
        return PD_ENOMEM;
    struct node_change pc = {.id = parent};
    node_get_stat(node_get(t, parent), &pc.st);
    if (parent_cversion == -1)
        parent_cversion = (int32_t)((uint32_t)pc.st.cversion + 1u);
    /* Only move cversion and pzxid forward: replaying a create whose node was deleted
     * in the fuzzy range must not roll them back. */
    bool counts = parent_cversion > pc.st.cversion;
    if (counts) {
        pc.st.cversion = parent_cversion;
        pc.st.pzxid = hdr->zxid;
    }
    /* A parent's first child also gives it room for a child list. */
    bool parent_changes = counts || !(node_get(t, parent)->flags & NF_CHILDREN);
    pc.want_children = true;
    if (parent_changes && node_change_prepare(t, &pc) != 0)
        return PD_ENOMEM;
    struct node_stat st = {.czxid = hdr->zxid,
                           .mzxid = hdr->zxid,
                           .pzxid = hdr->zxid,
                           .ctime = hdr->time,
                           .mtime = hdr->time,
                           .owner = owner};
    /* Quotas: a new zookeeper_stats node starts with its path's counts; a new
     * zookeeper_limits node makes its path quota'd; the create counts under its quota. */
    struct jute_buf ndata = data;
    int stats = quota_stats_data(t, pp.parent, pp.parent_len, pp.name, pp.name_len, a, &ndata);
    int qerr = 0;
    void *limit =
        stats < 0 ? NULL
                  : quota_limit_prepare(t, pp.parent, pp.parent_len, pp.name, pp.name_len, &qerr);
    struct quota_upd qu = {0};
    struct node_new nn = {0};
    uint32_t slot;
    if (stats < 0 || qerr ||
        quota_prepare(t, path, len, data.len > 0 ? data.len : 0, 1, parent, NODE_NIL, a, &qu) !=
            0 ||
        node_new_prepare(t, &nn, &st, pp.name, pp.name_len, ndata.data, ndata.len, false) != 0 ||
        acl_intern(&t->acls, acl, &slot) != 0) {
        node_new_abort(t, &nn);
        quota_abort(&qu);
        pd_free(limit);
        node_change_abort(&pc);
        return PD_ENOMEM;
    }
    /* Nothing can fail from here on. */
    if (parent_changes) {
        struct digest_mark dig;
        digest_begin(t, pp.parent, pp.parent_len, parent, &dig);
        node_change_commit(t, &pc);
        digest_end(t, pp.parent, pp.parent_len, parent, &dig, false);
    }
    node_new_commit(t, &nn, parent, slot);
    t->digest += digest_node(path, len, node_get(t, nn.id));
    quota_limit_commit(t, limit);
    quota_commit(t, &qu);
    /* ZooKeeper's cached size counts the txn's data, not the stats it wrote instead */
    t->data_size += utf16_len(path, len) + (data.len > 0 ? data.len : 0);
    if (stats > 0)
        t->size_skew += (data.len > 0 ? data.len : 0) - (ndata.len > 0 ? ndata.len : 0);
    if (want_stat)
        client_stat(t, nn.id, &res->stat);

    const struct jute_acl_vec *nacl = acl_get(&t->acls, slot);
    const struct jute_acl_vec *pacl = acl_get(&t->acls, node_get(t, parent)->acl);
    watch_trigger(t, WT_DATA, path, len, ZOO_EVENT_CREATED, nacl, ++t->w.seq);
    watch_trigger(t, WT_CHILD, ep, elen, ZOO_EVENT_CHILDREN_CHANGED, pacl, ++t->w.seq);
    return 0;
}

/* ---- delete -------------------------------------------------------------------------------- */

static int apply_delete(struct tree *t, const char *path, int64_t zxid, struct arena *a,
                        struct tree_result *res)
{
    size_t len = strlen(path);
    struct path_parts pp;
    uint32_t parent;
    if (!split_path(path, len, &pp) ||
        (parent = node_lookup(t, pp.parent, pp.parent_len)) == NODE_NIL) {
        res->err = ZNONODE;
        return 0;
    }
    uint32_t id = pp.name_len ? node_child(t, parent, pp.name, pp.name_len) : NODE_NIL;
    if (id != NODE_NIL && node_num_children(node_get(t, id)) > 0) {
        res->err = ZNOTEMPTY; /* never in a valid log; ZooKeeper would orphan the children */
        return 0;
    }
    size_t elen;
    char *ep = parent_event_path(&pp, a, &elen);
    if (!ep)
        return PD_ENOMEM;
    /* The parent's pzxid moves forward even when the child is already gone. */
    struct node_change pc = {.id = parent};
    node_get_stat(node_get(t, parent), &pc.st);
    bool parent_changes = zxid > pc.st.pzxid;
    if (parent_changes) {
        pc.st.pzxid = zxid;
        if (node_change_prepare(t, &pc) != 0)
            return PD_ENOMEM;
    }
    struct quota_upd qu = {0};
    if (id != NODE_NIL) {
        const struct tree_node *n = node_get(t, id);
        int64_t bytes = n->data_len > 0 ? n->data_len : 0;
        if (quota_prepare(t, path, len, -bytes, -1, parent, id, a, &qu) != 0) {
            node_change_abort(&pc);
            return PD_ENOMEM;
        }
    }
    /* Nothing can fail from here on. */
    if (parent_changes) {
        struct digest_mark dig;
        digest_begin(t, pp.parent, pp.parent_len, parent, &dig);
        node_change_commit(t, &pc);
        digest_end(t, pp.parent, pp.parent_len, parent, &dig, false);
    }
    if (id == NODE_NIL) {
        res->err = ZNONODE;
        return 0;
    }
    const struct tree_node *n = node_get(t, id);
    int64_t size = utf16_len(path, len) + (n->data_len > 0 ? n->data_len : 0);
    t->digest -= digest_node(path, len, n);
    uint32_t slot;
    node_remove(t, id, &slot);
    t->data_size -= size;
    quota_limit_deleted(t, pp.parent, pp.parent_len, pp.name, pp.name_len);
    quota_commit(t, &qu);

    /* The node's ACL reference is held until its watchers have been told. */
    const struct jute_acl_vec *nacl = acl_get(&t->acls, slot);
    uint64_t seq = ++t->w.seq;
    watch_trigger(t, WT_DATA, path, len, ZOO_EVENT_DELETED, nacl, seq);
    watch_trigger(t, WT_CHILD, path, len, ZOO_EVENT_DELETED, nacl, seq);
    const struct jute_acl_vec *pacl = acl_get(&t->acls, node_get(t, parent)->acl);
    watch_trigger(t, WT_CHILD, ep, elen, ZOO_EVENT_CHILDREN_CHANGED, pacl, ++t->w.seq);
    acl_release(&t->acls, slot);
    return 0;
}

/* ---- setData, setACL ------------------------------------------------------------------------- */

static int apply_set_data(struct tree *t, const struct jute_txn_header *hdr,
                          const struct jute_set_data_txn *tx, struct arena *a,
                          struct tree_result *res)
{
    size_t len = strlen(tx->path);
    uint32_t id = node_lookup(t, tx->path, len);
    if (id == NODE_NIL) {
        res->err = ZNONODE;
        return 0;
    }
    struct node_change c = {
        .id = id, .set_data = true, .data = tx->data.data, .data_len = tx->data.len};
    const struct tree_node *n = node_get(t, id);
    int32_t old_len = n->data_len > 0 ? n->data_len : 0;
    int32_t new_len = tx->data.len > 0 ? tx->data.len : 0;
    node_get_stat(n, &c.st);
    c.st.mtime = hdr->time;
    c.st.mzxid = hdr->zxid;
    c.st.version = tx->version;
    struct quota_upd qu;
    if (quota_prepare(t, tx->path, len, (int64_t)new_len - old_len, 0, id, NODE_NIL, a, &qu) != 0)
        return PD_ENOMEM;
    if (node_change_prepare(t, &c) != 0) {
        quota_abort(&qu);
        return PD_ENOMEM;
    }
    struct digest_mark dig;
    digest_begin(t, tx->path, len, id, &dig);
    node_change_commit(t, &c);
    digest_end(t, tx->path, len, id, &dig, true);
    quota_commit(t, &qu);
    t->data_size += (int64_t)new_len - old_len;
    client_stat(t, id, &res->stat);
    const struct jute_acl_vec *acl = acl_get(&t->acls, node_get(t, id)->acl);
    watch_trigger(t, WT_DATA, tx->path, len, ZOO_EVENT_DATA_CHANGED, acl, ++t->w.seq);
    return 0;
}

static int apply_set_acl(struct tree *t, const struct jute_set_acl_txn *tx, struct tree_result *res)
{
    size_t len = strlen(tx->path);
    uint32_t id = node_lookup(t, tx->path, len);
    if (id == NODE_NIL) {
        res->err = ZNONODE;
        return 0;
    }
    struct node_change c = {.id = id};
    node_get_stat(node_get(t, id), &c.st);
    c.st.aversion = tx->version;
    if (node_change_prepare(t, &c) != 0)
        return PD_ENOMEM;
    /* Interned before the old list is released (ZooKeeper releases first, which can hand
     * the same list a new index; the order here keeps the op all-or-nothing). */
    uint32_t slot;
    if (acl_intern(&t->acls, &tx->acl, &slot) != 0) {
        node_change_abort(&c);
        return PD_ENOMEM;
    }
    struct digest_mark dig;
    digest_begin(t, tx->path, len, id, &dig);
    node_change_commit(t, &c);
    digest_end(t, tx->path, len, id, &dig, false);
    struct tree_node *n = node_get(t, id);
    acl_release(&t->acls, n->acl);
    n->acl = slot;
    client_stat(t, id, &res->stat);
    return 0;
}

/* ---- closeSession ------------------------------------------------------------------------------
 */

static int apply_close_session(struct tree *t, const struct jute_txn_header *hdr,
                               const struct jute_close_session_txn *tx)
{
    struct tree_result ignored;
    struct arena a;
    arena_init(&a, 4096);
    int rc = 0;
    for (int32_t i = 0; i < tx->paths_to_delete.count && rc == 0; i++) {
        const char *p = tx->paths_to_delete.items[i];
        if (p)
            rc = apply_delete(t, p, hdr->zxid, &a, &ignored);
        arena_reset(&a);
    }
    /* Ephemerals of the session the txn did not list (or a txn without a list, from
     * before CloseSessionTxn): ZooKeeper deletes them too. */
    while (rc == 0) {
        const struct sess_ent *e = sess_lookup(t, hdr->client_id);
        if (!e)
            break;
        uint32_t head = e->head;
        char *p = node_path(t, head, &a, NULL);
        if (!p) {
            rc = PD_ENOMEM;
            break;
        }
        if ((rc = apply_delete(t, p, hdr->zxid, &a, &ignored)) != 0)
            break;
        e = sess_lookup(t, hdr->client_id);
        if (e && e->head == head)
            break; /* could not delete it: never loop */
        arena_reset(&a);
    }
    arena_close(&a);
    return rc;
}

/* ---- processTxn
 * ------------------------------------------------------------------------------------ */

static int apply_one(struct tree *t, const struct tree_txn *txn, struct arena *a,
                     struct tree_result *res);

static int apply_multi(struct tree *t, const struct tree_txn *txn, struct arena *a,
                       struct tree_result *res)
{
    int32_t n = txn->n_sub;
    res->sub = arena_alloc(a, (size_t)(n > 0 ? n : 1) * sizeof(*res->sub));
    if (!res->sub)
        return PD_ENOMEM;
    res->n_sub = 0;
    bool failed = false;
    for (int32_t i = 0; i < n; i++)
        if (txn->sub[i].hdr.type == ZOO_OP_ERROR)
            failed = true;
    bool post_failed = false;
    for (int32_t i = 0; i < n; i++) {
        const struct tree_txn *s = &txn->sub[i];
        struct tree_txn conv;
        if (s->hdr.type == ZOO_OP_ERROR)
            post_failed = true;
        if (failed && s->hdr.type != ZOO_OP_ERROR) {
            /* A failed multi applies nothing: earlier ops read OK, later ones
             * RUNTIMEINCONSISTENCY. */
            memset(&conv, 0, sizeof(conv));
            conv.hdr = s->hdr;
            conv.hdr.type = ZOO_OP_ERROR;
            conv.u.error.err = post_failed ? ZRUNTIMEINCONSISTENCY : ZOK;
            s = &conv;
        }
        struct jute_txn_header sub_hdr = txn->hdr;
        sub_hdr.type = s->hdr.type;
        struct tree_txn one = *s;
        one.hdr = sub_hdr;
        struct tree_result *r = &res->sub[i];
        int rc = apply_one(t, &one, a, r);
        res->n_sub = i + 1;
        if (rc != 0)
            return rc;
        if (r->err != 0 && res->err == 0)
            res->err = r->err;
    }
    return 0;
}

static int apply_one(struct tree *t, const struct tree_txn *txn, struct arena *a,
                     struct tree_result *res)
{
    const struct jute_txn_header *hdr = &txn->hdr;
    memset(res, 0, sizeof(*res));
    res->type = hdr->type;
    int rc = 0;
    int pd_err = 0;
    const char *path = NULL;
    switch (hdr->type) {
    case ZOO_OP_CREATE:
    case ZOO_OP_CREATE2: {
        const struct jute_create_txn *c = &txn->u.create;
        path = c->path;
        rc = apply_create(t, hdr, c->path, c->data, &c->acl, c->ephemeral ? hdr->client_id : 0,
                          c->parent_cversion, hdr->type == ZOO_OP_CREATE2, a, res);
        break;
    }
    case ZOO_OP_CREATETTL: {
        const struct jute_create_ttl_txn *c = &txn->u.create_ttl;
        path = c->path;
        if (c->ttl <= 0 || c->ttl > ZOO_TTL_MAX) {
            res->err = ZBADARGUMENTS; /* ZooKeeper throws out of processTxn */
            break;
        }
        rc = apply_create(t, hdr, c->path, c->data, &c->acl, ZOO_TTL_MASK | c->ttl,
                          c->parent_cversion, true, a, res);
        break;
    }
    case ZOO_OP_CREATECONTAINER: {
        const struct jute_create_container_txn *c = &txn->u.create_container;
        path = c->path;
        rc = apply_create(t, hdr, c->path, c->data, &c->acl, ZOO_CONTAINER_OWNER,
                          c->parent_cversion, true, a, res);
        break;
    }
    case ZOO_OP_DELETE:
    case ZOO_OP_DELETECONTAINER:
        path = txn->u.del.path;
        rc = apply_delete(t, path, hdr->zxid, a, res);
        break;
    case ZOO_OP_SETDATA:
        path = txn->u.set_data.path;
        rc = apply_set_data(t, hdr, &txn->u.set_data, a, res);
        break;
    case ZOO_OP_SETACL:
        path = txn->u.set_acl.path;
        rc = apply_set_acl(t, &txn->u.set_acl, res);
        break;
    case ZOO_OP_CLOSESESSION:
        rc = apply_close_session(t, hdr, &txn->u.close_session);
        break;
    case ZOO_OP_CREATESESSION:
        break;
    case ZOO_OP_ERROR:
        res->err = txn->u.error.err;
        break;
    case ZOO_OP_CHECK:
        path = txn->u.check.path;
        break;
    case ZOO_OP_MULTI:
        rc = apply_multi(t, txn, a, res);
        break;
    default:
        break; /* ZooKeeper ignores unknown txn types */
    }
    if (rc != 0)
        return rc;
    if (path && !(res->path = arena_copy(a, path)))
        return PD_ENOMEM;
    /* A create replayed over an existing node still moves the parent's cversion/pzxid. */
    if (hdr->type == ZOO_OP_CREATE && res->err == ZNODEEXISTS) {
        size_t len = strlen(path);
        ptrdiff_t slash = path_last_slash(path, len);
        int32_t e = set_cversion_pzxid(t, path, (size_t)slash, txn->u.create.parent_cversion,
                                       hdr->zxid, &pd_err);
        if (pd_err)
            return pd_err;
        if (e != ZOK)
            res->err = e;
    }
    return 0;
}

int tree_apply(struct tree *t, const struct tree_txn *txn, struct arena *a, struct tree_result *res)
{
    int rc = apply_one(t, txn, a, res);
    if (rc == 0)
        ov_applied(&t->ov, txn->hdr.zxid);
    return rc;
}
