// The timeout sweep: the core's sweep(elapsed-ms) on a coarse timer on the
// backend's clock (the simulator's virtual one). It runs only while something
// can time out (open connections with idleTimeoutMs, ending ones with
// endTimeoutMs), so an idle server, or a simulated world, can rest.
import type { Backend } from '../../bridge/backend.ts';
import type { Connection } from '../connection.ts';

export interface SweepOwner {
  readonly alive: boolean;
  readonly openConnections: number;
  /** Calls the core's sweep (which may close connections). */
  sweep(elapsedMs: number): void;
}

export class SweepTimer {
  readonly #backend: Backend;
  readonly #owner: SweepOwner;
  readonly #ms: number;
  readonly #idleTimeout: boolean;
  readonly #endTimeout: boolean;
  /** Connections that called end() or close() and are not closed yet (what endTimeoutMs watches). */
  readonly #ending = new Set<Connection>();
  #cancel: (() => void) | undefined;
  #at = 0;

  constructor(backend: Backend, owner: SweepOwner, ms: number, idleTimeout: boolean, endTimeout: boolean) {
    this.#backend = backend;
    this.#owner = owner;
    this.#ms = ms;
    this.#idleTimeout = idleTimeout;
    this.#endTimeout = endTimeout;
  }

  #now(): number {
    return this.#backend.now ? this.#backend.now() : performance.now();
  }

  #wanted(): boolean {
    return (this.#idleTimeout && this.#owner.openConnections > 0) || (this.#endTimeout && this.#ending.size > 0);
  }

  /** Starts the timer if something can time out and it is not running. */
  arm(): void {
    if (this.#ms === 0 || this.#cancel !== undefined || !this.#owner.alive || !this.#wanted()) return;
    this.#at = this.#now();
    const run = (): void => {
      this.#cancel = undefined;
      if (!this.#owner.alive) return;
      const now = this.#now();
      const elapsed = Math.max(0, Math.min(0xffffffff, Math.round(now - this.#at)));
      this.#at = now;
      this.#owner.sweep(elapsed);
      if (this.#wanted()) this.#cancel = this.#timer(this.#ms, run);
    };
    this.#cancel = this.#timer(this.#ms, run);
  }

  #timer(ms: number, fn: () => void): () => void {
    if (this.#backend.setTimer) return this.#backend.setTimer(ms, fn);
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  }

  /** `conn` called end() or close(): endTimeoutMs applies to it now. */
  ending(conn: Connection): void {
    if (!this.#endTimeout || this.#ending.has(conn)) return;
    this.#ending.add(conn);
    this.arm();
  }

  /** `conn` is closed: nothing of it can time out any more. */
  forget(conn: Connection): void {
    this.#ending.delete(conn);
  }

  stop(): void {
    this.#cancel?.();
    this.#cancel = undefined;
  }
}
