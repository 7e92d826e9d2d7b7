/*
 * CRC-32 with zlib's polynomial (IEEE 802.3, reflected 0xEDB88320, initial and
 * final inversion): the same value as zlib's crc32() and java.util.zip.CRC32,
 * which ZooKeeper's tree digest uses (tree/digest.c).
 *
 * Why not zlib's: the digest hashes ~200 bytes per znode in three short
 * pieces, where zlib 1.2's braided code spends most of its time on per-call
 * alignment and byte-at-a-time edges; loading a million-znode snapshot spent
 * 30% of its CPU there. This one folds 16 bytes per step with carry-less
 * multiplication (PCLMULQDQ, chosen at run time on x86-64) and falls back to
 * slicing-by-8 tables elsewhere. Same results, checked against zlib in
 * tests/unit/common/test_crc32.c.
 */
#ifndef PD_COMMON_CRC32_H
#define PD_COMMON_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Extends `crc` (0 to start, as zlib's crc32(0, ...)) over len bytes at p. */
uint32_t pd_crc32(uint32_t crc, const void *p, size_t len);

/* The portable path alone (tests compare the two). */
uint32_t pd_crc32_portable(uint32_t crc, const void *p, size_t len);

#endif
