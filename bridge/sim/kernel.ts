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
import type { Cqe, CqeResult, SlabRange, SockAddr, SockAddrIn, SockAddrIn6, Timespec } from './kernel/types.ts';
import * as C from './consts.ts';

export class SimKernel extends KernelInspection {
  // ---- ring lifecycle
  createRing(entries: number): number {
    return lifecycle.createRingEx(this, entries, 0, -1, 0);
  }
  createRingEx(entries: number, flags: number, sqThreadCpu: number, sqThreadIdleMs: number): number {
    return lifecycle.createRingEx(this, entries, flags, sqThreadCpu, sqThreadIdleMs);
  }
  destroyRing(ring: number): number {
    return lifecycle.destroyRing(this, ring);
  }
  getRingFlags(ring: number): bigint {
    return lifecycle.getRingFlags(this, ring);
  }

  // ---- submission
  getSqe(ring: number): number {
    return sqe.getSqe(this, ring);
  }
  submit(ring: number): number {
    return submission.submit(this, ring);
  }
  submitAndWait(ring: number, waitNr: number): number {
    return submission.submitAndWait(this, ring, waitNr);
  }
  submitAndWaitTimeout(ring: number, waitNr: number, ts: Timespec): number {
    return submission.submitAndWaitTimeout(this, ring, waitNr, ts);
  }
  enter(ring: number, toSubmit: number, minComplete: number, flags: number, ts: Timespec | undefined): number {
    return submission.enter(this, ring, toSubmit, minComplete, flags, ts);
  }

  // ---- completion
  waitCqe(ring: number): CqeResult {
    return completion.waitCqe(this, ring);
  }
  waitCqeTimeout(ring: number, ts: Timespec): CqeResult {
    return completion.waitCqes(this, ring, 1, ts);
  }
  waitCqes(ring: number, waitNr: number, ts: Timespec): CqeResult {
    return completion.waitCqes(this, ring, waitNr, ts);
  }
  peekBatchCqe(ring: number, max: number): Uint8Array {
    return completion.peekBatchCqe(this, ring, max);
  }
  cqeSeen(ring: number): number {
    return completion.cqAdvance(this, ring, 1);
  }
  cqAdvance(ring: number, count: number): number {
    return completion.cqAdvance(this, ring, count);
  }
  cqReady(ring: number): number {
    return completion.cqReady(this, ring);
  }
  sqReady(ring: number): number {
    return submission.sqReady(this, ring);
  }

  // ---- SQE preparation
  prepMultishotAccept(h: number, lfd: number, flags: number): number {
    return sqe.prepMultishotAccept(this, h, lfd, flags);
  }
  prepRecvMultishotSelect(h: number, fd: number, bufGroup: number, flags: number): number {
    return sqe.prepRecvMultishotSelect(this, h, fd, bufGroup, flags);
  }
  prepRecvSelect(h: number, fd: number, bufGroup: number, flags: number): number {
    return sqe.prepRecvSelect(this, h, fd, bufGroup, flags);
  }
  prepSend(h: number, fd: number, slab: number, offset: number, len: number, flags: number): number {
    return sqe.prepSend(this, h, fd, slab, offset, len, flags);
  }
  prepSendmsg(h: number, fd: number, iov: SlabRange[], flags: number): number {
    return sqe.prepSendmsg(this, h, fd, iov, flags);
  }
  prepCancel64(h: number, userData: bigint, flags: number): number {
    return sqe.prepCancel64(this, h, userData, flags);
  }

  // ---- user data
  sqeSetData64(h: number, data: bigint): number {
    return sqe.sqeSetData64(this, h, data);
  }
  cqeGetData64(c: Cqe): bigint {
    return c.userData;
  }

  // ---- fused queueing (get-sqe + prep + sqe-set-data64 in one call)
  queueMultishotAccept(ring: number, lfd: number, flags: number, userData: bigint): number {
    return sqe.queueMultishotAccept(this, ring, lfd, flags, userData);
  }
  queueRecvMultishotSelect(ring: number, fd: number, bufGroup: number, flags: number, userData: bigint): number {
    return sqe.queueRecvMultishotSelect(this, ring, fd, bufGroup, flags, userData);
  }
  queueRecvSelect(ring: number, fd: number, bufGroup: number, flags: number, userData: bigint): number {
    return sqe.queueRecvSelect(this, ring, fd, bufGroup, flags, userData);
  }
  queueSend(ring: number, fd: number, slab: number, offset: number, len: number, flags: number, userData: bigint): number {
    return sqe.queueSend(this, ring, fd, slab, offset, len, flags, userData);
  }
  queueSendmsg(ring: number, fd: number, iov: SlabRange[], flags: number, userData: bigint): number {
    return sqe.queueSendmsg(this, ring, fd, iov, flags, userData);
  }
  queueCancel64(ring: number, target: bigint, flags: number, userData: bigint): number {
    return sqe.queueCancel64(this, ring, target, flags, userData);
  }

  // ---- buffer ring
  setupBufRing(ring: number, entries: number, bgid: number, flags: number): number {
    return bufring.setupBufRing(this, ring, entries, bgid, flags);
  }
  freeBufRing(ring: number, br: number): number {
    return bufring.freeBufRing(this, ring, br);
  }
  bufRingAdd(br: number, slab: number, offset: number, len: number, bid: number, mask: number, idx: number): number {
    return bufring.bufRingAdd(this, br, slab, offset, len, bid, mask, idx);
  }
  bufRingAdvance(br: number, count: number): number {
    return bufring.bufRingAdvance(this, br, count);
  }
  cqeHasBuffer(c: Cqe): boolean {
    return completion.cqeHasBuffer(c);
  }
  cqeBufferId(c: Cqe): number {
    return completion.cqeBufferId(c);
  }

  // ---- slabs (slabCreate, slabDestroy are host calls; the rest is the sim backend's pinning)
  slabCreate(size: number): number {
    return slabs.slabCreate(this, size);
  }
  slabDestroy(slab: number): number {
    return slabs.slabDestroy(this, slab);
  }
  addSlab(buffer: ArrayBuffer, pinned: boolean): number {
    return slabs.addSlab(this, buffer, pinned);
  }
  slabInUse(slab: number): boolean {
    return slabs.slabInUse(this, slab);
  }
  isPinned(slab: number): boolean | undefined {
    return this.slabs.get(slab)?.pinned;
  }
  removeSlab(slab: number): void {
    this.slabs.delete(slab);
  }

  // ---- sockets
  socket(domain: number, type: number, protocol: number): number {
    return socket.socket(this, domain, type, protocol);
  }
  bind(fd: number, addr: SockAddrIn): number {
    return socket.bind(this, fd, addr);
  }
  bind6(fd: number, addr: SockAddrIn6): number {
    return socket.bind6(this, fd, addr);
  }
  listen(fd: number, backlog: number): number {
    return socket.listen(this, fd, backlog);
  }
  setsockopt(fd: number, level: number, optname: number, value: number): number {
    return sockopt.setsockopt(this, fd, level, optname, value);
  }
  close(fd: number): number {
    return ownership.close(this, fd);
  }
  fcntl(fd: number, cmd: number, arg: bigint): number {
    return sockopt.fcntl(this, fd, cmd, arg);
  }
  inetPton(af: number, src: string): SockAddr {
    return inetPton(af, src);
  }
  shutdown(fd: number, how: number): number {
    return socket.shutdown(this, fd, how);
  }
  getsockname(fd: number): SockAddr {
    return socket.getsockname(this, fd);
  }
  getpeername(fd: number): SockAddr {
    return socket.getpeername(this, fd);
  }

  // ---- fd hand-off between guests (Backend.releaseFd / claimFd)
  releaseFd(fd: number): number {
    return ownership.releaseFd(this, fd);
  }
  claimFd(fd: number): number {
    return ownership.claimFd(this, fd);
  }

  // ---- affinity
  pinCurrentThreadToCpu(cpu: number): number {
    return cpu >= 0 && cpu < this.opts.cpus ? 0 : -C.EINVAL;
  }
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
