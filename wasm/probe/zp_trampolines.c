/* zp_trampolines.c — probe-api functions that call the host import of the
 * same name from Wasm and hand its result back unchanged, so a test can drive
 * every import step by step through the real canonical-ABI path. */
#include <stdlib.h>
#include "zp_probe.h"

/* ---------------------------------------------------------------- ring lifecycle */

ZP_EXPORT("create-ring") int32_t zp_create_ring(uint32_t entries) { return zl_create_ring(entries); }
ZP_EXPORT("create-ring-ex") int32_t zp_create_ring_ex(uint32_t entries, uint32_t flags, int32_t cpu, uint32_t idle_ms) {
    return zl_create_ring_ex(entries, flags, cpu, idle_ms);
}
ZP_EXPORT("destroy-ring") int32_t zp_destroy_ring(uint32_t ring) { return zl_destroy_ring(ring); }
ZP_EXPORT("get-ring-flags") int64_t zp_get_ring_flags(uint32_t ring) { return zl_get_ring_flags(ring); }

/* ---------------------------------------------------------------- submission */

ZP_EXPORT("get-sqe") int32_t zp_get_sqe(uint32_t ring) { return zl_get_sqe(ring); }
ZP_EXPORT("submit") int32_t zp_submit(uint32_t ring) { return zl_submit(ring); }
ZP_EXPORT("submit-and-wait") int32_t zp_submit_and_wait(uint32_t ring, uint32_t wait_nr) {
    return zl_submit_and_wait(ring, wait_nr);
}
ZP_EXPORT("submit-and-wait-timeout")
int32_t zp_submit_and_wait_timeout(uint32_t ring, uint32_t wait_nr, int64_t timeout_ns) {
    return zl_submit_and_wait_timeout(ring, wait_nr, zp_ts(timeout_ns));
}
ZP_EXPORT("enter")
int32_t zp_enter(uint32_t ring, uint32_t to_submit, uint32_t min_complete, uint32_t flags, int64_t timeout_ns) {
    struct __kernel_timespec ts = zp_ts(timeout_ns);
    return zl_enter(ring, to_submit, min_complete, flags, timeout_ns < 0 ? NULL : &ts);
}

/* ---------------------------------------------------------------- completion */

void zp_see_cqe(zp_seen_cqe *out, int32_t ret, const struct io_uring_cqe *c) {
    out->ret = ret;
    out->user_data = c->user_data;
    out->res = c->res;
    out->flags = c->flags;
    out->data64 = zl_cqe_get_data64(c);
    out->has_buffer = zl_cqe_has_buffer(c) ? 1 : 0;
    out->bid = zl_cqe_buffer_id(c);
}

static zp_seen_cqe one_cqe;

ZP_EXPORT("wait-cqe") zp_seen_cqe *zp_wait_cqe(uint32_t ring) {
    zl_cqe_result r = zl_wait_cqe(ring);
    zp_see_cqe(&one_cqe, r.ret, &r.cqe);
    return &one_cqe;
}
ZP_EXPORT("wait-cqe-timeout") zp_seen_cqe *zp_wait_cqe_timeout(uint32_t ring, int64_t timeout_ns) {
    zl_cqe_result r = zl_wait_cqe_timeout(ring, zp_ts(timeout_ns));
    zp_see_cqe(&one_cqe, r.ret, &r.cqe);
    return &one_cqe;
}
ZP_EXPORT("wait-cqes") zp_seen_cqe *zp_wait_cqes(uint32_t ring, uint32_t wait_nr, int64_t timeout_ns) {
    zl_cqe_result r = zl_wait_cqes(ring, wait_nr, zp_ts(timeout_ns));
    zp_see_cqe(&one_cqe, r.ret, &r.cqe);
    return &one_cqe;
}

#define ZP_REAP_MAX 256
static zp_seen_cqe reaped[ZP_REAP_MAX];
static zl_list reap_ret;

ZP_EXPORT("reap") zl_list *zp_reap(uint32_t ring, uint32_t max) {
    struct io_uring_cqe *cqes;
    uint32_t n = zl_peek_batch_cqe(ring, max < ZP_REAP_MAX ? max : ZP_REAP_MAX, &cqes);
    if (n > ZP_REAP_MAX) n = 0; /* a host that ignores `max` must not overrun `reaped` */
    for (uint32_t i = 0; i < n; i++) zp_see_cqe(&reaped[i], 0, &cqes[i]);
    if (n > 0) free(cqes);
    reap_ret.ptr = reaped;
    reap_ret.len = n;
    return &reap_ret;
}
ZP_EXPORT("cqe-seen") int32_t zp_cqe_seen(uint32_t ring) { return zl_cqe_seen(ring); }
ZP_EXPORT("cq-advance") int32_t zp_cq_advance(uint32_t ring, uint32_t count) { return zl_cq_advance(ring, count); }
ZP_EXPORT("cq-ready") int32_t zp_cq_ready(uint32_t ring) { return zl_cq_ready(ring); }
ZP_EXPORT("sq-ready") int32_t zp_sq_ready(uint32_t ring) { return zl_sq_ready(ring); }

/* ---------------------------------------------------------------- SQE preparation */

ZP_EXPORT("prep-multishot-accept") int32_t zp_prep_multishot_accept(uint32_t sqe, int32_t lfd, uint32_t flags) {
    return zl_prep_multishot_accept(sqe, lfd, flags);
}
ZP_EXPORT("prep-recv-select")
int32_t zp_prep_recv_select(uint32_t sqe, int32_t fd, uint32_t buf_group, uint32_t flags) {
    return zl_prep_recv_select(sqe, fd, buf_group, flags);
}

ZP_EXPORT("prep-recv-multishot-select")
int32_t zp_prep_recv_multishot_select(uint32_t sqe, int32_t fd, uint32_t buf_group, uint32_t flags) {
    return zl_prep_recv_multishot_select(sqe, fd, buf_group, flags);
}
ZP_EXPORT("prep-send")
int32_t zp_prep_send(uint32_t sqe, int32_t fd, uint32_t slab, uint32_t offset, uint32_t len, uint32_t flags) {
    return zl_prep_send(sqe, fd, slab, offset, len, flags);
}
/* The list arrives in a block from cabi_realloc; it is ours to free. */
ZP_EXPORT("prep-sendmsg")
int32_t zp_prep_sendmsg(uint32_t sqe, int32_t fd, zl_slab_range *iov, size_t n, uint32_t flags) {
    int32_t r = zl_prep_sendmsg(sqe, fd, iov, n, flags);
    if (n > 0) free(iov);
    return r;
}
ZP_EXPORT("prep-cancel64") int32_t zp_prep_cancel64(uint32_t sqe, uint64_t user_data, uint32_t flags) {
    return zl_prep_cancel64(sqe, user_data, flags);
}
ZP_EXPORT("sqe-set-data64") int32_t zp_sqe_set_data64(uint32_t sqe, uint64_t data) { return zl_sqe_set_data64(sqe, data); }

/* ---------------------------------------------------------------- fused queueing */

ZP_EXPORT("queue-multishot-accept")
int32_t zp_queue_multishot_accept(uint32_t ring, int32_t lfd, uint32_t flags, uint64_t user_data) {
    return zl_queue_multishot_accept(ring, lfd, flags, user_data);
}
ZP_EXPORT("queue-recv-multishot-select")
int32_t zp_queue_recv_multishot_select(uint32_t ring, int32_t fd, uint32_t buf_group, uint32_t flags, uint64_t user_data) {
    return zl_queue_recv_multishot_select(ring, fd, buf_group, flags, user_data);
}
ZP_EXPORT("queue-recv-select")
int32_t zp_queue_recv_select(uint32_t ring, int32_t fd, uint32_t buf_group, uint32_t flags, uint64_t user_data) {
    return zl_queue_recv_select(ring, fd, buf_group, flags, user_data);
}
ZP_EXPORT("queue-send")
int32_t zp_queue_send(uint32_t ring, int32_t fd, uint32_t slab, uint32_t offset, uint32_t len, uint32_t flags,
                      uint64_t user_data) {
    return zl_queue_send(ring, fd, slab, offset, len, flags, user_data);
}
/* The list arrives in a block from cabi_realloc; it is ours to free. */
ZP_EXPORT("queue-sendmsg")
int32_t zp_queue_sendmsg(uint32_t ring, int32_t fd, zl_slab_range *iov, size_t n, uint32_t flags, uint64_t user_data) {
    int32_t r = zl_queue_sendmsg(ring, fd, iov, n, flags, user_data);
    if (n > 0) free(iov);
    return r;
}
ZP_EXPORT("queue-cancel64")
int32_t zp_queue_cancel64(uint32_t ring, uint64_t target, uint32_t flags, uint64_t user_data) {
    return zl_queue_cancel64(ring, target, flags, user_data);
}

/* ---------------------------------------------------------------- buffer ring, slabs */

ZP_EXPORT("setup-buf-ring") int32_t zp_setup_buf_ring(uint32_t ring, uint32_t entries, uint32_t bgid, uint32_t flags) {
    return zl_setup_buf_ring(ring, entries, bgid, flags);
}
ZP_EXPORT("free-buf-ring") int32_t zp_free_buf_ring(uint32_t ring, uint32_t br) { return zl_free_buf_ring(ring, br); }
ZP_EXPORT("buf-ring-add")
int32_t zp_buf_ring_add(uint32_t br, uint32_t slab, uint32_t offset, uint32_t len, uint32_t bid, uint32_t mask, uint32_t idx) {
    return zl_buf_ring_add(br, slab, offset, len, bid, mask, idx);
}
ZP_EXPORT("buf-ring-advance") int32_t zp_buf_ring_advance(uint32_t br, uint32_t count) { return zl_buf_ring_advance(br, count); }
ZP_EXPORT("slab-create") int32_t zp_slab_create(uint32_t size) { return zl_slab_create(size); }
ZP_EXPORT("slab-destroy") int32_t zp_slab_destroy(uint32_t slab) { return zl_slab_destroy(slab); }

/* ---------------------------------------------------------------- sockets, affinity */

ZP_EXPORT("socket") int32_t zp_socket(int32_t domain, int32_t type, int32_t protocol) { return zl_socket(domain, type, protocol); }
ZP_EXPORT("bind") int32_t zp_bind(int32_t fd, uint32_t port, uint32_t addr) { return zl_bind(fd, (uint16_t)port, addr); }
ZP_EXPORT("bind6")
int32_t zp_bind6(int32_t fd, uint32_t port, uint32_t flowinfo, uint64_t hi, uint64_t lo, uint32_t scope_id) {
    return zl__bind6(fd, port & 0xffff, flowinfo, hi, lo, scope_id);
}
ZP_EXPORT("listen") int32_t zp_listen(int32_t fd, int32_t backlog) { return zl_listen(fd, backlog); }
ZP_EXPORT("setsockopt") int32_t zp_setsockopt(int32_t fd, int32_t level, int32_t optname, int32_t value) {
    return zl_setsockopt(fd, level, optname, value);
}
ZP_EXPORT("close") int32_t zp_close(int32_t fd) { return zl_close(fd); }
ZP_EXPORT("fcntl") int32_t zp_fcntl(int32_t fd, int32_t cmd, int64_t arg) { return zl_fcntl(fd, cmd, arg); }
ZP_EXPORT("shutdown") int32_t zp_shutdown(int32_t fd, int32_t how) { return zl_shutdown(fd, how); }

static zl_sock_addr one_addr;

/* The string arrives in a block from cabi_realloc; it is ours to free. */
ZP_EXPORT("inet-pton") zl_sock_addr *zp_inet_pton(int32_t af, char *src, size_t len) {
    one_addr = zl_inet_pton(af, src, len);
    if (len > 0) free(src);
    return &one_addr;
}
ZP_EXPORT("getsockname") zl_sock_addr *zp_getsockname(int32_t fd) { one_addr = zl_getsockname(fd); return &one_addr; }
ZP_EXPORT("getpeername") zl_sock_addr *zp_getpeername(int32_t fd) { one_addr = zl_getpeername(fd); return &one_addr; }

ZP_EXPORT("pin-current-thread-to-cpu") int32_t zp_pin(int32_t cpu) { return zl_pin_current_thread_to_cpu(cpu); }
