// ASYNC_CANCEL by user_data (one, ALL or ANY): a request whose CQE is already
// on its way cannot be stopped (-EALREADY); a cancelled one posts -ECANCELED,
// possibly after the cancel's own CQE (the cancelLate fault).
import * as C from '../consts.ts';
import { finish, later, retire } from './op.ts';
import type { Op } from './op.ts';
import type { KernelState } from './state.ts';

export function runCancel(k: KernelState, op: Op): void {
  const ring = op.ring;
  k.counters.cancels++;
  const any = (op.flags & C.IORING_ASYNC_CANCEL_ANY) !== 0;
  const all = any || (op.flags & C.IORING_ASYNC_CANCEL_ALL) !== 0;
  let found = 0;
  let cancelled = 0;
  let res = -C.ENOENT;
  for (const t of [...ring.ops]) {
    if (t === op || t.opcode === 'cancel' || (!any && t.userData !== op.target) || t.state === 'done') continue;
    found++;
    if (t.state === 'completing') {
      // its CQE is already on its way: cannot be stopped
      res = -C.EALREADY;
    } else {
      cancelled++;
      cancelTarget(k, t);
      res = 0;
    }
    if (!all) break;
  }
  if (all) res = found === 0 ? -C.ENOENT : cancelled;
  finish(k, op, res, 0, false);
}

function cancelTarget(k: KernelState, t: Op): void {
  const ring = t.ring;
  if (t.sock !== undefined) t.sock.waiters.delete(t);
  if (k.world.rng.chance(k.world.faults.cancelLate)) {
    // The -ECANCELED completion goes through task work: it lands after the cancel's own CQE.
    t.state = 'completing';
    later(k, ring, () => {
      if (t.state !== 'completing') return;
      retire(k, t);
      if (k.rings.get(ring.handle) === ring) ring.postFinal(t.userData, -C.ECANCELED, 0);
    });
    return;
  }
  retire(k, t);
  ring.postFinal(t.userData, -C.ECANCELED, 0);
}
