// Listen options: types, defaults, and validation. Everything here runs before
// any resource (ring, slab, socket) is taken, so a bad option costs nothing.
import { isIP } from 'node:net';
import type { Backend, ReactorConfig } from '../bridge/backend.ts';
import { invalidArgType, invalidArgValue, outOfRange } from './errors.ts';

/** IORING_SETUP_* flags (linux/io_uring.h). */
export const RingFlags = Object.freeze({
  SQPOLL: 0x2,
  SQ_AFF: 0x4,
  COOP_TASKRUN: 0x100,
  SINGLE_ISSUER: 0x1000,
  DEFER_TASKRUN: 0x2000,
} as const);

/** Reactor tuning; mirrors zerg's ReactorConfig. Every field is optional. */
export interface ReactorOptions {
  /** IORING_SETUP_SQPOLL: a kernel thread polls the SQ. Default false. */
  sqpoll?: boolean;
  /** IORING_SETUP_SINGLE_ISSUER. Default true. */
  singleIssuer?: boolean;
  /**
   * IORING_SETUP_DEFER_TASKRUN (needs singleIssuer, excludes sqpoll). Default false: completions then
   * wait for the reactor's own enter (at most 20 run per enter, one enter per turn), and under
   * pipelined or bulk load that left the reactor and its peers idle (bench/README.md has the A/B).
   */
  deferTaskrun?: boolean;
  /** IORING_SETUP_COOP_TASKRUN (no IPI to run task work). Default: true when deferTaskrun is off and sqpoll is off. */
  coopTaskrun?: boolean;
  /** CPU the SQPOLL thread is pinned to (-1: not pinned). Default -1. */
  sqThreadCpu?: number;
  /** Idle time before the SQPOLL thread sleeps, ms. Default 1000. */
  sqThreadIdleMs?: number;
  /** SQ entries (the CQ gets twice as many). 1..32768, default 2048. */
  ringEntries?: number;
  /** Bytes per provided receive buffer. 64..16 MiB, default 32768 (bulk transfers take half the CQEs of 16 KiB; small messages touch one page of a buffer either way). */
  recvBufferSize?: number;
  /** Buffers in the provided-buffer ring: a power of two, 1..32768, default 512. */
  bufferRingEntries?: number;
  /** Max CQEs reaped per tick. 1..65536, default 512. */
  cqeBatch?: number;
  /** Connections beyond this are closed at accept and counted. 1..1048576, default 65536. */
  maxConnections?: number;
  /** IOU_PBUF_RING_INC: the kernel packs several receives into one buffer. Default false. */
  incremental?: boolean;
  /** Bytes of the reactor's write slab (copies of written data wait there for the kernel). Default 4 MiB. */
  writeSlabSize?: number;
  /**
   * Per-connection bytes handed to the kernel and not yet sent, beyond which
   * `write()` returns false and further writes wait in JS. Default 256 KiB.
   */
  highWaterMark?: number;
  /**
   * Receive buffers one connection may hold (chunks not released, zero-copy
   * sends not completed) before it stops receiving; the kernel's TCP window
   * then pushes back on that peer alone. It resumes at half. 1..bufferRingEntries,
   * default bufferRingEntries / 8 (at least 1).
   */
  recvBudget?: number;
  /**
   * Receive buffers kept for connections that hold none: once no more than
   * this many are free, every connection holding any is paused until it holds
   * none, so new and quiet connections are always served.
   * 0..bufferRingEntries - 1, default bufferRingEntries / 4.
   */
  recvReserve?: number;
  /**
   * Size of the reactor's fd-indexed tables: an accepted descriptor numbered at
   * or above this is refused (closed and counted in `rejected`).
   * 64..16777216, default max(65536, 2 * maxConnections + 1024).
   */
  maxFd?: number;
  /** Write ranges all connections may have queued in the core together. 1024..16777216, default max(16384, 4 * maxConnections). */
  sendRanges?: number;
}

export type IpVersion = 'v4' | 'v6' | 'dual';

export interface ListenOptions<C> {
  /** TCP port, 0..65535; 0 (the default) picks a free one. */
  port?: number;
  /** Address to bind. Default '127.0.0.1' ('::' when ipVersion is 'v6' or 'dual'). */
  host?: string;
  /** Default: 'v6' when `host` contains ':', else 'v4'. 'dual' binds an IPv6 socket that also accepts IPv4. */
  ipVersion?: IpVersion;
  /** listen(2) backlog. Default 511 (Node's). */
  backlog?: number;
  /**
   * SO_REUSEPORT: several servers (one per worker thread or process) bind the
   * same port and the kernel spreads connections among them. Default false.
   */
  reusePort?: boolean;
  /** Aborting closes the server (as `close()`). */
  signal?: AbortSignal;
  /** 'native' (real io_uring, the default) or a `Backend` instance (e.g. the simulator). */
  backend?: 'native' | Backend;
  /** Called for every new connection; a rejected promise destroys that connection. */
  onConnection?: (conn: C) => void | Promise<void>;
  /** Listener-level errors (accept failures the reactor survived or gave up on). */
  onError?: (err: Error) => void;
  /**
   * Closes a connection (ETIMEDOUT) that moved no byte in either direction for
   * this long. 0 (the default) never does: plain TCP carries long-lived, often
   * silent protocols, as Node's `net` assumes; set it for request/response
   * servers. Checked by a sweep every quarter of the timeout, so a connection
   * is closed between 1x and 1.25x after its last byte.
   */
  idleTimeoutMs?: number;
  /**
   * Aborts (ETIMEDOUT) a connection that was ended or gracefully closed but
   * could not send its queued bytes for this long: a peer that never reads.
   * 0 disables. Default 30000.
   */
  endTimeoutMs?: number;
  reactor?: ReactorOptions;
}

/** Everything validated and defaulted. */
export interface ResolvedOptions {
  port: number;
  host: string;
  family: 4 | 6 | 0;
  backlog: number;
  reusePort: boolean;
  writeSlabSize: number;
  highWaterMark: number;
  /** How often the engine calls the core's sweep (0: never). */
  sweepMs: number;
  config: ReactorConfig;
}

const KNOWN_TOP = new Set(['port', 'host', 'ipVersion', 'backlog', 'reusePort', 'signal', 'backend', 'onConnection',
  'onError', 'idleTimeoutMs', 'endTimeoutMs', 'reactor']);
const KNOWN_REACTOR = new Set([
  'sqpoll', 'singleIssuer', 'deferTaskrun', 'coopTaskrun', 'sqThreadCpu', 'sqThreadIdleMs', 'ringEntries',
  'recvBufferSize', 'bufferRingEntries', 'cqeBatch', 'maxConnections', 'incremental',
  'writeSlabSize', 'highWaterMark', 'recvBudget', 'recvReserve', 'maxFd', 'sendRanges',
]);

function int(name: string, v: unknown, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number') throw invalidArgType(name, 'of type number', v);
  if (!Number.isInteger(v)) throw outOfRange(name, 'an integer', v);
  if (v < min || v > max) throw outOfRange(name, `>= ${min} && <= ${max}`, v);
  return v;
}

function bool(name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw invalidArgType(name, 'of type boolean', v);
  return v;
}

function checkKeys(name: string, obj: object, known: Set<string>): void {
  for (const k of Object.keys(obj)) {
    if (!known.has(k)) throw invalidArgValue(`${name}.${k}`, (obj as Record<string, unknown>)[k], 'is not a known option');
  }
}

/** Validates `options`; throws TypeError/RangeError with a `code` on the first bad field. */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalidArgType('options', 'of type object', options);
  }
  const o = options as Record<string, unknown>;
  checkKeys('options', o, KNOWN_TOP);

  const port = int('options.port', o.port, 0, 0, 65535);
  const backlog = int('options.backlog', o.backlog, 511, 1, 65535);
  const reusePort = bool('options.reusePort', o.reusePort, false);

  let ipVersion: IpVersion | undefined;
  if (o.ipVersion !== undefined) {
    if (typeof o.ipVersion !== 'string') throw invalidArgType('options.ipVersion', 'of type string', o.ipVersion);
    if (o.ipVersion !== 'v4' && o.ipVersion !== 'v6' && o.ipVersion !== 'dual') {
      throw invalidArgValue('options.ipVersion', o.ipVersion, "must be one of: 'v4', 'v6', 'dual'");
    }
    ipVersion = o.ipVersion;
  }
  let host: string;
  if (o.host === undefined) {
    host = ipVersion === 'v6' || ipVersion === 'dual' ? '::' : '127.0.0.1';
  } else {
    if (typeof o.host !== 'string') throw invalidArgType('options.host', 'of type string', o.host);
    host = o.host === 'localhost' ? (ipVersion === 'v6' ? '::1' : '127.0.0.1') : o.host;
  }
  const ip = isIP(host);
  if (ip === 0) throw invalidArgValue('options.host', host, "must be a numeric IPv4 or IPv6 address (or 'localhost')");
  const looksV6 = ip === 6;
  ipVersion ??= looksV6 ? 'v6' : 'v4';
  if (ipVersion === 'v4' && looksV6) throw invalidArgValue('options.host', host, "is an IPv6 address but ipVersion is 'v4'");
  if (ipVersion !== 'v4' && !looksV6) throw invalidArgValue('options.host', host, `is not an IPv6 address but ipVersion is '${ipVersion}'`);
  const family = ipVersion === 'v4' ? 4 : ipVersion === 'v6' ? 6 : 0;

  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw invalidArgType('options.signal', 'an instance of AbortSignal', o.signal);
  }
  if (o.backend !== undefined && o.backend !== 'native') {
    const b = o.backend as Partial<Backend> | null;
    if (b === null || typeof b !== 'object' || typeof b.slabBuffer !== 'function' ||
        typeof b.watch !== 'function' || typeof b.host !== 'object' || typeof b.closeFd !== 'function') {
      throw invalidArgType('options.backend', "'native' or a Backend", o.backend);
    }
  }
  if (o.onConnection !== undefined && typeof o.onConnection !== 'function') {
    throw invalidArgType('options.onConnection', 'of type function', o.onConnection);
  }
  if (o.onError !== undefined && typeof o.onError !== 'function') {
    throw invalidArgType('options.onError', 'of type function', o.onError);
  }

  let r: Record<string, unknown> = {};
  if (o.reactor !== undefined) {
    if (o.reactor === null || typeof o.reactor !== 'object' || Array.isArray(o.reactor)) {
      throw invalidArgType('options.reactor', 'of type object', o.reactor);
    }
    r = o.reactor as Record<string, unknown>;
    checkKeys('options.reactor', r, KNOWN_REACTOR);
  }
  const sqpoll = bool('options.reactor.sqpoll', r.sqpoll, false);
  const singleIssuer = bool('options.reactor.singleIssuer', r.singleIssuer, true);
  const deferTaskrun = bool('options.reactor.deferTaskrun', r.deferTaskrun, false);
  if (deferTaskrun && !singleIssuer) {
    throw invalidArgValue('options.reactor.deferTaskrun', true, 'requires singleIssuer: true');
  }
  if (deferTaskrun && sqpoll) {
    throw invalidArgValue('options.reactor.deferTaskrun', true, 'cannot be combined with sqpoll: true');
  }
  const coopTaskrun = bool('options.reactor.coopTaskrun', r.coopTaskrun, !deferTaskrun && !sqpoll);
  const sqThreadCpu = int('options.reactor.sqThreadCpu', r.sqThreadCpu, -1, -1, 4095);
  const sqThreadIdleMs = int('options.reactor.sqThreadIdleMs', r.sqThreadIdleMs, 1000, 0, 0x7fffffff);
  if (!sqpoll && r.sqThreadCpu !== undefined && sqThreadCpu >= 0) {
    throw invalidArgValue('options.reactor.sqThreadCpu', sqThreadCpu, 'needs sqpoll: true');
  }
  const ringEntries = int('options.reactor.ringEntries', r.ringEntries, 2048, 1, 32768);
  const recvBufferSize = int('options.reactor.recvBufferSize', r.recvBufferSize, 32768, 64, 16 << 20);
  const bufferRingEntries = int('options.reactor.bufferRingEntries', r.bufferRingEntries, 512, 1, 32768);
  if ((bufferRingEntries & (bufferRingEntries - 1)) !== 0) {
    throw outOfRange('options.reactor.bufferRingEntries', 'a power of two', bufferRingEntries);
  }
  if (recvBufferSize * bufferRingEntries > 0x7fffffff) {
    throw outOfRange('options.reactor.recvBufferSize',
      `<= ${Math.floor(0x7fffffff / bufferRingEntries)} with bufferRingEntries ${bufferRingEntries} (recv slab < 2 GiB)`,
      recvBufferSize);
  }
  const cqeBatch = int('options.reactor.cqeBatch', r.cqeBatch, 512, 1, 65536);
  const maxConnections = int('options.reactor.maxConnections', r.maxConnections, 65536, 1, 1 << 20);
  const incremental = bool('options.reactor.incremental', r.incremental, false);
  const writeSlabSize = int('options.reactor.writeSlabSize', r.writeSlabSize, 4 << 20, 64 << 10, 1 << 30);
  const highWaterMark = int('options.reactor.highWaterMark', r.highWaterMark, 256 << 10, 1, 1 << 30);
  const recvBudget = int('options.reactor.recvBudget', r.recvBudget, Math.max(1, bufferRingEntries >>> 3), 1, bufferRingEntries);
  const recvReserve = int('options.reactor.recvReserve', r.recvReserve, bufferRingEntries >>> 2, 0, bufferRingEntries - 1);
  const maxFd = int('options.reactor.maxFd', r.maxFd, Math.max(65536, 2 * maxConnections + 1024), 64, 1 << 24);
  const sendRanges = int('options.reactor.sendRanges', r.sendRanges, Math.max(16384, 4 * maxConnections), 1024, 1 << 24);
  const idleTimeoutMs = int('options.idleTimeoutMs', o.idleTimeoutMs, 0, 0, 0x7fffffff);
  const endTimeoutMs = int('options.endTimeoutMs', o.endTimeoutMs, 30_000, 0, 0x7fffffff);
  const timeouts = [idleTimeoutMs, endTimeoutMs].filter((t) => t > 0);
  // A quarter of the shortest timeout, within [10 ms, 1 s]: coarse on purpose,
  // one pass over the table per sweep and no timer per connection.
  const sweepMs = timeouts.length === 0 ? 0 : Math.min(1000, Math.max(10, Math.floor(Math.min(...timeouts) / 4)));

  let ringFlags = 0;
  if (sqpoll) ringFlags |= RingFlags.SQPOLL | (sqThreadCpu >= 0 ? RingFlags.SQ_AFF : 0);
  if (singleIssuer) ringFlags |= RingFlags.SINGLE_ISSUER;
  if (deferTaskrun) ringFlags |= RingFlags.DEFER_TASKRUN;
  if (coopTaskrun) ringFlags |= RingFlags.COOP_TASKRUN;

  return {
    port, host, family, backlog, reusePort, writeSlabSize, highWaterMark, sweepMs,
    config: {
      ringEntries, ringFlags, sqThreadCpu, sqThreadIdleMs, recvBufferSize, bufferRingEntries,
      cqeBatch, maxConnections, incremental, bufGroup: 0, recvBudget, recvReserve,
      idleTimeoutMs, endTimeoutMs, maxFd, sendRanges,
    },
  };
}
