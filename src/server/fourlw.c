/*
 * Four-letter words on the client port: a connection whose first four bytes spell a known
 * command gets a text answer and is closed (ZooKeeper's NIOServerCnxn.checkFourLetterWord).
 * Commands outside 4lw.commands.whitelist get ZooKeeper's "<cmd> is not executed because it
 * is not in the whitelist." ("srvr" is always allowed, as zkServer.sh needs it).
 *
 * The output of every command is byte-for-byte what Apache ZooKeeper 3.8 prints in
 * standalone mode, so the tools that parse it keep working, with these deliberate
 * differences:
 *   - the version is "3.8.0-paddock-<version>, built on MM/DD/YYYY HH:MM GMT" (3.8 itself
 *     prints "yyyy-MM-dd HH:mm UTC"; widely used parsers such as go-zookeeper's FLWSrvr only
 *     accept the older MM/DD/YYYY form, which every 3.8 parser we know also accepts);
 *   - envi describes this process: java.* keys read "<NA>", os.memory.* are the resident set
 *     (total), the physical memory (max) and 0 (free), host.name is gethostname() (ZooKeeper
 *     does a reverse lookup, which would block the loop);
 *   - mntr has no per-namespace summaries (zk_*_read_per_namespace, written by DataTree)
 *     and no quota gauge sets; several metrics are placeholders, see mntr_counters below;
 *   - lists whose order is a Java hash order (connections, sessions, watches) come in
 *     Paddock's own order; "Sessions with Ephemerals" lists only sessions owning at least one
 *     ephemeral (ZooKeeper also lists a live session whose ephemerals were all deleted).
 *
 * Statistics: a 4lw counts as one received packet of 4 bytes before it runs (so srvr counts
 * itself), and its answer as one sent packet per 8192 bytes (ZooKeeper's PrintWriter buffer),
 * none when empty.
 *
 * Facts from apache/zookeeper 3.8: the server/command classes, FourLetterCommands.java,
 * NIOServerCnxn.java (checkFourLetterWord, getInterestOps, toString), ServerCnxn.java
 * (dumpConnectionInfo), ServerStats.java, ZooKeeperServer.java (dumpConf, getDataDirSize,
 * registerMetrics, dumpMonitorValues), ServerMetrics.java, DefaultMetricsProvider.java (mntr
 * order: monitor values, gauges, counters, summaries, percentile summaries, each map in its
 * hash order, which we copy as observed), MonitorCommand.java, Environment.java,
 * SessionTrackerImpl.java and ExpiryQueue.java (dump), NIOServerCnxnFactory.java
 * (sessionless connection timeout), DataTree.java and WatchManager.java (wchs/wchc/wchp),
 * ZooTrace.java (gtmk default 306).
 */
#include "server/server.h"

#include "common/alloc.h"
#include "common/err.h"
#include "common/log.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* ZooKeeper's PrintWriter buffer: each full buffer is one sent packet. */
#define FOURLW_CHUNK_BYTES 8192
/* NIOServerCnxnFactory: zookeeper.nio.sessionlessCnxnTimeout, also the expiry interval. */
#define FOURLW_SESSIONLESS_CNXN_TIMEOUT_MS 10000
/* AbstractFourLetterCommand.ZK_NOT_SERVING */
#define NOT_SERVING "This ZooKeeper instance is not currently serving requests"

/* ---- output helpers ----------------------------------------------------------------- */

static void put(struct jute_out *o, const char *s)
{
    jute_put_raw(o, s, strlen(s));
}

static void putf(struct jute_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void putf(struct jute_out *o, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        jute_put_raw(o, small, (size_t)n);
        return;
    }
    char *big = pd_malloc((size_t)n + 1);
    if (!big) {
        o->err = o->err ? o->err : PD_ENOMEM;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    jute_put_raw(o, big, (size_t)n);
    pd_free(big);
}

/* Version.getFullVersion(), with the build time of this file in the pre-3.7 date format. */
static void full_version(char *out, size_t out_len)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char *date = __DATE__; /* "Mmm dd yyyy", day padded with a space */
    const char *tod = __TIME__;  /* "hh:mm:ss" */
    int month = 1;
    for (int i = 0; i < 12; i++)
        if (strncmp(months + 3 * i, date, 3) == 0)
            month = i + 1;
    int day = atoi(date + 4);
    snprintf(out, out_len, "%s-paddock-%s, built on %02d/%02d/%.4s %.5s GMT", SERVER_ZK_VERSION,
             PADDOCK_VERSION, month, day, date + 7, tod);
}

/*
 * InetSocketAddress.toString() of a peer, as Java 14+ prints it: "/1.2.3.4:5" or
 * "/[0:0:0:0:0:0:0:1]:5" (Inet6Address.getHostAddress: eight groups, no "::"). An
 * IPv4-mapped IPv6 peer is an Inet4Address in Java.
 */
static void java_addr(const struct conn *c, char *out, size_t out_len)
{
    struct in6_addr a6;
    if (strchr(c->peer_ip, ':') && inet_pton(AF_INET6, c->peer_ip, &a6) == 1) {
        const uint8_t *b = a6.s6_addr;
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(b, mapped, sizeof(mapped)) == 0) {
            snprintf(out, out_len, "/%u.%u.%u.%u:%d", b[12], b[13], b[14], b[15], c->peer_port);
            return;
        }
        snprintf(out, out_len, "/[%x:%x:%x:%x:%x:%x:%x:%x]:%d", b[0] << 8 | b[1], b[2] << 8 | b[3],
                 b[4] << 8 | b[5], b[6] << 8 | b[7], b[8] << 8 | b[9], b[10] << 8 | b[11],
                 b[12] << 8 | b[13], b[14] << 8 | b[15], c->peer_port);
        return;
    }
    snprintf(out, out_len, "/%s:%d", c->peer_ip, c->peer_port);
}

/* Date.toString() in the local time zone: "Sun Nov 22 23:48:18 UTC 2026". */
static void java_date(int64_t wall_ms, char *out, size_t out_len)
{
    time_t t = (time_t)(wall_ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    if (strftime(out, out_len, "%a %b %d %H:%M:%S %Z %Y", &tm) == 0)
        snprintf(out, out_len, "%" PRId64, wall_ms);
}

static bool is_alive(const struct conn *c)
{
    return !uv_is_closing((const uv_handle_t *)&c->tcp);
}

static int64_t session_id(const struct conn *c)
{
    return c->sess ? c->sess->id : 0;
}

/* ---- srvr, stat, cons, crst, srst ----------------------------------------------------- */

/*
 * NIOServerCnxn.getInterestOps(): 0 for a connection no longer selected (a 4lw being
 * answered, one being closed), else OP_READ (1) | OP_WRITE (4).
 */
static int interest_ops(const struct conn *c, const struct conn *self)
{
    if (c == self || c->state == CONN_CLOSING)
        return 0;
    int ops = 0;
    if (c->is_reading)
        ops |= 1;
    if (c->writing || c->out.len > 0)
        ops |= 4;
    return ops;
}

/* ServerCnxn.dumpConnectionInfo(). */
static void dump_connection_info(struct jute_out *o, const struct conn *c, const struct conn *self,
                                 bool is_brief)
{
    char addr[96];
    java_addr(c, addr, sizeof(addr));
    /* "queued" is the outstanding request count: commit is immediate, so always 0 here. */
    putf(o, " %s[%x](queued=0,recved=%" PRId64 ",sent=%" PRId64, addr, interest_ops(c, self),
         c->packets_received, c->packets_sent);
    int64_t sid = session_id(c);
    if (!is_brief && sid != 0) {
        putf(o, ",sid=0x%" PRIx64 ",lop=%s,est=%" PRId64 ",to=%d", (uint64_t)sid,
             c->last_op ? c->last_op : "NA", c->established_ms, (int)c->sess->timeout_ms);
        if (c->last_cxid >= 0)
            putf(o, ",lcxid=0x%" PRIx32, (uint32_t)c->last_cxid);
        int64_t avg = c->n_latency > 0 ? c->total_latency_ms / c->n_latency : 0;
        putf(o,
             ",lzxid=0x%" PRIx64 ",lresp=%" PRId64 ",llat=%" PRId64 ",minlat=%" PRId64
             ",avglat=%" PRId64 ",maxlat=%" PRId64,
             (uint64_t)c->last_zxid, c->last_response_ms, c->last_latency_ms,
             c->min_latency_ms < 0 ? 0 : c->min_latency_ms, avg, c->max_latency_ms);
    }
    put(o, ")");
}

static int64_t alive_connections(const struct server *srv)
{
    int64_t n = 0;
    for (const struct conn *c = srv->conns; c; c = c->next)
        if (is_alive(c))
            n++;
    return n;
}

/* StatCommand: srvr, and stat with the brief connection list. */
static void cmd_stat(struct jute_out *o, struct conn *self, bool with_clients)
{
    struct server *srv = self->srv;
    char version[128];
    /* Quorum mode: the role, or ZooKeeper's answer while not serving (StatCommand). */
    const char *mode = srv->quorum ? quorum_mode(srv) : "standalone";
    if (!mode) {
        put(o, NOT_SERVING "\n");
        return;
    }
    full_version(version, sizeof(version));
    putf(o, "Zookeeper version: %s\n", version);
    if (with_clients) {
        put(o, "Clients:\n");
        for (const struct conn *c = srv->conns; c; c = c->next) {
            if (!is_alive(c))
                continue;
            dump_connection_info(o, c, self, true);
            put(o, "\n");
        }
        put(o, "\n");
    }
    /* ServerStats.toString(). */
    const struct server_stats *st = &srv->stats;
    char avg[32];
    stats_format_avg(avg, sizeof(avg), st->total_latency_ms, st->n_latency);
    putf(o, "Latency min/avg/max: %" PRId64 "/%s/%" PRId64 "\n",
         st->min_latency_ms < 0 ? 0 : st->min_latency_ms, avg, st->max_latency_ms);
    putf(o, "Received: %" PRId64 "\nSent: %" PRId64 "\nConnections: %" PRId64 "\n",
         st->packets_received, st->packets_sent, alive_connections(srv));
    putf(o, "Outstanding: 0\nZxid: 0x%" PRIx64 "\nMode: %s\n", (uint64_t)srv->last_zxid, mode);
    putf(o, "Node count: %" PRId64 "\n", tree_node_count(srv->tree));
}

/* ConsCommand. */
static void cmd_cons(struct jute_out *o, struct conn *self)
{
    for (const struct conn *c = self->srv->conns; c; c = c->next) {
        if (!is_alive(c))
            continue;
        dump_connection_info(o, c, self, false);
        put(o, "\n");
    }
    put(o, "\n");
}

/* ---- conf, dirs ------------------------------------------------------------------------- */

/*
 * new File(dir, "version-2").getAbsolutePath(): relative to the working directory, with
 * repeated and trailing slashes removed (java.io.File normalises them), nothing resolved.
 */
static void version_dir(const char *dir, char *out, size_t out_len)
{
    char joined[4096];
    char cwd[2048] = "";
    if (dir[0] != '/' && !getcwd(cwd, sizeof(cwd)))
        cwd[0] = '\0';
    snprintf(joined, sizeof(joined), "%s%s%s/version-2", cwd, dir[0] != '/' ? "/" : "", dir);
    size_t j = 0;
    for (size_t i = 0; joined[i] && j + 1 < out_len; i++) {
        if (joined[i] == '/' && j > 0 && out[j - 1] == '/')
            continue;
        out[j++] = joined[i];
    }
    out[j] = '\0';
}

/*
 * ZooKeeperServer.getDirSize(): the sum of file lengths below path, following symbolic
 * links; a missing path is 0. Runs on the loop thread: dataDir holds a handful of files.
 */
static int64_t dir_size(const char *path, int depth)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return 0;
    if (!S_ISDIR(sb.st_mode))
        return (int64_t)sb.st_size;
    if (depth > 16)
        return 0;
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int64_t total = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char child[4096];
        if ((size_t)snprintf(child, sizeof(child), "%s/%s", path, e->d_name) >= sizeof(child))
            continue;
        total += dir_size(child, depth + 1);
    }
    closedir(d);
    return total;
}

/*
 * ZooKeeper's getDataDirSize() measures the txn log directory and getLogDirSize() the
 * snapshot directory (names crossed in ZooKeeperServer); we print the same crossed figures.
 */
static void dir_sizes(const struct server *srv, int64_t *data_dir_size, int64_t *log_dir_size)
{
    char snap_dir[4096], log_dir[4096];
    version_dir(srv->cfg.data_dir, snap_dir, sizeof(snap_dir));
    version_dir(srv->cfg.data_log_dir, log_dir, sizeof(log_dir));
    *data_dir_size = dir_size(log_dir, 0);
    *log_dir_size = dir_size(snap_dir, 0);
}

/* ZooKeeperServer.dumpConf(). */
static void cmd_conf(struct jute_out *o, struct server *srv)
{
    const struct config *cfg = &srv->cfg;
    char snap_dir[4096], log_dir[4096];
    version_dir(cfg->data_dir, snap_dir, sizeof(snap_dir));
    version_dir(cfg->data_log_dir, log_dir, sizeof(log_dir));
    int64_t data_size, log_size;
    dir_sizes(srv, &data_size, &log_size);
    putf(o, "clientPort=%d\nsecureClientPort=-1\n", cfg->client_port);
    putf(o, "dataDir=%s\ndataDirSize=%" PRId64 "\n", snap_dir, data_size);
    putf(o, "dataLogDir=%s\ndataLogSize=%" PRId64 "\n", log_dir, log_size);
    putf(o, "tickTime=%d\nmaxClientCnxns=%d\n", cfg->tick_ms, cfg->max_client_cnxns);
    putf(o, "minSessionTimeout=%d\nmaxSessionTimeout=%d\n", config_min_session_timeout_ms(cfg),
         config_max_session_timeout_ms(cfg));
    /* A standalone ZooKeeperServer reports server id 0 (session ids still carry 1). */
    putf(o, "clientPortListenBacklog=%d\nserverId=0\n", cfg->client_port_listen_backlog);
}

/* DirsCommand. */
static void cmd_dirs(struct jute_out *o, struct server *srv)
{
    int64_t data_size, log_size;
    dir_sizes(srv, &data_size, &log_size);
    putf(o, "datadir_size: %" PRId64 "\nlogdir_size: %" PRId64 "\n", data_size, log_size);
}

/* ---- envi ------------------------------------------------------------------------------ */

/* System.getProperty("os.arch") for the machine uname(2) names. */
static const char *java_arch(const char *machine)
{
    if (strcmp(machine, "x86_64") == 0)
        return "amd64";
    if (strcmp(machine, "i386") == 0 || strcmp(machine, "i486") == 0 ||
        strcmp(machine, "i586") == 0 || strcmp(machine, "i686") == 0)
        return "x86";
    return machine;
}

static int64_t resident_mb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    long long size = 0, resident = 0;
    int n = fscanf(f, "%lld %lld", &size, &resident);
    fclose(f);
    if (n != 2)
        return 0;
    return (int64_t)resident * sysconf(_SC_PAGESIZE) / (1024 * 1024);
}

/* EnvCommand: Environment.list(), describing this process instead of a JVM. */
static void cmd_envi(struct jute_out *o)
{
    char version[128];
    full_version(version, sizeof(version));
    char host[256] = "<NA>";
    if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "<NA>");
    host[sizeof(host) - 1] = '\0';
    struct utsname u;
    bool has_uname = uname(&u) == 0;
    const struct passwd *pw = getpwuid(geteuid());
    char cwd[4096];
    if (!getcwd(cwd, sizeof(cwd)))
        snprintf(cwd, sizeof(cwd), "<NA>");
    int64_t phys_mb = (int64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE) / (1024 * 1024);

    put(o, "Environment:\n");
    putf(o, "zookeeper.version=%s\n", version);
    putf(o, "host.name=%s\n", host);
    /* No JVM: these read "<NA>", Environment's value for an unset property. */
    put(o, "java.version=<NA>\njava.vendor=<NA>\njava.home=<NA>\njava.class.path=<NA>\n"
           "java.library.path=<NA>\njava.io.tmpdir=<NA>\njava.compiler=<NA>\n");
    putf(o, "os.name=%s\n", has_uname ? u.sysname : "<NA>");
    putf(o, "os.arch=%s\n", has_uname ? java_arch(u.machine) : "<NA>");
    putf(o, "os.version=%s\n", has_uname ? u.release : "<NA>");
    putf(o, "user.name=%s\n", pw && pw->pw_name ? pw->pw_name : "<NA>");
    putf(o, "user.home=%s\n", pw && pw->pw_dir ? pw->pw_dir : "<NA>");
    putf(o, "user.dir=%s\n", cwd);
    /* The JVM heap figures: we report free 0, the resident set, and the physical memory. */
    putf(o, "os.memory.free=0MB\nos.memory.max=%" PRId64 "MB\nos.memory.total=%" PRId64 "MB\n",
         phys_mb, resident_mb());
}

/* ---- mntr ------------------------------------------------------------------------------ */

/* OSMXBean.getOpenFileDescriptorCount(): entries of /proc/self/fd but the one used to list. */
static int64_t open_fd_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int64_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;
}

static int64_t max_fd_count(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    return (int64_t)rl.rlim_cur;
}

static void kv_long(struct jute_out *o, const char *key, int64_t v)
{
    putf(o, "zk_%s\t%" PRId64 "\n", key, v);
}

static void kv_str(struct jute_out *o, const char *key, const char *v)
{
    putf(o, "zk_%s\t%s\n", key, v);
}

/* AvgMinMaxCounter.values(): avg, min, max, cnt, sum. NULL is an empty summary. */
static void kv_summary(struct jute_out *o, const char *name, const struct stats_summary *s)
{
    char avg[32];
    int64_t count = s ? s->count : 0, total = s ? s->total : 0;
    stats_format_avg(avg, sizeof(avg), total, count);
    putf(o, "zk_avg_%s\t%s\n", name, avg);
    putf(o, "zk_min_%s\t%" PRId64 "\n", name, count > 0 ? s->min : 0);
    putf(o, "zk_max_%s\t%" PRId64 "\n", name, count > 0 ? s->max : 0);
    putf(o, "zk_cnt_%s\t%" PRId64 "\n", name, count);
    putf(o, "zk_sum_%s\t%" PRId64 "\n", name, total);
}

/* AvgMinMaxPercentileCounter.values(): the above, then p50, p95, p99, p999. */
static void kv_psummary(struct jute_out *o, const char *name, const struct stats_summary *s,
                        struct arena *a)
{
    static const struct {
        const char *prefix;
        double q;
    } pct[] = {{"p50", 0.5}, {"p95", 0.95}, {"p99", 0.99}, {"p999", 0.999}};
    kv_summary(o, name, s);
    for (size_t i = 0; i < sizeof(pct) / sizeof(pct[0]); i++)
        putf(o, "zk_%s_%s\t%" PRId64 "\n", pct[i].prefix, name,
             s ? stats_percentile(s, pct[i].q, a) : 0);
}

/*
 * The ServerMetrics counters, in the order 3.8's mntr prints them. Those Paddock does not
 * track print 0. Computed: connection_rejected, bytes_received_count,
 * connection_request_count, response_bytes, stale_sessions_expired. Truly 0 in a standalone
 * server without TLS, throttling, admin server or quorum: proposal_count, insecure_admin_count,
 * looking_count, learner_*, diff_count, snap_count, commit_count, quit_leading_*,
 * ensemble_auth_*, revalidate_count, skip_learner_*, tls_handshake_exceeded,
 * unsuccessful_handshake, throttled_ops, request_throttle_wait_count, large_requests_rejected,
 * stale_requests*, stale_replies, connection_drop_count, connection_revalidate_count,
 * cnxn_closed_without_zk_server_running. Placeholders (ZooKeeper internals with no Paddock
 * equivalent yet): watch_bytes, outstanding_changes_removed, outstanding_changes_queued,
 * sessionless_connections_expired, dead_watchers_*, add_dead_watcher_stall_time,
 * digest_mismatches_count, response_packet_*cache*, requests_not_forwarded_to_commit_processor,
 * prep_processor_request_queued, sync_processor_request_queued, request_commit_queued,
 * unrecoverable_error_count.
 */
static const char *const mntr_counters[] = {
    "proposal_count",
    "watch_bytes",
    "outstanding_changes_removed",
    "throttled_ops",
    "stale_requests_dropped",
    "large_requests_rejected",
    "insecure_admin_count",
    "connection_rejected",
    "cnxn_closed_without_zk_server_running",
    "sessionless_connections_expired",
    "looking_count",
    "dead_watchers_queued",
    "stale_requests",
    "connection_drop_count",
    "learner_proposal_received_count",
    "digest_mismatches_count",
    "dead_watchers_cleared",
    "response_packet_cache_hits",
    "bytes_received_count",
    "add_dead_watcher_stall_time",
    "request_throttle_wait_count",
    "requests_not_forwarded_to_commit_processor",
    "response_packet_cache_misses",
    "ensemble_auth_success",
    "prep_processor_request_queued",
    "learner_commit_received_count",
    "stale_replies",
    "connection_request_count",
    "response_bytes",
    "ensemble_auth_fail",
    "diff_count",
    "response_packet_get_children_cache_misses",
    "connection_revalidate_count",
    "quit_leading_due_to_disloyal_voter",
    "snap_count",
    "unrecoverable_error_count",
    "unsuccessful_handshake",
    "commit_count",
    "stale_sessions_expired",
    "response_packet_get_children_cache_hits",
    "sync_processor_request_queued",
    "outstanding_changes_queued",
    "request_commit_queued",
    "ensemble_auth_skip",
    "skip_learner_request_to_next_processor_count",
    "tls_handshake_exceeded",
    "revalidate_count",
};

/*
 * The basic summaries (avg/min/max/cnt/sum), in 3.8's order. All are placeholders: they time
 * ZooKeeper's processor queues, fsync and snapshots (no storage yet, #3), elections and
 * learners, JVM sockets, and watch fan-out per event, none of which Paddock measures yet.
 */
static const char *const mntr_summaries[] = {
    "socket_closing_time",
    "proposal_process_time",
    "leader_unavailable_time",
    "node_created_watch_count",
    "session_queues_drained",
    "write_commit_proc_req_queued",
    "connection_token_deficit",
    "read_commit_proc_req_queued",
    "node_deleted_watch_count",
    "startup_txns_load_time",
    "sync_processor_queue_size",
    "follower_sync_time",
    "prep_processor_queue_size",
    "fsynctime",
    "inflight_snap_count",
    "reads_issued_from_session_queue",
    "learner_request_processor_queue_size",
    "snapshottime",
    "unavailable_time",
    "startup_txns_loaded",
    "reads_after_write_in_session_queue",
    "requests_in_session_queue",
    "write_commit_proc_issued",
    "prep_process_time",
    "pending_session_queue_size",
    "time_waiting_empty_pool_in_commit_processor_read_ms",
    "commit_process_time",
    "dbinittime",
    "inflight_diff_count",
    "netty_queued_buffer_capacity",
    "election_time",
    "commit_commit_proc_req_queued",
    "sync_processor_batch_size",
    "node_children_watch_count",
    "write_batch_time_in_commit_processor",
    "read_commit_proc_issued",
    "concurrent_request_processing_in_commit_processor",
    "observer_sync_time",
    "node_changed_watch_count",
    "sync_process_time",
    "startup_snap_load_time",
};

/*
 * The percentile summaries, in 3.8's order. Computed: readlatency and updatelatency; the
 * rest are placeholders for the same reasons as above.
 */
static const char *const mntr_psummaries[] = {
    "prep_processor_queue_time_ms",
    "jvm_pause_time_ms",
    "close_session_prep_time",
    "read_commitproc_time_ms",
    "updatelatency",
    "local_write_committed_time_ms",
    "request_throttle_queue_time_ms",
    "readlatency",
    "quorum_ack_latency",
    "om_commit_process_time_ms",
    "read_final_proc_time_ms",
    "commit_propagation_latency",
    "dead_watchers_cleaner_latency",
    "write_final_proc_time_ms",
    "proposal_ack_creation_latency",
    "proposal_latency",
    "om_proposal_process_time_ms",
    "sync_processor_queue_and_flush_time_ms",
    "propagation_latency",
    "server_write_committed_time_ms",
    "sync_processor_queue_time_ms",
    "sync_processor_queue_flush_time_ms",
    "write_commitproc_time_ms",
};

static int64_t counter_value(const struct server_stats *st, const char *name)
{
    if (strcmp(name, "connection_rejected") == 0)
        return st->connections_rejected;
    if (strcmp(name, "bytes_received_count") == 0)
        return st->bytes_received;
    if (strcmp(name, "connection_request_count") == 0)
        return st->connection_requests;
    if (strcmp(name, "response_bytes") == 0)
        return st->response_bytes;
    if (strcmp(name, "stale_sessions_expired") == 0)
        return st->sessions_expired;
    return 0;
}

/* MonitorCommand: dumpMonitorValues, then the metrics provider's dump. */
static void cmd_mntr(struct jute_out *o, struct server *srv)
{
    const struct server_stats *st = &srv->stats;
    char version[128], avg[32];
    const char *mode = srv->quorum ? quorum_mode(srv) : "standalone";
    if (!mode) {
        put(o, NOT_SERVING "\n");
        return;
    }
    full_version(version, sizeof(version));
    kv_str(o, "version", version);
    kv_str(o, "server_state", mode);
    /* Quorum mode: QuorumZooKeeperServer's peer_state, an observer's observer_master_id,
     * and the leader's gauges (LeaderZooKeeperServer) where 3.8's gauge map puts them. */
    struct quorum_gauges g = {.leader = -1};
    if (srv->quorum) {
        quorum_gauges(srv, &g);
        kv_str(o, "peer_state", g.peer_state);
        if (strcmp(mode, "observer") == 0)
            kv_long(o, "observer_master_id", g.leader);
    }
    bool is_leader = srv->quorum && g.is_leader;

    /* Gauges, in 3.8's order. */
    stats_format_avg(avg, sizeof(avg), st->total_latency_ms, st->n_latency);
    kv_long(o, "ephemerals_count", tree_ephemeral_count(srv->tree));
    kv_long(o, "num_alive_connections", alive_connections(srv));
    kv_str(o, "avg_latency", avg);
    if (is_leader)
        kv_long(o, "min_proposal_size", g.min_proposal_size);
    kv_long(o, "outstanding_requests", 0); /* commit is immediate */
    kv_long(o, "znode_count", tree_node_count(srv->tree));
    kv_long(o, "global_sessions", (int64_t)srv->sessions.count);
    kv_long(o, "non_mtls_remote_conn_count", 0); /* counted only with a TLS port */
    kv_long(o, "last_client_response_size", st->last_response_bytes);
    kv_long(o, "packets_sent", st->packets_sent);
    kv_long(o, "packets_received", st->packets_received);
    if (is_leader)
        kv_long(o, "max_proposal_size", g.max_proposal_size);
    kv_long(o, "max_client_response_size", st->max_response_bytes);
    if (is_leader)
        kv_long(o, "synced_followers", g.synced_followers);
    kv_str(o, "connection_drop_probability", "0.0");
    kv_long(o, "watch_count", tree_watch_count(srv->tree));
    if (is_leader) {
        kv_long(o, "synced_non_voting_followers", 0); /* none without reconfig */
        kv_long(o, "synced_observers", g.synced_observers);
    }
    kv_long(o, "auth_failed_count", 0); /* 3.8 counts only TLS handshake failures */
    kv_long(o, "min_latency", st->min_latency_ms < 0 ? 0 : st->min_latency_ms);
    kv_long(o, "max_file_descriptor_count", max_fd_count());
    kv_long(o, "approximate_data_size", tree_approx_data_size(srv->tree));
    kv_long(o, "open_file_descriptor_count", open_fd_count());
    if (is_leader) {
        kv_long(o, "last_proposal_size", g.last_proposal_size);
        kv_long(o, "pending_syncs", 0); /* syncs are answered in the core, not counted */
        kv_long(o, "leader_uptime", g.leader_uptime_ms);
    }
    kv_long(o, "local_sessions", 0); /* no local sessions */
    kv_long(o, "uptime", server_wall_ms() - st->started_ms);
    kv_long(o, "max_latency", st->max_latency_ms);
    kv_long(o, "outstanding_tls_handshake", 0);
    if (is_leader)
        kv_long(o, "learners", g.learners);
    kv_long(o, "min_client_response_size", st->min_response_bytes);
    kv_long(o, "non_mtls_local_conn_count", 0);
    if (srv->quorum)
        kv_long(o, "quorum_size", g.quorum_size);

    for (size_t i = 0; i < sizeof(mntr_counters) / sizeof(mntr_counters[0]); i++)
        kv_long(o, mntr_counters[i], counter_value(st, mntr_counters[i]));
    for (size_t i = 0; i < sizeof(mntr_summaries) / sizeof(mntr_summaries[0]); i++)
        kv_summary(o, mntr_summaries[i], NULL);
    for (size_t i = 0; i < sizeof(mntr_psummaries) / sizeof(mntr_psummaries[0]); i++) {
        const char *name = mntr_psummaries[i];
        const struct stats_summary *s = NULL;
        if (strcmp(name, "readlatency") == 0)
            s = &st->read_latency;
        else if (strcmp(name, "updatelatency") == 0)
            s = &st->update_latency;
        kv_psummary(o, name, s, &srv->arena);
    }
}

/* ---- wchs, wchc, wchp ------------------------------------------------------------------ */

struct watch_dump {
    struct jute_out *o;
    bool is_by_path;
    const void *prev_watcher; /* the group being printed */
    const char *prev_path;
    bool has_prev;
};

/*
 * WatchManager.dumpWatches(): the tree visits one group (a watcher, or a path) at a time;
 * a new group starts a heading. A watcher whose data watches all fired comes with path NULL
 * and gets a heading only, as in ZooKeeper.
 */
static void visit_watch(void *watcher, const char *path, void *arg)
{
    struct watch_dump *d = arg;
    const struct conn *c = watcher;
    if (d->is_by_path) {
        if (!d->has_prev || strcmp(d->prev_path, path) != 0)
            putf(d->o, "%s\n", path);
        putf(d->o, "\t0x%" PRIx64 "\n", (uint64_t)session_id(c));
    } else {
        if (!d->has_prev || d->prev_watcher != watcher)
            putf(d->o, "0x%" PRIx64 "\n", (uint64_t)session_id(c));
        if (path)
            putf(d->o, "\t%s\n", path);
    }
    d->prev_watcher = watcher;
    d->prev_path = path;
    d->has_prev = true;
}

/* WatchCommand. */
static void cmd_watches(struct jute_out *o, struct server *srv, char which)
{
    if (which == 's') {
        struct tree_watch_summary sum;
        tree_watch_summary(srv->tree, &sum);
        putf(o, "%" PRId64 " connections watching %" PRId64 " paths\nTotal watches:%" PRId64,
             sum.connections, sum.paths, sum.watches);
    } else {
        struct watch_dump d = {.o = o, .is_by_path = which == 'p'};
        if (d.is_by_path)
            tree_watch_foreach_by_path(srv->tree, visit_watch, &d);
        else
            tree_watch_foreach_by_watcher(srv->tree, visit_watch, &d);
    }
    put(o, "\n");
}

/* ---- dump ------------------------------------------------------------------------------ */

struct expiry_item {
    int64_t expire_at;       /* monotonic ms */
    size_t order;            /* first-seen order, for a stable sort */
    int64_t id;              /* session id */
    const struct conn *conn; /* connection sets only */
};

static int cmp_expiry(const void *a, const void *b)
{
    const struct expiry_item *x = a, *y = b;
    if (x->expire_at != y->expire_at)
        return x->expire_at < y->expire_at ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

struct session_list {
    struct expiry_item *items;
    size_t n, cap;
};

static void collect_session(struct session *s, void *arg)
{
    struct session_list *l = arg;
    if (s->expire_at == 0 || l->n >= l->cap)
        return;
    l->items[l->n] = (struct expiry_item){.expire_at = s->expire_at, .order = l->n, .id = s->id};
    l->n++;
}

/* ExpiryQueue.dump(): "Sets (n)/(m):", then each set by time with its members. */
static void dump_expiry_sets(struct jute_out *o, struct expiry_item *items, size_t n,
                             int64_t mono_to_wall)
{
    qsort(items, n, sizeof(*items), cmp_expiry);
    size_t sets = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || items[i].expire_at != items[i - 1].expire_at)
            sets++;
    putf(o, "Sets (%zu)/(%zu):\n", sets, n);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && items[j].expire_at == items[i].expire_at)
            j++;
        char date[64];
        java_date(items[i].expire_at + mono_to_wall, date, sizeof(date));
        putf(o, "%zu expire at %s:\n", j - i, date);
        for (size_t k = i; k < j; k++) {
            if (items[k].conn) {
                char addr[96];
                java_addr(items[k].conn, addr, sizeof(addr));
                putf(o, "\tip: %s sessionId: 0x%" PRIx64 "\n", addr, (uint64_t)items[k].id);
            } else {
                putf(o, "\t0x%" PRIx64 "\n", (uint64_t)items[k].id);
            }
        }
        i = j;
    }
}

/* DumpCommand: session expiry sets, ephemerals per session, connection expiry sets. */
static void cmd_dump(struct jute_out *o, struct conn *self)
{
    struct server *srv = self->srv;
    int64_t now_mono = server_mono_ms(srv);
    int64_t mono_to_wall = server_wall_ms() - now_mono;

    struct session_list sl = {.cap = srv->sessions.count};
    sl.items = arena_alloc(&srv->arena, (sl.cap + 1) * sizeof(*sl.items));
    if (!sl.items)
        sl.cap = 0;
    sess_foreach(&srv->sessions, collect_session, &sl);
    put(o, "SessionTracker dump:\nSession ");
    dump_expiry_sets(o, sl.items, sl.n, mono_to_wall);

    /* DataTree.dumpEphemerals(). */
    put(o, "ephemeral nodes dump:\n");
    struct jute_str_vec *eph = arena_alloc(&srv->arena, (sl.n + 1) * sizeof(*eph));
    size_t with_eph = 0;
    for (size_t i = 0; eph && i < sl.n; i++) {
        if (tree_ephemerals(srv->tree, sl.items[i].id, NULL, &srv->arena, &eph[i]) != 0)
            eph[i].count = 0;
        if (eph[i].count > 0)
            with_eph++;
    }
    putf(o, "Sessions with Ephemerals (%zu):\n", with_eph);
    for (size_t i = 0; eph && i < sl.n; i++) {
        if (eph[i].count == 0)
            continue;
        putf(o, "0x%" PRIx64 ":\n", (uint64_t)sl.items[i].id);
        for (int32_t k = 0; k < eph[i].count; k++)
            putf(o, "\t%s\n", eph[i].items[k]);
    }

    /*
     * NIOServerCnxnFactory.dumpConnections(): ZooKeeper expires idle connections on their
     * session timeout (sessionless ones after 10 s), counted from their last I/O and rounded
     * up to the next 10 s boundary. We compute the same from the last read.
     */
    put(o, "Connections dump:\n");
    size_t n_conns = 0;
    for (const struct conn *c = srv->conns; c; c = c->next)
        n_conns++;
    struct expiry_item *ci = arena_alloc(&srv->arena, (n_conns + 1) * sizeof(*ci));
    size_t n = 0;
    for (const struct conn *c = srv->conns; ci && c; c = c->next) {
        if (!is_alive(c))
            continue;
        int64_t timeout = c->sess ? c->sess->timeout_ms : FOURLW_SESSIONLESS_CNXN_TIMEOUT_MS;
        int64_t last = c == self ? now_mono : c->last_io_ms;
        int64_t at = ((last + timeout) / FOURLW_SESSIONLESS_CNXN_TIMEOUT_MS + 1) *
                     FOURLW_SESSIONLESS_CNXN_TIMEOUT_MS;
        ci[n] = (struct expiry_item){.expire_at = at, .order = n, .id = session_id(c), .conn = c};
        n++;
    }
    put(o, "Connections ");
    dump_expiry_sets(o, ci, n, mono_to_wall);
}

/* ---- dispatch -------------------------------------------------------------------------- */

enum fourlw_cmd {
    FLW_CONF,
    FLW_CONS,
    FLW_CRST,
    FLW_DIRS,
    FLW_DUMP,
    FLW_ENVI,
    FLW_GTMK,
    FLW_RUOK,
    FLW_STMK,
    FLW_SRST,
    FLW_SRVR,
    FLW_STAT,
    FLW_WCHC,
    FLW_WCHP,
    FLW_WCHS,
    FLW_MNTR,
    FLW_ISRO,
    FLW_HASH,
    FLW_TELNET_CLOSE,
};

/* FourLetterCommands.cmd2String. */
static const struct {
    char word[5];
    const char *name; /* for the whitelist and its message */
    enum fourlw_cmd cmd;
} known[] = {
    {"conf", "conf", FLW_CONF},
    {"cons", "cons", FLW_CONS},
    {"crst", "crst", FLW_CRST},
    {"dirs", "dirs", FLW_DIRS},
    {"dump", "dump", FLW_DUMP},
    {"envi", "envi", FLW_ENVI},
    {"gtmk", "gtmk", FLW_GTMK},
    {"ruok", "ruok", FLW_RUOK},
    {"stmk", "stmk", FLW_STMK},
    {"srst", "srst", FLW_SRST},
    {"srvr", "srvr", FLW_SRVR},
    {"stat", "stat", FLW_STAT},
    {"wchc", "wchc", FLW_WCHC},
    {"wchp", "wchp", FLW_WCHP},
    {"wchs", "wchs", FLW_WCHS},
    {"mntr", "mntr", FLW_MNTR},
    {"isro", "isro", FLW_ISRO},
    {"hash", "hash", FLW_HASH},
    /* The bytes telnet sends when it closes: known so that it is not logged as a bad length. */
    {"\xff\xf4\xff\xfd", "telnet close", FLW_TELNET_CLOSE},
};

/* Runs one allowed command into o. Returns false when ZooKeeper closes without an answer. */
static bool run(struct conn *c, enum fourlw_cmd cmd, const uint8_t *data, size_t len)
{
    struct server *srv = c->srv;
    struct jute_out *o = &c->out;
    if (srv->quorum && !quorum_serves_clients(srv)) {
        /* 3.8's commands that need a running ZooKeeperServer (isZKServerRunning) answer this
         * while a member is not serving: electing, syncing, or leading with leaderServes=no. */
        switch (cmd) {
        case FLW_ISRO:
            put(o, "null");
            return true;
        case FLW_HASH:
            put(o, NOT_SERVING); /* DigestCommand: print, not println */
            return true;
        case FLW_CONF:
        case FLW_CONS:
        case FLW_CRST:
        case FLW_DIRS:
        case FLW_DUMP:
        case FLW_MNTR:
        case FLW_SRST:
        case FLW_SRVR:
        case FLW_STAT:
        case FLW_WCHC:
        case FLW_WCHP:
        case FLW_WCHS:
            put(o, NOT_SERVING "\n");
            return true;
        default:
            break;
        }
    }
    switch (cmd) {
    case FLW_RUOK:
        put(o, "imok");
        return true;
    case FLW_SRVR:
    case FLW_STAT:
        cmd_stat(o, c, cmd == FLW_STAT);
        return true;
    case FLW_CONS:
        cmd_cons(o, c);
        return true;
    case FLW_CRST:
        for (struct conn *x = srv->conns; x; x = x->next)
            stats_conn_reset(x);
        put(o, "Connection stats reset.\n");
        return true;
    case FLW_SRST:
        stats_reset(&srv->stats);
        if (srv->quorum)
            quorum_reset_proposal_stats(srv);
        put(o, "Server stats reset.\n");
        return true;
    case FLW_CONF:
        cmd_conf(o, srv);
        return true;
    case FLW_DIRS:
        cmd_dirs(o, srv);
        return true;
    case FLW_ENVI:
        cmd_envi(o);
        return true;
    case FLW_MNTR:
        cmd_mntr(o, srv);
        return true;
    case FLW_WCHS:
        cmd_watches(o, srv, 's');
        return true;
    case FLW_WCHC:
        cmd_watches(o, srv, 'c');
        return true;
    case FLW_WCHP:
        cmd_watches(o, srv, 'p');
        return true;
    case FLW_DUMP:
        cmd_dump(o, c);
        return true;
    case FLW_ISRO:
        put(o, "rw");
        return true;
    case FLW_GTMK:
        putf(o, "%" PRId64, srv->trace_mask);
        return true;
    case FLW_STMK: {
        /* The new mask is the next 8 bytes, big-endian, already in the first read; otherwise
         * ZooKeeper's getLong() underflows and the connection closes with no answer. */
        if (len < 12)
            return false;
        uint64_t mask = 0;
        for (int i = 4; i < 12; i++)
            mask = mask << 8 | data[i];
        srv->trace_mask = (int64_t)mask;
        putf(o, "%" PRId64, srv->trace_mask);
        return true;
    }
    case FLW_HASH:
        /* DigestCommand: the digest log, oldest first, "<hex zxid>: <digest>" a line. */
        for (int i = 0; i < srv->digest_log_n; i++) {
            const struct digest_entry *d =
                &srv->digest_log[(srv->digest_log_head + i) % SERVER_DIGEST_LOG_LIMIT];
            char line[64];
            snprintf(line, sizeof(line), "%" PRIx64 ": %" PRId64 "\n", (uint64_t)d->zxid,
                     d->digest);
            put(o, line);
        }
        return true;
    case FLW_TELNET_CLOSE:
        /* CommandExecutor has nothing for it: ZooKeeper drops the connection. */
        return false;
    }
    return false;
}

bool fourlw_try(struct conn *c, const uint8_t *data, size_t len)
{
    if (len < 4)
        return false;
    size_t k = 0;
    while (k < sizeof(known) / sizeof(known[0]) && memcmp(known[k].word, data, 4) != 0)
        k++;
    if (k == sizeof(known) / sizeof(known[0]))
        return false;
    struct server *srv = c->srv;

    /* ServerCnxn.packetReceived(4), before anything else: srvr counts itself. */
    c->packets_received++;
    srv->stats.packets_received++;
    srv->stats.bytes_received += 4;

    size_t before = c->out.len;
    if (!config_4lw_allowed(&srv->cfg, known[k].name)) {
        putf(&c->out, "%s is not executed because it is not in the whitelist.\n", known[k].name);
    } else {
        pd_debug("Processing %s command from %s:%d", known[k].name, c->peer_ip, c->peer_port);
        if (!run(c, known[k].cmd, data, len))
            c->out.len = before;
    }
    arena_reset(&srv->arena);

    size_t answer = c->out.len - before;
    int64_t packets = (int64_t)((answer + FOURLW_CHUNK_BYTES - 1) / FOURLW_CHUNK_BYTES);
    c->packets_sent += packets;
    srv->stats.packets_sent += packets;
    conn_close(c, "four-letter word answered");
    return true;
}
