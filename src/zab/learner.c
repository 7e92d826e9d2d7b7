/*
 * The learner side of Zab (followers and observers): Apache ZooKeeper 3.8's
 * Learner.registerWithLeader(), Learner.syncWithLeader(), Follower.processPacket() and
 * Observer.processPacket(), as handlers of records from the leader, durability reports and a
 * silence timer. Facts from Learner.java, Follower.java, Observer.java; the code is ours.
 *
 *   learner_start()          DISCOVERY: FOLLOWERINFO / OBSERVERINFO (acceptedEpoch << 32)
 *   LEADERINFO               newEpoch > acceptedEpoch: write acceptedEpoch, body currentEpoch;
 *                            == : body -1; < : re-elect. ACKEPOCH(lastLoggedZxid) once durable
 *   DIFF | TRUNC | SNAP      SYNC: nothing | truncate the log | load the snapshot
 *   PROPOSAL, COMMIT         log every proposal as it arrives; remember what is committed
 *   NEWLEADER                write currentEpoch after the synced txns; ACK only when all of
 *                            it is durable (the rule ZOOKEEPER-3911/4643/4646/4685 broke)
 *   UPTODATE                 BROADCAST: apply the synced commits, ACK new-epoch proposals
 *   PROPOSAL -> durable -> ACK;  COMMIT / INFORM -> commit;  SYNC -> done;
 *   PING -> PING once ACK(NEWLEADER) is sent (before it, 3.8's leader wants that ACK next)
 *   silence > initLimit (before NEWLEADER ACK) or syncLimit (after), leader connection down,
 *   or a protocol violation -> zab_go_looking()
 *
 * Invariants: ACKEPOCH, ACK(NEWLEADER) and every proposal ACK are sent only once the storage
 * operations they cover are durable; a proposal is ACKed only after ACK(NEWLEADER); nothing
 * synced is committed before UPTODATE; the log only ever grows in zxid order except by TRUNC
 * or SNAP, which never cut below what this lifetime has committed.
 */
#include "zab/zab_int.h"

#include "common/alloc.h"
#include "common/err.h"

#include <string.h>

static void send_simple(struct zab *z, int32_t type, pd_zxid zxid)
{
    struct zab_msg m;
    memset(&m, 0, sizeof(m));
    m.type = type;
    m.zxid = zxid;
    zab_send(z, z->leader, &m);
}

static uint64_t silence_limit_ms(const struct zab *z)
{
    uint32_t ticks = z->is_newleader_acked ? z->cfg.sync_limit : z->cfg.init_limit;
    return (uint64_t)ticks * z->cfg.tick_ms;
}

static void reset(struct zab *z)
{
    z->has_leaderinfo = false;
    z->is_ackepoch_pending = false;
    z->has_sync_op = false;
    z->sync_commit = 0;
    z->is_newleader_pending = false;
    z->is_newleader_acked = false;
    z->n_acks = 0;
}

void learner_start(struct zab *z)
{
    enum zab_state role = z->is_observer ? ZAB_OBSERVING : ZAB_FOLLOWING;
    zab_set_role(z, role, ZAB_PHASE_DISCOVERY, z->fle.current.id);
    reset(z);
    z->epoch = 0;
    z->last_heard = z->now;
    /* Handshakes that waited for us to lead: we do not, so refuse them. */
    for (int i = 0; i < z->cfg.n_servers; i++) {
        if (z->stash_info[i]) {
            z->stash_info[i] = false;
            zab_close(z, z->cfg.servers[i].sid, "not leading");
        }
    }
    struct zab_msg m;
    memset(&m, 0, sizeof(m));
    m.type = z->is_observer ? ZAB_MSG_OBSERVERINFO : ZAB_MSG_FOLLOWERINFO;
    m.zxid = zab_make_zxid(z->accepted_epoch, 0);
    m.learner_sid = z->cfg.self;
    m.protocol_version = ZAB_PROTOCOL_VERSION;
    m.config_version = z->cfg.config_version;
    zab_trace(z, "%s leader %lld", zab_state_name(role), (long long)z->leader);
    zab_send(z, z->leader, &m);
}

void learner_stop(struct zab *z)
{
    zab_close(z, z->leader, "stopped following");
    reset(z);
}

static void try_send_ackepoch(struct zab *z)
{
    if (!z->is_ackepoch_pending || z->persisted_seq < z->ackepoch_seq)
        return;
    z->is_ackepoch_pending = false;
    struct zab_msg m;
    memset(&m, 0, sizeof(m));
    m.type = ZAB_MSG_ACKEPOCH;
    m.zxid = z->last_zxid;
    m.epoch = z->ackepoch_body;
    zab_send(z, z->leader, &m);
}

static void try_send_acks(struct zab *z)
{
    if (!z->is_newleader_acked || z->is_observer)
        return;
    size_t done = 0;
    while (done < z->n_acks && z->acks[done].seq <= z->persisted_seq) {
        send_simple(z, ZAB_MSG_ACK, z->acks[done].zxid);
        done++;
    }
    if (done) {
        memmove(z->acks, z->acks + done, (z->n_acks - done) * sizeof(*z->acks));
        z->n_acks -= done;
    }
}

static void try_send_newleader_ack(struct zab *z)
{
    if (!z->is_newleader_pending || z->persisted_seq < z->newleader_seq)
        return;
    z->is_newleader_pending = false;
    z->is_newleader_acked = true;
    send_simple(z, ZAB_MSG_ACK, zab_make_zxid(z->epoch, 0));
    try_send_acks(z);
}

void learner_persisted(struct zab *z)
{
    try_send_ackepoch(z);
    try_send_newleader_ack(z);
    try_send_acks(z);
}

static void on_leaderinfo(struct zab *z, const struct zab_msg *m)
{
    if (z->has_leaderinfo)
        return;
    uint32_t new_epoch = zab_epoch_of(m->zxid);
    z->has_leaderinfo = true;
    z->epoch = new_epoch;
    z->up->flags |= ZAB_UPD_ROLE;
    if (new_epoch > z->accepted_epoch) {
        z->ackepoch_body = (int32_t)z->current_epoch;
        /* The promise counts from now on (a later FOLLOWERINFO carries it) but ACKEPOCH
           waits until it is durable. */
        z->accepted_epoch = new_epoch;
        z->ackepoch_seq = zab_store(z, ZAB_STORE_ACCEPTED_EPOCH, 0, new_epoch, NULL);
    } else if (new_epoch == z->accepted_epoch) {
        z->ackepoch_body = -1;
        z->ackepoch_seq = z->next_seq;
    } else {
        zab_go_looking(z, "leader's epoch is less than our accepted epoch");
        return;
    }
    z->is_ackepoch_pending = true;
    try_send_ackepoch(z);
}

static bool push_ack(struct zab *z, pd_zxid zxid, uint64_t seq)
{
    if (z->n_acks == z->cap_acks) {
        size_t n = z->cap_acks ? z->cap_acks * 2 : 64;
        struct zab_pending_ack *na = pd_realloc(z->acks, n * sizeof(*na));
        if (!na) {
            z->err = PD_ENOMEM;
            return false;
        }
        z->acks = na;
        z->cap_acks = n;
    }
    z->acks[z->n_acks++] = (struct zab_pending_ack){.zxid = zxid, .seq = seq};
    return true;
}

static void on_sync_op(struct zab *z, const struct zab_msg *m)
{
    zab_set_role(z, z->role, ZAB_PHASE_SYNC, z->leader);
    z->has_sync_op = true;
    switch (m->type) {
    case ZAB_MSG_DIFF:
        z->sync_commit = m->zxid;
        break;
    case ZAB_MSG_TRUNC:
        if (m->zxid < z->commit_zxid) {
            zab_go_looking(z, "TRUNC below a committed zxid");
            return;
        }
        zab_trace(z, "TRUNC to 0x%llx", (unsigned long long)m->zxid);
        zab_log_truncate(z, m->zxid);
        z->sync_commit = m->zxid;
        break;
    case ZAB_MSG_SNAP:
        if (m->zxid < z->commit_zxid) {
            zab_go_looking(z, "SNAP below a committed zxid");
            return;
        }
        zab_trace(z, "SNAP at 0x%llx", (unsigned long long)m->zxid);
        zab_log_reset(z, m->zxid);
        z->snap_seq = zab_store(z, ZAB_STORE_SNAP_LOAD, m->zxid, 0, NULL);
        z->sync_commit = m->zxid;
        break;
    }
}

/* A txn from the leader (PROPOSAL or INFORM); false on a protocol violation. */
static bool log_txn(struct zab *z, const struct zab_msg *m)
{
    if (m->zxid <= z->last_zxid) {
        zab_go_looking(z, "txn out of order");
        return false;
    }
    uint64_t seq = zab_log_append(z, m->zxid, m->data);
    /* Txns of the new epoch need our ACK; history sent in sync is covered by NEWLEADER. */
    if (m->type == ZAB_MSG_PROPOSAL && zab_epoch_of(m->zxid) == z->epoch)
        return push_ack(z, m->zxid, seq);
    return true;
}

void learner_recv(struct zab *z, pd_sid from, const struct zab_msg *m)
{
    if (from != z->leader)
        return;
    z->last_heard = z->now;
    bool is_synced = z->phase == ZAB_PHASE_BROADCAST;
    switch (m->type) {
    case ZAB_MSG_LEADERINFO:
        if (z->phase == ZAB_PHASE_DISCOVERY)
            on_leaderinfo(z, m);
        break;
    case ZAB_MSG_DIFF:
    case ZAB_MSG_TRUNC:
    case ZAB_MSG_SNAP:
        if (z->phase != ZAB_PHASE_DISCOVERY || !z->has_leaderinfo || z->is_ackepoch_pending) {
            zab_go_looking(z, "sync record out of place");
            break;
        }
        on_sync_op(z, m);
        break;
    case ZAB_MSG_PROPOSAL:
    case ZAB_MSG_INFORM:
        if (!z->has_sync_op) {
            zab_go_looking(z, "txn before sync");
            break;
        }
        if (!log_txn(z, m))
            break;
        if (m->type == ZAB_MSG_INFORM) {
            if (is_synced)
                zab_commit_to(z, m->zxid);
            else
                z->sync_commit = m->zxid;
        }
        try_send_acks(z);
        break;
    case ZAB_MSG_COMMIT:
        if (!z->has_sync_op)
            break;
        if (m->zxid > z->last_zxid) {
            zab_go_looking(z, "COMMIT of a txn we do not have");
            break;
        }
        if (is_synced)
            zab_commit_to(z, m->zxid);
        else if (m->zxid > z->sync_commit)
            z->sync_commit = m->zxid;
        break;
    case ZAB_MSG_NEWLEADER:
        if (z->phase != ZAB_PHASE_SYNC || z->is_newleader_pending || z->is_newleader_acked ||
            zab_epoch_of(m->zxid) != z->epoch) {
            zab_go_looking(z, "NEWLEADER out of place");
            break;
        }
        /* Order matters: currentEpoch is written after every synced txn, and ACK waits for
           both to be durable. */
        z->current_epoch = z->epoch;
        z->newleader_seq = zab_store(z, ZAB_STORE_CURRENT_EPOCH, 0, z->epoch, NULL);
        z->is_newleader_pending = true;
        try_send_newleader_ack(z);
        break;
    case ZAB_MSG_UPTODATE:
        if (z->phase != ZAB_PHASE_SYNC || !z->is_newleader_acked) {
            zab_go_looking(z, "UPTODATE out of place");
            break;
        }
        zab_set_role(z, z->role, ZAB_PHASE_BROADCAST, z->leader);
        z->fle.current.peer_epoch = z->epoch; /* updateElectionVote (ZOOKEEPER-1732) */
        zab_commit_to(z, z->sync_commit);
        zab_trace(z, "uptodate epoch %u commit 0x%llx", z->epoch,
                  (unsigned long long)z->commit_zxid);
        send_simple(z, ZAB_MSG_ACK, zab_make_zxid(z->epoch, 0));
        try_send_acks(z);
        break;
    case ZAB_MSG_PING:
        /* Not before ACK(NEWLEADER): 3.8's LearnerHandler reads the packet after NEWLEADER as
         * that ACK and drops a learner whose next packet is anything else ("Next packet was
         * supposed to be an ACK"); its leader pings learners from the start of sync, and its
         * own learners answer pings only after sync (Follower.processPacket). */
        if (z->is_newleader_acked)
            send_simple(z, ZAB_MSG_PING, m->zxid);
        break;
    case ZAB_MSG_SYNC:
        if (is_synced) {
            z->up->n_sync_done++;
            z->up->flags |= ZAB_UPD_SYNCED;
        }
        break;
    default:
        break;
    }
}

int learner_propose(struct zab *z, struct zab_blob *data)
{
    if (z->phase != ZAB_PHASE_BROADCAST)
        return PD_EINVAL;
    struct zab_msg m;
    memset(&m, 0, sizeof(m));
    m.type = ZAB_MSG_REQUEST;
    m.data = data;
    zab_send(z, z->leader, &m);
    return 0;
}

void learner_peer_down(struct zab *z, pd_sid peer)
{
    if (peer == z->leader)
        zab_go_looking(z, "connection to the leader lost");
}

void learner_timer(struct zab *z)
{
    if (z->now > z->last_heard + silence_limit_ms(z))
        zab_go_looking(z, "leader silent");
}

uint64_t learner_deadline(const struct zab *z)
{
    return z->last_heard + silence_limit_ms(z) + 1;
}
