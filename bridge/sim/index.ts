// The simulated backend: the same `Backend` the native one offers (kind
// 'sim'), over a deterministic model of io_uring and TCP. No N-API, no
// syscalls, no wall clock: every decision comes from one seed, so a run
// replays exactly. See DIFFERENCES.md for where the model departs from Linux.
import { errnoError, fdHandOff, hostCalls } from '../backend.ts';
import type { Backend, Host } from '../backend.ts';
import { EBADF, EBUSY, EEXIST, EINVAL } from './consts.ts';
import { SimKernel } from './kernel.ts';
import type { KernelOptions } from './kernel.ts';
import { makeHost } from './host.ts';
import type { ClientOptions, Net, SimClient } from './net.ts';
import { Trace } from './trace.ts';
import type { TraceSink } from './trace.ts';
import { World } from './world.ts';
import type { SimFaults } from './world.ts';
import { runUntil, runUntilSettled } from './drive.ts';
import type { RunUntilOptions, RunUntilResult } from './drive.ts';

export { World, DEFAULT_FAULTS } from './world.ts';
export type { SimFaults, Violation } from './world.ts';
export { SimKernel, Sock, Ring, BufRing, parseIPv4, parseIPv6 } from './kernel.ts';
export type { KernelOptions } from './kernel.ts';
export { Net, SimClient, Endpoint } from './net.ts';
export type { ClientOptions } from './net.ts';
export { Trace } from './trace.ts';
export { Prng } from './prng.ts';
export { HOST_NAMES } from './host.ts';
export * as consts from './consts.ts';
export { SimDriveError } from './drive.ts';
export type { RunUntilOptions, RunUntilResult, SimDriveCode } from './drive.ts';

export interface SimOptions extends KernelOptions {
  /** The one seed everything derives from. */
  seed: number;
  faults?: Partial<SimFaults>;
  /** Receives one readable line per host call and world event (replay with --trace). */
  trace?: TraceSink;
  /** Receive window of the guest's sockets, bytes ([min, max], drawn per connection). */
  serverWindow?: readonly [number, number];
}

export interface SimBackend extends Backend {
  readonly kind: 'sim';
  readonly world: World;
  readonly kernel: SimKernel;
  readonly net: Net;
  readonly trace: Trace;
  /** A new client on the virtual network. */
  client(opts?: ClientOptions): SimClient;
  /**
   * Runs the world until idle (or `until()` holds, or `maxSteps`), without
   * returning to the event loop: only for code that reacts synchronously in
   * its wake-up callbacks (the raw reactor API). An app on `listen()` needs
   * `runUntil`.
   */
  run(maxSteps?: number, until?: () => boolean): boolean;
  /**
   * Drives virtual time and the JavaScript event loop together until
   * `until()` holds: world events up to each ring wake-up, then one
   * event-loop turn so the app's promises (and the engine's end-of-turn
   * submit) run, and again. Resolves with the work it took. Rejects with a
   * `SimDriveError`: `ERR_SIM_STALLED` when the world is idle and the app
   * stays quiet while `until()` is false, `ERR_SIM_TIMEOUT` when a bound of
   * `options` is hit. The same seed and the same app replay the same trace.
   */
  runUntil(until: () => boolean, options?: RunUntilOptions): Promise<RunUntilResult>;
  /** The same for a promise (e.g. `server.close()`): resolves with its value, rejects with its error. */
  runUntil<T>(until: PromiseLike<T>, options?: RunUntilOptions): Promise<T>;
}

export function createSimBackend(opts: SimOptions): SimBackend {
  const trace = new Trace(opts.trace);
  const world = new World(opts.seed, opts.faults, trace);
  const kernel = new SimKernel(world, opts);
  if (opts.serverWindow !== undefined) kernel.net.serverWindow = opts.serverWindow;
  const host: Host = makeHost(kernel, trace);
  const pinned = new Set<number>();
  let wakes = 0;
  const target = { world, trace, wakes: () => wakes };
  return {
    kind: 'sim',
    host,
    ...hostCalls(host), // through the traced host: these calls are in the trace hash too
    world,
    kernel,
    net: kernel.net,
    trace,
    slabBuffer(slab: number): ArrayBuffer {
      const s = kernel.slabs.get(slab);
      if (s === undefined) throw errnoError(-EBADF, 'slabBuffer', `unknown slab ${slab}`);
      return s.buffer;
    },
    // The simulated eventfd wakes its watchers once per signal: nothing to consume.
    quiesce(): void {},
    watch(ring: number, onReady: () => void): () => void {
      const r = kernel.ring(ring);
      if (r === undefined) throw errnoError(-EBADF, 'watch', `unknown ring ${ring}`);
      const cb = (): void => {
        wakes++;
        onReady();
      };
      r.watchers.add(cb);
      // like a level-triggered eventfd that already has a count: wake if work is waiting
      if (r.cqCount > 0 || r.overflow.length > 0 || r.taskWork.length > 0) r.signal();
      return () => {
        r.watchers.delete(cb);
      };
    },
    pinSlab(buffer: ArrayBuffer): number {
      if (buffer.byteLength === 0) throw errnoError(-EINVAL, 'pinSlab', 'empty buffer');
      for (const sl of kernel.slabs.values()) {
        if (sl.buffer === buffer) throw errnoError(-EEXIST, 'pinSlab', `already slab ${sl.handle}`);
      }
      const h = kernel.addSlab(buffer, true);
      pinned.add(h);
      return h;
    },
    unpinSlab(slab: number): void {
      const p = kernel.isPinned(slab);
      if (p === undefined) throw errnoError(-EBADF, 'unpinSlab', `slab ${slab}`);
      if (!p || !pinned.has(slab)) throw errnoError(-EINVAL, 'unpinSlab', `slab ${slab} is not pinned`);
      if (kernel.slabInUse(slab)) throw errnoError(-EBUSY, 'unpinSlab', `slab ${slab} is in a buffer ring`);
      pinned.delete(slab);
      kernel.removeSlab(slab);
    },
    ownedFds(): number {
      return kernel.ownedFdCount();
    },
    // Timers on the virtual clock (the engine's timeout sweeps): an app event,
    // so it runs between world events like a wake-up. A cancelled timer stays
    // queued and fires as a no-op.
    setTimer(ms: number, fn: () => void): () => void {
      let live = true;
      world.appAfter(Math.max(0, ms) * 1e6, () => {
        if (!live) return;
        fn();
        wakes++; // like a wake-up: runUntil lets JavaScript react before the world moves on
      });
      return () => { live = false; };
    },
    now(): number {
      return world.now / 1e6;
    },
    ...fdHandOff(kernel),
    client(o?: ClientOptions): SimClient {
      return kernel.net.client(o);
    },
    run(maxSteps?: number, until?: () => boolean): boolean {
      return world.run(maxSteps, until);
    },
    runUntil<T>(until: (() => boolean) | PromiseLike<T>, options?: RunUntilOptions): Promise<never> {
      // One implementation behind the two overloads: the casts only pick the overload's result type.
      return (typeof until === 'function'
        ? runUntil(target, until, options)
        : runUntilSettled(target, until, options)) as Promise<never>;
    },
  };
}
