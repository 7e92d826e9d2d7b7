/*
 * `paddock snapshot <file> [--json]`: prints one snapshot file's sessions,
 * ACL lists and nodes (path, persisted stat, ACL index, data), then its
 * digest and checksum, as Apache ZooKeeper's SnapshotFormatter does, with
 * every checksum verified and the stored digest compared with the digest of
 * the nodes read. Human-readable by default; --json prints one JSON document
 * for scripts (data in hex). Opens the file read-only and never writes.
 *
 * Records are printed as they are read, before the checksums at the end can
 * be verified: the last lines (text) or "valid" (JSON) say whether they were.
 */
#include "storage/snaptool.h"

#include "common/err.h"
#include "storage/print.h"
#include "storage/snapshot.h"

#include <inttypes.h>
#include <stdio.h>

enum section { SEC_NONE, SEC_SESSIONS, SEC_ACLS, SEC_NODES };

struct out {
    FILE *f;
    bool json;
    enum section sec;
    int64_t n_in_sec; /* records printed in the current section */
};

/* Data: hex in JSON; in text, quoted when printable, else hex, the first 64 bytes. */
static void data(const struct out *o, struct jute_buf b)
{
    if (print_data(o->f, o->json, b))
        fputs("...", o->f);
}

/* Moves to section s: closes the previous one's list and opens s's. */
static void section(struct out *o, enum section s)
{
    static const char *names[] = {"", "sessions", "acls", "nodes"};
    static const char *titles[] = {"", "Sessions", "ACL lists", "Nodes"};
    if (o->sec == s)
        return;
    while (o->sec < s) {
        if (o->json && o->sec != SEC_NONE)
            fputs("],", o->f);
        o->sec++;
        if (o->json)
            fprintf(o->f, "\"%s\":[", names[o->sec]);
        else
            fprintf(o->f, "%s:\n", titles[o->sec]);
        o->n_in_sec = 0;
    }
}

static void item_sep(struct out *o)
{
    if (o->json && o->n_in_sec > 0)
        fputc(',', o->f);
    o->n_in_sec++;
}

static int on_session(void *arg, int64_t id, int32_t timeout_ms)
{
    struct out *o = arg;
    section(o, SEC_SESSIONS);
    item_sep(o);
    if (o->json)
        fprintf(o->f, "{\"id\":%" PRId64 ",\"timeout\":%" PRId32 "}", id, timeout_ms);
    else
        fprintf(o->f, "  0x%" PRIx64 " timeout=%" PRId32 "\n", (uint64_t)id, timeout_ms);
    return 0;
}

static int on_acl(void *arg, int64_t index, const struct jute_acl_vec *v)
{
    struct out *o = arg;
    section(o, SEC_ACLS);
    item_sep(o);
    FILE *f = o->f;
    if (o->json)
        fprintf(f, "{\"index\":%" PRId64 ",\"acl\":", index);
    else
        fprintf(f, "  %" PRId64 ": ", index);
    print_acl(f, o->json, v);
    fputs(o->json ? "}" : "\n", f);
    return 0;
}

static int on_node(void *arg, const char *path, size_t len, struct jute_buf d, int64_t acl,
                   const struct jute_stat_persisted *st)
{
    struct out *o = arg;
    section(o, SEC_NODES);
    item_sep(o);
    FILE *f = o->f;
    /* the root is stored as "" and shown as "/", as SnapshotFormatter does */
    const char *shown = len ? path : "/";
    if (o->json) {
        fputs("{\"path\":", f);
        print_str(f, true, shown);
        fprintf(f,
                ",\"czxid\":%" PRId64 ",\"mzxid\":%" PRId64 ",\"pzxid\":%" PRId64
                ",\"ctime\":%" PRId64 ",\"mtime\":%" PRId64 ",\"version\":%" PRId32
                ",\"cversion\":%" PRId32 ",\"aversion\":%" PRId32 ",\"ephemeralOwner\":%" PRId64
                ",\"acl\":%" PRId64 ",\"dataLength\":%" PRId32 ",\"data\":",
                st->czxid, st->mzxid, st->pzxid, st->ctime, st->mtime, st->version, st->cversion,
                st->aversion, st->ephemeral_owner, acl, d.len > 0 ? d.len : 0);
        data(o, d);
        fputc('}', f);
        return 0;
    }
    print_str(f, false, shown);
    fprintf(f,
            "\n    czxid=0x%" PRIx64 " mzxid=0x%" PRIx64 " pzxid=0x%" PRIx64 " ctime=%" PRId64
            " mtime=%" PRId64 "\n    version=%" PRId32 " cversion=%" PRId32 " aversion=%" PRId32
            " ephemeralOwner=0x%" PRIx64 " acl=%" PRId64 " dataLength=%" PRId32 "\n    data=",
            (uint64_t)st->czxid, (uint64_t)st->mzxid, (uint64_t)st->pzxid, st->ctime, st->mtime,
            st->version, st->cversion, st->aversion, (uint64_t)st->ephemeral_owner, acl,
            d.len > 0 ? d.len : 0);
    data(o, d);
    fputc('\n', f);
    return 0;
}

static const char *state_name(enum snap_digest_state s)
{
    switch (s) {
    case SNAP_DIGEST_NONE:
        return "none";
    case SNAP_DIGEST_EMPTY:
        return "empty";
    case SNAP_DIGEST_DEFERRED:
        return "deferred";
    case SNAP_DIGEST_IGNORED:
        return "ignored";
    case SNAP_DIGEST_MATCH:
        return "match";
    case SNAP_DIGEST_MISMATCH:
        return "mismatch";
    }
    return "?";
}

static const char *state_text(enum snap_digest_state s)
{
    switch (s) {
    case SNAP_DIGEST_NONE:
        return "no digest in the file";
    case SNAP_DIGEST_EMPTY:
        return "empty (written before any txn)";
    case SNAP_DIGEST_DEFERRED:
        return "for another zxid than the file's: checked on replay";
    case SNAP_DIGEST_IGNORED:
        return "older than the file's zxid: ignored, as ZooKeeper does";
    case SNAP_DIGEST_MATCH:
        return "matches the nodes";
    case SNAP_DIGEST_MISMATCH:
        return "DOES NOT MATCH the nodes";
    }
    return "?";
}

static void usage(FILE *f)
{
    fprintf(f, "usage: paddock snapshot <snapshot file> [--json]\n"
               "  prints a snapshot's sessions, ACL lists, nodes and digest, with its\n"
               "  checksums verified; never modifies the file\n");
}

int snaptool_main(int argc, char **argv)
{
    const char *path;
    bool json;
    int status = print_parse_args(argc, argv, usage, &path, &json);
    if (status >= 0)
        return status;
    struct out o = {.f = stdout, .json = json};
    if (json) {
        fputs("{\"file\":", stdout);
        print_str(stdout, true, path);
        fputc(',', stdout);
    } else {
        printf("ZooKeeper snapshot %s\n", path);
    }
    struct file_fs fs;
    file_posix_init(&fs);
    struct snap_visitor v = {.session = on_session, .acl = on_acl, .node = on_node};
    struct snap_info info;
    char err[512] = "";
    int rc = snap_parse_file(&fs, path, &v, &o, &info, err, sizeof(err));
    /* every list is printed, empty ones too, even after an error */
    section(&o, SEC_NODES);
    bool bad_digest = rc == 0 && info.digest_state == SNAP_DIGEST_MISMATCH;
    if (json) {
        fputs("]", stdout);
        if (rc == 0) {
            printf(",\"magic\":%" PRId32 ",\"version\":%" PRId32 ",\"dbid\":%" PRId64
                   ",\"zxid\":%" PRId64 ",\"size\":%" PRIu64 ",\"checksum\":%" PRId64
                   ",\"treeDigest\":%" PRId64,
                   info.magic, info.version, info.dbid, info.zxid, info.size_bytes, info.checksum,
                   info.tree_digest);
            if (info.has_digest)
                printf(",\"digest\":{\"zxid\":%" PRId64 ",\"version\":%" PRId32
                       ",\"digest\":%" PRId64 "}",
                       info.digest_zxid, info.digest_version, info.digest);
            else
                fputs(",\"digest\":null", stdout);
            printf(",\"digestState\":\"%s\"", state_name(info.digest_state));
        }
        fputs(",\"valid\":", stdout);
        fputs(rc == 0 && !bad_digest ? "true" : "false", stdout);
        if (rc != 0) {
            fputs(",\"error\":", stdout);
            print_str(stdout, true, err);
        }
        fputs("}\n", stdout);
    } else if (rc == 0) {
        printf("Summary: %" PRId64 " sessions, %" PRId64 " ACL lists, %" PRId64 " nodes, %" PRIu64
               " bytes, format version %" PRId32 ", dbid %" PRId64 "\n",
               info.n_sessions, info.n_acls, info.n_nodes, info.size_bytes, info.version,
               info.dbid);
        if (info.has_digest)
            printf("Digest: zxid 0x%" PRIx64 ", version %" PRId32 ", %" PRId64 ": %s\n",
                   (uint64_t)info.digest_zxid, info.digest_version, info.digest,
                   state_text(info.digest_state));
        else
            printf("Digest: none in the file\n");
        printf("Nodes' digest: %" PRId64 "\n", info.tree_digest);
        printf("Checksum: 0x%08" PRIx64 ", verified\n", (uint64_t)info.checksum);
    }
    fflush(stdout);
    if (rc != 0) {
        fprintf(stderr, "paddock snapshot: %s: %s\n", path, err[0] ? err : pd_strerror(rc));
        return rc == PD_ECORRUPT || rc == PD_ETOOBIG ? 1 : 2;
    }
    if (bad_digest) {
        fprintf(stderr, "paddock snapshot: %s: the stored digest does not match the nodes\n", path);
        return 1;
    }
    return 0;
}
