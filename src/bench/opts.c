/*
 * Command-line options of paddock bench (the flags of bench/loadgen.c, with
 * --hosts taking a connection string instead of one address). Every number
 * is checked whole and against its range; what is wrong is said by name.
 */
#include "bench/bench_int.h"

#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static const char *const op_names[BENCH_OP_COUNT] = {
    [BENCH_GET] = "get",       [BENCH_SET] = "set",       [BENCH_CREATE] = "create",
    [BENCH_DELETE] = "delete", [BENCH_EXISTS] = "exists", [BENCH_CHILDREN] = "children",
    [BENCH_MULTI] = "multi",   [BENCH_MIXED] = "mixed",
};

const char *bench_op_name(enum bench_op op)
{
    return op >= 0 && op < BENCH_OP_COUNT ? op_names[op] : "?";
}

void bench_usage(FILE *f)
{
    fprintf(f, "usage: paddock bench --hosts HOST:PORT[,HOST:PORT...][/chroot] [options]\n"
               "\n"
               "  --clients N           sessions, spread over the hosts (default 16)\n"
               "  --depth D             outstanding requests per session (default 1)\n"
               "  --op OP               get|set|create|delete|exists|children|multi|mixed\n"
               "                        (default get)\n"
               "  --read-pct P          mixed: percent of gets, the rest sets (default 90)\n"
               "  --size BYTES          value size for setup, set, create, multi (default 100)\n"
               "  --keys K              keys /bench/k00000000... (default 10000)\n"
               "  --duration S          timed run in seconds (default 10)\n"
               "  --warmup S            load before the timed run (default 2)\n"
               "  --server-pid PID[,PID...]\n"
               "                        report these processes' CPU per op and RSS\n"
               "  --session-timeout MS  requested session timeout (default 30000)\n"
               "  --connect-timeout MS  every session must connect within it (default 10000)\n"
               "  --no-setup            the keys exist already: skip creating them\n"
               "\n"
               "Prints throughput, latency quantiles, errors, its own CPU per op and a last\n"
               "line `RESULT op=... ops_per_s=... p99_us=... errors=...` (bench/loadgen's).\n"
               "Exit status 1 on any error, 2 for bad arguments.\n");
}

/* Parses all of s as an int in [lo, hi]: digits with an optional '-', nothing around them. */
static int parse_int(const char *flag, const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    bool is_plain = (s[0] >= '0' && s[0] <= '9') || (s[0] == '-' && s[1] >= '0' && s[1] <= '9');
    if (!is_plain || errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "paddock bench: %s: '%s' is not a number in [%ld, %ld]\n", flag, s, lo, hi);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* Parses all of s as seconds in [lo, 86400]. */
static int parse_secs(const char *flag, const char *s, double lo, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    bool is_plain = (s[0] >= '0' && s[0] <= '9') || (s[0] == '.' && s[1] >= '0' && s[1] <= '9');
    if (!is_plain || errno || end == s || *end || !(v >= lo) || v > 86400) {
        fprintf(stderr, "paddock bench: %s: '%s' is not a number of seconds\n", flag, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_pids(const char *s, struct bench_opts *o)
{
    char buf[256];
    if (strlen(s) >= sizeof(buf)) {
        fprintf(stderr, "paddock bench: --server-pid: list too long\n");
        return -1;
    }
    strcpy(buf, s);
    o->n_server_pids = 0;
    if (strstr(buf, ",,") || buf[0] == ',' || (buf[0] && buf[strlen(buf) - 1] == ',')) {
        fprintf(stderr, "paddock bench: --server-pid: '%s' has an empty PID\n", s);
        return -1;
    }
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (o->n_server_pids == BENCH_MAX_PIDS) {
            fprintf(stderr, "paddock bench: --server-pid: at most %d PIDs\n", BENCH_MAX_PIDS);
            return -1;
        }
        if (parse_int("--server-pid", t, 1, INT_MAX, &o->server_pids[o->n_server_pids]) != 0)
            return -1;
        o->n_server_pids++;
    }
    if (o->n_server_pids == 0) {
        fprintf(stderr, "paddock bench: --server-pid: no PID given\n");
        return -1;
    }
    return 0;
}

enum {
    OPT_HOSTS = 1000,
    OPT_CLIENTS,
    OPT_DEPTH,
    OPT_OP,
    OPT_READ_PCT,
    OPT_SIZE,
    OPT_KEYS,
    OPT_DURATION,
    OPT_WARMUP,
    OPT_SERVER_PID,
    OPT_SESSION_TIMEOUT,
    OPT_CONNECT_TIMEOUT,
    OPT_NO_SETUP,
    OPT_HELP,
};

static int parse(int argc, char **argv, struct bench_opts *o)
{
    static const struct option longopts[] = {
        {"hosts", required_argument, NULL, OPT_HOSTS},
        {"clients", required_argument, NULL, OPT_CLIENTS},
        {"depth", required_argument, NULL, OPT_DEPTH},
        {"op", required_argument, NULL, OPT_OP},
        {"read-pct", required_argument, NULL, OPT_READ_PCT},
        {"size", required_argument, NULL, OPT_SIZE},
        {"keys", required_argument, NULL, OPT_KEYS},
        {"duration", required_argument, NULL, OPT_DURATION},
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"server-pid", required_argument, NULL, OPT_SERVER_PID},
        {"session-timeout", required_argument, NULL, OPT_SESSION_TIMEOUT},
        {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
        {"no-setup", no_argument, NULL, OPT_NO_SETUP},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    /* 0, not 1: glibc then also forgets its place inside a short-option group ("-hh") of
     * an earlier argv, which it would otherwise resume from on the next parse. */
    optind = 0;
    opterr = 1; /* getopt names an unknown flag or a missing argument itself */
    int ch;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        int rc = 0;
        switch (ch) {
        case OPT_HOSTS:
            o->hosts = optarg;
            break;
        case OPT_CLIENTS:
            rc = parse_int("--clients", optarg, 1, 100000, &o->clients);
            break;
        case OPT_DEPTH:
            rc = parse_int("--depth", optarg, 1, 100000, &o->depth);
            break;
        case OPT_OP: {
            int i = 0;
            while (i < BENCH_OP_COUNT && strcmp(optarg, op_names[i]) != 0)
                i++;
            if (i == BENCH_OP_COUNT) {
                fprintf(stderr, "paddock bench: --op: unknown workload '%s'\n", optarg);
                return -1;
            }
            o->op = (enum bench_op)i;
            break;
        }
        case OPT_READ_PCT:
            rc = parse_int("--read-pct", optarg, 0, 100, &o->read_pct);
            break;
        case OPT_SIZE:
            /* jute.maxbuffer is 1 MiB minus 1 byte for the whole request. */
            rc = parse_int("--size", optarg, 0, 1000000, &o->size_bytes);
            break;
        case OPT_KEYS:
            rc = parse_int("--keys", optarg, 1, 99999999, &o->keys);
            break;
        case OPT_DURATION:
            rc = parse_secs("--duration", optarg, 0.001, &o->duration_s);
            break;
        case OPT_WARMUP:
            rc = parse_secs("--warmup", optarg, 0, &o->warmup_s);
            break;
        case OPT_SERVER_PID:
            rc = parse_pids(optarg, o);
            break;
        case OPT_SESSION_TIMEOUT:
            rc = parse_int("--session-timeout", optarg, 1, INT_MAX, &o->session_timeout_ms);
            break;
        case OPT_CONNECT_TIMEOUT:
            rc = parse_int("--connect-timeout", optarg, 1, INT_MAX, &o->connect_timeout_ms);
            break;
        case OPT_NO_SETUP:
            o->is_setup_skipped = true;
            break;
        case 'h':
        case OPT_HELP:
            return 1;
        default:
            return -1;
        }
        if (rc != 0)
            return -1;
    }
    if (optind != argc) {
        fprintf(stderr, "paddock bench: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (!o->hosts || !*o->hosts) {
        fprintf(stderr, "paddock bench: --hosts is required\n");
        return -1;
    }
    return 0;
}

int bench_opts_parse(int argc, char **argv, struct bench_opts *o)
{
    *o = (struct bench_opts){
        .clients = 16,
        .depth = 1,
        .op = BENCH_GET,
        .read_pct = 90,
        .size_bytes = 100,
        .keys = 10000,
        .duration_s = 10,
        .warmup_s = 2,
        .session_timeout_ms = 30000,
        .connect_timeout_ms = 10000,
    };
    /* getopt_long() names the program as argv[0] in its messages. */
    char *argv0 = argv[0];
    argv[0] = (char *)"paddock bench";
    int rc = parse(argc, argv, o);
    argv[0] = argv0;
    if (rc > 0)
        bench_usage(stdout);
    else if (rc < 0)
        bench_usage(stderr);
    return rc;
}
