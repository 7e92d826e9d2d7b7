/*
 * The (parent id, name) -> node id lookup table: open addressing, linear
 * probing, backward-shift deletion (no tombstones), load <= 3/4.
 *
 * A slot is 8 bytes: the node id and 32 bits of the key's hash. The home
 * slot is hash & mask, so
 *   - a probe rejects a mismatching slot by comparing the stored hash
 *     without touching the node (a false match among the nodes probed from
 *     the same home is 1 in 2^(32 - log2 slots), 1/2048 at 2M slots);
 *   - growing and backward-shift deletion never read a node: the home of
 *     every entry is in its slot.
 *
 * Growth is incremental. Past 3/4 load a table twice the size is allocated
 * and new entries go there; the old one is drained by at most
 * TABLE_GROW_STEP slots per mutating call (slots_reserve, slot_remove), so
 * no single operation rehashes the table. While both exist a lookup probes
 * the new table, then the old.
 *
 * Draining the old table keeps it a valid linear-probing table at every
 * step: it starts just below an empty slot `stop` and walks DOWN (cyclically)
 * to stop + 1, moving each entry it meets. Removing the highest entry of a
 * cluster never breaks the probe path of the entries below it, and no probe
 * path crosses the empty `stop`; so every entry still in the old table has
 * its whole probe path (home .. slot) occupied, and the drained part holds
 * only empty slots. A deletion in the old table shifts entries within their
 * cluster, which lies wholly in the undrained part.
 *
 * Budget: growth starts with n > 3/4 C entries (C: old size); it takes C /
 * TABLE_GROW_STEP mutating calls, C/8 with a step of 8, by which time the new
 * table (2C) holds at most n + C/8 < 3/2 C entries: it is done long before
 * the new table needs to grow (grow_start drains what is left if it must).
 * A step examines 8 old slots and moves at most 8 entries, 8 bytes each,
 * without reading a node.
 */
#include "tree/tree_int.h"

#include "common/alloc.h"
#include "common/thp.h"

uint32_t child_hash(uint32_t parent, const char *name, size_t len)
{
    return (uint32_t)hash_bytes(name, len, parent);
}

static uint32_t node_hash(const struct tree *t, uint32_t id)
{
    const struct tree_node *n = node_get(t, id);
    return child_hash(n->parent, node_name(n), node_name_len(n));
}

static bool slot_is(const struct tree *t, struct slot s, uint32_t parent, const char *name,
                    size_t len, uint32_t hash)
{
    if (s.hash != hash)
        return false;
    const struct tree_node *n = node_get(t, s.id);
    return n->parent == parent && node_name_len(n) == len && memcmp(node_name(n), name, len) == 0;
}

static uint32_t probe(const struct tree *t, const struct slot *tab, uint32_t mask, uint32_t parent,
                      const char *name, size_t len, uint32_t hash)
{
    for (uint32_t i = hash & mask;; i = (i + 1) & mask) {
        struct slot s = tab[i];
        if (s.id == NODE_NIL)
            return NODE_NIL;
        if (slot_is(t, s, parent, name, len, hash))
            return s.id;
    }
}

uint32_t node_child_h(const struct tree *t, uint32_t parent, const char *name, size_t len,
                      uint32_t hash)
{
    const struct slot_table *st = &t->tab;
    if (!st->s)
        return NODE_NIL;
    uint32_t id = probe(t, st->s, st->mask, parent, name, len, hash);
    if (id == NODE_NIL && st->old)
        id = probe(t, st->old, st->old_mask, parent, name, len, hash);
    return id;
}

uint32_t node_child(const struct tree *t, uint32_t parent, const char *name, size_t len)
{
    return node_child_h(t, parent, name, len, child_hash(parent, name, len));
}

static void put(struct slot *tab, uint32_t mask, struct slot s)
{
    uint32_t i = s.hash & mask;
    while (tab[i].id != NODE_NIL)
        i = (i + 1) & mask;
    tab[i] = s;
}

/* Drains up to `budget` slots of the old table (all of them if budget is UINT32_MAX). */
static void grow_step(struct slot_table *st, uint32_t budget)
{
    while (st->old && budget-- > 0) {
        uint32_t c = st->cursor;
        struct slot s = st->old[c];
        if (s.id != NODE_NIL) {
            put(st->s, st->mask, s);
            st->count++;
            st->old[c].id = NODE_NIL;
            st->old_count--;
            st->moved++;
        }
        st->cursor = (c - 1) & st->old_mask;
        if (st->old_count == 0) {
            pd_free(st->old);
            st->old = NULL;
            st->old_mask = 0;
        }
    }
}

/* Switches to a table of `ncap` slots; the current one (if any) becomes the old one. */
static int grow_start(struct slot_table *st, uint64_t ncap)
{
    if (ncap > ((uint64_t)1 << 32))
        return PD_ENOMEM;
    struct slot *ns = pd_calloc((size_t)ncap, sizeof(*ns));
    if (!ns)
        return PD_ENOMEM;
    /* Probes land at random: huge pages spare a TLB miss on most of them (common/thp.h). */
    thp_advise(ns, (size_t)ncap * sizeof(*ns));
    grow_step(st, UINT32_MAX); /* only reached when a previous growth is unfinished */
    if (st->s && st->count > 0) {
        uint32_t e = 0;
        while (st->s[e].id != NODE_NIL)
            e++; /* load <= 3/4: there is an empty slot */
        st->old = st->s;
        st->old_mask = st->mask;
        st->old_count = st->count;
        st->stop = e;
        st->cursor = (e - 1) & st->mask;
    } else {
        pd_free(st->s);
    }
    st->s = ns;
    st->mask = (uint32_t)(ncap - 1);
    st->count = 0;
    return 0;
}

int slots_reserve(struct tree *t, uint64_t n)
{
    struct slot_table *st = &t->tab;
    grow_step(st, TABLE_GROW_STEP);
    uint64_t cap = st->s ? (uint64_t)st->mask + 1 : 0;
    uint64_t total = (uint64_t)st->count + st->old_count + n;
    if (total * 4 <= cap * 3)
        return 0;
    uint64_t ncap = cap ? cap * 2 : 16;
    while (total * 4 > ncap * 3)
        ncap *= 2;
    return grow_start(st, ncap);
}

void slot_put(struct tree *t, uint32_t id, uint32_t hash)
{
    struct slot_table *st = &t->tab;
    assert(((uint64_t)st->count + st->old_count + 1) * 4 <= ((uint64_t)st->mask + 1) * 3);
    put(st->s, st->mask, (struct slot){.id = id, .hash = hash});
    st->count++;
}

/* Backward-shift deletion of `id` (homed at hash) from one table; false if it is not there. */
static bool del(struct slot *tab, uint32_t mask, uint32_t id, uint32_t hash)
{
    uint32_t i = hash & mask;
    while (tab[i].id != id) {
        if (tab[i].id == NODE_NIL)
            return false;
        i = (i + 1) & mask;
    }
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        struct slot other = tab[j];
        if (other.id == NODE_NIL)
            break;
        uint32_t k = other.hash & mask;
        /* Move `other` into the hole unless its home k lies cyclically in (i, j]. */
        bool in_range = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!in_range) {
            tab[i] = other;
            i = j;
        }
    }
    tab[i].id = NODE_NIL;
    return true;
}

void slot_remove(struct tree *t, uint32_t id)
{
    struct slot_table *st = &t->tab;
    uint32_t hash = node_hash(t, id);
    if (del(st->s, st->mask, id, hash)) {
        st->count--;
    } else {
        bool found = st->old && del(st->old, st->old_mask, id, hash);
        assert(found);
        (void)found;
        st->old_count--;
        if (st->old_count == 0) {
            pd_free(st->old);
            st->old = NULL;
            st->old_mask = 0;
        }
    }
    grow_step(st, TABLE_GROW_STEP);
}

void slots_free(struct tree *t)
{
    pd_free(t->tab.s);
    pd_free(t->tab.old);
    uint64_t moved = t->tab.moved;
    t->tab = (struct slot_table){.moved = moved};
}

/* Checks one table: ids live, hashes right, every probe path occupied; counts entries. */
static int check_one(const struct tree *t, const struct slot *tab, uint32_t mask, uint64_t *n,
                     const char **why)
{
    for (uint64_t i = 0; i <= mask; i++) {
        struct slot s = tab[i];
        if (s.id == NODE_NIL)
            continue;
        (*n)++;
        if (s.id >= t->id_next) {
            *why = "lookup table holds an unused id";
            return PD_ECORRUPT;
        }
        uintptr_t v = t->id_pages[s.id >> ID_PAGE_BITS][s.id & (ID_PAGE_SIZE - 1)];
        if (v == 0 || (v & 1)) {
            *why = "lookup table holds a free id";
            return PD_ECORRUPT;
        }
        if (node_hash(t, s.id) != s.hash) {
            *why = "lookup table slot has a wrong hash";
            return PD_ECORRUPT;
        }
        for (uint32_t j = s.hash & mask; j != (uint32_t)i; j = (j + 1) & mask) {
            if (tab[j].id == NODE_NIL) {
                *why = "lookup table entry after an empty slot on its probe path";
                return PD_ECORRUPT;
            }
        }
    }
    return 0;
}

int slots_check(const struct tree *t, const char **why)
{
    const struct slot_table *st = &t->tab;
    uint64_t n = 0, old_n = 0;
    if (!st->s) {
        if (st->old || st->count || t->n_nodes) {
            *why = "lookup table missing";
            return PD_ECORRUPT;
        }
        return 0;
    }
    if (check_one(t, st->s, st->mask, &n, why) != 0)
        return PD_ECORRUPT;
    if (st->old) {
        if (check_one(t, st->old, st->old_mask, &old_n, why) != 0)
            return PD_ECORRUPT;
        /* The drained part, (cursor, stop] cyclically, is empty. */
        for (uint32_t i = (st->cursor + 1) & st->old_mask;; i = (i + 1) & st->old_mask) {
            if (st->old[i].id != NODE_NIL) {
                *why = "old lookup table entry in the drained part";
                return PD_ECORRUPT;
            }
            if (i == st->stop)
                break;
        }
        if (st->old_mask >= st->mask || old_n == 0) {
            *why = "old lookup table not smaller, or empty";
            return PD_ECORRUPT;
        }
    }
    if (n != st->count || old_n != st->old_count || n + old_n != t->n_nodes) {
        *why = "lookup table count differs";
        return PD_ECORRUPT;
    }
    if ((n + old_n) * 4 > ((uint64_t)st->mask + 1) * 3) {
        *why = "lookup table over 3/4 full";
        return PD_ECORRUPT;
    }
    return 0;
}
