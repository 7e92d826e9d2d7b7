/*
 * The database a leader writes to a learner right after a SNAP packet, encoded
 * a slice at a time while the leader goes on serving and applying txns.
 *
 * The stream is what LearnerHandler writes (ZKDatabase.serializeSnapshot,
 * then the string "BenWasHere"): a snapshot file's body without its
 * FileHeader, seal and digest. It is fuzzy, as ZooKeeper's: nodes are
 * encoded as they stand when the walk reaches them, nodes created after the
 * start are left out, and the learner replays the txns after `zxid` (which
 * the Zab core queues behind the SNAP) over it (storage/snapshot.h,
 * snap_enc_*). Sessions are taken whole at the start.
 *
 * Why not at once (sessions 3 to 5): encoding the whole tree on the loop
 * stalled every client for 41-62 ms per 200k nodes and held the whole stream
 * in memory; here a slice costs the loop what the caller budgets, and the
 * caller sends each slice's bytes before asking for more.
 */
#ifndef PD_SERVER_DBSEND_H
#define PD_SERVER_DBSEND_H

#include <stddef.h>
#include <stdint.h>

struct tree;
struct snap_session;
struct dbsend;

/*
 * Starts the stream of tree `t` as of `zxid` (the last zxid applied to it now),
 * with sessions[0, n) (copied). 0, or PD_ENOMEM. The tree may change between
 * steps; emptied or freed, the next step fails with PD_ECLOSED.
 */
int dbsend_new(struct tree *t, int64_t zxid, const struct snap_session *sessions, size_t n,
               struct dbsend **out);
/* Encodes up to max_nodes more nodes: 1 once the stream is whole (signature included), 0
 * when nodes remain, PD_ENOMEM or PD_ECLOSED (sticky). */
int dbsend_step(struct dbsend *d, int64_t max_nodes);
/* The bytes ready to send, as an owned buffer (pd_free) of *len bytes; NULL (*len 0) when
 * none, or PD_ENOMEM was hit (the next step reports it). */
uint8_t *dbsend_take(struct dbsend *d, size_t *len);
/* Bytes handed out by dbsend_take so far, and nodes encoded so far. */
uint64_t dbsend_bytes(const struct dbsend *d);
int64_t dbsend_nodes(const struct dbsend *d);
/* Stops following the tree and frees it; NULL is a no-op. Before or after the tree goes. */
void dbsend_free(struct dbsend *d);

#endif
