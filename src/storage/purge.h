/*
 * Purging old snapshots and txn logs, as Apache ZooKeeper 3.8's PurgeTxnLog
 * does (PurgeTxnLog.purge/purgeOlderSnapshots, FileSnap.findNValidSnapshots,
 * FileTxnLog.getLogFiles via FileTxnSnapLog.getSnapshotLogs, Util's name
 * parsing, FileTxnSnapLog's directory content checks). Used by the server's
 * autopurge (server/autopurge.c) and by `paddock purge` (purgetool.c).
 *
 * The rule, for a count N >= 3:
 *   1. The snapshots are the names snapshot.<hex zxid>, newest zxid first;
 *      the first N that pass ZooKeeper's cheap validity check (at least 10
 *      bytes, ending with the 5 bytes of a sealing "/": SnapStream's
 *      isValidCheckedStream) are kept. Let S be the zxid of the oldest of
 *      them (fewer than N valid: the oldest valid one; none: nothing is
 *      deleted at all).
 *   2. Every snapshot file named below S is deleted, valid or not; every one
 *      at or above S is kept, valid or not.
 *   3. The log files are the names log.<hex zxid> (the zxid of their first
 *      txn). Let L be the start of the newest log file with a zxid <= S: it
 *      holds the txns right after snapshot S. Every log file from L on is
 *      kept, every older one deleted. If no log file starts at or before S,
 *      every log file is kept.
 * So the newest log file (the one being written) is never deleted, and each
 * kept snapshot keeps every log file recovery needs to replay after it.
 *
 * Where Paddock is more careful than ZooKeeper, on purpose (both only ever
 * keep more than ZooKeeper would):
 *   - only the exact names snapshot.<1-16 hex digits> and log.<1-16 hex
 *     digits> (what recovery reads) are ever deleted or counted; ZooKeeper
 *     also takes "snapshot.<hex>.<anything>" and deletes junk such as
 *     "log.old" or "snapshot.x" (their zxid parses as -1). Temporary files
 *     (tmp.snapshot.<zxid> while a snapshot is written, ZooKeeper's
 *     snapshot.<zxid>.tmp) and compressed snapshots are never touched;
 *   - snapshots are deleted before logs, oldest first, and the snapshot
 *     directory is fsynced before any log goes: a purge cut short (crash,
 *     I/O error) never leaves a snapshot whose logs are gone. The
 *     directories are fsynced after the deletions (ZooKeeper does not sync).
 *
 * As ZooKeeper, a count below 3 is refused, and when the two directories
 * differ the log directory must hold no "snapshot.*" name and the snapshot
 * directory no "log.*" name (a sign of swapped dataDir/dataLogDir): the
 * purge is refused rather than guessed at.
 *
 * The decision (purge_decide) is a pure function of the two listings; the
 * doing (purge_run) lists, checks validity, and unlinks through file.h.
 */
#ifndef PD_STORAGE_PURGE_H
#define PD_STORAGE_PURGE_H

#include "storage/file.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The fewest snapshots a purge may keep (PurgeTxnLog refuses fewer). */
#define PURGE_MIN_RETAIN 3
/* Bytes a snapshot must have to be valid, and the seal it must end with. */
#define PURGE_SNAP_MIN_BYTES 10

/* What a directory entry is to the purge. */
enum purge_kind {
    PURGE_OTHER,    /* anything else: never touched */
    PURGE_SNAPSHOT, /* snapshot.<hex> */
    PURGE_LOG,      /* log.<hex> */
};

/*
 * The kind of a bare file name, and its zxid (*zxid, may be NULL; -1 for
 * PURGE_OTHER): "snapshot." or "log." followed by 1 to 16 hex digits (either
 * case) with a value <= INT64_MAX, and nothing after.
 */
enum purge_kind purge_classify(const char *name, int64_t *zxid);

/* One directory entry as purge_decide() sees it. */
struct purge_entry {
    const char *name; /* in: the bare file name; borrowed */
    bool is_valid;    /* in: for a snapshot name, whether it passed purge_snap_is_valid();
                       * ignored for other names */
    bool is_purged;   /* out: purge_decide() chose to delete it */
};

/* What purge_decide() chose. */
struct purge_plan {
    int64_t retain_zxid;     /* S: the oldest snapshot kept; -1 if no snapshot is valid
                              * (then nothing is deleted) */
    int64_t retain_log_zxid; /* L: the oldest log file kept; -1 if every log file is kept
                              * because none starts at or before S */
    int n_valid;             /* valid snapshots counted, newest first (at most the count) */
    int n_snaps_purged;      /* entries marked in the snapshot listing */
    int n_logs_purged;       /* entries marked in the log listing */
};

/*
 * Decides what to delete: marks is_purged on the entries of `snaps` (the
 * snapshot directory's listing) and `logs` (the log directory's) that the
 * rule above deletes, clearing it on every other entry, and fills *plan.
 * Listings are in any order and may hold any names. When the snapshots and
 * logs share one directory, pass is_same_dir and its listing as both (the
 * same array): snapshot names are judged only in `snaps`, log names only in
 * `logs`. Reads nothing but its arguments.
 *
 * Returns 0; PD_EINVAL if retain_count < PURGE_MIN_RETAIN; PD_ECONFIG if the
 * directories differ and one holds the other's files; PD_ENOMEM. On error
 * nothing is marked and errmsg (errlen bytes, may be NULL) says why.
 */
int purge_decide(struct purge_entry *snaps, size_t n_snaps, struct purge_entry *logs, size_t n_logs,
                 bool is_same_dir, int retain_count, struct purge_plan *plan, char *errmsg,
                 size_t errlen);

/*
 * ZooKeeper's cheap snapshot check (SnapStream.isValidSnapshot for an
 * uncompressed snapshot): at least PURGE_SNAP_MIN_BYTES bytes, the last 5
 * being int 1 and '/'. Sets *is_valid. A file that cannot be opened or read
 * is not valid (ZooKeeper logs it and goes on). Returns 0, or PD_ENOMEM.
 */
int purge_snap_is_valid(struct file_fs *fs, const char *path, bool *is_valid);

/* Called by purge_run() for each file it is about to delete; path is borrowed. */
typedef void (*purge_removing_fn)(void *arg, const char *path);

/* What purge_run() did. */
struct purge_result {
    struct purge_plan plan; /* the decision */
    int n_snaps_deleted;    /* snapshot files unlinked (or found already gone) */
    int n_logs_deleted;     /* log files unlinked (or found already gone) */
};

/*
 * Purges `snap_dir` and `log_dir` (the version-2 directories; equal strings
 * mean one directory; a missing directory is an empty one): lists them,
 * checks each snapshot's validity, purge_decide()s, then deletes the chosen
 * snapshots oldest first, fsyncs snap_dir, deletes the chosen logs oldest
 * first, fsyncs log_dir. `removing` (may be NULL) hears of each file just
 * before its unlink. A file already gone counts as deleted. Blocking; safe
 * on any thread (allocates through pd_malloc, keeps no state).
 *
 * Returns 0 with *res filled; as purge_decide(); PD_EIO / PD_ENOSPC from a
 * listing, an unlink (the first failure stops the purge: what was deleted
 * before it is fsynced) or a directory fsync; PD_ENOMEM. errmsg says what
 * failed, with the path. *res tells what was deleted even on failure.
 */
int purge_run(struct file_fs *fs, const char *snap_dir, const char *log_dir, int retain_count,
              purge_removing_fn removing, void *arg, struct purge_result *res, char *errmsg,
              size_t errlen);

#endif
