/*
 * CRC-32 (zlib's): see crc32.h.
 *
 * Internally the state is the inverted CRC ("raw" register), so pieces chain
 * without re-inverting. The folding path works in the bit-reflected domain of
 * the polynomial P = 0x104C11DB7: a 128-bit remainder x is folded onto the
 * next 16 bytes as x.lo * K3 + x.hi * K4 (K3 = x^(128+32) mod P and
 * K4 = x^(128-32) mod P, reflected and shifted as carry-less multiplication in
 * the reflected domain needs), then reduced 128 -> 64 -> 32 bits and finished
 * with a Barrett reduction (mu = floor(x^64 / P)). The constants are the
 * standard ones from Intel's "Fast CRC Computation Using PCLMULQDQ" paper for
 * this polynomial; the unit test checks every length against zlib.
 */
#include "common/crc32.h"

#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_CLMUL 1
#include <immintrin.h>
#endif

static uint32_t table[8][256];
#ifdef HAVE_CLMUL
static int clmul_ok; /* set once, before main(), like the tables */
#endif

__attribute__((constructor)) static void make_tables(void)
{
#ifdef HAVE_CLMUL
    __builtin_cpu_init();
    clmul_ok = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
#endif
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
}

/* Slicing-by-8 on the raw register. */
static uint32_t raw_tables(uint32_t c, const uint8_t *p, size_t len)
{
    while (len >= 8) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + 4, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        a = __builtin_bswap32(a);
        b = __builtin_bswap32(b);
#endif
        a ^= c;
        c = table[7][a & 0xff] ^ table[6][(a >> 8) & 0xff] ^ table[5][(a >> 16) & 0xff] ^
            table[4][a >> 24] ^ table[3][b & 0xff] ^ table[2][(b >> 8) & 0xff] ^
            table[1][(b >> 16) & 0xff] ^ table[0][b >> 24];
        p += 8;
        len -= 8;
    }
    while (len--)
        c = (c >> 8) ^ table[0][(c ^ *p++) & 0xff];
    return c;
}

uint32_t pd_crc32_portable(uint32_t crc, const void *p, size_t len)
{
    return ~raw_tables(~crc, p, len);
}

#ifdef HAVE_CLMUL
/* The raw register over the first len - len % 16 bytes; len >= 16. */
__attribute__((target("pclmul,sse4.1"))) static uint32_t raw_clmul(uint32_t c, const uint8_t *p,
                                                                   size_t len)
{
    const __m128i k3k4 = _mm_set_epi64x(0x0ccaa009eLL, 0x1751997d0LL); /* hi K4, lo K3 */
    const __m128i k5 = _mm_set_epi64x(0, 0x163cd6124LL);
    const __m128i pmu = _mm_set_epi64x(0x1F7011641LL, 0x1DB710641LL); /* hi mu, lo P */
    const __m128i low32 = _mm_set_epi32(0, 0, 0, -1);

    __m128i x = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)p),
                              _mm_cvtsi32_si128((int)c));
    for (p += 16, len -= 16; len >= 16; p += 16, len -= 16) {
        __m128i lo = _mm_clmulepi64_si128(x, k3k4, 0x00);
        __m128i hi = _mm_clmulepi64_si128(x, k3k4, 0x11);
        x = _mm_xor_si128(_mm_xor_si128(lo, hi),
                          _mm_loadu_si128((const __m128i *)(const void *)p));
    }
    /* 128 -> 64 bits, then 64 -> 32. */
    x = _mm_xor_si128(_mm_clmulepi64_si128(x, k3k4, 0x10), _mm_srli_si128(x, 8));
    x = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x, low32), k5, 0x00),
                      _mm_srli_si128(x, 4));
    /* Barrett: q = (x mod x^32) * mu, r = x + (q mod x^32) * P; the CRC is r's second word. */
    __m128i q = _mm_clmulepi64_si128(_mm_and_si128(x, low32), pmu, 0x10);
    q = _mm_clmulepi64_si128(_mm_and_si128(q, low32), pmu, 0x00);
    x = _mm_xor_si128(x, q);
    return (uint32_t)_mm_extract_epi32(x, 1);
}
#endif

uint32_t pd_crc32(uint32_t crc, const void *p, size_t len)
{
    const uint8_t *b = p;
    uint32_t c = ~crc;
#ifdef HAVE_CLMUL
    if (len >= 32 && clmul_ok) {
        c = raw_clmul(c, b, len);
        b += len & ~(size_t)15;
        len &= 15;
    }
#endif
    return ~raw_tables(c, b, len);
}
