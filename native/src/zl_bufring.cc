// zl_bufring.cc — provided-buffer rings: setup-buf-ring, free-buf-ring,
// buf-ring-add, buf-ring-advance. liburing 2.3 has no io_uring_setup_buf_ring:
// the ring lives in page-aligned mmap'ed memory registered by hand.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "zl_bufring.h"
#include "zl_exports.h"
#include "zl_ring.h"
#include "zl_slab.h"

namespace {
constexpr uint32_t PBUF_RING_INC = 2;  // IOU_PBUF_RING_INC, kernel >= 6.12
constexpr uint32_t MAX_ENTRIES = 32768;
constexpr uint32_t NEVER = 0xffffffffu;  // `written` value of an entry never filled
}  // namespace

void zl_bufring_free(ZlEnv* E, BufRing* b, bool unregister, bool keep_slabs) {
    if (unregister) io_uring_unregister_buf_ring(&b->ring->ring, b->bgid);
    munmap(b->br, b->maplen);
    if (!keep_slabs)
        for (Slab* s : b->slabs) {
            ZL_ASSERT(s->br_refs > 0);  // taken by buf-ring-add
            s->br_refs--;
        }
    E->bufrings.remove(b);
    delete b;
}

napi_value zl_setup_buf_ring(napi_env env, napi_callback_info info) {
    ZL_ARGS(4);
    ZL_U32(0, h);
    ZL_U32(1, entries);
    ZL_U32(2, bgid);
    ZL_U32(3, flags);
    Ring* r = zl_ring(G, h);
    if (r == nullptr) return zl_err(env, EBADF);
    if (entries == 0 || entries > MAX_ENTRIES || (entries & (entries - 1)) != 0 || bgid > 0xffff ||
        (flags & ~PBUF_RING_INC) != 0)
        return zl_err(env, EINVAL);
    if (E->bufrings.items.size() >= decltype(E->bufrings)::CAP && E->bufrings.free_.empty())
        return zl_err(env, ENOMEM);

    size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    size_t len = (entries * sizeof(struct io_uring_buf) + page - 1) & ~(page - 1);
    void* mem = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return zl_err(env, ENOMEM);
    auto* br = static_cast<struct io_uring_buf_ring*>(mem);
    io_uring_buf_ring_init(br);

    struct io_uring_buf_reg reg;
    memset(&reg, 0, sizeof reg);
    reg.ring_addr = reinterpret_cast<uint64_t>(br);
    reg.ring_entries = entries;
    reg.bgid = static_cast<uint16_t>(bgid);
    reg.pad = static_cast<uint16_t>(flags);  // the kernel's `flags` field
    int ret = io_uring_register_buf_ring(&r->ring, &reg, 0);
    if (ret < 0) {
        munmap(mem, len);
        return zl_int(env, ret);
    }
    BufRing* b = new BufRing();
    b->guest = G->id;
    b->ring = r;
    b->br = br;
    b->maplen = len;
    b->entries = entries;
    b->bgid = static_cast<uint16_t>(bgid);
    b->written.assign(entries, NEVER);
    r->bufrings.push_back(b);
    return zl_int(env, E->bufrings.add_with_room(b));  // capacity checked above
}

napi_value zl_free_buf_ring(napi_env env, napi_callback_info info) {
    ZL_ARGS(2);
    ZL_U32(0, h);
    ZL_U32(1, bh);
    Ring* r = zl_ring(G, h);
    BufRing* b = zl_get(E->bufrings, G, bh);
    if (r == nullptr || b == nullptr || b->ring != r) return zl_err(env, EBADF);
    auto it = std::find(r->bufrings.begin(), r->bufrings.end(), b);
    ZL_ASSERT(it != r->bufrings.end());  // pushed by setup-buf-ring
    r->bufrings.erase(it);
    zl_bufring_free(E, b, true);
    return zl_int(env, 0);
}

napi_value zl_buf_ring_add(napi_env env, napi_callback_info info) {
    ZL_ARGS(7);
    ZL_U32(0, bh);
    ZL_U32(1, slab);
    ZL_U32(2, off);
    ZL_U32(3, len);
    ZL_U32(4, bid);
    ZL_U32(5, mask);
    ZL_U32(6, idx);
    BufRing* b = zl_get(E->bufrings, G, bh);
    if (b == nullptr) return zl_err(env, EBADF);
    Slab* s;
    int bad = zl_slab_range(env, G, slab, off, len, &s);
    if (bad) return zl_int(env, bad);
    // The kernel writes into provided buffers: only memory the helper owns
    // (an mmap slab) may be one; a pinned ArrayBuffer could be transferred
    // and freed under it.
    if (s->map == nullptr) return zl_err(env, EINVAL);
    // A zero-length provided buffer reads as EOF (and can spin the kernel's
    // incremental consumption): refuse it.
    if (len == 0 || bid >= b->entries || mask != b->entries - 1 || idx >= b->entries)
        return zl_err(env, EINVAL);
    if (b->slabs.empty() || b->slabs.back() != s) {
        if (std::find(b->slabs.begin(), b->slabs.end(), s) == b->slabs.end()) {
            b->slabs.push_back(s);
            s->br_refs++;  // the slab cannot be destroyed while this ring may use it
        } else {
            std::swap(*std::find(b->slabs.begin(), b->slabs.end(), s), b->slabs.back());
        }
    }
    ZL_ASSERT(b->ring->guest == G->id && s->guest == G->id);
    io_uring_buf_ring_add(b->br, s->base + off, len, static_cast<uint16_t>(bid),
                          static_cast<int>(mask), static_cast<int>(idx));
    b->written[(b->tail + idx) & mask] = b->tail + idx;
    return zl_int(env, 0);
}

napi_value zl_buf_ring_advance(napi_env env, napi_callback_info info) {
    ZL_ARGS(2);
    ZL_U32(0, bh);
    ZL_U32(1, count);
    BufRing* b = zl_get(E->bufrings, G, bh);
    if (b == nullptr) return zl_err(env, EBADF);
    if (count > b->entries) return zl_err(env, EINVAL);
    // Only entries written since the last advance may be published.
    uint32_t mask = b->entries - 1;
    for (uint32_t k = 0; k < count; k++)
        if (b->written[(b->tail + k) & mask] != b->tail + k) return zl_err(env, EINVAL);
    io_uring_buf_ring_advance(b->br, static_cast<int>(count));
    b->tail += count;
    return zl_int(env, 0);
}
