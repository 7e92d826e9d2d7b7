/* Socket I/O through io_uring (src/uring/ringio.c) over a socketpair: multishot
 * receives into the provided buffers, non-blocking sends, polls, cancels, the end of a
 * stream. Skipped when io_uring cannot be used here. */
#include "common/err.h"
#include "uring/ringio.h"
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_BYTES   (8 * 1024) /* the buffer size these tests open rings with */
#define MAX_COMPS   512
#define WAIT_MS     1000
#define MAX_ROUNDS  50    /* waits before giving up on a completion */
#define PUMP_ROUNDS 20000 /* turns of a bulk transfer before giving up */

/* One completion as the handler saw it. */
struct comp {
    uint64_t tag;
    int res;
    bool has_data;
    bool is_more;
};

/* Everything the completions of a test brought. */
struct sink {
    struct comp c[MAX_COMPS];
    int n;                  /* completions recorded (at most MAX_COMPS) */
    int n_total;            /* completions seen */
    uint64_t recv_tag;      /* the receive whose bytes go to bytes[] */
    uint8_t *bytes;         /* received bytes, in order */
    size_t len, cap;        /* bytes received; room in bytes */
    int n_data;             /* completions with data */
    int max_chunk;          /* largest res of a completion with data */
    bool is_recv_ended;     /* recv_tag completed without is_more */
    int end_res;            /* its res then */
    bool is_bad_data;       /* data with res <= 0 or > BUF_BYTES, or for another tag */
    bool is_data_after_end; /* a completion of recv_tag after it ended */
};

static void sink_init(struct sink *s, uint64_t recv_tag, size_t cap)
{
    memset(s, 0, sizeof(*s));
    s->recv_tag = recv_tag;
    s->cap = cap;
    s->bytes = cap ? malloc(cap) : NULL;
    if (cap && !s->bytes)
        abort();
}

static void sink_free(struct sink *s)
{
    free(s->bytes);
}

static void on_done(void *arg, uint64_t tag, int res, const void *data, bool is_more)
{
    struct sink *s = arg;
    if (s->n < MAX_COMPS)
        s->c[s->n++] = (struct comp){tag, res, data != NULL, is_more};
    s->n_total++;
    if (tag == s->recv_tag) {
        if (s->is_recv_ended)
            s->is_data_after_end = true;
        if (!is_more) {
            s->is_recv_ended = true;
            s->end_res = res;
        }
    }
    if (!data)
        return;
    if (tag != s->recv_tag || res <= 0 || res > BUF_BYTES || s->len + (size_t)res > s->cap) {
        s->is_bad_data = true;
        return;
    }
    memcpy(s->bytes + s->len, data, (size_t)res);
    memset((void *)data, 0xee, (size_t)res); /* the buffer is ours until we return */
    s->len += (size_t)res;
    s->n_data++;
    if (res > s->max_chunk)
        s->max_chunk = res;
}

/* The recorded completion of tag, or NULL. */
static const struct comp *find(const struct sink *s, uint64_t tag)
{
    for (int i = 0; i < s->n; i++)
        if (s->c[i].tag == tag)
            return &s->c[i];
    return NULL;
}

/* Waits and reaps until tag completed (or the rounds ran out). */
static const struct comp *wait_for(struct ringio *r, struct sink *s, uint64_t tag)
{
    for (int i = 0; i < MAX_ROUNDS && !find(s, tag); i++) {
        CHECK_EQ_INT(ringio_wait(r, WAIT_MS), 0);
        ringio_reap(r, on_done, s);
    }
    return find(s, tag);
}

/* Waits and reaps until len bytes arrived or the receive ended. */
static void wait_for_bytes(struct ringio *r, struct sink *s, size_t len)
{
    for (int i = 0; i < MAX_ROUNDS && s->len < len && !s->is_recv_ended; i++) {
        CHECK_EQ_INT(ringio_wait(r, WAIT_MS), 0);
        ringio_reap(r, on_done, s);
    }
}

/* Writes data[0, len) to the non-blocking fd while receiving with the ring, reaping as it
 * goes, until every byte arrived, the receive ended or the turns ran out. */
static void transfer(struct ringio *r, struct sink *s, int fd, const uint8_t *data, size_t len,
                     size_t chunk)
{
    size_t sent = 0;
    for (int i = 0; i < PUMP_ROUNDS && s->len < len && !s->is_recv_ended; i++) {
        while (sent < len) {
            size_t n = len - sent < chunk ? len - sent : chunk;
            ssize_t w = write(fd, data + sent, n);
            if (w < 0) {
                CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
                break;
            }
            sent += (size_t)w;
        }
        CHECK_EQ_INT(ringio_wait(r, WAIT_MS), 0);
        ringio_reap(r, on_done, s);
    }
    CHECK_EQ_INT(sent, len);
}

/* Bytes no run of which repeats at a short period, so that a lost, doubled or reordered
 * chunk shows. */
static uint8_t *pattern(size_t len, uint32_t seed)
{
    uint8_t *p = malloc(len);
    if (!p)
        abort();
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        p[i] = (uint8_t)x;
    }
    return p;
}

static void set_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    CHECK(fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0);
}

/* A ring for one socket and a connected pair: sp[0] is served by the ring, sp[1] is the
 * peer. */
struct fixture {
    struct ringio *r;
    int sp[2];
};

/* Buffers as paddock bench sizes them for n sessions: 4 each, a power of two, at least 64. */
static unsigned bufs_for(int n)
{
    unsigned p = 64;
    while (p < 4u * (unsigned)n)
        p <<= 1;
    return p;
}

static bool setup(struct fixture *f, int n_sockets)
{
    f->r = NULL;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f->sp) != 0) {
        perror("socketpair");
        CHECK(0);
        return false;
    }
    int rc = ringio_open(&f->r, bufs_for(n_sockets), BUF_BYTES, 0);
    CHECK_EQ_INT(rc, 0);
    if (rc != 0 || !f->r) {
        close(f->sp[0]), close(f->sp[1]);
        return false;
    }
    return true;
}

static void teardown(struct fixture *f)
{
    ringio_close(f->r);
    if (f->sp[0] >= 0)
        close(f->sp[0]);
    if (f->sp[1] >= 0)
        close(f->sp[1]);
}

static void test_recv_one(void)
{
    struct fixture f;
    if (!setup(&f, 1))
        return;
    struct sink s;
    sink_init(&s, 7, 64);
    ringio_recv(f.r, f.sp[0], 7);
    CHECK_EQ_INT(ringio_wait(f.r, 0), 0); /* armed, nothing there yet */
    ringio_reap(f.r, on_done, &s);
    CHECK_EQ_INT(s.n_total, 0);
    CHECK_EQ_INT(write(f.sp[1], "hello", 5), 5);
    wait_for_bytes(f.r, &s, 5);
    CHECK_EQ_INT(s.n, 1);
    CHECK_EQ_INT(s.c[0].tag, 7);
    CHECK_EQ_INT(s.c[0].res, 5);
    CHECK(s.c[0].has_data);
    CHECK(s.c[0].is_more); /* still armed */
    CHECK_EQ_INT(s.len, 5);
    CHECK(memcmp(s.bytes, "hello", 5) == 0);
    CHECK(!s.is_bad_data);

    /* it stays armed: the next bytes come without another ringio_recv() */
    CHECK_EQ_INT(write(f.sp[1], "again", 5), 5);
    wait_for_bytes(f.r, &s, 10);
    CHECK_EQ_INT(s.len, 10);
    CHECK(memcmp(s.bytes, "helloagain", 10) == 0);
    CHECK(!s.is_recv_ended);
    sink_free(&s);
    teardown(&f);
}

static void test_recv_several_writes(void)
{
    struct fixture f;
    if (!setup(&f, 1))
        return;
    struct sink s;
    sink_init(&s, 0x1234567890abcdefull, 64); /* the whole 64-bit tag comes back */
    ringio_recv(f.r, f.sp[0], 0x1234567890abcdefull);
    static const char *const parts[] = {"ab", "cde", "f", "ghij", "klmnop"};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        CHECK_EQ_INT(write(f.sp[1], parts[i], strlen(parts[i])), strlen(parts[i]));
    wait_for_bytes(f.r, &s, 16);
    CHECK_EQ_INT(s.len, 16);
    CHECK(memcmp(s.bytes, "abcdefghijklmnop", 16) == 0);
    CHECK(s.n >= 1 && s.n <= 5);
    for (int i = 0; i < s.n; i++) {
        CHECK(s.c[i].tag == 0x1234567890abcdefull);
        CHECK(s.c[i].is_more);
    }
    CHECK(!s.is_bad_data);
    sink_free(&s);
    teardown(&f);
}

/* 100 KB in one write arrives in 8 KiB buffers whose concatenation is the data. */
static void test_recv_large(void)
{
    struct fixture f;
    if (!setup(&f, 1))
        return;
    const size_t len = 100 * 1000;
    uint8_t *data = pattern(len, 1);
    struct sink s;
    sink_init(&s, 3, len);
    set_nonblocking(f.sp[1]);
    ringio_recv(f.r, f.sp[0], 3);
    transfer(f.r, &s, f.sp[1], data, len, len);
    CHECK_EQ_INT(s.len, len);
    CHECK(memcmp(s.bytes, data, len) == 0);
    CHECK(s.n_data >= (int)((len + BUF_BYTES - 1) / BUF_BYTES));
    CHECK_EQ_INT(s.max_chunk, BUF_BYTES);
    CHECK(!s.is_bad_data);
    CHECK(!s.is_recv_ended);
    free(data);
    sink_free(&s);
    teardown(&f);
}

/* 4 MB, eight times the 64 buffers' room, through one receive: the buffers go back to the
 * ring after each handler, so it never runs out. */
static void test_recv_buffers_recycled(void)
{
    struct fixture f;
    if (!setup(&f, 1))
        return;
    const size_t len = 4 * 1024 * 1024;
    CHECK(len >= 8 * 64 * BUF_BYTES);
    uint8_t *data = pattern(len, 2);
    struct sink s;
    sink_init(&s, 5, len);
    set_nonblocking(f.sp[1]);
    ringio_recv(f.r, f.sp[0], 5);
    transfer(f.r, &s, f.sp[1], data, len, 3000); /* odd-sized writes */
    CHECK_EQ_INT(s.len, len);
    CHECK(memcmp(s.bytes, data, len) == 0);
    CHECK(!s.is_recv_ended); /* no -ENOBUFS: the receive stayed armed throughout */
    CHECK(s.n_data > 64);
    CHECK(!s.is_bad_data);
    free(data);
    sink_free(&s);
    teardown(&f);
}

/* Writes count single bytes, each received into a buffer of its own, without reaping. */
static void write_bytes_unreaped(struct ringio *r, int fd, int count)
{
    for (int i = 0; i < count; i++) {
        uint8_t b = (uint8_t)i;
        CHECK_EQ_INT(write(fd, &b, 1), 1);
        CHECK_EQ_INT(ringio_wait(r, 0), 0); /* runs the receive, leaves its completion */
    }
}

/* With n_sockets 1 there are 64 buffers: 70 arrivals left unreaped use them up, and the
 * receive ends with -ENOBUFS; re-armed after the reap it gets the rest. A ring for 32
 * sockets has 128 buffers and takes the same 70 arrivals in its stride. */
static void test_buffer_count(void)
{
    struct fixture f;
    if (!setup(&f, 1))
        return;
    struct sink s;
    sink_init(&s, 9, 256);
    ringio_recv(f.r, f.sp[0], 9);
    CHECK_EQ_INT(ringio_wait(f.r, 0), 0);
    write_bytes_unreaped(f.r, f.sp[1], 70);
    ringio_reap(f.r, on_done, &s);
    CHECK_EQ_INT(s.n_data, 64);
    CHECK(s.is_recv_ended);
    CHECK_EQ_INT(s.end_res, -ENOBUFS);
    CHECK(!s.is_data_after_end);
    CHECK(s.len >= 64 && s.len < 70);
    /* re-armed, the same receive tag gets the bytes still in the socket */
    s.is_recv_ended = false;
    ringio_recv(f.r, f.sp[0], 9);
    wait_for_bytes(f.r, &s, 70);
    CHECK_EQ_INT(s.len, 70);
    for (size_t i = 0; i < s.len && i < 70; i++)
        CHECK_EQ_INT(s.bytes[i], i);
    CHECK(!s.is_recv_ended);
    CHECK(!s.is_bad_data);
    sink_free(&s);
    teardown(&f);

    if (!setup(&f, 32))
        return;
    sink_init(&s, 9, 256);
    ringio_recv(f.r, f.sp[0], 9);
    CHECK_EQ_INT(ringio_wait(f.r, 0), 0);
    write_bytes_unreaped(f.r, f.sp[1], 70);
    ringio_reap(f.r, on_done, &s);
    CHECK(!s.is_recv_ended);
    CHECK_EQ_INT(s.len, 70);
    sink_free(&s);
    teardown(&f);
}

static void test_send(void)
{
    struct fixture f;
    if (!setup(&f, 1))
        return;
    struct sink s;
    sink_init(&s, 0, 0);
    char msg[] = "ping";
    ringio_send(f.r, f.sp[0], msg, 4, 21);
    const struct comp *c = wait_for(f.r, &s, 21);
    CHECK(c != NULL);
    if (c) {
        CHECK_EQ_INT(c->res, 4);
        CHECK(!c->has_data);
        CHECK(!c->is_more);
    }
    memset(msg, 'x', 4); /* the bytes are not needed after the wait */
    char got[8] = {0};
    CHECK_EQ_INT(recv(f.sp[1], got, sizeof(got), MSG_DONTWAIT), 4);
    CHECK_EQ_STR(got, "ping");

    /* several sends queued together complete in one wait, in order on the wire */
    ringio_send(f.r, f.sp[0], "one,", 4, 22);
    ringio_send(f.r, f.sp[0], "two,", 4, 23);
    ringio_send(f.r, f.sp[0], "three", 5, 24);
    CHECK(wait_for(f.r, &s, 24) != NULL);
    wait_for(f.r, &s, 22);
    wait_for(f.r, &s, 23);
    for (uint64_t t = 22; t <= 24; t++) {
        c = find(&s, t);
        CHECK(c && c->res == (t == 24 ? 5 : 4));
    }
    memset(got, 0, sizeof(got));
    char all[32] = {0};
    size_t n = 0;
    for (int i = 0; i < 10 && n < 13; i++) {
        ssize_t k = recv(f.sp[1], all + n, sizeof(all) - 1 - n, MSG_DONTWAIT);
        if (k > 0)
            n += (size_t)k;
    }
    CHECK_EQ_STR(all, "one,two,three");
    sink_free(&s);
    teardown(&f);
}

/* A send to a socket the peer does not read is finished short or refused (-EAGAIN) within
 * the wait: never parked until the peer reads. */
static void test_send_full(void)
{
    struct fixture f;
    if (!setup(&f, 1))
        return;
    struct sink s;
    sink_init(&s, 0, 0);
    const size_t len = 8 * 1024 * 1024;
    uint8_t *big = pattern(len, 3);
    ringio_send(f.r, f.sp[0], big, len, 31);
    const struct comp *c = wait_for(f.r, &s, 31);
    CHECK(c != NULL);
    int first = c ? c->res : 0;
    CHECK((first > 0 && (size_t)first < len) || first == -EAGAIN);
    /* the socket is full now: the next one is refused or at most a little goes */
    ringio_send(f.r, f.sp[0], big, len, 32);
    c = wait_for(f.r, &s, 32);
    CHECK(c != NULL);
    int second = c ? c->res : 0;
    CHECK(second == -EAGAIN || (second > 0 && second < 64 * 1024));
    /* what went is the start of the data, intact */
    size_t want = first > 0 ? (size_t)first : 0;
    uint8_t *got = malloc(want + 1);
    size_t n = 0;
    while (got && n < want) {
        ssize_t k = recv(f.sp[1], got + n, want - n, MSG_DONTWAIT);
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    CHECK_EQ_INT(n, want);
    CHECK(got && memcmp(got, big, n) == 0);
    free(got);

    /* to a closed peer: -EPIPE, and no SIGPIPE (MSG_NOSIGNAL) */
    close(f.sp[1]);
    f.sp[1] = -1;
    ringio_send(f.r, f.sp[0], "x", 1, 33);
    c = wait_for(f.r, &s, 33);
    CHECK(c && c->res == -EPIPE);
    free(big);
    sink_free(&s);
    teardown(&f);
}

static void test_peer_close(void)
{
    struct fixture f;
    if (!setup(&f, 1))
        return;
    struct sink s;
    sink_init(&s, 41, 64);
    ringio_recv(f.r, f.sp[0], 41);
    CHECK_EQ_INT(write(f.sp[1], "bye", 3), 3);
    close(f.sp[1]);
    f.sp[1] = -1;
    for (int i = 0; i < MAX_ROUNDS && !s.is_recv_ended; i++) {
        CHECK_EQ_INT(ringio_wait(f.r, WAIT_MS), 0);
        ringio_reap(f.r, on_done, &s);
    }
    CHECK_EQ_INT(s.len, 3);
    CHECK(memcmp(s.bytes, "bye", 3) == 0);
    CHECK(s.is_recv_ended);
    CHECK_EQ_INT(s.end_res, 0);
    CHECK(s.n >= 2);
    if (s.n >= 2) {
        const struct comp *last = &s.c[s.n - 1];
        CHECK_EQ_INT(last->tag, 41);
        CHECK_EQ_INT(last->res, 0);
        CHECK(!last->is_more);
        CHECK(!last->has_data);
    }
    CHECK(!s.is_data_after_end);
    sink_free(&s);
    teardown(&f);
}

static void test_cancel(void)
{
    struct fixture f;
    if (!setup(&f, 1))
        return;
    struct sink s;
    sink_init(&s, 51, 64);
    ringio_recv(f.r, f.sp[0], 51);
    CHECK_EQ_INT(ringio_wait(f.r, 0), 0);
    ringio_cancel(f.r, 51, 52);
    wait_for(f.r, &s, 52);
    wait_for(f.r, &s, 51);
    const struct comp *recv_c = find(&s, 51), *cancel_c = find(&s, 52);
    CHECK(recv_c && recv_c->res == -ECANCELED && !recv_c->is_more && !recv_c->has_data);
    CHECK(cancel_c && cancel_c->res == 0 && !cancel_c->is_more);
    CHECK_EQ_INT(s.n, 2);
    /* nothing arrives for it any more */
    CHECK_EQ_INT(write(f.sp[1], "late", 4), 4);
    CHECK_EQ_INT(ringio_wait(f.r, 50), 0);
    ringio_reap(f.r, on_done, &s);
    CHECK_EQ_INT(s.n, 2);
    CHECK_EQ_INT(s.len, 0);

    /* cancelling what is not there: -ENOENT for the cancel */
    ringio_cancel(f.r, 999, 53);
    const struct comp *c = wait_for(f.r, &s, 53);
    CHECK(c && c->res == -ENOENT);
    sink_free(&s);
    teardown(&f);
}

static void test_poll(void)
{
    struct fixture f;
    if (!setup(&f, 1))
        return;
    struct sink s;
    sink_init(&s, 0, 0);
    ringio_poll(f.r, f.sp[0], POLLOUT, 61);
    const struct comp *c = wait_for(f.r, &s, 61);
    CHECK(c && c->res > 0 && (c->res & POLLOUT) && !c->is_more && !c->has_data);

    /* POLLIN waits for bytes */
    ringio_poll(f.r, f.sp[0], POLLIN, 62);
    CHECK_EQ_INT(ringio_wait(f.r, 50), 0);
    ringio_reap(f.r, on_done, &s);
    CHECK(find(&s, 62) == NULL);
    CHECK_EQ_INT(write(f.sp[1], "x", 1), 1);
    c = wait_for(f.r, &s, 62);
    CHECK(c && c->res > 0 && (c->res & POLLIN) && !c->is_more);
    sink_free(&s);
    teardown(&f);
}

/* Closing a ring with a receive still armed (and bytes on the way) is clean. */
static void test_close_armed(void)
{
    struct fixture f;
    if (!setup(&f, 1))
        return;
    ringio_recv(f.r, f.sp[0], 71);
    ringio_poll(f.r, f.sp[0], POLLIN, 72);
    CHECK_EQ_INT(ringio_wait(f.r, 0), 0);
    CHECK_EQ_INT(write(f.sp[1], "abc", 3), 3);
    teardown(&f);
    ringio_close(NULL);
}

/* Bad sizes are refused before anything is opened. */
static void test_bad_sizes(void)
{
    struct ringio *r = (struct ringio *)&r;
    CHECK_EQ_INT(ringio_open(&r, 0, BUF_BYTES, 0), PD_EINVAL);
    CHECK(r == NULL);
    CHECK_EQ_INT(ringio_open(&r, 100, BUF_BYTES, 0), PD_EINVAL);   /* not a power of two */
    CHECK_EQ_INT(ringio_open(&r, 65536, BUF_BYTES, 0), PD_EINVAL); /* ids are 16 bits */
    CHECK_EQ_INT(ringio_open(&r, 64, 0, 0), PD_EINVAL);
    CHECK(r == NULL);
}

/* A socketpair and a RINGIO_POLLABLE ring (as the server opens it: 64 buffers of 4 KiB here). */
static bool setup_pollable(struct fixture *f)
{
    f->r = NULL;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f->sp) != 0) {
        CHECK(0);
        return false;
    }
    CHECK_EQ_INT(ringio_open(&f->r, 64, 4096, RINGIO_POLLABLE), 0);
    if (!f->r) {
        close(f->sp[0]), close(f->sp[1]);
        return false;
    }
    return true;
}

/*
 * A RINGIO_POLLABLE ring, as the server uses it: its fd turns readable when
 * bytes arrived, without the thread entering the ring (the server's libuv
 * poll sees it), and the completions are there to reap at once.
 */
static void test_pollable_fd(void)
{
    struct fixture f;
    if (!setup_pollable(&f))
        return;
    struct sink s;
    sink_init(&s, 11, 64);
    ringio_recv(f.r, f.sp[0], 11);
    CHECK_EQ_INT(ringio_submit(f.r), 0);
    struct pollfd p = {.fd = ringio_fd(f.r), .events = POLLIN};
    CHECK_EQ_INT(poll(&p, 1, 0), 0); /* nothing yet */
    CHECK_EQ_INT(write(f.sp[1], "ping", 4), 4);
    CHECK_EQ_INT(poll(&p, 1, WAIT_MS), 1);
    CHECK(p.revents & POLLIN);
    ringio_reap(f.r, on_done, &s);
    CHECK_EQ_INT(s.n_data, 1);
    CHECK_EQ_INT(s.len, 4);
    CHECK(s.len == 4 && memcmp(s.bytes, "ping", 4) == 0);
    CHECK(!s.is_recv_ended);
    /* reaped: the fd is quiet again until the next bytes */
    CHECK_EQ_INT(poll(&p, 1, 0), 0);
    CHECK_EQ_INT(write(f.sp[1], "pong", 4), 4);
    CHECK_EQ_INT(poll(&p, 1, WAIT_MS), 1);
    ringio_reap(f.r, on_done, &s);
    CHECK_EQ_INT(s.len, 8);
    sink_free(&s);
    teardown(&f);
}

/*
 * More completions than the completion queue holds (256 x 16 = 4096): the
 * kernel keeps the rest on its overflow list, and one reap must still hand
 * over every one of them. A pollable ring's fd stays readable while any wait
 * there: leaving them would spin a poller that never gets them.
 */
static void test_cq_overflow(void)
{
    struct fixture f;
    if (!setup_pollable(&f))
        return;
    struct sink s;
    sink_init(&s, 0, 0);
    const int n = 5000;
    for (int i = 0; i < n; i++)
        ringio_poll(f.r, f.sp[0], POLLOUT, 100 + (uint64_t)i); /* each completes at once */
    CHECK_EQ_INT(ringio_submit(f.r), 0);
    ringio_reap(f.r, on_done, &s);
    CHECK_EQ_INT(s.n_total, n);
    struct pollfd p = {.fd = ringio_fd(f.r), .events = POLLIN};
    CHECK_EQ_INT(poll(&p, 1, 0), 0); /* nothing left behind */
    sink_free(&s);
    teardown(&f);
}

/* Whether ringio_open() works here (main() asks first). */
static bool have_uring;

static void test_env_off(void)
{
    const char *old = getenv("PADDOCK_NO_URING");
    char *saved = old ? strdup(old) : NULL;
    struct ringio *r = (struct ringio *)&r; /* not NULL: ringio_open must clear it */
    setenv("PADDOCK_NO_URING", "1", 1);
    CHECK_EQ_INT(ringio_open(&r, 64, BUF_BYTES, 0), PD_ENOTSUP);
    CHECK(r == NULL);
    r = (struct ringio *)&r;
    setenv("PADDOCK_NO_URING", "yes", 1);
    CHECK_EQ_INT(ringio_open(&r, 64, BUF_BYTES, 0), PD_ENOTSUP);
    CHECK(r == NULL);
    if (have_uring) {
        /* "0" and "" leave io_uring on */
        setenv("PADDOCK_NO_URING", "0", 1);
        CHECK_EQ_INT(ringio_open(&r, 64, BUF_BYTES, 0), 0);
        CHECK(r != NULL);
        ringio_close(r);
        setenv("PADDOCK_NO_URING", "", 1);
        CHECK_EQ_INT(ringio_open(&r, 64, BUF_BYTES, 0), 0);
        CHECK(r != NULL);
        ringio_close(r);
        unsetenv("PADDOCK_NO_URING");
        CHECK_EQ_INT(ringio_open(&r, 64, BUF_BYTES, 0), 0);
        CHECK(r != NULL);
        ringio_close(r);
    }
    if (saved)
        setenv("PADDOCK_NO_URING", saved, 1);
    else
        unsetenv("PADDOCK_NO_URING");
    free(saved);
}

int main(void)
{
    /* The ring tests need io_uring (and PADDOCK_NO_URING unset): ask as the bench does. */
    struct ringio *r;
    int rc = ringio_open(&r, 64, BUF_BYTES, 0);
    if (rc != 0 && rc != PD_ENOTSUP) {
        fprintf(stderr, "ringio_open: %d\n", rc);
        return 1;
    }
    have_uring = rc == 0;
    ringio_close(r);
    RUN(test_env_off);
    if (!have_uring) {
        printf("SKIPPED: io_uring cannot be used here; the ring tests did not run\n");
        return t_done();
    }
    RUN(test_bad_sizes);
    RUN(test_recv_one);
    RUN(test_recv_several_writes);
    RUN(test_recv_large);
    RUN(test_recv_buffers_recycled);
    RUN(test_buffer_count);
    RUN(test_send);
    RUN(test_send_full);
    RUN(test_peer_close);
    RUN(test_cancel);
    RUN(test_poll);
    RUN(test_close_armed);
    RUN(test_pollable_fd);
    RUN(test_cq_overflow);
    return t_done();
}
