// One TCP connection of a reactor: the facade over its read side
// (connection/reader.ts: chunks over the receive slab, zero copy) and its
// write side (connection/writer.ts: slab ranges the Wasm core queues in order
// and sends with at most one send in flight). Nothing here blocks or makes a
// syscall: writes are handed to the core now and go to the kernel with the
// turn's single submit.
import type { Duplex } from 'node:stream';
import type { Reactor, ZerglingError } from '../bridge/backend.ts';
import type { Chunk, ChunkOwner } from './chunk.ts';
import type { SocketAddress } from './addr.ts';
import type { WriteSlab } from './write-slab.ts';
import { toDuplex, toWeb, type WebStreams } from './adapters.ts';
import { invalidArgType } from './errors.ts';
import { ConnectionReader, type DataHandler, type DeliveryQueue, type RawSink } from './connection/reader.ts';
import { ConnectionWriter } from './connection/writer.ts';

export { PIN_THRESHOLD } from './connection/writer.ts';
export type { DataHandler } from './connection/reader.ts';

/** What a connection needs from its reactor (implemented by the server). */
export interface ConnectionEngine extends ChunkOwner, DeliveryQueue {
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

/** A connection's rarely used state (see Connection.#x). */
interface Extras {
  /** `closed`, made on first use. */
  closed: Promise<void> | undefined;
  resolveClosed: (() => void) | undefined;
  /** Addresses once asked (null: not asked yet; undefined: unknown). */
  peer: SocketAddress | undefined | null;
  local: SocketAddress | undefined | null;
  duplex: Duplex | undefined;
}

const resolvedVoid = Promise.resolve();
// One executor for every `closed` promise (it runs synchronously inside
// `new Promise`): no closure per connection.
let closedTarget: Extras | null = null;
function closedExecutor(resolve: () => void): void {
  closedTarget!.resolveClosed = resolve;
  closedTarget = null;
}

export type ConnectionState = 'open' | 'ending' | 'closing' | 'closed';

export class Connection implements AsyncIterable<Uint8Array> {
  /** The reactor's slot for this connection (reused after close). */
  readonly id: number;
  /** The accepted socket's file descriptor. */
  readonly fd: number;

  readonly #e: ConnectionEngine;
  readonly #r: ConnectionReader;
  /** The write side, made at the first write, end, close or close event (an idle connection has none). */
  #wr: ConnectionWriter | null = null;
  /** What few connections ask for, made on first use (an idle connection holds none of it). */
  #x: Extras | undefined;

  /** @internal Connections are made by the server from `open` events. */
  constructor(engine: ConnectionEngine, id: number, fd: number) {
    this.#e = engine;
    this.id = id;
    this.fd = fd;
    this.#r = new ConnectionReader();
  }

  /** The write side, made now if this is its first use. */
  get #w(): ConnectionWriter {
    return (this.#wr ??= new ConnectionWriter(this.#e, this));
  }

  /** Closed (the core's `closed` event came): the writer exists by then. */
  get #isClosed(): boolean {
    return this.#wr !== null && this.#wr.closed;
  }

  #extras(): Extras {
    return (this.#x ??= { closed: undefined, resolveClosed: undefined, peer: null, local: null, duplex: undefined });
  }

  #whenClosed(): Promise<void> {
    const x = this.#extras();
    let p = x.closed;
    if (p === undefined) {
      if (this.#isClosed) {
        p = resolvedVoid;
      } else {
        closedTarget = x;
        p = new Promise(closedExecutor);
      }
      x.closed = p;
    }
    return p;
  }

  // ------------------------------------------------------------------ info

  get remoteAddress(): string | undefined { return this.#address('peer')?.address; }
  get remotePort(): number | undefined { return this.#address('peer')?.port; }
  get remoteFamily(): 'IPv4' | 'IPv6' | undefined { return this.#address('peer')?.family; }
  get localAddress(): string | undefined { return this.#address('local')?.address; }
  get localPort(): number | undefined { return this.#address('local')?.port; }

  /** The peer's or the local address, asked of the kernel once; not once closed (the fd may be another socket's by then). */
  #address(side: 'peer' | 'local'): SocketAddress | undefined {
    const x = this.#extras();
    let a = x[side];
    if (a === null) {
      if (this.#isClosed) return undefined;
      a = x[side] = side === 'peer' ? this.#e.peerAddress(this.fd) : this.#e.localAddress(this.fd);
    }
    return a;
  }

  get state(): ConnectionState {
    const w = this.#wr;
    if (w === null) return 'open';
    if (w.closed) return 'closed';
    if (w.closing) return 'closing';
    return w.ended ? 'ending' : 'open';
  }

  /** The error the connection closed with (`ECONNRESET`, ...), or null. */
  get error(): ZerglingError | null { return this.#wr?.error ?? null; }

  /** Resolves (never rejects) once the connection is closed and its slot freed. */
  get closed(): Promise<void> { return this.#whenClosed(); }

  /** The peer half-closed its side (no more data will arrive). */
  get readableEnded(): boolean { return this.#r.ended; }

  /** Bytes accepted by `write()` and not yet with the kernel (in the core or queued in JS). */
  get writableLength(): number { return this.#wr?.writableLength ?? 0; }

  /** True when `write()` would return false: wait for `flush()`. */
  get writableNeedDrain(): boolean { return this.#wr?.needDrain ?? false; }

  // ------------------------------------------------------------------ reading

  /**
   * The next received chunk, or null at end of stream (peer half-closed or
   * connection closed). The chunk's bytes stay valid until `chunk.release()`,
   * which must be called once; unreleased chunks keep receive buffers from the
   * kernel. One read at a time: a second concurrent read throws ERR_READ_PENDING.
   */
  read(): Promise<Chunk | null> {
    return this.#r.read();
  }

  /**
   * `for await (const bytes of conn)`: each `bytes` is a zero-copy view, valid
   * until the loop asks for the next one (it is released for you). Breaking out
   * of the loop stops reading: data that arrives afterwards is discarded.
   */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.#r.iterator();
  }

  /**
   * Push-style reading, the fast path: `fn(bytes)` is called with every
   * received chunk, in order, from the reactor's turn (never inside your own
   * call). `bytes` is a zero-copy view, valid until `fn` returns; copy what you
   * keep (`bytes.slice()`). If `fn` returns a promise, delivery pauses (and
   * `bytes` stays valid) until it settles: `(b) => conn.write(b) ? undefined :
   * conn.flush()` is an echo with backpressure. Resolves at the end of the
   * stream (peer half-closed or connection closed); rejects with what `fn`
   * threw or rejected with, and nothing more is read. Return it from the
   * connection handler to close the connection when the stream ends. One way of
   * reading per connection: with `read()` or `for await` also in use, throws
   * ERR_READ_PENDING.
   */
  receive(fn: DataHandler): Promise<void> {
    if (typeof fn !== 'function') throw invalidArgType('fn', 'of type function', fn);
    return this.#r.receive(this.#e, fn);
  }

  /** @internal receive() by buffer id and offset, for zergling/http (see RawSink). */
  receiveRaw(sink: RawSink): Promise<void> {
    return this.#r.receiveRaw(this.#e, sink);
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
    return this.#w.write(data);
  }

  /** @internal The core may have write ranges again. */
  retryWrites(): void {
    this.#wr?.retryWrites();
  }

  /**
   * Resolves when every byte written so far is with the kernel (a `sent`
   * completion covered it). Rejects if the connection closes first.
   */
  flush(): Promise<void> {
    const w = this.#wr;
    return w === null ? resolvedVoid : w.flush(); // nothing written yet, nothing to wait for
  }

  /** Half-close: FIN after everything written so far (and `data`, if given) is sent. Reading continues. */
  end(data?: Uint8Array | string): void {
    this.#w.end(data);
  }

  /**
   * Graceful close: queued writes are sent first, then the socket is closed.
   * Resolves once the connection is closed.
   */
  close(): Promise<void> {
    this.#w.close();
    return this.#whenClosed();
  }

  /** Abortive close: unsent data is dropped. Resolves once closed. */
  destroy(): Promise<void> {
    this.#w.destroy();
    return this.#whenClosed();
  }

  /** A `node:stream` Duplex over this connection (e.g. for `http.Server`'s 'connection' event). */
  toDuplex(): Duplex {
    const x = this.#extras();
    return (x.duplex ??= toDuplex(this));
  }

  /** A Web Streams pair over this connection. */
  toWeb(): WebStreams {
    return toWeb(this);
  }

  // ------------------------------------------------------------------ events from the reactor

  /** @internal */
  onData(bid: number, offset: number, length: number): void {
    this.#r.onData(this.#e, bid, offset, length);
  }

  /** @internal */
  onEof(): void {
    this.#r.onEof();
  }

  /** @internal `ranges` write ranges completed (FIFO), `bytes` sent. */
  onSent(ranges: number, bytes: number): void {
    this.#wr?.onSent(ranges, bytes);
  }

  /** @internal The connection is gone (`errno` 0 = clean). Its slot may be reused after this. */
  onClosed(errno: number, err?: ZerglingError): void {
    if (this.#isClosed) return;
    this.#r.closed = true;
    this.#w.onClosed(errno, err);
    this.#r.onClosed();
    this.#e.connectionClosed(this);
    const x = this.#x;
    const resolve = x?.resolveClosed;
    if (resolve !== undefined) { x!.resolveClosed = undefined; resolve(); }
  }

  /** @internal Reactor teardown: every chunk this connection still queues is dead. */
  dropChunks(): void {
    this.#r.stopReading();
  }
}
