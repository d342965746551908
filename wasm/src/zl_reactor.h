/* zl_reactor.h — the one reactor this instance runs (one Wasm instance = one
 * reactor): its ring, its lifetime and its tick. The exports (zl_api.c) are
 * shims over these calls. */
#ifndef ZL_REACTOR_H
#define ZL_REACTOR_H

#include <stdbool.h>
#include <stdint.h>
#include "zl_host.h"

/* The `create` export's arguments (reactor.wit `config`), grouped by the part
 * of the reactor each one sizes. */
typedef struct zl_reactor_config {
    struct {
        uint32_t entries; /* SQ entries (CQ = 2x) */
        uint32_t flags;   /* IORING_SETUP_* asked for */
        int32_t sq_thread_cpu;
        uint32_t sq_thread_idle_ms;
        uint32_t cqe_batch; /* CQEs reaped per tick */
    } ring;
    struct {
        uint32_t size_bytes; /* per provided buffer */
        uint32_t entries;
        uint32_t group;
        bool incremental;
    } bufs; /* the provided-buffer ring */
    struct {
        uint32_t max_connections; /* 0: the default */
        uint32_t max_fd;
        uint32_t send_ranges;
    } limits; /* the tables sized at create() */
    struct {
        uint32_t per_conn;
        uint32_t reserve;
    } budget; /* in receive buffers */
    struct {
        uint32_t idle_ms;
        uint32_t end_ms;
    } timeouts;
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
