// zl_fd.cc — the fd owner table: 2^24 fds in lazily allocated chunks of
// 65536 tags (256 KB), so a check is two loads and no lock.
#include "zl_fd.h"

#include <unistd.h>

#include <atomic>

#include "zl_assert.h"
#include "zl_env.h"

namespace {
constexpr int CHUNK_SHIFT = 16;
constexpr int CHUNK = 1 << CHUNK_SHIFT;
constexpr int NCHUNKS = 1 << (24 - CHUNK_SHIFT);
constexpr uint32_t NONE = 0;

std::atomic<std::atomic<uint32_t>*> g_chunks[NCHUNKS];
std::atomic<uint32_t> g_next_id{1};

std::atomic<uint32_t>* chunk(int32_t fd, bool create) {
    auto& slot = g_chunks[fd >> CHUNK_SHIFT];
    std::atomic<uint32_t>* c = slot.load(std::memory_order_acquire);
    if (c != nullptr || !create) return c;
    auto* fresh = new std::atomic<uint32_t>[CHUNK];
    for (int i = 0; i < CHUNK; i++) fresh[i].store(NONE, std::memory_order_relaxed);
    if (slot.compare_exchange_strong(c, fresh, std::memory_order_acq_rel)) return fresh;
    delete[] fresh;  // another thread installed one first
    return c;
}

bool in_range(int32_t fd) { return fd >= 0 && fd < (1 << 24); }

std::atomic<uint32_t>* tag(int32_t fd, bool create) {
    if (!in_range(fd)) return nullptr;
    std::atomic<uint32_t>* c = chunk(fd, create);
    return c == nullptr ? nullptr : &c[fd & (CHUNK - 1)];
}

bool move(int32_t fd, uint32_t from, uint32_t to) {
    std::atomic<uint32_t>* t = tag(fd, false);
    return t != nullptr && t->compare_exchange_strong(from, to, std::memory_order_acq_rel);
}

void check_guest(const Guest* G) { ZL_ASSERT(G->id != NONE && G->id != ZL_FD_TRANSIT); }
}  // namespace

uint32_t zl_guest_new_id() {
    uint32_t id = g_next_id.fetch_add(1);
    ZL_ASSERT(id != NONE && id != ZL_FD_TRANSIT);  // 4 billion guests per process: not reachable
    return id;
}

bool zl_fd_owned(const Guest* G, int32_t fd) {
    std::atomic<uint32_t>* t = tag(fd, false);
    return t != nullptr && t->load(std::memory_order_acquire) == G->id;
}

bool zl_fd_own(const Guest* G, int32_t fd) {
    check_guest(G);
    std::atomic<uint32_t>* t = tag(fd, true);
    if (t == nullptr) return false;
    // The kernel just handed out this number, so any tag on it is stale: only
    // JS closing a guest's fd behind the helper's back leaves one (not an
    // invariant of the helper's own, so not an assertion). The new file wins.
    t->store(G->id, std::memory_order_release);
    return true;
}

bool zl_fd_disown(const Guest* G, int32_t fd) { check_guest(G); return move(fd, G->id, NONE); }
bool zl_fd_release(const Guest* G, int32_t fd) { check_guest(G); return move(fd, G->id, ZL_FD_TRANSIT); }
bool zl_fd_claim(const Guest* G, int32_t fd) { check_guest(G); return move(fd, ZL_FD_TRANSIT, G->id); }

int64_t zl_fd_count(const Guest* G) {
    int64_t n = 0;
    for (int c = 0; c < NCHUNKS; c++) {
        std::atomic<uint32_t>* ch = g_chunks[c].load(std::memory_order_acquire);
        if (ch == nullptr) continue;
        for (int i = 0; i < CHUNK; i++) n += ch[i].load(std::memory_order_relaxed) == G->id;
    }
    return n;
}

int64_t zl_fd_count_all() {
    int64_t n = 0;
    for (int c = 0; c < NCHUNKS; c++) {
        std::atomic<uint32_t>* ch = g_chunks[c].load(std::memory_order_acquire);
        if (ch == nullptr) continue;
        for (int i = 0; i < CHUNK; i++) n += ch[i].load(std::memory_order_relaxed) != NONE;
    }
    return n;
}

void zl_fd_each(void (*visit)(int32_t fd, uint32_t tag, void* arg), void* arg) {
    for (int c = 0; c < NCHUNKS; c++) {
        std::atomic<uint32_t>* ch = g_chunks[c].load(std::memory_order_acquire);
        if (ch == nullptr) continue;
        for (int i = 0; i < CHUNK; i++) {
            uint32_t t = ch[i].load(std::memory_order_relaxed);
            if (t != NONE) visit((c << CHUNK_SHIFT) | i, t, arg);
        }
    }
}

void zl_fd_close_all(const Guest* G) {
    for (int c = 0; c < NCHUNKS; c++) {
        std::atomic<uint32_t>* ch = g_chunks[c].load(std::memory_order_acquire);
        if (ch == nullptr) continue;
        for (int i = 0; i < CHUNK; i++) {
            int32_t fd = (c << CHUNK_SHIFT) | i;
            if (ch[i].load(std::memory_order_relaxed) == G->id && zl_fd_disown(G, fd)) close(fd);
        }
    }
}
