/*
 * Watches: ZooKeeper's two WatchManagers (dataWatches, childWatches) as of
 * ZOOKEEPER-4466: each (watcher, path) pair of a table carries a set of modes
 * {standard, persistent, persistent-recursive}, so a one-shot getData watch
 * and a persistent watch on the same path coexist.
 *
 *   getData/exists watch   data table, standard
 *   getChildren watch      child table, standard
 *   addWatch persistent    data and child tables, persistent
 *   addWatch recursive     data table, persistent-recursive
 *
 * Triggering (WatchManager.triggerWatch) on one table for a path: every
 * watcher with any mode on the path itself fires and loses its standard mode
 * (the entry goes when no mode is left); when recursive watches exist, every
 * ancestor's watchers with the recursive mode fire too. Recursive watches
 * live only in the data table, so they never see NodeChildrenChanged. A
 * watcher gets one event per trigger: deliveries are deduplicated by a
 * sequence number shared by the passes of one DataTree event (deleteNode's
 * data and child passes share one, as ZooKeeper suppresses the second).
 *
 * Invariants (watch_check): every entry is in its path's list for its table,
 * in its watcher's list and in the entry table, with at least one mode; the
 * counters match the lists; a wpath exists iff it has entries.
 */
#include "tree/tree_int.h"

#include "common/alloc.h"

static uint64_t wpath_hash(const char *path, size_t len)
{
    return hash_bytes(path, len, 0x7761746368ULL);
}

static uint64_t ptr_hash(const void *p)
{
    return hash_mix64((uint64_t)(uintptr_t)p);
}

static uint64_t entry_hash(const struct wpath *wp, const struct wwatcher *ww, int table)
{
    return hash_mix64(ptr_hash(wp) ^ (ptr_hash(ww) * 3) ^ (uint64_t)table);
}

void watch_init(struct watches *w)
{
    memset(w, 0, sizeof(*w));
}

static struct wpath *wpath_find(const struct watches *w, const char *path, size_t len)
{
    uint64_t h = wpath_hash(path, len);
    for (struct chash_link *l = chash_bucket(&w->paths, h); l; l = l->next) {
        struct wpath *wp = (struct wpath *)l;
        if (l->hash == h && wp->len == len && memcmp(wp->path, path, len) == 0)
            return wp;
    }
    return NULL;
}

static struct wwatcher *wwatcher_find(const struct watches *w, const void *watcher)
{
    uint64_t h = ptr_hash(watcher);
    for (struct chash_link *l = chash_bucket(&w->watchers, h); l; l = l->next) {
        struct wwatcher *ww = (struct wwatcher *)l;
        if (ww->watcher == watcher)
            return ww;
    }
    return NULL;
}

static struct wentry *wentry_find(const struct watches *w, const struct wpath *wp,
                                  const struct wwatcher *ww, int table)
{
    uint64_t h = entry_hash(wp, ww, table);
    for (struct chash_link *l = chash_bucket(&w->entries, h); l; l = l->next) {
        struct wentry *e = (struct wentry *)l;
        if (e->wp == wp && e->ww == ww && e->table == table)
            return e;
    }
    return NULL;
}

static void wpath_free_if_empty(struct watches *w, struct wpath *wp)
{
    if (wp->head[0] || wp->head[1])
        return;
    chash_remove(&w->paths, &wp->link);
    pd_free(wp);
}

static void wwatcher_free_if_unused(struct watches *w, struct wwatcher *ww)
{
    if (ww->head || ww->known[0] || ww->known[1])
        return;
    chash_remove(&w->watchers, &ww->link);
    pd_free(ww);
}

static void set_modes(struct watches *w, struct wentry *e, unsigned modes)
{
    bool was = (e->modes & WM_RECURSIVE) != 0, is = (modes & WM_RECURSIVE) != 0;
    w->n_recursive += (int64_t)is - (int64_t)was;
    e->modes = (uint8_t)modes;
}

/* Removes the entry; frees its wpath if that was its last entry. */
static void entry_unlink(struct watches *w, struct wentry *e)
{
    int t = e->table;
    struct wpath *wp = e->wp;
    struct wwatcher *ww = e->ww;
    set_modes(w, e, 0);
    if (e->p_next == e) {
        wp->head[t] = NULL;
    } else {
        e->p_prev->p_next = e->p_next;
        e->p_next->p_prev = e->p_prev;
        if (wp->head[t] == e)
            wp->head[t] = e->p_next;
    }
    if (e->w_next == e) {
        ww->head = NULL;
    } else {
        e->w_prev->w_next = e->w_next;
        e->w_next->w_prev = e->w_prev;
        if (ww->head == e)
            ww->head = e->w_next;
    }
    chash_remove(&w->entries, &e->link);
    if (--wp->n[t] == 0)
        w->n_paths[t]--;
    ww->n[t]--;
    w->n_entries[t]--;
    pd_free(e);
    wpath_free_if_empty(w, wp);
}

static void entry_link(struct watches *w, struct wentry *e, struct wpath *wp, struct wwatcher *ww,
                       int t)
{
    e->wp = wp;
    e->ww = ww;
    e->table = (uint8_t)t;
    e->modes = 0;
    if (!wp->head[t]) {
        wp->head[t] = e;
        e->p_next = e->p_prev = e;
    } else {
        struct wentry *h = wp->head[t];
        e->p_prev = h->p_prev;
        e->p_next = h;
        h->p_prev->p_next = e;
        h->p_prev = e;
    }
    if (!ww->head) {
        ww->head = e;
        e->w_next = e->w_prev = e;
    } else {
        struct wentry *h = ww->head;
        e->w_prev = h->w_prev;
        e->w_next = h;
        h->w_prev->w_next = e;
        h->w_prev = e;
    }
    chash_insert(&w->entries, &e->link, entry_hash(wp, ww, t));
    if (wp->n[t]++ == 0)
        w->n_paths[t]++;
    ww->n[t]++;
    w->n_entries[t]++;
}

void watch_close(struct watches *w)
{
    for (size_t i = 0; w->watchers.b && i <= w->watchers.mask; i++) {
        struct chash_link *l = w->watchers.b[i];
        while (l) {
            struct chash_link *next = l->next;
            struct wwatcher *ww = (struct wwatcher *)l;
            while (ww->head)
                entry_unlink(w, ww->head);
            pd_free(ww);
            l = next;
        }
    }
    chash_free(&w->paths);
    chash_free(&w->watchers);
    chash_free(&w->entries);
    memset(w, 0, sizeof(*w));
}

/* ---- add ------------------------------------------------------------------------------------ */

/*
 * Adds `modes[i]` in table `tables[i]` for i < n, all or nothing.
 */
static int watch_add_modes(struct tree *t, const char *path, void *watcher, int n,
                           const int *tables, const unsigned *modes)
{
    struct watches *w = &t->w;
    size_t len = strlen(path);
    if (chash_reserve(&w->paths, w->paths.count + 1) != 0 ||
        chash_reserve(&w->watchers, w->watchers.count + 1) != 0 ||
        chash_reserve(&w->entries, w->entries.count + (size_t)n) != 0)
        return PD_ENOMEM;
    struct wpath *wp = wpath_find(w, path, len);
    struct wwatcher *ww = wwatcher_find(w, watcher);
    struct wpath *new_wp = NULL;
    struct wwatcher *new_ww = NULL;
    struct wentry *new_e[2] = {NULL, NULL};
    if (!wp) {
        new_wp = pd_malloc(sizeof(*new_wp) + len + 1);
        if (!new_wp)
            goto oom;
        memset(new_wp, 0, sizeof(*new_wp));
        new_wp->len = len;
        memcpy(new_wp->path, path, len + 1);
    }
    if (!ww) {
        new_ww = pd_calloc(1, sizeof(*new_ww));
        if (!new_ww)
            goto oom;
        new_ww->watcher = watcher;
    }
    for (int i = 0; i < n; i++) {
        if (wp && ww && wentry_find(w, wp, ww, tables[i]))
            continue;
        new_e[i] = pd_calloc(1, sizeof(*new_e[i]));
        if (!new_e[i])
            goto oom;
    }
    /* Nothing can fail from here on. */
    if (new_wp) {
        chash_insert(&w->paths, &new_wp->link, wpath_hash(path, len));
        wp = new_wp;
    }
    if (new_ww) {
        chash_insert(&w->watchers, &new_ww->link, ptr_hash(watcher));
        ww = new_ww;
    }
    for (int i = 0; i < n; i++) {
        struct wentry *e = new_e[i];
        if (e)
            entry_link(w, e, wp, ww, tables[i]);
        else
            e = wentry_find(w, wp, ww, tables[i]);
        set_modes(w, e, e->modes | modes[i]);
        if (!ww->known[tables[i]]) {
            ww->known[tables[i]] = true;
            w->n_known[tables[i]]++;
        }
    }
    return 0;
oom:
    pd_free(new_wp);
    pd_free(new_ww);
    pd_free(new_e[0]);
    pd_free(new_e[1]);
    return PD_ENOMEM;
}

int tree_watch_add(struct tree *t, const char *path, int kind, void *watcher)
{
    if (!path)
        return PD_EINVAL;
    int tables[2];
    unsigned modes[2];
    int n = 1;
    switch (kind) {
    case TREE_WATCH_DATA:
    case TREE_WATCH_EXIST:
        tables[0] = WT_DATA;
        modes[0] = WM_STANDARD;
        break;
    case TREE_WATCH_CHILD:
        tables[0] = WT_CHILD;
        modes[0] = WM_STANDARD;
        break;
    case TREE_WATCH_PERSISTENT:
        tables[0] = WT_DATA;
        modes[0] = WM_PERSISTENT;
        tables[1] = WT_CHILD;
        modes[1] = WM_PERSISTENT;
        n = 2;
        break;
    case TREE_WATCH_PERSISTENT_RECURSIVE:
        tables[0] = WT_DATA;
        modes[0] = WM_RECURSIVE;
        break;
    default:
        return PD_EINVAL;
    }
    return watch_add_modes(t, path, watcher, n, tables, modes);
}

/* ---- trigger ------------------------------------------------------------------------------ */

void watch_trigger(struct tree *t, int table, const char *path, size_t path_len, int32_t type,
                   const struct jute_acl_vec *acl, uint64_t seq)
{
    struct watches *w = &t->w;
    if (w->n_entries[table] == 0)
        return;
    struct jute_watcher_event ev = {
        .type = type,
        .state = ZOO_STATE_SYNC_CONNECTED,
        .path = (char *)path,
    };
    bool all_levels = w->n_recursive > 0;
    size_t len = path_len;
    bool at_parent = false;
    for (;;) {
        struct wpath *wp = wpath_find(w, path, len);
        if (wp && wp->head[table]) {
            struct wentry *e = wp->head[table];
            uint32_t left = wp->n[table];
            /* The list may lose entries (and wp itself) as we go: walk by count. */
            while (left-- > 0) {
                struct wentry *next = e->p_next;
                struct wwatcher *ww = e->ww;
                bool fire = false;
                if (!at_parent) {
                    fire = true;
                    unsigned m = e->modes & ~WM_STANDARD;
                    if (m == 0)
                        entry_unlink(w, e);
                    else
                        set_modes(w, e, m);
                } else if (e->modes & WM_RECURSIVE) {
                    fire = true;
                }
                if (fire && ww->mark != seq) {
                    ww->mark = seq;
                    if (t->deliver)
                        t->deliver(ww->watcher, &ev, acl, t->deliver_ctx);
                }
                e = next;
            }
        }
        if (!all_levels)
            break;
        /* PathParentIterator: "/a/b" -> "/a" -> "/" -> done. */
        if (len == 1 && path[0] == '/')
            break;
        if (len == 0)
            break;
        ptrdiff_t slash = path_last_slash(path, len);
        if (slash < 0)
            break;
        len = slash == 0 ? 1 : (size_t)slash;
        at_parent = true;
    }
}

/* ---- remove / check ------------------------------------------------------------------------- */

/* WatchManager.removeWatcher(path, watcher, mode); mode 0 = every mode. True if changed. */
static bool remove_mode(struct watches *w, struct wpath *wp, struct wwatcher *ww, int table,
                        unsigned mode)
{
    struct wentry *e = wentry_find(w, wp, ww, table);
    if (!e)
        return false;
    unsigned left = mode ? (e->modes & ~mode) : 0;
    if (left == e->modes)
        return false;
    if (left) {
        set_modes(w, e, left);
        return true;
    }
    /* unwatch: the watcher leaves the table when it has no path left there. */
    entry_unlink(w, e);
    if (ww->n[table] == 0 && ww->known[table]) {
        ww->known[table] = false;
        w->n_known[table]--;
    }
    return true;
}

static bool has_mode(const struct watches *w, const struct wpath *wp, const struct wwatcher *ww,
                     int table, unsigned mode)
{
    const struct wentry *e = wentry_find(w, wp, ww, table);
    return e && (mode == 0 || (e->modes & mode));
}

int32_t tree_watch_remove(struct tree *t, const char *path, int32_t watcher_type, void *watcher,
                          bool check_only)
{
    struct watches *w = &t->w;
    if (!path || watcher_type < ZOO_WATCHER_CHILDREN ||
        watcher_type > ZOO_WATCHER_PERSISTENT_RECURSIVE)
        return ZMARSHALLINGERROR;
    struct wpath *wp = wpath_find(w, path, strlen(path));
    struct wwatcher *ww = wwatcher_find(w, watcher);
    if (!wp || !ww)
        return ZNOWATCHER;
    /* Children, Data and Any act as in 3.8 (WatchManager.containsWatcher/removeWatcher):
     * on the watcher's entry in that table whatever its modes. Persistent and
     * PersistentRecursive (3.9) act on that mode only. */
    bool found = false;
    if (check_only) {
        switch (watcher_type) {
        case ZOO_WATCHER_CHILDREN:
            found = has_mode(w, wp, ww, WT_CHILD, 0);
            break;
        case ZOO_WATCHER_DATA:
            found = has_mode(w, wp, ww, WT_DATA, 0);
            break;
        case ZOO_WATCHER_PERSISTENT:
            found = has_mode(w, wp, ww, WT_DATA, WM_PERSISTENT);
            break;
        case ZOO_WATCHER_PERSISTENT_RECURSIVE:
            found = has_mode(w, wp, ww, WT_DATA, WM_RECURSIVE);
            break;
        default: /* ANY */
            found = has_mode(w, wp, ww, WT_CHILD, 0) || has_mode(w, wp, ww, WT_DATA, 0);
            break;
        }
        return found ? ZOK : ZNOWATCHER;
    }
    /* wp may be freed by the first removal: look it up again for the second. */
    size_t len = strlen(path);
    switch (watcher_type) {
    case ZOO_WATCHER_CHILDREN:
        found = remove_mode(w, wp, ww, WT_CHILD, 0);
        break;
    case ZOO_WATCHER_DATA:
        found = remove_mode(w, wp, ww, WT_DATA, 0);
        break;
    case ZOO_WATCHER_PERSISTENT:
        found = remove_mode(w, wp, ww, WT_CHILD, WM_PERSISTENT);
        wp = wpath_find(w, path, len);
        if (wp && remove_mode(w, wp, ww, WT_DATA, WM_PERSISTENT))
            found = true;
        break;
    case ZOO_WATCHER_PERSISTENT_RECURSIVE:
        found = remove_mode(w, wp, ww, WT_DATA, WM_RECURSIVE);
        break;
    default: /* ANY */
        found = remove_mode(w, wp, ww, WT_CHILD, 0);
        wp = wpath_find(w, path, len);
        if (wp && remove_mode(w, wp, ww, WT_DATA, 0))
            found = true;
        break;
    }
    wwatcher_free_if_unused(w, ww);
    return found ? ZOK : ZNOWATCHER;
}

void tree_watch_drop_all(struct tree *t, void *watcher)
{
    struct watches *w = &t->w;
    struct wwatcher *ww = wwatcher_find(w, watcher);
    if (!ww)
        return;
    while (ww->head)
        entry_unlink(w, ww->head);
    for (int tb = 0; tb < 2; tb++) {
        if (ww->known[tb]) {
            ww->known[tb] = false;
            w->n_known[tb]--;
        }
    }
    wwatcher_free_if_unused(w, ww);
}

/* ---- setWatches ---------------------------------------------------------------------------- */

static void fire_now(struct tree *t, void *watcher, int32_t type, const char *path)
{
    struct jute_watcher_event ev = {
        .type = type,
        .state = ZOO_STATE_SYNC_CONNECTED,
        .path = (char *)path,
    };
    if (t->deliver)
        t->deliver(watcher, &ev, NULL, t->deliver_ctx);
}

int tree_set_watches(struct tree *t, const struct jute_set_watches *sw, void *watcher)
{
    int rc;
    for (int32_t i = 0; i < sw->data_watches.count; i++) {
        const char *p = sw->data_watches.items[i];
        if (!p)
            continue;
        struct tree_node *n = tree_find(t, p);
        struct node_stat st;
        if (n)
            node_get_stat(n, &st);
        if (!n)
            fire_now(t, watcher, ZOO_EVENT_DELETED, p);
        else if (st.mzxid > sw->relative_zxid)
            fire_now(t, watcher, ZOO_EVENT_DATA_CHANGED, p);
        else if ((rc = tree_watch_add(t, p, TREE_WATCH_DATA, watcher)) != 0)
            return rc;
    }
    for (int32_t i = 0; i < sw->exist_watches.count; i++) {
        const char *p = sw->exist_watches.items[i];
        if (!p)
            continue;
        if (tree_find(t, p))
            fire_now(t, watcher, ZOO_EVENT_CREATED, p);
        else if ((rc = tree_watch_add(t, p, TREE_WATCH_EXIST, watcher)) != 0)
            return rc;
    }
    for (int32_t i = 0; i < sw->child_watches.count; i++) {
        const char *p = sw->child_watches.items[i];
        if (!p)
            continue;
        struct tree_node *n = tree_find(t, p);
        struct node_stat st;
        if (n)
            node_get_stat(n, &st);
        if (!n)
            fire_now(t, watcher, ZOO_EVENT_DELETED, p);
        else if (st.pzxid > sw->relative_zxid)
            fire_now(t, watcher, ZOO_EVENT_CHILDREN_CHANGED, p);
        else if ((rc = tree_watch_add(t, p, TREE_WATCH_CHILD, watcher)) != 0)
            return rc;
    }
    for (int32_t i = 0; i < sw->persistent_watches.count; i++) {
        const char *p = sw->persistent_watches.items[i];
        if (p && (rc = tree_watch_add(t, p, TREE_WATCH_PERSISTENT, watcher)) != 0)
            return rc;
    }
    for (int32_t i = 0; i < sw->persistent_recursive_watches.count; i++) {
        const char *p = sw->persistent_recursive_watches.items[i];
        if (p && (rc = tree_watch_add(t, p, TREE_WATCH_PERSISTENT_RECURSIVE, watcher)) != 0)
            return rc;
    }
    return 0;
}

/* ---- reports ----------------------------------------------------------------------------------
 */

void tree_watch_summary(const struct tree *t, struct tree_watch_summary *out)
{
    out->connections = t->w.n_known[WT_DATA];
    out->paths = t->w.n_paths[WT_DATA];
    out->watches = t->w.n_entries[WT_DATA];
}

int64_t tree_watch_count(const struct tree *t)
{
    return t->w.n_entries[WT_DATA] + t->w.n_entries[WT_CHILD];
}

void tree_watch_foreach_by_watcher(const struct tree *t, tree_watch_visit_fn fn, void *arg)
{
    const struct watches *w = &t->w;
    for (size_t i = 0; w->watchers.b && i <= w->watchers.mask; i++) {
        for (struct chash_link *l = w->watchers.b[i]; l; l = l->next) {
            const struct wwatcher *ww = (const struct wwatcher *)l;
            if (!ww->known[WT_DATA])
                continue;
            if (ww->n[WT_DATA] == 0) {
                fn(ww->watcher, NULL, arg);
                continue;
            }
            const struct wentry *e = ww->head;
            do {
                if (e->table == WT_DATA)
                    fn(ww->watcher, e->wp->path, arg);
                e = e->w_next;
            } while (e != ww->head);
        }
    }
}

void tree_watch_foreach_by_path(const struct tree *t, tree_watch_visit_fn fn, void *arg)
{
    const struct watches *w = &t->w;
    for (size_t i = 0; w->paths.b && i <= w->paths.mask; i++) {
        for (struct chash_link *l = w->paths.b[i]; l; l = l->next) {
            const struct wpath *wp = (const struct wpath *)l;
            const struct wentry *e = wp->head[WT_DATA];
            if (!e)
                continue;
            do {
                fn(e->ww->watcher, wp->path, arg);
                e = e->p_next;
            } while (e != wp->head[WT_DATA]);
        }
    }
}

int watch_check(const struct watches *w, const char **why)
{
    int64_t entries[2] = {0, 0}, paths[2] = {0, 0}, known[2] = {0, 0}, recursive = 0;
    for (size_t i = 0; w->paths.b && i <= w->paths.mask; i++) {
        for (struct chash_link *l = w->paths.b[i]; l; l = l->next) {
            const struct wpath *wp = (const struct wpath *)l;
            if (!wp->head[0] && !wp->head[1]) {
                *why = "empty watch path kept";
                return PD_ECORRUPT;
            }
            for (int tb = 0; tb < 2; tb++) {
                uint32_t n = 0;
                const struct wentry *e = wp->head[tb];
                if (e) {
                    paths[tb]++;
                    do {
                        if (e->wp != wp || e->table != tb || !e->modes || e->p_next->p_prev != e ||
                            wentry_find(w, wp, e->ww, tb) != e) {
                            *why = "watch entry links";
                            return PD_ECORRUPT;
                        }
                        recursive += (e->modes & WM_RECURSIVE) != 0;
                        n++;
                        e = e->p_next;
                    } while (e != wp->head[tb]);
                }
                if (n != wp->n[tb]) {
                    *why = "watch path count";
                    return PD_ECORRUPT;
                }
                entries[tb] += n;
            }
        }
    }
    for (size_t i = 0; w->watchers.b && i <= w->watchers.mask; i++) {
        for (struct chash_link *l = w->watchers.b[i]; l; l = l->next) {
            const struct wwatcher *ww = (const struct wwatcher *)l;
            uint32_t n[2] = {0, 0};
            const struct wentry *e = ww->head;
            if (e) {
                do {
                    if (e->ww != ww || e->w_next->w_prev != e) {
                        *why = "watcher entry links";
                        return PD_ECORRUPT;
                    }
                    n[e->table]++;
                    e = e->w_next;
                } while (e != ww->head);
            }
            for (int tb = 0; tb < 2; tb++) {
                if (n[tb] != ww->n[tb] || (n[tb] && !ww->known[tb])) {
                    *why = "watcher counts";
                    return PD_ECORRUPT;
                }
                known[tb] += ww->known[tb];
            }
        }
    }
    for (int tb = 0; tb < 2; tb++) {
        if (entries[tb] != w->n_entries[tb] || paths[tb] != w->n_paths[tb] ||
            known[tb] != w->n_known[tb]) {
            *why = "watch table counts";
            return PD_ECORRUPT;
        }
    }
    if (recursive != w->n_recursive || (size_t)(entries[0] + entries[1]) != w->entries.count) {
        *why = "watch recursive/entry counts";
        return PD_ECORRUPT;
    }
    return 0;
}
