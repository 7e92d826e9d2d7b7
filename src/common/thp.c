/* Transparent huge pages for bulk loads: see thp.h. */
#include "common/thp.h"

#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#define HUGE_PAGE  ((uintptr_t)2 << 20)
#define SMALL_PAGE ((uintptr_t)4096)
/* Heap growth step while loading: 16 huge pages. Mapped, not touched: no RSS. */
#define LOAD_TOP_PAD (32 << 20)
/* glibc's documented default for M_TOP_PAD. */
#define DEFAULT_TOP_PAD (128 * 1024)

static uintptr_t advised_to; /* heap advised up to here (page aligned); 0 outside a load */
static bool loading;

static void advise_range(uintptr_t lo, uintptr_t hi)
{
    if (hi > lo)
        (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
}

void thp_heap_begin(void)
{
    (void)mallopt(M_TOP_PAD, LOAD_TOP_PAD);
    /* Advise from the current break on: what lies below is in use already. */
    advised_to = ((uintptr_t)sbrk(0) + SMALL_PAGE - 1) & ~(SMALL_PAGE - 1);
    loading = true;
}

void thp_heap_poll(void)
{
    if (!loading)
        return;
    uintptr_t brk = (uintptr_t)sbrk(0) & ~(SMALL_PAGE - 1);
    if (brk > advised_to) {
        advise_range(advised_to, brk);
        advised_to = brk;
    }
}

void thp_heap_end(void)
{
    thp_heap_poll();
    (void)mallopt(M_TOP_PAD, DEFAULT_TOP_PAD);
    loading = false;
}

void thp_advise(void *p, size_t len)
{
    uintptr_t lo = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    uintptr_t hi = ((uintptr_t)p + len) & ~(HUGE_PAGE - 1);
    advise_range(lo, hi);
}
