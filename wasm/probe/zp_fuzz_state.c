/* zp_fuzz_state.c — the fuzzer's bookkeeping and argument pickers. */
#include <stdlib.h>
#include <string.h>
#include "zp_fuzz.h"

zp_state zp_g;

/* ---------------------------------------------------------------- results */

void zp_flag(int op, int64_t r) {
    if (zp_g.rep.unexpected++ == 0) {
        zp_g.rep.first_unexpected_op = op;
        zp_g.rep.first_unexpected_ret = r;
    }
}

int64_t zp_note(int op, int64_t r, int expect) {
    if (r >= 0) zp_g.rep.ok++;
    else zp_g.rep.failed++;
    if ((expect == MUST_FAIL && r >= 0) || (expect == MUST_EBADF && r != -ZL_EBADF) ||
        (expect == MUST_OK && r < 0))
        zp_flag(op, r);
    return r;
}

/* ---------------------------------------------------------------- PRNG */

static uint64_t rng;

void zp_seed(uint64_t seed) { rng = seed; }

uint64_t zp_rnd64(void) {
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
uint32_t zp_rnd(uint32_t n) { return n ? (uint32_t)(zp_rnd64() % n) : 0; }
int zp_chance(uint32_t pct) { return zp_rnd(100) < pct; }

/* Top byte 0xA5 marks the fuzzer's own tags; the next byte is the kind. */
uint64_t zp_tag(unsigned kind) {
    return (0xA5ull << 56) | ((uint64_t)(kind & 0xff) << 48) | (zp_rnd64() & 0xffffffffffffull);
}
int zp_tag_kind(uint64_t ud) { return (ud >> 56) == 0xA5 ? (int)((ud >> 48) & 0xff) : -1; }

static uint64_t recent[16];
static uint32_t recent_n;
void zp_remember_tag(uint64_t tag) { recent[recent_n++ % 16] = tag; }
uint64_t zp_recent_tag(void) { return recent_n ? recent[zp_rnd(recent_n < 16 ? recent_n : 16)] : ZP_SHARED_TAG; }

void zp_retag(zp_ring *r) {
    for (uint32_t i = 0; i < r->nsqes; i++) {
        zp_sqe *q = &r->sqes[i];
        unsigned kind = q->kind == K_SHARED ? K_NOP : q->kind;
        /* A shared SQE's real kind is unknown here: an accept among them keeps
         * its fds recognisable only by the host; the sweep covers those. */
        if (zp_note(OP_SET_DATA64, HC(zl_sqe_set_data64(q->h, zp_tag(kind))), MUST_OK) == 0) q->kind = (uint8_t)kind;
    }
}

/* ---------------------------------------------------------------- handle sets */

void zp_dead_push(zp_dead *d, uint32_t v) { d->v[d->n++ % ZP_MAX_DEAD] = v; }
static uint32_t dead_len(const zp_dead *d) { return d->n < ZP_MAX_DEAD ? d->n : ZP_MAX_DEAD; }
int zp_dead_take(zp_dead *d, uint32_t v) {
    for (uint32_t i = 0; i < dead_len(d); i++)
        if (d->v[i] == v) { d->v[i] = UINT32_MAX; return 1; } /* no handle or fd is UINT32_MAX */
    return 0;
}
static uint32_t dead_pick(const zp_dead *d) { return d->v[zp_rnd(dead_len(d))]; }

/* Every SQE handle value ever issued (open addressing, value+1; 0 = empty):
 * a value never issued is certainly invalid. */
#define ISSUED_SLOTS (1u << 15)
static uint32_t issued[ISSUED_SLOTS];
static uint32_t issued_n;

static uint32_t slot_of(uint32_t v) { return (v * 2654435761u) & (ISSUED_SLOTS - 1); }
void zp_issued_add(uint32_t v) {
    if (issued_n >= ISSUED_SLOTS / 2) return; /* full: zp_issued_has answers "maybe" */
    for (uint32_t i = slot_of(v);; i = (i + 1) & (ISSUED_SLOTS - 1)) {
        if (issued[i] == v + 1) return;
        if (issued[i] == 0) { issued[i] = v + 1; issued_n++; return; }
    }
}
int zp_issued_has(uint32_t v) {
    if (issued_n >= ISSUED_SLOTS / 2) return 1;
    for (uint32_t i = slot_of(v);; i = (i + 1) & (ISSUED_SLOTS - 1)) {
        if (issued[i] == v + 1) return 1;
        if (issued[i] == 0) return 0;
    }
}

zp_ring *zp_find_ring(uint32_t h) {
    for (uint32_t i = 0; i < zp_g.nrings; i++) if (zp_g.rings[i].h == h) return &zp_g.rings[i];
    return NULL;
}
zp_slab *zp_find_slab(uint32_t h) {
    for (uint32_t i = 0; i < zp_g.nslabs; i++) if (zp_g.slabs[i].h == h) return &zp_g.slabs[i];
    return NULL;
}
zp_br *zp_find_br(uint32_t h, zp_ring **owner) {
    for (uint32_t i = 0; i < zp_g.nrings; i++)
        for (uint32_t j = 0; j < zp_g.rings[i].nbrs; j++)
            if (zp_g.rings[i].brs[j].h == h) { *owner = &zp_g.rings[i]; return &zp_g.rings[i].brs[j]; }
    *owner = NULL;
    return NULL;
}
zp_sqe *zp_find_sqe(uint32_t h, zp_ring **owner) {
    for (uint32_t i = 0; i < zp_g.nrings; i++)
        for (uint32_t j = 0; j < zp_g.rings[i].nsqes; j++)
            if (zp_g.rings[i].sqes[j].h == h) { *owner = &zp_g.rings[i]; return &zp_g.rings[i].sqes[j]; }
    *owner = NULL;
    return NULL;
}
int zp_fd_index(int32_t fd) {
    for (uint32_t i = 0; i < zp_g.nfds; i++) if (zp_g.fds[i] == fd) return (int)i;
    return -1;
}

/* ---------------------------------------------------------------- pickers */

/* A handle value that is not live: a dead one, a small integer, or anything. */
static uint32_t not_live_value(const zp_dead *d) {
    uint32_t p = zp_rnd(100);
    if (p < 50 && d->n) return dead_pick(d);
    if (p < 80) return zp_rnd(16);
    if (p < 90) return 0xffffffffu - zp_rnd(2);
    return (uint32_t)zp_rnd64();
}

uint32_t zp_pick_ring(zp_ring **live, int *bad) {
    if (zp_g.nrings && zp_chance(85)) { *live = &zp_g.rings[zp_rnd(zp_g.nrings)]; *bad = 0; return (*live)->h; }
    uint32_t h = not_live_value(&zp_g.dead_rings);
    *live = zp_find_ring(h);
    *bad = *live == NULL;
    return h;
}
uint32_t zp_pick_slab(zp_slab **live, int *bad) {
    if (zp_g.nslabs && zp_chance(85)) { *live = &zp_g.slabs[zp_rnd(zp_g.nslabs)]; *bad = 0; return (*live)->h; }
    uint32_t h = not_live_value(&zp_g.dead_slabs);
    *live = zp_find_slab(h);
    *bad = *live == NULL;
    return h;
}
uint32_t zp_pick_br(zp_br **live, zp_ring **owner, int *bad) {
    if (zp_chance(85)) {
        for (int tries = 0; tries < 4 && zp_g.nrings; tries++) {
            zp_ring *r = &zp_g.rings[zp_rnd(zp_g.nrings)];
            if (r->nbrs) { *owner = r; *live = &r->brs[zp_rnd(r->nbrs)]; *bad = 0; return (*live)->h; }
        }
    }
    uint32_t h = not_live_value(&zp_g.dead_brs);
    *live = zp_find_br(h, owner);
    *bad = *live == NULL;
    return h;
}
uint32_t zp_pick_sqe(zp_sqe **live, zp_ring **owner, int *bad) {
    uint32_t p = zp_rnd(100);
    if (p < 75) {
        for (int tries = 0; tries < 4 && zp_g.nrings; tries++) {
            zp_ring *r = &zp_g.rings[zp_rnd(zp_g.nrings)];
            if (r->nsqes) { *owner = r; *live = &r->sqes[zp_rnd(r->nsqes)]; *bad = 0; return (*live)->h; }
        }
    }
    uint32_t h;
    int known_stale = 0;
    if (p < 88 && zp_g.stale_sqes.n) { h = dead_pick(&zp_g.stale_sqes); known_stale = 1; }
    else if (p < 95) h = 0x7ead0000u + zp_rnd(0x10000);
    else h = (uint32_t)zp_rnd64();
    *live = zp_find_sqe(h, owner);
    *bad = *live == NULL && (known_stale || !zp_issued_has(h));
    return h;
}

int32_t zp_pick_fd(int *bad, int allow_lfd) {
    uint32_t p = zp_rnd(100);
    *bad = 0;
    if (p < 55 && zp_g.nfds) return zp_g.fds[zp_rnd(zp_g.nfds)];
    if (p < 65 && allow_lfd && zp_g.lfd >= 0) return zp_g.lfd;
    if (p < 75) { *bad = 1; return (int32_t)zp_rnd(3); } /* stdio: never the guest's */
    if (p < 82) { *bad = 1; return -1 - (int32_t)zp_rnd(3); }
    int32_t fd = (p < 92 && zp_g.dead_fds.n) ? (int32_t)dead_pick(&zp_g.dead_fds) : (int32_t)zp_rnd(1024);
    if (fd == zp_g.lfd && !allow_lfd) fd = -1, *bad = 1;
    return fd;
}

int zp_pick_range(const zp_slab *s, uint32_t *off, uint32_t *len) {
    uint32_t size = s ? s->size : zp_rnd(65537);
    /* Half inside (so that the other arguments get tested), half around the edges. */
    uint32_t k = zp_rnd(12);
    switch (k < 6 ? k % 3 : k - 3) {
    case 0: *off = 0; *len = size; break;
    case 1: *off = zp_rnd(size + 1); *len = zp_rnd(size - *off + 1); break;
    case 2: *off = zp_rnd(size + 1); *len = size - *off < 64 ? size - *off : zp_rnd(64); break;
    case 3: *off = size ? size - 1 : 0; *len = 2; break;
    case 4: *off = 0; *len = size + 1; break;
    case 5: *off = 0xffffffffu; *len = 2; break;
    case 6: *off = size; *len = 1; break;
    case 7: *off = zp_rnd(size + 1); *len = 0xffffffffu - *off + 2; break;
    default: *off = (uint32_t)zp_rnd64(); *len = (uint32_t)zp_rnd64(); break;
    }
    /* The host may round a slab up to a page: only past that is "certainly out". */
    uint64_t limit = ((uint64_t)size + 4095) & ~4095ull;
    return s != NULL && (uint64_t)*off + *len > limit;
}

/* Short timeouts only: never a wait that can block the test. */
struct __kernel_timespec zp_pick_ts(void) {
    static const int64_t ns[] = { 0, 1, 1000, 20000, 50000 };
    struct __kernel_timespec ts = { 0, 0 };
    uint32_t p = zp_rnd(100);
    if (p < 90) ts.tv_nsec = ns[zp_rnd(5)];
    else if (p < 95) ts.tv_nsec = -1;
    else ts.tv_sec = -1;
    return ts;
}

/* ---------------------------------------------------------------- bookkeeping */

void zp_track_fd(int32_t fd) {
    if (fd < 0 || fd == zp_g.lfd || zp_fd_index(fd) >= 0) return;
    zp_g.rep.fds_opened++;
    if (zp_g.nfds < ZP_MAX_FDS) { zp_g.fds[zp_g.nfds++] = fd; return; }
    if (zp_note(OP_CLOSE, HC(zl_close(fd)), MUST_OK) == 0) zp_dead_push(&zp_g.dead_fds, (uint32_t)fd);
}
void zp_untrack_fd(int32_t fd) {
    int i = zp_fd_index(fd);
    if (i < 0) return;
    zp_g.fds[i] = zp_g.fds[--zp_g.nfds];
    zp_dead_push(&zp_g.dead_fds, (uint32_t)fd);
}

/* Called once per CQE, when the guest consumes it. */
void zp_consume_cqe(const struct io_uring_cqe *c) {
    zp_g.rep.cqes++;
    if (zp_tag_kind(c->user_data) == K_ACCEPT && c->res >= 0) {
        zp_g.rep.accepted++;
        if (zp_dead_take(&zp_g.blind_closed, (uint32_t)c->res)) return;
        zp_track_fd(c->res);
    }
}

void zp_ring_submitted(zp_ring *r, int certain) {
    for (uint32_t i = 0; i < r->nsqes; i++)
        if (certain) zp_dead_push(&zp_g.stale_sqes, r->sqes[i].h);
    r->nsqes = 0;
}

void zp_ring_forget(zp_ring *r) {
    zp_ring_submitted(r, 1);
    for (uint32_t j = 0; j < r->nbrs; j++) zp_dead_push(&zp_g.dead_brs, r->brs[j].h);
    zp_dead_push(&zp_g.dead_rings, r->h);
    *r = zp_g.rings[--zp_g.nrings];
}

/* A wait with a short timeout lets deferred task work and SQPOLL submissions
 * land; then everything in the CQ is consumed. Stops after a wait that timed
 * out with nothing left (bounded in rounds either way). */
int32_t zp_drain_and_destroy(zp_ring *r) {
    uint32_t h = r->h;
    for (int round = 0; round < 256; round++) {
        zl_cqe_result w = HC(zl_wait_cqe_timeout(h, zp_ts(1000000)));
        zp_note(OP_WAIT_CQE_TIMEOUT, w.ret, ANY);
        struct io_uring_cqe *cqes;
        uint32_t n = HC(zl_peek_batch_cqe(h, 256, &cqes));
        for (uint32_t i = 0; i < n; i++) zp_consume_cqe(&cqes[i]);
        if (n > 0) {
            free(cqes);
            zp_note(OP_CQ_ADVANCE, HC(zl_cq_advance(h, n)), MUST_OK);
        }
        if (n == 0 && w.ret < 0) break;
    }
    int32_t rc = (int32_t)zp_note(OP_DESTROY_RING, HC(zl_destroy_ring(h)), MUST_OK);
    if (rc == 0) zp_ring_forget(r);
    return rc;
}

void zp_cleanup(void) {
    for (uint32_t tries = 0; zp_g.nrings > tries;)
        if (zp_drain_and_destroy(&zp_g.rings[tries]) != 0) tries++;
    zp_g.rep.open_rings = zp_g.nrings;

    while (zp_g.nfds > 0) {
        int32_t fd = zp_g.fds[0];
        zp_note(OP_CLOSE, HC(zl_close(fd)), MUST_OK);
        zp_untrack_fd(fd);
    }
    /* The safety net: whatever the host still counts as ours (accepts whose
     * user-data was shared on purpose are only known to the host). Then what
     * is left is what could not be closed. */
    for (int32_t fd = 0; fd < 1024; fd++) {
        if (fd == zp_g.lfd || HC(zl_fcntl(fd, 1 /* F_GETFD */, 0)) < 0) continue;
        zp_g.rep.swept_fds++;
        zp_note(OP_CLOSE, HC(zl_close(fd)), MUST_OK);
    }
    for (int32_t fd = 0; fd < 1024; fd++)
        if (fd != zp_g.lfd && HC(zl_fcntl(fd, 1 /* F_GETFD */, 0)) >= 0) zp_g.rep.open_fds++;

    for (uint32_t tries = 0; zp_g.nslabs > tries;) {
        zp_slab *s = &zp_g.slabs[tries];
        if (zp_note(OP_SLAB_DESTROY, HC(zl_slab_destroy(s->h)), MUST_OK) == 0) *s = zp_g.slabs[--zp_g.nslabs];
        else tries++;
    }
    zp_g.rep.open_slabs = zp_g.nslabs;
}
