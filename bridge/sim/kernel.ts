// The simulated kernel's host method table: exactly the WIT host imports
// (jco's camelCase names; host.ts binds and traces them), plus the Backend
// calls the sim backend makes (slab pinning, fd hand-off). Each method only
// names the module that owns the concern:
//
//   kernel/files.ts      fd table and guest ownership
//   kernel/socket.ts     sockets: create, bind, listen, shutdown, names
//   kernel/sockopt.ts    setsockopt, fcntl
//   kernel/ownership.ts  close and the cluster hand-off (release, claim)
//   kernel/ring.ts       one ring: SQ, CQ + overflow backlog, task work, eventfd
//   kernel/lifecycle.ts  ring setup and teardown
//   kernel/sqe.ts        get-sqe, the prep calls and the fused queue-* calls
//   kernel/submit.ts     flush rules, issue, submit/enter
//   kernel/wait.ts       blocking waits, timespecs
//   kernel/completion.ts wait/peek/advance, CQE helpers
//   kernel/op.ts         a request's lifecycle (arm, finish, retire)
//   kernel/attempt.ts    + accept.ts, recv.ts, send.ts: the operation engines
//   kernel/cancel.ts     ASYNC_CANCEL
//   kernel/bufring.ts    provided-buffer rings
//   kernel/slabs.ts      host slabs and range checks
//   kernel/inet.ts       inet_pton
//   kernel/state.ts      the tables every module works on, the wake-up path
//   kernel/inspect.ts    what tests and the runner read (not host calls)
//
// What a request does follows Linux 6.x io_uring: requests resolve their fd at
// submit (not at prep), hold a reference on the file so that close(fd) does not
// stop them (the socket lives until the last request lets go), try to complete
// inline at submit and otherwise wait for a wake-up; multishot requests post
// CQEs with F_MORE and end when a CQE cannot go into the CQ ring, on error, on
// EOF or on -ENOBUFS; CQEs that do not fit go to an overflow backlog (no drop),
// flushed by a GETEVENTS enter (liburing's submit asks for one when the
// overflow flag is up) or by a peek that finds the CQ empty. With
// DEFER_TASKRUN, work triggered by wake-ups runs only inside a GETEVENTS enter.
import * as bufring from './kernel/bufring.ts';
import * as completion from './kernel/completion.ts';
import { inetPton } from './kernel/inet.ts';
import { KernelInspection } from './kernel/inspect.ts';
import * as lifecycle from './kernel/lifecycle.ts';
import * as ownership from './kernel/ownership.ts';
import * as slabs from './kernel/slabs.ts';
import * as socket from './kernel/socket.ts';
import * as sockopt from './kernel/sockopt.ts';
import * as sqe from './kernel/sqe.ts';
import * as submission from './kernel/submit.ts';
import type { KernelState } from './kernel/state.ts';
import type { Cqe, CqeResult, SockAddr, Timespec } from './kernel/types.ts';
import * as C from './consts.ts';

/**
 * The calls that are one module's function with the kernel as its first
 * argument, by name: SimKernel has each as a method (installed below the
 * class), so this table is the whole of what those methods do.
 */
const DELEGATED = {
  // ring lifecycle
  createRingEx: lifecycle.createRingEx,
  destroyRing: lifecycle.destroyRing,
  getRingFlags: lifecycle.getRingFlags,
  // submission
  getSqe: sqe.getSqe,
  submit: submission.submit,
  submitAndWait: submission.submitAndWait,
  submitAndWaitTimeout: submission.submitAndWaitTimeout,
  enter: submission.enter,
  sqReady: submission.sqReady,
  // completion
  waitCqe: completion.waitCqe,
  waitCqes: completion.waitCqes,
  peekBatchCqe: completion.peekBatchCqe,
  cqAdvance: completion.cqAdvance,
  cqReady: completion.cqReady,
  // SQE preparation and user data
  prepMultishotAccept: sqe.prepMultishotAccept,
  prepRecvMultishotSelect: sqe.prepRecvMultishotSelect,
  prepRecvSelect: sqe.prepRecvSelect,
  prepSend: sqe.prepSend,
  prepSendmsg: sqe.prepSendmsg,
  prepCancel64: sqe.prepCancel64,
  sqeSetData64: sqe.sqeSetData64,
  // fused queueing (get-sqe + prep + sqe-set-data64 in one call)
  queueMultishotAccept: sqe.queueMultishotAccept,
  queueRecvMultishotSelect: sqe.queueRecvMultishotSelect,
  queueRecvSelect: sqe.queueRecvSelect,
  queueSend: sqe.queueSend,
  queueSendmsg: sqe.queueSendmsg,
  queueCancel64: sqe.queueCancel64,
  // buffer ring
  setupBufRing: bufring.setupBufRing,
  freeBufRing: bufring.freeBufRing,
  bufRingAdd: bufring.bufRingAdd,
  bufRingAdvance: bufring.bufRingAdvance,
  // slabs (slabCreate, slabDestroy are host calls; addSlab, slabInUse the sim backend's pinning)
  slabCreate: slabs.slabCreate,
  slabDestroy: slabs.slabDestroy,
  addSlab: slabs.addSlab,
  slabInUse: slabs.slabInUse,
  // sockets
  socket: socket.socket,
  bind: socket.bind,
  bind6: socket.bind6,
  listen: socket.listen,
  setsockopt: sockopt.setsockopt,
  close: ownership.close,
  fcntl: sockopt.fcntl,
  shutdown: socket.shutdown,
  getsockname: socket.getsockname,
  getpeername: socket.getpeername,
  // fd hand-off between guests (Backend.releaseFd / claimFd)
  releaseFd: ownership.releaseFd,
  claimFd: ownership.claimFd,
} as const;

/** A module function `(kernel, ...args) => result` as the kernel's method `(...args) => result`. */
type Method<F> = F extends (k: KernelState, ...args: infer A) => infer R ? (...args: A) => R : never;
type Delegated = { [K in keyof typeof DELEGATED]: Method<(typeof DELEGATED)[K]> };

/** The methods of DELEGATED, typed here and installed on the prototype below the class. */
export interface SimKernel extends Delegated {}

/** The calls that adapt their arguments or need no module. */
export class SimKernel extends KernelInspection {
  createRing(entries: number): number {
    return lifecycle.createRingEx(this, entries, 0, -1, 0);
  }
  waitCqeTimeout(ring: number, ts: Timespec): CqeResult {
    return completion.waitCqes(this, ring, 1, ts);
  }
  cqeSeen(ring: number): number {
    return completion.cqAdvance(this, ring, 1);
  }
  cqeGetData64(c: Cqe): bigint {
    return c.userData;
  }
  cqeHasBuffer(c: Cqe): boolean {
    return completion.cqeHasBuffer(c);
  }
  cqeBufferId(c: Cqe): number {
    return completion.cqeBufferId(c);
  }
  isPinned(slab: number): boolean | undefined {
    return this.slabs.get(slab)?.pinned;
  }
  removeSlab(slab: number): void {
    this.slabs.delete(slab);
  }
  inetPton(af: number, src: string): SockAddr {
    return inetPton(af, src);
  }
  pinCurrentThreadToCpu(cpu: number): number {
    return cpu >= 0 && cpu < this.opts.cpus ? 0 : -C.EINVAL;
  }
}

for (const name of Object.keys(DELEGATED) as (keyof typeof DELEGATED)[]) {
  const fn = DELEGATED[name] as (k: KernelState, ...args: unknown[]) => unknown;
  // Made as a method (named, not enumerable), like those the class declares.
  const { [name]: method } = { [name](this: SimKernel, ...args: unknown[]): unknown { return fn(this, ...args); } };
  Object.defineProperty(SimKernel.prototype, name, { value: method, writable: true, configurable: true });
}

export { BufRing } from './kernel/bufring.ts';
export { parseIPv4, parseIPv6 } from './kernel/inet.ts';
export { Op } from './kernel/op.ts';
export type { OpState } from './kernel/op.ts';
export { Ring } from './kernel/ring.ts';
export { Sock } from './kernel/socket.ts';
export type { SockState } from './kernel/socket.ts';
export type { KernelOptions } from './kernel/types.ts';
export { LOOPBACK4, V4MAPPED_LO_PREFIX } from './net.ts';
