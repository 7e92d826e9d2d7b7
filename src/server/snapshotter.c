/*
 * Snapshots, fuzzy as ZooKeeper's: named by the last applied zxid when one
 * starts, encoded on the loop a slice per loop turn while requests go on
 * being served and applied, and written by a thread.
 *
 * When: after a random count of applied txns in [snapCount/2 + 1, snapCount]
 * (ZooKeeper randomises so that the servers of an ensemble do not all
 * snapshot at once), on SIGUSR1, and at start when dataDir has none. One at a
 * time: a trigger while one runs is skipped, as ZooKeeper's "Too busy to
 * snap, skipping".
 *
 * At the start the log rolls (a log file never spans two snapshots, so
 * purging can drop whole files, and every txn after the snapshot's zxid is in
 * the files recovery and purge keep with it), and snap_enc_new() encodes the
 * header, the sessions and the ACL cache. Then an idle handle (which also
 * keeps the loop's poll from blocking) encodes nodes each loop turn for at
 * most SLICE_US, between the turns' request batches, and queues the bytes
 * for the writer thread, which appends them to tmp.snapshot.<zxid>; the last
 * slice writes the trailing digest for the zxid applied by then, and the
 * writer fsyncs, renames and fsyncs the directory. Recovery replays the log
 * after the file's zxid over it (storage/snapshot.h, snap_enc_step).
 *
 * Why not fork() or one encoding on the loop (sessions 1 and 2): after a fork
 * every page the server then writes takes a copy-on-write fault, 64-177 us a
 * page on this VM, and the write path touches thousands of pages within
 * milliseconds: 100-300 ms of stalled loop and storage thread per snapshot.
 * Encoding the whole tree at once stalls the loop 41-62 ms per 200k nodes.
 * A slice of SLICE_US stalls it for that long, whatever the tree's size.
 *
 * The queue is bounded (QUEUE_HIGH): past it the loop stops encoding until
 * the writer has taken the queue (it takes all of it at once) and woken it
 * through snap_async. Chunks the writer is done with go back to a pool and
 * are encoded into again, by this snapshot and the next ones, and the writer
 * keeps POOL_SPARE chunks ahead, allocated and touched: fresh memory would
 * cost the loop a page fault per 4 KiB, which on this VM adds up to
 * milliseconds per slice. At most POOL_MAX chunks are made (the queue, what
 * the writer holds, and the spares); the loop allocates one itself only if
 * the pool runs dry.
 */
#include "server/server.h"

#include "common/alloc.h"
#include "common/err.h"
#include "common/log.h"
#include "storage/snapshot.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define SLICE_US    1000              /* loop time per turn spent encoding, at most about */
#define SLICE_BATCH 64                /* nodes between two looks at the clock */
#define CHUNK_BYTES (256u << 10)      /* encoded bytes travel in chunks of this size */
#define QUEUE_HIGH  ((size_t)4 << 20) /* queued chunk room past which the loop stops encoding */
#define POOL_SPARE  4                 /* chunks the writer keeps ready for the loop */
#define POOL_MAX    (2 * QUEUE_HIGH / CHUNK_BYTES + POOL_SPARE + 2) /* chunks it makes, at most */

/* Encoded bytes on their way to the writer: CHUNK_BYTES of room. */
struct snap_chunk {
    struct snap_chunk *next;
    size_t len;
    uint8_t data[CHUNK_BYTES];
};

/* The one snapshot job (allocated at the first snapshot, kept until the server ends). */
struct snap_job {
    struct server *srv; /* borrowed */

    /* loop only */
    struct snap_enc *enc;   /* owned while encoding, else NULL */
    struct snap_chunk *cur; /* owned: the chunk being filled, or NULL */
    size_t pushed;          /* chunk room queued so far (CHUNK_BYTES each) */
    uv_idle_t idle;         /* runs slices while encoding */
    bool is_idle_on;
    bool is_running;          /* writer thread started and not joined */
    int64_t slice_nodes;      /* > 0: nodes per slice instead of the time budget (tests) */
    int64_t zxid;             /* the snapshot's */
    int64_t n_slices;         /* slices of this snapshot */
    int64_t max_slice_us;     /* the longest, wall clock (includes time other work ran) */
    int64_t max_slice_cpu_us; /* the most CPU time the loop thread spent in one */
    int64_t slice_faults;     /* page faults taken in slices */
    int64_t encode_done_ms;   /* when the last slice was encoded */
    char dir[4096];
    uv_thread_t thread;

    /* shared with the writer thread, under mu */
    uv_mutex_t mu;
    uv_cond_t cv_work; /* the writer waits for chunks, the end, or an abort */
    uv_cond_t cv_room; /* the loop waits for room (only while finishing at shutdown) */
    struct snap_chunk *head, *tail;
    size_t queued;           /* CHUNK_BYTES per chunk in the queue */
    struct snap_chunk *pool; /* chunks to fill again (owned) */
    int n_pool;              /* chunks in the pool */
    int n_made;              /* chunks the writer allocated (the loop's own not counted) */
    bool is_last;            /* every chunk is queued: commit after them */
    bool is_abort;           /* give up: remove the temporary file */
    bool wants_wake;         /* the loop stopped encoding for room: wake it when taking the queue */
    bool is_write_err;       /* the writer failed; the loop stops encoding */

    /* written by the writer before `done` */
    atomic_bool done;
    int rc;
    char errmsg[512];
};

/* The next threshold: snapCount/2 + 1 + a random share of the other half. */
static int64_t next_threshold(struct server *srv)
{
    int64_t half = srv->cfg.snap_count / 2;
    int64_t extra = half > 0 ? (int64_t)(random() % half) : 0;
    return half + 1 + extra;
}

/* ---- the writer thread ------------------------------------------------------------------ */

static void free_chunks(struct snap_chunk *c)
{
    while (c) {
        struct snap_chunk *next = c->next;
        pd_free(c);
        c = next;
    }
}

/* Writer thread: keeps POOL_SPARE chunks ready, their pages touched here rather than on the
 * loop. */
static void top_up_pool(struct snap_job *j)
{
    for (;;) {
        uv_mutex_lock(&j->mu);
        bool is_short = j->n_pool < POOL_SPARE && j->n_made < (int)POOL_MAX;
        uv_mutex_unlock(&j->mu);
        if (!is_short)
            return;
        struct snap_chunk *c = pd_malloc(sizeof(*c));
        if (!c)
            return;
        memset(c, 0, sizeof(*c));
        uv_mutex_lock(&j->mu);
        c->next = j->pool;
        j->pool = c;
        j->n_pool++;
        j->n_made++;
        uv_mutex_unlock(&j->mu);
    }
}

static void writer_main(void *arg)
{
    struct snap_job *j = arg;
    struct server *srv = j->srv;
    struct snap_file *sf = NULL;
    j->errmsg[0] = '\0';
    int rc = snap_file_open(&srv->fs, j->dir, j->zxid, &sf, j->errmsg, sizeof(j->errmsg));
    top_up_pool(j);
    for (;;) {
        uv_mutex_lock(&j->mu);
        if (rc != 0 && !j->is_write_err)
            j->is_write_err = true;
        while (!j->head && !j->is_last && !j->is_abort)
            uv_cond_wait(&j->cv_work, &j->mu);
        struct snap_chunk *list = j->head;
        j->head = j->tail = NULL;
        j->queued = 0;
        bool is_end = j->is_last || j->is_abort;
        bool is_abort = j->is_abort;
        bool wake = j->wants_wake;
        j->wants_wake = false;
        uv_cond_signal(&j->cv_room);
        uv_mutex_unlock(&j->mu);
        if (wake)
            uv_async_send(&srv->snap_async);
        for (struct snap_chunk *c = list; c && rc == 0 && !is_abort; c = c->next) {
            rc = snap_file_append(sf, c->data, c->len);
            if (rc != 0)
                snprintf(j->errmsg, sizeof(j->errmsg),
                         "%.400s/" SNAP_TMP_PREFIX "%" PRIx64 ": write: %s", j->dir,
                         (uint64_t)j->zxid, pd_strerror(rc));
        }
        if (list) {
            struct snap_chunk *last;
            int n = 1;
            for (last = list; last->next; last = last->next)
                n++;
            uv_mutex_lock(&j->mu);
            last->next = j->pool;
            j->pool = list;
            j->n_pool += n;
            uv_mutex_unlock(&j->mu);
        }
        top_up_pool(j);
        if (!is_end)
            continue;
        if (sf) {
            if (rc == 0 && !is_abort)
                rc = snap_file_commit(sf, j->errmsg, sizeof(j->errmsg));
            else
                snap_file_abort(sf);
        }
        if (rc == 0 && is_abort) {
            rc = PD_ECLOSED;
            snprintf(j->errmsg, sizeof(j->errmsg), "abandoned");
        }
        break;
    }
    j->rc = rc;
    atomic_store(&j->done, true);
    uv_async_send(&srv->snap_async);
}

/* ---- encoding on the loop ----------------------------------------------------------------- */

/* Queues the chunk being filled, if it holds anything. */
static void push_cur(struct snap_job *j)
{
    struct snap_chunk *c = j->cur;
    if (!c || c->len == 0)
        return;
    j->cur = NULL;
    c->next = NULL;
    uv_mutex_lock(&j->mu);
    if (j->tail)
        j->tail->next = c;
    else
        j->head = c;
    j->tail = c;
    j->queued += CHUNK_BYTES;
    j->pushed += CHUNK_BYTES;
    uv_cond_signal(&j->cv_work);
    uv_mutex_unlock(&j->mu);
}

/* Appends to the chunk being filled, queueing full ones. 0 or PD_ENOMEM. */
static int chunk_sink(void *ctx, const void *data, size_t len)
{
    struct snap_job *j = ctx;
    const uint8_t *p = data;
    while (len > 0) {
        if (j->cur && j->cur->len == CHUNK_BYTES)
            push_cur(j);
        if (!j->cur) {
            uv_mutex_lock(&j->mu);
            struct snap_chunk *c = j->pool;
            if (c) {
                j->pool = c->next;
                j->n_pool--;
            }
            uv_mutex_unlock(&j->mu);
            if (!c && !(c = pd_malloc(sizeof(*c))))
                return PD_ENOMEM;
            c->next = NULL;
            c->len = 0;
            j->cur = c;
        }
        size_t n = CHUNK_BYTES - j->cur->len;
        if (n > len)
            n = len;
        memcpy(j->cur->data + j->cur->len, p, n);
        j->cur->len += n;
        p += n;
        len -= n;
    }
    return 0;
}

/* Gives back the chunk being filled (a snapshot abandoned). */
static void drop_cur(struct snap_job *j)
{
    if (!j->cur)
        return;
    uv_mutex_lock(&j->mu);
    j->cur->next = j->pool;
    j->pool = j->cur;
    j->n_pool++;
    uv_mutex_unlock(&j->mu);
    j->cur = NULL;
}

/* A snapshot that could not start: lets go of its encoder and chunks. */
static void abandon_start(struct snap_job *j)
{
    snap_enc_free(j->enc);
    j->enc = NULL;
    drop_cur(j);
    free_chunks(j->head);
    j->head = j->tail = NULL;
    j->queued = 0;
}

static void idle_stop(struct snap_job *j)
{
    if (j->is_idle_on) {
        uv_idle_stop(&j->idle);
        j->is_idle_on = false;
    }
}

/* The encoding is over (rc 1: complete; else abandoned): tell the writer, let go of the tree. */
static void end_encoding(struct snap_job *j, int rc)
{
    struct server *srv = j->srv;
    if (rc == 1)
        push_cur(j);
    else
        drop_cur(j);
    int64_t n_nodes = snap_enc_nodes(j->enc);
    snap_enc_free(j->enc);
    j->enc = NULL;
    idle_stop(j);
    j->encode_done_ms = server_mono_ms(srv);
    uv_mutex_lock(&j->mu);
    if (rc == 1)
        j->is_last = true;
    else
        j->is_abort = true;
    uv_cond_signal(&j->cv_work);
    uv_mutex_unlock(&j->mu);
    if (rc == 1)
        pd_info("Snapshot of zxid 0x%" PRIx64 ": %" PRId64 " znodes encoded in %" PRId64
                " slices of at most %" PRId64 " us CPU (%" PRId64 " us wall), %" PRId64
                " page faults; up to zxid 0x%" PRIx64 " applied meanwhile",
                (uint64_t)j->zxid, n_nodes, j->n_slices, j->max_slice_cpu_us, j->max_slice_us,
                j->slice_faults, (uint64_t)srv->last_zxid);
    else if (rc == PD_ECLOSED) /* a SNAP from the leader replaced the tree, or a fatal stop */
        pd_info("Snapshot of zxid 0x%" PRIx64 " abandoned: the tree was replaced or the "
                "server is stopping",
                (uint64_t)j->zxid);
    else if (rc != PD_EIO) /* PD_EIO: the writer failed, and says so when it ends */
        pd_error("Snapshot of zxid 0x%" PRIx64 " abandoned: %s", (uint64_t)j->zxid,
                 pd_strerror(rc));
}

/* CPU time of the calling thread (ns resolution; getrusage's is a clock tick). */
static int64_t thread_cpu_us(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One slice: up to `budget_us` of encoding (or slice_nodes nodes); 1 done, 0 more, < 0 error. */
static int encode_slice(struct snap_job *j, int64_t budget_us)
{
    struct server *srv = j->srv;
    struct rusage ru0, ru1;
    getrusage(RUSAGE_THREAD, &ru0);
    int64_t cpu0 = thread_cpu_us();
    uint64_t t0 = uv_hrtime();
    int rc;
    if (j->slice_nodes > 0 && budget_us > 0) {
        rc = snap_enc_step(j->enc, j->slice_nodes, srv->last_zxid);
    } else {
        /* without a budget (finishing at shutdown): about QUEUE_HIGH / 4 at a time */
        size_t pushed_before = j->pushed;
        do
            rc = snap_enc_step(j->enc, SLICE_BATCH, srv->last_zxid);
        while (rc == 0 && (budget_us > 0 ? (int64_t)(uv_hrtime() - t0) / 1000 < budget_us
                                         : j->pushed - pushed_before < QUEUE_HIGH / 4));
    }
    int64_t us = (int64_t)(uv_hrtime() - t0) / 1000;
    getrusage(RUSAGE_THREAD, &ru1);
    j->n_slices++;
    int64_t cpu_us = thread_cpu_us() - cpu0;
    if (us > j->max_slice_us)
        j->max_slice_us = us;
    if (cpu_us > j->max_slice_cpu_us)
        j->max_slice_cpu_us = cpu_us;
    j->slice_faults += (ru1.ru_minflt - ru0.ru_minflt) + (ru1.ru_majflt - ru0.ru_majflt);
    return rc;
}

static void on_idle(uv_idle_t *h)
{
    struct snap_job *j = h->data;
    if (!j->enc) {
        idle_stop(j);
        return;
    }
    uv_mutex_lock(&j->mu);
    bool is_full = j->queued >= QUEUE_HIGH;
    bool is_write_err = j->is_write_err;
    if (is_full)
        j->wants_wake = true;
    uv_mutex_unlock(&j->mu);
    if (is_write_err) {
        end_encoding(j, PD_EIO); /* the writer says why when it ends */
        return;
    }
    if (is_full) {
        idle_stop(j); /* the writer wakes us through snap_async */
        return;
    }
    int rc = encode_slice(j, SLICE_US);
    if (rc != 0)
        end_encoding(j, rc);
}

int64_t snapshotter_test_slice_nodes(void)
{
#ifdef PADDOCK_TEST_BUILD
    /* Test builds: PADDOCK_TEST_SNAP_SLICE_NODES (> 0) encodes that many nodes per loop turn
     * instead of a time budget, so that a test can make a small tree's snapshot span many
     * turns and many writes. */
    const char *e = getenv("PADDOCK_TEST_SNAP_SLICE_NODES");
    if (e && *e) {
        char *end;
        long long v = strtoll(e, &end, 10);
        if (*end == '\0' && v > 0) {
            pd_info("snapshots and SNAP databases: test build, PADDOCK_TEST_SNAP_SLICE_NODES: "
                    "%lld nodes a turn", v);
            return v;
        }
    }
#endif
    return 0;
}

static struct snap_job *job_get(struct server *srv)
{
    if (srv->snap_job)
        return srv->snap_job;
    struct snap_job *j = pd_calloc(1, sizeof(*j));
    if (!j)
        return NULL;
    j->srv = srv;
    if (uv_mutex_init(&j->mu) != 0) {
        pd_free(j);
        return NULL;
    }
    if (uv_cond_init(&j->cv_work) != 0) {
        uv_mutex_destroy(&j->mu);
        pd_free(j);
        return NULL;
    }
    if (uv_cond_init(&j->cv_room) != 0) {
        uv_cond_destroy(&j->cv_work);
        uv_mutex_destroy(&j->mu);
        pd_free(j);
        return NULL;
    }
    uv_idle_init(&srv->loop, &j->idle);
    j->idle.data = j;
    j->slice_nodes = snapshotter_test_slice_nodes();
    srv->snap_job = j;
    return j;
}

int snapshotter_take(struct server *srv, const char *why)
{
    /* As SyncRequestProcessor: the count starts over whether or not a snapshot can start,
     * so a busy writer is reported once per snapCount txns, not after every txn. */
    srv->txns_since_snap = 0;
    srv->snap_threshold = next_threshold(srv);
    struct snap_job *j = srv->snap_job;
    if (srv->is_stopping)
        return -1;
    if (j && (j->enc || j->is_running)) {
        pd_warn("Too busy to snap, skipping (%s)", why);
        return -1;
    }
    if (!(j = job_get(srv))) {
        pd_error("snapshot: out of memory");
        return -1;
    }
    /* New txns go to a new log file; the snapshot holds at least everything applied so far. */
    storage_roll(srv, srv->next_zxid);
    int64_t zxid = srv->last_zxid;
    struct snap_session *sessions;
    size_t n_sessions;
    int rc = sess_collect(&srv->sessions, &sessions, &n_sessions);
    if (rc == 0) {
        struct snap_params p = {.zxid = zxid, .sessions = sessions, .n_sessions = n_sessions};
        rc = snap_enc_new(srv->tree, &p, chunk_sink, j, &j->enc);
    }
    pd_free(sessions);
    if (rc != 0) {
        pd_error("snapshot of zxid 0x%" PRIx64 ": cannot start: %s", (uint64_t)zxid,
                 pd_strerror(rc));
        abandon_start(j);
        return -1;
    }
    snprintf(j->dir, sizeof(j->dir), "%s/version-2", srv->cfg.data_dir);
    j->zxid = zxid;
    j->is_last = j->is_abort = j->wants_wake = j->is_write_err = false;
    j->n_slices = j->max_slice_us = j->max_slice_cpu_us = j->slice_faults = 0;
    atomic_store(&j->done, false);
    if (uv_thread_create(&j->thread, writer_main, j) != 0) {
        pd_error("snapshot: cannot start a writer thread");
        abandon_start(j);
        return -1;
    }
    j->is_running = true;
    uv_idle_start(&j->idle, on_idle);
    j->is_idle_on = true;
    srv->snap_zxid = zxid;
    srv->snap_started_ms = server_mono_ms(srv);
    pd_info("Creating new snapshot of zxid 0x%" PRIx64 " (%s), %" PRId64 " znodes, encoded in "
            "slices between requests",
            (uint64_t)zxid, why, tree_node_count(srv->tree));
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
    if (!j || !j->is_running || j->enc || (!wait && !atomic_load(&j->done)))
        return;
    uv_thread_join(&j->thread);
    j->is_running = false;
    free_chunks(j->head); /* none unless the writer failed to take them */
    j->head = j->tail = NULL;
    j->queued = 0;
    int64_t now = server_mono_ms(srv);
    if (j->rc == 0) {
        pd_info("Snapshot of zxid 0x%" PRIx64 " written in %" PRId64 " ms (%" PRId64
                " ms after the last slice)",
                (uint64_t)j->zxid, now - srv->snap_started_ms, now - j->encode_done_ms);
        srv->snap_count_taken++;
    } else if (j->rc != PD_ECLOSED) {
        pd_error("Snapshot of zxid 0x%" PRIx64 " failed (writer status %d): %s; the txn log "
                 "still holds everything, so nothing is lost",
                 (uint64_t)j->zxid, j->rc, j->errmsg);
    }
}

void snapshotter_reap(struct server *srv)
{
    struct snap_job *j = srv->snap_job;
    if (!j)
        return;
    reap_thread(srv, false);
    /* The writer made room: encode again. */
    if (j->enc && !j->is_idle_on && !srv->is_stopping) {
        uv_idle_start(&j->idle, on_idle);
        j->is_idle_on = true;
    }
}

void snapshotter_wait(struct server *srv)
{
    struct snap_job *j = srv->snap_job;
    if (!j)
        return;
    /* The tree no longer changes: finish the snapshot in one go, waiting for room. */
    while (j->enc) {
        uv_mutex_lock(&j->mu);
        while (j->queued >= QUEUE_HIGH && !j->is_write_err)
            uv_cond_wait(&j->cv_room, &j->mu);
        bool is_write_err = j->is_write_err;
        uv_mutex_unlock(&j->mu);
        int rc = is_write_err ? PD_EIO : encode_slice(j, 0);
        if (rc != 0)
            end_encoding(j, rc);
    }
    idle_stop(j);
    reap_thread(srv, true);
}

void snapshotter_abandon(struct server *srv)
{
    struct snap_job *j = srv->snap_job;
    if (!j)
        return;
    if (j->enc)
        end_encoding(j, PD_ECLOSED);
    reap_thread(srv, true);
}

void snapshotter_free(struct server *srv)
{
    struct snap_job *j = srv->snap_job;
    if (!j)
        return;
    /* A clean stop finished it already (snapshotter_wait); one still going here means the
     * server stopped itself (server_fatal: the tree may no longer match the log): give up. */
    snapshotter_abandon(srv);
    drop_cur(j);
    free_chunks(j->pool);
    uv_cond_destroy(&j->cv_room);
    uv_cond_destroy(&j->cv_work);
    uv_mutex_destroy(&j->mu);
    pd_free(j);
    srv->snap_job = NULL;
}
