/* zl_sweep.c — idle and end timeouts (see zl_sweep.h). */
#include "zl_sweep.h"
#include "zl_close.h"
#include "zl_conn.h"

static struct {
    uint32_t idle_ms, end_ms;
    uint64_t idle_closed, end_closed;
} S;

void zl_sweep_init(uint32_t idle_ms, uint32_t end_ms) {
    S.idle_ms = idle_ms;
    S.end_ms = end_ms;
    S.idle_closed = S.end_closed = 0;
}

static uint32_t add_sat(uint32_t a, uint32_t b) { return a + b < a ? 0xFFFFFFFFu : a + b; }

uint32_t zl_sweep(uint32_t elapsed_ms) {
    if (S.idle_ms == 0 && S.end_ms == 0)
        return 0;
    uint32_t closed = 0, span = zl_conn_span();
    for (uint32_t s = 0; s < span; s++) {
        zl_conn *c = zl_conn_get(s);
        if (c == NULL)
            continue;
        bool active = (c->flags & ZL_CF_ACTIVE) != 0;
        c->flags &= ~ZL_CF_ACTIVE;
        c->idle_ms = active ? 0 : add_sat(c->idle_ms, elapsed_ms);
        /* Waiting to drain: a graceful close or an end() with bytes still queued. */
        bool draining = (!zl_ranges_empty(&c->q) || (c->flags & ZL_CF_SEND_INFLIGHT)) &&
                        (c->state == ZL_CS_CLOSING ? !(c->flags & ZL_CF_ABORT) : (c->flags & ZL_CF_WANT_SHUT) != 0);
        c->drain_ms = draining && !active ? add_sat(c->drain_ms, elapsed_ms) : 0;
        if (S.end_ms != 0 && draining && c->drain_ms >= S.end_ms) {
            S.end_closed++;
            closed++;
            zl_close_begin(c, true, ZL_ETIMEDOUT);
        } else if (S.idle_ms != 0 && c->state == ZL_CS_OPEN && c->idle_ms >= S.idle_ms) {
            S.idle_closed++;
            closed++;
            zl_close_begin(c, true, ZL_ETIMEDOUT);
        }
    }
    return closed;
}

uint64_t zl_sweep_idle_closed(void) { return S.idle_closed; }
uint64_t zl_sweep_end_closed(void) { return S.end_closed; }
