/*
 * Helpers the benchmark tools (loadgen, fill) share: big-endian encoding into
 * a caller's buffer, as jute lays out ints and longs. Header-only; the
 * histogram and /proc figures come from src/bench (measure.h).
 */
#ifndef PD_BENCH_UTIL_H
#define PD_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes v big-endian at p; returns p + 4. */
static inline uint8_t *put_int(uint8_t *p, int32_t v)
{
    uint32_t u = (uint32_t)v;
    p[0] = (uint8_t)(u >> 24);
    p[1] = (uint8_t)(u >> 16);
    p[2] = (uint8_t)(u >> 8);
    p[3] = (uint8_t)u;
    return p + 4;
}

/* Writes v big-endian at p; returns p + 8. */
static inline uint8_t *put_long(uint8_t *p, int64_t v)
{
    p = put_int(p, (int32_t)((uint64_t)v >> 32));
    return put_int(p, (int32_t)(uint32_t)v);
}

/* The big-endian int at p (4 readable bytes). */
static inline int32_t get_int(const uint8_t *p)
{
    return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

#endif
