// Completion: the guest reads CQEs (wait, peek) and consumes them (advance).
// Reading an accept's CQE makes its fd the guest's; reading or consuming a
// final CQE drops its user_data record (native: zl_process_cqes).
import * as C from '../consts.ts';
import type { PostedCqe, Ring } from './ring.ts';
import type { KernelState } from './state.ts';
import type { Cqe, CqeResult, Timespec } from './types.ts';
import { tsNanos, waitFor } from './wait.ts';

const ZERO_CQE: Cqe = Object.freeze({ userData: 0n, res: 0, flags: 0 });

function head(k: KernelState, r: Ring): Cqe {
  const c = r.cqAt(0);
  markRead(k, c);
  settle(r, c);
  return { userData: c.ud, res: c.res, flags: c.flags };
}

/** A final CQE reached the guest: its user_data record drops it. */
function settle(r: Ring, c: PostedCqe): void {
  if (c.settled === true || (c.flags & C.IORING_CQE_F_MORE) !== 0) return;
  c.settled = true;
  const e = r.udRecords.get(c.ud);
  if (e === undefined) return;
  e.total--;
  if (e.accepts > 0) e.accepts--;
  if (e.total === 0) r.udRecords.delete(c.ud);
}

/** The guest saw this CQE: an accepted fd in it becomes the guest's. */
function markRead(k: KernelState, c: PostedCqe): void {
  if (c.read === true) return;
  c.read = true;
  if (c.acceptFd !== undefined) k.files.adopt(c.acceptFd);
}

/** CQEs dropped unread: nobody will learn their accepted fds, so they are closed. */
export function dropUnread(k: KernelState, c: PostedCqe): void {
  if (c.read !== true && c.acceptFd !== undefined && !k.files.owns(c.acceptFd)) k.files.uninstall(c.acceptFd);
}

export function waitCqe(k: KernelState, ring: number): CqeResult {
  const r = k.rings.get(ring);
  if (r === undefined) return { ret: -C.EBADF, cqe: ZERO_CQE };
  if (r.cqCount === 0) {
    r.getEvents();
    if (!waitFor(k, r, 1, undefined)) return { ret: -C.EINTR, cqe: ZERO_CQE };
  }
  return { ret: 0, cqe: head(k, r) };
}

export function waitCqes(k: KernelState, ring: number, waitNr: number, ts: Timespec): CqeResult {
  const r = k.rings.get(ring);
  if (r === undefined) return { ret: -C.EBADF, cqe: ZERO_CQE };
  const t = tsNanos(ts);
  if (t < 0) return { ret: -C.EINVAL, cqe: ZERO_CQE };
  if (r.cqCount < Math.max(1, waitNr)) {
    r.getEvents();
    waitFor(k, r, Math.max(1, waitNr), t);
  }
  // the kernel reports success when any CQE is there at the deadline
  if (r.cqCount === 0) return { ret: -C.ETIME, cqe: ZERO_CQE };
  return { ret: 0, cqe: head(k, r) };
}

export function peekBatchCqe(k: KernelState, ring: number, max: number): Uint8Array {
  const r = k.rings.get(ring);
  if (r === undefined) return new Uint8Array(0);
  // liburing's peek: an empty CQ with the overflow flag up enters to flush it
  if (r.cqCount === 0 && r.overflow.length > 0) r.getEvents();
  const n = Math.min(max, r.cqCount);
  const out = new Uint8Array(n * 16);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    const c = r.cqAt(i);
    dv.setBigUint64(i * 16, c.ud, true);
    dv.setInt32(i * 16 + 8, c.res, true);
    dv.setUint32(i * 16 + 12, c.flags, true);
    markRead(k, c);
    settle(r, c);
  }
  return out;
}

export function cqAdvance(k: KernelState, ring: number, count: number): number {
  const r = k.rings.get(ring);
  if (r === undefined) return -C.EBADF;
  if (count > r.cqCount) return -C.EINVAL;
  for (let i = 0; i < count; i++) {
    dropUnread(k, r.cqAt(i));
    settle(r, r.cqAt(i));
  }
  r.consume(count);
  return 0;
}

export function cqReady(k: KernelState, ring: number): number {
  const r = k.rings.get(ring);
  return r === undefined ? -C.EBADF : r.cqCount;
}

export function cqeHasBuffer(c: Cqe): boolean {
  return (c.flags & C.IORING_CQE_F_BUFFER) !== 0;
}

export function cqeBufferId(c: Cqe): number {
  return (c.flags & C.IORING_CQE_F_BUFFER) !== 0 ? c.flags >>> C.IORING_CQE_BUFFER_SHIFT : -C.EINVAL;
}
