/* zl_budget.c — receive budgets (policy in zl_budget.h). */
#include <stdlib.h>
#include <string.h>
#include "zl_budget.h"
#include "zl_assert.h"
#include "zl_host.h"
#include "zl_work.h"

static struct {
    uint32_t per_conn, low, reserve, hysteresis;
    bool pressure;
    uint32_t paused; /* conns with ZL_CF_PAUSED */
    uint32_t armed_paused; /* conns with ZL_CF_PAUSE_ARMED */
    uint32_t armed_multishot; /* conns whose armed recv is multishot */
    uint32_t waiting_polls;   /* polls the reserve has waited for them */
    uint64_t pauses;
    uint32_t slots;
    uint32_t *resume; /* candidates: paused conns whose charge dropped */
    uint32_t nresume;
    uint32_t *starved; /* FIFO ring of starved slots, each at most once */
    uint32_t shead, sn;
} G;
/* Free buffers (kernel + returning) last seen by zl_budget_poll. */
static uint32_t last_free;

int32_t zl_budget_init(uint32_t slots, uint32_t entries, uint32_t per_conn, uint32_t reserve) {
    ZL_ASSERT(G.resume == NULL && G.starved == NULL);
    if (entries == 0)
        return -ZL_EINVAL;
    /* The TS layer validates; these bounds keep a raw caller safe too.
     * 0 turns each mechanism off (raw-core tests). */
    if (per_conn > entries)
        per_conn = entries;
    if (reserve >= entries)
        reserve = entries - 1;
    G.per_conn = per_conn == 0 ? UINT32_MAX : per_conn;
    G.low = G.per_conn / 2;
    G.reserve = reserve;
    /* Leave pressure only well above the reserve, so a ring hovering at the
     * edge does not rescan the table every tick. */
    G.hysteresis = reserve / 2 + 1;
    G.slots = slots;
    /* Counters, flags and lists start empty: fini left G zeroed. One block
     * holds both per-slot lists: the resume candidates, then the starved FIFO. */
    G.resume = malloc(2 * (size_t)slots * sizeof(uint32_t));
    if (!G.resume)
        return -ZL_ENOMEM;
    G.starved = G.resume + slots;
    return 0;
}

void zl_budget_fini(void) {
    free(G.resume); /* and G.starved, in the same block */
    memset(&G, 0, sizeof G);
    last_free = 0;
}

static void unarm(zl_conn *c) {
    if (c->flags & ZL_CF_PAUSE_ARMED) {
        ZL_ASSERT(G.armed_paused > 0); /* paired with pause() */
        G.armed_paused--;
        c->flags &= ~ZL_CF_PAUSE_ARMED;
    }
}

void zl_budget_recv_armed(zl_conn *c) {
    if (!(c->flags & ZL_CF_RECV_ONESHOT))
        G.armed_multishot++;
}

void zl_budget_recv_ended(zl_conn *c) {
    ZL_ASSERT(c->flags & ZL_CF_RECV_ARMED);
    if (!(c->flags & ZL_CF_RECV_ONESHOT)) {
        ZL_ASSERT(G.armed_multishot > 0); /* paired with zl_budget_recv_armed */
        G.armed_multishot--;
    }
    unarm(c);
}

uint32_t zl_budget_publish_limit(uint32_t entries) {
    /* The reserve enters the kernel only when no recv that could take it in
     * a burst is armed: no paused holder's, and no multishot (pressure
     * cancels them all and re-arms them one-shot); and only while it is
     * needed: once more than reserve + hysteresis is free again, returned
     * buffers stay out of the kernel until the reserve is back among them
     * (see zl_budget_poll: pressure ends only then). */
    if (G.reserve == 0 ||
        (G.pressure && G.armed_paused == 0 && G.armed_multishot == 0 && last_free <= G.reserve + G.hysteresis))
        return entries;
    return entries - G.reserve;
}

static bool over(const zl_conn *c) {
#ifdef ZL_FAULT_NO_RECV_BUDGET
    (void)c;
    return false; /* the broken core: the simulator must catch it */
#else
    return c->held >= G.per_conn || (G.pressure && c->held > 0);
#endif
}

static bool may_resume(const zl_conn *c) {
    return c->held == 0 || (!G.pressure && c->held <= G.low);
}

static void pause(zl_conn *c) {
    ZL_ASSERT(c->state == ZL_CS_OPEN && !(c->flags & ZL_CF_PAUSED));
    c->flags |= ZL_CF_PAUSED;
    G.paused++;
    G.pauses++;
    if (c->flags & ZL_CF_RECV_ARMED) {
        zl_work_add(c, ZL_W_CANCEL_RECV);
        ZL_ASSERT(!(c->flags & ZL_CF_PAUSE_ARMED));
        c->flags |= ZL_CF_PAUSE_ARMED;
        G.armed_paused++;
    }
}

static void add_candidate(zl_conn *c) {
    if (c->flags & ZL_CF_IN_RESUME)
        return;
    /* Each slot is listed at most once: the list fits in `slots`. */
    ZL_ASSERT(G.nresume < G.slots);
    G.resume[G.nresume++] = zl_conn_slot(c);
    c->flags |= ZL_CF_IN_RESUME;
}

void zl_budget_charge(zl_conn *c) {
    c->held++;
    ZL_ASSERT(c->held != 0);
}

void zl_budget_uncharge(uint32_t slot, uint32_t epoch) {
    if (slot >= zl_conn_span())
        return;
    zl_conn *c = zl_conn_at(slot);
    if (c->epoch != epoch || (c->state != ZL_CS_OPEN && c->state != ZL_CS_CLOSING))
        return;
    ZL_ASSERT(c->held > 0); /* paired with zl_budget_charge */
    c->held--;
    if ((c->flags & ZL_CF_PAUSED) && may_resume(c))
        add_candidate(c);
}

void zl_budget_check(zl_conn *c, uint32_t free_bufs) {
#ifndef ZL_FAULT_NO_RECV_BUDGET
    if (!G.pressure && G.reserve > 0 && free_bufs <= G.reserve) {
        G.pressure = true;
        /* Stop every holder now rather than one buffer later each: with many
         * hogs, "one more each" would eat the reserve. Rare: hysteresis. */
        uint32_t span = zl_conn_span();
        for (uint32_t s = 0; s < span; s++) {
            zl_conn *o = zl_conn_at(s);
            if (o->state != ZL_CS_OPEN || (o->flags & ZL_CF_PAUSED))
                continue;
            if (o->held > 0)
                pause(o);
            else if ((o->flags & (ZL_CF_RECV_ARMED | ZL_CF_RECV_ONESHOT)) == ZL_CF_RECV_ARMED)
                zl_work_add(o, ZL_W_CANCEL_RECV); /* re-armed one-shot once it ends */
        }
    }
#else
    (void)free_bufs;
#endif
    if (c->state != ZL_CS_OPEN)
        return;
    if (!(c->flags & ZL_CF_PAUSED)) {
        if (over(c))
            pause(c);
    } else if (c->flags & ZL_CF_RECV_ARMED) {
        /* Data after the pause: the cancel found the recv running (-EALREADY)
         * or is not through yet. Ask again; a cancel of an ended recv is a no-op. */
        zl_work_add(c, ZL_W_CANCEL_RECV);
        if (!(c->flags & ZL_CF_PAUSE_ARMED)) {
            c->flags |= ZL_CF_PAUSE_ARMED;
            G.armed_paused++;
        }
    }
}

void zl_budget_starve(zl_conn *c) {
    c->flags |= ZL_CF_STARVED;
    if (c->flags & ZL_CF_IN_STARVED)
        return;
    ZL_ASSERT(G.sn < G.slots);
    G.starved[(G.shead + G.sn++) % G.slots] = zl_conn_slot(c);
    c->flags |= ZL_CF_IN_STARVED;
}

void zl_budget_forget(zl_conn *c) {
    if (c->flags & ZL_CF_PAUSED) {
        ZL_ASSERT(G.paused > 0);
        G.paused--;
        c->flags &= ~ZL_CF_PAUSED;
    }
    unarm(c);
    c->flags &= ~ZL_CF_STARVED; /* list entries of a closing conn are skipped */
}

static void resume(zl_conn *c) {
    ZL_ASSERT(G.paused > 0);
    G.paused--;
    c->flags &= ~ZL_CF_PAUSED;
    unarm(c);
    /* A cancel not prepared yet is no longer wanted, unless it is there to
     * end a multishot recv under pressure (the reserve waits for those). */
    if (!(G.pressure && (c->flags & ZL_CF_RECV_ARMED) && !(c->flags & ZL_CF_RECV_ONESHOT)))
        c->work &= ~ZL_W_CANCEL_RECV;
    if (!(c->flags & (ZL_CF_RECV_ARMED | ZL_CF_EOF | ZL_CF_STARVED)))
        zl_work_add(c, ZL_W_ARM_RECV);
}

/* Under pressure the reserve waits until no paused holder's recv and no
 * multishot recv is armed. Their cancels can miss (found running, or raced
 * by a resume), so while the wait lasts, every so many flushes ask again:
 * progress does not hang on one lost cancel. */
enum { ZL_RECANCEL_POLLS = 32 };

static void recancel(void) {
    uint32_t span = zl_conn_span();
    for (uint32_t s = 0; s < span; s++) {
        zl_conn *o = zl_conn_at(s);
        if (o->state != ZL_CS_OPEN || !(o->flags & ZL_CF_RECV_ARMED))
            continue;
        if ((o->flags & ZL_CF_PAUSE_ARMED) || !(o->flags & ZL_CF_RECV_ONESHOT))
            zl_work_add(o, ZL_W_CANCEL_RECV);
    }
}

void zl_budget_poll(uint32_t free_bufs, uint32_t kernel_bufs) {
    if (G.pressure && (G.armed_paused > 0 || G.armed_multishot > 0)) {
        if (++G.waiting_polls % ZL_RECANCEL_POLLS == 0)
            recancel();
    } else {
        G.waiting_polls = 0;
    }
    last_free = free_bufs;
    /* Pressure ends (multishot recvs and resumed holders come back) only once
     * the reserve is out of the kernel again: at least `reserve` buffers
     * RETURNING (free_bufs - kernel_bufs), i.e. the kernel and the holders
     * have no more than entries - reserve. Ending it while the kernel still
     * holds published reserve buffers let the resumed multishot recvs take
     * them in one burst: under 64 non-reading writers every buffer ended up
     * pinned by sends to peers that never read, and newcomers never got one. */
    if (G.pressure && free_bufs > G.reserve + G.hysteresis && free_bufs - kernel_bufs >= G.reserve) {
        G.pressure = false;
        uint32_t span = zl_conn_span();
        for (uint32_t s = 0; s < span && G.paused > 0; s++) {
            zl_conn *o = zl_conn_at(s);
            if (o->state == ZL_CS_OPEN && (o->flags & ZL_CF_PAUSED) && may_resume(o))
                add_candidate(o);
        }
    }
    for (uint32_t i = 0; i < G.nresume; i++) {
        zl_conn *c = zl_conn_at(G.resume[i]);
        c->flags &= ~ZL_CF_IN_RESUME;
        if (c->state == ZL_CS_OPEN && (c->flags & ZL_CF_PAUSED) && may_resume(c))
            resume(c);
    }
    G.nresume = 0;
    /* Our count may run ahead of the kernel's (CQEs not reaped yet): then a
     * re-armed recv ends with -ENOBUFS again and goes to the back of the line. */
    uint32_t quota = kernel_bufs;
    while (G.sn > 0 && quota > 0) {
        uint32_t slot = G.starved[G.shead];
        G.shead = (G.shead + 1) % G.slots;
        G.sn--;
        zl_conn *c = zl_conn_at(slot);
        c->flags &= ~ZL_CF_IN_STARVED;
        if (c->state != ZL_CS_OPEN || !(c->flags & ZL_CF_STARVED))
            continue;
        c->flags &= ~ZL_CF_STARVED;
        if (over(c)) {
            if (!(c->flags & ZL_CF_PAUSED))
                pause(c);
            continue;
        }
        if (!(c->flags & ZL_CF_PAUSED)) {
            zl_work_add(c, ZL_W_ARM_RECV);
            quota--;
        }
    }
}

bool zl_budget_waiting(uint32_t kernel_bufs) {
    /* Starved recvs with no buffer in the kernel wait for a buffer to come
     * back, which is itself a turn (a send CQE wakes the ring, a release
     * marks the engine dirty): no reason to poll for it. A paused conn whose
     * charge dropped (its last buffer came home with a send CQE) is the
     * opposite: it resumes only in a poll, and with its recv not armed
     * nothing may wake the ring for it. */
    return G.nresume > 0 || (G.pressure && (G.armed_paused > 0 || G.armed_multishot > 0)) ||
           (G.sn > 0 && kernel_bufs > 0);
}

uint32_t zl_budget_paused(void) { return G.paused; }
bool zl_budget_pressure(void) { return G.pressure; }
uint64_t zl_budget_pauses(void) { return G.pauses; }
uint32_t zl_budget_per_conn(void) { return G.per_conn == UINT32_MAX ? 0 : G.per_conn; }
uint32_t zl_budget_reserve(void) { return G.reserve; }
