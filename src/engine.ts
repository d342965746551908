// The engine: one reactor (ring + Wasm core + slabs) driven from Node's event
// loop. A turn is one tick from setImmediate (one enter: submit what is queued,
// run and reap the completions, dispatch them in Wasm); the events resolve the
// app's promises, and the app's writes land in the core during the same turn
// and go out with the next turn's enter. Nothing here waits: when more CQEs
// are ready than one batch, the next batch runs in a later turn, so timers and
// other I/O interleave.
import type { Backend, Reactor, ReactorStats } from '../bridge/backend.ts';
import { ZerglingError, errnoError } from '../bridge/backend.ts';
import { loadReactor } from '../bridge/index.ts';
import { formatSockAddr, type SocketAddress } from './addr.ts';
import { listenError } from './errors.ts';
import { Connection, type ConnectionEngine } from './connection.ts';
import type { ResolvedOptions } from './options.ts';
import { WriteSlab } from './write-slab.ts';
import { ECANCELED, EIO, LISTEN_REUSEPORT } from '../bridge/consts.ts';
import { dispatchEvents, type EventSink } from './engine/dispatch.ts';
import { guardReactor, zeroStats } from './engine/guard.ts';
import { listenerError, strayHandoff } from './engine/listener.ts';
import { PinTable } from './engine/pins.ts';
import { Deliveries } from './engine/deliveries.ts';
import type { ConnectionReader } from './connection/reader.ts';
import { SweepTimer } from './engine/sweep.ts';

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

export interface EngineCounters {
  /** Calls of reactor.tick() from JS. */
  ticks: number;
  /** Calls of reactor.submit() from JS (none in a turn: its tick submits). */
  submits: number;
  /** Times the engine found nothing to do and consumed the wake-up signal before sleeping. */
  quiesces: number;
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
  readonly counters: EngineCounters = { ticks: 0, submits: 0, events: 0, quiesces: 0 };

  readonly #hooks: EngineHooks;
  readonly #listenerFd: number;
  readonly #sweep: SweepTimer;
  /** Connections whose write the core refused for want of ranges (-ENOBUFS): retried after each tick. */
  readonly #blocked = new Set<Connection>();
  /** receive() chunks of this tick, delivered after its dispatch. */
  readonly #deliveries = new Deliveries();
  readonly #conns: (Connection | undefined)[] = [];
  #open = 0;
  /** References the app holds on each receive buffer (chunks not released). */
  readonly #appRefs: Uint32Array;
  /** The last view made of each receive buffer (view()): one per buffer at most, set at init. */
  readonly #views: (Uint8Array | undefined)[];
  #heldChunks = 0;
  /** Whether data events have always pointed inside buffer `bid` at `bid * size`. */
  #linearLayout = true;
  readonly #pins: PinTable;
  #dirty = false;
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
    // A trap in any call (a bug in the core) fails the engine once (#fatal).
    this.reactor = guardReactor(reactor, {
      alive: () => this.alive,
      onTrap: (cause) => this.#fatal(cause),
      final: () => this.#final,
    });
    this.port = port;
    this.#hooks = hooks;
    this.#listenerFd = reactor.stats().listenerFd;
    const engine = this;
    this.#sweep = new SweepTimer(backend, {
      get alive() { return engine.alive; },
      get openConnections() { return engine.#open; },
      sweep: (elapsed) => { if (this.reactor.sweep(elapsed) > 0) this.requestTick(); },
    }, opts.sweepMs, opts.config.idleTimeoutMs > 0, opts.config.endTimeoutMs > 0);
    this.#pins = new PinTable(backend);
    this.highWaterMark = opts.highWaterMark;
    this.recvBufferSize = opts.config.recvBufferSize;
    this.bufferCount = opts.config.bufferRingEntries;
    this.#appRefs = new Uint32Array(this.bufferCount);
    this.#views = new Array<Uint8Array | undefined>(this.bufferCount).fill(undefined);
    this.recvSlab = reactor.recvSlab();
    this.recvBuffer = backend.slabBuffer(this.recvSlab);
    this.writeSlab = new WriteSlab(writeSlab, backend.slabBuffer(writeSlab));
    this.ring = reactor.ring();
    this.#unwatch = backend.watch(this.ring, this.#onReady);
    // Accepts may already be waiting: reap them without waiting for a wake-up.
    this.#schedule();
  }

  /** The core trapped: take back everything it held, report once, stay dead. */
  #fatal(cause: Error): void {
    if (!this.alive) return;
    this.alive = false;
    const err = new ZerglingError('ERR_REACTOR_TRAP', `the reactor core trapped: ${cause.message}`);
    (err as Error & { cause?: unknown }).cause = cause;
    this.#unwatch();
    if (this.#immediate !== undefined) { clearImmediate(this.#immediate); this.#immediate = undefined; }
    this.#sweep.stop();
    const b = this.backend;
    // The core's own tables cannot be trusted any more: close what the TS layer
    // knows it owns (every connection's fd, the listener), then the ring and slabs.
    const conns = this.connections();
    for (const c of conns) b.closeFd(c.fd);
    if (this.#listenerFd >= 0) b.closeFd(this.#listenerFd);
    for (const c of conns) c.dropChunks();
    this.#final = { ...this.#final ?? zeroStats(), connectionsOpen: 0 };
    for (const c of conns) c.onClosed(EIO, err);
    b.destroyRing(this.ring);
    b.slabDestroy(this.recvSlab);
    b.slabDestroy(this.writeSlab.handle);
    this.#pins.unpinAll();
    this.#hooks.onFatal(err);
  }

  // ------------------------------------------------------------------ timeouts

  /** @internal `conn` called end() or close(): endTimeoutMs applies to it now. */
  connectionEnding(conn: Connection): void {
    this.#sweep.ending(conn);
  }

  /** @internal A write was refused for want of ranges: retry after the next tick. */
  writeBlocked(conn: Connection): void {
    this.#blocked.add(conn);
  }

  // ------------------------------------------------------------------ the turn

  // One tick per turn, run from setImmediate: its one io_uring_enter submits
  // what the previous turn queued (the app's writes, re-arms, buffer returns)
  // and, on a DEFER_TASKRUN ring, runs the deferred completions, which are then
  // reaped and dispatched. A turn that queued something, or reaped a full
  // batch, schedules the next turn. A wake-up (onReady) just schedules one: on
  // native the eventfd is level-triggered and nothing reads it while the
  // reactor is busy, so a busy reactor costs libuv's poll plus one enter per
  // turn. Only a tick that reaped nothing lets the reactor sleep: it consumes
  // the wake-up signal (quiesce) and ticks once more (on a DEFER_TASKRUN ring
  // an enter that runs all the deferred work left: the core asks for a full
  // batch with a zero timeout after an empty tick), so no completion is left
  // waiting unsignalled.
  readonly #onReady = (): void => {
    if (this.alive) this.#schedule();
  };

  readonly #turnEnd = (): void => {
    this.#immediate = undefined;
    if (!this.alive) return;
    this.#tick();
    if (!this.alive || this.#immediate !== undefined) return; // the app's writes scheduled the next turn
    let p = this.reactor.pending();
    if ((p & 7) === 0) {
      this.counters.quiesces++;
      this.backend.quiesce(this.ring);
      this.#tick();
      if (!this.alive || this.#immediate !== undefined) return;
      p = this.reactor.pending();
    }
    if ((p & 3) !== 0) this.#schedule();
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
    this.#schedule();
  }

  #tick(): void {
    this.#dirty = false; // tick() submits whatever is queued
    this.counters.ticks++;
    const ev = this.reactor.tick();
    if (ev.length > 0) {
      this.counters.events += ev.length >>> 2;
      dispatchEvents(ev, this.#sink);
      if (this.#deliveries.length > 0) this.#deliveries.run();
    }
    if (this.#blocked.size > 0) {
      const b = [...this.#blocked];
      this.#blocked.clear();
      for (const c of b) c.retryWrites();
    }
  }

  /** What each event does (src/engine/dispatch.ts decodes the batch). */
  readonly #sink: EventSink = {
    data: (slot, bid, off, len) => {
      const c = this.#conns[slot];
      if (this.#linearLayout) {
        const base = bid * this.recvBufferSize;
        if (off < base || off + len > base + this.recvBufferSize) this.#linearLayout = false;
      }
      this.#appRefs[bid]!++;
      this.#heldChunks++;
      if (c !== undefined) c.onData(bid, off, len);
      else this.releaseBuffer(bid);
    },
    sent: (slot, ranges, bytes) => { this.#conns[slot]?.onSent(ranges, bytes); },
    open: (slot, fd) => {
      const conn = new Connection(this, slot, fd);
      this.#conns[slot] = conn;
      this.#open++;
      if (this.#open === 1) this.#sweep.arm();
      this.#hooks.onOpen(conn);
    },
    eof: (slot) => { this.#conns[slot]?.onEof(); },
    closed: (slot, errno) => { this.#conns[slot]?.onClosed(errno); },
    listenerError: (errno, rearmed) => {
      listenerError(errno, rearmed, (err, gaveUp) => this.#hooks.onListenerError(err, gaveUp),
        () => { if (this.alive) this.requestTick(); });
    },
    handoff: (fd) => strayHandoff(this.backend, fd),
    unknown: () => { this.unknownEvents++; },
  };

  // ------------------------------------------------------------------ ConnectionEngine

  queueDelivery(r: ConnectionReader, bid: number, offset: number, length: number): void {
    this.#deliveries.push(r, bid, offset, length);
  }

  view(bid: number, offset: number, length: number): Uint8Array {
    // Handing the same view again is safe: a view's bytes are the app's only
    // while it holds the buffer's reference, and this one has the same offset
    // and length, so nothing about it but its identity tells two deliveries apart.
    const v = this.#views[bid];
    if (v !== undefined && v.byteOffset === offset && v.length === length) return v;
    return (this.#views[bid] = new Uint8Array(this.recvBuffer, offset, length));
  }

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
    return this.#pins.pin(buffer);
  }

  unpin(slab: number): void {
    this.#pins.unpin(slab);
  }

  peerAddress(fd: number): SocketAddress | undefined {
    return formatSockAddr(this.backend.peerAddress(fd));
  }

  localAddress(fd: number): SocketAddress | undefined {
    return formatSockAddr(this.backend.localAddress(fd));
  }

  connectionClosed(conn: Connection): void {
    this.#blocked.delete(conn);
    this.#sweep.forget(conn);
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
    this.#sweep.stop();
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
    this.#pins.unpinAll();
  }
}
