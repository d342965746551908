/* zl_dispatch.h — one CQE to its handler: one branch on the token's kind. */
#ifndef ZL_DISPATCH_H
#define ZL_DISPATCH_H

#include <stdint.h>
#include "zl_host.h"

typedef struct zl_dispatch_counters {
    uint64_t cqes;
    uint64_t stale_cqes; /* CQEs of a connection or listener that is gone */
} zl_dispatch_counters;
_Static_assert(sizeof(zl_dispatch_counters) == 16, "zl_dispatch_counters is 16 bytes");

void zl_dispatch_fini(void);
const zl_dispatch_counters *zl_dispatch_counters_view(void);
void zl_dispatch(const struct io_uring_cqe *cqe);

#endif
