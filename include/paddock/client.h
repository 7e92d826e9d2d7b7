/*
 * libpaddock: a C client for ZooKeeper-compatible servers (Paddock, Apache
 * ZooKeeper 3.5-3.9). Link with `pkg-config --cflags --libs paddock`.
 *
 * Model
 * -----
 * A `struct pdk_client` is one ZooKeeper session over one TCP connection at
 * a time. It is driven by the caller's event loop and never blocks, never
 * starts threads and takes no locks; use one client from one thread. The
 * loop asks what the client waits for and tells it what happened:
 *
 *     for (;;) {
 *         int events, timeout_ms;
 *         pdk_interest(c, pdk_now_ms(), &events, &timeout_ms);
 *         struct pollfd p = {.fd = pdk_fd(c), .events = (short)events};
 *         poll(&p, 1, timeout_ms);
 *         pdk_process(c, p.revents, pdk_now_ms());
 *     }
 *
 * pdk_fd() changes when the client reconnects: read it again after every
 * pdk_process() (an epoll loop re-registers when it differs). Between
 * connection attempts it is -1 and only the timeout matters.
 *
 * Requests are asynchronous: pdk_get_data() etc. encode the request into the
 * client's output buffer and return at once; the next pdk_process() writes
 * everything queued with one send, and calls each request's completion when
 * its reply arrives (ZooKeeper answers a connection's requests in order).
 * A request function returns PDK_ZOK when the request was queued, and then its
 * completion is called exactly once, from pdk_process(), pdk_free() or a
 * blocking wrapper, never from inside the request function; or a negative code
 * (bad path, client closed, session expired, out of memory), and then the
 * completion is never called.
 *
 * Callbacks (completions and watchers) may submit new requests, register
 * watches and call pdk_free(); they must not call pdk_process() or a blocking
 * wrapper on the same client (those return PDK_ZINVALIDSTATE there).
 *
 * Results point into the client: everything reachable from a
 * `const struct pdk_result *` or `const struct pdk_event *` is borrowed and
 * valid only until the callback returns. Copy what you keep, or use
 * pdk_result_dup().
 *
 * Paths: every path argument and result is relative to the chroot given in
 * the connection string ("h1:2181,h2:2181/app": "/x" is "/app/x" on the
 * server). Paths are checked as ZooKeeper's PathUtils does before anything is
 * sent (PDK_ZBADARGUMENTS).
 *
 * Sessions: the client connects to the listed hosts in random order, resumes
 * the same session (id + password) on the next host when a connection fails,
 * re-sends addauth credentials and re-registers every watch with setWatches2
 * (relative to the last zxid seen), and pings when idle for a third of the
 * negotiated timeout. Requests outstanding when a connection drops complete
 * with PDK_ZCONNECTIONLOSS (they may or may not have been applied). If the
 * server says the session expired, the client is finished: everything
 * outstanding completes with PDK_ZSESSIONEXPIRED and new requests are refused
 * with it; create a new client.
 *
 * Return codes are ZooKeeper's (KeeperException.Code) with the same numbers,
 * plus three the official C client also uses: PDK_ZINVALIDSTATE, PDK_ZCLOSING
 * and PDK_ZNOTHING.
 */
#ifndef PADDOCK_CLIENT_H
#define PADDOCK_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define PDK_API __attribute__((visibility("default")))
#else
#define PDK_API
#endif

/* ---- return codes ------------------------------------------------------- */

enum pdk_rc {
    PDK_ZOK = 0,
    PDK_ZSYSTEMERROR = -1, /* also: out of memory, socket errors */
    PDK_ZRUNTIMEINCONSISTENCY = -2,
    PDK_ZDATAINCONSISTENCY = -3,
    PDK_ZCONNECTIONLOSS = -4, /* the connection dropped before the reply */
    PDK_ZMARSHALLINGERROR = -5,
    PDK_ZUNIMPLEMENTED = -6,
    PDK_ZOPERATIONTIMEOUT = -7, /* a blocking wrapper's timeout passed */
    PDK_ZBADARGUMENTS = -8,
    PDK_ZINVALIDSTATE = -9, /* client-local: not allowed in this state or callback */
    PDK_ZUNKNOWNSESSION = -12,
    PDK_ZNEWCONFIGNOQUORUM = -13,
    PDK_ZRECONFIGINPROGRESS = -14,
    PDK_ZAPIERROR = -100,
    PDK_ZNONODE = -101,
    PDK_ZNOAUTH = -102,
    PDK_ZBADVERSION = -103,
    PDK_ZNOCHILDRENFOREPHEMERALS = -108,
    PDK_ZNODEEXISTS = -110,
    PDK_ZNOTEMPTY = -111,
    PDK_ZSESSIONEXPIRED = -112,
    PDK_ZINVALIDCALLBACK = -113,
    PDK_ZINVALIDACL = -114,
    PDK_ZAUTHFAILED = -115,
    PDK_ZCLOSING = -116, /* client-local: pdk_free() or pdk_close() ended it */
    PDK_ZNOTHING = -117, /* client-local: nothing to do */
    PDK_ZSESSIONMOVED = -118,
    PDK_ZNOTREADONLY = -119,
    PDK_ZEPHEMERALONLOCALSESSION = -120,
    PDK_ZNOWATCHER = -121,
    PDK_ZREQUESTTIMEOUT = -122,
    PDK_ZRECONFIGDISABLED = -123,
    PDK_ZSESSIONCLOSEDREQUIRESASLAUTH = -124,
    PDK_ZQUOTAEXCEEDED = -125,
    PDK_ZTHROTTLEDOP = -127,
};

/* Name of a return code as ZooKeeper spells it ("NONODE"), or "UNKNOWN"; static storage. */
PDK_API const char *pdk_error_name(int rc);

/* ---- protocol constants ------------------------------------------------- */

/* Opcodes (ZooDefs.OpCode), as found in pdk_result.op and pdk_op.type. */
enum pdk_opcode {
    PDK_OP_ERROR = -1, /* a failed op inside a multi result */
    PDK_OP_CREATE = 1,
    PDK_OP_DELETE = 2,
    PDK_OP_EXISTS = 3,
    PDK_OP_GET_DATA = 4,
    PDK_OP_SET_DATA = 5,
    PDK_OP_GET_ACL = 6,
    PDK_OP_SET_ACL = 7,
    PDK_OP_GET_CHILDREN = 8,
    PDK_OP_SYNC = 9,
    PDK_OP_PING = 11,
    PDK_OP_GET_CHILDREN2 = 12,
    PDK_OP_CHECK = 13,
    PDK_OP_MULTI = 14,
    PDK_OP_CREATE2 = 15,
    PDK_OP_RECONFIG = 16,
    PDK_OP_CHECK_WATCHES = 17,
    PDK_OP_REMOVE_WATCHES = 18,
    PDK_OP_CREATE_CONTAINER = 19,
    PDK_OP_CREATE_TTL = 21,
    PDK_OP_MULTI_READ = 22,
    PDK_OP_AUTH = 100,
    PDK_OP_SET_WATCHES2 = 105,
    PDK_OP_GET_EPHEMERALS = 103,
    PDK_OP_GET_ALL_CHILDREN_NUMBER = 104,
    PDK_OP_ADD_WATCH = 106,
    PDK_OP_WHO_AM_I = 107,
    PDK_OP_CLOSE_SESSION = -11,
};

/* Create modes (CreateMode). The TTL modes need the server's extendedTypesEnabled. */
enum pdk_create_mode {
    PDK_PERSISTENT = 0,
    PDK_EPHEMERAL = 1,
    PDK_PERSISTENT_SEQUENTIAL = 2,
    PDK_EPHEMERAL_SEQUENTIAL = 3,
    PDK_CONTAINER = 4,
    PDK_PERSISTENT_WITH_TTL = 5,
    PDK_PERSISTENT_SEQUENTIAL_WITH_TTL = 6,
};

/* ACL permission bits. */
enum pdk_perm {
    PDK_PERM_READ = 1,
    PDK_PERM_WRITE = 2,
    PDK_PERM_CREATE = 4,
    PDK_PERM_DELETE = 8,
    PDK_PERM_ADMIN = 16,
    PDK_PERM_ALL = 31,
};

/* Watch event types (Watcher.Event.EventType). */
enum pdk_event_type {
    PDK_EVENT_SESSION = -1, /* "None": a session state change; path is NULL */
    PDK_EVENT_CREATED = 1,
    PDK_EVENT_DELETED = 2,
    PDK_EVENT_DATA_CHANGED = 3,
    PDK_EVENT_CHILDREN_CHANGED = 4,
    PDK_EVENT_DATA_WATCH_REMOVED = 5,
    PDK_EVENT_CHILD_WATCH_REMOVED = 6,
    PDK_EVENT_PERSISTENT_WATCH_REMOVED = 7,
};

/* Session states (Watcher.Event.KeeperState), in events and from pdk_state(). */
enum pdk_state {
    PDK_STATE_DISCONNECTED = 0,
    PDK_STATE_CONNECTING = 1, /* pdk_state() only: no session established on this connection yet */
    PDK_STATE_CONNECTED = 3,
    PDK_STATE_AUTH_FAILED = 4,
    PDK_STATE_CONNECTED_READ_ONLY = 5,
    PDK_STATE_CLOSED = 7,
    PDK_STATE_EXPIRED = -112,
};

/* Watch kinds for pdk_remove_watches() (WatcherType). */
enum pdk_watch_type {
    PDK_WATCH_CHILDREN = 1,
    PDK_WATCH_DATA = 2, /* data and exists watches */
    PDK_WATCH_ANY = 3,
    PDK_WATCH_PERSISTENT = 4,
    PDK_WATCH_PERSISTENT_RECURSIVE = 5,
};

/* addWatch modes. */
enum pdk_add_watch_mode {
    PDK_ADD_WATCH_PERSISTENT = 0,
    PDK_ADD_WATCH_PERSISTENT_RECURSIVE = 1,
};

/* pdk_interest() event bits; equal to POLLIN/POLLOUT and EPOLLIN/EPOLLOUT on Linux. */
enum { PDK_READ = 0x001, PDK_WRITE = 0x004 };

/* ---- records ------------------------------------------------------------ */

struct pdk_stat {
    int64_t czxid;
    int64_t mzxid;
    int64_t ctime; /* ms since the epoch */
    int64_t mtime; /* ms since the epoch */
    int32_t version;
    int32_t cversion;
    int32_t aversion;
    int64_t ephemeral_owner; /* session id, 0, or container/TTL markers */
    int32_t data_length;     /* bytes */
    int32_t num_children;
    int64_t pzxid;
};

/* One ACL entry: perms for (scheme, id), e.g. (PDK_PERM_ALL, "world", "anyone"). */
struct pdk_acl {
    int32_t perms;
    const char *scheme; /* borrowed */
    const char *id;     /* borrowed */
};

struct pdk_acl_list {
    int32_t count;
    const struct pdk_acl *items; /* borrowed */
};

/* world:anyone with every permission; with read only; auth:"" (the creator's ids). */
PDK_API extern const struct pdk_acl_list pdk_acl_open_unsafe;
PDK_API extern const struct pdk_acl_list pdk_acl_read_unsafe;
PDK_API extern const struct pdk_acl_list pdk_acl_creator_all;

struct pdk_strings {
    int32_t count;
    char **items; /* borrowed; NUL-terminated strings */
};

/* whoAmI: one (scheme, user) per identity of the connection. */
struct pdk_client_info {
    const char *scheme; /* borrowed */
    const char *user;   /* borrowed */
};

/*
 * What a completion receives. Only the fields of the operation are set; the
 * others are zero/NULL. All pointers are borrowed (valid during the callback;
 * data points into the receive buffer, strings into a per-reply arena).
 */
struct pdk_result {
    int rc;                      /* PDK_ZOK or a negative code */
    int op;                      /* the request's opcode (PDK_OP_ERROR in failed multi items) */
    int64_t zxid;                /* zxid of the reply header; 0 when no reply came */
    const char *path;            /* create*, sync: the node's path (chroot stripped) */
    const struct pdk_stat *stat; /* exists, getData, setData, create2/TTL/container,
                                    getChildren2, getACL, setACL */
    const char *data;            /* getData, getConfig: NULL for a null value */
    int32_t data_len;            /* bytes; -1 for a null value */
    struct pdk_strings strings;  /* getChildren(2): names; getEphemerals: paths */
    struct pdk_acl_list acl;     /* getACL */
    int32_t number;              /* getAllChildrenNumber */
    int32_t n_infos;             /* whoAmI */
    const struct pdk_client_info *infos;
    int32_t n_results; /* multi, multiRead: one result per op, in order */
    const struct pdk_result *results;
};

/*
 * A watch event: type, the session state, and the node's path (NULL for
 * session events). A one-shot watcher is called once, then forgotten. When a
 * registration ends without its event (session expired, client freed, watch
 * removed), the watcher is still called one last time: with PDK_EVENT_SESSION
 * and state EXPIRED or CLOSED, or with a *_WATCH_REMOVED type, so it can
 * release its context.
 */
struct pdk_event {
    int type;         /* enum pdk_event_type */
    int state;        /* enum pdk_state */
    const char *path; /* borrowed; chroot stripped; NULL for session events */
};

struct pdk_client;

/* Completion of a request; ctx is the pointer given with the request. */
typedef void (*pdk_completion_fn)(struct pdk_client *c, const struct pdk_result *res, void *ctx);
/* Watch or session event; ctx is the pointer given with the registration. */
typedef void (*pdk_watcher_fn)(struct pdk_client *c, const struct pdk_event *ev, void *ctx);

/*
 * Pass as the watcher of a request to register the client's global watcher
 * (pdk_options.watcher) for that path, like ZooKeeper's `watch = true`.
 * Calling it forwards the event to the global watcher.
 */
PDK_API void pdk_global_watcher(struct pdk_client *c, const struct pdk_event *ev, void *ctx);

/* ---- client lifecycle ---------------------------------------------------- */

struct pdk_options {
    int session_timeout_ms;   /* requested; the server clamps it; 0: 30000 */
    pdk_watcher_fn watcher;   /* global watcher: session events and `pdk_global_watcher`
                                 registrations; NULL for none */
    void *watcher_ctx;        /* borrowed; given to watcher */
    int64_t session_id;       /* resume this session (with passwd); 0: new session */
    const uint8_t *passwd;    /* 16 bytes, copied; with session_id */
    bool is_shuffle_disabled; /* try hosts in the order listed (tests) */
    bool can_be_read_only;    /* allow read-only servers (sets the handshake's readOnly) */
    int32_t max_frame_bytes;  /* largest reply accepted; 0: jute.maxbuffer (1048575) + 1024 */
};

/*
 * Creates a client for `hosts` ("host:port[,host:port...][/chroot]"; IPv6
 * as "[::1]:2181"), resolves the hosts (this may block on DNS) and starts a
 * non-blocking connect to the first one. opts may be NULL (defaults); it is
 * borrowed. On success stores an owned client in *out (release with
 * pdk_free()) and returns PDK_ZOK; PDK_ZBADARGUMENTS for a bad string or a
 * host that does not resolve, PDK_ZSYSTEMERROR when out of memory.
 */
PDK_API int pdk_new(const char *hosts, const struct pdk_options *opts, struct pdk_client **out);

/*
 * Closes the connection at once without closing the session (it expires on
 * the server after its timeout, unless resumed elsewhere), completes every
 * outstanding request with PDK_ZCLOSING, calls every registered watcher a
 * last time (PDK_EVENT_SESSION, PDK_STATE_CLOSED), and frees the client.
 * Use pdk_close() first to end the session cleanly. Called from a callback,
 * the free happens when the pdk_process() running it returns. NULL is a no-op.
 */
PDK_API void pdk_free(struct pdk_client *c);

/*
 * Asks the server to close the session (closeSession); cb (may be NULL)
 * completes when it did, or with PDK_ZCONNECTIONLOSS. Without a connection
 * at the time, the client just ends and cb gets PDK_ZOK from the next
 * pdk_process() (the session expires on the server). Afterwards the client
 * is in PDK_STATE_CLOSED: new requests return PDK_ZCLOSING, the connection
 * is closed; pdk_free() it. Returns PDK_ZOK, or PDK_ZCLOSING if already
 * closing, or the session's terminal error.
 */
PDK_API int pdk_close(struct pdk_client *c, pdk_completion_fn cb, void *ctx);

/* ---- event loop integration ---------------------------------------------- */

/* The socket to watch, or -1 between connection attempts. Changes on reconnect. */
PDK_API int pdk_fd(const struct pdk_client *c);

/*
 * What the client waits for at time now_ms (pdk_now_ms() clock): *events gets
 * PDK_READ and/or PDK_WRITE for pdk_fd(); *timeout_ms the ms after which
 * pdk_process() must be called even without events (-1: no deadline, when
 * the client is finished). Never does I/O.
 */
PDK_API void pdk_interest(const struct pdk_client *c, int64_t now_ms, int *events, int *timeout_ms);

/*
 * Does the client's work: reads and decodes every complete reply (calling
 * completions and watchers), handles timers (connect timeouts, pings,
 * reconnects), and writes everything queued with one send. revents are the
 * poll bits seen on pdk_fd() (PDK_READ also for error or hang-up; 0 after a
 * timeout). now_ms is the caller's pdk_now_ms(); the library reads no clock.
 * Returns PDK_ZOK while the client can go on; PDK_ZSESSIONEXPIRED,
 * PDK_ZAUTHFAILED or PDK_ZCLOSING once it is finished (events were
 * delivered); PDK_ZINVALIDSTATE when called from a callback.
 */
PDK_API int pdk_process(struct pdk_client *c, int revents, int64_t now_ms);

/*
 * Caller-driven I/O (optional). A loop that serves many clients can move
 * their bytes itself, e.g. every client's send and receive in one io_uring
 * system call, instead of letting pdk_process() make two per client:
 *
 *   - pdk_output() gives the bytes waiting to be written to pdk_fd()
 *     (borrowed: valid until the next call into c, a request included);
 *     after writing n of them, the caller reports pdk_output_done(c, n).
 *   - Bytes read from pdk_fd() go to pdk_input(), which decodes every
 *     complete reply and calls completions and watchers as pdk_process()
 *     does (requests they submit land in the output). data is borrowed for
 *     the call. n == 0 says the connection ended (end of stream or a socket
 *     error): the client drops it and moves on as after a failed read.
 *
 * This works only while the connection is up, i.e. after pdk_process() has
 * completed the TCP connect; at other times pdk_output() gives nothing,
 * pdk_input() ignores data (it would be from a closed socket) and
 * pdk_output_done() returns PDK_ZBADARGUMENTS. pdk_process() is still needed
 * for connecting and for timers; with revents 0 it reads nothing but does
 * write what is queued (itself, with send()), so a caller that has a write
 * of pdk_output() in flight must not call it until that write finished. A
 * caller whose write could not finish (EAGAIN) can leave the rest to
 * pdk_process(c, PDK_WRITE, ...) once the socket is writable. pdk_fd()
 * changing means the client closed the old socket: stop any I/O on it (the
 * caller owns cancelling its own asynchronous reads).
 *
 * pdk_output_done() returns PDK_ZOK, PDK_ZBADARGUMENTS for n larger than
 * what pdk_output() gave, or PDK_ZINVALIDSTATE from a callback. pdk_input()
 * returns what pdk_process() would.
 */
PDK_API const void *pdk_output(const struct pdk_client *c, size_t *len);
PDK_API int pdk_output_done(struct pdk_client *c, size_t n, int64_t now_ms);
PDK_API int pdk_input(struct pdk_client *c, const void *data, size_t n, int64_t now_ms);

/* Milliseconds of CLOCK_MONOTONIC: the clock pdk_interest()/pdk_process() expect. */
PDK_API int64_t pdk_now_ms(void);

/* ---- session information --------------------------------------------------- */

/* The state (enum pdk_state): CONNECTING, CONNECTED, CONNECTED_READ_ONLY or a terminal state. */
PDK_API int pdk_state(const struct pdk_client *c);
/* The session id, 0 before the first handshake. */
PDK_API int64_t pdk_session_id(const struct pdk_client *c);
/* Copies the 16-byte session password to out (zeros before the first handshake). */
PDK_API void pdk_session_passwd(const struct pdk_client *c, uint8_t out[16]);
/* The negotiated session timeout in ms (the requested one before the first handshake). */
PDK_API int pdk_session_timeout_ms(const struct pdk_client *c);
/* The largest zxid seen in a reply. */
PDK_API int64_t pdk_last_zxid(const struct pdk_client *c);
/* "ip:port" of the server connected to (or being connected to); static per client; never NULL. */
PDK_API const char *pdk_current_host(const struct pdk_client *c);
/* Requests sent or queued and not completed yet. */
PDK_API int pdk_outstanding(const struct pdk_client *c);

/* ---- operations ----------------------------------------------------------- */
/*
 * Common to every request: c, path and data are borrowed for the call (the
 * request is encoded at once); cb may be NULL when the result does not
 * matter; ctx is passed to cb. A watcher argument (NULL for none, or
 * pdk_global_watcher) is registered only if the request succeeds (for
 * exists also on PDK_ZNONODE, as a watch for the node's creation); wctx is
 * passed to it. If the request fails, the watcher is never called: the
 * completion's rc is how to know (release wctx there). Return values: see
 * the top of this file.
 */

/*
 * create / create2: mode is an enum pdk_create_mode; ttl_ms is used only by
 * the TTL modes (> 0). acl NULL means pdk_acl_open_unsafe. The result has the
 * created path (with the sequence suffix) and, with want_stat, the stat
 * (create2; always sent as create2 for containers and TTL nodes).
 */
PDK_API int pdk_create(struct pdk_client *c, const char *path, const void *data, int32_t len,
                       const struct pdk_acl_list *acl, int mode, int64_t ttl_ms, bool want_stat,
                       pdk_completion_fn cb, void *ctx);
/* delete: version -1 for any. */
PDK_API int pdk_delete(struct pdk_client *c, const char *path, int32_t version,
                       pdk_completion_fn cb, void *ctx);
/* exists: result.stat, or rc PDK_ZNONODE. */
PDK_API int pdk_exists(struct pdk_client *c, const char *path, pdk_watcher_fn watcher, void *wctx,
                       pdk_completion_fn cb, void *ctx);
/* getData: result.data/data_len and stat. */
PDK_API int pdk_get_data(struct pdk_client *c, const char *path, pdk_watcher_fn watcher, void *wctx,
                         pdk_completion_fn cb, void *ctx);
/* setData: version -1 for any; result.stat. */
PDK_API int pdk_set_data(struct pdk_client *c, const char *path, const void *data, int32_t len,
                         int32_t version, pdk_completion_fn cb, void *ctx);
/* getACL: result.acl and stat. */
PDK_API int pdk_get_acl(struct pdk_client *c, const char *path, pdk_completion_fn cb, void *ctx);
/* setACL: version is the expected aversion (-1 for any); result.stat. */
PDK_API int pdk_set_acl(struct pdk_client *c, const char *path, const struct pdk_acl_list *acl,
                        int32_t version, pdk_completion_fn cb, void *ctx);
/* getChildren (want_stat false) or getChildren2 (true): result.strings, stat with getChildren2. */
PDK_API int pdk_get_children(struct pdk_client *c, const char *path, bool want_stat,
                             pdk_watcher_fn watcher, void *wctx, pdk_completion_fn cb, void *ctx);
/* getAllChildrenNumber: result.number (descendants, not counting path itself). */
PDK_API int pdk_get_all_children_number(struct pdk_client *c, const char *path,
                                        pdk_completion_fn cb, void *ctx);
/* getEphemerals: the session's ephemerals under prefix ("/" for all); result.strings. */
PDK_API int pdk_get_ephemerals(struct pdk_client *c, const char *prefix, pdk_completion_fn cb,
                               void *ctx);
/* sync: the server catches up with the leader; result.path. */
PDK_API int pdk_sync(struct pdk_client *c, const char *path, pdk_completion_fn cb, void *ctx);
/* getConfig: getData of /zookeeper/config (never chrooted); result.data and stat. */
PDK_API int pdk_get_config(struct pdk_client *c, pdk_watcher_fn watcher, void *wctx,
                           pdk_completion_fn cb, void *ctx);
/*
 * reconfig (dynamic reconfiguration, ZooKeeper 3.5+): incremental, with joining (comma-separated
 * "server.N=host:quorumPort:electionPort[:role];[clientHost:]clientPort" entries) and/or leaving
 * (comma-separated server ids), or bulk, with new_members (the whole new list); NULL for what is
 * not used. from_config is the config version (zxid) it must apply to, -1 for any. The result is
 * the new configuration: data/data_len and stat of /zookeeper/config. A server without
 * reconfigEnabled (Apache's default; Paddock always) answers PDK_ZRECONFIGDISABLED; the session
 * needs ADMIN permission on /zookeeper/config (or super) otherwise.
 */
PDK_API int pdk_reconfig(struct pdk_client *c, const char *joining, const char *leaving,
                         const char *new_members, int64_t from_config, pdk_completion_fn cb,
                         void *ctx);
/* addWatch: a persistent (recursive) watch, mode an enum pdk_add_watch_mode; watcher required. */
PDK_API int pdk_add_watch(struct pdk_client *c, const char *path, int mode, pdk_watcher_fn watcher,
                          void *wctx, pdk_completion_fn cb, void *ctx);
/*
 * removeWatches / checkWatches. watcher NULL: removes every watch of `type`
 * on path, on the server (removeWatches) and here. A given (watcher, wctx):
 * removes only that registration; the server is asked with checkWatches
 * whether it still has a watch (as ZooKeeper's client does). Returns
 * PDK_ZNOWATCHER at once when this client has no such watch. Each removed
 * watcher gets its *_WATCH_REMOVED event before cb runs.
 */
PDK_API int pdk_remove_watches(struct pdk_client *c, const char *path, int type,
                               pdk_watcher_fn watcher, void *wctx, pdk_completion_fn cb, void *ctx);
/*
 * The same with ZooKeeper's `local` flag (zkCli `removewatches -l`): when local is true the
 * watches are removed here even if the server answers with an error or the connection is
 * lost before it answers; if any were removed, cb completes with PDK_ZOK.
 */
PDK_API int pdk_remove_watches_local(struct pdk_client *c, const char *path, int type,
                                     pdk_watcher_fn watcher, void *wctx, bool local,
                                     pdk_completion_fn cb, void *ctx);
/* whoAmI: result.infos (n_infos). */
PDK_API int pdk_who_am_i(struct pdk_client *c, pdk_completion_fn cb, void *ctx);
/*
 * addauth: scheme ("digest") and len bytes of credential ("user:password"),
 * both copied (borrowed for the call only). len -1 sends a null credential
 * (cred is not read), as ZooKeeper's addAuthInfo(scheme, null); the digest
 * scheme refuses it. Kept and re-sent after every reconnect. cb completes
 * with PDK_ZOK, or PDK_ZAUTHFAILED (then the session is finished: the
 * server closes the connection and the client goes to
 * PDK_STATE_AUTH_FAILED).
 */
PDK_API int pdk_add_auth(struct pdk_client *c, const char *scheme, const void *cred, int32_t len,
                         pdk_completion_fn cb, void *ctx);

/* One operation of a multi (create, delete, set_data, check) or multiRead (get_data, get_children).
 */
struct pdk_op {
    int type;                       /* PDK_OP_CREATE, _DELETE, _SET_DATA, _CHECK, _GET_DATA,
                                       _GET_CHILDREN */
    const char *path;               /* borrowed */
    const void *data;               /* create, set_data; borrowed */
    int32_t len;                    /* bytes of data; -1 for null */
    int32_t version;                /* delete, set_data, check; -1 for any */
    int mode;                       /* create: enum pdk_create_mode */
    int64_t ttl_ms;                 /* create with a TTL mode */
    const struct pdk_acl_list *acl; /* create; NULL: open */
};

static inline struct pdk_op pdk_op_create(const char *path, const void *data, int32_t len, int mode)
{
    struct pdk_op op = {
        .type = PDK_OP_CREATE, .path = path, .data = data, .len = len, .version = -1, .mode = mode};
    return op;
}
static inline struct pdk_op pdk_op_delete(const char *path, int32_t version)
{
    struct pdk_op op = {.type = PDK_OP_DELETE, .path = path, .version = version};
    return op;
}
static inline struct pdk_op pdk_op_set_data(const char *path, const void *data, int32_t len,
                                            int32_t version)
{
    struct pdk_op op = {
        .type = PDK_OP_SET_DATA, .path = path, .data = data, .len = len, .version = version};
    return op;
}
static inline struct pdk_op pdk_op_check(const char *path, int32_t version)
{
    struct pdk_op op = {.type = PDK_OP_CHECK, .path = path, .version = version};
    return op;
}
static inline struct pdk_op pdk_op_get_data(const char *path)
{
    struct pdk_op op = {.type = PDK_OP_GET_DATA, .path = path, .version = -1};
    return op;
}
static inline struct pdk_op pdk_op_get_children(const char *path)
{
    struct pdk_op op = {.type = PDK_OP_GET_CHILDREN, .path = path, .version = -1};
    return op;
}

/*
 * multi (atomic) of n write ops (ops borrowed). result.results has one entry
 * per op: a successful op has its type and fields (a create has path, a
 * TTL/container create also stat, set_data has stat); when the multi failed
 * every entry has op PDK_OP_ERROR and its rc: PDK_ZOK for ops before the
 * failing one, its error, PDK_ZRUNTIMEINCONSISTENCY after it. result.rc is
 * the first failing op's error (PDK_ZOK when all succeeded).
 */
PDK_API int pdk_multi(struct pdk_client *c, const struct pdk_op *ops, int n, pdk_completion_fn cb,
                      void *ctx);
/* multiRead (not atomic) of get_data/get_children ops: each entry succeeds or fails alone;
 * result.rc is PDK_ZOK unless the whole request failed. */
PDK_API int pdk_multi_read(struct pdk_client *c, const struct pdk_op *ops, int n,
                           pdk_completion_fn cb, void *ctx);

/* ---- results that outlive callbacks ---------------------------------------- */

/* Returns an owned deep copy of r in one allocation (release with pdk_result_free()), or NULL. */
PDK_API struct pdk_result *pdk_result_dup(const struct pdk_result *r);
/* Releases a result from pdk_result_dup() or a blocking wrapper. NULL is a no-op. */
PDK_API void pdk_result_free(struct pdk_result *r);

/* ---- blocking wrappers ------------------------------------------------------ */
/*
 * For simple programs: each drives the client with poll() until its request
 * completes or timeout_ms passes (PDK_ZOPERATIONTIMEOUT; the request stays
 * outstanding and its result is discarded). Other requests and watchers keep
 * being served meanwhile. Must not be called from a callback.
 */

/* A completion slot for pdk_wait(): pass pdk_sync_completion as cb and the slot as ctx. */
struct pdk_sync {
    bool is_done;              /* set by pdk_sync_completion */
    struct pdk_result *result; /* owned by the caller once is_done; pdk_result_free() */
};
/* The completion that fills a struct pdk_sync (ctx) with pdk_result_dup(res). */
PDK_API void pdk_sync_completion(struct pdk_client *c, const struct pdk_result *res, void *ctx);

/*
 * Runs the client until s->is_done or timeout_ms passes (< 0: no limit).
 * Returns the result's rc (PDK_ZSYSTEMERROR if it could not be copied), or
 * PDK_ZOPERATIONTIMEOUT: then the request is still outstanding and s must
 * stay alive until its completion fills it in. If a callback freed the client
 * meanwhile, returns PDK_ZCLOSING (or s's rc) and the client is gone.
 */
PDK_API int pdk_wait(struct pdk_client *c, struct pdk_sync *s, int timeout_ms);

/* Runs the client until its session is established (PDK_ZOK), or the timeout / a terminal error. */
PDK_API int pdk_wait_connected(struct pdk_client *c, int timeout_ms);

/* create; *path_out (may be NULL) gets the created path, owned: release with free(). */
PDK_API int pdk_create_sync(struct pdk_client *c, const char *path, const void *data, int32_t len,
                            const struct pdk_acl_list *acl, int mode, int64_t ttl_ms,
                            char **path_out, struct pdk_stat *stat_out, int timeout_ms);
PDK_API int pdk_delete_sync(struct pdk_client *c, const char *path, int32_t version,
                            int timeout_ms);
/* stat_out may be NULL. */
PDK_API int pdk_exists_sync(struct pdk_client *c, const char *path, pdk_watcher_fn watcher,
                            void *wctx, struct pdk_stat *stat_out, int timeout_ms);
/* *data_out gets an owned NUL-terminated copy (release with free()) or NULL for a null
 * value; *len_out its length (-1 for null). Any out pointer may be NULL. */
PDK_API int pdk_get_sync(struct pdk_client *c, const char *path, pdk_watcher_fn watcher, void *wctx,
                         char **data_out, int32_t *len_out, struct pdk_stat *stat_out,
                         int timeout_ms);
PDK_API int pdk_set_sync(struct pdk_client *c, const char *path, const void *data, int32_t len,
                         int32_t version, struct pdk_stat *stat_out, int timeout_ms);
/* *res_out gets the owned result (strings, stat): release with pdk_result_free(). */
PDK_API int pdk_get_children_sync(struct pdk_client *c, const char *path, pdk_watcher_fn watcher,
                                  void *wctx, struct pdk_result **res_out, int timeout_ms);
/* closeSession, then wait for it; the client is CLOSED afterwards (pdk_free() it). */
PDK_API int pdk_close_sync(struct pdk_client *c, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif
