/*
 * zkCli's access commands: getAcl, setAcl, addauth, whoami; and the watch
 * commands addWatch and removewatches. As org.apache.zookeeper.cli's
 * GetAclCommand, SetAclCommand, AddAuthCommand, WhoAmICommand,
 * AddWatchCommand and RemoveWatchesCommand in ZooKeeper 3.8.0.
 */
#include "cli/cli_int.h"

#include "common/alloc.h"

#include <string.h>
#include <strings.h>

int cmd_get_acl(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc, char **argv)
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
    if (cli_call_finish(c, call, pdk_get_acl(c->zk, path, cli_call_done, call), path, &res) !=
        CLI_OK)
        return CLI_FAILED;
    for (int32_t i = 0; i < res->acl.count; i++)
        cli_print_acl(c->out, &res->acl.items[i]);
    if (cli_opt_has(o, 's') && res->stat)
        cli_print_stat(c->out, res->stat);
    pdk_result_free(res);
    return CLI_OK;
}

/* setAcl -R: one setACL per node visited. */
struct set_acl_walk {
    const struct pdk_acl_list *acl; /* borrowed */
    int32_t version;
    bool has_failed;
};

static int set_acl_one(struct cli *c, const char *path, void *ctx)
{
    struct set_acl_walk *w = ctx;
    int rc = PDK_ZINVALIDACL; /* an empty list is refused before sending */
    if (w->acl->count > 0) {
        struct cli_call *call = cli_call_new();
        struct pdk_result *res = NULL;
        rc = call ? cli_call_wait(c, call,
                                  pdk_set_acl(c->zk, path, w->acl, w->version, cli_call_done, call),
                                  &res)
                  : PDK_ZSYSTEMERROR;
        pdk_result_free(res);
    }
    if (rc == PDK_ZOK)
        return CLI_OK;
    /* zkCli prints the KeeperException's message on stdout, and no newline after
     * it; we end the line. */
    char msg[512];
    if (w->acl->count > 0)
        snprintf(msg, sizeof(msg), "KeeperErrorCode = %s for %s", cli_code_message(rc), path);
    else
        snprintf(msg, sizeof(msg), "KeeperErrorCode = %s", cli_code_message(rc));
    fprintf(c->out, "%s\n", msg);
    w->has_failed = true;
    return CLI_OK; /* zkCli goes on with the next node */
}

int cmd_set_acl(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc, char **argv)
{
    (void)argc, (void)argv;
    if (o->nargs < 3)
        return cli_usage_error(c, cmd);
    const char *path = o->args[1];
    struct cli_acl acl;
    if (cli_acl_parse(o->args[2], c->err, &acl) != 0)
        return cli_fail(c, PDK_ZSYSTEMERROR, path);
    int status = CLI_FAILED;
    int32_t version = -1;
    if (cli_opt_has(o, 'v') && !cli_parse_int(o->value['v'], &version)) {
        fprintf(c->err, "-v argument must be an int value\n");
        goto out_free;
    }
    if (cli_opt_has(o, 'R')) {
        struct set_acl_walk w = {.acl = &acl.list, .version = version};
        status = cli_visit_tree(c, path, false, set_acl_one, &w);
        if (status == CLI_OK && w.has_failed)
            status = CLI_FAILED;
        goto out_free;
    }
    if (cli_bad_path(c, path, false))
        goto out_free;
    if (acl.list.count == 0) {
        status = cli_fail(c, PDK_ZINVALIDACL, NULL);
        goto out_free;
    }
    struct cli_call *call = cli_call_new();
    if (!call) {
        status = cli_fail(c, PDK_ZSYSTEMERROR, path);
        goto out_free;
    }
    struct pdk_result *res = NULL;
    int rc = cli_call_wait(c, call,
                           pdk_set_acl(c->zk, path, &acl.list, version, cli_call_done, call), &res);
    if (rc != PDK_ZOK) {
        status = cli_fail(c, rc, path);
    } else {
        if (cli_opt_has(o, 's') && res->stat)
            cli_print_stat(c->out, res->stat);
        status = CLI_OK;
    }
    pdk_result_free(res);
out_free:
    cli_acl_free(&acl);
    return status;
}

int cmd_addauth(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc, char **argv)
{
    (void)argc, (void)argv;
    if (o->nargs < 2)
        return cli_usage_error(c, cmd);
    const char *scheme = o->args[1];
    /* Without one, zkCli sends a null credential (which the digest scheme refuses). */
    const char *auth = o->nargs > 2 ? o->args[2] : NULL;
    /*
     * zkCli does not wait for the answer (ZooKeeper.addAuthInfo is
     * asynchronous); we do, so that a one-shot `addauth` reaches the server
     * and a refused credential (the AuthFailed event) fails the command.
     */
    struct cli_call *call = cli_call_new();
    if (!call)
        return cli_fail(c, PDK_ZSYSTEMERROR, NULL);
    struct pdk_result *res = NULL;
    int rc = cli_call_wait(
        c, call,
        pdk_add_auth(c->zk, scheme, auth, auth ? (int32_t)strlen(auth) : -1, cli_call_done, call),
        &res);
    pdk_result_free(res);
    if (rc == PDK_ZOK)
        return CLI_OK;
    if (rc == PDK_ZAUTHFAILED)
        return CLI_FAILED; /* the AuthFailed event said it */
    return cli_fail(c, rc, NULL);
}

int cmd_whoami(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc, char **argv)
{
    (void)cmd, (void)o, (void)argc, (void)argv;
    struct cli_call *call = cli_call_new();
    if (!call)
        return cli_fail(c, PDK_ZSYSTEMERROR, NULL);
    struct pdk_result *res = NULL;
    if (cli_call_finish(c, call, pdk_who_am_i(c->zk, cli_call_done, call), NULL, &res) != CLI_OK)
        return CLI_FAILED;
    fprintf(c->out, "Auth scheme: User\n");
    for (int32_t i = 0; i < res->n_infos; i++)
        fprintf(c->out, "%s: %s\n", res->infos[i].scheme, res->infos[i].user);
    pdk_result_free(res);
    return CLI_OK;
}

/* ---- watches -------------------------------------------------------------------------- */

int cmd_add_watch(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc,
                  char **argv)
{
    (void)argc, (void)argv;
    if (o->nargs != 2)
        return cli_usage_error(c, cmd);
    int mode = PDK_ADD_WATCH_PERSISTENT_RECURSIVE;
    if (cli_opt_has(o, 'm')) {
        /* AddWatchMode.valueOf(value.toUpperCase()) */
        if (strcasecmp(o->value['m'], "PERSISTENT") == 0)
            mode = PDK_ADD_WATCH_PERSISTENT;
        else if (strcasecmp(o->value['m'], "PERSISTENT_RECURSIVE") == 0)
            mode = PDK_ADD_WATCH_PERSISTENT_RECURSIVE;
        else
            return cli_usage_error(c, cmd);
    }
    const char *path = o->args[1];
    if (cli_bad_path(c, path, false))
        return CLI_FAILED;
    struct cli_call *call = cli_call_new();
    if (!call)
        return cli_fail(c, PDK_ZSYSTEMERROR, path);
    struct pdk_result *res = NULL;
    int rc = cli_call_wait(
        c, call, pdk_add_watch(c->zk, path, mode, pdk_global_watcher, NULL, cli_call_done, call),
        &res);
    pdk_result_free(res);
    return rc == PDK_ZOK ? CLI_OK : cli_fail(c, rc, path);
}

int cmd_remove_watches(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc,
                       char **argv)
{
    (void)argc, (void)argv;
    if (o->nargs < 2)
        return cli_usage_error(c, cmd);
    int type = PDK_WATCH_ANY;
    if (cli_opt_has(o, 'c'))
        type = PDK_WATCH_CHILDREN;
    else if (cli_opt_has(o, 'd'))
        type = PDK_WATCH_DATA;
    /* -l: removed here too when the server fails or cannot be reached */
    bool local = cli_opt_has(o, 'l');
    const char *path = o->args[1];
    if (cli_bad_path(c, path, false))
        return CLI_FAILED;
    struct cli_call *call = cli_call_new();
    if (!call)
        return cli_fail(c, PDK_ZSYSTEMERROR, path);
    struct pdk_result *res = NULL;
    int rc = cli_call_wait(
        c, call,
        pdk_remove_watches_local(c->zk, path, type, NULL, NULL, local, cli_call_done, call), &res);
    pdk_result_free(res);
    return rc == PDK_ZOK ? CLI_OK : cli_fail(c, rc, path);
}
