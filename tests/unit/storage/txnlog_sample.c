/*
 * storage_txnlog_sample <dir>: writes a txn log with Paddock's writer
 * (storage/txnlog.c + storage/txn.c) into <dir>, which must exist: every
 * txn type the server logs, in two files (a roll in between), each with a
 * TxnDigest except the ErrorTxn (as Apache ZooKeeper 3.8 logs them), 64 KiB
 * preallocation. Prints "<file> <count>" per file written.
 *
 * Test-only: tests/integration/test_txnlog_compat.py runs Apache ZooKeeper's
 * own TxnLogToolkit on the result. A separate small binary rather than a
 * hidden `paddock` subcommand, so that no test hook ships in the server.
 */
#include "common/err.h"
#include "storage/file.h"
#include "storage/txn.h"
#include "storage/txnlog.h"

#include <stdio.h>
#include <string.h>

static const int64_t session_a = 0x0100000821ad0000LL;
static const int64_t session_b = 0x0100000821ad0001LL;

static struct jute_acl world_all = {ZOO_PERM_ALL, {"world", "anyone"}};
static struct jute_acl acl_pair[2] = {
    {ZOO_PERM_READ, {"world", "anyone"}},
    {ZOO_PERM_ALL, {"digest", "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="}},
};
static struct jute_acl acl_ip = {ZOO_PERM_ALL, {"ip", "127.0.0.1"}};

static struct jute_acl_vec world(void)
{
    return (struct jute_acl_vec){1, false, &world_all};
}

static struct jute_buf data(const char *s)
{
    return (struct jute_buf){(const uint8_t *)s, s ? (int32_t)strlen(s) : -1};
}

struct gen {
    struct txnlog *log;
    int64_t zxid;
    int64_t time_ms;
    int n;
};

static struct tree_txn txn(struct gen *g, int64_t session, int32_t cxid, int32_t type)
{
    struct tree_txn t;
    memset(&t, 0, sizeof(t));
    t.hdr = (struct jute_txn_header){.client_id = session,
                                     .cxid = cxid,
                                     .zxid = ++g->zxid,
                                     .time = g->time_ms += 7,
                                     .type = type};
    return t;
}

static int put(struct gen *g, struct tree_txn *t)
{
    for (int32_t i = 0; i < t->n_sub; i++) {
        int32_t type = t->sub[i].hdr.type;
        t->sub[i].hdr = t->hdr;
        t->sub[i].hdr.type = type;
    }
    struct jute_txn_digest dg = {TXN_DIGEST_VERSION, 0x51c6d660 + t->hdr.zxid * 977};
    struct jute_out o;
    jute_out_init(&o);
    int rc = txn_encode(&o, t, t->hdr.type == ZOO_OP_ERROR ? NULL : &dg);
    if (rc == 0)
        rc = txnlog_append(g->log, t->hdr.zxid, o.data, o.len);
    jute_out_close(&o);
    g->n++;
    return rc;
}

static int first_file(struct gen *g)
{
    int rc = 0;
    struct tree_txn t = txn(g, session_a, 0, ZOO_OP_CREATESESSION);
    t.u.create_session.timeout_ms = 30000;
    rc = rc ? rc : put(g, &t);

    t = txn(g, session_a, 1, ZOO_OP_CREATE2);
    t.u.create = (struct jute_create_txn){"/app", data("hello"), world(), false, 1};
    rc = rc ? rc : put(g, &t);

    t = txn(g, session_a, 2, ZOO_OP_CREATE);
    t.u.create = (struct jute_create_txn){"/app/cfg", data("v1"), {2, false, acl_pair}, false, 1};
    rc = rc ? rc : put(g, &t);

    t = txn(g, session_a, 3, ZOO_OP_CREATE);
    t.u.create = (struct jute_create_txn){"/app/eph-0000000002", data(""), world(), true, 2};
    rc = rc ? rc : put(g, &t);

    t = txn(g, session_a, 4, ZOO_OP_CREATETTL);
    t.u.create_ttl = (struct jute_create_ttl_txn){"/ttl", data("t"), world(), 2, 3600000};
    rc = rc ? rc : put(g, &t);

    t = txn(g, session_a, 5, ZOO_OP_CREATECONTAINER);
    t.u.create_container = (struct jute_create_container_txn){"/box", data("c"), world(), 3};
    rc = rc ? rc : put(g, &t);

    t = txn(g, session_a, 6, ZOO_OP_SETDATA);
    t.u.set_data = (struct jute_set_data_txn){"/app", data("world"), 1};
    rc = rc ? rc : put(g, &t);

    t = txn(g, session_a, 7, ZOO_OP_SETACL);
    t.u.set_acl = (struct jute_set_acl_txn){"/app/cfg", {1, false, &acl_ip}, 1};
    rc = rc ? rc : put(g, &t);

    t = txn(g, session_a, 8, ZOO_OP_ERROR);
    t.u.error.err = ZNONODE;
    rc = rc ? rc : put(g, &t);

    struct tree_txn sub[6];
    memset(sub, 0, sizeof(sub));
    sub[0].hdr.type = ZOO_OP_CREATE;
    sub[0].u.create = (struct jute_create_txn){"/app/m1", data("m"), world(), false, 3};
    sub[1].hdr.type = ZOO_OP_CREATETTL;
    sub[1].u.create_ttl = (struct jute_create_ttl_txn){"/app/t1", data("t"), world(), 4, 1000};
    sub[2].hdr.type = ZOO_OP_CREATECONTAINER;
    sub[2].u.create_container = (struct jute_create_container_txn){"/app/c1", data(""), world(), 5};
    sub[3].hdr.type = ZOO_OP_SETDATA;
    sub[3].u.set_data = (struct jute_set_data_txn){"/app/m1", data("mm"), 1};
    sub[4].hdr.type = ZOO_OP_CHECK;
    sub[4].u.check = (struct jute_path_version_request){"/app", 2};
    sub[5].hdr.type = ZOO_OP_DELETE;
    sub[5].u.del.path = "/app/m1";
    t = txn(g, session_a, 9, ZOO_OP_MULTI);
    t.n_sub = 6;
    t.sub = sub;
    rc = rc ? rc : put(g, &t);

    /* A failed multi: type 14, the ops before the failure as full txns. */
    struct tree_txn fsub[3];
    memset(fsub, 0, sizeof(fsub));
    fsub[0].hdr.type = ZOO_OP_CREATE;
    fsub[0].u.create = (struct jute_create_txn){"/app/never", data("x"), world(), false, 7};
    fsub[1].hdr.type = ZOO_OP_ERROR;
    fsub[1].u.error.err = ZBADVERSION;
    fsub[2].hdr.type = ZOO_OP_ERROR;
    fsub[2].u.error.err = ZRUNTIMEINCONSISTENCY;
    t = txn(g, session_a, 10, ZOO_OP_MULTI);
    t.n_sub = 3;
    t.sub = fsub;
    rc = rc ? rc : put(g, &t);

    t = txn(g, session_a, 11, ZOO_OP_DELETE);
    t.u.del.path = "/app/cfg";
    rc = rc ? rc : put(g, &t);

    t = txn(g, 0, 0, ZOO_OP_DELETECONTAINER);
    t.u.del.path = "/box";
    rc = rc ? rc : put(g, &t);

    char *eph[] = {"/app/eph-0000000002"};
    t = txn(g, session_a, 12, ZOO_OP_CLOSESESSION);
    t.u.close_session.paths_to_delete = (struct jute_str_vec){1, false, eph};
    rc = rc ? rc : put(g, &t);
    return rc;
}

static int second_file(struct gen *g)
{
    int rc = 0;
    struct tree_txn t = txn(g, session_b, 0, ZOO_OP_CREATESESSION);
    t.u.create_session.timeout_ms = 10000;
    rc = rc ? rc : put(g, &t);

    t = txn(g, session_b, 1, ZOO_OP_CREATE2);
    t.u.create = (struct jute_create_txn){"/nulldata", data(NULL), world(), false, 5};
    rc = rc ? rc : put(g, &t);

    static const uint8_t bin[] = {0x00, 0xff, 0x10, 0x80, 'z'};
    t = txn(g, session_b, 2, ZOO_OP_CREATE);
    t.u.create =
        (struct jute_create_txn){"/\xc3\xbcml\xc3\xa4ut", {bin, sizeof(bin)}, world(), false, 6};
    rc = rc ? rc : put(g, &t);

    t = txn(g, session_b, 3, ZOO_OP_CLOSESESSION);
    t.u.close_session.paths_to_delete = (struct jute_str_vec){0};
    rc = rc ? rc : put(g, &t);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: storage_txnlog_sample <dir>\n");
        return 2;
    }
    struct file_fs fs;
    file_posix_init(&fs);
    struct txnlog_options opt;
    txnlog_options_default(&opt);
    opt.prealloc_bytes = 64 * 1024;
    struct gen g = {.time_ms = 1718500000000LL};
    int rc = txnlog_open(&fs, argv[1], &opt, &g.log);
    if (rc) {
        fprintf(stderr, "txnlog_open: %s\n", pd_strerror(rc));
        return 1;
    }
    rc = first_file(&g);
    if (!rc)
        rc = txnlog_sync(g.log, true, NULL);
    int first = g.n;
    if (!rc)
        rc = txnlog_roll(g.log);
    if (!rc)
        rc = second_file(&g);
    if (!rc)
        rc = txnlog_sync(g.log, true, NULL);
    if (rc) {
        fprintf(stderr, "writing the sample log: %s (%s)\n", pd_strerror(rc), txnlog_errmsg(g.log));
        txnlog_close(g.log);
        return 1;
    }
    char name[TXNLOG_NAME_MAX + 1];
    txnlog_file_name(1, name);
    printf("%s %d\n", name, first);
    txnlog_file_name(first + 1, name);
    printf("%s %d\n", name, g.n - first);
    txnlog_close(g.log);
    return 0;
}
