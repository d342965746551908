// The simulated backend: the same `Backend` the native one offers (kind
// 'sim'), over a deterministic model of io_uring and TCP. No N-API, no
// syscalls, no wall clock: every decision comes from one seed, so a run
// replays exactly. See DIFFERENCES.md for where the model departs from Linux.
import { errnoError } from '../backend.ts';
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
  /** Runs the world until idle (or `until()` holds, or `maxSteps`). */
  run(maxSteps?: number, until?: () => boolean): boolean;
}

export function createSimBackend(opts: SimOptions): SimBackend {
  const trace = new Trace(opts.trace);
  const world = new World(opts.seed, opts.faults, trace);
  const kernel = new SimKernel(world, opts);
  if (opts.serverWindow !== undefined) kernel.net.serverWindow = opts.serverWindow;
  const host: Host = makeHost(kernel, trace);
  const pinned = new Set<number>();
  return {
    kind: 'sim',
    host,
    world,
    kernel,
    net: kernel.net,
    trace,
    slabBuffer(slab: number): ArrayBuffer {
      const s = kernel.slabs.get(slab);
      if (s === undefined) throw errnoError(-EBADF, 'slabBuffer', `unknown slab ${slab}`);
      return s.buffer;
    },
    watch(ring: number, onReady: () => void): () => void {
      const r = kernel.ring(ring);
      if (r === undefined) throw errnoError(-EBADF, 'watch', `unknown ring ${ring}`);
      const cb = (): void => onReady();
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
    releaseFd(fd: number): void {
      const r = kernel.releaseFd(fd);
      if (r < 0) throw errnoError(r, 'releaseFd', `fd ${fd}`);
    },
    claimFd(fd: number): void {
      const r = kernel.claimFd(fd);
      if (r < 0) throw errnoError(r, 'claimFd', `fd ${fd}`);
    },
    client(o?: ClientOptions): SimClient {
      return kernel.net.client(o);
    },
    run(maxSteps?: number, until?: () => boolean): boolean {
      return world.run(maxSteps, until);
    },
  };
}
