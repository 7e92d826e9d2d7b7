/*
 * libFuzzer target for the election- and quorum-port codec (src/jute/quorum.h).
 *
 * Input layout: one kind byte, then the bytes of a stream as a driver would
 * buffer them from a socket:
 *
 *   kind % 3 == 0  election port, dialer side: the initial message
 *                  (jute_qcm_initial_peek), then election frames
 *                  (jute_election_frame_peek), each body an FLE notification
 *              1   quorum port: QuorumPackets back to back
 *                  (jute_quorum_packet_peek with the default limit), each
 *                  packet's data decoded by its type (LearnerInfo, epoch int,
 *                  learner request, ping touches, revalidate request or
 *                  reply, activate)
 *              2   an epoch file's contents (quorum_epoch_parse/format)
 *
 * Properties checked (abort() on violation, so libFuzzer reports it):
 *   - a peek never measures more bytes than it was given, and the decoder of
 *     the measured message consumes exactly that many bytes without error;
 *   - decoders read only inside the message, which is copied into an
 *     exact-size heap buffer so ASan sees any over-read; the reader never
 *     leaves [start, end];
 *   - the only errors are PD_EMALFORMED, PD_ETOOBIG, PD_EAGAIN (peeks) and
 *     PD_ENOMEM (never here: no failing allocator is installed);
 *   - decoding is a fixed point after one re-encoding (as fuzz_records.c):
 *     e = encode(decode(x)) decodes completely and encode(decode(e)) == e;
 *   - an epoch that parses formats back to text that parses to the same value.
 *
 * The seed corpus tests/fuzz/corpus/quorum/ holds the golden captures of
 * tests/unit/jute/data/quorum/ in this layout; tests/fuzz/replay.c runs the
 * same entry point over files without libFuzzer.
 */
#include "common/arena.h"
#include "common/err.h"
#include "jute/quorum.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { KIND_ELECTION, KIND_QUORUM, KIND_EPOCH, KIND_COUNT };

/* What one message decodes to; which members are used depends on what it is. */
enum what {
    W_INITIAL,
    W_NOTIFICATION,
    W_PACKET,
    W_LEARNER_INFO,
    W_EPOCH_INT,
    W_LEARNER_REQUEST,
    W_PING,
    W_REVALIDATE_REQ,
    W_REVALIDATE_REPLY,
    W_ACTIVATE,
};

struct msg {
    struct jute_qcm_initial initial;
    struct jute_fle_notification notification;
    struct jute_quorum_packet packet;
    struct jute_learner_info learner_info;
    int32_t epoch_int;
    struct jute_learner_request request;
    struct jute_ping_touches ping;
    struct jute_revalidate_request revalidate_req;
    struct jute_revalidate_reply revalidate_reply;
    struct jute_activate activate;
};

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_quorum: %s\n", what);
    abort();
}

static void decode(enum what w, struct jute_in *in, struct msg *m)
{
    const uint8_t *start = in->p;
    switch (w) {
    case W_INITIAL:
        jute_get_qcm_initial(in, &m->initial);
        break;
    case W_NOTIFICATION:
        jute_get_fle_notification(in, &m->notification);
        break;
    case W_PACKET:
        jute_get_quorum_packet(in, &m->packet);
        break;
    case W_LEARNER_INFO:
        jute_get_learner_info(in, &m->learner_info);
        break;
    case W_EPOCH_INT:
        m->epoch_int = jute_get_epoch_int(in);
        break;
    case W_LEARNER_REQUEST:
        jute_get_learner_request(in, &m->request);
        break;
    case W_PING:
        jute_get_ping_touches(in, &m->ping);
        break;
    case W_REVALIDATE_REQ:
        jute_get_revalidate_request(in, &m->revalidate_req);
        break;
    case W_REVALIDATE_REPLY:
        jute_get_revalidate_reply(in, &m->revalidate_reply);
        break;
    case W_ACTIVATE:
        jute_get_activate(in, &m->activate);
        break;
    }
    if (in->p < start || in->p > in->end)
        fail("reader position outside the input");
    if (in->err != 0 && in->err != PD_EMALFORMED && in->err != PD_ETOOBIG && in->err != PD_ENOMEM)
        fail("unexpected decoder error");
}

static void encode(enum what w, struct jute_out *out, const struct msg *m)
{
    switch (w) {
    case W_INITIAL:
        jute_put_qcm_initial(out, &m->initial);
        break;
    case W_NOTIFICATION:
        jute_put_fle_notification(out, &m->notification);
        break;
    case W_PACKET:
        jute_put_quorum_packet(out, &m->packet);
        break;
    case W_LEARNER_INFO:
        jute_put_learner_info(out, &m->learner_info);
        break;
    case W_EPOCH_INT:
        jute_put_epoch_int(out, m->epoch_int);
        break;
    case W_LEARNER_REQUEST:
        jute_put_learner_request(out, &m->request);
        break;
    case W_PING:
        jute_put_ping_touches(out, &m->ping);
        break;
    case W_REVALIDATE_REQ:
        jute_put_revalidate_request(out, &m->revalidate_req);
        break;
    case W_REVALIDATE_REPLY:
        jute_put_revalidate_reply(out, &m->revalidate_reply);
        break;
    case W_ACTIVATE:
        jute_put_activate(out, &m->activate);
        break;
    }
    if (out->err)
        fail("encoder failed");
}

/*
 * Decodes `len` bytes as `w` from an exact-size copy, then checks the
 * re-encoding fixed point. must_consume: the bytes were measured by a peek, so
 * they must decode completely. Returns the decoded message in *m (pointing into
 * *keep, which the caller frees) or false if it did not decode.
 */
static bool check_one(enum what w, const uint8_t *bytes, size_t len, bool must_consume,
                      struct arena *arena, struct msg *m, uint8_t **keep)
{
    uint8_t *copy = malloc(len ? len : 1);
    *keep = copy;
    if (!copy)
        return false;
    if (len)
        memcpy(copy, bytes, len);
    struct jute_in in;
    jute_in_init(&in, copy, len, arena);
    memset(m, 0, sizeof(*m));
    decode(w, &in, m);
    if (must_consume && (in.err || jute_in_left(&in)))
        fail("a message the peek measured does not decode exactly");
    if (in.err)
        return false;

    struct jute_out e1, e2;
    jute_out_init(&e1);
    jute_out_init(&e2);
    encode(w, &e1, m);
    uint8_t *copy2 = malloc(e1.len ? e1.len : 1);
    if (copy2) {
        if (e1.len)
            memcpy(copy2, e1.data, e1.len);
        struct jute_in in2;
        jute_in_init(&in2, copy2, e1.len, arena);
        struct msg m2;
        memset(&m2, 0, sizeof(m2));
        decode(w, &in2, &m2);
        if (in2.err)
            fail("a re-encoded message does not decode");
        /* A notification leaves trailing bytes unread by design; its re-encoding has none. */
        if (jute_in_left(&in2))
            fail("a re-encoded message has bytes left over");
        encode(w, &e2, &m2);
        if (e1.len != e2.len || (e1.len && memcmp(e1.data, e2.data, e1.len) != 0))
            fail("encode(decode(encode(decode(x)))) != encode(decode(x))");
        free(copy2);
    }
    jute_out_close(&e2);
    jute_out_close(&e1);
    return true;
}

static void check_payload(const struct jute_quorum_packet *qp, struct arena *arena)
{
    enum what w;
    switch (qp->type) {
    case QP_FOLLOWERINFO:
    case QP_OBSERVERINFO:
        w = W_LEARNER_INFO;
        break;
    case QP_LEADERINFO:
    case QP_ACKEPOCH:
        w = W_EPOCH_INT;
        break;
    case QP_REQUEST:
        w = W_LEARNER_REQUEST;
        break;
    case QP_PING:
        w = W_PING;
        break;
    case QP_REVALIDATE:
        /* The learner's request is 12 bytes, the leader's reply 9. */
        w = qp->data.len == 9 ? W_REVALIDATE_REPLY : W_REVALIDATE_REQ;
        break;
    case QP_COMMITANDACTIVATE:
    case QP_INFORMANDACTIVATE:
        w = W_ACTIVATE;
        break;
    default:
        return;
    }
    if (qp->data.len < 0)
        return;
    struct msg m;
    uint8_t *keep = NULL;
    check_one(w, qp->data.data, (size_t)qp->data.len, false, arena, &m, &keep);
    free(keep);
}

static void check_peek_result(int rc, size_t measured, size_t available)
{
    if (rc == 0 && measured > available)
        fail("a peek measured more than it was given");
    if (rc != 0 && rc != PD_EAGAIN && rc != PD_EMALFORMED && rc != PD_ETOOBIG)
        fail("unexpected peek result");
}

static void run_election(const uint8_t *data, size_t size, struct arena *arena)
{
    size_t n = 0;
    int rc = jute_qcm_initial_peek(data, size, &n);
    check_peek_result(rc, n, size);
    if (rc)
        return;
    struct msg m;
    uint8_t *keep = NULL;
    check_one(W_INITIAL, data, n, true, arena, &m, &keep);
    free(keep);
    size_t off = n;
    while (off < size) {
        size_t body = 0;
        rc = jute_election_frame_peek(data + off, size - off, &body);
        check_peek_result(rc, body, size - off);
        if (rc)
            return;
        if (body > size - off - 4)
            fail("election frame peek announced more than it has");
        /* Not must_consume: trailing bytes in a notification are legal and left unread. */
        check_one(W_NOTIFICATION, data + off + 4, body, false, arena, &m, &keep);
        free(keep);
        off += 4 + body;
        arena_reset(arena);
    }
}

static void run_quorum(const uint8_t *data, size_t size, struct arena *arena)
{
    size_t off = 0;
    while (off < size) {
        size_t n = 0;
        int rc = jute_quorum_packet_peek(data + off, size - off, QUORUM_MAX_BUFFER_DEFAULT, &n);
        check_peek_result(rc, n, size - off);
        if (rc)
            return;
        struct msg m;
        uint8_t *keep = NULL;
        if (check_one(W_PACKET, data + off, n, true, arena, &m, &keep))
            check_payload(&m.packet, arena);
        free(keep);
        off += n;
        arena_reset(arena);
    }
}

static void run_epoch(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return;
    if (size)
        memcpy(copy, data, size);
    int64_t e = 0;
    int rc = quorum_epoch_parse(copy, size, &e);
    if (rc != 0 && rc != PD_EMALFORMED)
        fail("unexpected epoch parse result");
    if (rc == 0) {
        char buf[QUORUM_EPOCH_TEXT_MAX];
        size_t n = quorum_epoch_format(e, buf);
        int64_t back = 0;
        if (n >= QUORUM_EPOCH_TEXT_MAX || quorum_epoch_parse(buf, n, &back) != 0 || back != e)
            fail("a parsed epoch does not format back to itself");
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int kind = data[0] % KIND_COUNT;
    data++;
    size--;
    struct arena arena;
    arena_init(&arena, 0);
    switch (kind) {
    case KIND_ELECTION:
        run_election(data, size, &arena);
        break;
    case KIND_QUORUM:
        run_quorum(data, size, &arena);
        break;
    default:
        run_epoch(data, size);
        break;
    }
    arena_close(&arena);
    return 0;
}
