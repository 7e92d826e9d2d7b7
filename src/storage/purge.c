/*
 * Purge of old snapshots and txn logs (purge.h): the decision over two
 * directory listings, and the driver that lists, checks and unlinks through
 * file.h. Behaviour from Apache ZooKeeper 3.8's PurgeTxnLog.java,
 * FileSnap.findNValidSnapshots, FileTxnLog.getLogFiles, SnapStream
 * .isValidCheckedStream and FileTxnSnapLog.checkLogDir/checkSnapDir.
 *
 * Invariant kept by purge_decide(): the newest log file and every snapshot
 * at or above the retained zxid are never marked.
 */
#include "storage/purge.h"

#include "common/alloc.h"
#include "common/err.h"
#include "storage/storage_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SNAP_NAME_PREFIX "snapshot."
#define LOG_NAME_PREFIX  "log."

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

enum purge_kind purge_classify(const char *name, int64_t *zxid)
{
    int64_t z = -1;
    enum purge_kind k = PURGE_OTHER;
    if (storage_parse_name(name, SNAP_NAME_PREFIX, &z))
        k = PURGE_SNAPSHOT;
    else if (storage_parse_name(name, LOG_NAME_PREFIX, &z))
        k = PURGE_LOG;
    else
        z = -1;
    if (zxid)
        *zxid = z;
    return k;
}

/* PurgeTxnLog's lower bound on the number of snapshots kept. */
static bool count_ok(int retain_count, char *errmsg, size_t errlen)
{
    if (retain_count >= PURGE_MIN_RETAIN)
        return true;
    storage_errf(errmsg, errlen, "count should be greater than or equal to %d (got %d)",
                 PURGE_MIN_RETAIN, retain_count);
    return false;
}

static int cmp_zxid_desc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

int purge_decide(struct purge_entry *snaps, size_t n_snaps, struct purge_entry *logs, size_t n_logs,
                 bool is_same_dir, int retain_count, struct purge_plan *plan, char *errmsg,
                 size_t errlen)
{
    *plan = (struct purge_plan){.retain_zxid = -1, .retain_log_zxid = -1};
    for (size_t i = 0; i < n_snaps; i++)
        snaps[i].is_purged = false;
    for (size_t i = 0; i < n_logs; i++)
        logs[i].is_purged = false;
    if (!count_ok(retain_count, errmsg, errlen))
        return PD_EINVAL;
    /*
     * FileTxnSnapLog refuses two distinct directories holding each other's
     * files, by prefix alone (Util.isSnapshotFileName / isLogFileName).
     */
    if (!is_same_dir) {
        for (size_t i = 0; i < n_logs; i++) {
            if (has_prefix(logs[i].name, SNAP_NAME_PREFIX)) {
                storage_errf(
                    errmsg, errlen,
                    "Log directory has snapshot files (%s). Check if dataLogDir and dataDir "
                    "configuration is correct.",
                    logs[i].name);
                return PD_ECONFIG;
            }
        }
        for (size_t i = 0; i < n_snaps; i++) {
            if (has_prefix(snaps[i].name, LOG_NAME_PREFIX)) {
                storage_errf(
                    errmsg, errlen,
                    "Snapshot directory has log files (%s). Check if dataLogDir and dataDir "
                    "configuration is correct.",
                    snaps[i].name);
                return PD_ECONFIG;
            }
        }
    }

    /* S: the retain_count-th newest valid snapshot, or the oldest valid one. */
    int64_t *valid = pd_malloc((n_snaps ? n_snaps : 1) * sizeof(*valid));
    if (!valid) {
        storage_errf(errmsg, errlen, "out of memory");
        return PD_ENOMEM;
    }
    size_t n_valid = 0;
    for (size_t i = 0; i < n_snaps; i++) {
        int64_t z;
        if (purge_classify(snaps[i].name, &z) == PURGE_SNAPSHOT && snaps[i].is_valid)
            valid[n_valid++] = z;
    }
    qsort(valid, n_valid, sizeof(*valid), cmp_zxid_desc);
    if (n_valid > (size_t)retain_count)
        n_valid = (size_t)retain_count;
    plan->n_valid = (int)n_valid;
    if (n_valid == 0) {
        pd_free(valid);
        return 0; /* ZooKeeper: no valid snapshot, nothing to purge */
    }
    int64_t least = valid[n_valid - 1];
    pd_free(valid);
    plan->retain_zxid = least;

    /*
     * L: the newest log file starting at or before S holds the txns right
     * after S (FileTxnLog.getLogFiles). Without one, every log is kept.
     */
    int64_t newest_log = -1;
    for (size_t i = 0; i < n_logs; i++) {
        int64_t z;
        if (purge_classify(logs[i].name, &z) != PURGE_LOG)
            continue;
        if (z <= least && z > plan->retain_log_zxid)
            plan->retain_log_zxid = z;
        if (z > newest_log)
            newest_log = z;
    }

    for (size_t i = 0; i < n_snaps; i++) {
        int64_t z;
        if (purge_classify(snaps[i].name, &z) == PURGE_SNAPSHOT && z < least) {
            snaps[i].is_purged = true;
            plan->n_snaps_purged++;
        }
    }
    for (size_t i = 0; i < n_logs; i++) {
        int64_t z;
        if (purge_classify(logs[i].name, &z) == PURGE_LOG && z < plan->retain_log_zxid) {
            assert(z < newest_log);
            logs[i].is_purged = true;
            plan->n_logs_purged++;
        }
    }
    return 0;
}

int purge_snap_is_valid(struct file_fs *fs, const char *path, bool *is_valid)
{
    *is_valid = false;
    struct file *f;
    int rc = fs->open(fs, path, FILE_RDONLY, &f);
    if (rc == PD_ENOMEM)
        return rc;
    if (rc != 0)
        return 0; /* gone or unreadable: not valid, as ZooKeeper */
    uint64_t size;
    rc = fs->size(fs, f, &size);
    if (rc == 0 && size >= PURGE_SNAP_MIN_BYTES) {
        uint8_t tail[5];
        size_t n = 0;
        rc = fs->pread(fs, f, tail, sizeof(tail), size - sizeof(tail), &n);
        static const uint8_t seal[5] = {0, 0, 0, 1, '/'};
        *is_valid = rc == 0 && n == sizeof(tail) && memcmp(tail, seal, sizeof(seal)) == 0;
    }
    fs->close(fs, f);
    return rc == PD_ENOMEM ? rc : 0;
}

/* ---- the driver ---------------------------------------------------------------------- */

struct listing {
    struct purge_entry *v; /* owned; each name owned */
    size_t n, cap;
};

static int add_name(const char *name, void *arg)
{
    struct listing *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 32;
        struct purge_entry *v = pd_realloc(l->v, cap * sizeof(*v));
        if (!v)
            return PD_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    char *copy = pd_strdup(name);
    if (!copy)
        return PD_ENOMEM;
    l->v[l->n++] = (struct purge_entry){.name = copy};
    return 0;
}

static void listing_free(struct listing *l)
{
    for (size_t i = 0; i < l->n; i++)
        pd_free((char *)l->v[i].name);
    pd_free(l->v);
    *l = (struct listing){0};
}

/* Oldest first: by zxid, names that are neither snapshots nor logs (-1) ahead. */
static int cmp_entry_zxid(const void *a, const void *b)
{
    int64_t x, y;
    purge_classify(((const struct purge_entry *)a)->name, &x);
    purge_classify(((const struct purge_entry *)b)->name, &y);
    return x < y ? -1 : x > y ? 1 : 0;
}

static int list(struct file_fs *fs, const char *dir, struct listing *l, char *errmsg, size_t errlen)
{
    int rc = fs->list_dir(fs, dir, add_name, l);
    if (rc == PD_ENOENT && l->n == 0)
        return 0; /* no directory: nothing to purge in it */
    if (rc != 0) {
        storage_errf(errmsg, errlen, "cannot list %s: %s", dir, pd_strerror(rc));
        return rc;
    }
    if (l->n > 1)
        qsort(l->v, l->n, sizeof(*l->v), cmp_entry_zxid);
    return 0;
}

static int join(char *buf, size_t len, const char *dir, const char *name)
{
    if ((size_t)snprintf(buf, len, "%s/%s", dir, name) >= len)
        return PD_ETOOBIG;
    return 0;
}

/*
 * Deletes the marked entries of kind `kind` in l (sorted oldest first), then
 * fsyncs dir if any went. The first failure other than "already gone" stops
 * the deletions; what went before it is still fsynced.
 */
static int delete_marked(struct file_fs *fs, const char *dir, const struct listing *l,
                         enum purge_kind kind, purge_removing_fn removing, void *arg,
                         int *n_deleted, char *errmsg, size_t errlen)
{
    int rc = 0;
    bool any = false;
    for (size_t i = 0; i < l->n; i++) {
        if (!l->v[i].is_purged || purge_classify(l->v[i].name, NULL) != kind)
            continue;
        char path[4096];
        rc = join(path, sizeof(path), dir, l->v[i].name);
        if (rc != 0) {
            storage_errf(errmsg, errlen, "path too long: %s/%s", dir, l->v[i].name);
            break;
        }
        if (removing)
            removing(arg, path);
        rc = fs->unlink(fs, path);
        if (rc == PD_ENOENT)
            rc = 0; /* someone else purged it meanwhile */
        if (rc != 0) {
            storage_errf(errmsg, errlen, "cannot remove %s: %s", path, pd_strerror(rc));
            break;
        }
        any = true;
        (*n_deleted)++;
    }
    if (any) {
        int src = fs->sync_dir(fs, dir);
        if (src != 0 && rc == 0) {
            storage_errf(errmsg, errlen, "cannot fsync directory %s: %s", dir, pd_strerror(src));
            rc = src;
        }
    }
    return rc;
}

int purge_run(struct file_fs *fs, const char *snap_dir, const char *log_dir, int retain_count,
              purge_removing_fn removing, void *arg, struct purge_result *res, char *errmsg,
              size_t errlen)
{
    *res = (struct purge_result){.plan = {.retain_zxid = -1, .retain_log_zxid = -1}};
    if (errmsg && errlen)
        errmsg[0] = '\0';
    if (!count_ok(retain_count, errmsg, errlen))
        return PD_EINVAL;
    bool is_same = strcmp(snap_dir, log_dir) == 0;
    struct listing snaps = {0}, logs_own = {0};
    struct listing *logs = is_same ? &snaps : &logs_own;
    int rc = list(fs, snap_dir, &snaps, errmsg, errlen);
    if (rc == 0 && !is_same)
        rc = list(fs, log_dir, &logs_own, errmsg, errlen);
    if (rc != 0)
        goto out;

    for (size_t i = 0; i < snaps.n; i++) {
        if (purge_classify(snaps.v[i].name, NULL) != PURGE_SNAPSHOT)
            continue;
        char path[4096];
        if (join(path, sizeof(path), snap_dir, snaps.v[i].name) != 0)
            continue; /* cannot be opened: not valid */
        rc = purge_snap_is_valid(fs, path, &snaps.v[i].is_valid);
        if (rc != 0) {
            storage_errf(errmsg, errlen, "out of memory checking %s", path);
            goto out;
        }
    }

    rc = purge_decide(snaps.v, snaps.n, logs->v, logs->n, is_same, retain_count, &res->plan, errmsg,
                      errlen);
    if (rc != 0)
        goto out;
    /* Snapshots first, made durable, so that no remaining snapshot ever lacks its logs. */
    rc = delete_marked(fs, snap_dir, &snaps, PURGE_SNAPSHOT, removing, arg, &res->n_snaps_deleted,
                       errmsg, errlen);
    if (rc == 0)
        rc = delete_marked(fs, log_dir, logs, PURGE_LOG, removing, arg, &res->n_logs_deleted,
                           errmsg, errlen);
out:
    listing_free(&snaps);
    listing_free(&logs_own);
    return rc;
}
