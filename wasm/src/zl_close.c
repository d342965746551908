/* zl_close.c — connection teardown (see zl_close.h). */
#include "zl_close.h"
#include "zl_assert.h"
#include "zl_budget.h"
#include "zl_bufring.h"
#include "zl_events.h"
#include "zl_host.h"
#include "zl_sq.h"
#include "zl_work.h"

static zl_close_counters K;

void zl_close_fini(void) { K = (zl_close_counters){0}; }
const zl_close_counters *zl_close_counters_view(void) { return &K; }

/* Closes the fd as soon as no SQE of ours can name it any more: every queued
 * SQE is submitted (a request resolves its fd at submit and holds the file from
 * then on) and no further send will be queued. The requests still in flight
 * end by their cancels; their CQEs find this conn by (fd, generation) even once
 * the kernel has handed the number to a new connection. */
static void close_fd_early(zl_conn *c) {
    if (c->state != ZL_CS_CLOSING || (c->flags & ZL_CF_FD_CLOSED) || zl_sq_pending() != 0)
        return;
    if (!(c->flags & ZL_CF_ABORT) && (!zl_ranges_empty(&c->q) || (c->flags & ZL_CF_SEND_INFLIGHT)))
        return; /* graceful: queued bytes still have to go out through this fd */
    zl_close(c->fd);
    zl_conn_detach(c);
}

/* Only once no send is in flight: it may read the queued ranges until its CQE. */
static void drop_queue(zl_conn *c) {
    ZL_ASSERT(!(c->flags & ZL_CF_SEND_INFLIGHT));
    while (!zl_ranges_empty(&c->q)) {
        int32_t bid = zl_ranges_pop(&c->q);
        c->head_sent_bytes = 0;
        if (bid >= 0)
            zl_buf_unref((uint32_t)bid);
    }
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
    if (!(c->flags & ZL_CF_ABORT) && !zl_ranges_empty(&c->q))
        return; /* graceful: the queue drains first */
    drop_queue(c);
    if (!(c->flags & ZL_CF_FD_CLOSED))
        zl_close(c->fd);
    uint32_t slot = zl_conn_slot(c);
    int32_t err = c->err;
    zl_conn_retire(c);
    K.closed++;
    zl_ev_push(ZL_EV_CLOSED, slot, (uint32_t)err, 0, 0);
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
