/* zl_bufring.c — provided-buffer bookkeeping (states in zl_bufring.h). */
#include <stdlib.h>
#include "zl_bufring.h"
#include "zl_assert.h"
#include "zl_budget.h"
#include "zl_host.h"

static struct {
    uint32_t ring;
    int32_t br;
    int32_t slab;
    uint32_t entries, size, mask, bgid;
    bool inc;
    zl_buf *bufs;
    uint32_t *ret; /* bids waiting for a flush, a stack: the top was returned last; each bid at most once */
    uint32_t nret;
    uint32_t warm; /* the kernel's ring holds at most this many (zl_bufring.h) */
    bool grow;     /* the kernel ran low since the last flush */
    uint32_t count[4]; /* by state */
} B = {.br = -1, .slab = -1};

static void check_counts(void) {
    ZL_ASSERT(B.count[ZL_BUF_KERNEL] + B.count[ZL_BUF_APP] + B.count[ZL_BUF_RETURNING] == B.entries);
    ZL_ASSERT(B.count[ZL_BUF_RETURNING] == B.nret);
}

static void set_state(zl_buf *b, uint32_t to) {
    ZL_ASSERT(B.count[b->state] > 0);
    B.count[b->state]--;
    B.count[to]++;
    b->state = to;
}

/* Kernel done and no reference left: queue it for the next flush. */
static void maybe_return(uint32_t bid) {
    zl_buf *b = &B.bufs[bid];
    if (b->refs != 0)
        return;
    ZL_ASSERT(b->state == ZL_BUF_APP);
    set_state(b, ZL_BUF_RETURNING);
    if (b->owner != ZL_BUF_NO_OWNER) {
        zl_budget_uncharge(b->owner, b->owner_epoch);
        b->owner = ZL_BUF_NO_OWNER;
    }
    ZL_ASSERT(B.nret < B.entries);
    B.ret[B.nret++] = bid;
}

void zl_buf_fini(void) {
    /* The ring's destruction releases its buffer rings (host.wit); the slab must
     * outlive the ring because armed recvs may still write into it. */
    if (B.slab >= 0)
        zl_slab_destroy((uint32_t)B.slab);
    free(B.bufs);
    free(B.ret);
    B.bufs = NULL;
    B.ret = NULL;
    B.br = B.slab = -1;
    B.nret = B.entries = B.warm = 0;
    B.grow = false;
    for (int i = 0; i < 4; i++)
        B.count[i] = 0;
}

int32_t zl_buf_init(uint32_t ring, uint32_t entries, uint32_t size, uint32_t bgid, bool incremental) {
    if (entries == 0 || (entries & (entries - 1)) || entries > 32768 || size == 0 ||
        (uint64_t)entries * size > 0x7FFFFFFFull || bgid > 0xFFFF)
        return -ZL_EINVAL;
    B.ring = ring;
    B.entries = entries;
    B.size = size;
    B.mask = entries - 1;
    B.bgid = bgid;
    B.inc = incremental;
    B.bufs = calloc(entries, sizeof(zl_buf));
    B.ret = malloc(entries * sizeof(uint32_t));
    if (!B.bufs || !B.ret) {
        zl_buf_fini();
        return -ZL_ENOMEM;
    }
    B.slab = zl_slab_create(entries * size);
    if (B.slab < 0) {
        int32_t e = B.slab;
        zl_buf_fini();
        return e;
    }
    B.br = zl_setup_buf_ring(ring, entries, bgid, incremental ? ZL_PBUF_RING_INC : 0);
    if (B.br < 0) {
        int32_t e = B.br;
        zl_buf_fini();
        return e;
    }
    /* Only the warm set goes in now, and no more than the budget lets the
     * kernel have; the rest (the reserve, the cold buffers) waits as
     * RETURNING, the lowest bid on top of the stack, for a later flush. */
    uint32_t first = zl_budget_publish_limit(entries);
    ZL_ASSERT(first > 0 && first <= entries);
    B.warm = entries < ZL_BUF_WARM_START ? entries : ZL_BUF_WARM_START;
    B.grow = false;
    if (first > B.warm)
        first = B.warm;
    for (uint32_t i = entries; i-- > first;) {
        B.bufs[i].state = ZL_BUF_RETURNING;
        B.bufs[i].owner = ZL_BUF_NO_OWNER;
        B.ret[B.nret++] = i;
    }
    B.count[ZL_BUF_RETURNING] = entries - first;
    for (uint32_t i = 0; i < first; i++) {
        int32_t r = zl_buf_ring_add((uint32_t)B.br, (uint32_t)B.slab, i * size, size, i, B.mask, i);
        if (r < 0) {
            zl_free_buf_ring(ring, (uint32_t)B.br);
            zl_buf_fini();
            return r;
        }
        B.bufs[i].state = ZL_BUF_KERNEL;
        B.bufs[i].owner = ZL_BUF_NO_OWNER;
    }
    B.count[ZL_BUF_KERNEL] = first;
    int32_t r = zl_buf_ring_advance((uint32_t)B.br, first);
    if (r < 0) {
        zl_free_buf_ring(ring, (uint32_t)B.br);
        zl_buf_fini();
        return r;
    }
    return 0;
}

uint32_t zl_buf_slab(void) { return (uint32_t)B.slab; }
uint32_t zl_buf_group(void) { return B.bgid; }
uint32_t zl_buf_free_count(void) { return B.count[ZL_BUF_KERNEL] + B.count[ZL_BUF_RETURNING]; }

uint32_t zl_buf_consume(uint32_t bid, uint32_t len, bool buf_more, bool take_ref, uint32_t owner,
                        uint32_t epoch, bool *charged) {
    *charged = false;
    ZL_ASSERT(bid < B.entries);
    zl_buf *b = &B.bufs[bid];
    /* The kernel can only fill a buffer we published. */
    ZL_ASSERT(b->state == ZL_BUF_KERNEL);
    uint32_t off = B.inc ? b->off : 0;
    ZL_ASSERT(len <= B.size - off);
    if (B.inc)
        b->off += len;
    if (take_ref)
        b->refs++;
    /* Without IOU_PBUF_RING_INC every CQE consumes its whole buffer. */
    if (!B.inc || !buf_more) {
        ZL_ASSERT(b->owner == ZL_BUF_NO_OWNER); /* a charge ends when the buffer returns */
        set_state(b, ZL_BUF_APP);
        /* Three quarters of the warm set used up before a flush refilled it:
         * the next burst could empty the ring. */
        if (B.count[ZL_BUF_KERNEL] < B.warm / 4)
            B.grow = true;
        if (b->refs > 0 && owner != ZL_BUF_NO_OWNER) {
            /* Incremental: the conn whose recv finished the buffer is charged
             * for all of it (earlier slices may be other conns'). */
            b->owner = owner;
            b->owner_epoch = epoch;
            *charged = true;
        }
        maybe_return(bid);
    }
    check_counts();
    return bid * B.size + off;
}

int32_t zl_buf_ref_range(uint32_t off, uint32_t len) {
    if (B.bufs == NULL || len == 0)
        return -ZL_EINVAL;
    uint32_t bid = off / B.size;
    if (bid >= B.entries || len > (bid + 1) * B.size - off)
        return -ZL_EINVAL;
    zl_buf *b = &B.bufs[bid];
    /* Only bytes the app was given may be written out: a buffer nobody holds
     * may be refilled by the kernel while the send reads it. */
    if (b->refs == 0 || b->state == ZL_BUF_RETURNING)
        return -ZL_EINVAL;
    b->refs++;
    return (int32_t)bid;
}

void zl_buf_unref(uint32_t bid) {
    ZL_ASSERT(bid < B.entries);
    zl_buf *b = &B.bufs[bid];
    ZL_ASSERT(b->refs > 0 && b->state != ZL_BUF_RETURNING);
    b->refs--;
    if (b->state == ZL_BUF_APP)
        maybe_return(bid);
    check_counts();
}

int32_t zl_buf_release(uint32_t bid) {
    if (B.bufs == NULL || bid >= B.entries || B.bufs[bid].refs == 0)
        return -ZL_EINVAL;
    zl_buf_unref(bid);
    return 0;
}

void zl_buf_starved(void) { B.grow = true; }
uint32_t zl_buf_warm(void) { return B.warm; }

uint32_t zl_buf_publishable(void) {
    uint32_t limit = zl_budget_publish_limit(B.entries);
    uint32_t used = B.count[ZL_BUF_KERNEL] + B.count[ZL_BUF_APP];
    uint32_t room = limit > used ? limit - used : 0;
    uint32_t kernel = B.count[ZL_BUF_KERNEL];
    uint32_t warm_room = B.warm > kernel ? B.warm - kernel : 0;
    if (warm_room < room)
        room = warm_room;
    return B.nret < room ? B.nret : room;
}

uint32_t zl_buf_flush(void) {
    if (B.grow) {
        B.grow = false;
        B.warm = B.warm * 2 < B.entries ? B.warm * 2 : B.entries;
    }
    ZL_ASSERT(B.warm >= 1 && B.warm <= B.entries);
    uint32_t n = zl_buf_publishable();
    if (n == 0)
        return 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t bid = B.ret[B.nret - 1 - i]; /* the last returned first: its pages are resident */
        zl_buf *b = &B.bufs[bid];
        ZL_ASSERT(b->state == ZL_BUF_RETURNING && b->refs == 0);
        int32_t r = zl_buf_ring_add((uint32_t)B.br, (uint32_t)B.slab, bid * B.size, B.size, bid, B.mask, i);
        ZL_ASSERT(r >= 0); /* our ranges are always inside the slab */
        b->off = 0;
        ZL_ASSERT(b->owner == ZL_BUF_NO_OWNER);
        set_state(b, ZL_BUF_KERNEL);
    }
    B.nret -= n;
    int32_t r = zl_buf_ring_advance((uint32_t)B.br, n);
    ZL_ASSERT(r >= 0);
    check_counts();
    return n;
}

uint32_t zl_buf_count(uint32_t state) {
    ZL_ASSERT(state < 4);
    return B.count[state];
}
