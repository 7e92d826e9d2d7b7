/*
 * The txn codec: a `struct tree_txn` <-> the bytes of one txn log record's
 * payload, exactly as Apache ZooKeeper 3.8 writes them (Util.marshallTxnEntry
 * and SerializeUtils.deserializeTxn), which are also the bytes a Zab PROPOSAL
 * carries:
 *
 *   TxnHeader{clientId, cxid, zxid, time, type}
 *   body for hdr.type:
 *     createSession (-10)            CreateSessionTxn{timeOut}
 *     closeSession (-11)             CloseSessionTxn{paths2Delete} (3.6+; absent before)
 *     create (1), create2 (15)       CreateTxn{path, data, acl, ephemeral, parentCVersion}
 *     createTTL (21)                 CreateTTLTxn{path, data, acl, parentCVersion, ttl}
 *     createContainer (19)           CreateContainerTxn{path, data, acl, parentCVersion}
 *     delete (2), deleteContainer (20) DeleteTxn{path}
 *     setData (5)                    SetDataTxn{path, data, version}
 *     setACL (7)                     SetACLTxn{path, acl, version}
 *     error (-1)                     ErrorTxn{err}
 *     multi (14)                     MultiTxn{vector<Txn{type, buffer}>}, each buffer the
 *                                    body of one sub-txn: the records above, plus
 *                                    CheckVersionTxn{path, version} for check (13)
 *   optional TxnDigest{version, treeDigest} (3.6+, zookeeper.digest.enabled)
 *
 * A failed multi is logged with type 14, not -1: the ops before the failing
 * one keep their full txn, the failing op is ErrorTxn{code} and the ops after
 * it ErrorTxn{RUNTIMEINCONSISTENCY} (see tests/unit/jute/test_golden.c).
 * Replaying applies nothing of it; that is tree_apply's business.
 *
 * Compatibility on decode, as SerializeUtils: a create (1) whose body is a
 * pre-3.x CreateTxnV0 (no parentCVersion) decodes with parent_cversion -1;
 * a closeSession without a body (before 3.6, or closeSessionTxn disabled)
 * decodes with an empty path list.
 *
 * Pure computation over buffers: no I/O.
 */
#ifndef PD_STORAGE_TXN_H
#define PD_STORAGE_TXN_H

#include "tree/tree.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The version TxnDigest carries in ZooKeeper 3.6-3.9 (DigestCalculator.DIGEST_VERSION). */
#define TXN_DIGEST_VERSION 2

/* Bytes of a TxnHeader; the zxid is at offset 12. */
#define TXN_HEADER_BYTES 28

/*
 * Appends the payload of `txn` (header, body, then the digest if `digest` is
 * not NULL) to `out`. Multi sub-txns are encoded as Txn{type, body}; each
 * sub's hdr is ignored but for its type. Returns 0, PD_ENOMEM (out->err),
 * or PD_EINVAL for a type that is not a txn (out is then left with a partial
 * record: reset it). Borrows everything.
 */
int txn_encode(struct jute_out *out, const struct tree_txn *txn,
               const struct jute_txn_digest *digest);

/*
 * Decodes one payload of `len` bytes. Strings, vectors and the sub-txn array
 * are allocated in `a`; data buffers (create/setData data) point into `data`,
 * which must outlive *out. Each sub-txn of a multi gets the multi's header
 * with its own type. If the payload ends with a TxnDigest and `digest` is
 * not NULL, it is stored there and *has_digest set (has_digest may be NULL).
 * Returns 0, PD_ENOMEM, or PD_EMALFORMED (unknown type, short or overlong
 * body, bytes left after the digest, a nested multi).
 */
int txn_decode(const void *data, size_t len, struct arena *a, struct tree_txn *out,
               struct jute_txn_digest *digest, bool *has_digest);

/*
 * The zxid in a payload's TxnHeader, without decoding the rest. Returns 0,
 * or PD_EMALFORMED if len < TXN_HEADER_BYTES.
 */
int txn_peek_zxid(const void *data, size_t len, int64_t *zxid);

/* ZooKeeper's name of a txn type (Request.op2String: "create", "closeSession"...), or NULL. */
const char *txn_type_name(int32_t type);

#endif
