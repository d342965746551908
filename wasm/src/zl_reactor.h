/* zl_reactor.h — the one reactor this instance runs (one Wasm instance = one
 * reactor): its ring, its lifetime and its tick. The exports (zl_api.c) are
 * shims over these calls. */
#ifndef ZL_REACTOR_H
#define ZL_REACTOR_H

#include <stdbool.h>
#include <stdint.h>
#include "zl_host.h"

/* The `create` export's arguments, in reactor.wit's order. */
typedef struct zl_reactor_config {
    uint32_t ring_entries;
    uint32_t ring_flags;
    int32_t sq_thread_cpu;
    uint32_t sq_thread_idle_ms;
    uint32_t recv_buffer_size_bytes;
    uint32_t buffer_ring_entries;
    uint32_t cqe_batch;
    uint32_t max_connections; /* 0: the default */
    bool incremental;
    uint32_t buf_group;
    uint32_t recv_budget_buffers;
    uint32_t recv_reserve_buffers;
    uint32_t idle_timeout_ms;
    uint32_t end_timeout_ms;
    uint32_t max_fd;
    uint32_t send_ranges;
} zl_reactor_config;
_Static_assert(sizeof(zl_reactor_config) == 64, "zl_reactor_config is 64 bytes");

/* 0 or -errno; on an error nothing is left created. */
int32_t zl_reactor_create(const zl_reactor_config *cfg);
void zl_reactor_destroy(void);
bool zl_reactor_live(void);
uint32_t zl_reactor_ring(void);
/* The ring's setup flags as the kernel granted them. */
uint32_t zl_reactor_ring_flags(void);
uint64_t zl_reactor_ticks(void);
/* Flush, reap up to cqe-batch CQEs, dispatch: the batch of events. */
zl_list *zl_reactor_tick(void);
/* The `pending` export: bit 0 the last tick's CQE budget ran out (more may
 * wait), bit 1 a flush has something to do. */
uint32_t zl_reactor_pending(void);

#endif
