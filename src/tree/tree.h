/*
 * The data tree: znodes, their stat, data and ACLs; the write path that turns
 * requests into txns (ZooKeeper's PrepRequestProcessor) and applies txns
 * (DataTree.processTxn); and the watch tables (WatchManager).
 *
 * It also keeps DataTree's quota bookkeeping (the zookeeper_stats nodes under
 * /zookeeper/quota; quotas are not enforced, as with enforceQuota=false).
 *
 * This part is pure logic: no I/O, no clock, no globals. Times, zxids and
 * session ids come in as arguments, so every replica and every replay of the
 * log builds the same tree. Everything runs on the caller's thread; nothing
 * here is thread-safe.
 *
 * Behaviour follows Apache ZooKeeper 3.8 (DataTree.java, PrepRequestProcessor.java,
 * ReferenceCountedACLCache.java, PathUtils.java, EphemeralType.java,
 * ContainerManager.java, WatchManager.java), with these deliberate departures,
 * most of them later ZooKeeper fixes, none visible to a serial client:
 *   - watches of different modes on one (watcher, path) coexist, so a
 *     getData watch does not cancel a persistent one (ZOOKEEPER-4466), and
 *     removeWatches also takes the 3.9 types 4 (persistent) and 5 (persistent
 *     recursive) (ZOOKEEPER-4471);
 *   - "ip" ACLs accept IPv6 addresses and prefixes (ZOOKEEPER-4240);
 *   - outstanding changes: a pipelined setACL is seen by later preps (3.8
 *     keeps checking the old ACL until it is applied), a pending closeSession
 *     takes its ephemerals out of their parents' child counts, and the root's
 *     record is one key ("/"), not two ("" and "/");
 *   - requests ZooKeeper accepts but cannot apply (createTTL without a TTL
 *     flag) are refused with BADARGUMENTS, and malformed stats in a
 *     zookeeper_stats node are left alone instead of failing the txn;
 *   - a failed setACL/create on replay does not leak ACL references.
 *
 * Lifetimes: a `struct tree_node *` and everything borrowed from it (data,
 * ACL) stay valid until the next call that changes the tree (tree_apply,
 * tree_free). tree_prep does not change the committed tree.
 */
#ifndef PD_TREE_TREE_H
#define PD_TREE_TREE_H

#include "common/arena.h"
#include "jute/jute.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tree;      /* committed data tree + outstanding-changes overlay + watch tables */
struct tree_node; /* opaque; borrowed from the tree (see "Lifetimes" above) */

/*
 * Called for every watch notification, while tree_apply() or
 * tree_set_watches() runs. `watcher` is the opaque pointer given to
 * tree_watch_add(); `ev` (type, state SyncConnected, path as the client
 * named it) is borrowed for the call. `acl` is the ACL of the znode the
 * event is about (the parent for NodeChildrenChanged), or NULL for the
 * events setWatches fires: ZooKeeper delivers an event only if the
 * watcher's connection has READ on that ACL (NIOServerCnxn.process), which
 * the server checks with tree_acl_check(acl, ZOO_PERM_READ, ...); NULL
 * means deliver. The callback must not call back into the tree.
 */
typedef void (*tree_deliver_fn)(void *watcher, const struct jute_watcher_event *ev,
                                const struct jute_acl_vec *acl, void *ctx);

/*
 * Returns a new tree holding what a fresh ZooKeeper 3.8 holds: "/",
 * "/zookeeper", "/zookeeper/quota" and "/zookeeper/config" (the last with
 * ACL world:anyone READ and aversion -1), all with empty data and zero
 * stats. `deliver` and `ctx` are kept for the tree's life. NULL on OOM.
 * Release with tree_free().
 */
struct tree *tree_new(tree_deliver_fn deliver, void *ctx);
void tree_free(struct tree *t);

/*
 * zookeeper.extendedTypesEnabled: with it, an ephemeralOwner with the top
 * byte 0xff marks a TTL node; without it, such an owner is a session (as
 * EphemeralType.get). Set it once, before any txn is applied or snapshot
 * loaded; default off. (tree_prep_ctx.ttl_enabled governs what prep
 * accepts; the server sets both from the same setting.)
 */
void tree_set_extended_types(struct tree *t, bool enabled);

/* ---- reads on the committed tree ------------------------------------------ */

/*
 * The node at `path`, or NULL if absent. As DataTree.getNode: "" and "/"
 * are the root; any other path must be exact ("/a/" and "//a" are absent).
 * `path` is borrowed.
 */
struct tree_node *tree_find(const struct tree *t, const char *path);
/*
 * The Stat a client sees (DataNode.copyStat): dataLength and numChildren
 * filled in, cversion reported as 2 * stored - numChildren (creates plus
 * deletes), ephemeralOwner shown only for session ephemerals (0 for
 * containers and TTL nodes). Snapshots want tree_node_stat_persisted().
 */
void tree_node_stat(const struct tree_node *n, struct jute_stat *out);
/* The node's data, borrowed; len -1 if the node was created with null data. */
struct jute_buf tree_node_data(const struct tree_node *n);
/* The node's ACL list: items borrowed from the ACL cache until the next write. */
void tree_node_acl(const struct tree *t, const struct tree_node *n, struct jute_acl_vec *out);
/*
 * The names of n's children (creation order; ZooKeeper's order is a
 * HashSet's, unspecified) in an array and strings allocated in `a`.
 * Returns 0 or PD_ENOMEM.
 */
int tree_node_children(const struct tree *t, const struct tree_node *n, struct arena *a,
                       struct jute_str_vec *out);
/*
 * The node's ACL as the snapshot stores it: its index in the ACL cache
 * (ReferenceCountedACLCache: -1 for the initial nodes' null ACL, then 1, 2, ...
 * in the order lists are first interned, never reused).
 */
int64_t tree_node_acl_index(const struct tree *t, const struct tree_node *n);
/* DataTree.getNodeCount(): the root counts twice (ZooKeeper maps "" and "/"). */
int64_t tree_node_count(const struct tree *t);
/* getAllChildrenNumber (104): all descendants of n, n excluded. O(subtree). */
int64_t tree_count_descendants(const struct tree *t, const struct tree_node *n);
/*
 * getEphemerals (103) for `session_id`: every ephemeral path of the session
 * if `prefix` is NULL, blank or "/" once trimmed, else those starting with
 * `prefix` (untrimmed), as FinalRequestProcessor. Paths and array in `a`.
 * Returns 0 or PD_ENOMEM.
 */
int tree_ephemerals(const struct tree *t, int64_t session_id, const char *prefix, struct arena *a,
                    struct jute_str_vec *out);
/* Number of ephemeral nodes of all sessions (mntr zk_ephemerals_count). */
int64_t tree_ephemeral_count(const struct tree *t);
/* Calls fn for every session that owns ephemerals (4lw "dump"), in no set order. */
typedef void (*tree_session_visit_fn)(int64_t session_id, int64_t n_ephemerals, void *arg);
void tree_foreach_session(const struct tree *t, tree_session_visit_fn fn, void *arg);
/*
 * DataTree.cachedApproximateDataSize() for mntr zk_approximate_data_size:
 * the sum over nodes of path length (UTF-16 units, as Java's String.length)
 * plus data length, counting the root under "" and "/".
 */
int64_t tree_approx_data_size(const struct tree *t);

/*
 * The tree digest as ZooKeeper 3.6+ computes it (DataTree.getTreeDigest,
 * DigestCalculator version 2): the sum mod 2^64 of a CRC-32 of each node's
 * path, data and persisted stat, nodes under "/zookeeper/" excluded. Kept up
 * to date by every apply and load; what the txn log's TxnDigest and the
 * snapshot's ZxidDigest carry.
 */
int64_t tree_digest(const struct tree *t);
/* The digest the tree will have once every prepped txn is applied (tree_digest() if none). */
int64_t tree_predicted_digest(const struct tree *t);
/* DigestCalculator's version, as TxnDigest.version and ZxidDigest.digestVersion carry it. */
#define TREE_DIGEST_VERSION 2
/*
 * One node's share of the digest, for a node at `path` (len bytes; "" or "/"
 * for the root) with this data and persisted stat: what tree_digest() sums.
 * 0 for paths under "/zookeeper/". For tools that read a snapshot without
 * building a tree.
 */
uint32_t tree_digest_node(const char *path, size_t len, struct jute_buf data,
                          const struct jute_stat_persisted *st);

/* ---- ACLs and authentication ---------------------------------------------- */

/* Who is asking, for ACL checks. */
struct tree_auth {
    const struct jute_id *ids; /* the session's ids (borrowed): ("ip", "<addr>") from the
                                * connection, ("digest", "user:hash") from addauth, and
                                * ("super", "") after the super digest */
    int n_ids;
    bool is_super; /* authenticated as super: every check passes */
};

/*
 * ZooKeeperServer.checkACL for one ZOO_PERM_* bit (or several: any one
 * granted suffices): an empty list allows all; a "super" id or is_super
 * allows all; then world:anyone, digest (exact id match) and ip (address
 * with optional /bits prefix, IPv4 and IPv6) entries that carry the perm.
 * `acl` NULL allows (events fired by setWatches carry no ACL).
 */
bool tree_acl_check(const struct jute_acl_vec *acl, int perm, const struct tree_auth *who);
/* tree_acl_check() on the node's ACL. */
bool tree_acl_allows(const struct tree *t, const struct tree_node *n, int perm,
                     const struct tree_auth *who);
/*
 * DigestAuthenticationProvider.generateDigest: "user:password" ->
 * "user:base64(sha1(user:password))", NUL-terminated into out (out_len
 * bytes). Returns 0, or PD_ETOOBIG if out is too small.
 */
int tree_digest_id(const char *user_password, char *out, size_t out_len);
/* IPAuthenticationProvider.matches(remote address, ACL id "addr[/bits]"). */
bool tree_ip_matches(const char *addr, const char *acl_expr);

/* ---- the write path: request -> txn (PrepRequestProcessor) ---------------- */

struct tree_prep_ctx {
    int64_t session_id;           /* TxnHeader.clientId; owner of ephemerals */
    int32_t cxid;                 /* TxnHeader.cxid */
    int64_t zxid;                 /* the zxid this txn gets, success or not */
    int64_t now_ms;               /* TxnHeader.time (wall clock, chosen once by the leader) */
    const struct tree_auth *auth; /* borrowed; NULL = no ids */
    bool ttl_enabled;             /* zookeeper.extendedTypesEnabled */
    bool session_is_closing;      /* every op but closeSession/deleteContainer gets SESSIONEXPIRED,
                                   * as SessionTracker.checkSession on a closing session */
    int32_t fail_with;            /* nonzero: an error txn with this code and no request (a
                                   * leader given a body it cannot decode: MARSHALLINGERROR) */
};

/* One op of a multi (14), or of a multiRead (22, not for tree_prep). */
struct tree_multi_op {
    int32_t type; /* ZOO_OP_CREATE, CREATE2, CREATECONTAINER, CREATETTL, DELETE, SETDATA, CHECK;
                   * GETDATA, GETCHILDREN for multiRead */
    union {
        struct jute_create_request create;             /* create*, ttl only for CREATETTL */
        struct jute_path_version_request path_version; /* delete, check */
        struct jute_set_data_request set_data;
        struct jute_path_watch_request path_watch; /* getData, getChildren (multiRead) */
    } req;
};

/*
 * One txn: header + body. Every string, vector and data buffer is a deep
 * copy in the arena given to tree_prep(), so the txn outlives the request.
 */
struct tree_txn {
    struct jute_txn_header hdr; /* type: the op, or ZOO_OP_ERROR for an ErrorTxn */
    union {
        struct jute_create_txn create; /* create (1), create2 (15) */
        struct jute_create_ttl_txn create_ttl;
        struct jute_create_container_txn create_container;
        struct jute_path_request del;           /* delete (2), deleteContainer (20) */
        struct jute_set_data_txn set_data;      /* setData (5) */
        struct jute_set_acl_txn set_acl;        /* setACL (7) */
        struct jute_path_version_request check; /* check (13): version is current + 1 */
        struct jute_create_session_txn create_session;
        struct jute_close_session_txn close_session;
        struct jute_error_txn error;
    } u;
    int32_t n_sub;        /* multi: number of sub-txns */
    struct tree_txn *sub; /* multi: the sub-txns (arena); each sub's hdr.type is its op or
                           * ZOO_OP_ERROR, the rest of its hdr copies the multi's */
    bool has_digest;      /* tree_prep: the txn carries a TxnDigest (all but a failed single
                           * op, which ZooKeeper logs without one); unused in subs */
    int64_t digest;       /* tree_prep: the tree digest once this txn (and every txn prepped
                           * before it) is applied, as PrepRequestProcessor precalculates it
                           * for the TxnDigest {TREE_DIGEST_VERSION, digest} */
};

/*
 * Turns one write request into its txn, checking it against the committed
 * tree plus every txn prepped before and not yet applied (ZooKeeper's
 * outstanding changes), and records its own changes there for the next
 * prep. Checks and error codes follow PrepRequestProcessor in order.
 *
 * `op` and `request`:
 *   ZOO_OP_CREATE, CREATE2, CREATECONTAINER, CREATETTL: struct jute_create_request
 *   ZOO_OP_DELETE, ZOO_OP_CHECK: struct jute_path_version_request
 *   ZOO_OP_SETDATA: struct jute_set_data_request
 *   ZOO_OP_SETACL: struct jute_set_acl_request
 *   ZOO_OP_MULTI: an array of n_ops struct tree_multi_op
 *   ZOO_OP_DELETECONTAINER: struct jute_path_request (issued by the server)
 *   ZOO_OP_CREATESESSION: int32_t timeout in ms
 *   ZOO_OP_CLOSESESSION: NULL; the txn lists the session's ephemerals
 *   ZOO_OP_RECONFIG: ignored; always ErrorTxn(RECONFIGDISABLED)
 * The request is borrowed. `out` is filled with hdr.zxid = ctx->zxid in every
 * case: a rejected request becomes an ErrorTxn (hdr.type ZOO_OP_ERROR,
 * u.error.err = code) because failed writes consume a zxid in ZooKeeper; a
 * rejected multi becomes a MultiTxn whose subs are the txns of the ops before
 * the failure, ErrorTxn(code) for the failing op and
 * ErrorTxn(RUNTIMEINCONSISTENCY) after it, with the overlay rolled back.
 *
 * Returns 0; PD_ENOMEM (the overlay is unchanged, `out` is garbage); or
 * PD_EINVAL for an op that is not a write or a missing request.
 */
int tree_prep(struct tree *t, const struct tree_prep_ctx *ctx, int32_t op, const void *request,
              int32_t n_ops, struct arena *a, struct tree_txn *out);
/* The error the client gets for a prepped txn: 0, the ErrorTxn's code, or a multi's first. */
int32_t tree_txn_err(const struct tree_txn *txn);
/*
 * Forgets every outstanding change (prepped txns that will never be
 * applied, e.g. after losing leadership). Later preps see the committed tree.
 */
void tree_overlay_clear(struct tree *t);
/* Number of outstanding change records (ZooKeeper's outstandingChanges). */
int64_t tree_overlay_count(const struct tree *t);

/* ---- commit: apply a txn (DataTree.processTxn) ----------------------------- */

struct tree_result {
    int32_t err;             /* ZooKeeper code for the client (a multi: the first sub error) */
    int32_t type;            /* the txn's type; multi subs: their op or ZOO_OP_ERROR (-1) */
    char *path;              /* the path the op acted on (create*: the created one), arena;
                              * NULL when the op has none */
    struct jute_stat stat;   /* after the op: create2/createTTL/createContainer, setData,
                              * setACL; zeroed otherwise */
    int32_t n_sub;           /* multi: number of sub results */
    struct tree_result *sub; /* multi: the sub results, arena */
};

/*
 * Applies `txn` (borrowed) to the committed tree, fires watches through the
 * deliver callback in DataTree's order, and drops the outstanding changes
 * with zxid <= txn->hdr.zxid. A failed multi applies nothing: its subs read
 * OK (type -1) before the failing op and RUNTIMEINCONSISTENCY after it, as
 * DataTree does. Errors met while applying (NONODE, NODEEXISTS: only on
 * replay) are reported in `res`, as ZooKeeper does.
 *
 * Returns 0 or PD_ENOMEM. A single op is applied entirely or not at all; a
 * multi or closeSession may be partly applied on PD_ENOMEM (the tree stays
 * consistent, tree_check() passes, but it no longer matches the log: the
 * caller must treat it as fatal for this replica).
 */
int tree_apply(struct tree *t, const struct tree_txn *txn, struct arena *a,
               struct tree_result *res);

/* ---- watches ---------------------------------------------------------------- */

enum tree_watch_kind {
    TREE_WATCH_DATA = 1,   /* getData with watch, exists on an existing node */
    TREE_WATCH_EXIST,      /* exists on a missing node (same table as DATA in ZooKeeper) */
    TREE_WATCH_CHILD,      /* getChildren with watch */
    TREE_WATCH_PERSISTENT, /* addWatch mode 0: data and child events on the path */
    TREE_WATCH_PERSISTENT_RECURSIVE, /* addWatch mode 1: data events on the path and below */
};

/*
 * Registers a watch of `kind` on `path` (borrowed, copied) for `watcher`
 * (opaque, e.g. the server's connection; not dereferenced). Registering again
 * is a no-op; different kinds on one path coexist. Returns 0, PD_ENOMEM
 * (nothing registered), or PD_EINVAL (NULL path, unknown kind).
 */
int tree_watch_add(struct tree *t, const char *path, int kind, void *watcher);
/*
 * removeWatches (18) or, with check_only, checkWatches (17), for `watcher` on
 * `path` (exact, no ancestors). As ZooKeeper 3.8: ZOO_WATCHER_CHILDREN and
 * ZOO_WATCHER_DATA act on the watcher's entry in the child or data table
 * whatever its modes (a persistent watch is in both), ZOO_WATCHER_ANY on both;
 * as 3.9: ZOO_WATCHER_PERSISTENT and PERSISTENT_RECURSIVE act on that mode
 * only. Returns ZOK, ZNOWATCHER if there was no such watch, or
 * ZMARSHALLINGERROR for an unknown type (Java's WatcherType.fromInt throws)
 * or a NULL path.
 */
int32_t tree_watch_remove(struct tree *t, const char *path, int32_t watcher_type, void *watcher,
                          bool check_only);
/* Drops every watch of `watcher` (its connection closed). */
void tree_watch_drop_all(struct tree *t, void *watcher);
/*
 * setWatches (101) / setWatches2 (105) as DataTree.setWatches: a data watch
 * fires NodeDeleted at once if the node is gone, NodeDataChanged if its
 * mzxid > relative_zxid, else is registered; an exist watch fires NodeCreated
 * if the node exists, else is registered; a child watch fires NodeDeleted if
 * gone, NodeChildrenChanged if pzxid > relative_zxid, else is registered;
 * persistent and recursive watches are registered. Returns 0 or PD_ENOMEM
 * (some watches may be registered, events may have fired).
 */
int tree_set_watches(struct tree *t, const struct jute_set_watches *sw, void *watcher);

/* The data-watch table's summary, as the 4lw "wchs" prints it (only that table, as ZooKeeper). */
struct tree_watch_summary {
    int64_t connections; /* watchers known to the data table (a watcher whose one-shot
                          * watches all fired still counts, as in ZooKeeper) */
    int64_t paths;       /* paths with at least one data watch */
    int64_t watches;     /* (watcher, path) pairs in the data table */
};
void tree_watch_summary(const struct tree *t, struct tree_watch_summary *out);
/* mntr zk_watch_count: (watcher, path) pairs in the data table plus the child table. */
int64_t tree_watch_count(const struct tree *t);
/* Visitor for the 4lw "wchc" (by watcher) and "wchp" (by path) dumps of the data table. */
typedef void (*tree_watch_visit_fn)(void *watcher, const char *path, void *arg);
void tree_watch_foreach_by_watcher(const struct tree *t, tree_watch_visit_fn fn, void *arg);
void tree_watch_foreach_by_path(const struct tree *t, tree_watch_visit_fn fn, void *arg);

/* ---- containers and TTL nodes ------------------------------------------------ */

/*
 * ContainerManager.getCandidates: childless containers with cversion > 0
 * (or, if max_never_used_ms > 0, older than that by mtime), and childless
 * TTL nodes whose mtime is more than their TTL before now_ms (TTL nodes only
 * when extended types are on). At most `max` paths into `out` (array and
 * strings in `a`), containers first. The server then issues deleteContainer
 * (op 20) for each through tree_prep/tree_apply. Returns 0 or PD_ENOMEM.
 */
int tree_reap_candidates(const struct tree *t, int64_t now_ms, int64_t max_never_used_ms, int max,
                         struct arena *a, struct jute_str_vec *out);

/* ---- paths ----------------------------------------------------------------- */

/*
 * PathUtils.validatePath(path, isSequential): starts with '/', no empty
 * component, no trailing '/' (allowed for a sequential create, which appends
 * the number), no "." or ".." component, no NUL, no control or otherwise
 * forbidden characters, valid UTF-8 without supplementary characters.
 */
bool tree_path_valid(const char *path, bool is_sequential);

/* ---- snapshots (DataTree.serialize / deserialize) ----------------------------- */

/* The node's StatPersisted as a snapshot stores it (the owner unhidden, cversion raw). */
void tree_node_stat_persisted(const struct tree_node *n, struct jute_stat_persisted *out);

/* Visits the ACL cache: every (index, list), in increasing index order; `acl` is borrowed. */
typedef int (*tree_acl_visit_fn)(int64_t index, const struct jute_acl_vec *acl, void *arg);
/* Returns 0, the first non-zero value fn returned, or PD_ENOMEM. */
int tree_foreach_acl(const struct tree *t, tree_acl_visit_fn fn, void *arg);

/*
 * Visits every node in DataTree.serializeNode order: preorder, the root first
 * with path "" (then "/zookeeper", ...), children in list order. `path` (len
 * bytes, NUL-terminated) and `n` are borrowed for the call; fn must not change
 * the tree. Returns 0, the first non-zero value fn returned, or PD_ENOMEM.
 */
typedef int (*tree_node_visit_fn)(const char *path, size_t len, const struct tree_node *n,
                                  void *arg);
int tree_foreach_node(const struct tree *t, tree_node_visit_fn fn, void *arg);

/*
 * The same walk in steps, with the tree changing in between (a snapshot
 * encoded in slices, tree/walk.c): it follows creates, deletes (also of the
 * node it would visit next and of its parents), setData and reallocations.
 * Nodes with a czxid above max_czxid (created after the walk began) are
 * skipped with everything under them, so every node is visited at most once
 * (also one deleted and created again), parents before children, and every
 * node whose czxid is at most max_czxid and that is still there when the
 * walk reaches its place is visited. A tree may have several walks at once
 * (a snapshot file and the databases a leader sends learners), each costing
 * every delete a look at its frames. tree_walk_new: 0 or PD_ENOMEM.
 */
struct tree_walk;
int tree_walk_new(struct tree *t, int64_t max_czxid, struct tree_walk **out);
/*
 * The next node: 1 with *path ("" for the root; NUL-terminated, len bytes) and
 * *node, both valid until the tree changes or the next call; 2 when it only
 * skipped nodes created after the start (a bounded number per call: call
 * again); 0 at the end; PD_ENOMEM (the walk can be retried); PD_ECLOSED when
 * the tree was emptied (tree_load_begin) or freed since.
 */
int tree_walk_next(struct tree_walk *w, const char **path, size_t *len,
                   const struct tree_node **node);
/* Stops following the tree and frees the walk; NULL is a no-op. Before or after tree_free. */
void tree_walk_free(struct tree_walk *w);

/*
 * Loading a snapshot replaces the tree's nodes and ACL cache (watches are
 * kept, the overlay is cleared):
 *   tree_load_begin(t);
 *   tree_load_acl(t, index, acl)...               the ACL map
 *   tree_load_node(t, path, stat, data, acl)...   "" (the root) first, parents before children
 *   tree_load_end(t);                             ACL entries no node uses are dropped
 * tree_load_end() also rebuilds the quota table and refreshes every
 * zookeeper_stats node (DataTree.setupQuota). Set tree_set_extended_types()
 * first. `path`, `stat`, `data` and `acl` are borrowed (copied). Each returns
 * 0, PD_ENOMEM, or PD_ECORRUPT (a duplicate index or path, a missing parent,
 * an ACL index not in the map, no root); after an error the tree must be
 * loaded again or freed.
 */
int tree_load_begin(struct tree *t);
/*
 * Optional, right after tree_load_begin(): about `expected_nodes` nodes will
 * be loaded (the snapshot's size divided by a typical record size is good
 * enough), so the lookup table is sized once instead of growing. A wrong
 * guess costs memory or growth, never correctness. 0, or PD_ENOMEM (the hint
 * is dropped; the load can go on).
 */
int tree_load_hint(struct tree *t, uint64_t expected_nodes);
int tree_load_acl(struct tree *t, int64_t index, const struct jute_acl_vec *acl);
int tree_load_node(struct tree *t, const char *path, const struct jute_stat_persisted *st,
                   struct jute_buf data, int64_t acl_index);
int tree_load_end(struct tree *t);
/* Nodes of the last load whose ACL index was missing from the file's ACL map (a fuzzy
 * snapshot): they hold an empty list until the log's create/setACL is replayed. */
uint32_t tree_load_unknown_acls(const struct tree *t);

/* ---- debugging ----------------------------------------------------------------- */

/*
 * Checks every structural invariant (hash table, child lists, counts, ACL
 * reference counts, ephemeral/container/TTL lists, overlay and watch tables).
 * Returns 0, or PD_ECORRUPT with *why (if not NULL) set to a static message.
 */
int tree_check(const struct tree *t, const char **why);

#endif
