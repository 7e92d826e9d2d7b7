/*
 * Start-up recovery: rebuild the tree and the session table from the data
 * directory, as ZooKeeper's ZKDatabase.loadDataBase does: the newest snapshot
 * that validates, then every logged txn after it, in zxid order.
 *
 *   - A torn or partial last record (a crash mid-write) is the end of the
 *     log: the log is cut there, so the next start sees a clean tail. Such a
 *     record was never fsynced, so it was never acknowledged.
 *   - A bad record with valid records after it is corruption in the middle
 *     of the log: recovery refuses to start rather than drop data.
 *   - Sessions come back with their timeouts, their expiry counted from now
 *     (as ZooKeeper re-tracks them after loading).
 */
#include "server/server.h"

#include "common/alloc.h"
#include "common/err.h"
#include "common/log.h"
#include "storage/snapshot.h"
#include "storage/txn.h"
#include "storage/txnlog.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The session bookkeeping a replayed txn implies. */
static int replay_sessions(struct server *srv, const struct tree_txn *txn, int64_t now)
{
    int64_t id = txn->hdr.client_id;
    if (txn->hdr.type == ZOO_OP_CREATESESSION) {
        int rc = sess_add(&srv->sessions, id, txn->u.create_session.timeout_ms, now, NULL);
        return rc == PD_EEXIST ? 0 : rc;
    }
    if (txn->hdr.type == ZOO_OP_CLOSESESSION) {
        struct session *s = sess_find(&srv->sessions, id);
        if (s)
            sess_remove(&srv->sessions, s);
    }
    return 0;
}

static int snap_session(void *arg, int64_t id, int32_t timeout_ms)
{
    struct server *srv = arg;
    int rc = sess_add(&srv->sessions, id, timeout_ms, server_mono_ms(srv), NULL);
    return rc == PD_EEXIST ? 0 : rc;
}

/*
 * Snapshot + log into srv->tree and srv->sessions (both empty). upto < 0: start-up, the whole
 * log, a torn tail is cut. upto >= 0: an in-place reload after a TRUNC (recovery_reload): the
 * storage thread may be appending past upto meanwhile, so replay stops at the first txn after
 * upto and nothing on disk is changed; a snapshot past upto is refused.
 */
static int load(struct server *srv, const char *snap_dir, const char *log_dir, int64_t upto)
{
    int64_t zxid = 0;
    int64_t now = server_mono_ms(srv);
    char errmsg[512] = "";
    struct snap_info info;
    int rc = snap_find_newest(&srv->fs, snap_dir, srv->tree, snap_session, srv, &info, errmsg,
                              sizeof(errmsg));
    if (rc == 0) {
        srv->has_snapshot = true;
        zxid = info.zxid;
        pd_info("loaded %s/%s: zxid 0x%" PRIx64 ", %" PRId64 " znodes, %" PRId64 " sessions",
                snap_dir, info.name, (uint64_t)zxid, info.n_nodes, info.n_sessions);
        if (info.digest_state == SNAP_DIGEST_MISMATCH)
            pd_warn("%s: the stored tree digest does not match the nodes (ZooKeeper loads on)",
                    info.name);
    } else if (rc != PD_ENOENT) {
        pd_error("cannot load a snapshot from %s: %s; refusing to start", snap_dir, errmsg);
        return rc;
    }
    if (upto >= 0 && zxid > upto) {
        pd_error("%s/%s is newer than the truncation point 0x%" PRIx64, snap_dir, info.name,
                 (uint64_t)upto);
        return PD_ECORRUPT;
    }
    int64_t snap_zxid = zxid;
    /* A snapshot ZooKeeper wrote while it kept applying txns ("fuzzy") may hold changes up to
     * its digest's zxid, past the zxid in its name: until the replay reaches that zxid the
     * tree is not the one the log's digests describe. Like DataTree.compareSnapshotDigests,
     * compare the stored digest there, and the logged ones only after it. */
    int64_t fuzzy_until = rc == 0 && info.digest_state == SNAP_DIGEST_DEFERRED &&
                                  info.digest_version == TREE_DIGEST_VERSION
                              ? info.digest_zxid
                              : 0;

    struct txnlog_iter *it = txnlog_iter_new(&srv->fs, log_dir, zxid + 1);
    if (!it)
        return PD_ENOMEM;
    struct arena a;
    arena_init(&a, 16 * 1024);
    int64_t n = 0;
    int64_t mismatches = 0;
    struct txnlog_record rec;
    while ((rc = txnlog_iter_next(it, &rec)) == 1) {
        if (rec.zxid <= zxid)
            continue;
        if (upto >= 0 && rec.zxid > upto)
            break;
        arena_reset(&a);
        struct tree_txn txn;
        struct tree_result res;
        struct jute_txn_digest logged;
        bool has_digest = false;
        rc = txn_decode(rec.payload, rec.len, &a, &txn, &logged, &has_digest);
        if (rc != 0) {
            pd_error("%s: record at %" PRIu64 " (zxid 0x%" PRIx64 "): %s", rec.file, rec.offset,
                     (uint64_t)rec.zxid, rc == PD_ENOMEM ? "out of memory" : "not a txn");
            rc = rc == PD_ENOMEM ? PD_ENOMEM : PD_ECORRUPT;
            goto out;
        }
        /* NONODE or NODEEXISTS in a result is a replay over a fuzzy snapshot (ZooKeeper
         * ignores them too); only running out of memory stops recovery. */
        rc = tree_apply(srv->tree, &txn, &a, &res);
        if (rc == 0)
            rc = replay_sessions(srv, &txn, now);
        if (rc != 0)
            goto out;
        zxid = rec.zxid;
        server_note_digest(srv, zxid);
        n++;
        if (fuzzy_until && zxid >= fuzzy_until) {
            if (zxid == fuzzy_until && info.digest != tree_digest(srv->tree))
                pd_warn("%s: the tree digest after replaying up to zxid 0x%" PRIx64
                        " (%" PRId64 ") differs from the one the snapshot stored for it (%" PRId64
                        ")",
                        info.name, (uint64_t)zxid, tree_digest(srv->tree), info.digest);
            fuzzy_until = 0;
            continue;
        }
        if (fuzzy_until)
            continue;
        /* The digest the tree had once the txn was applied where it was logged. ZooKeeper
         * (DataTree.compareDigest) only reports a difference and goes on: a fuzzy snapshot
         * from Apache ZooKeeper can make the first txns after it differ harmlessly. */
        if (has_digest && logged.version == TREE_DIGEST_VERSION &&
            logged.tree_digest != tree_digest(srv->tree) && mismatches++ == 0)
            pd_warn("%s: zxid 0x%" PRIx64 ": the tree digest after replay (%" PRId64
                    ") differs from the logged one (%" PRId64 ")",
                    rec.file, (uint64_t)rec.zxid, tree_digest(srv->tree), logged.tree_digest);
    }
    if (mismatches > 1)
        pd_warn("%" PRId64 " replayed txns in all left a tree digest different from the logged one",
                mismatches);
    if (rc < 0) {
        pd_error("the txn log in %s is corrupt: %s; refusing to start rather than drop "
                 "acknowledged data",
                 log_dir, txnlog_iter_errmsg(it));
        goto out;
    }
    if (rc == 1) /* stopped at upto */
        rc = 0;
    const struct txnlog_end *end = txnlog_iter_end(it);
    if (upto >= 0) {
        if (zxid != upto) {
            pd_error("the txn log in %s ends at 0x%" PRIx64
                     ", not at the truncation point 0x%" PRIx64,
                     log_dir, (uint64_t)zxid, (uint64_t)upto);
            rc = PD_ECORRUPT;
            goto out;
        }
    } else if (end->is_torn) {
        pd_warn("%s: torn record at offset %" PRIu64 " (%s): a write cut short by a crash, "
                "never acknowledged; truncating the log after zxid 0x%" PRIx64,
                end->file, end->offset, end->why, (uint64_t)zxid);
        rc = txnlog_truncate(&srv->fs, log_dir, zxid, errmsg, sizeof(errmsg));
        if (rc != 0) {
            pd_error("cannot truncate the torn log tail: %s", errmsg);
            goto out;
        }
    }
    rc = 0;
    srv->last_zxid = zxid;
    if (upto >= 0)
        pd_info("reloaded the tree at zxid 0x%" PRIx64 ": snapshot 0x%" PRIx64 " + %" PRId64
                " logged txns, %" PRId64 " znodes, %zu sessions",
                (uint64_t)zxid, (uint64_t)snap_zxid, n, tree_node_count(srv->tree),
                srv->sessions.count);
    else if (n > 0 || snap_zxid > 0)
        pd_info("recovered zxid 0x%" PRIx64 ": snapshot 0x%" PRIx64 " + %" PRId64
                " logged txns, %" PRId64 " znodes, %zu sessions",
                (uint64_t)zxid, (uint64_t)snap_zxid, n, tree_node_count(srv->tree),
                srv->sessions.count);
out:
    arena_close(&a);
    txnlog_iter_free(it);
    return rc;
}

int recovery_run(struct server *srv, const char *snap_dir, const char *log_dir)
{
    return load(srv, snap_dir, log_dir, -1);
}

int recovery_reload(struct server *srv, int64_t upto)
{
    char snap_dir[4096], log_dir[4096];
    snprintf(snap_dir, sizeof(snap_dir), "%s/version-2", srv->cfg.data_dir);
    snprintf(log_dir, sizeof(log_dir), "%s/version-2", srv->cfg.data_log_dir);
    return load(srv, snap_dir, log_dir, upto < 0 ? 0 : upto);
}
