/*
 * `paddock snapshot <file> [--json]`: the snapshot inspection tool (snaptool.c).
 */
#ifndef PD_STORAGE_SNAPTOOL_H
#define PD_STORAGE_SNAPTOOL_H

/*
 * Runs the tool; argv[0] is the subcommand's name ("snapshot"), argv[1..]
 * its arguments. Prints to stdout (errors to stderr) and returns the exit
 * status: 0 the snapshot is valid (checksums verified, digest not
 * contradicted), 1 it is corrupt, truncated, or its digest does not match
 * its nodes, 2 usage or I/O error.
 */
int snaptool_main(int argc, char **argv);

#endif
