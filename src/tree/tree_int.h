/*
 * What the files of tree/ share: the node layout, the id table, the hash
 * tables, the ACL cache, the overlay of outstanding changes and the watch
 * tables. Nothing here is part of the interface (tree.h).
 *
 * Memory layout of the committed tree (designed for 1M znodes in well under
 * 200 MiB with 100-byte data):
 *
 *   - A node is ONE pd_malloc block: a 40-byte fixed part, then only the
 *     fields that differ from their common value (mzxid/pzxid equal to
 *     czxid, mtime equal to ctime, owner and versions zero, no child list
 *     are not stored; a flag bit says which are present), then the data
 *     bytes, then the name bytes (no NUL). A leaf never modified since
 *     creation with an 8-byte name and 100 bytes of data is 40 + 100 + 8 =
 *     148 bytes (a 160-byte glibc chunk).
 *   - Nodes refer to each other by 32-bit ids, not pointers. An id indexes
 *     the id table (pages of 4096 pointers: 8 bytes per node), so a node
 *     block can move (realloc on setData or when a stat field first becomes
 *     non-default) by updating one table entry.
 *   - Children: intrusive circular doubly-linked sibling list (next/prev ids)
 *     plus first child and count in the parent's tail (added when it gets
 *     its first child, when its cversion/pzxid reshape it anyway): O(1)
 *     insert and delete, creation order.
 *   - Lookup: one global open-addressing table keyed by (parent id, name),
 *     linear probing, backward-shift deletion, load <= 3/4; a slot is the
 *     node id and 32 bits of the key's hash, so most mismatching probes and
 *     all rehashing touch no node, and growth is incremental (table.c;
 *     8 bytes per slot: 10.7 to 21.3 bytes per node).
 *   - ACLs: a node holds a 32-bit slot of the interned, refcounted ACL
 *     cache, which keeps ZooKeeper's long index for snapshots.
 *   - Ephemeral, container and TTL nodes carry two more ids (16 bytes with
 *     the owner) linking them into their session's list or the container or
 *     TTL list.
 *
 *   Per node, leaf, unmodified, 100-byte data, 8-byte name: 160 (chunk) + 8
 *   (id table) + 8/load (lookup slots, 16.8 at 1M nodes) = about 185 bytes,
 *   85 over the data (measured with tests/unit/tree/bench_mem.c: 1M such
 *   nodes, RSS growth ~185 MB, 179.5 MiB total; while a growth drains, the
 *   old table adds 4/load more).
 */
#ifndef PD_TREE_TREE_INT_H
#define PD_TREE_TREE_INT_H

#include "tree/tree.h"

#include "common/err.h"

#include <assert.h>
#include <string.h>

/* ---- hashing ------------------------------------------------------------------- */

static inline uint64_t hash_mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static inline uint64_t hash_bytes(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ULL ^ hash_mix64(seed + n);
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return hash_mix64(h);
}

/*
 * A chained hash table of intrusive links (the link is the first member of
 * the element). The table owns only its bucket array.
 */
struct chash_link {
    struct chash_link *next; /* next in the bucket */
    uint64_t hash;
};

struct chash {
    struct chash_link **b; /* buckets (owned) */
    size_t mask;           /* bucket count - 1; 0 with b NULL when empty */
    size_t count;
};

/* Makes room for `n` elements in total. 0 or PD_ENOMEM (table unchanged). */
int chash_reserve(struct chash *h, size_t n);
/* Inserts; the caller reserved room first, so this cannot fail. */
void chash_insert(struct chash *h, struct chash_link *l, uint64_t hash);
void chash_remove(struct chash *h, struct chash_link *l);
static inline struct chash_link *chash_bucket(const struct chash *h, uint64_t hash)
{
    return h->b ? h->b[hash & h->mask] : NULL;
}
void chash_free(struct chash *h);

/* ---- stat -------------------------------------------------------------------- */

/* StatPersisted: what a node stores (dataLength and numChildren are derived). */
struct node_stat {
    int64_t czxid;
    int64_t mzxid;
    int64_t ctime;
    int64_t mtime;
    int64_t pzxid;
    int64_t owner; /* ephemeralOwner */
    int32_t version;
    int32_t cversion;
    int32_t aversion;
};

/* EphemeralType */
enum node_kind {
    KIND_PERSISTENT, /* owner 0 (VOID) */
    KIND_EPHEMERAL,  /* owner is a session (NORMAL) */
    KIND_CONTAINER,  /* owner Long.MIN_VALUE */
    KIND_TTL,        /* owner 0xff.. with the TTL in the low 40 bits, extended types only */
};

#define TTL_RESERVED_MASK ((int64_t)0x00ffff0000000000LL)
#define TTL_VALUE_MASK    ((int64_t)0x000000ffffffffffLL)

static inline enum node_kind owner_kind(int64_t owner, bool ext_types)
{
    if (ext_types && (owner & ZOO_TTL_MASK) == ZOO_TTL_MASK) {
        /* Only feature bits 0 (TTL) exist; ZooKeeper throws on others. */
        if ((owner & TTL_RESERVED_MASK) == 0)
            return KIND_TTL;
        return KIND_EPHEMERAL;
    }
    if (owner == ZOO_CONTAINER_OWNER)
        return KIND_CONTAINER;
    return owner == 0 ? KIND_PERSISTENT : KIND_EPHEMERAL;
}

/* ---- nodes --------------------------------------------------------------------- */

#define NODE_NIL 0u /* "no node" id; real ids start at 1 */

/* Which optional fields a node's tail holds. */
enum {
    NF_MZXID = 1u << 0,    /* int64, present if mzxid != czxid */
    NF_PZXID = 1u << 1,    /* int64, present if pzxid != czxid */
    NF_MTIME = 1u << 2,    /* int64, present if mtime != ctime */
    NF_OWNER = 1u << 3,    /* int64 owner, then uint32 list next/prev, if owner != 0 */
    NF_VERSION = 1u << 4,  /* int32, if != 0 */
    NF_CVERSION = 1u << 5, /* int32, if != 0 */
    NF_AVERSION = 1u << 6, /* int32, if != 0 */
    NF_LONGNAME = 1u << 7, /* uint32 name length, if >= 0xffff */
    NF_SESSION = 1u << 8,  /* the owner is a session (EphemeralType NORMAL): clients see it */
    NF_CHILDREN = 1u << 9, /* uint32 first child and child count: set once a node may have
                            * children (sticky), so leaves do not pay for them */
    NF_I64_MASK = 0x0fu,
    NF_I32_MASK = 0x70u,
};

struct tree_node {
    uint32_t parent;   /* parent id; NODE_NIL for the root */
    uint32_t next;     /* next sibling (circular: the last one's next is the first) */
    uint32_t prev;     /* previous sibling (the first one's prev is the last) */
    uint32_t acl;      /* slot in the ACL cache (a reference) */
    int32_t data_len;  /* -1: null data */
    uint16_t name_len; /* 0xffff: the length is in the tail (NF_LONGNAME) */
    uint16_t flags;    /* NF_* */
    int64_t czxid;
    int64_t ctime;
    /* tail: int64 [mzxid][pzxid][mtime][owner], uint32 [list next][list prev],
     * uint32 [first child][child count], int32 [version][cversion][aversion],
     * uint32 [long name length], data bytes, name bytes */
};

static_assert(sizeof(struct tree_node) == 40, "node header is 40 bytes");

static inline unsigned popcount16(unsigned x)
{
    return (unsigned)__builtin_popcount(x);
}

static inline unsigned char *node_tail(const struct tree_node *n)
{
    return (unsigned char *)(n + 1);
}

static inline size_t node_i32_base(unsigned flags)
{
    return 8u * popcount16(flags & NF_I64_MASK);
}

/* Offset in the tail of the list links (only with NF_OWNER). */
static inline size_t node_links_off(unsigned flags)
{
    return node_i32_base(flags);
}

static inline size_t node_children_off(unsigned flags)
{
    return node_i32_base(flags) + ((flags & NF_OWNER) ? 8u : 0u);
}

static inline size_t node_longname_off(unsigned flags)
{
    return node_children_off(flags) + ((flags & NF_CHILDREN) ? 8u : 0u) +
           4u * popcount16(flags & NF_I32_MASK);
}

static inline size_t node_data_off(unsigned flags)
{
    return node_longname_off(flags) + ((flags & NF_LONGNAME) ? 4u : 0u);
}

static inline uint32_t node_name_len(const struct tree_node *n)
{
    if (!(n->flags & NF_LONGNAME))
        return n->name_len;
    uint32_t v;
    memcpy(&v, node_tail(n) + node_longname_off(n->flags), 4);
    return v;
}

static inline const uint8_t *node_data(const struct tree_node *n)
{
    return node_tail(n) + node_data_off(n->flags);
}

static inline const char *node_name(const struct tree_node *n)
{
    size_t dl = n->data_len > 0 ? (size_t)n->data_len : 0;
    return (const char *)node_tail(n) + node_data_off(n->flags) + dl;
}

static inline int64_t node_owner(const struct tree_node *n)
{
    if (!(n->flags & NF_OWNER))
        return 0;
    int64_t v;
    memcpy(&v, node_tail(n) + 8u * popcount16(n->flags & (NF_OWNER - 1)), 8);
    return v;
}

/* The list links of a node with an owner (session, container or TTL list). */
static inline void node_get_links(const struct tree_node *n, uint32_t *next, uint32_t *prev)
{
    const unsigned char *p = node_tail(n) + node_links_off(n->flags);
    memcpy(next, p, 4);
    memcpy(prev, p + 4, 4);
}

static inline void node_set_links(struct tree_node *n, uint32_t next, uint32_t prev)
{
    unsigned char *p = node_tail(n) + node_links_off(n->flags);
    memcpy(p, &next, 4);
    memcpy(p + 4, &prev, 4);
}

static inline uint32_t node_first_child(const struct tree_node *n)
{
    uint32_t v = NODE_NIL;
    if (n->flags & NF_CHILDREN)
        memcpy(&v, node_tail(n) + node_children_off(n->flags), 4);
    return v;
}

static inline uint32_t node_num_children(const struct tree_node *n)
{
    uint32_t v = 0;
    if (n->flags & NF_CHILDREN)
        memcpy(&v, node_tail(n) + node_children_off(n->flags) + 4, 4);
    return v;
}

/* Only for a node with NF_CHILDREN. */
static inline void node_set_children(struct tree_node *n, uint32_t first, uint32_t count)
{
    assert(n->flags & NF_CHILDREN);
    unsigned char *p = node_tail(n) + node_children_off(n->flags);
    memcpy(p, &first, 4);
    memcpy(p + 4, &count, 4);
}

void node_get_stat(const struct tree_node *n, struct node_stat *st);

/* ---- ACL cache (ReferenceCountedACLCache) ---------------------------------------- */

#define ACL_SLOT_OPEN                                                                              \
    0u /* the built-in "null ACL" of the initial nodes: index -1, world:anyone ALL */

struct acl_ent {
    int64_t index;           /* ZooKeeper's long key (snapshots); 0 when the slot is free */
    int64_t refs;            /* nodes using it */
    uint64_t hash;           /* of the content */
    struct jute_acl_vec vec; /* items and strings in one block (owned); NULL items when free */
    uint32_t next_free;      /* free-slot list link */
};

struct acl_cache {
    struct acl_ent *ents; /* slot -> entry (owned); slot 0 is the built-in */
    uint32_t n_ents;      /* slots in use or freed (high-water) */
    uint32_t cap;
    uint32_t free_head; /* a free slot, or 0 */
    uint32_t *table;    /* open addressing: slot numbers keyed by content hash (owned) */
    uint32_t table_mask;
    uint32_t count;     /* live entries (slot 0 excluded) */
    int64_t next_index; /* aclIndex: the last index handed out */
};

uint64_t acl_vec_hash(const struct jute_acl_vec *v);
bool acl_vec_equal(const struct jute_acl_vec *a, const struct jute_acl_vec *b);
int acl_cache_init(struct acl_cache *c);
void acl_cache_close(struct acl_cache *c);
/*
 * convertAcls: the slot holding `v` (copied when new, with the next index),
 * its reference count raised. 0 or PD_ENOMEM.
 */
int acl_intern(struct acl_cache *c, const struct jute_acl_vec *v, uint32_t *slot);
/* removeUsage: drops one reference, freeing the entry at zero. */
void acl_release(struct acl_cache *c, uint32_t slot);
void acl_addref(struct acl_cache *c, uint32_t slot);
const struct jute_acl_vec *acl_get(const struct acl_cache *c, uint32_t slot);
/* Adds a list with a given index and no reference (snapshot loading). 0 or PD_ENOMEM. */
int acl_load(struct acl_cache *c, int64_t index, const struct jute_acl_vec *v, uint32_t *slot);
/* purgeUnused: frees the entries no node refers to. */
void acl_purge_unused(struct acl_cache *c);

/* fixupACL: the checked, expanded ACL for a create or setACL, in the arena. */
int32_t acl_fixup(const struct jute_acl_vec *in, const struct tree_auth *who, struct arena *a,
                  struct jute_acl_vec *out, int *pd_err);

/* ---- sessions' ephemerals -------------------------------------------------------- */

struct sess_ent {
    int64_t session_id; /* 0: empty slot */
    uint32_t head;      /* first node of the session's circular list */
    uint32_t count;
};

struct sess_table {
    struct sess_ent *slots; /* owned */
    uint32_t mask;
    uint32_t count;
};

/* ---- the outstanding-changes overlay (ChangeRecord) ------------------------------- */

/* A refcounted copy of an ACL list held by change records. */
struct ov_acl {
    uint32_t refs;
    struct jute_acl_vec vec; /* items and strings follow in the same block */
};

struct ov_rec {
    struct chash_link link; /* in ov.map while it is the latest record for its path */
    struct ov_rec *next;    /* FIFO of outstanding changes, oldest first */
    struct ov_rec *prev;
    struct ov_rec *superseded; /* the map entry this record replaced; only meaningful
                                * during the tree_prep() call that added it */
    int64_t zxid;
    bool exists; /* false: the change deletes the node (ZooKeeper: stat null) */
    bool in_map;
    int32_t child_count;
    struct node_stat st;
    struct ov_acl *acl; /* a reference; NULL when !exists */
    /* Digest prediction (digest.c), as ZooKeeper's ChangeRecord.precalculatedDigest: */
    bool has_pd;          /* pd is set (for the record's own new data) */
    uint32_t pd;          /* digest_pd() of the path and the node's data after the change */
    uint32_t digest;      /* the node's digest after the change (0 if deleted) */
    uint64_t tree_digest; /* the tree digest once every record up to this one is applied */
    size_t path_len;
    char path[]; /* NUL-terminated; the root is "/" */
};

struct overlay {
    struct ov_rec *head; /* oldest */
    struct ov_rec *tail; /* newest */
    int64_t count;
    struct chash map; /* path -> latest ov_rec */
};

/* ---- watches --------------------------------------------------------------------- */

enum { WT_DATA = 0, WT_CHILD = 1 };
enum { WM_STANDARD = 1u, WM_PERSISTENT = 2u, WM_RECURSIVE = 4u };

struct wentry;

struct wpath {
    struct chash_link link; /* in watches.paths */
    struct wentry *head[2]; /* entries per table, circular doubly linked */
    uint32_t n[2];
    size_t len;
    char path[];
};

struct wwatcher {
    struct chash_link link; /* in watches.watchers */
    void *watcher;
    struct wentry *head; /* all entries of this watcher, circular doubly linked */
    bool known[2];       /* present in that table's watch2Paths (ZooKeeper keeps a watcher
                          * there after its one-shot watches fire) */
    uint32_t n[2];       /* entries per table */
    uint64_t mark;       /* trigger sequence number of its last delivery */
};

struct wentry {
    struct chash_link link; /* in watches.entries, keyed by (wpath, wwatcher, table) */
    struct wentry *p_next;  /* in wpath->head[table] */
    struct wentry *p_prev;
    struct wentry *w_next; /* in wwatcher->head */
    struct wentry *w_prev;
    struct wpath *wp;
    struct wwatcher *ww;
    uint8_t table; /* WT_* */
    uint8_t modes; /* WM_* */
};

struct watches {
    struct chash paths;    /* wpath by path */
    struct chash watchers; /* wwatcher by pointer */
    struct chash entries;  /* wentry by (wpath, wwatcher, table) */
    int64_t n_entries[2];
    int64_t n_recursive; /* entries with WM_RECURSIVE */
    int64_t n_known[2];  /* watchers with known[table] */
    int64_t n_paths[2];  /* wpaths with n[table] > 0 */
    uint64_t seq;        /* trigger sequence */
};

void watch_init(struct watches *w);
void watch_close(struct watches *w);
/* DataTree's triggerWatch on one table; `seq` dedups deliveries across calls. */
void watch_trigger(struct tree *t, int table, const char *path, size_t path_len, int32_t type,
                   const struct jute_acl_vec *acl, uint64_t seq);
int watch_check(const struct watches *w, const char **why);

/* ---- the tree ------------------------------------------------------------------- */

#define ID_PAGE_BITS 12u
#define ID_PAGE_SIZE (1u << ID_PAGE_BITS)

/* A lookup table slot (table.c): a node id (NODE_NIL: empty) and 32 bits of its key's hash. */
struct slot {
    uint32_t id;
    uint32_t hash; /* child_hash(parent, name); the home slot is hash & mask */
};

/* Slots drained from the old table per mutating call while the table grows. */
#define TABLE_GROW_STEP 8u

struct slot_table {
    struct slot *s; /* the table new entries go to (owned); NULL before the first */
    uint32_t mask;
    uint32_t count;   /* entries in s */
    struct slot *old; /* the table being drained (owned), or NULL */
    uint32_t old_mask;
    uint32_t old_count; /* entries left in old */
    uint32_t cursor;    /* next old slot to drain (going down) */
    uint32_t stop;      /* the empty old slot draining started below */
    uint64_t moved;     /* entries moved from an old table so far (for tests) */
};

struct tree {
    uintptr_t **id_pages; /* id -> node pointer, or (next free id << 1) | 1 when free (owned) */
    uint32_t n_id_pages;
    uint32_t id_pages_cap;
    uint32_t id_next; /* lowest never-used id */
    uint32_t id_free; /* head of the free id list, or NODE_NIL */

    struct slot_table tab; /* (parent, name) -> id (table.c) */
    uint32_t n_nodes;      /* real nodes (the root once) */

    uint32_t root;
    uint32_t containers; /* head of the container list, or NODE_NIL */
    uint32_t ttls;       /* head of the TTL list, or NODE_NIL */
    int64_t n_ephemerals;
    int64_t data_size; /* approximate data size, as ZooKeeper counts it */
    uint64_t digest;   /* the tree digest (digest.c): sum of node digests mod 2^64 */
    bool ext_types;

    struct acl_cache acls;
    struct sess_table sessions;
    struct overlay ov;
    struct watches w;
    struct chash quotas; /* quota'd paths (quota.c) */

    tree_deliver_fn deliver;
    void *deliver_ctx;

    /* Snapshot loading (serialize.c): ACL index -> slot, only between load_begin/end. */
    int64_t *load_idx;   /* owned */
    uint32_t *load_slot; /* owned */
    uint32_t load_mask;
    uint32_t load_count;
    uint32_t load_unknown_acls; /* nodes whose ACL index the file's map lacked */
    char *load_ppath; /* the last parent's path (owned), so siblings skip the lookup */
    size_t load_plen;
    size_t load_pcap;
    uint32_t load_parent; /* its id, or NODE_NIL */
    int64_t size_skew;    /* the root's data counted twice by a load, as ZooKeeper does */

    struct tree_walk *walk; /* the walks following this tree's deletes (walk.c), a list */
};

static inline struct tree_node *node_get(const struct tree *t, uint32_t id)
{
    uintptr_t v = t->id_pages[id >> ID_PAGE_BITS][id & (ID_PAGE_SIZE - 1)];
    assert(id != NODE_NIL && !(v & 1));
    return (struct tree_node *)v;
}

/* table.c: the lookup table */
uint32_t child_hash(uint32_t parent, const char *name, size_t len);
uint32_t node_child(const struct tree *t, uint32_t parent, const char *name, size_t len);
/* node_child() with the key's child_hash() already computed. */
uint32_t node_child_h(const struct tree *t, uint32_t parent, const char *name, size_t len,
                      uint32_t hash);
/*
 * Makes room for `n` more entries (growing, incrementally, past 3/4 load) and
 * drains up to TABLE_GROW_STEP slots of a growth in progress. 0 or PD_ENOMEM
 * (no entry lost or moved out of reach).
 */
int slots_reserve(struct tree *t, uint64_t n);
/* Adds node `id` (whose key hashes to `hash`); room was reserved. */
void slot_put(struct tree *t, uint32_t id, uint32_t hash);
/* Removes node `id` (still linked to its parent and name); drains as slots_reserve. */
void slot_remove(struct tree *t, uint32_t id);
void slots_free(struct tree *t);
/* Every entry's id is live, its hash right, its probe path unbroken; counts match. */
int slots_check(const struct tree *t, const char **why);

/* node.c */
uint32_t node_lookup(const struct tree *t, const char *path, size_t len);
/* UTF-16 length of a UTF-8 string, as Java's String.length(). */
int64_t utf16_len(const char *s, size_t len);
/*
 * The full path of node `id` in the arena, NUL-terminated ("/" for the root).
 * NULL on OOM.
 */
char *node_path(const struct tree *t, uint32_t id, struct arena *a, size_t *len);

/* A node being created: everything allocated up front so linking cannot fail. */
struct node_new {
    uint32_t id;
    struct tree_node *blk;
    bool has_hash; /* the caller set `hash` to child_hash(parent, name) before commit */
    uint32_t hash;
};
/*
 * Reserves an id, a lookup slot, a session slot (for an ephemeral) and the
 * node block. The node is not visible until node_new_commit(). 0 or PD_ENOMEM.
 */
int node_new_prepare(struct tree *t, struct node_new *nn, const struct node_stat *st,
                     const char *name, size_t name_len, const uint8_t *data, int32_t data_len,
                     bool with_children);
void node_new_abort(struct tree *t, struct node_new *nn);
/* Links the node under `parent` (which has NF_CHILDREN) with ACL slot `acl` (the reference
 * is taken over). */
void node_new_commit(struct tree *t, struct node_new *nn, uint32_t parent, uint32_t acl);

/* A change of stat and/or data of an existing node. */
struct node_change {
    uint32_t id;
    bool want_children;    /* make room for a child list (the node is getting a child) */
    struct tree_node *blk; /* new block, or NULL when the node can be updated in place */
    struct node_stat st;
    const uint8_t *data; /* new data (borrowed until commit) */
    int32_t data_len;
    bool set_data;
};
int node_change_prepare(struct tree *t, struct node_change *c);
void node_change_abort(struct node_change *c);
void node_change_commit(struct tree *t, struct node_change *c);
/* Unlinks and frees node `id` (a leaf); the ACL reference is returned in *acl. */
void node_remove(struct tree *t, uint32_t id, uint32_t *acl);

int id_table_init(struct tree *t);
/* Makes node `id` able to hold children (reshaping it if needed). 0 or PD_ENOMEM. */
int node_make_parent(struct tree *t, uint32_t id);
void node_free_all(struct tree *t);
/* The ephemerals of session `sid`, or NULL if it has none. */
const struct sess_ent *sess_lookup(const struct tree *t, int64_t sid);
int node_check(const struct tree *t, const char **why);

/* quota.c: DataTree's quota bookkeeping. */
struct quota_upd {
    bool active;
    struct node_change c; /* the stats node's new data */
    int64_t old_len;
};
/*
 * Prepares the stats update for a change of count_diff nodes and bytes_diff
 * bytes at `path` (a no-op when no quota covers it, or when the stats node is
 * busy1/busy2, nodes the op itself changes). 0 or PD_ENOMEM.
 */
int quota_prepare(struct tree *t, const char *path, size_t len, int64_t bytes_diff,
                  int64_t count_diff, uint32_t busy1, uint32_t busy2, struct arena *a,
                  struct quota_upd *q);
void quota_commit(struct tree *t, struct quota_upd *q);
void quota_abort(struct quota_upd *q);
/* For a new /zookeeper/quota/P/zookeeper_stats: its data, P's counts (1), else 0; or PD_ENOMEM. */
int quota_stats_data(const struct tree *t, const char *parent, size_t parent_len, const char *name,
                     size_t name_len, struct arena *a, struct jute_buf *data);
/* For a new /zookeeper/quota/P/zookeeper_limits: the prepared quota entry, else NULL. */
void *quota_limit_prepare(struct tree *t, const char *parent, size_t parent_len, const char *name,
                          size_t name_len, int *err);
void quota_limit_commit(struct tree *t, void *prepared);
void quota_limit_deleted(struct tree *t, const char *parent, size_t parent_len, const char *name,
                         size_t name_len);
/* setupQuota after a load. 0 or PD_ENOMEM. */
int quota_setup(struct tree *t);
void quota_close(struct chash *h);

/*
 * digest.c: DigestCalculator (version 2). A node's digest is CRC-32 over its
 * path ("" for the root), data and 60 stat bytes; it is computed in two steps
 * so a stat-only change reuses the first: digest_pd() over path and data,
 * digest_finish() adding the stat (0 for paths under "/zookeeper/").
 */
uint32_t digest_pd(const char *path, size_t len, const uint8_t *data, int32_t data_len);
uint32_t digest_finish(uint32_t pd, const char *path, size_t len, const struct node_stat *st);
/* The digest of a node at `path` with this data and stat. */
uint32_t digest_of(const char *path, size_t len, const uint8_t *data, int32_t data_len,
                   const struct node_stat *st);
/* digest_pd() and the digest of node n, whose full path is `path` ("" or "/" for the root). */
uint32_t digest_node_pd(const char *path, size_t len, const struct tree_node *n);
uint32_t digest_node(const char *path, size_t len, const struct tree_node *n);
/*
 * Around a change of node `id`'s stat or data (NodeHashMap preChange/postChange):
 * digest_begin() before, digest_end() after, which moves t->digest by the change.
 */
struct digest_mark {
    uint32_t pd;     /* digest_pd() before the change */
    uint32_t before; /* the node's digest before the change */
};
void digest_begin(const struct tree *t, const char *path, size_t len, uint32_t id,
                  struct digest_mark *m);
void digest_end(struct tree *t, const char *path, size_t len, uint32_t id,
                const struct digest_mark *m, bool data_changed);
/*
 * PrepRequestProcessor.precalculateDigest for a record about to be added to
 * the overlay: fills r->pd (unless r->has_pd: the record sets new data),
 * r->digest and r->tree_digest from the path's newest state.
 */
void digest_predict(const struct tree *t, struct ov_rec *r);
/* The digest recomputed from every node. 0 or PD_ENOMEM. */
int digest_compute(const struct tree *t, uint64_t *out);

/* walk.c: node `id` is about to be removed: every walk following the tree moves past it. */
void walk_removed(struct tree *t, uint32_t id);
/* walk.c: the tree is being emptied or freed: its walks stop following it and fail from
 * then on. */
void walk_detach(struct tree *t);

/* serialize.c: frees the ACL index map of an unfinished load. */
void load_map_free(struct tree *t);

/* overlay.c */
void ov_init(struct overlay *ov);
void ov_clear(struct overlay *ov);
void ov_close(struct overlay *ov);
/* Drops the records with zxid <= `zxid` (a txn was applied). */
void ov_applied(struct overlay *ov, int64_t zxid);
struct ov_rec *ov_find(const struct overlay *ov, const char *path, size_t len);
int ov_check(const struct overlay *ov, const char **why);
void ov_acl_put(struct ov_acl *a);
/* A refcounted copy of v; NULL on OOM. */
struct ov_acl *ov_acl_new(const struct jute_acl_vec *v);
/* A zeroed record for `path`, not linked; NULL on OOM. */
struct ov_rec *ov_rec_new(const char *path, size_t len);
void ov_rec_discard(struct ov_rec *r);
/* Room in the map for n more records. 0 or PD_ENOMEM. */
int ov_reserve(struct overlay *ov, size_t n);
/* Appends r (room reserved) as the newest record of its path. */
void ov_add(struct overlay *ov, struct ov_rec *r);
/* rollbackPendingChanges: drops the records newer than `mark`, restoring what they replaced. */
void ov_rollback(struct overlay *ov, struct ov_rec *mark);

/* path.c */
/* The byte index of the last '/' in path, or -1. */
static inline ptrdiff_t path_last_slash(const char *path, size_t len)
{
    for (size_t i = len; i > 0; i--)
        if (path[i - 1] == '/')
            return (ptrdiff_t)(i - 1);
    return -1;
}
/* isSpecialPath: "/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config". */
bool path_is_special(const char *path);

#endif
