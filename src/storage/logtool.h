/*
 * `paddock log <file> [--json]`: the txn log inspection tool (logtool.c).
 */
#ifndef PD_STORAGE_LOGTOOL_H
#define PD_STORAGE_LOGTOOL_H

/*
 * Runs the tool; argv[0] is the subcommand's name ("log"), argv[1..] its
 * arguments. Prints to stdout (errors to stderr) and returns the exit
 * status: 0 read to the end (a torn tail is reported), 1 corrupt file or
 * a payload that is not a txn, 2 usage or I/O error.
 */
int logtool_main(int argc, char **argv);

#endif
