// One io_uring instance: its SQ, its CQ with the overflow backlog (CQEs that
// do not fit wait there, never dropped), deferred task work and the eventfd
// wake-up of its watchers.
import * as C from '../consts.ts';
import type { BufRing } from './bufring.ts';
import type { Op } from './op.ts';
import type { Sqe } from './sqe.ts';
import type { KernelState } from './state.ts';

export interface PostedCqe {
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
export interface UdRecord {
  total: number;
  accepts: number;
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
    readonly kernel: KernelState,
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
