/* zl_ranges.h — the send-range FIFO: every connection's queued writes as
 * (slab, offset, length) ranges in one pool sized at create(), so a write
 * never mallocs and the pool cannot grow. A leaf: it knows queues, not
 * connections; a popped range hands back the recv buffer it referenced and
 * the caller drops that reference. */
#ifndef ZL_RANGES_H
#define ZL_RANGES_H

#include <stdbool.h>
#include <stdint.h>
#include "zl_host.h"

#define ZL_RANGES_NIL 0xFFFFFFFFu

/* One connection's FIFO: indices into the pool, ZL_RANGES_NIL when empty. */
typedef struct zl_range_queue {
    uint32_t head;
    uint32_t tail;
    uint32_t count;
} zl_range_queue;
_Static_assert(sizeof(zl_range_queue) == 12, "zl_range_queue is 12 bytes");

/* 0 or -ENOMEM. */
int32_t zl_ranges_init(uint32_t capacity);
void zl_ranges_fini(void);

void zl_ranges_queue_init(zl_range_queue *q);
bool zl_ranges_empty(const zl_range_queue *q);
/* Appends a range; `bid`: the recv buffer it holds a reference on, or -1.
 * 0, or -ENOBUFS when the pool is used up. */
int32_t zl_ranges_push(zl_range_queue *q, uint32_t slab, uint32_t offset, uint32_t len_bytes, int32_t bid);
uint32_t zl_ranges_head_len_bytes(const zl_range_queue *q);
/* Unlinks the head range; returns the recv buffer it referenced, or -1. */
int32_t zl_ranges_pop(zl_range_queue *q);
/* Up to `iov_max` ranges from the head, the first `skip_bytes` of the head
 * left out, at most `total_max_bytes` together. Returns how many. */
uint32_t zl_ranges_gather(const zl_range_queue *q, uint32_t skip_bytes, zl_slab_range *iov, uint32_t iov_max,
                          uint32_t total_max_bytes, uint32_t *total_bytes);

#endif
