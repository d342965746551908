/* zl_assert.h — invariant checks that stay on in release builds.
 * A broken invariant means the core's bookkeeping no longer matches the kernel's:
 * continuing would hand out freed buffers or reorder bytes, so we trap. A trap
 * surfaces in JS as WebAssembly.RuntimeError("unreachable"). No assert.h: it
 * would pull WASI imports (fprintf to stderr). */
#ifndef ZL_ASSERT_H
#define ZL_ASSERT_H

#define ZL_ASSERT(cond)                       \
    do {                                      \
        if (__builtin_expect(!(cond), 0))     \
            __builtin_trap();                 \
    } while (0)

#endif
