// One TCP connection of a reactor. Reads are chunks over the receive slab
// (zero copy); writes become slab ranges the Wasm core queues in order and
// sends with at most one send in flight. Nothing here blocks or makes a
// syscall: writes are handed to the core now and go to the kernel with the
// turn's single submit.
import type { Duplex } from 'node:stream';
import type { Reactor } from '../bridge/backend.ts';
import { ZerglingError, errnoError } from '../bridge/backend.ts';
import { Chunk, type ChunkOwner } from './chunk.ts';
import { codes, invalidArgType } from './errors.ts';
import type { SocketAddress } from './addr.ts';
import type { WriteSlab } from './write-slab.ts';
import { toDuplex, toWeb, type WebStreams } from './adapters.ts';

/** Writes at least this large lend the caller's memory to the kernel instead of copying. */
export const PIN_THRESHOLD = 64 << 10;

/** What a connection needs from its reactor (implemented by the server). */
export interface ConnectionEngine extends ChunkOwner {
  readonly reactor: Reactor;
  readonly recvSlab: number;
  readonly writeSlab: WriteSlab;
  readonly highWaterMark: number;
  /** Something was queued for the kernel: submit at the end of this turn. */
  markDirty(): void;
  /** A reactor call may have produced events: tick at the end of this turn. */
  requestTick(): void;
  /**
   * For a view over the receive slab: 1 if the app holds the buffer it lies
   * in (zero-copy send allowed), -1 if that buffer was released, 0 if unknown
   * (treat the view as ordinary memory).
   */
  recvRangeState(offset: number, len: number): 1 | 0 | -1;
  pin(buffer: ArrayBuffer): number;
  unpin(slab: number): void;
  peerAddress(fd: number): SocketAddress | undefined;
  localAddress(fd: number): SocketAddress | undefined;
  connectionClosed(conn: Connection): void;
  /** A write was refused for want of ranges (-ENOBUFS): call `retryWrites()` after the next tick. */
  writeBlocked(conn: Connection): void;
  /** `conn` called end() or close() (the end timeout watches it from now). */
  connectionEnding(conn: Connection): void;
}

const ENOBUFS = 105;

// Range tags in the per-connection FIFO: >= 0 a write-slab block, -1 a range
// of the receive slab (the core holds that buffer), <= -2 a pinned slab.
const TAG_RECV = -1;
const pinTag = (slab: number): number => -2 - slab;

/** FIFO of (Int32 tag, byte length) pairs without per-item allocation. */
class TagQueue {
  #buf = new Int32Array(32);
  #head = 0;
  #len = 0;
  /** Length of the range `shift()` last returned. */
  lastLen = 0;
  get length(): number { return this.#len; }
  push(v: number, len: number): void {
    const cap = this.#buf.length >>> 1;
    if (this.#len === cap) {
      const next = new Int32Array(this.#buf.length * 2);
      for (let i = 0; i < this.#len; i++) {
        const j = ((this.#head + i) & (cap - 1)) << 1;
        next[i << 1] = this.#buf[j]!;
        next[(i << 1) + 1] = this.#buf[j + 1]!;
      }
      this.#buf = next;
      this.#head = 0;
    }
    const k = ((this.#head + this.#len++) & ((this.#buf.length >>> 1) - 1)) << 1;
    this.#buf[k] = v;
    this.#buf[k + 1] = len;
  }
  shift(): number {
    const k = this.#head << 1;
    this.#head = (this.#head + 1) & ((this.#buf.length >>> 1) - 1);
    this.#len--;
    this.lastLen = this.#buf[k + 1]!;
    return this.#buf[k]!;
  }
}

interface FlushWaiter {
  target: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Whoever waits for the next chunk (read() or the async iterator). */
type ReadWaiter = (c: Chunk | null) => void;

const resolvedVoid = Promise.resolve();

/** A copy with its own ArrayBuffer (Buffer#slice would share memory). */
function copyOf(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.byteLength);
  out.set(data);
  return out;
}
const encoder = new TextEncoder();

export type ConnectionState = 'open' | 'ending' | 'closing' | 'closed';

export class Connection implements AsyncIterable<Uint8Array> {
  /** The reactor's slot for this connection (reused after close). */
  readonly id: number;
  /** The accepted socket's file descriptor. */
  readonly fd: number;

  readonly #e: ConnectionEngine;
  // ---- receive side
  #chunks: Chunk[] = [];
  #chunkHead = 0;
  #reader: ReadWaiter | null = null;
  #eof = false;
  #discard = false;
  // ---- send side
  readonly #tags = new TagQueue();
  /** Bytes handed to the core and not yet reported sent. */
  #inCore = 0;
  /**
   * Of those, bytes of receive-slab ranges not yet completed. They are not
   * charged against the high-water mark: they cost no memory beyond the
   * buffer ring, which bounds them (the kernel stops receiving once every
   * buffer is held), and an echo that waited on flush() there would drain the
   * send queue to empty before reading on (a bubble per high-water mark).
   */
  #recvInCore = 0;
  /** Writes waiting in JS for the core to go under the high-water mark. */
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #written = 0;
  #sent = 0;
  #flushWaiters: FlushWaiter[] = [];
  #ended = false;
  #shutdownSent = false;
  #closing = false;
  #closeSent = false;
  #abort = false;
  #closed = false;
  #error: ZerglingError | null = null;
  readonly #closedPromise: Promise<void>;
  #resolveClosed!: () => void;
  #peer: SocketAddress | undefined | null = null;
  #local: SocketAddress | undefined | null = null;
  #duplex: Duplex | undefined;

  /** @internal Connections are made by the server from `open` events. */
  constructor(engine: ConnectionEngine, id: number, fd: number) {
    this.#e = engine;
    this.id = id;
    this.fd = fd;
    this.#closedPromise = new Promise((resolve) => { this.#resolveClosed = resolve; });
  }

  // ------------------------------------------------------------------ info

  get remoteAddress(): string | undefined { return this.#peerInfo()?.address; }
  get remotePort(): number | undefined { return this.#peerInfo()?.port; }
  get remoteFamily(): 'IPv4' | 'IPv6' | undefined { return this.#peerInfo()?.family; }
  get localAddress(): string | undefined { return this.#localInfo()?.address; }
  get localPort(): number | undefined { return this.#localInfo()?.port; }

  #peerInfo(): SocketAddress | undefined {
    if (this.#peer === null) {
      if (this.#closed) return undefined;
      this.#peer = this.#e.peerAddress(this.fd);
    }
    return this.#peer;
  }

  #localInfo(): SocketAddress | undefined {
    if (this.#local === null) {
      if (this.#closed) return undefined;
      this.#local = this.#e.localAddress(this.fd);
    }
    return this.#local;
  }

  get state(): ConnectionState {
    if (this.#closed) return 'closed';
    if (this.#closing) return 'closing';
    return this.#ended ? 'ending' : 'open';
  }

  /** The error the connection closed with (`ECONNRESET`, ...), or null. */
  get error(): ZerglingError | null { return this.#error; }

  /** Resolves (never rejects) once the connection is closed and its slot freed. */
  get closed(): Promise<void> { return this.#closedPromise; }

  /** The peer half-closed its side (no more data will arrive). */
  get readableEnded(): boolean { return this.#eof && this.#chunkHead === this.#chunks.length; }

  /** Bytes accepted by `write()` and not yet with the kernel (in the core or queued in JS). */
  get writableLength(): number { return this.#inCore + this.#pendingBytes; }

  /** True when `write()` would return false: wait for `flush()`. */
  get writableNeedDrain(): boolean { return this.#charged() + this.#pendingBytes >= this.#e.highWaterMark; }

  /**
   * Bytes in the core charged against the high-water mark (all but receive-slab
   * ranges; off by at most a partly sent receive range, hence the clamp).
   */
  #charged(): number {
    const c = this.#inCore - this.#recvInCore;
    return c > 0 ? c : 0;
  }

  // ------------------------------------------------------------------ reading

  /**
   * The next received chunk, or null at end of stream (peer half-closed or
   * connection closed). The chunk's bytes stay valid until `chunk.release()`,
   * which must be called once; unreleased chunks keep receive buffers from the
   * kernel. One read at a time: a second concurrent read throws ERR_READ_PENDING.
   */
  read(): Promise<Chunk | null> {
    if (this.#reader !== null) {
      return Promise.reject(new ZerglingError(codes.READ_PENDING, 'a read() is already pending on this connection'));
    }
    if (this.#chunkHead < this.#chunks.length) return Promise.resolve(this.#takeChunk());
    if (this.#eof || this.#closed || this.#discard) return Promise.resolve(null);
    return new Promise((resolve) => { this.#reader = resolve; });
  }

  #takeChunk(): Chunk {
    const c = this.#chunks[this.#chunkHead]!;
    this.#chunks[this.#chunkHead++] = undefined as unknown as Chunk;
    if (this.#chunkHead === this.#chunks.length) {
      this.#chunks.length = 0;
      this.#chunkHead = 0;
    } else if (this.#chunkHead > 64 && this.#chunkHead * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#chunkHead);
      this.#chunkHead = 0;
    }
    return c;
  }

  /**
   * `for await (const bytes of conn)`: each `bytes` is a zero-copy view, valid
   * until the loop asks for the next one (it is released for you). Breaking out
   * of the loop stops reading: data that arrives afterwards is discarded.
   */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    let current: Chunk | null = null;
    const done: IteratorReturnResult<undefined> = { value: undefined, done: true };
    const finish = (): void => {
      if (current !== null) { current.releaseQuietly(); current = null; }
    };
    // The waiting path reuses one executor and one reader per iterator, so a
    // chunk costs the promise, the Chunk and the result object, no closures.
    let settle: ((r: IteratorResult<Uint8Array>) => void) | null = null;
    const reader: ReadWaiter = (c) => {
      const res = settle!;
      settle = null;
      if (c === null) { res(done); return; }
      current = c;
      res({ value: c.bytes, done: false });
    };
    const wait = (resolve: (r: IteratorResult<Uint8Array>) => void): void => {
      settle = resolve;
      this.#reader = reader;
    };
    return {
      // The hot path of every for-await server.
      next: (): Promise<IteratorResult<Uint8Array>> => {
        finish();
        if (this.#reader !== null) {
          return Promise.reject(new ZerglingError(codes.READ_PENDING, 'a read() is already pending on this connection'));
        }
        if (this.#chunkHead < this.#chunks.length) {
          current = this.#takeChunk();
          return Promise.resolve({ value: current.bytes, done: false });
        }
        if (this.#eof || this.#closed || this.#discard) return Promise.resolve(done);
        return new Promise(wait);
      },
      return: (): Promise<IteratorResult<Uint8Array>> => {
        finish();
        this.#stopReading();
        return Promise.resolve(done);
      },
    };
  }

  /** Stops reading: releases queued chunks; later data is released on arrival. */
  #stopReading(): void {
    this.#discard = true;
    for (let i = this.#chunkHead; i < this.#chunks.length; i++) this.#chunks[i]!.releaseQuietly();
    this.#chunks.length = 0;
    this.#chunkHead = 0;
    const r = this.#reader;
    if (r !== null) { this.#reader = null; r(null); }
  }

  // ------------------------------------------------------------------ writing

  /**
   * Queues `data` to be sent after everything written before. Small writes are
   * copied into the reactor's write slab (you may reuse `data` at once). Writes
   * of 64 KiB or more lend `data`'s memory to the kernel (no copy): do not
   * modify it until `flush()` resolves. A chunk view (`chunk.bytes`, or the
   * bytes of `for await`) is sent straight from the receive slab with no copy.
   * Returns false once the bytes not yet with the kernel exceed the
   * high-water mark: then `await conn.flush()` before writing more. Receive-slab
   * views are not charged against it (the buffer ring bounds them: the kernel
   * stops receiving while the core holds every buffer).
   * After `close()`/`destroy()` or once closed, the data is dropped and false
   * is returned; after `end()` it throws ERR_STREAM_WRITE_AFTER_END.
   */
  write(data: Uint8Array | string): boolean {
    if (typeof data === 'string') data = encoder.encode(data);
    else if (!(data instanceof Uint8Array)) throw invalidArgType('data', 'of type string or an instance of Uint8Array', data);
    if (this.#ended && !this.#closed && !this.#closing) {
      throw new ZerglingError(codes.WRITE_AFTER_END, 'write after end()');
    }
    if (this.#closed || this.#closing) return false;
    const len = data.byteLength;
    // A view over the receive slab: sent from there (no copy) while its chunk is held.
    const recv = data.buffer === this.#e.recvBuffer ? this.#e.recvRangeState(data.byteOffset, len) : 0;
    if (recv < 0) {
      throw new ZerglingError(codes.CHUNK_RELEASED,
        'write() of a view over a released chunk: its bytes now belong to the kernel');
    }
    if (len === 0) return this.#charged() + this.#pendingBytes < this.#e.highWaterMark;
    this.#written += len;
    if (this.#pendingBytes === 0 && (recv > 0 || this.#charged() < this.#e.highWaterMark)) {
      this.#toCore(data, recv > 0);
    } else {
      // Queued in JS; a receive-slab view is copied, since its chunk is released when the app moves on.
      this.#queue(recv > 0 ? copyOf(data) : data);
    }
    return this.#charged() + this.#pendingBytes < this.#e.highWaterMark;
  }

  #queue(data: Uint8Array): void {
    this.#pending.push(data);
    this.#pendingBytes += data.byteLength;
  }

  /**
   * Hands `data` to the core as one or more slab ranges. If the core refuses
   * (the connection is already going away, e.g. -EPIPE after a reset), the
   * connection is destroyed and the data dropped: like net.Socket, a write to
   * a dying connection does not throw; `flush()` rejects and `error` says why.
   */
  /**
   * Returns false when the core is out of write ranges for this connection
   * (-ENOBUFS): the bytes not taken wait at the front of the JS queue and are
   * retried after the next `sent` or tick.
   */
  #toCore(data: Uint8Array, fromRecvSlab: boolean): boolean {
    const e = this.#e;
    const r = e.reactor;
    const len = data.byteLength;
    e.markDirty();
    if (fromRecvSlab) {
      const rc = r.write(this.id, e.recvSlab, data.byteOffset, len);
      if (rc < 0) return this.#refused(rc, data, true);
      this.#tags.push(TAG_RECV, len);
      this.#inCore += len;
      this.#recvInCore += len;
    } else if (len >= PIN_THRESHOLD && data.buffer instanceof ArrayBuffer) {
      return this.#writePinned(data, data.buffer, data.byteOffset, len);
    } else {
      const ws = e.writeSlab;
      let off = 0;
      while (off < len) {
        const b = ws.alloc(len - off);
        if (b < 0) {
          // Every block is waiting on some connection: the rest gets its own
          // memory, lent to the kernel like a large write (bounded by each
          // connection's high-water mark).
          const rest = copyOf(data.subarray(off));
          return this.#writePinned(rest, rest.buffer as ArrayBuffer, 0, rest.byteLength);
        }
        const n = ws.length;
        ws.bytes.set(off === 0 && n === len ? data : data.subarray(off, off + n), ws.offset);
        const rc = r.write(this.id, ws.handle, ws.offset, n);
        if (rc < 0) { ws.unref(b); return this.#refused(rc, data.subarray(off), true); }
        this.#tags.push(b, n);
        this.#inCore += n;
        off += n;
      }
    }
    return true;
  }

  #writePinned(data: Uint8Array, buffer: ArrayBuffer, offset: number, len: number): boolean {
    const e = this.#e;
    const slab = e.pin(buffer);
    const rc = e.reactor.write(this.id, slab, offset, len);
    if (rc < 0) { e.unpin(slab); return this.#refused(rc, data, false); }
    this.#tags.push(pinTag(slab), len);
    this.#inCore += len;
    return true;
  }

  /**
   * -ENOBUFS: keep `rest` (copied when the caller may reuse its memory) first
   * in line. Anything else: the connection is going away.
   */
  #refused(rc: number, rest: Uint8Array, copy: boolean): boolean {
    if (rc === -ENOBUFS) {
      const d = copy ? copyOf(rest) : rest;
      this.#pending.unshift(d);
      this.#pendingBytes += d.byteLength;
      this.#e.writeBlocked(this);
      return false;
    }
    this.#error ??= errnoError(rc, 'write', `connection ${this.id}`);
    void this.destroy();
    return false;
  }

  /** @internal The core may have write ranges again. */
  retryWrites(): void {
    if (!this.#closed && this.#pending.length > 0) this.#drain();
  }

  /** Moves JS-queued writes into the core while under the high-water mark. */
  #drain(): void {
    const hwm = this.#e.highWaterMark;
    while (this.#pending.length > 0 && this.#charged() < hwm) {
      const d = this.#pending.shift()!;
      this.#pendingBytes -= d.byteLength;
      if (!this.#toCore(d, false)) return; // refused: back in front, retried later
    }
    if (this.#pending.length === 0) this.#afterDrain();
  }

  /** Issues a deferred shutdown/close once nothing waits in JS. */
  #afterDrain(): void {
    const r = this.#e.reactor;
    if (this.#closing && !this.#closeSent) {
      this.#closeSent = true;
      r.close(this.id, this.#abort);
      this.#e.requestTick();
    } else if (this.#ended && !this.#shutdownSent && !this.#closing) {
      this.#shutdownSent = true;
      r.shutdown(this.id);
      this.#e.markDirty();
    }
  }

  /**
   * Resolves when every byte written so far is with the kernel (a `sent`
   * completion covered it). Rejects if the connection closes first.
   */
  flush(): Promise<void> {
    if (this.#sent >= this.#written) return resolvedVoid;
    if (this.#closed) return Promise.reject(this.#lostWritesError());
    return new Promise((resolve, reject) => {
      this.#flushWaiters.push({ target: this.#written, resolve, reject });
    });
  }

  /** Half-close: FIN after everything written so far (and `data`, if given) is sent. Reading continues. */
  end(data?: Uint8Array | string): void {
    if (this.#ended || this.#closing || this.#closed) return;
    if (data !== undefined) this.write(data);
    this.#ended = true;
    this.#e.connectionEnding(this);
    if (this.#pending.length === 0) this.#afterDrain();
  }

  /**
   * Graceful close: queued writes are sent first, then the socket is closed.
   * Resolves once the connection is closed.
   */
  close(): Promise<void> {
    if (!this.#closing && !this.#closed) {
      this.#closing = true;
      this.#e.connectionEnding(this);
      if (this.#pending.length === 0) this.#afterDrain();
    }
    return this.#closedPromise;
  }

  /** Abortive close: unsent data is dropped. Resolves once closed. */
  destroy(): Promise<void> {
    if (this.#closed) return this.#closedPromise;
    this.#pending.length = 0;
    this.#pendingBytes = 0;
    if (!this.#closeSent || !this.#abort) {
      this.#closing = true;
      this.#abort = true;
      this.#closeSent = true;
      this.#e.reactor.close(this.id, true);
      this.#e.requestTick();
    }
    return this.#closedPromise;
  }

  /** A `node:stream` Duplex over this connection (e.g. for `http.Server`'s 'connection' event). */
  toDuplex(): Duplex {
    return (this.#duplex ??= toDuplex(this));
  }

  /** A Web Streams pair over this connection. */
  toWeb(): WebStreams {
    return toWeb(this);
  }

  #lostWritesError(): ZerglingError {
    return this.#error ?? new ZerglingError(codes.STREAM_DESTROYED,
      `connection closed before ${this.#written - this.#sent} written bytes were sent`);
  }

  // ------------------------------------------------------------------ events from the reactor

  /** @internal */
  onData(bid: number, offset: number, length: number): void {
    const chunk = new Chunk(this.#e, bid, offset, length);
    if (this.#discard) { chunk.releaseQuietly(); return; }
    const r = this.#reader;
    if (r !== null) {
      this.#reader = null;
      r(chunk);
    } else {
      this.#chunks.push(chunk);
    }
  }

  /** @internal */
  onEof(): void {
    this.#eof = true;
    this.#wakeReaderAtEnd();
  }

  #wakeReaderAtEnd(): void {
    const r = this.#reader;
    if (r !== null && this.#chunkHead === this.#chunks.length) {
      this.#reader = null;
      r(null);
    }
  }

  /** @internal `ranges` write ranges completed (FIFO), `bytes` sent. */
  onSent(ranges: number, bytes: number): void {
    for (let i = 0; i < ranges && this.#tags.length > 0; i++) this.#releaseTag(this.#tags.shift());
    this.#inCore -= bytes;
    this.#sent += bytes;
    if (this.#pending.length > 0) this.#drain();
    const w = this.#flushWaiters;
    if (w.length > 0 && w[0]!.target <= this.#sent) {
      let n = 0;
      while (n < w.length && w[n]!.target <= this.#sent) w[n++]!.resolve();
      w.splice(0, n);
    }
  }

  #releaseTag(tag: number): void {
    if (tag >= 0) this.#e.writeSlab.unref(tag);
    else if (tag === TAG_RECV) this.#recvInCore -= this.#tags.lastLen;
    else this.#e.unpin(-2 - tag);
  }

  /** @internal The connection is gone (`errno` 0 = clean). Its slot may be reused after this. */
  onClosed(errno: number, err?: ZerglingError): void {
    if (this.#closed) return;
    this.#closed = true;
    if (err !== undefined) this.#error ??= err;
    if (errno !== 0) this.#error ??= errnoError(-errno, 'connection');
    // The core dropped whatever it had not sent: give back what those ranges held.
    while (this.#tags.length > 0) this.#releaseTag(this.#tags.shift());
    this.#inCore = 0;
    this.#recvInCore = 0;
    this.#pending.length = 0;
    this.#pendingBytes = 0;
    const w = this.#flushWaiters;
    this.#flushWaiters = [];
    for (const f of w) {
      if (f.target <= this.#sent) f.resolve();
      else f.reject(this.#lostWritesError());
    }
    this.#wakeReaderAtEnd();
    if (this.#discard) this.#stopReading();
    this.#e.connectionClosed(this);
    this.#resolveClosed();
  }

  /** @internal Reactor teardown: every chunk this connection still queues is dead. */
  dropChunks(): void {
    this.#stopReading();
  }
}
