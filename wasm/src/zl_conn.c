/* zl_conn.c — connection slots, fd ownership and per-fd generations. Every
 * table is allocated once at create(), sized from the config, so a flood of
 * connections gets -EBUSY/-EMFILE at accept, never a trap or unbounded growth. */
#include <stdlib.h>
#include <string.h>
#include "zl_conn.h"
#include "zl_assert.h"
#include "zl_events.h"
#include "zl_host.h"
#include "zl_token.h"

static struct {
    zl_conn *c;
    uint32_t max; /* the connection limit; capacity is twice it (zl_conn.h) */
    uint32_t span;
    uint32_t free_head; /* FREE slots below span */
    uint32_t dead_head; /* DEAD slots, freed by the next reap */
    uint32_t open;      /* OPEN + CLOSING */
    uint32_t *detached; /* slots of CLOSING conns whose fd is closed; cap entries */
    uint32_t ndetached;
    /* By fd, in pages made at an fd's first claim: a calloc'd flat table of
     * maxFd entries would be zeroed (touched) at create() by the allocator,
     * about 1 MiB resident at the default maxFd for fds never seen. */
    zl_fd_entry **fd_pages;
    uint32_t fd_cap;
} T = {.free_head = ZL_NIL, .dead_head = ZL_NIL};

enum { ZL_FD_PAGE_SHIFT = 10, ZL_FD_PAGE = 1u << ZL_FD_PAGE_SHIFT };

static uint32_t fd_page_count(uint32_t fd_cap) { return (fd_cap + ZL_FD_PAGE - 1) >> ZL_FD_PAGE_SHIFT; }

/* The entry of `fd` (< fd_cap), or NULL while its page was never needed. */
static zl_fd_entry *fd_entry(uint32_t fd) {
    ZL_ASSERT(fd < T.fd_cap);
    zl_fd_entry *page = T.fd_pages[fd >> ZL_FD_PAGE_SHIFT];
    return page ? &page[fd & (ZL_FD_PAGE - 1)] : NULL;
}

int32_t zl_conn_init(uint32_t max_conns, uint32_t fd_cap) {
    ZL_ASSERT(T.c == NULL);
    ZL_ASSERT(max_conns > 0 && max_conns <= (ZL_EV_MAX_CONN + 1) / 2); /* checked by create() */
    T.max = max_conns;
    ZL_ASSERT(zl_conn_capacity() - 1 <= ZL_EV_MAX_CONN);
    /* malloc, not calloc: only slots below span are ever read, so pages past
     * the high-water mark of connections are never touched. */
    T.c = malloc((size_t)zl_conn_capacity() * sizeof(zl_conn));
    T.detached = malloc((size_t)zl_conn_capacity() * sizeof(uint32_t));
    T.fd_cap = fd_cap;
    T.fd_pages = calloc(fd_page_count(fd_cap), sizeof(zl_fd_entry *));
    T.span = 0;
    T.open = 0;
    T.ndetached = 0;
    T.free_head = T.dead_head = ZL_NIL;
    if (!T.c || !T.detached || !T.fd_pages) {
        zl_conn_fini();
        return -ZL_ENOMEM;
    }
    return 0;
}

void zl_conn_fini(void) {
    free(T.c);
    free(T.detached);
    if (T.fd_pages)
        for (uint32_t i = 0; i < fd_page_count(T.fd_cap); i++)
            free(T.fd_pages[i]);
    free(T.fd_pages);
    memset(&T, 0, sizeof T);
    T.free_head = T.dead_head = ZL_NIL;
}

uint32_t zl_conn_capacity(void) { return T.max * 2; }
bool zl_conn_full(void) {
    ZL_ASSERT(T.open <= T.max);
    return T.open >= T.max;
}

/* The page holding `fd` (< fd_cap): made on first use and kept until fini, so
 * all pages together never exceed fd_cap entries. 0 or -ENOMEM. */
static int32_t fd_page_make(uint32_t fd) {
    zl_fd_entry **page = &T.fd_pages[fd >> ZL_FD_PAGE_SHIFT];
    if (*page == NULL)
        *page = calloc(ZL_FD_PAGE, sizeof(zl_fd_entry));
    return *page ? 0 : -ZL_ENOMEM;
}

int32_t zl_fd_claim(int32_t fd, uint32_t owner) {
    ZL_ASSERT(fd >= 0 && owner != ZL_FD_NONE);
    if ((uint32_t)fd >= T.fd_cap)
        return -ZL_EMFILE;
    if (fd_page_make((uint32_t)fd) < 0)
        return -ZL_ENOMEM;
    zl_fd_entry *e = fd_entry((uint32_t)fd);
    /* The kernel never hands out an fd that is still open. */
    ZL_ASSERT(e->owner == ZL_FD_NONE);
    e->owner = owner;
    e->gen = (e->gen + 1) & ZL_TOKEN_GEN_MASK;
    return (int32_t)e->gen;
}

void zl_fd_release(int32_t fd) {
    ZL_ASSERT(fd >= 0 && (uint32_t)fd < T.fd_cap);
    zl_fd_entry *e = fd_entry((uint32_t)fd);
    ZL_ASSERT(e != NULL && e->owner != ZL_FD_NONE); /* paired with zl_fd_claim */
    e->owner = ZL_FD_NONE;
}

uint32_t zl_fd_owner(int32_t fd) {
    if (fd < 0 || (uint32_t)fd >= T.fd_cap)
        return ZL_FD_NONE;
    const zl_fd_entry *e = fd_entry((uint32_t)fd);
    return e ? e->owner : ZL_FD_NONE;
}

int32_t zl_conn_alloc(int32_t fd) {
    ZL_ASSERT(T.open < T.max); /* paired with zl_conn_full() in the caller */
    if (fd < 0 || (uint32_t)fd >= T.fd_cap)
        return -ZL_EMFILE;
    if (fd_page_make((uint32_t)fd) < 0)
        return -ZL_ENOMEM; /* before a slot is taken: nothing to undo */
    uint32_t slot;
    if (T.free_head != ZL_NIL) {
        slot = T.free_head;
        T.free_head = T.c[slot].next_free;
    } else {
        /* Every slot is open or DEAD (closed since the last reap, its `closed`
         * not delivered yet): refuse, as at max_conns. */
        if (T.span >= zl_conn_capacity())
            return -ZL_EBUSY;
        slot = T.span++;
        T.c[slot].epoch = 0;
    }
    int32_t gen = zl_fd_claim(fd, slot + 2);
    ZL_ASSERT(gen >= 0); /* fd < fd_cap and its page were checked above */
    zl_conn *c = &T.c[slot];
    uint32_t epoch = c->epoch + 1;
    memset(c, 0, sizeof *c);
    c->fd = fd;
    c->gen = (uint32_t)gen;
    c->epoch = epoch;
    c->state = ZL_CS_OPEN;
    zl_ranges_queue_init(&c->q);
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
    /* Each detached conn is a live slot listed once: the list fits in cap. */
    ZL_ASSERT(T.ndetached < zl_conn_capacity());
    T.detached[T.ndetached++] = zl_conn_slot(c);
    zl_fd_release(c->fd);
    c->flags |= ZL_CF_FD_CLOSED;
}

void zl_conn_retire(zl_conn *c) {
    ZL_ASSERT(c->state == ZL_CS_CLOSING);
    ZL_ASSERT(!(c->flags & (ZL_CF_RECV_ARMED | ZL_CF_SEND_INFLIGHT)) && zl_ranges_empty(&c->q));
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
