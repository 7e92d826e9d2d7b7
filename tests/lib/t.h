/*
 * A tiny unit-test harness: each test is a function; CHECK records a failure
 * with file and line and carries on; main() runs them and prints
 * "N passed, N failed". Each test binary is one ctest test.
 *
 *   static void test_x(void) { CHECK(1 + 1 == 2); CHECK_EQ_INT(a, b); }
 *   int main(void) { RUN(test_x); return t_done(); }
 */
#ifndef PD_TEST_T_H
#define PD_TEST_T_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int t_failed_checks, t_tests_passed, t_tests_failed;
static int t_current_failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            t_failed_checks++;                                                                     \
            t_current_failed = 1;                                                                  \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long t_a_ = (long long)(a), t_b_ = (long long)(b);                                    \
        if (t_a_ != t_b_) {                                                                        \
            fprintf(stderr, "%s:%d: CHECK_EQ_INT failed: %s == %lld, %s == %lld\n", __FILE__,      \
                    __LINE__, #a, t_a_, #b, t_b_);                                                 \
            t_failed_checks++;                                                                     \
            t_current_failed = 1;                                                                  \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                                         \
    do {                                                                                           \
        const char *t_a_ = (a), *t_b_ = (b);                                                       \
        if (!t_a_ || !t_b_ || strcmp(t_a_, t_b_) != 0) {                                           \
            fprintf(stderr, "%s:%d: CHECK_EQ_STR failed: %s == \"%s\", %s == \"%s\"\n", __FILE__,  \
                    __LINE__, #a, t_a_ ? t_a_ : "(null)", #b, t_b_ ? t_b_ : "(null)");             \
            t_failed_checks++;                                                                     \
            t_current_failed = 1;                                                                  \
        }                                                                                          \
    } while (0)

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        t_current_failed = 0;                                                                      \
        fn();                                                                                      \
        if (t_current_failed) {                                                                    \
            t_tests_failed++;                                                                      \
            fprintf(stderr, "FAIL %s\n", #fn);                                                     \
        } else {                                                                                   \
            t_tests_passed++;                                                                      \
        }                                                                                          \
    } while (0)

static inline int t_done(void)
{
    printf("%d passed, %d failed\n", t_tests_passed, t_tests_failed);
    return t_tests_failed ? 1 : 0;
}

#endif
