/* zl_accept.c — multishot accept: every accepted fd gets TCP_NODELAY, a slot and
 * a multishot recv; the accept is re-armed when a CQE lacks F_MORE; transient
 * errors (EMFILE, ENFILE, ECONNABORTED, ...) never stop the server. In handoff
 * mode (an acceptor reactor) an accepted fd is only reported: another reactor
 * adopts it, so this one never claims it. */
#include "zl_accept.h"
#include "zl_assert.h"
#include "zl_conn.h"
#include "zl_events.h"
#include "zl_handoff.h"
#include "zl_reactor.h"
#include "zl_sq.h"
#include "zl_work.h"

static bool handoff;

void zl_accept_set_handoff(bool on) { handoff = on; }

static void listener_close(void) {
    zl_close(zl_r.lfd);
    zl_fd_release(zl_r.lfd);
    zl_r.lfd = -1;
    zl_r.lflags = 0;
    handoff = false;
}

int32_t zl_accept_take(int32_t fd) {
    if (fd < 0 || zl_fd_owner(fd) != ZL_FD_NONE)
        return fd < 0 ? -ZL_EBADF : -ZL_EEXIST; /* adopt() of an fd we already own */
    if (zl_conn_open_count() >= zl_conn_max()) {
        zl_close(fd);
        zl_r.rejected++;
        return -ZL_EBUSY;
    }
    /* Small writes go out now; also the cheapest check that fd is a TCP socket. */
    int32_t r = zl_setsockopt(fd, ZL_IPPROTO_TCP, ZL_TCP_NODELAY, 1);
    if (r == -ZL_EBADF || r == -ZL_ENOTSOCK)
        return r;
    int32_t slot = zl_conn_alloc(fd);
    if (slot < 0) {
        zl_close(fd);
        zl_r.rejected++;
        return slot;
    }
    zl_conn *c = zl_conn_get((uint32_t)slot);
    zl_r.accepted++;
    zl_ev_push(ZL_EV_OPEN, (uint32_t)slot, (uint32_t)fd, 0, 0);
    zl_work_add(c, ZL_W_ARM_RECV);
    return slot;
}

int32_t zl_accept_stop(void) {
    if (zl_r.lfd < 0)
        return -ZL_EBADF;
    if (zl_r.lflags & ZL_L_CLOSING)
        return 0;
    zl_r.lflags &= ~(ZL_L_WANT_ARM | ZL_L_FD_WAIT);
    if (zl_r.lflags & ZL_L_ARMED) {
        zl_r.lflags |= ZL_L_CLOSING | ZL_L_WANT_CANCEL;
    } else {
        listener_close();
    }
    return 0;
}

void zl_accept_prep(void) {
    uint32_t f = zl_r.lflags;
    if (zl_r.lfd < 0 || !(f & (ZL_L_WANT_ARM | ZL_L_WANT_CANCEL)))
        return;
    /* WANT_CANCEL is only set while armed, and the accept's last CQE closes a
     * closing listener: a cancel here always has its target. */
    ZL_ASSERT(!(f & ZL_L_WANT_CANCEL) || (f & ZL_L_ARMED));
    int32_t sqe = zl_sq_get();
    if (sqe < 0)
        return; /* retried at the next flush */
    if (f & ZL_L_WANT_CANCEL) {
        int32_t r = zl_prep_cancel64((uint32_t)sqe, zl_token_pack(ZL_K_ACCEPT, zl_r.lgen, zl_r.lfd), 0);
        ZL_ASSERT(r >= 0);
        zl_sq_commit(sqe, zl_token_pack(ZL_K_CANCEL, zl_r.lgen, zl_r.lfd));
        zl_r.lflags &= ~ZL_L_WANT_CANCEL;
        return;
    }
    int32_t r = zl_prep_multishot_accept((uint32_t)sqe, zl_r.lfd, ZL_SOCK_CLOEXEC);
    ZL_ASSERT(r >= 0);
    zl_sq_commit(sqe, zl_token_pack(ZL_K_ACCEPT, zl_r.lgen, zl_r.lfd));
    zl_r.lflags = (zl_r.lflags & ~ZL_L_WANT_ARM) | ZL_L_ARMED;
}

static bool transient(int32_t err) {
    return err == ZL_ECONNABORTED || err == ZL_EINTR || err == ZL_EAGAIN || err == ZL_EMFILE ||
           err == ZL_ENFILE || err == ZL_ENOBUFS || err == ZL_ENOMEM || err == ZL_EPERM ||
           err == 110 /* ETIMEDOUT */ || err == 71 /* EPROTO */ || err == ZL_ECANCELED;
}

void zl_accept_on_cqe(const zl_token *t, const struct io_uring_cqe *cqe) {
    bool ours = zl_r.lfd == t->fd && zl_r.lgen == t->gen && zl_fd_owner(t->fd) == ZL_FD_LISTENER;
#ifdef ZL_FAULT_SKIP_STALE_CHECK
    ours = zl_r.lfd == t->fd;
#endif
    if (!ours) {
        zl_r.stale_cqes++;
        if (cqe->res >= 0)
            zl_close(cqe->res); /* a connection nobody will serve */
        return;
    }
    ZL_ASSERT(zl_r.lflags & ZL_L_ARMED);
    bool more = (cqe->flags & ZL_CQE_F_MORE) != 0;
    bool closing = (zl_r.lflags & ZL_L_CLOSING) != 0;
    bool give_up = false;
    bool out_of_fds = false;
    if (!more)
        zl_r.lflags &= ~ZL_L_ARMED;
    if (cqe->res >= 0) {
        if (closing) {
            zl_close(cqe->res);
            zl_r.rejected++;
        } else if (handoff) {
            zl_ev_push(ZL_EV_HANDOFF, 0, (uint32_t)cqe->res, 0, 0);
        } else {
            zl_accept_take(cqe->res);
        }
    } else if (!closing) {
        int32_t err = -cqe->res;
        give_up = !transient(err);
        out_of_fds = err == ZL_EMFILE || err == ZL_ENFILE;
        /* The app hears about what it may have to act on (fd limits, a dead
         * listener); a peer that gave up before accept is nobody's business. */
        if (err != ZL_ECONNABORTED && err != ZL_EINTR && err != ZL_EAGAIN)
            zl_ev_push(ZL_EV_ERROR, 0, (uint32_t)err, give_up ? 0 : 1, 0);
    }
    if (!(zl_r.lflags & ZL_L_ARMED)) {
        if (closing)
            listener_close();
        else if (out_of_fds) {
            /* Re-arming now would fail again at once while the backlog is
             * non-empty: a busy loop of -EMFILE CQEs. Park until an fd frees. */
            zl_r.lflags |= ZL_L_FD_WAIT;
            zl_r.lwait_closed = zl_r.closed;
            zl_r.lwait_tick = zl_r.ticks;
        } else if (!give_up)
            zl_r.lflags |= ZL_L_WANT_ARM;
    }
}

enum { ZL_FD_WAIT_TICKS = 64 };

void zl_accept_poll(void) {
    if (!(zl_r.lflags & ZL_L_FD_WAIT))
        return;
    if (zl_r.closed != zl_r.lwait_closed || zl_r.ticks - zl_r.lwait_tick >= ZL_FD_WAIT_TICKS)
        zl_r.lflags = (zl_r.lflags & ~ZL_L_FD_WAIT) | ZL_L_WANT_ARM;
}

void zl_accept_idle(bool reaped_nothing) {
    if (reaped_nothing && (zl_r.lflags & ZL_L_FD_WAIT))
        zl_r.lflags = (zl_r.lflags & ~ZL_L_FD_WAIT) | ZL_L_WANT_ARM;
}

void zl_accept_close_now(void) {
    if (zl_r.lfd >= 0)
        listener_close();
}
