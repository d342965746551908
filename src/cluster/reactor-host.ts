// One reactor of a cluster, inside its worker thread: an Engine (ring + Wasm
// core + slabs) that either listens itself (SO_REUSEPORT) or adopts fds from
// the acceptor, and runs the handler module's function on every connection,
// with `Server`'s semantics: a returned promise closes the connection when it
// settles; a throw or a rejection destroys it and is reported.
import type { Backend } from '../../bridge/backend.ts';
import type { ZerglingError } from '../../bridge/backend.ts';
import type { Connection } from '../connection.ts';
import { Engine } from '../engine.ts';
import { engineStats } from '../stats.ts';
import { closeEngine, runHandler } from '../lifecycle.ts';
import type { ResolvedOptions } from '../options.ts';
import type { ReactorSnapshot } from './protocol.ts';
import { EBADF, ENOTSOCK, LISTEN_REUSEPORT } from '../../bridge/consts.ts';

/** What a handler module learns about the reactor it runs in. */
export interface ReactorInfo {
  /** This reactor's index, 0..reactors-1. */
  readonly index: number;
  /** How many reactors the cluster runs. */
  readonly reactors: number;
}

export type Handler = (conn: Connection, options: unknown, reactor: ReactorInfo) => void | Promise<void>;

export type BindMode = { kind: 'adopt' } | { kind: 'reuseport'; port: number };

export class ReactorHost {
  readonly engine: Engine;
  readonly #backend: Backend;
  readonly #handler: Handler;
  readonly #options: unknown;
  readonly #info: ReactorInfo;
  readonly #onError: (err: Error) => void;
  #listening: boolean;
  #listenerErrors = 0;
  #closing: Promise<void> | undefined;
  #adopted = 0;
  #adoptFailed = 0;

  constructor(backend: Backend, opts: ResolvedOptions, mode: BindMode, handler: Handler, options: unknown,
    info: ReactorInfo, onError: (err: Error) => void) {
    this.#backend = backend;
    this.#handler = handler;
    this.#options = options;
    this.#info = info;
    this.#onError = onError;
    this.engine = Engine.start(backend, opts, {
      onOpen: (conn) => this.#open(conn),
      onListenerError: (err: ZerglingError, gaveUp: boolean) => {
        this.#listenerErrors++;
        if (gaveUp) this.#listening = false;
        onError(err);
      },
      onFatal: (err: ZerglingError) => {
        this.#listening = false;
        onError(err);
      },
      bind: mode.kind === 'adopt'
        ? () => 0
        : (r) => r.listenEx(opts.host, mode.port, opts.family, opts.backlog, LISTEN_REUSEPORT),
    });
    this.#listening = true;
  }

  get port(): number {
    return this.engine.port;
  }

  /**
   * Takes an fd from the acceptor. Call `flush()` after a batch: the `open`
   * events come with the next tick.
   */
  adopt(fd: number): void {
    try {
      this.#backend.claimFd(fd); // the acceptor released it: now this guest's
    } catch {
      this.#adoptFailed++; // not in transit: never ours, so not ours to close
      return;
    }
    if (this.#closing !== undefined || !this.engine.alive) {
      this.#backend.closeFd(fd);
      this.#adoptFailed++;
      return;
    }
    const r = this.engine.reactor.adopt(fd);
    if (r >= 0) {
      this.#adopted++;
      return;
    }
    this.#adoptFailed++;
    // -EBUSY (max connections) and allocation failures close the fd in the
    // core; these two leave it open.
    if (r === -ENOTSOCK || r === -EBADF) this.#backend.closeFd(fd);
  }

  flush(): void {
    if (this.engine.alive) this.engine.requestTick();
  }

  #open(conn: Connection): void {
    if (this.#closing !== undefined) { void conn.close(); return; }
    runHandler(conn, () => this.#handler(conn, this.#options, this.#info), (err) => this.#onError(err));
  }


  stats(): ReactorSnapshot {
    return {
      ...engineStats(this.engine, this.#listening && this.#closing === undefined, this.#listenerErrors),
      adopted: this.#adopted,
      adoptFailed: this.#adoptFailed,
    };
  }


  /**
   * Stops accepting, closes every connection gracefully, aborts those still
   * open after `deadlineMs`, frees the ring, buffer ring and slabs.
   */
  close(deadlineMs: number): Promise<void> {
    this.#closing ??= this.#shutdown(deadlineMs);
    return this.#closing;
  }

  async #shutdown(deadlineMs: number): Promise<void> {
    const e = this.engine;
    this.#listening = false;
    e.stopAccepting();
    await closeEngine(e, deadlineMs);
  }

  /** Last resort (a crashing thread): frees the core's fds, ring and slabs now. */
  destroyNow(): void {
    if (this.engine.alive) this.engine.destroy();
  }
}
