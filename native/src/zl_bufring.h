// zl_bufring.h — a provided-buffer ring registered with one ring.
#pragma once

#include <liburing.h>

#include "zl_env.h"

struct BufRing {
    uint32_t handle = 0, idx = 0;
    uint32_t guest = 0;
    Ring* ring = nullptr;
    struct io_uring_buf_ring* br = nullptr;
    size_t maplen = 0;
    uint32_t entries = 0;
    uint16_t bgid = 0;
    uint32_t tail = 0;              // our full-width copy of br->tail
    std::vector<uint32_t> written;  // per entry: tail + idx it was last written for
    std::vector<Slab*> slabs;       // slabs holding a br_ref from this ring
};

// Unregisters (when `unregister`), unmaps, and drops its slab references
// unless `keep_slabs` (a request that could not be cancelled may still write
// into them: they stay undestroyable).
void zl_bufring_free(ZlEnv* E, BufRing* b, bool unregister, bool keep_slabs = false);
