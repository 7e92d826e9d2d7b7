/* pd_crc32 gives zlib's crc32() for every length, alignment and starting value. */
#include "common/crc32.h"
#include "t.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static uint64_t rng = 88172645463325252ull;

static uint32_t next32(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

static void test_known_values(void)
{
    /* The standard check value of CRC-32/ISO-HDLC. */
    CHECK_EQ_INT(pd_crc32(0, "123456789", 9), 0xCBF43926u);
    CHECK_EQ_INT(pd_crc32_portable(0, "123456789", 9), 0xCBF43926u);
    CHECK_EQ_INT(pd_crc32(0, "", 0), 0);
    CHECK_EQ_INT(pd_crc32(0x12345678, NULL, 0), 0x12345678);
}

static void test_every_length_matches_zlib(void)
{
    enum { MAX = 1100 };
    uint8_t *buf = malloc(MAX + 16);
    CHECK(buf != NULL);
    for (size_t i = 0; i < MAX + 16; i++)
        buf[i] = (uint8_t)next32();
    int bad = 0;
    for (size_t len = 0; len <= MAX; len++) {
        for (size_t off = 0; off < 16; off += 5) {
            uint32_t start = (len % 3 == 0) ? 0 : next32();
            uint32_t want = (uint32_t)crc32(start, buf + off, (uInt)len);
            if (pd_crc32(start, buf + off, len) != want ||
                pd_crc32_portable(start, buf + off, len) != want)
                bad++;
        }
    }
    CHECK_EQ_INT(bad, 0);
    free(buf);
}

static void test_pieces_chain(void)
{
    uint8_t buf[600];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)next32();
    uint32_t whole = pd_crc32(0, buf, sizeof(buf));
    int bad = 0;
    for (size_t cut = 0; cut <= sizeof(buf); cut += 7) {
        uint32_t c = pd_crc32(0, buf, cut);
        if (pd_crc32(c, buf + cut, sizeof(buf) - cut) != whole)
            bad++;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(whole, (uint32_t)crc32(0, buf, sizeof(buf)));
}

int main(void)
{
    RUN(test_known_values);
    RUN(test_every_length_matches_zlib);
    RUN(test_pieces_chain);
    return t_done();
}
