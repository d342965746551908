/* zl_flush.c — the flush (see zl_flush.h). A kind's SQE that cannot be had
 * (SQ full after one submit) leaves its work listed for the next flush. */
#include "zl_flush.h"
#include "zl_assert.h"
#include "zl_budget.h"
#include "zl_bufring.h"
#include "zl_close.h"
#include "zl_conn.h"
#include "zl_host.h"
#include "zl_listener.h"
#include "zl_recv.h"
#include "zl_send.h"
#include "zl_sq.h"
#include "zl_token.h"
#include "zl_work.h"

static zl_slab_range iov[ZL_SEND_MAX_IOV];

static void queue_listener(void) {
    uint32_t want = zl_listener_want();
    if (want == ZL_LISTENER_IDLE)
        return;
    if (want == ZL_LISTENER_CANCEL) {
        int32_t r = zl_sq_queue_cancel(zl_listener_token(ZL_K_ACCEPT), zl_listener_token(ZL_K_CANCEL));
        if (zl_sq_later(r))
            return; /* retried at the next flush */
        ZL_ASSERT(r == 0);
        zl_listener_cancel_queued();
        return;
    }
    ZL_ASSERT(want == ZL_LISTENER_ARM);
    int32_t r = zl_sq_queue_multishot_accept(zl_listener_fd(), ZL_SOCK_CLOEXEC, zl_listener_token(ZL_K_ACCEPT));
    if (zl_sq_later(r))
        return;
    ZL_ASSERT(r == 0); /* the listener fd is ours */
    zl_listener_arm_queued();
}

/* An ASYNC_CANCEL of the conn's `kind` request. 0, or -errno: later. */
static int32_t queue_cancel(zl_conn *c, zl_kind kind) {
    int32_t r = zl_sq_queue_cancel(zl_token_pack(kind, c->gen, c->fd), zl_token_pack(ZL_K_CANCEL, c->gen, c->fd));
    ZL_ASSERT(r == 0 || zl_sq_later(r));
    return r;
}

static int32_t queue_recv(zl_conn *c) {
    if (!zl_recv_wants_arm(c))
        return 0;
    bool oneshot = zl_budget_pressure();
    int32_t r = zl_sq_queue_recv(c->fd, zl_buf_group(), !oneshot, zl_token_pack(ZL_K_RECV, c->gen, c->fd));
    if (r < 0) {
        ZL_ASSERT(zl_sq_later(r)); /* fd and group are ours */
        return r;
    }
    zl_recv_armed(c, oneshot);
    return 0;
}

static int32_t queue_send(zl_conn *c) {
    uint32_t total_bytes;
    uint32_t n = zl_send_gather(c, iov, &total_bytes);
    if (n == 0)
        return 0;
    int32_t r = zl_sq_queue_send(c->fd, iov, n, ZL_MSG_NOSIGNAL, zl_token_pack(ZL_K_SEND, c->gen, c->fd));
    if (zl_sq_later(r))
        return r;
    if (r < 0) {
        /* The host refused a range (-EFAULT/-EBADF: an app slab gone or out of
         * bounds) and queued nothing; the conn cannot make progress, so it
         * closes with that error. */
        zl_close_begin(c, true, -r);
        return 0;
    }
    zl_send_started(c, total_bytes);
    return 0;
}

/* Queues what `c` needs; returns the work left undone (SQ exhausted). */
static uint32_t prepare(zl_conn *c) {
    uint32_t w = c->work;
    c->work = 0;
    if (c->state != ZL_CS_OPEN && c->state != ZL_CS_CLOSING)
        return 0;
    if (w & ZL_W_CANCEL_RECV) {
        if (c->flags & ZL_CF_RECV_ARMED) {
            if (queue_cancel(c, ZL_K_RECV) < 0)
                return w;
            zl_recv_cancel_queued(c);
        }
        w &= ~ZL_W_CANCEL_RECV;
    }
    if (w & ZL_W_CANCEL_SEND) {
        if ((c->flags & ZL_CF_SEND_INFLIGHT) && queue_cancel(c, ZL_K_SEND) < 0)
            return w;
        w &= ~ZL_W_CANCEL_SEND;
    }
    if (w & ZL_W_ARM_RECV) {
        if (queue_recv(c) < 0)
            return w;
        w &= ~ZL_W_ARM_RECV;
    }
    if (w & ZL_W_SEND) {
        if (queue_send(c) < 0)
            return w;
        w &= ~ZL_W_SEND;
    }
    return w;
}

int32_t zl_flush(void) {
    zl_flush_prepare();
    return zl_sq_submit();
}

void zl_flush_prepare(void) {
    zl_buf_flush();
    /* Budgets decide what may re-arm before anything is queued. */
    zl_budget_poll(zl_buf_free_count(), zl_buf_count(ZL_BUF_KERNEL));
    zl_buf_flush();
    queue_listener();
    /* Handlers run from prepare() (a failed send closes its conn) may list
     * more conns: the pass visits them too. */
    zl_work_pass(prepare);
    /* A send that failed to queue closes and retires its conn, which returns
     * buffers: publish them now rather than a tick later. */
    zl_buf_flush();
}

bool zl_flush_pending(void) {
    /* The listener's re-arm counts: a multishot accept that ended must not
     * wait for an unrelated wake-up. So do budget polls that something waits on. */
    return zl_work_count() > 0 || zl_sq_pending() > 0 || zl_buf_publishable() > 0 ||
           zl_listener_want() != ZL_LISTENER_IDLE || zl_budget_waiting(zl_buf_count(ZL_BUF_KERNEL));
}
