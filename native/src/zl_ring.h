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

// Operations in flight per user_data, recorded when their SQEs are flushed to
// the kernel. A user_data value names either accepts only or other operations
// only (the flush refuses an SQE that would mix them), so a CQE's `res` is a
// new fd exactly when its user_data's record is an accept record: the helper
// never has to guess what a number is. (When user_data becomes an op-table
// index, this lookup becomes a direct index; the record stays the same.)
struct OpEntry {
    uint64_t key;
    uint32_t total;    // in flight with this user_data; 0 = empty slot
    uint32_t accepts;  // of which accepts: 0 or total, never in between
};

class OpTable {
public:
    ~OpTable() { delete[] t_; }
    OpEntry* find(uint64_t key) const;
    OpEntry* upsert(uint64_t key);  // a new entry has total 0: caller increments
    void erase(OpEntry* e);
    uint32_t size() const { return n_; }

private:
    uint32_t slot(uint64_t key) const {
        return static_cast<uint32_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & (cap_ - 1);
    }
    void grow();
    OpEntry* t_ = nullptr;
    uint32_t cap_ = 0;
    uint32_t n_ = 0;
};

// The msghdr + iovecs of a prep-sendmsg live with the SQ slot: the kernel
// copies them while consuming the SQE, and a slot is handed out again only
// after the kernel has consumed it.
constexpr uint32_t MAX_IOV = 64;
struct MsgStore {
    struct msghdr msg;
    struct iovec iov[MAX_IOV];
};

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
    std::vector<MsgStore*> msgs;          // per SQ slot, allocated on first use
    std::vector<BufRing*> bufrings;
    std::vector<Quarantined> quarantine;  // released when the ring is idle or destroyed
    Watch* watch = nullptr;
    uint32_t watch_id = 0;
};

Ring* zl_ring(const Guest* G, uint32_t handle);

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
// Turns a prepared SQE into a NOP that posts no CQE.
void zl_sqe_neutralize(struct io_uring_sqe* sqe);
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
void zl_process_cqes(const Guest* G, Ring* r, uint32_t end, bool read);
bool zl_ring_idle(const Ring* r);
void zl_release_quarantine(napi_env env, Ring* r);

// Teardown shared by destroy-ring and env cleanup.
void zl_ring_teardown(napi_env env, const Guest* G, Ring* r);

// Timespec argument: -EINVAL unless 0 <= sec and 0 <= nsec < 1e9.
int zl_timespec(napi_env env, napi_value v, struct __kernel_timespec* ts, bool* threw);
