/*
 * Znode storage: the id table, the (parent, name) lookup table, the node
 * block layout (tree_int.h explains the byte costs), the child lists, the
 * per-session ephemeral lists and the container/TTL lists.
 *
 * Every change is split in two: a prepare step that allocates whatever it
 * needs and touches nothing visible, and a commit step that cannot fail. That
 * is what lets tree_apply() apply a single op entirely or not at all.
 *
 * Invariants (checked by node_check):
 *   - every live node is reachable from the root through child lists, and is
 *     in the lookup table under (parent id, name) exactly once;
 *   - num_children is the length of the child list; sibling lists are
 *     circular and consistent in both directions;
 *   - a node has NF_OWNER iff its owner is non-zero, and is then in exactly
 *     one list: its session's, the container list or the TTL list;
 *   - each ACL slot's refcount is the number of nodes holding it.
 */
#include "tree/tree_int.h"

#include "common/alloc.h"

/* ---- chained hash (shared by the overlay and watch tables) ------------------------ */

int chash_reserve(struct chash *h, size_t n)
{
    size_t nb = h->b ? h->mask + 1 : 0;
    if (n <= nb)
        return 0;
    size_t want = nb ? nb : 16;
    while (want < n)
        want *= 2;
    struct chash_link **b = pd_calloc(want, sizeof(*b));
    if (!b)
        return PD_ENOMEM;
    for (size_t i = 0; i < nb; i++) {
        struct chash_link *l = h->b[i];
        while (l) {
            struct chash_link *next = l->next;
            size_t j = l->hash & (want - 1);
            l->next = b[j];
            b[j] = l;
            l = next;
        }
    }
    pd_free(h->b);
    h->b = b;
    h->mask = want - 1;
    return 0;
}

void chash_insert(struct chash *h, struct chash_link *l, uint64_t hash)
{
    assert(h->b && h->count < h->mask + 1);
    l->hash = hash;
    size_t j = hash & h->mask;
    l->next = h->b[j];
    h->b[j] = l;
    h->count++;
}

void chash_remove(struct chash *h, struct chash_link *l)
{
    struct chash_link **pp = &h->b[l->hash & h->mask];
    while (*pp != l) {
        assert(*pp);
        pp = &(*pp)->next;
    }
    *pp = l->next;
    l->next = NULL;
    h->count--;
}

void chash_free(struct chash *h)
{
    pd_free(h->b);
    h->b = NULL;
    h->mask = 0;
    h->count = 0;
}

/* ---- id table ---------------------------------------------------------------------- */

static uintptr_t *id_slot(const struct tree *t, uint32_t id)
{
    return &t->id_pages[id >> ID_PAGE_BITS][id & (ID_PAGE_SIZE - 1)];
}

int id_table_init(struct tree *t)
{
    t->id_pages = NULL;
    t->n_id_pages = 0;
    t->id_pages_cap = 0;
    t->id_next = 1; /* id 0 is NODE_NIL */
    t->id_free = NODE_NIL;
    return 0;
}

/* Makes sure id_alloc() has an id to hand out. */
static int id_reserve(struct tree *t)
{
    if (t->id_free != NODE_NIL || t->id_next < t->n_id_pages * ID_PAGE_SIZE)
        return 0;
    if (t->n_id_pages >= (UINT32_MAX >> ID_PAGE_BITS))
        return PD_ENOMEM; /* 2^32 - 4096 nodes: out of ids */
    if (t->n_id_pages == t->id_pages_cap) {
        uint32_t cap = t->id_pages_cap ? t->id_pages_cap * 2 : 16;
        uintptr_t **d = pd_realloc(t->id_pages, cap * sizeof(*d));
        if (!d)
            return PD_ENOMEM;
        t->id_pages = d;
        t->id_pages_cap = cap;
    }
    uintptr_t *page = pd_calloc(ID_PAGE_SIZE, sizeof(*page));
    if (!page)
        return PD_ENOMEM;
    t->id_pages[t->n_id_pages++] = page;
    return 0;
}

static uint32_t id_alloc(struct tree *t)
{
    if (t->id_free != NODE_NIL) {
        uint32_t id = t->id_free;
        t->id_free = (uint32_t)(*id_slot(t, id) >> 1);
        return id;
    }
    assert(t->id_next < t->n_id_pages * ID_PAGE_SIZE);
    return t->id_next++;
}

static void id_set(struct tree *t, uint32_t id, struct tree_node *n)
{
    assert(((uintptr_t)n & 1) == 0);
    *id_slot(t, id) = (uintptr_t)n;
}

static void id_release(struct tree *t, uint32_t id)
{
    *id_slot(t, id) = ((uintptr_t)t->id_free << 1) | 1u;
    t->id_free = id;
}

/* ---- paths ------------------------------------------------------------------------ */

uint32_t node_lookup(const struct tree *t, const char *path, size_t len)
{
    if (len == 0 || (len == 1 && path[0] == '/'))
        return t->root;
    if (path[0] != '/')
        return NODE_NIL;
    uint32_t cur = t->root;
    size_t i = 1;
    for (;;) {
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        if (j == i)
            return NODE_NIL; /* empty component: "//" or a trailing '/' */
        cur = node_child(t, cur, path + i, j - i);
        if (cur == NODE_NIL || j == len)
            return cur;
        i = j + 1;
    }
}

int64_t utf16_len(const char *s, size_t len)
{
    int64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xc0) != 0x80)
            n += c >= 0xf0 ? 2 : 1; /* a 4-byte sequence is a surrogate pair in Java */
    }
    return n;
}

char *node_path(const struct tree *t, uint32_t id, struct arena *a, size_t *len_out)
{
    size_t len = 0;
    for (uint32_t c = id; c != t->root; c = node_get(t, c)->parent)
        len += 1 + node_name_len(node_get(t, c));
    if (len == 0)
        len = 1;
    char *p = arena_alloc(a, len + 1);
    if (!p)
        return NULL;
    p[len] = '\0';
    p[0] = '/';
    size_t at = len;
    for (uint32_t c = id; c != t->root; c = node_get(t, c)->parent) {
        const struct tree_node *n = node_get(t, c);
        uint32_t nl = node_name_len(n);
        at -= nl;
        memcpy(p + at, node_name(n), nl);
        p[--at] = '/';
    }
    if (len_out)
        *len_out = len;
    return p;
}

/* ---- node blocks -------------------------------------------------------------------- */

static unsigned stat_flags(const struct node_stat *st, size_t name_len, bool ext_types)
{
    unsigned f = 0;
    if (owner_kind(st->owner, ext_types) == KIND_EPHEMERAL)
        f |= NF_SESSION;
    if (st->mzxid != st->czxid)
        f |= NF_MZXID;
    if (st->pzxid != st->czxid)
        f |= NF_PZXID;
    if (st->mtime != st->ctime)
        f |= NF_MTIME;
    if (st->owner != 0)
        f |= NF_OWNER;
    if (st->version != 0)
        f |= NF_VERSION;
    if (st->cversion != 0)
        f |= NF_CVERSION;
    if (st->aversion != 0)
        f |= NF_AVERSION;
    if (name_len >= 0xffff)
        f |= NF_LONGNAME;
    return f;
}

static size_t block_size(unsigned flags, int32_t data_len, size_t name_len)
{
    return sizeof(struct tree_node) + node_data_off(flags) + (data_len > 0 ? (size_t)data_len : 0) +
           name_len;
}

void node_get_stat(const struct tree_node *n, struct node_stat *st)
{
    const unsigned char *p = node_tail(n);
    unsigned f = n->flags;
    st->czxid = n->czxid;
    st->ctime = n->ctime;
    st->mzxid = n->czxid;
    st->pzxid = n->czxid;
    st->mtime = n->ctime;
    st->owner = 0;
    if (f & NF_MZXID) {
        memcpy(&st->mzxid, p, 8);
        p += 8;
    }
    if (f & NF_PZXID) {
        memcpy(&st->pzxid, p, 8);
        p += 8;
    }
    if (f & NF_MTIME) {
        memcpy(&st->mtime, p, 8);
        p += 8;
    }
    if (f & NF_OWNER) {
        memcpy(&st->owner, p, 8);
        p += 16; /* the owner and the two list links */
    }
    if (f & NF_CHILDREN)
        p += 8;
    st->version = 0;
    st->cversion = 0;
    st->aversion = 0;
    if (f & NF_VERSION) {
        memcpy(&st->version, p, 4);
        p += 4;
    }
    if (f & NF_CVERSION) {
        memcpy(&st->cversion, p, 4);
        p += 4;
    }
    if (f & NF_AVERSION)
        memcpy(&st->aversion, p, 4);
}

/* Writes the stat into a block whose flags already match it (list links untouched). */
static void write_stat(struct tree_node *n, const struct node_stat *st)
{
    unsigned char *p = node_tail(n);
    unsigned f = n->flags;
    n->czxid = st->czxid;
    n->ctime = st->ctime;
    if (f & NF_MZXID) {
        memcpy(p, &st->mzxid, 8);
        p += 8;
    }
    if (f & NF_PZXID) {
        memcpy(p, &st->pzxid, 8);
        p += 8;
    }
    if (f & NF_MTIME) {
        memcpy(p, &st->mtime, 8);
        p += 8;
    }
    if (f & NF_OWNER) {
        memcpy(p, &st->owner, 8);
        p += 16;
    }
    if (f & NF_CHILDREN)
        p += 8;
    if (f & NF_VERSION) {
        memcpy(p, &st->version, 4);
        p += 4;
    }
    if (f & NF_CVERSION) {
        memcpy(p, &st->cversion, 4);
        p += 4;
    }
    if (f & NF_AVERSION)
        memcpy(p, &st->aversion, 4);
}

/* A new block with stat, data and name written; structure fields zero. NULL on OOM. */
static struct tree_node *block_new(const struct node_stat *st, const char *name, size_t name_len,
                                   const uint8_t *data, int32_t data_len, bool ext_types,
                                   bool children)
{
    unsigned f = stat_flags(st, name_len, ext_types) | (children ? NF_CHILDREN : 0u);
    struct tree_node *n = pd_malloc(block_size(f, data_len, name_len));
    if (!n)
        return NULL;
    n->parent = NODE_NIL;
    n->next = NODE_NIL;
    n->prev = NODE_NIL;
    n->acl = ACL_SLOT_OPEN;
    n->data_len = data_len;
    n->name_len = (uint16_t)(name_len >= 0xffff ? 0xffff : name_len);
    n->flags = (uint16_t)f;
    write_stat(n, st);
    if (f & NF_OWNER)
        node_set_links(n, NODE_NIL, NODE_NIL);
    if (f & NF_CHILDREN)
        node_set_children(n, NODE_NIL, 0);
    if (f & NF_LONGNAME) {
        uint32_t nl = (uint32_t)name_len;
        memcpy(node_tail(n) + node_longname_off(f), &nl, 4);
    }
    if (data_len > 0)
        memcpy(node_tail(n) + node_data_off(f), data, (size_t)data_len);
    if (name_len)
        memcpy((char *)node_name(n), name, name_len);
    return n;
}

/* ---- owner lists: sessions, containers, TTLs --------------------------------------- */

static uint64_t sess_hash(int64_t sid)
{
    return hash_mix64((uint64_t)sid);
}

static struct sess_ent *sess_find(const struct sess_table *s, int64_t sid)
{
    if (!s->slots)
        return NULL;
    uint32_t i = (uint32_t)sess_hash(sid) & s->mask;
    while (s->slots[i].session_id != 0) {
        if (s->slots[i].session_id == sid)
            return &s->slots[i];
        i = (i + 1) & s->mask;
    }
    return NULL;
}

const struct sess_ent *sess_lookup(const struct tree *t, int64_t sid)
{
    return sid == 0 ? NULL : sess_find(&t->sessions, sid);
}

/* Room for the entry of session `sid` if it is new. */
static int sess_reserve(struct sess_table *s, int64_t sid)
{
    if (sess_find(s, sid))
        return 0;
    uint32_t cap = s->slots ? s->mask + 1 : 0;
    if ((uint64_t)(s->count + 1) * 4 <= (uint64_t)cap * 3)
        return 0;
    uint32_t ncap = cap ? cap * 2 : 16;
    struct sess_ent *ns = pd_calloc(ncap, sizeof(*ns));
    if (!ns)
        return PD_ENOMEM;
    for (uint32_t i = 0; i < cap; i++) {
        if (s->slots[i].session_id == 0)
            continue;
        uint32_t j = (uint32_t)sess_hash(s->slots[i].session_id) & (ncap - 1);
        while (ns[j].session_id != 0)
            j = (j + 1) & (ncap - 1);
        ns[j] = s->slots[i];
    }
    pd_free(s->slots);
    s->slots = ns;
    s->mask = ncap - 1;
    return 0;
}

static struct sess_ent *sess_get_or_add(struct sess_table *s, int64_t sid)
{
    struct sess_ent *e = sess_find(s, sid);
    if (e)
        return e;
    uint32_t i = (uint32_t)sess_hash(sid) & s->mask;
    while (s->slots[i].session_id != 0)
        i = (i + 1) & s->mask;
    s->slots[i] = (struct sess_ent){.session_id = sid, .head = NODE_NIL, .count = 0};
    s->count++;
    return &s->slots[i];
}

static void sess_del(struct sess_table *s, struct sess_ent *e)
{
    uint32_t mask = s->mask;
    uint32_t i = (uint32_t)(e - s->slots);
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (s->slots[j].session_id == 0)
            break;
        uint32_t k = (uint32_t)sess_hash(s->slots[j].session_id) & mask;
        bool in_range = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!in_range) {
            s->slots[i] = s->slots[j];
            i = j;
        }
    }
    s->slots[i].session_id = 0;
    s->count--;
}

static void olist_insert(struct tree *t, uint32_t *head, uint32_t id)
{
    struct tree_node *n = node_get(t, id);
    if (*head == NODE_NIL) {
        node_set_links(n, id, id);
        *head = id;
        return;
    }
    struct tree_node *h = node_get(t, *head);
    uint32_t hn, last;
    node_get_links(h, &hn, &last);
    struct tree_node *l = node_get(t, last);
    uint32_t ln, lp;
    node_get_links(l, &ln, &lp);
    node_set_links(l, id, lp);
    node_get_links(h, &hn, &last); /* h may be l */
    node_set_links(h, hn, id);
    node_set_links(n, *head, last);
}

static void olist_remove(struct tree *t, uint32_t *head, uint32_t id)
{
    struct tree_node *n = node_get(t, id);
    uint32_t next, prev;
    node_get_links(n, &next, &prev);
    if (next == id) {
        *head = NODE_NIL;
        return;
    }
    uint32_t a, b;
    struct tree_node *p = node_get(t, prev);
    node_get_links(p, &a, &b);
    node_set_links(p, next, b);
    struct tree_node *x = node_get(t, next);
    node_get_links(x, &a, &b);
    node_set_links(x, a, prev);
    if (*head == id)
        *head = next;
}

/* ---- create, change, remove ---------------------------------------------------------- */

int node_new_prepare(struct tree *t, struct node_new *nn, const struct node_stat *st,
                     const char *name, size_t name_len, const uint8_t *data, int32_t data_len,
                     bool with_children)
{
    nn->id = NODE_NIL;
    nn->blk = NULL;
    nn->has_hash = false;
    if (id_reserve(t) != 0 || slots_reserve(t, 1) != 0)
        return PD_ENOMEM;
    if (owner_kind(st->owner, t->ext_types) == KIND_EPHEMERAL &&
        sess_reserve(&t->sessions, st->owner) != 0)
        return PD_ENOMEM;
    nn->blk = block_new(st, name, name_len, data, data_len, t->ext_types, with_children);
    return nn->blk ? 0 : PD_ENOMEM;
}

void node_new_abort(struct tree *t, struct node_new *nn)
{
    (void)t;
    pd_free(nn->blk);
    nn->blk = NULL;
}

void node_new_commit(struct tree *t, struct node_new *nn, uint32_t parent, uint32_t acl)
{
    uint32_t id = id_alloc(t);
    struct tree_node *n = nn->blk;
    nn->id = id;
    nn->blk = NULL;
    n->parent = parent;
    n->acl = acl;
    id_set(t, id, n);
    if (parent != NODE_NIL) {
        struct tree_node *p = node_get(t, parent);
        uint32_t first = node_first_child(p);
        if (first == NODE_NIL) {
            first = id;
            n->next = id;
            n->prev = id;
        } else {
            struct tree_node *f = node_get(t, first);
            uint32_t last = f->prev;
            node_get(t, last)->next = id;
            n->prev = last;
            n->next = first;
            f->prev = id;
        }
        node_set_children(p, first, node_num_children(p) + 1);
    }
    slot_put(t, id, nn->has_hash ? nn->hash : child_hash(parent, node_name(n), node_name_len(n)));
    t->n_nodes++;
    int64_t owner = node_owner(n);
    switch (owner_kind(owner, t->ext_types)) {
    case KIND_PERSISTENT:
        break;
    case KIND_EPHEMERAL: {
        struct sess_ent *e = sess_get_or_add(&t->sessions, owner);
        olist_insert(t, &e->head, id);
        e->count++;
        t->n_ephemerals++;
        break;
    }
    case KIND_CONTAINER:
        olist_insert(t, &t->containers, id);
        break;
    case KIND_TTL:
        olist_insert(t, &t->ttls, id);
        break;
    }
}

int node_change_prepare(struct tree *t, struct node_change *c)
{
    const struct tree_node *n = node_get(t, c->id);
    assert(c->st.owner == node_owner(n));
    uint32_t nl = node_name_len(n);
    unsigned f = stat_flags(&c->st, nl, t->ext_types) | (n->flags & NF_CHILDREN) |
                 (c->want_children ? NF_CHILDREN : 0u);
    int32_t dl = c->set_data ? c->data_len : n->data_len;
    c->blk = NULL;
    if (f == n->flags && dl == n->data_len)
        return 0;
    const uint8_t *data = c->set_data ? c->data : node_data(n);
    c->blk = block_new(&c->st, node_name(n), nl, data, dl, t->ext_types, (f & NF_CHILDREN) != 0);
    return c->blk ? 0 : PD_ENOMEM;
}

void node_change_abort(struct node_change *c)
{
    pd_free(c->blk);
    c->blk = NULL;
}

void node_change_commit(struct tree *t, struct node_change *c)
{
    struct tree_node *n = node_get(t, c->id);
    if (!c->blk) {
        write_stat(n, &c->st);
        if (c->set_data && c->data_len > 0)
            memcpy(node_tail(n) + node_data_off(n->flags), c->data, (size_t)c->data_len);
        return;
    }
    struct tree_node *b = c->blk;
    c->blk = NULL;
    b->parent = n->parent;
    b->next = n->next;
    b->prev = n->prev;
    b->acl = n->acl;
    if (n->flags & NF_CHILDREN)
        node_set_children(b, node_first_child(n), node_num_children(n));
    if (n->flags & NF_OWNER) {
        uint32_t next, prev;
        node_get_links(n, &next, &prev);
        node_set_links(b, next, prev);
    }
    id_set(t, c->id, b);
    pd_free(n);
}

int node_make_parent(struct tree *t, uint32_t id)
{
    if (node_get(t, id)->flags & NF_CHILDREN)
        return 0;
    struct node_change c = {.id = id, .want_children = true};
    node_get_stat(node_get(t, id), &c.st);
    if (node_change_prepare(t, &c) != 0)
        return PD_ENOMEM;
    node_change_commit(t, &c);
    return 0;
}

void node_remove(struct tree *t, uint32_t id, uint32_t *acl)
{
    struct tree_node *n = node_get(t, id);
    assert(node_num_children(n) == 0);
    if (t->walk)
        walk_removed(t, id); /* before the node leaves its sibling list */
    int64_t owner = node_owner(n);
    switch (owner_kind(owner, t->ext_types)) {
    case KIND_PERSISTENT:
        break;
    case KIND_EPHEMERAL: {
        struct sess_ent *e = sess_find(&t->sessions, owner);
        assert(e);
        olist_remove(t, &e->head, id);
        t->n_ephemerals--;
        if (--e->count == 0)
            sess_del(&t->sessions, e);
        break;
    }
    case KIND_CONTAINER:
        olist_remove(t, &t->containers, id);
        break;
    case KIND_TTL:
        olist_remove(t, &t->ttls, id);
        break;
    }
    slot_remove(t, id);
    if (n->parent != NODE_NIL) {
        struct tree_node *p = node_get(t, n->parent);
        uint32_t first = node_first_child(p);
        if (n->next == id) {
            first = NODE_NIL;
        } else {
            node_get(t, n->prev)->next = n->next;
            node_get(t, n->next)->prev = n->prev;
            if (first == id)
                first = n->next;
        }
        node_set_children(p, first, node_num_children(p) - 1);
    }
    *acl = n->acl;
    id_release(t, id);
    t->n_nodes--;
    pd_free(n);
}

void node_free_all(struct tree *t)
{
    for (uint32_t pg = 0; pg < t->n_id_pages; pg++) {
        for (uint32_t i = 0; i < ID_PAGE_SIZE; i++) {
            uintptr_t v = t->id_pages[pg][i];
            if (v && !(v & 1))
                pd_free((void *)v);
        }
        pd_free(t->id_pages[pg]);
    }
    pd_free(t->id_pages);
    t->id_pages = NULL;
    t->n_id_pages = 0;
    slots_free(t);
    pd_free(t->sessions.slots);
    t->sessions.slots = NULL;
}

/* ---- checker ------------------------------------------------------------------------- */

static int check_olist(const struct tree *t, uint32_t head, enum node_kind kind, int64_t owner,
                       uint32_t *count)
{
    *count = 0;
    if (head == NODE_NIL)
        return 0;
    uint32_t id = head;
    do {
        const struct tree_node *n = node_get(t, id);
        if (!(n->flags & NF_OWNER))
            return -1;
        int64_t o = node_owner(n);
        if (owner_kind(o, t->ext_types) != kind || (kind == KIND_EPHEMERAL && o != owner))
            return -1;
        uint32_t next, prev, nn, np;
        node_get_links(n, &next, &prev);
        node_get_links(node_get(t, next), &nn, &np);
        if (np != id)
            return -1;
        if (++*count > t->n_nodes)
            return -1;
        id = next;
    } while (id != head);
    return 0;
}

int node_check(const struct tree *t, const char **why)
{
    int64_t *refs = pd_calloc(t->acls.n_ents ? t->acls.n_ents : 1, sizeof(*refs));
    if (!refs)
        return PD_ENOMEM;
    int rc = PD_ECORRUPT;
    uint32_t visited = 0, n_eph = 0, n_cont = 0, n_ttl = 0;
    int64_t size = 1 + t->size_skew; /* the root's second name "/" */
    int64_t plen = 0;
    uint32_t id = t->root;
    if (node_get(t, id)->parent != NODE_NIL) {
        *why = "root has a parent";
        goto out;
    }
    for (;;) {
        const struct tree_node *n = node_get(t, id);
        visited++;
        if (visited > t->n_nodes) {
            *why = "more reachable nodes than counted";
            goto out;
        }
        uint32_t nl = node_name_len(n);
        if (node_child(t, n->parent, node_name(n), nl) != id) {
            *why = "node not found in the lookup table";
            goto out;
        }
        if (n->acl >= t->acls.n_ents || (n->acl != ACL_SLOT_OPEN && !t->acls.ents[n->acl].index)) {
            *why = "node holds a free ACL slot";
            goto out;
        }
        refs[n->acl]++;
        size += plen + (n->data_len > 0 ? n->data_len : 0);
        struct node_stat st;
        node_get_stat(n, &st);
        if (((n->flags & NF_OWNER) != 0) != (st.owner != 0)) {
            *why = "owner flag mismatch";
            goto out;
        }
        switch (owner_kind(st.owner, t->ext_types)) {
        case KIND_EPHEMERAL:
            n_eph++;
            break;
        case KIND_CONTAINER:
            n_cont++;
            break;
        case KIND_TTL:
            n_ttl++;
            break;
        default:
            break;
        }
        /* Count and check the child list. */
        uint32_t cnt = 0;
        if (node_first_child(n) != NODE_NIL) {
            uint32_t c = node_first_child(n);
            do {
                const struct tree_node *cn = node_get(t, c);
                if (cn->parent != id || node_get(t, cn->next)->prev != c) {
                    *why = "broken child list";
                    goto out;
                }
                if (++cnt > t->n_nodes) {
                    *why = "child list loops";
                    goto out;
                }
                c = cn->next;
            } while (c != node_first_child(n));
        }
        if (cnt != node_num_children(n)) {
            *why = "num_children differs from the child list";
            goto out;
        }
        /* Next node in preorder. */
        if (node_first_child(n) != NODE_NIL) {
            id = node_first_child(n);
            const struct tree_node *c = node_get(t, id);
            plen += 1 + utf16_len(node_name(c), node_name_len(c));
            continue;
        }
        for (;;) {
            const struct tree_node *cur = node_get(t, id);
            if (id == t->root)
                goto done;
            const struct tree_node *p = node_get(t, cur->parent);
            plen -= 1 + utf16_len(node_name(cur), node_name_len(cur));
            if (cur->next != node_first_child(p)) {
                id = cur->next;
                const struct tree_node *s = node_get(t, id);
                plen += 1 + utf16_len(node_name(s), node_name_len(s));
                break;
            }
            id = cur->parent;
        }
    }
done:
    if (visited != t->n_nodes) {
        *why = "unreachable nodes";
        goto out;
    }
    if (slots_check(t, why) != 0)
        goto out;
    if (size != t->data_size) {
        *why = "approximate data size differs";
        goto out;
    }
    for (uint32_t s = 1; s < t->acls.n_ents; s++) {
        if (t->acls.ents[s].index && t->acls.ents[s].refs != refs[s]) {
            *why = "ACL reference count differs";
            goto out;
        }
    }
    uint32_t c;
    if (check_olist(t, t->containers, KIND_CONTAINER, 0, &c) || c != n_cont) {
        *why = "container list";
        goto out;
    }
    if (check_olist(t, t->ttls, KIND_TTL, 0, &c) || c != n_ttl) {
        *why = "TTL list";
        goto out;
    }
    uint32_t total = 0, sessions = 0;
    for (uint32_t i = 0; t->sessions.slots && i <= t->sessions.mask; i++) {
        const struct sess_ent *e = &t->sessions.slots[i];
        if (e->session_id == 0)
            continue;
        sessions++;
        if (sess_find(&t->sessions, e->session_id) != e ||
            check_olist(t, e->head, KIND_EPHEMERAL, e->session_id, &c) || c != e->count || c == 0) {
            *why = "session ephemeral list";
            goto out;
        }
        total += c;
    }
    if (total != n_eph || (int64_t)n_eph != t->n_ephemerals || sessions != t->sessions.count) {
        *why = "ephemeral counts";
        goto out;
    }
    rc = 0;
out:
    pd_free(refs);
    return rc;
}
