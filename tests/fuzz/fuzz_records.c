/*
 * libFuzzer target for the jute client and txn records (src/jute/).
 *
 * Input layout: one kind byte, for replies one opcode byte, then a frame
 * (4-byte big-endian length + body), which goes through jute_frame_peek with
 * the default jute.maxbuffer before anything is decoded:
 *
 *   kind % 5 == 0  client request: RequestHeader + the record for its opcode
 *                  (multi: MultiHeader + op pairs up to the done header)
 *              1   ConnectRequest (44 or 45 bytes, or anything else)
 *              2   ConnectResponse
 *              3   server reply to opcode (int8_t)data[1]: ReplyHeader, then
 *                  WatcherEvent (xid -1), nothing (err != 0) or the response
 *              4   txn: TxnHeader + body by type (MultiTxn: every sub-txn
 *                  decoded from its own bytes) + TxnDigest if bytes remain
 *
 * Properties checked (abort() on violation, so libFuzzer reports it):
 *   - the decoder never reads outside the frame body, which is copied into an
 *     exact-size heap buffer so ASan sees any over-read;
 *   - the only errors are PD_EMALFORMED and PD_ENOMEM (the latter only from a
 *     failing allocator, which this target does not install);
 *   - decoding is a fixed point after one re-encoding: for x that decodes,
 *     e = encode(decode(x)) decodes completely and encode(decode(e)) == e.
 *     (encode(decode(x)) == x does not hold for every input: non-canonical
 *     bools, strings with NUL bytes, trailing bytes.)
 *
 * The seed corpus tests/fuzz/corpus/records/ holds the golden frames recorded
 * from Apache ZooKeeper 3.8 (tests/unit/jute/record_golden.py) in this layout.
 * tests/fuzz/replay.c runs the same entry point over files without libFuzzer.
 */
#include "common/arena.h"
#include "common/err.h"
#include "jute/jute.h"
#include "records_codec.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { KIND_REQUEST, KIND_CONNECT_REQ, KIND_CONNECT_RSP, KIND_REPLY, KIND_TXN, KIND_COUNT };

/* Everything one decode produces; which member is used depends on the kind. */
struct msg {
    struct jute_request_header req;
    struct jute_reply_header reply;
    struct jute_connect_request conn_req;
    struct jute_connect_response conn_rsp;
    struct rc_body body;
    struct rc_txn txn;
};

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_records: %s\n", what);
    abort();
}

static void decode(int kind, int32_t op, struct jute_in *in, struct msg *m)
{
    const uint8_t *start = in->p;
    switch (kind) {
    case KIND_REQUEST:
        rc_get_request(in, &m->req, &m->body);
        break;
    case KIND_CONNECT_REQ:
        jute_get_connect_request(in, &m->conn_req);
        break;
    case KIND_CONNECT_RSP:
        jute_get_connect_response(in, &m->conn_rsp);
        break;
    case KIND_REPLY:
        rc_get_reply(in, op, &m->reply, &m->body);
        break;
    default:
        rc_get_txn(in, &m->txn);
        break;
    }
    if (in->p < start || in->p > in->end)
        fail("reader position outside the input");
    if (in->err != 0 && in->err != PD_EMALFORMED && in->err != PD_ENOMEM)
        fail("unexpected decoder error");
}

static void encode(int kind, struct jute_out *out, const struct msg *m)
{
    switch (kind) {
    case KIND_REQUEST:
        rc_put_request(out, &m->req, &m->body);
        break;
    case KIND_CONNECT_REQ:
        jute_put_connect_request(out, &m->conn_req);
        break;
    case KIND_CONNECT_RSP:
        jute_put_connect_response(out, &m->conn_rsp);
        break;
    case KIND_REPLY:
        rc_put_reply(out, &m->reply, &m->body);
        break;
    default:
        rc_put_txn(out, &m->txn);
        break;
    }
    if (out->err)
        fail("encoder failed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int kind = data[0] % KIND_COUNT;
    data++;
    size--;
    int32_t op = 0;
    if (kind == KIND_REPLY) {
        if (size < 1)
            return 0;
        op = (int8_t)data[0];
        data++;
        size--;
    }

    size_t body_len = 0;
    int rc = jute_frame_peek(data, size, JUTE_MAX_BUFFER_DEFAULT, &body_len);
    if (rc != 0) {
        if (rc != PD_EAGAIN && rc != PD_ETOOBIG && rc != PD_EMALFORMED)
            fail("unexpected jute_frame_peek result");
        return 0;
    }
    if (body_len > size - 4)
        fail("jute_frame_peek announced more than it has");

    /* An exact-size copy of the body: reading past it is an ASan report. */
    uint8_t *body = malloc(body_len ? body_len : 1);
    if (!body)
        return 0;
    if (body_len)
        memcpy(body, data + 4, body_len);

    struct arena arena;
    arena_init(&arena, 0);
    struct jute_in in;
    jute_in_init(&in, body, body_len, &arena);
    struct msg m;
    memset(&m, 0, sizeof(m));
    decode(kind, op, &in, &m);
    if (in.err)
        goto out;

    /* Re-encode, decode that, re-encode again: both encodings must agree. */
    struct jute_out e1, e2;
    jute_out_init(&e1);
    jute_out_init(&e2);
    encode(kind, &e1, &m);
    uint8_t *copy = malloc(e1.len ? e1.len : 1);
    if (!copy)
        goto out_close;
    if (e1.len)
        memcpy(copy, e1.data, e1.len);
    struct jute_in in2;
    jute_in_init(&in2, copy, e1.len, &arena);
    struct msg m2;
    memset(&m2, 0, sizeof(m2));
    decode(kind, op, &in2, &m2);
    if (in2.err)
        fail("a re-encoded message does not decode");
    if (jute_in_left(&in2))
        fail("a re-encoded message has bytes left over");
    encode(kind, &e2, &m2);
    if (e1.len != e2.len || memcmp(e1.data, e2.data, e1.len) != 0)
        fail("encode(decode(encode(decode(x)))) != encode(decode(x))");
    free(copy);
out_close:
    jute_out_close(&e2);
    jute_out_close(&e1);
out:
    arena_close(&arena);
    free(body);
    return 0;
}
