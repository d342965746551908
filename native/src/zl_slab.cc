// zl_slab.cc — slabs: slab-create, slab-destroy (WIT) and slabBuffer,
// pinSlab, unpinSlab (Backend). Memory the kernel may still touch is never
// released: a slab in a buffer ring or pinned is -EBUSY; a slab a send may
// still read is quarantined on that ring until the ring is idle or destroyed.
// The kernel only ever writes into mmap slabs (buffer rings refuse pinned
// ones), because the helper cannot hold a JS ArrayBuffer's backing store
// against a transfer: a pinned buffer is only ever read, by sends.
#include <sys/mman.h>
#include <unistd.h>

#include "zl_exports.h"
#include "zl_ring.h"
#include "zl_slab.h"

void zl_mapping_unref(Mapping* m) {
    int before = m->refs.fetch_sub(1);
    ZL_ASSERT(before >= 1);  // every holder took one reference (slab, view, quarantine)
    if (before == 1) {
        munmap(m->base, m->maplen);
        delete m;
    }
}

int zl_slab_range(napi_env env, const Guest* G, uint32_t slab, uint32_t off, uint32_t len, Slab** out) {
    Slab* s = zl_get(G->E->slabs, G, slab);
    if (s == nullptr) return -EBADF;
    ZL_ASSERT((s->map != nullptr) != (s->pinned != nullptr));  // exactly one kind of memory
    ZL_ASSERT(s->map == nullptr || (s->base == s->map->base && s->size <= s->map->maplen));  // written by slab-create
    if (static_cast<uint64_t>(off) + len > s->size) return -EFAULT;
    if (s->pinned != nullptr) {  // a lent buffer transferred away is gone
        napi_value ab;
        bool detached = true;
        napi_get_reference_value(env, s->pinned, &ab);
        if (ab == nullptr || napi_is_detached_arraybuffer(env, ab, &detached) != napi_ok || detached)
            return -EFAULT;
    }
    *out = s;
    return 0;
}

namespace {
// Hands `s`'s memory to every ring that may still send from it.
void quarantine(napi_env env, ZlEnv* E, Slab* s) {
    for (uint32_t i = 0; i < MAX_RINGS; i++) {
        if (!(s->sent & (1ull << i)) || i >= E->rings.items.size()) continue;
        Ring* r = E->rings.items[i];
        if (r == nullptr || zl_ring_idle(r)) continue;
        Quarantined q{nullptr, nullptr};
        if (s->map != nullptr) {
            s->map->refs.fetch_add(1);
            q.map = s->map;
        } else {
            napi_value ab;
            napi_get_reference_value(env, s->pinned, &ab);
            napi_create_reference(env, ab, 1, &q.pinned);
        }
        r->quarantine.push_back(q);
    }
}

void drop(napi_env env, ZlEnv* E, Slab* s) {
    if (s->view != nullptr) {
        // JS must not reach unmapped memory: detach the view we handed out.
        napi_value ab = nullptr;
        napi_get_reference_value(env, s->view, &ab);
        if (ab != nullptr) napi_detach_arraybuffer(env, ab);
        napi_delete_reference(env, s->view);
    }
    if (s->map != nullptr) zl_mapping_unref(s->map);
    if (s->pinned != nullptr) napi_delete_reference(env, s->pinned);
    E->slabs.remove(s);
    delete s;
}

bool table_full(ZlEnv* E) {
    return E->slabs.items.size() >= decltype(E->slabs)::CAP && E->slabs.free_.empty();
}

void view_finalize(napi_env, void*, void* hint) { zl_mapping_unref(static_cast<Mapping*>(hint)); }

// Does [p, p + len) overlap memory a live slab of this env names (an mmap
// slab's whole mapping, or a pinned buffer)? A second slab over the same bytes
// would let one handle's destroy free memory the other still lends.
bool overlaps_slab(ZlEnv* E, const uint8_t* p, size_t len) {
    for (Slab* s : E->slabs.items) {
        if (s == nullptr) continue;
        const uint8_t* b = s->map ? static_cast<uint8_t*>(s->map->base) : s->base;
        size_t n = s->map ? s->map->maplen : s->size;
        if (p < b + n && b < p + len) return true;
    }
    return false;
}
}  // namespace

void zl_slabs_forget_ring(ZlEnv* E, uint32_t ring_idx) {
    for (Slab* s : E->slabs.items)
        if (s != nullptr) s->sent &= ~(1ull << ring_idx);
}

void zl_slabs_teardown(napi_env env, ZlEnv* E) {
    for (Slab* s : E->slabs.items)
        if (s != nullptr) drop(env, E, s);
}

napi_value zl_slab_create(napi_env env, napi_callback_info info) {
    ZL_ARGS(1);
    ZL_U32(0, size);
    if (size == 0) return zl_err(env, EINVAL);
    if (table_full(E)) return zl_err(env, ENOMEM);
    size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    size_t len = (static_cast<size_t>(size) + page - 1) & ~(page - 1);
    void* mem = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return zl_err(env, ENOMEM);
    Slab* s = new Slab();
    s->map = new Mapping{mem, len, {1}};
    s->base = static_cast<uint8_t*>(mem);
    s->size = size;
    s->guest = G->id;
    return zl_int(env, E->slabs.add_with_room(s));  // table_full checked above
}

namespace {
// slab-destroy (pinned false) and unpinSlab (true): the slab's handle goes;
// memory a send may still read stays, quarantined.
napi_value end_slab(napi_env env, napi_callback_info info, bool pinned) {
    ZL_ARGS(1);
    ZL_U32(0, h);
    Slab* s = zl_get(E->slabs, G, h);
    if (s == nullptr) return zl_err(env, EBADF);
    if (pinned && s->pinned == nullptr) return zl_err(env, EINVAL);
    if (!pinned && (s->pinned != nullptr || s->br_refs != 0)) return zl_err(env, EBUSY);
    ZL_ASSERT(s->br_refs == 0);  // refused above; buf-ring-add refuses pinned slabs
    quarantine(env, E, s);
    drop(env, E, s);
    return zl_int(env, 0);
}
}  // namespace

napi_value zl_slab_destroy(napi_env env, napi_callback_info info) { return end_slab(env, info, false); }

// slabBuffer(slab): the slab's bytes as an ArrayBuffer, zero copy, or -EBADF.
napi_value zl_slab_buffer(napi_env env, napi_callback_info info) {
    ZL_ARGS(1);
    ZL_U32(0, h);
    Slab* s = zl_get(E->slabs, G, h);
    if (s == nullptr) return zl_err(env, EBADF);
    napi_value ab = nullptr;
    if (s->pinned != nullptr) {
        napi_get_reference_value(env, s->pinned, &ab);
        return ab;
    }
    if (s->view != nullptr) {
        napi_get_reference_value(env, s->view, &ab);
        if (ab != nullptr) return ab;
        napi_delete_reference(env, s->view);
        s->view = nullptr;
    }
    ZL_ASSERT(s->map != nullptr && s->map->refs.load() > 0);  // not pinned: mapped
    s->map->refs.fetch_add(1);  // the ArrayBuffer keeps the mapping alive
    napi_status st = napi_create_external_arraybuffer(env, s->base, s->size, view_finalize, s->map, &ab);
    if (st != napi_ok) {
        zl_mapping_unref(s->map);
        return nullptr;  // exception pending
    }
    napi_create_reference(env, ab, 0, &s->view);  // weak: JS decides its lifetime
    return ab;
}

// pinSlab(ArrayBuffer): lends the buffer to the kernel as a slab (sends
// only); the handle, -EINVAL (empty, > 4 GiB, detached), -EEXIST (its bytes
// are already a live slab's, e.g. slabBuffer(A)) or -ENOMEM (table full).
napi_value zl_pin_slab(napi_env env, napi_callback_info info) {
    ZL_ARGS(1);
    bool is_ab = false;
    napi_is_arraybuffer(env, argv[0], &is_ab);
    if (!is_ab) return zl_type_error(env, "pinSlab expects an ArrayBuffer");
    bool detached = false;
    napi_is_detached_arraybuffer(env, argv[0], &detached);
    void* data = nullptr;
    size_t len = 0;
    napi_get_arraybuffer_info(env, argv[0], &data, &len);
    if (detached || data == nullptr || len == 0 || len > 0xffffffffu) return zl_err(env, EINVAL);
    if (overlaps_slab(E, static_cast<uint8_t*>(data), len)) return zl_err(env, EEXIST);
    if (table_full(E)) return zl_err(env, ENOMEM);
    Slab* s = new Slab();
    s->base = static_cast<uint8_t*>(data);
    s->size = len;
    s->guest = G->id;
    napi_create_reference(env, argv[0], 1, &s->pinned);
    return zl_int(env, E->slabs.add_with_room(s));  // table_full checked above
}

// unpinSlab(slab): 0, -EBADF, -EINVAL (not pinned), -EBUSY (in a buffer ring).
napi_value zl_unpin_slab(napi_env env, napi_callback_info info) { return end_slab(env, info, true); }
