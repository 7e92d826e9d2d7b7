/*
 * Server and connection statistics: what srvr, stat, cons and mntr print, and the srst/crst
 * resets. The loop thread owns every counter; nothing here locks or does I/O.
 *
 * Facts from apache/zookeeper 3.8: ServerStats.java (latency, packets, reset),
 * server/metric/AvgMinMaxCounter.java (the average rounded half-up to 4 decimals; min and max
 * read 0 when empty), AvgMinMaxPercentileCounter.java (a uniform reservoir of 4096 samples,
 * replaced at random once full), Dropwizard metrics' UniformSnapshot (percentile
 * interpolation), quorum/BufferStats.java (response sizes start at -1),
 * ServerCnxn.resetStats() (what crst clears).
 */
#include "server/server.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void summary_reset(struct stats_summary *s)
{
    s->count = 0;
    s->total = 0;
    s->min = 0;
    s->max = 0;
}

/* xorshift64*: the reservoir needs a fair coin, not a secure one. */
static uint64_t next_random(struct server_stats *st)
{
    uint64_t x = st->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    st->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void summary_add(struct server_stats *st, struct stats_summary *s, int64_t v)
{
    if (s->count == 0 || v < s->min)
        s->min = v;
    if (s->count == 0 || v > s->max)
        s->max = v;
    s->count++;
    s->total += v;
    /* Vitter's algorithm R, as ResettableUniformReservoir.update(). */
    if (s->count <= STATS_RESERVOIR_SIZE) {
        s->samples[s->count - 1] = v;
    } else {
        uint64_t r = next_random(st) % (uint64_t)s->count;
        if (r < STATS_RESERVOIR_SIZE)
            s->samples[r] = v;
    }
}

void stats_init(struct server_stats *st, int64_t now_wall_ms)
{
    memset(st, 0, sizeof(*st));
    st->started_ms = now_wall_ms;
    st->rng = (uint64_t)now_wall_ms * 0x9E3779B97F4A7C15ULL | 1;
    stats_reset(st);
}

void stats_reset(struct server_stats *st)
{
    st->packets_received = 0;
    st->packets_sent = 0;
    st->min_latency_ms = -1;
    st->max_latency_ms = 0;
    st->total_latency_ms = 0;
    st->n_latency = 0;
    st->bytes_received = 0;
    st->connection_requests = 0;
    st->connections_rejected = 0;
    st->sessions_expired = 0;
    st->response_bytes = 0;
    st->last_response_bytes = -1;
    st->min_response_bytes = -1;
    st->max_response_bytes = -1;
    summary_reset(&st->read_latency);
    summary_reset(&st->update_latency);
}

void stats_add_latency(struct server_stats *st, int64_t latency_ms, bool is_write)
{
    /* ServerStats.updateLatency drops negative latencies (a clock step). */
    if (latency_ms < 0)
        return;
    if (st->min_latency_ms < 0 || latency_ms < st->min_latency_ms)
        st->min_latency_ms = latency_ms;
    if (latency_ms > st->max_latency_ms)
        st->max_latency_ms = latency_ms;
    st->total_latency_ms += latency_ms;
    st->n_latency++;
    summary_add(st, is_write ? &st->update_latency : &st->read_latency, latency_ms);
}

void stats_add_response(struct server_stats *st, int64_t size_bytes)
{
    st->response_bytes += size_bytes;
    st->last_response_bytes = size_bytes;
    if (st->min_response_bytes < 0 || size_bytes < st->min_response_bytes)
        st->min_response_bytes = size_bytes;
    if (size_bytes > st->max_response_bytes)
        st->max_response_bytes = size_bytes;
}

void stats_conn_reset(struct conn *c)
{
    c->packets_received = 0;
    c->packets_sent = 0;
    c->min_latency_ms = -1;
    c->max_latency_ms = 0;
    c->last_op = "NA";
    c->last_cxid = -1;
    c->last_zxid = -1;
    c->last_response_ms = 0;
    c->last_latency_ms = 0;
    c->n_latency = 0;
    c->total_latency_ms = 0;
}

/*
 * Java's Double.toString for n / 10^4, n >= 0: plain notation with at least one fractional
 * digit for 10^-3 <= value < 10^7, else "d.dddE<exp>". n / 10^4 has at most 4 decimals and
 * fewer than 17 significant digits here, so its shortest round-trip form is its own digits.
 */
static void format_scaled(char *out, size_t out_len, int64_t n)
{
    if (n == 0) {
        snprintf(out, out_len, "0.0");
        return;
    }
    char digits[32];
    int nd = snprintf(digits, sizeof(digits), "%" PRId64, n);
    int exp10 = nd - 1 - 4; /* value = d.ddd * 10^exp10 */
    while (nd > 1 && digits[nd - 1] == '0')
        digits[--nd] = '\0';
    if (exp10 >= -3 && exp10 < 7) {
        int64_t ip = n / 10000, fp = n % 10000;
        char frac[8];
        snprintf(frac, sizeof(frac), "%04" PRId64, fp);
        int fl = 4;
        while (fl > 1 && frac[fl - 1] == '0')
            frac[--fl] = '\0';
        snprintf(out, out_len, "%" PRId64 ".%s", ip, frac);
        return;
    }
    snprintf(out, out_len, "%c.%sE%d", digits[0], nd > 1 ? digits + 1 : "0", exp10);
}

void stats_format_avg(char *out, size_t out_len, int64_t total, int64_t count)
{
    if (count <= 0 || total < 0) {
        snprintf(out, out_len, "0.0");
        return;
    }
    /*
     * AvgMinMaxCounter.getAvg() is new BigDecimal(total / (double)count).setScale(4, HALF_UP):
     * it rounds the exact binary value of the double. glibc prints that value exactly, and 70
     * places are far more than any double above 10^-19 needs to tell a tie from a near-tie.
     */
    double avg = (double)total / (double)count;
    char exact[400];
    snprintf(exact, sizeof(exact), "%.70f", avg);
    char *dot = strchr(exact, '.');
    int64_t n = 0;
    for (const char *p = exact; p < dot; p++)
        n = n * 10 + (*p - '0');
    for (int i = 1; i <= 4; i++)
        n = n * 10 + (dot[i] - '0');
    if (dot[5] >= '5')
        n++;
    format_scaled(out, out_len, n);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int64_t stats_percentile(const struct stats_summary *s, double q, struct arena *a)
{
    size_t n = s->count < STATS_RESERVOIR_SIZE ? (size_t)s->count : STATS_RESERVOIR_SIZE;
    if (n == 0)
        return 0;
    int64_t *v = arena_alloc(a, n * sizeof(*v));
    if (!v)
        return 0;
    memcpy(v, s->samples, n * sizeof(*v));
    qsort(v, n, sizeof(*v), cmp_i64);
    double pos = q * (double)(n + 1);
    size_t index = (size_t)pos;
    double r;
    if (index < 1)
        r = (double)v[0];
    else if (index >= n)
        r = (double)v[n - 1];
    else
        r = (double)v[index - 1] + (pos - (double)index) * (double)(v[index] - v[index - 1]);
    /* Math.round: floor(x + 0.5). */
    return (int64_t)(r + 0.5);
}
