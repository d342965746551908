// The public server: `listen(options)` → Server. Connections arrive through
// an async iterator or a handler; `close()` stops accepting, lets queued
// writes drain up to a deadline, closes every connection and frees the
// reactor's ring, buffer ring and slabs.
import type { Backend, Reactor } from '../bridge/backend.ts';
import { ZerglingError } from '../bridge/backend.ts';
import type { Connection } from './connection.ts';
import { Engine } from './engine.ts';
import { engineStats, type ServerStats } from './stats.ts';
import { closeDeadline, closeEngine, runHandler } from './lifecycle.ts';
import { abortError, codes, invalidArgType } from './errors.ts';
import { resolveOptions, type ListenOptions, type ResolvedOptions } from './options.ts';

export interface AddressInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

export interface CloseOptions {
  /** How long queued writes may take to drain before connections are aborted. Default 5000 ms. */
  deadlineMs?: number;
}

export type { ServerStats } from './stats.ts';

export type ConnectionHandler = (conn: Connection) => void | Promise<void>;

export class Server implements AsyncIterable<Connection> {
  readonly #engine: Engine;
  readonly #backend: Backend;
  readonly #address: AddressInfo;
  readonly #ownsBackend: boolean;
  #handler: ConnectionHandler | undefined;
  readonly #onError: ((err: Error) => void) | undefined;
  #listening = true;
  #listenerErrors = 0;
  #queue: Connection[] = [];
  #waiter: ((c: Connection | null) => void) | null = null;
  #closing: Promise<void> | undefined;
  #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => { void this.close(); };
  /** One reporter for every connection's handler (not a closure per connection). */
  readonly #reportFn = (err: Error): void => { this.#report(err); };

  /** @internal Use `listen()`. */
  constructor(backend: Backend, ownsBackend: boolean, opts: ResolvedOptions,
    handler: ConnectionHandler | undefined, onError: ((err: Error) => void) | undefined,
    signal: AbortSignal | undefined, load?: (backend: Backend) => Reactor) {
    this.#backend = backend;
    this.#ownsBackend = ownsBackend;
    this.#handler = handler;
    this.#onError = onError;
    this.#engine = Engine.start(backend, opts, {
      ...(load !== undefined ? { load } : {}),
      onOpen: (conn) => this.#deliver(conn),
      // The core trapped: the engine already closed every fd it owned. The
      // server stops listening; close() still resolves.
      onFatal: (err) => {
        this.#listening = false;
        const w = this.#waiter;
        this.#waiter = null;
        w?.(null);
        this.#report(err);
      },
      onListenerError: (err, gaveUp) => {
        this.#listenerErrors++;
        // A re-armed accept (EMFILE, ECONNABORTED, ...) is survivable: only
        // counted unless the app listens; an accept that gave up is not.
        if (gaveUp) {
          this.#listening = false;
          this.#report(err);
        } else {
          this.#onError?.(err);
        }
      },
    });
    this.#address = {
      address: opts.host,
      family: opts.family === 4 ? 'IPv4' : 'IPv6',
      port: this.#engine.port,
    };
    if (signal !== undefined) {
      this.#signal = signal;
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  /** The bound address; with `port: 0` this is where the free port shows up. */
  address(): AddressInfo {
    return { ...this.#address };
  }

  get listening(): boolean {
    return this.#listening;
  }

  /** Which backend drives the ring: 'native' (io_uring) or 'sim'. */
  get backend(): Backend {
    return this.#backend;
  }

  /**
   * Sets the per-connection handler (instead of iterating the server).
   * Connections that arrived before are handed to it at once. If the handler
   * returns a promise, the connection is closed gracefully when it settles;
   * a rejection is reported to `onError` (connection resets are ignored).
   */
  onConnection(handler: ConnectionHandler): this {
    if (typeof handler !== 'function') throw invalidArgType('handler', 'of type function', handler);
    this.#handler = handler;
    const q = this.#queue;
    this.#queue = [];
    for (const c of q) this.#run(c);
    return this;
  }

  /** `for await (const conn of server)`: ends when the server closes. */
  [Symbol.asyncIterator](): AsyncIterator<Connection> {
    return {
      next: (): Promise<IteratorResult<Connection>> => {
        if (this.#queue.length > 0) return Promise.resolve({ value: this.#queue.shift()!, done: false });
        if (this.#closing !== undefined || this.#handler !== undefined) {
          return Promise.resolve({ value: undefined, done: true });
        }
        if (this.#waiter !== null) {
          return Promise.reject(new ZerglingError(codes.READ_PENDING, 'the server is already being iterated'));
        }
        return new Promise((resolve) => {
          this.#waiter = (c) => resolve(c === null ? { value: undefined, done: true } : { value: c, done: false });
        });
      },
      return: (): Promise<IteratorResult<Connection>> => {
        this.#waiter = null;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  #deliver(conn: Connection): void {
    if (this.#closing !== undefined) { void conn.close(); return; }
    if (this.#handler !== undefined) { this.#run(conn); return; }
    const w = this.#waiter;
    if (w !== null) { this.#waiter = null; w(conn); return; }
    this.#queue.push(conn);
  }

  #run(conn: Connection): void {
    const handler = this.#handler!;
    runHandler(conn, () => handler(conn), this.#reportFn);
  }

  #report(err: Error): void {
    if (this.#onError !== undefined) this.#onError(err);
    else process.nextTick(() => { throw err; });
  }

  /** Live counters of the reactor and the JS layer. */
  stats(): ServerStats {
    return { ...engineStats(this.#engine, this.#listening, this.#listenerErrors), fds: this.#backend.ownedFds() };
  }


  /** Open connections (a snapshot). */
  connections(): Connection[] {
    return this.#engine.connections();
  }

  /**
   * Stops accepting, closes every connection gracefully (queued writes are
   * sent first), aborts the ones still open after `deadlineMs`, then frees the
   * ring, the buffer ring and the slabs. Idempotent; resolves when all is freed.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closing = this.#shutdown(closeDeadline(options));
    return this.#closing;
  }

  async #shutdown(deadlineMs: number): Promise<void> {
    const e = this.#engine;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#listening = false;
    e.stopAccepting();
    const w = this.#waiter;
    this.#waiter = null;
    w?.(null);
    for (const c of this.#queue) void c.close();
    this.#queue = [];
    await closeEngine(e, deadlineMs);
    if (this.#ownsBackend) (this.#backend as Backend & { close?: () => void }).close?.();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Binds and listens. Resolves to a `Server` once the socket listens; rejects
 * with a TypeError/RangeError (`code` ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE /
 * ERR_INVALID_ARG_VALUE) before taking any resource when an option is bad, with
 * an AbortError if `signal` is already aborted, and with the kernel's error
 * (`code` 'EADDRINUSE', 'EACCES', ...) when binding fails.
 */
export async function listen(options: ListenOptions<Connection> = {}): Promise<Server> {
  const opts = resolveOptions(options);
  const signal = options.signal;
  if (signal?.aborted) throw abortError(signal.reason);
  let backend: Backend;
  let owns = false;
  if (options.backend === undefined || options.backend === 'native') {
    backend = await nativeBackend();
    owns = true;
  } else {
    backend = options.backend;
  }
  if (signal?.aborted) throw abortError(signal.reason);
  return new Server(backend, owns, opts, options.onConnection, options.onError, signal);
}

/**
 * The io_uring backend. Throws ERR_ZERGLING_NATIVE when the helper cannot load
 * (not Linux/x64, not built), ENOSYS/EPERM when the kernel refuses io_uring.
 */
async function nativeBackend(): Promise<Backend> {
  const native = await import('../bridge/native.ts');
  native.checkIoUring();
  return native.createNativeBackend();
}
