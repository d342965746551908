/* zl_budget.h — per-connection receive budgets, the reserve, fair re-arming.
 *
 * Every connection's multishot recv draws from one shared buffer ring. A
 * connection whose data the app does not consume (held chunks, zero-copy
 * echoes to a peer that never reads) would otherwise take buffers until the
 * ring is empty and every other connection starves. So:
 *   - a buffer the kernel is done with and someone still references is charged
 *     to the connection whose recv filled it (zl_conn.held);
 *   - a connection at `per_conn` charged buffers is PAUSED: its recv is
 *     cancelled and not re-armed, so the kernel's TCP window pushes back on
 *     that peer alone; it resumes at `per_conn / 2`;
 *   - when no more than `reserve` buffers are free (pressure), every
 *     connection that holds any buffer is paused: the reserve only serves
 *     connections that hold none (new or quiet ones), and each resumes once
 *     it holds none, or once the pressure is over;
 *   - the reserve is kept out of the kernel's ring (RETURNING, unpublished)
 *     except under pressure while no paused connection still has its recv
 *     armed: a multishot recv takes buffers in bursts before its cancel lands,
 *     so a holder must never be able to reach the reserve; for the same
 *     reason pressure ends only once the reserve is back out of the kernel
 *     (at least `reserve` buffers RETURNING), and returned buffers are not
 *     published beyond entries - reserve once enough is free again;
 *   - connections whose recv ended with -ENOBUFS (STARVED) are re-armed in
 *     FIFO order, no more at once than the kernel has buffers.
 * Paused/starved bookkeeping is per slot with lists sized at create(). */
#ifndef ZL_BUDGET_H
#define ZL_BUDGET_H

#include <stdbool.h>
#include <stdint.h>
#include "zl_conn.h"

/* `slots`: the conn table's capacity. 0 or -ENOMEM. */
int32_t zl_budget_init(uint32_t slots, uint32_t entries, uint32_t per_conn, uint32_t reserve);
void zl_budget_fini(void);

/* A buffer the kernel is done with went to the app: charge it to `c`. */
void zl_budget_charge(zl_conn *c);
/* The last reference on a buffer charged to (slot, epoch) was dropped. A slot
 * reused since (another epoch) or retired is not charged any more. */
void zl_budget_uncharge(uint32_t slot, uint32_t epoch);
/* After a data event of `c`; `free_bufs`: buffers no connection holds. */
void zl_budget_check(zl_conn *c, uint32_t free_bufs);
/* The recv of `c` ended with -ENOBUFS: re-arm once buffers are back. */
void zl_budget_starve(zl_conn *c);
/* `c` is closing: it leaves the paused gauge. */
void zl_budget_forget(zl_conn *c);
/* The recv of `c` was armed (flags say one-shot or not) / ended (no F_MORE;
 * called before the flags are cleared). */
void zl_budget_recv_armed(zl_conn *c);
void zl_budget_recv_ended(zl_conn *c);
/* Before each flush: resumes and re-arms what may go. `kernel_bufs`: buffers
 * published to the kernel (the quota for starved re-arms). */
void zl_budget_poll(uint32_t free_bufs, uint32_t kernel_bufs);
/* How many buffers the kernel's ring may hold plus those held (see above). */
uint32_t zl_budget_publish_limit(uint32_t entries);

/* Under pressure recvs are armed one-shot: at most one buffer each. */
bool zl_budget_pressure(void);
/* The budget waits on polls: the reserve waits for cancels to land (re-asked
 * every so many polls), or starved recvs can be re-armed from the kernel's
 * `kernel_bufs` buffers. Either needs more flushes, not a wake-up. */
bool zl_budget_waiting(uint32_t kernel_bufs);
uint32_t zl_budget_paused(void);
uint32_t zl_budget_per_conn(void);
uint32_t zl_budget_reserve(void);
uint64_t zl_budget_pauses(void);

#endif
