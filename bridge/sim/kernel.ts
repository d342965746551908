// The simulated kernel: fd table, TCP sockets, io_uring instances with their
// in-flight requests, provided-buffer rings and host slabs. Its public methods
// are exactly the WIT host imports (jco's camelCase names), with the same
// validation as the native backend; host.ts binds and traces them.
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
import type { Host } from '../backend.ts';
import * as C from './consts.ts';
import { Endpoint, LOOPBACK4, Net, V4MAPPED_LO_PREFIX } from './net.ts';
import type { Addr, Listener } from './net.ts';
import type { World } from './world.ts';

type Timespec = Parameters<Host['waitCqeTimeout']>[1];
type CqeResult = ReturnType<Host['waitCqe']>;
type Cqe = CqeResult['cqe'];
type SockAddrIn = Parameters<Host['bind']>[1];
type SockAddrIn6 = Parameters<Host['bind6']>[1];
type SockAddr = ReturnType<Host['getsockname']>;
type SlabRange = Parameters<Host['prepSendmsg']>[2][number];
/** A slab range resolved at prep time: the kernel holds the memory, not the handle. */
interface IoVec {
  slab: number;
  u8: Uint8Array;
  offset: number;
  len: number;
}

export interface KernelOptions {
  /** CQ ring size; default 2 x SQ entries (as io_uring without IORING_SETUP_CQSIZE). */
  cqEntries?: number;
  /** IORING_SETUP_* flags this "kernel" refuses with -EINVAL (to exercise fallbacks). */
  refuseSetupFlags?: number;
  /** RLIMIT_NOFILE: fds >= this are -EMFILE. */
  fdLimit?: number;
  /** CPUs for pin-current-thread-to-cpu and SQ_AFF. */
  cpus?: number;
  /** Largest slab, bytes. */
  maxSlabBytes?: number;
}

// ------------------------------------------------------------------ files

abstract class File {
  /** fd-table references + in-flight request references. */
  refs = 0;
  abstract readonly kind: 'std' | 'ring' | 'eventfd' | 'sock';
  /** The last reference went away. */
  abstract released(): void;
}

class PlainFile extends File {
  constructor(readonly kind: 'std' | 'ring' | 'eventfd') {
    super();
  }
  released(): void {}
}

export type SockState = 'fresh' | 'bound' | 'listening' | 'connected' | 'closed';

/** A guest TCP socket (listening or connected). */
export class Sock extends File implements Listener {
  readonly kind = 'sock';
  state: SockState = 'fresh';
  local: Addr;
  v6only = false;
  reuseAddr = false;
  reusePort = false;
  nodelay = false;
  keepalive = false;
  rcvbuf = 131072;
  sndbuf = 16384;
  fdFlags = 0;
  flFlags = C.O_RDWR;
  backlog = 0;
  readonly acceptQ: Endpoint[] = [];
  ep: Endpoint | undefined;
  /** Requests armed on this socket, woken when its state changes. */
  readonly waiters = new Set<Op>();
  /** close(fd) calls the guest made on fds naming this socket. */
  closeCount = 0;
  /** Set by tests/runners (e.g. "the app saw an open event for this socket"). */
  tag: Record<string, unknown> = {};
  /** fd the socket was given when created or accepted. */
  fd = -1;

  constructor(readonly kernel: SimKernel, readonly domain: number) {
    super();
    this.local = { family: domain, port: 0, hi: 0n, lo: 0n };
  }

  queueFull(): boolean {
    return this.acceptQ.length > this.backlog;
  }

  enqueue(ep: Endpoint): void {
    this.acceptQ.push(ep);
    ep.owner = this;
    this.kernel.wake(this);
  }

  /** Stops listening: connections still queued are reset. */
  stopListening(): void {
    if (this.state !== 'listening') return;
    this.kernel.net.removeListener(this.local.port, this);
    for (const ep of this.acceptQ.splice(0)) ep.abort();
    this.state = 'closed';
    this.kernel.wake(this);
  }

  released(): void {
    if (this.state === 'listening') this.stopListening();
    if (this.ep !== undefined) this.ep.release();
    this.state = 'closed';
    this.kernel.liveSockets.delete(this);
  }
}

// ------------------------------------------------------------------ io_uring

type Opcode = 'nop' | 'accept' | 'recv' | 'send' | 'cancel';

/** Turns a prepared SQE into a NOP that posts no CQE. */
function silence(q: Sqe): void {
  const ud = q.userData;
  q.reset();
  q.silent = true;
  q.userData = ud;
}

class Sqe {
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

export type OpState = 'armed' | 'completing' | 'done';

/** An in-flight request. */
export class Op {
  state: OpState = 'armed';
  kickPending = false;
  /** send: bytes transmitted so far. */
  done = 0;
  total = 0;
  /** prep-recv-select: ends after its first CQE. */
  oneshot = false;
  constructor(
    readonly id: number,
    readonly ring: Ring,
    readonly opcode: Opcode,
    readonly userData: bigint,
    readonly sock: Sock | undefined,
    readonly flags: number,
    readonly bufGroup: number,
    readonly iov: IoVec[],
    readonly target: bigint,
  ) {
    for (const r of iov) this.total += r.len;
  }
}

interface PostedCqe {
  ud: bigint;
  res: number;
  flags: number;
  /** An accept's new fd: the guest owns it once it has read this CQE. */
  acceptFd?: number;
  read?: boolean;
  /** Its request's in-flight record was dropped (when the guest first read or consumed it). */
  settled?: boolean;
}

/** What a user_data value names in flight on one ring (native: zl_track.cc's OpEntry). */
interface UdRecord {
  total: number;
  accepts: number;
}

interface BufSlot {
  slab: number;
  offset: number;
  len: number;
  bid: number;
}

export class BufRing {
  /** The shared ring memory: what buf-ring-add wrote. */
  readonly slots: (BufSlot | undefined)[];
  /** Published tail (guest) and consumed head (kernel), both u16 as in the ABI. */
  tail = 0;
  head = 0;
  readonly mask: number;
  /** Position (tail + idx) each slot was last written for: advance publishes only fresh slots. */
  readonly written: number[];
  /** Slabs this ring may hand to the kernel: they cannot be destroyed or unpinned. */
  readonly slabRefs = new Set<number>();
  constructor(
    readonly handle: number,
    readonly ring: Ring,
    readonly bgid: number,
    readonly entries: number,
    readonly inc: boolean,
  ) {
    this.slots = new Array<BufSlot | undefined>(entries).fill(undefined);
    this.written = new Array<number>(entries).fill(-1);
    this.mask = entries - 1;
  }
  get avail(): number {
    return (this.tail - this.head) & 0xffff;
  }
  /** Bids currently published and not yet consumed by the kernel. */
  availableBids(): number[] {
    const out: number[] = [];
    const n = Math.min(this.avail, this.entries);
    for (let i = 0; i < n; i++) {
      const s = this.slots[(this.head + i) & this.mask];
      out.push(s === undefined ? -1 : s.bid);
    }
    return out;
  }
}

export class Ring {
  readonly sq: Sqe[] = [];
  private cq: PostedCqe[] = [];
  private cqHead = 0;
  readonly overflow: PostedCqe[] = [];
  readonly taskWork: (() => void)[] = [];
  readonly ops = new Set<Op>();
  /** Per user_data: operations flushed and whose final CQE the guest has not read or consumed yet. */
  readonly udRecords = new Map<bigint, UdRecord>();
  readonly bufRings = new Map<number, BufRing>();
  readonly watchers = new Set<() => void>();
  wakeScheduled = false;
  /** CQ pressure fault: effective CQ capacity while set. */
  pressureCap: number | undefined;
  /** Every CQE ever posted (to the ring or the backlog). */
  posted = 0;
  overflowed = 0;
  multishotEndedByFullCq = 0;
  readonly defer: boolean;

  constructor(
    readonly kernel: SimKernel,
    readonly handle: number,
    readonly fd: number,
    readonly evfd: number,
    readonly sqEntries: number,
    readonly cqEntries: number,
    readonly flags: number,
  ) {
    this.defer = (flags & C.IORING_SETUP_DEFER_TASKRUN) !== 0;
  }

  get cqCount(): number {
    return this.cq.length - this.cqHead;
  }
  cqCap(): number {
    return this.pressureCap === undefined ? this.cqEntries : Math.min(this.cqEntries, this.pressureCap);
  }
  private roomInCq(): boolean {
    return this.overflow.length === 0 && this.cqCount < this.cqCap();
  }
  cqAt(i: number): PostedCqe {
    return this.cq[this.cqHead + i]!;
  }
  consume(n: number): void {
    this.cqHead += n;
    if (this.cqHead > 256 && this.cqHead * 2 > this.cq.length) {
      this.cq = this.cq.slice(this.cqHead);
      this.cqHead = 0;
    }
  }

  /** Posts a CQE that ends its request: into the CQ, or the overflow backlog. */
  postFinal(ud: bigint, res: number, flags: number, acceptFd?: number): void {
    const c: PostedCqe = acceptFd === undefined ? { ud, res, flags } : { ud, res, flags, acceptFd };
    this.posted++;
    if (this.roomInCq()) this.cq.push(c);
    else {
      this.overflow.push(c);
      this.overflowed++;
    }
    this.noteCqe(c);
    this.signal();
  }

  /** Posts a multishot CQE with F_MORE; false when the CQ has no room (the request must end). */
  postMore(ud: bigint, res: number, flags: number, acceptFd?: number): boolean {
    if (!this.roomInCq()) {
      this.multishotEndedByFullCq++;
      return false;
    }
    const c: PostedCqe = { ud, res, flags: flags | C.IORING_CQE_F_MORE };
    if (acceptFd !== undefined) c.acceptFd = acceptFd;
    this.posted++;
    this.cq.push(c);
    this.noteCqe(c);
    this.signal();
    return true;
  }

  private noteCqe(c: PostedCqe): void {
    const w = this.kernel.world;
    if (w.tracing) w.trace.note(`ring ${this.handle} cqe ud=0x${c.ud.toString(16)} res=${c.res} flags=0x${c.flags.toString(16)}${this.overflow.length > 0 ? ' (overflow backlog ' + this.overflow.length + ')' : ''}`);
  }

  flushOverflow(): void {
    let moved = 0;
    while (this.overflow.length > 0 && this.cqCount < this.cqCap()) {
      this.cq.push(this.overflow.shift()!);
      moved++;
    }
    // the kernel signals the eventfd when a flush moves the CQ tail
    if (moved > 0) this.signal();
  }

  /** What a GETEVENTS enter does before waiting: run deferred task work, flush the backlog. */
  getEvents(): void {
    for (let guard = 0; this.taskWork.length > 0 && guard < 100000; guard++) this.taskWork.shift()!();
    this.flushOverflow();
  }

  /** The ring's eventfd: wake watchers once (an app event) until they run. */
  signal(): void {
    if (this.watchers.size === 0 || this.wakeScheduled) return;
    this.wakeScheduled = true;
    const w = this.kernel.world;
    w.appAfter(w.delay(w.faults.wakeDelay), () => {
      this.wakeScheduled = false;
      if (!this.kernel.rings.has(this.handle)) return;
      for (const cb of [...this.watchers]) cb();
    });
  }
}

interface Slab {
  readonly handle: number;
  readonly buffer: ArrayBuffer;
  readonly u8: Uint8Array;
  readonly pinned: boolean;
}

const ZERO_CQE: Cqe = Object.freeze({ userData: 0n, res: 0, flags: 0 });

function tsNanos(ts: Timespec): number {
  if (ts.tvSec < 0n || ts.tvNsec < 0n || ts.tvNsec >= 1_000_000_000n) return -1;
  return Number(ts.tvSec) * 1e9 + Number(ts.tvNsec);
}

function isPow2(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

function roundPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

// ------------------------------------------------------------------ the kernel

export class SimKernel {
  readonly net: Net;
  readonly opts: Required<KernelOptions>;
  /** fd table: index = fd. */
  private readonly fds: (File | undefined)[] = [];
  private readonly owned = new Set<number>();
  /** Released by releaseFd, not yet claimed: no guest's. */
  private readonly transit = new Set<number>();
  readonly rings = new Map<number, Ring>();
  readonly bufRings = new Map<number, BufRing>();
  readonly slabs = new Map<number, Slab>();
  private readonly sqes = new Map<number, Sqe>();
  readonly liveSockets = new Set<Sock>();
  /** Every socket accept ever produced (for closed-exactly-once checks). */
  readonly acceptedSocks: Sock[] = [];
  private nextSqe = 1;
  private nextOp = 1;
  private nextEphemeral: number;
  /** Counters the invariant checks read. */
  readonly counters = { badFdCloses: 0, accepted: 0, enobufs: 0, shortSends: 0, cancels: 0 };

  constructor(readonly world: World, opts: KernelOptions = {}) {
    this.net = new Net(world);
    this.opts = {
      cqEntries: opts.cqEntries ?? 0,
      refuseSetupFlags: opts.refuseSetupFlags ?? 0,
      fdLimit: opts.fdLimit ?? 1024,
      cpus: opts.cpus ?? 2,
      maxSlabBytes: opts.maxSlabBytes ?? 1 << 30,
    };
    // stdio belongs to the host runtime, never to the guest
    for (let i = 0; i < 3; i++) this.install(new PlainFile('std'), false);
    this.nextEphemeral = 32768 + world.rng.below(16384);
  }

  // ---------------------------------------------------------------- tables

  private lowestFree(): number {
    let fd = 0;
    while (fd < this.fds.length && this.fds[fd] !== undefined) fd++;
    return fd;
  }

  /** Installs `file` at the lowest free fd (Linux's rule); -EMFILE past the limit. */
  private install(file: File, guest: boolean): number {
    const fd = this.lowestFree();
    if (fd >= this.opts.fdLimit) return -C.EMFILE;
    this.fds[fd] = file;
    file.refs++;
    if (guest) this.owned.add(fd);
    return fd;
  }

  private uninstall(fd: number): void {
    const f = this.fds[fd];
    if (f === undefined) return;
    this.fds[fd] = undefined;
    this.owned.delete(fd);
    while (this.fds.length > 0 && this.fds[this.fds.length - 1] === undefined) this.fds.pop();
    this.unref(f);
  }

  private unref(f: File): void {
    f.refs--;
    if (f.refs === 0) f.released();
  }

  /** The guest's socket behind `fd`, or undefined when the fd is not the guest's. */
  guestSock(fd: number): Sock | undefined {
    if (!this.owned.has(fd)) return undefined;
    const f = this.fds[fd];
    return f instanceof Sock ? f : undefined;
  }

  /** fds the guest owns now, ascending. */
  ownedFdList(): number[] {
    return [...this.owned].sort((a, b) => a - b);
  }

  ownedFdCount(): number {
    return this.owned.size;
  }

  /** Every fd in the table (host's and guest's). */
  openFdCount(): number {
    let n = 0;
    for (const f of this.fds) if (f !== undefined) n++;
    return n;
  }

  private slabRange(slab: number, offset: number, len: number): number {
    const s = this.slabs.get(slab);
    if (s === undefined) return -C.EBADF;
    if (offset > s.u8.length || len > s.u8.length - offset) return -C.EFAULT;
    return 0;
  }

  private sqe(handle: number): Sqe | undefined {
    return this.sqes.get(handle);
  }

  // ---------------------------------------------------------------- waking requests

  /** Something changed on `sock`: every request armed on it tries again. */
  wake(sock: Sock): void {
    for (const op of sock.waiters) this.kick(op);
  }

  private kick(op: Op): void {
    if (op.state !== 'armed' || op.kickPending) return;
    op.kickPending = true;
    const run = (): void => {
      op.kickPending = false;
      if (op.state === 'armed' && this.rings.get(op.ring.handle) === op.ring) this.attempt(op);
    };
    if (op.ring.defer) {
      op.ring.taskWork.push(run);
      op.ring.signal();
    } else {
      this.world.after(this.world.delay(this.world.faults.kernelDelay), run);
    }
  }

  private arm(op: Op): void {
    if (op.sock !== undefined) op.sock.waiters.add(op);
  }

  /** Ends a request with a final CQE (maybe later: the request is then "completing"). */
  private finish(op: Op, res: number, flags = 0, allowDelay = true, acceptFd?: number): void {
    if (op.state === 'done') return;
    const ring = op.ring;
    if (op.sock !== undefined) op.sock.waiters.delete(op);
    if (allowDelay && this.world.rng.chance(this.world.faults.completionDelay)) {
      op.state = 'completing';
      const post = (): void => {
        if (op.state !== 'completing') return;
        this.retire(op);
        if (this.rings.get(ring.handle) === ring) ring.postFinal(op.userData, res, flags, acceptFd);
        else if (acceptFd !== undefined) this.uninstall(acceptFd);
      };
      if (ring.defer) {
        ring.taskWork.push(post);
        ring.signal();
      } else this.world.after(this.world.delay(this.world.faults.kernelDelay), post);
      return;
    }
    this.retire(op);
    ring.postFinal(op.userData, res, flags, acceptFd);
  }

  /** Drops the request and its file reference (no CQE). */
  private retire(op: Op): void {
    op.state = 'done';
    op.ring.ops.delete(op);
    if (op.sock !== undefined) {
      op.sock.waiters.delete(op);
      this.unref(op.sock);
    }
  }

  private attempt(op: Op, atIssue = false): void {
    switch (op.opcode) {
      case 'accept':
        return this.attemptAccept(op);
      case 'recv':
        return this.attemptRecv(op, atIssue);
      case 'send':
        return this.attemptSend(op);
      default:
        return;
    }
  }

  private attemptAccept(op: Op): void {
    const sock = op.sock!;
    if (sock.state !== 'listening') return this.finish(op, -C.EINVAL);
    const rng = this.world.rng;
    for (let i = 0; i < 8; i++) {
      const ep = sock.acceptQ[0];
      if (ep === undefined) return this.arm(op);
      if (ep.rstRcvd && rng.chance(this.world.faults.acceptAbort)) {
        sock.acceptQ.shift();
        ep.abort();
        return this.finish(op, -C.ECONNABORTED);
      }
      const s = new Sock(this, sock.domain);
      // the fd is taken now (lowest free); the guest owns it once it reads the CQE
      const fd = this.install(s, false);
      if (fd < 0) return this.finish(op, fd); // -EMFILE: the connection stays queued
      sock.acceptQ.shift();
      s.fd = fd;
      s.state = 'connected';
      s.local = { ...ep.local };
      s.nodelay = false;
      s.fdFlags = C.FD_CLOEXEC; // the host always adds SOCK_CLOEXEC
      s.flFlags = C.O_RDWR | ((op.flags & C.SOCK_NONBLOCK) !== 0 ? C.O_NONBLOCK : 0);
      s.ep = ep;
      ep.owner = s;
      ep.onChange = () => this.wake(s);
      this.liveSockets.add(s);
      this.acceptedSocks.push(s);
      this.counters.accepted++;
      if (this.world.tracing) this.world.trace.note(`accept fd ${fd} <- client ${ep.clientId}`);
      if (!op.ring.postMore(op.userData, fd, 0, fd)) return this.finish(op, fd, 0, false, fd);
    }
    if (sock.acceptQ.length > 0) this.kick(op);
    this.arm(op);
  }

  private attemptRecv(op: Op, atIssue: boolean): void {
    const sock = op.sock!;
    if (sock.state !== 'connected' || sock.ep === undefined) return this.finish(op, -C.ENOTCONN);
    const ep = sock.ep;
    const rng = this.world.rng;
    for (let i = 0; i < 8; i++) {
      const readable = ep.rcvBytes > 0 || ep.err !== 0 || ep.finRcvd || ep.rdShut || ep.rstRcvd;
      // Only POLLIN wakes an armed recv; the first issue (at submit) runs regardless.
      if (!readable && !atIssue) return this.arm(op);
      atIssue = false;
      // io_recv selects the buffer before it looks at the socket: an empty ring is
      // -ENOBUFS whatever woke the request (data, FIN or RST), and at issue time.
      const br = op.ring.bufRings.get(op.bufGroup);
      const slot = br !== undefined && br.avail > 0 ? br.slots[br.head & br.mask] : undefined;
      if (br === undefined || slot === undefined) {
        this.counters.enobufs++;
        return this.finish(op, -C.ENOBUFS);
      }
      if (ep.rcvBytes > 0) {
        const slab = this.slabs.get(slot.slab);
        if (slab === undefined || slot.offset + slot.len > slab.u8.length) return this.finish(op, -C.EFAULT);
        let n = Math.min(ep.rcvBytes, slot.len);
        if (n > 1 && rng.chance(this.world.faults.partialRead)) n = rng.int(1, n - 1);
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
        if (op.oneshot) return this.finish(op, n, flags, false);
        if (!op.ring.postMore(op.userData, n, flags)) return this.finish(op, n, flags, false);
        if (ep.rcvBytes === 0 && !ep.finRcvd && !ep.rstRcvd && ep.err === 0) return this.arm(op);
        continue;
      }
      if (ep.err !== 0) {
        const e = ep.err;
        ep.err = 0;
        return this.finish(op, -e);
      }
      if (ep.finRcvd || ep.rdShut || ep.rstRcvd) return this.finish(op, 0);
      return this.arm(op);
    }
    this.kick(op);
    this.arm(op);
  }

  private attemptSend(op: Op): void {
    const sock = op.sock!;
    if (sock.state !== 'connected' || sock.ep === undefined) return this.finish(op, op.done > 0 ? op.done : -C.EPIPE);
    const ep = sock.ep;
    if (ep.err !== 0) {
      const e = ep.err;
      ep.err = 0;
      return this.finish(op, op.done > 0 ? op.done : -e);
    }
    if (ep.wrShut || ep.rstRcvd || ep.closed) return this.finish(op, op.done > 0 ? op.done : -C.EPIPE);
    const remaining = op.total - op.done;
    if (remaining === 0) return this.finish(op, op.done);
    const space = ep.space();
    if (space <= 0) return this.arm(op);
    let n = Math.min(remaining, space);
    const rng = this.world.rng;
    if (n > 1 && rng.chance(this.world.faults.shortSend)) n = rng.int(1, n - 1);
    const bytes = new Uint8Array(n);
    // gather from the iovec, starting `op.done` bytes in
    let skip = op.done;
    let k = 0;
    for (const r of op.iov) {
      if (k === n) break;
      if (skip >= r.len) {
        skip -= r.len;
        continue;
      }
      const m = Math.min(r.len - skip, n - k);
      bytes.set(r.u8.subarray(r.offset + skip, r.offset + skip + m), k);
      k += m;
      skip = 0;
    }
    ep.transmit(bytes);
    op.done += n;
    if (op.done < op.total) {
      if ((op.flags & C.MSG_WAITALL) !== 0) {
        this.arm(op);
        if (ep.space() > 0) this.kick(op);
        return;
      }
      this.counters.shortSends++;
    }
    this.finish(op, op.done);
  }

  private runCancel(op: Op): void {
    const ring = op.ring;
    this.counters.cancels++;
    const any = (op.flags & C.IORING_ASYNC_CANCEL_ANY) !== 0;
    const all = any || (op.flags & C.IORING_ASYNC_CANCEL_ALL) !== 0;
    let found = 0;
    let cancelled = 0;
    let res = -C.ENOENT;
    for (const t of [...ring.ops]) {
      if (t === op || t.opcode === 'cancel' || (!any && t.userData !== op.target) || t.state === 'done') continue;
      found++;
      if (t.state === 'completing') {
        // its CQE is already on its way: cannot be stopped
        res = -C.EALREADY;
      } else {
        cancelled++;
        this.cancelTarget(t);
        res = 0;
      }
      if (!all) break;
    }
    if (all) res = found === 0 ? -C.ENOENT : cancelled;
    this.finish(op, res, 0, false);
  }

  private cancelTarget(t: Op): void {
    const ring = t.ring;
    if (t.sock !== undefined) t.sock.waiters.delete(t);
    if (this.world.rng.chance(this.world.faults.cancelLate)) {
      // The -ECANCELED completion goes through task work: it lands after the cancel's own CQE.
      t.state = 'completing';
      const post = (): void => {
        if (t.state !== 'completing') return;
        this.retire(t);
        if (this.rings.get(ring.handle) === ring) ring.postFinal(t.userData, -C.ECANCELED, 0);
      };
      if (ring.defer) {
        ring.taskWork.push(post);
        ring.signal();
      } else this.world.after(this.world.delay(this.world.faults.kernelDelay), post);
      return;
    }
    this.retire(t);
    ring.postFinal(t.userData, -C.ECANCELED, 0);
  }

  /**
   * The native flush rules: an SQE naming an fd the guest no longer owns
   * becomes a silent NOP; one that would give a user_data value both an accept
   * and another kind of operation refuses the whole flush (-EINVAL, nothing
   * recorded). Otherwise every SQE with a live handle is recorded in flight.
   */
  private flushCheck(ring: Ring): number {
    const fresh = ring.sq.filter((q) => this.sqes.has(q.handle));
    for (const q of fresh) {
      if (q.opcode !== 'nop' && q.opcode !== 'cancel' && !this.owned.has(q.fd)) silence(q);
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
  private submitN(ring: Ring, n: number): number {
    // "A handle is valid until the next submit on its ring": every handle of the ring is spent now
    // (SQEs not consumed by a short enter stay queued and go out with the next one).
    for (const s of ring.sq) this.sqes.delete(s.handle);
    const batch = ring.sq.splice(0, Math.min(n, ring.sq.length));
    for (const s of batch) this.issue(ring, s);
    return batch.length;
  }

  private issue(ring: Ring, s: Sqe): void {
    if (s.opcode === 'nop') {
      if (!s.silent) ring.postFinal(s.userData, 0, 0);
      return;
    }
    let sock: Sock | undefined;
    if (s.opcode !== 'cancel') {
      // the fd is resolved now, at submit: closed since prep -> -EBADF
      sock = this.guestSock(s.fd);
      if (sock === undefined) {
        ring.postFinal(s.userData, this.owned.has(s.fd) ? -C.ENOTSOCK : -C.EBADF, 0);
        return;
      }
      sock.refs++;
    }
    const op = new Op(this.nextOp++, ring, s.opcode, s.userData, sock, s.flags, s.bufGroup, s.iov, s.target);
    op.oneshot = s.oneshot;
    ring.ops.add(op);
    if (op.opcode === 'cancel') return this.runCancel(op);
    if (op.opcode === 'accept' && sock!.state !== 'listening') return this.finish(op, -C.EINVAL, 0, false);
    if (this.world.rng.chance(this.world.faults.asyncIssue)) {
      this.arm(op);
      this.kick(op);
    } else {
      this.attempt(op, true);
    }
  }

  /** Runs world events until `ring` has `want` CQEs (GETEVENTS semantics) or the deadline passes. */
  private waitFor(ring: Ring, want: number, timeoutNs: number | undefined): boolean {
    const deadline = timeoutNs === undefined ? Infinity : this.world.now + timeoutNs;
    const ok = this.world.runWorldUntil(() => {
      if (this.rings.get(ring.handle) !== ring) return true;
      ring.getEvents();
      return ring.cqCount >= want;
    }, deadline);
    if (!ok && timeoutNs === undefined) {
      this.world.violation(`ring ${ring.handle}: blocking wait for ${want} CQE(s) can never return (nothing left to happen)`);
    }
    return ok;
  }

  // ================================================================ Host: ring lifecycle

  createRing(entries: number): number {
    return this.createRingEx(entries, 0, -1, 0);
  }

  createRingEx(entries: number, flags: number, sqThreadCpu: number, sqThreadIdleMs: number): number {
    void sqThreadIdleMs;
    if (entries === 0 || entries > C.IORING_MAX_ENTRIES) return -C.EINVAL;
    if ((flags & ~C.KNOWN_SETUP_FLAGS) !== 0) return -C.EINVAL;
    if ((flags & this.opts.refuseSetupFlags) !== 0) return -C.EINVAL;
    if ((flags & C.IORING_SETUP_DEFER_TASKRUN) !== 0 && (flags & C.IORING_SETUP_SINGLE_ISSUER) === 0) return -C.EINVAL;
    const sqpoll = (flags & C.IORING_SETUP_SQPOLL) !== 0;
    if ((flags & C.IORING_SETUP_SQ_AFF) !== 0) {
      if (!sqpoll) return -C.EINVAL;
      if (sqThreadCpu < 0 || sqThreadCpu >= this.opts.cpus) return -C.EINVAL;
    }
    if (sqpoll && (flags & (C.IORING_SETUP_COOP_TASKRUN | C.IORING_SETUP_DEFER_TASKRUN)) !== 0) return -C.EINVAL;
    if (sqpoll && sqThreadCpu >= 0) {
      if (sqThreadCpu >= this.opts.cpus) return -C.EINVAL;
      flags |= C.IORING_SETUP_SQ_AFF;
    }
    const sq = roundPow2(entries);
    const cq = this.opts.cqEntries > 0 ? this.opts.cqEntries : 2 * sq;
    const rf = new PlainFile('ring');
    const fd = this.install(rf, false);
    if (fd < 0) return fd;
    const ef = new PlainFile('eventfd');
    const evfd = this.install(ef, false);
    if (evfd < 0) {
      this.uninstall(fd);
      return evfd;
    }
    let h = 1;
    while (this.rings.has(h)) h++;
    this.rings.set(h, new Ring(this, h, fd, evfd, sq, cq, flags));
    return h;
  }

  destroyRing(ring: number): number {
    const r = this.rings.get(ring);
    if (r === undefined) return -C.EBADF;
    this.rings.delete(ring);
    for (const s of r.sq) this.sqes.delete(s.handle);
    r.sq.length = 0;
    for (const op of [...r.ops]) this.retire(op);
    for (let i = 0; i < r.cqCount; i++) this.dropUnread(r.cqAt(i));
    for (const c of r.overflow) this.dropUnread(c);
    for (const br of r.bufRings.values()) this.bufRings.delete(br.handle);
    r.bufRings.clear();
    r.watchers.clear();
    r.taskWork.length = 0;
    this.uninstall(r.evfd);
    this.uninstall(r.fd);
    return 0;
  }

  getRingFlags(ring: number): bigint {
    const r = this.rings.get(ring);
    return r === undefined ? BigInt(-C.EBADF) : BigInt(r.flags);
  }

  // ================================================================ Host: submission

  getSqe(ring: number): number {
    const r = this.rings.get(ring);
    if (r === undefined) return -C.EBADF;
    if (r.sq.length >= r.sqEntries) return -C.EBUSY;
    const h = this.nextSqe;
    this.nextSqe = this.nextSqe >= 0x7ffffffe ? 1 : this.nextSqe + 1;
    const s = new Sqe(h, r);
    this.sqes.set(h, s);
    r.sq.push(s);
    return h;
  }

  submit(ring: number): number {
    const r = this.rings.get(ring);
    if (r === undefined) return -C.EBADF;
    const refused = this.flushCheck(r);
    if (refused < 0) return refused;
    const n = this.submitN(r, r.sq.length);
    // liburing's io_uring_submit enters with GETEVENTS when the CQ overflow flag is up
    if (r.overflow.length > 0) r.getEvents();
    return n;
  }

  submitAndWait(ring: number, waitNr: number): number {
    const r = this.rings.get(ring);
    if (r === undefined) return -C.EBADF;
    const refused = this.flushCheck(r);
    if (refused < 0) return refused;
    const n = this.submitN(r, r.sq.length);
    if (waitNr > 0 || r.overflow.length > 0) {
      r.getEvents();
      if (waitNr > 0 && !this.waitFor(r, waitNr, undefined)) return n > 0 ? n : -C.EINTR;
    }
    return n;
  }

  submitAndWaitTimeout(ring: number, waitNr: number, ts: Timespec): number {
    const r = this.rings.get(ring);
    if (r === undefined) return -C.EBADF;
    const t = tsNanos(ts);
    if (t < 0) return -C.EINVAL;
    const refused = this.flushCheck(r);
    if (refused < 0) return refused;
    const n = this.submitN(r, r.sq.length);
    r.getEvents();
    if (waitNr === 0) return n;
    if (!this.waitFor(r, waitNr, t) && r.cqCount === 0) return -C.ETIME;
    return n;
  }

  enter(ring: number, toSubmit: number, minComplete: number, flags: number, ts: Timespec | undefined): number {
    const r = this.rings.get(ring);
    if (r === undefined) return -C.EBADF;
    if ((flags & ~(C.IORING_ENTER_GETEVENTS | C.IORING_ENTER_SQ_WAKEUP | C.IORING_ENTER_SQ_WAIT)) !== 0) return -C.EINVAL;
    let t: number | undefined;
    if (ts !== undefined) {
      t = tsNanos(ts);
      if (t < 0) return -C.EINVAL;
    }
    const refused = this.flushCheck(r);
    if (refused < 0) return refused;
    const n = this.submitN(r, Math.min(toSubmit, r.sq.length));
    if ((flags & C.IORING_ENTER_GETEVENTS) === 0) return n;
    r.getEvents();
    if (minComplete > 0 && !this.waitFor(r, minComplete, t) && r.cqCount === 0) {
      if (n > 0) return n;
      return t === undefined ? -C.EINTR : -C.ETIME;
    }
    return n;
  }

  // ================================================================ Host: completion

  private head(r: Ring): Cqe {
    const c = r.cqAt(0);
    this.markRead(c);
    this.settle(r, c);
    return { userData: c.ud, res: c.res, flags: c.flags };
  }

  /** The guest saw this CQE: an accepted fd in it becomes the guest's. */
  /** A final CQE reached the guest: its user_data record drops it (native: zl_process_cqes). */
  private settle(r: Ring, c: PostedCqe): void {
    if (c.settled === true || (c.flags & C.IORING_CQE_F_MORE) !== 0) return;
    c.settled = true;
    const e = r.udRecords.get(c.ud);
    if (e === undefined) return;
    e.total--;
    if (e.accepts > 0) e.accepts--;
    if (e.total === 0) r.udRecords.delete(c.ud);
  }

  private markRead(c: PostedCqe): void {
    if (c.read === true) return;
    c.read = true;
    if (c.acceptFd !== undefined && this.fds[c.acceptFd] !== undefined) this.owned.add(c.acceptFd);
  }

  /** CQEs dropped unread: nobody will learn their accepted fds, so they are closed. */
  private dropUnread(c: PostedCqe): void {
    if (c.read !== true && c.acceptFd !== undefined && !this.owned.has(c.acceptFd)) this.uninstall(c.acceptFd);
  }

  waitCqe(ring: number): CqeResult {
    const r = this.rings.get(ring);
    if (r === undefined) return { ret: -C.EBADF, cqe: ZERO_CQE };
    if (r.cqCount === 0) {
      r.getEvents();
      if (!this.waitFor(r, 1, undefined)) return { ret: -C.EINTR, cqe: ZERO_CQE };
    }
    return { ret: 0, cqe: this.head(r) };
  }

  waitCqeTimeout(ring: number, ts: Timespec): CqeResult {
    return this.waitCqes(ring, 1, ts);
  }

  waitCqes(ring: number, waitNr: number, ts: Timespec): CqeResult {
    const r = this.rings.get(ring);
    if (r === undefined) return { ret: -C.EBADF, cqe: ZERO_CQE };
    const t = tsNanos(ts);
    if (t < 0) return { ret: -C.EINVAL, cqe: ZERO_CQE };
    if (r.cqCount < Math.max(1, waitNr)) {
      r.getEvents();
      this.waitFor(r, Math.max(1, waitNr), t);
    }
    // the kernel reports success when any CQE is there at the deadline
    if (r.cqCount === 0) return { ret: -C.ETIME, cqe: ZERO_CQE };
    return { ret: 0, cqe: this.head(r) };
  }

  peekBatchCqe(ring: number, max: number): Uint8Array {
    const r = this.rings.get(ring);
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
      this.markRead(c);
      this.settle(r, c);
    }
    return out;
  }

  cqeSeen(ring: number): number {
    return this.cqAdvance(ring, 1);
  }

  cqAdvance(ring: number, count: number): number {
    const r = this.rings.get(ring);
    if (r === undefined) return -C.EBADF;
    if (count > r.cqCount) return -C.EINVAL;
    for (let i = 0; i < count; i++) {
      this.dropUnread(r.cqAt(i));
      this.settle(r, r.cqAt(i));
    }
    r.consume(count);
    return 0;
  }

  cqReady(ring: number): number {
    const r = this.rings.get(ring);
    return r === undefined ? -C.EBADF : r.cqCount;
  }

  sqReady(ring: number): number {
    const r = this.rings.get(ring);
    return r === undefined ? -C.EBADF : r.sq.length;
  }

  // ================================================================ Host: SQE preparation

  prepMultishotAccept(sqe: number, lfd: number, flags: number): number {
    const s = this.sqe(sqe);
    if (s === undefined) return -C.EBADF;
    if (!this.owned.has(lfd)) return -C.EBADF;
    if ((flags & ~(C.SOCK_NONBLOCK | C.SOCK_CLOEXEC)) !== 0) return -C.EINVAL;
    s.reset();
    s.opcode = 'accept';
    s.fd = lfd;
    s.flags = flags;
    return 0;
  }

  prepRecvMultishotSelect(sqe: number, fd: number, bufGroup: number, flags: number): number {
    const s = this.sqe(sqe);
    if (s === undefined) return -C.EBADF;
    if (!this.owned.has(fd)) return -C.EBADF;
    if (bufGroup > 0xffff || (flags & ~C.ALLOWED_RECV_FLAGS) !== 0) return -C.EINVAL;
    s.reset();
    s.opcode = 'recv';
    s.fd = fd;
    s.bufGroup = bufGroup;
    s.flags = flags;
    return 0;
  }

  prepRecvSelect(sqe: number, fd: number, bufGroup: number, flags: number): number {
    const r = this.prepRecvMultishotSelect(sqe, fd, bufGroup, flags);
    if (r === 0) this.sqe(sqe)!.oneshot = true;
    return r;
  }

  prepSend(sqe: number, fd: number, slab: number, offset: number, len: number, flags: number): number {
    const s = this.sqe(sqe);
    if (s === undefined) return -C.EBADF;
    if (!this.owned.has(fd)) return -C.EBADF;
    if ((flags & ~C.ALLOWED_SEND_FLAGS) !== 0) return -C.EINVAL;
    const e = this.slabRange(slab, offset, len);
    if (e < 0) return e;
    s.reset();
    s.opcode = 'send';
    s.fd = fd;
    s.iov = [{ slab, u8: this.slabs.get(slab)!.u8, offset, len }];
    s.flags = flags;
    return 0;
  }

  prepSendmsg(sqe: number, fd: number, iov: SlabRange[], flags: number): number {
    const s = this.sqe(sqe);
    if (s === undefined) return -C.EBADF;
    if (!this.owned.has(fd)) return -C.EBADF;
    if (iov.length > C.MAX_SENDMSG_IOV) return -C.EINVAL;
    if ((flags & ~C.ALLOWED_SEND_FLAGS) !== 0) return -C.EINVAL;
    for (const r of iov) {
      const e = this.slabRange(r.slab, r.offset, r.len);
      if (e < 0) return e;
    }
    s.reset();
    s.opcode = 'send';
    s.fd = fd;
    s.iov = iov.map((r) => ({ slab: r.slab, u8: this.slabs.get(r.slab)!.u8, offset: r.offset, len: r.len }));
    s.flags = flags;
    return 0;
  }

  prepCancel64(sqe: number, userData: bigint, flags: number): number {
    const s = this.sqe(sqe);
    if (s === undefined) return -C.EBADF;
    if ((flags & ~(C.IORING_ASYNC_CANCEL_ALL | C.IORING_ASYNC_CANCEL_ANY)) !== 0) return -C.EINVAL;
    s.reset();
    s.opcode = 'cancel';
    s.target = userData;
    s.flags = flags;
    return 0;
  }

  // ================================================================ Host: user data

  sqeSetData64(sqe: number, data: bigint): number {
    const s = this.sqe(sqe);
    if (s === undefined) return -C.EBADF;
    s.userData = BigInt.asUintN(64, data);
    return 0;
  }

  cqeGetData64(c: Cqe): bigint {
    return c.userData;
  }

  // ================================================================ Host: buffer ring

  setupBufRing(ring: number, entries: number, bgid: number, flags: number): number {
    const r = this.rings.get(ring);
    if (r === undefined) return -C.EBADF;
    if (!isPow2(entries) || entries > 32768) return -C.EINVAL;
    if (bgid > 0xffff) return -C.EINVAL;
    if ((flags & ~C.IOU_PBUF_RING_INC) !== 0) return -C.EINVAL;
    if (r.bufRings.has(bgid)) return -C.EEXIST;
    let h = 1;
    while (this.bufRings.has(h)) h++;
    const br = new BufRing(h, r, bgid, entries, (flags & C.IOU_PBUF_RING_INC) !== 0);
    this.bufRings.set(h, br);
    r.bufRings.set(bgid, br);
    return h;
  }

  freeBufRing(ring: number, br: number): number {
    const r = this.rings.get(ring);
    const b = this.bufRings.get(br);
    if (r === undefined || b === undefined || b.ring !== r) return -C.EBADF;
    this.bufRings.delete(br);
    r.bufRings.delete(b.bgid);
    return 0;
  }

  bufRingAdd(br: number, slab: number, offset: number, len: number, bid: number, mask: number, idx: number): number {
    const b = this.bufRings.get(br);
    if (b === undefined) return -C.EBADF;
    const e = this.slabRange(slab, offset, len);
    if (e < 0) return e;
    // the kernel writes into provided buffers: pinned (lent) memory never, as natively
    if (this.slabs.get(slab)!.pinned) return -C.EINVAL;
    // a zero-length buffer reads as EOF: refused, as by the native backend
    if (len === 0 || bid >= b.entries || mask !== b.mask || idx >= b.entries) return -C.EINVAL;
    const at = (b.tail + idx) & b.mask;
    b.slots[at] = { slab, offset, len, bid };
    b.written[at] = (b.tail + idx) & 0xffff;
    b.slabRefs.add(slab);
    return 0;
  }

  bufRingAdvance(br: number, count: number): number {
    const b = this.bufRings.get(br);
    if (b === undefined) return -C.EBADF;
    if (count > b.entries) return -C.EINVAL;
    // only entries written since the last advance may be published
    for (let k = 0; k < count; k++) if (b.written[(b.tail + k) & b.mask] !== ((b.tail + k) & 0xffff)) return -C.EINVAL;
    b.tail = (b.tail + count) & 0xffff;
    if (b.avail > b.entries) {
      this.world.violation(`buf ring ${br}: ${b.avail} buffers published for ${b.entries} entries (the kernel would reuse unconsumed slots)`);
    } else if (count > 0) {
      const seen = new Set<number>();
      for (const bid of b.availableBids()) {
        if (bid >= 0 && seen.has(bid)) {
          this.world.violation(`buf ring ${br}: bid ${bid} published twice`);
          break;
        }
        seen.add(bid);
      }
    }
    // buffers came back: requests waiting for data may proceed (nothing waits on buffers in Linux:
    // a multishot recv that hit -ENOBUFS has ended; the guest must re-arm it)
    return 0;
  }

  cqeHasBuffer(c: Cqe): boolean {
    return (c.flags & C.IORING_CQE_F_BUFFER) !== 0;
  }

  cqeBufferId(c: Cqe): number {
    return (c.flags & C.IORING_CQE_F_BUFFER) !== 0 ? c.flags >>> C.IORING_CQE_BUFFER_SHIFT : -C.EINVAL;
  }

  // ================================================================ Host: slabs

  slabCreate(size: number): number {
    if (size === 0) return -C.EINVAL;
    if (size > this.opts.maxSlabBytes) return -C.ENOMEM;
    return this.addSlab(new ArrayBuffer(size), false);
  }

  addSlab(buffer: ArrayBuffer, pinned: boolean): number {
    let h = 1;
    while (this.slabs.has(h)) h++;
    this.slabs.set(h, { handle: h, buffer, u8: new Uint8Array(buffer), pinned });
    return h;
  }

  /**
   * True while a buffer ring may hand the slab to the kernel (it was added to
   * one that still exists). Sends in flight keep the memory they were prepared
   * with (the native backend quarantines it), so they do not count.
   */
  slabInUse(slab: number): boolean {
    for (const b of this.bufRings.values()) if (b.slabRefs.has(slab)) return true;
    return false;
  }

  slabDestroy(slab: number): number {
    const s = this.slabs.get(slab);
    if (s === undefined) return -C.EBADF;
    if (s.pinned || this.slabInUse(slab)) return -C.EBUSY;
    this.slabs.delete(slab);
    return 0;
  }

  isPinned(slab: number): boolean | undefined {
    return this.slabs.get(slab)?.pinned;
  }

  removeSlab(slab: number): void {
    this.slabs.delete(slab);
  }

  // ================================================================ Host: sockets

  socket(domain: number, type: number, protocol: number): number {
    if (domain !== C.AF_INET && domain !== C.AF_INET6) return -C.EAFNOSUPPORT;
    if ((type & ~(C.SOCK_NONBLOCK | C.SOCK_CLOEXEC | 0xf)) !== 0) return -C.EINVAL;
    if ((type & 0xf) !== C.SOCK_STREAM) return -C.EINVAL;
    if (protocol !== 0 && protocol !== C.IPPROTO_TCP) return -C.EPROTONOSUPPORT;
    const s = new Sock(this, domain);
    s.fdFlags = C.FD_CLOEXEC; // the host always adds SOCK_CLOEXEC
    s.flFlags = C.O_RDWR | ((type & C.SOCK_NONBLOCK) !== 0 ? C.O_NONBLOCK : 0);
    const fd = this.install(s, true);
    if (fd < 0) return fd;
    s.fd = fd;
    this.liveSockets.add(s);
    return fd;
  }

  private portTaken(s: Sock, port: number): boolean {
    for (const o of this.liveSockets) {
      if (o === s || o.local.port !== port) continue;
      if (o.state !== 'bound' && o.state !== 'listening') continue;
      if (s.reusePort && o.reusePort) continue;
      return true;
    }
    return false;
  }

  private doBind(s: Sock, a: Addr): number {
    if (s.state !== 'fresh') return -C.EINVAL;
    let port = a.port;
    if (port === 0) {
      for (let i = 0; i < 28232; i++) {
        const p = this.nextEphemeral++;
        if (this.nextEphemeral > 60999) this.nextEphemeral = 32768;
        if (!this.portTaken(s, p)) {
          port = p;
          break;
        }
      }
      if (port === 0) return -C.EADDRINUSE;
    } else if (this.portTaken(s, port)) return -C.EADDRINUSE;
    s.local = { ...a, port };
    s.state = 'bound';
    return 0;
  }

  bind(fd: number, addr: SockAddrIn): number {
    const s = this.guestSock(fd);
    if (s === undefined) return this.owned.has(fd) ? -C.ENOTSOCK : -C.EBADF;
    if (s.domain !== C.AF_INET) return -C.EINVAL;
    const a = addr.addr >>> 0;
    if (a !== 0 && (a >>> 24) !== 127) return -C.EADDRNOTAVAIL;
    return this.doBind(s, { family: C.AF_INET, port: addr.port, hi: 0n, lo: BigInt(a) });
  }

  bind6(fd: number, addr: SockAddrIn6): number {
    const s = this.guestSock(fd);
    if (s === undefined) return this.owned.has(fd) ? -C.ENOTSOCK : -C.EBADF;
    if (s.domain !== C.AF_INET6) return -C.EINVAL;
    const any = addr.hi === 0n && addr.lo === 0n;
    const lo = addr.hi === 0n && addr.lo === 1n;
    if (!any && !lo) return -C.EADDRNOTAVAIL;
    return this.doBind(s, { family: C.AF_INET6, port: addr.port, hi: addr.hi, lo: addr.lo });
  }

  listen(fd: number, backlog: number): number {
    const s = this.guestSock(fd);
    if (s === undefined) return this.owned.has(fd) ? -C.ENOTSOCK : -C.EBADF;
    if (s.state === 'connected' || s.state === 'closed') return -C.EINVAL;
    if (s.state === 'fresh') {
      // Linux autobinds an unbound socket on listen
      const e = this.doBind(s, { family: s.domain, port: 0, hi: 0n, lo: 0n });
      if (e < 0) return e;
    }
    const b = backlog >>> 0;
    s.backlog = b > C.SOMAXCONN ? C.SOMAXCONN : b;
    if (s.state !== 'listening') {
      s.state = 'listening';
      this.net.addListener(s.local.port, s);
    }
    return 0;
  }

  setsockopt(fd: number, level: number, optname: number, value: number): number {
    const s = this.guestSock(fd);
    if (s === undefined) return this.owned.has(fd) ? -C.ENOTSOCK : -C.EBADF;
    if (level === C.SOL_SOCKET) {
      switch (optname) {
        case C.SO_REUSEADDR:
          s.reuseAddr = value !== 0;
          return 0;
        case C.SO_REUSEPORT:
          s.reusePort = value !== 0;
          return 0;
        case C.SO_KEEPALIVE:
          s.keepalive = value !== 0;
          return 0;
        case C.SO_RCVBUF:
          s.rcvbuf = Math.max(2304, Math.min(value, 212992) * 2);
          return 0;
        case C.SO_SNDBUF:
          s.sndbuf = Math.max(4608, Math.min(value, 212992) * 2);
          return 0;
        default:
          return -C.ENOPROTOOPT;
      }
    }
    if (level === C.IPPROTO_TCP) {
      if (optname === C.TCP_NODELAY) {
        s.nodelay = value !== 0;
        return 0;
      }
      return -C.ENOPROTOOPT;
    }
    if (level === C.IPPROTO_IPV6) {
      if (s.domain !== C.AF_INET6) return -C.ENOPROTOOPT;
      if (optname === C.IPV6_V6ONLY) {
        if (s.state !== 'fresh') return -C.EINVAL;
        s.v6only = value !== 0;
        return 0;
      }
      return -C.ENOPROTOOPT;
    }
    return -C.ENOPROTOOPT;
  }

  close(fd: number): number {
    if (!this.owned.has(fd)) {
      this.counters.badFdCloses++;
      return -C.EBADF;
    }
    const busy = this.forgetFd(fd);
    if (busy < 0) return busy;
    const f = this.fds[fd];
    if (f instanceof Sock) f.closeCount++;
    if (this.world.tracing) this.world.trace.note(`close fd ${fd}${f instanceof Sock && f.ep !== undefined ? ` (client ${f.ep.clientId}, ${f.refs - 1} request ref(s) keep it alive)` : ''}`);
    this.uninstall(fd);
    return 0;
  }

  /**
   * fd stops being the guest's: its prepared SQEs become silent NOPs, unless
   * one already flushed (handle spent, not yet consumed by a short enter)
   * names it: then -EBUSY and nothing changes (native: zl_ring_forget_fd).
   */
  private forgetFd(fd: number): number {
    const names = (q: Sqe): boolean => q.opcode !== 'nop' && q.opcode !== 'cancel' && q.fd === fd;
    for (const r of this.rings.values()) {
      for (const q of r.sq) if (!this.sqes.has(q.handle) && names(q)) return -C.EBUSY;
    }
    for (const r of this.rings.values()) for (const q of r.sq) if (names(q)) silence(q);
    return 0;
  }

  /** Backend.releaseFd: the guest's fd leaves it (into transit). */
  releaseFd(fd: number): number {
    if (!this.owned.has(fd)) return -C.EBADF;
    const busy = this.forgetFd(fd);
    if (busy < 0) return busy;
    this.owned.delete(fd);
    this.transit.add(fd);
    return 0;
  }

  /** Backend.claimFd: an fd in transit becomes the guest's again. */
  claimFd(fd: number): number {
    if (!this.transit.delete(fd)) return -C.EBADF;
    this.owned.add(fd);
    return 0;
  }

  fcntl(fd: number, cmd: number, arg: bigint): number {
    const s = this.guestSock(fd);
    if (s === undefined) return -C.EBADF;
    if (arg < -0x80000000n || arg > 0x7fffffffn) return -C.EINVAL;
    const a = Number(arg);
    switch (cmd) {
      case C.F_GETFD:
        return s.fdFlags;
      case C.F_SETFD:
        if ((a & ~C.FD_CLOEXEC) !== 0) return -C.EINVAL;
        if ((a & C.FD_CLOEXEC) === 0) return -C.EPERM; // close-on-exec stays
        return 0;
      case C.F_GETFL:
        return s.flFlags;
      case C.F_SETFL:
        if ((a & ~(C.O_NONBLOCK | C.O_ACCMODE)) !== 0) return -C.EINVAL;
        s.flFlags = (s.flFlags & ~C.O_NONBLOCK) | (a & C.O_NONBLOCK);
        return 0;
      default:
        return -C.EINVAL;
    }
  }

  inetPton(af: number, src: string): SockAddr {
    if (af === C.AF_INET) {
      const v = parseIPv4(src);
      return v === undefined ? sockAddr(0, 0, 0, 0n, 0n) : sockAddr(1, C.AF_INET, 0, 0n, BigInt(v));
    }
    if (af === C.AF_INET6) {
      const v = parseIPv6(src);
      return v === undefined ? sockAddr(0, 0, 0, 0n, 0n) : sockAddr(1, C.AF_INET6, 0, v[0], v[1]);
    }
    return sockAddr(-C.EAFNOSUPPORT, 0, 0, 0n, 0n);
  }

  shutdown(fd: number, how: number): number {
    const s = this.guestSock(fd);
    if (s === undefined) return this.owned.has(fd) ? -C.ENOTSOCK : -C.EBADF;
    if (how !== C.SHUT_RD && how !== C.SHUT_WR && how !== C.SHUT_RDWR) return -C.EINVAL;
    if (s.state === 'listening') {
      if (how !== C.SHUT_WR) s.stopListening();
      return 0;
    }
    if (s.state !== 'connected' || s.ep === undefined) return -C.ENOTCONN;
    const ep = s.ep;
    if (ep.rstRcvd) return -C.ENOTCONN;
    if (how !== C.SHUT_WR) ep.rdShut = true;
    if (how !== C.SHUT_RD && !ep.wrShut) {
      ep.wrShut = true;
      ep.sendFin();
    }
    this.wake(s);
    return 0;
  }

  getsockname(fd: number): SockAddr {
    const s = this.guestSock(fd);
    if (s === undefined) return sockAddr(this.owned.has(fd) ? -C.ENOTSOCK : -C.EBADF, 0, 0, 0n, 0n);
    return sockAddr(0, s.local.family, s.local.port, s.local.hi, s.local.lo);
  }

  getpeername(fd: number): SockAddr {
    const s = this.guestSock(fd);
    if (s === undefined) return sockAddr(this.owned.has(fd) ? -C.ENOTSOCK : -C.EBADF, 0, 0, 0n, 0n);
    if (s.state !== 'connected' || s.ep === undefined || s.ep.rstRcvd) return sockAddr(-C.ENOTCONN, 0, 0, 0n, 0n);
    const a = s.ep.remote;
    return sockAddr(0, a.family, a.port, a.hi, a.lo);
  }

  // ================================================================ Host: affinity

  pinCurrentThreadToCpu(cpu: number): number {
    return cpu >= 0 && cpu < this.opts.cpus ? 0 : -C.EINVAL;
  }

  // ================================================================ inspection (tests, runner)

  /** The socket behind a guest fd (no ownership check), for tests. */
  sockAt(fd: number): Sock | undefined {
    const f = this.fds[fd];
    return f instanceof Sock ? f : undefined;
  }

  ring(handle: number): Ring | undefined {
    return this.rings.get(handle);
  }

  /** In-flight requests per ring, by opcode. */
  inflight(): { ring: number; opcode: Opcode; userData: bigint; state: OpState }[] {
    const out: { ring: number; opcode: Opcode; userData: bigint; state: OpState }[] = [];
    for (const r of this.rings.values()) for (const op of r.ops) out.push({ ring: r.handle, opcode: op.opcode, userData: op.userData, state: op.state });
    return out;
  }

  /** Sets (or clears, with undefined) the CQ pressure fault on every ring. */
  setCqPressure(cap: number | undefined): void {
    for (const r of this.rings.values()) {
      r.pressureCap = cap;
      if (cap === undefined && r.overflow.length > 0) r.signal();
    }
  }
}

function sockAddr(ret: number, family: number, port: number, hi: bigint, lo: bigint): SockAddr {
  return { ret, family, port, hi, lo };
}

/** inet_pton(AF_INET): four decimal octets, no leading zeros (glibc's rules). */
export function parseIPv4(src: string): number | undefined {
  const parts = src.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = v * 256 + n;
  }
  return v >>> 0;
}

/** inet_pton(AF_INET6): [hi, lo] of the 16 octets big-endian. */
export function parseIPv6(src: string): [bigint, bigint] | undefined {
  if (src.length === 0 || src.length > 45) return undefined;
  let tail4: number | undefined;
  let s = src;
  const lastColon = s.lastIndexOf(':');
  if (lastColon < 0) return undefined;
  const last = s.slice(lastColon + 1);
  if (last.includes('.')) {
    tail4 = parseIPv4(last);
    if (tail4 === undefined) return undefined;
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return undefined;
  const groupsOf = (t: string): string[] | undefined => {
    if (t === '') return [];
    const g = t.split(':');
    for (const x of g) if (!/^[0-9a-fA-F]{1,4}$/.test(x)) return undefined;
    return g;
  };
  let groups: string[];
  if (dbl >= 0) {
    const a = groupsOf(s.slice(0, dbl));
    const b = groupsOf(s.slice(dbl + 2));
    if (a === undefined || b === undefined || a.length + b.length > 7) return undefined;
    groups = [...a, ...new Array<string>(8 - a.length - b.length).fill('0'), ...b];
  } else {
    const g = groupsOf(s);
    if (g === undefined || g.length !== 8) return undefined;
    groups = g;
  }
  const w = groups.map((x) => BigInt(parseInt(x, 16)));
  if (tail4 !== undefined) {
    w[6] = BigInt(tail4 >>> 16);
    w[7] = BigInt(tail4 & 0xffff);
  }
  const hi = (w[0]! << 48n) | (w[1]! << 32n) | (w[2]! << 16n) | w[3]!;
  const lo = (w[4]! << 48n) | (w[5]! << 32n) | (w[6]! << 16n) | w[7]!;
  return [hi, lo];
}

export { LOOPBACK4, V4MAPPED_LO_PREFIX };
