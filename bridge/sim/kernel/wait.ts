// Blocking waits: a wait runs world events only (never app events), so the
// guest is not re-entered while it is inside an import.
import type { Ring } from './ring.ts';
import type { KernelState } from './state.ts';
import type { Timespec } from './types.ts';

/** A timespec in ns, or -1 when it is not a valid one (-EINVAL). */
export function tsNanos(ts: Timespec): number {
  if (ts.tvSec < 0n || ts.tvNsec < 0n || ts.tvNsec >= 1_000_000_000n) return -1;
  return Number(ts.tvSec) * 1e9 + Number(ts.tvNsec);
}

/** Runs world events until `ring` has `want` CQEs (GETEVENTS semantics) or the deadline passes. */
export function waitFor(k: KernelState, ring: Ring, want: number, timeoutNs: number | undefined): boolean {
  const deadline = timeoutNs === undefined ? Infinity : k.world.now + timeoutNs;
  const ok = k.world.runWorldUntil(() => {
    if (k.rings.get(ring.handle) !== ring) return true;
    ring.getEvents();
    return ring.cqCount >= want;
  }, deadline);
  if (!ok && timeoutNs === undefined) {
    k.world.violation(`ring ${ring.handle}: blocking wait for ${want} CQE(s) can never return (nothing left to happen)`);
  }
  return ok;
}
