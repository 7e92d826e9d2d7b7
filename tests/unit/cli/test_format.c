/* zkCli's output formats (src/cli/format.c): dates as Java's Date.toString(),
 * StatPrinter, getAcl lines, AclParser, PathUtils' and KeeperException's
 * messages, event names, config -c. Expected strings are zkCli 3.8.0's. */
#include "cli/cli_int.h"
#include "common/alloc.h"
#include "t.h"

#include <stdlib.h>
#include <time.h>

/* Runs fn into a memory stream and returns what it printed (static buffer). */
static char printed[2048];
static FILE *mem_open(void)
{
    return fmemopen(printed, sizeof(printed), "w");
}
static const char *mem_close(FILE *f)
{
    fputc('\0', f);
    fclose(f);
    return printed;
}

static void test_date(void)
{
    char buf[64];
    setenv("TZ", "UTC", 1);
    tzset();
    cli_format_date(0, buf, sizeof(buf));
    CHECK_EQ_STR(buf, "Thu Jan 01 00:00:00 UTC 1970");
    cli_format_date(1795399200000LL + 999, buf, sizeof(buf)); /* 2026-11-23 02:00:00.999 */
    CHECK_EQ_STR(buf, "Mon Nov 23 02:00:00 UTC 2026");
    /* the local zone, by its abbreviation (a POSIX TZ needs no tz database) */
    setenv("TZ", "XYZ-3", 1);
    tzset();
    cli_format_date(0, buf, sizeof(buf));
    CHECK_EQ_STR(buf, "Thu Jan 01 03:00:00 XYZ 1970");
    setenv("TZ", "UTC", 1);
    tzset();
}

static void test_stat(void)
{
    struct pdk_stat st = {
        .czxid = 0x1a,
        .mzxid = 0x1b,
        .ctime = 0,
        .mtime = 1000,
        .version = 3,
        .cversion = -1,
        .aversion = 2,
        .ephemeral_owner = (int64_t)0x8000000000000000ULL,
        .data_length = 5,
        .num_children = 1,
        .pzxid = 0x100000001LL,
    };
    FILE *f = mem_open();
    cli_print_stat(f, &st);
    CHECK_EQ_STR(mem_close(f), "cZxid = 0x1a\n"
                               "ctime = Thu Jan 01 00:00:00 UTC 1970\n"
                               "mZxid = 0x1b\n"
                               "mtime = Thu Jan 01 00:00:01 UTC 1970\n"
                               "pZxid = 0x100000001\n"
                               "cversion = -1\n"
                               "dataVersion = 3\n"
                               "aclVersion = 2\n"
                               "ephemeralOwner = 0x8000000000000000\n"
                               "dataLength = 5\n"
                               "numChildren = 1\n");
}

static void test_acl_print(void)
{
    char perms[8];
    CHECK_EQ_STR(cli_perm_string(PDK_PERM_ALL, perms), "cdrwa");
    CHECK_EQ_STR(cli_perm_string(PDK_PERM_READ | PDK_PERM_ADMIN, perms), "ra");
    CHECK_EQ_STR(cli_perm_string(0, perms), "");
    FILE *f = mem_open();
    struct pdk_acl a = {PDK_PERM_READ, "world", "anyone"};
    cli_print_acl(f, &a);
    struct pdk_acl b = {PDK_PERM_ALL, "digest", "u,x:50%}"};
    cli_print_acl(f, &b);
    CHECK_EQ_STR(mem_close(f), "'world,'anyone\n: r\n'digest,'u%2Cx:50%25%7D\n: cdrwa\n");
    f = mem_open();
    char *items[] = {"a", "b"};
    cli_print_list(f, items, 2);
    cli_print_list(f, items, 0);
    CHECK_EQ_STR(mem_close(f), "[a, b]\n[]\n");
}

static void test_acl_parse(void)
{
    struct cli_acl acl;
    FILE *err = mem_open();
    CHECK_EQ_INT(cli_acl_parse("world:anyone:cdrwa,digest:u:pw=:rx,ip:1.2.3.4", err, &acl), 0);
    CHECK_EQ_STR(mem_close(err), "Unknown perm type: x\n"
                                 "ip:1.2.3.4 does not have the form scheme:id:perm\n");
    CHECK_EQ_INT(acl.list.count, 2);
    CHECK_EQ_STR(acl.list.items[0].scheme, "world");
    CHECK_EQ_STR(acl.list.items[0].id, "anyone");
    CHECK_EQ_INT(acl.list.items[0].perms, PDK_PERM_ALL);
    CHECK_EQ_STR(acl.list.items[1].scheme, "digest");
    CHECK_EQ_STR(acl.list.items[1].id, "u:pw=");
    CHECK_EQ_INT(acl.list.items[1].perms, PDK_PERM_READ);
    cli_acl_free(&acl);

    /* String.split: trailing empty pieces vanish, "" is one empty piece */
    err = mem_open();
    CHECK_EQ_INT(cli_acl_parse(",,", err, &acl), 0);
    CHECK_EQ_STR(mem_close(err), "");
    CHECK_EQ_INT(acl.list.count, 0);
    cli_acl_free(&acl);
    err = mem_open();
    CHECK_EQ_INT(cli_acl_parse("", err, &acl), 0);
    CHECK_EQ_STR(mem_close(err), " does not have the form scheme:id:perm\n");
    cli_acl_free(&acl);
    err = mem_open();
    CHECK_EQ_INT(cli_acl_parse("world:anyone:", err, &acl), 0);
    CHECK_EQ_STR(mem_close(err), "");
    CHECK_EQ_INT(acl.list.count, 1);
    CHECK_EQ_INT(acl.list.items[0].perms, 0);
    cli_acl_free(&acl);
}

static void check_path(const char *path, bool is_seq, const char *want)
{
    char buf[256];
    const char *got = cli_path_error(path, is_seq, buf, sizeof(buf));
    if (want)
        CHECK_EQ_STR(got, want);
    else
        CHECK(got == NULL);
}

static void test_paths(void)
{
    check_path("/", false, NULL);
    check_path("/a/b", false, NULL);
    check_path("/a/", true, NULL);
    check_path("/a/.b", false, NULL);
    check_path("", false, "Path length must be > 0");
    check_path("a", false, "Path must start with / character");
    check_path("/a/", false, "Path must not end with / character");
    check_path("//", false, "Path must not end with / character");
    check_path("/a//b", false,
               "Invalid path string \"/a//b\" caused by empty node name specified @3");
    check_path("/a/../b", false,
               "Invalid path string \"/a/../b\" caused by relative paths not allowed @4");
    check_path("/a/./b", false,
               "Invalid path string \"/a/./b\" caused by relative paths not allowed @3");
    check_path("/a/.", true, NULL); /* "/a/.1" */
    check_path("/a\tb", false, "Invalid path string \"/a\tb\" caused by invalid character @2");
}

static void test_messages(void)
{
    char buf[256];
    cli_error_message(PDK_ZNONODE, "/a", buf, sizeof(buf));
    CHECK_EQ_STR(buf, "Node does not exist: /a");
    cli_error_message(PDK_ZNODEEXISTS, "/a", buf, sizeof(buf));
    CHECK_EQ_STR(buf, "Node already exists: /a");
    cli_error_message(PDK_ZNOTEMPTY, "/a", buf, sizeof(buf));
    CHECK_EQ_STR(buf, "Node not empty: /a");
    cli_error_message(PDK_ZBADVERSION, "/a", buf, sizeof(buf));
    CHECK_EQ_STR(buf, "version No is not valid : /a");
    cli_error_message(PDK_ZNOAUTH, "/a", buf, sizeof(buf));
    CHECK_EQ_STR(buf, "Insufficient permission : /a");
    cli_error_message(PDK_ZINVALIDACL, NULL, buf, sizeof(buf));
    CHECK_EQ_STR(buf, "Acl is not valid : null");
    cli_error_message(PDK_ZNOCHILDRENFOREPHEMERALS, "/e/c", buf, sizeof(buf));
    CHECK_EQ_STR(buf, "Ephemerals cannot have children: /e/c");
    cli_error_message(PDK_ZNOWATCHER, "/w", buf, sizeof(buf));
    CHECK_EQ_STR(buf, "KeeperErrorCode = No such watcher for /w");
    cli_error_message(PDK_ZCONNECTIONLOSS, NULL, buf, sizeof(buf));
    CHECK_EQ_STR(buf, "KeeperErrorCode = ConnectionLoss");
    cli_error_message(PDK_ZRECONFIGDISABLED, "", buf, sizeof(buf));
    CHECK_EQ_STR(buf, "KeeperErrorCode = Reconfig is disabled");
    CHECK_EQ_STR(cli_state_name(PDK_STATE_CONNECTED), "SyncConnected");
    CHECK_EQ_STR(cli_state_name(PDK_STATE_EXPIRED), "Expired");
    CHECK_EQ_STR(cli_event_name(PDK_EVENT_SESSION), "None");
    CHECK_EQ_STR(cli_event_name(PDK_EVENT_PERSISTENT_WATCH_REMOVED), "PersistentWatchRemoved");
    CHECK_EQ_STR(cli_zk_state_name(PDK_STATE_CONNECTED), "CONNECTED");
    CHECK_EQ_STR(cli_zk_state_name(PDK_STATE_CONNECTING), "CONNECTING");
    CHECK_EQ_STR(cli_zk_state_name(PDK_STATE_CLOSED), "CLOSED");
}

static void test_client_config(void)
{
    char buf[256];
    cli_client_config("", 0, buf, sizeof(buf));
    CHECK_EQ_STR(buf, " ");
    const char *cfg = "server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181\n"
                      "server.2=127.0.0.1:2889:3889:participant;2182\n"
                      "server.3=127.0.0.1:2890:3890:observer\n"
                      "version=100000000\n";
    cli_client_config(cfg, (int32_t)strlen(cfg), buf, sizeof(buf));
    CHECK_EQ_STR(buf, "100000000 127.0.0.1:2181,0.0.0.0:2182,");
}

/* Parses data and formats it again (static buffer), or returns the error message. */
static const char *stats_round_trip(const char *data)
{
    static char out[512];
    struct cli_stats s;
    if (!cli_stats_parse(data, data ? (int32_t)strlen(data) : -1, &s, out, sizeof(out)))
        return out;
    cli_stats_format(&s, out, sizeof(out));
    return out;
}

static void test_stats(void)
{
    /* StatsTrack.toString: count and bytes first (-1 when absent), the rest sorted after "=" */
    CHECK_EQ_STR(stats_round_trip("count=0,bytes=0"), "count=0,bytes=0");
    CHECK_EQ_STR(stats_round_trip(""), "count=-1,bytes=-1");
    CHECK_EQ_STR(stats_round_trip(NULL), "count=-1,bytes=-1");
    CHECK_EQ_STR(stats_round_trip("bytes=5"), "count=-1,bytes=5");
    CHECK_EQ_STR(stats_round_trip("count=10,bytes=-1=;byteHardLimit=-1;countHardLimit=3"),
                 "count=10,bytes=-1=;byteHardLimit=-1;countHardLimit=3");
    CHECK_EQ_STR(stats_round_trip("countHardLimit=3;zeta=1;byteHardLimit=2;count=1"),
                 "count=1,bytes=-1=;byteHardLimit=2;countHardLimit=3;zeta=1");
    /* separators are runs of , and ;; an empty value is -1; after a second '=' nothing counts;
     * a key again replaces its value */
    CHECK_EQ_STR(stats_round_trip("count==4;;bytes=2=9,,"), "count=-1,bytes=2");
    CHECK_EQ_STR(stats_round_trip("count=1,count=+2"), "count=2,bytes=-1");
    CHECK_EQ_STR(stats_round_trip(",;,"), "count=-1,bytes=-1");
    /* what Java cannot read */
    CHECK_EQ_STR(stats_round_trip("count=x,bytes=1"), "For input string: \"x\"");
    CHECK_EQ_STR(stats_round_trip("count= 1"), "For input string: \" 1\"");
    CHECK_EQ_STR(stats_round_trip("count=99999999999999999999"),
                 "For input string: \"99999999999999999999\"");
    CHECK_EQ_STR(stats_round_trip("count=,bytes=1"), "Invalid quota data: no value in \"count=\"");
    CHECK_EQ_STR(stats_round_trip("count==,bytes=1"),
                 "Invalid quota data: no value in \"count==\"");
    CHECK_EQ_STR(stats_round_trip("count"), "Invalid quota data: no value in \"count\"");
    CHECK_EQ_STR(stats_round_trip(",count=1"), "Invalid quota data: no value in \"\"");
    CHECK_EQ_STR(stats_round_trip("a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9"),
                 "Invalid quota data: too many or too long keys");

    /* get, set; a short buffer is cut, still terminated */
    struct cli_stats s = {0};
    CHECK_EQ_INT(cli_stats_get(&s, "count"), -1);
    CHECK(cli_stats_set(&s, "countHardLimit", 7));
    CHECK(cli_stats_set(&s, "count", 2));
    CHECK(cli_stats_set(&s, "countHardLimit", 8));
    CHECK_EQ_INT(s.n, 2);
    CHECK_EQ_INT(cli_stats_get(&s, "countHardLimit"), 8);
    char buf[12];
    cli_stats_format(&s, buf, sizeof(buf));
    CHECK_EQ_STR(buf, "count=2,byt");
}

int main(void)
{
    RUN(test_date);
    RUN(test_stat);
    RUN(test_acl_print);
    RUN(test_acl_parse);
    RUN(test_paths);
    RUN(test_messages);
    RUN(test_client_config);
    RUN(test_stats);
    return t_done();
}
