/* zl_recv.c — recv CQEs become data/eof events; the multishot recv is re-armed
 * when the kernel ends it, parked on -ENOBUFS until buffers come back (the
 * kernel did not take the bytes off the socket, so none is lost), and left
 * unarmed while the connection is over its receive budget (zl_budget.h). */
#include "zl_recv.h"
#include "zl_assert.h"
#include "zl_budget.h"
#include "zl_bufring.h"
#include "zl_close.h"
#include "zl_events.h"
#include "zl_work.h"

static zl_recv_counters R;

void zl_recv_fini(void) { R = (zl_recv_counters){0}; }
const zl_recv_counters *zl_recv_counters_view(void) { return &R; }

bool zl_recv_wants_arm(const zl_conn *c) {
    return c->state == ZL_CS_OPEN && !(c->flags & (ZL_CF_RECV_ARMED | ZL_CF_EOF | ZL_CF_STARVED | ZL_CF_PAUSED));
}

void zl_recv_armed(zl_conn *c, bool oneshot) {
    ZL_ASSERT(zl_recv_wants_arm(c));
    c->flags |= ZL_CF_RECV_ARMED | (oneshot ? ZL_CF_RECV_ONESHOT : 0);
    zl_budget_recv_armed(c);
}

void zl_recv_cancel_queued(zl_conn *c) {
    ZL_ASSERT(c->flags & ZL_CF_RECV_ARMED); /* a cancel only ever targets an armed recv */
    c->flags |= ZL_CF_RECV_CANCEL;
}

/* Accounts for the buffer a CQE carries (charging `c` when it delivers);
 * returns its slab offset. */
static uint32_t take_buffer(const struct io_uring_cqe *cqe, zl_conn *c, bool deliver) {
    uint32_t bid = cqe->flags >> ZL_CQE_BUFFER_SHIFT;
    uint32_t len = cqe->res > 0 ? (uint32_t)cqe->res : 0;
    bool charged;
    uint32_t off = zl_buf_consume(bid, len, (cqe->flags & ZL_CQE_F_BUF_MORE) != 0, deliver,
                                  deliver ? zl_conn_slot(c) : ZL_BUF_NO_OWNER, deliver ? c->epoch : 0, &charged);
    if (charged)
        zl_budget_charge(c);
    return off;
}

void zl_recv_drop(const struct io_uring_cqe *cqe) {
    if (cqe->flags & ZL_CQE_F_BUFFER)
        take_buffer(cqe, NULL, false);
}

void zl_recv_on_cqe(zl_conn *c, const struct io_uring_cqe *cqe) {
    /* One multishot recv per conn: a recv CQE for a conn without one is a
     * token or bookkeeping error. */
    ZL_ASSERT(c->flags & ZL_CF_RECV_ARMED);
    int32_t res = cqe->res;
    bool more = (cqe->flags & ZL_CQE_F_MORE) != 0;
    bool open = c->state == ZL_CS_OPEN;

    if (cqe->flags & ZL_CQE_F_BUFFER) {
        bool deliver = res > 0 && open;
#ifdef ZL_FAULT_TRAP_RECV_LEN
        /* The trapping core: proves the TS layer survives a core bug. */
        ZL_ASSERT(res != ZL_FAULT_TRAP_RECV_LEN);
#endif
        uint32_t off = take_buffer(cqe, c, deliver);
        if (res > 0) {
            R.received_bytes += (uint32_t)res;
            c->flags |= ZL_CF_ACTIVE;
        }
        if (deliver)
            zl_ev_push(ZL_EV_DATA, zl_conn_slot(c), cqe->flags >> ZL_CQE_BUFFER_SHIFT, off, (uint32_t)res);
    } else {
        ZL_ASSERT(res <= 0); /* bytes without a buffer cannot happen with buffer select */
    }
    bool cancelled = (c->flags & ZL_CF_RECV_CANCEL) != 0;
    if (!more) {
        zl_budget_recv_ended(c);
        c->flags &= ~(ZL_CF_RECV_ARMED | ZL_CF_RECV_CANCEL | ZL_CF_RECV_ONESHOT);
    }

    if (res == 0) {
        if (open && !(c->flags & ZL_CF_EOF)) {
            c->flags |= ZL_CF_EOF;
            zl_ev_push(ZL_EV_EOF, zl_conn_slot(c), 0, 0, 0);
        }
    } else if (res == -ZL_ENOBUFS) {
        R.enobufs++;
        zl_buf_starved();
        if (!more && open)
            zl_budget_starve(c);
    } else if (res == -ZL_ECANCELED && (cancelled || !open)) {
        /* We cancelled it, to close or to pause: not an error. */
    } else if (res < 0) {
        if (open)
            zl_close_begin(c, true, -res);
    } else if (open) {
        zl_budget_check(c, zl_buf_free_count());
    }

    if (c->state == ZL_CS_OPEN) {
        if (zl_recv_wants_arm(c))
            zl_work_add(c, ZL_W_ARM_RECV); /* multishot ended without F_MORE */
    } else {
        zl_close_check(c);
    }
}
