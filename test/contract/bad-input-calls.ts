// The calls bad-input-cases.ts makes in bulk: every ring, SQE and fd import on
// one handle, a listener, a dead ring, and a seeded storm of random calls.
import type { Backend, Host } from '../../bridge/backend.ts';
import {
  AF_INET, EBADF, F_GETFL, MSG_NOSIGNAL, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR,
} from '../../bridge/consts.ts';

export const MS = { tvSec: 0n, tvNsec: 1_000_000n };
export const LOOPBACK4 = 0x7f000001;

/** A dead ring handle: created, then destroyed. */
export function deadRing(h: Host): number {
  const r = h.createRing(4);
  h.destroyRing(r);
  return r;
}

/** A listening loopback socket of the guest's. */
export function listener(h: Host): number {
  const fd = h.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  h.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  if (h.bind(fd, { port: 0, addr: LOOPBACK4 }) !== 0 || h.listen(fd, 16) !== 0) throw new Error('listener');
  return fd;
}

/** Every ring call on handle `r`, in one list. */
export function ringCalls(h: Host, r: number): number[] {
  return [
    h.destroyRing(r), Number(h.getRingFlags(r)), h.getSqe(r), h.submit(r), h.submitAndWait(r, 1),
    h.submitAndWaitTimeout(r, 1, MS), h.enter(r, 0, 0, 0, undefined), h.enter(r, 1, 1, 1, MS), h.waitCqe(r).ret,
    h.waitCqeTimeout(r, MS).ret, h.waitCqes(r, 1, MS).ret, h.peekBatchCqe(r, 16).byteLength === 0 ? -EBADF : 0,
    h.cqeSeen(r), h.cqAdvance(r, 1), h.cqReady(r), h.sqReady(r), h.setupBufRing(r, 8, 1, 0), h.freeBufRing(r, 1),
  ];
}
export const RING_CALLS = 18;

/** Every SQE call on handle `s`. */
export function sqeCalls(h: Host, s: number, fd: number, slab: number): number[] {
  return [
    h.sqeSetData64(s, 1n), h.prepSend(s, fd, slab, 0, 16, MSG_NOSIGNAL), h.prepSendmsg(s, fd, [{ slab, offset: 0, len: 16 }], 0),
    h.prepMultishotAccept(s, fd, 0), h.prepRecvMultishotSelect(s, fd, 0, 0), h.prepRecvSelect(s, fd, 0, 0), h.prepCancel64(s, 1n, 0),
  ];
}
export const SQE_CALLS = 7;

/** Every fd call on `f` (with a valid SQE and slab). */
export function fdCalls(h: Host, f: number, sqe: number, slab: number): number[] {
  return [
    h.fcntl(f, F_GETFL, 0n), h.setsockopt(f, SOL_SOCKET, SO_REUSEADDR, 1), h.bind(f, { port: 0, addr: LOOPBACK4 }),
    h.bind6(f, { port: 0, flowinfo: 0, hi: 0n, lo: 1n, scopeId: 0 }), h.listen(f, 1), h.shutdown(f, 2),
    h.getsockname(f).ret, h.getpeername(f).ret, h.prepSend(sqe, f, slab, 0, 1, 0),
    h.prepSendmsg(sqe, f, [{ slab, offset: 0, len: 1 }], 0), h.prepMultishotAccept(sqe, f, 0),
    h.prepRecvMultishotSelect(sqe, f, 0, 0), h.close(f),
  ];
}
export const FD_CALLS = 13;

/** Random calls over the live handles and junk; returns the failures to free what it made, and the fds still owned. */
export function storm(h: Host, b: Backend, n: number): number[] {
  let seed = 0x2545f491;
  const rnd = (k: number): number => {
    seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
    return (seed >>> 0) % k;
  };
  const owned0 = b.ownedFds();
  const rings: number[] = [], slabs: number[] = [], brs: number[] = [], fds: number[] = [], sqes: number[] = [];
  const pick = (xs: number[]): number => (xs.length && rnd(4) !== 0 ? xs[rnd(xs.length)]! : [0, 1, 2, 63, 0x7fffffff, rnd(1 << 20)][rnd(6)]!);
  const u32 = (): number => [0, 1, 2, 7, 8, 64, 4095, 4096, 65535, 0xffffffff, rnd(1 << 16)][rnd(11)]!;
  for (let i = 0; i < n; i++) {
    switch (rnd(24)) {
      case 0: if (rings.length < 6) { const r = h.createRingEx(1 << rnd(5), [0, 0x1000 | 0x2000, 0x100][rnd(3)]!, -1, 0); if (r > 0) rings.push(r); } break;
      case 1: { const r = pick(rings); if (h.destroyRing(r) === 0) rings.splice(rings.indexOf(r), 1); } break;
      case 2: { const s = h.getSqe(pick(rings)); if (s >= 0) sqes.push(s); } break;
      case 3: h.submit(pick(rings)); break;
      case 4: h.enter(pick(rings), u32(), 0, rnd(2), rnd(2) ? undefined : { tvSec: 0n, tvNsec: BigInt(rnd(1000)) }); break;
      case 5: { const r = pick(rings); const got = h.peekBatchCqe(r, u32()); h.cqAdvance(r, got.byteLength / 16); } break;
      case 6: h.cqAdvance(pick(rings), u32()); break;
      case 7: h.waitCqeTimeout(pick(rings), { tvSec: 0n, tvNsec: 1000n }); h.cqeSeen(pick(rings)); break;
      case 8: h.prepSend(pick(sqes), pick(fds), pick(slabs), u32(), u32(), u32()); break;
      case 9: h.prepSendmsg(pick(sqes), pick(fds), Array.from({ length: rnd(4) }, () => ({ slab: pick(slabs), offset: u32(), len: u32() })), 0); break;
      case 10: h.prepRecvMultishotSelect(pick(sqes), pick(fds), rnd(4), 0); break;
      case 11: h.prepMultishotAccept(pick(sqes), pick(fds), [0, SOCK_NONBLOCK, 1][rnd(3)]!); break;
      case 12: h.prepCancel64(pick(sqes), BigInt(rnd(8)), rnd(3)); h.sqeSetData64(pick(sqes), BigInt(rnd(8))); break;
      case 13: if (slabs.length < 8) { const s = h.slabCreate(u32() % (1 << 16)); if (s > 0) slabs.push(s); } break;
      case 14: { const s = pick(slabs); if (h.slabDestroy(s) === 0) slabs.splice(slabs.indexOf(s), 1); } break;
      case 15: { const br = h.setupBufRing(pick(rings), 1 << rnd(5), rnd(4), rnd(3)); if (br > 0) brs.push(br); } break;
      case 16: h.bufRingAdd(pick(brs), pick(slabs), u32(), u32(), rnd(20), u32(), rnd(20)); break;
      case 17: h.bufRingAdvance(pick(brs), rnd(5)); break;
      case 18: h.freeBufRing(pick(rings), pick(brs)); break;
      case 19: if (fds.length < 8) { const fd = h.socket([AF_INET, 10, 1][rnd(3)]!, SOCK_STREAM | SOCK_NONBLOCK, 0); if (fd >= 0) fds.push(fd); } break;
      case 20: { const fd = pick(fds); if (h.close(fd) === 0) fds.splice(fds.indexOf(fd), 1); } break;
      case 21: h.bind(pick(fds), { port: 0, addr: rnd(2) ? LOOPBACK4 : rnd(1 << 30) }); h.listen(pick(fds), rnd(8)); break;
      case 22: h.setsockopt(pick(fds), rnd(3), rnd(20), rnd(3)); h.fcntl(pick(fds), rnd(6), BigInt(rnd(4096))); h.shutdown(pick(fds), rnd(4)); break;
      case 23: h.getsockname(pick(fds)); h.getpeername(pick(fds)); h.inetPton(rnd(12), ['1.2.3.4', '::1', 'zz', ''][rnd(4)]!); break;
    }
    if (sqes.length > 64) sqes.splice(0, 32);
  }
  return [
    rings.filter((r) => h.destroyRing(r) !== 0).length,
    slabs.filter((s) => h.slabDestroy(s) !== 0).length, // every buffer ring went with its ring
    fds.filter((fd) => h.close(fd) !== 0).length,
    b.ownedFds() - owned0,
  ];
}
