/*
 * The server-to-server wire of Apache ZooKeeper 3.8: the election port
 * (QuorumCnxManager + FastLeaderElection), the quorum port (Leader, Learner,
 * LearnerHandler: QuorumPacket and the payloads in its `data`), and the two
 * epoch files in dataDir/version-2. Pure computation over buffers, in the
 * style of jute.h: decoders read from a bounds-checked `struct jute_in` with a
 * sticky error, encoders append to a `struct jute_out`; the *_peek functions
 * tell a network driver how many bytes make one whole message, checking every
 * length against its limit before the driver waits for (or allocates) more.
 * This is not the driver: no sockets, no timers, no decision (src/zab/ decides).
 *
 * ---- Election port (QuorumCnxManager.java, FastLeaderElection.java) ----------
 *
 *   dialer                                    listener
 *     | initial message (jute_qcm_initial) ------>|   no reply of any kind
 *     |<==== frames both ways: int len + body ===>|   body = FLE notification
 *
 * - The initial message is NOT length-framed: long protocolVersion, long sid,
 *   int addrLen, addrLen bytes. protocolVersion is -65536 (V1, "host:port",
 *   what 3.8 sends unless multiAddress.enabled) or -65535 (V2, 3.6+: several
 *   "host:port" joined with '|'); a listener refuses any other negative value.
 *   A non-negative first long is the pre-3.5 form: that long is the sid and
 *   nothing follows. addrLen must be 1..2048 (QuorumCnxManager.maxBuffer).
 *   IPv6 hosts are bracketed ("[::1]:3888"). A sid of Long.MAX_VALUE
 *   (QCM_OBSERVER_ID) is an observer without an id; the listener numbers it.
 * - Which connection survives: only a connection DIALLED BY THE BIGGER SID is
 *   kept. The dialer, after writing the initial message, closes its socket
 *   itself if the listener's sid is bigger than its own. The listener closes
 *   a connection from a smaller sid, and then dials that sid back (at the
 *   address the message carried, else the configured one); a connection from
 *   a bigger sid replaces any existing one for that sid. A message carrying
 *   the listener's own sid is left open and unused (ZOOKEEPER-2164).
 * - Frames after the initial message: int length, then the body; 3.8 refuses
 *   length <= 0 or > 512 KiB (PACKETMAXSIZE) and drops the connection.
 *   jute_election_frame_peek() applies exactly that.
 * - Notification body (FastLeaderElection.buildMsg, WorkerReceiver): see
 *   struct jute_fle_notification. 3.8 sends 44 + configLen bytes.
 *
 * ---- Quorum port (Learner.java, LearnerHandler.java, Leader.java) ------------
 *
 * Each direction is a stream of QuorumPacket records written back to back
 * with BinaryOutputArchive: NO length prefix around a packet; what delimits
 * one is its own encoding (int type, long zxid, buffer data, vector<Id>
 * authinfo). jute_quorum_packet_peek() finds the end of one. Buffer and string
 * lengths above jute.maxbuffer + zookeeper.jute.maxbuffer.extrasize (both
 * default 0xfffff, so 2097150 bytes) are refused by the reader
 * (BinaryInputArchive.checkLength); vector counts are not checked by Apache.
 * The one exception to "back to back packets": a SNAP packet is followed by
 * the raw leader database (int sessionCount, {long id, int timeout}..., then
 * DataTree.serialize: the ACL cache and the nodes up to the "/" terminator,
 * no file header, no digest) and then the string "BenWasHere"
 * (JUTE_QUORUM_SNAP_SIGNATURE); only after that do QuorumPackets resume.
 *
 * Handshake (protocol 0x10000, Zab 1.0), learner L, leader M:
 *   L->M FOLLOWERINFO|OBSERVERINFO zxid=acceptedEpoch<<32, data=LearnerInfo
 *   M->L LEADERINFO  zxid=newEpoch<<32, data=int 0x10000
 *   L->M ACKEPOCH    zxid=lastLoggedZxid, data=int currentEpoch, or -1 when
 *                    L already accepted newEpoch (not an ack of the epoch)
 *   M->L DIFF (zxid = last zxid M sends) | TRUNC (zxid = truncate to) |
 *        SNAP (zxid = M's last processed zxid; snapshot stream follows)
 *   M->L PROPOSAL/COMMIT pairs (the diff), NEWLEADER zxid=newEpoch<<32 with
 *        data = M's QuorumVerifier text; in a DIFF the pairs may come before
 *        or after NEWLEADER
 *   L->M ACK zxid=newEpoch<<32 (for NEWLEADER)
 *   M->L UPTODATE zxid=-1, no data
 *   L->M ACK zxid=newEpoch<<32 (after UPTODATE)
 *   then broadcast: M->L PROPOSAL (zxid, txn), COMMIT (zxid), INFORM to
 *   observers (zxid, txn), PING (zxid = last proposed, no data), SYNC (zxid 0:
 *   a learner's sync request may now be answered), REVALIDATE reply;
 *   L->M ACK (zxid), PING reply (data = session touches), REQUEST (zxid -1),
 *   REVALIDATE (zxid -1). A learner older than 0x10000 (LearnerInfo shorter
 *   than 12 bytes) gets no LEADERINFO and sends no ACKEPOCH; 3.8 still talks
 *   to it, Paddock need not.
 * "No data" is a null buffer (length -1) and "no authinfo" a null vector
 * (count -1) on the wire; jute_buf.len -1 and is_null keep that distinction.
 *
 * ---- Epoch files (QuorumPeer.writeLongToFile / readLongFromFile) ------------
 *
 * dataDir/version-2/acceptedEpoch and dataDir/version-2/currentEpoch hold the
 * epoch as decimal text with NO newline, written atomically (a ".tmp" file
 * renamed over the old one; "currentEpoch.tmp" is read at startup if the
 * last zxid is ahead of currentEpoch).
 */
#ifndef PD_JUTE_QUORUM_H
#define PD_JUTE_QUORUM_H

#include "jute/jute.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- election port ----------------------------------------------------------------- */

#define QCM_PROTOCOL_V1    (-65536LL)           /* single address (3.5+; 3.8's default) */
#define QCM_PROTOCOL_V2    (-65535LL)           /* '|'-separated addresses (3.6+) */
#define QCM_MAX_ADDR_BYTES 2048                 /* QuorumCnxManager.maxBuffer */
#define QCM_MAX_MSG_BYTES  (512 * 1024)         /* QuorumCnxManager.PACKETMAXSIZE */
#define QCM_OBSERVER_ID    ((int64_t)INT64_MAX) /* QuorumPeer.OBSERVER_ID */

/* The initial message a dialer writes on the election port. */
struct jute_qcm_initial {
    int64_t protocol_version; /* QCM_PROTOCOL_V1/V2; >= 0: the pre-3.5 form, = sid */
    int64_t sid;
    struct jute_buf addrs; /* "host:port" ('|'-joined for V2); borrowed; {NULL,-1} in
                              the pre-3.5 form */
};

/*
 * How many bytes the initial message at the start of `data` takes. Returns 0
 * with *msg_len set, PD_EAGAIN if more bytes are needed, PD_EMALFORMED for an
 * unknown negative protocol version or addrLen <= 0, PD_ETOOBIG for addrLen >
 * QCM_MAX_ADDR_BYTES (3.8 closes the connection on both).
 */
int jute_qcm_initial_peek(const uint8_t *data, size_t len, size_t *msg_len);

/* Decodes / encodes one initial message (the bytes jute_qcm_initial_peek measured).
 * Decode applies the same checks as the peek (PD_EMALFORMED for all of them). */
void jute_get_qcm_initial(struct jute_in *in, struct jute_qcm_initial *r);
void jute_put_qcm_initial(struct jute_out *out, const struct jute_qcm_initial *r);

/*
 * Whether the connection between `my_sid` and `peer_sid` survives, seen from
 * either end: true iff the dialer's sid is the bigger one. `i_dialled` says
 * which end `my_sid` is.
 */
bool jute_qcm_keeps(int64_t my_sid, int64_t peer_sid, bool i_dialled);

/*
 * An election frame at the start of `data`: int length + body. Returns 0 with
 * *body_len set when 4 + *body_len bytes are there, PD_EAGAIN, PD_EMALFORMED for
 * length <= 0, PD_ETOOBIG for length > QCM_MAX_MSG_BYTES (3.8's RecvWorker rules).
 */
int jute_election_frame_peek(const uint8_t *data, size_t len, size_t *body_len);

/* QuorumPeer.ServerState ordinals: the `state` int of a notification. */
enum fle_state {
    FLE_LOOKING = 0,
    FLE_FOLLOWING = 1,
    FLE_LEADING = 2,
    FLE_OBSERVING = 3,
};

/* Notification.CURRENTVERSION: the version 3.5-3.9 put in every notification. */
#define FLE_NOTIFICATION_VERSION 2

/* Which of the layouts a 3.8 receiver accepts a notification body came in. */
enum jute_fle_form {
    JUTE_FLE_FORM_28,   /* 28 bytes: no peerEpoch, no version (pre-3.4) */
    JUTE_FLE_FORM_40,   /* 40 bytes: peerEpoch + an int the receiver ignores (3.4) */
    JUTE_FLE_FORM_FULL, /* any other length (>= 41): peerEpoch, version, config if version > 1 */
};

/*
 * A FastLeaderElection notification, the body of one election frame:
 *   int state, long leader, long zxid, long electionEpoch,
 *   long peerEpoch, int version, int configLen, configLen bytes
 * As 3.8's WorkerReceiver reads it:
 *   - fewer than 28 bytes: dropped; exactly 28: peerEpoch = zxid >> 32,
 *     version 0; exactly 40: the int after peerEpoch is not read (version 0);
 *     any other length must hold peerEpoch and version (so 29..39 bytes are
 *     dropped as partial; 41..43 bytes pass if version <= 1);
 *   - version > 1: configLen must be 0..(body length) and the config bytes
 *     must be there, else the message is dropped;
 *   - bytes after the last field read are ignored (the decoder leaves them
 *     unread: a caller must not refuse them);
 *   - a state outside 0..3 is dropped after parsing (the driver's business:
 *     jute_fle_state_valid()).
 * The config is QuorumVerifier.toString(): "server.N=host:qport:eport:role
 * [;clientHost:clientPort]\n" per member, then "version=<hex>", no newline.
 */
struct jute_fle_notification {
    int32_t state;          /* enum fle_state */
    int64_t leader;         /* proposed leader's sid */
    int64_t zxid;           /* proposed leader's last zxid */
    int64_t election_epoch; /* the sender's logical clock (round) */
    int64_t peer_epoch;     /* proposed leader's epoch (derived in FORM_28) */
    int32_t version;        /* FORM_FULL: as sent; FORM_40: the ignored int, as sent;
                               FORM_28: 0 */
    struct jute_buf config; /* FORM_FULL with version > 1; else {NULL,-1}; borrowed.
                               Encoding a null config writes length 0 */
    enum jute_fle_form form;
};

/* Decodes a whole notification body (`in` must span exactly one frame body). */
void jute_get_fle_notification(struct jute_in *in, struct jute_fle_notification *r);
void jute_put_fle_notification(struct jute_out *out, const struct jute_fle_notification *r);
/* The version the receiver acts on: 0 for FORM_28/FORM_40, else r->version. */
int32_t jute_fle_effective_version(const struct jute_fle_notification *r);
bool jute_fle_state_valid(int32_t state);

/* ---- quorum port ------------------------------------------------------------------- */

/* QuorumPacket.type (Leader.java). */
enum jute_qp_type {
    QP_REQUEST = 1,
    QP_PROPOSAL = 2,
    QP_ACK = 3,
    QP_COMMIT = 4,
    QP_PING = 5,
    QP_REVALIDATE = 6,
    QP_SYNC = 7,
    QP_INFORM = 8,
    QP_COMMITANDACTIVATE = 9,
    QP_NEWLEADER = 10,
    QP_FOLLOWERINFO = 11,
    QP_UPTODATE = 12,
    QP_DIFF = 13,
    QP_TRUNC = 14,
    QP_SNAP = 15,
    QP_OBSERVERINFO = 16,
    QP_LEADERINFO = 17,
    QP_ACKEPOCH = 18,
    QP_INFORMANDACTIVATE = 19,
};

/* The learner protocol version 3.4-3.9 announce (LearnerInfo, LEADERINFO). */
#define QUORUM_PROTOCOL_VERSION 0x10000
/* The largest buffer/string a 3.8 quorum reader accepts by default
 * (jute.maxbuffer + zookeeper.jute.maxbuffer.extrasize). */
#define QUORUM_MAX_BUFFER_DEFAULT (2 * 0xfffff)
/* The string that ends the snapshot stream after a SNAP packet. */
#define JUTE_QUORUM_SNAP_SIGNATURE "BenWasHere"

struct jute_id_vec {
    int32_t count;         /* 0 when null */
    bool is_null;          /* count -1 on the wire */
    struct jute_id *items; /* arena (decode) or borrowed (encode) */
};

struct jute_quorum_packet {
    int32_t type; /* enum jute_qp_type */
    int64_t zxid;
    struct jute_buf data;        /* borrowed; len -1 = null */
    struct jute_id_vec authinfo; /* REQUEST: the client's auth ids; otherwise null */
};

/*
 * How many bytes the QuorumPacket at the start of `data` takes. Returns 0 with
 * *packet_len set, PD_EAGAIN, PD_EMALFORMED for a length or count below -1,
 * or PD_ETOOBIG for a buffer or string longer than max_buffer, or more authinfo
 * entries than max_buffer / 8 (each Id takes at least 8 bytes).
 */
int jute_quorum_packet_peek(const uint8_t *data, size_t len, size_t max_buffer, size_t *packet_len);

void jute_get_id_vec(struct jute_in *in, struct jute_id_vec *r);
void jute_put_id_vec(struct jute_out *out, const struct jute_id_vec *r);
void jute_get_quorum_packet(struct jute_in *in, struct jute_quorum_packet *r);
void jute_put_quorum_packet(struct jute_out *out, const struct jute_quorum_packet *r);

/*
 * LearnerInfo, the data of FOLLOWERINFO/OBSERVERINFO. 3.8 writes all 20 bytes;
 * LearnerHandler reads what is there: 8 bytes (sid only, protocol 0x1), 12
 * (no configVersion), 20 or more (the rest ignored). A null data means "no
 * sid" (the leader invents a negative one); that is the driver's case.
 */
struct jute_learner_info {
    int64_t server_id;
    int32_t protocol_version;  /* QUORUM_PROTOCOL_VERSION; 0x1 if absent */
    int64_t config_version;    /* QuorumVerifier version; 0 if absent */
    bool has_protocol_version; /* decode: was on the wire; encode: write it */
    bool has_config_version;   /* likewise (needs has_protocol_version) */
};

void jute_get_learner_info(struct jute_in *in, struct jute_learner_info *r);
void jute_put_learner_info(struct jute_out *out, const struct jute_learner_info *r);

/*
 * LEADERINFO data: int protocol version; ACKEPOCH data: int currentEpoch (-1:
 * already accepted). Both are a single int; these name the record.
 */
int32_t jute_get_epoch_int(struct jute_in *in);
void jute_put_epoch_int(struct jute_out *out, int32_t v);

/*
 * REQUEST data (Learner.request): long sessionId, int cxid, int type, then
 * the client's request body exactly as the client sent it (no RequestHeader,
 * no length; may be empty). The packet's zxid is -1 and its authinfo is the
 * client connection's ids (an "ip" id at least).
 */
struct jute_learner_request {
    int64_t session_id;
    int32_t cxid;
    int32_t type;            /* opcode (enum zk_op) */
    struct jute_buf request; /* the rest of data; borrowed; len >= 0 */
};

void jute_get_learner_request(struct jute_in *in, struct jute_learner_request *r);
void jute_put_learner_request(struct jute_out *out, const struct jute_learner_request *r);

/*
 * PING data from a learner (Learner.ping): {long sessionId, int timeout}
 * repeated to the end of data, one per session touched since the last ping
 * (timeout in ms); empty, never null, when there are none. The leader's PING
 * has null data and zxid = its last proposed zxid; the learner echoes that
 * zxid. A partial trailing entry is malformed (3.8 drops the connection).
 */
struct jute_session_touch {
    int64_t session_id;
    int32_t timeout_ms;
};

struct jute_ping_touches {
    int32_t count;
    struct jute_session_touch *items; /* arena (decode) or borrowed (encode) */
};

void jute_get_ping_touches(struct jute_in *in, struct jute_ping_touches *r);
void jute_put_ping_touches(struct jute_out *out, const struct jute_ping_touches *r);

/*
 * REVALIDATE: the learner sends {long sessionId, int timeout} (zxid -1); the
 * leader answers with the same packet (type, zxid) whose data is replaced by
 * {long sessionId, boolean valid}.
 */
struct jute_revalidate_request {
    int64_t session_id;
    int32_t timeout_ms;
};

struct jute_revalidate_reply {
    int64_t session_id;
    bool is_valid;
};

void jute_get_revalidate_request(struct jute_in *in, struct jute_revalidate_request *r);
void jute_put_revalidate_request(struct jute_out *out, const struct jute_revalidate_request *r);
void jute_get_revalidate_reply(struct jute_in *in, struct jute_revalidate_reply *r);
void jute_put_revalidate_reply(struct jute_out *out, const struct jute_revalidate_reply *r);

/*
 * COMMITANDACTIVATE data: long designated leader sid. INFORMANDACTIVATE data:
 * long designated leader sid, then the txn bytes (as in INFORM). PROPOSAL and
 * INFORM data are the txn bytes alone: TxnHeader + body + optional TxnDigest,
 * exactly a txn-log payload (storage/txn.h: txn_decode/txn_encode; its
 * TxnHeader zxid equals the packet's zxid).
 */
struct jute_activate {
    int64_t leader_sid;
    struct jute_buf txn; /* INFORMANDACTIVATE: the rest of data; COMMITANDACTIVATE: len 0 */
};

void jute_get_activate(struct jute_in *in, struct jute_activate *r);
void jute_put_activate(struct jute_out *out, const struct jute_activate *r);

/* Name of a quorum packet type ("PROPOSAL"), or NULL if unknown. */
const char *jute_qp_type_name(int32_t type);

/* ---- epoch files ------------------------------------------------------------------- */

#define QUORUM_ACCEPTED_EPOCH_FILE "acceptedEpoch"
#define QUORUM_CURRENT_EPOCH_FILE  "currentEpoch"
/* Longest formatted epoch: "-9223372036854775808" plus the NUL. */
#define QUORUM_EPOCH_TEXT_MAX 21

/*
 * Parses an epoch file's contents as 3.8 does (BufferedReader.readLine, then
 * Long.parseLong): the first line (ended by "\n", "\r" or "\r\n", or by the
 * end of the file) must be an optional '+' or '-' and 1..19 ASCII digits within
 * the range of a long; anything after the line break is ignored. Returns 0,
 * or PD_EMALFORMED (empty file, empty line, spaces, not a number, overflow).
 */
int quorum_epoch_parse(const void *data, size_t len, int64_t *epoch);

/* Writes `epoch` as 3.8 does (decimal, no newline) into buf, NUL-terminated;
 * returns the number of bytes to write to the file (without the NUL). */
size_t quorum_epoch_format(int64_t epoch, char buf[QUORUM_EPOCH_TEXT_MAX]);

#endif
