// The write side of a connection, and its way out (end, close, destroy):
// writes become slab ranges the core queues in order and sends with at most
// one send in flight; what the core cannot take yet waits here, in JS.
import { ZerglingError, errnoError } from '../../bridge/backend.ts';
import type { Connection, ConnectionEngine } from '../connection.ts';
import { codes, invalidArgType } from '../errors.ts';
import { TAG_RECV, TagQueue, pinTag, pinnedSlab } from './tag-queue.ts';
import { ENOBUFS } from '../../bridge/consts.ts';

/** Writes at least this large lend the caller's memory to the kernel instead of copying. */
export const PIN_THRESHOLD = 64 << 10;

interface FlushWaiter {
  target: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

const resolvedVoid = Promise.resolve();

/** A copy with its own ArrayBuffer (Buffer#slice would share memory). */
function copyOf(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.byteLength);
  out.set(data);
  return out;
}
const encoder = new TextEncoder();

export class ConnectionWriter {
  readonly #e: ConnectionEngine;
  readonly #conn: Connection;
  readonly #id: number;
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
  ended = false;
  #shutdownSent = false;
  closing = false;
  #closeSent = false;
  #abort = false;
  closed = false;
  /** The error the connection closed with, or null. */
  error: ZerglingError | null = null;

  constructor(engine: ConnectionEngine, conn: Connection) {
    this.#e = engine;
    this.#conn = conn;
    this.#id = conn.id;
  }

  get writableLength(): number { return this.#inCore + this.#pendingBytes; }

  get needDrain(): boolean { return this.#charged() + this.#pendingBytes >= this.#e.highWaterMark; }

  /**
   * Bytes in the core charged against the high-water mark (all but receive-slab
   * ranges; off by at most a partly sent receive range, hence the clamp).
   */
  #charged(): number {
    const c = this.#inCore - this.#recvInCore;
    return c > 0 ? c : 0;
  }

  write(data: Uint8Array | string): boolean {
    if (typeof data === 'string') data = encoder.encode(data);
    else if (!(data instanceof Uint8Array)) throw invalidArgType('data', 'of type string or an instance of Uint8Array', data);
    if (this.ended && !this.closed && !this.closing) {
      throw new ZerglingError(codes.WRITE_AFTER_END, 'write after end()');
    }
    if (this.closed || this.closing) return false;
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
      // Queued in JS, copied as the slab would have copied it: the caller may
      // reuse its buffer as soon as write() returns (a receive-slab view's
      // chunk is released when the app moves on). Only a write of PIN_THRESHOLD
      // or more keeps the caller's memory, lent as it would have been anyway.
      this.#queue(recv > 0 || len < PIN_THRESHOLD ? copyOf(data) : data);
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
      const rc = r.write(this.#id, e.recvSlab, data.byteOffset, len);
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
        const rc = r.write(this.#id, ws.handle, ws.offset, n);
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
    const rc = e.reactor.write(this.#id, slab, offset, len);
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
      this.#e.writeBlocked(this.#conn);
      return false;
    }
    this.error ??= errnoError(rc, 'write', `connection ${this.#id}`);
    this.destroy();
    return false;
  }

  /** The core may have write ranges again. */
  retryWrites(): void {
    if (!this.closed && this.#pending.length > 0) this.#drain();
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
    if (this.closing && !this.#closeSent) {
      this.#closeSent = true;
      r.close(this.#id, this.#abort);
      this.#e.requestTick();
    } else if (this.ended && !this.#shutdownSent && !this.closing) {
      this.#shutdownSent = true;
      r.shutdown(this.#id);
      this.#e.markDirty();
    }
  }

  /**
   * Resolves when every byte written so far is with the kernel (a `sent`
   * completion covered it). Rejects if the connection closes first.
   */
  flush(): Promise<void> {
    if (this.#sent >= this.#written) return resolvedVoid;
    if (this.closed) return Promise.reject(this.lostWritesError());
    return new Promise((resolve, reject) => {
      this.#flushWaiters.push({ target: this.#written, resolve, reject });
    });
  }

  /** Half-close: FIN after everything written so far (and `data`, if given) is sent. Reading continues. */
  end(data?: Uint8Array | string): void {
    if (this.ended || this.closing || this.closed) return;
    if (data !== undefined) this.write(data);
    this.ended = true;
    this.#e.connectionEnding(this.#conn);
    if (this.#pending.length === 0) this.#afterDrain();
  }

  /** Graceful close: queued writes are sent first, then the socket is closed. */
  close(): void {
    if (!this.closing && !this.closed) {
      this.closing = true;
      this.#e.connectionEnding(this.#conn);
      if (this.#pending.length === 0) this.#afterDrain();
    }
  }

  /** Abortive close: unsent data is dropped. */
  destroy(): void {
    if (this.closed) return;
    this.#pending.length = 0;
    this.#pendingBytes = 0;
    if (!this.#closeSent || !this.#abort) {
      this.closing = true;
      this.#abort = true;
      this.#closeSent = true;
      this.#e.reactor.close(this.#id, true);
      this.#e.requestTick();
    }
  }

  lostWritesError(): ZerglingError {
    return this.error ?? new ZerglingError(codes.STREAM_DESTROYED,
      `connection closed before ${this.#written - this.#sent} written bytes were sent`);
  }

  /** `ranges` write ranges completed (FIFO), `bytes` sent. */
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
    else this.#e.unpin(pinnedSlab(tag));
  }

  /** The core closed the connection (`errno` 0 = clean) and dropped whatever it had not sent. */
  onClosed(errno: number, err?: ZerglingError): void {
    this.closed = true;
    if (err !== undefined) this.error ??= err;
    if (errno !== 0) this.error ??= errnoError(-errno, 'connection');
    // give back what the unsent ranges held
    while (this.#tags.length > 0) this.#releaseTag(this.#tags.shift());
    this.#inCore = 0;
    this.#recvInCore = 0;
    this.#pending.length = 0;
    this.#pendingBytes = 0;
    const w = this.#flushWaiters;
    this.#flushWaiters = [];
    for (const f of w) {
      if (f.target <= this.#sent) f.resolve();
      else f.reject(this.lostWritesError());
    }
  }
}
