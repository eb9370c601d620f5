/*
 * cxs_test.h - the unit-test harness: CHECK macros, a table of cases per
 * test file, and a closing line "N passed, N failed" that CI reads.
 *
 *   static void test_folding(void) { CHECK_STR(fold("Ё"), "е"); }
 *   int main(void) { RUN(test_folding); return cxs_test_done(); }
 *
 * A failed CHECK reports file, line and the values, and the test goes on,
 * so one run shows every failure.
 */
#ifndef CXS_TEST_H
#define CXS_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cxs_test_passed, cxs_test_failed;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (cond) {                                                        \
            cxs_test_passed++;                                             \
        } else {                                                           \
            cxs_test_failed++;                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                      \
        }                                                                  \
    } while (0)

#define CHECK_MSG(cond, ...)                                               \
    do {                                                                   \
        if (cond) {                                                        \
            cxs_test_passed++;                                             \
        } else {                                                           \
            cxs_test_failed++;                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__,         \
                    __LINE__, #cond);                                      \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
        }                                                                  \
    } while (0)

#define CHECK_STR(got, want)                                               \
    do {                                                                   \
        const char *g_ = (got), *w_ = (want);                              \
        if (g_ && w_ && strcmp(g_, w_) == 0) {                             \
            cxs_test_passed++;                                             \
        } else {                                                           \
            cxs_test_failed++;                                             \
            fprintf(stderr, "%s:%d: %s: got \"%s\", want \"%s\"\n",        \
                    __FILE__, __LINE__, #got, g_ ? g_ : "(null)",          \
                    w_ ? w_ : "(null)");                                   \
        }                                                                  \
    } while (0)

#define CHECK_INT(got, want)                                               \
    do {                                                                   \
        long long g_ = (long long)(got), w_ = (long long)(want);           \
        if (g_ == w_) {                                                    \
            cxs_test_passed++;                                             \
        } else {                                                           \
            cxs_test_failed++;                                             \
            fprintf(stderr, "%s:%d: %s: got %lld, want %lld\n", __FILE__,  \
                    __LINE__, #got, g_, w_);                               \
        }                                                                  \
    } while (0)

#define RUN(fn)                                                            \
    do {                                                                   \
        int before_ = cxs_test_failed;                                     \
        fn();                                                              \
        fprintf(stderr, "%-4s %s\n",                                       \
                cxs_test_failed == before_ ? "ok" : "FAIL", #fn);          \
    } while (0)

/* Prints the closing line and returns the exit status. */
static inline int cxs_test_done(void) {
    printf("%d passed, %d failed\n", cxs_test_passed, cxs_test_failed);
    return cxs_test_failed ? 1 : 0;
}

#endif /* CXS_TEST_H */
