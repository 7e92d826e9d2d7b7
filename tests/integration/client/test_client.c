/*
 * libpaddock against real servers.
 *
 *   test_client <paddock|zookeeper> <ops|session>
 *
 * Starts its own standalone server(s) (server.h): `paddock server` from
 * $PADDOCK_BIN, or Apache ZooKeeper 3.8 with java (exits 77, "skipped", when
 * java or the jar is missing). Every expectation holds for both servers.
 *
 *   ops      every operation and its error paths, ACLs and auth, multi and
 *            multiRead layouts, every kind of watch and their removal, chroot,
 *            a deep pipeline, caller-driven I/O (pdk_input/pdk_output) in odd
 *            pieces, closing, freeing a client with requests and watches
 *            outstanding (run under ASan: nothing may leak).
 *   session  failover past a refusing address; pings keeping a 1 s session
 *            alive; a silent (SIGSTOPped) server; a server killed and restarted
 *            on the same dataDir: the session, its ephemerals and its watches
 *            (re-registered with setWatches2) survive; expiry while the client
 *            was not processing; resuming a session by id + password; an
 *            unknown session is reported expired.
 *
 * Every wait is bounded (WAIT_MS per step); a watchdog ends the run after
 * RUN_LIMIT_S. Only processes this program started are signalled.
 */
#include "paddock/client.h"

#include "server.h"
#include "t.h"

#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define WAIT_MS     15000 /* bound for one request or event; Apache can be slow under ASan */
#define RUN_LIMIT_S 280
#define SESSION_MS  10000 /* the server's maximum with tickTime=500 */

static struct tsrv srv;
static char hosts[64];
static enum tsrv_kind kind;

/* ---- helpers ---------------------------------------------------------------------- */

static void watchdog(int sig)
{
    (void)sig;
    static const char msg[] = "test_client: watchdog: run took too long\n";
    if (write(2, msg, sizeof(msg) - 1) < 0)
        _exit(3);
    if (srv.pid > 0)
        kill(srv.pid, SIGKILL);
    _exit(3);
}

/* One poll + process turn, waiting at most max_ms. */
static int turn(struct pdk_client *c, int max_ms)
{
    int events, timeout_ms;
    pdk_interest(c, pdk_now_ms(), &events, &timeout_ms);
    if (timeout_ms < 0 || timeout_ms > max_ms)
        timeout_ms = max_ms;
    struct pollfd p = {.fd = pdk_fd(c), .events = (short)events};
    int n = poll(&p, 1, timeout_ms);
    return pdk_process(c, n > 0 ? p.revents : 0, pdk_now_ms());
}

/* Drives c until cond holds or ms pass. */
#define UNTIL(c, cond, ms)                                                                         \
    do {                                                                                           \
        int64_t until_end_ = pdk_now_ms() + (ms);                                                  \
        while (!(cond) && pdk_now_ms() < until_end_)                                               \
            turn((c), 20);                                                                         \
    } while (0)

/* Waits for a submitted request; a request that never completes ends the run (its slot
 * would be written later). */
static int op_wait(struct pdk_client *c, struct pdk_sync *s, int submit_rc, int line)
{
    pdk_result_free(s->result);
    if (submit_rc != PDK_ZOK) {
        s->result = NULL;
        s->is_done = false;
        fprintf(stderr, "%s:%d: submit failed: %s\n", __FILE__, line, pdk_error_name(submit_rc));
        t_failed_checks++;
        t_current_failed = 1;
        return submit_rc;
    }
    int rc = pdk_wait(c, s, WAIT_MS);
    if (!s->is_done) {
        fprintf(stderr, "%s:%d: request did not complete: %s\n", __FILE__, line,
                pdk_error_name(rc));
        tsrv_cleanup(&srv);
        exit(1);
    }
    s->is_done = false; /* ready for the next use; result kept until then */
    return rc;
}

/* s must be reset ({0}) before its first use; op_wait frees the previous result. */
#define OP(c, s, call) op_wait((c), &(s), (call), __LINE__)

static const struct pdk_result empty_result = {.rc = 1, .data_len = -1};
static const struct pdk_stat zero_stat;

static const struct pdk_result *R(const struct pdk_sync *s)
{
    return s->result ? s->result : &empty_result;
}

static const struct pdk_stat *ST(const struct pdk_result *r)
{
    return r->stat ? r->stat : &zero_stat;
}

static void sync_done(struct pdk_sync *s)
{
    pdk_result_free(s->result);
    s->result = NULL;
    s->is_done = false;
}

/* A log of watch events. */
struct evlog {
    int n;
    struct {
        int type;
        int state;
        char path[128];
    } ev[64];
};

static void log_event(struct pdk_client *c, const struct pdk_event *ev, void *ctx)
{
    (void)c;
    struct evlog *l = ctx;
    if (l->n >= 64)
        return;
    l->ev[l->n].type = ev->type;
    l->ev[l->n].state = ev->state;
    snprintf(l->ev[l->n].path, sizeof(l->ev[0].path), "%s", ev->path ? ev->path : "");
    l->n++;
}

static int count_events(const struct evlog *l, int type, const char *path)
{
    int n = 0;
    for (int i = 0; i < l->n; i++)
        if (l->ev[i].type == type && (!path || strcmp(l->ev[i].path, path) == 0))
            n++;
    return n;
}

static int count_state(const struct evlog *l, int state)
{
    int n = 0;
    for (int i = 0; i < l->n; i++)
        if (l->ev[i].type == PDK_EVENT_SESSION && l->ev[i].state == state)
            n++;
    return n;
}

/* A connected client with the global watcher logging into g (may be NULL). */
static struct pdk_client *connect_to(const char *h, struct evlog *g, int timeout_ms)
{
    struct pdk_options o = {
        .session_timeout_ms = timeout_ms, .watcher = g ? log_event : NULL, .watcher_ctx = g};
    struct pdk_client *c = NULL;
    int rc = pdk_new(h, &o, &c);
    CHECK_EQ_INT(rc, PDK_ZOK);
    if (rc != PDK_ZOK)
        exit(1);
    rc = pdk_wait_connected(c, WAIT_MS);
    CHECK_EQ_INT(rc, PDK_ZOK);
    if (rc != PDK_ZOK) {
        tsrv_show_log(&srv);
        tsrv_cleanup(&srv);
        exit(1);
    }
    return c;
}

static struct pdk_client *new_client(struct evlog *g)
{
    return connect_to(hosts, g, SESSION_MS);
}

/* Creates a persistent node, ignoring NODEEXISTS. */
static void mk(struct pdk_client *c, const char *path, const char *data)
{
    int rc = pdk_create_sync(c, path, data, data ? (int32_t)strlen(data) : -1, NULL, PDK_PERSISTENT,
                             0, NULL, NULL, WAIT_MS);
    if (rc != PDK_ZOK && rc != PDK_ZNODEEXISTS) {
        fprintf(stderr, "mk %s: %s\n", path, pdk_error_name(rc));
        CHECK(0);
    }
}

static bool has_string(const struct pdk_strings *s, const char *want)
{
    for (int32_t i = 0; i < s->count; i++)
        if (strcmp(s->items[i], want) == 0)
            return true;
    return false;
}

/* ---- ops ------------------------------------------------------------------------------ */

static void test_connect_info(void)
{
    struct evlog g = {0};
    struct pdk_client *c = new_client(&g);
    CHECK_EQ_INT(pdk_state(c), PDK_STATE_CONNECTED);
    CHECK(pdk_session_id(c) != 0);
    CHECK_EQ_INT(pdk_session_timeout_ms(c), SESSION_MS);
    CHECK(pdk_fd(c) >= 0);
    CHECK_EQ_STR(pdk_current_host(c), hosts);
    CHECK_EQ_INT(count_state(&g, PDK_STATE_CONNECTED), 1);
    uint8_t pw[16], zero[16] = {0};
    pdk_session_passwd(c, pw);
    CHECK(memcmp(pw, zero, 16) != 0);
    CHECK_EQ_STR(pdk_error_name(PDK_ZNONODE), "NONODE");
    CHECK_EQ_STR(pdk_error_name(PDK_ZCLOSING), "CLOSING");
    pdk_free(c);
    /* pdk_free() told the global watcher the client closed */
    CHECK_EQ_INT(count_state(&g, PDK_STATE_CLOSED), 1);
}

static void test_bad_arguments(void)
{
    struct pdk_client *c = NULL;
    CHECK_EQ_INT(pdk_new("", NULL, &c), PDK_ZBADARGUMENTS);
    CHECK_EQ_INT(pdk_new("127.0.0.1:2181/bad/", NULL, &c), PDK_ZBADARGUMENTS);
    CHECK_EQ_INT(pdk_new("127.0.0.1:abc", NULL, &c), PDK_ZBADARGUMENTS);
    CHECK(c == NULL);
    c = new_client(NULL);
    const char *bad[] = {"a", "", "/a/", "/a//b", "/a/./b", "/a/..", "/a\x01"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_EQ_INT(pdk_create(c, bad[i], "x", 1, NULL, PDK_PERSISTENT, 0, false, NULL, NULL),
                     PDK_ZBADARGUMENTS);
        CHECK_EQ_INT(pdk_get_data(c, bad[i], NULL, NULL, NULL, NULL), PDK_ZBADARGUMENTS);
    }
    CHECK_EQ_INT(pdk_delete(c, "/", -1, NULL, NULL), PDK_ZBADARGUMENTS);
    CHECK_EQ_INT(pdk_create(c, "/x", "x", 1, NULL, 42, 0, false, NULL, NULL), PDK_ZBADARGUMENTS);
    CHECK_EQ_INT(pdk_create(c, "/x", "x", 1, NULL, PDK_PERSISTENT_WITH_TTL, 0, false, NULL, NULL),
                 PDK_ZBADARGUMENTS);
    struct pdk_acl_list none = {0, NULL};
    CHECK_EQ_INT(pdk_create(c, "/x", "x", 1, &none, PDK_PERSISTENT, 0, false, NULL, NULL),
                 PDK_ZINVALIDACL);
    CHECK_EQ_INT(pdk_add_watch(c, "/x", 7, log_event, NULL, NULL, NULL), PDK_ZBADARGUMENTS);
    CHECK_EQ_INT(pdk_remove_watches(c, "/x", PDK_WATCH_DATA, NULL, NULL, NULL, NULL),
                 PDK_ZNOWATCHER);
    CHECK_EQ_INT(pdk_outstanding(c), 0);
    /* a sequential create may end in '/' */
    mk(c, "/t-seqroot", NULL);
    char *p = NULL;
    CHECK_EQ_INT(pdk_create_sync(c, "/t-seqroot/", NULL, -1, NULL, PDK_PERSISTENT_SEQUENTIAL, 0, &p,
                                 NULL, WAIT_MS),
                 PDK_ZOK);
    CHECK(p && strlen(p) == strlen("/t-seqroot/") + 10);
    free(p);
    pdk_free(c);
}

static void test_crud(void)
{
    struct pdk_client *c = new_client(NULL);
    char *path = NULL;
    struct pdk_stat st;
    CHECK_EQ_INT(
        pdk_create_sync(c, "/t-crud", "v1", 2, NULL, PDK_PERSISTENT, 0, &path, &st, WAIT_MS),
        PDK_ZOK);
    CHECK_EQ_STR(path, "/t-crud");
    free(path);
    CHECK(st.czxid > 0 && st.czxid == st.mzxid);
    CHECK_EQ_INT(st.version, 0);
    CHECK_EQ_INT(st.data_length, 2);
    CHECK_EQ_INT(
        pdk_create_sync(c, "/t-crud", "v1", 2, NULL, PDK_PERSISTENT, 0, NULL, NULL, WAIT_MS),
        PDK_ZNODEEXISTS);

    char *data = NULL;
    int32_t len = 0;
    CHECK_EQ_INT(pdk_get_sync(c, "/t-crud", NULL, NULL, &data, &len, &st, WAIT_MS), PDK_ZOK);
    CHECK_EQ_STR(data, "v1");
    CHECK_EQ_INT(len, 2);
    free(data);
    CHECK_EQ_INT(pdk_exists_sync(c, "/t-crud", NULL, NULL, &st, WAIT_MS), PDK_ZOK);
    CHECK_EQ_INT(st.data_length, 2);
    CHECK_EQ_INT(pdk_exists_sync(c, "/t-crud-none", NULL, NULL, NULL, WAIT_MS), PDK_ZNONODE);

    CHECK_EQ_INT(pdk_set_sync(c, "/t-crud", "v2", 2, 0, &st, WAIT_MS), PDK_ZOK);
    CHECK_EQ_INT(st.version, 1);
    CHECK_EQ_INT(pdk_set_sync(c, "/t-crud", "v3", 2, 0, NULL, WAIT_MS), PDK_ZBADVERSION);
    CHECK_EQ_INT(pdk_set_sync(c, "/t-crud", "v3", 2, -1, &st, WAIT_MS), PDK_ZOK);
    CHECK_EQ_INT(st.version, 2);
    CHECK_EQ_INT(pdk_get_sync(c, "/t-crud-none", NULL, NULL, &data, NULL, NULL, WAIT_MS),
                 PDK_ZNONODE);
    CHECK(data == NULL);
    CHECK_EQ_INT(pdk_set_sync(c, "/t-crud-none", "x", 1, -1, NULL, WAIT_MS), PDK_ZNONODE);
    CHECK_EQ_INT(pdk_delete_sync(c, "/t-crud-none", -1, WAIT_MS), PDK_ZNONODE);

    /* NOTEMPTY, missing parent, version checks on delete */
    mk(c, "/t-crud/child", "c");
    CHECK_EQ_INT(pdk_delete_sync(c, "/t-crud", -1, WAIT_MS), PDK_ZNOTEMPTY);
    CHECK_EQ_INT(pdk_create_sync(c, "/t-crud/nope/x", NULL, -1, NULL, PDK_PERSISTENT, 0, NULL, NULL,
                                 WAIT_MS),
                 PDK_ZNONODE);
    CHECK_EQ_INT(pdk_delete_sync(c, "/t-crud/child", 5, WAIT_MS), PDK_ZBADVERSION);
    CHECK_EQ_INT(pdk_delete_sync(c, "/t-crud/child", 0, WAIT_MS), PDK_ZOK);

    /* sequential: ten digits of the parent's cversion, increasing */
    char *s1 = NULL, *s2 = NULL;
    CHECK_EQ_INT(pdk_create_sync(c, "/t-crud/s-", "", 0, NULL, PDK_PERSISTENT_SEQUENTIAL, 0, &s1,
                                 NULL, WAIT_MS),
                 PDK_ZOK);
    CHECK_EQ_INT(pdk_create_sync(c, "/t-crud/s-", "", 0, NULL, PDK_PERSISTENT_SEQUENTIAL, 0, &s2,
                                 NULL, WAIT_MS),
                 PDK_ZOK);
    CHECK(s1 && s2 && strlen(s1) == strlen("/t-crud/s-") + 10 && strcmp(s1, s2) < 0);
    free(s1);
    free(s2);

    /* ephemeral: owned by the session; no children */
    CHECK_EQ_INT(
        pdk_create_sync(c, "/t-crud/e", "e", 1, NULL, PDK_EPHEMERAL, 0, NULL, &st, WAIT_MS),
        PDK_ZOK);
    CHECK_EQ_INT(st.ephemeral_owner, pdk_session_id(c));
    CHECK_EQ_INT(
        pdk_create_sync(c, "/t-crud/e/x", NULL, -1, NULL, PDK_PERSISTENT, 0, NULL, NULL, WAIT_MS),
        PDK_ZNOCHILDRENFOREPHEMERALS);
    char *es = NULL;
    CHECK_EQ_INT(pdk_create_sync(c, "/t-crud/es-", NULL, -1, NULL, PDK_EPHEMERAL_SEQUENTIAL, 0, &es,
                                 &st, WAIT_MS),
                 PDK_ZOK);
    CHECK(es && strncmp(es, "/t-crud/es-", 11) == 0);
    free(es);
    CHECK_EQ_INT(st.ephemeral_owner, pdk_session_id(c));

    /* container and TTL nodes (create2-style replies with a stat) */
    CHECK_EQ_INT(
        pdk_create_sync(c, "/t-crud-cont", NULL, -1, NULL, PDK_CONTAINER, 0, &path, &st, WAIT_MS),
        PDK_ZOK);
    CHECK_EQ_STR(path, "/t-crud-cont");
    free(path);
    /* Servers keep a marker in ephemeralOwner but show clients 0 (getClientEphemeralOwner). */
    CHECK_EQ_INT(st.ephemeral_owner, 0);
    CHECK_EQ_INT(pdk_exists_sync(c, "/t-crud-cont", NULL, NULL, &st, WAIT_MS), PDK_ZOK);
    CHECK_EQ_INT(pdk_create_sync(c, "/t-crud/ttl", "t", 1, NULL, PDK_PERSISTENT_WITH_TTL, 100000,
                                 NULL, &st, WAIT_MS),
                 PDK_ZOK);
    CHECK(st.czxid > 0);
    CHECK_EQ_INT(st.ephemeral_owner, 0);
    CHECK_EQ_INT(pdk_exists_sync(c, "/t-crud/ttl", NULL, NULL, &st, WAIT_MS), PDK_ZOK);
    char *ts = NULL;
    CHECK_EQ_INT(pdk_create_sync(c, "/t-crud/ttls-", "t", 1, NULL,
                                 PDK_PERSISTENT_SEQUENTIAL_WITH_TTL, 100000, &ts, &st, WAIT_MS),
                 PDK_ZOK);
    CHECK(ts && strlen(ts) == strlen("/t-crud/ttls-") + 10);
    free(ts);
    /* a TTL beyond the maximum: the server's BADARGUMENTS */
    CHECK_EQ_INT(pdk_create_sync(c, "/t-crud/ttl2", "t", 1, NULL, PDK_PERSISTENT_WITH_TTL,
                                 (int64_t)1 << 50, NULL, NULL, WAIT_MS),
                 PDK_ZBADARGUMENTS);

    /* a plain create (opcode 1) through the async API: path, no stat */
    struct pdk_sync s = {0};
    CHECK_EQ_INT(OP(c, s,
                    pdk_create(c, "/t-crud/plain", NULL, -1, NULL, PDK_PERSISTENT, 0, false,
                               pdk_sync_completion, &s)),
                 PDK_ZOK);
    CHECK_EQ_INT(R(&s)->op, PDK_OP_CREATE);
    CHECK_EQ_STR(R(&s)->path, "/t-crud/plain");
    CHECK(R(&s)->stat == NULL);
    CHECK(R(&s)->zxid > 0);
    /* a null value reads back as empty or null */
    CHECK_EQ_INT(OP(c, s, pdk_get_data(c, "/t-crud/plain", NULL, NULL, pdk_sync_completion, &s)),
                 PDK_ZOK);
    CHECK(R(&s)->data_len <= 0);
    sync_done(&s);
    pdk_free(c);
}

static void test_children_and_counts(void)
{
    struct pdk_client *c = new_client(NULL);
    mk(c, "/t-ch", NULL);
    mk(c, "/t-ch/a", "1");
    mk(c, "/t-ch/b", "2");
    mk(c, "/t-ch/c", "3");
    mk(c, "/t-ch/a/x", "4");
    struct pdk_result *r = NULL;
    CHECK_EQ_INT(pdk_get_children_sync(c, "/t-ch", NULL, NULL, &r, WAIT_MS), PDK_ZOK);
    if (r) {
        CHECK_EQ_INT(r->strings.count, 3);
        CHECK(has_string(&r->strings, "a") && has_string(&r->strings, "b") &&
              has_string(&r->strings, "c"));
        CHECK_EQ_INT(ST(r)->num_children, 3);
        pdk_result_free(r);
    }
    struct pdk_sync s = {0};
    CHECK_EQ_INT(OP(c, s, pdk_get_children(c, "/t-ch", false, NULL, NULL, pdk_sync_completion, &s)),
                 PDK_ZOK);
    CHECK_EQ_INT(R(&s)->strings.count, 3);
    CHECK(R(&s)->stat == NULL);
    CHECK_EQ_INT(
        OP(c, s, pdk_get_children(c, "/t-ch-none", true, NULL, NULL, pdk_sync_completion, &s)),
        PDK_ZNONODE);
    CHECK_EQ_INT(OP(c, s, pdk_get_all_children_number(c, "/t-ch", pdk_sync_completion, &s)),
                 PDK_ZOK);
    CHECK_EQ_INT(R(&s)->number, 4);
    CHECK_EQ_INT(OP(c, s, pdk_get_all_children_number(c, "/t-ch-none", pdk_sync_completion, &s)),
                 PDK_ZNONODE);
    sync_done(&s);
    pdk_free(c);
}

static void test_ephemerals_sync_config_whoami(void)
{
    struct pdk_client *c = new_client(NULL);
    mk(c, "/t-eph", NULL);
    CHECK_EQ_INT(
        pdk_create_sync(c, "/t-eph/e1", NULL, -1, NULL, PDK_EPHEMERAL, 0, NULL, NULL, WAIT_MS),
        PDK_ZOK);
    CHECK_EQ_INT(
        pdk_create_sync(c, "/t-eph/e2", NULL, -1, NULL, PDK_EPHEMERAL, 0, NULL, NULL, WAIT_MS),
        PDK_ZOK);
    struct pdk_sync s = {0};
    CHECK_EQ_INT(OP(c, s, pdk_get_ephemerals(c, "/t-eph", pdk_sync_completion, &s)), PDK_ZOK);
    CHECK_EQ_INT(R(&s)->strings.count, 2);
    CHECK(has_string(&R(&s)->strings, "/t-eph/e1") && has_string(&R(&s)->strings, "/t-eph/e2"));
    CHECK_EQ_INT(OP(c, s, pdk_get_ephemerals(c, "/", pdk_sync_completion, &s)), PDK_ZOK);
    CHECK_EQ_INT(R(&s)->strings.count, 2);

    CHECK_EQ_INT(OP(c, s, pdk_sync(c, "/t-eph", pdk_sync_completion, &s)), PDK_ZOK);
    CHECK_EQ_STR(R(&s)->path, "/t-eph");

    CHECK_EQ_INT(OP(c, s, pdk_get_config(c, NULL, NULL, pdk_sync_completion, &s)), PDK_ZOK);
    CHECK(R(&s)->stat != NULL);
    /* reconfig: both servers run without reconfigEnabled (Apache's default), and say so; the
     * connection stays usable. */
    CHECK_EQ_INT(OP(c, s,
                    pdk_reconfig(c, "server.9=127.0.0.1:2999:3999;2399", NULL, NULL, -1,
                                 pdk_sync_completion, &s)),
                 PDK_ZRECONFIGDISABLED);
    CHECK_EQ_INT(R(&s)->op, PDK_OP_RECONFIG);
    CHECK_EQ_INT(OP(c, s, pdk_reconfig(c, NULL, "3", NULL, 0x100000000LL, pdk_sync_completion, &s)),
                 PDK_ZRECONFIGDISABLED);
    CHECK_EQ_STR(pdk_error_name(PDK_ZRECONFIGDISABLED), "RECONFIGDISABLED");
    CHECK_EQ_INT(OP(c, s, pdk_exists(c, "/t-eph", NULL, NULL, pdk_sync_completion, &s)), PDK_ZOK);

    CHECK_EQ_INT(OP(c, s, pdk_who_am_i(c, pdk_sync_completion, &s)), PDK_ZOK);
    CHECK_EQ_INT(R(&s)->n_infos, 1);
    if (R(&s)->n_infos == 1) {
        CHECK_EQ_STR(R(&s)->infos[0].scheme, "ip");
        CHECK_EQ_STR(R(&s)->infos[0].user, "127.0.0.1");
    }
    sync_done(&s);
    pdk_free(c);
}

static void test_acl_and_auth(void)
{
    struct pdk_client *c1 = new_client(NULL);
    struct pdk_client *c2 = new_client(NULL);
    struct pdk_sync s = {0};
    CHECK_EQ_INT(OP(c1, s, pdk_add_auth(c1, "digest", "u1:pw1", 6, pdk_sync_completion, &s)),
                 PDK_ZOK);
    /* CREATOR_ALL needs an authenticated id */
    CHECK_EQ_INT(pdk_create_sync(c2, "/t-acl-x", NULL, -1, &pdk_acl_creator_all, PDK_PERSISTENT, 0,
                                 NULL, NULL, WAIT_MS),
                 PDK_ZINVALIDACL);
    CHECK_EQ_INT(pdk_create_sync(c1, "/t-acl", "secret", 6, &pdk_acl_creator_all, PDK_PERSISTENT, 0,
                                 NULL, NULL, WAIT_MS),
                 PDK_ZOK);
    CHECK_EQ_INT(OP(c1, s, pdk_get_acl(c1, "/t-acl", pdk_sync_completion, &s)), PDK_ZOK);
    CHECK_EQ_INT(R(&s)->acl.count, 1);
    if (R(&s)->acl.count == 1) {
        CHECK_EQ_INT(R(&s)->acl.items[0].perms, PDK_PERM_ALL);
        CHECK_EQ_STR(R(&s)->acl.items[0].scheme, "digest");
        CHECK(strncmp(R(&s)->acl.items[0].id, "u1:", 3) == 0);
    }
    CHECK_EQ_INT(ST(R(&s))->aversion, 0);
    CHECK_EQ_INT(OP(c1, s, pdk_get_acl(c1, "/t-acl-none", pdk_sync_completion, &s)), PDK_ZNONODE);

    /* without the credential: NOAUTH */
    CHECK_EQ_INT(pdk_get_sync(c2, "/t-acl", NULL, NULL, NULL, NULL, NULL, WAIT_MS), PDK_ZNOAUTH);
    CHECK_EQ_INT(pdk_set_sync(c2, "/t-acl", "x", 1, -1, NULL, WAIT_MS), PDK_ZNOAUTH);
    CHECK_EQ_INT(
        OP(c2, s, pdk_set_acl(c2, "/t-acl", &pdk_acl_open_unsafe, -1, pdk_sync_completion, &s)),
        PDK_ZNOAUTH);

    /* setACL with versions; afterwards c1 has lost ADMIN too */
    CHECK_EQ_INT(
        OP(c1, s, pdk_set_acl(c1, "/t-acl", &pdk_acl_read_unsafe, 7, pdk_sync_completion, &s)),
        PDK_ZBADVERSION);
    CHECK_EQ_INT(
        OP(c1, s, pdk_set_acl(c1, "/t-acl", &pdk_acl_read_unsafe, 0, pdk_sync_completion, &s)),
        PDK_ZOK);
    CHECK_EQ_INT(ST(R(&s))->aversion, 1);
    CHECK_EQ_INT(
        OP(c1, s, pdk_set_acl(c1, "/t-acl", &pdk_acl_read_unsafe, 1, pdk_sync_completion, &s)),
        PDK_ZNOAUTH);
    char *data = NULL;
    CHECK_EQ_INT(pdk_get_sync(c2, "/t-acl", NULL, NULL, &data, NULL, NULL, WAIT_MS), PDK_ZOK);
    CHECK_EQ_STR(data, "secret");
    free(data);
    CHECK_EQ_INT(pdk_set_sync(c2, "/t-acl", "x", 1, -1, NULL, WAIT_MS), PDK_ZNOAUTH);

    /* whoAmI lists the digest identity */
    CHECK_EQ_INT(OP(c1, s, pdk_who_am_i(c1, pdk_sync_completion, &s)), PDK_ZOK);
    bool has_digest = false;
    for (int32_t i = 0; i < R(&s)->n_infos; i++)
        if (strcmp(R(&s)->infos[i].scheme, "digest") == 0 &&
            strcmp(R(&s)->infos[i].user, "u1") == 0)
            has_digest = true;
    CHECK(has_digest);
    sync_done(&s);
    pdk_free(c1);
    pdk_free(c2);

    /* an unknown scheme: AUTHFAILED, the session is finished */
    struct evlog g = {0};
    struct pdk_client *c3 = new_client(&g);
    CHECK_EQ_INT(OP(c3, s, pdk_add_auth(c3, "nosuchscheme", "x", 1, pdk_sync_completion, &s)),
                 PDK_ZAUTHFAILED);
    UNTIL(c3, pdk_state(c3) == PDK_STATE_AUTH_FAILED, WAIT_MS);
    CHECK_EQ_INT(pdk_state(c3), PDK_STATE_AUTH_FAILED);
    CHECK_EQ_INT(count_state(&g, PDK_STATE_AUTH_FAILED), 1);
    CHECK_EQ_INT(pdk_get_data(c3, "/", NULL, NULL, NULL, NULL), PDK_ZAUTHFAILED);
    CHECK_EQ_INT(turn(c3, 0), PDK_ZAUTHFAILED);
    sync_done(&s);
    pdk_free(c3);

    /* a null credential (len -1, as addAuthInfo(scheme, null)): ip takes it, digest refuses it */
    struct pdk_client *c4 = new_client(NULL);
    CHECK_EQ_INT(pdk_add_auth(c4, "digest", NULL, -2, NULL, NULL), PDK_ZBADARGUMENTS);
    CHECK_EQ_INT(pdk_add_auth(c4, "digest", NULL, 1, NULL, NULL), PDK_ZBADARGUMENTS);
    CHECK_EQ_INT(OP(c4, s, pdk_add_auth(c4, "ip", NULL, -1, pdk_sync_completion, &s)), PDK_ZOK);
    CHECK_EQ_INT(OP(c4, s, pdk_add_auth(c4, "digest", NULL, -1, pdk_sync_completion, &s)),
                 PDK_ZAUTHFAILED);
    sync_done(&s);
    pdk_free(c4);
}

static void test_multi(void)
{
    struct pdk_client *c = new_client(NULL);
    mk(c, "/t-multi", NULL);
    struct pdk_sync s = {0};

    struct pdk_op ok[] = {
        pdk_op_create("/t-multi/a", "x", 1, PDK_PERSISTENT),
        pdk_op_set_data("/t-multi/a", "y", 1, 0),
        pdk_op_check("/t-multi/a", 1),
        pdk_op_create("/t-multi/cont", NULL, -1, PDK_CONTAINER),
        pdk_op_delete("/t-multi/a", -1),
    };
    CHECK_EQ_INT(OP(c, s, pdk_multi(c, ok, 5, pdk_sync_completion, &s)), PDK_ZOK);
    const struct pdk_result *r = R(&s);
    CHECK_EQ_INT(r->n_results, 5);
    if (r->n_results == 5) {
        CHECK_EQ_INT(r->results[0].op, PDK_OP_CREATE);
        CHECK_EQ_STR(r->results[0].path, "/t-multi/a");
        CHECK_EQ_INT(r->results[1].op, PDK_OP_SET_DATA);
        CHECK_EQ_INT(ST(&r->results[1])->version, 1);
        CHECK_EQ_INT(r->results[2].op, PDK_OP_CHECK);
        /* a container create answers like create2: path and stat */
        CHECK_EQ_INT(r->results[3].op, PDK_OP_CREATE2);
        CHECK_EQ_STR(r->results[3].path, "/t-multi/cont");
        CHECK(r->results[3].stat != NULL && ST(&r->results[3])->czxid > 0);
        CHECK_EQ_INT(r->results[4].op, PDK_OP_DELETE);
        for (int i = 0; i < 5; i++)
            CHECK_EQ_INT(r->results[i].rc, PDK_ZOK);
    }

    /* a failure: ops before it rolled back (0), its error, RUNTIMEINCONSISTENCY after */
    struct pdk_op bad[] = {
        pdk_op_create("/t-multi/b", "x", 1, PDK_PERSISTENT),
        pdk_op_set_data("/t-multi/none", "y", 1, -1),
        pdk_op_create("/t-multi/c", "x", 1, PDK_PERSISTENT),
    };
    CHECK_EQ_INT(OP(c, s, pdk_multi(c, bad, 3, pdk_sync_completion, &s)), PDK_ZNONODE);
    r = R(&s);
    CHECK_EQ_INT(r->n_results, 3);
    if (r->n_results == 3) {
        for (int i = 0; i < 3; i++)
            CHECK_EQ_INT(r->results[i].op, PDK_OP_ERROR);
        CHECK_EQ_INT(r->results[0].rc, PDK_ZOK);
        CHECK_EQ_INT(r->results[1].rc, PDK_ZNONODE);
        CHECK_EQ_INT(r->results[2].rc, PDK_ZRUNTIMEINCONSISTENCY);
    }
    CHECK_EQ_INT(pdk_exists_sync(c, "/t-multi/b", NULL, NULL, NULL, WAIT_MS), PDK_ZNONODE);
    struct pdk_op badver[] = {pdk_op_check("/t-multi", 7)};
    CHECK_EQ_INT(OP(c, s, pdk_multi(c, badver, 1, pdk_sync_completion, &s)), PDK_ZBADVERSION);

    /* an empty multi */
    CHECK_EQ_INT(OP(c, s, pdk_multi(c, NULL, 0, pdk_sync_completion, &s)), PDK_ZOK);
    CHECK_EQ_INT(R(&s)->n_results, 0);

    /* multiRead: each op on its own */
    mk(c, "/t-multi/r", "rv");
    struct pdk_op reads[] = {
        pdk_op_get_data("/t-multi/r"),
        pdk_op_get_children("/t-multi"),
        pdk_op_get_data("/t-multi/none"),
    };
    CHECK_EQ_INT(OP(c, s, pdk_multi_read(c, reads, 3, pdk_sync_completion, &s)), PDK_ZOK);
    r = R(&s);
    CHECK_EQ_INT(r->n_results, 3);
    if (r->n_results == 3) {
        CHECK_EQ_INT(r->results[0].op, PDK_OP_GET_DATA);
        CHECK_EQ_INT(r->results[0].data_len, 2);
        CHECK(r->results[0].data && memcmp(r->results[0].data, "rv", 2) == 0);
        CHECK_EQ_INT(r->results[1].op, PDK_OP_GET_CHILDREN);
        CHECK(has_string(&r->results[1].strings, "r") &&
              has_string(&r->results[1].strings, "cont"));
        CHECK_EQ_INT(r->results[2].op, PDK_OP_ERROR);
        CHECK_EQ_INT(r->results[2].rc, PDK_ZNONODE);
    }
    /* mixing kinds is refused before sending */
    CHECK_EQ_INT(pdk_multi(c, reads, 1, NULL, NULL), PDK_ZBADARGUMENTS);
    CHECK_EQ_INT(pdk_multi_read(c, ok, 1, NULL, NULL), PDK_ZBADARGUMENTS);
    sync_done(&s);
    pdk_free(c);
}

static void test_watches(void)
{
    struct evlog g = {0}, w = {0}, w2 = {0};
    struct pdk_client *c = new_client(&g);
    struct pdk_client *o = new_client(NULL); /* the other client makes the changes */
    mk(o, "/t-w", NULL);
    mk(o, "/t-w/d", "0");
    struct pdk_sync s = {0};

    /* data watch: fires once */
    CHECK_EQ_INT(OP(c, s, pdk_get_data(c, "/t-w/d", log_event, &w, pdk_sync_completion, &s)),
                 PDK_ZOK);
    CHECK_EQ_INT(pdk_set_sync(o, "/t-w/d", "1", 1, -1, NULL, WAIT_MS), PDK_ZOK);
    UNTIL(c, w.n >= 1, WAIT_MS);
    CHECK_EQ_INT(count_events(&w, PDK_EVENT_DATA_CHANGED, "/t-w/d"), 1);
    CHECK_EQ_INT(w.n ? w.ev[0].state : -1, PDK_STATE_CONNECTED);
    CHECK_EQ_INT(pdk_set_sync(o, "/t-w/d", "2", 1, -1, NULL, WAIT_MS), PDK_ZOK);
    CHECK_EQ_INT(pdk_exists_sync(c, "/t-w/d", NULL, NULL, NULL, WAIT_MS), PDK_ZOK); /* flushes */
    CHECK_EQ_INT(w.n, 1);

    /* exists watch on a missing node: created; the same watcher twice fires once */
    w.n = 0;
    CHECK_EQ_INT(OP(c, s, pdk_exists(c, "/t-w/n", log_event, &w, pdk_sync_completion, &s)),
                 PDK_ZNONODE);
    CHECK_EQ_INT(OP(c, s, pdk_exists(c, "/t-w/n", log_event, &w, pdk_sync_completion, &s)),
                 PDK_ZNONODE);
    mk(o, "/t-w/n", "n");
    UNTIL(c, w.n >= 1, WAIT_MS);
    CHECK_EQ_INT(count_events(&w, PDK_EVENT_CREATED, "/t-w/n"), 1);

    /* data watch + delete: deleted; child watch: children changed */
    w.n = 0;
    CHECK_EQ_INT(OP(c, s, pdk_exists(c, "/t-w/n", log_event, &w, pdk_sync_completion, &s)),
                 PDK_ZOK);
    CHECK_EQ_INT(
        OP(c, s, pdk_get_children(c, "/t-w", true, log_event, &w2, pdk_sync_completion, &s)),
        PDK_ZOK);
    CHECK_EQ_INT(pdk_delete_sync(o, "/t-w/n", -1, WAIT_MS), PDK_ZOK);
    UNTIL(c, w.n >= 1 && w2.n >= 1, WAIT_MS);
    CHECK_EQ_INT(count_events(&w, PDK_EVENT_DELETED, "/t-w/n"), 1);
    CHECK_EQ_INT(count_events(&w2, PDK_EVENT_CHILDREN_CHANGED, "/t-w"), 1);

    /* the global watcher as a registration */
    g.n = 0;
    CHECK_EQ_INT(
        OP(c, s, pdk_get_data(c, "/t-w/d", pdk_global_watcher, NULL, pdk_sync_completion, &s)),
        PDK_ZOK);
    CHECK_EQ_INT(pdk_set_sync(o, "/t-w/d", "3", 1, -1, NULL, WAIT_MS), PDK_ZOK);
    UNTIL(c, g.n >= 1, WAIT_MS);
    CHECK_EQ_INT(count_events(&g, PDK_EVENT_DATA_CHANGED, "/t-w/d"), 1);

    /* persistent: every change on the node, children changes included */
    struct evlog p = {0};
    mk(o, "/t-w/p", "0");
    CHECK_EQ_INT(OP(c, s,
                    pdk_add_watch(c, "/t-w/p", PDK_ADD_WATCH_PERSISTENT, log_event, &p,
                                  pdk_sync_completion, &s)),
                 PDK_ZOK);
    CHECK_EQ_INT(pdk_set_sync(o, "/t-w/p", "1", 1, -1, NULL, WAIT_MS), PDK_ZOK);
    CHECK_EQ_INT(pdk_set_sync(o, "/t-w/p", "2", 1, -1, NULL, WAIT_MS), PDK_ZOK);
    mk(o, "/t-w/p/c", NULL);
    UNTIL(c, p.n >= 3, WAIT_MS);
    CHECK_EQ_INT(count_events(&p, PDK_EVENT_DATA_CHANGED, "/t-w/p"), 2);
    CHECK_EQ_INT(count_events(&p, PDK_EVENT_CHILDREN_CHANGED, "/t-w/p"), 1);

    /* recursive: the subtree, no children-changed events */
    struct evlog rec = {0};
    mk(o, "/t-w/r", NULL);
    CHECK_EQ_INT(OP(c, s,
                    pdk_add_watch(c, "/t-w/r", PDK_ADD_WATCH_PERSISTENT_RECURSIVE, log_event, &rec,
                                  pdk_sync_completion, &s)),
                 PDK_ZOK);
    mk(o, "/t-w/r/a", "0");
    mk(o, "/t-w/r/a/b", "0");
    CHECK_EQ_INT(pdk_set_sync(o, "/t-w/r/a/b", "1", 1, -1, NULL, WAIT_MS), PDK_ZOK);
    CHECK_EQ_INT(pdk_delete_sync(o, "/t-w/r/a/b", -1, WAIT_MS), PDK_ZOK);
    UNTIL(c, rec.n >= 4, WAIT_MS);
    CHECK_EQ_INT(count_events(&rec, PDK_EVENT_CREATED, "/t-w/r/a"), 1);
    CHECK_EQ_INT(count_events(&rec, PDK_EVENT_CREATED, "/t-w/r/a/b"), 1);
    CHECK_EQ_INT(count_events(&rec, PDK_EVENT_DATA_CHANGED, "/t-w/r/a/b"), 1);
    CHECK_EQ_INT(count_events(&rec, PDK_EVENT_DELETED, "/t-w/r/a/b"), 1);
    CHECK_EQ_INT(count_events(&rec, PDK_EVENT_CHILDREN_CHANGED, NULL), 0);

    /* removeWatches: every data watch on the path; the watcher hears it was removed */
    struct evlog rm = {0};
    mk(o, "/t-w/rm", "0");
    CHECK_EQ_INT(OP(c, s, pdk_get_data(c, "/t-w/rm", log_event, &rm, pdk_sync_completion, &s)),
                 PDK_ZOK);
    CHECK_EQ_INT(
        OP(c, s,
           pdk_remove_watches(c, "/t-w/rm", PDK_WATCH_DATA, NULL, NULL, pdk_sync_completion, &s)),
        PDK_ZOK);
    CHECK_EQ_INT(count_events(&rm, PDK_EVENT_DATA_WATCH_REMOVED, "/t-w/rm"), 1);
    CHECK_EQ_INT(pdk_remove_watches(c, "/t-w/rm", PDK_WATCH_DATA, NULL, NULL, NULL, NULL),
                 PDK_ZNOWATCHER);
    CHECK_EQ_INT(pdk_set_sync(o, "/t-w/rm", "1", 1, -1, NULL, WAIT_MS), PDK_ZOK);
    CHECK_EQ_INT(pdk_exists_sync(c, "/t-w/rm", NULL, NULL, NULL, WAIT_MS), PDK_ZOK);
    CHECK_EQ_INT(count_events(&rm, PDK_EVENT_DATA_CHANGED, NULL), 0);

    /* one watcher of two (checkWatches): only that one is removed */
    struct evlog a = {0}, b = {0};
    CHECK_EQ_INT(OP(c, s, pdk_get_data(c, "/t-w/rm", log_event, &a, pdk_sync_completion, &s)),
                 PDK_ZOK);
    CHECK_EQ_INT(OP(c, s, pdk_get_data(c, "/t-w/rm", log_event, &b, pdk_sync_completion, &s)),
                 PDK_ZOK);
    CHECK_EQ_INT(OP(c, s,
                    pdk_remove_watches(c, "/t-w/rm", PDK_WATCH_DATA, log_event, &a,
                                       pdk_sync_completion, &s)),
                 PDK_ZOK);
    CHECK_EQ_INT(R(&s)->op, PDK_OP_CHECK_WATCHES);
    CHECK_EQ_INT(count_events(&a, PDK_EVENT_DATA_WATCH_REMOVED, "/t-w/rm"), 1);
    CHECK_EQ_INT(pdk_set_sync(o, "/t-w/rm", "2", 1, -1, NULL, WAIT_MS), PDK_ZOK);
    UNTIL(c, b.n >= 1, WAIT_MS);
    CHECK_EQ_INT(count_events(&b, PDK_EVENT_DATA_CHANGED, "/t-w/rm"), 1);
    CHECK_EQ_INT(count_events(&a, PDK_EVENT_DATA_CHANGED, NULL), 0);

    /* removing the persistent watch (type ANY: ZooKeeper 3.8 servers refuse type 4) */
    p.n = 0;
    CHECK_EQ_INT(
        OP(c, s,
           pdk_remove_watches(c, "/t-w/p", PDK_WATCH_ANY, NULL, NULL, pdk_sync_completion, &s)),
        PDK_ZOK);
    CHECK_EQ_INT(count_events(&p, PDK_EVENT_PERSISTENT_WATCH_REMOVED, "/t-w/p"), 1);
    CHECK_EQ_INT(pdk_set_sync(o, "/t-w/p", "3", 1, -1, NULL, WAIT_MS), PDK_ZOK);
    CHECK_EQ_INT(pdk_exists_sync(c, "/t-w/p", NULL, NULL, NULL, WAIT_MS), PDK_ZOK);
    CHECK_EQ_INT(count_events(&p, PDK_EVENT_DATA_CHANGED, NULL), 0);

    /* the recursive watch is still there: freeing tells it CLOSED */
    sync_done(&s);
    rec.n = 0;
    pdk_free(c);
    CHECK_EQ_INT(count_state(&rec, PDK_STATE_CLOSED), 1);
    pdk_free(o);
}

static void test_chroot(void)
{
    struct pdk_client *root = new_client(NULL);
    mk(root, "/t-chroot", NULL);
    char h[128];
    snprintf(h, sizeof(h), "%s/t-chroot", hosts);
    struct evlog w = {0};
    struct pdk_client *c = connect_to(h, NULL, SESSION_MS);
    char *path = NULL;
    CHECK_EQ_INT(pdk_create_sync(c, "/x", "1", 1, NULL, PDK_PERSISTENT, 0, &path, NULL, WAIT_MS),
                 PDK_ZOK);
    CHECK_EQ_STR(path, "/x");
    free(path);
    CHECK_EQ_INT(pdk_exists_sync(root, "/t-chroot/x", NULL, NULL, NULL, WAIT_MS), PDK_ZOK);
    CHECK_EQ_INT(pdk_exists_sync(c, "/", NULL, NULL, NULL, WAIT_MS), PDK_ZOK);
    struct pdk_result *r = NULL;
    CHECK_EQ_INT(pdk_get_children_sync(c, "/", NULL, NULL, &r, WAIT_MS), PDK_ZOK);
    if (r) {
        CHECK_EQ_INT(r->strings.count, 1);
        CHECK(has_string(&r->strings, "x"));
        pdk_result_free(r);
    }
    CHECK_EQ_INT(pdk_create_sync(c, "/s-", NULL, -1, NULL, PDK_PERSISTENT_SEQUENTIAL, 0, &path,
                                 NULL, WAIT_MS),
                 PDK_ZOK);
    CHECK(path && strncmp(path, "/s-", 3) == 0 && strlen(path) == 13);
    free(path);
    CHECK_EQ_INT(pdk_create_sync(c, "/e", NULL, -1, NULL, PDK_EPHEMERAL, 0, NULL, NULL, WAIT_MS),
                 PDK_ZOK);
    struct pdk_sync s = {0};
    CHECK_EQ_INT(OP(c, s, pdk_get_ephemerals(c, "/", pdk_sync_completion, &s)), PDK_ZOK);
    CHECK_EQ_INT(R(&s)->strings.count, 1);
    CHECK(has_string(&R(&s)->strings, "/e"));
    CHECK_EQ_INT(OP(c, s, pdk_sync(c, "/x", pdk_sync_completion, &s)), PDK_ZOK);
    CHECK_EQ_STR(R(&s)->path, "/x");
    struct pdk_op ops[] = {pdk_op_create("/m", NULL, -1, PDK_PERSISTENT)};
    CHECK_EQ_INT(OP(c, s, pdk_multi(c, ops, 1, pdk_sync_completion, &s)), PDK_ZOK);
    CHECK(R(&s)->n_results == 1 && R(&s)->results[0].path &&
          strcmp(R(&s)->results[0].path, "/m") == 0);
    /* getConfig is never chrooted */
    CHECK_EQ_INT(OP(c, s, pdk_get_config(c, NULL, NULL, pdk_sync_completion, &s)), PDK_ZOK);

    /* events come with the chroot stripped, the chroot node itself as "/" */
    CHECK_EQ_INT(OP(c, s, pdk_get_data(c, "/x", log_event, &w, pdk_sync_completion, &s)), PDK_ZOK);
    CHECK_EQ_INT(OP(c, s, pdk_get_children(c, "/", false, log_event, &w, pdk_sync_completion, &s)),
                 PDK_ZOK);
    CHECK_EQ_INT(pdk_set_sync(root, "/t-chroot/x", "2", 1, -1, NULL, WAIT_MS), PDK_ZOK);
    mk(root, "/t-chroot/y", NULL);
    UNTIL(c, w.n >= 2, WAIT_MS);
    CHECK_EQ_INT(count_events(&w, PDK_EVENT_DATA_CHANGED, "/x"), 1);
    CHECK_EQ_INT(count_events(&w, PDK_EVENT_CHILDREN_CHANGED, "/"), 1);
    sync_done(&s);
    pdk_free(c);
    pdk_free(root);
}

/* Pipelined completions must arrive in submission order. */
struct order {
    int next;
    int bad;
    int ok;
};

static void order_cb(struct pdk_client *c, const struct pdk_result *res, void *ctx)
{
    (void)c;
    struct order *o = ctx;
    if (res->op == PDK_OP_GET_DATA && res->rc == PDK_ZOK && res->data_len == 3)
        o->ok++;
    else if (res->op == PDK_OP_SET_DATA && res->rc == PDK_ZOK)
        o->ok++;
    else
        o->bad++;
    o->next++;
}

/* Tops c up to 32 outstanding gets and sets of path (value "abc"), n in all. */
static void top_up(struct pdk_client *c, const char *path, struct order *o, int *submitted, int n)
{
    while (*submitted < n && pdk_outstanding(c) < 32) {
        int rc = *submitted % 10 == 9 ? pdk_set_data(c, path, "abc", 3, -1, order_cb, o)
                                      : pdk_get_data(c, path, NULL, NULL, order_cb, o);
        CHECK_EQ_INT(rc, PDK_ZOK);
        (*submitted)++;
    }
}

static void test_pipeline(void)
{
    struct pdk_client *c = new_client(NULL);
    mk(c, "/t-pipe", "abc");
    struct order o = {0};
    const int n = 5000;
    /* Keep 32 outstanding, as paddock bench does; completions submit the next ones. */
    int submitted = 0;
    while (o.next < n) {
        top_up(c, "/t-pipe", &o, &submitted, n);
        if (turn(c, 1000) != PDK_ZOK)
            break;
    }
    CHECK_EQ_INT(o.next, n);
    CHECK_EQ_INT(o.ok, n);
    CHECK_EQ_INT(o.bad, 0);
    /* a burst bigger than a socket buffer */
    static char big[200000];
    memset(big, 'b', sizeof(big));
    struct pdk_sync s = {0};
    CHECK_EQ_INT(
        OP(c, s, pdk_set_data(c, "/t-pipe", big, sizeof(big), -1, pdk_sync_completion, &s)),
        PDK_ZOK);
    CHECK_EQ_INT(OP(c, s, pdk_get_data(c, "/t-pipe", NULL, NULL, pdk_sync_completion, &s)),
                 PDK_ZOK);
    CHECK_EQ_INT(R(&s)->data_len, (int)sizeof(big));
    sync_done(&s);
    pdk_free(c);
}

/* Counts completions and frees the heap context of watchers on their last event. */
struct tally {
    int completions;
    int closing;
    int watcher_final;
    int unregistered; /* watchers whose request failed: never called, freed by the completion */
};

static void tally_cb(struct pdk_client *c, const struct pdk_result *res, void *ctx)
{
    (void)c;
    struct tally *t = ctx;
    t->completions++;
    if (res->rc == PDK_ZCLOSING)
        t->closing++;
}

struct heap_watch {
    struct tally *t;
    char *junk; /* leaks unless the final event comes */
};

static void heap_watcher(struct pdk_client *c, const struct pdk_event *ev, void *ctx)
{
    (void)c;
    struct heap_watch *h = ctx;
    if (ev->type == PDK_EVENT_SESSION && ev->state == PDK_STATE_CLOSED) {
        h->t->watcher_final++;
        free(h->junk);
        free(h);
    }
}

/* Completion of a request with a heap_watch: a failed request registered nothing. */
static void heap_done_cb(struct pdk_client *c, const struct pdk_result *res, void *ctx)
{
    struct heap_watch *h = ctx;
    struct tally *t = h->t;
    tally_cb(c, res, t);
    if (res->rc != PDK_ZOK) {
        t->unregistered++;
        free(h->junk);
        free(h);
    }
}

static void free_in_callback(struct pdk_client *c, const struct pdk_result *res, void *ctx)
{
    tally_cb(c, res, ctx);
    pdk_free(c);
    /* more requests after pdk_free() are refused */
    if (pdk_get_data(c, "/", NULL, NULL, tally_cb, ctx) != PDK_ZCLOSING)
        ((struct tally *)ctx)->completions += 1000;
}

/*
 * Caller-driven I/O (pdk_output/pdk_output_done/pdk_input): the test moves
 * the bytes itself, in awkward pieces. Output goes out in sends of at most
 * send_max bytes; received bytes are fed in pieces of feed_max (1: every frame is
 * cut everywhere; larger: several frames and a cut one per call).
 */
struct caller_io {
    size_t send_max;
    size_t feed_max;
    int rc; /* the last pdk_input's return */
};

static void io_turn(struct pdk_client *c, struct caller_io *io, int max_ms)
{
    size_t len;
    const void *out;
    while ((out = pdk_output(c, &len)) != NULL) {
        ssize_t n = send(pdk_fd(c), out, len < io->send_max ? len : io->send_max,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n <= 0)
            break;
        CHECK_EQ_INT(pdk_output_done(c, (size_t)n, pdk_now_ms()), PDK_ZOK);
    }
    struct pollfd p = {.fd = pdk_fd(c), .events = POLLIN};
    if (poll(&p, 1, max_ms) <= 0)
        return;
    static uint8_t buf[65536];
    ssize_t n = recv(pdk_fd(c), buf, sizeof(buf), MSG_DONTWAIT);
    if (n <= 0)
        return;
    for (size_t off = 0; off < (size_t)n;) {
        size_t k = (size_t)n - off < io->feed_max ? (size_t)n - off : io->feed_max;
        io->rc = pdk_input(c, buf + off, k, pdk_now_ms());
        if (io->rc != PDK_ZOK)
            return;
        off += k;
    }
}

/* A completion that tries to drive the client from inside a callback. */
static void reentry_cb(struct pdk_client *c, const struct pdk_result *res, void *ctx)
{
    int *seen = ctx;
    CHECK_EQ_INT(res->rc, PDK_ZOK);
    CHECK_EQ_INT(pdk_input(c, "x", 1, pdk_now_ms()), PDK_ZINVALIDSTATE);
    CHECK_EQ_INT(pdk_output_done(c, 0, pdk_now_ms()), PDK_ZINVALIDSTATE);
    (*seen)++;
}

static void test_caller_io(void)
{
    struct evlog g = {0};
    struct pdk_client *c = connect_to(hosts, &g, SESSION_MS);
    mk(c, "/t-cio", "abc");
    int64_t sid = pdk_session_id(c);
    static const struct caller_io shapes[] = {
        {.send_max = 1, .feed_max = 1},
        {.send_max = 7, .feed_max = 13},
        {.send_max = 50, .feed_max = 150}, /* a whole reply and part of the next */
        {.send_max = SIZE_MAX, .feed_max = SIZE_MAX},
    };
    for (size_t k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
        struct caller_io io = shapes[k];
        struct order o = {0};
        const int n = k == 0 ? 200 : 3000;
        int submitted = 0;
        int64_t end = pdk_now_ms() + WAIT_MS;
        while (o.next < n && pdk_now_ms() < end && io.rc == PDK_ZOK) {
            top_up(c, "/t-cio", &o, &submitted, n);
            io_turn(c, &io, 100);
        }
        CHECK_EQ_INT(io.rc, PDK_ZOK);
        CHECK_EQ_INT(o.next, n);
        CHECK_EQ_INT(o.ok, n);
        CHECK_EQ_INT(o.bad, 0);
    }
    /* A reply bigger than any one read, fed 1000 bytes at a time. */
    static char big[200000];
    memset(big, 'c', sizeof(big));
    struct pdk_sync s = {0};
    CHECK_EQ_INT(OP(c, s, pdk_set_data(c, "/t-cio", big, sizeof(big), -1, pdk_sync_completion, &s)),
                 PDK_ZOK);
    sync_done(&s);
    CHECK_EQ_INT(pdk_get_data(c, "/t-cio", NULL, NULL, pdk_sync_completion, &s), PDK_ZOK);
    struct caller_io io = {.send_max = SIZE_MAX, .feed_max = 1000};
    int64_t end = pdk_now_ms() + WAIT_MS;
    while (!s.is_done && pdk_now_ms() < end && io.rc == PDK_ZOK)
        io_turn(c, &io, 100);
    CHECK(s.is_done);
    CHECK_EQ_INT(R(&s)->rc, PDK_ZOK);
    CHECK_EQ_INT(R(&s)->data_len, (int)sizeof(big));
    CHECK(R(&s)->data && R(&s)->data[0] == 'c' && R(&s)->data[sizeof(big) - 1] == 'c');
    sync_done(&s);
    /* Misuse: more bytes done than there were; driving the client from a callback. */
    size_t len;
    CHECK_EQ_INT(pdk_get_data(c, "/", NULL, NULL, NULL, NULL), PDK_ZOK);
    const void *out = pdk_output(c, &len);
    CHECK(out != NULL && len > 0);
    CHECK_EQ_INT(pdk_output_done(c, len + 1, pdk_now_ms()), PDK_ZBADARGUMENTS);
    int seen = 0;
    CHECK_EQ_INT(pdk_exists(c, "/t-cio", NULL, NULL, reentry_cb, &seen), PDK_ZOK);
    io = (struct caller_io){.send_max = SIZE_MAX, .feed_max = SIZE_MAX};
    end = pdk_now_ms() + WAIT_MS;
    while (seen == 0 && pdk_now_ms() < end && io.rc == PDK_ZOK)
        io_turn(c, &io, 100);
    CHECK_EQ_INT(seen, 1);
    /* The caller saw the connection end: what is outstanding fails, the client reconnects
     * (through pdk_process) under the same session. */
    struct tally t = {0};
    CHECK_EQ_INT(pdk_get_data(c, "/t-cio", NULL, NULL, tally_cb, &t), PDK_ZOK);
    int old_fd = pdk_fd(c);
    CHECK_EQ_INT(pdk_input(c, NULL, 0, pdk_now_ms()), PDK_ZOK);
    CHECK_EQ_INT(t.completions, 1);
    CHECK_EQ_INT(count_state(&g, PDK_STATE_DISCONNECTED), 1);
    CHECK(pdk_fd(c) != old_fd || pdk_state(c) != PDK_STATE_CONNECTED);
    /* Until the new connection is up, output is empty and input is ignored. */
    if (pdk_state(c) != PDK_STATE_CONNECTED) {
        CHECK(pdk_output(c, &len) == NULL && len == 0);
        CHECK_EQ_INT(pdk_input(c, "\0\0\0\1x", 5, pdk_now_ms()), PDK_ZOK);
    }
    CHECK_EQ_INT(pdk_wait_connected(c, WAIT_MS), PDK_ZOK);
    CHECK_EQ_INT(pdk_session_id(c), sid);
    /* Bytes that are not the protocol end the connection too. */
    static const uint8_t junk[] = {0x7f, 0xff, 0xff, 0xff, 1, 2, 3};
    CHECK_EQ_INT(pdk_input(c, junk, sizeof(junk), pdk_now_ms()), PDK_ZOK);
    CHECK_EQ_INT(count_state(&g, PDK_STATE_DISCONNECTED), 2);
    CHECK_EQ_INT(pdk_wait_connected(c, WAIT_MS), PDK_ZOK);
    /* A callback that frees the client during pdk_input: the call says so, nothing leaks. */
    struct tally f = {0};
    CHECK_EQ_INT(pdk_get_data(c, "/", NULL, NULL, free_in_callback, &f), PDK_ZOK);
    CHECK_EQ_INT(pdk_get_data(c, "/", NULL, NULL, tally_cb, &f), PDK_ZOK);
    io = (struct caller_io){.send_max = SIZE_MAX, .feed_max = SIZE_MAX};
    end = pdk_now_ms() + WAIT_MS;
    while (f.completions == 0 && pdk_now_ms() < end)
        io_turn(c, &io, 100);
    CHECK_EQ_INT(io.rc, PDK_ZCLOSING);
    CHECK_EQ_INT(f.completions, 2); /* the second one failed with CLOSING */
    CHECK_EQ_INT(f.closing, 1);
}

static void test_free_with_outstanding(void)
{
    struct pdk_client *c = new_client(NULL);
    mk(c, "/t-free", "x");
    struct tally t = {0};
    for (int i = 0; i < 5; i++) {
        struct heap_watch *h = malloc(sizeof(*h));
        h->t = &t;
        h->junk = malloc(100);
        CHECK_EQ_INT(pdk_get_data(c, "/t-free", heap_watcher, h, heap_done_cb, h), PDK_ZOK);
    }
    for (int i = 0; i < 100; i++)
        CHECK_EQ_INT(pdk_get_data(c, "/t-free", NULL, NULL, tally_cb, &t), PDK_ZOK);
    CHECK_EQ_INT(pdk_add_auth(c, "digest", "a:b", 3, tally_cb, &t), PDK_ZOK);
    /* let some go out and some come back */
    turn(c, 0);
    turn(c, 5);
    int done_before = t.completions;
    pdk_free(c);
    CHECK_EQ_INT(t.completions, 106);
    CHECK(t.closing == 106 - done_before);
    /* every watcher context came back: by its final event, or its failed request */
    CHECK_EQ_INT(t.watcher_final + t.unregistered, 5);

    /* the same with the watchers still pending: every heap context comes back */
    c = new_client(NULL);
    struct tally t2 = {0};
    for (int i = 0; i < 5; i++) {
        struct heap_watch *h = malloc(sizeof(*h));
        h->t = &t2;
        h->junk = malloc(100);
        CHECK_EQ_INT(
            pdk_add_watch(c, "/t-free", PDK_ADD_WATCH_PERSISTENT, heap_watcher, h, tally_cb, &t2),
            PDK_ZOK);
    }
    UNTIL(c, t2.completions == 5, WAIT_MS);
    CHECK_EQ_INT(t2.completions, 5);
    for (int i = 0; i < 20; i++)
        CHECK_EQ_INT(pdk_exists(c, "/t-free", NULL, NULL, tally_cb, &t2), PDK_ZOK);
    pdk_free(c);
    CHECK_EQ_INT(t2.completions, 25);
    CHECK_EQ_INT(t2.closing, 20);
    CHECK_EQ_INT(t2.watcher_final, 5);

    /* pdk_free() from a completion: the rest complete with CLOSING, pdk_process says so */
    c = new_client(NULL);
    struct tally t3 = {0};
    CHECK_EQ_INT(pdk_get_data(c, "/t-free", NULL, NULL, free_in_callback, &t3), PDK_ZOK);
    for (int i = 0; i < 10; i++)
        CHECK_EQ_INT(pdk_get_data(c, "/t-free", NULL, NULL, tally_cb, &t3), PDK_ZOK);
    int rc = PDK_ZOK;
    for (int i = 0; i < 500 && rc == PDK_ZOK; i++)
        rc = turn(c, 20); /* c is gone once rc is CLOSING */
    CHECK_EQ_INT(rc, PDK_ZCLOSING);
    CHECK_EQ_INT(t3.completions, 11);
}

static void test_close(void)
{
    struct evlog g = {0};
    struct pdk_client *c = new_client(&g);
    struct pdk_client *o = new_client(NULL);
    CHECK_EQ_INT(
        pdk_create_sync(c, "/t-close-e", NULL, -1, NULL, PDK_EPHEMERAL, 0, NULL, NULL, WAIT_MS),
        PDK_ZOK);
    CHECK_EQ_INT(pdk_close_sync(c, WAIT_MS), PDK_ZOK);
    CHECK_EQ_INT(pdk_state(c), PDK_STATE_CLOSED);
    CHECK_EQ_INT(count_state(&g, PDK_STATE_CLOSED), 1);
    CHECK_EQ_INT(pdk_fd(c), -1);
    CHECK_EQ_INT(pdk_get_data(c, "/", NULL, NULL, NULL, NULL), PDK_ZCLOSING);
    CHECK_EQ_INT(pdk_close(c, NULL, NULL), PDK_ZCLOSING);
    /* the session's ephemeral went with it */
    CHECK_EQ_INT(pdk_exists_sync(o, "/t-close-e", NULL, NULL, NULL, WAIT_MS), PDK_ZNONODE);
    pdk_free(c);
    CHECK_EQ_INT(count_state(&g, PDK_STATE_CLOSED), 1);
    pdk_free(o);
}

/* ---- session ------------------------------------------------------------------------ */

static void test_unknown_session_expires(void)
{
    struct evlog g = {0};
    uint8_t pw[16] = {1, 2, 3};
    struct pdk_options opts = {.session_timeout_ms = SESSION_MS,
                               .watcher = log_event,
                               .watcher_ctx = &g,
                               .session_id = 0x0123456789abLL,
                               .passwd = pw};
    struct pdk_client *c = NULL;
    CHECK_EQ_INT(pdk_new(hosts, &opts, &c), PDK_ZOK);
    struct tally t = {0};
    CHECK_EQ_INT(pdk_get_data(c, "/", NULL, NULL, tally_cb, &t), PDK_ZOK);
    CHECK_EQ_INT(pdk_wait_connected(c, WAIT_MS), PDK_ZSESSIONEXPIRED);
    CHECK_EQ_INT(pdk_state(c), PDK_STATE_EXPIRED);
    CHECK_EQ_INT(count_state(&g, PDK_STATE_EXPIRED), 1);
    CHECK_EQ_INT(pdk_get_data(c, "/", NULL, NULL, NULL, NULL), PDK_ZSESSIONEXPIRED);
    CHECK_EQ_INT(turn(c, 0), PDK_ZSESSIONEXPIRED);
    CHECK_EQ_INT(t.completions, 1); /* the held request failed */
    pdk_free(c);
}

static void test_failover_past_refusing_host(void)
{
    int dead = tsrv_free_port();
    char h[128];
    snprintf(h, sizeof(h), "127.0.0.1:%d,%s", dead, hosts);
    struct pdk_options opts = {.session_timeout_ms = SESSION_MS, .is_shuffle_disabled = true};
    struct pdk_client *c = NULL;
    CHECK_EQ_INT(pdk_new(h, &opts, &c), PDK_ZOK);
    /* a request made before the connection is held and sent once connected */
    struct tally t = {0};
    CHECK_EQ_INT(pdk_exists(c, "/", NULL, NULL, tally_cb, &t), PDK_ZOK);
    CHECK_EQ_INT(pdk_wait_connected(c, WAIT_MS), PDK_ZOK);
    CHECK_EQ_STR(pdk_current_host(c), hosts);
    UNTIL(c, t.completions == 1, WAIT_MS);
    CHECK_EQ_INT(t.completions, 1);
    pdk_free(c);

    /* random order: whichever comes first, the live one is reached */
    for (int i = 0; i < 4; i++) {
        c = connect_to(h, NULL, SESSION_MS);
        CHECK_EQ_STR(pdk_current_host(c), hosts);
        pdk_free(c);
    }
}

static void test_restart_keeps_session_and_watches(void)
{
    struct evlog g = {0}, dw = {0}, rw = {0}, cw = {0}, lw = {0};
    int dead = tsrv_free_port();
    char h[128];
    snprintf(h, sizeof(h), "%s,127.0.0.1:%d", hosts, dead);
    struct pdk_client *c = connect_to(h, &g, 6000);
    struct pdk_client *o = new_client(NULL);
    int64_t sid = pdk_session_id(c);
    mk(o, "/t-rs", NULL);
    mk(o, "/t-rs/d", "0");
    mk(o, "/t-rs/r", NULL);
    mk(o, "/t-rs/l", "0");
    CHECK_EQ_INT(
        pdk_create_sync(c, "/t-rs/eph", NULL, -1, NULL, PDK_EPHEMERAL, 0, NULL, NULL, WAIT_MS),
        PDK_ZOK);
    CHECK_EQ_INT(pdk_add_auth(c, "digest", "u1:pw1", 6, NULL, NULL), PDK_ZOK);
    struct pdk_sync s = {0};
    CHECK_EQ_INT(OP(c, s, pdk_get_data(c, "/t-rs/d", log_event, &dw, pdk_sync_completion, &s)),
                 PDK_ZOK);
    CHECK_EQ_INT(OP(c, s, pdk_exists(c, "/t-rs/new", log_event, &cw, pdk_sync_completion, &s)),
                 PDK_ZNONODE);
    CHECK_EQ_INT(OP(c, s, pdk_get_data(c, "/t-rs/l", log_event, &lw, pdk_sync_completion, &s)),
                 PDK_ZOK);
    CHECK_EQ_INT(OP(c, s,
                    pdk_add_watch(c, "/t-rs/r", PDK_ADD_WATCH_PERSISTENT_RECURSIVE, log_event, &rw,
                                  pdk_sync_completion, &s)),
                 PDK_ZOK);
    pdk_free(o);

    /* a request in flight when the server dies fails with CONNECTIONLOSS */
    struct tally t = {0};
    tsrv_stop(&srv, SIGKILL);
    CHECK_EQ_INT(pdk_get_data(c, "/t-rs/d", NULL, NULL, tally_cb, &t), PDK_ZOK);
    struct pdk_sync lost = {0}, rl = {0};
    CHECK_EQ_INT(pdk_exists(c, "/t-rs", NULL, NULL, pdk_sync_completion, &lost), PDK_ZOK);
    /* removeWatches with local (zkCli -l) lost with the connection: removed here all the
     * same, and it succeeds (ClientCnxn.finishPacket) */
    CHECK_EQ_INT(pdk_remove_watches_local(c, "/t-rs/l", PDK_WATCH_DATA, NULL, NULL, true,
                                          pdk_sync_completion, &rl),
                 PDK_ZOK);
    CHECK_EQ_INT(pdk_wait(c, &lost, WAIT_MS), PDK_ZCONNECTIONLOSS);
    pdk_result_free(lost.result);
    CHECK_EQ_INT(pdk_wait(c, &rl, WAIT_MS), PDK_ZOK);
    pdk_result_free(rl.result);
    CHECK_EQ_INT(count_events(&lw, PDK_EVENT_DATA_WATCH_REMOVED, "/t-rs/l"), 1);
    CHECK_EQ_INT(lw.n, 1);
    CHECK_EQ_INT(lw.ev[0].state, PDK_STATE_DISCONNECTED);
    UNTIL(c, count_state(&g, PDK_STATE_DISCONNECTED) >= 1, WAIT_MS);
    CHECK_EQ_INT(count_state(&g, PDK_STATE_DISCONNECTED), 1);
    CHECK_EQ_INT(t.completions, 1);
    CHECK_EQ_INT(pdk_state(c), PDK_STATE_CONNECTING);
    /* keep trying (both addresses refuse) for a moment, then the server is back */
    UNTIL(c, false, 700);
    if (tsrv_start(&srv) != 0) {
        CHECK(0);
        pdk_free(c);
        return;
    }
    CHECK_EQ_INT(pdk_wait_connected(c, WAIT_MS), PDK_ZOK);
    CHECK_EQ_INT(pdk_session_id(c), sid);
    CHECK_EQ_INT(count_state(&g, PDK_STATE_CONNECTED), 2);
    CHECK_EQ_STR(pdk_current_host(c), hosts);

    /* the session's ephemeral is still its own; auth was re-sent */
    struct pdk_stat st;
    CHECK_EQ_INT(pdk_exists_sync(c, "/t-rs/eph", NULL, NULL, &st, WAIT_MS), PDK_ZOK);
    CHECK_EQ_INT(st.ephemeral_owner, sid);
    CHECK_EQ_INT(OP(c, s, pdk_who_am_i(c, pdk_sync_completion, &s)), PDK_ZOK);
    bool has_digest = false;
    for (int32_t i = 0; i < R(&s)->n_infos; i++)
        if (strcmp(R(&s)->infos[i].scheme, "digest") == 0)
            has_digest = true;
    CHECK(has_digest);

    /* the watches were registered again with setWatches2 */
    o = new_client(NULL);
    CHECK_EQ_INT(pdk_set_sync(o, "/t-rs/d", "1", 1, -1, NULL, WAIT_MS), PDK_ZOK);
    CHECK_EQ_INT(pdk_set_sync(o, "/t-rs/l", "1", 1, -1, NULL, WAIT_MS), PDK_ZOK);
    mk(o, "/t-rs/new", NULL);
    mk(o, "/t-rs/r/x", NULL);
    UNTIL(c, dw.n >= 1 && cw.n >= 1 && rw.n >= 1, WAIT_MS);
    CHECK_EQ_INT(count_events(&dw, PDK_EVENT_DATA_CHANGED, "/t-rs/d"), 1);
    CHECK_EQ_INT(count_events(&cw, PDK_EVENT_CREATED, "/t-rs/new"), 1);
    CHECK_EQ_INT(count_events(&rw, PDK_EVENT_CREATED, "/t-rs/r/x"), 1);
    CHECK_EQ_INT(lw.n, 1); /* the locally removed watch was not set again */

    /* a change made while the client is away fires on reconnection (relative zxid) */
    dw.n = 0;
    CHECK_EQ_INT(OP(c, s, pdk_get_data(c, "/t-rs/d", log_event, &dw, pdk_sync_completion, &s)),
                 PDK_ZOK);
    tsrv_stop(&srv, SIGTERM);
    UNTIL(c, count_state(&g, PDK_STATE_DISCONNECTED) >= 2, WAIT_MS);
    pdk_free(o);
    if (tsrv_start(&srv) != 0) {
        CHECK(0);
        pdk_free(c);
        return;
    }
    o = new_client(NULL);
    CHECK_EQ_INT(pdk_set_sync(o, "/t-rs/d", "2", 1, -1, NULL, WAIT_MS), PDK_ZOK);
    CHECK_EQ_INT(pdk_wait_connected(c, WAIT_MS), PDK_ZOK);
    UNTIL(c, dw.n >= 1, WAIT_MS);
    CHECK_EQ_INT(count_events(&dw, PDK_EVENT_DATA_CHANGED, "/t-rs/d"), 1);
    CHECK_EQ_INT(pdk_session_id(c), sid);
    sync_done(&s);
    pdk_free(o);
    pdk_free(c);
}

static void test_expiry_while_not_processing(void)
{
    struct evlog g = {0}, w = {0};
    struct pdk_client *c = connect_to(hosts, &g, 1000);
    CHECK_EQ_INT(pdk_session_timeout_ms(c), 1000);
    struct pdk_sync s = {0};
    mk(c, "/t-exp", NULL);
    CHECK_EQ_INT(OP(c, s, pdk_get_data(c, "/t-exp", log_event, &w, pdk_sync_completion, &s)),
                 PDK_ZOK);
    sync_done(&s);
    /* while the loop runs, pings (every 333 ms) keep the 1 s session alive */
    UNTIL(c, false, 2500);
    CHECK_EQ_INT(pdk_state(c), PDK_STATE_CONNECTED);
    CHECK_EQ_INT(count_state(&g, PDK_STATE_DISCONNECTED), 0);
    /* the client's loop stalls: no pings for 4 session timeouts */
    usleep(4000 * 1000);
    UNTIL(c, pdk_state(c) == PDK_STATE_EXPIRED, WAIT_MS);
    CHECK_EQ_INT(pdk_state(c), PDK_STATE_EXPIRED);
    CHECK_EQ_INT(count_state(&g, PDK_STATE_DISCONNECTED), 1);
    CHECK_EQ_INT(count_state(&g, PDK_STATE_EXPIRED), 1);
    /* the watcher's registration ended with the session */
    CHECK_EQ_INT(count_state(&w, PDK_STATE_EXPIRED), 1);
    CHECK_EQ_INT(pdk_get_data(c, "/t-exp", NULL, NULL, NULL, NULL), PDK_ZSESSIONEXPIRED);
    CHECK_EQ_INT(turn(c, 0), PDK_ZSESSIONEXPIRED);
    pdk_free(c);
}

/* A server that stops answering: after 2/3 of the timeout the client gives up on the
 * connection, and resumes the session once the server is back. */
static void test_silent_server(void)
{
    struct evlog g = {0};
    struct pdk_client *c = connect_to(hosts, &g, 6000);
    int64_t sid = pdk_session_id(c);
    struct tally t = {0};
    kill(srv.pid, SIGSTOP);
    CHECK_EQ_INT(pdk_get_data(c, "/", NULL, NULL, tally_cb, &t), PDK_ZOK);
    int64_t start = pdk_now_ms();
    UNTIL(c, count_state(&g, PDK_STATE_DISCONNECTED) >= 1, WAIT_MS);
    int64_t waited = pdk_now_ms() - start;
    CHECK_EQ_INT(count_state(&g, PDK_STATE_DISCONNECTED), 1);
    CHECK(waited >= 3000); /* not before the read timeout (4 s, minus ping slack) */
    CHECK_EQ_INT(t.completions, 1);
    kill(srv.pid, SIGCONT);
    CHECK_EQ_INT(pdk_wait_connected(c, WAIT_MS), PDK_ZOK);
    CHECK_EQ_INT(pdk_session_id(c), sid);
    CHECK_EQ_INT(pdk_exists_sync(c, "/", NULL, NULL, NULL, WAIT_MS), PDK_ZOK);
    pdk_free(c);
}

static void test_resume_by_id(void)
{
    struct pdk_client *c = new_client(NULL);
    CHECK_EQ_INT(
        pdk_create_sync(c, "/t-resume", NULL, -1, NULL, PDK_EPHEMERAL, 0, NULL, NULL, WAIT_MS),
        PDK_ZOK);
    uint8_t pw[16];
    pdk_session_passwd(c, pw);
    struct pdk_options opts = {
        .session_timeout_ms = SESSION_MS, .session_id = pdk_session_id(c), .passwd = pw};
    /* A wrong password: expired. (The server first drops the session's current connection,
     * as Apache does, so this goes before the resume below.) */
    pw[0] ^= 0xff;
    struct pdk_client *c3 = NULL;
    CHECK_EQ_INT(pdk_new(hosts, &opts, &c3), PDK_ZOK);
    CHECK_EQ_INT(pdk_wait_connected(c3, WAIT_MS), PDK_ZSESSIONEXPIRED);
    pdk_free(c3);
    pw[0] ^= 0xff;
    struct pdk_client *c2 = NULL;
    CHECK_EQ_INT(pdk_new(hosts, &opts, &c2), PDK_ZOK);
    CHECK_EQ_INT(pdk_wait_connected(c2, WAIT_MS), PDK_ZOK);
    CHECK_EQ_INT(pdk_session_id(c2), pdk_session_id(c));
    struct pdk_sync s = {0};
    CHECK_EQ_INT(OP(c2, s, pdk_get_ephemerals(c2, "/", pdk_sync_completion, &s)), PDK_ZOK);
    CHECK(has_string(&R(&s)->strings, "/t-resume"));
    sync_done(&s);
    CHECK_EQ_INT(pdk_close_sync(c2, WAIT_MS), PDK_ZOK);
    pdk_free(c2);
    pdk_free(c);
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "paddock") != 0 && strcmp(argv[1], "zookeeper") != 0)) {
        fprintf(stderr, "usage: %s <paddock|zookeeper> <ops|session>\n", argv[0]);
        return 2;
    }
    kind = strcmp(argv[1], "paddock") == 0 ? TSRV_PADDOCK : TSRV_ZOOKEEPER;
    if (!tsrv_available(kind)) {
        printf("SKIPPED: %s\n", kind == TSRV_PADDOCK ? "PADDOCK_BIN is not set"
                                                     : "java or /usr/share/java/zookeeper.jar "
                                                       "is missing");
        return 77;
    }
    signal(SIGALRM, watchdog);
    signal(SIGPIPE, SIG_IGN);
    alarm(RUN_LIMIT_S);
    if (tsrv_init(&srv, kind) != 0 || tsrv_start(&srv) != 0) {
        fprintf(stderr, "could not start the %s server\n", argv[1]);
        tsrv_cleanup(&srv);
        return 1;
    }
    tsrv_hosts(&srv, hosts, sizeof(hosts));
    if (strcmp(argv[2], "ops") == 0) {
        RUN(test_connect_info);
        RUN(test_bad_arguments);
        RUN(test_crud);
        RUN(test_children_and_counts);
        RUN(test_ephemerals_sync_config_whoami);
        RUN(test_acl_and_auth);
        RUN(test_multi);
        RUN(test_watches);
        RUN(test_chroot);
        RUN(test_pipeline);
        RUN(test_caller_io);
        RUN(test_free_with_outstanding);
        RUN(test_close);
    } else {
        RUN(test_unknown_session_expires);
        RUN(test_failover_past_refusing_host);
        RUN(test_resume_by_id);
        RUN(test_expiry_while_not_processing);
        RUN(test_silent_server);
        RUN(test_restart_keeps_session_and_watches);
    }
    if (t_tests_failed)
        tsrv_show_log(&srv);
    tsrv_cleanup(&srv);
    return t_done();
}
