/*
 * The Zab cluster simulator (see sim.h): event queue, links, disks, faults, and the
 * invariant checks run after every zab_step().
 */
#include "sim.h"

#include "common/err.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXS ZAB_MAX_SERVERS

struct hist {
    struct sim_txn *v;
    size_t n, cap;
};

static void hist_push(struct hist *h, struct sim_txn t)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 64;
        h->v = realloc(h->v, h->cap * sizeof(*h->v));
        assert(h->v);
    }
    h->v[h->n++] = t;
}

static void hist_copy(struct hist *dst, const struct hist *src)
{
    dst->n = 0;
    for (size_t i = 0; i < src->n; i++)
        hist_push(dst, src->v[i]);
}

static void hist_cut(struct hist *h, pd_zxid z)
{
    while (h->n > 0 && h->v[h->n - 1].zxid > z)
        h->n--;
}

static size_t hist_count_le(const struct hist *h, pd_zxid z)
{
    size_t k = 0;
    while (k < h->n && h->v[k].zxid <= z)
        k++;
    return k;
}

static uint64_t blob_id(const struct zab_blob *b)
{
    uint64_t id = 0;
    if (b && b->len == sizeof(id))
        memcpy(&id, b->data, sizeof(id));
    return id;
}

struct op {
    uint64_t seq;
    int kind;
    pd_zxid zxid;
    uint32_t epoch;
    uint64_t id;
    struct hist snap; /* SNAP_LOAD */
};

struct server {
    pd_sid sid;
    bool is_observer;
    bool is_up;
    bool was_started;
    uint64_t inc; /* incarnation: events for an older one are ignored */
    struct zab *z;
    /* durable disk */
    uint32_t d_accepted, d_current;
    struct hist disk;
    /* in-memory view: disk + operations not yet durable */
    struct hist mem;
    struct op *ops;
    size_t n_ops, cap_ops;
    uint64_t last_disk_done;
    uint32_t disk_min, disk_max;
    struct hist snap_recv; /* database that followed the last SNAP record */
    pd_zxid applied;       /* commit watermark processed this lifetime */
    enum zab_state role;
    enum zab_phase phase;
    uint32_t epoch;
    uint64_t tick_at;
};

enum ev_kind { EV_DELIVER = 1, EV_PEER_DOWN, EV_DISK, EV_TICK };

struct ev {
    uint64_t time, seq;
    int kind;
    int to, from;
    uint64_t inc;
    uint64_t gen;
    uint64_t conn; /* quorum connection stamp */
    uint64_t op_seq;
    struct zab_msg msg;
    struct hist snap;
};

struct sim {
    struct sim_opts o;
    int n;
    struct server sv[MAXS];
    uint64_t now;
    uint64_t seq;
    uint64_t rng;
    struct ev *heap;
    size_t n_heap, cap_heap;
    uint64_t gen[MAXS][MAXS];          /* connection generation per unordered pair */
    bool blocked[MAXS][MAXS];          /* records from a to b dropped */
    uint64_t last_deliver[MAXS][MAXS]; /* FIFO per direction */
    /* Quorum-port connections: a learner's FOLLOWERINFO/OBSERVERINFO opens a new one; each
       side stamps records with the connection it knows; a dropped record kills its
       connection, so a stream never has a hole (TCP's promise). */
    uint64_t conn[MAXS][MAXS];      /* connection id sender a uses towards b */
    uint64_t conn_dead[MAXS][MAXS]; /* ids up to this are dead (symmetric) */
    uint64_t next_conn;
    struct hist committed;     /* the global committed chain */
    pd_sid epoch_leader[4096]; /* established leader per epoch */
    uint64_t next_id;
    char failure[512];
    bool has_failure;
    char *trace;
    size_t n_trace, cap_trace;
    bool is_msg_trace; /* SIM_MSGS=1: trace every delivered record but PINGs */
    uint64_t steps;
};

/* ---- helpers ---- */

static uint64_t rnd(struct sim *s)
{
    uint64_t x = s->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s->rng = x;
    return x;
}

static uint64_t rnd_range(struct sim *s, uint64_t lo, uint64_t hi)
{
    return hi <= lo ? lo : lo + rnd(s) % (hi - lo + 1);
}

static void fail(struct sim *s, const char *fmt, ...)
{
    if (s->has_failure)
        return;
    s->has_failure = true;
    va_list ap;
    va_start(ap, fmt);
    int k = snprintf(s->failure, sizeof(s->failure), "t=%" PRIu64 ": ", s->now);
    vsnprintf(s->failure + k, sizeof(s->failure) - (size_t)k, fmt, ap);
    va_end(ap);
}

static void trace_add(struct sim *s, const char *line)
{
    size_t len = strlen(line);
    if (s->n_trace + len + 1 > s->cap_trace) {
        s->cap_trace = (s->n_trace + len + 1) * 2;
        s->trace = realloc(s->trace, s->cap_trace);
        assert(s->trace);
    }
    memcpy(s->trace + s->n_trace, line, len + 1);
    s->n_trace += len;
}

static void tracer(void *arg, uint64_t now, pd_sid self, const char *line)
{
    struct sim *s = arg;
    char buf[400];
    snprintf(buf, sizeof(buf), "%8" PRIu64 " s%lld %s\n", now, (long long)self, line);
    trace_add(s, buf);
}

/* ---- event heap ---- */

static bool ev_less(const struct ev *a, const struct ev *b)
{
    return a->time != b->time ? a->time < b->time : a->seq < b->seq;
}

static void push(struct sim *s, struct ev e)
{
    e.seq = ++s->seq;
    if (s->n_heap == s->cap_heap) {
        s->cap_heap = s->cap_heap ? s->cap_heap * 2 : 256;
        s->heap = realloc(s->heap, s->cap_heap * sizeof(*s->heap));
        assert(s->heap);
    }
    size_t i = s->n_heap++;
    s->heap[i] = e;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!ev_less(&s->heap[i], &s->heap[p]))
            break;
        struct ev t = s->heap[i];
        s->heap[i] = s->heap[p];
        s->heap[p] = t;
        i = p;
    }
}

static struct ev pop(struct sim *s)
{
    struct ev top = s->heap[0];
    s->heap[0] = s->heap[--s->n_heap];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->n_heap && ev_less(&s->heap[l], &s->heap[m]))
            m = l;
        if (r < s->n_heap && ev_less(&s->heap[r], &s->heap[m]))
            m = r;
        if (m == i)
            break;
        struct ev t = s->heap[i];
        s->heap[i] = s->heap[m];
        s->heap[m] = t;
        i = m;
    }
    return top;
}

static void ev_free(struct ev *e)
{
    zab_blob_unref(e->msg.data);
    free(e->snap.v);
}

/* ---- construction ---- */

struct sim *sim_new(const struct sim_opts *o)
{
    struct sim *s = calloc(1, sizeof(*s));
    assert(s);
    s->o = *o;
    if (!s->o.tick_ms)
        s->o.tick_ms = 100;
    if (!s->o.init_limit)
        s->o.init_limit = 10;
    if (!s->o.sync_limit)
        s->o.sync_limit = 5;
    if (!s->o.commit_log_count)
        s->o.commit_log_count = 20;
    if (!s->o.lat_max_ms) {
        s->o.lat_min_ms = 1;
        s->o.lat_max_ms = 5;
    }
    if (!s->o.disk_max_ms) {
        s->o.disk_min_ms = 1;
        s->o.disk_max_ms = 10;
    }
    s->n = o->n_voters + o->n_observers;
    assert(s->n > 0 && s->n <= MAXS);
    s->rng = o->seed * 2654435761u + 0x1234567;
    if (!s->rng)
        s->rng = 1;
    for (int i = 0; i < s->n; i++) {
        s->sv[i].sid = i + 1;
        s->sv[i].is_observer = i >= o->n_voters;
        s->sv[i].disk_min = s->o.disk_min_ms;
        s->sv[i].disk_max = s->o.disk_max_ms;
    }
    for (int i = 0; i < 4096; i++)
        s->epoch_leader[i] = ZAB_SID_NONE;
    s->next_id = 1;
    s->is_msg_trace = getenv("SIM_MSGS") != NULL;
    return s;
}

static void server_down(struct server *v)
{
    zab_free(v->z);
    v->z = NULL;
    for (size_t i = 0; i < v->n_ops; i++)
        free(v->ops[i].snap.v);
    v->n_ops = 0;
    v->is_up = false;
    v->inc++;
}

void sim_free(struct sim *s)
{
    for (int i = 0; i < s->n; i++) {
        struct server *v = &s->sv[i];
        server_down(v);
        free(v->ops);
        free(v->disk.v);
        free(v->mem.v);
        free(v->snap_recv.v);
    }
    while (s->n_heap) {
        struct ev e = pop(s);
        ev_free(&e);
    }
    free(s->heap);
    free(s->committed.v);
    free(s->trace);
    free(s);
}

void sim_set_disk(struct sim *s, int i, uint32_t accepted, uint32_t current,
                  const struct sim_txn *hist, size_t n)
{
    struct server *v = &s->sv[i];
    v->d_accepted = accepted;
    v->d_current = current;
    v->disk.n = 0;
    for (size_t k = 0; k < n; k++)
        hist_push(&v->disk, hist[k]);
}

/* ---- stepping a server and performing its update ---- */

static void step(struct sim *s, int i, struct zab_event *ev);

static void schedule_tick(struct sim *s, int i, uint64_t deadline)
{
    struct server *v = &s->sv[i];
    if (deadline == UINT64_MAX || deadline == v->tick_at)
        return;
    if (deadline < s->now)
        deadline = s->now;
    v->tick_at = deadline;
    push(s, (struct ev){.time = deadline, .kind = EV_TICK, .to = i, .inc = v->inc});
}

static void break_link(struct sim *s, int a, int b, bool tell_a, bool tell_b)
{
    s->gen[a][b]++;
    s->gen[b][a] = s->gen[a][b];
    uint64_t dead = s->conn_dead[a][b];
    if (s->conn[a][b] > dead)
        dead = s->conn[a][b];
    if (s->conn[b][a] > dead)
        dead = s->conn[b][a];
    s->conn_dead[a][b] = s->conn_dead[b][a] = dead;
    uint64_t lat = s->o.lat_max_ms;
    if (tell_a && s->sv[a].is_up)
        push(s, (struct ev){.time = s->now + lat,
                            .kind = EV_PEER_DOWN,
                            .to = a,
                            .from = b,
                            .inc = s->sv[a].inc});
    if (tell_b && s->sv[b].is_up)
        push(s, (struct ev){.time = s->now + lat,
                            .kind = EV_PEER_DOWN,
                            .to = b,
                            .from = a,
                            .inc = s->sv[b].inc});
}

static int idx_of(const struct sim *s, pd_sid sid)
{
    for (int i = 0; i < s->n; i++)
        if (s->sv[i].sid == sid)
            return i;
    return -1;
}

static void apply_commit(struct sim *s, int i, pd_zxid z)
{
    struct server *v = &s->sv[i];
    if (z <= v->applied) {
        fail(s, "s%lld commit watermark went from 0x%llx to 0x%llx", (long long)v->sid,
             (unsigned long long)v->applied, (unsigned long long)z);
        return;
    }
    size_t k = hist_count_le(&v->mem, z);
    struct hist *c = &s->committed;
    size_t m = k < c->n ? k : c->n;
    for (size_t j = 0; j < m; j++) {
        if (v->mem.v[j].zxid != c->v[j].zxid || v->mem.v[j].id != c->v[j].id) {
            fail(s, "s%lld commits 0x%llx/%llu where the committed chain has 0x%llx/%llu",
                 (long long)v->sid, (unsigned long long)v->mem.v[j].zxid,
                 (unsigned long long)v->mem.v[j].id, (unsigned long long)c->v[j].zxid,
                 (unsigned long long)c->v[j].id);
            return;
        }
    }
    if (k > c->n) {
        for (size_t j = c->n; j < k; j++)
            hist_push(c, v->mem.v[j]);
    } else if (k < c->n && c->v[k].zxid <= z) {
        fail(s, "s%lld commits up to 0x%llx without committed txn 0x%llx", (long long)v->sid,
             (unsigned long long)z, (unsigned long long)c->v[k].zxid);
        return;
    }
    v->applied = z;
}

static void check_established(struct sim *s, int i)
{
    struct server *v = &s->sv[i];
    uint32_t e = v->epoch;
    if (e >= 4096) {
        fail(s, "epoch %u beyond what the checker records", e);
        return;
    }
    {
        if (s->epoch_leader[e] != ZAB_SID_NONE && s->epoch_leader[e] != v->sid)
            fail(s, "two leaders established in epoch %u: s%lld and s%lld", e,
                 (long long)s->epoch_leader[e], (long long)v->sid);
        s->epoch_leader[e] = v->sid;
    }
    struct hist *c = &s->committed;
    if (v->mem.n < c->n) {
        fail(s, "leader s%lld of epoch %u lacks committed txns (%zu < %zu)", (long long)v->sid, e,
             v->mem.n, c->n);
        return;
    }
    for (size_t j = 0; j < c->n; j++)
        if (v->mem.v[j].zxid != c->v[j].zxid || v->mem.v[j].id != c->v[j].id) {
            fail(s, "leader s%lld of epoch %u differs from the committed chain at 0x%llx",
                 (long long)v->sid, e, (unsigned long long)c->v[j].zxid);
            return;
        }
}

static void disk_apply(struct server *v, struct op *op)
{
    switch (op->kind) {
    case ZAB_STORE_APPEND:
        hist_push(&v->disk, (struct sim_txn){op->zxid, op->id});
        break;
    case ZAB_STORE_TRUNCATE:
        hist_cut(&v->disk, op->zxid);
        break;
    case ZAB_STORE_ACCEPTED_EPOCH:
        v->d_accepted = op->epoch;
        break;
    case ZAB_STORE_CURRENT_EPOCH:
        v->d_current = op->epoch;
        break;
    case ZAB_STORE_SNAP_LOAD:
        hist_copy(&v->disk, &op->snap);
        break;
    }
}

static void perform(struct sim *s, int i, const struct zab_update *up)
{
    struct server *v = &s->sv[i];
    /* 1. storage: the in-memory view changes now, the disk after the latency */
    for (size_t k = 0; k < up->n_stores; k++) {
        const struct zab_store *st = &up->stores[k];
        struct op op = {.seq = st->seq,
                        .kind = st->kind,
                        .zxid = st->zxid,
                        .epoch = st->epoch,
                        .id = blob_id(st->data)};
        switch (st->kind) {
        case ZAB_STORE_APPEND:
            if (v->mem.n && v->mem.v[v->mem.n - 1].zxid >= st->zxid)
                fail(s, "s%lld logs 0x%llx after 0x%llx", (long long)v->sid,
                     (unsigned long long)st->zxid, (unsigned long long)v->mem.v[v->mem.n - 1].zxid);
            hist_push(&v->mem, (struct sim_txn){st->zxid, op.id});
            break;
        case ZAB_STORE_TRUNCATE:
            if (st->zxid < v->applied)
                fail(s, "s%lld truncates below applied 0x%llx", (long long)v->sid,
                     (unsigned long long)v->applied);
            hist_cut(&v->mem, st->zxid);
            break;
        case ZAB_STORE_SNAP_LOAD:
            hist_copy(&v->mem, &v->snap_recv);
            hist_copy(&op.snap, &v->snap_recv);
            break;
        default:
            break;
        }
        if (v->n_ops == v->cap_ops) {
            v->cap_ops = v->cap_ops ? v->cap_ops * 2 : 64;
            v->ops = realloc(v->ops, v->cap_ops * sizeof(*v->ops));
            assert(v->ops);
        }
        v->ops[v->n_ops++] = op;
        uint64_t done = s->now + rnd_range(s, v->disk_min, v->disk_max);
        if (done < v->last_disk_done)
            done = v->last_disk_done;
        v->last_disk_done = done;
        push(s,
             (struct ev){.time = done, .kind = EV_DISK, .to = i, .inc = v->inc, .op_seq = st->seq});
    }
    /* 2. commits */
    if (up->commit_zxid > v->applied)
        apply_commit(s, i, up->commit_zxid);
    /* 3. role */
    bool was_broadcast_leader = v->role == ZAB_LEADING && v->phase == ZAB_PHASE_BROADCAST;
    v->role = up->role;
    v->phase = up->phase;
    v->epoch = up->epoch;
    if (!was_broadcast_leader && v->role == ZAB_LEADING && v->phase == ZAB_PHASE_BROADCAST)
        check_established(s, i);
    /* 4. records */
    for (size_t k = 0; k < up->n_sends; k++) {
        const struct zab_send *sd = &up->sends[k];
        int to = idx_of(s, sd->to);
        if (to < 0 || to == i)
            continue;
        struct ev e = {.kind = EV_DELIVER,
                       .to = to,
                       .from = i,
                       .gen = s->gen[i][to],
                       .inc = s->sv[to].inc,
                       .msg = sd->msg};
        e.msg.data = zab_blob_ref(sd->msg.data);
        if (sd->msg.type == ZAB_MSG_FOLLOWERINFO || sd->msg.type == ZAB_MSG_OBSERVERINFO)
            s->conn[i][to] = ++s->next_conn;
        e.conn = s->conn[i][to];
        if (sd->msg.type == ZAB_MSG_SNAP) {
            size_t kk = hist_count_le(&v->mem, sd->msg.zxid);
            for (size_t j = 0; j < kk; j++)
                hist_push(&e.snap, v->mem.v[j]);
        }
        uint64_t t = s->now + rnd_range(s, s->o.lat_min_ms, s->o.lat_max_ms);
        if (t < s->last_deliver[i][to])
            t = s->last_deliver[i][to];
        s->last_deliver[i][to] = t;
        e.time = t;
        push(s, e);
    }
    /* 5. closes */
    for (size_t k = 0; k < up->n_closes; k++) {
        int to = idx_of(s, up->closes[k]);
        if (to >= 0 && to != i)
            break_link(s, i, to, false, true);
    }
    /* 6. the pipeline: requests forwarded to the leader become proposals (stepping again
       invalidates *up, so take the request bodies first) */
    size_t n_req = 0;
    struct zab_blob **reqs = NULL;
    if (up->n_inbound) {
        reqs = calloc(up->n_inbound, sizeof(*reqs));
        assert(reqs);
        for (size_t k = 0; k < up->n_inbound; k++)
            if (up->inbound[k].type == ZAB_MSG_REQUEST)
                reqs[n_req++] = zab_blob_ref(up->inbound[k].data);
    }
    schedule_tick(s, i, up->next_deadline);
    for (size_t k = 0; k < n_req; k++) {
        struct zab_event pe = {.type = ZAB_PROPOSE, .now = s->now};
        pe.propose.data = reqs[k];
        step(s, i, &pe);
        zab_blob_unref(reqs[k]);
    }
    free(reqs);
}

static void step(struct sim *s, int i, struct zab_event *ev)
{
    struct server *v = &s->sv[i];
    if (!v->is_up)
        return;
    struct zab_update up;
    ev->now = s->now;
    s->steps++;
    int rc = zab_step(v->z, ev, &up);
    if (rc != 0 && !(rc == PD_EINVAL && ev->type == ZAB_PROPOSE))
        fail(s, "s%lld zab_step(type %d) returned %d", (long long)v->sid, ev->type, rc);
    int ck = zab_check(v->z);
    if (ck != 0)
        fail(s, "s%lld zab_check failed: %d", (long long)v->sid, ck);
    perform(s, i, &up);
}

static void boot(struct sim *s, int i)
{
    struct server *v = &s->sv[i];
    v->z = zab_new();
    assert(v->z);
    zab_set_tracer(v->z, tracer, s);
    v->is_up = true;
    v->was_started = true;
    v->applied = 0;
    v->role = ZAB_LOOKING;
    v->phase = ZAB_PHASE_ELECTION;
    v->tick_at = 0;
    v->last_disk_done = s->now;
    hist_copy(&v->mem, &v->disk);
    struct zab_event ev = {.type = ZAB_START, .now = s->now};
    struct zab_start *st = &ev.start;
    st->config.self = v->sid;
    st->config.n_servers = s->n;
    for (int k = 0; k < s->n; k++) {
        st->config.servers[k].sid = s->sv[k].sid;
        st->config.servers[k].is_observer = s->sv[k].is_observer;
    }
    st->config.tick_ms = s->o.tick_ms;
    st->config.init_limit = s->o.init_limit;
    st->config.sync_limit = s->o.sync_limit;
    st->config.commit_log_count = s->o.commit_log_count;
    st->accepted_epoch = v->d_accepted;
    st->current_epoch = v->d_current;
    st->last_zxid = v->disk.n ? v->disk.v[v->disk.n - 1].zxid : 0;
    size_t n_tail = v->disk.n < s->o.commit_log_count ? v->disk.n : s->o.commit_log_count;
    struct zab_txn *tail = calloc(n_tail ? n_tail : 1, sizeof(*tail));
    assert(tail);
    for (size_t k = 0; k < n_tail; k++) {
        const struct sim_txn *t = &v->disk.v[v->disk.n - n_tail + k];
        tail[k].zxid = t->zxid;
        tail[k].data = zab_blob_new(&t->id, sizeof(t->id));
    }
    st->tail = tail;
    st->n_tail = n_tail;
    st->seed = rnd(s);
    step(s, i, &ev);
    for (size_t k = 0; k < n_tail; k++)
        zab_blob_unref(tail[k].data);
    free(tail);
}

void sim_start(struct sim *s)
{
    for (int i = 0; i < s->n; i++)
        if (!s->sv[i].is_up && !s->sv[i].was_started)
            boot(s, i);
}

/* ---- running ---- */

static void handle(struct sim *s, struct ev *e)
{
    struct server *v = &s->sv[e->to];
    if (!v->is_up || e->inc != v->inc)
        return;
    struct zab_event ev = {.now = s->now};
    switch (e->kind) {
    case EV_DELIVER:
        if (e->msg.type == ZAB_MSG_NOTIFICATION) {
            /* Election traffic tolerates loss: dropped while blocked or broken. */
            if (s->gen[e->from][e->to] != e->gen || s->blocked[e->from][e->to])
                return;
        } else {
            if (e->conn <= s->conn_dead[e->from][e->to])
                return;
            if (s->gen[e->from][e->to] != e->gen || s->blocked[e->from][e->to]) {
                if (e->conn > s->conn_dead[e->from][e->to])
                    s->conn_dead[e->from][e->to] = s->conn_dead[e->to][e->from] = e->conn;
                return;
            }
            if (e->msg.type == ZAB_MSG_FOLLOWERINFO || e->msg.type == ZAB_MSG_OBSERVERINFO)
                s->conn[e->to][e->from] = e->conn;
        }
        if (e->msg.type == ZAB_MSG_SNAP)
            hist_copy(&v->snap_recv, &e->snap);
        if (s->is_msg_trace && (e->msg.type != ZAB_MSG_PING || getenv("SIM_PINGS"))) {
            char line[128];
            snprintf(line, sizeof(line), "<- s%lld %s 0x%llx", (long long)s->sv[e->from].sid,
                     zab_msg_name(e->msg.type), (unsigned long long)e->msg.zxid);
            tracer(s, s->now, v->sid, line);
        }
        ev.type = ZAB_RECV;
        ev.recv.from = s->sv[e->from].sid;
        ev.recv.msg = &e->msg;
        step(s, e->to, &ev);
        break;
    case EV_PEER_DOWN:
        ev.type = ZAB_PEER_DOWN;
        ev.peer.peer = s->sv[e->from].sid;
        step(s, e->to, &ev);
        break;
    case EV_DISK: {
        size_t k = 0;
        while (k < v->n_ops && v->ops[k].seq <= e->op_seq) {
            disk_apply(v, &v->ops[k]);
            free(v->ops[k].snap.v);
            k++;
        }
        memmove(v->ops, v->ops + k, (v->n_ops - k) * sizeof(*v->ops));
        v->n_ops -= k;
        ev.type = ZAB_PERSISTED;
        ev.persisted.seq = e->op_seq;
        step(s, e->to, &ev);
        break;
    }
    case EV_TICK:
        if (e->time != v->tick_at)
            return;
        v->tick_at = 0;
        ev.type = ZAB_TICK;
        step(s, e->to, &ev);
        break;
    }
}

static bool run_one(struct sim *s, uint64_t t)
{
    if (s->n_heap == 0 || s->heap[0].time > t || s->has_failure)
        return false;
    struct ev e = pop(s);
    if (e.time > s->now)
        s->now = e.time;
    handle(s, &e);
    ev_free(&e);
    return true;
}

void sim_run_until(struct sim *s, uint64_t t)
{
    while (run_one(s, t))
        ;
    if (!s->has_failure && s->now < t)
        s->now = t;
}

bool sim_run_until_pred(struct sim *s, uint64_t max_t, bool (*pred)(struct sim *, void *),
                        void *arg)
{
    if (pred(s, arg))
        return true;
    while (run_one(s, max_t))
        if (pred(s, arg))
            return true;
    if (!s->has_failure && s->now < max_t)
        s->now = max_t;
    return pred(s, arg);
}

/* ---- queries ---- */

uint64_t sim_now(const struct sim *s)
{
    return s->now;
}
int sim_n(const struct sim *s)
{
    return s->n;
}
pd_sid sim_sid(const struct sim *s, int i)
{
    return s->sv[i].sid;
}
bool sim_is_up(const struct sim *s, int i)
{
    return s->sv[i].is_up;
}
const struct zab *sim_zab(const struct sim *s, int i)
{
    return s->sv[i].z;
}
pd_zxid sim_applied(const struct sim *s, int i)
{
    return s->sv[i].applied;
}
size_t sim_committed_count(const struct sim *s)
{
    return s->committed.n;
}
uint64_t sim_steps(const struct sim *s)
{
    return s->steps;
}
const char *sim_failure(const struct sim *s)
{
    return s->has_failure ? s->failure : NULL;
}

bool sim_is_committed(const struct sim *s, uint64_t id)
{
    for (size_t i = 0; i < s->committed.n; i++)
        if (s->committed.v[i].id == id)
            return true;
    return false;
}

int sim_leader(const struct sim *s)
{
    int best = -1;
    for (int i = 0; i < s->n; i++) {
        const struct server *v = &s->sv[i];
        if (v->is_up && v->role == ZAB_LEADING && v->phase == ZAB_PHASE_BROADCAST &&
            (best < 0 || v->epoch > s->sv[best].epoch))
            best = i;
    }
    return best;
}

bool sim_converged(const struct sim *s)
{
    int l = sim_leader(s);
    if (l < 0)
        return false;
    const struct server *lv = &s->sv[l];
    size_t k = hist_count_le(&lv->mem, lv->applied);
    for (int i = 0; i < s->n; i++) {
        const struct server *v = &s->sv[i];
        if (!v->is_up)
            continue;
        if (i != l && (v->phase != ZAB_PHASE_BROADCAST || zab_leader(v->z) != lv->sid))
            return false;
        if (v->applied != lv->applied)
            return false;
        if (hist_count_le(&v->mem, v->applied) != k)
            return false;
        for (size_t j = 0; j < k; j++)
            if (v->mem.v[j].zxid != lv->mem.v[j].zxid || v->mem.v[j].id != lv->mem.v[j].id)
                return false;
    }
    return true;
}

/* ---- faults and clients ---- */

void sim_crash(struct sim *s, int i)
{
    struct server *v = &s->sv[i];
    if (!v->is_up)
        return;
    tracer(s, s->now, v->sid, "CRASH");
    server_down(v);
    v->mem.n = 0;
    for (int k = 0; k < s->n; k++)
        if (k != i)
            break_link(s, i, k, false, true);
}

void sim_restart(struct sim *s, int i)
{
    if (s->sv[i].is_up)
        return;
    tracer(s, s->now, s->sv[i].sid, "RESTART");
    boot(s, i);
}

void sim_block(struct sim *s, int a, int b)
{
    s->blocked[a][b] = true;
    if (s->blocked[b][a])
        break_link(s, a, b, true, true);
}

void sim_partition(struct sim *s, uint32_t mask)
{
    for (int a = 0; a < s->n; a++)
        for (int b = a + 1; b < s->n; b++) {
            bool ina = mask & (1u << a), inb = mask & (1u << b);
            if (ina != inb) {
                s->blocked[a][b] = s->blocked[b][a] = true;
                break_link(s, a, b, true, true);
            }
        }
}

void sim_heal(struct sim *s)
{
    memset(s->blocked, 0, sizeof(s->blocked));
}

void sim_set_disk_latency(struct sim *s, int i, uint32_t min_ms, uint32_t max_ms)
{
    s->sv[i].disk_min = min_ms;
    s->sv[i].disk_max = max_ms;
}

uint64_t sim_propose(struct sim *s, int i)
{
    struct server *v = &s->sv[i];
    if (!v->is_up || s->has_failure)
        return 0;
    uint64_t id = s->next_id++;
    struct zab_blob *b = zab_blob_new(&id, sizeof(id));
    assert(b);
    struct zab_event ev = {.type = ZAB_PROPOSE, .now = s->now};
    ev.propose.data = b;
    struct zab_update up;
    s->steps++;
    int rc = zab_step(v->z, &ev, &up);
    zab_blob_unref(b);
    if (zab_check(v->z) != 0)
        fail(s, "s%lld zab_check failed after propose", (long long)v->sid);
    perform(s, i, &up);
    return rc == 0 ? id : 0;
}

bool sim_trace_has(const struct sim *s, const char *needle)
{
    return s->trace && strstr(s->trace, needle) != NULL;
}

void sim_dump_trace(const struct sim *s)
{
    if (s->trace)
        fputs(s->trace, stderr);
}
