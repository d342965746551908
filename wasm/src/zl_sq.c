/* zl_sq.c — SQE queueing and submission (see zl_sq.h). */
#include "zl_sq.h"
#include "zl_assert.h"

static struct {
    uint32_t ring;
    uint32_t pending;
} Q;

void zl_sq_init(uint32_t ring) {
    Q.ring = ring;
    Q.pending = 0;
}

void zl_sq_fini(void) {
    Q.ring = 0;
    Q.pending = 0;
}

bool zl_sq_later(int32_t err) { return err == -ZL_EBUSY || err == -ZL_ENOBUFS; }

/* A full SQ: push what is queued, so the retry finds room. */
static bool full(int32_t r) {
    if (r != -ZL_EBUSY)
        return false;
    zl_sq_submit();
    return true;
}

static int32_t counted(int32_t r) {
    ZL_ASSERT(r <= 0); /* the queue-* calls return 0 or -errno */
    if (r == 0) {
        Q.pending++;
        ZL_ASSERT(Q.pending != 0);
    }
    return r;
}

int32_t zl_sq_queue_multishot_accept(int32_t lfd, uint32_t flags, uint64_t token) {
    int32_t r = zl_queue_multishot_accept(Q.ring, lfd, flags, token);
    if (full(r))
        r = zl_queue_multishot_accept(Q.ring, lfd, flags, token);
    return counted(r);
}

int32_t zl_sq_queue_recv(int32_t fd, uint32_t buf_group, bool multishot, uint64_t token) {
    int32_t r = multishot ? zl_queue_recv_multishot_select(Q.ring, fd, buf_group, 0, token)
                          : zl_queue_recv_select(Q.ring, fd, buf_group, 0, token);
    if (full(r))
        r = multishot ? zl_queue_recv_multishot_select(Q.ring, fd, buf_group, 0, token)
                      : zl_queue_recv_select(Q.ring, fd, buf_group, 0, token);
    return counted(r);
}

/* One range goes as a plain send: no msghdr for the host to keep. */
static int32_t send_once(int32_t fd, const zl_slab_range *iov, uint32_t n, uint32_t flags, uint64_t token) {
    return n == 1 ? zl_queue_send(Q.ring, fd, iov[0].slab, iov[0].offset, iov[0].len, flags, token)
                  : zl_queue_sendmsg(Q.ring, fd, iov, n, flags, token);
}

int32_t zl_sq_queue_send(int32_t fd, const zl_slab_range *iov, uint32_t n, uint32_t flags, uint64_t token) {
    ZL_ASSERT(n > 0);
    int32_t r = send_once(fd, iov, n, flags, token);
    if (full(r))
        r = send_once(fd, iov, n, flags, token);
    return counted(r);
}

int32_t zl_sq_queue_cancel(uint64_t target, uint64_t token) {
    int32_t r = zl_queue_cancel64(Q.ring, target, 0, token);
    if (full(r))
        r = zl_queue_cancel64(Q.ring, target, 0, token);
    return counted(r);
}

int32_t zl_sq_submit(void) {
    if (Q.pending == 0)
        return 0;
    int32_t r = zl_submit(Q.ring);
    if (r >= 0)
        Q.pending = (uint32_t)r >= Q.pending ? 0 : Q.pending - (uint32_t)r;
    return r;
}

int32_t zl_sq_submit_getevents(uint32_t min_complete, const struct __kernel_timespec *ts) {
    uint32_t n = Q.pending;
    int32_t r = zl_enter(Q.ring, n, min_complete, ZL_ENTER_GETEVENTS, ts);
    if (r > 0)
        Q.pending = (uint32_t)r >= n ? 0 : n - (uint32_t)r;
    ZL_ASSERT(Q.pending <= n);
    /* The kernel skips the GETEVENTS part when it submitted fewer than asked
     * (an SQE that fails to init stops the submission, or -EBUSY): the
     * deferred completions must still run, or a quiet reactor sleeps on them. */
    if (n > 0 && r != (int32_t)n)
        zl_enter(Q.ring, 0, min_complete, ZL_ENTER_GETEVENTS, ts);
    return r;
}

uint32_t zl_sq_pending(void) { return Q.pending; }
