/* zp_fuzz.h — the fuzzer's bookkeeping: what the guest opened, which handle
 * values it knows to be invalid, and the pickers that bias random arguments
 * toward plausible ones (live handles, stale handles, off-by-one ranges). */
#ifndef ZP_FUZZ_H
#define ZP_FUZZ_H

#include "zp_probe.h"

/* One entry per host import, in host.wit order: the index reported as
 * fuzz-report.first-unexpected-op. */
enum zp_op {
    OP_CREATE_RING, OP_CREATE_RING_EX, OP_DESTROY_RING, OP_GET_RING_FLAGS,
    OP_GET_SQE, OP_SUBMIT, OP_SUBMIT_AND_WAIT, OP_SUBMIT_AND_WAIT_TIMEOUT, OP_ENTER,
    OP_WAIT_CQE, OP_WAIT_CQE_TIMEOUT, OP_WAIT_CQES, OP_PEEK_BATCH_CQE, OP_CQE_SEEN,
    OP_CQ_ADVANCE, OP_CQ_READY, OP_SQ_READY,
    OP_PREP_ACCEPT, OP_PREP_RECV, OP_PREP_RECV_SELECT, OP_PREP_SEND, OP_PREP_SENDMSG, OP_PREP_CANCEL64,
    OP_SET_DATA64, OP_GET_DATA64,
    OP_QUEUE_ACCEPT, OP_QUEUE_RECV_MULTISHOT, OP_QUEUE_RECV, OP_QUEUE_SEND, OP_QUEUE_SENDMSG, OP_QUEUE_CANCEL64,
    OP_SETUP_BUF_RING, OP_FREE_BUF_RING, OP_BUF_RING_ADD, OP_BUF_RING_ADVANCE,
    OP_HAS_BUFFER, OP_BUFFER_ID,
    OP_SLAB_CREATE, OP_SLAB_DESTROY,
    OP_SOCKET, OP_BIND, OP_BIND6, OP_LISTEN, OP_SETSOCKOPT, OP_CLOSE, OP_FCNTL,
    OP_INET_PTON, OP_SHUTDOWN, OP_GETSOCKNAME, OP_GETPEERNAME,
    OP_PIN,
    OP__COUNT
};

/* What an SQE was prepared as; kept in its user-data tag so that accept CQEs
 * (whose `res` is a new fd the guest must close) are recognised. */
enum zp_kind { K_NOP, K_ACCEPT, K_RECV, K_SEND, K_SENDMSG, K_CANCEL, K_SHARED = 0xff };
#define ZP_SHARED_TAG 0xA5ff00000000002aull

#define ZP_MAX_RINGS 4
#define ZP_MAX_SQES 64
#define ZP_MAX_BRS 2
#define ZP_MAX_SLABS 6
#define ZP_MAX_FDS 48
#define ZP_MAX_DEAD 16

typedef struct { uint32_t h; uint8_t kind; } zp_sqe;
typedef struct { uint32_t h, entries, bgid; } zp_br;
typedef struct {
    uint32_t h, entries, flags;
    zp_sqe sqes[ZP_MAX_SQES];
    uint32_t nsqes;
    zp_br brs[ZP_MAX_BRS];
    uint32_t nbrs;
} zp_ring;
typedef struct { uint32_t h, size; } zp_slab;

/* A small FIFO of handle values that are no longer live. */
typedef struct { uint32_t v[ZP_MAX_DEAD]; uint32_t n; } zp_dead;

typedef struct {
    zp_ring rings[ZP_MAX_RINGS];
    uint32_t nrings;
    zp_slab slabs[ZP_MAX_SLABS];
    uint32_t nslabs;
    int32_t fds[ZP_MAX_FDS];
    uint32_t nfds;
    zp_dead dead_rings, dead_slabs, dead_brs, dead_fds;
    /* fds the fuzzer closed by number without tracking them: the host hands an
     * accepted fd to the guest when a peek reads its CQE, the fuzzer tracks it
     * only once it consumes that CQE, and a close in between (a random pick)
     * closes it. The CQE consumed later names a closed fd, not one to track. */
    zp_dead blind_closed;
    /* SQE handles invalidated by a successful submit: the WIT says -EBADF. */
    zp_dead stale_sqes;
    int32_t lfd;
    zp_fuzz_report rep;
} zp_state;

extern zp_state zp_g;

/* Counts one host call. */
#define HC(call) (zp_g.rep.calls++, (call))

/* What a result must look like, given the arguments the fuzzer chose. */
enum zp_expect { ANY, MUST_FAIL, MUST_EBADF, MUST_OK };
int64_t zp_note(int op, int64_t r, int expect);
void zp_flag(int op, int64_t r);

/* PRNG (splitmix64): the whole run reproduces from the seed. */
void zp_seed(uint64_t seed);
uint64_t zp_rnd64(void);
uint32_t zp_rnd(uint32_t n);
int zp_chance(uint32_t pct);

uint64_t zp_tag(unsigned kind);
/* Tags recently given to SQEs: cancel targets that hit real requests. */
void zp_remember_tag(uint64_t tag);
uint64_t zp_recent_tag(void);
/* A flush was refused (-EINVAL: a user-data shared by an accept and another
 * kind): gives every prepared SQE of the ring a fresh tag of its own kind. */
void zp_retag(zp_ring *r);
int zp_tag_kind(uint64_t user_data);

void zp_dead_push(zp_dead *d, uint32_t v);
/* Removes `v` if it is among the last ZP_MAX_DEAD pushed: whether it was. */
int zp_dead_take(zp_dead *d, uint32_t v);
void zp_issued_add(uint32_t sqe);
int zp_issued_has(uint32_t sqe);

zp_ring *zp_find_ring(uint32_t h);
zp_slab *zp_find_slab(uint32_t h);
zp_br *zp_find_br(uint32_t h, zp_ring **owner);
zp_sqe *zp_find_sqe(uint32_t h, zp_ring **owner);
int zp_fd_index(int32_t fd);

/* Pickers: return a value; `*bad` = 1 when the value is known to be invalid
 * (the call must then fail); `live` entries are returned when the value is one. */
uint32_t zp_pick_ring(zp_ring **live, int *bad);
uint32_t zp_pick_slab(zp_slab **live, int *bad);
uint32_t zp_pick_br(zp_br **live, zp_ring **owner, int *bad);
uint32_t zp_pick_sqe(zp_sqe **live, zp_ring **owner, int *bad);
int32_t zp_pick_fd(int *bad, int allow_lfd);
/* A range inside or around a slab; 1 when it certainly lies outside. */
int zp_pick_range(const zp_slab *s, uint32_t *off, uint32_t *len);
struct __kernel_timespec zp_pick_ts(void);

/* Bookkeeping after successful calls. */
void zp_track_fd(int32_t fd);
void zp_untrack_fd(int32_t fd);
void zp_consume_cqe(const struct io_uring_cqe *c);
void zp_ring_submitted(zp_ring *r, int certain);
void zp_ring_forget(zp_ring *r);

/* Drains every CQE (accepted fds are recorded) and destroys the ring. */
int32_t zp_drain_and_destroy(zp_ring *r);
/* Closes/destroys everything still open and fills rep.open-* (open-fds: what
 * the host still says is the guest's afterwards). */
void zp_cleanup(void);

#endif
