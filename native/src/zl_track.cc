// zl_track.cc — in-flight accounting. Every SQE the guest can prepare ends
// with exactly one CQE without IORING_CQE_F_MORE (no links, no CQE_SKIP, no
// zero-copy notifications are reachable), so counting flushed SQEs up and
// final CQEs down tells exactly which user_data values are in flight.
#include <sys/socket.h>
#include <sys/stat.h>
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
    for (uint32_t i = slot(key);; i = (i + 1) & (cap_ - 1)) {
        OpEntry* e = &t_[i];
        if (e->total == 0) return nullptr;
        if (e->key == key) return e;
    }
}

OpEntry* OpTable::upsert(uint64_t key) {
    if ((n_ + 1) * 2 > cap_) grow();
    for (uint32_t i = slot(key);; i = (i + 1) & (cap_ - 1)) {
        OpEntry* e = &t_[i];
        if (e->total == 0) {
            e->key = key;
            e->accepts = 0;
            e->lfd = -1;
            n_++;
            return e;
        }
        if (e->key == key) return e;
    }
}

void OpTable::erase(OpEntry* e) {
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

// ---------------------------------------------------------------- flush / complete

void zl_after_flush(Ring* r, uint32_t old_head) {
    uint32_t head = r->ring.sq.sqe_head;
    if (head == old_head) return;
    for (uint32_t p = old_head; p != head; p++) {
        const struct io_uring_sqe* sqe = &r->ring.sq.sqes[p & r->sq_mask];
        OpEntry* e = r->ops.upsert(sqe->user_data);
        e->total++;
        if (sqe->opcode == IORING_OP_ACCEPT) {
            e->accepts++;
            if (e->lfd == -1) e->lfd = sqe->fd;
            else if (e->lfd != sqe->fd) e->lfd = -2;
        }
        uint32_t acc = e->accepts & ~OP_POISON;
        if (acc != 0 && acc != e->total) e->accepts |= OP_POISON;
        r->live++;
    }
    r->epoch++;  // every handle of the flushed SQEs is now stale
}

void zl_unflush(Ring* r, uint32_t from, uint32_t to) {
    for (uint32_t p = from; p != to; p++) {
        const struct io_uring_sqe* sqe = &r->ring.sq.sqes[p & r->sq_mask];
        OpEntry* e = r->ops.find(sqe->user_data);
        if (e == nullptr) continue;
        if (sqe->opcode == IORING_OP_ACCEPT && e->accepts != 0 && !(e->accepts & OP_POISON)) e->accepts--;
        if (--e->total == 0) r->ops.erase(e);
        r->live--;
    }
}

namespace {
// Is `fd` a connection accepted on listening socket `lfd`? A socket, not
// listening, not the guest's yet, bound to the listener's exact address.
bool accepted_on(int32_t fd, int32_t lfd) {
    if (fd == lfd || zl_fd_owned(fd)) return false;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
    int listening = 1;
    socklen_t ol = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &ol) != 0 || listening) return false;
    struct sockaddr_storage a, b;
    socklen_t al = sizeof a, bl = sizeof b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    if (getsockname(fd, reinterpret_cast<struct sockaddr*>(&a), &al) != 0) return false;
    if (getsockname(lfd, reinterpret_cast<struct sockaddr*>(&b), &bl) != 0) return false;
    return al == bl && memcmp(&a, &b, al) == 0;
}

// Does this CQE carry a new fd from an accept?
bool is_accepted_fd(const OpEntry* e, int32_t res) {
    if (res < 0) return false;
    if (e->accepts == e->total) return true;  // only accepts in flight
    return (e->accepts & OP_POISON) && e->lfd >= 0 && accepted_on(res, e->lfd);
}
}  // namespace

void zl_process_cqes(ZlEnv* E, Ring* r, uint32_t end, bool read) {
    uint32_t head = *r->ring.cq.khead;
    uint32_t p = r->cq_proc;
    if (static_cast<int32_t>(head - p) > 0) p = head;  // never behind the head
    bool finals = false;
    for (; static_cast<int32_t>(end - p) > 0; p++) {
        const struct io_uring_cqe* c = &r->ring.cq.cqes[p & r->ring.cq.ring_mask];
        OpEntry* e = r->ops.find(c->user_data);
        if (e == nullptr) continue;
        if (is_accepted_fd(e, c->res)) {
            // Read: the guest's now. Dropped unread: nobody will ever close it.
            if (!read || !zl_fd_own(c->res)) close(c->res);
        }
        if (!(c->flags & IORING_CQE_F_MORE)) {
            if (e->accepts != 0 && !(e->accepts & OP_POISON)) e->accepts--;
            if (--e->total == 0) r->ops.erase(e);
            r->live--;
            finals = true;
        }
    }
    r->cq_proc = p;
    if (finals && !r->quarantine.empty() && zl_ring_idle(r)) zl_release_quarantine(E->env, r);
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
