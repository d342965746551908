/* zl_accept.c — every accepted fd gets TCP_NODELAY, a slot and a recv;
 * transient accept errors (EMFILE, ENFILE, ECONNABORTED, ...) never stop the
 * server. In handoff mode an accepted fd is only reported: another reactor
 * adopts it, so this one never claims it. */
#include "zl_accept.h"
#include "zl_assert.h"
#include "zl_close.h"
#include "zl_conn.h"
#include "zl_events.h"
#include "zl_handoff.h"
#include "zl_listener.h"
#include "zl_work.h"

static zl_accept_counters A;

void zl_accept_fini(void) { A = (zl_accept_counters){0}; }
const zl_accept_counters *zl_accept_counters_view(void) { return &A; }

int32_t zl_accept_take(int32_t fd) {
    if (fd < 0 || zl_fd_owner(fd) != ZL_FD_NONE)
        return fd < 0 ? -ZL_EBADF : -ZL_EEXIST; /* adopt() of an fd we already own */
    if (zl_conn_full()) {
        zl_close(fd);
        A.rejected++;
        return -ZL_EBUSY;
    }
    /* Small writes go out now; also the cheapest check that fd is a TCP socket. */
    int32_t r = zl_setsockopt(fd, ZL_IPPROTO_TCP, ZL_TCP_NODELAY, 1);
    if (r == -ZL_EBADF || r == -ZL_ENOTSOCK)
        return r;
    int32_t slot = zl_conn_alloc(fd);
    if (slot < 0) {
        zl_close(fd);
        A.rejected++;
        return slot;
    }
    zl_conn *c = zl_conn_get((uint32_t)slot);
    A.accepted++;
    zl_ev_push(ZL_EV_OPEN, (uint32_t)slot, (uint32_t)fd, 0, 0);
    zl_work_add(c, ZL_W_ARM_RECV);
    return slot;
}

static bool transient(int32_t err) {
    return err == ZL_ECONNABORTED || err == ZL_EINTR || err == ZL_EAGAIN || err == ZL_EMFILE ||
           err == ZL_ENFILE || err == ZL_ENOBUFS || err == ZL_ENOMEM || err == ZL_EPERM ||
           err == 110 /* ETIMEDOUT */ || err == 71 /* EPROTO */ || err == ZL_ECANCELED;
}

void zl_accept_on_cqe(const struct io_uring_cqe *cqe) {
    ZL_ASSERT(zl_listener_armed());
    bool more = (cqe->flags & ZL_CQE_F_MORE) != 0;
    bool closing = zl_listener_closing();
    bool give_up = false;
    bool out_of_fds = false;
    if (cqe->res >= 0) {
        if (closing) {
            zl_close(cqe->res);
            A.rejected++;
        } else if (zl_listener_handoff()) {
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
    zl_listener_accept_cqe(more, give_up, out_of_fds, zl_close_counters_view()->closed);
}

void zl_accept_drop(const struct io_uring_cqe *cqe) {
    if (cqe->res >= 0)
        zl_close(cqe->res); /* a connection nobody will serve */
}
