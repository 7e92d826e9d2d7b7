/*
 * `paddock purge <dataLogDir> [<snapDir>] [-n count]`: the purge tool
 * (purgetool.c), Apache ZooKeeper's PurgeTxnLog / zkCleanup.sh for Paddock.
 */
#ifndef PD_STORAGE_PURGETOOL_H
#define PD_STORAGE_PURGETOOL_H

/*
 * Runs the tool; argv[0] is the subcommand's name ("purge"), argv[1..] its
 * arguments. Prints each file it removes to stdout (errors to stderr) and
 * returns the exit status: 0 done, 1 refused or failed, 2 usage.
 */
int purgetool_main(int argc, char **argv);

#endif
