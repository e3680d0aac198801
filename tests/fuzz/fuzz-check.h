/* fuzz-check.h - CHECK(): a fuzz target's invariant, which aborts (so that
 * libFuzzer keeps the input) and names the file, line and condition. */
#ifndef HELLO_FUZZ_CHECK_H
#define HELLO_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
