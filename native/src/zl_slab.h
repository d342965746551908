// zl_slab.h — host-owned memory the kernel may read (sends) or write (provided
// buffers), named by the guest as (slab, offset, length).
#pragma once

#include <atomic>

#include "zl_env.h"

// An mmap'ed region, unmapped when its last holder lets go: the slab handle,
// each external ArrayBuffer over it, each ring quarantining it.
struct Mapping {
    void* base;
    size_t maplen;
    std::atomic<int> refs;
};
void zl_mapping_unref(Mapping* m);

struct Slab {
    uint32_t handle = 0, idx = 0;
    uint32_t guest = 0;         // Guest::id of its creator
    uint8_t* base = nullptr;
    uint64_t size = 0;
    Mapping* map = nullptr;     // mmap'ed slab (slab-create)
    napi_ref pinned = nullptr;  // lent ArrayBuffer (pinSlab), held strongly
    napi_ref view = nullptr;    // weak ref to the external ArrayBuffer handed to JS
    uint32_t br_refs = 0;       // buffer rings that hold ranges of this slab (mmap slabs only)
    uint64_t sent = 0;          // bit per ring index: a send from here was prepared
};

// 0, -EBADF (no such slab of G's) or -EFAULT (range outside it, or a pinned
// buffer that was detached).
int zl_slab_range(napi_env env, const Guest* G, uint32_t slab, uint32_t off, uint32_t len, Slab** out);
void zl_slabs_forget_ring(ZlEnv* E, uint32_t ring_idx);
void zl_slabs_teardown(napi_env env, ZlEnv* E);
