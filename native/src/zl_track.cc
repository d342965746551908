// zl_track.cc — in-flight accounting. Every SQE the guest can prepare ends
// with exactly one CQE without IORING_CQE_F_MORE (no links, no zero-copy
// notifications are reachable; the only CQE_SKIP_SUCCESS SQE is the host's own
// NOP, which is never recorded), so counting flushed SQEs up and final CQEs
// down tells exactly which tokens are in flight, and as what. The records are
// op-table slots (zl_ring.h): an SQE is recorded when queue-* queues it or,
// from get-sqe, when it is flushed; a CQE finds its slot by the index in its
// kernel user_data.
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "zl_fd.h"
#include "zl_ring.h"
#include "zl_slab.h"

// ---------------------------------------------------------------- OpTable
// Fixed capacity, allocated once (calloc: pages a ring never reaches stay
// untouched); slots come from the free list, else from the never-used tail.

OpTable::~OpTable() {
    std::free(s_);
    std::free(buckets_);
}

bool OpTable::init(uint32_t capacity_slots) {
    ZL_ASSERT(s_ == nullptr && capacity_slots >= 2 && capacity_slots <= ZL_OP_SLOTS_MAX);
    uint32_t nb = 1;
    while (nb < capacity_slots) nb <<= 1;
    s_ = static_cast<OpSlot*>(std::calloc(capacity_slots, sizeof(OpSlot)));
    buckets_ = static_cast<uint32_t*>(std::calloc(nb, sizeof(uint32_t)));
    if (s_ == nullptr || buckets_ == nullptr) return false;
    bmask_ = nb - 1;
    cap_ = capacity_slots;
    return true;
}

uint32_t OpTable::find(uint64_t token) {
    lookups++;
    uint32_t b = hash(token);
    uint32_t n = 0;
    for (uint32_t i = buckets_[b]; i != 0; i = s_[i].next) {
        const OpSlot& s = at(i);
        ZL_ASSERT(s.total > 0 && s.prev != OP_FREE && s.bucket == b);  // linked by take()
        ZL_ASSERT(++n <= used_);                                        // no cycle
        if (s.token == token) return i;
    }
    return 0;
}

uint32_t OpTable::take(uint64_t token) {
    uint32_t i;
    if (free_ != 0) {
        i = free_;
        ZL_ASSERT(i < fresh_);
        OpSlot& f = s_[i];
        ZL_ASSERT(f.prev == OP_FREE && f.total == 0 && f.accepts == 0 && f.gen != 0);  // written by release()
        free_ = f.next;
    } else if (fresh_ < cap_) {
        i = fresh_++;
        s_[i].gen = 1;
    } else {
        return 0;
    }
    OpSlot& s = s_[i];
    s.token = token;
    s.total = 0;
    s.accepts = 0;
    s.bucket = hash(token);
    s.prev = 0;
    s.next = buckets_[s.bucket];
    if (s.next != 0) {
        OpSlot& h = at(s.next);
        ZL_ASSERT(h.prev == 0 && h.bucket == s.bucket);  // the old head
        h.prev = i;
    }
    buckets_[s.bucket] = i;
    used_++;
    ZL_ASSERT(used_ < cap_);
    return i;
}

void OpTable::release(uint32_t i) {
    OpSlot& s = at(i);
    ZL_ASSERT(s.total == 0 && s.accepts == 0 && s.prev != OP_FREE && used_ > 0);
    if (s.prev == 0) {
        ZL_ASSERT(buckets_[s.bucket] == i);
        buckets_[s.bucket] = s.next;
    } else {
        ZL_ASSERT(at(s.prev).next == i);
        s_[s.prev].next = s.next;
    }
    if (s.next != 0) {
        ZL_ASSERT(at(s.next).prev == i);
        s_[s.next].prev = s.prev;
    }
    // A new generation: a CQE still naming the old one can never match.
    s.gen = s.gen + 1 == 0 ? 1 : s.gen + 1;
    s.prev = OP_FREE;
    s.next = free_;
    free_ = i;
    used_--;
}

namespace {
// One more op recorded on slot idx.
void ref(Ring* r, uint32_t idx, bool accept) {
    OpSlot& s = r->ops.at(idx);
    ZL_ASSERT(s.prev != OP_FREE);
    ZL_ASSERT(s.total == 0 || (s.accepts != 0) == accept);  // one class per token
    s.total++;
    if (accept) s.accepts++;
    ZL_ASSERT(s.accepts == 0 || s.accepts == s.total);
    r->live++;
}

// One op of slot idx ended (final CQE, neutralized, never flushed or consumed).
void unref(Ring* r, uint32_t idx, bool accept) {
    OpSlot& s = r->ops.at(idx);
    ZL_ASSERT(s.total > 0 && r->live > 0);
    ZL_ASSERT((s.accepts != 0) == accept);  // recorded by ref() with the same class
    if (accept) s.accepts--;
    s.total--;
    r->live--;
    if (s.total == 0) r->ops.release(idx);
}
}  // namespace

int zl_op_slot_for(Ring* r, uint64_t token, bool accept, uint32_t* idx) {
    uint32_t i = r->ops.find(token);
    if (i != 0) {
        if ((r->ops.at(i).accepts != 0) != accept) return -EINVAL;
        *idx = i;
        return 0;
    }
    if (r->ops.full()) return -ENOBUFS;
    *idx = 0;
    return 0;
}

void zl_record_fused(Ring* r, uint32_t pos, uint64_t token, uint32_t idx, bool accept) {
    uint32_t k = pos & r->sq_mask;
    if (idx == 0) idx = r->ops.take(token);
    ZL_ASSERT(idx != 0 && r->ops.at(idx).token == token);  // zl_op_slot_for saw it or a free slot
    ref(r, idx, accept);
    struct io_uring_sqe* sqe = &r->ring.sq.sqes[k];
    sqe->user_data = r->ops.kud(idx);
    ZL_ASSERT(r->ops.resolve(sqe->user_data) == &r->ops.at(idx));  // generation round trip
    ZL_ASSERT(r->sq_op[k] == 0);  // cleared by zl_after_flush / get-sqe
    r->sq_op[k] = SQ_FUSED | idx;
    r->counters.queued++;
}

// ---------------------------------------------------------------- prepared SQEs

bool zl_sqe_names_fd(const struct io_uring_sqe* sqe, int32_t fd) {
    switch (sqe->opcode) {
    case IORING_OP_ACCEPT:
    case IORING_OP_RECV:
    case IORING_OP_SEND:
    case IORING_OP_SENDMSG:
        return sqe->fd == fd;
    default:
        return false;  // NOP, ASYNC_CANCEL: no fd
    }
}

void zl_sqe_neutralize(Ring* r, uint32_t pos) {
    uint32_t k = pos & r->sq_mask;
    struct io_uring_sqe* sqe = &r->ring.sq.sqes[k];
    uint32_t held = r->sq_op[k];
    if (held & SQ_FUSED) {
        uint32_t idx = held & ~SQ_FUSED;
        ZL_ASSERT(sqe->user_data == r->ops.kud(idx));  // written by zl_record_fused
        unref(r, idx, sqe->opcode == IORING_OP_ACCEPT);
        r->sq_op[k] = 0;
    } else {
        ZL_ASSERT(held == 0);  // get-sqe SQEs are recorded by the flush, after its fd check
    }
    memset(sqe, 0, sizeof *sqe);
    sqe->opcode = IORING_OP_NOP;
    sqe->fd = -1;
    sqe->flags = IOSQE_CQE_SKIP_SUCCESS;  // a NOP cannot fail: no CQE at all
    sqe->user_data = ZL_KUD_NONE;
}

namespace {
bool is_host_nop(const struct io_uring_sqe* sqe) {
    if (!(sqe->flags & IOSQE_CQE_SKIP_SUCCESS)) return false;
    ZL_ASSERT(sqe->opcode == IORING_OP_NOP && sqe->fd == -1);  // only zl_sqe_neutralize sets it
    return true;
}

// An SQE the fd check may have to act on: the kernel resolves its fd when it
// consumes the SQE, so ownership is what it is at the flush, not at prep.
bool names_any_fd(const struct io_uring_sqe* sqe) { return zl_sqe_names_fd(sqe, sqe->fd); }

bool is_accept(const struct io_uring_sqe* sqe) { return sqe->opcode == IORING_OP_ACCEPT; }

// Undoes the records this flush made for get-sqe SQEs in [from, to): their
// tokens go back into the SQEs, which stay prepared (the guest may re-tag).
void unrecord_flush(Ring* r, uint32_t from, uint32_t to) {
    for (uint32_t p = from; p != to; p++) {
        uint32_t k = p & r->sq_mask;
        struct io_uring_sqe* sqe = &r->ring.sq.sqes[k];
        uint32_t held = r->sq_op[k];
        if (is_host_nop(sqe) || (held & SQ_FUSED)) continue;
        ZL_ASSERT(held != 0 && sqe->user_data == r->ops.kud(held));  // recorded by zl_before_flush
        sqe->user_data = r->ops.at(held).token;
        unref(r, held, is_accept(sqe));
        r->sq_op[k] = 0;
        r->counters.flushed_legacy--;
    }
}
}  // namespace

int zl_before_flush(const Guest* G, Ring* r) {
    uint32_t head = r->ring.sq.sqe_head, tail = r->ring.sq.sqe_tail;
    ZL_ASSERT(tail - head <= r->ring.sq.ring_entries);
    for (uint32_t p = head; p != tail; p++) {
        uint32_t k = p & r->sq_mask;
        struct io_uring_sqe* sqe = &r->ring.sq.sqes[k];
        if (names_any_fd(sqe) && !zl_fd_owned(G, sqe->fd)) zl_sqe_neutralize(r, p);
        if (is_host_nop(sqe)) continue;
        bool accept = is_accept(sqe);
        uint32_t held = r->sq_op[k];
        if (held & SQ_FUSED) {
            // queue-*: recorded when queued; no SQE handle reaches it since.
            uint32_t idx = held & ~SQ_FUSED;
            ZL_ASSERT(sqe->user_data == r->ops.kud(idx) && (r->ops.at(idx).accepts != 0) == accept);
            continue;
        }
        ZL_ASSERT(held == 0);  // cleared by get-sqe
        // get-sqe: the SQE holds the guest's token until now. The kernel would
        // hand a token back for both an fd and a number that is not one, or
        // the op table is full: refuse the whole flush, undo this one's
        // records, leave the SQEs prepared (the guest may re-tag them).
        uint64_t token = sqe->user_data;
        uint32_t idx;
        int refused = zl_op_slot_for(r, token, accept, &idx);
        if (refused) {
            unrecord_flush(r, head, p);
            return refused;
        }
        if (idx == 0) idx = r->ops.take(token);
        ZL_ASSERT(idx != 0);  // zl_op_slot_for saw a free slot
        ref(r, idx, accept);
        sqe->user_data = r->ops.kud(idx);
        ZL_ASSERT(r->ops.resolve(sqe->user_data) == &r->ops.at(idx));  // generation round trip
        r->sq_op[k] = idx;
        r->counters.flushed_legacy++;
    }
    // Cancel targets are guest tokens: now that every SQE before them is
    // recorded, name the target's slot (ZL_KUD_NONE when nothing is in flight
    // with it: the kernel answers -ENOENT). One lookup per cancel.
    for (uint32_t p = head; p != tail; p++) {
        struct io_uring_sqe* sqe = &r->ring.sq.sqes[p & r->sq_mask];
        if (sqe->opcode != IORING_OP_ASYNC_CANCEL || (sqe->cancel_flags & IORING_ASYNC_CANCEL_ANY)) continue;
        uint32_t t = r->ops.find(sqe->addr);
        sqe->addr = t != 0 ? r->ops.kud(t) : ZL_KUD_NONE;
    }
    r->checked_tail = tail;
    return 0;
}

void zl_after_flush(Ring* r, uint32_t old_head) {
    uint32_t head = r->ring.sq.sqe_head;
    // Every flush path publishes the whole prepared range, which
    // zl_before_flush recorded.
    ZL_ASSERT(head == r->checked_tail);
    for (uint32_t p = old_head; p != head; p++) r->sq_op[p & r->sq_mask] = 0;  // the SQEs carry kernel user_data now
    if (head != old_head) r->epoch++;  // every handle of the flushed SQEs is now stale
}

void zl_after_wait(const Ring* r, uint32_t old_head) { ZL_ASSERT(r->ring.sq.sqe_head == old_head); }

void zl_unflush(Ring* r, uint32_t from, uint32_t to) {
    for (uint32_t p = from; p != to; p++) {
        const struct io_uring_sqe* sqe = &r->ring.sq.sqes[p & r->sq_mask];
        if (is_host_nop(sqe)) continue;
        ZL_ASSERT(r->ops.resolve(sqe->user_data) != nullptr);  // its op holds the slot until its final CQE
        unref(r, static_cast<uint32_t>(sqe->user_data), is_accept(sqe));
    }
}

void zl_unqueue(Ring* r) {
    for (uint32_t p = r->ring.sq.sqe_head; p != r->ring.sq.sqe_tail; p++) {
        uint32_t k = p & r->sq_mask;
        uint32_t held = r->sq_op[k];
        if (!(held & SQ_FUSED)) continue;
        ZL_ASSERT(!is_host_nop(&r->ring.sq.sqes[k]));  // zl_sqe_neutralize clears sq_op
        unref(r, held & ~SQ_FUSED, is_accept(&r->ring.sq.sqes[k]));
        r->sq_op[k] = 0;
    }
}

int zl_ring_forget_fd(Ring* r, int32_t fd, bool dry_run) {
    struct io_uring_sq* sq = &r->ring.sq;
    // Flushed but not consumed: the kernel will resolve fd when it gets there.
    // An SQPOLL thread gets there by itself; give it a moment first.
    for (int wait = 0;; wait++) {
        uint32_t khead = io_uring_smp_load_acquire(sq->khead);
        ZL_ASSERT(sq->sqe_head - khead <= sq->ring_entries);
        bool busy = false;
        for (uint32_t p = khead; p != sq->sqe_head && !busy; p++)
            busy = zl_sqe_names_fd(&sq->sqes[p & r->sq_mask], fd);
        if (!busy) break;
        if (!(r->ring.flags & IORING_SETUP_SQPOLL) || wait >= 20) return -EBUSY;
        io_uring_enter(r->ring.ring_fd, 0, 0, IORING_ENTER_SQ_WAKEUP, nullptr);
        usleep(500);
    }
    if (dry_run) return 0;
    for (uint32_t p = sq->sqe_head; p != sq->sqe_tail; p++) {
        if (zl_sqe_names_fd(&sq->sqes[p & r->sq_mask], fd)) zl_sqe_neutralize(r, p);
    }
    return 0;
}

// Per CQE: one array index, a generation compare, one store (the token back
// into the CQE). No hash lookup, no syscall unless an accepted fd must be
// closed because nobody will read it.
void zl_process_cqes(const Guest* G, Ring* r, uint32_t end, bool read) {
    uint32_t head = *r->ring.cq.khead;
    uint32_t p = r->cq_proc;
    if (static_cast<int32_t>(head - p) > 0) p = head;  // never behind the head
    uint64_t lookups0 = r->ops.lookups;
    bool finals = false;
    for (; static_cast<int32_t>(end - p) > 0; p++) {
        struct io_uring_cqe* c = &r->ring.cq.cqes[p & r->ring.cq.ring_mask];
        r->counters.cqes++;
        OpSlot* s = r->ops.resolve(c->user_data);
        if (s == nullptr) {
            // Only SQEs recorded at the flush complete, except at teardown,
            // where an SQPOLL thread may take SQEs the host already forgot.
            // Anything else is a helper bug: loud in debug builds; in release
            // the CQE reaches no op (token 0, res never taken as an fd).
            if (!r->tearing) r->counters.cqe_stale++;
            ZL_DEBUG_ASSERT(r->tearing);
            c->user_data = 0;
            continue;
        }
        uint32_t idx = static_cast<uint32_t>(c->user_data);
        bool accept = s->accepts != 0;
        c->user_data = s->token;  // the guest sees its own token only
        if (c->res >= 0 && accept) {
            // Read: the guest's now. Dropped unread: nobody will ever close it.
            if (!read || !zl_fd_own(G, c->res)) {
                close(c->res);
                r->counters.cqe_syscalls++;
            }
        }
        if (!(c->flags & IORING_CQE_F_MORE)) {
            unref(r, idx, accept);  // the final CQE: the op is over
            finals = true;
        }
    }
    r->cq_proc = p;
    r->counters.cqe_hash_lookups += r->ops.lookups - lookups0;
    if (finals && !r->quarantine.empty() && zl_ring_idle(r)) {
        r->counters.cqe_syscalls += r->quarantine.size();  // at most one munmap each
        zl_release_quarantine(G->E->env, r);
    }
}

bool zl_ring_idle(const Ring* r) {
    return r->live == 0 && r->ring.sq.sqe_head == r->ring.sq.sqe_tail;
}

void zl_release_quarantine(napi_env env, Ring* r) {
    for (Quarantined& q : r->quarantine) {
        if (q.map != nullptr) zl_mapping_unref(q.map);
        if (q.pinned != nullptr) napi_delete_reference(env, q.pinned);
    }
    r->quarantine.clear();
}
