/*
 * Snapshot encoder, decoder and file handling (snapshot.h has the format).
 *
 * Writing: the header, sessions, ACL cache and nodes are encoded into one
 * jute_out of about 64 KiB that is handed to the sink whenever it fills (a
 * large data buffer goes to the sink directly, without a copy); the running
 * Adler-32 covers every byte handed over, which is exactly what ZooKeeper's
 * CheckedOutputStream has seen when sealStream() writes it.
 *
 * Reading: a window over the source (struct rd) that refills in large reads
 * and grows only as far as the largest record needs; the Adler-32 covers the
 * bytes consumed, as CheckedInputStream does when checkSealIntegrity() reads
 * the stored value. Nothing is trusted before it is bounded: counts are
 * never used to size an allocation, lengths are checked against max_field
 * before anything is read.
 */
#include "storage/snapshot.h"

#include "common/alloc.h"
#include "common/digit.h"
#include "common/err.h"
#include "common/log.h"
#include "common/thp.h"
#include "storage/storage_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#define ENC_CHUNK   (64u << 10)  /* flush the encoder's buffer at this size */
#define ENC_DIRECT  (16u << 10)  /* data buffers at least this big bypass the buffer */
#define RD_CHUNK    (256u << 10) /* read this much at a time */
#define SEAL_BYTES  13           /* long checksum + string "/" */
#define MAX_SCAN    100          /* candidates tried, as FileSnap.deserialize */
#define PATH_BUFLEN 4096

/* ---- writing ---------------------------------------------------------------------------- */

struct enc {
    struct jute_out out;
    uLong adler;
    snap_sink_fn sink;
    void *ctx;
    const struct tree *t;
    int err; /* sticky: the first error */
};

/* Hands `len` bytes to the sink, after adding them to the checksum. */
static int enc_emit(struct enc *e, const void *data, size_t len)
{
    if (e->err || len == 0)
        return e->err;
    e->adler = adler32_z(e->adler, data, len);
    int rc = e->sink(e->ctx, data, len);
    if (rc != 0)
        e->err = rc;
    return e->err;
}

static int enc_flush(struct enc *e)
{
    if (!e->err && e->out.err)
        e->err = e->out.err;
    if (e->err)
        return e->err;
    enc_emit(e, e->out.data, e->out.len);
    jute_out_reset(&e->out);
    return e->err;
}

/* The seal: the checksum of everything so far, then the string "/". */
static int enc_seal(struct enc *e)
{
    if (enc_flush(e) != 0)
        return e->err;
    jute_put_long(&e->out, (int64_t)e->adler);
    jute_put_string(&e->out, "/");
    return enc_flush(e);
}

static int count_acl(int64_t index, const struct jute_acl_vec *acl, void *arg)
{
    (void)index;
    (void)acl;
    (*(int32_t *)arg)++;
    return 0;
}

static int enc_acl(int64_t index, const struct jute_acl_vec *acl, void *arg)
{
    struct enc *e = arg;
    jute_put_long(&e->out, index);
    jute_put_int(&e->out, acl->count);
    for (int32_t i = 0; i < acl->count; i++)
        jute_put_acl(&e->out, &acl->items[i]);
    if (e->out.len >= ENC_CHUNK)
        return enc_flush(e);
    return e->out.err;
}

static int enc_node(struct enc *e, const char *path, const struct tree_node *n)
{
    struct jute_buf d = tree_node_data(n);
    jute_put_string(&e->out, path);
    if (d.len >= (int32_t)ENC_DIRECT) {
        jute_put_int(&e->out, d.len);
        if (enc_flush(e) != 0 || enc_emit(e, d.data, (size_t)d.len) != 0)
            return e->err;
    } else {
        jute_put_buffer(&e->out, d.data, d.len);
    }
    /* A list made after the ACL section was written keeps its index, as ZooKeeper's fuzzy
     * snapshots do: both loaders take an index the section lacks (ZooKeeper ignores it,
     * Paddock gives the node an empty list) until the replayed create/setACL sets it. Not
     * -1, which both would read as the open ACL. */
    jute_put_long(&e->out, tree_node_acl_index(e->t, n));
    struct jute_stat_persisted st;
    tree_node_stat_persisted(n, &st);
    jute_put_stat_persisted(&e->out, &st);
    if (e->out.len >= ENC_CHUNK)
        return enc_flush(e);
    return e->out.err;
}

static int enc_node_cb(const char *path, size_t len, const struct tree_node *n, void *arg)
{
    (void)len;
    return enc_node(arg, path, n);
}

/* The FileHeader, the sessions and the ACL cache: everything before the nodes. */
static int enc_begin(struct enc *e, const struct snap_params *p)
{
    jute_put_int(&e->out, SNAP_MAGIC);
    jute_put_int(&e->out, SNAP_VERSION);
    jute_put_long(&e->out, SNAP_DBID);
    /* SerializeUtils.serializeSnapshot: the sessions */
    jute_put_int(&e->out, (int32_t)p->n_sessions);
    for (size_t i = 0; i < p->n_sessions; i++) {
        jute_put_long(&e->out, p->sessions[i].id);
        jute_put_int(&e->out, p->sessions[i].timeout_ms);
        if (e->out.len >= ENC_CHUNK && enc_flush(e) != 0)
            return e->err;
    }
    /* DataTree.serialize: the ACL cache (count, entries), then the nodes */
    int32_t n_acls = 0;
    int rc = tree_foreach_acl(e->t, count_acl, &n_acls);
    jute_put_int(&e->out, n_acls);
    if (rc == 0)
        rc = tree_foreach_acl(e->t, enc_acl, e);
    if (rc != 0 && !e->err)
        e->err = rc;
    return e->err;
}

/* After the nodes: their terminator, the seal, then the digest at `zxid` and its seal. */
static int enc_end(struct enc *e, bool no_digest, int64_t zxid)
{
    jute_put_string(&e->out, "/");
    if (enc_seal(e) != 0 || no_digest)
        return e->err;
    /* DataTree.serializeZxidDigest: the last processed zxid and the tree's digest at the
     * time; ZooKeeper writes an empty one (0, version, 0) before its first txn. */
    bool empty = zxid == 0;
    jute_put_long(&e->out, empty ? 0 : zxid);
    jute_put_int(&e->out, TREE_DIGEST_VERSION);
    jute_put_long(&e->out, empty ? 0 : tree_digest(e->t));
    return enc_seal(e);
}

int snap_encode(const struct tree *t, const struct snap_params *p, snap_sink_fn sink, void *ctx)
{
    struct enc e = {.adler = adler32(0L, Z_NULL, 0), .sink = sink, .ctx = ctx, .t = t};
    jute_out_init(&e.out);
    if (enc_begin(&e, p) == 0) {
        int rc = tree_foreach_node(t, enc_node_cb, &e);
        if (rc != 0 && !e.err)
            e.err = rc;
        if (!e.err)
            enc_end(&e, p->no_digest, p->zxid);
    }
    jute_out_close(&e.out);
    return e.err;
}

struct snap_enc {
    struct enc e;
    struct tree_walk *w; /* owned; follows the tree's changes */
    bool no_digest;
    bool is_done;
    int64_t n_nodes;
};

int snap_enc_new(struct tree *t, const struct snap_params *p, snap_sink_fn sink, void *ctx,
                 struct snap_enc **out)
{
    *out = NULL;
    struct snap_enc *se = pd_calloc(1, sizeof(*se));
    if (!se)
        return PD_ENOMEM;
    se->e = (struct enc){.adler = adler32(0L, Z_NULL, 0), .sink = sink, .ctx = ctx, .t = t};
    jute_out_init(&se->e.out);
    se->no_digest = p->no_digest;
    int rc = tree_walk_new(t, p->zxid, &se->w);
    if (rc == 0)
        rc = enc_begin(&se->e, p);
    if (rc == 0)
        rc = enc_flush(&se->e);
    if (rc != 0) {
        snap_enc_free(se);
        return rc;
    }
    *out = se;
    return 0;
}

int snap_enc_step(struct snap_enc *se, int64_t max_nodes, int64_t last_zxid)
{
    struct enc *e = &se->e;
    if (e->err)
        return e->err;
    if (se->is_done)
        return 1;
    for (int64_t i = 0; i < max_nodes; i++) {
        const char *path;
        size_t len;
        const struct tree_node *n;
        int rc = tree_walk_next(se->w, &path, &len, &n);
        if (rc < 0) {
            e->err = rc;
            return rc;
        }
        if (rc == 2)
            continue; /* skipped nodes created since the start: counts as a step */
        if (rc == 0) {
            if (enc_end(e, se->no_digest, last_zxid) != 0)
                return e->err;
            se->is_done = true;
            return 1;
        }
        se->n_nodes++;
        if (enc_node(e, path, n) != 0)
            return e->err;
    }
    return enc_flush(e);
}

int64_t snap_enc_nodes(const struct snap_enc *se)
{
    return se->n_nodes;
}

void snap_enc_free(struct snap_enc *se)
{
    if (!se)
        return;
    tree_walk_free(se->w);
    jute_out_close(&se->e.out);
    pd_free(se);
}

static int buf_sink(void *ctx, const void *data, size_t len)
{
    struct jute_out *out = ctx;
    jute_put_raw(out, data, len);
    return out->err;
}

int snap_encode_buf(const struct tree *t, const struct snap_params *p, struct jute_out *out)
{
    return snap_encode(t, p, buf_sink, out);
}

/* Snapshot bytes are sent to the disk in steps of this size as they are written (see
 * snap_file_append). */
#define SNAP_WRITEBACK_STEP (1u << 20)

struct snap_file {
    struct file_fs *fs;
    struct file *f;
    uint64_t off;
    uint64_t wb_started; /* write-back started for [0, wb_started) */
    uint64_t wb_done;    /* and waited for in [0, wb_done) */
    int err;             /* sticky: the first failed write */
    char dir[PATH_BUFLEN];
    char tmp[PATH_BUFLEN];
    char fin[PATH_BUFLEN];
};

int snap_file_open(struct file_fs *fs, const char *dir, int64_t zxid, struct snap_file **out,
                   char *errmsg, size_t errlen)
{
    *out = NULL;
    struct snap_file *sf = pd_calloc(1, sizeof(*sf));
    if (!sf) {
        storage_errf(errmsg, errlen, "out of memory");
        return PD_ENOMEM;
    }
    sf->fs = fs;
    uint64_t z = (uint64_t)zxid; /* Long.toHexString: two's complement, no leading zeros */
    if ((size_t)snprintf(sf->dir, sizeof(sf->dir), "%s", dir) >= sizeof(sf->dir) ||
        (size_t)snprintf(sf->tmp, sizeof(sf->tmp), "%s/" SNAP_TMP_PREFIX "%" PRIx64, dir, z) >=
            sizeof(sf->tmp) ||
        (size_t)snprintf(sf->fin, sizeof(sf->fin), "%s/" SNAP_PREFIX "%" PRIx64, dir, z) >=
            sizeof(sf->fin)) {
        storage_errf(errmsg, errlen, "%s: directory name too long", dir);
        pd_free(sf);
        return PD_ETOOBIG;
    }
    int rc = fs->open(fs, sf->tmp, FILE_CREATE | FILE_TRUNC | FILE_RDWR, &sf->f);
    if (rc != 0) {
        storage_errf(errmsg, errlen, "%s: create: %s", sf->tmp, pd_strerror(rc));
        pd_free(sf);
        return rc;
    }
    *out = sf;
    return 0;
}

/*
 * Left to the kernel, a snapshot's tens of MB stay dirty in memory until the fsync at the
 * end, which then sends them all to the disk at once; the txn log's fsyncs queue behind that
 * pile, and every write acknowledged meanwhile waits for it (22-55 ms at 300k-600k nodes on
 * the development VM). Sending each step to the disk as soon as it is written, and waiting
 * for the step before, keeps at most about two steps in flight, so a log fsync waits for at
 * most that much snapshot data. Any error from it is the snapshot's (file.h).
 */
static int trickle(struct snap_file *sf)
{
    if (sf->off - sf->wb_started < SNAP_WRITEBACK_STEP)
        return 0;
    struct file_fs *fs = sf->fs;
    int rc = fs->writeback(fs, sf->f, sf->wb_started, sf->off - sf->wb_started, false);
    if (rc == 0 && sf->wb_started > sf->wb_done)
        rc = fs->writeback(fs, sf->f, sf->wb_done, sf->wb_started - sf->wb_done, true);
    sf->wb_done = sf->wb_started;
    sf->wb_started = sf->off;
    return rc;
}

int snap_file_append(struct snap_file *sf, const void *data, size_t len)
{
    if (sf->err || len == 0)
        return sf->err;
    int rc = sf->fs->pwrite(sf->fs, sf->f, data, len, sf->off);
    if (rc == 0) {
        sf->off += len;
        rc = trickle(sf);
    }
    if (rc != 0)
        sf->err = rc;
    return rc;
}

static int file_sink(void *ctx, const void *data, size_t len)
{
    return snap_file_append(ctx, data, len);
}

void snap_file_abort(struct snap_file *sf)
{
    if (!sf)
        return;
    sf->fs->close(sf->fs, sf->f);
    sf->fs->unlink(sf->fs, sf->tmp); /* best effort: a leftover is ignored by every reader */
    pd_free(sf);
}

int snap_file_commit(struct snap_file *sf, char *errmsg, size_t errlen)
{
    struct file_fs *fs = sf->fs;
    const char *what = "write";
    int rc = sf->err;
    if (rc == 0) {
        what = "fsync";
        rc = fs->sync(fs, sf->f);
    }
    int crc = fs->close(fs, sf->f);
    if (rc == 0 && crc != 0) {
        what = "close";
        rc = crc;
    }
    if (rc == 0) {
        what = "rename";
        rc = fs->rename(fs, sf->tmp, sf->fin);
    }
    if (rc != 0) {
        storage_errf(errmsg, errlen, "%s: %s: %s", sf->tmp, what, pd_strerror(rc));
        fs->unlink(fs, sf->tmp); /* best effort */
        pd_free(sf);
        return rc;
    }
    rc = fs->sync_dir(fs, sf->dir);
    if (rc != 0)
        storage_errf(errmsg, errlen, "%s: fsync after renaming %s: %s", sf->dir, sf->fin,
                     pd_strerror(rc));
    pd_free(sf);
    return rc;
}

int snap_write(struct file_fs *fs, const char *dir, const struct tree *t,
               const struct snap_params *p, char *errmsg, size_t errlen)
{
    struct snap_file *sf;
    int rc = snap_file_open(fs, dir, p->zxid, &sf, errmsg, errlen);
    if (rc != 0)
        return rc;
    rc = snap_encode(t, p, file_sink, sf);
    if (rc != 0 && !sf->err) {
        /* the encoder failed (out of memory), not the file */
        storage_errf(errmsg, errlen, "%s: encoding: %s", sf->tmp, pd_strerror(rc));
        snap_file_abort(sf);
        return rc;
    }
    return snap_file_commit(sf, errmsg, errlen);
}

int snap_write_buf(struct file_fs *fs, const char *dir, int64_t zxid, const void *data, size_t len,
                   char *errmsg, size_t errlen)
{
    struct snap_file *sf;
    int rc = snap_file_open(fs, dir, zxid, &sf, errmsg, errlen);
    if (rc != 0)
        return rc;
    snap_file_append(sf, data, len);
    return snap_file_commit(sf, errmsg, errlen);
}

/* ---- reading ---------------------------------------------------------------------------- */

struct rd {
    snap_source_fn src;
    void *ctx;
    uint8_t *buf; /* window (owned) */
    size_t cap;
    size_t pos;    /* next unread byte */
    size_t end;    /* one past the last byte read from the source */
    size_t ck;     /* buf[ck, pos) is consumed but not yet in adler */
    uLong adler;   /* Adler-32 of every byte consumed before buf[ck] */
    uint64_t base; /* stream offset of buf[0] */
    bool eof;
    size_t max_field;
    int err; /* sticky */
    char *errmsg;
    size_t errlen;
};

static uint64_t rd_off(const struct rd *r)
{
    return r->base + r->pos;
}

/* Sets the sticky error with a message naming the stream offset `off`. */
static int rd_vfail(struct rd *r, uint64_t off, int err, const char *fmt, va_list ap)
{
    if (r->err)
        return r->err;
    r->err = err;
    if (r->errmsg && r->errlen) {
        int n = snprintf(r->errmsg, r->errlen, "at byte %" PRIu64 ": ", off);
        if (n >= 0 && (size_t)n < r->errlen)
            vsnprintf(r->errmsg + n, r->errlen - (size_t)n, fmt, ap);
    }
    return err;
}

static int rd_fail_at(struct rd *r, uint64_t off, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int rd_fail_at(struct rd *r, uint64_t off, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rd_vfail(r, off, err, fmt, ap);
    va_end(ap);
    return r->err;
}

/* An error at the current offset. */
static int rd_fail(struct rd *r, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int rd_fail(struct rd *r, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rd_vfail(r, rd_off(r), err, fmt, ap);
    va_end(ap);
    return r->err;
}

/* Makes n unread bytes available at buf + pos, or fails; with at_eof, running out is no error. */
static int rd_fill_ex(struct rd *r, size_t n, bool *at_eof)
{
    if (r->err)
        return r->err;
    if (r->end - r->pos >= n)
        return 0;
    /* Fold what was consumed into the checksum, then move the unread bytes to the front. */
    r->adler = adler32_z(r->adler, r->buf + r->ck, r->pos - r->ck);
    memmove(r->buf, r->buf + r->pos, r->end - r->pos);
    r->base += r->pos;
    r->end -= r->pos;
    r->pos = r->ck = 0;
    if (n > r->cap) {
        size_t cap = r->cap * 2 > n ? r->cap * 2 : n;
        uint8_t *nb = pd_realloc(r->buf, cap);
        if (!nb)
            return rd_fail(r, PD_ENOMEM, "out of memory");
        r->buf = nb;
        r->cap = cap;
    }
    while (r->end < n && !r->eof) {
        size_t got = 0;
        int rc = r->src(r->ctx, r->buf + r->end, r->cap - r->end, &got);
        if (rc != 0)
            return rd_fail(r, rc, "read: %s", pd_strerror(rc));
        if (got == 0)
            r->eof = true;
        r->end += got;
    }
    if (r->end < n) {
        if (at_eof && r->end == 0) {
            *at_eof = true;
            return 0;
        }
        r->pos = r->end;
        return rd_fail(r, PD_ECORRUPT, "truncated: %zu more bytes expected", n - r->end);
    }
    return 0;
}

static int rd_fill(struct rd *r, size_t n)
{
    return rd_fill_ex(r, n, NULL);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int32_t take_int(struct rd *r)
{
    uint32_t v = be32(r->buf + r->pos);
    r->pos += 4;
    return (int32_t)v;
}

static int64_t take_long(struct rd *r)
{
    uint64_t v = (uint64_t)be32(r->buf + r->pos) << 32 | be32(r->buf + r->pos + 4);
    r->pos += 8;
    int64_t s;
    memcpy(&s, &v, sizeof(s));
    return s;
}

static int32_t rd_int(struct rd *r)
{
    return rd_fill(r, 4) != 0 ? 0 : take_int(r);
}

static int64_t rd_long(struct rd *r)
{
    return rd_fill(r, 8) != 0 ? 0 : take_long(r);
}

/* A length prefix of a buffer or string: -1 (null) or 0..max_field. */
static int32_t rd_len(struct rd *r, const char *what)
{
    int32_t len = rd_int(r);
    if (r->err)
        return -1;
    if (len < -1) {
        r->pos -= 4;
        rd_fail(r, PD_ECORRUPT, "%s: negative length %" PRId32, what, len);
        return -1;
    }
    if (len > 0 && (size_t)len > r->max_field) {
        r->pos -= 4;
        rd_fail(r, PD_ETOOBIG, "%s: length %" PRId32 " over the limit of %zu", what, len,
                r->max_field);
        return -1;
    }
    return len;
}

/*
 * A string into `a` (NUL-terminated), refusing null and embedded NULs. NULL
 * on error (r->err set).
 */
static char *rd_string(struct rd *r, struct arena *a, const char *what)
{
    int32_t len = rd_len(r, what);
    if (r->err)
        return NULL;
    if (len < 0) {
        rd_fail(r, PD_ECORRUPT, "%s: null string", what);
        return NULL;
    }
    if (rd_fill(r, (size_t)len) != 0)
        return NULL;
    if (memchr(r->buf + r->pos, '\0', (size_t)len)) {
        rd_fail(r, PD_ECORRUPT, "%s: NUL byte in string", what);
        return NULL;
    }
    char *s = arena_alloc(a, (size_t)len + 1);
    if (!s) {
        rd_fail(r, PD_ENOMEM, "out of memory");
        return NULL;
    }
    memcpy(s, r->buf + r->pos, (size_t)len);
    s[len] = '\0';
    r->pos += (size_t)len;
    return s;
}

/* SnapStream.checkSealIntegrity: the stored checksum must be the Adler-32 of all before it. */
static int rd_seal(struct rd *r, int64_t *checksum)
{
    if (r->err)
        return r->err;
    r->adler = adler32_z(r->adler, r->buf + r->ck, r->pos - r->ck);
    r->ck = r->pos;
    uLong expect = r->adler;
    uint64_t at = rd_off(r);
    int64_t stored = rd_long(r);
    /* the "/" after it is read and ignored, as ZooKeeper does */
    int32_t len = rd_len(r, "seal");
    if (len > 0 && rd_fill(r, (size_t)len) == 0)
        r->pos += (size_t)len;
    if (r->err)
        return r->err;
    if ((uint64_t)stored != (uint64_t)expect) {
        return rd_fail_at(r, at, PD_ECORRUPT, "checksum mismatch: stored %" PRIx64 ", computed %lx",
                          (uint64_t)stored, (unsigned long)expect);
    }
    *checksum = stored;
    return 0;
}

/* Long.parseLong(s, 16) for version-1 digests. */
static bool parse_hex_long(const char *s, int64_t *out)
{
    bool neg = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    if (!*s)
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        int d = pd_hex_digit(*s);
        if (d < 0)
            return false;
        if (v > (UINT64_MAX >> 4))
            return false;
        v = v << 4 | (uint64_t)d;
    }
    if (v > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
        return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

static int parse(struct rd *r, const struct snap_visitor *v, void *arg, struct snap_info *info,
                 bool sum_digest)
{
    struct arena a;
    arena_init(&a, 4096);
    struct jute_acl *items = NULL; /* one ACL list's items (owned, grown) */
    size_t items_cap = 0;
    char *path = NULL; /* the current path (owned, grown) */
    size_t path_cap = 0;
    uint64_t digest_sum = 0;
    int rc = 0;

    /* FileHeader */
    if (rd_fill(r, 16) != 0)
        goto out;
    info->magic = take_int(r);
    info->version = take_int(r);
    info->dbid = take_long(r);
    if (info->magic != SNAP_MAGIC) {
        r->pos -= 16;
        rd_fail(r, PD_ECORRUPT, "bad magic %08" PRIx32 " (not a snapshot)", (uint32_t)info->magic);
        goto out;
    }

    /* Sessions: ZooKeeper reads a negative count as none. */
    int32_t n = rd_int(r);
    for (int32_t i = 0; i < n && !r->err; i++) {
        if (rd_fill(r, 12) != 0)
            break;
        int64_t id = take_long(r);
        int32_t to = take_int(r);
        info->n_sessions++;
        if (v->session && (rc = v->session(arg, id, to)) != 0)
            goto out;
    }

    /* ACL cache */
    n = rd_int(r);
    for (int32_t i = 0; i < n && !r->err; i++) {
        int64_t index = rd_long(r);
        int32_t count = rd_int(r);
        if (r->err)
            break;
        if (count < 0) {
            r->pos -= 4;
            rd_fail(r, PD_ECORRUPT, "ACL %" PRId64 ": missing list", index);
            break;
        }
        struct jute_acl_vec vec = {.count = 0, .items = items};
        for (int32_t k = 0; k < count && !r->err; k++) {
            if ((size_t)k == items_cap) {
                size_t cap = items_cap ? items_cap * 2 : 8;
                struct jute_acl *ni = pd_realloc(items, cap * sizeof(*ni));
                if (!ni) {
                    rd_fail(r, PD_ENOMEM, "out of memory");
                    break;
                }
                items = vec.items = ni;
                items_cap = cap;
            }
            struct jute_acl *x = &items[k];
            x->perms = rd_int(r);
            x->id.scheme = rd_string(r, &a, "ACL scheme");
            x->id.id = rd_string(r, &a, "ACL id");
            vec.count = k + 1;
        }
        if (r->err)
            break;
        info->n_acls++;
        if (v->acl && (rc = v->acl(arg, index, &vec)) != 0)
            goto out;
        arena_reset(&a);
    }

    /* Nodes, until the path "/" */
    while (!r->err) {
        int32_t plen = rd_len(r, "path");
        if (r->err)
            break;
        if (plen < 0) {
            r->pos -= 4;
            rd_fail(r, PD_ECORRUPT, "null path");
            break;
        }
        if (rd_fill(r, (size_t)plen) != 0)
            break;
        const uint8_t *pp = r->buf + r->pos;
        if (plen == 1 && pp[0] == '/') {
            r->pos += 1;
            break;
        }
        if (memchr(pp, '\0', (size_t)plen)) {
            rd_fail(r, PD_ECORRUPT, "NUL byte in a path");
            break;
        }
        if ((size_t)plen + 1 > path_cap) {
            size_t cap = path_cap * 2 > (size_t)plen + 1 ? path_cap * 2 : (size_t)plen + 1;
            char *np = pd_realloc(path, cap < 256 ? 256 : cap);
            if (!np) {
                rd_fail(r, PD_ENOMEM, "out of memory");
                break;
            }
            path = np;
            path_cap = cap < 256 ? 256 : cap;
        }
        memcpy(path, pp, (size_t)plen);
        path[plen] = '\0';
        r->pos += (size_t)plen;
        /* data, acl, StatPersisted: one fill so the data stays in the window */
        int32_t dlen = rd_len(r, "data");
        if (r->err || rd_fill(r, (size_t)(dlen > 0 ? dlen : 0) + 8 + 60) != 0)
            break;
        struct jute_buf data = {.data = dlen >= 0 ? r->buf + r->pos : NULL, .len = dlen};
        r->pos += (size_t)(dlen > 0 ? dlen : 0);
        int64_t acl = take_long(r);
        struct jute_in in;
        jute_in_init(&in, r->buf + r->pos, 60, NULL);
        struct jute_stat_persisted st;
        jute_get_stat_persisted(&in, &st);
        r->pos += 60;
        info->n_nodes++;
        if (sum_digest)
            digest_sum += tree_digest_node(path, (size_t)plen, data, &st);
        if (v->node && (rc = v->node(arg, path, (size_t)plen, data, acl, &st)) != 0)
            goto out;
    }

    if (rd_seal(r, &info->checksum) != 0)
        goto out;
    /* The ZxidDigest, if any: nothing after the first seal means a snapshot without one. */
    bool at_eof = false;
    if (rd_fill_ex(r, 1, &at_eof) != 0)
        goto out;
    if (!at_eof) {
        info->has_digest = true;
        info->digest_zxid = rd_long(r);
        info->digest_version = rd_int(r);
        if (info->digest_version < 2) {
            char *hex = rd_string(r, &a, "digest");
            if (hex && !parse_hex_long(hex, &info->digest))
                rd_fail(r, PD_ECORRUPT, "digest: not a hex number");
        } else {
            info->digest = rd_long(r);
        }
        if (rd_seal(r, &info->checksum) != 0)
            goto out;
    }
    info->size_bytes = rd_off(r);
    if (sum_digest) {
        int64_t d;
        memcpy(&d, &digest_sum, sizeof(d));
        info->tree_digest = d;
    }
out:
    pd_free(items);
    pd_free(path);
    arena_close(&a);
    if (rc == 0)
        rc = r->err;
    return rc;
}

/* Judges the stored digest against the nodes', as FileSnap.deserialize / compareSnapshotDigests. */
static void judge_digest(struct snap_info *info, int64_t file_zxid)
{
    if (!info->has_digest)
        info->digest_state = SNAP_DIGEST_NONE;
    else if (info->digest_zxid <= 0)
        info->digest_state = SNAP_DIGEST_EMPTY;
    else if (file_zxid > 0 && info->digest_zxid < file_zxid)
        info->digest_state = SNAP_DIGEST_IGNORED;
    else if (file_zxid <= 0 || info->digest_zxid != file_zxid ||
             info->digest_version != TREE_DIGEST_VERSION)
        info->digest_state = SNAP_DIGEST_DEFERRED;
    else if (info->digest == info->tree_digest)
        info->digest_state = SNAP_DIGEST_MATCH;
    else
        info->digest_state = SNAP_DIGEST_MISMATCH;
}

static int run_parse(snap_source_fn src, void *ctx, const struct snap_read_opts *o,
                     const struct snap_visitor *v, void *arg, struct snap_info *info,
                     bool sum_digest, char *errmsg, size_t errlen)
{
    static const struct snap_read_opts defaults = {0};
    if (!o)
        o = &defaults;
    struct snap_info scratch;
    if (!info)
        info = &scratch;
    memset(info, 0, sizeof(*info));
    info->zxid = o->zxid > 0 ? o->zxid : -1;
    struct rd r = {.src = src,
                   .ctx = ctx,
                   .cap = RD_CHUNK,
                   .adler = adler32(0L, Z_NULL, 0),
                   .max_field = o->max_field ? o->max_field : SNAP_MAX_FIELD_DEFAULT,
                   .errmsg = errmsg,
                   .errlen = errlen};
    if (errmsg && errlen)
        errmsg[0] = '\0';
    r.buf = pd_malloc(r.cap);
    if (!r.buf) {
        storage_errf(errmsg, errlen, "out of memory");
        return PD_ENOMEM;
    }
    int rc = parse(&r, v, arg, info, sum_digest);
    pd_free(r.buf);
    if (rc == 0 && sum_digest)
        judge_digest(info, o->zxid);
    return rc;
}

int snap_parse(snap_source_fn src, void *ctx, const struct snap_read_opts *o,
               const struct snap_visitor *v, void *arg, struct snap_info *info, char *errmsg,
               size_t errlen)
{
    static const struct snap_visitor none = {0};
    return run_parse(src, ctx, o, v ? v : &none, arg, info, true, errmsg, errlen);
}

/* Loading into a tree: sessions are kept until the whole file has been verified. */
struct dec {
    struct tree *t;
    struct snap_session *sess; /* owned */
    size_t n_sess;
    size_t cap_sess;
    char *errmsg;
    size_t errlen;
};

static int dec_session(void *arg, int64_t id, int32_t timeout_ms)
{
    struct dec *d = arg;
    if (d->n_sess == d->cap_sess) {
        size_t cap = d->cap_sess ? d->cap_sess * 2 : 64;
        struct snap_session *ns = pd_realloc(d->sess, cap * sizeof(*ns));
        if (!ns)
            return PD_ENOMEM;
        d->sess = ns;
        d->cap_sess = cap;
    }
    d->sess[d->n_sess++] = (struct snap_session){.id = id, .timeout_ms = timeout_ms};
    return 0;
}

static int dec_acl(void *arg, int64_t index, const struct jute_acl_vec *acl)
{
    struct dec *d = arg;
    int rc = tree_load_acl(d->t, index, acl);
    if (rc == PD_ECORRUPT)
        storage_errf(d->errmsg, d->errlen, "ACL index %" PRId64 ": invalid or repeated", index);
    return rc;
}

static int dec_node(void *arg, const char *path, size_t len, struct jute_buf data,
                    int64_t acl_index, const struct jute_stat_persisted *st)
{
    struct dec *d = arg;
    (void)len;
    int rc = tree_load_node(d->t, path, st, data, acl_index);
    thp_heap_poll();
    if (rc == PD_ECORRUPT)
        storage_errf(
            d->errmsg, d->errlen,
            "node \"%s\": repeated, out of order, missing its parent, or unknown ACL %" PRId64,
            path, acl_index);
    return rc;
}

int snap_decode(snap_source_fn src, void *ctx, const struct snap_read_opts *o, struct tree *t,
                snap_session_fn on_session, void *arg, struct snap_info *info, char *errmsg,
                size_t errlen)
{
    struct snap_info scratch;
    if (!info)
        info = &scratch;
    struct dec d = {.t = t, .errmsg = errmsg, .errlen = errlen};
    static const struct snap_visitor v = {.session = dec_session, .acl = dec_acl, .node = dec_node};
    int rc = tree_load_begin(t);
    /* A node record is ~128 bytes and more: this guess errs on the large side, which costs a
     * little memory and saves every rehash of the load. Failing to presize is harmless. */
    if (rc == 0 && o && o->size_hint)
        (void)tree_load_hint(t, o->size_hint / 128);
    if (rc == 0) {
        thp_heap_begin();
        rc = run_parse(src, ctx, o, &v, &d, info, false, errmsg, errlen);
        thp_heap_end();
    }
    if (rc == 0) {
        rc = tree_load_end(t);
        if (rc == PD_ECORRUPT)
            storage_errf(errmsg, errlen, "no root node");
        if (rc == 0 && tree_load_unknown_acls(t))
            pd_info("%u znodes refer to ACL lists this (fuzzy) snapshot does not hold; the "
                    "log after it sets them (as ZooKeeper: \"Ignoring acl ... as it does not "
                    "exist in the cache\")",
                    tree_load_unknown_acls(t));
    }
    if (rc == PD_ENOMEM)
        storage_errf(errmsg, errlen, "out of memory");
    if (rc == 0) {
        info->tree_digest = tree_digest(t);
        judge_digest(info, o ? o->zxid : 0);
        for (size_t i = 0; i < d.n_sess && on_session && rc == 0; i++)
            rc = on_session(arg, d.sess[i].id, d.sess[i].timeout_ms);
    }
    pd_free(d.sess);
    return rc;
}

struct mem_src {
    const uint8_t *p;
    size_t left;
};

static int mem_read(void *ctx, void *buf, size_t len, size_t *n_read)
{
    struct mem_src *m = ctx;
    size_t n = len < m->left ? len : m->left;
    memcpy(buf, m->p, n);
    m->p += n;
    m->left -= n;
    *n_read = n;
    return 0;
}

/* SnapStream.isValidCheckedStream on the last 5 bytes. */
static bool tail_ok(const uint8_t tail[5])
{
    return tail[0] == 0 && tail[1] == 0 && tail[2] == 0 && tail[3] == 1 && tail[4] == '/';
}

int snap_decode_buf(const void *data, size_t len, const struct snap_read_opts *o, struct tree *t,
                    snap_session_fn on_session, void *arg, struct snap_info *info, char *errmsg,
                    size_t errlen)
{
    if (len < 10 || !tail_ok((const uint8_t *)data + len - 5)) {
        storage_errf(errmsg, errlen, "not a complete snapshot (%zu bytes, no final \"/\")", len);
        return PD_ECORRUPT;
    }
    struct mem_src m = {.p = data, .left = len};
    return snap_decode(mem_read, &m, o, t, on_session, arg, info, errmsg, errlen);
}

/* ---- files -------------------------------------------------------------------------------- */

int64_t snap_name_zxid(const char *name)
{
    static const char prefix[] = SNAP_PREFIX;
    if (strncmp(name, prefix, sizeof(prefix) - 1) != 0)
        return -1;
    const char *s = name + sizeof(prefix) - 1;
    int64_t zxid;
    size_t n = storage_parse_hex(s, &zxid);
    /* what follows the digits is the name's business (a compression suffix), not the zxid's */
    if (n == 0 || (s[n] != '\0' && s[n] != '.'))
        return -1;
    return zxid;
}

struct drop_ctx {
    int64_t zxid;
    char **names; /* owned, with their strings */
    size_t n, cap;
};

static int note_newer(const char *name, void *arg)
{
    struct drop_ctx *d = arg;
    if (snap_name_zxid(name) <= d->zxid)
        return 0;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        char **p = pd_realloc(d->names, cap * sizeof(*p));
        if (!p)
            return PD_ENOMEM;
        d->names = p;
        d->cap = cap;
    }
    d->names[d->n] = pd_strdup(name);
    if (!d->names[d->n])
        return PD_ENOMEM;
    d->n++;
    return 0;
}

int snap_drop_newer(struct file_fs *fs, const char *dir, int64_t zxid, char *errmsg, size_t errlen)
{
    struct drop_ctx d = {.zxid = zxid};
    int rc = fs->list_dir(fs, dir, note_newer, &d);
    if (rc == PD_ENOENT)
        rc = 0;
    if (rc != 0)
        snprintf(errmsg, errlen, "listing %s: %s", dir, pd_strerror(rc));
    size_t removed = 0;
    for (size_t i = 0; i < d.n && rc == 0; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, d.names[i]);
        int urc = fs->unlink(fs, path);
        if (urc != 0 && urc != PD_ENOENT) {
            snprintf(errmsg, errlen, "removing %s: %s", path, pd_strerror(urc));
            rc = urc;
        } else {
            removed++;
        }
    }
    if (rc == 0 && removed > 0) {
        rc = fs->sync_dir(fs, dir);
        if (rc != 0)
            snprintf(errmsg, errlen, "syncing %s: %s", dir, pd_strerror(rc));
    }
    for (size_t i = 0; i < d.n; i++)
        pd_free(d.names[i]);
    pd_free(d.names);
    return rc == 0 ? (int)removed : rc;
}

/* SnapStream.getStreamMode: the last dot-separated part names gz or snappy compression. */
static bool name_compressed(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (strcasecmp(dot + 1, "gz") == 0 || strcasecmp(dot + 1, "snappy") == 0);
}

struct file_src {
    struct file_fs *fs;
    struct file *f;
    uint64_t off;
};

static int file_read(void *ctx, void *buf, size_t len, size_t *n_read)
{
    struct file_src *s = ctx;
    int rc = s->fs->pread(s->fs, s->f, buf, len, s->off, n_read);
    if (rc == 0)
        s->off += *n_read;
    return rc;
}

/* Opens path and runs ZooKeeper's validity check. 0 with *f open, or an error. */
static int open_checked(struct file_fs *fs, const char *path, struct file **f, char *errmsg,
                        size_t errlen)
{
    int rc = fs->open(fs, path, FILE_RDONLY, f);
    if (rc != 0) {
        storage_errf(errmsg, errlen, "open: %s", pd_strerror(rc));
        return rc;
    }
    uint64_t size = 0;
    uint8_t tail[5];
    size_t got = 0;
    rc = fs->size(fs, *f, &size);
    if (rc == 0 && size >= 10)
        rc = fs->pread(fs, *f, tail, 5, size - 5, &got);
    if (rc != 0) {
        storage_errf(errmsg, errlen, "read: %s", pd_strerror(rc));
    } else if (size < 10 || got != 5 || !tail_ok(tail)) {
        storage_errf(errmsg, errlen, "not a complete snapshot (%" PRIu64 " bytes, no final \"/\")",
                     size);
        rc = PD_ECORRUPT;
    }
    if (rc != 0)
        fs->close(fs, *f);
    return rc;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Decodes an open, checked file; closes it. */
static int load_open(struct file_fs *fs, struct file *f, const char *path, struct tree *t,
                     snap_session_fn on_session, void *arg, struct snap_info *info, char *errmsg,
                     size_t errlen)
{
    struct file_src s = {.fs = fs, .f = f};
    int64_t zxid = snap_name_zxid(base_name(path));
    struct snap_read_opts o = {.zxid = zxid > 0 ? zxid : 0};
    uint64_t size = 0;
    if (fs->size(fs, f, &size) == 0)
        o.size_hint = size;
    int rc = snap_decode(file_read, &s, &o, t, on_session, arg, info, errmsg, errlen);
    fs->close(fs, f);
    if (rc == 0 && info) {
        info->zxid = zxid;
        snprintf(info->name, sizeof(info->name), "%s", base_name(path));
    }
    return rc;
}

int snap_load_file(struct file_fs *fs, const char *path, struct tree *t, snap_session_fn on_session,
                   void *arg, struct snap_info *info, char *errmsg, size_t errlen)
{
    struct file *f;
    int rc = open_checked(fs, path, &f, errmsg, errlen);
    if (rc != 0)
        return rc;
    return load_open(fs, f, path, t, on_session, arg, info, errmsg, errlen);
}

int snap_parse_file(struct file_fs *fs, const char *path, const struct snap_visitor *v, void *arg,
                    struct snap_info *info, char *errmsg, size_t errlen)
{
    struct snap_info scratch;
    if (!info)
        info = &scratch;
    struct file *f;
    int rc = open_checked(fs, path, &f, errmsg, errlen);
    if (rc != 0)
        return rc;
    struct file_src s = {.fs = fs, .f = f};
    int64_t zxid = snap_name_zxid(base_name(path));
    struct snap_read_opts o = {.zxid = zxid > 0 ? zxid : 0};
    rc = snap_parse(file_read, &s, &o, v, arg, info, errmsg, errlen);
    fs->close(fs, f);
    info->zxid = zxid;
    snprintf(info->name, sizeof(info->name), "%s", base_name(path));
    return rc;
}

struct cand {
    int64_t zxid;
    char *name; /* owned */
};

struct cands {
    struct cand *v; /* owned */
    size_t n;
    size_t cap;
};

static int list_cand(const char *name, void *arg)
{
    struct cands *c = arg;
    int64_t zxid = snap_name_zxid(name);
    if (zxid < 0)
        return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct cand *nv = pd_realloc(c->v, cap * sizeof(*nv));
        if (!nv)
            return PD_ENOMEM;
        c->v = nv;
        c->cap = cap;
    }
    char *dup = pd_strdup(name);
    if (!dup)
        return PD_ENOMEM;
    c->v[c->n++] = (struct cand){.zxid = zxid, .name = dup};
    return 0;
}

static int cmp_cand_desc(const void *a, const void *b)
{
    int64_t x = ((const struct cand *)a)->zxid, y = ((const struct cand *)b)->zxid;
    if (x != y)
        return (x < y) - (x > y);
    return strcmp(((const struct cand *)a)->name, ((const struct cand *)b)->name);
}

int snap_find_newest(struct file_fs *fs, const char *dir, struct tree *t,
                     snap_session_fn on_session, void *arg, struct snap_info *info, char *errmsg,
                     size_t errlen)
{
    struct cands c = {0};
    int rc = fs->list_dir(fs, dir, list_cand, &c);
    if (rc != 0) {
        storage_errf(errmsg, errlen, "%s: list: %s", dir, pd_strerror(rc));
        goto out;
    }
    if (c.n > 1)
        qsort(c.v, c.n, sizeof(*c.v), cmp_cand_desc);
    int tried = 0, skipped = 0;
    rc = PD_ENOENT;
    for (size_t i = 0; i < c.n && tried < MAX_SCAN; i++) {
        char path[PATH_BUFLEN], why[256];
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, c.v[i].name) >= sizeof(path)) {
            storage_errf(errmsg, errlen, "%s: directory name too long", dir);
            rc = PD_ETOOBIG;
            goto out;
        }
        if (name_compressed(c.v[i].name)) {
            pd_warn("snapshot %s: compressed snapshots are not supported, skipped", path);
            skipped++;
            continue;
        }
        struct file *f;
        int vrc = open_checked(fs, path, &f, why, sizeof(why));
        if (vrc == PD_ENOMEM) {
            rc = vrc;
            storage_errf(errmsg, errlen, "%s: %s", path, why);
            goto out;
        }
        if (vrc != 0) {
            pd_warn("snapshot %s: invalid, skipped: %s", path, why);
            skipped++;
            continue;
        }
        tried++;
        rc = load_open(fs, f, path, t, on_session, arg, info, why, sizeof(why));
        if (rc == 0)
            goto out;
        if (rc != PD_ECORRUPT && rc != PD_ETOOBIG && rc != PD_EIO) {
            /* out of memory, or the caller's callback: not the file's fault */
            storage_errf(errmsg, errlen, "%s: %s", path, why);
            goto out;
        }
        pd_warn("snapshot %s: problem reading it, trying an older one: %s", path, why);
    }
    if (tried == 0) {
        rc = PD_ENOENT;
        storage_errf(errmsg, errlen, "%s: no valid snapshot (%d candidates skipped)", dir, skipped);
    } else {
        rc = PD_ECORRUPT;
        storage_errf(errmsg, errlen, "%s: not able to find a valid snapshot (%d tried)", dir,
                     tried);
    }
out:
    for (size_t i = 0; i < c.n; i++)
        pd_free(c.v[i].name);
    pd_free(c.v);
    return rc;
}
