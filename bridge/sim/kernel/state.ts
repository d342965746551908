// What every concern module works on: the kernel's tables, counters and
// options, and the wake-up path that re-runs armed requests. The host calls
// (kernel.ts) and the engines take this state as their first argument, so
// each concern lives in one file without a class spread across them.
import { Net } from '../net.ts';
import type { World } from '../world.ts';
import { attempt } from './attempt.ts';
import type { BufRing } from './bufring.ts';
import { FdTable, PlainFile } from './files.ts';
import { later } from './op.ts';
import type { Op } from './op.ts';
import type { Ring } from './ring.ts';
import type { Slab } from './slabs.ts';
import type { Sock } from './socket.ts';
import type { Sqe } from './sqe.ts';
import type { KernelOptions } from './types.ts';

export class KernelState {
  readonly net: Net;
  readonly opts: Required<KernelOptions>;
  readonly files: FdTable;
  readonly rings = new Map<number, Ring>();
  readonly bufRings = new Map<number, BufRing>();
  readonly slabs = new Map<number, Slab>();
  /** SQE handles not yet spent by a submit. */
  readonly sqes = new Map<number, Sqe>();
  readonly liveSockets = new Set<Sock>();
  /** Every socket accept ever produced (for closed-exactly-once checks). */
  readonly acceptedSocks: Sock[] = [];
  nextSqe = 1;
  nextOp = 1;
  nextEphemeral: number;
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
    this.files = new FdTable(this.opts.fdLimit);
    // stdio belongs to the host runtime, never to the guest
    for (let i = 0; i < 3; i++) this.files.install(new PlainFile('std'), false);
    this.nextEphemeral = 32768 + world.rng.below(16384);
  }

  /** Something changed on `sock`: every request armed on it tries again. */
  wake(sock: Sock): void {
    for (const op of sock.waiters) this.kick(op);
  }

  kick(op: Op): void {
    if (op.state !== 'armed' || op.kickPending) return;
    op.kickPending = true;
    const run = (): void => {
      op.kickPending = false;
      if (op.state === 'armed' && this.rings.get(op.ring.handle) === op.ring) attempt(this, op);
    };
    later(this, op.ring, run);
  }
}
