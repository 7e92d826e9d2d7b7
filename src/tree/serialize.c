/*
 * Snapshot support, as DataTree.serialize/deserialize and
 * ReferenceCountedACLCache.serialize/deserialize, over callbacks and plain
 * records: the storage layer owns the bytes and the file format.
 *
 * Writing: tree_foreach_acl() gives the ACL map, tree_foreach_node() (walk.c)
 * the nodes in serializeNode order (preorder from the root, named ""), with
 * tree_node_stat_persisted() and tree_node_acl_index() for each.
 *
 * Reading: tree_load_begin() empties the tree; tree_load_acl() fills the ACL
 * map (with its indexes: nodes refer to lists by index); tree_load_node()
 * adds nodes, parents first; tree_load_end() drops the ACL lists no node
 * uses (purgeUnused) and sets the approximate data size as ZooKeeper does
 * after a load (approximateDataSize(), which counts the root under "" and
 * under "/", its data twice).
 */
#include "tree/tree_int.h"

#include "common/alloc.h"

#include <stdlib.h>

void tree_node_stat_persisted(const struct tree_node *n, struct jute_stat_persisted *out)
{
    struct node_stat st;
    node_get_stat(n, &st);
    *out = (struct jute_stat_persisted){.czxid = st.czxid,
                                        .mzxid = st.mzxid,
                                        .ctime = st.ctime,
                                        .mtime = st.mtime,
                                        .version = st.version,
                                        .cversion = st.cversion,
                                        .aversion = st.aversion,
                                        .ephemeral_owner = st.owner,
                                        .pzxid = st.pzxid};
}

/* ---- writing --------------------------------------------------------------------------- */

struct idx_slot {
    int64_t index;
    uint32_t slot;
};

static int cmp_idx(const void *a, const void *b)
{
    int64_t x = ((const struct idx_slot *)a)->index, y = ((const struct idx_slot *)b)->index;
    return (x > y) - (x < y);
}

int tree_foreach_acl(const struct tree *t, tree_acl_visit_fn fn, void *arg)
{
    const struct acl_cache *c = &t->acls;
    struct idx_slot *v = pd_malloc((c->count ? c->count : 1) * sizeof(*v));
    if (!v)
        return PD_ENOMEM;
    uint32_t n = 0;
    for (uint32_t s = 1; s < c->n_ents; s++)
        if (c->ents[s].index)
            v[n++] = (struct idx_slot){.index = c->ents[s].index, .slot = s};
    qsort(v, n, sizeof(*v), cmp_idx);
    int rc = 0;
    for (uint32_t i = 0; i < n && rc == 0; i++)
        rc = fn(v[i].index, &c->ents[v[i].slot].vec, arg);
    pd_free(v);
    return rc;
}

/* ---- reading ------------------------------------------------------------------------------ */

static uint32_t load_find(const struct tree *t, int64_t index, bool *found)
{
    *found = false;
    if (!t->load_idx)
        return 0;
    uint32_t i = (uint32_t)hash_mix64((uint64_t)index) & t->load_mask;
    while (t->load_slot[i]) {
        if (t->load_idx[i] == index) {
            *found = true;
            return i;
        }
        i = (i + 1) & t->load_mask;
    }
    return i;
}

static int load_reserve(struct tree *t)
{
    uint32_t cap = t->load_idx ? t->load_mask + 1 : 0;
    if ((uint64_t)(t->load_count + 1) * 4 <= (uint64_t)cap * 3)
        return 0;
    uint32_t ncap = cap ? cap * 2 : 16;
    int64_t *ni = pd_calloc(ncap, sizeof(*ni));
    uint32_t *ns = pd_calloc(ncap, sizeof(*ns));
    if (!ni || !ns) {
        pd_free(ni);
        pd_free(ns);
        return PD_ENOMEM;
    }
    for (uint32_t i = 0; i < cap; i++) {
        if (!t->load_slot[i])
            continue;
        uint32_t j = (uint32_t)hash_mix64((uint64_t)t->load_idx[i]) & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ni[j] = t->load_idx[i];
        ns[j] = t->load_slot[i];
    }
    pd_free(t->load_idx);
    pd_free(t->load_slot);
    t->load_idx = ni;
    t->load_slot = ns;
    t->load_mask = ncap - 1;
    return 0;
}

void load_map_free(struct tree *t)
{
    pd_free(t->load_idx);
    pd_free(t->load_slot);
    t->load_idx = NULL;
    t->load_slot = NULL;
    t->load_mask = 0;
    t->load_count = 0;
    pd_free(t->load_ppath);
    t->load_ppath = NULL;
    t->load_plen = 0;
    t->load_pcap = 0;
    t->load_parent = NODE_NIL;
}

int tree_load_begin(struct tree *t)
{
    walk_detach(t); /* the nodes it walks are about to go */
    ov_clear(&t->ov);
    node_free_all(t);
    id_table_init(t);
    t->n_nodes = 0;
    t->root = NODE_NIL;
    t->containers = NODE_NIL;
    t->ttls = NODE_NIL;
    t->n_ephemerals = 0;
    t->data_size = 0;
    t->digest = 0;
    t->load_unknown_acls = 0;
    t->size_skew = 0;
    t->sessions.count = 0;
    t->sessions.mask = 0;
    load_map_free(t);
    quota_close(&t->quotas);
    acl_cache_close(&t->acls);
    return acl_cache_init(&t->acls);
}

int tree_load_hint(struct tree *t, uint64_t expected_nodes)
{
    /* More slots than ids, or more than memory can hold, is not a useful hint. */
    if (expected_nodes > ((uint64_t)1 << 31))
        return PD_ENOMEM;
    return slots_reserve(t, expected_nodes);
}

/* The parent of the node at path[0, slash): the previous node's parent when they are siblings. */
static uint32_t load_parent(struct tree *t, const char *path, size_t slash)
{
    if (t->load_parent != NODE_NIL && slash == t->load_plen &&
        (slash == 0 || memcmp(path, t->load_ppath, slash) == 0))
        return t->load_parent;
    uint32_t parent = node_lookup(t, path, slash);
    if (parent == NODE_NIL)
        return NODE_NIL;
    t->load_parent = NODE_NIL;
    if (slash > t->load_pcap) {
        size_t cap = slash > 2 * t->load_pcap ? slash : 2 * t->load_pcap;
        char *p = pd_realloc(t->load_ppath, cap);
        if (!p)
            return parent; /* no cache, no harm */
        t->load_ppath = p;
        t->load_pcap = cap;
    }
    if (slash > 0)
        memcpy(t->load_ppath, path, slash);
    t->load_plen = slash;
    t->load_parent = parent;
    return parent;
}

int tree_load_acl(struct tree *t, int64_t index, const struct jute_acl_vec *acl)
{
    if (index == 0 || index == -1)
        return PD_ECORRUPT; /* never handed out by ZooKeeper's cache */
    if (!t->acls.ents)
        return PD_ENOMEM; /* tree_load_begin failed */
    bool found;
    load_find(t, index, &found);
    if (found)
        return PD_ECORRUPT;
    if (load_reserve(t) != 0)
        return PD_ENOMEM;
    uint32_t slot;
    if (acl_load(&t->acls, index, acl, &slot) != 0)
        return PD_ENOMEM;
    uint32_t i = load_find(t, index, &found);
    t->load_idx[i] = index;
    t->load_slot[i] = slot;
    t->load_count++;
    return 0;
}

int tree_load_node(struct tree *t, const char *path, const struct jute_stat_persisted *sp,
                   struct jute_buf data, int64_t acl_index)
{
    uint32_t slot = ACL_SLOT_OPEN;
    bool is_unknown_acl = false;
    if (acl_index != -1) {
        bool found;
        uint32_t i = load_find(t, acl_index, &found);
        if (found)
            slot = t->load_slot[i];
        else
            is_unknown_acl = true;
    }
    size_t len = strlen(path);
    uint32_t parent = NODE_NIL;
    uint32_t hash = 0;
    struct path_name {
        const char *p;
        size_t n;
    } name = {path, 0};
    if (len == 0) {
        if (t->root != NODE_NIL)
            return PD_ECORRUPT;
    } else {
        ptrdiff_t slash = path_last_slash(path, len);
        if (slash < 0 || t->root == NODE_NIL)
            return PD_ECORRUPT;
        parent = load_parent(t, path, (size_t)slash);
        name.p = path + slash + 1;
        name.n = len - (size_t)slash - 1;
        if (parent == NODE_NIL || name.n == 0)
            return PD_ECORRUPT;
        /* The duplicate check probes the slots the insert will: with the hash in the slots
         * it rarely reads a node, and the hash is computed once for both. */
        hash = child_hash(parent, name.p, name.n);
        if (node_child_h(t, parent, name.p, name.n, hash) != NODE_NIL)
            return PD_ECORRUPT;
        if (node_make_parent(t, parent) != 0)
            return PD_ENOMEM;
    }
    struct node_stat st = {.czxid = sp->czxid,
                           .mzxid = sp->mzxid,
                           .ctime = sp->ctime,
                           .mtime = sp->mtime,
                           .pzxid = sp->pzxid,
                           .owner = sp->ephemeral_owner,
                           .version = sp->version,
                           .cversion = sp->cversion,
                           .aversion = sp->aversion};
    if (is_unknown_acl) {
        /* An index the file's ACL map lacks: a fuzzy snapshot taken while a new list was
         * made. ZooKeeper (ReferenceCountedACLCache.addUsage) ignores it and the replayed
         * create/setACL sets the real list. Until then the node gets an empty list, which
         * gives nobody but super any access (never the open ACL). */
        struct jute_acl_vec none = {.count = 0, .is_null = false, .items = NULL};
        if (acl_intern(&t->acls, &none, &slot) != 0)
            return PD_ENOMEM;
        t->load_unknown_acls++;
    }
    struct node_new nn;
    if (node_new_prepare(t, &nn, &st, name.p, name.n, data.data, data.len, len == 0) != 0) {
        node_new_abort(t, &nn);
        if (is_unknown_acl)
            acl_release(&t->acls, slot);
        return PD_ENOMEM;
    }
    if (len != 0) {
        nn.has_hash = true;
        nn.hash = hash;
    }
    if (!is_unknown_acl) /* acl_intern took the reference */
        acl_addref(&t->acls, slot);
    node_new_commit(t, &nn, parent, slot);
    if (len == 0)
        t->root = nn.id;
    t->data_size += utf16_len(path, len) + (data.len > 0 ? data.len : 0);
    t->digest += digest_node(path, len, node_get(t, nn.id));
    return 0;
}

int tree_load_end(struct tree *t)
{
    load_map_free(t);
    if (t->root == NODE_NIL)
        return PD_ECORRUPT;
    acl_purge_unused(&t->acls);
    const struct tree_node *root = node_get(t, t->root);
    t->size_skew = root->data_len > 0 ? root->data_len : 0;
    t->data_size += 1 + t->size_skew; /* "/" is the root's second key */
    return quota_setup(t);
}

uint32_t tree_load_unknown_acls(const struct tree *t)
{
    return t->load_unknown_acls;
}
