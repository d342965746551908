/* zl_dispatch.h — one CQE to its handler: one branch on the token's kind. */
#ifndef ZL_DISPATCH_H
#define ZL_DISPATCH_H

#include "zl_host.h"

void zl_dispatch(const struct io_uring_cqe *cqe);

#endif
