/* zl_cancel.c — a cancel's CQE: only -EALREADY needs anything done. */
#include "zl_cancel.h"
#include "zl_budget.h"
#include "zl_conn.h"
#include "zl_work.h"

void zl_cancel_on_cqe(const zl_token *t, const struct io_uring_cqe *cqe) {
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
