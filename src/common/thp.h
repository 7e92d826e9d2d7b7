/*
 * Transparent huge pages for bulk loads.
 *
 * Loading a million-znode snapshot touches ~180 MiB of fresh heap in small
 * malloc blocks plus a lookup table of tens of MiB, all at random. With 4 KiB
 * pages that is ~45,000 page faults and a TLB miss on most table probes:
 * measured on this project's 2-vCPU VM, a third of the restart time. Linux
 * installs 2 MiB pages in memory that asked for them (madvise(MADV_HUGEPAGE);
 * the default THP mode on Debian is "madvise"), but glibc's malloc only asks
 * when started with GLIBC_TUNABLES=glibc.malloc.hugetlb=1, which an operator
 * should not have to set.
 *
 * So, around a bulk load:
 *   thp_heap_begin()  makes malloc grow the heap (brk) in large steps;
 *   thp_heap_poll()   advises every part of the heap grown since the last
 *                     call (cheap when nothing grew: sbrk(0) is no syscall);
 *   thp_heap_end()    advises the rest and restores malloc's growth step;
 * and thp_advise() advises one large allocation (the lookup table).
 *
 * Advice only: on a kernel without THP, with THP off, or under a sanitizer's
 * allocator every call is harmless and changes nothing. Untouched memory is
 * never made resident by any of this. Not thread-safe: the heap break is the
 * process's, so only the thread doing the load (before the server starts
 * serving) calls begin/poll/end.
 */
#ifndef PD_COMMON_THP_H
#define PD_COMMON_THP_H

#include <stddef.h>

void thp_heap_begin(void);
void thp_heap_poll(void);
void thp_heap_end(void);

/* Advises the 2 MiB-aligned part of [p, p + len), when there is one. */
void thp_advise(void *p, size_t len);

#endif
