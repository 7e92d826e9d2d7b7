/*
 * zkCli's quota commands: setquota, listquota, delquota, doing what
 * org.apache.zookeeper.cli's SetQuotaCommand, ListQuotaCommand and
 * DelQuotaCommand do in ZooKeeper 3.8.0, request for request where it shows.
 *
 * A quota on P is the node /zookeeper/quota/P/zookeeper_limits, whose data is
 * a StatsTrack string (cli_stats_*) with the soft limits count and bytes and
 * the hard ones countHardLimit and byteHardLimit, -1 for none. Beside it,
 * zookeeper_stats holds what P's subtree has, which the server keeps up to
 * date (src/tree/quota.c). No quota may sit above or below another.
 *
 * Status as zkCli's: where it throws (a bad path, a failed request, a nested
 * quota) 1; where it only prints (a value out of range, no quota to list or
 * delete) 0.
 */
#include "cli/cli_int.h"

#include "common/alloc.h"

#include <inttypes.h>
#include <string.h>

#define QUOTA_ROOT "/zookeeper/quota"
static const size_t quota_root_len = sizeof(QUOTA_ROOT) - 1;
static const char limit_node[] = "zookeeper_limits";

/* The four limits: option letter, StatsTrack key, and whether it counts nodes (an int > 0)
 * or bytes (a long >= 0). setquota's and delquota's options, in the order zkCli reads them. */
static const struct {
    char letter;
    const char *key;
    bool is_count;
} limits[] = {
    {'n', "count", true},
    {'b', "bytes", false},
    {'N', "countHardLimit", true},
    {'B', "byteHardLimit", false},
};
enum { N_LIMITS = sizeof(limits) / sizeof(limits[0]) };

/* A result a helper hands back besides CLI_OK and CLI_FAILED: a quota node is gone; zkCli
 * then says so and the command ends with status 0. */
enum { QUOTA_GONE = -1 };

/* Quotas.quotaPath, limitPath and statPath of a path. */
struct quota_paths {
    char *dir;   /* owned: "/zookeeper/quota" + path */
    char *limit; /* owned: dir + "/zookeeper_limits" */
    char *stat;  /* owned: dir + "/zookeeper_stats" */
};

static char *concat(const char *a, const char *b, const char *c)
{
    size_t na = strlen(a), nb = strlen(b), nc = strlen(c);
    char *s = pd_malloc(na + nb + nc + 1);
    if (!s)
        return NULL;
    memcpy(s, a, na);
    memcpy(s + na, b, nb);
    memcpy(s + na + nb, c, nc + 1);
    return s;
}

static void quota_paths_free(struct quota_paths *q)
{
    pd_free(q->dir);
    pd_free(q->limit);
    pd_free(q->stat);
}

static bool quota_paths_init(struct quota_paths *q, const char *path)
{
    q->dir = concat(QUOTA_ROOT, path, "");
    q->limit = concat(QUOTA_ROOT, path, "/zookeeper_limits");
    q->stat = concat(QUOTA_ROOT, path, "/zookeeper_stats");
    if (q->dir && q->limit && q->stat)
        return true;
    quota_paths_free(q);
    return false;
}

/* ---- requests ------------------------------------------------------------------------- */

enum quota_op { Q_EXISTS, Q_GET_DATA, Q_GET_CHILDREN, Q_CREATE, Q_DELETE, Q_SET_DATA };

/*
 * One request on path, waited for (no watch, any version, open ACL); data is what create and
 * setData write, NULL for a null value. Returns its rc; the owned result goes to *res when res
 * is not NULL (NULL if there is none), else is freed.
 */
static int request(struct cli *c, enum quota_op op, const char *path, const char *data,
                   struct pdk_result **res)
{
    struct pdk_result *r = NULL;
    int rc = PDK_ZSYSTEMERROR;
    struct cli_call *call = cli_call_new();
    if (call) {
        int32_t len = data ? (int32_t)strlen(data) : -1;
        int submit = PDK_ZBADARGUMENTS;
        switch (op) {
        case Q_EXISTS:
            submit = pdk_exists(c->zk, path, NULL, NULL, cli_call_done, call);
            break;
        case Q_GET_DATA:
            submit = pdk_get_data(c->zk, path, NULL, NULL, cli_call_done, call);
            break;
        case Q_GET_CHILDREN:
            submit = pdk_get_children(c->zk, path, false, NULL, NULL, cli_call_done, call);
            break;
        case Q_CREATE:
            submit = pdk_create(c->zk, path, data, len, NULL, PDK_PERSISTENT, 0, false,
                                cli_call_done, call);
            break;
        case Q_DELETE:
            submit = pdk_delete(c->zk, path, -1, cli_call_done, call);
            break;
        case Q_SET_DATA:
            submit = pdk_set_data(c->zk, path, data, len, -1, cli_call_done, call);
            break;
        }
        rc = cli_call_wait(c, call, submit, &r);
    }
    if (res)
        *res = r;
    else
        pdk_result_free(r);
    return rc;
}

/* "quota for P does not exist.": what zkCli says when a quota node is missing; status 0. */
static int no_quota(struct cli *c, const char *path)
{
    fprintf(c->err, "quota for %s does not exist.\n", path);
    return CLI_OK;
}

/* getData of a quota node, parsed. CLI_OK, QUOTA_GONE (node missing, nothing printed), or
 * CLI_FAILED (printed). */
static int read_stats(struct cli *c, const char *node, struct cli_stats *out)
{
    struct pdk_result *res;
    int rc = request(c, Q_GET_DATA, node, NULL, &res);
    if (rc != PDK_ZOK) {
        pdk_result_free(res);
        return rc == PDK_ZNONODE ? QUOTA_GONE : cli_fail(c, rc, node);
    }
    char msg[256];
    bool is_ok = cli_stats_parse(res->data, res->data_len, out, msg, sizeof(msg));
    pdk_result_free(res);
    if (is_ok)
        return CLI_OK;
    /* Java's NumberFormatException is an IllegalArgumentException: zkCli prints it and
     * fails as for a bad path. */
    fprintf(c->err, "%s\n", msg);
    return CLI_FAILED;
}

/* read_stats where a missing node is a failure like any other ("Node does not exist"). */
static int read_node_stats(struct cli *c, const char *node, struct cli_stats *out)
{
    int status = read_stats(c, node, out);
    return status == QUOTA_GONE ? cli_fail(c, PDK_ZNONODE, node) : status;
}

/* Creates path with a null value unless it is there already (either way CLI_OK). */
static int create_missing(struct cli *c, const char *path)
{
    int rc = request(c, Q_EXISTS, path, NULL, NULL);
    if (rc == PDK_ZNONODE)
        rc = request(c, Q_CREATE, path, NULL, NULL);
    if (rc == PDK_ZOK || rc == PDK_ZNODEEXISTS)
        return CLI_OK;
    return cli_fail(c, rc, path);
}

/* ---- setquota ------------------------------------------------------------------------- */

/* Does a getChildren result name a zookeeper_limits node (a quota there)? */
static bool has_limit_node(const struct pdk_result *res)
{
    for (int32_t i = 0; i < res->strings.count; i++)
        if (strcmp(res->strings.items[i], limit_node) == 0)
            return true;
    return false;
}

/* The walk of SetQuotaCommand.checkIfChildQuota below the quota directory of path. */
struct child_check {
    const char *path; /* borrowed: the path a quota is asked for */
};

/* A node of the walk that has a zookeeper_limits child is a quota below path. */
static int check_child(struct cli *c, const char *node, void *ctx)
{
    const struct child_check *w = ctx;
    struct pdk_result *res;
    int rc = request(c, Q_GET_CHILDREN, node, NULL, &res);
    if (rc != PDK_ZOK) {
        /* zkCli skips a node gone meanwhile; it prints other errors and goes on, where the
         * walk's own getChildren then fails: we fail here. */
        pdk_result_free(res);
        return rc == PDK_ZNONODE ? CLI_OK : cli_fail(c, rc, node);
    }
    bool has_quota = has_limit_node(res);
    pdk_result_free(res);
    if (!has_quota)
        return CLI_OK;
    fprintf(c->err, "%s has a child %s which has a quota\n", w->path, node + quota_root_len);
    return CLI_FAILED;
}

/* checkIfChildQuota: no quota below path. quota_dir is "/zookeeper/quota" + path. */
static int check_no_child_quota(struct cli *c, const char *path, const char *quota_dir)
{
    /* ZKUtil.visitSubTreeDFS: the path is checked, the top read (gone: no quota below),
     * then the walk; the top itself is the quota asked for, not one below. */
    if (cli_bad_path(c, quota_dir, false))
        return CLI_FAILED;
    int rc = request(c, Q_GET_DATA, quota_dir, NULL, NULL);
    if (rc == PDK_ZNONODE)
        return CLI_OK;
    if (rc != PDK_ZOK)
        return cli_fail(c, rc, quota_dir);
    struct child_check w = {.path = path};
    return cli_visit_children(c, quota_dir, false, check_child, &w);
}

/*
 * checkIfParentQuota: no quota above path. qpath is "/zookeeper/quota" + path, written to
 * step by step: each proper prefix's quota directory is listed, and the first one missing
 * or empty ends the search.
 */
static int check_no_parent_quota(struct cli *c, const char *path, char *qpath)
{
    size_t n = strlen(qpath);
    for (size_t end = quota_root_len + 1; end < n; end++) {
        if (qpath[end] != '/')
            continue;
        qpath[end] = '\0';
        struct pdk_result *res;
        int rc = request(c, Q_GET_CHILDREN, qpath, NULL, &res);
        int status = CLI_OK;
        bool is_done = rc != PDK_ZOK || res->strings.count == 0;
        if (rc != PDK_ZOK && rc != PDK_ZNONODE) {
            status = cli_fail(c, rc, qpath);
        } else if (!is_done && has_limit_node(res)) {
            fprintf(c->err, "%s has a parent %s which has a quota\n", path, qpath + quota_root_len);
            status = CLI_FAILED;
            is_done = true;
        }
        pdk_result_free(res);
        qpath[end] = '/';
        if (is_done)
            return status;
    }
    return CLI_OK;
}

/* The quota directories down to qpath ("/zookeeper/quota" + path), made where missing. */
static int create_quota_dirs(struct cli *c, char *qpath)
{
    int rc = request(c, Q_EXISTS, QUOTA_ROOT, NULL, NULL);
    if (rc != PDK_ZOK && rc != PDK_ZNONODE)
        return cli_fail(c, rc, QUOTA_ROOT);
    if (rc == PDK_ZNONODE) {
        /* zkCli creates both in one go: with /zookeeper there already, it makes neither. */
        const char *node = "/zookeeper";
        rc = request(c, Q_CREATE, node, NULL, NULL);
        if (rc == PDK_ZOK) {
            node = QUOTA_ROOT;
            rc = request(c, Q_CREATE, node, NULL, NULL);
        }
        if (rc != PDK_ZOK && rc != PDK_ZNODEEXISTS)
            return cli_fail(c, rc, node);
    }
    size_t n = strlen(qpath);
    for (size_t end = quota_root_len + 1; end <= n; end++) {
        if (end < n && qpath[end] != '/')
            continue;
        char saved = qpath[end];
        qpath[end] = '\0';
        int status = create_missing(c, qpath);
        qpath[end] = saved;
        if (status != CLI_OK)
            return status;
    }
    return CLI_OK;
}

/* SetQuotaCommand.checkQuota: warns (on stdout) when a limit is below what is there. */
static void warn_below_usage(struct cli *c, const struct cli_stats *quota,
                             const struct cli_stats *stats)
{
    /* what is counted (and named so in the message), and its hard limit */
    static const char *const kinds[][2] = {{"count", "countHardLimit"}, {"bytes", "byteHardLimit"}};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        int64_t used = cli_stats_get(stats, kinds[i][0]);
        int64_t soft = cli_stats_get(quota, kinds[i][0]), hard = cli_stats_get(quota, kinds[i][1]);
        if ((soft > -1 && soft < used) || (hard > -1 && hard < used))
            fprintf(c->out,
                    "[Warning]: the %s quota you create is less than the existing %s:%" PRId64 "\n",
                    kinds[i][0], kinds[i][0], used);
    }
}

/* The limits node: made with quota's four values, or updated with the ones set (> -1). */
static int write_limits(struct cli *c, const struct quota_paths *q, const struct cli_stats *quota)
{
    char text[1024];
    struct cli_stats limit, stats;
    int rc = request(c, Q_EXISTS, q->limit, NULL, NULL);
    bool is_new = rc == PDK_ZNONODE;
    if (rc != PDK_ZOK && !is_new)
        return cli_fail(c, rc, q->limit);
    if (is_new) {
        cli_stats_format(quota, text, sizeof(text));
        if ((rc = request(c, Q_CREATE, q->limit, text, NULL)) != PDK_ZOK)
            return cli_fail(c, rc, q->limit);
        struct cli_stats zero = {0};
        cli_stats_set(&zero, "count", 0);
        cli_stats_set(&zero, "bytes", 0);
        cli_stats_format(&zero, text, sizeof(text));
        if ((rc = request(c, Q_CREATE, q->stat, text, NULL)) != PDK_ZOK)
            return cli_fail(c, rc, q->stat);
    }
    /* Read back (new) or read to update: the limits, then what the server counted. */
    int status = read_node_stats(c, q->limit, &limit);
    if (status != CLI_OK)
        return status;
    for (int i = 0; !is_new && i < quota->n; i++)
        if (quota->items[i].value > -1)
            cli_stats_set(&limit, quota->items[i].key, quota->items[i].value);
    if ((status = read_node_stats(c, q->stat, &stats)) != CLI_OK)
        return status;
    warn_below_usage(c, &limit, &stats);
    if (is_new)
        return CLI_OK;
    cli_stats_format(&limit, text, sizeof(text));
    if ((rc = request(c, Q_SET_DATA, q->limit, text, NULL)) != PDK_ZOK)
        return cli_fail(c, rc, q->limit);
    return CLI_OK;
}

/* SetQuotaCommand.createQuota. */
static int create_quota(struct cli *c, const char *path, const struct cli_stats *quota)
{
    if (cli_bad_path(c, path, false))
        return CLI_FAILED;
    int rc = request(c, Q_EXISTS, path, NULL, NULL);
    if (rc == PDK_ZNONODE) {
        fprintf(c->err, "%s does not exist.\n", path);
        return CLI_FAILED;
    }
    if (rc != PDK_ZOK)
        return cli_fail(c, rc, path);
    struct quota_paths q;
    if (!quota_paths_init(&q, path))
        return cli_fail(c, PDK_ZSYSTEMERROR, path);
    int status = check_no_child_quota(c, path, q.dir);
    if (status == CLI_OK)
        status = check_no_parent_quota(c, path, q.dir);
    if (status == CLI_OK)
        status = create_quota_dirs(c, q.dir);
    if (status == CLI_OK)
        status = write_limits(c, &q, quota);
    quota_paths_free(&q);
    return status;
}

int cmd_setquota(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc,
                 char **argv)
{
    (void)argc, (void)argv;
    /* The option group is required; commons-cli checks it after the other parse errors. */
    bool has_limit = false;
    for (int i = 0; i < N_LIMITS; i++)
        has_limit = has_limit || cli_opt_has(o, limits[i].letter);
    if (!has_limit) {
        fprintf(c->err, "org.apache.commons.cli.MissingOptionException: Missing required option: "
                        "[-n num soft quota, -b bytes soft quota, -N num hard quota, -B bytes "
                        "hard quota]\n");
        return CLI_FAILED;
    }
    if (o->nargs < 2)
        return cli_usage_error(c, cmd);
    const char *path = o->args[1];
    if (strncmp(path, QUOTA_ROOT, quota_root_len) == 0) {
        fprintf(c->err, "cannot set a quota under the path: " QUOTA_ROOT "\n");
        return CLI_OK;
    }
    struct cli_stats quota = {0};
    for (int i = 0; i < N_LIMITS; i++) {
        cli_stats_set(&quota, limits[i].key, -1);
        const char *value = o->value[(unsigned char)limits[i].letter];
        if (!value)
            continue;
        int32_t count = 0;
        int64_t bytes = 0;
        if (limits[i].is_count ? !cli_parse_int(value, &count) : !cli_parse_long(value, &bytes)) {
            fprintf(c->err, "NumberFormatException happens when parsing the option value\n");
            return CLI_OK;
        }
        if (limits[i].is_count && count <= 0) {
            fprintf(c->err, "the num quota must be greater than zero\n");
            return CLI_OK;
        }
        if (!limits[i].is_count && bytes < 0) {
            fprintf(c->err, "the bytes quota must be greater than or equal to zero\n");
            return CLI_OK;
        }
        cli_stats_set(&quota, limits[i].key, limits[i].is_count ? count : bytes);
    }
    return create_quota(c, path, &quota);
}

/* ---- listquota, delquota -------------------------------------------------------------- */

/*
 * What listquota and delquota start with: the path (args[1]) and its quota paths in *q, the
 * limits node's path checked (listquota says which it is first). CLI_OK with *q to release
 * (quota_paths_free), or the status to end with.
 */
static int quota_command_start(struct cli *c, const struct cli_cmd *cmd, const struct cli_opts *o,
                               bool is_list, struct quota_paths *q)
{
    if (o->nargs < 2)
        return cli_usage_error(c, cmd);
    if (!quota_paths_init(q, o->args[1]))
        return cli_fail(c, PDK_ZSYSTEMERROR, o->args[1]);
    if (is_list)
        fprintf(c->err, "absolute path is %s\n", q->limit);
    if (!cli_bad_path(c, q->limit, false))
        return CLI_OK;
    quota_paths_free(q);
    return CLI_FAILED;
}

int cmd_listquota(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc,
                  char **argv)
{
    (void)argc, (void)argv;
    struct quota_paths q;
    int status = quota_command_start(c, cmd, o, true, &q);
    if (status != CLI_OK)
        return status;
    const char *path = o->args[1];
    struct cli_stats limit, stats;
    status = read_stats(c, q.limit, &limit);
    if (status == CLI_OK)
        status = read_stats(c, q.stat, &stats);
    if (status == QUOTA_GONE)
        status = no_quota(c, path);
    else if (status == CLI_OK) {
        char text[1024];
        cli_stats_format(&limit, text, sizeof(text));
        fprintf(c->out, "Output quota for %s %s\n", path, text);
        cli_stats_format(&stats, text, sizeof(text));
        fprintf(c->out, "Output stat for %s %s\n", path, text);
    }
    quota_paths_free(&q);
    return status;
}

/* DelQuotaCommand.trimProcQuotas: from dir up, each quota directory left empty goes, up to
 * the quota root. dir is written to. */
static int trim_quota_dirs(struct cli *c, char *dir)
{
    while (strcmp(dir, QUOTA_ROOT) != 0) {
        if (cli_bad_path(c, dir, false))
            return CLI_FAILED;
        struct pdk_result *res;
        int rc = request(c, Q_GET_CHILDREN, dir, NULL, &res);
        bool is_empty = rc == PDK_ZOK && res->strings.count == 0;
        pdk_result_free(res);
        if (rc == PDK_ZOK && is_empty)
            rc = request(c, Q_DELETE, dir, NULL, NULL);
        if (rc != PDK_ZOK)
            return rc == PDK_ZNONODE ? QUOTA_GONE : cli_fail(c, rc, dir);
        if (!is_empty)
            return CLI_OK;
        *strrchr(dir, '/') = '\0';
    }
    return CLI_OK;
}

/* delquota without options: every node of the quota directory, then the directories left
 * empty above it. */
static int delete_quota(struct cli *c, const struct quota_paths *q)
{
    struct pdk_result *res;
    int rc = request(c, Q_GET_CHILDREN, q->dir, NULL, &res);
    if (rc != PDK_ZOK) {
        pdk_result_free(res);
        return rc == PDK_ZNONODE ? QUOTA_GONE : cli_fail(c, rc, q->dir);
    }
    int status = CLI_OK;
    for (int32_t i = 0; i < res->strings.count && status == CLI_OK; i++) {
        char *child = concat(q->dir, "/", res->strings.items[i]);
        rc = child ? request(c, Q_DELETE, child, NULL, NULL) : PDK_ZSYSTEMERROR;
        if (rc == PDK_ZNONODE)
            status = QUOTA_GONE;
        else if (rc != PDK_ZOK)
            status = cli_fail(c, rc, child ? child : q->dir);
        pd_free(child);
    }
    pdk_result_free(res);
    return status == CLI_OK ? trim_quota_dirs(c, q->dir) : status;
}

/* DelQuotaCommand.delQuota once the limits node is there: the limits named by o's options
 * taken off, or (none named) the whole quota. CLI_OK, CLI_FAILED or QUOTA_GONE. */
static int remove_limits(struct cli *c, const struct cli_opts *o, const struct quota_paths *q)
{
    /* zkCli reads and parses the limits whatever it then does. */
    struct cli_stats limit;
    int status = read_stats(c, q->limit, &limit);
    if (status != CLI_OK)
        return status;
    bool is_all = true;
    for (int i = 0; i < N_LIMITS; i++) {
        if (cli_opt_has(o, limits[i].letter)) {
            cli_stats_set(&limit, limits[i].key, -1);
            is_all = false;
        }
    }
    if (is_all)
        return delete_quota(c, q);
    char text[1024];
    cli_stats_format(&limit, text, sizeof(text));
    int rc = request(c, Q_SET_DATA, q->limit, text, NULL);
    if (rc == PDK_ZNONODE)
        return QUOTA_GONE;
    return rc == PDK_ZOK ? CLI_OK : cli_fail(c, rc, q->limit);
}

int cmd_delquota(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc,
                 char **argv)
{
    (void)argc, (void)argv;
    struct quota_paths q;
    int status = quota_command_start(c, cmd, o, false, &q);
    if (status != CLI_OK)
        return status;
    const char *path = o->args[1];
    int rc = request(c, Q_EXISTS, q.limit, NULL, NULL);
    if (rc == PDK_ZNONODE) {
        fprintf(c->out, "Quota does not exist for %s\n", path); /* stdout, and status 0 */
    } else if (rc != PDK_ZOK) {
        status = cli_fail(c, rc, q.limit);
    } else {
        status = remove_limits(c, o, &q);
        if (status == QUOTA_GONE)
            status = no_quota(c, path);
    }
    quota_paths_free(&q);
    return status;
}
