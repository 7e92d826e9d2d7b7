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

/* ---- notifications ---------------------------------------------------------- */

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
    size_t at = conn_reply_begin(c, ZOO_XID_NOTIFICATION, -1, ZOK);
    jute_put_watcher_event(&c->out, ev);
    conn_reply_end(c, at);
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
    conn_reply_end(c, at);
}

/* Callers have already closed any other connection of the session (dispatch_connect). */
static void attach(struct conn *c, struct session *s)
{
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
    /* Quorum mode: only a server in BROADCAST serves clients, and a leader only with
     * leaderServes (otherwise "ZooKeeperServer not running": the connection is closed). */
    if (srv->quorum && !quorum_serves_clients(srv))
        return false;
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
    if (req.session_id != 0) {
        struct session *s = sess_find(&srv->sessions, req.session_id);
        if (s && s->conn && s->conn != c) {
            /* As ZooKeeper: a reattach closes the session's current connection before the
             * password is checked (the rightful owner reconnects if this one was wrong). */
            s->conn->sess = NULL;
            conn_close(s->conn, "session reattached from another connection");
            s->conn = NULL;
        }
        bool pw_ok = sess_password_ok(req.session_id, &req.passwd);
        /* A learner that does not know the session (yet: it may lag behind the leader) asks
         * the leader and answers once it knows (Learner.validateSession). */
        if (!s && pw_ok && srv->quorum && quorum_is_learner(srv) &&
            quorum_await_session(c, req.session_id, timeout))
            return true;
        if (!s || s->is_closing || !pw_ok) {
            dispatch_session_invalid(c, req.session_id);
            return true;
        }
        if (srv->quorum && quorum_is_learner(srv))
            quorum_revalidate(srv, s->id, timeout);
        dispatch_reopened(c, s, timeout);
        return true;
    }

    /* Quorum mode on a learner: the leader proposes the createSession txn. */
    if (srv->quorum && quorum_is_learner(srv))
        return quorum_forward_connect(c, sess_new_id(&srv->sessions), timeout);
    /* A new session is a createSession txn: it takes a zxid, as in ZooKeeper, and the
     * handshake is answered once that txn is durable (dispatch_connected). */
    struct pipeline_req pr = {
        .kind = PIPE_CONNECT,
        .conn = c,
        .session_id = sess_new_id(&srv->sessions),
        .timeout_ms = timeout,
    };
    int rc = pipeline_submit(srv, &pr);
    if (rc != 0) {
        /* PD_EIO: the txn log failed earlier (said once, in storage_thread.c); no new
         * session can be logged, so the client sees its connection close. */
        if (rc != PD_EIO)
            pd_error("out of memory creating a session for %s:%d", c->peer_ip, c->peer_port);
        return false;
    }
    c->is_connecting = true;
    return true;
}

void dispatch_reopened(struct conn *c, struct session *s, int32_t timeout_ms)
{
    attach(c, s);
    sess_touch(&c->srv->sessions, s, server_mono_ms(c->srv));
    uint8_t pw[ZOO_PASSWD_LEN];
    sess_password(s->id, pw);
    send_connect_response(c, timeout_ms, s->id, pw);
    pd_debug("reopened session 0x%" PRIx64 " from %s:%d", (uint64_t)s->id, c->peer_ip,
             c->peer_port);
}

void dispatch_session_invalid(struct conn *c, int64_t session_id)
{
    pd_info("Invalid session 0x%" PRIx64 " for client %s:%d, probably expired",
            (uint64_t)session_id, c->peer_ip, c->peer_port);
    send_connect_response(c, 0, 0, NULL);
    conn_close(c, "invalid session");
}

void dispatch_connected(struct conn *c, struct session *s, int32_t timeout_ms)
{
    attach(c, s);
    uint8_t pw[ZOO_PASSWD_LEN];
    sess_password(s->id, pw);
    send_connect_response(c, timeout_ms, s->id, pw);
    pd_info("Established session 0x%" PRIx64 " with negotiated timeout %d for client %s:%d",
            (uint64_t)s->id, timeout_ms, c->peer_ip, c->peer_port);
}

/* ---- session end -------------------------------------------------------------- */

/* Queues the closeSession txn that deletes the session's ephemerals and ends it. */
static int close_session(struct server *srv, struct session *s, enum pipe_kind kind, struct conn *c,
                         int32_t xid)
{
    struct pipeline_req pr = {
        .kind = kind,
        .conn = c,
        .session_id = s->id,
        .xid = xid,
        .op = ZOO_OP_CLOSESESSION,
        .session_is_closing = true,
    };
    int rc = pipeline_submit(srv, &pr);
    if (rc == 0)
        s->is_closing = true;
    return rc;
}

void dispatch_expire_sessions(struct server *srv, int64_t now_mono_ms)
{
    /* Quorum mode: the leader alone expires sessions (learners report activity in PINGs). */
    if (srv->quorum && !quorum_can_propose(srv))
        return;
    /* Closing a session is a txn: after a failed log write none can be logged, so
     * sessions stay (with their ephemerals) until the restart; nothing to say again. */
    if (srv->is_storage_failed)
        return;
    struct session *s;
    while ((s = sess_next_expired(&srv->sessions, now_mono_ms)) != NULL) {
        pd_info("Expiring session 0x%" PRIx64 ", timeout of %dms exceeded", (uint64_t)s->id,
                s->timeout_ms);
        if (s->is_closing)
            continue;
        srv->stats.sessions_expired++;
        if (close_session(srv, s, PIPE_EXPIRE, NULL, 0) != 0) {
            pd_error("out of memory expiring session 0x%" PRIx64 "; will retry", (uint64_t)s->id);
            sess_touch(&srv->sessions, s, now_mono_ms);
            break;
        }
    }
}

void dispatch_reap_containers(struct server *srv)
{
    if (srv->quorum && !quorum_can_propose(srv))
        return;
    struct jute_str_vec paths;
    int max = srv->cfg.container_max_per_minute > 0 ? srv->cfg.container_max_per_minute : 10000;
    if (tree_reap_candidates(srv->tree, server_wall_ms(), 0, max, &srv->arena, &paths) != 0) {
        arena_reset(&srv->arena);
        return;
    }
    for (int32_t i = 0; i < paths.count; i++) {
        struct jute_path_request req = {.path = paths.items[i]};
        struct pipeline_req pr = {
            .kind = PIPE_SERVER,
            .op = ZOO_OP_DELETECONTAINER,
            .request = &req,
            .n_ops = 1,
        };
        if (pipeline_submit(srv, &pr) != 0)
            break;
    }
    arena_reset(&srv->arena);
}

void dispatch_conn_gone(struct conn *c)
{
    pipeline_conn_gone(c->srv, c);
    if (c->state != CONN_NEW || c->sess)
        tree_watch_drop_all(c->srv->tree, c);
    if (c->sess) {
        c->sess->conn = NULL;
        c->sess = NULL;
    }
}

/* ---- writes --------------------------------------------------------------------- */

/* Queues one write; the pipeline answers it once its txn is durable and applied. */
static void do_write(struct conn *c, int32_t xid, int32_t op, const void *req, int32_t n_ops)
{
    struct tree_auth who = auth_of(c);
    struct pipeline_req pr = {
        .kind = PIPE_REQUEST,
        .conn = c,
        .session_id = c->sess->id,
        .xid = xid,
        .op = op,
        .request = req,
        .n_ops = n_ops,
        .auth = &who,
        .session_is_closing = c->sess->is_closing,
    };
    int rc = pipeline_submit(c->srv, &pr);
    if (rc == PD_EIO) {
        /* The txn log failed earlier: this write cannot be made durable, so it fails. */
        conn_reply_empty(c, xid, c->srv->last_zxid, ZSYSTEMERROR);
    } else if (rc != 0) {
        pd_error("out of memory processing a write from %s:%d", c->peer_ip, c->peer_port);
        conn_close(c, "out of memory");
    }
}

/* Reads a multi request: (MultiHeader, op)* ended by a header with done set. */
int dispatch_decode_multi(struct jute_in *in, struct arena *a, struct tree_multi_op **ops_out,
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
    size_t at = conn_reply_begin(c, xid, srv->last_zxid, ZOK);
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
    conn_reply_end(c, at);
}

static void do_get_acl(struct conn *c, int32_t xid, const char *path)
{
    struct server *srv = c->srv;
    struct tree_node *n;
    int32_t err = find_checked(c, path, ZOO_PERM_READ | ZOO_PERM_ADMIN, &n);
    if (err != ZOK) {
        conn_reply_empty(c, xid, srv->last_zxid, err);
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
            conn_reply_empty(c, xid, srv->last_zxid, ZSYSTEMERROR);
            return;
        }
        for (int32_t i = 0; i < r.acl.count; i++) {
            copy[i] = r.acl.items[i];
            if (copy[i].id.scheme && strcmp(copy[i].id.scheme, "digest") == 0 && copy[i].id.id) {
                const char *colon = strchr(copy[i].id.id, ':');
                size_t ulen = colon ? (size_t)(colon - copy[i].id.id) : strlen(copy[i].id.id);
                char *masked = arena_alloc(&srv->arena, ulen + 3);
                if (!masked) {
                    conn_reply_empty(c, xid, srv->last_zxid, ZSYSTEMERROR);
                    return;
                }
                memcpy(masked, copy[i].id.id, ulen);
                memcpy(masked + ulen, ":x", 3);
                copy[i].id.id = masked;
            }
        }
        r.acl.items = copy;
    }
    size_t at = conn_reply_begin(c, xid, srv->last_zxid, ZOK);
    jute_put_get_acl_response(&c->out, &r);
    conn_reply_end(c, at);
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
    conn_reply_empty(c, ZOO_XID_AUTH, 0, err);
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
        conn_reply_empty(c, xid, srv->last_zxid, ZSYSTEMERROR);
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
                conn_reply_empty(c, xid, srv->last_zxid, ZSYSTEMERROR);
                return;
            }
            memcpy(user, id->id, (size_t)(colon - id->id));
            user[colon - id->id] = '\0';
            r.items[r.count].user = user;
        }
        r.count++;
    }
    size_t at = conn_reply_begin(c, xid, srv->last_zxid, ZOK);
    jute_put_whoami_response(&c->out, &r);
    conn_reply_end(c, at);
}

bool dispatch_is_write(int32_t op)
{
    switch (op) {
    case ZOO_OP_CREATE:
    case ZOO_OP_CREATE2:
    case ZOO_OP_CREATECONTAINER:
    case ZOO_OP_CREATETTL:
    case ZOO_OP_DELETE:
    case ZOO_OP_SETDATA:
    case ZOO_OP_SETACL:
    case ZOO_OP_CHECK:
    case ZOO_OP_MULTI:
    case ZOO_OP_RECONFIG:
    case ZOO_OP_CLOSESESSION:
        return true;
    default:
        return false;
    }
}

const char *dispatch_op_name(int32_t op)
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
        pd_warn("malformed %s request from %s:%d", dispatch_op_name(op), c->peer_ip, c->peer_port);
        return ZMARSHALLINGERROR;
    }
    return in->has_nul ? ZBADARGUMENTS : ZOK;
}

/* ---- dispatch -------------------------------------------------------------------- */

bool dispatch_request(struct conn *c, const uint8_t *frame, size_t len)
{
    struct server *srv = c->srv;
    int64_t started = server_mono_ms(srv);
    struct jute_in in;
    jute_in_init(&in, frame, len, &srv->arena);
    struct jute_request_header h;
    jute_get_request_header(&in, &h);
    if (in.err) {
        conn_close(c, "malformed request header");
        return true;
    }
    /* Whatever this connection sends waits for its handshake's createSession to commit, and
     * anything answered at once waits for the connection's queued writes, so that replies
     * leave in request order. */
    if (c->is_connecting || (c->n_pending > 0 && !dispatch_is_write(h.type)))
        return false;
    if (!c->sess) {
        conn_close(c, "request on a connection without a session");
        return true;
    }
    sess_touch(&srv->sessions, c->sess, started);
    /* Quorum mode on a learner: writes, closeSession and sync go to the leader as REQUEST;
     * their answers come when the txn (or the leader's SYNC) arrives. */
    if (srv->quorum && quorum_is_learner(srv) &&
        (dispatch_is_write(h.type) || h.type == ZOO_OP_SYNC)) {
        size_t used = len - jute_in_left(&in);
        return quorum_forward(c, h.xid, h.type, frame + used, len - used, started);
    }
    int32_t xid = h.xid;
    int64_t zxid = srv->last_zxid;
    int32_t err = ZOK;

    switch (h.type) {
    case ZOO_OP_PING:
        conn_reply_empty(c, ZOO_XID_PING, srv->last_zxid, ZOK);
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
        return true;
    }
    case ZOO_OP_DELETE:
    case ZOO_OP_CHECK: {
        struct jute_path_version_request r;
        jute_get_path_version_request(&in, &r);
        if ((err = decode_status(c, &in, h.type)) != ZOK)
            break;
        do_write(c, xid, h.type, &r, 1);
        return true;
    }
    case ZOO_OP_SETDATA: {
        struct jute_set_data_request r;
        jute_get_set_data_request(&in, &r);
        if ((err = decode_status(c, &in, h.type)) != ZOK)
            break;
        do_write(c, xid, h.type, &r, 1);
        return true;
    }
    case ZOO_OP_SETACL: {
        struct jute_set_acl_request r;
        jute_get_set_acl_request(&in, &r);
        if ((err = decode_status(c, &in, h.type)) != ZOK)
            break;
        do_write(c, xid, h.type, &r, 1);
        return true;
    }
    case ZOO_OP_MULTI: {
        struct tree_multi_op *ops = NULL;
        int32_t n = 0;
        int rc = dispatch_decode_multi(&in, &srv->arena, &ops, &n, false);
        if (rc != 0)
            in.err = rc;
        if ((err = decode_status(c, &in, h.type)) != ZOK)
            break;
        if (in.has_nul) {
            err = ZBADARGUMENTS;
            break;
        }
        do_write(c, xid, ZOO_OP_MULTI, ops, n);
        return true;
    }
    case ZOO_OP_CLOSESESSION: {
        if (c->sess->is_closing) {
            /* Already closing (expired meanwhile): the close that is queued will do. */
            conn_close(c, "session already closing");
            return true;
        }
        if (close_session(srv, c->sess, PIPE_CLOSE, c, xid) != 0)
            conn_close(c, "out of memory");
        return true;
    }
    case ZOO_OP_RECONFIG:
        /* As a ZooKeeper with reconfigEnabled=false: an error txn, RECONFIGDISABLED. */
        do_write(c, xid, ZOO_OP_RECONFIG, NULL, 0);
        return true;

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
        size_t at = conn_reply_begin(c, xid, zxid, ZOK);
        jute_put_stat(&c->out, &st);
        conn_reply_end(c, at);
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
        size_t at = conn_reply_begin(c, xid, zxid, ZOK);
        jute_put_get_data_response(&c->out, &resp);
        conn_reply_end(c, at);
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
        size_t at = conn_reply_begin(c, xid, zxid, ZOK);
        jute_put_get_children_response(&c->out, &resp, h.type == ZOO_OP_GETCHILDREN2);
        conn_reply_end(c, at);
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
        size_t at = conn_reply_begin(c, xid, zxid, ZOK);
        jute_put_path_response(&c->out, &resp);
        conn_reply_end(c, at);
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
        size_t at = conn_reply_begin(c, xid, zxid, ZOK);
        jute_put_int(&c->out, (int32_t)tree_count_descendants(srv->tree, n));
        conn_reply_end(c, at);
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
        size_t at = conn_reply_begin(c, xid, zxid, ZOK);
        jute_put_get_ephemerals_response(&c->out, &resp);
        conn_reply_end(c, at);
        goto done;
    }
    case ZOO_OP_MULTIREAD: {
        struct tree_multi_op *ops = NULL;
        int32_t n = 0;
        int rc = dispatch_decode_multi(&in, &srv->arena, &ops, &n, true);
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
        conn_reply_empty(c, xid, zxid, ZOK);
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
        size_t at = conn_reply_begin(c, xid, zxid, ZOK);
        jute_put_int(&c->out, ZOK);
        conn_reply_end(c, at);
        goto done;
    }
    case ZOO_OP_SETWATCHES:
    case ZOO_OP_SETWATCHES2: {
        struct jute_set_watches r;
        jute_get_set_watches(&in, &r, h.type == ZOO_OP_SETWATCHES2);
        if ((err = decode_status(c, &in, h.type)) != ZOK)
            break;
        tree_set_watches(srv->tree, &r, c);
        conn_reply_empty(c, ZOO_XID_SET_WATCHES, zxid, ZOK);
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
        conn_reply_empty(c, xid, -1, ZUNIMPLEMENTED);
        conn_close(c, "unknown request type");
        return true;
    }
    /* An error reply with no body: after the connection's queued writes, if any. */
    if (c->n_pending > 0)
        return false;
    conn_reply_empty(c, xid, zxid, err);
done:
    /* Only requests answered here get this far: writes are timed when the pipeline answers. */
    conn_note_latency(c, started, dispatch_op_name(h.type), xid, srv->last_zxid, false);
    return true;
}
