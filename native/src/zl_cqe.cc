// zl_cqe.cc — completion: wait-cqe, wait-cqe-timeout, wait-cqes,
// peek-batch-cqe, cqe-seen, cq-advance, cq-ready, and the pure CQE helpers.
#include <cstring>

#include "zl_exports.h"
#include "zl_ring.h"

int zl_timespec(napi_env env, napi_value v, struct __kernel_timespec* ts, bool* threw) {
    int64_t sec, nsec;
    if (!zl_field_i64(env, v, "tvSec", &sec) || !zl_field_i64(env, v, "tvNsec", &nsec)) {
        *threw = true;
        return -EINVAL;
    }
    if (sec < 0 || nsec < 0 || nsec >= 1000000000) return -EINVAL;
    ts->tv_sec = sec;
    ts->tv_nsec = nsec;
    return 0;
}

// peek-batch-cqe copies CQEs as the packed 16-byte records host.wit promises.
static_assert(sizeof(struct io_uring_cqe) == 16, "io_uring_cqe: 16 bytes (no CQE32 rings)");

namespace {
// A liburing wait, then a copy of the head CQE (not consumed).
napi_value wait_result(napi_env env, const Guest* G, Ring* r, uint32_t h0, int ret,
                       struct io_uring_cqe* cqe) {
    zl_after_wait(r, h0);
    if (ret == 0 && cqe == nullptr) ret = -EAGAIN;
    if (ret < 0) return zl_cqe_result(env, ret, 0, 0, 0);
    zl_process_cqes(G, r, *r->ring.cq.khead + 1, true);  // the guest reads the head: its token now
    struct io_uring_cqe c = *cqe;
    return zl_cqe_result(env, 0, c.user_data, c.res, c.flags);
}

// The scratch ArrayBuffer that holds a peek's CQE copies, `len` bytes at
// offset 0. One buffer per env, reused by every peek: the guest's lowering
// copies a result into its own memory before it can peek again, so a fresh
// buffer per batch only fed the GC (64 KiB pools that survived two scavenges
// were promoted, and their backing stores piled up in the malloc heap until a
// full GC: ~10 MiB of RSS under echo64). Replaced when too small or detached.
uint8_t* scratch_take(napi_env env, ZlEnv* E, size_t len, napi_value* ab) {
    constexpr size_t MIN_BYTES = 64 * 1024;
    bool fresh = E->scratch == nullptr || len > E->scratch_size;
    if (!fresh) {
        bool detached = true;
        napi_get_reference_value(env, E->scratch, ab);
        if (*ab == nullptr || napi_is_detached_arraybuffer(env, *ab, &detached) != napi_ok || detached)
            fresh = true;
    }
    if (fresh) {
        size_t size = len > MIN_BYTES ? len : MIN_BYTES;
        void* data;
        if (napi_create_arraybuffer(env, size, &data, ab) != napi_ok) return nullptr;
        if (E->scratch != nullptr) napi_delete_reference(env, E->scratch);
        napi_create_reference(env, *ab, 1, &E->scratch);
        E->scratch_base = static_cast<uint8_t*>(data);
        E->scratch_size = size;
    }
    ZL_ASSERT(E->scratch_base != nullptr && len <= E->scratch_size);
    return E->scratch_base;
}

napi_value bad_ring(napi_env env) { return zl_cqe_result(env, -EBADF, 0, 0, 0); }

// Reads a `cqe` record argument.
bool cqe_arg(napi_env env, napi_value v, uint32_t* flags) {
    return zl_field_u32(env, v, "flags", flags);
}
}  // namespace

napi_value zl_wait_cqe(napi_env env, napi_callback_info info) {
    ZL_ARGS(1);
    ZL_U32(0, h);
    Ring* r = zl_ring(G, h);
    if (r == nullptr) return bad_ring(env);
    uint32_t h0 = r->ring.sq.sqe_head;
    struct io_uring_cqe* cqe = nullptr;
    int ret = io_uring_wait_cqe(&r->ring, &cqe);
    return wait_result(env, G, r, h0, ret, cqe);
}

namespace {
// wait-cqe-timeout is wait-cqes with wait-nr 1 (as in liburing): one body.
napi_value wait_timed(napi_env env, const Guest* G, uint32_t h, uint32_t wait_nr, napi_value ts_arg) {
    struct __kernel_timespec ts;
    bool threw = false;
    int bad = zl_timespec(env, ts_arg, &ts, &threw);
    if (threw) return nullptr;
    Ring* r = zl_ring(G, h);
    if (r == nullptr) return bad_ring(env);
    if (bad) return zl_cqe_result(env, bad, 0, 0, 0);
    uint32_t h0 = r->ring.sq.sqe_head;
    struct io_uring_cqe* cqe = nullptr;
    int ret = io_uring_wait_cqes(&r->ring, &cqe, wait_nr, &ts, nullptr);
    return wait_result(env, G, r, h0, ret, cqe);
}
}  // namespace

napi_value zl_wait_cqe_timeout(napi_env env, napi_callback_info info) {
    ZL_ARGS(2);
    ZL_U32(0, h);
    return wait_timed(env, G, h, 1, argv[1]);
}

napi_value zl_wait_cqes(napi_env env, napi_callback_info info) {
    ZL_ARGS(3);
    ZL_U32(0, h);
    ZL_U32(1, wait_nr);
    return wait_timed(env, G, h, wait_nr, argv[2]);
}

napi_value zl_peek_batch_cqe(napi_env env, napi_callback_info info) {
    ZL_ARGS(2);
    ZL_U32(0, h);
    ZL_U32(1, max);
    Ring* r = zl_ring(G, h);
    uint32_t n = 0;
    if (r != nullptr && max != 0) {
        n = io_uring_cq_ready(&r->ring);
        if (n == 0 && io_uring_cq_has_overflow(&r->ring)) {
            io_uring_get_events(&r->ring);  // as liburing's peek: flush the overflow list
            r->counters.cqe_syscalls++;
            n = io_uring_cq_ready(&r->ring);
        }
        if (n > max) n = max;
    }
    napi_value out;
    if (n == 0) {  // the common idle case allocates nothing...
        napi_get_reference_value(env, E->empty_u8, &out);
        napi_value buf;
        bool detached = false;
        napi_get_typedarray_info(env, out, nullptr, nullptr, nullptr, &buf, nullptr);
        napi_is_detached_arraybuffer(env, buf, &detached);
        if (!detached) return out;
        // ...unless someone transferred its buffer away: make a new one.
        napi_delete_reference(env, E->empty_u8);
        napi_create_arraybuffer(env, 0, nullptr, &buf);
        napi_create_typedarray(env, napi_uint8_array, 0, buf, 0, &out);
        napi_create_reference(env, out, 1, &E->empty_u8);
        return out;
    }
    napi_value ab;
    uint8_t* data = scratch_take(env, E, static_cast<size_t>(n) * 16, &ab);
    if (data == nullptr) return nullptr;
    uint32_t head = *r->ring.cq.khead;
    zl_process_cqes(G, r, head + n, true);  // first: the CQEs carry the guest's tokens then
    uint32_t mask = r->ring.cq.ring_mask;
    uint32_t first = head & mask;
    uint32_t n1 = r->ring.cq.ring_entries - first;
    if (n1 > n) n1 = n;
    memcpy(data, &r->ring.cq.cqes[first], static_cast<size_t>(n1) * 16);
    if (n1 < n) memcpy(data + n1 * 16, &r->ring.cq.cqes[0], (n - n1) * 16);
    napi_create_typedarray(env, napi_uint8_array, static_cast<size_t>(n) * 16, ab, 0, &out);
    return out;
}

namespace {
int32_t advance(const Guest* G, Ring* r, uint32_t count) {
    uint32_t ready = io_uring_cq_ready(&r->ring);
    if (count > ready) return -EINVAL;
    // CQEs consumed without being read: account them (and close accepted fds
    // the guest never learned).
    zl_process_cqes(G, r, *r->ring.cq.khead + count, false);
    io_uring_cq_advance(&r->ring, count);
    return 0;
}
}  // namespace

napi_value zl_cqe_seen(napi_env env, napi_callback_info info) {
    ZL_ARGS(1);
    ZL_RING(0, r);
    return zl_int(env, advance(G, r, 1));
}

napi_value zl_cq_advance(napi_env env, napi_callback_info info) {
    ZL_ARGS(2);
    ZL_U32(0, h);
    ZL_U32(1, count);
    Ring* r = zl_ring(G, h);
    if (r == nullptr) return zl_err(env, EBADF);
    return zl_int(env, advance(G, r, count));
}

napi_value zl_cq_ready(napi_env env, napi_callback_info info) {
    ZL_ARGS(1);
    ZL_RING(0, r);
    return zl_int(env, static_cast<int32_t>(io_uring_cq_ready(&r->ring)));
}

// ---- pure helpers: the CQE crosses as data

napi_value zl_cqe_get_data64(napi_env env, napi_callback_info info) {
    ZL_ARGS(1);
    napi_value v;
    if (napi_get_named_property(env, argv[0], "userData", &v) != napi_ok)
        return zl_type_error(env, "expected a cqe record");
    uint64_t u;
    bool lossless = false;
    if (napi_get_value_bigint_uint64(env, v, &u, &lossless) == napi_ok && lossless) return v;
    if (!zl_u64(env, v, &u)) return nullptr;
    napi_create_bigint_uint64(env, u, &v);
    return v;
}

napi_value zl_cqe_has_buffer(napi_env env, napi_callback_info info) {
    ZL_ARGS(1);
    uint32_t flags;
    if (!cqe_arg(env, argv[0], &flags)) return nullptr;
    napi_value b;
    napi_get_boolean(env, (flags & IORING_CQE_F_BUFFER) != 0, &b);
    return b;
}

napi_value zl_cqe_buffer_id(napi_env env, napi_callback_info info) {
    ZL_ARGS(1);
    uint32_t flags;
    if (!cqe_arg(env, argv[0], &flags)) return nullptr;
    if (!(flags & IORING_CQE_F_BUFFER)) return zl_err(env, EINVAL);
    return zl_int(env, static_cast<int32_t>(flags >> IORING_CQE_BUFFER_SHIFT));
}
