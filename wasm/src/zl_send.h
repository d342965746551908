/* zl_send.h — per-connection write FIFO, one send in flight, gathered sends. */
#ifndef ZL_SEND_H
#define ZL_SEND_H

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

/* The range pool holds `ranges` entries, fixed at create(). */
int32_t zl_send_init(uint32_t ranges);
void zl_send_fini(void);
/* Queues a range after everything queued before it. 0 or -errno (-ENOBUFS:
 * this conn's share or the pool is used up; retry after a `sent`). */
int32_t zl_send_write(zl_conn *c, uint32_t slab, uint32_t off, uint32_t len);
/* Prepares one send of the queue head (flush). 0, or -errno: no SQE. */
int32_t zl_send_prep(zl_conn *c);
void zl_send_on_cqe(zl_conn *c, const struct io_uring_cqe *cqe);
/* Drops every queued range (nothing may be in flight). */
void zl_send_drop_queue(zl_conn *c);
/* SHUT_WR now if asked and nothing is left to send. */
void zl_send_maybe_shutdown(zl_conn *c);

#endif
