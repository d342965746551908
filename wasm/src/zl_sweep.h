/* zl_sweep.h — timeouts without a timer per connection. The TS layer calls
 * `sweep(elapsed_ms)` on a coarse interval (a virtual one under the simulator);
 * one pass over the table charges the elapsed time to every connection that
 * moved no byte since the last pass, and closes (abortively, ETIMEDOUT):
 *   - an OPEN conn idle for `idle_ms` (0: never);
 *   - a conn that asked to shut down or close gracefully and still could not
 *     send its queued bytes after `end_ms` (0: never): a peer that never reads. */
#ifndef ZL_SWEEP_H
#define ZL_SWEEP_H

#include <stdint.h>

void zl_sweep_init(uint32_t idle_ms, uint32_t end_ms);
/* Returns how many connections it closed. */
uint32_t zl_sweep(uint32_t elapsed_ms);
uint64_t zl_sweep_idle_closed(void);
uint64_t zl_sweep_end_closed(void);

#endif
