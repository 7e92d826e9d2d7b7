/*
 * Durability of queued txns. Until the txn log lands (issue #3) every queued
 * txn counts as durable as soon as it is queued; pipeline_commit() applies it
 * at the end of the loop turn, so replies are still batched per turn.
 */
#include "server/server.h"

void storage_submitted(struct server *srv, int64_t zxid)
{
    srv->durable_zxid = zxid;
}
