/*
 * Integration test with the official ZooKeeper C client (libzookeeper_mt,
 * Debian libzookeeper-mt-dev 3.8) against one standalone server.
 *
 *   test_basic <host:port>
 *
 * Run through tests/integration/run_cclient.sh, which starts the server with
 * tickTime=500 (so sessions negotiate between 2*tick = 1000 ms and
 * 20*tick = 10000 ms), no TTL nodes (extendedTypesEnabled off) and no super
 * user.  Every expectation here was checked against Apache ZooKeeper 3.8: if
 * an assertion fails against Apache, the assertion is wrong.
 *
 * Each failed check prints "FAIL test_basic.c:<line>: ..."; the last line
 * of output is exactly "<N> passed, <M> failed" and the exit status is
 * non-zero when M > 0.  Every wait is bounded (5 s, 10 s for the bursts) and a
 * watchdog ends the whole run after 60 s.
 *
 * The program also runs itself as a helper (argv[1] == "--hold-session"):
 * a separate process that opens a session, creates an ephemeral node, prints
 * its session id and password and then waits to be killed with SIGKILL, so
 * the session outlives the process without being closed.  That gives the
 * main process a live session to resume with zookeeper_init(..., clientid)
 * and one to watch expire.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* the synchronous API is declared only for the threaded library */
#ifndef THREADED
#define THREADED
#endif
#include <zookeeper.h>

extern char **environ;

#define WAIT_MS       5000  /* bound for every single wait */
#define BURST_WAIT_MS 10000 /* bound for a whole pipelined burst */
#define RUN_LIMIT_S   60    /* watchdog for the whole run */
#define SESSION_MS    4000  /* requested session timeout of normal handles */

/* digest ids: user:base64(sha1("user:password")) */
#define USER1_AUTH "user1:pw1"
#define USER1_ID   "user1:GMJqCvSAmNfv41XqBotWHO0HsNc="
#define USER2_AUTH "user2:pw2"

/* ------------------------------------------------------------------ checks */

static atomic_int g_passed, g_failed;
static const char *g_host;
static char g_root[64]; /* "/cclient-<pid>" */

static void check_fail(int line, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check_fail(int line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    atomic_fetch_add(&g_failed, 1);
    printf("FAIL test_basic.c:%d: %s\n", line, msg);
    fflush(stdout);
}

static void pass(void)
{
    atomic_fetch_add(&g_passed, 1);
}

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond)                                                                                  \
            pass();                                                                                \
        else                                                                                       \
            check_fail(__LINE__, "%s", #cond);                                                     \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
    do {                                                                                           \
        if (cond)                                                                                  \
            pass();                                                                                \
        else                                                                                       \
            check_fail(__LINE__, __VA_ARGS__);                                                     \
    } while (0)

#define CHECK_RC(got, want)                                                                        \
    do {                                                                                           \
        int got_ = (got), want_ = (want);                                                          \
        if (got_ == want_)                                                                         \
            pass();                                                                                \
        else                                                                                       \
            check_fail(__LINE__, "%s: rc %d (%s), want %d (%s)", #got, got_, zerror(got_), want_,  \
                       zerror(want_));                                                             \
    } while (0)

#define CHECK_EQ(got, want)                                                                        \
    do {                                                                                           \
        long long got_ = (long long)(got), want_ = (long long)(want);                              \
        if (got_ == want_)                                                                         \
            pass();                                                                                \
        else                                                                                       \
            check_fail(__LINE__, "%s == %lld, want %s == %lld", #got, got_, #want, want_);         \
    } while (0)

#define CHECK_STR(got, want)                                                                       \
    do {                                                                                           \
        const char *got_ = (got), *want_ = (want);                                                 \
        if (got_ && want_ && strcmp(got_, want_) == 0)                                             \
            pass();                                                                                \
        else                                                                                       \
            check_fail(__LINE__, "%s == \"%s\", want \"%s\"", #got, got_ ? got_ : "(null)",        \
                       want_ ? want_ : "(null)");                                                  \
    } while (0)

/* Sections print a header so a failure can be placed quickly. */
static void section(const char *name)
{
    printf("== %s\n", name);
    fflush(stdout);
}

static void print_summary_and_exit_from_watchdog(void)
{
    char buf[160];
    int n = snprintf(buf, sizeof buf,
                     "FAIL test_basic.c: watchdog: run exceeded %d s\n"
                     "%d passed, %d failed\n",
                     RUN_LIMIT_S, atomic_load(&g_passed), atomic_load(&g_failed) + 1);
    if (write(STDOUT_FILENO, buf, (size_t)n) < 0) { /* nothing to do */
    }
    _exit(1);
}

static void *watchdog_main(void *arg)
{
    (void)arg;
    struct timespec ts = {RUN_LIMIT_S, 0};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
    print_summary_and_exit_from_watchdog();
    return NULL;
}

/* ------------------------------------------------------------------ time */

static int64_t now_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* One lock and one condition variable for everything the client's threads
 * report to the main thread (events, completions, session states). */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv;

static void deadline_ts(struct timespec *ts, int64_t deadline_ms)
{
    ts->tv_sec = deadline_ms / 1000;
    ts->tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
}

/* Wait on g_cv (g_mu held) until deadline; returns 0 on timeout. */
static int cv_wait_until(int64_t deadline_ms)
{
    if (now_mono_ms() >= deadline_ms)
        return 0;
    struct timespec ts;
    deadline_ts(&ts, deadline_ms);
    pthread_cond_timedwait(&g_cv, &g_mu, &ts);
    return 1;
}

/* ------------------------------------------------------------------ events */

typedef struct {
    int type;
    int state;
    char path[256];
    const void *ctx;
} event_t;

#define MAXEV 512
static event_t g_events[MAXEV];
static int g_nevents;
static int g_session_events_to_watchers; /* session events seen by watch objects */

static void push_event(int type, int state, const char *path, const void *ctx)
{
    pthread_mutex_lock(&g_mu);
    if (g_nevents < MAXEV) {
        event_t *e = &g_events[g_nevents++];
        e->type = type;
        e->state = state;
        snprintf(e->path, sizeof e->path, "%s", path ? path : "");
        e->ctx = ctx;
    }
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

/* Watcher for watch objects (zoo_wget & co): ctx identifies the watch. The C
 * client also hands session events (disconnects) to every registered watch
 * object; those are counted, not queued. */
static void obj_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    (void)zh;
    if (type == ZOO_SESSION_EVENT) {
        pthread_mutex_lock(&g_mu);
        g_session_events_to_watchers++;
        pthread_mutex_unlock(&g_mu);
        return;
    }
    push_event(type, state, path, ctx);
}

/* Remove and return (in *out) the oldest event with this ctx; 0 on timeout. */
static int take_event(const void *ctx, int timeout_ms, event_t *out)
{
    int64_t deadline = now_mono_ms() + timeout_ms;
    int found = 0;
    pthread_mutex_lock(&g_mu);
    for (;;) {
        for (int i = 0; i < g_nevents; i++) {
            if (g_events[i].ctx == ctx) {
                *out = g_events[i];
                memmove(&g_events[i], &g_events[i + 1],
                        (size_t)(g_nevents - i - 1) * sizeof(event_t));
                g_nevents--;
                found = 1;
                break;
            }
        }
        if (found || !cv_wait_until(deadline))
            break;
    }
    pthread_mutex_unlock(&g_mu);
    return found;
}

static const char *event_name(int type)
{
    if (type == ZOO_CREATED_EVENT)
        return "CREATED";
    if (type == ZOO_DELETED_EVENT)
        return "DELETED";
    if (type == ZOO_CHANGED_EVENT)
        return "CHANGED";
    if (type == ZOO_CHILD_EVENT)
        return "CHILD";
    if (type == ZOO_SESSION_EVENT)
        return "SESSION";
    if (type == ZOO_NOTWATCHING_EVENT)
        return "NOTWATCHING";
    return "?";
}

/* Expect exactly one event of `type` on `path` for ctx within WAIT_MS. */
#define EXPECT_EVENT(ctx, type, path) expect_event(__LINE__, ctx, type, path)
static void expect_event(int line, const void *ctx, int type, const char *path)
{
    event_t e;
    if (!take_event(ctx, WAIT_MS, &e)) {
        check_fail(line, "no %s event for %s within %d ms", event_name(type), path, WAIT_MS);
        return;
    }
    if (e.type != type || strcmp(e.path, path) != 0 || e.state != ZOO_CONNECTED_STATE) {
        check_fail(line, "event %s path \"%s\" state %d, want %s \"%s\" state %d",
                   event_name(e.type), e.path, e.state, event_name(type), path,
                   ZOO_CONNECTED_STATE);
        return;
    }
    pass();
}

/* Expect no event for ctx within ms (one-shot watches, non-triggers). */
#define EXPECT_NO_EVENT(ctx, ms) expect_no_event(__LINE__, ctx, ms)
static void expect_no_event(int line, const void *ctx, int ms)
{
    event_t e;
    if (take_event(ctx, ms, &e))
        check_fail(line, "unexpected %s event on \"%s\"", event_name(e.type), e.path);
    else
        pass();
}

/* ------------------------------------------------------------------ handles */

typedef struct {
    zhandle_t *zh;
    int state; /* last session state seen by the default watcher */
    int nstates;
} conn_t;

static void conn_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    (void)zh;
    conn_t *c = ctx;
    if (type == ZOO_SESSION_EVENT) {
        pthread_mutex_lock(&g_mu);
        c->state = state;
        c->nstates++;
        pthread_cond_broadcast(&g_cv);
        pthread_mutex_unlock(&g_mu);
        return;
    }
    push_event(type, state, path, c); /* default-watcher event: ctx = conn */
}

/* Wait until the default watcher reported `state`; returns 1 if it did. */
static int conn_wait_state(conn_t *c, int state, int timeout_ms)
{
    int64_t deadline = now_mono_ms() + timeout_ms;
    int ok;
    pthread_mutex_lock(&g_mu);
    while (!(ok = (c->state == state)) && cv_wait_until(deadline)) {
    }
    pthread_mutex_unlock(&g_mu);
    return ok;
}

static conn_t *conn_new(const clientid_t *cid, int session_ms)
{
    conn_t *c = calloc(1, sizeof *c);
    c->zh = zookeeper_init(g_host, conn_watcher, session_ms, cid, c, 0);
    return c;
}

/* Open a handle and wait until it is connected; NULL (and a failed check) if
 * it did not connect within WAIT_MS. */
#define CONNECT(cid, ms) connect_at(__LINE__, cid, ms)
static conn_t *connect_at(int line, const clientid_t *cid, int session_ms)
{
    conn_t *c = conn_new(cid, session_ms);
    if (!c->zh) {
        check_fail(line, "zookeeper_init failed: errno %d", errno);
        free(c);
        return NULL;
    }
    if (!conn_wait_state(c, ZOO_CONNECTED_STATE, WAIT_MS)) {
        check_fail(line, "not connected to %s within %d ms (state %d)", g_host, WAIT_MS, c->state);
        zookeeper_close(c->zh);
        free(c);
        return NULL;
    }
    pass();
    return c;
}

static void conn_close(conn_t *c)
{
    if (!c)
        return;
    zookeeper_close(c->zh);
    free(c);
}

/* ------------------------------------------------------------------ async helpers */

typedef struct {
    int done;
    int rc;
    char value[256];
} result_t;

static void void_cb(int rc, const void *data)
{
    result_t *r = (result_t *)data;
    pthread_mutex_lock(&g_mu);
    r->rc = rc;
    r->done = 1;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

static void string_cb(int rc, const char *value, const void *data)
{
    result_t *r = (result_t *)data;
    pthread_mutex_lock(&g_mu);
    r->rc = rc;
    snprintf(r->value, sizeof r->value, "%s", value ? value : "");
    r->done = 1;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

/* Wait for a result_t; returns its rc, or ZOPERATIONTIMEOUT after WAIT_MS. */
static int wait_result(result_t *r)
{
    int64_t deadline = now_mono_ms() + WAIT_MS;
    pthread_mutex_lock(&g_mu);
    while (!r->done && cv_wait_until(deadline)) {
    }
    int rc = r->done ? r->rc : ZOPERATIONTIMEOUT;
    pthread_mutex_unlock(&g_mu);
    return rc;
}

static int add_auth_sync(conn_t *c, const char *scheme, const char *cred)
{
    result_t r = {0};
    int rc = zoo_add_auth(c->zh, scheme, cred, (int)strlen(cred), void_cb, &r);
    if (rc != ZOK)
        return rc;
    return wait_result(&r);
}

/* ------------------------------------------------------------------ small helpers */

static char *P(const char *suffix) /* path under the test root; static ring */
{
    static char bufs[16][256];
    static int next;
    char *b = bufs[next++ % 16];
    snprintf(b, 256, "%s%s", g_root, suffix);
    return b;
}

static int create_simple(conn_t *c, const char *path, const char *data, int mode)
{
    return zoo_create(c->zh, path, data, data ? (int)strlen(data) : -1, &ZOO_OPEN_ACL_UNSAFE, mode,
                      NULL, 0);
}

static int stat_eq(const struct Stat *a, const struct Stat *b)
{ /* field by field: struct Stat has padding */
    return a->czxid == b->czxid && a->mzxid == b->mzxid && a->ctime == b->ctime &&
           a->mtime == b->mtime && a->version == b->version && a->cversion == b->cversion &&
           a->aversion == b->aversion && a->ephemeralOwner == b->ephemeralOwner &&
           a->dataLength == b->dataLength && a->numChildren == b->numChildren &&
           a->pzxid == b->pzxid;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted, comma-joined children (the server does not promise an order). */
static void join_sorted(struct String_vector *v, char *out, size_t n)
{
    qsort(v->data, (size_t)v->count, sizeof(char *), cmp_str);
    out[0] = 0;
    size_t len = 0;
    for (int i = 0; i < v->count; i++)
        len += (size_t)snprintf(out + len, len < n ? n - len : 0, "%s%s", i ? "," : "", v->data[i]);
}

static int get_string(conn_t *c, const char *path, char *buf, int cap, struct Stat *st)
{
    int len = cap - 1;
    int rc = zoo_get(c->zh, path, 0, buf, &len, st);
    buf[rc == ZOK && len >= 0 ? len : 0] = 0;
    return rc;
}

/* Delete path and everything under it (cleanup; best effort). */
static void delete_tree(conn_t *c, const char *path)
{
    struct String_vector v = {0};
    if (zoo_get_children(c->zh, path, 0, &v) == ZOK) {
        for (int i = 0; i < v.count; i++) {
            char child[512];
            snprintf(child, sizeof child, "%s/%s", path, v.data[i]);
            delete_tree(c, child);
        }
        deallocate_String_vector(&v);
    }
    zoo_delete(c->zh, path, -1);
}

/* ------------------------------------------------------------------ helper process */

typedef struct {
    pid_t pid;
    int out_fd; /* its stdout */
    int in_fd;  /* its stdin: EOF tells it to go */
    clientid_t cid;
} helper_t;

/* Child side: connect, create the ephemeral, print "<sid hex> <passwd hex>"
 * and wait for stdin to close (or SIGKILL) without closing the session. */
static int helper_main(const char *host, const char *path, int session_ms)
{
    alarm(RUN_LIMIT_S);
    g_host = host;
    conn_t *c = conn_new(NULL, session_ms);
    if (!c->zh || !conn_wait_state(c, ZOO_CONNECTED_STATE, WAIT_MS))
        return 3;
    if (create_simple(c, path, "held", ZOO_EPHEMERAL) != ZOK)
        return 4;
    const clientid_t *id = zoo_client_id(c->zh);
    printf("%016" PRIx64 " ", (uint64_t)id->client_id);
    for (int i = 0; i < 16; i++)
        printf("%02x", (unsigned char)id->passwd[i]);
    printf("\n");
    fflush(stdout);
    char b;
    while (read(STDIN_FILENO, &b, 1) > 0) {
    }
    _exit(0); /* no zookeeper_close: the session stays until it expires */
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* Start a helper holding an ephemeral at path; 0 on success. */
static int helper_start(helper_t *h, const char *path, int session_ms)
{
    int out[2], in[2];
    memset(h, 0, sizeof *h);
    if (pipe(out) != 0 || pipe(in) != 0)
        return -1;
    char ms[16];
    snprintf(ms, sizeof ms, "%d", session_ms);
    char *argv[] = {"test_basic", "--hold-session", (char *)g_host, (char *)path, ms, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    int rc = posix_spawn(&h->pid, "/proc/self/exe", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    close(in[0]);
    h->out_fd = out[0];
    h->in_fd = in[1];
    if (rc != 0) {
        h->pid = 0;
        return -1;
    }
    char line[128];
    size_t len = 0;
    int64_t deadline = now_mono_ms() + WAIT_MS;
    while (len < sizeof line - 1 && (len == 0 || line[len - 1] != '\n')) {
        int left = (int)(deadline - now_mono_ms());
        struct pollfd pfd = {h->out_fd, POLLIN, 0};
        if (left <= 0 || poll(&pfd, 1, left) <= 0)
            return -1;
        ssize_t n = read(h->out_fd, line + len, sizeof line - 1 - len);
        if (n <= 0)
            return -1;
        len += (size_t)n;
    }
    line[len] = 0;
    uint64_t sid;
    char pw[40];
    if (sscanf(line, "%" SCNx64 " %32s", &sid, pw) != 2 || strlen(pw) != 32)
        return -1;
    h->cid.client_id = (int64_t)sid;
    for (int i = 0; i < 16; i++)
        h->cid.passwd[i] = (char)(hexval(pw[2 * i]) * 16 + hexval(pw[2 * i + 1]));
    return 0;
}

/* SIGKILL the helper: its session is left open on the server. */
static void helper_kill(helper_t *h)
{
    if (h->pid > 0) {
        kill(h->pid, SIGKILL);
        waitpid(h->pid, NULL, 0);
        h->pid = 0;
    }
    if (h->out_fd > 0)
        close(h->out_fd);
    if (h->in_fd > 0)
        close(h->in_fd);
    h->out_fd = h->in_fd = -1;
}

/* ================================================================== tests */

static void test_connect(conn_t *c)
{
    section("connect and session timeout negotiation");
    const clientid_t *id = zoo_client_id(c->zh);
    CHECK(id->client_id != 0);
    int nonzero = 0;
    for (int i = 0; i < 16; i++)
        nonzero |= id->passwd[i];
    CHECK(nonzero);
    CHECK_EQ(zoo_state(c->zh), ZOO_CONNECTED_STATE);
    /* requested 4000 lies within [2*tick, 20*tick]: granted as asked */
    CHECK_EQ(zoo_recv_timeout(c->zh), SESSION_MS);

    conn_t *hi = CONNECT(NULL, 100000); /* clamped to maxSessionTimeout */
    if (hi) {
        CHECK_EQ(zoo_recv_timeout(hi->zh), 10000);
        CHECK(zoo_client_id(hi->zh)->client_id != id->client_id);
        conn_close(hi);
    }
    conn_t *lo = CONNECT(NULL, 100); /* raised to minSessionTimeout */
    if (lo) {
        CHECK_EQ(zoo_recv_timeout(lo->zh), 1000);
        conn_close(lo);
    }
}

static void test_builtin_nodes(conn_t *c)
{
    section("built-in nodes");
    struct Stat st;
    CHECK_RC(zoo_exists(c->zh, "/", 0, &st), ZOK);
    CHECK_RC(zoo_exists(c->zh, "/zookeeper", 0, &st), ZOK);
    struct String_vector v = {0};
    CHECK_RC(zoo_get_children(c->zh, "/zookeeper", 0, &v), ZOK);
    char joined[256];
    join_sorted(&v, joined, sizeof joined);
    CHECK_STR(joined, "config,quota");
    deallocate_String_vector(&v);
    CHECK_RC(zoo_exists(c->zh, "/zookeeper/quota", 0, &st), ZOK);
    /* root's own stat: never modified, so version 0 and czxid 0 */
    CHECK_RC(zoo_exists(c->zh, "/", 0, &st), ZOK);
    CHECK_EQ(st.czxid, 0);
    CHECK_EQ(st.version, 0);
    CHECK_EQ(st.ephemeralOwner, 0);
}

static void test_crud(conn_t *c)
{
    section("create / get / set / exists / delete");
    char pathbuf[256];
    struct Stat st, st2;
    int64_t t0 = now_wall_ms();

    CHECK_RC(zoo_create2(c->zh, g_root, "root", 4, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, pathbuf,
                         sizeof pathbuf, &st),
             ZOK);
    CHECK_STR(pathbuf, g_root);
    CHECK_EQ(st.version, 0);
    CHECK_EQ(st.cversion, 0);
    CHECK_EQ(st.aversion, 0);
    CHECK_EQ(st.dataLength, 4);
    CHECK_EQ(st.numChildren, 0);
    CHECK_EQ(st.ephemeralOwner, 0);
    CHECK(st.czxid > 0);
    CHECK_EQ(st.mzxid, st.czxid);
    CHECK_EQ(st.pzxid, st.czxid);
    CHECK_EQ(st.mtime, st.ctime);
    CHECK_MSG(st.ctime >= t0 - 60000 && st.ctime <= now_wall_ms() + 60000,
              "ctime %lld not near now %lld", (long long)st.ctime, (long long)t0);

    /* the same create again, a missing parent, a bad path */
    CHECK_RC(
        zoo_create2(c->zh, g_root, "x", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0, &st2),
        ZNODEEXISTS);
    CHECK_RC(create_simple(c, P("/missing/child"), "x", ZOO_PERSISTENT), ZNONODE);
    CHECK_RC(create_simple(c, "no-slash", "x", ZOO_PERSISTENT), ZBADARGUMENTS);
    CHECK_RC(create_simple(c, P("/trailing/"), "x", ZOO_PERSISTENT), ZBADARGUMENTS);
    CHECK_RC(create_simple(c, P("/a//b"), "x", ZOO_PERSISTENT), ZBADARGUMENTS);
    CHECK_RC(create_simple(c, P("/."), "x", ZOO_PERSISTENT), ZBADARGUMENTS);
    /* control characters are refused by the server, not the C client */
    CHECK_RC(create_simple(c, P("/bad\001name"), "x", ZOO_PERSISTENT), ZBADARGUMENTS);

    /* get returns the data and the same stat as create */
    char buf[64];
    CHECK_RC(get_string(c, g_root, buf, sizeof buf, &st2), ZOK);
    CHECK_STR(buf, "root");
    CHECK(stat_eq(&st, &st2));

    /* exists */
    CHECK_RC(zoo_exists(c->zh, g_root, 0, &st2), ZOK);
    CHECK_EQ(st2.mzxid, st.mzxid);
    CHECK_RC(zoo_exists(c->zh, P("/nope"), 0, &st2), ZNONODE);
    CHECK_RC(zoo_get(c->zh, P("/nope"), 0, buf, &(int){sizeof buf}, &st2), ZNONODE);

    /* set with the right, a stale and no version */
    struct Stat s1, s2;
    CHECK_RC(zoo_set2(c->zh, g_root, "hello", 5, 0, &s1), ZOK);
    CHECK_EQ(s1.version, 1);
    CHECK(s1.mzxid > st.mzxid);
    CHECK_EQ(s1.czxid, st.czxid);
    CHECK(s1.mtime >= st.ctime);
    CHECK_EQ(s1.dataLength, 5);
    CHECK_RC(zoo_set2(c->zh, g_root, "stale", 5, 0, &s2), ZBADVERSION);
    CHECK_RC(zoo_set2(c->zh, g_root, "any", 3, -1, &s2), ZOK);
    CHECK_EQ(s2.version, 2);
    CHECK_RC(zoo_set(c->zh, P("/nope"), "x", 1, -1), ZNONODE);
    CHECK_RC(get_string(c, g_root, buf, sizeof buf, &st2), ZOK);
    CHECK_STR(buf, "any");
    CHECK_EQ(st2.version, 2);

    /* null data vs empty data */
    int len = sizeof buf;
    CHECK_RC(zoo_create2(c->zh, P("/null"), NULL, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0,
                         &st2),
             ZOK);
    CHECK_EQ(st2.dataLength, 0);
    CHECK_RC(zoo_get(c->zh, P("/null"), 0, buf, &len, &st2), ZOK);
    CHECK_EQ(len, -1);
    len = sizeof buf;
    CHECK_RC(zoo_create(c->zh, P("/empty"), "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0),
             ZOK);
    CHECK_RC(zoo_get(c->zh, P("/empty"), 0, buf, &len, &st2), ZOK);
    CHECK_EQ(len, 0);
    /* setting null data */
    CHECK_RC(zoo_set2(c->zh, P("/empty"), NULL, -1, -1, &st2), ZOK);
    CHECK_EQ(st2.dataLength, 0);
    CHECK_EQ(st2.version, 1);

    /* a buffer shorter than the data: the C client truncates */
    CHECK_RC(zoo_set(c->zh, P("/empty"), "0123456789", 10, -1), ZOK);
    len = 4;
    CHECK_RC(zoo_get(c->zh, P("/empty"), 0, buf, &len, &st2), ZOK);
    CHECK_EQ(len, 4);
    CHECK(memcmp(buf, "0123", 4) == 0);
    CHECK_EQ(st2.dataLength, 10);

    /* children and the parent's cversion / pzxid / numChildren */
    CHECK_RC(create_simple(c, P("/kids"), NULL, ZOO_PERSISTENT), ZOK);
    struct Stat kid;
    const char *names[] = {"b", "a", "c"};
    for (int i = 0; i < 3; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/kids/%s", g_root, names[i]);
        CHECK_RC(
            zoo_create2(c->zh, p, names[i], 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0, &kid),
            ZOK);
    }
    struct String_vector v = {0};
    char joined[512];
    CHECK_RC(zoo_get_children2(c->zh, P("/kids"), 0, &v, &st2), ZOK);
    CHECK_EQ(v.count, 3);
    join_sorted(&v, joined, sizeof joined);
    CHECK_STR(joined, "a,b,c");
    deallocate_String_vector(&v);
    CHECK_EQ(st2.numChildren, 3);
    CHECK_EQ(st2.cversion, 3);
    CHECK_EQ(st2.version, 0);
    CHECK_EQ(st2.pzxid, kid.czxid); /* last child created */
    CHECK(st2.mzxid < kid.czxid);   /* creating children is not a data change */

    /* delete: not empty, bad version, missing, ok */
    CHECK_RC(zoo_delete(c->zh, P("/kids"), -1), ZNOTEMPTY);
    CHECK_RC(zoo_delete(c->zh, P("/kids/a"), 5), ZBADVERSION);
    CHECK_RC(zoo_delete(c->zh, P("/kids/zz"), -1), ZNONODE);
    CHECK_RC(zoo_delete(c->zh, P("/kids/a"), 0), ZOK);
    struct Stat st3;
    CHECK_RC(zoo_exists(c->zh, P("/kids"), 0, &st3), ZOK);
    CHECK_EQ(st3.numChildren, 2);
    CHECK_EQ(st3.cversion, 4);
    CHECK(st3.pzxid > st2.pzxid);
    CHECK_RC(zoo_exists(c->zh, P("/kids/a"), 0, &st3), ZNONODE);
    CHECK_RC(zoo_get_children(c->zh, P("/kids/zz"), 0, &v), ZNONODE);

    /* a leaf has an empty child list */
    CHECK_RC(zoo_get_children2(c->zh, P("/kids/b"), 0, &v, &st3), ZOK);
    CHECK_EQ(v.count, 0);
    deallocate_String_vector(&v);

    /* UTF-8 names survive the round trip */
#define UNI_NAME                                                                                   \
    "\xc3\xbc"                                                                                     \
    "n"                                                                                            \
    "\xc3\xaf"                                                                                     \
    "c"                                                                                            \
    "\xc3\xb8"                                                                                     \
    "de-"                                                                                          \
    "\xe2\x82\xac"
    const char *uni = "/kids/" UNI_NAME; /* "ünïcøde-€" */
    CHECK_RC(create_simple(c, P(uni), "u", ZOO_PERSISTENT), ZOK);
    CHECK_RC(zoo_get_children(c->zh, P("/kids"), 0, &v), ZOK);
    join_sorted(&v, joined, sizeof joined);
    CHECK_STR(joined, "b,c," UNI_NAME);
    deallocate_String_vector(&v);
}

static void test_large_data(conn_t *c, conn_t *c2)
{
    section("large data and jute.maxbuffer");
    /* 1,000,000 bytes fits in the default jute.maxbuffer (0xfffff) */
    int n = 1000 * 1000;
    char *big = malloc((size_t)n + 1);
    char *back = malloc((size_t)n + 16);
    for (int i = 0; i < n; i++)
        big[i] = (char)('a' + (i * 7 + i / 1000) % 26);
    struct Stat st;
    CHECK_RC(
        zoo_create2(c->zh, P("/big"), big, n, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0, &st),
        ZOK);
    CHECK_EQ(st.dataLength, n);
    int len = n + 16;
    CHECK_RC(zoo_get(c->zh, P("/big"), 0, back, &len, &st), ZOK);
    CHECK_EQ(len, n);
    CHECK(memcmp(big, back, (size_t)n) == 0);
    CHECK_RC(zoo_delete(c->zh, P("/big"), -1), ZOK);
    free(big);
    free(back);

    /* a request frame over jute.maxbuffer: the server drops the connection,
     * the C client reports ZCONNECTIONLOSS and reconnects the same session,
     * re-registering its watches (SetWatches) on the new connection */
    static int wd, we, wc;
    char b[8];
    int blen = sizeof b;
    struct String_vector v = {0};
    CHECK_RC(create_simple(c, P("/sw"), "x", ZOO_PERSISTENT), ZOK);
    CHECK_RC(zoo_wget(c->zh, P("/sw"), obj_watcher, &wd, b, &blen, &st), ZOK);
    CHECK_RC(zoo_wexists(c->zh, P("/sw/new"), obj_watcher, &we, &st), ZNONODE);
    CHECK_RC(zoo_wget_children(c->zh, P("/sw"), obj_watcher, &wc, &v), ZOK);
    deallocate_String_vector(&v);
    int64_t sid = zoo_client_id(c->zh)->client_id;
    n = 1100 * 1000;
    big = calloc(1, (size_t)n);
    CHECK_RC(zoo_create(c->zh, P("/toobig"), big, n, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0),
             ZCONNECTIONLOSS);
    free(big);
    CHECK_RC(zoo_exists(c->zh, P("/toobig"), 0, &st), ZNONODE);
    CHECK_EQ(zoo_state(c->zh), ZOO_CONNECTED_STATE);
    CHECK_EQ(zoo_client_id(c->zh)->client_id, sid);
    CHECK_RC(create_simple(c2, P("/sw/new"), "n", ZOO_PERSISTENT), ZOK);
    EXPECT_EVENT(&we, ZOO_CREATED_EVENT, P("/sw/new"));
    EXPECT_EVENT(&wc, ZOO_CHILD_EVENT, P("/sw"));
    CHECK_RC(zoo_set(c2->zh, P("/sw"), "y", 1, -1), ZOK);
    EXPECT_EVENT(&wd, ZOO_CHANGED_EVENT, P("/sw"));
}

static void test_ephemeral_sequential(conn_t *c)
{
    section("ephemeral, sequential, container, TTL");
    int64_t sid = zoo_client_id(c->zh)->client_id;
    struct Stat st;
    char pathbuf[256];

    CHECK_RC(
        zoo_create2(c->zh, P("/eph"), "e", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, NULL, 0, &st),
        ZOK);
    CHECK_EQ(st.ephemeralOwner, sid);
    CHECK_RC(create_simple(c, P("/eph/child"), "x", ZOO_PERSISTENT), ZNOCHILDRENFOREPHEMERALS);
    CHECK_RC(zoo_exists(c->zh, P("/eph"), 0, &st), ZOK);
    CHECK_EQ(st.ephemeralOwner, sid);

    /* The sequence suffix (%010d) is the parent's *stored* cversion, which
     * in ZooKeeper 3.8 counts child creations only (DataTree.deleteNode does
     * not touch it).  The cversion clients see in a Stat is
     * 2 * stored - numChildren (DataNode.copyStat), i.e. creations plus
     * deletions. */
    CHECK_RC(create_simple(c, P("/seq"), NULL, ZOO_PERSISTENT), ZOK);
    CHECK_RC(zoo_create(c->zh, P("/seq/n-"), "0", 1, &ZOO_OPEN_ACL_UNSAFE,
                        ZOO_PERSISTENT_SEQUENTIAL, pathbuf, sizeof pathbuf),
             ZOK);
    CHECK_STR(pathbuf, P("/seq/n-0000000000"));
    CHECK_RC(zoo_create(c->zh, P("/seq/n-"), "1", 1, &ZOO_OPEN_ACL_UNSAFE,
                        ZOO_PERSISTENT_SEQUENTIAL, pathbuf, sizeof pathbuf),
             ZOK);
    CHECK_STR(pathbuf, P("/seq/n-0000000001"));
    CHECK_RC(zoo_create2(c->zh, P("/seq/e-"), "2", 1, &ZOO_OPEN_ACL_UNSAFE,
                         ZOO_EPHEMERAL_SEQUENTIAL, pathbuf, sizeof pathbuf, &st),
             ZOK);
    CHECK_STR(pathbuf, P("/seq/e-0000000002"));
    CHECK_EQ(st.ephemeralOwner, sid);
    /* a delete bumps the visible cversion but not the sequence counter */
    CHECK_RC(zoo_delete(c->zh, P("/seq/n-0000000000"), -1), ZOK);
    CHECK_RC(zoo_exists(c->zh, P("/seq"), 0, &st), ZOK);
    CHECK_EQ(st.cversion, 4); /* stored 3, 2 children */
    CHECK_EQ(st.numChildren, 2);
    CHECK_RC(zoo_create(c->zh, P("/seq/n-"), "3", 1, &ZOO_OPEN_ACL_UNSAFE,
                        ZOO_PERSISTENT_SEQUENTIAL, pathbuf, sizeof pathbuf),
             ZOK);
    CHECK_STR(pathbuf, P("/seq/n-0000000003"));
    /* an empty prefix: the name is only the number */
    CHECK_RC(zoo_create2(c->zh, P("/seq/"), "4", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_SEQUENTIAL,
                         pathbuf, sizeof pathbuf, &st),
             ZOK);
    CHECK_STR(pathbuf, P("/seq/0000000004"));
    CHECK_RC(zoo_exists(c->zh, P("/seq"), 0, &st), ZOK);
    CHECK_EQ(st.cversion, 6); /* stored 5, 4 children */
    CHECK_EQ(st.numChildren, 4);
    /* deleting the newest child and creating again: no number is reused
     * (the counter only grows), and the visible cversion keeps counting */
    CHECK_RC(zoo_delete(c->zh, P("/seq/0000000004"), -1), ZOK);
    CHECK_RC(zoo_delete(c->zh, P("/seq/n-0000000003"), -1), ZOK);
    CHECK_RC(zoo_create(c->zh, P("/seq/n-"), "5", 1, &ZOO_OPEN_ACL_UNSAFE,
                        ZOO_PERSISTENT_SEQUENTIAL, pathbuf, sizeof pathbuf),
             ZOK);
    CHECK_STR(pathbuf, P("/seq/n-0000000005"));
    CHECK_RC(zoo_exists(c->zh, P("/seq"), 0, &st), ZOK);
    CHECK_EQ(st.cversion, 9); /* stored 6, 3 children */
    /* a short path buffer is truncated, NUL-terminated */
    char shortbuf[8];
    CHECK_RC(zoo_create(c->zh, P("/seq/s-"), "5", 1, &ZOO_OPEN_ACL_UNSAFE,
                        ZOO_PERSISTENT_SEQUENTIAL, shortbuf, sizeof shortbuf),
             ZOK);
    CHECK_EQ(strlen(shortbuf), sizeof shortbuf - 1);
    CHECK(strncmp(shortbuf, g_root, sizeof shortbuf - 1) == 0);

    /* a container: stored with the container marker as owner, but clients
     * see ephemeralOwner 0 (DataNode.copyStat hides non-session owners) */
    CHECK_RC(zoo_create2(c->zh, P("/container"), NULL, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_CONTAINER,
                         pathbuf, sizeof pathbuf, &st),
             ZOK);
    CHECK_EQ(st.ephemeralOwner, 0);
    CHECK_RC(create_simple(c, P("/container/x"), "x", ZOO_PERSISTENT), ZOK);

    /* TTL nodes need extendedTypesEnabled, which the runner leaves off */
    CHECK_RC(zoo_create2_ttl(c->zh, P("/ttl"), "t", 1, &ZOO_OPEN_ACL_UNSAFE,
                             ZOO_PERSISTENT_WITH_TTL, 10000, NULL, 0, &st),
             ZUNIMPLEMENTED);
    CHECK_RC(zoo_exists(c->zh, P("/ttl"), 0, &st), ZNONODE);

    /* ephemerals of a closed session are gone at once for everyone */
    conn_t *other = CONNECT(NULL, SESSION_MS);
    if (other) {
        int64_t osid = zoo_client_id(other->zh)->client_id;
        CHECK_RC(create_simple(other, P("/other-eph"), "o", ZOO_EPHEMERAL), ZOK);
        CHECK_RC(zoo_exists(c->zh, P("/other-eph"), 0, &st), ZOK);
        CHECK_EQ(st.ephemeralOwner, osid);
        CHECK_RC(zoo_wexists(c->zh, P("/other-eph"), obj_watcher, &osid, &st), ZOK);
        conn_close(other);
        EXPECT_EVENT(&osid, ZOO_DELETED_EVENT, P("/other-eph"));
        CHECK_RC(zoo_exists(c->zh, P("/other-eph"), 0, &st), ZNONODE);
    }
}

static void test_watches(conn_t *c, conn_t *c2)
{
    section("watches");
    static int w1, w2, w3, w4, w5, w6, w7;
    struct Stat st;
    char buf[64];
    int len;

    CHECK_RC(create_simple(c, P("/w"), "v0", ZOO_PERSISTENT), ZOK);

    /* data watch fires once on a change made by another session */
    len = sizeof buf;
    CHECK_RC(zoo_wget(c->zh, P("/w"), obj_watcher, &w1, buf, &len, &st), ZOK);
    CHECK_RC(zoo_set(c2->zh, P("/w"), "v1", 2, -1), ZOK);
    EXPECT_EVENT(&w1, ZOO_CHANGED_EVENT, P("/w"));
    CHECK_RC(zoo_set(c2->zh, P("/w"), "v2", 2, -1), ZOK);
    EXPECT_NO_EVENT(&w1, 300); /* one-shot */

    /* exists watch on a missing node fires on create */
    CHECK_RC(zoo_wexists(c->zh, P("/w/new"), obj_watcher, &w2, &st), ZNONODE);
    CHECK_RC(create_simple(c2, P("/w/new"), "n", ZOO_PERSISTENT), ZOK);
    EXPECT_EVENT(&w2, ZOO_CREATED_EVENT, P("/w/new"));
    /* exists watch on an existing node fires on a data change ... */
    CHECK_RC(zoo_wexists(c->zh, P("/w/new"), obj_watcher, &w2, &st), ZOK);
    CHECK_RC(zoo_set(c2->zh, P("/w/new"), "m", 1, -1), ZOK);
    EXPECT_EVENT(&w2, ZOO_CHANGED_EVENT, P("/w/new"));
    /* ... and on delete */
    CHECK_RC(zoo_wexists(c->zh, P("/w/new"), obj_watcher, &w2, &st), ZOK);
    CHECK_RC(zoo_delete(c2->zh, P("/w/new"), -1), ZOK);
    EXPECT_EVENT(&w2, ZOO_DELETED_EVENT, P("/w/new"));
    CHECK_RC(create_simple(c2, P("/w/new"), "n", ZOO_PERSISTENT), ZOK);
    EXPECT_NO_EVENT(&w2, 300);

    /* child watch: fires on create and delete of a child, not on data */
    struct String_vector v = {0};
    CHECK_RC(zoo_wget_children(c->zh, P("/w"), obj_watcher, &w3, &v), ZOK);
    CHECK_EQ(v.count, 1);
    deallocate_String_vector(&v);
    CHECK_RC(zoo_set(c2->zh, P("/w"), "v3", 2, -1), ZOK);
    CHECK_RC(zoo_set(c2->zh, P("/w/new"), "v3", 2, -1), ZOK);
    EXPECT_NO_EVENT(&w3, 300);
    CHECK_RC(create_simple(c2, P("/w/kid"), "k", ZOO_PERSISTENT), ZOK);
    EXPECT_EVENT(&w3, ZOO_CHILD_EVENT, P("/w"));
    CHECK_RC(zoo_wget_children2(c->zh, P("/w"), obj_watcher, &w3, &v, &st), ZOK);
    CHECK_EQ(v.count, 2);
    CHECK_EQ(st.numChildren, 2);
    deallocate_String_vector(&v);
    CHECK_RC(zoo_delete(c2->zh, P("/w/kid"), -1), ZOK);
    EXPECT_EVENT(&w3, ZOO_CHILD_EVENT, P("/w"));

    /* deleting a node fires its data and child watches with DELETED, and
     * the parent's child watch with CHILD */
    CHECK_RC(create_simple(c2, P("/w/d"), "d", ZOO_PERSISTENT), ZOK);
    len = sizeof buf;
    CHECK_RC(zoo_wget(c->zh, P("/w/d"), obj_watcher, &w4, buf, &len, &st), ZOK);
    CHECK_RC(zoo_wget_children(c->zh, P("/w/d"), obj_watcher, &w5, &v), ZOK);
    deallocate_String_vector(&v);
    CHECK_RC(zoo_wget_children(c->zh, P("/w"), obj_watcher, &w6, &v), ZOK);
    deallocate_String_vector(&v);
    CHECK_RC(zoo_delete(c2->zh, P("/w/d"), -1), ZOK);
    EXPECT_EVENT(&w4, ZOO_DELETED_EVENT, P("/w/d"));
    EXPECT_EVENT(&w5, ZOO_DELETED_EVENT, P("/w/d"));
    EXPECT_EVENT(&w6, ZOO_CHILD_EVENT, P("/w"));

    /* the default watcher (watch=1) gets events with the handle's context */
    CHECK_RC(zoo_exists(c->zh, P("/w/dflt"), 1, &st), ZNONODE);
    CHECK_RC(create_simple(c2, P("/w/dflt"), "x", ZOO_PERSISTENT), ZOK);
    EXPECT_EVENT(c, ZOO_CREATED_EVENT, P("/w/dflt"));
    len = sizeof buf;
    CHECK_RC(zoo_get(c->zh, P("/w/dflt"), 1, buf, &len, &st), ZOK);
    CHECK_RC(zoo_delete(c2->zh, P("/w/dflt"), -1), ZOK);
    EXPECT_EVENT(c, ZOO_DELETED_EVENT, P("/w/dflt"));

    /* two watch objects on one path both fire; the same object registered
     * twice fires once */
    len = sizeof buf;
    CHECK_RC(zoo_wget(c->zh, P("/w"), obj_watcher, &w1, buf, &len, &st), ZOK);
    len = sizeof buf;
    CHECK_RC(zoo_wget(c->zh, P("/w"), obj_watcher, &w1, buf, &len, &st), ZOK);
    CHECK_RC(zoo_wexists(c->zh, P("/w"), obj_watcher, &w7, &st), ZOK);
    CHECK_RC(zoo_set(c2->zh, P("/w"), "v4", 2, -1), ZOK);
    EXPECT_EVENT(&w1, ZOO_CHANGED_EVENT, P("/w"));
    EXPECT_EVENT(&w7, ZOO_CHANGED_EVENT, P("/w"));
    EXPECT_NO_EVENT(&w1, 300);
}

/* Order check: watch event before the write's own completion. */
static int g_order_ctx;
static int g_order_event_seen_at_completion = -1;
static void order_set_cb(int rc, const struct Stat *st, const void *data)
{
    (void)st;
    result_t *r = (result_t *)data;
    pthread_mutex_lock(&g_mu);
    int seen = 0;
    for (int i = 0; i < g_nevents; i++)
        seen |= g_events[i].ctx == &g_order_ctx;
    g_order_event_seen_at_completion = seen;
    r->rc = rc;
    r->done = 1;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

static void test_watch_order(conn_t *c, conn_t *c2)
{
    section("watch event precedes the triggering reply");
    struct Stat st;
    char buf[64];
    int len = sizeof buf;
    /* own write */
    CHECK_RC(zoo_wget(c->zh, P("/w"), obj_watcher, &g_order_ctx, buf, &len, &st), ZOK);
    result_t r = {0};
    CHECK_RC(zoo_aset(c->zh, P("/w"), "v6", 2, -1, order_set_cb, &r), ZOK);
    CHECK_RC(wait_result(&r), ZOK);
    CHECK_EQ(g_order_event_seen_at_completion, 1);
    EXPECT_EVENT(&g_order_ctx, ZOO_CHANGED_EVENT, P("/w"));

    /* another session's write, then a read by the watching session: the
     * event is delivered before the read's result shows the new data */
    len = sizeof buf;
    CHECK_RC(zoo_wget(c->zh, P("/w"), obj_watcher, &g_order_ctx, buf, &len, &st), ZOK);
    CHECK_RC(zoo_set(c2->zh, P("/w"), "v7", 2, -1), ZOK);
    result_t r2 = {0};
    g_order_event_seen_at_completion = -1;
    CHECK_RC(zoo_aexists(c->zh, P("/w"), 0, order_set_cb, &r2), ZOK);
    CHECK_RC(wait_result(&r2), ZOK);
    CHECK_EQ(g_order_event_seen_at_completion, 1);
    EXPECT_EVENT(&g_order_ctx, ZOO_CHANGED_EVENT, P("/w"));
}

static void test_remove_watches(conn_t *c, conn_t *c2)
{
    section("remove watches");
    static int rw1, rw2;
    struct Stat st;
    char buf[64];
    int len = sizeof buf;
    CHECK_RC(zoo_wget(c->zh, P("/w"), obj_watcher, &rw1, buf, &len, &st), ZOK);
    struct String_vector v = {0};
    CHECK_RC(zoo_wget_children(c->zh, P("/w"), obj_watcher, &rw2, &v), ZOK);
    deallocate_String_vector(&v);
    CHECK_RC(zoo_remove_watches(c->zh, P("/w"), ZWATCHTYPE_DATA, obj_watcher, &rw1, 0), ZOK);
    /* removing it again: the client itself knows there is none */
    CHECK_RC(zoo_remove_watches(c->zh, P("/w"), ZWATCHTYPE_DATA, obj_watcher, &rw1, 0), ZNOWATCHER);
    CHECK_RC(zoo_set(c2->zh, P("/w"), "v8", 2, -1), ZOK);
    CHECK_RC(create_simple(c2, P("/w/rw"), "x", ZOO_PERSISTENT), ZOK);
    EXPECT_EVENT(&rw2, ZOO_CHILD_EVENT, P("/w"));
    /* the removed watcher hears nothing: neither the change nor (unlike the
     * Java client's DataWatchRemoved) a removal event */
    EXPECT_NO_EVENT(&rw1, 300);
    event_t e;

    /* remove all watches of a path */
    len = sizeof buf;
    CHECK_RC(zoo_wget(c->zh, P("/w"), obj_watcher, &rw1, buf, &len, &st), ZOK);
    CHECK_RC(zoo_wget_children(c->zh, P("/w"), obj_watcher, &rw2, &v), ZOK);
    deallocate_String_vector(&v);
    CHECK_RC(zoo_remove_all_watches(c->zh, P("/w"), ZWATCHTYPE_ANY, 0), ZOK);
    CHECK_RC(zoo_set(c2->zh, P("/w"), "v9", 2, -1), ZOK);
    CHECK_RC(zoo_delete(c2->zh, P("/w/rw"), -1), ZOK);
    sleep_ms(300);
    int nrw1 = 0, nrw2 = 0;
    while (take_event(&rw1, 0, &e))
        nrw1 += e.type == ZOO_CHANGED_EVENT;
    while (take_event(&rw2, 0, &e))
        nrw2 += e.type == ZOO_CHILD_EVENT;
    CHECK_EQ(nrw1, 0);
    CHECK_EQ(nrw2, 0);
}

static void acl_print(const struct ACL_vector *a, char *out, size_t n)
{
    out[0] = 0;
    size_t len = 0;
    for (int i = 0; i < a->count; i++)
        len += (size_t)snprintf(out + len, len < n ? n - len : 0, "%s%s:%s:%d", i ? "," : "",
                                a->data[i].id.scheme, a->data[i].id.id, a->data[i].perms);
}

static void test_acl(conn_t *c)
{
    section("ACLs and digest auth");
    char buf[64], acls[512];
    int len;
    struct Stat st;
    struct ACL_vector acl = {0};

    /* the open ACL as the server stores it */
    CHECK_RC(create_simple(c, P("/acl"), "open", ZOO_PERSISTENT), ZOK);
    CHECK_RC(zoo_get_acl(c->zh, P("/acl"), &acl, &st), ZOK);
    acl_print(&acl, acls, sizeof acls);
    CHECK_STR(acls, "world:anyone:31");
    CHECK_EQ(st.aversion, 0);
    deallocate_ACL_vector(&acl);

    /* creator ACL without authentication is invalid; so is an empty ACL and
     * an unknown scheme */
    conn_t *a = CONNECT(NULL, SESSION_MS);
    conn_t *anon = CONNECT(NULL, SESSION_MS);
    if (!a || !anon) {
        conn_close(a);
        conn_close(anon);
        return;
    }
    CHECK_RC(
        zoo_create(a->zh, P("/acl/creator"), "x", 1, &ZOO_CREATOR_ALL_ACL, ZOO_PERSISTENT, NULL, 0),
        ZINVALIDACL);
    struct ACL_vector empty = {0, NULL};
    CHECK_RC(zoo_create(a->zh, P("/acl/empty"), "x", 1, &empty, ZOO_PERSISTENT, NULL, 0),
             ZINVALIDACL);
    struct ACL bogus_acl[] = {{ZOO_PERM_ALL, {"bogus", "x"}}};
    struct ACL_vector bogus = {1, bogus_acl};
    CHECK_RC(zoo_create(a->zh, P("/acl/bogus"), "x", 1, &bogus, ZOO_PERSISTENT, NULL, 0),
             ZINVALIDACL);

    /* digest auth, then a node only user1 may use */
    CHECK_RC(add_auth_sync(a, "digest", USER1_AUTH), ZOK);
    CHECK_RC(
        zoo_create(a->zh, P("/acl/secret"), "s", 1, &ZOO_CREATOR_ALL_ACL, ZOO_PERSISTENT, NULL, 0),
        ZOK);
    CHECK_RC(zoo_get_acl(a->zh, P("/acl/secret"), &acl, &st), ZOK);
    acl_print(&acl, acls, sizeof acls);
    CHECK_STR(acls, "digest:" USER1_ID ":31");
    deallocate_ACL_vector(&acl);
    len = sizeof buf;
    CHECK_RC(zoo_get(a->zh, P("/acl/secret"), 0, buf, &len, &st), ZOK);
    CHECK_RC(create_simple(a, P("/acl/secret/kid"), "k", ZOO_PERSISTENT), ZOK);

    /* without auth: no read, write, create or child listing; exists works,
     * and (3.8) reading the ACL needs READ or ADMIN */
    len = sizeof buf;
    CHECK_RC(zoo_get(anon->zh, P("/acl/secret"), 0, buf, &len, &st), ZNOAUTH);
    CHECK_RC(zoo_set(anon->zh, P("/acl/secret"), "x", 1, -1), ZNOAUTH);
    CHECK_RC(create_simple(anon, P("/acl/secret/x"), "x", ZOO_PERSISTENT), ZNOAUTH);
    struct String_vector v = {0};
    CHECK_RC(zoo_get_children(anon->zh, P("/acl/secret"), 0, &v), ZNOAUTH);
    CHECK_RC(zoo_exists(anon->zh, P("/acl/secret"), 0, &st), ZOK);
    CHECK_EQ(st.numChildren, 1);
    CHECK_RC(zoo_get_acl(anon->zh, P("/acl/secret"), &acl, &st), ZNOAUTH);
    CHECK_RC(zoo_set_acl(anon->zh, P("/acl/secret"), -1, &ZOO_OPEN_ACL_UNSAFE), ZNOAUTH);
    CHECK_RC(zoo_delete(anon->zh, P("/acl/secret/kid"), -1), ZNOAUTH);

    /* a wrong password is accepted as an identity but grants nothing */
    CHECK_RC(add_auth_sync(anon, "digest", "user1:wrong"), ZOK);
    len = sizeof buf;
    CHECK_RC(zoo_get(anon->zh, P("/acl/secret"), 0, buf, &len, &st), ZNOAUTH);
    CHECK_RC(add_auth_sync(anon, "digest", USER2_AUTH), ZOK);
    len = sizeof buf;
    CHECK_RC(zoo_get(anon->zh, P("/acl/secret"), 0, buf, &len, &st), ZNOAUTH);
    /* a second identity on the same connection adds to the others */
    CHECK_RC(add_auth_sync(anon, "digest", USER1_AUTH), ZOK);
    len = sizeof buf;
    CHECK_RC(get_string(anon, P("/acl/secret"), buf, sizeof buf, &st), ZOK);
    CHECK_STR(buf, "s");

    /* "auth" in an ACL expands to every identity of the creator */
    CHECK_RC(zoo_create(anon->zh, P("/acl/multi"), "m", 1, &ZOO_CREATOR_ALL_ACL, ZOO_PERSISTENT,
                        NULL, 0),
             ZOK);
    CHECK_RC(zoo_get_acl(anon->zh, P("/acl/multi"), &acl, &st), ZOK);
    CHECK_EQ(acl.count, 3);
    deallocate_ACL_vector(&acl);

    /* set_acl: versioned with aversion; READ only for the world (on a leaf,
     * so that cleanup can still delete it: DELETE is the parent's) */
    CHECK_RC(create_simple(c, P("/acl/ro"), "open", ZOO_PERSISTENT), ZOK);
    CHECK_RC(zoo_set_acl(a->zh, P("/acl/ro"), 1, &ZOO_READ_ACL_UNSAFE), ZBADVERSION);
    CHECK_RC(zoo_set_acl(a->zh, P("/acl/ro"), 0, &ZOO_READ_ACL_UNSAFE), ZOK);
    CHECK_RC(zoo_get_acl(a->zh, P("/acl/ro"), &acl, &st), ZOK);
    acl_print(&acl, acls, sizeof acls);
    CHECK_STR(acls, "world:anyone:1");
    CHECK_EQ(st.aversion, 1);
    CHECK_EQ(st.version, 0);
    deallocate_ACL_vector(&acl);
    CHECK_RC(zoo_set(a->zh, P("/acl/ro"), "x", 1, -1), ZNOAUTH);
    CHECK_RC(create_simple(a, P("/acl/ro/new"), "x", ZOO_PERSISTENT), ZNOAUTH);
    CHECK_RC(zoo_set_acl(a->zh, P("/acl/ro"), -1, &ZOO_OPEN_ACL_UNSAFE), ZNOAUTH);
    len = sizeof buf;
    CHECK_RC(get_string(a, P("/acl/ro"), buf, sizeof buf, &st), ZOK);
    CHECK_STR(buf, "open");

    /* DELETE is checked on the parent: an unauthenticated session deletes a
     * protected leaf under an open parent */
    CHECK_RC(create_simple(c, P("/acl2"), NULL, ZOO_PERSISTENT), ZOK);
    CHECK_RC(
        zoo_create(a->zh, P("/acl2/leaf"), "l", 1, &ZOO_CREATOR_ALL_ACL, ZOO_PERSISTENT, NULL, 0),
        ZOK);
    conn_t *anon2 = CONNECT(NULL, SESSION_MS);
    if (anon2) {
        len = sizeof buf;
        CHECK_RC(zoo_get(anon2->zh, P("/acl2/leaf"), 0, buf, &len, &st), ZNOAUTH);
        CHECK_RC(zoo_delete(anon2->zh, P("/acl2/leaf"), -1), ZOK);
    }

    /* ip scheme: the client's address is 127.0.0.1 */
    struct ACL ip_ok[] = {{ZOO_PERM_ALL, {"ip", "127.0.0.1"}}};
    struct ACL ip_net[] = {{ZOO_PERM_READ, {"ip", "127.0.0.0/8"}}};
    struct ACL ip_no[] = {{ZOO_PERM_ALL, {"ip", "10.1.2.3"}}};
    struct ACL_vector v_ok = {1, ip_ok}, v_net = {1, ip_net}, v_no = {1, ip_no};
    CHECK_RC(zoo_create(c->zh, P("/acl2/ip-ok"), "i", 1, &v_ok, ZOO_PERSISTENT, NULL, 0), ZOK);
    CHECK_RC(zoo_create(c->zh, P("/acl2/ip-net"), "i", 1, &v_net, ZOO_PERSISTENT, NULL, 0), ZOK);
    CHECK_RC(zoo_create(c->zh, P("/acl2/ip-no"), "i", 1, &v_no, ZOO_PERSISTENT, NULL, 0), ZOK);
    if (anon2) {
        len = sizeof buf;
        CHECK_RC(zoo_get(anon2->zh, P("/acl2/ip-ok"), 0, buf, &len, &st), ZOK);
        CHECK_RC(zoo_set(anon2->zh, P("/acl2/ip-ok"), "j", 1, -1), ZOK);
        len = sizeof buf;
        CHECK_RC(zoo_get(anon2->zh, P("/acl2/ip-net"), 0, buf, &len, &st), ZOK);
        CHECK_RC(zoo_set(anon2->zh, P("/acl2/ip-net"), "j", 1, -1), ZNOAUTH);
        len = sizeof buf;
        CHECK_RC(zoo_get(anon2->zh, P("/acl2/ip-no"), 0, buf, &len, &st), ZNOAUTH);
    }
    CHECK_RC(zoo_get_acl(c->zh, P("/acl2/ip-net"), &acl, &st), ZOK);
    acl_print(&acl, acls, sizeof acls);
    CHECK_STR(acls, "ip:127.0.0.0/8:1");
    deallocate_ACL_vector(&acl);
    conn_close(anon2);

    /* an unknown auth scheme: AUTH_FAILED, the server closes the connection
     * and the handle is dead */
    conn_t *bad = CONNECT(NULL, SESSION_MS);
    if (bad) {
        CHECK_RC(add_auth_sync(bad, "nosuchscheme", "x"), ZAUTHFAILED);
        CHECK(conn_wait_state(bad, ZOO_AUTH_FAILED_STATE, WAIT_MS));
        CHECK_EQ(zoo_state(bad->zh), ZOO_AUTH_FAILED_STATE);
        CHECK_RC(zoo_exists(bad->zh, "/", 0, &st), ZINVALIDSTATE);
        conn_close(bad);
    }
    /* the other sessions are unaffected */
    CHECK_RC(zoo_exists(a->zh, P("/acl"), 0, &st), ZOK);

    conn_close(a);
    conn_close(anon);
}

static void test_multi(conn_t *c)
{
    section("multi");
    char p1[256], p2[256];
    struct Stat st, setst;
    CHECK_RC(create_simple(c, P("/m"), "m", ZOO_PERSISTENT), ZOK);

    /* all succeed: create, create under it, set, check, delete */
    CHECK_RC(create_simple(c, P("/m/gone"), "g", ZOO_PERSISTENT), ZOK);
    zoo_op_t ops[6];
    zoo_op_result_t res[6];
    zoo_create_op_init(&ops[0], P("/m/a"), "a", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, p1,
                       sizeof p1);
    zoo_create_op_init(&ops[1], P("/m/a/s-"), "s", 1, &ZOO_OPEN_ACL_UNSAFE,
                       ZOO_PERSISTENT_SEQUENTIAL, p2, sizeof p2);
    zoo_set_op_init(&ops[2], P("/m"), "mm", 2, 0, &setst);
    zoo_check_op_init(&ops[3], P("/m"), 1);
    zoo_delete_op_init(&ops[4], P("/m/gone"), 0);
    zoo_check_op_init(&ops[5], P("/m/a"), 0);
    memset(res, 0x5a, sizeof res);
    CHECK_RC(zoo_multi(c->zh, 6, ops, res), ZOK);
    for (int i = 0; i < 6; i++)
        CHECK_MSG(res[i].err == ZOK, "op %d err %d", i, res[i].err);
    CHECK_STR(p1, P("/m/a"));
    CHECK_STR(p2, P("/m/a/s-0000000000"));
    CHECK_EQ(setst.version, 1);
    CHECK_EQ(setst.dataLength, 2);
    CHECK_RC(zoo_exists(c->zh, P("/m/gone"), 0, &st), ZNONODE);
    CHECK_RC(zoo_exists(c->zh, P("/m/a/s-0000000000"), 0, &st), ZOK);
    /* every op of one multi gets the same zxid */
    struct Stat sa;
    CHECK_RC(zoo_exists(c->zh, P("/m/a"), 0, &sa), ZOK);
    CHECK_EQ(sa.czxid, st.czxid);
    CHECK_EQ(setst.mzxid, st.czxid);

    /* one op fails: nothing applied; earlier ops report ZOK, the failing op
     * its error, later ops ZRUNTIMEINCONSISTENCY */
    zoo_create_op_init(&ops[0], P("/m/b"), "b", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, p1,
                       sizeof p1);
    zoo_set_op_init(&ops[1], P("/m"), "x", 1, -1, &setst);
    zoo_check_op_init(&ops[2], P("/m"), 7);
    zoo_create_op_init(&ops[3], P("/m/c"), "c", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, p2,
                       sizeof p2);
    CHECK_RC(zoo_multi(c->zh, 4, ops, res), ZBADVERSION);
    CHECK_RC(res[0].err, ZOK);
    CHECK_RC(res[1].err, ZOK);
    CHECK_RC(res[2].err, ZBADVERSION);
    CHECK_RC(res[3].err, ZRUNTIMEINCONSISTENCY);
    CHECK_RC(zoo_exists(c->zh, P("/m/b"), 0, &st), ZNONODE);
    CHECK_RC(zoo_exists(c->zh, P("/m"), 0, &st), ZOK);
    CHECK_EQ(st.version, 1);

    /* failures of other kinds */
    zoo_delete_op_init(&ops[0], P("/m/a"), -1); /* has a child */
    CHECK_RC(zoo_multi(c->zh, 1, ops, res), ZNOTEMPTY);
    CHECK_RC(res[0].err, ZNOTEMPTY);
    zoo_create_op_init(&ops[0], P("/m/a"), "a", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);
    CHECK_RC(zoo_multi(c->zh, 1, ops, res), ZNODEEXISTS);
    zoo_delete_op_init(&ops[0], P("/m/none"), -1);
    CHECK_RC(zoo_multi(c->zh, 1, ops, res), ZNONODE);

    /* an empty multi */
    CHECK_RC(zoo_multi(c->zh, 0, ops, res), ZOK);
}

static void test_async_misc(conn_t *c)
{
    section("async create / sync");
    result_t r = {0};
    CHECK_RC(zoo_acreate(c->zh, P("/async"), "a", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT,
                         string_cb, &r),
             ZOK);
    CHECK_RC(wait_result(&r), ZOK);
    CHECK_STR(r.value, P("/async"));
    result_t s = {0};
    CHECK_RC(zoo_async(c->zh, P("/async"), string_cb, &s), ZOK);
    CHECK_RC(wait_result(&s), ZOK);
    CHECK_STR(s.value, P("/async"));
}

/* ---- pipelined bursts */

#define BURST    1000
#define SEQBURST 200
static struct {
    int done;
    int bad_order;
    int bad_rc;
    int bad_value;
    int first_bad;
} g_burst;

static void burst_reset(void)
{
    pthread_mutex_lock(&g_mu);
    memset(&g_burst, 0, sizeof g_burst);
    g_burst.first_bad = -1;
    pthread_mutex_unlock(&g_mu);
}

static void burst_note(int idx, int rc_ok, int value_ok)
{
    pthread_mutex_lock(&g_mu);
    if (idx != g_burst.done) {
        g_burst.bad_order++;
        if (g_burst.first_bad < 0)
            g_burst.first_bad = idx;
    }
    g_burst.bad_rc += !rc_ok;
    g_burst.bad_value += !value_ok;
    g_burst.done++;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

static void burst_create_cb(int rc, const char *value, const void *data)
{
    int i = (int)(intptr_t)data;
    char want[256];
    snprintf(want, sizeof want, "%s/burst/n-%04d", g_root, i);
    burst_note(i, rc == ZOK, value && strcmp(value, want) == 0);
}

static void burst_seq_cb(int rc, const char *value, const void *data)
{
    int i = (int)(intptr_t)data;
    char want[256];
    snprintf(want, sizeof want, "%s/seqburst/s-%010d", g_root, i);
    burst_note(i, rc == ZOK, value && strcmp(value, want) == 0);
}

static void burst_get_cb(int rc, const char *value, int value_len, const struct Stat *st,
                         const void *data)
{
    int i = (int)(intptr_t)data;
    char want[32];
    int n = snprintf(want, sizeof want, "v%d", i);
    burst_note(i, rc == ZOK,
               value_len == n && value && memcmp(value, want, (size_t)n) == 0 && st &&
                   st->version == 0);
}

static void burst_delete_cb(int rc, const void *data)
{
    burst_note((int)(intptr_t)data, rc == ZOK, 1);
}

static int burst_wait(int n)
{
    int64_t deadline = now_mono_ms() + BURST_WAIT_MS;
    pthread_mutex_lock(&g_mu);
    while (g_burst.done < n && cv_wait_until(deadline)) {
    }
    int done = g_burst.done;
    pthread_mutex_unlock(&g_mu);
    return done;
}

#define CHECK_BURST(n, what)                                                                       \
    do {                                                                                           \
        int done_ = burst_wait(n);                                                                 \
        CHECK_MSG(done_ == (n), "%s: %d of %d completions within %d ms", what, done_, n,           \
                  BURST_WAIT_MS);                                                                  \
        CHECK_MSG(g_burst.bad_order == 0,                                                          \
                  "%s: %d completions out of submission order (first: #%d)", what,                 \
                  g_burst.bad_order, g_burst.first_bad);                                           \
        CHECK_MSG(g_burst.bad_rc == 0, "%s: %d completions with rc != ZOK", what, g_burst.bad_rc); \
        CHECK_MSG(g_burst.bad_value == 0, "%s: %d completions with bad value", what,               \
                  g_burst.bad_value);                                                              \
    } while (0)

static void test_bursts(conn_t *c)
{
    section("pipelined async bursts");
    CHECK_RC(create_simple(c, P("/burst"), NULL, ZOO_PERSISTENT), ZOK);
    char path[256], val[32];
    int64_t t0 = now_mono_ms();

    burst_reset();
    int submit_fail = 0;
    for (int i = 0; i < BURST; i++) {
        snprintf(path, sizeof path, "%s/burst/n-%04d", g_root, i);
        int n = snprintf(val, sizeof val, "v%d", i);
        submit_fail += zoo_acreate(c->zh, path, val, n, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT,
                                   burst_create_cb, (void *)(intptr_t)i) != ZOK;
    }
    CHECK_EQ(submit_fail, 0);
    CHECK_BURST(BURST, "acreate");
    int64_t t1 = now_mono_ms();

    struct String_vector v = {0};
    struct Stat st;
    CHECK_RC(zoo_get_children2(c->zh, P("/burst"), 0, &v, &st), ZOK);
    CHECK_EQ(v.count, BURST);
    CHECK_EQ(st.numChildren, BURST);
    CHECK_EQ(st.cversion, BURST);
    deallocate_String_vector(&v);

    burst_reset();
    for (int i = 0; i < BURST; i++) {
        snprintf(path, sizeof path, "%s/burst/n-%04d", g_root, i);
        submit_fail += zoo_aget(c->zh, path, 0, burst_get_cb, (void *)(intptr_t)i) != ZOK;
    }
    CHECK_EQ(submit_fail, 0);
    CHECK_BURST(BURST, "aget");

    /* interleaved reads and writes keep their order too */
    burst_reset();
    for (int i = 0; i < BURST; i++) {
        snprintf(path, sizeof path, "%s/burst/n-%04d", g_root, i);
        if (i % 2)
            submit_fail += zoo_aget(c->zh, path, 0, burst_get_cb, (void *)(intptr_t)i) != ZOK;
        else
            submit_fail += zoo_adelete(c->zh, path, 0, burst_delete_cb, (void *)(intptr_t)i) != ZOK;
    }
    CHECK_EQ(submit_fail, 0);
    CHECK_BURST(BURST, "adelete/aget interleaved");
    CHECK_RC(zoo_get_children2(c->zh, P("/burst"), 0, &v, &st), ZOK);
    CHECK_EQ(v.count, BURST / 2);
    deallocate_String_vector(&v);

    /* sequential creates: numbers follow submission order */
    CHECK_RC(create_simple(c, P("/seqburst"), NULL, ZOO_PERSISTENT), ZOK);
    burst_reset();
    snprintf(path, sizeof path, "%s/seqburst/s-", g_root);
    for (int i = 0; i < SEQBURST; i++)
        submit_fail += zoo_acreate(c->zh, path, "s", 1, &ZOO_OPEN_ACL_UNSAFE,
                                   i % 2 ? ZOO_EPHEMERAL_SEQUENTIAL : ZOO_PERSISTENT_SEQUENTIAL,
                                   burst_seq_cb, (void *)(intptr_t)i) != ZOK;
    CHECK_EQ(submit_fail, 0);
    CHECK_BURST(SEQBURST, "sequential acreate");
    printf("   (1000 pipelined creates took %lld ms)\n", (long long)(t1 - t0));
}

/* ---- sessions: resume with clientid_t, bad password, expiry */

static void test_sessions(conn_t *c)
{
    section("session resume with clientid, bad password, expiry");
    struct Stat st;
    helper_t h;
    /* a live session held by a killed process, resumed here */
    if (helper_start(&h, P("/held"), SESSION_MS) != 0) {
        check_fail(__LINE__, "helper process did not report a session");
        helper_kill(&h);
        return;
    }
    pass();
    clientid_t cid = h.cid;
    helper_kill(&h);
    CHECK_RC(zoo_exists(c->zh, P("/held"), 0, &st), ZOK);
    CHECK_EQ(st.ephemeralOwner, cid.client_id);

    conn_t *r = CONNECT(&cid, SESSION_MS);
    if (r) {
        CHECK_EQ(zoo_client_id(r->zh)->client_id, cid.client_id);
        CHECK(memcmp(zoo_client_id(r->zh)->passwd, cid.passwd, 16) == 0);
        CHECK_EQ(zoo_recv_timeout(r->zh), SESSION_MS);
        /* the ephemeral belongs to the resumed session */
        CHECK_RC(create_simple(r, P("/held"), "x", ZOO_EPHEMERAL), ZNODEEXISTS);
        CHECK_RC(create_simple(r, P("/held2"), "x", ZOO_EPHEMERAL), ZOK);
        CHECK_RC(zoo_exists(c->zh, P("/held2"), 0, &st), ZOK);
        CHECK_EQ(st.ephemeralOwner, cid.client_id);
        conn_close(r); /* closes the session: both ephemerals go */
        CHECK_RC(zoo_exists(c->zh, P("/held"), 0, &st), ZNONODE);
        CHECK_RC(zoo_exists(c->zh, P("/held2"), 0, &st), ZNONODE);
    }

    /* a closed session cannot be resumed */
    conn_t *x = conn_new(&cid, SESSION_MS);
    CHECK(x->zh != NULL);
    if (x->zh) {
        CHECK(conn_wait_state(x, ZOO_EXPIRED_SESSION_STATE, WAIT_MS));
        CHECK_RC(zoo_exists(x->zh, "/", 0, &st), ZINVALIDSTATE);
        zookeeper_close(x->zh);
    }
    free(x);

    /* a live session with a wrong password: expired, and the session itself
     * is not harmed */
    if (helper_start(&h, P("/held3"), SESSION_MS) != 0) {
        check_fail(__LINE__, "helper process did not report a session");
        helper_kill(&h);
        return;
    }
    pass();
    cid = h.cid;
    clientid_t badpw = cid;
    badpw.passwd[0] ^= 0x55;
    x = conn_new(&badpw, SESSION_MS);
    CHECK(x->zh != NULL);
    if (x->zh) {
        CHECK(conn_wait_state(x, ZOO_EXPIRED_SESSION_STATE, WAIT_MS));
        zookeeper_close(x->zh);
    }
    free(x);
    CHECK_RC(zoo_exists(c->zh, P("/held3"), 0, &st), ZOK);
    /* an unknown session id: expired too */
    clientid_t unknown = cid;
    unknown.client_id ^= 0x5a5a5a;
    x = conn_new(&unknown, SESSION_MS);
    if (x->zh) {
        CHECK(conn_wait_state(x, ZOO_EXPIRED_SESSION_STATE, WAIT_MS));
        zookeeper_close(x->zh);
    }
    free(x);
    helper_kill(&h);

    /* expiry: a session of 1000 ms whose process died expires within a few
     * ticks and takes its ephemeral with it */
    static int wexp;
    if (helper_start(&h, P("/short"), 1000) != 0) {
        check_fail(__LINE__, "helper process did not report a session");
        helper_kill(&h);
        return;
    }
    pass();
    CHECK_RC(zoo_wexists(c->zh, P("/short"), obj_watcher, &wexp, &st), ZOK);
    CHECK_EQ(st.ephemeralOwner, h.cid.client_id);
    int64_t t0 = now_mono_ms();
    helper_kill(&h);
    EXPECT_EVENT(&wexp, ZOO_DELETED_EVENT, P("/short"));
    int64_t took = now_mono_ms() - t0;
    CHECK_MSG(took >= 500, "session of 1000 ms expired after only %lld ms", (long long)took);
    printf("   (1000 ms session expired %lld ms after its process died)\n", (long long)took);
    x = conn_new(&h.cid, SESSION_MS);
    if (x->zh) {
        CHECK(conn_wait_state(x, ZOO_EXPIRED_SESSION_STATE, WAIT_MS));
        zookeeper_close(x->zh);
    }
    free(x);
    /* /held3's session (4000 ms) expires later on its own; not waited for */
}

/* ================================================================== main */

int main(int argc, char **argv)
{
    const char *lvl = getenv("ZK_LOG_LEVEL"); /* e.g. 4 for debug */
    zoo_set_debug_level(lvl ? (ZooLogLevel)atoi(lvl) : ZOO_LOG_LEVEL_ERROR);
    if (argc == 5 && strcmp(argv[1], "--hold-session") == 0)
        return helper_main(argv[2], argv[3], atoi(argv[4]));
    if (argc != 2) {
        fprintf(stderr, "usage: %s <host:port>\n", argv[0]);
        return 2;
    }
    g_host = argv[1];
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);

    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g_cv, &ca);

    pthread_t wd;
    pthread_create(&wd, NULL, watchdog_main, NULL);
    pthread_detach(wd);

    zoo_deterministic_conn_order(1);
    snprintf(g_root, sizeof g_root, "/cclient-%d", (int)getpid());

    int64_t t0 = now_mono_ms();
    conn_t *c = CONNECT(NULL, SESSION_MS);
    conn_t *c2 = c ? CONNECT(NULL, SESSION_MS) : NULL;
    if (c && c2) {
        test_connect(c);
        test_builtin_nodes(c);
        test_crud(c);
        test_large_data(c, c2);
        test_ephemeral_sequential(c);
        test_watches(c, c2);
        test_watch_order(c, c2);
        test_remove_watches(c, c2);
        test_acl(c);
        test_multi(c);
        test_async_misc(c);
        test_bursts(c);
        test_sessions(c);

        section("cleanup");
        add_auth_sync(c, "digest", USER1_AUTH); /* for /acl/secret's child */
        delete_tree(c, g_root);
        struct Stat st;
        CHECK_RC(zoo_exists(c->zh, g_root, 0, &st), ZNONODE);
    }
    conn_close(c2);
    conn_close(c);
    printf("   (run took %lld ms)\n", (long long)(now_mono_ms() - t0));
    int failed = atomic_load(&g_failed), passed = atomic_load(&g_passed);
    printf("%d passed, %d failed\n", passed, failed);
    fflush(stdout);
    return failed ? 1 : 0;
}
