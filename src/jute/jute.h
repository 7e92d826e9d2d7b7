/*
 * Jute, ZooKeeper's wire encoding: primitives, 4-byte length framing, and the
 * client and transaction records of zookeeper.jute (Apache ZooKeeper 3.8/3.9),
 * field order = wire order.
 *
 * Decoding (struct jute_in) is bounds-checked with a sticky error: each
 * jute_get_* reads from in->p up to in->end, and on the first short read or
 * bad length sets in->err (PD_EMALFORMED, or PD_ENOMEM if the arena fails)
 * and from then on reads zeros. Callers check in->err once at the end. A
 * decoder never reads past in->end.
 *
 * Ownership of decoded data:
 *   - `struct jute_buf` (jute `buffer`) points into the input bytes: borrowed,
 *     valid as long as the frame is.
 *   - strings (jute `ustring`) are copied into the arena NUL-terminated, so
 *     they outlive the frame until arena_reset(). A null string (length -1)
 *     decodes to NULL.
 *   - vectors are arrays allocated in the arena; count -1 (null vector)
 *     decodes to count 0 with is_null set.
 *
 * Encoding (struct jute_out) appends to a growable buffer owned by the
 * jute_out, again with a sticky error (PD_ENOMEM). A NULL `char *` encodes
 * as a null string (-1).
 *
 * Naming: for every record R, `void jute_get_R(struct jute_in *, struct jute_R *)`
 * and `void jute_put_R(struct jute_out *, const struct jute_R *)`.
 */
#ifndef PD_JUTE_JUTE_H
#define PD_JUTE_JUTE_H

#include "common/arena.h"
#include "jute/proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- primitives ---------------------------------------------------------- */

struct jute_in {
    const uint8_t *p;    /* next byte to read; borrowed */
    const uint8_t *end;  /* one past the last readable byte */
    struct arena *arena; /* strings and vectors are allocated here; borrowed */
    int err;             /* 0, or the first error (PD_EMALFORMED, PD_ENOMEM) */
    bool has_nul;        /* a decoded string held a NUL byte (ZooKeeper: BADARGUMENTS) */
};

struct jute_out {
    uint8_t *data; /* owned; release with jute_out_close() */
    size_t len;    /* bytes written */
    size_t cap;    /* bytes allocated */
    int err;       /* 0, or PD_ENOMEM once an append failed */
};

/* A jute `buffer`: len -1 is null. data is borrowed (points into the frame). */
struct jute_buf {
    const uint8_t *data;
    int32_t len;
};

void jute_in_init(struct jute_in *in, const void *data, size_t len, struct arena *arena);
/* Bytes not yet read. */
size_t jute_in_left(const struct jute_in *in);

int32_t jute_get_int(struct jute_in *in);
int64_t jute_get_long(struct jute_in *in);
bool jute_get_bool(struct jute_in *in);
struct jute_buf jute_get_buffer(struct jute_in *in);
/* Returns a NUL-terminated copy in the arena, or NULL for a null string. */
char *jute_get_string(struct jute_in *in);

void jute_out_init(struct jute_out *out);
void jute_out_close(struct jute_out *out);
/* Empties the buffer but keeps its memory. */
void jute_out_reset(struct jute_out *out);
/* Takes the bytes out of `out` (caller owns them, pd_free) and re-inits it. */
uint8_t *jute_out_steal(struct jute_out *out, size_t *len);

void jute_put_int(struct jute_out *out, int32_t v);
void jute_put_long(struct jute_out *out, int64_t v);
void jute_put_bool(struct jute_out *out, bool v);
void jute_put_buffer(struct jute_out *out, const void *data, int32_t len);
void jute_put_string(struct jute_out *out, const char *s);
void jute_put_raw(struct jute_out *out, const void *data, size_t len);
/* Overwrites 4 bytes at `at` (which must be < out->len - 3) with v, big-endian. */
void jute_patch_int(struct jute_out *out, size_t at, int32_t v);

/* ---- framing ------------------------------------------------------------- */

/*
 * Looks for one frame (4-byte big-endian length + body) at the start of
 * `data`. Returns PD_EAGAIN if more bytes are needed, PD_ETOOBIG if the
 * announced length exceeds max_len (checked before anything is allocated),
 * PD_EMALFORMED for a negative length, or 0 with *body_len set when
 * 4 + *body_len bytes are available.
 */
int jute_frame_peek(const uint8_t *data, size_t len, size_t max_len, size_t *body_len);

/* Starts a frame: reserves the length word; jute_frame_end() fills it in. */
size_t jute_frame_begin(struct jute_out *out);
void jute_frame_end(struct jute_out *out, size_t begin);

/* ---- shared data records -------------------------------------------------- */

struct jute_id {
    char *scheme;
    char *id;
};

struct jute_acl {
    int32_t perms;
    struct jute_id id;
};

struct jute_acl_vec {
    int32_t count;          /* 0 when null */
    bool is_null;           /* decoded from count -1 */
    struct jute_acl *items; /* arena (decode) or borrowed (encode) */
};

struct jute_str_vec {
    int32_t count;
    bool is_null;
    char **items; /* arena (decode) or borrowed (encode) */
};

struct jute_stat {
    int64_t czxid;
    int64_t mzxid;
    int64_t ctime;
    int64_t mtime;
    int32_t version;
    int32_t cversion;
    int32_t aversion;
    int64_t ephemeral_owner;
    int32_t data_length;
    int32_t num_children;
    int64_t pzxid;
};

/* Stat without dataLength/numChildren, as stored in snapshots. */
struct jute_stat_persisted {
    int64_t czxid;
    int64_t mzxid;
    int64_t ctime;
    int64_t mtime;
    int32_t version;
    int32_t cversion;
    int32_t aversion;
    int64_t ephemeral_owner;
    int64_t pzxid;
};

void jute_get_id(struct jute_in *in, struct jute_id *r);
void jute_put_id(struct jute_out *out, const struct jute_id *r);
void jute_get_acl(struct jute_in *in, struct jute_acl *r);
void jute_put_acl(struct jute_out *out, const struct jute_acl *r);
void jute_get_acl_vec(struct jute_in *in, struct jute_acl_vec *r);
void jute_put_acl_vec(struct jute_out *out, const struct jute_acl_vec *r);
void jute_get_str_vec(struct jute_in *in, struct jute_str_vec *r);
void jute_put_str_vec(struct jute_out *out, const struct jute_str_vec *r);
void jute_get_stat(struct jute_in *in, struct jute_stat *r);
void jute_put_stat(struct jute_out *out, const struct jute_stat *r);
void jute_get_stat_persisted(struct jute_in *in, struct jute_stat_persisted *r);
void jute_put_stat_persisted(struct jute_out *out, const struct jute_stat_persisted *r);

/* ---- connection handshake (no RequestHeader) ------------------------------ */

struct jute_connect_request {
    int32_t protocol_version;
    int64_t last_zxid_seen;
    int32_t timeout_ms;
    int64_t session_id;
    struct jute_buf passwd;
    bool read_only;     /* the optional trailing byte */
    bool has_read_only; /* decode: the byte was there; encode: write it */
};

struct jute_connect_response {
    int32_t protocol_version;
    int32_t timeout_ms; /* 0 tells the client its session is expired/invalid */
    int64_t session_id;
    struct jute_buf passwd;
    bool read_only;
    bool has_read_only;
};

void jute_get_connect_request(struct jute_in *in, struct jute_connect_request *r);
void jute_put_connect_request(struct jute_out *out, const struct jute_connect_request *r);
void jute_get_connect_response(struct jute_in *in, struct jute_connect_response *r);
void jute_put_connect_response(struct jute_out *out, const struct jute_connect_response *r);

/* ---- headers ------------------------------------------------------------- */

struct jute_request_header {
    int32_t xid;
    int32_t type;
};

struct jute_reply_header {
    int32_t xid;
    int64_t zxid;
    int32_t err;
};

struct jute_multi_header {
    int32_t type; /* opcode, or -1 for an error result / the terminator */
    bool done;
    int32_t err;
};

void jute_get_request_header(struct jute_in *in, struct jute_request_header *r);
void jute_put_request_header(struct jute_out *out, const struct jute_request_header *r);
void jute_get_reply_header(struct jute_in *in, struct jute_reply_header *r);
void jute_put_reply_header(struct jute_out *out, const struct jute_reply_header *r);
void jute_get_multi_header(struct jute_in *in, struct jute_multi_header *r);
void jute_put_multi_header(struct jute_out *out, const struct jute_multi_header *r);

/* ---- requests -------------------------------------------------------------- */

/* getData(4), exists(3), getChildren(8), getChildren2(12) */
struct jute_path_watch_request {
    char *path;
    bool watch;
};

/* sync(9), getACL(6), getAllChildrenNumber(104), getEphemerals(103: prefixPath) */
struct jute_path_request {
    char *path;
};

/* delete(2), check(13) */
struct jute_path_version_request {
    char *path;
    int32_t version;
};

/* checkWatches(17), removeWatches(18): type is a zk_watcher_type;
 * addWatch(106): type carries the mode (zk_add_watch_mode). */
struct jute_path_type_request {
    char *path;
    int32_t type;
};

/* create(1), create2(15), createContainer(19); createTTL(21) adds ttl. */
struct jute_create_request {
    char *path;
    struct jute_buf data;
    struct jute_acl_vec acl;
    int32_t flags;
    int64_t ttl; /* only on the wire for createTTL */
};

struct jute_set_data_request {
    char *path;
    struct jute_buf data;
    int32_t version;
};

struct jute_set_acl_request {
    char *path;
    struct jute_acl_vec acl;
    int32_t version;
};

struct jute_reconfig_request {
    char *joining_servers;
    char *leaving_servers;
    char *new_members;
    int64_t cur_config_id;
};

struct jute_auth_packet {
    int32_t type;
    char *scheme;
    struct jute_buf auth;
};

/* setWatches(101) and setWatches2(105): the last two vectors only in v2. */
struct jute_set_watches {
    int64_t relative_zxid;
    struct jute_str_vec data_watches;
    struct jute_str_vec exist_watches;
    struct jute_str_vec child_watches;
    struct jute_str_vec persistent_watches;
    struct jute_str_vec persistent_recursive_watches;
};

void jute_get_path_watch_request(struct jute_in *in, struct jute_path_watch_request *r);
void jute_put_path_watch_request(struct jute_out *out, const struct jute_path_watch_request *r);
void jute_get_path_request(struct jute_in *in, struct jute_path_request *r);
void jute_put_path_request(struct jute_out *out, const struct jute_path_request *r);
void jute_get_path_version_request(struct jute_in *in, struct jute_path_version_request *r);
void jute_put_path_version_request(struct jute_out *out, const struct jute_path_version_request *r);
void jute_get_path_type_request(struct jute_in *in, struct jute_path_type_request *r);
void jute_put_path_type_request(struct jute_out *out, const struct jute_path_type_request *r);
/* with_ttl: the record is a CreateTTLRequest (opcode 21). */
void jute_get_create_request(struct jute_in *in, struct jute_create_request *r, bool with_ttl);
void jute_put_create_request(struct jute_out *out, const struct jute_create_request *r,
                             bool with_ttl);
void jute_get_set_data_request(struct jute_in *in, struct jute_set_data_request *r);
void jute_put_set_data_request(struct jute_out *out, const struct jute_set_data_request *r);
void jute_get_set_acl_request(struct jute_in *in, struct jute_set_acl_request *r);
void jute_put_set_acl_request(struct jute_out *out, const struct jute_set_acl_request *r);
void jute_get_reconfig_request(struct jute_in *in, struct jute_reconfig_request *r);
void jute_put_reconfig_request(struct jute_out *out, const struct jute_reconfig_request *r);
void jute_get_auth_packet(struct jute_in *in, struct jute_auth_packet *r);
void jute_put_auth_packet(struct jute_out *out, const struct jute_auth_packet *r);
/* v2: the record is a SetWatches2 (opcode 105). */
void jute_get_set_watches(struct jute_in *in, struct jute_set_watches *r, bool v2);
void jute_put_set_watches(struct jute_out *out, const struct jute_set_watches *r, bool v2);

/* ---- responses ------------------------------------------------------------ */

/* exists(3), setData(5), setACL(7) reply with a bare Stat: use jute_*_stat. */

/* create(1) -> CreateResponse; sync(9) -> SyncResponse: both a single path. */
struct jute_path_response {
    char *path;
};

/* create2(15), createContainer(19), createTTL(21) */
struct jute_create2_response {
    char *path;
    struct jute_stat stat;
};

struct jute_get_data_response {
    struct jute_buf data;
    struct jute_stat stat;
};

/* getChildren(8) (no stat) and getChildren2(12) (with_stat) */
struct jute_get_children_response {
    struct jute_str_vec children;
    struct jute_stat stat;
};

struct jute_get_acl_response {
    struct jute_acl_vec acl;
    struct jute_stat stat;
};

/* getEphemerals(103) */
struct jute_get_ephemerals_response {
    struct jute_str_vec ephemerals;
};

struct jute_client_info {
    char *auth_scheme;
    char *user;
};

/* whoAmI(107) */
struct jute_whoami_response {
    int32_t count;
    struct jute_client_info *items;
};

/* Sent with ReplyHeader{xid=-1}. */
struct jute_watcher_event {
    int32_t type;
    int32_t state;
    char *path;
};

void jute_get_path_response(struct jute_in *in, struct jute_path_response *r);
void jute_put_path_response(struct jute_out *out, const struct jute_path_response *r);
void jute_get_create2_response(struct jute_in *in, struct jute_create2_response *r);
void jute_put_create2_response(struct jute_out *out, const struct jute_create2_response *r);
void jute_get_get_data_response(struct jute_in *in, struct jute_get_data_response *r);
void jute_put_get_data_response(struct jute_out *out, const struct jute_get_data_response *r);
void jute_get_get_children_response(struct jute_in *in, struct jute_get_children_response *r,
                                    bool with_stat);
void jute_put_get_children_response(struct jute_out *out,
                                    const struct jute_get_children_response *r, bool with_stat);
void jute_get_get_acl_response(struct jute_in *in, struct jute_get_acl_response *r);
void jute_put_get_acl_response(struct jute_out *out, const struct jute_get_acl_response *r);
void jute_get_get_ephemerals_response(struct jute_in *in, struct jute_get_ephemerals_response *r);
void jute_put_get_ephemerals_response(struct jute_out *out,
                                      const struct jute_get_ephemerals_response *r);
void jute_get_whoami_response(struct jute_in *in, struct jute_whoami_response *r);
void jute_put_whoami_response(struct jute_out *out, const struct jute_whoami_response *r);
void jute_get_watcher_event(struct jute_in *in, struct jute_watcher_event *r);
void jute_put_watcher_event(struct jute_out *out, const struct jute_watcher_event *r);

/* ---- transactions (txn log, snapshots, Zab proposals) ---------------------- */

struct jute_txn_header {
    int64_t client_id;
    int32_t cxid;
    int64_t zxid;
    int64_t time;
    int32_t type; /* opcode; ZOO_OP_ERROR for an ErrorTxn */
};

struct jute_txn_digest {
    int32_t version;
    int64_t tree_digest;
};

/* CreateTxn (create, create2, persistent/ephemeral, sequential resolved). */
struct jute_create_txn {
    char *path;
    struct jute_buf data;
    struct jute_acl_vec acl;
    bool ephemeral;
    int32_t parent_cversion;
};

struct jute_create_ttl_txn {
    char *path;
    struct jute_buf data;
    struct jute_acl_vec acl;
    int32_t parent_cversion;
    int64_t ttl;
};

struct jute_create_container_txn {
    char *path;
    struct jute_buf data;
    struct jute_acl_vec acl;
    int32_t parent_cversion;
};

/* DeleteTxn: a jute_path_request on the wire (one ustring). */

struct jute_set_data_txn {
    char *path;
    struct jute_buf data;
    int32_t version;
};

/* CheckVersionTxn: a jute_path_version_request on the wire. */

struct jute_set_acl_txn {
    char *path;
    struct jute_acl_vec acl;
    int32_t version;
};

struct jute_create_session_txn {
    int32_t timeout_ms;
};

/* CloseSessionTxn (3.6+): the ephemerals to delete. */
struct jute_close_session_txn {
    struct jute_str_vec paths_to_delete;
};

struct jute_error_txn {
    int32_t err;
};

/* One sub-txn of a MultiTxn: its type and its encoded body. */
struct jute_txn {
    int32_t type;
    struct jute_buf data;
};

struct jute_multi_txn {
    int32_t count;
    struct jute_txn *txns;
};

void jute_get_txn_header(struct jute_in *in, struct jute_txn_header *r);
void jute_put_txn_header(struct jute_out *out, const struct jute_txn_header *r);
void jute_get_txn_digest(struct jute_in *in, struct jute_txn_digest *r);
void jute_put_txn_digest(struct jute_out *out, const struct jute_txn_digest *r);
void jute_get_create_txn(struct jute_in *in, struct jute_create_txn *r);
void jute_put_create_txn(struct jute_out *out, const struct jute_create_txn *r);
void jute_get_create_ttl_txn(struct jute_in *in, struct jute_create_ttl_txn *r);
void jute_put_create_ttl_txn(struct jute_out *out, const struct jute_create_ttl_txn *r);
void jute_get_create_container_txn(struct jute_in *in, struct jute_create_container_txn *r);
void jute_put_create_container_txn(struct jute_out *out, const struct jute_create_container_txn *r);
void jute_get_set_data_txn(struct jute_in *in, struct jute_set_data_txn *r);
void jute_put_set_data_txn(struct jute_out *out, const struct jute_set_data_txn *r);
void jute_get_set_acl_txn(struct jute_in *in, struct jute_set_acl_txn *r);
void jute_put_set_acl_txn(struct jute_out *out, const struct jute_set_acl_txn *r);
void jute_get_create_session_txn(struct jute_in *in, struct jute_create_session_txn *r);
void jute_put_create_session_txn(struct jute_out *out, const struct jute_create_session_txn *r);
void jute_get_close_session_txn(struct jute_in *in, struct jute_close_session_txn *r);
void jute_put_close_session_txn(struct jute_out *out, const struct jute_close_session_txn *r);
void jute_get_error_txn(struct jute_in *in, struct jute_error_txn *r);
void jute_put_error_txn(struct jute_out *out, const struct jute_error_txn *r);
void jute_get_multi_txn(struct jute_in *in, struct jute_multi_txn *r);
void jute_put_multi_txn(struct jute_out *out, const struct jute_multi_txn *r);

#endif
