/* The command line of paddock bench (src/bench/opts.c): defaults, every flag, --help, and
 * the rejection of bad values with a message that names the flag. */
#include "bench/bench_int.h"
#include "t.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

/* An argv ending in NULL; argv[0] is the subcommand's name. */
#define ARGV(...) ((char *[]){"bench", __VA_ARGS__, NULL})

/* What the last parse() printed to stdout and stderr. */
static char out_text[8192], err_text[8192];

/* Points fd (1 or 2) at a fresh temporary file; returns the saved fd. */
static int capture_begin(FILE *f, int fd, FILE **tmp)
{
    fflush(f);
    int saved = dup(fd);
    *tmp = tmpfile();
    if (saved < 0 || !*tmp) {
        perror("capture");
        exit(2);
    }
    dup2(fileno(*tmp), fd);
    return saved;
}

/* Restores fd and reads what went to it into text. */
static void capture_end(FILE *f, int fd, int saved, FILE *tmp, char *text, size_t cap)
{
    fflush(f);
    dup2(saved, fd);
    close(saved);
    rewind(tmp);
    size_t n = fread(text, 1, cap - 1, tmp);
    text[n] = '\0';
    fclose(tmp);
}

/* Parses argv (NULL-terminated) into *o with stdout and stderr captured. */
static int parse(char **argv, struct bench_opts *o)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    FILE *tout, *terr;
    int sout = capture_begin(stdout, STDOUT_FILENO, &tout);
    int serr = capture_begin(stderr, STDERR_FILENO, &terr);
    char *argv0 = argv[0];
    int rc = bench_opts_parse(argc, argv, o);
    capture_end(stderr, STDERR_FILENO, serr, terr, err_text, sizeof(err_text));
    capture_end(stdout, STDOUT_FILENO, sout, tout, out_text, sizeof(out_text));
    CHECK(argv[0] == argv0); /* argv[0] is lent to getopt only for its messages */
    return rc;
}

/* argv is rejected: -1, nothing on stdout, the usage on stderr after a message containing
 * want (the flag's name, the bad value...). */
static void check_rejected(char **argv, const char *want)
{
    struct bench_opts o;
    int rc = parse(argv, &o);
    CHECK_EQ_INT(rc, -1);
    CHECK_EQ_STR(out_text, "");
    CHECK(strstr(err_text, "usage: paddock bench") != NULL);
    if (!strstr(err_text, want)) {
        fprintf(stderr, "  stderr lacks \"%s\":\n%s", want, err_text);
        CHECK(strstr(err_text, want) != NULL);
    }
}

static void test_defaults(void)
{
    struct bench_opts o;
    memset(&o, 0xa5, sizeof(o)); /* whatever was there before is overwritten */
    CHECK_EQ_INT(parse(ARGV("--hosts", "127.0.0.1:2181"), &o), 0);
    CHECK_EQ_STR(out_text, "");
    CHECK_EQ_STR(err_text, "");
    CHECK_EQ_STR(o.hosts, "127.0.0.1:2181");
    CHECK_EQ_INT(o.clients, 16);
    CHECK_EQ_INT(o.depth, 1);
    CHECK_EQ_INT(o.op, BENCH_GET);
    CHECK_EQ_INT(o.read_pct, 90);
    CHECK_EQ_INT(o.size_bytes, 100);
    CHECK_EQ_INT(o.keys, 10000);
    CHECK(o.duration_s == 10);
    CHECK(o.warmup_s == 2);
    CHECK_EQ_INT(o.n_server_pids, 0);
    CHECK_EQ_INT(o.session_timeout_ms, 30000);
    CHECK_EQ_INT(o.connect_timeout_ms, 10000);
    CHECK(!o.is_setup_skipped);
}

static void test_every_flag(void)
{
    struct bench_opts o;
    char *argv[] = {"bench",
                    "--hosts",
                    "a:1,b:2/chroot",
                    "--clients",
                    "100000",
                    "--depth",
                    "7",
                    "--op",
                    "set",
                    "--read-pct",
                    "0",
                    "--size",
                    "1000000",
                    "--keys",
                    "99999999",
                    "--duration",
                    "2.5",
                    "--warmup",
                    "0.25",
                    "--server-pid",
                    "123,456,2147483647",
                    "--session-timeout",
                    "4000",
                    "--connect-timeout",
                    "1",
                    "--no-setup",
                    NULL};
    CHECK_EQ_INT(parse(argv, &o), 0);
    CHECK_EQ_STR(err_text, "");
    CHECK_EQ_STR(o.hosts, "a:1,b:2/chroot");
    CHECK_EQ_INT(o.clients, 100000);
    CHECK_EQ_INT(o.depth, 7);
    CHECK_EQ_INT(o.op, BENCH_SET);
    CHECK_EQ_INT(o.read_pct, 0);
    CHECK_EQ_INT(o.size_bytes, 1000000);
    CHECK_EQ_INT(o.keys, 99999999);
    CHECK(o.duration_s == 2.5);
    CHECK(o.warmup_s == 0.25);
    CHECK_EQ_INT(o.n_server_pids, 3);
    CHECK_EQ_INT(o.server_pids[0], 123);
    CHECK_EQ_INT(o.server_pids[1], 456);
    CHECK_EQ_INT(o.server_pids[2], INT_MAX);
    CHECK_EQ_INT(o.session_timeout_ms, 4000);
    CHECK_EQ_INT(o.connect_timeout_ms, 1);
    CHECK(o.is_setup_skipped);

    /* the other ends of the ranges; flags may come before --hosts */
    CHECK_EQ_INT(parse(ARGV("--clients", "1", "--depth", "100000", "--read-pct", "100", "--size",
                            "0", "--keys", "1", "--duration", "0.001", "--warmup", "0",
                            "--session-timeout", "2147483647", "--hosts", "h:1"),
                       &o),
                 0);
    CHECK_EQ_INT(o.clients, 1);
    CHECK_EQ_INT(o.depth, 100000);
    CHECK_EQ_INT(o.read_pct, 100);
    CHECK_EQ_INT(o.size_bytes, 0);
    CHECK_EQ_INT(o.keys, 1);
    CHECK(o.duration_s == 0.001);
    CHECK(o.warmup_s == 0);
    CHECK_EQ_INT(o.session_timeout_ms, INT_MAX);
    CHECK_EQ_STR(o.hosts, "h:1");

    /* --flag=value, the last of a repeated flag wins, one server pid */
    CHECK_EQ_INT(parse(ARGV("--hosts=x:9", "--clients=3", "--clients", "4", "--duration", "86400",
                            "--warmup", "1.5", "--server-pid", "42"),
                       &o),
                 0);
    CHECK_EQ_STR(o.hosts, "x:9");
    CHECK_EQ_INT(o.clients, 4);
    CHECK(o.duration_s == 86400);
    CHECK(o.warmup_s == 1.5);
    CHECK_EQ_INT(o.n_server_pids, 1);
    CHECK_EQ_INT(o.server_pids[0], 42);

    /* a second --server-pid replaces the first list */
    CHECK_EQ_INT(parse(ARGV("--hosts", "h:1", "--server-pid", "1,2,3", "--server-pid", "9"), &o),
                 0);
    CHECK_EQ_INT(o.n_server_pids, 1);
    CHECK_EQ_INT(o.server_pids[0], 9);

    /* exactly BENCH_MAX_PIDS pids */
    char list[256] = "";
    for (int i = 1; i <= BENCH_MAX_PIDS; i++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d", i > 1 ? "," : "",
                 1000 + i);
    CHECK_EQ_INT(parse(ARGV("--hosts", "h:1", "--server-pid", list), &o), 0);
    CHECK_EQ_INT(o.n_server_pids, BENCH_MAX_PIDS);
    CHECK_EQ_INT(o.server_pids[0], 1001);
    CHECK_EQ_INT(o.server_pids[BENCH_MAX_PIDS - 1], 1000 + BENCH_MAX_PIDS);
}

static void test_ops(void)
{
    static const struct {
        const char *name;
        enum bench_op op;
    } ops[] = {
        {"get", BENCH_GET},       {"set", BENCH_SET},       {"create", BENCH_CREATE},
        {"delete", BENCH_DELETE}, {"exists", BENCH_EXISTS}, {"children", BENCH_CHILDREN},
        {"multi", BENCH_MULTI},   {"mixed", BENCH_MIXED},
    };
    CHECK_EQ_INT(sizeof(ops) / sizeof(ops[0]), BENCH_OP_COUNT);
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        struct bench_opts o;
        CHECK_EQ_INT(parse(ARGV("--op", (char *)ops[i].name, "--hosts", "h:1"), &o), 0);
        CHECK_EQ_INT(o.op, ops[i].op);
        CHECK_EQ_STR(bench_op_name(ops[i].op), ops[i].name);
    }
    CHECK_EQ_STR(bench_op_name(BENCH_OP_COUNT), "?");
    CHECK_EQ_STR(bench_op_name((enum bench_op) - 1), "?");

    struct bench_opts o;
    CHECK_EQ_INT(parse(ARGV("--hosts", "h:1", "--op", "mixed", "--read-pct", "75"), &o), 0);
    CHECK_EQ_INT(o.op, BENCH_MIXED);
    CHECK_EQ_INT(o.read_pct, 75);
}

static void test_help(void)
{
    struct bench_opts o;
    CHECK_EQ_INT(parse(ARGV("--help"), &o), 1); /* no --hosts needed */
    CHECK(strstr(out_text, "usage: paddock bench") != NULL);
    CHECK(strstr(out_text, "--no-setup") != NULL);
    CHECK_EQ_STR(err_text, "");
    CHECK_EQ_INT(parse(ARGV("-h"), &o), 1);
    CHECK(strstr(out_text, "usage: paddock bench") != NULL);
    CHECK_EQ_INT(parse(ARGV("--hosts", "h:1", "--clients", "5", "--help"), &o), 1);
    /* --help wins over a later bad value: parsing stops there */
    CHECK_EQ_INT(parse(ARGV("--hosts", "h:1", "--help", "--clients", "0"), &o), 1);
    CHECK_EQ_STR(err_text, "");
}

static void test_bad_counts(void)
{
    static const char *const int_flags[] = {"--clients", "--depth", "--keys", "--session-timeout",
                                            "--connect-timeout"};
    static const char *const bad[] = {"0", "-1", "abc", "", "5x", "1.5", "99999999999999999999"};
    for (size_t f = 0; f < sizeof(int_flags) / sizeof(int_flags[0]); f++)
        for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++)
            check_rejected(ARGV("--hosts", "h:1", (char *)int_flags[f], (char *)bad[b]),
                           int_flags[f]);

    /* the upper bounds */
    check_rejected(ARGV("--hosts", "h:1", "--clients", "100001"), "--clients");
    check_rejected(ARGV("--hosts", "h:1", "--depth", "100001"), "--depth");
    check_rejected(ARGV("--hosts", "h:1", "--keys", "100000000"), "--keys");
    check_rejected(ARGV("--hosts", "h:1", "--session-timeout", "2147483648"), "--session-timeout");
    check_rejected(ARGV("--hosts", "h:1", "--connect-timeout", "2147483648"), "--connect-timeout");

    /* --size: 0 is fine, negative or above 1000000 is not */
    check_rejected(ARGV("--hosts", "h:1", "--size", "-1"), "--size");
    check_rejected(ARGV("--hosts", "h:1", "--size", "1000001"), "--size");
    check_rejected(ARGV("--hosts", "h:1", "--size", "big"), "--size");

    /* --read-pct in [0, 100] */
    check_rejected(ARGV("--hosts", "h:1", "--read-pct", "101"), "--read-pct");
    check_rejected(ARGV("--hosts", "h:1", "--read-pct", "-1"), "--read-pct");
    check_rejected(ARGV("--hosts", "h:1", "--read-pct", "ninety"), "--read-pct");

    /* seconds: --duration > 0 (at least 1 ms), --warmup >= 0, both at most a day */
    check_rejected(ARGV("--hosts", "h:1", "--duration", "0"), "--duration");
    check_rejected(ARGV("--hosts", "h:1", "--duration", "0.0009"), "--duration");
    check_rejected(ARGV("--hosts", "h:1", "--duration", "-3"), "--duration");
    check_rejected(ARGV("--hosts", "h:1", "--duration", "86401"), "--duration");
    check_rejected(ARGV("--hosts", "h:1", "--duration", "ten"), "--duration");
    check_rejected(ARGV("--hosts", "h:1", "--duration", "1s"), "--duration");
    check_rejected(ARGV("--hosts", "h:1", "--duration", "nan"), "--duration");
    check_rejected(ARGV("--hosts", "h:1", "--duration", "inf"), "--duration");
    check_rejected(ARGV("--hosts", "h:1", "--duration", ""), "--duration");
    check_rejected(ARGV("--hosts", "h:1", "--warmup", "-0.5"), "--warmup");
    check_rejected(ARGV("--hosts", "h:1", "--warmup", "86400.5"), "--warmup");
    check_rejected(ARGV("--hosts", "h:1", "--warmup", "nan"), "--warmup");
    check_rejected(ARGV("--hosts", "h:1", "--warmup", "x"), "--warmup");
}

static void test_bad_pids(void)
{
    check_rejected(ARGV("--hosts", "h:1", "--server-pid", "0"), "--server-pid");
    check_rejected(ARGV("--hosts", "h:1", "--server-pid", "-5"), "--server-pid");
    check_rejected(ARGV("--hosts", "h:1", "--server-pid", "12,abc"), "--server-pid");
    check_rejected(ARGV("--hosts", "h:1", "--server-pid", "2147483648"), "--server-pid");
    check_rejected(ARGV("--hosts", "h:1", "--server-pid", ""), "no PID given");
    check_rejected(ARGV("--hosts", "h:1", "--server-pid", ",,"), "empty PID");
    check_rejected(ARGV("--hosts", "h:1", "--server-pid", "1,,2"), "empty PID");
    check_rejected(ARGV("--hosts", "h:1", "--server-pid", "1,"), "empty PID");
    check_rejected(ARGV("--hosts", "h:1", "--server-pid", ",1"), "empty PID");
    /* numbers are digits only: no blanks, no '+' (strtol would take both) */
    check_rejected(ARGV("--hosts", "h:1", "--clients", " 5"), "--clients");
    check_rejected(ARGV("--hosts", "h:1", "--clients", "+5"), "--clients");
    check_rejected(ARGV("--hosts", "h:1", "--server-pid", "1, 2"), "--server-pid");
    check_rejected(ARGV("--hosts", "h:1", "--duration", " 1"), "--duration");
    check_rejected(ARGV("--hosts", "h:1", "--duration", "+1"), "--duration");

    /* one more than BENCH_MAX_PIDS */
    char list[256] = "";
    for (int i = 1; i <= BENCH_MAX_PIDS + 1; i++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d", i > 1 ? "," : "", i);
    check_rejected(ARGV("--hosts", "h:1", "--server-pid", list), "at most 16 PIDs");

    /* a list longer than the parser's buffer */
    char lng[400];
    memset(lng, '1', sizeof(lng) - 1);
    lng[sizeof(lng) - 1] = '\0';
    check_rejected(ARGV("--hosts", "h:1", "--server-pid", lng), "list too long");
}

static void test_bad_usage(void)
{
    check_rejected(ARGV("--hosts", "h:1", "--op", "put"), "unknown workload 'put'");
    check_rejected(ARGV("--hosts", "h:1", "--op", "GET"), "--op");
    check_rejected(ARGV("--hosts", "h:1", "--op", ""), "--op");
    check_rejected(ARGV("--clients", "4"), "--hosts is required");
    check_rejected(ARGV("--hosts", "", "--clients", "4"), "--hosts is required");
    check_rejected(ARGV("--hosts", "h:1", "extra"), "unexpected argument 'extra'");
    check_rejected(ARGV("stray", "--hosts", "h:1"), "unexpected argument 'stray'");
    /* getopt's own messages name the program as "paddock bench" */
    check_rejected(ARGV("--hosts", "h:1", "--bogus"), "--bogus");
    CHECK(strncmp(err_text, "paddock bench: ", 15) == 0);
    check_rejected(ARGV("--hosts", "h:1", "--clients"), "--clients");
    check_rejected(ARGV("--hosts"), "--hosts");
    check_rejected(ARGV("--hosts", "h:1", "-x"), "paddock bench: ");
    check_rejected(ARGV("--hosts", "h:1", "--no-setup=yes"), "--no-setup");
}

/* Each call parses its own argv from the start, whatever the last call left behind. */
static void test_parse_again(void)
{
    struct bench_opts o;
    /* stopped in the middle of a group of short options */
    CHECK_EQ_INT(parse(ARGV("-hh"), &o), 1);
    CHECK_EQ_INT(parse(ARGV("--hosts", "h:1", "--clients", "3"), &o), 0);
    CHECK_EQ_INT(o.clients, 3);
    CHECK_EQ_INT(parse(ARGV("-xq"), &o), -1);
    CHECK_EQ_INT(parse(ARGV("--hosts", "h:1", "--depth", "2"), &o), 0);
    CHECK_EQ_STR(err_text, "");
    CHECK_EQ_INT(o.depth, 2);
    /* stopped with arguments still to permute */
    CHECK_EQ_INT(parse(ARGV("a", "--clients", "0", "b", "--hosts", "h:1"), &o), -1);
    CHECK_EQ_INT(parse(ARGV("--hosts", "h:2", "--keys", "9"), &o), 0);
    CHECK_EQ_STR(o.hosts, "h:2");
    CHECK_EQ_INT(o.keys, 9);
}

int main(void)
{
    RUN(test_defaults);
    RUN(test_every_flag);
    RUN(test_ops);
    RUN(test_help);
    RUN(test_bad_counts);
    RUN(test_bad_pids);
    RUN(test_bad_usage);
    RUN(test_parse_again);
    return t_done();
}
