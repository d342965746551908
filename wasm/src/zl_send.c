/* zl_send.c — writes. Each conn has a FIFO of (slab, offset, len) ranges from a
 * shared node pool, sized at create() (no malloc per write, no growth), with a
 * per-conn share so one writer cannot empty it. At most one send is in flight per conn, so bytes never reorder; it
 * gathers up to 64 queued ranges into one sendmsg (the reference server lost 3x
 * on bulk transfers until it did), and a short send resubmits the rest. */
#include <stdlib.h>
#include "zl_send.h"
#include "zl_assert.h"
#include "zl_bufring.h"
#include "zl_close.h"
#include "zl_events.h"
#include "zl_reactor.h"
#include "zl_sq.h"
#include "zl_token.h"
#include "zl_work.h"

typedef struct zl_range {
    uint32_t slab;
    uint32_t off;
    uint32_t len;
    int32_t bid; /* recv-slab buffer this range holds a reference on, or -1 */
    uint32_t next;
} zl_range;
_Static_assert(sizeof(zl_range) == 20, "zl_range is 20 bytes");

static struct {
    zl_range *r;
    uint32_t cap, used, free_head;
} P = {.free_head = ZL_NIL};

static zl_slab_range iov[ZL_SEND_MAX_IOV];

int32_t zl_send_init(uint32_t ranges) {
    ZL_ASSERT(P.r == NULL && ranges > 0);
    P.cap = ranges;
    P.used = 0;
    P.free_head = ZL_NIL;
    P.r = malloc(P.cap * sizeof(zl_range));
    return P.r ? 0 : -ZL_ENOMEM;
}

void zl_send_fini(void) {
    free(P.r);
    P.r = NULL;
    P.cap = P.used = 0;
    P.free_head = ZL_NIL;
}

static uint32_t node_alloc(void) {
    if (P.free_head != ZL_NIL) {
        uint32_t i = P.free_head;
        P.free_head = P.r[i].next;
        return i;
    }
    if (P.used == P.cap)
        return ZL_NIL;
    return P.used++;
}

/* Unlinks the head range, drops its buffer reference. */
static void pop_head(zl_conn *c) {
    uint32_t i = c->q_head;
    ZL_ASSERT(i != ZL_NIL);
    zl_range *r = &P.r[i];
    c->q_head = r->next;
    if (c->q_head == ZL_NIL)
        c->q_tail = ZL_NIL;
    c->head_off = 0;
    if (r->bid >= 0)
        zl_buf_unref((uint32_t)r->bid);
    ZL_ASSERT(c->nranges > 0);
    c->nranges--;
    r->next = P.free_head;
    P.free_head = i;
}

int32_t zl_send_write(zl_conn *c, uint32_t slab, uint32_t off, uint32_t len) {
    if (c->state != ZL_CS_OPEN || (c->flags & ZL_CF_WANT_SHUT))
        return -ZL_EPIPE;
    if (len == 0 || off + len < off)
        return -ZL_EINVAL;
    if (c->nranges >= ZL_SEND_MAX_RANGES_PER_CONN)
        return -ZL_ENOBUFS;
    int32_t bid = -1;
    if (slab == zl_buf_slab()) {
        bid = zl_buf_ref_range(off, len);
        if (bid < 0)
            return bid;
    }
    uint32_t i = node_alloc();
    if (i == ZL_NIL) {
        if (bid >= 0)
            zl_buf_unref((uint32_t)bid);
        return -ZL_ENOBUFS;
    }
    c->nranges++;
    P.r[i] = (zl_range){.slab = slab, .off = off, .len = len, .bid = bid, .next = ZL_NIL};
    if (c->q_tail == ZL_NIL)
        c->q_head = i;
    else
        P.r[c->q_tail].next = i;
    c->q_tail = i;
    if (!(c->flags & ZL_CF_SEND_INFLIGHT))
        zl_work_add(c, ZL_W_SEND);
    return 0;
}

int32_t zl_send_prep(zl_conn *c) {
    if ((c->flags & ZL_CF_SEND_INFLIGHT) || c->q_head == ZL_NIL)
        return 0;
    if (c->state == ZL_CS_CLOSING && (c->flags & ZL_CF_ABORT))
        return 0;
    ZL_ASSERT(!(c->flags & ZL_CF_FD_CLOSED)); /* closed early only once nothing is left to send */
    uint32_t n = 0, total = 0, skip = c->head_off;
    for (uint32_t i = c->q_head; i != ZL_NIL && n < ZL_SEND_MAX_IOV && total < ZL_SEND_MAX_BYTES;
         i = P.r[i].next) {
        zl_range *r = &P.r[i];
        ZL_ASSERT(skip < r->len);
        uint32_t len = r->len - skip;
        if (len > ZL_SEND_MAX_BYTES - total)
            len = ZL_SEND_MAX_BYTES - total;
        iov[n++] = (zl_slab_range){.slab = r->slab, .offset = r->off + skip, .len = len};
        total += len;
        skip = 0;
    }
    int32_t sqe = zl_sq_get();
    if (sqe < 0)
        return sqe;
    int32_t r = n == 1 ? zl_prep_send((uint32_t)sqe, c->fd, iov[0].slab, iov[0].offset, iov[0].len, ZL_MSG_NOSIGNAL)
                       : zl_prep_sendmsg((uint32_t)sqe, c->fd, iov, n, ZL_MSG_NOSIGNAL);
    if (r < 0) {
        /* The host refused a range (-EFAULT/-EBADF: an app slab gone or out of
         * bounds). The SQE stays a NOP with user_data 0; the conn cannot make
         * progress, so it closes with that error. */
        zl_sq_commit(sqe, 0);
        zl_close_begin(c, true, -r);
        return 0;
    }
    zl_sq_commit(sqe, zl_token_pack(ZL_K_SEND, c->gen, c->fd));
    c->flags |= ZL_CF_SEND_INFLIGHT;
    c->inflight = total;
    zl_r.sends++;
    return 0;
}

void zl_send_maybe_shutdown(zl_conn *c) {
    if ((c->flags & (ZL_CF_WANT_SHUT | ZL_CF_SHUT_DONE)) == ZL_CF_WANT_SHUT && c->q_head == ZL_NIL &&
        !(c->flags & ZL_CF_SEND_INFLIGHT) && c->state == ZL_CS_OPEN) {
        c->flags |= ZL_CF_SHUT_DONE;
        zl_shutdown(c->fd, ZL_SHUT_WR);
    }
}

void zl_send_on_cqe(zl_conn *c, const struct io_uring_cqe *cqe) {
    /* One send in flight per conn: anything else is a token/bookkeeping error. */
    ZL_ASSERT(c->flags & ZL_CF_SEND_INFLIGHT);
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
        ZL_ASSERT(left <= c->inflight); /* the kernel cannot send more than asked */
        if (left < c->inflight)
            zl_r.short_sends++;
        zl_r.bytes_out += left;
        if (left > 0)
            c->flags |= ZL_CF_ACTIVE;
        uint32_t bytes = left, done = 0;
        while (c->q_head != ZL_NIL) {
            uint32_t rem = P.r[c->q_head].len - c->head_off;
            if (rem > left) {
                c->head_off += left;
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
        if (c->q_head != ZL_NIL && !aborting)
            zl_work_add(c, ZL_W_SEND);
        zl_send_maybe_shutdown(c);
    }
    c->inflight = 0;
    if (c->state == ZL_CS_CLOSING)
        zl_close_check(c);
}

void zl_send_drop_queue(zl_conn *c) {
    ZL_ASSERT(!(c->flags & ZL_CF_SEND_INFLIGHT));
    while (c->q_head != ZL_NIL)
        pop_head(c);
}
