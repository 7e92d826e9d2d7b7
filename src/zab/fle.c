/*
 * Fast leader election, as Apache ZooKeeper 3.8's FastLeaderElection runs it: the receiver
 * thread's replies (WorkerReceiver) and the lookForLeader() loop, folded into handlers of
 * received notifications and of the poll timeout. The facts come from FastLeaderElection.java
 * and Vote.java; the code is ours.
 *
 *   fle_start():  logicalclock++, propose self (observers propose nobody), notify all voters
 *   fle_recv():   LOOKING notification: adopt a better vote or a newer round, record it, and
 *                 when a quorum agrees with our proposal start the finalize wait;
 *                 FOLLOWING/LEADING notification: out-of-election join (checkLeader)
 *   fle_timer():  poll timeout: resend and double the timeout up to maxNotificationInterval;
 *                 finalize timeout: the proposal won -> finish() -> LEADING/FOLLOWING/OBSERVING
 *
 *   LOOKING --quorum for proposal--> FINALIZING --finalizeWait, nothing better--> decided
 *      ^                                 |
 *      +------- better vote arrives -----+
 *
 * Invariants: the proposal only moves up in the total order within one round; a server
 * decides only from a quorum of participants (observers never count) that agree on the vote.
 */
#include "zab/zab_int.h"

#include <string.h>

bool zab_vote_beats(int64_t new_epoch, pd_zxid new_zxid, pd_sid new_sid, int64_t cur_epoch,
                    pd_zxid cur_zxid, pd_sid cur_sid)
{
    if (new_epoch != cur_epoch)
        return new_epoch > cur_epoch;
    if (new_zxid != cur_zxid)
        return new_zxid > cur_zxid;
    return new_sid > cur_sid;
}

/* totalOrderPredicate: a candidate that is not a participant has weight 0 and never wins. */
static bool beats(const struct zab *z, pd_sid id, pd_zxid zxid, int64_t epoch, pd_sid cur_id,
                  pd_zxid cur_zxid, int64_t cur_epoch)
{
    if (!zab_is_voter_idx(z, zab_idx(z, id)))
        return false;
    return zab_vote_beats(epoch, zxid, id, cur_epoch, cur_zxid, cur_id);
}

static pd_sid init_id(const struct zab *z)
{
    return z->is_observer ? ZAB_SID_NONE : z->cfg.self;
}
static pd_zxid init_zxid(const struct zab *z)
{
    return z->is_observer ? INT64_MIN : z->last_zxid;
}
static int64_t init_epoch(const struct zab *z)
{
    return z->is_observer ? INT64_MIN : (int64_t)z->current_epoch;
}

static void update_proposal(struct zab *z, pd_sid id, pd_zxid zxid, int64_t epoch)
{
    z->fle.prop_leader = id;
    z->fle.prop_zxid = zxid;
    z->fle.prop_epoch = epoch;
}

static void send_note(struct zab *z, pd_sid to, int32_t state, pd_sid leader, pd_zxid zxid,
                      int64_t ee, int64_t pe)
{
    struct zab_msg m;
    memset(&m, 0, sizeof(m));
    m.type = ZAB_MSG_NOTIFICATION;
    m.note.state = state;
    m.note.leader = leader;
    m.note.zxid = zxid;
    m.note.election_epoch = ee;
    m.note.peer_epoch = pe;
    m.note.version = ZAB_FLE_VERSION;
    m.note.config_version = z->cfg.config_version;
    if (to == z->cfg.self) {
        /* ZooKeeper queues a server's notification to itself locally; it is handled after the
           notification being processed now. */
        z->fle.has_self_note = true;
        z->fle.self_note = m.note;
        return;
    }
    zab_send(z, to, &m);
}

/* sendNotifications(): our proposal, as LOOKING, to every participant (self included). */
static void send_notifications(struct zab *z)
{
    for (int i = 0; i < z->cfg.n_servers; i++)
        if (zab_is_voter_idx(z, i))
            send_note(z, z->cfg.servers[i].sid, ZAB_LOOKING, z->fle.prop_leader, z->fle.prop_zxid,
                      z->fle.logicalclock, z->fle.prop_epoch);
}

/* Vote.equals: full comparison when either side is LOOKING, else id (+ peerEpoch when both
   or neither carry a version). */
static bool vote_equal(const struct zab_vote *a, const struct zab_vote *b)
{
    if (a->state == ZAB_LOOKING || b->state == ZAB_LOOKING)
        return a->id == b->id && a->zxid == b->zxid && a->election_epoch == b->election_epoch &&
               a->peer_epoch == b->peer_epoch;
    if ((a->version > 0) != (b->version > 0))
        return a->id == b->id;
    return a->id == b->id && a->peer_epoch == b->peer_epoch;
}

/* getVoteTracker(votes, vote).hasAllQuorums() */
static bool has_quorum(const struct zab *z, const struct zab_vote *votes, const struct zab_vote *v)
{
    uint32_t mask = 0;
    for (int i = 0; i < z->cfg.n_servers; i++)
        if (votes[i].is_set && vote_equal(&votes[i], v))
            mask |= 1u << i;
    return zab_is_quorum(z, mask);
}

/* checkLeader(): someone else must be known to be LEADING; ourselves only in this round. */
static bool check_leader(const struct zab *z, const struct zab_vote *votes, pd_sid leader,
                         int64_t ee)
{
    if (leader != z->cfg.self) {
        int idx = zab_idx(z, leader);
        if (idx < 0 || !votes[idx].is_set)
            return false;
        return votes[idx].state == ZAB_LEADING;
    }
    return z->fle.logicalclock == ee;
}

static void finish(struct zab *z, pd_sid leader, pd_zxid zxid, int64_t ee, int64_t pe)
{
    struct zab_vote *c = &z->fle.current;
    memset(c, 0, sizeof(*c));
    c->is_set = true;
    c->id = leader;
    c->zxid = zxid;
    c->election_epoch = ee;
    c->peer_epoch = pe;
    z->fle.is_finalizing = false;
    z->fle.has_self_note = false;
    z->fle.deadline = UINT64_MAX;
    zab_trace(z, "elected %lld zxid=0x%llx round=%lld peerEpoch=%lld", (long long)leader,
              (unsigned long long)zxid, (long long)ee, (long long)pe);
    if (leader == z->cfg.self)
        leader_start(z);
    else
        learner_start(z);
}

void fle_start(struct zab *z)
{
    struct zab_fle *f = &z->fle;
    f->logicalclock++;
    memset(f->recvset, 0, sizeof(f->recvset));
    memset(f->outofelection, 0, sizeof(f->outofelection));
    if (!f->current.is_set) {
        f->current.is_set = true;
        f->current.id = init_id(z);
        f->current.zxid = init_zxid(z);
        f->current.election_epoch = 0;
        f->current.peer_epoch = init_epoch(z);
        f->current.version = ZAB_FLE_VERSION;
    }
    update_proposal(z, init_id(z), init_zxid(z), init_epoch(z));
    f->not_timeout_ms = z->cfg.finalize_wait_ms;
    f->is_finalizing = false;
    f->has_self_note = false;
    zab_trace(z, "looking round=%lld vote=(%lld, 0x%llx, %lld)", (long long)f->logicalclock,
              (long long)f->prop_leader, (unsigned long long)f->prop_zxid,
              (long long)f->prop_epoch);
    send_notifications(z);
    f->deadline = z->now + f->not_timeout_ms;
    /* With a quorum of one, our own notification decides the election. */
    while (z->role == ZAB_LOOKING && f->has_self_note) {
        struct zab_notification n = f->self_note;
        f->has_self_note = false;
        fle_recv(z, z->cfg.self, &n);
    }
}

/* One notification through the lookForLeader() loop (role is LOOKING, not finalizing). */
static void look(struct zab *z, int idx, const struct zab_notification *n)
{
    struct zab_fle *f = &z->fle;
    if (!zab_is_voter_idx(z, idx) || !zab_is_voter_idx(z, zab_idx(z, n->leader)))
        return;
    struct zab_vote v = {
        .is_set = true,
        .version = 0,
        .id = n->leader,
        .zxid = n->zxid,
        .election_epoch = n->election_epoch,
        .peer_epoch = n->peer_epoch,
        .state = n->state,
    };
    switch (n->state) {
    case ZAB_LOOKING: {
        if (init_zxid(z) == -1 || n->zxid == -1)
            return;
        if (n->election_epoch > f->logicalclock) {
            f->logicalclock = n->election_epoch;
            memset(f->recvset, 0, sizeof(f->recvset));
            if (beats(z, n->leader, n->zxid, n->peer_epoch, init_id(z), init_zxid(z),
                      init_epoch(z)))
                update_proposal(z, n->leader, n->zxid, n->peer_epoch);
            else
                update_proposal(z, init_id(z), init_zxid(z), init_epoch(z));
            send_notifications(z);
        } else if (n->election_epoch < f->logicalclock) {
            return;
        } else if (beats(z, n->leader, n->zxid, n->peer_epoch, f->prop_leader, f->prop_zxid,
                         f->prop_epoch)) {
            update_proposal(z, n->leader, n->zxid, n->peer_epoch);
            send_notifications(z);
        }
        f->recvset[idx] = v;
        struct zab_vote mine = {
            .is_set = true,
            .id = f->prop_leader,
            .zxid = f->prop_zxid,
            .election_epoch = f->logicalclock,
            .peer_epoch = f->prop_epoch,
            .state = ZAB_LOOKING,
        };
        if (has_quorum(z, f->recvset, &mine)) {
            f->is_finalizing = true;
            f->deadline = z->now + z->cfg.finalize_wait_ms;
        }
        return;
    }
    case ZAB_OBSERVING:
        return;
    case ZAB_FOLLOWING:
    case ZAB_LEADING: {
        struct zab_vote tracker = v;
        tracker.version = n->version;
        if (n->election_epoch == f->logicalclock) {
            f->recvset[idx] = v;
            if (has_quorum(z, f->recvset, &tracker) &&
                check_leader(z, f->recvset, n->leader, n->election_epoch)) {
                finish(z, n->leader, n->zxid, n->election_epoch, n->peer_epoch);
                return;
            }
        }
        /* Out of election: a quorum already follows someone; join it. */
        f->outofelection[idx] = tracker;
        if (has_quorum(z, f->outofelection, &tracker) &&
            check_leader(z, f->outofelection, n->leader, n->election_epoch)) {
            f->logicalclock = n->election_epoch;
            finish(z, n->leader, n->zxid, n->election_epoch, n->peer_epoch);
        }
        return;
    }
    }
}

static void recv_one(struct zab *z, pd_sid from, const struct zab_notification *n)
{
    struct zab_fle *f = &z->fle;
    int idx = zab_idx(z, from);
    /* WorkerReceiver: a non-participant gets our current vote back and nothing else. */
    if (!zab_is_voter_idx(z, idx)) {
        send_note(z, from, z->role, f->current.id, f->current.zxid, f->logicalclock,
                  f->current.peer_epoch);
        return;
    }
    if (z->role != ZAB_LOOKING) {
        /* Tell a LOOKING participant whom we follow or that we lead. */
        if (n->state == ZAB_LOOKING && from != z->cfg.self)
            send_note(z, from, z->role, f->current.id, f->current.zxid, f->current.election_epoch,
                      f->current.peer_epoch);
        return;
    }
    if (n->state == ZAB_LOOKING && n->election_epoch < f->logicalclock && from != z->cfg.self)
        send_note(z, from, ZAB_LOOKING, f->prop_leader, f->prop_zxid, f->logicalclock,
                  f->prop_epoch);
    if (f->is_finalizing) {
        /* Within finalizeWait only a better vote matters; anything else is dropped and the
           wait starts again, as the poll(finalizeWait) loop does. */
        if (!beats(z, n->leader, n->zxid, n->peer_epoch, f->prop_leader, f->prop_zxid,
                   f->prop_epoch)) {
            f->deadline = z->now + z->cfg.finalize_wait_ms;
            return;
        }
        f->is_finalizing = false;
    }
    f->deadline = z->now + f->not_timeout_ms;
    look(z, idx, n);
}

void fle_recv(struct zab *z, pd_sid from, const struct zab_notification *n)
{
    recv_one(z, from, n);
    while (z->role == ZAB_LOOKING && z->fle.has_self_note) {
        struct zab_notification self = z->fle.self_note;
        z->fle.has_self_note = false;
        recv_one(z, z->cfg.self, &self);
    }
}

void fle_timer(struct zab *z)
{
    struct zab_fle *f = &z->fle;
    if (z->now < f->deadline)
        return;
    if (f->is_finalizing) {
        finish(z, f->prop_leader, f->prop_zxid, f->logicalclock, f->prop_epoch);
        return;
    }
    send_notifications(z);
    f->not_timeout_ms *= 2;
    if (f->not_timeout_ms > z->cfg.max_notification_interval_ms)
        f->not_timeout_ms = z->cfg.max_notification_interval_ms;
    f->deadline = z->now + f->not_timeout_ms;
    while (z->role == ZAB_LOOKING && f->has_self_note) {
        struct zab_notification self = f->self_note;
        f->has_self_note = false;
        recv_one(z, z->cfg.self, &self);
    }
}
