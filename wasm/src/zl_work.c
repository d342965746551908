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

typedef struct zl_list32 {
    uint32_t *v;
    uint32_t n, cap;
} zl_list32;

static zl_list32 work, starved;

static int push(zl_list32 *l, uint32_t x) {
    if (l->n == l->cap) {
        uint32_t ncap = l->cap ? l->cap * 2 : 256;
        uint32_t *nv = realloc(l->v, ncap * sizeof(uint32_t));
        if (!nv)
            return -1;
        l->v = nv;
        l->cap = ncap;
    }
    l->v[l->n++] = x;
    return 0;
}

int32_t zl_work_init(void) {
    work.n = starved.n = 0;
    return 0;
}

void zl_work_fini(void) {
    free(work.v);
    free(starved.v);
    work = (zl_list32){0};
    starved = (zl_list32){0};
}

void zl_work_add(zl_conn *c, uint32_t w) {
    c->work |= w;
    if (c->flags & ZL_CF_IN_WORK)
        return;
    /* Each live conn is listed at most once, so the list never outgrows the
     * table; a failed push is out of memory, and dropping work would hang it. */
    ZL_ASSERT(push(&work, zl_conn_slot(c)) == 0);
    c->flags |= ZL_CF_IN_WORK;
}

void zl_work_starve(zl_conn *c) {
    c->flags |= ZL_CF_STARVED;
    if (c->flags & ZL_CF_IN_STARVED)
        return;
    ZL_ASSERT(push(&starved, zl_conn_slot(c)) == 0);
    c->flags |= ZL_CF_IN_STARVED;
}

static void rearm_starved(void) {
    /* Our count may run ahead of the kernel's (CQEs not reaped yet): then the
     * re-armed recv ends with -ENOBUFS again and waits for the next return. */
    if (starved.n == 0 || zl_buf_count(ZL_BUF_KERNEL) == 0)
        return;
    for (uint32_t i = 0; i < starved.n; i++) {
        zl_conn *c = zl_conn_at(starved.v[i]);
        c->flags &= ~ZL_CF_IN_STARVED;
        if (c->state == ZL_CS_OPEN && (c->flags & ZL_CF_STARVED)) {
            c->flags &= ~ZL_CF_STARVED;
            zl_work_add(c, ZL_W_ARM_RECV);
        }
    }
    starved.n = 0;
}

/* Prepares what `c` needs; returns the work left undone (SQ exhausted). */
static uint32_t prepare(zl_conn *c) {
    uint32_t w = c->work;
    c->work = 0;
    if (c->state != ZL_CS_OPEN && c->state != ZL_CS_CLOSING)
        return 0;
    if (w & ZL_W_CANCEL_RECV) {
        if ((c->flags & ZL_CF_RECV_ARMED) && zl_close_prep_cancel(c, ZL_K_RECV) < 0)
            return w;
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
    rearm_starved();
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
