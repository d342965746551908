// zl_track.cc — in-flight accounting. Every SQE the guest can prepare ends
// with exactly one CQE without IORING_CQE_F_MORE (no links, no zero-copy
// notifications are reachable; the only CQE_SKIP_SUCCESS SQE is the host's own
// NOP, which is never recorded), so counting flushed SQEs up and final CQEs
// down tells exactly which user_data values are in flight, and as what.
#include <unistd.h>

#include <cstring>

#include "zl_fd.h"
#include "zl_ring.h"
#include "zl_slab.h"

// ---------------------------------------------------------------- OpTable
// Open addressing, linear probing, backward-shift deletion: no allocation
// except when the live set doubles.

OpEntry* OpTable::find(uint64_t key) const {
    if (n_ == 0) return nullptr;
    ZL_ASSERT(n_ * 2 <= cap_);  // written by upsert()/grow()
    for (uint32_t i = slot(key);; i = (i + 1) & (cap_ - 1)) {
        OpEntry* e = &t_[i];
        if (e->total == 0) return nullptr;
        if (e->key == key) {
            ZL_ASSERT(e->accepts == 0 || e->accepts == e->total);  // one class per user_data
            return e;
        }
    }
}

OpEntry* OpTable::upsert(uint64_t key) {
    if ((n_ + 1) * 2 > cap_) grow();
    for (uint32_t i = slot(key);; i = (i + 1) & (cap_ - 1)) {
        OpEntry* e = &t_[i];
        if (e->total == 0) {
            e->key = key;
            e->accepts = 0;
            n_++;
            return e;
        }
        if (e->key == key) return e;
    }
}

void OpTable::erase(OpEntry* e) {
    ZL_ASSERT(n_ > 0 && e >= t_ && e < t_ + cap_ && e->total == 0 && e->accepts == 0);
    uint32_t mask = cap_ - 1;
    uint32_t i = static_cast<uint32_t>(e - t_);
    for (uint32_t j = (i + 1) & mask; t_[j].total != 0; j = (j + 1) & mask) {
        uint32_t k = slot(t_[j].key);
        // t_[j] may move into the hole i unless its home k lies cyclically in (i, j].
        bool stays = (i <= j) ? (i < k && k <= j) : (i < k || k <= j);
        if (!stays) {
            t_[i] = t_[j];
            i = j;
        }
    }
    t_[i].total = 0;
    t_[i].accepts = 0;
    n_--;
}

void OpTable::grow() {
    OpEntry* old = t_;
    uint32_t oldcap = cap_;
    cap_ = cap_ ? cap_ * 2 : 64;
    t_ = new OpEntry[cap_];
    memset(t_, 0, sizeof(OpEntry) * cap_);
    n_ = 0;
    for (uint32_t i = 0; i < oldcap; i++) {
        if (old[i].total == 0) continue;
        OpEntry* e = upsert(old[i].key);
        *e = old[i];
    }
    delete[] old;
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

void zl_sqe_neutralize(struct io_uring_sqe* sqe) {
    uint64_t ud = sqe->user_data;
    memset(sqe, 0, sizeof *sqe);
    sqe->opcode = IORING_OP_NOP;
    sqe->fd = -1;
    sqe->flags = IOSQE_CQE_SKIP_SUCCESS;  // a NOP cannot fail: no CQE at all
    sqe->user_data = ud;
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

void unrecord(Ring* r, uint32_t from, uint32_t to) {
    for (uint32_t p = from; p != to; p++) {
        const struct io_uring_sqe* sqe = &r->ring.sq.sqes[p & r->sq_mask];
        if (is_host_nop(sqe)) continue;
        OpEntry* e = r->ops.find(sqe->user_data);
        ZL_ASSERT(e != nullptr && e->total > 0 && r->live > 0);  // recorded by zl_before_flush
        if (sqe->opcode == IORING_OP_ACCEPT) {
            ZL_ASSERT(e->accepts == e->total);
            e->accepts--;
        }
        if (--e->total == 0) r->ops.erase(e);
        r->live--;
    }
}
}  // namespace

int zl_before_flush(const Guest* G, Ring* r) {
    uint32_t head = r->ring.sq.sqe_head, tail = r->ring.sq.sqe_tail;
    ZL_ASSERT(tail - head <= r->ring.sq.ring_entries);
    for (uint32_t p = head; p != tail; p++) {
        struct io_uring_sqe* sqe = &r->ring.sq.sqes[p & r->sq_mask];
        if (names_any_fd(sqe) && !zl_fd_owned(G, sqe->fd)) zl_sqe_neutralize(sqe);
        if (is_host_nop(sqe)) continue;
        bool accept = sqe->opcode == IORING_OP_ACCEPT;
        OpEntry* e = r->ops.upsert(sqe->user_data);
        if (e->total != 0 && (e->accepts != 0) != accept) {
            // The kernel would hand back this user_data for both an fd and a
            // number that is not one: refuse the whole flush, undo this one's
            // records, leave the SQEs prepared (the guest may re-tag them).
            unrecord(r, head, p);
            return -EINVAL;
        }
        e->total++;
        if (accept) e->accepts++;
        ZL_ASSERT(e->accepts == 0 || e->accepts == e->total);
        r->live++;
    }
    r->checked_tail = tail;
    return 0;
}

void zl_after_flush(Ring* r, uint32_t old_head) {
    uint32_t head = r->ring.sq.sqe_head;
    // Every flush path publishes the whole prepared range, which
    // zl_before_flush recorded.
    ZL_ASSERT(head == r->checked_tail);
    if (head != old_head) r->epoch++;  // every handle of the flushed SQEs is now stale
}

void zl_after_wait(const Ring* r, uint32_t old_head) { ZL_ASSERT(r->ring.sq.sqe_head == old_head); }

void zl_unflush(Ring* r, uint32_t from, uint32_t to) {
    unrecord(r, from, to);
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
        struct io_uring_sqe* sqe = &sq->sqes[p & r->sq_mask];
        if (zl_sqe_names_fd(sqe, fd)) zl_sqe_neutralize(sqe);
    }
    return 0;
}

void zl_process_cqes(const Guest* G, Ring* r, uint32_t end, bool read) {
    uint32_t head = *r->ring.cq.khead;
    uint32_t p = r->cq_proc;
    if (static_cast<int32_t>(head - p) > 0) p = head;  // never behind the head
    bool finals = false;
    for (; static_cast<int32_t>(end - p) > 0; p++) {
        const struct io_uring_cqe* c = &r->ring.cq.cqes[p & r->ring.cq.ring_mask];
        OpEntry* e = r->ops.find(c->user_data);
        if (e == nullptr) {
            // Only SQEs recorded at the flush complete, except at teardown,
            // where an SQPOLL thread may take SQEs the host already forgot.
            ZL_ASSERT(r->tearing);
            continue;
        }
        if (c->res >= 0 && e->accepts != 0) {
            // Read: the guest's now. Dropped unread: nobody will ever close it.
            if (!read || !zl_fd_own(G, c->res)) close(c->res);
        }
        if (!(c->flags & IORING_CQE_F_MORE)) {
            ZL_ASSERT(r->live > 0 && e->total > 0);
            if (e->accepts != 0) e->accepts--;
            if (--e->total == 0) r->ops.erase(e);
            r->live--;
            finals = true;
        }
    }
    r->cq_proc = p;
    if (finals && !r->quarantine.empty() && zl_ring_idle(r)) zl_release_quarantine(G->E->env, r);
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
