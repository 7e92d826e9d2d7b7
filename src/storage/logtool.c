/*
 * `paddock log <file> [--json]`: prints every record of one txn log file,
 * each checksum verified, as Apache ZooKeeper's LogFormatter does: the time,
 * session, cxid, zxid, type and body fields of each txn, and its digest.
 * Human-readable by default; --json prints one JSON document for scripts.
 * Opens the file read-only and never writes anything.
 *
 * Exit status: 0 when every record was read (a torn tail is reported, not an
 * error: recovery truncates it); 1 when the file is corrupt or a payload is
 * not a txn; 2 for usage or I/O errors.
 */
#include "storage/logtool.h"

#include "common/arena.h"
#include "common/err.h"
#include "storage/file.h"
#include "storage/print.h"
#include "storage/txn.h"
#include "storage/txnlog.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

struct out {
    FILE *f;
    bool json;
};

static void str(const struct out *o, const char *s)
{
    print_str(o->f, o->json, s);
}

/* Data: hex in JSON; quoted text when printable, else hex, in text (first 64 bytes). */
static void data(const struct out *o, struct jute_buf b)
{
    if (print_data(o->f, o->json, b))
        fprintf(o->f, "...(%" PRId32 " bytes)", b.len);
}

static void acl(const struct out *o, const struct jute_acl_vec *v)
{
    print_acl(o->f, o->json, v);
}

/* A field separator plus "name=" (text) or ",\"name\":" (JSON). */
static void key(const struct out *o, const char *name)
{
    if (o->json)
        fprintf(o->f, ",\"%s\":", name);
    else
        fprintf(o->f, " %s=", name);
}

static void key_int(const struct out *o, const char *name, int64_t v)
{
    key(o, name);
    fprintf(o->f, "%" PRId64, v);
}

static void key_bool(const struct out *o, const char *name, bool v)
{
    key(o, name);
    fputs(v ? "true" : "false", o->f);
}

/* The fields that the three create txns start with. */
static void created(const struct out *o, const char *path, struct jute_buf d,
                    const struct jute_acl_vec *v)
{
    key(o, "path");
    str(o, path);
    key(o, "data");
    data(o, d);
    key(o, "acl");
    acl(o, v);
}

/* The body fields of one txn (top level or a multi's sub). */
static void body(const struct out *o, const struct tree_txn *t)
{
    FILE *f = o->f;
    switch (t->hdr.type) {
    case ZOO_OP_CREATESESSION:
        key_int(o, "timeout", t->u.create_session.timeout_ms);
        break;
    case ZOO_OP_CLOSESESSION: {
        const struct jute_str_vec *v = &t->u.close_session.paths_to_delete;
        key(o, "paths2Delete");
        fputc('[', f);
        for (int32_t i = 0; i < v->count; i++) {
            if (i)
                fputs(o->json ? "," : ", ", f);
            str(o, v->items[i]);
        }
        fputc(']', f);
        break;
    }
    case ZOO_OP_CREATE:
    case ZOO_OP_CREATE2:
        created(o, t->u.create.path, t->u.create.data, &t->u.create.acl);
        key_bool(o, "ephemeral", t->u.create.ephemeral);
        key_int(o, "parentCVersion", t->u.create.parent_cversion);
        break;
    case ZOO_OP_CREATETTL:
        created(o, t->u.create_ttl.path, t->u.create_ttl.data, &t->u.create_ttl.acl);
        key_int(o, "parentCVersion", t->u.create_ttl.parent_cversion);
        key_int(o, "ttl", t->u.create_ttl.ttl);
        break;
    case ZOO_OP_CREATECONTAINER:
        created(o, t->u.create_container.path, t->u.create_container.data,
                &t->u.create_container.acl);
        key_int(o, "parentCVersion", t->u.create_container.parent_cversion);
        break;
    case ZOO_OP_DELETE:
    case ZOO_OP_DELETECONTAINER:
        key(o, "path");
        str(o, t->u.del.path);
        break;
    case ZOO_OP_SETDATA:
    case ZOO_OP_RECONFIG:
        key(o, "path");
        str(o, t->u.set_data.path);
        key(o, "data");
        data(o, t->u.set_data.data);
        key_int(o, "version", t->u.set_data.version);
        break;
    case ZOO_OP_SETACL:
        key(o, "path");
        str(o, t->u.set_acl.path);
        key(o, "acl");
        acl(o, &t->u.set_acl.acl);
        key_int(o, "version", t->u.set_acl.version);
        break;
    case ZOO_OP_CHECK:
        key(o, "path");
        str(o, t->u.check.path);
        key_int(o, "version", t->u.check.version);
        break;
    case ZOO_OP_ERROR: {
        key_int(o, "err", t->u.error.err);
        const char *name = zk_err_name(t->u.error.err);
        if (o->json) {
            fputs(",\"errName\":", f);
            print_str(f, true, name);
        } else if (name) {
            fprintf(f, " (%s)", name);
        }
        break;
    }
    default:
        break;
    }
}

static void type_name(const struct out *o, int32_t type)
{
    const char *name = txn_type_name(type);
    if (o->json) {
        fprintf(o->f, "\"type\":%" PRId32 ",\"typeName\":", type);
        print_str(o->f, true, name ? name : "unknown");
    } else {
        fputs(name ? name : "unknown", o->f);
    }
}

static void time_text(FILE *f, int64_t ms)
{
    time_t s = (time_t)(ms / 1000);
    int64_t frac = ms % 1000;
    if (frac < 0) {
        frac += 1000;
        s--;
    }
    struct tm tm;
    char buf[64];
    if (gmtime_r(&s, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm))
        fprintf(f, "%s.%03" PRId64 "Z", buf, frac);
    else
        fprintf(f, "%" PRId64, ms);
}

static void record(const struct out *o, const struct txnlog_record *rec, const struct tree_txn *t,
                   bool has_digest, const struct jute_txn_digest *d, long n)
{
    FILE *f = o->f;
    const struct jute_txn_header *h = &t->hdr;
    if (o->json) {
        fprintf(f,
                "%s\n{\"offset\":%" PRIu64 ",\"length\":%zu,\"checksum\":%" PRIu32
                ",\"zxid\":\"0x%" PRIx64 "\",\"time\":%" PRId64 ",\"session\":\"0x%" PRIx64
                "\",\"cxid\":%" PRId32 ",",
                n ? "," : "", rec->offset, rec->len, rec->checksum, (uint64_t)h->zxid, h->time,
                (uint64_t)h->client_id, h->cxid);
        type_name(o, h->type);
        body(o, t);
        if (h->type == ZOO_OP_MULTI) {
            fputs(",\"txns\":[", f);
            for (int32_t i = 0; i < t->n_sub; i++) {
                fputs(i ? ",{" : "{", f);
                type_name(o, t->sub[i].hdr.type);
                body(o, &t->sub[i]);
                fputc('}', f);
            }
            fputc(']', f);
        }
        if (has_digest)
            fprintf(f, ",\"digest\":{\"version\":%" PRId32 ",\"treeDigest\":%" PRId64 "}",
                    d->version, d->tree_digest);
        fputc('}', f);
        return;
    }
    time_text(f, h->time);
    fprintf(f, " session 0x%" PRIx64 " cxid 0x%" PRIx32 " zxid 0x%" PRIx64 " ",
            (uint64_t)h->client_id, (uint32_t)h->cxid, (uint64_t)h->zxid);
    type_name(o, h->type);
    body(o, t);
    if (has_digest)
        fprintf(f, " digest=%" PRId32 ":0x%" PRIx64, d->version, (uint64_t)d->tree_digest);
    fputc('\n', f);
    if (h->type == ZOO_OP_MULTI) {
        for (int32_t i = 0; i < t->n_sub; i++) {
            fprintf(f, "    [%" PRId32 "] ", i);
            type_name(o, t->sub[i].hdr.type);
            body(o, &t->sub[i]);
            fputc('\n', f);
        }
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: paddock log <txn log file> [--json]\n"
               "Prints every record of a ZooKeeper transaction log file (log.<zxid>),\n"
               "checksums verified. Never modifies the file.\n");
}

int logtool_main(int argc, char **argv)
{
    const char *path;
    bool json;
    int status = print_parse_args(argc, argv, usage, &path, &json);
    if (status >= 0)
        return status;
    struct out o = {.f = stdout, .json = json};
    struct file_fs fs;
    file_posix_init(&fs);
    struct txnlog_iter *it = txnlog_iter_new_file(&fs, path);
    if (!it) {
        fprintf(stderr, "paddock log: out of memory\n");
        return 2;
    }
    struct arena a;
    arena_init(&a, 64 * 1024);
    long n = 0;
    status = 0;
    bool started = false;
    char problem[512] = "";
    struct txnlog_record rec;
    int rc;
    while ((rc = txnlog_iter_next(it, &rec)) == 1) {
        if (!started) {
            int64_t dbid = 0;
            int32_t version = 0;
            txnlog_iter_header(it, &dbid, &version);
            if (json) {
                printf("{\"file\":");
                print_str(stdout, true, path);
                printf(",\"dbid\":%" PRId64 ",\"version\":%" PRId32 ",\"records\":[", dbid,
                       version);
            } else {
                printf("ZooKeeper Transactional Log File with dbid %" PRId64
                       " txnlog format version %" PRId32 "\n",
                       dbid, version);
            }
            started = true;
        }
        arena_reset(&a);
        struct tree_txn t;
        struct jute_txn_digest d;
        bool has_digest;
        int drc = txn_decode(rec.payload, rec.len, &a, &t, &d, &has_digest);
        if (drc) {
            snprintf(problem, sizeof(problem), "%s: record at %" PRIu64 " (zxid 0x%" PRIx64 "): %s",
                     rec.file, rec.offset, (uint64_t)rec.zxid,
                     drc == PD_ENOMEM ? "out of memory" : "payload is not a valid txn");
            status = drc == PD_ENOMEM ? 2 : 1;
            break;
        }
        record(&o, &rec, &t, has_digest, &d, n);
        n++;
    }
    if (rc < 0) {
        snprintf(problem, sizeof(problem), "%s", txnlog_iter_errmsg(it));
        status = rc == PD_ECORRUPT ? 1 : 2;
    }
    const struct txnlog_end *end = txnlog_iter_end(it);
    bool has_header = txnlog_iter_header(it, &(int64_t){0}, &(int32_t){0});
    if (json) {
        if (!started) {
            int64_t dbid = 0;
            int32_t version = 0;
            txnlog_iter_header(it, &dbid, &version);
            printf("{\"file\":");
            print_str(stdout, true, path);
            if (has_header)
                printf(",\"dbid\":%" PRId64 ",\"version\":%" PRId32, dbid, version);
            printf(",\"records\":[");
        }
        printf("\n],\"count\":%ld", n);
        if (status == 0) {
            printf(",\"end\":{\"offset\":%" PRIu64 ",\"torn\":%s", end->offset,
                   end->is_torn ? "true" : "false");
            if (end->is_torn) {
                printf(",\"why\":");
                print_str(stdout, true, end->why);
            }
            printf("}");
        } else {
            printf(",\"error\":");
            print_str(stdout, true, problem);
        }
        printf("}\n");
    } else {
        if (!started && has_header) {
            int64_t dbid = 0;
            int32_t version = 0;
            txnlog_iter_header(it, &dbid, &version);
            printf("ZooKeeper Transactional Log File with dbid %" PRId64
                   " txnlog format version %" PRId32 "\n",
                   dbid, version);
        }
        if (status == 0 && end->is_torn)
            printf("torn tail at offset %" PRIu64 ": %s (recovery truncates it)\n", end->offset,
                   end->why);
        if (status == 0)
            printf("EOF reached after %ld txns.\n", n);
    }
    if (status != 0)
        fprintf(stderr, "paddock log: %s\n", problem);
    arena_close(&a);
    txnlog_iter_free(it);
    return status;
}
