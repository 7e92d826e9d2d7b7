/*
 * The transaction log (txnlog.h): writer, reader and truncation over the
 * file.h interface, in Apache ZooKeeper 3.8's FileTxnLog format.
 *
 * Writer invariants:
 *   - buf holds TXNLOG_FILE_HEADER_BYTES reserved bytes, then the encoded
 *     records appended since the last write; the reserved bytes become the
 *     file header when the batch starts a new file, so that a new file is
 *     one write;
 *   - cur, when open, is the file the next batch goes to; retired files were
 *     rolled away and wait for the fsync that covers their last batch (their
 *     handle is closed by an unforced sync and reopened by the next forced
 *     one: nothing written is forgotten by a later forced sync);
 *   - synced_zxid only moves in txnlog_sync() after every write, fsync and
 *     directory fsync it needed returned 0; `failed` is set before any error
 *     is returned from an I/O step and never cleared.
 */
#include "storage/txnlog.h"

#include "common/alloc.h"
#include "common/err.h"
#include "common/log.h"
#include "storage/storage_int.h"
#include "storage/txn.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- shared helpers --------------------------------------------------------------- */

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

static uint32_t checksum(const uint8_t *p, size_t len)
{
    uLong a = adler32(0L, Z_NULL, 0);
    /* zlib takes uInt lengths; payloads are under 2 GiB but be exact anyway. */
    while (len > 0) {
        uInt n = len > 0x40000000u ? 0x40000000u : (uInt)len;
        a = adler32(a, p, n);
        p += n;
        len -= n;
    }
    return (uint32_t)a;
}

/* "dir/name" in a new string; NULL on OOM. */
static char *join(const char *dir, const char *name)
{
    size_t dl = strlen(dir), nl = strlen(name);
    char *p = pd_malloc(dl + 1 + nl + 1);
    if (!p)
        return NULL;
    memcpy(p, dir, dl);
    p[dl] = '/';
    memcpy(p + dl + 1, name, nl + 1);
    return p;
}

void txnlog_options_default(struct txnlog_options *opt)
{
    *opt = (struct txnlog_options){
        .prealloc_bytes = TXNLOG_PREALLOC_DEFAULT,
        .fsync_warn_ms = TXNLOG_FSYNC_WARN_MS_DEFAULT,
    };
}

void txnlog_file_name(int64_t zxid, char *buf)
{
    snprintf(buf, TXNLOG_NAME_MAX + 1, "log.%" PRIx64, (uint64_t)zxid);
}

bool txnlog_parse_name(const char *name, int64_t *zxid)
{
    return storage_parse_name(name, "log.", zxid);
}

/* Log files of a directory, sorted by zxid. */
struct log_list {
    struct log_name {
        int64_t zxid;
        char name[TXNLOG_NAME_MAX + 1];
    } * v;
    size_t n, cap;
    int err; /* PD_ENOMEM while collecting */
};

static int collect(const char *name, void *arg)
{
    struct log_list *ll = arg;
    int64_t z;
    if (!txnlog_parse_name(name, &z))
        return 0;
    if (ll->n == ll->cap) {
        size_t cap = ll->cap ? 2 * ll->cap : 16;
        void *v = pd_realloc(ll->v, cap * sizeof(*ll->v));
        if (!v) {
            ll->err = PD_ENOMEM;
            return PD_ENOMEM;
        }
        ll->v = v;
        ll->cap = cap;
    }
    ll->v[ll->n].zxid = z;
    snprintf(ll->v[ll->n].name, sizeof(ll->v[ll->n].name), "%s", name);
    ll->n++;
    return 0;
}

static int cmp_log(const void *a, const void *b)
{
    int64_t x = ((const struct log_name *)a)->zxid, y = ((const struct log_name *)b)->zxid;
    return x < y ? -1 : x > y;
}

static int list_logs(struct file_fs *fs, const char *dir, struct log_list *ll)
{
    *ll = (struct log_list){0};
    int rc = fs->list_dir(fs, dir, collect, ll);
    if (rc) {
        pd_free(ll->v);
        *ll = (struct log_list){0};
        return rc;
    }
    if (ll->n)
        qsort(ll->v, ll->n, sizeof(*ll->v), cmp_log);
    return 0;
}

/* ---- writer ------------------------------------------------------------------------- */

struct wfile {
    struct file *f;                 /* owned */
    char name[TXNLOG_NAME_MAX + 1]; /* "log.<hex>" */
    uint64_t pos;                   /* end of the bytes written */
    uint64_t padded;                /* FilePadding's currentSize: how far padding has extended */
    bool is_unsynced;               /* written since its last fsync */
    bool is_name_unsynced;          /* created since the last directory fsync */
};

struct txnlog {
    struct file_fs *fs; /* borrowed */
    char *dir;          /* owned */
    struct txnlog_options opt;
    struct wfile cur; /* valid when has_cur */
    bool has_cur;
    struct wfile *retired; /* owned array: rolled files waiting for their fsync */
    size_t n_retired, cap_retired;
    uint8_t *buf; /* owned: TXNLOG_FILE_HEADER_BYTES reserved + records */
    size_t len;   /* bytes used in buf, reserve included */
    size_t cap;
    int64_t batch_first_zxid; /* first zxid in buf (valid if len > reserve) */
    int64_t last_zxid;        /* last appended, -1 if none */
    int64_t written_zxid;     /* last written to a file */
    int64_t synced_zxid;      /* last covered by a successful txnlog_sync */
    int failed;               /* sticky error, 0 if none */
    char errmsg[256];
};

static int fail(struct txnlog *l, int err, const char *f, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct txnlog *l, int err, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vsnprintf(l->errmsg, sizeof(l->errmsg), f, ap);
    va_end(ap);
    size_t n = strlen(l->errmsg);
    snprintf(l->errmsg + n, sizeof(l->errmsg) - n, ": %s", pd_strerror(err));
    l->failed = err;
    return err;
}

int txnlog_open(struct file_fs *fs, const char *dir, const struct txnlog_options *opt,
                struct txnlog **out)
{
    struct txnlog *l = pd_calloc(1, sizeof(*l));
    if (!l)
        return PD_ENOMEM;
    l->fs = fs;
    l->dir = pd_strdup(dir);
    l->cap = 64 * 1024;
    l->buf = pd_malloc(l->cap);
    if (!l->dir || !l->buf) {
        pd_free(l->dir);
        pd_free(l->buf);
        pd_free(l);
        return PD_ENOMEM;
    }
    if (opt)
        l->opt = *opt;
    else
        txnlog_options_default(&l->opt);
    l->len = TXNLOG_FILE_HEADER_BYTES;
    l->last_zxid = l->written_zxid = l->synced_zxid = -1;
    *out = l;
    return 0;
}

static void close_wfile(struct txnlog *l, struct wfile *w)
{
    /* Nothing to do about a failed close: whatever needed an fsync had one or gets one. */
    if (w->f)
        l->fs->close(l->fs, w->f);
    w->f = NULL;
}

void txnlog_close(struct txnlog *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n_retired; i++)
        close_wfile(l, &l->retired[i]);
    if (l->has_cur)
        close_wfile(l, &l->cur);
    pd_free(l->retired);
    pd_free(l->buf);
    pd_free(l->dir);
    pd_free(l);
}

int txnlog_error(const struct txnlog *l)
{
    return l->failed;
}

const char *txnlog_errmsg(const struct txnlog *l)
{
    return l->errmsg;
}

int64_t txnlog_last_zxid(const struct txnlog *l)
{
    return l->last_zxid;
}

int64_t txnlog_synced_zxid(const struct txnlog *l)
{
    return l->synced_zxid;
}

uint64_t txnlog_file_bytes(const struct txnlog *l)
{
    return l->has_cur ? l->cur.pos : 0;
}

int txnlog_append(struct txnlog *l, int64_t zxid, const void *payload, size_t len)
{
    if (l->failed)
        return l->failed;
    int64_t in_payload;
    if (len > INT32_MAX || txn_peek_zxid(payload, len, &in_payload) != 0 || in_payload != zxid)
        return PD_EINVAL;
    if (l->last_zxid >= 0 && zxid <= l->last_zxid)
        return PD_EINVAL;
    size_t need = TXNLOG_RECORD_OVERHEAD + len;
    if (l->cap - l->len < need) {
        size_t cap = l->cap;
        while (cap - l->len < need)
            cap *= 2;
        uint8_t *b = pd_realloc(l->buf, cap);
        if (!b)
            return PD_ENOMEM;
        l->buf = b;
        l->cap = cap;
    }
    uint8_t *p = l->buf + l->len;
    put64(p, checksum(payload, len));
    put32(p + 8, (uint32_t)len);
    memcpy(p + 12, payload, len);
    p[12 + len] = TXNLOG_EOR;
    if (l->len == TXNLOG_FILE_HEADER_BYTES)
        l->batch_first_zxid = zxid;
    l->len += need;
    l->last_zxid = zxid;
    return 0;
}

/*
 * FilePadding.calculateFileSizeWithPadding: once the write position is
 * within 4 KiB of the padded size, grow it by one block (or, if writing got
 * past it, to the block boundary after the position).
 */
static uint64_t padded_size(uint64_t position, uint64_t size, uint64_t prealloc)
{
    if (prealloc > 0 && position + 4096 >= size) {
        if (position > size) {
            size = position + prealloc;
            size -= size % prealloc;
        } else {
            size += prealloc;
        }
    }
    return size;
}

/* Opens a new file for the buffered batch. */
static int start_file(struct txnlog *l)
{
    struct wfile *w = &l->cur;
    memset(w, 0, sizeof(*w));
    txnlog_file_name(l->batch_first_zxid, w->name);
    char *path = join(l->dir, w->name);
    if (!path)
        return fail(l, PD_ENOMEM, "%s: create", w->name);
    int rc = l->fs->open(l->fs, path, FILE_CREATE | FILE_EXCL | FILE_RDWR, &w->f);
    pd_free(path);
    if (rc)
        return fail(l, rc, "%s: create", w->name);
    l->has_cur = true;
    w->is_name_unsynced = true;
    /* As FileTxnLog: the padding starts counting after the header. */
    w->padded = TXNLOG_FILE_HEADER_BYTES;
    uint8_t *h = l->buf;
    put32(h, TXNLOG_MAGIC);
    put32(h + 4, TXNLOG_VERSION);
    put64(h + 8, 0); /* dbid: always 0 in ZooKeeper 3.x */
    return 0;
}

/* Writes the buffered batch to the current file (starting one if needed). */
static int write_batch(struct txnlog *l, uint64_t *bytes)
{
    if (l->len == TXNLOG_FILE_HEADER_BYTES)
        return 0;
    bool is_new = !l->has_cur;
    if (is_new) {
        int rc = start_file(l);
        if (rc)
            return rc;
    }
    struct wfile *w = &l->cur;
    const uint8_t *src = is_new ? l->buf : l->buf + TXNLOG_FILE_HEADER_BYTES;
    size_t n = is_new ? l->len : l->len - TXNLOG_FILE_HEADER_BYTES;
    uint64_t at = w->pos;
    uint64_t padded =
        padded_size(is_new ? TXNLOG_FILE_HEADER_BYTES : at, w->padded, l->opt.prealloc_bytes);
    if (padded != w->padded) {
        int rc = l->fs->allocate(l->fs, w->f, 0, padded);
        if (rc)
            return fail(l, rc, "%s: preallocate to %" PRIu64 " bytes", w->name, padded);
        w->padded = padded;
    }
    int rc = l->fs->pwrite(l->fs, w->f, src, n, at);
    if (rc)
        return fail(l, rc, "%s: write of %zu bytes at %" PRIu64, w->name, n, at);
    w->pos = at + n;
    w->is_unsynced = true;
    l->written_zxid = l->last_zxid;
    l->len = TXNLOG_FILE_HEADER_BYTES;
    *bytes += n;
    return 0;
}

static int64_t now_ms(const struct txnlog *l)
{
    return l->opt.clock ? l->opt.clock(l->opt.clock_arg) : 0;
}

static int sync_wfile(struct txnlog *l, struct wfile *w, bool *did)
{
    if (!w->is_unsynced)
        return 0;
    int rc;
    if (!w->f) {
        /* Closed by an unforced sync after its roll: reopen it to fsync it. */
        char *path = join(l->dir, w->name);
        if (!path)
            return fail(l, PD_ENOMEM, "%s: fsync", w->name);
        rc = l->fs->open(l->fs, path, FILE_RDONLY, &w->f);
        pd_free(path);
        if (rc)
            return fail(l, rc, "%s: open for fsync", w->name);
    }
    rc = l->fs->sync(l->fs, w->f);
    if (rc)
        return fail(l, rc, "%s: fsync", w->name);
    w->is_unsynced = false;
    *did = true;
    return 0;
}

int txnlog_sync(struct txnlog *l, bool force_sync, struct txnlog_sync_result *res)
{
    struct txnlog_sync_result dummy;
    if (!res)
        res = &dummy;
    *res = (struct txnlog_sync_result){.synced_zxid = l->synced_zxid, .fsync_ms = -1};
    if (l->failed)
        return l->failed;
    int rc = write_batch(l, &res->bytes);
    if (rc)
        return rc;
    if (force_sync) {
        bool did = false, name_unsynced = false;
        int64_t t0 = now_ms(l);
        /* Older files first: a reader needs them before the current one. */
        for (size_t i = 0; i < l->n_retired; i++) {
            if ((rc = sync_wfile(l, &l->retired[i], &did)) != 0)
                return rc;
            name_unsynced |= l->retired[i].is_name_unsynced;
        }
        if (l->has_cur) {
            if ((rc = sync_wfile(l, &l->cur, &did)) != 0)
                return rc;
            name_unsynced |= l->cur.is_name_unsynced;
        }
        /* A new file's name must be durable too, or a crash loses the whole file. */
        if (name_unsynced) {
            rc = l->fs->sync_dir(l->fs, l->dir);
            if (rc)
                return fail(l, rc, "%s: fsync of the directory", l->dir);
            did = true;
            for (size_t i = 0; i < l->n_retired; i++)
                l->retired[i].is_name_unsynced = false;
            if (l->has_cur)
                l->cur.is_name_unsynced = false;
        }
        if (did && l->opt.clock) {
            res->fsync_ms = now_ms(l) - t0;
            if (res->fsync_ms > l->opt.fsync_warn_ms) {
                res->is_slow = true;
                pd_warn("fsync-ing the write ahead log (%s/%s) took %" PRId64
                        " ms, more than fsync.warningthresholdms %" PRId64
                        " ms; this slows down every write. File size is %" PRIu64 " bytes",
                        l->dir, l->has_cur ? l->cur.name : "-", res->fsync_ms, l->opt.fsync_warn_ms,
                        l->has_cur ? l->cur.padded : 0);
            }
        }
    }
    /*
     * Rolled files are closed now. After a forced sync they are done; after
     * an unforced one their names stay listed (no handle kept), so that a
     * later forced sync still fsyncs what was written to them.
     */
    size_t kept = 0;
    for (size_t i = 0; i < l->n_retired; i++) {
        struct wfile *w = &l->retired[i];
        close_wfile(l, w);
        if (w->is_unsynced || w->is_name_unsynced)
            l->retired[kept++] = *w;
    }
    l->n_retired = kept;
    l->synced_zxid = l->written_zxid;
    res->synced_zxid = l->synced_zxid;
    return 0;
}

int txnlog_roll(struct txnlog *l)
{
    if (l->failed)
        return l->failed;
    if (!l->has_cur)
        return 0;
    if (!l->cur.is_unsynced && !l->cur.is_name_unsynced) {
        close_wfile(l, &l->cur);
        l->has_cur = false;
        return 0;
    }
    /* Forgetting a file with unsynced writes would let a forced sync miss them. */
    if (l->n_retired == l->cap_retired) {
        size_t cap = l->cap_retired ? 2 * l->cap_retired : 4;
        struct wfile *v = pd_realloc(l->retired, cap * sizeof(*v));
        if (!v)
            return PD_ENOMEM;
        l->retired = v;
        l->cap_retired = cap;
    }
    l->retired[l->n_retired++] = l->cur;
    l->has_cur = false;
    return 0;
}

/* ---- reader: one file ---------------------------------------------------------------- */

#define WINDOW (1u << 20)

/* A read window over one open file. */
struct rd {
    struct file_fs *fs;
    struct file *f; /* owned */
    uint64_t size;
    uint8_t *buf; /* owned */
    size_t cap;
    uint64_t base; /* buf holds the file's bytes [base, base + len) */
    size_t len;
};

/* Makes [off, off + n) available (off + n <= size) and points *p at it. */
static int rd_get(struct rd *r, uint64_t off, size_t n, const uint8_t **p)
{
    if (off >= r->base && off + n <= r->base + r->len) {
        *p = r->buf + (off - r->base);
        return 0;
    }
    size_t want = n > WINDOW ? n : WINDOW;
    if (off + want > r->size)
        want = (size_t)(r->size - off);
    if (want < n)
        return PD_EIO;
    if (r->cap < want) {
        uint8_t *b = pd_realloc(r->buf, want);
        if (!b)
            return PD_ENOMEM;
        r->buf = b;
        r->cap = want;
    }
    size_t got;
    int rc = r->fs->pread(r->fs, r->f, r->buf, want, off, &got);
    if (rc)
        return rc;
    r->base = off;
    r->len = got;
    if (got < n)
        return PD_EIO; /* the file shrank under us */
    *p = r->buf;
    return 0;
}

enum rec_status {
    REC_OK,
    REC_END,     /* zero length, or the end of the file (or only zeros up to it) */
    REC_PARTIAL, /* the file ends inside the record */
    REC_BAD_LEN,
    REC_BAD_EOR,
    REC_BAD_CRC,
    REC_SHORT, /* payload too short for a TxnHeader */
};

static const char *status_text(enum rec_status s)
{
    switch (s) {
    case REC_OK:
        return "valid";
    case REC_END:
        return "end of records";
    case REC_PARTIAL:
        return "partial record (the file ends inside it)";
    case REC_BAD_LEN:
        return "impossible length";
    case REC_BAD_EOR:
        return "bad end-of-record byte";
    case REC_BAD_CRC:
        return "checksum mismatch";
    case REC_SHORT:
        return "payload too short for a txn header";
    }
    return "?";
}

struct rec {
    uint64_t off;
    uint32_t len;
    uint32_t crc;
    int64_t zxid;
    const uint8_t *payload; /* into the window */
};

/* Examines the record at `off`. Returns 0 with *st set, or an I/O error. */
static int rd_record(struct rd *r, uint64_t off, size_t max_len, enum rec_status *st,
                     struct rec *out)
{
    const uint8_t *p;
    int rc;
    out->off = off;
    if (off + 12 > r->size) {
        size_t left = (size_t)(r->size - off);
        *st = REC_END;
        if (left == 0)
            return 0;
        if ((rc = rd_get(r, off, left, &p)) != 0)
            return rc;
        for (size_t i = 0; i < left; i++)
            if (p[i])
                *st = REC_PARTIAL;
        return 0;
    }
    if ((rc = rd_get(r, off, 12, &p)) != 0)
        return rc;
    uint64_t crc = get64(p);
    int32_t len = (int32_t)get32(p + 8);
    if (len == 0) {
        *st = REC_END;
        return 0;
    }
    if (len < 0 || (size_t)len > max_len || crc > UINT32_MAX) {
        *st = REC_BAD_LEN;
        if (crc > UINT32_MAX && len > 0 && (size_t)len <= max_len)
            *st = REC_BAD_CRC; /* an Adler-32 never has the high word set */
        return 0;
    }
    if (off + 12 + (uint64_t)len + 1 > r->size) {
        *st = REC_PARTIAL;
        return 0;
    }
    if ((rc = rd_get(r, off, 12 + (size_t)len + 1, &p)) != 0)
        return rc;
    out->len = (uint32_t)len;
    out->crc = (uint32_t)crc;
    out->payload = p + 12;
    if (p[12 + len] != TXNLOG_EOR) {
        *st = REC_BAD_EOR;
        return 0;
    }
    if (checksum(p + 12, (size_t)len) != (uint32_t)crc) {
        *st = REC_BAD_CRC;
        return 0;
    }
    if (txn_peek_zxid(p + 12, (size_t)len, &out->zxid) != 0) {
        *st = REC_SHORT;
        return 0;
    }
    *st = REC_OK;
    return 0;
}

/*
 * Looks for a valid record with zxid > after_zxid starting anywhere in
 * (from, size). Sets *found_off (UINT64_MAX if none). Skips runs of zeros
 * quickly: a record has a non-zero length word.
 */
static int find_valid_after(struct rd *r, uint64_t from, size_t max_len, int64_t after_zxid,
                            uint64_t *found_off, int64_t *found_zxid)
{
    *found_off = UINT64_MAX;
    uint64_t q = from + 1;
    while (q + TXNLOG_RECORD_OVERHEAD + TXN_HEADER_BYTES <= r->size) {
        const uint8_t *p;
        int rc = rd_get(r, q, 12, &p);
        if (rc)
            return rc;
        if (get32(p + 8) == 0 && p[11] == 0) {
            /* Zero length here; jump to just before the next non-zero byte. */
            uint64_t z = q + 12;
            for (;;) {
                if (z >= r->size)
                    return 0;
                size_t n = r->size - z < WINDOW ? (size_t)(r->size - z) : WINDOW;
                if ((rc = rd_get(r, z, n, &p)) != 0)
                    return rc;
                size_t i = 0;
                while (i < n && p[i] == 0)
                    i++;
                z += i;
                if (i < n)
                    break;
            }
            uint64_t next = z >= 11 ? z - 11 : 0;
            q = next > q ? next : q + 1;
            continue;
        }
        enum rec_status st;
        struct rec rec;
        if ((rc = rd_record(r, q, max_len, &st, &rec)) != 0)
            return rc;
        if (st == REC_OK && rec.zxid > after_zxid) {
            *found_off = q;
            *found_zxid = rec.zxid;
            return 0;
        }
        q++;
    }
    return 0;
}

/* ---- reader: the iterator --------------------------------------------------------------- */

struct txnlog_iter {
    struct file_fs *fs;    /* borrowed */
    char *dir;             /* owned; NULL in single-file mode */
    char *single_path;     /* owned; the one file in single-file mode */
    int64_t from_zxid;     /* yield records with zxid >= this */
    size_t max_record;     /* payload length limit */
    bool is_listed;        /* files listed (first next() done) */
    struct log_list files; /* owned */
    size_t next_file;      /* index of the next file to open */
    bool is_open;          /* rd holds an open file */
    bool is_last;          /* the open file is the last one */
    char name[TXNLOG_NAME_MAX + 1];
    struct rd rd;
    uint64_t pos; /* next record's offset */
    bool has_header;
    int64_t dbid;
    int32_t version;
    int err; /* sticky */
    bool is_done;
    struct txnlog_end end;
    char errmsg[256];
};

/* Reads dir's logs from from_zxid on, or (dir NULL) the one file single_path. */
static struct txnlog_iter *iter_new(struct file_fs *fs, const char *dir, const char *single_path,
                                    int64_t from_zxid)
{
    struct txnlog_iter *it = pd_calloc(1, sizeof(*it));
    if (!it)
        return NULL;
    it->fs = fs;
    it->max_record = TXNLOG_MAX_RECORD_DEFAULT;
    it->end.last_zxid = -1;
    it->from_zxid = from_zxid;
    char **copy = dir ? &it->dir : &it->single_path;
    *copy = pd_strdup(dir ? dir : single_path);
    if (!*copy) {
        pd_free(it);
        return NULL;
    }
    return it;
}

struct txnlog_iter *txnlog_iter_new(struct file_fs *fs, const char *dir, int64_t from_zxid)
{
    return iter_new(fs, dir, NULL, from_zxid);
}

struct txnlog_iter *txnlog_iter_new_file(struct file_fs *fs, const char *path)
{
    return iter_new(fs, NULL, path, INT64_MIN);
}

static void iter_close_file(struct txnlog_iter *it)
{
    if (it->is_open) {
        it->fs->close(it->fs, it->rd.f);
        it->rd.f = NULL;
        it->is_open = false;
    }
}

void txnlog_iter_free(struct txnlog_iter *it)
{
    if (!it)
        return;
    iter_close_file(it);
    pd_free(it->rd.buf);
    pd_free(it->files.v);
    pd_free(it->dir);
    pd_free(it->single_path);
    pd_free(it);
}

void txnlog_iter_set_max_record(struct txnlog_iter *it, size_t bytes)
{
    it->max_record = bytes;
}

const struct txnlog_end *txnlog_iter_end(const struct txnlog_iter *it)
{
    return &it->end;
}

const char *txnlog_iter_errmsg(const struct txnlog_iter *it)
{
    return it->errmsg;
}

bool txnlog_iter_header(const struct txnlog_iter *it, int64_t *dbid, int32_t *version)
{
    if (!it->has_header)
        return false;
    *dbid = it->dbid;
    *version = it->version;
    return true;
}

static int iter_fail(struct txnlog_iter *it, int err, const char *f, ...)
    __attribute__((format(printf, 3, 4)));
static int iter_fail(struct txnlog_iter *it, int err, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vsnprintf(it->errmsg, sizeof(it->errmsg), f, ap);
    va_end(ap);
    it->err = err;
    iter_close_file(it);
    return err;
}

static int iter_io_fail(struct txnlog_iter *it, int err, const char *what)
{
    return iter_fail(it, err, "%s: %s: %s", it->name, what, pd_strerror(err));
}

/* Lists the files and picks the first to read (FileTxnLog.getLogFiles). */
static int iter_list(struct txnlog_iter *it)
{
    it->is_listed = true;
    if (it->single_path) {
        it->files.v = pd_malloc(sizeof(*it->files.v));
        if (!it->files.v)
            return iter_fail(it, PD_ENOMEM, "%s: out of memory", it->single_path);
        const char *base = strrchr(it->single_path, '/');
        base = base ? base + 1 : it->single_path;
        snprintf(it->files.v[0].name, sizeof(it->files.v[0].name), "%s", base);
        it->files.v[0].zxid = 0;
        it->files.n = it->files.cap = 1;
        return 0;
    }
    int rc = list_logs(it->fs, it->dir, &it->files);
    if (rc)
        return iter_fail(it, rc, "%s: listing log files: %s", it->dir, pd_strerror(rc));
    size_t start = 0;
    for (size_t i = 0; i < it->files.n; i++)
        if (it->files.v[i].zxid <= it->from_zxid)
            start = i;
    it->next_file = start;
    return 0;
}

/* Opens the next file and reads its header. 1: opened; 0: no more files. */
static int iter_open_next(struct txnlog_iter *it)
{
    if (it->next_file >= it->files.n)
        return 0;
    size_t idx = it->next_file++;
    it->is_last = it->next_file == it->files.n;
    snprintf(it->name, sizeof(it->name), "%s", it->files.v[idx].name);
    char *path = it->single_path ? pd_strdup(it->single_path) : join(it->dir, it->name);
    if (!path)
        return iter_fail(it, PD_ENOMEM, "%s: out of memory", it->name);
    int rc = it->fs->open(it->fs, path, FILE_RDONLY, &it->rd.f);
    pd_free(path);
    if (rc)
        return iter_io_fail(it, rc, "open");
    it->is_open = true;
    it->rd.fs = it->fs;
    it->rd.base = 0;
    it->rd.len = 0;
    if ((rc = it->fs->size(it->fs, it->rd.f, &it->rd.size)) != 0)
        return iter_io_fail(it, rc, "size");
    snprintf(it->end.file, sizeof(it->end.file), "%s", it->name);
    it->end.offset = 0;
    it->has_header = false;

    /* The header: a last file cut before (or while) its header was written is torn. */
    const uint8_t *p = NULL;
    size_t hn =
        it->rd.size < TXNLOG_FILE_HEADER_BYTES ? (size_t)it->rd.size : TXNLOG_FILE_HEADER_BYTES;
    if (hn && (rc = rd_get(&it->rd, 0, hn, &p)) != 0)
        return iter_io_fail(it, rc, "read");
    if (hn < TXNLOG_FILE_HEADER_BYTES) {
        if (!it->is_last)
            return iter_fail(it, PD_ECORRUPT,
                             "%s: truncated file header in a log file that is not the last one",
                             it->name);
        it->end.is_torn = true;
        storage_errf(it->end.why, sizeof(it->end.why), "truncated file header (%" PRIu64 " bytes)",
                     it->rd.size);
        iter_close_file(it);
        return 0;
    }
    uint32_t magic = get32(p);
    int32_t version = (int32_t)get32(p + 4);
    if (magic != TXNLOG_MAGIC || version != TXNLOG_VERSION) {
        char what[80];
        if (magic != TXNLOG_MAGIC)
            storage_errf(what, sizeof(what), "not a transaction log (magic 0x%08" PRIx32 ")",
                         magic);
        else
            storage_errf(what, sizeof(what), "unsupported log format version %" PRId32, version);
        /*
         * The last file's header garbled by a crash before its first fsync:
         * torn, as long as no valid record shows the file held real data.
         */
        uint64_t q = UINT64_MAX;
        int64_t qz;
        if (it->is_last) {
            rc = find_valid_after(&it->rd, 0, it->max_record, it->end.last_zxid, &q, &qz);
            if (rc)
                return iter_io_fail(it, rc, "read");
        }
        if (!it->is_last || q != UINT64_MAX)
            return iter_fail(it, PD_ECORRUPT, "%s: %s", it->name, what);
        it->end.is_torn = true;
        storage_errf(it->end.why, sizeof(it->end.why), "%s, and no valid record in the file", what);
        iter_close_file(it);
        return 0;
    }
    it->has_header = true;
    it->version = version;
    it->dbid = (int64_t)get64(p + 8);
    it->pos = TXNLOG_FILE_HEADER_BYTES;
    it->end.offset = it->pos;
    return 1;
}

/*
 * The records of the open file end at it->pos with status `st`: decide
 * whether that is the file's end, a torn tail, or corruption.
 */
static int iter_file_end(struct txnlog_iter *it, enum rec_status st)
{
    it->end.offset = it->pos;
    if (st == REC_END) {
        /*
         * A last file without a single record was created by a crashed
         * writer whose first batch never reached the disk; the file must go,
         * or the next append could not create a file of that name.
         */
        if (it->is_last && it->pos == TXNLOG_FILE_HEADER_BYTES) {
            it->end.is_torn = true;
            storage_errf(it->end.why, sizeof(it->end.why), "no record after the file header");
        }
        iter_close_file(it);
        return 0;
    }
    uint64_t q;
    int64_t qz = 0;
    int rc = find_valid_after(&it->rd, it->pos, it->max_record, it->end.last_zxid, &q, &qz);
    if (rc)
        return iter_io_fail(it, rc, "read");
    if (q != UINT64_MAX)
        return iter_fail(it, PD_ECORRUPT,
                         "%s: record at %" PRIu64 ": %s, but a valid record (zxid 0x%" PRIx64
                         ") follows at %" PRIu64,
                         it->name, it->pos, status_text(st), (uint64_t)qz, q);
    if (!it->is_last) {
        if (st == REC_BAD_CRC || st == REC_BAD_LEN)
            return iter_fail(it, PD_ECORRUPT,
                             "%s: record at %" PRIu64 ": %s in a log file that is not the last one",
                             it->name, it->pos, status_text(st));
        it->end.n_torn_skipped++;
        iter_close_file(it);
        return 0;
    }
    it->end.is_torn = true;
    storage_errf(it->end.why, sizeof(it->end.why), "record at %" PRIu64 ": %s", it->pos,
                 status_text(st));
    iter_close_file(it);
    return 0;
}

int txnlog_iter_next(struct txnlog_iter *it, struct txnlog_record *out)
{
    if (it->err)
        return it->err;
    if (it->is_done)
        return 0;
    if (!it->is_listed) {
        int rc = iter_list(it);
        if (rc)
            return rc;
    }
    for (;;) {
        if (!it->is_open) {
            if (it->end.is_torn) {
                it->is_done = true;
                return 0;
            }
            int rc = iter_open_next(it);
            if (rc < 0)
                return rc;
            if (rc == 0 && !it->is_open) {
                if (it->next_file >= it->files.n || it->end.is_torn) {
                    it->is_done = true;
                    return 0;
                }
                continue;
            }
        }
        enum rec_status st;
        struct rec rec;
        int rc = rd_record(&it->rd, it->pos, it->max_record, &st, &rec);
        if (rc)
            return iter_io_fail(it, rc, "read");
        if (st != REC_OK) {
            rc = iter_file_end(it, st);
            if (rc)
                return rc;
            continue;
        }
        it->pos += TXNLOG_RECORD_OVERHEAD + rec.len;
        it->end.offset = it->pos;
        it->end.last_zxid = rec.zxid;
        if (rec.zxid < it->from_zxid)
            continue;
        *out = (struct txnlog_record){
            .zxid = rec.zxid,
            .payload = rec.payload,
            .len = rec.len,
            .checksum = rec.crc,
            .file = it->name,
            .offset = rec.off,
        };
        return 1;
    }
}

/* ---- truncation -------------------------------------------------------------------------------
 */

int txnlog_truncate(struct file_fs *fs, const char *dir, int64_t zxid, char *errmsg,
                    size_t errmsg_len)
{
    storage_errf(errmsg, errmsg_len, "%s", "");
    struct log_list ll;
    int rc = list_logs(fs, dir, &ll);
    if (rc) {
        storage_errf(errmsg, errmsg_len, "%s: listing log files: %s", dir, pd_strerror(rc));
        return rc;
    }
    char *path = NULL;
    struct rd r = {.fs = fs};
    bool deleted = false;

    /* Later files first, highest first, so a crash leaves a prefix of the log. */
    size_t keep = ll.n;
    while (keep > 0 && ll.v[keep - 1].zxid > zxid) {
        const char *name = ll.v[keep - 1].name;
        pd_free(path);
        if (!(path = join(dir, name))) {
            rc = PD_ENOMEM;
            storage_errf(errmsg, errmsg_len, "%s: out of memory", name);
            goto out;
        }
        if ((rc = fs->unlink(fs, path)) != 0) {
            storage_errf(errmsg, errmsg_len, "%s: unlink: %s", name, pd_strerror(rc));
            goto out;
        }
        deleted = true;
        keep--;
    }
    if (deleted && (rc = fs->sync_dir(fs, dir)) != 0) {
        storage_errf(errmsg, errmsg_len, "%s: fsync of the directory: %s", dir, pd_strerror(rc));
        goto out;
    }
    if (keep == 0)
        goto out;

    /* The file that holds zxid: cut it after its last record <= zxid. */
    const char *name = ll.v[keep - 1].name;
    pd_free(path);
    if (!(path = join(dir, name))) {
        rc = PD_ENOMEM;
        storage_errf(errmsg, errmsg_len, "%s: out of memory", name);
        goto out;
    }
    if ((rc = fs->open(fs, path, FILE_RDWR, &r.f)) != 0) {
        storage_errf(errmsg, errmsg_len, "%s: open: %s", name, pd_strerror(rc));
        goto out;
    }
    if ((rc = fs->size(fs, r.f, &r.size)) != 0) {
        storage_errf(errmsg, errmsg_len, "%s: size: %s", name, pd_strerror(rc));
        goto out;
    }
    const uint8_t *p = NULL;
    bool torn_header = r.size < TXNLOG_FILE_HEADER_BYTES;
    if (!torn_header) {
        if ((rc = rd_get(&r, 0, TXNLOG_FILE_HEADER_BYTES, &p)) != 0) {
            storage_errf(errmsg, errmsg_len, "%s: read: %s", name, pd_strerror(rc));
            goto out;
        }
        uint32_t magic = get32(p);
        if (magic != TXNLOG_MAGIC || get32(p + 4) != TXNLOG_VERSION) {
            /* Torn if nothing valid is in it (as the iterator decides), else not ours to cut. */
            uint64_t q;
            int64_t qz;
            if ((rc = find_valid_after(&r, 0, TXNLOG_MAX_RECORD_DEFAULT, INT64_MIN, &q, &qz)) !=
                0) {
                storage_errf(errmsg, errmsg_len, "%s: read: %s", name, pd_strerror(rc));
                goto out;
            }
            if (q != UINT64_MAX) {
                rc = PD_ECORRUPT;
                storage_errf(errmsg, errmsg_len, "%s: bad file header (magic 0x%08" PRIx32 ")",
                             name, magic);
                goto out;
            }
            torn_header = true;
        }
    }
    if (torn_header) {
        fs->close(fs, r.f);
        r.f = NULL;
        if ((rc = fs->unlink(fs, path)) != 0) {
            storage_errf(errmsg, errmsg_len, "%s: unlink: %s", name, pd_strerror(rc));
            goto out;
        }
        if ((rc = fs->sync_dir(fs, dir)) != 0)
            storage_errf(errmsg, errmsg_len, "%s: fsync of the directory: %s", dir,
                         pd_strerror(rc));
        goto out;
    }
    uint64_t pos = TXNLOG_FILE_HEADER_BYTES;
    for (;;) {
        enum rec_status st;
        struct rec rec;
        if ((rc = rd_record(&r, pos, SIZE_MAX / 2, &st, &rec)) != 0) {
            storage_errf(errmsg, errmsg_len, "%s: read: %s", name, pd_strerror(rc));
            goto out;
        }
        if (st != REC_OK || rec.zxid > zxid)
            break;
        pos += TXNLOG_RECORD_OVERHEAD + rec.len;
    }
    if (pos < r.size) {
        if ((rc = fs->truncate(fs, r.f, pos)) != 0) {
            storage_errf(errmsg, errmsg_len, "%s: truncate to %" PRIu64 ": %s", name, pos,
                         pd_strerror(rc));
            goto out;
        }
        if ((rc = fs->sync(fs, r.f)) != 0) {
            storage_errf(errmsg, errmsg_len, "%s: fsync: %s", name, pd_strerror(rc));
            goto out;
        }
    }
out:
    if (r.f)
        fs->close(fs, r.f);
    pd_free(r.buf);
    pd_free(path);
    pd_free(ll.v);
    return rc;
}
