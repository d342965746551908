/* zl_recv.h — the recv CQE handler (multishot recv with buffer selection) and
 * the recv state of a connection: the flush asks what to arm and reports what
 * it queued, so every ZL_CF_RECV_* transition happens in zl_recv.c. */
#ifndef ZL_RECV_H
#define ZL_RECV_H

#include <stdbool.h>
#include <stdint.h>
#include "zl_conn.h"
#include "zl_host.h"

typedef struct zl_recv_counters {
    uint64_t received_bytes;
    uint64_t enobufs; /* recv CQEs that found the buffer ring empty */
} zl_recv_counters;
_Static_assert(sizeof(zl_recv_counters) == 16, "zl_recv_counters is 16 bytes");

void zl_recv_fini(void);
const zl_recv_counters *zl_recv_counters_view(void);
/* Whether `c` may have a recv armed now (open, not half-closed, starved,
 * paused or armed already). */
bool zl_recv_wants_arm(const zl_conn *c);
/* The flush queued the recv of `c` (one-shot under pressure). */
void zl_recv_armed(zl_conn *c, bool oneshot);
/* The flush queued a cancel of the armed recv: its -ECANCELED is expected. */
void zl_recv_cancel_queued(zl_conn *c);
void zl_recv_on_cqe(zl_conn *c, const struct io_uring_cqe *cqe);
/* A stale recv CQE: its bytes go to nobody, but its buffer is accounted for. */
void zl_recv_drop(const struct io_uring_cqe *cqe);

#endif
