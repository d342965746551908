/* zl_send.c — writes (see zl_send.h). At most one send is in flight per conn,
 * so bytes never reorder; gathering queued ranges into one sendmsg matters
 * (the reference server lost 3x on bulk transfers until it did), and a short
 * send resubmits the rest. */
#include "zl_send.h"
#include "zl_assert.h"
#include "zl_bufring.h"
#include "zl_close.h"
#include "zl_events.h"
#include "zl_work.h"

static zl_send_counters S;

void zl_send_fini(void) { S = (zl_send_counters){0}; }
const zl_send_counters *zl_send_counters_view(void) { return &S; }

/* Unlinks the head range, drops its buffer reference. */
static void pop_head(zl_conn *c) {
    int32_t bid = zl_ranges_pop(&c->q);
    c->head_sent_bytes = 0;
    if (bid >= 0)
        zl_buf_unref((uint32_t)bid);
}

int32_t zl_send_write(zl_conn *c, uint32_t slab, uint32_t offset, uint32_t len_bytes) {
    if (c->state != ZL_CS_OPEN || (c->flags & ZL_CF_WANT_SHUT))
        return -ZL_EPIPE;
    if (len_bytes == 0 || offset + len_bytes < offset)
        return -ZL_EINVAL;
    if (c->q.count >= ZL_SEND_MAX_RANGES_PER_CONN)
        return -ZL_ENOBUFS;
    int32_t bid = -1;
    if (slab == zl_buf_slab()) {
        bid = zl_buf_ref_range(offset, len_bytes);
        if (bid < 0)
            return bid;
    }
    if (zl_ranges_push(&c->q, slab, offset, len_bytes, bid) < 0) {
        if (bid >= 0)
            zl_buf_unref((uint32_t)bid);
        return -ZL_ENOBUFS;
    }
    if (!(c->flags & ZL_CF_SEND_INFLIGHT))
        zl_work_add(c, ZL_W_SEND);
    return 0;
}

static void maybe_shutdown(zl_conn *c) {
    if ((c->flags & (ZL_CF_WANT_SHUT | ZL_CF_SHUT_DONE)) == ZL_CF_WANT_SHUT && zl_ranges_empty(&c->q) &&
        !(c->flags & ZL_CF_SEND_INFLIGHT) && c->state == ZL_CS_OPEN) {
        c->flags |= ZL_CF_SHUT_DONE;
        zl_shutdown(c->fd, ZL_SHUT_WR);
    }
}

int32_t zl_send_shutdown(zl_conn *c) {
    if (c->state != ZL_CS_OPEN)
        return -ZL_ENOTCONN;
    c->flags |= ZL_CF_WANT_SHUT;
    maybe_shutdown(c);
    return 0;
}

uint32_t zl_send_gather(const zl_conn *c, zl_slab_range *iov, uint32_t *total_bytes) {
    *total_bytes = 0;
    if ((c->flags & ZL_CF_SEND_INFLIGHT) || zl_ranges_empty(&c->q))
        return 0;
    if (c->state == ZL_CS_CLOSING && (c->flags & ZL_CF_ABORT))
        return 0;
    ZL_ASSERT(!(c->flags & ZL_CF_FD_CLOSED)); /* closed early only once nothing is left to send */
    uint32_t n = zl_ranges_gather(&c->q, c->head_sent_bytes, iov, ZL_SEND_MAX_IOV, ZL_SEND_MAX_BYTES, total_bytes);
    ZL_ASSERT(n > 0 && n <= ZL_SEND_MAX_IOV && *total_bytes > 0);
    return n;
}

void zl_send_started(zl_conn *c, uint32_t total_bytes) {
    ZL_ASSERT(!(c->flags & ZL_CF_SEND_INFLIGHT) && total_bytes > 0);
    c->flags |= ZL_CF_SEND_INFLIGHT;
    c->inflight_bytes = total_bytes;
    S.sends++;
}

void zl_send_on_cqe(zl_conn *c, const struct io_uring_cqe *cqe) {
    /* One send in flight per conn: anything else is a token/bookkeeping error. */
    ZL_ASSERT(c->flags & ZL_CF_SEND_INFLIGHT); /* paired with zl_send_started */
    c->flags &= ~ZL_CF_SEND_INFLIGHT;
    int32_t res = cqe->res;
    bool aborting = c->state == ZL_CS_CLOSING && (c->flags & ZL_CF_ABORT);
    if (res < 0) {
        if ((res == -ZL_EINTR || res == -ZL_EAGAIN) && !aborting) {
            zl_work_add(c, ZL_W_SEND); /* nothing was sent: same ranges again */
        } else if (!aborting) {
            zl_close_begin(c, true, -res);
        }
    } else {
        uint32_t left = (uint32_t)res;
        ZL_ASSERT(left <= c->inflight_bytes); /* the kernel cannot send more than asked */
        if (left < c->inflight_bytes)
            S.short_sends++;
        S.sent_bytes += left;
        if (left > 0)
            c->flags |= ZL_CF_ACTIVE;
        uint32_t bytes = left, done = 0;
        while (!zl_ranges_empty(&c->q)) {
            uint32_t rem = zl_ranges_head_len_bytes(&c->q) - c->head_sent_bytes;
            if (rem > left) {
                c->head_sent_bytes += left;
                left = 0;
                break;
            }
            left -= rem;
            pop_head(c);
            done++;
        }
        ZL_ASSERT(left == 0); /* every byte sent belonged to a queued range */
        if (bytes > 0)
            zl_ev_push(ZL_EV_SENT, zl_conn_slot(c), done, bytes, 0);
        if (!zl_ranges_empty(&c->q) && !aborting)
            zl_work_add(c, ZL_W_SEND);
        maybe_shutdown(c);
    }
    c->inflight_bytes = 0;
    if (c->state == ZL_CS_CLOSING)
        zl_close_check(c);
}
