/*
 * Test helper: decode and re-encode whole client messages and txns by opcode,
 * on top of the per-record functions of jute.h. Shared by the fuzz target
 * (fuzz_records.c) and the golden-bytes test (tests/unit/jute/test_golden.c);
 * not part of Paddock itself, which dispatches on opcodes in server/.
 *
 * The opcode -> record mapping follows Apache ZooKeeper 3.8:
 *   requests      FinalRequestProcessor / PrepRequestProcessor
 *   multi ops     MultiOperationRecord (requests), MultiResponse (replies):
 *                 a MultiHeader before every op; {-1, done=true, -1} ends it
 *   replies       the *Response records, sent only when ReplyHeader.err == 0,
 *                 and a WatcherEvent when xid == -1
 *   txns          SerializeUtils.deserializeTxn, then a TxnDigest if bytes
 *                 remain (3.6+); a MultiTxn holds each sub-txn's bytes
 *
 * Everything decoded lives in the reader's arena or points into its input.
 * Functions are static inline so a file that uses part of them compiles
 * cleanly with -Wunused-function.
 */
#ifndef PD_TEST_RECORDS_CODEC_H
#define PD_TEST_RECORDS_CODEC_H

#include "common/arena.h"
#include "common/err.h"
#include "jute/jute.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* How the bytes after a header are laid out. */
enum rc_shape {
    RC_EMPTY,   /* nothing follows */
    RC_UNKNOWN, /* an opcode this helper does not know: bytes left unread */
    /* requests */
    RC_PATH_WATCH,
    RC_PATH,
    RC_PATH_VERSION,
    RC_PATH_TYPE,
    RC_CREATE,
    RC_CREATE_TTL,
    RC_SET_DATA,
    RC_SET_ACL,
    RC_RECONFIG,
    RC_AUTH,
    RC_SET_WATCHES,
    RC_SET_WATCHES2,
    RC_BUFFER, /* SASL token */
    RC_MULTI_REQ,
    /* replies */
    RC_PATH_RSP,
    RC_CREATE2_RSP,
    RC_STAT,
    RC_GET_DATA_RSP,
    RC_CHILDREN_RSP,
    RC_CHILDREN2_RSP,
    RC_GET_ACL_RSP,
    RC_EPHEMERALS_RSP,
    RC_WHOAMI_RSP,
    RC_INT, /* getAllChildrenNumber's count, a multi ErrorResult */
    RC_MULTI_RSP,
    RC_EVENT,
    /* txns */
    RC_CREATE_SESSION_TXN,
    RC_CLOSE_SESSION_TXN,
    RC_CREATE_TXN,
    RC_CREATE_TTL_TXN,
    RC_CREATE_CONTAINER_TXN,
    RC_SET_DATA_TXN,
    RC_SET_ACL_TXN,
    RC_ERROR_TXN,
    RC_MULTI_TXN,
};

struct rc_op;

struct rc_body {
    enum rc_shape shape;
    union {
        struct jute_path_watch_request path_watch;
        struct jute_path_request path;
        struct jute_path_version_request path_version;
        struct jute_path_type_request path_type;
        struct jute_create_request create;
        struct jute_set_data_request set_data;
        struct jute_set_acl_request set_acl;
        struct jute_reconfig_request reconfig;
        struct jute_auth_packet auth;
        struct jute_set_watches set_watches;
        struct jute_buf buf;
        struct jute_path_response path_rsp;
        struct jute_create2_response create2_rsp;
        struct jute_stat stat;
        struct jute_get_data_response get_data_rsp;
        struct jute_get_children_response children_rsp;
        struct jute_get_acl_response get_acl_rsp;
        struct jute_get_ephemerals_response ephemerals_rsp;
        struct jute_whoami_response whoami_rsp;
        int32_t number;
        struct jute_watcher_event event;
        struct jute_create_session_txn create_session_txn;
        struct jute_close_session_txn close_session_txn;
        struct jute_create_txn create_txn;
        struct jute_create_ttl_txn create_ttl_txn;
        struct jute_create_container_txn create_container_txn;
        struct jute_set_data_txn set_data_txn;
        struct jute_set_acl_txn set_acl_txn;
        struct jute_error_txn error_txn;
        struct {
            struct rc_op *first;          /* arena; in wire order */
            struct jute_multi_header end; /* the terminating header */
        } multi;
        struct {
            struct jute_multi_txn txn;
            struct rc_body *subs; /* arena; txn.count decoded sub-txn bodies */
        } multi_txn;
    } u;
};

/* One op of a multi request or response: its header, then its body. */
struct rc_op {
    struct jute_multi_header h;
    struct rc_body body;
    struct rc_op *next; /* arena */
};

/* A txn as logged and proposed: TxnHeader, body, optional TxnDigest. */
struct rc_txn {
    struct jute_txn_header hdr;
    struct rc_body body;
    bool has_digest;
    struct jute_txn_digest digest;
};

static inline enum rc_shape rc_request_shape(int32_t op)
{
    switch (op) {
    case ZOO_OP_CREATE:
    case ZOO_OP_CREATE2:
    case ZOO_OP_CREATECONTAINER:
        return RC_CREATE;
    case ZOO_OP_CREATETTL:
        return RC_CREATE_TTL;
    case ZOO_OP_DELETE:
    case ZOO_OP_CHECK:
        return RC_PATH_VERSION;
    case ZOO_OP_EXISTS:
    case ZOO_OP_GETDATA:
    case ZOO_OP_GETCHILDREN:
    case ZOO_OP_GETCHILDREN2:
        return RC_PATH_WATCH;
    case ZOO_OP_SETDATA:
        return RC_SET_DATA;
    case ZOO_OP_GETACL:
    case ZOO_OP_SYNC:
    case ZOO_OP_GETEPHEMERALS:
    case ZOO_OP_GETALLCHILDRENNUMBER:
    case ZOO_OP_DELETECONTAINER:
        return RC_PATH;
    case ZOO_OP_SETACL:
        return RC_SET_ACL;
    case ZOO_OP_PING:
    case ZOO_OP_CLOSESESSION:
    case ZOO_OP_WHOAMI:
        return RC_EMPTY;
    case ZOO_OP_MULTI:
    case ZOO_OP_MULTIREAD:
        return RC_MULTI_REQ;
    case ZOO_OP_RECONFIG:
        return RC_RECONFIG;
    case ZOO_OP_CHECKWATCHES:
    case ZOO_OP_REMOVEWATCHES:
    case ZOO_OP_ADDWATCH:
        return RC_PATH_TYPE;
    case ZOO_OP_AUTH:
        return RC_AUTH;
    case ZOO_OP_SETWATCHES:
        return RC_SET_WATCHES;
    case ZOO_OP_SETWATCHES2:
        return RC_SET_WATCHES2;
    case ZOO_OP_SASL:
        return RC_BUFFER;
    default:
        return RC_UNKNOWN;
    }
}

/* Ops allowed inside multi (14) and multiRead (22) requests. */
static inline bool rc_multi_op_ok(int32_t op)
{
    switch (op) {
    case ZOO_OP_CREATE:
    case ZOO_OP_CREATE2:
    case ZOO_OP_CREATETTL:
    case ZOO_OP_CREATECONTAINER:
    case ZOO_OP_DELETE:
    case ZOO_OP_SETDATA:
    case ZOO_OP_CHECK:
    case ZOO_OP_GETCHILDREN:
    case ZOO_OP_GETDATA:
        return true;
    default:
        return false;
    }
}

/* The body of a successful (err == 0) reply to `op`. */
static inline enum rc_shape rc_reply_shape(int32_t op)
{
    switch (op) {
    case ZOO_OP_CREATE:
    case ZOO_OP_SYNC:
        return RC_PATH_RSP;
    case ZOO_OP_CREATE2:
    case ZOO_OP_CREATECONTAINER:
    case ZOO_OP_CREATETTL:
        return RC_CREATE2_RSP;
    case ZOO_OP_EXISTS:
    case ZOO_OP_SETDATA:
    case ZOO_OP_SETACL:
        return RC_STAT;
    case ZOO_OP_GETDATA:
    case ZOO_OP_RECONFIG:
        return RC_GET_DATA_RSP;
    case ZOO_OP_GETCHILDREN:
        return RC_CHILDREN_RSP;
    case ZOO_OP_GETCHILDREN2:
        return RC_CHILDREN2_RSP;
    case ZOO_OP_GETACL:
        return RC_GET_ACL_RSP;
    case ZOO_OP_GETEPHEMERALS:
        return RC_EPHEMERALS_RSP;
    case ZOO_OP_GETALLCHILDRENNUMBER:
        return RC_INT;
    case ZOO_OP_WHOAMI:
        return RC_WHOAMI_RSP;
    case ZOO_OP_SASL:
        return RC_BUFFER;
    case ZOO_OP_MULTI:
    case ZOO_OP_MULTIREAD:
        return RC_MULTI_RSP;
    case ZOO_OP_DELETE:
    case ZOO_OP_CHECK:
    case ZOO_OP_PING:
    case ZOO_OP_CLOSESESSION:
    case ZOO_OP_AUTH:
    case ZOO_OP_SETWATCHES:
    case ZOO_OP_SETWATCHES2:
    case ZOO_OP_CHECKWATCHES:
    case ZOO_OP_REMOVEWATCHES:
    case ZOO_OP_ADDWATCH:
        return RC_EMPTY;
    default:
        return RC_UNKNOWN;
    }
}

/* The body after a MultiHeader in a multi response (MultiResponse.java). */
static inline enum rc_shape rc_multi_result_shape(int32_t type)
{
    switch (type) {
    case ZOO_OP_CREATE:
        return RC_PATH_RSP;
    case ZOO_OP_CREATE2:
    case ZOO_OP_CREATETTL:
    case ZOO_OP_CREATECONTAINER:
        return RC_CREATE2_RSP;
    case ZOO_OP_DELETE:
    case ZOO_OP_CHECK:
        return RC_EMPTY;
    case ZOO_OP_SETDATA:
        return RC_STAT;
    case ZOO_OP_GETDATA:
        return RC_GET_DATA_RSP;
    case ZOO_OP_GETCHILDREN:
        return RC_CHILDREN_RSP;
    case ZOO_OP_ERROR:
        return RC_INT;
    default:
        return RC_UNKNOWN;
    }
}

static inline enum rc_shape rc_txn_shape(int32_t type)
{
    switch (type) {
    case ZOO_OP_CREATESESSION:
        return RC_CREATE_SESSION_TXN;
    case ZOO_OP_CLOSESESSION:
        return RC_CLOSE_SESSION_TXN;
    case ZOO_OP_CREATE:
    case ZOO_OP_CREATE2:
        return RC_CREATE_TXN;
    case ZOO_OP_CREATETTL:
        return RC_CREATE_TTL_TXN;
    case ZOO_OP_CREATECONTAINER:
        return RC_CREATE_CONTAINER_TXN;
    case ZOO_OP_DELETE:
    case ZOO_OP_DELETECONTAINER:
        return RC_PATH;
    case ZOO_OP_SETDATA:
    case ZOO_OP_RECONFIG:
        return RC_SET_DATA_TXN;
    case ZOO_OP_SETACL:
        return RC_SET_ACL_TXN;
    case ZOO_OP_CHECK:
        return RC_PATH_VERSION;
    case ZOO_OP_ERROR:
        return RC_ERROR_TXN;
    case ZOO_OP_MULTI:
        return RC_MULTI_TXN;
    default:
        return RC_UNKNOWN;
    }
}

static inline void *rc_alloc(struct jute_in *in, size_t n)
{
    if (in->err)
        return NULL;
    void *p = arena_alloc(in->arena, n);
    if (!p)
        in->err = PD_ENOMEM;
    return p;
}

static inline void rc_get_body(struct jute_in *in, enum rc_shape shape, struct rc_body *b);

/* Reads MultiHeader + body pairs up to the done header. */
static inline void rc_get_multi(struct jute_in *in, bool is_reply, struct rc_body *b)
{
    struct rc_op **tail = &b->u.multi.first;
    *tail = NULL;
    memset(&b->u.multi.end, 0, sizeof(b->u.multi.end));
    while (!in->err) {
        struct jute_multi_header h;
        jute_get_multi_header(in, &h);
        if (in->err)
            return;
        if (h.done) {
            b->u.multi.end = h;
            return;
        }
        enum rc_shape shape =
            is_reply ? rc_multi_result_shape(h.type)
                     : (rc_multi_op_ok(h.type) ? rc_request_shape(h.type) : RC_UNKNOWN);
        if (shape == RC_UNKNOWN) {
            in->err = PD_EMALFORMED; /* Java: "Invalid type of op" */
            return;
        }
        struct rc_op *op = rc_alloc(in, sizeof(*op));
        if (!op)
            return;
        op->h = h;
        op->next = NULL;
        rc_get_body(in, shape, &op->body);
        *tail = op;
        tail = &op->next;
    }
}

/* Decodes each sub-txn of a MultiTxn from its own bytes, which it must fill exactly. */
static inline void rc_get_multi_txn(struct jute_in *in, struct rc_body *b)
{
    jute_get_multi_txn(in, &b->u.multi_txn.txn);
    b->u.multi_txn.subs = NULL;
    int32_t n = b->u.multi_txn.txn.count;
    if (in->err || n == 0)
        return;
    b->u.multi_txn.subs = rc_alloc(in, (size_t)n * sizeof(struct rc_body));
    for (int32_t i = 0; i < n && !in->err; i++) {
        const struct jute_txn *t = &b->u.multi_txn.txn.txns[i];
        enum rc_shape shape = rc_txn_shape(t->type);
        if (shape == RC_UNKNOWN || shape == RC_MULTI_TXN || t->data.len < 0) {
            in->err = PD_EMALFORMED;
            return;
        }
        struct jute_in sub;
        jute_in_init(&sub, t->data.data, (size_t)t->data.len, in->arena);
        rc_get_body(&sub, shape, &b->u.multi_txn.subs[i]);
        if (!sub.err && jute_in_left(&sub))
            sub.err = PD_EMALFORMED;
        in->err = sub.err;
    }
}

static inline void rc_get_body(struct jute_in *in, enum rc_shape shape, struct rc_body *b)
{
    b->shape = shape;
    switch (shape) {
    case RC_EMPTY:
    case RC_UNKNOWN:
        break;
    case RC_PATH_WATCH:
        jute_get_path_watch_request(in, &b->u.path_watch);
        break;
    case RC_PATH:
        jute_get_path_request(in, &b->u.path);
        break;
    case RC_PATH_VERSION:
        jute_get_path_version_request(in, &b->u.path_version);
        break;
    case RC_PATH_TYPE:
        jute_get_path_type_request(in, &b->u.path_type);
        break;
    case RC_CREATE:
        jute_get_create_request(in, &b->u.create, false);
        break;
    case RC_CREATE_TTL:
        jute_get_create_request(in, &b->u.create, true);
        break;
    case RC_SET_DATA:
        jute_get_set_data_request(in, &b->u.set_data);
        break;
    case RC_SET_ACL:
        jute_get_set_acl_request(in, &b->u.set_acl);
        break;
    case RC_RECONFIG:
        jute_get_reconfig_request(in, &b->u.reconfig);
        break;
    case RC_AUTH:
        jute_get_auth_packet(in, &b->u.auth);
        break;
    case RC_SET_WATCHES:
        jute_get_set_watches(in, &b->u.set_watches, false);
        break;
    case RC_SET_WATCHES2:
        jute_get_set_watches(in, &b->u.set_watches, true);
        break;
    case RC_BUFFER:
        b->u.buf = jute_get_buffer(in);
        break;
    case RC_MULTI_REQ:
        rc_get_multi(in, false, b);
        break;
    case RC_PATH_RSP:
        jute_get_path_response(in, &b->u.path_rsp);
        break;
    case RC_CREATE2_RSP:
        jute_get_create2_response(in, &b->u.create2_rsp);
        break;
    case RC_STAT:
        jute_get_stat(in, &b->u.stat);
        break;
    case RC_GET_DATA_RSP:
        jute_get_get_data_response(in, &b->u.get_data_rsp);
        break;
    case RC_CHILDREN_RSP:
        jute_get_get_children_response(in, &b->u.children_rsp, false);
        memset(&b->u.children_rsp.stat, 0, sizeof(b->u.children_rsp.stat));
        break;
    case RC_CHILDREN2_RSP:
        jute_get_get_children_response(in, &b->u.children_rsp, true);
        break;
    case RC_GET_ACL_RSP:
        jute_get_get_acl_response(in, &b->u.get_acl_rsp);
        break;
    case RC_EPHEMERALS_RSP:
        jute_get_get_ephemerals_response(in, &b->u.ephemerals_rsp);
        break;
    case RC_WHOAMI_RSP:
        jute_get_whoami_response(in, &b->u.whoami_rsp);
        break;
    case RC_INT:
        b->u.number = jute_get_int(in);
        break;
    case RC_MULTI_RSP:
        rc_get_multi(in, true, b);
        break;
    case RC_EVENT:
        jute_get_watcher_event(in, &b->u.event);
        break;
    case RC_CREATE_SESSION_TXN:
        jute_get_create_session_txn(in, &b->u.create_session_txn);
        break;
    case RC_CLOSE_SESSION_TXN:
        jute_get_close_session_txn(in, &b->u.close_session_txn);
        break;
    case RC_CREATE_TXN:
        jute_get_create_txn(in, &b->u.create_txn);
        break;
    case RC_CREATE_TTL_TXN:
        jute_get_create_ttl_txn(in, &b->u.create_ttl_txn);
        break;
    case RC_CREATE_CONTAINER_TXN:
        jute_get_create_container_txn(in, &b->u.create_container_txn);
        break;
    case RC_SET_DATA_TXN:
        jute_get_set_data_txn(in, &b->u.set_data_txn);
        break;
    case RC_SET_ACL_TXN:
        jute_get_set_acl_txn(in, &b->u.set_acl_txn);
        break;
    case RC_ERROR_TXN:
        jute_get_error_txn(in, &b->u.error_txn);
        break;
    case RC_MULTI_TXN:
        rc_get_multi_txn(in, b);
        break;
    }
}

static inline void rc_put_body(struct jute_out *out, const struct rc_body *b)
{
    switch (b->shape) {
    case RC_EMPTY:
    case RC_UNKNOWN:
        break;
    case RC_PATH_WATCH:
        jute_put_path_watch_request(out, &b->u.path_watch);
        break;
    case RC_PATH:
        jute_put_path_request(out, &b->u.path);
        break;
    case RC_PATH_VERSION:
        jute_put_path_version_request(out, &b->u.path_version);
        break;
    case RC_PATH_TYPE:
        jute_put_path_type_request(out, &b->u.path_type);
        break;
    case RC_CREATE:
        jute_put_create_request(out, &b->u.create, false);
        break;
    case RC_CREATE_TTL:
        jute_put_create_request(out, &b->u.create, true);
        break;
    case RC_SET_DATA:
        jute_put_set_data_request(out, &b->u.set_data);
        break;
    case RC_SET_ACL:
        jute_put_set_acl_request(out, &b->u.set_acl);
        break;
    case RC_RECONFIG:
        jute_put_reconfig_request(out, &b->u.reconfig);
        break;
    case RC_AUTH:
        jute_put_auth_packet(out, &b->u.auth);
        break;
    case RC_SET_WATCHES:
        jute_put_set_watches(out, &b->u.set_watches, false);
        break;
    case RC_SET_WATCHES2:
        jute_put_set_watches(out, &b->u.set_watches, true);
        break;
    case RC_BUFFER:
        jute_put_buffer(out, b->u.buf.data, b->u.buf.len);
        break;
    case RC_MULTI_REQ:
    case RC_MULTI_RSP:
        for (const struct rc_op *op = b->u.multi.first; op; op = op->next) {
            jute_put_multi_header(out, &op->h);
            rc_put_body(out, &op->body);
        }
        jute_put_multi_header(out, &b->u.multi.end);
        break;
    case RC_PATH_RSP:
        jute_put_path_response(out, &b->u.path_rsp);
        break;
    case RC_CREATE2_RSP:
        jute_put_create2_response(out, &b->u.create2_rsp);
        break;
    case RC_STAT:
        jute_put_stat(out, &b->u.stat);
        break;
    case RC_GET_DATA_RSP:
        jute_put_get_data_response(out, &b->u.get_data_rsp);
        break;
    case RC_CHILDREN_RSP:
        jute_put_get_children_response(out, &b->u.children_rsp, false);
        break;
    case RC_CHILDREN2_RSP:
        jute_put_get_children_response(out, &b->u.children_rsp, true);
        break;
    case RC_GET_ACL_RSP:
        jute_put_get_acl_response(out, &b->u.get_acl_rsp);
        break;
    case RC_EPHEMERALS_RSP:
        jute_put_get_ephemerals_response(out, &b->u.ephemerals_rsp);
        break;
    case RC_WHOAMI_RSP:
        jute_put_whoami_response(out, &b->u.whoami_rsp);
        break;
    case RC_INT:
        jute_put_int(out, b->u.number);
        break;
    case RC_EVENT:
        jute_put_watcher_event(out, &b->u.event);
        break;
    case RC_CREATE_SESSION_TXN:
        jute_put_create_session_txn(out, &b->u.create_session_txn);
        break;
    case RC_CLOSE_SESSION_TXN:
        jute_put_close_session_txn(out, &b->u.close_session_txn);
        break;
    case RC_CREATE_TXN:
        jute_put_create_txn(out, &b->u.create_txn);
        break;
    case RC_CREATE_TTL_TXN:
        jute_put_create_ttl_txn(out, &b->u.create_ttl_txn);
        break;
    case RC_CREATE_CONTAINER_TXN:
        jute_put_create_container_txn(out, &b->u.create_container_txn);
        break;
    case RC_SET_DATA_TXN:
        jute_put_set_data_txn(out, &b->u.set_data_txn);
        break;
    case RC_SET_ACL_TXN:
        jute_put_set_acl_txn(out, &b->u.set_acl_txn);
        break;
    case RC_ERROR_TXN:
        jute_put_error_txn(out, &b->u.error_txn);
        break;
    case RC_MULTI_TXN:
        jute_put_multi_txn(out, &b->u.multi_txn.txn);
        break;
    }
}

/* A client request body: RequestHeader, then the record for its opcode. */
static inline void rc_get_request(struct jute_in *in, struct jute_request_header *h,
                                  struct rc_body *b)
{
    jute_get_request_header(in, h);
    rc_get_body(in, in->err ? RC_EMPTY : rc_request_shape(h->type), b);
}

static inline void rc_put_request(struct jute_out *out, const struct jute_request_header *h,
                                  const struct rc_body *b)
{
    jute_put_request_header(out, h);
    rc_put_body(out, b);
}

/*
 * A server reply body to a request of opcode `op`: ReplyHeader, then a
 * WatcherEvent for xid -1, nothing when err != 0, else op's response record.
 */
static inline void rc_get_reply(struct jute_in *in, int32_t op, struct jute_reply_header *h,
                                struct rc_body *b)
{
    jute_get_reply_header(in, h);
    enum rc_shape shape = RC_EMPTY;
    if (in->err)
        shape = RC_EMPTY;
    else if (h->xid == ZOO_XID_NOTIFICATION)
        shape = RC_EVENT;
    else if (h->err == ZOK)
        shape = rc_reply_shape(op);
    rc_get_body(in, shape, b);
}

static inline void rc_put_reply(struct jute_out *out, const struct jute_reply_header *h,
                                const struct rc_body *b)
{
    jute_put_reply_header(out, h);
    rc_put_body(out, b);
}

/* A txn: TxnHeader, its body, and a TxnDigest when bytes remain. */
static inline void rc_get_txn(struct jute_in *in, struct rc_txn *t)
{
    jute_get_txn_header(in, &t->hdr);
    enum rc_shape shape = in->err ? RC_EMPTY : rc_txn_shape(t->hdr.type);
    /* Before 3.6 (or with closeSessionTxn disabled) closeSession has no body. */
    if (shape == RC_CLOSE_SESSION_TXN && jute_in_left(in) == 0)
        shape = RC_EMPTY;
    rc_get_body(in, shape, &t->body);
    t->has_digest = !in->err && shape != RC_UNKNOWN && jute_in_left(in) > 0;
    if (t->has_digest)
        jute_get_txn_digest(in, &t->digest);
}

static inline void rc_put_txn(struct jute_out *out, const struct rc_txn *t)
{
    jute_put_txn_header(out, &t->hdr);
    rc_put_body(out, &t->body);
    if (t->has_digest)
        jute_put_txn_digest(out, &t->digest);
}

#endif
