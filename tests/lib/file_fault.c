/*
 * In-memory file backend with countdown faults and crash simulation
 * (file_fault.h). Internals use plain malloc and abort on OOM: this is test
 * scaffolding, and keeping it out of pd_malloc lets OOM sweeps fail only the
 * code under test.
 *
 * Model: an inode holds its current bytes and its durable bytes, plus the
 * list of data operations (writes, size changes) since the last sync. The
 * namespace is a list of (path, inode) entries, current and durable, plus
 * the list of name operations since the last sync_dir of their directory.
 */
#include "file_fault.h"

#include "common/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECTOR 512

enum op_kind { OP_WRITE, OP_SIZE };

struct data_op {
    struct data_op *next;
    enum op_kind kind;
    uint64_t off;  /* OP_WRITE: offset; OP_SIZE: the new size */
    size_t len;    /* OP_WRITE */
    uint8_t *data; /* OP_WRITE: owned copy */
};

struct inode {
    struct inode *next_all; /* every inode, for freeing */
    bool is_dir;
    uint8_t *data; /* current contents */
    uint64_t size;
    uint8_t *ddata; /* durable contents */
    uint64_t dsize;
    struct data_op *ops, **ops_tail; /* since the last sync */
    bool marked;                     /* crash: reachable */
    /* Linux's errseq_t of the page cache: write-back errors are counted here and each
     * open handle reports every one it has not seen yet, once, to its next sync. */
    unsigned wb_err;   /* write-back errors so far */
    int wb_errno;      /* the last one */
    bool wb_err_seen;  /* some handle has reported the last one */
};

struct entry {
    char *path;
    struct inode *ino;
};

struct names {
    struct entry *v;
    size_t n, cap;
};

enum name_kind { NM_CREATE, NM_RENAME, NM_UNLINK };

struct name_op {
    struct name_op *next;
    enum name_kind kind;
    char *path;  /* created / unlinked / rename source */
    char *path2; /* rename target */
    struct inode *ino;
};

struct file {
    struct inode *ino;
    unsigned gen;     /* the backend's generation when opened */
    unsigned wb_seen; /* ino->wb_err as far as this handle has reported it */
};

struct file_fault {
    struct file_fs fs; /* first: file_fs * -> file_fault * */
    struct inode *inodes;
    struct names cur, durable;
    struct name_op *nops, **nops_tail;
    unsigned gen;
    uint64_t rng;
    uint64_t capacity;
    struct fault faults[FF_N_KINDS];
    int fault_err[FF_N_KINDS];
    long calls[FF_N_KINDS];
};

/* ---- helpers ---------------------------------------------------------------- */

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        abort();
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

static uint64_t rnd(struct file_fault *ff)
{
    /* xorshift64* */
    uint64_t x = ff->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    ff->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static struct file_fault *FF(struct file_fs *fs)
{
    return (struct file_fault *)fs;
}

static int tick(struct file_fault *ff, enum file_fault_kind k)
{
    ff->calls[k]++;
    return fault_tick(&ff->faults[k]) ? ff->fault_err[k] : 0;
}

/* The directory part of path ("" for "/x" and "x"). */
static size_t dir_len(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? (size_t)(s - path) : 0;
}

static bool in_dir(const char *path, const char *dir)
{
    size_t dl = strlen(dir);
    while (dl > 0 && dir[dl - 1] == '/')
        dl--;
    return dir_len(path) == dl && strncmp(path, dir, dl) == 0;
}

static struct entry *find(struct names *nm, const char *path)
{
    for (size_t i = 0; i < nm->n; i++)
        if (strcmp(nm->v[i].path, path) == 0)
            return &nm->v[i];
    return NULL;
}

static void names_add(struct names *nm, const char *path, struct inode *ino)
{
    if (nm->n == nm->cap) {
        nm->cap = nm->cap ? 2 * nm->cap : 16;
        nm->v = xrealloc(nm->v, nm->cap * sizeof(*nm->v));
    }
    nm->v[nm->n++] = (struct entry){xstrdup(path), ino};
}

static void names_del(struct names *nm, struct entry *e)
{
    free(e->path);
    *e = nm->v[--nm->n];
}

static void names_clear(struct names *nm)
{
    for (size_t i = 0; i < nm->n; i++)
        free(nm->v[i].path);
    nm->n = 0;
}

static void names_copy(struct names *dst, const struct names *src)
{
    names_clear(dst);
    for (size_t i = 0; i < src->n; i++)
        names_add(dst, src->v[i].path, src->v[i].ino);
}

/* `dir` names an existing directory ("" and "/" are the root). */
static bool dir_exists(struct file_fault *ff, const char *dir)
{
    if (dir[0] == '\0' || strcmp(dir, "/") == 0)
        return true;
    struct entry *e = find(&ff->cur, dir);
    return e && e->ino->is_dir;
}

/* A parent directory exists (the root always does). */
static bool parent_exists(struct file_fault *ff, const char *path)
{
    size_t dl = dir_len(path);
    if (dl == 0)
        return true;
    char *d = xmalloc(dl + 1);
    memcpy(d, path, dl);
    d[dl] = '\0';
    struct entry *e = find(&ff->cur, d);
    free(d);
    return e && e->ino->is_dir;
}

static struct inode *inode_new(struct file_fault *ff, bool is_dir)
{
    struct inode *ino = xmalloc(sizeof(*ino));
    *ino = (struct inode){.is_dir = is_dir};
    ino->ops_tail = &ino->ops;
    ino->next_all = ff->inodes;
    ff->inodes = ino;
    return ino;
}

static void ops_free(struct inode *ino)
{
    struct data_op *o = ino->ops;
    while (o) {
        struct data_op *next = o->next;
        free(o->data);
        free(o);
        o = next;
    }
    ino->ops = NULL;
    ino->ops_tail = &ino->ops;
}

static void inode_free(struct inode *ino)
{
    ops_free(ino);
    free(ino->data);
    free(ino->ddata);
    free(ino);
}

static void add_op(struct inode *ino, enum op_kind kind, uint64_t off, const void *data, size_t len)
{
    struct data_op *o = xmalloc(sizeof(*o));
    *o = (struct data_op){.kind = kind, .off = off, .len = len};
    if (kind == OP_WRITE) {
        o->data = xmalloc(len);
        memcpy(o->data, data, len);
    }
    *ino->ops_tail = o;
    ino->ops_tail = &o->next;
}

static void name_op(struct file_fault *ff, enum name_kind kind, const char *path, const char *path2,
                    struct inode *ino)
{
    struct name_op *o = xmalloc(sizeof(*o));
    *o = (struct name_op){.kind = kind, .path = xstrdup(path), .ino = ino};
    o->path2 = path2 ? xstrdup(path2) : NULL;
    *ff->nops_tail = o;
    ff->nops_tail = &o->next;
}

static void name_op_free(struct name_op *o)
{
    free(o->path);
    free(o->path2);
    free(o);
}

/* Applies a name op to a namespace. */
static void apply_name_op(struct names *nm, const struct name_op *o)
{
    struct entry *e;
    switch (o->kind) {
    case NM_CREATE:
        if (!find(nm, o->path))
            names_add(nm, o->path, o->ino);
        break;
    case NM_UNLINK:
        if ((e = find(nm, o->path)) != NULL)
            names_del(nm, e);
        break;
    case NM_RENAME:
        if ((e = find(nm, o->path2)) != NULL)
            names_del(nm, e);
        if ((e = find(nm, o->path)) != NULL)
            names_del(nm, e);
        names_add(nm, o->path2, o->ino);
        break;
    }
}

/* Sets a byte array's size, zero-filling growth. */
static void resize(uint8_t **data, uint64_t *size, uint64_t n)
{
    if (n > *size) {
        *data = xrealloc(*data, (size_t)n);
        memset(*data + *size, 0, (size_t)(n - *size));
    }
    *size = n;
}

static void write_at(uint8_t **data, uint64_t *size, uint64_t off, const uint8_t *src, size_t len)
{
    if (off + len > *size)
        resize(data, size, off + len);
    if (len)
        memcpy(*data + off, src, len);
}

uint64_t file_fault_used(const struct file_fault *ff)
{
    uint64_t used = 0;
    for (size_t i = 0; i < ff->cur.n; i++)
        used += ff->cur.v[i].ino->size;
    return used;
}

/* PD_ENOSPC if growing ino to new_size would pass the capacity. */
static int check_space(struct file_fault *ff, struct inode *ino, uint64_t new_size)
{
    if (!ff->capacity || new_size <= ino->size)
        return 0;
    return file_fault_used(ff) + (new_size - ino->size) > ff->capacity ? PD_ENOSPC : 0;
}

static int handle_ok(struct file_fault *ff, struct file *f)
{
    return f->gen == ff->gen ? 0 : PD_EIO;
}

/* ---- file_fs ------------------------------------------------------------------ */

static int ff_open(struct file_fs *fs, const char *path, int flags, struct file **out)
{
    struct file_fault *ff = FF(fs);
    int err = tick(ff, FF_OPEN);
    if (err)
        return err;
    struct entry *e = find(&ff->cur, path);
    if (e && (flags & FILE_CREATE) && (flags & FILE_EXCL))
        return PD_EEXIST;
    if (e && e->ino->is_dir)
        return PD_EIO;
    struct inode *ino;
    if (e) {
        ino = e->ino;
    } else {
        if (!(flags & FILE_CREATE))
            return PD_ENOENT;
        if (!parent_exists(ff, path))
            return PD_ENOENT;
        ino = inode_new(ff, false);
        names_add(&ff->cur, path, ino);
        name_op(ff, NM_CREATE, path, NULL, ino);
    }
    if ((flags & FILE_TRUNC) && ino->size) {
        ino->size = 0;
        add_op(ino, OP_SIZE, 0, NULL, 0);
    }
    struct file *f = xmalloc(sizeof(*f));
    f->ino = ino;
    f->gen = ff->gen;
    /* errseq_sample(): an error nobody has reported yet is reported to the new handle too. */
    f->wb_seen = ino->wb_err_seen ? ino->wb_err : 0;
    *out = f;
    return 0;
}

static int ff_close(struct file_fs *fs, struct file *f)
{
    struct file_fault *ff = FF(fs);
    int err = tick(ff, FF_CLOSE);
    free(f);
    return err;
}

static int ff_pread(struct file_fs *fs, struct file *f, void *buf, size_t len, uint64_t off,
                    size_t *n_read)
{
    struct file_fault *ff = FF(fs);
    *n_read = 0;
    int err = handle_ok(ff, f);
    if (!err)
        err = tick(ff, FF_READ);
    if (err)
        return err;
    struct inode *ino = f->ino;
    if (off >= ino->size)
        return 0;
    size_t n = ino->size - off < len ? (size_t)(ino->size - off) : len;
    memcpy(buf, ino->data + off, n);
    *n_read = n;
    return 0;
}

static int ff_pwrite(struct file_fs *fs, struct file *f, const void *buf, size_t len, uint64_t off)
{
    struct file_fault *ff = FF(fs);
    int err = handle_ok(ff, f);
    if (err)
        return err;
    struct inode *ino = f->ino;
    err = tick(ff, FF_WRITE);
    if (!err)
        err = check_space(ff, ino, off + len);
    if (err) {
        /* A failed write may still have put some of its bytes down. */
        size_t part = len ? (size_t)(rnd(ff) % (len + 1)) : 0;
        if (part && !check_space(ff, ino, off + part)) {
            write_at(&ino->data, &ino->size, off, buf, part);
            add_op(ino, OP_WRITE, off, buf, part);
        }
        return err;
    }
    write_at(&ino->data, &ino->size, off, buf, len);
    add_op(ino, OP_WRITE, off, buf, len);
    return 0;
}

/*
 * Replays ino's pending ops onto its durable bytes, each surviving per the
 * PRNG, and forgets them. With `to_current` (a crash) the result is also what
 * the file reads from now on; without (a failed sync) reads still see the
 * page cache, i.e. the current bytes.
 */
static void replay(struct file_fault *ff, struct inode *ino, unsigned flags, bool to_current)
{
    uint8_t *d = ino->ddata;
    uint64_t size = ino->dsize;
    ino->ddata = NULL;
    for (struct data_op *o = ino->ops; o; o = o->next) {
        if (flags & FILE_FAULT_CRASH_KEEP_ALL) {
            if (o->kind == OP_SIZE)
                resize(&d, &size, o->off);
            else
                write_at(&d, &size, o->off, o->data, o->len);
            continue;
        }
        if (o->kind == OP_SIZE) {
            if (rnd(ff) % 2)
                resize(&d, &size, o->off);
            continue;
        }
        bool garble_ok = !(flags & FILE_FAULT_CRASH_NO_GARBLE);
        if (flags & FILE_FAULT_CRASH_SECTORS) {
            /* Each sector-aligned piece of the write on its own. */
            uint64_t p = o->off, end = o->off + o->len;
            while (p < end) {
                uint64_t next = (p / SECTOR + 1) * SECTOR;
                if (next > end)
                    next = end;
                size_t n = (size_t)(next - p);
                unsigned r = (unsigned)(rnd(ff) % 8);
                if (r < 4) {
                    write_at(&d, &size, p, o->data + (p - o->off), n);
                } else if (r < 6 || !garble_ok) {
                    /* dropped */
                } else {
                    uint8_t *g = xmalloc(n);
                    for (size_t i = 0; i < n; i++)
                        g[i] = (uint8_t)rnd(ff);
                    write_at(&d, &size, p, g, n);
                    free(g);
                }
                p = next;
            }
            continue;
        }
        unsigned r = (unsigned)(rnd(ff) % 8);
        if (r < 3) {
            write_at(&d, &size, o->off, o->data, o->len);
        } else if (r < 5) {
            /* dropped */
        } else if (r < 7 || !garble_ok) {
            /* torn: whole sectors from the start survive, the rest does not */
            uint64_t first = (o->off / SECTOR + 1) * SECTOR - o->off;
            uint64_t keep = first + (rnd(ff) % (o->len / SECTOR + 1)) * SECTOR;
            if (rnd(ff) % 3 == 0)
                keep = 0;
            if (keep > o->len)
                keep = o->len;
            write_at(&d, &size, o->off, o->data, (size_t)keep);
        } else {
            uint8_t *g = xmalloc(o->len);
            for (size_t i = 0; i < o->len; i++)
                g[i] = (uint8_t)rnd(ff);
            write_at(&d, &size, o->off, g, o->len);
            free(g);
        }
    }
    ops_free(ino);
    ino->ddata = d;
    ino->dsize = size;
    if (to_current) {
        ino->data = xrealloc(ino->data, (size_t)size);
        if (size)
            memcpy(ino->data, d, (size_t)size);
        ino->size = size;
    }
}

static int ff_sync(struct file_fs *fs, struct file *f)
{
    struct file_fault *ff = FF(fs);
    int err = handle_ok(ff, f);
    if (!err)
        err = tick(ff, FF_SYNC);
    if (err == PD_EIO && f->gen == ff->gen) {
        /*
         * As Linux after a write-back error: some of the pending writes may
         * have reached the disk, the rest are forgotten (their pages marked
         * clean), so no later sync will write them. The error is recorded for
         * every other open handle of the file, and reported here now.
         */
        replay(ff, f->ino, 0, false);
        f->ino->wb_err++;
        f->ino->wb_errno = err;
        f->ino->wb_err_seen = true;
        f->wb_seen = f->ino->wb_err;
        return err;
    }
    if (err)
        return err;
    /*
     * The pending ops reach the disk. Not a copy of the current bytes: after
     * a failed sync those may hold writes the disk never got and never will.
     */
    replay(ff, f->ino, FILE_FAULT_CRASH_KEEP_ALL, false);
    if (f->wb_seen != f->ino->wb_err) {
        /* An error recorded since this handle last looked: file_check_and_advance_wb_err(). */
        f->wb_seen = f->ino->wb_err;
        f->ino->wb_err_seen = true;
        return f->ino->wb_errno;
    }
    return 0;
}

/* A hint in this model: nothing becomes durable. A waiting call reports (and consumes) a
 * write-back error this handle has not seen, as Linux's sync_file_range does, so that the
 * caller has to treat it as its own; an injected fault is such an error. */
static int ff_writeback(struct file_fs *fs, struct file *f, uint64_t off, uint64_t len, bool wait)
{
    (void)off;
    (void)len;
    struct file_fault *ff = FF(fs);
    int err = handle_ok(ff, f);
    if (!err)
        err = tick(ff, FF_WRITEBACK);
    if (err || !wait)
        return err;
    if (f->wb_seen != f->ino->wb_err) {
        f->wb_seen = f->ino->wb_err;
        f->ino->wb_err_seen = true;
        return f->ino->wb_errno;
    }
    return 0;
}

static int set_size(struct file_fault *ff, struct inode *ino, uint64_t size)
{
    int err = check_space(ff, ino, size);
    if (err)
        return err;
    resize(&ino->data, &ino->size, size);
    add_op(ino, OP_SIZE, size, NULL, 0);
    return 0;
}

static int ff_truncate(struct file_fs *fs, struct file *f, uint64_t size)
{
    struct file_fault *ff = FF(fs);
    int err = handle_ok(ff, f);
    if (!err)
        err = tick(ff, FF_TRUNCATE);
    return err ? err : set_size(ff, f->ino, size);
}

static int ff_allocate(struct file_fs *fs, struct file *f, uint64_t off, uint64_t len)
{
    struct file_fault *ff = FF(fs);
    int err = handle_ok(ff, f);
    if (!err)
        err = tick(ff, FF_ALLOCATE);
    if (err)
        return err;
    if (off + len <= f->ino->size)
        return 0;
    return set_size(ff, f->ino, off + len);
}

static int ff_size(struct file_fs *fs, struct file *f, uint64_t *size)
{
    struct file_fault *ff = FF(fs);
    int err = handle_ok(ff, f);
    if (!err)
        err = tick(ff, FF_SIZE);
    if (!err)
        *size = f->ino->size;
    return err;
}

static int ff_rename(struct file_fs *fs, const char *from, const char *to)
{
    struct file_fault *ff = FF(fs);
    int err = tick(ff, FF_RENAME);
    if (err)
        return err;
    struct entry *e = find(&ff->cur, from);
    if (!e)
        return PD_ENOENT;
    if (!parent_exists(ff, to))
        return PD_ENOENT;
    struct inode *ino = e->ino;
    name_op(ff, NM_RENAME, from, to, ino);
    struct name_op now = {
        .kind = NM_RENAME, .path = xstrdup(from), .path2 = xstrdup(to), .ino = ino};
    apply_name_op(&ff->cur, &now);
    free(now.path);
    free(now.path2);
    return 0;
}

static int ff_unlink(struct file_fs *fs, const char *path)
{
    struct file_fault *ff = FF(fs);
    int err = tick(ff, FF_UNLINK);
    if (err)
        return err;
    struct entry *e = find(&ff->cur, path);
    if (!e)
        return PD_ENOENT;
    if (e->ino->is_dir)
        return PD_EIO;
    name_op(ff, NM_UNLINK, path, NULL, e->ino);
    names_del(&ff->cur, e);
    return 0;
}

static int ff_mkdir(struct file_fs *fs, const char *path)
{
    struct file_fault *ff = FF(fs);
    int err = tick(ff, FF_MKDIR);
    if (err)
        return err;
    if (find(&ff->cur, path))
        return PD_EEXIST;
    if (!parent_exists(ff, path))
        return PD_ENOENT;
    struct inode *ino = inode_new(ff, true);
    names_add(&ff->cur, path, ino);
    name_op(ff, NM_CREATE, path, NULL, ino);
    return 0;
}

static bool op_in_dir(const struct name_op *o, const char *dir)
{
    return in_dir(o->path, dir) || (o->path2 && in_dir(o->path2, dir));
}

static int ff_sync_dir(struct file_fs *fs, const char *dir)
{
    struct file_fault *ff = FF(fs);
    int err = tick(ff, FF_SYNC_DIR);
    if (err)
        return err;
    if (!dir_exists(ff, dir))
        return PD_ENOENT;
    /* Ops on this directory become durable, in order; the others stay pending. */
    struct name_op **pp = &ff->nops;
    while (*pp) {
        struct name_op *o = *pp;
        if (op_in_dir(o, dir)) {
            apply_name_op(&ff->durable, o);
            *pp = o->next;
            name_op_free(o);
        } else {
            pp = &o->next;
        }
    }
    ff->nops_tail = pp;
    return 0;
}

static int ff_list_dir(struct file_fs *fs, const char *dir, file_list_fn fn, void *arg)
{
    struct file_fault *ff = FF(fs);
    int err = tick(ff, FF_LIST);
    if (err)
        return err;
    if (!dir_exists(ff, dir))
        return PD_ENOENT;
    /* Copy the names first: fn may change the namespace (unlink). */
    size_t n = 0;
    char **names = xmalloc(ff->cur.n * sizeof(*names));
    for (size_t i = 0; i < ff->cur.n; i++)
        if (in_dir(ff->cur.v[i].path, dir))
            names[n++] = xstrdup(ff->cur.v[i].path + dir_len(ff->cur.v[i].path) + 1);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (!rc)
            rc = fn(names[i], arg);
        free(names[i]);
    }
    free(names);
    return rc;
}

/* ---- control ------------------------------------------------------------------ */

struct file_fault *file_fault_new(uint64_t seed)
{
    struct file_fault *ff = xmalloc(sizeof(*ff));
    *ff = (struct file_fault){
        .fs =
            {
                .open = ff_open,
                .close = ff_close,
                .pread = ff_pread,
                .pwrite = ff_pwrite,
                .sync = ff_sync,
                .truncate = ff_truncate,
                .allocate = ff_allocate,
                .size = ff_size,
                .rename = ff_rename,
                .unlink = ff_unlink,
                .mkdir = ff_mkdir,
                .sync_dir = ff_sync_dir,
                .writeback = ff_writeback,
                .list_dir = ff_list_dir,
            },
    };
    ff->nops_tail = &ff->nops;
    file_fault_seed(ff, seed);
    for (int k = 0; k < FF_N_KINDS; k++)
        fault_init(&ff->faults[k]);
    return ff;
}

void file_fault_free(struct file_fault *ff)
{
    if (!ff)
        return;
    struct inode *ino = ff->inodes;
    while (ino) {
        struct inode *next = ino->next_all;
        inode_free(ino);
        ino = next;
    }
    names_clear(&ff->cur);
    names_clear(&ff->durable);
    free(ff->cur.v);
    free(ff->durable.v);
    struct name_op *o = ff->nops;
    while (o) {
        struct name_op *next = o->next;
        name_op_free(o);
        o = next;
    }
    free(ff);
}

struct file_fs *file_fault_fs(struct file_fault *ff)
{
    return &ff->fs;
}

void file_fault_fail(struct file_fault *ff, enum file_fault_kind kind, long nth, int err,
                     long repeat)
{
    fault_arm(&ff->faults[kind], nth, repeat);
    ff->fault_err[kind] = err;
}

void file_fault_clear(struct file_fault *ff)
{
    for (int k = 0; k < FF_N_KINDS; k++)
        fault_init(&ff->faults[k]);
}

long file_fault_calls(const struct file_fault *ff, enum file_fault_kind kind)
{
    return ff->calls[kind];
}

void file_fault_reset_counts(struct file_fault *ff)
{
    memset(ff->calls, 0, sizeof(ff->calls));
}

void file_fault_set_capacity(struct file_fault *ff, uint64_t bytes)
{
    ff->capacity = bytes;
}

void file_fault_seed(struct file_fault *ff, uint64_t seed)
{
    ff->rng = seed * 0x9E3779B97F4A7C15ULL + 0x1234567ULL;
    if (!ff->rng)
        ff->rng = 1;
}

uint64_t file_fault_unsynced_bytes(const struct file_fault *ff)
{
    uint64_t n = 0;
    for (const struct inode *ino = ff->inodes; ino; ino = ino->next_all)
        for (const struct data_op *o = ino->ops; o; o = o->next)
            if (o->kind == OP_WRITE)
                n += o->len;
    return n;
}

int file_fault_crash(struct file_fault *ff, unsigned flags)
{
    /* Names: the durable ones plus a random prefix of the pending ops, in order. */
    size_t n_ops = 0;
    for (struct name_op *o = ff->nops; o; o = o->next)
        n_ops++;
    size_t keep = (flags & FILE_FAULT_CRASH_KEEP_ALL) ? n_ops : (size_t)(rnd(ff) % (n_ops + 1));
    struct name_op *o = ff->nops;
    for (size_t i = 0; o; i++) {
        struct name_op *next = o->next;
        if (i < keep)
            apply_name_op(&ff->durable, o);
        name_op_free(o);
        o = next;
    }
    ff->nops = NULL;
    ff->nops_tail = &ff->nops;
    names_copy(&ff->cur, &ff->durable);

    /* Contents: every reachable inode replays its pending ops; the rest are freed. */
    for (struct inode *ino = ff->inodes; ino; ino = ino->next_all)
        ino->marked = false;
    for (size_t i = 0; i < ff->cur.n; i++)
        ff->cur.v[i].ino->marked = true;
    struct inode **pp = &ff->inodes;
    while (*pp) {
        struct inode *ino = *pp;
        if (!ino->marked) {
            *pp = ino->next_all;
            inode_free(ino);
            continue;
        }
        replay(ff, ino, flags, true);
        /* A new boot, a new page cache: no error left to report. */
        ino->wb_err = 0;
        ino->wb_err_seen = false;
        pp = &ino->next_all;
    }
    ff->gen++;
    return 0;
}
