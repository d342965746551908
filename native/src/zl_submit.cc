// zl_submit.cc — SQE handles and submission: get-sqe, submit,
// submit-and-wait, submit-and-wait-timeout, enter, sq-ready.
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

#include "zl_exports.h"
#include "zl_ring.h"

namespace {
constexpr uint8_t INT_FLAG_REG_RING = 1;  // liburing 2.3's private int_flags bit
constexpr uint32_t ALLOWED_ENTER =
    IORING_ENTER_GETEVENTS | IORING_ENTER_SQ_WAKEUP | IORING_ENTER_SQ_WAIT;

// Every way to the kernel: zl_before_flush checks the prepared SQEs, `submit`
// (one of liburing's submit calls, or enter's own flush) hands them over,
// zl_after_flush records what went. Its result, or the refusal with nothing
// submitted.
template <class Submit>
int checked_flush(const Guest* G, Ring* r, Submit submit) {
    int refused = zl_before_flush(G, r);
    if (refused) return refused;
    uint32_t h0 = r->ring.sq.sqe_head;
    int ret = submit();
    zl_after_flush(r, h0);
    return ret;
}
}  // namespace

int32_t zl_sqe_handle(Ring* r, uint32_t pos) {
    uint32_t h = r->idx | ((pos & r->sq_mask) << RING_BITS) |
                 ((r->epoch & r->epoch_mask) << (RING_BITS + r->sq_shift));
    return static_cast<int32_t>(h);
}

struct io_uring_sqe* zl_sqe(const Guest* G, uint32_t h, Ring** ring_out, uint32_t* slot_out) {
    ZlEnv* E = G->E;
    uint32_t i = h & (MAX_RINGS - 1);
    if (i >= E->rings.items.size()) return nullptr;
    Ring* r = E->rings.items[i];
    if (r == nullptr || r->guest != G->id) return nullptr;
    ZL_ASSERT(r->idx == i);
    if ((h >> (RING_BITS + r->sq_shift)) != (r->epoch & r->epoch_mask)) return nullptr;
    uint32_t slot = (h >> RING_BITS) & r->sq_mask;
    uint32_t head = r->ring.sq.sqe_head;
    uint32_t pending = r->ring.sq.sqe_tail - head;
    ZL_ASSERT(pending <= r->ring.sq.ring_entries);
    if (((slot - head) & r->sq_mask) >= pending) return nullptr;  // not prepared now
    // A queue-* SQE is recorded already and carries its kernel user_data: no
    // handle may change it (a handle is computable, but it never was given out).
    if (r->sq_op[slot] & SQ_FUSED) return nullptr;
    *ring_out = r;
    *slot_out = slot;
    return &r->ring.sq.sqes[slot];
}

napi_value zl_get_sqe(napi_env env, napi_callback_info info) {
    ZL_ARGS(1);
    ZL_RING(0, r);
    struct io_uring_sqe* sqe = io_uring_get_sqe(&r->ring);
    if (sqe == nullptr) return zl_err(env, EBUSY);
    memset(sqe, 0, sizeof *sqe);  // IORING_OP_NOP, user_data 0
    uint32_t pos = r->ring.sq.sqe_tail - 1;
    ZL_ASSERT(r->sq_op[pos & r->sq_mask] == 0);  // cleared by zl_after_flush
    int32_t handle = zl_sqe_handle(r, r->ring.sq.sqe_tail - 1);
    ZL_ASSERT(handle >= 0);  // the epoch mask leaves the sign bit clear
    return zl_int(env, handle);
}

napi_value zl_submit(napi_env env, napi_callback_info info) {
    ZL_ARGS(1);
    ZL_RING(0, r);
    return zl_int(env, checked_flush(G, r, [r] { return io_uring_submit(&r->ring); }));
}

napi_value zl_submit_and_wait(napi_env env, napi_callback_info info) {
    ZL_ARGS(2);
    ZL_U32(0, h);
    ZL_U32(1, wait_nr);
    Ring* r = zl_ring(G, h);
    if (r == nullptr) return zl_err(env, EBADF);
    return zl_int(env, checked_flush(G, r, [r, wait_nr] { return io_uring_submit_and_wait(&r->ring, wait_nr); }));
}

napi_value zl_submit_and_wait_timeout(napi_env env, napi_callback_info info) {
    ZL_ARGS(3);
    ZL_U32(0, h);
    ZL_U32(1, wait_nr);
    struct __kernel_timespec ts;
    bool threw = false;
    int bad = zl_timespec(env, argv[2], &ts, &threw);
    if (threw) return nullptr;
    Ring* r = zl_ring(G, h);
    if (r == nullptr) return zl_err(env, EBADF);
    if (bad) return zl_int(env, bad);
    return zl_int(env, checked_flush(G, r, [r, wait_nr, &ts] {
                      struct io_uring_cqe* cqe = nullptr;
                      return io_uring_submit_and_wait_timeout(&r->ring, &cqe, wait_nr, &ts, nullptr);
                  }));
}

napi_value zl_enter(napi_env env, napi_callback_info info) {
    ZL_ARGS(5);
    ZL_U32(0, h);
    ZL_U32(1, to_submit);
    ZL_U32(2, min_complete);
    ZL_U32(3, flags);
    napi_valuetype t;
    napi_typeof(env, argv[4], &t);
    bool has_ts = t != napi_undefined && t != napi_null;
    struct __kernel_timespec ts = {0, 0};
    int bad = 0;
    if (has_ts) {
        bool threw = false;
        bad = zl_timespec(env, argv[4], &ts, &threw);
        if (threw) return nullptr;
    }
    Ring* r = zl_ring(G, h);
    if (r == nullptr) return zl_err(env, EBADF);
    if (bad) return zl_int(env, bad);
    if (flags & ~ALLOWED_ENTER) return zl_err(env, EINVAL);
    // SQ_WAIT waits until the SQPOLL thread makes room in the SQ; if that
    // thread is asleep (idle) and nobody wakes it, the wait never ends and the
    // guest would hang the runtime's thread. Waking it is always harmless.
    if (flags & IORING_ENTER_SQ_WAIT) flags |= IORING_ENTER_SQ_WAKEUP;

    // Make the prepared SQEs visible to the kernel (liburing's flush).
    int refused = checked_flush(G, r, [r] {
        struct io_uring_sq* sq = &r->ring.sq;
        if (sq->sqe_head != sq->sqe_tail) {
            sq->sqe_head = sq->sqe_tail;
            io_uring_smp_store_release(sq->ktail, sq->sqe_tail);
        }
        return 0;
    });
    if (refused) return zl_int(env, refused);
    struct io_uring_getevents_arg arg;
    void* argp = nullptr;
    size_t argsz = 0;
    if (has_ts) {
        memset(&arg, 0, sizeof arg);
        arg.sigmask_sz = _NSIG / 8;
        arg.ts = reinterpret_cast<uint64_t>(&ts);
        argp = &arg;
        argsz = sizeof arg;
        flags |= IORING_ENTER_EXT_ARG;
    }
    int fd = r->ring.ring_fd;
    if (r->ring.int_flags & INT_FLAG_REG_RING) {
        fd = r->ring.enter_ring_fd;
        flags |= IORING_ENTER_REGISTERED_RING;
    }
    long ret = syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, argp, argsz);
    return zl_int(env, ret < 0 ? -errno : static_cast<int32_t>(ret));
}

napi_value zl_sq_ready(napi_env env, napi_callback_info info) {
    ZL_ARGS(1);
    ZL_RING(0, r);
    return zl_int(env, static_cast<int32_t>(io_uring_sq_ready(&r->ring)));
}

namespace {
void set_u32(napi_env env, napi_value o, const char* name, uint32_t x) {
    napi_value v;
    napi_create_uint32(env, x, &v);
    napi_set_named_property(env, o, name, v);
}
void set_count(napi_env env, napi_value o, const char* name, uint64_t x) {
    napi_value v;
    napi_create_double(env, static_cast<double>(x), &v);  // exact below 2^53
    napi_set_named_property(env, o, name, v);
}
}  // namespace

// Test introspection: {live, userData, quarantined, bufRings, watched,
// opSlots, cqes, cqeHashLookups, cqeSyscalls, cqeStale, sqeHashLookups,
// queued, flushedLegacy} or -EBADF.
napi_value zl_ring_info(napi_env env, napi_callback_info info) {
    ZL_ARGS(1);
    ZL_RING(0, r);
    napi_value o, v;
    napi_create_object(env, &o);
    napi_create_uint32(env, r->live, &v);
    napi_set_named_property(env, o, "live", v);
    napi_create_uint32(env, r->ops.size(), &v);
    napi_set_named_property(env, o, "userData", v);
    napi_create_uint32(env, static_cast<uint32_t>(r->quarantine.size()), &v);
    napi_set_named_property(env, o, "quarantined", v);
    napi_create_uint32(env, static_cast<uint32_t>(r->bufrings.size()), &v);
    napi_set_named_property(env, o, "bufRings", v);
    napi_get_boolean(env, r->watch != nullptr, &v);
    napi_set_named_property(env, o, "watched", v);
    const RingCounters& c = r->counters;
    ZL_ASSERT(c.cqe_hash_lookups <= r->ops.lookups);  // a part of all lookups
    set_u32(env, o, "opSlots", r->ops.capacity());
    set_count(env, o, "cqes", c.cqes);
    set_count(env, o, "cqeHashLookups", c.cqe_hash_lookups);
    set_count(env, o, "cqeSyscalls", c.cqe_syscalls);
    set_count(env, o, "cqeStale", c.cqe_stale);
    set_count(env, o, "sqeHashLookups", r->ops.lookups - c.cqe_hash_lookups);
    set_count(env, o, "queued", c.queued);
    set_count(env, o, "flushedLegacy", c.flushed_legacy);
    return o;
}
