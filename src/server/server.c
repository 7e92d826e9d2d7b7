/*
 * Server start-up and shutdown: load zoo.cfg, build the tree and session
 * table, listen on the client port, run the loop until SIGTERM/SIGINT, and
 * release everything on the way out so that ASan sees no leak.
 */
#include "server/server.h"

#include "common/alloc.h"
#include "common/err.h"
#include "common/log.h"
#include "storage/txnlog.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int64_t server_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t server_mono_ms(struct server *srv)
{
    uv_update_time(&srv->loop);
    return (int64_t)uv_now(&srv->loop);
}

static void on_tick(uv_timer_t *t)
{
    struct server *srv = t->data;
    dispatch_expire_sessions(srv, server_mono_ms(srv));
}

static void on_container_tick(uv_timer_t *t)
{
    dispatch_reap_containers(t->data);
}

static struct conn *pop_dirty(struct server *srv)
{
    struct conn *c = srv->dirty;
    if (!c)
        return NULL;
    srv->dirty = c->dirty_next;
    if (!srv->dirty)
        srv->dirty_tail = NULL;
    c->dirty_next = NULL;
    c->is_dirty = false;
    return c;
}

static void on_batch_sent(uint64_t tag, int res, void *arg)
{
    (void)arg;
    conn_flush_sent((struct conn *)(uintptr_t)tag, res);
}

static void submit_sends(struct server *srv)
{
    if (sendbatch_submit(srv->sendbatch, on_batch_sent, srv) == 0)
        return;
    /* Its connections were closed (on_batch_sent with -EIO); write one by one from now. */
    pd_error("io_uring failed sending replies; writing them one by one from now on");
    sendbatch_close(srv->sendbatch);
    srv->sendbatch = NULL;
}

/* The turn's replies, in one system call per SENDBATCH_ENTRIES connections. */
static void flush_batched(struct server *srv)
{
    struct conn *c;
    while (srv->sendbatch && (c = pop_dirty(srv)) != NULL) {
        if (!conn_flush_prepare(c))
            continue;
        sendbatch_add(srv->sendbatch, conn_fd(c), c->out.data, c->out.len, (uintptr_t)c);
        if (sendbatch_full(srv->sendbatch))
            submit_sends(srv);
    }
    if (srv->sendbatch)
        submit_sends(srv);
}

static void on_flush_check(uv_check_t *h)
{
    struct server *srv = h->data;
    /* Txns made durable this turn are applied and answered before anything is written. */
    pipeline_commit(srv);
    storage_kick(srv);
    quorum_flush(srv);
    if (srv->sendbatch)
        flush_batched(srv);
    /* Without a ring, or what is left when it failed mid-turn. */
    struct conn *c;
    while ((c = pop_dirty(srv)) != NULL)
        conn_flush(c);
    if (srv->is_stopping && !srv->conns && !uv_is_closing((uv_handle_t *)h)) {
        uv_close((uv_handle_t *)h, NULL);
        reads_stop_polling(srv);
    }
}

static void on_snap_async(uv_async_t *h)
{
    snapshotter_reap(h->data);
}

static void on_sigusr1(uv_signal_t *h, int signum)
{
    (void)signum;
    snapshotter_take(h->data, "SIGUSR1");
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct server *srv = h->data;
    if (srv->is_stopping)
        return;
    if (signum)
        pd_info("received signal %d, shutting down", signum);
    else
        pd_info("shutting down after a fatal error");
    srv->is_stopping = true;
    uv_close((uv_handle_t *)&srv->listener, NULL);
    uv_timer_stop(&srv->tick_timer);
    uv_timer_stop(&srv->container_timer);
    for (struct conn *c = srv->conns; c; c = c->next)
        conn_close(c, "server shutting down");
    quorum_stop(srv);
    /* What the log already holds is applied and answered; the thread ends. */
    storage_stop(srv);
    uv_signal_stop(&srv->sigterm);
    uv_signal_stop(&srv->sigint);
    uv_signal_stop(&srv->sigusr1);
    uv_close((uv_handle_t *)&srv->sigusr1, NULL);
    /* Let a snapshot being taken finish: it is complete, and the tree no longer changes. */
    snapshotter_wait(srv);
    uv_close((uv_handle_t *)&srv->snap_async, NULL);
    uv_close((uv_handle_t *)&srv->sigterm, NULL);
    uv_close((uv_handle_t *)&srv->sigint, NULL);
    uv_close((uv_handle_t *)&srv->tick_timer, NULL);
    uv_close((uv_handle_t *)&srv->container_timer, NULL);
    /* The flush check stays until every connection is gone; see server_main. */
}

void server_note_digest(struct server *srv, int64_t zxid)
{
    if (zxid % SERVER_DIGEST_LOG_INTERVAL != 0)
        return;
    int at = (srv->digest_log_head + srv->digest_log_n) % SERVER_DIGEST_LOG_LIMIT;
    srv->digest_log[at] = (struct digest_entry){.zxid = zxid, .digest = tree_digest(srv->tree)};
    if (srv->digest_log_n < SERVER_DIGEST_LOG_LIMIT)
        srv->digest_log_n++;
    else
        srv->digest_log_head = (srv->digest_log_head + 1) % SERVER_DIGEST_LOG_LIMIT;
}

void server_fatal(struct server *srv)
{
    srv->exit_status = 1;
    if (!srv->is_stopping)
        on_signal(&srv->sigterm, 0);
}

/* mkdir -p, as ZooKeeper creates a missing dataDir. */
static int make_dirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(buf))
        return PD_EINVAL;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return PD_EIO;
            buf[i] = c;
        }
    }
    return 0;
}

/*
 * Takes an exclusive flock on <dir>/.paddock.lock so that a second server on the
 * same data directory refuses to start. The kernel drops the lock when the
 * process dies, however it dies. Apache ZooKeeper ignores the file. Returns the
 * descriptor (kept open for the server's life) or -1.
 */
static int lock_dir(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/.paddock.lock", dir) >= (int)sizeof(path)) {
        pd_error("data directory path too long: %s", dir);
        return -1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        pd_error("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        pd_error("%s is in use by another server (%s is locked); refusing to start", dir, path);
        close(fd);
        return -1;
    }
    return fd;
}

static int64_t clock_ms(void *arg)
{
    (void)arg;
    return (int64_t)(uv_hrtime() / 1000000);
}

/*
 * Recovers the tree from <dataDir>/version-2 and <dataLogDir>/version-2 (made
 * if missing, as ZooKeeper does) and starts the storage thread on the log.
 */
static int open_storage(struct server *srv)
{
    char snap_dir[4096], log_dir[4096];
    snprintf(snap_dir, sizeof(snap_dir), "%s/version-2", srv->cfg.data_dir);
    snprintf(log_dir, sizeof(log_dir), "%s/version-2", srv->cfg.data_log_dir);
    if (make_dirs(snap_dir) != 0 || make_dirs(log_dir) != 0) {
        pd_error("cannot create %s or %s: %s", snap_dir, log_dir, strerror(errno));
        return PD_EIO;
    }
    file_posix_init(&srv->fs);
    srandom((unsigned)(server_wall_ms() ^ getpid()));
    int rc = recovery_run(srv, snap_dir, log_dir);
    if (rc != 0)
        return rc;
    srv->next_zxid = srv->last_zxid + 1;
    srv->durable_zxid = srv->last_zxid;
    struct txnlog_options opt;
    txnlog_options_default(&opt);
    opt.prealloc_bytes = (uint64_t)srv->cfg.pre_alloc_size_kb * 1024;
    opt.fsync_warn_ms = srv->cfg.fsync_warning_threshold_ms;
    opt.clock = clock_ms;
    struct txnlog *log;
    rc = txnlog_open(&srv->fs, log_dir, &opt, &log);
    if (rc == 0) {
        rc = storage_start(srv, log);
        if (rc != 0)
            txnlog_close(log);
    }
    if (rc != 0)
        pd_error("cannot start the txn log in %s: %s", log_dir, pd_strerror(rc));
    return rc;
}

/* The same directory however it is spelled ("/d" and "/d/", links): by device and inode. */
static bool same_dir(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
        return strcmp(a, b) == 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int server_resolve(const char *host, int port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0 ||
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0)
        return 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0)
        return rc == EAI_NONAME ? UV_EAI_NONAME : rc == EAI_AGAIN ? UV_EAI_AGAIN : UV_EAI_FAIL;
    const struct addrinfo *pick = NULL;
    for (const struct addrinfo *a = res; a && !pick; a = a->ai_next)
        if (a->ai_family == AF_INET)
            pick = a;
    for (const struct addrinfo *a = res; a && !pick; a = a->ai_next)
        if (a->ai_family == AF_INET6)
            pick = a;
    if (!pick) {
        freeaddrinfo(res);
        return UV_EAI_ADDRFAMILY;
    }
    memcpy(ss, pick->ai_addr, pick->ai_addrlen);
    freeaddrinfo(res);
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
    return 0;
}

static int listen_client_port(struct server *srv)
{
    const char *addr = srv->cfg.client_port_address ? srv->cfg.client_port_address : "0.0.0.0";
    struct sockaddr_storage ss;
    int rc = server_resolve(addr, srv->cfg.client_port, &ss);
    if (rc != 0) {
        pd_error("clientPortAddress %s: %s", addr, uv_strerror(rc));
        return PD_ECONFIG;
    }
    uv_tcp_init(&srv->loop, &srv->listener);
    srv->listener.data = srv;
    rc = uv_tcp_bind(&srv->listener, (struct sockaddr *)&ss, 0);
    if (rc == 0) {
        int backlog =
            srv->cfg.client_port_listen_backlog > 0 ? srv->cfg.client_port_listen_backlog : 511;
        rc = uv_listen((uv_stream_t *)&srv->listener, backlog, conn_on_accept);
    }
    if (rc != 0) {
        pd_error("cannot listen on %s:%d: %s", addr, srv->cfg.client_port, uv_strerror(rc));
        return PD_EIO;
    }
    pd_info("binding to port %s:%d", addr, srv->cfg.client_port);
    return 0;
}

static void walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

int server_main(const char *config_path)
{
    struct server *srv = pd_calloc(1, sizeof(*srv));
    if (!srv) {
        fprintf(stderr, "paddock: out of memory\n");
        return 1;
    }
    srv->lock_fds[0] = srv->lock_fds[1] = -1;
    int status = 1;
    config_init(&srv->cfg);
    if (config_load(&srv->cfg, config_path) != 0) {
        pd_error("%s", srv->cfg.errmsg);
        goto out_config;
    }
    if (srv->cfg.client_port <= 0) {
        pd_error("%s: clientPort is not set", config_path);
        goto out_config;
    }
    if (make_dirs(srv->cfg.data_dir) != 0) {
        pd_error("cannot create dataDir %s: %s", srv->cfg.data_dir, strerror(errno));
        goto out_config;
    }
    srv->lock_fds[0] = lock_dir(srv->cfg.data_dir);
    if (srv->lock_fds[0] < 0)
        goto out_config;
    if (make_dirs(srv->cfg.data_log_dir) != 0) {
        pd_error("cannot create dataLogDir %s: %s", srv->cfg.data_log_dir, strerror(errno));
        goto out_config;
    }
    if (!same_dir(srv->cfg.data_dir, srv->cfg.data_log_dir)) {
        srv->lock_fds[1] = lock_dir(srv->cfg.data_log_dir);
        if (srv->lock_fds[1] < 0)
            goto out_config;
    }
    if (uv_loop_init(&srv->loop) != 0)
        goto out_config;
    srv->tree = tree_new(dispatch_deliver, srv);
    if (!srv->tree) {
        pd_error("out of memory");
        goto out_loop;
    }
    tree_set_extended_types(srv->tree, srv->cfg.extended_types_enabled);
    /* Standalone ZooKeeper gives its session tracker server id 1 (top byte of session ids);
     * in an ensemble it is myid. */
    srv->server_id = config_is_distributed(&srv->cfg) ? srv->cfg.my_id : 1;
    stats_init(&srv->stats, server_wall_ms());
    srv->trace_mask = FOURLW_DEFAULT_TRACE_MASK;
    if (sess_table_init(&srv->sessions, srv->cfg.tick_ms, srv->server_id, server_wall_ms()) != 0)
        goto out_tree;
    arena_init(&srv->arena, 64 * 1024);
    if (open_storage(srv) != 0)
        goto out_handles;
    /* Quorum mode (server.N lines and myid): the ensemble driver, quorum.c. */
    if (config_is_distributed(&srv->cfg) && quorum_start(srv) != 0)
        goto out_handles;

    if (listen_client_port(srv) != 0)
        goto out_handles;
    uv_signal_init(&srv->loop, &srv->sigterm);
    uv_signal_init(&srv->loop, &srv->sigint);
    srv->sigterm.data = srv->sigint.data = srv;
    uv_signal_start(&srv->sigterm, on_signal, SIGTERM);
    uv_signal_start(&srv->sigint, on_signal, SIGINT);
    uv_signal_init(&srv->loop, &srv->sigusr1);
    srv->sigusr1.data = srv;
    uv_signal_start(&srv->sigusr1, on_sigusr1, SIGUSR1);
    uv_async_init(&srv->loop, &srv->snap_async, on_snap_async);
    srv->snap_async.data = srv;
    /* ZooKeeper snapshots at start (ZooKeeperServer.loadData) and refuses a directory that
     * has logs but no snapshot; write one when there is none, so Apache can take ours. */
    if (!srv->has_snapshot)
        snapshotter_take(srv, "no snapshot in dataDir yet");
    uv_timer_init(&srv->loop, &srv->tick_timer);
    srv->tick_timer.data = srv;
    uv_timer_start(&srv->tick_timer, on_tick, (uint64_t)srv->cfg.tick_ms,
                   (uint64_t)srv->cfg.tick_ms);
    uv_timer_init(&srv->loop, &srv->container_timer);
    srv->container_timer.data = srv;
    uint64_t reap_ms =
        (uint64_t)(srv->cfg.container_check_interval_ms > 0 ? srv->cfg.container_check_interval_ms
                                                            : 60000);
    uv_timer_start(&srv->container_timer, on_container_tick, reap_ms, reap_ms);
    if (sendbatch_open(&srv->sendbatch) == 0)
        pd_info("replies are sent in batches through io_uring");
    else
        pd_info("replies are written one write() each (io_uring not available or "
                "PADDOCK_NO_URING set)");
    if (reads_open(srv) == 0)
        pd_info("requests are received through io_uring");
    else
        pd_info("requests are read one read() each (io_uring not available or "
                "PADDOCK_NO_URING set)");
    uv_check_init(&srv->loop, &srv->flush_check);
    srv->flush_check.data = srv;
    uv_check_start(&srv->flush_check, on_flush_check);
    autopurge_start(srv);

    pd_info("Paddock %s (ZooKeeper %s protocol) %s, tickTime %d ms, session timeouts "
            "%d-%d ms, dataDir %s, dataLogDir %s%s",
            PADDOCK_VERSION, SERVER_ZK_VERSION, srv->quorum ? "in an ensemble" : "standalone",
            srv->cfg.tick_ms, config_min_session_timeout_ms(&srv->cfg),
            config_max_session_timeout_ms(&srv->cfg), srv->cfg.data_dir, srv->cfg.data_log_dir,
            srv->cfg.force_sync ? "" : "; forceSync=no: writes are not fsynced");
    uv_run(&srv->loop, UV_RUN_DEFAULT);
    status = srv->exit_status;

out_handles:
    /* Peer links first, through their own close path: closed by the walk below, a link whose
     * connect or write then fails would be closed a second time (libuv asserts). Seen when
     * the client port was taken after the quorum ports were bound. */
    quorum_stop(srv);
    /* The storage thread too, when start-up failed after it began or the server stopped
     * itself (server_fatal): storage_free() would otherwise wait forever on its condvar. */
    storage_stop(srv);
    /* Drain: connections close, the flush check goes last. */
    uv_walk(&srv->loop, walk_close, NULL);
    while (uv_run(&srv->loop, UV_RUN_DEFAULT) != 0)
        ;
    sendbatch_close(srv->sendbatch);
    srv->sendbatch = NULL;
    reads_free(srv);
    snapshotter_free(srv);
    pipeline_close(srv);
    quorum_free(srv);
    storage_free(srv);
    arena_close(&srv->arena);
    sess_table_close(&srv->sessions);
out_tree:
#ifndef PADDOCK_TEST_BUILD
    /* A large tree is left to the exit that follows: freeing a million nodes one by one took
     * 0.8 s of a clean stop (glibc's free over a heap the write path fragmented), where the
     * exit returns the memory at once. The test build always frees, so that ASan keeps
     * checking that every node has an owner. */
    if (tree_node_count(srv->tree) < 100000)
#endif
        tree_free(srv->tree);
out_loop:
    uv_loop_close(&srv->loop);
out_config:
    for (int i = 0; i < 2; i++)
        if (srv->lock_fds[i] >= 0)
            close(srv->lock_fds[i]);
    config_free(&srv->cfg);
    pd_free(srv);
    if (status == 0)
        pd_info("shut down cleanly");
    return status;
}
