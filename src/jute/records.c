/*
 * Encoders and decoders for the records of zookeeper.jute that clients and
 * the txn log use (jute.h). Field order is wire order; each function is a
 * straight line of primitive calls because the reader and writer carry a
 * sticky error.
 */
#include "jute/jute.h"

#include "common/err.h"

/*
 * Reads a vector count and allocates `count` elements of `size` bytes in the
 * arena. Each element takes at least `min_wire` bytes, so a count larger than
 * what is left in the frame is malformed, and is refused before allocation.
 */
static void *get_vec(struct jute_in *in, int32_t *count, bool *is_null, size_t size,
                     size_t min_wire)
{
    int32_t n = jute_get_int(in);
    *count = 0;
    if (is_null)
        *is_null = false;
    if (in->err)
        return NULL;
    if (n == -1) {
        if (is_null)
            *is_null = true;
        return NULL;
    }
    if (n < 0 || (size_t)n > jute_in_left(in) / min_wire) {
        in->err = PD_EMALFORMED;
        return NULL;
    }
    if (n == 0)
        return NULL;
    void *items = arena_alloc(in->arena, (size_t)n * size);
    if (!items) {
        in->err = PD_ENOMEM;
        return NULL;
    }
    *count = n;
    return items;
}

void jute_get_id(struct jute_in *in, struct jute_id *r)
{
    r->scheme = jute_get_string(in);
    r->id = jute_get_string(in);
}

void jute_put_id(struct jute_out *out, const struct jute_id *r)
{
    jute_put_string(out, r->scheme);
    jute_put_string(out, r->id);
}

void jute_get_acl(struct jute_in *in, struct jute_acl *r)
{
    r->perms = jute_get_int(in);
    jute_get_id(in, &r->id);
}

void jute_put_acl(struct jute_out *out, const struct jute_acl *r)
{
    jute_put_int(out, r->perms);
    jute_put_id(out, &r->id);
}

void jute_get_acl_vec(struct jute_in *in, struct jute_acl_vec *r)
{
    r->items = get_vec(in, &r->count, &r->is_null, sizeof(*r->items), 12);
    for (int32_t i = 0; i < r->count && !in->err; i++)
        jute_get_acl(in, &r->items[i]);
}

void jute_put_acl_vec(struct jute_out *out, const struct jute_acl_vec *r)
{
    if (r->is_null) {
        jute_put_int(out, -1);
        return;
    }
    jute_put_int(out, r->count);
    for (int32_t i = 0; i < r->count; i++)
        jute_put_acl(out, &r->items[i]);
}

void jute_get_str_vec(struct jute_in *in, struct jute_str_vec *r)
{
    r->items = get_vec(in, &r->count, &r->is_null, sizeof(*r->items), 4);
    for (int32_t i = 0; i < r->count && !in->err; i++)
        r->items[i] = jute_get_string(in);
}

void jute_put_str_vec(struct jute_out *out, const struct jute_str_vec *r)
{
    if (r->is_null) {
        jute_put_int(out, -1);
        return;
    }
    jute_put_int(out, r->count);
    for (int32_t i = 0; i < r->count; i++)
        jute_put_string(out, r->items[i]);
}

void jute_get_stat(struct jute_in *in, struct jute_stat *r)
{
    r->czxid = jute_get_long(in);
    r->mzxid = jute_get_long(in);
    r->ctime = jute_get_long(in);
    r->mtime = jute_get_long(in);
    r->version = jute_get_int(in);
    r->cversion = jute_get_int(in);
    r->aversion = jute_get_int(in);
    r->ephemeral_owner = jute_get_long(in);
    r->data_length = jute_get_int(in);
    r->num_children = jute_get_int(in);
    r->pzxid = jute_get_long(in);
}

void jute_put_stat(struct jute_out *out, const struct jute_stat *r)
{
    jute_put_long(out, r->czxid);
    jute_put_long(out, r->mzxid);
    jute_put_long(out, r->ctime);
    jute_put_long(out, r->mtime);
    jute_put_int(out, r->version);
    jute_put_int(out, r->cversion);
    jute_put_int(out, r->aversion);
    jute_put_long(out, r->ephemeral_owner);
    jute_put_int(out, r->data_length);
    jute_put_int(out, r->num_children);
    jute_put_long(out, r->pzxid);
}

void jute_get_stat_persisted(struct jute_in *in, struct jute_stat_persisted *r)
{
    r->czxid = jute_get_long(in);
    r->mzxid = jute_get_long(in);
    r->ctime = jute_get_long(in);
    r->mtime = jute_get_long(in);
    r->version = jute_get_int(in);
    r->cversion = jute_get_int(in);
    r->aversion = jute_get_int(in);
    r->ephemeral_owner = jute_get_long(in);
    r->pzxid = jute_get_long(in);
}

void jute_put_stat_persisted(struct jute_out *out, const struct jute_stat_persisted *r)
{
    jute_put_long(out, r->czxid);
    jute_put_long(out, r->mzxid);
    jute_put_long(out, r->ctime);
    jute_put_long(out, r->mtime);
    jute_put_int(out, r->version);
    jute_put_int(out, r->cversion);
    jute_put_int(out, r->aversion);
    jute_put_long(out, r->ephemeral_owner);
    jute_put_long(out, r->pzxid);
}

/* ---- handshake ---- */

void jute_get_connect_request(struct jute_in *in, struct jute_connect_request *r)
{
    r->protocol_version = jute_get_int(in);
    r->last_zxid_seen = jute_get_long(in);
    r->timeout_ms = jute_get_int(in);
    r->session_id = jute_get_long(in);
    r->passwd = jute_get_buffer(in);
    /* 3.4-3.8 clients append readOnly by hand; older ones leave it out. */
    r->has_read_only = !in->err && jute_in_left(in) >= 1;
    r->read_only = r->has_read_only ? jute_get_bool(in) : false;
}

void jute_put_connect_request(struct jute_out *out, const struct jute_connect_request *r)
{
    jute_put_int(out, r->protocol_version);
    jute_put_long(out, r->last_zxid_seen);
    jute_put_int(out, r->timeout_ms);
    jute_put_long(out, r->session_id);
    jute_put_buffer(out, r->passwd.data, r->passwd.len);
    if (r->has_read_only)
        jute_put_bool(out, r->read_only);
}

void jute_get_connect_response(struct jute_in *in, struct jute_connect_response *r)
{
    r->protocol_version = jute_get_int(in);
    r->timeout_ms = jute_get_int(in);
    r->session_id = jute_get_long(in);
    r->passwd = jute_get_buffer(in);
    r->has_read_only = !in->err && jute_in_left(in) >= 1;
    r->read_only = r->has_read_only ? jute_get_bool(in) : false;
}

void jute_put_connect_response(struct jute_out *out, const struct jute_connect_response *r)
{
    jute_put_int(out, r->protocol_version);
    jute_put_int(out, r->timeout_ms);
    jute_put_long(out, r->session_id);
    jute_put_buffer(out, r->passwd.data, r->passwd.len);
    if (r->has_read_only)
        jute_put_bool(out, r->read_only);
}

/* ---- headers ---- */

void jute_get_request_header(struct jute_in *in, struct jute_request_header *r)
{
    r->xid = jute_get_int(in);
    r->type = jute_get_int(in);
}

void jute_put_request_header(struct jute_out *out, const struct jute_request_header *r)
{
    jute_put_int(out, r->xid);
    jute_put_int(out, r->type);
}

void jute_get_reply_header(struct jute_in *in, struct jute_reply_header *r)
{
    r->xid = jute_get_int(in);
    r->zxid = jute_get_long(in);
    r->err = jute_get_int(in);
}

void jute_put_reply_header(struct jute_out *out, const struct jute_reply_header *r)
{
    jute_put_int(out, r->xid);
    jute_put_long(out, r->zxid);
    jute_put_int(out, r->err);
}

void jute_get_multi_header(struct jute_in *in, struct jute_multi_header *r)
{
    r->type = jute_get_int(in);
    r->done = jute_get_bool(in);
    r->err = jute_get_int(in);
}

void jute_put_multi_header(struct jute_out *out, const struct jute_multi_header *r)
{
    jute_put_int(out, r->type);
    jute_put_bool(out, r->done);
    jute_put_int(out, r->err);
}

/* ---- requests ---- */

void jute_get_path_watch_request(struct jute_in *in, struct jute_path_watch_request *r)
{
    r->path = jute_get_string(in);
    r->watch = jute_get_bool(in);
}

void jute_put_path_watch_request(struct jute_out *out, const struct jute_path_watch_request *r)
{
    jute_put_string(out, r->path);
    jute_put_bool(out, r->watch);
}

void jute_get_path_request(struct jute_in *in, struct jute_path_request *r)
{
    r->path = jute_get_string(in);
}

void jute_put_path_request(struct jute_out *out, const struct jute_path_request *r)
{
    jute_put_string(out, r->path);
}

void jute_get_path_version_request(struct jute_in *in, struct jute_path_version_request *r)
{
    r->path = jute_get_string(in);
    r->version = jute_get_int(in);
}

void jute_put_path_version_request(struct jute_out *out, const struct jute_path_version_request *r)
{
    jute_put_string(out, r->path);
    jute_put_int(out, r->version);
}

void jute_get_path_type_request(struct jute_in *in, struct jute_path_type_request *r)
{
    r->path = jute_get_string(in);
    r->type = jute_get_int(in);
}

void jute_put_path_type_request(struct jute_out *out, const struct jute_path_type_request *r)
{
    jute_put_string(out, r->path);
    jute_put_int(out, r->type);
}

void jute_get_create_request(struct jute_in *in, struct jute_create_request *r, bool with_ttl)
{
    r->path = jute_get_string(in);
    r->data = jute_get_buffer(in);
    jute_get_acl_vec(in, &r->acl);
    r->flags = jute_get_int(in);
    r->ttl = with_ttl ? jute_get_long(in) : -1;
}

void jute_put_create_request(struct jute_out *out, const struct jute_create_request *r,
                             bool with_ttl)
{
    jute_put_string(out, r->path);
    jute_put_buffer(out, r->data.data, r->data.len);
    jute_put_acl_vec(out, &r->acl);
    jute_put_int(out, r->flags);
    if (with_ttl)
        jute_put_long(out, r->ttl);
}

void jute_get_set_data_request(struct jute_in *in, struct jute_set_data_request *r)
{
    r->path = jute_get_string(in);
    r->data = jute_get_buffer(in);
    r->version = jute_get_int(in);
}

void jute_put_set_data_request(struct jute_out *out, const struct jute_set_data_request *r)
{
    jute_put_string(out, r->path);
    jute_put_buffer(out, r->data.data, r->data.len);
    jute_put_int(out, r->version);
}

void jute_get_set_acl_request(struct jute_in *in, struct jute_set_acl_request *r)
{
    r->path = jute_get_string(in);
    jute_get_acl_vec(in, &r->acl);
    r->version = jute_get_int(in);
}

void jute_put_set_acl_request(struct jute_out *out, const struct jute_set_acl_request *r)
{
    jute_put_string(out, r->path);
    jute_put_acl_vec(out, &r->acl);
    jute_put_int(out, r->version);
}

void jute_get_reconfig_request(struct jute_in *in, struct jute_reconfig_request *r)
{
    r->joining_servers = jute_get_string(in);
    r->leaving_servers = jute_get_string(in);
    r->new_members = jute_get_string(in);
    r->cur_config_id = jute_get_long(in);
}

void jute_put_reconfig_request(struct jute_out *out, const struct jute_reconfig_request *r)
{
    jute_put_string(out, r->joining_servers);
    jute_put_string(out, r->leaving_servers);
    jute_put_string(out, r->new_members);
    jute_put_long(out, r->cur_config_id);
}

void jute_get_auth_packet(struct jute_in *in, struct jute_auth_packet *r)
{
    r->type = jute_get_int(in);
    r->scheme = jute_get_string(in);
    r->auth = jute_get_buffer(in);
}

void jute_put_auth_packet(struct jute_out *out, const struct jute_auth_packet *r)
{
    jute_put_int(out, r->type);
    jute_put_string(out, r->scheme);
    jute_put_buffer(out, r->auth.data, r->auth.len);
}

void jute_get_set_watches(struct jute_in *in, struct jute_set_watches *r, bool v2)
{
    r->relative_zxid = jute_get_long(in);
    jute_get_str_vec(in, &r->data_watches);
    jute_get_str_vec(in, &r->exist_watches);
    jute_get_str_vec(in, &r->child_watches);
    if (v2) {
        jute_get_str_vec(in, &r->persistent_watches);
        jute_get_str_vec(in, &r->persistent_recursive_watches);
    } else {
        r->persistent_watches = (struct jute_str_vec){0};
        r->persistent_recursive_watches = (struct jute_str_vec){0};
    }
}

void jute_put_set_watches(struct jute_out *out, const struct jute_set_watches *r, bool v2)
{
    jute_put_long(out, r->relative_zxid);
    jute_put_str_vec(out, &r->data_watches);
    jute_put_str_vec(out, &r->exist_watches);
    jute_put_str_vec(out, &r->child_watches);
    if (v2) {
        jute_put_str_vec(out, &r->persistent_watches);
        jute_put_str_vec(out, &r->persistent_recursive_watches);
    }
}

/* ---- responses ---- */

void jute_get_path_response(struct jute_in *in, struct jute_path_response *r)
{
    r->path = jute_get_string(in);
}

void jute_put_path_response(struct jute_out *out, const struct jute_path_response *r)
{
    jute_put_string(out, r->path);
}

void jute_get_create2_response(struct jute_in *in, struct jute_create2_response *r)
{
    r->path = jute_get_string(in);
    jute_get_stat(in, &r->stat);
}

void jute_put_create2_response(struct jute_out *out, const struct jute_create2_response *r)
{
    jute_put_string(out, r->path);
    jute_put_stat(out, &r->stat);
}

void jute_get_get_data_response(struct jute_in *in, struct jute_get_data_response *r)
{
    r->data = jute_get_buffer(in);
    jute_get_stat(in, &r->stat);
}

void jute_put_get_data_response(struct jute_out *out, const struct jute_get_data_response *r)
{
    jute_put_buffer(out, r->data.data, r->data.len);
    jute_put_stat(out, &r->stat);
}

void jute_get_get_children_response(struct jute_in *in, struct jute_get_children_response *r,
                                    bool with_stat)
{
    jute_get_str_vec(in, &r->children);
    if (with_stat)
        jute_get_stat(in, &r->stat);
}

void jute_put_get_children_response(struct jute_out *out,
                                    const struct jute_get_children_response *r, bool with_stat)
{
    jute_put_str_vec(out, &r->children);
    if (with_stat)
        jute_put_stat(out, &r->stat);
}

void jute_get_get_acl_response(struct jute_in *in, struct jute_get_acl_response *r)
{
    jute_get_acl_vec(in, &r->acl);
    jute_get_stat(in, &r->stat);
}

void jute_put_get_acl_response(struct jute_out *out, const struct jute_get_acl_response *r)
{
    jute_put_acl_vec(out, &r->acl);
    jute_put_stat(out, &r->stat);
}

void jute_get_get_ephemerals_response(struct jute_in *in, struct jute_get_ephemerals_response *r)
{
    jute_get_str_vec(in, &r->ephemerals);
}

void jute_put_get_ephemerals_response(struct jute_out *out,
                                      const struct jute_get_ephemerals_response *r)
{
    jute_put_str_vec(out, &r->ephemerals);
}

void jute_get_whoami_response(struct jute_in *in, struct jute_whoami_response *r)
{
    r->items = get_vec(in, &r->count, NULL, sizeof(*r->items), 8);
    for (int32_t i = 0; i < r->count && !in->err; i++) {
        r->items[i].auth_scheme = jute_get_string(in);
        r->items[i].user = jute_get_string(in);
    }
}

void jute_put_whoami_response(struct jute_out *out, const struct jute_whoami_response *r)
{
    jute_put_int(out, r->count);
    for (int32_t i = 0; i < r->count; i++) {
        jute_put_string(out, r->items[i].auth_scheme);
        jute_put_string(out, r->items[i].user);
    }
}

void jute_get_watcher_event(struct jute_in *in, struct jute_watcher_event *r)
{
    r->type = jute_get_int(in);
    r->state = jute_get_int(in);
    r->path = jute_get_string(in);
}

void jute_put_watcher_event(struct jute_out *out, const struct jute_watcher_event *r)
{
    jute_put_int(out, r->type);
    jute_put_int(out, r->state);
    jute_put_string(out, r->path);
}

/* ---- transactions ---- */

void jute_get_txn_header(struct jute_in *in, struct jute_txn_header *r)
{
    r->client_id = jute_get_long(in);
    r->cxid = jute_get_int(in);
    r->zxid = jute_get_long(in);
    r->time = jute_get_long(in);
    r->type = jute_get_int(in);
}

void jute_put_txn_header(struct jute_out *out, const struct jute_txn_header *r)
{
    jute_put_long(out, r->client_id);
    jute_put_int(out, r->cxid);
    jute_put_long(out, r->zxid);
    jute_put_long(out, r->time);
    jute_put_int(out, r->type);
}

void jute_get_txn_digest(struct jute_in *in, struct jute_txn_digest *r)
{
    r->version = jute_get_int(in);
    r->tree_digest = jute_get_long(in);
}

void jute_put_txn_digest(struct jute_out *out, const struct jute_txn_digest *r)
{
    jute_put_int(out, r->version);
    jute_put_long(out, r->tree_digest);
}

void jute_get_create_txn(struct jute_in *in, struct jute_create_txn *r)
{
    r->path = jute_get_string(in);
    r->data = jute_get_buffer(in);
    jute_get_acl_vec(in, &r->acl);
    r->ephemeral = jute_get_bool(in);
    r->parent_cversion = jute_get_int(in);
}

void jute_put_create_txn(struct jute_out *out, const struct jute_create_txn *r)
{
    jute_put_string(out, r->path);
    jute_put_buffer(out, r->data.data, r->data.len);
    jute_put_acl_vec(out, &r->acl);
    jute_put_bool(out, r->ephemeral);
    jute_put_int(out, r->parent_cversion);
}

void jute_get_create_ttl_txn(struct jute_in *in, struct jute_create_ttl_txn *r)
{
    r->path = jute_get_string(in);
    r->data = jute_get_buffer(in);
    jute_get_acl_vec(in, &r->acl);
    r->parent_cversion = jute_get_int(in);
    r->ttl = jute_get_long(in);
}

void jute_put_create_ttl_txn(struct jute_out *out, const struct jute_create_ttl_txn *r)
{
    jute_put_string(out, r->path);
    jute_put_buffer(out, r->data.data, r->data.len);
    jute_put_acl_vec(out, &r->acl);
    jute_put_int(out, r->parent_cversion);
    jute_put_long(out, r->ttl);
}

void jute_get_create_container_txn(struct jute_in *in, struct jute_create_container_txn *r)
{
    r->path = jute_get_string(in);
    r->data = jute_get_buffer(in);
    jute_get_acl_vec(in, &r->acl);
    r->parent_cversion = jute_get_int(in);
}

void jute_put_create_container_txn(struct jute_out *out, const struct jute_create_container_txn *r)
{
    jute_put_string(out, r->path);
    jute_put_buffer(out, r->data.data, r->data.len);
    jute_put_acl_vec(out, &r->acl);
    jute_put_int(out, r->parent_cversion);
}

void jute_get_set_data_txn(struct jute_in *in, struct jute_set_data_txn *r)
{
    r->path = jute_get_string(in);
    r->data = jute_get_buffer(in);
    r->version = jute_get_int(in);
}

void jute_put_set_data_txn(struct jute_out *out, const struct jute_set_data_txn *r)
{
    jute_put_string(out, r->path);
    jute_put_buffer(out, r->data.data, r->data.len);
    jute_put_int(out, r->version);
}

void jute_get_set_acl_txn(struct jute_in *in, struct jute_set_acl_txn *r)
{
    r->path = jute_get_string(in);
    jute_get_acl_vec(in, &r->acl);
    r->version = jute_get_int(in);
}

void jute_put_set_acl_txn(struct jute_out *out, const struct jute_set_acl_txn *r)
{
    jute_put_string(out, r->path);
    jute_put_acl_vec(out, &r->acl);
    jute_put_int(out, r->version);
}

void jute_get_create_session_txn(struct jute_in *in, struct jute_create_session_txn *r)
{
    r->timeout_ms = jute_get_int(in);
}

void jute_put_create_session_txn(struct jute_out *out, const struct jute_create_session_txn *r)
{
    jute_put_int(out, r->timeout_ms);
}

void jute_get_close_session_txn(struct jute_in *in, struct jute_close_session_txn *r)
{
    jute_get_str_vec(in, &r->paths_to_delete);
}

void jute_put_close_session_txn(struct jute_out *out, const struct jute_close_session_txn *r)
{
    jute_put_str_vec(out, &r->paths_to_delete);
}

void jute_get_error_txn(struct jute_in *in, struct jute_error_txn *r)
{
    r->err = jute_get_int(in);
}

void jute_put_error_txn(struct jute_out *out, const struct jute_error_txn *r)
{
    jute_put_int(out, r->err);
}

void jute_get_multi_txn(struct jute_in *in, struct jute_multi_txn *r)
{
    r->txns = get_vec(in, &r->count, NULL, sizeof(*r->txns), 8);
    for (int32_t i = 0; i < r->count && !in->err; i++) {
        r->txns[i].type = jute_get_int(in);
        r->txns[i].data = jute_get_buffer(in);
    }
}

void jute_put_multi_txn(struct jute_out *out, const struct jute_multi_txn *r)
{
    jute_put_int(out, r->count);
    for (int32_t i = 0; i < r->count; i++) {
        jute_put_int(out, r->txns[i].type);
        jute_put_buffer(out, r->txns[i].data.data, r->txns[i].data.len);
    }
}
