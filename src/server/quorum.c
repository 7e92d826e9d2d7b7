/*
 * The ensemble driver (see quorum.h): election port, quorum port, Zab core timer and the
 * mapping of the core's updates onto the storage thread, the pipeline and the sockets.
 *
 * What it is not: the protocol. Every decision (votes, epochs, sync mode, commit) is the core's;
 * this file only carries records and performs stores, in the order of src/zab/README.md.
 *
 * Links (one libuv TCP handle each):
 *
 *   LINK_EL_OUT  we dialled a peer's election port; we write the initial message, then keep
 *                the link only if our sid is the bigger one (QuorumCnxManager.startConnection)
 *   LINK_EL_IN   a peer dialled our election port; after its initial message we keep it only
 *                if its sid is bigger, else close and dial it back (handleConnection)
 *   LINK_Q_OUT   learner -> leader quorum port, opened when the core sends FOLLOWERINFO
 *   LINK_Q_IN    leader side of a learner; its sid comes from FOLLOWERINFO's LearnerInfo
 *
 * Election links are lossy by design: a notification for a peer without a link is kept (the
 * last one only, as QuorumCnxManager's per-peer queue of one) and written once a link is up;
 * the core re-sends with back-off. As QuorumCnxManager's SendWorker does with lastMessageSent,
 * the last notification for a peer is written again on every new link to it: the previous
 * link may have died with it unread (a dial that a proxy or a dying peer accepts and resets).
 * A dial that QUORUM_DIAL_MIN_MS holds back (the smaller sid's connection we close and must
 * answer by dialling back, or a notification waiting for a link) is made once the limit
 * expires (redial_timer), not left to the core's next re-send, which backs off to 60 s.
 * A broken quorum link attached to a peer is ZAB_PEER_DOWN (stepped after perform() returns
 * when it broke inside it); links the core closes or that are replaced are detached first and
 * report nothing.
 *
 * Learner REQUEST blobs (the core treats them as opaque) are [vector<Id> authinfo][REQUEST
 * data] so that the client's auth ids travel with the request; encode_packet() splits them
 * into QuorumPacket.data and .authinfo, and the leader's receive path joins them again.
 *
 * SNAP: a leader writes the database right after the SNAP record (send_database); a learner
 * reads the stream that follows SNAP (snap_scan/snap_read), decodes it, and only then hands the
 * SNAP to the core, whose SNAP_LOAD installs the tree and sessions (install_snapshot) and has
 * the storage thread write it as snapshot.<zxid> and empty the log. REVALIDATE (session
 * ownership at the leader) never reaches the core: see handle_revalidate.
 *
 * Invariants: every blob handed to the storage thread is held (ref) until its seq is durable;
 * durable_zxid (the pipeline's apply limit) is the core's commit watermark, never more.
 */
#include "server/server.h"

#include "common/alloc.h"
#include "common/err.h"
#include "common/log.h"
#include "jute/quorum.h"
#include "server/dbsend.h"
#include "storage/snapshot.h"
#include "storage/txnlog.h"
#include "zab/zab.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define QUORUM_TAIL_MAX    500  /* txns from the log end given to the core (commitLogCount) */
#define QUORUM_DIAL_MIN_MS 100  /* least time between two dials of one peer's election port */
#define QUORUM_READ_MAX    (QUORUM_MAX_BUFFER_DEFAULT + 4096)
/* Learner.LeaderConnector: 5 tries to reach the leader's quorum port, 100 ms apart
 * (leaderConnectDelayDuringRetryMs), within initLimit ticks. The leader opens that port only
 * once it has decided to lead, which may be after its followers decided to follow it. */
#define QUORUM_CONNECT_TRIES    5
#define QUORUM_CONNECT_RETRY_MS 100
/* QuorumCnxManager.Listener: a failed bind of the election port is tried again a second later,
 * electionPortBindRetry tries in all (0: forever); then the server exits with
 * ExitCode.UNABLE_TO_BIND_QUORUM_PORT. The rest of the server runs meanwhile, as in 3.8. */
#define QUORUM_BIND_RETRY_MS       1000
#define QUORUM_EXIT_CANNOT_BIND    14
/* A database sent after SNAP (dbsend.h): loop time per turn and link spent encoding it, nodes
 * between two looks at the clock, and the unsent bytes on the socket past which encoding
 * waits (until they drop below DB_QUEUE_LOW): memory stays bounded whatever the tree's size. */
#define DB_SLICE_US    1000
#define DB_BATCH       64
#define DB_QUEUE_HIGH  ((size_t)4 << 20)
#define DB_QUEUE_LOW   ((size_t)1 << 20)

enum link_kind { LINK_EL_OUT, LINK_EL_IN, LINK_Q_OUT, LINK_Q_IN };

struct link {
    uv_tcp_t tcp;         /* handle; the link is freed in its close callback */
    uv_connect_t connect; /* outbound connect request */
    struct quorum *q;     /* borrowed */
    enum link_kind kind;
    int64_t sid;          /* peer sid, -1 until known (inbound before its first message) */
    bool is_attached;     /* the peer's elink/qlink points here */
    bool is_connected;    /* outbound: connect finished */
    bool is_closing;      /* uv_close called */
    bool has_initial;     /* election inbound: initial message read */
    bool is_spare;        /* election: kept open but unused (own sid; ZOOKEEPER-2164) */
    uint64_t attached_ms; /* election: when it became the peer's link (monotonic) */
    uint8_t *in;          /* owned: bytes received, not yet consumed */
    size_t in_len, in_cap;
    struct jute_out pend; /* outbound bytes written before the connect finished */
    /* quorum links: packets encoded this loop turn, written at its end by quorum_flush (one
     * write() per link per turn instead of one per packet) */
    struct jute_out out;
    bool is_dirty;          /* on q->dirty */
    struct link *dirty_next;
    /* learner: reading the database that follows a SNAP packet (see snap_scan) */
    bool is_in_snap;
    int64_t snap_zxid;
    int snap_phase;     /* enum snap_phase */
    int64_t snap_left;  /* records left in the current section */
    size_t snap_pos;    /* bytes of the stream scanned so far */
    size_t snap_end;    /* where the node terminator "/" ends (the signature starts) */
    /* leader: the database being sent after a SNAP packet (dbsend.h), a slice per loop turn
     * (on_db_idle); packets for the learner wait in `out` behind it */
    struct dbsend *db;      /* owned, or NULL */
    int64_t db_zxid;
    int64_t db_start_ms;    /* monotonic */
    bool is_db_waiting;     /* paused until the socket's queue drains below DB_QUEUE_LOW */
    struct link *next;  /* all links */
};

struct peer {
    const struct config_server *cs; /* borrowed from srv->cfg */
    struct link *elink;             /* election link in use, or NULL */
    struct link *qlink;             /* quorum link in use, or NULL */
    bool is_dialing;                /* an election dial is in progress */
    uint64_t last_dial_ms;          /* monotonic */
    bool has_note;                  /* a notification waits for an election link */
    bool has_last;                  /* note holds the last notification for this peer */
    struct zab_notification note;   /* the last one (re-sent on every new link) */
    bool want_dial;                 /* a dial held back by QUORUM_DIAL_MIN_MS is due */
    bool has_addr;                  /* addr holds cs->host resolved (port 0) */
    struct sockaddr_storage addr;
    bool is_down_pending;           /* ZAB_PEER_DOWN waits for perform() to return */
};

/* A request a learner forwarded: answered when its txn (or the leader's SYNC) arrives. */
struct fwd {
    struct conn *conn; /* borrowed; NULL once the connection is gone */
    int64_t session_id;
    int32_t cxid;
    int32_t op;
    int64_t started_ms;
    char *path; /* sync: the path to answer with (owned) */
    struct fwd *next, *prev;
    struct fwd *hnext; /* writes: the next in its bucket of q->fwd_tab */
};

/* Learner: a handshake held until the leader says whether its session is valid. */
struct reval {
    struct conn *conn; /* borrowed; NULL once the connection is gone */
    int64_t session_id;
    int32_t timeout_ms;
    uint64_t deadline_ms; /* monotonic: refused if not settled by then */
    bool is_valid;        /* the leader said valid: waits for the session to be applied here */
    struct reval *next;
};

/* A blob handed to the storage thread, released once its seq is durable. */
struct held {
    uint64_t seq;
    struct zab_blob *blob;
};

struct quorum {
    struct server *srv; /* borrowed */
    struct zab *z;      /* owned */
    int64_t self;
    int n_peers;
    struct peer peers[ZAB_MAX_SERVERS]; /* every server but self, config order */
    uv_tcp_t el_listener, q_listener;
    uv_timer_t timer; /* the core's next_deadline */
    struct link *links;
    struct link *dirty; /* quorum links with bytes in `out` */
    uv_idle_t flush_idle; /* runs while `dirty` is not empty: the loop does not block */
    uv_idle_t db_idle;    /* runs while a link sends a database and its socket takes more */
    int64_t db_slice_nodes; /* > 0 (test builds): nodes per slice instead of DB_SLICE_US */
    struct arena arena; /* decoding scratch, reset per record */
    enum zab_state role;
    enum zab_phase phase;
    int64_t leader;
    uint32_t epoch;
    struct fwd *fwd_head, *fwd_tail; /* forwarded writes, in forwarding order */
    struct fwd **fwd_tab; /* the same, by (session, cxid): bind_txn runs for every txn */
    size_t fwd_mask, n_fwd; /* buckets - 1 (0 while fwd_tab is NULL); entries */
    struct fwd *sync_head, *sync_tail; /* forwarded syncs, in forwarding order */
    struct reval *revals;              /* held handshakes (learner) */
    struct held *held;
    size_t n_held, cap_held;
    uv_timer_t retry_timer; /* learner: the next try to reach the leader's quorum port */
    uv_timer_t redial_timer; /* election dials held back by QUORUM_DIAL_MIN_MS */
    int64_t retry_sid;      /* the leader being retried, or -1 */
    int retry_tries;        /* connect attempts made */
    uint64_t retry_start_ms;
    struct jute_out retry_pend; /* what the failed connection had to send (FOLLOWERINFO) */
    /* learner: the database a SNAP carried, decoded, until the core's SNAP_LOAD installs it */
    struct tree *snap_tree;        /* owned, or NULL */
    struct snap_session *snap_sessions; /* owned */
    size_t n_snap_sessions, cap_snap_sessions;
    struct zab_blob *snap_file;    /* the same database as a snapshot file (owned) */
    char *qv_text; /* QuorumVerifier.toString() of our config (owned) */
    size_t qv_len;
    bool is_stopping;
    /* leader gauges for mntr (a new Leader's, reset on every leadership) */
    uint64_t leader_start_ms;
    int64_t last_prop_size, min_prop_size, max_prop_size;
    uv_timer_t bind_timer; /* the next try to bind the election port */
    int bind_errors;       /* failed binds of the election port */
    bool is_el_closed;     /* el_listener closed after a failed bind, may be initialised again */
    uint64_t reload_seq; /* a TRUNC below the applied tree: reload once this seq is durable */
    int64_t reload_zxid; /* its truncation point */
    int n_performing;    /* perform() calls under way (nested: 1 at most) */
};

static void step(struct quorum *q, struct zab_event *ev);
static void settle_revals(struct quorum *q);
static void link_close(struct link *l, const char *why);
static void dial_election(struct quorum *q, struct peer *p);
static void on_redial_timer(uv_timer_t *t);
static void on_q_connected(uv_connect_t *req, int status);
static void q_dial(struct quorum *q, struct peer *p, const void *pend, size_t len);
static bool retry_leader_connect(struct link *l);

/* Debug logging of election links and notifications: off unless PADDOCK_LOG_DEBUG is set in
 * the environment (quorum_start then lowers the log level to DEBUG). */
static bool q_debug;

static const char *kind_name(enum link_kind k)
{
    static const char *names[] = {"el-out", "el-in", "q-out", "q-in"};
    return names[k];
}

static void trace_core(void *arg, uint64_t now, pd_sid self, const char *line)
{
    (void)arg;
    (void)now;
    (void)self;
    pd_debug("zab: %s", line);
}

static uint64_t now_ms(struct quorum *q)
{
    return (uint64_t)server_mono_ms(q->srv);
}

static struct peer *peer_of(struct quorum *q, int64_t sid)
{
    for (int i = 0; i < q->n_peers; i++)
        if (q->peers[i].cs->sid == sid)
            return &q->peers[i];
    return NULL;
}

/* ---- links ----------------------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct link *l = h->data;
    if (l->in_cap - l->in_len < 65536) {
        size_t cap = l->in_cap ? l->in_cap * 2 : 131072;
        while (cap - l->in_len < 65536)
            cap *= 2;
        uint8_t *n = pd_realloc(l->in, cap);
        if (!n) {
            buf->base = NULL;
            buf->len = 0;
            return;
        }
        l->in = n;
        l->in_cap = cap;
    }
    buf->base = (char *)l->in + l->in_len;
    buf->len = l->in_cap - l->in_len;
}

static void on_link_closed(uv_handle_t *h)
{
    struct link *l = h->data;
    struct quorum *q = l->q;
    for (struct link **pp = &q->links; *pp; pp = &(*pp)->next) {
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    }
    if (l->is_dirty) {
        for (struct link **pp = &q->dirty; *pp; pp = &(*pp)->dirty_next) {
            if (*pp == l) {
                *pp = l->dirty_next;
                break;
            }
        }
    }
    pd_free(l->in);
    jute_out_close(&l->pend);
    jute_out_close(&l->out);
    pd_free(l);
}

/* Unhooks l from its peer; returns true if it was the peer's quorum link. */
static bool detach(struct link *l)
{
    if (!l->is_attached)
        return false;
    l->is_attached = false;
    struct peer *p = peer_of(l->q, l->sid);
    if (!p)
        return false;
    if (p->elink == l)
        p->elink = NULL;
    if (p->qlink == l) {
        p->qlink = NULL;
        return true;
    }
    return false;
}

static void link_close(struct link *l, const char *why)
{
    if (l->is_closing)
        return;
    l->is_closing = true;
    struct quorum *q = l->q;
    dbsend_free(l->db); /* stops following the tree now; the link goes later */
    l->db = NULL;
    if (q_debug && (l->kind == LINK_EL_IN || l->kind == LINK_EL_OUT))
        pd_debug("election link %p %s sid %" PRId64 " closed%s%s (attached %d)", (void *)l,
                 kind_name(l->kind), l->sid, why ? ": " : "", why ? why : "", l->is_attached);
    bool was_quorum = detach(l);
    if (l->kind == LINK_EL_OUT) {
        struct peer *p = peer_of(q, l->sid);
        if (p && !l->is_connected)
            p->is_dialing = false;
    }
    if (why && (l->kind == LINK_Q_IN || l->kind == LINK_Q_OUT))
        pd_info("quorum connection with server %" PRId64 " closed: %s", l->sid, why);
    uv_close((uv_handle_t *)&l->tcp, on_link_closed);
    if (was_quorum && !q->is_stopping) {
        struct peer *p = peer_of(q, l->sid);
        if (q->n_performing > 0 && p) {
            /* Inside perform() (a connect that failed at once in q_dial, a write error): a
             * step now would reuse the update arrays it walks. Reported when it returns. */
            p->is_down_pending = true;
            return;
        }
        struct zab_event ev = {.type = ZAB_PEER_DOWN};
        ev.peer.peer = l->sid;
        step(q, &ev);
    }
}

/* Closes l without telling the core (it asked, or the link was replaced). */
static void link_drop(struct link *l, const char *why)
{
    detach(l);
    link_close(l, why);
}

struct wreq {
    uv_write_t req;
    uint8_t *data; /* owned */
};

static void db_idle_start(struct quorum *q);

static void on_written(uv_write_t *req, int status)
{
    struct wreq *w = (struct wreq *)req;
    struct link *l = req->handle->data;
    pd_free(w->data);
    pd_free(w);
    if (status < 0 && !l->is_closing)
        link_close(l, uv_strerror(status));
    if (l->db && l->is_db_waiting && !l->is_closing &&
        uv_stream_get_write_queue_size((uv_stream_t *)&l->tcp) < DB_QUEUE_LOW) {
        l->is_db_waiting = false;
        db_idle_start(l->q);
    }
}

/* Hands len bytes at data + off to libuv; data (the allocation) is owned by the write from
 * here on. */
static void link_write_owned_at(struct link *l, uint8_t *data, size_t off, size_t len)
{
    struct wreq *w = pd_malloc(sizeof(*w));
    if (!w) {
        pd_free(data);
        link_close(l, "out of memory");
        return;
    }
    w->data = data;
    uv_buf_t b = uv_buf_init((char *)data + off, (unsigned)len);
    int rc = uv_write(&w->req, (uv_stream_t *)&l->tcp, &b, 1, on_written);
    if (rc != 0) {
        pd_free(data);
        pd_free(w);
        link_close(l, uv_strerror(rc));
    }
}

static void link_write_owned(struct link *l, uint8_t *data, size_t len)
{
    link_write_owned_at(l, data, 0, len);
}

/* Writes what l->out holds now; while a database goes out, it waits behind it. */
static void link_flush(struct link *l)
{
    if (l->is_closing || l->out.len == 0 || l->db)
        return;
    if (l->out.err) {
        link_close(l, "out of memory");
        return;
    }
    size_t n;
    uint8_t *d = jute_out_steal(&l->out, &n);
    link_write_owned(l, d, n);
}

static void on_flush_idle(uv_idle_t *h);

/* The buffer a packet for l is encoded into: `pend` until an outbound connect finishes; for a
 * connected quorum link `out`, written at the end of the loop turn (quorum_flush). NULL: write
 * election records directly (link_write). */
static struct jute_out *link_buffer(struct link *l)
{
    if (!l->is_connected)
        return &l->pend;
    if (l->kind != LINK_Q_IN && l->kind != LINK_Q_OUT)
        return NULL;
    if (!l->is_dirty) {
        struct quorum *q = l->q;
        if (!q->dirty && !q->is_stopping)
            uv_idle_start(&q->flush_idle, on_flush_idle);
        l->is_dirty = true;
        l->dirty_next = q->dirty;
        q->dirty = l;
    }
    return &l->out;
}

/* Writes len bytes (copied): corked per loop turn on quorum links, buffered until an outbound
 * connect finishes, written at once on election links. */
static void link_write(struct link *l, const void *data, size_t len)
{
    if (l->is_closing || len == 0)
        return;
    struct jute_out *buf = link_buffer(l);
    if (buf) {
        jute_put_raw(buf, data, len);
        return;
    }
    uint8_t *copy = pd_malloc(len);
    if (!copy) {
        link_close(l, "out of memory");
        return;
    }
    memcpy(copy, data, len);
    link_write_owned(l, copy, len);
}

void quorum_flush(struct server *srv)
{
    struct quorum *q = srv->quorum;
    if (!q)
        return;
    if (q->revals)
        settle_revals(q);
    while (q->dirty) {
        struct link *l = q->dirty;
        q->dirty = l->dirty_next;
        l->dirty_next = NULL;
        l->is_dirty = false;
        link_flush(l);
    }
    uv_idle_stop(&q->flush_idle);
}

/* Packets queued after this turn's flush (server.c calls quorum_flush from its uv_check) go
 * out at the start of the next turn, before the loop could block. */
static void on_flush_idle(uv_idle_t *h)
{
    struct quorum *q = h->data;
    quorum_flush(q->srv);
}

static struct link *link_new(struct quorum *q, enum link_kind kind, int64_t sid)
{
    struct link *l = pd_calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->q = q;
    l->kind = kind;
    l->sid = sid;
    jute_out_init(&l->pend);
    jute_out_init(&l->out);
    uv_tcp_init(&q->srv->loop, &l->tcp);
    uv_tcp_nodelay(&l->tcp, 1);
    l->tcp.data = l;
    l->next = q->links;
    q->links = l;
    return l;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

static void start_reading(struct link *l)
{
    int rc = uv_read_start((uv_stream_t *)&l->tcp, on_alloc, on_read);
    if (rc != 0)
        link_close(l, uv_strerror(rc));
}

/* ---- election port --------------------------------------------------------------------- */

static void send_note_frame(struct link *l, const struct zab_notification *n)
{
    struct quorum *q = l->q;
    struct jute_fle_notification f = {
        .state = n->state,
        .leader = n->leader,
        .zxid = n->zxid,
        .election_epoch = n->election_epoch,
        .peer_epoch = n->peer_epoch,
        .version = FLE_NOTIFICATION_VERSION,
        .config = {.data = (const uint8_t *)q->qv_text, .len = (int32_t)q->qv_len},
        .form = JUTE_FLE_FORM_FULL,
    };
    struct jute_out out;
    jute_out_init(&out);
    jute_put_int(&out, 0);
    jute_put_fle_notification(&out, &f);
    uint32_t body = (uint32_t)(out.len - 4);
    out.data[0] = (uint8_t)(body >> 24);
    out.data[1] = (uint8_t)(body >> 16);
    out.data[2] = (uint8_t)(body >> 8);
    out.data[3] = (uint8_t)body;
    if (!out.err)
        link_write(l, out.data, out.len);
    jute_out_close(&out);
}

/* The peer's election link is up: it is the one we use; flush the waiting notification. */
static void attach_elink(struct peer *p, struct link *l)
{
    if (q_debug)
        pd_debug("election link %p %s sid %" PRId64 " attached (replaces %p, note %d)",
                 (void *)l, kind_name(l->kind), l->sid, (void *)p->elink, p->has_note);
    if (p->elink && p->elink != l)
        link_drop(p->elink, NULL);
    p->elink = l;
    l->is_attached = true;
    l->attached_ms = now_ms(l->q);
    p->want_dial = false;
    if (p->has_note || p->has_last) {
        p->has_note = false;
        send_note_frame(l, &p->note);
    }
}

static void write_initial(struct link *l)
{
    struct quorum *q = l->q;
    const struct config_server *me = config_find_server(&q->srv->cfg, q->self);
    char addr[300];
    if (strchr(me->host, ':'))
        snprintf(addr, sizeof(addr), "[%s]:%d", me->host, me->election_port);
    else
        snprintf(addr, sizeof(addr), "%s:%d", me->host, me->election_port);
    struct jute_qcm_initial m = {
        .protocol_version = QCM_PROTOCOL_V1,
        .sid = q->self,
        .addrs = {.data = (const uint8_t *)addr, .len = (int32_t)strlen(addr)},
    };
    struct jute_out out;
    jute_out_init(&out);
    jute_put_qcm_initial(&out, &m);
    if (!out.err)
        link_write(l, out.data, out.len);
    jute_out_close(&out);
}

static void on_el_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    struct link *l = req->handle->data;
    pd_free(req);
    link_close(l, NULL);
}

static void on_el_connected(uv_connect_t *req, int status)
{
    struct link *l = req->data;
    struct quorum *q = l->q;
    struct peer *p = peer_of(q, l->sid);
    if (p)
        p->is_dialing = false;
    if (q_debug)
        pd_debug("election link %p to sid %" PRId64 ": connect %s%s", (void *)l, l->sid,
                 status < 0 ? uv_strerror(status) : "ok", l->is_closing ? " (closing)" : "");
    if (l->is_closing)
        return;
    if (status < 0) {
        link_close(l, NULL);
        return;
    }
    l->is_connected = true;
    write_initial(l);
    if (!jute_qcm_keeps(q->self, l->sid, true)) {
        /* The bigger sid dials back once it reads our initial message. */
        uv_shutdown_t *sh = pd_malloc(sizeof(*sh));
        if (!sh || uv_shutdown(sh, (uv_stream_t *)&l->tcp, on_el_shutdown) != 0) {
            pd_free(sh);
            link_close(l, NULL);
        }
        return;
    }
    if (p)
        attach_elink(p, l);
    start_reading(l);
}

static int resolve(const char *host, int port, struct sockaddr_storage *ss)
{
    return server_resolve(host, port, ss);
}

/* p's address with port: a host name is looked up once (at start, or at the first dial after
 * a failed lookup) and kept, as QuorumServer resolves its addresses when it is made. */
static int peer_addr(struct peer *p, int port, struct sockaddr_storage *ss)
{
    if (!p->has_addr) {
        int rc = resolve(p->cs->host, 0, &p->addr);
        if (rc != 0) {
            pd_warn("cannot resolve %s (server.%" PRId64 "): %s", p->cs->host, p->cs->sid,
                    uv_strerror(rc));
            return rc;
        }
        p->has_addr = true;
    }
    *ss = p->addr;
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
    return 0;
}

/* Makes the dials QUORUM_DIAL_MIN_MS held back (dial_election re-arms for any still early). */
static void on_redial_timer(uv_timer_t *t)
{
    struct quorum *q = t->data;
    for (int i = 0; i < q->n_peers; i++) {
        struct peer *p = &q->peers[i];
        if (!p->want_dial)
            continue;
        p->want_dial = false;
        dial_election(q, p);
    }
}

static void dial_election(struct quorum *q, struct peer *p)
{
    uint64_t now = now_ms(q);
    if (p->is_dialing || p->elink || q->is_stopping) {
        if (q_debug)
            pd_debug("dial sid %" PRId64 ": not now (dialing %d, link %p)", p->cs->sid,
                     p->is_dialing, (void *)p->elink);
        return;
    }
    if (p->last_dial_ms && now < p->last_dial_ms + QUORUM_DIAL_MIN_MS) {
        if (q_debug)
            pd_debug("dial sid %" PRId64 ": held back, last dial %" PRIu64 " ms ago",
                     p->cs->sid, now - p->last_dial_ms);
        /* Not dropped: made when the limit expires (on_redial_timer). */
        uint64_t in = p->last_dial_ms + QUORUM_DIAL_MIN_MS - now;
        p->want_dial = true;
        if (!uv_is_active((uv_handle_t *)&q->redial_timer) ||
            uv_timer_get_due_in(&q->redial_timer) > in)
            uv_timer_start(&q->redial_timer, on_redial_timer, in, 0);
        return;
    }
    p->want_dial = false;
    struct sockaddr_storage ss;
    if (peer_addr(p, p->cs->election_port, &ss) != 0)
        return;
    struct link *l = link_new(q, LINK_EL_OUT, p->cs->sid);
    if (!l)
        return;
    p->is_dialing = true;
    p->last_dial_ms = now;
    if (q_debug)
        pd_debug("election link %p: dialling sid %" PRId64, (void *)l, p->cs->sid);
    l->connect.data = l;
    if (uv_tcp_connect(&l->connect, &l->tcp, (struct sockaddr *)&ss, on_el_connected) != 0) {
        p->is_dialing = false;
        link_close(l, NULL);
    }
}

static void deliver_note(struct quorum *q, int64_t from, const struct jute_fle_notification *f)
{
    if (q_debug)
        pd_debug("note from %" PRId64 ": state %d leader %" PRId64 " zxid 0x%" PRIx64
                 " round %" PRId64 " peerEpoch %" PRId64,
                 from, f->state, f->leader, (uint64_t)f->zxid, f->election_epoch,
                 f->peer_epoch);
    if (!jute_fle_state_valid(f->state))
        return;
    struct zab_msg m;
    memset(&m, 0, sizeof(m));
    m.type = ZAB_MSG_NOTIFICATION;
    m.note.state = f->state;
    m.note.leader = f->leader;
    m.note.zxid = f->zxid;
    m.note.election_epoch = f->election_epoch;
    m.note.peer_epoch = f->peer_epoch;
    m.note.version = jute_fle_effective_version(f);
    m.note.config_version = 0;
    struct zab_event ev = {.type = ZAB_RECV};
    ev.recv.from = from;
    ev.recv.msg = &m;
    step(q, &ev);
}

/* Consumes what it can of an election link's input; returns false if the link closed. */
static bool process_election(struct link *l, size_t *off)
{
    struct quorum *q = l->q;
    if (l->kind == LINK_EL_IN && !l->has_initial) {
        size_t mlen;
        int rc = jute_qcm_initial_peek(l->in + *off, l->in_len - *off, &mlen);
        if (rc == PD_EAGAIN)
            return true;
        if (rc != 0) {
            link_close(l, NULL);
            return false;
        }
        struct jute_in in;
        struct jute_qcm_initial m;
        jute_in_init(&in, l->in + *off, mlen, &q->arena);
        jute_get_qcm_initial(&in, &m);
        arena_reset(&q->arena);
        *off += mlen;
        if (in.err) {
            link_close(l, NULL);
            return false;
        }
        l->has_initial = true;
        l->sid = m.protocol_version >= 0 ? m.protocol_version : m.sid;
        if (q_debug)
            pd_debug("election link %p: inbound from sid %" PRId64, (void *)l, l->sid);
        struct peer *p = peer_of(q, l->sid);
        if (l->sid == q->self) {
            l->is_spare = true; /* ZOOKEEPER-2164: left open, unused */
            return true;
        }
        if (!p) {
            link_close(l, NULL);
            return false;
        }
        if (!jute_qcm_keeps(q->self, l->sid, false)) {
            link_close(l, NULL);
            /* The smaller sid dials only when it has no link to us: a link we still hold to
               it is dead at its end (its close not seen yet); replace it, unless it is so
               new that the peer may have dialled before it saw it. */
            if (p->elink && now_ms(q) >= p->elink->attached_ms + QUORUM_DIAL_MIN_MS)
                link_drop(p->elink, "the peer dialled again");
            dial_election(q, p);
            return false;
        }
        attach_elink(p, l);
    }
    for (;;) {
        size_t body;
        int rc = jute_election_frame_peek(l->in + *off, l->in_len - *off, &body);
        if (rc == PD_EAGAIN)
            return true;
        if (rc != 0) {
            link_close(l, NULL);
            return false;
        }
        struct jute_in in;
        struct jute_fle_notification f;
        jute_in_init(&in, l->in + *off + 4, body, &q->arena);
        jute_get_fle_notification(&in, &f);
        *off += 4 + body;
        bool ok = !in.err && !l->is_spare;
        arena_reset(&q->arena);
        if (ok)
            deliver_note(q, l->sid, &f);
        if (l->is_closing)
            return false;
    }
}

/* ---- quorum port: QuorumPacket <-> struct zab_msg ------------------------------------- */

static struct zab_blob *blob_of(const struct jute_buf *b)
{
    return zab_blob_new(b->data, b->len > 0 ? (uint32_t)b->len : 0);
}

/* Fills m from a decoded packet; blobs in m are owned by the caller. PD_EMALFORMED. */
static int packet_to_msg(struct quorum *q, const struct jute_quorum_packet *p, struct zab_msg *m)
{
    memset(m, 0, sizeof(*m));
    m->type = p->type;
    m->zxid = p->zxid;
    struct jute_in in;
    jute_in_init(&in, p->data.data, p->data.len > 0 ? (size_t)p->data.len : 0, &q->arena);
    switch (p->type) {
    case QP_FOLLOWERINFO:
    case QP_OBSERVERINFO: {
        struct jute_learner_info li;
        jute_get_learner_info(&in, &li);
        if (in.err || p->data.len < 8)
            return PD_EMALFORMED;
        m->learner_sid = li.server_id;
        m->protocol_version = li.protocol_version;
        m->config_version = li.config_version;
        break;
    }
    case QP_LEADERINFO:
        m->protocol_version = jute_get_epoch_int(&in);
        break;
    case QP_ACKEPOCH:
        m->epoch = jute_get_epoch_int(&in);
        break;
    case QP_PROPOSAL:
    case QP_INFORM:
    case QP_PING:
        if (p->data.len >= 0) {
            m->data = blob_of(&p->data);
            if (!m->data)
                return PD_ENOMEM;
        }
        break;
    case QP_REQUEST: {
        /* Our blob layout: authinfo first, then the REQUEST data (see the top). */
        struct jute_out out;
        jute_out_init(&out);
        jute_put_id_vec(&out, &p->authinfo);
        if (p->data.len > 0)
            jute_put_raw(&out, p->data.data, (size_t)p->data.len);
        m->data = out.err ? NULL : zab_blob_new(out.data, (uint32_t)out.len);
        jute_out_close(&out);
        if (!m->data)
            return PD_ENOMEM;
        break;
    }
    default:
        break;
    }
    return in.err == PD_ENOMEM ? PD_ENOMEM : 0;
}

/* Learner PING reply data: {sessionId, timeout} for each session of a live connection here
 * that was touched (a request or a ping from its client) since the last reply, as Learner.ping's
 * touch table. Not every connected session: the leader must expire a client that is connected
 * but silent (frozen), as it would one that is gone. */
static void put_touches(struct quorum *q, struct jute_out *out)
{
    for (struct conn *c = q->srv->conns; c; c = c->next) {
        if (c->state != CONN_ACTIVE || !c->sess || !c->sess->is_touched)
            continue;
        c->sess->is_touched = false;
        jute_put_long(out, c->sess->id);
        jute_put_int(out, c->sess->timeout_ms);
    }
}

static void encode_packet(struct quorum *q, const struct zab_msg *m, struct jute_out *out)
{
    struct jute_quorum_packet p = {.type = m->type, .zxid = m->zxid};
    p.data.len = -1;
    p.authinfo.is_null = true;
    p.authinfo.count = 0;
    struct jute_out data;
    jute_out_init(&data);
    switch (m->type) {
    case ZAB_MSG_FOLLOWERINFO:
    case ZAB_MSG_OBSERVERINFO: {
        struct jute_learner_info li = {.server_id = m->learner_sid,
                                       .protocol_version = m->protocol_version,
                                       .config_version = m->config_version,
                                       .has_protocol_version = true,
                                       .has_config_version = true};
        jute_put_learner_info(&data, &li);
        break;
    }
    case ZAB_MSG_LEADERINFO:
        jute_put_epoch_int(&data, m->protocol_version ? m->protocol_version : ZAB_PROTOCOL_VERSION);
        break;
    case ZAB_MSG_ACKEPOCH:
        jute_put_epoch_int(&data, m->epoch);
        break;
    case ZAB_MSG_NEWLEADER:
        jute_put_raw(&data, q->qv_text, q->qv_len);
        break;
    case ZAB_MSG_PING:
        if (q->role != ZAB_LEADING) {
            put_touches(q, &data);
            if (data.len == 0)
                p.data.len = 0; /* empty, never null */
        }
        break;
    case ZAB_MSG_REQUEST: {
        if (!m->data)
            break;
        struct jute_in in;
        jute_in_init(&in, m->data->data, m->data->len, &q->arena);
        jute_get_id_vec(&in, &p.authinfo);
        size_t left = jute_in_left(&in);
        jute_put_raw(&data, m->data->data + (m->data->len - left), left);
        if (left == 0)
            p.data.len = 0;
        break;
    }
    default:
        if (m->data)
            jute_put_raw(&data, m->data->data, m->data->len);
        break;
    }
    if (data.len > 0) {
        p.data.data = data.data;
        p.data.len = (int32_t)data.len;
    }
    jute_put_quorum_packet(out, &p);
    jute_out_close(&data);
    arena_reset(&q->arena);
}

/* Opens the learner's connection to p's quorum port; pend: bytes to send once it is up. */
static void q_dial(struct quorum *q, struct peer *p, const void *pend, size_t len)
{
    struct sockaddr_storage ss;
    if (peer_addr(p, p->cs->quorum_port, &ss) != 0)
        return;
    struct link *l = link_new(q, LINK_Q_OUT, p->cs->sid);
    if (!l)
        return;
    p->qlink = l;
    l->is_attached = true;
    l->connect.data = l;
    if (len)
        jute_put_raw(&l->pend, pend, len);
    if (q->retry_tries > 0)
        q->retry_tries++;
    /* A connect that fails at once (ENETUNREACH...) is retried as one that fails later, as
     * Learner.LeaderConnector retries whatever connect() throws. */
    if (uv_tcp_connect(&l->connect, &l->tcp, (struct sockaddr *)&ss, on_q_connected) != 0 &&
        !retry_leader_connect(l))
        link_close(l, "cannot connect to the leader");
}

static void q_send(struct quorum *q, const struct zab_msg *m, int64_t to)
{
    struct peer *p = peer_of(q, to);
    if (!p)
        return;
    if (m->type == ZAB_MSG_NOTIFICATION) {
        if (q_debug)
            pd_debug("note to %" PRId64 " via %p: state %d leader %" PRId64 " zxid 0x%" PRIx64
                     " round %" PRId64 " peerEpoch %" PRId64 "%s",
                     to, (void *)p->elink, m->note.state, m->note.leader,
                     (uint64_t)m->note.zxid, m->note.election_epoch, m->note.peer_epoch,
                     p->elink ? "" : " (kept for a link)");
        p->note = m->note;
        p->has_last = true;
        if (p->elink) {
            send_note_frame(p->elink, &m->note);
        } else {
            p->has_note = true;
            dial_election(q, p);
        }
        return;
    }
    struct link *l = p->qlink;
    if (m->type == ZAB_MSG_FOLLOWERINFO || m->type == ZAB_MSG_OBSERVERINFO) {
        /* A learner's handshake opens a fresh connection to the leader's quorum port. */
        if (l)
            link_drop(l, "new connection to the leader");
        q->retry_tries = 0;
        uv_timer_stop(&q->retry_timer);
        q_dial(q, p, NULL, 0);
        l = p->qlink;
    }
    if (!l || l->is_closing)
        return;
    /* a quorum link: always buffered (pend or out); an append that fails sets err, and
     * link_flush closes the link */
    encode_packet(q, m, link_buffer(l));
}

static void on_retry_timer(uv_timer_t *t)
{
    struct quorum *q = t->data;
    struct peer *p = peer_of(q, q->retry_sid);
    bool still = p && !p->qlink && !q->is_stopping && q->leader == q->retry_sid &&
                 (q->role == ZAB_FOLLOWING || q->role == ZAB_OBSERVING);
    if (still) {
        size_t n;
        uint8_t *d = jute_out_steal(&q->retry_pend, &n);
        q_dial(q, p, d, n);
        pd_free(d);
    }
    jute_out_close(&q->retry_pend);
    jute_out_init(&q->retry_pend);
}

/* A learner's connection to the leader's quorum port failed before it was up: try again
 * (QUORUM_CONNECT_TRIES within initLimit, as Learner.LeaderConnector). False if out of tries. */
static bool retry_leader_connect(struct link *l)
{
    struct quorum *q = l->q;
    struct peer *p = peer_of(q, l->sid);
    if (!p || p->qlink != l || q->is_stopping || q->leader != l->sid)
        return false;
    uint64_t now = now_ms(q);
    uint64_t limit = (uint64_t)q->srv->cfg.init_limit * (uint64_t)q->srv->cfg.tick_ms;
    if (q->retry_sid != l->sid || q->retry_tries == 0) {
        q->retry_sid = l->sid;
        q->retry_tries = 1;
        q->retry_start_ms = now;
    }
    if (q->retry_tries >= QUORUM_CONNECT_TRIES ||
        now + QUORUM_CONNECT_RETRY_MS >= q->retry_start_ms + limit)
        return false;
    jute_out_close(&q->retry_pend);
    jute_out_init(&q->retry_pend);
    jute_put_raw(&q->retry_pend, l->pend.data, l->pend.len);
    link_drop(l, NULL);
    uv_timer_start(&q->retry_timer, on_retry_timer, QUORUM_CONNECT_RETRY_MS, 0);
    return true;
}

static void on_q_connected(uv_connect_t *req, int status)
{
    struct link *l = req->data;
    if (l->is_closing)
        return;
    if (status < 0) {
        if (!retry_leader_connect(l))
            link_close(l, uv_strerror(status));
        return;
    }
    if (l->q->retry_sid == l->sid)
        l->q->retry_tries = 0;
    l->is_connected = true;
    if (l->pend.len) {
        size_t n;
        uint8_t *d = jute_out_steal(&l->pend, &n);
        link_write(l, d, n);
        pd_free(d);
    }
    start_reading(l);
}

/* ---- learner: the database after SNAP ------------------------------------------------ */

/*
 * After a SNAP packet the leader writes, unframed (LearnerHandler.syncFollower, then
 * ZKDatabase.serializeSnapshot = SerializeUtils.serializeSnapshot + DataTree.serialize):
 *   int sessionCount, {long id, int timeout}...
 *   int aclCount, {long index, int n, {int perms, string scheme, string id}...}...
 *   {string path, buffer data, long acl, StatPersisted (60 bytes)}... until the path "/"
 *   string "BenWasHere"
 * That is a snapshot file's body without its FileHeader, seals and digest (snapshot.h).
 * snap_scan measures it as bytes arrive, resuming where it stopped.
 */
enum snap_phase { SNAP_SESSION_COUNT, SNAP_SESSIONS, SNAP_ACL_COUNT, SNAP_ACLS, SNAP_NODES,
                  SNAP_SIGNATURE, SNAP_DONE };

/* StatPersisted: czxid, mzxid, ctime, mtime (longs), version, cversion, aversion (ints),
 * ephemeralOwner, pzxid (longs) */
#define SNAP_STAT_BYTES 60

static bool rd_int(const uint8_t *d, size_t len, size_t *at, int32_t *v)
{
    if (len - *at < 4)
        return false;
    const uint8_t *p = d + *at;
    *v = (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
    *at += 4;
    return true;
}

/* Skips n bytes; false if they are not all there. */
static bool rd_skip(size_t len, size_t *at, size_t n)
{
    if (len - *at < n)
        return false;
    *at += n;
    return true;
}

/* A jute string/buffer: -1 (null) or 0..max bytes. 1 done, 0 need more, -1 malformed. */
static int rd_buf(const uint8_t *d, size_t len, size_t *at, size_t *start, int32_t *n)
{
    if (!rd_int(d, len, at, n))
        return 0;
    if (*n < -1 || *n > QUORUM_MAX_BUFFER_DEFAULT)
        return -1;
    *start = *at;
    return rd_skip(len, at, *n > 0 ? (size_t)*n : 0) ? 1 : 0;
}

/* 1: the whole stream is in d[0..len) (l->snap_pos = its length); 0: need more; -1: bad. */
static int snap_scan(struct link *l, const uint8_t *d, size_t len)
{
    for (;;) {
        size_t at = l->snap_pos, start;
        int32_t n, k;
        int r;
        switch (l->snap_phase) {
        case SNAP_SESSION_COUNT:
        case SNAP_ACL_COUNT:
            if (!rd_int(d, len, &at, &n))
                return 0;
            if (n < 0)
                return -1;
            l->snap_left = n;
            l->snap_phase = l->snap_phase == SNAP_SESSION_COUNT ? SNAP_SESSIONS : SNAP_ACLS;
            break;
        case SNAP_SESSIONS:
            if (l->snap_left == 0) {
                l->snap_phase = SNAP_ACL_COUNT;
                continue;
            }
            if (!rd_skip(len, &at, 12))
                return 0;
            l->snap_left--;
            break;
        case SNAP_ACLS:
            if (l->snap_left == 0) {
                l->snap_phase = SNAP_NODES;
                continue;
            }
            if (!rd_skip(len, &at, 8) || !rd_int(d, len, &at, &k))
                return 0;
            if (k < -1)
                return -1;
            for (int32_t i = 0; i < k; i++) {
                if (!rd_skip(len, &at, 4))
                    return 0;
                for (int f = 0; f < 2; f++)
                    if ((r = rd_buf(d, len, &at, &start, &n)) != 1)
                        return r;
            }
            l->snap_left--;
            break;
        case SNAP_NODES:
            if ((r = rd_buf(d, len, &at, &start, &n)) != 1)
                return r;
            if (n == 1 && d[start] == '/') {
                l->snap_end = at;
                l->snap_phase = SNAP_SIGNATURE;
                break;
            }
            if ((r = rd_buf(d, len, &at, &start, &n)) != 1)
                return r;
            if (!rd_skip(len, &at, 8 + SNAP_STAT_BYTES))
                return 0;
            break;
        case SNAP_SIGNATURE:
            if ((r = rd_buf(d, len, &at, &start, &n)) != 1)
                return r;
            if (n != (int32_t)strlen(JUTE_QUORUM_SNAP_SIGNATURE) ||
                memcmp(d + start, JUTE_QUORUM_SNAP_SIGNATURE, (size_t)n) != 0)
                return -1;
            l->snap_pos = at;
            l->snap_phase = SNAP_DONE;
            return 1;
        default:
            return -1;
        }
        l->snap_pos = at;
    }
}

static int snap_keep_session(void *arg, int64_t id, int32_t timeout_ms)
{
    struct quorum *q = arg;
    if (q->n_snap_sessions == q->cap_snap_sessions) {
        size_t cap = q->cap_snap_sessions ? q->cap_snap_sessions * 2 : 64;
        struct snap_session *n = pd_realloc(q->snap_sessions, cap * sizeof(*n));
        if (!n)
            return PD_ENOMEM;
        q->snap_sessions = n;
        q->cap_snap_sessions = cap;
    }
    q->snap_sessions[q->n_snap_sessions++] = (struct snap_session){id, timeout_ms};
    return 0;
}

static void snap_discard(struct quorum *q)
{
    if (q->snap_tree)
        tree_free(q->snap_tree);
    q->snap_tree = NULL;
    q->n_snap_sessions = 0;
    zab_blob_unref(q->snap_file);
    q->snap_file = NULL;
}

/*
 * Decodes the database (body: the stream up to and including the node terminator) into
 * q->snap_tree / q->snap_sessions and keeps it as a snapshot file (FileHeader + body + seal,
 * no digest, a form snapshot.h and FileSnap both read) in q->snap_file.
 */
static int snap_decode_stream(struct quorum *q, int64_t zxid, const uint8_t *body, size_t len,
                              char *errmsg, size_t errlen)
{
    snap_discard(q);
    struct jute_out f;
    jute_out_init(&f);
    jute_put_int(&f, SNAP_MAGIC);
    jute_put_int(&f, SNAP_VERSION);
    jute_put_long(&f, SNAP_DBID);
    jute_put_raw(&f, body, len);
    uLong a = adler32(0L, Z_NULL, 0);
    if (!f.err)
        a = adler32(a, f.data, (uInt)f.len);
    jute_put_long(&f, (int64_t)a);
    jute_put_string(&f, "/");
    int rc = f.err ? PD_ENOMEM : 0;
    if (rc == 0) {
        q->snap_tree = tree_new(dispatch_deliver, q->srv);
        if (!q->snap_tree)
            rc = PD_ENOMEM;
    }
    if (rc == 0) {
        tree_set_extended_types(q->snap_tree, q->srv->cfg.extended_types_enabled);
        struct snap_read_opts o = {.zxid = zxid};
        rc = snap_decode_buf(f.data, f.len, &o, q->snap_tree, snap_keep_session, q, NULL,
                             errmsg, errlen);
    }
    if (rc == 0) {
        q->snap_file = zab_blob_new(f.data, (uint32_t)f.len);
        if (!q->snap_file)
            rc = PD_ENOMEM;
    }
    jute_out_close(&f);
    if (rc != 0)
        snap_discard(q);
    return rc;
}

/* Reads the database after SNAP from l->in + *off; once whole, decodes it and hands the SNAP
 * to the core. Returns false if the link closed. */
static bool snap_read(struct link *l, size_t *off)
{
    struct quorum *q = l->q;
    const uint8_t *d = l->in + *off;
    int r = snap_scan(l, d, l->in_len - *off);
    if (r == 0)
        return true;
    char errmsg[256] = "malformed";
    int rc = r < 0 ? PD_EMALFORMED
                   : snap_decode_stream(q, l->snap_zxid, d, l->snap_end, errmsg, sizeof(errmsg));
    if (rc != 0) {
        pd_error("the database the leader sent after SNAP 0x%" PRIx64 " is unusable: %s",
                 (uint64_t)l->snap_zxid, errmsg);
        link_close(l, "bad SNAP database");
        return false;
    }
    *off += l->snap_pos;
    l->is_in_snap = false;
    pd_info("received the leader's database at zxid 0x%" PRIx64 ": %zu bytes, %zu sessions",
            (uint64_t)l->snap_zxid, l->snap_pos, q->n_snap_sessions);
    struct zab_msg m;
    memset(&m, 0, sizeof(m));
    m.type = ZAB_MSG_SNAP;
    m.zxid = l->snap_zxid;
    struct zab_event ev = {.type = ZAB_RECV};
    ev.recv.from = l->sid;
    ev.recv.msg = &m;
    step(q, &ev);
    snap_discard(q); /* installed by SNAP_LOAD, or refused by the core */
    return !l->is_closing;
}

/* ---- REVALIDATE: a client session moving to a learner -------------------------------- */

/*
 * Learner.validateSession / LearnerMaster.revalidateSession / Learner.revalidate (3.8): when a
 * client reattaches its session to a learner, the learner sends REVALIDATE {long id, int
 * timeout} (zxid -1) and the leader answers on the same stream with {long id, boolean valid},
 * making that learner the session's owner. A 3.8 leader refuses a request whose session is
 * owned elsewhere (SessionMovedException -> an error txn), so a Paddock learner must
 * revalidate before forwarding a moved session's writes: its REQUESTs follow the REVALIDATE on
 * the same FIFO link, and the leader handles them in order. A 3.8 learner waits for the answer
 * before it completes the client's handshake.
 */
/* Queues a REVALIDATE packet carrying `data` (a request or a reply; closed here) on l. */
static void write_revalidate(struct link *l, int64_t zxid, struct jute_out *data)
{
    struct jute_quorum_packet pk = {.type = QP_REVALIDATE, .zxid = zxid};
    pk.data.data = data->data;
    pk.data.len = (int32_t)data->len;
    pk.authinfo.is_null = true;
    if (!data->err && !l->is_closing)
        jute_put_quorum_packet(link_buffer(l), &pk);
    jute_out_close(data);
}

static void handle_revalidate(struct link *l, const struct jute_quorum_packet *p)
{
    struct quorum *q = l->q;
    struct jute_in in;
    jute_in_init(&in, p->data.data, p->data.len > 0 ? (size_t)p->data.len : 0, &q->arena);
    if (l->kind == LINK_Q_IN) {
        struct jute_revalidate_request r;
        jute_get_revalidate_request(&in, &r);
        if (in.err || q->role != ZAB_LEADING) {
            pd_warn("REVALIDATE from server %" PRId64 " ignored", l->sid);
            return;
        }
        /* ZooKeeperServer.checkIfValidGlobalSession: touchSession with the given timeout */
        struct session *s = sess_find(&q->srv->sessions, r.session_id);
        bool valid = s && !s->is_closing;
        if (valid)
            sess_touch(&q->srv->sessions, s, (int64_t)now_ms(q));
        struct jute_out data;
        jute_out_init(&data);
        struct jute_revalidate_reply rep = {.session_id = r.session_id, .is_valid = valid};
        jute_put_revalidate_reply(&data, &rep);
        write_revalidate(l, p->zxid, &data);
        return;
    }
    struct jute_revalidate_reply r;
    jute_get_revalidate_reply(&in, &r);
    if (in.err)
        return;
    bool held = false;
    for (struct reval *v = q->revals; v; v = v->next) {
        if (v->session_id != r.session_id || v->is_valid)
            continue;
        held = true;
        if (r.is_valid)
            v->is_valid = true;
        else
            v->deadline_ms = 0; /* refused at the next settle */
    }
    if (held) {
        /* The createSession txn came before this answer on the same link: once applied
         * (pipeline_commit, at the end of this turn) the handshake can be answered. */
        return;
    }
    if (!r.is_valid) {
        /* the leader does not know the session (any more): end its connection here */
        struct session *s = sess_find(&q->srv->sessions, r.session_id);
        if (s && s->conn && s->conn->state != CONN_CLOSING) {
            pd_info("the leader says session 0x%" PRIx64 " is not valid; closing it here",
                    (uint64_t)r.session_id);
            conn_close(s->conn, "session not valid at the leader");
        }
    }
}

void quorum_revalidate(struct server *srv, int64_t session_id, int32_t timeout_ms)
{
    struct quorum *q = srv->quorum;
    struct peer *p = peer_of(q, q->leader);
    if (!quorum_is_learner(srv) || !p || !p->qlink)
        return;
    struct jute_out data;
    jute_out_init(&data);
    struct jute_revalidate_request r = {.session_id = session_id, .timeout_ms = timeout_ms};
    jute_put_revalidate_request(&data, &r);
    write_revalidate(p->qlink, -1, &data);
}

bool quorum_await_session(struct conn *c, int64_t session_id, int32_t timeout_ms)
{
    struct server *srv = c->srv;
    struct quorum *q = srv->quorum;
    struct peer *p = peer_of(q, q->leader);
    if (!quorum_is_learner(srv) || !p || !p->qlink)
        return false;
    struct reval *v = pd_calloc(1, sizeof(*v));
    if (!v)
        return false;
    v->conn = c;
    v->session_id = session_id;
    v->timeout_ms = timeout_ms;
    /* Bounded by what a learner may lag: syncLimit ticks, as the leader's own deadline. */
    v->deadline_ms = now_ms(q) + (uint64_t)srv->cfg.sync_limit * (uint64_t)srv->cfg.tick_ms;
    v->next = q->revals;
    q->revals = v;
    c->is_connecting = true;
    quorum_revalidate(srv, session_id, timeout_ms);
    pd_info("session 0x%" PRIx64 " is not known here yet: asking the leader",
            (uint64_t)session_id);
    return true;
}

/* Answers the held handshakes that are settled: the session is applied here (valid at the
 * leader), or the leader refused it, or the deadline passed. */
static void settle_revals(struct quorum *q)
{
    uint64_t now = now_ms(q);
    for (struct reval **pp = &q->revals; *pp;) {
        struct reval *v = *pp;
        struct conn *c = v->conn && v->conn->state != CONN_CLOSING ? v->conn : NULL;
        struct session *s = c && v->is_valid ? sess_find(&q->srv->sessions, v->session_id)
                                             : NULL;
        bool ok = s && !s->is_closing;
        if (c && !ok && now < v->deadline_ms) {
            pp = &v->next;
            continue;
        }
        *pp = v->next;
        if (c) {
            c->is_connecting = false;
            if (ok) {
                dispatch_reopened(c, s, v->timeout_ms);
                if (c->is_held)
                    conn_resume(c);
            } else {
                dispatch_session_invalid(c, v->session_id);
            }
        }
        pd_free(v);
    }
}

/* Consumes whole packets of a quorum link; returns false if the link closed. */
static bool process_quorum(struct link *l, size_t *off)
{
    struct quorum *q = l->q;
    if (l->is_in_snap) {
        if (!snap_read(l, off))
            return false;
        if (l->is_in_snap)
            return true;
    }
    for (;;) {
        size_t plen;
        int rc = jute_quorum_packet_peek(l->in + *off, l->in_len - *off,
                                         QUORUM_MAX_BUFFER_DEFAULT, &plen);
        if (rc == PD_EAGAIN)
            return true;
        if (rc != 0) {
            link_close(l, "malformed quorum packet");
            return false;
        }
        struct jute_in in;
        struct jute_quorum_packet p;
        jute_in_init(&in, l->in + *off, plen, &q->arena);
        jute_get_quorum_packet(&in, &p);
        *off += plen;
        if (!in.err && p.type == QP_REVALIDATE && l->sid >= 0) {
            /* session ownership: the core never sees it */
            handle_revalidate(l, &p);
            arena_reset(&q->arena);
            if (l->is_closing)
                return false;
            continue;
        }
        struct zab_msg m;
        rc = in.err ? PD_EMALFORMED : packet_to_msg(q, &p, &m);
        arena_reset(&q->arena);
        if (rc != 0) {
            link_close(l, "malformed quorum packet");
            return false;
        }
        if (m.type == ZAB_MSG_SNAP && l->kind == LINK_Q_OUT) {
            /* The database follows; the core hears of the SNAP once it is read (snap_read). */
            l->is_in_snap = true;
            l->snap_zxid = m.zxid;
            l->snap_phase = SNAP_SESSION_COUNT;
            l->snap_pos = l->snap_end = 0;
            if (!snap_read(l, off))
                return false;
            if (l->is_in_snap)
                return true;
            continue;
        }
        if (l->kind == LINK_Q_OUT && m.type == ZAB_MSG_DIFF) /* as Learner.syncWithLeader */
            pd_info("Getting a diff from the leader 0x%" PRIx64, (uint64_t)m.zxid);
        else if (l->kind == LINK_Q_OUT && m.type == ZAB_MSG_TRUNC)
            pd_info("Truncating log to get in sync with the leader 0x%" PRIx64, (uint64_t)m.zxid);
        if (l->kind == LINK_Q_IN && l->sid < 0) {
            if (m.type != ZAB_MSG_FOLLOWERINFO && m.type != ZAB_MSG_OBSERVERINFO) {
                zab_blob_unref(m.data);
                link_close(l, "first packet is not FOLLOWERINFO/OBSERVERINFO");
                return false;
            }
            struct peer *pr = peer_of(q, m.learner_sid);
            if (!pr) {
                link_close(l, "learner not in the configuration");
                return false;
            }
            l->sid = m.learner_sid;
            if (pr->qlink && pr->qlink != l) {
                /* The learner reconnected: its old link is dead to it. */
                struct link *old = pr->qlink;
                link_close(old, "learner reconnected");
            }
            pr->qlink = l;
            l->is_attached = true;
        }
        struct zab_event ev = {.type = ZAB_RECV};
        ev.recv.from = l->sid;
        ev.recv.msg = &m;
        step(q, &ev);
        zab_blob_unref(m.data);
        if (l->is_closing)
            return false;
    }
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    struct link *l = s->data;
    if (n < 0) {
        link_close(l, n == UV_EOF ? "end of stream" : uv_strerror((int)n));
        return;
    }
    if (n == 0)
        return;
    l->in_len += (size_t)n;
    size_t off = 0;
    bool alive = (l->kind == LINK_EL_IN || l->kind == LINK_EL_OUT) ? process_election(l, &off)
                                                                     : process_quorum(l, &off);
    if (!alive)
        return;
    memmove(l->in, l->in + off, l->in_len - off);
    l->in_len -= off;
    if (l->in_len > QUORUM_READ_MAX && !l->is_in_snap)
        link_close(l, "input too large");
}

static void on_accept(uv_stream_t *listener, int status, enum link_kind kind)
{
    struct quorum *q = listener->data;
    if (status < 0 || q->is_stopping)
        return;
    struct link *l = link_new(q, kind, -1);
    if (!l)
        return;
    if (uv_accept(listener, (uv_stream_t *)&l->tcp) != 0) {
        link_close(l, NULL);
        return;
    }
    l->is_connected = true;
    start_reading(l);
}

static void on_el_accept(uv_stream_t *listener, int status)
{
    on_accept(listener, status, LINK_EL_IN);
}

static void on_q_accept(uv_stream_t *listener, int status)
{
    on_accept(listener, status, LINK_Q_IN);
}

/* ---- the core ------------------------------------------------------------------------- */

static void on_timer(uv_timer_t *t)
{
    struct quorum *q = t->data;
    struct zab_event ev = {.type = ZAB_TICK};
    step(q, &ev);
}

static void hold(struct quorum *q, uint64_t seq, struct zab_blob *b)
{
    if (q->n_held == q->cap_held) {
        size_t cap = q->cap_held ? q->cap_held * 2 : 256;
        struct held *n = pd_realloc(q->held, cap * sizeof(*n));
        if (!n) {
            pd_error("fatal: out of memory holding a txn for the log");
            server_fatal(q->srv);
            return;
        }
        q->held = n;
        q->cap_held = cap;
    }
    q->held[q->n_held++] = (struct held){.seq = seq, .blob = zab_blob_ref(b)};
}

/* pipeline_bind_fn: a txn from the leader; was it one this learner forwarded? */
static size_t fwd_bucket(const struct quorum *q, int64_t session_id, int32_t cxid)
{
    uint64_t h = (uint64_t)session_id * 0x9E3779B97F4A7C15u;
    h ^= (uint64_t)(uint32_t)cxid * 0xC2B2AE3D27D4EB4Fu;
    return (size_t)(h ^ (h >> 29)) & q->fwd_mask;
}

/* Indexes a forwarded write; false if the table cannot grow. */
static bool fwd_index_add(struct quorum *q, struct fwd *f)
{
    if (q->n_fwd + 1 > q->fwd_mask) {
        size_t n = q->fwd_mask ? (q->fwd_mask + 1) * 2 : 256;
        struct fwd **tab = pd_calloc(n, sizeof(*tab));
        if (!tab)
            return false;
        size_t old = q->fwd_tab ? q->fwd_mask + 1 : 0;
        struct fwd **from = q->fwd_tab;
        q->fwd_tab = tab;
        q->fwd_mask = n - 1;
        for (size_t i = 0; i < old; i++) {
            for (struct fwd *e = from[i], *nx; e; e = nx) {
                nx = e->hnext;
                size_t b = fwd_bucket(q, e->session_id, e->cxid);
                e->hnext = tab[b];
                tab[b] = e;
            }
        }
        pd_free(from);
    }
    size_t b = fwd_bucket(q, f->session_id, f->cxid);
    f->hnext = q->fwd_tab[b];
    q->fwd_tab[b] = f;
    q->n_fwd++;
    return true;
}

/* Finds the forwarded write (session, cxid) and takes it out of the index: the oldest of
 * equals (a client that reuses an xid), as buckets are pushed at the front. */
static struct fwd *fwd_index_take(struct quorum *q, int64_t session_id, int32_t cxid)
{
    if (!q->fwd_tab)
        return NULL;
    struct fwd **found = NULL;
    for (struct fwd **pp = &q->fwd_tab[fwd_bucket(q, session_id, cxid)]; *pp;
         pp = &(*pp)->hnext)
        if ((*pp)->session_id == session_id && (*pp)->cxid == cxid)
            found = pp;
    if (!found)
        return NULL;
    struct fwd *f = *found;
    *found = f->hnext;
    f->hnext = NULL;
    q->n_fwd--;
    return f;
}

/* Takes f itself out of the index. */
static void fwd_index_remove(struct quorum *q, struct fwd *f)
{
    if (!q->fwd_tab)
        return;
    for (struct fwd **pp = &q->fwd_tab[fwd_bucket(q, f->session_id, f->cxid)]; *pp;
         pp = &(*pp)->hnext) {
        if (*pp == f) {
            *pp = f->hnext;
            f->hnext = NULL;
            q->n_fwd--;
            return;
        }
    }
}

static void fwd_unlink(struct fwd **head, struct fwd **tail, struct fwd *f)
{
    if (f->prev)
        f->prev->next = f->next;
    else
        *head = f->next;
    if (f->next)
        f->next->prev = f->prev;
    else
        *tail = f->prev;
    f->next = f->prev = NULL;
}

static void bind_txn(struct server *srv, const struct jute_txn_header *hdr,
                     struct pipeline_bind *out)
{
    struct quorum *q = srv->quorum;
    struct fwd *f = fwd_index_take(q, hdr->client_id, hdr->cxid);
    if (!f)
        return;
    fwd_unlink(&q->fwd_head, &q->fwd_tail, f);
    out->conn = f->conn;
    out->op = f->op;
    out->started_ms = f->started_ms;
    pd_free(f->path);
    pd_free(f);
}

static void fwd_free_list(struct fwd **head, struct fwd **tail)
{
    while (*head) {
        struct fwd *f = *head;
        *head = f->next;
        pd_free(f->path);
        pd_free(f);
    }
    *tail = NULL;
}

/* Forgets every forwarded write (the index and the list). */
static void fwd_free_writes(struct quorum *q)
{
    fwd_free_list(&q->fwd_head, &q->fwd_tail);
    pd_free(q->fwd_tab);
    q->fwd_tab = NULL;
    q->fwd_mask = q->n_fwd = 0;
}

/* Every client connection ends (ZooKeeper shuts its ZooKeeperServer down on leaving a role);
 * clients reconnect to a serving server. */
static void close_clients(struct quorum *q, const char *why)
{
    for (struct conn *c = q->srv->conns; c; c = c->next)
        if (c->state != CONN_CLOSING)
            conn_close(c, why);
    fwd_free_writes(q);
    fwd_free_list(&q->sync_head, &q->sync_tail);
}

static void touch_all(struct session *s, void *arg)
{
    struct quorum *q = arg;
    sess_touch(&q->srv->sessions, s, (int64_t)now_ms(q));
}

static void role_changed(struct quorum *q, const struct zab_update *up)
{
    struct server *srv = q->srv;
    bool was_serving = q->phase == ZAB_PHASE_BROADCAST;
    bool serving = up->phase == ZAB_PHASE_BROADCAST;
    if (was_serving && (!serving || up->role != q->role || up->epoch != q->epoch))
        close_clients(q, "server left its role; reconnect");
    if (up->role == ZAB_LOOKING && q->role != ZAB_LOOKING) {
        /* Quorum links belong to the finished epoch. */
        for (struct link *l = q->links; l; l = l->next)
            if ((l->kind == LINK_Q_IN || l->kind == LINK_Q_OUT) && !l->is_closing)
                link_drop(l, "new election");
    }
    if (up->role == ZAB_LEADING && up->phase == ZAB_PHASE_BROADCAST &&
        !(q->role == ZAB_LEADING && q->phase == ZAB_PHASE_BROADCAST)) {
        /* The core proposes epoch << 32 | 1 next (leader.c: last_proposed = epoch << 32).
         * Sessions get a full timeout from now, as a new leader's SessionTracker does. */
        srv->next_zxid = zab_make_zxid(up->epoch, 1);
        sess_foreach(&srv->sessions, touch_all, q);
    }
    if (up->role == ZAB_LEADING && q->role != ZAB_LEADING) {
        q->leader_start_ms = now_ms(q);
        q->last_prop_size = q->min_prop_size = q->max_prop_size = -1;
    }
    if (up->role != q->role || up->phase != q->phase)
        pd_info("quorum: %s, phase %d, leader %" PRId64 ", epoch %u", zab_state_name(up->role),
                (int)up->phase, up->leader, up->epoch);
    q->role = up->role;
    q->phase = up->phase;
    q->leader = up->leader;
    q->epoch = up->epoch;
}

/* Answers the first n forwarded syncs (the leader's SYNC for each arrived, in order). */
static void answer_syncs(struct quorum *q, uint32_t n)
{
    while (n-- && q->sync_head) {
        struct fwd *f = q->sync_head;
        fwd_unlink(&q->sync_head, &q->sync_tail, f);
        struct conn *c = f->conn;
        if (c) {
            struct jute_path_response resp = {.path = f->path};
            size_t at = conn_reply_begin(c, f->cxid, q->srv->last_zxid, ZOK);
            jute_put_path_response(&c->out, &resp);
            conn_reply_end(c, at);
            conn_note_latency(c, f->started_ms, "SYNC", f->cxid, q->srv->last_zxid, false);
            c->n_pending--;
            if (c->n_pending == 0 && c->is_held)
                conn_resume(c);
        }
        pd_free(f->path);
        pd_free(f);
    }
}

static void handle_inbound(struct quorum *q, int64_t from, int32_t type, struct zab_blob *b);

struct sess_list {
    struct session **items; /* owned */
    size_t n, cap;
    bool is_oom;
};

static void list_session(struct session *s, void *arg)
{
    struct sess_list *v = arg;
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        struct session **n = pd_realloc(v->items, cap * sizeof(*n));
        if (!n) {
            v->is_oom = true;
            return;
        }
        v->items = n;
        v->cap = cap;
    }
    v->items[v->n++] = s;
}

/* Closes every client connection and empties the session table, whose sessions are about to
 * be replaced (SNAP_LOAD, a reload after TRUNC). False after server_fatal. */
static bool drop_sessions(struct quorum *q, const char *why)
{
    struct server *srv = q->srv;
    for (struct conn *c = srv->conns; c; c = c->next) {
        if (c->state != CONN_CLOSING)
            conn_close(c, why);
        if (c->sess)
            c->sess->conn = NULL;
        c->sess = NULL;
    }
    /* listed first: the table must not change under sess_foreach */
    struct sess_list old = {0};
    sess_foreach(&srv->sessions, list_session, &old);
    for (size_t i = 0; i < old.n; i++)
        sess_remove(&srv->sessions, old.items[i]);
    pd_free(old.items);
    if (old.is_oom) {
        pd_error("fatal: out of memory replacing the session table");
        server_fatal(srv);
        return false;
    }
    return true;
}

/*
 * SNAP_LOAD: the leader's database (decoded by snap_read) becomes this server's tree and
 * session table, as Learner.syncWithLeader's zk.getZKDatabase().deserializeSnapshot. Nothing
 * is being served (a learner in sync) and no txn is queued past it. False after server_fatal.
 */
static bool install_snapshot(struct quorum *q, int64_t zxid)
{
    struct server *srv = q->srv;
    if (!q->snap_tree || !q->snap_file) {
        pd_error("fatal: the Zab core loads a snapshot the driver does not hold");
        server_fatal(srv);
        return false;
    }
    pipeline_drop_after(srv, -1);
    if (!drop_sessions(q, "server is loading the leader's database"))
        return false;
    q->reload_seq = 0; /* a pending reload after TRUNC: this database replaces it */
    int64_t now = (int64_t)now_ms(q);
    for (size_t i = 0; i < q->n_snap_sessions; i++) {
        int rc = sess_add(&srv->sessions, q->snap_sessions[i].id, q->snap_sessions[i].timeout_ms,
                          now, NULL);
        if (rc != 0 && rc != PD_EEXIST) {
            pd_error("fatal: out of memory loading the leader's sessions");
            server_fatal(srv);
            return false;
        }
    }
    snapshotter_abandon(srv); /* it walks the tree about to go */
    tree_free(srv->tree);
    srv->tree = q->snap_tree;
    q->snap_tree = NULL;
    srv->last_zxid = zxid;
    srv->durable_zxid = zxid;
    srv->digest_log_n = 0;
    srv->digest_log_head = 0;
    pd_info("loaded the leader's database at zxid 0x%" PRIx64 " (%zu sessions)", (uint64_t)zxid,
            q->n_snap_sessions);
    return true;
}

/*
 * The TRUNC that went below what the tree applied is on disk (see perform): rebuild the tree
 * and the sessions from the snapshot and the log up to the truncation point, as ZooKeeper's
 * ZKDatabase.truncateLog does (clear, truncate the log, loadDataBase). A server that replayed
 * its whole log at start-up holds the uncommitted txns it logged; this drops them.
 */
static void reload_tree(struct quorum *q)
{
    struct server *srv = q->srv;
    int64_t zxid = q->reload_zxid;
    q->reload_seq = 0;
    if (!drop_sessions(q, "server is reloading its database"))
        return;
    struct tree *t = tree_new(dispatch_deliver, srv);
    if (!t) {
        pd_error("fatal: out of memory reloading the tree");
        server_fatal(srv);
        return;
    }
    snapshotter_abandon(srv); /* it walks the tree about to go */
    tree_free(srv->tree);
    srv->tree = t;
    srv->digest_log_n = 0;
    srv->digest_log_head = 0;
    if (recovery_reload(srv, zxid) != 0) {
        pd_error("fatal: cannot reload the tree at 0x%" PRIx64 " after a TRUNC; stopping so "
                 "that a restart loads it from disk",
                 (uint64_t)zxid);
        server_fatal(srv);
        return;
    }
    srv->durable_zxid = srv->last_zxid;
}

/*
 * Leader, right after a SNAP record to `to`: starts the database as of zxid, as LearnerHandler
 * writes it (ZKDatabase.serializeSnapshot, then the string "BenWasHere"), fuzzy as ZooKeeper's:
 * encoded a slice per loop turn by on_db_idle while requests go on (dbsend.h). Packets the core
 * sends this learner meanwhile wait in the link's `out` behind it (link_flush).
 */
static void send_database(struct quorum *q, int64_t to, int64_t zxid)
{
    struct server *srv = q->srv;
    struct peer *p = peer_of(q, to);
    if (!p || !p->qlink)
        return;
    /* The commits this update carries are applied first: the tree must stand at zxid. */
    pipeline_commit(srv);
    if (srv->last_zxid < zxid && q->role == ZAB_LEADING) {
        /* A follower that became leader holds the old epoch's txns it logged but had not
         * seen committed: they are the history it leads with (ZooKeeper's new leader loads
         * its whole log). Without them here, a learner that needs SNAP could never get one
         * before a quorum acknowledged NEWLEADER, which may need that very learner. */
        size_t n = pipeline_apply_through(srv, zxid);
        if (n)
            pd_info("applied %zu txns of this server's log up to 0x%" PRIx64
                    " before sending a snapshot",
                    n, (uint64_t)zxid);
    }
    if (srv->last_zxid != zxid) {
        pd_error("cannot send a snapshot of zxid 0x%" PRIx64 " to server %" PRId64
                 ": the tree is at 0x%" PRIx64,
                 (uint64_t)zxid, to, (uint64_t)srv->last_zxid);
        link_close(p->qlink, "snapshot not available");
        return;
    }
    struct link *l = p->qlink;
    if (l->db) {
        /* The core asked for a second SNAP on a link still sending the first: cannot be
         * told apart on the wire, so the learner must start over. */
        link_close(l, "a second snapshot on one connection");
        return;
    }
    struct snap_session *sessions;
    size_t n_sessions;
    struct dbsend *db = NULL;
    int rc = sess_collect(&srv->sessions, &sessions, &n_sessions);
    if (rc == 0)
        rc = dbsend_new(srv->tree, zxid, sessions, n_sessions, &db);
    pd_free(sessions);
    if (rc != 0) {
        pd_error("cannot encode a snapshot for server %" PRId64 ": %s", to, pd_strerror(rc));
        link_close(l, "snapshot not available");
        return;
    }
    pd_info("sending server %" PRId64 " a snapshot of zxid 0x%" PRIx64 ": %zu sessions, %" PRId64
            " znodes",
            to, (uint64_t)zxid, n_sessions, tree_node_count(srv->tree));
    /* The SNAP record goes first; what the core sends after it waits for the database. */
    link_flush(l);
    if (l->is_closing) {
        dbsend_free(db);
        return;
    }
    l->db = db;
    l->db_zxid = zxid;
    l->db_start_ms = server_mono_ms(srv);
    l->is_db_waiting = false;
    db_idle_start(q);
}

/* One slice of l's database: encoded for up to DB_SLICE_US and handed to the socket. */
static void db_slice(struct quorum *q, struct link *l)
{
    uint64_t t0 = uv_hrtime();
    int rc;
    if (q->db_slice_nodes > 0) {
        rc = dbsend_step(l->db, q->db_slice_nodes);
    } else {
        do
            rc = dbsend_step(l->db, DB_BATCH);
        while (rc == 0 && uv_hrtime() - t0 < (uint64_t)DB_SLICE_US * 1000);
    }
    size_t n;
    uint8_t *bytes = dbsend_take(l->db, &n);
    if (bytes)
        link_write_owned(l, bytes, n); /* closes l on failure */
    if (l->is_closing)
        return;
    if (rc < 0) {
        pd_error("cannot encode the snapshot of zxid 0x%" PRIx64 " for server %" PRId64 ": %s",
                 (uint64_t)l->db_zxid, l->sid,
                 rc == PD_ECLOSED ? "the tree was replaced" : pd_strerror(rc));
        link_close(l, "snapshot not available");
        return;
    }
    if (rc == 1) {
        pd_info("sent server %" PRId64 " the snapshot of zxid 0x%" PRIx64 ": %" PRIu64
                " bytes, %" PRId64 " znodes, in %" PRId64 " ms; up to zxid 0x%" PRIx64
                " applied meanwhile",
                l->sid, (uint64_t)l->db_zxid, dbsend_bytes(l->db), dbsend_nodes(l->db),
                server_mono_ms(q->srv) - l->db_start_ms, (uint64_t)q->srv->last_zxid);
        dbsend_free(l->db);
        l->db = NULL;
        link_flush(l); /* the packets that waited behind it */
        return;
    }
    if (uv_stream_get_write_queue_size((uv_stream_t *)&l->tcp) > DB_QUEUE_HIGH)
        l->is_db_waiting = true; /* on_written starts the idle again */
}

/* Each loop turn while a database goes out: a slice for every link whose socket takes more. */
static void on_db_idle(uv_idle_t *h)
{
    struct quorum *q = h->data;
    bool more = false;
    for (struct link *l = q->links; l; l = l->next) {
        if (!l->db || l->is_closing || l->is_db_waiting)
            continue;
        db_slice(q, l);
        more |= l->db && !l->is_closing && !l->is_db_waiting;
    }
    if (!more)
        uv_idle_stop(&q->db_idle);
}

static void db_idle_start(struct quorum *q)
{
    if (!q->is_stopping)
        uv_idle_start(&q->db_idle, on_db_idle);
}

static void perform_update(struct quorum *q, const struct zab_update *up)
{
    struct server *srv = q->srv;
    bool learner = up->role == ZAB_FOLLOWING || up->role == ZAB_OBSERVING;
    /* 1. stores, in order */
    for (size_t i = 0; i < up->n_stores; i++) {
        const struct zab_store *st = &up->stores[i];
        struct storage_op op = {.seq = st->seq, .zxid = st->zxid, .epoch = st->epoch};
        switch (st->kind) {
        case ZAB_STORE_APPEND:
            op.kind = STORAGE_OP_APPEND;
            op.data = st->data->data;
            op.len = st->data->len;
            hold(q, st->seq, st->data);
            if (learner && pipeline_queue_txn(srv, st->data->data, st->data->len, bind_txn) != 0)
                pd_error("cannot decode txn 0x%" PRIx64 " from the leader", (uint64_t)st->zxid);
            break;
        case ZAB_STORE_TRUNCATE:
            op.kind = STORAGE_OP_TRUNCATE;
            pd_info("sync: TRUNC to 0x%" PRIx64 " (tree at 0x%" PRIx64 ")", (uint64_t)st->zxid,
                    (uint64_t)srv->last_zxid);
            pipeline_drop_after(srv, st->zxid);
            if (srv->last_zxid > st->zxid || q->reload_seq) {
                /* A snapshot of this tree holds txns past the cut: stop one being taken
                 * (one already written is removed with the cut, by the storage thread). */
                snapshotter_abandon(srv);
                /* The tree applied txns past the cut (replayed at start-up): it is reloaded
                 * once the cut is durable (quorum_persisted), when the storage thread no
                 * longer writes what came before. Nothing is applied until then: the core
                 * commits nothing past zxid before NEWLEADER is acked, after this store. */
                q->reload_seq = st->seq;
                q->reload_zxid = st->zxid;
                if (srv->durable_zxid > st->zxid)
                    srv->durable_zxid = st->zxid;
            }
            break;
        case ZAB_STORE_ACCEPTED_EPOCH:
            op.kind = STORAGE_OP_ACCEPTED_EPOCH;
            break;
        case ZAB_STORE_CURRENT_EPOCH:
            op.kind = STORAGE_OP_CURRENT_EPOCH;
            break;
        case ZAB_STORE_SNAP_LOAD:
            if (!install_snapshot(q, st->zxid))
                return;
            op.kind = STORAGE_OP_SNAP_LOAD;
            op.data = q->snap_file->data;
            op.len = q->snap_file->len;
            hold(q, st->seq, q->snap_file);
            break;
        default:
            pd_error("unsupported storage op %d from the Zab core", st->kind);
            continue;
        }
        storage_op(srv, &op);
    }
    /* 2. commits: applied in zxid order by the pipeline at the end of this loop turn */
    if (up->commit_zxid > srv->durable_zxid)
        srv->durable_zxid = up->commit_zxid;
    /* 3. role */
    if (up->role != q->role || up->phase != q->phase || up->leader != q->leader ||
        up->epoch != q->epoch)
        role_changed(q, up);
    /* 4. records */
    for (size_t i = 0; i < up->n_sends; i++) {
        q_send(q, &up->sends[i].msg, up->sends[i].to);
        if (up->sends[i].msg.type == ZAB_MSG_TRUNC && q->role == ZAB_LEADING)
            pd_info("sync: server %" PRId64 " by TRUNC to 0x%" PRIx64, up->sends[i].to,
                    (uint64_t)up->sends[i].msg.zxid);
        if (up->sends[i].msg.type == ZAB_MSG_SNAP && q->role == ZAB_LEADING)
            send_database(q, up->sends[i].to, up->sends[i].msg.zxid);
    }
    /* 5. closes */
    for (size_t i = 0; i < up->n_closes; i++) {
        struct peer *p = peer_of(q, up->closes[i]);
        if (p && p->qlink)
            link_drop(p->qlink, up->close_whys[i]);
    }
    if (up->n_sync_done)
        answer_syncs(q, up->n_sync_done);
    /* 6. timer */
    if (up->next_deadline != UINT64_MAX && !q->is_stopping) {
        uint64_t now = now_ms(q);
        uint64_t in = up->next_deadline > now ? up->next_deadline - now : 0;
        uv_timer_start(&q->timer, on_timer, in, 0);
    }
}

static void perform(struct quorum *q, const struct zab_update *up)
{
    q->n_performing++;
    perform_update(q, up);
    q->n_performing--;
    if (q->n_performing > 0)
        return;
    /* quorum links that broke while the update was performed (see link_close) */
    for (int i = 0; i < q->n_peers; i++) {
        struct peer *p = &q->peers[i];
        if (!p->is_down_pending)
            continue;
        p->is_down_pending = false;
        if (q->is_stopping)
            continue;
        struct zab_event ev = {.type = ZAB_PEER_DOWN};
        ev.peer.peer = p->cs->sid;
        step(q, &ev);
    }
}

static void step(struct quorum *q, struct zab_event *ev)
{
    if (q->is_stopping)
        return;
    /* The core's update arrays are perform()'s until it returns. */
    assert(q->n_performing == 0);
    struct zab_update up;
    ev->now = now_ms(q);
    int rc = zab_step(q->z, ev, &up);
    if (rc == PD_ENOMEM) {
        pd_error("fatal: out of memory in the Zab core; stopping");
        server_fatal(q->srv);
        return;
    }
    if (rc != 0 && ev->type != ZAB_PROPOSE && ev->type != ZAB_SYNC_REQUEST)
        pd_warn("Zab core refused event %d: %s", ev->type, pd_strerror(rc));
    /* The inbound records are handled after this update is performed: handling them steps
     * the core again, which invalidates `up`. */
    size_t n_in = up.n_inbound;
    struct zab_inbound in_copy[16];
    struct zab_inbound *ins = n_in <= 16 ? in_copy : pd_calloc(n_in, sizeof(*ins));
    if (!ins)
        n_in = 0;
    for (size_t i = 0; i < n_in; i++) {
        ins[i] = up.inbound[i];
        ins[i].data = zab_blob_ref(up.inbound[i].data);
    }
    perform(q, &up);
    for (size_t i = 0; i < n_in; i++) {
        handle_inbound(q, ins[i].from, ins[i].type, ins[i].data);
        zab_blob_unref(ins[i].data);
    }
    if (ins != in_copy)
        pd_free(ins);
}

/* ---- leader: requests and pings from learners ----------------------------------------- */

static void leader_request(struct quorum *q, int64_t from, struct zab_blob *b)
{
    struct server *srv = q->srv;
    struct arena *a = &q->arena;
    struct jute_in in;
    jute_in_init(&in, b->data, b->len, a);
    struct jute_id_vec ids;
    jute_get_id_vec(&in, &ids);
    struct jute_learner_request r;
    jute_get_learner_request(&in, &r);
    if (in.err) {
        pd_warn("malformed REQUEST from server %" PRId64, from);
        return;
    }
    struct tree_auth who = {.ids = ids.items, .n_ids = ids.count, .is_super = false};
    struct pipeline_req pr = {
        .kind = PIPE_REQUEST,
        .session_id = r.session_id,
        .xid = r.cxid,
        .op = r.type,
        .auth = &who,
    };
    struct jute_in body;
    jute_in_init(&body, r.request.data, r.request.len > 0 ? (size_t)r.request.len : 0, a);
    union {
        struct jute_create_request create;
        struct jute_path_version_request pv;
        struct jute_set_data_request set;
        struct jute_set_acl_request acl;
        struct jute_path_request path;
    } u;
    struct tree_multi_op *ops = NULL;
    int32_t n_ops = 1;
    int rc = 0;
    switch (r.type) {
    case ZOO_OP_SYNC: {
        struct zab_event ev = {.type = ZAB_SYNC_REQUEST};
        ev.sync.from = from;
        step(q, &ev);
        return;
    }
    case ZOO_OP_CREATESESSION:
        pr.kind = PIPE_CONNECT;
        pr.timeout_ms = jute_get_int(&body);
        pr.auth = NULL;
        break;
    case ZOO_OP_CLOSESESSION: {
        /* A session this server does not know still gets its closeSession txn (as
         * PrepRequestProcessor, which does not check it): the learner answers from it. */
        struct session *s = sess_find(&srv->sessions, r.session_id);
        if (s && s->is_closing)
            goto out;
        pr.kind = PIPE_CLOSE;
        pr.session_is_closing = true;
        pr.auth = NULL;
        rc = pipeline_submit(srv, &pr);
        if (rc == 0 && s)
            s->is_closing = true;
        goto out;
    }
    case ZOO_OP_CREATE:
    case ZOO_OP_CREATE2:
    case ZOO_OP_CREATECONTAINER:
    case ZOO_OP_CREATETTL:
        jute_get_create_request(&body, &u.create, r.type == ZOO_OP_CREATETTL);
        pr.request = &u.create;
        break;
    case ZOO_OP_DELETE:
    case ZOO_OP_CHECK:
        jute_get_path_version_request(&body, &u.pv);
        pr.request = &u.pv;
        break;
    case ZOO_OP_SETDATA:
        jute_get_set_data_request(&body, &u.set);
        pr.request = &u.set;
        break;
    case ZOO_OP_SETACL:
        jute_get_set_acl_request(&body, &u.acl);
        pr.request = &u.acl;
        break;
    case ZOO_OP_MULTI:
        rc = dispatch_decode_multi(&body, a, &ops, &n_ops, false);
        if (rc != 0)
            body.err = rc;
        pr.request = ops;
        break;
    case ZOO_OP_RECONFIG:
        pr.request = NULL;
        n_ops = 0;
        break;
    default:
        pd_warn("REQUEST of type %d from server %" PRId64 " ignored", r.type, from);
        goto out;
    }
    if (body.err && pr.kind != PIPE_REQUEST) {
        pd_warn("malformed %s body in REQUEST from server %" PRId64, dispatch_op_name(r.type),
                from);
        goto out;
    }
    if (body.err) {
        /* PrepRequestProcessor logs an error txn for a body it cannot read; the learner
         * answers its client from it (MARSHALLINGERROR) instead of never. */
        pd_warn("malformed %s body in REQUEST from server %" PRId64, dispatch_op_name(r.type),
                from);
        pr.fail_with = ZMARSHALLINGERROR;
        pr.request = NULL;
        n_ops = 0;
    } else if (pr.kind == PIPE_REQUEST) {
        /* SessionTracker.checkSession: a session that expired (or is closing) while its
         * request was on the way gets SESSIONEXPIRED, never an ephemeral it would not own. */
        struct session *s = sess_find(&srv->sessions, r.session_id);
        if (!s || s->is_closing)
            pr.session_is_closing = true;
    }
    pr.n_ops = n_ops;
    rc = pipeline_submit(srv, &pr);
out:
    if (rc != 0 && rc != PD_EIO)
        pd_warn("REQUEST from server %" PRId64 " not proposed: %s", from, pd_strerror(rc));
    arena_reset(a);
}

static void leader_ping(struct quorum *q, struct zab_blob *b)
{
    if (!b)
        return;
    struct jute_in in;
    jute_in_init(&in, b->data, b->len, &q->arena);
    struct jute_ping_touches t;
    jute_get_ping_touches(&in, &t);
    if (!in.err) {
        int64_t now = (int64_t)now_ms(q);
        for (int32_t i = 0; i < t.count; i++) {
            struct session *s = sess_find(&q->srv->sessions, t.items[i].session_id);
            if (s && !s->is_closing)
                sess_touch(&q->srv->sessions, s, now);
        }
    }
    arena_reset(&q->arena);
}

static void handle_inbound(struct quorum *q, int64_t from, int32_t type, struct zab_blob *b)
{
    if (q->role != ZAB_LEADING)
        return;
    if (type == ZAB_MSG_REQUEST && b)
        leader_request(q, from, b);
    else if (type == ZAB_MSG_PING)
        leader_ping(q, b);
}

/* ---- learner: forwarding ------------------------------------------------------------- */

/* Sends [authinfo][sessionId, cxid, type, body] through the core (REQUEST to the leader). */
static int propose_request(struct quorum *q, struct conn *c, int64_t session_id, int32_t cxid,
                           int32_t op, const uint8_t *body, size_t len)
{
    struct jute_out out;
    jute_out_init(&out);
    struct jute_id_vec ids = {.count = c->n_auth, .is_null = false, .items = c->auth};
    jute_put_id_vec(&out, &ids);
    struct jute_learner_request r = {
        .session_id = session_id,
        .cxid = cxid,
        .type = op,
        .request = {.data = body, .len = (int32_t)len},
    };
    jute_put_learner_request(&out, &r);
    struct zab_blob *b = out.err ? NULL : zab_blob_new(out.data, (uint32_t)out.len);
    jute_out_close(&out);
    if (!b)
        return PD_ENOMEM;
    struct zab_event ev = {.type = ZAB_PROPOSE};
    ev.propose.data = b;
    struct zab_update up;
    ev.now = now_ms(q);
    int rc = zab_step(q->z, &ev, &up);
    zab_blob_unref(b);
    if (rc == 0)
        perform(q, &up);
    return rc;
}

/* Appends a forwarded sync or write (indexed for bind_txn) to its list. */
static struct fwd *fwd_push(struct quorum *q, bool is_sync, struct conn *c, int64_t sid,
                            int32_t cxid, int32_t op, int64_t started)
{
    struct fwd *f = pd_calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->conn = c;
    f->session_id = sid;
    f->cxid = cxid;
    f->op = op;
    f->started_ms = started;
    if (!is_sync && !fwd_index_add(q, f)) {
        pd_free(f);
        return NULL;
    }
    struct fwd **head = is_sync ? &q->sync_head : &q->fwd_head;
    struct fwd **tail = is_sync ? &q->sync_tail : &q->fwd_tail;
    f->prev = *tail;
    if (*tail)
        (*tail)->next = f;
    else
        *head = f;
    *tail = f;
    return f;
}

/* Takes back the request fwd_push just added (it could not be sent). */
static void fwd_pop_tail(struct quorum *q, bool is_sync)
{
    struct fwd *f = is_sync ? q->sync_tail : q->fwd_tail;
    if (!f)
        return;
    if (is_sync) {
        fwd_unlink(&q->sync_head, &q->sync_tail, f);
    } else {
        fwd_index_remove(q, f);
        fwd_unlink(&q->fwd_head, &q->fwd_tail, f);
    }
    pd_free(f->path);
    pd_free(f);
}

bool quorum_forward(struct conn *c, int32_t xid, int32_t op, const uint8_t *body, size_t len,
                    int64_t started_ms)
{
    struct server *srv = c->srv;
    struct quorum *q = srv->quorum;
    if (op == ZOO_OP_SYNC && c->n_pending > 0)
        return false; /* a sync keeps its place behind this session's writes */
    if (op == ZOO_OP_CLOSESESSION) {
        if (c->sess->is_closing) {
            conn_close(c, "session already closing");
            return true;
        }
    }
    bool is_sync = op == ZOO_OP_SYNC;
    struct fwd *f = fwd_push(q, is_sync, c, c->sess->id, xid, op, started_ms);
    if (!f) {
        conn_close(c, "out of memory");
        return true;
    }
    if (is_sync) {
        struct jute_in in;
        jute_in_init(&in, body, len, &q->arena);
        char *path = jute_get_string(&in);
        f->path = pd_strdup(path ? path : "/");
        arena_reset(&q->arena);
        if (!f->path || in.err) {
            fwd_pop_tail(q, is_sync);
            conn_reply_empty(c, xid, srv->last_zxid, ZMARSHALLINGERROR);
            return true;
        }
    }
    int rc = propose_request(q, c, c->sess->id, xid, op, body, len);
    if (rc != 0) {
        fwd_pop_tail(q, is_sync);
        conn_close(c, "not connected to a leader");
        return true;
    }
    if (op == ZOO_OP_CLOSESESSION)
        c->sess->is_closing = true;
    c->n_pending++;
    return true;
}

bool quorum_forward_connect(struct conn *c, int64_t session_id, int32_t timeout_ms)
{
    struct quorum *q = c->srv->quorum;
    struct fwd *f = fwd_push(q, false, c, session_id, 0, ZOO_OP_CREATESESSION,
                             (int64_t)now_ms(q));
    if (!f)
        return false;
    uint8_t body[4] = {(uint8_t)(timeout_ms >> 24), (uint8_t)(timeout_ms >> 16),
                       (uint8_t)(timeout_ms >> 8), (uint8_t)timeout_ms};
    if (propose_request(q, c, session_id, 0, ZOO_OP_CREATESESSION, body, 4) != 0) {
        fwd_pop_tail(q, false);
        return false;
    }
    c->is_connecting = true;
    /* Counted like any forwarded request: the commit that answers it uncounts it. Without
     * this the count ran one short and reads overtook the session's forwarded writes. */
    c->n_pending++;
    return true;
}

void quorum_conn_gone(struct server *srv, struct conn *c)
{
    struct quorum *q = srv->quorum;
    for (struct fwd *f = q->fwd_head; f; f = f->next)
        if (f->conn == c)
            f->conn = NULL;
    for (struct fwd *f = q->sync_head; f; f = f->next)
        if (f->conn == c)
            f->conn = NULL;
    for (struct reval *v = q->revals; v; v = v->next)
        if (v->conn == c)
            v->conn = NULL;
}

/* ---- leader: proposing ----------------------------------------------------------------- */

int quorum_propose(struct server *srv, int64_t zxid, const uint8_t *payload, size_t len)
{
    struct quorum *q = srv->quorum;
    struct zab_blob *b = zab_blob_new(payload, (uint32_t)len);
    if (!b)
        return PD_ENOMEM;
    struct zab_event ev = {.type = ZAB_PROPOSE};
    ev.propose.data = b;
    ev.now = now_ms(q);
    struct zab_update up;
    int rc = zab_step(q->z, &ev, &up);
    zab_blob_unref(b);
    if (rc != 0) {
        /* The refused step still carries an update (e.g. a step-down at rollover). */
        perform(q, &up);
        return PD_EIO;
    }
    /* Leader.propose: proposalStats over the serialized request (header, txn, digest). */
    q->last_prop_size = (int64_t)len;
    if (q->min_prop_size < 0 || q->last_prop_size < q->min_prop_size)
        q->min_prop_size = q->last_prop_size;
    if (q->last_prop_size > q->max_prop_size)
        q->max_prop_size = q->last_prop_size;
    if (up.proposed_zxid != zxid) {
        pd_error("fatal: the Zab core gave zxid 0x%" PRIx64 " to the txn prepped as 0x%" PRIx64,
                 (uint64_t)up.proposed_zxid, (uint64_t)zxid);
        perform(q, &up);
        server_fatal(srv);
        return PD_EIO;
    }
    perform(q, &up);
    return 0;
}

void quorum_persisted(struct server *srv, uint64_t seq)
{
    struct quorum *q = srv->quorum;
    size_t k = 0;
    while (k < q->n_held && q->held[k].seq <= seq)
        zab_blob_unref(q->held[k++].blob);
    if (k) {
        memmove(q->held, q->held + k, (q->n_held - k) * sizeof(*q->held));
        q->n_held -= k;
    }
    if (q->reload_seq && seq >= q->reload_seq)
        reload_tree(q);
    struct zab_event ev = {.type = ZAB_PERSISTED};
    ev.persisted.seq = seq;
    step(q, &ev);
}

/* ---- introspection ---------------------------------------------------------------------- */

bool quorum_configured(const struct server *srv)
{
    return config_is_distributed(&srv->cfg);
}

bool quorum_can_propose(const struct server *srv)
{
    const struct quorum *q = srv->quorum;
    return q->role == ZAB_LEADING && q->phase == ZAB_PHASE_BROADCAST;
}

bool quorum_is_learner(const struct server *srv)
{
    const struct quorum *q = srv->quorum;
    return q->role == ZAB_FOLLOWING || q->role == ZAB_OBSERVING;
}

bool quorum_is_serving(const struct server *srv)
{
    return srv->quorum->phase == ZAB_PHASE_BROADCAST;
}

const char *quorum_mode(const struct server *srv)
{
    const struct quorum *q = srv->quorum;
    if (!quorum_serves_clients(srv))
        return NULL;
    switch (q->role) {
    case ZAB_LEADING:
        return "leader";
    case ZAB_FOLLOWING:
        return "follower";
    case ZAB_OBSERVING:
        return "observer";
    default:
        return NULL;
    }
}

bool quorum_serves_clients(const struct server *srv)
{
    const struct quorum *q = srv->quorum;
    return q->phase == ZAB_PHASE_BROADCAST && (q->role != ZAB_LEADING || srv->cfg.leader_serves);
}

void quorum_gauges(const struct server *srv, struct quorum_gauges *g)
{
    struct quorum *q = srv->quorum;
    static const char *const phases[] = {"", " - discovery", " - synchronization", " - broadcast"};
    const char *role = q->role == ZAB_LEADING     ? "leading"
                       : q->role == ZAB_FOLLOWING ? "following"
                       : q->role == ZAB_OBSERVING ? "observing"
                                                  : "looking";
    snprintf(g->peer_state, sizeof(g->peer_state), "%s%s", role,
             (unsigned)q->phase < 4 ? phases[q->phase] : "");
    g->leader = q->leader == ZAB_SID_NONE ? -1 : q->leader;
    g->quorum_size = 0;
    for (size_t i = 0; i < srv->cfg.server_count; i++)
        g->quorum_size += !srv->cfg.servers[i].is_observer;
    g->is_leader = q->role == ZAB_LEADING;
    g->learners = 0;
    for (int i = 0; i < q->n_peers; i++)
        if (q->peers[i].qlink && q->peers[i].qlink->kind == LINK_Q_IN)
            g->learners++;
    g->synced_followers = zab_synced_followers(q->z);
    g->synced_observers = zab_synced_observers(q->z);
    g->leader_uptime_ms = g->is_leader ? (int64_t)(now_ms(q) - q->leader_start_ms) : 0;
    g->last_proposal_size = q->last_prop_size;
    g->min_proposal_size = q->min_prop_size;
    g->max_proposal_size = q->max_prop_size;
}

void quorum_reset_proposal_stats(struct server *srv)
{
    struct quorum *q = srv->quorum;
    q->last_prop_size = q->min_prop_size = q->max_prop_size = -1;
}

/* ---- start and stop ----------------------------------------------------------------------- */

/* Reads dataDir/version-2/<name>; *out = fallback when the file is missing. */
static int read_epoch(const char *dir, const char *name, int64_t fallback, int64_t *out)
{
    char path[4200], buf[64];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT) {
            pd_error("cannot read %s: %s", path, strerror(errno));
            return PD_EIO;
        }
        *out = fallback;
        return 0;
    }
    ssize_t n = read(fd, buf, sizeof(buf));
    close(fd);
    if (n < 0 || quorum_epoch_parse(buf, (size_t)n, out) != 0 || *out < 0 ||
        *out > (int64_t)UINT32_MAX) {
        pd_error("%s: not an epoch", path);
        return PD_ECONFIG;
    }
    return 0;
}

/* QuorumVerifier.toString() (QuorumMaj): one line per member, then the version in hex. */
static int make_qv_text(struct quorum *q)
{
    const struct config *cfg = &q->srv->cfg;
    struct jute_out out;
    jute_out_init(&out);
    char line[600];
    for (size_t i = 0; i < cfg->server_count; i++) {
        const struct config_server *s = &cfg->servers[i];
        int n = snprintf(line, sizeof(line), "server.%" PRId64 "=%s:%d:%d:%s", s->sid, s->host,
                         s->quorum_port, s->election_port,
                         s->is_observer ? "observer" : "participant");
        if (s->client_port > 0)
            n += snprintf(line + n, sizeof(line) - (size_t)n, ";%s:%d",
                          s->client_addr ? s->client_addr : "0.0.0.0", s->client_port);
        n += snprintf(line + n, sizeof(line) - (size_t)n, "\n");
        jute_put_raw(&out, line, (size_t)n);
    }
    int n = snprintf(line, sizeof(line), "version=%" PRIx64, (uint64_t)cfg->quorum_version);
    jute_put_raw(&out, line, (size_t)n);
    if (out.err) {
        jute_out_close(&out);
        return PD_ENOMEM;
    }
    q->qv_text = (char *)jute_out_steal(&out, &q->qv_len);
    return 0;
}

static int listen_on(struct quorum *q, uv_tcp_t *h, const char *host, int port,
                     uv_connection_cb cb, const char *what)
{
    struct sockaddr_storage ss;
    int rc = resolve(q->srv->cfg.quorum_listen_on_all_ips ? "0.0.0.0" : host, port, &ss);
    if (rc != 0) {
        pd_error("%s address %s:%d: %s", what, host, port, uv_strerror(rc));
        return PD_ECONFIG;
    }
    rc = uv_tcp_bind(h, (struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)h, 128, cb);
    if (rc != 0) {
        pd_error("cannot listen on %s port %s:%d: %s", what, host, port, uv_strerror(rc));
        return PD_EIO;
    }
    pd_info("%s port %s:%d", what, host, port);
    return 0;
}

static void on_el_listener_closed(uv_handle_t *h)
{
    struct quorum *q = h->data;
    q->is_el_closed = true;
}

static void on_bind_timer(uv_timer_t *t);

/* Binds the election port, or closes the listener and tries again in QUORUM_BIND_RETRY_MS
 * (on_bind_timer ends the server after electionPortBindRetry failed tries). Returns 0, or
 * PD_ECONFIG for an address that does not resolve. */
static int bind_election(struct quorum *q)
{
    const struct config *cfg = &q->srv->cfg;
    const struct config_server *me = config_find_server(cfg, cfg->my_id);
    int rc = listen_on(q, &q->el_listener, me->host, me->election_port, on_el_accept, "election");
    if (rc == 0 || rc == PD_ECONFIG)
        return rc;
    q->bind_errors++;
    q->is_el_closed = false;
    uv_close((uv_handle_t *)&q->el_listener, on_el_listener_closed);
    uv_timer_start(&q->bind_timer, on_bind_timer, QUORUM_BIND_RETRY_MS, 0);
    return 0;
}

static void on_bind_timer(uv_timer_t *t)
{
    struct quorum *q = t->data;
    const struct config *cfg = &q->srv->cfg;
    const struct config_server *me = config_find_server(cfg, cfg->my_id);
    if (q->is_stopping)
        return;
    if (!q->is_el_closed) {
        uv_timer_start(&q->bind_timer, on_bind_timer, 10, 0);
        return;
    }
    if (cfg->election_port_bind_retry != 0 && q->bind_errors >= cfg->election_port_bind_retry) {
        pd_error("cannot bind the election port %s:%d after %d tries (electionPortBindRetry=%d; "
                 "0 retries forever); without it this server cannot take part in leader "
                 "election: exiting with status %d",
                 me->host, me->election_port, q->bind_errors, cfg->election_port_bind_retry,
                 QUORUM_EXIT_CANNOT_BIND);
        server_fatal(q->srv);
        q->srv->exit_status = QUORUM_EXIT_CANNOT_BIND;
        return;
    }
    uv_tcp_init(&q->srv->loop, &q->el_listener);
    q->el_listener.data = q;
    if (bind_election(q) != 0)
        server_fatal(q->srv);
}

/* The last QUORUM_TAIL_MAX txns of the log, ending at srv->last_zxid (empty if the log does
 * not end there, e.g. a snapshot newer than the log). Caller unrefs the blobs. */
static size_t read_tail(struct server *srv, struct zab_txn *tail)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/version-2", srv->cfg.data_log_dir);
    /* TODO(#5): start near the end instead of reading the whole log at start-up. */
    struct txnlog_iter *it = txnlog_iter_new(&srv->fs, dir, 0);
    size_t n = 0, head = 0;
    if (!it)
        return 0;
    struct txnlog_record rec;
    while (txnlog_iter_next(it, &rec) == 1) {
        if (rec.zxid > srv->last_zxid)
            break;
        struct zab_blob *b = zab_blob_new(rec.payload, (uint32_t)rec.len);
        if (!b)
            break;
        size_t at = (head + n) % QUORUM_TAIL_MAX;
        if (n == QUORUM_TAIL_MAX) {
            zab_blob_unref(tail[head].data);
            at = head;
            head = (head + 1) % QUORUM_TAIL_MAX;
        } else {
            n++;
        }
        tail[at] = (struct zab_txn){.zxid = rec.zxid, .data = b};
    }
    txnlog_iter_free(it);
    /* Rotate into ascending order. */
    struct zab_txn *tmp = pd_calloc(n ? n : 1, sizeof(*tmp));
    if (!tmp) {
        for (size_t i = 0; i < n; i++)
            zab_blob_unref(tail[(head + i) % QUORUM_TAIL_MAX].data);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        tmp[i] = tail[(head + i) % QUORUM_TAIL_MAX];
    memcpy(tail, tmp, n * sizeof(*tmp));
    pd_free(tmp);
    if (n && tail[n - 1].zxid != srv->last_zxid) {
        for (size_t i = 0; i < n; i++)
            zab_blob_unref(tail[i].data);
        return 0;
    }
    return n;
}

int quorum_start(struct server *srv)
{
    struct config *cfg = &srv->cfg;
    const struct config_server *me = config_find_server(cfg, cfg->my_id);
    if (!me) {
        pd_error("myid %" PRId64 " has no server.N line", cfg->my_id);
        return PD_ECONFIG;
    }
    if (cfg->server_count > ZAB_MAX_SERVERS) {
        pd_error("at most %d servers are supported in an ensemble", ZAB_MAX_SERVERS);
        return PD_ECONFIG;
    }
    if (cfg->is_hierarchical) {
        pd_error("hierarchical quorums (group/weight) are not supported yet");
        return PD_ECONFIG;
    }
    struct quorum *q = pd_calloc(1, sizeof(*q));
    if (!q)
        return PD_ENOMEM;
    srv->quorum = q;
    q->srv = srv;
    q->self = cfg->my_id;
    q->role = ZAB_LOOKING;
    q->phase = ZAB_PHASE_ELECTION;
    q->leader = ZAB_SID_NONE;
    arena_init(&q->arena, 16 * 1024);
    uv_timer_init(&srv->loop, &q->timer);
    q->timer.data = q;
    uv_timer_init(&srv->loop, &q->retry_timer);
    q->retry_timer.data = q;
    uv_timer_init(&srv->loop, &q->redial_timer);
    q->redial_timer.data = q;
    uv_idle_init(&srv->loop, &q->flush_idle);
    q->flush_idle.data = q;
    uv_idle_init(&srv->loop, &q->db_idle);
    q->db_idle.data = q;
    q->db_slice_nodes = snapshotter_test_slice_nodes();
    uv_timer_init(&srv->loop, &q->bind_timer);
    q->bind_timer.data = q;
    q->retry_sid = -1;
    jute_out_init(&q->retry_pend);
    uv_tcp_init(&srv->loop, &q->el_listener);
    uv_tcp_init(&srv->loop, &q->q_listener);
    q->el_listener.data = q->q_listener.data = q;
    for (size_t i = 0; i < cfg->server_count; i++)
        if (cfg->servers[i].sid != q->self)
            q->peers[q->n_peers++].cs = &cfg->servers[i];
    for (int i = 0; i < q->n_peers; i++) {
        struct sockaddr_storage ss;
        (void)peer_addr(&q->peers[i], 0, &ss); /* host names: looked up once, now */
    }
    if (make_qv_text(q) != 0)
        return PD_ENOMEM;
    q->z = zab_new();
    if (!q->z)
        return PD_ENOMEM;
    if (getenv("PADDOCK_LOG_DEBUG")) {
        q_debug = true;
        pd_log_set_level(PD_LOG_DEBUG);
        zab_set_tracer(q->z, trace_core, NULL);
    }

    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/version-2", cfg->data_dir);
    int64_t last_epoch = (int64_t)zab_epoch_of(srv->last_zxid);
    int64_t accepted, current;
    int rc = read_epoch(dir, QUORUM_CURRENT_EPOCH_FILE, last_epoch, &current);
    if (rc == 0)
        rc = read_epoch(dir, QUORUM_ACCEPTED_EPOCH_FILE, current, &accepted);
    if (rc != 0)
        return rc;
    if (current < last_epoch) {
        /* QuorumPeer.loadDataBase refuses this unless currentEpoch.tmp says otherwise. */
        pd_error("currentEpoch %" PRId64 " is older than the last logged zxid 0x%" PRIx64,
                 current, (uint64_t)srv->last_zxid);
        return PD_ECONFIG;
    }

    /* A peer that dies leaves its sockets to EPIPE: libuv writes with write(2), which raises
     * SIGPIPE, whose default action would end this server (seen when a leader is killed). */
    signal(SIGPIPE, SIG_IGN);

    if (cfg->election_port_bind_retry == 0)
        pd_info("Election port bind maximum retries is infinite");
    else
        pd_info("Election port bind maximum retries is %d", cfg->election_port_bind_retry);
    rc = bind_election(q);
    if (rc == 0)
        rc = listen_on(q, &q->q_listener, me->host, me->quorum_port, on_q_accept, "quorum");
    if (rc != 0)
        return rc;

    struct zab_event ev = {.type = ZAB_START};
    struct zab_start *st = &ev.start;
    st->config.self = q->self;
    st->config.n_servers = (int)cfg->server_count;
    for (size_t i = 0; i < cfg->server_count; i++) {
        st->config.servers[i].sid = cfg->servers[i].sid;
        st->config.servers[i].is_observer = cfg->servers[i].is_observer;
    }
    st->config.tick_ms = (uint32_t)cfg->tick_ms;
    st->config.init_limit = (uint32_t)cfg->init_limit;
    st->config.sync_limit = (uint32_t)cfg->sync_limit;
    st->config.config_version = cfg->quorum_version;
    st->accepted_epoch = (uint32_t)accepted;
    st->current_epoch = (uint32_t)current;
    st->last_zxid = srv->last_zxid;
    struct zab_txn *tail = pd_calloc(QUORUM_TAIL_MAX, sizeof(*tail));
    if (!tail)
        return PD_ENOMEM;
    size_t n_tail = read_tail(srv, tail);
    st->tail = tail;
    st->n_tail = n_tail;
    st->seed = (uint64_t)server_wall_ms() ^ ((uint64_t)getpid() << 20);
    pd_info("quorum: server %" PRId64 " of %zu, acceptedEpoch %" PRId64 ", currentEpoch %" PRId64
            ", last zxid 0x%" PRIx64 ", %zu txns of log tail",
            q->self, cfg->server_count, accepted, current, (uint64_t)srv->last_zxid, n_tail);
    struct zab_update up;
    ev.now = now_ms(q);
    rc = zab_step(q->z, &ev, &up);
    for (size_t i = 0; i < n_tail; i++)
        zab_blob_unref(tail[i].data);
    pd_free(tail);
    if (rc != 0) {
        pd_error("cannot start the Zab core: %s", pd_strerror(rc));
        return rc;
    }
    perform(q, &up);
    return 0;
}

void quorum_stop(struct server *srv)
{
    struct quorum *q = srv->quorum;
    if (!q || q->is_stopping)
        return;
    q->is_stopping = true;
    uv_timer_stop(&q->timer);
    for (struct link *l = q->links; l; l = l->next)
        link_drop(l, NULL);
    if (!uv_is_closing((uv_handle_t *)&q->timer))
        uv_close((uv_handle_t *)&q->timer, NULL);
    uv_timer_stop(&q->retry_timer);
    if (!uv_is_closing((uv_handle_t *)&q->retry_timer))
        uv_close((uv_handle_t *)&q->retry_timer, NULL);
    uv_timer_stop(&q->redial_timer);
    if (!uv_is_closing((uv_handle_t *)&q->redial_timer))
        uv_close((uv_handle_t *)&q->redial_timer, NULL);
    uv_idle_stop(&q->flush_idle);
    if (!uv_is_closing((uv_handle_t *)&q->flush_idle))
        uv_close((uv_handle_t *)&q->flush_idle, NULL);
    uv_idle_stop(&q->db_idle);
    if (!uv_is_closing((uv_handle_t *)&q->db_idle))
        uv_close((uv_handle_t *)&q->db_idle, NULL);
    uv_timer_stop(&q->bind_timer);
    if (!uv_is_closing((uv_handle_t *)&q->bind_timer))
        uv_close((uv_handle_t *)&q->bind_timer, NULL);
    if (!uv_is_closing((uv_handle_t *)&q->el_listener))
        uv_close((uv_handle_t *)&q->el_listener, NULL);
    if (!uv_is_closing((uv_handle_t *)&q->q_listener))
        uv_close((uv_handle_t *)&q->q_listener, NULL);
}

void quorum_free(struct server *srv)
{
    struct quorum *q = srv->quorum;
    if (!q)
        return;
    for (size_t i = 0; i < q->n_held; i++)
        zab_blob_unref(q->held[i].blob);
    pd_free(q->held);
    fwd_free_writes(q);
    fwd_free_list(&q->sync_head, &q->sync_tail);
    while (q->revals) {
        struct reval *v = q->revals;
        q->revals = v->next;
        pd_free(v);
    }
    zab_free(q->z);
    snap_discard(q);
    pd_free(q->snap_sessions);
    jute_out_close(&q->retry_pend);
    arena_close(&q->arena);
    pd_free(q->qv_text);
    pd_free(q);
    srv->quorum = NULL;
}
