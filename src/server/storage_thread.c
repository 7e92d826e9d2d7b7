/*
 * The storage thread: makes queued txns durable with group commit.
 *
 * The loop thread hands each prepped txn's log payload over with
 * storage_append() (the payload stays owned by its pipeline entry, which is
 * not freed before the txn is durable). The storage thread takes everything
 * handed over since its last fsync, appends it to the txn log, fsyncs once,
 * and publishes the highest zxid now durable; an eventfd wakes the loop,
 * which applies and answers those txns (pipeline_commit). Not a uv_async:
 * in libuv 1.44 (Debian 12) uv_async_send() spins, then sched_yield()s,
 * while the loop is inside the async handler, and on a busy 2-vCPU machine a
 * yield can cost the storage thread a whole scheduler tick (~11% of group
 * commits spun; libuv #2769, fixed in 1.45). A write() to our own eventfd
 * never waits. While one fsync
 * runs, new txns pile up and the next fsync covers them all.
 *
 * A failed write or fsync is final (storage enters a sticky failed state, as
 * SQLite's pager does): nothing after the last good fsync is ever reported
 * durable, the loop stops acknowledging writes and says so once, and a
 * restart recovers from what is on disk.
 *
 * Shared state (under mu): `queue`, `stop`, `roll_at`, `durable`, `err`,
 * `errmsg`. The txn log itself is touched only by the storage thread after
 * storage_start().
 */
#include "server/server.h"

#include "common/alloc.h"
#include "common/err.h"
#include "common/log.h"
#include "jute/quorum.h"
#include "storage/snapshot.h"
#include "storage/txnlog.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct slog_item {
    int64_t zxid;
    const uint8_t *data; /* borrowed from the pipeline entry (or quorum.c's held blob) */
    size_t len;
    int kind;      /* 0 (standalone append) or enum storage_op_kind (quorum mode) */
    uint64_t seq;  /* quorum mode: the Zab core's storage sequence number; 0 standalone */
    int64_t epoch; /* STORAGE_OP_*_EPOCH: the value to write */
};

struct slog_vec {
    struct slog_item *items; /* owned */
    size_t n, cap;
};

struct storage {
    struct server *srv; /* borrowed */
    uv_thread_t thread;
    uv_mutex_t mu;
    uv_cond_t cv;
    int efd;               /* eventfd, storage thread -> loop: durable moved or err set */
    uv_poll_t done;        /* the loop's watch on efd */
    struct slog_vec queue; /* handed over, not yet taken by the thread (under mu) */
    struct slog_vec batch; /* the thread's current batch (thread only) */
    bool stop;             /* under mu */
    bool is_kick_due;      /* loop only: txns queued this turn, the thread not yet told */
    bool is_joined;        /* loop only: storage_stop() ended the thread */
    int64_t roll_at;       /* under mu: start a new log file at this zxid; 0 = none */
    int64_t durable;       /* under mu: every txn up to this zxid is fsynced */
    uint64_t durable_seq;  /* under mu: every quorum-mode op up to this seq is durable */
    int err;               /* under mu: sticky; 0 or the PD_E* that stopped storage */
    char errmsg[512];      /* under mu */
    bool is_err_reported;  /* loop only */
    bool force_sync;       /* forceSync */
    struct txnlog *log;    /* owned; the thread's once started */
};

static int vec_push(struct slog_vec *v, struct slog_item it)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 256;
        struct slog_item *items = pd_realloc(v->items, cap * sizeof(*items));
        if (!items)
            return PD_ENOMEM;
        v->items = items;
        v->cap = cap;
    }
    v->items[v->n++] = it;
    return 0;
}

static void set_err(struct storage *st, int err, const char *msg)
{
    uv_mutex_lock(&st->mu);
    if (!st->err) {
        st->err = err;
        snprintf(st->errmsg, sizeof(st->errmsg), "%s", msg);
    }
    uv_mutex_unlock(&st->mu);
}

static void wake_loop(struct storage *st)
{
    uint64_t one = 1;
    /* Cannot block or fail short of the counter reaching 2^64 - 1; EINTR is retried. */
    while (write(st->efd, &one, sizeof(one)) < 0 && errno == EINTR)
        ;
}

/* Writes data into tmp, fsyncs it, renames it over path and fsyncs dir, so that a crash leaves
 * path whole, old or new (the epoch files; snapshots go through snapshot.c). 0, or -1 with
 * errno set. */
static int write_replace(const char *dir, const char *tmp, const char *path, const void *data,
                         size_t len)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    const uint8_t *p = data;
    for (size_t off = 0; off < len;) {
        ssize_t n = write(fd, p + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            close(fd);
            return -1;
        }
        off += (size_t)n;
    }
    if (fsync(fd) != 0) {
        close(fd);
        return -1;
    }
    close(fd);
    if (rename(tmp, path) != 0)
        return -1;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        int frc = fsync(dfd);
        close(dfd);
        if (frc != 0)
            return -1;
    }
    return 0;
}

/* errno of a failed write_replace() of `name`, as the op's error and message. */
static int write_failed(const char *name, char *errmsg, size_t errlen)
{
    int e = errno;
    snprintf(errmsg, errlen, "writing %s: %s", name, strerror(e));
    return e == ENOSPC ? PD_ENOSPC : PD_EIO;
}

/* Writes dataDir/version-2/<name> = value as QuorumPeer.writeLongToFile does: decimal, no
 * newline, into <name>.tmp, fsynced, renamed over <name>, directory fsynced. */
static int write_epoch_file(const char *dir, const char *name, int64_t value, char *errmsg,
                            size_t errlen)
{
    char path[4200], tmp[4210], text[QUORUM_EPOCH_TEXT_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    size_t n = quorum_epoch_format(value, text);
    if (write_replace(dir, tmp, path, text, n) != 0)
        return write_failed(name, errmsg, errlen);
    return 0;
}

/* STORAGE_OP_SNAP_LOAD, after the log is emptied: snapshots past zxid belong to a history the
 * leader replaced; the new one is written as FileSnap would (temporary name, fsync, rename,
 * directory fsync), so that recovery finds it whole or not at all. */
static int write_snap_file(struct file_fs *fs, const char *dir, int64_t zxid, const uint8_t *data,
                           size_t len, char *errmsg, size_t errlen)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            int64_t z = snap_name_zxid(e->d_name);
            char old[4400];
            snprintf(old, sizeof(old), "%s/%s", dir, e->d_name);
            if (z > zxid && unlink(old) != 0)
                pd_warn("cannot delete %s: %s", old, strerror(errno));
        }
        closedir(d);
    }
    return snap_write_buf(fs, dir, zxid, data, len, errmsg, errlen);
}

/* Storage thread: one quorum-mode op that is not an append (see storage_op_kind). */
static int storage_do_op(struct storage *st, const struct slog_item *it, char *errmsg,
                         size_t errlen)
{
    struct server *srv = st->srv;
    char snap_dir[4096], log_dir[4096];
    snprintf(snap_dir, sizeof(snap_dir), "%s/version-2", srv->cfg.data_dir);
    snprintf(log_dir, sizeof(log_dir), "%s/version-2", srv->cfg.data_log_dir);
    switch (it->kind) {
    case STORAGE_OP_ACCEPTED_EPOCH:
        return write_epoch_file(snap_dir, QUORUM_ACCEPTED_EPOCH_FILE, it->epoch, errmsg, errlen);
    case STORAGE_OP_CURRENT_EPOCH:
        return write_epoch_file(snap_dir, QUORUM_CURRENT_EPOCH_FILE, it->epoch, errmsg, errlen);
    case STORAGE_OP_SNAP_LOAD:
    case STORAGE_OP_TRUNCATE: {
        /* The open log appends to a file that may be cut: close it, cut, open a new one
         * (the next sync starts a new file, as after every open). */
        struct txnlog_options opt;
        txnlog_options_default(&opt);
        opt.prealloc_bytes = (uint64_t)srv->cfg.pre_alloc_size_kb * 1024;
        opt.fsync_warn_ms = srv->cfg.fsync_warning_threshold_ms;
        txnlog_close(st->log);
        st->log = NULL;
        /* SNAP_LOAD: the snapshot replaces the whole log (what it holds at or below zxid may
         * be another history, and later txns follow the snapshot in a new file). The snapshot
         * is durable before the log goes, so a crash between them loses no committed txn. */
        bool is_snap = it->kind == STORAGE_OP_SNAP_LOAD;
        int rc = 0;
        if (is_snap)
            rc = write_snap_file(&srv->fs, snap_dir, it->zxid, it->data, it->len, errmsg, errlen);
        /* Snapshots past zxid hold txns of the history being replaced (taken after a
         * start-up that replayed uncommitted txns): recovery loads the newest snapshot, so
         * they go, durably, before the log is cut. A crash in between leaves the older
         * snapshot and the uncut log: the state before this op, which the leader cuts again. */
        if (rc == 0) {
            int n = snap_drop_newer(&srv->fs, snap_dir, it->zxid, errmsg, errlen);
            if (n > 0)
                pd_info("removed %d snapshot(s) past 0x%" PRIx64 " (a replaced history)", n,
                        (uint64_t)it->zxid);
            rc = n < 0 ? n : 0;
        }
        if (rc == 0)
            rc = txnlog_truncate(&srv->fs, log_dir, is_snap ? 0 : it->zxid, errmsg, errlen);
        int orc = txnlog_open(&srv->fs, log_dir, &opt, &st->log);
        if (orc != 0) {
            snprintf(errmsg, errlen, "reopening the txn log after a truncation: out of memory");
            return orc;
        }
        return rc;
    }
    default:
        snprintf(errmsg, errlen, "unknown storage op %d", it->kind);
        return PD_EINVAL;
    }
}

#ifdef PADDOCK_TEST_BUILD
/* Test builds: while the file PADDOCK_TEST_STORAGE_STALL_FILE names exists, the storage
 * thread holds each batch (up to 60 s), as a disk that stopped answering would, while the
 * loop goes on serving; a test makes a follower's proposals wait for their ACKs that way. */
static void test_stall(void)
{
    const char *f = getenv("PADDOCK_TEST_STORAGE_STALL_FILE");
    for (int i = 0; f && *f && i < 1200 && access(f, F_OK) == 0; i++)
        uv_sleep(50);
}
#endif

static void storage_main(void *arg)
{
    struct storage *st = arg;
    uv_mutex_lock(&st->mu);
    for (;;) {
        while (st->queue.n == 0 && !st->stop)
            uv_cond_wait(&st->cv, &st->mu);
        if (st->queue.n == 0 && st->stop)
            break;
        /* Take the whole queue: this fsync covers all of it. */
        struct slog_vec tmp = st->queue;
        st->queue = st->batch;
        st->queue.n = 0;
        st->batch = tmp;
        int64_t roll_at = st->roll_at;
        bool failed = st->err != 0;
        uv_mutex_unlock(&st->mu);

#ifdef PADDOCK_TEST_BUILD
        test_stall();
#endif
        int rc = 0;
        int64_t last = 0;
        bool unsynced = false;
        uint64_t last_seq = 0;
        char opmsg[512] = "";
        for (size_t i = 0; i < st->batch.n && !failed && rc == 0; i++) {
            const struct slog_item *it = &st->batch.items[i];
            if (it->kind > STORAGE_OP_APPEND) {
                /* A quorum-mode op other than an append: the appends before it are made
                 * durable first, so that ops become durable in sequence order. */
                if (unsynced)
                    rc = txnlog_sync(st->log, st->force_sync, NULL);
                unsynced = false;
                if (rc == 0)
                    rc = storage_do_op(st, it, opmsg, sizeof(opmsg));
                if (rc != 0)
                    break;
                last_seq = it->seq;
                continue;
            }
            if (roll_at && it->zxid >= roll_at) {
                rc = txnlog_roll(st->log);
                roll_at = 0;
                if (rc != 0)
                    break;
            }
            rc = txnlog_append(st->log, it->zxid, it->data, it->len);
            last = it->zxid;
            unsynced = true;
            if (it->seq)
                last_seq = it->seq;
        }
        /* One fsync for the whole batch; txnlog_sync times it and warns when slow. */
        if (!failed && rc == 0 && unsynced)
            rc = txnlog_sync(st->log, st->force_sync, NULL);
        if (rc != 0)
            set_err(st, rc, opmsg[0] ? opmsg : txnlog_errmsg(st->log));
        uv_mutex_lock(&st->mu);
        if (roll_at == 0 && st->roll_at && st->roll_at <= last)
            st->roll_at = 0;
        if (rc == 0 && !st->err && last)
            st->durable = last;
        if (rc == 0 && !st->err && last_seq)
            st->durable_seq = last_seq;
        uv_mutex_unlock(&st->mu);
        wake_loop(st);
        uv_mutex_lock(&st->mu);
    }
    uv_mutex_unlock(&st->mu);
}

/* Loop side: the storage thread made progress (or failed). */
static void collect(struct storage *st)
{
    struct server *srv = st->srv;
    uv_mutex_lock(&st->mu);
    int64_t durable = st->durable;
    uint64_t durable_seq = st->durable_seq;
    int err = st->err;
    char msg[sizeof(st->errmsg)];
    memcpy(msg, st->errmsg, sizeof(msg));
    uv_mutex_unlock(&st->mu);
    /* In quorum mode durable_zxid is the commit watermark, which the Zab core moves; the
     * log's progress goes to the core as a sequence number instead. */
    if (srv->quorum)
        quorum_persisted(srv, durable_seq);
    else if (durable > srv->durable_zxid)
        srv->durable_zxid = durable;
    pipeline_commit(srv);
    if (err && !st->is_err_reported) {
        st->is_err_reported = true;
        pd_error("writing the txn log failed: %s (%s). No further write will be acknowledged; "
                 "reads go on. Fix the disk and restart the server: every acknowledged write "
                 "is on disk.",
                 msg, pd_strerror(err));
        srv->is_storage_failed = true;
        pipeline_fail_pending(srv);
    }
}

static void on_done(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    struct storage *st = h->data;
    uint64_t n;
    /* Reset the counter first: a wake-up after it is seen by the next poll, and collect()
     * reads the state under the lock after it. */
    while (read(st->efd, &n, sizeof(n)) < 0 && errno == EINTR)
        ;
    collect(st);
}

/* storage_start() failed after initialising the poll handle: free all once it is closed. */
static void on_close_failed(uv_handle_t *h)
{
    struct storage *st = h->data;
    close(st->efd);
    uv_cond_destroy(&st->cv);
    uv_mutex_destroy(&st->mu);
    pd_free(st);
}

int storage_start(struct server *srv, struct txnlog *log)
{
    struct storage *st = pd_calloc(1, sizeof(*st));
    if (!st)
        return PD_ENOMEM;
    st->srv = srv;
    st->log = log;
    st->durable = srv->last_zxid;
    st->force_sync = srv->cfg.force_sync;
    if (uv_mutex_init(&st->mu) != 0)
        goto out_free;
    if (uv_cond_init(&st->cv) != 0)
        goto out_mutex;
    st->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (st->efd < 0)
        goto out_cond;
    if (uv_poll_init(&srv->loop, &st->done, st->efd) != 0)
        goto out_efd;
    st->done.data = st;
    if (uv_poll_start(&st->done, UV_READABLE, on_done) != 0 ||
        uv_thread_create(&st->thread, storage_main, st) != 0) {
        /* The handle is closed when the loop runs next; efd stays open until then. */
        uv_close((uv_handle_t *)&st->done, on_close_failed);
        return PD_ENOMEM;
    }
    srv->storage = st;
    return 0;
out_efd:
    close(st->efd);
out_cond:
    uv_cond_destroy(&st->cv);
out_mutex:
    uv_mutex_destroy(&st->mu);
out_free:
    pd_free(st);
    return PD_ENOMEM;
}

void storage_append(struct server *srv, int64_t zxid, const uint8_t *data, size_t len)
{
    struct storage *st = srv->storage;
    if (!st) {
        /* No log (tests of the pipeline alone): durable at once. */
        srv->durable_zxid = zxid;
        return;
    }
    uv_mutex_lock(&st->mu);
    int rc = vec_push(&st->queue, (struct slog_item){.zxid = zxid, .data = data, .len = len});
    uv_mutex_unlock(&st->mu);
    /* The thread is told at the end of this loop turn (storage_kick): an idle thread woken
     * by the first txn of a turn would fsync it alone while the turn reads the others. */
    if (rc == 0)
        st->is_kick_due = true;
    else
        set_err(st, rc, "out of memory queueing a txn for the log");
}

void storage_kick(struct server *srv)
{
    struct storage *st = srv->storage;
    if (!st || !st->is_kick_due)
        return;
    st->is_kick_due = false;
    uv_mutex_lock(&st->mu);
    uv_cond_signal(&st->cv);
    uv_mutex_unlock(&st->mu);
}

void storage_op(struct server *srv, const struct storage_op *op)
{
    struct storage *st = srv->storage;
    if (!st)
        return;
    struct slog_item it = {.zxid = op->zxid,
                           .data = op->data,
                           .len = op->len,
                           .kind = op->kind,
                           .seq = op->seq,
                           .epoch = op->epoch};
    uv_mutex_lock(&st->mu);
    int rc = vec_push(&st->queue, it);
    if (rc == 0)
        uv_cond_signal(&st->cv);
    uv_mutex_unlock(&st->mu);
    if (rc != 0)
        set_err(st, rc, "out of memory queueing a storage op");
}

void storage_roll(struct server *srv, int64_t from_zxid)
{
    struct storage *st = srv->storage;
    if (!st)
        return;
    uv_mutex_lock(&st->mu);
    st->roll_at = from_zxid;
    uv_mutex_unlock(&st->mu);
}

/* Called from the loop, which then keeps running until `done` is closed. */
void storage_stop(struct server *srv)
{
    struct storage *st = srv->storage;
    if (!st || st->is_joined)
        return;
    uv_mutex_lock(&st->mu);
    st->stop = true;
    uv_cond_signal(&st->cv);
    uv_mutex_unlock(&st->mu);
    uv_thread_join(&st->thread);
    st->is_joined = true;
    /* Whatever the last fsync made durable is applied and answered before the end. */
    collect(st);
    uv_close((uv_handle_t *)&st->done, NULL);
}

void storage_free(struct server *srv)
{
    struct storage *st = srv->storage;
    if (!st)
        return;
    if (st->log)
        txnlog_close(st->log);
    close(st->efd);
    pd_free(st->queue.items);
    pd_free(st->batch.items);
    uv_cond_destroy(&st->cv);
    uv_mutex_destroy(&st->mu);
    pd_free(st);
    srv->storage = NULL;
}
