/* zl_work.c — the work list, the starved list and the flush. */
#include <stdlib.h>
#include "zl_work.h"
#include "zl_accept.h"
#include "zl_assert.h"
#include "zl_bufring.h"
#include "zl_close.h"
#include "zl_recv.h"
#include "zl_reactor.h"
#include "zl_send.h"
#include "zl_sq.h"

/* Conn slots with work; each live conn at most once, so `cap` (the conn
 * table's capacity) always suffices. */
static struct {
    uint32_t *v;
    uint32_t n, cap;
} work;

int32_t zl_work_init(uint32_t slots) {
    ZL_ASSERT(work.v == NULL);
    work.v = malloc((size_t)slots * sizeof(uint32_t));
    work.n = 0;
    work.cap = slots;
    return work.v ? 0 : -ZL_ENOMEM;
}

void zl_work_fini(void) {
    free(work.v);
    work.v = NULL;
    work.n = work.cap = 0;
}

void zl_work_add(zl_conn *c, uint32_t w) {
    c->work |= w;
    if (c->flags & ZL_CF_IN_WORK)
        return;
    ZL_ASSERT(work.n < work.cap);
    work.v[work.n++] = zl_conn_slot(c);
    c->flags |= ZL_CF_IN_WORK;
}

/* Prepares what `c` needs; returns the work left undone (SQ exhausted). */
static uint32_t prepare(zl_conn *c) {
    uint32_t w = c->work;
    c->work = 0;
    if (c->state != ZL_CS_OPEN && c->state != ZL_CS_CLOSING)
        return 0;
    if (w & ZL_W_CANCEL_RECV) {
        if (c->flags & ZL_CF_RECV_ARMED) {
            if (zl_close_prep_cancel(c, ZL_K_RECV) < 0)
                return w;
            c->flags |= ZL_CF_RECV_CANCEL;
        }
        w &= ~ZL_W_CANCEL_RECV;
    }
    if (w & ZL_W_CANCEL_SEND) {
        if ((c->flags & ZL_CF_SEND_INFLIGHT) && zl_close_prep_cancel(c, ZL_K_SEND) < 0)
            return w;
        w &= ~ZL_W_CANCEL_SEND;
    }
    if (w & ZL_W_ARM_RECV) {
        if (zl_recv_prep(c) < 0)
            return w;
        w &= ~ZL_W_ARM_RECV;
    }
    if (w & ZL_W_SEND) {
        if (zl_send_prep(c) < 0)
            return w;
        w &= ~ZL_W_SEND;
    }
    return w;
}

int32_t zl_work_flush(void) {
    zl_buf_flush();
    zl_accept_prep();
    /* Handlers run from prepare() (a failed prep closes the conn) may list more
     * conns: they are appended and handled in this same pass. */
    uint32_t k = 0;
    for (uint32_t i = 0; i < work.n; i++) {
        zl_conn *c = zl_conn_at(work.v[i]);
        uint32_t left = prepare(c);
        c->work |= left; /* plus work a handler added while preparing */
        if (c->work && (c->state == ZL_CS_OPEN || c->state == ZL_CS_CLOSING)) {
            work.v[k++] = work.v[i]; /* k <= i: compaction in place */
        } else {
            c->flags &= ~ZL_CF_IN_WORK;
        }
    }
    work.n = k;
    /* A send that failed to prepare closes and retires its conn, which returns
     * buffers: publish them now rather than a tick later. */
    zl_buf_flush();
    return zl_sq_submit();
}

bool zl_work_pending(void) {
    return work.n > 0 || zl_r.sq_pending > 0 || zl_buf_publishable() > 0;
}
