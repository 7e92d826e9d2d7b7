/*
 * The sessions and the event loop of paddock bench (what the workloads are:
 * bench.h). One thread, N libpaddock clients, and one io_uring for the
 * connected sessions' bytes (ring mode, below) or, without it, one epoll set.
 *
 * Phases, each started by start_phase() and left by advance():
 *
 *   CONNECT --all connected--> ROOT --/bench, /bench/seq--> KEYS --K keys done--+
 *      |                      (ROOT and KEYS: not with --no-setup)              |
 *      | connect deadline                                                       v
 *      |              TIMED <--warm-up time (no WARMUP with --warmup 0)-- WARMUP
 *      |                | duration, or (delete) every key issued and answered
 *      v                v
 *    CLOSE <-------- DRAIN: nothing outstanding (or 10 s: broken)
 *      | every session closed (or 5 s)
 *      v
 *     END
 *
 * Each session owns D slots, one per outstanding request; a slot is the
 * request's completion context (its issue time and kind), so matching a
 * completion to its request costs nothing. A completion re-issues on its own
 * slot while the phase keeps the load going, so the pdk_process() turn that
 * read the replies sends the refills with its one send().
 *
 * Epoll (every session without a ring; with one, sessions still connecting):
 * a session's socket is registered for what pdk_interest() asks.
 * While a session is connected, epoll_ctl runs only when that changes (a
 * write that did not finish); while it connects it is re-registered after
 * every turn, since the library may have closed its socket and opened another
 * under the same number. Timers (pings, connect deadlines) are served by a
 * sweep when the earliest deadline of any session passes.
 */
#include "bench/bench_int.h"

#include "common/alloc.h"
#include "common/err.h"
#include "paddock/client.h"
#include "uring/ringio.h"

#include <errno.h>
#include <poll.h>
#include <inttypes.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define KEY_PREFIX       "/bench/k"
#define KEY_PATH_BYTES   17 /* "/bench/k" + 8 digits + NUL */
#define SEQ_PREFIX       "/bench/seq/n-"
#define DRAIN_NS         (10 * (int64_t)1000000000)
#define CLOSE_NS         (5 * (int64_t)1000000000)
#define MAX_WAIT_MS      1000
#define MAX_EPOLL_EVENTS 256
#define MAX_LOST_MSGS    8 /* connection-loss messages printed, at most */

enum phase { PH_CONNECT, PH_ROOT, PH_KEYS, PH_WARMUP, PH_TIMED, PH_DRAIN, PH_CLOSE, PH_END };

enum req_kind { K_SETUP, K_READ, K_WRITE };

struct session;

/* One outstanding request of a session; the completion's ctx. */
struct slot {
    struct session *s; /* the owner */
    int64_t issued_ns; /* the wake-up clock when it was queued */
    uint8_t kind;      /* enum req_kind */
    bool is_busy;      /* a request is outstanding on it */
};

struct session {
    struct bench *b;      /* the run */
    struct pdk_client *c; /* owned; pdk_free() */
    int idx;              /* 0..clients-1 */
    int fd;               /* socket registered with epoll, or -1 */
    uint32_t ep_events;   /* what fd is registered for */
    int64_t due_ns;       /* pdk_process() is due without events at this time */
    bool is_connected;    /* a handshake succeeded at least once */
    bool is_finished;     /* pdk_process() said the client is finished */
    bool is_close_done;   /* closeSession completed (or there was nothing to close) */
    bool is_ringed;       /* ring mode: fd's bytes go through the ring, not epoll */
    bool is_sending;      /* a ring send of the client's output is in flight */
    bool is_blocked;      /* fd was full: a ring poll waits for it to drain */
    bool is_dirty;        /* on b->dirty: may have output for the next ring turn */
    uint32_t gen;         /* bumped when fd leaves the ring: older tags are stale */
    size_t send_len;      /* bytes of the send in flight */
    struct slot *slots;   /* owned; depth entries */
};

struct bench {
    const struct bench_opts *o; /* borrowed */
    struct bench_result *r;     /* borrowed; what is measured */
    struct session *sessions;   /* owned; o->clients entries */
    int epfd;
    enum phase phase;
    int64_t now_ns;       /* the clock, read once per epoll wake-up */
    int64_t phase_end_ns; /* deadline of the current phase */
    int64_t next_due_ns;  /* earliest due_ns of any session (a lower bound) */
    int64_t setup_start_ns;
    int64_t timed_start_ns;   /* clock at the start of the timed run */
    int64_t cpu_start_us;     /* own CPU then */
    int64_t srv_cpu_start_us; /* the servers' CPU then; -1 unknown */
    int n_connected;          /* sessions connected at least once */
    int64_t outstanding;      /* requests in flight over all sessions */
    int setup_next;           /* next key setup creates */
    int delete_next;          /* next key the delete workload removes */
    bool is_keys_exhausted;   /* delete: every key was issued */
    int lost_msgs;            /* connection-loss messages printed */
    uint64_t rng;             /* xorshift64* state */
    char *value;              /* owned; o->size_bytes of payload */
    struct ringio *ring;      /* owned; NULL: every socket is served through epoll */
    struct session **dirty;   /* owned; o->clients entries, n_dirty used */
    int n_dirty;
};

static int64_t clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static inline uint32_t random_key(struct bench *b)
{
    return (uint32_t)(((rng_next(&b->rng) >> 32) * (uint64_t)b->o->keys) >> 32);
}

/* Writes "/bench/k%08u" into p (KEY_PATH_BYTES); snprintf would cost more than the request. */
static inline const char *key_path(char *p, uint32_t key)
{
    memcpy(p, KEY_PREFIX, 8);
    for (int i = 15; i >= 8; i--) {
        p[i] = (char)('0' + key % 10);
        key /= 10;
    }
    p[16] = 0;
    return p;
}

static void note_error(struct bench *b, int rc)
{
    struct bench_result *r = b->r;
    r->errors++;
    for (int i = 0; i < r->n_err_codes; i++) {
        if (r->err_rc[i] == rc) {
            r->err_n[i]++;
            return;
        }
    }
    int i = r->n_err_codes < BENCH_MAX_ERR_CODES ? r->n_err_codes++ : BENCH_MAX_ERR_CODES - 1;
    r->err_rc[i] = rc;
    r->err_n[i] = 1;
}

/* ---- requests ---------------------------------------------------------------------- */

static void on_done(struct pdk_client *c, const struct pdk_result *res, void *ctx);
static bool is_loading(const struct bench *b);

/*
 * Submits the workload's next request on c with completion context sl and
 * sets *kind. Returns the request function's code, or 1 when there is
 * nothing left to do (delete: every key was issued).
 */
static int submit_load(struct bench *b, struct pdk_client *c, struct slot *sl, enum req_kind *kind)
{
    const struct bench_opts *o = b->o;
    char pa[KEY_PATH_BYTES], pb[KEY_PATH_BYTES];
    enum bench_op op = o->op;
    if (op == BENCH_MIXED)
        op = (rng_next(&b->rng) >> 33) % 100 < (uint64_t)o->read_pct ? BENCH_GET : BENCH_SET;
    *kind = op == BENCH_GET || op == BENCH_EXISTS || op == BENCH_CHILDREN ? K_READ : K_WRITE;
    switch (op) {
    case BENCH_GET:
        return pdk_get_data(c, key_path(pa, random_key(b)), NULL, NULL, on_done, sl);
    case BENCH_EXISTS:
        return pdk_exists(c, key_path(pa, random_key(b)), NULL, NULL, on_done, sl);
    case BENCH_CHILDREN:
        return pdk_get_children(c, key_path(pa, random_key(b)), false, NULL, NULL, on_done, sl);
    case BENCH_SET:
        return pdk_set_data(c, key_path(pa, random_key(b)), b->value, o->size_bytes, -1, on_done,
                            sl);
    case BENCH_CREATE:
        return pdk_create(c, SEQ_PREFIX, b->value, o->size_bytes, NULL, PDK_PERSISTENT_SEQUENTIAL,
                          0, false, on_done, sl);
    case BENCH_DELETE:
        if (b->delete_next >= o->keys) {
            b->is_keys_exhausted = true;
            return 1;
        }
        return pdk_delete(c, key_path(pa, (uint32_t)b->delete_next++), -1, on_done, sl);
    case BENCH_MULTI: {
        key_path(pa, random_key(b));
        key_path(pb, random_key(b));
        struct pdk_op ops[3] = {
            pdk_op_check(pa, -1),
            pdk_op_set_data(pa, b->value, o->size_bytes, -1),
            pdk_op_set_data(pb, b->value, o->size_bytes, -1),
        };
        return pdk_multi(c, ops, 3, on_done, sl);
    }
    default: /* BENCH_MIXED was resolved above */
        return 1;
    }
}

/*
 * Queues the phase's next request of s on the free slot sl: a key's create
 * during setup, the workload's request during the warm-up and the timed
 * run. Returns true when one was queued; false when there is nothing to do
 * (setup or the delete keys are used up) or the client refused it (counted
 * as an error).
 */
static bool issue(struct bench *b, struct session *s, struct slot *sl)
{
    enum req_kind kind = K_SETUP;
    int rc;
    if (b->phase == PH_KEYS) {
        if (b->setup_next >= b->o->keys)
            return false;
        char path[KEY_PATH_BYTES];
        rc = pdk_create(s->c, key_path(path, (uint32_t)b->setup_next++), b->value, b->o->size_bytes,
                        NULL, PDK_PERSISTENT, 0, false, on_done, sl);
    } else {
        rc = submit_load(b, s->c, sl, &kind);
        if (rc > 0)
            return false;
    }
    if (rc != PDK_ZOK) {
        note_error(b, rc);
        return false;
    }
    sl->is_busy = true;
    sl->issued_ns = b->now_ns;
    sl->kind = (uint8_t)kind;
    b->outstanding++;
    return true;
}

static void on_done(struct pdk_client *c, const struct pdk_result *res, void *ctx)
{
    (void)c;
    struct slot *sl = ctx;
    struct session *s = sl->s;
    struct bench *b = s->b;
    struct bench_result *r = b->r;
    sl->is_busy = false;
    b->outstanding--;
    if (sl->kind == K_SETUP) {
        if (res->rc != PDK_ZOK && res->rc != PDK_ZNODEEXISTS)
            note_error(b, res->rc);
        else
            r->keys_setup++;
    } else {
        if (res->rc != PDK_ZOK)
            note_error(b, res->rc);
        else if (b->o->op == BENCH_CREATE)
            r->created++;
        else if (b->o->op == BENCH_DELETE)
            r->deleted++;
        if (b->phase == PH_TIMED) {
            r->ops++;
            uint64_t lat = (uint64_t)(b->now_ns - sl->issued_ns);
            hist_add(sl->kind == K_READ ? &r->h_read : &r->h_write, lat);
        }
    }
    if (b->phase == PH_KEYS || is_loading(b))
        issue(b, s, sl);
}

/* Setup's /bench and /bench/seq: ctx is the run. */
static void on_root_done(struct pdk_client *c, const struct pdk_result *res, void *ctx)
{
    (void)c;
    struct bench *b = ctx;
    b->outstanding--;
    if (res->rc != PDK_ZOK && res->rc != PDK_ZNODEEXISTS)
        note_error(b, res->rc);
}

static void on_closed(struct pdk_client *c, const struct pdk_result *res, void *ctx)
{
    (void)c;
    (void)res; /* without a connection the session just ends; either way it is over */
    struct session *s = ctx;
    s->is_close_done = true;
}

/* The global watcher of every session (ctx: the session): session state changes. */
static void on_session_event(struct pdk_client *c, const struct pdk_event *ev, void *ctx)
{
    struct session *s = ctx;
    struct bench *b = s->b;
    if (ev->type != PDK_EVENT_SESSION)
        return;
    switch (ev->state) {
    case PDK_STATE_CONNECTED:
    case PDK_STATE_CONNECTED_READ_ONLY:
        if (!s->is_connected) {
            s->is_connected = true;
            b->n_connected++;
        }
        break;
    case PDK_STATE_DISCONNECTED:
        b->r->disconnects++;
        b->r->is_broken = true;
        if (b->lost_msgs++ < MAX_LOST_MSGS)
            fprintf(stderr, "paddock bench: session %d lost its connection to %s\n", s->idx,
                    pdk_current_host(c));
        break;
    case PDK_STATE_EXPIRED:
    case PDK_STATE_AUTH_FAILED:
        b->r->is_broken = true;
        fprintf(stderr, "paddock bench: session %d: %s\n", s->idx,
                ev->state == PDK_STATE_EXPIRED ? "session expired" : "authentication failed");
        break;
    default:
        break;
    }
}

/* ---- the loop --------------------------------------------------------------------------- */

static bool is_loading(const struct bench *b)
{
    return b->phase == PH_WARMUP || b->phase == PH_TIMED;
}

/* Notes when s's client wants pdk_process() without events (timers). */
static void note_due(struct bench *b, struct session *s, int timeout_ms)
{
    s->due_ns = timeout_ms < 0 ? INT64_MAX : b->now_ns + (int64_t)timeout_ms * 1000000;
    if (s->due_ns < b->next_due_ns)
        b->next_due_ns = s->due_ns;
}

/* Registers s's socket for what the client waits for, and notes when it is due. */
static void update_interest(struct bench *b, struct session *s)
{
    int events, timeout_ms;
    int fd = pdk_fd(s->c);
    pdk_interest(s->c, b->now_ns / 1000000, &events, &timeout_ms);
    uint32_t want = (events & PDK_READ ? EPOLLIN : 0u) | (events & PDK_WRITE ? EPOLLOUT : 0u);
    bool is_steady = fd == s->fd && pdk_state(s->c) == PDK_STATE_CONNECTED;
    if (!is_steady || want != s->ep_events) {
        /*
         * A socket the library closed has left the set by itself; an old
         * number is never deleted, as it may be another session's socket now.
         */
        if (fd >= 0) {
            struct epoll_event ev = {.events = want, .data.ptr = s};
            if (epoll_ctl(b->epfd, EPOLL_CTL_MOD, fd, &ev) != 0 && errno == ENOENT)
                epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &ev);
        }
        s->fd = fd;
        s->ep_events = want;
    }
    note_due(b, s, timeout_ms);
}

/* ---- ring mode ---------------------------------------------------------------------------- */

/*
 * With a ring (src/uring/ringio.c), a connected session's socket leaves the epoll set:
 * a multishot receive feeds its replies to pdk_input(), and at the start of
 * each turn one send per session with output goes to the kernel together
 * with the wait for the next replies (one system call for the lot). A
 * session that connects, or reconnects under a new socket, is served through
 * epoll and pdk_process() until its handshake is done; the epoll set itself
 * is watched by a poll on the ring.
 */

enum ring_kind { T_RECV = 1, T_SEND, T_POLLOUT, T_EPOLL, T_CANCEL };

#define RING_BUF_BYTES (8 * 1024)

/* Receive buffers for n sessions: four each (a power of two), 64 to 4096. */
static unsigned ring_buffers(int n)
{
    unsigned want = n > 0 ? 4u * (unsigned)n : 4u, p = 64;
    while (p < want && p < 4096)
        p <<= 1;
    return p;
}

static uint64_t ring_tag(const struct session *s, enum ring_kind kind)
{
    if (!s)
        return (uint64_t)kind;
    return (uint64_t)s->gen << 32 | (uint64_t)(uint32_t)s->idx << 3 | (uint64_t)kind;
}

static void mark_dirty(struct bench *b, struct session *s)
{
    if (!s->is_dirty) {
        s->is_dirty = true;
        b->dirty[b->n_dirty++] = s;
    }
}

/* s's socket joins the ring: out of the epoll set, a multishot receive armed. */
static void enter_ring(struct bench *b, struct session *s, int fd)
{
    if (s->fd == fd)
        epoll_ctl(b->epfd, EPOLL_CTL_DEL, fd, NULL);
    s->fd = fd;
    s->ep_events = 0;
    s->is_ringed = true;
    s->is_sending = s->is_blocked = false;
    ringio_recv(b->ring, fd, ring_tag(s, T_RECV));
}

/* s's socket leaves the ring (the client dropped it): its receive is cancelled. */
static void leave_ring(struct bench *b, struct session *s)
{
    ringio_cancel(b->ring, ring_tag(s, T_RECV), ring_tag(NULL, T_CANCEL));
    s->gen++;
    s->is_ringed = s->is_sending = s->is_blocked = false;
    s->fd = -1;
    s->ep_events = 0;
}

/* ---- after each call into a client ---------------------------------------------------------- */

/*
 * Follows what a call into s's client returned: a finished client leaves
 * every set; a live one moves into or out of the ring as its connection
 * comes and goes, and is registered for what it waits for. False when s is
 * finished.
 */
static bool after_call(struct bench *b, struct session *s, int rc)
{
    if (rc != PDK_ZOK) {
        s->is_finished = true;
        s->is_close_done = true;
        if (s->is_ringed)
            leave_ring(b, s);
        else if (pdk_fd(s->c) >= 0) /* still the client's own socket */
            epoll_ctl(b->epfd, EPOLL_CTL_DEL, pdk_fd(s->c), NULL);
        s->fd = -1;
        s->due_ns = INT64_MAX;
        if (b->phase < PH_CLOSE) {
            b->r->is_broken = true;
            fprintf(stderr, "paddock bench: session %d ended: %s\n", s->idx, pdk_error_name(rc));
        }
        return false;
    }
    if (b->ring) {
        int fd = pdk_fd(s->c);
        bool can_ring = fd >= 0 && pdk_state(s->c) == PDK_STATE_CONNECTED;
        if (s->is_ringed && (!can_ring || fd != s->fd))
            leave_ring(b, s);
        if (!s->is_ringed && can_ring)
            enter_ring(b, s, fd);
        if (s->is_ringed) {
            int events, timeout_ms;
            pdk_interest(s->c, b->now_ns / 1000000, &events, &timeout_ms);
            note_due(b, s, timeout_ms);
            mark_dirty(b, s);
            return true;
        }
    }
    update_interest(b, s);
    return true;
}

/* One pdk_process() turn of s: reads replies (completions refill), timers, one send. */
static void process(struct bench *b, struct session *s, int revents)
{
    /* A ring send in flight owns the output until its completion (within the same turn). */
    if (s->is_finished || s->is_sending)
        return;
    after_call(b, s, pdk_process(s->c, revents, b->now_ns / 1000000));
}

/* Serves every session whose timer is due; recomputes the earliest deadline. */
static void sweep(struct bench *b)
{
    b->next_due_ns = INT64_MAX;
    for (int i = 0; i < b->o->clients; i++) {
        struct session *s = &b->sessions[i];
        if (s->is_finished)
            continue;
        if (s->due_ns <= b->now_ns)
            process(b, s, 0);
        else if (s->due_ns < b->next_due_ns)
            b->next_due_ns = s->due_ns;
    }
}

/* Fills every free slot of every session, then sends: one batch per session. */
static void issue_all(struct bench *b)
{
    for (int i = 0; i < b->o->clients; i++) {
        struct session *s = &b->sessions[i];
        if (s->is_finished)
            continue;
        for (int k = 0; k < b->o->depth; k++) {
            if (!s->slots[k].is_busy && !issue(b, s, &s->slots[k]))
                break;
        }
        process(b, s, 0);
    }
}

/* utime + stime of the --server-pid processes, summed (µs); -1 if one is unreadable or none. */
static int64_t servers_cpu_us(const struct bench_opts *o)
{
    int64_t sum = o->n_server_pids > 0 ? 0 : -1;
    for (int i = 0; i < o->n_server_pids && sum >= 0; i++) {
        int64_t us = procstat_cpu_us(o->server_pids[i]);
        sum = us < 0 ? -1 : sum + us;
    }
    return sum;
}

static void start_phase(struct bench *b, enum phase ph)
{
    struct bench_result *r = b->r;
    b->phase = ph;
    switch (ph) {
    case PH_ROOT: {
        struct session *s = &b->sessions[0];
        b->setup_start_ns = b->now_ns;
        static const char *const roots[] = {"/bench", "/bench/seq"};
        for (int i = 0; i < 2; i++) {
            int rc = pdk_create(s->c, roots[i], NULL, -1, NULL, PDK_PERSISTENT, 0, false,
                                on_root_done, b);
            if (rc != PDK_ZOK)
                note_error(b, rc);
            else
                b->outstanding++;
        }
        process(b, s, 0);
        break;
    }
    case PH_KEYS:
        issue_all(b);
        break;
    case PH_WARMUP:
        b->phase_end_ns = b->now_ns + (int64_t)(b->o->warmup_s * 1e9);
        issue_all(b);
        break;
    case PH_TIMED:
        b->now_ns = clock_ns(); /* setup or the warm-up may have taken a while */
        b->timed_start_ns = b->now_ns;
        b->cpu_start_us = procstat_self_cpu_us();
        b->srv_cpu_start_us = servers_cpu_us(b->o);
        b->phase_end_ns = b->now_ns + (int64_t)(b->o->duration_s * 1e9);
        issue_all(b); /* a no-op after a warm-up; starts the load without one */
        break;
    case PH_DRAIN: {
        r->secs = (double)(b->now_ns - b->timed_start_ns) / 1e9;
        r->cpu_us = procstat_self_cpu_us() - b->cpu_start_us;
        int64_t srv_end_us = servers_cpu_us(b->o);
        if (b->srv_cpu_start_us >= 0 && srv_end_us >= 0)
            r->srv_cpu_us = srv_end_us - b->srv_cpu_start_us;
        if (b->o->n_server_pids > 0) {
            r->srv_rss_kb = r->srv_hwm_kb = 0;
            for (int i = 0; i < b->o->n_server_pids; i++) {
                long rss = procstat_status_kb(b->o->server_pids[i], "VmRSS");
                long hwm = procstat_status_kb(b->o->server_pids[i], "VmHWM");
                r->srv_rss_kb = rss < 0 || r->srv_rss_kb < 0 ? -1 : r->srv_rss_kb + rss;
                r->srv_hwm_kb = hwm < 0 || r->srv_hwm_kb < 0 ? -1 : r->srv_hwm_kb + hwm;
            }
        }
        b->phase_end_ns = b->now_ns + DRAIN_NS;
        break;
    }
    case PH_CLOSE:
        b->phase_end_ns = b->now_ns + CLOSE_NS;
        for (int i = 0; i < b->o->clients; i++) {
            struct session *s = &b->sessions[i];
            if (s->is_finished)
                continue;
            if (pdk_close(s->c, on_closed, s) != PDK_ZOK)
                s->is_close_done = true;
            process(b, s, 0);
        }
        break;
    default:
        break;
    }
}

static enum phase first_load_phase(const struct bench *b)
{
    return b->o->warmup_s > 0 ? PH_WARMUP : PH_TIMED;
}

static bool are_all_closed(const struct bench *b)
{
    for (int i = 0; i < b->o->clients; i++) {
        if (!b->sessions[i].is_close_done)
            return false;
    }
    return true;
}

/* Moves to the next phase while the current one is finished. */
static void advance(struct bench *b)
{
    for (;;) {
        enum phase before = b->phase;
        switch (b->phase) {
        case PH_CONNECT:
            if (b->n_connected == b->o->clients) {
                start_phase(b, b->o->is_setup_skipped ? first_load_phase(b) : PH_ROOT);
            } else if (b->now_ns >= b->phase_end_ns) {
                fprintf(stderr,
                        "paddock bench: could not connect: %d of %d sessions connected to %s "
                        "within %.1f s (is a server listening there?)\n",
                        b->n_connected, b->o->clients, b->o->hosts, b->o->connect_timeout_ms / 1e3);
                b->r->is_connect_failed = true;
                start_phase(b, PH_CLOSE);
            }
            break;
        case PH_ROOT:
            if (b->outstanding == 0)
                start_phase(b, PH_KEYS);
            break;
        case PH_KEYS:
            if (b->setup_next >= b->o->keys && b->outstanding == 0) {
                b->r->setup_secs = (double)(b->now_ns - b->setup_start_ns) / 1e9;
                start_phase(b, first_load_phase(b));
            }
            break;
        case PH_WARMUP:
            if (b->now_ns >= b->phase_end_ns)
                start_phase(b, PH_TIMED);
            break;
        case PH_TIMED:
            if (b->now_ns >= b->phase_end_ns || (b->is_keys_exhausted && b->outstanding == 0))
                start_phase(b, PH_DRAIN);
            break;
        case PH_DRAIN:
            if (b->outstanding == 0) {
                start_phase(b, PH_CLOSE);
            } else if (b->now_ns >= b->phase_end_ns) {
                fprintf(stderr, "paddock bench: %" PRId64 " requests unanswered after the run\n",
                        b->outstanding);
                b->r->is_broken = true;
                start_phase(b, PH_CLOSE);
            }
            break;
        case PH_CLOSE:
            if (are_all_closed(b) || b->now_ns >= b->phase_end_ns)
                b->phase = PH_END;
            break;
        case PH_END:
            return;
        }
        if (b->phase == before)
            return;
    }
}

/* How long a turn may wait: until the earliest timer or the end of the phase. */
static int wait_ms(const struct bench *b)
{
    int64_t wake = b->next_due_ns;
    if (b->phase != PH_ROOT && b->phase != PH_KEYS && b->phase_end_ns < wake)
        wake = b->phase_end_ns;
    /* wake may be INT64_MAX: cap before rounding up to whole ms. */
    int64_t wait_ns = wake - b->now_ns;
    if (wait_ns <= 0)
        return 0;
    if (wait_ns < (int64_t)MAX_WAIT_MS * 1000000)
        return (int)((wait_ns + 999999) / 1000000);
    return MAX_WAIT_MS;
}

static int loop(struct bench *b)
{
    struct epoll_event evs[MAX_EPOLL_EVENTS];
    while (b->phase != PH_END) {
        int timeout_ms = wait_ms(b);
        int n = epoll_wait(b->epfd, evs, MAX_EPOLL_EVENTS, timeout_ms);
        if (n < 0 && errno != EINTR) {
            perror("paddock bench: epoll_wait");
            return -1;
        }
        b->now_ns = clock_ns();
        for (int i = 0; i < n; i++) {
            uint32_t e = evs[i].events;
            int revents = (e & (EPOLLIN | EPOLLERR | EPOLLHUP) ? PDK_READ : 0) |
                          (e & EPOLLOUT ? PDK_WRITE : 0);
            process(b, evs[i].data.ptr, revents);
        }
        if (b->now_ns >= b->next_due_ns)
            sweep(b);
        advance(b);
    }
    return 0;
}

/* The sessions served through epoll while the ring waits (a poll of the epoll set fired). */
static void serve_epoll(struct bench *b)
{
    struct epoll_event evs[MAX_EPOLL_EVENTS];
    int n = epoll_wait(b->epfd, evs, MAX_EPOLL_EVENTS, 0);
    for (int i = 0; i < n; i++) {
        uint32_t e = evs[i].events;
        int revents =
            (e & (EPOLLIN | EPOLLERR | EPOLLHUP) ? PDK_READ : 0) | (e & EPOLLOUT ? PDK_WRITE : 0);
        process(b, evs[i].data.ptr, revents);
    }
    ringio_poll(b->ring, b->epfd, POLLIN, ring_tag(NULL, T_EPOLL));
}

/* The connection of s ended under a ring operation (end of stream or a socket error). */
static void ring_conn_ended(struct bench *b, struct session *s)
{
    after_call(b, s, pdk_input(s->c, NULL, 0, b->now_ns / 1000000));
}

/* One completion of the ring (ringio_done_fn). */
static void on_ring(void *arg, uint64_t tag, int res, const void *data, bool is_more)
{
    struct bench *b = arg;
    enum ring_kind kind = (enum ring_kind)(tag & 7);
    if (kind == T_EPOLL) {
        serve_epoll(b);
        return;
    }
    uint32_t idx = (uint32_t)tag >> 3;
    if (kind == T_CANCEL || idx >= (uint32_t)b->o->clients)
        return;
    struct session *s = &b->sessions[idx];
    if ((uint32_t)(tag >> 32) != s->gen || !s->is_ringed || s->is_finished)
        return; /* for a socket that has left the ring since */
    int64_t now_ms = b->now_ns / 1000000;
    switch (kind) {
    case T_RECV:
        if (res > 0) {
            if (!after_call(b, s, pdk_input(s->c, data, (size_t)res, now_ms)) || !s->is_ringed)
                return;
            if (!is_more)
                ringio_recv(b->ring, s->fd, ring_tag(s, T_RECV));
        } else if (res == -ENOBUFS) {
            /* Every buffer was in use: they are back once this turn's handlers ran. */
            ringio_recv(b->ring, s->fd, ring_tag(s, T_RECV));
        } else {
            ring_conn_ended(b, s);
        }
        break;
    case T_SEND:
        s->is_sending = false;
        if (res < 0 && res != -EAGAIN) {
            ring_conn_ended(b, s);
            return;
        }
        if (res > 0)
            pdk_output_done(s->c, (size_t)res, now_ms);
        if (res < 0 || (size_t)res < s->send_len) {
            /* The socket is full: the rest goes once it drains. */
            s->is_blocked = true;
            ringio_poll(b->ring, s->fd, POLLOUT, ring_tag(s, T_POLLOUT));
        }
        mark_dirty(b, s);
        break;
    case T_POLLOUT:
        s->is_blocked = false;
        mark_dirty(b, s);
        break;
    default:
        break;
    }
}

/* Queues one send per ringed session with output; they go with the turn's wait. */
static void flush_sends(struct bench *b)
{
    for (int i = 0; i < b->n_dirty; i++) {
        struct session *s = b->dirty[i];
        s->is_dirty = false;
        if (!s->is_ringed || s->is_sending || s->is_blocked || s->is_finished)
            continue;
        size_t len;
        const void *out = pdk_output(s->c, &len);
        if (len == 0)
            continue;
        ringio_send(b->ring, s->fd, out, len, ring_tag(s, T_SEND));
        s->is_sending = true;
        s->send_len = len;
    }
    b->n_dirty = 0;
}

/* The loop with a ring: one system call per turn for every session's sends and replies. */
static int ring_loop(struct bench *b)
{
    ringio_poll(b->ring, b->epfd, POLLIN, ring_tag(NULL, T_EPOLL));
    while (b->phase != PH_END) {
        flush_sends(b);
        if (ringio_wait(b->ring, wait_ms(b)) != 0) {
            fprintf(stderr, "paddock bench: io_uring failed\n");
            return -1;
        }
        b->now_ns = clock_ns();
        ringio_reap(b->ring, on_ring, b);
        if (b->now_ns >= b->next_due_ns)
            sweep(b);
        advance(b);
    }
    return 0;
}

/* ---- setup of the run -------------------------------------------------------------------- */

/*
 * The connection string of session i: the hosts of o->hosts rotated so that
 * host i mod n comes first, then the chroot. Returns an owned string (pd_free).
 */
static char *session_hosts(const char *spec, int i)
{
    const char *slash = strchr(spec, '/');
    size_t hosts_len = slash ? (size_t)(slash - spec) : strlen(spec);
    int n = 1;
    for (size_t k = 0; k < hosts_len; k++)
        n += spec[k] == ',';
    char *out = pd_malloc(strlen(spec) + 2);
    if (!out)
        return NULL;
    /* Find the start of host i mod n. */
    int first = i % n;
    size_t start = 0;
    for (int h = 0; h < first; h++)
        start += strcspn(spec + start, ",") + 1;
    size_t len = 0;
    memcpy(out, spec + start, hosts_len - start);
    len += hosts_len - start;
    if (start > 0) {
        out[len++] = ',';
        memcpy(out + len, spec, start - 1);
        len += start - 1;
    }
    strcpy(out + len, slash ? slash : "");
    return out;
}

/* Creates the chroot's nodes (without the chroot) so that /bench can be made under it. */
static int make_chroot(const struct bench_opts *o)
{
    const char *slash = strchr(o->hosts, '/');
    if (!slash || strcmp(slash, "/") == 0)
        return 0;
    char *hosts = pd_strndup(o->hosts, (size_t)(slash - o->hosts));
    char *path = pd_strdup(slash);
    struct pdk_client *c = NULL;
    struct pdk_options opts = {.session_timeout_ms = o->session_timeout_ms};
    int rc = PDK_ZSYSTEMERROR;
    if (!hosts || !path || (rc = pdk_new(hosts, &opts, &c)) != PDK_ZOK)
        goto out;
    rc = pdk_wait_connected(c, o->connect_timeout_ms);
    if (rc != PDK_ZOK) {
        fprintf(stderr, "paddock bench: could not connect to %s within %.1f s: %s\n", hosts,
                o->connect_timeout_ms / 1e3, pdk_error_name(rc));
        goto out;
    }
    for (char *p = strchr(path + 1, '/');; p = strchr(p + 1, '/')) {
        if (p)
            *p = 0;
        rc = pdk_create_sync(c, path, NULL, -1, NULL, PDK_PERSISTENT, 0, NULL, NULL,
                             o->connect_timeout_ms);
        if (rc != PDK_ZOK && rc != PDK_ZNODEEXISTS) {
            fprintf(stderr, "paddock bench: create %s (the chroot): %s\n", path,
                    pdk_error_name(rc));
            goto out;
        }
        rc = PDK_ZOK;
        if (!p)
            break;
        *p = '/';
    }
    pdk_close_sync(c, o->connect_timeout_ms);
out:
    pdk_free(c);
    pd_free(hosts);
    pd_free(path);
    return rc == PDK_ZOK ? 0 : -1;
}

static int open_sessions(struct bench *b)
{
    const struct bench_opts *o = b->o;
    for (int i = 0; i < o->clients; i++) {
        struct session *s = &b->sessions[i];
        *s = (struct session){.b = b, .idx = i, .fd = -1, .due_ns = b->now_ns};
        s->slots = pd_calloc((size_t)o->depth, sizeof(*s->slots));
        char *hosts = session_hosts(o->hosts, i);
        if (!s->slots || !hosts) {
            pd_free(hosts);
            fprintf(stderr, "paddock bench: out of memory\n");
            return -1;
        }
        for (int k = 0; k < o->depth; k++)
            s->slots[k].s = s;
        struct pdk_options opts = {
            .session_timeout_ms = o->session_timeout_ms,
            .watcher = on_session_event,
            .watcher_ctx = s,
            .is_shuffle_disabled = true,
        };
        int rc = pdk_new(hosts, &opts, &s->c);
        pd_free(hosts);
        if (rc != PDK_ZOK) {
            fprintf(stderr, "paddock bench: --hosts %s: %s\n", o->hosts,
                    rc == PDK_ZBADARGUMENTS ? "bad connection string or unknown host"
                                            : pdk_error_name(rc));
            return -1;
        }
        update_interest(b, s);
    }
    return 0;
}

int bench_run(const struct bench_opts *o, struct bench_result *r)
{
    int rc = -1;
    struct bench *b = pd_calloc(1, sizeof(*b));
    if (!b) {
        fprintf(stderr, "paddock bench: out of memory\n");
        return -1;
    }
    b->o = o;
    b->r = r;
    r->keys_setup = o->is_setup_skipped ? -1 : 0;
    r->srv_cpu_us = r->srv_rss_kb = r->srv_hwm_kb = -1;
    b->epfd = epoll_create1(EPOLL_CLOEXEC);
    b->sessions = pd_calloc((size_t)o->clients, sizeof(*b->sessions));
    b->value = pd_malloc((size_t)o->size_bytes + 1);
    b->dirty = pd_calloc((size_t)o->clients, sizeof(*b->dirty));
    if (b->epfd < 0 || !b->sessions || !b->value || !b->dirty) {
        fprintf(stderr, "paddock bench: out of memory\n");
        goto out;
    }
    if (ringio_open(&b->ring, ring_buffers(o->clients), RING_BUF_BYTES, 0) == PD_ENOMEM) {
        fprintf(stderr, "paddock bench: out of memory\n");
        goto out;
    }
    r->io = b->ring ? "io_uring" : "epoll";
    for (int i = 0; i < o->size_bytes; i++)
        b->value[i] = (char)('a' + i % 26);
    b->now_ns = clock_ns();
    b->rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)b->now_ns;
    if (!o->is_setup_skipped && make_chroot(o) != 0) {
        r->is_connect_failed = true;
        rc = 0;
        goto out;
    }
    b->now_ns = clock_ns();
    b->next_due_ns = INT64_MAX;
    if (open_sessions(b) != 0)
        goto out;
    b->phase = PH_CONNECT;
    b->phase_end_ns = b->now_ns + (int64_t)o->connect_timeout_ms * 1000000;
    rc = b->ring ? ring_loop(b) : loop(b);
out:
    /* The ring first: closing it cancels what it still holds of the sessions' sockets. */
    ringio_close(b->ring);
    for (int i = 0; b->sessions && i < o->clients; i++) {
        pdk_free(b->sessions[i].c);
        pd_free(b->sessions[i].slots);
    }
    pd_free(b->sessions);
    pd_free(b->dirty);
    pd_free(b->value);
    if (b->epfd >= 0)
        close(b->epfd);
    pd_free(b);
    return rc;
}
