/*
 * Encoders and decoders for the election and quorum ports of Apache
 * ZooKeeper 3.8 (quorum.h has the wire facts and where they come from).
 * Like records.c, each record is a straight line of primitive calls over a
 * reader and a writer with sticky errors; the *_peek functions measure one
 * message in a stream without decoding it, so a driver knows when it has a
 * whole one and can refuse an absurd length before buffering for it.
 */
#include "jute/quorum.h"

#include "common/err.h"

#include <string.h>

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* ---- election port ---------------------------------------------------------------- */

/* Checks a protocol version and an address length as QuorumCnxManager's InitialMessage. */
static int check_initial(int64_t version, int32_t addr_len)
{
    if (version != QCM_PROTOCOL_V1 && version != QCM_PROTOCOL_V2)
        return PD_EMALFORMED;
    if (addr_len <= 0)
        return PD_EMALFORMED;
    if (addr_len > QCM_MAX_ADDR_BYTES)
        return PD_ETOOBIG;
    return 0;
}

int jute_qcm_initial_peek(const uint8_t *data, size_t len, size_t *msg_len)
{
    if (len < 8)
        return PD_EAGAIN;
    int64_t version = be64(data);
    if (version >= 0) {
        *msg_len = 8;
        return 0;
    }
    if (version != QCM_PROTOCOL_V1 && version != QCM_PROTOCOL_V2)
        return PD_EMALFORMED; /* known before the rest arrives */
    if (len < 20)
        return PD_EAGAIN;
    int rc = check_initial(version, (int32_t)be32(data + 16));
    if (rc)
        return rc;
    size_t need = 20 + (size_t)be32(data + 16);
    if (len < need)
        return PD_EAGAIN;
    *msg_len = need;
    return 0;
}

void jute_get_qcm_initial(struct jute_in *in, struct jute_qcm_initial *r)
{
    r->protocol_version = jute_get_long(in);
    r->addrs = (struct jute_buf){NULL, -1};
    if (in->err || r->protocol_version >= 0) {
        r->sid = r->protocol_version;
        return;
    }
    r->sid = jute_get_long(in);
    /* Not a jute buffer: -1 is no null here but a bad length, like any length <= 0. */
    int32_t addr_len = jute_get_int(in);
    if (in->err)
        return;
    if (check_initial(r->protocol_version, addr_len)) {
        in->err = PD_EMALFORMED;
        return;
    }
    if (jute_in_left(in) < (size_t)addr_len) {
        in->err = PD_EMALFORMED;
        in->p = in->end;
        return;
    }
    r->addrs = (struct jute_buf){in->p, addr_len}; /* addr_len > 0 */
    in->p += addr_len;
}

void jute_put_qcm_initial(struct jute_out *out, const struct jute_qcm_initial *r)
{
    if (r->protocol_version >= 0) {
        jute_put_long(out, r->sid);
        return;
    }
    jute_put_long(out, r->protocol_version);
    jute_put_long(out, r->sid);
    int32_t len = r->addrs.len > 0 ? r->addrs.len : 0;
    jute_put_int(out, len);
    jute_put_raw(out, r->addrs.data, (size_t)len);
}

bool jute_qcm_keeps(int64_t my_sid, int64_t peer_sid, bool i_dialled)
{
    return i_dialled ? my_sid > peer_sid : peer_sid > my_sid;
}

int jute_election_frame_peek(const uint8_t *data, size_t len, size_t *body_len)
{
    if (len < 4)
        return PD_EAGAIN;
    int32_t n = (int32_t)be32(data);
    if (n <= 0)
        return PD_EMALFORMED;
    if (n > QCM_MAX_MSG_BYTES)
        return PD_ETOOBIG;
    if (len - 4 < (size_t)n)
        return PD_EAGAIN;
    *body_len = (size_t)n;
    return 0;
}

void jute_get_fle_notification(struct jute_in *in, struct jute_fle_notification *r)
{
    /* The receiver picks the layout from the body's exact length. */
    size_t size = jute_in_left(in);
    r->form = size == 28 ? JUTE_FLE_FORM_28 : size == 40 ? JUTE_FLE_FORM_40 : JUTE_FLE_FORM_FULL;
    r->config = (struct jute_buf){NULL, -1};
    r->version = 0;
    if (size < 28)
        in->err = in->err ? in->err : PD_EMALFORMED;
    r->state = jute_get_int(in);
    r->leader = jute_get_long(in);
    r->zxid = jute_get_long(in);
    r->election_epoch = jute_get_long(in);
    if (r->form == JUTE_FLE_FORM_28) {
        /* ZxidUtils.getEpochFromZxid: an arithmetic shift of the signed zxid. */
        r->peer_epoch = (int64_t)((uint64_t)r->zxid >> 32);
        if (r->zxid < 0)
            r->peer_epoch |= (int64_t)0xffffffff00000000ULL;
        return;
    }
    r->peer_epoch = jute_get_long(in);
    r->version = jute_get_int(in);
    if (r->form == JUTE_FLE_FORM_40 || in->err || r->version <= 1)
        return;
    int32_t config_len = jute_get_int(in);
    if (in->err)
        return;
    if (config_len < 0 || (size_t)config_len > size || jute_in_left(in) < (size_t)config_len) {
        in->err = PD_EMALFORMED;
        in->p = in->end;
        return;
    }
    r->config = (struct jute_buf){config_len ? in->p : NULL, config_len};
    if (config_len)
        in->p += config_len;
}

void jute_put_fle_notification(struct jute_out *out, const struct jute_fle_notification *r)
{
    jute_put_int(out, r->state);
    jute_put_long(out, r->leader);
    jute_put_long(out, r->zxid);
    jute_put_long(out, r->election_epoch);
    if (r->form == JUTE_FLE_FORM_28)
        return;
    jute_put_long(out, r->peer_epoch);
    jute_put_int(out, r->version);
    if (r->form == JUTE_FLE_FORM_40 || r->version <= 1)
        return;
    /* Never -1: 3.8 would drop the message (configLength < 0). */
    int32_t len = r->config.len > 0 ? r->config.len : 0;
    jute_put_int(out, len);
    jute_put_raw(out, r->config.data, (size_t)len);
}

int32_t jute_fle_effective_version(const struct jute_fle_notification *r)
{
    return r->form == JUTE_FLE_FORM_FULL ? r->version : 0;
}

bool jute_fle_state_valid(int32_t state)
{
    return state >= FLE_LOOKING && state <= FLE_OBSERVING;
}

/* ---- quorum port ------------------------------------------------------------------- */

/*
 * A cursor for jute_quorum_packet_peek: reads big-endian words from a stream
 * that may stop anywhere. Each step returns 0, PD_EAGAIN, or a length error.
 */
struct scan {
    const uint8_t *p;
    size_t left;
};

static int scan_skip(struct scan *s, size_t n)
{
    if (s->left < n)
        return PD_EAGAIN;
    s->p += n;
    s->left -= n;
    return 0;
}

static int scan_int(struct scan *s, int32_t *v)
{
    if (s->left < 4)
        return PD_EAGAIN;
    *v = (int32_t)be32(s->p);
    return scan_skip(s, 4);
}

/* A jute buffer or string: length -1..max_buffer, then that many bytes. */
static int scan_buffer(struct scan *s, size_t max_buffer)
{
    int32_t len;
    int rc = scan_int(s, &len);
    if (rc)
        return rc;
    if (len < -1)
        return PD_EMALFORMED;
    if (len > 0 && (size_t)len > max_buffer)
        return PD_ETOOBIG;
    return len > 0 ? scan_skip(s, (size_t)len) : 0;
}

int jute_quorum_packet_peek(const uint8_t *data, size_t len, size_t max_buffer, size_t *packet_len)
{
    struct scan s = {data, len};
    int32_t count;
    int rc = scan_skip(&s, 12); /* type, zxid */
    if (!rc)
        rc = scan_buffer(&s, max_buffer);
    if (!rc)
        rc = scan_int(&s, &count);
    if (rc)
        return rc;
    if (count < -1)
        return PD_EMALFORMED;
    if (count > 0 && (size_t)count > max_buffer / 8)
        return PD_ETOOBIG;
    for (int32_t i = 0; i < count; i++) {
        rc = scan_buffer(&s, max_buffer);
        if (!rc)
            rc = scan_buffer(&s, max_buffer);
        if (rc)
            return rc;
    }
    *packet_len = len - s.left;
    return 0;
}

void jute_get_id_vec(struct jute_in *in, struct jute_id_vec *r)
{
    int32_t n = jute_get_int(in);
    r->count = 0;
    r->is_null = false;
    r->items = NULL;
    if (in->err)
        return;
    if (n == -1) {
        r->is_null = true;
        return;
    }
    /* An Id is two strings, 8 bytes at least: refuse counts the frame cannot hold
     * before allocating for them. */
    if (n < 0 || (size_t)n > jute_in_left(in) / 8) {
        in->err = PD_EMALFORMED;
        return;
    }
    if (n == 0)
        return;
    r->items = arena_alloc(in->arena, (size_t)n * sizeof(*r->items));
    if (!r->items) {
        in->err = PD_ENOMEM;
        return;
    }
    r->count = n;
    for (int32_t i = 0; i < n && !in->err; i++)
        jute_get_id(in, &r->items[i]);
}

void jute_put_id_vec(struct jute_out *out, const struct jute_id_vec *r)
{
    if (r->is_null) {
        jute_put_int(out, -1);
        return;
    }
    jute_put_int(out, r->count);
    for (int32_t i = 0; i < r->count; i++)
        jute_put_id(out, &r->items[i]);
}

void jute_get_quorum_packet(struct jute_in *in, struct jute_quorum_packet *r)
{
    r->type = jute_get_int(in);
    r->zxid = jute_get_long(in);
    r->data = jute_get_buffer(in);
    jute_get_id_vec(in, &r->authinfo);
}

void jute_put_quorum_packet(struct jute_out *out, const struct jute_quorum_packet *r)
{
    jute_put_int(out, r->type);
    jute_put_long(out, r->zxid);
    jute_put_buffer(out, r->data.data, r->data.len);
    jute_put_id_vec(out, &r->authinfo);
}

void jute_get_learner_info(struct jute_in *in, struct jute_learner_info *r)
{
    /* LearnerHandler reads each field only if the data is long enough for it. */
    size_t size = jute_in_left(in);
    r->server_id = jute_get_long(in);
    r->has_protocol_version = !in->err && size >= 12;
    r->protocol_version = r->has_protocol_version ? jute_get_int(in) : 0x1;
    r->has_config_version = r->has_protocol_version && !in->err && size >= 20;
    r->config_version = r->has_config_version ? jute_get_long(in) : 0;
}

void jute_put_learner_info(struct jute_out *out, const struct jute_learner_info *r)
{
    jute_put_long(out, r->server_id);
    if (!r->has_protocol_version)
        return;
    jute_put_int(out, r->protocol_version);
    if (r->has_config_version)
        jute_put_long(out, r->config_version);
}

int32_t jute_get_epoch_int(struct jute_in *in)
{
    return jute_get_int(in);
}

void jute_put_epoch_int(struct jute_out *out, int32_t v)
{
    jute_put_int(out, v);
}

void jute_get_learner_request(struct jute_in *in, struct jute_learner_request *r)
{
    r->session_id = jute_get_long(in);
    r->cxid = jute_get_int(in);
    r->type = jute_get_int(in);
    size_t rest = in->err ? 0 : jute_in_left(in);
    if (rest > INT32_MAX) {
        in->err = PD_ETOOBIG;
        rest = 0;
    }
    r->request = (struct jute_buf){rest ? in->p : NULL, (int32_t)rest};
    if (rest)
        in->p += rest;
}

void jute_put_learner_request(struct jute_out *out, const struct jute_learner_request *r)
{
    jute_put_long(out, r->session_id);
    jute_put_int(out, r->cxid);
    jute_put_int(out, r->type);
    if (r->request.len > 0)
        jute_put_raw(out, r->request.data, (size_t)r->request.len);
}

void jute_get_ping_touches(struct jute_in *in, struct jute_ping_touches *r)
{
    r->count = 0;
    r->items = NULL;
    if (in->err)
        return;
    size_t left = jute_in_left(in);
    if (left % 12 != 0 || left / 12 > INT32_MAX) {
        in->err = PD_EMALFORMED;
        in->p = in->end;
        return;
    }
    if (left == 0)
        return;
    size_t n = left / 12;
    r->items = arena_alloc(in->arena, n * sizeof(*r->items));
    if (!r->items) {
        in->err = PD_ENOMEM;
        return;
    }
    r->count = (int32_t)n;
    for (size_t i = 0; i < n; i++) {
        r->items[i].session_id = jute_get_long(in);
        r->items[i].timeout_ms = jute_get_int(in);
    }
}

void jute_put_ping_touches(struct jute_out *out, const struct jute_ping_touches *r)
{
    for (int32_t i = 0; i < r->count; i++) {
        jute_put_long(out, r->items[i].session_id);
        jute_put_int(out, r->items[i].timeout_ms);
    }
}

void jute_get_revalidate_request(struct jute_in *in, struct jute_revalidate_request *r)
{
    r->session_id = jute_get_long(in);
    r->timeout_ms = jute_get_int(in);
}

void jute_put_revalidate_request(struct jute_out *out, const struct jute_revalidate_request *r)
{
    jute_put_long(out, r->session_id);
    jute_put_int(out, r->timeout_ms);
}

void jute_get_revalidate_reply(struct jute_in *in, struct jute_revalidate_reply *r)
{
    r->session_id = jute_get_long(in);
    /* DataInputStream.readBoolean: any non-zero byte is true. */
    r->is_valid = jute_get_bool(in);
}

void jute_put_revalidate_reply(struct jute_out *out, const struct jute_revalidate_reply *r)
{
    jute_put_long(out, r->session_id);
    jute_put_bool(out, r->is_valid);
}

void jute_get_activate(struct jute_in *in, struct jute_activate *r)
{
    r->leader_sid = jute_get_long(in);
    size_t rest = in->err ? 0 : jute_in_left(in);
    if (rest > INT32_MAX) {
        in->err = PD_ETOOBIG;
        rest = 0;
    }
    r->txn = (struct jute_buf){rest ? in->p : NULL, (int32_t)rest};
    if (rest)
        in->p += rest;
}

void jute_put_activate(struct jute_out *out, const struct jute_activate *r)
{
    jute_put_long(out, r->leader_sid);
    if (r->txn.len > 0)
        jute_put_raw(out, r->txn.data, (size_t)r->txn.len);
}

const char *jute_qp_type_name(int32_t type)
{
    static const char *const names[] = {
        [QP_REQUEST] = "REQUEST",
        [QP_PROPOSAL] = "PROPOSAL",
        [QP_ACK] = "ACK",
        [QP_COMMIT] = "COMMIT",
        [QP_PING] = "PING",
        [QP_REVALIDATE] = "REVALIDATE",
        [QP_SYNC] = "SYNC",
        [QP_INFORM] = "INFORM",
        [QP_COMMITANDACTIVATE] = "COMMITANDACTIVATE",
        [QP_NEWLEADER] = "NEWLEADER",
        [QP_FOLLOWERINFO] = "FOLLOWERINFO",
        [QP_UPTODATE] = "UPTODATE",
        [QP_DIFF] = "DIFF",
        [QP_TRUNC] = "TRUNC",
        [QP_SNAP] = "SNAP",
        [QP_OBSERVERINFO] = "OBSERVERINFO",
        [QP_LEADERINFO] = "LEADERINFO",
        [QP_ACKEPOCH] = "ACKEPOCH",
        [QP_INFORMANDACTIVATE] = "INFORMANDACTIVATE",
    };
    if (type < 0 || (size_t)type >= sizeof(names) / sizeof(names[0]))
        return NULL;
    return names[type];
}

/* ---- epoch files ------------------------------------------------------------------- */

int quorum_epoch_parse(const void *data, size_t len, int64_t *epoch)
{
    const char *s = data;
    size_t n = 0;
    while (n < len && s[n] != '\n' && s[n] != '\r')
        n++;
    size_t i = 0;
    bool is_negative = false;
    if (i < n && (s[i] == '-' || s[i] == '+')) {
        is_negative = s[i] == '-';
        i++;
    }
    if (i == n)
        return PD_EMALFORMED;
    /* Accumulate negatively, so that INT64_MIN parses like Long.parseLong does. */
    int64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return PD_EMALFORMED;
        int d = s[i] - '0';
        if (v < (INT64_MIN + d) / 10)
            return PD_EMALFORMED;
        v = v * 10 - d;
    }
    if (!is_negative) {
        if (v == INT64_MIN)
            return PD_EMALFORMED;
        v = -v;
    }
    *epoch = v;
    return 0;
}

size_t quorum_epoch_format(int64_t epoch, char buf[QUORUM_EPOCH_TEXT_MAX])
{
    char tmp[QUORUM_EPOCH_TEXT_MAX];
    size_t n = 0;
    /* Digits of the magnitude, taken from the negative side so INT64_MIN works. */
    int64_t v = epoch < 0 ? epoch : -epoch;
    do {
        tmp[n++] = (char)('0' - v % 10);
        v /= 10;
    } while (v);
    size_t len = 0;
    if (epoch < 0)
        buf[len++] = '-';
    while (n)
        buf[len++] = tmp[--n];
    buf[len] = '\0';
    return len;
}
