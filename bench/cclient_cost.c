/*
 * CPU cost of the official ZooKeeper C client (libzookeeper_mt) per request.
 *
 *   cclient_cost <host:port> [ops] [window] [datasize]
 *
 * Creates one znode with `datasize` bytes (default 100), then issues `ops`
 * (default 200000) asynchronous zoo_aget calls on it, keeping at most `window`
 * (default 1000) outstanding, and reports the client process's user and
 * system CPU time (getrusage(RUSAGE_SELF): the caller, the client's I/O thread
 * and its completion thread) per operation, plus wall-clock throughput.  A
 * shorter run of synchronous zoo_get calls follows for comparison.  Both are
 * measured twice: with the client's default of re-resolving the server list
 * on every I/O-loop iteration, and with that turned off
 * (zoo_set_servers_resolution_delay(zh, -1)).
 *
 * Not part of ctest.  Build and run against Apache ZooKeeper 3.8:
 *   gcc -O2 -std=c11 -D_GNU_SOURCE -I/usr/include/zookeeper \
 *       bench/cclient_cost.c -o /tmp/cclient_cost -lzookeeper_mt
 *   tests/integration/run_cclient.sh zookeeper /tmp/cclient_cost
 * (run_cclient.sh passes only host:port, so the defaults apply; run the
 * binary by hand for other parameters.)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifndef THREADED
#define THREADED
#endif
#include <zookeeper.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int connected;
static long outstanding, completed, errors;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(double *user, double *sys)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    *sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    return *user + *sys;
}

static void watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    (void)zh;
    (void)path;
    (void)ctx;
    if (type == ZOO_SESSION_EVENT) {
        pthread_mutex_lock(&mu);
        connected = state == ZOO_CONNECTED_STATE;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
    }
}

static void get_cb(int rc, const char *value, int len, const struct Stat *st, const void *data)
{
    (void)value;
    (void)len;
    (void)st;
    (void)data;
    pthread_mutex_lock(&mu);
    if (rc != ZOK)
        errors++;
    completed++;
    outstanding--;
    pthread_cond_signal(&cv); /* cheap when nobody waits */
    pthread_mutex_unlock(&mu);
}

/* Issue n pipelined zoo_aget with at most window outstanding. */
static int run_async(zhandle_t *zh, const char *path, long n, long window)
{
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&mu);
        while (outstanding >= window)
            pthread_cond_wait(&cv, &mu);
        outstanding++;
        pthread_mutex_unlock(&mu);
        int rc = zoo_aget(zh, path, 0, get_cb, NULL);
        if (rc != ZOK) {
            fprintf(stderr, "zoo_aget: %s\n", zerror(rc));
            return -1;
        }
    }
    pthread_mutex_lock(&mu);
    while (outstanding > 0)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return 0;
}

static void report(const char *what, long n, double wall, double u, double s)
{
    printf("%-28s %8ld ops %7.3f s %9.0f ops/s   cpu/op: user %6.2f us  sys %6.2f us  "
           "total %6.2f us\n",
           what, n, wall, (double)n / wall, u / (double)n * 1e6, s / (double)n * 1e6,
           (u + s) / (double)n * 1e6);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s <host:port> [ops] [window] [datasize]\n", argv[0]);
        return 2;
    }
    long n = argc > 2 ? atol(argv[2]) : 200000;
    long window = argc > 3 ? atol(argv[3]) : 1000;
    int datasize = argc > 4 ? atoi(argv[4]) : 100;
    if (n <= 0 || window <= 0 || datasize < 0) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);

    zhandle_t *zh = zookeeper_init(argv[1], watcher, 10000, NULL, NULL, 0);
    if (!zh) {
        perror("zookeeper_init");
        return 1;
    }
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&mu);
    while (!connected && pthread_cond_timedwait(&cv, &mu, &deadline) == 0) {
    }
    int ok = connected;
    pthread_mutex_unlock(&mu);
    if (!ok) {
        fprintf(stderr, "not connected to %s\n", argv[1]);
        return 1;
    }

    char path[64];
    snprintf(path, sizeof path, "/cclient-cost-%d", (int)getpid());
    char *data = malloc((size_t)datasize + 1);
    memset(data, 'x', (size_t)datasize);
    int rc = zoo_create(zh, path, data, datasize, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);
    if (rc != ZOK) {
        fprintf(stderr, "create %s: %s\n", path, zerror(rc));
        return 1;
    }

    printf("official C client (libzookeeper_mt 3.8), server %s, data %d bytes, window %ld\n",
           argv[1], datasize, window);
    long m = n / 20 < 5000 ? 5000 : n / 20; /* synchronous round trips */
    char *buf = malloc((size_t)datasize + 16);
    long failures = 0;

    /* warm up: connection buffers, server JIT */
    run_async(zh, path, n / 10 < 20000 ? 20000 : n / 10, window);

    /* By default the client re-resolves its host list (getaddrinfo, even for
     * a numeric address) every time its I/O thread checks the socket;
     * zoo_set_servers_resolution_delay(zh, -1) turns that off.  Measure both. */
    for (int pass = 0; pass < 2; pass++) {
        const char *mode = pass == 0 ? "default" : "resolution delay -1";
        if (pass == 1 && zoo_set_servers_resolution_delay(zh, -1) != ZOK) {
            fprintf(stderr, "zoo_set_servers_resolution_delay failed\n");
            return 1;
        }
        printf("-- host re-resolution: %s\n", mode);

        double u0, s0, u1, s1;
        completed = errors = 0;
        cpu_s(&u0, &s0);
        double t0 = now_s();
        if (run_async(zh, path, n, window) != 0)
            return 1;
        double t1 = now_s();
        cpu_s(&u1, &s1);
        report("async zoo_aget (pipelined)", n, t1 - t0, u1 - u0, s1 - s0);
        failures += errors;

        cpu_s(&u0, &s0);
        t0 = now_s();
        for (long i = 0; i < m; i++) {
            int len = datasize + 16;
            failures += zoo_get(zh, path, 0, buf, &len, NULL) != ZOK;
        }
        t1 = now_s();
        cpu_s(&u1, &s1);
        report("sync zoo_get (round trips)", m, t1 - t0, u1 - u0, s1 - s0);
    }
    if (failures)
        printf("%ld operations failed\n", failures);

    zoo_delete(zh, path, -1);
    zookeeper_close(zh);
    free(buf);
    free(data);
    return failures ? 1 : 0;
}
