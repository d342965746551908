/* zp_bench.c — host-call loops for bench/bridge.ts. The loop runs inside Wasm
 * so that JS times one export call around N host calls; the loop itself
 * costs a few ns per iteration and is included in the numbers. */
#include <stdlib.h>
#include "zp_probe.h"

ZP_EXPORT("bench-sq-ready") int64_t zp_bench_sq_ready(uint32_t ring, uint32_t n) {
    int64_t sum = 0;
    for (uint32_t i = 0; i < n; i++) sum += zl_sq_ready(ring);
    return sum;
}

/* Each call copies up to 64 CQEs (1 KiB) into a block from cabi_realloc,
 * which is freed here: malloc + free are part of the measured cost, as they
 * are for any guest that reaps a batch. */
ZP_EXPORT("bench-peek64") int64_t zp_bench_peek64(uint32_t ring, uint32_t n) {
    int64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        struct io_uring_cqe *cqes;
        uint32_t got = zl_peek_batch_cqe(ring, 64, &cqes);
        if (got > 0) free(cqes);
        total += got;
    }
    return total;
}

ZP_EXPORT("bench-send-seq")
int64_t zp_bench_send_seq(uint32_t ring, int32_t fd, uint32_t slab, uint32_t len, uint32_t n, uint32_t batch) {
    if (batch == 0) return -ZL_EINVAL;
    for (uint32_t i = 0; i < n; i++) {
        int32_t sqe = zl_get_sqe(ring);
        if (sqe < 0) return sqe;
        int32_t r = zl_prep_send((uint32_t)sqe, fd, slab, 0, len, ZL_MSG_NOSIGNAL);
        if (r < 0) return r;
        r = zl_sqe_set_data64((uint32_t)sqe, 0x5e9d000000000000ull | i);
        if (r < 0) return r;
        if ((i + 1) % batch == 0 || i + 1 == n) {
            r = zl_submit(ring);
            if (r < 0) return r;
            int32_t ready = zl_cq_ready(ring);
            if (ready > 0 && (r = zl_cq_advance(ring, (uint32_t)ready)) < 0) return r;
        }
    }
    return n;
}
