// zl_ring.h — a ring and what the host must remember about it to keep the
// guest inside its sandbox: what each in-flight user_data value is (so that
// only an accept's `res` ever becomes an owned fd), how many submitted
// operations have not completed yet (so that slab memory a send may still read
// is kept mapped), and the SQE handle epoch.
#pragma once

#include <liburing.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "zl_env.h"

struct Mapping;
struct Watch;

// The op table: one slot per guest token (user-data value) in flight, sized
// at ring creation (ZL_OP_SLOTS_DEFAULT, or ZERGLING_OP_SLOTS read then) and
// never grown. The kernel never sees a guest token: every SQE carries
// zl_op_kud(slot index, slot generation), so a CQE finds its record by array
// index. A token names accepts only or other operations only (the flush and
// queue-* refuse a mix), so a CQE's `res` is a new fd exactly when its slot
// is an accept slot: the helper never has to guess what a number is. Ops
// sharing a token share its slot (`total` counts them), so a cancel of a token
// still reaches every op queued with it, as on a kernel that sees the token.
// The token -> slot index (queueing, flush, cancel targets: per SQE, never
// per CQE) is a chain through the slots: freeing a slot unlinks it in O(1).
struct OpSlot {
    uint64_t token;     // the guest's user-data, written back into each CQE
    uint32_t gen;       // bumped when the slot is freed; >= 1 (0: no kernel ud matches)
    uint32_t total;     // ops recorded with this token; 0 = free
    uint32_t accepts;   // of which accepts: 0 or total, never in between
    uint32_t next;      // token chain (in use) or free list (free); 0 = end
    uint32_t prev;      // token chain predecessor, 0 = bucket head; OP_FREE when free
    uint32_t bucket;    // bucket of the chain the slot is linked in
};
static_assert(sizeof(OpSlot) == 32, "OpSlot: two per cache line");

constexpr uint32_t OP_FREE = 0xffffffffu;
constexpr uint32_t ZL_OP_SLOTS_DEFAULT = 1u << 18;  // distinct tokens in flight per ring
constexpr uint32_t ZL_OP_SLOTS_MAX = 1u << 24;
// Kernel user_data of a slot: generation in the high word, index in the low.
inline uint64_t zl_op_kud(uint32_t idx, uint32_t gen) { return (static_cast<uint64_t>(gen) << 32) | idx; }
// A cancel target no op carries (slot 0 is never handed out): the kernel
// answers -ENOENT, as for a token nothing is queued with.
constexpr uint64_t ZL_KUD_NONE = 0;

class OpTable {
public:
    ~OpTable();
    // capacity_slots - 1 usable slots (index 0 is reserved); false on ENOMEM.
    bool init(uint32_t capacity_slots);
    // The slot of a token in flight, or 0 (a hash lookup: counted).
    uint32_t find(uint64_t token);
    // A fresh slot for token (total 0, linked in the index), or 0 when full.
    uint32_t take(uint64_t token);
    // A slot whose total dropped to 0: unlinked, generation bumped, freed.
    void release(uint32_t idx);
    // The slot a kernel user_data names, or nullptr when it names none in use
    // (stale generation, out of range). Array indexing only.
    OpSlot* resolve(uint64_t kud) const {
        uint32_t idx = static_cast<uint32_t>(kud);
        if (idx == 0 || idx >= fresh_) return nullptr;
        OpSlot* s = &s_[idx];
        if (s->gen != static_cast<uint32_t>(kud >> 32) || s->total == 0) return nullptr;
        ZL_ASSERT(s->prev != OP_FREE && s->accepts <= s->total);  // written by take()/record
        return s;
    }
    OpSlot& at(uint32_t idx) const {
        ZL_ASSERT(idx != 0 && idx < fresh_);  // handed out by take()
        return s_[idx];
    }
    uint64_t kud(uint32_t idx) const { return zl_op_kud(idx, at(idx).gen); }
    bool full() const { return free_ == 0 && fresh_ >= cap_; }
    uint32_t size() const { return used_; }
    uint32_t capacity() const { return cap_ - 1; }
    uint64_t lookups = 0;  // find() calls: hash lookups

private:
    uint32_t hash(uint64_t token) const {
        return static_cast<uint32_t>((token * 0x9E3779B97F4A7C15ull) >> 32) & bmask_;
    }
    OpSlot* s_ = nullptr;
    uint32_t* buckets_ = nullptr;  // chain heads, 0 = empty
    uint32_t bmask_ = 0;
    uint32_t cap_ = 0;    // slots including the reserved index 0
    uint32_t fresh_ = 1;  // slots [1, fresh_) have been handed out at least once
    uint32_t free_ = 0;   // free list head
    uint32_t used_ = 0;
};

// What the helper did on the completion path (peek-batch-cqe, wait-cqe*,
// cq-advance, cqe-seen): test/native/optable.test.ts reads them (ringInfo).
struct RingCounters {
    uint64_t cqes = 0;              // CQEs accounted for
    uint64_t cqe_hash_lookups = 0;  // token-index lookups made while accounting CQEs
    uint64_t cqe_syscalls = 0;      // syscalls made on the completion path
    uint64_t cqe_stale = 0;         // CQEs whose user_data names no slot in use
    uint64_t sqe_hash_lookups = 0;  // token-index lookups while queueing / flushing
    uint64_t queued = 0;            // SQEs queued by queue-* (fused)
    uint64_t flushed_legacy = 0;    // get-sqe SQEs recorded at a flush
};

// The msghdr + iovecs of a prep-sendmsg live with the SQ slot: the kernel
// copies them while consuming the SQE, and a slot is handed out again only
// after the kernel has consumed it.
constexpr uint32_t MAX_IOV = 64;
struct MsgStore {
    struct msghdr msg;
    struct iovec iov[MAX_IOV];
};
static_assert(sizeof(struct iovec) == 16 && sizeof(MsgStore) == sizeof(struct msghdr) + MAX_IOV * 16,
              "MsgStore: one msghdr and MAX_IOV iovecs");
static_assert(sizeof(struct io_uring_sqe) == 64, "io_uring_sqe: 64 bytes (no SQE128 rings)");

constexpr uint32_t SQ_FUSED = 0x80000000u;
static_assert(ZL_OP_SLOTS_MAX <= SQ_FUSED, "slot indices leave the SQ_FUSED bit free");

struct Quarantined {
    Mapping* map;      // mmap'ed slab memory, or
    napi_ref pinned;   // a lent ArrayBuffer
};

struct Ring {
    uint32_t handle = 0, idx = 0;
    uint32_t guest = 0;  // Guest::id of its creator
    struct io_uring ring;
    uint32_t sq_mask = 0, sq_shift = 0;
    uint32_t epoch = 0, epoch_mask = 0;  // bumped whenever SQEs reach the kernel
    int evfd = -1;
    uint32_t cq_proc = 0;   // CQ position up to which CQEs were accounted for
    uint32_t live = 0;      // flushed operations whose final CQE was not seen yet
    uint32_t checked_tail = 0;  // SQ tail up to which zl_before_flush recorded SQEs
    bool tearing = false;       // teardown: CQEs of unflushed SQEs may still appear
    OpTable ops;
    // Per SQ slot: the op slot the prepared SQE holds. SQ_FUSED | idx: queued
    // by queue-* (recorded already; no SQE handle reaches it); idx: a get-sqe
    // SQE recorded by the current flush; 0: a get-sqe SQE not recorded yet.
    std::vector<uint32_t> sq_op;
    RingCounters counters;
    std::vector<MsgStore*> msgs;          // per SQ slot, allocated on first use
    std::vector<BufRing*> bufrings;
    std::vector<Quarantined> quarantine;  // released when the ring is idle or destroyed
    Watch* watch = nullptr;
    uint32_t watch_id = 0;
};

Ring* zl_ring(const Guest* G, uint32_t handle);
// In an export (after ZL_ARGS): `r` is G's ring of handle argv[i], or the
// export returns -EBADF. For exports that read no other argument first.
#define ZL_RING(i, r)                       \
    ZL_U32(i, r##_handle_);                 \
    Ring* r = zl_ring(G, r##_handle_);      \
    if (r == nullptr) return zl_err(env, EBADF)

// SQE handle: bits 0..5 ring index, then log2(sq entries) bits of SQ slot,
// then the ring's epoch (truncated). Valid only while the slot is prepared
// and not yet flushed to the kernel in the same epoch.
int32_t zl_sqe_handle(Ring* r, uint32_t pos);
struct io_uring_sqe* zl_sqe(const Guest* G, uint32_t handle, Ring** ring_out, uint32_t* slot_out);

// Call right before anything that flushes the SQ (submit, submit-and-wait*,
// enter). Re-checks every prepared SQE against the guest's fds (one naming an
// fd the guest no longer owns becomes a NOP that posts no CQE) and records it
// as in flight; 0, or -EINVAL (nothing recorded, nothing may be flushed) when
// an SQE would share its user_data with an in-flight or prepared operation of
// the other class (accept / not accept).
int zl_before_flush(const Guest* G, Ring* r);
// Call after the flush: checks that exactly the recorded SQEs went out and
// ends their handles.
void zl_after_flush(Ring* r, uint32_t old_sqe_head);
// Call after a wait (which never flushes: rings need IORING_FEAT_EXT_ARG).
void zl_after_wait(const Ring* r, uint32_t old_sqe_head);
// Does `sqe` make the kernel use fd?
bool zl_sqe_names_fd(const struct io_uring_sqe* sqe, int32_t fd);
// Turns the prepared SQE at SQ position pos into a NOP that posts no CQE
// (dropping the op record a queue-* SQE holds).
void zl_sqe_neutralize(Ring* r, uint32_t pos);
// Where queue-* would record an op of token: *idx = its slot when in flight,
// else 0 (a free slot exists). 0, -EINVAL (the token is in flight as the
// other class: accept / not accept) or -ENOBUFS (the op table is full).
// Changes nothing.
int zl_op_slot_for(Ring* r, uint64_t token, bool accept, uint32_t* idx);
// Records the queue-* SQE just taken at SQ position pos: slot idx (from
// zl_op_slot_for; 0 takes a fresh one) gains one op; writes its kernel user_data.
void zl_record_fused(Ring* r, uint32_t pos, uint64_t token, uint32_t idx, bool accept);
// Drops every record of SQEs prepared but never flushed (teardown).
void zl_unqueue(Ring* r);
// fd is about to stop being the guest's: 0 after turning its prepared SQEs
// on r into NOPs, or -EBUSY (nothing changed) while SQEs naming it were
// flushed to the kernel but not consumed yet.
int zl_ring_forget_fd(Ring* r, int32_t fd, bool dry_run);
// Forgets SQEs in [from, to) that were flushed but that the kernel will never
// consume (the ring is going away).
void zl_unflush(Ring* r, uint32_t from, uint32_t to);
// Accounts CQEs up to CQ position `end`. `read`: the guest sees them (accepted
// fds become owned); otherwise they are being dropped unread (accepted fds are
// closed, since nobody will ever learn them).
// Each CQE's user_data is rewritten in place (in the CQ ring) to the guest's
// token, so any copy made afterwards hands the guest its own values.
void zl_process_cqes(const Guest* G, Ring* r, uint32_t end, bool read);
bool zl_ring_idle(const Ring* r);
void zl_release_quarantine(napi_env env, Ring* r);

// Teardown shared by destroy-ring and env cleanup.
void zl_ring_teardown(napi_env env, const Guest* G, Ring* r);

// Timespec argument: -EINVAL unless 0 <= sec and 0 <= nsec < 1e9.
int zl_timespec(napi_env env, napi_value v, struct __kernel_timespec* ts, bool* threw);
