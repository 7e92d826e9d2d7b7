/*
 * All allocation goes through these wrappers so that tests can make the Nth
 * allocation fail (pd_alloc_fail_after) and check that every caller unwinds
 * cleanly with PD_ENOMEM.
 */
#ifndef PD_COMMON_ALLOC_H
#define PD_COMMON_ALLOC_H

#include <stddef.h>

void *pd_malloc(size_t size);
void *pd_calloc(size_t n, size_t size);
void *pd_realloc(void *p, size_t size);
void pd_free(void *p);
/* Returns owned copy of the n bytes at s plus a NUL; release with pd_free(). */
char *pd_strndup(const char *s, size_t n);
char *pd_strdup(const char *s);

/*
 * Test hook: the (n+1)th allocation from now on fails, and so do the next
 * `repeat` - 1 after it; n < 0 turns failures off. Returns the number of
 * allocations made since the previous call.
 */
long pd_alloc_fail_after(long n, long repeat);

#endif
