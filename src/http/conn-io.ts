// The bytes of one HTTP connection, below the request loop (conn.ts): chunks
// in (views over the receive slab, held while a head points into them), a
// head cut by a chunk's end copied once into the spill buffer, the request
// body read where it lies (Content-Length or chunked), and the sink the
// response writes through (staged in the driver's batch, flushed at its end).
// HttpConnection extends this class: the loop reaches these fields and
// methods directly, as before the split, with no object in between.
import type { Chunk } from '../chunk.ts';
import type { Connection } from '../connection.ts';
import { ZerglingError } from '../errors.ts';
import { ChunkedDecoder } from './chunked.ts';
import { refreshDate } from './date.ts';
import { httpCodes } from './errors.ts';
import type { Output } from './output.ts';
import { HeadParser } from './parser.ts';
import { HttpRequest, type BodySource } from './request.ts';
import { HttpResponse, type ResponseSink } from './response.ts';
import { P_HEAD, P_IDLE, P_LINGER, type HttpCore } from './conn-types.ts';

export const B_NONE = 0;
export const B_LENGTH = 1;
export const B_CHUNKED = 2;

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
/** An unread body longer than this after the response closes the connection instead of being read and dropped. */
const MAX_DISCARD = 256 << 10;
const resolvedNull: Promise<null> = Promise.resolve(null);
/** A flush that failed because the connection closed: the read that follows says so. */
const ignoreClosed = (): void => {};

export class ConnIO implements ResponseSink, BodySource {
  readonly conn: Connection;
  protected readonly core: HttpCore;
  readonly output: Output;
  protected readonly parser: HeadParser;
  protected readonly chunked: ChunkedDecoder;
  readonly req: HttpRequest;
  readonly res: HttpResponse;
  /** The whole receive slab as a Buffer; positions below are offsets in it. */
  protected slab: Buffer | undefined;
  #chunk: Chunk | null = null;
  protected pos = 0;
  protected end = 0;
  /** The chunk the current request's head lies in (held until the request is done). */
  #headChunk: Chunk | null = null;
  protected spill: Buffer | undefined;
  #spillLen = 0;
  protected inSpill = false;
  protected bodyMode = B_NONE;
  protected bodyLeft = 0;
  protected bodyDone = true;
  protected bodyError = 0;
  protected expect = false;
  protected continueSent = false;
  /** True while the driver runs synchronously: staged bytes wait for the end of the batch. */
  protected sync = false;
  protected waitDone: (() => void) | null = null;
  phase = P_IDLE;
  since = 0;

  constructor(conn: Connection, core: HttpCore) {
    this.conn = conn;
    this.core = core;
    this.output = core.output;
    this.parser = new HeadParser(core.limits);
    this.chunked = new ChunkedDecoder(core.limits.maxBodySize, core.limits.maxHeaderSize);
    this.req = new HttpRequest(this.parser, this);
    this.res = new HttpResponse(this);
    this.since = core.clock;
  }

  // ------------------------------------------------------------------ ResponseSink

  get inBatch(): boolean {
    return this.sync;
  }

  stage(): void {
    this.output.claim(this.conn);
  }

  staged(): boolean {
    if (this.sync) return !this.conn.writableNeedDrain;
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
    const w = this.waitDone;
    if (w !== null) { this.waitDone = null; w(); }
  }

  // ------------------------------------------------------------------ input

  #setChunk(c: Chunk): void {
    const mem = c.slab;
    if (this.slab === undefined || this.slab.buffer !== mem) this.slab = Buffer.from(mem, 0, mem.byteLength);
    this.#chunk = c;
    this.pos = c.offset;
    this.end = c.offset + c.length;
  }

  /** Gives back the current chunk once nothing points into it. */
  protected dropChunk(): void {
    const c = this.#chunk;
    if (c !== null) {
      this.#chunk = null;
      if (c !== this.#headChunk) c.releaseQuietly();
    }
    this.pos = this.end = 0;
  }

  protected dropHead(): void {
    const h = this.#headChunk;
    if (h !== null) {
      this.#headChunk = null;
      if (h !== this.#chunk) h.releaseQuietly();
    }
  }

  /** Writes what is staged (end of a batch); waits if the connection is above its high-water mark. */
  protected async flushBatch(): Promise<void> {
    const w = this.#endBatch();
    if (w !== undefined) await w;
  }

  /**
   * Writes what is staged (end of a batch). Returns a promise only when the
   * connection is above its high-water mark and must wait for the kernel:
   * the request loop's common path (write, then read) then costs no promise
   * and no await of its own.
   */
  #endBatch(): Promise<void> | undefined {
    this.sync = false;
    if (!this.output.flush() || this.conn.writableNeedDrain) return this.conn.flush().catch(ignoreClosed);
    return undefined;
  }

  /**
   * Takes the chunk nextRead() gave: true if there is one to parse, false at
   * the end of the stream or while lingering (then lingerRead() goes on).
   */
  protected took(c: Chunk | null): boolean {
    if (c === null || this.phase === P_LINGER) return false;
    this.#setChunk(c);
    refreshDate(); // once per received chunk: the responses of its requests share the Date line
    this.sync = true;
    return true;
  }

  /** After took() said false: drops what a timed-out connection still receives; true if a chunk is there after all. */
  protected async lingerRead(c: Chunk | null): Promise<boolean> {
    // Timed out and answered (see timeout()): drop whatever still comes until the peer closes.
    while (c !== null && this.phase === P_LINGER) { c.release(); c = await this.conn.read(); }
    return c !== null && this.took(c);
  }

  /**
   * Ends the batch and reads on: the read's own promise when the write went
   * out at once (the common case: no promise or await of its own), else one
   * that waits for the kernel first. Then took() (and lingerRead()) the chunk.
   */
  protected nextRead(): Promise<Chunk | null> {
    const w = this.#endBatch();
    if (w === undefined) { this.dropChunk(); return this.conn.read(); }
    return w.then(() => { this.dropChunk(); return this.conn.read(); });
  }

  /** The next chunk (after writing what the batch produced), or false at the end of the stream. */
  protected async next(): Promise<boolean> {
    const c = await this.nextRead();
    return this.took(c) || this.lingerRead(c);
  }

  /** 1: a head is complete; 0: more bytes needed; -1: refused (parser.error). */
  protected parseHead(): number {
    const p = this.parser;
    const slab = this.slab!;
    if (!this.inSpill) {
      const r = p.execute(slab, this.pos, this.end);
      if (r < 0) return -1;
      if (p.done) {
        this.pos = r;
        this.#headChunk = this.#chunk;
        return 1;
      }
      if (this.phase === P_IDLE) { this.phase = P_HEAD; this.since = this.core.clock; }
      this.pos = this.end;
      if (p.idle) return 0; // only empty lines so far: nothing to keep
      const hs = p.headStart, n = this.end - hs;
      const spill = (this.spill ??= Buffer.allocUnsafe(this.core.limits.maxHeaderSize));
      if (n >= spill.length) return this.#tooLong();
      slab.copy(spill, 0, hs, this.end);
      p.rebase(-hs);
      this.#spillLen = n;
      this.inSpill = true;
      return 0;
    }
    const spill = this.spill!;
    const pos = this.pos;
    const n = Math.min(spill.length - this.#spillLen, this.end - pos);
    if (n === 0) return this.#tooLong();
    slab.copy(spill, this.#spillLen, pos, pos + n);
    const from = this.#spillLen;
    this.#spillLen += n;
    const r = p.execute(spill, from, this.#spillLen);
    if (r < 0) return -1;
    if (p.done) {
      this.pos = pos + (r - from);
      return 1;
    }
    this.pos = pos + n;
    if (this.#spillLen === spill.length) return this.#tooLong();
    return 0;
  }

  #tooLong(): number {
    const p = this.parser;
    p.error = p.inTarget ? 414 : 431;
    p.reason = 'head too large';
    return -1;
  }

  // ------------------------------------------------------------------ body

  readBody(): Promise<Uint8Array | null> {
    if (this.bodyDone) return resolvedNull;
    if (this.bodyError !== 0) return Promise.reject(this.#bodyFailure(this.bodyError));
    if (this.expect && !this.continueSent) {
      this.continueSent = true;
      this.stage();
      this.output.put(CONTINUE);
      this.output.flush();
      if (this.parser.keepAlive && !this.core.closing) this.res.allowKeepAlive();
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
      if (!(await this.next())) {
        this.bodyError = 400;
        throw new ZerglingError(httpCodes.BODY_ABORTED, 'the connection ended before the request body');
      }
      this.sync = false; // the handler's code runs after this, outside the driver's batch
      const v = this.#bodyHere();
      if (v !== undefined) return v;
    }
  }

  #bodyFailure(status: number): ZerglingError {
    const err = new ZerglingError(httpCodes.BAD_BODY, `request body refused (${status}): ${this.chunked.reason || 'too large'}`);
    (err as ZerglingError & { status?: number }).status = status;
    return err;
  }

  /** The next body piece from the current chunk; undefined: need more bytes; null: the body ended. */
  #bodyHere(): Uint8Array | null | undefined {
    if (this.bodyDone) return null;
    const slab = this.slab!;
    if (this.bodyMode === B_LENGTH) {
      if (this.pos === this.end) return undefined;
      const n = Math.min(this.bodyLeft, this.end - this.pos);
      const v = slab.subarray(this.pos, this.pos + n);
      this.pos += n;
      this.bodyLeft -= n;
      if (this.bodyLeft === 0) this.bodyDone = true;
      return v;
    }
    const d = this.chunked;
    while (this.pos < this.end) {
      const r = d.decode(slab, this.pos, this.end);
      if (r < 0) {
        this.bodyError = d.error;
        throw this.#bodyFailure(d.error);
      }
      this.pos = r;
      if (d.dataLen > 0) return slab.subarray(d.dataStart, d.dataStart + d.dataLen);
      if (d.done) { this.bodyDone = true; return null; }
    }
    return undefined;
  }

  /** Reads and drops what the handler left of the body. False: the connection should close instead. */
  protected async discardBody(): Promise<boolean> {
    if (this.expect && !this.continueSent) return false;
    if (this.bodyMode === B_LENGTH && this.bodyLeft > MAX_DISCARD) return false;
    try {
      for (let b = await this.readBody(); b !== null; b = await this.readBody()) { /* dropped */ }
    } catch {
      return false;
    }
    this.sync = true;
    return true;
  }
}
