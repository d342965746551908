// What the connections of one reactor share: the handler, limits, the
// staging buffer, counters, and one timeout sweep for all of them (a timer
// per sweep period while any connection is open, on the backend's clock —
// the simulator's virtual one under zergling/sim — never a timer per request).
import type { Connection } from '../connection.ts';
import { HttpConnection, P_BODY, P_HEAD, P_IDLE, type FastHandler, type HttpCore, type HttpCounters, type HttpLimits } from './conn.ts';
import { Output } from './output.ts';
import { sweepPeriod } from './options.ts';

export interface Clock {
  now(): number;
  setTimer(ms: number, fn: () => void): () => void;
}

export const wallClock: Clock = {
  now: () => performance.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};

export class HttpEngine implements HttpCore {
  readonly limits: HttpLimits;
  readonly output = new Output();
  readonly handler: FastHandler;
  readonly counters: HttpCounters = { requests: 0, refused: {}, handlerErrors: 0, timeouts: { headers: 0, keepAlive: 0, request: 0 } };
  clock: number;
  closing = false;
  readonly conns = new Set<HttpConnection>();
  readonly #clockSrc: Clock;
  readonly #period: number;
  readonly #report: (err: Error) => void;
  #cancel: (() => void) | undefined;
  #drained: (() => void) | null = null;

  constructor(limits: HttpLimits, handler: FastHandler, clock: Clock, report: (err: Error) => void) {
    this.limits = limits;
    this.handler = handler;
    this.#clockSrc = clock;
    this.#report = report;
    this.#period = sweepPeriod(limits);
    this.clock = clock.now();
  }

  /** Serves one TCP connection until it closes (the promise settles then). */
  serve(conn: Connection): Promise<void> | undefined {
    if (this.closing) { void conn.close(); return undefined; }
    return new HttpConnection(conn, this).run();
  }

  connectionOpened(c: HttpConnection): void {
    this.conns.add(c);
    if (this.conns.size === 1) this.clock = this.#clockSrc.now();
    this.#arm();
  }

  connectionDone(c: HttpConnection): void {
    this.conns.delete(c);
    if (this.conns.size === 0) {
      this.#cancel?.();
      this.#cancel = undefined;
      const d = this.#drained;
      this.#drained = null;
      d?.();
    }
  }

  report(err: Error): void {
    this.#report(err);
  }

  #arm(): void {
    if (this.#cancel !== undefined || this.#period === 0 || this.conns.size === 0) return;
    this.#cancel = this.#clockSrc.setTimer(this.#period, this.#sweep);
  }

  readonly #sweep = (): void => {
    this.#cancel = undefined;
    const now = (this.clock = this.#clockSrc.now());
    const l = this.limits;
    for (const c of this.conns) {
      const limit = c.phase === P_IDLE ? l.keepAliveTimeoutMs : c.phase === P_HEAD ? l.headersTimeoutMs
        : c.phase === P_BODY ? l.requestTimeoutMs : l.lingerMs;
      if (limit > 0 && now - c.since >= limit) c.timeout();
    }
    this.#arm();
  };

  /** Graceful close: idle connections close now, busy ones after their response. Resolves when none is left. */
  shutdown(): Promise<void> {
    this.closing = true;
    for (const c of this.conns) c.shutdown();
    if (this.conns.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const prev = this.#drained;
      this.#drained = () => { prev?.(); resolve(); };
    });
  }
}
