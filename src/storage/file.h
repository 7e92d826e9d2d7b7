/*
 * The small file interface every storage module goes through: open, read and
 * write at an offset, fsync, truncate, extend, rename, unlink, fsync of a
 * directory, list a directory. A backend is a struct of function pointers,
 * in the spirit of SQLite's sqlite3_vfs: file_posix.c does the syscalls; the
 * test backend (tests/lib/file_fault.c) keeps files in memory, fails the Nth
 * call of a kind, and simulates a crash by keeping, dropping or garbling each
 * write that no fsync covered yet.
 *
 * What it is not: buffered I/O, or a place for format logic. Callers build
 * whole records in memory and hand them over in few large writes.
 *
 * Durability contract (POSIX, as the fault backend models it):
 *   - data written with pwrite, and size changes from truncate/allocate, are
 *     durable once sync() on that file returns 0;
 *   - a created, renamed or unlinked name is durable once sync_dir() on its
 *     directory returns 0;
 *   - after a failed sync() nothing is known about what reached the disk, and
 *     a later sync() returning 0 proves nothing about the earlier writes
 *     (Linux drops the dirty pages on a write-back error): callers must treat
 *     the file as failed, never retry.
 *
 * Every call returns 0 or a negative PD_E* code: PD_ENOSPC when the device
 * (or quota) is full, PD_ENOENT / PD_EEXIST where a name is missing or taken,
 * PD_ENOMEM, and PD_EIO for any other failure. Paths are NUL-terminated and
 * borrowed for the call. One backend may be used from several threads as
 * long as each open file is used by one thread at a time (the POSIX one
 * keeps no shared state; the fault backend is single-threaded).
 */
#ifndef PD_STORAGE_FILE_H
#define PD_STORAGE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct file; /* an open file; opaque, owned by the backend that opened it */

/* Flags for file_fs.open. */
enum {
    FILE_RDONLY = 0,      /* read only */
    FILE_RDWR = 1 << 0,   /* read and write */
    FILE_CREATE = 1 << 1, /* create if missing (implies FILE_RDWR) */
    FILE_EXCL = 1 << 2,   /* with FILE_CREATE: PD_EEXIST if the name exists */
    FILE_TRUNC = 1 << 3,  /* truncate to 0 on open (needs FILE_RDWR) */
};

/*
 * Called by list_dir for every entry of a directory except "." and "..", in
 * no set order. `name` is the bare entry name, borrowed for the call. A
 * non-zero return stops the listing and is returned by list_dir.
 */
typedef int (*file_list_fn)(const char *name, void *arg);

struct file_fs {
    /*
     * Opens `path` with FILE_* flags. Returns 0 with *out set (release with
     * close), PD_ENOENT, PD_EEXIST (FILE_EXCL), PD_ENOMEM, PD_ENOSPC, PD_EIO.
     * A created file's name is durable only after sync_dir() of its directory.
     */
    int (*open)(struct file_fs *fs, const char *path, int flags, struct file **out);
    /* Releases f (always, even when returning an error). Does not sync. */
    int (*close)(struct file_fs *fs, struct file *f);
    /*
     * Reads up to len bytes at offset `off` into buf; *n_read is set to the
     * bytes read, less than len only at end of file.
     */
    int (*pread)(struct file_fs *fs, struct file *f, void *buf, size_t len, uint64_t off,
                 size_t *n_read);
    /*
     * Writes all len bytes at offset `off` (growing the file if needed), or
     * fails; after a failure any part of the range may have been written.
     */
    int (*pwrite)(struct file_fs *fs, struct file *f, const void *buf, size_t len, uint64_t off);
    /* Makes f's data and size durable (fdatasync). See the contract above. */
    int (*sync)(struct file_fs *fs, struct file *f);
    /*
     * Starts writing f's dirty pages in [off, off + len) to the disk and returns (wait
     * false), or returns once they are written (wait true). Only a hint that keeps a large
     * file's data from piling up in memory until its sync, which would then hold the disk
     * for as long as the pile takes and stall every other file's sync behind it: sync() is
     * still what makes the data durable. Any error must be taken as the file's write error:
     * the call may have consumed a write-back error that a later sync would have reported.
     * Backends without such a call do nothing and return 0.
     */
    int (*writeback)(struct file_fs *fs, struct file *f, uint64_t off, uint64_t len, bool wait);
    /* Sets f's size to `size` (shrinking or extending with zeros). */
    int (*truncate)(struct file_fs *fs, struct file *f, uint64_t size);
    /*
     * Makes the file at least off + len bytes long, the new bytes reading as
     * zeros, reserving the space where the filesystem can (fallocate) so that
     * a full disk shows here (PD_ENOSPC) rather than in a later write. Never
     * shrinks the file.
     */
    int (*allocate)(struct file_fs *fs, struct file *f, uint64_t off, uint64_t len);
    /* Current size of f in bytes. */
    int (*size)(struct file_fs *fs, struct file *f, uint64_t *size);
    /* Atomically renames `from` to `to`, replacing `to`. Durable after sync_dir(). */
    int (*rename)(struct file_fs *fs, const char *from, const char *to);
    /* Removes the name `path` (PD_ENOENT if absent). Durable after sync_dir(). */
    int (*unlink)(struct file_fs *fs, const char *path);
    /* Creates directory `path`; PD_EEXIST if it exists. Durable after sync_dir() of its parent. */
    int (*mkdir)(struct file_fs *fs, const char *path);
    /* Makes the entries (creates, renames, unlinks) of directory `dir` durable. */
    int (*sync_dir)(struct file_fs *fs, const char *dir);
    /* Calls fn for each entry of `dir`: 0, PD_ENOENT, PD_EIO, or fn's non-zero value. */
    int (*list_dir)(struct file_fs *fs, const char *dir, file_list_fn fn, void *arg);
};

/* Fills `fs` with the POSIX backend (no state; fs may be copied). */
void file_posix_init(struct file_fs *fs);

#endif
