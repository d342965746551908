/* zl_send.h — writes and the send CQE handler: per-connection FIFO of ranges
 * (zl_ranges.h), one send in flight, up to ZL_SEND_MAX_IOV ranges gathered
 * into one sendmsg. The flush asks what to send and reports what it queued,
 * so every ZL_CF_SEND_INFLIGHT transition happens in zl_send.c. */
#ifndef ZL_SEND_H
#define ZL_SEND_H

#include <stdbool.h>
#include <stdint.h>
#include "zl_conn.h"
#include "zl_host.h"

#define ZL_SEND_MAX_IOV 64
/* A CQE's res is an s32: keep one send's bytes well below it. */
#define ZL_SEND_MAX_BYTES 0x40000000u

/* Write ranges one connection may have queued: beyond it `write` is -ENOBUFS
 * (the TS layer keeps the bytes and retries after a `sent`), so one writer
 * cannot take the shared pool from the others. */
#define ZL_SEND_MAX_RANGES_PER_CONN 1024u

typedef struct zl_send_counters {
    uint64_t sends;       /* send/sendmsg SQEs queued */
    uint64_t short_sends; /* send CQEs with fewer bytes than asked */
    uint64_t sent_bytes;
} zl_send_counters;
_Static_assert(sizeof(zl_send_counters) == 24, "zl_send_counters is 24 bytes");

void zl_send_fini(void);
const zl_send_counters *zl_send_counters_view(void);
/* Queues a range after everything queued before it. 0 or -errno (-ENOBUFS:
 * this conn's share or the pool is used up; retry after a `sent`). */
int32_t zl_send_write(zl_conn *c, uint32_t slab, uint32_t offset, uint32_t len_bytes);
/* The `shutdown` export: SHUT_WR once everything queued is sent. */
int32_t zl_send_shutdown(zl_conn *c);
/* What the next send of `c` would carry, in `iov` (ZL_SEND_MAX_IOV entries):
 * how many ranges, 0 when nothing may be sent now. */
uint32_t zl_send_gather(const zl_conn *c, zl_slab_range *iov, uint32_t *total_bytes);
/* The flush queued a send of `total_bytes` for `c`. */
void zl_send_started(zl_conn *c, uint32_t total_bytes);
void zl_send_on_cqe(zl_conn *c, const struct io_uring_cqe *cqe);

#endif
