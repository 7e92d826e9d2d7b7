/*
 * `paddock cli`: the invocation (ZooKeeperMain.MyCommandOptions.parseOptions:
 * options first, the first word that is not one starts the command) and
 * the three modes described in cli.h.
 */
#include "cli/cli.h"
#include "cli/cli_int.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: paddock cli [-server host:port[,host:port...][/chroot]] [-timeout ms] [-r]\n"
               "                   [-waitforconnection] [cmd args... | -]\n"
               "\n"
               "  cmd args...  run one command and exit (0: it succeeded, 1: it failed,\n"
               "               127: no such command, 2: bad invocation)\n"
               "  -            run the commands on standard input, one per line; every line\n"
               "               runs; exit 0 if all succeeded, else the last failure's status\n"
               "  (neither)    an interactive shell (line editing, history, completion)\n"
               "\n"
               "Defaults: -server localhost:2181 -timeout 30000. Type `help` for commands.\n");
}

/* Reads commands from in, one per line, until EOF or `quit`. */
static int run_script(struct cli *c, FILE *in)
{
    fprintf(c->out, "Welcome to ZooKeeper!\nJLine support is disabled\n");
    int status = CLI_OK;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while (!c->is_quit && (n = getline(&line, &cap, in)) >= 0) {
        /* BufferedReader.readLine: the line ends at \n, \r\n or \r. */
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        int s = cli_execute_line(c, line);
        if (s != CLI_OK)
            status = s;
    }
    free(line);
    return status;
}

int cli_main(int argc, char **argv)
{
    const char *server = "localhost:2181";
    struct cli c = {
        .timeout_ms = 30000,
        .is_print_watches = true,
        .out = stdout,
        .err = stderr,
    };
    bool is_script = false;
    int cmd_at = -1;
    for (int i = 1; i < argc && cmd_at < 0; i++) {
        const char *opt = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(opt, "-server") == 0 || strcmp(opt, "-timeout") == 0 ||
            strcmp(opt, "-client-configuration") == 0) {
            if (!has_value) {
                fprintf(stderr, "Error: no argument found for option %s\n", opt);
                return CLI_BAD_INVOCATION;
            }
            const char *value = argv[++i];
            if (strcmp(opt, "-server") == 0) {
                server = value;
            } else if (strcmp(opt, "-timeout") == 0) {
                int32_t ms;
                if (!cli_parse_int(value, &ms) || ms <= 0) {
                    fprintf(stderr, "Error: -timeout wants milliseconds, not '%s'\n", value);
                    return CLI_BAD_INVOCATION;
                }
                c.timeout_ms = ms;
            } else {
                fprintf(stderr, "Error: -client-configuration is not supported\n");
                return CLI_BAD_INVOCATION;
            }
        } else if (strcmp(opt, "-r") == 0) {
            c.is_read_only = true;
        } else if (strcmp(opt, "-waitforconnection") == 0) {
            c.is_wait_for_connection = true;
        } else if (strcmp(opt, "-") == 0) {
            is_script = true;
        } else if (strcmp(opt, "-h") == 0 || strcmp(opt, "-help") == 0 ||
                   strcmp(opt, "--help") == 0) {
            usage(stdout);
            return CLI_OK;
        } else if (opt[0] == '-') {
            fprintf(stderr, "Error: unknown option %s\n", opt);
            usage(stderr);
            return CLI_BAD_INVOCATION;
        } else {
            cmd_at = i;
        }
    }
    if (cmd_at >= 0 && is_script) {
        fprintf(stderr, "Error: give a command or -, not both\n");
        return CLI_BAD_INVOCATION;
    }
    /* Results and errors interleave as they happen, even through pipes. */
    setvbuf(stdout, NULL, _IOLBF, 0);

    fprintf(c.out, "Connecting to %s\n", server);
    int rc = cli_connect(&c, server);
    if (rc != PDK_ZOK)
        cli_fail(&c, rc, NULL);
    int status;
    if (cmd_at >= 0)
        status = cli_execute(&c, argc - cmd_at, argv + cmd_at);
    else if (is_script || !isatty(STDIN_FILENO))
        status = run_script(&c, stdin);
    else
        status = cli_interactive(&c);
    cli_release(&c);
    fflush(stdout);
    fflush(stderr);
    return status;
}
