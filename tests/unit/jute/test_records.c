/*
 * Every record of jute.h, driven from one table of sample values:
 *   - round trip: encode, decode (from an exact-size copy), compare field by
 *     field, re-encode and compare bytes;
 *   - every truncation (each prefix 0..n-1) fails with PD_EMALFORMED without
 *     reading past the prefix (ASan watches the exact-size copies);
 *   - an OOM sweep: the 1st, 2nd, ... allocation fails; decoding ends in
 *     PD_ENOMEM or success, never anything else, and nothing leaks;
 * then the record-specific corners: null vectors, vector counts larger than
 * the bytes left, INT32_MAX counts refused before allocation, the optional
 * readOnly byte of the handshake (44 vs 45 bytes), and the v1/v2, TTL and
 * stat variants.
 */
#include "common/alloc.h"
#include "common/arena.h"
#include "common/err.h"
#include "jute/jute.h"
#include "t.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* ---- equality helpers ------------------------------------------------------ */

static bool str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool buf_eq(struct jute_buf a, struct jute_buf b)
{
    if (a.len < 0 || b.len < 0)
        return a.len < 0 && b.len < 0;
    return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, (size_t)a.len) == 0);
}

static bool id_eq(const struct jute_id *a, const struct jute_id *b)
{
    return str_eq(a->scheme, b->scheme) && str_eq(a->id, b->id);
}

static bool acl_eq(const struct jute_acl *a, const struct jute_acl *b)
{
    return a->perms == b->perms && id_eq(&a->id, &b->id);
}

static bool acl_vec_eq(const struct jute_acl_vec *a, const struct jute_acl_vec *b)
{
    if (a->is_null != b->is_null || a->count != b->count)
        return false;
    for (int32_t i = 0; i < a->count; i++)
        if (!acl_eq(&a->items[i], &b->items[i]))
            return false;
    return true;
}

static bool str_vec_eq(const struct jute_str_vec *a, const struct jute_str_vec *b)
{
    if (a->is_null != b->is_null || a->count != b->count)
        return false;
    for (int32_t i = 0; i < a->count; i++)
        if (!str_eq(a->items[i], b->items[i]))
            return false;
    return true;
}

static bool stat_eq(const struct jute_stat *a, const struct jute_stat *b)
{
    return a->czxid == b->czxid && a->mzxid == b->mzxid && a->ctime == b->ctime &&
           a->mtime == b->mtime && a->version == b->version && a->cversion == b->cversion &&
           a->aversion == b->aversion && a->ephemeral_owner == b->ephemeral_owner &&
           a->data_length == b->data_length && a->num_children == b->num_children &&
           a->pzxid == b->pzxid;
}

/* ---- samples --------------------------------------------------------------- */

#define BUF(s)  ((struct jute_buf){(const uint8_t *)(s), (int32_t)(sizeof(s) - 1)})
#define NULLBUF ((struct jute_buf){NULL, -1})
#define N(a)    ((int32_t)(sizeof(a) / sizeof((a)[0])))

static struct jute_acl acls[] = {
    {ZOO_PERM_ALL, {"world", "anyone"}},
    {ZOO_PERM_READ | ZOO_PERM_ADMIN, {"digest", "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="}},
    {ZOO_PERM_CREATE, {"ip", "127.0.0.1/8"}},
};
static const struct jute_acl_vec acl_vec = {N(acls), false, acls};
static const struct jute_acl_vec acl_vec_null = {0, true, NULL};
static const struct jute_acl_vec acl_vec_empty = {0, false, NULL};
static char *paths[] = {"/a", "/a/b", "", "/zookeeper/quota"};
static const struct jute_str_vec str_vec = {N(paths), false, paths};
static const struct jute_str_vec str_vec_null = {0, true, NULL};
static const struct jute_str_vec str_vec_empty = {0, false, NULL};
/* Every field distinct, and sign bits set, so swapped or truncated fields show. */
static const struct jute_stat stat = {
    .czxid = 0x100000001LL,
    .mzxid = 0x100000002LL,
    .ctime = 1700000000123LL,
    .mtime = 1700000000456LL,
    .version = 3,
    .cversion = -4,
    .aversion = 5,
    .ephemeral_owner = (int64_t)0x8100000821ad0000ULL,
    .data_length = 6,
    .num_children = 7,
    .pzxid = 0x100000008LL,
};
static const struct jute_stat_persisted stat_persisted = {
    0x200000001LL, 0x200000002LL, 1, 2, 3, 4, 5, ZOO_CONTAINER_OWNER, 0x200000009LL};
static const struct jute_id id_sample = {"sasl", "zk@EXAMPLE.COM"};
static const struct jute_id id_nulls = {NULL, NULL};
static const struct jute_connect_request connect_req45 = {
    0, 0x500000010LL, 30000, 0x0100000821ad0000LL, BUF("0123456789abcdef"), true, true};
static const struct jute_connect_request connect_req44 = {
    0, 0, 4000, 0, BUF("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"), false, false};
static const struct jute_connect_response connect_rsp_ro = {
    0, 30000, 0x0100000821ad0000LL, BUF("fedcba9876543210"), true, true};
static const struct jute_connect_response connect_rsp_old = {
    0, 0, 0, BUF("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"), false, false};
static const struct jute_request_header req_header = {0x7fff0001, ZOO_OP_CREATE2};
static const struct jute_reply_header reply_header = {ZOO_XID_NOTIFICATION, -1, ZNONODE};
static const struct jute_multi_header multi_header = {ZOO_OP_ERROR, true, -1};
static const struct jute_multi_header multi_header2 = {ZOO_OP_SETDATA, false, ZBADVERSION};
static const struct jute_path_watch_request path_watch = {"/app/config", true};
static const struct jute_path_request path_req = {"/app"};
static const struct jute_path_request path_req_null = {NULL};
static const struct jute_path_version_request path_version = {"/app/lock", -1};
static const struct jute_path_type_request path_type = {"/app", ZOO_WATCHER_ANY};
static const struct jute_create_request create_req = {
    "/app/n-", BUF("payload\0with nul"), {N(acls), false, acls}, ZOO_EPHEMERAL_SEQUENTIAL, -1};
static const struct jute_create_request create_req_nulls = {NULL, NULLBUF, {0, true, NULL}, 0, -1};
static const struct jute_create_request create_ttl_req = {
    "/ttl", BUF("x"), {1, false, acls}, ZOO_PERSISTENT_WITH_TTL, 0x000000ffffffffffLL};
static const struct jute_set_data_request set_data_req = {"/app", BUF("v2"), 7};
static const struct jute_set_data_request set_data_req_null = {"/app", NULLBUF, -1};
static const struct jute_set_acl_request set_acl_req = {"/app", {N(acls), false, acls}, 2};
static const struct jute_reconfig_request reconfig_req = {"server.4=127.0.0.1:2891:3891;2184", NULL,
                                                          "", 0x100000000LL};
static const struct jute_auth_packet auth_packet = {0, "digest", BUF("alice:secret")};
static const struct jute_set_watches set_watches_v1 = {
    0x300000004LL, {N(paths), false, paths}, {0, false, NULL}, {0, true, NULL}, {0}, {0}};
static const struct jute_set_watches set_watches_v2 = {
    0x300000004LL,    {2, false, paths},        {1, false, paths + 1},
    {0, false, NULL}, {N(paths), false, paths}, {0, true, NULL}};
static const struct jute_path_response path_rsp = {"/app/n-0000000042"};
static const struct jute_create2_response create2_rsp = {"/app/n-0000000042", {0}};
static const struct jute_get_data_response get_data_rsp = {BUF("hello"), {0}};
static const struct jute_get_data_response get_data_rsp_null = {NULLBUF, {0}};
static const struct jute_get_children_response children_rsp = {{N(paths), false, paths}, {0}};
static const struct jute_get_children_response children_rsp_null = {{0, true, NULL}, {0}};
static const struct jute_get_acl_response get_acl_rsp = {{N(acls), false, acls}, {0}};
static const struct jute_get_ephemerals_response ephemerals_rsp = {{N(paths), false, paths}};
static struct jute_client_info client_infos[] = {{"ip", "127.0.0.1"}, {"digest", "alice"}};
static const struct jute_whoami_response whoami_rsp = {N(client_infos), client_infos};
static const struct jute_whoami_response whoami_rsp_empty = {0, NULL};
static const struct jute_watcher_event watcher_event = {ZOO_EVENT_CHILDREN_CHANGED,
                                                        ZOO_STATE_SYNC_CONNECTED, "/app"};
static const struct jute_watcher_event watcher_event_state = {ZOO_EVENT_NONE, ZOO_STATE_EXPIRED,
                                                              NULL};
static const struct jute_txn_header txn_header = {0x0100000821ad0000LL, 12, 0x100000006LL,
                                                  1700000000999LL, ZOO_OP_MULTI};
static const struct jute_txn_digest txn_digest = {2, 0x00000001e3fad509LL};
static const struct jute_create_txn create_txn = {
    "/app/e", BUF("data"), {N(acls), false, acls}, true, 9};
static const struct jute_create_ttl_txn create_ttl_txn = {
    "/ttl", BUF(""), {1, false, acls}, 1, 60000};
static const struct jute_create_container_txn create_container_txn = {
    "/c", NULLBUF, {1, false, acls}, 2};
static const struct jute_set_data_txn set_data_txn = {"/app", BUF("v3"), 8};
static const struct jute_set_acl_txn set_acl_txn = {"/app", {2, false, acls}, 3};
static const struct jute_create_session_txn create_session_txn = {30000};
static const struct jute_close_session_txn close_session_txn = {{N(paths), false, paths}};
static const struct jute_close_session_txn close_session_txn_null = {{0, true, NULL}};
static const struct jute_error_txn error_txn = {ZBADVERSION};
static struct jute_txn txns[] = {
    {ZOO_OP_CREATE, BUF("\0\0\0\x02/x\xff\xff\xff\xff\0\0\0\0\0\0\0\0\0")},
    {ZOO_OP_ERROR, BUF("\xff\xff\xff\x99")},
    {ZOO_OP_DELETE, NULLBUF},
};
static const struct jute_multi_txn multi_txn = {N(txns), txns};
static const struct jute_multi_txn multi_txn_empty = {0, NULL};

/* ---- per-record adapters ----------------------------------------------------- */

/* Type-erased get/put/eq for one record (and one variant of it). */
struct rec_case {
    const char *name;
    size_t size; /* sizeof the record struct */
    void (*get)(struct jute_in *in, void *r);
    void (*put)(struct jute_out *out, const void *r);
    bool (*eq)(const void *a, const void *b);
    const void *sample;
    bool optional_tail; /* the last byte may be missing (handshake readOnly) */
    bool allocates;     /* decoding allocates (strings or vectors) */
};

#define ADAPT(rec, getcall, putcall)                                                               \
    static void get_##rec(struct jute_in *in, void *r)                                             \
    {                                                                                              \
        getcall;                                                                                   \
    }                                                                                              \
    static void put_##rec(struct jute_out *out, const void *r)                                     \
    {                                                                                              \
        putcall;                                                                                   \
    }
#define SIMPLE(rec) ADAPT(rec, jute_get_##rec(in, r), jute_put_##rec(out, r))

SIMPLE(id)
SIMPLE(acl)
SIMPLE(acl_vec)
SIMPLE(str_vec)
SIMPLE(stat)
SIMPLE(stat_persisted)
SIMPLE(connect_request)
SIMPLE(connect_response)
SIMPLE(request_header)
SIMPLE(reply_header)
SIMPLE(multi_header)
SIMPLE(path_watch_request)
SIMPLE(path_request)
SIMPLE(path_version_request)
SIMPLE(path_type_request)
ADAPT(create_request, jute_get_create_request(in, r, false), jute_put_create_request(out, r, false))
ADAPT(create_ttl_request, jute_get_create_request(in, r, true),
      jute_put_create_request(out, r, true))
SIMPLE(set_data_request)
SIMPLE(set_acl_request)
SIMPLE(reconfig_request)
SIMPLE(auth_packet)
ADAPT(set_watches, jute_get_set_watches(in, r, false), jute_put_set_watches(out, r, false))
ADAPT(set_watches2, jute_get_set_watches(in, r, true), jute_put_set_watches(out, r, true))
SIMPLE(path_response)
SIMPLE(create2_response)
SIMPLE(get_data_response)
ADAPT(get_children_response, jute_get_get_children_response(in, r, false),
      jute_put_get_children_response(out, r, false))
ADAPT(get_children2_response, jute_get_get_children_response(in, r, true),
      jute_put_get_children_response(out, r, true))
SIMPLE(get_acl_response)
SIMPLE(get_ephemerals_response)
SIMPLE(whoami_response)
SIMPLE(watcher_event)
SIMPLE(txn_header)
SIMPLE(txn_digest)
SIMPLE(create_txn)
SIMPLE(create_ttl_txn)
SIMPLE(create_container_txn)
SIMPLE(set_data_txn)
SIMPLE(set_acl_txn)
SIMPLE(create_session_txn)
SIMPLE(close_session_txn)
SIMPLE(error_txn)
SIMPLE(multi_txn)

#define EQ(rec, type, expr)                                                                        \
    static bool eq_##rec(const void *va, const void *vb)                                           \
    {                                                                                              \
        const type *a = va, *b = vb;                                                               \
        return expr;                                                                               \
    }

EQ(id, struct jute_id, id_eq(a, b))
EQ(acl, struct jute_acl, acl_eq(a, b))
EQ(acl_vec, struct jute_acl_vec, acl_vec_eq(a, b))
EQ(str_vec, struct jute_str_vec, str_vec_eq(a, b))
EQ(stat, struct jute_stat, stat_eq(a, b))
EQ(stat_persisted, struct jute_stat_persisted,
   a->czxid == b->czxid && a->mzxid == b->mzxid && a->ctime == b->ctime && a->mtime == b->mtime &&
       a->version == b->version && a->cversion == b->cversion && a->aversion == b->aversion &&
       a->ephemeral_owner == b->ephemeral_owner && a->pzxid == b->pzxid)
EQ(connect_request, struct jute_connect_request,
   a->protocol_version == b->protocol_version && a->last_zxid_seen == b->last_zxid_seen &&
       a->timeout_ms == b->timeout_ms && a->session_id == b->session_id &&
       buf_eq(a->passwd, b->passwd) && a->has_read_only == b->has_read_only &&
       a->read_only == b->read_only)
EQ(connect_response, struct jute_connect_response,
   a->protocol_version == b->protocol_version && a->timeout_ms == b->timeout_ms &&
       a->session_id == b->session_id && buf_eq(a->passwd, b->passwd) &&
       a->has_read_only == b->has_read_only && a->read_only == b->read_only)
EQ(request_header, struct jute_request_header, a->xid == b->xid && a->type == b->type)
EQ(reply_header, struct jute_reply_header,
   a->xid == b->xid && a->zxid == b->zxid && a->err == b->err)
EQ(multi_header, struct jute_multi_header,
   a->type == b->type && a->done == b->done && a->err == b->err)
EQ(path_watch_request, struct jute_path_watch_request,
   str_eq(a->path, b->path) && a->watch == b->watch)
EQ(path_request, struct jute_path_request, str_eq(a->path, b->path))
EQ(path_version_request, struct jute_path_version_request,
   str_eq(a->path, b->path) && a->version == b->version)
EQ(path_type_request, struct jute_path_type_request, str_eq(a->path, b->path) && a->type == b->type)
EQ(create_request, struct jute_create_request,
   str_eq(a->path, b->path) && buf_eq(a->data, b->data) && acl_vec_eq(&a->acl, &b->acl) &&
       a->flags == b->flags && a->ttl == b->ttl)
#define eq_create_ttl_request eq_create_request
#define eq_set_watches2       eq_set_watches
EQ(set_data_request, struct jute_set_data_request,
   str_eq(a->path, b->path) && buf_eq(a->data, b->data) && a->version == b->version)
EQ(set_acl_request, struct jute_set_acl_request,
   str_eq(a->path, b->path) && acl_vec_eq(&a->acl, &b->acl) && a->version == b->version)
EQ(reconfig_request, struct jute_reconfig_request,
   str_eq(a->joining_servers, b->joining_servers) &&
       str_eq(a->leaving_servers, b->leaving_servers) && str_eq(a->new_members, b->new_members) &&
       a->cur_config_id == b->cur_config_id)
EQ(auth_packet, struct jute_auth_packet,
   a->type == b->type && str_eq(a->scheme, b->scheme) && buf_eq(a->auth, b->auth))
EQ(set_watches, struct jute_set_watches,
   a->relative_zxid == b->relative_zxid && str_vec_eq(&a->data_watches, &b->data_watches) &&
       str_vec_eq(&a->exist_watches, &b->exist_watches) &&
       str_vec_eq(&a->child_watches, &b->child_watches) &&
       str_vec_eq(&a->persistent_watches, &b->persistent_watches) &&
       str_vec_eq(&a->persistent_recursive_watches, &b->persistent_recursive_watches))
EQ(path_response, struct jute_path_response, str_eq(a->path, b->path))
EQ(create2_response, struct jute_create2_response,
   str_eq(a->path, b->path) && stat_eq(&a->stat, &b->stat))
EQ(get_data_response, struct jute_get_data_response,
   buf_eq(a->data, b->data) && stat_eq(&a->stat, &b->stat))
EQ(get_children_response, struct jute_get_children_response, str_vec_eq(&a->children, &b->children))
EQ(get_children2_response, struct jute_get_children_response,
   str_vec_eq(&a->children, &b->children) && stat_eq(&a->stat, &b->stat))
EQ(get_acl_response, struct jute_get_acl_response,
   acl_vec_eq(&a->acl, &b->acl) && stat_eq(&a->stat, &b->stat))
EQ(get_ephemerals_response, struct jute_get_ephemerals_response,
   str_vec_eq(&a->ephemerals, &b->ephemerals))
static bool eq_whoami_response(const void *va, const void *vb)
{
    const struct jute_whoami_response *a = va, *b = vb;
    if (a->count != b->count)
        return false;
    for (int32_t i = 0; i < a->count; i++)
        if (!str_eq(a->items[i].auth_scheme, b->items[i].auth_scheme) ||
            !str_eq(a->items[i].user, b->items[i].user))
            return false;
    return true;
}
EQ(watcher_event, struct jute_watcher_event,
   a->type == b->type && a->state == b->state && str_eq(a->path, b->path))
EQ(txn_header, struct jute_txn_header,
   a->client_id == b->client_id && a->cxid == b->cxid && a->zxid == b->zxid && a->time == b->time &&
       a->type == b->type)
EQ(txn_digest, struct jute_txn_digest, a->version == b->version && a->tree_digest == b->tree_digest)
EQ(create_txn, struct jute_create_txn,
   str_eq(a->path, b->path) && buf_eq(a->data, b->data) && acl_vec_eq(&a->acl, &b->acl) &&
       a->ephemeral == b->ephemeral && a->parent_cversion == b->parent_cversion)
EQ(create_ttl_txn, struct jute_create_ttl_txn,
   str_eq(a->path, b->path) && buf_eq(a->data, b->data) && acl_vec_eq(&a->acl, &b->acl) &&
       a->parent_cversion == b->parent_cversion && a->ttl == b->ttl)
EQ(create_container_txn, struct jute_create_container_txn,
   str_eq(a->path, b->path) && buf_eq(a->data, b->data) && acl_vec_eq(&a->acl, &b->acl) &&
       a->parent_cversion == b->parent_cversion)
EQ(set_data_txn, struct jute_set_data_txn,
   str_eq(a->path, b->path) && buf_eq(a->data, b->data) && a->version == b->version)
EQ(set_acl_txn, struct jute_set_acl_txn,
   str_eq(a->path, b->path) && acl_vec_eq(&a->acl, &b->acl) && a->version == b->version)
EQ(create_session_txn, struct jute_create_session_txn, a->timeout_ms == b->timeout_ms)
EQ(close_session_txn, struct jute_close_session_txn,
   str_vec_eq(&a->paths_to_delete, &b->paths_to_delete))
EQ(error_txn, struct jute_error_txn, a->err == b->err)
static bool eq_multi_txn(const void *va, const void *vb)
{
    const struct jute_multi_txn *a = va, *b = vb;
    if (a->count != b->count)
        return false;
    for (int32_t i = 0; i < a->count; i++)
        if (a->txns[i].type != b->txns[i].type || !buf_eq(a->txns[i].data, b->txns[i].data))
            return false;
    return true;
}

#define CASE(rec, type, sample_, alloc)                                                            \
    {                                                                                              \
#rec ":" #sample_, sizeof(type), get_##rec, put_##rec, eq_##rec, &sample_, false, alloc    \
    }

/* Stats inside responses get the shared sample at start-up (C has no
 * constant-expression copy of a struct). */
static struct jute_create2_response create2_rsp_s;
static struct jute_get_data_response get_data_rsp_s, get_data_rsp_null_s;
static struct jute_get_children_response children2_rsp_s, children2_rsp_null_s;
static struct jute_get_acl_response get_acl_rsp_s;

static const struct rec_case cases[] = {
    CASE(id, struct jute_id, id_sample, true),
    CASE(id, struct jute_id, id_nulls, false),
    CASE(acl, struct jute_acl, acls[1], true),
    CASE(acl_vec, struct jute_acl_vec, acl_vec, true),
    CASE(acl_vec, struct jute_acl_vec, acl_vec_null, false),
    CASE(acl_vec, struct jute_acl_vec, acl_vec_empty, false),
    CASE(str_vec, struct jute_str_vec, str_vec, true),
    CASE(str_vec, struct jute_str_vec, str_vec_null, false),
    CASE(str_vec, struct jute_str_vec, str_vec_empty, false),
    CASE(stat, struct jute_stat, stat, false),
    CASE(stat_persisted, struct jute_stat_persisted, stat_persisted, false),
    {"connect_request:45", sizeof(struct jute_connect_request), get_connect_request,
     put_connect_request, eq_connect_request, &connect_req45, true, false},
    CASE(connect_request, struct jute_connect_request, connect_req44, false),
    {"connect_response:ro", sizeof(struct jute_connect_response), get_connect_response,
     put_connect_response, eq_connect_response, &connect_rsp_ro, true, false},
    CASE(connect_response, struct jute_connect_response, connect_rsp_old, false),
    CASE(request_header, struct jute_request_header, req_header, false),
    CASE(reply_header, struct jute_reply_header, reply_header, false),
    CASE(multi_header, struct jute_multi_header, multi_header, false),
    CASE(multi_header, struct jute_multi_header, multi_header2, false),
    CASE(path_watch_request, struct jute_path_watch_request, path_watch, true),
    CASE(path_request, struct jute_path_request, path_req, true),
    CASE(path_request, struct jute_path_request, path_req_null, false),
    CASE(path_version_request, struct jute_path_version_request, path_version, true),
    CASE(path_type_request, struct jute_path_type_request, path_type, true),
    CASE(create_request, struct jute_create_request, create_req, true),
    CASE(create_request, struct jute_create_request, create_req_nulls, false),
    CASE(create_ttl_request, struct jute_create_request, create_ttl_req, true),
    CASE(set_data_request, struct jute_set_data_request, set_data_req, true),
    CASE(set_data_request, struct jute_set_data_request, set_data_req_null, true),
    CASE(set_acl_request, struct jute_set_acl_request, set_acl_req, true),
    CASE(reconfig_request, struct jute_reconfig_request, reconfig_req, true),
    CASE(auth_packet, struct jute_auth_packet, auth_packet, true),
    CASE(set_watches, struct jute_set_watches, set_watches_v1, true),
    CASE(set_watches2, struct jute_set_watches, set_watches_v2, true),
    CASE(path_response, struct jute_path_response, path_rsp, true),
    CASE(create2_response, struct jute_create2_response, create2_rsp_s, true),
    CASE(get_data_response, struct jute_get_data_response, get_data_rsp_s, false),
    CASE(get_data_response, struct jute_get_data_response, get_data_rsp_null_s, false),
    CASE(get_children_response, struct jute_get_children_response, children_rsp, true),
    CASE(get_children_response, struct jute_get_children_response, children_rsp_null, false),
    CASE(get_children2_response, struct jute_get_children_response, children2_rsp_s, true),
    CASE(get_children2_response, struct jute_get_children_response, children2_rsp_null_s, false),
    CASE(get_acl_response, struct jute_get_acl_response, get_acl_rsp_s, true),
    CASE(get_ephemerals_response, struct jute_get_ephemerals_response, ephemerals_rsp, true),
    CASE(whoami_response, struct jute_whoami_response, whoami_rsp, true),
    CASE(whoami_response, struct jute_whoami_response, whoami_rsp_empty, false),
    CASE(watcher_event, struct jute_watcher_event, watcher_event, true),
    CASE(watcher_event, struct jute_watcher_event, watcher_event_state, false),
    CASE(txn_header, struct jute_txn_header, txn_header, false),
    CASE(txn_digest, struct jute_txn_digest, txn_digest, false),
    CASE(create_txn, struct jute_create_txn, create_txn, true),
    CASE(create_ttl_txn, struct jute_create_ttl_txn, create_ttl_txn, true),
    CASE(create_container_txn, struct jute_create_container_txn, create_container_txn, true),
    CASE(set_data_txn, struct jute_set_data_txn, set_data_txn, true),
    CASE(set_acl_txn, struct jute_set_acl_txn, set_acl_txn, true),
    CASE(create_session_txn, struct jute_create_session_txn, create_session_txn, false),
    CASE(close_session_txn, struct jute_close_session_txn, close_session_txn, true),
    CASE(close_session_txn, struct jute_close_session_txn, close_session_txn_null, false),
    CASE(error_txn, struct jute_error_txn, error_txn, false),
    CASE(multi_txn, struct jute_multi_txn, multi_txn, true),
    CASE(multi_txn, struct jute_multi_txn, multi_txn_empty, false),
};

static void init_samples(void)
{
    create2_rsp_s = create2_rsp;
    create2_rsp_s.stat = stat;
    get_data_rsp_s = get_data_rsp;
    get_data_rsp_s.stat = stat;
    get_data_rsp_null_s = get_data_rsp_null;
    get_data_rsp_null_s.stat = stat;
    children2_rsp_s = children_rsp;
    children2_rsp_s.stat = stat;
    children2_rsp_null_s = children_rsp_null;
    children2_rsp_null_s.stat = stat;
    get_acl_rsp_s = get_acl_rsp;
    get_acl_rsp_s.stat = stat;
}

/* ---- generic checks over the table ------------------------------------------------ */

/* Returns an exact-size malloc'd copy of len bytes (release with free). */
static uint8_t *copy_exact(const void *data, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    if (len)
        memcpy(p, data, len);
    return p;
}

/* Encodes c's sample; returns owned bytes (pd_free). */
static uint8_t *encode(const struct rec_case *c, const void *r, size_t *len)
{
    struct jute_out out;
    jute_out_init(&out);
    c->put(&out, r);
    CHECK_EQ_INT(out.err, 0);
    return jute_out_steal(&out, len);
}

/* Decodes len bytes (copied to an exact-size buffer) into r; returns in.err. */
static int decode(const struct rec_case *c, const uint8_t *bytes, size_t len, struct arena *arena,
                  void *r, size_t *left)
{
    uint8_t *copy = copy_exact(bytes, len);
    struct jute_in in;
    jute_in_init(&in, copy, len, arena);
    memset(r, 0x5a, c->size); /* garbage, so a field the decoder forgets shows */
    c->get(&in, r);
    CHECK(in.p >= copy && in.p <= in.end);
    if (left)
        *left = jute_in_left(&in);
    free(copy);
    return in.err;
}

static void test_roundtrip_all(void)
{
    init_samples();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct rec_case *c = &cases[i];
        size_t len;
        uint8_t *bytes = encode(c, c->sample, &len);
        /* Decoded buffers point into the input: keep it alive while comparing. */
        uint8_t *keep = copy_exact(bytes, len);
        struct arena arena;
        arena_init(&arena, 0);
        alignas(max_align_t) uint8_t r[512];
        CHECK(c->size <= sizeof(r));
        struct jute_in in;
        jute_in_init(&in, keep, len, &arena);
        memset(r, 0x5a, c->size);
        c->get(&in, r);
        if (in.err || jute_in_left(&in) || !c->eq(c->sample, r))
            fprintf(stderr, "round trip of %s: err %d left %zu\n", c->name, in.err,
                    jute_in_left(&in));
        CHECK_EQ_INT(in.err, 0);
        CHECK_EQ_INT(jute_in_left(&in), 0);
        CHECK(c->eq(c->sample, r));
        size_t len2;
        uint8_t *again = encode(c, r, &len2);
        CHECK_EQ_INT(len2, len);
        CHECK(len2 == len && memcmp(again, bytes, len) == 0);
        pd_free(again);
        free(keep);
        arena_close(&arena);
        pd_free(bytes);
    }
}

static void test_truncations_all(void)
{
    init_samples();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct rec_case *c = &cases[i];
        size_t len;
        uint8_t *bytes = encode(c, c->sample, &len);
        struct arena arena;
        arena_init(&arena, 0);
        for (size_t cut = 0; cut < len; cut++) {
            alignas(max_align_t) uint8_t r[512];
            int err = decode(c, bytes, cut, &arena, r, NULL);
            int want = c->optional_tail && cut == len - 1 ? 0 : PD_EMALFORMED;
            if (err != want)
                fprintf(stderr, "%s cut at %zu of %zu: err %d\n", c->name, cut, len, err);
            CHECK_EQ_INT(err, want);
            arena_reset(&arena);
        }
        arena_close(&arena);
        pd_free(bytes);
    }
}

static void test_oom_sweep_all(void)
{
    init_samples();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct rec_case *c = &cases[i];
        size_t len;
        uint8_t *bytes = encode(c, c->sample, &len);
        uint8_t *keep = copy_exact(bytes, len);
        int failures = 0;
        bool done = false;
        for (long n = 0; n < 1000 && !done; n++) {
            /* Small blocks, so a record needs several arena blocks. */
            struct arena arena;
            arena_init(&arena, 32);
            alignas(max_align_t) uint8_t r[512];
            struct jute_in in;
            jute_in_init(&in, keep, len, &arena);
            pd_alloc_fail_after(n, 1000000);
            c->get(&in, r);
            pd_alloc_fail_after(-1, 0);
            if (in.err == 0) {
                CHECK(c->eq(c->sample, r));
                done = true;
            } else {
                CHECK_EQ_INT(in.err, PD_ENOMEM);
                failures++;
            }
            arena_close(&arena);
        }
        CHECK(done);
        CHECK(c->allocates ? failures > 0 : failures == 0);
        free(keep);
        pd_free(bytes);
    }
}

/* ---- record-specific corners ------------------------------------------------------ */

/* Builds an input from ints (as 4-byte words) into an exact-size buffer. */
static uint8_t *words(const int32_t *w, size_t n, size_t *len)
{
    struct jute_out out;
    jute_out_init(&out);
    for (size_t i = 0; i < n; i++)
        jute_put_int(&out, w[i]);
    uint8_t *p = copy_exact(out.data, out.len);
    *len = out.len;
    jute_out_close(&out);
    return p;
}

/* Counts larger than what is left, negative or INT32_MAX: refused before any allocation. */
static void test_vector_counts_refused(void)
{
    /* count, then `count` empty strings' worth of words available. */
    static const int32_t bad[] = {-2, INT32_MIN, INT32_MAX, 4, 0x40000000};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int32_t w[4] = {bad[i], 0, 0, 0}; /* 12 bytes follow the count */
        size_t len;
        uint8_t *p = words(w, 4, &len);
        for (int kind = 0; kind < 4; kind++) {
            struct arena arena;
            arena_init(&arena, 0);
            struct jute_in in;
            jute_in_init(&in, p, len, &arena);
            pd_alloc_fail_after(-1, 0);
            switch (kind) {
            case 0: {
                struct jute_str_vec v;
                jute_get_str_vec(&in, &v);
                CHECK_EQ_INT(v.count, 0);
                break;
            }
            case 1: {
                struct jute_acl_vec v;
                jute_get_acl_vec(&in, &v);
                CHECK_EQ_INT(v.count, 0);
                break;
            }
            case 2: {
                struct jute_whoami_response v;
                jute_get_whoami_response(&in, &v);
                CHECK_EQ_INT(v.count, 0);
                break;
            }
            default: {
                struct jute_multi_txn v;
                jute_get_multi_txn(&in, &v);
                CHECK_EQ_INT(v.count, 0);
                break;
            }
            }
            /* 4 strings need 16 bytes, 12 are left: malformed for every kind. */
            CHECK_EQ_INT(in.err, PD_EMALFORMED);
            CHECK_EQ_INT(pd_alloc_fail_after(-1, 0), 0);
            arena_close(&arena);
        }
        free(p);
    }
}

/* The count bound is per element's minimum wire size: exactly enough passes. */
static void test_vector_count_exact_fit(void)
{
    int32_t w[4] = {3, 0, 0, 0}; /* three empty strings */
    size_t len;
    uint8_t *p = words(w, 4, &len);
    struct arena arena;
    arena_init(&arena, 0);
    struct jute_in in;
    jute_in_init(&in, p, len, &arena);
    struct jute_str_vec v;
    jute_get_str_vec(&in, &v);
    CHECK_EQ_INT(in.err, 0);
    CHECK_EQ_INT(v.count, 3);
    CHECK_EQ_STR(v.items[2], "");
    free(p);

    /* One ACL of minimum size (perms + two null strings) is 12 bytes. */
    int32_t a[4] = {1, 31, -1, -1};
    p = words(a, 4, &len);
    jute_in_init(&in, p, len, &arena);
    struct jute_acl_vec av;
    jute_get_acl_vec(&in, &av);
    CHECK_EQ_INT(in.err, 0);
    CHECK_EQ_INT(av.count, 1);
    CHECK(av.items[0].id.scheme == NULL);
    free(p);
    /* ...and 2 ACLs do not fit in 12 bytes. */
    a[0] = 2;
    p = words(a, 4, &len);
    jute_in_init(&in, p, len, &arena);
    jute_get_acl_vec(&in, &av);
    CHECK_EQ_INT(in.err, PD_EMALFORMED);
    free(p);
    arena_close(&arena);
}

/*
 * WhoAmIResponse and MultiTxn have no is_null flag: a null vector (-1)
 * decodes as empty and re-encodes as count 0 (Java would give a null list,
 * which its own code does not expect either).
 */
static void test_null_vector_without_flag(void)
{
    int32_t w[1] = {-1};
    size_t len;
    uint8_t *p = words(w, 1, &len);
    struct arena arena;
    arena_init(&arena, 0);
    struct jute_in in;
    jute_in_init(&in, p, len, &arena);
    struct jute_whoami_response who;
    jute_get_whoami_response(&in, &who);
    CHECK_EQ_INT(in.err, 0);
    CHECK_EQ_INT(who.count, 0);
    jute_in_init(&in, p, len, &arena);
    struct jute_multi_txn mt;
    jute_get_multi_txn(&in, &mt);
    CHECK_EQ_INT(in.err, 0);
    CHECK_EQ_INT(mt.count, 0);
    free(p);
    arena_close(&arena);
}

static void test_null_vectors_roundtrip(void)
{
    struct jute_out out;
    jute_out_init(&out);
    jute_put_str_vec(&out, &str_vec_null);
    jute_put_acl_vec(&out, &acl_vec_null);
    jute_put_str_vec(&out, &str_vec_empty);
    CHECK_EQ_INT(out.len, 12);
    CHECK(memcmp(out.data, "\xff\xff\xff\xff\xff\xff\xff\xff\0\0\0\0", 12) == 0);
    struct arena arena;
    arena_init(&arena, 0);
    struct jute_in in;
    jute_in_init(&in, out.data, out.len, &arena);
    struct jute_str_vec sv;
    struct jute_acl_vec av;
    jute_get_str_vec(&in, &sv);
    CHECK(sv.is_null);
    CHECK_EQ_INT(sv.count, 0);
    CHECK(sv.items == NULL);
    jute_get_acl_vec(&in, &av);
    CHECK(av.is_null);
    jute_get_str_vec(&in, &sv);
    CHECK(!sv.is_null);
    CHECK_EQ_INT(sv.count, 0);
    CHECK_EQ_INT(in.err, 0);
    arena_close(&arena);
    jute_out_close(&out);
}

/* The handshake: 44 bytes from pre-3.4 clients, 45 with the readOnly byte. */
static void test_connect_request_44_45(void)
{
    struct jute_out out;
    jute_out_init(&out);
    jute_put_connect_request(&out, &connect_req44);
    CHECK_EQ_INT(out.len, 44);
    jute_out_reset(&out);
    jute_put_connect_request(&out, &connect_req45);
    CHECK_EQ_INT(out.len, 45);
    CHECK_EQ_INT(out.data[44], 1);

    struct arena arena;
    arena_init(&arena, 0);
    struct jute_connect_request r;
    uint8_t *p = copy_exact(out.data, 44);
    struct jute_in in;
    jute_in_init(&in, p, 44, &arena);
    jute_get_connect_request(&in, &r);
    CHECK_EQ_INT(in.err, 0);
    CHECK(!r.has_read_only);
    CHECK(!r.read_only);
    CHECK_EQ_INT(r.timeout_ms, 30000);
    CHECK_EQ_INT(r.passwd.len, 16);
    free(p);
    p = copy_exact(out.data, 45);
    jute_in_init(&in, p, 45, &arena);
    jute_get_connect_request(&in, &r);
    CHECK_EQ_INT(in.err, 0);
    CHECK(r.has_read_only);
    CHECK(r.read_only);
    CHECK_EQ_INT(jute_in_left(&in), 0);
    free(p);
    /* A 46th byte is left unread for the caller to judge. */
    jute_put_bool(&out, false);
    p = copy_exact(out.data, 46);
    jute_in_init(&in, p, 46, &arena);
    jute_get_connect_request(&in, &r);
    CHECK_EQ_INT(in.err, 0);
    CHECK_EQ_INT(jute_in_left(&in), 1);
    free(p);
    arena_close(&arena);
    jute_out_close(&out);
}

/* Variants: a plain create has no ttl on the wire; SetWatches v1 leaves v2 lists empty. */
static void test_variants(void)
{
    struct jute_out out;
    jute_out_init(&out);
    jute_put_create_request(&out, &create_ttl_req, false);
    size_t plain = out.len;
    jute_out_reset(&out);
    jute_put_create_request(&out, &create_ttl_req, true);
    CHECK_EQ_INT(out.len, plain + 8);
    struct arena arena;
    arena_init(&arena, 0);
    struct jute_in in;
    jute_in_init(&in, out.data, plain, &arena);
    struct jute_create_request cr;
    jute_get_create_request(&in, &cr, false);
    CHECK_EQ_INT(in.err, 0);
    CHECK(cr.ttl == -1);

    jute_out_reset(&out);
    jute_put_set_watches(&out, &set_watches_v2, false);
    jute_in_init(&in, out.data, out.len, &arena);
    struct jute_set_watches sw;
    memset(&sw, 0x5a, sizeof(sw));
    jute_get_set_watches(&in, &sw, false);
    CHECK_EQ_INT(in.err, 0);
    CHECK_EQ_INT(jute_in_left(&in), 0);
    CHECK_EQ_INT(sw.persistent_watches.count, 0);
    CHECK(!sw.persistent_watches.is_null);
    CHECK_EQ_INT(sw.persistent_recursive_watches.count, 0);
    CHECK_EQ_INT(sw.data_watches.count, 2);

    jute_out_reset(&out);
    jute_put_get_children_response(&out, &children2_rsp_s, false);
    CHECK_EQ_INT(out.len, 4 + 4 + 2 + 4 + 4 + 4 + 0 + 4 + 16); /* the vector only */
    arena_close(&arena);
    jute_out_close(&out);
}

/* Encoding OOM: the writer's sticky error covers a whole record. */
static void test_encode_oom(void)
{
    init_samples();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct jute_out out;
        jute_out_init(&out);
        pd_alloc_fail_after(0, 1);
        cases[i].put(&out, cases[i].sample);
        pd_alloc_fail_after(-1, 0);
        CHECK_EQ_INT(out.err, PD_ENOMEM);
        CHECK_EQ_INT(out.len, 0);
        jute_out_close(&out);
    }
}

int main(void)
{
    RUN(test_roundtrip_all);
    RUN(test_truncations_all);
    RUN(test_oom_sweep_all);
    RUN(test_vector_counts_refused);
    RUN(test_vector_count_exact_fit);
    RUN(test_null_vector_without_flag);
    RUN(test_null_vectors_roundtrip);
    RUN(test_connect_request_44_45);
    RUN(test_variants);
    RUN(test_encode_oom);
    printf("%zu record cases\n", sizeof(cases) / sizeof(cases[0]));
    return t_done();
}
