// The backend contract. `Host` is the TypeScript jco generates from
// wasm/wit/host.wit (`make wasm` writes bridge/gen/types): the native backend
// (real io_uring) and the simulator implement exactly this type, the way
// TigerBeetle's linux.zig and its simulator implement one IO interface.
import type * as HostModule from './gen/types/interfaces/zergling-reactor-host.js';
import type * as ReactorModule from './gen/types/interfaces/zergling-reactor-reactor.js';
import { ERRNO_NAMES } from './consts.ts';

/** Every import of `interface host`, as generated from the WIT. */
export type Host = typeof HostModule;

/**
 * Every import of `interface host` by jco's name, in WIT order: the native
 * backend copies these from the addon, the simulator binds and traces them
 * (a name's index is its id in the trace hash, so the order is part of it).
 */
export const HOST_NAMES = [
  'createRing', 'createRingEx', 'destroyRing', 'getRingFlags',
  'getSqe', 'submit', 'submitAndWait', 'submitAndWaitTimeout', 'enter',
  'waitCqe', 'waitCqeTimeout', 'waitCqes', 'peekBatchCqe', 'cqeSeen', 'cqAdvance', 'cqReady', 'sqReady',
  'prepMultishotAccept', 'prepRecvMultishotSelect', 'prepRecvSelect', 'prepSend', 'prepSendmsg', 'prepCancel64',
  'sqeSetData64', 'cqeGetData64',
  'queueMultishotAccept', 'queueRecvMultishotSelect', 'queueRecvSelect', 'queueSend', 'queueSendmsg', 'queueCancel64',
  'setupBufRing', 'freeBufRing', 'bufRingAdd', 'bufRingAdvance', 'cqeHasBuffer', 'cqeBufferId',
  'slabCreate', 'slabDestroy',
  'socket', 'bind', 'bind6', 'listen', 'setsockopt', 'close', 'fcntl', 'inetPton', 'shutdown', 'getsockname', 'getpeername',
  'pinCurrentThreadToCpu',
] as const satisfies readonly (keyof Host)[];
// A WIT import missing from HOST_NAMES fails the type check here.
type MissingHostName = Exclude<keyof Host, (typeof HOST_NAMES)[number]>;
const allHostNamesListed: [MissingHostName] extends [never] ? true : MissingHostName = true;
void allHostNamesListed;
/** Every export of `interface reactor`, as generated from the WIT. */
export type Reactor = typeof ReactorModule;
export type ReactorConfig = ReactorModule.Config;
export type ReactorStats = ReactorModule.ReactorStats;
/** The host's `sock-addr` record: `ret` < 0 when the call failed, else family, port, packed octets. */
export type SockAddr = ReturnType<Host['getpeername']>;
/** A host call's plain result: >= 0 on success (a handle, a count, 0), -errno on failure. */
export type HostResult = number;

/**
 * A 64-bit token as the fused queue-* imports take it: two u32 halves, hi
 * then lo (host.wit: a u64 would cross into JavaScript as a BigInt per SQE).
 */
export const tokenHalves = (token: bigint): [hi: number, lo: number] =>
  [Number(BigInt.asUintN(64, token) >> 32n), Number(BigInt.asUintN(32, token))];

/** The token a queue-* call's two halves carry (for hosts that keep it whole, like the simulator). */
export const tokenOf = (hi: number, lo: number): bigint => BigInt(hi >>> 0) << 32n | BigInt(lo >>> 0);

/**
 * What a backend offers beyond the WIT imports: host-side access that never
 * crosses into Wasm (slab memory for the JS layer, ring wake-ups).
 */
export interface Backend {
  readonly kind: 'native' | 'sim';
  /**
   * The WIT imports handed to the component. Only the Wasm core calls them:
   * the TypeScript layer uses the named methods below, so everything it asks
   * of the host is listed in this interface (test/contract/seam.test.ts).
   */
  readonly host: Host;
  /** Closes one of the guest's fds (one the core handed out, or owned by a dead core). */
  closeFd(fd: number): HostResult;
  /** A new slab of `size` bytes (the write slab): its handle. */
  slabCreate(size: number): HostResult;
  /** Frees a slab made by `slabCreate` (or, after a trap, the core's receive slab). */
  slabDestroy(slab: number): HostResult;
  /** Frees a ring behind the core's back: only after a trap, when the core cannot be asked. */
  destroyRing(ring: number): HostResult;
  /** The peer's address of a guest socket. */
  peerAddress(fd: number): SockAddr;
  /** The local address of a guest socket. */
  localAddress(fd: number): SockAddr;
  /** Pins the calling thread to one CPU (a cluster's reactor thread). */
  pinThreadToCpu(cpu: number): HostResult;
  /**
   * The bytes of a slab, zero copy (native: an external ArrayBuffer over the
   * registered memory; sim: a plain ArrayBuffer). Throws `EBADF` for an
   * unknown slab.
   */
  slabBuffer(slab: number): ArrayBuffer;
  /**
   * Calls `onReady` whenever the ring may have CQEs to reap (native: the
   * ring's eventfd watched by libuv). Returns a function that stops watching.
   */
  watch(ring: number, onReady: () => void): () => void;
  /**
   * The caller found nothing to do and is about to sleep: consume the pending
   * wake-up signal so that the next `onReady` means new work. Until then
   * `onReady` may run on every event-loop turn (native: a level-triggered
   * eventfd that nothing reads while the reactor is busy). The caller must
   * reap once more afterwards: a completion may have signalled just before.
   */
  quiesce(ring: number): void;
  /**
   * Lends a caller's ArrayBuffer to the kernel as a slab, without copying
   * (large writes). The buffer must stay untouched until `unpinSlab`.
   * Returns the slab handle.
   */
  pinSlab(buffer: ArrayBuffer): number;
  /** Ends a `pinSlab` loan. The guest can never destroy a pinned slab. */
  unpinSlab(slab: number): void;
  /** Number of fds the guest currently owns (socket() and accepted fds). */
  ownedFds(): number;
  /**
   * A one-shot timer on the backend's clock (the simulator's virtual clock);
   * returns a cancel function. Without it the engine uses setTimeout and
   * performance.now().
   */
  setTimer?(ms: number, fn: () => void): () => void;
  /** Milliseconds on the clock `setTimer` uses. */
  now?(): number;
  /**
   * Gives up one of the guest's fds so that another backend's guest can
   * `claimFd` it (the cluster's acceptor hands accepted fds to reactors this
   * way). Until then no guest owns it. Prepared SQEs naming it become NOPs.
   * Throws `EBADF` if the fd is not this guest's, `EBUSY` while an SQE already
   * flushed to the kernel names it.
   */
  releaseFd(fd: number): void;
  /** Makes a released fd this guest's. Throws `EBADF` if none is in transit under that number. */
  claimFd(fd: number): void;
}

/** The Backend methods that are one host call each: both backends (and test hosts) spread these in. */
export type HostCalls = Pick<Backend, 'closeFd' | 'slabCreate' | 'slabDestroy' | 'destroyRing' |
  'peerAddress' | 'localAddress' | 'pinThreadToCpu'>;

export function hostCalls(host: Host): HostCalls {
  return {
    closeFd: (fd) => host.close(fd),
    slabCreate: (size) => host.slabCreate(size),
    slabDestroy: (slab) => host.slabDestroy(slab),
    destroyRing: (ring) => host.destroyRing(ring),
    peerAddress: (fd) => host.getpeername(fd),
    localAddress: (fd) => host.getsockname(fd),
    pinThreadToCpu: (cpu) => host.pinCurrentThreadToCpu(cpu),
  };
}

/** What hands fds between guests: the addon's guest, or the simulated kernel (-errno results). */
export interface FdHandOffCalls {
  releaseFd(fd: number): number;
  claimFd(fd: number): number;
}

/** Backend.releaseFd and claimFd over a guest's own calls: a negative result throws, as Backend promises. */
export function fdHandOff(guest: FdHandOffCalls): Pick<Backend, 'releaseFd' | 'claimFd'> {
  return {
    releaseFd(fd: number): void {
      const r = guest.releaseFd(fd);
      if (r < 0) throw errnoError(r, 'releaseFd', `fd ${fd}`);
    },
    claimFd(fd: number): void {
      const r = guest.claimFd(fd);
      if (r < 0) throw errnoError(r, 'claimFd', `fd ${fd}`);
    },
  };
}

/** Linux errno names for the negative results of host calls (the generated table). */
export const ERRNO: Readonly<Record<number, string>> = ERRNO_NAMES;

/** An `Error` with Node's shape: `code` (e.g. 'EADDRINUSE') and `errno` (negative). */
export class ZerglingError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string | undefined;
  constructor(code: string, message: string, errno = 0, syscall?: string) {
    super(message);
    this.name = 'ZerglingError';
    this.code = code;
    this.errno = errno;
    this.syscall = syscall;
  }
}

/** Turns a negative host result into a `ZerglingError` (`-98` → `EADDRINUSE`). */
export function errnoError(neg: number, syscall: string, detail?: string): ZerglingError {
  const n = Math.abs(neg);
  const code = ERRNO[n] ?? `E${n}`;
  const msg = `${syscall} failed: ${code} (${-n})${detail ? ': ' + detail : ''}`;
  return new ZerglingError(code, msg, -n, syscall);
}
