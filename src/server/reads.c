/*
 * Requests read through io_uring: a multishot receive per client connection
 * fills buffers from one provided-buffer ring (src/uring/ringio.c), and the
 * ring's fd sits in libuv's poll set, so a loop turn reads every connection
 * that sent something without a read() each.
 *
 * Why: at depth 1 the server made one read() per request, and on the
 * development VM (a PVM guest) the entry into the kernel is much of its cost
 * (DESIGN-NOTES "Replies" and "Requests"). The TCP receive work is the same
 * either way; it now runs as io_uring task work at the thread's next system
 * call (COOP_TASKRUN), and the bytes are copied once more, from the ring's
 * buffer into the connection's input buffer, where frames are cut as before.
 *
 * Identity: a connection holds a slot; a completion's tag is the slot, the
 * slot's generation (bumped when the connection lets it go, so completions
 * for a closed connection are dropped) and the arm sequence of the receive
 * (so that the end of an older, cancelled receive does not end the current
 * one). Bytes are delivered whatever their receive's sequence: a receive
 * cancelled for back-pressure may have posted bytes before the cancel, and
 * they are the connection's next bytes.
 *
 * Stopping and closing cancel the receive and submit at once: the ring holds
 * a reference to the socket, which is not closed (no FIN) while a receive is
 * armed on it.
 *
 * Without a ring (no liburing, a kernel that refuses, PADDOCK_NO_URING) the
 * server reads through libuv as before (conn.c).
 */
#include "server/server.h"
#include "uring/ringio.h"

#include "common/alloc.h"
#include "common/err.h"
#include "common/log.h"

#include <errno.h>

#define READS_BUFS      1024 /* receive buffers, 4 MiB in all */
#define READS_BUF_BYTES (4 * 1024)
#define SLOT_BITS       24
#define SEQ_BITS        16
#define GEN_BITS        24
#define SLOT_MASK       ((1u << SLOT_BITS) - 1)
#define SEQ_MASK        ((1u << SEQ_BITS) - 1)
#define GEN_MASK        ((1u << GEN_BITS) - 1)
#define CANCEL_TAG      UINT64_MAX /* slot SLOT_MASK is never handed out */

struct reads {
    struct ringio *ring;
    uv_poll_t poll;       /* on the ring's fd */
    struct conn **conns;  /* owned; by slot, NULL when free */
    uint32_t *gens;       /* owned; generation of each slot */
    uint32_t *free_slots; /* owned; stack of free slots */
    uint32_t n_slots, n_free;
    bool has_queued; /* operations wait for a submit */
};

static uint64_t tag_of(const struct reads *rd, const struct conn *c)
{
    uint32_t slot = c->read_slot - 1;
    return (uint64_t)rd->gens[slot] << (SLOT_BITS + SEQ_BITS) |
           (uint64_t)(c->read_seq & SEQ_MASK) << SLOT_BITS | slot;
}

static void submit(struct server *srv)
{
    struct reads *rd = srv->reads;
    if (!rd->has_queued)
        return;
    rd->has_queued = false;
    if (ringio_submit(rd->ring) != 0)
        pd_error("io_uring refused to take receives or cancels; connections may stall");
}

/* Gives c a slot; false when out of memory or slots. */
static bool take_slot(struct reads *rd, struct conn *c)
{
    if (rd->n_free == 0) {
        uint32_t n = rd->n_slots ? rd->n_slots * 2 : 64;
        if (n > SLOT_MASK)
            n = SLOT_MASK;
        if (n <= rd->n_slots)
            return false;
        struct conn **cs = pd_realloc(rd->conns, n * sizeof(*cs));
        if (!cs)
            return false;
        rd->conns = cs;
        uint32_t *g = pd_realloc(rd->gens, n * sizeof(*g));
        if (!g)
            return false;
        rd->gens = g;
        uint32_t *f = pd_realloc(rd->free_slots, n * sizeof(*f));
        if (!f)
            return false;
        rd->free_slots = f;
        for (uint32_t i = n; i > rd->n_slots; i--) {
            rd->conns[i - 1] = NULL;
            rd->gens[i - 1] = 0;
            rd->free_slots[rd->n_free++] = i - 1;
        }
        rd->n_slots = n;
    }
    uint32_t slot = rd->free_slots[--rd->n_free];
    rd->conns[slot] = c;
    c->read_slot = slot + 1;
    return true;
}

static void arm(struct server *srv, struct conn *c)
{
    struct reads *rd = srv->reads;
    c->read_seq++;
    c->is_read_armed = true;
    ringio_recv(rd->ring, conn_fd(c), tag_of(rd, c));
    rd->has_queued = true;
}

static void cancel(struct server *srv, struct conn *c)
{
    struct reads *rd = srv->reads;
    if (!c->is_read_armed)
        return;
    c->is_read_armed = false;
    ringio_cancel(rd->ring, tag_of(rd, c), CANCEL_TAG);
    rd->has_queued = true;
}

bool reads_start(struct conn *c)
{
    struct server *srv = c->srv;
    if (!c->read_slot && !take_slot(srv->reads, c))
        return false;
    if (!c->is_read_armed) {
        arm(srv, c);
        submit(srv);
    }
    return true;
}

void reads_stop(struct conn *c)
{
    cancel(c->srv, c);
    submit(c->srv);
}

void reads_forget(struct conn *c)
{
    struct reads *rd = c->srv->reads;
    if (!c->read_slot)
        return;
    cancel(c->srv, c);
    submit(c->srv);
    uint32_t slot = c->read_slot - 1;
    rd->conns[slot] = NULL;
    rd->gens[slot] = (rd->gens[slot] + 1) & GEN_MASK;
    rd->free_slots[rd->n_free++] = slot;
    c->read_slot = 0;
}

/* One completion of the ring (ringio_done_fn). */
static void on_done(void *arg, uint64_t tag, int res, const void *data, bool is_more)
{
    struct server *srv = arg;
    struct reads *rd = srv->reads;
    if (tag == CANCEL_TAG)
        return;
    uint32_t slot = (uint32_t)(tag & SLOT_MASK);
    uint32_t seq = (uint32_t)(tag >> SLOT_BITS) & SEQ_MASK;
    uint32_t gen = (uint32_t)(tag >> (SLOT_BITS + SEQ_BITS));
    if (slot >= rd->n_slots || !rd->conns[slot] || rd->gens[slot] != gen)
        return; /* its connection has closed */
    struct conn *c = rd->conns[slot];
    bool is_current = seq == (c->read_seq & SEQ_MASK);
    if (!is_more && is_current)
        c->is_read_armed = false;
    if (res > 0) {
        conn_received(c, data, (size_t)res);
    } else if (res == -ENOBUFS) {
        pd_debug("receive buffers ran out reading from %s:%d; receiving again", c->peer_ip,
                 c->peer_port);
    } else if (res == 0 || (res != -ENOBUFS && res != -ECANCELED)) {
        if (is_current) {
            conn_read_ended(c, res == 0 ? UV_EOF : res);
            return;
        }
    }
    /* The receive ended without the connection wanting that (buffers ran out, a final
     * completion with bytes): arm a new one. */
    if (rd->conns[slot] == c && c->is_reading && !c->is_read_armed && c->state != CONN_CLOSING)
        arm(srv, c);
}

static void on_readable(uv_poll_t *h, int status, int events)
{
    (void)events;
    struct server *srv = h->data;
    if (status < 0) {
        pd_error("polling the io_uring of requests failed: %s", uv_strerror(status));
        return;
    }
    ringio_reap(srv->reads->ring, on_done, srv);
    submit(srv);
}

int reads_open(struct server *srv)
{
    srv->reads = NULL;
    struct reads *rd = pd_calloc(1, sizeof(*rd));
    if (!rd)
        return PD_ENOMEM;
    int rc = ringio_open(&rd->ring, READS_BUFS, READS_BUF_BYTES, RINGIO_POLLABLE);
    if (rc == 0)
        rc = uv_poll_init(&srv->loop, &rd->poll, ringio_fd(rd->ring)) == 0 ? 0 : PD_ENOTSUP;
    if (rc != 0) {
        ringio_close(rd->ring);
        pd_free(rd);
        return rc;
    }
    rd->poll.data = srv;
    uv_poll_start(&rd->poll, UV_READABLE, on_readable);
    srv->reads = rd;
    return 0;
}

void reads_stop_polling(struct server *srv)
{
    if (srv->reads && !uv_is_closing((uv_handle_t *)&srv->reads->poll))
        uv_close((uv_handle_t *)&srv->reads->poll, NULL);
}

void reads_free(struct server *srv)
{
    struct reads *rd = srv->reads;
    if (!rd)
        return;
    ringio_close(rd->ring);
    pd_free(rd->conns);
    pd_free(rd->gens);
    pd_free(rd->free_slots);
    pd_free(rd);
    srv->reads = NULL;
}
