/* zl_events.h — the batch of events `tick` returns (format in reactor.wit). */
#ifndef ZL_EVENTS_H
#define ZL_EVENTS_H

#include <stdint.h>
#include "zl_host.h"

/* The event kinds (ZL_EV_OPEN ...) are in zl_consts.h (generated, shared with TS). */
#define ZL_EV_WORDS 4
#define ZL_EV_MAX_CONN 0xFFFFFFu /* conn sits in w0 bits 8..31 */

/* Events one batch (between two takes) can hold, for `cqe_batch` CQEs per tick
 * and `slots` conn slots: a CQE yields at most two events besides open/closed
 * (data + eof, sent, a listener error), and each slot at most one open and one
 * closed before it is reaped at the next tick. */
#define ZL_EV_MAX(cqe_batch, slots) (2u * (cqe_batch) + 2u * (slots) + 16u)
int zl_ev_init(uint32_t max_events);
void zl_ev_fini(void);
void zl_ev_push(uint32_t kind, uint32_t conn, uint32_t w1, uint32_t w2, uint32_t w3);
/* Hands out everything pushed since the last take; later pushes go to the
 * other half of a double buffer, because the returned block must stay intact
 * until the canonical-ABI glue has copied it out. */
zl_list *zl_ev_take(void);

#endif
