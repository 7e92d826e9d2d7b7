/*
 * The leader side of Zab: Apache ZooKeeper 3.8's Leader.lead() and one LearnerHandler per
 * learner connection, as handlers of received records, durability reports and timers.
 * Facts from Leader.java and LearnerHandler.java; the code is ours.
 *
 *   leader_start()              DISCOVERY: count FOLLOWERINFO/OBSERVERINFO (getEpochToPropose)
 *     quorum incl. self      -> newEpoch = max(acceptedEpoch) + 1, write acceptedEpoch
 *     leader_persisted()     -> LEADERINFO to every waiting learner
 *   leader_recv(ACKEPOCH)       count (waitForEpochAck); a learner ahead of us is dropped
 *     quorum incl. self      -> SYNC: write currentEpoch; start_sync() per learner:
 *                               DIFF|TRUNC|SNAP (+ PROPOSAL/COMMIT pairs), outstanding
 *                               proposals, NEWLEADER
 *   leader_recv(ACK NEWLEADER)  count (waitForNewLeaderAck); self counts once durable
 *     quorum incl. self      -> BROADCAST: commit own history, UPTODATE to every acker
 *   leader_propose()            PROPOSAL to forwarding participants; try_commit() on a quorum
 *                               of durable ACKs, in zxid order: COMMIT, INFORM to observers
 *   leader_timer()              initLimit per discovery/sync wait; every tickTime a synced
 *                               quorum (syncLimit) or step down; PING every tickTime / 2
 *
 * Invariants: the leader sends LEADERINFO only once acceptedEpoch is durable and counts itself
 * for NEWLEADER only once currentEpoch (and so its whole log) is durable; proposals commit in
 * zxid order and only in BROADCAST; a learner receives PROPOSAL/COMMIT only after its sync
 * records (startForwarding), so its stream is its sync followed by the broadcast.
 */
#include "zab/zab_int.h"

#include "common/alloc.h"
#include "common/err.h"

#include <string.h>

static uint64_t ms(const struct zab *z, uint32_t ticks)
{
    return (uint64_t)ticks * z->cfg.tick_ms;
}

static void send_simple(struct zab *z, pd_sid to, int32_t type, pd_zxid zxid)
{
    struct zab_msg m;
    memset(&m, 0, sizeof(m));
    m.type = type;
    m.zxid = zxid;
    zab_send(z, to, &m);
}

static void send_data(struct zab *z, pd_sid to, int32_t type, pd_zxid zxid, struct zab_blob *data)
{
    struct zab_msg m;
    memset(&m, 0, sizeof(m));
    m.type = type;
    m.zxid = zxid;
    m.data = data;
    zab_send(z, to, &m);
}

static pd_sid sid_of(const struct zab *z, int idx)
{
    return z->cfg.servers[idx].sid;
}

/* A handler that receives the broadcast stream (after startForwarding). */
static bool is_forwarding(const struct zab_handler *h)
{
    return h->phase >= LH_SYNCING;
}

/* A PROPOSAL went to learner idx (syncLimitCheck.updateProposal). */
static void chk_sent(struct zab *z, int idx, pd_zxid zxid)
{
    struct zab_handler *h = &z->lh[idx];
    if (!h->is_chk_started)
        return;
    if (!h->has_chk) {
        h->has_chk = true;
        h->chk_zxid = zxid;
        h->chk_ms = z->now;
    } else {
        h->has_next = true;
        h->next_zxid = zxid;
        h->next_ms = z->now;
    }
}

/* Learner idx ACKed zxid (syncLimitCheck.updateAck). A learner ACKs in zxid order, so an ACK
   also covers what was sent before it; what was sent between the oldest and the newest is not
   tracked (ZooKeeper's approximation): the newest becomes the oldest. */
static void chk_acked(struct zab_handler *h, pd_zxid zxid)
{
    if (!h->has_chk || zxid < h->chk_zxid)
        return;
    if (h->has_next && zxid < h->next_zxid) {
        h->chk_zxid = h->next_zxid;
        h->chk_ms = h->next_ms;
    } else {
        h->has_chk = false;
    }
    h->has_next = false;
}

/* syncLimitCheck.check: the oldest unACKed PROPOSAL is younger than syncLimit ticks. */
static bool chk_ok(const struct zab *z, const struct zab_handler *h)
{
    return !h->has_chk || z->now - h->chk_ms < ms(z, z->cfg.sync_limit);
}

static void drop_handler(struct zab *z, int idx, const char *why)
{
    if (z->lh[idx].phase == LH_NONE)
        return;
    zab_trace(z, "drop learner %lld: %s", (long long)sid_of(z, idx), why);
    memset(&z->lh[idx], 0, sizeof(z->lh[idx]));
    zab_close(z, sid_of(z, idx), why);
}

static void clear_props(struct zab *z)
{
    for (size_t i = 0; i < z->n_props; i++)
        zab_blob_unref(z->props[i].data);
    z->n_props = 0;
    z->n_syncs = 0;
}

static void send_leaderinfo(struct zab *z, int idx)
{
    struct zab_msg m;
    memset(&m, 0, sizeof(m));
    m.type = ZAB_MSG_LEADERINFO;
    m.zxid = zab_make_zxid(z->epoch, 0);
    m.protocol_version = ZAB_PROTOCOL_VERSION;
    zab_send(z, sid_of(z, idx), &m);
    z->lh[idx].phase = LH_WAIT_ACKEPOCH;
}

static void try_decide_epoch(struct zab *z)
{
    if (z->is_epoch_decided || !zab_is_quorum(z, z->connecting_mask))
        return;
    z->is_epoch_decided = true;
    z->epoch = z->max_accepted + 1;
    z->accepted_epoch = z->epoch;
    z->accepted_seq = zab_store(z, ZAB_STORE_ACCEPTED_EPOCH, 0, z->epoch, NULL);
    z->stage_deadline = z->now + ms(z, z->cfg.init_limit);
    zab_trace(z, "new epoch %u", z->epoch);
}

/* The last zxid of the leader's database: its whole log until established, then what it has
   committed (ZooKeeper's lastProcessedZxid). */
static pd_zxid last_processed(const struct zab *z)
{
    return z->is_established ? z->commit_zxid : z->last_zxid;
}

/* queueCommittedProposals(): DIFF or TRUNC, then PROPOSAL+COMMIT for what the peer lacks.
   Returns the last zxid queued; *need_op stays true when no op record could be chosen. */
static pd_zxid queue_committed(struct zab *z, pd_sid to, pd_zxid peer, pd_zxid max_committed,
                               pd_zxid last_proc, bool *need_op)
{
    bool is_new_epoch = zab_counter_of(peer) == 0;
    pd_zxid queued = peer;
    pd_zxid prev = -1;
    for (size_t i = 0; i < z->n_win && z->win[i].zxid <= last_proc; i++) {
        pd_zxid zx = z->win[i].zxid;
        if (zx < peer) {
            prev = zx;
            continue;
        }
        if (*need_op) {
            if (zx == peer) {
                send_simple(z, to, ZAB_MSG_DIFF, max_committed);
                *need_op = false;
                continue;
            }
            if (is_new_epoch) {
                send_simple(z, to, ZAB_MSG_DIFF, max_committed);
                *need_op = false;
            } else if (zx > peer) {
                /* A TRUNC may not cross an epoch boundary; the caller falls back to SNAP. */
                if (zab_epoch_of(zx) != zab_epoch_of(peer))
                    return queued;
                send_simple(z, to, ZAB_MSG_TRUNC, prev);
                *need_op = false;
            }
        }
        if (zx <= queued)
            continue;
        send_data(z, to, ZAB_MSG_PROPOSAL, zx, z->win[i].data);
        send_simple(z, to, ZAB_MSG_COMMIT, zx);
        queued = zx;
    }
    if (*need_op && is_new_epoch) {
        send_simple(z, to, ZAB_MSG_DIFF, max_committed);
        *need_op = false;
    }
    return queued;
}

/* LearnerHandler.syncFollower() + startForwarding() + NEWLEADER for one learner. */
static void start_sync(struct zab *z, int idx)
{
    struct zab_handler *h = &z->lh[idx];
    pd_sid to = sid_of(z, idx);
    pd_zxid peer = h->peer_last_zxid;
    pd_zxid last_proc = last_processed(z);
    pd_zxid min_c = last_proc, max_c = last_proc;
    size_t n_c = 0;
    while (n_c < z->n_win && z->win[n_c].zxid <= last_proc)
        n_c++;
    if (n_c > 0) {
        min_c = z->win[0].zxid;
        max_c = z->win[n_c - 1].zxid;
    }
    bool need_snap = true, need_op = true;
    bool is_new_epoch = zab_counter_of(peer) == 0;
    pd_zxid current = peer;
    const char *how = "SNAP";
    if (peer == last_proc) {
        send_simple(z, to, ZAB_MSG_DIFF, peer);
        need_op = need_snap = false;
        how = "DIFF (in sync)";
    } else if (peer > max_c && !is_new_epoch) {
        send_simple(z, to, ZAB_MSG_TRUNC, max_c);
        current = max_c;
        need_op = need_snap = false;
        how = "TRUNC";
    } else if (max_c >= peer && min_c <= peer) {
        current = queue_committed(z, to, peer, max_c, last_proc, &need_op);
        need_snap = false;
        how = "DIFF";
    }
    /* TODO(#5): ZooKeeper also diffs from the on-disk txn log below minCommittedLog
       (txnLogSyncEnabled); the core only has its in-memory tail, so that case is a SNAP. */
    if (need_op && !need_snap)
        need_snap = true;
    if (need_snap) {
        current = last_proc;
        send_simple(z, to, ZAB_MSG_SNAP, last_proc);
        how = "SNAP";
    }
    zab_trace(z, "sync %lld from 0x%llx by %s to 0x%llx", (long long)to, (unsigned long long)peer,
              how, (unsigned long long)current);
    if (zab_is_voter_idx(z, idx)) {
        for (size_t i = 0; i < z->n_props; i++)
            if (z->props[i].zxid > current)
                send_data(z, to, ZAB_MSG_PROPOSAL, z->props[i].zxid, z->props[i].data);
    }
    send_simple(z, to, ZAB_MSG_NEWLEADER, zab_make_zxid(z->epoch, 0));
    h->phase = LH_SYNCING;
}

static void try_epoch_acked(struct zab *z)
{
    if (z->is_epoch_acked || !z->is_epoch_decided || z->accepted_seq)
        return;
    if (!zab_is_quorum(z, z->electing_mask))
        return;
    z->is_epoch_acked = true;
    z->current_epoch = z->epoch;
    z->current_seq = zab_store(z, ZAB_STORE_CURRENT_EPOCH, 0, z->epoch, NULL);
    z->stage_deadline = z->now + ms(z, z->cfg.init_limit);
    zab_set_role(z, ZAB_LEADING, ZAB_PHASE_SYNC, z->cfg.self);
    for (int i = 0; i < z->cfg.n_servers; i++)
        if (z->lh[i].phase == LH_WAIT_SYNC)
            start_sync(z, i);
}

static void answer_syncs(struct zab *z, pd_zxid committed)
{
    size_t k = 0;
    for (size_t i = 0; i < z->n_syncs; i++) {
        int idx = zab_idx(z, z->syncs[i].from);
        if (z->syncs[i].zxid <= committed) {
            if (idx >= 0 && is_forwarding(&z->lh[idx]))
                send_simple(z, z->syncs[i].from, ZAB_MSG_SYNC, 0);
        } else {
            z->syncs[k++] = z->syncs[i];
        }
    }
    z->n_syncs = k;
}

/* Commits outstanding proposals from the oldest while each has a durable quorum. */
static void try_commit(struct zab *z)
{
    uint32_t self_bit = 1u << z->self_idx;
    size_t done = 0;
    while (done < z->n_props) {
        struct zab_prop *p = &z->props[done];
        if (z->persisted_seq >= p->self_seq)
            p->ack_mask |= self_bit;
        if (!zab_is_quorum(z, p->ack_mask))
            break;
        zab_commit_to(z, p->zxid);
        for (int i = 0; i < z->cfg.n_servers; i++) {
            if (i == z->self_idx || !is_forwarding(&z->lh[i]))
                continue;
            if (zab_is_voter_idx(z, i))
                send_simple(z, sid_of(z, i), ZAB_MSG_COMMIT, p->zxid);
            else
                send_data(z, sid_of(z, i), ZAB_MSG_INFORM, p->zxid, p->data);
        }
        zab_blob_unref(p->data);
        done++;
    }
    if (done) {
        memmove(z->props, z->props + done, (z->n_props - done) * sizeof(*z->props));
        z->n_props -= done;
        answer_syncs(z, z->commit_zxid);
    }
}

static void try_establish(struct zab *z)
{
    if (z->is_established || !z->is_epoch_acked || z->current_seq)
        return;
    if (!zab_is_quorum(z, z->newleader_mask | (1u << z->self_idx)))
        return;
    z->is_established = true;
    z->last_proposed = zab_make_zxid(z->epoch, 0);
    zab_set_role(z, ZAB_LEADING, ZAB_PHASE_BROADCAST, z->cfg.self);
    /* updateElectionVote (ZOOKEEPER-1732): everyone in the epoch reports the same vote, so a
       server joining later finds a quorum of equal out-of-election votes. */
    z->fle.current.peer_epoch = z->epoch;
    /* The new leader's whole history is now durable on a quorum with currentEpoch = epoch. */
    zab_commit_to(z, z->last_zxid);
    zab_trace(z, "established epoch %u at 0x%llx", z->epoch, (unsigned long long)z->last_zxid);
    for (int i = 0; i < z->cfg.n_servers; i++) {
        if (z->lh[i].phase == LH_WAIT_UPTODATE) {
            send_simple(z, sid_of(z, i), ZAB_MSG_UPTODATE, -1);
            z->lh[i].phase = LH_BROADCAST;
            z->lh[i].is_chk_started = true;
        }
    }
    z->next_ping = z->now + z->cfg.tick_ms / 2;
    z->is_tick_skip = true;
}

void leader_start(struct zab *z)
{
    zab_set_role(z, ZAB_LEADING, ZAB_PHASE_DISCOVERY, z->cfg.self);
    memset(z->lh, 0, sizeof(z->lh));
    clear_props(z);
    z->connecting_mask = 1u << z->self_idx;
    z->max_accepted = z->accepted_epoch;
    z->is_epoch_decided = false;
    z->accepted_seq = 0;
    z->electing_mask = 0;
    z->is_epoch_acked = false;
    z->current_seq = 0;
    z->newleader_mask = 0;
    z->is_established = false;
    z->epoch = 0;
    z->stage_deadline = z->now + ms(z, z->cfg.init_limit);
    zab_trace(z, "leading");
    try_decide_epoch(z);
    for (int i = 0; i < z->cfg.n_servers && z->role == ZAB_LEADING; i++) {
        if (z->stash_info[i]) {
            struct zab_msg m = z->stash_msg[i];
            z->stash_info[i] = false;
            leader_recv(z, sid_of(z, i), &m);
        }
    }
}

void leader_stop(struct zab *z)
{
    for (int i = 0; i < z->cfg.n_servers; i++)
        drop_handler(z, i, "leader stops");
    clear_props(z);
    z->is_established = false;
    z->is_epoch_decided = false;
    z->is_epoch_acked = false;
}

static void on_learner_info(struct zab *z, int idx, const struct zab_msg *m)
{
    struct zab_handler *h = &z->lh[idx];
    if (h->phase != LH_NONE)
        drop_handler(z, idx, "reconnected");
    if (m->protocol_version < ZAB_PROTOCOL_VERSION) {
        /* Pre-1.0 learners are not supported (ZooKeeper 3.4+ all send 0x10000). */
        zab_close(z, sid_of(z, idx), "learner protocol before Zab 1.0");
        return;
    }
    h->phase = LH_WAIT_EPOCH;
    h->accepted_epoch = zab_epoch_of(m->zxid);
    h->ack_deadline = z->now + ms(z, z->cfg.init_limit + z->cfg.sync_limit);
    zab_trace(z, "learner %lld info acceptedEpoch=%u", (long long)sid_of(z, idx),
              h->accepted_epoch);
    if (!z->is_epoch_decided) {
        if (h->accepted_epoch > z->max_accepted)
            z->max_accepted = h->accepted_epoch;
        if (zab_is_voter_idx(z, idx))
            z->connecting_mask |= 1u << idx;
        try_decide_epoch(z);
    } else if (h->accepted_epoch > z->epoch) {
        /* The learner promised a newer epoch (to a leader that never established) and will
           refuse ours forever; ZooKeeper 3.8 leaves it out until the next election. We start
           that election now so that every server can rejoin: the next epoch counts its
           promise. Stepping down is always safe. */
        zab_go_looking(z, "a learner accepted a newer epoch");
    } else if (!z->accepted_seq) {
        send_leaderinfo(z, idx);
    }
}

static void on_ackepoch(struct zab *z, int idx, const struct zab_msg *m)
{
    struct zab_handler *h = &z->lh[idx];
    if (h->phase != LH_WAIT_ACKEPOCH)
        return;
    h->peer_cur_epoch = m->epoch;
    h->peer_last_zxid = m->zxid;
    if (m->epoch != -1) {
        /* StateSummary.isMoreRecentThan: a learner ahead of us must not be synced by us. */
        bool is_ahead = (uint32_t)m->epoch > z->current_epoch ||
                        ((uint32_t)m->epoch == z->current_epoch && m->zxid > z->last_zxid);
        if (!z->is_epoch_acked && is_ahead) {
            drop_handler(z, idx, "follower is ahead of the leader");
            return;
        }
        if (m->zxid != -1 && zab_is_voter_idx(z, idx))
            z->electing_mask |= 1u << idx;
    }
    h->phase = LH_WAIT_SYNC;
    if (z->is_epoch_acked)
        start_sync(z, idx);
    else
        try_epoch_acked(z);
}

static void on_ack(struct zab *z, int idx, const struct zab_msg *m)
{
    struct zab_handler *h = &z->lh[idx];
    if (zab_counter_of(m->zxid) == 0) {
        /* ACK of NEWLEADER (or of UPTODATE, which needs nothing). */
        if (h->phase != LH_SYNCING || m->zxid != zab_make_zxid(z->epoch, 0))
            return;
        if (zab_is_voter_idx(z, idx))
            z->newleader_mask |= 1u << idx;
        if (z->is_established) {
            send_simple(z, sid_of(z, idx), ZAB_MSG_UPTODATE, -1);
            h->phase = LH_BROADCAST;
            h->is_chk_started = true;
        } else {
            h->phase = LH_WAIT_UPTODATE;
            try_establish(z);
        }
        return;
    }
    chk_acked(h, m->zxid);
    if (h->phase < LH_SYNCING || !zab_is_voter_idx(z, idx) || m->zxid <= z->commit_zxid)
        return;
    for (size_t i = 0; i < z->n_props; i++) {
        if (z->props[i].zxid == m->zxid) {
            z->props[i].ack_mask |= 1u << idx;
            try_commit(z);
            return;
        }
    }
}

void leader_recv(struct zab *z, pd_sid from, const struct zab_msg *m)
{
    int idx = zab_idx(z, from);
    if (idx < 0 || idx == z->self_idx)
        return;
    if (m->type == ZAB_MSG_FOLLOWERINFO || m->type == ZAB_MSG_OBSERVERINFO) {
        on_learner_info(z, idx, m);
        return;
    }
    struct zab_handler *h = &z->lh[idx];
    if (h->phase == LH_NONE)
        return;
    h->ack_deadline =
        z->now + ms(z, h->phase == LH_BROADCAST ? z->cfg.sync_limit : z->cfg.init_limit);
    switch (m->type) {
    case ZAB_MSG_ACKEPOCH:
        on_ackepoch(z, idx, m);
        break;
    case ZAB_MSG_ACK:
        on_ack(z, idx, m);
        break;
    case ZAB_MSG_REQUEST:
        if (z->is_established)
            zab_inbound_add(z, from, ZAB_MSG_REQUEST, m->data);
        break;
    case ZAB_MSG_PING:
        if (m->data)
            zab_inbound_add(z, from, ZAB_MSG_PING, m->data);
        break;
    default:
        /* REVALIDATE and session traffic: TODO(#5) with global sessions. */
        break;
    }
}

void leader_persisted(struct zab *z)
{
    if (z->accepted_seq && z->persisted_seq >= z->accepted_seq) {
        z->accepted_seq = 0;
        z->electing_mask |= 1u << z->self_idx;
        for (int i = 0; i < z->cfg.n_servers; i++)
            if (z->lh[i].phase == LH_WAIT_EPOCH)
                send_leaderinfo(z, i);
        try_epoch_acked(z);
    }
    if (z->current_seq && z->persisted_seq >= z->current_seq) {
        z->current_seq = 0;
        try_establish(z);
    }
    if (z->is_established)
        try_commit(z);
}

int leader_propose(struct zab *z, struct zab_blob *data)
{
    if (!z->is_established)
        return PD_EINVAL;
    if (zab_counter_of(z->last_proposed) == 0xffffffffu) {
        /* ZooKeeper forces a new epoch rather than wrap the counter (ZOOKEEPER-1277). */
        zab_go_looking(z, "zxid counter rolled over");
        return PD_EINVAL;
    }
    struct zab_prop p = {.zxid = z->last_proposed + 1, .data = NULL, .ack_mask = 0};
    if (z->n_props == z->cap_props) {
        size_t n = z->cap_props ? z->cap_props * 2 : 64;
        struct zab_prop *np = pd_realloc(z->props, n * sizeof(*np));
        if (!np)
            return PD_ENOMEM;
        z->props = np;
        z->cap_props = n;
    }
    z->last_proposed = p.zxid;
    p.self_seq = zab_log_append(z, p.zxid, data);
    p.data = zab_blob_ref(data);
    z->props[z->n_props++] = p;
    for (int i = 0; i < z->cfg.n_servers; i++)
        if (i != z->self_idx && is_forwarding(&z->lh[i]) && zab_is_voter_idx(z, i)) {
            send_data(z, sid_of(z, i), ZAB_MSG_PROPOSAL, p.zxid, data);
            chk_sent(z, i, p.zxid);
        }
    try_commit(z);
    return 0;
}

void leader_sync_request(struct zab *z, pd_sid from)
{
    int idx = zab_idx(z, from);
    if (idx < 0 || !is_forwarding(&z->lh[idx]))
        return;
    if (z->n_props == 0) {
        send_simple(z, from, ZAB_MSG_SYNC, 0);
        return;
    }
    if (z->n_syncs == z->cap_syncs) {
        size_t n = z->cap_syncs ? z->cap_syncs * 2 : 16;
        struct zab_sync_wait *ns = pd_realloc(z->syncs, n * sizeof(*ns));
        if (!ns) {
            z->err = PD_ENOMEM;
            return;
        }
        z->syncs = ns;
        z->cap_syncs = n;
    }
    z->syncs[z->n_syncs++] = (struct zab_sync_wait){.from = from, .zxid = z->last_proposed};
}

void leader_peer_down(struct zab *z, pd_sid peer)
{
    int idx = zab_idx(z, peer);
    if (idx >= 0 && z->lh[idx].phase != LH_NONE) {
        zab_trace(z, "learner %lld disconnected", (long long)peer);
        memset(&z->lh[idx], 0, sizeof(z->lh[idx]));
    }
}

void leader_timer(struct zab *z)
{
    for (int i = 0; i < z->cfg.n_servers; i++)
        if (z->lh[i].phase != LH_NONE && z->now > z->lh[i].ack_deadline)
            drop_handler(z, i, "learner silent");
    if (!z->is_established) {
        if (z->now >= z->stage_deadline)
            zab_go_looking(z, z->is_epoch_acked     ? "no quorum acked NEWLEADER"
                              : z->is_epoch_decided ? "no quorum acked the epoch"
                                                    : "no quorum for a new epoch");
        return;
    }
    if (z->now < z->next_ping)
        return;
    z->next_ping = z->now + (z->cfg.tick_ms / 2 ? z->cfg.tick_ms / 2 : 1);
    if (!z->is_tick_skip) {
        uint32_t synced = 1u << z->self_idx;
        for (int i = 0; i < z->cfg.n_servers; i++)
            if (z->lh[i].phase != LH_NONE && z->now <= z->lh[i].ack_deadline)
                synced |= 1u << i;
        if (!zab_is_quorum(z, synced)) {
            zab_go_looking(z, "not sufficient followers synced");
            return;
        }
    }
    z->is_tick_skip = !z->is_tick_skip;
    for (int i = 0; i < z->cfg.n_servers; i++) {
        if (!is_forwarding(&z->lh[i]))
            continue;
        if (chk_ok(z, &z->lh[i]))
            send_simple(z, sid_of(z, i), ZAB_MSG_PING, z->last_proposed);
        else
            drop_handler(z, i, "transaction timeout"); /* LearnerHandler.ping */
    }
}

uint64_t leader_deadline(const struct zab *z)
{
    uint64_t d = z->is_established ? z->next_ping : z->stage_deadline;
    for (int i = 0; i < z->cfg.n_servers; i++)
        if (z->lh[i].phase != LH_NONE)
            d = zab_min_deadline(d, z->lh[i].ack_deadline + 1);
    return d;
}
