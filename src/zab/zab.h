/*
 * Zab core: fast leader election and the Zab learner protocol as one pure state machine.
 *
 * What it is: the decision logic of a replicated Paddock server, modelled message for message
 * on Apache ZooKeeper 3.8 (FastLeaderElection, Leader, LearnerHandler, Learner, Follower,
 * Observer) so that a wire codec can map every struct zab_msg onto a QuorumPacket or an FLE
 * notification 1:1. What it is not: it does no I/O, reads no clock, calls no rand(), holds no
 * globals and prints nothing. The driver (src/server, tests/sim) feeds it events through
 * zab_step() and performs what the returned struct zab_update asks: send records, write the
 * log and the epoch files, load or send snapshots, apply commits.
 *
 * Durability is part of the protocol: the core sends ACKEPOCH, the ACK of NEWLEADER and the
 * ACK of a PROPOSAL only after the driver has reported (ZAB_PERSISTED) that every storage
 * operation the ACK covers is durable. Storage operations carry increasing sequence numbers
 * and the driver performs them in order; ZAB_PERSISTED(seq) means "every operation up to seq
 * is durable", which stays unambiguous across truncations.
 *
 * Roles and phases (ZooKeeper's ServerState and ZabState):
 *
 *            zab_step(ZAB_START)
 *                   |
 *                   v
 *   +--------> LOOKING / ELECTION  -- fle_recv(): quorum agrees, finalizeWait passes,
 *   |               |                 or out-of-election quorum + checkLeader
 *   |      +--------+-----------------------------+
 *   |      | proposed leader is me                | someone else (participant / observer)
 *   |      v                                      v
 *   |   LEADING / DISCOVERY                    FOLLOWING|OBSERVING / DISCOVERY
 *   |      | leader_recv(FOLLOWERINFO): quorum     | learner_recv(LEADERINFO): acceptedEpoch
 *   |      |  -> newEpoch, acceptedEpoch durable   |  durable -> ACKEPOCH
 *   |      | leader_recv(ACKEPOCH): quorum         v
 *   |      v                                    FOLLOWING / SYNCHRONIZATION
 *   |   LEADING / SYNCHRONIZATION                  | learner_recv(DIFF|TRUNC|SNAP, PROPOSAL,
 *   |      | per learner: DIFF|TRUNC|SNAP,        |  COMMIT, NEWLEADER): txns + currentEpoch
 *   |      |  proposals, NEWLEADER               |  durable -> ACK(NEWLEADER)
 *   |      | leader_recv(ACK NEWLEADER): quorum    | learner_recv(UPTODATE)
 *   |      v  -> commit own history, UPTODATE    v  -> apply synced commits
 *   |   LEADING / BROADCAST                    FOLLOWING / BROADCAST
 *   |      | zab_step(ZAB_PROPOSE) -> PROPOSAL     | PROPOSAL -> log -> durable -> ACK
 *   |      | ACK quorum -> COMMIT / INFORM         | COMMIT / INFORM -> commit
 *   |      |                                      |
 *   +------+ leader_tick(): no synced quorum     +-- learner timeout (initLimit/syncLimit),
 *            for syncLimit; initLimit passes         leader connection down, protocol error
 *            in discovery/sync; zxid overflow
 *
 * Invariants kept (checked by zab_check() and the simulator in tests/sim/):
 *   - zxid = epoch << 32 | counter; a server logs txns in strictly increasing zxid order;
 *   - commit_zxid only grows within one process lifetime and never passes the last logged zxid;
 *   - a learner applies synced txns only after UPTODATE, i.e. after a quorum durably holds the
 *     leader's history with the new currentEpoch (ZOOKEEPER-3911/4643/4646/4685 do otherwise);
 *   - a leader commits in zxid order, counting its own ACK only once its log is durable.
 */
#ifndef PD_ZAB_ZAB_H
#define PD_ZAB_ZAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int64_t pd_zxid; /* ZooKeeper zxid: epoch << 32 | counter; wire "long" */
typedef int64_t pd_sid;  /* server id (myid); wire "long" */

#define ZAB_MAX_SERVERS 32
#define ZAB_SID_NONE    INT64_MIN /* FLE vote of an observer (Long.MIN_VALUE in ZooKeeper) */

static inline uint32_t zab_epoch_of(pd_zxid z)
{
    return (uint32_t)((uint64_t)z >> 32);
}
static inline uint32_t zab_counter_of(pd_zxid z)
{
    return (uint32_t)((uint64_t)z & 0xffffffffu);
}
static inline pd_zxid zab_make_zxid(uint32_t epoch, uint32_t counter)
{
    return (pd_zxid)(((uint64_t)epoch << 32) | counter);
}

/* ---- refcounted immutable byte blobs (txn bodies, request bodies, ping payloads) ---- */

struct zab_blob {
    uint32_t refs;  /* owners; freed at zero */
    uint32_t len;   /* bytes in data */
    uint8_t data[]; /* owned by the blob */
};

/* Returns owned blob holding a copy of len bytes at p (refs = 1), or NULL on OOM. */
struct zab_blob *zab_blob_new(const void *p, uint32_t len);
/* Takes one more reference; returns b. NULL is allowed. */
struct zab_blob *zab_blob_ref(struct zab_blob *b);
/* Drops one reference; frees at zero. NULL is allowed. */
void zab_blob_unref(struct zab_blob *b);

/* ---- messages: FLE notifications (election port) and QuorumPackets (quorum port) ---- */

/* ServerState as FLE notifications carry it (QuorumPeer.ServerState ordinal). */
enum zab_state {
    ZAB_LOOKING = 0,
    ZAB_FOLLOWING = 1,
    ZAB_LEADING = 2,
    ZAB_OBSERVING = 3,
};

/* QuorumPacket.type values as Leader.java numbers them; NOTIFICATION is ours (election port). */
enum zab_msg_type {
    ZAB_MSG_REQUEST = 1,
    ZAB_MSG_PROPOSAL = 2,
    ZAB_MSG_ACK = 3,
    ZAB_MSG_COMMIT = 4,
    ZAB_MSG_PING = 5,
    ZAB_MSG_REVALIDATE = 6,
    ZAB_MSG_SYNC = 7,
    ZAB_MSG_INFORM = 8,
    ZAB_MSG_COMMITANDACTIVATE = 9,
    ZAB_MSG_NEWLEADER = 10,
    ZAB_MSG_FOLLOWERINFO = 11,
    ZAB_MSG_UPTODATE = 12,
    ZAB_MSG_DIFF = 13,
    ZAB_MSG_TRUNC = 14,
    ZAB_MSG_SNAP = 15,
    ZAB_MSG_OBSERVERINFO = 16,
    ZAB_MSG_LEADERINFO = 17,
    ZAB_MSG_ACKEPOCH = 18,
    ZAB_MSG_INFORMANDACTIVATE = 19,
    ZAB_MSG_NOTIFICATION = 1000, /* election port; not a QuorumPacket */
};

#define ZAB_PROTOCOL_VERSION 0x10000 /* LearnerInfo.protocolVersion and LEADERINFO body */
#define ZAB_FLE_VERSION      0x2     /* Notification.CURRENTVERSION in 3.8 */

/* An FLE notification, fields in the order FastLeaderElection.buildMsg writes them. */
struct zab_notification {
    int32_t state;          /* enum zab_state of the sender */
    pd_sid leader;          /* proposed / current leader */
    pd_zxid zxid;           /* proposed leader's last zxid */
    int64_t election_epoch; /* logicalclock of the sender */
    int64_t peer_epoch;     /* proposed leader's currentEpoch */
    int32_t version;        /* ZAB_FLE_VERSION */
    int64_t config_version; /* version of the config the sender runs (dynamic config: later) */
};

/*
 * One decoded record. Which fields are meaningful depends on type:
 *   NOTIFICATION            note
 *   FOLLOWERINFO/OBSERVERINFO  zxid = acceptedEpoch << 32; learner_sid, protocol_version,
 *                           config_version (LearnerInfo in the data field)
 *   LEADERINFO              zxid = newEpoch << 32; protocol_version (4-byte data)
 *   ACKEPOCH                zxid = last logged zxid; epoch = currentEpoch or -1 (4-byte data)
 *   DIFF/TRUNC/SNAP         zxid; a SNAP is followed on the stream by the serialized database
 *                           as of zxid, which the driver reads and keeps for ZAB_STORE_SNAP_LOAD
 *   PROPOSAL/INFORM         zxid; data = the txn (TxnHeader + record [+ digest]), opaque here
 *   COMMIT                  zxid
 *   NEWLEADER               zxid = newEpoch << 32 (data: config bytes, unused here)
 *   UPTODATE                zxid = -1 as the leader sends it
 *   ACK                     zxid acknowledged (newEpoch << 32 for NEWLEADER and UPTODATE)
 *   REQUEST                 data = sessionId, cxid, type, request bytes (opaque here)
 *   PING                    zxid; data = session activity (opaque here)
 *   SYNC                    zxid (leader -> learner: a sync request may complete)
 */
struct zab_msg {
    int32_t type; /* enum zab_msg_type */
    pd_zxid zxid; /* QuorumPacket.zxid */
    struct zab_notification note;
    pd_sid learner_sid;       /* LearnerInfo.serverid */
    int32_t protocol_version; /* LearnerInfo.protocolVersion / LEADERINFO body */
    int64_t config_version;   /* LearnerInfo.configVersion */
    int32_t epoch;            /* ACKEPOCH body: currentEpoch, or -1 */
    struct zab_blob *data;    /* see above; borrowed in events, owned by z in updates */
};

/* ---- configuration and persisted state ---- */

struct zab_server {
    pd_sid sid;       /* server.N */
    bool is_observer; /* ":observer" */
};

struct zab_config {
    pd_sid self;                                /* myid */
    int n_servers;                              /* entries in servers */
    struct zab_server servers[ZAB_MAX_SERVERS]; /* the ensemble, self included */
    uint32_t tick_ms;                           /* tickTime */
    uint32_t init_limit;                        /* initLimit, ticks */
    uint32_t sync_limit;                        /* syncLimit, ticks */
    uint32_t finalize_wait_ms;                  /* FLE finalizeWait; 0 -> 200 */
    uint32_t max_notification_interval_ms;      /* FLE maxNotificationInterval; 0 -> 60000 */
    uint32_t commit_log_count;                  /* in-memory log tail for DIFF; 0 -> 500 */
    int64_t config_version; /* quorum verifier version (0 without dynamic cfg) */
};

/* A logged txn handed to the core at start (the tail of the local log). */
struct zab_txn {
    pd_zxid zxid;          /* txn zxid */
    struct zab_blob *data; /* borrowed; the core takes its own ref */
};

struct zab_start {
    struct zab_config config;   /* copied */
    uint32_t accepted_epoch;    /* file acceptedEpoch (0 when missing) */
    uint32_t current_epoch;     /* file currentEpoch (0 when missing) */
    pd_zxid last_zxid;          /* last durable logged zxid (snapshot zxid if the log is empty) */
    const struct zab_txn *tail; /* borrowed: up to commit_log_count last logged txns, ascending,
                                   ending at last_zxid; may be shorter or empty */
    size_t n_tail;
    uint64_t seed; /* PRNG seed */
};

/* ---- events ---- */

enum zab_event_type {
    ZAB_START = 1,      /* start; begins an election */
    ZAB_TICK,           /* time passed (call at or after up->next_deadline) */
    ZAB_RECV,           /* a decoded record from a peer */
    ZAB_PERSISTED,      /* storage operations up to seq are durable */
    ZAB_PROPOSE,        /* a txn (leader) or request (learner) from the pipeline */
    ZAB_PEER_UP,        /* a connection to peer is up */
    ZAB_PEER_DOWN,      /* the quorum connection to peer broke; in-flight records are lost */
    ZAB_SNAPSHOT_READY, /* ZAB_STORE_SNAP_LOAD of zxid is loaded and durable (also persisted) */
    ZAB_SYNC_REQUEST,   /* leader only: learner peer asked for a sync (REQUEST of type sync) */
};

struct zab_event {
    enum zab_event_type type;
    uint64_t now; /* ms, monotonic, the driver's clock */
    union {
        struct zab_start start;
        struct {
            pd_sid from;
            const struct zab_msg *msg; /* borrowed; blobs in it are ref'd if kept */
        } recv;
        struct {
            uint64_t seq; /* every storage op with seq <= this is durable */
        } persisted;
        struct {
            struct zab_blob *data; /* borrowed; the txn body (leader) or request (learner) */
        } propose;
        struct {
            pd_sid peer;
        } peer;
        struct {
            uint64_t seq; /* the SNAP_LOAD op's seq */
        } snapshot;
        struct {
            pd_sid from;
        } sync;
    };
};

/* ---- the update ---- */

struct zab_send {
    pd_sid to;          /* peer */
    struct zab_msg msg; /* msg.data owned by z until the next zab_step() */
};

enum zab_store_kind {
    ZAB_STORE_APPEND = 1,     /* append txn (zxid, data) to the log */
    ZAB_STORE_TRUNCATE,       /* drop every logged txn with zxid > zxid (and snapshots past it) */
    ZAB_STORE_ACCEPTED_EPOCH, /* write file acceptedEpoch = epoch */
    ZAB_STORE_CURRENT_EPOCH,  /* write file currentEpoch = epoch */
    ZAB_STORE_SNAP_LOAD,      /* replace database and log by the snapshot received after SNAP
                                 (zxid), write it durably; answer ZAB_SNAPSHOT_READY or
                                 ZAB_PERSISTED */
};

struct zab_store {
    uint64_t seq;          /* increasing; report durability with ZAB_PERSISTED(seq) */
    int kind;              /* enum zab_store_kind */
    pd_zxid zxid;          /* APPEND: txn zxid; TRUNCATE/SNAP_LOAD: target zxid */
    uint32_t epoch;        /* *_EPOCH */
    struct zab_blob *data; /* APPEND: txn body, owned by z until the next zab_step() */
};

/* A record the driver must hand to its pipeline (leader: REQUEST from a learner). */
struct zab_inbound {
    pd_sid from;           /* learner */
    int32_t type;          /* ZAB_MSG_REQUEST or ZAB_MSG_PING (session activity) */
    struct zab_blob *data; /* owned by z until the next zab_step() */
};

enum zab_update_flags {
    ZAB_UPD_ROLE = 1u << 0,      /* role/phase/leader/epoch changed */
    ZAB_UPD_COMMIT = 1u << 1,    /* commit_zxid advanced */
    ZAB_UPD_SNAP_SENT = 1u << 2, /* a SNAP record is among sends (driver streams the db) */
    ZAB_UPD_SYNCED = 1u << 3,    /* learner: n_sync_done SYNC answers arrived */
};

enum zab_phase {
    ZAB_PHASE_ELECTION = 0,
    ZAB_PHASE_DISCOVERY,
    ZAB_PHASE_SYNC,
    ZAB_PHASE_BROADCAST,
};

/*
 * What the driver must do after a step, in this order: perform stores (queued in order on the
 * storage thread), apply commits up to commit_zxid, then send records in array order (a
 * learner's records are on one FIFO link; a SNAP record is followed on the stream by the
 * database as of its zxid), close the listed quorum connections, and call ZAB_TICK at
 * next_deadline. Arrays are owned by z and valid until the next zab_step().
 */
struct zab_update {
    uint32_t flags;        /* enum zab_update_flags */
    enum zab_state role;   /* current role (always set) */
    enum zab_phase phase;  /* current phase (always set) */
    pd_sid leader;         /* current leader, or ZAB_SID_NONE while LOOKING */
    uint32_t epoch;        /* established / proposed epoch of the current leader */
    pd_zxid commit_zxid;   /* everything logged up to here is committed (with COMMIT flag) */
    pd_zxid proposed_zxid; /* ZAB_PROPOSE on a leader: the zxid given to the txn */
    struct zab_send *sends;
    size_t n_sends;
    struct zab_store *stores;
    size_t n_stores;
    struct zab_inbound *inbound;
    size_t n_inbound;
    pd_sid *closes; /* quorum connections to close */
    const char **close_whys; /* why each one (static strings), for the log */
    size_t n_closes;
    uint32_t n_sync_done;   /* learner: SYNC answers received this step */
    uint64_t next_deadline; /* ms: call ZAB_TICK by then; UINT64_MAX for none */
};

/* ---- tracing ---- */

/* Called with one line of text (no newline) per notable transition; borrowed string. */
typedef void (*zab_tracer_fn)(void *arg, uint64_t now, pd_sid self, const char *line);

/* ---- the core ---- */

struct zab; /* opaque; see zab_int.h */

/* Returns owned core; release with zab_free(). NULL on OOM. Feed ZAB_START first. */
struct zab *zab_new(void);
void zab_free(struct zab *z);
/* Sets the tracer (fn may be NULL); arg is borrowed for the lifetime of z. */
void zab_set_tracer(struct zab *z, zab_tracer_fn fn, void *arg);

/*
 * Feeds one event; fills *up (overwritten) with what to do. Returns 0, PD_ENOMEM (state may
 * have advanced partially; the driver should restart the server), PD_EINVAL for an event that
 * makes no sense now (ZAB_PROPOSE while not serving: the caller retries later or fails the
 * request), or PD_ECONFIG for a bad ZAB_START.
 */
int zab_step(struct zab *z, const struct zab_event *ev, struct zab_update *up);

/* Cheap structural self-check for tests; returns 0 or a negative code; never aborts. */
int zab_check(const struct zab *z);

/* Introspection for tests and 4lw. */
enum zab_state zab_role(const struct zab *z);
enum zab_phase zab_phase(const struct zab *z);
pd_sid zab_leader(const struct zab *z);
uint32_t zab_current_epoch(const struct zab *z);
uint32_t zab_accepted_epoch(const struct zab *z);
pd_zxid zab_last_zxid(const struct zab *z);
pd_zxid zab_commit_zxid(const struct zab *z);
/* Leader: number of learners in BROADCAST (synced followers, observers excluded). */
int zab_synced_followers(const struct zab *z);
/* Leader: number of observers in BROADCAST (Leader.getObservingLearners). */
int zab_synced_observers(const struct zab *z);

/* Total order of FLE votes (FastLeaderElection.totalOrderPredicate without weights):
   true when (new_epoch, new_zxid, new_sid) beats (cur_epoch, cur_zxid, cur_sid). */
bool zab_vote_beats(int64_t new_epoch, pd_zxid new_zxid, pd_sid new_sid, int64_t cur_epoch,
                    pd_zxid cur_zxid, pd_sid cur_sid);

const char *zab_msg_name(int32_t type);
const char *zab_state_name(enum zab_state s);

#endif
