/*
 * The transaction log, in Apache ZooKeeper 3.8's FileTxnLog format, so that
 * either server can read the other's data directory:
 *
 *   dataLogDir/version-2/log.<first zxid in the file, lowercase hex as
 *   Long.toHexString, no padding>
 *
 *   FileHeader{int magic 0x5a4b4c47 "ZKLG", int version 2, long dbid 0}
 *   record*:  long checksum   Adler-32 of the payload bytes (zlib adler32)
 *             int  length     payload length, > 0
 *             byte payload[length]   TxnHeader + txn + TxnDigest (storage/txn.h)
 *             byte 0x42 'B'   end of record
 *   zeros to the end of the file (preallocation)
 *
 * A zero length marks the end of the records in a file. The file is extended
 * with zeros in preAllocSize blocks (default 64 MiB) whenever the write
 * position comes within 4 KiB of its end, as FilePadding does, so a log file
 * is 16 + k * preAllocSize bytes long, as Apache's are.
 *
 * Writer (struct txnlog): used by one thread, the server's storage thread.
 * It never reads the clock (a clock callback times fsyncs if given), never
 * starts threads, and does I/O only in txnlog_sync and txnlog_close.
 *
 *   open --append*--> records buffered in memory
 *        --sync-----> new file if none (log.<first buffered zxid>, created
 *                     O_EXCL, preallocated), one write of every buffered
 *                     record, then with force_sync: fsync of every file
 *                     written since the last sync and of the directory if
 *                     a file was created; the synced zxid advances
 *        --roll-----> the next sync starts a new file
 *   any write, fsync or directory error --> FAILED (sticky): every later
 *        call returns that error, txnlog_errmsg() says what and where, and
 *        the synced zxid never moves again. After a failed fsync nothing
 *        is known about what reached the disk (SQLite's pager ERROR state);
 *        only a restart and recovery from the files is safe.
 *
 * Reader (struct txnlog_iter): FileTxnIterator semantics. Reading from zxid
 * z starts in the log file that contains z (the highest log.<n> with n <= z;
 * the first file if there is none) and goes through every later file,
 * yielding each record with zxid >= z. Where the records of a file end:
 *   - a zero length, or the end of the file: the clean end of that file;
 *   - a partial record (the file ends inside it), an end-of-record byte that
 *     is not 'B', a checksum mismatch, an impossible length, a payload too
 *     short for a TxnHeader: in the LAST file, when no valid record with a
 *     higher zxid follows it anywhere in the file, a torn tail: the end of
 *     the log, reported (txnlog_iter_end) so recovery can truncate there;
 *     when a valid record follows, PD_ECORRUPT (refuse to start rather than
 *     drop acknowledged data);
 *   - the same in an earlier file: PD_ECORRUPT for a checksum mismatch or an
 *     impossible length, or when a valid record follows; a partial record or
 *     a bad end-of-record byte with nothing valid after it ends that file
 *     and reading goes on with the next one, as FileTxnIterator does (an
 *     Apache server that crashed leaves such tails behind in old files).
 *   - a last file shorter than its 16-byte header, or that holds no record
 *     at all, or whose header is bad (zeros, garbage) with no valid record
 *     anywhere in the file, is torn (a crash cut the writer's first batch
 *     to it); any other bad header is PD_ECORRUPT.
 *
 * txnlog_truncate() removes every record after a zxid: for torn-tail repair
 * before the first append after a restart, and for Zab TRUNC.
 *
 * Source of the facts: FileTxnLog.java, FilePadding.java, Util.java
 * (makeLogName, readTxnBytes, writeTxnBytes) of Apache ZooKeeper 3.8.
 */
#ifndef PD_STORAGE_TXNLOG_H
#define PD_STORAGE_TXNLOG_H

#include "storage/file.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TXNLOG_MAGIC                 0x5a4b4c47 /* "ZKLG" */
#define TXNLOG_VERSION               2
#define TXNLOG_FILE_HEADER_BYTES     16
#define TXNLOG_RECORD_OVERHEAD       13   /* checksum 8 + length 4 + end-of-record 1 */
#define TXNLOG_EOR                   0x42 /* 'B' */
#define TXNLOG_PREALLOC_DEFAULT      (64 * 1024 * 1024) /* preAllocSize 65536 KiB */
#define TXNLOG_FSYNC_WARN_MS_DEFAULT 1000               /* fsync.warningthresholdms */
/* BinaryInputArchive's limit on a buffer: jute.maxbuffer plus its default extra size. */
#define TXNLOG_MAX_RECORD_DEFAULT (2 * 1048575)
/* Longest file name this module makes or accepts: "log." + 16 hex digits. */
#define TXNLOG_NAME_MAX 21

/* A monotonic clock in milliseconds, read around fsyncs only. */
typedef int64_t (*txnlog_clock_fn)(void *arg);

struct txnlog_options {
    uint64_t prealloc_bytes; /* preAllocSize in bytes; 0 turns preallocation off */
    int64_t fsync_warn_ms;   /* fsync.warningthresholdms: warn when a sync's fsyncs take longer */
    txnlog_clock_fn clock;   /* NULL: fsyncs are not timed and never warned about */
    void *clock_arg;         /* passed to clock; borrowed */
};

/* Defaults: 64 MiB preallocation, 1000 ms warning threshold, no clock. */
void txnlog_options_default(struct txnlog_options *opt);

/* "log.<hex zxid>" into buf (at least TXNLOG_NAME_MAX + 1 bytes). */
void txnlog_file_name(int64_t zxid, char *buf);
/* True if `name` is "log.<1-16 hex digits>" with a value <= INT64_MAX; sets *zxid. */
bool txnlog_parse_name(const char *name, int64_t *zxid);

/* ---- writer --------------------------------------------------------------------------- */

struct txnlog;

/* What one txnlog_sync() did. */
struct txnlog_sync_result {
    int64_t synced_zxid; /* every record appended with zxid <= this is written, and
                          * durable if force_sync (-1: none yet) */
    uint64_t bytes;      /* bytes written by this call (header included) */
    int64_t fsync_ms;    /* time spent in fsyncs (files and directory), -1 if none or untimed */
    bool is_slow;        /* fsync_ms > fsync_warn_ms; a warning was logged */
};

/*
 * Opens the log in `dir` (dataLogDir/version-2, which must exist) for
 * appending. No file is touched until the first txnlog_sync(), which starts
 * a new file: existing files are never appended to. `fs` and `opt` are
 * borrowed (fs must outlive the log; opt is copied; NULL = defaults), `dir`
 * is copied. Returns 0 with *out set (release with txnlog_close()), or
 * PD_ENOMEM.
 */
int txnlog_open(struct file_fs *fs, const char *dir, const struct txnlog_options *opt,
                struct txnlog **out);
/*
 * Closes the files and frees l. Records appended since the last
 * txnlog_sync() are dropped: sync first for a clean shutdown.
 */
void txnlog_close(struct txnlog *l);

/*
 * Appends one record to the in-memory batch: `payload` (len bytes: TxnHeader
 * + txn + digest, borrowed, copied) for `zxid`, which must be the zxid in the
 * payload's TxnHeader and greater than every zxid appended before. Nothing
 * reaches the disk before txnlog_sync(). Returns 0; PD_EINVAL (shorter than a
 * TxnHeader or over INT32_MAX, zxid not increasing or not the payload's; the
 * log is unchanged); PD_ENOMEM (unchanged); or the sticky error.
 */
int txnlog_append(struct txnlog *l, int64_t zxid, const void *payload, size_t len);

/*
 * Writes every appended record and, with force_sync (zoo.cfg forceSync=yes),
 * fsyncs each file written since the last sync, and the directory if a file
 * was created: group commit, one fsync for the whole batch. Then every
 * record appended so far may be acknowledged. Without force_sync the records
 * are written but not fsynced (ZooKeeper's forceSync=no). With a clock in
 * the options, the fsyncs are timed, and a warning is logged when they take
 * longer than fsync_warn_ms. `res` may be NULL. Returns 0, or the (sticky)
 * error with txnlog_errmsg() set: PD_ENOSPC, PD_EIO, PD_EEXIST (the new
 * file's name is taken), PD_ENOMEM.
 */
int txnlog_sync(struct txnlog *l, bool force_sync, struct txnlog_sync_result *res);

/*
 * Ends the current file: the next txnlog_sync() writes into a new file named
 * by the first record it writes (ZooKeeper rolls after snapCount txns). The
 * current file is fsynced by that sync and then closed. Does no I/O.
 * Returns 0, PD_ENOMEM (nothing changed), or the sticky error.
 */
int txnlog_roll(struct txnlog *l);

/* 0, or the error that put the log in its failed state. */
int txnlog_error(const struct txnlog *l);
/* What failed and where ("log.1a: fsync: input/output error"); "" if nothing did. */
const char *txnlog_errmsg(const struct txnlog *l);
/* Highest zxid appended (-1 if none). */
int64_t txnlog_last_zxid(const struct txnlog *l);
/* Highest zxid covered by a successful txnlog_sync() (-1 if none). */
int64_t txnlog_synced_zxid(const struct txnlog *l);
/* Bytes written to the current file so far, header included (0 if none): for size-based rolls. */
uint64_t txnlog_file_bytes(const struct txnlog *l);

/* ---- reader --------------------------------------------------------------------------- */

/* One record; pointers borrowed from the iterator until its next call. */
struct txnlog_record {
    int64_t zxid;           /* from the payload's TxnHeader */
    const uint8_t *payload; /* TxnHeader + txn + digest (decode with txn_decode()) */
    size_t len;             /* payload bytes */
    uint32_t checksum;      /* the stored Adler-32 (verified) */
    const char *file;       /* the file's name, "log.<hex>" */
    uint64_t offset;        /* offset of the record (its checksum) in that file */
};

/* Where reading stopped, once txnlog_iter_next() has returned 0. */
struct txnlog_end {
    char file[TXNLOG_NAME_MAX + 1]; /* the last file read, "" if there was none */
    uint64_t offset;    /* end of that file's valid records (where a torn tail starts) */
    bool is_torn;       /* the last file ends in a torn record or header; truncate at offset */
    int64_t last_zxid;  /* zxid of the last valid record in the files read, -1 if none */
    char why[160];      /* is_torn: what was found at offset */
    int n_torn_skipped; /* torn tails skipped in earlier files (Apache leaves them) */
};

struct txnlog_iter;

/*
 * An iterator over the records with zxid >= from_zxid of the log files in
 * `dir` (see the top of this file). Nothing is read before the first
 * txnlog_iter_next(). `fs` is borrowed, `dir` copied. NULL on OOM. Release
 * with txnlog_iter_free().
 */
struct txnlog_iter *txnlog_iter_new(struct file_fs *fs, const char *dir, int64_t from_zxid);
/* An iterator over the one file at `path`, read as the last file of a log (tools). */
struct txnlog_iter *txnlog_iter_new_file(struct file_fs *fs, const char *path);
void txnlog_iter_free(struct txnlog_iter *it);
/* Largest payload accepted as plausible (default TXNLOG_MAX_RECORD_DEFAULT). */
void txnlog_iter_set_max_record(struct txnlog_iter *it, size_t bytes);

/*
 * Reads the next record into *rec. Returns 1; 0 at the end of the log (see
 * txnlog_iter_end()); or an error with txnlog_iter_errmsg() set:
 * PD_ECORRUPT (a bad record with valid records after it, a bad header...),
 * PD_EIO, PD_ENOMEM. Errors are sticky.
 */
int txnlog_iter_next(struct txnlog_iter *it, struct txnlog_record *rec);
/* Valid once txnlog_iter_next() has returned 0. */
const struct txnlog_end *txnlog_iter_end(const struct txnlog_iter *it);
const char *txnlog_iter_errmsg(const struct txnlog_iter *it);
/* The current (or last) file's header: dbid and version. False if none was read. */
bool txnlog_iter_header(const struct txnlog_iter *it, int64_t *dbid, int32_t *version);

/* ---- repair ----------------------------------------------------------------------------- */

/*
 * Removes every record with a zxid greater than `zxid` from the log in `dir`:
 * deletes the files named after it (highest first, then fsyncs the
 * directory), then cuts the file that holds `zxid` right after the last
 * record <= zxid (dropping its preallocation and any torn tail) and fsyncs
 * it. That file is deleted instead if its header is torn (short, or bad
 * with no valid record in the file). After a crash midway, the log still
 * holds a prefix of its records and the call can be repeated. Returns 0, or
 * PD_EIO/PD_ENOSPC/PD_ENOMEM/PD_ECORRUPT (a bad header on a file holding
 * valid records) with errmsg (errmsg_len bytes, may be 0) set.
 */
int txnlog_truncate(struct file_fs *fs, const char *dir, int64_t zxid, char *errmsg,
                    size_t errmsg_len);

#endif
