/* zl_conn.c — connection slots, fd ownership and per-fd generations. Tables
 * grow geometrically, so accepting does not allocate in the steady state. */
#include <stdlib.h>
#include <string.h>
#include "zl_conn.h"
#include "zl_assert.h"
#include "zl_events.h"
#include "zl_host.h"
#include "zl_token.h"

static struct {
    zl_conn *c;
    uint32_t cap, span, max;
    uint32_t free_head; /* FREE slots below span */
    uint32_t dead_head; /* DEAD slots, freed by the next reap */
    uint32_t open;      /* OPEN + CLOSING */
    uint32_t *detached; /* slots of CLOSING conns whose fd is closed */
    uint32_t ndetached, detached_cap;
    uint32_t *fd_owner; /* by fd */
    uint32_t *fd_gen;   /* by fd */
    uint32_t fd_cap;
} T = {.free_head = ZL_NIL, .dead_head = ZL_NIL};

int32_t zl_conn_init(uint32_t max_conns) {
    T.max = max_conns == 0 || max_conns > ZL_EV_MAX_CONN + 1 ? ZL_EV_MAX_CONN + 1 : max_conns;
    T.cap = T.max < 64 ? T.max : 64;
    T.c = calloc(T.cap, sizeof(zl_conn));
    T.fd_cap = 1024;
    T.fd_owner = calloc(T.fd_cap, sizeof(uint32_t));
    T.fd_gen = calloc(T.fd_cap, sizeof(uint32_t));
    T.span = 0;
    T.open = 0;
    T.ndetached = 0;
    T.free_head = T.dead_head = ZL_NIL;
    if (!T.c || !T.fd_owner || !T.fd_gen) {
        zl_conn_fini();
        return -ZL_ENOMEM;
    }
    return 0;
}

void zl_conn_fini(void) {
    free(T.c);
    free(T.detached);
    free(T.fd_owner);
    free(T.fd_gen);
    memset(&T, 0, sizeof T);
    T.free_head = T.dead_head = ZL_NIL;
}

static int32_t fd_grow(int32_t fd) {
    if ((uint32_t)fd < T.fd_cap)
        return 0;
    uint32_t ncap = T.fd_cap;
    while (ncap <= (uint32_t)fd)
        ncap *= 2;
    uint32_t *o = realloc(T.fd_owner, ncap * sizeof(uint32_t));
    if (!o)
        return -ZL_ENOMEM;
    T.fd_owner = o;
    uint32_t *g = realloc(T.fd_gen, ncap * sizeof(uint32_t));
    if (!g)
        return -ZL_ENOMEM;
    T.fd_gen = g;
    memset(o + T.fd_cap, 0, (ncap - T.fd_cap) * sizeof(uint32_t));
    memset(g + T.fd_cap, 0, (ncap - T.fd_cap) * sizeof(uint32_t));
    T.fd_cap = ncap;
    return 0;
}

int32_t zl_fd_claim(int32_t fd, uint32_t owner) {
    ZL_ASSERT(fd >= 0 && owner != ZL_FD_NONE);
    int32_t r = fd_grow(fd);
    if (r < 0)
        return r;
    /* The kernel never hands out an fd that is still open. */
    ZL_ASSERT(T.fd_owner[fd] == ZL_FD_NONE);
    T.fd_owner[fd] = owner;
    T.fd_gen[fd] = (T.fd_gen[fd] + 1) & ZL_TOKEN_GEN_MASK;
    return (int32_t)T.fd_gen[fd];
}

void zl_fd_release(int32_t fd) {
    ZL_ASSERT(fd >= 0 && (uint32_t)fd < T.fd_cap && T.fd_owner[fd] != ZL_FD_NONE);
    T.fd_owner[fd] = ZL_FD_NONE;
}

uint32_t zl_fd_owner(int32_t fd) {
    if (fd < 0 || (uint32_t)fd >= T.fd_cap)
        return ZL_FD_NONE;
    return T.fd_owner[fd];
}

int32_t zl_conn_alloc(int32_t fd) {
    if (T.open >= T.max)
        return -ZL_EBUSY;
    uint32_t slot;
    if (T.free_head != ZL_NIL) {
        slot = T.free_head;
        T.free_head = T.c[slot].next_free;
    } else {
        if (T.span == T.cap) {
            /* Not capped at max: slots whose `closed` is not delivered yet (DEAD)
             * are not open but not reusable either. */
            uint32_t lim = ZL_EV_MAX_CONN + 1;
            uint32_t ncap = T.cap > lim / 2 ? lim : T.cap * 2;
            if (ncap <= T.cap)
                return -ZL_ENOMEM; /* 2^24 slots: the event format's limit */
            zl_conn *n = realloc(T.c, ncap * sizeof(zl_conn));
            if (!n)
                return -ZL_ENOMEM;
            T.c = n;
            T.cap = ncap;
        }
        slot = T.span++;
    }
    int32_t gen = zl_fd_claim(fd, slot + 2);
    if (gen < 0) {
        T.c[slot].state = ZL_CS_FREE;
        T.c[slot].next_free = T.free_head;
        T.free_head = slot;
        return gen;
    }
    zl_conn *c = &T.c[slot];
    memset(c, 0, sizeof *c);
    c->fd = fd;
    c->gen = (uint32_t)gen;
    c->state = ZL_CS_OPEN;
    c->q_head = c->q_tail = ZL_NIL;
    c->next_free = ZL_NIL;
    T.open++;
    return (int32_t)slot;
}

zl_conn *zl_conn_get(uint32_t slot) {
    if (slot >= T.span)
        return NULL;
    zl_conn *c = &T.c[slot];
    return c->state == ZL_CS_OPEN || c->state == ZL_CS_CLOSING ? c : NULL;
}

uint32_t zl_conn_slot(const zl_conn *c) {
    ZL_ASSERT(c >= T.c && c < T.c + T.span);
    return (uint32_t)(c - T.c);
}

zl_conn *zl_conn_by_fd(int32_t fd) {
    uint32_t o = zl_fd_owner(fd);
    if (o < 2)
        return NULL;
    zl_conn *c = zl_conn_get(o - 2);
    ZL_ASSERT(c != NULL && c->fd == fd);
    return c;
}

zl_conn *zl_conn_find(int32_t fd, uint32_t gen, bool check_gen) {
    zl_conn *c = zl_conn_by_fd(fd);
    if (c && (!check_gen || c->gen == gen))
        return c;
    /* Few conns are ever between an early fd close and their last CQE. */
    for (uint32_t i = 0; i < T.ndetached; i++) {
        zl_conn *d = &T.c[T.detached[i]];
        ZL_ASSERT(d->state == ZL_CS_CLOSING && (d->flags & ZL_CF_FD_CLOSED));
        if (d->fd == fd && d->gen == gen)
            return d;
    }
    return NULL;
}

void zl_conn_detach(zl_conn *c) {
    ZL_ASSERT(c->state == ZL_CS_CLOSING && !(c->flags & ZL_CF_FD_CLOSED));
    if (T.ndetached == T.detached_cap) {
        uint32_t ncap = T.detached_cap ? T.detached_cap * 2 : 64;
        uint32_t *n = realloc(T.detached, ncap * sizeof(uint32_t));
        ZL_ASSERT(n != NULL); /* losing track of it would strand its last CQEs */
        T.detached = n;
        T.detached_cap = ncap;
    }
    T.detached[T.ndetached++] = zl_conn_slot(c);
    zl_fd_release(c->fd);
    c->flags |= ZL_CF_FD_CLOSED;
}

void zl_conn_retire(zl_conn *c) {
    ZL_ASSERT(c->state == ZL_CS_CLOSING);
    ZL_ASSERT(!(c->flags & (ZL_CF_RECV_ARMED | ZL_CF_SEND_INFLIGHT)) && c->q_head == ZL_NIL);
    if (c->flags & ZL_CF_FD_CLOSED) {
        uint32_t s = zl_conn_slot(c), i = 0;
        while (i < T.ndetached && T.detached[i] != s)
            i++;
        ZL_ASSERT(i < T.ndetached);
        T.detached[i] = T.detached[--T.ndetached];
    } else {
        zl_fd_release(c->fd);
    }
    c->state = ZL_CS_DEAD;
    c->next_free = T.dead_head;
    T.dead_head = zl_conn_slot(c);
    ZL_ASSERT(T.open > 0);
    T.open--;
}

void zl_conn_reap(void) {
    while (T.dead_head != ZL_NIL) {
        uint32_t s = T.dead_head;
        zl_conn *c = &T.c[s];
        ZL_ASSERT(c->state == ZL_CS_DEAD);
        T.dead_head = c->next_free;
        c->state = ZL_CS_FREE;
        c->next_free = T.free_head;
        T.free_head = s;
    }
}

uint32_t zl_conn_open_count(void) { return T.open; }
uint32_t zl_conn_span(void) { return T.span; }
zl_conn *zl_conn_at(uint32_t slot) {
    ZL_ASSERT(slot < T.span);
    return &T.c[slot];
}
