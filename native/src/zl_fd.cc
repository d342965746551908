// zl_fd.cc — owned-fd bitmap: 2^24 fds in lazily allocated 8 KB chunks, so a
// check is two loads and no lock.
#include "zl_fd.h"

#include <atomic>

namespace {
constexpr int CHUNK_SHIFT = 16;                 // 65536 fds per chunk
constexpr int NCHUNKS = 1 << (24 - CHUNK_SHIFT);
constexpr int WORDS = (1 << CHUNK_SHIFT) / 64;

std::atomic<std::atomic<uint64_t>*> g_chunks[NCHUNKS];
std::atomic<int64_t> g_count{0};

std::atomic<uint64_t>* chunk(int32_t fd, bool create) {
    auto& slot = g_chunks[fd >> CHUNK_SHIFT];
    std::atomic<uint64_t>* c = slot.load(std::memory_order_acquire);
    if (c != nullptr || !create) return c;
    auto* fresh = new std::atomic<uint64_t>[WORDS];
    for (int i = 0; i < WORDS; i++) fresh[i].store(0, std::memory_order_relaxed);
    if (slot.compare_exchange_strong(c, fresh, std::memory_order_acq_rel)) return fresh;
    delete[] fresh;  // another thread installed one first
    return c;
}

bool in_range(int32_t fd) { return fd >= 0 && fd < (1 << 24); }
}  // namespace

bool zl_fd_owned(int32_t fd) {
    if (!in_range(fd)) return false;
    std::atomic<uint64_t>* c = chunk(fd, false);
    if (c == nullptr) return false;
    uint32_t bit = static_cast<uint32_t>(fd) & ((1u << CHUNK_SHIFT) - 1);
    return (c[bit >> 6].load(std::memory_order_acquire) >> (bit & 63)) & 1;
}

bool zl_fd_own(int32_t fd) {
    if (!in_range(fd)) return false;
    std::atomic<uint64_t>* c = chunk(fd, true);
    uint32_t bit = static_cast<uint32_t>(fd) & ((1u << CHUNK_SHIFT) - 1);
    uint64_t m = 1ull << (bit & 63);
    if ((c[bit >> 6].fetch_or(m, std::memory_order_acq_rel) & m) == 0) g_count.fetch_add(1);
    return true;
}

bool zl_fd_disown(int32_t fd) {
    if (!in_range(fd)) return false;
    std::atomic<uint64_t>* c = chunk(fd, false);
    if (c == nullptr) return false;
    uint32_t bit = static_cast<uint32_t>(fd) & ((1u << CHUNK_SHIFT) - 1);
    uint64_t m = 1ull << (bit & 63);
    if ((c[bit >> 6].fetch_and(~m, std::memory_order_acq_rel) & m) == 0) return false;
    g_count.fetch_sub(1);
    return true;
}

int64_t zl_fd_count() { return g_count.load(); }
