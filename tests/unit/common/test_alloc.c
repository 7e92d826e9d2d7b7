/* The allocation fault hook fails exactly the allocations it is told to. */
#include "common/alloc.h"
#include "common/err.h"
#include "t.h"

static void test_fail_nth(void)
{
    pd_alloc_fail_after(2, 1);
    void *a = pd_malloc(8), *b = pd_malloc(8), *c = pd_malloc(8), *d = pd_malloc(8);
    CHECK(a != NULL);
    CHECK(b != NULL);
    CHECK(c == NULL);
    CHECK(d != NULL);
    pd_alloc_fail_after(-1, 0);
    pd_free(a);
    pd_free(b);
    pd_free(d);
}

static void test_strerror(void)
{
    CHECK_EQ_STR(pd_strerror(PD_ENOMEM), "out of memory");
    CHECK_EQ_STR(pd_strerror(12345), "unknown error");
}

int main(void)
{
    RUN(test_fail_nth);
    RUN(test_strerror);
    return t_done();
}
