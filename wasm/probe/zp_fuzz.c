/* zp_fuzz.c — the randomized test: host calls with random, biased arguments.
 * One action per host import; each checks what can be known about its result
 * (a certainly-invalid handle must fail, a ring-only call on one must be
 * -EBADF, the pure helpers must agree with the CQE) and keeps the
 * bookkeeping that lets zp_cleanup close everything at the end. */
#include <stdlib.h>
#include <string.h>
#include "zp_fuzz.h"

#define ANY_OR(bad, e) ((bad) ? (e) : ANY)

static const uint32_t ring_flag_choices[] = {
    0, ZL_SETUP_SQPOLL, ZL_SETUP_SQPOLL | ZL_SETUP_SQ_AFF, ZL_SETUP_SINGLE_ISSUER,
    ZL_SETUP_SINGLE_ISSUER | ZL_SETUP_DEFER_TASKRUN, ZL_SETUP_COOP_TASKRUN, ZL_SETUP_DEFER_TASKRUN,
    0x80000000u, 0xffffffffu,
};
static const uint32_t entries_choices[] = { 1, 2, 4, 8, 16, 32, 64, 128, 0, 3, 100, 4096, 32769, 65536, 0xffffffffu };

static int have_sqpoll(void) {
    for (uint32_t i = 0; i < zp_g.nrings; i++) if (zp_g.rings[i].flags & ZL_SETUP_SQPOLL) return 1;
    return 0;
}

static uint32_t pow2_ceil(uint32_t v) {
    uint32_t p = 1;
    while (p < v && p < 0x80000000u) p <<= 1;
    return p;
}

/* ---------------------------------------------------------------- ring lifecycle */

static void act_create_ring(int ex) {
    if (zp_g.nrings == ZP_MAX_RINGS) { zp_drain_and_destroy(&zp_g.rings[zp_rnd(zp_g.nrings)]); return; }
    uint32_t entries = entries_choices[zp_rnd(zp_chance(80) ? 8 : sizeof entries_choices / sizeof *entries_choices)];
    uint32_t flags = 0;
    int32_t cpu = -1;
    /* SQPOLL threads spin for idle-ms after each submit: one at a time, 1-2 ms. */
    uint32_t idle = 1 + zp_rnd(2);
    int32_t r;
    if (!ex) {
        r = (int32_t)zp_note(OP_CREATE_RING, HC(zl_create_ring(entries)), ANY);
    } else {
        flags = ring_flag_choices[zp_rnd(sizeof ring_flag_choices / sizeof *ring_flag_choices)];
        if (zp_chance(5)) flags = (uint32_t)zp_rnd64();
        if (have_sqpoll()) flags &= ~(uint32_t)ZL_SETUP_SQPOLL;
        static const int32_t cpus[] = { -1, 0, 1, 4096, -7 };
        cpu = cpus[zp_rnd(5)];
        r = (int32_t)zp_note(OP_CREATE_RING_EX, HC(zl_create_ring_ex(entries, flags, cpu, idle)),
                             flags == 0x80000000u ? MUST_FAIL : ANY);
    }
    if (r < 0) return;
    zp_g.rep.rings_created++;
    zp_ring *ring = &zp_g.rings[zp_g.nrings++];
    memset(ring, 0, sizeof *ring);
    ring->h = (uint32_t)r;
    ring->entries = pow2_ceil(entries);
    int64_t got = zp_note(OP_GET_RING_FLAGS, HC(zl_get_ring_flags(ring->h)), MUST_OK);
    ring->flags = got < 0 ? flags : (uint32_t)got;
    /* What was asked (the documented flags) must be what the kernel accepted. */
    uint32_t known = ZL_SETUP_SQPOLL | ZL_SETUP_SQ_AFF | ZL_SETUP_COOP_TASKRUN | ZL_SETUP_SINGLE_ISSUER |
                     ZL_SETUP_DEFER_TASKRUN;
    if (got >= 0 && ((uint32_t)got & flags & known) != (flags & known)) zp_flag(OP_GET_RING_FLAGS, got);
}

static void act_destroy_ring(void) {
    zp_ring *live; int bad;
    uint32_t h = zp_pick_ring(&live, &bad);
    if (live) { zp_drain_and_destroy(live); return; }
    zp_note(OP_DESTROY_RING, HC(zl_destroy_ring(h)), ANY_OR(bad, MUST_EBADF));
}

static void act_get_ring_flags(void) {
    zp_ring *live; int bad;
    uint32_t h = zp_pick_ring(&live, &bad);
    zp_note(OP_GET_RING_FLAGS, HC(zl_get_ring_flags(h)), bad ? MUST_EBADF : live ? MUST_OK : ANY);
}

/* ---------------------------------------------------------------- submission */

static void act_get_sqe(void) {
    zp_ring *live; int bad;
    uint32_t h = zp_pick_ring(&live, &bad);
    if (live && live->nsqes == ZP_MAX_SQES) {
        if (zp_note(OP_SUBMIT, HC(zl_submit(h)), ANY) >= 0) zp_ring_submitted(live, 1);
        return;
    }
    int32_t s = (int32_t)zp_note(OP_GET_SQE, HC(zl_get_sqe(h)), ANY_OR(bad, MUST_EBADF));
    if (s < 0) return;
    zp_issued_add((uint32_t)s);
    if (live) {
        zp_ring *other;
        if (zp_find_sqe((uint32_t)s, &other) != NULL) zp_flag(OP_GET_SQE, s); /* handed out twice */
        live->sqes[live->nsqes].h = (uint32_t)s;
        live->sqes[live->nsqes].kind = K_NOP;
        live->nsqes++;
    }
}

/* cq-ready, for the calls that would block: they may wait only for what is there. */
static uint32_t ready_now(uint32_t h) {
    int32_t n = (int32_t)zp_note(OP_CQ_READY, HC(zl_cq_ready(h)), ANY);
    return n < 0 ? 0 : (uint32_t)n;
}

static void act_submit(int variant) {
    zp_ring *live; int bad;
    uint32_t h = zp_pick_ring(&live, &bad);
    int64_t r;
    switch (variant) {
    case 0:
        r = zp_note(OP_SUBMIT, HC(zl_submit(h)), ANY_OR(bad, MUST_EBADF));
        break;
    case 1: {
        uint32_t ready = live ? ready_now(h) : 0;
        uint32_t wait_nr = live ? zp_rnd(ready + 1) : zp_rnd(4);
        r = zp_note(OP_SUBMIT_AND_WAIT, HC(zl_submit_and_wait(h, wait_nr)), ANY_OR(bad, MUST_EBADF));
        break;
    }
    default:
        r = zp_note(OP_SUBMIT_AND_WAIT_TIMEOUT,
                    HC(zl_submit_and_wait_timeout(h, zp_rnd(4), zp_pick_ts())), ANY_OR(bad, MUST_FAIL));
        break;
    }
    if (live && r >= 0) zp_ring_submitted(live, 1);
    if (live && r == -ZL_EINVAL && zp_chance(70)) zp_retag(live);
}

static void act_enter(void) {
    zp_ring *live; int bad;
    uint32_t h = zp_pick_ring(&live, &bad);
    static const uint32_t flag_choices[] = { 0, ZL_ENTER_GETEVENTS, 2, 4, ZL_ENTER_GETEVENTS | 2, 8, 16, 32 };
    uint32_t flags = zp_chance(90) ? flag_choices[zp_rnd(8)] : (uint32_t)zp_rnd64();
    uint32_t to_submit = zp_chance(50) ? (live ? live->nsqes : 1) : zp_rnd(70);
    uint32_t min_complete = zp_rnd(4);
    struct __kernel_timespec ts = zp_pick_ts();
    int with_ts = zp_chance(60);
    /* Without a timespec a GETEVENTS enter waits for min-complete CQEs: ask only for those ready. */
    if (!with_ts) {
        uint32_t ready = live ? ready_now(h) : 0;
        if (min_complete > ready) min_complete = ready;
    }
    int64_t r = zp_note(OP_ENTER, HC(zl_enter(h, to_submit, min_complete, flags, with_ts ? &ts : NULL)),
                        ANY_OR(bad, MUST_FAIL));
    /* enter publishes every prepared SQE whatever `to-submit` says (the host
     * flushes the SQ first), so their handles may be stale now: uncertain. */
    /* -EINVAL (bad flags or timespec, or a refused mixed user-data) flushes nothing. */
    if (live && r == -ZL_EINVAL) {
        if (zp_chance(70)) zp_retag(live);
        return;
    }
    if (live) zp_ring_submitted(live, 0);
}

/* ---------------------------------------------------------------- completion */

static void check_cqe_helpers(const struct io_uring_cqe *c) {
    uint64_t d = HC(zl_cqe_get_data64(c));
    int has = HC(zl_cqe_has_buffer(c));
    int32_t bid = HC(zl_cqe_buffer_id(c));
    zp_g.rep.ok += 3;
    if (d != c->user_data) zp_flag(OP_GET_DATA64, (int64_t)d);
    if (has != ((c->flags & ZL_CQE_F_BUFFER) != 0)) zp_flag(OP_HAS_BUFFER, has);
    if (bid != ((c->flags & ZL_CQE_F_BUFFER) ? (int32_t)(c->flags >> 16) : -ZL_EINVAL)) zp_flag(OP_BUFFER_ID, bid);
}

static void act_wait(int variant) {
    zp_ring *live; int bad;
    uint32_t h = zp_pick_ring(&live, &bad);
    zl_cqe_result w;
    int op;
    if (variant == 0) {
        /* wait-cqe has no timeout: only when a CQE is certainly there. */
        if (live && ready_now(h) == 0) return;
        if (!live && !bad) return;
        w = HC(zl_wait_cqe(h));
        op = OP_WAIT_CQE;
    } else if (variant == 1) {
        w = HC(zl_wait_cqe_timeout(h, zp_pick_ts()));
        op = OP_WAIT_CQE_TIMEOUT;
    } else {
        w = HC(zl_wait_cqes(h, zp_rnd(5), zp_pick_ts()));
        op = OP_WAIT_CQES;
    }
    /* A bad timespec may be reported before the bad handle: any errno then. */
    zp_note(op, w.ret, ANY_OR(bad, variant == 0 ? MUST_EBADF : MUST_FAIL));
    if (w.ret == 0) {
        check_cqe_helpers(&w.cqe);
        /* The CQE is still at the head: consume it now and then. */
        if (live && zp_chance(50) && zp_note(OP_CQE_SEEN, HC(zl_cqe_seen(h)), MUST_OK) == 0) zp_consume_cqe(&w.cqe);
    }
}

static void act_peek_and_advance(int variant) {
    zp_ring *live; int bad;
    uint32_t h = zp_pick_ring(&live, &bad);
    static const uint32_t maxes[] = { 0, 1, 2, 16, 64, 256, 0xffffffffu };
    /* cqe-seen consumes the head: peek it first (max >= 1) so that an accept
     * there is recorded. */
    uint32_t max = maxes[variant == 1 ? 1 + zp_rnd(6) : zp_rnd(7)];
    struct io_uring_cqe *cqes;
    zl_list l;
    zl__peek_batch_cqe(h, max, &l);
    zp_g.rep.calls++;
    cqes = (struct io_uring_cqe *)l.ptr;
    uint32_t n = (uint32_t)(l.len / sizeof *cqes);
    if (l.len % sizeof *cqes != 0 || (max != 0xffffffffu && n > max) || (bad && n != 0)) zp_flag(OP_PEEK_BATCH_CQE, (int64_t)l.len);
    zp_note(OP_PEEK_BATCH_CQE, n, ANY);
    if (n > 0 && zp_chance(10)) check_cqe_helpers(&cqes[zp_rnd(n)]);
    if (variant == 1) {
        /* cqe-seen consumes the head, which is cqes[0] when n > 0. */
        /* With n == 0 a success is legal too: a CQE may land between the two
         * calls (SQPOLL, async sends); zp_cleanup's sweep covers its fd. */
        int64_t r = zp_note(OP_CQE_SEEN, HC(zl_cqe_seen(h)), bad ? MUST_EBADF : ANY);
        if (r >= 0 && live && n > 0) zp_consume_cqe(&cqes[0]);
    } else if (variant == 2) {
        uint32_t p = zp_rnd(100), count;
        int must_fail = 0;
        if (p < 50) count = n;
        else if (p < 65) count = n ? n - 1 : 0;
        else if (p < 75) count = 0;
        else { count = 0x80000000u + zp_rnd(0x7fffffff); must_fail = 1; } /* more than any CQ holds */
        int64_t r = zp_note(OP_CQ_ADVANCE, HC(zl_cq_advance(h, count)),
                            bad ? MUST_EBADF : must_fail ? MUST_FAIL : live ? MUST_OK : ANY);
        if (r >= 0 && live && !must_fail)
            for (uint32_t i = 0; i < count; i++) zp_consume_cqe(&cqes[i]);
    }
    if (n > 0) free(cqes);
}

static void act_ready(int sq) {
    zp_ring *live; int bad;
    uint32_t h = zp_pick_ring(&live, &bad);
    int32_t r = sq ? HC(zl_sq_ready(h)) : HC(zl_cq_ready(h));
    zp_note(sq ? OP_SQ_READY : OP_CQ_READY, r, bad ? MUST_EBADF : live ? MUST_OK : ANY);
    /* A CQ holds 2 x entries; a count beyond that means a corrupted head. */
    if (live && r > 0 && !(live->flags & (1u << 3) /* CQSIZE */) &&
        (uint32_t)r > (sq ? live->entries : 2 * live->entries) * 2)
        zp_flag(sq ? OP_SQ_READY : OP_CQ_READY, r);
}

/* ---------------------------------------------------------------- SQE preparation */

/* After a successful prep the SQE gets the kind's tag, so its CQEs are recognised. */
static void prepared(uint32_t s, zp_sqe *live, unsigned kind) {
    /* Now and then one user-data shared by SQEs of different kinds: the host
     * must still tell accepted fds from byte counts (the fuzzer does not track
     * these; zp_cleanup's sweep and the test's /proc/self/fd count do). */
    uint64_t d = zp_chance(6) ? ZP_SHARED_TAG : zp_tag(kind);
    if (live && d == ZP_SHARED_TAG) kind = K_SHARED;
    zp_remember_tag(d);
    if (HC(zl_sqe_set_data64(s, d)) == 0) {
        zp_g.rep.ok++;
        if (live) live->kind = (uint8_t)kind;
    } else {
        zp_g.rep.failed++;
        if (live) zp_flag(OP_SET_DATA64, -1);
    }
}

/* host.wit's documented msg flag sets: any other bit must be refused. */
#define ZP_SEND_FLAGS (0x40u /* DONTWAIT */ | 0x100u /* WAITALL */ | 0x8000u /* MORE */ | ZL_MSG_NOSIGNAL)
#define ZP_RECV_FLAGS (0x40u | 0x100u)

static uint32_t pick_msg_flags(void) {
    static const uint32_t f[] = { 0, ZL_MSG_NOSIGNAL, 0x40 /* DONTWAIT */, 0x8000 /* MORE */, 1 /* OOB */, 2 /* PEEK */ };
    return zp_chance(90) ? f[zp_rnd(6)] : (uint32_t)zp_rnd64();
}

/* A sendmsg's list of slab ranges, for prep-sendmsg and queue-sendmsg alike:
 * 0 to 70 of them (more than 64 is too many), each mostly inside a live slab.
 * *any_bad: the host must refuse the list. */
static const zl_slab_range *pick_iov(uint32_t *n_out, int *any_bad) {
    static zl_slab_range iov[70];
    static const uint32_t counts[] = { 0, 1, 2, 3, 8, 64, 65, 70 };
    uint32_t n = counts[zp_rnd(8)];
    int bad = n > 64;
    for (uint32_t i = 0; i < n; i++) {
        zp_slab *sl; int lbad;
        iov[i].slab = zp_pick_slab(&sl, &lbad);
        if (zp_chance(80) && sl) lbad = 0;
        int out = zp_pick_range(sl, &iov[i].offset, &iov[i].len);
        if (zp_chance(70) && sl) { iov[i].offset = zp_rnd(sl->size); iov[i].len = zp_rnd(sl->size - iov[i].offset + 1); out = 0; }
        bad |= lbad || out;
    }
    *n_out = n;
    *any_bad = bad;
    return iov;
}

static void act_prep(int what) {
    zp_sqe *sq; zp_ring *owner; int sbad;
    uint32_t s = zp_pick_sqe(&sq, &owner, &sbad);
    int fbad = 0;
    int64_t r;
    unsigned kind;
    switch (what) {
    case 0: {
        int32_t fd = zp_chance(70) ? zp_g.lfd : zp_pick_fd(&fbad, 1);
        uint32_t flags = zp_chance(80) ? (ZL_SOCK_NONBLOCK | ZL_SOCK_CLOEXEC) : (uint32_t)zp_rnd64();
        r = zp_note(OP_PREP_ACCEPT, HC(zl_prep_multishot_accept(s, fd, flags)), ANY_OR(sbad || fbad, MUST_FAIL));
        kind = K_ACCEPT;
        break;
    }
    case 1: {
        int32_t fd = zp_pick_fd(&fbad, 1);
        uint32_t bgid = zp_rnd(5);
        uint32_t rflags = zp_chance(80) ? 0 : zp_chance(50) ? 2 /* PEEK */ : (uint32_t)zp_rnd64();
        /* Half one-shot (prep-recv-select), half multishot: the same checks. */
        int one = zp_chance(50);
        r = zp_note(one ? OP_PREP_RECV_SELECT : OP_PREP_RECV,
                    HC(one ? zl_prep_recv_select(s, fd, bgid, rflags) : zl_prep_recv_multishot_select(s, fd, bgid, rflags)),
                    ANY_OR(sbad || fbad || (rflags & ~ZP_RECV_FLAGS), MUST_FAIL));
        kind = K_RECV;
        break;
    }
    case 2: {
        int32_t fd = zp_pick_fd(&fbad, 1);
        zp_slab *sl; int lbad;
        uint32_t slab = zp_pick_slab(&sl, &lbad), off, len;
        int out = zp_pick_range(sl, &off, &len);
        uint32_t mf = pick_msg_flags();
        r = zp_note(OP_PREP_SEND, HC(zl_prep_send(s, fd, slab, off, len, mf)),
                    ANY_OR(sbad || fbad || lbad || out || (mf & ~ZP_SEND_FLAGS), MUST_FAIL));
        kind = K_SEND;
        break;
    }
    case 3: {
        int32_t fd = zp_pick_fd(&fbad, 1);
        uint32_t n;
        int any_bad;
        const zl_slab_range *iov = pick_iov(&n, &any_bad);
        uint32_t mf = pick_msg_flags();
        r = zp_note(OP_PREP_SENDMSG, HC(zl_prep_sendmsg(s, fd, iov, n, mf)),
                    ANY_OR(sbad || fbad || any_bad || (mf & ~ZP_SEND_FLAGS), MUST_FAIL));
        kind = K_SENDMSG;
        break;
    }
    default: {
        /* Aim at what is really in flight (a cancel-all of many accepts has a
         * large count for a res: it must never read as an fd). */
        uint64_t target = zp_chance(30) ? zp_recent_tag() : zp_chance(15) ? ZP_SHARED_TAG
                        : zp_chance(50) ? zp_tag(zp_rnd(6)) : zp_chance(50) ? 0 : zp_rnd64();
        static const uint32_t f[] = { 0, ZL_ASYNC_CANCEL_ALL, 4 /* ANY */, 2 /* FD */, ZL_ASYNC_CANCEL_ALL, 4 };
        uint32_t flags = zp_chance(90) ? f[zp_rnd(6)] : (uint32_t)zp_rnd64();
        r = zp_note(OP_PREP_CANCEL64, HC(zl_prep_cancel64(s, target, flags)), ANY_OR(sbad, MUST_FAIL));
        kind = K_CANCEL;
        break;
    }
    }
    if (r >= 0) prepared(s, sq, kind);
}

/* The fused queue-* calls: the prep's arguments plus a ring and the token.
 * Anything the prep refuses, or a ring that is not live, must fail; a good
 * call may still find the SQ (or the host's op table) full. */
static void act_queue(uint32_t op) {
    zp_ring *live; int rbad;
    uint32_t h = zp_pick_ring(&live, &rbad);
    int fbad = 0, bad = rbad;
    unsigned kind;
    int32_t r;
    switch (op) {
    case OP_QUEUE_ACCEPT: {
        int32_t fd = zp_chance(70) ? zp_g.lfd : zp_pick_fd(&fbad, 1);
        uint32_t flags = zp_chance(80) ? (ZL_SOCK_NONBLOCK | ZL_SOCK_CLOEXEC) : (uint32_t)zp_rnd64();
        kind = K_ACCEPT;
        r = HC(zl_queue_multishot_accept(h, fd, flags, zp_tag(kind)));
        bad |= fbad; /* the flags' checks are the prep's, asserted there as they are here: not at all */
        break;
    }
    case OP_QUEUE_RECV_MULTISHOT:
    case OP_QUEUE_RECV: {
        int32_t fd = zp_pick_fd(&fbad, 1);
        uint32_t bgid = zp_rnd(5);
        uint32_t rflags = zp_chance(80) ? 0 : zp_chance(50) ? 2 /* PEEK */ : (uint32_t)zp_rnd64();
        kind = K_RECV;
        r = HC(op == OP_QUEUE_RECV ? zl_queue_recv_select(h, fd, bgid, rflags, zp_tag(kind))
                                   : zl_queue_recv_multishot_select(h, fd, bgid, rflags, zp_tag(kind)));
        bad |= fbad || (rflags & ~ZP_RECV_FLAGS);
        break;
    }
    case OP_QUEUE_SEND: {
        int32_t fd = zp_pick_fd(&fbad, 1);
        zp_slab *sl; int lbad;
        uint32_t slab = zp_pick_slab(&sl, &lbad), off, len;
        int out = zp_pick_range(sl, &off, &len);
        uint32_t mf = pick_msg_flags();
        kind = K_SEND;
        r = HC(zl_queue_send(h, fd, slab, off, len, mf, zp_tag(kind)));
        bad |= fbad || lbad || out || (mf & ~ZP_SEND_FLAGS);
        break;
    }
    case OP_QUEUE_SENDMSG: {
        int32_t fd = zp_pick_fd(&fbad, 1);
        uint32_t n;
        int any_bad;
        const zl_slab_range *iov = pick_iov(&n, &any_bad);
        uint32_t mf = pick_msg_flags();
        kind = K_SENDMSG;
        r = HC(zl_queue_sendmsg(h, fd, iov, n, mf, zp_tag(kind)));
        bad |= fbad || any_bad || (mf & ~ZP_SEND_FLAGS);
        break;
    }
    default: {
        uint64_t target = zp_chance(30) ? zp_recent_tag() : zp_chance(50) ? zp_tag(zp_rnd(6)) : zp_rnd64();
        static const uint32_t f[] = { 0, ZL_ASYNC_CANCEL_ALL, 4 /* ANY */, 2 /* FD */, ZL_ASYNC_CANCEL_ALL, 4 };
        uint32_t flags = zp_chance(90) ? f[zp_rnd(6)] : (uint32_t)zp_rnd64();
        kind = K_CANCEL;
        r = HC(zl_queue_cancel64(h, target, flags, zp_tag(kind)));
        break;
    }
    }
    zp_note(op, r, bad ? MUST_FAIL : ANY);
    if (r == 0) zp_remember_tag(zp_tag(kind));
}

static void act_set_data64(void) {
    zp_sqe *sq; zp_ring *owner; int bad;
    uint32_t s = zp_pick_sqe(&sq, &owner, &bad);
    /* A live SQE keeps its kind's tag (an accept must stay recognisable). */
    uint64_t d = sq ? (sq->kind == K_SHARED ? ZP_SHARED_TAG : zp_tag(sq->kind)) : zp_chance(50) ? zp_rnd64() : (zp_chance(50) ? 0 : ~0ull);
    zp_note(OP_SET_DATA64, HC(zl_sqe_set_data64(s, d)), bad ? MUST_FAIL : sq ? MUST_OK : ANY);
}

static void act_pure(void) {
    struct io_uring_cqe c;
    c.user_data = zp_rnd64();
    c.res = (int32_t)zp_rnd64();
    uint32_t p = zp_rnd(4);
    c.flags = p == 0 ? 0 : p == 1 ? (ZL_CQE_F_BUFFER | (zp_rnd(65536) << 16)) : p == 2 ? (ZL_CQE_F_MORE | ZL_CQE_F_BUF_MORE) : (uint32_t)zp_rnd64();
    check_cqe_helpers(&c);
}

/* ---------------------------------------------------------------- buffer ring, slabs */

static void act_setup_buf_ring(void) {
    zp_ring *live; int bad;
    uint32_t h = zp_pick_ring(&live, &bad);
    if (live && live->nbrs == ZP_MAX_BRS) {
        zp_br *br = &live->brs[zp_rnd(ZP_MAX_BRS)];
        if (zp_note(OP_FREE_BUF_RING, HC(zl_free_buf_ring(h, br->h)), MUST_OK) == 0) {
            zp_dead_push(&zp_g.dead_brs, br->h);
            *br = live->brs[--live->nbrs];
        }
        return;
    }
    static const uint32_t entries[] = { 1, 2, 4, 8, 16, 0, 3, 32768, 65536, 0xffffffffu };
    uint32_t n = entries[zp_rnd(zp_chance(85) ? 5 : 10)];
    uint32_t bgid = zp_chance(90) ? zp_rnd(5) : 65536 + zp_rnd(10);
    uint32_t flags = zp_chance(45) ? 0 : zp_chance(90) ? ZL_PBUF_RING_INC : (uint32_t)zp_rnd64();
    int32_t r = (int32_t)zp_note(OP_SETUP_BUF_RING, HC(zl_setup_buf_ring(h, n, bgid, flags)),
                                 ANY_OR(bad || n == 0 || n == 3 || bgid > 65535, MUST_FAIL));
    if (r >= 0 && live) {
        zp_br *br = &live->brs[live->nbrs++];
        br->h = (uint32_t)r;
        br->entries = n;
        br->bgid = bgid;
    }
}

static void act_free_buf_ring(void) {
    zp_ring *owner; zp_br *br; int bad;
    uint32_t b = zp_pick_br(&br, &owner, &bad);
    zp_ring *rl; int rbad;
    uint32_t h = (owner && zp_chance(85)) ? owner->h : zp_pick_ring(&rl, &rbad);
    int64_t r = zp_note(OP_FREE_BUF_RING, HC(zl_free_buf_ring(h, b)), ANY_OR(bad, MUST_FAIL));
    if (r >= 0 && br && owner) {
        if (h != owner->h) zp_flag(OP_FREE_BUF_RING, r); /* freed through another ring */
        zp_dead_push(&zp_g.dead_brs, br->h);
        *br = owner->brs[--owner->nbrs];
    }
}

static void act_buf_ring_add(void) {
    zp_ring *owner; zp_br *br; int bad;
    uint32_t b = zp_pick_br(&br, &owner, &bad);
    zp_slab *sl; int lbad;
    uint32_t slab = zp_pick_slab(&sl, &lbad), off, len;
    int out = zp_pick_range(sl, &off, &len);
    if (zp_chance(50) && sl) { off = zp_rnd(sl->size); len = sl->size - off; out = 0; }
    uint32_t entries = br ? br->entries : 16;
    uint32_t p = zp_rnd(100);
    uint32_t bid = p < 80 ? zp_rnd(entries) : p < 90 ? entries : 0xffffffffu - zp_rnd(2);
    uint32_t mask = zp_chance(90) ? entries - 1 : entries;
    uint32_t idx = zp_chance(80) ? zp_rnd(entries) : (uint32_t)zp_rnd64();
    int must_fail = bad || lbad || out || (br && (bid >= entries || bid > 65535 || mask != entries - 1));
    zp_note(OP_BUF_RING_ADD, HC(zl_buf_ring_add(b, slab, off, len, bid, mask, idx)), ANY_OR(must_fail, MUST_FAIL));
}

static void act_buf_ring_advance(void) {
    zp_ring *owner; zp_br *br; int bad;
    uint32_t b = zp_pick_br(&br, &owner, &bad);
    uint32_t entries = br ? br->entries : 16;
    static const uint32_t extra[] = { 0, 0xffffffffu, 0x10000 };
    uint32_t count = zp_chance(85) ? 1 + zp_rnd(entries) : extra[zp_rnd(3)];
    zp_note(OP_BUF_RING_ADVANCE, HC(zl_buf_ring_advance(b, count)), ANY_OR(bad, MUST_FAIL));
}

static void act_slab_create(void) {
    if (zp_g.nslabs == ZP_MAX_SLABS) {
        zp_slab *s = &zp_g.slabs[zp_rnd(zp_g.nslabs)];
        if (zp_note(OP_SLAB_DESTROY, HC(zl_slab_destroy(s->h)), ANY) == 0) {
            zp_dead_push(&zp_g.dead_slabs, s->h);
            *s = zp_g.slabs[--zp_g.nslabs];
        }
        return;
    }
    static const uint32_t sizes[] = { 4096, 16384, 65536, 1, 100, 8192 + 1, 0, 0xffffffffu, 0x80000001u };
    uint32_t size = sizes[zp_rnd(zp_chance(85) ? 6 : 9)];
    int32_t r = (int32_t)zp_note(OP_SLAB_CREATE, HC(zl_slab_create(size)), ANY);
    if (r >= 0) {
        zp_slab *s = &zp_g.slabs[zp_g.nslabs++];
        s->h = (uint32_t)r;
        s->size = size;
    }
}

static void act_slab_destroy(void) {
    zp_slab *live; int bad;
    uint32_t h = zp_pick_slab(&live, &bad);
    int64_t r = zp_note(OP_SLAB_DESTROY, HC(zl_slab_destroy(h)), ANY_OR(bad, MUST_EBADF));
    if (r == 0 && live) {
        zp_dead_push(&zp_g.dead_slabs, h);
        *live = zp_g.slabs[--zp_g.nslabs];
    }
}

/* ---------------------------------------------------------------- sockets */

static void act_socket(void) {
    if (zp_g.nfds == ZP_MAX_FDS) {
        int32_t fd = zp_g.fds[zp_rnd(zp_g.nfds)];
        if (zp_note(OP_CLOSE, HC(zl_close(fd)), MUST_OK) == 0) zp_untrack_fd(fd);
        return;
    }
    /* No raw or packet sockets: nothing here may put traffic off loopback. */
    static const int32_t domains[] = { ZL_AF_INET, ZL_AF_INET6, 1 /* AF_UNIX */, 0, -1, 12345 };
    static const int32_t types[] = { ZL_SOCK_STREAM, 2 /* DGRAM */, 0, 99 };
    static const int32_t protos[] = { 0, 6, 17, 12345 };
    int32_t type = types[zp_rnd(4)];
    if (zp_chance(50)) type |= ZL_SOCK_NONBLOCK | ZL_SOCK_CLOEXEC;
    int32_t domain = domains[zp_rnd(zp_chance(80) ? 2 : 6)], proto = protos[zp_rnd(4)];
    /* TCP over IPv4/IPv6 only: an unnamed AF_UNIX socket, UDP, anything else is refused. */
    int tcp = (domain == ZL_AF_INET || domain == ZL_AF_INET6) && (type & ~(ZL_SOCK_NONBLOCK | ZL_SOCK_CLOEXEC)) == ZL_SOCK_STREAM &&
              (proto == 0 || proto == 6);
    int32_t fd = (int32_t)zp_note(OP_SOCKET, HC(zl_socket(domain, type, proto)), tcp ? ANY : MUST_FAIL);
    if (domain == 1 /* AF_UNIX */ && fd != -97 /* EAFNOSUPPORT */) zp_flag(OP_SOCKET, fd);
    if (fd >= 0) zp_track_fd(fd);
}

static void act_bind(int six) {
    int bad;
    int32_t fd = zp_pick_fd(&bad, 1);
    int64_t r;
    if (!six) {
        static const uint32_t addrs[] = { 0x7f000001u, 0x7f000002u, 0xc0000201u /* TEST-NET, not local */ };
        r = zp_note(OP_BIND, HC(zl_bind(fd, 0, addrs[zp_rnd(3)])), ANY_OR(bad, MUST_FAIL));
    } else {
        static const uint64_t his[] = { 0, 0, 0x20010db800000000ull /* documentation prefix */ };
        static const uint64_t los[] = { 1, 0x0000ffff7f000001ull, 1 };
        uint32_t i = zp_rnd(3);
        r = zp_note(OP_BIND6, HC(zl__bind6(fd, 0, zp_rnd(2) ? 0 : (uint32_t)zp_rnd64(), his[i], los[i], zp_rnd(3))),
                    ANY_OR(bad, MUST_FAIL));
    }
    (void)r;
}

static void act_listen(void) {
    int bad;
    int32_t fd = zp_pick_fd(&bad, 0);
    static const int32_t backlogs[] = { 0, 1, 128, -1, 0x7fffffff };
    zp_note(OP_LISTEN, HC(zl_listen(fd, backlogs[zp_rnd(5)])), ANY_OR(bad, MUST_FAIL));
}

static void act_setsockopt(void) {
    int bad;
    int32_t fd = zp_pick_fd(&bad, 1);
    /* Integer options only, and none that loads a module by name (TCP_CONGESTION, TCP_ULP). */
    static const int32_t sol_socket[] = { 2, 7, 8, 9, 13, 15, 18, 25, 46, 9999 };
    static const int32_t ipproto_tcp[] = { 1, 2, 3, 4, 12, 999 };
    static const int32_t ipproto_ipv6[] = { 26, 16, 9999 };
    static const int32_t ipproto_ip[] = { 1, 2, 9999 };
    static const int32_t values[] = { 0, 1, -1, 4096, 0x7fffffff };
    int32_t level, opt;
    switch (zp_rnd(5)) {
    case 0: level = ZL_SOL_SOCKET; opt = sol_socket[zp_rnd(10)]; break;
    case 1: level = ZL_IPPROTO_TCP; opt = ipproto_tcp[zp_rnd(6)]; break;
    case 2: level = ZL_IPPROTO_IPV6; opt = ipproto_ipv6[zp_rnd(3)]; break;
    case 3: level = 0; opt = ipproto_ip[zp_rnd(3)]; break;
    default: level = 12345; opt = (int32_t)zp_rnd(64); break;
    }
    zp_note(OP_SETSOCKOPT, HC(zl_setsockopt(fd, level, opt, values[zp_rnd(5)])), ANY_OR(bad, MUST_FAIL));
}

/* Prepares an op on an fd, then closes the fd before any submit: the SQE must
 * become a NOP (the ring's next flush goes through; nothing leaks). */
static void act_prep_then_close(void) {
    zp_ring *live; int bad;
    uint32_t h = zp_pick_ring(&live, &bad);
    if (!live || live->nsqes == ZP_MAX_SQES || zp_g.nfds == 0) return;
    int32_t fd = zp_g.fds[zp_rnd(zp_g.nfds)];
    int32_t s = (int32_t)zp_note(OP_GET_SQE, HC(zl_get_sqe(h)), ANY);
    if (s < 0) return;
    zp_issued_add((uint32_t)s);
    live->sqes[live->nsqes].h = (uint32_t)s;
    live->sqes[live->nsqes].kind = K_NOP;
    zp_sqe *sq = &live->sqes[live->nsqes++];
    int64_t r;
    unsigned kind;
    if (zp_chance(50) && zp_g.nslabs) {
        zp_slab *sl = &zp_g.slabs[zp_rnd(zp_g.nslabs)];
        r = zp_note(OP_PREP_SEND, HC(zl_prep_send((uint32_t)s, fd, sl->h, 0, sl->size < 64 ? sl->size : 64, 0)), ANY);
        kind = K_SEND;
    } else if (zp_chance(50)) {
        r = zp_note(OP_PREP_RECV, HC(zl_prep_recv_multishot_select((uint32_t)s, fd, zp_rnd(3), 0)), ANY);
        kind = K_RECV;
    } else {
        r = zp_note(OP_PREP_ACCEPT, HC(zl_prep_multishot_accept((uint32_t)s, fd, 0)), ANY);
        kind = K_ACCEPT;
    }
    if (r >= 0) prepared((uint32_t)s, sq, kind);
    int64_t c = zp_note(OP_CLOSE, HC(zl_close(fd)), ANY);
    if (c == 0) zp_untrack_fd(fd);
    else if (c != -16 /* EBUSY: an earlier flushed SQE names it */) zp_flag(OP_CLOSE, c);
}

static void act_close(void) {
    int bad;
    int32_t fd = zp_pick_fd(&bad, 0);
    int tracked = zp_fd_index(fd) >= 0;
    int64_t r = zp_note(OP_CLOSE, HC(zl_close(fd)), bad ? (fd >= 0 ? MUST_EBADF : MUST_FAIL) : ANY);
    if (r == 0 && !tracked) zp_dead_push(&zp_g.blind_closed, (uint32_t)fd);
    if (r == 0) zp_untrack_fd(fd);
    if (!bad && r < 0 && r != -16 /* EBUSY */ && tracked) zp_flag(OP_CLOSE, r);
}

static void act_fcntl(void) {
    int bad;
    int32_t fd = zp_pick_fd(&bad, 1);
    static const int32_t cmds[] = { 1, 2, 3, 4, 0 /* DUPFD */, 1030 /* DUPFD_CLOEXEC */, 8 /* SETOWN */, 5, 6, 1031, 12345 };
    static const int64_t args[] = { 0, 1, ZL_O_NONBLOCK, 0x2000 /* O_ASYNC */, -1, 0x100000000ll };
    int32_t cmd = cmds[zp_rnd(zp_chance(80) ? 4 : 11)];
    if (cmd == 4 && !bad && fd == zp_g.lfd) return; /* leave the test's listener as it is */
    int64_t arg = args[zp_rnd(6)];
    /* Close-on-exec cannot be cleared; F_SETFL takes O_NONBLOCK (and the ignored access mode) only. */
    int refused = (cmd == 2 && arg != 1) || (cmd == 4 && (arg & ~(int64_t)(ZL_O_NONBLOCK | 3)) != 0);
    int64_t r = zp_note(OP_FCNTL, HC(zl_fcntl(fd, cmd, arg)), ANY_OR(bad || refused, MUST_FAIL));
    if (r >= 0 && (cmd == 0 || cmd == 1030)) zp_track_fd((int32_t)r); /* if the host allows dup, the copy is ours */
}

static void act_shutdown(void) {
    int bad;
    int32_t fd = zp_pick_fd(&bad, 0);
    zp_note(OP_SHUTDOWN, HC(zl_shutdown(fd, (int32_t)zp_rnd(5) - 1)), ANY_OR(bad, MUST_FAIL));
}

static void act_sockname(int peer) {
    int bad;
    int32_t fd = zp_pick_fd(&bad, 1);
    zl_sock_addr a = peer ? HC(zl_getpeername(fd)) : HC(zl_getsockname(fd));
    zp_note(peer ? OP_GETPEERNAME : OP_GETSOCKNAME, a.ret, ANY_OR(bad, MUST_FAIL));
    if (a.ret == 0 && a.family != ZL_AF_INET && a.family != ZL_AF_INET6 && a.family != 1)
        zp_flag(peer ? OP_GETPEERNAME : OP_GETSOCKNAME, a.family);
}

static void act_inet_pton(void) {
    static const char *const known[] = { "127.0.0.1", "::1", "1.2.3", "256.1.1.1", "", "::ffff:127.0.0.1",
                                         "fe80::1%lo", "1.2.3.4 ", "::::", "0.0.0.0" };
    static char buf[300];
    static const int32_t afs[] = { ZL_AF_INET, ZL_AF_INET6, 0, 1, -1, 12345 };
    int32_t af = afs[zp_rnd(zp_chance(85) ? 2 : 6)];
    size_t len;
    if (zp_chance(70)) {
        const char *s = known[zp_rnd(10)];
        len = strlen(s);
        memcpy(buf, s, len);
    } else {
        len = zp_rnd(zp_chance(90) ? 48 : sizeof buf);
        for (size_t i = 0; i < len; i++) buf[i] = (char)(0x20 + zp_rnd(0x5f));
    }
    zl_sock_addr a = HC(zl_inet_pton(af, buf, len));
    zp_note(OP_INET_PTON, a.ret, ANY);
    if (af == ZL_AF_INET && len == 9 && memcmp(buf, "127.0.0.1", 9) == 0 &&
        (a.ret != 1 || a.family != ZL_AF_INET || a.lo != 0x7f000001u || a.hi != 0))
        zp_flag(OP_INET_PTON, a.ret);
    if (af == ZL_AF_INET6 && len == 3 && memcmp(buf, "::1", 3) == 0 &&
        (a.ret != 1 || a.family != ZL_AF_INET6 || a.lo != 1 || a.hi != 0))
        zp_flag(OP_INET_PTON, a.ret);
}

static void act_pin(void) {
    static const int32_t cpus[] = { 0, 1, -1, 1 << 20, 4096, 0x7fffffff };
    int32_t cpu = cpus[zp_rnd(zp_chance(20) ? 2 : 6)];
    zp_note(OP_PIN, HC(zl_pin_current_thread_to_cpu(cpu)), cpu < 0 || cpu >= 4096 ? MUST_FAIL : ANY);
}

/* ---------------------------------------------------------------- the loop */

static void act(uint32_t op) {
    switch (op) {
    case OP_CREATE_RING: act_create_ring(0); break;
    case OP_CREATE_RING_EX: act_create_ring(1); break;
    case OP_DESTROY_RING: if (zp_chance(20)) act_destroy_ring(); else act_get_ring_flags(); break;
    case OP_GET_RING_FLAGS: act_get_ring_flags(); break;
    case OP_GET_SQE: act_get_sqe(); break;
    case OP_SUBMIT: act_submit(0); break;
    case OP_SUBMIT_AND_WAIT: act_submit(1); break;
    case OP_SUBMIT_AND_WAIT_TIMEOUT: act_submit(2); break;
    case OP_ENTER: act_enter(); break;
    case OP_WAIT_CQE: act_wait(0); break;
    case OP_WAIT_CQE_TIMEOUT: act_wait(1); break;
    case OP_WAIT_CQES: act_wait(2); break;
    case OP_PEEK_BATCH_CQE: act_peek_and_advance(0); break;
    case OP_CQE_SEEN: act_peek_and_advance(1); break;
    case OP_CQ_ADVANCE: act_peek_and_advance(2); break;
    case OP_CQ_READY: act_ready(0); break;
    case OP_SQ_READY: act_ready(1); break;
    case OP_PREP_ACCEPT: act_prep(0); break;
    case OP_PREP_RECV: case OP_PREP_RECV_SELECT: act_prep(1); break;
    case OP_PREP_SEND: act_prep(2); break;
    case OP_PREP_SENDMSG: act_prep(3); break;
    case OP_PREP_CANCEL64: act_prep(4); break;
    case OP_SET_DATA64: act_set_data64(); break;
    case OP_GET_DATA64: case OP_HAS_BUFFER: case OP_BUFFER_ID: act_pure(); break;
    case OP_QUEUE_ACCEPT: case OP_QUEUE_RECV_MULTISHOT: case OP_QUEUE_RECV: case OP_QUEUE_SEND:
    case OP_QUEUE_SENDMSG: case OP_QUEUE_CANCEL64: act_queue(op); break;
    case OP_SETUP_BUF_RING: act_setup_buf_ring(); break;
    case OP_FREE_BUF_RING: act_free_buf_ring(); break;
    case OP_BUF_RING_ADD: act_buf_ring_add(); break;
    case OP_BUF_RING_ADVANCE: act_buf_ring_advance(); break;
    case OP_SLAB_CREATE: act_slab_create(); break;
    case OP_SLAB_DESTROY: act_slab_destroy(); break;
    case OP_SOCKET: act_socket(); break;
    case OP_BIND: act_bind(0); break;
    case OP_BIND6: act_bind(1); break;
    case OP_LISTEN: act_listen(); break;
    case OP_SETSOCKOPT: act_setsockopt(); break;
    case OP_CLOSE: if (zp_chance(35)) act_prep_then_close(); else act_close(); break;
    case OP_FCNTL: act_fcntl(); break;
    case OP_INET_PTON: act_inet_pton(); break;
    case OP_SHUTDOWN: act_shutdown(); break;
    case OP_GETSOCKNAME: act_sockname(0); break;
    case OP_GETPEERNAME: act_sockname(1); break;
    default: act_pin(); break;
    }
}

/* Resource-making imports are drawn less often than the rest: a run with
 * thousands of ring creations measures mmap, not the bridge. */
static uint32_t pick_op(void) {
    for (;;) {
        uint32_t op = zp_rnd(OP__COUNT);
        if ((op == OP_CREATE_RING || op == OP_CREATE_RING_EX || op == OP_PIN) && !zp_chance(8)) continue;
        if ((op == OP_SLAB_CREATE || op == OP_SLAB_DESTROY) && !zp_chance(25)) continue;
        return op;
    }
}

ZP_EXPORT("fuzz") zp_fuzz_report *zp_fuzz(uint64_t seed, uint32_t calls, int32_t lfd) {
    static zp_fuzz_report out;
    memset(&zp_g, 0, sizeof zp_g);
    zp_g.lfd = lfd;
    zp_g.rep.first_unexpected_op = -1;
    zp_seed(seed);
    /* Start with something to aim at: a ring with a buffer ring and a slab. */
    act_create_ring(0);
    act_slab_create();
    act_setup_buf_ring();
    while (zp_g.rep.calls < calls) act(pick_op());
    zp_cleanup();
    out = zp_g.rep;
    return &out;
}
