// Stream adapters: a node:stream Duplex (enough of net.Socket for node:http)
// and a Web Streams pair. Both copy received bytes out of the slab (the
// consumer may keep them), then release the chunk at once, and they honour
// the connection's backpressure.
import { Duplex } from 'node:stream';
import type { Connection } from './connection.ts';

export interface WebStreams {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

/** The subset of `net.Socket` node:http and most libraries use, over a zergling connection. */
export class ConnectionDuplex extends Duplex {
  readonly connection: Connection;
  #reading = false;
  #timeoutMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #bytesRead = 0;
  #bytesWritten = 0;

  constructor(conn: Connection) {
    // allowHalfOpen false, like net.Socket: the peer's FIN ends our side too.
    super({ allowHalfOpen: false, decodeStrings: true, emitClose: true, autoDestroy: true });
    this.connection = conn;
    // The socket is gone (our close, the server's close, or a reset): like
    // net.Socket when its handle closes, the stream is destroyed.
    void conn.closed.then(() => {
      if (!this.destroyed) this.destroy(conn.error ?? undefined);
    });
  }

  get remoteAddress(): string | undefined { return this.connection.remoteAddress; }
  get remotePort(): number | undefined { return this.connection.remotePort; }
  get remoteFamily(): string | undefined { return this.connection.remoteFamily; }
  get localAddress(): string | undefined { return this.connection.localAddress; }
  get localPort(): number | undefined { return this.connection.localPort; }
  get bytesRead(): number { return this.#bytesRead; }
  get bytesWritten(): number { return this.#bytesWritten; }
  get connecting(): boolean { return false; }
  get pending(): boolean { return false; }
  get readyState(): string {
    if (this.destroyed) return 'closed';
    if (this.readable && this.writable) return 'open';
    return this.readable ? 'readOnly' : this.writable ? 'writeOnly' : 'closed';
  }

  // io_uring sockets get TCP_NODELAY at accept; keep-alive probing is not configurable here.
  setNoDelay(_noDelay?: boolean): this { return this; }
  setKeepAlive(_enable?: boolean, _initialDelay?: number): this { return this; }
  ref(): this { return this; }
  unref(): this { return this; }
  address(): { address?: string; family?: string; port?: number } {
    return { address: this.localAddress, family: this.connection.remoteFamily, port: this.localPort };
  }

  /** Emits 'timeout' after `ms` without reads or writes (0 disables), as net.Socket does. */
  setTimeout(ms: number, callback?: () => void): this {
    this.#timeoutMs = ms;
    if (callback) {
      if (ms === 0) this.removeListener('timeout', callback);
      else this.once('timeout', callback);
    }
    this.#armTimer();
    return this;
  }

  #armTimer(): void {
    if (this.#timeoutMs <= 0 || this.destroyed) {
      if (this.#timer) { clearTimeout(this.#timer); this.#timer = undefined; }
      return;
    }
    if (this.#timer) { this.#timer.refresh(); return; }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.destroyed) this.emit('timeout');
    }, this.#timeoutMs);
    this.#timer.unref();
  }

  #touch(): void {
    if (this.#timer) this.#timer.refresh();
  }

  override _read(): void {
    if (this.#reading) return;
    this.#reading = true;
    const conn = this.connection;
    const pump = (): void => {
      conn.read().then((chunk) => {
        if (chunk === null) {
          this.#reading = false;
          if (conn.error && !this.destroyed) this.destroy(conn.error);
          else this.push(null);
          return;
        }
        // One copy out of the slab: stream consumers may keep what they get.
        const copy = Buffer.from(chunk.bytes);
        chunk.release();
        this.#bytesRead += copy.length;
        this.#touch();
        if (this.push(copy)) pump();
        else this.#reading = false;
      }, (err: Error) => {
        this.#reading = false;
        this.destroy(err);
      });
    };
    pump();
  }

  override _write(data: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#send([data], cb);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    this.#send(chunks.map((c) => c.chunk), cb);
  }

  #send(list: Buffer[], cb: (err?: Error | null) => void): void {
    const conn = this.connection;
    if (conn.state === 'closed' || conn.state === 'closing') {
      cb(conn.error ?? new Error('connection closed'));
      return;
    }
    let ok = true;
    try {
      for (const b of list) { ok = conn.write(b); this.#bytesWritten += b.length; }
    } catch (err) {
      cb(err as Error);
      return;
    }
    this.#touch();
    if (ok) cb();
    else conn.flush().then(() => cb(), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    const conn = this.connection;
    if (conn.state === 'closed') { cb(); return; }
    conn.end();
    conn.flush().then(() => cb(), cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.#timer) { clearTimeout(this.#timer); this.#timer = undefined; }
    const conn = this.connection;
    if (conn.state !== 'closed') {
      if (err) void conn.destroy();
      else void conn.close();
    }
    cb(err);
  }

  /** net.Socket's: end, then destroy once everything is written. */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }
}

export function toDuplex(conn: Connection): ConnectionDuplex {
  return new ConnectionDuplex(conn);
}

export function toWeb(conn: Connection): WebStreams {
  const readable = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = await conn.read();
      if (chunk === null) {
        if (conn.error) controller.error(conn.error);
        else controller.close();
        return;
      }
      const copy = chunk.bytes.slice();
      chunk.release();
      controller.enqueue(copy);
    },
    cancel() {
      void conn.close();
    },
  }, { highWaterMark: 1 });
  const writable = new WritableStream<Uint8Array>({
    async write(data) {
      if (!conn.write(data)) await conn.flush();
    },
    async close() {
      conn.end();
      await conn.flush();
    },
    async abort() {
      await conn.destroy();
    },
  }, { highWaterMark: 1 });
  return { readable, writable };
}
