/*
 * Helpers shared by the snapshot tests: a deep copy of a tree's snapshot view
 * (ACL map and nodes with their persisted stat, data and ACL index) that two
 * trees can be compared by, and a session collector. They allocate with plain
 * malloc so that OOM sweeps (pd_alloc_fail_after) never hit them.
 */
#ifndef PD_TEST_SNAP_TEST_H
#define PD_TEST_SNAP_TEST_H

#include "t.h"

#include "common/err.h"
#include "storage/snapshot.h"
#include "tree/tree.h"

#include <stdlib.h>
#include <string.h>

static void *sd_xalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

static char *sd_xstrdup(const char *s)
{
    return strcpy(sd_xalloc(strlen(s) + 1), s);
}

struct sd_node {
    char *path;
    struct jute_stat_persisted st;
    int32_t dlen;
    uint8_t *data;
    int64_t acl;
};

struct sd_acl {
    int64_t index;
    int32_t count;
    struct jute_acl *items; /* deep copies */
};

struct sd {
    struct sd_node *nodes;
    size_t n, cap;
    struct sd_acl *acls;
    size_t n_acls, cap_acls;
    const struct tree *t;
};

static int sd_acl_cb(int64_t index, const struct jute_acl_vec *acl, void *arg)
{
    struct sd *d = arg;
    if (d->n_acls == d->cap_acls) {
        d->cap_acls = d->cap_acls ? d->cap_acls * 2 : 8;
        d->acls = realloc(d->acls, d->cap_acls * sizeof(*d->acls));
    }
    struct sd_acl *a = &d->acls[d->n_acls++];
    a->index = index;
    a->count = acl->count;
    a->items = sd_xalloc((size_t)(acl->count ? acl->count : 1) * sizeof(*a->items));
    for (int32_t i = 0; i < acl->count; i++) {
        a->items[i].perms = acl->items[i].perms;
        a->items[i].id.scheme = sd_xstrdup(acl->items[i].id.scheme);
        a->items[i].id.id = sd_xstrdup(acl->items[i].id.id);
    }
    return 0;
}

static void sd_add_node(struct sd *d, const char *path, const struct jute_stat_persisted *st,
                        struct jute_buf b, int64_t acl)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 64;
        d->nodes = realloc(d->nodes, d->cap * sizeof(*d->nodes));
    }
    struct sd_node *x = &d->nodes[d->n++];
    x->path = sd_xstrdup(path);
    x->st = *st;
    x->dlen = b.len;
    x->data = NULL;
    if (b.len > 0) {
        x->data = sd_xalloc((size_t)b.len);
        memcpy(x->data, b.data, (size_t)b.len);
    }
    x->acl = acl;
}

static int sd_node_cb(const char *path, size_t len, const struct tree_node *n, void *arg)
{
    struct sd *d = arg;
    (void)len;
    struct jute_stat_persisted st;
    tree_node_stat_persisted(n, &st);
    sd_add_node(d, path, &st, tree_node_data(n), tree_node_acl_index(d->t, n));
    return 0;
}

/* The snapshot view of t, nodes in preorder. */
static void sd_from_tree(const struct tree *t, struct sd *d)
{
    memset(d, 0, sizeof(*d));
    d->t = t;
    CHECK_EQ_INT(tree_foreach_acl(t, sd_acl_cb, d), 0);
    CHECK_EQ_INT(tree_foreach_node(t, sd_node_cb, d), 0);
}

static int sd_cmp_path(const void *a, const void *b)
{
    return strcmp(((const struct sd_node *)a)->path, ((const struct sd_node *)b)->path);
}

/* Sorts the nodes by path, for trees whose child order differs (ZooKeeper's is a HashSet's). */
static void sd_sort(struct sd *d)
{
    qsort(d->nodes, d->n, sizeof(*d->nodes), sd_cmp_path);
}

static bool sd_stat_eq(const struct jute_stat_persisted *a, const struct jute_stat_persisted *b)
{
    return a->czxid == b->czxid && a->mzxid == b->mzxid && a->ctime == b->ctime &&
           a->mtime == b->mtime && a->version == b->version && a->cversion == b->cversion &&
           a->aversion == b->aversion && a->ephemeral_owner == b->ephemeral_owner &&
           a->pzxid == b->pzxid;
}

static bool sd_equal(const struct sd *a, const struct sd *b)
{
    bool same = true;
    if (a->n != b->n || a->n_acls != b->n_acls) {
        fprintf(stderr, "sd: %zu/%zu nodes, %zu/%zu ACLs\n", a->n, b->n, a->n_acls, b->n_acls);
        same = false;
    }
    for (size_t i = 0; i < a->n && i < b->n; i++) {
        const struct sd_node *x = &a->nodes[i], *y = &b->nodes[i];
        if (strcmp(x->path, y->path) || !sd_stat_eq(&x->st, &y->st) || x->dlen != y->dlen ||
            (x->dlen > 0 && memcmp(x->data, y->data, (size_t)x->dlen)) || x->acl != y->acl) {
            fprintf(stderr,
                    "sd: node %zu differs: %s / %s (data %d/%d, acl %lld/%lld, mzxid %llx/%llx, "
                    "pzxid %llx/%llx, cversion %d/%d)\n",
                    i, x->path, y->path, x->dlen, y->dlen, (long long)x->acl, (long long)y->acl,
                    (long long)x->st.mzxid, (long long)y->st.mzxid, (long long)x->st.pzxid,
                    (long long)y->st.pzxid, x->st.cversion, y->st.cversion);
            same = false;
        }
    }
    for (size_t i = 0; i < a->n_acls && i < b->n_acls; i++) {
        const struct sd_acl *x = &a->acls[i], *y = &b->acls[i];
        bool eq = x->index == y->index && x->count == y->count;
        for (int32_t k = 0; eq && k < x->count; k++)
            eq = x->items[k].perms == y->items[k].perms &&
                 !strcmp(x->items[k].id.scheme, y->items[k].id.scheme) &&
                 !strcmp(x->items[k].id.id, y->items[k].id.id);
        if (!eq) {
            fprintf(stderr, "sd: ACL %zu differs (index %lld / %lld)\n", i, (long long)x->index,
                    (long long)y->index);
            same = false;
        }
    }
    return same;
}

static void sd_free(struct sd *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->nodes[i].path);
        free(d->nodes[i].data);
    }
    for (size_t i = 0; i < d->n_acls; i++) {
        for (int32_t k = 0; k < d->acls[i].count; k++) {
            free(d->acls[i].items[k].id.scheme);
            free(d->acls[i].items[k].id.id);
        }
        free(d->acls[i].items);
    }
    free(d->nodes);
    free(d->acls);
    memset(d, 0, sizeof(*d));
}

/* Two trees hold the same snapshot view (in the same preorder when `ordered`). */
static bool sd_trees_equal(const struct tree *a, const struct tree *b, bool ordered)
{
    struct sd x, y;
    sd_from_tree(a, &x);
    sd_from_tree(b, &y);
    if (!ordered) {
        sd_sort(&x);
        sd_sort(&y);
    }
    bool eq = sd_equal(&x, &y);
    sd_free(&x);
    sd_free(&y);
    return eq;
}

/* Sessions a reader reported. */
struct sd_sessions {
    struct snap_session v[64];
    int n;
};

static int sd_on_session(void *arg, int64_t id, int32_t timeout_ms)
{
    struct sd_sessions *s = arg;
    if (s->n < 64)
        s->v[s->n] = (struct snap_session){.id = id, .timeout_ms = timeout_ms};
    s->n++;
    return 0;
}

#endif
