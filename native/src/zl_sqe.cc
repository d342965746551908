// zl_sqe.cc — SQE preparation and user data: prep-multishot-accept,
// prep-recv-multishot-select, prep-send, prep-sendmsg, prep-cancel64,
// sqe-set-data64, and the fused queue-* imports (get-sqe + prep + set-data64
// in one call). One struct per operation reads, checks and fills in its
// arguments; prep<Op> and queue<Op> make its two exports. Every fd must
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

// ---------------------------------------------------------------- operations
// Each operation is a struct of its arguments after the handle (host.wit's
// order; queue-* adds the token, as two u32 halves, after them) with
//   ARGS        how many they are;
//   ACCEPT      whether its op slot is an accept's (zl_op_slot_for);
//   read        the numbers: false when a JS exception is pending;
//   read_lists  then the lists, whose getters may run JS: 0, -errno, or THREW;
//   check       0 or -errno, with no side effect;
//   fill        the SQE (k: its SQ slot).
constexpr int THREW = 1;

struct NoLists {
    int read_lists(napi_env, const napi_value*) { return 0; }
};

struct Accept : NoLists {
    static constexpr size_t ARGS = 2;
    static constexpr bool ACCEPT = true;
    int32_t lfd;
    uint32_t flags;
    bool read(napi_env env, const napi_value* a) { return zl_i32(env, a[0], &lfd) && zl_u32(env, a[1], &flags); }
    int check(napi_env, const Guest* G) const {
        if (!zl_fd_owned(G, lfd)) return -EBADF;
        if (flags & ~ALLOWED_ACCEPT) return -EINVAL;
        return 0;
    }
    void fill(struct io_uring_sqe* sqe, Ring*, uint32_t) const {
        // Accepted fds never leak into child processes of the host runtime.
        io_uring_prep_multishot_accept(sqe, lfd, nullptr, nullptr, static_cast<int>(flags | SOCK_CLOEXEC));
    }
};

// recv with buffer selection: multishot (one CQE per receive until it ends)
// or one shot (one CQE, at most one buffer: the core's pressure mode). No
// address: the kernel picks a provided buffer of `group`, whose ranges were
// checked by buf-ring-add.
template <bool MULTISHOT>
struct Recv : NoLists {
    static constexpr size_t ARGS = 3;
    static constexpr bool ACCEPT = false;
    int32_t fd;
    uint32_t group, flags;
    bool read(napi_env env, const napi_value* a) {
        return zl_i32(env, a[0], &fd) && zl_u32(env, a[1], &group) && zl_u32(env, a[2], &flags);
    }
    int check(napi_env, const Guest* G) const {
        if (!zl_fd_owned(G, fd)) return -EBADF;
        if (group > 0xffff || (flags & ~ALLOWED_RECV)) return -EINVAL;
        return 0;
    }
    void fill(struct io_uring_sqe* sqe, Ring*, uint32_t) const {
        if (MULTISHOT)
            io_uring_prep_recv_multishot(sqe, fd, nullptr, 0, static_cast<int>(flags));
        else
            io_uring_prep_recv(sqe, fd, nullptr, 0, static_cast<int>(flags));
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = static_cast<uint16_t>(group);
    }
};

struct Send : NoLists {
    static constexpr size_t ARGS = 5;
    static constexpr bool ACCEPT = false;
    int32_t fd;
    uint32_t slab, off, len, flags;
    Slab* s = nullptr;  // found by check
    bool read(napi_env env, const napi_value* a) {
        return zl_i32(env, a[0], &fd) && zl_u32(env, a[1], &slab) && zl_u32(env, a[2], &off) &&
               zl_u32(env, a[3], &len) && zl_u32(env, a[4], &flags);
    }
    int check(napi_env env, const Guest* G) {
        if (!zl_fd_owned(G, fd)) return -EBADF;
        if (flags & ~ALLOWED_SEND) return -EINVAL;
        return zl_slab_range(env, G, slab, off, len, &s);
    }
    void fill(struct io_uring_sqe* sqe, Ring* r, uint32_t) const {
        mark_sent(s, r);
        io_uring_prep_send(sqe, fd, s->base + off, len, static_cast<int>(flags | SEND_FORCED));
    }
};

// The slab-range list is copied out of JS (its getters may run anything, even
// destroy-ring) before any host object is looked up.
struct Sendmsg {
    static constexpr size_t ARGS = 3;
    static constexpr bool ACCEPT = false;
    int32_t fd;
    uint32_t flags;
    uint32_t n = 0;
    uint32_t sh[MAX_IOV], off[MAX_IOV], len[MAX_IOV];
    Slab* slabs[MAX_IOV];  // found by check
    bool read(napi_env env, const napi_value* a) { return zl_i32(env, a[0], &fd) && zl_u32(env, a[2], &flags); }
    // a[1]: the list of slab ranges.
    int read_lists(napi_env env, const napi_value* a) {
        bool is_array = false;
        napi_is_array(env, a[1], &is_array);
        if (!is_array) {
            zl_type_error(env, "expected an array of slab ranges");
            return THREW;
        }
        napi_get_array_length(env, a[1], &n);
        if (n > MAX_IOV) return -EINVAL;
        for (uint32_t i = 0; i < n; i++) {
            napi_value el;
            if (napi_get_element(env, a[1], i, &el) != napi_ok) return THREW;
            if (!zl_field_u32(env, el, "slab", &sh[i]) || !zl_field_u32(env, el, "offset", &off[i]) ||
                !zl_field_u32(env, el, "len", &len[i]))
                return THREW;
        }
        return 0;
    }
    int check(napi_env env, const Guest* G) {
        if (!zl_fd_owned(G, fd)) return -EBADF;
        if (flags & ~ALLOWED_SEND) return -EINVAL;
        for (uint32_t i = 0; i < n; i++) {
            int bad = zl_slab_range(env, G, sh[i], off[i], len[i], &slabs[i]);
            if (bad) return bad;
        }
        return 0;
    }
    // The msghdr + iovecs live with SQ slot k until the kernel consumed the SQE.
    void fill(struct io_uring_sqe* sqe, Ring* r, uint32_t k) const {
        ZL_ASSERT(k < r->msgs.size() && n <= MAX_IOV);
        MsgStore*& m = r->msgs[k];
        if (m == nullptr) m = new MsgStore();
        memset(&m->msg, 0, sizeof m->msg);
        for (uint32_t i = 0; i < n; i++) {
            m->iov[i].iov_base = slabs[i]->base + off[i];
            m->iov[i].iov_len = len[i];
            mark_sent(slabs[i], r);
        }
        m->msg.msg_iov = m->iov;
        m->msg.msg_iovlen = n;
        io_uring_prep_sendmsg(sqe, fd, &m->msg, flags | SEND_FORCED);
    }
};

struct Cancel : NoLists {
    static constexpr size_t ARGS = 2;
    static constexpr bool ACCEPT = false;
    uint64_t target;  // the guest's token; zl_before_flush names its slot instead
    uint32_t flags;
    bool read(napi_env env, const napi_value* a) { return zl_u64(env, a[0], &target) && zl_u32(env, a[1], &flags); }
    int check(napi_env, const Guest*) const { return (flags & ~ALLOWED_CANCEL) ? -EINVAL : 0; }
    void fill(struct io_uring_sqe* sqe, Ring*, uint32_t) const {
        io_uring_prep_cancel64(sqe, target, static_cast<int>(flags));
    }
};

// ---------------------------------------------------------------- prep-* (get-sqe handles)

// The arguments of prep<Op> (token == nullptr) or queue<Op>, in this order:
// the handle, the op's numbers, the token's two u32 halves (hi, lo: a u64
// would be a BigInt per SQE on the JS side), then the op's lists, whose
// getters may run JS. 0, -errno, or THREW.
template <class Op>
int unpack(napi_env env, const napi_value* argv, uint32_t* h, Op* op, uint64_t* token) {
    if (!zl_u32(env, argv[0], h) || !op->read(env, argv + 1)) return THREW;
    if (token != nullptr) {
        uint32_t hi, lo;
        if (!zl_u32(env, argv[1 + Op::ARGS], &hi) || !zl_u32(env, argv[2 + Op::ARGS], &lo)) return THREW;
        *token = static_cast<uint64_t>(hi) << 32 | lo;
    }
    return op->read_lists(env, argv + 1);
}

template <class Op>
napi_value prep(napi_env env, napi_callback_info info) {
    ZL_ARGS(1 + Op::ARGS);
    uint32_t h;
    Op op;
    int bad = unpack(env, argv, &h, &op, nullptr);
    if (bad) return bad == THREW ? nullptr : zl_int(env, bad);
    // Only now look up host objects; no JS runs from here on.
    Ring* r;
    uint32_t slot;
    struct io_uring_sqe* sqe = zl_sqe(G, h, &r, &slot);
    if (sqe == nullptr) return zl_err(env, EBADF);
    bad = op.check(env, G);
    if (bad) return zl_int(env, bad);
    op.fill(sqe, r, slot);
    return zl_int(env, 0);
}

// ---------------------------------------------------------------- queue-* (fused)

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

template <class Op>
napi_value queue(napi_env env, napi_callback_info info) {
    ZL_ARGS(3 + Op::ARGS);
    uint32_t h;
    uint64_t token;
    Op op;
    int bad = unpack(env, argv, &h, &op, &token);
    if (bad) return bad == THREW ? nullptr : zl_int(env, bad);
    // Only now look up host objects; no JS runs from here on.
    Ring* r = zl_ring(G, h);
    if (r == nullptr) return zl_err(env, EBADF);
    bad = op.check(env, G);
    if (bad) return zl_int(env, bad);
    uint32_t pos, idx;
    struct io_uring_sqe* sqe = queue_take(r, token, Op::ACCEPT, &bad, &pos, &idx);
    if (sqe == nullptr) return zl_int(env, bad);
    op.fill(sqe, r, pos & r->sq_mask);
    zl_record_fused(r, pos, token, idx, Op::ACCEPT);
    return zl_int(env, 0);
}
}  // namespace

// ---------------------------------------------------------------- the exports, two per operation

napi_value zl_prep_multishot_accept(napi_env env, napi_callback_info info) { return prep<Accept>(env, info); }
napi_value zl_queue_multishot_accept(napi_env env, napi_callback_info info) { return queue<Accept>(env, info); }
napi_value zl_prep_recv_multishot_select(napi_env env, napi_callback_info info) { return prep<Recv<true>>(env, info); }
napi_value zl_queue_recv_multishot_select(napi_env env, napi_callback_info info) {
    return queue<Recv<true>>(env, info);
}
napi_value zl_prep_recv_select(napi_env env, napi_callback_info info) { return prep<Recv<false>>(env, info); }
napi_value zl_queue_recv_select(napi_env env, napi_callback_info info) { return queue<Recv<false>>(env, info); }
napi_value zl_prep_send(napi_env env, napi_callback_info info) { return prep<Send>(env, info); }
napi_value zl_queue_send(napi_env env, napi_callback_info info) { return queue<Send>(env, info); }
napi_value zl_prep_sendmsg(napi_env env, napi_callback_info info) { return prep<Sendmsg>(env, info); }
napi_value zl_queue_sendmsg(napi_env env, napi_callback_info info) { return queue<Sendmsg>(env, info); }
napi_value zl_prep_cancel64(napi_env env, napi_callback_info info) { return prep<Cancel>(env, info); }
napi_value zl_queue_cancel64(napi_env env, napi_callback_info info) { return queue<Cancel>(env, info); }

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

