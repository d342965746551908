/* zl_dispatch.c — CQE dispatch and the stale-token check.
 * A CQE belongs to the conn with its fd *and* generation: the fd's owner, or a
 * closing conn that already closed that fd (zl_close.c closes it early, so the
 * kernel may have handed the number to a new connection while the old recv and
 * send are still ending). A CQE no conn claims is stale and is dropped, after
 * accounting for the buffer it may carry. -DZL_FAULT_SKIP_STALE_CHECK
 * compiles the generation comparison out: that broken core exists only so the
 * simulator can prove it catches a CQE delivered to the wrong connection. */
#include "zl_dispatch.h"
#include "zl_accept.h"
#include "zl_cancel.h"
#include "zl_conn.h"
#include "zl_listener.h"
#include "zl_recv.h"
#include "zl_send.h"
#include "zl_token.h"

static zl_dispatch_counters D;

void zl_dispatch_fini(void) { D = (zl_dispatch_counters){0}; }
const zl_dispatch_counters *zl_dispatch_counters_view(void) { return &D; }

static zl_conn *owner(const zl_token *t) {
#ifndef ZL_FAULT_SKIP_STALE_CHECK
    return zl_conn_find(t->fd, t->gen, true);
#else
    return zl_conn_find(t->fd, t->gen, false);
#endif
}

void zl_dispatch(const struct io_uring_cqe *cqe) {
    zl_token t = zl_token_unpack(cqe->user_data);
    zl_conn *c;
    D.cqes++;
    switch (t.kind) {
    case ZL_K_ACCEPT:
        if (zl_listener_owns(&t)) {
            zl_accept_on_cqe(cqe);
        } else {
            D.stale_cqes++;
            zl_accept_drop(cqe);
        }
        break;
    case ZL_K_RECV:
        if ((c = owner(&t)) != NULL) {
            zl_recv_on_cqe(c, cqe);
        } else {
            D.stale_cqes++;
            zl_recv_drop(cqe);
        }
        break;
    case ZL_K_SEND:
        if ((c = owner(&t)) != NULL)
            zl_send_on_cqe(c, cqe);
        else
            D.stale_cqes++;
        break;
    case ZL_K_CANCEL:
        /* Cancels complete after their target; a late one is expected, not stale. */
        zl_cancel_on_cqe(&t, cqe);
        break;
    default:
        /* user_data 0: the NOP left by a failed prep. Other kinds are not ours. */
        break;
    }
}
