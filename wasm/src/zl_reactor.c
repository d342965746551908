/* zl_reactor.c — create, destroy, tick (see zl_reactor.h). */
#include <stdlib.h>
#include "zl_reactor.h"
#include "zl_accept.h"
#include "zl_assert.h"
#include "zl_budget.h"
#include "zl_bufring.h"
#include "zl_cabi.h"
#include "zl_close.h"
#include "zl_conn.h"
#include "zl_dispatch.h"
#include "zl_events.h"
#include "zl_flush.h"
#include "zl_listener.h"
#include "zl_recv.h"
#include "zl_send.h"
#include "zl_sq.h"
#include "zl_sweep.h"
#include "zl_work.h"

typedef struct zl_reactor_state {
    bool created;
    bool defer_taskrun; /* CQEs appear only after an enter with GETEVENTS */
    uint32_t ring;
    uint32_t ring_flags;
    uint32_t cqe_batch;
    uint64_t ticks;
    struct io_uring_cqe *peek_buf; /* lent to the host for each batch */
} zl_reactor_state;

static zl_reactor_state X;
/* The last tick's CQE budget ran out: more may wait. Outlives destroy(), as
 * it always has: a stale bit only costs the engine one empty tick. */
static bool more_cqes;
/* CQEs the last tick reaped (0: the next tick's enter drains all task work). */
static uint32_t reaped_last;

/* Ring flags in the order they are given up when the kernel refuses them. */
static int32_t create_ring(uint32_t entries, uint32_t flags, int32_t cpu, uint32_t idle_ms) {
    const uint32_t sqpoll = ZL_SETUP_SQPOLL | ZL_SETUP_SQ_AFF;
    const uint32_t defer = ZL_SETUP_DEFER_TASKRUN | ZL_SETUP_SINGLE_ISSUER;
    uint32_t tries[4] = {flags, flags & ~sqpoll, flags & ~(sqpoll | defer),
                         flags & ~(sqpoll | defer | ZL_SETUP_COOP_TASKRUN)};
    int32_t r = -ZL_EINVAL;
    for (int i = 0; i < 4; i++) {
        if (i > 0 && tries[i] == tries[i - 1])
            continue;
        r = zl_create_ring_ex(entries, tries[i], cpu, idle_ms);
        /* ENOSYS: no io_uring at all, the TS layer says so as is. Other errors
         * (EINVAL for an unknown flag, EPERM for SQPOLL) may pass with fewer. */
        if (r >= 0 || r == -ZL_ENOSYS)
            return r;
    }
    return r; /* the last refusal (EPERM when io_uring is disabled outright) */
}

/* Host calls in this order: the conns' fds, the listener, the ring, then the
 * slab (armed recvs may write into it until the ring is gone). */
static void teardown(void) {
    zl_close_all_now();
    zl_listener_close_now();
    if (X.created || X.ring != 0)
        zl_destroy_ring(X.ring);
    zl_buf_fini();
    zl_conn_fini();
    zl_ranges_fini();
    zl_work_fini();
    zl_budget_fini();
    zl_ev_fini();
    zl_sq_fini();
    zl_listener_fini();
    zl_accept_fini();
    zl_close_fini();
    zl_recv_fini();
    zl_send_fini();
    zl_dispatch_fini();
    free(X.peek_buf);
    X = (zl_reactor_state){0};
}

int32_t zl_reactor_create(const zl_reactor_config *cfg) {
    if (X.created)
        return -ZL_EALREADY;
    if (cfg->ring.entries == 0 || cfg->ring.entries > 32768)
        return -ZL_EINVAL;
    if (cfg->ring.cqe_batch == 0 || cfg->ring.cqe_batch > 65536)
        return -ZL_EINVAL;
    uint32_t max_connections = cfg->limits.max_connections == 0 ? 65536 : cfg->limits.max_connections;
    if (max_connections > (1u << 20) || cfg->limits.max_fd == 0 || cfg->limits.max_fd > (1u << 24) ||
        cfg->limits.send_ranges == 0 || cfg->limits.send_ranges > (1u << 24))
        return -ZL_EINVAL;
    int32_t ring =
        create_ring(cfg->ring.entries, cfg->ring.flags, cfg->ring.sq_thread_cpu, cfg->ring.sq_thread_idle_ms);
    if (ring < 0)
        return ring;
    X.ring = (uint32_t)ring;
    X.created = true;
    zl_sq_init(X.ring);
    int64_t f = zl_get_ring_flags(X.ring);
    X.ring_flags = f >= 0 ? (uint32_t)f : 0;
    X.defer_taskrun = (X.ring_flags & ZL_SETUP_DEFER_TASKRUN) != 0;
    X.cqe_batch = cfg->ring.cqe_batch;
    zl_sweep_init(cfg->timeouts.idle_ms, cfg->timeouts.end_ms);
    int32_t r;
    if ((r = zl_conn_init(max_connections, cfg->limits.max_fd)) < 0 ||
        (r = zl_ev_init(ZL_EV_MAX(cfg->ring.cqe_batch, zl_conn_capacity()))) < 0 ||
        (r = zl_ranges_init(cfg->limits.send_ranges)) < 0 || (r = zl_work_init(zl_conn_capacity())) < 0 ||
        (r = zl_budget_init(zl_conn_capacity(), cfg->bufs.entries, cfg->budget.per_conn, cfg->budget.reserve)) < 0 ||
        (r = zl_buf_init(X.ring, cfg->bufs.entries, cfg->bufs.size_bytes, cfg->bufs.group,
                         cfg->bufs.incremental)) < 0) {
        teardown();
        return r;
    }
    X.peek_buf = malloc((size_t)cfg->ring.cqe_batch * sizeof(struct io_uring_cqe));
    if (!X.peek_buf) {
        teardown();
        return -ZL_ENOMEM;
    }
    return 0;
}

void zl_reactor_destroy(void) {
    ZL_ASSERT(X.created);
    teardown();
}

bool zl_reactor_live(void) { return X.created; }
uint32_t zl_reactor_ring(void) { return X.ring; }
uint32_t zl_reactor_ring_flags(void) { return X.ring_flags; }
uint64_t zl_reactor_ticks(void) { return X.ticks; }

uint32_t zl_reactor_pending(void) {
    ZL_ASSERT(X.created);
    return (more_cqes ? 1u : 0u) | (zl_flush_pending() ? 2u : 0u) | (reaped_last > 0 ? 4u : 0u);
}

zl_list *zl_reactor_tick(void) {
    ZL_ASSERT(X.created);
    X.ticks++;
    /* Slots whose `closed` went out with the previous tick are free now. */
    zl_conn_reap();
    zl_listener_poll(X.ticks, zl_close_counters_view()->closed);
    if (X.defer_taskrun) {
        /* One enter per tick: it submits what is queued and runs the deferred
         * completions. A GETEVENTS with min-complete 0 runs at most 20 task-work
         * items (the kernel's IO_LOCAL_TW_DEFAULT_MAX) and leaves the rest with
         * no new eventfd signal, so a reactor that goes quiet could sleep on
         * them. After a tick that reaped nothing (the engine is about to sleep)
         * the enter asks for a full batch with a zero timeout instead: the
         * kernel then runs task work until none is left or a batch is posted. */
        static const struct __kernel_timespec zero = {0, 0};
        zl_flush_prepare();
        if (reaped_last == 0)
            zl_sq_submit_getevents(X.cqe_batch, &zero);
        else
            zl_sq_submit_getevents(0, NULL);
    } else {
        zl_flush();
    }
    uint32_t total = 0;
    while (total < X.cqe_batch) {
        uint32_t want = X.cqe_batch - total;
        zl_cabi_lend(X.peek_buf, (size_t)want * sizeof(struct io_uring_cqe));
        struct io_uring_cqe *cqes;
        uint32_t n = zl_peek_batch_cqe(X.ring, want, &cqes);
        zl_cabi_unlend();
        ZL_ASSERT(n <= want);
        for (uint32_t i = 0; i < n; i++)
            zl_dispatch(&cqes[i]);
        if (n > 0)
            zl_cq_advance(X.ring, n);
        if (cqes != X.peek_buf && n > 0)
            free(cqes); /* the host allocated its own block (it never should) */
        total += n;
        /* Fewer than asked: the CQ was drained. CQEs that overflowed the CQ wait
         * in the kernel's backlog and raise no new wake-up; a peek that finds the
         * CQ empty flushes them (liburing's peek does), so peek once more. */
        if (n == 0 || n == want)
            break;
    }
    if (total == X.cqe_batch) {
        /* Budget used up. If that emptied the CQ while a backlog waits, the
         * caller would see cq-ready 0 and never come back: a probe peek flushes
         * the backlog into the CQ without consuming anything. */
        zl_cabi_lend(X.peek_buf, sizeof(struct io_uring_cqe));
        struct io_uring_cqe *probe;
        uint32_t n = zl_peek_batch_cqe(X.ring, 1, &probe);
        zl_cabi_unlend();
        if (probe != X.peek_buf && n > 0)
            free(probe);
    }
    more_cqes = total == X.cqe_batch;
    reaped_last = total;
    zl_listener_idle(total == 0);
    return zl_ev_take();
}
