/*
 * The client's core: lifecycle, the connection state machine (diagram in
 * client_int.h), and the socket I/O driven by pdk_interest()/pdk_process().
 *
 * Behaviour follows Apache ZooKeeper's ClientCnxn: the ConnectRequest with
 * the last zxid seen and the session id + password; timeOut 0 in the answer
 * means the session expired; after the handshake, auth packets (xid -4) and
 * setWatches2 (xid -8) go out before any queued request; pings (xid -2)
 * after a third of the negotiated timeout without sending; a connection
 * that stays silent for two thirds of it is dropped; a connect attempt gets
 * timeout / number of hosts. Replies to ordinary requests come in request
 * order, so the FIFO head is the only candidate (anything else is a
 * protocol error that drops the connection). Unlike ClientCnxn there is no
 * thread: the caller's loop calls in, and the time comes from the caller.
 *
 * I/O per pdk_process(): reads until the socket is drained (64 KiB chunks),
 * decodes every complete frame in place, then one send() of everything
 * queued (requests submitted from callbacks included). A caller that moves
 * the bytes itself (pdk_output/pdk_output_done/pdk_input) reaches the same
 * decoding and the same output buffer without the system calls.
 */
#include "client/client_int.h"

#include "common/alloc.h"
#include "common/err.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

_Static_assert(PDK_READ == POLLIN && PDK_WRITE == POLLOUT, "PDK_READ/PDK_WRITE are poll bits");

#define READ_CHUNK_BYTES  (64 * 1024)
#define READS_PER_PROCESS 16
#define MIN_ATTEMPT_MS    250
#define BACKOFF_STEP_MS   100
#define BACKOFF_MAX_MS    1000

static char root_path[] = "/";

/* ---- small helpers ------------------------------------------------------------- */

static uint64_t next_rand(struct pdk_client *c)
{
    uint64_t x = c->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c->rng = x;
    return x;
}

int64_t pdk_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool client_is_finished(const struct pdk_client *c)
{
    return c->state == CS_CLOSED || c->state == CS_EXPIRED || c->state == CS_AUTH_FAILED;
}

int client_finished_rc(const struct pdk_client *c)
{
    switch (c->state) {
    case CS_EXPIRED:
        return PDK_ZSESSIONEXPIRED;
    case CS_AUTH_FAILED:
        return PDK_ZAUTHFAILED;
    default:
        return PDK_ZCLOSING;
    }
}

char *client_strip(const struct pdk_client *c, char *p)
{
    if (!p || !c->chroot || strncmp(p, c->chroot, c->chroot_len) != 0)
        return p;
    if (p[c->chroot_len] == '\0')
        return root_path;
    if (p[c->chroot_len] == '/')
        return p + c->chroot_len;
    return p;
}

void client_complete(struct pdk_client *c, const struct req *r, const struct pdk_result *res)
{
    if (!r->cb)
        return;
    c->cb_depth++;
    r->cb(c, res, r->ctx);
    c->cb_depth--;
}

void client_notify(struct pdk_client *c, pdk_watcher_fn fn, void *ctx, int type, int state,
                   const char *path)
{
    if (!fn)
        return;
    struct pdk_event ev = {.type = type, .state = state, .path = path};
    c->cb_depth++;
    fn(c, &ev, ctx);
    c->cb_depth--;
}

void pdk_global_watcher(struct pdk_client *c, const struct pdk_event *ev, void *ctx)
{
    (void)ctx;
    if (c->watcher)
        c->watcher(c, ev, c->watcher_ctx);
}

static void notify_global(struct pdk_client *c, int state)
{
    client_notify(c, c->watcher, c->watcher_ctx, PDK_EVENT_SESSION, state, NULL);
}

/* Removes the FIFO head into *r. */
static void pop_req(struct pdk_client *c, struct req *r)
{
    *r = c->reqs[c->req_head];
    c->req_head = (c->req_head + 1) & (c->req_cap - 1);
    c->n_reqs--;
    if (c->n_in_conn)
        c->n_in_conn--;
}

/* Completes the FIFO head locally with rc. */
static void fail_head(struct pdk_client *c, int rc)
{
    struct req r;
    pop_req(c, &r);
    struct pdk_result res = {.rc = rc, .op = r.op, .data_len = -1};
    /* A close that ends the client while no connection is up succeeds. */
    if (r.op == PDK_OP_CLOSE_SESSION && c->state == CS_CLOSED && rc == PDK_ZCLOSING)
        res.rc = PDK_ZOK;
    /* Only a local removeWatches acts on a failure (the others register on success). */
    if (r.watch == RW_REMOVE)
        res.rc = request_watch_done(c, &r, res.rc);
    pd_free(r.wpath);
    client_complete(c, &r, &res);
}

static int grow_auth_q(struct pdk_client *c)
{
    int cap = c->auth_q_cap ? c->auth_q_cap * 2 : 4;
    struct auth_wait *q = pd_malloc((size_t)cap * sizeof(*q));
    if (!q)
        return PDK_ZSYSTEMERROR;
    for (int i = 0; i < c->n_auth_q; i++)
        q[i] = c->auth_q[(c->auth_q_head + i) % c->auth_q_cap];
    pd_free(c->auth_q);
    c->auth_q = q;
    c->auth_q_cap = cap;
    c->auth_q_head = 0;
    return 0;
}

int client_send_auth(struct pdk_client *c, struct auth *a)
{
    if (c->n_auth_q == c->auth_q_cap && grow_auth_q(c) != 0)
        return PDK_ZSYSTEMERROR;
    request_put_auth(&c->out, a);
    if (c->out.err)
        return PDK_ZSYSTEMERROR;
    c->auth_q[(c->auth_q_head + c->n_auth_q) % c->auth_q_cap] =
        (struct auth_wait){.cb = a->cb, .ctx = a->ctx};
    c->n_auth_q++;
    a->cb = NULL;
    return 0;
}

/* Completes one auth completion with rc. */
static void complete_auth(struct pdk_client *c, pdk_completion_fn cb, void *ctx, int rc)
{
    struct req r = {.op = PDK_OP_AUTH, .cb = cb, .ctx = ctx};
    struct pdk_result res = {.rc = rc, .op = PDK_OP_AUTH, .data_len = -1};
    client_complete(c, &r, &res);
}

/* Fails the auth replies waited for on this connection; with is_all also unsent ones. */
static void fail_auths(struct pdk_client *c, int rc, bool is_all)
{
    while (c->n_auth_q > 0) {
        struct auth_wait w = c->auth_q[c->auth_q_head];
        c->auth_q_head = (c->auth_q_head + 1) % c->auth_q_cap;
        c->n_auth_q--;
        complete_auth(c, w.cb, w.ctx, rc);
    }
    if (!is_all)
        return;
    for (int i = 0; i < c->n_auths; i++) {
        pdk_completion_fn cb = c->auths[i].cb;
        c->auths[i].cb = NULL;
        complete_auth(c, cb, c->auths[i].ctx, rc);
    }
}

void client_drop_socket(struct pdk_client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->conn_gen++;
    jute_out_reset(&c->out);
    c->out_sent = 0;
    c->in_len = 0;
}

/* ---- terminal states ---------------------------------------------------------- */

/* Every outstanding request fails with the finished state's code. */
static void fail_all(struct pdk_client *c)
{
    int rc = c->is_free_pending ? PDK_ZCLOSING : client_finished_rc(c);
    c->n_in_conn = 0;
    while (c->n_reqs > 0)
        fail_head(c, rc);
    fail_auths(c, rc, true);
}

/* Calls every registered watcher one last time with (SESSION, state) and forgets them. */
static void drop_watchers(struct pdk_client *c, int state)
{
    struct watch_calls calls = {0};
    watch_take_all(&c->watches, &calls);
    for (int i = 0; i < calls.n; i++)
        if (calls.items[i].fn != pdk_global_watcher)
            client_notify(c, calls.items[i].fn, calls.items[i].ctx, PDK_EVENT_SESSION, state, NULL);
    watch_calls_free(&calls);
}

/* Enters a terminal state: socket closed, requests failed, watchers told. */
static void finish(struct pdk_client *c, enum cstate state, int event_state)
{
    client_drop_socket(c);
    c->state = state;
    fail_all(c);
    drop_watchers(c, event_state);
    notify_global(c, event_state);
}

/* ---- connecting ----------------------------------------------------------------- */

static void begin_handshake(struct pdk_client *c)
{
    c->state = CS_HANDSHAKE;
    jute_out_reset(&c->out);
    c->out_sent = 0;
    c->in_len = 0;
    request_put_connect(c, &c->out);
}

static int attempt_ms(const struct pdk_client *c)
{
    int ms = c->session_timeout_ms / c->n_hosts;
    return ms < MIN_ATTEMPT_MS ? MIN_ATTEMPT_MS : ms;
}

/* Every host failed once: held requests fail, then wait before the next round. */
static void round_failed(struct pdk_client *c, int64_t now)
{
    int rounds = c->failed_attempts / c->n_hosts;
    int ms = rounds * BACKOFF_STEP_MS;
    if (ms > BACKOFF_MAX_MS)
        ms = BACKOFF_MAX_MS;
    c->state = CS_BACKOFF;
    c->deadline_ms = now + ms + (int)(next_rand(c) % BACKOFF_STEP_MS);
    /* Unsent requests wait for one round of hosts, no longer (then ZooKeeper's rule:
     * whatever is queued when a connection fails, fails). */
    c->n_in_conn = 0;
    jute_out_reset(&c->held);
    uint32_t n = c->n_reqs; /* not the ones the callbacks submit meanwhile */
    while (n-- > 0 && c->state == CS_BACKOFF && !c->is_free_pending)
        fail_head(c, PDK_ZCONNECTIONLOSS);
    if (c->state == CS_BACKOFF && !c->is_free_pending)
        fail_auths(c, PDK_ZCONNECTIONLOSS, true);
}

/*
 * Starts connecting to the next host. A connect refused at once moves on to
 * the host after it; a whole round of failures goes to BACKOFF.
 */
static void start_attempt(struct pdk_client *c, int64_t now)
{
    for (;;) {
        c->host_idx = (c->host_idx + 1) % c->n_hosts;
        const struct host *h = &c->hosts[c->host_idx];
        c->deadline_ms = now + attempt_ms(c);
        int fd = socket(h->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd >= 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            int rc = connect(fd, (const struct sockaddr *)&h->addr, h->addr_len);
            if (rc == 0 || errno == EINPROGRESS) {
                c->fd = fd;
                if (rc == 0)
                    begin_handshake(c);
                else
                    c->state = CS_CONNECTING;
                return;
            }
            close(fd);
        }
        c->failed_attempts++;
        if (c->failed_attempts % c->n_hosts == 0) {
            round_failed(c, now);
            return;
        }
    }
}

/* The current attempt (connect or handshake) failed. */
static void attempt_failed(struct pdk_client *c, int64_t now)
{
    client_drop_socket(c);
    c->failed_attempts++;
    if (c->failed_attempts % c->n_hosts == 0)
        round_failed(c, now);
    else
        start_attempt(c, now);
}

/* An established connection broke: its requests fail, then the next host is tried. */
static void conn_lost(struct pdk_client *c, int64_t now)
{
    enum cstate was = c->state;
    client_drop_socket(c);
    if (was == CS_CONNECTING || was == CS_HANDSHAKE) {
        attempt_failed(c, now);
        return;
    }
    /* New submissions from the callbacks below are held for the next connection. */
    c->state = CS_BACKOFF;
    c->failed_attempts = 0;
    uint32_t n = c->n_in_conn;
    while (n-- > 0 && !c->is_free_pending)
        fail_head(c, PDK_ZCONNECTIONLOSS);
    if (!c->is_free_pending)
        fail_auths(c, PDK_ZCONNECTIONLOSS, false);
    if (was == CS_CLOSING) {
        finish(c, CS_CLOSED, PDK_STATE_CLOSED);
        return;
    }
    if (!c->is_free_pending && c->state == CS_BACKOFF)
        notify_global(c, PDK_STATE_DISCONNECTED);
    if (!c->is_free_pending && c->state == CS_BACKOFF)
        start_attempt(c, now);
}

/* The ConnectResponse arrived. */
static void on_connect_response(struct pdk_client *c, const uint8_t *p, size_t n, int64_t now)
{
    struct jute_in in;
    jute_in_init(&in, p, n, &c->arena);
    struct jute_connect_response r;
    jute_get_connect_response(&in, &r);
    if (in.err || (r.timeout_ms > 0 && r.passwd.len != ZOO_PASSWD_LEN)) {
        attempt_failed(c, now);
        return;
    }
    if (r.timeout_ms <= 0) {
        finish(c, CS_EXPIRED, PDK_STATE_EXPIRED);
        return;
    }
    c->session_id = r.session_id;
    memcpy(c->passwd, r.passwd.data, ZOO_PASSWD_LEN);
    c->session_timeout_ms = r.timeout_ms;
    c->is_read_only = r.read_only;
    c->has_session = true;
    c->failed_attempts = 0;
    c->state = CS_CONNECTED;
    c->last_recv_ms = now;
    c->last_send_ms = now;

    /* Credentials and watches first, then what waited for the connection. */
    jute_out_reset(&c->out);
    c->out_sent = 0;
    int rc = 0;
    for (int i = 0; i < c->n_auths && rc == 0; i++)
        rc = client_send_auth(c, &c->auths[i]);
    if (rc == 0)
        rc = request_put_set_watches(c, &c->out);
    if (rc == 0 && c->held.len)
        jute_put_raw(&c->out, c->held.data, c->held.len);
    if (rc != 0 || c->out.err) {
        conn_lost(c, now);
        return;
    }
    jute_out_reset(&c->held);
    c->n_in_conn = c->n_reqs;
    notify_global(c, c->is_read_only ? PDK_STATE_CONNECTED_READ_ONLY : PDK_STATE_CONNECTED);
}

/* ---- replies ---------------------------------------------------------------------- */

static void on_notification(struct pdk_client *c, struct jute_in *in)
{
    struct jute_watcher_event ev;
    jute_get_watcher_event(in, &ev);
    if (in->err || in->has_nul)
        return;
    if (ev.type == PDK_EVENT_SESSION || !ev.path) {
        notify_global(c, ev.state);
        return;
    }
    struct watch_calls calls = {0};
    watch_collect(&c->watches, ev.path, ev.type, &calls);
    const char *path = client_strip(c, ev.path);
    for (int i = 0; i < calls.n && !c->is_free_pending; i++)
        client_notify(c, calls.items[i].fn, calls.items[i].ctx, ev.type, ev.state, path);
    watch_calls_free(&calls);
}

/* Handles one frame (which may end the connection or the client). */
static void on_frame(struct pdk_client *c, const uint8_t *p, size_t n, int64_t now)
{
    if (c->state == CS_HANDSHAKE) {
        on_connect_response(c, p, n, now);
        arena_reset(&c->arena);
        return;
    }
    struct jute_in in;
    jute_in_init(&in, p, n, &c->arena);
    struct jute_reply_header h;
    jute_get_reply_header(&in, &h);
    if (in.err) {
        conn_lost(c, now);
        return;
    }
    if (h.zxid > c->last_zxid)
        c->last_zxid = h.zxid;
    switch (h.xid) {
    case ZOO_XID_NOTIFICATION:
        on_notification(c, &in);
        break;
    case ZOO_XID_PING:
    case ZOO_XID_SET_WATCHES:
        break;
    case ZOO_XID_AUTH: {
        struct auth_wait w = {0};
        if (c->n_auth_q > 0) {
            w = c->auth_q[c->auth_q_head];
            c->auth_q_head = (c->auth_q_head + 1) % c->auth_q_cap;
            c->n_auth_q--;
        }
        if (h.err == PDK_ZAUTHFAILED) {
            complete_auth(c, w.cb, w.ctx, PDK_ZAUTHFAILED);
            if (!client_is_finished(c))
                finish(c, CS_AUTH_FAILED, PDK_STATE_AUTH_FAILED);
        } else {
            complete_auth(c, w.cb, w.ctx, h.err);
        }
        break;
    }
    default: {
        if (c->n_in_conn == 0 || c->reqs[c->req_head].xid != h.xid) {
            conn_lost(c, now); /* ZooKeeper's "Xid out of order" */
            break;
        }
        struct req r;
        pop_req(c, &r);
        struct pdk_result res = {0};
        struct pdk_stat stat;
        int drc = request_decode(c, &r, h.err, &in, &res, &stat);
        if (drc != 0)
            res = (struct pdk_result){.rc = PDK_ZMARSHALLINGERROR, .op = r.op, .data_len = -1};
        res.zxid = h.zxid;
        res.rc = request_watch_done(c, &r, res.rc);
        client_complete(c, &r, &res);
        pd_free(r.wpath);
        if (client_is_finished(c) || c->is_free_pending)
            break;
        if (drc != 0)
            conn_lost(c, now);
        else if (r.op == PDK_OP_CLOSE_SESSION && res.rc == PDK_ZOK)
            finish(c, CS_CLOSED, PDK_STATE_CLOSED);
        break;
    }
    }
    arena_reset(&c->arena);
}

/*
 * Decodes every complete frame of buf[0, len); *used gets the bytes of the
 * frames decoded. False if the connection or the client ended on the way
 * (the rest of buf is then stale).
 */
static bool decode_frames(struct pdk_client *c, const uint8_t *buf, size_t len, int64_t now,
                          size_t *used)
{
    size_t off = 0;
    uint32_t gen = c->conn_gen;
    *used = 0;
    for (;;) {
        size_t body = 0;
        int rc = jute_frame_peek(buf + off, len - off, c->max_frame_bytes, &body);
        if (rc == PD_EAGAIN)
            break;
        if (rc != 0) {
            conn_lost(c, now);
            return false;
        }
        on_frame(c, buf + off + 4, body, now);
        off += 4 + body;
        /* The connection ended (its buffer is gone), or the client did. */
        if (c->conn_gen != gen || c->is_free_pending || client_is_finished(c))
            return false;
    }
    *used = off;
    return true;
}

/* Decodes every complete frame in the input buffer; false if the connection is gone. */
static bool drain_frames(struct pdk_client *c, int64_t now)
{
    size_t off = 0;
    if (!decode_frames(c, c->in, c->in_len, now, &off)) {
        c->in_len = 0;
        return false;
    }
    if (off > 0) {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
    return true;
}

/* Grows the input buffer to hold at least need bytes. */
static int reserve_in(struct pdk_client *c, size_t need)
{
    if (need <= c->in_cap)
        return 0;
    uint8_t *p = pd_realloc(c->in, need);
    if (!p)
        return PDK_ZSYSTEMERROR;
    c->in = p;
    c->in_cap = need;
    return 0;
}

/* Makes room for at least READ_CHUNK_BYTES more, or the rest of a large frame. */
static int ensure_in_room(struct pdk_client *c)
{
    size_t need = c->in_len + READ_CHUNK_BYTES;
    if (c->in_len >= 4) {
        size_t body = 0;
        int rc = jute_frame_peek(c->in, c->in_len, c->max_frame_bytes, &body);
        if (rc == PD_EAGAIN) {
            uint32_t len = (uint32_t)c->in[0] << 24 | (uint32_t)c->in[1] << 16 |
                           (uint32_t)c->in[2] << 8 | c->in[3];
            if ((size_t)len + 4 > need)
                need = (size_t)len + 4;
        }
    }
    return reserve_in(c, need);
}

static void do_read(struct pdk_client *c, int64_t now)
{
    for (int i = 0; i < READS_PER_PROCESS; i++) {
        if (ensure_in_room(c) != 0) {
            conn_lost(c, now);
            return;
        }
        size_t room = c->in_cap - c->in_len;
        ssize_t n = recv(c->fd, c->in + c->in_len, room, 0);
        if (n == 0) {
            conn_lost(c, now);
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                conn_lost(c, now);
            return;
        }
        c->last_recv_ms = now;
        c->in_len += (size_t)n;
        if (!drain_frames(c, now))
            return;
        if ((size_t)n < room)
            return;
    }
}

static void do_write(struct pdk_client *c, int64_t now)
{
    size_t left = c->out.len - c->out_sent;
    if (left == 0)
        return;
    ssize_t n = send(c->fd, c->out.data + c->out_sent, left, MSG_NOSIGNAL);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            conn_lost(c, now);
        return;
    }
    c->last_send_ms = now;
    c->out_sent += (size_t)n;
    if (c->out_sent == c->out.len) {
        jute_out_reset(&c->out);
        c->out_sent = 0;
    }
}

/* ---- public entry points ------------------------------------------------------------ */

int pdk_new(const char *hosts, const struct pdk_options *opts, struct pdk_client **out)
{
    static const struct pdk_options defaults = {0};
    if (!out)
        return PDK_ZBADARGUMENTS;
    *out = NULL;
    if (!opts)
        opts = &defaults;
    if (opts->session_timeout_ms < 0 || opts->max_frame_bytes < 0 ||
        (opts->session_id != 0 && !opts->passwd))
        return PDK_ZBADARGUMENTS;
    struct pdk_client *c = pd_calloc(1, sizeof(*c));
    if (!c)
        return PDK_ZSYSTEMERROR;
    c->fd = -1;
    jute_out_init(&c->out);
    jute_out_init(&c->held);
    arena_init(&c->arena, 16 * 1024);
    watch_table_init(&c->watches);
    int rc = hosts_parse(hosts, &c->hosts, &c->n_hosts, &c->chroot);
    if (rc) {
        pd_free(c);
        return rc;
    }
    c->chroot_len = c->chroot ? strlen(c->chroot) : 0;
    c->requested_timeout_ms = opts->session_timeout_ms ? opts->session_timeout_ms : 30000;
    c->session_timeout_ms = c->requested_timeout_ms;
    c->watcher = opts->watcher;
    c->watcher_ctx = opts->watcher_ctx;
    c->can_be_read_only = opts->can_be_read_only;
    c->max_frame_bytes = opts->max_frame_bytes ? (size_t)opts->max_frame_bytes
                                               : (size_t)JUTE_MAX_BUFFER_DEFAULT + 1024;
    c->session_id = opts->session_id;
    if (opts->session_id)
        memcpy(c->passwd, opts->passwd, ZOO_PASSWD_LEN);
    c->next_xid = 1;
    c->host_idx = -1;

    int64_t now = pdk_now_ms();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    c->rng = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)getpid() << 32 ^
             (uint64_t)(uintptr_t)c ^ (uint64_t)now;
    if (!c->rng)
        c->rng = 1;
    if (!opts->is_shuffle_disabled) {
        for (int i = c->n_hosts - 1; i > 0; i--) {
            int j = (int)(next_rand(c) % (uint64_t)(i + 1));
            struct host t = c->hosts[i];
            c->hosts[i] = c->hosts[j];
            c->hosts[j] = t;
        }
    }
    start_attempt(c, now);
    *out = c;
    return PDK_ZOK;
}

void client_destroy(struct pdk_client *c)
{
    c->is_free_pending = true;
    bool was_closed = c->state == CS_CLOSED;
    client_drop_socket(c);
    if (!client_is_finished(c))
        c->state = CS_CLOSED;
    fail_all(c);
    drop_watchers(c, PDK_STATE_CLOSED);
    if (!was_closed)
        notify_global(c, PDK_STATE_CLOSED);
    watch_table_close(&c->watches);
    for (int i = 0; i < c->n_auths; i++) {
        pd_free(c->auths[i].scheme);
        pd_free(c->auths[i].cred);
    }
    pd_free(c->auths);
    pd_free(c->auth_q);
    pd_free(c->reqs);
    pd_free(c->in);
    jute_out_close(&c->out);
    jute_out_close(&c->held);
    arena_close(&c->arena);
    pd_free(c->hosts);
    pd_free(c->chroot);
    pd_free(c);
}

void pdk_free(struct pdk_client *c)
{
    if (!c)
        return;
    if (c->cb_depth > 0 || c->wait_depth > 0) {
        c->is_free_pending = true;
        return;
    }
    client_destroy(c);
}

int pdk_fd(const struct pdk_client *c)
{
    return c->fd;
}

void pdk_interest(const struct pdk_client *c, int64_t now_ms, int *events, int *timeout_ms)
{
    int64_t due = -1;
    *events = 0;
    switch (c->state) {
    case CS_CONNECTING:
        *events = PDK_WRITE;
        due = c->deadline_ms;
        break;
    case CS_BACKOFF:
        due = c->deadline_ms;
        break;
    case CS_HANDSHAKE:
        *events = PDK_READ | (c->out_sent < c->out.len ? PDK_WRITE : 0);
        due = c->deadline_ms;
        break;
    case CS_CONNECTED:
    case CS_CLOSING: {
        *events = PDK_READ | (c->out_sent < c->out.len ? PDK_WRITE : 0);
        int64_t dead = c->last_recv_ms + c->session_timeout_ms * 2 / 3;
        due = dead;
        /* A ping is due only when nothing waits to be written anyway. */
        int64_t ping = c->last_send_ms + c->session_timeout_ms / 3;
        if (c->out_sent == c->out.len && ping < due)
            due = ping;
        break;
    }
    default: /* finished: only what is still to be failed */
        due = c->n_reqs > 0 ? now_ms : -1;
        break;
    }
    if (c->is_free_pending)
        due = now_ms;
    if (due < 0) {
        *timeout_ms = -1;
    } else {
        int64_t ms = due - now_ms;
        *timeout_ms = ms < 0 ? 0 : ms > INT32_MAX ? INT32_MAX : (int)ms;
    }
}

/* The end of every call that may run callbacks: fails what a finished client holds, frees a
 * client that pdk_free() was called on meanwhile, and says whether it can go on. */
static int end_call(struct pdk_client *c)
{
    if (client_is_finished(c) && !c->is_free_pending)
        fail_all(c);
    if (c->is_free_pending) {
        if (c->wait_depth == 0)
            client_destroy(c);
        return PDK_ZCLOSING;
    }
    return client_is_finished(c) ? client_finished_rc(c) : PDK_ZOK;
}

int pdk_process(struct pdk_client *c, int revents, int64_t now)
{
    if (c->cb_depth > 0)
        return PDK_ZINVALIDSTATE;
    switch (c->state) {
    case CS_CONNECTING:
        if (revents) {
            int err = 0;
            socklen_t len = sizeof(err);
            if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
                attempt_failed(c, now);
            else
                begin_handshake(c);
        } else if (now >= c->deadline_ms) {
            attempt_failed(c, now);
        }
        break;
    case CS_BACKOFF:
        if (now >= c->deadline_ms)
            start_attempt(c, now);
        break;
    case CS_HANDSHAKE:
    case CS_CONNECTED:
    case CS_CLOSING:
        if (revents & ~PDK_WRITE)
            do_read(c, now);
        break;
    default:
        break;
    }
    /* Timers, on whatever state the reads left. */
    if (c->state == CS_HANDSHAKE && now >= c->deadline_ms) {
        attempt_failed(c, now);
    } else if (c->state == CS_CONNECTED || c->state == CS_CLOSING) {
        if (now - c->last_recv_ms >= c->session_timeout_ms * 2 / 3) {
            conn_lost(c, now);
        } else if (now - c->last_send_ms >= c->session_timeout_ms / 3 &&
                   c->out_sent == c->out.len) {
            request_put_ping(&c->out);
        }
    }
    if (c->fd >= 0 && c->state != CS_CONNECTING && c->out_sent < c->out.len)
        do_write(c, now);
    return end_call(c);
}

/* A connection whose socket carries the protocol (the TCP connect is done). */
static bool is_conn_open(const struct pdk_client *c)
{
    return c->fd >= 0 &&
           (c->state == CS_HANDSHAKE || c->state == CS_CONNECTED || c->state == CS_CLOSING);
}

const void *pdk_output(const struct pdk_client *c, size_t *len)
{
    size_t left = is_conn_open(c) ? c->out.len - c->out_sent : 0;
    *len = left;
    return left > 0 ? c->out.data + c->out_sent : NULL;
}

int pdk_output_done(struct pdk_client *c, size_t n, int64_t now)
{
    if (c->cb_depth > 0)
        return PDK_ZINVALIDSTATE;
    if (!is_conn_open(c) || n > c->out.len - c->out_sent)
        return PDK_ZBADARGUMENTS;
    if (n == 0)
        return PDK_ZOK;
    c->last_send_ms = now;
    c->out_sent += n;
    if (c->out_sent == c->out.len) {
        jute_out_reset(&c->out);
        c->out_sent = 0;
    }
    return PDK_ZOK;
}

/*
 * Bytes the caller read from the socket. Whole frames are decoded where they
 * lie; only a frame cut by the end of data is copied, to wait for its rest.
 */
static void take_input(struct pdk_client *c, const uint8_t *data, size_t n, int64_t now)
{
    c->last_recv_ms = now;
    size_t used = 0;
    if (c->in_len == 0) {
        if (!decode_frames(c, data, n, now, &used))
            return;
        if (used == n)
            return;
        data += used;
        n -= used;
    }
    if (reserve_in(c, c->in_len + n) != 0) {
        conn_lost(c, now);
        return;
    }
    memcpy(c->in + c->in_len, data, n);
    c->in_len += n;
    drain_frames(c, now);
}

int pdk_input(struct pdk_client *c, const void *data, size_t n, int64_t now)
{
    if (c->cb_depth > 0)
        return PDK_ZINVALIDSTATE;
    if (is_conn_open(c)) {
        if (n == 0)
            conn_lost(c, now);
        else
            take_input(c, data, n, now);
    }
    return end_call(c);
}

/* ---- information ---------------------------------------------------------------- */

int pdk_state(const struct pdk_client *c)
{
    switch (c->state) {
    case CS_CONNECTED:
    case CS_CLOSING:
        return c->is_read_only ? PDK_STATE_CONNECTED_READ_ONLY : PDK_STATE_CONNECTED;
    case CS_CLOSED:
        return PDK_STATE_CLOSED;
    case CS_EXPIRED:
        return PDK_STATE_EXPIRED;
    case CS_AUTH_FAILED:
        return PDK_STATE_AUTH_FAILED;
    default:
        return PDK_STATE_CONNECTING;
    }
}

int64_t pdk_session_id(const struct pdk_client *c)
{
    return c->session_id;
}

void pdk_session_passwd(const struct pdk_client *c, uint8_t out[16])
{
    memcpy(out, c->passwd, ZOO_PASSWD_LEN);
}

int pdk_session_timeout_ms(const struct pdk_client *c)
{
    return c->session_timeout_ms;
}

int64_t pdk_last_zxid(const struct pdk_client *c)
{
    return c->last_zxid;
}

const char *pdk_current_host(const struct pdk_client *c)
{
    return c->host_idx >= 0 ? c->hosts[c->host_idx].name : "";
}

int pdk_outstanding(const struct pdk_client *c)
{
    return (int)c->n_reqs;
}

const char *pdk_error_name(int rc)
{
    switch (rc) {
    case PDK_ZINVALIDSTATE:
        return "INVALIDSTATE";
    case PDK_ZCLOSING:
        return "CLOSING";
    case PDK_ZNOTHING:
        return "NOTHING";
    default: {
        const char *s = zk_err_name(rc);
        return s ? s : "UNKNOWN";
    }
    }
}
