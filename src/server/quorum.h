/*
 * The ensemble driver: runs the pure Zab core (src/zab) over real sockets, disk and clock.
 *
 * What it is: the I/O edge of a replicated server (issue #5). It owns the election port (FLE
 * notifications, QuorumCnxManager's connection rules), the quorum port (QuorumPackets between
 * leader and learners), the Zab core's timer, and the mapping between the core's storage
 * operations and the storage thread. It feeds the core events and performs the updates, in the
 * order src/zab/README.md ("Driver contract") prescribes. What it is not: it decides nothing
 * about the protocol (src/zab does) and encodes nothing by hand (src/jute/quorum.h does).
 *
 * Hooks in the rest of the server (all guarded by srv->quorum != NULL, so standalone is
 * untouched): server.c starts/stops it; pipeline.c proposes a leader's txns through
 * quorum_propose() instead of the local log and queues a learner's received txns with
 * pipeline_queue_txn(); storage_thread.c reports durability by sequence number
 * (quorum_persisted); dispatch.c forwards a learner's writes, syncs and new sessions
 * (quorum_forward*), and leaves session expiry and container reaping to the leader;
 * fourlw.c reports the mode.
 *
 * Facts from Apache ZooKeeper 3.8: QuorumCnxManager (election connections), Learner and
 * Follower (REQUEST forwarding, PING replies with session touches), LearnerHandler and Leader
 * (REQUEST -> proposal, PING touches), CommitProcessor (a learner answers its own client when
 * the txn with that session id and cxid commits), QuorumPeer (epoch files).
 */
#ifndef PD_SERVER_QUORUM_H
#define PD_SERVER_QUORUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct server;
struct conn;
struct quorum;

/* True when zoo.cfg describes an ensemble this server runs in (server.N lines + myid). */
bool quorum_configured(const struct server *srv);

/*
 * Starts quorum mode after recovery and the storage thread: reads the epoch files, binds the
 * election and quorum ports of this server's server.N line, and starts an election.
 * Returns 0, or an error already logged.
 */
int quorum_start(struct server *srv);
/* Shutdown: closes every quorum handle (the loop then drains them). */
void quorum_stop(struct server *srv);
/* Frees what quorum_start() allocated, after the loop closed the handles. */
void quorum_free(struct server *srv);

/* Established leader in BROADCAST: may prep and propose txns. */
bool quorum_can_propose(const struct server *srv);
/* Follower or observer (any phase): client writes are forwarded, not prepped. */
bool quorum_is_learner(const struct server *srv);
/* In BROADCAST (leader or learner); whether clients are served: quorum_serves_clients(). */
bool quorum_is_serving(const struct server *srv);

/*
 * Leader: proposes the txn prepped as `zxid` (payload: its log record, borrowed; the core
 * keeps its own copy). 0, or PD_EIO when the core refuses (not established any more).
 */
int quorum_propose(struct server *srv, int64_t zxid, const uint8_t *payload, size_t len);

/*
 * Learner: forwards a client request (opcode op, body = the request bytes after the
 * RequestHeader) to the leader as REQUEST, and holds the connection's later reads until it is
 * answered. Returns true (the frame is consumed) or false when it must wait.
 */
bool quorum_forward(struct conn *c, int32_t xid, int32_t op, const uint8_t *body, size_t len,
                    int64_t started_ms);
/* Learner: a new session; the leader proposes createSession. Returns false to close. */
bool quorum_forward_connect(struct conn *c, int64_t session_id, int32_t timeout_ms);

/*
 * Learner: a client reattached session_id here; tells the leader (REVALIDATE), which makes
 * this server the session's owner before this connection's forwarded writes reach it, and
 * closes the connection if the leader answers that the session is not valid.
 */
void quorum_revalidate(struct server *srv, int64_t session_id, int32_t timeout_ms);
/* Learner: c's handshake names session_id, unknown here. Asks the leader and holds c until
 * the leader answers and (if valid) the session's txn is applied here; then the handshake is
 * answered (dispatch_reopened or dispatch_session_invalid). False: no leader to ask. */
bool quorum_await_session(struct conn *c, int64_t session_id, int32_t timeout_ms);

/* Storage thread: every storage op up to seq is durable. */
void quorum_persisted(struct server *srv, uint64_t seq);
/* Writes the quorum packets queued this loop turn, one write per link (server.c, from the
 * end-of-turn check, after durable txns are applied). */
void quorum_flush(struct server *srv);
/* A client connection is going: forget its forwarded requests. */
void quorum_conn_gone(struct server *srv, struct conn *c);

/* 4lw: "leader", "follower", "observer", or NULL while not serving (LOOKING / syncing). */
const char *quorum_mode(const struct server *srv);
/*
 * mntr's quorum gauges, as 3.8 names them: QuorumZooKeeperServer (peer_state, quorum_size),
 * ObserverZooKeeperServer (observer_master_id) and LeaderZooKeeperServer (the rest).
 */
struct quorum_gauges {
    char peer_state[48];     /* QuorumPeer.getDetailedPeerState(): "leading - broadcast" */
    int64_t leader;          /* the leader's sid (observer_master_id), -1 if none */
    int quorum_size;         /* voting members */
    bool is_leader;          /* the leader-only gauges below are meaningful */
    int learners;            /* learner connections (observers included) */
    int synced_followers;    /* participants in BROADCAST (observers excluded) */
    int synced_observers;    /* observers in BROADCAST */
    int64_t leader_uptime_ms;
    int64_t last_proposal_size, min_proposal_size, max_proposal_size; /* -1 before the first */
};
void quorum_gauges(const struct server *srv, struct quorum_gauges *g);
/* srst on a leader: its proposal sizes start again (Leader.getProposalStats().reset()). */
void quorum_reset_proposal_stats(struct server *srv);
/*
 * Serves clients: in BROADCAST, and not a leader with leaderServes=no (Leader.lead() then
 * never gives the connection factory its ZooKeeperServer: connections are closed and the 4lw
 * answer "not currently serving").
 */
bool quorum_serves_clients(const struct server *srv);

#endif
