/*
 * zkCli's znode commands: ls, get, set, create, delete, deleteall, stat,
 * sync, getAllChildrenNumber, getEphemerals, config. One function per
 * command, each doing what org.apache.zookeeper.cli.<Name>Command does in
 * ZooKeeper 3.8.0, in the same order (so that of two problems the same one
 * is reported), with the same messages on the same stream.
 */
#include "cli/cli_int.h"

#include "common/alloc.h"
#include "common/err.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sort_names(struct pdk_strings *s)
{
    if (s->count > 1)
        qsort(s->items, (size_t)s->count, sizeof(*s->items), compare_names);
}

/* parent + "/" + child (no doubled slash under the root); owned, or NULL. */
static char *child_path(const char *parent, const char *child)
{
    size_t n = strlen(parent), m = strlen(child);
    char *p = pd_malloc(n + m + 2);
    if (!p)
        return NULL;
    memcpy(p, parent, n);
    if (n != 1)
        p[n++] = '/';
    memcpy(p + n, child, m + 1);
    return p;
}

/*
 * zkCli's retainCompatibility: "get path watch" is read as "get -w path"
 * (the third word becomes -w) after a deprecation note; delete only warns.
 */
static int retain_compat(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc,
                         char **argv, const char *note, bool is_rewritten)
{
    fprintf(c->err, "%s\n", note);
    char *copy[CLI_MAX_ARGS];
    if (argc > CLI_MAX_ARGS)
        argc = CLI_MAX_ARGS;
    memcpy(copy, argv, (size_t)argc * sizeof(*copy));
    if (is_rewritten)
        copy[2] = "-w";
    if (cli_opts_parse(o, cmd->spec, argc, copy) != 0) {
        fprintf(c->err, "%s\n", o->errmsg);
        return CLI_FAILED;
    }
    return CLI_OK;
}

/* A "-v version" option: -1 when absent. Java throws NumberFormatException
 * (and zkCli dies) on a bad number; we say what is wrong. */
static bool get_version(struct cli *c, const struct cli_opts *o, int32_t *version)
{
    *version = -1;
    if (!cli_opt_has(o, 'v'))
        return true;
    if (cli_parse_int(o->value['v'], version))
        return true;
    fprintf(c->err, "-v argument must be an int value\n");
    return false;
}

static pdk_watcher_fn watcher_if(bool watch)
{
    return watch ? pdk_global_watcher : NULL;
}

/* ---- ls ---------------------------------------------------------------------------- */

int cli_visit_children(struct cli *c, const char *path, bool watch, cli_visit_fn visit, void *ctx)
{
    struct cli_call *call = cli_call_new();
    if (!call)
        return cli_fail(c, PDK_ZSYSTEMERROR, path);
    struct pdk_result *res = NULL;
    int rc = cli_call_wait(
        c, call, pdk_get_children(c->zk, path, false, watcher_if(watch), NULL, cli_call_done, call),
        &res);
    if (rc == PDK_ZNONODE) {
        /* Listed by the parent, deleted since: skipped, as ZKUtil does. */
        pdk_result_free(res);
        return CLI_OK;
    }
    if (rc != PDK_ZOK) {
        pdk_result_free(res);
        return cli_fail(c, rc, path);
    }
    sort_names(&res->strings);
    int status = CLI_OK;
    char **paths = pd_calloc((size_t)res->strings.count + 1, sizeof(*paths));
    for (int32_t i = 0; paths && i < res->strings.count; i++) {
        paths[i] = child_path(path, res->strings.items[i]);
        if (!paths[i]) {
            status = cli_fail(c, PDK_ZSYSTEMERROR, path);
            goto out_free;
        }
    }
    if (!paths) {
        status = cli_fail(c, PDK_ZSYSTEMERROR, path);
        goto out_free;
    }
    for (int32_t i = 0; i < res->strings.count && status == CLI_OK; i++)
        status = visit(c, paths[i], ctx);
    for (int32_t i = 0; i < res->strings.count && status == CLI_OK; i++)
        status = cli_visit_children(c, paths[i], watch, visit, ctx);
out_free:
    for (int32_t i = 0; paths && i < res->strings.count; i++)
        pd_free(paths[i]);
    pd_free(paths);
    pdk_result_free(res);
    return status;
}

int cli_visit_tree(struct cli *c, const char *path, bool watch, cli_visit_fn visit, void *ctx)
{
    if (cli_bad_path(c, path, false))
        return CLI_FAILED;
    struct cli_call *call = cli_call_new();
    if (!call)
        return cli_fail(c, PDK_ZSYSTEMERROR, path);
    struct pdk_result *res = NULL;
    int status = cli_call_finish(
        c, call, pdk_get_data(c->zk, path, watcher_if(watch), NULL, cli_call_done, call), path,
        &res);
    pdk_result_free(res);
    if (status != CLI_OK)
        return status;
    status = visit(c, path, ctx);
    return status == CLI_OK ? cli_visit_children(c, path, watch, visit, ctx) : status;
}

static int print_path(struct cli *c, const char *path, void *ctx)
{
    (void)ctx;
    fprintf(c->out, "%s\n", path);
    return CLI_OK;
}

int cmd_ls(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc, char **argv)
{
    if (cli_opt_has(o, '?'))
        fprintf(c->out, "usage: ls [options] path\n -?   help\n -R   recurse\n -s   stat\n"
                        " -w   watch\n");
    if (o->nargs > 2 &&
        retain_compat(c, cmd, o, argc, argv,
                      "'ls path [watch]' has been deprecated. Please use 'ls [-w] path' instead.",
                      true) != CLI_OK)
        return CLI_FAILED;
    if (o->nargs < 2)
        return cli_usage_error(c, cmd);
    const char *path = o->args[1];
    bool watch = cli_opt_has(o, 'w'), with_stat = cli_opt_has(o, 's');
    if (cli_opt_has(o, 'R'))
        return cli_visit_tree(c, path, watch, print_path, NULL);
    if (cli_bad_path(c, path, false))
        return CLI_FAILED;
    struct cli_call *call = cli_call_new();
    if (!call)
        return cli_fail(c, PDK_ZSYSTEMERROR, path);
    struct pdk_result *res;
    int submit =
        pdk_get_children(c->zk, path, with_stat, watcher_if(watch), NULL, cli_call_done, call);
    if (cli_call_finish(c, call, submit, path, &res) != CLI_OK)
        return CLI_FAILED;
    sort_names(&res->strings);
    cli_print_list(c->out, res->strings.items, res->strings.count);
    if (with_stat && res->stat)
        cli_print_stat(c->out, res->stat);
    pdk_result_free(res);
    return CLI_OK;
}

/* ---- get, set, stat ----------------------------------------------------------------- */

int cmd_get(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc, char **argv)
{
    if (o->nargs < 2)
        return cli_usage_error(c, cmd);
    if (o->nargs > 2 && retain_compat(c, cmd, o, argc, argv,
                                      "'get path [watch]' has been deprecated. Please use 'get "
                                      "[-s] [-w] path' instead.",
                                      true) != CLI_OK)
        return CLI_FAILED;
    const char *path = o->args[1];
    if (cli_bad_path(c, path, false))
        return CLI_FAILED;
    struct cli_call *call = cli_call_new();
    if (!call)
        return cli_fail(c, PDK_ZSYSTEMERROR, path);
    struct pdk_result *res;
    int submit =
        pdk_get_data(c->zk, path, watcher_if(cli_opt_has(o, 'w')), NULL, cli_call_done, call);
    if (cli_call_finish(c, call, submit, path, &res) != CLI_OK)
        return CLI_FAILED;
    if (res->data)
        fwrite(res->data, 1, (size_t)res->data_len, c->out);
    else
        fputs("null", c->out);
    fputc('\n', c->out);
    if (cli_opt_has(o, 's') && res->stat)
        cli_print_stat(c->out, res->stat);
    pdk_result_free(res);
    return CLI_OK;
}

int cmd_set(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc, char **argv)
{
    (void)argc, (void)argv;
    if (o->nargs < 3)
        return cli_usage_error(c, cmd);
    const char *path = o->args[1], *data = o->args[2];
    int32_t version;
    if (!get_version(c, o, &version))
        return CLI_FAILED;
    if (cli_bad_path(c, path, false))
        return CLI_FAILED;
    struct cli_call *call = cli_call_new();
    if (!call)
        return cli_fail(c, PDK_ZSYSTEMERROR, path);
    struct pdk_result *res;
    int submit =
        pdk_set_data(c->zk, path, data, (int32_t)strlen(data), version, cli_call_done, call);
    if (cli_call_finish(c, call, submit, path, &res) != CLI_OK)
        return CLI_FAILED;
    if (cli_opt_has(o, 's') && res->stat)
        cli_print_stat(c->out, res->stat);
    pdk_result_free(res);
    return CLI_OK;
}

int cmd_stat(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc, char **argv)
{
    if (o->nargs < 2)
        return cli_usage_error(c, cmd);
    if (o->nargs > 2 && retain_compat(c, cmd, o, argc, argv,
                                      "'stat path [watch]' has been deprecated. Please use 'stat "
                                      "[-w] path' instead.",
                                      true) != CLI_OK)
        return CLI_FAILED;
    const char *path = o->args[1];
    if (cli_bad_path(c, path, false))
        return CLI_FAILED;
    struct cli_call *call = cli_call_new();
    if (!call)
        return cli_fail(c, PDK_ZSYSTEMERROR, path);
    struct pdk_result *res;
    int submit =
        pdk_exists(c->zk, path, watcher_if(cli_opt_has(o, 'w')), NULL, cli_call_done, call);
    if (cli_call_finish(c, call, submit, path, &res) != CLI_OK)
        return CLI_FAILED;
    if (res->stat)
        cli_print_stat(c->out, res->stat);
    pdk_result_free(res);
    return CLI_OK;
}

/* ---- create ------------------------------------------------------------------------- */

/* EphemeralType.TTL.maxValue(): the low 40 bits of an extended ephemeralOwner. */
static const int64_t TTL_MAX_MS = 0xffffffffffLL;

int cmd_create(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc, char **argv)
{
    (void)argc, (void)argv;
    if (o->nargs < 2)
        return cli_usage_error(c, cmd);
    bool has_e = cli_opt_has(o, 'e'), has_s = cli_opt_has(o, 's');
    bool has_c = cli_opt_has(o, 'c'), has_t = cli_opt_has(o, 't');
    if (has_c && (has_e || has_s)) {
        fprintf(c->err, "-c cannot be combined with -s or -e. Containers cannot be ephemeral or "
                        "sequential.\n");
        return CLI_FAILED;
    }
    int64_t ttl_ms = 0;
    if (has_t && !cli_parse_long(o->value['t'], &ttl_ms)) {
        fprintf(c->err, "-t argument must be a long value\n");
        return CLI_FAILED;
    }
    if (has_t && has_e) {
        fprintf(c->err, "TTLs cannot be used with Ephemeral znodes\n");
        return CLI_FAILED;
    }
    if (has_t && has_c) {
        fprintf(c->err, "TTLs cannot be used with Container znodes\n");
        return CLI_FAILED;
    }
    int mode;
    if (has_e)
        mode = has_s ? PDK_EPHEMERAL_SEQUENTIAL : PDK_EPHEMERAL;
    else if (has_s)
        mode = has_t ? PDK_PERSISTENT_SEQUENTIAL_WITH_TTL : PDK_PERSISTENT_SEQUENTIAL;
    else if (has_c)
        mode = PDK_CONTAINER;
    else
        mode = has_t ? PDK_PERSISTENT_WITH_TTL : PDK_PERSISTENT;
    if (has_t && (ttl_ms <= 0 || ttl_ms > TTL_MAX_MS)) {
        fprintf(c->err, "ttl must be positive and cannot be larger than: %lld\n",
                (long long)TTL_MAX_MS);
        return CLI_FAILED;
    }
    const char *path = o->args[1];
    const char *data = o->nargs > 2 ? o->args[2] : NULL;
    struct cli_acl acl = {0};
    const struct pdk_acl_list *acl_list = NULL; /* open */
    if (o->nargs > 3) {
        if (cli_acl_parse(o->args[3], c->err, &acl) != 0)
            return cli_fail(c, PDK_ZSYSTEMERROR, path);
        acl_list = &acl.list;
    }
    int status = CLI_FAILED;
    if (cli_bad_path(c, path, has_s))
        goto out_free_acl;
    if (acl_list && acl_list->count == 0) {
        /* ZooKeeper.validateACL refuses an empty list before sending anything. */
        fprintf(c->err, "KeeperErrorCode = InvalidACL\n");
        status = cli_fail(c, PDK_ZINVALIDACL, NULL);
        goto out_free_acl;
    }
    struct cli_call *call = cli_call_new();
    if (!call) {
        status = cli_fail(c, PDK_ZSYSTEMERROR, path);
        goto out_free_acl;
    }
    struct pdk_result *res = NULL;
    int rc = cli_call_wait(c, call,
                           pdk_create(c->zk, path, data, data ? (int32_t)strlen(data) : -1,
                                      acl_list, mode, ttl_ms, false, cli_call_done, call),
                           &res);
    if (rc == PDK_ZOK) {
        fprintf(c->err, "Created %s\n", res->path ? res->path : path);
        status = CLI_OK;
    } else if (rc == PDK_ZEPHEMERALONLOCALSESSION) {
        fprintf(c->err, "Unable to create ephemeral node on a local session\n");
        status = cli_fail(c, rc, path);
    } else if (rc == PDK_ZINVALIDACL) {
        fprintf(c->err, "KeeperErrorCode = InvalidACL for %s\n", path);
        status = cli_fail(c, rc, path);
    } else {
        status = cli_fail(c, rc, path);
    }
    pdk_result_free(res);
out_free_acl:
    cli_acl_free(&acl);
    return status;
}

/* ---- delete, deleteall -------------------------------------------------------------- */

int cmd_delete(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc, char **argv)
{
    if (o->nargs < 2)
        return cli_usage_error(c, cmd);
    if (o->nargs > 2 && retain_compat(c, cmd, o, argc, argv,
                                      "'delete path [version]' has been deprecated. Please use "
                                      "'delete [-v version] path' instead.",
                                      false) != CLI_OK)
        return CLI_FAILED;
    const char *path = o->args[1];
    int32_t version;
    if (!get_version(c, o, &version))
        return CLI_FAILED;
    if (cli_bad_path(c, path, false))
        return CLI_FAILED;
    struct cli_call *call = cli_call_new();
    if (!call)
        return cli_fail(c, PDK_ZSYSTEMERROR, path);
    struct pdk_result *res;
    if (cli_call_finish(c, call, pdk_delete(c->zk, path, version, cli_call_done, call), path,
                        &res) != CLI_OK)
        return CLI_FAILED;
    pdk_result_free(res);
    return CLI_OK;
}

/* A growing list of owned paths. */
struct path_list {
    char **items; /* owned, each owned */
    size_t n, cap;
};

static bool path_list_add(struct path_list *l, char *p)
{
    if (!p)
        return false;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **items = pd_realloc(l->items, cap * sizeof(*items));
        if (!items) {
            pd_free(p);
            return false;
        }
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n++] = p;
    return true;
}

static void path_list_free(struct path_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        pd_free(l->items[i]);
    pd_free(l->items);
}

/* ZKUtil.listSubTreeBFS: root first, then level by level in the server's order. */
static int list_subtree_bfs(struct cli *c, const char *root, struct path_list *tree)
{
    if (!path_list_add(tree, pd_strdup(root)))
        return cli_fail(c, PDK_ZSYSTEMERROR, root);
    for (size_t next = 0; next < tree->n; next++) {
        const char *node = tree->items[next];
        struct cli_call *call = cli_call_new();
        if (!call)
            return cli_fail(c, PDK_ZSYSTEMERROR, node);
        struct pdk_result *res;
        int submit = pdk_get_children(c->zk, node, false, NULL, NULL, cli_call_done, call);
        if (cli_call_finish(c, call, submit, node, &res) != CLI_OK)
            return CLI_FAILED;
        for (int32_t i = 0; i < res->strings.count; i++) {
            /* tree->items may move: take the parent path again each time. */
            if (!path_list_add(tree, child_path(tree->items[next], res->strings.items[i]))) {
                pdk_result_free(res);
                return cli_fail(c, PDK_ZSYSTEMERROR, root);
            }
        }
        pdk_result_free(res);
    }
    return CLI_OK;
}

int cmd_deleteall(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc,
                  char **argv)
{
    (void)argc, (void)argv;
    if (o->nargs < 2)
        return cli_usage_error(c, cmd);
    int32_t batch = 1000;
    if (cli_opt_has(o, 'b') && !cli_parse_int(o->value['b'], &batch)) {
        fprintf(c->err, "-b argument must be an int value\n");
        return CLI_FAILED;
    }
    const char *path = o->args[1];
    if (cli_bad_path(c, path, false))
        return CLI_FAILED;
    struct path_list tree = {0};
    int status = list_subtree_bfs(c, path, &tree);
    if (status != CLI_OK)
        goto out_free;
    /*
     * Leaves first: deletes from the end of the BFS list, batch at a time,
     * one multi each (a batch of 0 or less: everything in one multi, as
     * 3.8.0's ZKUtil.deleteInBatch does). zkCli keeps ten multis in flight
     * and stops sending after a failure; we send them one at a time.
     */
    struct pdk_op *ops = pd_calloc(tree.n, sizeof(*ops));
    if (!ops) {
        status = cli_fail(c, PDK_ZSYSTEMERROR, path);
        goto out_free;
    }
    size_t n_ops = 0;
    bool is_ok = true;
    for (size_t i = tree.n; i-- > 0 && is_ok;) {
        ops[n_ops++] = pdk_op_delete(tree.items[i], -1);
        if ((batch > 0 && n_ops == (size_t)batch) || i == 0) {
            struct cli_call *call = cli_call_new();
            struct pdk_result *res = NULL;
            int rc =
                call ? cli_call_wait(c, call,
                                     pdk_multi(c->zk, ops, (int)n_ops, cli_call_done, call), &res)
                     : PDK_ZSYSTEMERROR;
            pdk_result_free(res);
            is_ok = rc == PDK_ZOK;
            n_ops = 0;
        }
    }
    pd_free(ops);
    if (!is_ok) {
        fprintf(c->err, "Failed to delete some node(s) in the subtree!\n");
        status = CLI_FAILED;
    }
out_free:
    path_list_free(&tree);
    return status;
}

/* ---- sync, getAllChildrenNumber, getEphemerals, config ------------------------------ */

int cmd_sync(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc, char **argv)
{
    (void)argc, (void)argv;
    if (o->nargs < 2)
        return cli_usage_error(c, cmd);
    const char *path = o->args[1];
    if (cli_bad_path(c, path, false))
        return CLI_FAILED;
    struct cli_call *call = cli_call_new();
    if (!call)
        return cli_fail(c, PDK_ZSYSTEMERROR, path);
    struct pdk_result *res = NULL;
    int rc = cli_call_wait(c, call, pdk_sync(c->zk, path, cli_call_done, call), &res);
    pdk_result_free(res);
    /* zkCli reports the result code on stdout either way. */
    if (rc == PDK_ZOK) {
        fprintf(c->out, "Sync is OK\n");
        return CLI_OK;
    }
    fprintf(c->out, "Sync has failed. rc=%d\n", rc);
    return CLI_FAILED;
}

int cmd_get_all_children_number(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o,
                                int argc, char **argv)
{
    (void)argc, (void)argv;
    if (o->nargs < 2)
        return cli_usage_error(c, cmd);
    const char *path = o->args[1];
    if (cli_bad_path(c, path, false))
        return CLI_FAILED;
    struct cli_call *call = cli_call_new();
    if (!call)
        return cli_fail(c, PDK_ZSYSTEMERROR, path);
    struct pdk_result *res;
    int submit = pdk_get_all_children_number(c->zk, path, cli_call_done, call);
    if (cli_call_finish(c, call, submit, path, &res) != CLI_OK)
        return CLI_FAILED;
    fprintf(c->out, "%d\n", res->number);
    pdk_result_free(res);
    return CLI_OK;
}

int cmd_get_ephemerals(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc,
                       char **argv)
{
    (void)cmd, (void)argc, (void)argv;
    /* No path: every ephemeral of the session (ZooKeeper.getEphemerals() asks for "/"). */
    const char *path = o->nargs < 2 ? "/" : o->args[1];
    if (cli_bad_path(c, path, false))
        return CLI_FAILED;
    struct cli_call *call = cli_call_new();
    if (!call)
        return cli_fail(c, PDK_ZSYSTEMERROR, path);
    struct pdk_result *res;
    int submit = pdk_get_ephemerals(c->zk, path, cli_call_done, call);
    if (cli_call_finish(c, call, submit, path, &res) != CLI_OK)
        return CLI_FAILED;
    cli_print_list(c->out, res->strings.items, res->strings.count);
    pdk_result_free(res);
    return CLI_OK;
}

int cmd_config(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc, char **argv)
{
    (void)cmd, (void)argc, (void)argv;
    static const char config_node[] = "/zookeeper/config";
    struct cli_call *call = cli_call_new();
    if (!call)
        return cli_fail(c, PDK_ZSYSTEMERROR, config_node);
    struct pdk_result *res;
    int submit = pdk_get_config(c->zk, watcher_if(cli_opt_has(o, 'w')), NULL, cli_call_done, call);
    if (cli_call_finish(c, call, submit, config_node, &res) != CLI_OK)
        return CLI_FAILED;
    const char *data = res->data ? res->data : "null";
    int32_t len = res->data ? res->data_len : 4;
    if (cli_opt_has(o, 'c')) {
        char line[1200];
        cli_client_config(data, len, line, sizeof(line));
        fprintf(c->out, "%s\n", line);
    } else {
        fwrite(data, 1, (size_t)len, c->out);
        fputc('\n', c->out);
    }
    if (cli_opt_has(o, 's') && res->stat)
        cli_print_stat(c->out, res->stat);
    pdk_result_free(res);
    return CLI_OK;
}

/* ---- reconfig --------------------------------------------------------------------------- */

/* reconfig's options, as ReconfigCommand declares them (commons-cli, PosixParser). */
enum { RC_S, RC_V, RC_FILE, RC_MEMBERS, RC_ADD, RC_REMOVE, RC_N };
static const char *const reconfig_opts[RC_N] = {"s", "v", "file", "members", "add", "remove"};

static char *lower_dup(const char *s)
{
    char *d = pd_strdup(s);
    for (char *p = d; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return d;
}

/*
 * The membership of a dynamic config file for -file: its server.N lines, one per line, as
 * given (Apache normalises them through QuorumPeerConfig; the servers check them anyway).
 * Owned string, or NULL with errno set.
 */
static char *read_members(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *out = NULL, line[4096];
    size_t len = 0;
    bool is_oom = false;
    while (!is_oom && fgets(line, sizeof(line), f)) {
        char *t = line + strspn(line, " \t");
        t[strcspn(t, "\r\n")] = 0;
        if (strncmp(t, "server.", 7) != 0)
            continue;
        size_t n = strlen(t);
        char *p = pd_realloc(out, len + n + 2);
        if (!p) {
            is_oom = true;
            break;
        }
        out = p;
        if (len)
            out[len++] = '\n';
        memcpy(out + len, t, n + 1);
        len += n;
    }
    fclose(f);
    if (is_oom) {
        pd_free(out);
        errno = ENOMEM;
        return NULL;
    }
    return out ? out : pd_strdup("");
}

int cmd_reconfig(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc,
                 char **argv)
{
    (void)o; /* parsed here: reconfig's options are words (-add), not letters */
    const char *val[RC_N] = {0};
    for (int i = 1; i < argc; i++) {
        const char *t = argv[i];
        if (t[0] != '-' || !t[1])
            continue; /* commons-cli keeps it as an argument; reconfig uses none */
        int k = 0;
        while (k < RC_N && strcmp(t + 1, reconfig_opts[k]) != 0)
            k++;
        if (k == RC_N) {
            /* PosixParser bursts an unknown token into letters: the first one is refused. */
            fprintf(c->err,
                    "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: "
                    "-%c\n",
                    t[1]);
            return CLI_FAILED;
        }
        if (k == RC_S) {
            val[k] = "";
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(c->err,
                    "org.apache.commons.cli.MissingArgumentException: Missing argument for "
                    "option: %s\n",
                    reconfig_opts[k]);
            return CLI_FAILED;
        }
        if (!val[k])
            val[k] = argv[i + 1];
        i++;
    }
    bool is_bulk = val[RC_FILE] || val[RC_MEMBERS];
    bool is_incremental = val[RC_ADD] || val[RC_REMOVE];
    if (!is_bulk && !is_incremental)
        return cli_usage_error(c, cmd);
    int64_t version = -1;
    if (val[RC_V]) {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(val[RC_V], &end, 16);
        if (!*val[RC_V] || *end || errno || isspace((unsigned char)val[RC_V][0])) {
            fprintf(c->err, "-v must be followed by a long (configuration version)\n");
            return CLI_FAILED;
        }
        version = v;
    }
    if (is_bulk && is_incremental) {
        fprintf(c->err, "Can't use -file or -members together with -add or -remove (mixing "
                        "incremental and non-incremental modes is not allowed)\n");
        return CLI_FAILED;
    }
    if (val[RC_FILE] && val[RC_MEMBERS]) {
        fprintf(c->err,
                "Can't use -file and -members together (conflicting non-incremental modes)\n");
        return CLI_FAILED;
    }
    char *joining = val[RC_ADD] ? lower_dup(val[RC_ADD]) : NULL;
    char *leaving = val[RC_REMOVE] ? lower_dup(val[RC_REMOVE]) : NULL;
    char *members = val[RC_MEMBERS] ? lower_dup(val[RC_MEMBERS]) : NULL;
    if (val[RC_FILE]) {
        members = read_members(val[RC_FILE]);
        if (!members)
            fprintf(c->err, "Error processing %s%s (%s)\n", val[RC_FILE], val[RC_FILE],
                    errno == ENOENT ? "No such file or directory" : strerror(errno));
    }
    int status = CLI_FAILED;
    struct cli_call *call = NULL;
    if ((val[RC_ADD] && !joining) || (val[RC_REMOVE] && !leaving) || (is_bulk && !members))
        goto out;
    call = cli_call_new();
    if (!call) {
        cli_fail(c, PDK_ZSYSTEMERROR, NULL);
        goto out;
    }
    struct pdk_result *res;
    int submit = pdk_reconfig(c->zk, joining, leaving, members, version, cli_call_done, call);
    if (cli_call_finish(c, call, submit, NULL, &res) != CLI_OK)
        goto out;
    fprintf(c->out, "Committed new configuration:\n");
    if (res->data)
        fwrite(res->data, 1, (size_t)res->data_len, c->out);
    else
        fputs("null", c->out);
    fputc('\n', c->out);
    if (val[RC_S] && res->stat)
        cli_print_stat(c->out, res->stat);
    pdk_result_free(res);
    status = CLI_OK;
out:
    pd_free(joining);
    pd_free(leaving);
    pd_free(members);
    return status;
}
