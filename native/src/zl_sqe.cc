// zl_sqe.cc — SQE preparation and user data: prep-multishot-accept,
// prep-recv-multishot-select, prep-send, prep-sendmsg, prep-cancel64,
// sqe-set-data64. Every fd must be one the guest owns (checked again at the
// flush: zl_before_flush); every memory range must lie inside a live slab of
// the guest's. JS arguments are read in full before any host object is
// looked up: reading them can run JS (getters), which may free those objects.
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
}  // namespace

napi_value zl_prep_multishot_accept(napi_env env, napi_callback_info info) {
    ZL_ARGS(3);
    ZL_U32(0, h);
    ZL_I32(1, lfd);
    ZL_U32(2, flags);
    Ring* r;
    uint32_t slot;
    struct io_uring_sqe* sqe = zl_sqe(G, h, &r, &slot);
    if (sqe == nullptr || !zl_fd_owned(G, lfd)) return zl_err(env, EBADF);
    if (flags & ~ALLOWED_ACCEPT) return zl_err(env, EINVAL);
    // Accepted fds never leak into child processes of the host runtime.
    io_uring_prep_multishot_accept(sqe, lfd, nullptr, nullptr, static_cast<int>(flags | SOCK_CLOEXEC));
    return zl_int(env, 0);
}

namespace {
// recv with buffer selection: multishot (one CQE per receive until it ends)
// or one shot (one CQE, at most one buffer: the core's pressure mode).
napi_value prep_recv_select(napi_env env, napi_callback_info info, bool multishot) {
    ZL_ARGS(4);
    ZL_U32(0, h);
    ZL_I32(1, fd);
    ZL_U32(2, group);
    ZL_U32(3, flags);
    Ring* r;
    uint32_t slot;
    struct io_uring_sqe* sqe = zl_sqe(G, h, &r, &slot);
    if (sqe == nullptr || !zl_fd_owned(G, fd)) return zl_err(env, EBADF);
    if (group > 0xffff || (flags & ~ALLOWED_RECV)) return zl_err(env, EINVAL);
    // No address: the kernel picks a provided buffer of `group`, whose ranges
    // were checked by buf-ring-add.
    if (multishot)
        io_uring_prep_recv_multishot(sqe, fd, nullptr, 0, static_cast<int>(flags));
    else
        io_uring_prep_recv(sqe, fd, nullptr, 0, static_cast<int>(flags));
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = static_cast<uint16_t>(group);
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
    if (sqe == nullptr || !zl_fd_owned(G, fd)) return zl_err(env, EBADF);
    if (flags & ~ALLOWED_SEND) return zl_err(env, EINVAL);
    Slab* s;
    int bad = zl_slab_range(env, G, slab, off, len, &s);
    if (bad) return zl_int(env, bad);
    mark_sent(s, r);
    io_uring_prep_send(sqe, fd, s->base + off, len, static_cast<int>(flags | SEND_FORCED));
    return zl_int(env, 0);
}

napi_value zl_prep_sendmsg(napi_env env, napi_callback_info info) {
    ZL_ARGS(4);
    ZL_U32(0, h);
    ZL_I32(1, fd);
    ZL_U32(3, flags);
    bool is_array = false;
    napi_is_array(env, argv[2], &is_array);
    if (!is_array) return zl_type_error(env, "expected an array of slab ranges");
    uint32_t n;
    napi_get_array_length(env, argv[2], &n);
    if (n > MAX_IOV) return zl_err(env, EINVAL);
    // 1. Copy the JS list (its getters may run anything, even destroy-ring).
    uint32_t sh[MAX_IOV], off[MAX_IOV], len[MAX_IOV];
    for (uint32_t i = 0; i < n; i++) {
        napi_value el;
        if (napi_get_element(env, argv[2], i, &el) != napi_ok) return nullptr;
        if (!zl_field_u32(env, el, "slab", &sh[i]) || !zl_field_u32(env, el, "offset", &off[i]) ||
            !zl_field_u32(env, el, "len", &len[i]))
            return nullptr;
    }
    // 2. Only now look up host objects; no JS runs from here on.
    Ring* r;
    uint32_t slot;
    struct io_uring_sqe* sqe = zl_sqe(G, h, &r, &slot);
    if (sqe == nullptr || !zl_fd_owned(G, fd)) return zl_err(env, EBADF);
    if (flags & ~ALLOWED_SEND) return zl_err(env, EINVAL);
    struct iovec iov[MAX_IOV];
    Slab* slabs[MAX_IOV];
    for (uint32_t i = 0; i < n; i++) {
        int bad = zl_slab_range(env, G, sh[i], off[i], len[i], &slabs[i]);
        if (bad) return zl_int(env, bad);
        iov[i].iov_base = slabs[i]->base + off[i];
        iov[i].iov_len = len[i];
    }
    ZL_ASSERT(slot < r->msgs.size());
    MsgStore*& m = r->msgs[slot];
    if (m == nullptr) m = new MsgStore();
    memset(&m->msg, 0, sizeof m->msg);
    memcpy(m->iov, iov, sizeof(struct iovec) * n);
    m->msg.msg_iov = m->iov;
    m->msg.msg_iovlen = n;
    for (uint32_t i = 0; i < n; i++) mark_sent(slabs[i], r);
    io_uring_prep_sendmsg(sqe, fd, &m->msg, flags | SEND_FORCED);
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
    if (flags & ~ALLOWED_CANCEL) return zl_err(env, EINVAL);
    io_uring_prep_cancel64(sqe, user_data, static_cast<int>(flags));
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
    sqe->user_data = data;
    return zl_int(env, 0);
}
