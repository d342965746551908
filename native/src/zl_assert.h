// zl_assert.h — invariants of the helper's own tables. A failed assertion is
// a bug in the helper (no guest or JS input may reach one), so it aborts the
// process loudly instead of returning an errno that would hide it. Always on:
// the checks are a few compares on paths that already touch the same memory.
#pragma once

#include <cstdio>
#include <cstdlib>

[[noreturn]] inline void zl_assert_fail(const char* what, const char* file, int line) {
    std::fprintf(stderr, "zergling native: assertion failed: %s (%s:%d)\n", what, file, line);
    std::fflush(stderr);
    std::abort();
}

#define ZL_ASSERT(cond)                                                  \
    do {                                                                 \
        if (__builtin_expect(!(cond), 0)) zl_assert_fail(#cond, __FILE__, __LINE__); \
    } while (0)

// Checks of conditions that are helper bugs but that a release build can
// survive safely (it counts and drops instead): on in debug builds (ZL_DEBUG,
// e.g. the ASan build of `make native-asan`), off otherwise.
#ifdef ZL_DEBUG
#define ZL_DEBUG_ASSERT(cond) ZL_ASSERT(cond)
#else
#define ZL_DEBUG_ASSERT(cond) ((void)0)
#endif
