/*
 * The entry point of the Zab core: zab_step() dispatch, ZAB_START, role transitions, the
 * local log tail, storage sequence numbers and the update being built. The phase logic lives
 * in fle.c (election), leader.c (Leader + LearnerHandler) and learner.c (Learner, Follower,
 * Observer); see zab.h for the state diagram.
 *
 * Invariants: the in-memory tail holds at most cfg.commit_log_count txns in strictly
 * ascending zxid order and ends at last_zxid when it is not empty; commit_zxid never
 * decreases within one lifetime and never exceeds last_zxid; every blob referenced by the
 * update is held by one reference released at the start of the next step.
 */
#include "zab/zab_int.h"

#include "common/alloc.h"
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- blobs ---- */

struct zab_blob *zab_blob_new(const void *p, uint32_t len)
{
    struct zab_blob *b = pd_malloc(sizeof(*b) + len);
    if (!b)
        return NULL;
    b->refs = 1;
    b->len = len;
    if (len)
        memcpy(b->data, p, len);
    return b;
}

struct zab_blob *zab_blob_ref(struct zab_blob *b)
{
    if (b)
        b->refs++;
    return b;
}

void zab_blob_unref(struct zab_blob *b)
{
    if (b && --b->refs == 0)
        pd_free(b);
}

/* ---- small helpers ---- */

static bool grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *p = pd_realloc(*arr, n * elem);
    if (!p)
        return false;
    *arr = p;
    *cap = n;
    return true;
}

uint64_t zab_min_deadline(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

int zab_idx(const struct zab *z, pd_sid sid)
{
    for (int i = 0; i < z->cfg.n_servers; i++)
        if (z->cfg.servers[i].sid == sid)
            return i;
    return -1;
}

bool zab_is_voter_idx(const struct zab *z, int idx)
{
    return idx >= 0 && (z->voter_mask & (1u << idx));
}

/* Majority of participants (QuorumMaj.containsQuorum). */
bool zab_is_quorum(const struct zab *z, uint32_t mask)
{
    int n = __builtin_popcount(mask & z->voter_mask);
    int total = __builtin_popcount(z->voter_mask);
    return 2 * n > total;
}

void zab_trace(struct zab *z, const char *fmt, ...)
{
    if (!z->tracer)
        return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    z->tracer(z->tracer_arg, z->now, z->cfg.self, line);
}

void zab_send(struct zab *z, pd_sid to, const struct zab_msg *msg)
{
    if (!grow((void **)&z->sends, &z->cap_sends, z->n_sends + 1, sizeof(*z->sends))) {
        z->err = PD_ENOMEM;
        return;
    }
    struct zab_send *s = &z->sends[z->n_sends++];
    s->to = to;
    s->msg = *msg;
    s->msg.data = zab_blob_ref(msg->data);
}

uint64_t zab_store(struct zab *z, int kind, pd_zxid zxid, uint32_t epoch, struct zab_blob *data)
{
    if (!grow((void **)&z->stores, &z->cap_stores, z->n_stores + 1, sizeof(*z->stores))) {
        z->err = PD_ENOMEM;
        return z->next_seq;
    }
    struct zab_store *s = &z->stores[z->n_stores++];
    s->seq = ++z->next_seq;
    s->kind = kind;
    s->zxid = zxid;
    s->epoch = epoch;
    s->data = zab_blob_ref(data);
    return s->seq;
}

void zab_close(struct zab *z, pd_sid peer, const char *why)
{
    for (size_t i = 0; i < z->n_closes; i++)
        if (z->closes[i] == peer)
            return;
    size_t cap = z->cap_closes;
    if (!grow((void **)&z->close_whys, &cap, z->n_closes + 1, sizeof(*z->close_whys)) ||
        !grow((void **)&z->closes, &z->cap_closes, z->n_closes + 1, sizeof(*z->closes))) {
        z->err = PD_ENOMEM;
        return;
    }
    z->close_whys[z->n_closes] = why;
    z->closes[z->n_closes++] = peer;
}

void zab_inbound_add(struct zab *z, pd_sid from, int32_t type, struct zab_blob *data)
{
    if (!grow((void **)&z->inbound, &z->cap_inbound, z->n_inbound + 1, sizeof(*z->inbound))) {
        z->err = PD_ENOMEM;
        return;
    }
    struct zab_inbound *in = &z->inbound[z->n_inbound++];
    in->from = from;
    in->type = type;
    in->data = zab_blob_ref(data);
}

/* Appends to the in-memory tail (dropping the oldest beyond the cap) and asks the driver to
   log the txn. Returns the store seq. */
uint64_t zab_log_append(struct zab *z, pd_zxid zxid, struct zab_blob *data)
{
    if (z->n_win == z->cfg.commit_log_count && z->n_win > 0) {
        zab_blob_unref(z->win[0].data);
        memmove(z->win, z->win + 1, (z->n_win - 1) * sizeof(*z->win));
        z->n_win--;
    }
    if (z->cfg.commit_log_count > 0) {
        if (!grow((void **)&z->win, &z->cap_win, z->n_win + 1, sizeof(*z->win))) {
            z->err = PD_ENOMEM;
            return z->next_seq;
        }
        z->win[z->n_win].zxid = zxid;
        z->win[z->n_win].data = zab_blob_ref(data);
        z->n_win++;
    }
    z->last_zxid = zxid;
    return zab_store(z, ZAB_STORE_APPEND, zxid, 0, data);
}

/* Drops every txn with zxid > zxid from the tail and the log. */
void zab_log_truncate(struct zab *z, pd_zxid zxid)
{
    while (z->n_win > 0 && z->win[z->n_win - 1].zxid > zxid) {
        zab_blob_unref(z->win[z->n_win - 1].data);
        z->n_win--;
    }
    z->last_zxid = zxid;
    zab_store(z, ZAB_STORE_TRUNCATE, zxid, 0, NULL);
}

/* Forgets the whole tail: the database is replaced by a snapshot at zxid. No store op. */
void zab_log_reset(struct zab *z, pd_zxid zxid)
{
    for (size_t i = 0; i < z->n_win; i++)
        zab_blob_unref(z->win[i].data);
    z->n_win = 0;
    z->last_zxid = zxid;
}

void zab_commit_to(struct zab *z, pd_zxid zxid)
{
    if (zxid > z->last_zxid)
        zxid = z->last_zxid;
    if (zxid <= z->commit_zxid)
        return;
    z->commit_zxid = zxid;
    z->up->flags |= ZAB_UPD_COMMIT;
}

void zab_set_role(struct zab *z, enum zab_state role, enum zab_phase phase, pd_sid leader)
{
    if (z->role != role || z->phase != phase || z->leader != leader)
        z->up->flags |= ZAB_UPD_ROLE;
    z->role = role;
    z->phase = phase;
    z->leader = leader;
}

/* Leaves whatever role we are in and starts a new election round. */
void zab_go_looking(struct zab *z, const char *why)
{
    zab_trace(z, "%s -> LOOKING: %s", zab_state_name(z->role), why);
    if (z->role == ZAB_LEADING)
        leader_stop(z);
    else if (z->role == ZAB_FOLLOWING || z->role == ZAB_OBSERVING)
        learner_stop(z);
    z->epoch = 0;
    zab_set_role(z, ZAB_LOOKING, ZAB_PHASE_ELECTION, ZAB_SID_NONE);
    fle_start(z);
}

/* ---- lifecycle ---- */

struct zab *zab_new(void)
{
    struct zab *z = pd_calloc(1, sizeof(*z));
    if (!z)
        return NULL;
    z->leader = ZAB_SID_NONE;
    return z;
}

static void release_update(struct zab *z)
{
    for (size_t i = 0; i < z->n_sends; i++)
        zab_blob_unref(z->sends[i].msg.data);
    for (size_t i = 0; i < z->n_stores; i++)
        zab_blob_unref(z->stores[i].data);
    for (size_t i = 0; i < z->n_inbound; i++)
        zab_blob_unref(z->inbound[i].data);
    z->n_sends = z->n_stores = z->n_inbound = z->n_closes = 0;
}

void zab_free(struct zab *z)
{
    if (!z)
        return;
    release_update(z);
    for (size_t i = 0; i < z->n_win; i++)
        zab_blob_unref(z->win[i].data);
    for (size_t i = 0; i < z->n_props; i++)
        zab_blob_unref(z->props[i].data);
    pd_free(z->win);
    pd_free(z->props);
    pd_free(z->syncs);
    pd_free(z->acks);
    pd_free(z->sends);
    pd_free(z->stores);
    pd_free(z->inbound);
    pd_free(z->closes);
    pd_free(z->close_whys);
    pd_free(z);
}

void zab_set_tracer(struct zab *z, zab_tracer_fn fn, void *arg)
{
    z->tracer = fn;
    z->tracer_arg = arg;
}

static int do_start(struct zab *z, const struct zab_start *st)
{
    if (z->is_started)
        return PD_EINVAL;
    z->cfg = st->config;
    if (z->cfg.n_servers < 1 || z->cfg.n_servers > ZAB_MAX_SERVERS || z->cfg.tick_ms == 0)
        return PD_ECONFIG;
    if (z->cfg.finalize_wait_ms == 0)
        z->cfg.finalize_wait_ms = 200;
    if (z->cfg.max_notification_interval_ms == 0)
        z->cfg.max_notification_interval_ms = 60000;
    if (z->cfg.commit_log_count == 0)
        z->cfg.commit_log_count = 500;
    if (z->cfg.init_limit == 0 || z->cfg.sync_limit == 0)
        return PD_ECONFIG;
    z->self_idx = zab_idx(z, z->cfg.self);
    if (z->self_idx < 0)
        return PD_ECONFIG;
    z->voter_mask = 0;
    for (int i = 0; i < z->cfg.n_servers; i++) {
        for (int j = 0; j < i; j++)
            if (z->cfg.servers[j].sid == z->cfg.servers[i].sid)
                return PD_ECONFIG;
        if (!z->cfg.servers[i].is_observer)
            z->voter_mask |= 1u << i;
    }
    if (!z->voter_mask)
        return PD_ECONFIG;
    z->is_observer = z->cfg.servers[z->self_idx].is_observer;
    z->rng = st->seed ? st->seed : 0x9e3779b97f4a7c15ull;
    z->accepted_epoch = st->accepted_epoch;
    z->current_epoch = st->current_epoch;
    z->last_zxid = st->last_zxid;
    z->commit_zxid = 0;
    size_t first = st->n_tail > z->cfg.commit_log_count ? st->n_tail - z->cfg.commit_log_count : 0;
    for (size_t i = first; i < st->n_tail; i++) {
        if (i > first && st->tail[i].zxid <= st->tail[i - 1].zxid)
            return PD_ECONFIG;
        if (!grow((void **)&z->win, &z->cap_win, z->n_win + 1, sizeof(*z->win)))
            return PD_ENOMEM;
        z->win[z->n_win].zxid = st->tail[i].zxid;
        z->win[z->n_win].data = zab_blob_ref(st->tail[i].data);
        z->n_win++;
    }
    if (z->n_win && z->win[z->n_win - 1].zxid != z->last_zxid)
        return PD_ECONFIG;
    z->is_started = true;
    z->role = ZAB_LOOKING;
    z->phase = ZAB_PHASE_ELECTION;
    z->leader = ZAB_SID_NONE;
    z->up->flags |= ZAB_UPD_ROLE;
    zab_trace(z, "start accepted=%u current=%u last=0x%llx", z->accepted_epoch, z->current_epoch,
              (unsigned long long)z->last_zxid);
    fle_start(z);
    return 0;
}

/* Runs the timers of the current role that are due at z->now. */
static void run_timers(struct zab *z)
{
    switch (z->role) {
    case ZAB_LOOKING:
        fle_timer(z);
        break;
    case ZAB_LEADING:
        leader_timer(z);
        break;
    case ZAB_FOLLOWING:
    case ZAB_OBSERVING:
        learner_timer(z);
        break;
    }
}

static void handle_recv(struct zab *z, pd_sid from, const struct zab_msg *m)
{
    if (zab_idx(z, from) < 0)
        return; /* not in the configuration: ignored (dynamic reconfig comes later) */
    if (m->type == ZAB_MSG_NOTIFICATION) {
        fle_recv(z, from, &m->note);
        return;
    }
    int idx = zab_idx(z, from);
    switch (z->role) {
    case ZAB_LOOKING:
        /* A learner connecting before we know we lead: keep its handshake, as the accept
           backlog of ZooKeeper's quorum port would, until the election ends. */
        if (m->type == ZAB_MSG_FOLLOWERINFO || m->type == ZAB_MSG_OBSERVERINFO) {
            z->stash_info[idx] = true;
            z->stash_msg[idx] = *m;
            z->stash_msg[idx].data = NULL;
        }
        break;
    case ZAB_LEADING:
        leader_recv(z, from, m);
        break;
    case ZAB_FOLLOWING:
    case ZAB_OBSERVING:
        if (m->type == ZAB_MSG_FOLLOWERINFO || m->type == ZAB_MSG_OBSERVERINFO)
            zab_close(z, from, "not leading"); /* we do not lead: refuse the learner */
        else
            learner_recv(z, from, m);
        break;
    }
}

static void handle_persisted(struct zab *z, uint64_t seq)
{
    if (seq > z->next_seq)
        seq = z->next_seq;
    if (seq <= z->persisted_seq)
        return;
    z->persisted_seq = seq;
    if (z->role == ZAB_LEADING)
        leader_persisted(z);
    else if (z->role == ZAB_FOLLOWING || z->role == ZAB_OBSERVING)
        learner_persisted(z);
}

static uint64_t next_deadline(const struct zab *z)
{
    switch (z->role) {
    case ZAB_LOOKING:
        return z->fle.deadline;
    case ZAB_LEADING:
        return leader_deadline(z);
    default:
        return learner_deadline(z);
    }
}

int zab_step(struct zab *z, const struct zab_event *ev, struct zab_update *up)
{
    release_update(z);
    memset(up, 0, sizeof(*up));
    z->up = up;
    z->err = 0;
    if (ev->now > z->now)
        z->now = ev->now;
    int rc = 0;
    if (ev->type == ZAB_START) {
        rc = do_start(z, &ev->start);
    } else if (!z->is_started) {
        rc = PD_EINVAL;
    } else {
        run_timers(z);
        switch (ev->type) {
        case ZAB_TICK:
            break;
        case ZAB_RECV:
            handle_recv(z, ev->recv.from, ev->recv.msg);
            break;
        case ZAB_PERSISTED:
            handle_persisted(z, ev->persisted.seq);
            break;
        case ZAB_SNAPSHOT_READY:
            handle_persisted(z, ev->snapshot.seq);
            break;
        case ZAB_PROPOSE:
            if (z->role == ZAB_LEADING)
                rc = leader_propose(z, ev->propose.data);
            else if (z->role == ZAB_FOLLOWING || z->role == ZAB_OBSERVING)
                rc = learner_propose(z, ev->propose.data);
            else
                rc = PD_EINVAL;
            if (rc == 0 && z->role == ZAB_LEADING)
                up->proposed_zxid = z->last_proposed;
            break;
        case ZAB_PEER_UP:
            break;
        case ZAB_PEER_DOWN: {
            int idx = zab_idx(z, ev->peer.peer);
            if (idx >= 0)
                z->stash_info[idx] = false;
            if (z->role == ZAB_LEADING)
                leader_peer_down(z, ev->peer.peer);
            else if (z->role == ZAB_FOLLOWING || z->role == ZAB_OBSERVING)
                learner_peer_down(z, ev->peer.peer);
            break;
        }
        case ZAB_SYNC_REQUEST:
            if (z->role == ZAB_LEADING)
                leader_sync_request(z, ev->sync.from);
            else
                rc = PD_EINVAL;
            break;
        default:
            rc = PD_EINVAL;
            break;
        }
    }
    up->role = z->role;
    up->phase = z->phase;
    up->leader = z->leader;
    up->epoch = z->epoch;
    up->commit_zxid = z->commit_zxid;
    up->sends = z->sends;
    up->n_sends = z->n_sends;
    up->stores = z->stores;
    up->n_stores = z->n_stores;
    up->inbound = z->inbound;
    up->n_inbound = z->n_inbound;
    up->closes = z->closes;
    up->close_whys = z->close_whys;
    up->n_closes = z->n_closes;
    up->next_deadline = z->is_started ? next_deadline(z) : UINT64_MAX;
    for (size_t i = 0; i < z->n_sends; i++)
        if (z->sends[i].msg.type == ZAB_MSG_SNAP)
            up->flags |= ZAB_UPD_SNAP_SENT;
    z->up = NULL;
    if (z->err)
        return z->err;
    return rc;
}

/* ---- introspection ---- */

int zab_check(const struct zab *z)
{
    for (size_t i = 1; i < z->n_win; i++)
        if (z->win[i].zxid <= z->win[i - 1].zxid)
            return PD_ECORRUPT;
    if (z->n_win && z->win[z->n_win - 1].zxid != z->last_zxid)
        return PD_ECORRUPT;
    if (z->n_win > z->cfg.commit_log_count)
        return PD_ECORRUPT;
    if (z->commit_zxid > z->last_zxid)
        return PD_ECORRUPT;
    if (z->persisted_seq > z->next_seq)
        return PD_ECORRUPT;
    for (size_t i = 1; i < z->n_props; i++)
        if (z->props[i].zxid <= z->props[i - 1].zxid)
            return PD_ECORRUPT;
    if (z->role == ZAB_LEADING && z->n_props && z->props[0].zxid <= z->commit_zxid)
        return PD_ECORRUPT;
    if ((z->role == ZAB_LOOKING) != (z->phase == ZAB_PHASE_ELECTION))
        return PD_ECORRUPT;
    return 0;
}

enum zab_state zab_role(const struct zab *z)
{
    return z->role;
}
enum zab_phase zab_phase(const struct zab *z)
{
    return z->phase;
}
pd_sid zab_leader(const struct zab *z)
{
    return z->leader;
}
uint32_t zab_current_epoch(const struct zab *z)
{
    return z->current_epoch;
}
uint32_t zab_accepted_epoch(const struct zab *z)
{
    return z->accepted_epoch;
}
pd_zxid zab_last_zxid(const struct zab *z)
{
    return z->last_zxid;
}
pd_zxid zab_commit_zxid(const struct zab *z)
{
    return z->commit_zxid;
}

int zab_synced_followers(const struct zab *z)
{
    if (z->role != ZAB_LEADING)
        return 0;
    int n = 0;
    for (int i = 0; i < z->cfg.n_servers; i++)
        if (z->lh[i].phase == LH_BROADCAST && zab_is_voter_idx(z, i))
            n++;
    return n;
}

int zab_synced_observers(const struct zab *z)
{
    if (z->role != ZAB_LEADING)
        return 0;
    int n = 0;
    for (int i = 0; i < z->cfg.n_servers; i++)
        if (z->lh[i].phase == LH_BROADCAST && !zab_is_voter_idx(z, i))
            n++;
    return n;
}

const char *zab_msg_name(int32_t type)
{
    switch (type) {
    case ZAB_MSG_REQUEST:
        return "REQUEST";
    case ZAB_MSG_PROPOSAL:
        return "PROPOSAL";
    case ZAB_MSG_ACK:
        return "ACK";
    case ZAB_MSG_COMMIT:
        return "COMMIT";
    case ZAB_MSG_PING:
        return "PING";
    case ZAB_MSG_REVALIDATE:
        return "REVALIDATE";
    case ZAB_MSG_SYNC:
        return "SYNC";
    case ZAB_MSG_INFORM:
        return "INFORM";
    case ZAB_MSG_COMMITANDACTIVATE:
        return "COMMITANDACTIVATE";
    case ZAB_MSG_NEWLEADER:
        return "NEWLEADER";
    case ZAB_MSG_FOLLOWERINFO:
        return "FOLLOWERINFO";
    case ZAB_MSG_UPTODATE:
        return "UPTODATE";
    case ZAB_MSG_DIFF:
        return "DIFF";
    case ZAB_MSG_TRUNC:
        return "TRUNC";
    case ZAB_MSG_SNAP:
        return "SNAP";
    case ZAB_MSG_OBSERVERINFO:
        return "OBSERVERINFO";
    case ZAB_MSG_LEADERINFO:
        return "LEADERINFO";
    case ZAB_MSG_ACKEPOCH:
        return "ACKEPOCH";
    case ZAB_MSG_INFORMANDACTIVATE:
        return "INFORMANDACTIVATE";
    case ZAB_MSG_NOTIFICATION:
        return "NOTIFICATION";
    default:
        return "UNKNOWN";
    }
}

const char *zab_state_name(enum zab_state s)
{
    switch (s) {
    case ZAB_LOOKING:
        return "LOOKING";
    case ZAB_FOLLOWING:
        return "FOLLOWING";
    case ZAB_LEADING:
        return "LEADING";
    case ZAB_OBSERVING:
        return "OBSERVING";
    }
    return "?";
}
