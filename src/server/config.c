/*
 * zoo.cfg, the dynamic config file and myid (config.h).
 *
 * Reading happens in three layers, each a plain function over a buffer:
 *   read_logical()   java.util.Properties' LineReader: comments, blank lines, continuations;
 *   apply_line()     Properties.load0's key/value split and loadConvert's escapes, then
 *                    ZooKeeper's trim() of key and value;
 *   apply_kv()       QuorumPeerConfig.parseProperties(): one key, one value, into the struct.
 * Whole-file checks run once at the end: finish_static() (QuorumPeerConfig.parseProperties'
 * tail) and finish_quorum() (parseDynamicConfig() and checkValidity()). Later lines win over
 * earlier ones for the same key, as a Properties map does; Paddock warns when that happens.
 *
 * Deliberate differences from ZooKeeper 3.8. Stricter, to tell the operator at start-up:
 *   - a number that does not parse is an error for every key; ZooKeeper falls back to the
 *     default silently for keys it reads as system properties (snapCount, jute.maxbuffer...);
 *   - booleans are true/false (any case) for every key, as parseBoolean() wants for the keys
 *     QuorumPeerConfig reads itself; forceSync and leaderServes keep ZooKeeper's "only `no`
 *     disables" rule, because reading "false" as false there would turn off fsync where
 *     ZooKeeper keeps it;
 *   - negative timeouts, tick counts and sizes are errors (ZooKeeper carries them on until
 *     something breaks); a negative maxClientCnxns still means "no limit", as in ZooKeeper;
 *   - a server with no client port at all is an error (ZooKeeper starts one clients cannot
 *     reach), and so is a myid missing from a replicated server list (ZooKeeper fails later,
 *     in QuorumPeer.start());
 *   - quorum and election ports of 0, server ids below 0, files past the bounds below.
 * More lenient, where ZooKeeper's failure helps nobody:
 *   - blanks around each part of a server line are dropped (ZooKeeper fails on "2888 "), and
 *     around the number in myid;
 *   - keys ZooKeeper only reads as system properties under another name (jute.maxbuffer,
 *     znode.container.*) take effect from zoo.cfg, where ZooKeeper would quietly ignore them;
 *   - a group.G naming a server without a server.N line is ignored with a warning.
 */
#include "server/config.h"

#include "common/alloc.h"
#include "common/digit.h"
#include "common/err.h"
#include "common/log.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SYSPROP_PREFIX   "zookeeper."
#define ANY_ADDRESS      "0.0.0.0"
#define PROMETHEUS_CLASS "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"
#define VALUE_SHOWN      80 /* at most this many bytes of a bad value go into a message */
/*
 * Bounds that keep a hostile or corrupt file from making parsing quadratic: keys remembered
 * for "set again" and "unknown key" warnings (past this, warnings repeat), and server.N,
 * group and weight entries.
 */
#define MAX_SEEN_KEYS    512
#define MAX_QUORUM_ITEMS CONFIG_MAX_SERVERS

struct parse;

/* How one key is stored: its handler converts the value and writes the field at offset. */
struct key_def {
    const char *name; /* as ZooKeeper spells it */
    unsigned flags;   /* KEY_* */
    int (*set)(struct parse *p, const struct key_def *d, const char *key, const char *value);
    size_t offset; /* offsetof(struct config, field) */
    int64_t min;   /* bounds for integer fields */
    int64_t max;
};

/* ZooKeeper reads the key as a Java system property: accept "zookeeper.<name>" too. */
#define KEY_SYSPROP 1u

static int set_int(struct parse *p, const struct key_def *d, const char *key, const char *value);
static int set_i64(struct parse *p, const struct key_def *d, const char *key, const char *value);
static int set_bool(struct parse *p, const struct key_def *d, const char *key, const char *value);
static int set_yes_no(struct parse *p, const struct key_def *d, const char *key, const char *value);
static int set_str(struct parse *p, const struct key_def *d, const char *key, const char *value);
static int set_opt_str(struct parse *p, const struct key_def *d, const char *key,
                       const char *value);
static int set_4lw(struct parse *p, const struct key_def *d, const char *key, const char *value);
static int set_peer_type(struct parse *p, const struct key_def *d, const char *key,
                         const char *value);
static int set_election_alg(struct parse *p, const struct key_def *d, const char *key,
                            const char *value);
static int set_metrics_class(struct parse *p, const struct key_def *d, const char *key,
                             const char *value);

#define F(field) offsetof(struct config, field)

static const struct key_def keys[] = {
    {"tickTime", 0, set_int, F(tick_ms), 1, INT32_MAX},
    {"initLimit", 0, set_int, F(init_limit), 0, INT32_MAX},
    {"syncLimit", 0, set_int, F(sync_limit), 0, INT32_MAX},
    {"connectToLearnerMasterLimit", 0, set_int, F(connect_to_learner_master_limit), 0, INT32_MAX},
    {"dataDir", 0, set_str, F(data_dir), 0, 0},
    {"dataLogDir", 0, set_str, F(data_log_dir), 0, 0},
    /* snapCount < 2 and snapRetainCount < 3 are raised with a warning, as ZooKeeper does. */
    {"snapCount", KEY_SYSPROP, set_int, F(snap_count), INT32_MIN, INT32_MAX},
    {"preAllocSize", KEY_SYSPROP, set_i64, F(pre_alloc_size_kb), 0, INT64_MAX / 1024},
    {"forceSync", KEY_SYSPROP, set_yes_no, F(force_sync), 0, 0},
    {"fsync.warningthresholdms", KEY_SYSPROP, set_i64, F(fsync_warning_threshold_ms), INT64_MIN,
     INT64_MAX},
    {"autopurge.snapRetainCount", 0, set_int, F(autopurge_snap_retain_count), INT32_MIN, INT32_MAX},
    {"autopurge.purgeInterval", 0, set_int, F(autopurge_purge_interval_h), INT32_MIN, INT32_MAX},
    {"clientPort", 0, set_int, F(client_port), 0, 65535},
    {"clientPortAddress", 0, set_str, F(client_port_address), 0, 0},
    {"clientPortListenBacklog", 0, set_int, F(client_port_listen_backlog), INT32_MIN, INT32_MAX},
    {"maxClientCnxns", 0, set_int, F(max_client_cnxns), INT32_MIN, INT32_MAX},
    {"minSessionTimeout", 0, set_int, F(min_session_timeout_ms), -1, INT32_MAX},
    {"maxSessionTimeout", 0, set_int, F(max_session_timeout_ms), -1, INT32_MAX},
    {"jute.maxbuffer", KEY_SYSPROP, set_int, F(jute_max_buffer), 1, INT32_MAX},
    {"DigestAuthenticationProvider.superDigest", KEY_SYSPROP, set_opt_str, F(super_digest), 0, 0},
    {"extendedTypesEnabled", KEY_SYSPROP, set_bool, F(extended_types_enabled), 0, 0},
    {"znode.container.checkIntervalMs", KEY_SYSPROP, set_int, F(container_check_interval_ms), 1,
     INT32_MAX},
    {"znode.container.maxPerMinute", KEY_SYSPROP, set_int, F(container_max_per_minute), 1,
     INT32_MAX},
    {"4lw.commands.whitelist", KEY_SYSPROP, set_4lw, 0, 0, 0},
    {"peerType", 0, set_peer_type, F(peer_type), 0, 0},
    {"standaloneEnabled", 0, set_bool, F(standalone_enabled), 0, 0},
    {"reconfigEnabled", 0, set_bool, F(reconfig_enabled), 0, 0},
    {"quorumListenOnAllIPs", 0, set_bool, F(quorum_listen_on_all_ips), 0, 0},
    {"syncEnabled", 0, set_bool, F(sync_enabled), 0, 0},
    {"electionAlg", 0, set_election_alg, 0, 0, 0},
    /* A negative retry count falls back to the default with a warning, as in ZooKeeper. */
    {"electionPortBindRetry", KEY_SYSPROP, set_int, F(election_port_bind_retry), INT32_MIN,
     INT32_MAX},
    {"leaderServes", KEY_SYSPROP, set_yes_no, F(leader_serves), 0, 0},
    {"dynamicConfigFile", 0, set_str, F(dynamic_config_file), 0, 0},
    {"admin.enableServer", KEY_SYSPROP, set_bool, F(admin_enable_server), 0, 0},
    {"admin.serverAddress", KEY_SYSPROP, set_str, F(admin_server_address), 0, 0},
    {"admin.serverPort", KEY_SYSPROP, set_int, F(admin_server_port), 1, 65535},
    {"metricsProvider.className", 0, set_metrics_class, 0, 0, 0},
    {"metricsProvider.httpHost", 0, set_str, F(metrics_http_host), 0, 0},
    {"metricsProvider.httpPort", 0, set_int, F(metrics_http_port), 1, 65535},
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/*
 * ZooKeeper settings Paddock knows and does not implement: warned about as such (not as
 * typos). A trailing '.' makes the entry a prefix.
 */
static const char *const ignored_keys[] = {
    "localSessionsEnabled",
    "localSessionsUpgradingEnabled",
    "secureClientPort",
    "secureClientPortAddress",
    "observerMasterPort",
    "sslQuorum",
    "portUnification",
    "sslQuorumReloadCertFiles",
    "quorum.cnxn.threads.size",
    "oraclePath",
    "serverCnxnFactory",
    "quorum.auth.",
    "jvm.pause.",
    "multiAddress.",
    "metricsProvider.",
    "admin.",
    "ssl.",
    "authProvider.",
};

/* A group.G or weight.N line, applied to the server list once every line has been read. */
struct pair {
    int64_t sid;
    int64_t value; /* the group id or the weight */
    int line;
};

/* State while reading one file. */
struct parse {
    struct config *cfg;        /* borrowed: where values go */
    const char *name;          /* borrowed: file name for messages */
    bool is_dynamic;           /* a dynamic config file: only server/group/weight keys */
    int line;                  /* line where the logical line being applied starts */
    int key_line[N_KEYS];      /* line where each known key was last set; 0 if never */
    int first_quorum_line;     /* first server./group/weight key, 0 if none */
    char first_quorum_key[64]; /* that key, maybe cut short, for the message */
    char **seen;               /* owned: owned copies of the keys met so far (canonical names) */
    size_t seen_len;
    struct pair *groups; /* owned: (sid, group id) from group.G lines */
    size_t groups_len;
    struct pair *weights; /* owned: (sid, weight) from weight.N lines */
    size_t weights_len;
};

/* ---- messages ---- */

static int vfail(struct config *cfg, int err, const char *name, int line, const char *fmt,
                 va_list ap)
{
    size_t off = 0;
    int n;
    if (name && line > 0)
        n = snprintf(cfg->errmsg, sizeof(cfg->errmsg), "%s:%d: ", name, line);
    else if (name)
        n = snprintf(cfg->errmsg, sizeof(cfg->errmsg), "%s: ", name);
    else
        n = 0;
    if (n > 0)
        off = (size_t)n < sizeof(cfg->errmsg) ? (size_t)n : sizeof(cfg->errmsg) - 1;
    vsnprintf(cfg->errmsg + off, sizeof(cfg->errmsg) - off, fmt, ap);
    return err;
}

/* Fills cfg->errmsg with "name:line: <fmt>" (no line part when line <= 0); returns err. */
__attribute__((format(printf, 5, 6))) static int
fail_cfg(struct config *cfg, int err, const char *name, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(cfg, err, name, line, fmt, ap);
    va_end(ap);
    return err;
}

/* PD_ECONFIG with a message about line `line` of the file being read. */
__attribute__((format(printf, 3, 4))) static int fail_at(struct parse *p, int line, const char *fmt,
                                                         ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(p->cfg, PD_ECONFIG, p->name, line, fmt, ap);
    va_end(ap);
    return PD_ECONFIG;
}

/* "zoo.cfg:7: clientPort: not a number: "21x81"" */
static int fail_value(struct parse *p, const char *key, const char *what, const char *value)
{
    int shown = (int)strnlen(value, VALUE_SHOWN);
    return fail_at(p, p->line, "%s: %s: \"%.*s\"%s", key, what, shown, value,
                   value[shown] ? "..." : "");
}

static int oom(struct parse *p)
{
    fail_at(p, p->line, "out of memory");
    return PD_ENOMEM;
}

/* ---- small helpers ---- */

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Java's String.trim(): drops characters <= ' ' at both ends, in place. */
static char *trim(char *s)
{
    while (*s && (unsigned char)*s <= ' ')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (unsigned char)s[n - 1] <= ' ')
        n--;
    s[n] = '\0';
    return s;
}

enum num_result { NUM_OK, NUM_NOT_A_NUMBER, NUM_OVERFLOW };

/* Java's Long.parseLong(s, base): optional sign, then digits only. */
static enum num_result parse_i64(const char *s, int base, int64_t *out)
{
    bool is_negative = false;
    if (*s == '+' || *s == '-')
        is_negative = *s++ == '-';
    if (!*s)
        return NUM_NOT_A_NUMBER;
    uint64_t limit = is_negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    bool is_overflow = false;
    for (; *s; s++) {
        int d = pd_digit_value(*s);
        if (d < 0 || d >= base)
            return NUM_NOT_A_NUMBER;
        if (v > (limit - (uint64_t)d) / (uint64_t)base)
            is_overflow = true; /* keep scanning: "12x" is not a number, not an overflow */
        else
            v = v * (uint64_t)base + (uint64_t)d;
    }
    if (is_overflow)
        return NUM_OVERFLOW;
    *out = is_negative ? (v == 0 ? 0 : -(int64_t)(v - 1) - 1) : (int64_t)v;
    return NUM_OK;
}

/* Parses value as a decimal integer in [min, max]; on failure fills errmsg naming key. */
static int parse_bounded(struct parse *p, const char *key, const char *value, int64_t min,
                         int64_t max, int64_t *out)
{
    enum num_result r = parse_i64(value, 10, out);
    if (r == NUM_NOT_A_NUMBER)
        return fail_value(p, key, "not a number", value);
    if (r == NUM_OK && *out >= min && *out <= max)
        return 0;
    char what[96];
    if (min == INT32_MIN || min == INT64_MIN)
        snprintf(what, sizeof(what), "out of range");
    else if (max == INT32_MAX || max == INT64_MAX)
        snprintf(what, sizeof(what), "must be at least %" PRId64, min);
    else
        snprintf(what, sizeof(what), "out of range (%" PRId64 "-%" PRId64 ")", min, max);
    return fail_value(p, key, what, value);
}

/* Replaces the owned string at *slot with a copy of value. */
static int replace_str(struct parse *p, char **slot, const char *value)
{
    char *copy = pd_strdup(value);
    if (!copy)
        return oom(p);
    pd_free(*slot);
    *slot = copy;
    return 0;
}

static void *field(struct parse *p, const struct key_def *d)
{
    return (char *)p->cfg + d->offset;
}

/* ---- key handlers ---- */

static int set_int(struct parse *p, const struct key_def *d, const char *key, const char *value)
{
    int64_t v;
    int rc = parse_bounded(p, key, value, d->min, d->max, &v);
    if (rc == 0)
        *(int *)field(p, d) = (int)v;
    return rc;
}

static int set_i64(struct parse *p, const struct key_def *d, const char *key, const char *value)
{
    int64_t v;
    int rc = parse_bounded(p, key, value, d->min, d->max, &v);
    if (rc == 0)
        *(int64_t *)field(p, d) = v;
    return rc;
}

/* QuorumPeerConfig.parseBoolean(): "true" or "false", any case. */
static int set_bool(struct parse *p, const struct key_def *d, const char *key, const char *value)
{
    if (strcasecmp(value, "true") == 0)
        *(bool *)field(p, d) = true;
    else if (strcasecmp(value, "false") == 0)
        *(bool *)field(p, d) = false;
    else
        return fail_value(p, key, "must be true or false", value);
    return 0;
}

/*
 * forceSync and leaderServes: ZooKeeper turns them off only for the exact value "no" and
 * keeps them on for anything else, "false" included; so do we, saying so.
 */
static int set_yes_no(struct parse *p, const struct key_def *d, const char *key, const char *value)
{
    bool is_on = strcmp(value, "no") != 0;
    if (is_on && strcmp(value, "yes") != 0)
        pd_warn("%s:%d: %s=\"%s\": only \"no\" turns it off (as in ZooKeeper); it stays on",
                p->name, p->line, key, value);
    *(bool *)field(p, d) = is_on;
    return 0;
}

static int set_str(struct parse *p, const struct key_def *d, const char *key, const char *value)
{
    if (!*value)
        return fail_at(p, p->line, "%s: must not be empty", key);
    return replace_str(p, (char **)field(p, d), value);
}

/* A string where an empty value means unset (NULL), as an empty superDigest never matches. */
static int set_opt_str(struct parse *p, const struct key_def *d, const char *key, const char *value)
{
    (void)key;
    char **slot = (char **)field(p, d);
    if (!*value) {
        pd_free(*slot);
        *slot = NULL;
        return 0;
    }
    return replace_str(p, slot, value);
}

static void free_list(char **list, size_t len)
{
    for (size_t i = 0; i < len; i++)
        pd_free(list[i]);
    pd_free(list);
}

/*
 * 4lw.commands.whitelist: ZooKeeper splits on commas and trims each entry; we also split on
 * whitespace so "ruok stat" means two commands. "*" allows everything.
 */
static int set_4lw(struct parse *p, const struct key_def *d, const char *key, const char *value)
{
    (void)d;
    (void)key;
    char **list = NULL;
    size_t len = 0;
    bool is_all = false;
    const char *s = value;
    while (*s) {
        while (*s == ',' || isspace((unsigned char)*s))
            s++;
        size_t n = 0;
        while (s[n] && s[n] != ',' && !isspace((unsigned char)s[n]))
            n++;
        if (n == 0)
            break;
        if (n == 1 && s[0] == '*')
            is_all = true;
        char **grown = pd_realloc(list, (len + 1) * sizeof(*list));
        if (!grown)
            goto out_oom;
        list = grown;
        list[len] = pd_strndup(s, n);
        if (!list[len])
            goto out_oom;
        len++;
        s += n;
    }
    free_list(p->cfg->four_lw_whitelist, p->cfg->four_lw_whitelist_len);
    p->cfg->four_lw_whitelist = list;
    p->cfg->four_lw_whitelist_len = len;
    p->cfg->is_four_lw_all = is_all;
    return 0;

out_oom:
    free_list(list, len);
    return oom(p);
}

static int set_peer_type(struct parse *p, const struct key_def *d, const char *key,
                         const char *value)
{
    (void)d;
    if (strcasecmp(value, "observer") == 0)
        p->cfg->peer_type = CONFIG_OBSERVER;
    else if (strcasecmp(value, "participant") == 0)
        p->cfg->peer_type = CONFIG_PARTICIPANT;
    else
        return fail_value(p, key, "must be participant or observer", value);
    return 0;
}

/* Only fast leader election (3) exists since ZooKeeper 3.6; nothing to store. */
static int set_election_alg(struct parse *p, const struct key_def *d, const char *key,
                            const char *value)
{
    (void)d;
    int64_t v;
    int rc = parse_bounded(p, key, value, INT32_MIN, INT32_MAX, &v);
    if (rc == 0 && v != 3)
        return fail_value(p, key, "only 3 (fast leader election) is supported", value);
    return rc;
}

static int set_metrics_class(struct parse *p, const struct key_def *d, const char *key,
                             const char *value)
{
    (void)d;
    p->cfg->is_metrics_enabled = strcmp(value, PROMETHEUS_CLASS) == 0;
    if (!p->cfg->is_metrics_enabled && !starts_with(value, "org.apache.zookeeper.metrics.impl."))
        pd_warn("%s:%d: %s: Paddock has no metrics provider \"%s\"; metrics are off", p->name,
                p->line, key, value);
    return 0;
}

/* ---- server.N, group.G, weight.N, version ---- */

/*
 * Java's String.split(sep) on s, in place: pieces go to out[0..max), the count returned counts
 * every piece (so a caller sees "too many"); trailing empty pieces are dropped, as Java does.
 */
static size_t split_java(char *s, char sep, char **out, size_t max)
{
    size_t n = 0, kept = 0;
    for (;;) {
        char *end = strchr(s, sep);
        if (end)
            *end = '\0';
        if (n < max)
            out[n] = s;
        n++;
        if (*s)
            kept = n;
        if (!end)
            break;
        s = end + 1;
    }
    return kept;
}

/*
 * ConfigUtils.getHostAndPort(): "host:p1:p2..." or "[v6]:p1:p2...". Pieces go to out (at most
 * max), trimmed; returns how many there are, or -1 with errmsg set.
 */
static int host_and_ports(struct parse *p, const char *key, char *s, char **out, size_t max)
{
    size_t n;
    if (*s == '[') {
        char *close = strchr(s, ']');
        if (!close) {
            fail_value(p, key, "'[' without a matching ']'", s);
            return -1;
        }
        if (close[1] != '\0' && (close[1] != ':' || close[2] == '\0')) {
            fail_value(p, key, "expected ':' and a port after ']'", s);
            return -1;
        }
        *close = '\0';
        out[0] = s + 1;
        if (close[1] == '\0')
            return 1;
        n = 1 + split_java(close + 2, ':', out + 1, max - 1);
    } else {
        n = split_java(s, ':', out, max);
    }
    for (size_t i = 0; i < n && i < max; i++)
        out[i] = trim(out[i]);
    return (int)n;
}

static int parse_port(struct parse *p, const char *key, const char *what, const char *s, int *out)
{
    int64_t v;
    char label[64];
    snprintf(label, sizeof(label), "%s: %s", key, what);
    int rc = parse_bounded(p, label, s, 1, 65535, &v);
    if (rc == 0)
        *out = (int)v;
    return rc;
}

static void server_clear(struct config_server *s)
{
    pd_free(s->host);
    pd_free(s->client_addr);
}

/*
 * server.N=host:quorumPort:electionPort[:participant|observer][;[clientAddr:]clientPort]
 * (QuorumPeer.QuorumServer). A later line for the same N replaces the earlier one.
 */
static int parse_server(struct parse *p, const char *key, const char *value)
{
    static const char form[] = "expected host:quorumPort:electionPort[:participant|observer]"
                               "[;[clientAddress:]clientPort]";
    struct config *cfg = p->cfg;
    struct config_server s = {.group_id = -1, .weight = 1, .line = p->line};
    int rc;

    if (parse_i64(key + strlen("server."), 10, &s.sid) != NUM_OK || s.sid < 0)
        return fail_at(p, p->line, "%s: not a valid server id (want server.N with N >= 0)", key);

    char *copy = pd_strdup(value);
    if (!copy)
        return oom(p);
    char *halves[2];
    size_t n_halves = split_java(copy, ';', halves, 2);
    if (n_halves < 1 || n_halves > 2) {
        rc = fail_value(p, key, form, value);
        goto out_free;
    }
    if (strchr(halves[0], '|')) {
        rc = fail_value(p, key, "several addresses for one server (multiAddress) are not supported",
                        value);
        goto out_free;
    }
    char *parts[4];
    int n_parts = host_and_ports(p, key, trim(halves[0]), parts, 4);
    if (n_parts < 0) {
        rc = PD_ECONFIG;
        goto out_free;
    }
    if (n_parts < 3 || n_parts > 4 || !*parts[0]) {
        rc = fail_value(p, key, form, value);
        goto out_free;
    }
    if ((rc = parse_port(p, key, "quorum port", parts[1], &s.quorum_port)) ||
        (rc = parse_port(p, key, "election port", parts[2], &s.election_port)))
        goto out_free;
    if (s.quorum_port == s.election_port) {
        rc = fail_value(p, key, "quorum and election ports must differ", value);
        goto out_free;
    }
    if (n_parts == 4) {
        if (strcasecmp(parts[3], "observer") == 0) {
            s.is_observer = true;
        } else if (strcasecmp(parts[3], "participant") != 0) {
            rc = fail_value(p, key, "role must be participant or observer", parts[3]);
            goto out_free;
        }
    }
    if (n_halves == 2) {
        char *client[2];
        int n_client = host_and_ports(p, key, trim(halves[1]), client, 2);
        if (n_client < 0) {
            rc = PD_ECONFIG;
            goto out_free;
        }
        if (n_client < 1 || n_client > 2 || (n_client == 2 && !*client[0])) {
            rc = fail_value(p, key, form, value);
            goto out_free;
        }
        if ((rc = parse_port(p, key, "client port", client[n_client - 1], &s.client_port)))
            goto out_free;
        /* A bare port listens on every address, as ZooKeeper's "0.0.0.0" default. */
        s.client_addr = pd_strdup(n_client == 2 ? client[0] : ANY_ADDRESS);
        if (!s.client_addr)
            goto out_oom;
    }
    s.host = pd_strdup(parts[0]);
    if (!s.host)
        goto out_oom;

    for (size_t i = 0; i < cfg->server_count; i++) {
        if (cfg->servers[i].sid == s.sid) {
            pd_warn("%s:%d: server.%" PRId64 " given again (line %d); the last one wins", p->name,
                    p->line, s.sid, cfg->servers[i].line);
            server_clear(&cfg->servers[i]);
            cfg->servers[i] = s;
            pd_free(copy);
            return 0;
        }
    }
    if (cfg->server_count == CONFIG_MAX_SERVERS) {
        rc = fail_at(p, p->line, "%s: more than %d servers", key, CONFIG_MAX_SERVERS);
        goto out_free;
    }
    struct config_server *grown =
        pd_realloc(cfg->servers, (cfg->server_count + 1) * sizeof(*cfg->servers));
    if (!grown)
        goto out_oom;
    cfg->servers = grown;
    cfg->servers[cfg->server_count++] = s;
    pd_free(copy);
    return 0;

out_oom:
    rc = oom(p);
out_free:
    server_clear(&s);
    pd_free(copy);
    return rc;
}

/* Adds (sid, value) to a pair list. */
static int pair_add(struct parse *p, struct pair **list, size_t *len, int64_t sid, int64_t value)
{
    if (*len == MAX_QUORUM_ITEMS)
        return fail_at(p, p->line, "more than %d group or weight entries", MAX_QUORUM_ITEMS);
    struct pair *grown = pd_realloc(*list, (*len + 1) * sizeof(**list));
    if (!grown)
        return oom(p);
    *list = grown;
    (*list)[(*len)++] = (struct pair){.sid = sid, .value = value, .line = p->line};
    return 0;
}

/* The number after the first '.' of a group or weight key, as QuorumHierarchical reads it. */
static int key_number(struct parse *p, const char *key, int64_t *out)
{
    const char *dot = strchr(key, '.');
    if (!dot || parse_i64(dot + 1, 10, out) != NUM_OK || *out < 0)
        return fail_at(p, p->line, "%s: expected %s.N with a number N >= 0", key,
                       starts_with(key, "group") ? "group" : "weight");
    return 0;
}

/* group.G=sid:sid:... (QuorumHierarchical). A repeated group.G replaces the earlier one. */
static int parse_group(struct parse *p, const char *key, const char *value)
{
    int64_t gid;
    int rc = key_number(p, key, &gid);
    if (rc)
        return rc;
    size_t kept = 0;
    for (size_t i = 0; i < p->groups_len; i++)
        if (p->groups[i].value != gid)
            p->groups[kept++] = p->groups[i];
    p->groups_len = kept;

    char *copy = pd_strdup(value);
    if (!copy)
        return oom(p);
    /* Java's split(":") drops trailing empty pieces; any other empty piece is an error. */
    size_t n = strlen(copy);
    while (n > 0 && (copy[n - 1] == ':' || (unsigned char)copy[n - 1] <= ' '))
        n--;
    copy[n] = '\0';
    char *s = copy;
    for (;;) {
        char *end = strchr(s, ':');
        if (end)
            *end = '\0';
        int64_t sid;
        if (parse_i64(trim(s), 10, &sid) != NUM_OK || sid < 0) {
            rc = fail_value(p, key, "not a server id", s);
            goto out_free;
        }
        for (size_t i = 0; i < p->groups_len; i++) {
            if (p->groups[i].sid == sid) {
                rc = fail_at(p, p->line,
                             "%s: server %" PRId64 " is already in group %" PRId64 " (line %d)",
                             key, sid, p->groups[i].value, p->groups[i].line);
                goto out_free;
            }
        }
        if ((rc = pair_add(p, &p->groups, &p->groups_len, sid, gid)))
            goto out_free;
        if (!end)
            break;
        s = end + 1;
    }
out_free:
    pd_free(copy);
    return rc;
}

/* weight.N=W (QuorumHierarchical). */
static int parse_weight(struct parse *p, const char *key, const char *value)
{
    int64_t sid, weight;
    int rc = key_number(p, key, &sid);
    if (rc || (rc = parse_bounded(p, key, value, 0, INT64_MAX, &weight)))
        return rc;
    for (size_t i = 0; i < p->weights_len; i++) {
        if (p->weights[i].sid == sid) {
            p->weights[i].value = weight;
            p->weights[i].line = p->line;
            return 0;
        }
    }
    return pair_add(p, &p->weights, &p->weights_len, sid, weight);
}

/* ---- dispatch ---- */

/* Records that key (canonical name) was met; *was_seen says whether it was met before. */
static int note_key(struct parse *p, const char *key, bool *was_seen)
{
    for (size_t i = 0; i < p->seen_len; i++) {
        if (strcmp(p->seen[i], key) == 0) {
            *was_seen = true;
            return 0;
        }
    }
    *was_seen = false;
    if (p->seen_len == MAX_SEEN_KEYS)
        return 0;
    char **grown = pd_realloc(p->seen, (p->seen_len + 1) * sizeof(*p->seen));
    if (!grown)
        return oom(p);
    p->seen = grown;
    p->seen[p->seen_len] = pd_strdup(key);
    if (!p->seen[p->seen_len])
        return oom(p);
    p->seen_len++;
    return 0;
}

static const struct key_def *find_key(const char *key)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        if (strcmp(keys[i].name, key) == 0)
            return &keys[i];
        if ((keys[i].flags & KEY_SYSPROP) && starts_with(key, SYSPROP_PREFIX) &&
            strcmp(keys[i].name, key + strlen(SYSPROP_PREFIX)) == 0)
            return &keys[i];
    }
    return NULL;
}

static bool is_ignored_key(const char *key)
{
    for (size_t i = 0; i < sizeof(ignored_keys) / sizeof(ignored_keys[0]); i++) {
        const char *k = ignored_keys[i];
        size_t n = strlen(k);
        if (k[n - 1] == '.' ? strncmp(key, k, n) == 0 : strcmp(key, k) == 0)
            return true;
    }
    return false;
}

static bool is_quorum_key(const char *key)
{
    /* QuorumMaj/QuorumHierarchical take every key that starts so, dot or not. */
    return starts_with(key, "server.") || starts_with(key, "group") || starts_with(key, "weight");
}

static int apply_quorum_key(struct parse *p, const char *key, const char *value)
{
    if (starts_with(key, "server."))
        return parse_server(p, key, value);
    if (starts_with(key, "group"))
        return parse_group(p, key, value);
    return parse_weight(p, key, value);
}

/* One key = value pair, both trimmed, into the config (QuorumPeerConfig.parseProperties). */
static int apply_kv(struct parse *p, const char *key, const char *value)
{
    bool was_seen;
    int rc;

    if (p->is_dynamic) {
        if (strcmp(key, "version") == 0)
            return fail_at(p, p->line,
                           "version: a dynamic config file must not set it (it "
                           "comes from the file name)");
        if (!is_quorum_key(key))
            return fail_at(p, p->line,
                           "%s: not allowed in a dynamic config file (only server.N, "
                           "group.G and weight.N)",
                           key);
        return apply_quorum_key(p, key, value);
    }
    if (is_quorum_key(key)) {
        if (!p->first_quorum_line) {
            p->first_quorum_line = p->line;
            snprintf(p->first_quorum_key, sizeof(p->first_quorum_key), "%s", key);
        }
        return apply_quorum_key(p, key, value);
    }
    if (strcmp(key, "version") == 0) {
        int64_t v;
        if (parse_i64(value, 16, &v) != NUM_OK || v < 0)
            return fail_value(p, key, "not a hexadecimal number", value);
        p->cfg->quorum_version = v;
        return 0;
    }

    const struct key_def *d = find_key(key);
    if (d) {
        if ((rc = note_key(p, d->name, &was_seen)))
            return rc;
        size_t i = (size_t)(d - keys);
        if (was_seen)
            pd_warn("%s:%d: %s is set again (line %d); the last value wins", p->name, p->line, key,
                    p->key_line[i]);
        p->key_line[i] = p->line;
        return d->set(p, d, key, value);
    }
    if ((rc = note_key(p, key, &was_seen)))
        return rc;
    if (!was_seen) {
        if (is_ignored_key(key))
            pd_warn("%s:%d: %s is a ZooKeeper setting Paddock does not implement; ignored", p->name,
                    p->line, key);
        else
            pd_warn("%s:%d: unknown key \"%s\"; ignored", p->name, p->line, key);
    }
    return 0;
}

/* ---- java.util.Properties syntax ---- */

struct reader {
    const char *p;   /* next byte */
    const char *end; /* one past the last byte */
    int line;        /* line number of the next byte */
    bool was_cr;     /* the previous byte was '\r' (so a '\n' now ends no new line) */
};

struct buf {
    char *data; /* owned */
    size_t len;
    size_t cap;
};

static int buf_push(struct buf *b, char c)
{
    if (b->len == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 128;
        char *grown = pd_realloc(b->data, cap);
        if (!grown)
            return PD_ENOMEM;
        b->data = grown;
        b->cap = cap;
    }
    b->data[b->len++] = c;
    return 0;
}

/* Takes the next byte and keeps the line count ("\n", "\r" and "\r\n" each end a line). */
static char next_byte(struct reader *r)
{
    char c = *r->p++;
    if (c == '\r' || (c == '\n' && !r->was_cr))
        r->line++;
    r->was_cr = c == '\r';
    return c;
}

/*
 * The next logical line into b, as Properties' LineReader (Java 9 and later): leading blanks
 * skipped; blank lines skipped; a '#' or '!' met while the line is still empty starts a
 * comment up to the end of the physical line; an odd number of backslashes at the end of a
 * line joins the next line, whose leading blanks are dropped. Returns 1 with *start_line set
 * to the line of the first character kept, 0 at the end, PD_ENOMEM.
 */
static int read_logical(struct reader *r, struct buf *b, int *start_line)
{
    bool skip_blanks = true, is_appended = false, is_escaped = false;
    b->len = 0;
    for (;;) {
        if (r->p >= r->end) {
            if (b->len == 0)
                return 0;
            if (is_escaped)
                b->len--; /* a backslash continuing into the end of the file */
            return 1;
        }
        int line = r->line;
        char c = next_byte(r);
        if (skip_blanks) {
            if (c == ' ' || c == '\t' || c == '\f')
                continue;
            if (!is_appended && (c == '\r' || c == '\n'))
                continue;
            skip_blanks = false;
            is_appended = false;
        }
        /*
         * Java checks for a comment whenever nothing is kept yet, so a line that only
         * continues an empty one ("\\" then "# x") is a comment too.
         */
        if (b->len == 0 && (c == '#' || c == '!')) {
            while (r->p < r->end && *r->p != '\r' && *r->p != '\n')
                next_byte(r);
            if (r->p >= r->end)
                return 0;
            next_byte(r);
            skip_blanks = true;
            continue;
        }
        if (c != '\n' && c != '\r') {
            if (b->len == 0)
                *start_line = line;
            if (buf_push(b, c))
                return PD_ENOMEM;
            is_escaped = c == '\\' ? !is_escaped : false;
            continue;
        }
        /* End of a physical line. */
        if (b->len == 0) {
            skip_blanks = true;
            continue;
        }
        if (r->p >= r->end || !is_escaped) {
            if (is_escaped)
                b->len--;
            return 1;
        }
        b->len--; /* drop the continuation backslash */
        skip_blanks = true;
        is_appended = true;
        is_escaped = false;
        if (c == '\r' && r->p < r->end && *r->p == '\n')
            next_byte(r);
    }
}

/* Reads "XXXX" after a "\u"; returns the code unit or -1. */
static long hex4(const char *s, const char *end)
{
    if (end - s < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int d = pd_hex_digit(s[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static size_t put_utf8(char *out, unsigned long cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/*
 * Properties.loadConvert(): undoes backslash escapes in s[0..n) into a new owned string
 * (\t \n \r \f, \uXXXX as UTF-8, any other \c is c). Returns NULL and fills errmsg on a bad
 * \u escape or a NUL character, or on OOM (*err says which).
 */
static char *unescape(struct parse *p, const char *s, size_t n, int *err)
{
    char *out = pd_malloc(n + 1);
    if (!out) {
        *err = oom(p);
        return NULL;
    }
    const char *end = s + n;
    size_t len = 0;
    while (s < end) {
        char c = *s++;
        if (c == '\0')
            goto out_nul;
        if (c != '\\') {
            out[len++] = c;
            continue;
        }
        if (s == end)
            break; /* a lone trailing backslash: LineReader already removed it */
        c = *s++;
        switch (c) {
        case 't':
            out[len++] = '\t';
            break;
        case 'n':
            out[len++] = '\n';
            break;
        case 'r':
            out[len++] = '\r';
            break;
        case 'f':
            out[len++] = '\f';
            break;
        case 'u': {
            long unit = hex4(s, end);
            if (unit < 0) {
                *err = fail_at(p, p->line, "malformed \\uxxxx escape");
                pd_free(out);
                return NULL;
            }
            s += 4;
            unsigned long cp = (unsigned long)unit;
            if (unit >= 0xd800 && unit <= 0xdbff && end - s >= 6 && s[0] == '\\' && s[1] == 'u') {
                long low = hex4(s + 2, end);
                if (low >= 0xdc00 && low <= 0xdfff) {
                    cp = 0x10000 + (((unsigned long)unit - 0xd800) << 10) +
                         ((unsigned long)low - 0xdc00);
                    s += 6;
                }
            }
            if (cp == 0)
                goto out_nul;
            len += put_utf8(out + len, cp);
            break;
        }
        case '\0':
            goto out_nul;
        default:
            out[len++] = c;
        }
    }
    out[len] = '\0';
    return out;

out_nul:
    *err = fail_at(p, p->line, "NUL character in the line");
    pd_free(out);
    return NULL;
}

/* Properties.load0(): splits one logical line into key and value and applies them. */
static int apply_line(struct parse *p, const char *line, size_t len)
{
    size_t key_len = 0, value_start = len;
    bool has_sep = false, is_escaped = false;
    while (key_len < len) {
        char c = line[key_len];
        if ((c == '=' || c == ':') && !is_escaped) {
            value_start = key_len + 1;
            has_sep = true;
            break;
        }
        if ((c == ' ' || c == '\t' || c == '\f') && !is_escaped) {
            value_start = key_len + 1;
            break;
        }
        is_escaped = c == '\\' ? !is_escaped : false;
        key_len++;
    }
    while (value_start < len) {
        char c = line[value_start];
        if (c != ' ' && c != '\t' && c != '\f') {
            if (!has_sep && (c == '=' || c == ':'))
                has_sep = true;
            else
                break;
        }
        value_start++;
    }

    int rc = 0;
    char *key = unescape(p, line, key_len, &rc);
    if (!key)
        return rc;
    char *value = unescape(p, line + value_start, len - value_start, &rc);
    if (value) {
        rc = apply_kv(p, trim(key), trim(value));
        pd_free(value);
    }
    pd_free(key);
    return rc;
}

static int parse_text(struct parse *p, const char *text, size_t len)
{
    struct reader r = {.p = text, .end = text + len, .line = 1};
    struct buf b = {0};
    int rc, start_line = 0;
    while ((rc = read_logical(&r, &b, &start_line)) == 1) {
        p->line = start_line;
        if ((rc = apply_line(p, b.data, b.len)))
            break;
    }
    if (rc == PD_ENOMEM && !p->cfg->errmsg[0]) {
        p->line = r.line;
        oom(p);
    }
    pd_free(b.data);
    return rc;
}

static void parse_release(struct parse *p)
{
    free_list(p->seen, p->seen_len);
    pd_free(p->groups);
    pd_free(p->weights);
}

/* ---- whole-file checks ---- */

/* The line where the known key name was last set, 0 if it was not. */
static int line_of(const struct parse *p, const char *name)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (strcmp(keys[i].name, name) == 0)
            return p->key_line[i];
    return 0;
}

static size_t count_participants(const struct config *cfg)
{
    size_t n = 0;
    for (size_t i = 0; i < cfg->server_count; i++)
        n += !cfg->servers[i].is_observer;
    return n;
}

static int default_str(struct parse *p, char **slot, const char *value)
{
    if (*slot)
        return 0;
    p->line = 0;
    return replace_str(p, slot, value);
}

/* The tail of QuorumPeerConfig.parseProperties(): defaults, clamps and cross-key checks. */
static int finish_static(struct parse *p)
{
    struct config *cfg = p->cfg;
    int rc;

    if (cfg->snap_count < 2) {
        pd_warn("%s: snapCount %d is below 2; using 2 (as ZooKeeper does)", p->name,
                cfg->snap_count);
        cfg->snap_count = 2;
    }
    if (cfg->autopurge_snap_retain_count < CONFIG_MIN_SNAP_RETAIN_COUNT) {
        pd_warn("%s: autopurge.snapRetainCount %d is below %d; using %d", p->name,
                cfg->autopurge_snap_retain_count, CONFIG_MIN_SNAP_RETAIN_COUNT,
                CONFIG_MIN_SNAP_RETAIN_COUNT);
        cfg->autopurge_snap_retain_count = CONFIG_MIN_SNAP_RETAIN_COUNT;
    }
    if (cfg->max_client_cnxns < 0) {
        /* ZooKeeper limits only when the value is > 0, so a negative one means no limit. */
        pd_warn("%s: maxClientCnxns %d is negative; no per-client limit (0)", p->name,
                cfg->max_client_cnxns);
        cfg->max_client_cnxns = 0;
    }
    if (cfg->autopurge_purge_interval_h < 0)
        cfg->autopurge_purge_interval_h = 0; /* ZooKeeper: <= 0 schedules no purge */
    if (cfg->election_port_bind_retry < 0) {
        pd_warn("%s: electionPortBindRetry %d is negative; using %d", p->name,
                cfg->election_port_bind_retry, CONFIG_DEFAULT_ELECTION_PORT_BIND_RETRY);
        cfg->election_port_bind_retry = CONFIG_DEFAULT_ELECTION_PORT_BIND_RETRY;
    }

    if (!cfg->data_dir)
        return fail_at(p, 0, "dataDir is not set");
    if ((rc = default_str(p, &cfg->data_log_dir, cfg->data_dir)))
        return rc;
    if (cfg->client_port == 0 && cfg->client_port_address)
        return fail_at(p, line_of(p, "clientPortAddress"),
                       "clientPortAddress is set but clientPort is not set");
    if ((rc = default_str(p, &cfg->client_port_address, ANY_ADDRESS)) ||
        (rc = default_str(p, &cfg->admin_server_address, ANY_ADDRESS)) ||
        (rc = default_str(p, &cfg->metrics_http_host, ANY_ADDRESS)))
        return rc;

    int min = config_min_session_timeout_ms(cfg), max = config_max_session_timeout_ms(cfg);
    if (min > max) {
        int line = line_of(p, "minSessionTimeout");
        return fail_at(p, line ? line : line_of(p, "maxSessionTimeout"),
                       "minSessionTimeout %d must not be larger than maxSessionTimeout %d", min,
                       max);
    }

    if (cfg->dynamic_config_file && p->first_quorum_line)
        return fail_at(p, p->first_quorum_line,
                       "%s: must be in the dynamic config file (dynamicConfigFile is set)",
                       p->first_quorum_key);
    return 0;
}

static struct config_server *find_server(struct config *cfg, int64_t sid)
{
    for (size_t i = 0; i < cfg->server_count; i++)
        if (cfg->servers[i].sid == sid)
            return &cfg->servers[i];
    return NULL;
}

/* QuorumHierarchical's reading of group.G and weight.N against the server list. */
static int apply_groups(struct parse *p)
{
    struct config *cfg = p->cfg;
    cfg->is_hierarchical = p->groups_len > 0 || p->weights_len > 0;
    for (size_t i = 0; i < cfg->server_count; i++) {
        cfg->servers[i].group_id = -1;
        cfg->servers[i].weight = 1;
    }
    for (size_t i = 0; i < p->groups_len; i++) {
        struct config_server *s = find_server(cfg, p->groups[i].sid);
        if (s)
            s->group_id = p->groups[i].value;
        else
            pd_warn("%s:%d: group.%" PRId64 " names server %" PRId64 ", which has no server "
                    "line; ignored",
                    p->name, p->groups[i].line, p->groups[i].value, p->groups[i].sid);
    }
    for (size_t i = 0; i < p->weights_len; i++) {
        struct config_server *s = find_server(cfg, p->weights[i].sid);
        if (s)
            s->weight = p->weights[i].value;
        else
            pd_warn("%s:%d: weight.%" PRId64 " names a server with no server line; ignored",
                    p->name, p->weights[i].line, p->weights[i].sid);
    }
    if (!cfg->is_hierarchical)
        return 0;
    pd_info("%s: hierarchical quorum (group.* / weight.* lines)", p->name);
    for (size_t i = 0; i < cfg->server_count; i++) {
        const struct config_server *s = &cfg->servers[i];
        if (!s->is_observer && s->group_id < 0)
            return fail_at(p, s->line, "server.%" PRId64 " is not in any group.G line", s->sid);
    }
    return 0;
}

/* QuorumPeerConfig.parseDynamicConfig() and checkValidity(), minus what needs myid. */
static int finish_quorum(struct parse *p)
{
    struct config *cfg = p->cfg;
    int rc = apply_groups(p);
    if (rc)
        return rc;

    size_t participants = count_participants(cfg);
    size_t observers = cfg->server_count - participants;
    if (participants == 0) {
        if (!cfg->standalone_enabled)
            return fail_at(p, line_of(p, "standaloneEnabled"),
                           "standaloneEnabled=false needs at least one participant server.N line");
        if (observers > 0)
            return fail_at(p, cfg->servers[0].line, "observers without participants");
    } else if (participants == 1 && cfg->standalone_enabled) {
        /* ZooKeeper logs this as an error and runs standalone (HBase writes such files). */
        pd_warn("%s: only one server listed; running standalone", p->name);
        if (observers > 0)
            return fail_at(p, cfg->servers[0].line,
                           "observers without a quorum (one "
                           "participant, standaloneEnabled=true)");
    } else if (participants <= 2) {
        pd_warn("%s: no server failure will be tolerated; you need at least 3 servers", p->name);
    } else if (participants % 2 == 0) {
        pd_warn("%s: non-optimal configuration; consider an odd number of servers", p->name);
    }

    if (config_is_distributed(cfg)) {
        if (cfg->init_limit == 0)
            return fail_at(p, 0, "initLimit is not set (needed with more than one server)");
        if (cfg->sync_limit == 0)
            return fail_at(p, 0, "syncLimit is not set (needed with more than one server)");
    }

    /*
     * ZooKeeper would start without any client listener; a Paddock server without one is a
     * mistake, so say so now. Which server line is ours is known only with myid.
     */
    bool has_client_port = cfg->client_port != 0;
    for (size_t i = 0; i < cfg->server_count && !has_client_port; i++)
        has_client_port = cfg->servers[i].client_port != 0;
    if (!has_client_port)
        return fail_at(p, 0, "clientPort is not set%s",
                       cfg->server_count ? " and no server.N line gives a client port" : "");
    return 0;
}

/* ---- public API ---- */

void config_init(struct config *cfg)
{
    *cfg = (struct config){
        .tick_ms = CONFIG_DEFAULT_TICK_MS,
        .snap_count = CONFIG_DEFAULT_SNAP_COUNT,
        .pre_alloc_size_kb = CONFIG_DEFAULT_PRE_ALLOC_SIZE_KB,
        .force_sync = true,
        .fsync_warning_threshold_ms = CONFIG_DEFAULT_FSYNC_WARNING_THRESHOLD_MS,
        .autopurge_snap_retain_count = CONFIG_MIN_SNAP_RETAIN_COUNT,
        .autopurge_purge_interval_h = 0,
        .client_port_listen_backlog = -1,
        .max_client_cnxns = CONFIG_DEFAULT_MAX_CLIENT_CNXNS,
        .min_session_timeout_ms = -1,
        .max_session_timeout_ms = -1,
        .jute_max_buffer = CONFIG_DEFAULT_JUTE_MAX_BUFFER,
        .container_check_interval_ms = CONFIG_DEFAULT_CONTAINER_CHECK_INTERVAL_MS,
        .container_max_per_minute = CONFIG_DEFAULT_CONTAINER_MAX_PER_MINUTE,
        .my_id = -1,
        .peer_type = CONFIG_PARTICIPANT,
        .standalone_enabled = true,
        .sync_enabled = true,
        .election_port_bind_retry = CONFIG_DEFAULT_ELECTION_PORT_BIND_RETRY,
        .leader_serves = true,
        .admin_enable_server = true,
        .admin_server_port = CONFIG_DEFAULT_ADMIN_SERVER_PORT,
        .metrics_http_port = CONFIG_DEFAULT_METRICS_HTTP_PORT,
    };
}

void config_free(struct config *cfg)
{
    pd_free(cfg->data_dir);
    pd_free(cfg->data_log_dir);
    pd_free(cfg->client_port_address);
    pd_free(cfg->super_digest);
    free_list(cfg->four_lw_whitelist, cfg->four_lw_whitelist_len);
    for (size_t i = 0; i < cfg->server_count; i++)
        server_clear(&cfg->servers[i]);
    pd_free(cfg->servers);
    pd_free(cfg->dynamic_config_file);
    pd_free(cfg->admin_server_address);
    pd_free(cfg->metrics_http_host);
    cfg->data_dir = cfg->data_log_dir = cfg->client_port_address = cfg->super_digest = NULL;
    cfg->four_lw_whitelist = NULL;
    cfg->four_lw_whitelist_len = 0;
    cfg->servers = NULL;
    cfg->server_count = 0;
    cfg->dynamic_config_file = cfg->admin_server_address = cfg->metrics_http_host = NULL;
}

int config_parse(struct config *cfg, const char *text, size_t len, const char *name)
{
    struct parse p = {.cfg = cfg, .name = name};
    cfg->errmsg[0] = '\0';
    int rc = parse_text(&p, text, len);
    if (rc == 0)
        rc = finish_static(&p);
    if (rc == 0 && !cfg->dynamic_config_file)
        rc = finish_quorum(&p);
    parse_release(&p);
    return rc;
}

int config_parse_dynamic(struct config *cfg, const char *text, size_t len, const char *name)
{
    struct parse p = {.cfg = cfg, .name = name, .is_dynamic = true};
    cfg->errmsg[0] = '\0';
    for (size_t i = 0; i < cfg->server_count; i++)
        server_clear(&cfg->servers[i]);
    cfg->server_count = 0;

    /* QuorumPeerConfig.getVersionFromFilename(): the hex number after the last '.'. */
    const char *dot = strrchr(name, '.');
    int64_t version;
    cfg->quorum_version = 0;
    if (dot && parse_i64(dot + 1, 16, &version) == NUM_OK && version >= 0)
        cfg->quorum_version = version;

    int rc = parse_text(&p, text, len);
    if (rc == 0)
        rc = finish_quorum(&p);
    parse_release(&p);
    return rc;
}

/*
 * Reads the whole file at path into an owned, NUL-terminated buffer. *is_missing is set when
 * it does not exist or is not a regular file (Java's File.isFile()). Returns 0, PD_EIO with
 * errno kept, PD_ENOMEM.
 */
static int read_file(const char *path, char **out, size_t *out_len, bool *is_missing)
{
    *is_missing = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *is_missing = errno == ENOENT;
        return PD_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0)
        goto out_close_eio;
    if (!S_ISREG(st.st_mode)) {
        *is_missing = true;
        errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        goto out_close_eio;
    }
    size_t cap = (size_t)st.st_size + 1, len = 0;
    char *data = pd_malloc(cap);
    if (!data) {
        close(fd);
        return PD_ENOMEM;
    }
    for (;;) {
        if (len + 1 == cap) { /* the file grew since fstat */
            char *grown = pd_realloc(data, cap * 2);
            if (!grown) {
                pd_free(data);
                close(fd);
                return PD_ENOMEM;
            }
            data = grown;
            cap *= 2;
        }
        ssize_t n = read(fd, data + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            pd_free(data);
            close(fd);
            errno = saved;
            return PD_EIO;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    data[len] = '\0';
    *out = data;
    *out_len = len;
    return 0;

out_close_eio : {
    int saved = errno;
    close(fd);
    errno = saved;
    return PD_EIO;
}
}

/* Reads and parses one file with fn; fills errmsg for read errors. */
static int load_file(struct config *cfg, const char *path,
                     int (*fn)(struct config *, const char *, size_t, const char *))
{
    char *text;
    size_t len;
    bool is_missing;
    int rc = read_file(path, &text, &len, &is_missing);
    if (rc == PD_ENOMEM)
        return fail_cfg(cfg, rc, path, 0, "out of memory");
    if (rc)
        return fail_cfg(cfg, rc, path, 0, "cannot read: %s", strerror(errno));
    rc = fn(cfg, text, len, path);
    pd_free(text);
    return rc;
}

int config_load(struct config *cfg, const char *path)
{
    int rc = load_file(cfg, path, config_parse);
    if (rc == 0 && cfg->dynamic_config_file)
        rc = load_file(cfg, cfg->dynamic_config_file, config_parse_dynamic);
    if (rc == 0 && cfg->server_count > 0)
        rc = config_load_myid(cfg);
    return rc;
}

static bool is_any_address(const char *addr)
{
    return strcmp(addr, "0.0.0.0") == 0 || strcmp(addr, "::") == 0;
}

/* QuorumPeerConfig.setupClientPort(): this server's line may carry its client address. */
static int setup_client_port(struct config *cfg, const struct config_server *me)
{
    if (!me || !me->client_addr)
        return 0;
    if (cfg->client_port != 0 && (cfg->client_port != me->client_port ||
                                  (!is_any_address(cfg->client_port_address) &&
                                   strcmp(cfg->client_port_address, me->client_addr) != 0)))
        return fail_cfg(cfg, PD_ECONFIG, NULL, 0,
                        "clientPortAddress/clientPort %s:%d differ from the client address "
                        "%s:%d in server.%" PRId64,
                        cfg->client_port_address, cfg->client_port, me->client_addr,
                        me->client_port, me->sid);
    char *copy = pd_strdup(me->client_addr);
    if (!copy)
        return fail_cfg(cfg, PD_ENOMEM, NULL, 0, "out of memory");
    pd_free(cfg->client_port_address);
    cfg->client_port_address = copy;
    cfg->client_port = me->client_port;
    return 0;
}

int config_load_myid(struct config *cfg)
{
    cfg->errmsg[0] = '\0';
    if (!cfg->data_dir)
        return fail_cfg(cfg, PD_ECONFIG, NULL, 0, "dataDir is not set");
    size_t n = strlen(cfg->data_dir) + sizeof("/myid");
    char *path = pd_malloc(n);
    if (!path)
        return fail_cfg(cfg, PD_ENOMEM, NULL, 0, "out of memory");
    snprintf(path, n, "%s/myid", cfg->data_dir);

    char *text = NULL;
    size_t len;
    bool is_missing;
    int rc = read_file(path, &text, &len, &is_missing);
    if (rc == PD_ENOMEM) {
        rc = fail_cfg(cfg, rc, path, 0, "out of memory");
        goto out_free_path;
    }
    if (rc && is_missing) {
        /* Standalone servers need no myid file. */
        rc = 0;
        if (config_is_distributed(cfg))
            rc = fail_cfg(cfg, PD_ECONFIG, path, 0,
                          "file is missing (a replicated setup needs this server's id in it)");
        goto out_check;
    }
    if (rc) {
        rc = fail_cfg(cfg, rc, path, 0, "cannot read: %s", strerror(errno));
        goto out_free_path;
    }

    /* ZooKeeper reads the first line; we also forgive blanks around the number. */
    text[strcspn(text, "\r\n")] = '\0';
    char *id = trim(text);
    int64_t sid;
    if (parse_i64(id, 10, &sid) != NUM_OK || sid < 0) {
        int shown = (int)strnlen(id, VALUE_SHOWN);
        rc = fail_cfg(cfg, PD_ECONFIG, path, 0, "not a server id: \"%.*s\"", shown, id);
        goto out_free_text;
    }
    if (cfg->extended_types_enabled && sid > CONFIG_MAX_EXTENDED_SERVER_ID) {
        rc = fail_cfg(cfg, PD_ECONFIG, path, 0,
                      "server id %" PRId64 " is larger than %d, the limit with "
                      "extendedTypesEnabled=true",
                      sid, CONFIG_MAX_EXTENDED_SERVER_ID);
        goto out_free_text;
    }
    cfg->my_id = sid;

out_check:;
    const struct config_server *me = cfg->my_id >= 0 ? config_find_server(cfg, cfg->my_id) : NULL;
    if (rc == 0 && cfg->server_count > 0) {
        /* QuorumPeerConfig.setupPeerType(): the server list decides. */
        enum config_peer_type role = me && me->is_observer ? CONFIG_OBSERVER : CONFIG_PARTICIPANT;
        if (role != cfg->peer_type)
            pd_warn("peerType %s disagrees with the server list (%s); using the server list",
                    cfg->peer_type == CONFIG_OBSERVER ? "observer" : "participant",
                    role == CONFIG_OBSERVER ? "observer" : "participant");
        cfg->peer_type = role;
    }
    if (rc == 0 && config_is_distributed(cfg) && !me)
        rc = fail_cfg(cfg, PD_ECONFIG, path, 0,
                      "server id %" PRId64 " has no server.%" PRId64 " line in the server list",
                      cfg->my_id, cfg->my_id);
    if (rc == 0)
        rc = setup_client_port(cfg, me);
    if (rc == 0 && cfg->client_port == 0 && cfg->my_id < 0)
        rc = fail_cfg(cfg, PD_ECONFIG, path, 0,
                      "missing, and clientPort is not set: no way to tell which server.N line's "
                      "client port is this server's");
    else if (rc == 0 && cfg->client_port == 0)
        rc = fail_cfg(cfg, PD_ECONFIG, NULL, 0,
                      "no client port for this server: clientPort is not set and "
                      "server.%" PRId64 " gives none",
                      cfg->my_id);
out_free_text:
    pd_free(text);
out_free_path:
    pd_free(path);
    return rc;
}

int config_min_session_timeout_ms(const struct config *cfg)
{
    if (cfg->min_session_timeout_ms != -1)
        return cfg->min_session_timeout_ms;
    int64_t v = 2 * (int64_t)cfg->tick_ms;
    return v > INT32_MAX ? INT32_MAX : (int)v;
}

int config_max_session_timeout_ms(const struct config *cfg)
{
    if (cfg->max_session_timeout_ms != -1)
        return cfg->max_session_timeout_ms;
    int64_t v = 20 * (int64_t)cfg->tick_ms;
    return v > INT32_MAX ? INT32_MAX : (int)v;
}

bool config_is_distributed(const struct config *cfg)
{
    if (cfg->server_count == 0)
        return false; /* standaloneEnabled=false without servers fails in config_parse() */
    return !cfg->standalone_enabled || count_participants(cfg) > 1;
}

const struct config_server *config_find_server(const struct config *cfg, int64_t sid)
{
    return find_server((struct config *)cfg, sid);
}

bool config_4lw_allowed(const struct config *cfg, const char *cmd)
{
    /* zkServer.sh depends on srvr, so ZooKeeper always allows it. */
    if (strcmp(cmd, "srvr") == 0 || cfg->is_four_lw_all)
        return true;
    for (size_t i = 0; i < cfg->four_lw_whitelist_len; i++)
        if (strcmp(cfg->four_lw_whitelist[i], cmd) == 0)
            return true;
    return false;
}
