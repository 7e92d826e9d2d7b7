/*
 * Session table and tickTime-bucketed expiry (session.h). The facts copied
 * from ZooKeeper: session id layout (SessionTrackerImpl.initializeNextSessionId),
 * password derivation (ZooKeeperServer.generatePasswd with java.util.Random),
 * expiry rounding (ExpiryQueue.roundToNextInterval).
 */
#include "server/session.h"

#include "common/alloc.h"
#include "common/err.h"
#include "storage/snapshot.h"

#include <string.h>

struct sess_bucket {
    int64_t expire_at;        /* ms */
    struct session *head;     /* sessions due then (borrowed from the table) */
    struct sess_bucket *next; /* later bucket */
};

static size_t slot_of(const struct sess_table *t, int64_t id)
{
    uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ULL;
    return (size_t)(h >> 32) & (t->n_slots - 1);
}

int sess_table_init(struct sess_table *t, int64_t tick_ms, int64_t server_id, int64_t now_ms)
{
    memset(t, 0, sizeof(*t));
    t->n_slots = 1024;
    t->slots = pd_calloc(t->n_slots, sizeof(*t->slots));
    if (!t->slots)
        return PD_ENOMEM;
    t->tick_ms = tick_ms > 0 ? tick_ms : 1;
    /* (time << 24) >>> 8 | sid << 56: the low 56 bits from the clock, top byte the server. */
    uint64_t base = ((uint64_t)now_ms << 24) >> 8;
    t->next_id = (int64_t)(base | ((uint64_t)server_id << 56));
    return 0;
}

static void bucket_unlink(struct session *s)
{
    if (!s->bucket)
        return;
    if (s->b_prev)
        s->b_prev->b_next = s->b_next;
    else
        s->bucket->head = s->b_next;
    if (s->b_next)
        s->b_next->b_prev = s->b_prev;
    s->bucket = NULL;
    s->b_prev = s->b_next = NULL;
}

static void free_session(struct session *s)
{
    pd_free(s);
}

void sess_table_close(struct sess_table *t)
{
    for (size_t i = 0; i < t->n_slots; i++) {
        struct session *s = t->slots[i];
        while (s) {
            struct session *next = s->hash_next;
            free_session(s);
            s = next;
        }
    }
    pd_free(t->slots);
    struct sess_bucket *b = t->buckets;
    while (b) {
        struct sess_bucket *next = b->next;
        pd_free(b);
        b = next;
    }
    memset(t, 0, sizeof(*t));
}

int64_t sess_new_id(struct sess_table *t)
{
    int64_t id = t->next_id++;
    if (id == INT64_MIN || id == 0)
        id = t->next_id++;
    return id;
}

/* java.util.Random: 48-bit LCG, as ZooKeeper seeds it for passwords. */
struct jrandom {
    uint64_t seed;
};

static void jrandom_init(struct jrandom *r, int64_t seed)
{
    r->seed = ((uint64_t)seed ^ 0x5DEECE66DULL) & ((1ULL << 48) - 1);
}

static int32_t jrandom_next32(struct jrandom *r)
{
    r->seed = (r->seed * 0x5DEECE66DULL + 0xBULL) & ((1ULL << 48) - 1);
    return (int32_t)(uint32_t)(r->seed >> 16);
}

void sess_password(int64_t id, uint8_t out[ZOO_PASSWD_LEN])
{
    struct jrandom r;
    jrandom_init(&r, id ^ 0xB3415C00LL);
    /* Random.nextBytes: each int fills up to 4 bytes, low byte first. */
    for (int i = 0; i < ZOO_PASSWD_LEN;) {
        uint32_t rnd = (uint32_t)jrandom_next32(&r);
        for (int n = 0; n < 4 && i < ZOO_PASSWD_LEN; n++, rnd >>= 8)
            out[i++] = (uint8_t)rnd;
    }
}

bool sess_password_ok(int64_t id, const struct jute_buf *passwd)
{
    uint8_t want[ZOO_PASSWD_LEN];
    sess_password(id, want);
    return passwd->len == ZOO_PASSWD_LEN && memcmp(passwd->data, want, ZOO_PASSWD_LEN) == 0;
}

struct session *sess_find(const struct sess_table *t, int64_t id)
{
    for (struct session *s = t->slots[slot_of(t, id)]; s; s = s->hash_next)
        if (s->id == id)
            return s;
    return NULL;
}

static int grow(struct sess_table *t)
{
    size_t n = t->n_slots * 2;
    struct session **slots = pd_calloc(n, sizeof(*slots));
    if (!slots)
        return PD_ENOMEM;
    struct session **old = t->slots;
    size_t old_n = t->n_slots;
    t->slots = slots;
    t->n_slots = n;
    for (size_t i = 0; i < old_n; i++) {
        struct session *s = old[i];
        while (s) {
            struct session *next = s->hash_next;
            size_t k = slot_of(t, s->id);
            s->hash_next = slots[k];
            slots[k] = s;
            s = next;
        }
    }
    pd_free(old);
    return 0;
}

int sess_add(struct sess_table *t, int64_t id, int32_t timeout_ms, int64_t now_ms,
             struct session **out)
{
    if (sess_find(t, id))
        return PD_EEXIST;
    if (t->count + 1 > t->n_slots && grow(t) != 0)
        return PD_ENOMEM;
    struct session *s = pd_calloc(1, sizeof(*s));
    if (!s)
        return PD_ENOMEM;
    s->id = id;
    s->timeout_ms = timeout_ms;
    if (sess_touch(t, s, now_ms) != 0) {
        pd_free(s);
        return PD_ENOMEM;
    }
    size_t k = slot_of(t, id);
    s->hash_next = t->slots[k];
    t->slots[k] = s;
    t->count++;
    if (out)
        *out = s;
    return 0;
}

void sess_remove(struct sess_table *t, struct session *s)
{
    struct session **pp = &t->slots[slot_of(t, s->id)];
    while (*pp && *pp != s)
        pp = &(*pp)->hash_next;
    if (*pp)
        *pp = s->hash_next;
    bucket_unlink(s);
    t->count--;
    free_session(s);
}

/* The bucket for expire_at, created in order; NULL on OOM. */
static struct sess_bucket *bucket_at(struct sess_table *t, int64_t expire_at)
{
    struct sess_bucket **pp = &t->buckets;
    while (*pp && (*pp)->expire_at < expire_at)
        pp = &(*pp)->next;
    if (*pp && (*pp)->expire_at == expire_at)
        return *pp;
    struct sess_bucket *b = pd_calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->expire_at = expire_at;
    b->next = *pp;
    *pp = b;
    return b;
}

int sess_touch(struct sess_table *t, struct session *s, int64_t now_ms)
{
    s->is_touched = true;
    int64_t at = ((now_ms + s->timeout_ms) / t->tick_ms + 1) * t->tick_ms;
    if (s->bucket && s->expire_at == at)
        return 0;
    struct sess_bucket *b = bucket_at(t, at);
    if (!b) {
        /* Out of memory: keep the old (earlier) deadline rather than lose the session. */
        return PD_ENOMEM;
    }
    bucket_unlink(s);
    s->expire_at = at;
    s->bucket = b;
    s->b_prev = NULL;
    s->b_next = b->head;
    if (b->head)
        b->head->b_prev = s;
    b->head = s;
    return 0;
}

struct session *sess_next_expired(struct sess_table *t, int64_t now_ms)
{
    while (t->buckets && t->buckets->expire_at <= now_ms) {
        struct sess_bucket *b = t->buckets;
        if (b->head) {
            struct session *s = b->head;
            bucket_unlink(s);
            return s;
        }
        t->buckets = b->next;
        pd_free(b);
    }
    return NULL;
}

void sess_foreach(const struct sess_table *t, void (*fn)(struct session *, void *), void *arg)
{
    for (size_t i = 0; i < t->n_slots; i++)
        for (struct session *s = t->slots[i]; s; s = s->hash_next)
            fn(s, arg);
}

int sess_collect(const struct sess_table *t, struct snap_session **items, size_t *n)
{
    *items = NULL;
    *n = 0;
    if (t->count == 0)
        return 0;
    struct snap_session *v = pd_malloc(t->count * sizeof(*v));
    if (!v)
        return PD_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < t->n_slots; i++)
        for (struct session *s = t->slots[i]; s && k < t->count; s = s->hash_next)
            v[k++] = (struct snap_session){.id = s->id, .timeout_ms = s->timeout_ms};
    *items = v;
    *n = k;
    return 0;
}
