/*
 * Quota bookkeeping, as DataTree (3.8) does it with its PathTrie and
 * StatsTrack: a path P has a quota when /zookeeper/quota/P/zookeeper_limits
 * exists; /zookeeper/quota/P/zookeeper_stats then holds "count=N,bytes=M" for
 * P's subtree, kept up to date on every create, delete and setData below P
 * (the deepest quota'd prefix only). The stats node's data is rewritten in
 * place: its stat (mzxid, version) does not change, and ZooKeeper's cached
 * approximate data size does not see it (t->size_skew tracks the drift).
 * Quotas are not enforced here (enforceQuota is a prep-time check, off by
 * default in ZooKeeper).
 *
 * Paths in the quota set are PathTrie-canonical: components that are blank
 * after trimming are dropped ("/a/ /b" counts as "/a/b").
 */
#include "tree/tree_int.h"

#include "common/alloc.h"

#include <stdio.h>
#include <stdlib.h>

#define QUOTA_ROOT     "/zookeeper/quota"
#define QUOTA_ROOT_LEN 16
#define LIMIT_NODE     "zookeeper_limits"
#define STAT_NODE      "zookeeper_stats"

struct quota_ent {
    struct chash_link link; /* in t->quotas */
    size_t len;
    char path[]; /* canonical, NUL-terminated */
};

static uint64_t qhash(const char *p, size_t n)
{
    return hash_bytes(p, n, 0x71756f7461ULL);
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] > ' ')
            return false;
    return true;
}

/* PathTrie.split + join: the canonical form of path[0..len) into out (len + 2 bytes). */
static size_t canon(const char *path, size_t len, char *out)
{
    size_t o = 0, i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        if (!blank(path + i, j - i)) {
            out[o++] = '/';
            memcpy(out + o, path + i, j - i);
            o += j - i;
        }
        i = j + 1;
    }
    out[o] = '\0';
    return o;
}

static struct quota_ent *qfind(const struct chash *h, const char *p, size_t n)
{
    uint64_t hv = qhash(p, n);
    for (struct chash_link *l = chash_bucket(h, hv); l; l = l->next) {
        struct quota_ent *e = (struct quota_ent *)l;
        if (l->hash == hv && e->len == n && memcmp(e->path, p, n) == 0)
            return e;
    }
    return NULL;
}

void quota_close(struct chash *h)
{
    for (size_t i = 0; h->b && i <= h->mask; i++) {
        struct chash_link *l = h->b[i];
        while (l) {
            struct chash_link *next = l->next;
            pd_free(l);
            l = next;
        }
    }
    chash_free(h);
}

/* ---- StatsTrack ----------------------------------------------------------------------------- */

#define ST_MAX_KEYS 8

struct stats_track {
    int n;
    struct {
        char key[32];
        int64_t val;
    } kv[ST_MAX_KEYS];
};

static bool parse_long(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (n && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n)
        return false;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
        return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

static void st_set(struct stats_track *st, const char *key, size_t klen, int64_t v)
{
    for (int i = 0; i < st->n; i++) {
        if (strlen(st->kv[i].key) == klen && memcmp(st->kv[i].key, key, klen) == 0) {
            st->kv[i].val = v;
            return;
        }
    }
    if (st->n < ST_MAX_KEYS && klen < sizeof(st->kv[0].key)) {
        memcpy(st->kv[st->n].key, key, klen);
        st->kv[st->n].key[klen] = '\0';
        st->kv[st->n++].val = v;
    }
}

static int64_t st_get(const struct stats_track *st, const char *key)
{
    for (int i = 0; i < st->n; i++)
        if (strcmp(st->kv[i].key, key) == 0)
            return st->kv[i].val;
    return -1;
}

/*
 * new StatsTrack(String): pairs split on [,;]+, each "key=value" (Java's split
 * drops trailing empty parts, and an empty value reads -1). False where Java
 * would throw.
 */
static bool st_parse(struct stats_track *st, const uint8_t *data, int32_t len)
{
    st->n = 0;
    if (len <= 0)
        return true;
    const char *s = (const char *)data;
    size_t n = (size_t)len;
    /* Java's split drops trailing empty strings, keeps a leading one */
    while (n > 0 && (s[n - 1] == ',' || s[n - 1] == ';'))
        n--;
    size_t i = 0;
    for (;;) {
        size_t j = i;
        while (j < n && s[j] != ',' && s[j] != ';')
            j++;
        /* the pair s[i..j): split("=") with trailing empties dropped */
        const char *p = s + i;
        size_t pl = j - i;
        while (pl > 0 && p[pl - 1] == '=')
            pl--;
        const char *eq = memchr(p, '=', pl);
        if (!eq)
            return false; /* kv[1] does not exist */
        const char *v = eq + 1;
        const char *vend = memchr(v, '=', (size_t)(p + pl - v));
        size_t vl = vend ? (size_t)(vend - v) : (size_t)(p + pl - v);
        int64_t val = -1;
        if (vl > 0 && !parse_long(v, vl, &val))
            return false;
        st_set(st, p, (size_t)(eq - p), val);
        if (j >= n)
            break;
        i = j;
        while (i < n && (s[i] == ',' || s[i] == ';'))
            i++;
        if (i >= n)
            break;
    }
    return true;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* StatsTrack.toString: "count=N,bytes=M", then "=;key=value" for the other keys, sorted. */
static int st_format(const struct stats_track *st, char *out, size_t cap)
{
    int n = snprintf(out, cap, "count=%lld,bytes=%lld", (long long)st_get(st, "count"),
                     (long long)st_get(st, "bytes"));
    char keys[ST_MAX_KEYS][32];
    int nk = 0;
    for (int i = 0; i < st->n; i++)
        if (strcmp(st->kv[i].key, "count") && strcmp(st->kv[i].key, "bytes"))
            memcpy(keys[nk++], st->kv[i].key, 32);
    if (nk == 0)
        return n;
    qsort(keys, (size_t)nk, sizeof(keys[0]), cmp_key);
    n += snprintf(out + n, cap - (size_t)n, "=");
    for (int i = 0; i < nk; i++)
        n +=
            snprintf(out + n, cap - (size_t)n, ";%s=%lld", keys[i], (long long)st_get(st, keys[i]));
    return n;
}

/* ---- updates ------------------------------------------------------------------------------- */

/*
 * getMaxPrefixWithQuota: the deepest quota'd prefix of `path` (canonical, into
 * buf of len + 2 bytes), or 0 if none (the root never counts).
 */
static size_t max_prefix(const struct tree *t, const char *path, size_t len, char *buf)
{
    size_t n = canon(path, len, buf);
    size_t best = 0;
    for (size_t i = 1; i <= n; i++) {
        if (i == n || buf[i] == '/') {
            if (qfind(&t->quotas, buf, i))
                best = i;
        }
    }
    buf[best] = '\0';
    return best;
}

/* The zookeeper_stats node of quota'd path prefix[0..n), or NODE_NIL. */
static uint32_t stat_node(const struct tree *t, const char *prefix, size_t n, struct arena *a)
{
    size_t len = QUOTA_ROOT_LEN + n + 1 + sizeof(STAT_NODE) - 1;
    char *p = arena_alloc(a, len + 1);
    if (!p)
        return NODE_NIL;
    snprintf(p, len + 1, "%s%.*s/%s", QUOTA_ROOT, (int)n, prefix, STAT_NODE);
    return node_lookup(t, p, len);
}

int quota_prepare(struct tree *t, const char *path, size_t len, int64_t bytes_diff,
                  int64_t count_diff, uint32_t busy1, uint32_t busy2, struct arena *a,
                  struct quota_upd *q)
{
    memset(q, 0, sizeof(*q));
    if (t->quotas.count == 0)
        return 0;
    char *buf = arena_alloc(a, len + 2);
    if (!buf)
        return PD_ENOMEM;
    size_t n = max_prefix(t, path, len, buf);
    if (n == 0)
        return 0;
    uint32_t id = stat_node(t, buf, n, a);
    if (id == NODE_NIL || id == busy1 || id == busy2)
        return 0; /* ZooKeeper logs "Missing node for stat" */
    const struct tree_node *sn = node_get(t, id);
    struct stats_track st;
    if (!st_parse(&st, node_data(sn), sn->data_len))
        return 0; /* ZooKeeper would throw out of the txn; keep the tree sane instead */
    int64_t c = st_get(&st, "count"), b = st_get(&st, "bytes");
    st_set(&st, "count", 5, (int64_t)((uint64_t)c + (uint64_t)count_diff));
    st_set(&st, "bytes", 5, (int64_t)((uint64_t)b + (uint64_t)bytes_diff));
    char *out = arena_alloc(a, 512);
    if (!out)
        return PD_ENOMEM;
    int olen = st_format(&st, out, 512);
    q->c.id = id;
    q->c.set_data = true;
    q->c.data = (const uint8_t *)out;
    q->c.data_len = olen;
    node_get_stat(sn, &q->c.st);
    if (node_change_prepare(t, &q->c) != 0)
        return PD_ENOMEM;
    q->active = true;
    q->old_len = sn->data_len > 0 ? sn->data_len : 0;
    return 0;
}

void quota_commit(struct tree *t, struct quota_upd *q)
{
    if (!q->active)
        return;
    node_change_commit(t, &q->c);
    /* the cached data size does not follow a stats rewrite */
    t->size_skew -= (int64_t)q->c.data_len - q->old_len;
    q->active = false;
}

void quota_abort(struct quota_upd *q)
{
    if (q->active)
        node_change_abort(&q->c);
    q->active = false;
}

/* getCounts: nodes and data bytes of the subtree at node `id`. */
static void subtree_counts(const struct tree *t, uint32_t id, int64_t *count, int64_t *bytes)
{
    *count = 0;
    *bytes = 0;
    if (id == NODE_NIL)
        return;
    const struct tree_node *top = node_get(t, id), *cur = top;
    for (;;) {
        (*count)++;
        *bytes += cur->data_len > 0 ? cur->data_len : 0;
        uint32_t first = node_first_child(cur);
        if (first != NODE_NIL) {
            cur = node_get(t, first);
            continue;
        }
        for (;;) {
            if (cur == top)
                return;
            const struct tree_node *p = node_get(t, cur->parent);
            if (cur->next != node_first_child(p)) {
                cur = node_get(t, cur->next);
                break;
            }
            cur = p;
        }
    }
}

/* The quota'd path a /zookeeper/quota/P/<child> node is about: P, or NULL. */
static bool quota_target(const char *parent, size_t parent_len, const char **p, size_t *n)
{
    if (parent_len < QUOTA_ROOT_LEN || memcmp(parent, QUOTA_ROOT, QUOTA_ROOT_LEN) != 0)
        return false;
    *p = parent + QUOTA_ROOT_LEN;
    *n = parent_len - QUOTA_ROOT_LEN;
    return true;
}

int quota_stats_data(const struct tree *t, const char *parent, size_t parent_len, const char *name,
                     size_t name_len, struct arena *a, struct jute_buf *data)
{
    const char *p;
    size_t n;
    if (name_len != sizeof(STAT_NODE) - 1 || memcmp(name, STAT_NODE, name_len) != 0 ||
        !quota_target(parent, parent_len, &p, &n))
        return 0;
    /* updateQuotaForPath(P): the stats node starts out with P's current counts */
    int64_t count, bytes;
    subtree_counts(t, node_lookup(t, p, n), &count, &bytes);
    char *out = arena_alloc(a, 64);
    if (!out)
        return PD_ENOMEM;
    int len = snprintf(out, 64, "count=%lld,bytes=%lld", (long long)count, (long long)bytes);
    data->data = (const uint8_t *)out;
    data->len = len;
    return 1;
}

/* PathTrie.addPath for a new zookeeper_limits node: prepared (allocated) or NULL. */
void *quota_limit_prepare(struct tree *t, const char *parent, size_t parent_len, const char *name,
                          size_t name_len, int *err)
{
    *err = 0;
    const char *p;
    size_t n;
    if (name_len != sizeof(LIMIT_NODE) - 1 || memcmp(name, LIMIT_NODE, name_len) != 0 ||
        !quota_target(parent, parent_len, &p, &n))
        return NULL;
    struct quota_ent *e = pd_malloc(sizeof(*e) + n + 2);
    if (!e || chash_reserve(&t->quotas, t->quotas.count + 1) != 0) {
        pd_free(e);
        *err = PD_ENOMEM;
        return NULL;
    }
    e->len = canon(p, n, e->path);
    return e;
}

void quota_limit_commit(struct tree *t, void *prepared)
{
    struct quota_ent *e = prepared;
    if (!e)
        return;
    /* addPath("") throws in ZooKeeper; an existing entry stays */
    if (e->len == 0 || qfind(&t->quotas, e->path, e->len)) {
        pd_free(e);
        return;
    }
    chash_insert(&t->quotas, &e->link, qhash(e->path, e->len));
}

void quota_limit_deleted(struct tree *t, const char *parent, size_t parent_len, const char *name,
                         size_t name_len)
{
    const char *p;
    size_t n;
    if (t->quotas.count == 0 || name_len != sizeof(LIMIT_NODE) - 1 ||
        memcmp(name, LIMIT_NODE, name_len) != 0 || !quota_target(parent, parent_len, &p, &n))
        return;
    char buf[512];
    if (n + 2 > sizeof(buf))
        return;
    size_t cn = canon(p, n, buf);
    struct quota_ent *e = qfind(&t->quotas, buf, cn);
    if (e) {
        chash_remove(&t->quotas, &e->link);
        pd_free(e);
    }
}

/*
 * setupQuota after a snapshot load: every leaf /zookeeper/quota/P/zookeeper_limits
 * makes P quota'd and refreshes P's stats node.
 */
int quota_setup(struct tree *t)
{
    uint32_t qroot = node_lookup(t, QUOTA_ROOT, QUOTA_ROOT_LEN);
    if (qroot == NODE_NIL)
        return 0;
    struct arena a;
    arena_init(&a, 4096);
    int rc = 0;
    uint32_t cur_id = qroot;
    for (;;) {
        const struct tree_node *cur = node_get(t, cur_id);
        uint32_t first = node_first_child(cur);
        if (first != NODE_NIL) {
            cur_id = first;
            continue;
        }
        uint32_t nl = node_name_len(cur);
        if (cur_id != qroot && nl == sizeof(LIMIT_NODE) - 1 &&
            memcmp(node_name(cur), LIMIT_NODE, nl) == 0) {
            size_t plen;
            char *path = node_path(t, cur->parent, &a, &plen);
            int err = 0;
            struct jute_buf data;
            if (!path) {
                rc = PD_ENOMEM;
                break;
            }
            void *prep = quota_limit_prepare(t, path, plen, LIMIT_NODE, nl, &err);
            int r = quota_stats_data(t, path, plen, STAT_NODE, sizeof(STAT_NODE) - 1, &a, &data);
            if (err || r < 0) {
                pd_free(prep);
                rc = PD_ENOMEM;
                break;
            }
            /* Java: path.substring(16, path.indexOf("/zookeeper_limits")) is the parent here */
            char *sp = arena_alloc(&a, plen + sizeof(STAT_NODE) + 1);
            if (!sp) {
                pd_free(prep);
                rc = PD_ENOMEM;
                break;
            }
            snprintf(sp, plen + sizeof(STAT_NODE) + 1, "%s/%s", path, STAT_NODE);
            uint32_t sid = node_lookup(t, sp, strlen(sp));
            if (sid != NODE_NIL) {
                struct node_change c = {
                    .id = sid, .set_data = true, .data = data.data, .data_len = data.len};
                const struct tree_node *sn = node_get(t, sid);
                int64_t old = sn->data_len > 0 ? sn->data_len : 0;
                node_get_stat(sn, &c.st);
                if (node_change_prepare(t, &c) != 0) {
                    pd_free(prep);
                    rc = PD_ENOMEM;
                    break;
                }
                node_change_commit(t, &c);
                t->size_skew -= data.len - old;
            }
            quota_limit_commit(t, prep);
            arena_reset(&a);
            cur = node_get(t, cur_id);
        }
        /* next in preorder within the quota subtree */
        for (;;) {
            if (cur_id == qroot)
                goto done;
            const struct tree_node *p = node_get(t, cur->parent);
            if (cur->next != node_first_child(p)) {
                cur_id = cur->next;
                break;
            }
            cur_id = cur->parent;
            cur = p;
        }
    }
done:
    arena_close(&a);
    return rc;
}
