// Submission: the native backend's flush rules, then each SQE issued in
// order. A request resolves its fd at submit (not at prep), takes a
// reference on the file, and tries to complete inline.
import * as C from '../consts.ts';
import { attempt } from './attempt.ts';
import { runCancel } from './cancel.ts';
import { Op, arm, finish } from './op.ts';
import type { Ring, UdRecord } from './ring.ts';
import { guestSock, notSock } from './socket.ts';
import type { Sock } from './socket.ts';
import { silence } from './sqe.ts';
import type { Sqe } from './sqe.ts';
import type { KernelState } from './state.ts';
import type { Timespec } from './types.ts';
import { tsNanos, waitFor } from './wait.ts';

/**
 * The native flush rules: an SQE naming an fd the guest no longer owns
 * becomes a silent NOP; one that would give a user_data value both an accept
 * and another kind of operation refuses the whole flush (-EINVAL, nothing
 * recorded). Otherwise every SQE with a live handle is recorded in flight.
 */
function flushCheck(k: KernelState, ring: Ring): number {
  const fresh = ring.sq.filter((q) => k.sqes.has(q.handle));
  for (const q of fresh) {
    if (q.opcode !== 'nop' && q.opcode !== 'cancel' && !k.files.owns(q.fd)) silence(q);
  }
  const add = new Map<bigint, UdRecord>();
  for (const q of fresh) {
    if (q.silent) continue;
    const accept = q.opcode === 'accept';
    const base = ring.udRecords.get(q.userData);
    const e = add.get(q.userData) ?? { total: 0, accepts: 0 };
    const total = (base?.total ?? 0) + e.total;
    const accepts = (base?.accepts ?? 0) + e.accepts;
    if (total > 0 && (accepts > 0) !== accept) return -C.EINVAL;
    e.total++;
    if (accept) e.accepts++;
    add.set(q.userData, e);
  }
  for (const [ud, e] of add) {
    const base = ring.udRecords.get(ud);
    if (base === undefined) ring.udRecords.set(ud, e);
    else {
      base.total += e.total;
      base.accepts += e.accepts;
    }
  }
  return 0;
}

/** Takes up to `n` SQEs from the SQ and issues them in order. */
function submitN(k: KernelState, ring: Ring, n: number): number {
  // "A handle is valid until the next submit on its ring": every handle of the ring is spent now
  // (SQEs not consumed by a short enter stay queued and go out with the next one).
  for (const s of ring.sq) k.sqes.delete(s.handle);
  const batch = ring.sq.splice(0, Math.min(n, ring.sq.length));
  for (const s of batch) issue(k, ring, s);
  return batch.length;
}

function issue(k: KernelState, ring: Ring, s: Sqe): void {
  if (s.opcode === 'nop') {
    if (!s.silent) ring.postFinal(s.userData, 0, 0);
    return;
  }
  let sock: Sock | undefined;
  if (s.opcode !== 'cancel') {
    // the fd is resolved now, at submit: closed since prep -> -EBADF
    sock = guestSock(k, s.fd);
    if (sock === undefined) {
      ring.postFinal(s.userData, notSock(k, s.fd), 0);
      return;
    }
    sock.refs++;
  }
  const op = new Op(k.nextOp++, ring, s.opcode, s.userData, sock, s.flags, s.bufGroup, s.iov, s.target);
  op.oneshot = s.oneshot;
  ring.ops.add(op);
  if (op.opcode === 'cancel') return runCancel(k, op);
  if (op.opcode === 'accept' && sock!.state !== 'listening') return finish(k, op, -C.EINVAL, 0, false);
  if (k.world.rng.chance(k.world.faults.asyncIssue)) {
    arm(op);
    k.kick(op);
  } else {
    attempt(k, op, true);
  }
}

export function submit(k: KernelState, ring: number): number {
  const r = k.rings.get(ring);
  if (r === undefined) return -C.EBADF;
  const refused = flushCheck(k, r);
  if (refused < 0) return refused;
  const n = submitN(k, r, r.sq.length);
  // liburing's io_uring_submit enters with GETEVENTS when the CQ overflow flag is up
  if (r.overflow.length > 0) r.getEvents();
  return n;
}

export function submitAndWait(k: KernelState, ring: number, waitNr: number): number {
  const r = k.rings.get(ring);
  if (r === undefined) return -C.EBADF;
  const refused = flushCheck(k, r);
  if (refused < 0) return refused;
  const n = submitN(k, r, r.sq.length);
  if (waitNr > 0 || r.overflow.length > 0) {
    r.getEvents();
    if (waitNr > 0 && !waitFor(k, r, waitNr, undefined)) return n > 0 ? n : -C.EINTR;
  }
  return n;
}

export function submitAndWaitTimeout(k: KernelState, ring: number, waitNr: number, ts: Timespec): number {
  const r = k.rings.get(ring);
  if (r === undefined) return -C.EBADF;
  const t = tsNanos(ts);
  if (t < 0) return -C.EINVAL;
  const refused = flushCheck(k, r);
  if (refused < 0) return refused;
  const n = submitN(k, r, r.sq.length);
  r.getEvents();
  if (waitNr === 0) return n;
  if (!waitFor(k, r, waitNr, t) && r.cqCount === 0) return -C.ETIME;
  return n;
}

export function enter(k: KernelState, ring: number, toSubmit: number, minComplete: number, flags: number, ts: Timespec | undefined): number {
  const r = k.rings.get(ring);
  if (r === undefined) return -C.EBADF;
  if ((flags & ~(C.IORING_ENTER_GETEVENTS | C.IORING_ENTER_SQ_WAKEUP | C.IORING_ENTER_SQ_WAIT)) !== 0) return -C.EINVAL;
  let t: number | undefined;
  if (ts !== undefined) {
    t = tsNanos(ts);
    if (t < 0) return -C.EINVAL;
  }
  const refused = flushCheck(k, r);
  if (refused < 0) return refused;
  const n = submitN(k, r, Math.min(toSubmit, r.sq.length));
  if ((flags & C.IORING_ENTER_GETEVENTS) === 0) return n;
  r.getEvents();
  if (minComplete > 0 && !waitFor(k, r, minComplete, t) && r.cqCount === 0) {
    if (n > 0) return n;
    return t === undefined ? -C.EINTR : -C.ETIME;
  }
  return n;
}

export function sqReady(k: KernelState, ring: number): number {
  const r = k.rings.get(ring);
  return r === undefined ? -C.EBADF : r.sq.length;
}
