// zl_ring.cc — ring lifecycle: create-ring, create-ring-ex, destroy-ring,
// get-ring-flags. Each ring gets an eventfd registered for wake-ups.
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "zl_bufring.h"
#include "zl_exports.h"
#include "zl_ring.h"
#include "zl_slab.h"
#include "zl_wake.h"

namespace {
constexpr uint32_t ALLOWED_SETUP = IORING_SETUP_SQPOLL | IORING_SETUP_SQ_AFF |
                                   IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER |
                                   IORING_SETUP_DEFER_TASKRUN;

// The op table's capacity: ZERGLING_OP_SLOTS (read at each ring creation,
// 2..ZL_OP_SLOTS_MAX) or ZL_OP_SLOTS_DEFAULT.
uint32_t op_slots() {
    const char* v = std::getenv("ZERGLING_OP_SLOTS");
    if (v == nullptr || *v == 0) return ZL_OP_SLOTS_DEFAULT;
    unsigned long n = std::strtoul(v, nullptr, 10);
    if (n < 2) n = 2;
    if (n > ZL_OP_SLOTS_MAX) n = ZL_OP_SLOTS_MAX;
    return static_cast<uint32_t>(n);
}

void free_ring_memory(Ring* r) {
    for (MsgStore* m : r->msgs) delete m;
    delete r;
}

int32_t create(const Guest* G, uint32_t entries, uint32_t flags, int32_t cpu, uint32_t idle_ms) {
    ZlEnv* E = G->E;
    if (flags & ~ALLOWED_SETUP) return -EINVAL;
    if ((flags & IORING_SETUP_SQ_AFF) && (!(flags & IORING_SETUP_SQPOLL) || cpu < 0)) return -EINVAL;
    if (E->rings.items.size() >= MAX_RINGS && E->rings.free_.empty()) return -EMFILE;

    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    p.flags = flags;
    if (flags & IORING_SETUP_SQPOLL) {
        p.sq_thread_idle = idle_ms;
        if (cpu >= 0) {
            p.flags |= IORING_SETUP_SQ_AFF;
            p.sq_thread_cpu = static_cast<uint32_t>(cpu);
        }
    }
    Ring* r = new Ring();
    memset(&r->ring, 0, sizeof r->ring);
    if (!r->ops.init(op_slots())) {
        delete r;
        return -ENOMEM;
    }
    int ret = io_uring_queue_init_params(entries, &r->ring, &p);
    if (ret < 0) {
        delete r;
        return ret;
    }
    // The sandbox relies on both: waits that never flush the SQ (EXT_ARG:
    // liburing needs no timeout SQE of its own), and NOPs that post no CQE
    // (what a refused SQE becomes). Linux 5.17 has both.
    if ((p.features & (IORING_FEAT_EXT_ARG | IORING_FEAT_CQE_SKIP)) != (IORING_FEAT_EXT_ARG | IORING_FEAT_CQE_SKIP)) {
        io_uring_queue_exit(&r->ring);
        delete r;
        return -EOPNOTSUPP;
    }
    r->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    ret = r->evfd < 0 ? -errno : io_uring_register_eventfd(&r->ring, r->evfd);
    if (ret < 0) {
        if (r->evfd >= 0) close(r->evfd);
        io_uring_queue_exit(&r->ring);
        delete r;
        return ret;
    }
    // Best effort: saves an fd lookup per io_uring_enter (per-thread table).
    io_uring_register_ring_fd(&r->ring);

    r->sq_mask = r->ring.sq.ring_mask;
    r->sq_shift = static_cast<uint32_t>(__builtin_ctz(r->ring.sq.ring_entries));
    r->epoch_mask = (1u << (31 - RING_BITS - r->sq_shift)) - 1;
    // A fresh epoch per ring, so handles of a destroyed ring that used the same
    // index do not match the new one.
    r->epoch = E->epoch_seed;
    E->epoch_seed += 0x9E3779B9u;
    r->msgs.assign(r->ring.sq.ring_entries, nullptr);
    r->sq_op.assign(r->ring.sq.ring_entries, 0);
    r->guest = G->id;
    return E->rings.add_with_room(r);  // capacity checked above
}
}  // namespace

Ring* zl_ring(const Guest* G, uint32_t handle) { return zl_get(G->E->rings, G, handle); }

namespace {
// SQEs flushed to the SQ but not consumed by the kernel (an enter with a
// smaller to-submit, a submission cut short): with SQPOLL the kernel thread
// takes them soon, so wait for it; otherwise only an io_uring_enter would,
// and none will come, so they never run.
void settle_sq(Ring* r) {
    struct io_uring_sq* sq = &r->ring.sq;
    if (r->ring.flags & IORING_SETUP_SQPOLL) {
        for (int i = 0; i < 200 && io_uring_smp_load_acquire(sq->khead) != *sq->ktail; i++) {
            io_uring_enter(r->ring.ring_fd, 0, 0, IORING_ENTER_SQ_WAKEUP, nullptr);
            usleep(1000);
        }
    }
    uint32_t head = io_uring_smp_load_acquire(sq->khead);
    zl_unflush(r, head, *sq->ktail);
    zl_unqueue(r);  // queue-* SQEs never flushed
}
// Accounts and consumes every CQE; waits up to `wait_ms` per empty poll while
// operations are still in flight.
void reap_all(const Guest* G, Ring* r, int wait_ms) {
    for (int i = 0; i < 4096; i++) {
        io_uring_get_events(&r->ring);
        uint32_t ready = io_uring_cq_ready(&r->ring);
        if (ready != 0) {
            zl_process_cqes(G, r, *r->ring.cq.khead + ready, false);
            io_uring_cq_advance(&r->ring, ready);
            continue;
        }
        if (io_uring_cq_has_overflow(&r->ring)) continue;
        if (r->live == 0 || wait_ms == 0 || i >= 5) break;
        struct __kernel_timespec ts = {0, wait_ms * 1000 * 1000LL};
        struct io_uring_cqe* cqe;
        io_uring_wait_cqe_timeout(&r->ring, &cqe, &ts);
    }
}
}  // namespace

void zl_ring_teardown(napi_env env, const Guest* G, Ring* r) {
    ZlEnv* E = G->E;
    ZL_ASSERT(r->guest == G->id);
    r->tearing = true;
    zl_unwatch_ring(env, r);
    settle_sq(r);
    // Cancel everything in flight, so no request still reads or writes a slab
    // once the ring's slabs are released, then reap what completes (fds of
    // accepts nobody read are closed by zl_process_cqes). An SQPOLL thread or
    // io-wq may still be issuing a request when the cancel looks: retry a few
    // rounds, bounded (~0.5 s at worst, only while something is stuck).
    for (int round = 0; round < 5 && r->live > 0; round++) {
        struct io_uring_sync_cancel_reg reg;
        memset(&reg, 0, sizeof reg);
        reg.fd = -1;
        reg.flags = IORING_ASYNC_CANCEL_ANY;
        reg.timeout.tv_nsec = 50 * 1000 * 1000;
        io_uring_register_sync_cancel(&r->ring, &reg);
        reap_all(G, r, round == 0 ? 0 : 10);
    }
    reap_all(G, r, 0);  // DEFER_TASKRUN: only visible after GETEVENTS
    bool quiet = r->live == 0;
    ZL_ASSERT(!quiet || r->ops.size() == 0);  // live counts exactly the records
    io_uring_queue_exit(&r->ring);
    close(r->evfd);
    // A request that could not be cancelled may still use quarantined memory
    // or provided buffers: then they stay mapped for the life of the process.
    for (BufRing* b : r->bufrings) zl_bufring_free(E, b, false, !quiet);
    r->bufrings.clear();
    if (quiet) zl_release_quarantine(env, r);
    zl_slabs_forget_ring(E, r->idx);
    E->rings.remove(r);
    free_ring_memory(r);
}

napi_value zl_create_ring(napi_env env, napi_callback_info info) {
    ZL_ARGS(1);
    ZL_U32(0, entries);
    return zl_int(env, create(G, entries, 0, -1, 0));
}

napi_value zl_create_ring_ex(napi_env env, napi_callback_info info) {
    ZL_ARGS(4);
    ZL_U32(0, entries);
    ZL_U32(1, flags);
    ZL_I32(2, cpu);
    ZL_U32(3, idle_ms);
    return zl_int(env, create(G, entries, flags, cpu, idle_ms));
}

napi_value zl_destroy_ring(napi_env env, napi_callback_info info) {
    ZL_ARGS(1);
    ZL_RING(0, r);
    zl_ring_teardown(env, G, r);
    return zl_int(env, 0);
}

napi_value zl_get_ring_flags(napi_env env, napi_callback_info info) {
    ZL_ARGS(1);
    ZL_U32(0, h);
    Ring* r = zl_ring(G, h);
    napi_value v;
    napi_create_bigint_int64(env, r ? static_cast<int64_t>(r->ring.flags) : -EBADF, &v);
    return v;
}
