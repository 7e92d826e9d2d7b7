/*
 * What the files of src/zab/ share: the layout of struct zab and the helpers that emit
 * records, storage operations and trace lines into the update being built. Not installed,
 * not included outside src/zab/.
 */
#ifndef PD_ZAB_ZAB_INT_H
#define PD_ZAB_ZAB_INT_H

#include "zab/zab.h"

/* A vote as FastLeaderElection keeps it in recvset / outofelection (Vote.java fields). */
struct zab_vote {
    bool is_set;            /* slot in use */
    int32_t version;        /* 0 for Vote(id,zxid,ee,pe[,state]); notification version else */
    pd_sid id;              /* proposed leader */
    pd_zxid zxid;           /* its zxid */
    int64_t election_epoch; /* logicalclock it was cast in */
    int64_t peer_epoch;     /* proposed leader's epoch */
    int32_t state;          /* enum zab_state of the voter */
};

struct zab_fle {
    int64_t logicalclock;    /* election round */
    pd_sid prop_leader;      /* proposedLeader */
    pd_zxid prop_zxid;       /* proposedZxid */
    int64_t prop_epoch;      /* proposedEpoch */
    struct zab_vote current; /* QuorumPeer.currentVote: last result (replies to LOOKING peers) */
    struct zab_vote recvset[ZAB_MAX_SERVERS];       /* by server index */
    struct zab_vote outofelection[ZAB_MAX_SERVERS]; /* by server index */
    uint64_t not_timeout_ms;                        /* current notification back-off */
    uint64_t deadline;  /* poll timeout: resend + back off, or finalize */
    bool is_finalizing; /* quorum reached, waiting finalizeWait for a better vote */
    bool has_self_note; /* our own notification, delivered after the current one */
    struct zab_notification self_note;
};

/* Leader-side state of one learner connection (LearnerHandler). */
enum lh_phase {
    LH_NONE = 0,
    LH_WAIT_EPOCH,    /* FOLLOWERINFO in, waiting for the new epoch to be decided */
    LH_WAIT_ACKEPOCH, /* LEADERINFO sent */
    LH_WAIT_SYNC,     /* ACKEPOCH in, waiting for the ACKEPOCH quorum */
    LH_SYNCING,       /* sync + NEWLEADER sent, waiting for its ACK */
    LH_WAIT_UPTODATE, /* NEWLEADER acked, leader not yet established */
    LH_BROADCAST,     /* UPTODATE sent */
};

struct zab_handler {
    enum lh_phase phase;     /* LH_NONE: no connection */
    uint32_t accepted_epoch; /* from FOLLOWERINFO zxid */
    pd_zxid peer_last_zxid;  /* from ACKEPOCH */
    int32_t peer_cur_epoch;  /* from ACKEPOCH (-1: already accepted) */
    uint64_t ack_deadline;   /* ms: tickOfNextAckDeadline */
    /* LearnerHandler.syncLimitCheck, from UPTODATE on: the oldest PROPOSAL sent and not yet
       ACKed (chk_*), and the newest sent after it (next_*); a learner that leaves the oldest
       unACKed for syncLimit ticks is dropped ("transaction timeout") */
    bool is_chk_started;
    bool has_chk, has_next;
    pd_zxid chk_zxid, next_zxid;
    uint64_t chk_ms, next_ms; /* when each was sent */
};

/* A leader's proposal waiting for a quorum of ACKs. */
struct zab_prop {
    pd_zxid zxid;          /* txn zxid */
    struct zab_blob *data; /* owned ref */
    uint32_t ack_mask;     /* by server index, participants and observers alike */
    uint64_t self_seq;     /* own append op; own ACK counts once persisted_seq >= it */
};

/* A learner's logged txn waiting to be ACKed once durable. */
struct zab_pending_ack {
    pd_zxid zxid;
    uint64_t seq;
};

struct zab_sync_wait {
    pd_sid from;  /* learner that asked */
    pd_zxid zxid; /* answer once this is committed */
};

struct zab {
    struct zab_config cfg; /* copied at ZAB_START */
    int self_idx;          /* index of self in cfg.servers */
    bool is_observer;      /* self is an observer */
    uint32_t voter_mask;   /* participants, by server index */
    bool is_started;       /* ZAB_START seen */
    zab_tracer_fn tracer;  /* may be NULL */
    void *tracer_arg;      /* borrowed */
    uint64_t rng;          /* xorshift state, seeded by ZAB_START */
    uint64_t now;          /* ms, of the event being handled */

    /* persisted state as known durable */
    uint32_t accepted_epoch;
    uint32_t current_epoch;

    /* the local log: last_zxid and an in-memory tail of up to cfg.commit_log_count txns */
    pd_zxid last_zxid;   /* last logged (durable or queued) zxid */
    struct zab_txn *win; /* owned array; each data an owned ref; ascending zxid */
    size_t n_win;
    size_t cap_win;
    pd_zxid commit_zxid; /* committed watermark of this lifetime */

    /* storage ops */
    uint64_t next_seq;      /* last seq handed out */
    uint64_t persisted_seq; /* last seq reported durable */

    /* role */
    enum zab_state role;
    enum zab_phase phase;
    pd_sid leader;  /* current leader sid or ZAB_SID_NONE */
    uint32_t epoch; /* leader: new epoch once decided; learner: from LEADERINFO */

    struct zab_fle fle;

    /* leader */
    struct zab_handler lh[ZAB_MAX_SERVERS]; /* by server index */
    bool stash_info[ZAB_MAX_SERVERS];       /* FOLLOWERINFO/OBSERVERINFO received while LOOKING */
    struct zab_msg stash_msg[ZAB_MAX_SERVERS];
    uint32_t connecting_mask; /* FOLLOWERINFO seen (getEpochToPropose) */
    uint32_t max_accepted;    /* max acceptedEpoch seen */
    bool is_epoch_decided;    /* quorum reached for the new epoch */
    uint64_t accepted_seq;    /* store op writing acceptedEpoch; 0 when durable */
    uint32_t electing_mask;   /* ACKEPOCH seen (waitForEpochAck) */
    bool is_epoch_acked;      /* ACKEPOCH quorum reached */
    uint64_t current_seq;     /* store op writing currentEpoch; 0 when durable */
    uint32_t newleader_mask;  /* NEWLEADER ACKs (waitForNewLeaderAck) */
    bool is_established;      /* NEWLEADER quorum reached */
    uint64_t stage_deadline;  /* ms: initLimit for the current discovery/sync wait */
    uint64_t next_ping;       /* ms: next PING round (tickTime / 2) */
    bool is_tick_skip;        /* alternate half-ticks: check synced quorum every tick */
    struct zab_prop *props;   /* owned; outstanding proposals, ascending zxid */
    size_t n_props;
    size_t cap_props;
    pd_zxid last_proposed;       /* leader: last zxid handed out */
    struct zab_sync_wait *syncs; /* owned; pending SYNC answers */
    size_t n_syncs;
    size_t cap_syncs;

    /* learner */
    uint64_t last_heard;   /* ms: last record from the leader */
    bool has_leaderinfo;   /* LEADERINFO received */
    uint64_t ackepoch_seq; /* send ACKEPOCH once persisted >= this */
    bool is_ackepoch_pending;
    int32_t ackepoch_body;  /* currentEpoch or -1 */
    bool has_sync_op;       /* DIFF/TRUNC/SNAP received */
    pd_zxid sync_commit;    /* highest zxid known committed during sync */
    uint64_t newleader_seq; /* send ACK(NEWLEADER) once persisted >= this */
    bool is_newleader_pending;
    bool is_newleader_acked;      /* ACK(NEWLEADER) sent: proposals may be ACKed now */
    uint64_t snap_seq;            /* SNAP_LOAD op in flight (0: none) */
    struct zab_pending_ack *acks; /* owned; logged txns to ACK once durable */
    size_t n_acks;
    size_t cap_acks;

    /* the update being built (arrays owned here, refs released at the next step) */
    struct zab_update *up;
    struct zab_send *sends;
    size_t n_sends, cap_sends;
    struct zab_store *stores;
    size_t n_stores, cap_stores;
    struct zab_inbound *inbound;
    size_t n_inbound, cap_inbound;
    pd_sid *closes;
    const char **close_whys; /* cap_closes of them too */
    size_t n_closes, cap_closes;
    int err; /* sticky PD_ENOMEM during one step */
};

/* ---- zab.c ---- */
int zab_idx(const struct zab *z, pd_sid sid);
bool zab_is_voter_idx(const struct zab *z, int idx);
bool zab_is_quorum(const struct zab *z, uint32_t mask);
void zab_trace(struct zab *z, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void zab_send(struct zab *z, pd_sid to, const struct zab_msg *msg);
uint64_t zab_store(struct zab *z, int kind, pd_zxid zxid, uint32_t epoch, struct zab_blob *data);
/* Asks the driver to close the quorum connection with peer; why: a static string. */
void zab_close(struct zab *z, pd_sid peer, const char *why);
void zab_inbound_add(struct zab *z, pd_sid from, int32_t type, struct zab_blob *data);
uint64_t zab_log_append(struct zab *z, pd_zxid zxid, struct zab_blob *data);
void zab_log_truncate(struct zab *z, pd_zxid zxid);
void zab_log_reset(struct zab *z, pd_zxid zxid);
void zab_commit_to(struct zab *z, pd_zxid zxid);
void zab_set_role(struct zab *z, enum zab_state role, enum zab_phase phase, pd_sid leader);
void zab_go_looking(struct zab *z, const char *why);
uint64_t zab_min_deadline(uint64_t a, uint64_t b);

/* ---- fle.c ---- */
void fle_start(struct zab *z);
void fle_recv(struct zab *z, pd_sid from, const struct zab_notification *n);
void fle_timer(struct zab *z);

/* ---- leader.c ---- */
void leader_start(struct zab *z);
void leader_stop(struct zab *z);
void leader_recv(struct zab *z, pd_sid from, const struct zab_msg *m);
void leader_timer(struct zab *z);
void leader_persisted(struct zab *z);
int leader_propose(struct zab *z, struct zab_blob *data);
void leader_peer_down(struct zab *z, pd_sid peer);
void leader_sync_request(struct zab *z, pd_sid from);
uint64_t leader_deadline(const struct zab *z);

/* ---- learner.c ---- */
void learner_start(struct zab *z);
void learner_stop(struct zab *z);
void learner_recv(struct zab *z, pd_sid from, const struct zab_msg *m);
void learner_timer(struct zab *z);
void learner_persisted(struct zab *z);
int learner_propose(struct zab *z, struct zab_blob *data);
void learner_peer_down(struct zab *z, pd_sid peer);
uint64_t learner_deadline(const struct zab *z);

#endif
