/*
 * paddock: one binary, several subcommands. `paddock server zoo.cfg` runs a
 * server in the foreground; the others are tools.
 */
#include "bench/bench.h"
#include "cli/cli.h"
#include "server/server.h"
#include "storage/logtool.h"
#include "storage/snaptool.h"
#include "storage/purgetool.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: paddock <command> [args]\n"
               "\n"
               "commands:\n"
               "  server <zoo.cfg>   run a server in the foreground (logs to stderr)\n"
               "  cli [-server host:port] [cmd args... | -]\n"
               "                     ZooKeeper's zkCli: one command, a script, or a shell\n"
               "  bench --hosts host:port [options]\n"
               "                     load generator (paddock bench --help)\n"
               "  log <file> [--json]  print a txn log file's records (never modifies it)\n"
               "  snapshot <file> [--json]\n"
               "                     print a snapshot's contents (never modifies it)\n"
               "  purge <dataLogDir> [<snapDir>] [-n count]\n"
               "                     delete all but the newest count (>= 3, default 3)\n"
               "                     snapshots and the logs they need (PurgeTxnLog)\n"
               "  version            print the version\n"
               "  help               print this help\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "server") == 0) {
        if (argc != 3) {
            fprintf(stderr, "usage: paddock server <path/to/zoo.cfg>\n");
            return 2;
        }
        return server_main(argv[2]);
    }
    if (strcmp(cmd, "cli") == 0)
        return cli_main(argc - 1, argv + 1);
    if (strcmp(cmd, "bench") == 0)
        return bench_main(argc - 1, argv + 1);
    if (strcmp(cmd, "purge") == 0)
        return purgetool_main(argc - 1, argv + 1);
    if (strcmp(cmd, "log") == 0)
        return logtool_main(argc - 1, argv + 1);
    if (strcmp(cmd, "snapshot") == 0)
        return snaptool_main(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("paddock %s (ZooKeeper %s compatible)\n", PADDOCK_VERSION, SERVER_ZK_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "paddock: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
