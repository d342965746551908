// zl_sqe.cc — SQE preparation and user data: prep-multishot-accept,
// prep-recv-multishot-select, prep-send, prep-sendmsg, prep-cancel64,
// sqe-set-data64, and the fused queue-* imports (get-sqe + prep + set-data64
// in one call; one check function per operation serves both). Every fd must
// be one the guest owns (checked again at the flush: zl_before_flush); every
// memory range must lie inside a live slab of the guest's. JS arguments are
// read in full before any host object is looked up: reading them can run JS
// (getters), which may free those objects. queue-* checks everything before
// it takes an SQE or an op slot, so an error queues nothing.
#include <cstring>

#include "zl_exports.h"
#include "zl_fd.h"
#include "zl_ring.h"
#include "zl_slab.h"

namespace {
// Sends never raise SIGPIPE in the host process, whatever runtime hosts it.
constexpr uint32_t SEND_FORCED = MSG_NOSIGNAL;
// The msg flags a guest may ask for (host.wit); any other bit is -EINVAL.
constexpr uint32_t ALLOWED_SEND = MSG_DONTWAIT | MSG_WAITALL | MSG_MORE | MSG_NOSIGNAL;
constexpr uint32_t ALLOWED_RECV = MSG_DONTWAIT | MSG_WAITALL;
constexpr uint32_t ALLOWED_ACCEPT = SOCK_NONBLOCK | SOCK_CLOEXEC;
constexpr uint32_t ALLOWED_CANCEL = IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_ANY;

inline void mark_sent(Slab* s, Ring* r) { s->sent |= 1ull << r->idx; }


// ---------------------------------------------------------------- checks + fills
// Each operation: check(...) -> 0 or -errno, with no side effect; fill(sqe, ...).

int check_accept(const Guest* G, int32_t lfd, uint32_t flags) {
    if (!zl_fd_owned(G, lfd)) return -EBADF;
    if (flags & ~ALLOWED_ACCEPT) return -EINVAL;
    return 0;
}
void fill_accept(struct io_uring_sqe* sqe, int32_t lfd, uint32_t flags) {
    // Accepted fds never leak into child processes of the host runtime.
    io_uring_prep_multishot_accept(sqe, lfd, nullptr, nullptr, static_cast<int>(flags | SOCK_CLOEXEC));
}

int check_recv(const Guest* G, int32_t fd, uint32_t group, uint32_t flags) {
    if (!zl_fd_owned(G, fd)) return -EBADF;
    if (group > 0xffff || (flags & ~ALLOWED_RECV)) return -EINVAL;
    return 0;
}
// recv with buffer selection: multishot (one CQE per receive until it ends)
// or one shot (one CQE, at most one buffer: the core's pressure mode). No
// address: the kernel picks a provided buffer of `group`, whose ranges were
// checked by buf-ring-add.
void fill_recv(struct io_uring_sqe* sqe, int32_t fd, uint32_t group, uint32_t flags, bool multishot) {
    if (multishot)
        io_uring_prep_recv_multishot(sqe, fd, nullptr, 0, static_cast<int>(flags));
    else
        io_uring_prep_recv(sqe, fd, nullptr, 0, static_cast<int>(flags));
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = static_cast<uint16_t>(group);
}

int check_send(napi_env env, const Guest* G, int32_t fd, uint32_t slab, uint32_t off, uint32_t len,
               uint32_t flags, Slab** s) {
    if (!zl_fd_owned(G, fd)) return -EBADF;
    if (flags & ~ALLOWED_SEND) return -EINVAL;
    return zl_slab_range(env, G, slab, off, len, s);
}
void fill_send(struct io_uring_sqe* sqe, Ring* r, int32_t fd, Slab* s, uint32_t off, uint32_t len, uint32_t flags) {
    mark_sent(s, r);
    io_uring_prep_send(sqe, fd, s->base + off, len, static_cast<int>(flags | SEND_FORCED));
}

// A prep-sendmsg / queue-sendmsg list, copied out of JS (its getters may run
// anything, even destroy-ring) before any host object is looked up.
struct IovArgs {
    uint32_t n = 0;
    uint32_t sh[MAX_IOV], off[MAX_IOV], len[MAX_IOV];
};
// false: a JS exception is pending. *too_many: more than MAX_IOV ranges.
bool read_iov(napi_env env, napi_value list, IovArgs* a, bool* too_many) {
    *too_many = false;
    bool is_array = false;
    napi_is_array(env, list, &is_array);
    if (!is_array) {
        zl_type_error(env, "expected an array of slab ranges");
        return false;
    }
    napi_get_array_length(env, list, &a->n);
    if (a->n > MAX_IOV) {
        *too_many = true;
        return true;
    }
    for (uint32_t i = 0; i < a->n; i++) {
        napi_value el;
        if (napi_get_element(env, list, i, &el) != napi_ok) return false;
        if (!zl_field_u32(env, el, "slab", &a->sh[i]) || !zl_field_u32(env, el, "offset", &a->off[i]) ||
            !zl_field_u32(env, el, "len", &a->len[i]))
            return false;
    }
    return true;
}
int check_sendmsg(napi_env env, const Guest* G, int32_t fd, const IovArgs& a, uint32_t flags,
                  Slab** slabs) {
    if (!zl_fd_owned(G, fd)) return -EBADF;
    if (flags & ~ALLOWED_SEND) return -EINVAL;
    for (uint32_t i = 0; i < a.n; i++) {
        int bad = zl_slab_range(env, G, a.sh[i], a.off[i], a.len[i], &slabs[i]);
        if (bad) return bad;
    }
    return 0;
}
// The msghdr + iovecs live with SQ slot k until the kernel consumed the SQE.
void fill_sendmsg(struct io_uring_sqe* sqe, Ring* r, uint32_t k, int32_t fd, const IovArgs& a,
                  Slab* const* slabs, uint32_t flags) {
    ZL_ASSERT(k < r->msgs.size() && a.n <= MAX_IOV);
    MsgStore*& m = r->msgs[k];
    if (m == nullptr) m = new MsgStore();
    memset(&m->msg, 0, sizeof m->msg);
    for (uint32_t i = 0; i < a.n; i++) {
        m->iov[i].iov_base = slabs[i]->base + a.off[i];
        m->iov[i].iov_len = a.len[i];
        mark_sent(slabs[i], r);
    }
    m->msg.msg_iov = m->iov;
    m->msg.msg_iovlen = a.n;
    io_uring_prep_sendmsg(sqe, fd, &m->msg, flags | SEND_FORCED);
}

int check_cancel(uint32_t flags) { return (flags & ~ALLOWED_CANCEL) ? -EINVAL : 0; }
// `target` is the guest's token; zl_before_flush names its slot instead.
void fill_cancel(struct io_uring_sqe* sqe, uint64_t target, uint32_t flags) {
    io_uring_prep_cancel64(sqe, target, static_cast<int>(flags));
}
}  // namespace

// ---------------------------------------------------------------- prep-* (get-sqe handles)

napi_value zl_prep_multishot_accept(napi_env env, napi_callback_info info) {
    ZL_ARGS(3);
    ZL_U32(0, h);
    ZL_I32(1, lfd);
    ZL_U32(2, flags);
    Ring* r;
    uint32_t slot;
    struct io_uring_sqe* sqe = zl_sqe(G, h, &r, &slot);
    if (sqe == nullptr) return zl_err(env, EBADF);
    int bad = check_accept(G, lfd, flags);
    if (bad) return zl_int(env, bad);
    fill_accept(sqe, lfd, flags);
    return zl_int(env, 0);
}

namespace {
napi_value prep_recv_select(napi_env env, napi_callback_info info, bool multishot) {
    ZL_ARGS(4);
    ZL_U32(0, h);
    ZL_I32(1, fd);
    ZL_U32(2, group);
    ZL_U32(3, flags);
    Ring* r;
    uint32_t slot;
    struct io_uring_sqe* sqe = zl_sqe(G, h, &r, &slot);
    if (sqe == nullptr) return zl_err(env, EBADF);
    int bad = check_recv(G, fd, group, flags);
    if (bad) return zl_int(env, bad);
    fill_recv(sqe, fd, group, flags, multishot);
    return zl_int(env, 0);
}
}  // namespace

napi_value zl_prep_recv_multishot_select(napi_env env, napi_callback_info info) {
    return prep_recv_select(env, info, true);
}

napi_value zl_prep_recv_select(napi_env env, napi_callback_info info) {
    return prep_recv_select(env, info, false);
}

napi_value zl_prep_send(napi_env env, napi_callback_info info) {
    ZL_ARGS(6);
    ZL_U32(0, h);
    ZL_I32(1, fd);
    ZL_U32(2, slab);
    ZL_U32(3, off);
    ZL_U32(4, len);
    ZL_U32(5, flags);
    Ring* r;
    uint32_t slot;
    struct io_uring_sqe* sqe = zl_sqe(G, h, &r, &slot);
    if (sqe == nullptr) return zl_err(env, EBADF);
    Slab* s;
    int bad = check_send(env, G, fd, slab, off, len, flags, &s);
    if (bad) return zl_int(env, bad);
    fill_send(sqe, r, fd, s, off, len, flags);
    return zl_int(env, 0);
}

napi_value zl_prep_sendmsg(napi_env env, napi_callback_info info) {
    ZL_ARGS(4);
    ZL_U32(0, h);
    ZL_I32(1, fd);
    ZL_U32(3, flags);
    IovArgs a;
    bool too_many;
    if (!read_iov(env, argv[2], &a, &too_many)) return nullptr;
    if (too_many) return zl_err(env, EINVAL);
    // Only now look up host objects; no JS runs from here on.
    Ring* r;
    uint32_t slot;
    struct io_uring_sqe* sqe = zl_sqe(G, h, &r, &slot);
    if (sqe == nullptr) return zl_err(env, EBADF);
    Slab* slabs[MAX_IOV];
    int bad = check_sendmsg(env, G, fd, a, flags, slabs);
    if (bad) return zl_int(env, bad);
    fill_sendmsg(sqe, r, slot, fd, a, slabs, flags);
    return zl_int(env, 0);
}

napi_value zl_prep_cancel64(napi_env env, napi_callback_info info) {
    ZL_ARGS(3);
    ZL_U32(0, h);
    ZL_U64(1, user_data);
    ZL_U32(2, flags);
    Ring* r;
    uint32_t slot;
    struct io_uring_sqe* sqe = zl_sqe(G, h, &r, &slot);
    if (sqe == nullptr) return zl_err(env, EBADF);
    int bad = check_cancel(flags);
    if (bad) return zl_int(env, bad);
    fill_cancel(sqe, user_data, flags);
    return zl_int(env, 0);
}

napi_value zl_sqe_set_data64(napi_env env, napi_callback_info info) {
    ZL_ARGS(2);
    ZL_U32(0, h);
    ZL_U64(1, data);
    Ring* r;
    uint32_t slot;
    struct io_uring_sqe* sqe = zl_sqe(G, h, &r, &slot);
    if (sqe == nullptr) return zl_err(env, EBADF);
    // The guest's token: the flush records it in the op table (zl_before_flush)
    // and puts the slot's kernel user_data in its place.
    sqe->user_data = data;
    return zl_int(env, 0);
}

// ---------------------------------------------------------------- queue-* (fused)

namespace {
// After every argument check: where the op is recorded, then an SQE. Order
// of errors: -EINVAL (token in flight as the other class), -EBUSY (SQ full:
// submit and retry), -ENOBUFS (op table full: reap CQEs first). On error
// nothing changed; on success *pos is the SQE's SQ position.
struct io_uring_sqe* queue_take(Ring* r, uint64_t token, bool accept, int* err, uint32_t* pos,
                                uint32_t* idx) {
    int bad = zl_op_slot_for(r, token, accept, idx);
    if (bad == -EINVAL) {
        *err = bad;
        return nullptr;
    }
    if (io_uring_sq_space_left(&r->ring) == 0) {
        *err = -EBUSY;
        return nullptr;
    }
    if (bad) {
        *err = bad;
        return nullptr;
    }
    struct io_uring_sqe* sqe = io_uring_get_sqe(&r->ring);
    ZL_ASSERT(sqe != nullptr);  // space checked above
    memset(sqe, 0, sizeof *sqe);
    *pos = r->ring.sq.sqe_tail - 1;
    ZL_ASSERT(sqe == &r->ring.sq.sqes[*pos & r->sq_mask]);
    return sqe;
}
}  // namespace

napi_value zl_queue_multishot_accept(napi_env env, napi_callback_info info) {
    ZL_ARGS(4);
    ZL_U32(0, h);
    ZL_I32(1, lfd);
    ZL_U32(2, flags);
    ZL_U64(3, token);
    Ring* r = zl_ring(G, h);
    if (r == nullptr) return zl_err(env, EBADF);
    int bad = check_accept(G, lfd, flags);
    if (bad) return zl_int(env, bad);
    uint32_t pos, idx;
    struct io_uring_sqe* sqe = queue_take(r, token, true, &bad, &pos, &idx);
    if (sqe == nullptr) return zl_int(env, bad);
    fill_accept(sqe, lfd, flags);
    zl_record_fused(r, pos, token, idx, true);
    return zl_int(env, 0);
}

namespace {
napi_value queue_recv_select(napi_env env, napi_callback_info info, bool multishot) {
    ZL_ARGS(5);
    ZL_U32(0, h);
    ZL_I32(1, fd);
    ZL_U32(2, group);
    ZL_U32(3, flags);
    ZL_U64(4, token);
    Ring* r = zl_ring(G, h);
    if (r == nullptr) return zl_err(env, EBADF);
    int bad = check_recv(G, fd, group, flags);
    if (bad) return zl_int(env, bad);
    uint32_t pos, idx;
    struct io_uring_sqe* sqe = queue_take(r, token, false, &bad, &pos, &idx);
    if (sqe == nullptr) return zl_int(env, bad);
    fill_recv(sqe, fd, group, flags, multishot);
    zl_record_fused(r, pos, token, idx, false);
    return zl_int(env, 0);
}
}  // namespace

napi_value zl_queue_recv_multishot_select(napi_env env, napi_callback_info info) {
    return queue_recv_select(env, info, true);
}

napi_value zl_queue_recv_select(napi_env env, napi_callback_info info) {
    return queue_recv_select(env, info, false);
}

napi_value zl_queue_send(napi_env env, napi_callback_info info) {
    ZL_ARGS(7);
    ZL_U32(0, h);
    ZL_I32(1, fd);
    ZL_U32(2, slab);
    ZL_U32(3, off);
    ZL_U32(4, len);
    ZL_U32(5, flags);
    ZL_U64(6, token);
    Ring* r = zl_ring(G, h);
    if (r == nullptr) return zl_err(env, EBADF);
    Slab* s;
    int bad = check_send(env, G, fd, slab, off, len, flags, &s);
    if (bad) return zl_int(env, bad);
    uint32_t pos, idx;
    struct io_uring_sqe* sqe = queue_take(r, token, false, &bad, &pos, &idx);
    if (sqe == nullptr) return zl_int(env, bad);
    fill_send(sqe, r, fd, s, off, len, flags);
    zl_record_fused(r, pos, token, idx, false);
    return zl_int(env, 0);
}

napi_value zl_queue_sendmsg(napi_env env, napi_callback_info info) {
    ZL_ARGS(5);
    ZL_U32(0, h);
    ZL_I32(1, fd);
    ZL_U32(3, flags);
    ZL_U64(4, token);
    IovArgs a;
    bool too_many;
    if (!read_iov(env, argv[2], &a, &too_many)) return nullptr;
    if (too_many) return zl_err(env, EINVAL);
    // Only now look up host objects; no JS runs from here on.
    Ring* r = zl_ring(G, h);
    if (r == nullptr) return zl_err(env, EBADF);
    Slab* slabs[MAX_IOV];
    int bad = check_sendmsg(env, G, fd, a, flags, slabs);
    if (bad) return zl_int(env, bad);
    uint32_t pos, idx;
    struct io_uring_sqe* sqe = queue_take(r, token, false, &bad, &pos, &idx);
    if (sqe == nullptr) return zl_int(env, bad);
    fill_sendmsg(sqe, r, pos & r->sq_mask, fd, a, slabs, flags);
    zl_record_fused(r, pos, token, idx, false);
    return zl_int(env, 0);
}

napi_value zl_queue_cancel64(napi_env env, napi_callback_info info) {
    ZL_ARGS(4);
    ZL_U32(0, h);
    ZL_U64(1, target);
    ZL_U32(2, flags);
    ZL_U64(3, token);
    Ring* r = zl_ring(G, h);
    if (r == nullptr) return zl_err(env, EBADF);
    int bad = check_cancel(flags);
    if (bad) return zl_int(env, bad);
    uint32_t pos, idx;
    struct io_uring_sqe* sqe = queue_take(r, token, false, &bad, &pos, &idx);
    if (sqe == nullptr) return zl_int(env, bad);
    fill_cancel(sqe, target, flags);
    zl_record_fused(r, pos, token, idx, false);
    return zl_int(env, 0);
}
