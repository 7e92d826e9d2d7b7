/*
 * The command table and zkCli's dispatch (ZooKeeperMain.processZKCmd):
 *
 *   unknown name   -> usage, "Command not found: ..." (status 127)
 *   quit           -> close the session, stop
 *   redo n         -> run history line n again (not a redo)
 *   history        -> the last eleven lines with their numbers
 *   printwatches   -> show or set whether events are printed
 *   connect [h]    -> a new session to h (or the same host)
 *   then, for every command, shell ones included: "Not connected" when
 *   there is no live session; else the table's command: options parsed
 *   (commons-cli rules), then its function.
 *
 * Messages go where zkCli sends them: results to c->out, errors, usage and
 * "Created" to c->err.
 */
#include "cli/cli_int.h"

#include "common/alloc.h"
#include "common/err.h"

#include <string.h>

#ifndef PADDOCK_VERSION
#define PADDOCK_VERSION "unknown"
#endif

int cmd_close(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc, char **argv)
{
    (void)cmd, (void)o, (void)argc, (void)argv;
    cli_close(c);
    return CLI_OK;
}

int cmd_version(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc, char **argv)
{
    (void)argc, (void)argv;
    if (o->nargs > 1)
        return cli_usage_error(c, cmd);
    fprintf(c->out, "ZooKeeper CLI version: paddock %s\n", PADDOCK_VERSION);
    return CLI_OK;
}

/* The commands that need a session. spec NULL: no letter options (whoami, close; reconfig
 * parses its word options itself). */
static const struct cli_cmd commands[] = {
    {"addWatch", "m:",
     "[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is "
     "PERSISTENT_RECURSIVE",
     cmd_add_watch},
    {"addauth", "", "scheme auth", cmd_addauth},
    {"close", NULL, "", cmd_close},
    {"config", "cws", "[-c] [-w] [-s]", cmd_config},
    {"create", "esct:", "[-s] [-e] [-c] [-t ttl] path [data] [acl]", cmd_create},
    {"delete", "v:", "[-v version] path", cmd_delete},
    {"deleteall", "b:", "path [-b batch size]", cmd_deleteall},
    {"delquota", "(nbNB)", "[-n|-b|-N|-B] path", cmd_delquota},
    {"get", "sw", "[-s] [-w] path", cmd_get},
    {"getAcl", "s", "[-s] path", cmd_get_acl},
    {"getAllChildrenNumber", "", "path", cmd_get_all_children_number},
    {"getEphemerals", "", "path", cmd_get_ephemerals},
    {"listquota", "", "path", cmd_listquota},
    {"ls", "?swR", "[-s] [-w] [-R] path", cmd_ls},
    {"reconfig", NULL,
     "[-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | "
     "[-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]",
     cmd_reconfig},
    {"removewatches", "cdal", "path [-c|-d|-a] [-l]", cmd_remove_watches},
    {"set", "sv:", "[-s] [-v version] path data", cmd_set},
    {"setAcl", "sv:R", "[-s] [-v version] [-R] path acl", cmd_set_acl},
    {"setquota", "(n:b:N:B:)", "-n|-b|-N|-B val path", cmd_setquota},
    {"stat", "w", "[-w] path", cmd_stat},
    {"sync", "", "path", cmd_sync},
    {"version", "", "", cmd_version},
    {"whoami", NULL, "", cmd_whoami},
};

/* The shell's own commands, with the option strings zkCli lists for them. */
static const struct {
    const char *name;
    const char *usage;
} shell_commands[] = {
    {"connect", "host:port"},   {"help", ""}, {"history", ""},
    {"printwatches", "on|off"}, {"quit", ""}, {"redo", "cmdno"},
};

const char *const cli_command_names[] = {
    "addWatch",      "addauth",   "close",    "config",        "connect", "create",
    "delete",        "deleteall", "delquota", "get",           "getAcl",  "getAllChildrenNumber",
    "getEphemerals", "help",      "history",  "listquota",     "ls",      "printwatches",
    "quit",          "reconfig",  "redo",     "removewatches", "set",     "setAcl",
    "setquota",      "stat",      "sync",     "version",       "whoami",  NULL,
};

static const struct cli_cmd *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static const char *shell_usage(const char *name)
{
    for (size_t i = 0; i < sizeof(shell_commands) / sizeof(shell_commands[0]); i++)
        if (strcmp(shell_commands[i].name, name) == 0)
            return shell_commands[i].usage;
    return NULL;
}

void cli_print_usage(struct cli *c, FILE *f)
{
    (void)c;
    fprintf(f, "ZooKeeper -server host:port -client-configuration properties-file cmd args\n");
    for (int i = 0; cli_command_names[i]; i++) {
        const char *name = cli_command_names[i];
        if (strcmp(name, "help") == 0)
            continue; /* ours: zkCli has no help (it prints this for any unknown word) */
        const struct cli_cmd *cmd = find_command(name);
        fprintf(f, "\t%s %s\n", name, cmd ? cmd->usage : shell_usage(name));
    }
}

int cli_usage_error(struct cli *c, const struct cli_cmd *cmd)
{
    fprintf(c->err, "%s %s\n", cmd->name, cmd->usage);
    return CLI_FAILED;
}

int cli_fail(struct cli *c, int rc, const char *path)
{
    char msg[512];
    if (rc == PDK_ZSYSTEMERROR && !cli_is_alive(c))
        rc = PDK_ZCONNECTIONLOSS;
    cli_error_message(rc, path, msg, sizeof(msg));
    fprintf(c->err, "%s\n", msg);
    return CLI_FAILED;
}

bool cli_bad_path(struct cli *c, const char *path, bool is_sequential)
{
    char msg[512];
    const char *error = cli_path_error(path, is_sequential, msg, sizeof(msg));
    if (!error)
        return false;
    fprintf(c->err, "%s\n", error);
    return true;
}

/* ---- history ------------------------------------------------------------------------ */

/* history[i] = a copy of line (the slot is replaced when it exists). */
static int history_put(struct cli *c, int i, const char *line)
{
    char *copy = pd_strdup(line);
    if (!copy)
        return PD_ENOMEM;
    if (i >= c->n_history) {
        char **h = pd_realloc(c->history, (size_t)(i + 1) * sizeof(*h));
        if (!h) {
            pd_free(copy);
            return PD_ENOMEM;
        }
        for (int k = c->n_history; k <= i; k++)
            h[k] = NULL;
        c->history = h;
        c->n_history = i + 1;
    }
    pd_free(c->history[i]);
    c->history[i] = copy;
    return 0;
}

static void print_history(struct cli *c)
{
    for (int i = c->command_count - 10; i <= c->command_count; i++) {
        if (i < 0)
            continue;
        const char *line = i < c->n_history ? c->history[i] : NULL;
        fprintf(c->out, "%d - %s\n", i, line ? line : "null");
    }
}

static int redo(struct cli *c, const char *arg)
{
    int32_t i;
    /* Integer.decode; zkCli dies on a word that is no number, we say it is out of range. */
    if (!cli_decode_int(arg, &i) || i < 0 || i >= c->command_count || i >= c->n_history ||
        !c->history[i]) {
        fprintf(c->err, "Command index out of range\n");
        return CLI_FAILED;
    }
    struct cli_argv a;
    if (cli_tokenize(c->history[i], &a) != 0)
        return cli_fail(c, PDK_ZSYSTEMERROR, NULL);
    int status;
    if (a.argc == 0 || strcmp(a.argv[0], "redo") == 0) {
        fprintf(c->err, "No redoing redos\n");
        status = CLI_FAILED;
    } else if (history_put(c, c->command_count, c->history[i]) != 0) {
        status = cli_fail(c, PDK_ZSYSTEMERROR, NULL);
    } else {
        status = cli_execute(c, a.argc, a.argv);
    }
    cli_argv_free(&a);
    return status;
}

/* ---- dispatch ----------------------------------------------------------------------- */

static bool is_shell_command(const char *name)
{
    return shell_usage(name) != NULL;
}

int cli_execute(struct cli *c, int argc, char **argv)
{
    if (argc < 1)
        return CLI_OK;
    const char *name = argv[0];
    const struct cli_cmd *cmd = find_command(name);
    if (!cmd && !is_shell_command(name)) {
        cli_print_usage(c, c->err);
        fprintf(c->err, "Command not found: Command not found %s\n", name);
        return CLI_NOT_FOUND;
    }
    int status = CLI_OK;
    if (strcmp(name, "quit") == 0) {
        /* zkCli's JVM exits before its event thread prints Closed, mostly. */
        c->is_print_watches = false;
        cli_close(c);
        c->is_quit = true;
        return CLI_OK;
    } else if (strcmp(name, "help") == 0) {
        cli_print_usage(c, c->out);
        return CLI_OK;
    } else if (strcmp(name, "redo") == 0) {
        if (argc >= 2)
            status = redo(c, argv[1]);
    } else if (strcmp(name, "history") == 0) {
        print_history(c);
    } else if (strcmp(name, "printwatches") == 0) {
        if (argc == 1)
            fprintf(c->out, "printwatches is %s\n", c->is_print_watches ? "on" : "off");
        else
            c->is_print_watches = strcmp(argv[1], "on") == 0;
    } else if (strcmp(name, "connect") == 0) {
        const char *host = argc >= 2 ? argv[1] : c->host;
        int rc = host ? cli_connect(c, host) : PDK_ZBADARGUMENTS;
        if (rc != PDK_ZOK)
            status = cli_fail(c, rc, NULL);
    }
    /* zkCli checks the session after its own commands too. */
    if (!cli_is_alive(c)) {
        fprintf(c->out, "Not connected\n");
        return cmd ? CLI_FAILED : status;
    }
    if (!cmd)
        return status;
    struct cli_opts o;
    if (cmd->spec) {
        if (cli_opts_parse(&o, cmd->spec, argc, argv) != 0) {
            fprintf(c->err, "%s\n", o.errmsg);
            return CLI_FAILED;
        }
    } else {
        cli_opts_parse(&o, "", 0, argv);
    }
    return cmd->run(c, cmd, &o, argc, argv);
}

int cli_execute_line(struct cli *c, const char *line)
{
    /* zkCli takes a blank line for the previous command again; we skip it. */
    if (line[strspn(line, " \t\r\n\f\v")] == '\0')
        return CLI_OK;
    struct cli_argv a;
    if (cli_tokenize(line, &a) != 0 || history_put(c, c->command_count, line) != 0) {
        fprintf(c->err, "out of memory\n");
        return CLI_FAILED;
    }
    int status = cli_execute(c, a.argc, a.argv);
    cli_argv_free(&a);
    c->command_count++;
    fflush(c->out);
    fflush(c->err);
    return status;
}
