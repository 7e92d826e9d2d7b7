/*
 * zkCli's output formats: StatPrinter (with Java's Date.toString()), the
 * getAcl lines (the Id record's jute toString), AclParser, PathUtils'
 * messages, KeeperException and CliWrapperException messages, the watch
 * event names, ConfigUtils.getClientConfigStr and the quota nodes' StatsTrack
 * strings. Facts from Apache ZooKeeper 3.8.0 (org.apache.zookeeper.cli,
 * KeeperException, WatchedEvent, StatsTrack);
 * the code is ours. Pure: output goes only to the FILE given.
 */
#include "cli/cli_int.h"

#include "common/alloc.h"
#include "common/err.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

void cli_format_date(int64_t ms, char *buf, size_t len)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    /* Floor division: a time before 1970 still rounds down to its second. */
    time_t secs = (time_t)(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
    struct tm tm;
    if (!localtime_r(&secs, &tm)) {
        snprintf(buf, len, "%" PRId64, ms);
        return;
    }
    /* Java always prints English names, whatever the locale. */
    snprintf(buf, len, "%s %s %02d %02d:%02d:%02d %s %d", days[tm.tm_wday % 7],
             months[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             tm.tm_zone ? tm.tm_zone : "UTC", tm.tm_year + 1900);
}

void cli_print_stat(FILE *f, const struct pdk_stat *st)
{
    char ctime[64], mtime[64];
    cli_format_date(st->ctime, ctime, sizeof(ctime));
    cli_format_date(st->mtime, mtime, sizeof(mtime));
    /* Long.toHexString: two's complement, lower case, no padding. */
    fprintf(f,
            "cZxid = 0x%" PRIx64 "\nctime = %s\nmZxid = 0x%" PRIx64 "\nmtime = %s\n"
            "pZxid = 0x%" PRIx64 "\ncversion = %" PRId32 "\ndataVersion = %" PRId32 "\n"
            "aclVersion = %" PRId32 "\nephemeralOwner = 0x%" PRIx64 "\n"
            "dataLength = %" PRId32 "\nnumChildren = %" PRId32 "\n",
            (uint64_t)st->czxid, ctime, (uint64_t)st->mzxid, mtime, (uint64_t)st->pzxid,
            st->cversion, st->version, st->aversion, (uint64_t)st->ephemeral_owner, st->data_length,
            st->num_children);
}

const char *cli_perm_string(int32_t perms, char *buf)
{
    char *p = buf;
    if (perms & PDK_PERM_CREATE)
        *p++ = 'c';
    if (perms & PDK_PERM_DELETE)
        *p++ = 'd';
    if (perms & PDK_PERM_READ)
        *p++ = 'r';
    if (perms & PDK_PERM_WRITE)
        *p++ = 'w';
    if (perms & PDK_PERM_ADMIN)
        *p++ = 'a';
    *p = '\0';
    return buf;
}

/* A jute string field as ToStringOutputArchive writes it: a quote, then the
 * characters with \0 \n \r , } % escaped as %XX. */
static void print_jute_string(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; s && *s; s++) {
        switch (*s) {
        case '\n':
            fputs("%0A", f);
            break;
        case '\r':
            fputs("%0D", f);
            break;
        case ',':
            fputs("%2C", f);
            break;
        case '}':
            fputs("%7D", f);
            break;
        case '%':
            fputs("%25", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

void cli_print_acl(FILE *f, const struct pdk_acl *a)
{
    char perms[8];
    print_jute_string(f, a->scheme);
    fputc(',', f);
    print_jute_string(f, a->id);
    fprintf(f, "\n: %s\n", cli_perm_string(a->perms, perms));
}

void cli_print_list(FILE *f, char *const *items, int n)
{
    fputc('[', f);
    for (int i = 0; i < n; i++)
        fprintf(f, "%s%s", i ? ", " : "", items[i]);
    fputs("]\n", f);
}

/* ---- ACL strings ----------------------------------------------------------------- */

static int32_t parse_perms(const char *s, size_t len, FILE *err)
{
    int32_t perms = 0;
    for (size_t i = 0; i < len; i++) {
        switch (s[i]) {
        case 'r':
            perms |= PDK_PERM_READ;
            break;
        case 'w':
            perms |= PDK_PERM_WRITE;
            break;
        case 'c':
            perms |= PDK_PERM_CREATE;
            break;
        case 'd':
            perms |= PDK_PERM_DELETE;
            break;
        case 'a':
            perms |= PDK_PERM_ADMIN;
            break;
        default:
            fprintf(err, "Unknown perm type: %c\n", s[i]);
        }
    }
    return perms;
}

int cli_acl_parse(const char *s, FILE *err, struct cli_acl *out)
{
    *out = (struct cli_acl){0};
    size_t n = strlen(s);
    /* Every entry's scheme and id fit in a copy of s (one NUL each replaces a colon). */
    out->strings = pd_malloc(n + 1);
    out->items = pd_calloc(n / 2 + 1, sizeof(*out->items));
    if (!out->strings || !out->items) {
        cli_acl_free(out);
        return PD_ENOMEM;
    }
    memcpy(out->strings, s, n + 1);
    int count = 0;
    /*
     * String.split(","): empty pieces in between are kept, trailing ones
     * dropped; but "" splits into one empty piece.
     */
    size_t end = n;
    while (end > 0 && s[end - 1] == ',')
        end--;
    size_t at = 0;
    while (at < end || n == 0) {
        size_t len = strcspn(s + at, ",");
        if (at + len > end)
            len = end - at;
        char *entry = out->strings + at;
        const char *first = memchr(entry, ':', len);
        const char *last = NULL;
        for (size_t i = len; i-- > 0;) {
            if (entry[i] == ':') {
                last = entry + i;
                break;
            }
        }
        if (!first || first == last) {
            fprintf(err, "%.*s does not have the form scheme:id:perm\n", (int)len, entry);
        } else {
            size_t i_first = (size_t)(first - entry), i_last = (size_t)(last - entry);
            int32_t perms = parse_perms(entry + i_last + 1, len - i_last - 1, err);
            entry[i_first] = '\0';
            entry[i_last] = '\0';
            out->items[count++] = (struct pdk_acl){perms, entry, entry + i_first + 1};
        }
        at += len + 1;
        if (n == 0)
            break;
    }
    out->list = (struct pdk_acl_list){count, out->items};
    return 0;
}

void cli_acl_free(struct cli_acl *a)
{
    pd_free(a->items);
    pd_free(a->strings);
    *a = (struct cli_acl){0};
}

/* ---- paths --------------------------------------------------------------------- */

const char *cli_path_error(const char *path, bool is_sequential, char *buf, size_t len)
{
    /* validatePath(path, true) checks path + "1". */
    size_t n = strlen(path);
    char *p = pd_malloc(n + 2);
    if (!p) {
        snprintf(buf, len, "out of memory");
        return buf;
    }
    memcpy(p, path, n);
    if (is_sequential)
        p[n++] = '1';
    p[n] = '\0';
    const char *reason = NULL;
    size_t at = 0;
    if (n == 0) {
        snprintf(buf, len, "Path length must be > 0");
        goto out_free;
    }
    if (p[0] != '/') {
        snprintf(buf, len, "Path must start with / character");
        goto out_free;
    }
    if (n == 1)
        goto out_valid;
    if (p[n - 1] == '/') {
        snprintf(buf, len, "Path must not end with / character");
        goto out_free;
    }
    for (size_t i = 1; i < n && !reason; i++) {
        char ch = p[i], prev = p[i - 1];
        unsigned char u = (unsigned char)ch;
        bool is_name_end = i + 1 == n || p[i + 1] == '/';
        if (ch == '/' && prev == '/')
            reason = "empty node name specified";
        else if (ch == '.' && prev == '.' && p[i - 2] == '/' && is_name_end)
            reason = "relative paths not allowed";
        else if (ch == '.' && prev == '/' && is_name_end)
            reason = "relative paths not allowed";
        else if ((u > 0 && u <= 0x1f) || u == 0x7f)
            /* Java also refuses U+0080-U+009F, surrogates and U+F000-U+F8FF,
             * U+FFF0-U+FFFF; the server checks those again. */
            reason = "invalid character";
        at = i;
    }
    if (!reason)
        goto out_valid;
    snprintf(buf, len, "Invalid path string \"%s\" caused by %s @%zu", p, reason, at);
out_free:
    pd_free(p);
    return buf;
out_valid:
    pd_free(p);
    return NULL;
}

/* ---- errors and events ---------------------------------------------------------- */

const char *cli_code_message(int rc)
{
    switch (rc) {
    case PDK_ZOK:
        return "ok";
    case PDK_ZSYSTEMERROR:
        return "SystemError";
    case PDK_ZRUNTIMEINCONSISTENCY:
        return "RuntimeInconsistency";
    case PDK_ZDATAINCONSISTENCY:
        return "DataInconsistency";
    case PDK_ZCONNECTIONLOSS:
        return "ConnectionLoss";
    case PDK_ZMARSHALLINGERROR:
        return "MarshallingError";
    case PDK_ZNEWCONFIGNOQUORUM:
        return "NewConfigNoQuorum";
    case PDK_ZRECONFIGINPROGRESS:
        return "ReconfigInProgress";
    case PDK_ZUNIMPLEMENTED:
        return "Unimplemented";
    case PDK_ZOPERATIONTIMEOUT:
        return "OperationTimeout";
    case PDK_ZBADARGUMENTS:
        return "BadArguments";
    case PDK_ZAPIERROR:
        return "APIError";
    case PDK_ZNONODE:
        return "NoNode";
    case PDK_ZNOAUTH:
        return "NoAuth";
    case PDK_ZBADVERSION:
        return "BadVersion";
    case PDK_ZNOCHILDRENFOREPHEMERALS:
        return "NoChildrenForEphemerals";
    case PDK_ZNODEEXISTS:
        return "NodeExists";
    case PDK_ZINVALIDACL:
        return "InvalidACL";
    case PDK_ZAUTHFAILED:
        return "AuthFailed";
    case PDK_ZNOTEMPTY:
        return "Directory not empty";
    case PDK_ZSESSIONEXPIRED:
        return "Session expired";
    case PDK_ZINVALIDCALLBACK:
        return "Invalid callback";
    case PDK_ZSESSIONMOVED:
        return "Session moved";
    case PDK_ZNOTREADONLY:
        return "Not a read-only call";
    case PDK_ZEPHEMERALONLOCALSESSION:
        return "Ephemeral node on local session";
    case PDK_ZNOWATCHER:
        return "No such watcher";
    case PDK_ZRECONFIGDISABLED:
        return "Reconfig is disabled";
    case PDK_ZSESSIONCLOSEDREQUIRESASLAUTH:
        return "Session closed because client failed to authenticate";
    case PDK_ZQUOTAEXCEEDED:
        return "Quota has exceeded";
    case PDK_ZTHROTTLEDOP:
        return "Op throttled due to high load";
    /* Client-local codes Java has no KeeperException for. */
    case PDK_ZINVALIDSTATE:
        return "InvalidState";
    case PDK_ZCLOSING:
        return "Closing";
    default:
        return "Unknown error";
    }
}

void cli_error_message(int rc, const char *path, char *buf, size_t len)
{
    const char *p = path ? path : "null";
    switch (rc) {
    case PDK_ZNONODE:
        snprintf(buf, len, "Node does not exist: %s", p);
        return;
    case PDK_ZNOCHILDRENFOREPHEMERALS:
        snprintf(buf, len, "Ephemerals cannot have children: %s", p);
        return;
    case PDK_ZNODEEXISTS:
        snprintf(buf, len, "Node already exists: %s", p);
        return;
    case PDK_ZNOTEMPTY:
        snprintf(buf, len, "Node not empty: %s", p);
        return;
    case PDK_ZNOTREADONLY:
        snprintf(buf, len, "Not a read-only call: %s", p);
        return;
    case PDK_ZINVALIDACL:
        snprintf(buf, len, "Acl is not valid : %s", p);
        return;
    case PDK_ZNOAUTH:
        snprintf(buf, len, "Insufficient permission : %s", p);
        return;
    case PDK_ZBADARGUMENTS:
        snprintf(buf, len, "Arguments are not valid : %s", p);
        return;
    case PDK_ZBADVERSION:
        snprintf(buf, len, "version No is not valid : %s", p);
        return;
    case PDK_ZRECONFIGINPROGRESS:
        snprintf(buf, len,
                 "Another reconfiguration is in progress -- concurrent reconfigs not supported "
                 "(yet)");
        return;
    case PDK_ZNEWCONFIGNOQUORUM:
        snprintf(buf, len,
                 "No quorum of new config is connected and up-to-date with the leader of last "
                 "commmitted config - try invoking reconfiguration after new servers are "
                 "connected and synced");
        return;
    case PDK_ZQUOTAEXCEEDED:
        snprintf(buf, len, "Quota has exceeded : %s", p);
        return;
    }
    if (!path || !*path)
        snprintf(buf, len, "KeeperErrorCode = %s", cli_code_message(rc));
    else
        snprintf(buf, len, "KeeperErrorCode = %s for %s", cli_code_message(rc), path);
}

const char *cli_state_name(int state)
{
    switch (state) {
    case PDK_STATE_DISCONNECTED:
        return "Disconnected";
    case PDK_STATE_CONNECTING:
        return "NoSyncConnected";
    case PDK_STATE_CONNECTED:
        return "SyncConnected";
    case PDK_STATE_AUTH_FAILED:
        return "AuthFailed";
    case PDK_STATE_CONNECTED_READ_ONLY:
        return "ConnectedReadOnly";
    case PDK_STATE_CLOSED:
        return "Closed";
    case PDK_STATE_EXPIRED:
        return "Expired";
    default:
        return "Unknown";
    }
}

const char *cli_event_name(int type)
{
    switch (type) {
    case PDK_EVENT_SESSION:
        return "None";
    case PDK_EVENT_CREATED:
        return "NodeCreated";
    case PDK_EVENT_DELETED:
        return "NodeDeleted";
    case PDK_EVENT_DATA_CHANGED:
        return "NodeDataChanged";
    case PDK_EVENT_CHILDREN_CHANGED:
        return "NodeChildrenChanged";
    case PDK_EVENT_DATA_WATCH_REMOVED:
        return "DataWatchRemoved";
    case PDK_EVENT_CHILD_WATCH_REMOVED:
        return "ChildWatchRemoved";
    case PDK_EVENT_PERSISTENT_WATCH_REMOVED:
        return "PersistentWatchRemoved";
    default:
        return "Unknown";
    }
}

const char *cli_zk_state_name(int state)
{
    switch (state) {
    case PDK_STATE_CONNECTED:
        return "CONNECTED";
    case PDK_STATE_CONNECTED_READ_ONLY:
        return "CONNECTEDREADONLY";
    case PDK_STATE_AUTH_FAILED:
        return "AUTH_FAILED";
    case PDK_STATE_CLOSED:
    case PDK_STATE_EXPIRED:
        return "CLOSED";
    default:
        /* Java's client is CONNECTING again while it looks for a server. */
        return "CONNECTING";
    }
}

void cli_client_config(const char *data, int32_t len, char *buf, size_t len_buf)
{
    /*
     * Each "server.N=host:port:port[:role][;[clientHost:]clientPort]" line
     * gives its client address; "version=" gives the version. Java walks a
     * Properties hash table; we keep the file's order.
     */
    char version[64] = "";
    char addrs[1024] = "";
    size_t used = 0;
    bool is_first = true;
    int32_t at = 0;
    while (data && at < len) {
        int32_t end = at;
        while (end < len && data[end] != '\n')
            end++;
        const char *line = data + at;
        int32_t n = end - at;
        while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' '))
            n--;
        const char *eq = memchr(line, '=', (size_t)n);
        if (eq && eq - line == 7 && memcmp(line, "version", 7) == 0) {
            snprintf(version, sizeof(version), "%.*s", (int)(n - 8), eq + 1);
        } else if (eq && n > 7 && memcmp(line, "server.", 7) == 0) {
            const char *value = eq + 1;
            int32_t vlen = (int32_t)(line + n - value);
            const char *semi = memchr(value, ';', (size_t)vlen);
            char addr[300] = "";
            if (semi) {
                int32_t clen = (int32_t)(line + n - semi - 1);
                const char *client = semi + 1;
                if (memchr(client, ':', (size_t)clen))
                    snprintf(addr, sizeof(addr), "%.*s", (int)clen, client);
                else
                    snprintf(addr, sizeof(addr), "0.0.0.0:%.*s", (int)clen, client);
            }
            int w = snprintf(addrs + used, sizeof(addrs) - used, "%s%s", is_first ? "" : ",", addr);
            if (w > 0 && (size_t)w < sizeof(addrs) - used)
                used += (size_t)w;
            is_first = false;
        }
        at = end + 1;
    }
    snprintf(buf, len_buf, "%s %s", version, addrs);
}

/* ---- quotas: StatsTrack ------------------------------------------------------------ */

int64_t cli_stats_get(const struct cli_stats *s, const char *key)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->items[i].key, key) == 0)
            return s->items[i].value;
    return -1;
}

/* key is len bytes (not NUL-terminated). */
static bool stats_put(struct cli_stats *s, const char *key, size_t len, int64_t value)
{
    if (len >= sizeof(s->items[0].key))
        return false;
    int i = 0;
    while (i < s->n && !(strlen(s->items[i].key) == len && memcmp(s->items[i].key, key, len) == 0))
        i++;
    if (i == CLI_STATS_MAX)
        return false;
    if (i == s->n) {
        memcpy(s->items[i].key, key, len);
        s->items[i].key[len] = '\0';
        s->n++;
    }
    s->items[i].value = value;
    return true;
}

bool cli_stats_set(struct cli_stats *s, const char *key, int64_t value)
{
    return stats_put(s, key, strlen(key), value);
}

/* One "key=value" pair (n bytes at p) into s; false with the reason in errmsg. */
static bool stats_pair(struct cli_stats *s, const char *p, size_t n, char *errmsg, size_t len)
{
    const char *eq = memchr(p, '=', n);
    /* String.split("=") drops trailing empty parts: with nothing but '=' after the key
     * there is no value at all, and zkCli dies on it (ArrayIndexOutOfBoundsException). */
    size_t rest = eq ? n - (size_t)(eq + 1 - p) : 0;
    bool has_value = false;
    for (size_t i = 0; eq && i < rest; i++)
        has_value = has_value || eq[1 + i] != '=';
    if (!has_value) {
        snprintf(errmsg, len, "Invalid quota data: no value in \"%.*s\"", (int)n, p);
        return false;
    }
    const char *value = eq + 1;
    const char *end = memchr(value, '=', rest);
    size_t vlen = end ? (size_t)(end - value) : rest;
    int64_t v = -1; /* an empty value (count==5) is -1 */
    if (vlen > 0) {
        char num[32];
        bool is_number = vlen < sizeof(num);
        if (is_number) {
            memcpy(num, value, vlen);
            num[vlen] = '\0';
            is_number = cli_parse_long(num, &v);
        }
        if (!is_number) {
            /* Long.parseLong's NumberFormatException, which zkCli prints */
            snprintf(errmsg, len, "For input string: \"%.*s\"", (int)vlen, value);
            return false;
        }
    }
    if (!stats_put(s, p, (size_t)(eq - p), v)) {
        snprintf(errmsg, len, "Invalid quota data: too many or too long keys");
        return false;
    }
    return true;
}

bool cli_stats_parse(const char *data, int32_t len, struct cli_stats *out, char *errmsg,
                     size_t errlen)
{
    out->n = 0;
    if (!data || len <= 0)
        return true;
    size_t n = (size_t)len;
    /* PAIRS_SEPARATOR.split: runs of ',' and ';' separate; a run at the start leaves an
     * empty first pair, unless nothing follows it (trailing empty strings are dropped). */
    size_t at = 0;
    while (at < n) {
        size_t end = at;
        while (end < n && data[end] != ',' && data[end] != ';')
            end++;
        size_t next = end;
        while (next < n && (data[next] == ',' || data[next] == ';'))
            next++;
        bool is_trailing = end == at && next == n;
        if (!is_trailing && !stats_pair(out, data + at, end - at, errmsg, errlen))
            return false;
        at = next;
    }
    return true;
}

static void append(char *buf, size_t len, size_t *used, const char *fmt, const char *key,
                   int64_t value)
{
    if (*used >= len)
        return;
    int w = snprintf(buf + *used, len - *used, fmt, key, value);
    if (w > 0)
        *used += (size_t)w;
}

void cli_stats_format(const struct cli_stats *s, char *buf, size_t len)
{
    if (len == 0)
        return;
    buf[0] = '\0';
    size_t used = 0;
    append(buf, len, &used, "%s=%" PRId64, "count", cli_stats_get(s, "count"));
    append(buf, len, &used, ",%s=%" PRId64, "bytes", cli_stats_get(s, "bytes"));
    /* The other keys sorted, after an '=' that lets a 3.4 parser skip them. */
    int order[CLI_STATS_MAX], k = 0;
    for (int i = 0; i < s->n; i++) {
        if (strcmp(s->items[i].key, "count") == 0 || strcmp(s->items[i].key, "bytes") == 0)
            continue;
        int j = k++;
        while (j > 0 && strcmp(s->items[order[j - 1]].key, s->items[i].key) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    if (k > 0 && used + 1 < len)
        buf[used++] = '=', buf[used] = '\0';
    for (int j = 0; j < k; j++)
        append(buf, len, &used, ";%s=%" PRId64, s->items[order[j]].key, s->items[order[j]].value);
}
