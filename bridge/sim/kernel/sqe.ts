// SQEs: handles the guest gets from get-sqe and fills with a prep call, or
// queues whole with one fused queue-* call. A prep checks what the native
// backend checks (the fd is the guest's, flags, slab ranges) and records what
// the request will do; nothing runs before submit. A handle is spent by its
// ring's next submit. Each request kind is one check (every error, nothing
// changed) and one fill, shared by its prep-* and its queue-*: a queue-* call
// checks before it takes an SQ slot, so an error queues nothing.
import * as C from '../consts.ts';
import { tokenOf } from '../../backend.ts';
import type { Ring } from './ring.ts';
import { slabRange } from './slabs.ts';
import type { KernelState } from './state.ts';
import type { IoVec, SlabRange } from './types.ts';

export type Opcode = 'nop' | 'accept' | 'recv' | 'send' | 'cancel';

export class Sqe {
  opcode: Opcode = 'nop';
  /** A NOP the host made of an SQE whose fd the guest gave up: posts no CQE (native: CQE_SKIP_SUCCESS). */
  silent = false;
  userData = 0n;
  fd = -1;
  flags = 0;
  bufGroup = 0;
  /** A recv without IORING_RECV_MULTISHOT (prep-recv-select): one CQE. */
  oneshot = false;
  iov: IoVec[] = [];
  target = 0n;
  constructor(readonly handle: number, readonly ring: Ring) {}
  reset(): void {
    this.opcode = 'nop';
    this.oneshot = false;
    this.silent = false;
    this.fd = -1;
    this.flags = 0;
    this.bufGroup = 0;
    this.iov = [];
    this.target = 0n;
  }
}

/** Turns a prepared SQE into a NOP that posts no CQE. */
export function silence(q: Sqe): void {
  const ud = q.userData;
  q.reset();
  q.silent = true;
  q.userData = ud;
}

/** True when `q` is a request on fd `fd` (NOPs and cancels name no fd). */
export function namesFd(q: Sqe, fd: number): boolean {
  return q.opcode !== 'nop' && q.opcode !== 'cancel' && q.fd === fd;
}

/** A fresh SQE in `r`'s SQ (the caller checked there is room). */
function takeSqe(k: KernelState, r: Ring): Sqe {
  const h = k.nextSqe;
  k.nextSqe = k.nextSqe >= 0x7ffffffe ? 1 : k.nextSqe + 1;
  const s = new Sqe(h, r);
  k.sqes.set(h, s);
  r.sq.push(s);
  return s;
}

export function getSqe(k: KernelState, ring: number): number {
  const r = k.rings.get(ring);
  if (r === undefined) return -C.EBADF;
  if (r.sq.length >= r.sqEntries) return -C.EBUSY;
  return takeSqe(k, r).handle;
}

/** A request kind: every check of its prep (0 or -errno), then what it writes into the SQE. */
interface Kind { check: (k: KernelState) => number; fill: (k: KernelState, s: Sqe) => void }

function prep(k: KernelState, sqe: number, kind: Kind): number {
  const s = k.sqes.get(sqe);
  if (s === undefined) return -C.EBADF;
  const e = kind.check(k);
  if (e < 0) return e;
  s.reset();
  kind.fill(k, s);
  return 0;
}

/**
 * get-sqe + prep + sqe-set-data64 in one: the ring, the checks, then room in
 * the SQ. The token comes as two u32 halves (host.wit: no BigInt per SQE
 * natively); the simulated SQE keeps it whole.
 */
function queue(k: KernelState, ring: number, kind: Kind, tokenHi: number, tokenLo: number): number {
  const r = k.rings.get(ring);
  if (r === undefined) return -C.EBADF;
  const e = kind.check(k);
  if (e < 0) return e;
  if (r.sq.length >= r.sqEntries) return -C.EBUSY;
  const s = takeSqe(k, r);
  kind.fill(k, s);
  s.userData = tokenOf(tokenHi, tokenLo);
  return 0;
}

const accept = (lfd: number, flags: number): Kind => ({
  check: (k) => {
    if (!k.files.owns(lfd)) return -C.EBADF;
    if ((flags & ~(C.SOCK_NONBLOCK | C.SOCK_CLOEXEC)) !== 0) return -C.EINVAL;
    return 0;
  },
  fill: (_k, s) => {
    s.opcode = 'accept';
    s.fd = lfd;
    s.flags = flags;
  },
});

const recv = (fd: number, bufGroup: number, flags: number, oneshot: boolean): Kind => ({
  check: (k) => {
    if (!k.files.owns(fd)) return -C.EBADF;
    if (bufGroup > 0xffff || (flags & ~C.ALLOWED_RECV_FLAGS) !== 0) return -C.EINVAL;
    return 0;
  },
  fill: (_k, s) => {
    s.opcode = 'recv';
    s.fd = fd;
    s.bufGroup = bufGroup;
    s.flags = flags;
    s.oneshot = oneshot;
  },
});

const sendmsg = (fd: number, iov: SlabRange[], flags: number, maxIov: number): Kind => ({
  check: (k) => {
    if (!k.files.owns(fd)) return -C.EBADF;
    if (iov.length > maxIov) return -C.EINVAL;
    if ((flags & ~C.ALLOWED_SEND_FLAGS) !== 0) return -C.EINVAL;
    for (const r of iov) {
      const e = slabRange(k, r.slab, r.offset, r.len);
      if (e < 0) return e;
    }
    return 0;
  },
  fill: (k, s) => {
    s.opcode = 'send';
    s.fd = fd;
    s.iov = iov.map((r): IoVec => ({ slab: r.slab, u8: k.slabs.get(r.slab)!.u8, offset: r.offset, len: r.len }));
    s.flags = flags;
  },
});

const send = (fd: number, slab: number, offset: number, len: number, flags: number): Kind =>
  sendmsg(fd, [{ slab, offset, len }], flags, 1);

const cancel = (target: bigint, flags: number): Kind => ({
  check: () => ((flags & ~(C.IORING_ASYNC_CANCEL_ALL | C.IORING_ASYNC_CANCEL_ANY)) !== 0 ? -C.EINVAL : 0),
  fill: (_k, s) => {
    s.opcode = 'cancel';
    s.target = target;
    s.flags = flags;
  },
});

export function prepMultishotAccept(k: KernelState, sqe: number, lfd: number, flags: number): number {
  return prep(k, sqe, accept(lfd, flags));
}
export function prepRecvMultishotSelect(k: KernelState, sqe: number, fd: number, bufGroup: number, flags: number): number {
  return prep(k, sqe, recv(fd, bufGroup, flags, false));
}
export function prepRecvSelect(k: KernelState, sqe: number, fd: number, bufGroup: number, flags: number): number {
  return prep(k, sqe, recv(fd, bufGroup, flags, true));
}
export function prepSend(k: KernelState, sqe: number, fd: number, slab: number, offset: number, len: number, flags: number): number {
  return prep(k, sqe, send(fd, slab, offset, len, flags));
}
export function prepSendmsg(k: KernelState, sqe: number, fd: number, iov: SlabRange[], flags: number): number {
  return prep(k, sqe, sendmsg(fd, iov, flags, C.MAX_SENDMSG_IOV));
}
export function prepCancel64(k: KernelState, sqe: number, userData: bigint, flags: number): number {
  return prep(k, sqe, cancel(userData, flags));
}

export function sqeSetData64(k: KernelState, sqe: number, data: bigint): number {
  const s = k.sqes.get(sqe);
  if (s === undefined) return -C.EBADF;
  s.userData = BigInt.asUintN(64, data);
  return 0;
}

export function queueMultishotAccept(k: KernelState, ring: number, lfd: number, flags: number, tokenHi: number, tokenLo: number): number {
  return queue(k, ring, accept(lfd, flags), tokenHi, tokenLo);
}
export function queueRecvMultishotSelect(k: KernelState, ring: number, fd: number, bufGroup: number, flags: number, tokenHi: number, tokenLo: number): number {
  return queue(k, ring, recv(fd, bufGroup, flags, false), tokenHi, tokenLo);
}
export function queueRecvSelect(k: KernelState, ring: number, fd: number, bufGroup: number, flags: number, tokenHi: number, tokenLo: number): number {
  return queue(k, ring, recv(fd, bufGroup, flags, true), tokenHi, tokenLo);
}
export function queueSend(k: KernelState, ring: number, fd: number, slab: number, offset: number, len: number, flags: number, tokenHi: number, tokenLo: number): number {
  return queue(k, ring, send(fd, slab, offset, len, flags), tokenHi, tokenLo);
}
export function queueSendmsg(k: KernelState, ring: number, fd: number, iov: SlabRange[], flags: number, tokenHi: number, tokenLo: number): number {
  return queue(k, ring, sendmsg(fd, iov, flags, C.MAX_SENDMSG_IOV), tokenHi, tokenLo);
}
export function queueCancel64(k: KernelState, ring: number, target: bigint, flags: number, tokenHi: number, tokenLo: number): number {
  return queue(k, ring, cancel(target, flags), tokenHi, tokenLo);
}
