// Multishot (and one-shot) recv with buffer selection from a provided-buffer
// ring, as io_recv does it: the buffer is picked before the socket is looked
// at, so an empty ring is -ENOBUFS whatever woke the request.
import * as C from '../consts.ts';
import { arm, finish } from './op.ts';
import type { Op } from './op.ts';
import type { KernelState } from './state.ts';

export function attemptRecv(k: KernelState, op: Op, atIssue: boolean): void {
  const sock = op.sock!;
  if (sock.state !== 'connected' || sock.ep === undefined) return finish(k, op, -C.ENOTCONN);
  const ep = sock.ep;
  const rng = k.world.rng;
  for (let i = 0; i < 8; i++) {
    const readable = ep.rcvBytes > 0 || ep.err !== 0 || ep.finRcvd || ep.rdShut || ep.rstRcvd;
    // Only POLLIN wakes an armed recv; the first issue (at submit) runs regardless.
    if (!readable && !atIssue) return arm(op);
    atIssue = false;
    // io_recv selects the buffer before it looks at the socket: an empty ring is
    // -ENOBUFS whatever woke the request (data, FIN or RST), and at issue time.
    const br = op.ring.bufRings.get(op.bufGroup);
    const slot = br !== undefined && br.avail > 0 ? br.slots[br.head & br.mask] : undefined;
    if (br === undefined || slot === undefined) {
      k.counters.enobufs++;
      return finish(k, op, -C.ENOBUFS);
    }
    if (ep.rcvBytes > 0) {
      const slab = k.slabs.get(slot.slab);
      if (slab === undefined || slot.offset + slot.len > slab.u8.length) return finish(k, op, -C.EFAULT);
      let n = Math.min(ep.rcvBytes, slot.len);
      if (n > 1 && rng.chance(k.world.faults.partialRead)) n = rng.int(1, n - 1);
      const at = slot.offset;
      ep.read(slab.u8, at, n);
      let flags = C.IORING_CQE_F_BUFFER | (slot.bid << C.IORING_CQE_BUFFER_SHIFT);
      if (br.inc && n < slot.len) {
        // IOU_PBUF_RING_INC: the buffer stays at the head, its address moves on
        br.slots[br.head & br.mask] = { slab: slot.slab, offset: slot.offset + n, len: slot.len - n, bid: slot.bid };
        flags |= C.IORING_CQE_F_BUF_MORE;
      } else {
        br.slots[br.head & br.mask] = undefined;
        br.head = (br.head + 1) & 0xffff;
      }
      if (ep.rcvBytes > 0) flags |= C.IORING_CQE_F_SOCK_NONEMPTY;
      if (op.oneshot) return finish(k, op, n, flags, false);
      if (!op.ring.postMore(op.userData, n, flags)) return finish(k, op, n, flags, false);
      if (ep.rcvBytes === 0 && !ep.finRcvd && !ep.rstRcvd && ep.err === 0) return arm(op);
      continue;
    }
    if (ep.err !== 0) {
      const e = ep.err;
      ep.err = 0;
      return finish(k, op, -e);
    }
    if (ep.finRcvd || ep.rdShut || ep.rstRcvd) return finish(k, op, 0);
    return arm(op);
  }
  k.kick(op);
  arm(op);
}
