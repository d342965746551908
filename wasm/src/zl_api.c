/* zl_api.c — `interface reactor` (wasm/wit/reactor.wit): the exports, in the
 * canonical ABI written by hand (records flattened into params, list and
 * record results through a static return area; no post-return needed). */
#include <stdlib.h>
#include <string.h>
#include "zl_accept.h"
#include "zl_assert.h"
#include "zl_budget.h"
#include "zl_bufring.h"
#include "zl_cabi.h"
#include "zl_close.h"
#include "zl_conn.h"
#include "zl_dispatch.h"
#include "zl_events.h"
#include "zl_host.h"
#include "zl_reactor.h"
#include "zl_send.h"
#include "zl_sq.h"
#include "zl_sweep.h"
#include "zl_work.h"

#define EXPORT(name) __attribute__((export_name("zergling:reactor/reactor#" name)))

zl_reactor zl_r = {.lfd = -1};

static struct io_uring_cqe *peek_buf; /* lent to the host for each batch */
static zl_stats stats_out;
static zl_list empty_list;

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

static void teardown(void) {
    zl_close_all_now();
    zl_accept_close_now();
    if (zl_r.created || zl_r.ring != 0)
        zl_destroy_ring(zl_r.ring);
    zl_buf_fini(); /* after the ring: armed recvs may write into the slab */
    zl_conn_fini();
    zl_send_fini();
    zl_work_fini();
    zl_budget_fini();
    zl_ev_fini();
    free(peek_buf);
    peek_buf = NULL;
    memset(&zl_r, 0, sizeof zl_r);
    zl_r.lfd = -1;
}

EXPORT("create")
int32_t zl_x_create(uint32_t ring_entries, uint32_t ring_flags, int32_t sq_cpu, uint32_t sq_idle_ms,
                    uint32_t recv_buffer_size, uint32_t buffer_ring_entries, uint32_t cqe_batch,
                    uint32_t max_connections, int32_t incremental, uint32_t buf_group, uint32_t recv_budget,
                    uint32_t recv_reserve, uint32_t idle_timeout_ms, uint32_t end_timeout_ms, uint32_t max_fd,
                    uint32_t send_ranges) {
    if (zl_r.created)
        return -ZL_EALREADY;
    if (ring_entries == 0 || ring_entries > 32768)
        return -ZL_EINVAL;
    if (cqe_batch == 0 || cqe_batch > 65536)
        return -ZL_EINVAL;
    if (max_connections == 0)
        max_connections = 65536;
    if (max_connections > (1u << 20) || max_fd == 0 || max_fd > (1u << 24) || send_ranges == 0 || send_ranges > (1u << 24))
        return -ZL_EINVAL;
    int32_t ring = create_ring(ring_entries, ring_flags, sq_cpu, sq_idle_ms);
    if (ring < 0)
        return ring;
    zl_r.ring = (uint32_t)ring;
    zl_r.created = true;
    int64_t f = zl_get_ring_flags(zl_r.ring);
    zl_r.ring_flags = f >= 0 ? (uint32_t)f : 0;
    zl_r.defer_taskrun = (zl_r.ring_flags & ZL_SETUP_DEFER_TASKRUN) != 0;
    zl_r.cqe_batch = cqe_batch;
    zl_r.lfd = -1;
    zl_sweep_init(idle_timeout_ms, end_timeout_ms);
    int32_t r;
    if ((r = zl_conn_init(max_connections, max_fd)) < 0 ||
        (r = zl_ev_init(ZL_EV_MAX(cqe_batch, zl_conn_capacity()))) < 0 || (r = zl_send_init(send_ranges)) < 0 ||
        (r = zl_work_init(zl_conn_capacity())) < 0 ||
        (r = zl_budget_init(zl_conn_capacity(), buffer_ring_entries, recv_budget, recv_reserve)) < 0 ||
        (r = zl_buf_init(zl_r.ring, buffer_ring_entries, recv_buffer_size, buf_group, incremental != 0)) < 0) {
        teardown();
        return r;
    }
    peek_buf = malloc((size_t)cqe_batch * sizeof(struct io_uring_cqe));
    if (!peek_buf) {
        teardown();
        return -ZL_ENOMEM;
    }
    return 0;
}

EXPORT("destroy")
int32_t zl_x_destroy(void) {
    if (!zl_r.created)
        return -ZL_EBADF;
    teardown();
    return 0;
}

EXPORT("listen")
int32_t zl_x_listen(char *host, size_t host_len, uint32_t port, uint32_t family, int32_t backlog) {
    int32_t r = zl_r.created ? zl_listen_open(host, host_len, (uint16_t)port, family, backlog) : -ZL_EBADF;
    if (host_len > 0)
        free(host); /* the glue allocated it with cabi_realloc; it is ours now */
    return r;
}

EXPORT("stop-accepting")
int32_t zl_x_stop_accepting(void) {
    return zl_r.created ? zl_accept_stop() : -ZL_EBADF;
}

EXPORT("adopt")
int32_t zl_x_adopt(int32_t fd) {
    return zl_r.created ? zl_accept_take(fd) : -ZL_EBADF;
}

EXPORT("ring")
int32_t zl_x_ring(void) {
    return zl_r.created ? (int32_t)zl_r.ring : -ZL_EBADF;
}

EXPORT("recv-slab")
int32_t zl_x_recv_slab(void) {
    return zl_r.created ? (int32_t)zl_buf_slab() : -ZL_EBADF;
}

/* Every flush goes through here: budgets decide what may re-arm first. */
static int32_t flush(void) {
    zl_buf_flush();
    zl_budget_poll(zl_buf_free_count(), zl_buf_count(ZL_BUF_KERNEL));
    return zl_work_flush();
}

/* Set by tick: the CQE budget ran out, more may be waiting. */
static bool more_cqes;

EXPORT("submit")
int32_t zl_x_submit(void) {
    return zl_r.created ? flush() : -ZL_EBADF;
}

EXPORT("pending")
uint32_t zl_x_pending(void) {
    if (!zl_r.created)
        return 0;
    return (more_cqes ? 1u : 0u) | (zl_work_pending() ? 2u : 0u);
}

EXPORT("sweep")
int32_t zl_x_sweep(uint32_t elapsed_ms) {
    return zl_r.created ? (int32_t)zl_sweep(elapsed_ms) : -ZL_EBADF;
}

EXPORT("tick")
zl_list *zl_x_tick(void) {
    if (!zl_r.created)
        return &empty_list;
    zl_r.ticks++;
    /* Slots whose `closed` went out with the previous tick are free now. */
    zl_conn_reap();
    zl_accept_poll();
    /* Submit and GETEVENTS stay two enters: merged into one (to-submit with
     * GETEVENTS) a reactor under 64 non-reading writers stopped serving in
     * about one run in five on this kernel (test/hostile); cause not found. */
    flush();
    if (zl_r.defer_taskrun)
        zl_enter(zl_r.ring, 0, 0, ZL_ENTER_GETEVENTS, NULL); /* runs the deferred task work */
    uint32_t total = 0;
    while (total < zl_r.cqe_batch) {
        uint32_t want = zl_r.cqe_batch - total;
        zl_cabi_lend(peek_buf, (size_t)want * sizeof(struct io_uring_cqe));
        struct io_uring_cqe *cqes;
        uint32_t n = zl_peek_batch_cqe(zl_r.ring, want, &cqes);
        zl_cabi_unlend();
        ZL_ASSERT(n <= want);
        for (uint32_t i = 0; i < n; i++)
            zl_dispatch(&cqes[i]);
        if (n > 0)
            zl_cq_advance(zl_r.ring, n);
        if (cqes != peek_buf && n > 0)
            free(cqes); /* the host allocated its own block (it never should) */
        total += n;
        /* Fewer than asked: the CQ was drained. CQEs that overflowed the CQ wait
         * in the kernel's backlog and raise no new wake-up; a peek that finds the
         * CQ empty flushes them (liburing's peek does), so peek once more. */
        if (n == 0 || n == want)
            break;
    }
    if (total == zl_r.cqe_batch) {
        /* Budget used up. If that emptied the CQ while a backlog waits, the
         * caller would see cq-ready 0 and never come back: a probe peek flushes
         * the backlog into the CQ without consuming anything. */
        zl_cabi_lend(peek_buf, sizeof(struct io_uring_cqe));
        struct io_uring_cqe *probe;
        uint32_t n = zl_peek_batch_cqe(zl_r.ring, 1, &probe);
        zl_cabi_unlend();
        if (probe != peek_buf && n > 0)
            free(probe);
    }
    more_cqes = total == zl_r.cqe_batch;
    zl_accept_idle(total == 0);
    return zl_ev_take();
}

EXPORT("write")
int32_t zl_x_write(uint32_t conn, uint32_t slab, uint32_t off, uint32_t len) {
    zl_conn *c = zl_r.created ? zl_conn_get(conn) : NULL;
    return c ? zl_send_write(c, slab, off, len) : -ZL_EBADF;
}

EXPORT("shutdown")
int32_t zl_x_shutdown(uint32_t conn) {
    zl_conn *c = zl_r.created ? zl_conn_get(conn) : NULL;
    if (!c)
        return -ZL_EBADF;
    if (c->state != ZL_CS_OPEN)
        return -ZL_ENOTCONN;
    c->flags |= ZL_CF_WANT_SHUT;
    zl_send_maybe_shutdown(c);
    return 0;
}

EXPORT("close")
int32_t zl_x_close(uint32_t conn, int32_t abort) {
    zl_conn *c = zl_r.created ? zl_conn_get(conn) : NULL;
    if (!c)
        return -ZL_EBADF;
    zl_close_begin(c, abort != 0, 0);
    return 0;
}

EXPORT("release")
int32_t zl_x_release(uint32_t bid) {
    return zl_r.created ? zl_buf_release(bid) : -ZL_EBADF;
}

EXPORT("stats")
zl_stats *zl_x_stats(void) {
    zl_stats *s = &stats_out;
    memset(s, 0, sizeof *s);
    s->listener_fd = -1;
    if (!zl_r.created)
        return s;
    s->connections_open = zl_conn_open_count();
    s->accepted = zl_r.accepted;
    s->rejected = zl_r.rejected;
    s->closed = zl_r.closed;
    s->buffers_kernel = zl_buf_count(ZL_BUF_KERNEL);
    s->buffers_app = zl_buf_count(ZL_BUF_APP);
    s->buffers_returning = zl_buf_count(ZL_BUF_RETURNING);
    s->enobufs = zl_r.enobufs;
    s->stale_cqes = zl_r.stale_cqes;
    s->sends = zl_r.sends;
    s->short_sends = zl_r.short_sends;
    s->bytes_in = zl_r.bytes_in;
    s->bytes_out = zl_r.bytes_out;
    s->cqes = zl_r.cqes;
    s->ticks = zl_r.ticks;
    s->ring_flags = zl_r.ring_flags;
    s->connections_paused = zl_budget_paused();
    s->pauses = zl_budget_pauses();
    s->idle_timeouts = zl_sweep_idle_closed();
    s->end_timeouts = zl_sweep_end_closed();
    s->recv_budget = zl_budget_per_conn();
    s->recv_reserve = zl_budget_reserve();
    s->listener_fd = zl_r.lfd;
    /* Every connection taken is open or was reported closed. */
    ZL_ASSERT(zl_r.accepted == zl_r.closed + s->connections_open);
    return s;
}
