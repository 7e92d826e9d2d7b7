/*
 * The write path: every txn the server makes (client writes, createSession,
 * closeSession, session expiry, container reaping) is prepped here, queued in
 * zxid order, made durable by the storage layer, then applied to the tree and
 * answered, in zxid order.
 *
 *   pipeline_submit()  tree_prep (checks against the tree + outstanding changes),
 *                      queue at the tail; the zxid is taken now
 *   storage            log append + group-commit fsync (storage_thread.c);
 *                      srv->durable_zxid moves forward
 *   pipeline_commit()  for each queued txn with zxid <= durable_zxid, in order:
 *                      tree_apply (fires watches), reply, session bookkeeping
 *
 * Ordering (ZooKeeper's guarantees): replies to one connection leave in the
 * order it sent the requests because a connection's reads are held back while
 * it has writes queued (conn.c checks c->n_pending before dispatching a
 * read), and watch notifications are queued during apply, before the reply to
 * the write that fired them.
 *
 * Invariants: the queue is in strictly increasing zxid order; every entry's
 * zxid is > srv->last_zxid; an entry's conn is NULL once that connection is
 * gone (pipeline_conn_gone), so commit never touches a freed connection.
 */
#include "server/server.h"

#include "common/alloc.h"
#include "common/err.h"
#include "common/log.h"
#include "storage/txn.h"

#include <inttypes.h>
#include <string.h>

struct pending {
    struct pending *next; /* later entry (the queue owns it) */
    enum pipe_kind kind;
    struct conn *conn; /* borrowed; NULL when there is no one to answer */
    int64_t session_id;
    int32_t xid;        /* request xid, for the reply */
    int32_t op;         /* request opcode: the reply's shape */
    int32_t timeout_ms; /* PIPE_CONNECT: the negotiated timeout */
    int64_t started_ms; /* monotonic, for latency statistics */
    struct arena arena; /* owns txn's strings and vectors */
    struct tree_txn txn;
    uint8_t *payload; /* owned: the txn as the log stores it */
    size_t payload_len;
};

static void pending_free(struct pending *p)
{
    pd_free(p->payload);
    arena_close(&p->arena);
    pd_free(p);
}

static void hold_count(struct conn *c, int delta)
{
    if (c)
        c->n_pending += delta;
}

/* Unlinks and frees the queue's last entry, p. */
static void drop_tail(struct server *srv, struct pending *p)
{
    struct pending *prev = NULL;
    for (struct pending *it = srv->pend_head; it != p; it = it->next)
        prev = it;
    if (prev)
        prev->next = NULL;
    else
        srv->pend_head = NULL;
    srv->pend_tail = prev;
    if (p->kind == PIPE_CLOSE || p->kind == PIPE_EXPIRE) {
        struct session *s = sess_find(&srv->sessions, p->session_id);
        if (s)
            s->is_closing = false;
    }
    hold_count(p->conn, -1);
    pending_free(p);
}

int pipeline_submit(struct server *srv, const struct pipeline_req *r)
{
    if (srv->is_storage_failed)
        return PD_EIO;
    /* Quorum mode: only an established leader makes txns (learners forward requests). */
    if (srv->quorum && !quorum_can_propose(srv))
        return PD_EIO;
    struct pending *p = pd_calloc(1, sizeof(*p));
    if (!p)
        return PD_ENOMEM;
    arena_init(&p->arena, 1024);
    p->kind = r->kind;
    p->conn = r->conn;
    p->session_id = r->session_id;
    p->xid = r->xid;
    p->op = r->op;
    p->timeout_ms = r->timeout_ms;
    p->started_ms = server_mono_ms(srv);
    struct tree_prep_ctx ctx = {
        .session_id = r->session_id,
        .cxid = r->xid,
        .zxid = srv->next_zxid,
        .now_ms = server_wall_ms(),
        .auth = r->auth,
        .ttl_enabled = srv->cfg.extended_types_enabled,
        .session_is_closing = r->session_is_closing,
        .fail_with = r->fail_with,
    };
    int32_t prep_op = r->op;
    const void *req = r->request;
    if (p->kind == PIPE_CONNECT) {
        prep_op = ZOO_OP_CREATESESSION;
        req = &p->timeout_ms;
    } else if (p->kind == PIPE_CLOSE || p->kind == PIPE_EXPIRE) {
        prep_op = ZOO_OP_CLOSESESSION;
        req = NULL;
    }
    int rc = tree_prep(srv->tree, &ctx, prep_op, req, r->n_ops, &p->arena, &p->txn);
    if (rc != 0) {
        pending_free(p);
        return rc;
    }
    struct jute_out out;
    jute_out_init(&out);
    /* The TxnDigest after each record, as 3.8 logs it: the tree's digest once this txn is
     * applied, precalculated by tree_prep (a failed single op carries none). */
    struct jute_txn_digest digest = {.version = TREE_DIGEST_VERSION, .tree_digest = p->txn.digest};
    rc = txn_encode(&out, &p->txn, p->txn.has_digest ? &digest : NULL);
    if (rc != 0) {
        /* The overlay holds this txn's changes but it will never be logged: drop the
         * overlay (as after losing a txn); later preps see the tree and earlier txns'
         * effects once applied. */
        jute_out_close(&out);
        pending_free(p);
        tree_overlay_clear(srv->tree);
        return PD_ENOMEM;
    }
    p->payload = jute_out_steal(&out, &p->payload_len);
    srv->next_zxid++;
    if (srv->pend_tail)
        srv->pend_tail->next = p;
    else
        srv->pend_head = p;
    srv->pend_tail = p;
    hold_count(p->conn, 1);
    if (srv->quorum) {
        /* The Zab core logs it (a store back through quorum.c) and commits it on a quorum. */
        rc = quorum_propose(srv, p->txn.hdr.zxid, p->payload, p->payload_len);
        if (rc != 0) {
            /* The core refused it: this server has just stopped leading (e.g. it was paused
             * and its followers' acks are too old). This txn was never logged: it goes. The
             * ones queued before it are logged, and the next leader's history may hold them;
             * they stay, to be applied when that leader's DIFF says they are committed (or
             * cut by its TRUNC). Dropping them here left this server without txns that the
             * rest of the ensemble committed, for good. Their clients' connections close
             * with the role (quorum.c role_changed). */
            drop_tail(srv, p);
            tree_overlay_clear(srv->tree);
            return PD_EIO;
        }
        return 0;
    }
    storage_append(srv, p->txn.hdr.zxid, p->payload, p->payload_len);
    return 0;
}

int pipeline_queue_txn(struct server *srv, const uint8_t *payload, size_t len,
                       pipeline_bind_fn bind)
{
    struct pending *p = pd_calloc(1, sizeof(*p));
    if (!p)
        return PD_ENOMEM;
    arena_init(&p->arena, 1024);
    p->payload = pd_malloc(len ? len : 1);
    if (!p->payload) {
        pending_free(p);
        return PD_ENOMEM;
    }
    memcpy(p->payload, payload, len);
    p->payload_len = len;
    int rc = txn_decode(p->payload, len, &p->arena, &p->txn, NULL, NULL);
    if (rc != 0 || p->txn.hdr.zxid <= srv->last_zxid ||
        (srv->pend_tail && p->txn.hdr.zxid <= srv->pend_tail->txn.hdr.zxid)) {
        /* Already applied (the log replayed at start holds it) or out of order. */
        pending_free(p);
        return rc;
    }
    struct pipeline_bind b = {0};
    if (bind)
        bind(srv, &p->txn.hdr, &b);
    p->conn = b.conn;
    p->session_id = p->txn.hdr.client_id;
    p->xid = p->txn.hdr.cxid;
    p->op = b.conn ? b.op : p->txn.hdr.type;
    p->started_ms = b.conn ? b.started_ms : server_mono_ms(srv);
    switch (p->txn.hdr.type) {
    case ZOO_OP_CREATESESSION:
        p->kind = PIPE_CONNECT;
        p->timeout_ms = p->txn.u.create_session.timeout_ms;
        break;
    case ZOO_OP_CLOSESESSION:
        p->kind = b.conn ? PIPE_CLOSE : PIPE_EXPIRE;
        break;
    default:
        p->kind = b.conn ? PIPE_REQUEST : PIPE_SERVER;
        break;
    }
    /* A bound connection's n_pending was counted when its request was forwarded. */
    if (srv->pend_tail)
        srv->pend_tail->next = p;
    else
        srv->pend_head = p;
    srv->pend_tail = p;
    return 0;
}

void pipeline_drop_after(struct server *srv, int64_t zxid)
{
    struct pending **pp = &srv->pend_head;
    srv->pend_tail = NULL;
    while (*pp) {
        struct pending *p = *pp;
        if (p->txn.hdr.zxid > zxid) {
            *pp = p->next;
            if (p->conn)
                conn_close(p->conn, "txn truncated by the leader");
            pending_free(p);
            continue;
        }
        srv->pend_tail = p;
        pp = &p->next;
    }
}

/* ---- replies to writes ---------------------------------------------------------------- */

static void put_result_body(struct jute_out *out, int32_t op, const struct tree_result *r)
{
    switch (op) {
    case ZOO_OP_CREATE: {
        struct jute_path_response p = {.path = r->path};
        jute_put_path_response(out, &p);
        break;
    }
    case ZOO_OP_CREATE2:
    case ZOO_OP_CREATECONTAINER:
    case ZOO_OP_CREATETTL: {
        struct jute_create2_response p = {.path = r->path, .stat = r->stat};
        jute_put_create2_response(out, &p);
        break;
    }
    case ZOO_OP_SETDATA:
    case ZOO_OP_SETACL:
        jute_put_stat(out, &r->stat);
        break;
    default: /* delete, check, closeSession: no body */
        break;
    }
}

/* MultiResponse: a (MultiHeader, result) per op, then {-1, true, -1}. */
static void put_multi_results(struct jute_out *out, const struct tree_result *r)
{
    for (int32_t i = 0; i < r->n_sub; i++) {
        const struct tree_result *s = &r->sub[i];
        /* Container and TTL creates answer as create2 (a CreateResult with a stat). */
        int32_t type = s->type;
        if (type == ZOO_OP_CREATECONTAINER || type == ZOO_OP_CREATETTL)
            type = ZOO_OP_CREATE2;
        struct jute_multi_header h = {.type = type, .done = false, .err = 0};
        if (s->type == ZOO_OP_ERROR)
            h.err = s->err;
        jute_put_multi_header(out, &h);
        if (s->type == ZOO_OP_ERROR)
            jute_put_int(out, s->err);
        else
            put_result_body(out, type, s);
    }
    struct jute_multi_header end = {.type = -1, .done = true, .err = -1};
    jute_put_multi_header(out, &end);
}

static void answer_request(struct conn *c, const struct pending *p, const struct tree_result *res)
{
    int64_t zxid = p->txn.hdr.zxid;
    if (p->op == ZOO_OP_MULTI) {
        /* A failed multi still says ZOK in the header; the errors are per op. */
        size_t at = conn_reply_begin(c, p->xid, zxid, ZOK);
        put_multi_results(&c->out, res);
        conn_reply_end(c, at);
    } else if (res->err != ZOK) {
        conn_reply_empty(c, p->xid, zxid, res->err);
    } else {
        size_t at = conn_reply_begin(c, p->xid, zxid, ZOK);
        put_result_body(&c->out, p->op, res);
        conn_reply_end(c, at);
    }
    conn_note_latency(c, p->started_ms, dispatch_op_name(p->op), p->xid, zxid, true);
}

/* The session's txn is applied: finish what its kind asks. */
static void finish(struct server *srv, struct pending *p, const struct tree_result *res)
{
    struct conn *c = p->conn;
    switch (p->kind) {
    case PIPE_REQUEST:
        if (c)
            answer_request(c, p, res);
        break;
    case PIPE_CONNECT: {
        struct session *s = NULL;
        int rc = sess_add(&srv->sessions, p->session_id, p->timeout_ms, server_mono_ms(srv), &s);
        if (rc != 0) {
            pd_error("out of memory adding session 0x%" PRIx64, (uint64_t)p->session_id);
            if (c)
                conn_close(c, "out of memory");
            break;
        }
        if (c) {
            c->is_connecting = false;
            dispatch_connected(c, s, p->timeout_ms);
        }
        break;
    }
    case PIPE_CLOSE:
    case PIPE_EXPIRE: {
        struct session *s = sess_find(&srv->sessions, p->session_id);
        struct conn *owner = s ? s->conn : NULL;
        if (s) {
            if (owner)
                owner->sess = NULL;
            sess_remove(&srv->sessions, s);
        }
        if (p->kind == PIPE_CLOSE && c) {
            conn_reply_empty(c, p->xid, p->txn.hdr.zxid, ZOK);
            conn_note_latency(c, p->started_ms, "CLOS", p->xid, p->txn.hdr.zxid, true);
            conn_close(c, "client closed the session");
        }
        if (owner && owner != c)
            conn_close(owner, p->kind == PIPE_EXPIRE ? "session expired" : "session closed");
        break;
    }
    case PIPE_SERVER:
        break;
    }
}

size_t pipeline_apply_through(struct server *srv, int64_t zxid)
{
    if (srv->last_zxid >= zxid)
        return 0;
    /* Nobody is answered from these: they are not committed yet, and the clients that asked
     * (through the old leader) were disconnected when this server left its role. */
    size_t n = 0;
    for (struct pending *p = srv->pend_head; p && p->txn.hdr.zxid <= zxid; p = p->next) {
        hold_count(p->conn, -1);
        p->conn = NULL;
        n++;
    }
    if (n == 0)
        return 0;
    if (srv->durable_zxid < zxid)
        srv->durable_zxid = zxid;
    pipeline_commit(srv);
    return n;
}

void pipeline_commit(struct server *srv)
{
    while (srv->pend_head && srv->pend_head->txn.hdr.zxid <= srv->durable_zxid) {
        struct pending *p = srv->pend_head;
        srv->pend_head = p->next;
        if (!srv->pend_head)
            srv->pend_tail = NULL;
        struct tree_result res;
        if (tree_apply(srv->tree, &p->txn, &p->arena, &res) != 0) {
            /* The log has this txn but the tree could not take it: the replica no longer
             * matches its log. Stop rather than serve a tree that is wrong. */
            pd_error("fatal: out of memory applying txn 0x%" PRIx64 "; stopping the server",
                     (uint64_t)p->txn.hdr.zxid);
            server_fatal(srv);
            pending_free(p);
            return;
        }
        srv->last_zxid = p->txn.hdr.zxid;
        server_note_digest(srv, p->txn.hdr.zxid);
        finish(srv, p, &res);
        snapshotter_applied(srv);
        struct conn *c = p->conn;
        hold_count(c, -1);
        pending_free(p);
        /* Its reads were waiting for this connection's writes to be answered. */
        if (c && c->n_pending == 0 && c->is_held)
            conn_resume(c);
    }
}

void pipeline_conn_gone(struct server *srv, struct conn *c)
{
    for (struct pending *p = srv->pend_head; p; p = p->next)
        if (p->conn == c)
            p->conn = NULL;
    c->n_pending = 0;
    if (srv->quorum)
        quorum_conn_gone(srv, c);
}

void pipeline_fail_pending(struct server *srv)
{
    /* Nothing queued will become durable: answer none of it. The clients see their
     * connection close, as if the server had died, and find out after a restart. */
    struct pending *p = srv->pend_head;
    while (p) {
        struct pending *next = p->next;
        if (p->conn)
            conn_close(p->conn, "storage failed");
        if (p->kind == PIPE_CLOSE || p->kind == PIPE_EXPIRE) {
            struct session *s = sess_find(&srv->sessions, p->session_id);
            if (s)
                s->is_closing = false;
        }
        pending_free(p);
        p = next;
    }
    srv->pend_head = srv->pend_tail = NULL;
    tree_overlay_clear(srv->tree);
}

void pipeline_close(struct server *srv)
{
    struct pending *p = srv->pend_head;
    while (p) {
        struct pending *next = p->next;
        pending_free(p);
        p = next;
    }
    srv->pend_head = srv->pend_tail = NULL;
}
