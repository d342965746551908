/* zl_host.h — the C side of `interface host` in wasm/wit/host.wit.
 *
 * No wit-bindgen is available here, so the canonical ABI is written by hand:
 * records are flattened into scalar params, record/list results come back
 * through a return pointer (`ret`) the host writes into, list results are
 * allocated by the host through our exported `cabi_realloc` and owned by the
 * caller afterwards (free() them). `jco new` rejects a signature that does not
 * match the WIT, but cannot see u32-vs-s32 or a wrong retptr layout: the
 * _Static_asserts below pin the layouts the host writes.
 */
#ifndef ZL_HOST_H
#define ZL_HOST_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* The seed's structs, same names and sizes. */
struct io_uring_cqe {
    uint64_t user_data;
    int32_t res;
    uint32_t flags;
};
_Static_assert(sizeof(struct io_uring_cqe) == 16, "io_uring_cqe is 16 bytes");

struct __kernel_timespec {
    int64_t tv_sec;
    int64_t tv_nsec;
};
_Static_assert(sizeof(struct __kernel_timespec) == 16, "__kernel_timespec is 16 bytes");

/* Canonical-ABI layouts of the record results the host writes through `ret`. */
typedef struct zl_cqe_result {
    int32_t ret;
    uint32_t _pad;
    struct io_uring_cqe cqe;
} zl_cqe_result;
_Static_assert(sizeof(zl_cqe_result) == 24, "cqe-result layout");
_Static_assert(offsetof(zl_cqe_result, cqe) == 8, "cqe-result.cqe at 8");

typedef struct zl_sock_addr {
    int32_t ret;
    uint32_t family;
    uint16_t port;
    uint16_t _pad0;
    uint32_t _pad1;
    uint64_t hi;
    uint64_t lo;
} zl_sock_addr;
_Static_assert(sizeof(zl_sock_addr) == 32, "sock-addr layout");
_Static_assert(offsetof(zl_sock_addr, hi) == 16, "sock-addr.hi at 16");

typedef struct zl_list {
    void *ptr;
    size_t len; /* elements, not bytes */
} zl_list;
_Static_assert(sizeof(zl_list) == 8, "list<T> is (ptr, len) on wasm32");

typedef struct zl_slab_range {
    uint32_t slab;
    uint32_t offset;
    uint32_t len;
} zl_slab_range;
_Static_assert(sizeof(zl_slab_range) == 12, "slab-range layout");

/* The constants shared with the TS layer (errnos, socket and ring flags): one table,
 * wasm/abi/constants.mjs, generated into zl_consts.h and bridge/consts.ts. */
#include "zl_consts.h"

#define ZL_IMPORT(name) __attribute__((import_module("zergling:reactor/host"), import_name(name)))

/* ring lifecycle */
ZL_IMPORT("create-ring") int32_t zl_create_ring(uint32_t entries);
ZL_IMPORT("create-ring-ex") int32_t zl_create_ring_ex(uint32_t entries, uint32_t flags, int32_t sq_thread_cpu, uint32_t sq_thread_idle_ms);
ZL_IMPORT("destroy-ring") int32_t zl_destroy_ring(uint32_t ring);
ZL_IMPORT("get-ring-flags") int64_t zl_get_ring_flags(uint32_t ring);

/* submission */
ZL_IMPORT("get-sqe") int32_t zl_get_sqe(uint32_t ring);
ZL_IMPORT("submit") int32_t zl_submit(uint32_t ring);
ZL_IMPORT("submit-and-wait") int32_t zl_submit_and_wait(uint32_t ring, uint32_t wait_nr);
ZL_IMPORT("submit-and-wait-timeout") int32_t zl__submit_and_wait_timeout(uint32_t ring, uint32_t wait_nr, int64_t sec, int64_t nsec);
ZL_IMPORT("enter") int32_t zl__enter(uint32_t ring, uint32_t to_submit, uint32_t min_complete, uint32_t flags, int32_t has_ts, int64_t sec, int64_t nsec);

/* completion */
ZL_IMPORT("wait-cqe") void zl__wait_cqe(uint32_t ring, zl_cqe_result *ret);
ZL_IMPORT("wait-cqe-timeout") void zl__wait_cqe_timeout(uint32_t ring, int64_t sec, int64_t nsec, zl_cqe_result *ret);
ZL_IMPORT("wait-cqes") void zl__wait_cqes(uint32_t ring, uint32_t wait_nr, int64_t sec, int64_t nsec, zl_cqe_result *ret);
ZL_IMPORT("peek-batch-cqe") void zl__peek_batch_cqe(uint32_t ring, uint32_t max, zl_list *ret);
ZL_IMPORT("cqe-seen") int32_t zl_cqe_seen(uint32_t ring);
ZL_IMPORT("cq-advance") int32_t zl_cq_advance(uint32_t ring, uint32_t count);
ZL_IMPORT("cq-ready") int32_t zl_cq_ready(uint32_t ring);
ZL_IMPORT("sq-ready") int32_t zl_sq_ready(uint32_t ring);

/* SQE preparation */
ZL_IMPORT("prep-multishot-accept") int32_t zl_prep_multishot_accept(uint32_t sqe, int32_t lfd, uint32_t flags);
ZL_IMPORT("prep-recv-multishot-select") int32_t zl_prep_recv_multishot_select(uint32_t sqe, int32_t fd, uint32_t buf_group, uint32_t flags);
ZL_IMPORT("prep-recv-select") int32_t zl_prep_recv_select(uint32_t sqe, int32_t fd, uint32_t buf_group, uint32_t flags);
ZL_IMPORT("prep-send") int32_t zl_prep_send(uint32_t sqe, int32_t fd, uint32_t slab, uint32_t offset, uint32_t len, uint32_t flags);
ZL_IMPORT("prep-sendmsg") int32_t zl__prep_sendmsg(uint32_t sqe, int32_t fd, const zl_slab_range *iov, size_t n, uint32_t flags);
ZL_IMPORT("prep-cancel64") int32_t zl_prep_cancel64(uint32_t sqe, uint64_t user_data, uint32_t flags);

/* user data */
ZL_IMPORT("sqe-set-data64") int32_t zl_sqe_set_data64(uint32_t sqe, uint64_t data);
ZL_IMPORT("cqe-get-data64") uint64_t zl__cqe_get_data64(uint64_t user_data, int32_t res, uint32_t flags);

/* fused queueing: one host call per SQE (get-sqe + prep-* + sqe-set-data64).
 * The token crosses as two u32 halves (host.wit says why); the seed-shaped
 * wrappers below take it whole. */
ZL_IMPORT("queue-multishot-accept") int32_t zl__queue_multishot_accept(uint32_t ring, int32_t lfd, uint32_t flags, uint32_t token_hi, uint32_t token_lo);
ZL_IMPORT("queue-recv-multishot-select") int32_t zl__queue_recv_multishot_select(uint32_t ring, int32_t fd, uint32_t buf_group, uint32_t flags, uint32_t token_hi, uint32_t token_lo);
ZL_IMPORT("queue-recv-select") int32_t zl__queue_recv_select(uint32_t ring, int32_t fd, uint32_t buf_group, uint32_t flags, uint32_t token_hi, uint32_t token_lo);
ZL_IMPORT("queue-send") int32_t zl__queue_send(uint32_t ring, int32_t fd, uint32_t slab, uint32_t offset, uint32_t len, uint32_t flags, uint32_t token_hi, uint32_t token_lo);
ZL_IMPORT("queue-sendmsg") int32_t zl__queue_sendmsg(uint32_t ring, int32_t fd, const zl_slab_range *iov, size_t n, uint32_t flags, uint32_t token_hi, uint32_t token_lo);
ZL_IMPORT("queue-cancel64") int32_t zl__queue_cancel64(uint32_t ring, uint64_t target, uint32_t flags, uint32_t token_hi, uint32_t token_lo);

/* buffer ring */
ZL_IMPORT("setup-buf-ring") int32_t zl_setup_buf_ring(uint32_t ring, uint32_t entries, uint32_t bgid, uint32_t flags);
ZL_IMPORT("free-buf-ring") int32_t zl_free_buf_ring(uint32_t ring, uint32_t br);
ZL_IMPORT("buf-ring-add") int32_t zl_buf_ring_add(uint32_t br, uint32_t slab, uint32_t offset, uint32_t len, uint32_t bid, uint32_t mask, uint32_t idx);
ZL_IMPORT("buf-ring-advance") int32_t zl_buf_ring_advance(uint32_t br, uint32_t count);
ZL_IMPORT("cqe-has-buffer") int32_t zl__cqe_has_buffer(uint64_t user_data, int32_t res, uint32_t flags);
ZL_IMPORT("cqe-buffer-id") int32_t zl__cqe_buffer_id(uint64_t user_data, int32_t res, uint32_t flags);

/* slabs */
ZL_IMPORT("slab-create") int32_t zl_slab_create(uint32_t size);
ZL_IMPORT("slab-destroy") int32_t zl_slab_destroy(uint32_t slab);

/* sockets */
ZL_IMPORT("socket") int32_t zl_socket(int32_t domain, int32_t type, int32_t protocol);
ZL_IMPORT("bind") int32_t zl__bind(int32_t fd, uint32_t port, uint32_t addr);
ZL_IMPORT("bind6") int32_t zl__bind6(int32_t fd, uint32_t port, uint32_t flowinfo, uint64_t hi, uint64_t lo, uint32_t scope_id);
ZL_IMPORT("listen") int32_t zl_listen(int32_t fd, int32_t backlog);
ZL_IMPORT("setsockopt") int32_t zl_setsockopt(int32_t fd, int32_t level, int32_t optname, int32_t value);
ZL_IMPORT("close") int32_t zl_close(int32_t fd);
ZL_IMPORT("fcntl") int32_t zl_fcntl(int32_t fd, int32_t cmd, int64_t arg);
ZL_IMPORT("inet-pton") void zl__inet_pton(int32_t af, const char *src, size_t len, zl_sock_addr *ret);
ZL_IMPORT("shutdown") int32_t zl_shutdown(int32_t fd, int32_t how);
ZL_IMPORT("getsockname") void zl__getsockname(int32_t fd, zl_sock_addr *ret);
ZL_IMPORT("getpeername") void zl__getpeername(int32_t fd, zl_sock_addr *ret);

/* affinity */
ZL_IMPORT("pin-current-thread-to-cpu") int32_t zl_pin_current_thread_to_cpu(int32_t cpu);

/* ---- seed-shaped wrappers over the flattened imports ---- */

static inline int32_t zl_submit_and_wait_timeout(uint32_t ring, uint32_t wait_nr, struct __kernel_timespec ts) {
    return zl__submit_and_wait_timeout(ring, wait_nr, ts.tv_sec, ts.tv_nsec);
}
static inline int32_t zl_enter(uint32_t ring, uint32_t to_submit, uint32_t min_complete, uint32_t flags,
                               const struct __kernel_timespec *ts) {
    return zl__enter(ring, to_submit, min_complete, flags, ts != NULL, ts ? ts->tv_sec : 0, ts ? ts->tv_nsec : 0);
}
static inline zl_cqe_result zl_wait_cqe(uint32_t ring) {
    zl_cqe_result r; zl__wait_cqe(ring, &r); return r;
}
static inline zl_cqe_result zl_wait_cqe_timeout(uint32_t ring, struct __kernel_timespec ts) {
    zl_cqe_result r; zl__wait_cqe_timeout(ring, ts.tv_sec, ts.tv_nsec, &r); return r;
}
static inline zl_cqe_result zl_wait_cqes(uint32_t ring, uint32_t wait_nr, struct __kernel_timespec ts) {
    zl_cqe_result r; zl__wait_cqes(ring, wait_nr, ts.tv_sec, ts.tv_nsec, &r); return r;
}
/* Returns the number of CQEs copied into a host-allocated array (*out, free() it). */
static inline uint32_t zl_peek_batch_cqe(uint32_t ring, uint32_t max, struct io_uring_cqe **out) {
    zl_list l; zl__peek_batch_cqe(ring, max, &l);
    *out = (struct io_uring_cqe *)l.ptr;
    return (uint32_t)(l.len / sizeof(struct io_uring_cqe));
}
static inline int32_t zl_prep_sendmsg(uint32_t sqe, int32_t fd, const zl_slab_range *iov, size_t n, uint32_t flags) {
    return zl__prep_sendmsg(sqe, fd, iov, n, flags);
}
#define ZL_HI(t) ((uint32_t)((t) >> 32))
#define ZL_LO(t) ((uint32_t)(t))
static inline int32_t zl_queue_multishot_accept(uint32_t ring, int32_t lfd, uint32_t flags, uint64_t user_data) {
    return zl__queue_multishot_accept(ring, lfd, flags, ZL_HI(user_data), ZL_LO(user_data));
}
static inline int32_t zl_queue_recv_multishot_select(uint32_t ring, int32_t fd, uint32_t buf_group, uint32_t flags, uint64_t user_data) {
    return zl__queue_recv_multishot_select(ring, fd, buf_group, flags, ZL_HI(user_data), ZL_LO(user_data));
}
static inline int32_t zl_queue_recv_select(uint32_t ring, int32_t fd, uint32_t buf_group, uint32_t flags, uint64_t user_data) {
    return zl__queue_recv_select(ring, fd, buf_group, flags, ZL_HI(user_data), ZL_LO(user_data));
}
static inline int32_t zl_queue_send(uint32_t ring, int32_t fd, uint32_t slab, uint32_t offset, uint32_t len, uint32_t flags, uint64_t user_data) {
    return zl__queue_send(ring, fd, slab, offset, len, flags, ZL_HI(user_data), ZL_LO(user_data));
}
static inline int32_t zl_queue_sendmsg(uint32_t ring, int32_t fd, const zl_slab_range *iov, size_t n, uint32_t flags, uint64_t user_data) {
    return zl__queue_sendmsg(ring, fd, iov, n, flags, ZL_HI(user_data), ZL_LO(user_data));
}
static inline int32_t zl_queue_cancel64(uint32_t ring, uint64_t target, uint32_t flags, uint64_t user_data) {
    return zl__queue_cancel64(ring, target, flags, ZL_HI(user_data), ZL_LO(user_data));
}
#undef ZL_HI
#undef ZL_LO
static inline uint64_t zl_cqe_get_data64(const struct io_uring_cqe *c) {
    return zl__cqe_get_data64(c->user_data, c->res, c->flags);
}
static inline bool zl_cqe_has_buffer(const struct io_uring_cqe *c) {
    return zl__cqe_has_buffer(c->user_data, c->res, c->flags) != 0;
}
static inline int32_t zl_cqe_buffer_id(const struct io_uring_cqe *c) {
    return zl__cqe_buffer_id(c->user_data, c->res, c->flags);
}
static inline int32_t zl_bind(int32_t fd, uint16_t port, uint32_t addr_be_octets) {
    return zl__bind(fd, port, addr_be_octets);
}
static inline int32_t zl_bind6(int32_t fd, uint16_t port, uint64_t hi, uint64_t lo, uint32_t scope_id) {
    return zl__bind6(fd, port, 0, hi, lo, scope_id);
}
static inline zl_sock_addr zl_inet_pton(int32_t af, const char *src, size_t len) {
    zl_sock_addr r; zl__inet_pton(af, src, len, &r); return r;
}
static inline zl_sock_addr zl_getsockname(int32_t fd) {
    zl_sock_addr r; zl__getsockname(fd, &r); return r;
}
static inline zl_sock_addr zl_getpeername(int32_t fd) {
    zl_sock_addr r; zl__getpeername(fd, &r); return r;
}

#endif
