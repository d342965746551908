/* zl_close.c — connection teardown (see zl_close.h). */
#include "zl_close.h"
#include "zl_assert.h"
#include "zl_budget.h"
#include "zl_events.h"
#include "zl_reactor.h"
#include "zl_send.h"
#include "zl_sq.h"
#include "zl_work.h"

/* Closes the fd as soon as no SQE of ours can name it any more: every prepared
 * SQE is submitted (a request resolves its fd at submit and holds the file from
 * then on) and no further send will be prepared. The requests still in flight
 * end by their cancels; their CQEs find this conn by (fd, generation) even once
 * the kernel has handed the number to a new connection. */
static void close_fd_early(zl_conn *c) {
    if (c->state != ZL_CS_CLOSING || (c->flags & ZL_CF_FD_CLOSED) || zl_r.sq_pending != 0)
        return;
    if (!(c->flags & ZL_CF_ABORT) && (c->q_head != ZL_NIL || (c->flags & ZL_CF_SEND_INFLIGHT)))
        return; /* graceful: queued bytes still have to go out through this fd */
    zl_close(c->fd);
    zl_conn_detach(c);
}

void zl_close_begin(zl_conn *c, bool abort, int32_t err) {
    if (c->state != ZL_CS_OPEN && c->state != ZL_CS_CLOSING)
        return;
    if (err != 0 && c->err == 0)
        c->err = err;
    if (c->state == ZL_CS_OPEN) {
        c->state = ZL_CS_CLOSING;
        zl_budget_forget(c); /* not paused or starved any more: closing */
        if (c->flags & ZL_CF_RECV_ARMED)
            zl_work_add(c, ZL_W_CANCEL_RECV);
    }
    if (abort && !(c->flags & ZL_CF_ABORT)) {
        c->flags |= ZL_CF_ABORT;
        if (c->flags & ZL_CF_SEND_INFLIGHT)
            zl_work_add(c, ZL_W_CANCEL_SEND);
    }
    zl_close_check(c);
}

void zl_close_check(zl_conn *c) {
    if (c->state != ZL_CS_CLOSING)
        return;
    close_fd_early(c);
    if (c->flags & (ZL_CF_RECV_ARMED | ZL_CF_SEND_INFLIGHT))
        return;
    if (!(c->flags & ZL_CF_ABORT) && c->q_head != ZL_NIL)
        return; /* graceful: the queue drains first */
    /* Only now: an in-flight send may read the queued ranges until its CQE. */
    zl_send_drop_queue(c);
    if (!(c->flags & ZL_CF_FD_CLOSED))
        zl_close(c->fd);
    uint32_t slot = zl_conn_slot(c);
    int32_t err = c->err;
    zl_conn_retire(c);
    zl_r.closed++;
    zl_ev_push(ZL_EV_CLOSED, slot, (uint32_t)err, 0, 0);
}

int32_t zl_close_prep_cancel(zl_conn *c, zl_kind kind) {
    int32_t sqe = zl_sq_get();
    if (sqe < 0)
        return sqe;
    int32_t r = zl_prep_cancel64((uint32_t)sqe, zl_token_pack(kind, c->gen, c->fd), 0);
    ZL_ASSERT(r >= 0);
    zl_sq_commit(sqe, zl_token_pack(ZL_K_CANCEL, c->gen, c->fd));
    return 0;
}

void zl_close_on_cancel_cqe(const zl_token *t, const struct io_uring_cqe *cqe) {
    /* 0: cancelled; -ENOENT: it had already finished (its last CQE is on its way
     * or was reaped). -EALREADY: it is running and may not stop by itself; a
     * SHUT_RD wakes a recv with 0. */
    if (cqe->res != -ZL_EALREADY)
        return;
    zl_conn *c = zl_conn_find(t->fd, t->gen, true);
    if (c && c->state == ZL_CS_OPEN && (c->flags & ZL_CF_RECV_ARMED) &&
        ((c->flags & ZL_CF_PAUSED) || (zl_budget_pressure() && !(c->flags & ZL_CF_RECV_ONESHOT)))) {
        /* A paused recv, or a multishot one under pressure, must end (the
         * reserve waits for it): the cancel found it running, try again. */
        zl_work_add(c, ZL_W_CANCEL_RECV);
        return;
    }
    if (c && c->state == ZL_CS_CLOSING && (c->flags & ZL_CF_RECV_ARMED) && !(c->flags & ZL_CF_FD_CLOSED))
        zl_shutdown(c->fd, 0 /* SHUT_RD */);
}

void zl_close_all_now(void) {
    uint32_t span = zl_conn_span();
    for (uint32_t s = 0; s < span; s++) {
        zl_conn *c = zl_conn_get(s);
        if (!c)
            continue;
        if (!(c->flags & ZL_CF_FD_CLOSED)) {
            zl_close(c->fd);
            zl_fd_release(c->fd);
        }
        c->state = ZL_CS_FREE;
    }
}
