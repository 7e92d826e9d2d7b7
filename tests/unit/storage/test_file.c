/*
 * The file backends: the POSIX one against a real temporary directory, and
 * the in-memory fault backend's model (durability on sync and sync_dir,
 * crashes, countdown faults, a full disk), which every other storage test
 * relies on.
 */
#include "t.h"

#include "common/err.h"
#include "file_fault.h"
#include "storage/file.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int count_entry(const char *name, void *arg)
{
    (void)name;
    (*(int *)arg)++;
    return 0;
}

struct find_name {
    const char *want;
    bool found;
};

static int find_entry(const char *name, void *arg)
{
    struct find_name *f = arg;
    if (strcmp(name, f->want) == 0)
        f->found = true;
    return 0;
}

static bool exists(struct file_fs *fs, const char *dir, const char *name)
{
    struct find_name f = {name, false};
    fs->list_dir(fs, dir, find_entry, &f);
    return f.found;
}

/* Reads the whole file into buf (cap bytes); returns its length or -1. */
static long slurp(struct file_fs *fs, const char *path, char *buf, size_t cap)
{
    struct file *f;
    if (fs->open(fs, path, FILE_RDONLY, &f))
        return -1;
    size_t n = 0;
    int rc = fs->pread(fs, f, buf, cap, 0, &n);
    fs->close(fs, f);
    return rc ? -1 : (long)n;
}

/* Exercises one backend through the interface: both backends must agree. */
static void exercise(struct file_fs *fs, const char *root)
{
    char dir[512], a[600], b[600];
    snprintf(dir, sizeof(dir), "%s/d", root);
    snprintf(a, sizeof(a), "%s/a", dir);
    snprintf(b, sizeof(b), "%s/b", dir);
    CHECK_EQ_INT(fs->mkdir(fs, dir), 0);
    CHECK_EQ_INT(fs->mkdir(fs, dir), PD_EEXIST);
    struct file *f;
    CHECK_EQ_INT(fs->open(fs, a, FILE_RDONLY, &f), PD_ENOENT);
    CHECK_EQ_INT(fs->open(fs, a, FILE_CREATE | FILE_EXCL | FILE_RDWR, &f), 0);
    struct file *g;
    CHECK_EQ_INT(fs->open(fs, a, FILE_CREATE | FILE_EXCL | FILE_RDWR, &g), PD_EEXIST);
    CHECK_EQ_INT(fs->pwrite(fs, f, "hello", 5, 0), 0);
    CHECK_EQ_INT(fs->pwrite(fs, f, "world", 5, 10), 0); /* a hole reads as zeros */
    uint64_t size = 0;
    CHECK_EQ_INT(fs->size(fs, f, &size), 0);
    CHECK_EQ_INT(size, 15);
    char buf[64];
    size_t n = 0;
    CHECK_EQ_INT(fs->pread(fs, f, buf, sizeof(buf), 0, &n), 0);
    CHECK_EQ_INT(n, 15);
    CHECK(memcmp(buf, "hello\0\0\0\0\0world", 15) == 0);
    CHECK_EQ_INT(fs->pread(fs, f, buf, 4, 13, &n), 0);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(fs->pread(fs, f, buf, 4, 100, &n), 0);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(fs->allocate(fs, f, 0, 4096), 0);
    CHECK_EQ_INT(fs->size(fs, f, &size), 0);
    CHECK_EQ_INT(size, 4096);
    CHECK_EQ_INT(fs->allocate(fs, f, 0, 100), 0); /* never shrinks */
    CHECK_EQ_INT(fs->size(fs, f, &size), 0);
    CHECK_EQ_INT(size, 4096);
    CHECK_EQ_INT(fs->pread(fs, f, buf, 8, 4000, &n), 0);
    CHECK(n == 8 && memcmp(buf, "\0\0\0\0\0\0\0\0", 8) == 0);
    /* writeback is a hint: the bytes read back the same, a waiting call on unsynced data
     * reports no error, an empty range does nothing */
    CHECK_EQ_INT(fs->writeback(fs, f, 0, 4096, false), 0);
    CHECK_EQ_INT(fs->writeback(fs, f, 0, 4096, true), 0);
    CHECK_EQ_INT(fs->writeback(fs, f, 4096, 0, true), 0);
    CHECK_EQ_INT(fs->pread(fs, f, buf, 5, 0, &n), 0);
    CHECK(n == 5 && memcmp(buf, "hello", 5) == 0);
    CHECK_EQ_INT(fs->truncate(fs, f, 7), 0);
    CHECK_EQ_INT(fs->size(fs, f, &size), 0);
    CHECK_EQ_INT(size, 7);
    CHECK_EQ_INT(fs->sync(fs, f), 0);
    CHECK_EQ_INT(fs->close(fs, f), 0);
    CHECK_EQ_INT(fs->sync_dir(fs, dir), 0);
    CHECK_EQ_INT(slurp(fs, a, buf, sizeof(buf)), 7);

    int n_entries = 0;
    CHECK_EQ_INT(fs->list_dir(fs, dir, count_entry, &n_entries), 0);
    CHECK_EQ_INT(n_entries, 1);
    CHECK_EQ_INT(fs->rename(fs, a, b), 0);
    CHECK(!exists(fs, dir, "a"));
    CHECK(exists(fs, dir, "b"));
    CHECK_EQ_INT(fs->rename(fs, a, b), PD_ENOENT);
    CHECK_EQ_INT(fs->unlink(fs, b), 0);
    CHECK_EQ_INT(fs->unlink(fs, b), PD_ENOENT);
    CHECK_EQ_INT(fs->sync_dir(fs, dir), 0);
    n_entries = 0;
    CHECK_EQ_INT(fs->list_dir(fs, dir, count_entry, &n_entries), 0);
    CHECK_EQ_INT(n_entries, 0);
    char missing[600];
    snprintf(missing, sizeof(missing), "%s/nope", root);
    CHECK_EQ_INT(fs->list_dir(fs, missing, count_entry, &n_entries), PD_ENOENT);

    /* FILE_TRUNC empties an existing file. */
    CHECK_EQ_INT(fs->open(fs, a, FILE_CREATE | FILE_RDWR, &f), 0);
    CHECK_EQ_INT(fs->pwrite(fs, f, "abc", 3, 0), 0);
    fs->close(fs, f);
    CHECK_EQ_INT(fs->open(fs, a, FILE_CREATE | FILE_TRUNC | FILE_RDWR, &f), 0);
    CHECK_EQ_INT(fs->size(fs, f, &size), 0);
    CHECK_EQ_INT(size, 0);
    fs->close(fs, f);
    CHECK_EQ_INT(fs->unlink(fs, a), 0);
}

static void test_posix(void)
{
    char root[] = "/tmp/paddock-file-XXXXXX";
    CHECK(mkdtemp(root) != NULL);
    struct file_fs fs;
    file_posix_init(&fs);
    exercise(&fs, root);
    char d[600];
    snprintf(d, sizeof(d), "%s/d", root);
    rmdir(d);
    rmdir(root);
}

static void test_fault_backend_api(void)
{
    struct file_fault *ff = file_fault_new(1);
    exercise(file_fault_fs(ff), "");
    file_fault_free(ff);
}

/* What a sync covers survives any crash; a new name needs its directory synced. */
static void test_fault_durability(void)
{
    for (uint64_t seed = 1; seed <= 200; seed++) {
        struct file_fault *ff = file_fault_new(seed);
        struct file_fs *fs = file_fault_fs(ff);
        fs->mkdir(fs, "/d");
        fs->sync_dir(fs, "");
        struct file *f;
        fs->open(fs, "/d/synced", FILE_CREATE | FILE_RDWR, &f);
        fs->pwrite(fs, f, "durable", 7, 0);
        fs->sync(fs, f);
        fs->sync_dir(fs, "/d");
        fs->pwrite(fs, f, "XXXXXXXXXXXX", 12, 3); /* not synced */
        fs->close(fs, f);
        fs->open(fs, "/d/new", FILE_CREATE | FILE_RDWR, &f);
        fs->pwrite(fs, f, "data", 4, 0);
        fs->sync(fs, f); /* data synced, name not */
        fs->close(fs, f);
        CHECK_EQ_INT(file_fault_unsynced_bytes(ff), 12);
        unsigned flags = seed % 3 == 0 ? FILE_FAULT_CRASH_SECTORS : 0;
        CHECK_EQ_INT(file_fault_crash(ff, flags), 0);
        char buf[64];
        long n = slurp(fs, "/d/synced", buf, sizeof(buf));
        CHECK(n == 7 || n == 15);
        CHECK(memcmp(buf, "dur", 3) == 0);
        if (n == 7)
            CHECK(memcmp(buf, "durable", 7) == 0);
        /* The unsynced name may or may not have survived; if it did, so did its data. */
        if (exists(fs, "/d", "new"))
            CHECK(slurp(fs, "/d/new", buf, sizeof(buf)) == 4 && memcmp(buf, "data", 4) == 0);
        CHECK_EQ_INT(file_fault_unsynced_bytes(ff), 0);
        file_fault_free(ff);
    }
}

/* Across seeds, unsynced writes are sometimes kept, dropped, torn and garbled. */
static void test_fault_crash_variety(void)
{
    int kept = 0, dropped = 0, other = 0;
    char want[2048];
    for (size_t i = 0; i < sizeof(want); i++)
        want[i] = (char)('a' + i % 26);
    for (uint64_t seed = 1; seed <= 300; seed++) {
        struct file_fault *ff = file_fault_new(seed);
        struct file_fs *fs = file_fault_fs(ff);
        struct file *f;
        fs->open(fs, "/f", FILE_CREATE | FILE_RDWR, &f);
        fs->sync_dir(fs, "");
        fs->pwrite(fs, f, want, sizeof(want), 0);
        fs->close(fs, f);
        file_fault_crash(ff, 0);
        char got[4096];
        long n = slurp(fs, "/f", got, sizeof(got));
        if (n == (long)sizeof(want) && memcmp(got, want, sizeof(want)) == 0)
            kept++;
        else if (n == 0)
            dropped++;
        else
            other++;
        /* A handle from before the crash is dead. */
        file_fault_free(ff);
    }
    CHECK(kept > 0);
    CHECK(dropped > 0);
    CHECK(other > 0);

    /* KEEP_ALL: a process crash keeps everything. */
    struct file_fault *ff = file_fault_new(7);
    struct file_fs *fs = file_fault_fs(ff);
    struct file *f;
    fs->open(fs, "/f", FILE_CREATE | FILE_RDWR, &f);
    fs->pwrite(fs, f, want, 100, 0);
    file_fault_crash(ff, FILE_FAULT_CRASH_KEEP_ALL);
    char got[128];
    CHECK_EQ_INT(slurp(fs, "/f", got, sizeof(got)), 100);
    size_t n;
    CHECK_EQ_INT(fs->pread(fs, f, got, 10, 0, &n), PD_EIO); /* stale handle */
    CHECK_EQ_INT(fs->close(fs, f), 0);
    file_fault_free(ff);
}

static void test_fault_countdown(void)
{
    struct file_fault *ff = file_fault_new(3);
    struct file_fs *fs = file_fault_fs(ff);
    struct file *f;
    fs->open(fs, "/f", FILE_CREATE | FILE_RDWR, &f);
    file_fault_fail(ff, FF_WRITE, 3, PD_EIO, 2);
    CHECK_EQ_INT(fs->pwrite(fs, f, "a", 1, 0), 0);
    CHECK_EQ_INT(fs->pwrite(fs, f, "b", 1, 1), 0);
    CHECK_EQ_INT(fs->pwrite(fs, f, "c", 1, 2), PD_EIO);
    CHECK_EQ_INT(fs->pwrite(fs, f, "d", 1, 3), PD_EIO);
    CHECK_EQ_INT(fs->pwrite(fs, f, "e", 1, 4), 0);
    CHECK_EQ_INT(file_fault_calls(ff, FF_WRITE), 5);
    file_fault_fail(ff, FF_SYNC, 1, PD_ENOSPC, 1);
    CHECK_EQ_INT(fs->sync(fs, f), PD_ENOSPC);
    CHECK_EQ_INT(fs->sync(fs, f), 0);
    file_fault_fail(ff, FF_RENAME, 1, PD_EIO, 1);
    CHECK_EQ_INT(fs->rename(fs, "/f", "/g"), PD_EIO);
    file_fault_clear(ff);
    CHECK_EQ_INT(fs->rename(fs, "/f", "/g"), 0);
    fs->close(fs, f);
    file_fault_free(ff);
}

/* After a failed fsync, a later successful one does not make the old writes durable. */
static void test_fault_fsyncgate(void)
{
    int lost = 0;
    for (uint64_t seed = 1; seed <= 50; seed++) {
        struct file_fault *ff = file_fault_new(seed);
        struct file_fs *fs = file_fault_fs(ff);
        struct file *f;
        fs->open(fs, "/f", FILE_CREATE | FILE_RDWR, &f);
        fs->sync_dir(fs, "");
        fs->pwrite(fs, f, "0123456789", 10, 0);
        file_fault_fail(ff, FF_SYNC, 1, PD_EIO, 1);
        CHECK_EQ_INT(fs->sync(fs, f), PD_EIO);
        char buf[16];
        size_t n;
        CHECK_EQ_INT(fs->pread(fs, f, buf, 10, 0, &n), 0); /* the page cache still has it */
        CHECK_EQ_INT(n, 10);
        CHECK_EQ_INT(fs->sync(fs, f), 0);
        fs->close(fs, f);
        file_fault_crash(ff, 0);
        if (slurp(fs, "/f", buf, sizeof(buf)) != 10)
            lost++;
        file_fault_free(ff);
    }
    CHECK(lost > 0);
}

/* A write-back error of another handle is reported to a waiting writeback, once, as
 * sync_file_range does on Linux; then this handle's sync has nothing left to report (which
 * is why file.h makes any writeback error the caller's). A starting writeback reports none. */
static void test_fault_writeback_errseq(void)
{
    struct file_fault *ff = file_fault_new(1);
    struct file_fs *fs = file_fault_fs(ff);
    struct file *f, *g;
    CHECK_EQ_INT(fs->open(fs, "/f", FILE_CREATE | FILE_RDWR, &f), 0);
    CHECK_EQ_INT(fs->open(fs, "/f", FILE_RDWR, &g), 0);
    CHECK_EQ_INT(fs->pwrite(fs, f, "0123456789", 10, 0), 0);
    file_fault_fail(ff, FF_SYNC, 1, PD_EIO, 1);
    CHECK_EQ_INT(fs->sync(fs, g), PD_EIO);
    CHECK_EQ_INT(fs->writeback(fs, f, 0, 10, false), 0);
    CHECK_EQ_INT(fs->writeback(fs, f, 0, 10, true), PD_EIO);
    CHECK_EQ_INT(fs->writeback(fs, f, 0, 10, true), 0);
    CHECK_EQ_INT(fs->sync(fs, f), 0);
    /* an injected fault */
    file_fault_fail(ff, FF_WRITEBACK, 1, PD_EIO, 1);
    CHECK_EQ_INT(fs->writeback(fs, f, 0, 10, false), PD_EIO);
    CHECK_EQ_INT(file_fault_calls(ff, FF_WRITEBACK), 4);
    fs->close(fs, f);
    fs->close(fs, g);
    file_fault_free(ff);
}

static void test_fault_capacity(void)
{
    struct file_fault *ff = file_fault_new(5);
    struct file_fs *fs = file_fault_fs(ff);
    file_fault_set_capacity(ff, 1000);
    struct file *f;
    fs->open(fs, "/f", FILE_CREATE | FILE_RDWR, &f);
    char buf[600] = {0};
    CHECK_EQ_INT(fs->pwrite(fs, f, buf, 600, 0), 0);
    CHECK_EQ_INT(fs->allocate(fs, f, 0, 2000), PD_ENOSPC);
    CHECK_EQ_INT(fs->pwrite(fs, f, buf, 600, 600), PD_ENOSPC);
    CHECK(file_fault_used(ff) <= 1000);
    CHECK_EQ_INT(fs->truncate(fs, f, 100), 0);
    CHECK_EQ_INT(fs->pwrite(fs, f, buf, 600, 100), 0);
    fs->close(fs, f);
    file_fault_free(ff);
}

int main(void)
{
    RUN(test_posix);
    RUN(test_fault_backend_api);
    RUN(test_fault_durability);
    RUN(test_fault_crash_variety);
    RUN(test_fault_countdown);
    RUN(test_fault_fsyncgate);
    RUN(test_fault_capacity);
    RUN(test_fault_writeback_errseq);
    return t_done();
}
