/* Shared by the Check suites: one main per suite. */
#ifndef RB_TESTUTIL_H
#define RB_TESTUTIL_H

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static inline int64_t rb_test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define RB_CHECK_MAIN(make_suite)                                   \
    int main(void)                                                  \
    {                                                               \
        SRunner *runner = srunner_create(make_suite());             \
        srunner_run_all(runner, CK_NORMAL);                         \
        int failed = srunner_ntests_failed(runner);                 \
        srunner_free(runner);                                       \
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;                \
    }

#endif
