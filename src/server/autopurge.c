/*
 * Autopurge: Apache ZooKeeper's DatadirCleanupManager. When
 * autopurge.purgeInterval (hours) is > 0, a timer runs the purge of
 * storage/purge.h keeping autopurge.snapRetainCount snapshots, first right
 * at start-up, then every interval (ZooKeeper: Timer.scheduleAtFixedRate
 * with delay 0); 0 or less schedules nothing.
 *
 * The purge runs on libuv's threadpool (uv_queue_work), not on the loop
 * thread: listing, validity checks, unlinks and directory fsyncs can take a
 * while on a busy disk. The worker reads only what never changes after
 * start-up (the configuration and the file backend) and writes only
 * srv->autopurge's result fields, which the loop reads in the after-work
 * callback. One purge at a time: a tick while one runs is skipped.
 *
 * What it never deletes, by the rule in purge.h: the log file being written
 * (always the newest), and a snapshot being written (a forked child writes
 * it as tmp.snapshot.<zxid>, a name the purge does not touch, and renames it
 * only once complete).
 *
 * The timer is unref'd, so it never keeps the loop alive at shutdown (the
 * final uv_walk closes it); a purge in flight does, until it ends.
 */
#include "server/server.h"

#include "common/err.h"
#include "common/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static uint64_t hours_ms(const struct config *cfg)
{
    return (uint64_t)cfg->autopurge_purge_interval_h * 3600 * 1000;
}

#ifdef PADDOCK_TEST_BUILD
/*
 * Test builds only: PADDOCK_TEST_PURGE_INTERVAL_MS (> 0) replaces the
 * interval, so that a test can watch the timer work; purgeInterval must
 * still be > 0 for the timer to exist.
 */
static uint64_t interval_ms(const struct config *cfg)
{
    const char *e = getenv("PADDOCK_TEST_PURGE_INTERVAL_MS");
    if (e && *e) {
        char *end;
        unsigned long long v = strtoull(e, &end, 10);
        if (*end == '\0' && v > 0) {
            pd_info("autopurge: test build, PADDOCK_TEST_PURGE_INTERVAL_MS: every %llu ms", v);
            return (uint64_t)v;
        }
    }
    return hours_ms(cfg);
}
#else
static uint64_t interval_ms(const struct config *cfg)
{
    return hours_ms(cfg);
}
#endif

static void log_removing(void *arg, const char *path)
{
    (void)arg;
    pd_info("Removing file: %s", path);
}

/* On a threadpool thread. */
static void purge_work(uv_work_t *w)
{
    struct server *srv = w->data;
    struct autopurge *ap = &srv->autopurge;
    char snap_dir[4096], log_dir[4096];
    snprintf(snap_dir, sizeof(snap_dir), "%s/version-2", srv->cfg.data_dir);
    snprintf(log_dir, sizeof(log_dir), "%s/version-2",
             ap->is_one_dir ? srv->cfg.data_dir : srv->cfg.data_log_dir);
    /* Copy: the worker must not share the loop's struct, even one that never changes. */
    struct file_fs fs = srv->fs;
    ap->rc = purge_run(&fs, snap_dir, log_dir, srv->cfg.autopurge_snap_retain_count, log_removing,
                       NULL, &ap->res, ap->errmsg, sizeof(ap->errmsg));
}

/* Back on the loop thread. */
static void purge_done(uv_work_t *w, int status)
{
    struct server *srv = w->data;
    struct autopurge *ap = &srv->autopurge;
    ap->is_running = false;
    if (status != 0) {
        pd_error("Error occurred while purging: %s", uv_strerror(status));
        return;
    }
    ap->n_runs++;
    if (ap->rc != 0) {
        pd_error("Error occurred while purging: %s", ap->errmsg);
        return;
    }
    pd_info("Purge task completed: %d valid snapshot%s kept from zxid 0x%" PRIx64
            ", %d snapshot%s and %d log file%s removed.",
            ap->res.plan.n_valid, ap->res.plan.n_valid == 1 ? "" : "s",
            (uint64_t)(ap->res.plan.retain_zxid < 0 ? 0 : ap->res.plan.retain_zxid),
            ap->res.n_snaps_deleted, ap->res.n_snaps_deleted == 1 ? "" : "s",
            ap->res.n_logs_deleted, ap->res.n_logs_deleted == 1 ? "" : "s");
}

static void on_purge_timer(uv_timer_t *t)
{
    struct server *srv = t->data;
    struct autopurge *ap = &srv->autopurge;
    if (srv->is_stopping)
        return;
    if (ap->is_running) {
        pd_warn("Purge task still running; skipping this interval");
        return;
    }
    pd_info("Purge task started.");
    ap->work.data = srv;
    int rc = uv_queue_work(&srv->loop, &ap->work, purge_work, purge_done);
    if (rc != 0) {
        pd_error("Error occurred while purging: %s", uv_strerror(rc));
        return;
    }
    ap->is_running = true;
}

void autopurge_start(struct server *srv)
{
    pd_info("autopurge.snapRetainCount set to %d", srv->cfg.autopurge_snap_retain_count);
    pd_info("autopurge.purgeInterval set to %d", srv->cfg.autopurge_purge_interval_h);
    if (srv->cfg.autopurge_purge_interval_h <= 0) {
        pd_info("Purge task is not scheduled.");
        return;
    }
    struct autopurge *ap = &srv->autopurge;
    /*
     * "/d/" and "/d", or a symlink, are one directory (Java's File drops a
     * trailing slash): the purge must not take them for two and refuse.
     */
    struct stat a, b;
    ap->is_one_dir = strcmp(srv->cfg.data_dir, srv->cfg.data_log_dir) == 0 ||
                     (stat(srv->cfg.data_dir, &a) == 0 && stat(srv->cfg.data_log_dir, &b) == 0 &&
                      a.st_dev == b.st_dev && a.st_ino == b.st_ino);
    uint64_t every_ms = interval_ms(&srv->cfg);
    uv_timer_init(&srv->loop, &ap->timer);
    ap->timer.data = srv;
    uv_timer_start(&ap->timer, on_purge_timer, 0, every_ms);
    uv_unref((uv_handle_t *)&ap->timer);
}
