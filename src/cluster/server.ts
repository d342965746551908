// The cluster: N reactor threads (worker_threads), each with its own ring,
// Wasm instance, slabs and connection table, fed either by one acceptor ring
// on the main thread (fds round-robin through lock-free SPSC channels) or by
// the kernel (one SO_REUSEPORT listener per reactor). The main thread only
// accepts, routes fds and supervises: no connection's bytes pass through it.
import { EventEmitter } from 'node:events';
import { MessageChannel } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type { Backend } from '../../bridge/backend.ts';
import { abortError } from '../errors.ts';
import type { AddressInfo, CloseOptions } from '../server.ts';
import { closeDeadline, within } from '../lifecycle.ts';
import { Acceptor } from './acceptor.ts';
import { FdChannel } from './channel.ts';
import { allowedCpus, resolveCluster, type ClusterOptions, type ResolvedCluster } from './options.ts';
import type { Distribution, ReactorError, WorkerInit } from './protocol.ts';
import { emptySnapshot, sum, type ClusterStats, type ReactorStatsEntry } from './stats.ts';
import { ReactorThread, type ReactorState, type ThreadOwner } from './thread.ts';

export type { ReactorState } from './thread.ts';
export type { ClusterStats, ReactorStatsEntry } from './stats.ts';

export interface ClusterEvents {
  error: [ReactorError];
}

/**
 * A server running one reactor per thread. Create it with `listen()` from
 * 'zergling/cluster'. Emits 'error' (a `ReactorError`, with `reactor` = the
 * index) for a handler that threw, a listener error, or a crashed thread; the
 * other reactors keep serving.
 */
export class ClusterServer extends EventEmitter<ClusterEvents> implements ThreadOwner {
  readonly reactors: number;
  readonly distribution: Distribution;
  readonly #cfg: ResolvedCluster;
  readonly #backend: Backend;
  /** Fds every guest of the process owns (the acceptor's and each worker's): ownership is per guest. */
  readonly #processFds: () => number;
  readonly #threads: ReactorThread[] = [];
  readonly #onError: ((err: ReactorError) => void) | undefined;
  #acceptor: Acceptor | undefined;
  #address: AddressInfo | undefined;
  #next = 0;
  #rejected = 0;
  #doorbells = 0;
  #closing: Promise<void> | undefined;
  #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => { void this.close(); };

  /** @internal Use `listen()`. */
  constructor(cfg: ResolvedCluster, backend: Backend, onError: ((err: ReactorError) => void) | undefined,
    processFds: () => number) {
    super();
    this.#cfg = cfg;
    this.#backend = backend;
    this.#processFds = processFds;
    this.#onError = onError;
    this.reactors = cfg.reactors;
    this.distribution = cfg.distribution;
  }

  /** @internal Starts the threads (and the acceptor); on failure frees what it took. */
  async start(signal: AbortSignal | undefined): Promise<void> {
    const cfg = this.#cfg;
    const cpus = cfg.pinThreads ? allowedCpus() : [];
    const cpuOf = (i: number): number => (cpus.length > 0 ? cpus[i % cpus.length]! : -1);
    try {
      if (cfg.distribution === 'acceptor') {
        // Bind first: EADDRINUSE before any thread exists. Connections wait in
        // the backlog until the reactors are up and the accept is armed.
        this.#acceptor = Acceptor.open(this.#backend, cfg.opts);
        for (let i = 0; i < cfg.reactors; i++) this.#spawn(i, 0, cpuOf(i));
        await Promise.all(this.#threads.map((t) => t.ready));
        this.#acceptor.start({
          onFd: (fd) => this.#route(fd),
          onError: (err) => this.report(Object.assign(err, { reactor: -1 }) as ReactorError),
        });
        this.#setAddress(this.#acceptor.port);
      } else {
        // The first reactor picks the port (when 0); the others join its group.
        this.#spawn(0, cfg.opts.port, cpuOf(0));
        await this.#threads[0]!.ready;
        const port = this.#threads[0]!.port;
        for (let i = 1; i < cfg.reactors; i++) this.#spawn(i, port, cpuOf(i));
        await Promise.all(this.#threads.map((t) => t.ready));
        this.#setAddress(port);
      }
    } catch (err) {
      await this.#shutdown(0);
      throw err;
    }
    if (signal !== undefined) {
      this.#signal = signal;
      if (signal.aborted) { void this.close(); return; }
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  #spawn(index: number, port: number, cpu: number): void {
    const cfg = this.#cfg;
    let channel: FdChannel | undefined;
    let mine: MessagePort | undefined;
    let theirs: MessagePort | undefined;
    if (cfg.distribution === 'acceptor') {
      channel = new FdChannel(cfg.channelCapacity);
      const mc = new MessageChannel();
      mine = mc.port1;
      theirs = mc.port2;
      mine.unref(); // the doorbell must not keep the process alive
    }
    const init: WorkerInit = {
      index, reactors: cfg.reactors, distribution: cfg.distribution, handler: cfg.handler,
      handlerOptions: cfg.handlerOptions, opts: cfg.opts, port, cpu,
      ...(channel !== undefined ? { channel: channel.buffer, doorbell: theirs! } : {}),
    };
    this.#threads.push(new ReactorThread(this, index, init, channel, mine));
  }

  #setAddress(port: number): void {
    const o = this.#cfg.opts;
    this.#address = { address: o.host, family: o.family === 4 ? 'IPv4' : 'IPv6', port };
  }

  /** Round-robin over the running reactors; no allocation, one message per idle→busy. */
  #route(fd: number): void {
    const threads = this.#threads;
    const n = threads.length;
    // Ownership moves explicitly: out of the acceptor's guest before a worker
    // can see the fd, into the worker's when it adopts it (ReactorHost.adopt).
    try {
      this.#backend.releaseFd(fd);
    } catch {
      this.#rejected++;
      this.#backend.closeFd(fd);
      return;
    }
    for (let k = 0; k < n; k++) {
      const i = (this.#next + k) % n;
      const t = threads[i]!;
      if (t.state !== 'running') continue;
      const r = t.channel!.push(fd);
      if (r < 0) continue; // that reactor is behind: try the next one
      this.#next = (i + 1) % n;
      t.handedOff++;
      if (r === 1) {
        this.#doorbells++;
        t.doorbell!.postMessage(null);
      }
      return;
    }
    this.#rejected++;
    this.#closeInTransit(fd);
  }

  /** Closes a released fd nobody will claim. */
  #closeInTransit(fd: number): void {
    try {
      this.#backend.claimFd(fd);
    } catch {
      return; // not in transit: not ours to close
    }
    this.#backend.closeFd(fd);
  }

  /** @internal A thread died: fds still queued for it are closed here. */
  reactorDied(t: ReactorThread): void {
    this.#closeQueued(t);
  }

  #closeQueued(t: ReactorThread): void {
    if (t.channel === undefined) return;
    // The consumer is gone, so this thread may drain its channel.
    new FdChannel(t.channel.buffer).drain((fd) => { this.#closeInTransit(fd); });
  }

  /** @internal */
  report(err: ReactorError): void {
    let heard = false;
    if (this.#onError !== undefined) { this.#onError(err); heard = true; }
    if (this.listenerCount('error') > 0) { this.emit('error', err); heard = true; }
    if (!heard) console.error(`zergling: reactor ${err.reactor}:`, err);
  }

  /** The bound address (every reactor serves it). */
  address(): AddressInfo {
    if (this.#address === undefined) throw new Error('not listening');
    return { ...this.#address };
  }

  get listening(): boolean {
    if (this.#closing !== undefined) return false;
    if (this.#acceptor !== undefined) return this.#acceptor.listening;
    return this.#threads.some((t) => t.state === 'running');
  }

  /** Per-reactor states (a snapshot). */
  reactorStates(): ReactorState[] {
    return this.#threads.map((t) => t.state);
  }

  /** Counters of every reactor (asked of each thread) and their sums. */
  async stats(): Promise<ClusterStats> {
    const snaps = await Promise.all(this.#threads.map((t) => t.stats()));
    const per: ReactorStatsEntry[] = this.#threads.map((t, i) => ({
      ...(snaps[i] ?? emptySnapshot()),
      index: t.index, state: t.state, cpu: t.cpu, handedOff: t.handedOff,
    }));
    const total = sum(per.map((p) => snaps[p.index] ?? emptySnapshot()));
    const a = this.#acceptor;
    return {
      ...total,
      listening: this.listening,
      reactors: this.reactors,
      distribution: this.distribution,
      fds: this.#processFds(),
      acceptor: a === undefined ? null : {
        listening: a.listening && this.#closing === undefined,
        accepted: a.accepted, rejected: this.#rejected, doorbells: this.#doorbells,
        listenerErrors: a.listenerErrors,
      },
      perReactor: per,
    };
  }

  /**
   * Stops the acceptor (or every listener), then has each reactor close its
   * connections gracefully (aborting what is still open after `deadlineMs`)
   * and free its ring, buffer ring and slabs; resolves when every thread has
   * exited and nothing is left. Idempotent.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closing = this.#shutdown(closeDeadline(options));
    return this.#closing;
  }

  async #shutdown(deadlineMs: number): Promise<void> {
    this.#closing ??= Promise.resolve(); // `listening` is false from here on
    this.#signal?.removeEventListener('abort', this.#onAbort);
    // 1. No new fds: after this, every accepted fd is in some channel.
    if (this.#acceptor !== undefined) await this.#acceptor.stop();
    // 2. Each reactor stops its listener (reuseport), takes what is queued,
    //    closes its connections and frees its ring and slabs.
    // A thread that does not finish in time is terminated (its env cleanup
    // still frees its rings and slabs).
    await Promise.all(this.#threads.map(async (t) => {
      if (t.state === 'starting') await within(t.ready.then(() => undefined, () => undefined), 30000);
      if (t.state === 'running') {
        t.state = 'closing';
        t.post({ t: 'close', deadlineMs });
      } else if (t.state === 'starting') {
        void t.worker.terminate();
      }
      const timer = setTimeout(() => { void t.worker.terminate(); }, deadlineMs + 5000);
      await t.exited;
      clearTimeout(timer);
    }));
    for (const t of this.#threads) {
      this.#closeQueued(t);
      t.doorbell?.close();
    }
    this.#acceptor?.destroy();
    const b = this.#backend as Backend & { close?: () => void };
    b.close?.();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Starts `reactors` threads serving one address with the handler module.
 * Rejects with a TypeError/RangeError before anything starts when an option
 * is bad, with the kernel's error (EADDRINUSE, ...) when binding fails, and
 * with the handler module's error when a thread cannot load it.
 */
export async function listen<O = unknown>(options: ClusterOptions<O>): Promise<ClusterServer> {
  const cfg = resolveCluster(options);
  const signal = options.signal;
  if (signal?.aborted) throw abortError(signal.reason);
  const native = await import('../../bridge/native.ts');
  native.checkIoUring();
  const backend = native.createNativeBackend();
  const server = new ClusterServer(cfg, backend, options.onError, native.ownedFds);
  await server.start(signal);
  return server;
}
