/* What every fuzz target checks with: a broken property aborts, which
 * libFuzzer reports as a crash and saves the input that caused it. */
#ifndef RB_FUZZ_CHECK_H
#define RB_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);        \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

#endif
