/*
 * Client connections: accept (with the maxClientCnxns per-IP limit), read and
 * cut frames (jute.maxbuffer checked on the length word, before any
 * allocation), hand frames to dispatch, and write replies in one batch per
 * loop turn. See the state diagram in server.h.
 *
 * Invariants: a conn is on srv->conns from accept until its close callback
 * frees it; `writing` is non-NULL exactly while a uv_write is in flight;
 * output queued after conn_close() is still written before the socket goes.
 */
#include "server/server.h"

#include "common/alloc.h"
#include "common/err.h"
#include "common/log.h"

#include <string.h>

/* Stop reading from a client whose unwritten replies pass this; resume below it. */
#define CONN_OUT_HIGH_WATER (8u << 20)
/* Stop reading from a held connection (see pipeline.c) once this much input waits. */
#define CONN_HELD_MAX (4u << 20)
/* Keep at least this much free space in the input buffer for each read. */
#define CONN_READ_CHUNK (64u << 10)

static void on_close(uv_handle_t *h)
{
    struct conn *c = h->data;
    struct server *srv = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->n_conns--;
    /* Shutting down: the last connection gone, nothing else keeps the loop alive. */
    if (srv->is_stopping && !srv->conns && !uv_is_closing((uv_handle_t *)&srv->flush_check)) {
        uv_close((uv_handle_t *)&srv->flush_check, NULL);
        reads_stop_polling(srv);
    }
    if (c->is_dirty) {
        struct conn **pp = &srv->dirty, *prev = NULL;
        while (*pp && *pp != c) {
            prev = *pp;
            pp = &(*pp)->dirty_next;
        }
        if (*pp)
            *pp = c->dirty_next;
        if (srv->dirty_tail == c)
            srv->dirty_tail = prev;
    }
    for (int i = 0; i < c->n_auth; i++) {
        pd_free(c->auth[i].scheme);
        pd_free(c->auth[i].id);
    }
    pd_free(c->auth);
    pd_free(c->in);
    pd_free(c->writing);
    jute_out_close(&c->out);
    pd_free(c);
}

static void close_now(struct conn *c)
{
    if (uv_is_closing((uv_handle_t *)&c->tcp))
        return;
    dispatch_conn_gone(c);
    /* Before the socket is closed: an armed ring receive holds it open. */
    if (c->srv->reads)
        reads_forget(c);
    uv_close((uv_handle_t *)&c->tcp, on_close);
}

void conn_mark_dirty(struct conn *c)
{
    if (c->is_dirty || uv_is_closing((uv_handle_t *)&c->tcp))
        return;
    /* FIFO, so that a notification queued for a watcher goes out before the reply to the
     * write that fired it, as ZooKeeper sends it (synchronously, before the reply). */
    c->is_dirty = true;
    c->dirty_next = NULL;
    if (c->srv->dirty)
        c->srv->dirty_tail->dirty_next = c;
    else
        c->srv->dirty = c;
    c->srv->dirty_tail = c;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
/* ---- replies ------------------------------------------------------------------------ */

size_t conn_reply_begin(struct conn *c, int32_t xid, int64_t zxid, int32_t err)
{
    size_t at = jute_frame_begin(&c->out);
    struct jute_reply_header h = {.xid = xid, .zxid = zxid, .err = err};
    jute_put_reply_header(&c->out, &h);
    return at;
}

void conn_reply_end(struct conn *c, size_t at)
{
    jute_frame_end(&c->out, at);
    /* ServerStats' response sizes exclude the length word (ServerCnxn.serialize). */
    stats_add_response(&c->srv->stats, (int64_t)(c->out.len - at - 4));
    conn_sent(c);
}

void conn_reply_empty(struct conn *c, int32_t xid, int64_t zxid, int32_t err)
{
    conn_reply_end(c, conn_reply_begin(c, xid, zxid, err));
}

void conn_note_latency(struct conn *c, int64_t started_ms, const char *op, int32_t xid,
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

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf);

static void read_on(struct conn *c, bool on)
{
    if (on == c->is_reading || c->state == CONN_CLOSING)
        return;
    c->is_reading = on;
    if (c->srv->reads) {
        if (!on) {
            reads_stop(c);
        } else if (!reads_start(c)) {
            pd_error("out of memory reading from %s:%d", c->peer_ip, c->peer_port);
            c->state = CONN_CLOSING;
            close_now(c);
        }
    } else if (on) {
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    } else {
        uv_read_stop((uv_stream_t *)&c->tcp);
    }
}

/*
 * Back-pressure, the one rule: read from a client unless its unwritten replies
 * reach CONN_OUT_HIGH_WATER, or it is held (see pipeline.c) with more than
 * CONN_HELD_MAX bytes of input already waiting.
 */
static void update_reading(struct conn *c)
{
    read_on(c, c->out.len < CONN_OUT_HIGH_WATER && !(c->is_held && c->in_len > CONN_HELD_MAX));
}

static void on_write(uv_write_t *req, int status)
{
    struct conn *c = req->data;
    pd_free(c->writing);
    c->writing = NULL;
    if (status < 0) {
        if (c->state != CONN_CLOSING)
            pd_debug("write to %s:%d failed: %s", c->peer_ip, c->peer_port, uv_strerror(status));
        c->out.len = 0;
        c->state = CONN_CLOSING;
        close_now(c);
        return;
    }
    conn_flush(c);
    update_reading(c);
}

bool conn_flush_prepare(struct conn *c)
{
    if (uv_is_closing((uv_handle_t *)&c->tcp) || c->writing)
        return false;
    if (c->out.err) {
        pd_error("out of memory queueing replies for %s:%d", c->peer_ip, c->peer_port);
        c->out.len = 0;
        c->state = CONN_CLOSING;
        close_now(c);
        return false;
    }
    if (c->out.len == 0) {
        if (c->close_after_flush)
            close_now(c);
        return false;
    }
    return true;
}

int conn_fd(const struct conn *c)
{
    uv_os_fd_t fd = -1;
    uv_fileno((const uv_handle_t *)&c->tcp, &fd);
    return fd;
}

void conn_flush(struct conn *c)
{
    if (!conn_flush_prepare(c))
        return;
    /* Most batches fit the socket buffer: write them straight away. Only what is left goes
     * through uv_write, whose completion re-arms epoll (a syscall per write in libuv 1.44),
     * and the output buffer is kept for the next batch instead of being handed over. */
    uv_buf_t now = uv_buf_init((char *)c->out.data, (unsigned)c->out.len);
    conn_flush_sent(c, uv_try_write((uv_stream_t *)&c->tcp, &now, 1));
}

void conn_flush_sent(struct conn *c, int n)
{
    if (n == (int)c->out.len) {
        c->out.len = 0;
        if (c->close_after_flush)
            close_now(c);
        return;
    }
    if (n < 0 && n != UV_EAGAIN) {
        pd_debug("write to %s:%d failed: %s", c->peer_ip, c->peer_port, uv_strerror(n));
        c->out.len = 0;
        c->state = CONN_CLOSING;
        close_now(c);
        return;
    }
    if (n > 0) {
        memmove(c->out.data, c->out.data + n, c->out.len - (size_t)n);
        c->out.len -= (size_t)n;
    }
    size_t len;
    c->writing = jute_out_steal(&c->out, &len);
    uv_buf_t b = uv_buf_init((char *)c->writing, (unsigned)len);
    c->write_req.data = c;
    int rc = uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
    if (rc != 0) {
        pd_free(c->writing);
        c->writing = NULL;
        c->state = CONN_CLOSING;
        close_now(c);
    }
}

void conn_close(struct conn *c, const char *why)
{
    if (c->state == CONN_CLOSING && c->close_after_flush)
        return;
    if (why)
        pd_debug("closing connection %s:%d: %s", c->peer_ip, c->peer_port, why);
    read_on(c, false);
    c->state = CONN_CLOSING;
    c->close_after_flush = true;
    conn_mark_dirty(c);
}

int conn_add_auth(struct conn *c, const char *scheme, const char *id)
{
    for (int i = 0; i < c->n_auth; i++)
        if (strcmp(c->auth[i].scheme, scheme) == 0 && strcmp(c->auth[i].id, id) == 0)
            return 0;
    struct jute_id *a = pd_realloc(c->auth, (size_t)(c->n_auth + 1) * sizeof(*a));
    if (!a)
        return PD_ENOMEM;
    c->auth = a;
    char *sc = pd_strdup(scheme), *i = pd_strdup(id);
    if (!sc || !i) {
        pd_free(sc);
        pd_free(i);
        return PD_ENOMEM;
    }
    a[c->n_auth].scheme = sc;
    a[c->n_auth].id = i;
    c->n_auth++;
    return 0;
}

void conn_sent(struct conn *c)
{
    c->packets_sent++;
    c->srv->stats.packets_sent++;
    conn_mark_dirty(c);
    update_reading(c);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    struct conn *c = h->data;
    if (c->in_cap - c->in_len < CONN_READ_CHUNK) {
        size_t cap = c->in_len + CONN_READ_CHUNK;
        uint8_t *p = pd_realloc(c->in, cap);
        if (!p) {
            *buf = uv_buf_init(NULL, 0);
            return;
        }
        c->in = p;
        c->in_cap = cap;
    }
    *buf = uv_buf_init((char *)c->in + c->in_len, (unsigned)(c->in_cap - c->in_len));
}

/* Cuts and handles every complete frame in the input buffer. */
static void process_input(struct conn *c)
{
    struct server *srv = c->srv;
    size_t off = 0;
    if (c->is_held)
        return;
    while (c->state != CONN_CLOSING && off < c->in_len) {
        const uint8_t *p = c->in + off;
        size_t avail = c->in_len - off;
        if (c->state == CONN_NEW && avail >= 4 && fourlw_try(c, p, avail)) {
            off = c->in_len;
            break;
        }
        size_t body;
        int rc = jute_frame_peek(p, avail, (size_t)srv->cfg.jute_max_buffer, &body);
        if (rc == PD_EAGAIN)
            break;
        if (rc != 0) {
            int32_t announced =
                (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
            pd_warn("Len error %d from %s:%d (jute.maxbuffer %d); closing the connection",
                    announced, c->peer_ip, c->peer_port, srv->cfg.jute_max_buffer);
            c->state = CONN_CLOSING;
            close_now(c);
            return;
        }
        if (c->state == CONN_NEW) {
            srv->stats.connection_requests++;
            if (!dispatch_connect(c, p + 4, body)) {
                conn_close(c, "handshake refused");
            } else if (c->state == CONN_NEW) {
                c->state = CONN_ACTIVE;
            }
        } else if (!dispatch_request(c, p + 4, body)) {
            /* It waits for this connection's queued txns; pipeline_commit resumes it. */
            arena_reset(&srv->arena);
            c->is_held = true;
            break;
        }
        c->packets_received++;
        srv->stats.packets_received++;
        srv->stats.bytes_received += (int64_t)(4 + body);
        arena_reset(&srv->arena);
        off += 4 + body;
    }
    if (off > 0) {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
    /* Give back a large buffer once a big frame has gone through. */
    if (c->in_len == 0 && c->in_cap > 4 * CONN_READ_CHUNK) {
        pd_free(c->in);
        c->in = NULL;
        c->in_cap = 0;
    }
    update_reading(c);
}

void conn_resume(struct conn *c)
{
    c->is_held = false;
    if (uv_is_closing((uv_handle_t *)&c->tcp))
        return;
    process_input(c);
    update_reading(c);
}

void conn_read_ended(struct conn *c, int err)
{
    if (err == UV_ENOBUFS) {
        pd_error("out of memory reading from %s:%d", c->peer_ip, c->peer_port);
        c->state = CONN_CLOSING;
        close_now(c);
        return;
    }
    if (err != UV_EOF && err != UV_ECONNRESET)
        pd_debug("read from %s:%d: %s", c->peer_ip, c->peer_port, uv_strerror(err));
    c->state = CONN_CLOSING;
    c->out.len = 0;
    close_now(c);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    struct conn *c = s->data;
    if (nread < 0) {
        conn_read_ended(c, (int)nread);
        return;
    }
    c->in_len += (size_t)nread;
    c->last_io_ms = (int64_t)uv_now(&c->srv->loop);
    process_input(c);
}

void conn_received(struct conn *c, const void *data, size_t n)
{
    if (uv_is_closing((uv_handle_t *)&c->tcp))
        return;
    if (c->in_cap - c->in_len < n) {
        size_t cap = c->in_len + (n > CONN_READ_CHUNK ? n : CONN_READ_CHUNK);
        uint8_t *p = pd_realloc(c->in, cap);
        if (!p) {
            conn_read_ended(c, UV_ENOBUFS);
            return;
        }
        c->in = p;
        c->in_cap = cap;
    }
    memcpy(c->in + c->in_len, data, n);
    c->in_len += n;
    c->last_io_ms = (int64_t)uv_now(&c->srv->loop);
    process_input(c);
}

static int count_from_ip(struct server *srv, const char *ip)
{
    int n = 0;
    for (struct conn *c = srv->conns; c; c = c->next)
        if (!uv_is_closing((uv_handle_t *)&c->tcp) && strcmp(c->peer_ip, ip) == 0)
            n++;
    return n;
}

static void on_reject_close(uv_handle_t *h)
{
    pd_free(h);
}

void conn_on_accept(uv_stream_t *listener, int status)
{
    struct server *srv = listener->data;
    if (status < 0) {
        pd_warn("accept: %s", uv_strerror(status));
        return;
    }
    struct conn *c = pd_calloc(1, sizeof(*c));
    if (!c) {
        uv_tcp_t *tmp = pd_malloc(sizeof(*tmp));
        if (tmp) {
            uv_tcp_init(&srv->loop, tmp);
            if (uv_accept(listener, (uv_stream_t *)tmp) == 0)
                pd_error("out of memory: refusing a connection");
            uv_close((uv_handle_t *)tmp, on_reject_close);
        }
        return;
    }
    uv_tcp_init(&srv->loop, &c->tcp);
    c->tcp.data = c;
    c->srv = srv;
    c->min_latency_ms = -1;
    c->last_cxid = -1;
    c->last_zxid = -1;
    c->last_op = "NA";
    jute_out_init(&c->out);
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    srv->n_conns++;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        close_now(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            uv_ip6_name(a, c->peer_ip, sizeof(c->peer_ip));
            c->peer_port = ntohs(a->sin6_port);
        } else {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            uv_ip4_name(a, c->peer_ip, sizeof(c->peer_ip));
            c->peer_port = ntohs(a->sin_port);
        }
    }
    c->established_ms = server_wall_ms();
    c->last_io_ms = (int64_t)uv_now(&srv->loop);
    if (conn_add_auth(c, "ip", c->peer_ip) != 0) {
        c->state = CONN_CLOSING;
        close_now(c);
        return;
    }
    int limit = srv->cfg.max_client_cnxns;
    if (limit > 0 && count_from_ip(srv, c->peer_ip) > limit) {
        pd_warn("Too many connections from %s - max is %d", c->peer_ip, limit);
        srv->stats.connections_rejected++;
        c->state = CONN_CLOSING;
        close_now(c);
        return;
    }
    read_on(c, true);
}
