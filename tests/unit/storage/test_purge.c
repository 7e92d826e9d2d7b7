/*
 * Purge (storage/purge.h): the decision over many directory layouts, checked
 * against Apache ZooKeeper 3.8's PurgeTxnLog rule and against invariants on
 * random layouts; then the driver on the in-memory fault backend: what is
 * deleted, in which order, durable after a crash, failures and OOM.
 */
#include "t.h"

#include "common/alloc.h"
#include "common/err.h"
#include "file_fault.h"
#include "storage/purge.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---- the decision ----------------------------------------------------------------------- */

#define MAX_ENTRIES 256

/* A listing from a spec: names separated by spaces; a trailing '~' marks an invalid snapshot. */
struct spec_list {
    struct purge_entry e[MAX_ENTRIES];
    char names[MAX_ENTRIES][64];
    size_t n;
};

static void spec_parse(struct spec_list *l, const char *spec)
{
    l->n = 0;
    const char *p = spec;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, " ");
        char *name = l->names[l->n];
        memcpy(name, p, len);
        name[len] = '\0';
        bool is_valid = true;
        if (len > 0 && name[len - 1] == '~') {
            name[len - 1] = '\0';
            is_valid = false;
        }
        /* Preset is_purged to check that purge_decide clears it. */
        l->e[l->n] = (struct purge_entry){.name = name, .is_valid = is_valid, .is_purged = true};
        l->n++;
        p += len;
    }
}

/* The purged names of l, space-separated, in listing order. */
static const char *purged(const struct spec_list *l, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (size_t i = 0; i < l->n; i++) {
        if (!l->e[i].is_purged)
            continue;
        if (buf[0])
            strncat(buf, " ", cap - strlen(buf) - 1);
        strncat(buf, l->e[i].name, cap - strlen(buf) - 1);
    }
    return buf;
}

struct outcome {
    int rc;
    struct purge_plan plan;
    char snaps[2048]; /* purged snapshot-listing names */
    char logs[2048];  /* purged log-listing names */
    char errmsg[256];
};

/* Two directories: snapshots in one, logs in the other. */
static struct outcome decide2(const char *snap_spec, const char *log_spec, int count)
{
    static struct spec_list s, l;
    struct outcome o;
    memset(&o, 0, sizeof(o));
    spec_parse(&s, snap_spec);
    spec_parse(&l, log_spec);
    o.rc = purge_decide(s.e, s.n, l.e, l.n, false, count, &o.plan, o.errmsg, sizeof(o.errmsg));
    purged(&s, o.snaps, sizeof(o.snaps));
    purged(&l, o.logs, sizeof(o.logs));
    return o;
}

/* One directory holding both (dataLogDir = dataDir): the same listing twice. */
static struct outcome decide1(const char *spec, int count)
{
    static struct spec_list d;
    struct outcome o;
    memset(&o, 0, sizeof(o));
    spec_parse(&d, spec);
    o.rc = purge_decide(d.e, d.n, d.e, d.n, true, count, &o.plan, o.errmsg, sizeof(o.errmsg));
    purged(&d, o.snaps, sizeof(o.snaps));
    return o;
}

static void test_classify(void)
{
    int64_t z;
    CHECK_EQ_INT(purge_classify("snapshot.0", &z), PURGE_SNAPSHOT);
    CHECK_EQ_INT(z, 0);
    CHECK_EQ_INT(purge_classify("snapshot.1a2b", &z), PURGE_SNAPSHOT);
    CHECK_EQ_INT(z, 0x1a2b);
    CHECK_EQ_INT(purge_classify("snapshot.1A2B", &z), PURGE_SNAPSHOT); /* Long.parseLong(, 16) */
    CHECK_EQ_INT(z, 0x1a2b);
    CHECK_EQ_INT(purge_classify("log.100000001", &z), PURGE_LOG);
    CHECK_EQ_INT(z, 0x100000001LL);
    CHECK_EQ_INT(purge_classify("log.7fffffffffffffff", &z), PURGE_LOG);
    CHECK_EQ_INT(z, INT64_MAX);
    CHECK_EQ_INT(purge_classify("log.0000000000000001", &z), PURGE_LOG);
    CHECK_EQ_INT(z, 1);
    static const char *others[] = {
        "log.8000000000000000",  /* over INT64_MAX */
        "log.00000000000000001", /* 17 digits: recovery ignores it too */
        "log.",
        "log",
        "log.1g",
        "log.-1",
        "log.+1",
        "log. 1",
        "log.1.bak",
        "snapshot.",
        "snapshot",
        "snapshot.xyz",
        "snapshot.10.tmp", /* ZooKeeper's AtomicFileOutputStream temporary */
        "snapshot.10.gz",  /* compressed: never counted nor deleted */
        "snapshot.10.snappy",
        "tmp.snapshot.10", /* Paddock's snapshot being written */
        "Snapshot.10",
        "LOG.10",
        "acceptedEpoch",
        "currentEpoch",
        ".paddock.lock",
        "",
    };
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        z = 7;
        CHECK_EQ_INT(purge_classify(others[i], &z), PURGE_OTHER);
        CHECK_EQ_INT(z, -1);
    }
    CHECK_EQ_INT(purge_classify("log.5", NULL), PURGE_LOG);
}

/* The usual layout: a snapshot then a new log after every ~100 txns. */
static void test_basic(void)
{
    struct outcome o = decide2("snapshot.0 snapshot.64 snapshot.c8 snapshot.12c snapshot.190",
                               "log.1 log.65 log.c9 log.12d log.191", 3);
    CHECK_EQ_INT(o.rc, 0);
    CHECK_EQ_INT(o.plan.retain_zxid, 0xc8);
    CHECK_EQ_INT(o.plan.n_valid, 3);
    /* log.65 starts at or before snapshot.c8: kept, as ZooKeeper keeps log.(S-a). */
    CHECK_EQ_INT(o.plan.retain_log_zxid, 0x65);
    CHECK_EQ_STR(o.snaps, "snapshot.0 snapshot.64");
    CHECK_EQ_STR(o.logs, "log.1");
    CHECK_EQ_INT(o.plan.n_snaps_purged, 2);
    CHECK_EQ_INT(o.plan.n_logs_purged, 1);

    /* Listing order does not matter. */
    o = decide2("snapshot.190 snapshot.c8 snapshot.0 snapshot.12c snapshot.64",
                "log.12d log.191 log.c9 log.1 log.65", 3);
    CHECK_EQ_STR(o.snaps, "snapshot.0 snapshot.64");
    CHECK_EQ_STR(o.logs, "log.1");

    /* Count 4 keeps one more snapshot and its log. */
    o = decide2("snapshot.0 snapshot.64 snapshot.c8 snapshot.12c snapshot.190",
                "log.1 log.65 log.c9 log.12d log.191", 4);
    CHECK_EQ_INT(o.plan.retain_zxid, 0x64);
    CHECK_EQ_INT(o.plan.retain_log_zxid, 0x1);
    CHECK_EQ_STR(o.snaps, "snapshot.0");
    CHECK_EQ_STR(o.logs, "");

    /* Count larger than the snapshots there are: keep everything from the oldest. */
    o = decide2("snapshot.0 snapshot.64 snapshot.c8 snapshot.12c snapshot.190",
                "log.1 log.65 log.c9 log.12d log.191", 100);
    CHECK_EQ_INT(o.plan.retain_zxid, 0);
    CHECK_EQ_INT(o.plan.n_valid, 5);
    CHECK_EQ_INT(o.plan.retain_log_zxid, -1); /* no log starts at or before 0 */
    CHECK_EQ_STR(o.snaps, "");
    CHECK_EQ_STR(o.logs, "");
}

/* A snapshot's zxid equal to a log's start: that log is the one holding what follows. */
static void test_log_starting_at_snapshot(void)
{
    struct outcome o =
        decide2("snapshot.10 snapshot.20 snapshot.30 snapshot.40", "log.1 log.10 log.20 log.30", 3);
    CHECK_EQ_INT(o.plan.retain_zxid, 0x20);
    CHECK_EQ_INT(o.plan.retain_log_zxid, 0x20);
    CHECK_EQ_STR(o.snaps, "snapshot.10");
    CHECK_EQ_STR(o.logs, "log.1 log.10");
}

/* One log file spanning several snapshots (no roll, as a learner may do). */
static void test_log_spanning_snapshots(void)
{
    struct outcome o = decide2("snapshot.10 snapshot.20 snapshot.30 snapshot.40", "log.1", 3);
    CHECK_EQ_INT(o.plan.retain_zxid, 0x20);
    CHECK_EQ_INT(o.plan.retain_log_zxid, 1);
    CHECK_EQ_STR(o.snaps, "snapshot.10");
    CHECK_EQ_STR(o.logs, "");

    /* An old log, then one spanning every kept snapshot. */
    o = decide2("snapshot.10 snapshot.20 snapshot.30 snapshot.40 snapshot.50", "log.1 log.15", 3);
    CHECK_EQ_INT(o.plan.retain_zxid, 0x30);
    CHECK_EQ_INT(o.plan.retain_log_zxid, 0x15);
    CHECK_EQ_STR(o.snaps, "snapshot.10 snapshot.20");
    CHECK_EQ_STR(o.logs, "log.1");
}

/* Gaps: logs and snapshots that do not line up. */
static void test_gaps(void)
{
    struct outcome o =
        decide2("snapshot.100 snapshot.200 snapshot.250 snapshot.400", "log.1 log.50 log.300", 3);
    CHECK_EQ_INT(o.plan.retain_zxid, 0x200);
    CHECK_EQ_INT(o.plan.retain_log_zxid, 0x50);
    CHECK_EQ_STR(o.snaps, "snapshot.100");
    CHECK_EQ_STR(o.logs, "log.1");

    /* No log at or before S: every log is kept (ZooKeeper's logZxid stays 0). */
    o = decide2("snapshot.100 snapshot.200 snapshot.300 snapshot.400", "log.250 log.350", 3);
    CHECK_EQ_INT(o.plan.retain_zxid, 0x200);
    CHECK_EQ_INT(o.plan.retain_log_zxid, -1);
    CHECK_EQ_STR(o.snaps, "snapshot.100");
    CHECK_EQ_STR(o.logs, "");

    /* log.0 is the newest at or before S: everything from 0 is kept. */
    o = decide2("snapshot.100 snapshot.200 snapshot.300 snapshot.400", "log.0 log.250", 3);
    CHECK_EQ_INT(o.plan.retain_log_zxid, 0);
    CHECK_EQ_STR(o.logs, "");

    /* No logs at all. */
    o = decide2("snapshot.100 snapshot.200 snapshot.300 snapshot.400", "", 3);
    CHECK_EQ_INT(o.rc, 0);
    CHECK_EQ_STR(o.snaps, "snapshot.100");
    CHECK_EQ_STR(o.logs, "");

    /* Logs only newer than every snapshot. */
    o = decide2("snapshot.1 snapshot.2 snapshot.3 snapshot.4", "log.5 log.6", 3);
    CHECK_EQ_STR(o.snaps, "snapshot.1");
    CHECK_EQ_STR(o.logs, "");
}

/* Fewer valid snapshots than the count: ZooKeeper still purges below the oldest valid. */
static void test_fewer_snapshots(void)
{
    struct outcome o = decide2("snapshot.100 snapshot.200", "log.1 log.80 log.150", 3);
    CHECK_EQ_INT(o.rc, 0);
    CHECK_EQ_INT(o.plan.n_valid, 2);
    CHECK_EQ_INT(o.plan.retain_zxid, 0x100);
    CHECK_EQ_INT(o.plan.retain_log_zxid, 0x80);
    CHECK_EQ_STR(o.snaps, "");
    CHECK_EQ_STR(o.logs, "log.1");

    /* One snapshot. */
    o = decide2("snapshot.0", "log.1", 3);
    CHECK_EQ_INT(o.plan.retain_zxid, 0);
    CHECK_EQ_STR(o.snaps, "");
    CHECK_EQ_STR(o.logs, "");

    /* An invalid snapshot below the oldest valid one goes. */
    o = decide2("snapshot.50~ snapshot.100 snapshot.200", "log.1 log.80 log.150", 3);
    CHECK_EQ_INT(o.plan.n_valid, 2);
    CHECK_EQ_INT(o.plan.retain_zxid, 0x100);
    CHECK_EQ_STR(o.snaps, "snapshot.50");
    CHECK_EQ_STR(o.logs, "log.1");
}

/* Invalid snapshots are not counted; those at or above S are kept all the same. */
static void test_invalid_snapshots(void)
{
    /* The newest is torn (a writer killed before the rename is never named so, but a copied
     * or damaged directory can hold one): the three valid ones below it are kept. */
    struct outcome o = decide2("snapshot.100 snapshot.200 snapshot.300 snapshot.400~",
                               "log.1 log.101 log.201 log.301 log.401", 3);
    CHECK_EQ_INT(o.plan.n_valid, 3);
    CHECK_EQ_INT(o.plan.retain_zxid, 0x100);
    CHECK_EQ_STR(o.snaps, "");
    CHECK_EQ_STR(o.logs, "");

    /* An invalid one in the middle is skipped over, and kept. */
    o = decide2("snapshot.100 snapshot.200 snapshot.300~ snapshot.400 snapshot.500",
                "log.1 log.101 log.201 log.301 log.401 log.501", 3);
    CHECK_EQ_INT(o.plan.retain_zxid, 0x200);
    CHECK_EQ_INT(o.plan.retain_log_zxid, 0x101);
    CHECK_EQ_STR(o.snaps, "snapshot.100");
    CHECK_EQ_STR(o.logs, "log.1");

    /* No valid snapshot: nothing at all is deleted. */
    o = decide2("snapshot.100~ snapshot.200~", "log.1 log.101 log.201", 3);
    CHECK_EQ_INT(o.rc, 0);
    CHECK_EQ_INT(o.plan.retain_zxid, -1);
    CHECK_EQ_INT(o.plan.n_valid, 0);
    CHECK_EQ_STR(o.snaps, "");
    CHECK_EQ_STR(o.logs, "");

    /* No snapshot at all. */
    o = decide2("", "log.1 log.101", 3);
    CHECK_EQ_INT(o.rc, 0);
    CHECK_EQ_INT(o.plan.retain_zxid, -1);
    CHECK_EQ_STR(o.logs, "");

    /* Two names for one zxid count twice, as ZooKeeper's list of files does. */
    o = decide2("snapshot.a snapshot.0a snapshot.14 snapshot.5", "log.1 log.6 log.b log.15", 3);
    CHECK_EQ_INT(o.plan.retain_zxid, 0xa);
    CHECK_EQ_STR(o.snaps, "snapshot.5");
    CHECK_EQ_STR(o.logs, "log.1");
}

/* Junk and temporary files are never touched, nor counted. */
static void test_junk_left_alone(void)
{
    /* What may sit next to snapshots, and next to logs (each free of the other's prefix). */
    static const char snap_junk[] =
        "tmp.snapshot.5 snapshot.5.tmp snapshot.5.gz snapshot.5.snappy snapshot.xyz snapshot. "
        "snapshot README .paddock.lock myid acceptedEpoch currentEpoch LOG.1 Snapshot.1 "
        "tmp.snapshot.500 snapshot.500.tmp snapshot.600.gz snapshot.00000000000000001";
    static const char log_junk[] = "README log.junk log.5.bak log. log log.00000000000000001 "
                                   "log.8000000000000000 log.-1 tmp.x";
    char snaps[2048], logs[2048], both[4096];
    snprintf(snaps, sizeof(snaps), "snapshot.10 snapshot.20 snapshot.30 snapshot.40 %s", snap_junk);
    snprintf(logs, sizeof(logs), "log.1 log.11 log.21 log.31 log.41 %s", log_junk);
    struct outcome o = decide2(snaps, logs, 3);
    CHECK_EQ_INT(o.rc, 0);
    CHECK_EQ_INT(o.plan.retain_zxid, 0x20);
    CHECK_EQ_INT(o.plan.retain_log_zxid, 0x11);
    CHECK_EQ_STR(o.snaps, "snapshot.10");
    CHECK_EQ_STR(o.logs, "log.1");

    /* Even when they are all there is. */
    o = decide2(snap_junk, log_junk, 3);
    CHECK_EQ_INT(o.rc, 0);
    CHECK_EQ_INT(o.plan.retain_zxid, -1);
    CHECK_EQ_STR(o.snaps, "");
    CHECK_EQ_STR(o.logs, "");

    /* One directory with everything in it. */
    snprintf(both, sizeof(both),
             "snapshot.10 snapshot.20 snapshot.30 snapshot.40 log.1 log.11 log.21 log.31 "
             "log.41 %s %s",
             snap_junk, log_junk);
    o = decide1(both, 3);
    CHECK_EQ_INT(o.rc, 0);
    CHECK_EQ_STR(o.snaps, "snapshot.10 log.1");
}

static void test_same_dir(void)
{
    struct outcome o = decide1("log.1 snapshot.0 log.65 snapshot.64 snapshot.c8 log.c9 "
                               "snapshot.12c log.12d snapshot.190 log.191",
                               3);
    CHECK_EQ_INT(o.rc, 0);
    CHECK_EQ_INT(o.plan.retain_zxid, 0xc8);
    CHECK_EQ_STR(o.snaps, "log.1 snapshot.0 snapshot.64");
    CHECK_EQ_INT(o.plan.n_snaps_purged, 2);
    CHECK_EQ_INT(o.plan.n_logs_purged, 1);
}

/* Count < 3 is refused, as PurgeTxnLog.purge throws, and nothing is marked. */
static void test_count_refused(void)
{
    int counts[] = {2, 1, 0, -1, -100};
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        struct outcome o = decide2("snapshot.1 snapshot.2 snapshot.3 snapshot.4 snapshot.5",
                                   "log.1 log.2 log.3 log.4 log.5", counts[i]);
        CHECK_EQ_INT(o.rc, PD_EINVAL);
        CHECK(strstr(o.errmsg, "greater than or equal to 3") != NULL);
        CHECK_EQ_STR(o.snaps, "");
        CHECK_EQ_STR(o.logs, "");
        CHECK_EQ_INT(o.plan.retain_zxid, -1);
    }
    struct outcome o = decide2("snapshot.1 snapshot.2 snapshot.3 snapshot.4 snapshot.5",
                               "log.1 log.2 log.3 log.4 log.5", 3);
    CHECK_EQ_INT(o.rc, 0);
    CHECK_EQ_STR(o.snaps, "snapshot.1 snapshot.2");
    CHECK_EQ_STR(o.logs, "log.1 log.2");
}

/* Two distinct directories holding each other's files: refused (FileTxnSnapLog's check). */
static void test_swapped_dirs_refused(void)
{
    struct outcome o =
        decide2("snapshot.1 snapshot.2 snapshot.3 snapshot.4", "log.1 log.2 snapshot.5", 3);
    CHECK_EQ_INT(o.rc, PD_ECONFIG);
    CHECK(strstr(o.errmsg, "Log directory has snapshot files") != NULL);
    CHECK_EQ_STR(o.snaps, "");
    CHECK_EQ_STR(o.logs, "");

    o = decide2("snapshot.1 snapshot.2 snapshot.3 snapshot.4 log.1", "log.2", 3);
    CHECK_EQ_INT(o.rc, PD_ECONFIG);
    CHECK(strstr(o.errmsg, "Snapshot directory has log files") != NULL);

    /* By prefix alone, as ZooKeeper: junk named like the other kind refuses too. */
    o = decide2("snapshot.1 snapshot.2 snapshot.3 snapshot.4", "log.1 snapshot.junk", 3);
    CHECK_EQ_INT(o.rc, PD_ECONFIG);
    o = decide2("snapshot.1 log.old", "log.1", 3);
    CHECK_EQ_INT(o.rc, PD_ECONFIG);

    /* Swapped arguments: the snapshot listing is the log directory's. */
    o = decide2("log.1 log.2", "snapshot.1 snapshot.2 snapshot.3 snapshot.4", 3);
    CHECK_EQ_INT(o.rc, PD_ECONFIG);
}

/* ---- random layouts against invariants -------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_random_layouts(void)
{
    for (int round = 0; round < 3000; round++) {
        static struct spec_list s, l;
        s.n = l.n = 0;
        int n_snaps = (int)(rnd() % 12), n_logs = (int)(rnd() % 12);
        int64_t span = 1 + (int64_t)(rnd() % 200);
        for (int i = 0; i < n_snaps; i++) {
            snprintf(s.names[s.n], 64, "snapshot.%llx", (unsigned long long)(rnd() % span));
            s.e[s.n] = (struct purge_entry){.name = s.names[s.n], .is_valid = rnd() % 5 != 0};
            s.n++;
        }
        for (int i = 0; i < n_logs; i++) {
            snprintf(l.names[l.n], 64, "log.%llx", (unsigned long long)(rnd() % span));
            l.e[l.n] = (struct purge_entry){.name = l.names[l.n]};
            l.n++;
        }
        if (rnd() % 3 == 0) {
            snprintf(s.names[s.n], 64, "tmp.snapshot.%llx", (unsigned long long)(rnd() % span));
            s.e[s.n] = (struct purge_entry){.name = s.names[s.n], .is_valid = true};
            s.n++;
        }
        int count = 3 + (int)(rnd() % 4);
        struct purge_plan plan;
        int rc = purge_decide(s.e, s.n, l.e, l.n, false, count, &plan, NULL, 0);
        CHECK_EQ_INT(rc, 0);

        /* Reference: the valid zxids sorted descending. */
        int64_t valid[MAX_ENTRIES];
        int n_valid = 0;
        for (size_t i = 0; i < s.n; i++) {
            int64_t z;
            if (purge_classify(s.e[i].name, &z) == PURGE_SNAPSHOT && s.e[i].is_valid)
                valid[n_valid++] = z;
        }
        for (int i = 0; i < n_valid; i++)
            for (int j = i + 1; j < n_valid; j++)
                if (valid[j] > valid[i]) {
                    int64_t t = valid[i];
                    valid[i] = valid[j];
                    valid[j] = t;
                }
        int kept = n_valid < count ? n_valid : count;
        CHECK_EQ_INT(plan.n_valid, kept);
        int64_t S = kept ? valid[kept - 1] : -1;
        CHECK_EQ_INT(plan.retain_zxid, S);

        int64_t newest_log = -1, cover_s = -1;
        for (size_t i = 0; i < l.n; i++) {
            int64_t z;
            purge_classify(l.e[i].name, &z);
            if (z > newest_log)
                newest_log = z;
            if (S >= 0 && z <= S && z > cover_s)
                cover_s = z;
        }
        if (S >= 0)
            CHECK_EQ_INT(plan.retain_log_zxid, cover_s);
        for (size_t i = 0; i < s.n; i++) {
            int64_t z;
            enum purge_kind k = purge_classify(s.e[i].name, &z);
            /* a snapshot goes iff it is below S; nothing else ever goes */
            CHECK_EQ_INT(s.e[i].is_purged, k == PURGE_SNAPSHOT && S >= 0 && z < S);
        }
        for (size_t i = 0; i < l.n; i++) {
            int64_t z;
            purge_classify(l.e[i].name, &z);
            if (z == newest_log)
                CHECK(!l.e[i].is_purged); /* the log being written survives */
            if (S < 0)
                CHECK(!l.e[i].is_purged);
        }
        /* Every kept snapshot can be recovered: the newest log at or before it, and every
         * log after that, are all kept. */
        for (size_t i = 0; i < s.n; i++) {
            int64_t z;
            if (purge_classify(s.e[i].name, &z) != PURGE_SNAPSHOT || s.e[i].is_purged)
                continue;
            int64_t cover = -1;
            for (size_t j = 0; j < l.n; j++) {
                int64_t lz;
                purge_classify(l.e[j].name, &lz);
                if (lz <= z && lz > cover)
                    cover = lz;
            }
            for (size_t j = 0; j < l.n; j++) {
                int64_t lz;
                purge_classify(l.e[j].name, &lz);
                if (lz >= cover)
                    CHECK(!l.e[j].is_purged);
            }
        }
        /* And the logs deleted are exactly those below L. */
        for (size_t j = 0; j < l.n; j++) {
            int64_t lz;
            purge_classify(l.e[j].name, &lz);
            CHECK_EQ_INT(l.e[j].is_purged,
                         S >= 0 && plan.retain_log_zxid >= 0 && lz < plan.retain_log_zxid);
        }
    }
}

/* ---- the driver on the fault backend ---------------------------------------------------- */

#define DATA "/data/version-2"
#define LOGS "/logs/version-2"

static void put(struct file_fs *fs, const char *dir, const char *name, const void *data, size_t len)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    struct file *f;
    CHECK_EQ_INT(fs->open(fs, path, FILE_CREATE | FILE_TRUNC, &f), 0);
    CHECK_EQ_INT(fs->pwrite(fs, f, data, len, 0), 0);
    CHECK_EQ_INT(fs->sync(fs, f), 0);
    fs->close(fs, f);
}

/* A file that passes the snapshot check: some bytes, then int 1 and '/'. */
static void put_snapshot(struct file_fs *fs, const char *dir, const char *name)
{
    uint8_t b[64] = {'Z', 'K', 'S', 'N'};
    memcpy(b + sizeof(b) - 5, "\0\0\0\1/", 5);
    put(fs, dir, name, b, sizeof(b));
}

static void put_log(struct file_fs *fs, const char *dir, const char *name)
{
    put(fs, dir, name, "ZKLG\0\0\0\2", 8);
}

static int collect_name(const char *name, void *arg)
{
    char *buf = arg;
    /* insertion in sorted order keeps the result comparable */
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s", buf);
    char *out = buf;
    out[0] = '\0';
    bool placed = false;
    char *save = NULL;
    for (char *tok = strtok_r(tmp, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (!placed && strcmp(name, tok) < 0) {
            strcat(out, out[0] ? " " : "");
            strcat(out, name);
            placed = true;
        }
        strcat(out, out[0] ? " " : "");
        strcat(out, tok);
    }
    if (!placed) {
        strcat(out, out[0] ? " " : "");
        strcat(out, name);
    }
    return 0;
}

/* The names in dir, sorted, space-separated. */
static const char *ls(struct file_fs *fs, const char *dir)
{
    static char buf[4096];
    buf[0] = '\0';
    fs->list_dir(fs, dir, collect_name, buf);
    return buf;
}

static struct file_fault *layout(bool two_dirs)
{
    struct file_fault *ff = file_fault_new(7);
    struct file_fs *fs = file_fault_fs(ff);
    const char *logs = two_dirs ? LOGS : DATA;
    CHECK_EQ_INT(fs->mkdir(fs, "/data"), 0);
    CHECK_EQ_INT(fs->mkdir(fs, DATA), 0);
    if (two_dirs) {
        CHECK_EQ_INT(fs->mkdir(fs, "/logs"), 0);
        CHECK_EQ_INT(fs->mkdir(fs, LOGS), 0);
    }
    put_snapshot(fs, DATA, "snapshot.0");
    put_snapshot(fs, DATA, "snapshot.20");
    put_snapshot(fs, DATA, "snapshot.40");
    put_snapshot(fs, DATA, "snapshot.60");
    put_snapshot(fs, DATA, "snapshot.80");
    put(fs, DATA, "snapshot.90", "torn", 4);                          /* too short: invalid */
    put(fs, DATA, "snapshot.10", "0123456789abcdef", 16);             /* no seal: invalid */
    put(fs, DATA, "tmp.snapshot.a0", "being written by a child", 24); /* never touched */
    put(fs, DATA, "snapshot.5.tmp", "ZooKeeper's temporary", 21);
    put(fs, DATA, "myid", "1\n", 2);
    put_log(fs, logs, "log.1");
    put_log(fs, logs, "log.21");
    put_log(fs, logs, "log.41");
    put_log(fs, logs, "log.61");
    put_log(fs, logs, "log.81");
    put(fs, logs, "log.junk", "x", 1);
    /* Every name durable, the directories' own included. */
    CHECK_EQ_INT(fs->sync_dir(fs, "/"), 0);
    CHECK_EQ_INT(fs->sync_dir(fs, "/data"), 0);
    CHECK_EQ_INT(fs->sync_dir(fs, DATA), 0);
    if (two_dirs) {
        CHECK_EQ_INT(fs->sync_dir(fs, "/logs"), 0);
        CHECK_EQ_INT(fs->sync_dir(fs, LOGS), 0);
    }
    return ff;
}

struct removals {
    char paths[32][128];
    int n;
};

static void record_removal(void *arg, const char *path)
{
    struct removals *r = arg;
    if (r->n < 32)
        snprintf(r->paths[r->n++], 128, "%s", path);
}

static void test_run_one_dir(void)
{
    struct file_fault *ff = layout(false);
    struct file_fs *fs = file_fault_fs(ff);
    struct purge_result res;
    struct removals rm = {0};
    char err[256];
    file_fault_reset_counts(ff);
    CHECK_EQ_INT(purge_run(fs, DATA, DATA, 3, record_removal, &rm, &res, err, sizeof(err)), 0);
    /* Valid: 80 60 40 (20 0); 90 and 10 are invalid: 90 kept (above S), 10 goes. */
    CHECK_EQ_INT(res.plan.retain_zxid, 0x40);
    CHECK_EQ_INT(res.plan.retain_log_zxid, 0x21);
    CHECK_EQ_INT(res.n_snaps_deleted, 3);
    CHECK_EQ_INT(res.n_logs_deleted, 1);
    CHECK_EQ_STR(ls(fs, DATA), "log.21 log.41 log.61 log.81 log.junk myid snapshot.40 "
                               "snapshot.5.tmp snapshot.60 snapshot.80 snapshot.90 "
                               "tmp.snapshot.a0");
    /* Snapshots first, oldest first, then logs. */
    CHECK_EQ_INT(rm.n, 4);
    CHECK_EQ_STR(rm.paths[0], DATA "/snapshot.0");
    CHECK_EQ_STR(rm.paths[1], DATA "/snapshot.10");
    CHECK_EQ_STR(rm.paths[2], DATA "/snapshot.20");
    CHECK_EQ_STR(rm.paths[3], DATA "/log.1");
    CHECK_EQ_INT(file_fault_calls(ff, FF_UNLINK), 4);
    CHECK_EQ_INT(file_fault_calls(ff, FF_SYNC_DIR), 2);
    CHECK_EQ_INT(file_fault_calls(ff, FF_WRITE), 0);

    /* Durable: a power failure right after keeps the deletions. */
    CHECK_EQ_INT(file_fault_crash(ff, 0), 0);
    CHECK_EQ_STR(ls(fs, DATA), "log.21 log.41 log.61 log.81 log.junk myid snapshot.40 "
                               "snapshot.5.tmp snapshot.60 snapshot.80 snapshot.90 "
                               "tmp.snapshot.a0");

    /* Again: nothing more to do, nothing touched. */
    file_fault_reset_counts(ff);
    CHECK_EQ_INT(purge_run(fs, DATA, DATA, 3, NULL, NULL, &res, err, sizeof(err)), 0);
    CHECK_EQ_INT(res.n_snaps_deleted + res.n_logs_deleted, 0);
    CHECK_EQ_INT(file_fault_calls(ff, FF_UNLINK), 0);
    CHECK_EQ_INT(file_fault_calls(ff, FF_SYNC_DIR), 0);
    file_fault_free(ff);
}

static void test_run_two_dirs(void)
{
    struct file_fault *ff = layout(true);
    struct file_fs *fs = file_fault_fs(ff);
    struct purge_result res;
    char err[256];
    CHECK_EQ_INT(purge_run(fs, DATA, LOGS, 4, NULL, NULL, &res, err, sizeof(err)), 0);
    CHECK_EQ_INT(res.plan.retain_zxid, 0x20);
    CHECK_EQ_INT(res.plan.retain_log_zxid, 0x1);
    CHECK_EQ_STR(ls(fs, DATA), "myid snapshot.20 snapshot.40 snapshot.5.tmp snapshot.60 "
                               "snapshot.80 snapshot.90 tmp.snapshot.a0");
    CHECK_EQ_STR(ls(fs, LOGS), "log.1 log.21 log.41 log.61 log.81 log.junk");

    /* Swapped: refused, nothing deleted. */
    CHECK_EQ_INT(purge_run(fs, LOGS, DATA, 3, NULL, NULL, &res, err, sizeof(err)), PD_ECONFIG);
    CHECK(strstr(err, "has") != NULL);
    CHECK_EQ_STR(ls(fs, LOGS), "log.1 log.21 log.41 log.61 log.81 log.junk");
    file_fault_free(ff);
}

static void test_run_missing_dirs(void)
{
    struct file_fault *ff = file_fault_new(1);
    struct file_fs *fs = file_fault_fs(ff);
    struct purge_result res;
    char err[256];
    CHECK_EQ_INT(purge_run(fs, DATA, LOGS, 3, NULL, NULL, &res, err, sizeof(err)), 0);
    CHECK_EQ_INT(res.plan.retain_zxid, -1);
    CHECK_EQ_INT(purge_run(fs, DATA, DATA, 3, NULL, NULL, &res, err, sizeof(err)), 0);
    /* Present but empty. */
    CHECK_EQ_INT(fs->mkdir(fs, "/data"), 0);
    CHECK_EQ_INT(fs->mkdir(fs, DATA), 0);
    CHECK_EQ_INT(fs->mkdir(fs, "/logs"), 0);
    CHECK_EQ_INT(fs->mkdir(fs, LOGS), 0);
    CHECK_EQ_INT(purge_run(fs, DATA, DATA, 3, NULL, NULL, &res, err, sizeof(err)), 0);
    CHECK_EQ_INT(purge_run(fs, DATA, LOGS, 3, NULL, NULL, &res, err, sizeof(err)), 0);
    CHECK_EQ_INT(res.plan.retain_zxid, -1);
    file_fault_free(ff);
}

static void test_run_count_refused(void)
{
    struct file_fault *ff = layout(false);
    struct file_fs *fs = file_fault_fs(ff);
    struct purge_result res;
    char err[256];
    file_fault_reset_counts(ff);
    CHECK_EQ_INT(purge_run(fs, DATA, DATA, 2, NULL, NULL, &res, err, sizeof(err)), PD_EINVAL);
    CHECK(strstr(err, "greater than or equal to 3") != NULL);
    CHECK_EQ_INT(file_fault_calls(ff, FF_LIST), 0);
    CHECK_EQ_INT(file_fault_calls(ff, FF_UNLINK), 0);
    file_fault_free(ff);
}

static void test_run_failures(void)
{
    char err[256];
    struct purge_result res;

    /* The listing fails. */
    struct file_fault *ff = layout(false);
    struct file_fs *fs = file_fault_fs(ff);
    file_fault_fail(ff, FF_LIST, 1, PD_EIO, 1);
    CHECK_EQ_INT(purge_run(fs, DATA, DATA, 3, NULL, NULL, &res, err, sizeof(err)), PD_EIO);
    CHECK(strstr(err, "cannot list " DATA) != NULL);
    CHECK_EQ_INT(res.n_snaps_deleted + res.n_logs_deleted, 0);
    file_fault_free(ff);

    /* A snapshot that cannot be read is not valid (ZooKeeper logs it and goes on): with
     * snapshot.60 unreadable, S moves down to 20. */
    ff = layout(false);
    fs = file_fault_fs(ff);
    file_fault_fail(ff, FF_READ, 5, PD_EIO, 1); /* the 5th snapshot read: snapshot.60 */
    CHECK_EQ_INT(purge_run(fs, DATA, DATA, 3, NULL, NULL, &res, err, sizeof(err)), 0);
    CHECK_EQ_INT(res.plan.n_valid, 3);
    CHECK(res.plan.retain_zxid == 0x20);
    file_fault_free(ff);

    /* The second snapshot unlink fails: the first stays deleted (and synced), no log goes. */
    ff = layout(false);
    fs = file_fault_fs(ff);
    file_fault_reset_counts(ff);
    file_fault_fail(ff, FF_UNLINK, 2, PD_EIO, 1);
    CHECK_EQ_INT(purge_run(fs, DATA, DATA, 3, NULL, NULL, &res, err, sizeof(err)), PD_EIO);
    CHECK(strstr(err, "cannot remove " DATA "/snapshot.10") != NULL);
    CHECK_EQ_INT(res.n_snaps_deleted, 1);
    CHECK_EQ_INT(res.n_logs_deleted, 0);
    CHECK_EQ_INT(file_fault_calls(ff, FF_SYNC_DIR), 1);
    file_fault_crash(ff, 0);
    CHECK_EQ_STR(ls(fs, DATA), "log.1 log.21 log.41 log.61 log.81 log.junk myid snapshot.10 "
                               "snapshot.20 snapshot.40 snapshot.5.tmp snapshot.60 snapshot.80 "
                               "snapshot.90 tmp.snapshot.a0");
    /* The next purge finishes the job. */
    file_fault_clear(ff);
    CHECK_EQ_INT(purge_run(fs, DATA, DATA, 3, NULL, NULL, &res, err, sizeof(err)), 0);
    CHECK_EQ_INT(res.n_snaps_deleted, 2);
    CHECK_EQ_INT(res.n_logs_deleted, 1);
    file_fault_free(ff);

    /* The directory fsync fails: reported; logs are not touched after it. */
    ff = layout(false);
    fs = file_fault_fs(ff);
    file_fault_fail(ff, FF_SYNC_DIR, 1, PD_EIO, 1);
    CHECK_EQ_INT(purge_run(fs, DATA, DATA, 3, NULL, NULL, &res, err, sizeof(err)), PD_EIO);
    CHECK(strstr(err, "cannot fsync directory " DATA) != NULL);
    CHECK_EQ_INT(res.n_snaps_deleted, 3);
    CHECK_EQ_INT(res.n_logs_deleted, 0);
    file_fault_free(ff);

    /* A file already gone (another purge got there first) counts as deleted. */
    ff = layout(false);
    fs = file_fault_fs(ff);
    file_fault_fail(ff, FF_UNLINK, 1, PD_ENOENT, 1);
    CHECK_EQ_INT(purge_run(fs, DATA, DATA, 3, NULL, NULL, &res, err, sizeof(err)), 0);
    CHECK_EQ_INT(res.n_snaps_deleted, 3);
    file_fault_free(ff);
}

/*
 * A power failure before each unlink (and right after the last): whatever
 * survives, every remaining snapshot still has every log file it needs.
 */
struct crash_at {
    struct file_fault *ff;
    int countdown;
};

static void crash_before(void *arg, const char *path)
{
    (void)path;
    struct crash_at *c = arg;
    if (c->countdown-- != 0)
        return;
    file_fault_crash(c->ff, 0);
    /* The machine is down: nothing the purge would still do happens. */
    file_fault_fail(c->ff, FF_UNLINK, 1, PD_EIO, 1000);
    file_fault_fail(c->ff, FF_SYNC_DIR, 1, PD_EIO, 1000);
}

struct names {
    char v[64][64];
    int n;
};

static int add_names(const char *name, void *arg)
{
    struct names *n = arg;
    if (n->n < 64)
        snprintf(n->v[n->n++], 64, "%s", name);
    return 0;
}

static void test_run_crash_keeps_snapshots_recoverable(void)
{
    for (int two = 0; two < 2; two++) {
        for (int k = 0; k < 6; k++) {
            for (uint64_t seed = 1; seed <= 20; seed++) {
                struct file_fault *ff = layout(two);
                struct file_fs *fs = file_fault_fs(ff);
                file_fault_seed(ff, seed);
                struct crash_at c = {ff, k};
                struct purge_result res;
                char err[256];
                purge_run(fs, DATA, two ? LOGS : DATA, 3, crash_before, &c, &res, err, sizeof(err));
                file_fault_crash(ff, 0);
                file_fault_clear(ff);
                struct names snaps = {0}, logs = {0};
                fs->list_dir(fs, DATA, add_names, &snaps);
                fs->list_dir(fs, two ? LOGS : DATA, add_names, &logs);
                /* The original logs: 1 21 41 61 81. */
                static const int64_t all_logs[] = {0x1, 0x21, 0x41, 0x61, 0x81};
                for (int i = 0; i < snaps.n; i++) {
                    int64_t z;
                    if (purge_classify(snaps.v[i], &z) != PURGE_SNAPSHOT)
                        continue;
                    for (int j = 0; j < 5; j++) {
                        bool needed = all_logs[j] > z || j == 4 || all_logs[j + 1] > z;
                        if (!needed)
                            continue;
                        bool present = false;
                        for (int m = 0; m < logs.n; m++) {
                            int64_t lz;
                            if (purge_classify(logs.v[m], &lz) == PURGE_LOG && lz == all_logs[j])
                                present = true;
                        }
                        CHECK(present);
                    }
                }
                file_fault_free(ff);
            }
        }
    }
}

static void test_run_oom(void)
{
    struct file_fault *ff = layout(false);
    struct file_fs *fs = file_fault_fs(ff);
    char err[256];
    for (long n = 0;; n++) {
        struct purge_result res;
        pd_alloc_fail_after(n, 1);
        int rc = purge_run(fs, DATA, DATA, 3, NULL, NULL, &res, err, sizeof(err));
        long made = pd_alloc_fail_after(-1, 0);
        CHECK(rc == 0 || rc == PD_ENOMEM);
        if (rc == PD_ENOMEM)
            CHECK_EQ_INT(res.n_snaps_deleted + res.n_logs_deleted, 0);
        if (rc == 0) {
            CHECK_EQ_INT(res.n_snaps_deleted, 3);
            CHECK_EQ_INT(res.n_logs_deleted, 1);
            CHECK(made <= n);
            break;
        }
    }
    file_fault_free(ff);
}

int main(void)
{
    RUN(test_classify);
    RUN(test_basic);
    RUN(test_log_starting_at_snapshot);
    RUN(test_log_spanning_snapshots);
    RUN(test_gaps);
    RUN(test_fewer_snapshots);
    RUN(test_invalid_snapshots);
    RUN(test_junk_left_alone);
    RUN(test_same_dir);
    RUN(test_count_refused);
    RUN(test_swapped_dirs_refused);
    RUN(test_random_layouts);
    RUN(test_run_one_dir);
    RUN(test_run_two_dirs);
    RUN(test_run_missing_dirs);
    RUN(test_run_count_refused);
    RUN(test_run_failures);
    RUN(test_run_crash_keeps_snapshots_recoverable);
    RUN(test_run_oom);
    return t_done();
}
