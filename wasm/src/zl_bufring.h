/* zl_bufring.h — ownership of every provided buffer of the recv slab.
 *
 * Buffer `bid` is bytes [bid * size, (bid + 1) * size) of the recv slab.
 *   KERNEL     in the buffer ring. With IOU_PBUF_RING_INC the kernel may have
 *              filled a prefix already (`off`) and the app may hold references
 *              on that prefix while the kernel keeps filling the rest.
 *   APP        the kernel is done with it (a CQE without IORING_CQE_F_BUF_MORE)
 *              and references are held (data events not released, or queued
 *              writes of its bytes).
 *   RETURNING  done and unreferenced: queued for buf-ring-add; published by the
 *              single buf-ring-advance of the next flush.
 * Transitions: KERNEL -> APP | RETURNING (kernel done), APP -> RETURNING
 * (last reference dropped), RETURNING -> KERNEL (flush). Anything else traps.
 *
 * The warm set: the kernel's ring holds at most `warm` buffers, and a flush
 * publishes the most recently returned first, so a buffer that was never
 * needed is never touched (its pages stay uncommitted: 512 x 32 KiB of slab
 * cost one page per buffer used, even for 64-byte messages). `warm` starts
 * at ZL_BUF_WARM_START and doubles, up to the ring (the budget still caps each flush), whenever
 * the kernel's share ran low between flushes or a recv found the ring empty.
 */
#ifndef ZL_BUFRING_H
#define ZL_BUFRING_H

#include <stdbool.h>
#include <stdint.h>

enum { ZL_BUF_KERNEL = 1, ZL_BUF_APP = 2, ZL_BUF_RETURNING = 3 };

/* The warm set a ring starts with (or all its entries, if fewer). Overridable
 * for A/B runs (ZL_CFLAGS=-DZL_BUF_WARM_START=32768u: every buffer warm). */
#ifndef ZL_BUF_WARM_START
#define ZL_BUF_WARM_START 64u
#endif

typedef struct zl_buf {
    uint32_t off;   /* bytes the kernel has filled (incremental mode) */
    uint32_t refs;  /* app references + queued-write references */
    uint32_t state; /* ZL_BUF_* */
    uint32_t owner; /* APP: the conn slot charged for it (zl_budget.h), or ZL_BUF_NO_OWNER */
    uint32_t owner_epoch;
} zl_buf;
_Static_assert(sizeof(zl_buf) == 20, "zl_buf is 20 bytes");

#define ZL_BUF_NO_OWNER 0xFFFFFFFFu

/* Creates the recv slab, registers the ring and hands every buffer to the kernel.
 * 0 or -errno (everything created is undone on failure). */
int32_t zl_buf_init(uint32_t ring, uint32_t entries, uint32_t size, uint32_t bgid, bool incremental);
void zl_buf_fini(void);

uint32_t zl_buf_slab(void);
uint32_t zl_buf_group(void);

/* A recv CQE reported `len` bytes in buffer `bid` (`buf_more`: F_BUF_MORE).
 * `take_ref`: the bytes go to the app as a data event. When this leaves the
 * buffer done and referenced, it is charged to (owner, epoch) and `*charged` is
 * set; the charge is dropped (zl_budget_uncharge) with the last reference.
 * Returns the offset of the bytes in the recv slab. */
uint32_t zl_buf_consume(uint32_t bid, uint32_t len, bool buf_more, bool take_ref, uint32_t owner,
                        uint32_t epoch, bool *charged);
/* Buffers no connection holds: with the kernel or on their way back. */
uint32_t zl_buf_free_count(void);

/* A write of recv-slab bytes [off, off + len): takes a reference on the buffer
 * holding them. The buffer index, or -EINVAL if the range is not inside one
 * buffer the app holds. `slab` must be the recv slab. */
int32_t zl_buf_ref_range(uint32_t off, uint32_t len);
/* Drops a reference the core took (queued write). Traps on underflow. */
void zl_buf_unref(uint32_t bid);
/* The app's release: -EINVAL when it holds no reference on `bid`. */
int32_t zl_buf_release(uint32_t bid);

/* Publishes every RETURNING buffer: n buf-ring-add, one buf-ring-advance.
 * Returns how many were published. */
uint32_t zl_buf_flush(void);
/* A recv ended with -ENOBUFS: the warm set grows at the next flush. */
void zl_buf_starved(void);
/* The warm set's size (ZL_BUF_WARM_START .. entries). */
uint32_t zl_buf_warm(void);
/* How many RETURNING buffers the next flush would publish (the reserve and
 * buffers beyond the warm set wait). */
uint32_t zl_buf_publishable(void);

uint32_t zl_buf_count(uint32_t state);

#endif
