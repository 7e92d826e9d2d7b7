/*
 * zoo.cfg parsing (server/config.h): defaults, every key, the java.util.Properties syntax,
 * server lines, ZooKeeper's whole-file checks, the 4lw whitelist, myid, and OOM unwinding.
 * Expected values were checked against Apache ZooKeeper 3.8's QuorumPeerConfig and
 * java.util.Properties where ZooKeeper's behaviour is the reference.
 */
#include "server/config.h"

#include "common/alloc.h"
#include "common/err.h"
#include "common/log.h"
#include "t.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ---- */

static int parse(struct config *cfg, const char *text)
{
    config_init(cfg);
    return config_parse(cfg, text, strlen(text), "zoo.cfg");
}

#define MINIMAL "dataDir=/var/lib/zk\nclientPort=2181\n"

/* Parses text, which must fail with PD_ECONFIG and a message containing want. */
#define EXPECT_ERROR(text, want)                                                                   \
    do {                                                                                           \
        struct config c_;                                                                          \
        int rc_ = parse(&c_, text);                                                                \
        CHECK_EQ_INT(rc_, PD_ECONFIG);                                                             \
        if (!strstr(c_.errmsg, want)) {                                                            \
            fprintf(stderr, "%s:%d: errmsg \"%s\" lacks \"%s\"\n", __FILE__, __LINE__, c_.errmsg,  \
                    want);                                                                         \
            t_failed_checks++;                                                                     \
            t_current_failed = 1;                                                                  \
        }                                                                                          \
        config_free(&c_);                                                                          \
    } while (0)

/* Parses text, which must succeed; leaves the result in cfg. */
#define EXPECT_OK(cfg, text)                                                                       \
    do {                                                                                           \
        int rc_ = parse(cfg, text);                                                                \
        if (rc_ != 0)                                                                              \
            fprintf(stderr, "%s:%d: parse failed: %s\n", __FILE__, __LINE__, (cfg)->errmsg);       \
        CHECK_EQ_INT(rc_, 0);                                                                      \
    } while (0)

static char tmp_dir[64];

static void make_tmp_dir(void)
{
    strcpy(tmp_dir, "/tmp/paddock-test-config-XXXXXX");
    CHECK(mkdtemp(tmp_dir) != NULL);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void remove_file(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    unlink(path);
}

/* Captures what the code under test logs to stderr. */
static int saved_stderr = -1;
static char capture_path[96];

static void capture_begin(void)
{
    fflush(stderr);
    snprintf(capture_path, sizeof(capture_path), "%s/stderr.txt", tmp_dir);
    int fd = open(capture_path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    CHECK(fd >= 0);
    saved_stderr = dup(2);
    dup2(fd, 2);
    close(fd);
}

/* Returns the captured text (static buffer). */
static const char *capture_end(void)
{
    static char text[8192];
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    FILE *f = fopen(capture_path, "r");
    size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
    text[n] = '\0';
    if (f)
        fclose(f);
    unlink(capture_path);
    return text;
}

static int count_substr(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ---- defaults and keys ---- */

static void test_defaults(void)
{
    struct config cfg;
    config_init(&cfg);
    CHECK_EQ_INT(cfg.tick_ms, 3000);
    CHECK(cfg.data_dir == NULL);
    CHECK_EQ_INT(cfg.my_id, -1);
    config_free(&cfg);

    EXPECT_OK(&cfg, MINIMAL);
    CHECK_EQ_INT(cfg.tick_ms, 3000);
    CHECK_EQ_INT(cfg.init_limit, 0);
    CHECK_EQ_INT(cfg.sync_limit, 0);
    CHECK_EQ_INT(cfg.connect_to_learner_master_limit, 0);
    CHECK_EQ_STR(cfg.data_dir, "/var/lib/zk");
    CHECK_EQ_STR(cfg.data_log_dir, "/var/lib/zk");
    CHECK_EQ_INT(cfg.client_port, 2181);
    CHECK_EQ_STR(cfg.client_port_address, "0.0.0.0");
    CHECK_EQ_INT(cfg.client_port_listen_backlog, -1);
    CHECK_EQ_INT(cfg.max_client_cnxns, 60);
    CHECK_EQ_INT(cfg.min_session_timeout_ms, -1);
    CHECK_EQ_INT(cfg.max_session_timeout_ms, -1);
    CHECK_EQ_INT(config_min_session_timeout_ms(&cfg), 6000);
    CHECK_EQ_INT(config_max_session_timeout_ms(&cfg), 60000);
    CHECK_EQ_INT(cfg.snap_count, 100000);
    CHECK_EQ_INT(cfg.pre_alloc_size_kb, 65536);
    CHECK(cfg.force_sync);
    CHECK_EQ_INT(cfg.fsync_warning_threshold_ms, 1000);
    CHECK_EQ_INT(cfg.autopurge_snap_retain_count, 3);
    CHECK_EQ_INT(cfg.autopurge_purge_interval_h, 0);
    CHECK_EQ_INT(cfg.jute_max_buffer, 1048575);
    CHECK(cfg.super_digest == NULL);
    CHECK(!cfg.extended_types_enabled);
    CHECK_EQ_INT(cfg.container_check_interval_ms, 60000);
    CHECK_EQ_INT(cfg.container_max_per_minute, 10000);
    CHECK_EQ_INT(cfg.four_lw_whitelist_len, 0);
    CHECK(!cfg.is_four_lw_all);
    CHECK(cfg.standalone_enabled);
    CHECK(!cfg.reconfig_enabled);
    CHECK(!cfg.quorum_listen_on_all_ips);
    CHECK(cfg.sync_enabled);
    CHECK_EQ_INT(cfg.peer_type, CONFIG_PARTICIPANT);
    CHECK_EQ_INT(cfg.election_port_bind_retry, 3);
    CHECK(cfg.leader_serves);
    CHECK(cfg.dynamic_config_file == NULL);
    CHECK_EQ_INT(cfg.server_count, 0);
    CHECK(!cfg.is_hierarchical);
    CHECK_EQ_INT(cfg.quorum_version, 0);
    CHECK_EQ_INT(cfg.my_id, -1);
    CHECK(cfg.admin_enable_server);
    CHECK_EQ_STR(cfg.admin_server_address, "0.0.0.0");
    CHECK_EQ_INT(cfg.admin_server_port, 8080);
    CHECK(!cfg.is_metrics_enabled);
    CHECK_EQ_STR(cfg.metrics_http_host, "0.0.0.0");
    CHECK_EQ_INT(cfg.metrics_http_port, 7000);
    CHECK(!config_is_distributed(&cfg));
    CHECK_EQ_STR(cfg.errmsg, "");
    config_free(&cfg);
}

static void test_each_key(void)
{
    struct config cfg;
    EXPECT_OK(&cfg, "tickTime=2000\n"
                    "initLimit=10\n"
                    "syncLimit=5\n"
                    "connectToLearnerMasterLimit=7\n"
                    "dataDir=data\n"
                    "dataLogDir=/fast/log\n"
                    "snapCount=5000\n"
                    "preAllocSize=1024\n"
                    "forceSync=no\n"
                    "fsync.warningthresholdms=250\n"
                    "autopurge.snapRetainCount=5\n"
                    "autopurge.purgeInterval=24\n"
                    "clientPort=2281\n"
                    "clientPortAddress=127.0.0.1\n"
                    "clientPortListenBacklog=128\n"
                    "maxClientCnxns=0\n"
                    "minSessionTimeout=3000\n"
                    "maxSessionTimeout=90000\n"
                    "jute.maxbuffer=4194304\n"
                    "DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=\n"
                    "extendedTypesEnabled=true\n"
                    "znode.container.checkIntervalMs=1000\n"
                    "znode.container.maxPerMinute=500\n"
                    "4lw.commands.whitelist=ruok,stat\n"
                    "peerType=observer\n"
                    "standaloneEnabled=false\n"
                    "reconfigEnabled=true\n"
                    "quorumListenOnAllIPs=true\n"
                    "syncEnabled=false\n"
                    "electionAlg=3\n"
                    "electionPortBindRetry=0\n"
                    "leaderServes=no\n"
                    "admin.enableServer=false\n"
                    "admin.serverAddress=127.0.0.1\n"
                    "admin.serverPort=9090\n"
                    "metricsProvider.className="
                    "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\n"
                    "metricsProvider.httpHost=10.0.0.1\n"
                    "metricsProvider.httpPort=7001\n"
                    "server.1=127.0.0.1:2888:3888\n"
                    "version=100000000\n");
    CHECK_EQ_INT(cfg.tick_ms, 2000);
    CHECK_EQ_INT(cfg.init_limit, 10);
    CHECK_EQ_INT(cfg.sync_limit, 5);
    CHECK_EQ_INT(cfg.connect_to_learner_master_limit, 7);
    CHECK_EQ_STR(cfg.data_dir, "data"); /* relative stays relative */
    CHECK_EQ_STR(cfg.data_log_dir, "/fast/log");
    CHECK_EQ_INT(cfg.snap_count, 5000);
    CHECK_EQ_INT(cfg.pre_alloc_size_kb, 1024);
    CHECK(!cfg.force_sync);
    CHECK_EQ_INT(cfg.fsync_warning_threshold_ms, 250);
    CHECK_EQ_INT(cfg.autopurge_snap_retain_count, 5);
    CHECK_EQ_INT(cfg.autopurge_purge_interval_h, 24);
    CHECK_EQ_INT(cfg.client_port, 2281);
    CHECK_EQ_STR(cfg.client_port_address, "127.0.0.1");
    CHECK_EQ_INT(cfg.client_port_listen_backlog, 128);
    CHECK_EQ_INT(cfg.max_client_cnxns, 0);
    CHECK_EQ_INT(config_min_session_timeout_ms(&cfg), 3000);
    CHECK_EQ_INT(config_max_session_timeout_ms(&cfg), 90000);
    CHECK_EQ_INT(cfg.jute_max_buffer, 4194304);
    CHECK_EQ_STR(cfg.super_digest, "super:D/InIHSb7yEEbrWz8b9l71RjZJU=");
    CHECK(cfg.extended_types_enabled);
    CHECK_EQ_INT(cfg.container_check_interval_ms, 1000);
    CHECK_EQ_INT(cfg.container_max_per_minute, 500);
    CHECK_EQ_INT(cfg.four_lw_whitelist_len, 2);
    CHECK_EQ_INT(cfg.peer_type, CONFIG_OBSERVER);
    CHECK(!cfg.standalone_enabled);
    CHECK(cfg.reconfig_enabled);
    CHECK(cfg.quorum_listen_on_all_ips);
    CHECK(!cfg.sync_enabled);
    CHECK_EQ_INT(cfg.election_port_bind_retry, 0);
    CHECK(!cfg.leader_serves);
    CHECK(!cfg.admin_enable_server);
    CHECK_EQ_STR(cfg.admin_server_address, "127.0.0.1");
    CHECK_EQ_INT(cfg.admin_server_port, 9090);
    CHECK(cfg.is_metrics_enabled);
    CHECK_EQ_STR(cfg.metrics_http_host, "10.0.0.1");
    CHECK_EQ_INT(cfg.metrics_http_port, 7001);
    CHECK_EQ_INT(cfg.server_count, 1);
    CHECK_EQ_INT(cfg.quorum_version, 0x100000000LL);
    /* standaloneEnabled=false makes even one server a (one-member) quorum */
    CHECK(config_is_distributed(&cfg));
    config_free(&cfg);

    EXPECT_OK(&cfg, "dataDir=/d\nclientPort=1\ndynamicConfigFile=/etc/zk/zoo.cfg.dynamic.1\n");
    CHECK_EQ_STR(cfg.dynamic_config_file, "/etc/zk/zoo.cfg.dynamic.1");
    config_free(&cfg);

    /* Booleans take any case; an empty superDigest is unset. */
    EXPECT_OK(&cfg, MINIMAL "reconfigEnabled=TRUE\nsyncEnabled=False\n"
                            "DigestAuthenticationProvider.superDigest=\n");
    CHECK(cfg.reconfig_enabled);
    CHECK(!cfg.sync_enabled);
    CHECK(cfg.super_digest == NULL);
    config_free(&cfg);
}

/* Keys ZooKeeper reads as Java system properties work plain and as "zookeeper.<key>". */
static void test_sysprop_forms(void)
{
    static const struct {
        const char *key;
        const char *value;
    } cases[] = {
        {"jute.maxbuffer", "2000000"},
        {"DigestAuthenticationProvider.superDigest", "super:x"},
        {"extendedTypesEnabled", "true"},
        {"znode.container.checkIntervalMs", "1234"},
        {"znode.container.maxPerMinute", "77"},
        {"4lw.commands.whitelist", "ruok"},
        {"forceSync", "no"},
        {"fsync.warningthresholdms", "5"},
        {"snapCount", "42"},
        {"preAllocSize", "16"},
        {"electionPortBindRetry", "9"},
        {"leaderServes", "no"},
        {"admin.enableServer", "false"},
        {"admin.serverPort", "8181"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int prefixed = 0; prefixed < 2; prefixed++) {
            char text[256];
            snprintf(text, sizeof(text), MINIMAL "%s%s=%s\n", prefixed ? "zookeeper." : "",
                     cases[i].key, cases[i].value);
            struct config cfg;
            EXPECT_OK(&cfg, text);
            switch (i) {
            case 0:
                CHECK_EQ_INT(cfg.jute_max_buffer, 2000000);
                break;
            case 1:
                CHECK_EQ_STR(cfg.super_digest, "super:x");
                break;
            case 2:
                CHECK(cfg.extended_types_enabled);
                break;
            case 3:
                CHECK_EQ_INT(cfg.container_check_interval_ms, 1234);
                break;
            case 4:
                CHECK_EQ_INT(cfg.container_max_per_minute, 77);
                break;
            case 5:
                CHECK(config_4lw_allowed(&cfg, "ruok"));
                break;
            case 6:
                CHECK(!cfg.force_sync);
                break;
            case 7:
                CHECK_EQ_INT(cfg.fsync_warning_threshold_ms, 5);
                break;
            case 8:
                CHECK_EQ_INT(cfg.snap_count, 42);
                break;
            case 9:
                CHECK_EQ_INT(cfg.pre_alloc_size_kb, 16);
                break;
            case 10:
                CHECK_EQ_INT(cfg.election_port_bind_retry, 9);
                break;
            case 11:
                CHECK(!cfg.leader_serves);
                break;
            case 12:
                CHECK(!cfg.admin_enable_server);
                break;
            case 13:
                CHECK_EQ_INT(cfg.admin_server_port, 8181);
                break;
            }
            config_free(&cfg);
        }
    }

    /* Keys QuorumPeerConfig reads itself have no prefixed form: that is an unknown key. */
    struct config cfg;
    EXPECT_OK(&cfg, MINIMAL "zookeeper.tickTime=5\nzookeeper.clientPort=x\n");
    CHECK_EQ_INT(cfg.tick_ms, 3000);
    CHECK_EQ_INT(cfg.client_port, 2181);
    config_free(&cfg);
}

/* ZooKeeper's own clamps and "only no turns it off" rules. */
static void test_clamps(void)
{
    struct config cfg;
    EXPECT_OK(&cfg, MINIMAL "snapCount=1\nautopurge.snapRetainCount=1\n"
                            "autopurge.purgeInterval=-5\nelectionPortBindRetry=-1\n"
                            "maxClientCnxns=-5\n");
    CHECK_EQ_INT(cfg.max_client_cnxns, 0);
    CHECK_EQ_INT(cfg.snap_count, 2);
    CHECK_EQ_INT(cfg.autopurge_snap_retain_count, 3);
    CHECK_EQ_INT(cfg.autopurge_purge_interval_h, 0);
    CHECK_EQ_INT(cfg.election_port_bind_retry, 3);
    config_free(&cfg);

    EXPECT_OK(&cfg, MINIMAL "forceSync=false\nleaderServes=FALSE\n");
    CHECK(cfg.force_sync);
    CHECK(cfg.leader_serves);
    config_free(&cfg);

    EXPECT_OK(&cfg, MINIMAL "forceSync=yes\nleaderServes=yes\npreAllocSize=0\n");
    CHECK(cfg.force_sync);
    CHECK(cfg.leader_serves);
    CHECK_EQ_INT(cfg.pre_alloc_size_kb, 0);
    config_free(&cfg);

    /* Later lines win, as in a Properties map. */
    EXPECT_OK(&cfg, MINIMAL "tickTime=1000\ntickTime=2000\nsnapCount=10\nzookeeper.snapCount=20\n");
    CHECK_EQ_INT(cfg.tick_ms, 2000);
    CHECK_EQ_INT(cfg.snap_count, 20);
    config_free(&cfg);

    /* A huge tickTime does not overflow the derived session bounds. */
    EXPECT_OK(&cfg, MINIMAL "tickTime=2000000000\n");
    CHECK_EQ_INT(config_min_session_timeout_ms(&cfg), 2147483647);
    CHECK_EQ_INT(config_max_session_timeout_ms(&cfg), 2147483647);
    config_free(&cfg);
}

/* ---- java.util.Properties syntax ---- */

static void test_properties_syntax(void)
{
    struct config cfg;

    /* ':' and whitespace separators, blanks around them, leading blanks, trailing blanks. */
    EXPECT_OK(&cfg, "dataDir : /a b  \n"
                    "   clientPort    2181\t\n"
                    "tickTime\t=\t2500\n"
                    "clientPortAddress=:127.0.0.1\n"
                    "dataLogDir   =   /logs\f\n");
    CHECK_EQ_STR(cfg.data_dir, "/a b");
    CHECK_EQ_INT(cfg.client_port, 2181);
    CHECK_EQ_INT(cfg.tick_ms, 2500);
    /* Only the first separator counts; a second ':' is part of the value. */
    CHECK_EQ_STR(cfg.client_port_address, ":127.0.0.1");
    CHECK_EQ_STR(cfg.data_log_dir, "/logs");
    config_free(&cfg);

    /* Comments and blank lines; a comment ending in a backslash does not continue. */
    EXPECT_OK(&cfg, "# comment\n"
                    "! also a comment\n"
                    "   # indented comment \\\n"
                    "dataDir=/d\n"
                    "\n"
                    "   \t \n"
                    "clientPort=2181\n");
    CHECK_EQ_STR(cfg.data_dir, "/d");
    config_free(&cfg);
    EXPECT_ERROR("dataDir=/d\nclientPort=2181 # not a comment\n",
                 "zoo.cfg:2: clientPort: not a number: \"2181 # not a comment\"");

    /* Continuations: leading blanks of the next line dropped; '#' there is text. */
    EXPECT_OK(&cfg, "dataDir=/very/\\\n"
                    "      long/\\\n"
                    "#path\n"
                    "client\\\n"
                    "  Port=21\\\n"
                    "81\n");
    CHECK_EQ_STR(cfg.data_dir, "/very/long/#path");
    CHECK_EQ_INT(cfg.client_port, 2181);
    config_free(&cfg);

    /*
     * As in Java 9+, a '#' or '!' met while nothing is kept yet starts a comment, even on a
     * line that continues an empty one.
     */
    EXPECT_OK(&cfg, "dataDir=/d\n\\\n  # not continued \\\nclientPort=2181\n");
    CHECK_EQ_INT(cfg.client_port, 2181);
    config_free(&cfg);

    /* An even number of backslashes is an escaped backslash, not a continuation. */
    EXPECT_OK(&cfg, "dataDir=C:\\\\zk\\\\\nclientPort=2181\n");
    CHECK_EQ_STR(cfg.data_dir, "C:\\zk\\");
    config_free(&cfg);

    /* A continuation into an empty line ends the logical line there. */
    EXPECT_OK(&cfg, "dataDir=/d\\\n\nclientPort=2181\n");
    CHECK_EQ_STR(cfg.data_dir, "/d");
    config_free(&cfg);

    /* A backslash at the very end of the file is dropped. */
    EXPECT_OK(&cfg, "clientPort=2181\ndataDir=/d\\");
    CHECK_EQ_STR(cfg.data_dir, "/d");
    config_free(&cfg);

    /* CRLF and lone CR line ends; no newline at the end. */
    EXPECT_OK(&cfg, "dataDir=/d\r\nclientPort=2181\rtickTime=100\\\r\n  0");
    CHECK_EQ_STR(cfg.data_dir, "/d");
    CHECK_EQ_INT(cfg.client_port, 2181);
    CHECK_EQ_INT(cfg.tick_ms, 1000);
    config_free(&cfg);

    /* Escapes: \t \n, \uXXXX (UTF-8 out), escaped separators in keys, any other \c is c. */
    EXPECT_OK(&cfg, "dataDir=/caf\\u00e9\\u20ac\\ud83d\\ude00\\q\nclientPort=2181\n"
                    "clientPortAddress=a\\=b\\:c\n"
                    "dataLogDir=x\\ty\n"
                    "data\\ Dir2=unknown key with an escaped blank\n");
    CHECK_EQ_STR(cfg.data_dir, "/caf\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80q");
    CHECK_EQ_STR(cfg.client_port_address, "a=b:c");
    CHECK_EQ_STR(cfg.data_log_dir, "x\ty");
    config_free(&cfg);
    EXPECT_ERROR("dataDir=/d\\u00zz\n", "zoo.cfg:1: malformed \\uxxxx escape");
    EXPECT_ERROR(MINIMAL "dataLogDir=\\u12", "zoo.cfg:3: malformed \\uxxxx escape");
    EXPECT_ERROR(MINIMAL "dataLogDir=a\\u0000b\n", "zoo.cfg:3: NUL character");

    /* A key alone has an empty value; ZooKeeper trims values. */
    EXPECT_ERROR(MINIMAL "dataLogDir\n", "zoo.cfg:3: dataLogDir: must not be empty");
    EXPECT_ERROR(MINIMAL "dataLogDir =   \t\n", "zoo.cfg:3: dataLogDir: must not be empty");

    /* "key==v": the second '=' is part of the value (ZooKeeper then trims only blanks). */
    EXPECT_ERROR(MINIMAL "tickTime==5\n", "zoo.cfg:3: tickTime: not a number: \"=5\"");

    /* An empty text, or one with only comments, has no dataDir. */
    EXPECT_ERROR("", "zoo.cfg: dataDir is not set");
    EXPECT_ERROR("# nothing\n\n", "zoo.cfg: dataDir is not set");
}

/* Messages name the physical line where the logical line starts. */
static void test_line_numbers(void)
{
    EXPECT_ERROR("# one\n\n! three\ndataDir=/d\nclientPort=21x81\n",
                 "zoo.cfg:5: clientPort: not a number: \"21x81\"");
    EXPECT_ERROR("dataDir=/d\\\n  e\\\n  f\nclientPort=2181\ntickTime=\\\n  x\n",
                 "zoo.cfg:5: tickTime: not a number: \"x\"");
    EXPECT_ERROR("dataDir=/d\r\n\r\nclientPort=2181\r\ntickTime=y\r\n",
                 "zoo.cfg:4: tickTime: not a number: \"y\"");
    EXPECT_ERROR("dataDir=/d\r\rclientPort=q\n", "zoo.cfg:3: clientPort: not a number");
}

/* ---- bad values ---- */

static void test_malformed_values(void)
{
    static const struct {
        const char *line;
        const char *want;
    } cases[] = {
        {"clientPort=21x81", "zoo.cfg:3: clientPort: not a number: \"21x81\""},
        {"clientPort=70000", "zoo.cfg:3: clientPort: out of range (0-65535): \"70000\""},
        {"clientPort=-1", "zoo.cfg:3: clientPort: out of range"},
        {"clientPort=", "zoo.cfg:3: clientPort: not a number: \"\""},
        {"clientPort=99999999999999999999999", "zoo.cfg:3: clientPort: out of range"},
        {"tickTime=0", "zoo.cfg:3: tickTime: must be at least 1"},
        {"tickTime=-2000", "zoo.cfg:3: tickTime: must be at least 1"},
        {"tickTime=2000ms", "zoo.cfg:3: tickTime: not a number"},
        {"tickTime=2147483648", "zoo.cfg:3: tickTime: must be at least 1"},
        {"tickTime=0x10", "zoo.cfg:3: tickTime: not a number"},
        {"initLimit=-1", "zoo.cfg:3: initLimit: must be at least 0"},
        {"syncLimit=five", "zoo.cfg:3: syncLimit: not a number"},
        {"minSessionTimeout=-2", "zoo.cfg:3: minSessionTimeout: must be at least -1"},
        {"maxSessionTimeout=-100", "zoo.cfg:3: maxSessionTimeout: must be at least -1"},
        {"minSessionTimeout=1.5", "zoo.cfg:3: minSessionTimeout: not a number"},
        {"snapCount=lots", "zoo.cfg:3: snapCount: not a number"},
        {"zookeeper.snapCount=lots", "zoo.cfg:3: zookeeper.snapCount: not a number"},
        {"preAllocSize=-1", "zoo.cfg:3: preAllocSize: out of range"},
        {"jute.maxbuffer=0", "zoo.cfg:3: jute.maxbuffer: must be at least 1"},
        {"jute.maxbuffer=1M", "zoo.cfg:3: jute.maxbuffer: not a number"},
        {"znode.container.checkIntervalMs=0", "zoo.cfg:3: znode.container.checkIntervalMs"},
        {"znode.container.maxPerMinute=0", "zoo.cfg:3: znode.container.maxPerMinute"},
        {"fsync.warningthresholdms=soon", "zoo.cfg:3: fsync.warningthresholdms: not a number"},
        {"autopurge.purgeInterval=1h", "zoo.cfg:3: autopurge.purgeInterval: not a number"},
        {"standaloneEnabled=yes", "zoo.cfg:3: standaloneEnabled: must be true or false: \"yes\""},
        {"reconfigEnabled=1", "zoo.cfg:3: reconfigEnabled: must be true or false"},
        {"extendedTypesEnabled=on", "zoo.cfg:3: extendedTypesEnabled: must be true or false"},
        {"peerType=voter", "zoo.cfg:3: peerType: must be participant or observer: \"voter\""},
        {"electionAlg=0", "zoo.cfg:3: electionAlg: only 3 (fast leader election) is supported"},
        {"electionAlg=x", "zoo.cfg:3: electionAlg: not a number"},
        {"admin.serverPort=0", "zoo.cfg:3: admin.serverPort: out of range (1-65535)"},
        {"metricsProvider.httpPort=65536", "zoo.cfg:3: metricsProvider.httpPort: out of range"},
        {"clientPortAddress=", "zoo.cfg:3: clientPortAddress: must not be empty"},
        {"dataDir=", "zoo.cfg:3: dataDir: must not be empty"},
        {"version=xyz", "zoo.cfg:3: version: not a hexadecimal number"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text), MINIMAL "%s\n", cases[i].line);
        EXPECT_ERROR(text, cases[i].want);
    }

    /* Long values are cut short in the message. */
    char text[512];
    snprintf(text, sizeof(text), MINIMAL "tickTime=%0300d\n", 7);
    text[strlen(MINIMAL) + 9] = 'x';
    EXPECT_ERROR(text, "...");
}

static void test_whole_file_checks(void)
{
    EXPECT_ERROR("clientPort=2181\n", "zoo.cfg: dataDir is not set");
    EXPECT_ERROR("dataDir=/d\n", "zoo.cfg: clientPort is not set");
    EXPECT_ERROR("dataDir=/d\nclientPort=0\n", "zoo.cfg: clientPort is not set");
    EXPECT_ERROR("dataDir=/d\nclientPortAddress=127.0.0.1\n",
                 "zoo.cfg:2: clientPortAddress is set but clientPort is not set");
    EXPECT_ERROR(MINIMAL "tickTime=2000\nmaxSessionTimeout=1000\n",
                 "zoo.cfg:4: minSessionTimeout 4000 must not be larger than maxSessionTimeout "
                 "1000");
    EXPECT_ERROR(MINIMAL "minSessionTimeout=50000\nmaxSessionTimeout=40000\n",
                 "zoo.cfg:3: minSessionTimeout 50000 must not be larger");

    struct config cfg;
    EXPECT_OK(&cfg, MINIMAL "minSessionTimeout=5000\nmaxSessionTimeout=5000\n");
    CHECK_EQ_INT(config_min_session_timeout_ms(&cfg), 5000);
    CHECK_EQ_INT(config_max_session_timeout_ms(&cfg), 5000);
    config_free(&cfg);
    /* An explicit -1 means "derive from tickTime", as in ZooKeeper. */
    EXPECT_OK(&cfg, MINIMAL "tickTime=1000\nminSessionTimeout=-1\nmaxSessionTimeout=-1\n");
    CHECK_EQ_INT(config_min_session_timeout_ms(&cfg), 2000);
    CHECK_EQ_INT(config_max_session_timeout_ms(&cfg), 20000);
    config_free(&cfg);
}

/* An unknown key is a warning (once per key, naming the line), never an error. */
static void test_unknown_keys(void)
{
    struct config cfg;
    capture_begin();
    int rc = parse(&cfg, "dataDir=/d\n"
                         "fooBar=1\n"
                         "clientPort=2181\n"
                         "fooBar=2\n"
                         "secureClientPort=2281\n"
                         "tickTime=1000\n"
                         "tickTime=2000\n"
                         "skipACL=yes\n");
    const char *log = capture_end();
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(cfg.tick_ms, 2000);
    CHECK_EQ_INT(count_substr(log, "fooBar"), 1);
    CHECK(strstr(log, "zoo.cfg:2: unknown key \"fooBar\"") != NULL);
    CHECK(strstr(log, "zoo.cfg:8: unknown key \"skipACL\"") != NULL);
    CHECK(strstr(log, "zoo.cfg:5: secureClientPort is a ZooKeeper setting Paddock does not "
                      "implement") != NULL);
    CHECK(strstr(log, "zoo.cfg:7: tickTime is set again (line 6)") != NULL);
    config_free(&cfg);

    /* ZooKeeper keeps fsync on for "false": we do too, and warn. */
    capture_begin();
    rc = parse(&cfg, MINIMAL "forceSync=false\n");
    log = capture_end();
    CHECK_EQ_INT(rc, 0);
    CHECK(cfg.force_sync);
    CHECK(strstr(log, "zoo.cfg:3: forceSync=\"false\": only \"no\" turns it off") != NULL);
    config_free(&cfg);
}

/* ---- servers ---- */

static void test_servers(void)
{
    struct config cfg;
    EXPECT_OK(&cfg, "dataDir=/d\ninitLimit=10\nsyncLimit=5\n"
                    "server.1=zk1.example.com:2888:3888\n"
                    "server.2=10.0.0.2:2888:3888:participant\n"
                    "server.3=zk3:2889:3889:observer\n"
                    "server.4=zk4:2888:3888;2181\n"
                    "server.5=zk5:2888:3888:PARTICIPANT;127.0.0.5:2182\n"
                    "server.6=[::1]:2888:3888:observer;[::1]:2183\n"
                    "server.07 = zk7 : 2888 : 3888 : observer ; 2184 \n"
                    "server.8=zk8:2888:3888:\n"
                    "server.9=zk9:2888:3888;\n");
    CHECK_EQ_INT(cfg.server_count, 9);
    CHECK_EQ_INT(cfg.client_port, 0);
    const struct config_server *s = cfg.servers;
    CHECK_EQ_INT(s[0].sid, 1);
    CHECK_EQ_STR(s[0].host, "zk1.example.com");
    CHECK_EQ_INT(s[0].quorum_port, 2888);
    CHECK_EQ_INT(s[0].election_port, 3888);
    CHECK(!s[0].is_observer);
    CHECK(s[0].client_addr == NULL);
    CHECK_EQ_INT(s[0].client_port, 0);
    CHECK_EQ_INT(s[0].group_id, -1);
    CHECK_EQ_INT(s[0].weight, 1);
    CHECK_EQ_INT(s[0].line, 4);
    CHECK_EQ_STR(s[1].host, "10.0.0.2");
    CHECK(!s[1].is_observer);
    CHECK(s[2].is_observer);
    CHECK_EQ_INT(s[2].quorum_port, 2889);
    CHECK_EQ_INT(s[2].election_port, 3889);
    CHECK_EQ_STR(s[3].client_addr, "0.0.0.0");
    CHECK_EQ_INT(s[3].client_port, 2181);
    CHECK(!s[4].is_observer);
    CHECK_EQ_STR(s[4].client_addr, "127.0.0.5");
    CHECK_EQ_INT(s[4].client_port, 2182);
    CHECK_EQ_STR(s[5].host, "::1");
    CHECK(s[5].is_observer);
    CHECK_EQ_STR(s[5].client_addr, "::1");
    CHECK_EQ_INT(s[5].client_port, 2183);
    CHECK_EQ_INT(s[6].sid, 7);
    CHECK_EQ_STR(s[6].host, "zk7");
    CHECK(s[6].is_observer);
    CHECK_EQ_INT(s[6].client_port, 2184);
    /* Java's split drops trailing empty pieces, so these are accepted as in ZooKeeper. */
    CHECK_EQ_STR(s[7].host, "zk8");
    CHECK(!s[7].is_observer);
    CHECK(s[8].client_addr == NULL);
    CHECK(config_is_distributed(&cfg));
    CHECK(config_find_server(&cfg, 5) == &s[4]);
    CHECK(config_find_server(&cfg, 10) == NULL);
    config_free(&cfg);

    /* A repeated server.N replaces the earlier line. */
    EXPECT_OK(&cfg, MINIMAL "initLimit=1\nsyncLimit=1\n"
                            "server.1=a:1:2\nserver.2=b:1:2\nserver.1=c:3:4\n");
    CHECK_EQ_INT(cfg.server_count, 2);
    CHECK_EQ_STR(config_find_server(&cfg, 1)->host, "c");
    CHECK_EQ_INT(config_find_server(&cfg, 1)->quorum_port, 3);
    config_free(&cfg);

    /* One participant and standaloneEnabled: ZooKeeper runs standalone. */
    EXPECT_OK(&cfg, MINIMAL "server.1=localhost:2888:3888\n");
    CHECK(!config_is_distributed(&cfg));
    config_free(&cfg);
}

static void test_server_errors(void)
{
    static const struct {
        const char *line;
        const char *want;
    } cases[] = {
        {"server.x=a:1:2", "zoo.cfg:5: server.x: not a valid server id"},
        {"server.-1=a:1:2", "zoo.cfg:5: server.-1: not a valid server id"},
        {"server.=a:1:2", "zoo.cfg:5: server.: not a valid server id"},
        {"server.2=a:2888", "zoo.cfg:5: server.2: expected host:quorumPort:electionPort"},
        {"server.2=a", "zoo.cfg:5: server.2: expected host"},
        {"server.2=", "zoo.cfg:5: server.2: expected host"},
        {"server.2=:2888:3888", "zoo.cfg:5: server.2: expected host"},
        {"server.2=a:1:2:observer:x", "zoo.cfg:5: server.2: expected host"},
        {"server.2=a:1:2;3;4", "zoo.cfg:5: server.2: expected host"},
        {"server.2=a:x:3888", "zoo.cfg:5: server.2: quorum port: not a number: \"x\""},
        {"server.2=a:2888:", "zoo.cfg:5: server.2: expected host"},
        {"server.2=a::3888", "zoo.cfg:5: server.2: quorum port: not a number: \"\""},
        {"server.2=a:2888:70000", "zoo.cfg:5: server.2: election port: out of range"},
        {"server.2=a:0:3888", "zoo.cfg:5: server.2: quorum port: out of range"},
        {"server.2=a:2888:2888", "zoo.cfg:5: server.2: quorum and election ports must differ"},
        {"server.2=a:1:2:voter", "zoo.cfg:5: server.2: role must be participant or observer"},
        {"server.2=a:1:2;x", "zoo.cfg:5: server.2: client port: not a number: \"x\""},
        {"server.2=a:1:2;h:1:2", "zoo.cfg:5: server.2: expected host"},
        {"server.2=a:1:2;:2181", "zoo.cfg:5: server.2: expected host"},
        {"server.2=a:1:2;0", "zoo.cfg:5: server.2: client port: out of range"},
        {"server.2=[::1:1:2", "zoo.cfg:5: server.2: '[' without a matching ']'"},
        {"server.2=[::1]1:2", "zoo.cfg:5: server.2: expected ':' and a port after ']'"},
        {"server.2=[::1]:", "zoo.cfg:5: server.2: expected ':' and a port after ']'"},
        {"server.2=a:1:2|b:1:2", "zoo.cfg:5: server.2: several addresses for one server"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text), MINIMAL "initLimit=1\nsyncLimit=1\n%s\nserver.1=z:1:2\n",
                 cases[i].line);
        EXPECT_ERROR(text, cases[i].want);
    }
}

/* QuorumPeerConfig.parseDynamicConfig() and checkValidity(). */
static void test_quorum_checks(void)
{
    EXPECT_ERROR(MINIMAL "standaloneEnabled=false\n",
                 "zoo.cfg:3: standaloneEnabled=false needs at least one participant");
    EXPECT_ERROR(MINIMAL "server.1=a:1:2:observer\n", "zoo.cfg:3: observers without participants");
    EXPECT_ERROR(MINIMAL "server.1=a:1:2\nserver.2=b:1:2:observer\n",
                 "zoo.cfg:3: observers without a quorum");
    EXPECT_ERROR(MINIMAL "syncLimit=5\nserver.1=a:1:2\nserver.2=b:1:2\n",
                 "zoo.cfg: initLimit is not set");
    EXPECT_ERROR(MINIMAL "initLimit=5\nserver.1=a:1:2\nserver.2=b:1:2\n",
                 "zoo.cfg: syncLimit is not set");
    EXPECT_ERROR("dataDir=/d\ninitLimit=5\nsyncLimit=2\nserver.1=a:1:2\nserver.2=b:1:2\n",
                 "zoo.cfg: clientPort is not set and no server.N line gives a client port");
    /* With dynamicConfigFile, the server list belongs in that file. */
    EXPECT_ERROR(MINIMAL "server.1=a:1:2\ndynamicConfigFile=/x\n",
                 "zoo.cfg:3: server.1: must be in the dynamic config file");
    EXPECT_ERROR(MINIMAL "dynamicConfigFile=/x\ngroup.1=1\n",
                 "zoo.cfg:4: group.1: must be in the dynamic config file");

    /* A client port on a server line is enough for config_parse(). */
    struct config cfg;
    EXPECT_OK(&cfg, "dataDir=/d\ninitLimit=5\nsyncLimit=2\nserver.1=a:1:2;2181\nserver.2=b:1:2\n");
    config_free(&cfg);
    /* Observers with a quorum. */
    EXPECT_OK(&cfg,
              MINIMAL "initLimit=5\nsyncLimit=2\n"
                      "server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\nserver.4=d:1:2:observer\n");
    CHECK(config_is_distributed(&cfg));
    config_free(&cfg);
}

static void test_hierarchical(void)
{
    struct config cfg;
    EXPECT_OK(&cfg, MINIMAL "initLimit=5\nsyncLimit=2\n"
                            "group.1=1:2:3\ngroup.2=4: 5 :6:\n"
                            "weight.1=2\nweight.5=0\n"
                            "server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n"
                            "server.4=d:1:2\nserver.5=e:1:2\nserver.6=f:1:2\n"
                            "server.7=g:1:2:observer\n");
    CHECK(cfg.is_hierarchical);
    CHECK_EQ_INT(config_find_server(&cfg, 1)->group_id, 1);
    CHECK_EQ_INT(config_find_server(&cfg, 3)->group_id, 1);
    CHECK_EQ_INT(config_find_server(&cfg, 5)->group_id, 2);
    CHECK_EQ_INT(config_find_server(&cfg, 6)->group_id, 2);
    CHECK_EQ_INT(config_find_server(&cfg, 7)->group_id, -1);
    CHECK_EQ_INT(config_find_server(&cfg, 1)->weight, 2);
    CHECK_EQ_INT(config_find_server(&cfg, 2)->weight, 1);
    CHECK_EQ_INT(config_find_server(&cfg, 5)->weight, 0);
    config_free(&cfg);

    const char *base = MINIMAL "initLimit=5\nsyncLimit=2\nserver.1=a:1:2\nserver.2=b:1:2\n";
    char text[512];
    snprintf(text, sizeof(text), "%sgroup.1=1\n", base);
    EXPECT_ERROR(text, "zoo.cfg:6: server.2 is not in any group.G line");
    snprintf(text, sizeof(text), "%sgroup.1=1:2\ngroup.2=2\n", base);
    EXPECT_ERROR(text, "zoo.cfg:8: group.2: server 2 is already in group 1 (line 7)");
    snprintf(text, sizeof(text), "%sgroup.1=1:x\n", base);
    EXPECT_ERROR(text, "zoo.cfg:7: group.1: not a server id: \"x\"");
    snprintf(text, sizeof(text), "%sgroup.1=1::2\n", base);
    EXPECT_ERROR(text, "zoo.cfg:7: group.1: not a server id: \"\"");
    snprintf(text, sizeof(text), "%sgroup.1=\n", base);
    EXPECT_ERROR(text, "zoo.cfg:7: group.1: not a server id");
    snprintf(text, sizeof(text), "%sgroupies=1:2\n", base);
    EXPECT_ERROR(text, "zoo.cfg:7: groupies: expected group.N");
    snprintf(text, sizeof(text), "%sgroup.1=1:2\nweight.1=heavy\n", base);
    EXPECT_ERROR(text, "zoo.cfg:8: weight.1: not a number");
    snprintf(text, sizeof(text), "%sgroup.1=1:2\nweight.1=-1\n", base);
    EXPECT_ERROR(text, "zoo.cfg:8: weight.1: must be at least 0");
    snprintf(text, sizeof(text), "%sweight.x=1\n", base);
    EXPECT_ERROR(text, "zoo.cfg:7: weight.x: expected weight.N");
    /* weight lines alone make the quorum hierarchical, so groups are required. */
    snprintf(text, sizeof(text), "%sweight.1=1\n", base);
    EXPECT_ERROR(text, "server.1 is not in any group.G line");
    /* A repeated group.G replaces the earlier one. */
    snprintf(text, sizeof(text), "%sgroup.1=1\ngroup.1=1:2\n", base);
    EXPECT_OK(&cfg, text);
    CHECK_EQ_INT(config_find_server(&cfg, 2)->group_id, 1);
    config_free(&cfg);
}

/* ---- the 4lw whitelist ---- */

static void test_4lw(void)
{
    struct config cfg;
    EXPECT_OK(&cfg, MINIMAL);
    CHECK(config_4lw_allowed(&cfg, "srvr"));
    CHECK(!config_4lw_allowed(&cfg, "ruok"));
    CHECK(!config_4lw_allowed(&cfg, "stat"));
    CHECK(!config_4lw_allowed(&cfg, "mntr"));
    config_free(&cfg);

    EXPECT_OK(&cfg, MINIMAL "4lw.commands.whitelist=*\n");
    CHECK(cfg.is_four_lw_all);
    CHECK(config_4lw_allowed(&cfg, "ruok"));
    CHECK(config_4lw_allowed(&cfg, "mntr"));
    CHECK(config_4lw_allowed(&cfg, "srvr"));
    config_free(&cfg);

    EXPECT_OK(&cfg, MINIMAL "4lw.commands.whitelist= ruok, stat ,conf  mntr,,\tcons\n");
    CHECK_EQ_INT(cfg.four_lw_whitelist_len, 5);
    CHECK(config_4lw_allowed(&cfg, "ruok"));
    CHECK(config_4lw_allowed(&cfg, "stat"));
    CHECK(config_4lw_allowed(&cfg, "conf"));
    CHECK(config_4lw_allowed(&cfg, "mntr"));
    CHECK(config_4lw_allowed(&cfg, "cons"));
    CHECK(config_4lw_allowed(&cfg, "srvr"));
    CHECK(!config_4lw_allowed(&cfg, "wchc"));
    CHECK(!config_4lw_allowed(&cfg, "ruo"));
    CHECK(!config_4lw_allowed(&cfg, ""));
    config_free(&cfg);

    EXPECT_OK(&cfg, MINIMAL "4lw.commands.whitelist=ruok, *\n");
    CHECK(config_4lw_allowed(&cfg, "dump"));
    config_free(&cfg);

    /* The later line replaces the list; an empty list leaves srvr only. */
    EXPECT_OK(&cfg, MINIMAL "4lw.commands.whitelist=*\nzookeeper.4lw.commands.whitelist=\n");
    CHECK(!cfg.is_four_lw_all);
    CHECK(!config_4lw_allowed(&cfg, "ruok"));
    CHECK(config_4lw_allowed(&cfg, "srvr"));
    config_free(&cfg);
}

/* ---- files: myid, config_load, the dynamic file ---- */

static const char *quorum_cfg(const char *extra)
{
    static char text[1024];
    snprintf(text, sizeof(text),
             "dataDir=%s\ninitLimit=5\nsyncLimit=2\n"
             "server.1=a:2888:3888;2181\n"
             "server.2=b:2888:3888;127.0.0.1:2182\n"
             "server.3=c:2888:3888\n"
             "server.4=d:2888:3888:observer;2184\n"
             "%s",
             tmp_dir, extra);
    return text;
}

static int load_myid(struct config *cfg, const char *cfg_text, const char *myid)
{
    if (myid)
        write_file(tmp_dir, "myid", myid);
    else
        remove_file(tmp_dir, "myid");
    config_init(cfg);
    int rc = config_parse(cfg, cfg_text, strlen(cfg_text), "zoo.cfg");
    if (rc == 0)
        rc = config_load_myid(cfg);
    remove_file(tmp_dir, "myid");
    return rc;
}

static void test_myid(void)
{
    struct config cfg;
    make_tmp_dir();

    CHECK_EQ_INT(load_myid(&cfg, quorum_cfg(""), "1\n"), 0);
    CHECK_EQ_INT(cfg.my_id, 1);
    CHECK_EQ_INT(cfg.client_port, 2181);
    CHECK_EQ_STR(cfg.client_port_address, "0.0.0.0");
    CHECK_EQ_INT(cfg.peer_type, CONFIG_PARTICIPANT);
    config_free(&cfg);

    /* Blanks and CRLF around the id are forgiven; only the first line counts. */
    CHECK_EQ_INT(load_myid(&cfg, quorum_cfg(""), "  2 \r\nrubbish\n"), 0);
    CHECK_EQ_INT(cfg.my_id, 2);
    CHECK_EQ_INT(cfg.client_port, 2182);
    CHECK_EQ_STR(cfg.client_port_address, "127.0.0.1");
    config_free(&cfg);

    /* The server list decides the role; clientPort fills in for a line without one. */
    CHECK_EQ_INT(load_myid(&cfg, quorum_cfg("peerType=participant\n"), "4"), 0);
    CHECK_EQ_INT(cfg.peer_type, CONFIG_OBSERVER);
    config_free(&cfg);
    CHECK_EQ_INT(load_myid(&cfg, quorum_cfg("clientPort=2180\n"), "3"), 0);
    CHECK_EQ_INT(cfg.client_port, 2180);
    config_free(&cfg);
    /* The same port from clientPort and the server line agree. */
    CHECK_EQ_INT(load_myid(&cfg, quorum_cfg("clientPort=2181\n"), "1"), 0);
    config_free(&cfg);

    CHECK_EQ_INT(load_myid(&cfg, quorum_cfg(""), NULL), PD_ECONFIG);
    CHECK(strstr(cfg.errmsg, "/myid: file is missing") != NULL);
    config_free(&cfg);

    static const char *const garbage[] = {
        "", "\n", "one\n", "1x\n", "-1\n", "1.0\n", "99999999999999999999\n"};
    for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
        CHECK_EQ_INT(load_myid(&cfg, quorum_cfg(""), garbage[i]), PD_ECONFIG);
        CHECK(strstr(cfg.errmsg, "/myid: not a server id") != NULL);
        config_free(&cfg);
    }

    CHECK_EQ_INT(load_myid(&cfg, quorum_cfg(""), "9\n"), PD_ECONFIG);
    CHECK(strstr(cfg.errmsg, "server id 9 has no server.9 line") != NULL);
    config_free(&cfg);

    CHECK_EQ_INT(load_myid(&cfg, quorum_cfg(""), "3\n"), PD_ECONFIG);
    CHECK(strstr(cfg.errmsg, "no client port for this server") != NULL);
    config_free(&cfg);

    CHECK_EQ_INT(load_myid(&cfg, quorum_cfg("clientPort=2000\n"), "1\n"), PD_ECONFIG);
    CHECK(strstr(cfg.errmsg, "differ from the client address 0.0.0.0:2181 in server.1") != NULL);
    config_free(&cfg);
    CHECK_EQ_INT(
        load_myid(&cfg, quorum_cfg("clientPort=2182\nclientPortAddress=10.1.1.1\n"), "2\n"),
        PD_ECONFIG);
    CHECK(strstr(cfg.errmsg, "10.1.1.1:2182 differ") != NULL);
    config_free(&cfg);

    char text[512];
    snprintf(text, sizeof(text),
             "dataDir=%s\ninitLimit=5\nsyncLimit=2\nclientPort=2181\nextendedTypesEnabled=true\n"
             "server.1=a:1:2\nserver.255=b:1:2\n",
             tmp_dir);
    CHECK_EQ_INT(load_myid(&cfg, text, "255\n"), PD_ECONFIG);
    CHECK(strstr(cfg.errmsg, "larger than 254") != NULL);
    config_free(&cfg);

    /* Standalone: no myid needed. */
    snprintf(text, sizeof(text), "dataDir=%s\nclientPort=2181\nserver.1=a:1:2\n", tmp_dir);
    CHECK_EQ_INT(load_myid(&cfg, text, NULL), 0);
    CHECK_EQ_INT(cfg.my_id, -1);
    config_free(&cfg);
    /* ... but a port only on the server line needs myid to find it. */
    snprintf(text, sizeof(text), "dataDir=%s\nserver.1=a:1:2;2181\n", tmp_dir);
    CHECK_EQ_INT(load_myid(&cfg, text, NULL), PD_ECONFIG);
    CHECK(strstr(cfg.errmsg, "myid: missing, and clientPort is not set") != NULL);
    config_free(&cfg);
    CHECK_EQ_INT(load_myid(&cfg, text, "1"), 0);
    CHECK_EQ_INT(cfg.client_port, 2181);
    config_free(&cfg);

    /* A directory named myid is not a myid file (Java's isFile()). */
    char path[256];
    snprintf(path, sizeof(path), "%s/myid", tmp_dir);
    CHECK_EQ_INT(mkdir(path, 0700), 0);
    config_init(&cfg);
    const char *q = quorum_cfg("");
    CHECK_EQ_INT(config_parse(&cfg, q, strlen(q), "zoo.cfg"), 0);
    CHECK_EQ_INT(config_load_myid(&cfg), PD_ECONFIG);
    CHECK(strstr(cfg.errmsg, "file is missing") != NULL);
    config_free(&cfg);
    rmdir(path);

    rmdir(tmp_dir);
}

static void test_load(void)
{
    struct config cfg;
    make_tmp_dir();
    char path[256], text[1024];

    snprintf(path, sizeof(path), "%s/missing.cfg", tmp_dir);
    config_init(&cfg);
    CHECK_EQ_INT(config_load(&cfg, path), PD_EIO);
    CHECK(strstr(cfg.errmsg, "missing.cfg: cannot read: No such file or directory") != NULL);
    config_free(&cfg);

    config_init(&cfg);
    CHECK_EQ_INT(config_load(&cfg, tmp_dir), PD_EIO);
    CHECK(strstr(cfg.errmsg, "cannot read") != NULL);
    config_free(&cfg);

    /* Standalone file: myid is not read. */
    snprintf(text, sizeof(text), "tickTime=2000\ndataDir=%s\nclientPort=2181\n", tmp_dir);
    write_file(tmp_dir, "zoo.cfg", text);
    snprintf(path, sizeof(path), "%s/zoo.cfg", tmp_dir);
    config_init(&cfg);
    CHECK_EQ_INT(config_load(&cfg, path), 0);
    CHECK_EQ_INT(cfg.tick_ms, 2000);
    CHECK_EQ_INT(cfg.my_id, -1);
    config_free(&cfg);

    /* Errors name the file. */
    write_file(tmp_dir, "zoo.cfg", "dataDir=/d\nclientPort=21x81\n");
    config_init(&cfg);
    CHECK_EQ_INT(config_load(&cfg, path), PD_ECONFIG);
    char want[600];
    snprintf(want, sizeof(want), "%s:2: clientPort: not a number: \"21x81\"", path);
    CHECK_EQ_STR(cfg.errmsg, want);
    config_free(&cfg);

    /* A replicated file reads myid. */
    write_file(tmp_dir, "zoo.cfg", quorum_cfg(""));
    write_file(tmp_dir, "myid", "2\n");
    config_init(&cfg);
    CHECK_EQ_INT(config_load(&cfg, path), 0);
    CHECK_EQ_INT(cfg.my_id, 2);
    CHECK_EQ_INT(cfg.client_port, 2182);
    config_free(&cfg);
    remove_file(tmp_dir, "myid");
    config_init(&cfg);
    CHECK_EQ_INT(config_load(&cfg, path), PD_ECONFIG);
    CHECK(strstr(cfg.errmsg, "myid: file is missing") != NULL);
    config_free(&cfg);

    /* The dynamic config file holds the server list; its name gives the version. */
    char dyn[256];
    snprintf(dyn, sizeof(dyn), "%s/zoo.cfg.dynamic.1a", tmp_dir);
    snprintf(text, sizeof(text),
             "dataDir=%s\ninitLimit=5\nsyncLimit=2\nreconfigEnabled=true\n"
             "dynamicConfigFile=%s\n",
             tmp_dir, dyn);
    write_file(tmp_dir, "zoo.cfg", text);
    write_file(tmp_dir, "zoo.cfg.dynamic.1a",
               "server.1=a:2888:3888:participant;0.0.0.0:2181\n"
               "server.2=b:2888:3888:participant;0.0.0.0:2181\n"
               "server.3=c:2888:3888:participant;0.0.0.0:2181\n");
    write_file(tmp_dir, "myid", "3\n");
    config_init(&cfg);
    CHECK_EQ_INT(config_load(&cfg, path), 0);
    CHECK_EQ_INT(cfg.server_count, 3);
    CHECK_EQ_INT(cfg.quorum_version, 0x1a);
    CHECK_EQ_INT(cfg.my_id, 3);
    CHECK_EQ_INT(cfg.client_port, 2181);
    config_free(&cfg);

    write_file(tmp_dir, "zoo.cfg.dynamic.1a", "server.1=a:2888:3888;2181\ntickTime=5\n");
    config_init(&cfg);
    CHECK_EQ_INT(config_load(&cfg, path), PD_ECONFIG);
    snprintf(want, sizeof(want), "%s:2: tickTime: not allowed in a dynamic config file", dyn);
    CHECK(strstr(cfg.errmsg, want) != NULL);
    config_free(&cfg);

    write_file(tmp_dir, "zoo.cfg.dynamic.1a", "server.1=a:2888:3888;2181\nversion=2\n");
    config_init(&cfg);
    CHECK_EQ_INT(config_load(&cfg, path), PD_ECONFIG);
    CHECK(strstr(cfg.errmsg, ":2: version: a dynamic config file must not set it") != NULL);
    config_free(&cfg);

    remove_file(tmp_dir, "zoo.cfg.dynamic.1a");
    config_init(&cfg);
    CHECK_EQ_INT(config_load(&cfg, path), PD_EIO);
    CHECK(strstr(cfg.errmsg, "zoo.cfg.dynamic.1a: cannot read") != NULL);
    config_free(&cfg);

    remove_file(tmp_dir, "myid");
    remove_file(tmp_dir, "zoo.cfg");
    rmdir(tmp_dir);
}

/* config_parse_dynamic() on its own: version from the name, quorum checks. */
static void test_parse_dynamic(void)
{
    struct config cfg;
    EXPECT_OK(&cfg, MINIMAL "initLimit=5\nsyncLimit=2\ndynamicConfigFile=/etc/zk/dyn\n");
    CHECK_EQ_INT(cfg.server_count, 0);
    const char *dyn = "server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2:observer\n"
                      "group.1=1:2\nweight.2=5\n";
    CHECK_EQ_INT(config_parse_dynamic(&cfg, dyn, strlen(dyn), "/etc/zk/zoo.cfg.dynamic.1f"), 0);
    CHECK_EQ_INT(cfg.server_count, 3);
    CHECK_EQ_INT(cfg.quorum_version, 0x1f);
    CHECK(cfg.is_hierarchical);
    CHECK_EQ_INT(config_find_server(&cfg, 2)->weight, 5);
    CHECK(config_is_distributed(&cfg));
    /* A name without a hex suffix gives version 0; parsing again replaces the list. */
    dyn = "server.7=g:1:2\nserver.8=h:1:2\n";
    CHECK_EQ_INT(config_parse_dynamic(&cfg, dyn, strlen(dyn), "/etc/zk/dyn"), 0);
    CHECK_EQ_INT(cfg.quorum_version, 0);
    CHECK_EQ_INT(cfg.server_count, 2);
    CHECK(!cfg.is_hierarchical);
    dyn = "server.1=a:1:2:observer\n";
    CHECK_EQ_INT(config_parse_dynamic(&cfg, dyn, strlen(dyn), "dyn.cfg"), PD_ECONFIG);
    CHECK_EQ_STR(cfg.errmsg, "dyn.cfg:1: observers without participants");
    config_free(&cfg);
}

/* Files past the bounds fail cleanly; many distinct unknown keys are only warnings. */
static void test_limits(void)
{
    size_t cap = 64 * (CONFIG_MAX_SERVERS + 2);
    char *text = malloc(cap);
    size_t len = (size_t)snprintf(text, cap, MINIMAL "initLimit=1\nsyncLimit=1\n");
    for (int i = 0; i <= CONFIG_MAX_SERVERS; i++)
        len += (size_t)snprintf(text + len, cap - len, "server.%d=h:1:2\n", i);
    struct config cfg;
    config_init(&cfg);
    CHECK_EQ_INT(config_parse(&cfg, text, len, "zoo.cfg"), PD_ECONFIG);
    CHECK(strstr(cfg.errmsg, "server.4096: more than 4096 servers") != NULL);
    config_free(&cfg);

    len = (size_t)snprintf(text, cap, MINIMAL);
    for (int i = 0; i < 5000 && len + 32 < cap; i++)
        len += (size_t)snprintf(text + len, cap - len, "k%d=v\n", i);
    config_init(&cfg);
    CHECK_EQ_INT(config_parse(&cfg, text, len, "zoo.cfg"), 0);
    config_free(&cfg);
    free(text);
}

/* ---- OOM ---- */

static const char oom_text[] =
    "# a config that touches every allocation path\n"
    "tickTime=2000\ninitLimit=10\nsyncLimit=5\n"
    "dataDir=/var/lib/zk\\\n  /data\n"
    "clientPortAddress=127.0.0.1\nclientPort=2181\n"
    "DigestAuthenticationProvider.superDigest=super:abc\n"
    "4lw.commands.whitelist=ruok, stat, conf, mntr\n"
    "4lw.commands.whitelist=ruok, srvr\n"
    "admin.serverAddress=127.0.0.1\nmetricsProvider.httpHost=127.0.0.1\n"
    "unknown.key=1\nunknown.key=2\nsecureClientPort=2281\ntickTime=2000\n"
    "group.1=1:2:3\ngroup.2=4:5\nweight.1=3\nweight.2=2\n"
    "server.1=a:2888:3888\nserver.2=b:2888:3888;2182\n"
    "server.3=c:2888:3888:participant;127.0.0.3:2183\n"
    "server.4=d:2888:3888\nserver.5=e:2888:3888\nserver.6=f:2888:3888:observer\n"
    "server.1=a1:2888:3888\n";

static void test_oom_parse(void)
{
    int successes = 0, failures = 0;
    for (long n = 0; n < 10000; n++) {
        struct config cfg;
        config_init(&cfg);
        pd_alloc_fail_after(n, 1);
        int rc = config_parse(&cfg, oom_text, strlen(oom_text), "zoo.cfg");
        long made = pd_alloc_fail_after(-1, 0);
        CHECK(rc == 0 || rc == PD_ENOMEM);
        if (rc == PD_ENOMEM) {
            CHECK(strstr(cfg.errmsg, "out of memory") != NULL);
            failures++;
        } else {
            successes++;
            CHECK_EQ_INT(cfg.server_count, 6);
            CHECK_EQ_STR(cfg.data_dir, "/var/lib/zk/data");
        }
        config_free(&cfg);
        if (made <= n) /* nothing failed: every allocation has been tried */
            break;
    }
    CHECK(failures > 20);
    CHECK(successes >= 1);

    /* Every allocation from the nth on fails. */
    for (long n = 0; n < 10000; n++) {
        struct config cfg;
        config_init(&cfg);
        pd_alloc_fail_after(n, 1000000);
        int rc = config_parse(&cfg, oom_text, strlen(oom_text), "zoo.cfg");
        long made = pd_alloc_fail_after(-1, 0);
        CHECK(rc == 0 || rc == PD_ENOMEM);
        config_free(&cfg);
        if (made <= n)
            break;
    }
}

static void test_oom_load(void)
{
    make_tmp_dir();
    char path[256], dyn[256], text[1024];
    snprintf(dyn, sizeof(dyn), "%s/zoo.cfg.dynamic.100", tmp_dir);
    snprintf(text, sizeof(text), "dataDir=%s\ninitLimit=5\nsyncLimit=2\ndynamicConfigFile=%s\n",
             tmp_dir, dyn);
    write_file(tmp_dir, "zoo.cfg", text);
    write_file(tmp_dir, "zoo.cfg.dynamic.100",
               "server.1=a:2888:3888;2181\nserver.2=b:2888:3888;2182\nserver.3=c:2888:3888\n"
               "group.1=1:2:3\n");
    write_file(tmp_dir, "myid", "2\n");
    snprintf(path, sizeof(path), "%s/zoo.cfg", tmp_dir);

    int successes = 0;
    for (long n = 0; n < 10000; n++) {
        struct config cfg;
        config_init(&cfg);
        pd_alloc_fail_after(n, 1);
        int rc = config_load(&cfg, path);
        long made = pd_alloc_fail_after(-1, 0);
        CHECK(rc == 0 || rc == PD_ENOMEM);
        if (rc == 0) {
            successes++;
            CHECK_EQ_INT(cfg.my_id, 2);
            CHECK_EQ_INT(cfg.client_port, 2182);
            CHECK_EQ_INT(cfg.quorum_version, 0x100);
        } else {
            CHECK(strstr(cfg.errmsg, "out of memory") != NULL);
        }
        config_free(&cfg);
        if (made <= n)
            break;
    }
    CHECK(successes >= 1);

    remove_file(tmp_dir, "zoo.cfg");
    remove_file(tmp_dir, "zoo.cfg.dynamic.100");
    remove_file(tmp_dir, "myid");
    rmdir(tmp_dir);
}

/* Arbitrary bytes never crash the parser and always end in 0 or a clean error. */
static void test_garbage(void)
{
    unsigned seed = 12345;
    static const char alphabet[] = "=: \t\f\r\n\\#!u0123456789abcdefserver.group.weight;[]|,*";
    for (int round = 0; round < 2000; round++) {
        char text[200];
        size_t len = (size_t)(round % (int)sizeof(text));
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = (seed >> 16) & 0x7fff;
            text[i] = r % 8 == 0 ? (char)(r >> 3) : alphabet[r % (sizeof(alphabet) - 1)];
        }
        struct config cfg;
        config_init(&cfg);
        int rc = config_parse(&cfg, text, len, "fuzz.cfg");
        CHECK(rc == 0 || rc == PD_ECONFIG);
        CHECK(rc == 0 || strncmp(cfg.errmsg, "fuzz.cfg", 8) == 0);
        config_free(&cfg);
    }
}

int main(void)
{
    pd_log_set_level(PD_LOG_ERROR); /* the parser warns a lot on purpose */
    make_tmp_dir();
    RUN(test_defaults);
    RUN(test_each_key);
    RUN(test_sysprop_forms);
    RUN(test_clamps);
    RUN(test_properties_syntax);
    RUN(test_line_numbers);
    RUN(test_malformed_values);
    RUN(test_whole_file_checks);
    pd_log_set_level(PD_LOG_INFO);
    RUN(test_unknown_keys);
    pd_log_set_level(PD_LOG_ERROR);
    rmdir(tmp_dir);
    RUN(test_servers);
    RUN(test_server_errors);
    RUN(test_quorum_checks);
    RUN(test_hierarchical);
    RUN(test_4lw);
    RUN(test_myid);
    RUN(test_load);
    RUN(test_parse_dynamic);
    RUN(test_limits);
    RUN(test_oom_parse);
    RUN(test_oom_load);
    RUN(test_garbage);
    return t_done();
}
