/*
 * What the files of src/client share: the client struct, the request FIFO,
 * the watch table and the helpers one file provides to the others. Not
 * installed; the API is include/paddock/client.h.
 *
 * Files: client.c (lifecycle, connection state machine, I/O), request.c
 * (encoding every request, decoding every reply), watch.c (the watch table),
 * hosts.c (connection string), sync.c (blocking wrappers, result copies).
 */
#ifndef PD_CLIENT_CLIENT_INT_H
#define PD_CLIENT_CLIENT_INT_H

#include "paddock/client.h"

#include "common/arena.h"
#include "jute/jute.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* ---- hosts (hosts.c) ------------------------------------------------------ */

struct host {
    struct sockaddr_storage addr; /* resolved address */
    socklen_t addr_len;           /* bytes of addr */
    char name[64];                /* "ip:port" for pdk_current_host() */
};

/*
 * Parses "host:port[,host:port...][/chroot]" and resolves every host (all
 * addresses of a name become entries). Stores an owned array in *hosts
 * (pd_free) and its length in *n, and an owned chroot in *chroot (pd_free;
 * NULL for none or "/"). Returns 0 or PDK_ZBADARGUMENTS / PDK_ZSYSTEMERROR.
 */
int hosts_parse(const char *spec, struct host **hosts, int *n, char **chroot);

/* Checks a client path as ZooKeeper's PathUtils.validatePath; is_sequential allows a
 * trailing '/'. Returns 0 or PDK_ZBADARGUMENTS. */
int path_validate(const char *path, bool is_sequential);

/* ---- watches (watch.c) ---------------------------------------------------- */

/* The lists a path's watchers are kept in (ZooKeeper's ZKWatchManager maps). */
enum watch_kind {
    WK_DATA,      /* getData, exists on an existing node */
    WK_EXIST,     /* exists on a missing node */
    WK_CHILD,     /* getChildren */
    WK_PERSIST,   /* addWatch PERSISTENT */
    WK_RECURSIVE, /* addWatch PERSISTENT_RECURSIVE */
    WK_COUNT,
};

struct watch_reg {
    struct watch_reg *next; /* owned by the list */
    pdk_watcher_fn fn;
    void *ctx; /* the user's; never dereferenced */
};

struct watch_node {
    struct watch_node *next;           /* bucket chain; owned */
    uint32_t hash;                     /* of path */
    size_t len;                        /* bytes of path */
    struct watch_reg *lists[WK_COUNT]; /* owned */
    char path[];                       /* server path (chroot included), NUL-terminated */
};

struct watch_table {
    struct watch_node **buckets; /* owned; n_buckets entries */
    uint32_t n_buckets;          /* power of two, or 0 before the first add */
    uint32_t count;              /* nodes */
};

/* A watcher to call: what watch_collect() and friends hand back. */
struct watch_call {
    pdk_watcher_fn fn;
    void *ctx;
    int kind; /* enum watch_kind it came from */
};

struct watch_calls {
    struct watch_call *items; /* owned (pd_free) */
    int n;
    int cap;
};

void watch_table_init(struct watch_table *t);
/* Frees every node and registration without calling anything. */
void watch_table_close(struct watch_table *t);
/* Registers (fn, ctx) for kind on the server path; a repeat of the same pair is one
 * registration. Returns 0 or PDK_ZSYSTEMERROR. */
int watch_add(struct watch_table *t, const char *path, int kind, pdk_watcher_fn fn, void *ctx);
/* True if path has a registration of a kind in kind_mask (bits 1 << kind), of (fn, ctx) when
 * fn is not NULL. */
bool watch_has(const struct watch_table *t, const char *path, unsigned kind_mask, pdk_watcher_fn fn,
               void *ctx);
/*
 * Appends to *out the watchers a notification (event type) on path triggers, each pair once,
 * and forgets the one-shot ones (ZooKeeper's materialize()). Returns 0 or PDK_ZSYSTEMERROR.
 */
int watch_collect(struct watch_table *t, const char *path, int type, struct watch_calls *out);
/* Removes the registrations of kinds in kind_mask on path (only (fn, ctx) when fn is not
 * NULL), appending each removed one to *out. Returns 0 or PDK_ZSYSTEMERROR. */
int watch_remove(struct watch_table *t, const char *path, unsigned kind_mask, pdk_watcher_fn fn,
                 void *ctx, struct watch_calls *out);
/* Empties the table, appending every distinct (fn, ctx) to *out. */
int watch_take_all(struct watch_table *t, struct watch_calls *out);
/* Calls fn(node, ctx) for every node, in no particular order. */
void watch_each(const struct watch_table *t, void (*fn)(const struct watch_node *, void *),
                void *ctx);
void watch_calls_free(struct watch_calls *calls);

/* ---- the client ----------------------------------------------------------- */

/*
 * Connection states. Each line: the state, what holds in it, and who moves on.
 *
 *   pdk_new ──▶ CONNECTING ──connected──▶ HANDSHAKE ──ConnectResponse──▶ CONNECTED
 *                 │  ▲ start_attempt()      │ conn_fail()      (on_connect_response)
 *                 │  └──────── next host ◀──┘                          │ conn_lost()
 *                 └─ every host failed ─▶ BACKOFF ─ timer ─▶ CONNECTING ◀┘
 *   HANDSHAKE ── timeOut 0 ──▶ EXPIRED        any ── AUTHFAILED reply ──▶ AUTH_FAILED
 *   CONNECTED ── pdk_close ──▶ CLOSING ── reply / loss ──▶ CLOSED
 *
 * CONNECTING: fd is a socket with a connect in progress; deadline = attempt end.
 * HANDSHAKE: out holds the ConnectRequest; no request is sent before the reply.
 * CONNECTED / CLOSING: requests go straight to out; n_in_conn == n_reqs.
 * BACKOFF: fd -1; retry_at is when the next round of hosts starts.
 * EXPIRED, AUTH_FAILED, CLOSED: terminal; fd -1; whatever is still queued is
 * failed by the next pdk_process() with the state's code.
 * In the non-connected states requests are encoded into `held` and move to
 * `out` once a session is established.
 */
enum cstate {
    CS_CONNECTING,
    CS_HANDSHAKE,
    CS_CONNECTED,
    CS_BACKOFF,
    CS_CLOSING,
    CS_CLOSED,
    CS_EXPIRED,
    CS_AUTH_FAILED,
};

/* What a request does with its watcher when the reply comes. */
enum req_watch {
    RW_NONE,
    RW_EXISTS,    /* data watch if the node exists, exist watch on NONODE */
    RW_DATA,      /* getData, getConfig */
    RW_CHILD,     /* getChildren(2) */
    RW_PERSIST,   /* addWatch */
    RW_RECURSIVE, /* addWatch recursive */
    RW_REMOVE,    /* removeWatches/checkWatches: drop local registrations on OK */
};

/* One outstanding request, in the FIFO in send order. */
struct req {
    int32_t xid;
    int32_t op; /* opcode sent */
    pdk_completion_fn cb;
    void *ctx; /* the user's */
    pdk_watcher_fn wfn;
    void *wctx;    /* the user's */
    char *wpath;   /* owned (pd_free): server path, only when watch != RW_NONE */
    int32_t aux;   /* multi: number of ops; remove: watch type */
    uint8_t watch; /* enum req_watch */
    bool is_local; /* removeWatches: remove here even if the server fails or is gone */
};

/* A credential given with addauth, re-sent on every connection. */
struct auth {
    char *scheme;         /* owned */
    uint8_t *cred;        /* owned; NULL for a null credential */
    int32_t len;          /* bytes of cred; -1 for a null credential */
    pdk_completion_fn cb; /* completion not yet sent with a packet (NULL once sent) */
    void *ctx;
};

/* Completion waiting for an auth reply (xid -4; they come in order among themselves). */
struct auth_wait {
    pdk_completion_fn cb; /* NULL for a re-send after reconnect */
    void *ctx;
};

struct pdk_client {
    /* configuration */
    struct host *hosts; /* owned; n_hosts entries, shuffled */
    int n_hosts;
    int host_idx;      /* host of the current/last attempt */
    char *chroot;      /* owned; NULL for none */
    size_t chroot_len; /* bytes of chroot */
    int requested_timeout_ms;
    pdk_watcher_fn watcher; /* global watcher, may be NULL */
    void *watcher_ctx;      /* the user's */
    bool can_be_read_only;
    size_t max_frame_bytes;

    /* session */
    int64_t session_id;
    uint8_t passwd[16];
    int session_timeout_ms; /* negotiated (requested until then) */
    int64_t last_zxid;      /* largest reply zxid seen */
    bool is_read_only;      /* the server said readOnly */
    bool has_session;       /* a handshake succeeded once */

    /* connection */
    enum cstate state;
    int fd;               /* -1 when none */
    uint32_t conn_gen;    /* bumped whenever a socket is dropped */
    int64_t deadline_ms;  /* CONNECTING/HANDSHAKE: attempt ends; BACKOFF: retry */
    int64_t last_send_ms; /* last time bytes were written (ping scheduling) */
    int64_t last_recv_ms; /* last time bytes were read (read timeout) */
    int failed_attempts;  /* since the last established connection */
    uint64_t rng;         /* xorshift state for host order and backoff jitter */

    /* buffers */
    struct jute_out out;  /* bytes for the current connection */
    size_t out_sent;      /* bytes of out already written */
    struct jute_out held; /* requests waiting for a connection */
    uint8_t *in;          /* owned; receive buffer */
    size_t in_len;        /* bytes in `in` */
    size_t in_cap;        /* bytes allocated */
    struct arena arena;   /* strings and arrays of the reply being delivered */

    /* requests */
    struct req *reqs;   /* owned ring of req_cap entries */
    uint32_t req_cap;   /* power of two */
    uint32_t req_head;  /* index of the oldest */
    uint32_t n_reqs;    /* in the ring */
    uint32_t n_in_conn; /* the oldest n_in_conn are in out (sent or about to be) */
    int32_t next_xid;
    struct auth *auths; /* owned; n_auths entries */
    int n_auths;
    struct auth_wait *auth_q; /* owned ring */
    int auth_q_cap;
    int auth_q_head;
    int n_auth_q;

    /* watches */
    struct watch_table watches;

    /* callbacks */
    int cb_depth;         /* > 0 while a user callback runs */
    int wait_depth;       /* > 0 while a blocking wrapper runs */
    bool is_free_pending; /* pdk_free() was called from a callback */
};

/* ---- shared helpers (client.c) --------------------------------------------- */

/* Calls cb with res (cb_depth kept). */
void client_complete(struct pdk_client *c, const struct req *r, const struct pdk_result *res);
/* Delivers an event to one watcher (cb_depth kept). */
void client_notify(struct pdk_client *c, pdk_watcher_fn fn, void *ctx, int type, int state,
                   const char *path);
/* Strips the chroot from a server path (returns a pointer into p, or to "/"). */
char *client_strip(const struct pdk_client *c, char *p);
/* True in EXPIRED, AUTH_FAILED, CLOSED. */
bool client_is_finished(const struct pdk_client *c);
/* The code requests get in a finished state. */
int client_finished_rc(const struct pdk_client *c);
/* Closes the socket (if any) and forgets unsent bytes; the state is the caller's business. */
void client_drop_socket(struct pdk_client *c);
/* Encodes an auth packet for a on the current connection and queues its completion. */
int client_send_auth(struct pdk_client *c, struct auth *a);
/* Frees a client for real (pdk_free() minus the deferral). */
void client_destroy(struct pdk_client *c);

/* ---- requests (request.c) -------------------------------------------------- */

/*
 * Decodes the reply body to r (header already read; err is its error) into
 * res, strings and arrays in c->arena; stat_buf receives the stat when there
 * is one. Returns 0 or PD_EMALFORMED / PD_ENOMEM.
 */
int request_decode(struct pdk_client *c, const struct req *r, int32_t err, struct jute_in *in,
                   struct pdk_result *res, struct pdk_stat *stat_buf);
/* Applies r's watch registration or removal for a reply with rc. */
/* Registers or removes r's watch after its reply, or its failure, with rc. Returns the rc to
 * complete r with: rc, or PDK_ZOK for a local removeWatches that removed watches here
 * (ClientCnxn.finishPacket). */
int request_watch_done(struct pdk_client *c, const struct req *r, int rc);
/* Encodes a ping (xid -2). */
void request_put_ping(struct jute_out *out);
/* Encodes the ConnectRequest for the current session. */
void request_put_connect(struct pdk_client *c, struct jute_out *out);
/* Encodes one auth packet (xid -4). */
void request_put_auth(struct jute_out *out, const struct auth *a);
/* Encodes setWatches2 frames (xid -8) for every registered watch; 0 or PDK_ZSYSTEMERROR. */
int request_put_set_watches(struct pdk_client *c, struct jute_out *out);

#endif
