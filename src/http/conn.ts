// One HTTP/1.1 connection: reads chunks (views over the receive slab), parses
// request heads where they lie, runs the handler, answers in order. A head
// that arrives in one chunk is parsed in place and its views stay valid while
// the request runs (the chunk is held until then); a head cut by a chunk's end
// is copied once into a per-connection spill buffer and parsing resumes there.
// Requests are served one after the other, so pipelined responses come back
// in order; everything the connection writes while it works through one chunk
// goes out as one write.
import type { Chunk } from '../chunk.ts';
import type { Connection } from '../connection.ts';
import { ZerglingError } from '../errors.ts';
import { ChunkedDecoder } from './chunked.ts';
import { dateLine, refreshDate } from './date.ts';
import { httpCodes } from './errors.ts';
import type { Output } from './output.ts';
import { HeadParser, type HeadLimits } from './parser.ts';
import { HttpRequest, type BodySource } from './request.ts';
import { HttpResponse, type ResponseSink } from './response.ts';
import { statusLine } from './status.ts';

export type FastHandler = (req: HttpRequest, res: HttpResponse) => void | Promise<void>;

export interface HttpLimits extends HeadLimits {
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  requestTimeoutMs: number;
  lingerMs: number;
}

export interface HttpCounters {
  requests: number;
  /** Requests refused by the parser or the limits, by status. */
  refused: Record<number, number>;
  handlerErrors: number;
  timeouts: { headers: number; keepAlive: number; request: number };
}

/** What every connection of one server shares. */
export interface HttpCore {
  readonly limits: HttpLimits;
  readonly output: Output;
  readonly handler: FastHandler;
  readonly counters: HttpCounters;
  /** Coarse clock (ms), advanced by the timeout sweep. */
  readonly clock: number;
  readonly closing: boolean;
  connectionOpened(c: HttpConnection): void;
  connectionDone(c: HttpConnection): void;
  report(err: Error): void;
}

/** What a connection is doing, for the timeout sweep. */
export const P_IDLE = 0; // between requests, nothing received
export const P_HEAD = 1; // part of a head received
export const P_BODY = 2; // head done, request being served
export const P_LINGER = 3; // answered and half-closed, draining until the peer closes

const B_NONE = 0;
const B_LENGTH = 1;
const B_CHUNKED = 2;

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
const CLOSE_EMPTY = Buffer.from('Connection: close\r\nContent-Length: 0\r\n\r\n', 'latin1');
/** An unread body longer than this after the response closes the connection instead of being read and dropped. */
const MAX_DISCARD = 256 << 10;
const resolvedNull: Promise<null> = Promise.resolve(null);

export class HttpConnection implements ResponseSink, BodySource {
  readonly conn: Connection;
  readonly #core: HttpCore;
  readonly output: Output;
  readonly #parser: HeadParser;
  readonly #chunked: ChunkedDecoder;
  readonly req: HttpRequest;
  readonly res: HttpResponse;
  /** The whole receive slab as a Buffer; positions below are offsets in it. */
  #slab: Buffer | undefined;
  #chunk: Chunk | null = null;
  #pos = 0;
  #end = 0;
  /** The chunk the current request's head lies in (held until the request is done). */
  #headChunk: Chunk | null = null;
  #spill: Buffer | undefined;
  #spillLen = 0;
  #inSpill = false;
  #bodyMode = B_NONE;
  #bodyLeft = 0;
  #bodyDone = true;
  #bodyError = 0;
  #expect = false;
  #continueSent = false;
  /** True while the driver runs synchronously: staged bytes wait for the end of the batch. */
  #sync = false;
  #waitDone: (() => void) | null = null;
  phase = P_IDLE;
  since = 0;

  constructor(conn: Connection, core: HttpCore) {
    this.conn = conn;
    this.#core = core;
    this.output = core.output;
    this.#parser = new HeadParser(core.limits);
    this.#chunked = new ChunkedDecoder(core.limits.maxBodySize, core.limits.maxHeaderSize);
    this.req = new HttpRequest(this.#parser, this);
    this.res = new HttpResponse(this);
    this.since = core.clock;
  }

  // ------------------------------------------------------------------ ResponseSink

  get inBatch(): boolean {
    return this.#sync;
  }

  stage(): void {
    this.output.claim(this.conn);
  }

  staged(): boolean {
    if (this.#sync) return !this.conn.writableNeedDrain;
    return this.output.flush();
  }

  writeDirect(bytes: Uint8Array | string): boolean {
    this.output.flush();
    if (this.conn.state !== 'open') return true;
    return this.conn.write(bytes);
  }

  flushed(): Promise<void> {
    return this.conn.flush();
  }

  done(): void {
    const w = this.#waitDone;
    if (w !== null) { this.#waitDone = null; w(); }
  }

  // ------------------------------------------------------------------ input

  #setChunk(c: Chunk): void {
    const bytes = c.bytes;
    if (this.#slab === undefined || this.#slab.buffer !== bytes.buffer) {
      this.#slab = Buffer.from(bytes.buffer, 0, bytes.buffer.byteLength);
    }
    this.#chunk = c;
    this.#pos = c.offset;
    this.#end = c.offset + c.length;
  }

  /** Gives back the current chunk once nothing points into it. */
  #dropChunk(): void {
    const c = this.#chunk;
    if (c !== null) {
      this.#chunk = null;
      if (c !== this.#headChunk) c.releaseQuietly();
    }
    this.#pos = this.#end = 0;
  }

  #dropHead(): void {
    const h = this.#headChunk;
    if (h !== null) {
      this.#headChunk = null;
      if (h !== this.#chunk) h.releaseQuietly();
    }
  }

  /** Writes what is staged (end of a batch); waits if the connection is above its high-water mark. */
  async #flushBatch(): Promise<void> {
    this.#sync = false;
    if (!this.output.flush() || this.conn.writableNeedDrain) {
      try { await this.conn.flush(); } catch { /* closed: the read below says so */ }
    }
  }

  /** The next chunk (after writing what the batch produced), or false at the end of the stream. */
  async #next(): Promise<boolean> {
    await this.#flushBatch();
    this.#dropChunk();
    let c = await this.conn.read();
    // Timed out and answered (see timeout()): drop whatever still comes until the peer closes.
    while (c !== null && this.phase === P_LINGER) { c.release(); c = await this.conn.read(); }
    if (c === null) return false;
    this.#setChunk(c);
    refreshDate(); // once per received chunk: the responses of its requests share the Date line
    this.#sync = true;
    return true;
  }

  // ------------------------------------------------------------------ the loop

  async run(): Promise<void> {
    this.#core.connectionOpened(this);
    try {
      await this.#serve();
    } finally {
      this.#sync = false;
      this.output.discard(this.conn);
      this.#dropHead();
      this.#dropChunk();
      this.#core.connectionDone(this);
    }
  }

  async #serve(): Promise<void> {
    const p = this.#parser;
    const res = this.res;
    const core = this.#core;
    for (;;) {
      if (this.#pos === this.#end && !(await this.#next())) return;
      this.#sync = true;
      const r = this.#parseHead();
      if (r === 0) continue;
      if (r < 0) { await this.#refuse(p.error); return; }
      // A head: serve it.
      core.counters.requests++;
      this.phase = P_BODY;
      this.since = core.clock;
      const hasBody = p.chunked || p.contentLength > 0;
      this.#bodyMode = p.chunked ? B_CHUNKED : hasBody ? B_LENGTH : B_NONE;
      this.#bodyLeft = p.contentLength > 0 ? p.contentLength : 0;
      this.#bodyDone = !hasBody;
      this.#bodyError = 0;
      if (p.chunked) this.#chunked.reset();
      this.#expect = p.expectContinue && hasBody;
      this.#continueSent = false;
      this.req.begin(this.#inSpill ? this.#spill! : this.#slab!);
      this.#inSpill = false;
      // An Expect: 100-continue body not asked for is never sent: the connection cannot carry on after it.
      res.begin(this.req.method === 'HEAD', p.minor === 0, p.keepAlive && !this.#expect && !core.closing);
      // The handler, synchronously: a sync handler that ends its response
      // costs no promise and no microtask turn (pipelined requests run back to back).
      let ret: void | Promise<void>;
      try {
        ret = core.handler(this.req, res);
      } catch (err) {
        this.#handlerFailed(err);
        ret = undefined;
      }
      if ((ret !== undefined && typeof (ret as Promise<void>).then === 'function') || !res.finished) await this.#complete(ret);
      if (this.#bodyError !== 0) {
        if (!res.headersSent) { await this.#refuse(this.#bodyError); return; }
        return;
      }
      if (!res.keepAlive || this.conn.state !== 'open') { await this.#linger(); return; }
      if (!this.#bodyDone && !(await this.#discardBody())) { await this.#linger(); return; }
      this.#dropHead();
      p.reset();
      this.phase = P_IDLE;
      this.since = core.clock;
    }
  }

  /** Waits for an async handler and for its response to end. */
  async #complete(r: void | Promise<void>): Promise<void> {
    const res = this.res;
    if (r !== undefined && typeof (r as Promise<void>).then === 'function') {
      this.#sync = false;
      this.output.flush();
      try { await r; } catch (err) { this.#handlerFailed(err); return; }
    }
    if (!res.finished) {
      this.#sync = false;
      this.output.flush();
      await new Promise<void>((resolve) => {
        this.#waitDone = resolve;
        if (res.finished || this.conn.state === 'closed') resolve();
        else void this.conn.closed.then(() => this.done()); // a response never ended must not hold the loop past the connection
      });
      this.#waitDone = null;
    }
    refreshDate(); // time passed: later requests of this chunk get the clock as it is now
  }

  #handlerFailed(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    const code = (e as { code?: unknown }).code;
    if (code === httpCodes.BAD_BODY || code === httpCodes.BODY_ABORTED) return; // answered by #serve
    this.#core.counters.handlerErrors++;
    this.#core.report(e);
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

  /** 1: a head is complete; 0: more bytes needed; -1: refused (parser.error). */
  #parseHead(): number {
    const p = this.#parser;
    const slab = this.#slab!;
    if (!this.#inSpill) {
      const r = p.execute(slab, this.#pos, this.#end);
      if (r < 0) return -1;
      if (p.done) {
        this.#pos = r;
        this.#headChunk = this.#chunk;
        return 1;
      }
      if (this.phase === P_IDLE) { this.phase = P_HEAD; this.since = this.#core.clock; }
      this.#pos = this.#end;
      if (p.idle) return 0; // only empty lines so far: nothing to keep
      const hs = p.headStart, n = this.#end - hs;
      const spill = (this.#spill ??= Buffer.allocUnsafe(this.#core.limits.maxHeaderSize));
      if (n >= spill.length) return this.#tooLong();
      slab.copy(spill, 0, hs, this.#end);
      p.rebase(-hs);
      this.#spillLen = n;
      this.#inSpill = true;
      return 0;
    }
    const spill = this.#spill!;
    const pos = this.#pos;
    const n = Math.min(spill.length - this.#spillLen, this.#end - pos);
    if (n === 0) return this.#tooLong();
    slab.copy(spill, this.#spillLen, pos, pos + n);
    const from = this.#spillLen;
    this.#spillLen += n;
    const r = p.execute(spill, from, this.#spillLen);
    if (r < 0) return -1;
    if (p.done) {
      this.#pos = pos + (r - from);
      return 1;
    }
    this.#pos = pos + n;
    if (this.#spillLen === spill.length) return this.#tooLong();
    return 0;
  }

  #tooLong(): number {
    const p = this.#parser;
    p.error = p.inTarget ? 414 : 431;
    p.reason = 'head too large';
    return -1;
  }

  // ------------------------------------------------------------------ body

  readBody(): Promise<Uint8Array | null> {
    if (this.#bodyDone) return resolvedNull;
    if (this.#bodyError !== 0) return Promise.reject(this.#bodyFailure(this.#bodyError));
    if (this.#expect && !this.#continueSent) {
      this.#continueSent = true;
      this.stage();
      this.output.put(CONTINUE);
      this.output.flush();
      if (this.#parser.keepAlive && !this.#core.closing) this.res.allowKeepAlive();
    }
    try {
      const v = this.#bodyHere();
      if (v !== undefined) return Promise.resolve(v);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#bodyWait();
  }

  async #bodyWait(): Promise<Uint8Array | null> {
    for (;;) {
      if (!(await this.#next())) {
        this.#bodyError = 400;
        throw new ZerglingError(httpCodes.BODY_ABORTED, 'the connection ended before the request body');
      }
      this.#sync = false; // the handler's code runs after this, outside the driver's batch
      const v = this.#bodyHere();
      if (v !== undefined) return v;
    }
  }

  #bodyFailure(status: number): ZerglingError {
    const err = new ZerglingError(httpCodes.BAD_BODY, `request body refused (${status}): ${this.#chunked.reason || 'too large'}`);
    (err as ZerglingError & { status?: number }).status = status;
    return err;
  }

  /** The next body piece from the current chunk; undefined: need more bytes; null: the body ended. */
  #bodyHere(): Uint8Array | null | undefined {
    if (this.#bodyDone) return null;
    const slab = this.#slab!;
    if (this.#bodyMode === B_LENGTH) {
      if (this.#pos === this.#end) return undefined;
      const n = Math.min(this.#bodyLeft, this.#end - this.#pos);
      const v = slab.subarray(this.#pos, this.#pos + n);
      this.#pos += n;
      this.#bodyLeft -= n;
      if (this.#bodyLeft === 0) this.#bodyDone = true;
      return v;
    }
    const d = this.#chunked;
    while (this.#pos < this.#end) {
      const r = d.decode(slab, this.#pos, this.#end);
      if (r < 0) {
        this.#bodyError = d.error;
        throw this.#bodyFailure(d.error);
      }
      this.#pos = r;
      if (d.dataLen > 0) return slab.subarray(d.dataStart, d.dataStart + d.dataLen);
      if (d.done) { this.#bodyDone = true; return null; }
    }
    return undefined;
  }

  /** Reads and drops what the handler left of the body. False: the connection should close instead. */
  async #discardBody(): Promise<boolean> {
    if (this.#expect && !this.#continueSent) return false;
    if (this.#bodyMode === B_LENGTH && this.#bodyLeft > MAX_DISCARD) return false;
    try {
      for (let b = await this.readBody(); b !== null; b = await this.readBody()) { /* dropped */ }
    } catch {
      return false;
    }
    this.#sync = true;
    return true;
  }

  // ------------------------------------------------------------------ refusing and closing

  /** Answers `status` with an empty body and closes. */
  async #refuse(status: number): Promise<void> {
    const c = this.#core.counters;
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
    await this.#flushBatch();
    this.#dropHead();
    this.#dropChunk();
    this.phase = P_LINGER;
    this.since = this.#core.clock;
    if (this.conn.state === 'open') this.conn.end();
    for (let c = await this.conn.read(); c !== null; c = await this.conn.read()) c.release();
    await this.conn.close();
  }

  /** Timed out in `phase` (called by the sweep). */
  timeout(): void {
    const t = this.#core.counters.timeouts;
    switch (this.phase) {
      case P_IDLE:
        t.keepAlive++;
        void this.conn.close();
        break;
      case P_HEAD:
        t.headers++;
        this.#core.counters.refused[408] = (this.#core.counters.refused[408] ?? 0) + 1;
        this.sendError(408);
        this.phase = P_LINGER;
        this.since = this.#core.clock;
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
