// The read side of a connection: chunks the core delivered, queued until the
// app reads them, and the one reader (read() or the async iterator) waiting.
import { ZerglingError } from '../../bridge/backend.ts';
import { Chunk, type ChunkOwner } from '../chunk.ts';
import { codes } from '../errors.ts';

/** What read() waits with: the resolve function of its promise. */
type ReadWaiter = (c: Chunk | null) => void;

/**
 * `receive()`'s handler: `bytes` is valid until it returns or, if it returns a
 * promise, until that settles; delivery pauses meanwhile.
 */
export type DataHandler = (bytes: Uint8Array) => void | PromiseLike<void>;

/**
 * receiveRaw()'s sink (zergling/http): it works by offset over one view of the
 * whole receive slab, so a delivery costs no view and no Chunk. Each call hands
 * over one reference on buffer `bid`, which the sink gives back with
 * `owner.releaseBuffer(bid)` once nothing points into it. It must not throw.
 */
export interface RawSink {
  onChunk(owner: ChunkOwner, bid: number, offset: number, length: number): void;
}

/**
 * Where a receive() reader's chunks wait for the end of the tick's dispatch
 * (the engine): handlers never run inside the event loop over a batch, so a
 * handler that closes the server or throws cannot break the batch.
 */
export interface DeliveryQueue {
  queueDelivery(r: ConnectionReader, bid: number, offset: number, length: number): void;
}

/** receive()'s state, made once per connection that calls it. */
interface Push {
  readonly fn: DataHandler | null;
  /** receiveRaw(): chunks go to the sink, which owns their buffers (no pause). */
  readonly raw: RawSink | null;
  readonly owner: ChunkOwner;
  resolve: () => void;
  reject: (err: unknown) => void;
  /** Deliveries waiting in the engine's queue. */
  queued: number;
  /** The chunk whose handler's promise has not settled yet (delivery paused). */
  busy: Chunk | null;
  done: boolean;
}

/** Every finished iterator answers with this one (for-await only reads `done`). */
const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });
const READ_PENDING = 'a read() is already pending on this connection';
const RECEIVING = 'this connection\'s data goes to its receive() handler';

// A promise executor runs synchronously inside `new Promise`, so one shared
// executor hands read()'s resolve function over through this variable: no
// executor closure per read.
let readTarget: ConnectionReader | null = null;
function readExecutor(resolve: ReadWaiter): void {
  readTarget!.setWaiter(resolve);
  readTarget = null;
}

/** #call's answer when the handler threw. */
const THREW = 1;

const END_EOF = 1;      // the peer half-closed
const END_DISCARD = 2;  // the app stopped reading
const END_CLOSED = 4;   // the connection closed

/**
 * Also the connection's async iterator (`for await (const bytes of conn)`):
 * the chunk handed out last is released when the loop asks for the next one.
 * One object per connection with its methods on the prototype, no iterator
 * object or closures per loop; only one loop reads at a time (a second one
 * while the first waits gets ERR_READ_PENDING, and one that starts after a
 * `break` finds the connection stopped).
 */
export class ConnectionReader implements AsyncIterator<Uint8Array> {
  /** Chunks not taken yet; null while none ever queued (most reads find a waiter). */
  #chunks: Chunk[] | null = null;
  #chunkHead = 0;
  /** Whoever waits for the next chunk: read()'s resolve, or this reader as the iterator. */
  #waiter: ReadWaiter | ConnectionReader | null = null;
  /** The chunk the iterator handed out last (released by its next call). */
  #current: Chunk | null = null;
  /** The pending iterator next()'s resolve, while the loop waits. */
  #settle: ((r: IteratorResult<Uint8Array>) => void) | null = null;

  // The iterator's executor, one for every reader (see readExecutor).
  static #waitTarget: ConnectionReader | null = null;
  static readonly #waitExecutor = (resolve: (r: IteratorResult<Uint8Array>) => void): void => {
    ConnectionReader.#waitTarget!.#settle = resolve;
    ConnectionReader.#waitTarget = null;
  };
  /** Why nothing more will be read: END_* bits (one field, not three booleans). */
  #end = 0;
  /** receive()'s handler and state; null: chunks are read (read() or the iterator). */
  #push: Push | null = null;

  /** The connection closed: nothing more will arrive. */
  get closed(): boolean { return (this.#end & END_CLOSED) !== 0; }
  set closed(v: boolean) { this.#end = v ? this.#end | END_CLOSED : this.#end & ~END_CLOSED; }

  /** The peer half-closed and every chunk before its FIN was taken. */
  get ended(): boolean { return (this.#end & END_EOF) !== 0 && !this.#hasChunks(); }

  /** @internal A read or an iterator is waiting. */
  get waiting(): boolean { return this.#waiter !== null; }

  /** @internal No chunk queued and none will come (FIN, closed or stopped). */
  get atEnd(): boolean { return this.#end !== 0; }

  /** @internal */
  setWaiter(w: ReadWaiter): void { this.#waiter = w; }

  #hasChunks(): boolean {
    const q = this.#chunks;
    return q !== null && this.#chunkHead < q.length;
  }

  read(): Promise<Chunk | null> {
    if (this.#waiter !== null || this.#push !== null) return Promise.reject(this.#pendingError());
    const c = this.takeChunk();
    if (c !== null) return Promise.resolve(c);
    if (this.atEnd) return Promise.resolve(null);
    readTarget = this;
    return new Promise(readExecutor);
  }

  /** @internal The oldest queued chunk, or null. */
  takeChunk(): Chunk | null {
    const q = this.#chunks;
    if (q === null || this.#chunkHead === q.length) return null;
    const c = q[this.#chunkHead]!;
    q[this.#chunkHead++] = undefined as unknown as Chunk;
    if (this.#chunkHead === q.length) {
      q.length = 0;
      this.#chunkHead = 0;
    } else if (this.#chunkHead > 64 && this.#chunkHead * 2 > q.length) {
      this.#chunks = q.slice(this.#chunkHead);
      this.#chunkHead = 0;
    }
    return c;
  }

  iterator(): AsyncIterator<Uint8Array> {
    return this;
  }

  // The hot path of every for-await server.
  next(): Promise<IteratorResult<Uint8Array>> {
    this.#finish();
    if (this.#waiter !== null || this.#push !== null) return Promise.reject(this.#pendingError());
    const c = this.takeChunk();
    if (c !== null) {
      this.#current = c;
      return Promise.resolve({ value: c.bytes, done: false });
    }
    if (this.atEnd) return Promise.resolve(DONE);
    ConnectionReader.#waitTarget = this;
    const p = new Promise(ConnectionReader.#waitExecutor);
    this.#waiter = this;
    return p;
  }

  #pendingError(): ZerglingError {
    return new ZerglingError(codes.READ_PENDING, this.#push !== null ? RECEIVING : READ_PENDING);
  }

  // ------------------------------------------------------------------ receive()

  /**
   * Hands every chunk to `fn`, in order, until the end of the stream; resolves
   * then, or rejects with what `fn` threw (or its promise rejected with), after
   * which the connection reads nothing more. No promise, iterator result or
   * Chunk per delivery while `fn` keeps up.
   */
  receive(owner: ChunkOwner, fn: DataHandler): Promise<void> {
    return this.#start(owner, fn, null);
  }

  /** @internal receive() for a RawSink: buffer ids and offsets, no views (see RawSink). */
  receiveRaw(owner: ChunkOwner, sink: RawSink): Promise<void> {
    return this.#start(owner, null, sink);
  }

  #start(owner: ChunkOwner, fn: DataHandler | null, raw: RawSink | null): Promise<void> {
    if (this.#waiter !== null || this.#push !== null) throw this.#pendingError();
    const promise = new Promise<void>((resolve, reject) => {
      this.#push = { fn, raw, owner, resolve, reject, queued: 0, busy: null, done: false };
    });
    // Chunks that came before: delivered from a microtask, never inside the caller.
    if (this.#hasChunks() || this.atEnd) queueMicrotask(() => this.#drain());
    return promise;
  }

  /** @internal From the engine's queue, after the tick's dispatch. */
  deliver(bid: number, offset: number, length: number): void {
    const p = this.#push!;
    p.queued--;
    // A dead reactor's buffers are gone with it; a stopped reader drops what came.
    if (!p.owner.alive || p.done || (this.#end & END_DISCARD) !== 0) {
      p.owner.releaseBuffer(bid);
      this.#settleEnd();
      return;
    }
    if (p.raw !== null && !this.#hasChunks()) {
      if (this.#callRaw(p, bid, offset, length)) this.#settleEnd();
      return;
    }
    if (p.busy !== null || this.#hasChunks()) {
      (this.#chunks ??= []).push(new Chunk(p.owner, bid, offset, length));
      return;
    }
    const r = this.#call(p.owner.view(bid, offset, length));
    if (r !== null && r !== THREW) {
      this.#pause(new Chunk(p.owner, bid, offset, length), r);
      return;
    }
    p.owner.releaseBuffer(bid);
    if (r === null) this.#settleEnd();
  }

  /**
   * Calls the handler with `bytes`: the promise it returned (its bytes stay
   * the app's until that settles), null when it returned nothing, or THREW
   * (the reader has failed with what it threw).
   */
  #call(bytes: Uint8Array): PromiseLike<void> | null | typeof THREW {
    let r: void | PromiseLike<void>;
    try {
      r = this.#push!.fn!(bytes);
    } catch (err) {
      this.#fail(err);
      return THREW;
    }
    return r !== undefined && r !== null && typeof r.then === 'function' ? r : null;
  }

  /** Hands one buffer reference to the raw sink (it owns it from here, even if it throws). */
  #callRaw(p: Push, bid: number, offset: number, length: number): boolean {
    try {
      p.raw!.onChunk(p.owner, bid, offset, length);
      return true;
    } catch (err) {
      this.#fail(err);
      return false;
    }
  }

  /** The handler returned a promise: `c` stays the app's until it settles. */
  #pause(c: Chunk, r: PromiseLike<void>): void {
    const p = this.#push!;
    p.busy = c;
    r.then(() => {
      p.busy = null;
      c.releaseQuietly();
      this.#drain();
    }, (err: unknown) => {
      p.busy = null;
      c.releaseQuietly();
      this.#fail(err);
    });
  }

  /** Delivers queued chunks until the handler pauses or none is left. */
  #drain(): void {
    const p = this.#push!;
    for (let c = this.takeChunk(); c !== null; c = this.takeChunk()) {
      if (p.done || !p.owner.alive) { c.releaseQuietly(); continue; }
      // The Chunk's reference passes to the sink; the Chunk itself is dropped unreleased.
      if (p.raw !== null) { if (!this.#callRaw(p, c.bid, c.offset, c.length)) return; continue; }
      const r = this.#call(c.bytes);
      if (r !== null && r !== THREW) { this.#pause(c, r); return; }
      c.releaseQuietly();
      if (r === THREW) return;
    }
    this.#settleEnd();
  }

  #fail(err: unknown): void {
    const p = this.#push!;
    if (p.done) return;
    p.done = true;
    this.stopReading();
    p.reject(err);
  }

  /** Resolves receive()'s promise once the stream ended and every delivery was made. */
  #settleEnd(): void {
    const p = this.#push;
    if (p === null || p.done || this.#end === 0 || p.queued !== 0 || p.busy !== null || this.#hasChunks()) return;
    p.done = true;
    p.resolve();
  }

  return(): Promise<IteratorResult<Uint8Array>> {
    this.#finish();
    this.stopReading();
    return Promise.resolve(DONE);
  }

  #finish(): void {
    const c = this.#current;
    if (c !== null) { this.#current = null; c.releaseQuietly(); }
  }

  #wake(c: Chunk | null): void {
    const w = this.#waiter!;
    this.#waiter = null;
    if (w !== this) { (w as ReadWaiter)(c); return; }
    const res = this.#settle!;
    this.#settle = null;
    if (c === null) { res(DONE); return; }
    this.#current = c;
    res({ value: c.bytes, done: false });
  }

  /** Stops reading: releases queued chunks; later data is released on arrival. */
  stopReading(): void {
    this.#end |= END_DISCARD;
    const q = this.#chunks;
    if (q !== null) {
      for (let i = this.#chunkHead; i < q.length; i++) q[i]!.releaseQuietly();
      q.length = 0;
      this.#chunkHead = 0;
    }
    if (this.#waiter !== null) this.#wake(null);
    this.#settleEnd();
  }

  /** `owner`: the reactor (passed in, not kept: one field less per connection). */
  onData(owner: ChunkOwner & DeliveryQueue, bid: number, offset: number, length: number): void {
    const p = this.#push;
    if (p !== null && (this.#end & END_DISCARD) === 0) {
      p.queued++;
      owner.queueDelivery(this, bid, offset, length);
      return;
    }
    const chunk = new Chunk(owner, bid, offset, length);
    if ((this.#end & END_DISCARD) !== 0) { chunk.releaseQuietly(); return; }
    if (this.#waiter !== null) this.#wake(chunk);
    else (this.#chunks ??= []).push(chunk);
  }

  onEof(): void {
    this.#end |= END_EOF;
    this.#wakeAtEnd();
  }

  /** After the write side settled its waiters: the reader learns the end, a stopped reader drops what came. */
  onClosed(): void {
    this.#wakeAtEnd();
    if ((this.#end & END_DISCARD) !== 0) this.stopReading();
  }

  #wakeAtEnd(): void {
    if (this.#waiter !== null && !this.#hasChunks()) this.#wake(null);
    this.#settleEnd();
  }
}
