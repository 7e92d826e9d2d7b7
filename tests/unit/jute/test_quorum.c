/*
 * The election- and quorum-port codec (jute/quorum.h):
 *   - round trip of every record from a table of samples, decoded from an
 *     exact-size copy, compared field by field and re-encoded byte for byte;
 *   - every truncation of every sample fails cleanly (PD_EMALFORMED), except
 *     the prefixes that are themselves a legal shorter form (LearnerInfo of
 *     8/12 bytes, FLE notifications of 28/40 bytes, the open-ended tails);
 *     ASan watches the exact-size copies, so nothing is read past a cut;
 *   - the *_peek functions: every prefix asks for more, the whole message is
 *     measured exactly, bad lengths (negative, zero where 3.8 refuses it, over
 *     the limit) are refused before waiting for the bytes;
 *   - OOM sweeps of the allocating decoders;
 *   - epoch files: parse and format as QuorumPeer does;
 *   - the golden captures of tests/unit/jute/data/quorum/ (a 3-node Apache
 *     ZooKeeper 3.8.0 ensemble, record_quorum_data.py): every message decoded
 *     and re-encoded to the same bytes, and the values known from the
 *     scenario checked (sids, states, packet order, epochs, zxids).
 */
#include "common/alloc.h"
#include "common/arena.h"
#include "common/err.h"
#include "jute/quorum.h"
#include "t.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#ifndef PD_QUORUM_DATA
#error "PD_QUORUM_DATA (the golden data directory) must be defined by the build"
#endif

#define BUF(s)  ((struct jute_buf){(const uint8_t *)(s), (int32_t)(sizeof(s) - 1)})
#define NULLBUF ((struct jute_buf){NULL, -1})

static bool buf_eq(struct jute_buf a, struct jute_buf b)
{
    if (a.len < 0 || b.len < 0)
        return a.len < 0 && b.len < 0;
    return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, (size_t)a.len) == 0);
}

static bool str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool contains(const uint8_t *hay, size_t hay_len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= hay_len; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return true;
    return false;
}

static uint8_t *copy_exact(const void *data, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    if (len)
        memcpy(p, data, len);
    return p;
}

/* ---- samples ---------------------------------------------------------------------- */

static const struct jute_qcm_initial qcm_v1 = {QCM_PROTOCOL_V1, 2, BUF("127.0.0.1:3888")};
static const struct jute_qcm_initial qcm_v2 = {QCM_PROTOCOL_V2, 0x0102030405060708LL,
                                               BUF("[::1]:3888|10.0.0.2:3889")};
static const struct jute_qcm_initial qcm_old = {5, 5, NULLBUF};

static const struct jute_fle_notification fle_full = {
    FLE_LEADING,
    3,
    0x100000007LL,
    0x8000000000000001LL,
    1,
    FLE_NOTIFICATION_VERSION,
    BUF("server.1=127.0.0.1:2888:3888:participant\nversion=0"),
    JUTE_FLE_FORM_FULL};
static const struct jute_fle_notification fle_empty_cfg = {
    FLE_LOOKING, 1, 0, 1, 0, FLE_NOTIFICATION_VERSION, BUF(""), JUTE_FLE_FORM_FULL};
static const struct jute_fle_notification fle_40 = {
    FLE_FOLLOWING, 2, 0x200000001LL, 7, 2, 1, NULLBUF, JUTE_FLE_FORM_40};
/* peer_epoch is derived from the zxid's high word, sign included. */
static const struct jute_fle_notification fle_28 = {
    FLE_OBSERVING, -9, (int64_t)0xfffffffe00000005ULL, 4, -2, 0, NULLBUF, JUTE_FLE_FORM_28};

static struct jute_id ids[] = {{"ip", "127.0.0.1"}, {"digest", "u:pw"}, {NULL, NULL}};
static const struct jute_quorum_packet qp_request = {
    QP_REQUEST, -1, BUF("\0\0\0\0\0\0\0\1\0\0\0\2\0\0\0\x09xyz"), {3, false, ids}};
static const struct jute_quorum_packet qp_null = {QP_UPTODATE, -1, NULLBUF, {0, true, NULL}};
static const struct jute_quorum_packet qp_empty = {
    QP_PING, 0x100000003LL, BUF(""), {0, false, NULL}};

static const struct jute_learner_info li_20 = {7, QUORUM_PROTOCOL_VERSION, 0x100000000LL, true,
                                               true};
static const struct jute_learner_info li_12 = {8, QUORUM_PROTOCOL_VERSION, 0, true, false};
static const struct jute_learner_info li_8 = {9, 0x1, 0, false, false};

static const struct jute_learner_request lr_create = {0x0100000821ad0000LL, 17, ZOO_OP_CREATE2,
                                                      BUF("\0\0\0\2/a\xff\xff\xff\xff")};
static const struct jute_learner_request lr_close = {0x0100000821ad0001LL, 3, ZOO_OP_CLOSESESSION,
                                                     BUF("")};

static struct jute_session_touch touches[] = {{0x0100000821ad0000LL, 6000}, {-1, -2}};
static const struct jute_ping_touches pt_two = {2, touches};
static const struct jute_ping_touches pt_none = {0, NULL};

static const struct jute_revalidate_request rv_req = {0x0100000821ad0000LL, 4000};
static const struct jute_revalidate_reply rv_yes = {0x0100000821ad0000LL, true};
static const struct jute_revalidate_reply rv_no = {-5, false};

static const struct jute_activate act_commit = {2, BUF("")};
static const struct jute_activate act_inform = {3, BUF("txnbytes")};

/* ---- the record table --------------------------------------------------------------- */

static bool qcm_eq(const void *a_, const void *b_)
{
    const struct jute_qcm_initial *a = a_, *b = b_;
    return a->protocol_version == b->protocol_version && a->sid == b->sid &&
           buf_eq(a->addrs, b->addrs);
}

static bool fle_eq(const void *a_, const void *b_)
{
    const struct jute_fle_notification *a = a_, *b = b_;
    return a->state == b->state && a->leader == b->leader && a->zxid == b->zxid &&
           a->election_epoch == b->election_epoch && a->peer_epoch == b->peer_epoch &&
           a->version == b->version && buf_eq(a->config, b->config) && a->form == b->form;
}

static bool id_vec_eq(const struct jute_id_vec *a, const struct jute_id_vec *b)
{
    if (a->is_null != b->is_null || a->count != b->count)
        return false;
    for (int32_t i = 0; i < a->count; i++)
        if (!str_eq(a->items[i].scheme, b->items[i].scheme) ||
            !str_eq(a->items[i].id, b->items[i].id))
            return false;
    return true;
}

static bool qp_eq(const void *a_, const void *b_)
{
    const struct jute_quorum_packet *a = a_, *b = b_;
    return a->type == b->type && a->zxid == b->zxid && buf_eq(a->data, b->data) &&
           id_vec_eq(&a->authinfo, &b->authinfo);
}

static bool li_eq(const void *a_, const void *b_)
{
    const struct jute_learner_info *a = a_, *b = b_;
    return a->server_id == b->server_id && a->protocol_version == b->protocol_version &&
           a->config_version == b->config_version &&
           a->has_protocol_version == b->has_protocol_version &&
           a->has_config_version == b->has_config_version;
}

static bool lr_eq(const void *a_, const void *b_)
{
    const struct jute_learner_request *a = a_, *b = b_;
    return a->session_id == b->session_id && a->cxid == b->cxid && a->type == b->type &&
           buf_eq(a->request, b->request);
}

static bool pt_eq(const void *a_, const void *b_)
{
    const struct jute_ping_touches *a = a_, *b = b_;
    if (a->count != b->count)
        return false;
    for (int32_t i = 0; i < a->count; i++)
        if (a->items[i].session_id != b->items[i].session_id ||
            a->items[i].timeout_ms != b->items[i].timeout_ms)
            return false;
    return true;
}

static bool rvq_eq(const void *a_, const void *b_)
{
    const struct jute_revalidate_request *a = a_, *b = b_;
    return a->session_id == b->session_id && a->timeout_ms == b->timeout_ms;
}

static bool rvr_eq(const void *a_, const void *b_)
{
    const struct jute_revalidate_reply *a = a_, *b = b_;
    return a->session_id == b->session_id && a->is_valid == b->is_valid;
}

static bool act_eq(const void *a_, const void *b_)
{
    const struct jute_activate *a = a_, *b = b_;
    return a->leader_sid == b->leader_sid && buf_eq(a->txn, b->txn);
}

/* Which prefixes of a sample are a legal record in their own right. */
enum cut_rule {
    CUT_NONE,    /* no proper prefix decodes */
    CUT_LI,      /* LearnerInfo: 8 bytes or more (8: sid only, 12: no configVersion) */
    CUT_FLE,     /* notification: 28 and 40 bytes; 41..43 when version <= 1 */
    CUT_FROM_16, /* learner request: any prefix of >= 16 bytes */
    CUT_FROM_8,  /* activate: any prefix of >= 8 bytes */
    CUT_BY_12,   /* ping touches: every multiple of 12 */
};

struct rec_case {
    const char *name;
    void (*get)(struct jute_in *, void *);
    void (*put)(struct jute_out *, const void *);
    bool (*eq)(const void *, const void *);
    const void *sample;
    size_t size;
    enum cut_rule cut;
    bool allocates;
};

#define CASE(rec, type, sample, cut, alloc)                                                        \
    {                                                                                              \
#sample, (void (*)(struct jute_in *, void *))jute_get_##rec,                               \
            (void (*)(struct jute_out *, const void *))jute_put_##rec, rec##_eq_fn, &sample,       \
            sizeof(type), cut, alloc                                                               \
    }

#define qcm_initial_eq_fn        qcm_eq
#define fle_notification_eq_fn   fle_eq
#define quorum_packet_eq_fn      qp_eq
#define learner_info_eq_fn       li_eq
#define learner_request_eq_fn    lr_eq
#define ping_touches_eq_fn       pt_eq
#define revalidate_request_eq_fn rvq_eq
#define revalidate_reply_eq_fn   rvr_eq
#define activate_eq_fn           act_eq

static const struct rec_case cases[] = {
    CASE(qcm_initial, struct jute_qcm_initial, qcm_v1, CUT_NONE, false),
    CASE(qcm_initial, struct jute_qcm_initial, qcm_v2, CUT_NONE, false),
    CASE(qcm_initial, struct jute_qcm_initial, qcm_old, CUT_NONE, false),
    CASE(fle_notification, struct jute_fle_notification, fle_full, CUT_FLE, false),
    CASE(fle_notification, struct jute_fle_notification, fle_empty_cfg, CUT_FLE, false),
    CASE(fle_notification, struct jute_fle_notification, fle_40, CUT_FLE, false),
    CASE(fle_notification, struct jute_fle_notification, fle_28, CUT_FLE, false),
    CASE(quorum_packet, struct jute_quorum_packet, qp_request, CUT_NONE, true),
    CASE(quorum_packet, struct jute_quorum_packet, qp_null, CUT_NONE, false),
    CASE(quorum_packet, struct jute_quorum_packet, qp_empty, CUT_NONE, false),
    CASE(learner_info, struct jute_learner_info, li_20, CUT_LI, false),
    CASE(learner_info, struct jute_learner_info, li_12, CUT_LI, false),
    CASE(learner_info, struct jute_learner_info, li_8, CUT_LI, false),
    CASE(learner_request, struct jute_learner_request, lr_create, CUT_FROM_16, false),
    CASE(learner_request, struct jute_learner_request, lr_close, CUT_FROM_16, false),
    CASE(ping_touches, struct jute_ping_touches, pt_two, CUT_BY_12, true),
    CASE(ping_touches, struct jute_ping_touches, pt_none, CUT_BY_12, false),
    CASE(revalidate_request, struct jute_revalidate_request, rv_req, CUT_NONE, false),
    CASE(revalidate_reply, struct jute_revalidate_reply, rv_yes, CUT_NONE, false),
    CASE(revalidate_reply, struct jute_revalidate_reply, rv_no, CUT_NONE, false),
    CASE(activate, struct jute_activate, act_commit, CUT_FROM_8, false),
    CASE(activate, struct jute_activate, act_inform, CUT_FROM_8, false),
};

static bool cut_is_legal(const struct rec_case *c, size_t cut)
{
    switch (c->cut) {
    case CUT_LI:
        return cut >= 8; /* LearnerHandler reads what fits and ignores the rest */
    case CUT_FLE: {
        const struct jute_fle_notification *n = c->sample;
        return cut == 28 || cut == 40 || (cut > 40 && cut < 44 && n->version <= 1);
    }
    case CUT_FROM_16:
        return cut >= 16;
    case CUT_FROM_8:
        return cut >= 8;
    case CUT_BY_12:
        return cut % 12 == 0;
    default:
        return false;
    }
}

static uint8_t *encode(const struct rec_case *c, const void *r, size_t *len)
{
    struct jute_out out;
    jute_out_init(&out);
    c->put(&out, r);
    CHECK_EQ_INT(out.err, 0);
    return jute_out_steal(&out, len);
}

static void test_roundtrip_all(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct rec_case *c = &cases[i];
        size_t len;
        uint8_t *bytes = encode(c, c->sample, &len);
        uint8_t *keep = copy_exact(bytes, len);
        struct arena arena;
        arena_init(&arena, 0);
        alignas(max_align_t) uint8_t r[256];
        CHECK(c->size <= sizeof(r));
        struct jute_in in;
        jute_in_init(&in, keep, len, &arena);
        memset(r, 0x5a, c->size);
        c->get(&in, r);
        if (in.err || jute_in_left(&in) || !c->eq(c->sample, r))
            fprintf(stderr, "round trip of %s: err %d left %zu\n", c->name, in.err,
                    jute_in_left(&in));
        CHECK_EQ_INT(in.err, 0);
        CHECK_EQ_INT(jute_in_left(&in), 0);
        CHECK(c->eq(c->sample, r));
        size_t len2;
        uint8_t *again = encode(c, r, &len2);
        CHECK(len2 == len && (len == 0 || memcmp(again, bytes, len) == 0));
        pd_free(again);
        free(keep);
        arena_close(&arena);
        pd_free(bytes);
    }
}

static void test_truncations_all(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct rec_case *c = &cases[i];
        size_t len;
        uint8_t *bytes = encode(c, c->sample, &len);
        struct arena arena;
        arena_init(&arena, 0);
        for (size_t cut = 0; cut < len; cut++) {
            uint8_t *copy = copy_exact(bytes, cut);
            alignas(max_align_t) uint8_t r[256];
            struct jute_in in;
            jute_in_init(&in, copy, cut, &arena);
            memset(r, 0x5a, c->size);
            c->get(&in, r);
            CHECK(in.p >= copy && in.p <= in.end);
            int want = cut_is_legal(c, cut) ? 0 : PD_EMALFORMED;
            if (in.err != want)
                fprintf(stderr, "%s cut at %zu of %zu: err %d\n", c->name, cut, len, in.err);
            CHECK_EQ_INT(in.err, want);
            free(copy);
            arena_reset(&arena);
        }
        arena_close(&arena);
        pd_free(bytes);
    }
}

static void test_oom_sweep_all(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct rec_case *c = &cases[i];
        size_t len;
        uint8_t *bytes = encode(c, c->sample, &len);
        int failures = 0;
        bool done = false;
        for (long n = 0; n < 1000 && !done; n++) {
            struct arena arena;
            arena_init(&arena, 32);
            alignas(max_align_t) uint8_t r[256];
            struct jute_in in;
            jute_in_init(&in, bytes, len, &arena);
            pd_alloc_fail_after(n, 1000000);
            c->get(&in, r);
            pd_alloc_fail_after(-1, 0);
            if (in.err == 0) {
                CHECK(c->eq(c->sample, r));
                done = true;
            } else {
                CHECK_EQ_INT(in.err, PD_ENOMEM);
                failures++;
            }
            arena_close(&arena);
        }
        CHECK(done);
        CHECK(c->allocates ? failures > 0 : failures == 0);
        pd_free(bytes);
    }
}

/* ---- peeks and bad lengths ------------------------------------------------------------ */

/* Every proper prefix of `bytes` asks for more; the whole is measured as `len`. */
static void check_prefixes(int (*peek)(const uint8_t *, size_t, size_t *), const uint8_t *bytes,
                           size_t len)
{
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = copy_exact(bytes, cut);
        size_t n = 12345;
        CHECK_EQ_INT(peek(copy, cut, &n), PD_EAGAIN);
        CHECK_EQ_INT(n, 12345);
        free(copy);
    }
    size_t n = 0;
    CHECK_EQ_INT(peek(bytes, len, &n), 0);
    CHECK_EQ_INT(n, len);
}

static int qp_peek_default(const uint8_t *p, size_t len, size_t *n)
{
    return jute_quorum_packet_peek(p, len, QUORUM_MAX_BUFFER_DEFAULT, n);
}

static int frame_peek_whole(const uint8_t *p, size_t len, size_t *n)
{
    size_t body;
    int rc = jute_election_frame_peek(p, len, &body);
    if (rc == 0)
        *n = 4 + body;
    return rc;
}

static void test_peeks_measure(void)
{
    const struct jute_qcm_initial *qcms[] = {&qcm_v1, &qcm_v2, &qcm_old};
    for (size_t i = 0; i < 3; i++) {
        struct jute_out out;
        jute_out_init(&out);
        jute_put_qcm_initial(&out, qcms[i]);
        check_prefixes(jute_qcm_initial_peek, out.data, out.len);
        /* Bytes after the message (the first frame) are not part of it. */
        jute_put_int(&out, 44);
        size_t n = 0;
        CHECK_EQ_INT(jute_qcm_initial_peek(out.data, out.len, &n), 0);
        CHECK_EQ_INT(n, out.len - 4);
        jute_out_close(&out);
    }
    const struct jute_quorum_packet *qps[] = {&qp_request, &qp_null, &qp_empty};
    for (size_t i = 0; i < 3; i++) {
        struct jute_out out;
        jute_out_init(&out);
        jute_put_quorum_packet(&out, qps[i]);
        check_prefixes(qp_peek_default, out.data, out.len);
        jute_out_close(&out);
    }
    struct jute_out out;
    jute_out_init(&out);
    size_t at = jute_frame_begin(&out);
    jute_put_fle_notification(&out, &fle_full);
    jute_frame_end(&out, at);
    check_prefixes(frame_peek_whole, out.data, out.len);
    jute_out_close(&out);
}

static void put_initial_raw(struct jute_out *out, int64_t version, int64_t sid, int32_t len)
{
    jute_put_long(out, version);
    jute_put_long(out, sid);
    jute_put_int(out, len);
}

static void test_qcm_initial_refused(void)
{
    static const struct {
        int64_t version;
        int32_t len;
        int peek;
    } bad[] = {
        {QCM_PROTOCOL_V1, 0, PD_EMALFORMED},
        {QCM_PROTOCOL_V1, -1, PD_EMALFORMED},
        {QCM_PROTOCOL_V2, INT32_MIN, PD_EMALFORMED},
        {QCM_PROTOCOL_V1, QCM_MAX_ADDR_BYTES + 1, PD_ETOOBIG},
        {QCM_PROTOCOL_V2, INT32_MAX, PD_ETOOBIG},
        {-65534, 4, PD_EMALFORMED},
        {-1, 4, PD_EMALFORMED},
        {INT64_MIN, 4, PD_EMALFORMED},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct jute_out out;
        jute_out_init(&out);
        put_initial_raw(&out, bad[i].version, 1, bad[i].len);
        jute_put_raw(&out, "1.2.3.4:", 8);
        size_t n = 0;
        CHECK_EQ_INT(jute_qcm_initial_peek(out.data, out.len, &n), bad[i].peek);
        uint8_t *copy = copy_exact(out.data, out.len);
        struct jute_in in;
        jute_in_init(&in, copy, out.len, NULL);
        struct jute_qcm_initial r;
        jute_get_qcm_initial(&in, &r);
        CHECK_EQ_INT(in.err, PD_EMALFORMED);
        free(copy);
        jute_out_close(&out);
    }
    /* An unknown version is refused from its first 8 bytes, before the rest. */
    struct jute_out out;
    jute_out_init(&out);
    jute_put_long(&out, -7);
    size_t n;
    CHECK_EQ_INT(jute_qcm_initial_peek(out.data, out.len, &n), PD_EMALFORMED);
    jute_out_close(&out);
    /* The longest address 3.8 takes. */
    jute_out_init(&out);
    put_initial_raw(&out, QCM_PROTOCOL_V2, 1, QCM_MAX_ADDR_BYTES);
    for (int i = 0; i < QCM_MAX_ADDR_BYTES; i++)
        jute_put_raw(&out, "a", 1);
    CHECK_EQ_INT(jute_qcm_initial_peek(out.data, out.len, &n), 0);
    CHECK_EQ_INT(n, 20 + QCM_MAX_ADDR_BYTES);
    jute_out_close(&out);
}

static void test_qcm_keeps(void)
{
    /* The dialer keeps a connection only to a smaller sid; the listener agrees. */
    CHECK(jute_qcm_keeps(3, 1, true));
    CHECK(jute_qcm_keeps(1, 3, false));
    CHECK(!jute_qcm_keeps(1, 3, true));
    CHECK(!jute_qcm_keeps(3, 1, false));
    CHECK(!jute_qcm_keeps(2, 2, true));
    CHECK(!jute_qcm_keeps(2, 2, false));
}

static void test_election_frame_limits(void)
{
    static const struct {
        int32_t len;
        int want;
    } cases_[] = {
        {0, PD_EMALFORMED},
        {-1, PD_EMALFORMED},
        {INT32_MIN, PD_EMALFORMED},
        {QCM_MAX_MSG_BYTES + 1, PD_ETOOBIG},
        {INT32_MAX, PD_ETOOBIG},
        {QCM_MAX_MSG_BYTES, PD_EAGAIN},
        {1, PD_EAGAIN},
    };
    for (size_t i = 0; i < sizeof(cases_) / sizeof(cases_[0]); i++) {
        uint8_t w[4] = {(uint8_t)((uint32_t)cases_[i].len >> 24),
                        (uint8_t)((uint32_t)cases_[i].len >> 16),
                        (uint8_t)((uint32_t)cases_[i].len >> 8), (uint8_t)cases_[i].len};
        size_t n;
        CHECK_EQ_INT(jute_election_frame_peek(w, 4, &n), cases_[i].want);
    }
}

/* A 44-byte full notification head (version 2) followed by a config length word. */
static uint8_t *fle_with_config_len(int32_t config_len, size_t extra, size_t *len)
{
    struct jute_out out;
    jute_out_init(&out);
    jute_put_int(&out, FLE_LOOKING);
    jute_put_long(&out, 1);
    jute_put_long(&out, 0);
    jute_put_long(&out, 1);
    jute_put_long(&out, 0);
    jute_put_int(&out, 2);
    jute_put_int(&out, config_len);
    for (size_t i = 0; i < extra; i++)
        jute_put_raw(&out, "x", 1);
    uint8_t *p = copy_exact(out.data, out.len);
    *len = out.len;
    jute_out_close(&out);
    return p;
}

static void test_fle_bad_lengths(void)
{
    static const struct {
        int32_t config_len;
        size_t extra;
        int want;
    } bad[] = {
        {-1, 4, PD_EMALFORMED},        /* negative */
        {INT32_MIN, 0, PD_EMALFORMED}, /* negative */
        {1000, 100, PD_EMALFORMED},    /* more than the message (capacity) */
        {5, 4, PD_EMALFORMED},         /* within capacity but the bytes are missing */
        {4, 4, 0},                     /* exactly there */
        {0, 0, 0},                     /* empty config */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t len;
        uint8_t *p = fle_with_config_len(bad[i].config_len, bad[i].extra, &len);
        struct jute_in in;
        jute_in_init(&in, p, len, NULL);
        struct jute_fle_notification n;
        jute_get_fle_notification(&in, &n);
        CHECK_EQ_INT(in.err, bad[i].want);
        CHECK(in.p <= in.end);
        free(p);
    }
    /* Trailing bytes are left unread (3.8 ignores them), version 1 carries no config. */
    struct jute_out out;
    jute_out_init(&out);
    struct jute_fle_notification v1 = fle_40;
    v1.form = JUTE_FLE_FORM_FULL;
    jute_put_fle_notification(&out, &v1);
    CHECK_EQ_INT(out.len, 40); /* what buildMsg's 5-argument form sends */
    jute_put_raw(&out, "\0\0\0\0\0", 5);
    uint8_t *p = copy_exact(out.data, out.len);
    struct jute_in in;
    jute_in_init(&in, p, out.len, NULL);
    struct jute_fle_notification n;
    jute_get_fle_notification(&in, &n);
    CHECK_EQ_INT(in.err, 0);
    CHECK_EQ_INT(n.form, JUTE_FLE_FORM_FULL);
    CHECK_EQ_INT(n.version, 1);
    CHECK_EQ_INT(n.config.len, -1);
    CHECK_EQ_INT(jute_in_left(&in), 5);
    free(p);
    /* 40 bytes: the version word is not acted on. */
    jute_in_init(&in, out.data, 40, NULL);
    jute_get_fle_notification(&in, &n);
    CHECK_EQ_INT(in.err, 0);
    CHECK_EQ_INT(n.form, JUTE_FLE_FORM_40);
    CHECK_EQ_INT(jute_fle_effective_version(&n), 0);
    jute_out_close(&out);
    CHECK(jute_fle_state_valid(FLE_OBSERVING));
    CHECK(!jute_fle_state_valid(4));
    CHECK(!jute_fle_state_valid(-1));
}

static void test_quorum_packet_bad_lengths(void)
{
    /* {data length, authinfo count, scheme length}: what each should give. */
    static const struct {
        int32_t data_len;
        int32_t count;
        int32_t str_len;
        int peek;
    } bad[] = {
        {-2, -1, 0, PD_EMALFORMED},
        {INT32_MIN, -1, 0, PD_EMALFORMED},
        {QUORUM_MAX_BUFFER_DEFAULT + 1, -1, 0, PD_ETOOBIG},
        {INT32_MAX, -1, 0, PD_ETOOBIG},
        {0, -2, 0, PD_EMALFORMED},
        {0, INT32_MAX, 0, PD_ETOOBIG},
        {0, 1, -2, PD_EMALFORMED},
        {0, 1, QUORUM_MAX_BUFFER_DEFAULT + 1, PD_ETOOBIG},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct jute_out out;
        jute_out_init(&out);
        jute_put_int(&out, QP_REQUEST);
        jute_put_long(&out, -1);
        jute_put_int(&out, bad[i].data_len);
        jute_put_int(&out, bad[i].count);
        jute_put_int(&out, bad[i].str_len);
        jute_put_int(&out, 0);
        size_t n;
        CHECK_EQ_INT(jute_quorum_packet_peek(out.data, out.len, QUORUM_MAX_BUFFER_DEFAULT, &n),
                     bad[i].peek);
        uint8_t *p = copy_exact(out.data, out.len);
        struct arena arena;
        arena_init(&arena, 0);
        struct jute_in in;
        jute_in_init(&in, p, out.len, &arena);
        struct jute_quorum_packet qp;
        jute_get_quorum_packet(&in, &qp);
        CHECK_EQ_INT(in.err, PD_EMALFORMED);
        CHECK(in.p <= in.end);
        arena_close(&arena);
        free(p);
        jute_out_close(&out);
    }
    /* A smaller limit applies to data as to strings. */
    struct jute_out out;
    jute_out_init(&out);
    jute_put_quorum_packet(&out, &qp_request);
    size_t n;
    CHECK_EQ_INT(jute_quorum_packet_peek(out.data, out.len, 10, &n), PD_ETOOBIG);
    CHECK_EQ_INT(jute_quorum_packet_peek(out.data, out.len, 25, &n), 0);
    jute_out_close(&out);
}

static void test_qp_type_names(void)
{
    static const struct {
        int32_t type;
        const char *name;
    } want[] = {
        {1, "REQUEST"},
        {2, "PROPOSAL"},
        {3, "ACK"},
        {4, "COMMIT"},
        {5, "PING"},
        {6, "REVALIDATE"},
        {7, "SYNC"},
        {8, "INFORM"},
        {9, "COMMITANDACTIVATE"},
        {10, "NEWLEADER"},
        {11, "FOLLOWERINFO"},
        {12, "UPTODATE"},
        {13, "DIFF"},
        {14, "TRUNC"},
        {15, "SNAP"},
        {16, "OBSERVERINFO"},
        {17, "LEADERINFO"},
        {18, "ACKEPOCH"},
        {19, "INFORMANDACTIVATE"},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        CHECK_EQ_STR(jute_qp_type_name(want[i].type), want[i].name);
    CHECK(jute_qp_type_name(0) == NULL);
    CHECK(jute_qp_type_name(20) == NULL);
    CHECK(jute_qp_type_name(-1) == NULL);
}

/* ---- epoch files ------------------------------------------------------------------------ */

static void test_epoch_files(void)
{
    static const struct {
        const char *text;
        int want;
        int64_t epoch;
    } cases_[] = {
        {"0", 0, 0},
        {"1", 0, 1},
        {"42\n", 0, 42},
        {"42\r\n", 0, 42},
        {"42\rjunk", 0, 42},
        {"7\nnot a number", 0, 7},
        {"+5", 0, 5},
        {"-3", 0, -3},
        {"9223372036854775807", 0, INT64_MAX},
        {"-9223372036854775808", 0, INT64_MIN},
        {"0000000000000000000000012", 0, 12},
        {"9223372036854775808", PD_EMALFORMED, 0},
        {"-9223372036854775809", PD_EMALFORMED, 0},
        {"", PD_EMALFORMED, 0},
        {"\n1", PD_EMALFORMED, 0},
        {"-", PD_EMALFORMED, 0},
        {"+", PD_EMALFORMED, 0},
        {" 1", PD_EMALFORMED, 0},
        {"1 ", PD_EMALFORMED, 0},
        {"0x10", PD_EMALFORMED, 0},
        {"1.0", PD_EMALFORMED, 0},
    };
    for (size_t i = 0; i < sizeof(cases_) / sizeof(cases_[0]); i++) {
        size_t len = strlen(cases_[i].text);
        uint8_t *p = copy_exact(cases_[i].text, len);
        int64_t e = -77;
        int rc = quorum_epoch_parse(p, len, &e);
        if (rc != cases_[i].want)
            fprintf(stderr, "epoch \"%s\": %d\n", cases_[i].text, rc);
        CHECK_EQ_INT(rc, cases_[i].want);
        CHECK_EQ_INT(e, rc == 0 ? cases_[i].epoch : -77);
        free(p);
    }
    static const int64_t values[] = {0, 1, 9, 10, 4294967295LL, -1, INT64_MAX, INT64_MIN};
    static const char *const texts[] = {
        "0", "1", "9", "10", "4294967295", "-1", "9223372036854775807", "-9223372036854775808"};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        char buf[QUORUM_EPOCH_TEXT_MAX];
        size_t n = quorum_epoch_format(values[i], buf);
        CHECK_EQ_STR(buf, texts[i]);
        CHECK_EQ_INT(n, strlen(texts[i]));
        int64_t back = 0;
        CHECK_EQ_INT(quorum_epoch_parse(buf, n, &back), 0);
        CHECK_EQ_INT(back, values[i]);
    }
}

/* ---- goldens ------------------------------------------------------------------------------ */

static uint8_t *read_golden(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", PD_QUORUM_DATA, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        CHECK(f != NULL);
        *len = 0;
        return NULL;
    }
    uint8_t *data = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            data = realloc(data, cap);
        }
        size_t got = fread(data + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    fclose(f);
    /* An exact-size copy, so ASan sees a read past the end of the capture. */
    uint8_t *exact = copy_exact(data, n);
    free(data);
    *len = n;
    return exact;
}

/* Decodes `bytes` (one payload) with `get`, requiring it to use every byte, re-encodes
 * with `put` and compares. */
#define PAYLOAD_ROUNDTRIP(get, put, type, buf, arena, rec)                                         \
    do {                                                                                           \
        struct jute_in pin_;                                                                       \
        jute_in_init(&pin_, (buf).data, (size_t)((buf).len > 0 ? (buf).len : 0), (arena));         \
        get(&pin_, (rec));                                                                         \
        CHECK_EQ_INT(pin_.err, 0);                                                                 \
        CHECK_EQ_INT(jute_in_left(&pin_), 0);                                                      \
        struct jute_out pout_;                                                                     \
        jute_out_init(&pout_);                                                                     \
        put(&pout_, (rec));                                                                        \
        CHECK((buf).len >= 0 && pout_.len == (size_t)(buf).len &&                                  \
              (pout_.len == 0 || memcmp(pout_.data, (buf).data, pout_.len) == 0));                 \
        jute_out_close(&pout_);                                                                    \
    } while (0)

/* What the scenario lets us know about one learner's quorum streams. */
struct learner_expect {
    const char *out_file; /* learner -> leader */
    const char *in_file;  /* leader -> learner */
    int64_t sid;
    int64_t accepted_epoch; /* before the handshake */
    int32_t ack_epoch;      /* ACKEPOCH's data: currentEpoch, or -1 if already accepted */
    bool sees_revalidate;
    bool sees_sync;
};

/* Walks one learner->leader stream. */
static void golden_learner_out(const struct learner_expect *e, int64_t *revalidated_session)
{
    size_t len;
    uint8_t *data = read_golden(e->out_file, &len);
    if (!data)
        return;
    struct arena arena;
    arena_init(&arena, 0);
    size_t off = 0;
    int idx = 0;
    bool saw_revalidate = false, saw_request = false;
    while (off < len) {
        size_t n = 0;
        int rc = jute_quorum_packet_peek(data + off, len - off, QUORUM_MAX_BUFFER_DEFAULT, &n);
        CHECK_EQ_INT(rc, 0);
        if (rc)
            break;
        struct jute_in in;
        jute_in_init(&in, data + off, n, &arena);
        struct jute_quorum_packet qp;
        jute_get_quorum_packet(&in, &qp);
        CHECK_EQ_INT(in.err, 0);
        CHECK_EQ_INT(jute_in_left(&in), 0);
        CHECK(jute_qp_type_name(qp.type) != NULL);
        struct jute_out out;
        jute_out_init(&out);
        jute_put_quorum_packet(&out, &qp);
        CHECK(out.len == n && memcmp(out.data, data + off, n) == 0);
        jute_out_close(&out);

        if (idx == 0) {
            CHECK_EQ_INT(qp.type, QP_FOLLOWERINFO);
            CHECK_EQ_INT(qp.zxid, e->accepted_epoch << 32);
            CHECK_EQ_INT(qp.data.len, 20);
            struct jute_learner_info li;
            PAYLOAD_ROUNDTRIP(jute_get_learner_info, jute_put_learner_info,
                              struct jute_learner_info, qp.data, &arena, &li);
            CHECK_EQ_INT(li.server_id, e->sid);
            CHECK_EQ_INT(li.protocol_version, QUORUM_PROTOCOL_VERSION);
            CHECK_EQ_INT(li.config_version, 0);
        } else if (idx == 1) {
            CHECK_EQ_INT(qp.type, QP_ACKEPOCH);
            CHECK_EQ_INT(qp.data.len, 4);
            struct jute_in din;
            jute_in_init(&din, qp.data.data, 4, NULL);
            CHECK_EQ_INT(jute_get_epoch_int(&din), e->ack_epoch);
            CHECK_EQ_INT(din.err, 0);
        } else if (idx == 2) {
            CHECK_EQ_INT(qp.type, QP_ACK); /* of NEWLEADER */
        }
        if (qp.type != QP_REQUEST)
            CHECK(qp.authinfo.is_null);
        switch (qp.type) {
        case QP_ACK:
            CHECK(qp.data.len == -1);
            CHECK(qp.zxid >> 32 >= 1);
            break;
        case QP_PING: {
            struct jute_ping_touches pt;
            PAYLOAD_ROUNDTRIP(jute_get_ping_touches, jute_put_ping_touches,
                              struct jute_ping_touches, qp.data, &arena, &pt);
            CHECK(qp.data.len >= 0); /* never null, possibly empty */
            for (int32_t i = 0; i < pt.count; i++)
                CHECK(pt.items[i].timeout_ms > 0);
            break;
        }
        case QP_REQUEST: {
            saw_request = true;
            CHECK_EQ_INT(qp.zxid, -1);
            struct jute_learner_request lr;
            PAYLOAD_ROUNDTRIP(jute_get_learner_request, jute_put_learner_request,
                              struct jute_learner_request, qp.data, &arena, &lr);
            CHECK(lr.session_id != 0);
            CHECK(lr.type == ZOO_OP_CREATESESSION || lr.type == ZOO_OP_CREATE ||
                  lr.type == ZOO_OP_CREATE2 || lr.type == ZOO_OP_SETDATA ||
                  lr.type == ZOO_OP_DELETE || lr.type == ZOO_OP_MULTI || lr.type == ZOO_OP_SYNC ||
                  lr.type == ZOO_OP_CLOSESESSION);
            /* createSession is forwarded without auth ids (null vector) and with the
             * session timeout as its only request bytes; the others carry the
             * client connection's "ip" id. */
            if (lr.type == ZOO_OP_CREATESESSION) {
                CHECK(qp.authinfo.is_null);
                CHECK_EQ_INT(lr.request.len, 4);
            } else {
                CHECK_EQ_INT(qp.authinfo.count, 1);
            }
            if (qp.authinfo.count >= 1) {
                CHECK_EQ_STR(qp.authinfo.items[0].scheme, "ip");
                CHECK_EQ_STR(qp.authinfo.items[0].id, "127.0.0.1");
            }
            break;
        }
        case QP_REVALIDATE: {
            saw_revalidate = true;
            CHECK_EQ_INT(qp.zxid, -1);
            struct jute_revalidate_request rv;
            PAYLOAD_ROUNDTRIP(jute_get_revalidate_request, jute_put_revalidate_request,
                              struct jute_revalidate_request, qp.data, &arena, &rv);
            CHECK(rv.timeout_ms > 0);
            *revalidated_session = rv.session_id;
            break;
        }
        default:
            break;
        }
        off += n;
        idx++;
    }
    CHECK(idx >= 4);
    CHECK_EQ_INT(saw_revalidate, e->sees_revalidate);
    (void)saw_request;
    arena_close(&arena);
    free(data);
}

/* Walks one leader->learner stream. */
static void golden_learner_in(const struct learner_expect *e, int64_t revalidated_session)
{
    size_t len;
    uint8_t *data = read_golden(e->in_file, &len);
    if (!data)
        return;
    struct arena arena;
    arena_init(&arena, 0);
    size_t off = 0;
    int idx = 0;
    int64_t epoch = 0;
    bool saw_newleader = false, saw_uptodate = false, saw_revalidate = false, saw_sync = false;
    int64_t last_proposal = 0;
    while (off < len) {
        size_t n = 0;
        int rc = jute_quorum_packet_peek(data + off, len - off, QUORUM_MAX_BUFFER_DEFAULT, &n);
        CHECK_EQ_INT(rc, 0);
        if (rc)
            break;
        struct jute_in in;
        jute_in_init(&in, data + off, n, &arena);
        struct jute_quorum_packet qp;
        jute_get_quorum_packet(&in, &qp);
        CHECK_EQ_INT(in.err, 0);
        CHECK_EQ_INT(jute_in_left(&in), 0);
        CHECK(qp.authinfo.is_null);
        struct jute_out out;
        jute_out_init(&out);
        jute_put_quorum_packet(&out, &qp);
        CHECK(out.len == n && memcmp(out.data, data + off, n) == 0);
        jute_out_close(&out);

        if (idx == 0) {
            CHECK_EQ_INT(qp.type, QP_LEADERINFO);
            epoch = qp.zxid >> 32;
            CHECK(epoch >= 1 && epoch >= e->accepted_epoch);
            CHECK_EQ_INT(qp.zxid & 0xffffffff, 0);
            CHECK_EQ_INT(qp.data.len, 4);
            struct jute_in din;
            jute_in_init(&din, qp.data.data, 4, NULL);
            CHECK_EQ_INT(jute_get_epoch_int(&din), QUORUM_PROTOCOL_VERSION);
        } else if (idx == 1) {
            CHECK_EQ_INT(qp.type, QP_DIFF); /* the scenario never needs SNAP or TRUNC */
            CHECK(qp.data.len == -1);
        }
        switch (qp.type) {
        case QP_NEWLEADER:
            saw_newleader = true;
            CHECK_EQ_INT(qp.zxid, epoch << 32);
            CHECK(qp.data.len > 9 && memcmp(qp.data.data, "server.", 7) == 0);
            break;
        case QP_UPTODATE:
            CHECK(saw_newleader);
            saw_uptodate = true;
            CHECK_EQ_INT(qp.zxid, -1);
            CHECK(qp.data.len == -1);
            break;
        case QP_PROPOSAL: {
            /* The txn bytes start with a TxnHeader whose zxid is the packet's. */
            CHECK(qp.data.len >= 28);
            struct jute_in din;
            jute_in_init(&din, qp.data.data, (size_t)qp.data.len, &arena);
            struct jute_txn_header h;
            jute_get_txn_header(&din, &h);
            CHECK_EQ_INT(din.err, 0);
            CHECK_EQ_INT(h.zxid, qp.zxid);
            CHECK(qp.zxid > last_proposal);
            last_proposal = qp.zxid;
            break;
        }
        case QP_COMMIT:
            CHECK(qp.data.len == -1);
            CHECK(qp.zxid <= last_proposal);
            break;
        case QP_PING:
            CHECK(qp.data.len == -1);
            break;
        case QP_SYNC:
            saw_sync = true;
            CHECK_EQ_INT(qp.zxid, 0);
            CHECK(qp.data.len == -1);
            break;
        case QP_REVALIDATE: {
            saw_revalidate = true;
            CHECK_EQ_INT(qp.zxid, -1); /* the learner's packet, sent back */
            struct jute_revalidate_reply rv;
            PAYLOAD_ROUNDTRIP(jute_get_revalidate_reply, jute_put_revalidate_reply,
                              struct jute_revalidate_reply, qp.data, &arena, &rv);
            CHECK_EQ_INT(rv.session_id, revalidated_session);
            CHECK(rv.is_valid);
            break;
        }
        default:
            break;
        }
        off += n;
        idx++;
    }
    CHECK(saw_newleader && saw_uptodate);
    CHECK_EQ_INT(saw_revalidate, e->sees_revalidate);
    CHECK_EQ_INT(saw_sync, e->sees_sync);
    arena_close(&arena);
    free(data);
}

static void test_golden_quorum(void)
{
    /* CAPTURE.txt: leader 3, followers 1 and 2; follower 1 restarted. Follower 1's
     * first connection saw the REVALIDATE (the session moved to it), follower 2 the
     * sync. Restarted, follower 1 had already accepted epoch 1, which the leader
     * proposes again: its ACKEPOCH says -1. */
    static const struct learner_expect learners[] = {
        {"quorum_f1_first.out", "quorum_f1_first.in", 1, 0, 0, true, false},
        {"quorum_f1_restart.out", "quorum_f1_restart.in", 1, 1, -1, false, false},
        {"quorum_f2.out", "quorum_f2.in", 2, 0, 0, false, true},
    };
    for (size_t i = 0; i < sizeof(learners) / sizeof(learners[0]); i++) {
        int64_t session = 0;
        golden_learner_out(&learners[i], &session);
        golden_learner_in(&learners[i], session);
    }
}

/* Walks election frames from `off`; returns how many notifications it decoded. */
static int golden_notifications(const uint8_t *data, size_t len, size_t off, int64_t sender)
{
    int count = 0;
    struct arena arena;
    arena_init(&arena, 0);
    while (off < len) {
        size_t body = 0;
        int rc = jute_election_frame_peek(data + off, len - off, &body);
        CHECK_EQ_INT(rc, 0);
        if (rc)
            break;
        struct jute_in in;
        jute_in_init(&in, data + off + 4, body, &arena);
        struct jute_fle_notification n;
        jute_get_fle_notification(&in, &n);
        CHECK_EQ_INT(in.err, 0);
        CHECK_EQ_INT(jute_in_left(&in), 0);
        CHECK_EQ_INT(n.form, JUTE_FLE_FORM_FULL);
        CHECK_EQ_INT(n.version, FLE_NOTIFICATION_VERSION);
        CHECK(jute_fle_state_valid(n.state));
        CHECK(n.leader >= 1 && n.leader <= 3);
        CHECK(n.election_epoch >= 1);
        /* The sender's own server line is in its config; the config ends "version=0". */
        char line[16];
        snprintf(line, sizeof(line), "server.%lld=", (long long)sender);
        CHECK(n.config.len > 10);
        if (n.config.len > 10) {
            CHECK(contains(n.config.data, (size_t)n.config.len, line));
            CHECK(memcmp(n.config.data + n.config.len - 9, "version=0", 9) == 0);
        }
        if (count == 0) {
            /* A fresh ensemble: the first vote is LOOKING, for a zxid of 0 in epoch 0. */
            CHECK_EQ_INT(n.state, FLE_LOOKING);
            CHECK_EQ_INT(n.zxid, 0);
            CHECK_EQ_INT(n.peer_epoch, 0);
        }
        struct jute_out out;
        jute_out_init(&out);
        size_t at = jute_frame_begin(&out);
        jute_put_fle_notification(&out, &n);
        jute_frame_end(&out, at);
        CHECK(out.len == 4 + body && memcmp(out.data, data + off, out.len) == 0);
        jute_out_close(&out);
        off += 4 + body;
        count++;
    }
    arena_close(&arena);
    return count;
}

static size_t golden_initial(const uint8_t *data, size_t len, int64_t sid)
{
    size_t n = 0;
    CHECK_EQ_INT(jute_qcm_initial_peek(data, len, &n), 0);
    struct jute_in in;
    jute_in_init(&in, data, n, NULL);
    struct jute_qcm_initial r;
    jute_get_qcm_initial(&in, &r);
    CHECK_EQ_INT(in.err, 0);
    CHECK_EQ_INT(jute_in_left(&in), 0);
    CHECK_EQ_INT(r.protocol_version, QCM_PROTOCOL_V1); /* multiAddress is off by default */
    CHECK_EQ_INT(r.sid, sid);
    CHECK(r.addrs.len > 10 && memcmp(r.addrs.data, "127.0.0.1:", 10) == 0);
    struct jute_out out;
    jute_out_init(&out);
    jute_put_qcm_initial(&out, &r);
    CHECK(out.len == n && memcmp(out.data, data, n) == 0);
    jute_out_close(&out);
    return n;
}

static void test_golden_election(void)
{
    size_t len;
    /* Server 2 dialled server 1: kept (bigger sid dialled). */
    uint8_t *data = read_golden("election_2to1.out", &len);
    if (data) {
        size_t n = golden_initial(data, len, 2);
        CHECK(jute_qcm_keeps(2, 1, true) && jute_qcm_keeps(1, 2, false));
        CHECK(golden_notifications(data, len, n, 2) >= 2);
        free(data);
    }
    data = read_golden("election_2to1.in", &len);
    if (data) {
        CHECK(golden_notifications(data, len, 0, 1) >= 2);
        free(data);
    }
    /* Server 1 dialled server 2: only the initial message, then both sides close. */
    data = read_golden("election_1to2_dropped.out", &len);
    if (data) {
        CHECK_EQ_INT(golden_initial(data, len, 1), len);
        CHECK(!jute_qcm_keeps(1, 2, true) && !jute_qcm_keeps(2, 1, false));
        free(data);
    }
}

static void test_golden_epochs(void)
{
    static const char *const names[] = {"leader.acceptedEpoch", "leader.currentEpoch"};
    for (size_t i = 0; i < 2; i++) {
        size_t len;
        uint8_t *data = read_golden(names[i], &len);
        if (!data)
            continue;
        int64_t e = 0;
        CHECK_EQ_INT(quorum_epoch_parse(data, len, &e), 0);
        CHECK_EQ_INT(e, 1); /* one election in the capture */
        char buf[QUORUM_EPOCH_TEXT_MAX];
        size_t n = quorum_epoch_format(e, buf);
        CHECK(n == len && memcmp(buf, data, n) == 0); /* no newline, as 3.8 writes it */
        free(data);
    }
}

int main(void)
{
    RUN(test_roundtrip_all);
    RUN(test_truncations_all);
    RUN(test_oom_sweep_all);
    RUN(test_peeks_measure);
    RUN(test_qcm_initial_refused);
    RUN(test_qcm_keeps);
    RUN(test_election_frame_limits);
    RUN(test_fle_bad_lengths);
    RUN(test_quorum_packet_bad_lengths);
    RUN(test_qp_type_names);
    RUN(test_epoch_files);
    RUN(test_golden_election);
    RUN(test_golden_quorum);
    RUN(test_golden_epochs);
    return t_done();
}
