// SQEs: handles the guest gets from get-sqe and fills with a prep call. A
// prep checks what the native backend checks (the fd is the guest's, flags,
// slab ranges) and records what the request will do; nothing runs before
// submit. A handle is spent by its ring's next submit.
import * as C from '../consts.ts';
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

export function getSqe(k: KernelState, ring: number): number {
  const r = k.rings.get(ring);
  if (r === undefined) return -C.EBADF;
  if (r.sq.length >= r.sqEntries) return -C.EBUSY;
  const h = k.nextSqe;
  k.nextSqe = k.nextSqe >= 0x7ffffffe ? 1 : k.nextSqe + 1;
  const s = new Sqe(h, r);
  k.sqes.set(h, s);
  r.sq.push(s);
  return h;
}

export function prepMultishotAccept(k: KernelState, sqe: number, lfd: number, flags: number): number {
  const s = k.sqes.get(sqe);
  if (s === undefined) return -C.EBADF;
  if (!k.files.owns(lfd)) return -C.EBADF;
  if ((flags & ~(C.SOCK_NONBLOCK | C.SOCK_CLOEXEC)) !== 0) return -C.EINVAL;
  s.reset();
  s.opcode = 'accept';
  s.fd = lfd;
  s.flags = flags;
  return 0;
}

export function prepRecvMultishotSelect(k: KernelState, sqe: number, fd: number, bufGroup: number, flags: number): number {
  const s = k.sqes.get(sqe);
  if (s === undefined) return -C.EBADF;
  if (!k.files.owns(fd)) return -C.EBADF;
  if (bufGroup > 0xffff || (flags & ~C.ALLOWED_RECV_FLAGS) !== 0) return -C.EINVAL;
  s.reset();
  s.opcode = 'recv';
  s.fd = fd;
  s.bufGroup = bufGroup;
  s.flags = flags;
  return 0;
}

export function prepRecvSelect(k: KernelState, sqe: number, fd: number, bufGroup: number, flags: number): number {
  const r = prepRecvMultishotSelect(k, sqe, fd, bufGroup, flags);
  if (r === 0) k.sqes.get(sqe)!.oneshot = true;
  return r;
}

export function prepSend(k: KernelState, sqe: number, fd: number, slab: number, offset: number, len: number, flags: number): number {
  const s = k.sqes.get(sqe);
  if (s === undefined) return -C.EBADF;
  if (!k.files.owns(fd)) return -C.EBADF;
  if ((flags & ~C.ALLOWED_SEND_FLAGS) !== 0) return -C.EINVAL;
  const e = slabRange(k, slab, offset, len);
  if (e < 0) return e;
  s.reset();
  s.opcode = 'send';
  s.fd = fd;
  s.iov = [{ slab, u8: k.slabs.get(slab)!.u8, offset, len }];
  s.flags = flags;
  return 0;
}

export function prepSendmsg(k: KernelState, sqe: number, fd: number, iov: SlabRange[], flags: number): number {
  const s = k.sqes.get(sqe);
  if (s === undefined) return -C.EBADF;
  if (!k.files.owns(fd)) return -C.EBADF;
  if (iov.length > C.MAX_SENDMSG_IOV) return -C.EINVAL;
  if ((flags & ~C.ALLOWED_SEND_FLAGS) !== 0) return -C.EINVAL;
  for (const r of iov) {
    const e = slabRange(k, r.slab, r.offset, r.len);
    if (e < 0) return e;
  }
  s.reset();
  s.opcode = 'send';
  s.fd = fd;
  s.iov = iov.map((r) => ({ slab: r.slab, u8: k.slabs.get(r.slab)!.u8, offset: r.offset, len: r.len }));
  s.flags = flags;
  return 0;
}

export function prepCancel64(k: KernelState, sqe: number, userData: bigint, flags: number): number {
  const s = k.sqes.get(sqe);
  if (s === undefined) return -C.EBADF;
  if ((flags & ~(C.IORING_ASYNC_CANCEL_ALL | C.IORING_ASYNC_CANCEL_ANY)) !== 0) return -C.EINVAL;
  s.reset();
  s.opcode = 'cancel';
  s.target = userData;
  s.flags = flags;
  return 0;
}

export function sqeSetData64(k: KernelState, sqe: number, data: bigint): number {
  const s = k.sqes.get(sqe);
  if (s === undefined) return -C.EBADF;
  s.userData = BigInt.asUintN(64, data);
  return 0;
}
