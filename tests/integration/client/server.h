/*
 * Start and stop one standalone server for the client library's tests: a
 * `paddock server` (the binary in $PADDOCK_BIN) or Apache ZooKeeper 3.8 (java,
 * Debian package `zookeeper`), on a free 127.0.0.1 port with its own temp
 * dataDir. The zoo.cfg is the one tests/integration/zkserver.py writes
 * (tickTime=500, so sessions negotiate between 1000 and 10000 ms; TTL nodes
 * on; containers checked every 100 ms; a super digest). Processes are stopped
 * by the PID we started, nothing else.
 */
#ifndef PD_TEST_CLIENT_SERVER_H
#define PD_TEST_CLIENT_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

enum tsrv_kind { TSRV_PADDOCK, TSRV_ZOOKEEPER };

struct tsrv {
    enum tsrv_kind kind;
    int port;          /* 127.0.0.1 client port (kept across restarts) */
    char dir[200];     /* temp dir: zoo.cfg, logs, data/ */
    char datadir[240]; /* dataDir */
    pid_t pid;         /* 0 when not running */
};

/* True if the kind can run here (paddock: $PADDOCK_BIN set; zookeeper: java + jar). */
bool tsrv_available(enum tsrv_kind kind);
/* Creates the temp dir and picks a port; 0 or -1. */
int tsrv_init(struct tsrv *s, enum tsrv_kind kind);
/* Starts the server and waits until it serves (srvr answers), up to 40 s; 0 or -1. */
int tsrv_start(struct tsrv *s);
/* Sends sig (SIGTERM: then SIGKILL after 5 s; SIGKILL) and reaps it. */
void tsrv_stop(struct tsrv *s, int sig);
/* Stops the server and removes the temp dir. */
void tsrv_cleanup(struct tsrv *s);
/* "127.0.0.1:<port>" in buf. */
const char *tsrv_hosts(const struct tsrv *s, char *buf, size_t len);
/* A port on 127.0.0.1 nobody listens on right now. */
int tsrv_free_port(void);
/* Prints the tail of the server's log to stderr. */
void tsrv_show_log(const struct tsrv *s);

#endif
