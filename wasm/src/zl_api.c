/* zl_api.c — `interface reactor` (wasm/wit/reactor.wit): every export, in the
 * canonical ABI written by hand (records flattened into params, list and
 * record results through a static return area; no post-return needed). Shims
 * only: each checks that a reactor exists and calls the module that owns the
 * work. */
#include <stdlib.h>
#include <string.h>
#include "zl_accept.h"
#include "zl_assert.h"
#include "zl_budget.h"
#include "zl_bufring.h"
#include "zl_close.h"
#include "zl_conn.h"
#include "zl_dispatch.h"
#include "zl_flush.h"
#include "zl_host.h"
#include "zl_listener.h"
#include "zl_reactor.h"
#include "zl_recv.h"
#include "zl_send.h"
#include "zl_sweep.h"

#define EXPORT(name) __attribute__((export_name("zergling:reactor/reactor#" name)))

/* The exported `reactor-stats` record as the canonical ABI lays it out (jco
 * reads these offsets; see bridge/gen/reactor/reactor.js `stats`). */
typedef struct zl_stats {
    uint32_t connections_open;
    uint32_t _pad0;
    uint64_t accepted;
    uint64_t rejected;
    uint64_t closed;
    uint32_t buffers_kernel;
    uint32_t buffers_app;
    uint32_t buffers_returning;
    uint32_t buffers_warm;
    uint64_t enobufs;
    uint64_t stale_cqes;
    uint64_t sends;
    uint64_t short_sends;
    uint64_t bytes_in;
    uint64_t bytes_out;
    uint64_t cqes;
    uint64_t ticks;
    uint32_t ring_flags;
    uint32_t connections_paused;
    uint64_t pauses;
    uint64_t idle_timeouts;
    uint64_t end_timeouts;
    uint32_t recv_budget;
    uint32_t recv_reserve;
    int32_t listener_fd;
    uint32_t _pad3;
} zl_stats;
/* The size, and the offsets of the u32 runs between the u64s, where a field
 * put in the wrong place would shift what the glue reads. */
_Static_assert(sizeof(zl_stats) == 160, "reactor-stats layout");
_Static_assert(offsetof(zl_stats, buffers_kernel) == 32 && offsetof(zl_stats, buffers_warm) == 44 && offsetof(zl_stats, enobufs) == 48 &&
                   offsetof(zl_stats, ring_flags) == 112 && offsetof(zl_stats, connections_paused) == 116 &&
                   offsetof(zl_stats, recv_budget) == 144,
               "reactor-stats u32 fields where the glue reads them");

static zl_stats stats_out;
static zl_list empty_list;

EXPORT("create")
int32_t zl_x_create(uint32_t ring_entries, uint32_t ring_flags, int32_t sq_cpu, uint32_t sq_idle_ms,
                    uint32_t recv_buffer_size, uint32_t buffer_ring_entries, uint32_t cqe_batch,
                    uint32_t max_connections, int32_t incremental, uint32_t buf_group, uint32_t recv_budget,
                    uint32_t recv_reserve, uint32_t idle_timeout_ms, uint32_t end_timeout_ms, uint32_t max_fd,
                    uint32_t send_ranges) {
    zl_reactor_config cfg = {
        .ring = {.entries = ring_entries, .flags = ring_flags, .sq_thread_cpu = sq_cpu,
                 .sq_thread_idle_ms = sq_idle_ms, .cqe_batch = cqe_batch},
        .bufs = {.size_bytes = recv_buffer_size, .entries = buffer_ring_entries, .group = buf_group,
                 .incremental = incremental != 0},
        .limits = {.max_connections = max_connections, .max_fd = max_fd, .send_ranges = send_ranges},
        .budget = {.per_conn = recv_budget, .reserve = recv_reserve},
        .timeouts = {.idle_ms = idle_timeout_ms, .end_ms = end_timeout_ms},
    };
    return zl_reactor_create(&cfg);
}

EXPORT("destroy")
int32_t zl_x_destroy(void) {
    if (!zl_reactor_live())
        return -ZL_EBADF;
    zl_reactor_destroy();
    return 0;
}

static int32_t listen(char *host, size_t host_len, uint32_t port, uint32_t family, int32_t backlog, uint32_t flags) {
    int32_t r = zl_reactor_live() ? zl_listener_open(host, host_len, (uint16_t)port, family, backlog, flags)
                                  : -ZL_EBADF;
    if (host_len > 0)
        free(host); /* the glue allocated it with cabi_realloc; it is ours now */
    return r;
}

EXPORT("listen")
int32_t zl_x_listen(char *host, size_t host_len, uint32_t port, uint32_t family, int32_t backlog) {
    return listen(host, host_len, port, family, backlog, 0);
}

/* `listen` plus ZL_LISTEN_* flags (zl_handoff.h). */
EXPORT("listen-ex")
int32_t zl_x_listen_ex(char *host, size_t host_len, uint32_t port, uint32_t family, int32_t backlog,
                       uint32_t flags) {
    return listen(host, host_len, port, family, backlog, flags);
}

EXPORT("stop-accepting")
int32_t zl_x_stop_accepting(void) {
    return zl_reactor_live() ? zl_listener_stop() : -ZL_EBADF;
}

EXPORT("adopt")
int32_t zl_x_adopt(int32_t fd) {
    return zl_reactor_live() ? zl_accept_take(fd) : -ZL_EBADF;
}

EXPORT("ring")
int32_t zl_x_ring(void) {
    return zl_reactor_live() ? (int32_t)zl_reactor_ring() : -ZL_EBADF;
}

EXPORT("recv-slab")
int32_t zl_x_recv_slab(void) {
    return zl_reactor_live() ? (int32_t)zl_buf_slab() : -ZL_EBADF;
}

EXPORT("submit")
int32_t zl_x_submit(void) {
    return zl_reactor_live() ? zl_flush() : -ZL_EBADF;
}

EXPORT("pending")
uint32_t zl_x_pending(void) {
    return zl_reactor_live() ? zl_reactor_pending() : 0;
}

EXPORT("sweep")
int32_t zl_x_sweep(uint32_t elapsed_ms) {
    return zl_reactor_live() ? (int32_t)zl_sweep(elapsed_ms) : -ZL_EBADF;
}

EXPORT("tick")
zl_list *zl_x_tick(void) {
    return zl_reactor_live() ? zl_reactor_tick() : &empty_list;
}

/* The live connection in `slot`, or NULL (no reactor, or no such conn). */
static zl_conn *conn(uint32_t slot) {
    return zl_reactor_live() ? zl_conn_get(slot) : NULL;
}

EXPORT("write")
int32_t zl_x_write(uint32_t slot, uint32_t slab, uint32_t off, uint32_t len) {
    zl_conn *c = conn(slot);
    return c ? zl_send_write(c, slab, off, len) : -ZL_EBADF;
}

EXPORT("shutdown")
int32_t zl_x_shutdown(uint32_t slot) {
    zl_conn *c = conn(slot);
    return c ? zl_send_shutdown(c) : -ZL_EBADF;
}

EXPORT("close")
int32_t zl_x_close(uint32_t slot, int32_t abort) {
    zl_conn *c = conn(slot);
    if (!c)
        return -ZL_EBADF;
    zl_close_begin(c, abort != 0, 0);
    return 0;
}

EXPORT("release")
int32_t zl_x_release(uint32_t bid) {
    return zl_reactor_live() ? zl_buf_release(bid) : -ZL_EBADF;
}

EXPORT("stats")
zl_stats *zl_x_stats(void) {
    zl_stats *s = &stats_out;
    memset(s, 0, sizeof *s);
    s->listener_fd = -1;
    if (!zl_reactor_live())
        return s;
    const zl_accept_counters *a = zl_accept_counters_view();
    const zl_recv_counters *rc = zl_recv_counters_view();
    const zl_send_counters *sc = zl_send_counters_view();
    const zl_dispatch_counters *d = zl_dispatch_counters_view();
    s->connections_open = zl_conn_open_count();
    s->accepted = a->accepted;
    s->rejected = a->rejected;
    s->closed = zl_close_counters_view()->closed;
    s->buffers_kernel = zl_buf_count(ZL_BUF_KERNEL);
    s->buffers_app = zl_buf_count(ZL_BUF_APP);
    s->buffers_returning = zl_buf_count(ZL_BUF_RETURNING);
    s->buffers_warm = zl_buf_warm();
    s->enobufs = rc->enobufs;
    s->stale_cqes = d->stale_cqes;
    s->sends = sc->sends;
    s->short_sends = sc->short_sends;
    s->bytes_in = rc->received_bytes;
    s->bytes_out = sc->sent_bytes;
    s->cqes = d->cqes;
    s->ticks = zl_reactor_ticks();
    s->ring_flags = zl_reactor_ring_flags();
    s->connections_paused = zl_budget_paused();
    s->pauses = zl_budget_pauses();
    s->idle_timeouts = zl_sweep_idle_closed();
    s->end_timeouts = zl_sweep_end_closed();
    s->recv_budget = zl_budget_per_conn();
    s->recv_reserve = zl_budget_reserve();
    s->listener_fd = zl_listener_fd();
    /* Every connection taken is open or was reported closed. */
    ZL_ASSERT(s->accepted == s->closed + s->connections_open);
    return s;
}
