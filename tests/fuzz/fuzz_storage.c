/*
 * libFuzzer target for the storage readers: whatever the bytes, decoding
 * never reads out of bounds, never leaks, and a snapshot that decodes leaves a
 * tree that passes tree_check(). The first byte picks the reader:
 *
 *   0: one txn-log payload (txn_decode), re-encoded when it decodes;
 *   1: a snapshot file (snap_decode_buf into a fresh tree);
 *   2: a txn-log file (the iterator over an in-memory directory holding it as
 *      log.1), every record it yields decoded.
 *
 * Seeds: tests/fuzz/corpus/storage/, made from the Apache ZooKeeper 3.8 data
 * directory recorded in tests/unit/storage/data/apache.
 */
#include "common/arena.h"
#include "file_fault.h"
#include "storage/snapshot.h"
#include "storage/txn.h"
#include "storage/txnlog.h"
#include "tree/tree.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void no_deliver(void *watcher, const struct jute_watcher_event *ev,
                       const struct jute_acl_vec *acl, void *ctx)
{
    (void)watcher;
    (void)ev;
    (void)acl;
    (void)ctx;
}

static void one_payload(const uint8_t *p, size_t len, struct arena *a)
{
    struct tree_txn txn;
    struct jute_txn_digest digest;
    bool has_digest = false;
    if (txn_decode(p, len, a, &txn, &digest, &has_digest) != 0)
        return;
    struct jute_out out;
    jute_out_init(&out);
    (void)txn_encode(&out, &txn, has_digest ? &digest : NULL);
    jute_out_close(&out);
}

static void snapshot(const uint8_t *p, size_t len)
{
    struct tree *t = tree_new(no_deliver, NULL);
    if (!t)
        return;
    char errmsg[256];
    struct snap_info info;
    if (snap_decode_buf(p, len, NULL, t, NULL, NULL, &info, errmsg, sizeof(errmsg)) == 0) {
        const char *why = NULL;
        if (tree_check(t, &why) != 0)
            abort(); /* a snapshot that loads must give a sound tree */
    }
    tree_free(t);
}

static void log_file(const uint8_t *p, size_t len, struct arena *a)
{
    struct file_fault *ff = file_fault_new(1);
    if (!ff)
        return;
    struct file_fs *fs = file_fault_fs(ff);
    struct file *f;
    if (fs->mkdir(fs, "/d") != 0 || fs->open(fs, "/d/log.1", FILE_CREATE | FILE_RDWR, &f) != 0)
        goto out;
    int rc = fs->pwrite(fs, f, p, len, 0);
    fs->close(fs, f);
    if (rc != 0)
        goto out;
    struct txnlog_iter *it = txnlog_iter_new(fs, "/d", 0);
    if (!it)
        goto out;
    struct txnlog_record rec;
    while (txnlog_iter_next(it, &rec) == 1) {
        arena_reset(a);
        one_payload(rec.payload, rec.len, a);
    }
    txnlog_iter_free(it);
out:
    file_fault_free(ff);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct arena a;
    arena_init(&a, 4096);
    switch (data[0] % 3) {
    case 0:
        one_payload(data + 1, size - 1, &a);
        break;
    case 1:
        snapshot(data + 1, size - 1);
        break;
    default:
        log_file(data + 1, size - 1, &a);
        break;
    }
    arena_close(&a);
    return 0;
}
