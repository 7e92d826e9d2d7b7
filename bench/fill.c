/*
 * fill: loads a ZooKeeper server with many znodes fast, and probes it.
 * The helper of bench/restart.sh; it speaks the wire protocol itself, like
 * loadgen (only jute/proto.h's constants come from the project).
 *
 *   fill --host IP:PORT --load N [--per-parent 1000] [--size 100] [--conns 4]
 *        [--window 1000] [--server-pid PID]
 *       Creates /bench, then N/per-parent parents /bench/dXXX, then N persistent
 *       znodes /bench/dXXX/nXXXXXX (child i under parent i / per-parent) with
 *       --size bytes of data, OPEN_ACL_UNSAFE. The children go over --conns
 *       sessions with up to --window creates outstanding on each (pipelined; a
 *       server answers a session's requests in order). NODEEXISTS is an error
 *       except for /bench and the parents. Prints a RESULT line with the rate
 *       and, with --server-pid, the server's VmRSS/VmHWM right after the load.
 *
 *   fill --host IP:PORT --probe PATH [--since-ns T] [--timeout S]
 *       Waits until the server serves, then getData PATH on a new session:
 *       every 1 ms while the port refuses connections, every 5 ms while
 *       `srvr` does not show a Zxid yet (Apache ZooKeeper listens before it
 *       has loaded its data) or the session / getData fails; then prints
 *       RESULT serving_ms=<ms since T> attempts=<n> refused=<n> data_len=<len>. T is a
 *       CLOCK_REALTIME time in ns (`date +%s%N` just before the server was
 *       started); without it the time counts from fill's own start.
 *
 *   fill --host IP:PORT --count PATH
 *       Prints RESULT count=<getAllChildrenNumber(PATH)>: every znode under
 *       PATH, at any depth (a check that a restart brought everything back).
 *
 *   fill --path-of I [--per-parent 1000]
 *       Prints the path of child I (the last one of a load of N is N-1).
 *
 * Exit status 0, 1 on an error reply, a lost connection or a timeout, 2 on
 * bad usage.
 */
#include "jute/proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "bench/measure.h"

#define MAX_CONNS  64
#define PATH_MAX_L 64

struct opts {
    char host[64];
    int port;
    long load; /* --load N: children to create; 0: other mode */
    int per_parent;
    int size;
    int conns;
    int window;
    int server_pid;
    const char *probe_path;
    const char *count_path;
    long path_of; /* -1: not asked */
    int64_t since_ns;
    double timeout_s;
};

static struct opts O;
static uint8_t value[1 << 16];

/* ---- clock ------------------------------------------------------------------ */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- encoding ---------------------------------------------------------------- */

static inline uint8_t *put_bytes(uint8_t *p, const void *s, size_t n)
{
    p = put_int(p, (int32_t)n);
    memcpy(p, s, n);
    return p + n;
}

static int parent_path(char *buf, long parent)
{
    return snprintf(buf, PATH_MAX_L, "/bench/d%03ld", parent);
}

static int child_path(char *buf, long i)
{
    return snprintf(buf, PATH_MAX_L, "/bench/d%03ld/n%06ld", i / O.per_parent, i);
}

/* RequestHeader + CreateRequest (persistent, OPEN_ACL_UNSAFE); returns the end. */
static uint8_t *enc_create(uint8_t *start, int32_t xid, const char *path, size_t plen, size_t dlen)
{
    uint8_t *p = start + 4;
    p = put_int(p, xid);
    p = put_int(p, ZOO_OP_CREATE);
    p = put_bytes(p, path, plen);
    p = put_bytes(p, value, dlen);
    p = put_int(p, 1); /* one ACL: world:anyone, all perms */
    p = put_int(p, ZOO_PERM_ALL);
    p = put_bytes(p, "world", 5);
    p = put_bytes(p, "anyone", 6);
    p = put_int(p, ZOO_PERSISTENT);
    put_int(start, (int32_t)(p - start - 4));
    return p;
}

/* ---- connections ------------------------------------------------------------ */

struct conn {
    int fd;
    int32_t next_xid;
    uint8_t *out;
    size_t out_off, out_len, out_cap;
    uint8_t *in;
    size_t in_len, in_cap;
    long next, end;   /* children [next, end) still to send */
    long outstanding; /* sent, not answered */
    long done;        /* answered */
    bool is_closing;  /* closeSession sent */
    bool is_closed;
};

static int tcp_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)O.port)};
    if (inet_pton(AF_INET, O.host, &sa.sin_addr) != 1) {
        fprintf(stderr, "fill: bad address %s\n", O.host);
        exit(2);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads exactly n bytes (blocking socket); 0 or -1 on EOF / error / timeout. */
static int read_full(int fd, uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static int write_full(int fd, const uint8_t *buf, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t r = write(fd, buf + off, n - off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        off += (size_t)r;
    }
    return 0;
}

/* Reads one frame into buf (cap bytes); returns its length or -1. */
static long read_frame(int fd, uint8_t *buf, size_t cap)
{
    uint8_t hdr[4];
    if (read_full(fd, hdr, 4) != 0)
        return -1;
    int32_t len = get_int(hdr);
    if (len < 0 || (size_t)len > cap)
        return -1;
    if (read_full(fd, buf, (size_t)len) != 0)
        return -1;
    return len;
}

/* Blocking ConnectRequest handshake on fd; 0 if the server gave a session. */
static int handshake(int fd)
{
    uint8_t req[64], *p = req + 4;
    p = put_int(p, 0);     /* protocolVersion */
    p = put_long(p, 0);    /* lastZxidSeen */
    p = put_int(p, 30000); /* timeOut */
    p = put_long(p, 0);    /* sessionId */
    uint8_t passwd[16] = {0};
    p = put_bytes(p, passwd, 16);
    *p++ = 0; /* readOnly */
    put_int(req, (int32_t)(p - req - 4));
    if (write_full(fd, req, (size_t)(p - req)) != 0)
        return -1;
    uint8_t resp[256];
    long n = read_frame(fd, resp, sizeof(resp));
    if (n < 20)
        return -1;
    if (get_int(resp + 4) <= 0) /* timeOut 0: session refused */
        return -1;
    return 0;
}

/* One blocking request/reply on a fresh session: returns the reply err, or
 * 1 on a transport failure. Only for the few setup and check requests. */
static int call(int fd, int32_t xid, uint8_t *req, size_t len, uint8_t *reply, size_t cap,
                long *reply_len)
{
    if (write_full(fd, req, len) != 0)
        return 1;
    for (;;) {
        long n = read_frame(fd, reply, cap);
        if (n < 16)
            return 1;
        int32_t rx = get_int(reply);
        if (rx == ZOO_XID_NOTIFICATION || rx == ZOO_XID_PING)
            continue;
        if (rx != xid)
            return 1;
        if (reply_len)
            *reply_len = n;
        return get_int(reply + 12);
    }
}

static void close_session(int fd)
{
    uint8_t req[12], reply[64];
    put_int(req, 8);
    put_int(req + 4, 1000000);
    put_int(req + 8, ZOO_OP_CLOSESESSION);
    (void)call(fd, 1000000, req, sizeof(req), reply, sizeof(reply), NULL);
}

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void die(const char *what)
{
    fprintf(stderr, "fill: %s\n", what);
    exit(1);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q)
        die("out of memory");
    return q;
}

/* Queues creates on c until its window is full or its range is done. */
static void refill(struct conn *c)
{
    size_t per = 64 + (size_t)O.size + PATH_MAX_L;
    while (c->outstanding < O.window && c->next < c->end) {
        if (c->out_len + per > c->out_cap) {
            if (c->out_off > 0) {
                memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
                c->out_len -= c->out_off;
                c->out_off = 0;
            }
            if (c->out_len + per > c->out_cap) {
                c->out_cap = c->out_cap * 2 + per;
                c->out = xrealloc(c->out, c->out_cap);
            }
        }
        char path[PATH_MAX_L];
        int plen = child_path(path, c->next);
        uint8_t *end =
            enc_create(c->out + c->out_len, c->next_xid++, path, (size_t)plen, (size_t)O.size);
        c->out_len = (size_t)(end - c->out);
        c->next++;
        c->outstanding++;
    }
}

static void flush(struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return;
            die("write failed (connection lost)");
        }
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
}

/* Reads what arrived and counts the replies. */
static void drain(struct conn *c)
{
    for (;;) {
        if (c->in_cap - c->in_len < 65536) {
            c->in_cap = c->in_cap * 2 + 65536;
            c->in = xrealloc(c->in, c->in_cap);
        }
        ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            die("read failed (connection lost)");
        }
        if (n == 0)
            die("the server closed a connection during the load");
        c->in_len += (size_t)n;
        if ((size_t)n < 65536)
            break;
    }
    size_t off = 0;
    while (c->in_len - off >= 4) {
        int32_t len = get_int(c->in + off);
        if (len < 16 || len > (1 << 20))
            die("malformed reply");
        if (c->in_len - off - 4 < (size_t)len)
            break;
        const uint8_t *b = c->in + off + 4;
        int32_t xid = get_int(b), err = get_int(b + 12);
        off += 4 + (size_t)len;
        if (xid == ZOO_XID_NOTIFICATION || xid == ZOO_XID_PING)
            continue;
        if (err != ZOK) {
            const char *name = zk_err_name(err);
            fprintf(stderr, "fill: create (xid %d) failed: %s (%d)\n", xid, name ? name : "?", err);
            exit(1);
        }
        c->outstanding--;
        c->done++;
    }
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
}

static int open_session(void)
{
    int fd = tcp_connect();
    if (fd < 0)
        die("cannot connect");
    struct timeval tv = {.tv_sec = 60};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (handshake(fd) != 0)
        die("session refused");
    return fd;
}

static int do_load(void)
{
    for (size_t i = 0; i < sizeof(value); i++)
        value[i] = (uint8_t)('a' + i % 26);
    long n = O.load;
    long parents = (n + O.per_parent - 1) / O.per_parent;
    int64_t t0 = mono_ns();

    /* /bench and the parents on one session, pipelined in one write. */
    int fd = open_session();
    size_t cap = (size_t)(parents + 1) * (64 + PATH_MAX_L);
    uint8_t *buf = xrealloc(NULL, cap), *p = buf;
    p = enc_create(p, 1, "/bench", 6, 0);
    for (long i = 0; i < parents; i++) {
        char path[PATH_MAX_L];
        int plen = parent_path(path, i);
        p = enc_create(p, (int32_t)(2 + i), path, (size_t)plen, 0);
    }
    if (write_full(fd, buf, (size_t)(p - buf)) != 0)
        die("write failed");
    uint8_t reply[512];
    for (long i = 0; i <= parents; i++) {
        long len = read_frame(fd, reply, sizeof(reply));
        if (len < 16)
            die("lost the connection creating the parents");
        int32_t err = get_int(reply + 12);
        if (err != ZOK && err != ZNODEEXISTS) {
            fprintf(stderr, "fill: creating a parent failed: %d\n", err);
            return 1;
        }
    }
    close_session(fd);
    close(fd);
    free(buf);
    int64_t t1 = mono_ns();

    /* The children: contiguous ranges, one per session. */
    int nc = O.conns;
    struct conn *cs = calloc((size_t)nc, sizeof(*cs));
    struct pollfd *pfd = calloc((size_t)nc, sizeof(*pfd));
    if (!cs || !pfd)
        die("out of memory");
    for (int i = 0; i < nc; i++) {
        cs[i].fd = open_session();
        cs[i].next_xid = 1;
        cs[i].next = n * i / nc;
        cs[i].end = n * (i + 1) / nc;
        set_nonblock(cs[i].fd);
    }
    int64_t t2 = mono_ns();
    long total_done = 0;
    while (total_done < n) {
        for (int i = 0; i < nc; i++) {
            struct conn *c = &cs[i];
            if (c->outstanding <= O.window / 2)
                refill(c);
            flush(c);
            pfd[i].fd = c->fd;
            pfd[i].events = (short)(POLLIN | (c->out_off < c->out_len ? POLLOUT : 0));
            pfd[i].revents = 0;
        }
        int r = poll(pfd, (nfds_t)nc, 60000);
        if (r < 0 && errno != EINTR)
            die("poll failed");
        if (r == 0)
            die("no reply for 60 s");
        total_done = 0;
        for (int i = 0; i < nc; i++) {
            if (pfd[i].revents & (POLLIN | POLLERR | POLLHUP))
                drain(&cs[i]);
            total_done += cs[i].done;
        }
    }
    int64_t t3 = mono_ns();
    long rss = -1, hwm = -1;
    if (O.server_pid > 0) {
        rss = procstat_status_kb(O.server_pid, "VmRSS");
        hwm = procstat_status_kb(O.server_pid, "VmHWM");
    }
    for (int i = 0; i < nc; i++) {
        int fl = fcntl(cs[i].fd, F_GETFL);
        fcntl(cs[i].fd, F_SETFL, fl & ~O_NONBLOCK);
        close_session(cs[i].fd);
        close(cs[i].fd);
        free(cs[i].in);
        free(cs[i].out);
    }
    free(cs);
    free(pfd);
    double s_children = (double)(t3 - t2) / 1e9;
    printf("RESULT znodes=%ld parents=%ld size=%d conns=%d window=%d parents_s=%.3f "
           "children_s=%.3f total_s=%.3f creates_per_s=%.0f",
           n, parents, O.size, nc, O.window, (double)(t1 - t0) / 1e9, s_children,
           (double)(mono_ns() - t0) / 1e9, (double)n / s_children);
    if (O.server_pid > 0)
        printf(" server_rss_kb=%ld server_hwm_kb=%ld", rss, hwm);
    printf("\n");
    return 0;
}

/* Asks `srvr` (in both servers' default 4lw whitelist) whether the server
 * serves: 1 if the reply shows a Zxid, 0 if not yet, -1 if nothing listens.
 * A cheap first check: a session opened while Apache ZooKeeper is still
 * loading costs it a logged exception per attempt, a 4lw does not. */
static int srvr_once(void)
{
    int fd = tcp_connect();
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_usec = 500000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    int rc = 0;
    if (write_full(fd, (const uint8_t *)"srvr", 4) == 0) {
        char buf[4096];
        size_t got = 0;
        for (;;) {
            ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            got += (size_t)n;
            if (got == sizeof(buf) - 1)
                break;
        }
        buf[got] = 0;
        rc = strstr(buf, "Zxid:") != NULL;
    }
    close(fd);
    return rc;
}

/* One attempt: connect, handshake, getData(path). Returns the data length, or
 * -1 if the server is not serving yet, or -2 if the node is missing. */
static long probe_once(const char *path)
{
    int fd = tcp_connect();
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    long result = -1;
    if (handshake(fd) == 0) {
        uint8_t req[128], *p = req + 4;
        p = put_int(p, 1);
        p = put_int(p, ZOO_OP_GETDATA);
        p = put_bytes(p, path, strlen(path));
        *p++ = 0; /* no watch */
        put_int(req, (int32_t)(p - req - 4));
        static uint8_t reply[1 << 21];
        long len = 0;
        int err = call(fd, 1, req, (size_t)(p - req), reply, sizeof(reply), &len);
        if (err == ZOK && len >= 20)
            result = get_int(reply + 16);
        else if (err == ZNONODE)
            result = -2;
        if (err != 1)
            close_session(fd);
    }
    close(fd);
    return result;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static int do_probe(void)
{
    int64_t start = O.since_ns > 0 ? O.since_ns : real_ns();
    int64_t deadline = mono_ns() + (int64_t)(O.timeout_s * 1e9);
    long attempts = 0, refused = 0;
    for (;;) {
        if (mono_ns() > deadline) {
            fprintf(stderr, "fill: not serving after %.0f s\n", O.timeout_s);
            return 1;
        }
        attempts++;
        int s = srvr_once();
        if (s < 0) { /* not listening yet: cheap to retry often */
            refused++;
            sleep_ms(1);
            continue;
        }
        if (s == 0) {
            sleep_ms(5);
            continue;
        }
        long r = probe_once(O.probe_path);
        int64_t now = real_ns();
        if (r >= 0) {
            printf("RESULT serving_ms=%.1f attempts=%ld refused=%ld data_len=%ld\n",
                   (double)(now - start) / 1e6, attempts, refused, r);
            return 0;
        }
        if (r == -2) {
            fprintf(stderr, "fill: the server serves but %s does not exist\n", O.probe_path);
            printf("RESULT serving_ms=%.1f attempts=%ld refused=%ld data_len=-1\n",
                   (double)(now - start) / 1e6, attempts, refused);
            return 1;
        }
        sleep_ms(5);
    }
}

static int do_count(void)
{
    int fd = open_session();
    uint8_t req[128], *p = req + 4;
    p = put_int(p, 1);
    p = put_int(p, ZOO_OP_GETALLCHILDRENNUMBER);
    p = put_bytes(p, O.count_path, strlen(O.count_path));
    put_int(req, (int32_t)(p - req - 4));
    uint8_t reply[256];
    long len = 0;
    int err = call(fd, 1, req, (size_t)(p - req), reply, sizeof(reply), &len);
    if (err != ZOK || len < 20) {
        fprintf(stderr, "fill: getAllChildrenNumber %s failed: %d\n", O.count_path, err);
        return 1;
    }
    printf("RESULT count=%d\n", get_int(reply + 16));
    close_session(fd);
    close(fd);
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: fill --host IP:PORT --load N [--per-parent K] [--size B] [--conns C]\n"
               "            [--window W] [--server-pid PID]\n"
               "       fill --host IP:PORT --probe PATH [--since-ns T] [--timeout S]\n"
               "       fill --host IP:PORT --count PATH\n"
               "       fill --path-of I [--per-parent K]\n"
               "defaults: --per-parent 1000 --size 100 --conns 4 --window 1000 --timeout 300\n");
}

int main(int argc, char **argv)
{
    O = (struct opts){.per_parent = 1000,
                      .size = 100,
                      .conns = 4,
                      .window = 1000,
                      .path_of = -1,
                      .timeout_s = 300};
    bool has_host = false;
    static const struct option lo[] = {{"host", required_argument, NULL, 'h'},
                                       {"load", required_argument, NULL, 'l'},
                                       {"per-parent", required_argument, NULL, 'k'},
                                       {"size", required_argument, NULL, 's'},
                                       {"conns", required_argument, NULL, 'c'},
                                       {"window", required_argument, NULL, 'w'},
                                       {"server-pid", required_argument, NULL, 'p'},
                                       {"probe", required_argument, NULL, 'P'},
                                       {"since-ns", required_argument, NULL, 'T'},
                                       {"timeout", required_argument, NULL, 't'},
                                       {"count", required_argument, NULL, 'C'},
                                       {"path-of", required_argument, NULL, 'o'},
                                       {"help", no_argument, NULL, '?'},
                                       {NULL, 0, NULL, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'h': {
            const char *colon = strrchr(optarg, ':');
            if (!colon || (size_t)(colon - optarg) >= sizeof(O.host)) {
                usage(stderr);
                return 2;
            }
            memcpy(O.host, optarg, (size_t)(colon - optarg));
            O.host[colon - optarg] = 0;
            O.port = atoi(colon + 1);
            has_host = true;
            break;
        }
        case 'l':
            O.load = atol(optarg);
            break;
        case 'k':
            O.per_parent = atoi(optarg);
            break;
        case 's':
            O.size = atoi(optarg);
            break;
        case 'c':
            O.conns = atoi(optarg);
            break;
        case 'w':
            O.window = atoi(optarg);
            break;
        case 'p':
            O.server_pid = atoi(optarg);
            break;
        case 'P':
            O.probe_path = optarg;
            break;
        case 'T':
            O.since_ns = strtoll(optarg, NULL, 10);
            break;
        case 't':
            O.timeout_s = atof(optarg);
            break;
        case 'C':
            O.count_path = optarg;
            break;
        case 'o':
            O.path_of = atol(optarg);
            break;
        default:
            usage(ch == '?' ? stdout : stderr);
            return 2;
        }
    }
    if (O.per_parent < 1 || O.size < 0 || O.size > (int)sizeof(value) || O.conns < 1 ||
        O.conns > MAX_CONNS || O.window < 1 || optind != argc) {
        usage(stderr);
        return 2;
    }
    if (O.path_of >= 0) {
        char path[PATH_MAX_L];
        child_path(path, O.path_of);
        printf("%s\n", path);
        return 0;
    }
    if (!has_host) {
        usage(stderr);
        return 2;
    }
    if (O.load > 0) {
        if (O.load / O.per_parent > 999999) {
            usage(stderr);
            return 2;
        }
        return do_load();
    }
    if (O.probe_path)
        return do_probe();
    if (O.count_path)
        return do_count();
    usage(stderr);
    return 2;
}
