// A scripted host for the reactor core's logic tests: it implements every
// import of `interface host` with just enough state to be checked (handles,
// slabs, fds, the SQ, the CQ, the provided-buffer ring), and lets a test
// inspect every SQE the core prepared and inject the exact CQEs it wants.
// It is not a kernel model: nothing completes unless the test says so.
import type { Backend, Host } from '../../bridge/backend.ts';
import { hostCalls } from '../../bridge/backend.ts';
import { loadReactor, loadReactorVariant } from '../../bridge/index.ts';
import type { Reactor, ReactorConfig } from '../../bridge/backend.ts';
import { tokenOf } from '../../bridge/backend.ts';

export const E = {
  EPERM: 1, EBADF: 9, EAGAIN: 11, ENOMEM: 12, EFAULT: 14, EBUSY: 16, EINVAL: 22, ENFILE: 23,
  EMFILE: 24, EPIPE: 32, ENOSYS: 38, ENOENT: 2, EALREADY: 114, ECANCELED: 125, ENOBUFS: 105,
  ECONNABORTED: 103, ECONNRESET: 104, EADDRINUSE: 98, EAFNOSUPPORT: 97, ENOTCONN: 107, EEXIST: 17,
} as const;

export const F_BUFFER = 1;
export const F_MORE = 2;
export const F_BUF_MORE = 16;
export const SETUP = { SQPOLL: 0x2, SQ_AFF: 0x4, COOP_TASKRUN: 0x100, SINGLE_ISSUER: 0x1000, DEFER_TASKRUN: 0x2000 } as const;
export const ENTER_GETEVENTS = 1;
/** GETEVENTS | SQ_WAKEUP | SQ_WAIT: what enter accepts (test/contract). */
const ENTER_FLAGS = 1 | 2 | 4;
/** MSG_DONTWAIT | MSG_WAITALL | MSG_MORE | MSG_NOSIGNAL: the send flags both backends allow. */
const SEND_FLAGS = 0x40 | 0x100 | 0x8000 | 0x4000;
/** MSG_DONTWAIT | MSG_WAITALL; IORING_ASYNC_CANCEL_ALL | _ANY; what an accept may ask of its fds. */
const RECV_FLAGS = 0x40 | 0x100, CANCEL_FLAGS = 0x1 | 0x4, SOCK_NONBLOCK = 0x800, SOCK_CLOEXEC = 0x80000;
const PBUF_RING_INC = 2;

function validTimespec(ts: { tvSec: bigint; tvNsec: bigint }): boolean {
  return ts.tvSec >= 0n && ts.tvNsec >= 0n && ts.tvNsec < 1_000_000_000n;
}

export type SqeOp = 'nop' | 'accept' | 'recv' | 'send' | 'sendmsg' | 'cancel';
export interface Range { slab: number; offset: number; len: number }
export interface Sqe {
  handle: number;
  op: SqeOp;
  fd: number;
  userData: bigint;
  msgFlags: number;
  bufGroup: number;
  ranges: Range[];
  target: bigint;
  /** submit() that sent it to the "kernel" (1-based), 0 while prepared. */
  submitNo: number;
}
export interface Cqe { userData: bigint; res: number; flags: number }
/** What a prep-* (and its queue-*) checks, and what it writes into the SQE. */
interface SqeKind { check: () => number; fill: Partial<Sqe> }
/** Every host call, in order: what "host calls per request" tests count. */
export interface Call { name: string; args: unknown[] }

export interface ScriptOptions {
  sqEntries?: number;
  /** create-ring-ex refuses (-EINVAL) any flags that intersect this mask. */
  refuseFlags?: number;
  /** create-ring-ex always fails with this errno (negative). */
  ringError?: number;
  /** setup-buf-ring fails with this (negative). */
  bufRingError?: number;
  /** First fd socket()/acceptFd() hand out (lowest free from here, as Linux does). */
  firstFd?: number;
  /** Port getsockname reports when bound to port 0. */
  ephemeralPort?: number;
}

interface BufRing { entries: number; bgid: number; flags: number; staged: Map<number, number>; avail: number[]; used: Map<number, number> }

/**
 * The buffer ring as the kernel sees it: `avail` is the FIFO of published
 * bids; in incremental mode `used[bid]` is how much of the head buffer the
 * "kernel" already filled.
 */
export class ScriptedKernel {
  readonly opts: Required<ScriptOptions>;
  readonly calls: Call[] = [];
  readonly sqes: Sqe[] = [];
  readonly cq: Cqe[] = [];
  /** CQEs that did not fit the CQ: a peek that finds the CQ empty flushes them (liburing). */
  readonly overflow: Cqe[] = [];
  readonly slabs = new Map<number, ArrayBuffer>();
  readonly fds = new Set<number>();
  readonly sockopts: Array<{ fd: number; level: number; name: number; value: number }> = [];
  readonly shutdowns: Array<{ fd: number; how: number }> = [];
  readonly closed: number[] = [];
  ringFlags = 0;
  ring = 0;
  bufRing: BufRing | undefined;
  bufSize = 0;
  submits = 0;
  private nextHandle = 1;
  private nextSlab = 1;
  private prepared: Sqe[] = [];
  private boundPort = new Map<number, number>();

  constructor(opts: ScriptOptions = {}) {
    this.opts = {
      sqEntries: opts.sqEntries ?? 64,
      refuseFlags: opts.refuseFlags ?? 0,
      ringError: opts.ringError ?? 0,
      bufRingError: opts.bufRingError ?? 0,
      firstFd: opts.firstFd ?? 3,
      ephemeralPort: opts.ephemeralPort ?? 40000,
    };
  }

  // ------------------------------------------------------------- test side

  /** A new fd as the kernel would hand it out (lowest free), or `fd` itself. */
  allocFd(fd?: number): number {
    if (fd !== undefined) {
      if (this.fds.has(fd)) throw new Error(`fd ${fd} is open`);
      this.fds.add(fd);
      return fd;
    }
    let f = this.opts.firstFd;
    while (this.fds.has(f)) f++;
    this.fds.add(f);
    return f;
  }

  push(userData: bigint, res: number, flags = 0): void {
    this.cq.push({ userData, res, flags });
  }

  /** Submitted SQEs matching `op` (and `fd`), oldest first. */
  submitted(op: SqeOp, fd?: number): Sqe[] {
    return this.sqes.filter((s) => s.submitNo > 0 && s.op === op && (fd === undefined || s.fd === fd));
  }

  /** The most recent submitted SQE of `op` on `fd`. */
  last(op: SqeOp, fd?: number): Sqe {
    const l = this.submitted(op, fd);
    const s = l[l.length - 1];
    if (!s) throw new Error(`no submitted ${op} SQE${fd === undefined ? '' : ` on fd ${fd}`}`);
    return s;
  }

  /** Calls of `name` since index `from` of `calls`. */
  count(name: string, from = 0): number {
    let n = 0;
    for (let i = from; i < this.calls.length; i++) if (this.calls[i]!.name === name) n++;
    return n;
  }

  /** The `listener`'s accept completes with a new connection fd. */
  accept(more = true, fd?: number): number {
    const s = this.last('accept');
    const f = this.allocFd(fd);
    this.push(s.userData, f, more ? F_MORE : 0);
    return f;
  }

  /**
   * The armed recv on `fd` receives `bytes` into the next provided buffer,
   * as the kernel would: the bytes are written into the recv slab and a CQE
   * names the buffer. Returns the buffer id used, or -1 when the ring was
   * empty (then the CQE is -ENOBUFS without F_MORE, as the kernel ends the
   * multishot recv).
   */
  recv(fd: number, bytes: Uint8Array, o: { more?: boolean; userData?: bigint } = {}): number {
    const ud = o.userData ?? this.last('recv', fd).userData;
    const br = this.bufRing;
    if (!br) throw new Error('no buffer ring');
    const bid = br.avail[0];
    if (bid === undefined) {
      this.push(ud, -E.ENOBUFS, 0);
      return -1;
    }
    const inc = (br.flags & 2) !== 0;
    const used = inc ? br.used.get(bid) ?? 0 : 0;
    if (bytes.length > this.bufSize - used) throw new Error('recv larger than the buffer space left');
    new Uint8Array(this.slabOf()).set(bytes, bid * this.bufSize + used);
    let flags = F_BUFFER | (bid << 16) | ((o.more ?? true) ? F_MORE : 0);
    if (inc && used + bytes.length < this.bufSize) {
      br.used.set(bid, used + bytes.length);
      flags |= F_BUF_MORE;
    } else {
      br.avail.shift();
      br.used.delete(bid);
    }
    this.push(ud, bytes.length, flags);
    return bid;
  }

  /** Ends the recv on `fd` (a CQE without F_MORE): res 0 = EOF, < 0 = error. */
  recvEnd(fd: number, res: number): void {
    this.push(this.last('recv', fd).userData, res, 0);
  }

  /** Completes the last send/sendmsg on `fd` with `res`. */
  sendDone(fd: number, res: number): Sqe {
    const s = this.lastSend(fd);
    this.push(s.userData, res, 0);
    return s;
  }

  lastSend(fd: number): Sqe {
    const l = this.sqes.filter((s) => s.submitNo > 0 && (s.op === 'send' || s.op === 'sendmsg') && s.fd === fd);
    const s = l[l.length - 1];
    if (!s) throw new Error(`no send on fd ${fd}`);
    return s;
  }

  /** The bytes a send SQE names, gathered. */
  bytesOf(s: Sqe): Uint8Array {
    const total = s.ranges.reduce((a, r) => a + r.len, 0);
    const out = new Uint8Array(total);
    let o = 0;
    for (const r of s.ranges) {
      out.set(new Uint8Array(this.slabs.get(r.slab)!, r.offset, r.len), o);
      o += r.len;
    }
    return out;
  }

  /** The recv slab (the only slab the core creates). */
  slabOf(): ArrayBuffer {
    const first = [...this.slabs.values()][0];
    if (!first) throw new Error('no slab');
    return first;
  }

  /** Bids the kernel could use now (published, not consumed). */
  available(): number[] {
    return [...(this.bufRing?.avail ?? [])];
  }

  /** An app-side slab (what pinSlab lends natively). */
  addSlab(bytes: Uint8Array): number {
    const h = this.nextSlab++;
    const ab = new ArrayBuffer(bytes.length);
    new Uint8Array(ab).set(bytes);
    this.slabs.set(h, ab);
    return h;
  }

  // ------------------------------------------------------------- host side

  private log(name: string, args: unknown[]): void {
    this.calls.push({ name, args });
  }

  private sqe(h: number): Sqe | undefined {
    return this.prepared.find((s) => s.handle === h);
  }

  /** A range check as both backends do it: an unknown slab is -EBADF, a range outside it -EFAULT. */
  private slabRange(slab: number, off: number, len: number): number {
    const s = this.slabs.get(slab);
    if (s === undefined) return -E.EBADF;
    return off + len <= s.byteLength ? 0 : -E.EFAULT;
  }

  private inSlab(slab: number, off: number, len: number): boolean {
    const s = this.slabs.get(slab);
    return s !== undefined && off + len <= s.byteLength;
  }

  // A request kind as a prep-* and its queue-* share it: every check (0 or
  // -errno, nothing changed), then what it writes into the SQE.
  private acceptOp(lfd: number, flags: number): SqeKind {
    const check = (): number => {
      if (!this.fds.has(lfd)) return -E.EBADF;
      return (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) !== 0 ? -E.EINVAL : 0;
    };
    return { check, fill: { op: 'accept', fd: lfd, msgFlags: flags } };
  }

  private recvOp(fd: number, group: number, flags: number): SqeKind {
    const check = (): number => {
      if (!this.fds.has(fd)) return -E.EBADF;
      return group > 0xffff || (flags & ~RECV_FLAGS) !== 0 ? -E.EINVAL : 0;
    };
    return { check, fill: { op: 'recv', fd, bufGroup: group, msgFlags: flags } };
  }

  private sendOp(op: 'send' | 'sendmsg', fd: number, iov: Range[], flags: number): SqeKind {
    const check = (): number => {
      if (!this.fds.has(fd)) return -E.EBADF;
      if (iov.length > 64) return -E.EINVAL;
      if ((flags & ~SEND_FLAGS) !== 0) return -E.EINVAL;
      for (const r of iov) {
        const e = this.slabRange(r.slab, r.offset, r.len);
        if (e < 0) return e;
      }
      return 0;
    };
    return { check, fill: { op, fd, msgFlags: flags, ranges: iov.map((r) => ({ slab: r.slab, offset: r.offset, len: r.len })) } };
  }

  private cancelOp(target: bigint, flags: number): SqeKind {
    return { check: () => ((flags & ~CANCEL_FLAGS) !== 0 ? -E.EINVAL : 0), fill: { op: 'cancel', target, msgFlags: flags } };
  }

  private prep(h: number, kind: SqeKind): number {
    const s = this.sqe(h);
    if (!s) return -E.EBADF;
    const e = kind.check();
    if (e < 0) return e;
    Object.assign(s, kind.fill);
    return 0;
  }

  /** A fused queue-* call: the ring, the prep's checks, then room in the SQ; an error queues nothing. */
  private queue(ring: number, kind: SqeKind, userData: bigint): number {
    if (ring !== this.ring) return -E.EBADF;
    const e = kind.check();
    if (e < 0) return e;
    if (this.prepared.length >= this.opts.sqEntries) return -E.EBUSY;
    const s = this.newSqe();
    Object.assign(s, kind.fill);
    s.userData = userData;
    return 0;
  }

  private newSqe(): Sqe {
    const s: Sqe = { handle: this.nextHandle++, op: 'nop', fd: -1, userData: 0n, msgFlags: 0, bufGroup: -1, ranges: [], target: 0n, submitNo: 0 };
    this.prepared.push(s);
    this.sqes.push(s);
    return s;
  }

  readonly host: Host = {
    createRing: (entries) => this.host.createRingEx(entries, 0, -1, 0),
    createRingEx: (entries, flags, cpu, idle) => {
      this.log('createRingEx', [entries, flags, cpu, idle]);
      if (this.opts.ringError) return this.opts.ringError;
      if (flags & this.opts.refuseFlags) return -E.EINVAL;
      if ((flags & SETUP.DEFER_TASKRUN) && !(flags & SETUP.SINGLE_ISSUER)) return -E.EINVAL;
      this.ringFlags = flags;
      this.ring = 7;
      return this.ring;
    },
    destroyRing: (ring) => {
      this.log('destroyRing', [ring]);
      if (ring !== this.ring) return -E.EBADF;
      this.ring = 0;
      this.bufRing = undefined;
      this.prepared = []; // a destroyed ring's SQEs go with it
      return 0;
    },
    getRingFlags: (ring) => (ring === this.ring ? BigInt(this.ringFlags) : BigInt(-E.EBADF)),
    getSqe: (ring) => {
      this.log('getSqe', [ring]);
      if (ring !== this.ring) return -E.EBADF;
      if (this.prepared.length >= this.opts.sqEntries) return -E.EBUSY;
      return this.newSqe().handle;
    },
    submit: (ring) => {
      this.log('submit', [ring]);
      if (ring !== this.ring) return -E.EBADF;
      this.submits++;
      for (const s of this.prepared) s.submitNo = this.submits;
      const n = this.prepared.length;
      this.prepared = [];
      return n;
    },
    submitAndWait: (ring) => this.host.submit(ring),
    submitAndWaitTimeout: (ring, _waitNr, ts) => {
      if (ring === this.ring && !validTimespec(ts)) return -E.EINVAL;
      return this.host.submit(ring);
    },
    enter: (ring, toSubmit, minComplete, flags, ts) => {
      this.log('enter', [ring, toSubmit, minComplete, flags, ts]);
      if (ring !== this.ring) return -E.EBADF;
      if ((flags & ~ENTER_FLAGS) !== 0) return -E.EINVAL;
      if (ts !== undefined && !validTimespec(ts)) return -E.EINVAL;
      if (toSubmit === 0) return 0;
      // Like io_uring_enter: the prepared SQEs (up to to_submit) go to the kernel.
      this.submits++;
      const n = Math.min(toSubmit, this.prepared.length);
      for (const s of this.prepared.slice(0, n)) s.submitNo = this.submits;
      this.prepared = this.prepared.slice(n);
      return n;
    },
    waitCqe: () => ({ ret: -E.EAGAIN, cqe: { userData: 0n, res: 0, flags: 0 } }),
    waitCqeTimeout: () => ({ ret: -62, cqe: { userData: 0n, res: 0, flags: 0 } }),
    waitCqes: () => ({ ret: -62, cqe: { userData: 0n, res: 0, flags: 0 } }),
    peekBatchCqe: (ring, max) => {
      this.log('peekBatchCqe', [ring, max]);
      if (ring !== this.ring) return new Uint8Array(0);
      if (this.cq.length === 0 && this.overflow.length > 0) this.cq.push(...this.overflow.splice(0));
      const n = Math.min(max, this.cq.length);
      const out = new Uint8Array(n * 16);
      const dv = new DataView(out.buffer);
      for (let i = 0; i < n; i++) {
        const c = this.cq[i]!;
        dv.setBigUint64(i * 16, c.userData, true);
        dv.setInt32(i * 16 + 8, c.res, true);
        dv.setUint32(i * 16 + 12, c.flags >>> 0, true);
      }
      return out;
    },
    cqeSeen: (ring) => this.host.cqAdvance(ring, 1),
    cqAdvance: (ring, count) => {
      this.log('cqAdvance', [ring, count]);
      if (ring !== this.ring) return -E.EBADF;
      if (count > this.cq.length) return -E.EINVAL;
      this.cq.splice(0, count);
      return 0;
    },
    cqReady: () => this.cq.length,
    sqReady: () => this.prepared.length,
    prepMultishotAccept: (h, lfd, flags) => {
      this.log('prepMultishotAccept', [h, lfd, flags]);
      return this.prep(h, this.acceptOp(lfd, flags));
    },
    prepRecvMultishotSelect: (h, fd, group, flags) => {
      this.log('prepRecvMultishotSelect', [h, fd, group, flags]);
      return this.prep(h, this.recvOp(fd, group, flags));
    },
    prepRecvSelect: (h, fd, group, flags) => {
      this.log('prepRecvSelect', [h, fd, group, flags]);
      return this.prep(h, this.recvOp(fd, group, flags));
    },
    prepSend: (h, fd, slab, offset, len, flags) => {
      this.log('prepSend', [h, fd, slab, offset, len, flags]);
      return this.prep(h, this.sendOp('send', fd, [{ slab, offset, len }], flags));
    },
    prepSendmsg: (h, fd, iov, flags) => {
      this.log('prepSendmsg', [h, fd, iov, flags]);
      return this.prep(h, this.sendOp('sendmsg', fd, iov, flags));
    },
    prepCancel64: (h, target, flags) => {
      this.log('prepCancel64', [h, target, flags]);
      return this.prep(h, this.cancelOp(target, flags));
    },
    sqeSetData64: (h, data) => {
      this.log('sqeSetData64', [h, data]);
      const s = this.sqe(h);
      if (!s) return -E.EBADF;
      s.userData = data;
      return 0;
    },
    cqeGetData64: (c) => c.userData,
    queueMultishotAccept: (ring, lfd, flags, hi, lo) => {
      const userData = tokenOf(hi, lo);
      this.log('queueMultishotAccept', [ring, lfd, flags, userData]);
      return this.queue(ring, this.acceptOp(lfd, flags), userData);
    },
    queueRecvMultishotSelect: (ring, fd, group, flags, hi, lo) => {
      const userData = tokenOf(hi, lo);
      this.log('queueRecvMultishotSelect', [ring, fd, group, flags, userData]);
      return this.queue(ring, this.recvOp(fd, group, flags), userData);
    },
    queueRecvSelect: (ring, fd, group, flags, hi, lo) => {
      const userData = tokenOf(hi, lo);
      this.log('queueRecvSelect', [ring, fd, group, flags, userData]);
      return this.queue(ring, this.recvOp(fd, group, flags), userData);
    },
    queueSend: (ring, fd, slab, offset, len, flags, hi, lo) => {
      const userData = tokenOf(hi, lo);
      this.log('queueSend', [ring, fd, slab, offset, len, flags, userData]);
      return this.queue(ring, this.sendOp('send', fd, [{ slab, offset, len }], flags), userData);
    },
    queueSendmsg: (ring, fd, iov, flags, hi, lo) => {
      const userData = tokenOf(hi, lo);
      this.log('queueSendmsg', [ring, fd, iov, flags, userData]);
      return this.queue(ring, this.sendOp('sendmsg', fd, iov, flags), userData);
    },
    queueCancel64: (ring, target, flags, hi, lo) => {
      const userData = tokenOf(hi, lo);
      this.log('queueCancel64', [ring, target, flags, userData]);
      return this.queue(ring, this.cancelOp(target, flags), userData);
    },
    setupBufRing: (ring, entries, bgid, flags) => {
      this.log('setupBufRing', [ring, entries, bgid, flags]);
      if (ring !== this.ring) return -E.EBADF;
      if (this.opts.bufRingError) return this.opts.bufRingError;
      if (entries === 0 || (entries & (entries - 1)) !== 0 || entries > 32768) return -E.EINVAL;
      if (bgid > 0xffff || (flags & ~PBUF_RING_INC) !== 0) return -E.EINVAL;
      this.bufRing = { entries, bgid, flags, staged: new Map(), avail: [], used: new Map() };
      this.bufSize = this.slabOf().byteLength / entries;
      return 1;
    },
    freeBufRing: (ring, br) => {
      this.log('freeBufRing', [ring, br]);
      this.bufRing = undefined;
      return 0;
    },
    bufRingAdd: (br, slab, offset, len, bid, mask, idx) => {
      this.log('bufRingAdd', [br, slab, offset, len, bid, mask, idx]);
      const r = this.bufRing;
      if (!r || br !== 1) return -E.EBADF;
      if (bid >= r.entries || mask !== r.entries - 1) return -E.EINVAL;
      if (!this.inSlab(slab, offset, len)) return -E.EFAULT;
      if (r.avail.includes(bid) || [...r.staged.values()].includes(bid)) throw new Error(`bid ${bid} added twice`);
      r.staged.set(idx, bid);
      return 0;
    },
    bufRingAdvance: (br, count) => {
      this.log('bufRingAdvance', [br, count]);
      const r = this.bufRing;
      if (!r || br !== 1) return -E.EBADF;
      for (let i = 0; i < count; i++) {
        const bid = r.staged.get(i);
        if (bid === undefined) throw new Error(`advance over an unset ring entry ${i}`);
        r.avail.push(bid);
      }
      r.staged.clear();
      return 0;
    },
    cqeHasBuffer: (c) => (c.flags & F_BUFFER) !== 0,
    cqeBufferId: (c) => ((c.flags & F_BUFFER) !== 0 ? c.flags >>> 16 : -E.EINVAL),
    slabCreate: (size) => {
      this.log('slabCreate', [size]);
      if (size === 0) return -E.EINVAL;
      const h = this.nextSlab++;
      this.slabs.set(h, new ArrayBuffer(size));
      return h;
    },
    slabDestroy: (slab) => {
      this.log('slabDestroy', [slab]);
      return this.slabs.delete(slab) ? 0 : -E.EBADF;
    },
    socket: (domain, type, protocol) => {
      this.log('socket', [domain, type, protocol]);
      // docs/SECURITY.md: TCP over IPv4/IPv6 only, as both backends allow
      if (domain !== 2 && domain !== 10) return -E.EAFNOSUPPORT;
      if ((type & ~(0x800 | 0x80000 | 0xf)) !== 0 || (type & 0xf) !== 1) return -E.EINVAL;
      if (protocol !== 0 && protocol !== 6) return -93; // EPROTONOSUPPORT
      return this.allocFd();
    },
    bind: (fd, addr) => {
      this.log('bind', [fd, addr]);
      if (!this.fds.has(fd)) return -E.EBADF;
      this.boundPort.set(fd, addr.port || this.opts.ephemeralPort);
      return 0;
    },
    bind6: (fd, addr) => {
      this.log('bind6', [fd, addr]);
      if (!this.fds.has(fd)) return -E.EBADF;
      this.boundPort.set(fd, addr.port || this.opts.ephemeralPort);
      return 0;
    },
    listen: (fd, backlog) => {
      this.log('listen', [fd, backlog]);
      return this.fds.has(fd) ? 0 : -E.EBADF;
    },
    setsockopt: (fd, level, name, value) => {
      this.log('setsockopt', [fd, level, name, value]);
      if (!this.fds.has(fd)) return -E.EBADF;
      this.sockopts.push({ fd, level, name, value });
      return 0;
    },
    close: (fd) => {
      this.log('close', [fd]);
      if (!this.fds.delete(fd)) return -E.EBADF;
      this.closed.push(fd);
      return 0;
    },
    fcntl: (fd, cmd, arg) => {
      this.log('fcntl', [fd, cmd, arg]);
      if (!this.fds.has(fd)) return -E.EBADF;
      if (arg < -0x80000000n || arg > 0x7fffffffn) return -E.EINVAL;
      const a = Number(arg);
      switch (cmd) {
        case 1: // F_GETFD
        case 3: // F_GETFL
          return 0;
        case 2: // F_SETFD: close-on-exec stays
          if ((a & ~1) !== 0) return -E.EINVAL;
          return (a & 1) === 0 ? -E.EPERM : 0;
        case 4: // F_SETFL: O_NONBLOCK (and the access mode, ignored)
          return (a & ~(0x800 | 3)) !== 0 ? -E.EINVAL : 0;
        default:
          return -E.EINVAL;
      }
    },
    inetPton: (af, src) => {
      this.log('inetPton', [af, src]);
      const none = { ret: 0, family: af, port: 0, hi: 0n, lo: 0n };
      if (af === 2) {
        const p = src.split('.').map(Number);
        if (p.length !== 4 || p.some((x) => !(x >= 0 && x <= 255))) return none;
        return { ret: 1, family: 2, port: 0, hi: 0n, lo: BigInt(((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0) };
      }
      if (af === 10) {
        if (src === '::1') return { ret: 1, family: 10, port: 0, hi: 0n, lo: 1n };
        if (src === '::') return { ret: 1, family: 10, port: 0, hi: 0n, lo: 0n };
        return none;
      }
      return { ...none, ret: -E.EAFNOSUPPORT };
    },
    shutdown: (fd, how) => {
      this.log('shutdown', [fd, how]);
      if (!this.fds.has(fd)) return -E.EBADF;
      this.shutdowns.push({ fd, how });
      return 0;
    },
    getsockname: (fd) => ({ ret: this.fds.has(fd) ? 0 : -E.EBADF, family: 2, port: this.boundPort.get(fd) ?? 0, hi: 0n, lo: 0n }),
    getpeername: (fd) => ({ ret: this.fds.has(fd) ? 0 : -E.EBADF, family: 2, port: 1234, hi: 0n, lo: 0n }),
    pinCurrentThreadToCpu: () => 0,
  };

  readonly backend: Backend = {
    kind: 'sim',
    host: this.host,
    ...hostCalls(this.host),
    slabBuffer: (slab) => {
      const s = this.slabs.get(slab);
      if (!s) throw new Error(`EBADF slab ${slab}`);
      return s;
    },
    watch: () => () => {},
    quiesce: () => {},
    pinSlab: (buffer) => {
      const h = this.nextSlab++;
      this.slabs.set(h, buffer);
      return h;
    },
    unpinSlab: (slab) => {
      this.slabs.delete(slab);
    },
    ownedFds: () => this.fds.size,
    releaseFd: () => { throw new Error('scripted host: no fd hand-off'); },
    claimFd: () => { throw new Error('scripted host: no fd hand-off'); },
  };
}

// ----------------------------------------------------------------- events

export const EV = { OPEN: 1, DATA: 2, EOF: 3, SENT: 4, CLOSED: 5, ERROR: 6 } as const;
export interface Ev { kind: number; conn: number; w1: number; w2: number; w3: number }

export function decode(words: Uint32Array): Ev[] {
  if (words.length % 4 !== 0) throw new Error(`event batch of ${words.length} words`);
  const out: Ev[] = [];
  for (let i = 0; i < words.length; i += 4) {
    const w0 = words[i]!;
    out.push({ kind: w0 & 0xff, conn: w0 >>> 8, w1: words[i + 1]!, w2: words[i + 2]!, w3: words[i + 3]! });
  }
  return out;
}

// ----------------------------------------------------------------- tokens (documented layout)

export const KIND = { ACCEPT: 1, RECV: 2, SEND: 3, CANCEL: 4 } as const;
export function token(ud: bigint): { kind: number; gen: number; fd: number } {
  return { kind: Number(ud >> 56n), gen: Number((ud >> 32n) & 0xffffffn), fd: Number(ud & 0xffffffffn) };
}
export function pack(kind: number, gen: number, fd: number): bigint {
  return (BigInt(kind) << 56n) | (BigInt(gen) << 32n) | BigInt(fd >>> 0);
}

// ----------------------------------------------------------------- harness

export const baseConfig: ReactorConfig = {
  ringEntries: 64,
  ringFlags: 0,
  sqThreadCpu: -1,
  sqThreadIdleMs: 0,
  recvBufferSize: 64,
  bufferRingEntries: 8,
  cqeBatch: 32,
  maxConnections: 0,
  incremental: false,
  bufGroup: 1,
  recvBudget: 0, recvReserve: 0, idleTimeoutMs: 0, endTimeoutMs: 0, maxFd: 0x400001, sendRanges: 65536,
};

/** A reactor core over a scripted kernel, with a listener already armed. */
export class Harness {
  readonly k: ScriptedKernel;
  readonly r: Reactor;
  port = 0;
  lfd = -1;
  /** Every event seen, in order. */
  readonly events: Ev[] = [];

  constructor(cfg: Partial<ReactorConfig> = {}, opts: ScriptOptions = {}) {
    this.k = new ScriptedKernel(opts);
    this.r = loadReactor(this.k.backend);
    const rc = this.r.create({ ...baseConfig, ...cfg });
    if (rc !== 0) throw new Error(`create: ${rc}`);
  }

  static async broken(cfg: Partial<ReactorConfig> = {}, opts: ScriptOptions = {}): Promise<Harness> {
    const k = new ScriptedKernel(opts);
    const r = await loadReactorVariant(k.backend, 'broken');
    const h = Object.create(Harness.prototype) as Harness;
    Object.assign(h, { k, r, port: 0, lfd: -1, events: [] });
    const rc = r.create({ ...baseConfig, ...cfg });
    if (rc !== 0) throw new Error(`create: ${rc}`);
    return h;
  }

  listen(host = '127.0.0.1', port = 0, family = 4): number {
    this.port = this.r.listen(host, port, family, 128);
    if (this.port < 0) throw new Error(`listen: ${this.port}`);
    this.lfd = [...this.k.fds].pop()!;
    this.tick();
    return this.port;
  }

  /** One tick: returns its events (also appended to `events`). */
  tick(): Ev[] {
    const ev = decode(this.r.tick());
    this.events.push(...ev);
    return ev;
  }

  /** Accepts a connection: returns its fd and conn slot. */
  connect(fd?: number): { fd: number; conn: number } {
    const f = this.k.accept(true, fd);
    const ev = this.tick();
    const open = ev.find((e) => e.kind === EV.OPEN && e.w1 === f);
    if (!open) throw new Error(`no open event for fd ${f}: ${JSON.stringify(ev)}`);
    this.r.submit(); // arms its recv
    return { fd: f, conn: open.conn };
  }

  stats() {
    return this.r.stats();
  }

  /** The invariants every test ends with: buffers home, table empty, fds back. */
  checkClean(baselineFds = 0): void {
    this.r.submit();
    const s = this.r.stats();
    const entries = this.k.bufRing!.entries;
    const published = Math.min(s.buffersWarm, entries - s.recvReserve);
    if (s.buffersKernel !== published || s.buffersApp !== 0 || s.buffersKernel + s.buffersReturning !== entries)
      throw new Error(`buffers not home: ${JSON.stringify({ k: s.buffersKernel, a: s.buffersApp, r: s.buffersReturning, warm: s.buffersWarm })}`);
    if (this.k.available().length !== s.buffersKernel)
      throw new Error(`kernel ring holds ${this.k.available().length}, the core counts ${s.buffersKernel}`);
    if (s.connectionsOpen !== 0) throw new Error(`${s.connectionsOpen} connections open`);
    if (this.k.fds.size !== baselineFds) throw new Error(`fds open: ${[...this.k.fds].join(',')}`);
  }
}

export function bytes(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed * 2654435761 >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}
