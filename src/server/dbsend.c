/*
 * The leader's database stream after SNAP (dbsend.h), on top of the sliced
 * snapshot encoder: the encoder writes a whole snapshot file with no digest,
 *
 *     FileHeader (16 bytes) | sessions, ACLs, nodes, "/" | seal (13 bytes)
 *
 * and the stream is the middle part followed by the signature. So the sink
 * drops the first 16 bytes, and `ready` always keeps its last SEAL_BYTES
 * back from dbsend_take: until the encoder says it is done, they may be the
 * seal. Once done, they are replaced by the signature.
 */
#include "server/dbsend.h"

#include "common/alloc.h"
#include "common/err.h"
#include "jute/jute.h"
#include "jute/quorum.h"
#include "storage/snapshot.h"

#include <string.h>

#define HEADER_BYTES 16 /* FileHeader: magic, version, dbid */
#define SEAL_BYTES   13 /* the checksum (long) and the string "/" after it */

struct dbsend {
    struct snap_enc *enc; /* owned */
    struct jute_out ready; /* encoded, not yet taken; the last SEAL_BYTES held back */
    size_t header_left;   /* FileHeader bytes still to drop */
    bool is_done;         /* the seal was replaced by the signature */
    int err;              /* sticky */
    uint64_t taken;
};

static int sink(void *ctx, const void *data, size_t len)
{
    struct dbsend *d = ctx;
    const uint8_t *p = data;
    size_t drop = len < d->header_left ? len : d->header_left;
    d->header_left -= drop;
    jute_put_raw(&d->ready, p + drop, len - drop);
    return d->ready.err ? PD_ENOMEM : 0;
}

int dbsend_new(struct tree *t, int64_t zxid, const struct snap_session *sessions, size_t n,
               struct dbsend **out)
{
    *out = NULL;
    struct dbsend *d = pd_calloc(1, sizeof(*d));
    if (!d)
        return PD_ENOMEM;
    jute_out_init(&d->ready);
    d->header_left = HEADER_BYTES;
    struct snap_params p = {.zxid = zxid, .sessions = sessions, .n_sessions = n, .no_digest = true};
    int rc = snap_enc_new(t, &p, sink, d, &d->enc);
    if (rc != 0) {
        dbsend_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

int dbsend_step(struct dbsend *d, int64_t max_nodes)
{
    if (d->err)
        return d->err;
    if (d->is_done)
        return 1;
    /* last_zxid only names the digest, which a no-digest stream does not have */
    int rc = snap_enc_step(d->enc, max_nodes, 0);
    if (rc == 1) {
        if (d->ready.len < SEAL_BYTES) {
            rc = PD_ECORRUPT; /* cannot happen: the encoder always ends with a seal */
        } else {
            d->ready.len -= SEAL_BYTES;
            jute_put_string(&d->ready, JUTE_QUORUM_SNAP_SIGNATURE);
            if (d->ready.err)
                rc = PD_ENOMEM;
            else
                d->is_done = true;
        }
    }
    if (rc < 0)
        d->err = rc;
    return rc;
}

uint8_t *dbsend_take(struct dbsend *d, size_t *len)
{
    *len = 0;
    size_t hold = d->is_done ? 0 : SEAL_BYTES;
    if (d->err || d->ready.len <= hold)
        return NULL;
    size_t n = d->ready.len - hold;
    uint8_t *rest = NULL;
    if (hold) {
        rest = pd_malloc(hold);
        if (!rest) {
            d->err = PD_ENOMEM;
            return NULL;
        }
        memcpy(rest, d->ready.data + n, hold);
    }
    size_t all;
    uint8_t *bytes = jute_out_steal(&d->ready, &all);
    if (hold) {
        jute_put_raw(&d->ready, rest, hold);
        pd_free(rest);
        if (d->ready.err) {
            pd_free(bytes);
            d->err = PD_ENOMEM;
            return NULL;
        }
    }
    d->taken += n;
    *len = n;
    return bytes;
}

uint64_t dbsend_bytes(const struct dbsend *d)
{
    return d->taken;
}

int64_t dbsend_nodes(const struct dbsend *d)
{
    return snap_enc_nodes(d->enc);
}

void dbsend_free(struct dbsend *d)
{
    if (!d)
        return;
    snap_enc_free(d->enc);
    jute_out_close(&d->ready);
    pd_free(d);
}
