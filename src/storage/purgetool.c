/*
 * `paddock purge <dataLogDir> [<snapDir>] [-n count]`: deletes the snapshots
 * and txn logs older than the newest `count` snapshots (default 3, at least
 * 3), keeping every log those snapshots need (purge.h has the rule).
 *
 * The arguments are Apache ZooKeeper's PurgeTxnLog's, in its order, so that
 * zkCleanup.sh-style cron lines carry over: the first directory is where the
 * logs are (dataLogDir), the second, if given, where the snapshots are
 * (dataDir); with one directory (no dataLogDir) it is both. Each is the
 * configured directory, the files being in its version-2/ folder. Differences
 * from PurgeTxnLog: `-n count` may be left out (3) or come anywhere; paths
 * naming one directory in two spellings are recognised as one; "Removing
 * file:" lines print the path only; a missing version-2/ folder is not
 * created (there is nothing to purge in it).
 *
 * Safe to run against the directories of a running server, as ZooKeeper's
 * cron job is: the files a running server writes to (the newest log, a
 * snapshot being written under a temporary name) are never deleted.
 */
#include "storage/purgetool.h"

#include "common/err.h"
#include "storage/file.h"
#include "storage/purge.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: paddock purge <dataLogDir> [<snapDir>] [-n count]\n"
            "  dataLogDir  the txn log directory (dataLogDir, or dataDir when there is none)\n"
            "  snapDir     the snapshot directory (dataDir); default: dataLogDir\n"
            "  count       the number of newest snapshots to keep, with the logs they need;\n"
            "              at least %d, default %d\n",
            PURGE_MIN_RETAIN, PURGE_MIN_RETAIN);
}

/* Java's Integer.parseInt: optional sign, decimal digits, within int32. */
static bool parse_count(const char *s, int *out)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (*p == '\0')
        return false;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return false;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno != 0 || v < INT32_MIN || v > INT32_MAX)
        return false;
    *out = (int)v;
    return true;
}

/* realpath(dir) + "/version-2" into out; prints why not and returns false. */
static bool version_dir(const char *dir, char *out, size_t len)
{
    char real[PATH_MAX];
    struct stat st;
    if (stat(dir, &st) != 0 || !realpath(dir, real)) {
        fprintf(stderr, "Path '%s' does not exist.\n", dir);
        return false;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "Path '%s' is not a directory.\n", dir);
        return false;
    }
    if ((size_t)snprintf(out, len, "%s/version-2", real) >= len) {
        fprintf(stderr, "Path '%s' is too long.\n", dir);
        return false;
    }
    return true;
}

static void print_removing(void *arg, const char *path)
{
    (void)arg;
    printf("Removing file: %s\n", path);
    fflush(stdout);
}

int purgetool_main(int argc, char **argv)
{
    const char *dirs[2] = {NULL, NULL};
    int n_dirs = 0;
    int count = PURGE_MIN_RETAIN;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "-n") == 0) {
            if (i + 1 >= argc) {
                usage(stderr);
                return 2;
            }
            if (!parse_count(argv[++i], &count)) {
                fprintf(stderr, "'%s' can not be parsed to integer.\n", argv[i]);
                usage(stderr);
                return 2;
            }
            continue;
        }
        if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "paddock purge: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
        if (n_dirs == 2) {
            usage(stderr);
            return 2;
        }
        dirs[n_dirs++] = a;
    }
    if (n_dirs == 0) {
        usage(stderr);
        return 2;
    }
    if (count < PURGE_MIN_RETAIN) {
        fprintf(stderr, "count should be greater than or equal to %d\n", PURGE_MIN_RETAIN);
        usage(stderr);
        return 2;
    }
    char log_dir[PATH_MAX + 16], snap_dir[PATH_MAX + 16];
    if (!version_dir(dirs[0], log_dir, sizeof(log_dir)) ||
        !version_dir(dirs[n_dirs - 1], snap_dir, sizeof(snap_dir)))
        return 1;

    struct file_fs fs;
    file_posix_init(&fs);
    struct purge_result res;
    char errmsg[1024];
    int rc = purge_run(&fs, snap_dir, log_dir, count, print_removing, NULL, &res, errmsg,
                       sizeof(errmsg));
    if (rc != 0) {
        fprintf(stderr, "paddock purge: %s\n", errmsg);
        return 1;
    }
    if (res.plan.retain_zxid < 0) {
        printf("No valid snapshot in %s: nothing purged.\n", snap_dir);
        return 0;
    }
    printf("Kept the %d newest valid snapshot%s (from snapshot.%" PRIx64 ")", res.plan.n_valid,
           res.plan.n_valid == 1 ? "" : "s", (uint64_t)res.plan.retain_zxid);
    if (res.plan.retain_log_zxid >= 0)
        printf(" and the logs from log.%" PRIx64, (uint64_t)res.plan.retain_log_zxid);
    else
        printf(" and every log");
    printf("; removed %d snapshot%s and %d log file%s.\n", res.n_snaps_deleted,
           res.n_snaps_deleted == 1 ? "" : "s", res.n_logs_deleted,
           res.n_logs_deleted == 1 ? "" : "s");
    return 0;
}
