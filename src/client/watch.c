/*
 * The client's watch table: server path -> watchers per kind, as Apache
 * ZooKeeper's ZKWatchManager (dataWatches, existWatches, childWatches,
 * persistentWatches, persistentRecursiveWatches). Which lists an event
 * triggers follows ZKWatchManager.materialize(): created/data changed ->
 * data + exist; deleted -> data + exist + child; children changed -> child;
 * every type also persistent watches on the path, and recursive watches on
 * the path and its ancestors except for children changed.
 *
 * Invariants: a node exists only while one of its lists is non-empty; a
 * (fn, ctx) pair appears at most once per list.
 */
#include "client/client_int.h"

#include "common/alloc.h"

#include <stdlib.h>
#include <string.h>

static uint32_t hash_bytes(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)p[i];
        h *= 16777619u;
    }
    return h;
}

void watch_table_init(struct watch_table *t)
{
    t->buckets = NULL;
    t->n_buckets = 0;
    t->count = 0;
}

static void free_regs(struct watch_reg *r)
{
    while (r) {
        struct watch_reg *next = r->next;
        pd_free(r);
        r = next;
    }
}

static void free_node(struct watch_node *n)
{
    for (int k = 0; k < WK_COUNT; k++)
        free_regs(n->lists[k]);
    pd_free(n);
}

void watch_table_close(struct watch_table *t)
{
    for (uint32_t i = 0; i < t->n_buckets; i++) {
        struct watch_node *n = t->buckets[i];
        while (n) {
            struct watch_node *next = n->next;
            free_node(n);
            n = next;
        }
    }
    pd_free(t->buckets);
    watch_table_init(t);
}

/* The node for path[0..len), or NULL; *link gets the pointer that points at it. */
static struct watch_node *find(const struct watch_table *t, const char *path, size_t len,
                               struct watch_node ***link)
{
    if (t->n_buckets == 0)
        return NULL;
    uint32_t h = hash_bytes(path, len);
    struct watch_node **l = &t->buckets[h & (t->n_buckets - 1)];
    for (; *l; l = &(*l)->next) {
        struct watch_node *n = *l;
        if (n->hash == h && n->len == len && memcmp(n->path, path, len) == 0) {
            if (link)
                *link = l;
            return n;
        }
    }
    return NULL;
}

static int grow(struct watch_table *t)
{
    uint32_t nb = t->n_buckets ? t->n_buckets * 2 : 16;
    struct watch_node **b = pd_calloc(nb, sizeof(*b));
    if (!b)
        return PDK_ZSYSTEMERROR;
    for (uint32_t i = 0; i < t->n_buckets; i++) {
        struct watch_node *n = t->buckets[i];
        while (n) {
            struct watch_node *next = n->next;
            n->next = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
            n = next;
        }
    }
    pd_free(t->buckets);
    t->buckets = b;
    t->n_buckets = nb;
    return 0;
}

static bool node_is_empty(const struct watch_node *n)
{
    for (int k = 0; k < WK_COUNT; k++)
        if (n->lists[k])
            return false;
    return true;
}

/* Unlinks and frees n if none of its lists holds anything. */
static void drop_if_empty(struct watch_table *t, struct watch_node *n)
{
    if (!node_is_empty(n))
        return;
    struct watch_node **link = NULL;
    if (find(t, n->path, n->len, &link)) {
        *link = n->next;
        t->count--;
        pd_free(n);
    }
}

int watch_add(struct watch_table *t, const char *path, int kind, pdk_watcher_fn fn, void *ctx)
{
    size_t len = strlen(path);
    struct watch_node *n = find(t, path, len, NULL);
    if (!n) {
        if (t->count >= t->n_buckets && grow(t) != 0)
            return PDK_ZSYSTEMERROR;
        n = pd_calloc(1, sizeof(*n) + len + 1);
        if (!n)
            return PDK_ZSYSTEMERROR;
        n->hash = hash_bytes(path, len);
        n->len = len;
        memcpy(n->path, path, len + 1);
        struct watch_node **b = &t->buckets[n->hash & (t->n_buckets - 1)];
        n->next = *b;
        *b = n;
        t->count++;
    }
    for (struct watch_reg *r = n->lists[kind]; r; r = r->next)
        if (r->fn == fn && r->ctx == ctx)
            return 0;
    struct watch_reg *r = pd_malloc(sizeof(*r));
    if (!r) {
        drop_if_empty(t, n);
        return PDK_ZSYSTEMERROR;
    }
    r->fn = fn;
    r->ctx = ctx;
    r->next = n->lists[kind];
    n->lists[kind] = r;
    return 0;
}

bool watch_has(const struct watch_table *t, const char *path, unsigned kind_mask, pdk_watcher_fn fn,
               void *ctx)
{
    const struct watch_node *n = find(t, path, strlen(path), NULL);
    if (!n)
        return false;
    for (int k = 0; k < WK_COUNT; k++) {
        if (!(kind_mask & (1u << k)))
            continue;
        for (const struct watch_reg *r = n->lists[k]; r; r = r->next)
            if (!fn || (r->fn == fn && r->ctx == ctx))
                return true;
    }
    return false;
}

/* Appends (fn, ctx) unless already there. */
static int calls_add(struct watch_calls *out, pdk_watcher_fn fn, void *ctx, int kind)
{
    for (int i = 0; i < out->n; i++)
        if (out->items[i].fn == fn && out->items[i].ctx == ctx)
            return 0;
    if (out->n == out->cap) {
        int cap = out->cap ? out->cap * 2 : 8;
        struct watch_call *items = pd_realloc(out->items, (size_t)cap * sizeof(*items));
        if (!items)
            return PDK_ZSYSTEMERROR;
        out->items = items;
        out->cap = cap;
    }
    out->items[out->n++] = (struct watch_call){.fn = fn, .ctx = ctx, .kind = kind};
    return 0;
}

/* Moves a one-shot list's registrations to out and empties it. */
static int take_list(struct watch_node *n, int kind, struct watch_calls *out)
{
    int rc = 0;
    struct watch_reg *r = n->lists[kind];
    n->lists[kind] = NULL;
    while (r) {
        struct watch_reg *next = r->next;
        if (rc == 0)
            rc = calls_add(out, r->fn, r->ctx, kind);
        pd_free(r);
        r = next;
    }
    return rc;
}

/* Copies a persistent list's registrations to out. */
static int copy_list(const struct watch_node *n, int kind, struct watch_calls *out)
{
    for (const struct watch_reg *r = n->lists[kind]; r; r = r->next)
        if (calls_add(out, r->fn, r->ctx, kind) != 0)
            return PDK_ZSYSTEMERROR;
    return 0;
}

int watch_collect(struct watch_table *t, const char *path, int type, struct watch_calls *out)
{
    size_t len = strlen(path);
    int rc = 0;
    struct watch_node *n = find(t, path, len, NULL);
    if (n) {
        switch (type) {
        case PDK_EVENT_CREATED:
        case PDK_EVENT_DATA_CHANGED:
            rc |= take_list(n, WK_DATA, out);
            rc |= take_list(n, WK_EXIST, out);
            break;
        case PDK_EVENT_DELETED:
            rc |= take_list(n, WK_DATA, out);
            rc |= take_list(n, WK_EXIST, out);
            rc |= take_list(n, WK_CHILD, out);
            break;
        case PDK_EVENT_CHILDREN_CHANGED:
            rc |= take_list(n, WK_CHILD, out);
            break;
        default:
            break;
        }
        rc |= copy_list(n, WK_PERSIST, out);
        drop_if_empty(t, n);
    }
    if (type == PDK_EVENT_CHILDREN_CHANGED)
        return rc ? PDK_ZSYSTEMERROR : 0;
    /* Recursive watches on the path itself and on every ancestor, "/" included. */
    size_t l = len;
    for (;;) {
        struct watch_node *a = find(t, path, l, NULL);
        if (a)
            rc |= copy_list(a, WK_RECURSIVE, out);
        if (l <= 1)
            break;
        while (l > 1 && path[l - 1] != '/')
            l--;
        if (l > 1)
            l--; /* drop the '/' too, except for the root */
    }
    return rc ? PDK_ZSYSTEMERROR : 0;
}

int watch_remove(struct watch_table *t, const char *path, unsigned kind_mask, pdk_watcher_fn fn,
                 void *ctx, struct watch_calls *out)
{
    struct watch_node *n = find(t, path, strlen(path), NULL);
    if (!n)
        return 0;
    int rc = 0;
    for (int k = 0; k < WK_COUNT; k++) {
        if (!(kind_mask & (1u << k)))
            continue;
        struct watch_reg **l = &n->lists[k];
        while (*l) {
            struct watch_reg *r = *l;
            if (!fn || (r->fn == fn && r->ctx == ctx)) {
                *l = r->next;
                /* The same pair in two lists gets two removal events (one per kind). */
                if (out->n == out->cap) {
                    int cap = out->cap ? out->cap * 2 : 8;
                    struct watch_call *items = pd_realloc(out->items, (size_t)cap * sizeof(*items));
                    if (!items)
                        rc = PDK_ZSYSTEMERROR;
                    else {
                        out->items = items;
                        out->cap = cap;
                    }
                }
                if (out->n < out->cap)
                    out->items[out->n++] =
                        (struct watch_call){.fn = r->fn, .ctx = r->ctx, .kind = k};
                pd_free(r);
            } else {
                l = &r->next;
            }
        }
    }
    drop_if_empty(t, n);
    return rc;
}

static int cmp_call(const void *a, const void *b)
{
    const struct watch_call *x = a, *y = b;
    uintptr_t xf = (uintptr_t)x->fn, yf = (uintptr_t)y->fn;
    if (xf != yf)
        return xf < yf ? -1 : 1;
    uintptr_t xc = (uintptr_t)x->ctx, yc = (uintptr_t)y->ctx;
    return xc < yc ? -1 : xc > yc;
}

int watch_take_all(struct watch_table *t, struct watch_calls *out)
{
    int rc = 0;
    int first = out->n;
    for (uint32_t i = 0; i < t->n_buckets; i++) {
        for (struct watch_node *n = t->buckets[i]; n; n = n->next) {
            for (int k = 0; k < WK_COUNT; k++) {
                for (struct watch_reg *r = n->lists[k]; r; r = r->next) {
                    if (out->n == out->cap) {
                        int cap = out->cap ? out->cap * 2 : 16;
                        struct watch_call *items =
                            pd_realloc(out->items, (size_t)cap * sizeof(*items));
                        if (!items) {
                            rc = PDK_ZSYSTEMERROR;
                            goto out_done;
                        }
                        out->items = items;
                        out->cap = cap;
                    }
                    out->items[out->n++] =
                        (struct watch_call){.fn = r->fn, .ctx = r->ctx, .kind = k};
                }
            }
        }
    }
out_done:
    /* Each distinct pair once, as ZooKeeper delivers a session event to a set of watchers. */
    if (out->n - first > 1) {
        qsort(out->items + first, (size_t)(out->n - first), sizeof(*out->items), cmp_call);
        int w = first + 1;
        for (int i = first + 1; i < out->n; i++)
            if (cmp_call(&out->items[i], &out->items[w - 1]) != 0)
                out->items[w++] = out->items[i];
        out->n = w;
    }
    watch_table_close(t);
    return rc;
}

void watch_each(const struct watch_table *t, void (*fn)(const struct watch_node *, void *),
                void *ctx)
{
    for (uint32_t i = 0; i < t->n_buckets; i++)
        for (const struct watch_node *n = t->buckets[i]; n; n = n->next)
            fn(n, ctx);
}

void watch_calls_free(struct watch_calls *calls)
{
    pd_free(calls->items);
    calls->items = NULL;
    calls->n = calls->cap = 0;
}
