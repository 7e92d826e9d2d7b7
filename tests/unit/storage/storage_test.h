/*
 * Helpers shared by the storage unit tests: deterministic txn payloads (a
 * setData txn whose zxid, size and bytes follow from the zxid), whole-file
 * reads and writes through a file_fs, and a log reader that checks every
 * record against the payload its zxid should have.
 */
#ifndef PD_TEST_STORAGE_TEST_H
#define PD_TEST_STORAGE_TEST_H

#include "common/alloc.h"
#include "common/err.h"
#include "file_fault.h"
#include "storage/txn.h"
#include "storage/txnlog.h"

#include <stdlib.h>
#include <string.h>

/* Payload size for zxid: mostly small, some spanning several 512-byte sectors. */
static size_t st_size_mod = 300;
static inline size_t st_data_len(int64_t zxid)
{
    uint64_t z = (uint64_t)zxid;
    size_t n = (size_t)((z * 2654435761u) % st_size_mod);
    if (z % 7 == 3)
        n += 1500; /* crosses sector boundaries */
    return n;
}

/* The payload for zxid: a setData txn with a digest. Caller frees *out with pd_free. */
static inline int st_payload(int64_t zxid, uint8_t **out, size_t *len)
{
    size_t n = st_data_len(zxid);
    uint8_t *d = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        d[i] = (uint8_t)((uint64_t)zxid * 131 + i * 7);
    struct tree_txn t = {0};
    t.hdr = (struct jute_txn_header){.client_id = 0x0100000821ad0000LL,
                                     .cxid = (int32_t)(zxid % 1000),
                                     .zxid = zxid,
                                     .time = 1718500000000LL + zxid,
                                     .type = ZOO_OP_SETDATA};
    t.u.set_data.path = "/paddock/node";
    t.u.set_data.data = (struct jute_buf){d, (int32_t)n};
    t.u.set_data.version = (int32_t)zxid;
    struct jute_txn_digest dg = {TXN_DIGEST_VERSION, zxid * 1000003};
    struct jute_out o;
    jute_out_init(&o);
    int rc = txn_encode(&o, &t, &dg);
    free(d);
    if (rc) {
        jute_out_close(&o);
        return rc;
    }
    *out = jute_out_steal(&o, len);
    return *out ? 0 : PD_ENOMEM;
}

/* True if (p, len) is exactly zxid's payload. */
static inline bool st_payload_is(int64_t zxid, const uint8_t *p, size_t len)
{
    uint8_t *want;
    size_t wlen;
    if (st_payload(zxid, &want, &wlen))
        return false;
    bool same = wlen == len && memcmp(want, p, len) == 0;
    pd_free(want);
    return same;
}

/* Appends zxid's payload to l. */
static inline int st_append(struct txnlog *l, int64_t zxid)
{
    uint8_t *p;
    size_t len;
    int rc = st_payload(zxid, &p, &len);
    if (rc)
        return rc;
    rc = txnlog_append(l, zxid, p, len);
    pd_free(p);
    return rc;
}

/* Reads a whole file (malloc'd into *data). Returns 0 or an error. */
static inline int st_read_file(struct file_fs *fs, const char *path, uint8_t **data, size_t *len)
{
    struct file *f;
    int rc = fs->open(fs, path, FILE_RDONLY, &f);
    if (rc)
        return rc;
    uint64_t size;
    rc = fs->size(fs, f, &size);
    if (!rc) {
        *data = malloc(size ? (size_t)size : 1);
        rc = fs->pread(fs, f, *data, (size_t)size, 0, len);
        if (rc)
            free(*data);
    }
    fs->close(fs, f);
    return rc;
}

/* Replaces a file with these bytes, durably. */
static inline int st_write_file(struct file_fs *fs, const char *path, const uint8_t *data,
                                size_t len)
{
    struct file *f;
    int rc = fs->open(fs, path, FILE_CREATE | FILE_TRUNC | FILE_RDWR, &f);
    if (rc)
        return rc;
    rc = fs->pwrite(fs, f, data, len, 0);
    if (!rc)
        rc = fs->sync(fs, f);
    fs->close(fs, f);
    if (!rc) {
        char dir[256];
        snprintf(dir, sizeof(dir), "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        rc = fs->sync_dir(fs, dir);
    }
    return rc;
}

/* Overwrites bytes in place, durably. */
static inline int st_patch_file(struct file_fs *fs, const char *path, uint64_t off,
                                const void *data, size_t len)
{
    struct file *f;
    int rc = fs->open(fs, path, FILE_RDWR, &f);
    if (rc)
        return rc;
    rc = fs->pwrite(fs, f, data, len, off);
    if (!rc)
        rc = fs->sync(fs, f);
    fs->close(fs, f);
    return rc;
}

struct st_read {
    int rc;              /* 0 at a clean or torn end, else the iterator's error */
    int64_t n;           /* records read */
    int64_t first, last; /* zxids of the first and last record read (-1 if none) */
    bool all_match;      /* every payload was its zxid's */
    bool increasing;     /* zxids strictly increasing */
    bool contiguous;     /* each zxid was the previous + 1 */
    int64_t prefix;      /* records 1..prefix were read, in order, first of all */
    struct txnlog_end end;
    char errmsg[256];
};

/* Reads the whole log in dir from from_zxid, checking every record. */
static inline void st_read_log(struct file_fs *fs, const char *dir, int64_t from_zxid,
                               struct st_read *r)
{
    memset(r, 0, sizeof(*r));
    r->first = r->last = -1;
    r->all_match = r->increasing = r->contiguous = true;
    struct txnlog_iter *it = txnlog_iter_new(fs, dir, from_zxid);
    if (!it) {
        r->rc = PD_ENOMEM;
        return;
    }
    struct txnlog_record rec;
    int rc;
    while ((rc = txnlog_iter_next(it, &rec)) == 1) {
        if (!st_payload_is(rec.zxid, rec.payload, rec.len))
            r->all_match = false;
        if (r->last >= 0 && rec.zxid <= r->last)
            r->increasing = false;
        if (r->last >= 0 && rec.zxid != r->last + 1)
            r->contiguous = false;
        if (r->first < 0)
            r->first = rec.zxid;
        if (rec.zxid == r->prefix + 1 && r->n == r->prefix)
            r->prefix = rec.zxid;
        r->last = rec.zxid;
        r->n++;
    }
    r->rc = rc;
    r->end = *txnlog_iter_end(it);
    snprintf(r->errmsg, sizeof(r->errmsg), "%s", txnlog_iter_errmsg(it));
    txnlog_iter_free(it);
}

#endif
