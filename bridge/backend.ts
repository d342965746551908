// The backend contract. `Host` is the TypeScript jco generates from
// wasm/wit/host.wit (`make wasm` writes bridge/gen/types): the native backend
// (real io_uring) and the simulator implement exactly this type, the way
// TigerBeetle's linux.zig and its simulator implement one IO interface.
import type * as HostModule from './gen/types/interfaces/zergling-reactor-host.js';
import type * as ReactorModule from './gen/types/interfaces/zergling-reactor-reactor.js';

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

/**
 * What a backend offers beyond the WIT imports: host-side access that never
 * crosses into Wasm (slab memory for the JS layer, ring wake-ups).
 */
export interface Backend {
  readonly kind: 'native' | 'sim';
  /** The WIT imports handed to the component. */
  readonly host: Host;
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

/** Linux errno names for the negative results of host calls. */
export const ERRNO: Readonly<Record<number, string>> = Object.freeze({
  1: 'EPERM', 2: 'ENOENT', 4: 'EINTR', 5: 'EIO', 9: 'EBADF', 11: 'EAGAIN', 12: 'ENOMEM',
  13: 'EACCES', 14: 'EFAULT', 16: 'EBUSY', 17: 'EEXIST', 22: 'EINVAL', 23: 'ENFILE',
  24: 'EMFILE', 32: 'EPIPE', 38: 'ENOSYS', 62: 'ETIME', 88: 'ENOTSOCK', 93: 'EPROTONOSUPPORT', 95: 'EOPNOTSUPP',
  97: 'EAFNOSUPPORT', 98: 'EADDRINUSE', 99: 'EADDRNOTAVAIL', 103: 'ECONNABORTED',
  104: 'ECONNRESET', 105: 'ENOBUFS', 107: 'ENOTCONN', 110: 'ETIMEDOUT', 111: 'ECONNREFUSED',
  114: 'EALREADY', 125: 'ECANCELED',
});

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
