/*
 * What the files of src/cli share. Not installed; the entry point is cli.h.
 *
 * Files: parse.c (command-line tokenizer and option parser, pure), format.c
 * (stat, dates, ACLs, paths, quota data and error messages as zkCli prints
 * them, pure), session.c (the connection, waiting for replies, printing
 * watch events), cmd_node.c cmd_acl.c cmd_quota.c (one function per zkCli
 * command), shell.c (the command table, dispatch, history, redo),
 * interactive.c (libedit line editing and completion), main.c (cli_main and
 * modes).
 *
 * parse.c and format.c read no clock except the time zone, do no I/O but
 * to the FILE they are given, and link only libc and pd_common (the
 * pd_cli_core library), so unit tests call them directly.
 */
#ifndef PD_CLI_CLI_INT_H
#define PD_CLI_CLI_INT_H

#include "paddock/client.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- parse.c: lines and options ------------------------------------------------- */

/* A NULL-terminated argument vector; argv and its strings are owned (cli_argv_free). */
struct cli_argv {
    int argc;
    char **argv; /* owned, argc + 1 entries, the last NULL */
};

/*
 * Splits a line into arguments as zkCli does (ZooKeeperMain.MyCommandOptions,
 * the regex \s*([^"']\S*|"[^"]*"|'[^']*')\s* applied with find()): words
 * separated by blanks, a "double" or 'single' quoted string is one argument
 * without its quotes, a quote with no closing partner is skipped.
 * Returns 0 or PD_ENOMEM (then *out is empty).
 */
int cli_tokenize(const char *line, struct cli_argv *out);
void cli_argv_free(struct cli_argv *a);

/*
 * Short options as Apache commons-cli's DefaultParser reads them: `spec`
 * lists the letters, a ':' after one that takes a value ("sv:R"); letters
 * in parentheses are an OptionGroup, of which one at most may be given
 * ("(nbNB)": "-n -b" fails with AlreadySelectedException; a group that is
 * required is the command's to check). Options may come anywhere, "-sw"
 * bundles flags, "-v5" and "-v 5" give a value, a value may be a negative
 * number, "--" ends options, "-" alone is an argument. args[0] is the
 * command name.
 */
enum { CLI_MAX_ARGS = 64 };
struct cli_opts {
    const char *value[128];         /* by letter: the option's first value, "" for a flag that is
                                       present, NULL when absent; borrowed from argv */
    int nargs;                      /* the arguments that are not options */
    const char *args[CLI_MAX_ARGS]; /* borrowed from argv */
    char errmsg[256];               /* when parsing failed: the exception zkCli prints */
};

/* Parses argv (borrowed; must outlive o). Returns 0, or -1 with o->errmsg set. */
int cli_opts_parse(struct cli_opts *o, const char *spec, int argc, char **argv);
/* Is the option letter present? */
bool cli_opt_has(const struct cli_opts *o, char letter);

/* Java's Integer.parseInt / Long.parseLong (optional sign, decimal digits, range
 * checked). Return true and store the value, or false. */
bool cli_parse_int(const char *s, int32_t *out);
bool cli_parse_long(const char *s, int64_t *out);
/* Java's Integer.decode: also 0x / # hexadecimal and 0 octal. */
bool cli_decode_int(const char *s, int32_t *out);

/*
 * Completion of a znode path being typed (JLineZNodeCompleter): the node to
 * list and the prefix its children must start with. "/a/b" -> "/a", "b";
 * "/a" -> "/", "a"; "/a/" -> "/a", "". *dir gets an owned copy (pd_free),
 * NULL when token has no '/'; *prefix points into token. 0 or PD_ENOMEM.
 */
int cli_complete_split(const char *token, char **dir, const char **prefix);

/* ---- format.c: output as zkCli prints it ----------------------------------------- */

/* Java's Date.toString() of ms since the epoch in the local time zone:
 * "Mon Nov 23 02:00:00 UTC 2026". Writes at most len bytes. */
void cli_format_date(int64_t ms, char *buf, size_t len);
/* StatPrinter: the eleven "name = value" lines. */
void cli_print_stat(FILE *f, const struct pdk_stat *st);
/* ZKUtil.getPermString: the letters of perms in the order c d r w a; buf >= 6 bytes. */
const char *cli_perm_string(int32_t perms, char *buf);
/* One getAcl entry: the Id record's toString ("'world,'anyone" and a newline), ": ", perms. */
void cli_print_acl(FILE *f, const struct pdk_acl *a);
/* Java's List.toString(): "[a, b]" and a newline. */
void cli_print_list(FILE *f, char *const *items, int n);

/* An ACL list parsed from "scheme:id:perms,..."; items and their strings owned. */
struct cli_acl {
    struct pdk_acl_list list; /* what to send; items points into this struct's storage */
    struct pdk_acl *items;    /* owned (pd_free) */
    char *strings;            /* owned (pd_free): every scheme and id */
};
/* AclParser.parse: entries without two colons are skipped with a message on err, as are
 * unknown permission letters. Returns 0 or PD_ENOMEM. Release with cli_acl_free(). */
int cli_acl_parse(const char *s, FILE *err, struct cli_acl *out);
void cli_acl_free(struct cli_acl *a);

/* PathUtils.validatePath: NULL when path is valid, else the message (written to buf). */
const char *cli_path_error(const char *path, bool is_sequential, char *buf, size_t len);

/* KeeperException.getCodeMessage ("NoNode", "Directory not empty"); static storage. */
const char *cli_code_message(int rc);
/* The message zkCli prints for a failed request (CliWrapperException):
 * "Node does not exist: /a", or "KeeperErrorCode = X for /a"; path may be NULL. */
void cli_error_message(int rc, const char *path, char *buf, size_t len);
/* Watcher.Event names: KeeperState ("SyncConnected") and EventType ("NodeCreated"). */
const char *cli_state_name(int state);
const char *cli_event_name(int type);
/* ZooKeeper.States as the prompt shows it ("CONNECTED"). */
const char *cli_zk_state_name(int state);
/* ConfigUtils.getClientConfigStr: "version host:port,host:port" from a dynamic config
 * (len bytes at data). Writes at most len_buf bytes. */
void cli_client_config(const char *data, int32_t len, char *buf, size_t len_buf);

/*
 * StatsTrack: a quota node's data, "key=value" pairs ("count=10,bytes=-1" or, with 3.8's hard
 * limits, "count=10,bytes=-1=;byteHardLimit=-1;countHardLimit=5"). Keys kept in the order
 * first seen; a key given again takes the later value.
 */
enum { CLI_STATS_MAX = 8 };
struct cli_stats {
    int n;
    struct {
        char key[64];
        int64_t value;
    } items[CLI_STATS_MAX];
};
/*
 * new StatsTrack(data): pairs split at runs of ',' and ';', each at '=' (the text up to the
 * next '=' is the value; empty, it is -1). data NULL or empty: no pairs. Returns false with
 * errmsg set when Java fails: a value that is no long (For input string: "x", which
 * zkCli prints), a pair without a value (zkCli dies), or, ours, more than CLI_STATS_MAX keys
 * or one too long.
 */
bool cli_stats_parse(const char *data, int32_t len, struct cli_stats *out, char *errmsg,
                     size_t errlen);
/* The key's value; -1 when absent. */
int64_t cli_stats_get(const struct cli_stats *s, const char *key);
/* Sets or adds key; false when there is no room. */
bool cli_stats_set(struct cli_stats *s, const char *key, int64_t value);
/* StatsTrack.toString: "count=C,bytes=B" (-1 for an absent one), then when there are other
 * keys "=" and each ";key=value" in key order. Writes at most len bytes. */
void cli_stats_format(const struct cli_stats *s, char *buf, size_t len);

/* ---- session.c: the connection ------------------------------------------------- */

struct cli {
    struct pdk_client *zk;       /* owned; NULL before the first connect */
    char *host;                  /* owned (pd_free): the connection string of zk */
    int timeout_ms;              /* session timeout asked for; also bounds every wait */
    bool is_read_only;           /* -r: allow read-only servers */
    bool is_wait_for_connection; /* -waitforconnection */
    bool is_print_watches;       /* printwatches on|off */
    int last_session_state;      /* last session state printed for zk; repeats are dropped */
    FILE *out;                   /* borrowed: results */
    FILE *err;                   /* borrowed: errors and "Created" lines, as zkCli */
    char **history;              /* owned (pd_free) with each line: by command number */
    int n_history;               /* entries of history in use */
    int command_count;           /* lines executed: the prompt's number */
    bool is_quit;                /* `quit` was run */
    void (*before_event)(struct cli *c); /* interactive.c's hooks around printing an event */
    void (*after_event)(struct cli *c);
};

/* Replaces c->zk by a new client for host (the old session is closed first). Prints
 * nothing. With -waitforconnection waits for the session. Returns 0 or a PDK_Z code. */
int cli_connect(struct cli *c, const char *host);
/* Closes the session and waits (bounded) for the server to confirm; c->zk stays, CLOSED. */
void cli_close(struct cli *c);
/* Frees everything c owns (closing the session first if it is alive). */
void cli_release(struct cli *c);
/* As ZooKeeper.States.isAlive(): a client exists and is neither closed nor failed. */
bool cli_is_alive(const struct cli *c);

/* One request waited for: give cli_call_done as completion and the call as ctx. */
struct cli_call {
    struct pdk_sync sync; /* filled by cli_call_done */
    bool is_abandoned;    /* the waiter gave up: cli_call_done frees the call */
};
/* Returns an owned call (freed by cli_call_wait or, once abandoned, by cli_call_done), or NULL. */
struct cli_call *cli_call_new(void);
void cli_call_done(struct pdk_client *zk, const struct pdk_result *res, void *ctx);
/*
 * submit_rc is what the request function returned for `call`. Waits for the
 * reply at most c->timeout_ms (then PDK_ZCONNECTIONLOSS, as zkCli reports a
 * request the connection could not serve). Returns the result's rc and stores
 * the owned result (pdk_result_free) in *res, or NULL when there is none.
 */
int cli_call_wait(struct cli *c, struct cli_call *call, int submit_rc, struct pdk_result **res);
/*
 * cli_call_wait(), then on any rc but ZOK frees the result, prints ZooKeeper's message for
 * it (cli_fail, with `path`) and returns CLI_FAILED; CLI_OK with the owned result in *res.
 */
int cli_call_finish(struct cli *c, struct cli_call *call, int submit_rc, const char *path,
                    struct pdk_result **res);
/* Runs the client once: at most timeout_ms waiting for it (events are printed). */
void cli_poll_once(struct cli *c, int timeout_ms);

/* ---- commands (cmd_*.c) and dispatch (shell.c) ---------------------------------- */

/* A command's status: what the process exits with when it is the last. */
enum { CLI_OK = 0, CLI_FAILED = 1, CLI_BAD_INVOCATION = 2, CLI_NOT_FOUND = 127 };

struct cli_cmd {
    const char *name;
    const char *spec;  /* option letters for cli_opts_parse */
    const char *usage; /* zkCli's option string, printed after the name */
    int (*run)(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc, char **argv);
};

/* Prints "name usage" to c->err and returns CLI_FAILED: a usage error. */
int cli_usage_error(struct cli *c, const struct cli_cmd *cmd);
/* Prints the message for a failed request to c->err; returns CLI_FAILED. */
int cli_fail(struct cli *c, int rc, const char *path);
/* Prints PathUtils' message and returns true when path is invalid. */
bool cli_bad_path(struct cli *c, const char *path, bool is_sequential);
/* A visitor of cli_visit_tree: path borrowed; CLI_OK goes on, any other status ends the walk
 * and is its result. */
typedef int (*cli_visit_fn)(struct cli *c, const char *path, void *ctx);
/*
 * ZKUtil.visitSubTreeDFS: getData of path (its errors fail the visit), then
 * depth first: the sorted children of a node are each given to visit, then
 * visited in turn; a node gone meanwhile is skipped, other errors print and
 * fail. Returns CLI_OK, CLI_FAILED, or what a visitor ended the walk with.
 */
int cli_visit_tree(struct cli *c, const char *path, bool watch, cli_visit_fn visit, void *ctx);
/* The same below path only: path itself is neither read nor given to visit (and may be gone). */
int cli_visit_children(struct cli *c, const char *path, bool watch, cli_visit_fn visit, void *ctx);

int cmd_ls(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc, char **argv);
int cmd_get(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc, char **argv);
int cmd_set(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc, char **argv);
int cmd_create(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc, char **argv);
int cmd_delete(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc, char **argv);
int cmd_deleteall(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc,
                  char **argv);
int cmd_stat(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc, char **argv);
int cmd_sync(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc, char **argv);
int cmd_get_all_children_number(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o,
                                int argc, char **argv);
int cmd_get_ephemerals(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc,
                       char **argv);
int cmd_config(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc, char **argv);
int cmd_reconfig(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc,
                 char **argv);
int cmd_get_acl(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc,
                char **argv);
int cmd_set_acl(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc,
                char **argv);
int cmd_addauth(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc,
                char **argv);
int cmd_whoami(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc, char **argv);
int cmd_add_watch(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc,
                  char **argv);
int cmd_remove_watches(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc,
                       char **argv);
int cmd_setquota(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc,
                 char **argv);
int cmd_listquota(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc,
                  char **argv);
int cmd_delquota(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc,
                 char **argv);
int cmd_close(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc, char **argv);
int cmd_version(struct cli *c, const struct cli_cmd *cmd, struct cli_opts *o, int argc,
                char **argv);

/* Every command name (the table's and the shell's), sorted; NULL-terminated. */
extern const char *const cli_command_names[];

/* Prints zkCli's usage: the invocation line and every command with its options (all but
 * `help`, ours: the list is zkCli's). */
void cli_print_usage(struct cli *c, FILE *f);
/* Runs one command (argv[0] is its name; argv borrowed). Returns its status. */
int cli_execute(struct cli *c, int argc, char **argv);
/* Runs one line typed or read: numbered, kept in history, tokenized, executed.
 * Blank lines are skipped (CLI_OK). */
int cli_execute_line(struct cli *c, const char *line);

/* Fetches the children of dir (borrowed) for completion; owned result or NULL. */
struct pdk_result *cli_children(struct cli *c, const char *dir, int timeout_ms);

/* ---- interactive.c ------------------------------------------------------------ */

/* The interactive shell on a terminal; returns the last command's status. */
int cli_interactive(struct cli *c);

#endif
