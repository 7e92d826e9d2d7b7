/*
 * The outstanding-changes overlay: ZooKeeper's outstandingChanges deque and
 * outstandingChangesForPath map (ZooKeeperServer.ChangeRecord). tree_prep()
 * adds a record per path a txn changes; later preps read the newest record
 * of a path before the committed tree; tree_apply() drops the records of
 * every txn up to the applied zxid.
 *
 * Invariants (checked by ov_check):
 *   - the FIFO is in non-decreasing zxid order;
 *   - the map holds at most one record per path, the newest for that path,
 *     and every record in the map is in the FIFO.
 *
 * Paths are canonical: the root is "/" (ZooKeeper keys a create's parent
 * record under "" and a setData on the root under "/"; one key is the
 * serial behaviour).
 */
#include "tree/tree_int.h"

#include "common/alloc.h"

static uint64_t path_hash(const char *path, size_t len)
{
    return hash_bytes(path, len, 0x6f7665726c6179ULL);
}

void ov_init(struct overlay *ov)
{
    memset(ov, 0, sizeof(*ov));
}

struct ov_acl *ov_acl_new(const struct jute_acl_vec *v)
{
    size_t size = sizeof(struct ov_acl) + (size_t)v->count * sizeof(struct jute_acl);
    for (int32_t i = 0; i < v->count; i++) {
        if (v->items[i].id.scheme)
            size += strlen(v->items[i].id.scheme) + 1;
        if (v->items[i].id.id)
            size += strlen(v->items[i].id.id) + 1;
    }
    struct ov_acl *a = pd_malloc(size);
    if (!a)
        return NULL;
    a->refs = 1;
    a->vec.count = v->count;
    a->vec.is_null = false;
    a->vec.items = (struct jute_acl *)(a + 1);
    char *s = (char *)(a->vec.items + v->count);
    for (int32_t i = 0; i < v->count; i++) {
        struct jute_acl *d = &a->vec.items[i];
        d->perms = v->items[i].perms;
        const char *src[2] = {v->items[i].id.scheme, v->items[i].id.id};
        char **dst[2] = {&d->id.scheme, &d->id.id};
        for (int k = 0; k < 2; k++) {
            *dst[k] = NULL;
            if (!src[k])
                continue;
            size_t n = strlen(src[k]) + 1;
            memcpy(s, src[k], n);
            *dst[k] = s;
            s += n;
        }
    }
    return a;
}

void ov_acl_put(struct ov_acl *a)
{
    if (a && --a->refs == 0)
        pd_free(a);
}

static void rec_free(struct ov_rec *r)
{
    ov_acl_put(r->acl);
    pd_free(r);
}

struct ov_rec *ov_find(const struct overlay *ov, const char *path, size_t len)
{
    uint64_t h = path_hash(path, len);
    for (struct chash_link *l = chash_bucket(&ov->map, h); l; l = l->next) {
        struct ov_rec *r = (struct ov_rec *)l;
        if (l->hash == h && r->path_len == len && memcmp(r->path, path, len) == 0)
            return r;
    }
    return NULL;
}

/* Unlinks r from the FIFO (and the map) and frees it. */
static void rec_drop(struct overlay *ov, struct ov_rec *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        ov->head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        ov->tail = r->prev;
    if (r->in_map)
        chash_remove(&ov->map, &r->link);
    ov->count--;
    rec_free(r);
}

void ov_applied(struct overlay *ov, int64_t zxid)
{
    while (ov->head && ov->head->zxid <= zxid)
        rec_drop(ov, ov->head);
}

void ov_clear(struct overlay *ov)
{
    while (ov->head)
        rec_drop(ov, ov->head);
}

void ov_close(struct overlay *ov)
{
    ov_clear(ov);
    chash_free(&ov->map);
}

int ov_check(const struct overlay *ov, const char **why)
{
    int64_t n = 0, in_map = 0;
    const struct ov_rec *prev = NULL;
    for (const struct ov_rec *r = ov->head; r; r = r->next) {
        if (r->prev != prev || (prev && prev->zxid > r->zxid)) {
            *why = "overlay FIFO order";
            return PD_ECORRUPT;
        }
        if (r->in_map) {
            in_map++;
            if (ov_find(ov, r->path, r->path_len) != r) {
                *why = "overlay map entry";
                return PD_ECORRUPT;
            }
            for (const struct ov_rec *s = r->next; s; s = s->next) {
                if (s->path_len == r->path_len && memcmp(s->path, r->path, r->path_len) == 0) {
                    *why = "overlay map holds an older record";
                    return PD_ECORRUPT;
                }
            }
        }
        if (r->exists != (r->acl != NULL)) {
            *why = "overlay record ACL";
            return PD_ECORRUPT;
        }
        prev = r;
        n++;
    }
    if (prev != ov->tail || n != ov->count || (size_t)in_map != ov->map.count) {
        *why = "overlay counts";
        return PD_ECORRUPT;
    }
    return 0;
}

/* ---- used by prep.c --------------------------------------------------------------------- */

struct ov_rec *ov_rec_new(const char *path, size_t len)
{
    struct ov_rec *r = pd_malloc(sizeof(*r) + len + 1);
    if (!r)
        return NULL;
    memset(r, 0, sizeof(*r));
    r->path_len = len;
    memcpy(r->path, path, len);
    r->path[len] = '\0';
    return r;
}

void ov_rec_discard(struct ov_rec *r)
{
    rec_free(r);
}

int ov_reserve(struct overlay *ov, size_t n)
{
    return chash_reserve(&ov->map, ov->map.count + n);
}

/* Appends r (room reserved) as the newest record of its path. */
void ov_add(struct overlay *ov, struct ov_rec *r)
{
    r->prev = ov->tail;
    r->next = NULL;
    if (ov->tail)
        ov->tail->next = r;
    else
        ov->head = r;
    ov->tail = r;
    ov->count++;
    struct ov_rec *old = ov_find(ov, r->path, r->path_len);
    r->superseded = old;
    if (old) {
        chash_remove(&ov->map, &old->link);
        old->in_map = false;
    }
    chash_insert(&ov->map, &r->link, path_hash(r->path, r->path_len));
    r->in_map = true;
}

/*
 * rollbackPendingChanges: drops the records added after `mark` (newest
 * first), putting back the map entries they had replaced.
 */
void ov_rollback(struct overlay *ov, struct ov_rec *mark)
{
    while (ov->tail != mark) {
        struct ov_rec *r = ov->tail;
        struct ov_rec *old = r->in_map ? r->superseded : NULL;
        rec_drop(ov, r);
        if (old) {
            chash_insert(&ov->map, &old->link, old->link.hash);
            old->in_map = true;
        }
    }
}
