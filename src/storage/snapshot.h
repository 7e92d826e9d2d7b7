/*
 * Snapshots in Apache ZooKeeper 3.8's format: `snapshot.<zxid hex>` in the
 * data directory's version-2/ folder (FileSnap.java, SnapStream.java,
 * SerializeUtils.serializeSnapshot, DataTree.serialize/serializeZxidDigest,
 * ReferenceCountedACLCache.serialize, DataNode.serialize). Every integer is
 * big-endian, strings and buffers are jute's (int length, -1 for null):
 *
 *   FileHeader   int magic "ZKSN" (0x5a4b534e), int version 2, long dbid -1
 *   sessions     int count, then count x (long id, int timeout_ms)
 *   ACL cache    int count, then count x (long index, int n, n x ACL{int perms,
 *                string scheme, string id})
 *   nodes        preorder from the root, which is named "": count-less, each
 *                string path, buffer data, long acl index (-1: the built-in
 *                open ACL), StatPersisted{czxid, mzxid, ctime, mtime, version,
 *                cversion, aversion, ephemeralOwner, pzxid}; then the path "/"
 *   seal         long Adler-32 of every byte before it, string "/"
 *   ZxidDigest   long zxid, int digestVersion 2, long digest (3.6+ with
 *                digest.enabled; zxid 0 = empty; version < 2 wrote the digest
 *                as a hex string)
 *   seal         long Adler-32 of every byte before it (first seal included),
 *                string "/"
 *
 * A file is a candidate only if its name parses as ZooKeeper's does
 * (Util.getZxidFromName: "snapshot.<hex>[.anything]") and it ends with the 5
 * bytes of a sealing "/" (SnapStream.isValidCheckedStream); it is valid if it
 * also decodes and every seal's checksum matches. A file that ends right
 * after the first seal is a complete snapshot without a digest (ZooKeeper
 * before 3.6, or digest.enabled=false). One departure, stricter: a file
 * that ends inside the ZxidDigest or the second seal is refused (ZooKeeper
 * 3.8 treats an EOF there as "no digest" and loads it).
 *
 * Writing streams the tree through a small buffer (no copy of the tree, no
 * threads, plain blocking calls through storage/file.h), in one go
 * (snap_encode, snap_write) or in slices between which the tree changes
 * (snap_enc_*, a fuzzy snapshot). Reading
 * streams too: memory stays bounded by the largest record, however big the
 * file.
 *
 * What it is not: recovery (which snapshot plus which logs) or purging; it
 * does not read compressed snapshots (zookeeper.snapshot.compression.method
 * gz/snappy, off by default): such files are skipped as invalid.
 */
#ifndef PD_STORAGE_SNAPSHOT_H
#define PD_STORAGE_SNAPSHOT_H

#include "jute/jute.h"
#include "storage/file.h"
#include "tree/tree.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SNAP_MAGIC   0x5a4b534e /* "ZKSN" */
#define SNAP_VERSION 2
#define SNAP_DBID    (-1)
/* Snapshot names: SNAP_PREFIX + lowercase hex zxid without leading zeros (Long.toHexString). */
#define SNAP_PREFIX "snapshot."
/*
 * The name a snapshot has while it is being written: ZooKeeper's scans
 * (FileSnap, PurgeTxnLog) and snap_find_newest() ignore it. A leftover one
 * (a writer that died) is garbage; purge may delete it.
 */
#define SNAP_TMP_PREFIX "tmp.snapshot."
/* Longest field (path, data, ACL string) the reader accepts unless told otherwise. */
#define SNAP_MAX_FIELD_DEFAULT (64u << 20)

/* One session as the snapshot stores it. */
struct snap_session {
    int64_t id;
    int32_t timeout_ms;
};

/* What to write besides the tree. */
struct snap_params {
    int64_t zxid; /* the last zxid applied to the tree: the file name and the ZxidDigest
                   * (0: nothing applied yet, which ZooKeeper writes as an empty digest) */
    const struct snap_session *sessions; /* borrowed; n_sessions of them */
    size_t n_sessions;
    bool no_digest; /* digest.enabled=false: no ZxidDigest and no second seal */
};

/* The ZxidDigest section, checked against the nodes read. */
enum snap_digest_state {
    SNAP_DIGEST_NONE,     /* the file has none */
    SNAP_DIGEST_EMPTY,    /* zxid 0: written before any txn was applied */
    SNAP_DIGEST_DEFERRED, /* for a later zxid than the file's (a fuzzy ZooKeeper snapshot:
                           * compare after replaying the log up to digest_zxid), for an
                           * unknown file zxid, or another digest version */
    SNAP_DIGEST_IGNORED,  /* for an older zxid than the file's: ZooKeeper ignores it */
    SNAP_DIGEST_MATCH,    /* for the file's zxid, and equal to the nodes' digest */
    SNAP_DIGEST_MISMATCH, /* for the file's zxid, and different (ZooKeeper logs it, loads on) */
};

/* What reading a snapshot found. */
struct snap_info {
    int64_t zxid;  /* from the file name; -1 if unknown (snap_decode) */
    char name[64]; /* the file name (snap_find_newest, snap_load_file), else "" */
    int32_t magic;
    int32_t version;
    int64_t dbid;
    int64_t n_sessions;
    int64_t n_acls;
    int64_t n_nodes;     /* nodes read, the root included once */
    int64_t checksum;    /* the last seal's Adler-32 (verified) */
    uint64_t size_bytes; /* bytes of the snapshot up to its last seal */
    int64_t tree_digest; /* the digest of the nodes read (what tree_digest() gives after a load) */
    bool has_digest;     /* the file has a ZxidDigest section */
    int64_t digest_zxid; /* its fields, if has_digest */
    int32_t digest_version;
    int64_t digest;
    enum snap_digest_state digest_state;
};

/* ---- writing ---------------------------------------------------------------------- */

/*
 * Receives the encoded bytes in order, in chunks of up to about 64 KiB
 * (bigger only for a node's large data). Returns 0, or a negative code that
 * stops the encoding and is returned by it.
 */
typedef int (*snap_sink_fn)(void *ctx, const void *data, size_t len);

/*
 * Encodes the snapshot of `t` (nodes, ACL cache and digest) and params'
 * sessions, streaming it to `sink`. Only reads the tree. Allocates a buffer
 * of at most about 128 KiB (a data buffer of 16 KiB or more goes to the
 * sink directly), the path of the deepest node and an index of the ACL
 * cache: nothing that grows with the number of nodes.
 * Returns 0, PD_ENOMEM, or the sink's error.
 */
int snap_encode(const struct tree *t, const struct snap_params *p, snap_sink_fn sink, void *ctx);
/* snap_encode into `out` (appended; on error out holds a partial snapshot). */
int snap_encode_buf(const struct tree *t, const struct snap_params *p, struct jute_out *out);

/*
 * The same snapshot encoded in slices while the tree keeps changing: a fuzzy
 * snapshot, as ZooKeeper's (FileTxnSnapLog.save while txns are applied).
 * snap_enc_new() encodes the header, params' sessions and the ACL cache at
 * once and starts a tree_walk with max_czxid = p->zxid (the last zxid applied
 * to t: the file's name). Each snap_enc_step() takes up to max_nodes steps of
 * the walk (a node encoded as it stands then, or a bounded run of nodes
 * created since the start skipped), and hands every byte encoded so far to the
 * sink; the last one writes the end of the nodes, the seal and the ZxidDigest
 * of `last_zxid` (the last zxid applied to t at that moment) with the tree's
 * digest at that moment, as DataTree.serializeZxidDigest does after its walk.
 *
 * Replaying the txn log after p->zxid over such a file gives the tree at any
 * later zxid (recovery.c; ZooKeeper's FileTxnSnapLog.restore): nodes created
 * after the start are left out (their creates are replayed), nodes deleted or
 * changed are in their state at some moment between start and end (the
 * replay of their deletes and changes ends in the same state), and a node
 * whose ACL was set to a list interned after the start keeps that list's
 * index, which the ACL section written at the start lacks: both loaders take
 * it (ZooKeeper ignores it; Paddock gives the node an empty list, access for
 * super only) until the replayed create/setACL sets the list.
 *
 * Between steps the caller may change t (tree_apply, including deletes of any
 * node); it must not empty it (tree_load_begin) or free it, or the next step
 * fails with PD_ECLOSED. Several encoders may follow one tree. snap_enc_new: 0,
 * PD_ENOMEM or the sink's error. snap_enc_step: 1 once the snapshot is
 * complete, 0 if nodes remain, PD_ENOMEM, PD_ECLOSED or the sink's error
 * (sticky). The sink copies what it keeps: the bytes are borrowed.
 */
struct snap_enc;
int snap_enc_new(struct tree *t, const struct snap_params *p, snap_sink_fn sink, void *ctx,
                 struct snap_enc **out);
int snap_enc_step(struct snap_enc *se, int64_t max_nodes, int64_t last_zxid);
/* Nodes written so far. */
int64_t snap_enc_nodes(const struct snap_enc *se);
/* Stops following the tree and frees the encoder (NULL: no-op); any time, any order. */
void snap_enc_free(struct snap_enc *se);

/*
 * Writes `dir`/snapshot.<zxid> atomically: encodes into `dir`/tmp.snapshot.<zxid>
 * (truncating a leftover), fsyncs it, renames it over the final name, fsyncs
 * `dir`. On failure the temporary file is removed (best effort) and no
 * snapshot.<zxid> is created, except when only the final directory fsync
 * failed (then the file is complete but not known to be durable). Blocking,
 * single-threaded, safe in a forked child. `dir` is the version-2 directory.
 * Returns 0 or the first error (PD_ENOSPC, PD_EIO, PD_ENOMEM, PD_ETOOBIG for
 * a too long path), with errmsg (errlen bytes, may be NULL) saying what failed.
 */
int snap_write(struct file_fs *fs, const char *dir, const struct tree *t,
               const struct snap_params *p, char *errmsg, size_t errlen);
/* snap_write of a snapshot already encoded (snap_encode_buf) for `zxid`: `len` bytes at
 * `data`, written as they are. Only reads `data`; safe on any thread that owns `fs` use. */
int snap_write_buf(struct file_fs *fs, const char *dir, int64_t zxid, const void *data, size_t len,
                   char *errmsg, size_t errlen);

/*
 * snap_write's steps for bytes that arrive a piece at a time (a writer thread
 * fed by snap_enc_step on the loop): snap_file_open creates
 * `dir`/tmp.snapshot.<zxid> (truncating a leftover); snap_file_append writes
 * at the end (0 or the error, which is sticky); snap_file_commit fsyncs,
 * closes, renames to snapshot.<zxid> and fsyncs `dir`, returning as
 * snap_write; snap_file_abort closes and removes the temporary file. Commit
 * and abort free the object. Blocking; one thread at a time per object.
 */
struct snap_file;
int snap_file_open(struct file_fs *fs, const char *dir, int64_t zxid, struct snap_file **out,
                   char *errmsg, size_t errlen);
int snap_file_append(struct snap_file *sf, const void *data, size_t len);
int snap_file_commit(struct snap_file *sf, char *errmsg, size_t errlen);
void snap_file_abort(struct snap_file *sf);

/* ---- reading ---------------------------------------------------------------------- */

/*
 * Supplies the snapshot's bytes in order: fills up to len bytes of buf, sets
 * *n_read (0 only at the end). Returns 0 or a negative code (returned by the
 * reader).
 */
typedef int (*snap_source_fn)(void *ctx, void *buf, size_t len, size_t *n_read);

/* Called for each record of a snapshot by snap_parse; everything is borrowed for the call. */
struct snap_visitor {
    int (*session)(void *arg, int64_t id, int32_t timeout_ms);
    int (*acl)(void *arg, int64_t index, const struct jute_acl_vec *acl);
    /* path is NUL-terminated (len bytes); the root is "" */
    int (*node)(void *arg, const char *path, size_t len, struct jute_buf data, int64_t acl_index,
                const struct jute_stat_persisted *st);
};

/* Reading options; zero-initialised means the defaults. */
struct snap_read_opts {
    int64_t zxid;       /* the zxid the file's name gives; 0 = unknown (digest not judged) */
    size_t max_field;   /* longest path, data or ACL string; 0 = SNAP_MAX_FIELD_DEFAULT */
    uint64_t size_hint; /* the snapshot's size in bytes if known (0: not): presizes the tree */
};

/*
 * Reads a whole snapshot from `src`, calling v's callbacks (any may be NULL)
 * in file order, checking every length and both checksums; fills *info (may
 * be NULL). A callback's non-zero return stops the parse and is returned.
 * Records reach the callbacks before the checksums are verified: a caller
 * that acts on them must discard its work when this fails.
 * Returns 0; PD_ECORRUPT (bad magic, bad checksum, bad structure, truncated)
 * with errmsg saying what and at which byte; PD_ETOOBIG (a field over
 * max_field); PD_ENOMEM; or the source's error.
 */
int snap_parse(snap_source_fn src, void *ctx, const struct snap_read_opts *o,
               const struct snap_visitor *v, void *arg, struct snap_info *info, char *errmsg,
               size_t errlen);

/*
 * Called once per session of a snapshot, only after the whole snapshot has
 * been read and verified. A non-zero return is returned by the reader.
 */
typedef int (*snap_session_fn)(void *arg, int64_t id, int32_t timeout_ms);

/*
 * Loads a snapshot into `t` (tree_load_begin ... tree_load_end; call
 * tree_set_extended_types() first) and, once the checksums are verified,
 * reports its sessions through `on_session` (may be NULL). Fills *info (may
 * be NULL); info->digest_state says whether the stored digest matched.
 * Returns as snap_parse; after an error t holds a partial tree: load it
 * again or free it.
 */
int snap_decode(snap_source_fn src, void *ctx, const struct snap_read_opts *o, struct tree *t,
                snap_session_fn on_session, void *arg, struct snap_info *info, char *errmsg,
                size_t errlen);
/*
 * snap_decode from memory (len bytes at data), after ZooKeeper's validity
 * check (at least 10 bytes, the last 5 a seal's "/"; PD_ECORRUPT if not).
 * Bytes after the last seal are ignored, as ZooKeeper does.
 */
int snap_decode_buf(const void *data, size_t len, const struct snap_read_opts *o, struct tree *t,
                    snap_session_fn on_session, void *arg, struct snap_info *info, char *errmsg,
                    size_t errlen);

/*
 * Removes every snapshot in dir whose name's zxid is above zxid, then syncs dir if it removed
 * any: those hold txns of a history that a TRUNC or a leader's SNAP has replaced, and
 * recovery, which loads the newest snapshot, must not find them. Returns the number removed
 * (>= 0), or PD_ENOMEM / PD_EIO with errmsg set.
 */
int snap_drop_newer(struct file_fs *fs, const char *dir, int64_t zxid, char *errmsg,
                    size_t errlen);

/*
 * The zxid a file name gives, as Util.getZxidFromName("snapshot"): "snapshot."
 * then hex digits, then nothing or ".anything". -1 if the name is not a
 * snapshot's.
 */
int64_t snap_name_zxid(const char *name);

/*
 * Opens `path` (read only, never modified) and snap_decode()s it with the
 * zxid its name gives. Returns as snap_decode, PD_ENOENT if missing, or
 * PD_ECORRUPT if the file fails ZooKeeper's validity check (too short, no
 * final "/").
 */
int snap_load_file(struct file_fs *fs, const char *path, struct tree *t, snap_session_fn on_session,
                   void *arg, struct snap_info *info, char *errmsg, size_t errlen);

/*
 * snap_parse() of the file at `path` (read only, never modified), after
 * ZooKeeper's validity check, with the zxid its name gives; info->name and
 * info->zxid are set from the name. Returns as snap_parse, PD_ENOENT if
 * missing, or PD_ECORRUPT if the validity check fails.
 */
int snap_parse_file(struct file_fs *fs, const char *path, const struct snap_visitor *v, void *arg,
                    struct snap_info *info, char *errmsg, size_t errlen);

/*
 * Recovery's snapshot choice, as FileSnap.deserialize: lists `dir` (the
 * version-2 directory), takes the snapshot names newest zxid first, and
 * loads the first one that is valid into `t`, falling back to older ones
 * when a newer one is truncated, corrupt or unreadable (PD_ECORRUPT,
 * PD_ETOOBIG, PD_EIO; at most 100 candidates, as ZooKeeper), but never
 * because of PD_ENOMEM or the callback's error, which are returned. Each
 * skipped file is logged as a warning; leftover SNAP_TMP_PREFIX files and
 * compressed (.gz, .snappy) snapshots are ignored.
 * Returns 0 (t, sessions and *info from the chosen file; info->zxid is its
 * zxid); PD_ENOENT if no file passed the validity check (t untouched: start
 * from an empty tree, as ZooKeeper does); PD_ECORRUPT if some did but none
 * decoded (t must be reloaded or freed; ZooKeeper refuses to start); or
 * PD_ENOMEM / a listing error.
 */
int snap_find_newest(struct file_fs *fs, const char *dir, struct tree *t,
                     snap_session_fn on_session, void *arg, struct snap_info *info, char *errmsg,
                     size_t errlen);

#endif
