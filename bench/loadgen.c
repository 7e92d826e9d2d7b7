/*
 * loadgen: a small, CPU-cheap ZooKeeper load generator.
 *
 *   loadgen --host 127.0.0.1:PORT [--clients N] [--depth D]
 *           [--op get|exists|set|create|mixed] [--read-pct P] [--size BYTES]
 *           [--keys K] [--duration S] [--warmup S] [--server-pid PID]
 *           [--session-timeout MS] [--no-setup]
 *
 * One thread, one epoll set, N sessions. Each session does the ConnectRequest
 * handshake, then keeps D requests outstanding (pipelined: the server answers a
 * session's requests in order, so replies are matched to requests by a FIFO of
 * xids) and pings when it has sent nothing for a third of the session timeout.
 * Latency is issue -> reply, recorded into a log-linear histogram (64 sub-buckets
 * per power of two, so every figure is within ~1.6%).
 *
 * Phases: connect, setup (create /bench, /bench/seq and the K keys /bench/k%08d
 * with BYTES of data; NODEEXISTS is fine, so a second run reuses the keys),
 * warm-up, timed run, drain (wait for what is outstanding), closeSession.
 * Only replies that arrive during the timed run are counted. --no-setup skips
 * the setup phase for runs against a server an earlier run has set up.
 *
 * The workloads: get and exists on a random key, set (version -1) on a random
 * key, create of a PERSISTENT_SEQUENTIAL node /bench/seq/n-<seq> (never cleaned
 * up; use a fresh server), and mixed: P% get, the rest set.
 *
 * It is not a client library: requests are encoded by hand straight into each
 * session's output buffer (the jute layout of RequestHeader + the request
 * record, see zookeeper.jute), only the ReplyHeader of a reply is decoded, and
 * the bodies are checked for length only. To keep its own CPU per operation
 * low it writes every request a session has ready with one write(2), cuts every
 * reply out of one read(2), and reads the clock once per read(2).
 *
 * The last line printed is machine-readable:
 *   RESULT op=.. clients=.. depth=.. ops=.. ops_per_s=.. p50_us=.. p90_us=..
 *          p99_us=.. p999_us=.. max_us=.. errors=.. client_cpu_us_per_op=..
 *          [server_cpu_us_per_op=.. server_rss_kb=.. server_hwm_kb=..]
 * The server figures appear with --server-pid: utime+stime of that process
 * (/proc/PID/stat, all threads) over the timed run, and its VmRSS / VmHWM
 * (/proc/PID/status) at the end of it.
 *
 * Exit status: 0, or 1 if any request got an error reply (other than NODEEXISTS
 * while creating the keys), a connection failed, or the reply stream broke.
 */
#include "jute/proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "bench/measure.h"

/* ---- options --------------------------------------------------------------- */

enum lg_op { LG_GET, LG_EXISTS, LG_SET, LG_CREATE, LG_MIXED };
static const char *const op_names[] = {"get", "exists", "set", "create", "mixed"};

struct opts {
    char host[64];
    int port;
    int clients;
    int depth;
    enum lg_op op;
    int read_pct;
    int size_bytes;
    int keys;
    double duration_s;
    double warmup_s;
    int server_pid;         /* 0: none */
    int session_timeout_ms; /* requested */
    bool is_setup_skipped;  /* --no-setup: the keys and /bench/seq exist already */
};

/* ---- clock, CPU ------------------------------------------------------------ */

static inline int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- sessions ---------------------------------------------------------------- */

enum req_kind { K_READ, K_WRITE, K_SETUP, K_CLOSE };

struct inflight {
    int64_t issued_ns;
    int32_t xid;
    uint8_t kind;
};

enum client_state { C_HANDSHAKE, C_READY, C_CLOSING, C_DONE };

struct client {
    int fd;
    int idx;
    enum client_state state;
    int64_t session_id;
    int32_t next_xid;
    struct inflight *ring; /* owned; ring_mask + 1 entries */
    uint32_t ring_mask;
    uint32_t head, tail; /* outstanding requests: tail - head */
    int pings_out;       /* pings sent, not yet answered */
    int64_t last_send_ns;
    uint8_t *in; /* owned; received bytes not yet cut into frames */
    size_t in_len, in_cap;
    uint8_t *out; /* owned; encoded requests not yet written */
    size_t out_off, out_len, out_cap;
    bool has_epollout;
    int setup_next; /* next key this session creates during setup */
};

enum phase { PH_HANDSHAKE, PH_ROOT, PH_SETUP, PH_WARMUP, PH_TIMED, PH_DRAIN, PH_CLOSE, PH_END };

struct lg {
    struct opts o;
    struct client *clients; /* owned; o.clients entries */
    int epfd;
    enum phase phase;
    int n_live;               /* sessions not yet C_DONE */
    int n_ready;              /* sessions past the handshake */
    int setup_done;           /* keys created (or found) */
    int64_t outstanding;      /* requests in flight over all sessions */
    int64_t phase_end_ns;     /* warm-up / timed run / drain deadline */
    int64_t ping_interval_ns; /* a third of the negotiated session timeout */
    int64_t timed_start_ns, timed_end_ns;
    int64_t cpu_start_us, cpu_end_us;
    int64_t srv_cpu_start_us, srv_cpu_end_us;
    uint64_t ops, ops_read, ops_write; /* replies during the timed run */
    uint64_t errors;                   /* error replies in any phase (incl. warm-up) */
    uint64_t errors_timed;
    uint64_t err_code_count[8];
    int err_codes[8];
    bool is_broken; /* a connection failed or the reply stream made no sense */
    struct hist h_read, h_write;
    uint64_t rng;
    uint8_t *value; /* owned; o.size_bytes of payload */
};

static inline uint64_t rng_next(uint64_t *s)
{
    /* xorshift64* */
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* ---- encoding ------------------------------------------------------------------ */

static inline int64_t get_long(const uint8_t *p)
{
    return (int64_t)((uint64_t)(uint32_t)get_int(p) << 32 | (uint32_t)get_int(p + 4));
}

#define KEY_PATH_LEN 16 /* "/bench/k" + 8 digits */
#define SEQ_PREFIX   "/bench/seq/n-"

static inline uint8_t *put_key_path(uint8_t *p, uint32_t key)
{
    p = put_int(p, KEY_PATH_LEN);
    memcpy(p, "/bench/k", 8);
    for (int i = 15; i >= 8; i--) {
        p[i] = (uint8_t)('0' + key % 10);
        key /= 10;
    }
    return p + KEY_PATH_LEN;
}

static inline uint8_t *put_str(uint8_t *p, const char *s)
{
    size_t n = strlen(s);
    p = put_int(p, (int32_t)n);
    memcpy(p, s, n);
    return p + n;
}

/* Makes room for `n` more bytes in c->out. */
static uint8_t *out_reserve(struct client *c, size_t n)
{
    if (c->out_len + n > c->out_cap) {
        if (c->out_off > 0) {
            memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
            c->out_len -= c->out_off;
            c->out_off = 0;
        }
        if (c->out_len + n > c->out_cap) {
            size_t cap = c->out_cap * 2;
            while (cap < c->out_len + n)
                cap *= 2;
            uint8_t *q = realloc(c->out, cap);
            if (!q) {
                fprintf(stderr, "loadgen: out of memory\n");
                exit(2);
            }
            c->out = q;
            c->out_cap = cap;
        }
    }
    return c->out + c->out_len;
}

static void push_inflight(struct lg *lg, struct client *c, int32_t xid, enum req_kind kind,
                          int64_t now)
{
    struct inflight *f = &c->ring[c->tail & c->ring_mask];
    f->issued_ns = now;
    f->xid = xid;
    f->kind = (uint8_t)kind;
    c->tail++;
    lg->outstanding++;
}

/* Appends one request; `op` is a concrete operation (not LG_MIXED). */
static void enc_request(struct lg *lg, struct client *c, enum lg_op op, enum req_kind kind,
                        int64_t now)
{
    int size = lg->o.size_bytes;
    int32_t xid = c->next_xid++;
    uint8_t *start = out_reserve(c, 128 + (size_t)size), *p = start + 4;
    uint32_t key = (uint32_t)(((rng_next(&lg->rng) >> 32) * (uint64_t)lg->o.keys) >> 32);
    p = put_int(p, xid);
    switch (op) {
    case LG_GET:
    case LG_EXISTS:
        p = put_int(p, op == LG_GET ? ZOO_OP_GETDATA : ZOO_OP_EXISTS);
        p = put_key_path(p, key);
        *p++ = 0; /* watch */
        break;
    case LG_SET:
        p = put_int(p, ZOO_OP_SETDATA);
        p = put_key_path(p, key);
        p = put_int(p, size);
        memcpy(p, lg->value, (size_t)size);
        p += size;
        p = put_int(p, -1); /* any version */
        break;
    case LG_CREATE:
    case LG_MIXED: /* never: refill() resolves mixed to get or set */
        p = put_int(p, ZOO_OP_CREATE);
        p = put_str(p, SEQ_PREFIX);
        p = put_int(p, size);
        memcpy(p, lg->value, (size_t)size);
        p += size;
        p = put_int(p, 1); /* OPEN_ACL_UNSAFE: one ACL, world:anyone, all perms */
        p = put_int(p, ZOO_PERM_ALL);
        p = put_str(p, "world");
        p = put_str(p, "anyone");
        p = put_int(p, ZOO_PERSISTENT_SEQUENTIAL);
        break;
    }
    put_int(start, (int32_t)(p - start - 4));
    c->out_len += (size_t)(p - start);
    push_inflight(lg, c, xid, kind, now);
}

/* Appends a create of `path` (persistent, OPEN_ACL_UNSAFE) for setup. */
static void enc_create_path(struct lg *lg, struct client *c, const char *path, int key, int64_t now)
{
    int size = path ? 0 : lg->o.size_bytes;
    int32_t xid = c->next_xid++;
    uint8_t *start = out_reserve(c, 128 + (size_t)size), *p = start + 4;
    p = put_int(p, xid);
    p = put_int(p, ZOO_OP_CREATE);
    p = path ? put_str(p, path) : put_key_path(p, (uint32_t)key);
    p = put_int(p, size);
    if (size > 0)
        memcpy(p, lg->value, (size_t)size);
    p += size;
    p = put_int(p, 1);
    p = put_int(p, ZOO_PERM_ALL);
    p = put_str(p, "world");
    p = put_str(p, "anyone");
    p = put_int(p, ZOO_PERSISTENT);
    put_int(start, (int32_t)(p - start - 4));
    c->out_len += (size_t)(p - start);
    push_inflight(lg, c, xid, K_SETUP, now);
}

static void enc_header_only(struct lg *lg, struct client *c, int32_t xid, int32_t type,
                            enum req_kind kind, int64_t now)
{
    uint8_t *p = out_reserve(c, 12);
    p = put_int(p, 8);
    p = put_int(p, xid);
    put_int(p, type);
    c->out_len += 12;
    if (xid != ZOO_XID_PING)
        push_inflight(lg, c, xid, kind, now);
}

/* ---- I/O --------------------------------------------------------------------- */

static void fail_client(struct lg *lg, struct client *c, const char *why)
{
    if (c->state == C_DONE)
        return;
    if (c->state != C_CLOSING) {
        fprintf(stderr, "loadgen: session %d: %s\n", c->idx, why);
        lg->is_broken = true;
    }
    epoll_ctl(lg->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    lg->outstanding -= (int64_t)(c->tail - c->head);
    c->head = c->tail;
    c->state = C_DONE;
    lg->n_live--;
}

static void set_epollout(struct lg *lg, struct client *c, bool on)
{
    if (c->has_epollout == on)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(lg->epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->has_epollout = on;
}

/* Writes what c->out holds with one write(2); the rest waits for EPOLLOUT. */
static void flush_out(struct lg *lg, struct client *c, int64_t now)
{
    size_t len = c->out_len - c->out_off;
    if (len == 0 || c->state == C_DONE)
        return;
    ssize_t n = write(c->fd, c->out + c->out_off, len);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) {
            set_epollout(lg, c, true);
            return;
        }
        fail_client(lg, c, strerror(errno));
        return;
    }
    c->last_send_ns = now;
    if ((size_t)n == len) {
        c->out_off = c->out_len = 0;
        set_epollout(lg, c, false);
    } else {
        c->out_off += (size_t)n;
        set_epollout(lg, c, true);
    }
}

/* Queues new requests on c as the phase allows. */
static void refill(struct lg *lg, struct client *c, int64_t now)
{
    if (c->state != C_READY)
        return;
    uint32_t depth = (uint32_t)lg->o.depth;
    switch (lg->phase) {
    case PH_SETUP:
        while (c->tail - c->head < depth && c->setup_next < lg->o.keys) {
            enc_create_path(lg, c, NULL, c->setup_next, now);
            c->setup_next += lg->o.clients;
        }
        break;
    case PH_WARMUP:
    case PH_TIMED:
        while (c->tail - c->head < depth) {
            enum lg_op op = lg->o.op;
            enum req_kind kind = K_READ;
            if (op == LG_MIXED) {
                bool is_read = (rng_next(&lg->rng) >> 33) % 100 < (uint64_t)lg->o.read_pct;
                op = is_read ? LG_GET : LG_SET;
            }
            if (op == LG_SET || op == LG_CREATE)
                kind = K_WRITE;
            enc_request(lg, c, op, kind, now);
        }
        break;
    default:
        break;
    }
}

static void note_error(struct lg *lg, int err)
{
    lg->errors++;
    if (lg->phase == PH_TIMED)
        lg->errors_timed++;
    for (int i = 0; i < 8; i++) {
        if (lg->err_code_count[i] == 0 || lg->err_codes[i] == err) {
            lg->err_codes[i] = err;
            lg->err_code_count[i]++;
            return;
        }
    }
}

/* Handles one reply frame (body = the bytes after the length word). */
static void on_reply(struct lg *lg, struct client *c, const uint8_t *body, size_t len, int64_t now)
{
    if (c->state == C_HANDSHAKE) {
        /* ConnectResponse: protocolVersion, timeOut, sessionId, passwd, [readOnly] */
        if (len < 20) {
            fail_client(lg, c, "short ConnectResponse");
            return;
        }
        int32_t timeout_ms = get_int(body + 4);
        if (timeout_ms <= 0) {
            fail_client(lg, c, "session refused by the server");
            return;
        }
        c->session_id = get_long(body + 8);
        int64_t iv = (int64_t)timeout_ms * 1000000 / 3;
        if (lg->ping_interval_ns == 0 || iv < lg->ping_interval_ns)
            lg->ping_interval_ns = iv;
        c->state = C_READY;
        lg->n_ready++;
        return;
    }
    if (len < 16) {
        fail_client(lg, c, "short reply");
        return;
    }
    int32_t xid = get_int(body);
    int32_t err = get_int(body + 12);
    if (xid == ZOO_XID_PING) {
        c->pings_out--;
        return;
    }
    if (xid == ZOO_XID_NOTIFICATION)
        return;
    if (c->head == c->tail || c->ring[c->head & c->ring_mask].xid != xid) {
        char why[96];
        snprintf(why, sizeof(why), "reply with unexpected xid %d", xid);
        fail_client(lg, c, why);
        return;
    }
    struct inflight *f = &c->ring[c->head & c->ring_mask];
    c->head++;
    lg->outstanding--;
    switch ((enum req_kind)f->kind) {
    case K_SETUP:
        if (err != ZOK && err != ZNODEEXISTS)
            note_error(lg, err);
        if (lg->phase == PH_SETUP)
            lg->setup_done++;
        return;
    case K_CLOSE:
        c->state = C_CLOSING;
        fail_client(lg, c, "closed");
        return;
    case K_READ:
    case K_WRITE:
        break;
    }
    if (err != ZOK)
        note_error(lg, err);
    if (lg->phase != PH_TIMED)
        return;
    lg->ops++;
    uint64_t lat = (uint64_t)(now - f->issued_ns);
    if (f->kind == K_READ) {
        lg->ops_read++;
        hist_add(&lg->h_read, lat);
    } else {
        lg->ops_write++;
        hist_add(&lg->h_write, lat);
    }
}

/* One read(2), then every complete frame in the buffer, then one write(2) of the refills. */
static void on_readable(struct lg *lg, struct client *c)
{
    if (c->in_cap - c->in_len < 16384) {
        size_t cap = c->in_cap * 2;
        uint8_t *q = realloc(c->in, cap);
        if (!q) {
            fprintf(stderr, "loadgen: out of memory\n");
            exit(2);
        }
        c->in = q;
        c->in_cap = cap;
    }
    ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        fail_client(lg, c, n == 0 ? "server closed the connection" : strerror(errno));
        return;
    }
    int64_t now = now_ns();
    c->in_len += (size_t)n;
    size_t off = 0;
    while (c->in_len - off >= 4 && c->state != C_DONE) {
        int32_t flen = get_int(c->in + off);
        if (flen < 0 || flen > (64 << 20)) {
            fail_client(lg, c, "bad frame length");
            return;
        }
        if (c->in_len - off - 4 < (size_t)flen) {
            /* Make sure the whole frame fits next time. */
            if ((size_t)flen + 4 > c->in_cap) {
                uint8_t *q = realloc(c->in, (size_t)flen + 4 + 16384);
                if (!q)
                    exit(2);
                c->in = q;
                c->in_cap = (size_t)flen + 4 + 16384;
            }
            break;
        }
        on_reply(lg, c, c->in + off + 4, (size_t)flen, now);
        off += 4 + (size_t)flen;
    }
    if (c->state == C_DONE)
        return;
    if (off > 0) {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
    refill(lg, c, now);
    flush_out(lg, c, now);
}

/* Every idle-enough session sends a ping (xid -2), as ZooKeeper clients do. */
static void send_pings(struct lg *lg, int64_t now)
{
    for (int i = 0; i < lg->o.clients; i++) {
        struct client *c = &lg->clients[i];
        if (c->state != C_READY || now - c->last_send_ns < lg->ping_interval_ns)
            continue;
        enc_header_only(lg, c, ZOO_XID_PING, ZOO_OP_PING, K_READ, now);
        c->pings_out++;
        flush_out(lg, c, now);
    }
}

static void refill_all(struct lg *lg, int64_t now)
{
    for (int i = 0; i < lg->o.clients; i++) {
        refill(lg, &lg->clients[i], now);
        flush_out(lg, &lg->clients[i], now);
    }
}

static int connect_all(struct lg *lg)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)lg->o.port)};
    if (inet_pton(AF_INET, lg->o.host, &sa.sin_addr) != 1) {
        fprintf(stderr, "loadgen: --host wants an IPv4 address: %s\n", lg->o.host);
        return -1;
    }
    uint32_t ring = 1;
    while (ring < (uint32_t)lg->o.depth + 4)
        ring *= 2;
    int64_t now = now_ns();
    for (int i = 0; i < lg->o.clients; i++) {
        struct client *c = &lg->clients[i];
        c->idx = i;
        c->next_xid = 1;
        c->setup_next = i;
        c->ring = calloc(ring, sizeof(*c->ring));
        c->ring_mask = ring - 1;
        c->in_cap = 65536;
        c->in = malloc(c->in_cap);
        c->out_cap = 4096;
        while (c->out_cap < (size_t)lg->o.depth * (256 + (size_t)lg->o.size_bytes))
            c->out_cap *= 2;
        c->out = malloc(c->out_cap);
        if (!c->ring || !c->in || !c->out) {
            fprintf(stderr, "loadgen: out of memory\n");
            return -1;
        }
        c->fd = socket(AF_INET, SOCK_STREAM, 0);
        if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
            fprintf(stderr, "loadgen: connect %s:%d: %s\n", lg->o.host, lg->o.port,
                    strerror(errno));
            return -1;
        }
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(lg->epfd, EPOLL_CTL_ADD, c->fd, &ev);
        lg->n_live++;
        /* ConnectRequest: protocolVersion 0, lastZxidSeen 0, timeOut, sessionId 0,
         * passwd (16 zero bytes), readOnly false. */
        uint8_t *p = out_reserve(c, 49), *start = p;
        p = put_int(p, 45);
        p = put_int(p, 0);
        p = put_long(p, 0);
        p = put_int(p, lg->o.session_timeout_ms);
        p = put_long(p, 0);
        p = put_int(p, 16);
        memset(p, 0, 16);
        p += 16;
        *p++ = 0;
        c->out_len += (size_t)(p - start);
        c->state = C_HANDSHAKE;
        flush_out(lg, c, now);
    }
    return 0;
}

static void start_phase(struct lg *lg, enum phase ph, int64_t now)
{
    lg->phase = ph;
    switch (ph) {
    case PH_ROOT: {
        struct client *c = &lg->clients[0];
        enc_create_path(lg, c, "/bench", 0, now);
        enc_create_path(lg, c, "/bench/seq", 0, now);
        flush_out(lg, c, now);
        break;
    }
    case PH_SETUP:
        refill_all(lg, now);
        break;
    case PH_WARMUP:
        lg->phase_end_ns = now + (int64_t)(lg->o.warmup_s * 1e9);
        refill_all(lg, now);
        break;
    case PH_TIMED:
        lg->timed_start_ns = now;
        lg->phase_end_ns = now + (int64_t)(lg->o.duration_s * 1e9);
        lg->cpu_start_us = procstat_self_cpu_us();
        if (lg->o.server_pid)
            lg->srv_cpu_start_us = procstat_cpu_us(lg->o.server_pid);
        refill_all(lg, now); /* no-op after a warm-up; starts the load without one */
        break;
    case PH_DRAIN:
        lg->timed_end_ns = now;
        lg->cpu_end_us = procstat_self_cpu_us();
        if (lg->o.server_pid)
            lg->srv_cpu_end_us = procstat_cpu_us(lg->o.server_pid);
        lg->phase_end_ns = now + 10 * (int64_t)1000000000;
        break;
    case PH_CLOSE:
        for (int i = 0; i < lg->o.clients; i++) {
            struct client *c = &lg->clients[i];
            if (c->state != C_READY)
                continue;
            enc_header_only(lg, c, c->next_xid++, ZOO_OP_CLOSESESSION, K_CLOSE, now);
            flush_out(lg, c, now);
        }
        lg->phase_end_ns = now + 5 * (int64_t)1000000000;
        break;
    default:
        break;
    }
}

static enum phase first_load_phase(const struct lg *lg)
{
    return lg->o.warmup_s > 0 ? PH_WARMUP : PH_TIMED;
}

/* Moves to the next phase when the current one is finished. */
static void advance(struct lg *lg, int64_t now)
{
    for (;;) {
        enum phase before = lg->phase;
        switch (lg->phase) {
        case PH_HANDSHAKE:
            if (lg->n_ready == lg->o.clients)
                start_phase(lg, lg->o.is_setup_skipped ? first_load_phase(lg) : PH_ROOT, now);
            break;
        case PH_ROOT:
            if (lg->outstanding == 0)
                start_phase(lg, PH_SETUP, now);
            break;
        case PH_SETUP:
            if (lg->setup_done >= lg->o.keys && lg->outstanding == 0)
                start_phase(lg, first_load_phase(lg), now);
            break;
        case PH_WARMUP:
            if (now >= lg->phase_end_ns)
                start_phase(lg, PH_TIMED, now);
            break;
        case PH_TIMED:
            if (now >= lg->phase_end_ns)
                start_phase(lg, PH_DRAIN, now);
            break;
        case PH_DRAIN:
            if (lg->outstanding == 0 || now >= lg->phase_end_ns) {
                if (lg->outstanding != 0) {
                    fprintf(stderr, "loadgen: %" PRId64 " requests unanswered after the run\n",
                            lg->outstanding);
                    lg->is_broken = true;
                }
                start_phase(lg, PH_CLOSE, now);
            }
            break;
        case PH_CLOSE:
            if (lg->n_live == 0 || now >= lg->phase_end_ns)
                lg->phase = PH_END;
            break;
        case PH_END:
            return;
        }
        if (lg->phase == before)
            return;
    }
}

static void run(struct lg *lg)
{
    struct epoll_event evs[256];
    int64_t last_ping_check = now_ns();
    while (lg->phase != PH_END) {
        int64_t now = now_ns();
        int timeout_ms = 100;
        if (lg->phase == PH_WARMUP || lg->phase == PH_TIMED || lg->phase == PH_DRAIN ||
            lg->phase == PH_CLOSE) {
            int64_t left = (lg->phase_end_ns - now + 999999) / 1000000;
            if (left < timeout_ms)
                timeout_ms = left < 0 ? 0 : (int)left;
        }
        int n = epoll_wait(lg->epfd, evs, 256, timeout_ms);
        if (n < 0 && errno != EINTR) {
            perror("loadgen: epoll_wait");
            lg->is_broken = true;
            return;
        }
        for (int i = 0; i < n; i++) {
            struct client *c = evs[i].data.ptr;
            if (c->state == C_DONE)
                continue;
            if (evs[i].events & EPOLLOUT)
                flush_out(lg, c, now_ns());
            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
                on_readable(lg, c);
        }
        now = now_ns();
        advance(lg, now);
        if (lg->n_live == 0 && lg->phase != PH_END) {
            if (lg->phase != PH_CLOSE)
                lg->is_broken = true;
            break;
        }
        if (now - last_ping_check > 100000000 && lg->ping_interval_ns > 0) {
            last_ping_check = now;
            send_pings(lg, now);
        }
    }
}

/* ---- main ------------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f, "usage: loadgen --host IP:PORT [--clients N] [--depth D]\n"
               "               [--op get|exists|set|create|mixed] [--read-pct P] [--size BYTES]\n"
               "               [--keys K] [--duration S] [--warmup S] [--server-pid PID]\n"
               "               [--session-timeout MS] [--no-setup]\n"
               "defaults: --clients 16 --depth 1 --op get --read-pct 90 --size 100 --keys 10000\n"
               "          --duration 10 --warmup 2 --session-timeout 30000\n");
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){.clients = 16,
                       .depth = 1,
                       .op = LG_GET,
                       .read_pct = 90,
                       .size_bytes = 100,
                       .keys = 10000,
                       .duration_s = 10,
                       .warmup_s = 2,
                       .session_timeout_ms = 30000};
    static const struct option longopts[] = {{"host", required_argument, NULL, 'h'},
                                             {"clients", required_argument, NULL, 'c'},
                                             {"depth", required_argument, NULL, 'd'},
                                             {"op", required_argument, NULL, 'o'},
                                             {"read-pct", required_argument, NULL, 'r'},
                                             {"size", required_argument, NULL, 's'},
                                             {"keys", required_argument, NULL, 'k'},
                                             {"duration", required_argument, NULL, 't'},
                                             {"warmup", required_argument, NULL, 'w'},
                                             {"server-pid", required_argument, NULL, 'p'},
                                             {"session-timeout", required_argument, NULL, 'T'},
                                             {"no-setup", no_argument, NULL, 'n'},
                                             {"help", no_argument, NULL, '?'},
                                             {NULL, 0, NULL, 0}};
    bool has_host = false;
    int ch;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h': {
            const char *colon = strrchr(optarg, ':');
            if (!colon || (size_t)(colon - optarg) >= sizeof(o->host))
                return -1;
            memcpy(o->host, optarg, (size_t)(colon - optarg));
            o->host[colon - optarg] = 0;
            o->port = atoi(colon + 1);
            has_host = o->port > 0 && o->port < 65536;
            break;
        }
        case 'c':
            o->clients = atoi(optarg);
            break;
        case 'd':
            o->depth = atoi(optarg);
            break;
        case 'o': {
            int i;
            for (i = 0; i < 5 && strcmp(optarg, op_names[i]) != 0; i++)
                ;
            if (i == 5)
                return -1;
            o->op = (enum lg_op)i;
            break;
        }
        case 'r':
            o->read_pct = atoi(optarg);
            break;
        case 's':
            o->size_bytes = atoi(optarg);
            break;
        case 'k':
            o->keys = atoi(optarg);
            break;
        case 't':
            o->duration_s = atof(optarg);
            break;
        case 'w':
            o->warmup_s = atof(optarg);
            break;
        case 'p':
            o->server_pid = atoi(optarg);
            break;
        case 'T':
            o->session_timeout_ms = atoi(optarg);
            break;
        case 'n':
            o->is_setup_skipped = true;
            break;
        default:
            return -1;
        }
    }
    if (optind != argc || !has_host || o->clients < 1 || o->clients > 100000 || o->depth < 1 ||
        o->depth > 1000000 || o->read_pct < 0 || o->read_pct > 100 || o->size_bytes < 0 ||
        o->size_bytes > (1 << 20) || o->keys < 1 || o->keys > 99999999 || o->duration_s <= 0 ||
        o->warmup_s < 0)
        return -1;
    return 0;
}

static void print_hist_line(const char *label, const struct hist *h)
{
    printf("  %-8s n=%" PRIu64 "  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f (us)\n", label,
           h->n, hist_quantile_us(h, 0.50), hist_quantile_us(h, 0.90), hist_quantile_us(h, 0.99),
           hist_quantile_us(h, 0.999), (double)h->max_ns / 1e3);
}

int main(int argc, char **argv)
{
    struct lg *lg = calloc(1, sizeof(*lg));
    if (!lg || parse_opts(argc, argv, &lg->o) != 0) {
        usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    lg->rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)now_ns();
    lg->value = malloc((size_t)lg->o.size_bytes + 1);
    lg->clients = calloc((size_t)lg->o.clients, sizeof(*lg->clients));
    lg->epfd = epoll_create1(0);
    if (!lg->value || !lg->clients || lg->epfd < 0) {
        fprintf(stderr, "loadgen: out of memory\n");
        return 2;
    }
    for (int i = 0; i < lg->o.size_bytes; i++)
        lg->value[i] = (uint8_t)('a' + i % 26);
    if (connect_all(lg) != 0)
        return 1;
    lg->phase = PH_HANDSHAKE;
    run(lg);

    struct hist all = {0};
    hist_merge(&all, &lg->h_read);
    hist_merge(&all, &lg->h_write);
    const struct opts *o = &lg->o;
    double secs = (double)(lg->timed_end_ns - lg->timed_start_ns) / 1e9;
    double ops_per_s = secs > 0 ? (double)lg->ops / secs : 0;
    double cpu_per_op = lg->ops ? (double)(lg->cpu_end_us - lg->cpu_start_us) / (double)lg->ops : 0;
    printf("loadgen: %s:%d op=%s", o->host, o->port, op_names[o->op]);
    if (o->op == LG_MIXED)
        printf(" (%d%% get)", o->read_pct);
    printf(" clients=%d depth=%d size=%d keys=%d warmup=%.1fs duration=%.1fs\n", o->clients,
           o->depth, o->size_bytes, o->keys, o->warmup_s, o->duration_s);
    printf("  ops      %" PRIu64 " in %.2f s = %.0f ops/s\n", lg->ops, secs, ops_per_s);
    print_hist_line("all", &all);
    if (lg->h_read.n && lg->h_write.n) {
        print_hist_line("reads", &lg->h_read);
        print_hist_line("writes", &lg->h_write);
    }
    printf("  errors   %" PRIu64 " (timed run %" PRIu64 ")", lg->errors, lg->errors_timed);
    for (int i = 0; i < 8 && lg->err_code_count[i]; i++) {
        const char *name = zk_err_name(lg->err_codes[i]);
        printf(" %s=%" PRIu64, name ? name : "?", lg->err_code_count[i]);
    }
    printf("\n  loadgen CPU %.2f us/op\n", cpu_per_op);
    double srv_cpu_per_op = 0;
    long rss_kb = -1, hwm_kb = -1;
    if (o->server_pid) {
        if (lg->srv_cpu_start_us >= 0 && lg->srv_cpu_end_us >= 0 && lg->ops)
            srv_cpu_per_op = (double)(lg->srv_cpu_end_us - lg->srv_cpu_start_us) / (double)lg->ops;
        rss_kb = procstat_status_kb(o->server_pid, "VmRSS");
        hwm_kb = procstat_status_kb(o->server_pid, "VmHWM");
        printf("  server   pid %d: CPU %.2f us/op (%.2f s over the run), RSS %ld kB, peak %ld kB\n",
               o->server_pid, srv_cpu_per_op,
               (double)(lg->srv_cpu_end_us - lg->srv_cpu_start_us) / 1e6, rss_kb, hwm_kb);
    }
    printf("RESULT op=%s clients=%d depth=%d ops=%" PRIu64 " ops_per_s=%.0f p50_us=%.1f "
           "p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f errors=%" PRIu64
           " client_cpu_us_per_op=%.2f",
           op_names[o->op], o->clients, o->depth, lg->ops, ops_per_s, hist_quantile_us(&all, 0.5),
           hist_quantile_us(&all, 0.9), hist_quantile_us(&all, 0.99), hist_quantile_us(&all, 0.999),
           (double)all.max_ns / 1e3, lg->errors, cpu_per_op);
    if (o->server_pid)
        printf(" server_cpu_us_per_op=%.2f server_rss_kb=%ld server_hwm_kb=%ld", srv_cpu_per_op,
               rss_kb, hwm_kb);
    printf("\n");
    if (lg->is_broken)
        fprintf(stderr, "loadgen: the run did not complete cleanly\n");
    return (lg->errors || lg->is_broken || lg->phase != PH_END) ? 1 : 0;
}
