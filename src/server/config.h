/*
 * zoo.cfg and myid: the server's configuration, read the way Apache ZooKeeper 3.8 reads it.
 *
 * What it is: a parser for the Java properties file that QuorumPeerConfig.parse() loads
 * (java.util.Properties syntax: `key=value`, `key: value` or `key value`, `#`/`!` comments,
 * backslash continuations and escapes), the checks ZooKeeper makes on it, the optional
 * dynamic config file (`dynamicConfigFile`), and the `myid` file in dataDir. Keys that
 * ZooKeeper turns into Java system properties (every key QuorumPeerConfig does not know is
 * set as "zookeeper.<key>") and that Paddock implements are accepted both plain and with the
 * "zookeeper." prefix. Unknown keys are logged once with pd_warn and ignored, never an error.
 *
 * What it is not: it opens no sockets and resolves no host names; a relative dataDir stays
 * relative (the server resolves it against its working directory, as Java's File does).
 *
 * Facts from apache/zookeeper 3.8: QuorumPeerConfig.java (keys, defaults, checks),
 * QuorumPeer.java (QuorumServer: the server.N syntax), QuorumMaj.java and
 * QuorumHierarchical.java (server/group/weight keys), ConfigUtils.java (IPv6 [host]:port),
 * FourLetterCommands.java (4lw whitelist), FileTxnLog.java, FilePadding.java,
 * ZooKeeperServer.java, ContainerManager use in ZooKeeperServerMain.java, Leader.java,
 * QuorumCnxManager.java, DigestAuthenticationProvider.java, EphemeralType.java,
 * BinaryInputArchive.java (system properties and their defaults).
 *
 * Where Paddock is stricter than ZooKeeper, it is on purpose and says why in config.c: a
 * malformed number is always an error (ZooKeeper silently falls back to the default for keys
 * it reads as system properties), and booleans must be true/false.
 *
 * Ownership: a struct config owns every pointer in it, including the server array and each
 * string in it; config_free() releases them all. Nothing returned by these functions needs
 * freeing separately; pointers into the config (config_find_server()) are borrowed and stay
 * valid until config_free().
 */
#ifndef PD_SERVER_CONFIG_H
#define PD_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ZooKeeper's defaults (code defaults, not zoo_sample.cfg's). */
#define CONFIG_DEFAULT_TICK_MS                     3000 /* ZooKeeperServer.DEFAULT_TICK_TIME */
#define CONFIG_DEFAULT_MAX_CLIENT_CNXNS            60
#define CONFIG_DEFAULT_SNAP_COUNT                  100000
#define CONFIG_DEFAULT_PRE_ALLOC_SIZE_KB           65536
#define CONFIG_DEFAULT_FSYNC_WARNING_THRESHOLD_MS  1000
#define CONFIG_DEFAULT_JUTE_MAX_BUFFER             0xfffff /* 1,048,575 bytes */
#define CONFIG_DEFAULT_CONTAINER_CHECK_INTERVAL_MS 60000
#define CONFIG_DEFAULT_CONTAINER_MAX_PER_MINUTE    10000
#define CONFIG_DEFAULT_ELECTION_PORT_BIND_RETRY    3
#define CONFIG_DEFAULT_ADMIN_SERVER_PORT           8080
#define CONFIG_DEFAULT_METRICS_HTTP_PORT           7000
#define CONFIG_MIN_SNAP_RETAIN_COUNT               3
/* At most this many server.N lines (and group/weight entries) in one file. */
#define CONFIG_MAX_SERVERS 4096
/* With extendedTypesEnabled a server id must fit in the TTL session-id layout. */
#define CONFIG_MAX_EXTENDED_SERVER_ID 254

/* Role from `peerType` or from the `:observer`/`:participant` suffix of a server line. */
enum config_peer_type {
    CONFIG_PARTICIPANT,
    CONFIG_OBSERVER,
};

/*
 * One `server.N=host:quorumPort:electionPort[:participant|observer][;[clientAddr:]clientPort]`
 * line, plus its `group.G` and `weight.N` when the quorum is hierarchical.
 */
struct config_server {
    int64_t sid;       /* N in server.N, >= 0 */
    char *host;        /* owned by the config; an IPv6 literal is stored without brackets */
    int quorum_port;   /* 1-65535: followers connect to the leader here */
    int election_port; /* 1-65535: fast leader election */
    bool is_observer;  /* `:observer` given */
    char *client_addr; /* owned by the config; NULL when the line has no `;` client part,
                          "0.0.0.0" when it gives only a port (as ZooKeeper does) */
    int client_port;   /* 1-65535, or 0 when the line has no client part */
    int64_t group_id;  /* G of the group.G line naming this server; -1 if none */
    int64_t weight;    /* from weight.N; 1 when not given */
    int line;          /* line of the server.N key in its file, for messages */
};

/*
 * The parsed configuration. Fill with config_init(), then config_load() (or config_parse()
 * and config_load_myid()), read the fields, release with config_free().
 *
 * After a successful config_parse() the string fields data_dir, data_log_dir,
 * client_port_address, admin_server_address and metrics_http_host are non-NULL.
 */
struct config {
    /* Timing */
    int tick_ms;    /* tickTime; default 3000 (ZooKeeper's code default) */
    int init_limit; /* initLimit, ticks; required (> 0) in a replicated setup */
    int sync_limit; /* syncLimit, ticks; required (> 0) in a replicated setup */
    int connect_to_learner_master_limit; /* ticks; 0 = unset (learners then use initLimit) */

    /* Storage */
    char *data_dir;     /* owned; dataDir, required; relative paths stay relative */
    char *data_log_dir; /* owned; dataLogDir, a copy of data_dir when not given */
    int snap_count;     /* snapCount: txns between snapshots (randomised by the server); >= 2 */
    int64_t pre_alloc_size_kb;          /* preAllocSize, KiB; 0 = no preallocation */
    bool force_sync;                    /* forceSync; only the value "no" disables fsync */
    int64_t fsync_warning_threshold_ms; /* fsync.warningthresholdms */
    int autopurge_snap_retain_count;    /* autopurge.snapRetainCount, >= 3 */
    int autopurge_purge_interval_h;     /* autopurge.purgeInterval, hours; 0 = never */

    /* Clients */
    int client_port;                /* clientPort; 0 = not set (may come from this server's line) */
    char *client_port_address;      /* owned; clientPortAddress, default "0.0.0.0" (all) */
    int client_port_listen_backlog; /* clientPortListenBacklog; -1 = system default */
    int max_client_cnxns;           /* maxClientCnxns per client IP; 0 = unlimited */
    int min_session_timeout_ms;     /* minSessionTimeout; -1 = 2 ticks (use the accessor) */
    int max_session_timeout_ms;     /* maxSessionTimeout; -1 = 20 ticks (use the accessor) */
    int jute_max_buffer;            /* jute.maxbuffer, bytes per frame */
    char *super_digest;             /* owned; DigestAuthenticationProvider.superDigest
                                       ("super:<base64 sha1>"), NULL if unset */
    bool extended_types_enabled;    /* extendedTypesEnabled: TTL nodes */
    int container_check_interval_ms; /* znode.container.checkIntervalMs */
    int container_max_per_minute;    /* znode.container.maxPerMinute */

    /* Four-letter words: "srvr" is always allowed (zkServer.sh needs it), as in ZooKeeper. */
    char **four_lw_whitelist;     /* owned array of owned strings, from 4lw.commands.whitelist */
    size_t four_lw_whitelist_len; /* entries in four_lw_whitelist */
    bool is_four_lw_all;          /* the whitelist contains "*" */

    /* Quorum */
    struct config_server *servers; /* owned array of server_count entries, in file order */
    size_t server_count;
    bool is_hierarchical;            /* group.* or weight.* lines were given */
    int64_t quorum_version;          /* `version` (hex) or the dynamic file's name suffix; 0 */
    int64_t my_id;                   /* from dataDir/myid; -1 until config_load_myid() finds it */
    enum config_peer_type peer_type; /* peerType; the server list wins when they disagree */
    bool standalone_enabled;         /* standaloneEnabled; default true */
    bool reconfig_enabled;           /* reconfigEnabled; default false */
    bool quorum_listen_on_all_ips;   /* quorumListenOnAllIPs */
    bool sync_enabled;               /* syncEnabled: observers log and snapshot; default true */
    int election_port_bind_retry;    /* electionPortBindRetry; 0 = retry forever; default 3 */
    bool leader_serves;              /* leaderServes; only "no" disables; default true */
    char *dynamic_config_file;       /* owned; dynamicConfigFile, NULL if unset */

    /* HTTP endpoints (ZooKeeper's AdminServer and Prometheus metrics provider) */
    bool admin_enable_server;   /* admin.enableServer; default true */
    char *admin_server_address; /* owned; admin.serverAddress, default "0.0.0.0" */
    int admin_server_port;      /* admin.serverPort; default 8080 */
    bool is_metrics_enabled;    /* metricsProvider.className is ZooKeeper's Prometheus provider */
    char *metrics_http_host;    /* owned; metricsProvider.httpHost, default "0.0.0.0" */
    int metrics_http_port;      /* metricsProvider.httpPort; default 7000 */

    char errmsg[512]; /* why the last call failed: "zoo.cfg:7: clientPort: not a number: ..." */
};

/* Sets every field to its default; owns nothing yet. */
void config_init(struct config *cfg);

/* Releases everything cfg owns; cfg may then be passed to config_init() again. */
void config_free(struct config *cfg);

/*
 * Parses the zoo.cfg text (len bytes, need not be NUL-terminated) into cfg, which must be
 * fresh from config_init(). name (borrowed) is used in messages ("zoo.cfg:7: ..."). Applies
 * ZooKeeper's defaults and checks: dataDir is required, dataLogDir defaults to dataDir,
 * min/maxSessionTimeout must be ordered, the server list must make sense, initLimit and
 * syncLimit are required in a replicated setup, and some client port must be set (clientPort
 * or a `;clientPort` on a server line). When dynamicConfigFile is set, the checks on the
 * server list wait for config_parse_dynamic(). Does not read myid.
 *
 * Returns 0; PD_ECONFIG for bad content, PD_ENOMEM; on failure cfg->errmsg says why and cfg
 * holds a partial configuration that must still be released with config_free().
 */
int config_parse(struct config *cfg, const char *text, size_t len, const char *name);

/*
 * Parses the text of a dynamic config file (only server.N, group.G and weight.N keys) into
 * cfg after config_parse() saw dynamicConfigFile, then checks the server list. The quorum
 * version comes from the file name's hex suffix ("zoo.cfg.dynamic.100000000"), as ZooKeeper
 * does; name (borrowed) is used for that and in messages. Returns as config_parse().
 */
int config_parse_dynamic(struct config *cfg, const char *text, size_t len, const char *name);

/*
 * Reads the file at path (borrowed) and config_parse()s it, then the dynamic config file if
 * one is named, then, when the configuration lists servers, config_load_myid(). Returns 0;
 * PD_EIO when a file cannot be read; PD_ECONFIG, PD_ENOMEM as config_parse().
 */
int config_load(struct config *cfg, const char *path);

/*
 * Reads `<data_dir>/myid` (a decimal server id on its first line; surrounding whitespace is
 * allowed) into cfg->my_id. A missing file is fine unless the setup is replicated. Then, as
 * ZooKeeper does, takes this server's client address from its server.N line when it has one
 * (and checks it agrees with clientPort/clientPortAddress), lets the server list decide the
 * peer type, and checks that this server is in the list and has a client port.
 * Returns 0; PD_ECONFIG (missing when required, not a number, not in the list, ...);
 * PD_EIO (unreadable); PD_ENOMEM. cfg->errmsg says why.
 */
int config_load_myid(struct config *cfg);

/* The session timeout bounds the server enforces: the configured values or 2 and 20 ticks. */
int config_min_session_timeout_ms(const struct config *cfg);
int config_max_session_timeout_ms(const struct config *cfg);

/*
 * True when this is a replicated setup (QuorumPeerConfig.isDistributed()): more than one
 * participant, or any server list with standaloneEnabled=false. Otherwise the server runs
 * standalone, even when the file lists a single server.
 */
bool config_is_distributed(const struct config *cfg);

/* The entry for server id sid, or NULL; borrowed, valid until config_free(). */
const struct config_server *config_find_server(const struct config *cfg, int64_t sid);

/*
 * Whether the four-letter word cmd (borrowed, NUL-terminated) may run: "srvr" always, as in
 * ZooKeeper; everything when the whitelist has "*" (fourlw.c still refuses words it does not
 * know); otherwise the words listed.
 */
bool config_4lw_allowed(const struct config *cfg, const char *cmd);

#endif
