// The native backend: real io_uring through the N-API helper in native/
// (liburing linked statically). The addon's exports *are* the host imports:
// `host` holds the addon's own functions, so a Wasm import call costs one
// N-API hop and no JS wrapper.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { HOST_NAMES, ZerglingError, errnoError, fdHandOff, hostCalls } from './backend.ts';
import { ENOSYS, EPERM } from './consts.ts';
import { locateNativeHelper } from './native-load.ts';
import type { Backend, Host } from './backend.ts';
import type { Cqe } from './gen/types/interfaces/zergling-reactor-host.js';

/**
 * The three pure CQE helpers only read a field of their argument, so they are
 * JS (~1 ns) rather than an N-API hop (~100 ns). The reactor core calls none
 * of them (it reads the CQE records peek-batch-cqe returns); they are WIT
 * imports for other guests, such as the probe. Same results as the addon's
 * exports of the same names (test/native/watch.test.ts compares them).
 */
export const PURE_CQE_HELPERS = Object.freeze({
  cqeGetData64: (c: Cqe): bigint => BigInt.asUintN(64, c.userData),
  cqeHasBuffer: (c: Cqe): boolean => (c.flags & 1) !== 0,
  cqeBufferId: (c: Cqe): number => ((c.flags & 1) !== 0 ? c.flags >>> 16 : -22),
});

/**
 * The fused `queue-*` imports (get-sqe + prep-* + sqe-set-data64 in one call).
 * WIT imports like the rest; listed here too so that the native host carries
 * them whether or not HOST_NAMES (shared with the simulator's trace) has them yet.
 */
export const FUSED_QUEUE_NAMES = [
  'queueMultishotAccept', 'queueRecvMultishotSelect', 'queueRecvSelect', 'queueSend', 'queueSendmsg', 'queueCancel64',
] as const satisfies readonly (keyof Host)[];

/** Every WIT import the native host hands to the component. */
const NATIVE_HOST_NAMES: readonly string[] = [...new Set<string>([...HOST_NAMES, ...FUSED_QUEUE_NAMES])];

/**
 * What the addon exports beyond the WIT imports (negative results are -errno).
 * The module's exports are one guest; `newGuest()` makes another, whose rings,
 * slabs and fds the first cannot touch (and the reverse).
 */
export interface NativeAddon extends Host {
  newGuest(): NativeAddon;
  /** This guest's fd goes into transit (no guest owns it) until `claimFd`. */
  releaseFd(fd: number): number;
  /** An fd in transit becomes this guest's. */
  claimFd(fd: number): number;
  slabBuffer(slab: number): ArrayBuffer | number;
  pinSlab(buffer: ArrayBuffer): number;
  unpinSlab(slab: number): number;
  watch(ring: number, onReady: () => void, threaded: boolean): number;
  unwatch(ring: number, id: number): number;
  quiesce(ring: number): number;
  ownedFds(): number;
  /** Fds owned by any guest in this process (all threads), or in transit between two. */
  allOwnedFds(): number;
  /** [fd, owner, ...] for every tagged fd: owner is a guest id, -1 in transit (leak diagnostics). */
  fdTags(): number[];
  /** Test introspection of a ring's in-flight accounting and op-table counters, or -EBADF. */
  ringInfo(ring: number): RingInfo | number;
}

export interface RingInfo {
  /** Recorded operations (queued by queue-*, or flushed) whose final CQE has not been read or consumed. */
  live: number;
  /** Distinct user_data values (guest tokens) among them: op-table slots in use. */
  userData: number;
  /** Slab mappings kept alive because a send may still read them. */
  quarantined: number;
  bufRings: number;
  watched: boolean;
  /** Op-table capacity (distinct tokens in flight), fixed at ring creation (ZERGLING_OP_SLOTS). */
  opSlots: number;
  /** CQEs the helper accounted for (read by the guest or consumed unread). */
  cqes: number;
  /** Token-index (hash) lookups made while accounting CQEs: 0 by design. */
  cqeHashLookups: number;
  /** Syscalls on the completion path (closing unread accepted fds, quarantine unmaps, CQ overflow flushes). */
  cqeSyscalls: number;
  /** CQEs whose user_data named no slot in use outside teardown (a helper bug; debug builds abort). */
  cqeStale: number;
  /** Token-index lookups while queueing and flushing SQEs (one per SQE, one per cancel target). */
  sqeHashLookups: number;
  /** SQEs queued by queue-* calls. */
  queued: number;
  /** get-sqe SQEs recorded at a flush. */
  flushedLegacy: number;
}

const ADDON_URL = new URL('../native/build/Release/zergling_native.node', import.meta.url);
let addon: NativeAddon | undefined;
let loadError: ZerglingError | undefined;

function nativeError(message: string): ZerglingError {
  return new ZerglingError('ERR_ZERGLING_NATIVE', message);
}

/** Loads (once) the N-API helper; throws ERR_ZERGLING_NATIVE when it cannot. */
export function loadNativeAddon(): NativeAddon {
  if (addon !== undefined) return addon;
  if (loadError !== undefined) throw loadError;
  // ZERGLING_NATIVE overrides; else a source build, else this libc's prebuild (native-load.ts).
  const path = locateNativeHelper(fileURLToPath(ADDON_URL));
  try {
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      throw nativeError(
        `the native io_uring backend needs Linux on x64 (this is ${process.platform}/${process.arch}); ` +
          'use the simulator backend instead');
    }
    if (!existsSync(path)) {
      throw nativeError(`the native helper is not built (${path} is missing): run \`make native\``);
    }
    let mod: unknown;
    try {
      mod = createRequire(import.meta.url)(path);
    } catch (e) {
      throw nativeError(`cannot load the native helper ${path}: ${(e as Error).message}`);
    }
    const m = mod as Record<string, unknown>;
    const missing = [...NATIVE_HOST_NAMES, 'newGuest', 'releaseFd', 'claimFd', 'allOwnedFds', 'fdTags'].filter((n) => typeof m[n] !== 'function');
    if (missing.length > 0) {
      throw nativeError(`the native helper ${path} is stale (no ${missing.join(', ')}): run \`make native\``);
    }
    addon = mod as NativeAddon;
    return addon;
  } catch (e) {
    loadError = e instanceof ZerglingError ? e : nativeError(String(e));
    throw loadError;
  }
}

/** True when the native helper can be loaded on this machine. */
export function nativeAvailable(): boolean {
  try {
    loadNativeAddon();
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates and destroys a tiny ring. When the kernel refuses io_uring (ENOSYS:
 * not built in or filtered by seccomp; EPERM: disabled by sysctl or policy),
 * throws a ZerglingError with that code and a message saying so.
 */
export function checkIoUring(): void {
  const a = loadNativeAddon();
  const ring = a.createRing(2);
  if (ring >= 0) {
    a.destroyRing(ring);
    return;
  }
  if (ring === -ENOSYS || ring === -EPERM) {
    const code = ring === -ENOSYS ? 'ENOSYS' : 'EPERM';
    throw new ZerglingError(
      code,
      `io_uring is unavailable: io_uring_setup failed with ${code} (${ring}). The kernel refuses io_uring ` +
        'for this process: check /proc/sys/kernel/io_uring_disabled (0 allows it; 1 only for the group in ' +
        'kernel.io_uring_group; 2 disables it) and any seccomp policy (container runtimes such as Docker ' +
        'block io_uring_setup in their default profile).',
      ring,
      'io_uring_setup');
  }
  throw errnoError(ring, 'io_uring_setup', 'cannot create an io_uring');
}

/** The number of fds all guests of this process own (all threads), plus those in transit. */
export function ownedFds(): number {
  return loadNativeAddon().allOwnedFds();
}

/** Every fd a guest of this process owns or that is in transit, with its owner (-1: in transit). Diagnostics. */
export function fdOwners(): Array<{ fd: number; owner: number }> {
  const t = loadNativeAddon().fdTags();
  const out: Array<{ fd: number; owner: number }> = [];
  for (let i = 0; i < t.length; i += 2) out.push({ fd: t[i]!, owner: t[i + 1]! });
  return out;
}

function threadedWakeups(): boolean {
  const v = process.versions as Record<string, string | undefined>;
  return v.bun !== undefined || v.deno !== undefined || process.env.ZERGLING_WATCH === 'thread';
}

/**
 * The native backend: a guest of its own, so one reactor's Wasm cannot reach
 * another's rings, slabs or fds. Wake-ups use libuv's uv_poll on Node and a
 * waiter thread on Bun/Deno (or when ZERGLING_WATCH=thread).
 */
export interface NativeBackend extends Backend {
  readonly kind: 'native';
  /** The guest's ring introspection (ringInfo): in-flight accounting and op-table counters. */
  ringInfo(ring: number): RingInfo;
}

export function createNativeBackend(): NativeBackend {
  const a = loadNativeAddon().newGuest();
  const fns = a as unknown as Record<string, unknown>;
  // The addon's own functions, unwrapped; only the pure helpers are JS.
  const host = Object.freeze({
    ...Object.fromEntries(NATIVE_HOST_NAMES.map((n) => [n, fns[n]])),
    ...PURE_CQE_HELPERS,
  }) as unknown as Host;
  const threaded = threadedWakeups();
  return {
    kind: 'native',
    host,
    ...hostCalls(host),
    slabBuffer(slab: number): ArrayBuffer {
      const r = a.slabBuffer(slab);
      if (typeof r === 'number') throw errnoError(r, 'slabBuffer', `slab ${slab}`);
      return r;
    },
    quiesce(ring: number): void {
      a.quiesce(ring);
    },
    watch(ring: number, onReady: () => void): () => void {
      const id = a.watch(ring, onReady, threaded);
      if (id < 0) throw errnoError(id, 'watch', `ring ${ring}`);
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        a.unwatch(ring, id);  // -EBADF when destroy-ring already stopped it
      };
    },
    pinSlab(buffer: ArrayBuffer): number {
      const r = a.pinSlab(buffer);
      if (r < 0) throw errnoError(r, 'pinSlab');
      return r;
    },
    unpinSlab(slab: number): void {
      const r = a.unpinSlab(slab);
      if (r < 0) throw errnoError(r, 'unpinSlab', `slab ${slab}`);
    },
    ownedFds(): number {
      return a.ownedFds();
    },
    ...fdHandOff(a),
    ringInfo(ring: number): RingInfo {
      const r = a.ringInfo(ring);
      if (typeof r === 'number') throw errnoError(r, 'ringInfo', `ring ${ring}`);
      return r;
    },
  };
}
