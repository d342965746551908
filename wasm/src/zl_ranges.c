/* zl_ranges.c — the send-range pool (see zl_ranges.h). A free list over a
 * bump allocator: nodes past `used` were never touched, so a pool sized for
 * the worst case costs only the pages a busy server reaches. */
#include <stdlib.h>
#include "zl_ranges.h"
#include "zl_assert.h"

typedef struct zl_range {
    uint32_t slab;
    uint32_t offset;
    uint32_t len_bytes;
    int32_t bid;
    uint32_t next;
} zl_range;
_Static_assert(sizeof(zl_range) == 20, "zl_range is 20 bytes");

static struct {
    zl_range *r;
    uint32_t capacity, used, free_head;
    uint32_t queued; /* ranges in some queue: paired with every queue's count */
} P = {.free_head = ZL_RANGES_NIL};

int32_t zl_ranges_init(uint32_t capacity) {
    ZL_ASSERT(P.r == NULL && capacity > 0);
    P.capacity = capacity;
    P.used = 0;
    P.queued = 0;
    P.free_head = ZL_RANGES_NIL;
    P.r = malloc(P.capacity * sizeof(zl_range));
    return P.r ? 0 : -ZL_ENOMEM;
}

void zl_ranges_fini(void) {
    free(P.r);
    P.r = NULL;
    P.capacity = P.used = P.queued = 0;
    P.free_head = ZL_RANGES_NIL;
}

void zl_ranges_queue_init(zl_range_queue *q) {
    q->head = q->tail = ZL_RANGES_NIL;
    q->count = 0;
}

bool zl_ranges_empty(const zl_range_queue *q) {
    ZL_ASSERT((q->head == ZL_RANGES_NIL) == (q->count == 0));
    return q->head == ZL_RANGES_NIL;
}

static uint32_t node_alloc(void) {
    if (P.free_head != ZL_RANGES_NIL) {
        uint32_t i = P.free_head;
        P.free_head = P.r[i].next;
        return i;
    }
    if (P.used == P.capacity)
        return ZL_RANGES_NIL;
    return P.used++;
}

int32_t zl_ranges_push(zl_range_queue *q, uint32_t slab, uint32_t offset, uint32_t len_bytes, int32_t bid) {
    ZL_ASSERT(len_bytes > 0);
    uint32_t i = node_alloc();
    if (i == ZL_RANGES_NIL)
        return -ZL_ENOBUFS;
    P.r[i] = (zl_range){.slab = slab, .offset = offset, .len_bytes = len_bytes, .bid = bid, .next = ZL_RANGES_NIL};
    if (q->tail == ZL_RANGES_NIL)
        q->head = i;
    else
        P.r[q->tail].next = i;
    q->tail = i;
    q->count++;
    P.queued++;
    ZL_ASSERT(P.queued <= P.used);
    return 0;
}

uint32_t zl_ranges_head_len_bytes(const zl_range_queue *q) {
    ZL_ASSERT(q->head != ZL_RANGES_NIL);
    return P.r[q->head].len_bytes;
}

int32_t zl_ranges_pop(zl_range_queue *q) {
    uint32_t i = q->head;
    ZL_ASSERT(i != ZL_RANGES_NIL && q->count > 0 && P.queued > 0);
    zl_range *r = &P.r[i];
    q->head = r->next;
    if (q->head == ZL_RANGES_NIL)
        q->tail = ZL_RANGES_NIL;
    q->count--;
    P.queued--;
    int32_t bid = r->bid;
    r->next = P.free_head;
    P.free_head = i;
    return bid;
}

uint32_t zl_ranges_gather(const zl_range_queue *q, uint32_t skip_bytes, zl_slab_range *iov, uint32_t iov_max,
                          uint32_t total_max_bytes, uint32_t *total_bytes) {
    uint32_t n = 0, total = 0, skip = skip_bytes;
    for (uint32_t i = q->head; i != ZL_RANGES_NIL && n < iov_max && total < total_max_bytes; i = P.r[i].next) {
        zl_range *r = &P.r[i];
        ZL_ASSERT(skip < r->len_bytes); /* the sent part of the head is never all of it */
        uint32_t len = r->len_bytes - skip;
        if (len > total_max_bytes - total)
            len = total_max_bytes - total;
        iov[n++] = (zl_slab_range){.slab = r->slab, .offset = r->offset + skip, .len = len};
        total += len;
        skip = 0;
    }
    *total_bytes = total;
    return n;
}
