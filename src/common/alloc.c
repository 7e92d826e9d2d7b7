/* Allocation wrappers with a countdown fault hook for OOM tests (alloc.h). */
#include "common/alloc.h"

#include <stdlib.h>
#include <string.h>

static long countdown = -1; /* allocations left before failing; < 0: never fail */
static long fail_repeat;    /* how many consecutive failures once it triggers */
static long alloc_count;    /* allocations since the last pd_alloc_fail_after() */

static int should_fail(void)
{
    alloc_count++;
    if (countdown < 0)
        return 0;
    if (countdown > 0) {
        countdown--;
        return 0;
    }
    if (fail_repeat > 0 && --fail_repeat == 0)
        countdown = -1;
    return 1;
}

void *pd_malloc(size_t size)
{
    return should_fail() ? NULL : malloc(size ? size : 1);
}

void *pd_calloc(size_t n, size_t size)
{
    return should_fail() ? NULL : calloc(n ? n : 1, size ? size : 1);
}

void *pd_realloc(void *p, size_t size)
{
    return should_fail() ? NULL : realloc(p, size ? size : 1);
}

void pd_free(void *p)
{
    free(p);
}

char *pd_strndup(const char *s, size_t n)
{
    char *d = pd_malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *pd_strdup(const char *s)
{
    return pd_strndup(s, strlen(s));
}

long pd_alloc_fail_after(long n, long repeat)
{
    long made = alloc_count;
    alloc_count = 0;
    countdown = n;
    fail_repeat = repeat > 0 ? repeat : 1;
    return made;
}
