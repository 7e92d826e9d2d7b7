/*
 * Request dispatch: the handshake, then every client request, in the order
 * the connection sent them. Reads are served from the committed tree; writes
 * become txns through tree_prep() and are committed with tree_apply().
 *
 * Standalone commit is immediate for now: the storage issue (#3) puts the
 * txn log and group-commit fsync between prep and apply, and then a
 * connection's later requests wait behind its pending writes.
 *
 * ZooKeeper behaviour copied here (FinalRequestProcessor, ZooKeeperServer):
 *   - a reply's zxid is the txn's zxid for writes, the last applied zxid for
 *     reads and pings, and 0 for auth replies;
 *   - failed writes still consume a zxid (they are logged as error txns);
 *   - a failed multi replies err 0 in the header and the errors per op;
 *   - getACL needs READ or ADMIN; without ADMIN digest ids read "user:x";
 *   - an unknown opcode gets UNIMPLEMENTED and the connection is closed;
 *   - auth with an unknown scheme or bad credentials gets AUTHFAILED and
 *     the connection is closed.
 */
#include "server/server.h"

#include "common/alloc.h"
#include "common/err.h"
#include "common/log.h"

#include <inttypes.h>
#include <string.h>

/* ---- replies ---------------------------------------------------------------- */

static size_t reply_begin(struct conn *c, int32_t xid, int64_t zxid, int32_t err)
{
    size_t at = jute_frame_begin(&c->out);
    struct jute_reply_header h = {.xid = xid, .zxid = zxid, .err = err};
    jute_put_reply_header(&c->out, &h);
    return at;
}

static void reply_end(struct conn *c, size_t at)
{
    jute_frame_end(&c->out, at);
    /* ServerStats' response sizes exclude the length word (ServerCnxn.serialize). */
    stats_add_response(&c->srv->stats, (int64_t)(c->out.len - at - 4));
    conn_sent(c);
}

static void reply_empty(struct conn *c, int32_t xid, int64_t zxid, int32_t err)
{
    reply_end(c, reply_begin(c, xid, zxid, err));
}

/* is_write: the request made a txn (mntr's updatelatency rather than readlatency). */
static void note_latency(struct conn *c, int64_t started_ms, const char *op, int32_t xid,
                         int64_t zxid, bool is_write)
{
    struct server *srv = c->srv;
    int64_t now = server_mono_ms(srv);
    int64_t lat = now - started_ms;
    if (lat < 0)
        lat = 0;
    c->last_latency_ms = lat;
    c->last_response_ms = now;
    c->last_op = op;
    /* As ServerCnxn.updateStatsForResponse: pings (xid -2) keep the last real cxid. */
    if (xid >= 0)
        c->last_cxid = xid;
    c->last_zxid = zxid;
    if (c->min_latency_ms < 0 || lat < c->min_latency_ms)
        c->min_latency_ms = lat;
    if (lat > c->max_latency_ms)
        c->max_latency_ms = lat;
    c->total_latency_ms += lat;
    c->n_latency++;
    stats_add_latency(&srv->stats, lat, is_write);
}

void dispatch_deliver(void *watcher, const struct jute_watcher_event *ev,
                      const struct jute_acl_vec *acl, void *ctx)
{
    (void)ctx;
    struct conn *c = watcher;
    /* As NIOServerCnxn.process: only a watcher allowed to READ the znode hears of it. */
    struct tree_auth who = {.ids = c->auth, .n_ids = c->n_auth, .is_super = c->is_super};
    if (acl && !tree_acl_check(acl, ZOO_PERM_READ, &who))
        return;
    /* ZooKeeper 3.8 sends notifications with zxid -1 (3.9 puts the txn's zxid there). */
    size_t at = reply_begin(c, ZOO_XID_NOTIFICATION, -1, ZOK);
    jute_put_watcher_event(&c->out, ev);
    reply_end(c, at);
}

static struct tree_auth auth_of(const struct conn *c)
{
    struct tree_auth a = {.ids = c->auth, .n_ids = c->n_auth, .is_super = c->is_super};
    return a;
}

/* ---- handshake -------------------------------------------------------------- */

static void send_connect_response(struct conn *c, int32_t timeout_ms, int64_t session_id,
                                  const uint8_t *passwd)
{
    static const uint8_t zeros[ZOO_PASSWD_LEN];
    size_t at = jute_frame_begin(&c->out);
    struct jute_connect_response r = {
        .protocol_version = 0,
        .timeout_ms = timeout_ms,
        .session_id = session_id,
        .passwd = {.data = passwd ? passwd : zeros, .len = ZOO_PASSWD_LEN},
        .read_only = false,
        .has_read_only = !c->is_old_client,
    };
    jute_put_connect_response(&c->out, &r);
    reply_end(c, at);
}

/* Commits a txn built outside tree_prep (session txns). */
static int commit(struct server *srv, struct tree_txn *txn, struct tree_result *res)
{
    int rc = tree_apply(srv->tree, txn, &srv->arena, res);
    if (rc == 0)
        srv->last_zxid = txn->hdr.zxid;
    return rc;
}

static void attach(struct conn *c, struct session *s)
{
    if (s->conn && s->conn != c) {
        /* The client moved to a new connection: the old one is dead to it. */
        s->conn->sess = NULL;
        conn_close(s->conn, "session reconnected on another connection");
    }
    s->conn = c;
    c->sess = s;
}

bool dispatch_connect(struct conn *c, const uint8_t *frame, size_t len)
{
    struct server *srv = c->srv;
    struct jute_in in;
    struct jute_connect_request req;
    jute_in_init(&in, frame, len, &srv->arena);
    jute_get_connect_request(&in, &req);
    if (in.err) {
        pd_warn("malformed ConnectRequest from %s:%d (%zu bytes); closing", c->peer_ip,
                c->peer_port, len);
        return false;
    }
    c->is_old_client = !req.has_read_only;
    if (req.last_zxid_seen > srv->last_zxid) {
        pd_info("Refusing session request for client %s:%d as it has seen zxid 0x%" PRIx64
                " our last zxid is 0x%" PRIx64 " client must try another server",
                c->peer_ip, c->peer_port, (uint64_t)req.last_zxid_seen, (uint64_t)srv->last_zxid);
        return false;
    }
    int32_t timeout = req.timeout_ms;
    int32_t lo = config_min_session_timeout_ms(&srv->cfg);
    int32_t hi = config_max_session_timeout_ms(&srv->cfg);
    if (timeout < lo)
        timeout = lo;
    if (timeout > hi)
        timeout = hi;
    int64_t now = server_mono_ms(srv);

    if (req.session_id != 0) {
        struct session *s = sess_find(&srv->sessions, req.session_id);
        if (s && s->conn && s->conn != c) {
            /* As ZooKeeper: a reattach closes the session's current connection before the
             * password is checked (the rightful owner reconnects if this one was wrong). */
            s->conn->sess = NULL;
            conn_close(s->conn, "session reattached from another connection");
            s->conn = NULL;
        }
        if (!s || s->is_closing || !sess_password_ok(req.session_id, &req.passwd)) {
            pd_info("Invalid session 0x%" PRIx64 " for client %s:%d, probably expired",
                    (uint64_t)req.session_id, c->peer_ip, c->peer_port);
            send_connect_response(c, 0, 0, NULL);
            conn_close(c, "invalid session");
            return true;
        }
        attach(c, s);
        sess_touch(&srv->sessions, s, now);
        uint8_t pw[ZOO_PASSWD_LEN];
        sess_password(s->id, pw);
        send_connect_response(c, timeout, s->id, pw);
        pd_debug("reopened session 0x%" PRIx64 " from %s:%d", (uint64_t)s->id, c->peer_ip,
                 c->peer_port);
        return true;
    }

    /* A new session is a createSession txn: it takes a zxid, as in ZooKeeper. */
    int64_t id = sess_new_id(&srv->sessions);
    struct tree_prep_ctx ctx = {
        .session_id = id,
        .cxid = 0,
        .zxid = srv->last_zxid + 1,
        .now_ms = server_wall_ms(),
        .ttl_enabled = srv->cfg.extended_types_enabled,
    };
    struct tree_txn txn;
    struct tree_result res;
    struct session *s;
    if (tree_prep(srv->tree, &ctx, ZOO_OP_CREATESESSION, &timeout, 0, &srv->arena, &txn) != 0 ||
        commit(srv, &txn, &res) != 0 || sess_add(&srv->sessions, id, timeout, now, &s) != 0) {
        pd_error("out of memory creating a session for %s:%d", c->peer_ip, c->peer_port);
        return false;
    }
    attach(c, s);
    uint8_t pw[ZOO_PASSWD_LEN];
    sess_password(id, pw);
    send_connect_response(c, timeout, id, pw);
    pd_info("Established session 0x%" PRIx64 " with negotiated timeout %d for client %s:%d",
            (uint64_t)id, timeout, c->peer_ip, c->peer_port);
    return true;
}

/* ---- session end -------------------------------------------------------------- */

/* Proposes and commits a closeSession txn: deletes the ephemerals, then the session. */
static int64_t close_session(struct server *srv, struct session *s, int32_t cxid)
{
    s->is_closing = true;
    struct tree_prep_ctx ctx = {
        .session_id = s->id,
        .cxid = cxid,
        .zxid = srv->last_zxid + 1,
        .now_ms = server_wall_ms(),
        .auth = NULL,
        .ttl_enabled = srv->cfg.extended_types_enabled,
        .session_is_closing = true,
    };
    struct tree_txn txn;
    struct tree_result res;
    if (tree_prep(srv->tree, &ctx, ZOO_OP_CLOSESESSION, NULL, 0, &srv->arena, &txn) != 0 ||
        commit(srv, &txn, &res) != 0) {
        pd_error("out of memory closing session 0x%" PRIx64 "; will retry", (uint64_t)s->id);
        s->is_closing = false;
        return -1;
    }
    int64_t zxid = txn.hdr.zxid;
    struct conn *c = s->conn;
    if (c)
        c->sess = NULL;
    sess_remove(&srv->sessions, s);
    return zxid;
}

void dispatch_expire_sessions(struct server *srv, int64_t now_mono_ms)
{
    struct session *s;
    while ((s = sess_next_expired(&srv->sessions, now_mono_ms)) != NULL) {
        pd_info("Expiring session 0x%" PRIx64 ", timeout of %dms exceeded", (uint64_t)s->id,
                s->timeout_ms);
        srv->stats.sessions_expired++;
        struct conn *c = s->conn;
        if (close_session(srv, s, 0) < 0) {
            sess_touch(&srv->sessions, s, now_mono_ms);
            break;
        }
        if (c)
            conn_close(c, "session expired");
        arena_reset(&srv->arena);
    }
}

void dispatch_reap_containers(struct server *srv)
{
    struct jute_str_vec paths;
    int max = srv->cfg.container_max_per_minute > 0 ? srv->cfg.container_max_per_minute : 10000;
    if (tree_reap_candidates(srv->tree, server_wall_ms(), 0, max, &srv->arena, &paths) != 0) {
        arena_reset(&srv->arena);
        return;
    }
    for (int32_t i = 0; i < paths.count; i++) {
        struct jute_path_request req = {.path = paths.items[i]};
        struct tree_prep_ctx ctx = {
            .session_id = 0,
            .cxid = 0,
            .zxid = srv->last_zxid + 1,
            .now_ms = server_wall_ms(),
            .auth = NULL,
            .ttl_enabled = srv->cfg.extended_types_enabled,
        };
        struct tree_txn txn;
        struct tree_result res;
        if (tree_prep(srv->tree, &ctx, ZOO_OP_DELETECONTAINER, &req, 1, &srv->arena, &txn) != 0)
            break;
        if (commit(srv, &txn, &res) != 0)
            break;
    }
    arena_reset(&srv->arena);
}

void dispatch_conn_gone(struct conn *c)
{
    if (c->state != CONN_NEW || c->sess)
        tree_watch_drop_all(c->srv->tree, c);
    if (c->sess) {
        c->sess->conn = NULL;
        c->sess = NULL;
    }
}

/* ---- writes --------------------------------------------------------------------- */

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
        if (s->type == ZOO_OP_ERROR) {
            jute_put_int(out, s->err);
        } else {
            put_result_body(out, type, s);
        }
    }
    struct jute_multi_header end = {.type = -1, .done = true, .err = -1};
    jute_put_multi_header(out, &end);
}

/* Preps, commits and answers one write. `req` is the decoded request for `op`. */
static void do_write(struct conn *c, int32_t xid, int32_t op, const void *req, int32_t n_ops)
{
    struct server *srv = c->srv;
    struct tree_auth who = auth_of(c);
    struct tree_prep_ctx ctx = {
        .session_id = c->sess->id,
        .cxid = xid,
        .zxid = srv->last_zxid + 1,
        .now_ms = server_wall_ms(),
        .auth = &who,
        .ttl_enabled = srv->cfg.extended_types_enabled,
        .session_is_closing = c->sess->is_closing,
    };
    struct tree_txn txn;
    struct tree_result res;
    if (tree_prep(srv->tree, &ctx, op, req, n_ops, &srv->arena, &txn) != 0 ||
        commit(srv, &txn, &res) != 0) {
        pd_error("out of memory processing a write from %s:%d", c->peer_ip, c->peer_port);
        conn_close(c, "out of memory");
        return;
    }
    int64_t zxid = txn.hdr.zxid;
    if (op == ZOO_OP_MULTI) {
        size_t at = reply_begin(c, xid, zxid, ZOK);
        put_multi_results(&c->out, &res);
        reply_end(c, at);
        return;
    }
    if (res.err != ZOK) {
        reply_empty(c, xid, zxid, res.err);
        return;
    }
    size_t at = reply_begin(c, xid, zxid, ZOK);
    put_result_body(&c->out, op, &res);
    reply_end(c, at);
}

/* Reads a multi request: (MultiHeader, op)* ended by a header with done set. */
static int decode_multi(struct jute_in *in, struct arena *a, struct tree_multi_op **ops_out,
                        int32_t *n_out, bool read_only)
{
    int32_t n = 0, cap = 0;
    struct tree_multi_op *ops = NULL;
    for (;;) {
        struct jute_multi_header h;
        jute_get_multi_header(in, &h);
        if (in->err)
            return in->err;
        if (h.done)
            break;
        if (n == cap) {
            int32_t ncap = cap ? cap * 2 : 8;
            struct tree_multi_op *nops = arena_alloc(a, (size_t)ncap * sizeof(*nops));
            if (!nops)
                return PD_ENOMEM;
            if (n)
                memcpy(nops, ops, (size_t)n * sizeof(*ops));
            ops = nops;
            cap = ncap;
        }
        struct tree_multi_op *op = &ops[n++];
        memset(op, 0, sizeof(*op));
        op->type = h.type;
        bool is_read = h.type == ZOO_OP_GETCHILDREN || h.type == ZOO_OP_GETDATA;
        if (is_read != read_only)
            return PD_EMALFORMED;
        switch (h.type) {
        case ZOO_OP_CREATE:
        case ZOO_OP_CREATE2:
        case ZOO_OP_CREATECONTAINER:
        case ZOO_OP_CREATETTL:
            jute_get_create_request(in, &op->req.create, h.type == ZOO_OP_CREATETTL);
            break;
        case ZOO_OP_DELETE:
        case ZOO_OP_CHECK:
            jute_get_path_version_request(in, &op->req.path_version);
            break;
        case ZOO_OP_SETDATA:
            jute_get_set_data_request(in, &op->req.set_data);
            break;
        case ZOO_OP_GETCHILDREN:
        case ZOO_OP_GETDATA:
            jute_get_path_watch_request(in, &op->req.path_watch);
            break;
        default:
            return PD_EMALFORMED;
        }
        if (in->err)
            return in->err;
    }
    *ops_out = ops;
    *n_out = n;
    return 0;
}

/* ---- reads ------------------------------------------------------------------------ */

/* Looks up a node and checks `perm`; returns ZOK, ZNONODE or ZNOAUTH. */
static int32_t find_checked(struct conn *c, const char *path, int perm, struct tree_node **out)
{
    struct tree_node *n = tree_find(c->srv->tree, path);
    if (!n)
        return ZNONODE;
    struct tree_auth who = auth_of(c);
    if (perm && !tree_acl_allows(c->srv->tree, n, perm, &who))
        return ZNOAUTH;
    *out = n;
    return ZOK;
}

static int32_t read_get_data(struct conn *c, const struct jute_path_watch_request *r,
                             struct jute_get_data_response *out)
{
    struct tree_node *n;
    int32_t err = find_checked(c, r->path, ZOO_PERM_READ, &n);
    if (err != ZOK)
        return err;
    if (r->watch)
        tree_watch_add(c->srv->tree, r->path, TREE_WATCH_DATA, c);
    out->data = tree_node_data(n);
    tree_node_stat(n, &out->stat);
    return ZOK;
}

static int32_t read_get_children(struct conn *c, const struct jute_path_watch_request *r,
                                 struct jute_get_children_response *out)
{
    struct tree_node *n;
    int32_t err = find_checked(c, r->path, ZOO_PERM_READ, &n);
    if (err != ZOK)
        return err;
    if (r->watch)
        tree_watch_add(c->srv->tree, r->path, TREE_WATCH_CHILD, c);
    if (tree_node_children(c->srv->tree, n, &c->srv->arena, &out->children) != 0)
        return ZSYSTEMERROR;
    tree_node_stat(n, &out->stat);
    return ZOK;
}

/* multiRead (22): each op answered on its own, errors per op. */
static void do_multi_read(struct conn *c, int32_t xid, const struct tree_multi_op *ops, int32_t n)
{
    struct server *srv = c->srv;
    size_t at = reply_begin(c, xid, srv->last_zxid, ZOK);
    for (int32_t i = 0; i < n; i++) {
        int32_t err;
        if (ops[i].type == ZOO_OP_GETDATA) {
            struct jute_get_data_response r;
            err = read_get_data(c, &ops[i].req.path_watch, &r);
            if (err == ZOK) {
                struct jute_multi_header h = {.type = ZOO_OP_GETDATA, .done = false, .err = 0};
                jute_put_multi_header(&c->out, &h);
                jute_put_get_data_response(&c->out, &r);
                continue;
            }
        } else {
            struct jute_get_children_response r;
            err = read_get_children(c, &ops[i].req.path_watch, &r);
            if (err == ZOK) {
                struct jute_multi_header h = {.type = ZOO_OP_GETCHILDREN, .done = false, .err = 0};
                jute_put_multi_header(&c->out, &h);
                jute_put_get_children_response(&c->out, &r, false);
                continue;
            }
        }
        struct jute_multi_header h = {.type = ZOO_OP_ERROR, .done = false, .err = err};
        jute_put_multi_header(&c->out, &h);
        jute_put_int(&c->out, err);
    }
    struct jute_multi_header end = {.type = -1, .done = true, .err = -1};
    jute_put_multi_header(&c->out, &end);
    reply_end(c, at);
}

static void do_get_acl(struct conn *c, int32_t xid, const char *path)
{
    struct server *srv = c->srv;
    struct tree_node *n;
    int32_t err = find_checked(c, path, ZOO_PERM_READ | ZOO_PERM_ADMIN, &n);
    if (err != ZOK) {
        reply_empty(c, xid, srv->last_zxid, err);
        return;
    }
    struct jute_get_acl_response r;
    tree_node_acl(srv->tree, n, &r.acl);
    tree_node_stat(n, &r.stat);
    struct tree_auth who = auth_of(c);
    if (!tree_acl_allows(srv->tree, n, ZOO_PERM_ADMIN, &who)) {
        /* Without ADMIN, digest ids are shown as "user:x" (ZOOKEEPER-1392). */
        struct jute_acl *copy = arena_alloc(&srv->arena, (size_t)r.acl.count * sizeof(*copy) + 1);
        if (!copy) {
            reply_empty(c, xid, srv->last_zxid, ZSYSTEMERROR);
            return;
        }
        for (int32_t i = 0; i < r.acl.count; i++) {
            copy[i] = r.acl.items[i];
            if (copy[i].id.scheme && strcmp(copy[i].id.scheme, "digest") == 0 && copy[i].id.id) {
                const char *colon = strchr(copy[i].id.id, ':');
                size_t ulen = colon ? (size_t)(colon - copy[i].id.id) : strlen(copy[i].id.id);
                char *masked = arena_alloc(&srv->arena, ulen + 3);
                if (!masked) {
                    reply_empty(c, xid, srv->last_zxid, ZSYSTEMERROR);
                    return;
                }
                memcpy(masked, copy[i].id.id, ulen);
                memcpy(masked + ulen, ":x", 3);
                copy[i].id.id = masked;
            }
        }
        r.acl.items = copy;
    }
    size_t at = reply_begin(c, xid, srv->last_zxid, ZOK);
    jute_put_get_acl_response(&c->out, &r);
    reply_end(c, at);
}

static void do_auth(struct conn *c, int32_t xid, const struct jute_auth_packet *ap)
{
    struct server *srv = c->srv;
    int32_t err = ZAUTHFAILED;
    if (ap->scheme && strcmp(ap->scheme, "digest") == 0 && ap->auth.len >= 0) {
        /* ZooKeeper takes any digest credential, even without a colon: only ACL
         * matching decides what it is worth. */
        size_t id_len = (size_t)ap->auth.len + 64;
        char *cred = arena_alloc(&srv->arena, (size_t)ap->auth.len + 1);
        char *id = arena_alloc(&srv->arena, id_len);
        if (cred) {
            memcpy(cred, ap->auth.data, (size_t)ap->auth.len);
            cred[ap->auth.len] = '\0';
        }
        if (cred && id && tree_digest_id(cred, id, id_len) == 0) {
            if (conn_add_auth(c, "digest", id) == 0) {
                err = ZOK;
                if (srv->cfg.super_digest && strcmp(srv->cfg.super_digest, id) == 0) {
                    c->is_super = true;
                    conn_add_auth(c, "super", "");
                }
            }
        }
    } else if (ap->scheme && strcmp(ap->scheme, "ip") == 0) {
        /* IPAuthenticationProvider: the id is the peer's address, whatever was sent. */
        err = conn_add_auth(c, "ip", c->peer_ip) == 0 ? ZOK : ZAUTHFAILED;
    }
    reply_empty(c, ZOO_XID_AUTH, 0, err);
    if (err != ZOK) {
        pd_warn("Authentication failed for scheme: %s from %s:%d", ap->scheme ? ap->scheme : "",
                c->peer_ip, c->peer_port);
        conn_close(c, "auth failed");
    }
    (void)xid;
}

static void do_whoami(struct conn *c, int32_t xid)
{
    struct server *srv = c->srv;
    struct jute_whoami_response r = {.count = 0, .items = NULL};
    r.items = arena_alloc(&srv->arena, (size_t)c->n_auth * sizeof(*r.items) + 1);
    if (!r.items) {
        reply_empty(c, xid, srv->last_zxid, ZSYSTEMERROR);
        return;
    }
    for (int i = 0; i < c->n_auth; i++) {
        const struct jute_id *id = &c->auth[i];
        r.items[r.count].auth_scheme = id->scheme;
        r.items[r.count].user = id->id;
        /* A digest id names its user without the hash (DigestAuthenticationProvider.getUserName).
         */
        const char *colon = strcmp(id->scheme, "digest") == 0 ? strchr(id->id, ':') : NULL;
        if (colon) {
            char *user = arena_alloc(&srv->arena, (size_t)(colon - id->id) + 1);
            if (!user) {
                reply_empty(c, xid, srv->last_zxid, ZSYSTEMERROR);
                return;
            }
            memcpy(user, id->id, (size_t)(colon - id->id));
            user[colon - id->id] = '\0';
            r.items[r.count].user = user;
        }
        r.count++;
    }
    size_t at = reply_begin(c, xid, srv->last_zxid, ZOK);
    jute_put_whoami_response(&c->out, &r);
    reply_end(c, at);
}

static const char *op_name(int32_t op)
{
    switch (op) {
    case ZOO_OP_CREATE:
        return "CREA";
    case ZOO_OP_DELETE:
        return "DELE";
    case ZOO_OP_EXISTS:
        return "EXIS";
    case ZOO_OP_GETDATA:
        return "GETD";
    case ZOO_OP_SETDATA:
        return "SETD";
    case ZOO_OP_GETACL:
        return "GETA";
    case ZOO_OP_SETACL:
        return "SETA";
    case ZOO_OP_GETCHILDREN:
        return "GETC";
    case ZOO_OP_SYNC:
        return "SYNC";
    case ZOO_OP_PING:
        return "PING";
    case ZOO_OP_GETCHILDREN2:
        return "GETC";
    case ZOO_OP_CHECK:
        return "CHEC";
    case ZOO_OP_MULTI:
        return "MULT";
    case ZOO_OP_CREATE2:
        return "CREA";
    case ZOO_OP_RECONFIG:
        return "RECO";
    case ZOO_OP_CHECKWATCHES:
        return "CHKW";
    case ZOO_OP_REMOVEWATCHES:
        return "REMW";
    case ZOO_OP_CREATECONTAINER:
        return "CREA";
    case ZOO_OP_CREATETTL:
        return "CREA";
    case ZOO_OP_MULTIREAD:
        return "MLTR";
    case ZOO_OP_AUTH:
        return "AUTH";
    case ZOO_OP_SETWATCHES:
        return "SETW";
    case ZOO_OP_SETWATCHES2:
        return "STW2";
    case ZOO_OP_GETEPHEMERALS:
        return "GETE";
    case ZOO_OP_GETALLCHILDRENNUMBER:
        return "GETACN";
    case ZOO_OP_ADDWATCH:
        return "ADDW";
    case ZOO_OP_WHOAMI:
        return "HOMI";
    case ZOO_OP_CLOSESESSION:
        return "CLOS";
    default:
        return "UNKN";
    }
}

/*
 * After decoding a request body: ZOK, MARSHALLINGERROR for bytes that are not
 * the record (ZooKeeper fails the request and keeps the connection), or
 * BADARGUMENTS for a string with a NUL in it (ZooKeeper's path check).
 */
static int32_t decode_status(struct conn *c, const struct jute_in *in, int32_t op)
{
    if (in->err == PD_ENOMEM) {
        conn_close(c, "out of memory decoding a request");
        return ZSYSTEMERROR;
    }
    if (in->err) {
        pd_warn("malformed %s request from %s:%d", op_name(op), c->peer_ip, c->peer_port);
        return ZMARSHALLINGERROR;
    }
    return in->has_nul ? ZBADARGUMENTS : ZOK;
}

/* ---- dispatch -------------------------------------------------------------------- */

void dispatch_request(struct conn *c, const uint8_t *frame, size_t len)
{
    struct server *srv = c->srv;
    int64_t started = server_mono_ms(srv);
    struct jute_in in;
    jute_in_init(&in, frame, len, &srv->arena);
    struct jute_request_header h;
    jute_get_request_header(&in, &h);
    if (in.err) {
        conn_close(c, "malformed request header");
        return;
    }
    if (!c->sess) {
        conn_close(c, "request on a connection without a session");
        return;
    }
    sess_touch(&srv->sessions, c->sess, started);
    int32_t xid = h.xid;
    int64_t zxid = srv->last_zxid;
    int32_t err = ZOK;

    switch (h.type) {
    case ZOO_OP_PING:
        reply_empty(c, ZOO_XID_PING, srv->last_zxid, ZOK);
        goto done;

    case ZOO_OP_CREATE:
    case ZOO_OP_CREATE2:
    case ZOO_OP_CREATECONTAINER:
    case ZOO_OP_CREATETTL: {
        struct jute_create_request r;
        jute_get_create_request(&in, &r, h.type == ZOO_OP_CREATETTL);
        if ((err = decode_status(c, &in, h.type)) != ZOK)
            break;
        do_write(c, xid, h.type, &r, 1);
        goto done;
    }
    case ZOO_OP_DELETE:
    case ZOO_OP_CHECK: {
        struct jute_path_version_request r;
        jute_get_path_version_request(&in, &r);
        if ((err = decode_status(c, &in, h.type)) != ZOK)
            break;
        do_write(c, xid, h.type, &r, 1);
        goto done;
    }
    case ZOO_OP_SETDATA: {
        struct jute_set_data_request r;
        jute_get_set_data_request(&in, &r);
        if ((err = decode_status(c, &in, h.type)) != ZOK)
            break;
        do_write(c, xid, h.type, &r, 1);
        goto done;
    }
    case ZOO_OP_SETACL: {
        struct jute_set_acl_request r;
        jute_get_set_acl_request(&in, &r);
        if ((err = decode_status(c, &in, h.type)) != ZOK)
            break;
        do_write(c, xid, h.type, &r, 1);
        goto done;
    }
    case ZOO_OP_MULTI: {
        struct tree_multi_op *ops = NULL;
        int32_t n = 0;
        int rc = decode_multi(&in, &srv->arena, &ops, &n, false);
        if (rc != 0)
            in.err = rc;
        if ((err = decode_status(c, &in, h.type)) != ZOK)
            break;
        if (in.has_nul) {
            err = ZBADARGUMENTS;
            break;
        }
        do_write(c, xid, ZOO_OP_MULTI, ops, n);
        goto done;
    }
    case ZOO_OP_CLOSESESSION: {
        struct session *s = c->sess;
        int64_t z = close_session(srv, s, xid);
        if (z < 0) {
            conn_close(c, "out of memory");
            return;
        }
        reply_empty(c, xid, z, ZOK);
        conn_close(c, "client closed the session");
        note_latency(c, started, "CLOS", xid, z, true);
        return;
    }
    case ZOO_OP_RECONFIG:
        /* As a ZooKeeper with reconfigEnabled=false: an error txn, RECONFIGDISABLED. */
        do_write(c, xid, ZOO_OP_RECONFIG, NULL, 0);
        goto done;

    case ZOO_OP_EXISTS: {
        struct jute_path_watch_request r;
        jute_get_path_watch_request(&in, &r);
        if ((err = decode_status(c, &in, h.type)) != ZOK)
            break;
        struct tree_node *n = tree_find(srv->tree, r.path);
        if (!n) {
            if (r.watch)
                tree_watch_add(srv->tree, r.path, TREE_WATCH_EXIST, c);
            err = ZNONODE;
            break;
        }
        if (r.watch)
            tree_watch_add(srv->tree, r.path, TREE_WATCH_DATA, c);
        struct jute_stat st;
        tree_node_stat(n, &st);
        size_t at = reply_begin(c, xid, zxid, ZOK);
        jute_put_stat(&c->out, &st);
        reply_end(c, at);
        goto done;
    }
    case ZOO_OP_GETDATA: {
        struct jute_path_watch_request r;
        jute_get_path_watch_request(&in, &r);
        if ((err = decode_status(c, &in, h.type)) != ZOK)
            break;
        struct jute_get_data_response resp;
        err = read_get_data(c, &r, &resp);
        if (err != ZOK)
            break;
        size_t at = reply_begin(c, xid, zxid, ZOK);
        jute_put_get_data_response(&c->out, &resp);
        reply_end(c, at);
        goto done;
    }
    case ZOO_OP_GETCHILDREN:
    case ZOO_OP_GETCHILDREN2: {
        struct jute_path_watch_request r;
        jute_get_path_watch_request(&in, &r);
        if ((err = decode_status(c, &in, h.type)) != ZOK)
            break;
        struct jute_get_children_response resp;
        err = read_get_children(c, &r, &resp);
        if (err != ZOK)
            break;
        size_t at = reply_begin(c, xid, zxid, ZOK);
        jute_put_get_children_response(&c->out, &resp, h.type == ZOO_OP_GETCHILDREN2);
        reply_end(c, at);
        goto done;
    }
    case ZOO_OP_GETACL: {
        struct jute_path_request r;
        jute_get_path_request(&in, &r);
        if ((err = decode_status(c, &in, h.type)) != ZOK)
            break;
        do_get_acl(c, xid, r.path);
        goto done;
    }
    case ZOO_OP_SYNC: {
        struct jute_path_request r;
        jute_get_path_request(&in, &r);
        if ((err = decode_status(c, &in, h.type)) != ZOK)
            break;
        struct jute_path_response resp = {.path = r.path};
        size_t at = reply_begin(c, xid, zxid, ZOK);
        jute_put_path_response(&c->out, &resp);
        reply_end(c, at);
        goto done;
    }
    case ZOO_OP_GETALLCHILDRENNUMBER: {
        struct jute_path_request r;
        jute_get_path_request(&in, &r);
        if ((err = decode_status(c, &in, h.type)) != ZOK)
            break;
        struct tree_node *n;
        err = find_checked(c, r.path, ZOO_PERM_READ, &n);
        if (err != ZOK)
            break;
        size_t at = reply_begin(c, xid, zxid, ZOK);
        jute_put_int(&c->out, (int32_t)tree_count_descendants(srv->tree, n));
        reply_end(c, at);
        goto done;
    }
    case ZOO_OP_GETEPHEMERALS: {
        struct jute_path_request r;
        jute_get_path_request(&in, &r);
        if ((err = decode_status(c, &in, h.type)) != ZOK)
            break;
        struct jute_get_ephemerals_response resp;
        if (tree_ephemerals(srv->tree, c->sess->id, r.path, &srv->arena, &resp.ephemerals) != 0) {
            err = ZSYSTEMERROR;
            break;
        }
        size_t at = reply_begin(c, xid, zxid, ZOK);
        jute_put_get_ephemerals_response(&c->out, &resp);
        reply_end(c, at);
        goto done;
    }
    case ZOO_OP_MULTIREAD: {
        struct tree_multi_op *ops = NULL;
        int32_t n = 0;
        int rc = decode_multi(&in, &srv->arena, &ops, &n, true);
        if (rc != 0)
            in.err = rc;
        if ((err = decode_status(c, &in, h.type)) != ZOK)
            break;
        do_multi_read(c, xid, ops, n);
        goto done;
    }
    case ZOO_OP_CHECKWATCHES:
    case ZOO_OP_REMOVEWATCHES: {
        struct jute_path_type_request r;
        jute_get_path_type_request(&in, &r);
        if ((err = decode_status(c, &in, h.type)) != ZOK)
            break;
        err = tree_watch_remove(srv->tree, r.path, r.type, c, h.type == ZOO_OP_CHECKWATCHES);
        if (err != ZOK)
            break;
        reply_empty(c, xid, zxid, ZOK);
        goto done;
    }
    case ZOO_OP_ADDWATCH: {
        struct jute_path_type_request r;
        jute_get_path_type_request(&in, &r);
        if ((err = decode_status(c, &in, h.type)) != ZOK)
            break;
        if (r.type != ZOO_ADD_WATCH_PERSISTENT && r.type != ZOO_ADD_WATCH_PERSISTENT_RECURSIVE) {
            /* AddWatchMode.fromZooDef throws for other modes. */
            err = ZMARSHALLINGERROR;
            break;
        }
        int kind = r.type == ZOO_ADD_WATCH_PERSISTENT_RECURSIVE ? TREE_WATCH_PERSISTENT_RECURSIVE
                                                                : TREE_WATCH_PERSISTENT;
        tree_watch_add(srv->tree, r.path, kind, c);
        /* The Java client reads an ErrorResponse body even on success. */
        size_t at = reply_begin(c, xid, zxid, ZOK);
        jute_put_int(&c->out, ZOK);
        reply_end(c, at);
        goto done;
    }
    case ZOO_OP_SETWATCHES:
    case ZOO_OP_SETWATCHES2: {
        struct jute_set_watches r;
        jute_get_set_watches(&in, &r, h.type == ZOO_OP_SETWATCHES2);
        if ((err = decode_status(c, &in, h.type)) != ZOK)
            break;
        tree_set_watches(srv->tree, &r, c);
        reply_empty(c, ZOO_XID_SET_WATCHES, zxid, ZOK);
        goto done;
    }
    case ZOO_OP_AUTH: {
        struct jute_auth_packet r;
        jute_get_auth_packet(&in, &r);
        if ((err = decode_status(c, &in, h.type)) != ZOK)
            break;
        do_auth(c, xid, &r);
        goto done;
    }
    case ZOO_OP_WHOAMI:
        do_whoami(c, xid);
        goto done;
    case ZOO_OP_SASL:
        err = ZUNIMPLEMENTED;
        break;
    default:
        pd_warn("Received packet at server of unknown type %d from %s:%d", h.type, c->peer_ip,
                c->peer_port);
        reply_empty(c, xid, -1, ZUNIMPLEMENTED);
        conn_close(c, "unknown request type");
        return;
    }
    /* An error reply with no body. */
    reply_empty(c, xid, zxid, err);
done:
    note_latency(c, started, op_name(h.type), xid, srv->last_zxid, srv->last_zxid != zxid);
}
