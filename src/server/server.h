/*
 * The standalone server: one libuv loop thread owns every connection, the
 * session table and the data tree. There are no locks.
 *
 * Request flow (DESIGN.md §2): conn.c reads bytes and cuts frames; the first
 * frame is the handshake (or a four-letter word); every later frame goes to
 * dispatch.c, which serves reads from the tree and turns writes into txns
 * (tree_prep), commits them (tree_apply; standalone is a quorum of one and,
 * until the storage issue lands, commit is immediate) and queues the reply.
 * Watch notifications are queued on the watcher's connection during apply,
 * before the writer's reply, which gives ZooKeeper's ordering guarantee.
 *
 * Replies are appended to the connection's output buffer and written once
 * per loop turn (server_flush), so a pipelined burst of requests costs one
 * write(2).
 *
 * Connection states:
 *
 *   CONN_NEW --first frame is a ConnectRequest--> CONN_ACTIVE   (conn_handshake)
 *   CONN_NEW --first 4 bytes are a 4lw--------->  CONN_CLOSING  (fourlw_run)
 *   CONN_ACTIVE --closeSession / error / EOF--->  CONN_CLOSING  (conn_close)
 *   CONN_CLOSING: output is flushed, then the handle is closed and freed in
 *                 its close callback.
 */
#ifndef PD_SERVER_SERVER_H
#define PD_SERVER_SERVER_H

#include "common/arena.h"
#include "jute/jute.h"
#include "server/config.h"
#include "server/quorum.h"
#include "server/session.h"
#include "storage/file.h"
#include "storage/purge.h"
#include "tree/tree.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

/* The ZooKeeper version Paddock speaks, as clients and monitoring parse it. */
#define SERVER_ZK_VERSION "3.8.0"

struct pending;

/* DataTree's digest log (4lw hash): the tree digest after every 128th zxid, last 1024. */
#define SERVER_DIGEST_LOG_INTERVAL 128
#define SERVER_DIGEST_LOG_LIMIT    1024
struct digest_entry {
    int64_t zxid;
    int64_t digest;
};

enum conn_state { CONN_NEW, CONN_ACTIVE, CONN_CLOSING };

struct conn {
    uv_tcp_t tcp;       /* handle; the conn is freed in its close callback */
    struct server *srv; /* borrowed */
    enum conn_state state;
    struct session *sess; /* borrowed from the session table; NULL before handshake */
    char peer_ip[64];     /* textual address, for the ip ACL scheme and cons */
    int peer_port;
    bool is_old_client;   /* ConnectRequest had no readOnly byte: reply without it */
    bool is_connecting;   /* its createSession txn is not committed yet */
    bool is_held;         /* input waits: a read behind this connection's own writes */
    int n_pending;        /* this connection's txns in the pipeline */
    struct jute_id *auth; /* owned array (strings owned): ("ip", peer) + addauth ids;
                             per connection, as ZooKeeper's ServerCnxn.authInfo */
    int n_auth;
    bool is_super; /* authenticated with the super digest */
    uint8_t *in;   /* owned; bytes received but not yet consumed */
    size_t in_len, in_cap;
    struct jute_out out; /* replies not yet handed to libuv */
    uint8_t *writing;    /* owned; the buffer libuv is writing, NULL if none */
    uv_write_t write_req;
    bool is_dirty;            /* on the server's flush list */
    bool is_reading;          /* input is wanted: uv_read_start, or a ring receive (reads.c) */
    bool is_read_armed;       /* reads.c: a receive is armed in the ring */
    uint32_t read_slot;       /* reads.c: its slot + 1, 0 for none */
    uint32_t read_seq;        /* reads.c: arm sequence of the current receive */
    bool close_after_flush;   /* close once `out` and `writing` are empty */
    struct conn *next, *prev; /* all connections */
    struct conn *dirty_next;  /* flush list */
    /* statistics for cons / stat */
    int64_t established_ms;
    int64_t packets_received;
    int64_t packets_sent;
    int64_t last_zxid;
    int32_t last_cxid;
    int64_t last_latency_ms, min_latency_ms, max_latency_ms, total_latency_ms, n_latency;
    const char *last_op;
    int64_t last_response_ms; /* monotonic ms of the last reply (cons "lresp"); 0 = none */
    int64_t last_io_ms;       /* monotonic ms of the last read (dump's connection expiry) */
};

/*
 * A summary of samples as ZooKeeper's AvgMinMaxPercentileCounter: count, sum, min, max, and a
 * uniform reservoir of STATS_RESERVOIR_SIZE samples for the mntr p50/p95/p99/p999 figures.
 */
#define STATS_RESERVOIR_SIZE 4096
struct stats_summary {
    int64_t count;                         /* samples added since the last reset */
    int64_t total;                         /* their sum */
    int64_t min, max;                      /* meaningful only when count > 0 */
    int64_t samples[STATS_RESERVOIR_SIZE]; /* the first min(count, size) slots are used */
};

/*
 * Server-wide statistics for srvr/stat/mntr (ZooKeeper's ServerStats and the ServerMetrics we
 * can compute). Everything but started_ms is zeroed by the 4lw "srst" (stats_reset), as
 * ServerStats.reset() with ServerMetrics.resetAll(). Maintained through stats.c.
 */
struct server_stats {
    int64_t packets_received;
    int64_t packets_sent;
    int64_t min_latency_ms, max_latency_ms, total_latency_ms, n_latency; /* min -1: none yet */
    int64_t started_ms;
    int64_t bytes_received;       /* request bytes incl. length prefixes (bytes_received_count) */
    int64_t connection_requests;  /* ConnectRequests received (connection_request_count) */
    int64_t connections_rejected; /* refused by maxClientCnxns (connection_rejected) */
    int64_t sessions_expired;     /* sessions expired by timeout (stale_sessions_expired) */
    int64_t response_bytes;       /* sum of reply sizes, length prefix excluded (response_bytes) */
    int64_t last_response_bytes, min_response_bytes, max_response_bytes; /* -1: none yet */
    struct stats_summary read_latency;   /* ms, requests that made no txn (readlatency) */
    struct stats_summary update_latency; /* ms, requests that made a txn (updatelatency) */
    uint64_t rng;                        /* reservoir sampling state; never 0 */
};

/* The periodic purge of old snapshots and logs (autopurge.c); zeroed until started. */
struct autopurge {
    uv_timer_t timer;        /* every autopurge.purgeInterval; unref'd: never keeps the loop */
    uv_work_t work;          /* one purge on libuv's threadpool */
    bool is_running;         /* work queued or running: a tick then skips */
    bool is_one_dir;         /* dataDir and dataLogDir name one directory */
    int64_t n_runs;          /* purges finished since start */
    int rc;                  /* the last purge's result (written by the worker) */
    struct purge_result res; /* what it did (written by the worker) */
    char errmsg[512];        /* why it failed (written by the worker) */
};

struct server {
    struct config cfg;
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_signal_t sigterm, sigint;
    uv_timer_t tick_timer;       /* session expiry, every tickTime */
    uv_timer_t container_timer;  /* container / TTL reaping */
    uv_check_t flush_check;      /* writes queued output once per loop turn */
    struct sendbatch *sendbatch; /* owned; NULL: replies are written one write() each */
    struct reads *reads;         /* owned; NULL: requests are read by libuv */
    struct tree *tree;           /* owned */
    struct sess_table sessions;
    int64_t last_zxid;         /* last txn applied */
    int64_t next_zxid;         /* zxid the next prepped txn gets */
    int64_t durable_zxid;      /* the log holds every txn up to this one, fsynced */
    struct pending *pend_head; /* prepped, not yet applied, in zxid order (owned) */
    struct pending *pend_tail;
    struct arena arena; /* per-request memory, reset after each request */
    struct conn *conns; /* all connections (owned through their handles) */
    int n_conns;
    struct conn *dirty;      /* connections with output to write, in queueing order */
    struct conn *dirty_tail; /* last of them */
    struct server_stats stats;
    bool is_stopping;
    int exit_status;           /* server_main's result: 0, or 1 after server_fatal() */
    struct storage *storage;   /* owned; NULL until started */
    struct file_fs fs;         /* file backend for logs and snapshots */
    uv_signal_t sigusr1;       /* snapshot on demand */
    uv_async_t snap_async;     /* the snapshot writer made room or ended */
    struct snap_job *snap_job; /* owned: the snapshot state (snapshotter.c), or NULL */
    int64_t snap_zxid;         /* the zxid it writes */
    int64_t snap_started_ms;   /* monotonic */
    int64_t txns_since_snap;   /* applied since the last snapshot started */
    int64_t snap_threshold;    /* take one when txns_since_snap reaches this (0: unset) */
    int64_t snap_count_taken;  /* snapshots written since start */
    bool has_snapshot;         /* recovery loaded a snapshot from dataDir */
    struct digest_entry digest_log[SERVER_DIGEST_LOG_LIMIT]; /* ring, oldest at head */
    int digest_log_head;
    int digest_log_n;
    bool is_storage_failed; /* a log write or fsync failed: writes are refused */
    int lock_fds[2];        /* flocks on dataDir and dataLogDir (-1 if none); closed at exit */
    int64_t server_id;      /* 0 standalone; top byte of session ids */
    int64_t trace_mask;     /* ZooTrace text trace mask, 4lw gtmk/stmk only */

    struct autopurge autopurge; /* autopurge.c */
    struct quorum *quorum;      /* quorum.c: the ensemble driver; NULL when standalone */
};

/* Runs `paddock server <cfg>` until SIGTERM/SIGINT; returns the exit status. */
int server_main(const char *config_path);

/* Wall-clock ms (txn time, ctime/mtime) and monotonic ms (expiry, latency). */
int64_t server_wall_ms(void);
int64_t server_mono_ms(struct server *srv);

/*
 * host:port as a socket address: an IPv4 or IPv6 literal, or a host name looked up with
 * getaddrinfo (blocking: for start-up and the rare retry), taking its first IPv4 address if it
 * has one, as Java's InetAddress does by default. 0 or a libuv error code (UV_EAI_NONAME...).
 */
int server_resolve(const char *host, int port, struct sockaddr_storage *ss);

/* conn.c */
void conn_on_accept(uv_stream_t *listener, int status);
/* Queues conn for writing at the end of this loop turn. */
void conn_mark_dirty(struct conn *c);
/* Writes queued output; closes the connection if asked and drained. */
void conn_flush(struct conn *c);
/* conn_flush in two halves, for a caller that sends the bytes itself (sendbatch.c): true when
 * c->out has bytes to send now (else conn_flush did what there was to do); then
 * conn_flush_sent() with what the send returned (bytes, or a negative errno / UV error). */
bool conn_flush_prepare(struct conn *c);
void conn_flush_sent(struct conn *c, int n);
int conn_fd(const struct conn *c);

/* conn.c, for reads.c: bytes received from c (handled as a read of them), or the end of its
 * stream (err UV_EOF) or a receive error (-errno): c closes. */
void conn_received(struct conn *c, const void *data, size_t n);
void conn_read_ended(struct conn *c, int err);

/* reads.c: requests read through one io_uring, its fd in the loop's poll set (where available;
 * srv->reads stays NULL otherwise, and conn.c reads through libuv). */
struct reads;
int reads_open(struct server *srv);
/* Closes the poll handle (the loop can end); reads_free() after the loop drained. */
void reads_stop_polling(struct server *srv);
void reads_free(struct server *srv);
/* c wants input: a receive is armed (false: out of memory). */
bool reads_start(struct conn *c);
/* c wants no input for now: its receive is cancelled (bytes already received still come). */
void reads_stop(struct conn *c);
/* c is closing: its receive is cancelled and its completions are dropped from now. */
void reads_forget(struct conn *c);

/* sendbatch.c: the replies of a loop turn sent with one io_uring_enter (where available). */
struct sendbatch;
typedef void (*sendbatch_done_fn)(uint64_t tag, int res, void *arg);
/* 0, or PD_ENOTSUP (no liburing, no io_uring, PADDOCK_NO_URING set) or PD_ENOMEM. */
int sendbatch_open(struct sendbatch **out);
void sendbatch_close(struct sendbatch *b);
/* True when no more sends fit before sendbatch_submit(). */
bool sendbatch_full(const struct sendbatch *b);
/* Queues a nonblocking send of data (which must stay put until sendbatch_submit returns). */
void sendbatch_add(struct sendbatch *b, int fd, const void *data, size_t len, uint64_t tag);
/* Sends what was queued, in one system call, and calls done(tag, bytes sent or -errno) for
 * each before returning. 0 or PD_EIO (the ring failed: nothing is known to be sent). */
int sendbatch_submit(struct sendbatch *b, sendbatch_done_fn done, void *arg);
/* Stops reading, flushes what is queued, then closes. */
void conn_close(struct conn *c, const char *why);
/* Call after appending a whole frame to c->out: counts it and schedules the write. */
void conn_sent(struct conn *c);
/* Starts a reply frame (length word + ReplyHeader) in c->out; returns where it began. */
size_t conn_reply_begin(struct conn *c, int32_t xid, int64_t zxid, int32_t err);
/* Ends the frame begun at `at` and schedules it. */
void conn_reply_end(struct conn *c, size_t at);
/* A reply with no body (errors, delete, ping...). */
void conn_reply_empty(struct conn *c, int32_t xid, int64_t zxid, int32_t err);
/* Records a request's latency and last-op statistics (cons, stat, mntr); is_write: the
 * request made a txn (mntr's update latency rather than read latency). */
void conn_note_latency(struct conn *c, int64_t started_ms, const char *op, int32_t xid,
                       int64_t zxid, bool is_write);
/* Processes input that was held back (see pipeline.c); call when c->is_held clears. */
void conn_resume(struct conn *c);
/* Adds an authenticated id to the connection (copies the strings). PD_ENOMEM. */
int conn_add_auth(struct conn *c, const char *scheme, const char *id);

/* pipeline.c: the write path (prep -> durable -> apply -> reply), in zxid order. */
enum pipe_kind {
    PIPE_REQUEST, /* a client write: reply with the result */
    PIPE_CONNECT, /* createSession: add the session, then answer the handshake */
    PIPE_CLOSE,   /* client closeSession: reply, remove the session, close */
    PIPE_EXPIRE,  /* session expiry: remove the session, close its connection */
    PIPE_SERVER,  /* deleteContainer and other server-made txns: no one to answer */
};

struct pipeline_req {
    enum pipe_kind kind;
    struct conn *conn; /* who gets the answer (borrowed), or NULL */
    int64_t session_id;
    int32_t xid;
    int32_t op;                   /* PIPE_REQUEST / PIPE_SERVER: the opcode */
    const void *request;          /* the decoded request for op (see tree_prep); borrowed */
    int32_t n_ops;                /* multi: number of ops */
    int32_t timeout_ms;           /* PIPE_CONNECT: negotiated timeout */
    const struct tree_auth *auth; /* borrowed; NULL for server-made txns */
    bool session_is_closing;
    int32_t fail_with; /* nonzero: log an error txn with this code (see tree_prep_ctx) */
};

/* Preps a txn and queues it; it is applied and answered once durable. 0 or PD_ENOMEM. */
int pipeline_submit(struct server *srv, const struct pipeline_req *r);
/* Applies and answers, in order, every queued txn up to srv->durable_zxid. */
void pipeline_commit(struct server *srv);
/* Quorum mode, a new leader before it serves: applies the txns queued from its log up to zxid
 * (it was a follower; they belong to the history it leads with, as ZooKeeper's new leader
 * loads its whole log). Returns how many were applied. */
size_t pipeline_apply_through(struct server *srv, int64_t zxid);
/* The connection is going: its queued txns still commit, unanswered. */
void pipeline_conn_gone(struct server *srv, struct conn *c);
/*
 * Quorum mode, learner: queues a txn the leader sent (PROPOSAL or sync), decoded from its log
 * payload (borrowed: copied), to be applied in zxid order once committed. `bind` fills in who
 * to answer when this server forwarded the request (NULL conn: no one). 0, PD_ENOMEM,
 * PD_EMALFORMED.
 */
struct pipeline_bind {
    struct conn *conn; /* the client connection that sent it, or NULL */
    int32_t op;        /* its opcode */
    int64_t started_ms;
};
typedef void (*pipeline_bind_fn)(struct server *srv, const struct jute_txn_header *hdr,
                                 struct pipeline_bind *out);
int pipeline_queue_txn(struct server *srv, const uint8_t *payload, size_t len,
                       pipeline_bind_fn bind);
/* Drops queued txns with zxid > zxid (a TRUNC from the leader), answering none of them. */
void pipeline_drop_after(struct server *srv, int64_t zxid);
/* Frees every queued txn (shutdown). */
void pipeline_close(struct server *srv);

/* Nothing queued can become durable any more: drop it all, answering none of it. */
void pipeline_fail_pending(struct server *srv);

/* storage_thread.c: group commit on a thread of its own. */
struct txnlog;
/* Starts the storage thread, which takes ownership of `log`. 0 or PD_ENOMEM. */
int storage_start(struct server *srv, struct txnlog *log);
/* Queues one txn's log payload (borrowed until the txn is durable). Without a started
 * storage thread the txn is durable at once. */
void storage_append(struct server *srv, int64_t zxid, const uint8_t *data, size_t len);
/* Tells the storage thread about the txns storage_append queued this loop turn (server.c, at
 * the end of each turn). */
void storage_kick(struct server *srv);
/* Quorum mode: the Zab core's storage operations, performed in order on the storage thread
 * (appends with group commit); durability is reported by seq through quorum_persisted(). */
enum storage_op_kind {
    STORAGE_OP_APPEND = 1,     /* zxid, data/len (borrowed until durable) */
    STORAGE_OP_TRUNCATE,       /* drop every logged txn > zxid */
    STORAGE_OP_ACCEPTED_EPOCH, /* write dataDir/version-2/acceptedEpoch = epoch, atomically */
    STORAGE_OP_CURRENT_EPOCH,  /* write dataDir/version-2/currentEpoch = epoch, atomically */
    STORAGE_OP_SNAP_LOAD,      /* a SNAP from the leader: empty the txn log, delete snapshots
                                  past zxid, write data/len (a whole snapshot file, borrowed
                                  until durable) as snapshot.<zxid>, atomically */
};
struct storage_op {
    int kind;            /* enum storage_op_kind */
    uint64_t seq;        /* the core's sequence number (> 0) */
    int64_t zxid;        /* APPEND: the txn; TRUNCATE: the last zxid kept */
    const uint8_t *data; /* APPEND: the txn payload, borrowed until durable */
    size_t len;
    int64_t epoch; /* *_EPOCH */
};
void storage_op(struct server *srv, const struct storage_op *op);
/* The txn log starts a new file at the first txn >= from_zxid (snapshots). */
void storage_roll(struct server *srv, int64_t from_zxid);
/* Drains and joins the storage thread (shutdown); storage_free() releases it after the
 * loop has closed its handle. */
void storage_stop(struct server *srv);
void storage_free(struct server *srv);
/* A txn was applied (commit or replay): keeps the digest log ZooKeeper's way. */
void server_note_digest(struct server *srv, int64_t zxid);
/* recovery.c: loads the newest valid snapshot and replays the log after it into the tree
 * and session table; sets srv->last_zxid. 0, or an error already logged. */
int recovery_run(struct server *srv, const char *snap_dir, const char *log_dir);
/* The same into an empty tree and session table, from the data directory, up to and
 * including zxid `upto` only (a TRUNC below what the tree applied; the log is already cut
 * there). Changes nothing on disk. 0, or an error already logged. */
int recovery_reload(struct server *srv, int64_t upto);
/* snapshotter.c: fuzzy snapshots encoded in slices on the loop, written by a thread.
 * Starts one unless one runs; 0 if started. */
int snapshotter_take(struct server *srv, const char *why);
/* A txn was applied: take a snapshot when the randomised snapCount is reached. */
void snapshotter_applied(struct server *srv);
/* snap_async: joins a writer that ended and reports; resumes encoding once it made room. */
void snapshotter_reap(struct server *srv);
/* At shutdown, once the tree no longer changes: finishes the snapshot being encoded in one
 * go and waits for its writer. */
void snapshotter_wait(struct server *srv);
/* The tree is about to be replaced or cut (SNAP, TRUNC): abandons a snapshot being encoded
 * (its temporary file goes) and waits for its writer; a snapshot already written stays. */
void snapshotter_abandon(struct server *srv);
/* Test builds: PADDOCK_TEST_SNAP_SLICE_NODES (> 0), the nodes a snapshot or a SNAP database
 * encodes per loop turn instead of a time budget; 0 otherwise. */
int64_t snapshotter_test_slice_nodes(void);
/* After the loop ends: abandons a snapshot still being encoded (the server stopped itself),
 * waits for the writer, frees the snapshot state. */
void snapshotter_free(struct server *srv);
/* Stops the server after an error that leaves the tree unlike its log. */
void server_fatal(struct server *srv);
/* autopurge.c: schedules the purge when autopurge.purgeInterval > 0 (first run at once). */
void autopurge_start(struct server *srv);

/* dispatch.c: one request frame from an established connection. */
/* Returns false, consuming nothing, if the frame must wait (see pipeline.c). */
bool dispatch_request(struct conn *c, const uint8_t *frame, size_t len);
/* The handshake: the first frame of a connection. Returns false to close. */
bool dispatch_connect(struct conn *c, const uint8_t *frame, size_t len);
/* Decodes a MultiRequest's ops into `a` (quorum.c decodes forwarded requests with it). */
struct tree_multi_op;
int dispatch_decode_multi(struct jute_in *in, struct arena *a, struct tree_multi_op **ops_out,
                          int32_t *n_out, bool read_only);
/* Expire sessions whose deadline passed; reap containers and TTL nodes. */
void dispatch_expire_sessions(struct server *srv, int64_t now_mono_ms);
void dispatch_reap_containers(struct server *srv);
/* The createSession txn of c's handshake is committed: attach and answer. */
void dispatch_connected(struct conn *c, struct session *s, int32_t timeout_ms);
/* The handshake of c reattaching to the existing session s succeeds. */
void dispatch_reopened(struct conn *c, struct session *s, int32_t timeout_ms);
/* The handshake of c names a session that does not exist (or a wrong password): say so and
 * close c, as ZooKeeper does. */
void dispatch_session_invalid(struct conn *c, int64_t session_id);
/* True for the opcodes that make a txn (their replies wait for the log). */
bool dispatch_is_write(int32_t op);
/* ZooKeeper's short name of an opcode, as cons prints it ("CREA", "GETD"...). */
const char *dispatch_op_name(int32_t op);
/* Connection closed: drop its watches; the session lives on until it expires. */
void dispatch_conn_gone(struct conn *c);
/* tree_deliver_fn: a watch fired for the connection `watcher`. */
void dispatch_deliver(void *watcher, const struct jute_watcher_event *ev,
                      const struct jute_acl_vec *acl, void *ctx);

/*
 * fourlw.c: if the first 4 bytes name a four-letter word, answers it, closes the connection
 * and returns true. `data` holds the `len` bytes received so far (stmk reads 8 more).
 */
bool fourlw_try(struct conn *c, const uint8_t *data, size_t len);
/* ZooTrace's default text trace mask, what gtmk prints until stmk changes it. */
#define FOURLW_DEFAULT_TRACE_MASK 306

/* stats.c: the counters behind srvr/stat/cons/mntr and their resets (srst, crst). */
/* Zeroes everything; started_ms = now_wall_ms (uptime counts from here). */
void stats_init(struct server_stats *st, int64_t now_wall_ms);
/* srst: ServerStats.reset() plus ServerMetrics.resetAll(); started_ms stays. */
void stats_reset(struct server_stats *st);
/* One request answered after latency_ms; is_write: it made a txn (ZooKeeper: has a header). */
void stats_add_latency(struct server_stats *st, int64_t latency_ms, bool is_write);
/* One reply of size_bytes (length prefix excluded) queued for a client. */
void stats_add_response(struct server_stats *st, int64_t size_bytes);
/* crst: ServerCnxn.resetStats() for one connection. */
void stats_conn_reset(struct conn *c);
/* Java's `(double)` rendering of AvgMinMaxCounter.getAvg(): total/count rounded half-up to
 * 4 decimals, printed as Double.toString ("0.0", "0.8065", "5.0E-4"). out_len >= 32. */
void stats_format_avg(char *out, size_t out_len, int64_t total, int64_t count);
/* Dropwizard UniformSnapshot.getValue(q) over the reservoir, rounded as Math.round. */
int64_t stats_percentile(const struct stats_summary *s, double q, struct arena *a);

#endif
