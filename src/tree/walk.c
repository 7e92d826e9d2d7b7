/*
 * A preorder walk of the tree that can stop after any node and go on later,
 * after the tree changed: what a snapshot encoded in slices between requests
 * needs (storage/snapshot.c), and tree_foreach_node's one-shot walk.
 *
 * State: the chain of directories from the root to the current position,
 * one frame each: the directory's id, the length of its path in the path
 * buffer, and `next`, the id of the child to visit next (NODE_NIL: done with
 * it). Ids, not pointers, so setData reallocating a node block changes
 * nothing. Invariant: a frame's `next` is NODE_NIL or a live child of the
 * frame's directory. Between two steps the tree may change:
 *
 *   - a create appends the new node at the end of its parent's circular
 *     child list: a frame still iterating that parent reaches it (and skips
 *     it, see below), a finished one does not;
 *   - a delete of a frame's `next` would leave it dangling (and its id is
 *     reused by the very next create): node_remove() calls walk_removed()
 *     first, which moves `next` on to the node's successor. A deleted
 *     directory had no children left, so its frame's `next` is already
 *     NODE_NIL and it is popped without being read;
 *   - the end of a child list is found by comparing with the parent's
 *     current first child, so a deleted first child changes nothing.
 *
 * Nodes whose czxid is above `max_czxid` (created after the walk began: a
 * snapshot leaves them to the txn log) are skipped with their subtrees. So a
 * node is visited at most once even when it is deleted and created again at
 * the same path (the new one has a new czxid), parents come before children,
 * and every node that existed when the walk began and still exists when the
 * walk gets to its place is visited.
 */
#include "tree/tree_int.h"

#include "common/alloc.h"

#include <stdint.h>

/* Nodes skipped (created after the start) per call at most: a workload that appends to one
 * directory can put most of a big tree behind the walk's position, and a call that skipped
 * them all would take milliseconds. */
#define WALK_SKIP_MAX 64

struct walk_frame {
    uint32_t dir;
    uint32_t next;
    size_t path_len; /* of dir's path ("" for the root) */
};

struct tree_walk {
    const struct tree *t;          /* NULL once the tree was reloaded or freed under it */
    struct tree *owner;            /* the tree following it (tree_walk_new), or NULL */
    struct tree_walk *next_walk;   /* the owner's next walk */
    int64_t max_czxid;
    bool is_started;
    struct walk_frame *frames; /* owned */
    uint32_t depth;
    uint32_t cap;
    char *path; /* owned; the last visited node's path */
    size_t path_cap;
};

static int walk_init(struct tree_walk *w, const struct tree *t, int64_t max_czxid)
{
    *w = (struct tree_walk){.t = t, .max_czxid = max_czxid};
    w->cap = 16;
    w->path_cap = 256;
    w->frames = pd_malloc(w->cap * sizeof(*w->frames));
    w->path = pd_malloc(w->path_cap);
    if (!w->frames || !w->path) {
        pd_free(w->frames);
        pd_free(w->path);
        return PD_ENOMEM;
    }
    w->path[0] = '\0';
    return 0;
}

static void walk_close(struct tree_walk *w)
{
    if (w->owner) {
        struct tree_walk **at = &w->owner->walk;
        while (*at != w)
            at = &(*at)->next_walk;
        *at = w->next_walk;
    }
    pd_free(w->frames);
    pd_free(w->path);
}

static int walk_push(struct tree_walk *w, uint32_t dir, uint32_t first, size_t path_len)
{
    if (w->depth == w->cap) {
        uint32_t cap = w->cap * 2;
        struct walk_frame *f = pd_realloc(w->frames, cap * sizeof(*f));
        if (!f)
            return PD_ENOMEM;
        w->frames = f;
        w->cap = cap;
    }
    w->frames[w->depth++] = (struct walk_frame){.dir = dir, .next = first, .path_len = path_len};
    return 0;
}

/* Puts "/name" of n after the first `at` bytes of the path; the new length in *len. */
static int walk_path(struct tree_walk *w, size_t at, const struct tree_node *n, size_t *len)
{
    uint32_t nl = node_name_len(n);
    size_t need = at + 1 + nl + 1;
    if (need > w->path_cap) {
        size_t cap = w->path_cap * 2 > need ? w->path_cap * 2 : need;
        char *p = pd_realloc(w->path, cap);
        if (!p)
            return PD_ENOMEM;
        w->path = p;
        w->path_cap = cap;
    }
    w->path[at] = '/';
    memcpy(w->path + at + 1, node_name(n), nl);
    *len = at + 1 + nl;
    w->path[*len] = '\0';
    return 0;
}

/* The child of `dir` after `id` in list order, or NODE_NIL after the last. */
static uint32_t next_sibling(const struct tree *t, uint32_t dir, uint32_t id)
{
    uint32_t succ = node_get(t, id)->next;
    if (succ == id || succ == node_first_child(node_get(t, dir)))
        return NODE_NIL;
    return succ;
}

static int walk_next(struct tree_walk *w, const char **path, size_t *len,
                     const struct tree_node **node)
{
    const struct tree *t = w->t;
    if (!t)
        return PD_ECLOSED;
    if (!w->is_started) {
        w->is_started = true;
        const struct tree_node *root = node_get(t, t->root);
        uint32_t first = node_first_child(root);
        if (first != NODE_NIL && walk_push(w, t->root, first, 0) != 0)
            return PD_ENOMEM;
        w->path[0] = '\0';
        *path = w->path;
        *len = 0;
        *node = root;
        return 1;
    }
    int skipped = 0;
    while (w->depth > 0) {
        struct walk_frame *f = &w->frames[w->depth - 1];
        if (f->next == NODE_NIL) {
            w->depth--;
            continue;
        }
        uint32_t id = f->next;
        const struct tree_node *n = node_get(t, id);
        f->next = next_sibling(t, f->dir, id);
        if (n->czxid > w->max_czxid) {
            /* created after the walk began: so is everything under it */
            if (++skipped == WALK_SKIP_MAX)
                return 2;
            continue;
        }
        size_t plen;
        if (walk_path(w, f->path_len, n, &plen) != 0)
            return PD_ENOMEM;
        uint32_t first = node_first_child(n);
        if (first != NODE_NIL && walk_push(w, id, first, plen) != 0)
            return PD_ENOMEM;
        *path = w->path;
        *len = plen;
        *node = n;
        return 1;
    }
    return 0;
}

void walk_removed(struct tree *t, uint32_t id)
{
    for (struct tree_walk *w = t->walk; w; w = w->next_walk)
        for (uint32_t i = 0; i < w->depth; i++)
            if (w->frames[i].next == id)
                w->frames[i].next = next_sibling(t, w->frames[i].dir, id);
}

void walk_detach(struct tree *t)
{
    while (t->walk) {
        struct tree_walk *w = t->walk;
        t->walk = w->next_walk;
        w->t = NULL;
        w->owner = NULL;
        w->next_walk = NULL;
    }
}

int tree_walk_new(struct tree *t, int64_t max_czxid, struct tree_walk **out)
{
    *out = NULL;
    struct tree_walk *w = pd_malloc(sizeof(*w));
    if (!w)
        return PD_ENOMEM;
    if (walk_init(w, t, max_czxid) != 0) {
        pd_free(w);
        return PD_ENOMEM;
    }
    w->owner = t;
    w->next_walk = t->walk;
    t->walk = w;
    *out = w;
    return 0;
}

int tree_walk_next(struct tree_walk *w, const char **path, size_t *len,
                   const struct tree_node **node)
{
    return walk_next(w, path, len, node);
}

void tree_walk_free(struct tree_walk *w)
{
    if (!w)
        return;
    walk_close(w);
    pd_free(w);
}

int tree_foreach_node(const struct tree *t, tree_node_visit_fn fn, void *arg)
{
    struct tree_walk w;
    if (walk_init(&w, t, INT64_MAX) != 0)
        return PD_ENOMEM;
    const char *path;
    size_t len;
    const struct tree_node *n;
    int rc;
    while ((rc = walk_next(&w, &path, &len, &n)) > 0)
        if (rc == 1 && (rc = fn(path, len, n, arg)) != 0)
            break;
    walk_close(&w);
    return rc;
}
