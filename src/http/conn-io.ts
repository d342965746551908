// The bytes of one HTTP connection, below the request loop (conn.ts): chunks
// in (buffer references kept in order, the current one read by offset in one
// view of the receive slab, the one a head lies in held until its request is
// done), a head cut by a chunk's end copied once into the spill buffer, the
// request body read where it lies (Content-Length or chunked), and the sink
// the response writes through (staged in the driver's batch, flushed at its
// end). HttpConnection extends this class: the loop reaches these fields and
// methods directly, with no object in between.
import type { ChunkOwner } from '../chunk.ts';
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
  #owner: ChunkOwner | null = null;
  /** The current chunk's buffer (one reference on it), -1 when none; its bytes are slab[pos, end). */
  #cur = -1;
  protected pos = 0;
  protected end = 0;
  /** The buffer the current request's head lies in (one reference, held until the request is done), or -1. */
  #head = -1;
  /** `#cur` and `#head` are one reference, not two (the head lies in the current chunk). */
  #curIsHead = false;
  /**
   * Delivered chunks not taken yet: bid, offset, length each in [#qHead,
   * #qEnd) (bounded by the core's per-connection budget). The array never
   * shrinks: emptied with `length = 0`, it dropped its backing store and the
   * next chunk allocated a new one, 168 of the 196 bytes the hello server
   * allocated per request (bench/heap-sample.mjs, wrk -c64, one request per write).
   */
  readonly #q: number[] = [];
  #qHead = 0;
  #qEnd = 0;
  /** The stream ended: nothing more will be delivered. */
  protected inputEnded = false;
  /** An async step waiting for input (nextInput()). */
  #waiter: (() => void) | null = null;
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

  /** Keeps a delivered chunk for the loop (its buffer reference is ours from now on). */
  protected queueInput(owner: ChunkOwner, bid: number, offset: number, length: number): void {
    this.#owner = owner;
    const q = this.#q, e = this.#qEnd;
    q[e] = bid;
    q[e + 1] = offset;
    q[e + 2] = length;
    this.#qEnd = e + 3;
  }

  /**
   * The next kept chunk becomes the current one, the previous one dropped:
   * false when none is kept. Chunks that come while lingering, or after the
   * reactor died (its slab is gone with it), are given back unread.
   */
  protected takeInput(): boolean {
    this.dropChunk();
    const q = this.#q;
    let h = this.#qHead, e = this.#qEnd;
    while (h < e) {
      const bid = q[h]!, offset = q[h + 1]!, length = q[h + 2]!;
      h += 3;
      const owner = this.#owner!;
      if (this.phase === P_LINGER || !owner.alive) { owner.releaseBuffer(bid); continue; }
      if (h === e) { h = 0; e = 0; }
      else if (h > 96 && 2 * h > e) { q.copyWithin(0, h, e); e -= h; h = 0; } // a queue that never empties stays bounded
      this.#qHead = h;
      this.#qEnd = e;
      const mem = owner.recvBuffer;
      if (this.slab === undefined || this.slab.buffer !== mem) this.slab = Buffer.from(mem, 0, mem.byteLength);
      this.#cur = bid;
      this.pos = offset;
      this.end = offset + length;
      refreshDate(); // once per received chunk: the responses of its requests share the Date line
      this.sync = true;
      return true;
    }
    this.#qHead = 0;
    this.#qEnd = 0;
    return false;
  }

  /** An async step (a body read, lingering) waits for input: wakes it; false if none waits. */
  protected wakeInput(): boolean {
    const w = this.#waiter;
    if (w === null) return false;
    this.#waiter = null;
    w();
    return true;
  }

  /** For async steps: true once a chunk is current, false at the end of the stream. */
  protected async nextInput(): Promise<boolean> {
    for (;;) {
      if (this.takeInput()) return true;
      if (this.inputEnded) return false;
      await new Promise<void>((resolve) => { this.#waiter = resolve; });
    }
  }

  /** Gives back the current chunk once nothing points into it. */
  protected dropChunk(): void {
    const bid = this.#cur;
    if (bid !== -1) {
      this.#cur = -1;
      if (this.#curIsHead) this.#curIsHead = false; // the head keeps this reference
      else this.#owner!.releaseBuffer(bid);
    }
    this.pos = this.end = 0;
  }

  protected dropHead(): void {
    const bid = this.#head;
    if (bid !== -1) {
      this.#head = -1;
      if (this.#curIsHead) this.#curIsHead = false; // the current chunk keeps this reference
      else this.#owner!.releaseBuffer(bid);
    }
  }

  /** The connection is done: every buffer reference it holds goes back. */
  protected dropInput(): void {
    this.dropHead();
    this.dropChunk();
    const q = this.#q;
    for (let h = this.#qHead, e = this.#qEnd; h < e; h += 3) this.#owner!.releaseBuffer(q[h]!);
    this.#qHead = 0;
    this.#qEnd = 0;
  }

  /** Writes what is staged (end of a batch); waits if the connection is above its high-water mark. */
  protected async flushBatch(): Promise<void> {
    const w = this.endBatch();
    if (w !== undefined) await w;
  }

  /**
   * Writes what is staged (end of a batch). Returns a promise only when the
   * connection is above its high-water mark and must wait for the kernel:
   * the request loop's common path (write, then read) then costs no promise.
   */
  protected endBatch(): Promise<void> | undefined {
    this.sync = false;
    if (!this.output.flush() || this.conn.writableNeedDrain) return this.conn.flush().catch(ignoreClosed);
    return undefined;
  }

  /** The next chunk (after writing what the batch produced), or false at the end of the stream. */
  protected async next(): Promise<boolean> {
    await this.flushBatch();
    return this.nextInput();
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
        this.#head = this.#cur;
        this.#curIsHead = true;
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

  /**
   * Drops what the handler left of the body when all of it is here: true;
   * false: the connection should close instead; undefined: more bytes are
   * needed (discardBody() goes on).
   */
  protected discardHere(): boolean | undefined {
    if (this.expect && !this.continueSent) return false;
    if (this.bodyMode === B_LENGTH && this.bodyLeft > MAX_DISCARD) return false;
    try {
      for (;;) {
        const v = this.#bodyHere();
        if (v === null) return true;
        if (v === undefined) return undefined;
      }
    } catch {
      return false;
    }
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
