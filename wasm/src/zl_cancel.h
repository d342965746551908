/* zl_cancel.h — the CQE of one of our ASYNC_CANCEL requests. */
#ifndef ZL_CANCEL_H
#define ZL_CANCEL_H

#include "zl_host.h"
#include "zl_token.h"

void zl_cancel_on_cqe(const zl_token *t, const struct io_uring_cqe *cqe);

#endif
