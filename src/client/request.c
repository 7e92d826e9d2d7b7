/*
 * Every request of the client protocol: the public pdk_* request functions
 * encode straight into the client's output buffer (or `held` while not
 * connected) and push a `struct req` on the FIFO; request_decode() turns a
 * reply body back into a struct pdk_result. Records and field order:
 * zookeeper.jute; which reply goes with which request and how multi results
 * are laid out: Apache ZooKeeper's ClientCnxn / ZooKeeper.java / MultiResponse.
 *
 * Request paths are written as one jute string made of chroot + path, without
 * building the joined string: that is why bodies are written field by field
 * with the jute primitives rather than through jute_put_*_request().
 * Replies are decoded with src/jute's record decoders.
 *
 * Nothing here allocates per request except the server path of a request
 * that registers or removes a watch.
 */
#include "client/client_int.h"

#include "common/alloc.h"
#include "common/err.h"

#include <string.h>

#define CONFIG_NODE "/zookeeper/config"

/* Stay below the 1 MiB frame limit with some room (ZooKeeper's client uses 128 KiB). */
#define SET_WATCHES_MAX_BYTES (128 * 1024)

static const struct pdk_acl open_acl[] = {{PDK_PERM_ALL, "world", "anyone"}};
static const struct pdk_acl read_acl[] = {{PDK_PERM_READ, "world", "anyone"}};
static const struct pdk_acl creator_acl[] = {{PDK_PERM_ALL, "auth", ""}};
const struct pdk_acl_list pdk_acl_open_unsafe = {1, open_acl};
const struct pdk_acl_list pdk_acl_read_unsafe = {1, read_acl};
const struct pdk_acl_list pdk_acl_creator_all = {1, creator_acl};

/* ---- submission ------------------------------------------------------------ */

/* A request being encoded: where its frame starts, in which buffer. */
struct draft {
    struct jute_out *out;
    size_t frame_at;
    struct req r;
};

static int grow_ring(struct pdk_client *c)
{
    uint32_t cap = c->req_cap ? c->req_cap * 2 : 64;
    struct req *n = pd_malloc((size_t)cap * sizeof(*n));
    if (!n)
        return PDK_ZSYSTEMERROR;
    for (uint32_t i = 0; i < c->n_reqs; i++)
        n[i] = c->reqs[(c->req_head + i) & (c->req_cap - 1)];
    pd_free(c->reqs);
    c->reqs = n;
    c->req_cap = cap;
    c->req_head = 0;
    return 0;
}

/* Starts a request: checks the state, writes the frame length slot and the RequestHeader. */
static int begin(struct pdk_client *c, int32_t op, pdk_completion_fn cb, void *ctx, struct draft *d)
{
    /* Callers use the draft only when this returns 0; emptying it first also spares gcc -O3
     * (Release builds) a maybe-uninitialized warning it cannot see through. */
    *d = (struct draft){0};
    if (c->is_free_pending)
        return PDK_ZCLOSING;
    if (client_is_finished(c))
        return client_finished_rc(c);
    if (c->state == CS_CLOSING)
        return PDK_ZCLOSING;
    if (c->n_reqs == c->req_cap && grow_ring(c) != 0)
        return PDK_ZSYSTEMERROR;
    d->out = c->state == CS_CONNECTED ? &c->out : &c->held;
    d->frame_at = jute_frame_begin(d->out);
    int32_t xid = c->next_xid;
    c->next_xid = xid == INT32_MAX ? 1 : xid + 1;
    struct jute_request_header h = {.xid = xid, .type = op};
    jute_put_request_header(d->out, &h);
    d->r = (struct req){.xid = xid, .op = op, .cb = cb, .ctx = ctx};
    return 0;
}

/* Undoes a draft's bytes (after an error). */
static void drop(struct draft *d)
{
    d->out->len = d->frame_at;
    d->out->err = 0;
    pd_free(d->r.wpath);
    d->r.wpath = NULL;
}

/* Finishes a request: closes the frame and queues the req. */
static int finish(struct pdk_client *c, struct draft *d)
{
    if (d->out->err) {
        drop(d);
        return PDK_ZSYSTEMERROR;
    }
    jute_frame_end(d->out, d->frame_at);
    c->reqs[(c->req_head + c->n_reqs) & (c->req_cap - 1)] = d->r;
    c->n_reqs++;
    if (d->out == &c->out)
        c->n_in_conn++;
    return 0;
}

/* Writes chroot + path as one jute string. */
static void put_path(struct pdk_client *c, struct jute_out *out, const char *path)
{
    size_t n = strlen(path);
    if (c->chroot && strcmp(path, "/") == 0)
        n = 0; /* "/" under a chroot is the chroot itself */
    jute_put_int(out, (int32_t)(c->chroot_len + n));
    if (c->chroot_len)
        jute_put_raw(out, c->chroot, c->chroot_len);
    jute_put_raw(out, path, n);
}

/* Returns an owned server path (chroot + path), or NULL. */
static char *server_path(const struct pdk_client *c, const char *path)
{
    size_t n = strlen(path);
    if (c->chroot && strcmp(path, "/") == 0)
        n = 0;
    char *s = pd_malloc(c->chroot_len + n + 1);
    if (!s)
        return NULL;
    if (c->chroot_len)
        memcpy(s, c->chroot, c->chroot_len);
    memcpy(s + c->chroot_len, path, n);
    s[c->chroot_len + n] = '\0';
    return s;
}

static void put_acls(struct jute_out *out, const struct pdk_acl_list *acl)
{
    if (!acl)
        acl = &pdk_acl_open_unsafe;
    jute_put_int(out, acl->count);
    for (int32_t i = 0; i < acl->count; i++) {
        jute_put_int(out, acl->items[i].perms);
        jute_put_string(out, acl->items[i].scheme);
        jute_put_string(out, acl->items[i].id);
    }
}

static bool acl_is_valid(const struct pdk_acl_list *acl)
{
    if (!acl)
        return true;
    if (acl->count < 0 || (acl->count > 0 && !acl->items))
        return false;
    for (int32_t i = 0; i < acl->count; i++)
        if (!acl->items[i].scheme || !acl->items[i].id)
            return false;
    return true;
}

static bool data_is_valid(const struct pdk_client *c, const void *data, int32_t len)
{
    return len < 0 || ((data || len == 0) && (size_t)len <= c->max_frame_bytes);
}

/* Attaches a watch registration to a draft; the server path is kept for the reply. */
static int attach_watch(struct pdk_client *c, struct draft *d, const char *path, bool is_chrooted,
                        uint8_t kind, pdk_watcher_fn fn, void *wctx)
{
    d->r.wpath = is_chrooted ? server_path(c, path) : pd_strdup(path);
    if (!d->r.wpath)
        return PDK_ZSYSTEMERROR;
    d->r.watch = kind;
    d->r.wfn = fn;
    d->r.wctx = wctx;
    return 0;
}

/* ---- the operations ---------------------------------------------------------- */

static bool mode_is_valid(int mode)
{
    return mode >= PDK_PERSISTENT && mode <= PDK_PERSISTENT_SEQUENTIAL_WITH_TTL;
}

static bool mode_is_sequential(int mode)
{
    return mode == PDK_PERSISTENT_SEQUENTIAL || mode == PDK_EPHEMERAL_SEQUENTIAL ||
           mode == PDK_PERSISTENT_SEQUENTIAL_WITH_TTL;
}

static bool mode_is_ttl(int mode)
{
    return mode == PDK_PERSISTENT_WITH_TTL || mode == PDK_PERSISTENT_SEQUENTIAL_WITH_TTL;
}

/* The opcode a create goes out with (ZooKeeper.create picks the same). */
static int32_t create_op(int mode, bool want_stat)
{
    if (mode == PDK_CONTAINER)
        return PDK_OP_CREATE_CONTAINER;
    if (mode_is_ttl(mode))
        return PDK_OP_CREATE_TTL;
    return want_stat ? PDK_OP_CREATE2 : PDK_OP_CREATE;
}

static int check_create(const struct pdk_client *c, const char *path, const void *data, int32_t len,
                        const struct pdk_acl_list *acl, int mode, int64_t ttl_ms)
{
    if (!mode_is_valid(mode) || !data_is_valid(c, data, len) || !acl_is_valid(acl))
        return PDK_ZBADARGUMENTS;
    if (acl && acl->count == 0)
        return PDK_ZINVALIDACL;
    /* ZooKeeper's client refuses a TTL outside (0, max] before sending; the server too. */
    if (mode_is_ttl(mode) && ttl_ms <= 0)
        return PDK_ZBADARGUMENTS;
    return path_validate(path, mode_is_sequential(mode));
}

static void put_create_body(struct pdk_client *c, struct jute_out *out, const char *path,
                            const void *data, int32_t len, const struct pdk_acl_list *acl, int mode,
                            int64_t ttl_ms)
{
    put_path(c, out, path);
    jute_put_buffer(out, data, len);
    put_acls(out, acl);
    jute_put_int(out, mode);
    if (mode_is_ttl(mode))
        jute_put_long(out, ttl_ms);
}

int pdk_create(struct pdk_client *c, const char *path, const void *data, int32_t len,
               const struct pdk_acl_list *acl, int mode, int64_t ttl_ms, bool want_stat,
               pdk_completion_fn cb, void *ctx)
{
    int rc = check_create(c, path, data, len, acl, mode, ttl_ms);
    if (rc)
        return rc;
    struct draft d;
    rc = begin(c, create_op(mode, want_stat), cb, ctx, &d);
    if (rc)
        return rc;
    put_create_body(c, d.out, path, data, len, acl, mode, ttl_ms);
    return finish(c, &d);
}

int pdk_delete(struct pdk_client *c, const char *path, int32_t version, pdk_completion_fn cb,
               void *ctx)
{
    if (path_validate(path, false) || strcmp(path, "/") == 0)
        return PDK_ZBADARGUMENTS;
    struct draft d;
    int rc = begin(c, PDK_OP_DELETE, cb, ctx, &d);
    if (rc)
        return rc;
    put_path(c, d.out, path);
    jute_put_int(d.out, version);
    return finish(c, &d);
}

/* exists, getData, getChildren(2): path + watch flag, with an optional registration. */
static int path_watch_op(struct pdk_client *c, int32_t op, const char *path, bool is_chrooted,
                         uint8_t kind, pdk_watcher_fn watcher, void *wctx, pdk_completion_fn cb,
                         void *ctx)
{
    if (path_validate(path, false))
        return PDK_ZBADARGUMENTS;
    struct draft d;
    int rc = begin(c, op, cb, ctx, &d);
    if (rc)
        return rc;
    if (watcher && attach_watch(c, &d, path, is_chrooted, kind, watcher, wctx) != 0) {
        drop(&d);
        return PDK_ZSYSTEMERROR;
    }
    if (is_chrooted) {
        put_path(c, d.out, path);
    } else {
        jute_put_string(d.out, path);
    }
    jute_put_bool(d.out, watcher != NULL);
    return finish(c, &d);
}

int pdk_exists(struct pdk_client *c, const char *path, pdk_watcher_fn watcher, void *wctx,
               pdk_completion_fn cb, void *ctx)
{
    return path_watch_op(c, PDK_OP_EXISTS, path, true, RW_EXISTS, watcher, wctx, cb, ctx);
}

int pdk_get_data(struct pdk_client *c, const char *path, pdk_watcher_fn watcher, void *wctx,
                 pdk_completion_fn cb, void *ctx)
{
    return path_watch_op(c, PDK_OP_GET_DATA, path, true, RW_DATA, watcher, wctx, cb, ctx);
}

int pdk_get_children(struct pdk_client *c, const char *path, bool want_stat, pdk_watcher_fn watcher,
                     void *wctx, pdk_completion_fn cb, void *ctx)
{
    int32_t op = want_stat ? PDK_OP_GET_CHILDREN2 : PDK_OP_GET_CHILDREN;
    return path_watch_op(c, op, path, true, RW_CHILD, watcher, wctx, cb, ctx);
}

int pdk_get_config(struct pdk_client *c, pdk_watcher_fn watcher, void *wctx, pdk_completion_fn cb,
                   void *ctx)
{
    /* ZooKeeper.getConfig: a getData of the config node, never under the chroot. */
    return path_watch_op(c, PDK_OP_GET_DATA, CONFIG_NODE, false, RW_DATA, watcher, wctx, cb, ctx);
}

int pdk_reconfig(struct pdk_client *c, const char *joining, const char *leaving,
                 const char *new_members, int64_t from_config, pdk_completion_fn cb, void *ctx)
{
    struct draft d;
    int rc = begin(c, PDK_OP_RECONFIG, cb, ctx, &d);
    if (rc)
        return rc;
    /* ReconfigRequest: joiningServers, leavingServers, newMembers (ustrings), curConfigId. */
    jute_put_string(d.out, joining);
    jute_put_string(d.out, leaving);
    jute_put_string(d.out, new_members);
    jute_put_long(d.out, from_config);
    return finish(c, &d);
}

int pdk_set_data(struct pdk_client *c, const char *path, const void *data, int32_t len,
                 int32_t version, pdk_completion_fn cb, void *ctx)
{
    if (path_validate(path, false) || !data_is_valid(c, data, len))
        return PDK_ZBADARGUMENTS;
    struct draft d;
    int rc = begin(c, PDK_OP_SET_DATA, cb, ctx, &d);
    if (rc)
        return rc;
    put_path(c, d.out, path);
    jute_put_buffer(d.out, data, len);
    jute_put_int(d.out, version);
    return finish(c, &d);
}

/* A request whose body is just the path. */
static int path_op(struct pdk_client *c, int32_t op, const char *path, pdk_completion_fn cb,
                   void *ctx)
{
    if (path_validate(path, false))
        return PDK_ZBADARGUMENTS;
    struct draft d;
    int rc = begin(c, op, cb, ctx, &d);
    if (rc)
        return rc;
    put_path(c, d.out, path);
    return finish(c, &d);
}

int pdk_get_acl(struct pdk_client *c, const char *path, pdk_completion_fn cb, void *ctx)
{
    return path_op(c, PDK_OP_GET_ACL, path, cb, ctx);
}

int pdk_get_all_children_number(struct pdk_client *c, const char *path, pdk_completion_fn cb,
                                void *ctx)
{
    return path_op(c, PDK_OP_GET_ALL_CHILDREN_NUMBER, path, cb, ctx);
}

int pdk_get_ephemerals(struct pdk_client *c, const char *prefix, pdk_completion_fn cb, void *ctx)
{
    return path_op(c, PDK_OP_GET_EPHEMERALS, prefix, cb, ctx);
}

int pdk_sync(struct pdk_client *c, const char *path, pdk_completion_fn cb, void *ctx)
{
    return path_op(c, PDK_OP_SYNC, path, cb, ctx);
}

int pdk_set_acl(struct pdk_client *c, const char *path, const struct pdk_acl_list *acl,
                int32_t version, pdk_completion_fn cb, void *ctx)
{
    if (path_validate(path, false) || !acl || !acl_is_valid(acl))
        return PDK_ZBADARGUMENTS;
    if (acl->count == 0)
        return PDK_ZINVALIDACL;
    struct draft d;
    int rc = begin(c, PDK_OP_SET_ACL, cb, ctx, &d);
    if (rc)
        return rc;
    put_path(c, d.out, path);
    put_acls(d.out, acl);
    jute_put_int(d.out, version);
    return finish(c, &d);
}

int pdk_add_watch(struct pdk_client *c, const char *path, int mode, pdk_watcher_fn watcher,
                  void *wctx, pdk_completion_fn cb, void *ctx)
{
    if (path_validate(path, false) || !watcher ||
        (mode != PDK_ADD_WATCH_PERSISTENT && mode != PDK_ADD_WATCH_PERSISTENT_RECURSIVE))
        return PDK_ZBADARGUMENTS;
    struct draft d;
    int rc = begin(c, PDK_OP_ADD_WATCH, cb, ctx, &d);
    if (rc)
        return rc;
    uint8_t kind = mode == PDK_ADD_WATCH_PERSISTENT ? RW_PERSIST : RW_RECURSIVE;
    if (attach_watch(c, &d, path, true, kind, watcher, wctx) != 0) {
        drop(&d);
        return PDK_ZSYSTEMERROR;
    }
    put_path(c, d.out, path);
    jute_put_int(d.out, mode);
    return finish(c, &d);
}

/* The watch lists a WatcherType covers (ZKWatchManager.removeWatcher). */
static unsigned kinds_of_type(int type)
{
    switch (type) {
    case PDK_WATCH_CHILDREN:
        return 1u << WK_CHILD;
    case PDK_WATCH_DATA:
        return 1u << WK_DATA | 1u << WK_EXIST;
    case PDK_WATCH_ANY:
        return (1u << WK_COUNT) - 1;
    case PDK_WATCH_PERSISTENT:
        return 1u << WK_PERSIST;
    case PDK_WATCH_PERSISTENT_RECURSIVE:
        return 1u << WK_RECURSIVE;
    default:
        return 0;
    }
}

int pdk_remove_watches(struct pdk_client *c, const char *path, int type, pdk_watcher_fn watcher,
                       void *wctx, pdk_completion_fn cb, void *ctx)
{
    return pdk_remove_watches_local(c, path, type, watcher, wctx, false, cb, ctx);
}

int pdk_remove_watches_local(struct pdk_client *c, const char *path, int type,
                             pdk_watcher_fn watcher, void *wctx, bool local, pdk_completion_fn cb,
                             void *ctx)
{
    unsigned kinds = kinds_of_type(type);
    if (path_validate(path, false) || !kinds)
        return PDK_ZBADARGUMENTS;
    char *spath = server_path(c, path);
    if (!spath)
        return PDK_ZSYSTEMERROR;
    if (!watch_has(&c->watches, spath, kinds, watcher, wctx)) {
        pd_free(spath);
        return PDK_ZNOWATCHER;
    }
    struct draft d;
    int32_t op = watcher ? PDK_OP_CHECK_WATCHES : PDK_OP_REMOVE_WATCHES;
    int rc = begin(c, op, cb, ctx, &d);
    if (rc) {
        pd_free(spath);
        return rc;
    }
    d.r.wpath = spath;
    d.r.watch = RW_REMOVE;
    d.r.wfn = watcher;
    d.r.wctx = wctx;
    d.r.aux = type;
    d.r.is_local = local;
    put_path(c, d.out, path);
    jute_put_int(d.out, type);
    return finish(c, &d);
}

int pdk_who_am_i(struct pdk_client *c, pdk_completion_fn cb, void *ctx)
{
    struct draft d;
    int rc = begin(c, PDK_OP_WHO_AM_I, cb, ctx, &d);
    if (rc)
        return rc;
    return finish(c, &d);
}

int pdk_close(struct pdk_client *c, pdk_completion_fn cb, void *ctx)
{
    struct draft d;
    int rc = begin(c, PDK_OP_CLOSE_SESSION, cb, ctx, &d);
    if (rc)
        return rc;
    rc = finish(c, &d);
    if (rc)
        return rc;
    if (c->state == CS_CONNECTED) {
        c->state = CS_CLOSING;
    } else {
        /* No session to close on a connection right now: the client just ends. The
         * close request completes with ZOK from the next pdk_process(). */
        client_drop_socket(c);
        c->state = CS_CLOSED;
    }
    return 0;
}

/* ---- multi ------------------------------------------------------------------- */

static int check_op(const struct pdk_client *c, const struct pdk_op *op, bool is_read)
{
    if (!op->path)
        return PDK_ZBADARGUMENTS;
    switch (op->type) {
    case PDK_OP_CREATE:
        return is_read
                   ? PDK_ZBADARGUMENTS
                   : check_create(c, op->path, op->data, op->len, op->acl, op->mode, op->ttl_ms);
    case PDK_OP_SET_DATA:
        if (!data_is_valid(c, op->data, op->len))
            return PDK_ZBADARGUMENTS;
        /* fall through */
    case PDK_OP_DELETE:
    case PDK_OP_CHECK:
        return is_read ? PDK_ZBADARGUMENTS : path_validate(op->path, false);
    case PDK_OP_GET_DATA:
    case PDK_OP_GET_CHILDREN:
        return is_read ? path_validate(op->path, false) : PDK_ZBADARGUMENTS;
    default:
        return PDK_ZBADARGUMENTS;
    }
}

static int multi_op(struct pdk_client *c, int32_t opcode, const struct pdk_op *ops, int n,
                    pdk_completion_fn cb, void *ctx)
{
    bool is_read = opcode == PDK_OP_MULTI_READ;
    if (n < 0 || (n > 0 && !ops))
        return PDK_ZBADARGUMENTS;
    for (int i = 0; i < n; i++) {
        int rc = check_op(c, &ops[i], is_read);
        if (rc)
            return rc;
    }
    struct draft d;
    int rc = begin(c, opcode, cb, ctx, &d);
    if (rc)
        return rc;
    d.r.aux = n;
    for (int i = 0; i < n; i++) {
        const struct pdk_op *op = &ops[i];
        int32_t type = op->type == PDK_OP_CREATE ? create_op(op->mode, false) : op->type;
        struct jute_multi_header h = {.type = type, .done = false, .err = -1};
        jute_put_multi_header(d.out, &h);
        switch (op->type) {
        case PDK_OP_CREATE:
            put_create_body(c, d.out, op->path, op->data, op->len, op->acl, op->mode, op->ttl_ms);
            break;
        case PDK_OP_DELETE:
        case PDK_OP_CHECK:
            put_path(c, d.out, op->path);
            jute_put_int(d.out, op->version);
            break;
        case PDK_OP_SET_DATA:
            put_path(c, d.out, op->path);
            jute_put_buffer(d.out, op->data, op->len);
            jute_put_int(d.out, op->version);
            break;
        default: /* the reads of a multiRead: no watches */
            put_path(c, d.out, op->path);
            jute_put_bool(d.out, false);
            break;
        }
    }
    struct jute_multi_header end = {.type = -1, .done = true, .err = -1};
    jute_put_multi_header(d.out, &end);
    return finish(c, &d);
}

int pdk_multi(struct pdk_client *c, const struct pdk_op *ops, int n, pdk_completion_fn cb,
              void *ctx)
{
    return multi_op(c, PDK_OP_MULTI, ops, n, cb, ctx);
}

int pdk_multi_read(struct pdk_client *c, const struct pdk_op *ops, int n, pdk_completion_fn cb,
                   void *ctx)
{
    return multi_op(c, PDK_OP_MULTI_READ, ops, n, cb, ctx);
}

/* ---- auth -------------------------------------------------------------------- */

int pdk_add_auth(struct pdk_client *c, const char *scheme, const void *cred, int32_t len,
                 pdk_completion_fn cb, void *ctx)
{
    if (!scheme || len < -1 || (len > 0 && !cred))
        return PDK_ZBADARGUMENTS;
    if (c->is_free_pending)
        return PDK_ZCLOSING;
    if (client_is_finished(c))
        return client_finished_rc(c);
    if (c->state == CS_CLOSING)
        return PDK_ZCLOSING;
    struct auth *auths = pd_realloc(c->auths, (size_t)(c->n_auths + 1) * sizeof(*auths));
    if (!auths)
        return PDK_ZSYSTEMERROR;
    c->auths = auths;
    struct auth *a = &c->auths[c->n_auths];
    a->scheme = pd_strdup(scheme);
    a->cred = len >= 0 ? pd_malloc((size_t)len + 1) : NULL; /* NULL: a null credential */
    if (!a->scheme || (len >= 0 && !a->cred)) {
        pd_free(a->scheme);
        pd_free(a->cred);
        return PDK_ZSYSTEMERROR;
    }
    if (len > 0)
        memcpy(a->cred, cred, (size_t)len);
    a->len = len;
    a->cb = cb;
    a->ctx = ctx;
    c->n_auths++;
    if (c->state == CS_CONNECTED) {
        if (client_send_auth(c, a) != 0) {
            c->n_auths--;
            pd_free(a->scheme);
            pd_free(a->cred);
            return PDK_ZSYSTEMERROR;
        }
    }
    return 0;
}

/* ---- session packets ------------------------------------------------------------ */

void request_put_ping(struct jute_out *out)
{
    size_t at = jute_frame_begin(out);
    struct jute_request_header h = {.xid = ZOO_XID_PING, .type = ZOO_OP_PING};
    jute_put_request_header(out, &h);
    jute_frame_end(out, at);
}

void request_put_connect(struct pdk_client *c, struct jute_out *out)
{
    size_t at = jute_frame_begin(out);
    struct jute_connect_request r = {
        .protocol_version = 0,
        .last_zxid_seen = c->last_zxid,
        .timeout_ms = c->requested_timeout_ms,
        .session_id = c->session_id,
        .passwd = {.data = c->passwd, .len = ZOO_PASSWD_LEN},
        .read_only = c->can_be_read_only,
        .has_read_only = true,
    };
    jute_put_connect_request(out, &r);
    jute_frame_end(out, at);
}

void request_put_auth(struct jute_out *out, const struct auth *a)
{
    size_t at = jute_frame_begin(out);
    struct jute_request_header h = {.xid = ZOO_XID_AUTH, .type = ZOO_OP_AUTH};
    jute_put_request_header(out, &h);
    struct jute_auth_packet p = {
        .type = 0, .scheme = a->scheme, .auth = {.data = a->cred, .len = a->len}};
    jute_put_auth_packet(out, &p);
    jute_frame_end(out, at);
}

/* setWatches2 under construction: five path vectors and their byte count. */
struct sw_build {
    struct jute_out *out;
    int64_t rel_zxid;
    char **paths[5]; /* borrowed strings (the table's) in owned arrays */
    int32_t n[5];
    size_t bytes;
    int err;
};

static void sw_flush(struct sw_build *b)
{
    if (b->bytes == 0)
        return;
    struct jute_set_watches sw = {.relative_zxid = b->rel_zxid};
    struct jute_str_vec *v[5] = {&sw.data_watches, &sw.exist_watches, &sw.child_watches,
                                 &sw.persistent_watches, &sw.persistent_recursive_watches};
    for (int i = 0; i < 5; i++) {
        v[i]->count = b->n[i];
        v[i]->items = b->paths[i];
        b->n[i] = 0;
    }
    size_t at = jute_frame_begin(b->out);
    struct jute_request_header h = {.xid = ZOO_XID_SET_WATCHES, .type = ZOO_OP_SETWATCHES2};
    jute_put_request_header(b->out, &h);
    jute_put_set_watches(b->out, &sw, true);
    jute_frame_end(b->out, at);
    b->bytes = 0;
}

static void sw_node(const struct watch_node *n, void *arg)
{
    struct sw_build *b = arg;
    if (b->err)
        return;
    /* Vector order: dataWatches, existWatches, childWatches, persistent, recursive. */
    static const int kind_of[5] = {WK_DATA, WK_EXIST, WK_CHILD, WK_PERSIST, WK_RECURSIVE};
    for (int i = 0; i < 5; i++) {
        if (!n->lists[kind_of[i]])
            continue;
        if (b->bytes + n->len > SET_WATCHES_MAX_BYTES)
            sw_flush(b);
        char **p = pd_realloc(b->paths[i], (size_t)(b->n[i] + 1) * sizeof(*p));
        if (!p) {
            b->err = PDK_ZSYSTEMERROR;
            return;
        }
        b->paths[i] = p;
        p[b->n[i]++] = (char *)n->path;
        b->bytes += n->len + 4;
    }
}

int request_put_set_watches(struct pdk_client *c, struct jute_out *out)
{
    struct sw_build b = {.out = out, .rel_zxid = c->last_zxid};
    watch_each(&c->watches, sw_node, &b);
    if (!b.err)
        sw_flush(&b);
    for (int i = 0; i < 5; i++)
        pd_free(b.paths[i]);
    return b.err ? b.err : (out->err ? PDK_ZSYSTEMERROR : 0);
}

/* ---- replies ---------------------------------------------------------------------- */

static void copy_stat(struct pdk_stat *d, const struct jute_stat *s)
{
    d->czxid = s->czxid;
    d->mzxid = s->mzxid;
    d->ctime = s->ctime;
    d->mtime = s->mtime;
    d->version = s->version;
    d->cversion = s->cversion;
    d->aversion = s->aversion;
    d->ephemeral_owner = s->ephemeral_owner;
    d->data_length = s->data_length;
    d->num_children = s->num_children;
    d->pzxid = s->pzxid;
}

static void get_stat(struct jute_in *in, struct pdk_stat *st)
{
    struct jute_stat js;
    jute_get_stat(in, &js);
    copy_stat(st, &js);
}

/* Decodes the body of a successful reply to `op` (not multi). */
static void decode_one(struct pdk_client *c, int op, struct jute_in *in, struct pdk_result *res,
                       struct pdk_stat *stat_buf)
{
    switch (op) {
    case PDK_OP_CREATE:
    case PDK_OP_SYNC:
        res->path = client_strip(c, jute_get_string(in));
        break;
    case PDK_OP_CREATE2:
    case PDK_OP_CREATE_CONTAINER:
    case PDK_OP_CREATE_TTL:
        res->path = client_strip(c, jute_get_string(in));
        get_stat(in, stat_buf);
        res->stat = stat_buf;
        break;
    case PDK_OP_EXISTS:
    case PDK_OP_SET_DATA:
    case PDK_OP_SET_ACL:
        get_stat(in, stat_buf);
        res->stat = stat_buf;
        break;
    case PDK_OP_GET_DATA:
    case PDK_OP_RECONFIG: { /* a GetDataResponse: the new config */
        struct jute_buf b = jute_get_buffer(in);
        res->data = (const char *)b.data;
        res->data_len = b.len;
        get_stat(in, stat_buf);
        res->stat = stat_buf;
        break;
    }
    case PDK_OP_GET_CHILDREN:
    case PDK_OP_GET_CHILDREN2: {
        struct jute_str_vec v;
        jute_get_str_vec(in, &v);
        res->strings.count = v.count;
        res->strings.items = v.items;
        if (op == PDK_OP_GET_CHILDREN2) {
            get_stat(in, stat_buf);
            res->stat = stat_buf;
        }
        break;
    }
    case PDK_OP_GET_EPHEMERALS: {
        struct jute_str_vec v;
        jute_get_str_vec(in, &v);
        for (int32_t i = 0; i < v.count && !in->err; i++)
            v.items[i] = client_strip(c, v.items[i]);
        res->strings.count = v.count;
        res->strings.items = v.items;
        break;
    }
    case PDK_OP_GET_ACL: {
        struct jute_acl_vec v;
        jute_get_acl_vec(in, &v);
        get_stat(in, stat_buf);
        res->stat = stat_buf;
        if (in->err || v.count == 0)
            break;
        struct pdk_acl *a = arena_alloc(&c->arena, (size_t)v.count * sizeof(*a));
        if (!a) {
            in->err = PD_ENOMEM;
            break;
        }
        for (int32_t i = 0; i < v.count; i++)
            a[i] = (struct pdk_acl){v.items[i].perms, v.items[i].id.scheme, v.items[i].id.id};
        res->acl.count = v.count;
        res->acl.items = a;
        break;
    }
    case PDK_OP_GET_ALL_CHILDREN_NUMBER:
        res->number = jute_get_int(in);
        break;
    case PDK_OP_WHO_AM_I: {
        struct jute_whoami_response w;
        jute_get_whoami_response(in, &w);
        if (in->err || w.count == 0)
            break;
        struct pdk_client_info *ci = arena_alloc(&c->arena, (size_t)w.count * sizeof(*ci));
        if (!ci) {
            in->err = PD_ENOMEM;
            break;
        }
        for (int32_t i = 0; i < w.count; i++)
            ci[i] = (struct pdk_client_info){w.items[i].auth_scheme, w.items[i].user};
        res->n_infos = w.count;
        res->infos = ci;
        break;
    }
    default:
        /* delete, check, setWatches, removeWatches, checkWatches, addWatch (its
         * ErrorResponse repeats the header's err), closeSession: nothing to keep. */
        break;
    }
}

static void decode_multi(struct pdk_client *c, const struct req *r, struct jute_in *in,
                         struct pdk_result *res)
{
    int n = r->aux;
    struct pdk_result *items = NULL;
    struct pdk_stat *stats = NULL;
    if (n > 0) {
        items = arena_alloc(&c->arena, (size_t)n * sizeof(*items));
        stats = arena_alloc(&c->arena, (size_t)n * sizeof(*stats));
        if (!items || !stats) {
            in->err = PD_ENOMEM;
            return;
        }
        memset(items, 0, (size_t)n * sizeof(*items));
    }
    int first_err = 0;
    int i = 0;
    for (;;) {
        struct jute_multi_header h;
        jute_get_multi_header(in, &h);
        if (in->err)
            return;
        if (h.done)
            break;
        if (i >= n) {
            in->err = PD_EMALFORMED;
            return;
        }
        struct pdk_result *it = &items[i++];
        it->op = h.type;
        it->data_len = -1;
        if (h.type == ZOO_OP_ERROR) {
            it->rc = jute_get_int(in); /* ErrorResponse */
            if (it->rc != 0 && first_err == 0)
                first_err = it->rc;
        } else {
            decode_one(c, h.type, in, it, &stats[i - 1]);
        }
    }
    if (i != n) {
        in->err = PD_EMALFORMED;
        return;
    }
    res->n_results = n;
    res->results = items;
    if (r->op == PDK_OP_MULTI)
        res->rc = first_err;
}

int request_decode(struct pdk_client *c, const struct req *r, int32_t err, struct jute_in *in,
                   struct pdk_result *res, struct pdk_stat *stat_buf)
{
    res->rc = err;
    res->op = r->op;
    res->data_len = -1;
    if (err != 0)
        return 0;
    if (r->op == PDK_OP_MULTI || r->op == PDK_OP_MULTI_READ)
        decode_multi(c, r, in, res);
    else
        decode_one(c, r->op, in, res, stat_buf);
    if (in->has_nul)
        return PD_EMALFORMED;
    return in->err;
}

/* The event type a removed registration of `kind` is told about. */
static int removed_event(int kind)
{
    switch (kind) {
    case WK_CHILD:
        return PDK_EVENT_CHILD_WATCH_REMOVED;
    case WK_PERSIST:
    case WK_RECURSIVE:
        return PDK_EVENT_PERSISTENT_WATCH_REMOVED;
    default:
        return PDK_EVENT_DATA_WATCH_REMOVED;
    }
}

int request_watch_done(struct pdk_client *c, const struct req *r, int rc)
{
    int kind = -1;
    switch (r->watch) {
    case RW_EXISTS:
        kind = rc == PDK_ZOK ? WK_DATA : rc == PDK_ZNONODE ? WK_EXIST : -1;
        break;
    case RW_DATA:
        kind = rc == PDK_ZOK ? WK_DATA : -1;
        break;
    case RW_CHILD:
        kind = rc == PDK_ZOK ? WK_CHILD : -1;
        break;
    case RW_PERSIST:
        kind = rc == PDK_ZOK ? WK_PERSIST : -1;
        break;
    case RW_RECURSIVE:
        kind = rc == PDK_ZOK ? WK_RECURSIVE : -1;
        break;
    case RW_REMOVE: {
        /* local (ZooKeeper's removeWatches(..., local=true)): removed here whatever the
         * server said, or if the connection was lost before it said anything. */
        if (rc != PDK_ZOK && !r->is_local)
            return rc;
        struct watch_calls removed = {0};
        watch_remove(&c->watches, r->wpath, kinds_of_type(r->aux), r->wfn, r->wctx, &removed);
        char *path = client_strip(c, r->wpath);
        /* ClientCnxn.queueEvent: Disconnected after a connection loss or expiry */
        int state = rc == PDK_ZCONNECTIONLOSS || rc == PDK_ZSESSIONEXPIRED ? PDK_STATE_DISCONNECTED
                                                                           : PDK_STATE_CONNECTED;
        for (int i = 0; i < removed.n && !c->is_free_pending; i++)
            client_notify(c, removed.items[i].fn, removed.items[i].ctx,
                          removed_event(removed.items[i].kind), state, path);
        int n = removed.n;
        watch_calls_free(&removed);
        return n > 0 ? PDK_ZOK : rc;
    }
    default:
        return rc;
    }
    /* An out-of-memory here loses the registration; the event would not be delivered. */
    if (kind >= 0)
        watch_add(&c->watches, r->wpath, kind, r->wfn, r->wctx);
    return rc;
}
