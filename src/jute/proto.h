/*
 * ZooKeeper protocol constants, with the numbers Apache ZooKeeper 3.8/3.9
 * puts on the wire (ZooDefs.OpCode, KeeperException.Code, Watcher.Event,
 * CreateMode, ZooDefs.Perms). These are protocol data, not Paddock errors.
 */
#ifndef PD_JUTE_PROTO_H
#define PD_JUTE_PROTO_H

#include <stdint.h>

/* Opcodes (RequestHeader.type, TxnHeader.type, MultiHeader.type). */
enum zk_op {
    ZOO_OP_NOTIFICATION = 0,
    ZOO_OP_CREATE = 1,
    ZOO_OP_DELETE = 2,
    ZOO_OP_EXISTS = 3,
    ZOO_OP_GETDATA = 4,
    ZOO_OP_SETDATA = 5,
    ZOO_OP_GETACL = 6,
    ZOO_OP_SETACL = 7,
    ZOO_OP_GETCHILDREN = 8,
    ZOO_OP_SYNC = 9,
    ZOO_OP_PING = 11,
    ZOO_OP_GETCHILDREN2 = 12,
    ZOO_OP_CHECK = 13,
    ZOO_OP_MULTI = 14,
    ZOO_OP_CREATE2 = 15,
    ZOO_OP_RECONFIG = 16,
    ZOO_OP_CHECKWATCHES = 17,
    ZOO_OP_REMOVEWATCHES = 18,
    ZOO_OP_CREATECONTAINER = 19,
    ZOO_OP_DELETECONTAINER = 20,
    ZOO_OP_CREATETTL = 21,
    ZOO_OP_MULTIREAD = 22,
    ZOO_OP_AUTH = 100,
    ZOO_OP_SETWATCHES = 101,
    ZOO_OP_SASL = 102,
    ZOO_OP_GETEPHEMERALS = 103,
    ZOO_OP_GETALLCHILDRENNUMBER = 104,
    ZOO_OP_SETWATCHES2 = 105,
    ZOO_OP_ADDWATCH = 106,
    ZOO_OP_WHOAMI = 107,
    ZOO_OP_CREATESESSION = -10,
    ZOO_OP_CLOSESESSION = -11,
    ZOO_OP_ERROR = -1,
};

/* Result codes (ReplyHeader.err, ErrorResponse.err, ErrorTxn.err). */
enum zk_err {
    ZOK = 0,
    ZSYSTEMERROR = -1,
    ZRUNTIMEINCONSISTENCY = -2,
    ZDATAINCONSISTENCY = -3,
    ZCONNECTIONLOSS = -4,
    ZMARSHALLINGERROR = -5,
    ZUNIMPLEMENTED = -6,
    ZOPERATIONTIMEOUT = -7,
    ZBADARGUMENTS = -8,
    ZUNKNOWNSESSION = -12,
    ZNEWCONFIGNOQUORUM = -13,
    ZRECONFIGINPROGRESS = -14,
    ZAPIERROR = -100,
    ZNONODE = -101,
    ZNOAUTH = -102,
    ZBADVERSION = -103,
    ZNOCHILDRENFOREPHEMERALS = -108,
    ZNODEEXISTS = -110,
    ZNOTEMPTY = -111,
    ZSESSIONEXPIRED = -112,
    ZINVALIDCALLBACK = -113,
    ZINVALIDACL = -114,
    ZAUTHFAILED = -115,
    ZSESSIONMOVED = -118,
    ZNOTREADONLY = -119,
    ZEPHEMERALONLOCALSESSION = -120,
    ZNOWATCHER = -121,
    ZREQUESTTIMEOUT = -122,
    ZRECONFIGDISABLED = -123,
    ZSESSIONCLOSEDREQUIRESASLAUTH = -124,
    ZQUOTAEXCEEDED = -125,
    ZTHROTTLEDOP = -127,
};

/* Special xids. */
enum {
    ZOO_XID_NOTIFICATION = -1,
    ZOO_XID_PING = -2,
    ZOO_XID_AUTH = -4,
    ZOO_XID_SET_WATCHES = -8,
};

/* WatcherEvent.type */
enum zk_event_type {
    ZOO_EVENT_NONE = -1,
    ZOO_EVENT_CREATED = 1,
    ZOO_EVENT_DELETED = 2,
    ZOO_EVENT_DATA_CHANGED = 3,
    ZOO_EVENT_CHILDREN_CHANGED = 4,
    ZOO_EVENT_DATA_WATCH_REMOVED = 5,
    ZOO_EVENT_CHILD_WATCH_REMOVED = 6,
    ZOO_EVENT_PERSISTENT_WATCH_REMOVED = 7,
};

/* WatcherEvent.state */
enum zk_state {
    ZOO_STATE_DISCONNECTED = 0,
    ZOO_STATE_SYNC_CONNECTED = 3,
    ZOO_STATE_AUTH_FAILED = 4,
    ZOO_STATE_CONNECTED_READ_ONLY = 5,
    ZOO_STATE_SASL_AUTHENTICATED = 6,
    ZOO_STATE_EXPIRED = -112,
};

/* WatcherType for checkWatches/removeWatches. */
enum zk_watcher_type {
    ZOO_WATCHER_CHILDREN = 1,
    ZOO_WATCHER_DATA = 2,
    ZOO_WATCHER_ANY = 3,
    ZOO_WATCHER_PERSISTENT = 4,
    ZOO_WATCHER_PERSISTENT_RECURSIVE = 5,
};

/* AddWatchRequest.mode */
enum zk_add_watch_mode {
    ZOO_ADD_WATCH_PERSISTENT = 0,
    ZOO_ADD_WATCH_PERSISTENT_RECURSIVE = 1,
};

/* CreateRequest.flags (CreateMode). */
enum zk_create_mode {
    ZOO_PERSISTENT = 0,
    ZOO_EPHEMERAL = 1,
    ZOO_PERSISTENT_SEQUENTIAL = 2,
    ZOO_EPHEMERAL_SEQUENTIAL = 3,
    ZOO_CONTAINER = 4,
    ZOO_PERSISTENT_WITH_TTL = 5,
    ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL = 6,
};

/* ACL permission bits. */
enum zk_perm {
    ZOO_PERM_READ = 1,
    ZOO_PERM_WRITE = 2,
    ZOO_PERM_CREATE = 4,
    ZOO_PERM_DELETE = 8,
    ZOO_PERM_ADMIN = 16,
    ZOO_PERM_ALL = 31,
};

/* Default jute.maxbuffer: the largest frame either side accepts. */
#define JUTE_MAX_BUFFER_DEFAULT 1048575

/* Length of a session password. */
#define ZOO_PASSWD_LEN 16

/* ephemeralOwner of container nodes (Long.MIN_VALUE) and the TTL-node mask. */
#define ZOO_CONTAINER_OWNER ((int64_t)INT64_MIN)
#define ZOO_TTL_MASK        ((int64_t)0xff00000000000000ULL)
#define ZOO_TTL_MAX         ((int64_t)0x000000ffffffffffLL)

/* Name of a result code ("NONODE"), or NULL if unknown. */
const char *zk_err_name(int err);

#endif
