// zl_env.h — per-N-API-environment state and the argument helpers every
// export uses. Each JS thread (main, each worker) has its own env, so its own
// handle tables: a handle from one thread is -EBADF in another.
#pragma once

#include <node_api.h>
#include <errno.h>
#include <stdint.h>
#include <deque>
#include <vector>

#include "zl_assert.h"

struct Ring;
struct Slab;
struct BufRing;

// Generation-tagged handle table: handle = gen << BITS | index, gen >= 1, so a
// handle is a positive s32 and a stale handle (slot reused) never matches.
template <class T, unsigned BITS>
struct Table {
    static_assert(BITS >= 1 && BITS <= 16, "handle = gen << BITS | index leaves >= 15 generation bits");
    static constexpr uint32_t CAP = 1u << BITS;
    static constexpr uint32_t GEN_MAX = (1u << (31 - BITS)) - 1;
    std::vector<T*> items;
    std::vector<uint32_t> gens;
    std::deque<uint32_t> free_;

    T* get(uint32_t h) const {
        uint32_t i = h & (CAP - 1);
        if (i >= items.size()) return nullptr;
        T* t = items[i];
        if (t == nullptr || t->handle != h) return nullptr;
        ZL_ASSERT(t->idx == i && (t->handle >> BITS) == gens[i]);  // written by add()
        return t;
    }
    // Returns the handle, or -1 when the table is full.
    int32_t add(T* t) {
        uint32_t i;
        if (!free_.empty()) {
            i = free_.front();
            free_.pop_front();
        } else {
            if (items.size() >= CAP) return -1;
            i = static_cast<uint32_t>(items.size());
            items.push_back(nullptr);
            gens.push_back(0);
        }
        uint32_t g = gens[i] % GEN_MAX + 1;
        ZL_ASSERT(g >= 1 && g <= GEN_MAX && g != gens[i]);  // a reused slot's handles go stale
        gens[i] = g;
        ZL_ASSERT(items[i] == nullptr && items.size() == gens.size());  // a free slot holds nothing
        t->idx = i;
        t->handle = (g << BITS) | i;
        items[i] = t;
        return static_cast<int32_t>(t->handle);
    }
    // add() once the caller checked there is room: the handle, > 0.
    int32_t add_with_room(T* t) {
        int32_t h = add(t);
        ZL_ASSERT(h > 0);  // paired with the caller's capacity check
        return h;
    }
    void remove(T* t) {
        ZL_ASSERT(t->idx < items.size() && items[t->idx] == t && t->handle == ((gens[t->idx] << BITS) | t->idx));
        ZL_ASSERT(free_.size() < items.size());  // t's slot is not on the free list yet
        items[t->idx] = nullptr;
        free_.push_back(t->idx);  // FIFO reuse: a slot comes back as late as possible
    }
};

// Rings: 6 index bits, because an SQE handle carries the ring index.
constexpr unsigned RING_BITS = 6;
constexpr uint32_t MAX_RINGS = 1u << RING_BITS;

struct ZlEnv;

// A guest: one set of host functions handed to one Wasm instance (one
// backend). Rings, buffer rings, slabs and fds belong to the guest that made
// them; another guest's handle or fd is -EBADF, even on the same thread.
// Guests live as long as their env: the exported functions point at them.
struct Guest {
    uint32_t id = 0;  // process-unique, never reused (the owner tag of its fds)
    ZlEnv* E = nullptr;
};

struct ZlEnv {
    napi_env env = nullptr;
    std::vector<Guest*> guests;  // [0] is the module's own exports
    Table<Ring, RING_BITS> rings;
    Table<BufRing, 12> bufrings;
    Table<Slab, 16> slabs;
    napi_ref empty_u8 = nullptr;  // the shared empty peek-batch-cqe result
    // peek-batch-cqe results are views into one reused ArrayBuffer
    // (zl_cqe.cc, scratch_take): an ArrayBuffer costs ~0.5 us, a view ~50 ns.
    napi_ref scratch = nullptr;
    uint8_t* scratch_base = nullptr;
    size_t scratch_size = 0;
    uint32_t epoch_seed = 0x2545F491u;
    uint32_t watch_serial = 0;
};

// ---- argument helpers: a wrong JS type throws TypeError (the jco glue never
// passes one); every *value* the guest can choose is validated by the callee.

#define ZL_ARGS(N)                                                              \
    size_t argc = (N);                                                          \
    napi_value argv[(N) > 0 ? (N) : 1];                                         \
    void* zl_data_ = nullptr;                                                   \
    napi_get_cb_info(env, info, &argc, argv, nullptr, &zl_data_);               \
    Guest* G = static_cast<Guest*>(zl_data_);                                   \
    ZlEnv* E = G->E;                                                            \
    (void)E, (void)G
// Objects of a table that belong to guest G (nullptr otherwise).
template <class T, unsigned BITS>
inline T* zl_get(const Table<T, BITS>& t, const Guest* G, uint32_t h) {
    T* x = t.get(h);
    return (x != nullptr && x->guest == G->id) ? x : nullptr;
}

napi_value zl_type_error(napi_env env, const char* what);

inline bool zl_u32(napi_env env, napi_value v, uint32_t* out) {
    if (napi_get_value_uint32(env, v, out) == napi_ok) return true;
    zl_type_error(env, "expected a number (u32)");
    return false;
}
inline bool zl_i32(napi_env env, napi_value v, int32_t* out) {
    if (napi_get_value_int32(env, v, out) == napi_ok) return true;
    zl_type_error(env, "expected a number (s32)");
    return false;
}
bool zl_u64(napi_env env, napi_value v, uint64_t* out);  // bigint (or number)
bool zl_i64(napi_env env, napi_value v, int64_t* out);   // bigint (or number)

inline napi_value zl_int(napi_env env, int32_t v) {
    napi_value r;
    napi_create_int32(env, v, &r);
    return r;
}
inline napi_value zl_err(napi_env env, int e) { return zl_int(env, -e); }

#define ZL_U32(i, name) uint32_t name; if (!zl_u32(env, argv[i], &name)) return nullptr
#define ZL_I32(i, name) int32_t name; if (!zl_i32(env, argv[i], &name)) return nullptr
#define ZL_U64(i, name) uint64_t name; if (!zl_u64(env, argv[i], &name)) return nullptr
#define ZL_I64(i, name) int64_t name; if (!zl_i64(env, argv[i], &name)) return nullptr

// Reads a record field (jco's camelCase name).
bool zl_field_u32(napi_env env, napi_value obj, const char* name, uint32_t* out);
bool zl_field_u64(napi_env env, napi_value obj, const char* name, uint64_t* out);
bool zl_field_i64(napi_env env, napi_value obj, const char* name, int64_t* out);

// Record builders (jco's camelCase shapes).
napi_value zl_cqe_result(napi_env env, int32_t ret, uint64_t user_data, int32_t res,
                         uint32_t flags);
napi_value zl_sock_addr(napi_env env, int32_t ret, uint32_t family, uint32_t port,
                        uint64_t hi, uint64_t lo);
