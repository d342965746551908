/* zl_recv.h — multishot recv with buffer selection. */
#ifndef ZL_RECV_H
#define ZL_RECV_H

#include <stdint.h>
#include "zl_conn.h"
#include "zl_host.h"

/* Prepares the multishot recv of `c` (flush). 0, or -errno: no SQE. */
int32_t zl_recv_prep(zl_conn *c);
void zl_recv_on_cqe(zl_conn *c, const struct io_uring_cqe *cqe);
/* A stale recv CQE: its bytes go to nobody, but its buffer is accounted for. */
void zl_recv_drop(const struct io_uring_cqe *cqe);

#endif
