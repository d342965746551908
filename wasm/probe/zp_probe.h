/* zp_probe.h — layouts of the probe-api export results (wasm/wit/probe.wit)
 * and the helpers the probe's files share. Record results are returned as a
 * pointer to a static return area: the canonical ABI reads them before the
 * next call into the instance, and the probe is single-threaded. */
#ifndef ZP_PROBE_H
#define ZP_PROBE_H

#include "zl_host.h"

#define ZP_EXPORT(name) __attribute__((export_name("zergling:reactor/probe-api#" name)))

/* record seen-cqe */
typedef struct zp_seen_cqe {
    int32_t ret;
    uint64_t user_data;
    int32_t res;
    uint32_t flags;
    uint64_t data64;
    uint8_t has_buffer;
    int32_t bid;
} zp_seen_cqe;
_Static_assert(sizeof(zp_seen_cqe) == 40, "seen-cqe layout");
_Static_assert(offsetof(zp_seen_cqe, user_data) == 8, "seen-cqe.user-data at 8");
_Static_assert(offsetof(zp_seen_cqe, data64) == 24, "seen-cqe.data64 at 24");
_Static_assert(offsetof(zp_seen_cqe, has_buffer) == 32, "seen-cqe.has-buffer at 32");
_Static_assert(offsetof(zp_seen_cqe, bid) == 36, "seen-cqe.bid at 36");

/* record fuzz-report */
typedef struct zp_fuzz_report {
    uint64_t calls;
    uint64_t ok;
    uint64_t failed;
    uint64_t unexpected;
    int32_t first_unexpected_op;
    int64_t first_unexpected_ret;
    uint32_t rings_created;
    uint32_t fds_opened;
    uint32_t accepted;
    uint64_t cqes;
    uint32_t open_fds;
    uint32_t open_rings;
    uint32_t open_slabs;
    uint32_t swept_fds;
} zp_fuzz_report;
_Static_assert(sizeof(zp_fuzz_report) == 88, "fuzz-report layout");
_Static_assert(offsetof(zp_fuzz_report, first_unexpected_ret) == 40, "fuzz-report.first-unexpected-ret at 40");
_Static_assert(offsetof(zp_fuzz_report, cqes) == 64, "fuzz-report.cqes at 64");
_Static_assert(offsetof(zp_fuzz_report, open_slabs) == 80, "fuzz-report.open-slabs at 80");

/* Fills `out` from a CQE the guest read, asking the pure helpers (three host
 * calls) what they make of it. */
void zp_see_cqe(zp_seen_cqe *out, int32_t ret, const struct io_uring_cqe *c);

/* A relative timeout in ns as the seed's timespec. */
static inline struct __kernel_timespec zp_ts(int64_t ns) {
    struct __kernel_timespec ts = { ns / 1000000000, ns % 1000000000 };
    return ts;
}

#endif
