/* zl_cabi.h — the canonical-ABI allocator, plus a lend: a caller that knows the
 * host is about to return a list of at most `cap` bytes lends a buffer it owns,
 * so the per-tick CQE batch costs no malloc/free. */
#ifndef ZL_CABI_H
#define ZL_CABI_H

#include <stddef.h>

/* The next cabi_realloc(NULL, 0, _, n) with 0 < n <= cap returns `buf`. */
void zl_cabi_lend(void *buf, size_t cap);
/* Ends the lend (whether or not the host used it). */
void zl_cabi_unlend(void);

#endif
