/*
 * ACLs: the interned, reference-counted ACL cache (ReferenceCountedACLCache),
 * the permission check (ZooKeeperServer.checkACL), the create/setACL list
 * check and expansion (PrepRequestProcessor.fixupACL), and the two built-in
 * authentication providers: digest (DigestAuthenticationProvider) and ip
 * (IPAuthenticationProvider, with the IPv6 support of ZOOKEEPER-4240).
 *
 * Cache invariants: an interned list appears once (equality is ZooKeeper's
 * List<ACL>.equals: same order, same perms, same ids); its long index is
 * handed out from an increasing counter when the list is first interned and
 * never reused; an entry lives while at least one node refers to it. Slot 0
 * is the built-in null ACL (index -1: world:anyone ALL), which the initial
 * nodes hold and which is never counted.
 */
#include "tree/tree_int.h"

#include "common/alloc.h"
#include "common/digit.h"

#include <openssl/evp.h>
#include <stdio.h>

static struct jute_acl open_unsafe_item = {
    .perms = ZOO_PERM_ALL,
    .id = {.scheme = (char *)"world", .id = (char *)"anyone"},
};

/* ---- equality and hashing ------------------------------------------------------------ */

static bool str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static uint64_t str_hash(const char *s, uint64_t seed)
{
    return s ? hash_bytes(s, strlen(s), seed) : hash_mix64(seed ^ 0x9e3779b97f4a7c15ULL);
}

uint64_t acl_vec_hash(const struct jute_acl_vec *v)
{
    uint64_t h = hash_mix64((uint64_t)v->count + 1);
    for (int32_t i = 0; i < v->count; i++) {
        const struct jute_acl *a = &v->items[i];
        h = hash_mix64(h ^ (uint64_t)(uint32_t)a->perms);
        h = str_hash(a->id.scheme, h);
        h = str_hash(a->id.id, h);
    }
    return h;
}

static bool acl_eq(const struct jute_acl *a, const struct jute_acl *b)
{
    return a->perms == b->perms && str_eq(a->id.scheme, b->id.scheme) && str_eq(a->id.id, b->id.id);
}

bool acl_vec_equal(const struct jute_acl_vec *a, const struct jute_acl_vec *b)
{
    if (a->count != b->count)
        return false;
    for (int32_t i = 0; i < a->count; i++)
        if (!acl_eq(&a->items[i], &b->items[i]))
            return false;
    return true;
}

/* ---- the cache -------------------------------------------------------------------------- */

int acl_cache_init(struct acl_cache *c)
{
    memset(c, 0, sizeof(*c));
    c->cap = 8;
    c->ents = pd_calloc(c->cap, sizeof(*c->ents));
    if (!c->ents)
        return PD_ENOMEM;
    c->ents[ACL_SLOT_OPEN] = (struct acl_ent){
        .index = -1,
        .refs = 0,
        .vec = {.count = 1, .is_null = false, .items = &open_unsafe_item},
    };
    c->n_ents = 1;
    return 0;
}

void acl_cache_close(struct acl_cache *c)
{
    for (uint32_t s = 1; s < c->n_ents; s++)
        if (c->ents[s].index)
            pd_free(c->ents[s].vec.items);
    pd_free(c->ents);
    pd_free(c->table);
    memset(c, 0, sizeof(*c));
}

const struct jute_acl_vec *acl_get(const struct acl_cache *c, uint32_t slot)
{
    assert(slot < c->n_ents && c->ents[slot].index);
    return &c->ents[slot].vec;
}

static uint32_t table_find(const struct acl_cache *c, const struct jute_acl_vec *v, uint64_t h)
{
    if (!c->table)
        return 0;
    uint32_t i = (uint32_t)h & c->table_mask;
    for (;;) {
        uint32_t s = c->table[i];
        if (s == 0)
            return 0;
        if (c->ents[s].hash == h && acl_vec_equal(&c->ents[s].vec, v))
            return s;
        i = (i + 1) & c->table_mask;
    }
}

static void table_put(uint32_t *table, uint32_t mask, uint32_t slot, uint64_t h)
{
    uint32_t i = (uint32_t)h & mask;
    while (table[i])
        i = (i + 1) & mask;
    table[i] = slot;
}

static int table_reserve(struct acl_cache *c)
{
    uint32_t cap = c->table ? c->table_mask + 1 : 0;
    if ((uint64_t)(c->count + 1) * 4 <= (uint64_t)cap * 3)
        return 0;
    uint32_t ncap = cap ? cap * 2 : 16;
    uint32_t *nt = pd_calloc(ncap, sizeof(*nt));
    if (!nt)
        return PD_ENOMEM;
    for (uint32_t i = 0; i < cap; i++)
        if (c->table[i])
            table_put(nt, ncap - 1, c->table[i], c->ents[c->table[i]].hash);
    pd_free(c->table);
    c->table = nt;
    c->table_mask = ncap - 1;
    return 0;
}

static void table_del(struct acl_cache *c, uint32_t slot)
{
    uint32_t mask = c->table_mask;
    uint32_t i = (uint32_t)c->ents[slot].hash & mask;
    while (c->table[i] != slot)
        i = (i + 1) & mask;
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        uint32_t s = c->table[j];
        if (!s)
            break;
        uint32_t k = (uint32_t)c->ents[s].hash & mask;
        bool in_range = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!in_range) {
            c->table[i] = s;
            i = j;
        }
    }
    c->table[i] = 0;
}

/* One block: the items, then every string NUL-terminated. */
static struct jute_acl *vec_copy(const struct jute_acl_vec *v)
{
    size_t size = (size_t)v->count * sizeof(struct jute_acl);
    for (int32_t i = 0; i < v->count; i++) {
        if (v->items[i].id.scheme)
            size += strlen(v->items[i].id.scheme) + 1;
        if (v->items[i].id.id)
            size += strlen(v->items[i].id.id) + 1;
    }
    struct jute_acl *items = pd_malloc(size);
    if (!items)
        return NULL;
    char *s = (char *)(items + v->count);
    for (int32_t i = 0; i < v->count; i++) {
        items[i].perms = v->items[i].perms;
        const char *src[2] = {v->items[i].id.scheme, v->items[i].id.id};
        char **dst[2] = {&items[i].id.scheme, &items[i].id.id};
        for (int k = 0; k < 2; k++) {
            if (!src[k]) {
                *dst[k] = NULL;
                continue;
            }
            size_t n = strlen(src[k]) + 1;
            memcpy(s, src[k], n);
            *dst[k] = s;
            s += n;
        }
    }
    return items;
}

int acl_intern(struct acl_cache *c, const struct jute_acl_vec *v, uint32_t *slot_out)
{
    uint64_t h = acl_vec_hash(v);
    uint32_t s = table_find(c, v, h);
    if (s) {
        c->ents[s].refs++;
        *slot_out = s;
        return 0;
    }
    if (table_reserve(c) != 0)
        return PD_ENOMEM;
    if (!c->free_head && c->n_ents == c->cap) {
        uint32_t ncap = c->cap * 2;
        struct acl_ent *ne = pd_realloc(c->ents, ncap * sizeof(*ne));
        if (!ne)
            return PD_ENOMEM;
        c->ents = ne;
        c->cap = ncap;
    }
    struct jute_acl *items = vec_copy(v);
    if (!items)
        return PD_ENOMEM;
    if (c->free_head) {
        s = c->free_head;
        c->free_head = c->ents[s].next_free;
    } else {
        s = c->n_ents++;
    }
    c->ents[s] = (struct acl_ent){
        .index = ++c->next_index,
        .refs = 1,
        .hash = h,
        .vec = {.count = v->count, .is_null = false, .items = items},
    };
    table_put(c->table, c->table_mask, s, h);
    c->count++;
    *slot_out = s;
    return 0;
}

int acl_load(struct acl_cache *c, int64_t index, const struct jute_acl_vec *v, uint32_t *slot_out)
{
    if (table_reserve(c) != 0)
        return PD_ENOMEM;
    if (!c->free_head && c->n_ents == c->cap) {
        uint32_t ncap = c->cap * 2;
        struct acl_ent *ne = pd_realloc(c->ents, ncap * sizeof(*ne));
        if (!ne)
            return PD_ENOMEM;
        c->ents = ne;
        c->cap = ncap;
    }
    struct jute_acl *items = vec_copy(v);
    if (!items)
        return PD_ENOMEM;
    uint32_t s;
    if (c->free_head) {
        s = c->free_head;
        c->free_head = c->ents[s].next_free;
    } else {
        s = c->n_ents++;
    }
    uint64_t h = acl_vec_hash(v);
    c->ents[s] = (struct acl_ent){
        .index = index,
        .refs = 0,
        .hash = h,
        .vec = {.count = v->count, .is_null = false, .items = items},
    };
    table_put(c->table, c->table_mask, s, h);
    c->count++;
    if (index > c->next_index)
        c->next_index = index;
    *slot_out = s;
    return 0;
}

void acl_purge_unused(struct acl_cache *c)
{
    for (uint32_t s = 1; s < c->n_ents; s++) {
        if (c->ents[s].index && c->ents[s].refs == 0) {
            c->ents[s].refs = 1;
            acl_release(c, s);
        }
    }
}

void acl_addref(struct acl_cache *c, uint32_t slot)
{
    if (slot != ACL_SLOT_OPEN)
        c->ents[slot].refs++;
}

void acl_release(struct acl_cache *c, uint32_t slot)
{
    if (slot == ACL_SLOT_OPEN)
        return;
    struct acl_ent *e = &c->ents[slot];
    assert(e->index && e->refs > 0);
    if (--e->refs > 0)
        return;
    table_del(c, slot);
    pd_free(e->vec.items);
    e->vec.items = NULL;
    e->vec.count = 0;
    e->index = 0;
    e->next_free = c->free_head;
    c->free_head = slot;
    c->count--;
}

/* ---- authentication providers -------------------------------------------------------- */

/* Java's Integer.parseInt(s, radix) on [s, s+n): optional sign, digits, no overflow. */
static bool parse_java_int(const char *s, size_t n, int radix, int32_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (n > 0 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n)
        return false;
    int64_t v = 0;
    for (; i < n; i++) {
        int d = pd_digit_value(s[i]);
        if (d < 0 || d >= radix)
            return false;
        v = v * radix + d;
        if (v > (int64_t)INT32_MAX + 1)
            return false;
    }
    if (neg)
        v = -v;
    if (v > INT32_MAX || v < INT32_MIN)
        return false;
    *out = (int32_t)v;
    return true;
}

static bool v4_bytes(const char *s, size_t n, uint8_t out[4])
{
    size_t part = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.')
            continue;
        if (part == 4)
            return false;
        int32_t v;
        if (!parse_java_int(s + start, i - start, 10, &v) || v < 0 || v > 255)
            return false;
        out[part++] = (uint8_t)v;
        start = i + 1;
    }
    return part == 4;
}

/* Segments of s[0..n) split on ':' (Java split(":", -1)) into addr from byte `at`. */
static bool v6_segments(const char *s, size_t n, uint8_t *addr, size_t at)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != ':')
            continue;
        size_t len = i - start;
        if (len == 0 || len > 4)
            return false; /* empty segment, segment too long */
        int32_t v;
        if (!parse_java_int(s + start, len, 16, &v))
            return false;
        addr[at++] = (uint8_t)((uint32_t)v >> 8);
        addr[at++] = (uint8_t)v;
        start = i + 1;
    }
    return true;
}

static size_t count_char(const char *s, size_t n, char c)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == c;
    return k;
}

/* IPAuthenticationProvider.parseV6addr */
static bool v6_bytes(const char *s, size_t n, uint8_t out[16])
{
    memset(out, 0, 16);
    const char *dc = NULL;
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] == ':' && s[i + 1] == ':') {
            if (dc)
                return false; /* "too many '::'": split("::") gave three parts */
            dc = s + i;
            i++;
        }
    }
    if (!dc) {
        if (count_char(s, n, ':') + 1 != 8)
            return false;
        return v6_segments(s, n, out, 0);
    }
    size_t n1 = (size_t)(dc - s), n2 = n - n1 - 2;
    const char *s2 = dc + 2;
    size_t c1 = n1 ? count_char(s, n1, ':') + 1 : 0;
    size_t c2 = n2 ? count_char(s2, n2, ':') + 1 : 0;
    if (c1 + c2 >= 8)
        return false;
    if (n1 && !v6_segments(s, n1, out, 0))
        return false;
    if (n2 && !v6_segments(s2, n2, out, 16 - c2 * 2))
        return false;
    return true;
}

/* addr2Bytes: 4 or 16 bytes, or 0 if not an address. */
static size_t addr_bytes(const char *s, size_t n, uint8_t out[16])
{
    if (memchr(s, ':', n))
        return v6_bytes(s, n, out) ? 16 : 0;
    if (memchr(s, '.', n))
        return v4_bytes(s, n, out) ? 4 : 0;
    return 0;
}

static void addr_mask(uint8_t *b, size_t len, int32_t bits)
{
    size_t start = (size_t)bits / 8;
    int mask = ~((1 << (8 - bits % 8)) - 1);
    while (start < len) {
        b[start] &= (uint8_t)mask;
        mask = 0;
        start++;
    }
}

/* Parses "addr[/bits]" as the ACL side of the ip provider. */
static bool ip_expr(const char *expr, uint8_t addr[16], size_t *alen, int32_t *bits)
{
    const char *slash = strchr(expr, '/');
    size_t n = slash ? (size_t)(slash - expr) : strlen(expr);
    *alen = addr_bytes(expr, n, addr);
    if (!*alen)
        return false;
    *bits = (int32_t)(*alen * 8);
    if (slash) {
        const char *b = slash + 1;
        if (!parse_java_int(b, strlen(b), 10, bits) || *bits < 0 || *bits > (int32_t)(*alen * 8))
            return false;
    }
    return true;
}

bool tree_ip_matches(const char *addr, const char *acl_expr)
{
    if (!addr || !acl_expr)
        return false;
    uint8_t a[16], r[16];
    size_t alen;
    int32_t bits;
    if (!ip_expr(acl_expr, a, &alen, &bits))
        return false;
    addr_mask(a, alen, bits);
    size_t rlen = addr_bytes(addr, strlen(addr), r);
    if (!rlen)
        return false;
    addr_mask(r, rlen, bits);
    return rlen == alen && memcmp(a, r, alen) == 0;
}

static bool ip_valid(const char *id)
{
    uint8_t a[16];
    size_t alen;
    int32_t bits;
    return id && ip_expr(id, a, &alen, &bits);
}

/* DigestAuthenticationProvider.isValid: id.split(":").length == 2 (trailing empties dropped). */
static bool digest_valid(const char *id)
{
    if (!id)
        return false;
    size_t n = strlen(id);
    if (n == 0)
        return false; /* [""] */
    size_t last = n;
    while (last > 0 && id[last - 1] == ':')
        last--;
    if (last == 0)
        return false; /* all separators: [] */
    return count_char(id, last, ':') + 1 == 2;
}

static void base64(const uint8_t *b, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)b[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)b[i + 1] << 8;
        if (i + 2 < n)
            v |= b[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = '\0';
}

int tree_digest_id(const char *user_password, char *out, size_t out_len)
{
    const char *colon = strchr(user_password, ':');
    size_t ulen = colon ? (size_t)(colon - user_password) : strlen(user_password);
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(user_password, strlen(user_password), md, &mdlen, EVP_sha1(), NULL))
        return PD_ENOMEM;
    char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
    base64(md, mdlen, b64);
    size_t need = ulen + 1 + strlen(b64) + 1;
    if (need > out_len)
        return PD_ETOOBIG;
    memcpy(out, user_password, ulen);
    out[ulen] = ':';
    memcpy(out + ulen + 1, b64, strlen(b64) + 1);
    return 0;
}

/* ---- checks -------------------------------------------------------------------------------- */

static bool scheme_is(const char *s, const char *want)
{
    return s && strcmp(s, want) == 0;
}

bool tree_acl_check(const struct jute_acl_vec *acl, int perm, const struct tree_auth *who)
{
    if (!acl || acl->count == 0)
        return true;
    int n_ids = who ? who->n_ids : 0;
    if (who && who->is_super)
        return true;
    for (int i = 0; i < n_ids; i++)
        if (scheme_is(who->ids[i].scheme, "super"))
            return true;
    for (int32_t k = 0; k < acl->count; k++) {
        const struct jute_acl *a = &acl->items[k];
        if (!(a->perms & perm))
            continue;
        const char *scheme = a->id.scheme;
        if (scheme_is(scheme, "world") && scheme_is(a->id.id, "anyone"))
            return true;
        bool is_ip = scheme_is(scheme, "ip");
        if (!is_ip && !scheme_is(scheme, "digest"))
            continue; /* no provider for this scheme */
        for (int i = 0; i < n_ids; i++) {
            const struct jute_id *id = &who->ids[i];
            if (!scheme_is(id->scheme, scheme))
                continue;
            if (is_ip ? tree_ip_matches(id->id, a->id.id) : str_eq(id->id, a->id.id) && id->id)
                return true;
        }
    }
    return false;
}

bool tree_acl_allows(const struct tree *t, const struct tree_node *n, int perm,
                     const struct tree_auth *who)
{
    return tree_acl_check(acl_get(&t->acls, n->acl), perm, who);
}

static char *arena_strdup(struct arena *a, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = arena_alloc(a, n);
    if (d)
        memcpy(d, s, n);
    return d;
}

int32_t acl_fixup(const struct jute_acl_vec *in, const struct tree_auth *who, struct arena *a,
                  struct jute_acl_vec *out, int *pd_err)
{
    *pd_err = 0;
    memset(out, 0, sizeof(*out));
    int32_t count = in ? in->count : 0;
    if (count == 0)
        return ZINVALIDACL;
    int n_ids = who ? who->n_ids : 0;
    size_t cap = (size_t)count * (size_t)(n_ids > 1 ? n_ids : 1);
    struct jute_acl *items = arena_alloc(a, cap * sizeof(*items));
    if (!items) {
        *pd_err = PD_ENOMEM;
        return ZOK;
    }
    int32_t n = 0;
    for (int32_t i = 0; i < count; i++) {
        const struct jute_acl *acl = &in->items[i];
        /* removeDuplicates: skip an entry equal to an earlier one. */
        bool dup = false;
        for (int32_t j = 0; j < i && !dup; j++)
            dup = acl_eq(&in->items[j], acl);
        if (dup)
            continue;
        const char *scheme = acl->id.scheme;
        if (!scheme)
            return ZINVALIDACL;
        if (strcmp(scheme, "world") == 0 && !acl->id.id)
            return ZMARSHALLINGERROR; /* Java: NullPointerException */
        if (strcmp(scheme, "world") == 0 && strcmp(acl->id.id, "anyone") == 0) {
            items[n] = *acl;
        } else if (strcmp(scheme, "auth") == 0) {
            /* Expand to the requester's authenticated ids: of the built-in providers only
             * digest is "authenticated" (ip is not; super has no provider). */
            bool valid = false;
            for (int k = 0; k < n_ids; k++) {
                if (!scheme_is(who->ids[k].scheme, "digest"))
                    continue;
                valid = true;
                items[n].perms = acl->perms;
                items[n].id = who->ids[k];
                if (!(items[n].id.scheme = arena_strdup(a, items[n].id.scheme)) ||
                    (who->ids[k].id && !(items[n].id.id = arena_strdup(a, who->ids[k].id)))) {
                    *pd_err = PD_ENOMEM;
                    return ZOK;
                }
                n++;
            }
            if (!valid)
                return ZINVALIDACL;
            continue;
        } else if (strcmp(scheme, "ip") == 0 || strcmp(scheme, "digest") == 0) {
            if (!acl->id.id)
                return ZMARSHALLINGERROR; /* Java: NullPointerException in isValid */
            bool ok = scheme[0] == 'i' ? ip_valid(acl->id.id) : digest_valid(acl->id.id);
            if (!ok)
                return ZINVALIDACL;
            items[n] = *acl;
        } else {
            return ZINVALIDACL; /* no provider for the scheme */
        }
        items[n].id.scheme = arena_strdup(a, acl->id.scheme);
        items[n].id.id = arena_strdup(a, acl->id.id);
        if (!items[n].id.scheme || (acl->id.id && !items[n].id.id)) {
            *pd_err = PD_ENOMEM;
            return ZOK;
        }
        n++;
    }
    out->count = n;
    out->items = items;
    return ZOK;
}
