/*
 * paddock cli: a command-line client with the commands, flags and output of
 * Apache ZooKeeper's zkCli (org.apache.zookeeper.ZooKeeperMain, 3.8), built
 * on libpaddock (include/paddock/client.h).
 *
 *   paddock cli [-server host:port[,...][/chroot]] [-timeout ms] [-r]
 *               [-waitforconnection] [cmd args... | -]
 *
 * Modes: with a command, runs it and exits; with `-`, runs one command per
 * line of standard input; with neither, an interactive shell when standard
 * input is a terminal (libedit: line editing, history, completion of
 * commands and znode paths), else like `-`.
 *
 * Exit status: 0 when every command succeeded; 1 when a command failed
 * (any error message: ZooKeeper error, bad arguments, not connected);
 * 127 when a command does not exist (as zkCli); 2 for a bad invocation of
 * `paddock cli` itself. With `-` every line is run (a failure does not stop
 * the script, as in zkCli) and the status is the last failing command's.
 * In the interactive shell it is the last command's status, as in zkCli.
 */
#ifndef PD_CLI_CLI_H
#define PD_CLI_CLI_H

/* Runs `paddock cli`; argv[0] is "cli". Returns the exit status above. */
int cli_main(int argc, char **argv);

#endif
