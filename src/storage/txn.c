/*
 * The txn codec (txn.h): which record follows a TxnHeader of each type, as
 * SerializeUtils.deserializeTxn (top level) and DataTree.processTxn's multi
 * branch (sub-txns) of Apache ZooKeeper 3.8 read them.
 */
#include "storage/txn.h"

#include "common/err.h"

#include <string.h>

/*
 * Whether a txn of `type` may stand at the top level or in a multi: sessions
 * and reconfig only at the top level, check only in a multi.
 */
static bool fits(int32_t type, bool in_multi)
{
    switch (type) {
    case ZOO_OP_CREATESESSION:
    case ZOO_OP_CLOSESESSION:
    case ZOO_OP_RECONFIG:
        return !in_multi;
    case ZOO_OP_CHECK:
        return in_multi;
    default:
        return true;
    }
}

/* ---- encoding ------------------------------------------------------------------ */

/* The body of one txn (not its header); false for a type with no body record. */
static bool put_body(struct jute_out *out, int32_t type, const struct tree_txn *t, bool in_multi)
{
    if (!fits(type, in_multi))
        return false;
    switch (type) {
    case ZOO_OP_CREATESESSION:
        jute_put_create_session_txn(out, &t->u.create_session);
        return true;
    case ZOO_OP_CLOSESESSION:
        jute_put_close_session_txn(out, &t->u.close_session);
        return true;
    case ZOO_OP_CREATE:
    case ZOO_OP_CREATE2:
        jute_put_create_txn(out, &t->u.create);
        return true;
    case ZOO_OP_CREATETTL:
        jute_put_create_ttl_txn(out, &t->u.create_ttl);
        return true;
    case ZOO_OP_CREATECONTAINER:
        jute_put_create_container_txn(out, &t->u.create_container);
        return true;
    case ZOO_OP_DELETE:
    case ZOO_OP_DELETECONTAINER:
        jute_put_path_request(out, &t->u.del);
        return true;
    case ZOO_OP_SETDATA:
    case ZOO_OP_RECONFIG:
        /* reconfig is logged as a SetDataTxn of /zookeeper/config. */
        jute_put_set_data_txn(out, &t->u.set_data);
        return true;
    case ZOO_OP_SETACL:
        /* 3.8 has no setACL op in a multi, but its body is well defined. */
        jute_put_set_acl_txn(out, &t->u.set_acl);
        return true;
    case ZOO_OP_CHECK:
        jute_put_path_version_request(out, &t->u.check);
        return true;
    case ZOO_OP_ERROR:
        jute_put_error_txn(out, &t->u.error);
        return true;
    default:
        return false;
    }
}

int txn_encode(struct jute_out *out, const struct tree_txn *txn,
               const struct jute_txn_digest *digest)
{
    jute_put_txn_header(out, &txn->hdr);
    if (txn->hdr.type == ZOO_OP_MULTI) {
        if (txn->n_sub < 0 || (txn->n_sub > 0 && !txn->sub))
            return PD_EINVAL;
        jute_put_int(out, txn->n_sub);
        for (int32_t i = 0; i < txn->n_sub; i++) {
            const struct tree_txn *s = &txn->sub[i];
            jute_put_int(out, s->hdr.type);
            /* Txn.data is a buffer: a length word, patched once the body is out. */
            size_t at = out->len;
            jute_put_int(out, 0);
            if (!put_body(out, s->hdr.type, s, true))
                return PD_EINVAL;
            if (out->err)
                return out->err;
            jute_patch_int(out, at, (int32_t)(out->len - at - 4));
        }
    } else if (!put_body(out, txn->hdr.type, txn, false)) {
        return PD_EINVAL;
    }
    if (digest)
        jute_put_txn_digest(out, digest);
    return out->err;
}

/* ---- decoding ------------------------------------------------------------------ */

/* Reads the body of `type` into t->u; false for a type that has none here. */
static bool get_body(struct jute_in *in, int32_t type, struct tree_txn *t, bool in_multi)
{
    if (!fits(type, in_multi))
        return false;
    switch (type) {
    case ZOO_OP_CREATESESSION:
        jute_get_create_session_txn(in, &t->u.create_session);
        return true;
    case ZOO_OP_CLOSESESSION:
        jute_get_close_session_txn(in, &t->u.close_session);
        return true;
    case ZOO_OP_CREATE:
    case ZOO_OP_CREATE2:
        jute_get_create_txn(in, &t->u.create);
        return true;
    case ZOO_OP_CREATETTL:
        jute_get_create_ttl_txn(in, &t->u.create_ttl);
        return true;
    case ZOO_OP_CREATECONTAINER:
        jute_get_create_container_txn(in, &t->u.create_container);
        return true;
    case ZOO_OP_DELETE:
    case ZOO_OP_DELETECONTAINER:
        jute_get_path_request(in, &t->u.del);
        return true;
    case ZOO_OP_SETDATA:
    case ZOO_OP_RECONFIG:
        jute_get_set_data_txn(in, &t->u.set_data);
        return true;
    case ZOO_OP_SETACL:
        jute_get_set_acl_txn(in, &t->u.set_acl);
        return true;
    case ZOO_OP_CHECK:
        jute_get_path_version_request(in, &t->u.check);
        return true;
    case ZOO_OP_ERROR:
        jute_get_error_txn(in, &t->u.error);
        return true;
    default:
        return false;
    }
}

/*
 * The body of a top-level txn, with SerializeUtils' two fallbacks: a create
 * whose CreateTxn does not fit is re-read as CreateTxnV0 (parentCVersion -1),
 * and a closeSession whose CloseSessionTxn does not fit has no body.
 */
static void get_top_body(struct jute_in *in, struct tree_txn *t)
{
    struct jute_in save = *in;
    if (!get_body(in, t->hdr.type, t, false)) {
        in->err = PD_EMALFORMED;
        return;
    }
    if (in->err != PD_EMALFORMED)
        return;
    if (t->hdr.type == ZOO_OP_CREATE) {
        *in = save;
        struct jute_create_txn *c = &t->u.create;
        c->path = jute_get_string(in);
        c->data = jute_get_buffer(in);
        jute_get_acl_vec(in, &c->acl);
        c->ephemeral = jute_get_bool(in);
        c->parent_cversion = -1;
    } else if (t->hdr.type == ZOO_OP_CLOSESESSION) {
        *in = save;
        t->u.close_session.paths_to_delete = (struct jute_str_vec){0};
    }
}

static void get_multi(struct jute_in *in, struct tree_txn *t)
{
    struct jute_multi_txn mt;
    jute_get_multi_txn(in, &mt);
    if (in->err)
        return;
    t->n_sub = mt.count;
    if (mt.count == 0)
        return;
    t->sub = arena_alloc(in->arena, (size_t)mt.count * sizeof(*t->sub));
    if (!t->sub) {
        in->err = PD_ENOMEM;
        return;
    }
    for (int32_t i = 0; i < mt.count; i++) {
        struct tree_txn *s = &t->sub[i];
        memset(s, 0, sizeof(*s));
        s->hdr = t->hdr;
        s->hdr.type = mt.txns[i].type;
        if (mt.txns[i].data.len < 0) {
            in->err = PD_EMALFORMED;
            return;
        }
        struct jute_in sub;
        jute_in_init(&sub, mt.txns[i].data.data, (size_t)mt.txns[i].data.len, in->arena);
        if (!get_body(&sub, s->hdr.type, s, true) || (!sub.err && jute_in_left(&sub) != 0))
            sub.err = PD_EMALFORMED;
        if (sub.err) {
            in->err = sub.err;
            return;
        }
    }
}

int txn_decode(const void *data, size_t len, struct arena *a, struct tree_txn *out,
               struct jute_txn_digest *digest, bool *has_digest)
{
    struct jute_in in;
    jute_in_init(&in, data, len, a);
    memset(out, 0, sizeof(*out));
    if (has_digest)
        *has_digest = false;
    jute_get_txn_header(&in, &out->hdr);
    if (in.err)
        return in.err;
    if (out->hdr.type == ZOO_OP_MULTI)
        get_multi(&in, out);
    else
        get_top_body(&in, out);
    if (in.err)
        return in.err;
    size_t left = jute_in_left(&in);
    if (left == 0)
        return 0;
    /*
     * ZooKeeper appends exactly one TxnDigest (12 bytes) when digests are
     * enabled; anything else after the body means the body was misread.
     */
    struct jute_txn_digest d;
    jute_get_txn_digest(&in, &d);
    if (in.err || jute_in_left(&in) != 0)
        return PD_EMALFORMED;
    if (digest)
        *digest = d;
    if (has_digest)
        *has_digest = true;
    return 0;
}

int txn_peek_zxid(const void *data, size_t len, int64_t *zxid)
{
    if (len < TXN_HEADER_BYTES)
        return PD_EMALFORMED;
    const uint8_t *p = (const uint8_t *)data + 12;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    *zxid = (int64_t)v;
    return 0;
}

const char *txn_type_name(int32_t type)
{
    switch (type) {
    case ZOO_OP_NOTIFICATION:
        return "notification";
    case ZOO_OP_CREATE:
        return "create";
    case ZOO_OP_DELETE:
        return "delete";
    case ZOO_OP_SETDATA:
        return "setData";
    case ZOO_OP_SETACL:
        return "setACL";
    case ZOO_OP_CHECK:
        return "check";
    case ZOO_OP_MULTI:
        return "multi";
    case ZOO_OP_CREATE2:
        return "create2";
    case ZOO_OP_RECONFIG:
        return "reconfig";
    case ZOO_OP_CREATECONTAINER:
        return "createContainer";
    case ZOO_OP_DELETECONTAINER:
        return "deleteContainer";
    case ZOO_OP_CREATETTL:
        return "createTtl";
    case ZOO_OP_CREATESESSION:
        return "createSession";
    case ZOO_OP_CLOSESESSION:
        return "closeSession";
    case ZOO_OP_ERROR:
        return "error";
    default:
        return NULL;
    }
}
