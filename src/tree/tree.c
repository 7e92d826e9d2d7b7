/*
 * The tree object: construction with ZooKeeper's initial nodes, reads on the
 * committed tree (DataTree.getNode/copyStat/getChildren, getEphemerals,
 * getAllChildrenNumber), container/TTL candidates (ContainerManager) and the
 * structural checker.
 */
#include "tree/tree_int.h"

#include "common/alloc.h"

/* Adds an initial node (all-zero stat, empty data) under `parent`. */
static int add_initial(struct tree *t, uint32_t parent, const char *name, uint32_t acl,
                       int32_t aversion, bool has_children, uint32_t *id)
{
    struct node_stat st;
    memset(&st, 0, sizeof(st));
    st.aversion = aversion;
    struct node_new nn;
    if (node_new_prepare(t, &nn, &st, name, strlen(name), NULL, 0, has_children) != 0)
        return PD_ENOMEM;
    node_new_commit(t, &nn, parent, acl);
    *id = nn.id;
    return 0;
}

struct tree *tree_new(tree_deliver_fn deliver, void *ctx)
{
    struct tree *t = pd_calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->deliver = deliver;
    t->deliver_ctx = ctx;
    id_table_init(t);
    ov_init(&t->ov);
    watch_init(&t->w);
    if (acl_cache_init(&t->acls) != 0)
        goto fail;
    /* DataTree(): "/" (also under ""), /zookeeper, /zookeeper/quota and /zookeeper/config,
     * the last with READ_ACL_UNSAFE set through setACL(..., -1), so aversion -1. */
    uint32_t zk, quota, config, config_acl;
    if (add_initial(t, NODE_NIL, "", ACL_SLOT_OPEN, 0, true, &t->root) != 0 ||
        add_initial(t, t->root, "zookeeper", ACL_SLOT_OPEN, 0, true, &zk) != 0 ||
        add_initial(t, zk, "quota", ACL_SLOT_OPEN, 0, false, &quota) != 0)
        goto fail;
    struct jute_acl read_acl = {.perms = ZOO_PERM_READ,
                                .id = {.scheme = (char *)"world", .id = (char *)"anyone"}};
    struct jute_acl_vec read_unsafe = {.count = 1, .items = &read_acl};
    if (acl_intern(&t->acls, &read_unsafe, &config_acl) != 0)
        goto fail;
    if (add_initial(t, zk, "config", config_acl, -1, false, &config) != 0) {
        acl_release(&t->acls, config_acl);
        goto fail;
    }
    /* approximateDataSize(): "" 0, "/" 1, "/zookeeper" 10, "/zookeeper/quota" 16,
     * "/zookeeper/config" 17. */
    t->data_size = 44;
    /* The digest counts "" and "/zookeeper"; the nodes below "/zookeeper/" count 0. */
    t->digest = (uint64_t)digest_node("", 0, node_get(t, t->root)) +
                digest_node("/zookeeper", 10, node_get(t, zk));
    return t;
fail:
    tree_free(t);
    return NULL;
}

void tree_free(struct tree *t)
{
    if (!t)
        return;
    walk_detach(t);
    watch_close(&t->w);
    ov_close(&t->ov);
    load_map_free(t);
    quota_close(&t->quotas);
    node_free_all(t);
    acl_cache_close(&t->acls);
    pd_free(t);
}

void tree_set_extended_types(struct tree *t, bool enabled)
{
    t->ext_types = enabled;
}

/* ---- reads ----------------------------------------------------------------------------- */

struct tree_node *tree_find(const struct tree *t, const char *path)
{
    if (!path)
        return NULL;
    uint32_t id = node_lookup(t, path, strlen(path));
    return id == NODE_NIL ? NULL : node_get(t, id);
}

void tree_node_stat(const struct tree_node *n, struct jute_stat *out)
{
    struct node_stat st;
    node_get_stat(n, &st);
    out->czxid = st.czxid;
    out->mzxid = st.mzxid;
    out->ctime = st.ctime;
    out->mtime = st.mtime;
    out->version = st.version;
    /* DataNode.copyStat: clients see creates plus deletes ("v3 semantics"), and the owner only
     * of session ephemerals (containers and TTL nodes show 0). */
    out->cversion = (int32_t)((uint32_t)st.cversion * 2u - node_num_children(n));
    out->aversion = st.aversion;
    out->ephemeral_owner = (n->flags & NF_SESSION) ? st.owner : 0;
    out->data_length = n->data_len > 0 ? n->data_len : 0;
    out->num_children = (int32_t)node_num_children(n);
    out->pzxid = st.pzxid;
}

struct jute_buf tree_node_data(const struct tree_node *n)
{
    struct jute_buf b = {.data = NULL, .len = n->data_len};
    if (n->data_len >= 0)
        b.data = node_data(n);
    return b;
}

void tree_node_acl(const struct tree *t, const struct tree_node *n, struct jute_acl_vec *out)
{
    *out = *acl_get(&t->acls, n->acl);
}

int64_t tree_node_acl_index(const struct tree *t, const struct tree_node *n)
{
    return t->acls.ents[n->acl].index;
}

int tree_node_children(const struct tree *t, const struct tree_node *n, struct arena *a,
                       struct jute_str_vec *out)
{
    out->count = 0;
    out->is_null = false;
    out->items = NULL;
    if (node_num_children(n) == 0)
        return 0;
    char **items = arena_alloc(a, (size_t)node_num_children(n) * sizeof(*items));
    if (!items)
        return PD_ENOMEM;
    uint32_t c = node_first_child(n);
    for (uint32_t i = 0; i < node_num_children(n); i++) {
        const struct tree_node *cn = node_get(t, c);
        uint32_t nl = node_name_len(cn);
        char *s = arena_alloc(a, (size_t)nl + 1);
        if (!s)
            return PD_ENOMEM;
        memcpy(s, node_name(cn), nl);
        s[nl] = '\0';
        items[i] = s;
        c = cn->next;
    }
    out->count = (int32_t)node_num_children(n);
    out->items = items;
    return 0;
}

int64_t tree_node_count(const struct tree *t)
{
    return (int64_t)t->n_nodes + 1;
}

int64_t tree_count_descendants(const struct tree *t, const struct tree_node *n)
{
    if (n == node_get(t, t->root))
        return (int64_t)t->n_nodes - 1;
    if (node_first_child(n) == NODE_NIL)
        return 0;
    /* Preorder walk of the subtree without a stack: down, across, up. */
    int64_t count = 0;
    const struct tree_node *cur = node_get(t, node_first_child(n));
    for (;;) {
        count++;
        if (node_first_child(cur) != NODE_NIL) {
            cur = node_get(t, node_first_child(cur));
            continue;
        }
        for (;;) {
            const struct tree_node *p = node_get(t, cur->parent);
            if (cur->next != node_first_child(p)) {
                cur = node_get(t, cur->next);
                break;
            }
            if (p == n)
                return count;
            cur = p;
        }
    }
}

int64_t tree_approx_data_size(const struct tree *t)
{
    return t->data_size;
}

int64_t tree_ephemeral_count(const struct tree *t)
{
    return t->n_ephemerals;
}

void tree_foreach_session(const struct tree *t, tree_session_visit_fn fn, void *arg)
{
    for (uint32_t i = 0; t->sessions.slots && i <= t->sessions.mask; i++)
        if (t->sessions.slots[i].session_id != 0)
            fn(t->sessions.slots[i].session_id, t->sessions.slots[i].count, arg);
}

/* Java's String.trim(): strip chars <= ' ' at both ends. */
static bool blank_or_root(const char *s)
{
    size_t n = strlen(s), i = 0;
    while (i < n && (unsigned char)s[i] <= ' ')
        i++;
    while (n > i && (unsigned char)s[n - 1] <= ' ')
        n--;
    return n == i || (n - i == 1 && s[i] == '/');
}

int tree_ephemerals(const struct tree *t, int64_t session_id, const char *prefix, struct arena *a,
                    struct jute_str_vec *out)
{
    out->count = 0;
    out->is_null = false;
    out->items = NULL;
    const struct sess_ent *e = sess_lookup(t, session_id);
    if (!e)
        return 0;
    char **items = arena_alloc(a, (size_t)e->count * sizeof(*items));
    if (!items)
        return PD_ENOMEM;
    bool all = !prefix || blank_or_root(prefix);
    size_t plen = prefix ? strlen(prefix) : 0;
    int32_t n = 0;
    uint32_t id = e->head;
    do {
        size_t len;
        char *p = node_path(t, id, a, &len);
        if (!p)
            return PD_ENOMEM;
        if (all || (len >= plen && memcmp(p, prefix, plen) == 0))
            items[n++] = p;
        uint32_t next, prev;
        node_get_links(node_get(t, id), &next, &prev);
        id = next;
    } while (id != e->head);
    out->count = n;
    out->items = items;
    return 0;
}

/* ---- containers and TTL nodes ----------------------------------------------------------- */

int tree_reap_candidates(const struct tree *t, int64_t now_ms, int64_t max_never_used_ms, int max,
                         struct arena *a, struct jute_str_vec *out)
{
    out->count = 0;
    out->is_null = false;
    out->items = NULL;
    if (max <= 0)
        return 0;
    char **items = arena_alloc(a, (size_t)max * sizeof(*items));
    if (!items)
        return PD_ENOMEM;
    int32_t n = 0;
    uint32_t heads[2] = {t->containers, t->ttls};
    for (int k = 0; k < 2 && n < max; k++) {
        if (heads[k] == NODE_NIL)
            continue;
        uint32_t id = heads[k];
        do {
            const struct tree_node *node = node_get(t, id);
            struct node_stat st;
            node_get_stat(node, &st);
            bool take = false;
            if (node_num_children(node) == 0) {
                if (k == 0) {
                    /* cversion > 0: a container that has had children; else only if it has
                     * been unused longer than znode.container.maxNeverUsedIntervalMs. */
                    take = st.cversion > 0 ||
                           (max_never_used_ms != 0 && now_ms - st.mtime > max_never_used_ms);
                } else {
                    int64_t ttl = st.owner & TTL_VALUE_MASK;
                    take = ttl != 0 && now_ms - st.mtime > ttl;
                }
            }
            if (take) {
                char *p = node_path(t, id, a, NULL);
                if (!p)
                    return PD_ENOMEM;
                items[n++] = p;
            }
            uint32_t next, prev;
            node_get_links(node, &next, &prev);
            id = next;
        } while (id != heads[k] && n < max);
    }
    out->count = n;
    out->items = items;
    return 0;
}

/* ---- checker ------------------------------------------------------------------------------ */

int tree_check(const struct tree *t, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    int rc = node_check(t, why);
    if (rc == PD_ENOMEM)
        *why = "out of memory while checking";
    if (rc == 0)
        rc = ov_check(&t->ov, why);
    if (rc == 0)
        rc = watch_check(&t->w, why);
    uint64_t digest;
    if (rc == 0 && (rc = digest_compute(t, &digest)) == PD_ENOMEM)
        *why = "out of memory while checking";
    if (rc == 0 && digest != t->digest) {
        *why = "tree digest differs from the sum of the node digests";
        rc = PD_ECORRUPT;
    }
    return rc;
}
