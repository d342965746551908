// One HTTP/1.1 connection: chunks are pushed to it by buffer id and offset
// (Connection.receiveRaw: no view, no Chunk, no promise per read), request
// heads are parsed where they lie, the handler runs, answers go out in order.
// A head that arrives in one chunk is parsed in place and its views stay
// valid while the request runs (that buffer is held until then); a head cut
// by a chunk's end is copied once into a per-connection spill buffer and
// parsing resumes there. The loop (#drive) runs synchronously from the
// delivery until it needs bytes, then parks; an async step (an async handler,
// a body still arriving, backpressure, refusing, lingering) drives on when it
// settles. Requests are served one after the other, so pipelined responses
// come back in order; everything written while working through one chunk goes
// out as one write.
//
// This file is the request loop and the ways a connection ends (refusals,
// lingering close, timeouts); the bytes in and out are conn-io.ts.
import { dateLine, refreshDate } from './date.ts';
import { httpCodes } from './errors.ts';
import { statusLine } from './status.ts';
import { B_CHUNKED, B_LENGTH, B_NONE, ConnIO } from './conn-io.ts';
import { P_BODY, P_HEAD, P_IDLE, P_LINGER } from './conn-types.ts';
import type { ChunkOwner } from '../chunk.ts';
import type { RawSink } from '../connection/reader.ts';

export { P_BODY, P_HEAD, P_IDLE, P_LINGER } from './conn-types.ts';
export type { FastHandler, HttpCore, HttpCounters, HttpLimits } from './conn-types.ts';

const CLOSE_EMPTY = Buffer.from('Connection: close\r\nContent-Length: 0\r\n\r\n', 'latin1');

export class HttpConnection extends ConnIO implements RawSink {
  /** The loop waits for bytes: the next chunk runs it (onChunk). */
  #parked = false;
  #finished = false;
  #resolveRun: (() => void) | null = null;
  #rejectRun: ((err: unknown) => void) | null = null;

  // ------------------------------------------------------------------ the loop

  /** Serves the connection; settles once it is done with it (the caller closes it then). */
  run(): Promise<void> {
    this.core.connectionOpened(this);
    const done = new Promise<void>((resolve, reject) => { this.#resolveRun = resolve; this.#rejectRun = reject; });
    this.#parked = true;
    this.conn.receiveRaw(this).then(this.#atEnd, this.#atEnd);
    return done;
  }

  /** A chunk from the reactor's turn: served at once if the loop waits for it, else kept in order. */
  onChunk(owner: ChunkOwner, bid: number, offset: number, length: number): void {
    if (this.#finished || this.phase === P_LINGER) { owner.releaseBuffer(bid); return; }
    this.queueInput(owner, bid, offset, length);
    if (this.wakeInput() || !this.#parked) return;
    this.#parked = false;
    try {
      this.#drive();
    } catch (err) {
      this.#finish(err);
    }
  }

  /** The stream ended (peer half-closed, connection closed, or the reactor is gone). */
  readonly #atEnd = (): void => {
    this.inputEnded = true;
    if (this.wakeInput() || !this.#parked) return;
    this.#parked = false;
    this.#finish();
  };

  /**
   * Serves what has arrived, synchronously, until it must wait: for bytes
   * (parked until onChunk), or for an async step, which drives on when it is
   * done. A sync handler that ends its response costs no promise and no
   * microtask turn, and a read costs neither: pipelined requests run back to
   * back, and everything written while working through one chunk goes out as
   * one write.
   */
  #drive(): void {
    const p = this.parser;
    const res = this.res;
    const core = this.core;
    for (;;) {
      if (this.pos === this.end) {
        const w = this.endBatch();
        if (w !== undefined) { this.#then(w); return; }
        if (!this.takeInput()) {
          if (this.inputEnded) this.#finish();
          else this.#parked = true;
          return;
        }
      }
      this.sync = true;
      const r = this.parseHead();
      if (r === 0) continue;
      if (r < 0) { this.#thenFinish(this.#refuse(p.error)); return; }
      // A head: serve it.
      core.counters.requests++;
      this.phase = P_BODY;
      this.since = core.clock;
      const hasBody = p.chunked || p.contentLength > 0;
      this.bodyMode = p.chunked ? B_CHUNKED : hasBody ? B_LENGTH : B_NONE;
      this.bodyLeft = p.contentLength > 0 ? p.contentLength : 0;
      this.bodyDone = !hasBody;
      this.bodyError = 0;
      if (p.chunked) this.chunked.reset();
      this.expect = p.expectContinue && hasBody;
      this.continueSent = false;
      this.req.begin(this.inSpill ? this.spill! : this.slab!);
      this.inSpill = false;
      // An Expect: 100-continue body not asked for is never sent: the connection cannot carry on after it.
      res.begin(this.req.method === 'HEAD', p.minor === 0, p.keepAlive && !this.expect && !core.closing);
      let ret: void | Promise<void>;
      try {
        ret = core.handler(this.req, res);
      } catch (err) {
        this.#handlerFailed(err);
        ret = undefined;
      }
      if ((ret !== undefined && typeof (ret as Promise<void>).then === 'function') || !res.finished) {
        this.#then(this.#complete(ret), true);
        return;
      }
      if (!this.#afterRequest()) return;
    }
  }

  /**
   * A request's response ended: true if the loop goes on with the next
   * request; false if an async step (discarding the body, refusing,
   * lingering) or the end of the connection took over.
   */
  #afterRequest(): boolean {
    if (this.bodyError !== 0) {
      if (!this.res.headersSent) this.#thenFinish(this.#refuse(this.bodyError));
      else this.#finish();
      return false;
    }
    if (!this.res.keepAlive || this.conn.state !== 'open') { this.#thenFinish(this.#linger()); return false; }
    if (!this.bodyDone) {
      const d = this.discardHere();
      if (d === undefined) { this.#then(this.#discardRest(), false); return false; }
      if (!d) { this.#thenFinish(this.#linger()); return false; }
    }
    this.dropHead();
    this.parser.reset();
    this.phase = P_IDLE;
    this.since = this.core.clock;
    return true;
  }

  /** The body left unread needs more bytes than have come: reads and drops them, then the next request. */
  async #discardRest(): Promise<void> {
    if (!(await this.discardBody())) { await this.#linger(); this.#finish(); return; }
    this.dropHead();
    this.parser.reset();
    this.phase = P_IDLE;
    this.since = this.core.clock;
  }

  /**
   * Drives on once `step` settles. `request`: the step was a request's
   * response (its end is checked first). A step that throws ends the
   * connection with its error.
   */
  #then(step: Promise<void>, request = false): void {
    step.then(() => {
      if (this.#finished) return;
      if (request && !this.#afterRequest()) return;
      this.#drive();
    }).catch((err: unknown) => this.#finish(err));
  }

  /** `step` ends the connection: finishes once it settles. */
  #thenFinish(step: Promise<void>): void {
    step.then(() => this.#finish(), (err: unknown) => this.#finish(err));
  }

  /** Gives back every buffer, leaves the server's books and settles run() (once). */
  #finish(err?: unknown): void {
    if (this.#finished) return;
    this.#finished = true;
    this.sync = false;
    this.output.discard(this.conn);
    this.dropInput();
    this.core.connectionDone(this);
    if (err === undefined) this.#resolveRun!();
    else this.#rejectRun!(err);
  }

  /** Waits for an async handler and for its response to end. */
  async #complete(r: void | Promise<void>): Promise<void> {
    const res = this.res;
    if (r !== undefined && typeof (r as Promise<void>).then === 'function') {
      this.sync = false;
      this.output.flush();
      try { await r; } catch (err) { this.#handlerFailed(err); return; }
    }
    if (!res.finished) {
      this.sync = false;
      this.output.flush();
      await new Promise<void>((resolve) => {
        this.waitDone = resolve;
        if (res.finished || this.conn.state === 'closed') resolve();
        else void this.conn.closed.then(() => this.done()); // a response never ended must not hold the loop past the connection
      });
      this.waitDone = null;
    }
    refreshDate(); // time passed: later requests of this chunk get the clock as it is now
  }

  #handlerFailed(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    const code = (e as { code?: unknown }).code;
    if (code === httpCodes.BAD_BODY || code === httpCodes.BODY_ABORTED) return; // answered by #serve
    this.core.counters.handlerErrors++;
    this.core.report(e);
    const res = this.res;
    if (!res.headersSent) {
      res.closeAfter();
      res.status = 500;
      res.end();
    } else if (!res.finished) {
      void this.conn.destroy(); // a half-sent response cannot be completed
      this.done();
    }
  }

  // ------------------------------------------------------------------ refusing and closing

  /** Answers `status` with an empty body and closes. */
  async #refuse(status: number): Promise<void> {
    const c = this.core.counters;
    c.refused[status] = (c.refused[status] ?? 0) + 1;
    this.sendError(status);
    await this.#linger();
  }

  /** Stages `status` with `Connection: close` (no body) and flushes it. */
  sendError(status: number): void {
    const out = this.output;
    this.stage();
    out.ensure(256);
    out.put(statusLine(status));
    out.put(dateLine());
    out.put(CLOSE_EMPTY);
    out.flush();
  }

  /**
   * Half-closes after the queued bytes and reads (dropping) until the peer
   * closes too, so that its unread bytes do not turn our close into a reset
   * that would destroy the response before the peer read it. The sweep ends
   * a linger that takes longer than `lingerMs`.
   */
  async #linger(): Promise<void> {
    await this.flushBatch();
    this.dropHead();
    this.dropChunk();
    this.phase = P_LINGER;
    this.since = this.core.clock;
    if (this.conn.state === 'open') this.conn.end();
    while (await this.nextInput()) { /* nothing is taken while lingering: chunks are given back as they come */ }
    await this.conn.close();
  }

  /** Timed out in `phase` (called by the sweep). */
  timeout(): void {
    const t = this.core.counters.timeouts;
    switch (this.phase) {
      case P_IDLE:
        t.keepAlive++;
        void this.conn.close();
        break;
      case P_HEAD:
        t.headers++;
        this.core.counters.refused[408] = (this.core.counters.refused[408] ?? 0) + 1;
        this.sendError(408);
        this.phase = P_LINGER;
        this.since = this.core.clock;
        this.conn.end();
        break;
      case P_BODY:
        // The handler may be mid-response: no answer can be slipped in, the connection is aborted.
        t.request++;
        void this.conn.destroy();
        break;
      default:
        void this.conn.destroy();
    }
  }

  /** The server is closing: an idle connection closes now, a busy one after its response. */
  shutdown(): void {
    if (this.phase === P_IDLE) void this.conn.close();
    else if (this.phase === P_BODY) this.res.closeAfter();
  }
}
