/*
 * Golden bytes from Apache ZooKeeper 3.8.0: frames recorded between kazoo 2.8
 * and a real standalone server by record_golden.py (see golden_frames.h for
 * the wire order), plus the txns that server wrote to its version-2/log.1.
 * Each is decoded with the jute_get_* of its record, its fields are checked,
 * and re-encoding must give back the exact bytes. Every truncation of every
 * golden message must then fail to decode, inside the bytes it was given.
 *
 * What the real bytes say (for the server and storage implementers):
 *
 * Handshake
 *   - kazoo's ConnectRequest is 45 bytes: it sends the readOnly byte, and a
 *     16-byte all-zero passwd (not an empty one) for a new session.
 *   - The server's ConnectResponse carries the readOnly byte too: 37 bytes
 *     (protocolVersion 0, negotiated timeout, sessionId, 16-byte passwd,
 *     readOnly 0).
 *   - Session ids: 0x0100000821ad0000. A standalone server puts server id 1
 *     (not 0) in the top byte, bits 16..55 are a millisecond clock, and the
 *     low 16 bits count sessions from 0 (SessionTrackerImpl's
 *     initializeNextSessionId: ((elapsed ms << 24) >>> 8) | (sid << 56)).
 *
 * ReplyHeader.zxid
 *   - On writes it is the zxid of the txn (create2 -> 2, createSession was 1,
 *     delete -> 8).
 *   - On reads (getData, exists, getChildren, getACL, sync), on error replies
 *     (exists/getData of a missing node: err -101 and NO body at all, a
 *     16-byte frame body) and on ping (xid -2) it is the server's last
 *     processed zxid at the time of the reply.
 *   - The auth reply (xid -4) has zxid 0, not the last zxid.
 *   - closeSession's reply carries the closeSession txn's zxid (9).
 *
 * Watches
 *   - The notification (xid -1) has zxid -1 (not the txn's zxid) and err 0;
 *     WatcherEvent{type 3 NodeDataChanged, state 3 SyncConnected, path}.
 *   - It is sent BEFORE the reply to the setData that fired it, on the same
 *     connection.
 *
 * Multi
 *   - Request: each op is MultiHeader{type, done=false, err=-1} + the op's
 *     request record; the end is MultiHeader{-1, done=true, -1}.
 *   - Response ok: MultiHeader{type, false, 0} per op + its result record:
 *     create -> path, setData -> Stat, check and delete -> nothing; same
 *     {-1, true, -1} end marker.
 *   - Response for a failed multi: ReplyHeader.err is 0 (ZOK), not the
 *     error; EVERY op becomes MultiHeader{-1, false, e} + ErrorResponse{e}
 *     (e repeated), with e = 0 for ops before the failing one, the real error
 *     (-103 BADVERSION) for the failing op and -2 RUNTIMEINCONSISTENCY for the
 *     ops after it. The failed multi still uses a zxid (7), which the reply
 *     carries.
 *   - The txn log entry of that failed multi is a MultiTxn with TxnHeader
 *     type 14 (multi, not error): ops before the failure keep their full
 *     txn (here a CreateTxn), the failing op is ErrorTxn{-103} and later ops
 *     ErrorTxn{-2}. Replaying it must apply nothing (DataTree rewrites the
 *     earlier sub-txns to errors when any sub-txn is an error). Its digest
 *     equals the previous txn's digest (tree unchanged).
 *
 * Txns and the tree
 *   - Every logged txn ends with a TxnDigest{version 2, digest} (3.6+).
 *   - createSession's TxnHeader has cxid 0; its body is the timeout (3000).
 *   - closeSession's body is CloseSessionTxn listing the session's ephemeral
 *     paths to delete.
 *   - CreateTxn.parentCVersion is the parent's cversion AFTER the create.
 *     Deleting a child does NOT increment the parent's cversion (only pzxid):
 *     /golden/m1 was created with parentCVersion 3 and deleted in the same
 *     multi, and the next create (m2) had parentCVersion 4.
 *   - Sequential names use the parent's cversion before the create:
 *     /golden/eph-0000000001 was created when /golden had cversion 1.
 *   - A check op in a multi is logged as CheckVersionTxn{path, version} with
 *     opcode 13, where version is the checked version PLUS ONE (check /golden
 *     version 1 is logged with 2: PrepRequestProcessor's checkAndIncVersion),
 *     like SetDataTxn's version, which is the node's new version. A delete is
 *     DeleteTxn{path}.
 *   - getChildren lists children in the server's hash order ("eph-...", then
 *     "acl"), not sorted.
 *
 * ACLs
 *   - getACL without ADMIN permission on the node returns digest ids with the
 *     password hash replaced: "alice:aYXl...=" comes back as "alice:x". After
 *     addAuth (digest alice:secret) the real id is returned.
 *   - The ephemeral node's stat has ephemeralOwner = the session id.
 */
#include "common/alloc.h"
#include "common/arena.h"
#include "common/err.h"
#include "golden_frames.h"
#include "jute/jute.h"
#include "t.h"

#include "../../fuzz/records_codec.h"

#include <stdlib.h>

#define SESSION_ID ((int64_t)0x0100000821ad0000LL)

/* A golden message being decoded: its body in an exact-size copy, an arena,
 * and an encoder that must reproduce the original bytes. */
struct gm {
    const struct golden_frame *f;
    uint8_t *body; /* exact-size malloc'd copy of the body */
    size_t body_len;
    struct arena arena;
    struct jute_in in;
    struct jute_out out;
    size_t frame_at;
};

static const struct golden_frame *find(const char *name)
{
    for (size_t i = 0; i < sizeof(golden_frames) / sizeof(golden_frames[0]); i++)
        if (strcmp(golden_frames[i].name, name) == 0)
            return &golden_frames[i];
    fprintf(stderr, "no golden frame %s\n", name);
    abort();
}

static void gm_open(struct gm *g, const char *name)
{
    g->f = find(name);
    const uint8_t *body = g->f->bytes;
    g->body_len = g->f->len;
    if (g->f->dir != GOLDEN_TXN) {
        size_t n = 0;
        CHECK_EQ_INT(jute_frame_peek(g->f->bytes, g->f->len, JUTE_MAX_BUFFER_DEFAULT, &n), 0);
        CHECK_EQ_INT(n, g->f->len - 4);
        CHECK_EQ_INT(jute_frame_peek(g->f->bytes, g->f->len - 1, JUTE_MAX_BUFFER_DEFAULT, &n),
                     PD_EAGAIN);
        body += 4;
        g->body_len -= 4;
    }
    g->body = malloc(g->body_len ? g->body_len : 1);
    memcpy(g->body, body, g->body_len);
    arena_init(&g->arena, 0);
    jute_in_init(&g->in, g->body, g->body_len, &g->arena);
    jute_out_init(&g->out);
    g->frame_at = g->f->dir != GOLDEN_TXN ? jute_frame_begin(&g->out) : 0;
}

/* Checks the whole body was decoded and that g->out reproduces the golden bytes. */
static void gm_close(struct gm *g)
{
    if (g->in.err || jute_in_left(&g->in))
        fprintf(stderr, "%s: err %d, %zu bytes left\n", g->f->name, g->in.err,
                jute_in_left(&g->in));
    CHECK_EQ_INT(g->in.err, 0);
    CHECK_EQ_INT(jute_in_left(&g->in), 0);
    if (g->f->dir != GOLDEN_TXN)
        jute_frame_end(&g->out, g->frame_at);
    CHECK_EQ_INT(g->out.err, 0);
    bool same = g->out.len == g->f->len && memcmp(g->out.data, g->f->bytes, g->f->len) == 0;
    if (!same)
        fprintf(stderr, "%s: re-encoding differs (%zu vs %zu bytes)\n", g->f->name, g->out.len,
                g->f->len);
    CHECK(same);
    jute_out_close(&g->out);
    arena_close(&g->arena);
    free(g->body);
}

static bool buf_is(struct jute_buf b, const char *s)
{
    return b.len == (int32_t)strlen(s) && memcmp(b.data, s, (size_t)b.len) == 0;
}

/* Decodes a request frame; re-encodes it into g->out. */
static void req(struct gm *g, const char *name, struct jute_request_header *h, struct rc_body *b)
{
    gm_open(g, name);
    rc_get_request(&g->in, h, b);
    rc_put_request(&g->out, h, b);
}

static void rsp(struct gm *g, const char *name, int32_t op, struct jute_reply_header *h,
                struct rc_body *b)
{
    gm_open(g, name);
    rc_get_reply(&g->in, op, h, b);
    rc_put_reply(&g->out, h, b);
}

static void txn(struct gm *g, const char *name, struct rc_txn *t)
{
    gm_open(g, name);
    rc_get_txn(&g->in, t);
    rc_put_txn(&g->out, t);
}

/* Times of the txns, from the log; replies' stats must agree with them. */
static int64_t txn_time(const char *name)
{
    struct gm g;
    struct rc_txn t;
    txn(&g, name, &t);
    int64_t time = t.hdr.time;
    gm_close(&g);
    return time;
}

static void check_world_anyone(const struct jute_acl *a, int32_t perms)
{
    CHECK_EQ_INT(a->perms, perms);
    CHECK_EQ_STR(a->id.scheme, "world");
    CHECK_EQ_STR(a->id.id, "anyone");
}

/* ---- handshake ---------------------------------------------------------------- */

static void test_connect(void)
{
    struct gm g;
    gm_open(&g, "req_connect");
    CHECK_EQ_INT(g.body_len, 45);
    struct jute_connect_request cr;
    jute_get_connect_request(&g.in, &cr);
    CHECK_EQ_INT(cr.protocol_version, 0);
    CHECK(cr.last_zxid_seen == 0);
    CHECK_EQ_INT(cr.timeout_ms, 3000);
    CHECK(cr.session_id == 0);
    CHECK_EQ_INT(cr.passwd.len, 16);
    CHECK(memcmp(cr.passwd.data, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16) == 0);
    CHECK(cr.has_read_only);
    CHECK(!cr.read_only);
    jute_put_connect_request(&g.out, &cr);
    gm_close(&g);

    gm_open(&g, "rsp_connect");
    CHECK_EQ_INT(g.body_len, 37);
    struct jute_connect_response rs;
    jute_get_connect_response(&g.in, &rs);
    CHECK_EQ_INT(rs.protocol_version, 0);
    CHECK_EQ_INT(rs.timeout_ms, 3000);
    CHECK(rs.session_id == SESSION_ID);
    CHECK_EQ_INT(rs.passwd.len, ZOO_PASSWD_LEN);
    CHECK(rs.has_read_only);
    CHECK(!rs.read_only);
    jute_put_connect_response(&g.out, &rs);
    gm_close(&g);
}

/* ---- creates ------------------------------------------------------------------ */

static void test_create2(void)
{
    struct gm g;
    struct jute_request_header h;
    struct rc_body b;
    req(&g, "req_create2", &h, &b);
    CHECK_EQ_INT(h.xid, 1);
    CHECK_EQ_INT(h.type, ZOO_OP_CREATE2);
    CHECK_EQ_STR(b.u.create.path, "/golden");
    CHECK(buf_is(b.u.create.data, "hello"));
    CHECK_EQ_INT(b.u.create.acl.count, 1);
    CHECK(!b.u.create.acl.is_null);
    check_world_anyone(&b.u.create.acl.items[0], ZOO_PERM_ALL);
    CHECK_EQ_INT(b.u.create.flags, ZOO_PERSISTENT);
    gm_close(&g);

    struct jute_reply_header rh;
    rsp(&g, "rsp_create2", ZOO_OP_CREATE2, &rh, &b);
    CHECK_EQ_INT(rh.xid, 1);
    CHECK(rh.zxid == 2);
    CHECK_EQ_INT(rh.err, ZOK);
    CHECK_EQ_STR(b.u.create2_rsp.path, "/golden");
    const struct jute_stat *s = &b.u.create2_rsp.stat;
    CHECK(s->czxid == 2 && s->mzxid == 2 && s->pzxid == 2);
    CHECK(s->ctime == s->mtime);
    CHECK(s->ctime == txn_time("txn_01_create2"));
    CHECK_EQ_INT(s->version, 0);
    CHECK_EQ_INT(s->cversion, 0);
    CHECK_EQ_INT(s->aversion, 0);
    CHECK(s->ephemeral_owner == 0);
    CHECK_EQ_INT(s->data_length, 5);
    CHECK_EQ_INT(s->num_children, 0);
    gm_close(&g);
}

static void test_create_with_acls(void)
{
    struct gm g;
    struct jute_request_header h;
    struct rc_body b;
    req(&g, "req_create_acl", &h, &b);
    CHECK_EQ_INT(h.xid, 2);
    CHECK_EQ_INT(h.type, ZOO_OP_CREATE);
    CHECK_EQ_STR(b.u.create.path, "/golden/acl");
    CHECK(buf_is(b.u.create.data, "secret"));
    CHECK_EQ_INT(b.u.create.acl.count, 2);
    check_world_anyone(&b.u.create.acl.items[0], ZOO_PERM_READ);
    CHECK_EQ_INT(b.u.create.acl.items[1].perms, ZOO_PERM_ALL);
    CHECK_EQ_STR(b.u.create.acl.items[1].id.scheme, "digest");
    CHECK_EQ_STR(b.u.create.acl.items[1].id.id, "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=");
    CHECK_EQ_INT(b.u.create.flags, ZOO_PERSISTENT);
    gm_close(&g);

    struct jute_reply_header rh;
    rsp(&g, "rsp_create_acl", ZOO_OP_CREATE, &rh, &b);
    CHECK_EQ_INT(rh.xid, 2);
    CHECK(rh.zxid == 3);
    CHECK_EQ_INT(rh.err, ZOK);
    CHECK_EQ_STR(b.u.path_rsp.path, "/golden/acl");
    gm_close(&g);
}

static void test_create2_ephemeral_sequential(void)
{
    struct gm g;
    struct jute_request_header h;
    struct rc_body b;
    req(&g, "req_create2_eph_seq", &h, &b);
    CHECK_EQ_INT(h.xid, 3);
    CHECK_EQ_INT(h.type, ZOO_OP_CREATE2);
    CHECK_EQ_STR(b.u.create.path, "/golden/eph-");
    CHECK_EQ_INT(b.u.create.data.len, 0); /* empty, not null */
    CHECK_EQ_INT(b.u.create.flags, ZOO_EPHEMERAL_SEQUENTIAL);
    gm_close(&g);

    struct jute_reply_header rh;
    rsp(&g, "rsp_create2_eph_seq", ZOO_OP_CREATE2, &rh, &b);
    CHECK_EQ_INT(rh.xid, 3);
    CHECK(rh.zxid == 4);
    CHECK_EQ_STR(b.u.create2_rsp.path, "/golden/eph-0000000001");
    const struct jute_stat *s = &b.u.create2_rsp.stat;
    CHECK(s->czxid == 4 && s->mzxid == 4 && s->pzxid == 4);
    CHECK(s->ephemeral_owner == SESSION_ID);
    CHECK_EQ_INT(s->data_length, 0);
    CHECK(s->ctime == txn_time("txn_03_create2"));
    gm_close(&g);
}

/* ---- reads, writes, watches ------------------------------------------------- */

static void test_get_data_set_data_watch(void)
{
    struct gm g;
    struct jute_request_header h;
    struct rc_body b;
    req(&g, "req_get_data_watch", &h, &b);
    CHECK_EQ_INT(h.xid, 4);
    CHECK_EQ_INT(h.type, ZOO_OP_GETDATA);
    CHECK_EQ_STR(b.u.path_watch.path, "/golden");
    CHECK(b.u.path_watch.watch);
    gm_close(&g);

    struct jute_reply_header rh;
    rsp(&g, "rsp_get_data_watch", ZOO_OP_GETDATA, &rh, &b);
    CHECK_EQ_INT(rh.xid, 4);
    CHECK(rh.zxid == 4); /* a read: the last processed zxid */
    CHECK(buf_is(b.u.get_data_rsp.data, "hello"));
    const struct jute_stat *s = &b.u.get_data_rsp.stat;
    CHECK(s->czxid == 2 && s->mzxid == 2 && s->pzxid == 4);
    CHECK_EQ_INT(s->version, 0);
    CHECK_EQ_INT(s->cversion, 2);
    CHECK_EQ_INT(s->num_children, 2);
    CHECK_EQ_INT(s->data_length, 5);
    gm_close(&g);

    req(&g, "req_set_data", &h, &b);
    CHECK_EQ_INT(h.xid, 5);
    CHECK_EQ_INT(h.type, ZOO_OP_SETDATA);
    CHECK_EQ_STR(b.u.set_data.path, "/golden");
    CHECK(buf_is(b.u.set_data.data, "world"));
    CHECK_EQ_INT(b.u.set_data.version, 0);
    gm_close(&g);

    /* The notification: xid -1, zxid -1, before the setData reply. */
    rsp(&g, "ntf_watch_event", ZOO_OP_NOTIFICATION, &rh, &b);
    CHECK_EQ_INT(rh.xid, ZOO_XID_NOTIFICATION);
    CHECK(rh.zxid == -1);
    CHECK_EQ_INT(rh.err, ZOK);
    CHECK_EQ_INT(b.shape, RC_EVENT);
    CHECK_EQ_INT(b.u.event.type, ZOO_EVENT_DATA_CHANGED);
    CHECK_EQ_INT(b.u.event.state, ZOO_STATE_SYNC_CONNECTED);
    CHECK_EQ_STR(b.u.event.path, "/golden");
    gm_close(&g);
    CHECK(find("ntf_watch_event") < find("rsp_set_data"));

    rsp(&g, "rsp_set_data", ZOO_OP_SETDATA, &rh, &b);
    CHECK_EQ_INT(rh.xid, 5);
    CHECK(rh.zxid == 5);
    s = &b.u.stat;
    CHECK(s->czxid == 2 && s->mzxid == 5 && s->pzxid == 4);
    CHECK_EQ_INT(s->version, 1);
    CHECK(s->mtime > s->ctime);
    CHECK(s->mtime == txn_time("txn_04_set_data"));
    CHECK_EQ_INT(s->data_length, 5);
    gm_close(&g);
}

static void test_missing_node_errors(void)
{
    static const char *const names[][2] = {{"req_exists_missing", "rsp_exists_missing"},
                                           {"req_get_data_missing", "rsp_get_data_missing"}};
    static const int32_t ops[] = {ZOO_OP_EXISTS, ZOO_OP_GETDATA};
    for (int i = 0; i < 2; i++) {
        struct gm g;
        struct jute_request_header h;
        struct rc_body b;
        req(&g, names[i][0], &h, &b);
        CHECK_EQ_INT(h.type, ops[i]);
        CHECK_EQ_STR(b.u.path_watch.path, "/missing");
        CHECK(!b.u.path_watch.watch);
        int32_t xid = h.xid;
        gm_close(&g);

        struct jute_reply_header rh;
        rsp(&g, names[i][1], ops[i], &rh, &b);
        CHECK_EQ_INT(rh.xid, xid);
        CHECK(rh.zxid == 5);
        CHECK_EQ_INT(rh.err, ZNONODE);
        CHECK_EQ_INT(b.shape, RC_EMPTY); /* no body after an error */
        CHECK_EQ_INT(g.body_len, 16);
        gm_close(&g);
    }
}

static void test_get_children(void)
{
    struct gm g;
    struct jute_request_header h;
    struct rc_body b;
    struct jute_reply_header rh;
    req(&g, "req_get_children", &h, &b);
    CHECK_EQ_INT(h.type, ZOO_OP_GETCHILDREN);
    CHECK_EQ_STR(b.u.path_watch.path, "/golden");
    gm_close(&g);
    rsp(&g, "rsp_get_children", ZOO_OP_GETCHILDREN, &rh, &b);
    CHECK(rh.zxid == 5);
    CHECK_EQ_INT(b.u.children_rsp.children.count, 2);
    CHECK_EQ_STR(b.u.children_rsp.children.items[0], "eph-0000000001"); /* hash order */
    CHECK_EQ_STR(b.u.children_rsp.children.items[1], "acl");
    gm_close(&g);

    req(&g, "req_get_children2", &h, &b);
    CHECK_EQ_INT(h.type, ZOO_OP_GETCHILDREN2);
    CHECK_EQ_STR(b.u.path_watch.path, "/golden");
    CHECK(!b.u.path_watch.watch);
    gm_close(&g);
    rsp(&g, "rsp_get_children2", ZOO_OP_GETCHILDREN2, &rh, &b);
    CHECK(rh.zxid == 5);
    CHECK_EQ_INT(b.u.children_rsp.children.count, 2);
    const struct jute_stat *s = &b.u.children_rsp.stat;
    CHECK(s->czxid == 2 && s->mzxid == 5 && s->pzxid == 4);
    CHECK_EQ_INT(s->cversion, 2);
    CHECK_EQ_INT(s->num_children, 2);
    gm_close(&g);
}

static void test_get_acl_redacted_then_authed(void)
{
    struct gm g;
    struct jute_request_header h;
    struct rc_body b;
    struct jute_reply_header rh;
    req(&g, "req_get_acl_redacted", &h, &b);
    CHECK_EQ_INT(h.type, ZOO_OP_GETACL);
    CHECK_EQ_STR(b.u.path.path, "/golden/acl");
    gm_close(&g);
    rsp(&g, "rsp_get_acl_redacted", ZOO_OP_GETACL, &rh, &b);
    CHECK(rh.zxid == 5);
    CHECK_EQ_INT(b.u.get_acl_rsp.acl.count, 2);
    check_world_anyone(&b.u.get_acl_rsp.acl.items[0], ZOO_PERM_READ);
    CHECK_EQ_STR(b.u.get_acl_rsp.acl.items[1].id.scheme, "digest");
    CHECK_EQ_STR(b.u.get_acl_rsp.acl.items[1].id.id, "alice:x"); /* no ADMIN: redacted */
    const struct jute_stat *s = &b.u.get_acl_rsp.stat;
    CHECK(s->czxid == 3 && s->mzxid == 3 && s->pzxid == 3);
    CHECK_EQ_INT(s->aversion, 0);
    CHECK_EQ_INT(s->data_length, 6);
    gm_close(&g);

    req(&g, "req_auth", &h, &b);
    CHECK_EQ_INT(h.xid, ZOO_XID_AUTH);
    CHECK_EQ_INT(h.type, ZOO_OP_AUTH);
    CHECK_EQ_INT(b.u.auth.type, 0);
    CHECK_EQ_STR(b.u.auth.scheme, "digest");
    CHECK(buf_is(b.u.auth.auth, "alice:secret"));
    gm_close(&g);
    rsp(&g, "rsp_auth", ZOO_OP_AUTH, &rh, &b);
    CHECK_EQ_INT(rh.xid, ZOO_XID_AUTH);
    CHECK(rh.zxid == 0); /* not the last zxid */
    CHECK_EQ_INT(rh.err, ZOK);
    CHECK_EQ_INT(g.body_len, 16);
    gm_close(&g);

    req(&g, "req_get_acl", &h, &b);
    CHECK_EQ_STR(b.u.path.path, "/golden/acl");
    gm_close(&g);
    rsp(&g, "rsp_get_acl", ZOO_OP_GETACL, &rh, &b);
    CHECK_EQ_STR(b.u.get_acl_rsp.acl.items[1].id.id, "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=");
    CHECK_EQ_INT(b.u.get_acl_rsp.acl.items[1].perms, ZOO_PERM_ALL);
    gm_close(&g);
}

/* ---- multi ---------------------------------------------------------------------- */

/* Returns the i-th op of a decoded multi, or NULL. */
static const struct rc_op *op_at(const struct rc_body *b, int i)
{
    const struct rc_op *op = b->u.multi.first;
    while (op && i-- > 0)
        op = op->next;
    return op;
}

static int op_count(const struct rc_body *b)
{
    int n = 0;
    for (const struct rc_op *op = b->u.multi.first; op; op = op->next)
        n++;
    return n;
}

static void check_end_marker(const struct rc_body *b)
{
    CHECK_EQ_INT(b->u.multi.end.type, -1);
    CHECK(b->u.multi.end.done);
    CHECK_EQ_INT(b->u.multi.end.err, -1);
}

static void test_multi_ok(void)
{
    struct gm g;
    struct jute_request_header h;
    struct rc_body b;
    req(&g, "req_multi_ok", &h, &b);
    CHECK_EQ_INT(h.xid, 12);
    CHECK_EQ_INT(h.type, ZOO_OP_MULTI);
    CHECK_EQ_INT(op_count(&b), 4);
    static const int32_t types[] = {ZOO_OP_CREATE, ZOO_OP_CHECK, ZOO_OP_SETDATA, ZOO_OP_DELETE};
    for (int i = 0; i < 4 && op_at(&b, i); i++) {
        CHECK_EQ_INT(op_at(&b, i)->h.type, types[i]);
        CHECK(!op_at(&b, i)->h.done);
        CHECK_EQ_INT(op_at(&b, i)->h.err, -1); /* requests send err -1 */
    }
    if (op_count(&b) == 4) {
        CHECK_EQ_STR(op_at(&b, 0)->body.u.create.path, "/golden/m1");
        CHECK(buf_is(op_at(&b, 0)->body.u.create.data, "m"));
        CHECK_EQ_STR(op_at(&b, 1)->body.u.path_version.path, "/golden");
        CHECK_EQ_INT(op_at(&b, 1)->body.u.path_version.version, 1);
        CHECK_EQ_STR(op_at(&b, 2)->body.u.set_data.path, "/golden/m1");
        CHECK(buf_is(op_at(&b, 2)->body.u.set_data.data, "mm"));
        CHECK_EQ_INT(op_at(&b, 2)->body.u.set_data.version, -1);
        CHECK_EQ_STR(op_at(&b, 3)->body.u.path_version.path, "/golden/m1");
        CHECK_EQ_INT(op_at(&b, 3)->body.u.path_version.version, -1);
    }
    check_end_marker(&b);
    gm_close(&g);

    struct jute_reply_header rh;
    rsp(&g, "rsp_multi_ok", ZOO_OP_MULTI, &rh, &b);
    CHECK_EQ_INT(rh.xid, 12);
    CHECK(rh.zxid == 6);
    CHECK_EQ_INT(rh.err, ZOK);
    CHECK_EQ_INT(op_count(&b), 4);
    for (int i = 0; i < 4 && op_at(&b, i); i++) {
        CHECK_EQ_INT(op_at(&b, i)->h.type, types[i]);
        CHECK(!op_at(&b, i)->h.done);
        CHECK_EQ_INT(op_at(&b, i)->h.err, 0);
    }
    if (op_count(&b) == 4) {
        CHECK_EQ_STR(op_at(&b, 0)->body.u.path_rsp.path, "/golden/m1");
        CHECK_EQ_INT(op_at(&b, 1)->body.shape, RC_EMPTY);
        const struct jute_stat *s = &op_at(&b, 2)->body.u.stat;
        CHECK(s->czxid == 6 && s->mzxid == 6 && s->pzxid == 6);
        CHECK_EQ_INT(s->version, 1);
        CHECK_EQ_INT(s->data_length, 2);
        CHECK(s->mtime == txn_time("txn_05_multi"));
        CHECK_EQ_INT(op_at(&b, 3)->body.shape, RC_EMPTY);
    }
    check_end_marker(&b);
    gm_close(&g);
}

static void test_multi_fail(void)
{
    struct gm g;
    struct jute_request_header h;
    struct rc_body b;
    req(&g, "req_multi_fail", &h, &b);
    CHECK_EQ_INT(h.xid, 13);
    CHECK_EQ_INT(op_count(&b), 3);
    if (op_count(&b) == 3) {
        CHECK_EQ_STR(op_at(&b, 0)->body.u.create.path, "/golden/m2");
        CHECK_EQ_INT(op_at(&b, 1)->h.type, ZOO_OP_CHECK);
        CHECK_EQ_INT(op_at(&b, 1)->body.u.path_version.version, 99);
        CHECK_EQ_INT(op_at(&b, 2)->h.type, ZOO_OP_SETDATA);
    }
    gm_close(&g);

    struct jute_reply_header rh;
    rsp(&g, "rsp_multi_fail", ZOO_OP_MULTI, &rh, &b);
    CHECK_EQ_INT(rh.xid, 13);
    CHECK(rh.zxid == 7);       /* the failed multi still took a zxid */
    CHECK_EQ_INT(rh.err, ZOK); /* the error is only in the results */
    CHECK_EQ_INT(op_count(&b), 3);
    static const int32_t errs[] = {ZOK, ZBADVERSION, ZRUNTIMEINCONSISTENCY};
    for (int i = 0; i < 3 && op_at(&b, i); i++) {
        const struct rc_op *op = op_at(&b, i);
        CHECK_EQ_INT(op->h.type, ZOO_OP_ERROR);
        CHECK(!op->h.done);
        CHECK_EQ_INT(op->h.err, errs[i]);
        CHECK_EQ_INT(op->body.shape, RC_INT);
        CHECK_EQ_INT(op->body.u.number, errs[i]); /* ErrorResponse repeats it */
    }
    check_end_marker(&b);
    gm_close(&g);
}

/* ---- delete, sync, ping, close -------------------------------------------------- */

static void test_delete_sync_ping_close(void)
{
    struct gm g;
    struct jute_request_header h;
    struct rc_body b;
    struct jute_reply_header rh;
    req(&g, "req_delete", &h, &b);
    CHECK_EQ_INT(h.xid, 14);
    CHECK_EQ_INT(h.type, ZOO_OP_DELETE);
    CHECK_EQ_STR(b.u.path_version.path, "/golden/acl");
    CHECK_EQ_INT(b.u.path_version.version, -1);
    gm_close(&g);
    rsp(&g, "rsp_delete", ZOO_OP_DELETE, &rh, &b);
    CHECK_EQ_INT(rh.xid, 14);
    CHECK(rh.zxid == 8);
    CHECK_EQ_INT(g.body_len, 16);
    gm_close(&g);

    req(&g, "req_sync", &h, &b);
    CHECK_EQ_INT(h.type, ZOO_OP_SYNC);
    CHECK_EQ_STR(b.u.path.path, "/golden");
    gm_close(&g);
    rsp(&g, "rsp_sync", ZOO_OP_SYNC, &rh, &b);
    CHECK(rh.zxid == 8); /* sync makes no txn */
    CHECK_EQ_STR(b.u.path_rsp.path, "/golden");
    gm_close(&g);

    req(&g, "req_ping", &h, &b);
    CHECK_EQ_INT(h.xid, ZOO_XID_PING);
    CHECK_EQ_INT(h.type, ZOO_OP_PING);
    CHECK_EQ_INT(g.body_len, 8);
    gm_close(&g);
    rsp(&g, "rsp_ping", ZOO_OP_PING, &rh, &b);
    CHECK_EQ_INT(rh.xid, ZOO_XID_PING);
    CHECK(rh.zxid == 8); /* the last processed zxid */
    CHECK_EQ_INT(rh.err, ZOK);
    gm_close(&g);

    req(&g, "req_close", &h, &b);
    CHECK_EQ_INT(h.xid, 16); /* an ordinary xid */
    CHECK_EQ_INT(h.type, ZOO_OP_CLOSESESSION);
    CHECK_EQ_INT(g.body_len, 8);
    gm_close(&g);
    rsp(&g, "rsp_close", ZOO_OP_CLOSESESSION, &rh, &b);
    CHECK_EQ_INT(rh.xid, 16);
    CHECK(rh.zxid == 9); /* the closeSession txn */
    CHECK_EQ_INT(rh.err, ZOK);
    gm_close(&g);
}

/* ---- the txn log ------------------------------------------------------------------ */

static void check_txn_header(const struct rc_txn *t, int32_t cxid, int64_t zxid, int32_t type)
{
    CHECK(t->hdr.client_id == SESSION_ID);
    CHECK_EQ_INT(t->hdr.cxid, cxid);
    CHECK(t->hdr.zxid == zxid);
    CHECK_EQ_INT(t->hdr.type, type);
    CHECK(t->has_digest);
    CHECK_EQ_INT(t->digest.version, 2);
}

/* Decodes a sub-txn's bytes as the create txn it holds. */
static void test_txns(void)
{
    struct gm g;
    struct rc_txn t;
    txn(&g, "txn_00_create_session", &t);
    check_txn_header(&t, 0, 1, ZOO_OP_CREATESESSION);
    CHECK_EQ_INT(t.body.u.create_session_txn.timeout_ms, 3000);
    int64_t t0 = t.hdr.time;
    gm_close(&g);

    txn(&g, "txn_01_create2", &t);
    check_txn_header(&t, 1, 2, ZOO_OP_CREATE2);
    CHECK(t.hdr.time >= t0);
    CHECK_EQ_STR(t.body.u.create_txn.path, "/golden");
    CHECK(buf_is(t.body.u.create_txn.data, "hello"));
    check_world_anyone(&t.body.u.create_txn.acl.items[0], ZOO_PERM_ALL);
    CHECK(!t.body.u.create_txn.ephemeral);
    CHECK_EQ_INT(t.body.u.create_txn.parent_cversion, 1); /* "/" after the create */
    gm_close(&g);

    txn(&g, "txn_02_create", &t);
    check_txn_header(&t, 2, 3, ZOO_OP_CREATE);
    CHECK_EQ_STR(t.body.u.create_txn.path, "/golden/acl");
    CHECK_EQ_INT(t.body.u.create_txn.acl.count, 2);
    CHECK_EQ_STR(t.body.u.create_txn.acl.items[1].id.id, "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=");
    CHECK_EQ_INT(t.body.u.create_txn.parent_cversion, 1);
    gm_close(&g);

    txn(&g, "txn_03_create2", &t);
    check_txn_header(&t, 3, 4, ZOO_OP_CREATE2);
    CHECK_EQ_STR(t.body.u.create_txn.path, "/golden/eph-0000000001"); /* resolved */
    CHECK(t.body.u.create_txn.ephemeral);
    CHECK_EQ_INT(t.body.u.create_txn.parent_cversion, 2);
    gm_close(&g);

    txn(&g, "txn_04_set_data", &t);
    check_txn_header(&t, 5, 5, ZOO_OP_SETDATA);
    CHECK_EQ_STR(t.body.u.set_data_txn.path, "/golden");
    CHECK(buf_is(t.body.u.set_data_txn.data, "world"));
    CHECK_EQ_INT(t.body.u.set_data_txn.version, 1); /* the new version */
    gm_close(&g);

    txn(&g, "txn_05_multi", &t);
    check_txn_header(&t, 12, 6, ZOO_OP_MULTI);
    const struct jute_multi_txn *mt = &t.body.u.multi_txn.txn;
    const struct rc_body *subs = t.body.u.multi_txn.subs;
    CHECK_EQ_INT(mt->count, 4);
    int64_t digest_after_multi = t.digest.tree_digest;
    if (mt->count == 4) {
        CHECK_EQ_INT(mt->txns[0].type, ZOO_OP_CREATE);
        CHECK_EQ_STR(subs[0].u.create_txn.path, "/golden/m1");
        CHECK_EQ_INT(subs[0].u.create_txn.parent_cversion, 3);
        CHECK_EQ_INT(mt->txns[1].type, ZOO_OP_CHECK);
        CHECK_EQ_STR(subs[1].u.path_version.path, "/golden");
        CHECK_EQ_INT(subs[1].u.path_version.version, 2); /* checked version + 1 */
        CHECK_EQ_INT(mt->txns[2].type, ZOO_OP_SETDATA);
        CHECK_EQ_INT(subs[2].u.set_data_txn.version, 1);
        CHECK_EQ_INT(mt->txns[3].type, ZOO_OP_DELETE);
        CHECK_EQ_STR(subs[3].u.path.path, "/golden/m1");
    }
    gm_close(&g);

    txn(&g, "txn_06_multi", &t);
    check_txn_header(&t, 13, 7, ZOO_OP_MULTI); /* a failed multi is still type multi */
    mt = &t.body.u.multi_txn.txn;
    subs = t.body.u.multi_txn.subs;
    CHECK_EQ_INT(mt->count, 3);
    if (mt->count == 3) {
        CHECK_EQ_INT(mt->txns[0].type, ZOO_OP_CREATE); /* kept whole before the failure */
        CHECK_EQ_STR(subs[0].u.create_txn.path, "/golden/m2");
        CHECK_EQ_INT(subs[0].u.create_txn.parent_cversion, 4); /* delete kept cversion */
        CHECK_EQ_INT(mt->txns[1].type, ZOO_OP_ERROR);
        CHECK_EQ_INT(subs[1].u.error_txn.err, ZBADVERSION);
        CHECK_EQ_INT(mt->txns[2].type, ZOO_OP_ERROR);
        CHECK_EQ_INT(subs[2].u.error_txn.err, ZRUNTIMEINCONSISTENCY);
    }
    CHECK(t.digest.tree_digest == digest_after_multi); /* the tree did not change */
    gm_close(&g);

    txn(&g, "txn_07_delete", &t);
    check_txn_header(&t, 14, 8, ZOO_OP_DELETE);
    CHECK_EQ_STR(t.body.u.path.path, "/golden/acl");
    gm_close(&g);

    txn(&g, "txn_08_close_session", &t);
    check_txn_header(&t, 16, 9, ZOO_OP_CLOSESESSION);
    CHECK_EQ_INT(t.body.shape, RC_CLOSE_SESSION_TXN);
    CHECK_EQ_INT(t.body.u.close_session_txn.paths_to_delete.count, 1);
    if (t.body.u.close_session_txn.paths_to_delete.count == 1)
        CHECK_EQ_STR(t.body.u.close_session_txn.paths_to_delete.items[0], "/golden/eph-0000000001");
    gm_close(&g);
}

/* ---- all golden messages: re-encode, truncate ------------------------------------- */

/* The opcode a golden message carries or answers (from its request's header). */
static int32_t golden_op(const struct golden_frame *f)
{
    if (strcmp(f->name, "ntf_watch_event") == 0)
        return ZOO_OP_NOTIFICATION;
    char req_name[64];
    snprintf(req_name, sizeof(req_name), "req_%s", f->name + 4);
    const struct golden_frame *r = find(req_name);
    struct jute_in in;
    jute_in_init(&in, r->bytes + 4, r->len - 4, NULL);
    struct jute_request_header h;
    jute_get_request_header(&in, &h);
    return h.type;
}

/* Decodes one golden body (whatever its kind); returns the reader's error. */
static int decode_any(const struct golden_frame *f, const uint8_t *body, size_t len,
                      struct arena *arena, size_t *left)
{
    struct jute_in in;
    jute_in_init(&in, body, len, arena);
    bool is_connect = strcmp(f->name + 4, "connect") == 0;
    if (f->dir == GOLDEN_TXN) {
        struct rc_txn t;
        rc_get_txn(&in, &t);
    } else if (is_connect && f->dir == GOLDEN_C2S) {
        struct jute_connect_request r;
        jute_get_connect_request(&in, &r);
    } else if (is_connect) {
        struct jute_connect_response r;
        jute_get_connect_response(&in, &r);
    } else if (f->dir == GOLDEN_C2S) {
        struct jute_request_header h;
        struct rc_body b;
        rc_get_request(&in, &h, &b);
    } else {
        struct jute_reply_header h;
        struct rc_body b;
        rc_get_reply(&in, golden_op(f), &h, &b);
    }
    *left = jute_in_left(&in);
    return in.err;
}

static void test_every_golden_truncation(void)
{
    int n = 0;
    for (size_t i = 0; i < sizeof(golden_frames) / sizeof(golden_frames[0]); i++) {
        const struct golden_frame *f = &golden_frames[i];
        size_t skip = f->dir == GOLDEN_TXN ? 0 : 4;
        const uint8_t *body = f->bytes + skip;
        size_t len = f->len - skip;
        struct arena arena;
        arena_init(&arena, 0);
        size_t left;
        CHECK_EQ_INT(decode_any(f, body, len, &arena, &left), 0);
        CHECK_EQ_INT(left, 0);
        bool optional_tail = strcmp(f->name + 4, "connect") == 0;
        for (size_t cut = 0; cut < len; cut++) {
            uint8_t *copy = malloc(cut ? cut : 1);
            memcpy(copy, body, cut);
            arena_reset(&arena);
            int err = decode_any(f, copy, cut, &arena, &left);
            free(copy);
            /* A txn cut exactly before its digest is a valid txn without one,
             * and a closeSession txn cut after its header is the pre-3.6 form. */
            bool ok = (optional_tail && cut == len - 1) ||
                      (f->dir == GOLDEN_TXN && cut == len - 12) ||
                      (strcmp(f->name, "txn_08_close_session") == 0 && cut == 32);
            if (err != (ok ? 0 : PD_EMALFORMED))
                fprintf(stderr, "%s cut at %zu of %zu: err %d\n", f->name, cut, len, err);
            CHECK_EQ_INT(err, ok ? 0 : PD_EMALFORMED);
            n++;
        }
        arena_close(&arena);
    }
    CHECK(n > 3000);
}

/* An OOM sweep over every golden message: PD_ENOMEM or success, no leak. */
static void test_every_golden_oom(void)
{
    for (size_t i = 0; i < sizeof(golden_frames) / sizeof(golden_frames[0]); i++) {
        const struct golden_frame *f = &golden_frames[i];
        size_t skip = f->dir == GOLDEN_TXN ? 0 : 4;
        bool done = false;
        for (long k = 0; k < 200 && !done; k++) {
            struct arena arena;
            arena_init(&arena, 64);
            size_t left;
            pd_alloc_fail_after(k, 1000000);
            int err = decode_any(f, f->bytes + skip, f->len - skip, &arena, &left);
            pd_alloc_fail_after(-1, 0);
            if (err == 0)
                done = true;
            else
                CHECK_EQ_INT(err, PD_ENOMEM);
            arena_close(&arena);
        }
        CHECK(done);
    }
}

int main(void)
{
    RUN(test_connect);
    RUN(test_create2);
    RUN(test_create_with_acls);
    RUN(test_create2_ephemeral_sequential);
    RUN(test_get_data_set_data_watch);
    RUN(test_missing_node_errors);
    RUN(test_get_children);
    RUN(test_get_acl_redacted_then_authed);
    RUN(test_multi_ok);
    RUN(test_multi_fail);
    RUN(test_delete_sync_ping_close);
    RUN(test_txns);
    RUN(test_every_golden_truncation);
    RUN(test_every_golden_oom);
    return t_done();
}
