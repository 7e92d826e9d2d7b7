/*
 * Snapshots by fork(): the child inherits the tree copy-on-write, exactly as
 * it stands after the last applied txn, writes it with snap_write (temporary
 * name, fsync, rename, directory fsync) and _exits; the loop keeps serving.
 *
 * When: after a random count of applied txns in [snapCount/2 + 1, snapCount]
 * (ZooKeeper randomises so that the servers of an ensemble do not all
 * snapshot at once), and on SIGUSR1. One snapshot at a time: a trigger while
 * a child runs is skipped, as ZooKeeper's "Too busy to snap, skipping".
 *
 * The log is rolled at the same point, so that a log file never spans two
 * snapshots and purging can drop whole files.
 */
#include "server/server.h"

#include "common/alloc.h"
#include "common/log.h"
#include "storage/snapshot.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The next threshold: snapCount/2 + 1 + a random share of the other half. */
static int64_t next_threshold(struct server *srv)
{
    int64_t half = srv->cfg.snap_count / 2;
    int64_t extra = half > 0 ? (int64_t)(random() % half) : 0;
    return half + 1 + extra;
}

struct sess_vec {
    struct snap_session *items;
    size_t n, cap;
    bool is_oom;
};

static void collect_session(struct session *s, void *arg)
{
    struct sess_vec *v = arg;
    if (v->is_oom)
        return;
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        struct snap_session *items = pd_realloc(v->items, cap * sizeof(*items));
        if (!items) {
            v->is_oom = true;
            return;
        }
        v->items = items;
        v->cap = cap;
    }
    v->items[v->n++] = (struct snap_session){.id = s->id, .timeout_ms = s->timeout_ms};
}

/* In the child: write and leave. Never returns. */
static void child_main(struct server *srv)
{
    char dir[4096], errmsg[512] = "";
    snprintf(dir, sizeof(dir), "%s/version-2", srv->cfg.data_dir);
    struct sess_vec v = {0};
    sess_foreach(&srv->sessions, collect_session, &v);
    if (v.is_oom) {
        pd_error("snapshot: out of memory listing sessions");
        _exit(2);
    }
    struct snap_params p = {.zxid = srv->last_zxid, .sessions = v.items, .n_sessions = v.n};
    int rc = snap_write(&srv->fs, dir, srv->tree, &p, errmsg, sizeof(errmsg));
    if (rc != 0) {
        pd_error("snapshot of zxid 0x%" PRIx64 " failed: %s", (uint64_t)srv->last_zxid, errmsg);
        _exit(1);
    }
    _exit(0);
}

int snapshotter_take(struct server *srv, const char *why)
{
    /* As SyncRequestProcessor: the count starts over whether or not a writer can start,
     * so a busy writer is reported once per snapCount txns, not after every txn. */
    srv->txns_since_snap = 0;
    srv->snap_threshold = next_threshold(srv);
    if (srv->snap_pid > 0) {
        pd_warn("Too busy to snap, skipping (%s)", why);
        return -1;
    }
    /* New txns go to a new log file; the snapshot holds everything applied so far. */
    storage_roll(srv, srv->next_zxid);
    int64_t zxid = srv->last_zxid;
    pid_t pid = fork();
    if (pid < 0) {
        pd_error("snapshot: fork failed: %s", strerror(errno));
        return -1;
    }
    if (pid == 0)
        child_main(srv);
    srv->snap_pid = pid;
    srv->snap_zxid = zxid;
    srv->snap_started_ms = server_mono_ms(srv);
    pd_info("Creating new snapshot of zxid 0x%" PRIx64 " (%s), writer pid %d", (uint64_t)zxid, why,
            (int)pid);
    return 0;
}

void snapshotter_applied(struct server *srv)
{
    if (srv->snap_threshold == 0)
        srv->snap_threshold = next_threshold(srv);
    if (++srv->txns_since_snap >= srv->snap_threshold)
        snapshotter_take(srv, "snapCount");
}

void snapshotter_reap(struct server *srv)
{
    if (srv->snap_pid <= 0)
        return;
    int status;
    pid_t r = waitpid(srv->snap_pid, &status, WNOHANG);
    if (r != srv->snap_pid)
        return;
    int64_t ms = server_mono_ms(srv) - srv->snap_started_ms;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        pd_info("Snapshot of zxid 0x%" PRIx64 " written in %" PRId64 " ms",
                (uint64_t)srv->snap_zxid, ms);
        srv->snap_count_taken++;
    } else {
        pd_error("Snapshot of zxid 0x%" PRIx64 " failed (writer status %d); the txn log still "
                 "holds everything, so nothing is lost",
                 (uint64_t)srv->snap_zxid, status);
    }
    srv->snap_pid = 0;
}
