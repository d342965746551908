// One staging buffer per server for response bytes: status line, headers and
// small bodies of every response a connection produces while it works
// through one received chunk are gathered here and handed to the connection
// with one write() (one copy into the write slab, one range in the core)
// instead of one write per piece. JavaScript runs one connection at a time,
// so one buffer serves them all: whoever stages bytes for another connection
// first flushes what the previous one left.
import type { Connection } from '../connection.ts';

/** Bodies at least this large skip the staging buffer (written as they are). */
export const DIRECT_BODY = 16 << 10;
const SIZE = 64 << 10;
/** Flush before the staged bytes reach this: write() would pin (not copy) 64 KiB or more. */
const FLUSH_AT = SIZE - DIRECT_BODY - 1024;
/** Views of the staging buffer by length, so a flush of a common size allocates nothing. */
const VIEW_CACHE = 4096;

export class Output {
  readonly buf: Buffer = Buffer.allocUnsafeSlow(SIZE);
  len = 0;
  #owner: Connection | null = null;
  readonly #views: (Uint8Array | undefined)[] = new Array(VIEW_CACHE);

  /** Makes `conn` the owner of the staged bytes (flushing another owner's first). */
  claim(conn: Connection): void {
    if (this.#owner !== conn) {
      if (this.len > 0) this.flush();
      this.#owner = conn;
    }
  }

  /** Room for `n` more bytes (flushes first if needed). */
  ensure(n: number): void {
    if (this.len + n > FLUSH_AT && this.len > 0) this.flush();
  }

  put(bytes: Uint8Array): void {
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }

  putLatin1(s: string): void {
    this.len += this.buf.write(s, this.len, 'latin1');
  }

  putUtf8(s: string): void {
    this.len += this.buf.write(s, this.len, 'utf8');
  }

  /** `\r\n\r\n`: the end of a head, four stores rather than a copy. */
  putCrlf2(): void {
    const b = this.buf, i = this.len;
    b[i] = 13; b[i + 1] = 10; b[i + 2] = 13; b[i + 3] = 10;
    this.len = i + 4;
  }

  /** A non-negative integer in decimal. */
  putInt(n: number): void {
    const b = this.buf;
    if (n < 10) { b[this.len++] = 0x30 + n; return; }
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    let i = this.len + digits;
    this.len = i;
    for (let x = n; ; x = Math.floor(x / 10)) {
      b[--i] = 0x30 + (x % 10);
      if (x < 10) break;
    }
  }

  /** A non-negative integer in hexadecimal (chunk sizes). */
  putHex(n: number): void {
    this.putLatin1(n.toString(16));
  }

  /**
   * Hands the staged bytes to their connection. Returns that write's result
   * (false: above the high-water mark, `await conn.flush()`).
   */
  flush(): boolean {
    const n = this.len, conn = this.#owner;
    if (n === 0 || conn === null) return true;
    this.len = 0;
    if (conn.state !== 'open') return true; // ending or closing (a timeout answered): nothing more goes out
    // write() copies what is under 64 KiB (into the write slab, or into its
    // own memory when it queues in JavaScript): the buffer is free again at once.
    const view = n < VIEW_CACHE ? (this.#views[n] ??= this.buf.subarray(0, n)) : this.buf.subarray(0, n);
    return conn.write(view);
  }

  /** Drops what `conn` staged (it closed). */
  discard(conn: Connection): void {
    if (this.#owner === conn) { this.len = 0; this.#owner = null; }
  }
}
