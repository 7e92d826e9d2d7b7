/*
 * An in-memory backend of storage/file.h for tests, with faults and crashes.
 *
 * Files and directories live in memory. The backend remembers, for every
 * file, the bytes a sync() made durable and the writes and size changes made
 * since, and for the namespace, the creates, renames and unlinks no
 * sync_dir() has covered yet. file_fault_crash() then simulates a power
 * failure the way SQLite's test6.c does: each write not covered by a sync is
 * kept, dropped, garbled (random bytes) or torn (a prefix of whole 512-byte
 * sectors kept), chosen by a seeded PRNG; each pending size change is kept or
 * dropped; a random prefix of the pending namespace operations survives (a
 * journaling filesystem keeps them in order). Every handle opened before the
 * crash fails with PD_EIO afterwards, except close().
 *
 * Faults: file_fault_fail() makes the Nth call of one kind (write, sync,
 * rename...) from now fail with a chosen error, `repeat` times in a row; a
 * failed write may leave a random prefix of its bytes behind, and a failed
 * sync loses track of what it was flushing (as Linux does), so a later
 * successful sync does not make those writes durable. As Linux's errseq_t, a
 * failed (PD_EIO) sync is also reported once to every other handle then open
 * on the file, by that handle's next sync. A capacity makes writes
 * and extensions past it fail with PD_ENOSPC (a full disk).
 *
 * Single-threaded; not for production builds (tests/lib only).
 */
#ifndef PD_TEST_FILE_FAULT_H
#define PD_TEST_FILE_FAULT_H

#include "storage/file.h"

#include <stdbool.h>
#include <stdint.h>

/* ---- countdown faults (shared by any test helper that fails on purpose) ---- */

struct fault {
    long countdown; /* calls left before failing; < 0: off */
    long repeat;    /* failures left once triggered */
};

static inline void fault_init(struct fault *f)
{
    f->countdown = -1;
    f->repeat = 0;
}

/* Arms f: the nth call from now (1-based) fails, and the repeat - 1 after it. */
static inline void fault_arm(struct fault *f, long nth, long repeat)
{
    f->countdown = nth > 0 ? nth - 1 : -1;
    f->repeat = repeat > 0 ? repeat : 1;
}

/* Counts one call; true if this call must fail. */
static inline bool fault_tick(struct fault *f)
{
    if (f->countdown < 0)
        return false;
    if (f->countdown > 0) {
        f->countdown--;
        return false;
    }
    if (--f->repeat <= 0)
        f->countdown = -1;
    return true;
}

/* ---- the backend ------------------------------------------------------------ */

enum file_fault_kind {
    FF_OPEN,
    FF_CLOSE,
    FF_READ,
    FF_WRITE,
    FF_SYNC,
    FF_TRUNCATE,
    FF_ALLOCATE,
    FF_SIZE,
    FF_RENAME,
    FF_UNLINK,
    FF_MKDIR,
    FF_SYNC_DIR,
    FF_LIST,
    FF_WRITEBACK,
    FF_N_KINDS
};

/* Flags for file_fault_crash(). */
enum {
    /* Decide keep/drop/garble per 512-byte sector of each write, not per write. */
    FILE_FAULT_CRASH_SECTORS = 1 << 0,
    /* A process crash (kill -9), not a power failure: every write and name survives. */
    FILE_FAULT_CRASH_KEEP_ALL = 1 << 1,
    /* Unsynced writes are only kept, dropped or torn, never garbled (what a disk
     * whose sector writes are atomic does: old contents or new, never noise). */
    FILE_FAULT_CRASH_NO_GARBLE = 1 << 2,
};

struct file_fault;

/* Returns a new empty in-memory filesystem (NULL on OOM); free with file_fault_free(). */
struct file_fault *file_fault_new(uint64_t seed);
void file_fault_free(struct file_fault *ff);
/* The file.h interface of ff; borrowed, valid until file_fault_free(). */
struct file_fs *file_fault_fs(struct file_fault *ff);

/* The nth call of `kind` from now fails with err (a PD_E* code), repeat times. */
void file_fault_fail(struct file_fault *ff, enum file_fault_kind kind, long nth, int err,
                     long repeat);
/* Disarms every fault. */
void file_fault_clear(struct file_fault *ff);
/* Calls of `kind` since file_fault_new() or the last file_fault_reset_counts(). */
long file_fault_calls(const struct file_fault *ff, enum file_fault_kind kind);
void file_fault_reset_counts(struct file_fault *ff);
/* Total bytes the files may occupy; 0 = unlimited. */
void file_fault_set_capacity(struct file_fault *ff, uint64_t bytes);
/* Bytes the files occupy now. */
uint64_t file_fault_used(const struct file_fault *ff);
/* Reseeds the PRNG that decides crashes and torn failed writes. */
void file_fault_seed(struct file_fault *ff, uint64_t seed);

/*
 * Simulates a crash now (FILE_FAULT_CRASH_* flags): afterwards the files hold
 * what a machine would find on restart, everything is durable again, and
 * handles opened before fail with PD_EIO. Returns 0 or PD_ENOMEM.
 */
int file_fault_crash(struct file_fault *ff, unsigned flags);

/* Number of bytes written and not yet covered by a sync, over all files. */
uint64_t file_fault_unsynced_bytes(const struct file_fault *ff);

#endif
