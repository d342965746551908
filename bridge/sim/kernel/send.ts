// send/sendmsg: gathers from the iovec into the peer's window; a short send
// completes unless MSG_WAITALL keeps it armed for the rest.
import * as C from '../consts.ts';
import { arm, finish } from './op.ts';
import type { Op } from './op.ts';
import type { KernelState } from './state.ts';

export function attemptSend(k: KernelState, op: Op): void {
  const sock = op.sock!;
  if (sock.state !== 'connected' || sock.ep === undefined) return finish(k, op, op.done > 0 ? op.done : -C.EPIPE);
  const ep = sock.ep;
  if (ep.err !== 0) {
    const e = ep.err;
    ep.err = 0;
    return finish(k, op, op.done > 0 ? op.done : -e);
  }
  if (ep.wrShut || ep.rstRcvd || ep.closed) return finish(k, op, op.done > 0 ? op.done : -C.EPIPE);
  const remaining = op.total - op.done;
  if (remaining === 0) return finish(k, op, op.done);
  const space = ep.space();
  if (space <= 0) return arm(op);
  let n = Math.min(remaining, space);
  const rng = k.world.rng;
  if (n > 1 && rng.chance(k.world.faults.shortSend)) n = rng.int(1, n - 1);
  const bytes = new Uint8Array(n);
  // gather from the iovec, starting `op.done` bytes in
  let skip = op.done;
  let j = 0;
  for (const r of op.iov) {
    if (j === n) break;
    if (skip >= r.len) {
      skip -= r.len;
      continue;
    }
    const m = Math.min(r.len - skip, n - j);
    bytes.set(r.u8.subarray(r.offset + skip, r.offset + skip + m), j);
    j += m;
    skip = 0;
  }
  ep.transmit(bytes);
  op.done += n;
  if (op.done < op.total) {
    if ((op.flags & C.MSG_WAITALL) !== 0) {
      arm(op);
      if (ep.space() > 0) k.kick(op);
      return;
    }
    k.counters.shortSends++;
  }
  finish(k, op, op.done);
}
