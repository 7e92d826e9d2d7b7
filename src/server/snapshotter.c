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
 *
 * A tree of at most SNAP_INPROC_MAX_NODES nodes is not forked for: the loop
 * encodes it into a buffer (kept for the next time) and a writer thread
 * writes that to disk; the snapshot is just as exact. Why: after a fork every
 * page the server then writes takes a page fault (a copy while the child
 * lives), and on this project's VMs a fault costs 30-100 us; the write path
 * touches its whole heap within milliseconds, so each fork stalled the loop
 * and the storage thread for 100-300 ms at high write rates (p99 of pipelined
 * writes went from ~30 ms without snapshots to 110-170 ms). Encoding a small
 * tree costs a few ms of loop time instead. Large trees still fork: an
 * in-memory copy would double their memory and encoding them would stall
 * the loop for longer than the faults do.
 */
#include "server/server.h"

#include "common/alloc.h"
#include "common/err.h"
#include "common/log.h"
#include "storage/snapshot.h"

#include <errno.h>
#include <stdatomic.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Trees up to this many nodes are snapshotted without fork() (see above). */
#ifndef SNAP_INPROC_MAX_NODES
#define SNAP_INPROC_MAX_NODES 200000
#endif

/* The in-process writer: at most one runs; `buf` is kept for the next snapshot. */
struct snap_job {
    struct server *srv; /* borrowed */
    uv_thread_t thread;
    bool is_running;  /* loop only: thread started and not joined */
    atomic_bool done; /* set by the thread as its last act */
    struct jute_out buf;
    int64_t zxid;
    int64_t encode_ms; /* how long the loop spent encoding it */
    int rc;
    char dir[4096];
    char errmsg[512];
};

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

static void writer_main(void *arg)
{
    struct snap_job *j = arg;
    j->errmsg[0] = '\0';
    j->rc = snap_write_buf(&j->srv->fs, j->dir, j->zxid, j->buf.data, j->buf.len, j->errmsg,
                           sizeof(j->errmsg));
    atomic_store(&j->done, true);
    uv_async_send(&j->srv->snap_async);
}

/* Encodes the tree on the loop and starts a writer thread. 0, or -1 (nothing started). */
static int take_in_process(struct server *srv)
{
    struct snap_job *j = srv->snap_job;
    if (!j) {
        j = pd_calloc(1, sizeof(*j));
        if (!j) {
            pd_error("snapshot: out of memory");
            return -1;
        }
        j->srv = srv;
        jute_out_init(&j->buf);
        srv->snap_job = j;
    }
    struct sess_vec v = {0};
    sess_foreach(&srv->sessions, collect_session, &v);
    struct snap_params p = {.zxid = srv->last_zxid, .sessions = v.items, .n_sessions = v.n};
    jute_out_reset(&j->buf);
    int64_t t0 = server_mono_ms(srv);
    int rc = v.is_oom ? PD_ENOMEM : snap_encode_buf(srv->tree, &p, &j->buf);
    j->encode_ms = server_mono_ms(srv) - t0;
    pd_free(v.items);
    if (rc != 0) {
        pd_error("snapshot of zxid 0x%" PRIx64 ": encoding failed: %s", (uint64_t)srv->last_zxid,
                 pd_strerror(rc));
        jute_out_close(&j->buf);
        jute_out_init(&j->buf);
        return -1;
    }
    snprintf(j->dir, sizeof(j->dir), "%s/version-2", srv->cfg.data_dir);
    j->zxid = srv->last_zxid;
    atomic_store(&j->done, false);
    if (uv_thread_create(&j->thread, writer_main, j) != 0) {
        pd_error("snapshot: cannot start a writer thread");
        return -1;
    }
    j->is_running = true;
    return 0;
}

int snapshotter_take(struct server *srv, const char *why)
{
    /* As SyncRequestProcessor: the count starts over whether or not a writer can start,
     * so a busy writer is reported once per snapCount txns, not after every txn. */
    srv->txns_since_snap = 0;
    srv->snap_threshold = next_threshold(srv);
    if (srv->snap_pid > 0 || (srv->snap_job && srv->snap_job->is_running)) {
        pd_warn("Too busy to snap, skipping (%s)", why);
        return -1;
    }
    /* New txns go to a new log file; the snapshot holds everything applied so far. */
    storage_roll(srv, srv->next_zxid);
    int64_t zxid = srv->last_zxid;
    if (tree_node_count(srv->tree) <= SNAP_INPROC_MAX_NODES) {
        if (take_in_process(srv) != 0)
            return -1;
        srv->snap_zxid = zxid;
        srv->snap_started_ms = server_mono_ms(srv);
        pd_info("Creating new snapshot of zxid 0x%" PRIx64 " (%s), writer thread; encoded on the "
                "loop in %" PRId64 " ms",
                (uint64_t)zxid, why, srv->snap_job->encode_ms);
        return 0;
    }
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

/* The writer thread ended (or must, with wait): join it and report. */
static void reap_thread(struct server *srv, bool wait)
{
    struct snap_job *j = srv->snap_job;
    if (!j || !j->is_running || (!wait && !atomic_load(&j->done)))
        return;
    uv_thread_join(&j->thread);
    j->is_running = false;
    int64_t ms = server_mono_ms(srv) - srv->snap_started_ms;
    if (j->rc == 0) {
        pd_info("Snapshot of zxid 0x%" PRIx64 " written in %" PRId64 " ms", (uint64_t)j->zxid, ms);
        srv->snap_count_taken++;
    } else {
        pd_error("Snapshot of zxid 0x%" PRIx64 " failed (writer status %d): %s; the txn log "
                 "still holds everything, so nothing is lost",
                 (uint64_t)j->zxid, j->rc, j->errmsg);
    }
    /* A buffer much larger than the tree needs now is not kept. */
    if (j->buf.cap > ((size_t)64 << 20)) {
        jute_out_close(&j->buf);
        jute_out_init(&j->buf);
    }
}

void snapshotter_wait(struct server *srv)
{
    reap_thread(srv, true);
}

void snapshotter_free(struct server *srv)
{
    reap_thread(srv, true);
    if (srv->snap_job) {
        jute_out_close(&srv->snap_job->buf);
        pd_free(srv->snap_job);
        srv->snap_job = NULL;
    }
}

void snapshotter_reap(struct server *srv)
{
    reap_thread(srv, false);
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
