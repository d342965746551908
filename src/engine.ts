// The engine: one reactor (ring + Wasm core + slabs) driven from Node's event
// loop. A ring wake-up runs one tick (reap a batch, dispatch it in Wasm), the
// events resolve the app's promises, the app's writes land in the core during
// the same turn, and one setImmediate per dirty turn submits them all with a
// single enter. Nothing here waits: when more CQEs are ready than one batch,
// the next batch runs in a later turn, so timers and other I/O interleave.
import type { Backend, Reactor, ReactorStats } from '../bridge/backend.ts';
import { ZerglingError, errnoError } from '../bridge/backend.ts';
import { loadReactor } from '../bridge/index.ts';
import { formatSockAddr, type SocketAddress } from './addr.ts';
import { listenError } from './errors.ts';
import { Connection, type ConnectionEngine } from './connection.ts';
import type { ResolvedOptions } from './options.ts';
import { WriteSlab } from './write-slab.ts';

// Event kinds (wasm/wit/reactor.wit): 4 words per event, w0 = kind | conn << 8.
import {
  ECANCELED, EIO, EMFILE, ENFILE, EV_CLOSED, EV_DATA, EV_EOF, EV_ERROR, EV_HANDOFF, EV_OPEN, EV_SENT,
  LISTEN_REUSEPORT,
} from '../bridge/consts.ts';

/** Retry delay of an accept parked because the process ran out of fds. */
const ACCEPT_RETRY_MS = 100;

/** A trap inside the core: WebAssembly.RuntimeError (unreachable, out of bounds, ...). */
function isTrap(err: unknown): boolean {
  return err instanceof WebAssembly.RuntimeError;
}

export interface EngineHooks {
  onOpen(conn: Connection): void;
  /**
   * The core trapped (a bug in it): every fd it owned is closed, every
   * connection is closed with ERR_REACTOR_TRAP, and the engine is dead.
   */
  onFatal(err: ZerglingError): void;
  /** Loads the core (tests load deliberately broken ones). Default: the real core. */
  load?(backend: Backend): Reactor;
  onListenerError(err: ZerglingError, gaveUp: boolean): void;
  /**
   * Cluster hook (src/cluster): binds instead of `reactor.listen(...)`, e.g.
   * with SO_REUSEPORT, or not at all for a reactor fed by an acceptor (returns
   * the port, 0, or -errno).
   */
  bind?(reactor: Reactor): number;
}

interface Pin {
  slab: number;
  refs: number;
}

export interface EngineCounters {
  /** Calls of reactor.tick() from JS. */
  ticks: number;
  /** Calls of reactor.submit() from JS (at most one per turn). */
  submits: number;
  /** Events dispatched. */
  events: number;
}

export class Engine implements ConnectionEngine {
  readonly backend: Backend;
  readonly reactor: Reactor;
  readonly ring: number;
  readonly recvSlab: number;
  readonly recvBuffer: ArrayBuffer;
  readonly recvBufferSize: number;
  readonly bufferCount: number;
  readonly writeSlab: WriteSlab;
  readonly highWaterMark: number;
  readonly port: number;
  alive = true;
  /** Events of a kind this engine does not know (a newer core): skipped. */
  unknownEvents = 0;
  readonly counters: EngineCounters = { ticks: 0, submits: 0, events: 0 };

  readonly #hooks: EngineHooks;
  readonly #raw: Reactor;
  readonly #listenerFd: number;
  readonly #sweepMs: number;
  readonly #idleTimeout: boolean;
  readonly #endTimeout: boolean;
  /** Connections that called end() or close() and are not closed yet (what endTimeoutMs watches). */
  readonly #ending = new Set<Connection>();
  #sweepCancel: (() => void) | undefined;
  #sweepAt = 0;
  /** Connections whose write the core refused for want of ranges (-ENOBUFS): retried after each tick. */
  readonly #blocked = new Set<Connection>();
  readonly #conns: (Connection | undefined)[] = [];
  #open = 0;
  /** References the app holds on each receive buffer (chunks not released). */
  readonly #appRefs: Uint32Array;
  #heldChunks = 0;
  /** Whether data events have always pointed inside buffer `bid` at `bid * size`. */
  #linearLayout = true;
  readonly #pins = new Map<ArrayBuffer, Pin>();
  readonly #pinBySlab = new Map<number, ArrayBuffer>();
  #dirty = false;
  #more = false;
  #immediate: NodeJS.Immediate | undefined;
  readonly #unwatch: () => void;
  #allClosed: (() => void) | null = null;
  #final: ReactorStats | undefined;

  /**
   * Takes every resource in order and gives back what it took if a later step
   * fails (so a failed listen leaves no fd, ring or slab behind).
   */
  static start(backend: Backend, opts: ResolvedOptions, hooks: EngineHooks): Engine {
    const reactor = hooks.load ? hooks.load(backend) : loadReactor(backend);
    const rc = reactor.create(opts.config);
    if (rc < 0) throw errnoError(rc, 'io_uring_setup', 'creating the reactor');
    let writeSlab = -1;
    try {
      writeSlab = backend.slabCreate(opts.writeSlabSize);
      if (writeSlab < 0) throw errnoError(writeSlab, 'slab_create', `${opts.writeSlabSize} bytes`);
      const port = hooks.bind ? hooks.bind(reactor)
        : opts.reusePort ? reactor.listenEx(opts.host, opts.port, opts.family, opts.backlog, LISTEN_REUSEPORT)
        : reactor.listen(opts.host, opts.port, opts.family, opts.backlog);
      if (port < 0) {
        throw listenError(port, opts.host, opts.port);
      }
      return new Engine(backend, reactor, opts, port, writeSlab, hooks);
    } catch (err) {
      reactor.destroy();
      if (writeSlab >= 0) backend.slabDestroy(writeSlab);
      throw err;
    }
  }

  private constructor(backend: Backend, reactor: Reactor, opts: ResolvedOptions, port: number,
    writeSlab: number, hooks: EngineHooks) {
    this.backend = backend;
    this.#raw = reactor;
    this.reactor = this.#guard(reactor);
    this.port = port;
    this.#hooks = hooks;
    this.#listenerFd = reactor.stats().listenerFd;
    this.#sweepMs = opts.sweepMs;
    this.#idleTimeout = opts.config.idleTimeoutMs > 0;
    this.#endTimeout = opts.config.endTimeoutMs > 0;
    this.highWaterMark = opts.highWaterMark;
    this.recvBufferSize = opts.config.recvBufferSize;
    this.bufferCount = opts.config.bufferRingEntries;
    this.#appRefs = new Uint32Array(this.bufferCount);
    this.recvSlab = reactor.recvSlab();
    this.recvBuffer = backend.slabBuffer(this.recvSlab);
    this.writeSlab = new WriteSlab(writeSlab, backend.slabBuffer(writeSlab));
    this.ring = reactor.ring();
    this.#unwatch = backend.watch(this.ring, this.#onReady);
    // Accepts may already be waiting: reap them without waiting for a wake-up.
    this.#more = true;
    this.#schedule();
  }

  /**
   * The core as the rest of the TS layer sees it: a trap in any call (a bug in
   * the core) fails the engine once (#fatal) and every later call gets -EIO
   * (or an empty event batch), so one bad reactor never throws into app code
   * or takes the process down.
   */
  #guard(raw: Reactor): Reactor {
    const fail = (err: unknown): void => {
      if (!isTrap(err)) throw err;
      this.#fatal(err as Error);
    };
    const noEvents = new Uint32Array(0);
    const call = <A extends unknown[]>(f: (...a: A) => number) => (...a: A): number => {
      if (!this.alive) return -EIO;
      try { return f.apply(raw, a); } catch (err) { fail(err); return -EIO; }
    };
    return {
      ...raw,
      tick: (): Uint32Array => {
        if (!this.alive) return noEvents;
        try { return raw.tick(); } catch (err) { fail(err); return noEvents; }
      },
      submit: call(raw.submit),
      write: call(raw.write),
      shutdown: call(raw.shutdown),
      close: call(raw.close),
      release: call(raw.release),
      sweep: call(raw.sweep),
      pending: (): number => {
        if (!this.alive) return 0;
        try { return raw.pending(); } catch (err) { fail(err); return 0; }
      },
      stopAccepting: call(raw.stopAccepting),
      stats: () => {
        if (!this.alive) return this.#final ?? raw.stats();
        try { return raw.stats(); } catch (err) { fail(err); return this.#final!; }
      },
    } as Reactor;
  }

  /** The core trapped: take back everything it held, report once, stay dead. */
  #fatal(cause: Error): void {
    if (!this.alive) return;
    this.alive = false;
    const err = new ZerglingError('ERR_REACTOR_TRAP', `the reactor core trapped: ${cause.message}`);
    (err as Error & { cause?: unknown }).cause = cause;
    this.#unwatch();
    if (this.#immediate !== undefined) { clearImmediate(this.#immediate); this.#immediate = undefined; }
    this.#sweepCancel?.();
    const b = this.backend;
    // The core's own tables cannot be trusted any more: close what the TS layer
    // knows it owns (every connection's fd, the listener), then the ring and slabs.
    const conns = this.connections();
    for (const c of conns) b.closeFd(c.fd);
    if (this.#listenerFd >= 0) b.closeFd(this.#listenerFd);
    for (const c of conns) c.dropChunks();
    this.#final = { ...this.#final ?? this.#zeroStats(), connectionsOpen: 0 };
    for (const c of conns) c.onClosed(EIO, err);
    b.destroyRing(this.ring);
    b.slabDestroy(this.recvSlab);
    b.slabDestroy(this.writeSlab.handle);
    for (const p of this.#pins.values()) this.backend.unpinSlab(p.slab);
    this.#pins.clear();
    this.#pinBySlab.clear();
    this.#hooks.onFatal(err);
  }

  #zeroStats(): ReactorStats {
    const z = 0n;
    return {
      connectionsOpen: 0, accepted: z, rejected: z, closed: z, buffersKernel: 0, buffersApp: 0,
      buffersReturning: 0, enobufs: z, staleCqes: z, sends: z, shortSends: z, bytesIn: z, bytesOut: z,
      cqes: z, ticks: z, ringFlags: 0, connectionsPaused: 0, pauses: z, idleTimeouts: z, endTimeouts: z,
      recvBudget: 0, recvReserve: 0, listenerFd: -1,
    };
  }

  // ------------------------------------------------------------------ timeouts

  #now(): number {
    return this.backend.now ? this.backend.now() : performance.now();
  }

  /**
   * Sweeps run only while there is something to time out (open connections
   * with idleTimeoutMs, ending ones with endTimeoutMs), so an idle server, or
   * a simulated world, can rest.
   */
  #sweepWanted(): boolean {
    return (this.#idleTimeout && this.#open > 0) || (this.#endTimeout && this.#ending.size > 0);
  }

  #armSweep(): void {
    if (this.#sweepMs === 0 || this.#sweepCancel !== undefined || !this.alive || !this.#sweepWanted()) return;
    this.#sweepAt = this.#now();
    const run = (): void => {
      this.#sweepCancel = undefined;
      if (!this.alive) return;
      const now = this.#now();
      const elapsed = Math.max(0, Math.min(0xffffffff, Math.round(now - this.#sweepAt)));
      this.#sweepAt = now;
      if (this.reactor.sweep(elapsed) > 0) this.requestTick();
      if (this.#sweepWanted()) this.#sweepCancel = this.#timer(this.#sweepMs, run);
    };
    this.#sweepCancel = this.#timer(this.#sweepMs, run);
  }

  #timer(ms: number, fn: () => void): () => void {
    if (this.backend.setTimer) return this.backend.setTimer(ms, fn);
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  }

  /** @internal `conn` called end() or close(): endTimeoutMs applies to it now. */
  connectionEnding(conn: Connection): void {
    if (!this.#endTimeout || this.#ending.has(conn)) return;
    this.#ending.add(conn);
    this.#armSweep();
  }

  /** @internal A write was refused for want of ranges: retry after the next tick. */
  writeBlocked(conn: Connection): void {
    this.#blocked.add(conn);
  }

  // ------------------------------------------------------------------ the turn

  // A wake-up ticks at once: its one io_uring_enter submits what is queued and
  // (DEFER_TASKRUN) runs the deferred completions. What the app writes in
  // response goes out with one submit at the end of the turn.
  readonly #onReady = (): void => {
    if (this.alive) this.#tick();
  };

  readonly #turnEnd = (): void => {
    this.#immediate = undefined;
    if (!this.alive) return;
    if (this.#more) {
      this.#tick(); // submits what the turn queued, then reaps the next batch
    } else if (this.#dirty) {
      this.#dirty = false;
      this.counters.submits++;
      this.reactor.submit();
    }
  };

  #schedule(): void {
    this.#immediate ??= setImmediate(this.#turnEnd);
  }

  markDirty(): void {
    if (this.#dirty) return;
    this.#dirty = true;
    this.#schedule();
  }

  /**
   * A call may have produced events without a CQE (a close with nothing in
   * flight reports `closed` at once): end this turn with a tick, not a bare
   * submit, so they are delivered now rather than at the next wake-up.
   */
  requestTick(): void {
    this.#more = true;
    this.#schedule();
  }

  #tick(): void {
    this.#dirty = false; // tick() submits whatever is queued
    this.#more = false;
    this.counters.ticks++;
    const ev = this.reactor.tick();
    if (ev.length > 0) this.#dispatch(ev);
    if (this.#blocked.size > 0) {
      const b = [...this.#blocked];
      this.#blocked.clear();
      for (const c of b) c.retryWrites();
    }
    // The core queues follow-ups during dispatch (re-arms, buffer returns):
    // they go out with this turn's submit, with the app's writes.
    this.markDirty();
    // More completions than one batch (or a CQ-overflow backlog): continue
    // next turn, after timers and other I/O.
    if (this.alive && ((this.reactor.pending() & 1) !== 0 || this.backend.cqReady(this.ring) > 0)) {
      this.#more = true;
      this.#schedule();
    }
  }

  #dispatch(ev: Uint32Array): void {
    const conns = this.#conns;
    const n = ev.length;
    this.counters.events += n >>> 2;
    for (let i = 0; i < n; i += 4) {
      const w0 = ev[i]!;
      const slot = w0 >>> 8;
      switch (w0 & 0xff) {
        case EV_DATA: {
          const bid = ev[i + 1]!, off = ev[i + 2]!, len = ev[i + 3]!;
          const c = conns[slot];
          if (this.#linearLayout) {
            const base = bid * this.recvBufferSize;
            if (off < base || off + len > base + this.recvBufferSize) this.#linearLayout = false;
          }
          this.#appRefs[bid]!++;
          this.#heldChunks++;
          if (c !== undefined) c.onData(bid, off, len);
          else this.releaseBuffer(bid);
          break;
        }
        case EV_SENT:
          conns[slot]?.onSent(ev[i + 1]!, ev[i + 2]!);
          break;
        case EV_OPEN: {
          const conn = new Connection(this, slot, ev[i + 1]! | 0);
          conns[slot] = conn;
          this.#open++;
          if (this.#open === 1) this.#armSweep();
          this.#hooks.onOpen(conn);
          break;
        }
        case EV_EOF:
          conns[slot]?.onEof();
          break;
        case EV_CLOSED:
          conns[slot]?.onClosed(ev[i + 1]!);
          break;
        case EV_ERROR: {
          const errno = ev[i + 1]!;
          this.#hooks.onListenerError(errnoError(-errno, 'accept'), ev[i + 2] === 0);
          // Out of fds: the core parks the accept until a connection closes or a
          // tick finds nothing to reap; on an idle reactor this timer is that tick.
          if ((errno === EMFILE || errno === ENFILE) && ev[i + 2] !== 0) {
            setTimeout(() => { if (this.alive) this.requestTick(); }, ACCEPT_RETRY_MS).unref();
          }
          break;
        }
        case EV_HANDOFF:
          // Only a handoff listener (listen-ex flag 2) emits these; this engine
          // never asks for one, so an fd that shows up here is closed, not leaked.
          this.backend.closeFd(ev[i + 1]! | 0);
          break;
        default:
          this.unknownEvents++;
      }
    }
  }

  // ------------------------------------------------------------------ ConnectionEngine

  releaseBuffer(bid: number): void {
    if (!this.alive) return;
    this.#appRefs[bid]!--;
    this.#heldChunks--;
    const rc = this.reactor.release(bid);
    if (rc < 0 && this.alive) throw errnoError(rc, 'release', `buffer ${bid}`);
    this.markDirty();
  }

  recvRangeState(offset: number, len: number): 1 | 0 | -1 {
    if (!this.#linearLayout) return 0;
    const bid = Math.floor(offset / this.recvBufferSize);
    if (bid >= this.bufferCount || offset + len > (bid + 1) * this.recvBufferSize) return 0;
    return this.#appRefs[bid]! > 0 ? 1 : -1;
  }

  pin(buffer: ArrayBuffer): number {
    const p = this.#pins.get(buffer);
    if (p !== undefined) { p.refs++; return p.slab; }
    const slab = this.backend.pinSlab(buffer);
    this.#pins.set(buffer, { slab, refs: 1 });
    this.#pinBySlab.set(slab, buffer);
    return slab;
  }

  unpin(slab: number): void {
    const buffer = this.#pinBySlab.get(slab);
    if (buffer === undefined) return;
    const p = this.#pins.get(buffer)!;
    if (--p.refs > 0) return;
    this.#pins.delete(buffer);
    this.#pinBySlab.delete(slab);
    this.backend.unpinSlab(slab);
  }

  peerAddress(fd: number): SocketAddress | undefined {
    return formatSockAddr(this.backend.peerAddress(fd));
  }

  localAddress(fd: number): SocketAddress | undefined {
    return formatSockAddr(this.backend.localAddress(fd));
  }

  connectionClosed(conn: Connection): void {
    this.#blocked.delete(conn);
    this.#ending.delete(conn);
    if (this.#conns[conn.id] === conn) {
      this.#conns[conn.id] = undefined;
      this.#open--;
    }
    if (this.#open === 0 && this.#allClosed !== null) {
      const done = this.#allClosed;
      this.#allClosed = null;
      done();
    }
  }

  // ------------------------------------------------------------------ lifecycle

  get openConnections(): number { return this.#open; }
  get heldChunks(): number { return this.#heldChunks; }
  get pinnedSlabs(): number { return this.#pins.size; }

  connections(): Connection[] {
    return this.#conns.filter((c): c is Connection => c !== undefined);
  }

  stopAccepting(): void {
    if (!this.alive) return;
    this.reactor.stopAccepting();
    this.markDirty();
  }

  /** Resolves once every connection reported `closed` (now, if none is open). */
  whenAllClosed(): Promise<void> {
    if (this.#open === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const prev = this.#allClosed;
      this.#allClosed = () => { prev?.(); resolve(); };
    });
  }

  reactorStats(): ReactorStats | undefined {
    return this.alive ? this.reactor.stats() : this.#final;
  }

  /**
   * Frees everything: connections the core did not report closed are closed
   * with ECANCELED, then the ring, the buffer ring, the slabs, the pins.
   * Every chunk view still held by the app is dead afterwards.
   */
  destroy(): void {
    if (!this.alive) return;
    this.#unwatch();
    if (this.#immediate !== undefined) { clearImmediate(this.#immediate); this.#immediate = undefined; }
    this.#sweepCancel?.();
    this.#sweepCancel = undefined;
    for (const c of this.connections()) c.dropChunks();
    // Chunks the app still holds (or never read) die with the reactor: hand
    // their buffers back first, so the final counts show whether the core's
    // bookkeeping balances.
    for (let bid = 0; bid < this.bufferCount; bid++) {
      for (let n = this.#appRefs[bid]!; n > 0; n--) this.releaseBuffer(bid);
    }
    this.reactor.submit();
    this.#final = this.reactor.stats();
    this.alive = false;
    for (const c of this.connections()) c.onClosed(ECANCELED);
    this.reactor.destroy();
    this.backend.slabDestroy(this.writeSlab.handle);
    for (const p of this.#pins.values()) this.backend.unpinSlab(p.slab);
    this.#pins.clear();
    this.#pinBySlab.clear();
  }
}
